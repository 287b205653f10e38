/* Tests of stores and regions: the envelope, file prefixes, several regions on one store, and
 * range splits through the raft log (applied everywhere, surviving crashes, reaching a replica
 * that missed the split by snapshot). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/store/region.h"
#include "core/store/store.h"
#include "core/wire/frame.h"
#include "sim/world.h"

#define MS RS_NS_PER_MS
#define S  RS_NS_PER_S

static struct rs_bytes text(const char *s)
{
    return (struct rs_bytes){(const uint8_t *)s, strlen(s)};
}

/* ---- the envelope and names ---- */

static void test_envelope_round_trip_and_damage(void **state)
{
    (void)state;
    uint8_t inner[64];
    size_t inner_size = rs_frame_encode(inner, sizeof inner, RS_MSG_KV_REQUEST,
                                        (const uint8_t *)"hello", 5);
    assert_true(inner_size > 0);
    uint8_t buf[128];
    memcpy(buf + rs_envelope_inner_offset(), inner, inner_size);
    struct rs_region_epoch epoch = {.conf_ver = 3, .version = 7};
    size_t size = rs_envelope_seal(buf, 42, epoch, inner_size);
    assert_int_equal(size, rs_envelope_size(inner_size));
    struct rs_envelope env;
    assert_int_equal(rs_envelope_decode(buf, size, &env), RS_OK);
    assert_int_equal(env.region_id, 42);
    assert_true(rs_region_epoch_equal(env.epoch, epoch));
    assert_int_equal(env.inner.size, inner_size);
    assert_memory_equal(env.inner.data, inner, inner_size);
    /* any flipped bit is caught by the envelope's checksum */
    for (size_t bit = 0; bit < size * 8; bit += 7) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(rs_envelope_decode(buf, size, &env), RS_ECORRUPT);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(rs_envelope_decode(buf, size - 1, &env), RS_ECORRUPT);
    /* a plain frame is not an envelope */
    assert_int_equal(rs_envelope_decode(inner, inner_size, &env), RS_ECORRUPT);
}

static void test_prefix_and_ranges(void **state)
{
    (void)state;
    char prefix[RS_STORE_PREFIX_SIZE + 1];
    rs_store_prefix(0x2a, prefix);
    assert_string_equal(prefix, "r000000000000002a-");
    struct rs_region r;
    rs_region_init(&r, 9, text("k3"), text("k7"));
    assert_false(rs_region_contains(&r, text("k2")));
    assert_true(rs_region_contains(&r, text("k3")));
    assert_true(rs_region_contains(&r, text("k69")));
    assert_false(rs_region_contains(&r, text("k7")));
    rs_region_set_range(&r, (struct rs_bytes){NULL, 0}, (struct rs_bytes){NULL, 0});
    assert_true(rs_region_contains(&r, text("")));
    assert_true(rs_region_contains(&r, text("zzz")));
    /* the byte form reads back, and a range with start >= end is refused */
    rs_region_set_range(&r, text("a"), text("b"));
    r.epoch = (struct rs_region_epoch){.conf_ver = 4, .version = 5};
    uint8_t buf[64];
    struct rs_writer w;
    rs_writer_init(&w, buf, sizeof buf);
    rs_region_write(&w, &r);
    assert_false(w.overflow);
    assert_int_equal(w.pos, rs_region_size(&r));
    struct rs_region back = {0};
    struct rs_reader rd;
    rs_reader_init(&rd, buf, w.pos);
    rs_region_read(&rd, &back);
    assert_false(rd.error);
    assert_int_equal(back.id, 9);
    assert_int_equal(back.epoch.version, 5);
    assert_memory_equal(back.start, "a", 1);
    rs_region_set_range(&r, text("b"), text("a"));
    rs_writer_init(&w, buf, sizeof buf);
    rs_region_write(&w, &r);
    rs_reader_init(&rd, buf, w.pos);
    rs_region_read(&rd, &back);
    assert_true(rd.error);
    rs_region_free(&back);
    rs_region_free(&r);
}

/* ---- worlds with regions ---- */

struct fixture {
    struct rs_world world;
    struct rs_trace trace;
};

