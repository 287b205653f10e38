/* The deterministic world: nodes with clocks and disks, the network, clients, one event loop. */
#ifndef RS_SIM_WORLD_H
#define RS_SIM_WORLD_H

#include "core/client/client.h"
#include "core/raft/raft.h"
#include "core/store/node.h"
#include "sim/checks.h"
#include "sim/clock.h"
#include "sim/disk.h"
#include "sim/evq.h"
#include "sim/net.h"
#include "sim/rng.h"
#include "sim/trace.h"
#include "sim/workload.h"

#define RS_WORLD_NODES_MAX   9u
#define RS_WORLD_CLIENTS_MAX 256u

struct rs_world_config {
    uint64_t seed;
    uint32_t node_count;
    struct rs_raft_config raft; /* id, voters and random_seed are filled per node */
    struct rs_link_params net;
    struct rs_disk_params disk;
    int32_t drift_ppm_min, drift_ppm_max;  /* drawn per node */
    uint64_t offset_ns_min, offset_ns_max; /* drawn per node */
    struct rs_workload_config workload;
    uint32_t replica_count;  /* initial voters: nodes 1..replica_count (0: every node) */
    uint32_t learner_count;  /* initial learners: the nodes after the voters */
    uint64_t fault_phase_ns; /* faults happen before this; then everything heals */
    uint64_t liveness_ns;    /* after the heal: bound for leader, ops and convergence */
    bool liveness_unchecked; /* unrestricted faults: the liveness phase runs, never fails */
    /* after the heal: every learner applies the heal-time commit index within this
     * (0: liveness_ns); checked with the liveness checks, so not in unrestricted mode */
    uint64_t learner_catchup_ns;
    uint32_t bugs;
};

/* A client operation as the history and the latency log see it. */
enum rs_op_phase { RS_OP_INVOKE, RS_OP_OK, RS_OP_FAIL, RS_OP_INFO };

struct rs_op_event {
    uint32_t process;
    enum rs_op_phase phase;
    uint8_t opcode;
    struct rs_bytes key, value, expected;
    bool result_found;
    struct rs_bytes result_value;
    uint64_t time_ns;
    uint64_t invoke_ns;
};

struct rs_world;
typedef void (*rs_op_observer)(void *ctx, const struct rs_op_event *ev);
typedef void (*rs_nemesis_fn)(void *ctx, struct rs_world *w, uint64_t arg);
/* Called after every event that touched a node, before its effects go out (benchmarks and
 * tests use it to drive the node directly). */
typedef void (*rs_node_hook)(void *ctx, struct rs_world *w, uint32_t node);

/* Events of a paused node, kept in their original order until it resumes. */
struct rs_world_deferred {
    struct rs_event *events;
    size_t head, count, cap;
};

struct rs_world_node {
    uint32_t id;
    bool up;
    bool paused; /* up but handling nothing: its events wait in `deferred` */
    /* wiped: it starts with no configuration (it must be added back, and never campaigns or
     * votes on the strength of the bootstrap configuration) until its log or a snapshot
     * gives it one */
    bool joining;
    struct rs_node *node; /* NULL while down */
    struct rs_clock clock;
    struct rs_disk disk;
    struct rs_rng rng; /* seeds for each incarnation */
    uint32_t incarnation;
    uint64_t timer_gen;
    uint64_t timer_global_ns; /* outstanding timer event, UINT64_MAX if none */
    /* disk operations in flight, completed in order */
    struct rs_world_disk_op *ops;
    size_t op_head, op_count, op_cap;
    uint64_t down_since_ns;
    uint64_t crashes;
    struct rs_world_deferred deferred;
    struct rs_rng corrupt_rng;   /* "bit-rot/<node>": where bit rot lands */
    uint32_t corrupt_bits_armed; /* bit rot applied when the node next starts */
    bool corrupt_unsynced_only;
};

struct rs_world_client {
    uint32_t endpoint;
    uint32_t process;
    struct rs_client client;
    bool busy;
    bool stopped;
    uint64_t timer_gen;
    uint64_t timer_global_ns;
    struct rs_workload_op op;
    uint64_t invoke_ns;
};

