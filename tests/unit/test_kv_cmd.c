/* Tests of the KV command, request and response codecs: round trips and hostile input. */
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

#include "core/kv/kv_cmd.h"
#include "core/wire/frame.h"

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    rng_state += 0x9e3779b97f4a7c15ull;
    uint64_t z = rng_state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/*
 * Static libraries are scanned in link order: this reference makes the linker take the host's
 * rs_assert_fail from rheasim_sim before it reaches rheasim_core, which needs it.
 */
void (*const rs_test_keep_assert)(const char *, const char *, int) = rs_assert_fail;

static struct rs_bytes str(const char *s)
{
    return (struct rs_bytes){(const uint8_t *)s, strlen(s)};
}

static bool bytes_equal(struct rs_bytes a, struct rs_bytes b)
{
    return a.size == b.size && (a.size == 0 || memcmp(a.data, b.data, a.size) == 0);
}

static uint8_t sample_list[4][128];

/* A list for the sample ops: two entries with every field an opcode may use. */
static struct rs_bytes list_of(unsigned opcode, unsigned slot)
{
    struct rs_kv_entry e[2] = {{str("a"), str("x"), str("1"), false},
                               {str("bb"), str(""), str("22"), false}};
    if (opcode != RS_KV_CAS_ALL) {
        e[0].expected = e[1].expected = (struct rs_bytes){0};
    }
    if (opcode == RS_KV_MULTI_GET || opcode == RS_KV_BATCH_DELETE) {
        e[0].value = e[1].value = (struct rs_bytes){0};
    }
    size_t n = 0;
    assert_int_equal(rs_kv_list_encode(opcode, e, 2, sample_list[slot], sizeof sample_list[0], &n),
                     RS_OK);
    return (struct rs_bytes){sample_list[slot], n};
}

/* One op of each kind, with empty and non-empty fields. */
static struct rs_kv_op sample_op(unsigned i)
{
    struct rs_kv_op op = {0};
    if (i >= 7) {
        op.opcode = (uint8_t)(RS_KV_MULTI_GET + (i - 7) % 13);
        switch (op.opcode) {
        case RS_KV_MULTI_GET:
        case RS_KV_BATCH_PUT:
        case RS_KV_BATCH_DELETE:
        case RS_KV_CAS_ALL: op.list = list_of(op.opcode, op.opcode % 4); break;
        case RS_KV_SCAN:
        case RS_KV_REVERSE_SCAN:
            op.limit = i;
            op.keys_only = i % 2;
            /* fall through */
        case RS_KV_DELETE_RANGE:
            op.key = str("start");
            op.end_key = str(i % 3 ? "end" : "");
            break;
        case RS_KV_GET_SEQUENCE: op.step = 0x1122334455667788ull; /* fall through */
        case RS_KV_CONTAINS_KEY:
        case RS_KV_RESET_SEQUENCE: op.key = str("seq"); break;
        case RS_KV_MERGE: op.key = str("m"); op.value = str("tail"); break;
        case RS_KV_LOCK:
            op.lease_ms = 30000;
            op.timestamp_ms = 123456789;
            op.fencing_key = str("fence");
            /* fall through */
        case RS_KV_UNLOCK: op.key = str("lock"); op.acquirer_id = 99; break;
        default: break;
        }
        return op;
    }
    switch (i % 7) {
    case 0: op = (struct rs_kv_op){RS_KV_GET, str("key"), {0}, {0}}; break;
    case 1: op = (struct rs_kv_op){RS_KV_PUT, str("k"), str("value"), {0}}; break;
    case 2: op = (struct rs_kv_op){RS_KV_DELETE, str("gone"), {0}, {0}}; break;
    case 3: op = (struct rs_kv_op){RS_KV_CAS, str("c"), str("new"), str("old")}; break;
    case 4: op = (struct rs_kv_op){RS_KV_PUT_IF_ABSENT, str("p"), str("v"), {0}}; break;
    case 5: op = (struct rs_kv_op){RS_KV_GET_AND_PUT, str("g"), str(""), {0}}; break;
    default: op = (struct rs_kv_op){RS_KV_CAS, str(""), str(""), str("")}; break;
    }
    return op;
}

