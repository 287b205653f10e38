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

void rs_raft__commit_advanced(struct rs_raft *r)
{
    (void)r; /* membership changes take their next step here (joint -> stable) */
}
