/* Priority election (SOFAJRaft's ElectionPriority): nodes below the target priority let the
 * higher ones campaign first; the target decays while nobody leads. */
#include "core/raft/internal.h"

int32_t rs_raft__priority_of(const struct rs_raft *r, rs_node_id id)
{
    if (!r->cfg.priority_election || id == RS_NODE_NONE || id > RS_NODE_ID_MAX) {
        return RS_PRIORITY_DISABLED;
    }
    return r->cfg.priorities[id];
}

/* The highest priority among the voters (both sides of a joint configuration). */
static int32_t max_voter_priority(const struct rs_raft *r)
{
    const struct rs_conf *c = &r->conf;
    int32_t best = RS_PRIORITY_DISABLED;
    for (uint32_t i = 0; i < c->voter_count; i++) {
        int32_t p = rs_raft__priority_of(r, c->voters[i]);
        best = p > best ? p : best;
    }
    for (uint32_t i = 0; i < c->old_voter_count; i++) {
        int32_t p = rs_raft__priority_of(r, c->old_voters[i]);
        best = p > best ? p : best;
    }
    return best;
}

/* jraft recomputes the target when the configuration changes, and only then: a new term's
 * configuration entry that repeats the same members keeps the decayed target. */
static void refresh_target(struct rs_raft *r)
{
    if (r->priority_ready && rs_conf_equal(&r->priority_conf, &r->conf)) {
        return;
    }
    r->priority_conf = r->conf;
    r->target_priority = max_voter_priority(r);
    r->priority_ready = true;
}

/* target -= max(gap, target / 5), never below 1 (jraft's decayTargetPriority). */
static void decay_target(struct rs_raft *r)
{
    int32_t gap = (int32_t)r->cfg.decay_priority_gap;
    if (gap < RS_RAFT_DECAY_GAP_DEFAULT) {
        gap = RS_RAFT_DECAY_GAP_DEFAULT;
    }
    int32_t fifth = r->target_priority / 5;
    int32_t step = fifth > gap ? fifth : gap;
    int32_t next = r->target_priority - step;
    r->target_priority = next < 1 ? 1 : next;
    RS_ASSERT(r->target_priority >= 1);
}

/*
 * Priority 0 never campaigns; -1 always may. Otherwise a node below the target skips this
 * timeout and the target decays, so that when the higher-priority nodes are gone the next
 * ones become eligible after a few timeouts. jraft decays every second skipped timeout; we
 * decay on every one (the rule), which only shortens the wait.
 */
bool rs_raft__priority_allows_election(struct rs_raft *r)
{
    int32_t mine = rs_raft__priority_of(r, r->cfg.id);
    if (mine == RS_PRIORITY_NEVER) {
        r->stats.priority_skips++;
        return false;
    }
    if (mine < 0) {
        return true;
    }
    refresh_target(r);
    if (mine >= r->target_priority) {
        return true;
    }
    decay_target(r);
    r->stats.priority_skips++;
    return false;
}
