/* Snapshots: the file format, saving one, compacting the log, and installing one remotely. */
#ifndef RS_CORE_RAFT_SNAPSHOT_H
#define RS_CORE_RAFT_SNAPSHOT_H

#include "core/base.h"
#include "core/raft/conf.h"

/*
 * A snapshot file "snap-<index as 16 hex>-<term as 16 hex>":
 *   u32 magic "RSSN" | u32 version | u64 last_index | u64 last_term | u32 conf_size |
 *   conf (rs_conf_encode, zero-padded to RS_CONF_ENCODED_MAX) | u64 data_size | data |
 *   u64 xxh64(everything before)
 * It is written as "<name>.part", synced, then renamed: a crash during the save leaves only
 * a .part file, which recovery never trusts. A follower downloading a snapshot writes the same
 * bytes to the same .part name, so a download can resume after a crash.
 */
#define RS_SNAPSHOT_HEADER_SIZE (4 + 4 + 8 + 8 + 4 + RS_CONF_ENCODED_MAX + 8)
#define RS_SNAPSHOT_TRAILER_SIZE 8u
#define RS_SNAPSHOT_SIZE_MAX (256u << 20)

struct rs_snapshot_meta {
    rs_index last_index;
    rs_term last_term;
    struct rs_conf conf; /* the configuration as of last_index */
};

/* The encoded file: meta, state machine data and checksum, all in one buffer. */
struct rs_snapshot {
    struct rs_snapshot_meta meta;
    uint8_t *file; /* owned; NULL when there is no snapshot */
    size_t file_size;
};

size_t rs_snapshot_file_size(size_t data_size);
/* Builds the file bytes; returns an owned buffer of rs_snapshot_file_size(size) bytes. */
uint8_t *rs_snapshot_encode(const struct rs_snapshot_meta *meta, const uint8_t *data,
                            size_t size);
/* Checks a whole file. On success fills meta and the data view. RS_ECORRUPT otherwise. */
enum rs_err rs_snapshot_decode(const uint8_t *file, size_t size, struct rs_snapshot_meta *meta,
                               struct rs_bytes *data);
void rs_snapshot_name(rs_index index, rs_term term, bool part, char *name, size_t size);
/* Parses "snap-<idx>-<term>" or its ".part" form. */
bool rs_snapshot_parse_name(const char *name, rs_index *index, rs_term *term, bool *part);
void rs_snapshot_free(struct rs_snapshot *s);

#endif
