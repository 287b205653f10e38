/* Leader side of replication: probing, pipelined appends, heartbeats, responses, commit. */
#include "core/raft/internal.h"

#include <stdlib.h>

static struct rs_append_request request_header(const struct rs_raft *r, rs_index prev,
                                               uint64_t seq)
{
    struct rs_append_request m = {
        .from = r->cfg.id,
        .term = r->term,
        .prev_index = prev,
        .prev_term = rs_log_term_at(&r->log, prev),
        .commit_index = r->commit_index,
        .seq = seq,
        .read_seq = r->read_seq,
    };
    return m;
}

/* Sends entries from p->next_index on, at most one batch. Returns the last index sent. */
static rs_index send_batch(struct rs_raft *r, struct rs_progress *p)
{
    rs_index prev = p->next_index - 1;
    rs_index last = rs_log_last_index(&r->log);
    struct rs_append_request m = request_header(r, prev, p->send_seq++);
    struct rs_append_builder b;
    size_t mark = r->out->msg_count;
    rs_msg_append_begin(r->out, &b, &m);
    uint64_t bytes = 0;
    rs_index i = p->next_index;
    for (; i <= last && b.entry_count < r->cfg.batch_entries; i++) {
        const struct rs_entry *e = rs_log_get(&r->log, i);
        if (b.entry_count > 0 && bytes + e->size > r->cfg.batch_bytes) {
            break;
        }
        rs_msg_append_add_entry(r->out, &b, e->term, e->type, e->data, e->size);
        bytes += e->size;
    }
    rs_msg_append_finish(r->out, &b, p->id);
    rs_raft__sent(r, mark);
    r->stats.appends_sent++;
    r->stats.entries_sent += b.entry_count;
    return i - 1;
}

/* An empty append at next_index - 1 (SOFAJRaft's probe): it finds where the logs match
 * without resending a batch every retry, which would flood a slow link. */
static void send_probe(struct rs_raft *r, struct rs_progress *p)
{
    struct rs_append_request m = request_header(r, p->next_index - 1, p->send_seq++);
    struct rs_append_builder b;
    size_t mark = r->out->msg_count;
    rs_msg_append_begin(r->out, &b, &m);
    rs_msg_append_finish(r->out, &b, p->id);
    rs_raft__sent(r, mark);
    r->stats.appends_sent++;
}

static void inflight_push(struct rs_raft *r, struct rs_progress *p, rs_index last)
{
    RS_ASSERT(p->inflight_count < r->cfg.max_inflight);
    RS_ASSERT(p->id <= RS_NODE_ID_MAX);
    if (r->inflight[p->id] == NULL) {
        r->inflight[p->id] = calloc(r->cfg.max_inflight, sizeof *r->inflight[p->id]);
        RS_ASSERT(r->inflight[p->id] != NULL);
    }
    uint32_t slot = (p->inflight_head + p->inflight_count) % r->cfg.max_inflight;
    r->inflight[p->id][slot] = (struct rs_inflight){.last = last, .sent_ns = r->now_ns};
    p->inflight_count++;
}

static void inflight_free_upto(struct rs_raft *r, struct rs_progress *p, rs_index index)
{
    while (p->inflight_count > 0 && r->inflight[p->id][p->inflight_head].last <= index) {
        p->inflight_head = (p->inflight_head + 1) % r->cfg.max_inflight;
        p->inflight_count--;
    }
}

static void reset_to_probe(struct rs_progress *p, rs_index next)
{
    p->state = RS_PROBE;
    p->next_index = next > p->match_index ? next : p->match_index + 1;
    p->valid_seq = p->send_seq; /* responses to anything sent before are stale */
    p->inflight_count = 0;
    p->inflight_head = 0;
    p->probe_sent_ns = 0;
}

void rs_raft__replicate(struct rs_raft *r, struct rs_progress *p)
{
    rs_index last = rs_log_last_index(&r->log);
    if (p->state == RS_SNAPSHOT) {
        return; /* chunks go out as the follower answers (and on the retry timer) */
    }
    /* what it needs was compacted away, or it holds nothing at all: a replica a store
     * created for a leader's messages learns its region (range, epoch) only from a snapshot,
     * so an empty follower starts from one whenever there is one */
    bool empty = p->match_index == 0 && p->next_index == 1 && r->snap.file != NULL;
    if (p->match_index == 0 && p->next_index == 1 && r->snap.file == NULL) {
        r->snapshot_wanted = true; /* the host takes one at its next opportunity */
    }
    if (p->next_index < r->log.first_index || empty) {
        rs_raft__send_snapshot(r, p);
        return;
    }
    if (p->state == RS_PROBE) {
        if (p->probe_sent_ns == 0) {
            send_probe(r, p);
            p->probe_sent_ns = r->now_ns == 0 ? 1 : r->now_ns;
        }
        return;
    }
    while (p->next_index <= last && p->inflight_count < r->cfg.max_inflight) {
        rs_index sent = send_batch(r, p);
        inflight_push(r, p, sent);
        p->next_index = sent + 1;
    }
}

