/* Hibernation (TiKV's hibernate regions, CockroachDB's quiescence): an idle group stops
 * heartbeating, so that a store hosting thousands of idle regions pays nothing for them. */
#include "core/raft/internal.h"

#include "core/wire/frame.h"

/*
 * How it works, and why it is safe.
 *
 * Safety never depends on it: hibernation only decides when heartbeats and election timers
 * run. Every vote, append and commit rule is unchanged, and any message may arrive in any
 * state. With cfg.hibernate off every function here returns at once.
 *
 * Going to sleep. At each heartbeat period the leader checks that its group is idle: nothing
 * uncommitted, unsynced or unapplied, an entry of its term committed, every peer (learners
 * too) replicating with nothing in flight and its match index at the last index, no read,
 * transfer or membership change under way. After RS_RAFT_HIBERNATE_IDLE_ROUNDS such periods
 * in a row it dozes: instead of heartbeats it sends hibernate messages (heartbeats under their
 * own type) to the peers that have not acknowledged one, each period, until every peer has.
 * Then it sleeps: no heartbeat, no step-down check, no timer. A follower that gets a hibernate
 * message while it holds exactly the leader's log, all of it committed and durable, sleeps: its
 * election timer stops (its host applies the commit in the same event). Otherwise it answers as
 * to a heartbeat and sends a wake-up too, so that the leader never sleeps while a follower's
 * timer runs. Waiting for every acknowledgement means a lost hibernate message costs one more
 * period, not a follower timing out against a silent leader.
 *
 * Waking up. A dozing or sleeping leader wakes on a proposal, a read, a transfer, a membership
 * change, any message but an append response, and an append response that shows the group is
 * no longer idle: it heartbeats every peer at once (which wakes them) and resumes its period.
 * A sleeping follower or learner wakes on any append or snapshot from the leader (which
 * restarts its timer as always); on a vote request (a candidate's), or the host's rs_raft_wake
 * (a client request, its store's signal), it also sends the leader a wake-up, so that a healthy
 * leader heartbeats again before anyone times out.
 *
 * A woken follower does not count its sleep as contact with the leader: having heard nothing
 * for an election timeout, it grants a pre-vote at once. So the follower a client woke, whose
 * wake-up went unanswered for an election timeout, is elected on its first try, and a crashed
 * sleeping leader is replaced an election timeout or two after a client turns to a follower,
 * as without hibernation. (TiKV freezes the election ticks instead, so woken followers refuse
 * for another election timeout; that guards a sleeping leader better against a node that lost
 * its wake-up or cannot reach the leader, and makes every recovery one timeout slower.) The
 * price here: a follower whose wake-up was lost, or that cannot reach a leader the others can,
 * may start an election a live leader did not need. Only timing, never safety: the lease needs
 * no refusal window from sleeping followers (see Leases).
 *
 * A leader that crashed (or was cut off) while its group slept: nobody notices at once, that is
 * the price of silence. It is noticed when
 *  - a client turns to a follower (its request to the leader timed out): the follower wakes,
 *    sends a wake-up nobody answers, its election timer fires, and it campaigns; the other
 *    followers wake on its pre-vote and grant it (they heard nothing for an election timeout);
 *  - such a timer firing names the silent leader in hib_lost_leader: the store wakes every
 *    sleeping replica it hosts that follows the same leader (rs_store_wake), so the regions
 *    that leader led recover together, as they would without hibernation;
 *  - the leader restarts: it recovers as a follower with a running timer and campaigns; it also
 *    sends every voter a wake-up, and a sleeping follower that gets a wake-up from the node it
 *    follows knows that node no longer leads: it forgets it and restarts its own timer.
 *
 * Leases. A dozing or sleeping leader serves no lease read, and once awake it trusts no lease
 * round started before it woke. The lease argument (lease.c) needs each acknowledging
 * follower to refuse pre-votes for an election timeout after it got the round, and a silent
 * group gives the leader no evidence of that: a sleeping follower grants a pre-vote as soon as
 * a candidate wakes it, one may have restarted (forgetting its leader), and a candidate may
 * have been elected while the leader slept. The first heartbeat round after the wake, once a
 * quorum acknowledges it, restarts the lease (each of those followers heard from the leader
 * then, and refuses from that moment, as always); until then reads take the quorum round.
 */

static bool group_idle(const struct rs_raft *r)
{
    RS_ASSERT(r->role == RS_LEADER);
    rs_index last = rs_log_last_index(&r->log);
    if (r->commit_index != last || r->applied_index != last || r->durable_index != last ||
        r->sync_in_flight || r->commit_index < r->term_start_index) {
        return false;
    }
    if (rs_raft_transferring(r) || r->change.stage != RS_CHANGE_NONE || rs_conf_joint(&r->conf) ||
        r->read_count > 0 || r->remote_count > 0 || r->read_broadcast_needed) {
        return false;
    }
    for (uint32_t i = 0; i < r->peer_count; i++) {
        const struct rs_progress *p = &r->progress[i];
        if (p->state != RS_REPLICATE || p->match_index != last || p->inflight_count > 0) {
            return false;
        }
    }
    return true;
}

