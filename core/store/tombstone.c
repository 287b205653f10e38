/* Tombstones of destroyed region replicas: the set, its checksummed file, the removal notice. */
#include "core/store/tombstone.h"

#include "core/wire/codec.h"
#include "core/wire/frame.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define FILE_MAGIC         0x42545352u /* "RSTB" */
#define FILE_VERSION       1u
#define FILE_HEADER_SIZE   16u
#define FILE_ENTRY_SIZE    32u
#define FILE_CHECKSUM_SIZE 8u

void rs_tombstones_init(struct rs_tombstones *t)
{
    memset(t, 0, sizeof *t);
}

void rs_tombstones_free(struct rs_tombstones *t)
{
    free(t->items);
    memset(t, 0, sizeof *t);
}

/* The index of the first tombstone whose region id is >= id. */
static size_t lower_bound(const struct rs_tombstones *t, uint64_t id)
{
    size_t lo = 0, hi = t->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->items[mid].region_id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

struct rs_tombstone *rs_tombstones_find(const struct rs_tombstones *t, uint64_t region_id)
{
    size_t i = lower_bound(t, region_id);
    return i < t->count && t->items[i].region_id == region_id ? &t->items[i] : NULL;
}

void rs_tombstones_put(struct rs_tombstones *t, const struct rs_tombstone *e)
{
    RS_ASSERT(e->region_id != 0);
    RS_ASSERT(e->state == RS_TOMBSTONE_DESTROYED || e->state == RS_TOMBSTONE_REVIVED);
    size_t at = lower_bound(t, e->region_id);
    if (at < t->count && t->items[at].region_id == e->region_id) {
        t->items[at] = *e;
        return;
    }
    if (t->count == RS_TOMBSTONES_MAX) {
        memmove(t->items, t->items + 1, (t->count - 1) * sizeof *t->items); /* the lowest id */
        t->count--;
        at = at > 0 ? at - 1 : 0;
    }
    if (t->count == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->items = realloc(t->items, t->cap * sizeof *t->items);
        RS_ASSERT(t->items != NULL);
    }
    memmove(t->items + at + 1, t->items + at, (t->count - at) * sizeof *t->items);
    t->items[at] = *e;
    t->count++;
}

bool rs_tombstones_drop(struct rs_tombstones *t, uint64_t region_id)
{
    size_t at = lower_bound(t, region_id);
    if (at == t->count || t->items[at].region_id != region_id) {
        return false;
    }
    memmove(t->items + at, t->items + at + 1, (t->count - at - 1) * sizeof *t->items);
    t->count--;
    return true;
}

size_t rs_tombstones_file_size(const struct rs_tombstones *t)
{
    return FILE_HEADER_SIZE + t->count * FILE_ENTRY_SIZE + FILE_CHECKSUM_SIZE;
}

void rs_tombstones_encode(const struct rs_tombstones *t, uint8_t *out, size_t size)
{
    RS_ASSERT(size == rs_tombstones_file_size(t));
    memset(out, 0, size);
    rs_put_u32(out, FILE_MAGIC);
    rs_put_u16(out + 4, FILE_VERSION);
    rs_put_u32(out + 8, (uint32_t)t->count);
    for (size_t i = 0; i < t->count; i++) {
        uint8_t *p = out + FILE_HEADER_SIZE + i * FILE_ENTRY_SIZE;
        const struct rs_tombstone *e = &t->items[i];
        rs_put_u64(p, e->region_id);
        rs_put_u64(p + 8, e->conf_ver);
        rs_put_u64(p + 16, e->term);
        p[24] = e->state;
    }
    size_t body = size - FILE_CHECKSUM_SIZE;
    rs_put_u64(out + body, XXH64(out, body, 0));
}

/* One entry; false when malformed (a state we do not know, reserved bytes set). */
static bool entry_read(const uint8_t *p, struct rs_tombstone *e)
{
    e->region_id = rs_get_u64(p);
    e->conf_ver = rs_get_u64(p + 8);
    e->term = rs_get_u64(p + 16);
    e->state = p[24];
    bool state_ok = e->state == RS_TOMBSTONE_DESTROYED || e->state == RS_TOMBSTONE_REVIVED;
    for (int i = 25; i < 32; i++) {
        state_ok = state_ok && p[i] == 0;
    }
    return state_ok && e->region_id != 0;
}

enum rs_err rs_tombstones_decode(struct rs_tombstones *t, const uint8_t *data, size_t size)
{
    t->count = 0;
    if (size < FILE_HEADER_SIZE + FILE_CHECKSUM_SIZE || rs_get_u32(data) != FILE_MAGIC ||
        rs_get_u16(data + 4) != FILE_VERSION || rs_get_u16(data + 6) != 0 ||
        rs_get_u32(data + 12) != 0) {
        return RS_ECORRUPT;
    }
    uint32_t count = rs_get_u32(data + 8);
    if (count > RS_TOMBSTONES_MAX ||
        size != FILE_HEADER_SIZE + (size_t)count * FILE_ENTRY_SIZE + FILE_CHECKSUM_SIZE) {
        return RS_ECORRUPT;
    }
    size_t body = size - FILE_CHECKSUM_SIZE;
    if (XXH64(data, body, 0) != rs_get_u64(data + body)) {
        return RS_ECORRUPT;
    }
    uint64_t last_id = 0;
    for (uint32_t i = 0; i < count; i++) {
        struct rs_tombstone e;
        if (!entry_read(data + FILE_HEADER_SIZE + (size_t)i * FILE_ENTRY_SIZE, &e) ||
            e.region_id <= last_id) {
            t->count = 0; /* ids must ascend: a file we did not write */
            return RS_ECORRUPT;
        }
        last_id = e.region_id;
        rs_tombstones_put(t, &e);
    }
    RS_ASSERT(t->count == count);
    return RS_OK;
}

size_t rs_removed_notice_encode(uint8_t out[RS_REMOVED_NOTICE_SIZE], rs_node_id peer)
{
    uint8_t body[8];
    rs_put_u32(body, peer);
    rs_put_u32(body + 4, 0);
    size_t size = rs_frame_encode(out, RS_REMOVED_NOTICE_SIZE, RS_MSG_PEER_REMOVED, body,
                                  sizeof body);
    RS_ASSERT(size == RS_REMOVED_NOTICE_SIZE);
    return size;
}

enum rs_err rs_removed_notice_decode(struct rs_bytes inner, rs_node_id *peer)
{
    unsigned type;
    struct rs_bytes body;
    if (rs_frame_decode(inner.data, inner.size, &type, &body) != RS_OK ||
        type != RS_MSG_PEER_REMOVED || body.size != 8 || rs_get_u32(body.data + 4) != 0) {
        return RS_ECORRUPT;
    }
    *peer = rs_get_u32(body.data);
    return RS_OK;
}
