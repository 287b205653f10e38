/* Membership: which configuration is in force, the peer table it implies, and changes. */
#include "core/raft/internal.h"

#include <string.h>

static void conf_recompute(struct rs_raft *r)
{
    r->conf = r->conf_count > 0 ? r->confs[r->conf_count - 1].conf : r->base_conf;
    rs_raft__peers_update(r);
}

/* A configuration entry entered the log (appended, replicated or recovered): it takes effect
 * at once, not when it commits (Raft paper section 6). */
void rs_raft__conf_appended(struct rs_raft *r, rs_index index, const struct rs_entry *e)
{
    struct rs_conf conf;
    if (rs_conf_decode((struct rs_bytes){e->data, e->size}, &conf) != RS_OK) {
        rs_raft__enter_error(r, RS_ECORRUPT); /* checksummed bytes we cannot read: halt */
        return;
    }
    if (r->conf_count == RS_RAFT_CONFS_MAX) {
        /* keep the newest: the oldest becomes the base (it can no longer be truncated away
         * once this many configuration entries follow it... only a snapshot can cover it) */
        r->base_conf = r->confs[0].conf;
        memmove(r->confs, r->confs + 1, (RS_RAFT_CONFS_MAX - 1) * sizeof r->confs[0]);
        r->conf_count--;
    }
    r->confs[r->conf_count].index = index;
    r->confs[r->conf_count].conf = conf;
    r->conf_count++;
    conf_recompute(r);
}

/* Entries from index on were removed: their configurations no longer apply. */
void rs_raft__conf_truncated(struct rs_raft *r, rs_index index)
{
    uint32_t before = r->conf_count;
    while (r->conf_count > 0 && r->confs[r->conf_count - 1].index >= index) {
        r->conf_count--;
    }
    if (r->conf_count != before) {
        conf_recompute(r);
    }
}

/* Entries before the log's first index were compacted; the newest configuration among them
 * becomes the base. */
void rs_raft__conf_compacted(struct rs_raft *r)
{
    uint32_t drop = 0;
    while (drop < r->conf_count && r->confs[drop].index < r->log.first_index) {
        drop++;
    }
    if (drop == 0) {
        return;
    }
    r->base_conf = r->confs[drop - 1].conf;
    memmove(r->confs, r->confs + drop, (r->conf_count - drop) * sizeof r->confs[0]);
    r->conf_count -= drop;
    conf_recompute(r);
}

void rs_raft__conf_reset(struct rs_raft *r, const struct rs_conf *base)
{
    r->base_conf = *base;
    r->conf_count = 0;
    conf_recompute(r);
}

static void progress_init(struct rs_raft *r, struct rs_progress *p, rs_node_id id)
{
    memset(p, 0, sizeof *p);
    p->id = id;
    p->state = RS_PROBE;
    p->next_index = rs_log_last_index(&r->log) + 1;
    p->last_ack_ns = r->now_ns; /* a grace period before the step-down check counts it */
}

static void peer_add(struct rs_raft *r, struct rs_progress *table, uint32_t *count,
                     rs_node_id id)
{
    if (id == r->cfg.id) {
        return;
    }
    for (uint32_t i = 0; i < *count; i++) {
        if (table[i].id == id) {
            return;
        }
    }
    RS_ASSERT(*count < RS_RAFT_PEERS_MAX);
    struct rs_progress *old = rs_raft__progress(r, id);
    if (old != NULL) {
        table[*count] = *old; /* keep what we know about a peer that stays */
    } else {
        progress_init(r, &table[*count], id);
    }
    (*count)++;
}

/* Rebuilds the peer table from the configuration in force, in configuration order so that
 * iteration never depends on history. */
void rs_raft__peers_update(struct rs_raft *r)
{
    struct rs_progress table[RS_RAFT_PEERS_MAX];
    uint32_t count = 0;
    const struct rs_conf *c = &r->conf;
    for (uint32_t i = 0; i < c->voter_count; i++) {
        peer_add(r, table, &count, c->voters[i]);
    }
    for (uint32_t i = 0; i < c->old_voter_count; i++) {
        peer_add(r, table, &count, c->old_voters[i]);
    }
    for (uint32_t i = 0; i < c->learner_count; i++) {
        peer_add(r, table, &count, c->learners[i]);
    }
    for (uint32_t id = 1; id <= RS_NODE_ID_MAX; id++) {
        if ((r->change.staging >> id) & 1u) {
            peer_add(r, table, &count, id); /* new voters catching up: replicated to only */
        }
    }
    memcpy(r->progress, table, count * sizeof table[0]);
    r->peer_count = count;
}

