/* region-count and load: replica moves by add then remove, and hot leaders moved by QPS. */
#include "core/pd/internal.h"

#include <stdio.h>
#include <string.h>

/*
 * A replica moves in two instructions, each confirmed by the view before the next: add a
 * voter on the target (the region now has one voter too many), then remove the source's.
 * The second step is stateless: any free region with more voters than replica_count loses
 * the replica the first step meant to remove, or, if that is forgotten or gone, its fullest
 * voter that does not lead. So a PD that fails over half way still finishes the move.
 *
 * The metric is replicas per store (region-count, each replica weighs 1) or bytes per store
 * (load, each replica weighs its region's size). A move of weight w from s to t helps when
 * metric(t) + w < metric(s): the larger of the two goes down. For counts that is
 * metric(t) <= metric(s) - 2, i.e. the end state is every store within one of the mean.
 *
 * Scratch: b = metric per store with this pass's moves; c = up stores by metric, smallest
 * first; d = the same, largest first (ties: the lower id first in both).
 */

static uint64_t weight(const struct rs_pd_region *r, bool by_bytes)
{
    return by_bytes ? r->size_bytes : 1;
}

static void take(uint64_t *metric, uint32_t at, uint64_t w)
{
    if (at != RS_PD__NONE) {
        metric[at] -= metric[at] >= w ? w : metric[at];
    }
}

static void give(uint64_t *metric, uint32_t at, uint64_t w)
{
    if (at != RS_PD__NONE) {
        metric[at] += w;
    }
}

/* Peer changes in flight count as done, an add with the removal it leads to. */
static void replica_influence(struct rs_pd__ctx *ctx, bool by_bytes)
{
    const struct rs_pd_view *v = ctx->view;
    const struct rs_pd_policy *p = ctx->policy;
    for (size_t i = 0; i < p->move_count; i++) {
        const struct rs_pd__move *m = &p->moves[i];
        uint32_t region;
        if (m->kind != RS_PD_CHANGE_PEER || !rs_pd__move_inflight(ctx, m, &region)) {
            continue;
        }
        uint64_t w = weight(&v->regions[region], by_bytes);
        uint32_t store = rs_pd__store_index(v, m->store);
        if (m->change == RS_PD_ADD_VOTER || m->change == RS_PD_ADD_LEARNER) {
            give(p->scratch.b, store, w);
            take(p->scratch.b, rs_pd__store_index(v, m->then_remove), w);
        } else if (m->change == RS_PD_REMOVE_PEER) {
            take(p->scratch.b, store, w);
        }
    }
}

static void measure(struct rs_pd__ctx *ctx, bool by_bytes)
{
    const struct rs_pd_view *v = ctx->view;
    uint64_t *metric = ctx->policy->scratch.b;
    memset(metric, 0, (v->store_count + 1) * sizeof *metric);
    for (size_t i = 0; i < v->region_count; i++) {
        const struct rs_pd_region *r = &v->regions[i];
        for (size_t j = 0; j < r->voter_count; j++) {
            metric[rs_pd__store_index(v, r->voters[j])] += weight(r, by_bytes);
        }
        for (size_t j = 0; j < r->learner_count; j++) {
            metric[rs_pd__store_index(v, r->learners[j])] += weight(r, by_bytes);
        }
    }
    replica_influence(ctx, by_bytes);
}

/* The up stores by metric, smallest first, then by id; returns how many. */
static size_t order_targets(struct rs_pd__ctx *ctx)
{
    const struct rs_pd_view *v = ctx->view;
    const uint64_t *metric = ctx->policy->scratch.b;
    uint32_t *order = ctx->policy->scratch.c;
    size_t n = 0;
    for (uint32_t i = 0; i < v->store_count; i++) {
        if (!v->stores[i].up) {
            continue;
        }
        size_t at = n++;
        while (at > 0 && metric[order[at - 1]] > metric[i]) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = i;
    }
    return n;
}

/* The up stores by metric, largest first, then by id, into d. */
static void order_sources(struct rs_pd__ctx *ctx, size_t up_count)
{
    struct rs_pd__scratch *s = &ctx->policy->scratch;
    for (size_t k = 0; k < up_count; k++) {
        uint32_t store = s->c[up_count - 1 - k];
        size_t at = k;
        while (at > 0 && (s->b[s->d[at - 1]] < s->b[store] ||
                          (s->b[s->d[at - 1]] == s->b[store] && s->d[at - 1] > store))) {
            s->d[at] = s->d[at - 1];
            at--;
        }
        s->d[at] = store;
    }
}

