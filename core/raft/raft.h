/* One replica of one raft group: the public face of the engine's consensus core. */
#ifndef RS_CORE_RAFT_RAFT_H
#define RS_CORE_RAFT_RAFT_H

#include "core/base.h"
#include "core/out.h"
#include "core/raft/conf.h"
#include "core/raft/log.h"
#include "core/raft/snapshot.h"

/* Named limits (STYLE.md: limits have names). */
#define RS_RAFT_VOTERS_MAX    RS_CONF_VOTERS_MAX
/* peers a leader replicates to: both sides of a joint configuration and the learners */
#define RS_RAFT_PEERS_MAX     (2u * RS_CONF_VOTERS_MAX + RS_CONF_LEARNERS_MAX)
#define RS_RAFT_CONFS_MAX     64u
#define RS_RAFT_INFLIGHT_MAX  1024u
#define RS_RAFT_BATCH_MAX     4096u
#define RS_RAFT_READS_MAX     65536u
#define RS_RAFT_ACKS_MAX      4096u
#define RS_RAFT_LEASE_ROUNDS  256u   /* heartbeat rounds whose send time the lease remembers */
#define RS_RAFT_FORWARDS_MAX  4096u  /* reads a follower has forwarded and not heard back on */
#define RS_RAFT_REMOTE_READS_MAX 4096u /* forwarded reads a leader is confirming */
#define RS_RAFT_READ_TIMEOUT_DEFAULT_NS (2000ull * 1000 * 1000) /* jraft's 2 s */
#define RS_RAFT_DECAY_GAP_DEFAULT 10 /* jraft's decayPriorityGap, also its minimum */
/* Hibernation (hibernate.c): heartbeat periods a leader's group stays idle before it dozes.
 * Each period awake costs a heartbeat round; at 10,000 regions and 64 clients (bench_scale)
 * 5 periods gave 84k messages per simulated second, 2 gave 57k, 1 gave 46k. 2 keeps a little
 * hysteresis (and the lease) for a region whose requests come in bursts. */
#define RS_RAFT_HIBERNATE_IDLE_ROUNDS 2u

_Static_assert(RS_NODE_ID_MAX < 64, "vote and ack sets are 64-bit sets of node ids");

enum rs_role { RS_FOLLOWER = 0, RS_PRE_CANDIDATE, RS_CANDIDATE, RS_LEADER, RS_ERROR_STATE };

enum rs_read_mode { RS_READ_SAFE = 0, RS_READ_LEASE = 1 };

/* Planted bugs, off by default (--bug NAME). Each flips one rule the checks must defend. */
#define RS_BUG_COMMIT_OLD_TERM     (1u << 0) /* count replicas for entries of earlier terms */
#define RS_BUG_VOTE_NO_LOG_CHECK   (1u << 1) /* grant votes without the log up-to-date check */
#define RS_BUG_ACK_BEFORE_SYNC     (1u << 2) /* acknowledge appends before they are synced */
#define RS_BUG_READ_WITHOUT_QUORUM (1u << 3) /* ReadIndex without the heartbeat round */
#define RS_BUG_JOINT_SINGLE_QUORUM (1u << 4) /* a change commits with the new quorum only */
#define RS_BUG_LEARNER_VOTES_COUNT (1u << 5) /* learners are counted in commit quorums */
#define RS_BUG_SNAPSHOT_DROPS_TAIL (1u << 6) /* recovery drops the log after the snapshot */
#define RS_BUG_TRUNCATE_COMMITTED  (1u << 7) /* appends cut the log after them, conflict or not */
/* bits 4..7 are taken by the membership bugs */
#define RS_BUG_TRANSFER_WITHOUT_CATCHUP (1u << 8) /* TimeoutNow before the target caught up */
#define RS_BUG_LEASE_IGNORES_DRIFT      (1u << 9) /* the lease is not shrunk by the drift bound */

/* Election priorities (jraft's ElectionPriority). */
#define RS_PRIORITY_DISABLED (-1) /* takes part in elections as if priorities did not exist */
#define RS_PRIORITY_NEVER    0    /* never becomes leader (never campaigns) */