static void assert_op_equal(const struct rs_kv_op *a, const struct rs_kv_op *b)
{
    assert_int_equal(a->opcode, b->opcode);
    assert_true(bytes_equal(a->key, b->key));
    assert_true(bytes_equal(a->value, b->value));
    assert_true(bytes_equal(a->expected, b->expected));
    assert_true(bytes_equal(a->end_key, b->end_key));
    assert_true(bytes_equal(a->list, b->list));
    assert_true(bytes_equal(a->fencing_key, b->fencing_key));
    assert_int_equal(a->limit, b->limit);
    assert_int_equal(a->keys_only, b->keys_only);
    assert_int_equal(a->step, b->step);
    assert_int_equal(a->acquirer_id, b->acquirer_id);
    assert_int_equal(a->lease_ms, b->lease_ms);
    assert_int_equal(a->timestamp_ms, b->timestamp_ms);
}

/* Decoders under test, all with one shape: bytes in, RS_OK or RS_ECORRUPT out. */
enum kind { KIND_CMD, KIND_REQUEST, KIND_RESPONSE, KIND_REQUEST_FRAME, KIND_RESPONSE_FRAME };

static enum rs_err decode_any(enum kind kind, const uint8_t *data, size_t size)
{
    struct rs_bytes b = {data, size};
    struct rs_kv_cmd cmd;
    struct rs_kv_request req;
    struct rs_kv_response resp;
    switch (kind) {
    case KIND_CMD: return rs_kv_cmd_decode(b, &cmd);
    case KIND_REQUEST: return rs_kv_request_decode(b, &req);
    case KIND_RESPONSE: return rs_kv_response_decode(b, &resp);
    case KIND_REQUEST_FRAME: return rs_kv_request_frame_decode(b, &req);
    default: return rs_kv_response_frame_decode(b, &resp);
    }
}

/* Re-encodes what decode_any accepted, to check that accepted bytes are canonical. */
static size_t reencode_any(enum kind kind, const uint8_t *data, size_t size, uint8_t *out,
                           size_t out_cap)
{
    struct rs_bytes b = {data, size};
    struct rs_kv_cmd cmd;
    struct rs_kv_request req;
    struct rs_kv_response resp;
    size_t n = 0;
    switch (kind) {
    case KIND_CMD:
        assert_int_equal(rs_kv_cmd_decode(b, &cmd), RS_OK);
        assert_int_equal(rs_kv_cmd_encode(&cmd, out, out_cap, &n), RS_OK);
        break;
    case KIND_REQUEST:
        assert_int_equal(rs_kv_request_decode(b, &req), RS_OK);
        assert_int_equal(rs_kv_request_encode(&req, out, out_cap, &n), RS_OK);
        break;
    case KIND_RESPONSE:
        assert_int_equal(rs_kv_response_decode(b, &resp), RS_OK);
        assert_int_equal(rs_kv_response_encode(&resp, out, out_cap, &n), RS_OK);
        break;
    case KIND_REQUEST_FRAME:
        assert_int_equal(rs_kv_request_frame_decode(b, &req), RS_OK);
        assert_int_equal(rs_kv_request_frame_encode(&req, out, out_cap, &n), RS_OK);
        break;
    default:
        assert_int_equal(rs_kv_response_frame_decode(b, &resp), RS_OK);
        assert_int_equal(rs_kv_response_frame_encode(&resp, out, out_cap, &n), RS_OK);
        break;
    }
    return n;
}

/*
 * Every strict prefix and every one-byte extension is rejected; every single-byte change is
 * rejected or decodes to something that re-encodes to exactly the changed bytes. Each probe
 * runs on an exactly sized heap copy, so an over-read shows under ASan.
 */
