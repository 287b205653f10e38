/* RheaKV YAML configurations: the deployment a user runs, read into plain data for the world. */
#ifndef RS_SIM_RHEA_CONFIG_H
#define RS_SIM_RHEA_CONFIG_H

#include "core/base.h"
#include "core/raft/conf.h"
#include "core/raft/raft.h"

/*
 * A RheaKV configuration (RheaKVStoreOptions as jraft-example's YAML files write it) describes
 * one store process; the simulator reads one file as the whole deployment:
 *
 *   clusterName: rhea_example                       raft group of a region: clusterName-regionId
 *   initialServerList: 10.0.0.1:8181,10.0.0.2:8181,10.0.0.3:8181,10.0.0.4:8181/learner
 *   placementDriverOptions: { fake: false, pdGroupId: pd, initialPdServerList: ... }
 *   storeEngineOptions:
 *     serverAddress: { ip: 10.0.0.1, port: 8181 }   required; must be one of the servers
 *     commonNodeOptions: { electionTimeoutMs: 1000, raftOptions: { ... } }
 *     regionEngineOptionsList:
 *       - { regionId: 1, endKey: g }
 *       - { regionId: 2, startKey: g, initialServerList: ..., nodeOptions: { ... } }
 *     leastKeysOnSplit: 10000
 *
 * RheaKV's rules, as StoreEngine.init applies them:
 * - a region without nodeOptions gets a copy of commonNodeOptions, WHOLE: a region that sets
 *   any nodeOptions keeps jraft's defaults for every field it does not set (it does not merge
 *   with commonNodeOptions; the reader warns when that drops a common field);
 * - a region with a blank initialServerList takes the top-level one;
 * - no regionEngineOptionsList: one region, id -1, the whole key space.
 *
 * Servers are stores. Store ids are 1-based, in order of first appearance: the top-level
 * initialServerList, then the regions' own lists in list order. A region may name a server the
 * top-level list does not (that is how a learner store serves only some regions); the reader
 * warns about it, since a typo in a port would otherwise make a new store silently.
 *
 * Keys of YAML mappings are matched exactly. A key RheaKV accepts but the simulator does not
 * model (thread pools, paths, RocksDB tuning...) is ignored with a warning (table in
 * rhea_config.c); any other key is an error, as in RheaKV (Jackson fails on unknown
 * properties). Every error names file:line:column (1-based; columns count characters).
 */

/* Limits. Exceeding one is an error located where the extra item starts. */
#define RS_RHEA_FILE_SIZE_MAX    (1u << 20) /* bytes */
#define RS_RHEA_NAME_SIZE_MAX    128u       /* clusterName, pdGroupId, including the NUL */
#define RS_RHEA_GROUP_SIZE_MAX   (RS_RHEA_NAME_SIZE_MAX + 24u) /* "name-regionId" and its NUL */
#define RS_RHEA_HOST_SIZE_MAX    254u /* host names have at most 253 bytes; plus the NUL */
#define RS_RHEA_KEY_SIZE_MAX     256u /* startKey and endKey bytes */
#define RS_RHEA_REGION_COUNT_MAX 256u
/* Store ids index the engine's 64-bit node sets. */
#define RS_RHEA_SERVER_COUNT_MAX  RS_NODE_ID_MAX
#define RS_RHEA_PEER_COUNT_MAX    (RS_CONF_VOTERS_MAX + RS_CONF_LEARNERS_MAX)
#define RS_RHEA_WARNING_COUNT_MAX 32u
/* libyaml 0.2.5 takes time quadratic in these (a 1 MiB file of them takes hours); the text is
 * checked for them before libyaml reads it. */
#define RS_RHEA_FLOW_DEPTH_MAX      32u   /* nested [ and { */
#define RS_RHEA_ANCHOR_COUNT_MAX    1024u /* anchors and aliases: &name, *name */
#define RS_RHEA_DIRECTIVE_COUNT_MAX 64u   /* %YAML and %TAG lines */
#define RS_RHEA_MESSAGE_SIZE_MAX    512u

/* Region ids RheaKV leaves to static configuration: [-1, 1000000) (Region.MIN/MAX_ID_WITH_
 * MANUAL_CONF); the PD hands out ids from 1000000 on. -1 is the default single region. */
#define RS_RHEA_REGION_ID_MIN     (-1)
#define RS_RHEA_REGION_ID_LIMIT   1000000
#define RS_RHEA_DEFAULT_REGION_ID (-1)

/* The CLI's exit code for a file that does not load (sysexits.h EX_DATAERR). */
#define RS_RHEA_EXIT_DATAERR 65

/* A located error: "file:line:column: message". line and column are 1-based. */
struct rs_rhea_error {
    char file[256];
    uint32_t line;
    uint32_t column;
    char message[RS_RHEA_MESSAGE_SIZE_MAX];
};

