/* Tests of the network model: cuts, clogs, filters and bandwidth (exact), and loss, duplication,
 * corruption, latency, FIFO (statistical). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "sim/net.h"

#define MS 1000000ull

static const struct rs_link_params quiet = {.latency_min_ns = 1 * MS, .latency_max_ns = 1 * MS};

static void test_init_rejects_bad_input(void **state)
{
    (void)state;
    struct rs_net net;
    assert_int_equal(rs_net_init(&net, 0, &quiet, 1), RS_EINVAL);
    assert_int_equal(rs_net_init(&net, RS_NET_ENDPOINTS_MAX + 1, &quiet, 1), RS_EINVAL);
    struct rs_link_params bad = quiet;
    bad.latency_min_ns = 2 * MS;
    assert_int_equal(rs_net_init(&net, 3, &bad, 1), RS_EINVAL);
    bad = quiet;
    bad.loss_ppm = 1000001;
    assert_int_equal(rs_net_init(&net, 3, &bad, 1), RS_EINVAL);
    bad = quiet;
    bad.tail_ppm = 10;
    bad.tail_max_ns = quiet.latency_max_ns; /* an empty tail interval */
    assert_int_equal(rs_net_init(&net, 3, &bad, 1), RS_EINVAL);
    rs_net_free(&net);

    assert_int_equal(rs_net_init(&net, 3, &quiet, 1), RS_OK);
    assert_int_equal(rs_net_set_link(&net, 0, 3, &quiet), RS_EINVAL);
    assert_int_equal(rs_net_set_all(&net, &bad), RS_EINVAL);
    assert_int_equal(rs_net_block(&net, 3, 0, true), RS_EINVAL);
    assert_int_equal(rs_net_isolate(&net, 3), RS_EINVAL);
    uint8_t sides[2] = {0, 1};
    assert_int_equal(rs_net_partition(&net, sides, 2), RS_EINVAL);
    rs_net_free(&net);
}

static void test_blocked_link_drops_one_way(void **state)
{
    (void)state;
    struct rs_net net;
    assert_int_equal(rs_net_init(&net, 3, &quiet, 1), RS_OK);
    assert_int_equal(rs_net_block(&net, 0, 1, true), RS_OK);
    uint64_t at[2] = {0, 0};
    assert_int_equal(rs_net_send(&net, 10, 0, 1, 100, at), 0);
    assert_int_equal(rs_net_send(&net, 10, 1, 0, 100, at), 1);
    assert_int_equal(at[0], 10 + MS);
    assert_int_equal(rs_net_send(&net, 10, 0, 2, 100, at), 1);
    assert_false(rs_net_link_up(&net, 0, 1));
    assert_true(rs_net_link_up(&net, 1, 0));
    const struct rs_net_counters *n = rs_net_counters(&net);
    assert_int_equal(n->sent, 3);
    assert_int_equal(n->sent_bytes, 300);
    assert_int_equal(n->blocked, 1);
    assert_int_equal(n->delivered_copies, 2);
    assert_int_equal(rs_net_block(&net, 0, 1, false), RS_OK);
    assert_int_equal(rs_net_send(&net, 10, 0, 1, 100, at), 1);
    rs_net_free(&net);
}

/* The connectivity matrix, as a string of '1' (up) and '.' (down), row = source. */
static void assert_matrix(const struct rs_net *net, const char *expected)
{
    uint32_t n = net->endpoint_count;
    for (uint32_t src = 0; src < n; src++) {
        for (uint32_t dst = 0; dst < n; dst++) {
            bool want = expected[src * n + dst] == '1';
            assert_int_equal(rs_net_link_up(net, src, dst), want);
        }
    }
}

