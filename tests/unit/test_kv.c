/* Tests of the KV state machine: op semantics, sessions, digest and snapshots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Ops and results are spelled positionally (opcode, key, value, expected; success, found,
 * value, value_size): the fields added after those stay zero, as they should. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "core/kv/kv.h"
#include "core/kv/kv_cmd.h"

#include <xxhash.h>

/*
 * Static libraries are scanned in link order: this reference makes the linker take the host's
 * rs_assert_fail from rheasim_sim before it reaches rheasim_core, which needs it.
 */
void (*const rs_test_keep_assert)(const char *, const char *, int) = rs_assert_fail;

static struct rs_bytes str(const char *s)
{
    return (struct rs_bytes){(const uint8_t *)s, strlen(s)};
}

static struct rs_kv_op op_get(const char *k)
{
    return (struct rs_kv_op){RS_KV_GET, str(k), {0}, {0}};
}
static struct rs_kv_op op_put(const char *k, const char *v)
{
    return (struct rs_kv_op){RS_KV_PUT, str(k), str(v), {0}};
}
static struct rs_kv_op op_delete(const char *k)
{
    return (struct rs_kv_op){RS_KV_DELETE, str(k), {0}, {0}};
}
static struct rs_kv_op op_cas(const char *k, const char *expected, const char *v)
{
    return (struct rs_kv_op){RS_KV_CAS, str(k), str(v), str(expected)};
}
static struct rs_kv_op op_put_if_absent(const char *k, const char *v)
{
    return (struct rs_kv_op){RS_KV_PUT_IF_ABSENT, str(k), str(v), {0}};
}
static struct rs_kv_op op_get_and_put(const char *k, const char *v)
{
    return (struct rs_kv_op){RS_KV_GET_AND_PUT, str(k), str(v), {0}};
}

/* Applies through the real path: encode the command, then rs_kv_apply at the next index. */
static enum rs_err apply(struct rs_kv *kv, uint64_t client_id, uint64_t seq,
                         struct rs_kv_op op, struct rs_kv_result *res)
{
    uint8_t buf[512];
    size_t n = 0;
    struct rs_kv_cmd cmd = {client_id, seq, op};
    assert_int_equal(rs_kv_cmd_encode(&cmd, buf, sizeof buf, &n), RS_OK);
    return rs_kv_apply(kv, rs_kv_applied_index(kv) + 1, (struct rs_bytes){buf, n}, res);
}

static void apply_ok(struct rs_kv *kv, struct rs_kv_op op, struct rs_kv_result *res)
{
    assert_int_equal(apply(kv, 0, 0, op, res), RS_OK);
}

static void assert_value(const struct rs_kv_result *res, const char *expected)
{
    assert_true(res->found);
    assert_int_equal(res->value_size, strlen(expected));
    if (res->value_size > 0) {
        assert_memory_equal(res->value, expected, res->value_size);
    } else {
        assert_null(res->value);
    }
}

static void assert_get(const struct rs_kv *kv, const char *k, const char *expected)
{
    struct rs_kv_result res;
    struct rs_kv_op op = op_get(k);
    assert_int_equal(rs_kv_read(kv, &op, &res), RS_OK);
    if (expected == NULL) {
        assert_false(res.found);
        assert_null(res.value);
        assert_int_equal(res.value_size, 0);
    } else {
        assert_value(&res, expected);
    }
}

static void test_get_put_delete(void **state)
{
    (void)state;
    struct rs_kv kv;
    rs_kv_init(&kv);
    struct rs_kv_result res;
    apply_ok(&kv, op_get("a"), &res);
    assert_false(res.found);
    apply_ok(&kv, op_put("a", "1"), &res);
    assert_true(res.success);
    assert_false(res.found);
    apply_ok(&kv, op_get("a"), &res);
    assert_value(&res, "1");
    apply_ok(&kv, op_put("a", "22"), &res);
    assert_get(&kv, "a", "22");
    apply_ok(&kv, op_put("e", ""), &res);
    assert_get(&kv, "e", "");
    assert_int_equal(rs_kv_key_count(&kv), 2);
    assert_int_equal(rs_kv_key_bytes(&kv), 2);
    assert_int_equal(rs_kv_value_bytes(&kv), 2);
    apply_ok(&kv, op_delete("a"), &res);
    assert_true(res.success);
    assert_true(res.found);
    apply_ok(&kv, op_delete("a"), &res);
    assert_true(res.success);
    assert_false(res.found);
    assert_get(&kv, "a", NULL);
    assert_int_equal(rs_kv_key_count(&kv), 1);
    assert_int_equal(rs_kv_value_bytes(&kv), 0);
    assert_int_equal(rs_kv_applied_index(&kv), 7);
    rs_kv_free(&kv);
}

static void test_cas(void **state)
{
    (void)state;
    struct rs_kv kv;
    rs_kv_init(&kv);
    struct rs_kv_result res;
    /* A missing key never matches, not even an empty expected value. */
    apply_ok(&kv, op_cas("k", "", "x"), &res);
    assert_false(res.success);
    assert_false(res.found);
    assert_get(&kv, "k", NULL);
    apply_ok(&kv, op_put("k", "v1"), &res);
    apply_ok(&kv, op_cas("k", "v0", "v2"), &res);
    assert_false(res.success);
    assert_true(res.found);
    assert_get(&kv, "k", "v1");
    apply_ok(&kv, op_cas("k", "v", "v2"), &res);
    assert_false(res.success);
    apply_ok(&kv, op_cas("k", "v1", "v2"), &res);
    assert_true(res.success);
    assert_get(&kv, "k", "v2");
    apply_ok(&kv, op_put("e", ""), &res);
    apply_ok(&kv, op_cas("e", "", "full"), &res);
    assert_true(res.success);
    assert_get(&kv, "e", "full");
    rs_kv_free(&kv);
}

