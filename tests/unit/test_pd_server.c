/* Tests of the replicated Placement Driver: its messages, a three-node PD group electing the
 * active PD, region ids that never repeat across leaders, and the client's route merge. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/client/route.h"
#include "core/pd/msg.h"
#include "core/pd/server.h"
#include "core/wire/frame.h"

#define MS RS_NS_PER_MS
#define S  RS_NS_PER_S

static struct rs_bytes text(const char *s)
{
    return (struct rs_bytes){(const uint8_t *)s, strlen(s)};
}

static void test_leader_and_route_get_round_trip(void **state)
{
    (void)state;
    uint8_t frame[64];
    rs_node_id leader = 0;
    rs_pd_leader_encode(41, frame);
    assert_int_equal(rs_pd_leader_decode(frame, rs_pd_leader_frame_size(), &leader), RS_OK);
    assert_int_equal(leader, 41);
    frame[RS_FRAME_HEADER_SIZE] ^= 1; /* a flipped bit fails the checksum */
    assert_int_equal(rs_pd_leader_decode(frame, rs_pd_leader_frame_size(), &leader),
                     RS_ECORRUPT);
    uint64_t id = 0;
    rs_pd_route_get_encode(77, frame);
    assert_int_equal(rs_pd_route_get_decode(frame, rs_pd_route_get_frame_size(), &id), RS_OK);
    assert_int_equal(id, 77);
    assert_int_equal(rs_pd_leader_decode(frame, rs_pd_route_get_frame_size(), &leader),
                     RS_ECORRUPT); /* another type */
}

static void test_routes_and_records_round_trip(void **state)
{
    (void)state;
    static struct rs_pd_routes in, out;
    memset(&in, 0, sizeof in);
    in.request_id = 5;
    in.part_index = 1;
    in.part_count = 2;
    in.region_count = 2;
    in.regions[0] = (struct rs_pd_region){.id = 3, .start = text("a"), .end = text("m"),
                                          .epoch = {2, 4}, .leader = 7, .voter_count = 1,
                                          .voters = {7}};
    in.regions[1] = (struct rs_pd_region){.id = 9, .start = text("m"), .end = {NULL, 0},
                                          .epoch = {1, 4}, .leader = 0, .voter_count = 2,
                                          .voters = {7, 8}, .learner_count = 1, .learners = {9}};
    uint8_t buf[1024];
    size_t size = 0;
    assert_int_equal(rs_pd_routes_encode(&in, buf, sizeof buf, &size), RS_OK);
    assert_int_equal(size, rs_pd_routes_frame_size(&in));
    assert_int_equal(rs_pd_routes_decode(buf, size, &out), RS_OK);
    assert_int_equal(out.request_id, 5);
    assert_int_equal(out.part_index, 1);
    assert_int_equal(out.region_count, 2);
    assert_int_equal(out.regions[0].leader, 7);
    assert_int_equal(out.regions[1].learners[0], 9);
    assert_memory_equal(out.regions[0].end.data, "m", 1);
    assert_int_equal(rs_pd_routes_decode(buf, size - 1, &out), RS_ECORRUPT);
    in.part_index = 2; /* not below part_count */
    assert_int_equal(rs_pd_routes_encode(&in, buf, sizeof buf, &size), RS_EINVAL);
    struct rs_pd_region back;
    size_t record = rs_pd_region_record_size(&in.regions[1]);
    rs_pd_region_record_encode(&in.regions[1], buf, record);
    assert_int_equal(rs_pd_region_record_decode(buf, record, &back), RS_OK);
    assert_int_equal(back.id, 9);
    assert_int_equal(back.epoch.version, 4);
    assert_int_equal(back.voter_count, 2);
    assert_int_equal(rs_pd_region_record_decode(buf, record + 1, &back), RS_ECORRUPT);
}

/* ---- route merge ---- */

static void region(struct rs_region *r, uint64_t id, const char *start, const char *end,
                   uint64_t version)
{
    rs_region_init(r, id, text(start), text(end));
    r->epoch.version = version;
}

