/* The routing table: a sorted array of regions searched by key. */
#include "core/client/route.h"

#include <stdlib.h>
#include <string.h>

void rs_route_init(struct rs_route *rt, const struct rs_region *regions, size_t count)
{
    rt->entries = calloc(count ? count : 1, sizeof *rt->entries);
    RS_ASSERT(rt->entries != NULL);
    rt->count = count;
    for (size_t i = 0; i < count; i++) {
        /* insertion by start key: tables are small and built once */
        size_t at = i;
        struct rs_bytes start = {regions[i].start, regions[i].start_size};
        while (at > 0) {
            const struct rs_region *prev = &rt->entries[at - 1].region;
            if (rs_key_compare((struct rs_bytes){prev->start, prev->start_size}, start) <= 0) {
                break;
            }
            rt->entries[at] = rt->entries[at - 1];
            at--;
        }
        memset(&rt->entries[at], 0, sizeof rt->entries[at]);
        rs_region_copy(&rt->entries[at].region, &regions[i]);
    }
}

void rs_route_free(struct rs_route *rt)
{
    for (size_t i = 0; i < rt->count; i++) {
        rs_region_free(&rt->entries[i].region);
    }
    free(rt->entries);
    memset(rt, 0, sizeof *rt);
}

struct rs_route_entry *rs_route_lookup(struct rs_route *rt, struct rs_bytes key)
{
    /* the last entry whose start is at or below key */
    size_t lo = 0, hi = rt->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct rs_region *r = &rt->entries[mid].region;
        if (rs_key_compare((struct rs_bytes){r->start, r->start_size}, key) <= 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0) {
        return NULL;
    }
    struct rs_route_entry *e = &rt->entries[lo - 1];
    return rs_region_contains(&e->region, key) ? e : NULL;
}

struct rs_route_entry *rs_route_find(struct rs_route *rt, uint64_t region_id)
{
    for (size_t i = 0; i < rt->count; i++) {
        if (rt->entries[i].region.id == region_id) {
            return &rt->entries[i];
        }
    }
    return NULL;
}
