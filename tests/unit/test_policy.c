/* Tests of the PD policies: each acts where it must and not where it must not, they converge,
 * the RheaKV stall is reproduced, and the same view always gives the same instructions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/pd/policy.h"

#define STORES_MAX  32
#define REGIONS_MAX 1024
#define OUT_MAX     64

struct tv {
    struct rs_pd_store stores[STORES_MAX];
    struct rs_pd_region regions[REGIONS_MAX];
    struct rs_pd_view view;
};

static struct tv g_tv;
static struct tv g_tv2;
static struct rs_pd_instruction g_items[OUT_MAX];

static struct tv *tv_init(struct tv *t, size_t store_count)
{
    memset(t, 0, sizeof *t);
    t->view.stores = t->stores;
    t->view.regions = t->regions;
    for (size_t i = 0; i < store_count; i++) {
        t->stores[i].id = (rs_node_id)(i + 1);
        t->stores[i].up = true;
    }
    t->view.store_count = store_count;
    return t;
}

/* Appends region id (ids must grow) with the given voters (0-terminated); the leader counts. */
static struct rs_pd_region *tv_region(struct tv *t, uint64_t id, rs_node_id leader, ...)
{
    assert_true(t->view.region_count < REGIONS_MAX);
    struct rs_pd_region *r = &t->regions[t->view.region_count++];
    memset(r, 0, sizeof *r);
    r->id = id;
    r->epoch = (struct rs_region_epoch){1, 1};
    r->leader = leader;
    va_list ap;
    va_start(ap, leader);
    for (rs_node_id v = va_arg(ap, rs_node_id); v != 0; v = va_arg(ap, rs_node_id)) {
        r->voters[r->voter_count++] = v;
        t->stores[v - 1].region_count++;
    }
    va_end(ap);
    if (leader != 0) {
        t->stores[leader - 1].leader_count++;
    }
    return r;
}

static struct rs_pd_out out_new(void)
{
    memset(g_items, 0, sizeof g_items);
    return (struct rs_pd_out){g_items, OUT_MAX, 0};
}

static struct rs_pd_policy *policy_new(const char *names, const struct rs_pd_params *params)
{
    struct rs_pd_params defaults;
    rs_pd_params_default(&defaults);
    struct rs_pd_policy *p = NULL;
    char message[256];
    assert_int_equal(rs_pd_policy_create(names, params != NULL ? params : &defaults, &p,
                                         message, sizeof message),
                     RS_OK);
    assert_non_null(p);
    return p;
}

/* Leaders per store from the regions (what the policies count). */
static void leader_counts(const struct tv *t, uint64_t *counts)
{
    memset(counts, 0, STORES_MAX * sizeof *counts);
    for (size_t i = 0; i < t->view.region_count; i++) {
        if (t->regions[i].leader != 0) {
            counts[t->regions[i].leader - 1]++;
        }
    }
}

static uint64_t spread(const uint64_t *counts, size_t n)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        lo = counts[i] < lo ? counts[i] : lo;
        hi = counts[i] > hi ? counts[i] : hi;
    }
    return hi - lo;
}

/* A store's heartbeat: the regions it leads, ascending. */
static enum rs_err heartbeat(struct rs_pd_policy *p, struct tv *t, rs_node_id store,
                             uint64_t now_ns, struct rs_pd_out *out)
{
    static uint64_t ids[REGIONS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < t->view.region_count; i++) {
        if (t->regions[i].leader == store) {
            ids[n++] = t->regions[i].id;
        }
    }
    return rs_pd_region_heartbeat(p, &t->view, store, ids, n, now_ns, out);
}

static void apply_all(struct tv *t, const struct rs_pd_out *out)
{
    for (size_t i = 0; i < out->count; i++) {
        assert_int_equal(rs_pd_apply(&t->view, &out->items[i]), RS_OK);
    }
}

/* ---- names ---- */

static void test_parse_names_and_errors(void **state)
{
    (void)state;
    uint32_t h[RS_PD_HANDLERS_MAX];
    size_t n = 0;
    char msg[RS_PD_MESSAGE_SIZE_MIN + 100];
    assert_int_equal(rs_pd_policy_parse("rhea-leader-balance, rhea-split-judge", h, &n, msg,
                                        sizeof msg),
                     RS_OK);
    assert_int_equal(n, 2);
    assert_string_equal(rs_pd_handler_name(h[0]), "rhea-leader-balance");
    assert_string_equal(rs_pd_handler_name(h[1]), "rhea-split-judge");

    assert_int_equal(rs_pd_policy_parse("leader-count,balance-everything", h, &n, msg,
                                        sizeof msg),
                     RS_EINVAL);
    assert_non_null(strstr(msg, "unknown policy \"balance-everything\""));
    for (size_t i = 0; i < rs_pd_handler_count(); i++) {
        assert_non_null(strstr(msg, rs_pd_handler_name(i)));
    }
    assert_int_equal(rs_pd_policy_parse("load,,none", h, &n, msg, sizeof msg), RS_EINVAL);
    assert_non_null(strstr(msg, "empty policy name"));
    assert_int_equal(rs_pd_policy_parse("load,load", h, &n, msg, sizeof msg), RS_EINVAL);
    assert_non_null(strstr(msg, "twice"));
    assert_int_equal(rs_pd_policy_parse("", h, &n, NULL, 0), RS_EINVAL);
    /* A tiny buffer is truncated, not overrun. */
    char tiny[8];
    assert_int_equal(rs_pd_policy_parse("x", h, &n, tiny, sizeof tiny), RS_EINVAL);
    assert_int_equal(strlen(tiny), 7);

    struct rs_pd_params params;
    rs_pd_params_default(&params);
    struct rs_pd_policy *p = (struct rs_pd_policy *)&params; /* must be reset to NULL */
    assert_int_equal(rs_pd_policy_create("nope", &params, &p, msg, sizeof msg), RS_EINVAL);
    assert_null(p);
}

