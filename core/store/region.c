/* Regions: key ranges with epochs, their byte form, and the envelope frame. */
#include "core/store/region.h"

#include "core/kv/kv_cmd.h"
#include "core/wire/frame.h"

#include <stdlib.h>
#include <string.h>

static uint8_t *dup_key(struct rs_bytes key)
{
    RS_ASSERT(key.size <= RS_REGION_KEY_SIZE_MAX);
    uint8_t *p = malloc(key.size ? key.size : 1);
    RS_ASSERT(p != NULL);
    if (key.size > 0) {
        memcpy(p, key.data, key.size);
    }
    return p;
}

void rs_region_init(struct rs_region *r, uint64_t id, struct rs_bytes start, struct rs_bytes end)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    r->epoch = (struct rs_region_epoch){.conf_ver = 1, .version = 1};
    rs_region_set_range(r, start, end);
}

void rs_region_free(struct rs_region *r)
{
    free(r->start);
    free(r->end);
    memset(r, 0, sizeof *r);
}

void rs_region_set_range(struct rs_region *r, struct rs_bytes start, struct rs_bytes end)
{
    /* copy first: the new boundaries may be views into the old ones */
    uint8_t *s = dup_key(start);
    uint8_t *e = dup_key(end);
    free(r->start);
    free(r->end);
    r->start = s;
    r->start_size = start.size;
    r->end = e;
    r->end_size = end.size;
}

void rs_region_copy(struct rs_region *dst, const struct rs_region *src)
{
    rs_region_init(dst, src->id, (struct rs_bytes){src->start, src->start_size},
                   (struct rs_bytes){src->end, src->end_size});
    dst->epoch = src->epoch;
}

int rs_key_compare(struct rs_bytes a, struct rs_bytes b)
{
    size_t n = a.size < b.size ? a.size : b.size;
    int c = n > 0 ? memcmp(a.data, b.data, n) : 0;
    if (c != 0) {
        return c < 0 ? -1 : 1;
    }
    return a.size == b.size ? 0 : (a.size < b.size ? -1 : 1);
}

bool rs_region_contains(const struct rs_region *r, struct rs_bytes key)
{
    struct rs_bytes start = {r->start, r->start_size};
    struct rs_bytes end = {r->end, r->end_size};
    if (rs_key_compare(key, start) < 0) {
        return false; /* an empty start is below every key: compare says key >= "" */
    }
    return end.size == 0 || rs_key_compare(key, end) < 0;
}

bool rs_region_holds_range(const struct rs_region *r, struct rs_bytes start, struct rs_bytes end)
{
    if (!rs_region_contains(r, start)) {
        return false;
    }
    if (r->end_size == 0) {
        return true;
    }
    return end.size > 0 && rs_key_compare(end, (struct rs_bytes){r->end, r->end_size}) <= 0;
}

bool rs_region_holds_op(const struct rs_region *r, const struct rs_kv_op *op)
{
    switch (op->opcode) {
    case RS_KV_MULTI_GET:
    case RS_KV_BATCH_PUT:
    case RS_KV_BATCH_DELETE:
    case RS_KV_CAS_ALL: {
        if (rs_kv_list_check(op->opcode, op->list) != RS_OK) {
            return false;
        }
        struct rs_kv_iter it;
        struct rs_kv_entry e;
        rs_kv_list_begin(&it, op->opcode, op->list);
        while (rs_kv_iter_next(&it, &e)) {
            if (!rs_region_contains(r, e.key)) {
                return false;
            }
        }
        return true;
    }
    case RS_KV_SCAN:
    case RS_KV_REVERSE_SCAN:
    case RS_KV_DELETE_RANGE: return rs_region_holds_range(r, op->key, op->end_key);
    case RS_KV_LOCK:
    case RS_KV_UNLOCK:
        return rs_region_contains(r, op->key) &&
               (op->fencing_key.size == 0 || rs_region_contains(r, op->fencing_key));
    default: return rs_region_contains(r, op->key);
    }
}

size_t rs_region_size(const struct rs_region *r)
{
    return 8 + 8 + 8 + 4 + r->start_size + 4 + r->end_size;
}

void rs_region_write(struct rs_writer *w, const struct rs_region *r)
{
    rs_w_u64(w, r->id);
    rs_w_u64(w, r->epoch.conf_ver);
    rs_w_u64(w, r->epoch.version);
    rs_w_blob(w, r->start, r->start_size);
    rs_w_blob(w, r->end, r->end_size);
}

void rs_region_read(struct rs_reader *rd, struct rs_region *r)
{
    uint64_t id = rs_r_u64(rd);
    struct rs_region_epoch epoch = {.conf_ver = rs_r_u64(rd), .version = rs_r_u64(rd)};
    struct rs_bytes start = rs_r_blob(rd);
    struct rs_bytes end = rs_r_blob(rd);
    if (rd->error || start.size > RS_REGION_KEY_SIZE_MAX || end.size > RS_REGION_KEY_SIZE_MAX ||
        (end.size > 0 && rs_key_compare(start, end) >= 0)) {
        rd->error = true;
        return;
    }
    rs_region_free(r);
    rs_region_init(r, id, start, end);
    r->epoch = epoch;
}

size_t rs_envelope_inner_offset(void)
{
    return RS_FRAME_HEADER_SIZE + RS_ENVELOPE_BODY_HEADER_SIZE;
}

size_t rs_envelope_size(size_t inner_size)
{
    return rs_envelope_inner_offset() + inner_size;
}

size_t rs_envelope_seal(uint8_t *out, uint64_t region_id, struct rs_region_epoch epoch,
                        size_t inner_size)
{
    uint8_t *body = out + RS_FRAME_HEADER_SIZE;
    rs_put_u64(body, region_id);
    rs_put_u64(body + 8, epoch.conf_ver);
    rs_put_u64(body + 16, epoch.version);
    rs_frame_seal(out, RS_MSG_REGION, RS_ENVELOPE_BODY_HEADER_SIZE + inner_size);
    return rs_envelope_size(inner_size);
}

enum rs_err rs_envelope_decode(const uint8_t *frame, size_t size, struct rs_envelope *env)
{
    unsigned type;
    struct rs_bytes body;
    if (rs_frame_decode(frame, size, &type, &body) != RS_OK || type != RS_MSG_REGION ||
        body.size < RS_ENVELOPE_BODY_HEADER_SIZE) {
        return RS_ECORRUPT;
    }
    env->region_id = rs_get_u64(body.data);
    env->epoch.conf_ver = rs_get_u64(body.data + 8);
    env->epoch.version = rs_get_u64(body.data + 16);
    env->inner.data = body.data + RS_ENVELOPE_BODY_HEADER_SIZE;
    env->inner.size = body.size - RS_ENVELOPE_BODY_HEADER_SIZE;
    return RS_OK;
}
