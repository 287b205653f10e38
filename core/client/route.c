/* The routing table: a sorted array of regions searched by key. */
#include "core/client/route.h"

#include "core/kv/kv_cmd.h"

#include <stdlib.h>
#include <string.h>

/* Start keys are distinct (ranges do not overlap), so the order is total: qsort cannot make
 * it depend on its algorithm. */
static int compare_start(const void *a, const void *b)
{
    const struct rs_region *x = &((const struct rs_route_entry *)a)->region;
    const struct rs_region *y = &((const struct rs_route_entry *)b)->region;
    return rs_key_compare((struct rs_bytes){x->start, x->start_size},
                          (struct rs_bytes){y->start, y->start_size});
}

/* qsort's context: the entries the id index points into (set only while sorting). */
static const struct rs_route_entry *sorting_entries;

static int compare_id(const void *a, const void *b)
{
    uint64_t x = sorting_entries[*(const uint32_t *)a].region.id;
    uint64_t y = sorting_entries[*(const uint32_t *)b].region.id;
    return x < y ? -1 : (x > y ? 1 : 0);
}

void rs_route_init(struct rs_route *rt, const struct rs_region *regions, size_t count)
{
    rt->entries = calloc(count ? count : 1, sizeof *rt->entries);
    rt->by_id = calloc(count ? count : 1, sizeof *rt->by_id);
    RS_ASSERT(rt->entries != NULL && rt->by_id != NULL);
    rt->count = count;
    for (size_t i = 0; i < count; i++) {
        rs_region_copy(&rt->entries[i].region, &regions[i]);
    }
    /* O(n log n): a client's table may hold thousands of regions, rebuilt after splits */
    qsort(rt->entries, count, sizeof *rt->entries, compare_start);
    for (size_t i = 0; i < count; i++) {
        rt->by_id[i] = (uint32_t)i;
    }
    sorting_entries = rt->entries;
    qsort(rt->by_id, count, sizeof *rt->by_id, compare_id); /* ids are distinct */
    sorting_entries = NULL;
}

static struct rs_bytes region_start(const struct rs_region *r)
{
    return (struct rs_bytes){r->start, r->start_size};
}

static struct rs_bytes region_end(const struct rs_region *r)
{
    return (struct rs_bytes){r->end, r->end_size};
}

/* A candidate of a merge: a region from the table or from the answer, and its leader. */
struct candidate {
    const struct rs_region *region;
    rs_node_id leader;
    uint32_t order; /* its place in the input, to break the last ties */
};

static int compare_epoch_newer(struct rs_region_epoch a, struct rs_region_epoch b)
{
    if (a.version != b.version) {
        return a.version > b.version ? -1 : 1;
    }
    return a.conf_ver > b.conf_ver ? -1 : (a.conf_ver < b.conf_ver ? 1 : 0);
}

/* By id, then the newest epoch first, then the answer before the table. */
static int compare_candidate_id(const void *a, const void *b)
{
    const struct candidate *x = a, *y = b;
    if (x->region->id != y->region->id) {
        return x->region->id < y->region->id ? -1 : 1;
    }
    int c = compare_epoch_newer(x->region->epoch, y->region->epoch);
    return c != 0 ? c : (x->order < y->order ? -1 : (x->order > y->order ? 1 : 0));
}

/* By start key, then the greater version first (ids are distinct after the first pass). */
static int compare_candidate_start(const void *a, const void *b)
{
    const struct candidate *x = a, *y = b;
    int c = rs_key_compare(region_start(x->region), region_start(y->region));
    if (c != 0) {
        return c;
    }
    c = compare_epoch_newer(x->region->epoch, y->region->epoch);
    return c != 0 ? c : (x->region->id < y->region->id ? -1 : 1);
}

/* Whether a, which starts at or before b, reaches into b. */
static bool reaches_into(const struct rs_region *a, const struct rs_region *b)
{
    return a->end_size == 0 || rs_key_compare(region_end(a), region_start(b)) > 0;
}

/* Keeps, of candidates sorted by start, a set without overlaps: of two that overlap, the one
 * with the greater version. Returns the count kept (at the front). */
static size_t drop_overlaps(struct candidate *c, size_t count)
{
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        if (kept > 0 && reaches_into(c[kept - 1].region, c[i].region)) {
            if (c[i].region->epoch.version <= c[kept - 1].region->epoch.version) {
                continue; /* the one kept is newer there */
            }
            kept--; /* the earlier one kept ended before this one's start: no overlap left */
        }
        c[kept++] = c[i];
    }
    return kept;
}

void rs_route_merge(struct rs_route *rt, const struct rs_region *regions,
                    const rs_node_id *leaders, size_t count)
{
    size_t total = count + rt->count;
    struct candidate *c = calloc(total ? total : 1, sizeof *c);
    RS_ASSERT(c != NULL);
    for (size_t i = 0; i < count; i++) {
        c[i] = (struct candidate){&regions[i], leaders[i], (uint32_t)i};
    }
    for (size_t i = 0; i < rt->count; i++) {
        c[count + i] = (struct candidate){&rt->entries[i].region, rt->entries[i].leader,
                                          (uint32_t)(count + i)};
    }
    qsort(c, total, sizeof *c, compare_candidate_id);
    size_t unique = 0;
    for (size_t i = 0; i < total; i++) {
        if (unique > 0 && c[unique - 1].region->id == c[i].region->id) {
            bool same = rs_region_epoch_equal(c[unique - 1].region->epoch, c[i].region->epoch);
            if (same && c[unique - 1].leader == RS_NODE_NONE) {
                c[unique - 1].leader = c[i].leader; /* the table's guess beats none */
            }
            continue;
        }
        c[unique++] = c[i];
    }
    qsort(c, unique, sizeof *c, compare_candidate_start);
    size_t kept = drop_overlaps(c, unique);
    struct rs_region *chosen = calloc(kept ? kept : 1, sizeof *chosen);
    RS_ASSERT(chosen != NULL);
    for (size_t i = 0; i < kept; i++) {
        rs_region_copy(&chosen[i], c[i].region);
    }
    struct rs_route next;
    rs_route_init(&next, chosen, kept);
    for (size_t i = 0; i < kept; i++) {
        rs_route_find(&next, chosen[i].id)->leader = c[i].leader;
        rs_region_free(&chosen[i]);
    }
    free(chosen);
    free(c);
    rs_route_free(rt);
    *rt = next;
}