static void test_none_never_acts(void **state)
{
    (void)state;
    struct tv *t = tv_init(&g_tv, 3);
    for (uint64_t id = 1; id <= 6; id++) {
        tv_region(t, id, 1, 1, 2, 3, 0)->key_count = 1000000;
    }
    struct rs_pd_policy *p = policy_new("none", NULL);
    assert_false(rs_pd_policy_uses_heartbeats(p));
    assert_false(rs_pd_policy_uses_ticks(p));
    struct rs_pd_out out = out_new();
    assert_int_equal(rs_pd_tick(p, &t->view, 0, &out), RS_OK);
    assert_int_equal(out.count, 0);
    assert_int_equal(heartbeat(p, t, 1, 0, &out), RS_OK);
    assert_int_equal(out.count, 0);
    rs_pd_policy_destroy(p);
}

/* ---- rhea-leader-balance ---- */

/* Store 1 leads 3 of 4 regions (all on stores 1..3); store 2 leads one; store 3 none and never
 * sends a heartbeat, so it is not in RheaKV's leader table. */
static struct tv *rhea_skew(void)
{
    struct tv *t = tv_init(&g_tv, 3);
    for (uint64_t id = 1; id <= 3; id++) {
        tv_region(t, id, 1, 1, 2, 3, 0);
    }
    tv_region(t, 4, 2, 1, 2, 3, 0);
    return t;
}

static void test_rhea_leader_balance_acts(void **state)
{
    (void)state;
    struct tv *t = rhea_skew();
    struct rs_pd_policy *p = policy_new("rhea-leader-balance", NULL);
    assert_true(rs_pd_policy_uses_heartbeats(p));
    assert_false(rs_pd_policy_uses_ticks(p));
    struct rs_pd_out out = out_new();
    assert_int_equal(heartbeat(p, t, 2, 0, &out), RS_OK);
    assert_int_equal(out.count, 0); /* store 2 is not the busiest */
    assert_int_equal(heartbeat(p, t, 1, 0, &out), RS_OK);
    assert_int_equal(out.count, 1); /* one thing at a time */
    assert_int_equal(out.items[0].kind, RS_PD_TRANSFER_LEADER);
    assert_int_equal(out.items[0].region_id, 1);
    /* Stores 2 (1 leader, the table's minimum) and 3 (absent: 0) are both lazy; with equal
     * stats the lower id wins. */
    assert_int_equal(out.items[0].store_id, 2);
    assert_int_equal(out.items[0].epoch.conf_ver, 1);
    rs_pd_policy_destroy(p);

    /* A busy store (splitting) is the last choice; then fewer regions wins. */
    t = rhea_skew();
    t->stores[1].busy = true;
    p = policy_new("rhea-leader-balance", NULL);
    assert_int_equal(heartbeat(p, t, 2, 0, &out), RS_OK);
    assert_int_equal(heartbeat(p, t, 1, 0, &out), RS_OK);
    assert_int_equal(out.count, 1);
    assert_int_equal(out.items[0].store_id, 3);
    rs_pd_policy_destroy(p);
}

static void test_rhea_leader_balance_holds_back(void **state)
{
    (void)state;
    struct rs_pd_out out = out_new();
    /* Balanced within one: 2, 1, 1. */
    struct tv *t = tv_init(&g_tv, 3);
    tv_region(t, 1, 1, 1, 2, 3, 0);
    tv_region(t, 2, 1, 1, 2, 3, 0);
    tv_region(t, 3, 2, 1, 2, 3, 0);
    tv_region(t, 4, 3, 1, 2, 3, 0);
    struct rs_pd_policy *p = policy_new("rhea-leader-balance", NULL);
    for (rs_node_id s = 1; s <= 3; s++) {
        assert_int_equal(heartbeat(p, t, s, 0, &out), RS_OK);
        assert_int_equal(out.count, 0);
    }
    rs_pd_policy_destroy(p);
    /* max <= 1: one leader each is never moved, even with a store leading nothing. */
    t = tv_init(&g_tv, 3);
    tv_region(t, 1, 1, 1, 2, 3, 0);
    p = policy_new("rhea-leader-balance", NULL);
    assert_int_equal(heartbeat(p, t, 1, 0, &out), RS_OK);
    assert_int_equal(out.count, 0);
    rs_pd_policy_destroy(p);
}

/*
 * The stall. Store 1 leads 3 regions on stores {1,2,3}; stores 2 and 3 lead 2 each and store
 * 4 leads 1, all on {2,3,4}. The table's minimum is store 4's 1, and no region of store 1 has
 * a voter at 1: RheaKV returns and nothing ever moves. leader-count goes through store 2.
 */
