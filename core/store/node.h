/* One region replica: raft + KV state machine + client request service (a store hosts many). */
#ifndef RS_CORE_STORE_NODE_H
#define RS_CORE_STORE_NODE_H

#include "core/base.h"
#include "core/kv/kv.h"
#include "core/out.h"
#include "core/raft/raft.h"
#include "core/store/region.h"

#define RS_NODE_PENDING_READS_MAX 4096u

/* A write proposed to raft, answered when its index is applied. */
struct rs_pending_write {
    rs_index index;
    rs_term term;
    rs_node_id client; /* network endpoint of the client */
    uint64_t request_id;
    uint64_t client_id;
    uint64_t seq;
};

/* A read waiting for its ReadIndex confirmation and then for apply to reach it. */
struct rs_pending_read {
    uint64_t cookie;
    rs_index read_index; /* 0 until confirmed */
    bool confirmed;
    rs_node_id client;
    uint64_t request_id;
    uint64_t client_id;
    uint64_t seq;
    uint8_t *request; /* a copy of the request frame: its op is decoded again when served */
    size_t request_size;
    uint64_t deadline_ns; /* a read served by a follower times out here (0: never) */
};

/*
 * Region commands are log entries of their own format, told from KV commands by the first
 * byte (a KV command starts with its version, 1):
 *   u8 RS_REGION_CMD_MARK, u8 kind, u16 reserved (0), u64 version (the parent's, when
 *   proposed), u64 child_id, u32 key_size, key
 * kind 1 is a split at key into [start, key) (the region) and [key, end) (child_id).
 */
#define RS_REGION_CMD_MARK  0xa7u
#define RS_REGION_CMD_SPLIT 1u
/* A region made by a split starts from a snapshot at this index and term. */
#define RS_SPLIT_INIT_INDEX 1u
#define RS_SPLIT_INIT_TERM  1u

/* A split this replica applied, for its store to create the new region's replica. */
struct rs_node_split {
    bool pending;
    uint64_t child_id;
    struct rs_conf conf;  /* the parent's members at the split: the child's */
    uint8_t *snapshot;    /* the child's initial state, in the node snapshot format */
    size_t snapshot_size;
};

struct rs_node_stats {
    uint64_t requests;
    uint64_t corrupt_frames;
    uint64_t writes_answered;
    uint64_t reads_answered;
    uint64_t not_leader;
    uint64_t busy;
    uint64_t snapshots_loaded;
    uint64_t follower_reads;    /* gets a follower or learner accepted (cfg.follower_reads) */
    uint64_t reads_timed_out;   /* ... and answered RS_ETIMEDOUT */
    uint64_t key_range;         /* requests and writes refused: key outside the region */
    uint64_t splits_applied;
    uint64_t appends_refused;   /* log from index 1 offered before the region was known */
};

struct rs_node {
    rs_node_id id;
    struct rs_raft raft;
    struct rs_kv kv;
    /* the region as of the applied index: range and epoch are state-machine state, saved in
     * snapshots; applied_conf tells a membership change (conf_ver + 1) from a new term's
     * repetition of the same configuration */
    struct rs_region region;
    struct rs_conf applied_conf;
    /* false for a replica its store created on a leader's message (for a region it learns of
     * only through that leader): it serves no client until a snapshot gives it its state */
    bool initialized;
    struct rs_node_split split;
    struct rs_out out;
    struct rs_pending_write *writes;
    size_t write_head, write_count, write_cap;
    struct rs_pending_read *reads; /* grows up to RS_NODE_PENDING_READS_MAX */
    size_t read_count, read_cap;
    uint64_t next_cookie;
    uint8_t *scratch; /* encoding buffer for commands and snapshots */
    size_t scratch_cap;
    uint64_t next_snapshot_ns; /* node-local time of the next snapshot by interval */
    /* the host's bookkeeping, never read by the engine: whether the replica is on its
     * store's touched list, and the role and term the host last saw */
    bool host_touched;
    int host_role;
    rs_term host_term;
    struct rs_region_epoch host_epoch;
    /* the store's timer heap: this replica's place in it and the deadline it is filed under */
    size_t store_heap_index;
    uint64_t store_deadline;
    bool snapshot_requested;
    /* Membership, for the store that destroys removed replicas (core/store/store.c). */
    bool removal_applied;   /* applied a configuration that dropped this replica */
    uint64_t peers_removed; /* as leader: peers (bit id) dropped by configurations applied */
    /* a replica made again over its store's tombstone: elections stay barred (raft) until it
     * has applied the configuration version that removed its predecessor */
    bool revived;
    uint64_t conf_ver_floor;
    struct rs_node_stats stats;
};

