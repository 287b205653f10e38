/* Tests of the event queue: (time, seq) order, ties by push order, and a reference model. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sim/evq.h"

/* A tiny local generator so this test does not depend on sim/rng. */
static uint64_t test_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void test_empty_queue_has_nothing(void **state)
{
    (void)state;
    struct rs_evq q;
    rs_evq_init(&q);
    struct rs_event ev = {.time_ns = 77};
    assert_false(rs_evq_pop(&q, &ev));
    assert_false(rs_evq_peek(&q, &ev));
    assert_int_equal(ev.time_ns, 77); /* untouched */
    assert_int_equal(rs_evq_size(&q), 0);
    rs_evq_free(&q);
}

static void test_pops_in_time_order(void **state)
{
    (void)state;
    static const uint64_t times[] = {50, 10, 40, 30, 20, 60, 0, 35};
    struct rs_evq q;
    rs_evq_init(&q);
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        rs_evq_push(&q, times[i], 7, (uint32_t)i, times[i] * 2, NULL);
    }
    static const uint64_t expected[] = {0, 10, 20, 30, 35, 40, 50, 60};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        struct rs_event peeked;
        struct rs_event ev;
        assert_true(rs_evq_peek(&q, &peeked));
        assert_true(rs_evq_pop(&q, &ev));
        assert_int_equal(peeked.seq, ev.seq);
        assert_int_equal(ev.time_ns, expected[i]);
        assert_int_equal(ev.arg, expected[i] * 2);
        assert_int_equal(ev.kind, 7);
    }
    assert_int_equal(rs_evq_size(&q), 0);
    rs_evq_free(&q);
}

static void test_ties_fire_in_push_order(void **state)
{
    (void)state;
    struct rs_evq q;
    rs_evq_init(&q);
    int payload[300];
    /* Interleave two times so ties are split across the heap, not pushed contiguously. */
    for (uint32_t i = 0; i < 300; i++) {
        uint64_t seq = rs_evq_push(&q, i % 2 ? 1000 : 500, 1, i, i, &payload[i]);
        assert_int_equal(seq, i + 1);
    }
    for (uint32_t i = 0; i < 300; i++) {
        struct rs_event ev;
        assert_true(rs_evq_pop(&q, &ev));
        uint32_t expected_node = i < 150 ? 2 * i : 2 * (i - 150) + 1;
        assert_int_equal(ev.node, expected_node);
        assert_int_equal(ev.seq, expected_node + 1);
        assert_ptr_equal(ev.ptr, &payload[expected_node]);
    }
    rs_evq_free(&q);
}

struct ref_event {
    uint64_t time_ns;
    uint64_t seq;
    uint64_t arg;
};

/* Reference: an array sorted by descending (time, seq), so the earliest is at the end. */
static size_t ref_insert_index(const struct ref_event *ref, size_t count, uint64_t time_ns,
                               uint64_t seq)
{
    size_t lo = 0;
    size_t hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        bool mid_later = ref[mid].time_ns > time_ns ||
                         (ref[mid].time_ns == time_ns && ref[mid].seq > seq);
        if (mid_later) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static void test_matches_sorted_reference_over_100k_ops(void **state)
{
    (void)state;
    enum { OPS = 100000, REF_CAP = OPS };
    struct ref_event *ref = malloc(REF_CAP * sizeof *ref);
    assert_non_null(ref);
    size_t ref_count = 0;
    struct rs_evq q;
    rs_evq_init(&q);
    uint64_t rng = 12345;
    uint64_t now = 0;
    size_t max_size = 0;
    for (size_t op = 0; op < OPS; op++) {
        /* Phases of growth and shrinkage; times in a narrow window make ties common. */
        unsigned push_percent = (op / 5000) % 2 ? 40 : 62;
        if (ref_count == 0 || test_next(&rng) % 100 < push_percent) {
            uint64_t time_ns = now + test_next(&rng) % 64;
            uint64_t arg = test_next(&rng);
            uint64_t seq = rs_evq_push(&q, time_ns, 3, 9, arg, NULL);
            size_t at = ref_insert_index(ref, ref_count, time_ns, seq);
            memmove(&ref[at + 1], &ref[at], (ref_count - at) * sizeof *ref);
            ref[at] = (struct ref_event){.time_ns = time_ns, .seq = seq, .arg = arg};
            ref_count++;
        } else {
            struct rs_event ev;
            assert_true(rs_evq_pop(&q, &ev));
            struct ref_event want = ref[--ref_count];
            assert_int_equal(ev.time_ns, want.time_ns);
            assert_int_equal(ev.seq, want.seq);
            assert_int_equal(ev.arg, want.arg);
            now = ev.time_ns; /* like the simulator: never schedule in the past */
        }
        assert_int_equal(rs_evq_size(&q), ref_count);
        max_size = ref_count > max_size ? ref_count : max_size;
    }
    assert_true(max_size > 500); /* the heap was exercised at depth */
    rs_evq_free(&q);
    free(ref);
}

static void test_drains_100k_events_in_order(void **state)
{
    (void)state;
    enum { COUNT = 100000 };
    struct rs_evq q;
    rs_evq_init(&q);
    assert_int_equal(rs_evq_reserve(&q, COUNT), RS_OK);
    uint64_t rng = 99;
    for (uint32_t i = 0; i < COUNT; i++) {
        rs_evq_push(&q, test_next(&rng) % 10000, 0, 0, 0, NULL);
    }
    struct rs_event prev = {0};
    for (uint32_t i = 0; i < COUNT; i++) {
        struct rs_event ev;
        assert_true(rs_evq_pop(&q, &ev));
        if (i > 0) {
            assert_true(ev.time_ns > prev.time_ns ||
                        (ev.time_ns == prev.time_ns && ev.seq > prev.seq));
        }
        prev = ev;
    }
    assert_false(rs_evq_pop(&q, &prev));
    rs_evq_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_queue_has_nothing),
        cmocka_unit_test(test_pops_in_time_order),
        cmocka_unit_test(test_ties_fire_in_push_order),
        cmocka_unit_test(test_matches_sorted_reference_over_100k_ops),
        cmocka_unit_test(test_drains_100k_events_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
