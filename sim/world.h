/* The deterministic world: nodes with clocks and disks, the network, clients, one event loop. */
#ifndef RS_SIM_WORLD_H
#define RS_SIM_WORLD_H

#include "core/client/client.h"
#include "core/client/route.h"
#include "core/pd/server.h"
#include "core/raft/raft.h"
#include "core/store/node.h"
#include "core/store/store.h"
#include "sim/checks.h"
#include "sim/clock.h"
#include "sim/disk.h"
#include "sim/evq.h"
#include "sim/net.h"
#include "sim/rng.h"
#include "sim/trace.h"
#include "sim/workload.h"

#define RS_WORLD_NODES_MAX   32u
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
    /* the regions every store starts with (copied; NULL: one region, id 1, every key) */
    const struct rs_region *regions;
    uint32_t region_count;
    /* each region's initial members (NULL: every region on the voters 1..replica_count and
     * the learner_count nodes after them); a store outside a region's members does not host
     * it at the start */
    const struct rs_conf *region_confs;
    /* each region's raft options (NULL: raft above for every region); id, members, seed and
     * bugs are set per store */
    const struct rs_raft_config *region_rafts;
    uint64_t fault_phase_ns; /* faults happen before this; then everything heals */
    uint64_t liveness_ns;    /* after the heal: bound for leader, ops and convergence */
    bool liveness_unchecked; /* unrestricted faults: the liveness phase runs, never fails */
    uint64_t sample_ns;      /* per-store samples this often (0: none); see rs_world_sample */
    uint64_t pd_split_keys;  /* rhea-split-judge's threshold (0: RheaKV's 10000) */
    /* after the heal: every learner applies the heal-time commit index within this
     * (0: liveness_ns); checked with the liveness checks, so not in unrestricted mode */
    uint64_t learner_catchup_ns;
    uint32_t bugs;
    /* the Placement Driver process: handler names (NULL or "none": no PD process at all),
     * the stores' heartbeat period and the PD's tick period */
    const char *pd_policy;
    uint64_t pd_heartbeat_ns;
    uint64_t pd_tick_ns;
    uint32_t pd_node_count; /* the PD group's nodes (0: 1) */
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
    const struct rs_workload_op *op;    /* the whole operation (multi-key ops, ranges, ...) */
    const struct rs_kv_result *result;  /* the answer, when phase is ok */
};

struct rs_world;
typedef void (*rs_op_observer)(void *ctx, const struct rs_op_event *ev);
typedef void (*rs_nemesis_fn)(void *ctx, struct rs_world *w, uint64_t arg);
/* Called after every event that touched a node, before its effects go out (benchmarks and
 * tests use it to drive the node directly). */
typedef void (*rs_node_hook)(void *ctx, struct rs_world *w, uint32_t node);

/*
 * One store at one sample time. Gauges (leaders, regions, keys, bytes) are the state at that
 * time; the rest count what happened since the previous sample.
 */
struct rs_world_sample {
    uint64_t time_ns;
    uint32_t store;
    bool up;
    uint32_t leaders;        /* region replicas leading here */
    uint32_t regions;        /* region replicas here (serving ones) */
    uint64_t keys;           /* pairs in those replicas, every key space */
    uint64_t bytes;          /* their key and value bytes */
    uint64_t reads;          /* client reads answered here */
    uint64_t writes;         /* client writes answered here */
    uint64_t leader_gains;   /* replicas that became leader here (elections and transfers) */
    uint64_t replicas_added; /* replicas created here for a region's leader (moves, splits missed) */
    uint64_t snapshot_bytes; /* snapshot bytes sent from here */
    uint64_t splits;         /* splits applied here */
};

/* A leadership transfer started (an admin command or a PD instruction carried out) or a
 * region created by a split, for the latency plot. */
enum rs_world_mark_kind { RS_WORLD_MARK_TRANSFER = 0, RS_WORLD_MARK_SPLIT = 1 };
struct rs_world_mark {
    uint64_t time_ns;
    enum rs_world_mark_kind kind;
};