struct rs_raft_config {
    rs_node_id id;
    /* the initial configuration, used until the log or a snapshot holds one */
    uint32_t voter_count;
    rs_node_id voters[RS_RAFT_VOTERS_MAX];
    uint32_t learner_count;
    rs_node_id learners[RS_CONF_LEARNERS_MAX];
    uint64_t election_timeout_ns; /* randomized in [T, 2T) */
    uint64_t heartbeat_ns;
    bool pre_vote;
    enum rs_read_mode read_mode;
    uint32_t max_inflight;      /* append messages in flight per follower */
    uint32_t batch_entries;     /* entries per append message */
    uint64_t batch_bytes;       /* payload bytes per append message */
    uint64_t proposal_queue;    /* uncommitted entries before proposals get BUSY */
    uint64_t segment_bytes_max; /* log segment rollover size */
    uint64_t snapshot_chunk_bytes; /* snapshot install chunk size */
    uint64_t snapshot_margin;      /* log entries kept behind a snapshot for slow followers */
    uint64_t snapshot_interval_ns; /* the host snapshots this often (0: never by time) */
    uint64_t snapshot_log_entries; /* ... and when this many entries were applied since */
    uint64_t catchup_margin;       /* a new voter is caught up within this many entries */
    uint64_t random_seed;       /* from the host: the engine's only randomness */
    uint32_t bugs;
    /* Priority election. Off (the zero value): every node's priority is RS_PRIORITY_DISABLED
     * and priorities[] is ignored, so a zeroed config keeps jraft's defaults. On: priorities
     * gives every node's priority by node id (-1 disabled, 0 never leads, >= 1), the same
     * table on every node, like jraft's peer list with priorities. */
    bool priority_election;
    int32_t priorities[RS_NODE_ID_MAX + 1];
    uint32_t decay_priority_gap; /* 0: 10; values below 10 count as 10 (as in jraft) */
    /* Lease reads: the clock drift (ppm, every clock) the lease stays sound for. */
    uint32_t max_drift_ppm;
    /* Node: followers and learners serve client gets by forwarding ReadIndex to the leader
     * (off: they answer NOTLEADER, as before). */
    bool follower_reads;
    uint64_t read_timeout_ns; /* a forwarded read gives up after this (0: 2 s) */
    /* Hibernation (TiKV's hibernate regions, CockroachDB's quiescence; see hibernate.c): an
     * idle group stops heartbeating and its followers stop their election timers until
     * something wakes it. Off: every heartbeat and timer exactly as without it. */
    bool hibernate;
};

/* One append message in flight: the last index it carries and when it went out. */
struct rs_inflight {
    rs_index last;
    uint64_t sent_ns;
};

/* The replication state of one follower, seen from the leader. */
enum rs_progress_state { RS_PROBE = 0, RS_REPLICATE = 1, RS_SNAPSHOT = 2 };

struct rs_progress {
    rs_node_id id;
    enum rs_progress_state state;
    rs_index next_index;
    rs_index match_index;
    uint64_t send_seq;       /* sequence number of the next append message */
    uint64_t valid_seq;      /* responses to messages below this are stale */
    uint32_t inflight_count; /* append messages with entries not yet answered */
    uint32_t inflight_head;  /* in the ring rs_raft.inflight[id] */
    uint64_t probe_sent_ns;  /* when the outstanding probe went out (0 = none) */
    uint64_t last_ack_ns;    /* last response in the current term, for step-down checks */
    uint64_t read_seq_acked;
    /* installing a snapshot on this follower */
    rs_index snap_index;   /* the snapshot being sent */
    uint64_t snap_offset;  /* the chunk in flight starts here */
    uint64_t snap_sent_ns; /* when it went out */
    uint64_t hib_seq;      /* send_seq of the last hibernate message to it (0: none since awake) */
};

/* A pending read: confirmed once a quorum has acknowledged read_seq. */
struct rs_read {
    uint64_t cookie;
    uint64_t read_seq;
    rs_index read_index;
};

/* A read whose index is confirmed (err == RS_OK) or that failed. The node drains these. */
struct rs_read_done {
    uint64_t cookie;
    rs_index read_index;
    enum rs_err err;
};

/* A follower's acknowledgement waiting for its entries to become durable. */
struct rs_pending_ack {
    rs_node_id to;
    rs_term term;
    rs_index match_index;
    uint64_t seq;
    uint64_t read_seq;
};

