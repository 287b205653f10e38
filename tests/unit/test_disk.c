/* Tests of the simulated disk: exact crash semantics, tears at block boundaries, timing, and
 * injected faults (errors, capacity, slowness, bit rot). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sim/disk.h"

static struct rs_disk_params params(uint32_t block_size, uint32_t torn_keep_ppm)
{
    return (struct rs_disk_params){
        .write_latency_min_ns = 10000, .write_latency_max_ns = 20000,
        .sync_latency_min_ns = 1000000, .sync_latency_max_ns = 2000000,
        .read_latency_min_ns = 5000, .read_latency_max_ns = 5000,
        .block_size = block_size, .torn_keep_ppm = torn_keep_ppm,
    };
}

static void disk_open(struct rs_disk *d, uint32_t block_size, uint32_t torn_keep_ppm)
{
    struct rs_disk_params p = params(block_size, torn_keep_ppm);
    assert_int_equal(rs_disk_init(d, &p, 1, 0), RS_OK);
}

static void fill(struct rs_disk *d, const char *name, uint64_t offset, size_t size, uint8_t byte)
{
    uint8_t *buf = malloc(size);
    assert_non_null(buf);
    memset(buf, byte, size);
    assert_int_equal(rs_disk_write(d, name, offset, buf, size), RS_OK);
    free(buf);
}

/* The file is `size` bytes, each equal to expected[i / run] (runs of `run` bytes). */
static void assert_runs(const struct rs_disk *d, const char *name, size_t size, size_t run,
                        const char *expected)
{
    size_t got = 0;
    const uint8_t *data = rs_disk_read(d, name, &got);
    assert_non_null(data);
    assert_int_equal(got, size);
    for (size_t i = 0; i < size; i++) {
        uint8_t want = expected[i / run] == '0' ? 0 : (uint8_t)expected[i / run];
        if (data[i] != want) {
            fail_msg("%s: byte %zu is %u, expected %u", name, i, data[i], want);
        }
    }
}

/* Bytes [start, end) of the file all equal `byte`. */
static void assert_span(const struct rs_disk *d, const char *name, size_t start, size_t end,
                        uint8_t byte)
{
    size_t size = 0;
    const uint8_t *data = rs_disk_read(d, name, &size);
    assert_non_null(data);
    assert_true(end <= size);
    for (size_t i = start; i < end; i++) {
        if (data[i] != byte) {
            fail_msg("%s: byte %zu is %u, expected %u", name, i, data[i], byte);
        }
    }
}

static void test_init_rejects_bad_params(void **state)
{
    (void)state;
    struct rs_disk d;
    struct rs_disk_params p = params(100, 0);
    assert_int_equal(rs_disk_init(&d, &p, 1, 0), RS_EINVAL); /* not a power of two */
    p = params(32, 0);
    assert_int_equal(rs_disk_init(&d, &p, 1, 0), RS_EINVAL);
    p = params(512, 1000001);
    assert_int_equal(rs_disk_init(&d, &p, 1, 0), RS_EINVAL);
    p = params(512, 0);
    p.sync_latency_min_ns = p.sync_latency_max_ns + 1;
    assert_int_equal(rs_disk_init(&d, &p, 1, 0), RS_EINVAL);
    rs_disk_free(&d);
}

