/* Benchmark: many stores and regions (issue 4's scale target: 30 stores, 10,000 regions, 3
 * replicas, a zipf workload, 5 simulated minutes). Prints wall time, simulated/wall ratio,
 * events per second and peak RSS; never a test.
 * usage: bench_scale [--hibernate] [STORES [REGIONS [SECONDS [CLIENTS [HEARTBEAT_MS]]]]]
 * --hibernate (anywhere) turns on raft.hibernate: idle regions stop heartbeating. */
#include "sim/layout.h"
#include "sim/world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* determinism: ok, benchmarks measure wall time */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t arg_or(int argc, char **argv, int i, uint64_t fallback)
{
    return argc > i ? strtoull(argv[i], NULL, 10) : fallback;
}

/* Takes the --hibernate flag out of argv (it may stand anywhere); returns whether it was. */
static bool take_flag(int *argc, char **argv, const char *flag)
{
    bool found = false;
    int kept = 1;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], flag) == 0) {
            found = true;
        } else {
            argv[kept++] = argv[i];
        }
    }
    *argc = kept;
    return found;
}

static void configure(struct rs_world_config *cfg, uint32_t stores, uint32_t clients,
                      uint64_t heartbeat_ms, uint64_t seconds)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = 1;
    cfg->node_count = stores;
    cfg->replica_count = 3;
    cfg->raft.election_timeout_ns = 10 * heartbeat_ms * RS_NS_PER_MS;
    cfg->raft.heartbeat_ns = heartbeat_ms * RS_NS_PER_MS;
    cfg->raft.pre_vote = true;
    cfg->raft.max_inflight = 64;
    cfg->raft.batch_entries = 256;
    cfg->raft.batch_bytes = 512 * 1024;
    cfg->raft.proposal_queue = 4096;
    cfg->raft.snapshot_log_entries = 1000;
    cfg->raft.snapshot_margin = 100;
    cfg->net = (struct rs_link_params){.latency_min_ns = RS_NS_PER_MS,
                                       .latency_max_ns = 5 * RS_NS_PER_MS,
                                       .tail_max_ns = 5 * RS_NS_PER_MS};
    /* an NVMe-like disk: the simulated disk completes one operation at a time, and a store
     * with a thousand replicas syncs each one's log and vote separately (no group commit),
     * so a slower disk makes the elections of 10,000 regions outlast their timeouts */
    cfg->disk = (struct rs_disk_params){.write_latency_min_ns = 10 * RS_NS_PER_US,
                                        .write_latency_max_ns = 50 * RS_NS_PER_US,
                                        .sync_latency_min_ns = 50 * RS_NS_PER_US,
                                        .sync_latency_max_ns = 200 * RS_NS_PER_US,
                                        .read_latency_min_ns = 50 * RS_NS_PER_US,
                                        .read_latency_max_ns = 200 * RS_NS_PER_US,
                                        .block_size = 4096,
                                        .torn_keep_ppm = 500000};
    cfg->workload = (struct rs_workload_config){.client_count = clients,
                                                .key_count = 100000,
                                                .dist = RS_DIST_ZIPF,
                                                .dist_param = 990,
                                                .request_timeout_ns = 500 * RS_NS_PER_MS,
                                                .op_timeout_ns = 5 * RS_NS_PER_S,
                                                .value_size = 64};
    cfg->workload.mix[RS_KV_GET] = 50;
    cfg->workload.mix[RS_KV_PUT] = 50;
    cfg->fault_phase_ns = seconds * RS_NS_PER_S;
    cfg->liveness_ns = 60 * RS_NS_PER_S;
    cfg->sample_ns = RS_NS_PER_S;
}

