/* Tests of the KV client: scripted exchanges with hand-made server answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Ops and results are spelled positionally (opcode, key, value, expected; success, found,
 * value, value_size): the fields added after those stay zero, as they should. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "core/client/client.h"
#include "core/kv/kv_cmd.h"
#include "core/wire/frame.h"

#define CLIENT_ID  77u
#define REQUEST_NS (100 * RS_NS_PER_MS)
#define OP_NS      RS_NS_PER_S

/*
 * Static libraries are scanned in link order: this reference makes the linker take the host's
 * rs_assert_fail from rheasim_sim before it reaches rheasim_core, which needs it.
 */
void (*const rs_test_keep_assert)(const char *, const char *, int) = rs_assert_fail;

static struct rs_bytes str(const char *s)
{
    return (struct rs_bytes){(const uint8_t *)s, strlen(s)};
}

static void client_start(struct rs_client *c, uint64_t seed, uint32_t node_count)
{
    struct rs_client_config cfg = {CLIENT_ID, node_count, REQUEST_NS, OP_NS, seed, 0};
    rs_client_init(c, &cfg);
}

static struct rs_kv_op op_put(const char *k, const char *v)
{
    return (struct rs_kv_op){RS_KV_PUT, str(k), str(v), {0}};
}

static struct rs_kv_op op_get(const char *k)
{
    return (struct rs_kv_op){RS_KV_GET, str(k), {0}, {0}};
}

/* Decodes the single request the last call sent, and returns it with its target. */
static struct rs_kv_request sent_request(const struct rs_client_out *out, rs_node_id *to)
{
    assert_int_equal(out->send_count, 1);
    struct rs_kv_request req;
    assert_int_equal(rs_kv_request_frame_decode(
                         (struct rs_bytes){out->sends[0].frame, out->sends[0].frame_size}, &req),
                     RS_OK);
    *to = out->sends[0].to;
    return req;
}

/* A server's answer to req, framed into buf. */
static size_t answer(uint8_t *buf, size_t cap, const struct rs_kv_request *req,
                     enum rs_err status, rs_node_id hint, struct rs_kv_result result)
{
    struct rs_kv_response resp = {req->request_id, req->client_id, req->seq, status, hint,
                                  result};
    size_t n = 0;
    assert_int_equal(rs_kv_response_frame_encode(&resp, buf, cap, &n), RS_OK);
    return n;
}

static const struct rs_kv_result ok_result = {true, false, NULL, 0};

static void assert_quiet(const struct rs_client_out *out)
{
    assert_int_equal(out->send_count, 0);
    assert_false(out->done);
}

static void test_first_node_from_seed(void **state)
{
    (void)state;
    bool seen[6] = {false};
    for (uint64_t seed = 1; seed <= 64; seed++) {
        struct rs_client a, b;
        client_start(&a, seed, 5);
        client_start(&b, seed, 5);
        struct rs_client_out out_a, out_b;
        struct rs_kv_op op = op_put("k", "v");
        assert_int_equal(rs_client_submit(&a, 0, &op, &out_a), RS_OK);
        assert_int_equal(rs_client_submit(&b, 0, &op, &out_b), RS_OK);
        assert_int_equal(out_a.sends[0].to, out_b.sends[0].to);
        assert_in_range(out_a.sends[0].to, 1, 5);
        seen[out_a.sends[0].to] = true;
        rs_client_free(&a);
        rs_client_free(&b);
    }
    for (int n = 1; n <= 5; n++) {
        assert_true(seen[n]);
    }
}