static void test_read_your_writes_and_bad_input(void **state)
{
    (void)state;
    struct rs_disk d;
    disk_open(&d, 512, 0);
    size_t size = 99;
    assert_null(rs_disk_read(&d, "log", &size));
    assert_int_equal(size, 0);
    assert_int_equal(rs_disk_write(&d, "log", 0, "hello", 5), RS_OK);
    assert_int_equal(rs_disk_write(&d, "log", 10, "x", 1), RS_OK);
    assert_int_equal(rs_disk_write(&d, "log", 1, "EL", 2), RS_OK);
    const uint8_t *data = rs_disk_read(&d, "log", &size);
    assert_int_equal(size, 11);
    assert_memory_equal(data, "hELlo\0\0\0\0\0x", 11);
    assert_int_equal(rs_disk_write(&d, "empty", 0, NULL, 0), RS_OK);
    assert_non_null(rs_disk_read(&d, "empty", &size));
    assert_int_equal(size, 0);

    char long_name[RS_DISK_NAME_MAX + 2];
    memset(long_name, 'n', sizeof long_name);
    long_name[RS_DISK_NAME_MAX + 1] = '\0';
    assert_int_equal(rs_disk_write(&d, long_name, 0, "a", 1), RS_EINVAL);
    long_name[RS_DISK_NAME_MAX] = '\0';
    assert_int_equal(rs_disk_write(&d, long_name, 0, "a", 1), RS_OK);
    assert_int_equal(rs_disk_write(&d, "", 0, "a", 1), RS_EINVAL);
    assert_int_equal(rs_disk_write(&d, NULL, 0, "a", 1), RS_EINVAL);
    assert_int_equal(rs_disk_write(&d, "log", 0, NULL, 1), RS_EINVAL);
    assert_int_equal(rs_disk_write(&d, "log", RS_DISK_FILE_BYTES_MAX, "a", 1), RS_ETOOBIG);
    assert_int_equal(rs_disk_write(&d, "log", UINT64_MAX, "a", 1), RS_ETOOBIG);
    assert_int_equal(rs_disk_truncate(&d, "log", RS_DISK_FILE_BYTES_MAX + 1), RS_ETOOBIG);
    assert_int_equal(rs_disk_sync(&d, "nope"), RS_ENOTFOUND);
    assert_int_equal(rs_disk_truncate(&d, "nope", 0), RS_ENOTFOUND);
    assert_int_equal(rs_disk_remove(&d, "nope"), RS_ENOTFOUND);
    assert_int_equal(rs_disk_rename(&d, "nope", "x"), RS_ENOTFOUND);
    assert_int_equal(rs_disk_rename(&d, "log", ""), RS_EINVAL);
    assert_int_equal(rs_disk_list(&d, NULL, 0), 3); /* failed calls created nothing */
    rs_disk_free(&d);
}

static void test_sync_then_crash_keeps_data(void **state)
{
    (void)state;
    struct rs_disk d;
    disk_open(&d, 512, 0);
    fill(&d, "f", 0, 3000, 'a');
    assert_int_equal(rs_disk_sync(&d, "f"), RS_OK);
    rs_disk_crash(&d);
    assert_runs(&d, "f", 3000, 3000, "a");
    rs_disk_free(&d);
}

/* Durable 'a' x 1500; then overwrite [100, 1200) with 'b' and append 'c' up to 2500. */
static void write_unsynced_over_synced(struct rs_disk *d)
{
    fill(d, "f", 0, 1500, 'a');
    assert_int_equal(rs_disk_sync(d, "f"), RS_OK);
    fill(d, "f", 100, 1100, 'b');
    fill(d, "f", 1500, 1000, 'c');
    fill(d, "new", 0, 700, 'n'); /* created (durable) but its data never synced */
}

static void test_unsynced_data_lost_with_keep_zero(void **state)
{
    (void)state;
    struct rs_disk d;
    disk_open(&d, 512, 0);
    write_unsynced_over_synced(&d);
    rs_disk_crash(&d);
    assert_runs(&d, "f", 1500, 1500, "a");
    assert_runs(&d, "new", 0, 1, "");
    assert_int_equal(rs_disk_dirty_blocks(&d, "f"), 0);
    assert_int_equal(d.stats.torn_kept_blocks, 0);
    assert_int_equal(d.stats.torn_lost_blocks, 5 + 2); /* blocks 0..4 of f, 0..1 of new */
    rs_disk_free(&d);
}

static void test_unsynced_data_all_kept_with_keep_million(void **state)
{
    (void)state;
    struct rs_disk d;
    disk_open(&d, 512, 1000000);
    write_unsynced_over_synced(&d);
    rs_disk_crash(&d);
    assert_runs(&d, "f", 2500, 100, "abbbbbbbbbbbaaacccccccccc");
    assert_runs(&d, "new", 700, 700, "n");
    rs_disk_free(&d);
}

/*
 * Sixteen durable blocks of 'a', all overwritten with 'b' by one write, then four appended
 * blocks of 'c'; crash with keep = 50%. Every block must be wholly old or wholly new, the
 * result must be the same for the same seed and node, and the length must end at the last
 * kept block (or at the durable length).
 */
