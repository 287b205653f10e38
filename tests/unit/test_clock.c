/* Tests of per-node clocks: the exact formula, inverse, monotonicity, extremes, drift changes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sim/clock.h"

typedef __int128 i128;

/* The defining formula, written out independently of clock.c's fast and slow paths. */
static uint64_t reference_local(const struct rs_clock *c, uint64_t g)
{
    i128 scaled = ((i128)g - (i128)c->anchor_ns) * (1000000 + c->drift_ppm);
    i128 q = scaled / 1000000;
    if (scaled % 1000000 != 0 && scaled < 0) {
        q -= 1; /* floor, not truncation */
    }
    i128 local = (i128)c->offset_ns + q;
    return local < 0 ? 0 : local > (i128)UINT64_MAX ? UINT64_MAX : (uint64_t)local;
}

/* global(L) is the smallest g with local(g) >= L. */
static void check_inverse(const struct rs_clock *c, uint64_t local_ns)
{
    uint64_t g = rs_clock_global(c, local_ns);
    if (g == RS_CLOCK_NEVER) {
        assert_true(rs_clock_local(c, UINT64_MAX - 1) < local_ns);
        return;
    }
    assert_true(rs_clock_local(c, g) >= local_ns);
    if (g > 0) {
        assert_true(rs_clock_local(c, g - 1) < local_ns);
    }
}

static void test_zero_clock_is_identity(void **state)
{
    (void)state;
    struct rs_clock c = {0};
    static const uint64_t points[] = {0, 1, 999999, 1000000, 1ull << 43, UINT64_MAX};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(rs_clock_local(&c, points[i]), points[i]);
        assert_int_equal(rs_clock_global(&c, points[i]), points[i]);
    }
}

static void test_formula_is_exact(void **state)
{
    (void)state;
    struct rs_clock c;
    assert_int_equal(rs_clock_init(&c, 1000, 100), RS_OK);
    assert_int_equal(rs_clock_local(&c, 1000000000), 1000000000 + 1000 + 100000);
    assert_int_equal(rs_clock_init(&c, 7, -50), RS_OK);
    assert_int_equal(rs_clock_local(&c, 1), 7);               /* floor(0.99995) */
    assert_int_equal(rs_clock_local(&c, 20001), 7 + 19999);   /* floor(19999.99995) */
    assert_int_equal(rs_clock_local(&c, 20000), 7 + 19999);   /* exactly 19999 */
    assert_int_equal(rs_clock_global(&c, 7 + 19999), 20000);
    assert_int_equal(rs_clock_global(&c, 7 + 20000), 20002);  /* 20001 maps to 19999 */
}

static void test_extreme_drifts(void **state)
{
    (void)state;
    struct rs_clock fast;
    struct rs_clock slow;
    assert_int_equal(rs_clock_init(&fast, 0, RS_CLOCK_DRIFT_PPM_MAX), RS_OK);
    assert_int_equal(rs_clock_init(&slow, 0, -RS_CLOCK_DRIFT_PPM_MAX), RS_OK);
    assert_int_equal(rs_clock_local(&fast, 1000000), 1100000);
    assert_int_equal(rs_clock_local(&slow, 1000000), 900000);
    assert_int_equal(rs_clock_global(&fast, 1100000), 1000000);
    assert_int_equal(rs_clock_global(&slow, 900000), 1000000);
    assert_int_equal(rs_clock_global(&slow, 900001), 1000002); /* 0.9 ns per ns */
    /* The fast clock saturates at the end of time; the slow one never reaches it. */
    assert_int_equal(rs_clock_local(&fast, UINT64_MAX), UINT64_MAX);
    assert_int_equal(rs_clock_local(&slow, UINT64_MAX), UINT64_MAX / 10 * 9 + 4);
    assert_int_equal(rs_clock_global(&slow, UINT64_MAX), RS_CLOCK_NEVER);
    assert_true(rs_clock_global(&fast, UINT64_MAX) < UINT64_MAX);
    check_inverse(&fast, UINT64_MAX);

    struct rs_clock bad = {.offset_ns = 5};
    assert_int_equal(rs_clock_init(&bad, 0, RS_CLOCK_DRIFT_PPM_MAX + 1), RS_EINVAL);
    assert_int_equal(rs_clock_init(&bad, 0, -RS_CLOCK_DRIFT_PPM_MAX - 1), RS_EINVAL);
    assert_int_equal(rs_clock_set_drift(&bad, 10, RS_CLOCK_DRIFT_PPM_MAX + 1), RS_EINVAL);
    assert_int_equal(bad.offset_ns, 5);
}

static void test_negative_offset_holds_at_zero(void **state)
{
    (void)state;
    struct rs_clock c;
    assert_int_equal(rs_clock_init(&c, -1000, 0), RS_OK);
    assert_int_equal(rs_clock_local(&c, 0), 0);
    assert_int_equal(rs_clock_local(&c, 1000), 0);
    assert_int_equal(rs_clock_local(&c, 1001), 1);
    assert_int_equal(rs_clock_global(&c, 0), 0);
    assert_int_equal(rs_clock_global(&c, 1), 1001);
    assert_int_equal(rs_clock_init(&c, INT64_MIN, -RS_CLOCK_DRIFT_PPM_MAX), RS_OK);
    assert_int_equal(rs_clock_local(&c, (uint64_t)INT64_MAX), 0);
    check_inverse(&c, 1);
    check_inverse(&c, UINT64_MAX);
}