static void test_leader_found_via_hint(void **state)
{
    (void)state;
    struct rs_client c;
    client_start(&c, 3, 5);
    struct rs_client_out out;
    uint8_t buf[256];
    struct rs_kv_op op = op_put("k", "v");
    assert_int_equal(rs_client_submit(&c, 0, &op, &out), RS_OK);
    assert_int_equal(out.deadline_ns, REQUEST_NS);
    rs_node_id first = 0, second = 0, third = 0;
    struct rs_kv_request r1 = sent_request(&out, &first);
    assert_int_equal(r1.client_id, CLIENT_ID);
    assert_int_equal(r1.seq, 1);
    /* Neither the node asked nor the one round robin would pick next. */
    rs_node_id leader = (first + 1) % 5 + 1;
    size_t n = answer(buf, sizeof buf, &r1, RS_ENOTLEADER, leader, ok_result);
    rs_client_recv(&c, 5 * RS_NS_PER_MS, first, buf, n, &out);
    struct rs_kv_request r2 = sent_request(&out, &second);
    assert_int_equal(second, leader);
    assert_int_equal(r2.seq, r1.seq);
    assert_int_not_equal(r2.request_id, r1.request_id);
    assert_int_equal(out.deadline_ns, 5 * RS_NS_PER_MS + REQUEST_NS);
    n = answer(buf, sizeof buf, &r2, RS_OK, 0, ok_result);
    rs_client_recv(&c, 6 * RS_NS_PER_MS, leader, buf, n, &out);
    assert_true(out.done);
    assert_int_equal(out.outcome, RS_CLIENT_OK);
    assert_int_equal(out.status, RS_OK);
    assert_true(out.result.success);
    assert_int_equal(out.send_count, 0);
    assert_int_equal(out.deadline_ns, 0);
    assert_false(rs_client_busy(&c));
    /* The next operation goes straight to the leader, with the next seq. */
    assert_int_equal(rs_client_submit(&c, 7 * RS_NS_PER_MS, &op, &out), RS_OK);
    struct rs_kv_request r3 = sent_request(&out, &third);
    assert_int_equal(third, leader);
    assert_int_equal(r3.seq, 2);
    rs_client_free(&c);
}

/* Without hints the client walks the nodes, then pauses after a whole round. */
static void test_not_leader_without_hint(void **state)
{
    (void)state;
    struct rs_client c;
    client_start(&c, 11, 3);
    struct rs_client_out out;
    uint8_t buf[256];
    struct rs_kv_op op = op_put("k", "v");
    assert_int_equal(rs_client_submit(&c, 0, &op, &out), RS_OK);
    rs_node_id to = 0, expected = 0;
    struct rs_kv_request req = sent_request(&out, &to);
    expected = to;
    for (int i = 0; i < 2; i++) {
        /* A hint outside 1..node_count counts as none. */
        size_t n = answer(buf, sizeof buf, &req, RS_ENOTLEADER, i == 0 ? 0 : 9, ok_result);
        rs_client_recv(&c, 1000, to, buf, n, &out);
        req = sent_request(&out, &to);
        expected = expected % 3 + 1;
        assert_int_equal(to, expected);
        assert_int_equal(req.seq, 1);
    }
    size_t n = answer(buf, sizeof buf, &req, RS_ENOTLEADER, 0, ok_result);
    rs_client_recv(&c, 2000, to, buf, n, &out);
    assert_quiet(&out);
    uint64_t backoff_ns = REQUEST_NS / 10;
    assert_in_range(out.deadline_ns, 2000 + backoff_ns, 2000 + 2 * backoff_ns - 1);
    uint64_t retry_ns = out.deadline_ns;
    rs_client_tick(&c, retry_ns - 1, &out);
    assert_quiet(&out);
    assert_int_equal(out.deadline_ns, retry_ns);
    rs_client_tick(&c, retry_ns, &out);
    req = sent_request(&out, &to);
    assert_int_equal(to, expected % 3 + 1);
    assert_int_equal(rs_client_attempt_count(&c), 4);
    rs_client_free(&c);
}

