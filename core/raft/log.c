/* The in-memory raft log, the record and meta formats, and recovery from segment files. */
#include "core/raft/log.h"

#include "core/raft/raft.h"
#include "core/wire/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define RECORD_MAGIC 0x454c5352u /* "RSLE" */
#define META_MAGIC   0x544d5352u /* "RSMT" */
#define META_VERSION 1u

void rs_log_init(struct rs_log *log)
{
    memset(log, 0, sizeof *log);
    log->first_index = 1;
}

void rs_log_free(struct rs_log *log)
{
    for (size_t i = 0; i < log->count; i++) {
        free(log->entries[i].data);
    }
    free(log->entries);
    rs_log_init(log);
}

rs_index rs_log_last_index(const struct rs_log *log)
{
    return log->first_index + log->count - 1;
}

rs_term rs_log_last_term(const struct rs_log *log)
{
    return log->count == 0 ? log->prev_term : log->entries[log->count - 1].term;
}

bool rs_log_has(const struct rs_log *log, rs_index index)
{
    return index >= log->first_index && index < log->first_index + log->count;
}

rs_term rs_log_term_at(const struct rs_log *log, rs_index index)
{
    if (index == 0) {
        return 0; /* before the first entry of every log */
    }
    if (index + 1 == log->first_index) {
        return log->prev_term;
    }
    RS_ASSERT(rs_log_has(log, index));
    return log->entries[index - log->first_index].term;
}

const struct rs_entry *rs_log_get(const struct rs_log *log, rs_index index)
{
    RS_ASSERT(rs_log_has(log, index));
    return &log->entries[index - log->first_index];
}

struct rs_entry *rs_log_append(struct rs_log *log, rs_term term, uint8_t type, const void *data,
                               uint32_t size)
{
    RS_ASSERT(term >= rs_log_last_term(log));
    if (log->count == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 1024;
        struct rs_entry *e = realloc(log->entries, cap * sizeof *e);
        RS_ASSERT(e != NULL);
        log->entries = e;
        log->cap = cap;
    }
    struct rs_entry *e = &log->entries[log->count++];
    memset(e, 0, sizeof *e);
    e->term = term;
    e->type = type;
    e->size = size;
    if (size > 0) {
        e->data = malloc(size);
        RS_ASSERT(e->data != NULL);
        memcpy(e->data, data, size);
    }
    return e;
}

void rs_log_truncate_suffix(struct rs_log *log, rs_index index)
{
    RS_ASSERT(index >= log->first_index);
    RS_ASSERT(index <= rs_log_last_index(log) + 1);
    size_t keep = (size_t)(index - log->first_index);
    for (size_t i = keep; i < log->count; i++) {
        free(log->entries[i].data);
    }
    log->count = keep;
}

void rs_log_compact(struct rs_log *log, rs_index index)
{
    if (index <= log->first_index) {
        return;
    }
    RS_ASSERT(index <= rs_log_last_index(log) + 1);
    size_t drop = (size_t)(index - log->first_index);
    log->prev_term = rs_log_term_at(log, index - 1);
    for (size_t i = 0; i < drop; i++) {
        free(log->entries[i].data);
    }
    memmove(log->entries, log->entries + drop, (log->count - drop) * sizeof *log->entries);
    log->count -= drop;
    log->first_index = index;
}

void rs_log_reset(struct rs_log *log, rs_index index, rs_term term)
{
    for (size_t i = 0; i < log->count; i++) {
        free(log->entries[i].data);
    }
    log->count = 0;
    log->first_index = index + 1;
    log->prev_term = term;
}

void rs_log_segment_name(rs_index first_index, char name[RS_FILE_NAME_MAX])
{
    snprintf(name, RS_FILE_NAME_MAX, "log-%016llx", (unsigned long long)first_index);
}

size_t rs_log_record_size(uint32_t payload_size)
{
    return RS_LOG_RECORD_HEADER + payload_size + RS_LOG_RECORD_TRAILER;
}

void rs_log_record_encode(uint8_t *dst, rs_index index, rs_term term, uint8_t type,
                          rs_index synced, const uint8_t *payload, uint32_t payload_size)
{
    memset(dst, 0, RS_LOG_RECORD_HEADER);
    rs_put_u32(dst, RECORD_MAGIC);
    rs_put_u32(dst + 4, payload_size);
    rs_put_u64(dst + 8, index);
    rs_put_u64(dst + 16, term);
    dst[24] = type;
    rs_put_u64(dst + 32, synced);
    if (payload_size > 0) {
        memcpy(dst + RS_LOG_RECORD_HEADER, payload, payload_size);
    }
    size_t body = RS_LOG_RECORD_HEADER + payload_size;
    rs_put_u64(dst + body, XXH64(dst, body, 0));
}

