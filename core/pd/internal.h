/* What the policy files share: the call context, scratch memory and the emit rule. */
#ifndef RS_CORE_PD_INTERNAL_H
#define RS_CORE_PD_INTERNAL_H

#include "core/pd/policy.h"

#define RS_PD__NONE UINT32_MAX

/* A region with an instruction out: the view it was decided on, to see when it took effect. */
struct rs_pd__move {
    uint64_t region_id;
    uint64_t issued_ns;
    struct rs_region_epoch epoch;
    rs_node_id leader;
    rs_node_id then_remove; /* an added voter's counterpart: the store to remove it from */
    enum rs_pd_kind kind;
    enum rs_pd_change change;
    rs_node_id store; /* the instruction's store_id */
};

/*
 * Per-call scratch, grown to the view's size and reused, so a pass allocates nothing once the
 * cluster stops growing. Per store: a (index + 1 entries) and b..e; per region: used, and
 * led (regions grouped by leader store, with led_start per store).
 */
struct rs_pd__scratch {
    size_t store_cap;
    size_t region_cap;
    uint64_t *a;
    uint64_t *b;
    uint32_t *c;
    uint32_t *d;
    uint32_t *e;
    uint32_t *led_start;
    uint32_t *led;
    uint8_t *used;
};

struct rs_pd_policy {
    struct rs_pd_params params;
    uint32_t handlers[RS_PD_HANDLERS_MAX];
    size_t handler_count;
    /* moves in flight, sorted by region id */
    struct rs_pd__move *moves;
    size_t move_count, move_cap;
    /* RheaKV's leader table keys: stores that sent a region heartbeat, sorted */
    rs_node_id *reporters;
    size_t reporter_count, reporter_cap;
    struct rs_pd__scratch scratch;
};

struct rs_pd__ctx {
    struct rs_pd_policy *policy;
    const struct rs_pd_view *view;
    uint64_t now_ns;
    struct rs_pd_out *out;
    size_t budget; /* instructions this call may still give */
    uint32_t handler;
    /* a heartbeat's sender and regions; none in a tick */
    rs_node_id from;
    const uint64_t *region_ids;
    size_t region_id_count;
};

typedef void (*rs_pd__handler_fn)(struct rs_pd__ctx *ctx);

/* policy.c */
uint32_t rs_pd__store_index(const struct rs_pd_view *view, rs_node_id id);
uint32_t rs_pd__region_index(const struct rs_pd_view *view, uint64_t id);
bool rs_pd__region_has_voter(const struct rs_pd_region *r, rs_node_id id);
bool rs_pd__region_has_peer(const struct rs_pd_region *r, rs_node_id id);
/* The region may get an instruction now: none this call, none in flight, none cooling down. */
bool rs_pd__region_free(const struct rs_pd__ctx *ctx, uint32_t region_index);
/* Fills the epoch and handler, records the move, and appends it; false when out of budget. */
bool rs_pd__emit(struct rs_pd__ctx *ctx, uint32_t region_index, struct rs_pd_instruction *in);
/*
 * A move still in flight (the view does not show it yet, and it has not timed out): the
 * handlers count its expected effect, as TiKV's PD counts operator influence, so a pass
 * does not pile more moves onto a store that already has some coming. Sets *region_index.
 */
bool rs_pd__move_inflight(const struct rs_pd__ctx *ctx, const struct rs_pd__move *m,
                          uint32_t *region_index);
/* Remembers which replica a move that added one meant to remove next (while in flight). */
void rs_pd__note_then_remove(struct rs_pd__ctx *ctx, uint64_t region_id, rs_node_id store);
rs_node_id rs_pd__then_remove(const struct rs_pd__ctx *ctx, uint64_t region_id);
void rs_pd__transfer(struct rs_pd_instruction *in, rs_node_id to);
void rs_pd__change(struct rs_pd_instruction *in, enum rs_pd_change change, rs_node_id store);
/* Groups regions by leader (scratch led/led_start) and counts leaders per store into a. */
void rs_pd__count_leaders(struct rs_pd__ctx *ctx);
/* Replicas (voters and learners) per store into a. */
void rs_pd__count_replicas(struct rs_pd__ctx *ctx);

/* rhea.c */
void rs_pd__rhea_leader_balance(struct rs_pd__ctx *ctx);
void rs_pd__rhea_split_judge(struct rs_pd__ctx *ctx);
/* leader_count.c */
void rs_pd__leader_count(struct rs_pd__ctx *ctx);
/* replicas.c */
void rs_pd__region_count(struct rs_pd__ctx *ctx);
void rs_pd__load(struct rs_pd__ctx *ctx);

#endif