static struct tv *stall_view(struct tv *t)
{
    tv_init(t, 4);
    tv_region(t, 1, 1, 1, 2, 3, 0);
    tv_region(t, 2, 1, 1, 2, 3, 0);
    tv_region(t, 3, 1, 1, 2, 3, 0);
    tv_region(t, 4, 2, 2, 3, 4, 0);
    tv_region(t, 5, 2, 2, 3, 4, 0);
    tv_region(t, 6, 3, 2, 3, 4, 0);
    tv_region(t, 7, 3, 2, 3, 4, 0);
    tv_region(t, 8, 4, 2, 3, 4, 0);
    return t;
}

static void test_rhea_stall_and_leader_count_chain(void **state)
{
    (void)state;
    struct tv *t = stall_view(&g_tv);
    struct rs_pd_policy *p = policy_new("rhea-leader-balance,rhea-split-judge", NULL);
    struct rs_pd_out out = out_new();
    for (int round = 0; round < 5; round++) {
        for (rs_node_id s = 1; s <= 4; s++) {
            assert_int_equal(heartbeat(p, t, s, (uint64_t)round * 60 * RS_NS_PER_S, &out),
                             RS_OK);
            assert_int_equal(out.count, 0);
        }
    }
    rs_pd_policy_destroy(p);

    p = policy_new("leader-count", NULL);
    assert_int_equal(rs_pd_tick(p, &t->view, 0, &out), RS_OK);
    assert_int_equal(out.count, 2);
    /* The chain: region 4 from store 2 to store 4, then region 1 from store 1 to store 2. */
    assert_int_equal(out.items[0].region_id, 4);
    assert_int_equal(out.items[0].store_id, 4);
    assert_int_equal(out.items[1].region_id, 1);
    assert_int_equal(out.items[1].store_id, 2);
    apply_all(t, &out);
    uint64_t counts[STORES_MAX];
    leader_counts(t, counts);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(counts[i], 2);
    }
    assert_int_equal(rs_pd_tick(p, &t->view, RS_NS_PER_S, &out), RS_OK);
    assert_int_equal(out.count, 0);
    rs_pd_policy_destroy(p);
}

/* ---- rhea-split-judge ---- */

static void test_rhea_split_judge(void **state)
{
    (void)state;
    struct rs_pd_out out = out_new();
    struct tv *t = tv_init(&g_tv, 3);
    tv_region(t, 1, 1, 1, 2, 3, 0)->key_count = 9999;
    struct rs_pd_policy *p = policy_new("rhea-split-judge", NULL);
    assert_int_equal(heartbeat(p, t, 1, 0, &out), RS_OK);
    assert_int_equal(out.count, 0); /* below leastKeysOnSplit */
    t->regions[0].key_count = 10000;
    assert_int_equal(heartbeat(p, t, 1, 0, &out), RS_OK);
    assert_int_equal(out.count, 1);
    assert_int_equal(out.items[0].kind, RS_PD_RANGE_SPLIT);
    assert_int_equal(out.items[0].region_id, 1);
    assert_int_equal(out.items[0].split_key.size, 0); /* the store's midpoint */
    assert_int_equal(out.items[0].new_region_id, 0);  /* the caller allocates */
    rs_pd_policy_destroy(p);

    /* The model region is led by store 2: store 1's heartbeat does not split its own. */
    t = tv_init(&g_tv, 3);
    tv_region(t, 1, 1, 1, 2, 3, 0)->key_count = 50000;
    tv_region(t, 2, 2, 1, 2, 3, 0)->key_count = 60000;
    p = policy_new("rhea-split-judge", NULL);
    assert_int_equal(heartbeat(p, t, 1, 0, &out), RS_OK);
    assert_int_equal(out.count, 0);
    assert_int_equal(heartbeat(p, t, 2, 0, &out), RS_OK);
    assert_int_equal(out.count, 1);
    assert_int_equal(out.items[0].region_id, 2);
    /* As many regions as stores: no more splits, however large. */
    tv_region(t, 3, 3, 1, 2, 3, 0)->key_count = 1000000;
    assert_int_equal(heartbeat(p, t, 3, 10 * RS_NS_PER_S, &out), RS_OK);
    assert_int_equal(out.count, 0);
    rs_pd_policy_destroy(p);
}

/* Splits halve the model region until there are as many regions as stores; every split is of
 * the largest region, at or above the threshold, and nothing below it is ever split. */