void rs_meta_encode(uint8_t dst[RS_META_SLOT_SIZE], const struct rs_meta *meta)
{
    memset(dst, 0, RS_META_SLOT_SIZE);
    rs_put_u32(dst, META_MAGIC);
    rs_put_u32(dst + 4, META_VERSION);
    rs_put_u64(dst + 8, meta->seq);
    rs_put_u64(dst + 16, meta->term);
    rs_put_u32(dst + 24, meta->voted_for);
    rs_put_u64(dst + 32, XXH64(dst, 32, 0));
}

static bool meta_slot_decode(const uint8_t *slot, struct rs_meta *meta)
{
    if (rs_get_u32(slot) != META_MAGIC || rs_get_u32(slot + 4) != META_VERSION) {
        return false;
    }
    if (rs_get_u64(slot + 32) != XXH64(slot, 32, 0)) {
        return false;
    }
    meta->seq = rs_get_u64(slot + 8);
    meta->term = rs_get_u64(slot + 16);
    meta->voted_for = rs_get_u32(slot + 24);
    return true;
}

enum rs_err rs_meta_decode(const uint8_t *data, size_t size, struct rs_meta *meta)
{
    struct rs_meta best = {0};
    bool found = false;
    for (size_t slot = 0; slot < 2; slot++) {
        struct rs_meta m;
        size_t at = slot * RS_META_SLOT_SIZE;
        if (size >= at + RS_META_SLOT_SIZE && meta_slot_decode(data + at, &m)) {
            if (!found || m.seq > best.seq) {
                best = m;
                found = true;
            }
        }
    }
    if (!found) {
        return RS_ENOTFOUND;
    }
    *meta = best;
    return RS_OK;
}

/* Parses "log-<16 hex>"; returns false for any other name. */
static bool segment_first_index(const char *name, rs_index *first)
{
    if (strncmp(name, "log-", 4) != 0 || strlen(name) != 20) {
        return false;
    }
    return rs_hex16_parse(name + 4, first) && *first >= 1;
}

/* Validates the record at data[pos]; returns its total size, 0 if it is not a valid record. */
static size_t record_check(const uint8_t *data, size_t size, size_t pos, rs_index expect_index)
{
    if (size - pos < RS_LOG_RECORD_HEADER + RS_LOG_RECORD_TRAILER) {
        return 0;
    }
    const uint8_t *h = data + pos;
    uint32_t payload = rs_get_u32(h + 4);
    if (rs_get_u32(h) != RECORD_MAGIC || payload > RS_ENTRY_SIZE_MAX) {
        return 0;
    }
    size_t total = rs_log_record_size(payload);
    if (size - pos < total) {
        return 0;
    }
    size_t body = RS_LOG_RECORD_HEADER + payload;
    if (rs_get_u64(h + body) != XXH64(h, body, 0)) {
        return 0;
    }
    if (rs_get_u64(h + 8) != expect_index) {
        return 0;
    }
    uint8_t type = h[24];
    if (type < RS_ENTRY_DATA || type > RS_ENTRY_NOOP) {
        return 0;
    }
    return total;
}

/* A valid record after the bad one at expect whose writer knew entry expect was already
 * synced? Then the bad record was durable and is damaged, not torn: unsynced writes are the
 * only thing a crash may tear, and they all come after the last sync. */
static bool synced_record_follows(const struct rs_file_view *files, const size_t *order,
                                  size_t seg, size_t seg_count, size_t pos, rs_index expect)
{
    const struct rs_file_view *f = &files[order[seg]];
    for (size_t at = pos + 1; at + RS_LOG_RECORD_HEADER + RS_LOG_RECORD_TRAILER <= f->size; at++) {
        if (rs_get_u32(f->data + at) == RECORD_MAGIC &&
            record_check(f->data, f->size, at, rs_get_u64(f->data + at + 8)) != 0) {
            return rs_get_u64(f->data + at + 32) >= expect;
        }
    }
    for (size_t s = seg + 1; s < seg_count; s++) {
        const struct rs_file_view *g = &files[order[s]];
        if (g->size >= RS_LOG_RECORD_HEADER &&
            record_check(g->data, g->size, 0, rs_get_u64(g->data + 8)) != 0) {
            return rs_get_u64(g->data + 32) >= expect;
        }
    }
    return false;
}

/* Sorts segment file slots by first index (insertion sort: the count is bounded and small). */
static size_t collect_segments(const struct rs_file_view *files, size_t file_count,
                               size_t *order, rs_index *firsts)
{
    size_t n = 0;
    for (size_t i = 0; i < file_count && n < RS_LOG_SEGMENTS_MAX; i++) {
        rs_index first;
        if (!segment_first_index(files[i].name, &first)) {
            continue;
        }
        size_t j = n++;
        while (j > 0 && firsts[j - 1] > first) {
            firsts[j] = firsts[j - 1];
            order[j] = order[j - 1];
            j--;
        }
        firsts[j] = first;
        order[j] = i;
    }
    return n;
}

