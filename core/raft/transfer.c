/* Leadership transfer (SOFAJRaft's transferLeadershipTo): catch the target up, then tell it
 * to campaign at once with a TimeoutNow. */
#include "core/raft/internal.h"

bool rs_raft_transferring(const struct rs_raft *r)
{
    return r->role == RS_LEADER && r->transfer_target != RS_NODE_NONE &&
           r->transfer_term == r->term;
}

static bool can_lead(const struct rs_raft *r, rs_node_id id)
{
    return rs_conf_in_voters(&r->conf, id) && rs_raft__priority_of(r, id) != RS_PRIORITY_NEVER;
}

/* jraft's findTheNextCandidate: the largest match index, ties by higher priority, then by
 * configuration order (deterministic). Learners and priority-0 voters never qualify. */
static rs_node_id best_candidate(struct rs_raft *r)
{
    const struct rs_progress *best = NULL;
    for (uint32_t i = 0; i < r->peer_count; i++) {
        const struct rs_progress *p = &r->progress[i];
        if (!can_lead(r, p->id)) {
            continue;
        }
        if (best == NULL || p->match_index > best->match_index ||
            (p->match_index == best->match_index &&
             rs_raft__priority_of(r, p->id) > rs_raft__priority_of(r, best->id))) {
            best = p;
        }
    }
    return best == NULL ? RS_NODE_NONE : best->id;
}

enum rs_err rs_raft_transfer(struct rs_raft *r, uint64_t now_ns, rs_node_id target)
{
    r->now_ns = now_ns;
    if (r->role == RS_ERROR_STATE) {
        return RS_ESHUTDOWN;
    }
    if (r->role != RS_LEADER) {
        return RS_ENOTLEADER;
    }
    rs_raft__hib_activity(r); /* the target must be awake and caught up */
    if (rs_raft_transferring(r) || r->change.stage != RS_CHANGE_NONE || rs_conf_joint(&r->conf)) {
        return RS_EBUSY;
    }
    if (target == r->cfg.id) {
        return RS_OK; /* jraft: transferring to oneself succeeds at once */
    }
    if (target == RS_NODE_NONE) {
        target = best_candidate(r);
        if (target == RS_NODE_NONE) {
            return RS_ENOTFOUND;
        }
    } else if (target > RS_NODE_ID_MAX || !can_lead(r, target) ||
               rs_raft__progress(r, target) == NULL) {
        return RS_EINVAL;
    }
    RS_ASSERT(target != r->cfg.id && target <= RS_NODE_ID_MAX);
    r->transfer_target = target;
    r->transfer_term = r->term;
    r->transfer_deadline_ns = now_ns + r->cfg.election_timeout_ns;
    r->timeout_now_sent = false;
    r->stats.transfers_started++;
    rs_raft__transfer_flush(r);
    return RS_OK;
}

static void send_timeout_now(struct rs_raft *r)
{
    RS_ASSERT(rs_raft_transferring(r));
    RS_ASSERT(!r->timeout_now_sent); /* once per transfer, as jraft */
    struct rs_timeout_now m = {.from = r->cfg.id, .term = r->term};
    size_t mark = r->out->msg_count;
    rs_msg_send_timeout_now(r->out, r->transfer_target, &m);
    rs_raft__sent(r, mark);
    r->timeout_now_sent = true;
    /* the target may win an election without pre-vote while our followers still count us
     * in: the lease argument no longer holds in this term (lease.c) */
    r->timeout_now_term = r->term;
    r->stats.timeout_now_sent++;
}

/* Sends the TimeoutNow once the target has every entry (proposals are refused meanwhile, so
 * the last index stays put). The planted bug transfer-without-catchup does not wait. */
void rs_raft__transfer_flush(struct rs_raft *r)
{
    if (!rs_raft_transferring(r) || r->timeout_now_sent) {
        return;
    }
    const struct rs_progress *p = rs_raft__progress(r, r->transfer_target);
    if (p == NULL) {
        r->transfer_target = RS_NODE_NONE; /* the target left the configuration */
        return;
    }
    bool caught_up = p->match_index == rs_log_last_index(&r->log);
    if (caught_up || (r->cfg.bugs & RS_BUG_TRANSFER_WITHOUT_CATCHUP)) {
        send_timeout_now(r);
    }
}

/* One election timeout without losing leadership: the transfer failed, serve again. */
void rs_raft__transfer_tick(struct rs_raft *r)
{
    if (rs_raft_transferring(r) && r->now_ns >= r->transfer_deadline_ns) {
        r->transfer_target = RS_NODE_NONE;
        r->stats.transfers_timed_out++;
    }
}

/* The target: a follower of the sender's term campaigns at once, skipping pre-vote (the
 * others still see a live leader and would refuse it). */
void rs_raft__recv_timeout_now(struct rs_raft *r, const struct rs_timeout_now *m)
{
    if (m->term != r->term || r->role != RS_FOLLOWER || m->from != r->leader_id) {
        return; /* stale, or not from our leader */
    }
    if (!can_lead(r, r->cfg.id) || r->elections_barred) {
        return; /* learners, priority-0 and barred nodes never campaign */
    }
    r->stats.timeout_now_elections++;
    rs_raft__elect_self(r);
}