/* Cumulative counters of a node across its incarnations (a crash loses the live ones). */
struct rs_world_counts {
    uint64_t reads, writes, leader_gains, replicas_added, snapshot_bytes, splits;
    /* removal (core/store/store.c) */
    uint64_t replicas_destroyed, replicas_revived, tombstone_refusals;
};

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
    struct rs_store *store; /* NULL while down; a PD node's is its server's */
    struct rs_pd_server *pd_server; /* a PD node's, NULL for a store (and while down) */
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
    struct rs_world_counts counted; /* from incarnations that ended */
    struct rs_world_counts sampled; /* as of the last sample */
    uint64_t leader_gains;          /* cumulative: counted in the world, not in the store */
    struct rs_rng corrupt_rng;   /* "bit-rot/<node>": where bit rot lands */
    uint32_t corrupt_bits_armed; /* bit rot applied when the node next starts */
    bool corrupt_unsynced_only;
};

/*
 * A client. Its operation (op, as the workload asked) runs as parts, one region each, one
 * after another in key order (world.c, "request splitting"); an operation inside one region is
 * one part, the operation itself. Each part is recorded in the history as an operation of its
 * own.
 */
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
    struct rs_route route;           /* its own routing table (fake PD: static routes) */
    /* Routes from the PD group, when there is one: the PD node it asks (index), the request
     * in flight (asked_ns 0: none) and its answer's parts so far (a bit per part). */
    uint32_t pd_guess;
    uint64_t route_request_id;
    uint64_t route_asked_ns;
    uint64_t route_parts_seen;
    uint32_t route_part_count;
    struct rs_region *route_regions;
    rs_node_id *route_leaders;
    size_t route_region_count, route_region_cap;
    struct rs_route_entry *target;   /* the region of the part in flight */
    /* The part in flight: its own keys (a list's keys of one region, a range's piece). */
    struct rs_workload_op part;
    struct rs_kv_op part_kv; /* the part as submitted (views into part) */
    uint64_t part_invoke_ns;
    uint32_t part_count;     /* parts submitted for op, abandoned ones too */
    uint32_t part_list_of[RS_WORKLOAD_LIST_MAX]; /* the part's n-th list entry is op's */
    /* What of op is left: list entries done, the range not yet covered, the scan limit. */
    bool list_done[RS_WORKLOAD_LIST_MAX];
    char range_start[RS_WORKLOAD_KEY_MAX];
    size_t range_start_size;
    char range_end[RS_WORKLOAD_KEY_MAX];
    size_t range_end_size; /* 0: unbounded */
    bool rest_done; /* a range covered, or a single-key op answered */
    uint32_t limit_left;
    /* The answers merged so far: value or entries bytes (grown, freed with the world). */
    uint8_t *merged;
    size_t merged_size, merged_cap;
    uint32_t merged_count;
    size_t list_entry_at[RS_WORKLOAD_LIST_MAX]; /* multi_get: each key's entry in merged */
    size_t list_entry_size[RS_WORKLOAD_LIST_MAX];
    bool all_success;
    bool truncated;
    struct rs_kv_result single; /* the answer of an op that is never split */
    enum rs_op_phase worst;     /* of the parts so far: info > fail > ok */
    /* The last finished operation: its merged answer (views into merged) and outcome. */
    struct rs_kv_result result;
    enum rs_op_phase result_phase;
    uint64_t ops_finished;
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

/*
 * The Placement Driver group (core/pd/server.h): node_count PD nodes at the endpoints after
 * the clients, each a world node with its own clock and disk running a PD server (no data
 * checks run on them). Their raft group elects the active PD; a node can crash (it recovers
 * from its disk) and be cut off like a store.
 */