/* Where something was written (0:0 when it was not written but derived). */
struct rs_rhea_mark {
    uint32_t line;
    uint32_t column;
};

struct rs_rhea_endpoint {
    char host[RS_RHEA_HOST_SIZE_MAX]; /* IPv4 dotted quad or host name, as written */
    uint16_t port;                    /* 1..65535 */
};

/* A server named in some initialServerList: a store of the simulated cluster. */
struct rs_rhea_server {
    struct rs_rhea_endpoint endpoint;
    bool listed;               /* in the top-level initialServerList */
    struct rs_rhea_mark first; /* its first appearance */
};

/* One peer of a list: "ip:port", "ip:port/learner", "ip:port:0:priority" (jraft's PeerId). */
struct rs_rhea_peer {
    rs_node_id store_id; /* 1-based index into servers[] */
    bool learner;
    int32_t priority; /* RS_PRIORITY_DISABLED unless the peer gave one */
};

struct rs_rhea_peer_list {
    uint32_t peer_count; /* voters and learners in the order written */
    struct rs_rhea_peer peers[RS_RHEA_PEER_COUNT_MAX];
    struct rs_rhea_mark mark; /* the list's text */
};

/* NodeOptions fields with an equivalent in the engine; bit i of set_mask is field i. */
enum rs_rhea_node_field {
    RS_RHEA_ELECTION_TIMEOUT,       /* electionTimeoutMs */
    RS_RHEA_SNAPSHOT_INTERVAL,      /* snapshotIntervalSecs */
    RS_RHEA_CATCHUP_MARGIN,         /* catchupMargin */
    RS_RHEA_DECAY_PRIORITY_GAP,     /* decayPriorityGap */
    RS_RHEA_HEARTBEAT_FACTOR,       /* raftOptions.electionHeartbeatFactor */
    RS_RHEA_READ_ONLY_OPTION,       /* raftOptions.readOnlyOptions */
    RS_RHEA_MAX_ENTRIES_SIZE,       /* raftOptions.maxEntriesSize */
    RS_RHEA_MAX_BODY_SIZE,          /* raftOptions.maxBodySize */
    RS_RHEA_MAX_BYTE_COUNT_PER_RPC, /* raftOptions.maxByteCountPerRpc */
    RS_RHEA_MAX_INFLIGHT_MSGS,      /* raftOptions.maxReplicatorInflightMsgs */
    RS_RHEA_NODE_FIELD_COUNT
};

/* A region's NodeOptions. Fields the file did not set hold jraft's defaults. */
struct rs_rhea_node_options {
    uint32_t set_mask;             /* 1u << enum rs_rhea_node_field, per field written */
    uint32_t election_timeout_ms;  /* 1000; 10..60000 */
    uint32_t snapshot_interval_s;  /* 3600; 0 = no timer snapshots (jraft: <= 0) */
    uint32_t catchup_margin;       /* 1000 entries */
    uint32_t decay_priority_gap;   /* 10 */
    uint32_t heartbeat_factor;     /* 10: heartbeat = election timeout / factor */
    enum rs_read_mode read_mode;   /* ReadOnlySafe (RS_READ_SAFE) or ReadOnlyLeaseBased */
    uint32_t max_entries_count;    /* 1024 entries per append */
    uint32_t max_body_size_bytes;  /* 512 KiB per append */
    uint32_t snapshot_chunk_bytes; /* maxByteCountPerRpc, 128 KiB */
    uint32_t max_inflight_count;   /* maxReplicatorInflightMsgs, 256 */
    bool copied_from_common;       /* a region's copy of commonNodeOptions */
    struct rs_rhea_mark mark;      /* the options' mapping (0:0: defaults) */
};

struct rs_rhea_region {
    /* RS_RHEA_REGION_ID_MIN..RS_RHEA_REGION_ID_LIMIT-1 */
    int64_t region_id;
    /* clusterName-regionId */
    char raft_group_id[RS_RHEA_GROUP_SIZE_MAX];
    /* 0: unbounded below (-inf) */
    uint32_t start_key_size;
    uint8_t start_key[RS_RHEA_KEY_SIZE_MAX];
    /* 0: unbounded above (+inf) */
    uint32_t end_key_size;
    uint8_t end_key[RS_RHEA_KEY_SIZE_MAX];
    /* its own initialServerList (else the top-level one) */
    bool own_peers;
    struct rs_rhea_peer_list peers;
    /* after the copy rule */
    struct rs_rhea_node_options node_options;
    /* its list item; the default region (no list): the storeEngineOptions mapping */
    struct rs_rhea_mark mark;
};

/* A PD peer is its own process, not a store. */
struct rs_rhea_pd_peer {
    struct rs_rhea_endpoint endpoint;
    bool learner;
};