static void test_isolate_partition_heal_matrices(void **state)
{
    (void)state;
    struct rs_net net;
    assert_int_equal(rs_net_init(&net, 4, &quiet, 1), RS_OK);
    assert_matrix(&net, "1111" "1111" "1111" "1111");
    assert_int_equal(rs_net_isolate(&net, 2), RS_OK);
    assert_matrix(&net, "11.1" "11.1" "..1." "11.1");
    rs_net_heal(&net);
    assert_matrix(&net, "1111" "1111" "1111" "1111");

    const uint8_t sides[4] = {0, 1, 0, 1};
    assert_int_equal(rs_net_partition(&net, sides, 4), RS_OK);
    assert_matrix(&net, "1.1." ".1.1" "1.1." ".1.1");
    /* Cuts add up: a one-way block inside a side stays until heal. */
    assert_int_equal(rs_net_block(&net, 0, 2, true), RS_OK);
    assert_matrix(&net, "1..." ".1.1" "1.1." ".1.1");
    const uint8_t together[4] = {5, 5, 5, 5};
    assert_int_equal(rs_net_partition(&net, together, 4), RS_OK);
    assert_matrix(&net, "1..." ".1.1" "1.1." ".1.1");
    rs_net_heal(&net);
    assert_matrix(&net, "1111" "1111" "1111" "1111");

    uint64_t at[2];
    assert_int_equal(rs_net_isolate(&net, 0), RS_OK);
    for (uint32_t dst = 1; dst < 4; dst++) {
        assert_int_equal(rs_net_send(&net, 0, 0, dst, 1, at), 0);
        assert_int_equal(rs_net_send(&net, 0, dst, 0, 1, at), 0);
    }
    assert_int_equal(rs_net_counters(&net)->blocked, 6);
    rs_net_free(&net);
}

static void test_set_link_changes_only_that_link(void **state)
{
    (void)state;
    struct rs_net net;
    assert_int_equal(rs_net_init(&net, 3, &quiet, 1), RS_OK);
    struct rs_link_params slow = {.latency_min_ns = 7 * MS, .latency_max_ns = 7 * MS};
    assert_int_equal(rs_net_set_link(&net, 1, 2, &slow), RS_OK);
    uint64_t at[2];
    assert_int_equal(rs_net_send(&net, 0, 1, 2, 1, at), 1);
    assert_int_equal(at[0], 7 * MS);
    assert_int_equal(rs_net_send(&net, 0, 2, 1, 1, at), 1);
    assert_int_equal(at[0], 1 * MS);
    struct rs_link_params lossy = quiet;
    lossy.loss_ppm = 1000000;
    assert_int_equal(rs_net_set_all(&net, &lossy), RS_OK);
    assert_int_equal(rs_net_send(&net, 0, 1, 2, 1, at), 0);
    assert_int_equal(rs_net_counters(&net)->lost, 1);
    rs_net_free(&net);
}

/*
 * 100k messages on one link with reordering on for every message (so delivery times are the
 * raw draws): loss 10%, duplication 5% of the rest, latency [1, 5] ms with a 2% tail to 50 ms.
 * Tolerances are about 6 standard deviations for this fixed seed.
 */