static void check_hostile(enum kind kind, const uint8_t *good, size_t size)
{
    assert_int_equal(decode_any(kind, good, size), RS_OK);
    for (size_t len = 0; len < size; len++) {
        uint8_t *copy = malloc(len + 1);
        memcpy(copy, good, len);
        assert_int_equal(decode_any(kind, copy, len), RS_ECORRUPT);
        free(copy);
    }
    uint8_t *longer = malloc(size + 1);
    memcpy(longer, good, size);
    longer[size] = 0;
    assert_int_equal(decode_any(kind, longer, size + 1), RS_ECORRUPT);
    free(longer);
    uint8_t *reencoded = malloc(size + 64);
    for (size_t i = 0; i < size; i++) {
        for (unsigned flip = 1; flip < 256; flip <<= 1) {
            uint8_t *copy = malloc(size);
            memcpy(copy, good, size);
            copy[i] ^= (uint8_t)flip;
            if (decode_any(kind, copy, size) == RS_OK) {
                size_t n = reencode_any(kind, copy, size, reencoded, size + 64);
                assert_int_equal(n, size);
                assert_memory_equal(reencoded, copy, size);
            }
            free(copy);
        }
    }
    free(reencoded);
}

static void test_cmd_round_trip_every_op(void **state)
{
    (void)state;
    uint8_t buf[256];
    for (unsigned i = 0; i < 20; i++) {
        struct rs_kv_cmd cmd = {0x0102030405060708ull + i, 77 + i, sample_op(i)};
        size_t n = 0;
        assert_int_equal(rs_kv_cmd_encode(&cmd, buf, sizeof buf, &n), RS_OK);
        assert_int_equal(n, rs_kv_cmd_size(&cmd));
        struct rs_kv_cmd back;
        assert_int_equal(rs_kv_cmd_decode((struct rs_bytes){buf, n}, &back), RS_OK);
        assert_int_equal(back.client_id, cmd.client_id);
        assert_int_equal(back.seq, cmd.seq);
        assert_op_equal(&back.op, &cmd.op);
        check_hostile(KIND_CMD, buf, n);
    }
}

static void test_cmd_encoder_refuses_bad_ops(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t n = 0;
    struct rs_kv_cmd cmd = {1, 1, {RS_KV_GET, str("k"), str("v"), {0}}};
    assert_int_equal(rs_kv_cmd_encode(&cmd, buf, sizeof buf, &n), RS_EINVAL);
    cmd.op = (struct rs_kv_op){RS_KV_PUT, str("k"), str("v"), str("e")};
    assert_int_equal(rs_kv_cmd_encode(&cmd, buf, sizeof buf, &n), RS_EINVAL);
    cmd.op = (struct rs_kv_op){0, str("k"), {0}, {0}};
    assert_int_equal(rs_kv_cmd_encode(&cmd, buf, sizeof buf, &n), RS_EINVAL);
    cmd.op = (struct rs_kv_op){RS_KV_OPCODE_MAX + 1, str("k"), {0}, {0}};
    assert_int_equal(rs_kv_cmd_encode(&cmd, buf, sizeof buf, &n), RS_EINVAL);
    static uint8_t big[RS_KV_VALUE_SIZE_MAX + 1];
    cmd.op = (struct rs_kv_op){RS_KV_GET, {big, RS_KV_KEY_SIZE_MAX + 1}, {0}, {0}};
    assert_int_equal(rs_kv_cmd_encode(&cmd, buf, sizeof buf, &n), RS_ETOOBIG);
    cmd.op = (struct rs_kv_op){RS_KV_PUT, str("k"), {big, RS_KV_VALUE_SIZE_MAX + 1}, {0}};
    assert_int_equal(rs_kv_cmd_encode(&cmd, buf, sizeof buf, &n), RS_ETOOBIG);
    cmd.op = (struct rs_kv_op){RS_KV_PUT, str("key"), str("value"), {0}};
    size_t need = rs_kv_cmd_size(&cmd);
    assert_int_equal(rs_kv_cmd_encode(&cmd, buf, need - 1, &n), RS_ENOSPACE);
    assert_int_equal(rs_kv_cmd_encode(&cmd, buf, need, &n), RS_OK);
}

