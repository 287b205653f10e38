/* Swarm testing: each seed draws its own fault mix, rates and timeline (TigerBeetle's swarm). */
#ifndef RS_SIM_SWARM_H
#define RS_SIM_SWARM_H

#include "reports/json.h"
#include "sim/scenario.h"

/* The fault kinds a seed may enable; net noise is a kind of its own (settings, not steps). */
#define RS_SWARM_KINDS(X)                                                                  \
    X(PARTITION, "partition")                                                              \
    X(CRASH, "crash")                                                                      \
    X(PAUSE, "pause")                                                                      \
    X(CLOG, "clog")                                                                        \
    X(SWIZZLE, "swizzle-clog")                                                             \
    X(FILTER, "filter")                                                                    \
    X(BANDWIDTH, "bandwidth")                                                              \
    X(DISK_ERRORS, "disk-errors")                                                          \
    X(DISK_FULL, "disk-full")                                                              \
    X(DISK_SLOW, "disk-slow")                                                              \
    X(BIT_ROT, "bit-rot")                                                                  \
    X(DRIFT, "clock-drift")                                                                \
    X(CLOCK_JUMP, "clock-jump")                                                            \
    X(NET_NOISE, "net-noise")

enum rs_swarm_kind {
#define RS_SWARM_KIND_ENUM(id, name) RS_SWARM_##id,
    RS_SWARM_KINDS(RS_SWARM_KIND_ENUM)
#undef RS_SWARM_KIND_ENUM
        RS_SWARM_KIND_COUNT
};

/* Steps at most per run (each is one timeline command; the schedule stays loadable). */
#define RS_SWARM_STEPS_MAX 2000u

/*
 * What one seed drew. Every step draws its own target and values from these ranges.
 * Durations of timed faults (for=) are uniform in [fault_min_ns, fault_max_ns].
 */
struct rs_swarm {
    bool enabled[RS_SWARM_KIND_COUNT];
    uint32_t weight[RS_SWARM_KIND_COUNT]; /* 1..10 for enabled kinds, else 0 */
    uint64_t interval_ns;                 /* mean time between steps */
    uint64_t fault_min_ns, fault_max_ns;
    uint64_t down_min_ns, down_max_ns;   /* crash-restart */
    uint64_t pause_min_ns, pause_max_ns; /* often beyond the election timeout */
    uint32_t disk_error_ppm;             /* per write and per sync while a disk fails */
    uint64_t bandwidth_bytes_per_s;
    uint32_t slow_factor;
    int32_t drift_ppm_max;
    uint64_t jump_max_ns;
    /* net noise: base network settings for the whole run */
    uint32_t loss_ppm, dup_ppm, reorder_ppm, corrupt_ppm;
};

const char *rs_swarm_kind_name(enum rs_swarm_kind kind);

/* Draws the mix from the run seed ("swarm" stream). interval_ns is the mean step interval. */
void rs_swarm_draw(struct rs_swarm *s, uint64_t seed, uint64_t interval_ns,
                   uint64_t election_timeout_ns);
/*
 * The timeline ("swarm/steps" stream): steps in time order before run_ns, at most cap.
 * Targets stay symbolic (random, leader, follower); the nemesis resolves them when they fire.
 * Returns the number of steps.
 */
uint32_t rs_swarm_steps(const struct rs_swarm *s, uint64_t seed, uint64_t run_ns,
                        uint32_t node_count, struct rs_scn_command *steps, uint32_t cap);
/* One line for the terminal (no newline) and a JSON object for summary.json. */
void rs_swarm_describe(const struct rs_swarm *s, struct rs_buf *b);
void rs_swarm_json(const struct rs_swarm *s, struct rs_buf *b);

#endif
