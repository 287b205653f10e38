/* Tests of removed replicas: destroyed with their files, tombstones that refuse stale leaders
 * (across restarts too), stores added back, and the "you are removed" notice. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/store/region.h"
#include "core/store/store.h"
#include "core/store/tombstone.h"
#include "core/wire/frame.h"
#include "sim/clock.h"
#include "sim/world.h"

#define MS RS_NS_PER_MS
#define S  RS_NS_PER_S

/* ---- the tombstone set, its file and the notice ---- */

static void test_tombstone_set_and_file(void **state)
{
    (void)state;
    struct rs_tombstones t, back;
    rs_tombstones_init(&t);
    rs_tombstones_init(&back);
    uint64_t ids[] = {9, 3, 7};
    for (size_t i = 0; i < 3; i++) {
        struct rs_tombstone e = {.region_id = ids[i], .conf_ver = ids[i] * 10, .term = i + 1,
                                 .state = RS_TOMBSTONE_DESTROYED};
        rs_tombstones_put(&t, &e);
    }
    assert_int_equal(t.count, 3);
    assert_int_equal(t.items[0].region_id, 3); /* ordered by region id */
    struct rs_tombstone e7 = {.region_id = 7, .conf_ver = 71, .term = 5,
                              .state = RS_TOMBSTONE_REVIVED};
    rs_tombstones_put(&t, &e7); /* replaces */
    assert_int_equal(t.count, 3);
    assert_int_equal(rs_tombstones_find(&t, 7)->conf_ver, 71);
    assert_null(rs_tombstones_find(&t, 8));
    size_t size = rs_tombstones_file_size(&t);
    uint8_t *buf = malloc(size);
    assert_non_null(buf);
    rs_tombstones_encode(&t, buf, size);
    assert_int_equal(rs_tombstones_decode(&back, buf, size), RS_OK);
    assert_int_equal(back.count, 3);
    assert_int_equal(rs_tombstones_find(&back, 7)->state, RS_TOMBSTONE_REVIVED);
    assert_int_equal(rs_tombstones_find(&back, 9)->conf_ver, 90);
    assert_int_equal(rs_tombstones_find(&back, 3)->term, 2);
    /* every flipped bit and every short read is caught, and leaves the set empty */
    for (size_t bit = 0; bit < size * 8; bit += 5) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_equal(rs_tombstones_decode(&back, buf, size), RS_ECORRUPT);
        assert_int_equal(back.count, 0);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_int_equal(rs_tombstones_decode(&back, buf, size - 1), RS_ECORRUPT);
    assert_true(rs_tombstones_drop(&t, 3));
    assert_false(rs_tombstones_drop(&t, 3));
    assert_int_equal(t.count, 2);
    free(buf);
    rs_tombstones_free(&t);
    rs_tombstones_free(&back);
}

static void test_removed_notice_codec(void **state)
{
    (void)state;
    uint8_t buf[RS_REMOVED_NOTICE_SIZE];
    size_t size = rs_removed_notice_encode(buf, 5);
    rs_node_id peer = 0;
    assert_int_equal(rs_removed_notice_decode((struct rs_bytes){buf, size}, &peer), RS_OK);
    assert_int_equal(peer, 5);
    buf[RS_FRAME_HEADER_SIZE] ^= 1u;
    assert_int_equal(rs_removed_notice_decode((struct rs_bytes){buf, size}, &peer),
                     RS_ECORRUPT);
    assert_string_equal(rs_msg_type_name(RS_MSG_PEER_REMOVED), "peer_removed");
}

/* ---- worlds ---- */

struct fixture {
    struct rs_world world;
    struct rs_trace trace;
};

