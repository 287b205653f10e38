/* A simulated per-node disk: a flat filesystem of named files, block-granular crash tearing,
 * and injected faults (I/O errors, a full disk, a slow disk, bit rot). */
#ifndef RS_SIM_DISK_H
#define RS_SIM_DISK_H

#include "core/base.h"
#include "sim/rng.h"

#define RS_DISK_NAME_MAX       63u          /* bytes, not counting the terminating NUL */
#define RS_DISK_FILE_BYTES_MAX (1ull << 32) /* larger offsets or sizes return RS_ETOOBIG */
#define RS_DISK_BLOCK_MIN      64u
#define RS_DISK_BLOCK_MAX      (1u << 20)
#define RS_DISK_PPM_MAX        1000000u

/*
 * Semantics (what the engine above may rely on, and what a crash takes away):
 *
 * - Every file has a current content (what the running process reads) and a durable content
 *   (what survives a crash). rs_disk_write and rs_disk_truncate change the current content;
 *   rs_disk_sync makes one file's current content (and length) durable.
 * - Metadata operations are journaled and durable as soon as they return: creating a file
 *   (the first write to a new name; it is durable with length 0), rename (atomically
 *   replacing the target), remove, and truncate (the new length is durable at once, and so
 *   are the zeros it adds when it extends; unsynced data below the new length stays
 *   unsynced). A later issue may weaken this to model directory fsync.
 * - rs_disk_crash: each block written since the file's last sync (a dirty block) independently
 *   keeps its new content with probability torn_keep_ppm / 1e6, otherwise reverts to its
 *   durable content; blocks are decided in file-name order, then block order, from the
 *   disk's own "disk/tear/<node>" stream. A multi-block write can therefore be partly kept.
 *   The length after a crash is the durable length, extended to cover kept blocks (the end of
 *   the last kept block, or the current length if that is shorter); unkept blocks below that
 *   length read as their durable content, which is zeros beyond the old durable length.
 * - rs_disk_wipe: every file is gone (a replaced disk).
 *
 * Costs: the durable content is not a second copy. A dirty block's durable content is saved
 * once, when the block is first written after a sync, in a block from a per-disk pool (and
 * not at all when the block lies wholly beyond the durable length, e.g. appends). sync and
 * crash cost O(dirty blocks), not O(file size). Pool blocks are reused, never freed before
 * rs_disk_free, so steady-state writes do not allocate.
 *
 * Timing is separate from content: rs_disk_schedule models one FIFO queue per disk. The host
 * applies an operation's effect when it chooses (typically at submission, with the
 * completion reported to the engine at the returned time).
 *
 * Faults (struct rs_disk_faults, all off by default): the host asks rs_disk_inject before it
 * applies an operation whether the operation fails with an I/O error; a failed operation
 * changes nothing (a failed sync leaves its dirty blocks dirty, to be lost or torn by a crash).
 * A capacity makes writes and extending truncates that would grow the files' total size past
 * it fail with RS_ENOSPACE (changing nothing). A slow factor multiplies every latency.
 * rs_disk_corrupt flips bits in stored bytes (bit rot: later reads, recovery included, see
 * them).
 */
enum rs_disk_op {
    RS_DISK_OP_WRITE,
    RS_DISK_OP_SYNC,
    RS_DISK_OP_READ,
};

/*
 * Latency of each kind is uniform in [min, max]. bandwidth_bytes_per_s, when non-zero, adds
 * ceil(size * 1e9 / bandwidth) ns to any operation of `size` bytes (for a sync, pass the dirty
 * bytes it flushes, or 0). block_size must be a power of two in
 * [RS_DISK_BLOCK_MIN, RS_DISK_BLOCK_MAX].
 */
struct rs_disk_params {
    uint64_t write_latency_min_ns, write_latency_max_ns;
    uint64_t sync_latency_min_ns, sync_latency_max_ns;
    uint64_t read_latency_min_ns, read_latency_max_ns;
    uint64_t bandwidth_bytes_per_s;
    uint32_t block_size;
    uint32_t torn_keep_ppm;
};

/*
 * Injected faults. An operation fails with RS_EIO when the disk is dead (every operation),
 * when fail_next is non-zero (the next fail_next writes and syncs; each failure counts it
 * down), or by chance (write_error_ppm, sync_error_ppm). capacity_bytes 0 is unlimited;
 * slow_factor 0 or 1 is normal speed, at most RS_DISK_SLOW_FACTOR_MAX.
 */
#define RS_DISK_SLOW_FACTOR_MAX 1000u
struct rs_disk_faults {
    uint64_t capacity_bytes;
    uint32_t write_error_ppm;
    uint32_t sync_error_ppm;
    uint32_t fail_next;
    uint32_t slow_factor;
    bool dead;
};

/* What an operation is, for rs_disk_inject: truncate, rename and remove are metadata. */
enum rs_disk_io { RS_DISK_IO_WRITE, RS_DISK_IO_SYNC, RS_DISK_IO_META };

/* Cumulative counts for reports and tests. */
struct rs_disk_stats {
    uint64_t writes;
    uint64_t write_bytes;
    uint64_t syncs;
    uint64_t synced_blocks;  /* dirty blocks made durable by rs_disk_sync */
    uint64_t saved_blocks;   /* durable blocks copied aside when first dirtied */
    uint64_t crashes;
    uint64_t torn_kept_blocks;
    uint64_t torn_lost_blocks;
    uint64_t injected_errors; /* RS_EIO answers of rs_disk_inject */
    uint64_t full_errors;     /* RS_ENOSPACE answers */
    uint64_t corrupted_bits;  /* flipped by rs_disk_corrupt */
};

struct rs_disk_file; /* private to disk.c */