static void send_wake_up(struct rs_raft *r, rs_node_id to)
{
    RS_ASSERT(to != RS_NODE_NONE && to != r->cfg.id);
    struct rs_wake_up m = {.from = r->cfg.id, .term = r->term};
    size_t mark = r->out->msg_count;
    rs_msg_send_wake_up(r->out, to, &m);
    rs_raft__sent(r, mark);
    r->stats.wake_ups_sent++;
}

/* The leader's state on waking, without messages (the caller sends them). */
static void leader_wake_state(struct rs_raft *r)
{
    RS_ASSERT(r->role == RS_LEADER);
    RS_ASSERT(r->hib_state != RS_HIB_AWAKE);
    r->hib_state = RS_HIB_AWAKE;
    r->hib_acked = 0;
    r->hib_woke_ns = r->now_ns;
    r->lease_term = 0; /* see "Leases" above */
    for (uint32_t i = 0; i < r->peer_count; i++) {
        r->progress[i].hib_seq = 0;
        /* silence while asleep is no sign of death: the grace a new leader gives */
        r->progress[i].last_ack_ns = r->now_ns;
    }
    r->stepdown_deadline_ns = r->now_ns + r->cfg.election_timeout_ns;
    r->stats.wakes++;
}

static void leader_wake(struct rs_raft *r)
{
    leader_wake_state(r);
    rs_raft__heartbeat_all(r);
    r->heartbeat_deadline_ns = r->now_ns + r->cfg.heartbeat_ns;
}

/* A sleeping follower or learner wakes: its timer restarts and the leader is asked to
 * heartbeat again. Its last contact with the leader stays what it was (see above). */
static void follower_wake(struct rs_raft *r)
{
    RS_ASSERT(r->role == RS_FOLLOWER);
    RS_ASSERT(r->hib_state == RS_HIB_ASLEEP);
    r->stats.wakes++;
    rs_raft__reset_election_timer(r);
    RS_ASSERT(r->hib_state == RS_HIB_AWAKE);
    if (r->leader_id != RS_NODE_NONE && r->leader_id != r->cfg.id) {
        send_wake_up(r, r->leader_id);
    }
}

void rs_raft__hib_activity(struct rs_raft *r)
{
    if (!r->cfg.hibernate) {
        return;
    }
    if (r->role == RS_LEADER) {
        r->hib_idle_rounds = 0;
        if (r->hib_state != RS_HIB_AWAKE) {
            leader_wake(r);
        }
    } else if (r->role == RS_FOLLOWER && r->hib_state == RS_HIB_ASLEEP) {
        follower_wake(r);
    }
}

void rs_raft__hib_activity_quiet(struct rs_raft *r)
{
    if (!r->cfg.hibernate || r->role != RS_LEADER) {
        rs_raft__hib_activity(r);
        return;
    }
    r->hib_idle_rounds = 0;
    if (r->hib_state != RS_HIB_AWAKE) {
        leader_wake_state(r);
        /* the next period's heartbeats, if the caller's messages did not wake everyone */
        r->heartbeat_deadline_ns = r->now_ns + r->cfg.heartbeat_ns;
    }
}

void rs_raft_wake(struct rs_raft *r, uint64_t now_ns)
{
    r->now_ns = now_ns;
    if (r->role != RS_ERROR_STATE) {
        rs_raft__hib_activity(r);
    }
}

bool rs_raft_hibernating(const struct rs_raft *r)
{
    return r->hib_state == RS_HIB_ASLEEP;
}

void rs_raft__hib_before_recv(struct rs_raft *r, unsigned type)
{
    if (!r->cfg.hibernate) {
        return;
    }
    if (r->role == RS_LEADER && type != RS_MSG_APPEND_RESPONSE) {
        rs_raft__hib_activity(r); /* anything but an answer to a heartbeat */
    } else if (r->role == RS_FOLLOWER && r->hib_state == RS_HIB_ASLEEP &&
               type == RS_MSG_VOTE_REQUEST) {
        follower_wake(r); /* a candidate: if the leader lives, let it show itself */
    }
}

void rs_raft__hib_after_recv(struct rs_raft *r)
{
    if (r->cfg.hibernate && r->role == RS_LEADER && r->hib_state != RS_HIB_AWAKE &&
        !group_idle(r)) {
        r->hib_idle_rounds = 0;
        leader_wake(r); /* an answer showed a follower behind: replicate again */
    }
}

/* Every peer acknowledged a hibernate message: the leader sleeps. */
static void maybe_sleep(struct rs_raft *r)
{
    RS_ASSERT(r->hib_state == RS_HIB_DOZING);
    for (uint32_t i = 0; i < r->peer_count; i++) {
        if (!(r->hib_acked >> r->progress[i].id & 1)) {
            return;
        }
    }
    r->hib_state = RS_HIB_ASLEEP;
    r->heartbeat_deadline_ns = UINT64_MAX;
    r->stepdown_deadline_ns = UINT64_MAX;
    r->stats.hibernations++;
}