static void test_rhea_split_judge_loop(void **state)
{
    (void)state;
    struct rs_pd_out out = out_new();
    struct tv *t = tv_init(&g_tv, 12);
    tv_region(t, 1, 1, 1, 2, 3, 0)->key_count = 100000;
    struct rs_pd_params params;
    rs_pd_params_default(&params);
    params.least_keys_on_split = 20000;
    struct rs_pd_policy *p = policy_new("rhea-split-judge", &params);
    uint64_t next_id = 1000000; /* RheaKV's PD-made ids start there */
    size_t splits = 0;
    for (int step = 0; step < 50; step++) {
        for (rs_node_id s = 1; s <= 3; s++) {
            assert_int_equal(heartbeat(p, t, s, (uint64_t)step * RS_NS_PER_S, &out), RS_OK);
            for (size_t i = 0; i < out.count; i++) {
                struct rs_pd_region *r = &t->regions[0];
                while (r->id != out.items[i].region_id) {
                    r++;
                }
                assert_true(r->key_count >= params.least_keys_on_split);
                for (size_t j = 0; j < t->view.region_count; j++) {
                    assert_true(t->regions[j].key_count <= r->key_count);
                }
                /* The split: the upper half becomes region next_id, led by the next store. */
                r->epoch.version++;
                uint64_t keys = r->key_count;
                r->key_count = keys / 2;
                struct rs_pd_region *child = tv_region(t, next_id++, (rs_node_id)(splits % 3 + 1),
                                                       1, 2, 3, 0);
                child->key_count = keys - keys / 2;
                splits++;
            }
        }
    }
    /* 100000 -> halves of 50000 -> 25000 (8 regions of 12500, then below 20000). */
    assert_int_equal(splits, 7);
    for (size_t j = 0; j < t->view.region_count; j++) {
        assert_true(t->regions[j].key_count < params.least_keys_on_split);
    }
    rs_pd_policy_destroy(p);
}

/* ---- leader-count ---- */

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

/* Regions on three distinct stores drawn from a fixed seed, led by store 1 where it is a voter
 * (a skewed start), else by the first voter. */
static void random_view(struct tv *t, size_t stores, size_t regions, uint64_t seed)
{
    tv_init(t, stores);
    for (uint64_t id = 1; id <= regions; id++) {
        rs_node_id v[3];
        v[0] = (rs_node_id)(lcg(&seed) % stores + 1);
        do {
            v[1] = (rs_node_id)(lcg(&seed) % stores + 1);
        } while (v[1] == v[0]);
        do {
            v[2] = (rs_node_id)(lcg(&seed) % stores + 1);
        } while (v[2] == v[0] || v[2] == v[1]);
        rs_node_id leader = (v[0] == 1 || v[1] == 1 || v[2] == 1) ? 1 : v[0];
        struct rs_pd_region *r = tv_region(t, id, leader, v[0], v[1], v[2], 0);
        r->key_count = lcg(&seed) % 100000;
        r->size_bytes = (lcg(&seed) % 64 + 1) << 20;
        r->read_qps = lcg(&seed) % 500;
        r->write_qps = lcg(&seed) % 200;
    }
}

static void test_leader_count_acts_and_holds(void **state)
{
    (void)state;
    struct rs_pd_out out = out_new();
    struct tv *t = tv_init(&g_tv, 3);
    for (uint64_t id = 1; id <= 3; id++) {
        tv_region(t, id, 1, 1, 2, 3, 0);
    }
    struct rs_pd_policy *p = policy_new("leader-count", NULL);
    assert_false(rs_pd_policy_uses_heartbeats(p));
    assert_true(rs_pd_policy_uses_ticks(p));
    assert_int_equal(rs_pd_tick(p, &t->view, 0, &out), RS_OK);
    assert_int_equal(out.count, 2);
    assert_int_equal(out.items[0].store_id, 2);
    assert_int_equal(out.items[1].store_id, 3);
    apply_all(t, &out);
    assert_int_equal(rs_pd_tick(p, &t->view, 1, &out), RS_OK);
    assert_int_equal(out.count, 0);
    /* A down store takes nothing, and its leaders do not count: stores 1 and 2 lead one
     * each, store 3 (down) one. */
    t->stores[2].up = false;
    assert_int_equal(rs_pd_tick(p, &t->view, 2, &out), RS_OK);
    assert_int_equal(out.count, 0);
    rs_pd_policy_destroy(p);
}

static void test_leader_count_converges(void **state)
{
    (void)state;
    struct tv *t = &g_tv;
    random_view(t, 10, 400, 7);
    struct rs_pd_policy *p = policy_new("leader-count", NULL);
    struct rs_pd_out out = out_new();
    uint64_t counts[STORES_MAX];
    leader_counts(t, counts);
    assert_true(spread(counts, 10) > 50);
    int step = 0;
    for (; step < 1000; step++) {
        assert_int_equal(rs_pd_tick(p, &t->view, (uint64_t)step * RS_NS_PER_S, &out), RS_OK);
        if (out.count == 0) {
            break;
        }
        apply_all(t, &out);
    }
    assert_true(step < 1000);
    leader_counts(t, counts);
    assert_true(spread(counts, 10) <= 1);
    rs_pd_policy_destroy(p);
}

/* ---- region-count ---- */

static void replica_counts(const struct tv *t, uint64_t *counts)
{
    memset(counts, 0, STORES_MAX * sizeof *counts);
    for (size_t i = 0; i < t->view.region_count; i++) {
        for (size_t j = 0; j < t->regions[i].voter_count; j++) {
            counts[t->regions[i].voters[j] - 1]++;
        }
    }
}