struct rs_disk {
    struct rs_disk_params params;
    uint32_t node;
    unsigned block_shift;
    struct rs_rng latency_rng; /* "disk/<node>" */
    struct rs_rng tear_rng;    /* "disk/tear/<node>" */
    struct rs_rng fault_rng;   /* "disk/fault/<node>": injected errors */
    struct rs_disk_file **files; /* sorted by name (strcmp) */
    size_t file_count;
    size_t file_cap;
    uint8_t *pool_free;          /* free list of saved-block buffers, linked in place */
    size_t pool_free_count;
    uint8_t **pool_chunks;
    size_t pool_chunk_count;
    size_t pool_chunk_cap;
    uint64_t busy_until_ns;
    uint64_t used_bytes; /* the current sizes of all files together */
    struct rs_disk_faults faults;
    struct rs_disk_stats stats;
};

bool rs_disk_params_valid(const struct rs_disk_params *p);
/* RS_EINVAL for bad parameters; the disk is then empty and rs_disk_free is safe. */
enum rs_err rs_disk_init(struct rs_disk *d, const struct rs_disk_params *p, uint64_t run_seed,
                         uint32_t node);
void rs_disk_free(struct rs_disk *d);

/*
 * Errors of the operations below, which change nothing when they fail: RS_EINVAL for a bad
 * name (NULL, empty, longer than RS_DISK_NAME_MAX) or NULL data with a non-zero size;
 * RS_ENOTFOUND for a missing file (write creates instead); RS_ETOOBIG past
 * RS_DISK_FILE_BYTES_MAX; RS_ENOMEM.
 */
/*
 * Creates the file if absent (even for size 0); a gap past the end is zero-filled. data must
 * not point into this disk's own buffers (a pointer from rs_disk_read): growing a file may
 * move them.
 */
enum rs_err rs_disk_write(struct rs_disk *d, const char *name, uint64_t offset, const void *data,
                          size_t size);
enum rs_err rs_disk_sync(struct rs_disk *d, const char *name);
enum rs_err rs_disk_truncate(struct rs_disk *d, const char *name, uint64_t size);
/* Replaces `to` if it exists; renaming a file to itself does nothing. */
enum rs_err rs_disk_rename(struct rs_disk *d, const char *from, const char *to);
enum rs_err rs_disk_remove(struct rs_disk *d, const char *name);
/* Removes every file whose name starts with prefix (none is not an error). */
enum rs_err rs_disk_remove_prefix(struct rs_disk *d, const char *prefix);

/*
 * The current content, valid until the next call that changes the disk; NULL if the file
 * does not exist (a file of length 0 gives a non-NULL pointer).
 */
const uint8_t *rs_disk_read(const struct rs_disk *d, const char *name, size_t *size);
/*
 * Copy the durable content (what a crash with torn_keep_ppm = 0 would leave) into out.
 * *size is set to the durable length; RS_ETOOBIG (nothing copied) if it exceeds cap.
 */
enum rs_err rs_disk_read_durable(const struct rs_disk *d, const char *name, uint8_t *out,
                                 size_t cap, size_t *size);
/*
 * Up to cap names in strcmp order; returns the total number of files (call with cap 0 to
 * size the array). The names are valid until the next call that changes the disk.
 */
size_t rs_disk_list(const struct rs_disk *d, const char **names, size_t cap);
/* Blocks of this file written since its last sync (0 if absent). */
size_t rs_disk_dirty_blocks(const struct rs_disk *d, const char *name);

void rs_disk_crash(struct rs_disk *d);
void rs_disk_wipe(struct rs_disk *d);

/*
 * Whether the next operation of this kind fails: RS_EIO or RS_OK. Draws exactly one value from
 * "disk/fault/<node>" per call whatever the settings, so turning a probability up does not
 * move later draws. Call it once per operation, before applying the operation.
 */
enum rs_err rs_disk_inject(struct rs_disk *d, enum rs_disk_io io);
/* RS_EINVAL (and nothing changes) for a ppm above RS_DISK_PPM_MAX or a bad slow factor. */
enum rs_err rs_disk_set_faults(struct rs_disk *d, const struct rs_disk_faults *faults);

/*
 * The bytes a file holds that were made durable by rs_disk_sync or rs_disk_truncate (a prefix
 * of the file): bytes beyond it are unsynced, or kept by a crash from unsynced writes. 0 for
 * a missing file.
 */
uint64_t rs_disk_synced_size(const struct rs_disk *d, const char *name);
/*
 * Recovery has read the files: from now on what they hold counts as synced. (After a crash
 * the kept blocks of unsynced writes are on the platter, and once a recovery has read them the
 * engine treats them as durable; only the bytes a crash kept and no recovery has read yet are
 * the unsynced region of rs_disk_corrupt.)
 */
void rs_disk_recovered(struct rs_disk *d);
/*
 * Bit rot: flips `bits` bits at positions drawn from rng, uniformly over the bytes of every
 * file (files in name order), or only over the bytes beyond each file's synced size when
 * unsynced_only. Returns how many bits were flipped (0 when the region is empty). The
 * current content changes; where a block is clean its durable content is the same bytes.
 */
uint32_t rs_disk_corrupt(struct rs_disk *d, struct rs_rng *rng, uint32_t bits,
                         bool unsynced_only);

/*
 * One FIFO queue per disk: completion = max(now, busy_until) + latency drawn for the kind
 * (from "disk/<node>", times the slow factor) + size / bandwidth; the disk is busy until that
 * completion. Completions are therefore non-decreasing in submission order.
 */
uint64_t rs_disk_schedule(struct rs_disk *d, uint64_t now_ns, enum rs_disk_op kind, size_t size);

#endif