static void torn_crash(uint32_t node, char out[21], uint64_t *size_out)
{
    struct rs_disk d;
    struct rs_disk_params p = params(256, 500000);
    assert_int_equal(rs_disk_init(&d, &p, 1, node), RS_OK);
    fill(&d, "f", 0, 16 * 256, 'a');
    assert_int_equal(rs_disk_sync(&d, "f"), RS_OK);
    fill(&d, "f", 0, 16 * 256, 'b');
    fill(&d, "f", 16 * 256, 4 * 256, 'c');
    rs_disk_crash(&d);
    size_t size;
    const uint8_t *data = rs_disk_read(&d, "f", &size);
    assert_int_equal(size % 256, 0);
    memset(out, '-', 20);
    out[20] = '\0';
    for (size_t block = 0; block < size / 256; block++) {
        out[block] = data[block * 256] ? (char)data[block * 256] : '0';
        for (size_t i = 1; i < 256; i++) {
            assert_int_equal(data[block * 256 + i], data[block * 256]);
        }
    }
    assert_int_equal(d.stats.torn_kept_blocks + d.stats.torn_lost_blocks, 20);
    uint64_t kept = 0;
    for (size_t block = 0; block < 20; block++) {
        kept += out[block] == 'b' || out[block] == 'c';
    }
    assert_int_equal(kept, d.stats.torn_kept_blocks);
    *size_out = size;
    rs_disk_free(&d);
}

static void test_partial_tears_at_block_boundaries(void **state)
{
    (void)state;
    char first[21];
    char again[21];
    char other[21];
    uint64_t size_first;
    uint64_t size_again;
    uint64_t size_other;
    torn_crash(2, first, &size_first);
    torn_crash(2, again, &size_again);
    torn_crash(5, other, &size_other);
    /* Golden for run seed 1, node 2: blocks 16..18 were lost but block 19 was kept, so the
     * file extends over three blocks of zeros. */
    assert_string_equal(first, "babbbababbbabbab000c");
    assert_string_equal(first, again);
    assert_int_equal(size_first, size_again);
    assert_string_not_equal(first, other); /* another node's stream tears differently */
    const char *patterns[2] = {first, other};
    for (int p = 0; p < 2; p++) {
        const char *pattern = patterns[p];
        int a = 0;
        int b = 0;
        for (int i = 0; i < 16; i++) {
            assert_true(pattern[i] == 'a' || pattern[i] == 'b');
            a += pattern[i] == 'a';
            b += pattern[i] == 'b';
        }
        assert_true(a > 0 && b > 0); /* one multi-block write, partly kept */
        /* Past the durable 16 blocks, kept 'c' blocks extend the file and lost ones read 0;
         * the file ends at the durable length or at a kept block. */
        size_t blocks = strcspn(pattern, "-");
        for (size_t i = 16; i < blocks; i++) {
            assert_true(pattern[i] == 'c' || pattern[i] == '0');
        }
        assert_true(blocks == 16 || pattern[blocks - 1] == 'c');
    }
}

static void test_truncate_is_durable_at_once(void **state)
{
    (void)state;
    struct rs_disk d;
    disk_open(&d, 512, 0);
    fill(&d, "f", 0, 3000, 'a');
    assert_int_equal(rs_disk_sync(&d, "f"), RS_OK);
    assert_int_equal(rs_disk_truncate(&d, "f", 1000), RS_OK);
    rs_disk_crash(&d);
    assert_runs(&d, "f", 1000, 1000, "a");

    /* Growing: the new length and its zeros are durable; unsynced data below stays unsynced. */
    fill(&d, "g", 0, 100, 'x');
    assert_int_equal(rs_disk_sync(&d, "g"), RS_OK);
    fill(&d, "g", 100, 200, 'y');
    assert_int_equal(rs_disk_truncate(&d, "g", 1000), RS_OK);
    assert_runs(&d, "g", 1000, 100, "xyy0000000");
    rs_disk_crash(&d);
    assert_runs(&d, "g", 1000, 100, "x000000000");

    /* Shrinking into a dirty block: the durable bytes past the cut must not come back. */
    fill(&d, "h", 0, 1024, 'a');
    assert_int_equal(rs_disk_sync(&d, "h"), RS_OK);
    fill(&d, "h", 0, 1024, 'b');
    assert_int_equal(rs_disk_truncate(&d, "h", 700), RS_OK);
    assert_int_equal(rs_disk_dirty_blocks(&d, "h"), 2);
    assert_int_equal(rs_disk_truncate(&d, "h", 1024), RS_OK);
    size_t size = 0;
    assert_non_null(rs_disk_read(&d, "h", &size));
    assert_int_equal(size, 1024);
    assert_span(&d, "h", 0, 700, 'b');
    assert_span(&d, "h", 700, 1024, 0);
    rs_disk_crash(&d);
    assert_non_null(rs_disk_read(&d, "h", &size));
    assert_int_equal(size, 1024);
    assert_span(&d, "h", 0, 700, 'a');
    assert_span(&d, "h", 700, 1024, 0);
    rs_disk_free(&d);
}

