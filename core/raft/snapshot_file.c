/* The snapshot file format. */
#include "core/raft/snapshot.h"

#include "core/wire/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define SNAPSHOT_MAGIC   0x4e535352u /* "RSSN" */
#define SNAPSHOT_VERSION 1u

size_t rs_snapshot_file_size(size_t data_size)
{
    return RS_SNAPSHOT_HEADER_SIZE + data_size + RS_SNAPSHOT_TRAILER_SIZE;
}

uint8_t *rs_snapshot_encode(const struct rs_snapshot_meta *meta, const uint8_t *data, size_t size)
{
    size_t total = rs_snapshot_file_size(size);
    uint8_t *file = calloc(1, total);
    RS_ASSERT(file != NULL);
    struct rs_writer w;
    rs_writer_init(&w, file, total);
    rs_w_u32(&w, SNAPSHOT_MAGIC);
    rs_w_u32(&w, SNAPSHOT_VERSION);
    rs_w_u64(&w, meta->last_index);
    rs_w_u64(&w, meta->last_term);
    uint8_t conf[RS_CONF_ENCODED_MAX] = {0};
    size_t conf_size = rs_conf_encode(&meta->conf, conf);
    rs_w_u32(&w, (uint32_t)conf_size);
    rs_w_bytes(&w, conf, RS_CONF_ENCODED_MAX);
    rs_w_u64(&w, size);
    rs_w_bytes(&w, data, size);
    rs_w_u64(&w, XXH64(file, w.pos, 0));
    RS_ASSERT(!w.overflow && w.pos == total);
    return file;
}

enum rs_err rs_snapshot_decode(const uint8_t *file, size_t size, struct rs_snapshot_meta *meta,
                               struct rs_bytes *data)
{
    if (size < rs_snapshot_file_size(0) || size > RS_SNAPSHOT_SIZE_MAX) {
        return RS_ECORRUPT;
    }
    if (rs_get_u64(file + size - 8) != XXH64(file, size - 8, 0)) {
        return RS_ECORRUPT;
    }
    struct rs_reader r;
    rs_reader_init(&r, file, size - 8);
    uint32_t magic = rs_r_u32(&r);
    uint32_t version = rs_r_u32(&r);
    meta->last_index = rs_r_u64(&r);
    meta->last_term = rs_r_u64(&r);
    uint32_t conf_size = rs_r_u32(&r);
    const uint8_t *conf = rs_reader_take(&r, RS_CONF_ENCODED_MAX);
    uint64_t data_size = rs_r_u64(&r);
    if (r.error || magic != SNAPSHOT_MAGIC || version != SNAPSHOT_VERSION ||
        conf_size > RS_CONF_ENCODED_MAX || data_size != r.size - r.pos ||
        meta->last_index == 0) {
        return RS_ECORRUPT;
    }
    if (rs_conf_decode((struct rs_bytes){conf, conf_size}, &meta->conf) != RS_OK) {
        return RS_ECORRUPT;
    }
    data->data = file + r.pos;
    data->size = (size_t)data_size;
    return RS_OK;
}

void rs_snapshot_name(rs_index index, rs_term term, bool part, char *name, size_t size)
{
    snprintf(name, size, "snap-%016llx-%016llx%s", (unsigned long long)index,
             (unsigned long long)term, part ? ".part" : "");
}

bool rs_snapshot_parse_name(const char *name, rs_index *index, rs_term *term, bool *part)
{
    size_t n = strlen(name);
    if (strncmp(name, "snap-", 5) != 0 || (n != 38 && n != 43) || name[21] != '-') {
        return false;
    }
    if (!rs_hex16_parse(name + 5, index) || !rs_hex16_parse(name + 22, term)) {
        return false;
    }
    *part = n == 43;
    return !*part || strcmp(name + 38, ".part") == 0;
}

void rs_snapshot_free(struct rs_snapshot *s)
{
    free(s->file);
    memset(s, 0, sizeof *s);
}
