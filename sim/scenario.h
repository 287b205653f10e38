/* The scenario language: settings schema, the typed scenario, its reader, checker and writer. */
#ifndef RS_SIM_SCENARIO_H
#define RS_SIM_SCENARIO_H

#include "core/base.h"

#include <stdio.h>

/*
 * A scenario file is line-oriented text (DESIGN.md section 5):
 *
 *   name      IDENT                          once at most
 *   describe  FREE TEXT                      repeated lines are joined with one space
 *   SECTION   key=value key=value ...        cluster raft net disk clock workload check nemesis
 *   at TIME COMMAND ARGS...                  one timeline command
 *   every PERIOD [from TIME] [until TIME] COMMAND ARGS...
 *   run DURATION                             the fault phase; required, once
 *   expect EXPECTATION...
 *
 * `#` at the start of a word starts a comment. Settings come before the first at, every, run
 * or expect line. `at` lines must be in non-decreasing time order, so that a file reads as a
 * timeline from top to bottom; `every` lines are independent schedules and may go anywhere
 * after the settings. Every error names the file, the line and the 1-based byte column.
 */

/* Limits. Exceeding one is an error located at the first byte, word or line beyond it. */
#define RS_SCN_LINE_SIZE_MAX     1024u /* bytes per line, not counting "\r\n" */
#define RS_SCN_LINE_COUNT_MAX    4096u
#define RS_SCN_WORD_COUNT_MAX    64u  /* words per line */
/* at and every lines: enough for a long run's exported schedule (one line per fault fired) */
#define RS_SCN_COMMAND_COUNT_MAX 4000u
#define RS_SCN_EXPECT_COUNT_MAX  64u
#define RS_SCN_NAME_SIZE_MAX     64u  /* including the terminating NUL */
#define RS_SCN_DESCRIBE_SIZE_MAX 512u /* including the terminating NUL */
#define RS_SCN_NODE_COUNT_MAX    9u
/* Timeline times, periods and run lengths: about 11.6 days, so that sums never overflow. */
#define RS_SCN_TIME_MAX_NS (1000000ull * RS_NS_PER_S)
/* until_ns of an `every` line without `until`: it repeats until the end of the run. */
#define RS_SCN_TIME_END UINT64_MAX
/* The biggest file the reader will look at; any longer file breaks a line or count limit. */
#define RS_SCN_FILE_SIZE_MAX ((size_t)RS_SCN_LINE_COUNT_MAX * (RS_SCN_LINE_SIZE_MAX + 2u))

/* Exit codes (sysexits.h) the CLI should use for a failed load or override. */
#define RS_SCN_EXIT_USAGE   64 /* a bad --set flag */
#define RS_SCN_EXIT_DATAERR 65 /* a bad scenario file */

/* The longest file name a PATH setting holds. */
#define RS_SCN_PATH_SIZE_MAX 200u

/* The value types of settings. */
enum rs_scn_type {
    RS_SCN_INT,      /* integer; lo/hi */
    RS_SCN_BOOL,     /* on/off/true/false; lo = 0 or 1 */
    RS_SCN_DURATION, /* 1.5s, 200us, 0; lo/hi in nanoseconds */
    RS_SCN_PERCENT,  /* 0.1%; lo/hi in parts per million */
    RS_SCN_SIZE,     /* 4096, 16B, 64KiB, 1MiB; lo/hi in bytes */
    RS_SCN_ENUM,     /* one of the row's choices; lo = index of the choice */
    RS_SCN_RANGE,    /* 1ms..5ms or 2ms: a per-message latency range; lo/hi in nanoseconds */
    RS_SCN_MIX,      /* get:50,put:40,cas:10; mix_weight[] */
    RS_SCN_DIST,     /* uniform, zipf:0.99, hot:10%, sequential; dist, dist_param */
    RS_SCN_RATE,     /* 2000/s or closed; lo/hi in operations per second, 0 = closed */
    RS_SCN_PATH,     /* a file name, relative to the current directory; text ("" = none) */
    RS_SCN_TYPE_COUNT
};

/* Row flags. */
#define RS_SCN_LIVE 1u /* may be changed during the run by the `set` timeline command */
#define RS_SCN_POW2 2u /* must be a power of two (and therefore cannot be drawn) */