/* The voter to remove from an over-replicated region: the one the move meant, else the
 * fullest (then the lower id) that does not lead. */
static uint32_t removal(const struct rs_pd__ctx *ctx, const struct rs_pd_region *r)
{
    const struct rs_pd_view *v = ctx->view;
    const uint64_t *metric = ctx->policy->scratch.b;
    rs_node_id meant = rs_pd__then_remove(ctx, r->id);
    if (meant != RS_NODE_NONE && meant != r->leader && rs_pd__region_has_voter(r, meant)) {
        return rs_pd__store_index(v, meant);
    }
    uint32_t best = RS_PD__NONE;
    for (size_t j = 0; j < r->voter_count; j++) {
        uint32_t at = rs_pd__store_index(v, r->voters[j]);
        if (r->voters[j] != r->leader &&
            (best == RS_PD__NONE || metric[at] > metric[best] ||
             (metric[at] == metric[best] && at < best))) {
            best = at;
        }
    }
    return best;
}

/* Second steps: regions with a voter too many lose one. */
static void finish_moves(struct rs_pd__ctx *ctx, bool by_bytes)
{
    const struct rs_pd_view *v = ctx->view;
    uint64_t *metric = ctx->policy->scratch.b;
    uint32_t replicas = ctx->policy->params.replica_count;
    for (uint32_t i = 0; i < v->region_count && ctx->budget > 0; i++) {
        const struct rs_pd_region *r = &v->regions[i];
        if (r->voter_count <= replicas || r->leader == RS_NODE_NONE ||
            !rs_pd__region_free(ctx, i)) {
            continue;
        }
        uint32_t at = removal(ctx, r);
        RS_ASSERT(at != RS_PD__NONE);
        struct rs_pd_instruction in;
        rs_pd__change(&in, RS_PD_REMOVE_PEER, v->stores[at].id);
        snprintf(in.reason, sizeof in.reason, "%u voters > %u: second step of a move",
                 (unsigned)r->voter_count, (unsigned)replicas);
        if (rs_pd__emit(ctx, i, &in)) {
            take(metric, at, weight(r, by_bytes));
        }
    }
}

/* The emptiest up store not holding region r (order: up stores, smallest metric first). */
static uint32_t target_for(const struct rs_pd__ctx *ctx, const struct rs_pd_region *r,
                           size_t up_count)
{
    const struct rs_pd_view *v = ctx->view;
    const uint32_t *order = ctx->policy->scratch.c;
    for (size_t k = 0; k < up_count; k++) {
        if (!rs_pd__region_has_peer(r, v->stores[order[k]].id)) {
            return order[k];
        }
    }
    return RS_PD__NONE;
}

struct candidate {
    uint32_t region;
    uint32_t target;
    uint64_t peak; /* the larger of source and target after the move */
};

/* Orders candidates: lower peak, then emptier target, then lower region, then lower target. */
static bool better(const uint64_t *metric, struct candidate c, struct candidate best)
{
    if (best.region == RS_PD__NONE || c.peak != best.peak) {
        return best.region == RS_PD__NONE || c.peak < best.peak;
    }
    if (metric[c.target] != metric[best.target]) {
        return metric[c.target] < metric[best.target];
    }
    return c.region != best.region ? c.region < best.region : c.target < best.target;
}

/* The best first step away from source: lowest peak, then emptiest target, then lowest id. */
static struct candidate best_move(const struct rs_pd__ctx *ctx, uint32_t source, bool by_bytes,
                                  size_t up_count)
{
    const struct rs_pd_view *v = ctx->view;
    const uint64_t *metric = ctx->policy->scratch.b;
    rs_node_id id = v->stores[source].id;
    struct candidate best = {RS_PD__NONE, RS_PD__NONE, UINT64_MAX};
    for (uint32_t i = 0; i < v->region_count; i++) {
        const struct rs_pd_region *r = &v->regions[i];
        if (r->leader == id || r->leader == RS_NODE_NONE ||
            r->voter_count != ctx->policy->params.replica_count ||
            !rs_pd__region_has_voter(r, id) || !rs_pd__region_free(ctx, i)) {
            continue;
        }
        uint32_t t = target_for(ctx, r, up_count);
        uint64_t w = weight(r, by_bytes);
        if (t == RS_PD__NONE || w == 0 || metric[t] + w >= metric[source]) {
            continue;
        }
        uint64_t peak = metric[source] - w > metric[t] + w ? metric[source] - w : metric[t] + w;
        struct candidate c = {i, t, peak};
        if (better(metric, c, best)) {
            best = c;
        }
    }
    return best;
}

