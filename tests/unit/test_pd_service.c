/* Tests of the Placement Driver service: message codecs, the view from heartbeats, instructions
 * out of ticks, and the store's heartbeats, leader finding and instruction handling (the PD
 * group in a world runs in the scenario sweeps: pd-failover, split-storm, ...). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/pd/msg.h"
#include "core/pd/service.h"
#include "core/store/store.h"
#include "core/wire/frame.h"

#define MS RS_NS_PER_MS
#define S  RS_NS_PER_S

static struct rs_bytes text(const char *s)
{
    return (struct rs_bytes){(const uint8_t *)s, strlen(s)};
}

/* A region [start, end) on voters 1 and 2. */
static void region_make(struct rs_pd_region *r, uint64_t id, const char *start, const char *end)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    r->start = text(start);
    r->end = text(end);
    r->epoch = (struct rs_region_epoch){1, 1};
    r->voter_count = 2;
    r->voters[0] = 1;
    r->voters[1] = 2;
    r->key_count = id * 10;
    r->size_bytes = id * 100;
    r->read_qps = 7;
    r->write_qps = 3;
}

static size_t heartbeat_encode(struct rs_pd_heartbeat *hb, uint8_t *buf, size_t cap)
{
    size_t written = 0;
    assert_int_equal(rs_pd_heartbeat_encode(hb, buf, cap, &written), RS_OK);
    assert_int_equal(written, rs_pd_heartbeat_frame_size(hb));
    return written;
}

/* A heartbeat from `store` leading regions first..last (ids), all on voters 1 and 2. */
static size_t heartbeat_frame(rs_node_id store, uint64_t first, uint64_t last, uint8_t *buf,
                              size_t cap)
{
    static struct rs_pd_heartbeat hb;
    static char keys[64][8];
    memset(&hb, 0, sizeof hb);
    hb.store.store_id = store;
    hb.part_count = 1;
    for (uint64_t id = first; id <= last && id != 0; id++) {
        snprintf(keys[id], sizeof keys[id], "k%02u", (unsigned)id);
        region_make(&hb.regions[hb.region_count], id, keys[id], "");
        hb.regions[hb.region_count].leader = store;
        hb.region_count++;
    }
    hb.store.leader_count = hb.region_count;
    return heartbeat_encode(&hb, buf, cap);
}

static void test_heartbeat_round_trip(void **state)
{
    (void)state;
    static struct rs_pd_heartbeat hb, back;
    memset(&hb, 0, sizeof hb);
    hb.store = (struct rs_pd_store_stats){.store_id = 3, .region_count = 5, .leader_count = 2,
                                          .key_count = 99, .size_bytes = 1234, .read_qps = 8,
                                          .write_qps = 9};
    hb.part_index = 1;
    hb.part_count = 2;
    hb.region_count = 2;
    region_make(&hb.regions[0], 4, "", "m");
    region_make(&hb.regions[1], 9, "m", "");
    hb.regions[1].learner_count = 1;
    hb.regions[1].learners[0] = 5;
    uint8_t buf[4096];
    size_t size = heartbeat_encode(&hb, buf, sizeof buf);
    assert_int_equal(rs_pd_frame_type(buf, size), RS_PD_MSG_HEARTBEAT);
    assert_int_equal(rs_pd_heartbeat_decode(buf, size, &back), RS_OK);
    assert_memory_equal(&back.store, &hb.store, sizeof hb.store);
    assert_int_equal(back.part_index, 1);
    assert_int_equal(back.region_count, 2);
    assert_int_equal(back.regions[1].id, 9);
    assert_int_equal(back.regions[1].leader, 3); /* the sender leads what it reports */
    assert_int_equal(back.regions[1].learners[0], 5);
    assert_int_equal(back.regions[0].end.size, 1);
    assert_memory_equal(back.regions[0].end.data, "m", 1);
    assert_int_equal(back.regions[1].key_count, 90);
    /* every single bit flip is caught by the frame checksum */
    for (size_t bit = 0; bit < size * 8; bit += 7) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(rs_pd_heartbeat_decode(buf, size, &back), RS_OK);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* truncated, and too small a buffer, and beyond the bounds */
    assert_int_equal(rs_pd_heartbeat_decode(buf, size - 1, &back), RS_ECORRUPT);
    size_t written;
    assert_int_equal(rs_pd_heartbeat_encode(&hb, buf, size - 1, &written), RS_ETOOBIG);
    hb.region_count = RS_PD_MSG_REGIONS_MAX + 1;
    assert_int_equal(rs_pd_heartbeat_encode(&hb, buf, sizeof buf, &written), RS_EINVAL);
}

