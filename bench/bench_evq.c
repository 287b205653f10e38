/* Event queue throughput: push/pop pairs per second with 1k and 100k pending events. */
#include "sim/evq.h"

#include <stdio.h>
#include <time.h>

static uint64_t bench_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The wall clock measures the benchmark only; it never feeds a simulated decision. */
static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * The "hold" model of a discrete-event simulator: with `pending` events queued, pop the
 * earliest and push one new event a random delay after it. Each hold is one pop and one push.
 */
static void bench_hold(size_t pending, size_t holds)
{
    struct rs_evq q;
    rs_evq_init(&q);
    uint64_t rng = 42;
    for (size_t i = 0; i < pending; i++) {
        rs_evq_push(&q, bench_next(&rng) % 1000000, 0, 0, i, NULL);
    }
    uint64_t checksum = 0;
    double start = seconds_now();
    for (size_t i = 0; i < holds; i++) {
        struct rs_event ev;
        rs_evq_pop(&q, &ev);
        checksum += ev.arg;
        rs_evq_push(&q, ev.time_ns + 1 + bench_next(&rng) % 1000000, 0, 0, ev.arg + 1, NULL);
    }
    double elapsed = seconds_now() - start;
    printf("hold   pending=%-7zu %zu pop+push pairs in %.3f s: %.2f M pairs/s, %.1f ns/pair"
           " (checksum %llu)\n",
           pending, holds, elapsed, (double)holds / elapsed / 1e6, elapsed * 1e9 / (double)holds,
           (unsigned long long)checksum);
    rs_evq_free(&q);
}

/* Fill to `count` then drain: separate push and pop rates. */
static void bench_fill_drain(size_t count, size_t rounds)
{
    struct rs_evq q;
    rs_evq_init(&q);
    uint64_t rng = 7;
    double push_s = 0;
    double pop_s = 0;
    for (size_t r = 0; r < rounds; r++) {
        double t0 = seconds_now();
        for (size_t i = 0; i < count; i++) {
            rs_evq_push(&q, bench_next(&rng) % 1000000, 0, 0, i, NULL);
        }
        double t1 = seconds_now();
        struct rs_event ev;
        while (rs_evq_pop(&q, &ev)) {
        }
        double t2 = seconds_now();
        push_s += t1 - t0;
        pop_s += t2 - t1;
    }
    double total = (double)count * (double)rounds;
    printf("fill   count=%-9zu push %.2f M/s (%.1f ns), pop %.2f M/s (%.1f ns)\n", count,
           total / push_s / 1e6, push_s * 1e9 / total, total / pop_s / 1e6, pop_s * 1e9 / total);
    rs_evq_free(&q);
}

int main(void)
{
    printf("sizeof(struct rs_event) = %zu bytes\n", sizeof(struct rs_event));
    bench_hold(1000, 10000000);
    bench_hold(100000, 5000000);
    bench_fill_drain(1000, 5000);
    bench_fill_drain(100000, 50);
    return 0;
}