/* The largest key and values encode and decode; one byte more is refused by the decoder. */
static void test_cmd_limits_on_decode(void **state)
{
    (void)state;
    static uint8_t key[RS_KV_KEY_SIZE_MAX];
    static uint8_t value[RS_KV_VALUE_SIZE_MAX];
    memset(key, 'k', sizeof key);
    memset(value, 'v', sizeof value);
    struct rs_kv_cmd cmd = {9, 9, {RS_KV_CAS, {key, sizeof key}, {value, sizeof value},
                                   {value, sizeof value}}};
    size_t cap = rs_kv_cmd_size(&cmd);
    assert_true(cap <= RS_KV_CMD_HEADER_SIZE + RS_KV_OP_SIZE_MAX);
    uint8_t *buf = malloc(cap + 1);
    size_t n = 0;
    assert_int_equal(rs_kv_cmd_encode(&cmd, buf, cap, &n), RS_OK);
    struct rs_kv_cmd back;
    assert_int_equal(rs_kv_cmd_decode((struct rs_bytes){buf, n}, &back), RS_OK);
    assert_op_equal(&back.op, &cmd.op);
    free(buf);
    /* A key of 1025 bytes, written by hand since the encoder refuses it. */
    size_t size = RS_KV_CMD_HEADER_SIZE + 4 + RS_KV_KEY_SIZE_MAX + 1;
    buf = calloc(1, size);
    buf[0] = RS_KV_CMD_VERSION;
    buf[1] = RS_KV_GET;
    rs_put_u32(buf + RS_KV_CMD_HEADER_SIZE, RS_KV_KEY_SIZE_MAX + 1);
    assert_int_equal(rs_kv_cmd_decode((struct rs_bytes){buf, size}, &back), RS_ECORRUPT);
    rs_put_u32(buf + RS_KV_CMD_HEADER_SIZE, RS_KV_KEY_SIZE_MAX);
    assert_int_equal(rs_kv_cmd_decode((struct rs_bytes){buf, size - 1}, &back), RS_OK);
    free(buf);
}

static void test_cmd_header_checks(void **state)
{
    (void)state;
    uint8_t buf[64];
    size_t n = 0;
    struct rs_kv_cmd cmd = {1, 2, {RS_KV_DELETE, str("k"), {0}, {0}}};
    assert_int_equal(rs_kv_cmd_encode(&cmd, buf, sizeof buf, &n), RS_OK);
    struct rs_kv_cmd back;
    uint8_t bad[64];
    const size_t offsets[] = {0, 1, 1, 2, 3};
    const uint8_t values[] = {2, 0, RS_KV_OPCODE_MAX + 1, 1, 1};
    for (size_t i = 0; i < 5; i++) {
        memcpy(bad, buf, n);
        bad[offsets[i]] = values[i];
        assert_int_equal(rs_kv_cmd_decode((struct rs_bytes){bad, n}, &back), RS_ECORRUPT);
    }
    assert_int_equal(rs_kv_cmd_decode((struct rs_bytes){NULL, 0}, &back), RS_ECORRUPT);
}

static void test_request_round_trip(void **state)
{
    (void)state;
    uint8_t buf[256];
    for (unsigned i = 0; i < 20; i++) {
        struct rs_kv_request req = {42, 1000 + i, 5000 + i, sample_op(i)};
        size_t n = 0;
        assert_int_equal(rs_kv_request_encode(&req, buf, sizeof buf, &n), RS_OK);
        assert_int_equal(n, rs_kv_request_size(&req));
        assert_int_equal(rs_get_u64(buf + RS_KV_REQUEST_ID_OFFSET), req.request_id);
        struct rs_kv_request back;
        assert_int_equal(rs_kv_request_decode((struct rs_bytes){buf, n}, &back), RS_OK);
        assert_int_equal(back.client_id, 42);
        assert_int_equal(back.seq, req.seq);
        assert_int_equal(back.request_id, req.request_id);
        assert_op_equal(&back.op, &req.op);
        check_hostile(KIND_REQUEST, buf, n);
        assert_int_equal(rs_kv_request_frame_encode(&req, buf, sizeof buf, &n), RS_OK);
        assert_int_equal(n, rs_kv_request_frame_size(&req));
        assert_int_equal(rs_kv_request_frame_decode((struct rs_bytes){buf, n}, &back), RS_OK);
        assert_op_equal(&back.op, &req.op);
        check_hostile(KIND_REQUEST_FRAME, buf, n);
    }
}

