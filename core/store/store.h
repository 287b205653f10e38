/* A store: one machine hosting many region replicas on one disk and one network endpoint. */
#ifndef RS_CORE_STORE_STORE_H
#define RS_CORE_STORE_STORE_H

#include "core/base.h"
#include "core/out.h"
#include "core/pd/policy.h"
#include "core/raft/conf.h"
#include "core/raft/raft.h"
#include "core/store/node.h"
#include "core/store/region.h"
#include "core/store/tombstone.h"

/*
 * Each replica (struct rs_node) keeps its own outbox; after every call the store moves its
 * effects into the store's outbox:
 * - messages are wrapped in an envelope naming the region (core/store/region.h); the
 *   message's type stays the inner frame's, so traces and filters see raft and KV types;
 * - file names get the prefix "r<16 hex digits of the region id>-", so every replica's files
 *   live side by side on the store's disk and recovery tells them apart by name;
 * - disk operations get store-wide ids; completions come back in submission order, so a
 *   FIFO maps each back to its replica and the replica's own id.
 */
#define RS_STORE_PREFIX_SIZE 18u /* "r" + 16 hex digits + "-" */

/* A region this store hosts from the start: its range and members (no members: the replica
 * waits to be added, as a wiped store's do). */
struct rs_store_boot {
    const struct rs_region *region;
    const struct rs_conf *conf;
    /* the region's own options (NULL: the store's); id, members and seed are the store's */
    const struct rs_raft_config *raft;
};

struct rs_store_stats {
    uint64_t corrupt_frames;  /* envelopes that failed their checksum */
    uint64_t unknown_region;  /* raft messages for a region this store does not host */
    uint64_t no_region;       /* client requests answered RS_ENOREGION */
    uint64_t epoch_mismatch;  /* client requests answered RS_EEPOCH */
    uint64_t created_on_demand; /* replicas made for a leader's message about a new region */
    uint64_t splits;          /* replicas made (or found) for splits applied here */
    uint64_t votes_replayed;  /* vote requests held for a region until its split made it */
    uint64_t pd_heartbeats;   /* heartbeat frames sent to the Placement Driver */
    uint64_t pd_received;     /* instructions received from it */
    uint64_t pd_executed;     /* ... carried out (the replica accepted the command) */
    uint64_t pd_dropped;      /* ... dropped: not led here, another epoch, or refused */
    uint64_t pd_corrupt;      /* instruction frames that failed to decode */
    /* removal (see "Removed replicas" in store.c) */
    uint64_t replicas_destroyed;  /* replicas destroyed here: their region dropped this store */
    uint64_t replicas_revived;    /* replicas made again over a tombstone (added back) */
    uint64_t tombstone_refusals;  /* raft messages of a tombstoned region with an older epoch,
                                   * and splits that would have made its replica again */
    uint64_t removed_notices_sent;     /* "you are removed" to peers outside the region */
    uint64_t removed_notices_received; /* ... received (whether or not they destroyed) */
    uint64_t tombstone_file_errors;    /* failed writes of the file, or a damaged file found */
    /* what destroyed replicas had counted, so that sums over the store never go back */
    uint64_t retired_reads_answered;
    uint64_t retired_writes_answered;
    uint64_t retired_snapshot_bytes_sent;
};

/* An instruction the store handled, for the host's trace (rs_store_pd_log_clear empties). */
struct rs_store_pd_done {
    struct rs_pd_instruction instruction; /* split_key is emptied: the frame is gone */
    bool executed;
    enum rs_err result; /* RS_EEPOCH or RS_ENOTLEADER when dropped before the replica */
};

/* A led region's counters at the last heartbeat, to report QPS since then. */
struct rs_store_pd_last {
    uint64_t region_id;
    uint64_t reads;
    uint64_t writes;
};

/*
 * Vote requests for a region this store does not hold yet: a new region's candidate (the
 * parent's leader, campaigning at once) can ask before this store applied the split. They
 * are replayed when the split makes the replica, so the election need not wait out a
 * timeout (TiKV keeps such messages for its "uninitialized" peers the same way). Bounded:
 * the oldest goes when full.
 */
#define RS_STORE_PENDING_VOTES_MAX 16u
struct rs_store_pending_vote {
    uint64_t region_id;
    rs_node_id from;
    uint8_t *frame; /* the inner frame, owned */
    size_t size;
};

#define RS_STORE_PD_NODES_MAX 7u

struct rs_store_op {
    uint64_t id;       /* the store's id for it */
    uint64_t region_id;
    uint64_t inner_id; /* the replica's own id for the operation */
};

