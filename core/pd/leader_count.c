/* leader-count: leaders within one of the mean, moved along chains of shared regions. */
#include "core/pd/internal.h"

#include <stdio.h>
#include <string.h>

/*
 * Leaders on up stores are balanced when the largest and smallest counts differ by at most
 * one, which for integer counts is "every store within one of the mean". A transfer can only
 * go to a voter of the region, so the busiest store may share no region with the least loaded
 * one (RheaKV's stall). This handler searches breadth first from the busiest store: an edge
 * u -> w is a free region that u leads and w votes in. A path s -> ... -> t moves one leader
 * per hop; the stores in between give one and take one, so only s loses and t gains. It picks
 * the nearest t (fewest transfers) with count(t) <= count(s) - 2, the smallest count first,
 * then the lower id. Each move lowers the sum of squared counts, so repeated passes stop.
 *
 * Scratch: a = leaders per store from the view, then the BFS queue; b = counts with this
 * pass's moves; c = stores by count; d = BFS parent store; e = BFS parent region.
 */

static bool store_up(const struct rs_pd_view *v, uint32_t at)
{
    return at != RS_PD__NONE && v->stores[at].up;
}

/* Up stores by count, largest first, then by id; returns how many. */
static size_t order_sources(const struct rs_pd__ctx *ctx)
{
    const struct rs_pd_view *v = ctx->view;
    const uint64_t *count = ctx->policy->scratch.b;
    uint32_t *order = ctx->policy->scratch.c;
    size_t n = 0;
    for (uint32_t i = 0; i < v->store_count; i++) {
        if (!v->stores[i].up) {
            continue;
        }
        size_t at = n++;
        while (at > 0 && count[order[at - 1]] < count[i]) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = i;
    }
    return n;
}

/* Visits the regions u leads: each free one's unvisited up voters join the queue. */
static void expand(struct rs_pd__ctx *ctx, uint32_t u, size_t *tail)
{
    const struct rs_pd_view *v = ctx->view;
    struct rs_pd__scratch *s = &ctx->policy->scratch;
    for (uint32_t k = s->led_start[u]; k < s->led_start[u + 1]; k++) {
        uint32_t region = s->led[k];
        if (!rs_pd__region_free(ctx, region)) {
            continue;
        }
        const struct rs_pd_region *r = &v->regions[region];
        for (size_t j = 0; j < r->voter_count; j++) {
            uint32_t w = rs_pd__store_index(v, r->voters[j]);
            if (w == u || !store_up(v, w) || s->d[w] != RS_PD__NONE) {
                continue;
            }
            s->d[w] = u;
            s->e[w] = region;
            s->a[(*tail)++] = w;
        }
    }
}

/* The nearest store that can take a leader from source, or RS_PD__NONE. */
static uint32_t search(struct rs_pd__ctx *ctx, uint32_t source)
{
    const struct rs_pd_view *v = ctx->view;
    struct rs_pd__scratch *s = &ctx->policy->scratch;
    for (size_t i = 0; i < v->store_count; i++) {
        s->d[i] = RS_PD__NONE;
    }
    s->d[source] = source;
    size_t head = 0, tail = 0;
    s->a[tail++] = source;
    while (head < tail) {
        size_t level_end = tail;
        for (; head < level_end; head++) {
            expand(ctx, (uint32_t)s->a[head], &tail);
        }
        uint32_t best = RS_PD__NONE;
        for (size_t i = level_end; i < tail; i++) {
            uint32_t w = (uint32_t)s->a[i];
            if (s->b[w] + 2 <= s->b[source] && (best == RS_PD__NONE || s->b[w] < s->b[best] ||
                                                 (s->b[w] == s->b[best] && w < best))) {
                best = w;
            }
        }
        if (best != RS_PD__NONE) {
            return best;
        }
    }
    RS_ASSERT(tail <= v->store_count);
    return RS_PD__NONE;
}

static size_t hops(const struct rs_pd__scratch *s, uint32_t source, uint32_t target)
{
    size_t n = 0;
    for (uint32_t w = target; w != source; w = s->d[w]) {
        n++;
    }
    return n;
}

/* Emits the transfers of the path, the target's end first. */
static void emit_chain(struct rs_pd__ctx *ctx, uint32_t source, uint32_t target)
{
    const struct rs_pd_view *v = ctx->view;
    struct rs_pd__scratch *s = &ctx->policy->scratch;
    size_t length = hops(s, source, target);
    unsigned long long from_count = s->b[source], to_count = s->b[target];
    for (uint32_t w = target; w != source && ctx->budget > 0; w = s->d[w]) {
        struct rs_pd_instruction in;
        rs_pd__transfer(&in, v->stores[w].id);
        snprintf(in.reason, sizeof in.reason,
                 "chain of %zu from store %u (%llu) to store %u (%llu)", length,
                 (unsigned)v->stores[source].id, from_count, (unsigned)v->stores[target].id,
                 to_count);
        bool sent = rs_pd__emit(ctx, s->e[w], &in);
        RS_ASSERT(sent);
        s->b[w]++;
        s->b[s->d[w]]--;
    }
}

/* Transfers in flight count as done: their target has the leader, their source not. */
static void add_influence(struct rs_pd__ctx *ctx)
{
    const struct rs_pd_view *v = ctx->view;
    const struct rs_pd_policy *p = ctx->policy;
    uint64_t *count = p->scratch.b;
    for (size_t i = 0; i < p->move_count; i++) {
        uint32_t region;
        if (p->moves[i].kind != RS_PD_TRANSFER_LEADER ||
            !rs_pd__move_inflight(ctx, &p->moves[i], &region)) {
            continue;
        }
        uint32_t from = rs_pd__store_index(v, v->regions[region].leader);
        uint32_t to = rs_pd__store_index(v, p->moves[i].store);
        if (from != RS_PD__NONE && to != RS_PD__NONE && count[from] > 0) {
            count[from]--;
            count[to]++;
        }
    }
}

void rs_pd__leader_count(struct rs_pd__ctx *ctx)
{
    const struct rs_pd_view *v = ctx->view;
    struct rs_pd__scratch *s = &ctx->policy->scratch;
    rs_pd__count_leaders(ctx);
    memcpy(s->b, s->a, v->store_count * sizeof *s->b);
    add_influence(ctx);
    size_t budget_full = ctx->policy->params.tick_instructions_max;
    while (ctx->budget > 0) {
        size_t n = order_sources(ctx);
        if (n < 2) {
            return;
        }
        uint64_t min = s->b[s->c[n - 1]];
        bool moved = false;
        for (size_t i = 0; i < n && !moved && s->b[s->c[i]] >= min + 2; i++) {
            uint32_t source = s->c[i];
            uint32_t target = search(ctx, source);
            if (target == RS_PD__NONE) {
                continue;
            }
            /* A chain longer than what is left waits for the next pass, unless no pass could
             * hold it: then its target end goes first and later passes finish it. */
            size_t length = hops(s, source, target);
            if (length > ctx->budget && length <= budget_full) {
                return;
            }
            emit_chain(ctx, source, target);
            moved = true;
        }
        if (!moved) {
            return;
        }
    }
}