static void test_rates_and_latency_bounds(void **state)
{
    (void)state;
    const struct rs_link_params p = {.latency_min_ns = 1 * MS, .latency_max_ns = 5 * MS,
                                     .tail_ppm = 20000, .tail_max_ns = 50 * MS,
                                     .loss_ppm = 100000, .dup_ppm = 50000,
                                     .reorder_ppm = 1000000};
    struct rs_net net;
    assert_int_equal(rs_net_init(&net, 2, &p, 1), RS_OK);
    uint64_t tail = 0;
    uint64_t body_sum_us = 0;
    uint64_t delivered = 0;
    uint64_t beyond_tail_mid = 0;
    for (uint64_t i = 0; i < 100000; i++) {
        uint64_t now = i * 1000;
        uint64_t at[2];
        unsigned copies = rs_net_send(&net, now, 0, 1, 64, at);
        if (copies == 0) {
            continue;
        }
        delivered++;
        uint64_t latency = at[0] - now;
        assert_true(latency >= p.latency_min_ns && latency <= p.tail_max_ns);
        if (latency > p.latency_max_ns) {
            tail++;
            beyond_tail_mid += latency > 27500000;
        } else {
            body_sum_us += latency / 1000;
        }
        if (copies == 2) {
            assert_true(at[1] >= at[0] + p.latency_min_ns);
            assert_true(at[1] <= at[0] + p.tail_max_ns);
        }
    }
    const struct rs_net_counters *n = rs_net_counters(&net);
    assert_int_equal(n->sent, 100000);
    assert_int_equal(n->blocked, 0);
    assert_int_equal(n->lost + delivered, 100000);
    assert_int_equal(n->delivered_copies, delivered + n->duplicated);
    assert_int_equal(n->reordered, delivered);
    assert_in_range(n->lost, 10000 - 600, 10000 + 600);               /* sd 95 */
    assert_in_range(n->duplicated, 4500 - 400, 4500 + 400);           /* sd 65 */
    assert_in_range(tail, 1800 - 270, 1800 + 270);                    /* sd 42 */
    assert_in_range(beyond_tail_mid * 100 / tail, 40, 60);            /* uniform tail */
    assert_in_range(body_sum_us / (delivered - tail), 2950, 3050);    /* mean 3 ms, sd 3 us */
    rs_net_free(&net);
}

static void test_fifo_holds_without_reordering(void **state)
{
    (void)state;
    const struct rs_link_params p = {.latency_min_ns = 1000, .latency_max_ns = 5 * MS};
    struct rs_net net;
    assert_int_equal(rs_net_init(&net, 2, &p, 7), RS_OK);
    uint64_t prev = 0;
    uint64_t held = 0;
    for (uint64_t i = 0; i < 20000; i++) {
        uint64_t now = i * 10000; /* 10 us apart: far closer than the latency spread */
        uint64_t at[2];
        assert_int_equal(rs_net_send(&net, now, 0, 1, 1, at), 1);
        assert_true(at[0] >= prev);
        assert_true(at[0] >= now + p.latency_min_ns);
        held += i > 0 && at[0] == prev; /* held back to its predecessor's time by FIFO */
        prev = at[0];
    }
    assert_true(held > 1000); /* the constraint actually bit */
    assert_int_equal(rs_net_counters(&net)->reordered, 0);
    rs_net_free(&net);
}

static void test_reordering_happens_with_it(void **state)
{
    (void)state;
    const struct rs_link_params p = {.latency_min_ns = 1000, .latency_max_ns = 5 * MS,
                                     .reorder_ppm = 200000};
    struct rs_net net;
    assert_int_equal(rs_net_init(&net, 2, &p, 7), RS_OK);
    uint64_t latest_fifo = 0;
    uint64_t overtakes = 0;
    for (uint64_t i = 0; i < 20000; i++) {
        uint64_t at[2];
        uint64_t before = rs_net_counters(&net)->reordered;
        assert_int_equal(rs_net_send(&net, i * 10000, 0, 1, 1, at), 1);
        if (rs_net_counters(&net)->reordered == before) {
            assert_true(at[0] >= latest_fifo); /* FIFO messages stay in order */
            latest_fifo = at[0];
        } else {
            overtakes += at[0] < latest_fifo;
        }
    }
    assert_in_range(rs_net_counters(&net)->reordered, 4000 - 340, 4000 + 340); /* sd 57 */
    assert_true(overtakes > 1000);
    rs_net_free(&net);
}