void rs_raft__replicate_all(struct rs_raft *r)
{
    RS_ASSERT(r->role == RS_LEADER);
    for (uint32_t i = 0; i < r->peer_count; i++) {
        rs_raft__replicate(r, &r->progress[i]);
    }
    if (r->read_broadcast_needed) {
        rs_raft__heartbeat_all(r);
    }
}

/* An empty append at the follower's known match: it always fits, refreshes the follower's
 * commit index and confirms leadership for pending reads. */
static void send_heartbeat(struct rs_raft *r, struct rs_progress *p)
{
    rs_index prev = p->match_index;
    if (!rs_log_has(&r->log, prev) && prev != 0) {
        prev = 0;
    }
    struct rs_append_request m = request_header(r, prev, p->send_seq++);
    struct rs_append_builder b;
    size_t mark = r->out->msg_count;
    rs_msg_append_begin(r->out, &b, &m);
    rs_msg_append_finish(r->out, &b, p->id);
    rs_raft__sent(r, mark);
}

void rs_raft__heartbeat_all(struct rs_raft *r)
{
    rs_raft__lease_heartbeat(r); /* in lease mode every broadcast is a new read round */
    for (uint32_t i = 0; i < r->peer_count; i++) {
        send_heartbeat(r, &r->progress[i]);
    }
    r->read_broadcast_needed = false;
}

static void check_quorum_alive(struct rs_raft *r)
{
    uint64_t alive = 1ull << r->cfg.id;
    for (uint32_t i = 0; i < r->peer_count; i++) {
        const struct rs_progress *p = &r->progress[i];
        /* a peer that acknowledged a hibernate message is asleep, not dead */
        if (r->now_ns - p->last_ack_ns < r->cfg.election_timeout_ns ||
            (r->hib_acked >> p->id & 1)) {
            alive |= 1ull << p->id;
        }
    }
    r->stepdown_deadline_ns = r->now_ns + r->cfg.election_timeout_ns / 2;
    /* a majority of both sides of a joint configuration must be alive (jraft checks conf
     * and oldConf) */
    if (!rs_conf_majority(&r->conf, alive)) {
        /* the majority is gone: step down so clients look elsewhere */
        rs_raft__become_follower(r, r->term, RS_NODE_NONE);
    }
}

void rs_raft__leader_tick(struct rs_raft *r)
{
    if (r->now_ns >= r->stepdown_deadline_ns) {
        check_quorum_alive(r);
        if (r->role != RS_LEADER) {
            return;
        }
    }
    rs_raft__change_catchup(r);
    if (r->role != RS_LEADER || r->now_ns < r->heartbeat_deadline_ns) {
        return;
    }
    /* messages unanswered for an election timeout are presumed lost: probe again */
    for (uint32_t i = 0; i < r->peer_count; i++) {
        struct rs_progress *p = &r->progress[i];
        if (p->state == RS_SNAPSHOT) {
            if (r->now_ns - p->snap_sent_ns >= r->cfg.election_timeout_ns / 2) {
                rs_raft__send_snapshot(r, p); /* the chunk or its answer was lost */
            }
            continue;
        }
        bool stuck = p->state == RS_REPLICATE && p->inflight_count > 0 &&
                     r->now_ns - r->inflight[p->id][p->inflight_head].sent_ns >=
                         r->cfg.election_timeout_ns / 2;
        if (stuck) {
            reset_to_probe(p, p->match_index + 1);
        } else if (p->state == RS_PROBE && p->probe_sent_ns != 0 &&
                   r->now_ns - p->probe_sent_ns >= r->cfg.heartbeat_ns) {
            p->probe_sent_ns = 0; /* allow the probe to be resent */
        }
    }
    /* only the periodic round moves the deadline: read rounds in between must not postpone
     * the retry of lost probes above (a follower would never catch up while reads flow) */
    if (rs_raft__hib_heartbeat_round(r)) {
        if (r->hib_state == RS_HIB_DOZING) {
            r->heartbeat_deadline_ns = r->now_ns + r->cfg.heartbeat_ns;
        }
        return; /* an idle group: hibernate messages went out instead (hibernate.c) */
    }
    rs_raft__heartbeat_all(r);
    r->heartbeat_deadline_ns = r->now_ns + r->cfg.heartbeat_ns;
    rs_raft__replicate_all(r);
}