/* Messages per simulated second, and how many replicas sleep at the end and went to sleep. */
static void print_hibernation(const struct rs_world *w, uint64_t seconds)
{
    uint64_t replicas = 0, asleep = 0, hibernations = 0, wakes = 0, wake_ups = 0;
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        const struct rs_store *s = w->nodes[id].store;
        for (size_t i = 0; s != NULL && i < s->replica_count; i++) {
            const struct rs_raft *r = &s->replicas[i]->raft;
            replicas++;
            asleep += rs_raft_hibernating(r);
            hibernations += r->stats.hibernations;
            wakes += r->stats.wakes;
            wake_ups += r->stats.wake_ups_sent;
        }
    }
    printf("\nmessages/sim s %llu, disk ops/sim s %llu; replicas %llu, asleep at the end %llu; "
           "hibernations %llu, wakes %llu, wake-ups sent %llu\n",
           (unsigned long long)(w->stats.messages / seconds),
           (unsigned long long)(w->stats.disk_ops / seconds), (unsigned long long)replicas,
           (unsigned long long)asleep, (unsigned long long)hibernations,
           (unsigned long long)wakes, (unsigned long long)wake_ups);
}

int main(int argc, char **argv)
{
    bool hibernate = take_flag(&argc, argv, "--hibernate");
    uint32_t stores = (uint32_t)arg_or(argc, argv, 1, 30);
    uint32_t regions = (uint32_t)arg_or(argc, argv, 2, 10000);
    uint64_t seconds = arg_or(argc, argv, 3, 300);
    uint32_t clients = (uint32_t)arg_or(argc, argv, 4, 64);
    uint64_t heartbeat_ms = arg_or(argc, argv, 5, 100);
    if (stores < 3 || stores > RS_WORLD_NODES_MAX || regions < 1 || seconds < 1 ||
        clients > RS_WORLD_CLIENTS_MAX || heartbeat_ms < 1) {
        fprintf(stderr,
                "usage: bench_scale [--hibernate] [STORES 3..%u [REGIONS [SECONDS [CLIENTS "
                "[HB_MS]]]]]\n",
                RS_WORLD_NODES_MAX);
        return 64;
    }
    struct rs_world_config cfg;
    configure(&cfg, stores, clients, heartbeat_ms, seconds);
    cfg.raft.hibernate = hibernate;
    struct rs_region *layout = rs_layout_split_keys(cfg.workload.key_count, regions);
    struct rs_conf *confs = calloc(regions, sizeof *confs);
    if (confs == NULL) {
        return 1;
    }
    rs_layout_spread(confs, regions, stores, 3);
    cfg.regions = layout;
    cfg.region_count = regions;
    cfg.region_confs = confs;
    struct rs_trace trace;
    rs_trace_init(&trace, NULL);
    struct rs_world *w = calloc(1, sizeof *w);
    double start = wall_seconds();
    if (w == NULL || rs_world_init(w, &cfg, &trace) != RS_OK) {
        return 1;
    }
    for (uint32_t i = 0; i < regions; i++) {
        rs_region_free(&layout[i]);
    }
    free(layout);
    free(confs);
    double setup = wall_seconds() - start;
    rs_world_start(w);
    rs_world_run_until(w, seconds * RS_NS_PER_S);
    double wall = wall_seconds() - start;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    uint32_t leaders = 0;
    for (uint32_t i = 0; i < w->region_count; i++) {
        leaders += rs_world_region_leader(w, i) != 0;
    }
    /* CPU time too: on a shared machine wall time also measures the neighbours */
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    printf("| stores | regions | hibernate | sim s | wall s (setup) | cpu s | sim/wall | "
           "events/s | ops ok | regions led | peak RSS MiB | checks |\n"
           "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    printf("| %u | %u | %s | %.1f | %.1f (%.1f) | %.1f | %.2f | %.0f | %llu | %u | %.0f | %s |\n",
           stores, regions, hibernate ? "on" : "off", (double)w->now_ns / 1e9, wall, setup, cpu,
           (double)w->now_ns / 1e9 / wall,
           (double)w->stats.events / wall, (unsigned long long)w->stats.ops_ok, leaders,
           (double)ru.ru_maxrss / 1024.0,
           w->checks.failed ? w->checks.message : "held");
    print_hibernation(w, seconds);
    rs_world_free(w);
    free(w);
    rs_trace_free(&trace);
    return 0;
}