static void test_put_if_absent_and_get_and_put(void **state)
{
    (void)state;
    struct rs_kv kv;
    rs_kv_init(&kv);
    struct rs_kv_result res;
    apply_ok(&kv, op_put_if_absent("p", "first"), &res);
    assert_true(res.success);
    assert_false(res.found);
    apply_ok(&kv, op_put_if_absent("p", "second"), &res);
    assert_false(res.success);
    assert_value(&res, "first");
    assert_get(&kv, "p", "first");
    apply_ok(&kv, op_get_and_put("g", "one"), &res);
    assert_true(res.success);
    assert_false(res.found);
    apply_ok(&kv, op_get_and_put("g", "two"), &res);
    assert_true(res.success);
    /* The previous value outlives its replacement until the next change. */
    assert_value(&res, "one");
    assert_get(&kv, "g", "two");
    rs_kv_free(&kv);
}

/* Keys are byte strings: a prefix sorts first, and embedded or trailing zeros matter. */
static void test_key_order_in_snapshot(void **state)
{
    (void)state;
    struct rs_kv kv;
    rs_kv_init(&kv);
    struct rs_kv_result res;
    const struct rs_bytes keys[] = {{(const uint8_t *)"b", 1}, {(const uint8_t *)"a\0", 2},
                                    {(const uint8_t *)"", 0},  {(const uint8_t *)"a", 1},
                                    {(const uint8_t *)"\xff", 1}, {(const uint8_t *)"ab", 2}};
    for (size_t i = 0; i < 6; i++) {
        struct rs_kv_op op = {RS_KV_PUT, keys[i], str("v"), {0}};
        apply_ok(&kv, op, &res);
    }
    assert_int_equal(rs_kv_key_count(&kv), 6);
    size_t size = rs_kv_snapshot_size(&kv);
    uint8_t *snap = malloc(size);
    assert_int_equal(rs_kv_snapshot_write(&kv, snap, size), size);
    const char *expected[] = {"", "a", "a\0", "ab", "b", "\xff"};
    const size_t expected_size[] = {0, 1, 2, 2, 1, 1};
    size_t pos = 32;
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(snap[pos++], RS_KV_SPACE_DATA);
        assert_int_equal(rs_get_u32(snap + pos), expected_size[i]);
        assert_memory_equal(snap + pos + 4, expected[i], expected_size[i]);
        pos += 4 + expected_size[i];
        pos += 4 + rs_get_u32(snap + pos);
    }
    free(snap);
    rs_kv_free(&kv);
}

static void test_session_dedup(void **state)
{
    (void)state;
    struct rs_kv kv;
    rs_kv_init(&kv);
    struct rs_kv_result res;
    assert_int_equal(apply(&kv, 7, 1, op_put("k", "a"), &res), RS_OK);
    assert_int_equal(apply(&kv, 7, 2, op_get_and_put("k", "b"), &res), RS_OK);
    assert_value(&res, "a");
    uint64_t digest = rs_kv_digest(&kv);
    /* The retry (even with a different body) is answered from the session, not applied. */
    assert_int_equal(apply(&kv, 7, 2, op_get_and_put("k", "c"), &res), RS_OK);
    assert_true(res.success);
    assert_value(&res, "a");
    assert_get(&kv, "k", "b");
    assert_int_equal(rs_kv_applied_index(&kv), 3);
    /* Only the applied index moved. */
    assert_int_not_equal(rs_kv_digest(&kv), digest);
    /* An older seq is stale: no effect, cleared result. */
    assert_int_equal(apply(&kv, 7, 1, op_put("k", "old"), &res), RS_ESTALE);
    assert_false(res.success);
    assert_false(res.found);
    assert_get(&kv, "k", "b");
    assert_int_equal(rs_kv_applied_index(&kv), 4);
    /* Other clients have their own sessions; gaps in seq are fine. */
    assert_int_equal(apply(&kv, 8, 1, op_put("k", "x"), &res), RS_OK);
    assert_int_equal(apply(&kv, 7, 10, op_put_if_absent("k", "y"), &res), RS_OK);
    assert_false(res.success);
    assert_value(&res, "x");
    assert_int_equal(apply(&kv, 7, 10, op_put_if_absent("k", "y"), &res), RS_OK);
    assert_false(res.success);
    assert_value(&res, "x");
    assert_int_equal(rs_kv_session_count(&kv), 2);
    /* Client 0 never enters the table and is never deduplicated. */
    assert_int_equal(apply(&kv, 0, 5, op_put("z", "1"), &res), RS_OK);
    assert_int_equal(apply(&kv, 0, 5, op_put("z", "2"), &res), RS_OK);
    assert_get(&kv, "z", "2");
    assert_int_equal(rs_kv_session_count(&kv), 2);
    rs_kv_free(&kv);
}

/* A full table evicts the session applied longest ago; the evicted client starts afresh. */
static void test_session_eviction(void **state)
{
    (void)state;
    struct rs_kv kv;
    rs_kv_init(&kv);
    kv.session_count_max = 3;
    struct rs_kv_result res;
    assert_int_equal(apply(&kv, 1, 5, op_put("a", "1"), &res), RS_OK);
    assert_int_equal(apply(&kv, 2, 5, op_put("b", "1"), &res), RS_OK);
    assert_int_equal(apply(&kv, 3, 5, op_put("c", "1"), &res), RS_OK);
    assert_int_equal(apply(&kv, 1, 6, op_put("a", "2"), &res), RS_OK);
    assert_int_equal(apply(&kv, 4, 5, op_put("d", "1"), &res), RS_OK);
    assert_int_equal(rs_kv_session_count(&kv), 3);
    /* Client 2 was the oldest: its stale seq now applies; client 1 is still deduplicated. */
    assert_int_equal(apply(&kv, 2, 4, op_put("b", "again"), &res), RS_OK);
    assert_get(&kv, "b", "again");
    assert_int_equal(apply(&kv, 1, 5, op_put("a", "stale"), &res), RS_ESTALE);
    assert_get(&kv, "a", "2");
    assert_int_equal(rs_kv_session_count(&kv), 3);
    rs_kv_free(&kv);
}