/* Three voters (nodes 1..3), and learners after them when learners > 0. */
static struct rs_world *open_world_with(struct fixture *f, uint64_t seed, uint32_t learners)
{
    struct rs_world_config c;
    memset(&c, 0, sizeof c);
    c.seed = seed;
    c.node_count = 3 + learners;
    c.replica_count = 3;
    c.learner_count = learners;
    c.raft.election_timeout_ns = 300 * MS;
    c.raft.heartbeat_ns = 50 * MS;
    c.raft.pre_vote = true;
    c.raft.max_inflight = 64;
    c.raft.batch_entries = 64;
    c.raft.batch_bytes = 64 * 1024;
    c.raft.proposal_queue = 1024;
    c.raft.snapshot_log_entries = 50; /* an added store catches up by snapshot */
    c.net = (struct rs_link_params){.latency_min_ns = 1 * MS, .latency_max_ns = 3 * MS};
    c.disk = (struct rs_disk_params){.write_latency_min_ns = 50 * RS_NS_PER_US,
                                     .write_latency_max_ns = 200 * RS_NS_PER_US,
                                     .sync_latency_min_ns = 500 * RS_NS_PER_US,
                                     .sync_latency_max_ns = 1 * MS,
                                     .read_latency_min_ns = 50 * RS_NS_PER_US,
                                     .read_latency_max_ns = 50 * RS_NS_PER_US,
                                     .block_size = 512,
                                     .torn_keep_ppm = 500000};
    c.workload = (struct rs_workload_config){.client_count = 3,
                                             .key_count = 20,
                                             .request_timeout_ns = 200 * MS,
                                             .op_timeout_ns = 2 * S,
                                             .value_size = 16};
    c.workload.mix[RS_KV_GET] = 1;
    c.workload.mix[RS_KV_PUT] = 2;
    c.fault_phase_ns = 1000 * S;
    c.liveness_ns = 10 * S;
    memset(f, 0, sizeof *f);
    rs_trace_init(&f->trace, NULL);
    assert_int_equal(rs_world_init(&f->world, &c, &f->trace), RS_OK);
    return &f->world;
}