static struct rs_kv_response sample_response(unsigned i)
{
    struct rs_kv_response resp = {100 + i, 7, 8, RS_OK, (rs_node_id)i, {true, false, NULL, 0}};
    switch (i % 4) {
    case 0: resp.result = (struct rs_kv_result){false, true, (const uint8_t *)"old", 3}; break;
    case 1: resp.status = RS_ENOTLEADER; break;
    case 2: resp.result = (struct rs_kv_result){true, true, NULL, 0}; break;
    default: resp.status = RS_ETERMCHANGED; break;
    }
    return resp;
}

static void test_response_round_trip(void **state)
{
    (void)state;
    uint8_t buf[256];
    for (unsigned i = 0; i < 8; i++) {
        struct rs_kv_response resp = sample_response(i);
        size_t n = 0;
        assert_int_equal(rs_kv_response_encode(&resp, buf, sizeof buf, &n), RS_OK);
        assert_int_equal(n, rs_kv_response_size(&resp));
        struct rs_kv_response back;
        assert_int_equal(rs_kv_response_decode((struct rs_bytes){buf, n}, &back), RS_OK);
        assert_int_equal(back.request_id, resp.request_id);
        assert_int_equal(back.client_id, resp.client_id);
        assert_int_equal(back.seq, resp.seq);
        assert_int_equal(back.status, resp.status);
        assert_int_equal(back.leader_hint, resp.leader_hint);
        assert_int_equal(back.result.success, resp.result.success);
        assert_int_equal(back.result.found, resp.result.found);
        assert_true(bytes_equal((struct rs_bytes){back.result.value, back.result.value_size},
                                (struct rs_bytes){resp.result.value, resp.result.value_size}));
        check_hostile(KIND_RESPONSE, buf, n);
        assert_int_equal(rs_kv_response_frame_encode(&resp, buf, sizeof buf, &n), RS_OK);
        check_hostile(KIND_RESPONSE_FRAME, buf, n);
    }
}

static void test_response_checks(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t n = 0;
    struct rs_kv_response resp = {1, 2, 3, RS_OK, 0, {true, false, (const uint8_t *)"v", 1}};
    assert_int_equal(rs_kv_response_encode(&resp, buf, sizeof buf, &n), RS_EINVAL);
    resp.result.found = true;
    assert_int_equal(rs_kv_response_encode(&resp, buf, sizeof buf, &n), RS_OK);
    struct rs_kv_response back;
    uint8_t bad[128];
    /* Status past the last code, unknown result flag, value without found. */
    memcpy(bad, buf, n);
    bad[1] = RS_E_COUNT;
    assert_int_equal(rs_kv_response_decode((struct rs_bytes){bad, n}, &back), RS_ECORRUPT);
    memcpy(bad, buf, n);
    bad[RS_KV_RESPONSE_HEADER_SIZE] |= 0x80;
    assert_int_equal(rs_kv_response_decode((struct rs_bytes){bad, n}, &back), RS_ECORRUPT);
    memcpy(bad, buf, n);
    bad[RS_KV_RESPONSE_HEADER_SIZE] &= (uint8_t)~0x2;
    assert_int_equal(rs_kv_response_decode((struct rs_bytes){bad, n}, &back), RS_ECORRUPT);
    assert_int_equal(rs_kv_response_encode(&resp, buf, n - 1, &n), RS_ENOSPACE);
}