static void test_malformed_and_invalid(void **state)
{
    (void)state;
    struct rs_kv kv;
    rs_kv_init(&kv);
    struct rs_kv_result res;
    apply_ok(&kv, op_put("k", "v"), &res);
    uint64_t digest = rs_kv_digest(&kv);
    const uint8_t junk[] = {1, 2, 3, 4, 5};
    assert_int_equal(rs_kv_apply(&kv, 2, (struct rs_bytes){junk, sizeof junk}, &res),
                     RS_ECORRUPT);
    assert_int_equal(rs_kv_apply(&kv, 2, (struct rs_bytes){NULL, 0}, &res), RS_ECORRUPT);
    assert_int_equal(rs_kv_digest(&kv), digest);
    assert_int_equal(rs_kv_applied_index(&kv), 1);
    struct rs_kv_op bad = {RS_KV_GET, str("k"), str("v"), {0}};
    assert_int_equal(rs_kv_apply_op(&kv, 2, 0, 0, &bad, &res), RS_EINVAL);
    assert_int_equal(rs_kv_read(&kv, &bad, &res), RS_EINVAL);
    struct rs_kv_op put = op_put("k", "w");
    assert_int_equal(rs_kv_read(&kv, &put, &res), RS_EINVAL);
    assert_int_equal(rs_kv_digest(&kv), digest);
    /* The index can skip (entries that are not KV commands). */
    assert_int_equal(rs_kv_apply_op(&kv, 10, 0, 0, &put, &res), RS_OK);
    assert_int_equal(rs_kv_applied_index(&kv), 10);
    rs_kv_free(&kv);
}

static void test_digest_history_independent(void **state)
{
    (void)state;
    struct rs_kv a, b, c;
    rs_kv_init(&a);
    rs_kv_init(&b);
    rs_kv_init(&c);
    struct rs_kv_result res;
    apply_ok(&a, op_put("x", "1"), &res);
    apply_ok(&a, op_put("y", "2"), &res);
    apply_ok(&a, op_put("z", "3"), &res);
    apply_ok(&a, op_delete("z"), &res);
    apply_ok(&b, op_put("y", "old"), &res);
    apply_ok(&b, op_get_and_put("y", "2"), &res);
    apply_ok(&b, op_put_if_absent("x", "1"), &res);
    apply_ok(&b, op_cas("x", "nope", "9"), &res);
    assert_int_equal(rs_kv_digest(&a), rs_kv_digest(&b));
    /* Same pairs but a different value, a swapped pair, a missing pair: all differ. */
    apply_ok(&c, op_put("x", "2"), &res);
    apply_ok(&c, op_put("y", "1"), &res);
    apply_ok(&c, op_get("x"), &res);
    apply_ok(&c, op_get("x"), &res);
    assert_int_not_equal(rs_kv_digest(&a), rs_kv_digest(&c));
    apply_ok(&c, op_put("x", "1"), &res);
    assert_int_not_equal(rs_kv_digest(&a), rs_kv_digest(&c));
    rs_kv_free(&c);
    rs_kv_init(&c);
    apply_ok(&c, op_put("x", "1"), &res);
    apply_ok(&c, op_put("y", "2"), &res);
    apply_ok(&c, op_put("xy", ""), &res);
    apply_ok(&c, op_get("x"), &res);
    assert_int_not_equal(rs_kv_digest(&a), rs_kv_digest(&c));
    apply_ok(&c, op_delete("xy"), &res); /* index 5 again differs only by index */
    assert_int_not_equal(rs_kv_digest(&a), rs_kv_digest(&c));
    /* Sessions are state too. */
    assert_int_equal(apply(&a, 9, 1, op_get("x"), &res), RS_OK);
    assert_int_equal(apply(&b, 9, 2, op_get("x"), &res), RS_OK);
    assert_int_not_equal(rs_kv_digest(&a), rs_kv_digest(&b));
    rs_kv_free(&a);
    rs_kv_free(&b);
    rs_kv_free(&c);
}

/* Builds a small state with pairs, an empty value and sessions with saved values. */
static void build_small(struct rs_kv *kv)
{
    struct rs_kv_result res;
    rs_kv_init(kv);
    apply_ok(kv, op_put("alpha", "1"), &res);
    apply_ok(kv, op_put("", "empty key"), &res);
    apply_ok(kv, op_put("beta", ""), &res);
    assert_int_equal(apply(kv, 3, 1, op_get_and_put("alpha", "2"), &res), RS_OK);
    assert_int_equal(apply(kv, 5, 9, op_put("gamma", "g"), &res), RS_OK);
}

static uint8_t *snapshot_of(const struct rs_kv *kv, size_t *size)
{
    *size = rs_kv_snapshot_size(kv);
    uint8_t *snap = malloc(*size);
    assert_int_equal(rs_kv_snapshot_write(kv, snap, *size), *size);
    return snap;
}

static void test_snapshot_round_trip(void **state)
{
    (void)state;
    struct rs_kv kv, copy;
    build_small(&kv);
    size_t size = 0;
    uint8_t *snap = snapshot_of(&kv, &size);
    assert_int_equal(rs_kv_snapshot_write(&kv, snap, size - 1), 0);
    rs_kv_init(&copy);
    struct rs_kv_result res;
    apply_ok(&copy, op_put("junk", "to be replaced"), &res);
    assert_int_equal(rs_kv_snapshot_load(&copy, (struct rs_bytes){snap, size}), RS_OK);
    assert_int_equal(rs_kv_digest(&copy), rs_kv_digest(&kv));
    assert_int_equal(rs_kv_applied_index(&copy), 5);
    assert_int_equal(rs_kv_key_count(&copy), 4);
    assert_int_equal(rs_kv_session_count(&copy), 2);
    assert_get(&copy, "junk", NULL);
    assert_get(&copy, "alpha", "2");
    assert_get(&copy, "", "empty key");
    /* The saved result survives: the retry is answered, not applied. */
    assert_int_equal(apply(&copy, 3, 1, op_get_and_put("alpha", "3"), &res), RS_OK);
    assert_value(&res, "1");
    assert_get(&copy, "alpha", "2");
    assert_int_equal(apply(&copy, 5, 8, op_put("gamma", "old"), &res), RS_ESTALE);
    /* And the snapshot of the copy, taken at the same state as the original, is identical. */
    assert_int_equal(apply(&kv, 3, 1, op_get_and_put("alpha", "3"), &res), RS_OK);
    assert_int_equal(apply(&kv, 5, 8, op_put("gamma", "old"), &res), RS_ESTALE);
    size_t size2 = 0;
    uint8_t *snap2 = snapshot_of(&copy, &size2);
    uint8_t *snap3 = snapshot_of(&kv, &size);
    assert_int_equal(size2, size);
    assert_memory_equal(snap2, snap3, size);
    free(snap);
    free(snap2);
    free(snap3);
    rs_kv_free(&kv);
    rs_kv_free(&copy);
}