struct rs_store {
    rs_node_id id;
    struct rs_raft_config raft; /* template for every replica: id, members, seed set each */
    uint64_t random_seed;
    struct rs_out out;
    struct rs_node **replicas; /* ordered by region id */
    size_t replica_count, replica_cap;
    /* every replica, a min-heap by (deadline, region id): the store's next timer is the top,
     * and an event costs O(log replicas), not a scan (a store may host thousands) */
    struct rs_node **heap;
    size_t heap_count;
    struct rs_node **due; /* scratch for rs_store_tick */
    struct rs_store_op *ops; /* disk operations in flight, in submission order */
    size_t op_head, op_count, op_cap;
    /* replicas that handled something since the host last called rs_store_untouch, in the
     * order they did: the host runs its per-replica bookkeeping on these only */
    struct rs_node **touched;
    size_t touched_count, touched_cap;
    uint8_t *scratch;
    size_t scratch_cap;
    bool recovering; /* splits wait until every replica recovered */
    struct rs_store_pending_vote pending_votes[RS_STORE_PENDING_VOTES_MAX]; /* in arrival order */
    uint32_t pending_vote_count;
    struct rs_store_stats stats;
    /* regions whose replica this store destroyed (persisted in RS_TOMBSTONE_FILE) */
    struct rs_tombstones tombstones;
    bool tombstones_unreadable; /* recovery found the file damaged: boot regions without
                                 * files start with no members, as on a replaced disk */
    bool tombstones_retry;      /* a write of the file failed: written again at a tick */
    /* replicas destroyed since the host last called rs_store_untouch: out of the store, still
     * on the touched list, freed by rs_store_untouch (the host tells its checks first) */
    struct rs_node **destroyed;
    size_t destroyed_count, destroyed_cap;
    /* the Placement Driver group: its nodes' endpoints, and the one heartbeats go to (the
     * leader as last heard; RS_NODE_NONE: no PD, no heartbeats) */
    rs_node_id pd;
    rs_node_id pd_nodes[RS_STORE_PD_NODES_MAX];
    uint32_t pd_node_count;
    bool pd_acked; /* the last heartbeat was acknowledged by a PD that leads */
    uint64_t pd_heartbeat_ns;
    uint64_t pd_next_ns; /* store-local time of the next heartbeat */
    uint64_t pd_last_ns; /* ... and of the previous one */
    uint64_t pd_reads, pd_writes; /* store-wide counters at the previous heartbeat */
    struct rs_store_pd_last *pd_last;
    size_t pd_last_count, pd_last_cap;
    struct rs_store_pd_done *pd_log;
    size_t pd_log_count, pd_log_cap;
};

/* cfg->id is the store's id (and each replica's raft id); its voters and learners are
 * ignored: members come from the boot list, the log or a snapshot. */
void rs_store_init(struct rs_store *s, const struct rs_raft_config *cfg);
void rs_store_free(struct rs_store *s);
/*
 * Starts every boot region, and every other region whose files are on disk (created by a
 * split or added later: its range and members come from its own snapshot and log). Returns
 * the first replica's error, if any (that replica is in its error state; the others run).
 */
enum rs_err rs_store_recover(struct rs_store *s, uint64_t now_ns, const struct rs_store_boot *boot,
                             size_t boot_count, const struct rs_file_view *files,
                             size_t file_count);
/* A frame from endpoint `from` (a store or a client). */
void rs_store_recv(struct rs_store *s, uint64_t now_ns, rs_node_id from, const uint8_t *frame,
                   size_t size);
void rs_store_tick(struct rs_store *s, uint64_t now_ns);
void rs_store_disk_done(struct rs_store *s, uint64_t now_ns, uint64_t id, enum rs_err err);
/*
 * Heartbeats to the Placement Driver every heartbeat_ns (store-local), the first one
 * heartbeat_ns after now_ns, to the PD node believed to lead the group (RheaKV's PD client
 * finds the leader the same way): a node that does not lead answers with the leader it knows
 * (RS_PD_MSG_LEADER) and the store turns to it at once; the leader acknowledges every
 * heartbeat, and a heartbeat left unacknowledged makes the next one go to the next node. Each is a store heartbeat with region heartbeats for the
 * regions led here, in frames of up to RS_PD_MSG_REGIONS_MAX regions. Instruction frames from
 * pd are then executed by rs_store_recv on the region's leader replica when the epoch matches
 * (RheaKV's InstructionProcessor); the rest are dropped and counted.
 */
void rs_store_pd_attach(struct rs_store *s, const rs_node_id *pd_nodes, uint32_t pd_node_count,
                        uint64_t heartbeat_ns, uint64_t now_ns);
void rs_store_pd_log_clear(struct rs_store *s);
/* Earliest store-local time at which rs_store_tick must run. */
uint64_t rs_store_deadline(const struct rs_store *s);

/* The replica of a region, or NULL. */
struct rs_node *rs_store_replica(const struct rs_store *s, uint64_t region_id);
/* After an administrative call on a replica (rs_node_change_conf, ...): its effects out. */
void rs_store_flush(struct rs_store *s, struct rs_node *n);
/*
 * Hibernation's store-level signal: wakes every sleeping replica here (leader RS_NODE_NONE),
 * or every sleeping follower or learner whose leader is `leader` (a replica found that leader
 * silent: the store calls this itself). See rs_raft_wake.
 */
void rs_store_wake(struct rs_store *s, uint64_t now_ns, rs_node_id leader);
/* Empties the touched list and frees the replicas destroyed since the last call. */
void rs_store_untouch(struct rs_store *s);
/* The file name prefix of a region: exactly RS_STORE_PREFIX_SIZE characters and a NUL. */
void rs_store_prefix(uint64_t region_id, char out[RS_STORE_PREFIX_SIZE + 1]);

#endif