struct rs_progress *rs_raft__progress(struct rs_raft *r, rs_node_id id)
{
    for (uint32_t i = 0; i < r->peer_count; i++) {
        if (r->progress[i].id == id) {
            return &r->progress[i];
        }
    }
    return NULL;
}

struct rs_conf rs_raft__conf_at(const struct rs_raft *r, rs_index index)
{
    struct rs_conf c = r->base_conf;
    for (uint32_t i = 0; i < r->conf_count && r->confs[i].index <= index; i++) {
        c = r->confs[i].conf;
    }
    return c;
}

/* ---- changes led by this replica ---- */

#define CATCHUP_MARGIN_DEFAULT 1000u

static void change_finish(struct rs_raft *r, enum rs_err err)
{
    r->change.stage = RS_CHANGE_NONE;
    r->change.staging = 0;
    r->change_result.err = err;
    rs_raft__peers_update(r); /* staging peers leave the table */
}

static rs_index append_conf(struct rs_raft *r, const struct rs_conf *conf)
{
    uint8_t bytes[RS_CONF_ENCODED_MAX];
    size_t size = rs_conf_encode(conf, bytes);
    struct rs_entry *e = rs_log_append(&r->log, r->term, RS_ENTRY_CONF, bytes, (uint32_t)size);
    rs_index index = rs_log_last_index(&r->log);
    rs_raft__conf_appended(r, index, e);
    return index;
}

static bool same_voters(const struct rs_conf *a, const struct rs_conf *b)
{
    if (a->voter_count != b->voter_count) {
        return false;
    }
    for (uint32_t i = 0; i < a->voter_count; i++) {
        if (!rs_conf_in_voters(b, a->voters[i])) {
            return false;
        }
    }
    return true;
}

/* Appends the joint entry (C_old,new), or the target directly when the voters stay the same
 * (learners never count, so no joint phase is needed for them). */
static void change_enter_joint(struct rs_raft *r)
{
    struct rs_conf next = r->change.target;
    r->change.staging = 0;
    if (same_voters(&r->conf, &next)) {
        r->change.stage = RS_CHANGE_STABLE;
        r->change.entry_index = append_conf(r, &next);
        return;
    }
    next.old_voter_count = r->conf.voter_count;
    memcpy(next.old_voters, r->conf.voters, sizeof next.old_voters);
    r->change.stage = RS_CHANGE_JOINT;
    r->change.entry_index = append_conf(r, &next);
}

enum rs_err rs_raft_change_conf(struct rs_raft *r, uint64_t now_ns, const struct rs_conf *target)
{
    r->now_ns = now_ns;
    if (r->role != RS_LEADER) {
        return r->role == RS_ERROR_STATE ? RS_ESHUTDOWN : RS_ENOTLEADER;
    }
    rs_raft__hib_activity(r); /* a membership change wakes a hibernating group */
    if (rs_conf_validate(target) != RS_OK || rs_conf_joint(target)) {
        return RS_EINVAL;
    }
    if (r->change.stage != RS_CHANGE_NONE || rs_conf_joint(&r->conf) ||
        r->commit_index < r->term_start_index || rs_raft_transferring(r)) {
        return RS_EBUSY; /* one change at a time, none while transferring, none before this
                          * term's first commit */
    }
    r->change_result.id++;
    r->change_result.err = RS_EAGAIN;
    r->stats.conf_changes++;
    if (rs_conf_equal(target, &r->conf)) {
        change_finish(r, RS_OK);
        return RS_OK;
    }
    r->change.target = *target;
    r->change.staging = 0;
    for (uint32_t i = 0; i < target->voter_count; i++) {
        if (!rs_conf_in_voters(&r->conf, target->voters[i])) {
            r->change.staging |= 1ull << target->voters[i];
        }
    }
    if (r->change.staging == 0) {
        change_enter_joint(r);
        return RS_OK;
    }
    r->change.stage = RS_CHANGE_CATCHING_UP;
    r->change.catchup_deadline_ns = now_ns + r->cfg.election_timeout_ns;
    rs_raft__peers_update(r); /* staging voters get progress and are replicated to */
    return RS_OK;
}