/*
 * The settings schema, one line per setting:
 * X(ID, section, key, type, default text, min, max, flags, choices, help).
 * min and max are in the stored unit (ns, ppm, bytes); for RANGE they bound each end.
 * Adding a setting is adding a line here; the reader, writer, --set and `list settings`
 * follow. Cross-field rules live in scenario.c (rule table) next to the reader.
 */
#define RS_SCN_MS(n) ((int64_t)(n) * (int64_t)RS_NS_PER_MS)
#define RS_SCN_US(n) ((int64_t)(n) * (int64_t)RS_NS_PER_US)
#define RS_SCN_S(n)  ((int64_t)(n) * (int64_t)RS_NS_PER_S)
#define RS_SCN_SETTINGS(X)                                                                         \
    X(CLUSTER_NODES, "cluster", "nodes", RS_SCN_INT, "3", 1, 9, 0, NULL,                           \
      "storage nodes (processes) in the cluster")                                                  \
    X(CLUSTER_REPLICAS, "cluster", "replicas", RS_SCN_INT, "3", 1, 9, 0, NULL,                     \
      "replicas of each region; at most cluster.nodes")                                            \
    X(CLUSTER_LEARNERS, "cluster", "learners", RS_SCN_INT, "0", 0, 7, 0, NULL,                   \
      "learners at the start: the nodes after the replicas")                                   \
    X(CLUSTER_RHEA_CONFIG, "cluster", "rhea_config", RS_SCN_PATH, "", 0, 0, 0, NULL,               \
      "a RheaKV YAML configuration: stores, regions, members and node options come from it "   \
      "(cluster.nodes, replicas, learners, regions and placement are then unused)")            \
    X(CLUSTER_REGIONS, "cluster", "regions", RS_SCN_INT, "1", 1, 64, 0, NULL,                      \
      "regions (raft groups) at the start: the workload's keys cut into equal ranges")           \
    X(CLUSTER_LEADER_STORE, "cluster", "leader_store", RS_SCN_INT, "0", 0, 9, 0, NULL,             \
      "0: off; N: node N gets the highest election priority (jraft priority election), so "    \
      "it leads every region it holds at the start")                                           \
    X(CLUSTER_PLACEMENT, "cluster", "placement", RS_SCN_ENUM, "same", 0, 1, 0, "same|spread",      \
      "same: every region on nodes 1..replicas (and the learners); spread: region i on the "      \
      "replicas nodes from i mod nodes + 1 on (no learners)")                                      \
    X(RAFT_ELECTION_TIMEOUT, "raft", "election_timeout", RS_SCN_DURATION, "1s", RS_SCN_MS(10),     \
      RS_SCN_S(60), 0, NULL, "base election timeout (randomized up to twice this)")                \
    X(RAFT_HEARTBEAT, "raft", "heartbeat", RS_SCN_DURATION, "100ms", RS_SCN_MS(1), RS_SCN_S(10),   \
      0, NULL, "leader heartbeat interval; less than raft.election_timeout")                       \
    X(RAFT_PRE_VOTE, "raft", "pre_vote", RS_SCN_BOOL, "on", 0, 1, 0, NULL,                         \
      "run a pre-vote round before a real election")                                               \
    X(RAFT_READ, "raft", "read", RS_SCN_ENUM, "read_index", 0, 1, 0, "read_index|lease",           \
      "how linearizable reads are served")                                                         \
    X(RAFT_MAX_INFLIGHT, "raft", "max_inflight", RS_SCN_INT, "64", 1, 1024, 0, NULL,               \
      "append requests in flight per follower")                                                    \
    X(RAFT_BATCH_ENTRIES, "raft", "batch_entries", RS_SCN_INT, "256", 1, 4096, 0, NULL,            \
      "log entries per append request at most")                                                    \
    X(RAFT_BATCH_BYTES, "raft", "batch_bytes", RS_SCN_SIZE, "512KiB", 1024, 8 << 20, 0, NULL,      \
      "bytes per append request at most")                                                          \
    X(RAFT_PROPOSAL_QUEUE, "raft", "proposal_queue", RS_SCN_INT, "4096", 1, 1000000, 0, NULL,      \
      "proposals queued at the leader before it answers busy")                                     \
    X(RAFT_MAX_DRIFT, "raft", "max_drift", RS_SCN_INT, "500", 0, 100000, 0, NULL,                  \
      "clock drift bound (ppm) that lease reads trust")                                            \
    X(RAFT_SNAPSHOT_INTERVAL, "raft", "snapshot_interval", RS_SCN_DURATION, "0", 0,              \
      RS_SCN_S(3600), 0, NULL, "take a snapshot this often; 0 = never by time")                \
    X(RAFT_SNAPSHOT_ENTRIES, "raft", "snapshot_entries", RS_SCN_INT, "0", 0, 100000000, 0, NULL, \
      "take a snapshot when this many entries were applied since the last; 0 = off")          \
    X(RAFT_SNAPSHOT_MARGIN, "raft", "snapshot_margin", RS_SCN_INT, "1000", 1, 100000000, 0,      \
      NULL, "log entries kept behind a snapshot for slow followers")                           \
    X(RAFT_SNAPSHOT_CHUNK, "raft", "snapshot_chunk", RS_SCN_SIZE, "64KiB", 64, 16 << 20, 0, NULL, \
      "bytes per snapshot install message")                                                    \
    X(RAFT_CATCHUP_MARGIN, "raft", "catchup_margin", RS_SCN_INT, "1000", 0, 100000000, 0, NULL,   \
      "a new voter counts as caught up within this many entries")                              \
    X(RAFT_FOLLOWER_READS, "raft", "follower_reads", RS_SCN_BOOL, "off", 0, 1, 0, NULL,           \
      "followers and learners serve reads (forwarded ReadIndex, then their own apply)")       \
    X(RAFT_HIBERNATE, "raft", "hibernate", RS_SCN_BOOL, "off", 0, 1, 0, NULL,                     \
      "idle regions stop heartbeating and their followers' election timers until a request, "  \
      "a candidate or a wake-up wakes them (TiKV's hibernate regions)")                         \
    X(NET_LATENCY, "net", "latency", RS_SCN_RANGE, "1ms..5ms", 0, RS_SCN_S(60), RS_SCN_LIVE, NULL, \
      "one-way message latency, uniform in the range")                                             \
    X(NET_TAIL, "net", "tail", RS_SCN_PERCENT, "0%", 0, 1000000, RS_SCN_LIVE, NULL,                \
      "share of messages that take net.tail_latency instead")                                      \
    X(NET_TAIL_LATENCY, "net", "tail_latency", RS_SCN_DURATION, "50ms", 0, RS_SCN_S(60),           \
      RS_SCN_LIVE, NULL, "latency of a tail message")                                              \
    X(NET_LOSS, "net", "loss", RS_SCN_PERCENT, "0%", 0, 1000000, RS_SCN_LIVE, NULL,                \
      "share of messages dropped")                                                                 \
    X(NET_DUP, "net", "dup", RS_SCN_PERCENT, "0%", 0, 1000000, RS_SCN_LIVE, NULL,                  \
      "share of messages delivered twice")                                                         \
    X(NET_REORDER, "net", "reorder", RS_SCN_PERCENT, "0%", 0, 1000000, RS_SCN_LIVE, NULL,          \
      "share of messages delayed past later ones")                                                 \
    X(NET_CORRUPT, "net", "corrupt", RS_SCN_PERCENT, "0%", 0, 1000000, RS_SCN_LIVE, NULL,          \
      "share of delivered copies with one bit flipped (checksums must catch them)")               \
    X(DISK_WRITE_LATENCY, "disk", "write_latency", RS_SCN_RANGE, "50us..500us", 0, RS_SCN_S(60),   \
      RS_SCN_LIVE, NULL, "latency of a block write")                                               \
    X(DISK_SYNC_LATENCY, "disk", "sync_latency", RS_SCN_RANGE, "500us..3ms", 0, RS_SCN_S(60),      \
      RS_SCN_LIVE, NULL, "latency of a sync")                                                      \
    X(DISK_READ_LATENCY, "disk", "read_latency", RS_SCN_RANGE, "50us..200us", 0, RS_SCN_S(60),     \
      RS_SCN_LIVE, NULL, "latency of a block read")                                                \
    X(DISK_BLOCK, "disk", "block", RS_SCN_SIZE, "4096", 512, 65536, RS_SCN_POW2, NULL,             \
      "block size: the unit of torn writes")                                                       \
    X(DISK_TORN, "disk", "torn", RS_SCN_PERCENT, "50%", 0, 1000000, RS_SCN_LIVE, NULL,             \
      "chance that an unsynced block survives a crash")                                            \
    X(CLOCK_DRIFT, "clock", "drift", RS_SCN_INT, "0", -100000, 100000, 0, NULL,                    \
      "node clock drift in ppm, usually drawn, e.g. -200..200")                                    \
    X(CLOCK_OFFSET, "clock", "offset", RS_SCN_DURATION, "0", 0, RS_SCN_S(3600), 0, NULL,           \
      "node clock offset at the start")                                                            \
    X(WORKLOAD_CLIENTS, "workload", "clients", RS_SCN_INT, "4", 1, 256, 0, NULL,                   \
      "client processes")                                                                          \
    X(WORKLOAD_READERS, "workload", "readers", RS_SCN_INT, "0", 0, 256, 0, NULL,                 \
      "clients that only read (get); the others follow the mix")                               \
    X(WORKLOAD_KEYS, "workload", "keys", RS_SCN_INT, "10", 1, 1000000, 0, NULL,                    \
      "distinct keys the clients use")                                                             \
    X(WORKLOAD_MIX, "workload", "mix", RS_SCN_MIX,                                                 \
      "get:50,put:25,delete:5,cas:10,put_if_absent:5,get_and_put:5", 0, 1000000, 0, NULL,          \
      "operation weights")                                                                         \
    X(WORKLOAD_DIST, "workload", "dist", RS_SCN_DIST, "uniform", 0, 0, 0, NULL,                    \
      "key distribution: uniform, zipf:S, hot:P%, sequential")                                     \
    X(WORKLOAD_RATE, "workload", "rate", RS_SCN_RATE, "closed", 1, 1000000, 0, NULL,               \
      "N/s open loop, or closed: each client waits for its previous operation")                    \
    X(WORKLOAD_TIMEOUT, "workload", "timeout", RS_SCN_DURATION, "500ms", RS_SCN_MS(1),             \
      RS_SCN_S(600), 0, NULL, "per request attempt")                                               \
    X(WORKLOAD_OP_TIMEOUT, "workload", "op_timeout", RS_SCN_DURATION, "5s", RS_SCN_MS(1),          \
      RS_SCN_S(3600), 0, NULL, "give up on an operation; its outcome is unknown")                  \
    X(WORKLOAD_VALUE_SIZE, "workload", "value_size", RS_SCN_SIZE, "16", 1, 1 << 20, 0, NULL,       \
      "bytes per written value")                                                                   \
    X(CHECK_LIVENESS, "check", "liveness", RS_SCN_DURATION, "10s", RS_SCN_MS(1), RS_SCN_S(3600),   \
      0, NULL, "after the faults heal: a leader, all ops done, replicas equal within this")        \
    X(CHECK_LEADER_WITHIN, "check", "leader_within", RS_SCN_DURATION, "0", 0, RS_SCN_S(3600), 0,   \
      NULL, "a leader must exist within this of any moment; 0 = off")                              \
    X(CHECK_SAMPLE, "check", "sample", RS_SCN_DURATION, "1s", RS_SCN_MS(10), RS_SCN_S(3600), 0,    \
      NULL, "per-store samples (timeseries.csv, balance.csv) this often")                          \
    X(CHECK_LEARNER_CATCHUP_WITHIN, "check", "learner_catchup_within", RS_SCN_DURATION, "0", 0,    \
      RS_SCN_S(3600), 0, NULL,                                                                     \
      "after the heal: every learner applies the heal-time commit index within this; "           \
      "0 = check.liveness")                                                                        \
    X(CHECK_MODE, "check", "mode", RS_SCN_ENUM, "recoverable", 0, 1, 0,                            \
      "recoverable|unrestricted",                                                                  \
      "recoverable: liveness is checked after the heal; unrestricted: safety only")                \
    X(NEMESIS_SWARM, "nemesis", "swarm", RS_SCN_BOOL, "off", 0, 1, 0, NULL,                        \
      "each seed draws its own fault mix, rates and timeline (printed and in summary.json)")       \
    X(NEMESIS_INTERVAL, "nemesis", "interval", RS_SCN_DURATION, "2s", RS_SCN_MS(10),               \
      RS_SCN_S(600), 0, NULL, "swarm: mean time between faults (a range is drawn per seed)") \
    X(PD_POLICY, "pd", "policy", RS_SCN_PATH, "none", 0, 0, 0, NULL,                               \
      "Placement Driver handlers, comma-separated (none: no PD process at all)")                 \
    X(PD_HEARTBEAT, "pd", "heartbeat", RS_SCN_DURATION, "1s", RS_SCN_MS(10), RS_SCN_S(600), 0,    \
      NULL, "stores send the PD a heartbeat this often (store clock)")                           \
    X(PD_SPLIT_KEYS, "pd", "split_keys", RS_SCN_INT, "10000", 2, 100000000, 0, NULL,                \
      "rhea-split-judge splits a region that has at least this many keys (RheaKV's "          \
      "leastKeysOnSplit)")                                                                       \
    X(PD_TICK, "pd", "tick", RS_SCN_DURATION, "1s", RS_SCN_MS(10), RS_SCN_S(600), 0, NULL,         \
      "the PD runs its tick handlers this often")                                              \
    X(PD_NODES, "pd", "nodes", RS_SCN_INT, "3", 1, 7, 0, NULL,                                    \
      "PD nodes: a raft group whose leader is the active PD")

