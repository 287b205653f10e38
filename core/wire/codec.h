/* Little-endian integer encoding helpers shared by every codec in the engine. */
#ifndef RS_CORE_WIRE_CODEC_H
#define RS_CORE_WIRE_CODEC_H

#include "core/base.h"

#include <string.h>

static inline void rs_put_u8(uint8_t *p, uint8_t v)
{
    p[0] = v;
}
static inline void rs_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void rs_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}
static inline void rs_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}
static inline uint16_t rs_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t rs_get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}
static inline uint64_t rs_get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

/*
 * A bounded writer and reader. Overflow sets the error flag instead of writing or reading past
 * the end; callers check it once at the end, so codecs stay short and never overrun.
 */
struct rs_writer {
    uint8_t *data;
    size_t cap;
    size_t pos;
    bool overflow;
};

struct rs_reader {
    const uint8_t *data;
    size_t size;
    size_t pos;
    bool error;
};

static inline void rs_writer_init(struct rs_writer *w, uint8_t *data, size_t cap)
{
    w->data = data;
    w->cap = cap;
    w->pos = 0;
    w->overflow = false;
}
static inline uint8_t *rs_writer_take(struct rs_writer *w, size_t n)
{
    if (w->overflow || w->cap - w->pos < n) {
        w->overflow = true;
        return NULL;
    }
    uint8_t *p = w->data + w->pos;
    w->pos += n;
    return p;
}
static inline void rs_w_u8(struct rs_writer *w, uint8_t v)
{
    uint8_t *p = rs_writer_take(w, 1);
    if (p) rs_put_u8(p, v);
}
static inline void rs_w_u16(struct rs_writer *w, uint16_t v)
{
    uint8_t *p = rs_writer_take(w, 2);
    if (p) rs_put_u16(p, v);
}
static inline void rs_w_u32(struct rs_writer *w, uint32_t v)
{
    uint8_t *p = rs_writer_take(w, 4);
    if (p) rs_put_u32(p, v);
}
static inline void rs_w_u64(struct rs_writer *w, uint64_t v)
{
    uint8_t *p = rs_writer_take(w, 8);
    if (p) rs_put_u64(p, v);
}
static inline void rs_w_bytes(struct rs_writer *w, const void *data, size_t n)
{
    uint8_t *p = rs_writer_take(w, n);
    if (p && n) memcpy(p, data, n);
}
/* A u32 length followed by the bytes. */
static inline void rs_w_blob(struct rs_writer *w, const void *data, size_t n)
{
    rs_w_u32(w, (uint32_t)n);
    rs_w_bytes(w, data, n);
}

static inline void rs_reader_init(struct rs_reader *r, const uint8_t *data, size_t size)
{
    r->data = data;
    r->size = size;
    r->pos = 0;
    r->error = false;
}
static inline const uint8_t *rs_reader_take(struct rs_reader *r, size_t n)
{
    if (r->error || r->size - r->pos < n) {
        r->error = true;
        return NULL;
    }
    const uint8_t *p = r->data + r->pos;
    r->pos += n;
    return p;
}
static inline uint8_t rs_r_u8(struct rs_reader *r)
{
    const uint8_t *p = rs_reader_take(r, 1);
    return p ? p[0] : 0;
}
static inline uint16_t rs_r_u16(struct rs_reader *r)
{
    const uint8_t *p = rs_reader_take(r, 2);
    return p ? rs_get_u16(p) : 0;
}
static inline uint32_t rs_r_u32(struct rs_reader *r)
{
    const uint8_t *p = rs_reader_take(r, 4);
    return p ? rs_get_u32(p) : 0;
}
static inline uint64_t rs_r_u64(struct rs_reader *r)
{
    const uint8_t *p = rs_reader_take(r, 8);
    return p ? rs_get_u64(p) : 0;
}
/* Reads a u32 length and returns a view of that many bytes (no copy). */
static inline struct rs_bytes rs_r_blob(struct rs_reader *r)
{
    struct rs_bytes b = {NULL, 0};
    uint32_t n = rs_r_u32(r);
    const uint8_t *p = rs_reader_take(r, n);
    if (p) {
        b.data = p;
        b.size = n;
    }
    return b;
}

#endif