static void config(struct rs_world_config *c, uint64_t seed, const struct rs_region *regions,
                   uint32_t region_count)
{
    memset(c, 0, sizeof *c);
    c->seed = seed;
    c->node_count = 3;
    c->raft.election_timeout_ns = 300 * MS;
    c->raft.heartbeat_ns = 50 * MS;
    c->raft.pre_vote = true;
    c->raft.max_inflight = 64;
    c->raft.batch_entries = 64;
    c->raft.batch_bytes = 64 * 1024;
    c->raft.proposal_queue = 1024;
    c->net = (struct rs_link_params){.latency_min_ns = 1 * MS, .latency_max_ns = 3 * MS};
    c->disk = (struct rs_disk_params){.write_latency_min_ns = 50 * RS_NS_PER_US,
                                      .write_latency_max_ns = 200 * RS_NS_PER_US,
                                      .sync_latency_min_ns = 500 * RS_NS_PER_US,
                                      .sync_latency_max_ns = 1 * MS,
                                      .read_latency_min_ns = 50 * RS_NS_PER_US,
                                      .read_latency_max_ns = 50 * RS_NS_PER_US,
                                      .block_size = 512,
                                      .torn_keep_ppm = 500000};
    c->workload = (struct rs_workload_config){.client_count = 4,
                                              .key_count = 20,
                                              .request_timeout_ns = 200 * MS,
                                              .op_timeout_ns = 2 * S,
                                              .value_size = 16};
    c->workload.mix[RS_KV_GET] = 1;
    c->workload.mix[RS_KV_PUT] = 2;
    c->fault_phase_ns = 1000 * S;
    c->liveness_ns = 10 * S;
    c->regions = regions;
    c->region_count = region_count;
}

static struct rs_world *open_world(struct fixture *f, const struct rs_world_config *c)
{
    memset(f, 0, sizeof *f);
    rs_trace_init(&f->trace, NULL);
    assert_int_equal(rs_world_init(&f->world, c, &f->trace), RS_OK);
    return &f->world;
}

static void close_world(struct fixture *f)
{
    rs_world_free(&f->world);
    rs_trace_free(&f->trace);
}

static void assert_checks_held(const struct rs_world *w)
{
    if (w->checks.failed != RS_CHECK_NONE) {
        fail_msg("check %s failed: %s", rs_check_name(w->checks.failed), w->checks.message);
    }
}

/* Heals, runs the liveness phase, and asserts every region converged with the checks held. */
static void finish(struct rs_world *w)
{
    rs_world_heal_all(w);
    rs_world_run_until(w, UINT64_MAX);
    assert_checks_held(w);
    assert_int_not_equal(w->converged_ns, 0);
}

static bool starts_at(const struct rs_region *r, const char *key)
{
    return r->start_size == strlen(key) && memcmp(r->start, key, r->start_size) == 0;
}

static bool ends_at(const struct rs_region *r, const char *key)
{
    return r->end_size == strlen(key) && memcmp(r->end, key, r->end_size) == 0;
}

/* Runs until a leader of region i exists, then splits it at key. */
static void split_at(struct rs_world *w, uint32_t index, const char *key)
{
    for (int i = 0; i < 100 && rs_world_region_leader(w, index) == 0; i++) {
        rs_world_run_until(w, w->now_ns + 100 * MS);
    }
    assert_int_equal(rs_world_split(w, index, text(key)), RS_OK);
}

/* Two regions on three stores: each has its own leader and files, clients reach both. */
static void test_two_regions_on_three_stores(void **state)
{
    (void)state;
    struct rs_region regions[2];
    rs_region_init(&regions[0], 1, (struct rs_bytes){NULL, 0}, text("k3"));
    rs_region_init(&regions[1], 2, text("k3"), (struct rs_bytes){NULL, 0});
    struct rs_world_config c;
    config(&c, 5, regions, 2);
    struct fixture f;
    struct rs_world *w = open_world(&f, &c);
    rs_region_free(&regions[0]);
    rs_region_free(&regions[1]);
    rs_world_run_until(w, 3 * S);
    assert_checks_held(w);
    assert_int_not_equal(rs_world_region_leader(w, 0), 0);
    assert_int_not_equal(rs_world_region_leader(w, 1), 0);
    for (uint32_t id = 1; id <= 3; id++) {
        const struct rs_node *a = rs_world_replica(w, id, 0);
        const struct rs_node *b = rs_world_replica(w, id, 1);
        assert_non_null(a);
        assert_non_null(b);
        assert_true(a->raft.applied_index > 5); /* both took writes */
        assert_true(b->raft.applied_index > 5);
        assert_true(rs_kv_key_count(&a->kv) > 0);
        assert_true(rs_kv_key_count(&b->kv) > 0);
    }
    /* each region's files carry its prefix */
    const char *names[256];
    size_t count = rs_disk_list(&w->nodes[1].disk, names, 256);
    bool one = false, two = false;
    for (size_t i = 0; i < count; i++) {
        one |= strncmp(names[i], "r0000000000000001-", RS_STORE_PREFIX_SIZE) == 0;
        two |= strncmp(names[i], "r0000000000000002-", RS_STORE_PREFIX_SIZE) == 0;
        assert_true(names[i][0] == 'r');
    }
    assert_true(one && two);
    finish(w);
    close_world(&f);
}