enum rs_scn_setting_id {
#define RS_SCN_SETTING_ENUM(id, ...) RS_SCN_##id,
    RS_SCN_SETTINGS(RS_SCN_SETTING_ENUM)
#undef RS_SCN_SETTING_ENUM
        RS_SCN_SETTING_COUNT
};

/* One row of the schema. */
struct rs_scn_setting {
    const char *section;
    const char *key;
    const char *section_key; /* "net.loss" */
    enum rs_scn_type type;
    const char *default_text;
    int64_t min;
    int64_t max;
    uint32_t flags;
    const char *choices; /* RS_SCN_ENUM: "a|b|c" */
    const char *help;
};

/* The schema, RS_SCN_SETTING_COUNT rows in the order of RS_SCN_SETTINGS. */
extern const struct rs_scn_setting rs_scn_schema[RS_SCN_SETTING_COUNT];

/* The KV operations a workload mix can name, in canonical order: the KV opcode order
 * (RS_SCN_OP_x + 1 is the opcode). */
#define RS_SCN_OPS(X)                 \
    X(GET, "get")                     \
    X(PUT, "put")                     \
    X(DELETE, "delete")               \
    X(CAS, "cas")                     \
    X(PUT_IF_ABSENT, "put_if_absent") \
    X(GET_AND_PUT, "get_and_put")     \
    X(MULTI_GET, "multi_get")         \
    X(CONTAINS_KEY, "contains_key")   \
    X(SCAN, "scan")                   \
    X(REVERSE_SCAN, "reverse_scan")   \
    X(BATCH_PUT, "batch_put")         \
    X(BATCH_DELETE, "batch_delete")   \
    X(CAS_ALL, "cas_all")             \
    X(MERGE, "merge")                 \
    X(DELETE_RANGE, "delete_range")   \
    X(GET_SEQUENCE, "get_sequence")   \
    X(RESET_SEQUENCE, "reset_sequence") \
    X(LOCK, "lock")                   \
    X(UNLOCK, "unlock")