static void test_rename_and_remove_are_durable(void **state)
{
    (void)state;
    struct rs_disk d;
    disk_open(&d, 512, 0);
    fill(&d, "tmp", 0, 600, 's');
    assert_int_equal(rs_disk_sync(&d, "tmp"), RS_OK);
    fill(&d, "meta", 0, 10, 'o');
    assert_int_equal(rs_disk_sync(&d, "meta"), RS_OK);
    assert_int_equal(rs_disk_rename(&d, "tmp", "meta"), RS_OK); /* replaces meta */
    assert_int_equal(rs_disk_rename(&d, "meta", "meta"), RS_OK);
    fill(&d, "unsynced", 0, 50, 'u');
    assert_int_equal(rs_disk_rename(&d, "unsynced", "moved"), RS_OK);
    fill(&d, "gone", 0, 5, 'g');
    assert_int_equal(rs_disk_sync(&d, "gone"), RS_OK);
    assert_int_equal(rs_disk_remove(&d, "gone"), RS_OK);
    rs_disk_crash(&d);
    const char *names[8];
    assert_int_equal(rs_disk_list(&d, names, 8), 2);
    assert_string_equal(names[0], "meta");
    assert_string_equal(names[1], "moved");
    assert_runs(&d, "meta", 600, 600, "s");
    assert_runs(&d, "moved", 0, 1, ""); /* the name moved durably; the data was never synced */
    assert_null(rs_disk_read(&d, "tmp", NULL));
    assert_null(rs_disk_read(&d, "gone", NULL));
    rs_disk_free(&d);
}

static void test_wipe_and_list_order(void **state)
{
    (void)state;
    struct rs_disk d;
    disk_open(&d, 512, 0);
    static const char *const created[] = {"b", "a", "c/1", "ab", "B", "a0"};
    for (size_t i = 0; i < 6; i++) {
        fill(&d, created[i], 0, 10, 'z');
    }
    const char *names[6];
    assert_int_equal(rs_disk_list(&d, names, 6), 6);
    static const char *const sorted[] = {"B", "a", "a0", "ab", "b", "c/1"};
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(names[i], sorted[i]);
    }
    const char *two[2];
    assert_int_equal(rs_disk_list(&d, two, 2), 6);
    assert_string_equal(two[1], "a");
    assert_int_equal(rs_disk_sync(&d, "a"), RS_OK);
    rs_disk_wipe(&d);
    assert_int_equal(rs_disk_list(&d, names, 6), 0);
    assert_null(rs_disk_read(&d, "a", NULL));
    fill(&d, "a", 0, 3, 'q');
    assert_runs(&d, "a", 3, 3, "q");
    rs_disk_free(&d);
}

/* Sync and crash cost follows the dirty blocks, not the file size; appends copy nothing. */
static void test_dirty_tracking_is_cheap(void **state)
{
    (void)state;
    struct rs_disk d;
    disk_open(&d, 4096, 0);
    fill(&d, "big", 0, 1 << 20, 'a');
    assert_int_equal(rs_disk_dirty_blocks(&d, "big"), 256);
    assert_int_equal(d.stats.saved_blocks, 0); /* beyond the durable length: nothing to save */
    assert_int_equal(rs_disk_sync(&d, "big"), RS_OK);
    fill(&d, "big", 500000, 1, 'b');
    assert_int_equal(rs_disk_dirty_blocks(&d, "big"), 1);
    assert_int_equal(d.stats.saved_blocks, 1);
    assert_int_equal(rs_disk_sync(&d, "big"), RS_OK);
    assert_int_equal(d.stats.synced_blocks, 257);
    fill(&d, "big", 1 << 20, 40960, 'c'); /* an append: ten new blocks, no copies */
    assert_int_equal(d.stats.saved_blocks, 1);
    assert_int_equal(rs_disk_sync(&d, "big"), RS_OK);
    /* Steady state: the pool is reused, not grown. */
    size_t chunks = d.pool_chunk_count;
    for (int i = 0; i < 1000; i++) {
        fill(&d, "big", (uint64_t)(i % 200) * 4096, 9000, (uint8_t)i);
        assert_int_equal(rs_disk_sync(&d, "big"), RS_OK);
    }
    assert_int_equal(d.pool_chunk_count, chunks == 0 ? 1 : chunks);
    rs_disk_free(&d);
}