static void test_instructions_round_trip(void **state)
{
    (void)state;
    static struct rs_pd_instructions list, back;
    memset(&list, 0, sizeof list);
    list.count = 3;
    list.items[0] = (struct rs_pd_instruction){.kind = RS_PD_TRANSFER_LEADER, .region_id = 4,
                                               .epoch = {2, 3}, .store_id = 2};
    list.items[1] = (struct rs_pd_instruction){.kind = RS_PD_RANGE_SPLIT, .region_id = 5,
                                               .epoch = {1, 1}, .new_region_id = 21,
                                               .split_key = text("k17")};
    list.items[2] = (struct rs_pd_instruction){.kind = RS_PD_CHANGE_PEER,
                                               .change = RS_PD_PROMOTE_LEARNER, .region_id = 6,
                                               .store_id = 4, .handler_index = 3};
    uint8_t buf[1024];
    size_t size = 0;
    assert_int_equal(rs_pd_instructions_encode(&list, buf, sizeof buf, &size), RS_OK);
    assert_int_equal(size, rs_pd_instructions_frame_size(&list));
    assert_int_equal(rs_pd_instructions_decode(buf, size, &back), RS_OK);
    assert_int_equal(back.count, 3);
    assert_int_equal(back.items[0].epoch.version, 3);
    assert_int_equal(back.items[1].new_region_id, 21);
    assert_memory_equal(back.items[1].split_key.data, "k17", 3);
    assert_int_equal(back.items[2].change, RS_PD_PROMOTE_LEARNER);
    assert_int_equal(back.items[2].handler_index, 3);
    buf[size - 1] ^= 1;
    assert_int_equal(rs_pd_instructions_decode(buf, size, &back), RS_ECORRUPT);
    assert_int_equal(back.count, 0);
    /* a heartbeat frame is not an instruction frame */
    size = heartbeat_frame(1, 1, 1, buf, sizeof buf);
    assert_int_equal(rs_pd_instructions_decode(buf, size, &back), RS_ECORRUPT);
}

static struct rs_pd_service *service_new(const char *policy)
{
    struct rs_pd_service *s = malloc(sizeof *s);
    assert_non_null(s);
    struct rs_pd_service_config cfg = {.id = 9, .policy = policy, .tick_ns = 100 * MS,
                                       .store_timeout_ns = 3 * S};
    rs_pd_params_default(&cfg.params);
    assert_int_equal(rs_pd_service_init(s, &cfg, 0, NULL, 0), RS_OK);
    return s;
}

static void test_service_rejects_unknown_policy(void **state)
{
    (void)state;
    struct rs_pd_service s;
    struct rs_pd_service_config cfg = {.id = 9, .policy = "leader-count,bogus"};
    rs_pd_params_default(&cfg.params);
    char message[RS_PD_MESSAGE_SIZE_MIN];
    assert_int_equal(rs_pd_service_init(&s, &cfg, 0, message, sizeof message), RS_EINVAL);
    assert_non_null(strstr(message, "bogus"));
}

/* Store 1 leads four regions on stores 1 and 2: the tick moves leaders to store 2, and each
 * instruction goes to store 1 (the leader) in a frame that decodes. */
