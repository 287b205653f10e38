/* RheaKV's two PD handlers, as RheaKV runs them: leader balance and the split judge. */
#include "core/pd/internal.h"

#include <stdio.h>
#include <string.h>

/*
 * RheaKV's tryToFindLaziestWorker order: not busy first, then fewer regions, fewer bytes
 * written, bytes read, keys written, keys read, then more available space. RheaKV keeps the
 * first of equals in peer order; here the lower store id wins, so the choice does not depend
 * on the order a caller listed the peers in.
 */
static int laziest_compare(const struct rs_pd_store *x, const struct rs_pd_store *y)
{
    uint64_t xs[7], ys[7];
    const struct rs_pd_store *s[2] = {x, y};
    uint64_t *k[2] = {xs, ys};
    for (size_t i = 0; i < 2; i++) {
        uint64_t available = s[i]->capacity_bytes > s[i]->size_bytes
                                 ? s[i]->capacity_bytes - s[i]->size_bytes
                                 : 0;
        k[i][0] = s[i]->busy ? 1 : 0;
        k[i][1] = s[i]->region_count;
        k[i][2] = s[i]->write_bytes_per_s;
        k[i][3] = s[i]->read_bytes_per_s;
        k[i][4] = s[i]->write_qps;
        k[i][5] = s[i]->read_qps;
        k[i][6] = UINT64_MAX - available;
    }
    for (size_t i = 0; i < 7; i++) {
        if (xs[i] != ys[i]) {
            return xs[i] < ys[i] ? -1 : 1;
        }
    }
    return x->id < y->id ? -1 : (x->id > y->id ? 1 : 0);
}

/*
 * The lazy workers of one region: its voters whose leader count is at most the table's
 * minimum, less those within one of the maximum; returns the laziest, or RS_PD__NONE. Sets
 * *any_lazy when a voter was at the minimum at all (RheaKV returns from the whole heartbeat
 * when none was).
 */
static uint32_t laziest_voter(const struct rs_pd__ctx *ctx, const struct rs_pd_region *r,
                              uint64_t min, uint64_t max, bool *any_lazy)
{
    const struct rs_pd_view *v = ctx->view;
    const uint64_t *leaders = ctx->policy->scratch.a;
    uint32_t best = RS_PD__NONE;
    *any_lazy = false;
    for (size_t i = 0; i < r->voter_count; i++) {
        uint32_t at = rs_pd__store_index(v, r->voters[i]);
        RS_ASSERT(at != RS_PD__NONE);
        if (leaders[at] > min) {
            continue;
        }
        *any_lazy = true;
        if (max - leaders[at] <= 1) {
            continue;
        }
        if (best == RS_PD__NONE || laziest_compare(&v->stores[at], &v->stores[best]) < 0) {
            best = at;
        }
    }
    return best;
}

/*
 * RegionLeaderBalanceHandler. The leader table's keys are the stores that sent a region
 * heartbeat (since creation or reset); its values are the view's leaders. Only a store at the
 * table's maximum (above one) gives a leader away, and only to a voter of one of the regions
 * in its heartbeat whose count is the table's minimum. The stall is RheaKV's: when the first
 * region of the heartbeat has no voter at the minimum the handler returns, and a busiest
 * store that shares no region with the least loaded one never gives anything away.
 */
void rs_pd__rhea_leader_balance(struct rs_pd__ctx *ctx)
{
    const struct rs_pd_view *v = ctx->view;
    const struct rs_pd_policy *p = ctx->policy;
    rs_pd__count_leaders(ctx);
    const uint64_t *leaders = p->scratch.a;
    uint64_t max = 0, min = UINT64_MAX;
    for (size_t i = 0; i < p->reporter_count; i++) {
        uint32_t at = rs_pd__store_index(v, p->reporters[i]);
        uint64_t count = at == RS_PD__NONE ? 0 : leaders[at];
        max = count > max ? count : max;
        min = count < min ? count : min;
    }
    uint32_t from = rs_pd__store_index(v, ctx->from);
    RS_ASSERT(from != RS_PD__NONE && p->reporter_count > 0);
    if (max <= 1 || leaders[from] < max) {
        return;
    }
    for (size_t i = 0; i < ctx->region_id_count; i++) {
        uint32_t region = rs_pd__region_index(v, ctx->region_ids[i]);
        bool any_lazy = false;
        uint32_t to = laziest_voter(ctx, &v->regions[region], min, max, &any_lazy);
        if (!any_lazy) {
            return;
        }
        if (to == RS_PD__NONE || !rs_pd__region_free(ctx, region)) {
            continue;
        }
        struct rs_pd_instruction in;
        rs_pd__transfer(&in, v->stores[to].id);
        snprintf(in.reason, sizeof in.reason, "store %u leads %llu (max), store %u %llu (min %llu)",
                 (unsigned)ctx->from, (unsigned long long)max, (unsigned)v->stores[to].id,
                 (unsigned long long)leaders[to], (unsigned long long)min);
        rs_pd__emit(ctx, region, &in);
        return; /* RheaKV: "only do one thing at a time" */
    }
}

/*
 * SplittingJudgeByApproximateKeysHandler. Splits stop once there are as many regions as
 * stores ("one store one region is perfect"). The model region is the one with the most keys
 * in the whole view (the lower id among equals; RheaKV takes whichever its hash map yields),
 * and it is split only when it has at least least_keys_on_split keys and its leader sent this
 * heartbeat. The store picks the key in the middle by count.
 */
void rs_pd__rhea_split_judge(struct rs_pd__ctx *ctx)
{
    const struct rs_pd_view *v = ctx->view;
    if (v->store_count == 0 || v->region_count >= v->store_count) {
        return;
    }
    uint32_t model = 0;
    for (uint32_t i = 1; i < v->region_count; i++) {
        if (v->regions[i].key_count > v->regions[model].key_count) {
            model = i;
        }
    }
    RS_ASSERT(v->region_count > 0 || model == 0);
    if (v->region_count == 0 ||
        v->regions[model].key_count < ctx->policy->params.least_keys_on_split) {
        return;
    }
    bool in_heartbeat = false;
    for (size_t i = 0; i < ctx->region_id_count; i++) {
        in_heartbeat = in_heartbeat || ctx->region_ids[i] == v->regions[model].id;
    }
    if (!in_heartbeat || !rs_pd__region_free(ctx, model)) {
        return;
    }
    struct rs_pd_instruction in;
    memset(&in, 0, sizeof in);
    in.kind = RS_PD_RANGE_SPLIT;
    snprintf(in.reason, sizeof in.reason, "%llu keys >= %llu, %zu regions < %zu stores",
             (unsigned long long)v->regions[model].key_count,
             (unsigned long long)ctx->policy->params.least_keys_on_split, v->region_count,
             v->store_count);
    rs_pd__emit(ctx, model, &in);
}
