/* A client's routing table: which region serves a key, its epoch, and its last known leader. */
#ifndef RS_CORE_CLIENT_ROUTE_H
#define RS_CORE_CLIENT_ROUTE_H

#include "core/base.h"
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
};

/* Copies the regions (any order; their ranges must not overlap). */
void rs_route_init(struct rs_route *rt, const struct rs_region *regions, size_t count);
void rs_route_free(struct rs_route *rt);
/* The entry whose range holds key, or NULL when no region covers it. */
struct rs_route_entry *rs_route_lookup(struct rs_route *rt, struct rs_bytes key);
struct rs_route_entry *rs_route_find(struct rs_route *rt, uint64_t region_id);

#endif