static void send_hibernate(struct rs_raft *r, struct rs_progress *p)
{
    rs_index last = rs_log_last_index(&r->log);
    RS_ASSERT(p->match_index == last);
    struct rs_append_request m = {
        .from = r->cfg.id,
        .term = r->term,
        .prev_index = last,
        .prev_term = rs_log_term_at(&r->log, last),
        .commit_index = r->commit_index,
        .seq = p->send_seq++,
        .read_seq = r->read_seq,
    };
    size_t mark = r->out->msg_count;
    rs_msg_send_hibernate(r->out, p->id, &m);
    rs_raft__sent(r, mark);
    p->hib_seq = m.seq;
}

bool rs_raft__hib_heartbeat_round(struct rs_raft *r)
{
    if (!r->cfg.hibernate) {
        return false;
    }
    RS_ASSERT(r->role == RS_LEADER);
    if (!group_idle(r)) {
        r->hib_idle_rounds = 0;
        if (r->hib_state != RS_HIB_AWAKE) {
            leader_wake_state(r); /* the caller's heartbeats wake the followers */
        }
        return false;
    }
    if (r->hib_idle_rounds < RS_RAFT_HIBERNATE_IDLE_ROUNDS) {
        r->hib_idle_rounds++;
    }
    if (r->hib_idle_rounds < RS_RAFT_HIBERNATE_IDLE_ROUNDS) {
        return false;
    }
    r->hib_state = RS_HIB_DOZING;
    for (uint32_t i = 0; i < r->peer_count; i++) {
        struct rs_progress *p = &r->progress[i];
        if (!(r->hib_acked >> p->id & 1)) {
            send_hibernate(r, p);
        }
    }
    maybe_sleep(r); /* a group of one sleeps at once */
    return true;
}

void rs_raft__hib_ack(struct rs_raft *r, struct rs_progress *p, uint64_t seq)
{
    if (r->hib_state != RS_HIB_DOZING || p->hib_seq == 0 || seq < p->hib_seq ||
        p->match_index != rs_log_last_index(&r->log)) {
        return;
    }
    RS_ASSERT(p->id <= RS_NODE_ID_MAX);
    r->hib_acked |= 1ull << p->id;
    maybe_sleep(r);
}

/* May this follower sleep on the leader's hibernate message m (already handled as a
 * heartbeat)? Only holding exactly the leader's log, committed and durable, with nothing of
 * its own under way. */
static bool follower_may_sleep(const struct rs_raft *r, const struct rs_append_request *m)
{
    rs_index last = rs_log_last_index(&r->log);
    return m->prev_index == last && m->commit_index == last && r->commit_index == last &&
           r->durable_index >= last && rs_log_term_at(&r->log, last) == m->prev_term &&
           !r->install.active && !r->snapshot_to_load && r->forward_count == 0;
}

void rs_raft__recv_hibernate(struct rs_raft *r, const struct rs_append_request *m)
{
    rs_raft__recv_append_request(r, m); /* a heartbeat in every other respect */
    if (!r->cfg.hibernate || r->role != RS_FOLLOWER || r->term != m->term ||
        r->leader_id != m->from) {
        return;
    }
    if (!follower_may_sleep(r, m)) {
        send_wake_up(r, m->from); /* not now: the leader must keep heartbeating */
        return;
    }
    if (r->hib_state != RS_HIB_ASLEEP) {
        r->hib_state = RS_HIB_ASLEEP;
        r->stats.hibernations++;
    }
    r->election_deadline_ns = UINT64_MAX;
}

void rs_raft__recv_wake_up(struct rs_raft *r, const struct rs_wake_up *m)
{
    if (!r->cfg.hibernate || r->role != RS_FOLLOWER || r->hib_state != RS_HIB_ASLEEP) {
        return; /* a leader was woken before the message was handled */
    }
    if (m->from == r->leader_id) {
        /* the node we follow asks for a leader: it no longer leads (it restarted) */
        r->stats.wakes++;
        r->leader_id = RS_NODE_NONE;
        rs_raft__reset_election_timer(r);
    }
}

void rs_raft__hib_election_timeout(struct rs_raft *r)
{
    if (r->cfg.hibernate && r->role == RS_FOLLOWER && r->leader_id != RS_NODE_NONE &&
        r->leader_id != r->cfg.id &&
        r->now_ns - r->last_leader_contact_ns >= r->cfg.election_timeout_ns) {
        r->hib_lost_leader = r->leader_id;
    }
}

void rs_raft__hib_recovered(struct rs_raft *r)
{
    if (!r->cfg.hibernate || r->term == 0 || r->role != RS_FOLLOWER) {
        return; /* a fresh replica: no group has slept yet */
    }
    for (uint32_t i = 0; i < r->conf.voter_count; i++) {
        if (r->conf.voters[i] != r->cfg.id) {
            send_wake_up(r, r->conf.voters[i]);
        }
    }
}