/* Why a disk operation was submitted, so its completion can be acted on. */
enum rs_disk_purpose {
    RS_PURPOSE_NONE = 0,
    RS_PURPOSE_LOG_SYNC,
    RS_PURPOSE_META_SYNC,
    RS_PURPOSE_SNAP_SAVED,     /* a snapshot this replica took is durable */
    RS_PURPOSE_SNAP_INSTALLED, /* a snapshot received from the leader is durable */
};

/* A configuration change led by this replica (SOFAJRaft's ConfigurationCtx). */
enum rs_change_stage { RS_CHANGE_NONE = 0, RS_CHANGE_CATCHING_UP, RS_CHANGE_JOINT,
                       RS_CHANGE_STABLE };

struct rs_change {
    enum rs_change_stage stage;
    struct rs_conf target;     /* voters and learners wanted */
    rs_index entry_index;      /* the joint or stable entry waiting to commit */
    uint64_t catchup_deadline_ns;
    uint64_t staging;          /* new voters being caught up (node id set) */
};

/* How the last change this replica led ended (RS_EAGAIN while one runs). */
struct rs_change_result {
    uint64_t id; /* counts changes started here */
    enum rs_err err;
};

/* A snapshot arriving from the leader, chunk by chunk. */
struct rs_install {
    bool active;
    bool finishing; /* complete, waiting for its sync and rename */
    rs_node_id leader;
    rs_term leader_term;
    rs_index last_index;
    rs_term last_term;
    uint64_t total_size; /* 0 until known (a download resumed after a crash) */
    uint64_t received;
    uint8_t *buf;
    uint64_t cap;
};

struct rs_disk_wait {
    uint64_t id;
    enum rs_disk_purpose purpose;
    uint64_t value; /* log sync: last index covered; meta sync: meta sequence */
};

struct rs_raft_stats {
    uint64_t elections_started;
    uint64_t leader_terms;
    uint64_t appends_sent;
    uint64_t entries_sent;
    uint64_t corrupt_messages;
    uint64_t proposals_busy;
    uint64_t conf_changes;
    uint64_t snapshots_saved;
    uint64_t snapshots_installed;
    uint64_t snapshot_chunks_sent;
    uint64_t snapshot_bytes_sent;
    uint64_t transfers_started;
    uint64_t transfers_timed_out;
    uint64_t timeout_now_sent;
    uint64_t timeout_now_elections; /* elections started by a TimeoutNow received */
    uint64_t priority_skips;        /* election timeouts skipped for a higher target priority */
    uint64_t lease_reads;           /* reads answered inside the lease, without a round */
    uint64_t reads_forwarded;       /* reads this follower forwarded to its leader */
    uint64_t remote_reads_answered; /* forwarded reads this leader answered */
    uint64_t hibernations;          /* times this replica went to sleep (leader or follower) */
    uint64_t wakes;                 /* ... and woke up */
    uint64_t wake_ups_sent;         /* wake-up messages sent */
};

/* Hibernation state (hibernate.c). A leader dozes (sends hibernate messages to the peers that
 * have not acknowledged one) and then sleeps (no timer at all); a follower or learner only
 * sleeps (no election timer). Always RS_HIB_AWAKE with cfg.hibernate off. */
enum rs_hib_state { RS_HIB_AWAKE = 0, RS_HIB_DOZING = 1, RS_HIB_ASLEEP = 2 };

/* The send time of one heartbeat round (a read_seq value) of a leader term. */
struct rs_lease_round {
    rs_term term;
    uint64_t seq;
    uint64_t sent_ns;
};

/* A read this follower forwarded to the leader, waiting for the read index. */
struct rs_forward {
    uint64_t cookie;
    uint64_t request_id;
    rs_node_id to;
    uint64_t deadline_ns;
};

/* A read forwarded to this leader, waiting for its quorum round. */
struct rs_remote_read {
    rs_node_id from;
    uint64_t request_id;
    uint64_t read_seq;
    rs_index read_index;
};

struct rs_raft {
    struct rs_raft_config cfg;
    enum rs_role role;
    rs_term term;
    rs_node_id voted_for;
    rs_node_id leader_id;
    rs_index commit_index;
    rs_index applied_index;
    rs_index durable_index; /* log entries up to here are synced on this replica */
    uint64_t rng_state;
    struct rs_out *out;
    uint64_t now_ns;

    struct rs_log log;
    struct rs_log_store store;

