/* The outbox of effects. */
#include "core/out.h"

#include <stdlib.h>
#include <string.h>

static void *grow(void *ptr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) {
        return ptr;
    }
    size_t cap_new = *cap ? *cap : 16;
    while (cap_new < need) {
        cap_new *= 2;
    }
    void *p = realloc(ptr, cap_new * elem);
    RS_ASSERT(p != NULL);
    *cap = cap_new;
    return p;
}

void rs_out_init(struct rs_out *out)
{
    memset(out, 0, sizeof *out);
    out->next_disk_id = 1;
}

void rs_out_free(struct rs_out *out)
{
    free(out->msgs);
    free(out->disk);
    free(out->bytes);
    memset(out, 0, sizeof *out);
}

void rs_out_clear(struct rs_out *out)
{
    out->msg_count = 0;
    out->disk_count = 0;
    out->bytes_size = 0;
}

size_t rs_out_reserve(struct rs_out *out, size_t size)
{
    out->bytes = grow(out->bytes, &out->bytes_cap, out->bytes_size + size, 1);
    size_t offset = out->bytes_size;
    out->bytes_size += size;
    return offset;
}

void rs_out_msg(struct rs_out *out, rs_node_id to, uint32_t type, size_t offset, size_t size)
{
    RS_ASSERT(offset + size <= out->bytes_size);
    out->msgs = grow(out->msgs, &out->msg_cap, out->msg_count + 1, sizeof *out->msgs);
    struct rs_out_msg *m = &out->msgs[out->msg_count++];
    m->to = to;
    m->type = type;
    m->offset = offset;
    m->size = size;
}

static struct rs_out_disk *disk_add(struct rs_out *out, enum rs_disk_kind kind, const char *name,
                                    const char *name2, uint64_t offset)
{
    out->disk = grow(out->disk, &out->disk_cap, out->disk_count + 1, sizeof *out->disk);
    struct rs_out_disk *d = &out->disk[out->disk_count++];
    memset(d, 0, sizeof *d);
    d->id = out->next_disk_id++;
    d->kind = (uint8_t)kind;
    RS_ASSERT(strlen(name) < RS_FILE_NAME_MAX);
    strcpy(d->name, name);
    if (name2 != NULL) {
        RS_ASSERT(strlen(name2) < RS_FILE_NAME_MAX);
        strcpy(d->name2, name2);
    }
    d->offset = offset;
    return d;
}

uint64_t rs_out_disk_op(struct rs_out *out, enum rs_disk_kind kind, const char *name,
                        const char *name2, uint64_t offset, const void *data, size_t data_size)
{
    size_t at = 0;
    if (data_size > 0) {
        at = rs_out_reserve(out, data_size);
        memcpy(out->bytes + at, data, data_size);
    }
    struct rs_out_disk *d = disk_add(out, kind, name, name2, offset);
    d->data_offset = at;
    d->data_size = data_size;
    return d->id;
}

uint64_t rs_out_disk_write_at(struct rs_out *out, const char *name, uint64_t offset,
                              size_t data_offset, size_t data_size)
{
    RS_ASSERT(data_offset + data_size <= out->bytes_size);
    struct rs_out_disk *d = disk_add(out, RS_DISK_WRITE, name, NULL, offset);
    d->data_offset = data_offset;
    d->data_size = data_size;
    return d->id;
}