static void test_schedule_is_a_fifo_queue(void **state)
{
    (void)state;
    struct rs_disk d;
    struct rs_disk_params p = params(512, 0);
    p.bandwidth_bytes_per_s = 100000000; /* 100 MB/s */
    assert_int_equal(rs_disk_init(&d, &p, 1, 3), RS_OK);
    uint64_t prev = 0;
    for (int i = 0; i < 100; i++) {
        enum rs_disk_op kind = (enum rs_disk_op)(i % 3);
        uint64_t done = rs_disk_schedule(&d, 1000, kind, 0);
        uint64_t start = prev > 1000 ? prev : 1000;
        uint64_t min = kind == RS_DISK_OP_WRITE ? 10000 : kind == RS_DISK_OP_SYNC ? 1000000 : 5000;
        uint64_t max = kind == RS_DISK_OP_WRITE ? 20000 : kind == RS_DISK_OP_SYNC ? 2000000 : 5000;
        assert_in_range(done - start, min, max);
        prev = done;
    }
    /* Idle again: a read of 1 MB costs its latency plus 10 ms of transfer, from now. */
    uint64_t now = prev + 5000000;
    assert_int_equal(rs_disk_schedule(&d, now, RS_DISK_OP_READ, 1000000), now + 5000 + 10000000);
    assert_int_equal(rs_disk_schedule(&d, now, RS_DISK_OP_READ, 1), now + 2 * 5000 + 10000000 + 10);
    rs_disk_free(&d);
}

/* ---- a reference model: full current and durable images, checked after every operation ---- */

#define MODEL_FILES 3
#define MODEL_BYTES 4096

struct model_file {
    bool exists;
    size_t size;
    size_t durable_size;
    uint8_t current[MODEL_BYTES];
    uint8_t durable[MODEL_BYTES];
};

static const char *const model_names[MODEL_FILES] = {"a", "b", "c"};

static void model_resize(uint8_t *bytes, size_t *size, size_t new_size)
{
    if (new_size > *size) {
        memset(bytes + *size, 0, new_size - *size);
    }
    *size = new_size;
}

static void model_check(const struct rs_disk *d, const struct model_file *m)
{
    static uint8_t durable[MODEL_BYTES];
    for (int i = 0; i < MODEL_FILES; i++) {
        size_t size = 0;
        const uint8_t *data = rs_disk_read(d, model_names[i], &size);
        assert_int_equal(data != NULL, m[i].exists);
        if (!m[i].exists) {
            continue;
        }
        assert_int_equal(size, m[i].size);
        if (size > 0) {
            assert_memory_equal(data, m[i].current, size);
        }
        assert_int_equal(rs_disk_read_durable(d, model_names[i], durable, MODEL_BYTES, &size),
                         RS_OK);
        assert_int_equal(size, m[i].durable_size);
        if (size > 0) {
            assert_memory_equal(durable, m[i].durable, size);
        }
    }
}

/*
 * After a crash with 0 < keep < 1e6: the length lies between the durable and the current
 * length, every 64-byte block is wholly its durable content (zeros past the durable length) or
 * wholly its current content, and a length past the durable one ends in a kept block. Then
 * the model adopts what the disk kept.
 */
static void model_check_torn(const struct rs_disk *d, const char *name, struct model_file *f)
{
    size_t size = 0;
    const uint8_t *data = rs_disk_read(d, name, &size);
    assert_non_null(data);
    assert_in_range(size, f->durable_size, f->size);
    uint8_t old[64];
    for (size_t start = 0; start < size; start += 64) {
        size_t length = size - start < 64 ? size - start : 64;
        memset(old, 0, sizeof old);
        if (start < f->durable_size) {
            size_t durable_length = f->durable_size - start < 64 ? f->durable_size - start : 64;
            memcpy(old, f->durable + start, durable_length);
        }
        bool is_old = memcmp(data + start, old, length) == 0;
        bool is_new = memcmp(data + start, f->current + start, length) == 0;
        assert_true(is_old || is_new);
        if (start + 64 >= size && size > f->durable_size) {
            assert_true(is_new);
        }
    }
    memcpy(f->current, data, size);
    memcpy(f->durable, data, size);
    f->size = size;
    f->durable_size = size;
}