/* When the effective leader changed: a leader that reaches a majority, 0 when none. */
struct rs_leader_change {
    uint64_t time_ns;
    uint32_t leader;
};

struct rs_world_stats {
    uint64_t events;
    uint64_t messages;
    uint64_t disk_ops;
    uint64_t ops_invoked;
    uint64_t ops_ok;
    uint64_t ops_fail;
    uint64_t ops_info;
    uint64_t crashes;
    uint64_t restarts;
    uint64_t wipes;
    uint64_t pauses;
    uint64_t deferred_events;
    uint64_t held_copies;     /* copies that waited for an unclog */
    uint64_t disk_errors;     /* disk operations that failed (injected or a full disk) */
    uint64_t corrupt_copies;  /* copies delivered with a flipped bit */
    uint64_t corrupt_to_nodes;
    uint64_t corrupt_rejected; /* of those, dropped by a node's frame or message checks */
    uint64_t corrupt_accepted; /* a corrupt copy a node did not count as corrupt: must be 0 */
    uint64_t corrupted_disk_bits;
};

struct rs_world {
    struct rs_world_config cfg;
    uint64_t now_ns;
    struct rs_evq evq;
    struct rs_net net;
    struct rs_rng nemesis_rng;
    struct rs_world_node nodes[RS_WORLD_NODES_MAX + 1]; /* index = node id */
    struct rs_world_client *clients;
    uint32_t client_count;
    uint32_t next_process;
    struct rs_workload workload;
    struct rs_checks checks;
    struct rs_trace *trace;
    rs_op_observer on_op;
    void *on_op_ctx;
    rs_nemesis_fn on_nemesis;
    void *on_nemesis_ctx;
    rs_node_hook on_node;
    void *on_node_ctx;
    bool healed;
    uint64_t heal_ns;
    rs_index heal_commit_index; /* the highest commit index of a running replica at the heal */
    uint64_t converged_ns;
    bool stopped;
    struct rs_world_stats stats;
    struct rs_leader_change *leader_log;
    size_t leader_log_count, leader_log_cap;
    /* copies held by clogged links, in the order they were held (linked through them) */
    struct rs_world_flight *held_head;
    struct rs_world_flight *held_tail;
    size_t held_count;
};

enum rs_err rs_world_init(struct rs_world *w, const struct rs_world_config *cfg,
                          struct rs_trace *trace);
void rs_world_free(struct rs_world *w);
/* Schedules a nemesis callback at time_ns (arg is handed back). */
void rs_world_at(struct rs_world *w, uint64_t time_ns, uint64_t arg);
/* Schedules the heal at the end of the fault phase; rs_world_run does it itself. */
void rs_world_start(struct rs_world *w);
bool rs_world_done(const struct rs_world *w);
/* Runs until the fault phase and the liveness phase are over (or a check failed). */
void rs_world_run(struct rs_world *w);
/* Runs events up to and including time_ns (for tests and benchmarks). */
void rs_world_run_until(struct rs_world *w, uint64_t time_ns);

/*
 * Nemesis actions. Node ids are 1..node_count. Every action writes a trace line and folds
 * into the digest. Endpoints (for links) are node ids, or client endpoints
 * (rs_world_endpoint_of_client); RS_WORLD_ANY in a link action means every endpoint.
 */
#define RS_WORLD_ANY 0u
uint32_t rs_world_leader(const struct rs_world *w); /* 0 when none is up */
void rs_world_crash(struct rs_world *w, uint32_t node);
void rs_world_restart(struct rs_world *w, uint32_t node);
/* Crash, erase the disk, restart empty. No durability is expected across it. A wiped voter
 * that rejoins with an empty log is only safe through a membership change. */
void rs_world_wipe(struct rs_world *w, uint32_t node);
/* A paused node handles nothing: its deliveries, timers and disk completions are deferred
 * and handed to it at the resume, in their original order. A crash ends a pause. */