    /* meta (term and vote) durability */
    uint64_t meta_seq;         /* last meta version submitted */
    uint64_t meta_seq_durable; /* last meta version known durable */
    /* messages produced while a meta write is in flight wait here (durable term and vote
     * before any message that depends on them: SOFAJRaft #1245) */
    struct rs_out_msg *held;
    uint8_t *held_bytes;
    size_t held_count, held_cap, held_bytes_size, held_bytes_cap;

    /* disk operations in flight, in submission order */
    struct rs_disk_wait *waits;
    size_t wait_head, wait_count, wait_cap;
    bool sync_in_flight;
    rs_index written_index; /* entries up to here have had their write submitted */

    /* timers (node-local time) */
    uint64_t election_deadline_ns;
    uint64_t heartbeat_deadline_ns;
    uint64_t stepdown_deadline_ns;
    uint64_t last_leader_contact_ns;

    /* configurations: the latest one in the log takes effect when appended (as in the Raft
     * paper and SOFAJRaft); confs lists the configuration entries still in the log */
    struct rs_conf conf;
    struct rs_conf base_conf; /* from the snapshot, or the initial one */
    struct {
        rs_index index;
        struct rs_conf conf;
    } confs[RS_RAFT_CONFS_MAX];
    uint32_t conf_count;

    struct rs_change change;
    struct rs_change_result change_result;

    /* elections */
    uint64_t votes_granted; /* set of node ids */
    uint64_t votes_refused;

    /* leader state: one progress per peer of the configuration */
    struct rs_progress progress[RS_RAFT_PEERS_MAX];
    /* per peer id, the ring of its appends in flight (last index and send time of each,
     * cfg.max_inflight slots), allocated when the peer first gets one: a store hosting
     * thousands of replicas pays for the peers they have, not for the largest window */
    struct rs_inflight *inflight[RS_NODE_ID_MAX + 1];
    uint32_t peer_count;
    rs_index term_start_index; /* index of this leader's first entry */
    uint64_t read_seq;
    bool read_broadcast_needed;
    struct rs_read *reads;
    size_t read_head, read_count, read_cap;

    /* outputs for the node */
    struct rs_read_done *reads_done;
    size_t reads_done_count, reads_done_cap;

    /* follower state */
    struct rs_pending_ack *acks;
    size_t ack_count, ack_cap;

    /* snapshots */
    struct rs_snapshot snap;        /* the latest durable snapshot, file bytes in memory */
    struct rs_snapshot snap_saving; /* being saved: durable once its rename completes */
    struct rs_install install;
    struct rs_conf install_conf; /* the configuration of a snapshot being adopted */
    bool snapshot_to_load; /* the host must load snap into its state machine */
    bool snapshot_wanted;  /* a follower holds nothing and there is no snapshot to send it */

    /* Set by the host: this replica neither votes nor campaigns (nor answers TimeoutNow). A
     * store sets it on a replica made again for a region it had destroyed here, until that
     * replica holds the configuration that removed its predecessor (core/store/store.c). */
    bool elections_barred;

    struct rs_raft_stats stats;
    enum rs_err error; /* set when role == RS_ERROR_STATE */
    rs_index conflict_index; /* non-zero: a leader contradicted a committed entry here */
    char error_detail[160];  /* where corruption was found, when that is the error */

    /* Leadership transfer (transfer.c). The leader keeps role RS_LEADER while it transfers;
     * rs_raft_transferring() tells. State of an older term is stale and ignored. */
    rs_node_id transfer_target;
    rs_term transfer_term;
    uint64_t transfer_deadline_ns;
    bool timeout_now_sent;
    rs_term timeout_now_term; /* a TimeoutNow left in this term: no lease reads in it */

    /* Priority election (priority.c). */
    bool priority_ready;          /* target_priority was computed for priority_conf */
    int32_t target_priority;
    struct rs_conf priority_conf; /* the configuration target_priority belongs to */

    /* Lease reads (lease.c): the lease of lease_term starts at lease_start_ns. */
    rs_term lease_term;
    uint64_t lease_start_ns;
    struct rs_lease_round lease_rounds[RS_RAFT_LEASE_ROUNDS];