static const int32_t drifts[] = {-100000, -99999, -12345, -1, 0, 1, 777, 99999, 100000};
static const int64_t offsets[] = {0, 1, -5, 1000000000, -1000000000, INT64_MAX, INT64_MIN};
static const uint64_t anchors[] = {0, 1, 1000000000000ull, UINT64_MAX / 2};

/* Every combination: local matches the formula, is monotonic, and global inverts it. */
static void test_round_trips_and_monotonic(void **state)
{
    (void)state;
    const uint64_t fast_edge = 1ull << 43; /* where clock.c switches to 128-bit division */
    uint64_t rng = 1;
    for (size_t a = 0; a < 4; a++) {
        for (size_t o = 0; o < 7; o++) {
            for (size_t d = 0; d < 9; d++) {
                struct rs_clock c = {.offset_ns = offsets[o], .drift_ppm = drifts[d],
                                     .anchor_ns = anchors[a]};
                const uint64_t windows[] = {0, anchors[a] - 3, anchors[a] + fast_edge - 3,
                                            anchors[a] + 999997, UINT64_MAX - 300};
                for (size_t w = 0; w < 5; w++) {
                    uint64_t prev = rs_clock_local(&c, windows[w]);
                    for (uint64_t g = windows[w]; g < windows[w] + 300 && g >= windows[w]; g++) {
                        uint64_t local = rs_clock_local(&c, g);
                        assert_int_equal(local, reference_local(&c, g));
                        assert_true(local >= prev);
                        assert_true(local - prev <= 2);
                        prev = local;
                        check_inverse(&c, local);
                        check_inverse(&c, local + 1);
                    }
                }
                for (int i = 0; i < 200; i++) {
                    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                    uint64_t v = rng >> (rng & 63);
                    assert_int_equal(rs_clock_local(&c, v), reference_local(&c, v));
                    check_inverse(&c, v);
                }
            }
        }
    }
}

static void test_drift_change_keeps_local_time(void **state)
{
    (void)state;
    struct rs_clock c;
    assert_int_equal(rs_clock_init(&c, -5000, 0), RS_OK);
    uint64_t prev = 0;
    uint64_t now = 0;
    for (int step = 0; step < 60; step++) {
        int32_t drift = (int32_t)((step * 37 % 21) - 10) * 10000; /* -100000..100000 */
        uint64_t before = rs_clock_local(&c, now);
        assert_int_equal(rs_clock_set_drift(&c, now, drift), RS_OK);
        assert_int_equal(rs_clock_local(&c, now), before);
        for (uint64_t g = now; g < now + 1000; g++) {
            uint64_t local = rs_clock_local(&c, g);
            assert_true(local >= prev);
            prev = local;
        }
        now += 1000 + (uint64_t)step * 97;
    }
    /* After the last change the rate is the new one from the anchor on. */
    assert_int_equal(rs_clock_set_drift(&c, now, 100000), RS_OK);
    uint64_t at = rs_clock_local(&c, now);
    assert_int_equal(rs_clock_local(&c, now + 1000000), at + 1100000);
    assert_int_equal(rs_clock_global(&c, at + 1100000), now + 1000000);
}

static void test_wall_clock_steps(void **state)
{
    (void)state;
    struct rs_clock c;
    assert_int_equal(rs_clock_init(&c, 100, 0), RS_OK);
    assert_int_equal(rs_clock_wall(&c, 1000), 1100);
    rs_clock_wall_step(&c, -600);
    assert_int_equal(rs_clock_wall(&c, 1000), 500);  /* the wall clock went back */
    assert_int_equal(rs_clock_local(&c, 1000), 1100); /* the monotonic clock did not */
    rs_clock_wall_step(&c, -10000);
    assert_int_equal(rs_clock_wall(&c, 1000), 0); /* clamped */
    rs_clock_wall_step(&c, INT64_MAX);
    rs_clock_wall_step(&c, INT64_MAX);
    assert_int_equal(c.wall_offset_ns, INT64_MAX); /* saturated, not wrapped */
    rs_clock_wall_step(&c, INT64_MIN);
    rs_clock_wall_step(&c, INT64_MIN);
    assert_int_equal(c.wall_offset_ns, INT64_MIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_clock_is_identity),
        cmocka_unit_test(test_formula_is_exact),
        cmocka_unit_test(test_extreme_drifts),
        cmocka_unit_test(test_negative_offset_holds_at_zero),
        cmocka_unit_test(test_round_trips_and_monotonic),
        cmocka_unit_test(test_drift_change_keeps_local_time),
        cmocka_unit_test(test_wall_clock_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