/* Every single-byte change and every truncation is rejected and leaves the target alone. */
static void test_snapshot_corruption(void **state)
{
    (void)state;
    struct rs_kv kv, target;
    build_small(&kv);
    size_t size = 0;
    uint8_t *snap = snapshot_of(&kv, &size);
    rs_kv_init(&target);
    struct rs_kv_result res;
    apply_ok(&target, op_put("keep", "me"), &res);
    uint64_t target_digest = rs_kv_digest(&target);
    for (size_t i = 0; i < size; i++) {
        for (unsigned flip = 1; flip < 256; flip++) {
            uint8_t *bad = malloc(size);
            memcpy(bad, snap, size);
            bad[i] ^= (uint8_t)flip;
            enum rs_err err = rs_kv_snapshot_load(&target, (struct rs_bytes){bad, size});
            free(bad);
            if (err == RS_OK) {
                /* Acceptable only if the change left the same state after all. */
                assert_int_equal(rs_kv_digest(&target), rs_kv_digest(&kv));
                rs_kv_free(&target);
                rs_kv_init(&target);
                apply_ok(&target, op_put("keep", "me"), &res);
                continue;
            }
            assert_int_equal(err, RS_ECORRUPT);
            assert_int_equal(rs_kv_digest(&target), target_digest);
        }
    }
    for (size_t len = 0; len < size; len++) {
        uint8_t *cut = malloc(len + 1);
        memcpy(cut, snap, len);
        assert_int_equal(rs_kv_snapshot_load(&target, (struct rs_bytes){cut, len}),
                         RS_ECORRUPT);
        free(cut);
    }
    assert_get(&target, "keep", "me");
    free(snap);
    rs_kv_free(&kv);
    rs_kv_free(&target);
}

/* A well-checksummed snapshot with bad content (unordered keys, bad counts) is refused. */
static void test_snapshot_content_checks(void **state)
{
    (void)state;
    struct rs_kv kv, target;
    rs_kv_init(&kv);
    rs_kv_init(&target);
    struct rs_kv_result res;
    apply_ok(&kv, op_put("a", "1"), &res);
    apply_ok(&kv, op_put("b", "2"), &res);
    size_t size = 0;
    uint8_t *snap = snapshot_of(&kv, &size);
    /* pairs start at 32: u32 1, 'a', u32 1, '1', u32 1, 'b', u32 1, '2' */
    uint8_t *bad = malloc(size);
    const size_t first_key = 32 + 4, second_key = 32 + 10 + 4;
    const uint8_t swap_to[][2] = {{'b', 'a'}, {'a', 'a'}};
    for (size_t i = 0; i < 2; i++) {
        memcpy(bad, snap, size);
        bad[first_key] = swap_to[i][0];
        bad[second_key] = swap_to[i][1];
        rs_put_u64(bad + size - 8, XXH64(bad, size - 8, 0));
        assert_int_equal(rs_kv_snapshot_load(&target, (struct rs_bytes){bad, size}),
                         RS_ECORRUPT);
    }
    /* A pair count far beyond what the bytes could hold. */
    memcpy(bad, snap, size);
    rs_put_u64(bad + 16, UINT64_MAX);
    rs_put_u64(bad + size - 8, XXH64(bad, size - 8, 0));
    assert_int_equal(rs_kv_snapshot_load(&target, (struct rs_bytes){bad, size}), RS_ECORRUPT);
    /* Resealing the untouched bytes is accepted, so the checks above were about content. */
    memcpy(bad, snap, size);
    rs_put_u64(bad + size - 8, XXH64(bad, size - 8, 0));
    assert_int_equal(rs_kv_snapshot_load(&target, (struct rs_bytes){bad, size}), RS_OK);
    assert_int_equal(rs_kv_digest(&target), rs_kv_digest(&kv));
    free(bad);
    free(snap);
    rs_kv_free(&kv);
    rs_kv_free(&target);
}

/* A reference model: a small array of keys, each absent or holding a short value. */
#define MODEL_KEYS 24
struct model {
    bool present[MODEL_KEYS];
    char value[MODEL_KEYS][8];
};