static void model_op(struct rs_disk *d, struct model_file *m, struct rs_rng *r, uint32_t keep_ppm)
{
    int i = (int)rs_rng_below(r, MODEL_FILES);
    struct model_file *f = &m[i];
    const char *name = model_names[i];
    switch (rs_rng_below(r, 10)) {
    case 0: case 1: case 2: case 3: {
        size_t offset = (size_t)rs_rng_below(r, MODEL_BYTES / 2);
        size_t size = (size_t)rs_rng_range(r, 1, MODEL_BYTES / 2);
        uint8_t buf[MODEL_BYTES / 2];
        for (size_t k = 0; k < size; k++) {
            buf[k] = (uint8_t)rs_rng_range(r, 1, 255);
        }
        assert_int_equal(rs_disk_write(d, name, offset, buf, size), RS_OK);
        if (!f->exists) {
            *f = (struct model_file){.exists = true};
        }
        if (offset + size > f->size) {
            model_resize(f->current, &f->size, offset + size);
        }
        memcpy(f->current + offset, buf, size);
        break;
    }
    case 4: case 5:
        assert_int_equal(rs_disk_sync(d, name), f->exists ? RS_OK : RS_ENOTFOUND);
        memcpy(f->durable, f->current, f->size);
        f->durable_size = f->size;
        break;
    case 6: {
        size_t size = (size_t)rs_rng_below(r, MODEL_BYTES);
        assert_int_equal(rs_disk_truncate(d, name, size), f->exists ? RS_OK : RS_ENOTFOUND);
        if (f->exists) {
            model_resize(f->current, &f->size, size);
            model_resize(f->durable, &f->durable_size, size);
        }
        break;
    }
    case 7: {
        int j = (int)rs_rng_below(r, MODEL_FILES);
        assert_int_equal(rs_disk_rename(d, name, model_names[j]),
                         f->exists ? RS_OK : RS_ENOTFOUND);
        if (f->exists && j != i) {
            m[j] = *f;
            f->exists = false;
        }
        break;
    }
    case 8:
        if (rs_rng_below(r, 4) == 0) {
            assert_int_equal(rs_disk_remove(d, name), f->exists ? RS_OK : RS_ENOTFOUND);
            f->exists = false;
        }
        break;
    default:
        rs_disk_crash(d);
        for (int k = 0; k < MODEL_FILES; k++) {
            if (!m[k].exists) {
                continue;
            }
            if (keep_ppm == 1000000) {
                memcpy(m[k].durable, m[k].current, m[k].size);
                m[k].durable_size = m[k].size;
            } else if (keep_ppm == 0) {
                memcpy(m[k].current, m[k].durable, m[k].durable_size);
                m[k].size = m[k].durable_size;
            } else {
                model_check_torn(d, model_names[k], &m[k]);
            }
        }
        break;
    }
}

static void run_model(uint32_t torn_keep_ppm)
{
    static struct model_file m[MODEL_FILES];
    memset(m, 0, sizeof m);
    struct rs_disk d;
    disk_open(&d, 64, torn_keep_ppm);
    struct rs_rng r;
    rs_rng_derive_idx(&r, 1, "test/disk-model", torn_keep_ppm);
    for (int op = 0; op < 4000; op++) {
        model_op(&d, m, &r, torn_keep_ppm);
        model_check(&d, m);
    }
    assert_true(d.stats.crashes > 200);
    assert_int_equal(d.stats.torn_kept_blocks > 0, torn_keep_ppm > 0);
    assert_int_equal(d.stats.torn_lost_blocks > 0, torn_keep_ppm < 1000000);
    rs_disk_free(&d);
}

static void test_matches_reference_model_keep_none(void **state)
{
    (void)state;
    run_model(0);
}

static void test_matches_reference_model_keep_all(void **state)
{
    (void)state;
    run_model(1000000);
}

static void test_matches_reference_model_torn(void **state)
{
    (void)state;
    run_model(300000);
}

/* ---- injected faults ---- */

static void set_faults(struct rs_disk *d, struct rs_disk_faults f)
{
    assert_int_equal(rs_disk_set_faults(d, &f), RS_OK);
}