struct rs_rhea_config {
    char source[256]; /* the file errors and warnings are located in */
    int64_t cluster_id;
    char cluster_name[RS_RHEA_NAME_SIZE_MAX]; /* "default-group-cluster" unless written */
    bool only_leader_read;                    /* true unless written */
    bool only_leader_read_set;
    uint32_t server_count; /* store id = index + 1 */
    struct rs_rhea_server servers[RS_RHEA_SERVER_COUNT_MAX];
    struct rs_rhea_peer_list initial_peers; /* the top-level initialServerList */
    struct {
        bool has_server_address;
        struct rs_rhea_endpoint server_address;
        rs_node_id server_store_id; /* the store the file was written for (serverAddress) */
        struct rs_rhea_node_options common_node_options;
        uint64_t least_keys_on_split;         /* 10000 */
        uint32_t store_heartbeat_interval_s;  /* heartbeatOptions, 60 */
        uint32_t region_heartbeat_interval_s; /* 60 */
        uint32_t heartbeat_rpc_timeout_ms;    /* 5000 */
    } store;
    struct {
        bool fake; /* no PD: static routes, no heartbeats, no scheduling */
        char group_id[RS_RHEA_NAME_SIZE_MAX]; /* pdGroupId; required unless fake */
        uint32_t peer_count;                  /* initialPdServerList; required unless fake */
        struct rs_rhea_pd_peer peers[RS_RHEA_PEER_COUNT_MAX];
    } pd;
    uint32_t region_count; /* file order */
    struct rs_rhea_region *regions;
    /* Options read but not modelled, and rules that may surprise: "file:line:col: text". */
    uint32_t warning_count;
    uint32_t warnings_dropped; /* beyond RS_RHEA_WARNING_COUNT_MAX */
    char warnings[RS_RHEA_WARNING_COUNT_MAX][RS_RHEA_MESSAGE_SIZE_MAX];
};

/* Read and check a configuration. On success *out owns its regions (free with
 * rs_rhea_config_free). On failure *out owns nothing, err is filled and the result is RS_EINVAL
 * (bad content), RS_EIO (unreadable file) or RS_ENOMEM; the CLI exits RS_RHEA_EXIT_DATAERR.
 * `out` needs no initialisation. Never crashes, whatever the bytes. */
enum rs_err rs_rhea_config_load(const char *path,
                                struct rs_rhea_config *out,
                                struct rs_rhea_error *err);
enum rs_err rs_rhea_config_load_text(const char *label,
                                     const char *text,
                                     size_t size,
                                     struct rs_rhea_config *out,
                                     struct rs_rhea_error *err);
/* Release the regions; *c is then empty. Safe twice. */
void rs_rhea_config_free(struct rs_rhea_config *c);

/* "file:line:column: message". Returns what snprintf returns. */
int rs_rhea_error_format(const struct rs_rhea_error *err, char *buf, size_t size);

/* The store id of a server, 0 when no store has that endpoint. */
rs_node_id rs_rhea_store_id(const struct rs_rhea_config *c, const char *host, uint16_t port);

/* A region's initial members as store ids, in the order written. */
struct rs_rhea_members {
    uint32_t voter_count; /* >= 1 */
    rs_node_id voters[RS_CONF_VOTERS_MAX];
    uint32_t learner_count;
    rs_node_id learners[RS_CONF_LEARNERS_MAX];
    bool has_priorities;                    /* some peer gave ip:port:0:priority */
    int32_t priorities[RS_NODE_ID_MAX + 1]; /* by store id; RS_PRIORITY_DISABLED otherwise */
};
void rs_rhea_region_members(const struct rs_rhea_config *c,
                            uint32_t region_index,
                            struct rs_rhea_members *out);

/* The region's index (file order) holding `key` (bytes, compared bytewise). Regions cover the
 * key space, so there always is one. */
uint32_t rs_rhea_region_for_key(const struct rs_rhea_config *c, const uint8_t *key, size_t size);

/* Writes the node options the file set into cfg (a heartbeat follows from electionTimeoutMs /
 * electionHeartbeatFactor); fields it did not set keep cfg's values (the scenario's). */
void rs_rhea_node_options_to_raft(const struct rs_rhea_node_options *o, struct rs_raft_config *cfg);

/* The raft configuration of region `region_index`'s replica on store `store_id`: cfg->id, the
 * initial voters and learners, priorities when the peer list gave any, the region's node
 * options as above, and follower reads when onlyLeaderRead was written. Other fields keep
 * cfg's values. Returns false, changing nothing, when the store is not a member: RheaKV does
 * not start a region on a store outside its initialServerList. */
bool rs_rhea_region_raft_config(const struct rs_rhea_config *c,
                                uint32_t region_index,
                                rs_node_id store_id,
                                struct rs_raft_config *cfg);

#endif