/* A split applies on every replica: ranges, epochs and keys move; clients follow it. */
static void test_split_moves_range_and_keys(void **state)
{
    (void)state;
    struct rs_world_config c;
    config(&c, 7, NULL, 0);
    struct fixture f;
    struct rs_world *w = open_world(&f, &c);
    rs_world_run_until(w, 2 * S);
    split_at(w, 0, "k3");
    rs_world_run_until(w, w->now_ns + 2 * S);
    assert_checks_held(w);
    assert_int_equal(w->region_count, 2);
    uint64_t ops_before = w->stats.ops_ok;
    for (uint32_t id = 1; id <= 3; id++) {
        const struct rs_node *p = rs_world_replica(w, id, 0);
        const struct rs_node *ch = rs_world_replica(w, id, 1);
        assert_non_null(ch);
        assert_true(ch->initialized);
        assert_true(ends_at(&p->region, "k3") && starts_at(&p->region, ""));
        assert_true(starts_at(&ch->region, "k3") && ends_at(&ch->region, ""));
        assert_int_equal(p->region.epoch.version, 2);
        assert_int_equal(ch->region.epoch.version, 2);
        assert_int_equal(p->stats.splits_applied, 1);
        /* keys k0..k2 and k10..k19 sort below "k3"; k3..k9 above */
        assert_true(rs_kv_key_count(&p->kv) + rs_kv_key_count(&ch->kv) <= 20);
        assert_true(rs_kv_key_count(&ch->kv) <= 7);
    }
    assert_int_not_equal(rs_world_region_leader(w, 1), 0);
    rs_world_run_until(w, w->now_ns + 2 * S);
    assert_true(w->stats.ops_ok > ops_before + 100); /* clients found the new region */
    finish(w);
    close_world(&f);
}

/* Every store crashes right after the split: recovery replays it and rebuilds the region. */
static void test_split_survives_crashes(void **state)
{
    (void)state;
    struct rs_world_config c;
    config(&c, 11, NULL, 0);
    struct fixture f;
    struct rs_world *w = open_world(&f, &c);
    rs_world_run_until(w, 2 * S);
    split_at(w, 0, "k5");
    for (int round = 0; round < 6; round++) {
        rs_world_run_until(w, w->now_ns + (round + 1) * 7 * MS);
        uint32_t node = (uint32_t)round % 3 + 1;
        rs_world_crash(w, node);
        rs_world_run_until(w, w->now_ns + 20 * MS);
        rs_world_restart(w, node);
        assert_checks_held(w);
    }
    rs_world_run_until(w, w->now_ns + 3 * S);
    assert_int_equal(w->region_count, 2);
    for (uint32_t id = 1; id <= 3; id++) {
        const struct rs_node *ch = rs_world_replica(w, id, 1);
        assert_non_null(ch);
        assert_true(starts_at(&ch->region, "k5"));
    }
    finish(w);
    close_world(&f);
}

/* A store cut off during the split gets the parent by snapshot (the log was compacted past
 * the split) and the new region from its leader, by snapshot too. */