static uint64_t route_id_at(struct rs_route *rt, const char *key)
{
    struct rs_route_entry *e = rs_route_lookup(rt, text(key));
    return e != NULL ? e->region.id : 0;
}

/* A stale parent in the answer loses to the client's newer halves; a newer split in the answer
 * replaces the client's parent; a half nobody reported leaves a gap, never an overlap. */
static void test_route_merge_keeps_newest(void **state)
{
    (void)state;
    struct rs_region mine[2];
    region(&mine[0], 1, "", "m", 2);
    region(&mine[1], 2, "m", "", 2);
    struct rs_route rt;
    rs_route_init(&rt, mine, 2);
    struct rs_region said[3];
    region(&said[0], 1, "", "", 1);  /* the parent before the split: older */
    region(&said[1], 2, "m", "t", 3); /* region 2 split again at t */
    region(&said[2], 4, "t", "", 3);
    rs_node_id leaders[3] = {0, 5, 6};
    rs_route_merge(&rt, said, leaders, 3);
    assert_int_equal(rt.count, 3);
    assert_int_equal(route_id_at(&rt, "a"), 1);
    assert_int_equal(rs_route_find(&rt, 1)->region.epoch.version, 2);
    assert_int_equal(route_id_at(&rt, "p"), 2);
    assert_int_equal(route_id_at(&rt, "z"), 4);
    assert_int_equal(rs_route_find(&rt, 4)->leader, 6);
    /* region 1 splits at f, and only the parent's new half is reported: [f, m) is a gap */
    struct rs_region later;
    region(&later, 1, "", "f", 3);
    rs_node_id none = RS_NODE_NONE;
    rs_route_merge(&rt, &later, &none, 1);
    assert_int_equal(route_id_at(&rt, "a"), 1);
    assert_int_equal(route_id_at(&rt, "g"), 0);
    assert_int_equal(route_id_at(&rt, "p"), 2);
    for (int i = 0; i < 2; i++) {
        rs_region_free(&mine[i]);
    }
    for (int i = 0; i < 3; i++) {
        rs_region_free(&said[i]);
    }
    rs_region_free(&later);
    rs_route_free(&rt);
}

/* ---- a three-node PD group on an in-test network ---- */

#define NODES 3
#define BASE  20 /* the PD nodes' endpoints: 20, 21, 22 */
#define STORE 1  /* a store endpoint that heartbeats */

struct group {
    struct rs_pd_server srv[NODES];
    bool up[NODES];
    uint64_t now_ns;
    /* frames in flight, delivered at the next step */
    struct frame {
        rs_node_id from, to;
        uint8_t *data;
        size_t size;
    } flight[4096], arriving[4096];
    size_t flight_count;
    /* what reached the store endpoint */
    uint64_t acks, hints, splits[64];
    size_t split_count;
};

static bool split_gate(void *ctx)
{
    (void)ctx;
    return true;
}

static void node_start(struct group *g, uint32_t i)
{
    struct rs_pd_server_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.id = BASE + i;
    cfg.member_count = NODES;
    for (uint32_t k = 0; k < NODES; k++) {
        cfg.members[k] = BASE + k;
    }
    cfg.raft.election_timeout_ns = 300 * MS;
    cfg.raft.heartbeat_ns = 50 * MS;
    cfg.raft.pre_vote = true;
    cfg.raft.max_inflight = 64;
    cfg.raft.batch_entries = 64;
    cfg.raft.batch_bytes = 64 * 1024;
    cfg.raft.proposal_queue = 1024;
    cfg.random_seed = 1000 + i * 7 + g->now_ns;
    cfg.client_id = (1ull << 63) | (i + 1) << 20 | (g->now_ns / MS);
    cfg.service.policy = "none";
    cfg.first_region_id = 4;
    cfg.split_gate = split_gate;
    assert_int_equal(rs_pd_server_init(&g->srv[i], &cfg, g->now_ns, NULL, 0), RS_OK);
    g->up[i] = true;
}