/* The region starts as [start, end) of `region` (copied), epoch (1, 1). A snapshot replaces
 * it. */
void rs_node_init(struct rs_node *n, const struct rs_raft_config *cfg,
                  const struct rs_region *region);
void rs_node_free(struct rs_node *n);
enum rs_err rs_node_recover(struct rs_node *n, uint64_t now_ns, const struct rs_file_view *files,
                            size_t file_count);
/* A frame arrived from endpoint `from` (a peer or a client). */
void rs_node_recv(struct rs_node *n, uint64_t now_ns, rs_node_id from, const uint8_t *frame,
                  size_t size);
void rs_node_tick(struct rs_node *n, uint64_t now_ns);
void rs_node_disk_done(struct rs_node *n, uint64_t now_ns, uint64_t id, enum rs_err err);
/* Administrative commands (CliService): see rs_raft_change_conf and rs_raft_reset_conf. */
enum rs_err rs_node_change_conf(struct rs_node *n, uint64_t now_ns, const struct rs_conf *target);
enum rs_err rs_node_reset_conf(struct rs_node *n, uint64_t now_ns, const struct rs_conf *conf);
/* Leadership transfer (an administrative command): see rs_raft_transfer. */
enum rs_err rs_node_transfer(struct rs_node *n, uint64_t now_ns, rs_node_id target);
/* Takes a snapshot at the next opportunity (an administrative command). */
void rs_node_request_snapshot(struct rs_node *n);
/*
 * Proposes a split of the region at split_key (size 0: the key-count midpoint) into the
 * region child_id (ids are the caller's to allocate). RS_ENOTLEADER, RS_EBUSY (a split is
 * waiting for its store), RS_EKEYRANGE (the key is not strictly inside the range), RS_EINVAL
 * (no key given and fewer than two keys to split).
 */
enum rs_err rs_node_split(struct rs_node *n, uint64_t now_ns, struct rs_bytes split_key,
                          uint64_t child_id);
/* A new replica starts from a split's snapshot (see struct rs_node_split). */
enum rs_err rs_node_bootstrap(struct rs_node *n, uint64_t now_ns, const struct rs_conf *conf,
                              const uint8_t *snapshot, size_t size);
/* Wakes a hibernating replica (rs_raft_wake): its store's signal. */
void rs_node_wake(struct rs_node *n, uint64_t now_ns);
/* Campaigns at once (rs_raft_campaign). */
enum rs_err rs_node_campaign(struct rs_node *n, uint64_t now_ns);
/* The store took the pending split. */
void rs_node_split_done(struct rs_node *n);
/* Whether the replica holds nothing yet: no log, no snapshot, term 0, no install under way. */
bool rs_node_empty(const struct rs_node *n);
/* Earliest node-local time at which rs_node_tick must run. */
uint64_t rs_node_deadline(const struct rs_node *n);
/*
 * The conf_ver the region would have here once every configuration entry of the log is
 * applied: the applied one plus one per change after the applied index. UINT64_MAX when the
 * log holds more configuration entries than the engine lists (it cannot tell).
 */
uint64_t rs_node_log_conf_ver(const struct rs_node *n);
/* A replica its store made again over a tombstone: it neither votes nor campaigns until the
 * region's conf_ver here reaches conf_ver_floor (then n->revived stays, for the store). */
void rs_node_bar_elections(struct rs_node *n, uint64_t conf_ver_floor);
/* Whether a configuration entry after the applied index names id (true when it cannot tell). */
bool rs_node_later_conf_has(const struct rs_node *n, rs_node_id id);

#endif