static void test_replica_that_missed_the_split(void **state)
{
    (void)state;
    struct rs_world_config c;
    config(&c, 13, NULL, 0);
    c.raft.snapshot_log_entries = 50;
    c.raft.snapshot_margin = 10;
    struct fixture f;
    struct rs_world *w = open_world(&f, &c);
    rs_world_run_until(w, 2 * S);
    uint32_t leader = rs_world_leader(w);
    uint32_t lagging = leader % 3 + 1;
    rs_world_isolate(w, lagging);
    split_at(w, 0, "k2");
    rs_world_run_until(w, w->now_ns + 4 * S); /* writes go on: snapshots compact the logs */
    assert_null(rs_world_replica(w, lagging, 1));
    rs_world_heal_network(w);
    rs_world_run_until(w, w->now_ns + 4 * S);
    assert_checks_held(w);
    const struct rs_node *ch = rs_world_replica(w, lagging, 1);
    assert_non_null(ch);
    assert_true(ch->initialized);
    assert_true(starts_at(&ch->region, "k2"));
    /* it never applied the split: the new region's leader created its replica */
    assert_int_equal(w->nodes[lagging].store->stats.splits, 0);
    assert_int_equal(w->nodes[lagging].store->stats.created_on_demand, 1);
    assert_int_equal(rs_world_replica(w, lagging, 0)->stats.splits_applied, 0);
    finish(w);
    close_world(&f);
}

/* ---- the region checks fire ---- */

/* Runs one event on node id: a tick of its store after the time moved on. */
static void poke(struct rs_world *w)
{
    rs_world_run_until(w, w->now_ns + 200 * MS);
}

static void test_region_keys_check_fires(void **state)
{
    (void)state;
    struct rs_world_config c;
    config(&c, 17, NULL, 0);
    struct fixture f;
    struct rs_world *w = open_world(&f, &c);
    rs_world_run_until(w, 1 * S);
    split_at(w, 0, "k5");
    rs_world_run_until(w, w->now_ns + 1 * S);
    assert_checks_held(w);
    /* a key above the first region's end appears in its replica on node 2 */
    struct rs_node *n = rs_world_replica(w, 2, 0);
    struct rs_kv_op op = {.opcode = RS_KV_PUT, .key = text("k7"), .value = text("x")};
    struct rs_kv_result res;
    uint64_t applied = n->kv.applied_index;
    assert_int_equal(rs_kv_apply_op(&n->kv, applied + 1, 0, 0, &op, &res), RS_OK);
    n->kv.applied_index = applied; /* the log's next entry applies as usual */
    poke(w);
    assert_int_equal(w->checks.failed, RS_CHECK_REGION_KEYS);
    assert_non_null(strstr(w->checks.message, "holds key 'k7'"));
    close_world(&f);
}

static void test_region_epoch_and_range_checks_fire(void **state)
{
    (void)state;
    struct rs_world_config c;
    config(&c, 19, NULL, 0);
    struct fixture f;
    struct rs_world *w = open_world(&f, &c);
    rs_world_run_until(w, 1 * S);
    split_at(w, 0, "k5");
    rs_world_run_until(w, w->now_ns + 1 * S);
    assert_checks_held(w);
    /* an epoch that goes back */
    struct rs_node *n = rs_world_replica(w, 3, 1);
    n->region.epoch.version--;
    poke(w);
    assert_int_equal(w->checks.failed, RS_CHECK_REGION_EPOCHS);
    close_world(&f);

    /* a newer descriptor whose range overlaps its neighbour's */
    w = open_world(&f, &c);
    rs_world_run_until(w, 1 * S);
    split_at(w, 0, "k5");
    rs_world_run_until(w, w->now_ns + 1 * S);
    n = rs_world_replica(w, 1, 0);
    n->region.epoch.version++;
    rs_region_set_range(&n->region, (struct rs_bytes){NULL, 0}, text("k7"));
    poke(w);
    assert_int_equal(w->checks.failed, RS_CHECK_REGION_RANGES);
    assert_non_null(strstr(w->checks.message, "starts at 'k5'"));
    close_world(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_round_trip_and_damage),
        cmocka_unit_test(test_prefix_and_ranges),
        cmocka_unit_test(test_two_regions_on_three_stores),
        cmocka_unit_test(test_split_moves_range_and_keys),
        cmocka_unit_test(test_split_survives_crashes),
        cmocka_unit_test(test_replica_that_missed_the_split),
        cmocka_unit_test(test_region_keys_check_fires),
        cmocka_unit_test(test_region_epoch_and_range_checks_fire),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
