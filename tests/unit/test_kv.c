/* Tests of the KV state machine: op semantics, sessions, digest and snapshots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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
        struct rs_kv_op op = {(uint8_t)(1 + rng_next() % RS_KV_OPCODE_MAX), str(keys[k]),
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