static void test_injected_errors(void **state)
{
    (void)state;
    struct rs_disk d;
    disk_open(&d, 512, 0);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(rs_disk_inject(&d, RS_DISK_IO_WRITE), RS_OK);
    }
    set_faults(&d, (struct rs_disk_faults){.fail_next = 2});
    assert_int_equal(rs_disk_inject(&d, RS_DISK_IO_META), RS_OK); /* does not count */
    assert_int_equal(rs_disk_inject(&d, RS_DISK_IO_SYNC), RS_EIO);
    assert_int_equal(rs_disk_inject(&d, RS_DISK_IO_WRITE), RS_EIO);
    assert_int_equal(rs_disk_inject(&d, RS_DISK_IO_WRITE), RS_OK);
    assert_int_equal(d.faults.fail_next, 0);
    set_faults(&d, (struct rs_disk_faults){.dead = true});
    assert_int_equal(rs_disk_inject(&d, RS_DISK_IO_META), RS_EIO);
    assert_int_equal(rs_disk_inject(&d, RS_DISK_IO_SYNC), RS_EIO);
    set_faults(&d, (struct rs_disk_faults){.write_error_ppm = 1000000});
    assert_int_equal(rs_disk_inject(&d, RS_DISK_IO_WRITE), RS_EIO);
    assert_int_equal(rs_disk_inject(&d, RS_DISK_IO_SYNC), RS_OK);
    assert_int_equal(d.stats.injected_errors, 5);
    /* A probability draws once per call whatever its value: two disks that differ only in the
     * write probability agree on every sync. */
    struct rs_disk a;
    struct rs_disk b;
    disk_open(&a, 512, 0);
    disk_open(&b, 512, 0);
    set_faults(&a, (struct rs_disk_faults){.sync_error_ppm = 300000});
    set_faults(&b, (struct rs_disk_faults){.sync_error_ppm = 300000, .write_error_ppm = 500000});
    uint32_t sync_failures = 0;
    for (int i = 0; i < 2000; i++) {
        rs_disk_inject(&a, RS_DISK_IO_WRITE);
        rs_disk_inject(&b, RS_DISK_IO_WRITE);
        enum rs_err ea = rs_disk_inject(&a, RS_DISK_IO_SYNC);
        assert_int_equal(ea, rs_disk_inject(&b, RS_DISK_IO_SYNC));
        sync_failures += ea != RS_OK;
    }
    assert_in_range(sync_failures, 600 - 130, 600 + 130); /* sd 20 */
    struct rs_disk_faults bad = {.sync_error_ppm = 1000001};
    assert_int_equal(rs_disk_set_faults(&a, &bad), RS_EINVAL);
    bad = (struct rs_disk_faults){.slow_factor = RS_DISK_SLOW_FACTOR_MAX + 1};
    assert_int_equal(rs_disk_set_faults(&a, &bad), RS_EINVAL);
    rs_disk_free(&a);
    rs_disk_free(&b);
    rs_disk_free(&d);
}

/* A full disk refuses growth and nothing else; freeing space makes room again. */
static void test_capacity_refuses_growth(void **state)
{
    (void)state;
    struct rs_disk d;
    disk_open(&d, 512, 1000000);
    set_faults(&d, (struct rs_disk_faults){.capacity_bytes = 1000});
    fill(&d, "a", 0, 600, 'a');
    fill(&d, "b", 0, 300, 'b');
    uint8_t buf[200] = {0};
    assert_int_equal(rs_disk_write(&d, "a", 600, buf, 101), RS_ENOSPACE);
    assert_int_equal(rs_disk_write(&d, "c", 0, buf, 101), RS_ENOSPACE);
    assert_null(rs_disk_read(&d, "c", NULL)); /* nothing created */
    assert_int_equal(rs_disk_truncate(&d, "b", 401), RS_ENOSPACE);
    assert_runs(&d, "a", 600, 600, "a");
    fill(&d, "a", 500, 200, 'x'); /* 100 bytes of growth fit exactly */
    assert_int_equal(d.used_bytes, 1000);
    fill(&d, "a", 0, 100, 'y'); /* overwriting needs no room */
    assert_int_equal(d.stats.full_errors, 3);
    assert_int_equal(rs_disk_truncate(&d, "a", 100), RS_OK);
    assert_int_equal(d.used_bytes, 400);
    assert_int_equal(rs_disk_rename(&d, "a", "b"), RS_OK); /* the old b is replaced */
    assert_int_equal(d.used_bytes, 100);
    fill(&d, "c", 0, 300, 'c');
    rs_disk_crash(&d); /* keep everything: c stays */
    assert_int_equal(d.used_bytes, 400);
    assert_int_equal(rs_disk_remove(&d, "c"), RS_OK);
    assert_int_equal(d.used_bytes, 100);
    set_faults(&d, (struct rs_disk_faults){0}); /* no capacity: unlimited */
    fill(&d, "big", 0, 5000, 'z');
    rs_disk_wipe(&d);
    assert_int_equal(d.used_bytes, 0);
    rs_disk_free(&d);
}