/* Same seed, same sends: same fates; and traffic on one link never moves another link. */
static void test_determinism_and_link_independence(void **state)
{
    (void)state;
    const struct rs_link_params p = {.latency_min_ns = 1, .latency_max_ns = 5 * MS,
                                     .loss_ppm = 300000, .dup_ppm = 300000,
                                     .reorder_ppm = 1000000};
    struct rs_net a;
    struct rs_net b;
    assert_int_equal(rs_net_init(&a, 4, &p, 99), RS_OK);
    assert_int_equal(rs_net_init(&b, 4, &p, 99), RS_OK);
    struct rs_link_params lossless = p;
    lossless.loss_ppm = 0;
    assert_int_equal(rs_net_set_link(&b, 2, 3, &lossless), RS_OK);
    unsigned compared = 0;
    for (uint64_t i = 0; i < 2000; i++) {
        uint64_t at_a[2];
        uint64_t at_b[2];
        uint64_t junk[2];
        rs_net_send(&b, i, 0, 1, 1, junk); /* extra traffic on another link in b only */
        rs_net_send(&b, i, 1, 0, 1, junk);
        unsigned ca = rs_net_send(&a, i, 2, 3, 1, at_a);
        unsigned cb = rs_net_send(&b, i, 2, 3, 1, at_b);
        /* b's link never loses; where a's delivers, fates and times are the same draws. */
        assert_true(cb >= 1);
        if (ca > 0) {
            assert_int_equal(ca, cb);
            assert_int_equal(at_a[0], at_b[0]);
            if (ca == 2) {
                assert_int_equal(at_a[1], at_b[1]);
            }
            compared++;
        }
    }
    assert_true(compared > 1000);
    rs_net_free(&a);
    rs_net_free(&b);
}

/* Every copy gets its own bit; turning corruption on moves no fate or latency. */
static void test_corruption_flips_one_bit_per_copy(void **state)
{
    (void)state;
    const struct rs_link_params p = {.latency_min_ns = 1, .latency_max_ns = 5 * MS,
                                     .dup_ppm = 200000, .loss_ppm = 100000,
                                     .reorder_ppm = 300000};
    struct rs_link_params bad = p;
    bad.corrupt_ppm = 250000;
    struct rs_net clean;
    struct rs_net dirty;
    assert_int_equal(rs_net_init(&clean, 2, &p, 5), RS_OK);
    assert_int_equal(rs_net_init(&dirty, 2, &bad, 5), RS_OK);
    uint64_t corrupted = 0;
    uint64_t copies = 0;
    for (uint64_t i = 0; i < 20000; i++) {
        struct rs_net_fate a;
        struct rs_net_fate b;
        rs_net_transmit(&clean, i * 1000, 0, 1, 3, 40, &a);
        rs_net_transmit(&dirty, i * 1000, 0, 1, 3, 40, &b);
        assert_int_equal(a.copies, b.copies);
        for (unsigned c = 0; c < 2; c++) {
            assert_int_equal(a.corrupt_bit[c], RS_NET_INTACT);
            if (c >= b.copies) {
                assert_int_equal(b.corrupt_bit[c], RS_NET_INTACT);
                continue;
            }
            assert_int_equal(a.deliver_at_ns[c], b.deliver_at_ns[c]);
            copies++;
            if (b.corrupt_bit[c] != RS_NET_INTACT) {
                assert_true(b.corrupt_bit[c] < 40 * 8);
                corrupted++;
            }
        }
    }
    assert_int_equal(rs_net_counters(&dirty)->corrupted, corrupted);
    assert_int_equal(rs_net_counters(&clean)->corrupted, 0);
    assert_in_range(corrupted * 1000 / copies, 235, 265); /* 25%, sd about 0.3% */
    rs_net_free(&clean);
    rs_net_free(&dirty);
}

