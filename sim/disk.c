/* The simulated disk: current content per file, an undo copy of each dirty block, crash tears,
 * injected errors, capacity, slowness and bit rot. */
#include "sim/disk.h"

#include <stdlib.h>
#include <string.h>

/* Pool buffers are allocated this many at a time. */
#define POOL_CHUNK_BLOCKS 32u
#define DATA_CAP_MIN      256u

/*
 * A dirty block: written since the file's last sync. saved holds the block's durable content
 * (block_size bytes, zeros beyond the durable length), or is NULL when that content is all
 * zeros (the block lay wholly beyond the durable length when first written).
 */
struct disk_dirty {
    uint64_t block_index;
    uint8_t *saved;
};

/*
 * Invariants: synced_size <= durable_size <= size <= cap; a block that is not dirty has the
 * same current and durable content (so its bytes at or beyond durable_size are zeros);
 * dirty_bits has a bit set exactly for the blocks listed in dirty[0..dirty_count).
 */
struct rs_disk_file {
    char name[RS_DISK_NAME_MAX + 1];
    uint8_t *data;
    uint64_t size;
    uint64_t cap;
    uint64_t durable_size;
    uint64_t synced_size; /* durable through a sync or truncate, not a crash's kept blocks */
    uint64_t *dirty_bits;
    size_t dirty_bits_words;
    struct disk_dirty *dirty;
    size_t dirty_count;
    size_t dirty_cap;
};