/* Called on every leader tick and append response: are the new voters caught up? */
void rs_raft__change_catchup(struct rs_raft *r)
{
    if (r->role != RS_LEADER || r->change.stage != RS_CHANGE_CATCHING_UP) {
        return;
    }
    uint64_t margin = r->cfg.catchup_margin ? r->cfg.catchup_margin : CATCHUP_MARGIN_DEFAULT;
    rs_index last = rs_log_last_index(&r->log);
    bool all = true, alive = true;
    for (uint32_t id = 1; id <= RS_NODE_ID_MAX; id++) {
        if (!((r->change.staging >> id) & 1u)) {
            continue;
        }
        const struct rs_progress *p = rs_raft__progress(r, id);
        RS_ASSERT(p != NULL);
        all = all && p->match_index + margin >= last;
        alive = alive && r->now_ns - p->last_ack_ns < r->cfg.election_timeout_ns;
    }
    if (all) {
        change_enter_joint(r);
    } else if (r->now_ns >= r->change.catchup_deadline_ns) {
        if (alive) { /* still answering: give it another round (jraft retries too) */
            r->change.catchup_deadline_ns = r->now_ns + r->cfg.election_timeout_ns;
        } else {
            change_finish(r, RS_EAGAIN); /* jraft's ECATCHUP: the new peer does not answer */
        }
    }
}

/* The joint entry committed: append the new configuration; the new one committed: done. A
 * leader that is not a voter of the new configuration steps down (jraft ELEADERREMOVED). */
void rs_raft__commit_advanced(struct rs_raft *r)
{
    bool waiting_entry = r->change.stage == RS_CHANGE_JOINT || r->change.stage == RS_CHANGE_STABLE;
    if (!waiting_entry || r->commit_index < r->change.entry_index) {
        return; /* nothing appended yet (catching up), or not committed yet */
    }
    if (r->change.stage == RS_CHANGE_JOINT) {
        struct rs_conf stable = r->conf;
        stable.old_voter_count = 0;
        memset(stable.old_voters, 0, sizeof stable.old_voters);
        r->change.stage = RS_CHANGE_STABLE;
        r->change.entry_index = append_conf(r, &stable);
        return;
    }
    change_finish(r, RS_OK);
    if (!rs_conf_is_voter(&r->conf, r->cfg.id)) {
        rs_raft__become_follower(r, r->term, RS_NODE_NONE);
    }
}

/* A new leader inherits a joint configuration: it finishes the change (its own first entry
 * repeats the joint configuration; once that commits the new one is appended). */
void rs_raft__change_resume(struct rs_raft *r)
{
    memset(&r->change, 0, sizeof r->change);
    if (rs_conf_joint(&r->conf)) {
        r->change.stage = RS_CHANGE_JOINT;
        r->change.entry_index = rs_log_last_index(&r->log);
    }
}

/* The leader lost its leadership during a change: whoever leads next finishes or drops it. */
void rs_raft__change_abort(struct rs_raft *r)
{
    if (r->change.stage != RS_CHANGE_NONE) {
        change_finish(r, RS_ENOTLEADER);
    }
}

enum rs_err rs_raft_reset_conf(struct rs_raft *r, uint64_t now_ns, const struct rs_conf *conf)
{
    r->now_ns = now_ns;
    if (rs_conf_validate(conf) != RS_OK || rs_conf_joint(conf)) {
        return RS_EINVAL;
    }
    if (r->role == RS_ERROR_STATE) {
        return RS_ESHUTDOWN;
    }
    /* unsafe by design: no replication, this replica simply believes the new configuration
     * and leaves its term so a fresh election runs under it */
    rs_raft__change_abort(r);
    rs_raft__conf_reset(r, conf);
    rs_raft__become_follower(r, r->term + 1, RS_NODE_NONE);
    return RS_OK;
}