/* A frame of the other KV type, and a request frame with a flipped body byte, are refused. */
static void test_frame_type_and_checksum(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t n = 0;
    struct rs_kv_request req = {1, 2, 3, sample_op(1)};
    assert_int_equal(rs_kv_request_frame_encode(&req, buf, sizeof buf, &n), RS_OK);
    struct rs_kv_response resp;
    assert_int_equal(rs_kv_response_frame_decode((struct rs_bytes){buf, n}, &resp), RS_ECORRUPT);
    buf[n - 1] ^= 0x10;
    struct rs_kv_request back;
    assert_int_equal(rs_kv_request_frame_decode((struct rs_bytes){buf, n}, &back), RS_ECORRUPT);
    assert_int_equal(rs_kv_request_frame_encode(&req, buf, RS_FRAME_HEADER_SIZE + 3, &n),
                     RS_ENOSPACE);
    assert_int_equal(rs_kv_request_frame_encode(&req, buf, 3, &n), RS_ENOSPACE);
}

/* Random garbage of random lengths: decoders never crash and accept only canonical bytes. */
static void test_garbage(void **state)
{
    (void)state;
    rng_state = 12345;
    uint8_t reencoded[256];
    for (unsigned round = 0; round < 20000; round++) {
        size_t size = (size_t)(rng_next() % 80);
        uint8_t *data = malloc(size + 1);
        for (size_t i = 0; i < size; i++) {
            data[i] = (uint8_t)rng_next();
        }
        /* Make some inputs plausible so that the deeper checks are reached too. */
        if (size > 4 && round % 2 == 0) {
            data[0] = RS_KV_CMD_VERSION;
            data[1] = (uint8_t)(1 + rng_next() % RS_KV_OPCODE_MAX);
            data[2] = data[3] = 0;
        }
        for (enum kind k = KIND_CMD; k <= KIND_RESPONSE; k++) {
            if (decode_any(k, data, size) == RS_OK) {
                assert_int_equal(reencode_any(k, data, size, reencoded, sizeof reencoded),
                                 size);
                assert_memory_equal(reencoded, data, size);
            }
        }
        free(data);
    }
}


/* Results with numbers and entries round-trip; inconsistent flags and entries are refused. */
static void test_result_numbers_and_entries(void **state)
{
    (void)state;
    uint8_t entries[64];
    struct rs_writer w;
    rs_writer_init(&w, entries, sizeof entries);
    rs_w_u8(&w, 1);
    rs_w_blob(&w, "k", 1);
    rs_w_blob(&w, "v", 1);
    rs_w_u8(&w, 0);
    rs_w_blob(&w, "x", 1);
    rs_w_blob(&w, NULL, 0);
    struct rs_kv_response resp = {1, 2, 3, RS_OK, 0, {true, false, NULL, 0}};
    resp.result.truncated = true;
    resp.result.entries = entries;
    resp.result.entries_size = w.pos;
    resp.result.entry_count = 2;
    resp.result.lock_token = 7;
    resp.result.seq_end = 9;
    uint8_t buf[256];
    size_t n = 0;
    assert_int_equal(rs_kv_response_encode(&resp, buf, sizeof buf, &n), RS_OK);
    assert_int_equal(n, rs_kv_response_size(&resp));
    struct rs_kv_response back;
    assert_int_equal(rs_kv_response_decode((struct rs_bytes){buf, n}, &back), RS_OK);
    assert_true(back.result.truncated);
    assert_int_equal(back.result.lock_token, 7);
    assert_int_equal(back.result.seq_end, 9);
    assert_int_equal(back.result.entry_count, 2);
    struct rs_kv_iter it;
    struct rs_kv_entry e;
    rs_kv_entries_begin(&it, &back.result);
    assert_true(rs_kv_iter_next(&it, &e));
    assert_true(e.found && bytes_equal(e.key, str("k")) && bytes_equal(e.value, str("v")));
    assert_true(rs_kv_iter_next(&it, &e));
    assert_true(!e.found && bytes_equal(e.key, str("x")));
    assert_false(rs_kv_iter_next(&it, &e));
    check_hostile(KIND_RESPONSE, buf, n);
    /* one entry more than the bytes hold, and an entry count of zero with bytes */
    uint8_t bad[256];
    size_t count_at = n - 8 - w.pos;
    memcpy(bad, buf, n);
    rs_put_u32(bad + count_at, 3);
    assert_int_equal(rs_kv_response_decode((struct rs_bytes){bad, n}, &back), RS_ECORRUPT);
    rs_put_u32(bad + count_at, 1);
    assert_int_equal(rs_kv_response_decode((struct rs_bytes){bad, n}, &back), RS_ECORRUPT);
    /* the numbers flag with all numbers zero is not what the writer writes */
    struct rs_kv_response plain = {1, 2, 3, RS_OK, 0, {true, false, NULL, 0}};
    plain.result.seq_start = 1;
    assert_int_equal(rs_kv_response_encode(&plain, buf, sizeof buf, &n), RS_OK);
    memset(buf + RS_KV_RESPONSE_HEADER_SIZE + 5, 0, 48);
    assert_int_equal(rs_kv_response_decode((struct rs_bytes){buf, n}, &back), RS_ECORRUPT);
}

