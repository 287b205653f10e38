/* Effects the engine hands back to its host: messages to send, disk operations, a timer. */
#ifndef RS_CORE_OUT_H
#define RS_CORE_OUT_H

#include "core/base.h"

enum rs_disk_kind {
    RS_DISK_WRITE = 1,         /* write data at offset (creates the file) */
    RS_DISK_SYNC = 2,          /* make the file's written data durable */
    RS_DISK_TRUNCATE = 3,      /* cut the file to offset bytes */
    RS_DISK_REMOVE = 4,        /* delete the file */
    RS_DISK_RENAME = 5,        /* rename name to name2, replacing name2 */
    RS_DISK_REMOVE_PREFIX = 6, /* delete every file whose name starts with name */
};

#define RS_FILE_NAME_MAX 64

struct rs_out_msg {
    rs_node_id to;
    uint32_t type; /* enum rs_msg_type, for traces and filters */
    size_t offset; /* the frame's bytes are out->bytes[offset, offset + size) */
    size_t size;
};

struct rs_out_disk {
    uint64_t id; /* completions come back with this id, in submission order */
    uint8_t kind;
    char name[RS_FILE_NAME_MAX];
    char name2[RS_FILE_NAME_MAX];
    uint64_t offset;
    size_t data_offset; /* write data is out->bytes[data_offset, data_offset + data_size) */
    size_t data_size;
};

/*
 * The outbox. The engine appends to it; the host drains it after every call and then calls
 * rs_out_clear. Growth is amortised: after warm-up a step allocates nothing.
 */
struct rs_out {
    struct rs_out_msg *msgs;
    size_t msg_count;
    size_t msg_cap;
    struct rs_out_disk *disk;
    size_t disk_count;
    size_t disk_cap;
    uint8_t *bytes;
    size_t bytes_size;
    size_t bytes_cap;
    uint64_t next_disk_id; /* survives clears: ids are unique per outbox lifetime */
};

void rs_out_init(struct rs_out *out);
void rs_out_free(struct rs_out *out);
void rs_out_clear(struct rs_out *out);
/* Reserves size bytes at the end of the byte area and returns their offset. */
size_t rs_out_reserve(struct rs_out *out, size_t size);
static inline uint8_t *rs_out_at(struct rs_out *out, size_t offset)
{
    return out->bytes + offset;
}
/* Adds a message whose frame occupies bytes [offset, offset + size). */
void rs_out_msg(struct rs_out *out, rs_node_id to, uint32_t type, size_t offset, size_t size);
/* Adds a disk operation and returns its id. data may be NULL when data_size is 0. */
uint64_t rs_out_disk_op(struct rs_out *out, enum rs_disk_kind kind, const char *name,
                        const char *name2, uint64_t offset, const void *data, size_t data_size);
/* Same, for a write whose data is already in the byte area at data_offset. */
uint64_t rs_out_disk_write_at(struct rs_out *out, const char *name, uint64_t offset,
                              size_t data_offset, size_t data_size);

#endif