static void test_region_count_add_then_remove(void **state)
{
    (void)state;
    struct rs_pd_out out = out_new();
    struct tv *t = tv_init(&g_tv, 4);
    tv_region(t, 1, 1, 1, 2, 3, 0);
    tv_region(t, 2, 1, 1, 2, 3, 0);
    struct rs_pd_params params;
    rs_pd_params_default(&params);
    params.tick_instructions_max = 1;
    struct rs_pd_policy *p = policy_new("region-count", &params);
    assert_int_equal(rs_pd_tick(p, &t->view, 0, &out), RS_OK);
    assert_int_equal(out.count, 1);
    /* Stores 1..3 hold 2 each, store 4 none; store 1 leads both, so the source is store 2. */
    assert_int_equal(out.items[0].kind, RS_PD_CHANGE_PEER);
    assert_int_equal(out.items[0].change, RS_PD_ADD_VOTER);
    assert_int_equal(out.items[0].region_id, 1);
    assert_int_equal(out.items[0].store_id, 4);
    /* Not applied yet: the region is in flight, and the other region would make store 4
     * hold more than its share. */
    assert_int_equal(rs_pd_tick(p, &t->view, 1, &out), RS_OK);
    assert_int_equal(out.count, 0);
    struct rs_pd_instruction add = g_items[0];
    assert_int_equal(rs_pd_apply(&t->view, &add), RS_OK);
    assert_int_equal(rs_pd_apply(&t->view, &add), RS_EEPOCH); /* out of date now */
    assert_int_equal(rs_pd_tick(p, &t->view, 2, &out), RS_OK);
    assert_int_equal(out.count, 1);
    assert_int_equal(out.items[0].change, RS_PD_REMOVE_PEER);
    assert_int_equal(out.items[0].region_id, 1);
    assert_int_equal(out.items[0].store_id, 2);
    assert_int_equal(out.items[0].epoch.conf_ver, 2);
    apply_all(t, &out);
    assert_int_equal(rs_pd_tick(p, &t->view, 3, &out), RS_OK);
    assert_int_equal(out.count, 0); /* 2, 1, 2, 1 */
    rs_pd_policy_destroy(p);
}

/* A voter on a down store: region-count adds one on an up store that lacks the region, then
 * removes the down one. */
static void test_region_count_repairs_down_store(void **state)
{
    (void)state;
    struct rs_pd_out out = out_new();
    struct tv *t = tv_init(&g_tv, 4);
    tv_region(t, 1, 1, 1, 2, 3, 0);
    tv_region(t, 2, 2, 2, 3, 4, 0);
    tv_region(t, 3, 3, 3, 4, 1, 0);
    tv_region(t, 4, 4, 4, 1, 2, 0);
    t->view.stores[2].up = false; /* store 3 */
    struct rs_pd_params params;
    rs_pd_params_default(&params);
    params.tick_instructions_max = 1;
    struct rs_pd_policy *p = policy_new("region-count", &params);
    assert_int_equal(rs_pd_tick(p, &t->view, 0, &out), RS_OK);
    assert_int_equal(out.count, 1);
    assert_int_equal(out.items[0].change, RS_PD_ADD_VOTER);
    assert_int_equal(out.items[0].region_id, 1); /* the first region with a voter on store 3 */
    assert_int_equal(out.items[0].store_id, 4);  /* the only up store without it */
    struct rs_pd_instruction add = g_items[0];
    assert_int_equal(rs_pd_apply(&t->view, &add), RS_OK);
    assert_int_equal(rs_pd_tick(p, &t->view, 1, &out), RS_OK);
    assert_int_equal(out.count, 1);
    assert_int_equal(out.items[0].change, RS_PD_REMOVE_PEER);
    assert_int_equal(out.items[0].region_id, 1);
    assert_int_equal(out.items[0].store_id, 3); /* the down one, not the fullest */
    rs_pd_policy_destroy(p);
}

static void test_region_count_converges(void **state)
{
    (void)state;
    struct tv *t = tv_init(&g_tv, 8);
    uint64_t seed = 3;
    /* 90 regions on stores 1..5; stores 6..8 join empty. */
    for (uint64_t id = 1; id <= 90; id++) {
        rs_node_id a = (rs_node_id)(lcg(&seed) % 5 + 1);
        rs_node_id b = (rs_node_id)(a % 5 + 1);
        rs_node_id c = (rs_node_id)(b % 5 + 1);
        tv_region(t, id, a, a, b, c, 0);
    }
    struct rs_pd_policy *p = policy_new("region-count", NULL);
    struct rs_pd_out out = out_new();
    int step = 0;
    for (; step < 1000; step++) {
        assert_int_equal(rs_pd_tick(p, &t->view, (uint64_t)step * RS_NS_PER_S, &out), RS_OK);
        if (out.count == 0) {
            break;
        }
        apply_all(t, &out);
    }
    assert_true(step < 1000);
    uint64_t counts[STORES_MAX];
    replica_counts(t, counts);
    assert_true(spread(counts, 8) <= 1);
    uint64_t total = 0;
    for (size_t i = 0; i < 8; i++) {
        total += counts[i];
        assert_int_equal(counts[i], t->stores[i].region_count);
    }
    assert_int_equal(total, 270);
    for (size_t i = 0; i < t->view.region_count; i++) {
        assert_int_equal(t->regions[i].voter_count, 3);
        assert_int_not_equal(t->regions[i].leader, 0);
    }
    rs_pd_policy_destroy(p);
}

/* ---- load ---- */