/* 1000 bytes/s: each 100-byte message holds the link 100 ms, so sends at once queue up. */
static void test_bandwidth_queues_messages(void **state)
{
    (void)state;
    struct rs_net net;
    assert_int_equal(rs_net_init(&net, 2, &quiet, 1), RS_OK);
    assert_int_equal(rs_net_set_bandwidth(&net, 0, 1, 1000), RS_OK);
    uint64_t at[2];
    for (uint64_t i = 1; i <= 3; i++) {
        assert_int_equal(rs_net_send(&net, 0, 0, 1, 100, at), 1);
        assert_int_equal(at[0], i * 100 * MS + 1 * MS);
    }
    /* The other direction is not capped; an idle link starts at once again. */
    assert_int_equal(rs_net_send(&net, 0, 1, 0, 100, at), 1);
    assert_int_equal(at[0], 1 * MS);
    assert_int_equal(rs_net_send(&net, 1000 * MS, 0, 1, 1, at), 1);
    assert_int_equal(at[0], 1000 * MS + 1 * MS + 1 * MS); /* ceil(1e9 / 1000) ns = 1 ms */
    /* rs_net_set_all leaves caps alone; 0 lifts the cap. */
    assert_int_equal(rs_net_set_all(&net, &quiet), RS_OK);
    assert_int_equal(rs_net_send(&net, 2000 * MS, 0, 1, 100, at), 1);
    assert_int_equal(at[0], 2101 * MS);
    assert_int_equal(rs_net_set_bandwidth(&net, 0, 1, 0), RS_OK);
    assert_int_equal(rs_net_send(&net, 2000 * MS, 0, 1, 100, at), 1);
    assert_int_equal(at[0], 2101 * MS); /* FIFO behind the capped message, not earlier */
    assert_int_equal(rs_net_set_bandwidth(&net, 0, 2, 1), RS_EINVAL);
    /* Drop-tail: at 1000 bytes/s a 100-byte message takes 100 ms, so about ten fit a queue of
     * RS_NET_QUEUE_MAX_NS and the rest are dropped. */
    assert_int_equal(rs_net_set_bandwidth(&net, 1, 0, 1000), RS_OK);
    unsigned accepted = 0;
    for (int i = 0; i < 30; i++) {
        accepted += rs_net_send(&net, 0, 1, 0, 100, at);
    }
    assert_int_equal(accepted, 11);
    assert_int_equal(rs_net_counters(&net)->queue_dropped, 19);
    rs_net_free(&net);
}

/* A clogged link holds its new messages; released in order they keep FIFO and latency. */
static void test_clog_holds_until_release(void **state)
{
    (void)state;
    const struct rs_link_params p = {.latency_min_ns = 1 * MS, .latency_max_ns = 9 * MS};
    struct rs_net net;
    assert_int_equal(rs_net_init(&net, 3, &p, 4), RS_OK);
    assert_int_equal(rs_net_clog(&net, 0, 1, true), RS_OK);
    assert_true(rs_net_clogged(&net, 0, 1));
    assert_false(rs_net_clogged(&net, 1, 0));
    struct rs_net_fate held[5];
    for (int i = 0; i < 5; i++) {
        rs_net_transmit(&net, (uint64_t)i * MS, 0, 1, 3, 10, &held[i]);
        assert_true(held[i].held);
        assert_int_equal(held[i].copies, 1);
        assert_int_equal(held[i].deliver_at_ns[0], RS_NET_HELD);
        assert_in_range(held[i].latency_ns[0], 1 * MS, 9 * MS);
    }
    struct rs_net_fate other;
    rs_net_transmit(&net, 0, 1, 0, 3, 10, &other);
    assert_false(other.held);
    assert_int_equal(rs_net_counters(&net)->held_copies, 5);
    assert_int_equal(rs_net_clog(&net, 0, 1, false), RS_OK);
    uint64_t prev = 0;
    for (int i = 0; i < 5; i++) {
        uint64_t at = rs_net_release(&net, 100 * MS, 0, 1, 10, held[i].latency_ns[0]);
        assert_true(at >= 100 * MS + held[i].latency_ns[0]);
        assert_true(at >= prev);
        prev = at;
    }
    /* A message sent after the release does not overtake the released ones. */
    struct rs_net_fate next;
    rs_net_transmit(&net, 100 * MS, 0, 1, 3, 10, &next);
    assert_false(next.held);
    assert_true(next.deliver_at_ns[0] >= prev);
    assert_int_equal(rs_net_clog(&net, 0, 1, true), RS_OK);
    assert_int_equal(rs_net_clog(&net, 2, 0, true), RS_OK);
    rs_net_heal(&net); /* heal removes cuts, not clogs */
    assert_true(rs_net_clogged(&net, 0, 1));
    rs_net_unclog_all(&net);
    assert_false(rs_net_clogged(&net, 0, 1));
    assert_false(rs_net_clogged(&net, 2, 0));
    assert_int_equal(rs_net_clog(&net, 3, 0, true), RS_EINVAL);
    rs_net_free(&net);
}

