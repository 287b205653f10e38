/* Benchmark: a raft group committing single-command proposals with 64 in flight at the
 * leader, no faults, safety checks on, trace text off. Prints a table; never a test. */
#include "core/kv/kv_cmd.h"
#include "sim/world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define IN_FLIGHT 64

struct bench {
    uint64_t target_commits;
    uint64_t base_commit; /* the leader's commit index when proposing started */
    uint64_t proposed;
    uint32_t leader;
    uint8_t command[64];
    size_t command_size;
};

/* Keeps IN_FLIGHT proposals uncommitted at the leader. */
static void on_node(void *ctx, struct rs_world *w, uint32_t id)
{
    struct bench *b = ctx;
    struct rs_node *n = rs_world_replica(w, id, 0);
    struct rs_raft *r = &n->raft;
    if (r->role != RS_LEADER || r->commit_index < r->term_start_index) {
        return;
    }
    if (b->leader != id) {
        b->leader = id;
        b->base_commit = r->commit_index;
    }
    rs_index last = rs_log_last_index(&r->log);
    bool proposed = false;
    while (last - r->commit_index < IN_FLIGHT && b->proposed < b->target_commits) {
        rs_index index;
        rs_term term;
        struct rs_bytes data = {b->command, b->command_size};
        if (rs_raft_propose(r, r->now_ns, data, &index, &term) != RS_OK) {
            break;
        }
        b->proposed++;
        last++;
        proposed = true;
    }
    if (proposed) {
        rs_raft_flush(r);
        rs_store_flush(w->nodes[id].store, n);
    }
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* determinism: ok, benchmarks measure wall time */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run(uint32_t voters, uint32_t learners, uint64_t commits, uint64_t snapshot_every)
{
    struct rs_world_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = 1;
    cfg.node_count = voters + learners;
    cfg.replica_count = voters;
    cfg.learner_count = learners;
    cfg.raft.election_timeout_ns = RS_NS_PER_S;
    cfg.raft.heartbeat_ns = 100 * RS_NS_PER_MS;
    cfg.raft.pre_vote = true;
    cfg.raft.max_inflight = 64;
    cfg.raft.batch_entries = 256;
    cfg.raft.batch_bytes = 512 * 1024;
    cfg.raft.proposal_queue = 4096;
    cfg.raft.snapshot_log_entries = snapshot_every;
    cfg.raft.snapshot_margin = 1000;
    cfg.net = (struct rs_link_params){.latency_min_ns = RS_NS_PER_MS,
                                      .latency_max_ns = 5 * RS_NS_PER_MS,
                                      .tail_max_ns = 5 * RS_NS_PER_MS};
    cfg.disk = (struct rs_disk_params){.write_latency_min_ns = 50 * RS_NS_PER_US,
                                       .write_latency_max_ns = 500 * RS_NS_PER_US,
                                       .sync_latency_min_ns = 500 * RS_NS_PER_US,
                                       .sync_latency_max_ns = 3 * RS_NS_PER_MS,
                                       .read_latency_min_ns = 50 * RS_NS_PER_US,
                                       .read_latency_max_ns = 200 * RS_NS_PER_US,
                                       .block_size = 4096,
                                       .torn_keep_ppm = 500000};
    cfg.fault_phase_ns = UINT64_MAX / 2;
    cfg.liveness_ns = RS_NS_PER_S;
    struct bench b = {.target_commits = commits};
    struct rs_kv_cmd cmd = {.client_id = 0,
                            .op = {.opcode = RS_KV_PUT,
                                   .key = {(const uint8_t *)"bench-key", 9},
                                   .value = {(const uint8_t *)"bench-value-0123", 16}}};
    if (rs_kv_cmd_encode(&cmd, b.command, sizeof b.command, &b.command_size) != RS_OK) {
        abort();
    }
    struct rs_trace trace;
    rs_trace_init(&trace, NULL);
    struct rs_world *w = calloc(1, sizeof *w);
    if (rs_world_init(w, &cfg, &trace) != RS_OK) {
        abort();
    }
    w->on_node = on_node;
    w->on_node_ctx = &b;
    double start = wall_seconds();
    uint64_t committed = 0;
    for (uint64_t t = RS_NS_PER_S; committed < commits && !w->stopped; t += RS_NS_PER_S) {
        rs_world_run_until(w, t);
        if (b.leader != 0 && w->nodes[b.leader].up) {
            committed = rs_world_replica(w, b.leader, 0)->raft.commit_index - b.base_commit;
        }
    }
    double wall = wall_seconds() - start;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("| %6u | %8u | %9llu | %9s | %8.2f | %12.0f | %12.0f | %10.1f | %8.1f | %s\n", voters,
           learners, (unsigned long long)committed, snapshot_every ? "on" : "off", wall, (double)w->stats.events / wall,
           (double)committed / wall, (double)w->now_ns / 1e9 / wall,
           (double)ru.ru_maxrss / 1024.0,
           w->checks.failed ? w->checks.message : "checks held");
    rs_world_free(w);
    free(w);
    rs_trace_free(&trace);
}

int main(int argc, char **argv)
{
    uint64_t big = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    /* peak RSS is per process: run one configuration per process for clean memory figures */
    const char *only = argc > 2 ? argv[2] : "all";
    printf("| voters | learners | commits   | snapshots | wall s   | events/s     | commits/s    | sim s/wall | peakRSS MiB |\n");
    printf("|--------|----------|-----------|-----------|----------|--------------|--------------|------------|-------------|\n");
    if (strcmp(only, "all") == 0 || strcmp(only, "3") == 0) {
        run(3, 0, 100000, 0);
        run(3, 0, big, 0);
    }
    if (strcmp(only, "all") == 0 || strcmp(only, "3s") == 0) {
        run(3, 0, big, 50000);
    }
    if (strcmp(only, "all") == 0 || strcmp(only, "5") == 0) {
        run(5, 0, 100000, 0);
        run(5, 0, big, 0);
    }
    if (strcmp(only, "all") == 0 || strcmp(only, "5s") == 0) {
        run(5, 0, big, 50000);
    }
    if (strcmp(only, "all") == 0 || strcmp(only, "3l") == 0) {
        run(3, 1, big, 50000); /* a learner: replicated to, never counted */
    }
    return 0;
}