static uint64_t rng_state;
static uint64_t rng_next(void)
{
    rng_state += 0x9e3779b97f4a7c15ull;
    uint64_t z = rng_state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void model_check(struct model *m, unsigned k, const struct rs_kv_op *op,
                        const struct rs_kv_result *res)
{
    bool had = m->present[k];
    char old[8];
    memcpy(old, m->value[k], sizeof old);
    bool expect_found = had, expect_success = true, expect_value = false;
    switch (op->opcode) {
    case RS_KV_GET: expect_value = had; break;
    case RS_KV_PUT: expect_found = false; break;
    case RS_KV_DELETE: m->present[k] = false; break;
    case RS_KV_CAS:
        expect_success = had && strlen(old) == op->expected.size &&
                         memcmp(old, op->expected.data, op->expected.size) == 0;
        break;
    case RS_KV_PUT_IF_ABSENT:
        expect_success = !had;
        expect_value = had;
        break;
    default: expect_value = had; break;
    }
    bool writes = op->opcode == RS_KV_PUT || op->opcode == RS_KV_GET_AND_PUT ||
                  (op->opcode == RS_KV_CAS && expect_success) ||
                  (op->opcode == RS_KV_PUT_IF_ABSENT && expect_success);
    if (writes) {
        m->present[k] = true;
        memcpy(m->value[k], op->value.data, op->value.size);
        m->value[k][op->value.size] = '\0';
    }
    assert_int_equal(res->success, expect_success);
    assert_int_equal(res->found, expect_found);
    if (expect_value) {
        assert_value(res, old);
    } else {
        assert_int_equal(res->value_size, 0);
    }
}

/* Random ops on a few keys, each answer checked against the model, then digest and snapshot. */
static void test_against_model(void **state)
{
    (void)state;
    rng_state = 2024;
    struct rs_kv kv;
    rs_kv_init(&kv);
    struct model m;
    memset(&m, 0, sizeof m);
    char keys[MODEL_KEYS][4];
    for (unsigned k = 0; k < MODEL_KEYS; k++) {
        keys[k][0] = 'k';
        keys[k][1] = (char)('a' + k);
        keys[k][2] = '\0';
    }
    const char *values[] = {"", "v", "vv", "vvv", "w"};
    for (unsigned i = 0; i < 20000; i++) {
        unsigned k = (unsigned)(rng_next() % MODEL_KEYS);
        struct rs_kv_op op = {(uint8_t)(1 + rng_next() % RS_KV_GET_AND_PUT), str(keys[k]),
                              {0}, {0}};
        if (op.opcode != RS_KV_GET && op.opcode != RS_KV_DELETE) {
            op.value = str(values[rng_next() % 5]);
        }
        if (op.opcode == RS_KV_CAS) {
            op.expected = str(values[rng_next() % 5]);
        }
        struct rs_kv_result res;
        uint64_t client = rng_next() % 4; /* 0: no session */
        assert_int_equal(apply(&kv, client, i + 1, op, &res), RS_OK);
        model_check(&m, k, &op, &res);
    }
    uint64_t count = 0;
    for (unsigned k = 0; k < MODEL_KEYS; k++) {
        count += m.present[k];
        assert_get(&kv, keys[k], m.present[k] ? m.value[k] : NULL);
    }
    assert_int_equal(rs_kv_key_count(&kv), count);
    size_t size = 0;
    uint8_t *snap = snapshot_of(&kv, &size);
    struct rs_kv copy;
    rs_kv_init(&copy);
    assert_int_equal(rs_kv_snapshot_load(&copy, (struct rs_bytes){snap, size}), RS_OK);
    assert_int_equal(rs_kv_digest(&copy), rs_kv_digest(&kv));
    free(snap);
    rs_kv_free(&copy);
    rs_kv_free(&kv);
}


/* ---- The later operations ---- */

static uint8_t list_buf[8][4096];
static unsigned list_next;

/* An op with a list of keys (and values / expected values) built from NULL-ended strings. */
static struct rs_kv_op op_list(uint8_t opcode, const char *const *keys, const char *const *values,
                               const char *const *expected)
{
    struct rs_kv_entry e[RS_KV_BATCH_COUNT_MAX];
    uint32_t n = 0;
    for (; keys[n] != NULL; n++) {
        e[n] = (struct rs_kv_entry){.key = str(keys[n])};
        e[n].value = values != NULL ? str(values[n]) : (struct rs_bytes){0};
        e[n].expected = expected != NULL ? str(expected[n]) : (struct rs_bytes){0};
    }
    uint8_t *buf = list_buf[list_next++ % 8];
    size_t size = 0;
    enum rs_err err = rs_kv_list_encode(opcode, e, n, buf, sizeof list_buf[0], &size);
    struct rs_kv_op op = {.opcode = opcode, .list = {buf, err == RS_OK ? size : 0}};
    return op;
}

static struct rs_kv_op op_scan(uint8_t opcode, const char *start, const char *end, uint32_t limit,
                               bool keys_only)
{
    return (struct rs_kv_op){.opcode = opcode, .key = str(start), .end_key = str(end),
                             .limit = limit, .keys_only = keys_only};
}

static struct rs_kv_op op_lock(const char *key, uint64_t who, uint64_t lease_ms, uint64_t now_ms,
                               const char *fence)
{
    return (struct rs_kv_op){.opcode = RS_KV_LOCK, .key = str(key), .acquirer_id = who,
                             .lease_ms = lease_ms, .timestamp_ms = now_ms,
                             .fencing_key = str(fence)};
}

static struct rs_kv_op op_unlock(const char *key, uint64_t who)
{
    return (struct rs_kv_op){.opcode = RS_KV_UNLOCK, .key = str(key), .acquirer_id = who};
}

/* Applies with a large command buffer (lists do not fit in apply()'s). */
static enum rs_err apply_big(struct rs_kv *kv, uint64_t client_id, uint64_t seq,
                             struct rs_kv_op op, struct rs_kv_result *res)
{
    static uint8_t buf[16384];
    size_t n = 0;
    struct rs_kv_cmd cmd = {client_id, seq, op};
    enum rs_err err = rs_kv_cmd_encode(&cmd, buf, sizeof buf, &n);
    if (err != RS_OK) {
        return err;
    }
    return rs_kv_apply(kv, rs_kv_applied_index(kv) + 1, (struct rs_bytes){buf, n}, res);
}

/* The entries of a result as "k=v;k2=-;" (found false: '-'), for compact comparisons. */
static const char *entries_text(const struct rs_kv_result *res)
{
    static char text[1024];
    size_t at = 0;
    struct rs_kv_iter it;
    struct rs_kv_entry e;
    rs_kv_entries_begin(&it, res);
    while (rs_kv_iter_next(&it, &e)) {
        at += (size_t)snprintf(text + at, sizeof text - at, "%.*s=%.*s;", (int)e.key.size,
                               (const char *)e.key.data, e.found ? (int)e.value.size : 1,
                               e.found ? (const char *)e.value.data : "-");
    }
    text[at] = '\0';
    return text;
}

static const char *read_text(const struct rs_kv *kv, struct rs_kv_op op, bool *truncated)
{
    static uint8_t buf[4096];
    struct rs_kv_result res;
    assert_int_equal(rs_kv_read_into(kv, &op, buf, sizeof buf, &res), RS_OK);
    assert_true(res.success);
    *truncated = res.truncated;
    return entries_text(&res);
}

static void put_all(struct rs_kv *kv, const char *const *keys)
{
    struct rs_kv_result res;
    for (size_t i = 0; keys[i] != NULL; i++) {
        apply_ok(kv, op_put(keys[i], keys[i]), &res);
    }
}

static void test_multi_get_contains_scan(void **state)
{
    (void)state;
    struct rs_kv kv;
    rs_kv_init(&kv);
    put_all(&kv, (const char *const[]){"a", "b", "c", "d", NULL});
    struct rs_kv_result res;
    /* a sequence and a lock named "b2" live in their own spaces: scans never see them */
    apply_ok(&kv, (struct rs_kv_op){.opcode = RS_KV_GET_SEQUENCE, .key = str("b2"), .step = 1},
             &res);
    apply_ok(&kv, op_lock("b3", 1, 10, 0, "f"), &res);
    bool t = false;
    assert_string_equal(read_text(&kv, op_list(RS_KV_MULTI_GET,
                                               (const char *const[]){"c", "x", "a", NULL}, NULL,
                                               NULL),
                                  &t),
                        "c=c;x=-;a=a;");
    assert_false(t);
    struct rs_kv_op has = {.opcode = RS_KV_CONTAINS_KEY, .key = str("b")};
    assert_int_equal(rs_kv_read(&kv, &has, &res), RS_OK);
    assert_true(res.found);
    has.key = str("b2");
    assert_int_equal(rs_kv_read(&kv, &has, &res), RS_OK);
    assert_false(res.found);
    assert_string_equal(read_text(&kv, op_scan(RS_KV_SCAN, "b", "", 0, false), &t),
                        "b=b;c=c;d=d;f=1;");
    assert_false(t);
    assert_string_equal(read_text(&kv, op_scan(RS_KV_SCAN, "", "c", 0, true), &t), "a=;b=;");
    assert_string_equal(read_text(&kv, op_scan(RS_KV_SCAN, "a", "z", 2, false), &t), "a=a;b=b;");
    assert_true(t);
    assert_string_equal(read_text(&kv, op_scan(RS_KV_SCAN, "a", "c", 2, false), &t), "a=a;b=b;");
    assert_false(t); /* the limit was reached exactly at the end of the range */
    assert_string_equal(read_text(&kv, op_scan(RS_KV_REVERSE_SCAN, "b", "d", 0, false), &t),
                        "c=c;b=b;");
    assert_string_equal(read_text(&kv, op_scan(RS_KV_REVERSE_SCAN, "", "", 3, false), &t),
                        "f=1;d=d;c=c;");
    assert_true(t);
    assert_string_equal(read_text(&kv, op_scan(RS_KV_SCAN, "x", "y", 0, false), &t), "");
    /* A buffer for two entries truncates; one too small for any entry is an error. */
    uint8_t small[2 * (RS_KV_ENTRY_OVERHEAD + 2) + 1];
    struct rs_kv_op scan = op_scan(RS_KV_SCAN, "", "", 0, false);
    assert_int_equal(rs_kv_read_into(&kv, &scan, small, sizeof small, &res), RS_OK);
    assert_true(res.truncated);
    assert_int_equal(res.entry_count, 2);
    assert_int_equal(rs_kv_read_into(&kv, &scan, small, 4, &res), RS_ENOSPACE);
    assert_int_equal(rs_kv_read(&kv, &scan, &res), RS_ENOSPACE);
    /* Bounds: the scan limit, empty and repeated lists, writes refused by the read path. */
    scan.limit = RS_KV_SCAN_LIMIT_MAX + 1;
    assert_int_equal(rs_kv_read(&kv, &scan, &res), RS_EINVAL);
    struct rs_kv_op dup = op_list(RS_KV_MULTI_GET, (const char *const[]){"a", "a", NULL}, NULL,
                                  NULL);
    assert_int_equal(dup.list.size, 0);
    assert_int_equal(rs_kv_read(&kv, &dup, &res), RS_EINVAL);
    struct rs_kv_op put = op_put("a", "b");
    assert_int_equal(rs_kv_read(&kv, &put, &res), RS_EINVAL);
    rs_kv_free(&kv);
}

static void test_batches_atomic(void **state)
{
    (void)state;
    struct rs_kv kv;
    rs_kv_init(&kv);
    struct rs_kv_result res;
    bool t;
    apply_ok(&kv, op_list(RS_KV_BATCH_PUT, (const char *const[]){"k1", "k2", "k3", NULL},
                          (const char *const[]){"1", "2", "3"}, NULL),
             &res);
    assert_true(res.success);
    assert_int_equal(rs_kv_key_count(&kv), 3);
    apply_ok(&kv, op_list(RS_KV_BATCH_DELETE, (const char *const[]){"k1", "k9", "k3", NULL}, NULL,
                          NULL),
             &res);
    assert_string_equal(read_text(&kv, op_scan(RS_KV_SCAN, "", "", 0, false), &t), "k2=2;");
    /* compareAndPutAll: one mismatch (or one missing key) and nothing is written */
    apply_ok(&kv, op_list(RS_KV_CAS_ALL, (const char *const[]){"k2", "k4", NULL},
                          (const char *const[]){"x", "y"}, (const char *const[]){"2", ""}),
             &res);
    assert_false(res.success);
    assert_string_equal(read_text(&kv, op_scan(RS_KV_SCAN, "", "", 0, false), &t), "k2=2;");
    apply_ok(&kv, op_put("k4", "4"), &res);
    apply_ok(&kv, op_list(RS_KV_CAS_ALL, (const char *const[]){"k2", "k4", NULL},
                          (const char *const[]){"x", "y"}, (const char *const[]){"2", "4"}),
             &res);
    assert_true(res.success);
    assert_string_equal(read_text(&kv, op_scan(RS_KV_SCAN, "", "", 0, false), &t), "k2=x;k4=y;");
    /* delete_range [k2, k4) and then an unbounded one */
    apply_ok(&kv, op_put("k3", "3"), &res);
    apply_ok(&kv, (struct rs_kv_op){.opcode = RS_KV_DELETE_RANGE, .key = str("k2"),
                                    .end_key = str("k4")},
             &res);
    assert_string_equal(read_text(&kv, op_scan(RS_KV_SCAN, "", "", 0, false), &t), "k4=y;");
    apply_ok(&kv, (struct rs_kv_op){.opcode = RS_KV_DELETE_RANGE, .key = str("")}, &res);
    assert_int_equal(rs_kv_key_count(&kv), 0);
    /* a list past the count bound is refused by the encoder */
    struct rs_kv_entry many[RS_KV_BATCH_COUNT_MAX + 1];
    char names[RS_KV_BATCH_COUNT_MAX + 1][16];
    for (int i = 0; i <= (int)RS_KV_BATCH_COUNT_MAX; i++) {
        snprintf(names[i], sizeof names[i], "m%d", i);
        many[i] = (struct rs_kv_entry){.key = str(names[i])};
    }
    size_t size;
    assert_int_equal(rs_kv_list_encode(RS_KV_BATCH_DELETE, many, RS_KV_BATCH_COUNT_MAX + 1,
                                       list_buf[0], sizeof list_buf[0], &size),
                     RS_EINVAL);
    assert_int_equal(rs_kv_list_encode(RS_KV_BATCH_DELETE, many, 0, list_buf[0],
                                       sizeof list_buf[0], &size),
                     RS_EINVAL);
    assert_int_equal(rs_kv_list_encode(RS_KV_BATCH_DELETE, many, RS_KV_BATCH_COUNT_MAX,
                                       list_buf[0], sizeof list_buf[0], &size),
                     RS_OK);
    rs_kv_free(&kv);
}

static void test_merge(void **state)
{
    (void)state;
    struct rs_kv kv;
    rs_kv_init(&kv);
    struct rs_kv_result res;
    bool t;
    struct rs_kv_op m = {.opcode = RS_KV_MERGE, .key = str("k"), .value = str("a")};
    apply_ok(&kv, m, &res);
    assert_true(res.success);
    assert_false(res.found);
    m.value = str("b");
    apply_ok(&kv, m, &res);
    assert_true(res.found);
    m.value = str("");
    apply_ok(&kv, m, &res);
    assert_string_equal(read_text(&kv, op_scan(RS_KV_SCAN, "", "", 0, false), &t), "k=a,b,;");
    /* a merge that would pass the value bound changes nothing */
    static uint8_t big[RS_KV_VALUE_SIZE_MAX];
    memset(big, 'x', sizeof big);
    m.value = (struct rs_bytes){big, sizeof big};
    assert_int_equal(rs_kv_apply_op(&kv, rs_kv_applied_index(&kv) + 1, 0, 0, &m, &res), RS_OK);
    assert_false(res.success);
    assert_string_equal(read_text(&kv, op_scan(RS_KV_SCAN, "", "", 0, false), &t), "k=a,b,;");
    rs_kv_free(&kv);
}

static void test_sequences(void **state)
{
    (void)state;
    struct rs_kv kv;
    rs_kv_init(&kv);
    struct rs_kv_result res;
    struct rs_kv_op get = {.opcode = RS_KV_GET_SEQUENCE, .key = str("s"), .step = 5};
    apply_ok(&kv, get, &res);
    assert_true(res.success);
    assert_int_equal(res.seq_start, 0);
    assert_int_equal(res.seq_end, 5);
    get.step = 3;
    apply_ok(&kv, get, &res);
    assert_int_equal(res.seq_start, 5);
    assert_int_equal(res.seq_end, 8);
    get.step = 0;
    apply_ok(&kv, get, &res);
    assert_int_equal(res.seq_start, 8);
    assert_int_equal(res.seq_end, 8);
    get.step = UINT64_MAX;
    apply_ok(&kv, get, &res);
    assert_false(res.success); /* overflow: refused, unchanged */
    /* the sequence is not the data key "s" */
    struct rs_kv_op data = op_get("s");
    assert_int_equal(rs_kv_read(&kv, &data, &res), RS_OK);
    assert_false(res.found);
    apply_ok(&kv, (struct rs_kv_op){.opcode = RS_KV_RESET_SEQUENCE, .key = str("s")}, &res);
    assert_true(res.found);
    get.step = 2;
    apply_ok(&kv, get, &res);
    assert_int_equal(res.seq_start, 0);
    assert_int_equal(res.seq_end, 2);
    /* exactly once: a retry gets the saved range and does not advance again */
    get.step = 10;
    assert_int_equal(apply(&kv, 7, 1, get, &res), RS_OK);
    assert_int_equal(res.seq_start, 2);
    assert_int_equal(apply(&kv, 7, 1, get, &res), RS_OK);
    assert_int_equal(res.seq_start, 2);
    assert_int_equal(res.seq_end, 12);
    apply_ok(&kv, (struct rs_kv_op){.opcode = RS_KV_GET_SEQUENCE, .key = str("s")}, &res);
    assert_int_equal(res.seq_start, 12);
    rs_kv_free(&kv);
}

static uint64_t fence_value(const struct rs_kv *kv, const char *fence)
{
    struct rs_bytes v;
    if (!rs_kv_lookup(kv, RS_KV_SPACE_DATA, str(fence), &v)) {
        return 0;
    }
    char text[32] = {0};
    memcpy(text, v.data, v.size < 31 ? v.size : 31);
    return strtoull(text, NULL, 10);
}

static void test_lock(void **state)
{
    (void)state;
    struct rs_kv kv;
    rs_kv_init(&kv);
    struct rs_kv_result res;
    apply_ok(&kv, op_lock("L", 1, 100, 1000, "F"), &res);
    assert_true(res.success);
    assert_int_equal(res.lock_owner, 1);
    assert_int_equal(res.lock_token, 1);
    assert_int_equal(res.lock_acquires, 1);
    /* re-entrant: same token, two acquires, lease renewed from the new timestamp */
    apply_ok(&kv, op_lock("L", 1, 100, 1050, "F"), &res);
    assert_true(res.success);
    assert_int_equal(res.lock_token, 1);
    assert_int_equal(res.lock_acquires, 2);
    /* another acquirer fails and learns the holder and the lease left */
    apply_ok(&kv, op_lock("L", 2, 100, 1100, "F"), &res);
    assert_false(res.success);
    assert_int_equal(res.lock_owner, 1);
    assert_int_equal(res.lock_remaining_ms, 50);
    /* a non-owner cannot unlock */
    apply_ok(&kv, op_unlock("L", 2), &res);
    assert_false(res.success);
    assert_int_equal(res.lock_owner, 1);
    /* the lease ends at 1150: the next acquirer gets the next token of the fencing key */
    apply_ok(&kv, op_lock("L", 2, 100, 1150, "F"), &res);
    assert_true(res.success);
    assert_int_equal(res.lock_token, 2);
    assert_int_equal(fence_value(&kv, "F"), 2);
    /* a second lock sharing the fencing key continues its counter */
    apply_ok(&kv, op_lock("M", 3, 100, 0, "F"), &res);
    assert_int_equal(res.lock_token, 3);
    apply_ok(&kv, op_unlock("L", 2), &res);
    assert_true(res.success);
    assert_int_equal(res.lock_owner, 0);
    apply_ok(&kv, op_unlock("L", 2), &res);
    assert_true(res.success);
    assert_false(res.found);
    apply_ok(&kv, op_lock("L", 1, 100, 0, "F"), &res);
    assert_int_equal(res.lock_token, 4);
    /* a fencing key someone overwrote with non-numbers refuses to hand out tokens */
    apply_ok(&kv, op_put("G", "oops"), &res);
    apply_ok(&kv, op_lock("N", 1, 100, 0, "G"), &res);
    assert_false(res.success);
    /* bad arguments */
    struct rs_kv_op bad = op_lock("L", 0, 100, 0, "F");
    assert_int_equal(apply_big(&kv, 0, 0, bad, &res), RS_EINVAL);
    bad = op_lock("L", 1, 0, 0, "F");
    assert_int_equal(apply_big(&kv, 0, 0, bad, &res), RS_EINVAL);
    bad = op_lock("L", 1, RS_KV_LEASE_MS_MAX + 1, 0, "F");
    assert_int_equal(apply_big(&kv, 0, 0, bad, &res), RS_EINVAL);
    /* exactly once: a retried lock answers the saved result */
    apply_ok(&kv, op_unlock("L", 1), &res);
    assert_int_equal(apply(&kv, 9, 1, op_lock("L", 5, 10, 0, "F"), &res), RS_OK);
    assert_int_equal(res.lock_token, 5);
    assert_int_equal(apply(&kv, 9, 1, op_lock("L", 5, 10, 0, "F"), &res), RS_OK);
    assert_int_equal(res.lock_token, 5);
    assert_int_equal(res.lock_acquires, 1);
    assert_int_equal(fence_value(&kv, "F"), 5);
    rs_kv_free(&kv);
}

/* Every space, sessions with numbers: the snapshot restores the same digest and answers. */
static void test_snapshot_spaces(void **state)
{
    (void)state;
    struct rs_kv kv;
    rs_kv_init(&kv);
    struct rs_kv_result res;
    apply_ok(&kv, op_put("a", "1"), &res);
    assert_int_equal(apply(&kv, 3, 1, (struct rs_kv_op){.opcode = RS_KV_GET_SEQUENCE,
                                                        .key = str("a"), .step = 4},
                           &res),
                     RS_OK);
    assert_int_equal(apply(&kv, 4, 1, op_lock("a", 4, 100, 5, "f"), &res), RS_OK);
    size_t size = rs_kv_snapshot_size(&kv);
    uint8_t *snap = malloc(size);
    assert_int_equal(rs_kv_snapshot_write(&kv, snap, size), size);
    struct rs_kv copy;
    rs_kv_init(&copy);
    assert_int_equal(rs_kv_snapshot_load(&copy, (struct rs_bytes){snap, size}), RS_OK);
    assert_int_equal(rs_kv_digest(&copy), rs_kv_digest(&kv));
    assert_int_equal(rs_kv_key_count(&copy), 4);
    assert_int_equal(apply(&copy, 3, 1, (struct rs_kv_op){.opcode = RS_KV_GET_SEQUENCE,
                                                          .key = str("a"), .step = 4},
                           &res),
                     RS_OK);
    assert_int_equal(res.seq_end, 4); /* the saved answer, numbers included */
    assert_int_equal(apply(&copy, 4, 1, op_lock("a", 4, 100, 5, "f"), &res), RS_OK);
    assert_int_equal(res.lock_token, 1);
    assert_int_equal(res.lock_owner, 4);
    /* a space byte past the known ones is damage */
    snap[32] = RS_KV_SPACE_COUNT;
    rs_put_u64(snap + size - 8, XXH64(snap, size - 8, 0));
    assert_int_equal(rs_kv_snapshot_load(&copy, (struct rs_bytes){snap, size}), RS_ECORRUPT);
    free(snap);
    rs_kv_free(&copy);
    rs_kv_free(&kv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_put_delete),
        cmocka_unit_test(test_cas),
        cmocka_unit_test(test_put_if_absent_and_get_and_put),
        cmocka_unit_test(test_key_order_in_snapshot),
        cmocka_unit_test(test_session_dedup),
        cmocka_unit_test(test_session_eviction),
        cmocka_unit_test(test_malformed_and_invalid),
        cmocka_unit_test(test_digest_history_independent),
        cmocka_unit_test(test_snapshot_round_trip),
        cmocka_unit_test(test_snapshot_corruption),
        cmocka_unit_test(test_snapshot_content_checks),
        cmocka_unit_test(test_against_model),
        cmocka_unit_test(test_multi_get_contains_scan),
        cmocka_unit_test(test_batches_atomic),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_sequences),
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_snapshot_spaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