static void test_slow_factor_multiplies_latency(void **state)
{
    (void)state;
    struct rs_disk a;
    struct rs_disk b;
    disk_open(&a, 512, 0);
    disk_open(&b, 512, 0);
    set_faults(&b, (struct rs_disk_faults){.slow_factor = 10});
    uint64_t now = 0;
    for (int i = 0; i < 50; i++) {
        enum rs_disk_op kind = (enum rs_disk_op)(i % 3);
        uint64_t fast = rs_disk_schedule(&a, now, kind, 0) - now;
        uint64_t slow = rs_disk_schedule(&b, now, kind, 0) - now;
        assert_int_equal(slow, 10 * fast); /* the same draws, ten times longer */
        now += 100000000; /* both idle again */
    }
    rs_disk_free(&a);
    rs_disk_free(&b);
}

/* The synced prefix survives a crash as synced; kept torn blocks do not count as synced. */
static void test_synced_size_and_bit_rot(void **state)
{
    (void)state;
    struct rs_disk d;
    disk_open(&d, 512, 1000000);
    fill(&d, "log", 0, 1024, 'a');
    assert_int_equal(rs_disk_sync(&d, "log"), RS_OK);
    fill(&d, "log", 1024, 1024, 'b');
    fill(&d, "meta", 0, 100, 'm');
    assert_int_equal(rs_disk_sync(&d, "meta"), RS_OK);
    rs_disk_crash(&d); /* every dirty block kept */
    assert_int_equal(rs_disk_synced_size(&d, "log"), 1024);
    assert_int_equal(rs_disk_synced_size(&d, "meta"), 100);
    assert_int_equal(rs_disk_synced_size(&d, "none"), 0);
    struct rs_rng rng;
    rs_rng_derive(&rng, 1, "test");
    assert_int_equal(rs_disk_corrupt(&d, &rng, 16, true), 16);
    assert_span(&d, "log", 0, 1024, (uint8_t)'a'); /* the synced prefix is intact */
    assert_runs(&d, "meta", 100, 100, "m");
    size_t size = 0;
    const uint8_t *log = rs_disk_read(&d, "log", &size);
    uint32_t flipped = 0;
    for (size_t i = 1024; i < size; i++) {
        flipped += (uint32_t)__builtin_popcount(log[i] ^ 'b');
    }
    assert_true(flipped >= 2 && flipped <= 16 && flipped % 2 == 0); /* pairs may cancel */
    assert_int_equal(d.stats.corrupted_bits, 16);
    /* Once recovery has read the files, the kept tail counts as synced too. */
    rs_disk_recovered(&d);
    assert_int_equal(rs_disk_synced_size(&d, "log"), 2048);
    assert_int_equal(rs_disk_corrupt(&d, &rng, 4, true), 0);
    /* A truncate keeps the synced prefix within the new length; after a sync, nothing is
     * unsynced and the unsynced region is empty. */
    assert_int_equal(rs_disk_truncate(&d, "log", 512), RS_OK);
    assert_int_equal(rs_disk_synced_size(&d, "log"), 512);
    assert_int_equal(rs_disk_corrupt(&d, &rng, 4, true), 0);
    assert_int_equal(rs_disk_corrupt(&d, &rng, 1, false), 1);
    rs_disk_wipe(&d);
    assert_int_equal(rs_disk_corrupt(&d, &rng, 1, false), 0);
    rs_disk_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_rejects_bad_params),
        cmocka_unit_test(test_read_your_writes_and_bad_input),
        cmocka_unit_test(test_sync_then_crash_keeps_data),
        cmocka_unit_test(test_unsynced_data_lost_with_keep_zero),
        cmocka_unit_test(test_unsynced_data_all_kept_with_keep_million),
        cmocka_unit_test(test_partial_tears_at_block_boundaries),
        cmocka_unit_test(test_truncate_is_durable_at_once),
        cmocka_unit_test(test_rename_and_remove_are_durable),
        cmocka_unit_test(test_wipe_and_list_order),
        cmocka_unit_test(test_dirty_tracking_is_cheap),
        cmocka_unit_test(test_schedule_is_a_fifo_queue),
        cmocka_unit_test(test_matches_reference_model_keep_none),
        cmocka_unit_test(test_matches_reference_model_keep_all),
        cmocka_unit_test(test_matches_reference_model_torn),
        cmocka_unit_test(test_injected_errors),
        cmocka_unit_test(test_capacity_refuses_growth),
        cmocka_unit_test(test_slow_factor_multiplies_latency),
        cmocka_unit_test(test_synced_size_and_bit_rot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