struct rs_segment *rs_log_store_push(struct rs_log_store *store)
{
    RS_ASSERT(store->segment_count < RS_LOG_SEGMENTS_MAX);
    if (store->segment_count == store->segment_cap) {
        uint32_t cap = store->segment_cap ? store->segment_cap * 2 : 4;
        cap = cap < RS_LOG_SEGMENTS_MAX ? cap : RS_LOG_SEGMENTS_MAX;
        store->segments = realloc(store->segments, cap * sizeof *store->segments);
        RS_ASSERT(store->segments != NULL);
        store->segment_cap = cap;
    }
    return &store->segments[store->segment_count++];
}

void rs_log_store_free(struct rs_log_store *store)
{
    free(store->segments);
    store->segments = NULL;
    store->segment_count = store->segment_cap = 0;
}

static void recovery_cut(struct rs_log_store *store, const struct rs_file_view *files,
                         const size_t *order, size_t seg, size_t seg_count, uint64_t offset,
                         struct rs_out *out, struct rs_log_recovery *rec)
{
    const struct rs_file_view *f = &files[order[seg]];
    rec->cut = true;
    rec->cut_segment = (uint32_t)seg;
    rec->cut_offset = offset;
    snprintf(rec->detail, sizeof rec->detail, "%s: bad record at byte %llu of %zu", f->name,
             (unsigned long long)offset, f->size);
    rs_out_disk_op(out, RS_DISK_TRUNCATE, f->name, NULL, offset, NULL, 0);
    rs_out_disk_op(out, RS_DISK_SYNC, f->name, NULL, 0, NULL, 0);
    store->segments[seg].size_bytes = offset;
    for (size_t s = seg + 1; s < seg_count; s++) {
        rs_out_disk_op(out, RS_DISK_REMOVE, files[order[s]].name, NULL, 0, NULL, 0);
        rec->segments_dropped++;
    }
    store->segment_count = (uint32_t)seg + 1;
}

enum rs_err rs_log_recover(struct rs_log *log, struct rs_log_store *store,
                           const struct rs_file_view *files, size_t file_count,
                           struct rs_out *out, struct rs_log_recovery *rec)
{
    memset(rec, 0, sizeof *rec);
    RS_ASSERT(log->count == 0);
    size_t *order = calloc(RS_LOG_SEGMENTS_MAX, sizeof *order);
    rs_index *firsts = calloc(RS_LOG_SEGMENTS_MAX, sizeof *firsts);
    RS_ASSERT(order != NULL && firsts != NULL);
    size_t seg_count = collect_segments(files, file_count, order, firsts);
    store->segment_count = 0;
    if (seg_count == 0) {
        free(order);
        free(firsts);
        return RS_OK;
    }
    log->first_index = firsts[0];
    rs_index expect = firsts[0];
    for (size_t s = 0; s < seg_count; s++) {
        const struct rs_file_view *f = &files[order[s]];
        struct rs_segment *seg = rs_log_store_push(store); /* the (s+1)-th */
        seg->first_index = firsts[s];
        seg->size_bytes = f->size;
        seg->dirty = false;
        if (firsts[s] != expect) {
            /* a gap between segments: everything from here on is unusable */
            recovery_cut(store, files, order, s, seg_count, 0, out, rec);
            break;
        }
        size_t pos = 0;
        while (pos < f->size) {
            size_t total = record_check(f->data, f->size, pos, expect);
            const uint8_t *h = f->data + pos;
            if (total == 0 || rs_get_u64(h + 16) < rs_log_last_term(log)) {
                break; /* damaged, or a term going backwards: not a record we wrote */
            }
            struct rs_entry *e = rs_log_append(log, rs_get_u64(h + 16), h[24],
                                               h + RS_LOG_RECORD_HEADER, rs_get_u32(h + 4));
            e->segment_first = firsts[s];
            e->offset = pos;
            pos += total;
            expect++;
        }
        if (pos < f->size) {
            if (synced_record_follows(files, order, s, seg_count, pos, expect)) {
                /* a bad record with good ones after it is not a torn tail: the disk lost or
                 * damaged synced data; refuse to guess (SQLite's CORRUPT_BKPT spirit) */
                snprintf(rec->detail, sizeof rec->detail,
                         "%s: corrupt record at byte %zu (entry %llu, synced before later records)",
                         f->name, pos, (unsigned long long)expect);
                free(order);
                free(firsts);
                return RS_ECORRUPT;
            }
            recovery_cut(store, files, order, s, seg_count, pos, out, rec);
            break;
        }
    }
    rec->last_index = rs_log_last_index(log);
    free(order);
    free(firsts);
    return RS_OK;
}