    /* Follower reads (forward.c). */
    struct rs_forward *forwards; /* oldest first */
    size_t forward_count, forward_cap;
    uint64_t forward_request_id; /* the last request id used */
    bool forward_open;           /* reads tagged forward_request_id wait for the flush */
    rs_node_id forward_open_to;
    struct rs_remote_read *remote_reads; /* ring, oldest first */
    size_t remote_head, remote_count, remote_cap;

    /* Hibernation (hibernate.c). */
    enum rs_hib_state hib_state;
    uint32_t hib_idle_rounds; /* leader: consecutive heartbeat periods found idle */
    uint64_t hib_acked;       /* leader: peers (id set) that acknowledged a hibernate message */
    uint64_t hib_woke_ns;     /* leader: when it last woke; older lease rounds are not trusted */
    /* a follower whose election timer found its leader silent names that leader here; the
     * store wakes its other sleeping replicas led by it and clears this (rs_store_wake) */
    rs_node_id hib_lost_leader;
};

/* A file the host found on this replica's disk at start-up. */
struct rs_file_view {
    const char *name;
    const uint8_t *data;
    size_t size;
};

void rs_raft_init(struct rs_raft *r, const struct rs_raft_config *cfg, struct rs_out *out);
void rs_raft_free(struct rs_raft *r);
/*
 * Recovers the log and meta from the files on disk (none on a fresh start). A torn tail is
 * cut (a truncate goes out) and never applied. RS_ECORRUPT for damage that is not a torn tail.
 */
enum rs_err rs_raft_recover(struct rs_raft *r, uint64_t now_ns, const struct rs_file_view *files,
                            size_t file_count);

/* Events. Each may append effects to the outbox. */
void rs_raft_recv(struct rs_raft *r, uint64_t now_ns, rs_node_id from, unsigned type,
                  struct rs_bytes body);
void rs_raft_tick(struct rs_raft *r, uint64_t now_ns);
void rs_raft_disk_done(struct rs_raft *r, uint64_t now_ns, uint64_t id, enum rs_err err);
/* Appends a DATA entry. Sets *index and *term. RS_ENOTLEADER, RS_EBUSY. */
enum rs_err rs_raft_propose(struct rs_raft *r, uint64_t now_ns, struct rs_bytes data,
                            rs_index *index, rs_term *term);
/*
 * Starts a linearizable read; its outcome appears in reads_done with this cookie. On a leader
 * in lease mode inside the lease it is answered at once; otherwise after a quorum round. On a
 * follower or learner with cfg.follower_reads the read is forwarded to the known leader and
 * reads_done gets the leader's read index (or its error, or RS_ETIMEDOUT after
 * read_timeout_ns); the caller serves it once applied_index reaches it. Errors: RS_ENOTLEADER
 * (no leader known, or follower reads off), RS_EBUSY (transferring, or too many pending),
 * RS_EAGAIN (a new leader has not committed an entry of its term), RS_ESHUTDOWN.
 */
enum rs_err rs_raft_read_index(struct rs_raft *r, uint64_t now_ns, uint64_t cookie);
/* Emits the batched work of this step: disk writes, appends, read heartbeats. */
void rs_raft_flush(struct rs_raft *r);
/* The host applied entries up to index. */
void rs_raft_set_applied(struct rs_raft *r, rs_index index);

/*
 * Snapshots. The host serializes its state machine at its applied index and hands the bytes
 * over; the engine writes the file (durably, never half) and then compacts the log.
 * RS_EBUSY while another save or an install is under way; RS_EINVAL for an index that is not
 * newer than the last snapshot or not applied.
 */
enum rs_err rs_raft_snapshot_save(struct rs_raft *r, rs_index index, const uint8_t *data,
                                  size_t size);
/* After recovery or an install, snapshot_to_load is set: the host loads the data of
 * rs_raft_snapshot_data and then calls rs_raft_snapshot_loaded. */
struct rs_bytes rs_raft_snapshot_data(const struct rs_raft *r);
void rs_raft_snapshot_loaded(struct rs_raft *r);
rs_index rs_raft_snapshot_index(const struct rs_raft *r);
/*
 * Starts a new, empty replica from a state (a region made by a split): the log begins after
 * (index, term), the snapshot holds data and conf, and snapshot_to_load is set. RS_EINVAL
 * unless the replica is empty (no log, no snapshot, term 0) and index and term are non-zero.
 */