static void test_load_moves_hot_leader(void **state)
{
    (void)state;
    struct rs_pd_out out = out_new();
    struct tv *t = tv_init(&g_tv, 3);
    tv_region(t, 1, 1, 1, 2, 3, 0)->read_qps = 3000;
    tv_region(t, 2, 1, 1, 2, 3, 0)->read_qps = 3000;
    tv_region(t, 3, 2, 1, 2, 3, 0)->read_qps = 2900;
    tv_region(t, 4, 3, 1, 2, 3, 0)->read_qps = 100;
    struct rs_pd_policy *p = policy_new("load", NULL);
    assert_int_equal(rs_pd_tick(p, &t->view, 0, &out), RS_OK);
    assert_int_equal(out.count, 1);
    assert_int_equal(out.items[0].kind, RS_PD_TRANSFER_LEADER);
    assert_int_equal(out.items[0].region_id, 1);
    assert_int_equal(out.items[0].store_id, 3); /* to 3100 there, 3000 left here */
    apply_all(t, &out);
    assert_int_equal(rs_pd_tick(p, &t->view, 1, &out), RS_OK);
    assert_int_equal(out.count, 0); /* 3000, 2900, 3100: within 5% of the mean */
    rs_pd_policy_destroy(p);

    /* Below load_min_qps nothing is hot. */
    t = tv_init(&g_tv, 3);
    tv_region(t, 1, 1, 1, 2, 3, 0)->read_qps = 5;
    tv_region(t, 2, 1, 1, 2, 3, 0)->read_qps = 4;
    p = policy_new("load", NULL);
    assert_int_equal(rs_pd_tick(p, &t->view, 0, &out), RS_OK);
    assert_int_equal(out.count, 0);
    rs_pd_policy_destroy(p);
}

static void test_load_moves_bytes(void **state)
{
    (void)state;
    struct rs_pd_out out = out_new();
    struct tv *t = tv_init(&g_tv, 4);
    tv_region(t, 1, 2, 1, 2, 3, 0)->size_bytes = 300;
    tv_region(t, 2, 3, 1, 2, 3, 0)->size_bytes = 300;
    tv_region(t, 3, 4, 2, 3, 4, 0)->size_bytes = 100;
    struct rs_pd_params params;
    rs_pd_params_default(&params);
    params.tick_instructions_max = 1;
    struct rs_pd_policy *p = policy_new("load", &params);
    assert_int_equal(rs_pd_tick(p, &t->view, 0, &out), RS_OK);
    assert_int_equal(out.count, 1);
    /* Bytes per store: 600, 700, 700, 100 (mean 525). Store 2 gives region 2 (which it does
     * not lead) to store 4: 400 and 400. Region 3 to store 1 would only move the peak. */
    assert_int_equal(out.items[0].change, RS_PD_ADD_VOTER);
    assert_int_equal(out.items[0].region_id, 2);
    assert_int_equal(out.items[0].store_id, 4);
    apply_all(t, &out);
    assert_int_equal(rs_pd_tick(p, &t->view, 1, &out), RS_OK);
    assert_int_equal(out.count, 1);
    assert_int_equal(out.items[0].change, RS_PD_REMOVE_PEER);
    assert_int_equal(out.items[0].region_id, 2);
    assert_int_equal(out.items[0].store_id, 2);
    apply_all(t, &out);
    /* 600, 400, 700, 400: store 3 gives region 1 to store 4? 400 + 300 = 700, no gain. */
    assert_int_equal(rs_pd_tick(p, &t->view, 2, &out), RS_OK);
    assert_int_equal(out.count, 0);
    rs_pd_policy_destroy(p);
}

/* ---- limits, errors, determinism ---- */

static void test_inflight_timeout_and_cooldown(void **state)
{
    (void)state;
    struct rs_pd_out out = out_new();
    struct tv *t = tv_init(&g_tv, 2);
    tv_region(t, 1, 1, 1, 2, 0);
    tv_region(t, 2, 1, 1, 2, 0);
    tv_region(t, 3, 1, 1, 2, 0);
    struct rs_pd_params params;
    rs_pd_params_default(&params);
    params.inflight_timeout_ns = 10 * RS_NS_PER_S;
    params.region_cooldown_ns = 0;
    struct rs_pd_policy *p = policy_new("leader-count", &params);
    assert_int_equal(rs_pd_tick(p, &t->view, 0, &out), RS_OK);
    assert_int_equal(out.count, 1);
    assert_int_equal(out.items[0].region_id, 1);
    /* Lost instruction: the pass counts region 1's move as done (2 and 1), so nothing more
     * until the move times out; then region 1 is sent again. */
    assert_int_equal(rs_pd_tick(p, &t->view, 5 * RS_NS_PER_S, &out), RS_OK);
    assert_int_equal(out.count, 0);
    assert_int_equal(rs_pd_tick(p, &t->view, 11 * RS_NS_PER_S, &out), RS_OK);
    assert_int_equal(out.count, 1);
    assert_int_equal(out.items[0].region_id, 1);
    rs_pd_policy_destroy(p);

    /* Cool-down: after a move, the region is left alone even though it took effect. */
    t = tv_init(&g_tv, 2);
    tv_region(t, 1, 1, 1, 2, 0);
    tv_region(t, 2, 1, 1, 2, 0);
    params.inflight_timeout_ns = 0;
    params.region_cooldown_ns = 60 * RS_NS_PER_S;
    p = policy_new("leader-count", &params);
    assert_int_equal(rs_pd_tick(p, &t->view, 0, &out), RS_OK);
    assert_int_equal(out.count, 1);
    assert_int_equal(out.items[0].region_id, 1);
    apply_all(t, &out);
    t->regions[1].leader = 2; /* region 2 moved by hand: now 0 and 2 */
    t->stores[0].leader_count = 0;
    assert_int_equal(rs_pd_tick(p, &t->view, 30 * RS_NS_PER_S, &out), RS_OK);
    assert_int_equal(out.count, 1);
    assert_int_equal(out.items[0].region_id, 2); /* region 1 is cooling down */
    rs_pd_policy_destroy(p);
}