static void test_request_timeout_retries_next_node(void **state)
{
    (void)state;
    struct rs_client c;
    client_start(&c, 5, 3);
    struct rs_client_out out;
    uint8_t buf[256];
    struct rs_kv_op op = op_put("k", "v");
    assert_int_equal(rs_client_submit(&c, 1000, &op, &out), RS_OK);
    rs_node_id first = 0, second = 0;
    struct rs_kv_request r1 = sent_request(&out, &first);
    rs_client_tick(&c, 1000 + REQUEST_NS - 1, &out);
    assert_quiet(&out);
    rs_client_tick(&c, 1000 + REQUEST_NS, &out);
    struct rs_kv_request r2 = sent_request(&out, &second);
    assert_int_equal(second, first % 3 + 1);
    assert_int_equal(r2.seq, r1.seq);
    assert_int_equal(r2.client_id, r1.client_id);
    assert_int_not_equal(r2.request_id, r1.request_id);
    assert_int_equal(out.deadline_ns, 1000 + 2 * REQUEST_NS);
    /* The first attempt's answer arrives late: ignored, even though it says OK. */
    size_t n = answer(buf, sizeof buf, &r1, RS_OK, 0, ok_result);
    rs_client_recv(&c, 1000 + REQUEST_NS + 5, first, buf, n, &out);
    assert_quiet(&out);
    assert_int_equal(out.deadline_ns, 1000 + 2 * REQUEST_NS);
    n = answer(buf, sizeof buf, &r2, RS_OK, 0, ok_result);
    rs_client_recv(&c, 1000 + REQUEST_NS + 6, second, buf, n, &out);
    assert_true(out.done);
    assert_int_equal(out.outcome, RS_CLIENT_OK);
    /* A duplicate of the winning answer, after the operation ended: ignored. */
    rs_client_recv(&c, 1000 + REQUEST_NS + 7, second, buf, n, &out);
    assert_quiet(&out);
    assert_int_equal(out.deadline_ns, 0);
    /* And still ignored once the next operation is in flight. */
    assert_int_equal(rs_client_submit(&c, 1000 + REQUEST_NS + 8, &op, &out), RS_OK);
    rs_client_recv(&c, 1000 + REQUEST_NS + 9, second, buf, n, &out);
    assert_quiet(&out);
    assert_true(rs_client_busy(&c));
    rs_client_free(&c);
}

/* Nobody answers: the client retries at every request timeout until the op timeout. */
static void run_until_op_timeout(struct rs_kv_op op, enum rs_client_outcome expected)
{
    struct rs_client c;
    client_start(&c, 9, 3);
    struct rs_client_out out;
    assert_int_equal(rs_client_submit(&c, 0, &op, &out), RS_OK);
    rs_node_id to = 0, prev = 0;
    sent_request(&out, &prev);
    uint32_t attempts = 1;
    for (int i = 0; i < 100 && !out.done; i++) {
        uint64_t at = out.deadline_ns;
        assert_true(at > 0);
        rs_client_tick(&c, at, &out);
        if (out.send_count > 0) {
            struct rs_kv_request req = sent_request(&out, &to);
            assert_int_equal(req.seq, 1);
            assert_int_equal(to, prev % 3 + 1);
            prev = to;
            attempts++;
        } else {
            assert_true(out.done);
            assert_int_equal(at, OP_NS);
        }
    }
    assert_true(out.done);
    assert_int_equal(out.outcome, expected);
    assert_int_equal(out.status, RS_ETIMEDOUT);
    assert_int_equal(out.deadline_ns, 0);
    assert_int_equal(attempts, OP_NS / REQUEST_NS);
    assert_int_equal(rs_client_attempt_count(&c), attempts);
    assert_false(rs_client_busy(&c));
    rs_client_free(&c);
}

static void test_op_timeout_write_is_info(void **state)
{
    (void)state;
    run_until_op_timeout(op_put("k", "v"), RS_CLIENT_INFO);
    run_until_op_timeout((struct rs_kv_op){RS_KV_CAS, str("k"), str("v"), str("e")},
                         RS_CLIENT_INFO);
}

static void test_op_timeout_read_is_fail(void **state)
{
    (void)state;
    run_until_op_timeout(op_get("k"), RS_CLIENT_FAIL);
}