static void test_service_tick_balances_leaders(void **state)
{
    (void)state;
    struct rs_pd_service *s = service_new("leader-count");
    uint8_t buf[8192];
    size_t size = heartbeat_frame(1, 1, 4, buf, sizeof buf);
    rs_pd_service_recv(s, 10 * MS, 1, buf, size);
    size = heartbeat_frame(2, 0, 0, buf, sizeof buf);
    rs_pd_service_recv(s, 20 * MS, 2, buf, size);
    assert_int_equal(s->stats.heartbeats, 2);
    struct rs_pd_view view = rs_pd_service_view(s);
    assert_int_equal(view.store_count, 2);
    assert_int_equal(view.region_count, 4);
    assert_int_equal(view.regions[3].leader, 1);
    assert_int_equal(s->out.msg_count, 0); /* leader-count runs on ticks only */
    assert_int_equal(rs_pd_service_deadline(s), 100 * MS);
    rs_pd_service_tick(s, 100 * MS);
    assert_true(s->out.msg_count >= 1);
    assert_int_equal(s->out.msgs[0].to, 1);
    static struct rs_pd_instructions list;
    assert_int_equal(rs_pd_instructions_decode(s->out.bytes + s->out.msgs[0].offset,
                                               s->out.msgs[0].size, &list),
                     RS_OK);
    assert_true(list.count >= 1);
    assert_int_equal(list.items[0].kind, RS_PD_TRANSFER_LEADER);
    assert_int_equal(list.items[0].store_id, 2);
    assert_int_equal(s->sent_count, s->stats.instructions_sent);
    assert_int_equal(rs_pd_service_deadline(s), 200 * MS);
    rs_pd_service_free(s);
    free(s);
}

/* A region heartbeat older than the view's is ignored; a newer one replaces it. */
static void test_service_ignores_stale_regions(void **state)
{
    (void)state;
    struct rs_pd_service *s = service_new("none");
    static struct rs_pd_heartbeat hb;
    memset(&hb, 0, sizeof hb);
    hb.store.store_id = 2;
    hb.part_count = 1;
    hb.region_count = 1;
    region_make(&hb.regions[0], 7, "", "");
    hb.regions[0].epoch = (struct rs_region_epoch){3, 2};
    uint8_t buf[4096];
    size_t size = heartbeat_encode(&hb, buf, sizeof buf);
    rs_pd_service_recv(s, 1 * MS, 2, buf, size);
    hb.regions[0].epoch = (struct rs_region_epoch){2, 2};
    hb.store.store_id = 1;
    size = heartbeat_encode(&hb, buf, sizeof buf);
    rs_pd_service_recv(s, 2 * MS, 1, buf, size);
    assert_int_equal(s->stats.stale_regions, 1);
    assert_int_equal(s->regions[0].leader, 2);
    hb.regions[0].epoch = (struct rs_region_epoch){1, 3};
    size = heartbeat_encode(&hb, buf, sizeof buf);
    rs_pd_service_recv(s, 3 * MS, 1, buf, size);
    assert_int_equal(s->regions[0].leader, 1);
    assert_int_equal(s->regions[0].epoch.version, 3);
    /* garbage is counted, not taken */
    buf[30] ^= 0x10;
    rs_pd_service_recv(s, 4 * MS, 1, buf, size);
    assert_int_equal(s->stats.corrupt_frames, 1);
    assert_int_equal(rs_pd_service_deadline(s), UINT64_MAX); /* no tick handlers */
    rs_pd_service_free(s);
    free(s);
}

/* A store with a PD sends a heartbeat every period (its deadline says when), and drops an
 * instruction for a region it does not lead. */