static void test_budget_and_capacity(void **state)
{
    (void)state;
    struct tv *t = tv_init(&g_tv, 4);
    for (uint64_t id = 1; id <= 40; id++) {
        tv_region(t, id, 1, 1, 2, 3, 4, 0);
    }
    struct rs_pd_params params;
    rs_pd_params_default(&params);
    params.tick_instructions_max = 6;
    struct rs_pd_policy *p = policy_new("leader-count", &params);
    struct rs_pd_out out = out_new();
    assert_int_equal(rs_pd_tick(p, &t->view, 0, &out), RS_OK);
    assert_int_equal(out.count, 6);
    struct rs_pd_out small = {g_items, 2, 0};
    assert_int_equal(rs_pd_tick(p, &t->view, 1, &small), RS_OK);
    assert_int_equal(small.count, 2);
    rs_pd_policy_destroy(p);
}

static void test_bad_views_are_refused(void **state)
{
    (void)state;
    struct rs_pd_out out = out_new();
    struct rs_pd_policy *p = policy_new("rhea-leader-balance,leader-count", NULL);
    struct tv *t = tv_init(&g_tv, 3);
    tv_region(t, 1, 1, 1, 2, 3, 0);
    tv_region(t, 2, 2, 1, 2, 3, 0);
    assert_int_equal(rs_pd_view_check(&t->view), RS_OK);
    t->stores[2].id = 2; /* not increasing */
    assert_int_equal(rs_pd_tick(p, &t->view, 0, &out), RS_EINVAL);
    t->stores[2].id = 3;
    t->regions[1].leader = 4; /* not a voter */
    assert_int_equal(rs_pd_tick(p, &t->view, 0, &out), RS_EINVAL);
    t->regions[1].leader = 2;
    t->regions[1].voters[2] = 9; /* unknown store */
    assert_int_equal(rs_pd_tick(p, &t->view, 0, &out), RS_EINVAL);
    t->regions[1].voters[2] = 1; /* twice */
    assert_int_equal(rs_pd_view_check(&t->view), RS_EINVAL);
    t->regions[1].voters[2] = 3;
    t->regions[1].voter_count = 200;
    assert_int_equal(rs_pd_view_check(&t->view), RS_EINVAL);
    t->regions[1].voter_count = 3;
    uint64_t ids[] = {2};
    assert_int_equal(rs_pd_region_heartbeat(p, &t->view, 1, ids, 1, 0, &out), RS_EINVAL);
    assert_int_equal(rs_pd_region_heartbeat(p, &t->view, 7, NULL, 0, 0, &out), RS_EINVAL);
    uint64_t missing[] = {5};
    assert_int_equal(rs_pd_region_heartbeat(p, &t->view, 2, missing, 1, 0, &out), RS_EINVAL);
    assert_int_equal(rs_pd_region_heartbeat(p, &t->view, 2, ids, 1, 0, &out), RS_OK);
    assert_int_equal(out.count, 0);
    /* Instructions that do not fit are refused, not applied. */
    struct rs_pd_instruction in;
    memset(&in, 0, sizeof in);
    in.kind = RS_PD_TRANSFER_LEADER;
    in.region_id = 1;
    in.epoch = (struct rs_region_epoch){1, 1};
    in.store_id = 1; /* already the leader */
    assert_int_equal(rs_pd_apply(&t->view, &in), RS_EINVAL);
    in.store_id = 8;
    assert_int_equal(rs_pd_apply(&t->view, &in), RS_ENOTFOUND);
    in.kind = RS_PD_CHANGE_PEER;
    in.change = RS_PD_ADD_VOTER;
    in.store_id = 2; /* already there */
    assert_int_equal(rs_pd_apply(&t->view, &in), RS_EINVAL);
    in.kind = RS_PD_RANGE_SPLIT;
    assert_int_equal(rs_pd_apply(&t->view, &in), RS_EINVAL);
    rs_pd_policy_destroy(p);
}