/* The planted bug learner-votes-count: a learner's acknowledgement counts toward the
 * majority of the voters (the threshold stays a majority of the voters). */
static rs_index learners_counted_quorum(const struct rs_raft *r, const uint64_t *match,
                                        rs_index q)
{
    const struct rs_conf *c = &r->conf;
    uint32_t need = c->voter_count / 2 + 1;
    for (uint32_t i = 0; i < c->learner_count; i++) {
        rs_index v = match[c->learners[i]];
        if (v <= q) {
            continue;
        }
        uint32_t n = 1; /* the learner itself */
        for (uint32_t j = 0; j < c->voter_count; j++) {
            n += match[c->voters[j]] >= v;
        }
        if (n >= need) {
            q = v;
        }
    }
    return q;
}

void rs_raft__maybe_commit(struct rs_raft *r)
{
    uint64_t match[RS_NODE_ID_MAX + 1] = {0};
    match[r->cfg.id] = r->durable_index; /* the leader counts itself once its log is synced */
    for (uint32_t i = 0; i < r->peer_count; i++) {
        match[r->progress[i].id] = r->progress[i].match_index;
    }
    /* learners have entries in match[] but rs_conf_quorum_value only looks at voters, of
     * both sides of a joint configuration */
    struct rs_conf counted = r->conf;
    if (r->cfg.bugs & RS_BUG_JOINT_SINGLE_QUORUM) {
        counted.old_voter_count = 0; /* planted: the old side of a joint change is ignored */
    }
    rs_index q = rs_conf_quorum_value(&counted, match);
    if (r->cfg.bugs & RS_BUG_LEARNER_VOTES_COUNT) {
        q = learners_counted_quorum(r, match, q);
    }
    if (q <= r->commit_index) {
        return;
    }
    /* only entries of the current term commit by counting replicas (Raft paper 5.4.2); the
     * planted bug commit-old-term drops that rule */
    if (rs_log_term_at(&r->log, q) != r->term && !(r->cfg.bugs & RS_BUG_COMMIT_OLD_TERM)) {
        return;
    }
    r->commit_index = q;
    rs_raft__commit_advanced(r);
}

void rs_raft__recv_append_response(struct rs_raft *r, const struct rs_append_response *m)
{
    if (m->term > r->term) {
        rs_raft__become_follower(r, m->term, RS_NODE_NONE);
        return;
    }
    struct rs_progress *p = rs_raft__progress(r, m->from);
    if (r->role != RS_LEADER || m->term < r->term || p == NULL) {
        return;
    }
    p->last_ack_ns = r->now_ns;
    if (m->read_seq > p->read_seq_acked) {
        p->read_seq_acked = m->read_seq;
        rs_raft__reads_confirm(r);
    }
    if (p->state == RS_SNAPSHOT) {
        return; /* a heartbeat answer; the snapshot answers move this follower on */
    }
    if (m->success) {
        if (m->match_index > p->match_index && m->match_index <= rs_log_last_index(&r->log)) {
            p->match_index = m->match_index;
            rs_raft__maybe_commit(r);
            rs_raft__change_catchup(r);
        }
        inflight_free_upto(r, p, p->match_index);
        if (p->next_index <= p->match_index) {
            p->next_index = p->match_index + 1;
        }
        /* the probe at next_index succeeded (a heartbeat at an older match does not count) */
        if (p->state == RS_PROBE && m->seq >= p->valid_seq &&
            m->match_index + 1 >= p->next_index) {
            p->state = RS_REPLICATE;
            p->inflight_count = 0;
            p->inflight_head = 0;
            p->next_index = p->match_index + 1;
        }
        rs_raft__hib_ack(r, p, m->seq);
        rs_raft__replicate(r, p);
        return;
    }
    if (m->seq < p->valid_seq) {
        return; /* a stale rejection: the probe that superseded it is under way */
    }
    /* log mismatch: jump back to the follower's last index when that is lower */
    rs_index next = p->next_index - 1;
    if (m->match_index + 1 < next) {
        next = m->match_index + 1;
    }
    reset_to_probe(p, next);
    rs_raft__replicate(r, p);
}
