/* The Placement Driver's balancing policies: pure, deterministic decisions over a cluster view. */
#ifndef RS_CORE_PD_POLICY_H
#define RS_CORE_PD_POLICY_H

#include "core/base.h"
#include "core/store/region.h"

/*
 * The PD keeps a view of the cluster built from store and region heartbeats; a policy reads
 * it and answers with instructions. Nothing here does I/O or reads a clock: the host hands in
 * the view and the time, and the same view, time and history of calls give the same
 * instructions byte for byte. Every decision is made on integers; ties are broken by ids.
 */

#define RS_PD_PEERS_MAX     8u  /* voters (and, separately, learners) of one region */
#define RS_PD_HANDLERS_MAX  8u  /* handlers in one pipeline */
#define RS_PD_REASON_SIZE   96u /* the decision's one-line reason, NUL included */
#define RS_PD_MESSAGE_SIZE_MIN 160u /* room for rs_pd_policy_parse's message */

/*
 * One store as the PD knows it. The *_per_s figures are integers per second over the last
 * store heartbeat's interval. capacity_bytes 0 means unknown (then available space is not a
 * tie-break). The counts are what the store reported (RheaKV's StoreStats); the policies
 * count leaders and replicas from the regions themselves.
 */
struct rs_pd_store {
    rs_node_id id;
    bool up;
    bool busy; /* a split is running there (RheaKV's StoreStats.busy) */
    uint32_t region_count;
    uint32_t leader_count;
    uint64_t key_count;
    uint64_t size_bytes;
    uint64_t capacity_bytes;
    uint64_t read_qps;
    uint64_t write_qps;
    uint64_t read_bytes_per_s;
    uint64_t write_bytes_per_s;
};

/*
 * One region as the PD knows it. start and end point into memory the caller owns (empty
 * start: minus infinity; empty end: plus infinity). leader is RS_NODE_NONE when unknown and
 * otherwise one of the voters: the leader fields of all regions are the PD's leader table
 * (RheaKV's ClusterStatsManager), updated by the caller from region heartbeats.
 */
struct rs_pd_region {
    uint64_t id;
    struct rs_bytes start;
    struct rs_bytes end;
    struct rs_region_epoch epoch;
    rs_node_id leader;
    uint8_t voter_count;
    uint8_t learner_count;
    rs_node_id voters[RS_PD_PEERS_MAX];
    rs_node_id learners[RS_PD_PEERS_MAX];
    uint64_t key_count; /* approximate, as the region heartbeat reports it */
    uint64_t size_bytes;
    uint64_t read_qps;
    uint64_t write_qps;
};

/* The view: stores sorted by id, regions sorted by id, both strictly increasing. */
struct rs_pd_view {
    struct rs_pd_store *stores;
    size_t store_count;
    struct rs_pd_region *regions;
    size_t region_count;
};

enum rs_pd_kind {
    RS_PD_TRANSFER_LEADER,
    RS_PD_RANGE_SPLIT,
    RS_PD_CHANGE_PEER,
};

enum rs_pd_change {
    RS_PD_ADD_VOTER,
    RS_PD_ADD_LEARNER,
    RS_PD_REMOVE_PEER,
    RS_PD_PROMOTE_LEARNER,
};

/*
 * One instruction. It carries the region's epoch as the decision saw it: a store drops an
 * instruction whose epoch is not its replica's (RheaKV's InstructionProcessor "out of date").
 * A split leaves new_region_id 0 for the caller to allocate (RheaKV's createRegionId) and
 * split_key empty, meaning the store's own midpoint by key count (RheaKV's
 * jumpOver(approximateKeys / 2)). The whole struct is zeroed before it is filled, so two
 * equal decisions are equal byte for byte.
 */
struct rs_pd_instruction {
    enum rs_pd_kind kind;
    enum rs_pd_change change; /* RS_PD_CHANGE_PEER only */
    uint64_t region_id;
    struct rs_region_epoch epoch;
    rs_node_id store_id; /* the transfer's target, or the store a peer change is about */
    uint64_t new_region_id;
    struct rs_bytes split_key;
    uint32_t handler_index; /* the handler that decided it: rs_pd_handler_name(index) */
    char reason[RS_PD_REASON_SIZE];
};

/* Where a call puts its instructions: the caller's array of capacity entries. */
struct rs_pd_out {
    struct rs_pd_instruction *items;
    size_t capacity;
    size_t count;
};

/*
 * Parameters. Defaults (rs_pd_params_default) follow RheaKV where it has a value and TiKV's
 * PD where it has one and RheaKV not.
 */