struct rs_world_pd {
    bool enabled;
    uint32_t node_count;
    uint32_t endpoint; /* the first PD node's; the others follow */
    char policy[128]; /* cfg.pd_policy, copied */
    struct rs_world_node nodes[RS_PD_SERVER_NODES_MAX];
    uint32_t isolated; /* the node pd-isolate cut off (0: none) */
    rs_node_id leader; /* the last node seen running the service (0: none yet) */
    uint64_t leader_changes;
    uint64_t crashes, restarts;
    /* over every incarnation */
    uint64_t heartbeats, instructions_sent, id_blocks, regions_saved, routes_answered;
    /* what the stores did with the instructions, over every store incarnation */
    uint64_t executed, dropped;
    uint64_t transfers_executed, splits_executed, peer_changes_executed;
    /* clients: route requests sent, and tables received whole */
    uint64_t route_requests, route_tables;
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
    struct rs_checks checks; /* the first region's checks, and the run's first failure */
    /*
     * The regions, ids 1..region_count in that order: the newest descriptor any replica
     * applied (version 0: a split was proposed but no replica applied it yet). It serves the
     * clients' routing tables (the fake Placement Driver). Checks of region i:
     * region_checks[i] (region_checks[0] == &checks). The first boot_region_count are the
     * regions every store starts with, as they were at the start (boot_regions).
     */
    struct rs_region *regions;
    uint32_t region_count, region_cap;
    struct rs_checks **region_checks;
    struct rs_region *boot_regions;
    uint32_t boot_region_count;
    struct rs_conf *boot_confs; /* NULL: the cluster-wide layout */
    struct rs_raft_config *boot_rafts; /* NULL: cfg.raft for every region */
    struct rs_trace *trace;
    rs_op_observer on_op;
    void *on_op_ctx;
    rs_nemesis_fn on_nemesis;
    void *on_nemesis_ctx;
    rs_node_hook on_node;
    void *on_node_ctx;
    bool healed;
    uint64_t heal_ns;
    /* per region: the highest commit index of a running replica at the heal (the first
     * region's in heal_commit_index) */
    rs_index heal_commit_index;
    rs_index *heal_commits;
    uint32_t heal_commit_count;
    uint64_t converged_ns;
    bool stopped;
    struct rs_world_stats stats;
    struct rs_world_mark *marks; /* in time order */
    size_t mark_count, mark_cap;
    struct rs_world_sample *samples; /* every store at every sample time, in time order */
    size_t sample_count, sample_cap;
    struct rs_leader_change *leader_log;
    size_t leader_log_count, leader_log_cap;
    /* copies held by clogged links, in the order they were held (linked through them) */
    struct rs_world_flight *held_head;
    struct rs_world_flight *held_tail;
    size_t held_count;
    struct rs_world_pd pd;
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
/* The leader of the first region: 0 when none is up. */
uint32_t rs_world_leader(const struct rs_world *w);
uint32_t rs_world_region_leader(const struct rs_world *w, uint32_t region_index);
/* The replica of region i on a node, NULL while the node is down or does not host it. */
struct rs_node *rs_world_replica(const struct rs_world *w, uint32_t node, uint32_t region_index);
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
/* The Placement Driver's endpoint (node_count + 1 + client_count), 0 without one. */
uint32_t rs_world_pd_endpoint(const struct rs_world *w);
/* Crash (the view is lost) and restart (empty view) the Placement Driver; no-ops without one. */
/* The PD process crashes (false when there is none, or it is down already). */
bool rs_world_pd_crash(struct rs_world *w);
/* The PD's links to every store cut (or restored); false when there is no PD. The heal's
 * network repair restores them too. */
bool rs_world_pd_isolate(struct rs_world *w, bool cut);
void rs_world_pd_restart(struct rs_world *w);
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
/* The leader changes to exactly this configuration (bit N: node N), through catch-up and
 * joint consensus when the voters change (CliService changePeers). RS_EINVAL for an empty
 * voter set, a node in both sets or beyond the cluster, or too many of either. */
enum rs_err rs_world_change_peers(struct rs_world *w, uint64_t voters, uint64_t learners);
enum rs_err rs_world_transfer(struct rs_world *w, uint32_t target); /* 0: best candidate */
/*
 * CliService's rebalance (greedy, not weighted by load): with expected = ceil(regions with a
 * leader / stores up), every region whose leader's store already counts `expected` hands its
 * leadership to its first voter below that. Transfers are asynchronous here, so the count
 * follows the transfers asked for. Returns how many were started; stops at the first refusal.
 */
uint32_t rs_world_rebalance(struct rs_world *w);
enum rs_err rs_world_snapshot(struct rs_world *w, uint32_t node);
/* The leader of region i splits it at key (size 0: the key-count midpoint) into a region with
 * the next free id. */
enum rs_err rs_world_split(struct rs_world *w, uint32_t region_index, struct rs_bytes key);
/* The index of the region a split command means (see the scenario verb `split`), UINT32_MAX
 * when there is none (an unknown id, or no region created yet). */
uint32_t rs_world_region_to_split(const struct rs_world *w, uint64_t region_id,
                                  struct rs_bytes key);

#endif
