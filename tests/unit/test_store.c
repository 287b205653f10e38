/* Tests of stores and regions: the envelope, file prefixes, several regions on one store, and
 * range splits through the raft log (applied everywhere, surviving crashes, reaching a replica
 * that missed the split by snapshot). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kv/kv_cmd.h"
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

/* CliService's rebalance: six regions all led by store 1 end at two leaders per store. */
static void test_rebalance_spreads_leaders(void **state)
{
    (void)state;
    struct rs_region regions[6];
    const char *bounds[] = {"", "k1", "k2", "k3", "k4", "k5", ""};
    for (uint32_t i = 0; i < 6; i++) {
        rs_region_init(&regions[i], i + 1, text(bounds[i]), text(bounds[i + 1]));
    }
    struct rs_world_config c;
    config(&c, 23, regions, 6);
    c.raft.priority_election = true; /* store 1 leads every region first */
    for (uint32_t id = 0; id <= RS_NODE_ID_MAX; id++) {
        c.raft.priorities[id] = id == 1 ? 100 : 90;
    }
    struct fixture f;
    struct rs_world *w = open_world(&f, &c);
    for (uint32_t i = 0; i < 6; i++) {
        rs_region_free(&regions[i]);
    }
    rs_world_run_until(w, 3 * S);
    uint32_t led[4] = {0};
    for (uint32_t i = 0; i < 6; i++) {
        led[rs_world_region_leader(w, i)]++;
    }
    assert_int_equal(led[1], 6);
    assert_int_equal(rs_world_rebalance(w), 4); /* expected = ceil(6 / 3) = 2 */
    /* a transfer times out when its target is not caught up in time: as with CliService, the
     * operator runs rebalance again */
    for (int round = 0; round < 5; round++) {
        rs_world_run_until(w, w->now_ns + 1 * S);
        rs_world_rebalance(w);
    }
    rs_world_run_until(w, w->now_ns + 1 * S);
    memset(led, 0, sizeof led);
    for (uint32_t i = 0; i < 6; i++) {
        led[rs_world_region_leader(w, i)]++;
    }
    assert_int_equal(led[1], 2);
    assert_int_equal(led[2], 2);
    assert_int_equal(led[3], 2);
    assert_int_equal(rs_world_rebalance(w), 0); /* balanced: nothing to do */
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

/* ---- operations that span regions: split by the client, merged for the caller ---- */

/* What the history saw: part events per opcode and phase. */
struct part_log {
    uint32_t events[RS_KV_OPCODE_MAX + 1][4];
};

static void count_part(void *ctx, const struct rs_op_event *ev)
{
    struct part_log *log = ctx;
    log->events[ev->opcode][ev->phase]++;
}

static uint32_t key_number(const char *key)
{
    return (uint32_t)strtoul(key + 1, NULL, 10);
}

/* A scripted list operation over keys (values for batch_put). */
static void list_op(struct rs_workload_op *op, uint8_t opcode, const char *const *keys,
                    const char *const *values, uint32_t count)
{
    memset(op, 0, sizeof *op);
    op->opcode = opcode;
    for (uint32_t i = 0; i < count; i++) {
        op->list_index[i] = key_number(keys[i]);
        op->list_key_size[i] = strlen(keys[i]);
        memcpy(op->list_key[i], keys[i], op->list_key_size[i]);
        if (values != NULL) {
            op->list_value_size[i] = strlen(values[i]);
            memcpy(op->list_value[i], values[i], op->list_value_size[i]);
        }
    }
    op->list_count = count;
    op->key_index = op->list_index[0];
    op->key_size = op->list_key_size[0];
    memcpy(op->key, keys[0], op->key_size);
}

/* A scripted scan, reverse scan or delete range over [start, end) ("" : unbounded). */
static void range_op(struct rs_workload_op *op, uint8_t opcode, const char *start,
                     const char *end, uint32_t limit)
{
    memset(op, 0, sizeof *op);
    op->opcode = opcode;
    op->key_index = key_number(start);
    op->key_size = strlen(start);
    memcpy(op->key, start, op->key_size);
    op->end_key_size = strlen(end);
    memcpy(op->end_key, end, op->end_key_size);
    op->limit = limit;
}

/* Three regions ["", k3), [k3, k6), [k6, "") on three stores; one client that thinks 100ms
 * between operations and runs the script first. */
static struct rs_world *open_split_world(struct fixture *f, const struct rs_workload_op *script,
                                         uint32_t count, struct part_log *log)
{
    struct rs_region regions[3];
    rs_region_init(&regions[0], 1, (struct rs_bytes){NULL, 0}, text("k3"));
    rs_region_init(&regions[1], 2, text("k3"), text("k6"));
    rs_region_init(&regions[2], 3, text("k6"), (struct rs_bytes){NULL, 0});
    struct rs_world_config c;
    config(&c, 21, regions, 3);
    c.workload.client_count = 1;
    c.workload.key_count = 10;
    c.workload.think_ns = 100 * MS;
    c.workload.mix[RS_KV_PUT] = 0; /* after the script: reads only */
    struct rs_world *w = open_world(f, &c);
    for (int i = 0; i < 3; i++) {
        rs_region_free(&regions[i]);
    }
    rs_workload_script(&w->workload, script, count);
    memset(log, 0, sizeof *log);
    w->on_op = count_part;
    w->on_op_ctx = log;
    return w;
}

/* Runs until the client finished its n-th operation (1-based); its answer is then fresh. */
static const struct rs_world_client *run_to_op(struct rs_world *w, uint64_t n)
{
    const struct rs_world_client *wc = &w->clients[0];
    /* the loop keeps its own time: the world's stops at its last event */
    uint64_t until_ns = w->now_ns;
    for (int step = 0; step < 20000 && wc->ops_finished < n; step++) {
        until_ns += 1 * MS;
        rs_world_run_until(w, until_ns);
    }
    assert_int_equal(wc->ops_finished, n);
    assert_checks_held(w);
    return wc;
}

/* The merged answer's entries, as "key=value" (or "key" for keys-only or absent) joined by
 * spaces. */
static void entries_text(const struct rs_kv_result *res, char *out, size_t size)
{
    struct rs_kv_iter it;
    struct rs_kv_entry e;
    size_t at = 0;
    out[0] = 0;
    rs_kv_entries_begin(&it, res);
    while (rs_kv_iter_next(&it, &e) && at + e.key.size + e.value.size + 3 < size) {
        at += (size_t)snprintf(out + at, size - at, "%s%.*s%s%.*s", at ? " " : "",
                               (int)e.key.size, (const char *)e.key.data, e.found ? "=" : "",
                               (int)e.value.size, e.found ? (const char *)e.value.data : "");
    }
}

/* The value of a data key in the replica of region i on every store ("" when absent). */
static void assert_region_value(struct rs_world *w, uint32_t index, const char *key,
                                const char *value)
{
    for (uint32_t id = 1; id <= 3; id++) {
        const struct rs_node *n = rs_world_replica(w, id, index);
        assert_non_null(n);
        struct rs_bytes v;
        bool found = rs_kv_lookup(&n->kv, RS_KV_SPACE_DATA, text(key), &v);
        assert_int_equal(found, value[0] != 0);
        if (found) {
            assert_int_equal(v.size, strlen(value));
            assert_memory_equal(v.data, value, v.size);
        }
    }
}

/* A batch put, a multi_get and scans over three regions: one part per region, each in its
 * region's kv, the answers merged in the caller's order, the limit carried over. */
static void test_ops_spanning_regions_are_split_and_merged(void **state)
{
    (void)state;
    static const char *const keys[] = {"k1", "k4", "k7", "k8"};
    static const char *const values[] = {"a1", "a4", "a7", "a8"};
    static const char *const asked[] = {"k8", "k1", "k4", "k2"};
    struct rs_workload_op *script = calloc(6, sizeof *script);
    assert_non_null(script);
    list_op(&script[0], RS_KV_BATCH_PUT, keys, values, 4);
    list_op(&script[1], RS_KV_MULTI_GET, asked, NULL, 4);
    range_op(&script[2], RS_KV_SCAN, "k0", "", 0);
    range_op(&script[3], RS_KV_REVERSE_SCAN, "k0", "k9", 3);
    range_op(&script[4], RS_KV_SCAN, "k2", "k71", 0);
    script[4].keys_only = true;
    /* a lock whose fencing key lies in another region: refused at the client */
    range_op(&script[5], RS_KV_LOCK, "l0", "", 0);
    script[5].lease_ms = 100;
    memcpy(script[5].fencing_key, "k1", 2);
    script[5].fencing_key_size = 2;
    struct fixture f;
    struct part_log log;
    struct rs_world *w = open_split_world(&f, script, 6, &log);
    char text_out[256];

    const struct rs_world_client *wc = run_to_op(w, 1);
    assert_int_equal(wc->result_phase, RS_OP_OK);
    assert_true(wc->result.success);
    assert_int_equal(wc->part_count, 3); /* {k1}, {k4}, {k7, k8} */
    assert_int_equal(log.events[RS_KV_BATCH_PUT][RS_OP_OK], 3);

    wc = run_to_op(w, 2);
    assert_int_equal(wc->result_phase, RS_OP_OK);
    assert_int_equal(wc->part_count, 3);
    assert_int_equal(wc->result.entry_count, 4);
    entries_text(&wc->result, text_out, sizeof text_out);
    assert_string_equal(text_out, "k8=a8 k1=a1 k4=a4 k2"); /* the caller's order */

    wc = run_to_op(w, 3);
    assert_int_equal(wc->part_count, 3);
    entries_text(&wc->result, text_out, sizeof text_out);
    assert_string_equal(text_out, "k1=a1 k4=a4 k7=a7 k8=a8");
    assert_false(wc->result.truncated);

    wc = run_to_op(w, 4);
    assert_int_equal(wc->part_count, 2); /* k8, k7 from the last region; the limit left: 1 */
    entries_text(&wc->result, text_out, sizeof text_out);
    assert_string_equal(text_out, "k8=a8 k7=a7 k4=a4");
    assert_true(wc->result.truncated);

    wc = run_to_op(w, 5);
    assert_int_equal(wc->part_count, 3);
    entries_text(&wc->result, text_out, sizeof text_out);
    assert_string_equal(text_out, "k4= k7="); /* keys only */

    wc = run_to_op(w, 6);
    assert_int_equal(wc->result_phase, RS_OP_FAIL);
    assert_int_equal(wc->part_count, 0);
    assert_int_equal(log.events[RS_KV_LOCK][RS_OP_INVOKE], 1);
    assert_int_equal(log.events[RS_KV_LOCK][RS_OP_FAIL], 1);
    /* every part was recorded: an invoke and one completion each */
    assert_int_equal(log.events[RS_KV_SCAN][RS_OP_INVOKE], 6);
    assert_int_equal(log.events[RS_KV_SCAN][RS_OP_OK], 6);
    assert_int_equal(log.events[RS_KV_MULTI_GET][RS_OP_OK], 3);
    finish(w); /* then every replica has applied the batch: each region holds its keys */
    assert_region_value(w, 0, "k1", "a1");
    assert_region_value(w, 0, "k4", "");
    assert_region_value(w, 1, "k4", "a4");
    assert_region_value(w, 2, "k7", "a7");
    assert_region_value(w, 2, "k8", "a8");
    close_world(&f);
    free(script);
}

/* Splits the client has not heard of when its operation starts: the part sent on the old
 * routes is refused, abandoned (a read as fail, a write as info) and what is left goes out
 * again on the new routes. */
static void test_split_under_an_operation_resplits_it(void **state)
{
    (void)state;
    static const char *const keys[] = {"k1", "k4", "k7", "k8"};
    static const char *const values[] = {"a1", "a4", "a7", "a8"};
    static const char *const more[] = {"k2", "k7", "k8", "k9"};
    static const char *const more_values[] = {"b2", "b7", "b8", "b9"};
    struct rs_workload_op *script = calloc(3, sizeof *script);
    assert_non_null(script);
    list_op(&script[0], RS_KV_BATCH_PUT, keys, values, 4);
    range_op(&script[1], RS_KV_SCAN, "k0", "", 0);
    list_op(&script[2], RS_KV_BATCH_PUT, more, more_values, 4);
    struct fixture f;
    struct part_log log;
    struct rs_world *w = open_split_world(&f, script, 3, &log);
    char text_out[256];

    run_to_op(w, 1);
    split_at(w, 2, "k8"); /* while the client thinks: its routes go stale */
    const struct rs_world_client *wc = run_to_op(w, 2);
    assert_int_equal(w->region_count, 4);
    assert_int_equal(wc->result_phase, RS_OP_OK);
    entries_text(&wc->result, text_out, sizeof text_out);
    assert_string_equal(text_out, "k1=a1 k4=a4 k7=a7 k8=a8");
    /* [k0, k3), [k3, k6), [k6, "") refused and abandoned, then [k6, k8) and [k8, "") */
    assert_int_equal(wc->part_count, 5);
    assert_int_equal(log.events[RS_KV_SCAN][RS_OP_FAIL], 1);
    assert_int_equal(log.events[RS_KV_SCAN][RS_OP_OK], 4);

    split_at(w, 3, "k9");
    wc = run_to_op(w, 3);
    assert_int_equal(w->region_count, 5);
    assert_int_equal(wc->result_phase, RS_OP_OK);
    assert_true(wc->result.success);
    /* {k2}, then {k7} on [k6, k8), {k8, k9} refused by [k8, "") which is now [k8, k9):
     * abandoned as info, then {k8} and {k9} */
    assert_int_equal(wc->part_count, 5);
    assert_int_equal(log.events[RS_KV_BATCH_PUT][RS_OP_INFO], 1);
    finish(w); /* every replica applies the batch */
    assert_region_value(w, 0, "k2", "b2");
    assert_region_value(w, 2, "k7", "b7");
    assert_region_value(w, 3, "k8", "b8");
    assert_region_value(w, 4, "k9", "b9");
    close_world(&f);
    free(script);
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
        cmocka_unit_test(test_rebalance_spreads_leaders),
        cmocka_unit_test(test_region_keys_check_fires),
        cmocka_unit_test(test_region_epoch_and_range_checks_fire),
        cmocka_unit_test(test_ops_spanning_regions_are_split_and_merged),
        cmocka_unit_test(test_split_under_an_operation_resplits_it),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