static void test_corrupt_frames_ignored(void **state)
{
    (void)state;
    struct rs_client c;
    client_start(&c, 1, 3);
    struct rs_client_out out;
    uint8_t buf[256], bad[256];
    struct rs_kv_op op = op_get("k");
    assert_int_equal(rs_client_submit(&c, 0, &op, &out), RS_OK);
    rs_node_id to = 0;
    struct rs_kv_request req = sent_request(&out, &to);
    struct rs_kv_result found = {true, true, (const uint8_t *)"value", 5};
    size_t n = answer(buf, sizeof buf, &req, RS_OK, 0, found);
    for (size_t i = 0; i < n; i++) {
        memcpy(bad, buf, n);
        bad[i] ^= 0x40;
        rs_client_recv(&c, 10, to, bad, n, &out);
        assert_quiet(&out);
        assert_int_equal(out.deadline_ns, REQUEST_NS);
    }
    for (size_t len = 0; len < n; len++) {
        rs_client_recv(&c, 10, to, buf, len, &out);
        assert_quiet(&out);
    }
    /* A well-formed frame of the wrong type, and answers meant for another client or seq. */
    size_t m = 0;
    assert_int_equal(rs_kv_request_frame_encode(&req, bad, sizeof bad, &m), RS_OK);
    rs_client_recv(&c, 10, to, bad, m, &out);
    assert_quiet(&out);
    struct rs_kv_request other = req;
    other.client_id = CLIENT_ID + 1;
    m = answer(bad, sizeof bad, &other, RS_OK, 0, found);
    rs_client_recv(&c, 10, to, bad, m, &out);
    assert_quiet(&out);
    other = req;
    other.seq = req.seq + 1;
    m = answer(bad, sizeof bad, &other, RS_OK, 0, found);
    rs_client_recv(&c, 10, to, bad, m, &out);
    assert_quiet(&out);
    /* The real answer still completes the operation; its value is the client's own copy. */
    rs_client_recv(&c, 11, to, buf, n, &out);
    memset(buf, 0, sizeof buf);
    assert_true(out.done);
    assert_int_equal(out.outcome, RS_CLIENT_OK);
    assert_true(out.result.found);
    assert_int_equal(out.result.value_size, 5);
    assert_memory_equal(out.result.value, "value", 5);
    rs_client_free(&c);
}

static void test_busy_backs_off_and_retries_same_node(void **state)
{
    (void)state;
    struct rs_client c;
    client_start(&c, 2, 3);
    struct rs_client_out out;
    uint8_t buf[256];
    struct rs_kv_op op = op_put("k", "v");
    assert_int_equal(rs_client_submit(&c, 0, &op, &out), RS_OK);
    rs_node_id first = 0, second = 0;
    struct rs_kv_request r1 = sent_request(&out, &first);
    size_t n = answer(buf, sizeof buf, &r1, RS_EBUSY, 0, ok_result);
    rs_client_recv(&c, 50, first, buf, n, &out);
    assert_quiet(&out);
    assert_in_range(out.deadline_ns, 50 + REQUEST_NS / 10, 50 + 2 * (REQUEST_NS / 10) - 1);
    uint64_t retry_ns = out.deadline_ns;
    /* A duplicate of the BUSY answer changes nothing: that attempt is over. */
    rs_client_recv(&c, 60, first, buf, n, &out);
    assert_quiet(&out);
    assert_int_equal(out.deadline_ns, retry_ns);
    rs_client_tick(&c, retry_ns, &out);
    struct rs_kv_request r2 = sent_request(&out, &second);
    assert_int_equal(second, first);
    assert_int_equal(r2.seq, r1.seq);
    assert_int_not_equal(r2.request_id, r1.request_id);
    /* A stale-leader answer is handled the same way. */
    n = answer(buf, sizeof buf, &r2, RS_ETERMCHANGED, 0, ok_result);
    rs_client_recv(&c, retry_ns + 1, second, buf, n, &out);
    assert_quiet(&out);
    assert_true(out.deadline_ns > retry_ns + 1);
    rs_client_free(&c);
}