/* load only acts on a store above the mean by more than the tolerance. */
static bool above_tolerance(const struct rs_pd__ctx *ctx, uint64_t value, size_t up_count)
{
    const struct rs_pd_view *v = ctx->view;
    const uint64_t *metric = ctx->policy->scratch.b;
    unsigned __int128 total = 0;
    for (size_t i = 0; i < v->store_count; i++) {
        total += v->stores[i].up ? metric[i] : 0;
    }
    unsigned __int128 lhs = (unsigned __int128)value * up_count * 1000000u;
    unsigned __int128 rhs = total * (1000000u + ctx->policy->params.load_tolerance_ppm);
    return lhs > rhs;
}

/* First steps: from the fullest store that has a helpful move, one add per iteration. */
static void start_moves(struct rs_pd__ctx *ctx, bool by_bytes)
{
    const struct rs_pd_view *v = ctx->view;
    struct rs_pd__scratch *s = &ctx->policy->scratch;
    while (ctx->budget > 0) {
        size_t up_count = order_targets(ctx);
        order_sources(ctx, up_count);
        bool moved = false;
        for (size_t k = 0; k < up_count && !moved; k++) {
            uint32_t source = s->d[k];
            if (by_bytes && !above_tolerance(ctx, s->b[source], up_count)) {
                break;
            }
            struct candidate m = best_move(ctx, source, by_bytes, up_count);
            if (m.region == RS_PD__NONE) {
                continue;
            }
            const struct rs_pd_region *r = &v->regions[m.region];
            struct rs_pd_instruction in;
            rs_pd__change(&in, RS_PD_ADD_VOTER, v->stores[m.target].id);
            snprintf(in.reason, sizeof in.reason, "move from store %u (%llu) to store %u (%llu)",
                     (unsigned)v->stores[source].id, (unsigned long long)s->b[source],
                     (unsigned)v->stores[m.target].id, (unsigned long long)s->b[m.target]);
            if (!rs_pd__emit(ctx, m.region, &in)) {
                return;
            }
            rs_pd__note_then_remove(ctx, r->id, v->stores[source].id);
            s->b[m.target] += weight(r, by_bytes);
            s->b[source] -= weight(r, by_bytes);
            moved = true;
        }
        if (!moved) {
            return;
        }
    }
}

/*
 * Repairs: a region with a voter on a store that is down gets a voter on the emptiest up store
 * that does not hold it, and then (finish_moves) loses the down one. A store the PD has not
 * heard from for three heartbeat periods is down; a removed store is one that stays down.
 */
static void repair_down(struct rs_pd__ctx *ctx, bool by_bytes)
{
    const struct rs_pd_view *v = ctx->view;
    uint64_t *metric = ctx->policy->scratch.b;
    uint32_t replicas = ctx->policy->params.replica_count;
    size_t up_count = order_targets(ctx);
    for (uint32_t i = 0; i < v->region_count && ctx->budget > 0; i++) {
        const struct rs_pd_region *r = &v->regions[i];
        if (r->voter_count > replicas || r->leader == RS_NODE_NONE ||
            !rs_pd__region_free(ctx, i)) {
            continue;
        }
        uint32_t down = RS_PD__NONE;
        for (size_t j = 0; j < r->voter_count && down == RS_PD__NONE; j++) {
            uint32_t at = rs_pd__store_index(v, r->voters[j]);
            down = at != RS_PD__NONE && !v->stores[at].up ? at : RS_PD__NONE;
        }
        uint32_t target = down != RS_PD__NONE ? target_for(ctx, r, up_count) : RS_PD__NONE;
        if (target == RS_PD__NONE) {
            continue;
        }
        struct rs_pd_instruction in;
        rs_pd__change(&in, RS_PD_ADD_VOTER, v->stores[target].id);
        snprintf(in.reason, sizeof in.reason, "repair: store %u is down, add store %u",
                 (unsigned)v->stores[down].id, (unsigned)v->stores[target].id);
        if (rs_pd__emit(ctx, i, &in)) {
            rs_pd__note_then_remove(ctx, r->id, v->stores[down].id);
            metric[target] += weight(r, by_bytes);
        }
    }
}