/* Decoders apply the op rules: repeated list keys, keys_only past 1, acquirer 0. */
static void test_decoder_applies_op_rules(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t n = 0;
    struct rs_kv_cmd cmd = {1, 1, sample_op(7 + RS_KV_SCAN - RS_KV_MULTI_GET)};
    assert_int_equal(cmd.op.opcode, RS_KV_SCAN);
    assert_int_equal(rs_kv_cmd_encode(&cmd, buf, sizeof buf, &n), RS_OK);
    buf[n - 1] = 2; /* keys_only */
    struct rs_kv_cmd back;
    assert_int_equal(rs_kv_cmd_decode((struct rs_bytes){buf, n}, &back), RS_ECORRUPT);
    cmd.op = sample_op(7 + RS_KV_UNLOCK - RS_KV_MULTI_GET);
    assert_int_equal(rs_kv_cmd_encode(&cmd, buf, sizeof buf, &n), RS_OK);
    rs_put_u64(buf + n - 8, 0);
    assert_int_equal(rs_kv_cmd_decode((struct rs_bytes){buf, n}, &back), RS_ECORRUPT);
    cmd.op = sample_op(7 + RS_KV_BATCH_DELETE - RS_KV_MULTI_GET);
    assert_int_equal(rs_kv_cmd_encode(&cmd, buf, sizeof buf, &n), RS_OK);
    /* the list is "a", "bb": make the second key "a" too (same length by dropping a byte
     * is not possible, so rewrite both as one-byte keys) */
    struct rs_kv_entry twice[2] = {{str("a"), {0}, {0}, false}, {str("a"), {0}, {0}, false}};
    size_t ln = 0;
    assert_int_equal(rs_kv_list_encode(RS_KV_BATCH_DELETE, twice, 2, sample_list[0],
                                       sizeof sample_list[0], &ln),
                     RS_EINVAL);
    cmd.op.list = (struct rs_bytes){sample_list[0], ln};
    assert_int_equal(rs_kv_cmd_encode(&cmd, buf, sizeof buf, &n), RS_EINVAL);
    /* a field the opcode does not use */
    cmd.op = sample_op(0);
    cmd.op.step = 1;
    assert_int_equal(rs_kv_cmd_encode(&cmd, buf, sizeof buf, &n), RS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_round_trip_every_op),
        cmocka_unit_test(test_cmd_encoder_refuses_bad_ops),
        cmocka_unit_test(test_cmd_limits_on_decode),
        cmocka_unit_test(test_cmd_header_checks),
        cmocka_unit_test(test_request_round_trip),
        cmocka_unit_test(test_response_round_trip),
        cmocka_unit_test(test_response_checks),
        cmocka_unit_test(test_frame_type_and_checksum),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_result_numbers_and_entries),
        cmocka_unit_test(test_decoder_applies_op_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