enum rs_scn_op {
#define RS_SCN_OP_ENUM(id, name) RS_SCN_OP_##id,
    RS_SCN_OPS(RS_SCN_OP_ENUM)
#undef RS_SCN_OP_ENUM
        RS_SCN_OP_COUNT
};

#define RS_SCN_WEIGHT_MAX 1000000u
#define RS_SCN_ZIPF_MAX   5000u /* zipf exponent x1000 */
#define RS_SCN_PPM_MAX    1000000u

enum rs_scn_dist {
    RS_SCN_DIST_UNIFORM,
    RS_SCN_DIST_ZIPF, /* dist_param = exponent x 1000, 0..RS_SCN_ZIPF_MAX */
    RS_SCN_DIST_HOT,  /* dist_param = share of traffic to the hot key, ppm 1..1000000 */
    RS_SCN_DIST_SEQUENTIAL,
};

/* Where a setting's value came from. */
enum rs_scn_origin {
    RS_SCN_FROM_DEFAULT,
    RS_SCN_FROM_FILE, /* line and column locate the key */
    RS_SCN_FROM_FLAG, /* a --set override, applied after the file */
};

/* One setting's value. Numeric values live in lo/hi (units of the type). */
struct rs_scn_value {
    int64_t lo; /* the value; for a drawn value or a RANGE, the lower bound */
    int64_t hi; /* == lo unless drawn or a RANGE with distinct ends */
    /* A..B on a scalar: the run draws one value per seed uniformly in [lo, hi]. Only set
     * when lo < hi, so that "5ms..5ms" and "5ms" are the same value. Never set on a RANGE. */
    bool drawn;
    uint32_t mix_weight[RS_SCN_OP_COUNT]; /* RS_SCN_MIX */
    enum rs_scn_dist dist;                /* RS_SCN_DIST */
    uint32_t dist_param;                  /* RS_SCN_DIST */
    char text[RS_SCN_PATH_SIZE_MAX];      /* RS_SCN_PATH */
    /* Provenance: not part of the value (rs_scenario_equal ignores it). */
    enum rs_scn_origin origin;
    uint32_t line;   /* FROM_FILE: 1-based line of the key */
    uint32_t column; /* FROM_FILE: 1-based byte column of the key */
    uint32_t order;  /* when it was set, counting file settings then flags; 0 = default */
};