static uint64_t add_saturating(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static bool name_valid(const char *name)
{
    if (name == NULL || name[0] == '\0') {
        return false;
    }
    return memchr(name, '\0', RS_DISK_NAME_MAX + 1) != NULL;
}

/* ---- the pool of saved-block buffers ---- */

static enum rs_err pool_reserve(struct rs_disk *d, size_t count)
{
    size_t block_size = d->params.block_size;
    while (d->pool_free_count < count) {
        if (d->pool_chunk_count == d->pool_chunk_cap) {
            size_t cap = d->pool_chunk_cap ? d->pool_chunk_cap * 2 : 8;
            uint8_t **chunks = realloc(d->pool_chunks, cap * sizeof *chunks);
            if (chunks == NULL) {
                return RS_ENOMEM;
            }
            d->pool_chunks = chunks;
            d->pool_chunk_cap = cap;
        }
        uint8_t *chunk = malloc((size_t)POOL_CHUNK_BLOCKS * block_size);
        if (chunk == NULL) {
            return RS_ENOMEM;
        }
        d->pool_chunks[d->pool_chunk_count++] = chunk;
        for (size_t i = 0; i < POOL_CHUNK_BLOCKS; i++) {
            uint8_t *block = chunk + i * block_size;
            memcpy(block, &d->pool_free, sizeof d->pool_free);
            d->pool_free = block;
        }
        d->pool_free_count += POOL_CHUNK_BLOCKS;
    }
    return RS_OK;
}

static uint8_t *pool_take(struct rs_disk *d)
{
    RS_ASSERT(d->pool_free_count > 0);
    uint8_t *block = d->pool_free;
    memcpy(&d->pool_free, block, sizeof d->pool_free);
    d->pool_free_count--;
    return block;
}

static void pool_give(struct rs_disk *d, uint8_t *block)
{
    if (block == NULL) {
        return;
    }
    memcpy(block, &d->pool_free, sizeof d->pool_free);
    d->pool_free = block;
    d->pool_free_count++;
}

/* ---- files ---- */

/* Binary search by name; *index is where the name is or would be inserted. */
static struct rs_disk_file *file_find(const struct rs_disk *d, const char *name, size_t *index)
{
    size_t lo = 0;
    size_t hi = d->file_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(d->files[mid]->name, name);
        if (cmp == 0) {
            *index = mid;
            return d->files[mid];
        }
        if (cmp < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *index = lo;
    return NULL;
}

static bool dirty_test(const struct rs_disk_file *f, uint64_t block)
{
    uint64_t word = block / 64;
    return word < f->dirty_bits_words && (f->dirty_bits[word] >> (block % 64)) & 1;
}

static void dirty_clear_bit(struct rs_disk_file *f, uint64_t block)
{
    RS_ASSERT(dirty_test(f, block));
    f->dirty_bits[block / 64] &= ~(1ull << (block % 64));
}

/* Forget every dirty block (after sync or crash): saved buffers go back to the pool. */
static void file_clear_dirty(struct rs_disk *d, struct rs_disk_file *f)
{
    for (size_t i = 0; i < f->dirty_count; i++) {
        dirty_clear_bit(f, f->dirty[i].block_index);
        pool_give(d, f->dirty[i].saved);
    }
    f->dirty_count = 0;
}

static void file_destroy(struct rs_disk *d, struct rs_disk_file *f)
{
    RS_ASSERT(d->used_bytes >= f->size);
    d->used_bytes -= f->size;
    file_clear_dirty(d, f);
    free(f->data);
    free(f->dirty_bits);
    free(f->dirty);
    free(f);
}

static void files_remove_at(struct rs_disk *d, size_t index)
{
    RS_ASSERT(index < d->file_count);
    memmove(&d->files[index], &d->files[index + 1],
            (d->file_count - index - 1) * sizeof d->files[0]);
    d->file_count--;
}

static void files_insert_at(struct rs_disk *d, size_t index, struct rs_disk_file *f)
{
    RS_ASSERT(d->file_count < d->file_cap);
    RS_ASSERT(index <= d->file_count);
    memmove(&d->files[index + 1], &d->files[index],
            (d->file_count - index) * sizeof d->files[0]);
    d->files[index] = f;
    d->file_count++;
}

/* A new, empty file inserted at `index` (creation is durable at once: it is journaled). */
static enum rs_err file_create(struct rs_disk *d, const char *name, size_t index,
                               struct rs_disk_file **out)
{
    if (d->file_count == d->file_cap) {
        size_t cap = d->file_cap ? d->file_cap * 2 : 16;
        struct rs_disk_file **files = realloc(d->files, cap * sizeof *files);
        if (files == NULL) {
            return RS_ENOMEM;
        }
        d->files = files;
        d->file_cap = cap;
    }
    struct rs_disk_file *f = calloc(1, sizeof *f);
    if (f == NULL) {
        return RS_ENOMEM;
    }
    memcpy(f->name, name, strlen(name) + 1);
    files_insert_at(d, index, f);
    *out = f;
    return RS_OK;
}

static enum rs_err file_reserve_data(struct rs_disk_file *f, uint64_t size)
{
    if (size <= f->cap) {
        return RS_OK;
    }
    uint64_t cap = f->cap < DATA_CAP_MIN ? DATA_CAP_MIN : f->cap;
    while (cap < size) {
        cap *= 2;
    }
    uint8_t *data = realloc(f->data, (size_t)cap);
    if (data == NULL) {
        return RS_ENOMEM;
    }
    f->data = data;
    f->cap = cap;
    return RS_OK;
}

static enum rs_err file_reserve_dirty(struct rs_disk_file *f, uint64_t last_block, size_t added)
{
    size_t words = (size_t)(last_block / 64 + 1);
    if (words > f->dirty_bits_words) {
        size_t cap = f->dirty_bits_words * 2 > words ? f->dirty_bits_words * 2 : words;
        uint64_t *bits = realloc(f->dirty_bits, cap * sizeof *bits);
        if (bits == NULL) {
            return RS_ENOMEM;
        }
        memset(bits + f->dirty_bits_words, 0, (cap - f->dirty_bits_words) * sizeof *bits);
        f->dirty_bits = bits;
        f->dirty_bits_words = cap;
    }
    if (f->dirty_count + added > f->dirty_cap) {
        size_t cap = f->dirty_cap ? f->dirty_cap * 2 : 16;
        while (cap < f->dirty_count + added) {
            cap *= 2;
        }
        struct disk_dirty *dirty = realloc(f->dirty, cap * sizeof *dirty);
        if (dirty == NULL) {
            return RS_ENOMEM;
        }
        f->dirty = dirty;
        f->dirty_cap = cap;
    }
    return RS_OK;
}

/* ---- writes ---- */

/* Whether growing f (NULL: a new file) to `end` bytes fits the capacity. */
static bool room_for(struct rs_disk *d, const struct rs_disk_file *f, uint64_t end)
{
    uint64_t size = f != NULL ? f->size : 0;
    uint64_t capacity = d->faults.capacity_bytes;
    if (capacity == 0 || end <= size || d->used_bytes + (end - size) <= capacity) {
        return true;
    }
    d->stats.full_errors++;
    return false;
}

/* Reserve everything a write of [offset, end) needs, so that applying it cannot fail. */
static enum rs_err write_reserve(struct rs_disk *d, struct rs_disk_file *f, uint64_t offset,
                                 uint64_t end)
{
    uint64_t first = offset >> d->block_shift;
    uint64_t last = (end - 1) >> d->block_shift;
    size_t added = 0;
    size_t saves = 0;
    for (uint64_t block = first; block <= last; block++) {
        if (!dirty_test(f, block)) {
            added++;
            saves += (block << d->block_shift) < f->durable_size;
        }
    }
    enum rs_err err = file_reserve_data(f, end);
    if (err == RS_OK) {
        err = file_reserve_dirty(f, last, added);
    }
    if (err == RS_OK) {
        err = pool_reserve(d, saves);
    }
    return err;
}

/* Mark block dirty, saving its durable content (equal to its current content, as it is
 * clean) unless that content is all zeros. Runs before the write changes data or size. */
static void mark_dirty(struct rs_disk *d, struct rs_disk_file *f, uint64_t block)
{
    uint64_t start = block << d->block_shift;
    uint8_t *saved = NULL;
    if (start < f->durable_size) {
        size_t block_size = d->params.block_size;
        uint64_t end = start + block_size < f->size ? start + block_size : f->size;
        saved = pool_take(d);
        memcpy(saved, f->data + start, (size_t)(end - start));
        memset(saved + (end - start), 0, block_size - (size_t)(end - start));
        d->stats.saved_blocks++;
    }
    RS_ASSERT(f->dirty_count < f->dirty_cap);
    f->dirty_bits[block / 64] |= 1ull << (block % 64);
    f->dirty[f->dirty_count++] = (struct disk_dirty){.block_index = block, .saved = saved};
}

enum rs_err rs_disk_write(struct rs_disk *d, const char *name, uint64_t offset, const void *data,
                          size_t size)
{
    if (!name_valid(name) || (data == NULL && size > 0)) {
        return RS_EINVAL;
    }
    if (offset > RS_DISK_FILE_BYTES_MAX || size > RS_DISK_FILE_BYTES_MAX - offset) {
        return RS_ETOOBIG;
    }
    size_t index;
    struct rs_disk_file *f = file_find(d, name, &index);
    uint64_t end = offset + size;
    if (size > 0 && !room_for(d, f, end)) {
        return RS_ENOSPACE;
    }
    bool created = false;
    if (f == NULL) {
        enum rs_err err = file_create(d, name, index, &f);
        if (err != RS_OK) {
            return err;
        }
        created = true;
    }
    if (size == 0) {
        return RS_OK;
    }
    enum rs_err err = write_reserve(d, f, offset, end);
    if (err != RS_OK) {
        if (created) {
            files_remove_at(d, index);
            file_destroy(d, f);
        }
        return err;
    }
    for (uint64_t block = offset >> d->block_shift; block <= (end - 1) >> d->block_shift;
         block++) {
        if (!dirty_test(f, block)) {
            mark_dirty(d, f, block);
        }
    }
    if (offset > f->size) {
        memset(f->data + f->size, 0, (size_t)(offset - f->size));
    }
    if (end > f->size) {
        d->used_bytes += end - f->size;
        f->size = end;
    }
    memcpy(f->data + offset, data, size);
    d->stats.writes++;
    d->stats.write_bytes += size;
    return RS_OK;
}

/* ---- sync, truncate, rename, remove ---- */

enum rs_err rs_disk_sync(struct rs_disk *d, const char *name)
{
    if (!name_valid(name)) {
        return RS_EINVAL;
    }
    size_t index;
    struct rs_disk_file *f = file_find(d, name, &index);
    if (f == NULL) {
        return RS_ENOTFOUND;
    }
    d->stats.syncs++;
    d->stats.synced_blocks += f->dirty_count;
    file_clear_dirty(d, f);
    f->durable_size = f->size;
    f->synced_size = f->size;
    return RS_OK;
}

/*
 * Shrinking: dirty blocks wholly past the new end are dropped; a dirty block straddling it
 * keeps its unsynced bytes below the end, and its saved content is zeroed past the end so the
 * invariant "durable bytes past durable_size are zeros" survives the durable length shrinking.
 */
static void truncate_dirty(struct rs_disk *d, struct rs_disk_file *f, uint64_t size)
{
    size_t kept = 0;
    for (size_t i = 0; i < f->dirty_count; i++) {
        struct disk_dirty entry = f->dirty[i];
        uint64_t start = entry.block_index << d->block_shift;
        if (start >= size) {
            dirty_clear_bit(f, entry.block_index);
            pool_give(d, entry.saved);
            continue;
        }
        uint64_t inside = size - start;
        if (entry.saved != NULL && inside < d->params.block_size) {
            memset(entry.saved + inside, 0, d->params.block_size - (size_t)inside);
        }
        f->dirty[kept++] = entry;
    }
    f->dirty_count = kept;
}

enum rs_err rs_disk_truncate(struct rs_disk *d, const char *name, uint64_t size)
{
    if (!name_valid(name)) {
        return RS_EINVAL;
    }
    if (size > RS_DISK_FILE_BYTES_MAX) {
        return RS_ETOOBIG;
    }
    size_t index;
    struct rs_disk_file *f = file_find(d, name, &index);
    if (f == NULL) {
        return RS_ENOTFOUND;
    }
    if (!room_for(d, f, size)) {
        return RS_ENOSPACE;
    }
    enum rs_err err = file_reserve_data(f, size);
    if (err != RS_OK) {
        return err;
    }
    if (size < f->size) {
        truncate_dirty(d, f, size);
    } else {
        memset(f->data + f->size, 0, (size_t)(size - f->size));
    }
    /* Journaled: the length (and any zeros added) is durable at once. */
    d->used_bytes = d->used_bytes - f->size + size;
    f->size = size;
    f->durable_size = size;
    f->synced_size = f->synced_size < size ? f->synced_size : size;
    return RS_OK;
}

enum rs_err rs_disk_rename(struct rs_disk *d, const char *from, const char *to)
{
    if (!name_valid(from) || !name_valid(to)) {
        return RS_EINVAL;
    }
    size_t from_index;
    struct rs_disk_file *f = file_find(d, from, &from_index);
    if (f == NULL) {
        return RS_ENOTFOUND;
    }
    if (strcmp(from, to) == 0) {
        return RS_OK;
    }
    files_remove_at(d, from_index);
    size_t to_index;
    struct rs_disk_file *target = file_find(d, to, &to_index);
    if (target != NULL) {
        files_remove_at(d, to_index);
        file_destroy(d, target);
    }
    memcpy(f->name, to, strlen(to) + 1);
    /* Removing never shrinks the array, so this insertion cannot need memory. */
    file_find(d, to, &to_index);
    files_insert_at(d, to_index, f);
    return RS_OK;
}

enum rs_err rs_disk_remove(struct rs_disk *d, const char *name)
{
    if (!name_valid(name)) {
        return RS_EINVAL;
    }
    size_t index;
    struct rs_disk_file *f = file_find(d, name, &index);
    if (f == NULL) {
        return RS_ENOTFOUND;
    }
    files_remove_at(d, index);
    file_destroy(d, f);
    return RS_OK;
}

enum rs_err rs_disk_remove_prefix(struct rs_disk *d, const char *prefix)
{
    if (!name_valid(prefix)) {
        return RS_EINVAL;
    }
    size_t len = strlen(prefix);
    size_t index;
    file_find(d, prefix, &index); /* the first name not below the prefix */
    while (index < d->file_count && strncmp(d->files[index]->name, prefix, len) == 0) {
        struct rs_disk_file *f = d->files[index];
        files_remove_at(d, index);
        file_destroy(d, f);
    }
    return RS_OK;
}

/* ---- reading ---- */

const uint8_t *rs_disk_read(const struct rs_disk *d, const char *name, size_t *size)
{
    static const uint8_t empty[1];
    size_t index;
    struct rs_disk_file *f = name_valid(name) ? file_find(d, name, &index) : NULL;
    if (size != NULL) {
        *size = f != NULL ? (size_t)f->size : 0;
    }
    if (f == NULL) {
        return NULL;
    }
    return f->size > 0 ? f->data : empty;
}

enum rs_err rs_disk_read_durable(const struct rs_disk *d, const char *name, uint8_t *out,
                                 size_t cap, size_t *size)
{
    if (!name_valid(name) || size == NULL) {
        return RS_EINVAL;
    }
    size_t index;
    const struct rs_disk_file *f = file_find(d, name, &index);
    if (f == NULL) {
        return RS_ENOTFOUND;
    }
    *size = (size_t)f->durable_size;
    if (f->durable_size > cap) {
        return RS_ETOOBIG;
    }
    if (f->durable_size > 0) {
        memcpy(out, f->data, (size_t)f->durable_size);
    }
    for (size_t i = 0; i < f->dirty_count; i++) {
        uint64_t start = f->dirty[i].block_index << d->block_shift;
        if (start >= f->durable_size) {
            continue;
        }
        uint64_t end = start + d->params.block_size;
        size_t length = (size_t)((end < f->durable_size ? end : f->durable_size) - start);
        if (f->dirty[i].saved != NULL) {
            memcpy(out + start, f->dirty[i].saved, length);
        } else {
            memset(out + start, 0, length);
        }
    }
    return RS_OK;
}

size_t rs_disk_list(const struct rs_disk *d, const char **names, size_t cap)
{
    for (size_t i = 0; i < d->file_count && i < cap; i++) {
        names[i] = d->files[i]->name;
    }
    return d->file_count;
}

size_t rs_disk_dirty_blocks(const struct rs_disk *d, const char *name)
{
    size_t index;
    const struct rs_disk_file *f = name_valid(name) ? file_find(d, name, &index) : NULL;
    return f != NULL ? f->dirty_count : 0;
}

/* ---- crash and wipe ---- */

static int dirty_compare(const void *a, const void *b)
{
    uint64_t x = ((const struct disk_dirty *)a)->block_index;
    uint64_t y = ((const struct disk_dirty *)b)->block_index;
    return (x > y) - (x < y);
}

/* Keep or revert each dirty block of one file, then make what is left durable. */
static void crash_file(struct rs_disk *d, struct rs_disk_file *f)
{
    /* Block indexes are unique, so the sorted order does not depend on qsort's algorithm. */
    qsort(f->dirty, f->dirty_count, sizeof f->dirty[0], dirty_compare);
    uint64_t new_size = f->durable_size;
    for (size_t i = 0; i < f->dirty_count; i++) {
        uint64_t start = f->dirty[i].block_index << d->block_shift;
        uint64_t end = start + d->params.block_size;
        end = end < f->size ? end : f->size;
        RS_ASSERT(start < end);
        if (rs_rng_chance_ppm(&d->tear_rng, d->params.torn_keep_ppm)) {
            new_size = end > new_size ? end : new_size;
            d->stats.torn_kept_blocks++;
        } else if (f->dirty[i].saved != NULL) {
            memcpy(f->data + start, f->dirty[i].saved, (size_t)(end - start));
            d->stats.torn_lost_blocks++;
        } else {
            memset(f->data + start, 0, (size_t)(end - start));
            d->stats.torn_lost_blocks++;
        }
    }
    file_clear_dirty(d, f);
    RS_ASSERT(new_size <= f->size);
    d->used_bytes -= f->size - new_size;
    f->size = new_size;
    f->durable_size = new_size;
    f->synced_size = f->synced_size < new_size ? f->synced_size : new_size;
}

void rs_disk_crash(struct rs_disk *d)
{
    d->stats.crashes++;
    for (size_t i = 0; i < d->file_count; i++) {
        crash_file(d, d->files[i]);
    }
}

void rs_disk_wipe(struct rs_disk *d)
{
    for (size_t i = 0; i < d->file_count; i++) {
        file_destroy(d, d->files[i]);
    }
    d->file_count = 0;
    RS_ASSERT(d->used_bytes == 0);
}

/* ---- injected faults ---- */

enum rs_err rs_disk_inject(struct rs_disk *d, enum rs_disk_io io)
{
    const struct rs_disk_faults *f = &d->faults;
    uint32_t ppm = io == RS_DISK_IO_WRITE ? f->write_error_ppm
                   : io == RS_DISK_IO_SYNC ? f->sync_error_ppm
                                           : 0;
    bool unlucky = rs_rng_chance_ppm(&d->fault_rng, ppm); /* one draw, always */
    bool data_op = io != RS_DISK_IO_META;
    bool fail = f->dead || unlucky || (data_op && f->fail_next > 0);
    if (data_op && f->fail_next > 0) {
        d->faults.fail_next--;
    }
    if (!fail) {
        return RS_OK;
    }
    d->stats.injected_errors++;
    return RS_EIO;
}

enum rs_err rs_disk_set_faults(struct rs_disk *d, const struct rs_disk_faults *faults)
{
    if (faults->write_error_ppm > RS_DISK_PPM_MAX || faults->sync_error_ppm > RS_DISK_PPM_MAX ||
        faults->slow_factor > RS_DISK_SLOW_FACTOR_MAX) {
        return RS_EINVAL;
    }
    d->faults = *faults;
    return RS_OK;
}

uint64_t rs_disk_synced_size(const struct rs_disk *d, const char *name)
{
    size_t index;
    const struct rs_disk_file *f = name_valid(name) ? file_find(d, name, &index) : NULL;
    return f != NULL ? f->synced_size : 0;
}

void rs_disk_recovered(struct rs_disk *d)
{
    for (size_t i = 0; i < d->file_count; i++) {
        struct rs_disk_file *f = d->files[i];
        RS_ASSERT(f->dirty_count == 0); /* recovery follows a crash or a fresh start */
        f->synced_size = f->size;
    }
}

static uint64_t corrupt_start(const struct rs_disk_file *f, bool unsynced_only)
{
    return unsynced_only ? f->synced_size : 0;
}

/* Flips bit `bit` of the region (the concatenation of every file's corruptible bytes). */
static void corrupt_one(struct rs_disk *d, uint64_t bit, bool unsynced_only)
{
    uint64_t byte = bit / 8;
    for (size_t i = 0; i < d->file_count; i++) {
        struct rs_disk_file *f = d->files[i];
        uint64_t start = corrupt_start(f, unsynced_only);
        uint64_t length = f->size - start;
        if (byte < length) {
            f->data[start + byte] ^= (uint8_t)(1u << (bit % 8));
            return;
        }
        byte -= length;
    }
    RS_UNREACHABLE();
}

uint32_t rs_disk_corrupt(struct rs_disk *d, struct rs_rng *rng, uint32_t bits,
                         bool unsynced_only)
{
    uint64_t region_bytes = 0;
    for (size_t i = 0; i < d->file_count; i++) {
        const struct rs_disk_file *f = d->files[i];
        RS_ASSERT(f->synced_size <= f->size);
        region_bytes += f->size - corrupt_start(f, unsynced_only);
    }
    if (region_bytes == 0) {
        return 0;
    }
    for (uint32_t i = 0; i < bits; i++) {
        corrupt_one(d, rs_rng_below(rng, region_bytes * 8), unsynced_only);
    }
    d->stats.corrupted_bits += bits;
    return bits;
}

/* ---- timing ---- */

uint64_t rs_disk_schedule(struct rs_disk *d, uint64_t now_ns, enum rs_disk_op kind, size_t size)
{
    const struct rs_disk_params *p = &d->params;
    uint64_t latency_ns;
    switch (kind) {
    case RS_DISK_OP_WRITE:
        latency_ns = rs_rng_range(&d->latency_rng, p->write_latency_min_ns,
                                  p->write_latency_max_ns);
        break;
    case RS_DISK_OP_SYNC:
        latency_ns = rs_rng_range(&d->latency_rng, p->sync_latency_min_ns,
                                  p->sync_latency_max_ns);
        break;
    case RS_DISK_OP_READ:
        latency_ns = rs_rng_range(&d->latency_rng, p->read_latency_min_ns,
                                  p->read_latency_max_ns);
        break;
    default:
        RS_UNREACHABLE();
    }
    uint32_t slow = d->faults.slow_factor > 1 ? d->faults.slow_factor : 1;
    latency_ns = latency_ns > UINT64_MAX / slow ? UINT64_MAX : latency_ns * slow;
    uint64_t transfer_ns = 0;
    if (p->bandwidth_bytes_per_s != 0 && size > 0) {
        unsigned __int128 scaled = (unsigned __int128)size * RS_NS_PER_S;
        unsigned __int128 ns = (scaled + p->bandwidth_bytes_per_s - 1) / p->bandwidth_bytes_per_s;
        transfer_ns = ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
    }
    uint64_t start_ns = now_ns > d->busy_until_ns ? now_ns : d->busy_until_ns;
    uint64_t done_ns = add_saturating(add_saturating(start_ns, latency_ns), transfer_ns);
    d->busy_until_ns = done_ns;
    return done_ns;
}

/* ---- lifetime ---- */

bool rs_disk_params_valid(const struct rs_disk_params *p)
{
    if (p == NULL || p->write_latency_min_ns > p->write_latency_max_ns ||
        p->sync_latency_min_ns > p->sync_latency_max_ns ||
        p->read_latency_min_ns > p->read_latency_max_ns) {
        return false;
    }
    if (p->block_size < RS_DISK_BLOCK_MIN || p->block_size > RS_DISK_BLOCK_MAX ||
        (p->block_size & (p->block_size - 1)) != 0) {
        return false;
    }
    return p->torn_keep_ppm <= RS_DISK_PPM_MAX;
}

enum rs_err rs_disk_init(struct rs_disk *d, const struct rs_disk_params *p, uint64_t run_seed,
                         uint32_t node)
{
    RS_ASSERT(d != NULL);
    *d = (struct rs_disk){0};
    if (!rs_disk_params_valid(p)) {
        return RS_EINVAL;
    }
    d->params = *p;
    d->node = node;
    d->block_shift = (unsigned)__builtin_ctz(p->block_size);
    rs_rng_derive_idx(&d->latency_rng, run_seed, "disk", node);
    rs_rng_derive_idx(&d->tear_rng, run_seed, "disk/tear", node);
    rs_rng_derive_idx(&d->fault_rng, run_seed, "disk/fault", node);
    _Static_assert(RS_DISK_BLOCK_MIN >= sizeof(void *), "pool blocks hold a free-list link");
    return RS_OK;
}

void rs_disk_free(struct rs_disk *d)
{
    rs_disk_wipe(d);
    free(d->files);
    for (size_t i = 0; i < d->pool_chunk_count; i++) {
        free(d->pool_chunks[i]);
    }
    free(d->pool_chunks);
    *d = (struct rs_disk){0};
}
