/* The Placement Driver service: a cluster view from heartbeats, policies, instructions out. */
#ifndef RS_CORE_PD_SERVICE_H
#define RS_CORE_PD_SERVICE_H

#include "core/base.h"
#include "core/out.h"
#include "core/pd/msg.h"
#include "core/pd/policy.h"

/*
 * Sans-IO like a store: the host hands in frames and the time, and takes messages from `out`
 * (instruction frames to stores) after every call. The view lives in memory only; a restart is
 * a new service with an empty view rebuilt from the next heartbeats (RheaKV's
 * ClusterStatsManager). Everything is ordered by id, so the same calls give the same frames.
 */
#define RS_PD_SERVICE_STORES_MAX  64u    /* stores in the view; more are ignored */
#define RS_PD_SERVICE_REGIONS_MAX 4096u  /* regions in the view; more are ignored */
#define RS_PD_SERVICE_BATCH_MAX   16u    /* instructions one heartbeat or tick may give */

/* A split's new region id (0: none available, the split is dropped). */
typedef uint64_t (*rs_pd_alloc_region_fn)(void *ctx);
/* A region's descriptor entered the view with an epoch the view did not have (new, split or
 * changed members): the host may store it (the replicated PD keeps its metadata). */
typedef void (*rs_pd_region_changed_fn)(void *ctx, const struct rs_pd_region *r);

struct rs_pd_service_config {
    rs_node_id id;       /* the PD's own endpoint */
    const char *policy;  /* handler names, as rs_pd_policy_parse reads them */
    struct rs_pd_params params;
    uint64_t tick_ns;    /* tick handlers run this often (0: never) */
    /* no decision until this long after the service starts (a heartbeat period), so every
     * store has reported once: TiKV's PD waits for its "prepare checker" the same way */
    uint64_t warmup_ns;
    /* a store that sent nothing for this long is down in the view (0: never down) */
    uint64_t store_timeout_ns;
    rs_pd_alloc_region_fn alloc_region;
    void *alloc_ctx; /* handed to alloc_region and region_changed */
    rs_pd_region_changed_fn region_changed; /* NULL: nobody is told */
};

/* One instruction as sent: the host traces these (then calls rs_pd_service_clear_sent). */
struct rs_pd_sent {
    rs_node_id to;
    struct rs_pd_instruction instruction; /* split_key points into the service's memory */
};

struct rs_pd_service_stats {
    uint64_t heartbeats;          /* heartbeat frames taken in */
    uint64_t corrupt_frames;      /* frames that failed to decode */
    uint64_t stale_regions;       /* region heartbeats older than the view's: ignored */
    uint64_t dropped_regions;     /* regions or stores beyond the view's bounds */
    uint64_t ticks;
    uint64_t instructions_sent;
    uint64_t instructions_no_leader; /* tick instructions for a region with no known leader */
    uint64_t splits_without_id;   /* splits dropped: no region id to give */
    uint64_t policy_errors;       /* the policy refused the view (a bug if it happens) */
};

struct rs_pd_service {
    struct rs_pd_service_config cfg;
    struct rs_pd_policy *policy;
    struct rs_pd_store *stores;      /* sorted by id */
    uint64_t *store_seen_ns;         /* per store: its last heartbeat (0: never) */
    size_t store_count;
    struct rs_pd_region *regions;    /* sorted by id; start and end owned */
    size_t region_count, region_cap;
    uint64_t next_tick_ns;
    uint64_t decide_from_ns; /* the end of the warm-up */
    struct rs_out out;
    struct rs_pd_sent *sent;
    size_t sent_count, sent_cap;
    uint8_t *scratch;
    size_t scratch_cap;
    struct rs_pd_service_stats stats;
};

/* RS_OK, or RS_EINVAL with a message (an unknown policy name; see rs_pd_policy_parse). */
enum rs_err rs_pd_service_init(struct rs_pd_service *s, const struct rs_pd_service_config *cfg,
                               uint64_t now_ns, char *message, size_t message_size);
void rs_pd_service_free(struct rs_pd_service *s);
/* A frame from endpoint `from`: a store heartbeat; anything else is counted and dropped. */
void rs_pd_service_recv(struct rs_pd_service *s, uint64_t now_ns, rs_node_id from,
                        const uint8_t *frame, size_t size);
void rs_pd_service_tick(struct rs_pd_service *s, uint64_t now_ns);
/* Earliest time at which rs_pd_service_tick must run (UINT64_MAX: never). */
uint64_t rs_pd_service_deadline(const struct rs_pd_service *s);
void rs_pd_service_clear_sent(struct rs_pd_service *s);
/* A stored descriptor into the view (no leader, no statistics, region_changed not called):
 * a new PD leader starts from what the group stored, then heartbeats refresh it. False when
 * the view already has it at this epoch or newer, or it does not fit. */
bool rs_pd_service_load(struct rs_pd_service *s, const struct rs_pd_region *r);
/* An administrative instruction (pd-ctl's operators): sent to the region's leader as the view
 * knows it, at the view's epoch (set here), a split given its id first. RS_ENOTFOUND (no such region), RS_ENOTLEADER (its
 * leader unknown), RS_EBUSY (no region id to give a split). */
enum rs_err rs_pd_service_order(struct rs_pd_service *s, struct rs_pd_instruction *in);
/* The view as the policies see it (valid until the next call). */
struct rs_pd_view rs_pd_service_view(const struct rs_pd_service *s);

#endif