enum rs_err rs_raft_bootstrap(struct rs_raft *r, rs_index index, rs_term term,
                              const struct rs_conf *conf, const uint8_t *data, size_t size);

/*
 * Moves to a newer term with no vote (an older or equal one changes nothing), persisted like
 * any change of term. A store makes a region's replica again past the term of the one it
 * destroyed: it never votes twice in a term, and a leader that counted the old replica's
 * acknowledgements in that term hears of the newer term and steps down.
 */
void rs_raft_adopt_term(struct rs_raft *r, rs_term term);

/* Puts the replica into the error state (it stops serving and never acknowledges). */
void rs_raft_enter_error(struct rs_raft *r, enum rs_err err);

/*
 * Membership (leader only). Changes the voters and learners to target (old_voters must be
 * empty). New voters are first caught up (within catchup_margin entries, waiting while they
 * answer), then a joint configuration commits with majorities of both the old and the new
 * voters, then the new configuration. Learners join without catch-up and never count. One
 * change at a time: RS_EBUSY otherwise. The outcome lands in change_result.
 */
enum rs_err rs_raft_change_conf(struct rs_raft *r, uint64_t now_ns, const struct rs_conf *target);
/* Unsafe: when a majority is lost for good, force this replica's configuration locally and
 * step down into a new term (SOFAJRaft's resetPeers). */
enum rs_err rs_raft_reset_conf(struct rs_raft *r, uint64_t now_ns, const struct rs_conf *conf);

/* Earliest node-local time at which rs_raft_tick must run. */
uint64_t rs_raft_deadline(const struct rs_raft *r);

/*
 * Leadership transfer (SOFAJRaft's transferLeadershipTo, TimeoutNow). target RS_NODE_NONE
 * picks the best voter: the largest match index, ties by higher priority, never priority 0,
 * never a learner. The leader stays RS_LEADER with rs_raft_transferring() true: proposals and
 * reads get RS_EBUSY. Once the target's match index equals the leader's last index it gets a
 * TimeoutNow and campaigns at once (no pre-vote). After one election timeout without a new
 * leader the transfer ends and the leader serves again. A target equal to this node: RS_OK,
 * nothing happens. Errors: RS_ENOTLEADER, RS_ESHUTDOWN, RS_EBUSY (a transfer or a
 * configuration change runs), RS_EINVAL (target not a voter, or priority 0), RS_ENOTFOUND
 * (RS_NODE_NONE and no voter qualifies).
 */
enum rs_err rs_raft_transfer(struct rs_raft *r, uint64_t now_ns, rs_node_id target);
bool rs_raft_transferring(const struct rs_raft *r);
/*
 * Starts an election now, skipping pre-vote, as a TimeoutNow does: for a region a split just
 * made, where the parent's leader campaigns at once instead of every replica waiting out an
 * election timeout (TiKV does the same). RS_EINVAL unless a follower and a voter that may lead.
 */
enum rs_err rs_raft_campaign(struct rs_raft *r, uint64_t now_ns);

/*
 * Lease reads. The lease lasts election_timeout * 9/10 shrunk for the drift bound (see
 * lease.c); with the planted bug lease-ignores-drift the full 9/10. rs_raft_lease_valid says
 * whether a read now would be answered without a quorum round.
 */
uint64_t rs_raft_lease_duration_ns(const struct rs_raft_config *cfg);
bool rs_raft_lease_valid(const struct rs_raft *r);

/*
 * Hibernation (cfg.hibernate, see hibernate.c). rs_raft_wake is the host's wake signal: a
 * client request reached this replica, or its store asks (a leader store seems gone). A
 * sleeping leader resumes heartbeats at once; a sleeping follower or learner restarts its
 * election timer and sends its leader a wake-up. Proposals, reads, transfers and membership
 * changes wake a leader by themselves. No effect with cfg.hibernate off or when awake.
 * rs_raft_hibernating: asleep (no timer of its own, rs_raft_deadline says UINT64_MAX unless a
 * forwarded read or a transfer is pending).
 */
void rs_raft_wake(struct rs_raft *r, uint64_t now_ns);
bool rs_raft_hibernating(const struct rs_raft *r);

static inline bool rs_raft_is_leader(const struct rs_raft *r)
{
    return r->role == RS_LEADER;
}

const char *rs_role_name(enum rs_role role);

#endif