/* The node's effects: disk operations done at once (in order), messages into flight. */
static void drain(struct group *g, uint32_t i)
{
    struct rs_out *o = &g->srv[i].store.out;
    for (int round = 0; round < 16 && (o->msg_count > 0 || o->disk_count > 0); round++) {
        for (size_t k = 0; k < o->msg_count; k++) {
            assert_true(g->flight_count < 4096);
            uint8_t *copy = malloc(o->msgs[k].size);
            memcpy(copy, o->bytes + o->msgs[k].offset, o->msgs[k].size);
            g->flight[g->flight_count].from = BASE + i;
            g->flight[g->flight_count].to = o->msgs[k].to;
            g->flight[g->flight_count].data = copy;
            g->flight[g->flight_count++].size = o->msgs[k].size;
        }
        size_t disk = o->disk_count;
        uint64_t ids[256];
        assert_true(disk <= 256);
        for (size_t k = 0; k < disk; k++) {
            ids[k] = o->disk[k].id;
        }
        rs_out_clear(o);
        for (size_t k = 0; k < disk; k++) {
            rs_pd_server_disk_done(&g->srv[i], g->now_ns, ids[k], RS_OK);
        }
        for (size_t k = 0; k < g->srv[i].sent_count; k++) {
            if (g->srv[i].sent[k].instruction.kind == RS_PD_RANGE_SPLIT) {
                g->splits[g->split_count++] = g->srv[i].sent[k].instruction.new_region_id;
            }
        }
        rs_pd_server_clear_sent(&g->srv[i]);
    }
}

static void to_store(struct group *g, const uint8_t *data, size_t size, rs_node_id from)
{
    rs_node_id leader;
    if (rs_pd_leader_decode(data, size, &leader) == RS_OK) {
        g->acks += leader == from;
        g->hints += leader != from;
    }
}

static void step(struct group *g)
{
    g->now_ns += 1 * MS;
    size_t count = g->flight_count;
    memcpy(g->arriving, g->flight, count * sizeof g->flight[0]);
    g->flight_count = 0;
    for (size_t k = 0; k < count; k++) {
        rs_node_id to = g->arriving[k].to;
        if (to == STORE) {
            to_store(g, g->arriving[k].data, g->arriving[k].size, g->arriving[k].from);
        } else if (to >= BASE && to < BASE + NODES && g->up[to - BASE]) {
            rs_pd_server_recv(&g->srv[to - BASE], g->now_ns, g->arriving[k].from,
                              g->arriving[k].data, g->arriving[k].size);
            drain(g, to - BASE);
        }
        free(g->arriving[k].data);
    }
    for (uint32_t i = 0; i < NODES; i++) {
        if (g->up[i] && rs_pd_server_deadline(&g->srv[i]) <= g->now_ns) {
            rs_pd_server_tick(&g->srv[i], g->now_ns);
            drain(g, i);
        }
    }
}

static int leader_of(struct group *g)
{
    int leader = -1;
    for (uint32_t i = 0; i < NODES; i++) {
        if (g->up[i] && rs_pd_server_leads(&g->srv[i])) {
            assert_int_equal(leader, -1); /* never two serving at once here (no partition) */
            leader = (int)i;
        }
    }
    return leader;
}

static void run_until_leader(struct group *g, uint64_t limit_ns)
{
    uint64_t end = g->now_ns + limit_ns;
    while (g->now_ns < end && (leader_of(g) < 0 || g->srv[leader_of(g)].ids_end == 0)) {
        step(g);
    }
    assert_true(leader_of(g) >= 0);
}

/* A heartbeat from a store with a region it leads, sent to PD node i. */
static void heartbeat(struct group *g, uint32_t i, uint64_t region_id, uint64_t version)
{
    static struct rs_pd_heartbeat hb;
    memset(&hb, 0, sizeof hb);
    hb.store.store_id = STORE;
    hb.part_count = 1;
    hb.region_count = 1;
    hb.regions[0] = (struct rs_pd_region){.id = region_id, .start = text(""), .end = text(""),
                                          .epoch = {1, version}, .leader = STORE,
                                          .voter_count = 1, .voters = {STORE}, .key_count = 100};
    uint8_t buf[1024];
    size_t size;
    assert_int_equal(rs_pd_heartbeat_encode(&hb, buf, sizeof buf, &size), RS_OK);
    rs_pd_server_recv(&g->srv[i], g->now_ns, STORE, buf, size);
    drain(g, i);
}