/* Timeline commands. */
enum rs_scn_verb {
    RS_SCN_PARTITION_ISOLATE,           /* target cut from everyone */
    RS_SCN_PARTITION_MINORITY,          /* target plus the fewest others needed: the minority */
    RS_SCN_PARTITION_MAJORITY_MINORITY, /* random split into a majority and a minority */
    RS_SCN_PARTITION_ONE_WAY,           /* messages source -> target dropped, reverse works */
    RS_SCN_HEAL,                        /* remove every partition */
    RS_SCN_CRASH,
    RS_SCN_RESTART,
    RS_SCN_CRASH_RESTART, /* crash, restart after down_lo_ns..down_hi_ns */
    RS_SCN_SET,           /* change a live (net or disk) setting */
    RS_SCN_PARTITION_BRIDGE, /* two halves joined by the target (the bridge node) */
    RS_SCN_PARTITION_RING,   /* each node talks only to its ring neighbours */
    RS_SCN_PARTITION_GROUPS, /* explicit groups: groups[] */
    RS_SCN_CLOG,             /* hold the target's messages (or from -> to), until unclogged */
    RS_SCN_UNCLOG,
    RS_SCN_SWIZZLE_CLOG,     /* clog `amount` nodes one by one, unclog in another order */
    RS_SCN_FILTER,           /* drop message types (msg_types) from -> to */
    RS_SCN_BANDWIDTH,        /* cap the target's links at `amount` bytes per second */
    RS_SCN_PAUSE,            /* a process pause (GC): events wait until the resume */
    RS_SCN_RESUME,
    RS_SCN_DISK_FAIL,        /* I/O errors: write_ppm, sync_ppm, fail_next, dead */
    RS_SCN_DISK_FULL,        /* capacity = what is used now + `amount` bytes */
    RS_SCN_DISK_SLOW,        /* latency times `amount` */
    RS_SCN_DISK_CORRUPT,     /* bit rot of `amount` bits read at the next start */
    RS_SCN_DISK_HEAL,        /* disk faults off (an errored replica stays errored) */
    RS_SCN_DRIFT,            /* clock-drift: the drift becomes `amount` ppm */
    RS_SCN_WALL_JUMP,        /* clock-jump: the wall clock steps by `amount` ns (signed) */
    RS_SCN_WIPE,             /* crash, erase the disk, restart empty */
    RS_SCN_SNAPSHOT,         /* the target takes a snapshot now */
    RS_SCN_ADD_PEER,         /* the leader adds the target as a voter (catch-up, joint) */
    RS_SCN_REMOVE_PEER,      /* the leader removes the voter */
    RS_SCN_ADD_LEARNER,      /* the leader adds the target as a learner */
    RS_SCN_REMOVE_LEARNER,   /* the leader removes the learner */
    RS_SCN_PROMOTE,          /* the leader turns the learner into a voter */
    RS_SCN_TRANSFER_LEADER,  /* the leader hands over to the target (none: the best one) */
    RS_SCN_CHANGE_PEERS,     /* the leader changes to exactly conf_voters and conf_learners */
    RS_SCN_SPLIT,            /* a region splits: region_id (0: by key, or the largest), key */
    RS_SCN_PD_CRASH,         /* the Placement Driver process crashes (for=: restarts after) */
    RS_SCN_PD_ISOLATE,       /* the Placement Driver is cut off from every store (for=) */
    RS_SCN_REBALANCE,        /* CliService's greedy leader rebalance over every region */
    RS_SCN_VERB_COUNT
};