void rs_pd__region_count(struct rs_pd__ctx *ctx)
{
    measure(ctx, false);
    finish_moves(ctx, false);
    repair_down(ctx, false);
    start_moves(ctx, false);
}

/* Leader QPS (reads and writes both go to the leader) per store into b. */
static void measure_leader_qps(struct rs_pd__ctx *ctx)
{
    const struct rs_pd_view *v = ctx->view;
    uint64_t *qps = ctx->policy->scratch.b;
    memset(qps, 0, (v->store_count + 1) * sizeof *qps);
    for (size_t i = 0; i < v->region_count; i++) {
        uint32_t at = rs_pd__store_index(v, v->regions[i].leader);
        if (at != RS_PD__NONE) {
            qps[at] += v->regions[i].read_qps + v->regions[i].write_qps;
        }
    }
    const struct rs_pd_policy *p = ctx->policy;
    for (size_t i = 0; i < p->move_count; i++) {
        uint32_t region;
        if (p->moves[i].kind != RS_PD_TRANSFER_LEADER ||
            !rs_pd__move_inflight(ctx, &p->moves[i], &region)) {
            continue;
        }
        const struct rs_pd_region *r = &v->regions[region];
        take(qps, rs_pd__store_index(v, r->leader), r->read_qps + r->write_qps);
        give(qps, rs_pd__store_index(v, p->moves[i].store), r->read_qps + r->write_qps);
    }
}

/* The transfer away from source that leaves the lowest peak, or none that lowers it. */
static struct candidate best_transfer(const struct rs_pd__ctx *ctx, uint32_t source)
{
    const struct rs_pd_view *v = ctx->view;
    const uint64_t *qps = ctx->policy->scratch.b;
    struct candidate best = {RS_PD__NONE, RS_PD__NONE, UINT64_MAX};
    for (uint32_t i = 0; i < v->region_count; i++) {
        const struct rs_pd_region *r = &v->regions[i];
        uint64_t w = r->read_qps + r->write_qps;
        if (r->leader != v->stores[source].id || w == 0 || !rs_pd__region_free(ctx, i)) {
            continue;
        }
        for (size_t j = 0; j < r->voter_count; j++) {
            uint32_t t = rs_pd__store_index(v, r->voters[j]);
            if (t == source || !v->stores[t].up || qps[t] + w >= qps[source]) {
                continue;
            }
            uint64_t peak = qps[source] - w > qps[t] + w ? qps[source] - w : qps[t] + w;
            struct candidate c = {i, t, peak};
            if (better(qps, c, best)) {
                best = c;
            }
        }
    }
    return best;
}

static void balance_leader_qps(struct rs_pd__ctx *ctx)
{
    const struct rs_pd_view *v = ctx->view;
    struct rs_pd__scratch *s = &ctx->policy->scratch;
    measure_leader_qps(ctx);
    while (ctx->budget > 0) {
        size_t up_count = order_targets(ctx);
        if (up_count < 2) {
            return;
        }
        order_sources(ctx, up_count);
        uint32_t source = s->d[0];
        if (s->b[source] < ctx->policy->params.load_min_qps ||
            !above_tolerance(ctx, s->b[source], up_count)) {
            return;
        }
        struct candidate m = best_transfer(ctx, source);
        if (m.region == RS_PD__NONE) {
            return;
        }
        struct rs_pd_instruction in;
        rs_pd__transfer(&in, v->stores[m.target].id);
        snprintf(in.reason, sizeof in.reason, "leader qps: store %u %llu, store %u %llu",
                 (unsigned)v->stores[source].id, (unsigned long long)s->b[source],
                 (unsigned)v->stores[m.target].id, (unsigned long long)s->b[m.target]);
        if (!rs_pd__emit(ctx, m.region, &in)) {
            return;
        }
        uint64_t w = v->regions[m.region].read_qps + v->regions[m.region].write_qps;
        s->b[source] -= w;
        s->b[m.target] += w;
    }
}

/* load: hot leaders first (cheap: no data moves), then replicas by bytes. */
void rs_pd__load(struct rs_pd__ctx *ctx)
{
    balance_leader_qps(ctx);
    measure(ctx, true);
    finish_moves(ctx, true);
    start_moves(ctx, true);
}