static void group_free(struct group *g)
{
    for (uint32_t i = 0; i < NODES; i++) {
        if (g->up[i]) {
            rs_pd_server_free(&g->srv[i]);
        }
    }
    for (size_t k = 0; k < g->flight_count; k++) {
        free(g->flight[k].data);
    }
    free(g);
}

static void test_group_elects_and_answers(void **state)
{
    (void)state;
    struct group *g = calloc(1, sizeof *g);
    for (uint32_t i = 0; i < NODES; i++) {
        node_start(g, i);
    }
    run_until_leader(g, 5 * S);
    int leader = leader_of(g);
    uint32_t follower = (uint32_t)(leader + 1) % NODES;
    heartbeat(g, follower, 1, 1);
    step(g);
    assert_int_equal(g->hints, 1); /* a follower names the leader */
    heartbeat(g, (uint32_t)leader, 1, 1);
    step(g);
    assert_int_equal(g->acks, 1);
    for (int k = 0; k < 200; k++) {
        step(g); /* the descriptor is written to the group */
    }
    assert_true(g->srv[leader].stats.regions_saved >= 1);
    /* an administrative split takes an id from the committed block */
    assert_int_equal(rs_pd_server_split(&g->srv[leader], g->now_ns, 1, text("k")), RS_OK);
    drain(g, (uint32_t)leader);
    assert_int_equal(g->split_count, 1);
    assert_int_equal(g->splits[0], 4); /* first_region_id: the sequence starts at 0 */
    assert_int_equal(rs_pd_server_split(&g->srv[follower], g->now_ns, 1, text("k")),
                     RS_ENOTLEADER);
    group_free(g);
}

/* The leader crashes: another takes over with the stored descriptors, and its ids are new. */
static void test_new_leader_never_repeats_ids(void **state)
{
    (void)state;
    struct group *g = calloc(1, sizeof *g);
    for (uint32_t i = 0; i < NODES; i++) {
        node_start(g, i);
    }
    run_until_leader(g, 5 * S);
    int first = leader_of(g);
    heartbeat(g, (uint32_t)first, 1, 2);
    for (int k = 0; k < 200; k++) {
        step(g);
    }
    for (int k = 0; k < 3; k++) {
        assert_int_equal(rs_pd_server_split(&g->srv[first], g->now_ns, 1, text("k")), RS_OK);
        drain(g, (uint32_t)first);
    }
    rs_pd_server_free(&g->srv[first]); /* a crash; it stays down */
    g->up[first] = false;
    run_until_leader(g, 5 * S);
    int next = leader_of(g);
    assert_int_not_equal(next, first);
    /* the new leader loaded the descriptor its predecessor stored */
    struct rs_pd_view view = rs_pd_service_view(g->srv[next].service);
    assert_int_equal(view.region_count, 1);
    assert_int_equal(view.regions[0].epoch.version, 2);
    assert_int_equal(g->srv[next].stats.regions_loaded, 1);
    heartbeat(g, (uint32_t)next, 1, 2);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(rs_pd_server_split(&g->srv[next], g->now_ns, 1, text("k")), RS_OK);
        drain(g, (uint32_t)next);
    }
    assert_int_equal(g->split_count, 6);
    for (size_t a = 0; a < g->split_count; a++) {
        for (size_t b = a + 1; b < g->split_count; b++) {
            assert_int_not_equal(g->splits[a], g->splits[b]);
        }
    }
    /* the deposed leader's block is not reused: the new one starts after it */
    assert_true(g->splits[3] >= g->splits[0] + RS_PD_SERVER_ID_BLOCK);
    group_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leader_and_route_get_round_trip),
        cmocka_unit_test(test_routes_and_records_round_trip),
        cmocka_unit_test(test_route_merge_keeps_newest),
        cmocka_unit_test(test_group_elects_and_answers),
        cmocka_unit_test(test_new_leader_never_repeats_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