static void test_learner_change_and_format(void **state)
{
    (void)state;
    struct tv *t = tv_init(&g_tv, 4);
    tv_region(t, 5, 1, 1, 2, 3, 0);
    struct rs_pd_instruction in;
    memset(&in, 0, sizeof in);
    in.kind = RS_PD_CHANGE_PEER;
    in.change = RS_PD_ADD_LEARNER;
    in.region_id = 5;
    in.epoch = (struct rs_region_epoch){1, 1};
    in.store_id = 4;
    in.handler_index = 3;
    snprintf(in.reason, sizeof in.reason, "by hand");
    char text[256];
    rs_pd_instruction_format(&in, text, sizeof text);
    assert_string_equal(text, "change-peer add-learner region=5 epoch=1.1 store=4 "
                              "by=region-count: by hand");
    assert_int_equal(rs_pd_apply(&t->view, &in), RS_OK);
    assert_int_equal(t->regions[0].learner_count, 1);
    assert_int_equal(t->stores[3].region_count, 1);
    in.change = RS_PD_PROMOTE_LEARNER;
    in.epoch.conf_ver = 2;
    assert_int_equal(rs_pd_apply(&t->view, &in), RS_OK);
    assert_int_equal(t->regions[0].voter_count, 4);
    assert_int_equal(t->regions[0].learner_count, 0);
    assert_int_equal(t->regions[0].voters[3], 4);
    in.change = RS_PD_REMOVE_PEER;
    in.store_id = 1; /* the leader steps down */
    in.epoch.conf_ver = 3;
    assert_int_equal(rs_pd_apply(&t->view, &in), RS_OK);
    assert_int_equal(t->regions[0].leader, 0);
    assert_int_equal(t->stores[0].leader_count, 0);
    in.kind = RS_PD_TRANSFER_LEADER;
    in.store_id = 3;
    rs_pd_instruction_format(&in, text, sizeof text);
    assert_string_equal(text, "transfer-leader region=5 epoch=3.1 to=3 by=region-count: by hand");
}

/* Runs a pipeline on a view for `steps` rounds (heartbeats from every store, then a tick),
 * applying what it says, and folds every instruction's text into a digest. */
static uint64_t run_digest(struct tv *t, const char *names, int steps)
{
    struct rs_pd_policy *p = policy_new(names, NULL);
    struct rs_pd_out out = out_new();
    uint64_t digest = 1469598103934665603ull;
    char text[256];
    for (int step = 0; step < steps; step++) {
        uint64_t now = (uint64_t)step * 60 * RS_NS_PER_S;
        for (size_t s = 0; s <= t->view.store_count; s++) {
            enum rs_err err = s < t->view.store_count
                                  ? heartbeat(p, t, t->stores[s].id, now, &out)
                                  : rs_pd_tick(p, &t->view, now, &out);
            assert_int_equal(err, RS_OK);
            for (size_t i = 0; i < out.count; i++) {
                int n = rs_pd_instruction_format(&out.items[i], text, sizeof text);
                for (int k = 0; k < n && k < (int)sizeof text; k++) {
                    digest = (digest ^ (uint8_t)text[k]) * 1099511628211ull;
                }
                if (out.items[i].kind != RS_PD_RANGE_SPLIT) {
                    assert_int_equal(rs_pd_apply(&t->view, &out.items[i]), RS_OK);
                }
            }
        }
    }
    rs_pd_policy_destroy(p);
    return digest;
}

static void test_determinism(void **state)
{
    (void)state;
    static const char *const pipelines[] = {
        "rhea-leader-balance,rhea-split-judge", "leader-count", "region-count",
        "load", "leader-count,region-count,load"};
    for (size_t i = 0; i < sizeof pipelines / sizeof pipelines[0]; i++) {
        random_view(&g_tv, 12, 300, 11);
        random_view(&g_tv2, 12, 300, 11);
        uint64_t a = run_digest(&g_tv, pipelines[i], 20);
        uint64_t b = run_digest(&g_tv2, pipelines[i], 20);
        assert_int_equal(a, b);
        assert_memory_equal(g_tv.regions, g_tv2.regions, sizeof g_tv.regions);
        assert_memory_equal(g_tv.stores, g_tv2.stores, sizeof g_tv.stores);
    }
    /* One view, one call, byte for byte (the structs are zeroed before they are filled). */
    random_view(&g_tv, 12, 300, 5);
    struct rs_pd_policy *p1 = policy_new("leader-count", NULL);
    struct rs_pd_policy *p2 = policy_new("leader-count", NULL);
    static struct rs_pd_instruction first[OUT_MAX];
    struct rs_pd_out out = out_new();
    assert_int_equal(rs_pd_tick(p1, &g_tv.view, 0, &out), RS_OK);
    assert_true(out.count > 0);
    memcpy(first, g_items, sizeof first);
    size_t count = out.count;
    out = out_new();
    assert_int_equal(rs_pd_tick(p2, &g_tv.view, 0, &out), RS_OK);
    assert_int_equal(out.count, count);
    assert_memory_equal(first, g_items, count * sizeof first[0]);
    rs_pd_policy_destroy(p1);
    rs_pd_policy_destroy(p2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_names_and_errors),
        cmocka_unit_test(test_none_never_acts),
        cmocka_unit_test(test_rhea_leader_balance_acts),
        cmocka_unit_test(test_rhea_leader_balance_holds_back),
        cmocka_unit_test(test_rhea_stall_and_leader_count_chain),
        cmocka_unit_test(test_rhea_split_judge),
        cmocka_unit_test(test_rhea_split_judge_loop),
        cmocka_unit_test(test_leader_count_acts_and_holds),
        cmocka_unit_test(test_leader_count_converges),
        cmocka_unit_test(test_region_count_add_then_remove),
        cmocka_unit_test(test_region_count_repairs_down_store),
        cmocka_unit_test(test_region_count_converges),
        cmocka_unit_test(test_load_moves_hot_leader),
        cmocka_unit_test(test_load_moves_bytes),
        cmocka_unit_test(test_inflight_timeout_and_cooldown),
        cmocka_unit_test(test_budget_and_capacity),
        cmocka_unit_test(test_bad_views_are_refused),
        cmocka_unit_test(test_learner_change_and_format),
        cmocka_unit_test(test_determinism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