/* disk-corrupt scope=: only bytes not made durable by a sync, or any byte. */
enum rs_scn_scope { RS_SCN_SCOPE_UNSYNCED, RS_SCN_SCOPE_ANY };

enum rs_scn_target_kind {
    RS_SCN_TARGET_NONE,
    RS_SCN_TARGET_LEADER,
    RS_SCN_TARGET_FOLLOWER, /* any non-leader */
    RS_SCN_TARGET_RANDOM,
    RS_SCN_TARGET_NODE, /* node(N): a fixed node, 1-based */
};

struct rs_scn_target {
    enum rs_scn_target_kind kind;
    rs_node_id node; /* RS_SCN_TARGET_NODE: 1..cluster.nodes */
    uint32_t column; /* where it was written (0 when built in code) */
};

#define RS_SCN_KEY_SIZE_MAX    64u
#define RS_SCN_REGION_ID_MAX   1000000

struct rs_scn_command {
    bool repeat;        /* an `every` line */
    uint64_t at_ns;     /* at: the time; every: the first firing (`from`, default one period) */
    uint64_t period_ns; /* every: > 0 */
    uint64_t until_ns;  /* every: fires at times < until_ns; RS_SCN_TIME_END = end of run */
    enum rs_scn_verb verb;
    struct rs_scn_target source; /* ONE_WAY: from= */
    struct rs_scn_target target; /* ONE_WAY: to=; every other verb with a TARGET: it */
    uint64_t down_lo_ns;         /* CRASH_RESTART: downtime, drawn per firing when lo < hi */
    uint64_t down_hi_ns;
    enum rs_scn_setting_id setting; /* SET */
    struct rs_scn_value value;      /* SET: the new value (may be drawn) */
    uint32_t line;                  /* where it was written (0 when built in code) */
    uint32_t time_column;           /* column of TIME (at) or of the `from` value (every) */
    /* Fault options (rs_scn_verb_name's verb takes those its syntax names). A value written
     * A..B is drawn per firing. */
    uint64_t for_lo_ns, for_hi_ns; /* for=: the fault undoes itself after this; 0 = no */
    int64_t amount_lo, amount_hi;  /* nodes= factor= bits= ppm= by= (ns) rate= (bytes/s) free= */
    uint32_t amount_column;        /* where the amount was written (for validate's errors) */
    uint64_t interval_ns;          /* swizzle-clog interval= */
    uint32_t write_ppm, sync_ppm;  /* disk-fail write= sync= */
    uint32_t fail_next;            /* disk-fail next= */
    bool dead;                     /* disk-fail dead */
    enum rs_scn_scope scope;       /* disk-corrupt scope= */
    uint64_t msg_types;            /* filter: bit t drops message type t (core/wire/frame.h) */
    uint64_t region_id;            /* split region=: 0 when not given */
    char key[RS_SCN_KEY_SIZE_MAX]; /* split key=: key_size 0 when not given */
    uint32_t key_size;
    uint32_t key_column;           /* where the key was written */
    uint8_t groups[RS_SCN_NODE_COUNT_MAX + 1]; /* partition groups: 1-based group per node */
    uint32_t groups_column;
    /* change-peers voters= learners=: the target configuration, bit N for node N */
    uint32_t conf_voters, conf_learners;
    uint32_t conf_voters_column, conf_learners_column;
};