struct rs_pd_params {
    /* Instructions one region heartbeat may answer: 1 is RheaKV's event.isReady(). */
    uint32_t heartbeat_instructions_max;
    /* Instructions one tick may give (TiKV's leader-schedule-limit is 4). */
    uint32_t tick_instructions_max;
    /* A region with an instruction in flight gets no other until the view shows a change
     * (another leader or epoch) or this long has passed; 0 turns the rule off. */
    uint64_t inflight_timeout_ns;
    /* After an instruction for a region, none for it until this long has passed. */
    uint64_t region_cooldown_ns;
    /* rhea-split-judge: RheaKV's leastKeysOnSplit, default 10,000. */
    uint64_t least_keys_on_split;
    /* region-count and load: the voters a region should have (default 3). */
    uint32_t replica_count;
    /* load: act only when the busiest store is above the mean by more than this many parts
     * per million (TiKV's 1.05 tolerance: 50,000) and above min_qps. */
    uint32_t load_tolerance_ppm;
    uint64_t load_min_qps;
};

void rs_pd_params_default(struct rs_pd_params *params);

/*
 * The known handler names, in registry order, and when each runs:
 *   rhea-leader-balance  heartbeat  RheaKV's RegionLeaderBalanceHandler, stall included
 *   rhea-split-judge     heartbeat  RheaKV's SplittingJudgeByApproximateKeysHandler
 *   leader-count         tick       leaders within one of the mean, along chains of regions
 *   region-count         tick       replicas within one of the mean, by add then remove
 *   load                 tick       leaders by QPS, replicas by bytes
 *   none                 never      nothing
 */
size_t rs_pd_handler_count(void);
const char *rs_pd_handler_name(size_t index);

/*
 * Parses a comma-separated list of handler names ("rhea-leader-balance,rhea-split-judge" is
 * RheaKV's default pipeline) into registry indexes, in the order given. RS_OK, or RS_EINVAL
 * with a message naming the bad entry and listing the known names (an unknown name, an empty
 * entry, a repeated name, too many); message may be NULL.
 */
enum rs_err rs_pd_policy_parse(const char *names, uint32_t *handlers, size_t *handler_count,
                               char *message, size_t message_size);

/* A pipeline with its memory of moves in flight and of the stores that sent heartbeats. */
struct rs_pd_policy;

enum rs_err rs_pd_policy_create(const char *names, const struct rs_pd_params *params,
                                struct rs_pd_policy **policy, char *message,
                                size_t message_size);
void rs_pd_policy_destroy(struct rs_pd_policy *policy);
/* The PD's leader changed: forget everything learned from heartbeats (RheaKV invalidCache). */
void rs_pd_policy_reset(struct rs_pd_policy *policy);
bool rs_pd_policy_uses_heartbeats(const struct rs_pd_policy *policy);
bool rs_pd_policy_uses_ticks(const struct rs_pd_policy *policy);

/*
 * A region heartbeat from store_id for the regions it leads (region_ids, in the heartbeat's
 * order), after the caller has put the heartbeat into the view. Runs the heartbeat handlers
 * in pipeline order until heartbeat_instructions_max instructions are out. RS_EINVAL for an
 * inconsistent view or an unknown store or region; out->count is then 0.
 */
enum rs_err rs_pd_region_heartbeat(struct rs_pd_policy *policy, const struct rs_pd_view *view,
                                   rs_node_id store_id, const uint64_t *region_ids,
                                   size_t region_id_count, uint64_t now_ns,
                                   struct rs_pd_out *out);
/* A periodic pass over the whole view by the tick handlers, up to tick_instructions_max. */
enum rs_err rs_pd_tick(struct rs_pd_policy *policy, const struct rs_pd_view *view,
                       uint64_t now_ns, struct rs_pd_out *out);

/* RS_OK, or RS_EINVAL when the view breaks a rule stated on struct rs_pd_view. */
enum rs_err rs_pd_view_check(const struct rs_pd_view *view);

/*
 * Carries out a leader transfer or a peer change on the view, as a store would, keeping the
 * stores' region and leader counts: RS_EEPOCH for a stale epoch, RS_ENOTFOUND for an unknown
 * region or store, RS_EINVAL when the change does not fit (a transfer to a non-voter, adding
 * a present peer). A peer change increments conf_ver. Splits need new memory: the caller's.
 */
enum rs_err rs_pd_apply(struct rs_pd_view *view, const struct rs_pd_instruction *instruction);

/* One line, e.g. "transfer-leader region=5 epoch=1.2 to=3 by=rhea-leader-balance"; returns
 * what snprintf returns. */
int rs_pd_instruction_format(const struct rs_pd_instruction *instruction, char *text,
                             size_t text_size);

#endif
