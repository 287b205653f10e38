/* A growable byte buffer with JSON writers, used for every JSON and CSV line we emit. */
#ifndef RS_REPORTS_JSON_H
#define RS_REPORTS_JSON_H

#include <stddef.h>
#include <stdint.h>

struct rs_buf {
    char *data;
    size_t size;
    size_t cap;
};

void rs_buf_init(struct rs_buf *buf);
void rs_buf_free(struct rs_buf *buf);
void rs_buf_reset(struct rs_buf *buf);
void rs_buf_put(struct rs_buf *buf, const void *data, size_t size);
void rs_buf_puts(struct rs_buf *buf, const char *str);
void rs_buf_putc(struct rs_buf *buf, char c);
void rs_buf_printf(struct rs_buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void rs_buf_u64(struct rs_buf *buf, uint64_t value);
void rs_buf_i64(struct rs_buf *buf, int64_t value);

/* A JSON string literal, quoted and escaped (control bytes and non-ASCII as \u00XX). */
void rs_buf_json_str(struct rs_buf *buf, const char *str, size_t size);
/* `"key":` (the key is written as is: callers pass identifiers). */
void rs_buf_json_key(struct rs_buf *buf, const char *key);

#endif