static struct rs_world *open_world(struct fixture *f, uint64_t seed)
{
    return open_world_with(f, seed, 0);
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

static uint32_t wait_leader(struct rs_world *w)
{
    for (int i = 0; i < 100 && rs_world_leader(w) == 0; i++) {
        rs_world_run_until(w, w->now_ns + 100 * MS);
    }
    uint32_t leader = rs_world_leader(w);
    assert_int_not_equal(leader, 0);
    return leader;
}

static uint64_t others(uint32_t node)
{
    return (0xeull) & ~(1ull << node); /* nodes 1..3 without node */
}

/* Runs in steps of 50 ms until node's replica of region 1 is there (want) or gone. */
static void wait_replica(struct rs_world *w, uint32_t node, bool want, uint64_t limit_ns)
{
    uint64_t end = w->now_ns + limit_ns;
    while ((rs_world_replica(w, node, 0) != NULL) != want && w->now_ns < end) {
        rs_world_run_until(w, w->now_ns + 50 * MS);
    }
    assert_checks_held(w);
    assert_int_equal(rs_world_replica(w, node, 0) != NULL, want);
}

/* How many of the node's files belong to region 1. */
static size_t region_files(const struct rs_world *w, uint32_t node)
{
    const char *names[256];
    size_t count = rs_disk_list(&w->nodes[node].disk, names, 256);
    assert_true(count <= 256);
    char prefix[RS_STORE_PREFIX_SIZE + 1];
    rs_store_prefix(1, prefix);
    size_t mine = 0;
    for (size_t i = 0; i < count; i++) {
        mine += strncmp(names[i], prefix, RS_STORE_PREFIX_SIZE) == 0;
    }
    return mine;
}

/* An envelope for region 1 at conf_ver around an inner frame of `type`. */
static size_t envelope(uint8_t *out, size_t cap, uint64_t conf_ver, unsigned type,
                       const uint8_t *inner_body, size_t body_size)
{
    uint8_t inner[256];
    size_t inner_size = rs_frame_encode(inner, sizeof inner, type, inner_body, body_size);
    assert_true(inner_size > 0 && rs_envelope_size(inner_size) <= cap);
    memcpy(out + rs_envelope_inner_offset(), inner, inner_size);
    return rs_envelope_seal(out, 1, (struct rs_region_epoch){conf_ver, 1}, inner_size);
}

/* A stale leader's append (its body does not matter: the store decides on the envelope). */
static void send_stale_append(struct rs_world *w, uint32_t to, uint32_t from, uint64_t conf_ver)
{
    uint8_t frame[512];
    static const uint8_t body[16] = {0};
    size_t size = envelope(frame, sizeof frame, conf_ver, RS_MSG_APPEND_REQUEST, body,
                           sizeof body);
    struct rs_world_node *wn = &w->nodes[to];
    rs_store_recv(wn->store, rs_clock_local(&wn->clock, w->now_ns), from, frame, size);
}

/* The leader removes itself: it applies the configuration without it (case 1), and its store
 * destroys the replica, deletes its files and keeps a tombstone that stale messages meet,
 * before and after a restart. */
static void test_applied_removal_destroys_and_tombstone_refuses(void **state)
{
    (void)state;
    struct fixture f;
    struct rs_world *w = open_world(&f, 11);
    uint32_t old = wait_leader(w);
    rs_world_run_until(w, w->now_ns + 500 * MS);
    assert_true(region_files(w, old) > 0);
    assert_int_equal(rs_world_change_peers(w, others(old), 0), RS_OK);
    wait_replica(w, old, false, 5 * S);
    rs_world_run_until(w, w->now_ns + 100 * MS); /* the deletions complete */
    const struct rs_store *st = w->nodes[old].store;
    assert_int_equal(st->stats.replicas_destroyed, 1);
    assert_int_equal(st->stats.removed_notices_received, 0); /* its own apply did it */
    assert_int_equal(region_files(w, old), 0);
    const struct rs_tombstone *t = rs_tombstones_find(&st->tombstones, 1);
    assert_non_null(t);
    assert_int_equal(t->state, RS_TOMBSTONE_DESTROYED);
    assert_true(t->conf_ver >= 3); /* bootstrap 1, joint 2, the new configuration 3 */
    uint64_t conf_ver = t->conf_ver;
    /* a stale leader's append does not make the replica again */
    uint64_t refusals = st->stats.tombstone_refusals;
    send_stale_append(w, old, old % 3 + 1, conf_ver - 1);
    assert_null(rs_world_replica(w, old, 0));
    assert_int_equal(st->stats.tombstone_refusals, refusals + 1);
    assert_int_equal(st->stats.created_on_demand, 0);
    /* a restart keeps the tombstone: the boot region does not come back either */
    rs_world_crash(w, old);
    rs_world_restart(w, old);
    assert_null(rs_world_replica(w, old, 0));
    st = w->nodes[old].store;
    assert_non_null(rs_tombstones_find(&st->tombstones, 1));
    assert_int_equal(rs_tombstones_find(&st->tombstones, 1)->conf_ver, conf_ver);
    refusals = st->stats.tombstone_refusals;
    send_stale_append(w, old, old % 3 + 1, conf_ver - 1);
    assert_null(rs_world_replica(w, old, 0));
    assert_int_equal(st->stats.tombstone_refusals, refusals + 1);
    rs_world_run_until(w, w->now_ns + 2 * S);
    assert_null(rs_world_replica(w, old, 0));
    assert_int_equal(w->nodes[old].store->stats.created_on_demand, 0);
    assert_checks_held(w);
    close_world(&f);
}

/* Until node's replica of region 1 holds node in its applied configuration; the change is
 * asked again while it does not (a leader that steps down drops it). */
static void add_back(struct rs_world *w, uint32_t node)
{
    for (int round = 0; round < 40; round++) {
        const struct rs_node *n = rs_world_replica(w, node, 0);
        if (n != NULL && n->initialized && rs_conf_is_member(&n->applied_conf, node) &&
            !rs_conf_joint(&n->applied_conf)) {
            return;
        }
        if (rs_world_leader(w) != 0) {
            rs_world_change_peers(w, 0xeull, 0);
        }
        rs_world_run_until(w, w->now_ns + 500 * MS);
        assert_checks_held(w);
    }
    fail_msg("node %u was not added back", node);
}

/* A destroyed store is added back: a leader at the removal's conf_ver or later makes the
 * replica again, past the old term and with elections barred until it holds the removal;
 * then the tombstone goes and the region converges. */
static void test_added_back_after_destroy(void **state)
{
    (void)state;
    struct fixture f;
    struct rs_world *w = open_world(&f, 12);
    uint32_t old = wait_leader(w);
    assert_int_equal(rs_world_change_peers(w, others(old), 0), RS_OK);
    wait_replica(w, old, false, 5 * S);
    const struct rs_tombstone *t = rs_tombstones_find(&w->nodes[old].store->tombstones, 1);
    assert_non_null(t);
    rs_term old_term = t->term;
    rs_world_run_until(w, w->now_ns + 1 * S);
    add_back(w, old);
    const struct rs_store *st = w->nodes[old].store;
    assert_int_equal(st->stats.replicas_revived, 1);
    assert_null(rs_tombstones_find(&st->tombstones, 1)); /* it holds the removal now */
    const struct rs_node *n = rs_world_replica(w, old, 0);
    assert_false(n->raft.elections_barred);
    assert_true(n->raft.term > old_term);
    rs_world_heal_all(w);
    rs_world_run_until(w, UINT64_MAX);
    assert_checks_held(w);
    assert_int_not_equal(w->converged_ns, 0);
    close_world(&f);
}

/* A replica made again over a tombstone by hand: barred and past the old term, and a restart
 * keeps it so (the tombstone is marked REVIVED on disk). */
static void test_revived_replica_stays_barred_across_restart(void **state)
{
    (void)state;
    struct fixture f;
    struct rs_world *w = open_world(&f, 13);
    uint32_t old = wait_leader(w);
    assert_int_equal(rs_world_change_peers(w, others(old), 0), RS_OK);
    wait_replica(w, old, false, 5 * S);
    const struct rs_tombstone *t = rs_tombstones_find(&w->nodes[old].store->tombstones, 1);
    uint64_t conf_ver = t->conf_ver;
    rs_term term = t->term;
    /* a message at the removal's conf_ver may come from a leader adding the store back */
    send_stale_append(w, old, old % 3 + 1, conf_ver);
    struct rs_node *n = rs_world_replica(w, old, 0);
    assert_non_null(n);
    assert_true(n->raft.elections_barred);
    assert_int_equal(n->raft.term, term + 1);
    t = rs_tombstones_find(&w->nodes[old].store->tombstones, 1);
    assert_int_equal(t->state, RS_TOMBSTONE_REVIVED);
    rs_world_run_until(w, w->now_ns + 200 * MS); /* its files and the tombstone file land */
    rs_world_crash(w, old);
    rs_world_restart(w, old);
    n = rs_world_replica(w, old, 0);
    assert_non_null(n);
    assert_true(n->raft.elections_barred);
    assert_true(n->raft.term >= term + 1);
    rs_world_run_until(w, w->now_ns + 2 * S);
    assert_checks_held(w);
    close_world(&f);
}

/* A follower cut off while it is removed never applies its removal; once the network heals
 * its pre-votes meet replicas outside which it is, their stores tell it, and it goes. */
static void test_missed_removal_destroyed_by_notice(void **state)
{
    (void)state;
    struct fixture f;
    struct rs_world *w = open_world(&f, 14);
    uint32_t leader = wait_leader(w);
    uint32_t gone = leader % 3 + 1;
    rs_world_run_until(w, w->now_ns + 300 * MS);
    rs_world_isolate(w, gone);
    assert_int_equal(rs_world_change_peers(w, others(gone), 0), RS_OK);
    rs_world_run_until(w, w->now_ns + 2 * S);
    const struct rs_node *n = rs_world_replica(w, gone, 0);
    assert_non_null(n); /* it heard nothing */
    assert_true(rs_conf_is_member(&n->applied_conf, gone));
    rs_world_heal_network(w);
    wait_replica(w, gone, false, 5 * S);
    const struct rs_store *st = w->nodes[gone].store;
    assert_int_equal(st->stats.replicas_destroyed, 1);
    assert_true(st->stats.removed_notices_received >= 1);
    uint64_t sent = 0;
    for (uint32_t id = 1; id <= 3; id++) {
        sent += id != gone ? w->nodes[id].store->stats.removed_notices_sent : 0;
    }
    assert_true(sent >= 1);
    rs_world_run_until(w, w->now_ns + 100 * MS);
    assert_int_equal(region_files(w, gone), 0);
    rs_world_heal_all(w);
    rs_world_run_until(w, UINT64_MAX);
    assert_checks_held(w);
    assert_int_not_equal(w->converged_ns, 0);
    close_world(&f);
}

/* Notices that must not destroy a member: an epoch not newer than its own, another store's,
 * or a damaged one. And a member's own raft messages draw no notice. */
static void test_notice_with_old_epoch_keeps_member(void **state)
{
    (void)state;
    struct fixture f;
    struct rs_world *w = open_world(&f, 15);
    wait_leader(w);
    rs_world_run_until(w, w->now_ns + 1 * S);
    const uint32_t target = 2;
    struct rs_world_node *wn = &w->nodes[target];
    uint64_t own = rs_world_replica(w, target, 0)->region.epoch.conf_ver;
    uint8_t inner[RS_REMOVED_NOTICE_SIZE];
    uint8_t frame[256];
    uint64_t local = rs_clock_local(&wn->clock, w->now_ns);
    /* its own epoch, and an older one */
    for (uint64_t v = own + 1; v-- > own - 1;) {
        size_t inner_size = rs_removed_notice_encode(inner, target);
        memcpy(frame + rs_envelope_inner_offset(), inner, inner_size);
        size_t size = rs_envelope_seal(frame, 1, (struct rs_region_epoch){v, 1}, inner_size);
        rs_store_recv(wn->store, local, 1, frame, size);
        assert_non_null(rs_world_replica(w, target, 0));
    }
    /* a newer epoch, but about another store */
    size_t inner_size = rs_removed_notice_encode(inner, 3);
    memcpy(frame + rs_envelope_inner_offset(), inner, inner_size);
    size_t size = rs_envelope_seal(frame, 1, (struct rs_region_epoch){own + 5, 1}, inner_size);
    rs_store_recv(wn->store, local, 1, frame, size);
    assert_non_null(rs_world_replica(w, target, 0));
    assert_int_equal(wn->store->stats.removed_notices_received, 3);
    /* damaged: counted as corrupt, nothing else */
    frame[size - 1] ^= 1u;
    uint64_t corrupt = wn->store->stats.corrupt_frames;
    rs_store_recv(wn->store, local, 1, frame, size);
    assert_int_equal(wn->store->stats.corrupt_frames, corrupt + 1);
    assert_int_equal(wn->store->stats.replicas_destroyed, 0);
    /* members at an older epoch (the replicas exchange raft messages all along) get no notice */
    rs_world_run_until(w, w->now_ns + 1 * S);
    for (uint32_t id = 1; id <= 3; id++) {
        assert_int_equal(w->nodes[id].store->stats.removed_notices_sent, 0);
        assert_int_equal(w->nodes[id].store->stats.replicas_destroyed, 0);
    }
    rs_world_heal_all(w);
    rs_world_run_until(w, UINT64_MAX);
    assert_checks_held(w);
    close_world(&f);
}

/* A learner never campaigns, so nothing it sends would reveal its removal: the leader that
 * applies the configuration without it tells it. */
static void test_removed_learner_told_by_leader(void **state)
{
    (void)state;
    struct fixture f;
    struct rs_world *w = open_world_with(&f, 16, 1);
    uint32_t leader = wait_leader(w);
    rs_world_run_until(w, w->now_ns + 500 * MS);
    assert_non_null(rs_world_replica(w, 4, 0));
    assert_int_equal(rs_world_change_peers(w, 0xeull, 0), RS_OK); /* voters 1..3, no learner */
    wait_replica(w, 4, false, 3 * S);
    const struct rs_store *st = w->nodes[4].store;
    assert_int_equal(st->stats.replicas_destroyed, 1);
    assert_int_equal(st->stats.removed_notices_received, 1);
    assert_int_equal(w->nodes[leader].store->stats.removed_notices_sent, 1);
    rs_world_heal_all(w);
    rs_world_run_until(w, UINT64_MAX);
    assert_checks_held(w);
    assert_int_not_equal(w->converged_ns, 0);
    close_world(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tombstone_set_and_file),
        cmocka_unit_test(test_removed_notice_codec),
        cmocka_unit_test(test_applied_removal_destroys_and_tombstone_refuses),
        cmocka_unit_test(test_added_back_after_destroy),
        cmocka_unit_test(test_revived_replica_stays_barred_across_restart),
        cmocka_unit_test(test_missed_removal_destroyed_by_notice),
        cmocka_unit_test(test_notice_with_old_epoch_keeps_member),
        cmocka_unit_test(test_removed_learner_told_by_leader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
