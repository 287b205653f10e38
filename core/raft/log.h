/* The raft log in memory and its on-disk format: checksummed records in segment files. */
#ifndef RS_CORE_RAFT_LOG_H
#define RS_CORE_RAFT_LOG_H

#include "core/base.h"
#include "core/out.h"

enum rs_entry_type {
    RS_ENTRY_DATA = 1,
    RS_ENTRY_CONF = 2, /* the voter set; a new leader's first entry (as in SOFAJRaft) */
    RS_ENTRY_NOOP = 3,
};

struct rs_entry {
    rs_term term;
    uint8_t type;
    uint32_t size;
    uint8_t *data;    /* owned */
    rs_index segment_first; /* first index of the segment file that holds it */
    uint64_t offset;  /* byte offset of its record in that file */
};

/* Entries [first_index, first_index + count) in a growable array. prev_term is the term of
 * entry first_index - 1 (the last entry a snapshot covers), 0 when first_index is 1. */
struct rs_log {
    struct rs_entry *entries;
    size_t count;
    size_t cap;
    rs_index first_index;
    rs_term prev_term;
};

void rs_log_init(struct rs_log *log);
void rs_log_free(struct rs_log *log);
rs_index rs_log_last_index(const struct rs_log *log);
rs_term rs_log_last_term(const struct rs_log *log);
/* Term of the entry at index; index may also be first_index - 1 (the snapshot boundary). */
rs_term rs_log_term_at(const struct rs_log *log, rs_index index);
bool rs_log_has(const struct rs_log *log, rs_index index);
const struct rs_entry *rs_log_get(const struct rs_log *log, rs_index index);
/* Appends a copy of data; returns the new entry. */
struct rs_entry *rs_log_append(struct rs_log *log, rs_term term, uint8_t type, const void *data,
                               uint32_t size);
/* Removes entries from index on. */
void rs_log_truncate_suffix(struct rs_log *log, rs_index index);
/* Removes entries before index (they are covered by a snapshot); index <= last + 1. */
void rs_log_compact(struct rs_log *log, rs_index index);
/* Drops every entry: the log continues after a snapshot ending at (index, term). */
void rs_log_reset(struct rs_log *log, rs_index index, rs_term term);

/*
 * On disk: segment files "log-<first index as 16 hex digits>", each a sequence of records
 *   u32 magic "RSLE" | u32 payload_size | u64 index | u64 term | u8 type | 7 bytes zero |
 *   u64 synced (entries up to here were durable when this record was written) |
 *   payload | u64 xxh64(header and payload)
 * and a "meta" file with two 512-byte slots written alternately:
 *   u32 magic "RSMT" | u32 version | u64 seq | u64 term | u32 voted_for | u32 zero | u64 xxh64
 * Recovery takes the valid meta slot with the larger seq, and the longest valid prefix of
 * records (contiguous indexes, checksums good). A bad record is a torn tail, and is cut, unless
 * a valid record after it says the bad one had been synced before: that is damage to durable
 * data, reported with its location (the replica refuses to start rather than lose it).
 */
#define RS_LOG_RECORD_HEADER 40u
#define RS_LOG_RECORD_TRAILER 8u
#define RS_LOG_SEGMENTS_MAX 4096u
#define RS_META_SLOT_SIZE 512u
#define RS_ENTRY_SIZE_MAX (4u << 20)

struct rs_segment {
    rs_index first_index;
    uint64_t size_bytes;
    bool dirty; /* written since its last sync was submitted */
};

struct rs_log_store {
    struct rs_segment *segments; /* grown on demand, up to RS_LOG_SEGMENTS_MAX */
    uint32_t segment_count, segment_cap;
    uint64_t segment_bytes_max;
};

void rs_log_segment_name(rs_index first_index, char name[RS_FILE_NAME_MAX]);
/* Room for one more segment (at most RS_LOG_SEGMENTS_MAX); returns it, segment_count + 1. */
struct rs_segment *rs_log_store_push(struct rs_log_store *store);
void rs_log_store_free(struct rs_log_store *store);
size_t rs_log_record_size(uint32_t payload_size);
/* Encodes one record into dst (rs_log_record_size bytes). */
void rs_log_record_encode(uint8_t *dst, rs_index index, rs_term term, uint8_t type,
                          rs_index synced, const uint8_t *payload, uint32_t payload_size);

struct rs_meta {
    uint64_t seq;
    rs_term term;
    rs_node_id voted_for;
};

void rs_meta_encode(uint8_t dst[RS_META_SLOT_SIZE], const struct rs_meta *meta);
/* Picks the valid slot with the larger seq. RS_ENOTFOUND when neither is valid. */
enum rs_err rs_meta_decode(const uint8_t *data, size_t size, struct rs_meta *meta);

/* What recovery found in the segment files. */
struct rs_log_recovery {
    rs_index last_index;   /* last valid entry */
    uint32_t cut_segment;  /* segment where a torn tail was cut (when cut) */
    uint64_t cut_offset;
    bool cut;
    uint32_t segments_dropped; /* segments after the cut, removed */
    char detail[128];      /* where damage was found */
};

/*
 * Parses the segment files into log and store. files need not be sorted. Emits truncate and
 * remove operations for a torn tail into out.
 */
struct rs_file_view;
enum rs_err rs_log_recover(struct rs_log *log, struct rs_log_store *store,
                           const struct rs_file_view *files, size_t file_count,
                           struct rs_out *out, struct rs_log_recovery *rec);

#endif