enum rs_scn_expect_kind {
    RS_SCN_EXPECT_LINEARIZABLE,
    RS_SCN_EXPECT_LEADER_WITHIN,    /* a leader exists within within_ns (after after_ns) */
    RS_SCN_EXPECT_CONVERGED_WITHIN, /* converged within within_ns after the faults heal */
    RS_SCN_EXPECT_OPS_OK,           /* at least ops_ok_min operations succeeded */
    RS_SCN_EXPECT_AVAILABILITY,     /* at least availability_min_ppm of operations succeeded */
    RS_SCN_EXPECT_BALANCED_WITHIN,  /* leaders per store within one, from within_ns to the end */
};

struct rs_scn_expect {
    enum rs_scn_expect_kind kind;
    uint64_t within_ns;
    bool has_after;
    uint64_t after_ns;
    uint64_t ops_ok_min;
    uint32_t availability_min_ppm;
    uint32_t line;
};

struct rs_scenario {
    char source[256]; /* the label errors are located in: the file path */
    char name[RS_SCN_NAME_SIZE_MAX];
    char describe[RS_SCN_DESCRIBE_SIZE_MAX];
    struct rs_scn_value settings[RS_SCN_SETTING_COUNT]; /* indexed by enum rs_scn_setting_id */
    uint64_t run_ns;                                    /* 0 until a run line is read */
    struct rs_scn_command *commands;                    /* file order */
    uint32_t command_count;
    uint32_t command_cap;
    struct rs_scn_expect *expects; /* file order */
    uint32_t expect_count;
    uint32_t expect_cap;
    uint32_t line_count;  /* lines read; errors about the whole file point at the last one */
    uint32_t set_counter; /* last rs_scn_value.order handed out */
};

