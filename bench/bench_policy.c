/* PD policy decision time: one full pass over a view of 30 stores and 10,000 regions. */
#include "core/pd/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STORES  30u
#define REGIONS 10000u

static uint64_t bench_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The wall clock measures the benchmark only; it never feeds a decision. */
static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Replicas on the first 20 stores only and every region led by its first voter: the last 10
 * stores joined empty, so every policy has work on every pass. */
static void make_view(struct rs_pd_view *view, uint64_t seed)
{
    for (uint32_t i = 0; i < STORES; i++) {
        view->stores[i] = (struct rs_pd_store){.id = i + 1, .up = true};
    }
    view->store_count = STORES;
    for (uint32_t i = 0; i < REGIONS; i++) {
        struct rs_pd_region *r = &view->regions[i];
        memset(r, 0, sizeof *r);
        r->id = i + 1;
        r->epoch = (struct rs_region_epoch){1, 1};
        rs_node_id first = (rs_node_id)(bench_next(&seed) % 20 + 1);
        for (uint32_t k = 0; k < 3; k++) {
            r->voters[k] = (rs_node_id)((first - 1 + k * 7) % 20 + 1);
            view->stores[r->voters[k] - 1].region_count++;
        }
        r->voter_count = 3;
        r->leader = r->voters[0];
        view->stores[r->leader - 1].leader_count++;
        r->key_count = bench_next(&seed) % 200000;
        r->size_bytes = (bench_next(&seed) % 96 + 1) << 20;
        r->read_qps = bench_next(&seed) % 1000;
        r->write_qps = bench_next(&seed) % 300;
    }
    view->region_count = REGIONS;
}

static void bench_tick(const char *names, struct rs_pd_view *view, int passes)
{
    struct rs_pd_params params;
    rs_pd_params_default(&params);
    struct rs_pd_policy *policy = NULL;
    char message[256];
    if (rs_pd_policy_create(names, &params, &policy, message, sizeof message) != RS_OK) {
        fprintf(stderr, "%s\n", message);
        exit(1);
    }
    static struct rs_pd_instruction items[64];
    struct rs_pd_out out = {items, 64, 0};
    size_t given = 0;
    double start = seconds_now();
    for (int i = 0; i < passes; i++) {
        /* Every pass at a new time with nothing applied: the worst case, since moves in flight
         * are counted and the searches cover the whole view. */
        if (rs_pd_tick(policy, view, (uint64_t)i * 3600 * RS_NS_PER_S, &out) != RS_OK) {
            exit(1);
        }
        given += out.count;
    }
    double elapsed = seconds_now() - start;
    printf("tick       %-36s %4d passes  %8.3f ms/pass  %zu instructions\n", names, passes,
           elapsed * 1e3 / passes, given);
    rs_pd_policy_destroy(policy);
}

/* RheaKV style: one heartbeat from every store per pass, each naming the regions it leads. */
static void bench_heartbeats(const char *names, struct rs_pd_view *view, int passes)
{
    struct rs_pd_params params;
    rs_pd_params_default(&params);
    struct rs_pd_policy *policy = NULL;
    char message[256];
    if (rs_pd_policy_create(names, &params, &policy, message, sizeof message) != RS_OK) {
        fprintf(stderr, "%s\n", message);
        exit(1);
    }
    static uint64_t ids[REGIONS];
    static struct rs_pd_instruction items[8];
    struct rs_pd_out out = {items, 8, 0};
    size_t given = 0;
    double start = seconds_now();
    for (int i = 0; i < passes; i++) {
        for (uint32_t s = 0; s < view->store_count; s++) {
            size_t n = 0;
            for (size_t r = 0; r < view->region_count; r++) {
                if (view->regions[r].leader == view->stores[s].id) {
                    ids[n++] = view->regions[r].id;
                }
            }
            uint64_t now = (uint64_t)i * 3600 * RS_NS_PER_S;
            if (rs_pd_region_heartbeat(policy, view, view->stores[s].id, ids, n, now, &out) !=
                RS_OK) {
                exit(1);
            }
            given += out.count;
        }
    }
    double elapsed = seconds_now() - start;
    printf("heartbeats %-36s %4d passes  %8.3f ms/pass  %zu instructions\n", names, passes,
           elapsed * 1e3 / passes, given);
    rs_pd_policy_destroy(policy);
}

int main(int argc, char **argv)
{
    int passes = argc > 1 ? atoi(argv[1]) : 20;
    if (passes <= 0) {
        fprintf(stderr, "usage: bench_policy [PASSES]\n");
        return 64;
    }
    struct rs_pd_view view;
    view.stores = calloc(STORES, sizeof *view.stores);
    view.regions = calloc(REGIONS, sizeof *view.regions);
    if (view.stores == NULL || view.regions == NULL) {
        return 1;
    }
    make_view(&view, 42);
    printf("view: %u stores, %u regions (replicas on 20 stores, 10 empty)\n", STORES, REGIONS);
    bench_heartbeats("rhea-leader-balance,rhea-split-judge", &view, passes);
    bench_tick("leader-count", &view, passes);
    bench_tick("region-count", &view, passes);
    bench_tick("load", &view, passes);
    bench_tick("leader-count,region-count,load", &view, passes);
    free(view.stores);
    free(view.regions);
    return 0;
}
