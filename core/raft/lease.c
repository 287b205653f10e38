/* Lease reads (SOFAJRaft's ReadOnlyLeaseBased): a leader that a quorum acknowledged recently
 * answers ReadIndex without a round, for a time bounded by the clocks' drift. */
#include "core/raft/internal.h"

#define PPM_ONE 1000000ull

/*
 * Why the lease is sound, and how long it may last.
 *
 * Let rho = max_drift_ppm / 10^6: every clock advances at a rate within [1 - rho, 1 + rho] of
 * real time. The leader starts round k at local time s (real time t_s) and remembers s. A
 * quorum Q acknowledges messages carrying k; each member X of Q received one at a real time
 * t_X >= t_s and from then on, until its own clock has advanced by election_timeout (ET),
 * refuses pre-votes (leader_lease_valid in election.c) and does not campaign itself
 * (rs_raft__election_timeout). Another leader needs a pre-vote quorum first, and that quorum
 * shares a member X with Q, so it cannot exist before t_X + ET / (1 + rho) >= t_s + ET / (1 +
 * rho) in real time: X's clock, running at most 1 + rho fast, covers ET in no less real time.
 * The leader measures the lease D on its own clock, which may run 1 - rho slow: D local
 * nanoseconds last at most D / (1 - rho) real ones. The lease is safe when
 *     D / (1 - rho) <= ET / (1 + rho),   i.e.   D <= ET * (1 - rho) / (1 + rho).
 * We take D = (ET * 9/10) * (10^6 - ppm) / (10^6 + ppm), rounded down, in integers: the 9/10
 * is jraft's leaderLeaseTimeRatio and keeps a margin for the vote round. For rho = 10% this is
 * 0.736 ET; the planted bug lease-ignores-drift keeps 0.9 ET, which outlives the bound once
 * rho exceeds about 5.3%.
 *
 * Two paths skip pre-vote and so would void the argument: a node without pre-vote (the lease
 * is then never used) and a TimeoutNow (the leader that sent one serves no lease read for the
 * rest of its term). A new leader serves no read at all until an entry of its term commits.
 */
uint64_t rs_raft_lease_duration_ns(const struct rs_raft_config *cfg)
{
    uint64_t base = cfg->election_timeout_ns / 10 * 9;
    if (cfg->bugs & RS_BUG_LEASE_IGNORES_DRIFT) {
        return base;
    }
    uint64_t ppm = cfg->max_drift_ppm;
    if (ppm >= PPM_ONE) {
        return 0; /* no bound can be trusted: every read takes the quorum round */
    }
    uint64_t num = PPM_ONE - ppm;
    uint64_t den = PPM_ONE + ppm;
    /* base * num / den without overflow: (q * den + rem) * num / den = q * num + rem * num / den
     * with rem < den <= 2 * 10^6, so rem * num < 2^42 */
    uint64_t q = base / den;
    uint64_t rem = base % den;
    uint64_t d = q * num + rem * num / den;
    RS_ASSERT(d <= base);
    return d;
}

static bool lease_mode(const struct rs_raft *r)
{
    /* without pre-vote, followers grant votes during the lease: never trust it */
    return r->cfg.read_mode == RS_READ_LEASE && r->cfg.pre_vote;
}

bool rs_raft_lease_valid(const struct rs_raft *r)
{
    if (!lease_mode(r) || r->role != RS_LEADER || r->lease_term != r->term) {
        return false;
    }
    if (r->timeout_now_term == r->term || r->commit_index < r->term_start_index ||
        rs_raft_transferring(r)) {
        return false; /* transferring: reads are refused anyway (EBUSY) */
    }
    if (r->hib_state != RS_HIB_AWAKE) {
        return false; /* a hibernating leader's lease is not trusted (hibernate.c) */
    }
    if (r->now_ns < r->lease_start_ns) {
        return false; /* a host clock that went back: trust nothing */
    }
    return r->now_ns - r->lease_start_ns < rs_raft_lease_duration_ns(&r->cfg);
}

uint64_t rs_raft__read_round(struct rs_raft *r)
{
    RS_ASSERT(r->role == RS_LEADER);
    uint64_t seq = ++r->read_seq;
    RS_ASSERT(seq != 0);
    struct rs_lease_round *slot = &r->lease_rounds[seq % RS_RAFT_LEASE_ROUNDS];
    slot->term = r->term;
    slot->seq = seq;
    slot->sent_ns = r->now_ns;
    return seq;
}

void rs_raft__lease_heartbeat(struct rs_raft *r)
{
    /* in safe mode read_seq moves only for reads, exactly as before lease reads existed */
    if (lease_mode(r) && r->role == RS_LEADER) {
        rs_raft__read_round(r);
    }
}

void rs_raft__lease_confirmed(struct rs_raft *r, uint64_t seq)
{
    if (!lease_mode(r) || seq == 0) {
        return;
    }
    const struct rs_lease_round *slot = &r->lease_rounds[seq % RS_RAFT_LEASE_ROUNDS];
    if (slot->term != r->term || slot->seq != seq) {
        return; /* too old to be remembered: a newer confirmation will come */
    }
    if (slot->sent_ns < r->hib_woke_ns) {
        return; /* a round from before the leader last woke proves nothing now (hibernate.c) */
    }
    /* a round k was started no later than any message carrying k left, so its start time is a
     * safe (early) lease start even for appends sent later with the same read_seq */
    if (r->lease_term != r->term || slot->sent_ns > r->lease_start_ns) {
        r->lease_term = r->term;
        r->lease_start_ns = slot->sent_ns;
    }
    RS_ASSERT(r->lease_start_ns <= r->now_ns); /* a send time in the past */
}