/* Filters drop chosen types on chosen links at the sender, without drawing randomness. */
static void test_filters_drop_chosen_types(void **state)
{
    (void)state;
    const struct rs_link_params p = {.latency_min_ns = 1, .latency_max_ns = 5 * MS,
                                     .loss_ppm = 100000};
    struct rs_net a;
    struct rs_net b;
    assert_int_equal(rs_net_init(&a, 3, &p, 8), RS_OK);
    assert_int_equal(rs_net_init(&b, 3, &p, 8), RS_OK);
    assert_int_equal(rs_net_filter(&a, 0, 1, (1ull << 3) | (1ull << 9), true), RS_OK);
    assert_int_equal(rs_net_filters(&a, 0, 1), (1ull << 3) | (1ull << 9));
    for (uint64_t i = 0; i < 1000; i++) {
        struct rs_net_fate fa;
        struct rs_net_fate fb;
        rs_net_transmit(&a, i, 0, 1, 3, 10, &fa); /* dropped in a only */
        assert_true(fa.filtered);
        assert_int_equal(fa.copies, 0);
        rs_net_transmit(&a, i, 0, 1, 4, 10, &fa);
        rs_net_transmit(&b, i, 0, 1, 4, 10, &fb);
        assert_false(fa.filtered);
        assert_int_equal(fa.copies, fb.copies); /* the filtered sends drew nothing */
        assert_int_equal(fa.deliver_at_ns[0], fb.deliver_at_ns[0]);
        rs_net_transmit(&a, i, 1, 0, 3, 10, &fa); /* the reverse link is not filtered */
        assert_false(fa.filtered);
    }
    assert_int_equal(rs_net_counters(&a)->filtered, 1000);
    assert_int_equal(rs_net_filter(&a, 0, 1, 1ull << 3, false), RS_OK);
    assert_int_equal(rs_net_filters(&a, 0, 1), 1ull << 9);
    assert_int_equal(rs_net_filter(&a, 2, 1, 1ull << 4, true), RS_OK);
    rs_net_clear_filters(&a);
    assert_int_equal(rs_net_filters(&a, 0, 1), 0);
    assert_int_equal(rs_net_filters(&a, 2, 1), 0);
    assert_int_equal(rs_net_filter(&a, 0, 3, 1, true), RS_EINVAL);
    rs_net_free(&a);
    rs_net_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rejects_bad_input),
        cmocka_unit_test(test_blocked_link_drops_one_way),
        cmocka_unit_test(test_isolate_partition_heal_matrices),
        cmocka_unit_test(test_set_link_changes_only_that_link),
        cmocka_unit_test(test_rates_and_latency_bounds),
        cmocka_unit_test(test_fifo_holds_without_reordering),
        cmocka_unit_test(test_reordering_happens_with_it),
        cmocka_unit_test(test_determinism_and_link_independence),
        cmocka_unit_test(test_corruption_flips_one_bit_per_copy),
        cmocka_unit_test(test_bandwidth_queues_messages),
        cmocka_unit_test(test_clog_holds_until_release),
        cmocka_unit_test(test_filters_drop_chosen_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