void rs_route_free(struct rs_route *rt)
{
    for (size_t i = 0; i < rt->count; i++) {
        rs_region_free(&rt->entries[i].region);
    }
    free(rt->entries);
    free(rt->by_id);
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
    size_t lo = 0, hi = rt->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t id = rt->entries[rt->by_id[mid]].region.id;
        if (id < region_id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < rt->count && rt->entries[rt->by_id[lo]].region.id == region_id
               ? &rt->entries[rt->by_id[lo]]
               : NULL;
}


/* The key a region is found by: a list's first key, a range's start, else the key. */
static bool routing_key(const struct rs_kv_op *op, struct rs_bytes *key)
{
    bool listed = op->opcode == RS_KV_MULTI_GET || op->opcode == RS_KV_BATCH_PUT ||
                  op->opcode == RS_KV_BATCH_DELETE || op->opcode == RS_KV_CAS_ALL;
    if (!listed) {
        *key = op->key;
        return true;
    }
    if (rs_kv_list_check(op->opcode, op->list) != RS_OK) {
        return false;
    }
    struct rs_kv_iter it;
    struct rs_kv_entry e;
    rs_kv_list_begin(&it, op->opcode, op->list);
    bool any = rs_kv_iter_next(&it, &e);
    RS_ASSERT(any); /* a checked list has at least one entry */
    *key = e.key;
    return true;
}

struct rs_route_entry *rs_route_lookup_op(struct rs_route *rt, const struct rs_kv_op *op)
{
    struct rs_bytes key;
    if (!routing_key(op, &key)) {
        return NULL;
    }
    struct rs_route_entry *e = rs_route_lookup(rt, key);
    return e != NULL && rs_region_holds_op(&e->region, op) ? e : NULL;
}

struct rs_route_entry *rs_route_list_part(struct rs_route *rt, unsigned opcode,
                                          struct rs_bytes list, uint32_t count, const bool *done,
                                          bool *take)
{
    RS_ASSERT(count <= RS_KV_BATCH_COUNT_MAX);
    struct rs_bytes keys[RS_KV_BATCH_COUNT_MAX];
    struct rs_kv_iter it;
    struct rs_kv_entry e;
    if (rs_kv_list_check(opcode, list) != RS_OK ||
        rs_kv_list_begin(&it, opcode, list) != count) {
        return NULL;
    }
    int smallest = -1;
    for (uint32_t i = 0; i < count && rs_kv_iter_next(&it, &e); i++) {
        keys[i] = e.key;
        take[i] = false;
        if (!done[i] && (smallest < 0 || rs_key_compare(e.key, keys[smallest]) < 0)) {
            smallest = (int)i;
        }
    }
    if (smallest < 0) {
        return NULL; /* nothing remains */
    }
    struct rs_route_entry *entry = rs_route_lookup(rt, keys[smallest]);
    if (entry == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < count; i++) {
        take[i] = !done[i] && rs_region_contains(&entry->region, keys[i]);
    }
    RS_ASSERT(take[smallest]);
    return entry;
}

/* Reverse: the last entry whose start lies below end (every entry when end is unbounded). */
static struct rs_route_entry *lookup_below(struct rs_route *rt, struct rs_bytes end)
{
    if (end.size == 0) {
        return rt->count > 0 ? &rt->entries[rt->count - 1] : NULL;
    }
    size_t lo = 0, hi = rt->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rs_key_compare(region_start(&rt->entries[mid].region), end) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo > 0 ? &rt->entries[lo - 1] : NULL;
}

struct rs_route_entry *rs_route_range_part(struct rs_route *rt, struct rs_bytes start,
                                           struct rs_bytes end, bool reverse,
                                           struct rs_bytes *part_start,
                                           struct rs_bytes *part_end)
{
    if (end.size > 0 && rs_key_compare(start, end) >= 0) {
        /* an empty range ([k, k) say): the region of its start answers it whole */
        *part_start = start;
        *part_end = end;
        return rs_route_lookup(rt, start);
    }
    struct rs_route_entry *e = reverse ? lookup_below(rt, end) : rs_route_lookup(rt, start);
    if (e == NULL) {
        return NULL;
    }
    const struct rs_region *r = &e->region;
    struct rs_bytes rend = region_end(r);
    if (reverse) {
        /* the region must reach up to end (or be open when end is) */
        bool reaches = rend.size == 0 || (end.size > 0 && rs_key_compare(end, rend) <= 0);
        if (!reaches) {
            return NULL;
        }
        bool inside = rs_key_compare(start, region_start(r)) >= 0;
        *part_start = inside ? start : region_start(r);
        *part_end = end;
    } else {
        bool inside = rend.size == 0 || (end.size > 0 && rs_key_compare(end, rend) <= 0);
        *part_start = start;
        *part_end = inside ? end : rend;
    }
    RS_ASSERT(rs_region_holds_range(r, *part_start, *part_end));
    return e;
}