void rs_world_pause(struct rs_world *w, uint32_t node);
void rs_world_resume(struct rs_world *w, uint32_t node);

void rs_world_isolate(struct rs_world *w, uint32_t node);
void rs_world_partition(struct rs_world *w, const uint8_t *side_by_node); /* [1..n] */
void rs_world_one_way(struct rs_world *w, uint32_t from, uint32_t to);
/* Two halves joined by the bridge node: the nodes below it in id order (skipping it) form
 * one half, the rest the other; the halves cannot talk, the bridge talks to both. */
void rs_world_bridge(struct rs_world *w, uint32_t bridge);
/* Each node talks only to its neighbours on the ring 1-2-...-n-1. */
void rs_world_ring(struct rs_world *w);
/* Removes the cuts (partitions) only. */
void rs_world_heal_partitions(struct rs_world *w);
/* The network is whole again: cuts, clogs (held messages go) and filters removed. */
void rs_world_heal_network(struct rs_world *w);
/* Clog or unclog the links from -> to (either may be RS_WORLD_ANY). Unclogging releases the
 * held messages of every link that is no longer clogged, in the order they were held. */
void rs_world_clog(struct rs_world *w, uint32_t from, uint32_t to, bool clogged);
/* Every link from and to the node. */
void rs_world_clog_node(struct rs_world *w, uint32_t node, bool clogged);
/* Drop (or stop dropping) messages whose type bit is set in types, on the links from -> to. */
void rs_world_filter(struct rs_world *w, uint32_t from, uint32_t to, uint64_t types, bool drop);
/* A bandwidth cap (0: none) on the links from -> to. */
void rs_world_bandwidth(struct rs_world *w, uint32_t from, uint32_t to, uint64_t bytes_per_s);
void rs_world_set_link_params(struct rs_world *w, const struct rs_link_params *p);

/* Disk faults of a node (replacing the previous ones); a failed operation reaches the engine
 * through rs_node_disk_done, which puts the replica in its error state until a restart. */
void rs_world_disk_faults(struct rs_world *w, uint32_t node, const struct rs_disk_faults *f);
/* Bit rot read at the node's next start: `bits` bits flipped over its files (only beyond
 * each file's synced prefix when unsynced_only). */
void rs_world_corrupt_disk(struct rs_world *w, uint32_t node, uint32_t bits,
                           bool unsynced_only);
/* A replica in the error state, or one whose disk is faulty. */
bool rs_world_node_errored(const struct rs_world *w, uint32_t node);
bool rs_world_disk_faulty(const struct rs_world *w, uint32_t node);

void rs_world_set_drift(struct rs_world *w, uint32_t node, int32_t drift_ppm);
void rs_world_wall_step(struct rs_world *w, uint32_t node, int64_t delta_ns);

/* The end of the fault phase: every fault undone (network whole, loss and corruption off,
 * caps gone, pauses resumed, disk faults off, crashed and errored nodes restarted), clients
 * stop starting operations. */
void rs_world_heal_all(struct rs_world *w);

uint32_t rs_world_endpoint_of_client(const struct rs_world *w, uint32_t client);
/* The leader if it is not paused and can reach a majority of the running, unpaused nodes
 * both ways, else 0. */
uint32_t rs_world_effective_leader(const struct rs_world *w);

/* Administrative commands, carried out by the current leader (CliService). */
enum rs_member_op {
    RS_MEMBER_ADD_PEER = 0,
    RS_MEMBER_REMOVE_PEER,
    RS_MEMBER_ADD_LEARNER,
    RS_MEMBER_REMOVE_LEARNER,
    RS_MEMBER_PROMOTE, /* learner -> voter */
};
enum rs_err rs_world_change_member(struct rs_world *w, enum rs_member_op op, uint32_t node);
enum rs_err rs_world_transfer(struct rs_world *w, uint32_t target); /* 0: best candidate */
enum rs_err rs_world_snapshot(struct rs_world *w, uint32_t node);

#endif