/* A located error. A file error (exit 65) names file:line:column; a --set error (exit 64)
 * has an empty file and line 0, its message starts with "--set ASSIGNMENT: ". */
struct rs_scn_error {
    char file[256];
    uint32_t line;
    uint32_t column;
    char message[512];
    int exit_code;
};

/* A scenario with every setting at its default, no timeline, no expectation, no run. */
void rs_scenario_init(struct rs_scenario *s);
/* Release what the scenario owns; it is then as after rs_scenario_init. Safe twice. */
void rs_scenario_free(struct rs_scenario *s);

/* Read and check a scenario. On success *out owns its arrays (free with rs_scenario_free).
 * On error *out owns nothing, err is filled, and the result is RS_EINVAL (bad content),
 * RS_EIO (file unreadable) or RS_ENOMEM. `out` needs no initialisation. */
enum rs_err rs_scenario_load_file(const char *path,
                                  struct rs_scenario *out,
                                  struct rs_scn_error *err);
enum rs_err rs_scenario_load_text(const char *label,
                                  const char *text,
                                  size_t size,
                                  struct rs_scenario *out,
                                  struct rs_scn_error *err);

/* Override one setting, "raft.election_timeout=500ms" (the text of a --set flag). Checks the
 * value alone; call rs_scenario_validate after the last override for cross-field rules and
 * node targets. On error the scenario is unchanged. */
enum rs_err rs_scenario_apply_set(struct rs_scenario *s,
                                  const char *assignment,
                                  struct rs_scn_error *err);

/* The checks that span settings and timeline (replicas <= nodes, heartbeat < election_timeout,
 * node(N) <= nodes, a run line, commands inside the run). rs_scenario_load_* run it; run it
 * again after overrides. The error is located at the setting or word that made the scenario
 * inconsistent, and blames a flag (exit 64) when a flag was the later of the two. */
enum rs_err rs_scenario_validate(const struct rs_scenario *s, struct rs_scn_error *err);

/* Typed access by "section.key"; NULL for an unknown setting. */
const struct rs_scn_value *rs_scenario_get(const struct rs_scenario *s, const char *section_key);
/* The schema row of "section.key", or -1. */
int rs_scn_setting_find(const char *section_key);

/* Canonical text: name, describe, the settings that differ from their defaults, timeline,
 * run, expectations. Reading it back gives an equal scenario. */
void rs_scenario_write(const struct rs_scenario *s, FILE *out);
/* Same content (names, values, timeline, expectations); provenance and lines are ignored. */
bool rs_scenario_equal(const struct rs_scenario *a, const struct rs_scenario *b);

/* "file:line:column: message", or just the message for a flag error. Returns strlen. */
size_t rs_scn_error_format(const struct rs_scn_error *err, char *buf, size_t size);
/* A setting's value in canonical syntax ("1ms..5ms", "0.1%", "zipf:0.99", "-200..200"). */
size_t rs_scn_value_format(enum rs_scn_setting_id id,
                           const struct rs_scn_value *value,
                           char *buf,
                           size_t size);
/* One scalar in a type's canonical syntax ("1500ms", "64KiB", "0.1%"): for schema bounds. */
size_t rs_scn_scalar_format(enum rs_scn_type type, int64_t scalar, char *buf, size_t size);
/* A duration in canonical syntax ("0", "90s", "1500ms"). */
size_t rs_scn_duration_format(uint64_t ns, char *buf, size_t size);

/* One timeline line ("at 5s partition isolate leader") or expectation, as the writer prints it. */
size_t rs_scn_command_format(const struct rs_scn_command *command, char *buf, size_t size);
size_t rs_scn_expect_format(const struct rs_scn_expect *expect, char *buf, size_t size);

const char *rs_scn_type_name(enum rs_scn_type type);
const char *rs_scn_op_name(enum rs_scn_op op);
const char *rs_scn_verb_name(enum rs_scn_verb verb); /* "partition isolate", "crash-restart" */
/* A message type's bit for filters by its name ("append_request"), 0 when unknown. */
uint64_t rs_scn_msg_type_bit(const char *name, size_t size);

#endif
