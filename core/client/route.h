/* A client's routing table: which region serves a key, its epoch, and its last known leader. */
#ifndef RS_CORE_CLIENT_ROUTE_H
#define RS_CORE_CLIENT_ROUTE_H

#include "core/base.h"
#include "core/kv/kv.h"
#include "core/store/region.h"

/*
 * RheaKV's RegionRouteTable: regions ordered by start key, looked up by the greatest start key
 * at or below the key (a floor lookup). The table holds copies; a client refreshes an entry's
 * epoch from the answers it gets, and the whole table from the Placement Driver (or, in fake
 * PD mode, from the static configuration) when a range changed under it.
 */
struct rs_route_entry {
    struct rs_region region;
    rs_node_id leader; /* RS_NODE_NONE when unknown */
};

struct rs_route {
    struct rs_route_entry *entries; /* ordered by start key */
    size_t count;
    uint32_t *by_id; /* entry indexes ordered by region id, for rs_route_find */
};

/* Copies the regions (any order; their ranges must not overlap). */
void rs_route_init(struct rs_route *rt, const struct rs_region *regions, size_t count);
void rs_route_free(struct rs_route *rt);
/*
 * What a Placement Driver said, merged into the table (RheaKV's RegionRouteTable refresh): for
 * each region id the newer epoch wins (a new leader, when known, replaces the old guess); then,
 * where ranges overlap (one side saw a split the other did not), the region with the greater
 * epoch version holds the keys, since versions only grow along a key's history (a split gives
 * both halves the parent's new version). The table never goes back to older knowledge; it may
 * have gaps (a new half nobody reported yet), which rs_route_lookup reports as NULL. leaders[i]
 * is regions[i]'s (RS_NODE_NONE: unknown).
 */
void rs_route_merge(struct rs_route *rt, const struct rs_region *regions,
                    const rs_node_id *leaders, size_t count);
/* The entry whose range holds key, or NULL when no region covers it. */
struct rs_route_entry *rs_route_lookup(struct rs_route *rt, struct rs_bytes key);
struct rs_route_entry *rs_route_find(struct rs_route *rt, uint64_t region_id);

/*
 * Whether a replica of the region accepts the operation's keys: the same rule as the store's
 * (core/store/node.c): every key of a list, the whole range [key, end_key) of a scan,
 * reverse scan or delete range (an empty end_key needs the region to be open above), a lock's
 * fencing key, otherwise the key. An op whose list does not decode is held by no region.
 */

/* The entry that holds every key of op, or NULL when they span regions (or one has none). */
struct rs_route_entry *rs_route_lookup_op(struct rs_route *rt, const struct rs_kv_op *op);

/*
 * Request splitting (RheaKV's findRegionsByKeys and findRegionsByKeyRange): an operation whose
 * keys span regions runs as parts, one region each, taken one at a time in key order.
 *
 * rs_route_list_part: of a list (multi_get, batch put or delete, cas_all) whose entries not yet
 * `done` remain, the part of the region holding the smallest remaining key: take[i] is set for
 * every remaining entry that region holds (so a part keeps the list's order). Returns the
 * entry, or NULL when nothing remains, a remaining key has no region, or the list does not
 * decode. count is the list's entry count (at most RS_KV_BATCH_COUNT_MAX); done and take hold
 * count flags.
 *
 * rs_route_range_part: the part of [start, end) (an empty end: unbounded) served by one
 * region: forward, the region holding start, and the part [start, min(end, region end));
 * reverse, the region holding the greatest keys below end, and the part
 * [max(start, region start), end). The bounds are views into the arguments or into the
 * table (valid until it changes). NULL when no region covers the place.
 */
struct rs_route_entry *rs_route_list_part(struct rs_route *rt, unsigned opcode,
                                          struct rs_bytes list, uint32_t count, const bool *done,
                                          bool *take);
struct rs_route_entry *rs_route_range_part(struct rs_route *rt, struct rs_bytes start,
                                           struct rs_bytes end, bool reverse,
                                           struct rs_bytes *part_start,
                                           struct rs_bytes *part_end);

#endif