static void test_refused_request_fails(void **state)
{
    (void)state;
    struct rs_client c;
    client_start(&c, 4, 3);
    struct rs_client_out out;
    uint8_t buf[256];
    struct rs_kv_op op = op_put("k", "v");
    assert_int_equal(rs_client_submit(&c, 0, &op, &out), RS_OK);
    rs_node_id to = 0;
    struct rs_kv_request req = sent_request(&out, &to);
    size_t n = answer(buf, sizeof buf, &req, RS_EINVAL, 0, (struct rs_kv_result){0});
    rs_client_recv(&c, 10, to, buf, n, &out);
    assert_true(out.done);
    assert_int_equal(out.outcome, RS_CLIENT_FAIL);
    assert_int_equal(out.status, RS_EINVAL);
    rs_client_free(&c);
}

static void test_submit_checks(void **state)
{
    (void)state;
    struct rs_client c;
    client_start(&c, 4, 3);
    struct rs_client_out out;
    struct rs_kv_op bad = {RS_KV_GET, str("k"), str("v"), {0}};
    assert_int_equal(rs_client_submit(&c, 0, &bad, &out), RS_EINVAL);
    assert_int_equal(out.send_count, 0);
    assert_false(rs_client_busy(&c));
    struct rs_kv_op op = op_put("k", "v");
    assert_int_equal(rs_client_submit(&c, 0, &op, &out), RS_OK);
    assert_int_equal(rs_client_seq(&c), 1);
    assert_int_equal(rs_client_submit(&c, 5, &op, &out), RS_EBUSY);
    assert_int_equal(out.send_count, 0);
    assert_int_equal(out.deadline_ns, REQUEST_NS);
    assert_int_equal(rs_client_seq(&c), 1);
    rs_client_free(&c);
}

/* Two clients with one seed, fed the same events, send the same bytes at the same times. */
static void test_deterministic(void **state)
{
    (void)state;
    struct rs_client a, b;
    client_start(&a, 99, 5);
    client_start(&b, 99, 5);
    struct rs_client_out out_a, out_b;
    uint8_t buf[256];
    struct rs_kv_op op = op_put("key", "value");
    assert_int_equal(rs_client_submit(&a, 0, &op, &out_a), RS_OK);
    assert_int_equal(rs_client_submit(&b, 0, &op, &out_b), RS_OK);
    for (int step = 0; step < 30 && !out_a.done; step++) {
        assert_int_equal(out_a.send_count, out_b.send_count);
        assert_int_equal(out_a.deadline_ns, out_b.deadline_ns);
        if (out_a.send_count > 0) {
            assert_int_equal(out_a.sends[0].to, out_b.sends[0].to);
            assert_int_equal(out_a.sends[0].frame_size, out_b.sends[0].frame_size);
            assert_memory_equal(out_a.sends[0].frame, out_b.sends[0].frame,
                                out_a.sends[0].frame_size);
        }
        if (out_a.send_count > 0 && step % 3 != 2) {
            rs_node_id to = 0;
            struct rs_kv_request req = sent_request(&out_a, &to);
            size_t n = answer(buf, sizeof buf, &req, step % 3 ? RS_EBUSY : RS_ENOTLEADER, 0,
                              ok_result);
            rs_client_recv(&a, out_a.deadline_ns - 1, to, buf, n, &out_a);
            rs_client_recv(&b, out_b.deadline_ns - 1, to, buf, n, &out_b);
        } else {
            rs_client_tick(&a, out_a.deadline_ns, &out_a);
            rs_client_tick(&b, out_b.deadline_ns, &out_b);
        }
    }
    assert_int_equal(out_a.done, out_b.done);
    rs_client_free(&a);
    rs_client_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_node_from_seed),
        cmocka_unit_test(test_leader_found_via_hint),
        cmocka_unit_test(test_not_leader_without_hint),
        cmocka_unit_test(test_request_timeout_retries_next_node),
        cmocka_unit_test(test_op_timeout_write_is_info),
        cmocka_unit_test(test_op_timeout_read_is_fail),
        cmocka_unit_test(test_corrupt_frames_ignored),
        cmocka_unit_test(test_busy_backs_off_and_retries_same_node),
        cmocka_unit_test(test_refused_request_fails),
        cmocka_unit_test(test_submit_checks),
        cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