static void test_store_heartbeats_and_drops(void **state)
{
    (void)state;
    struct rs_raft_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.id = 3;
    cfg.election_timeout_ns = 1 * S;
    cfg.heartbeat_ns = 100 * MS;
    struct rs_store st;
    rs_store_init(&st, &cfg);
    assert_int_equal(rs_store_deadline(&st), UINT64_MAX);
    static const rs_node_id pd_nodes[] = {9};
    rs_store_pd_attach(&st, pd_nodes, 1, 500 * MS, 1 * S);
    assert_int_equal(rs_store_deadline(&st), 1500 * MS);
    rs_store_tick(&st, 1500 * MS);
    assert_int_equal(st.out.msg_count, 1);
    assert_int_equal(st.out.msgs[0].to, 9);
    static struct rs_pd_heartbeat hb;
    assert_int_equal(rs_pd_heartbeat_decode(st.out.bytes + st.out.msgs[0].offset,
                                            st.out.msgs[0].size, &hb),
                     RS_OK);
    assert_int_equal(hb.store.store_id, 3);
    assert_int_equal(hb.region_count, 0);
    assert_int_equal(rs_store_deadline(&st), 2 * S);
    rs_out_clear(&st.out);
    static struct rs_pd_instructions list;
    memset(&list, 0, sizeof list);
    list.count = 1;
    list.items[0] = (struct rs_pd_instruction){.kind = RS_PD_TRANSFER_LEADER, .region_id = 4,
                                               .epoch = {1, 1}, .store_id = 2};
    uint8_t buf[512];
    size_t size;
    assert_int_equal(rs_pd_instructions_encode(&list, buf, sizeof buf, &size), RS_OK);
    rs_store_recv(&st, 2 * S, 9, buf, size);
    assert_int_equal(st.stats.pd_received, 1);
    assert_int_equal(st.stats.pd_dropped, 1);
    assert_int_equal(st.pd_log_count, 1);
    assert_int_equal(st.pd_log[0].result, RS_ENOTLEADER);
    /* from anyone else it is not an instruction: an envelope that fails to decode */
    rs_store_recv(&st, 2 * S, 5, buf, size);
    assert_int_equal(st.stats.pd_received, 1);
    assert_int_equal(st.stats.corrupt_frames, 1);
    rs_store_free(&st);
}

/* Heartbeats find the PD group's leader: an unanswered one makes the next go to the next PD
 * node, a hint turns the store to the leader at once, and an acknowledgement keeps it there. */
static void test_store_finds_pd_leader(void **state)
{
    (void)state;
    struct rs_raft_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.id = 2;
    cfg.election_timeout_ns = 1 * S;
    cfg.heartbeat_ns = 100 * MS;
    struct rs_store st;
    rs_store_init(&st, &cfg);
    static const rs_node_id pd_nodes[] = {20, 21, 22};
    rs_store_pd_attach(&st, pd_nodes, 3, 500 * MS, 0);
    rs_store_tick(&st, 500 * MS);
    assert_int_equal(st.out.msgs[0].to, 20);
    rs_out_clear(&st.out);
    rs_store_tick(&st, 1 * S); /* 20 never answered */
    assert_int_equal(st.out.msg_count, 1);
    assert_int_equal(st.out.msgs[0].to, 21);
    rs_out_clear(&st.out);
    uint8_t frame[64];
    rs_pd_leader_encode(22, frame);
    rs_store_recv(&st, 1100 * MS, 21, frame, rs_pd_leader_frame_size());
    assert_int_equal(rs_store_deadline(&st), 1100 * MS); /* at once, to the leader */
    rs_store_tick(&st, 1100 * MS);
    assert_int_equal(st.out.msgs[0].to, 22);
    rs_out_clear(&st.out);
    rs_pd_leader_encode(22, frame);
    rs_store_recv(&st, 1110 * MS, 22, frame, rs_pd_leader_frame_size());
    rs_store_tick(&st, 1600 * MS); /* acknowledged: the same node again */
    assert_int_equal(st.out.msgs[0].to, 22);
    rs_out_clear(&st.out);
    /* a leader frame from a stranger is not the PD's: dropped as a bad envelope */
    uint64_t corrupt = st.stats.corrupt_frames;
    rs_store_recv(&st, 1700 * MS, 5, frame, rs_pd_leader_frame_size());
    assert_int_equal(st.stats.corrupt_frames, corrupt + 1);
    rs_store_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heartbeat_round_trip),
        cmocka_unit_test(test_instructions_round_trip),
        cmocka_unit_test(test_service_rejects_unknown_policy),
        cmocka_unit_test(test_service_tick_balances_leaders),
        cmocka_unit_test(test_service_ignores_stale_regions),
        cmocka_unit_test(test_store_heartbeats_and_drops),
        cmocka_unit_test(test_store_finds_pd_leader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
