/* The nemesis: fires timeline commands on the world, keeps fault windows, records what fired. */
#ifndef RS_SIM_NEMESIS_H
#define RS_SIM_NEMESIS_H

#include "sim/scenario.h"
#include "sim/world.h"

/*
 * Fault modes (DESIGN.md section 3). Recoverable: a quorum keeps good storage and can talk
 * again after the heal, so liveness is asserted then; the swarm keeps at most a minority of
 * nodes impaired (crashed, paused or disk-faulty) at any moment. Unrestricted: anything goes,
 * only safety is checked. Scripted timelines fire as written in both modes.
 */
enum rs_nemesis_mode { RS_NEMESIS_RECOVERABLE, RS_NEMESIS_UNRESTRICTED };

/* A fault window for the plots: [since, until) with a label. */
typedef void (*rs_window_fn)(void *ctx, uint64_t since_ns, uint64_t until_ns, const char *label);

/* Window slots: three shared ones, then five kinds per node. */
enum { RS_NEMESIS_WINDOW_PARTITION, RS_NEMESIS_WINDOW_CLOG_LINKS, RS_NEMESIS_WINDOW_FILTER };
#define RS_NEMESIS_NODE_WINDOW_KINDS 5u
#define RS_NEMESIS_WINDOWS           (3u + RS_NEMESIS_NODE_WINDOW_KINDS * (RS_WORLD_NODES_MAX + 1))

struct rs_nemesis_window {
    uint64_t since_ns;
    bool open;
    char label[48];
};

struct rs_nemesis {
    struct rs_world *world;
    enum rs_nemesis_mode mode;
    const struct rs_scn_command *commands; /* the scenario's timeline (not owned) */
    uint32_t command_count;
    uint64_t run_ns;                       /* repeating commands stop before this */
    const struct rs_scn_command *steps;    /* swarm steps (not owned), guarded when recoverable */
    uint32_t step_count;
    uint32_t *firings;                     /* per command: how often it fired */
    /* What happened, resolved (node(N) targets, drawn values fixed), in firing order. */
    struct rs_scn_command *fired;
    uint32_t fired_count;
    uint32_t fired_cap;
    bool fired_truncated; /* more than RS_SCN_COMMAND_COUNT_MAX: a schedule keeps the first */
    uint64_t verb_counts[RS_SCN_VERB_COUNT];
    uint64_t skipped; /* swarm steps the recoverable mode refused */
    rs_window_fn on_window;
    void *window_ctx;
    struct rs_nemesis_window windows[RS_NEMESIS_WINDOWS];
};

/*
 * Takes over the world's nemesis callback. steps may be NULL. Scheduling happens in
 * rs_nemesis_start (every command's first firing and every step).
 */
void rs_nemesis_init(struct rs_nemesis *n, struct rs_world *w, enum rs_nemesis_mode mode,
                     const struct rs_scenario *scn, const struct rs_scn_command *steps,
                     uint32_t step_count);
void rs_nemesis_free(struct rs_nemesis *n);
void rs_nemesis_start(struct rs_nemesis *n);
/* Closes the windows still open at end_ns (the heal, or the end of the run). */
void rs_nemesis_close_windows(struct rs_nemesis *n, uint64_t end_ns);

/* Whether a node is impaired now: down, paused, or with a faulty disk or errored replica. */
bool rs_nemesis_impaired(const struct rs_world *w, uint32_t node);

#endif
