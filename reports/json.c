/* Growable buffer and JSON writers. */
#include "reports/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rs_buf_init(struct rs_buf *buf)
{
    buf->data = NULL;
    buf->size = 0;
    buf->cap = 0;
}

void rs_buf_free(struct rs_buf *buf)
{
    free(buf->data);
    rs_buf_init(buf);
}

void rs_buf_reset(struct rs_buf *buf)
{
    buf->size = 0;
}

static void buf_reserve(struct rs_buf *buf, size_t extra)
{
    if (buf->size + extra + 1 <= buf->cap) {
        return;
    }
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < buf->size + extra + 1) {
        cap *= 2;
    }
    char *data = realloc(buf->data, cap);
    if (data == NULL) {
        abort(); /* out of memory in the reporting path: nothing sensible remains */
    }
    buf->data = data;
    buf->cap = cap;
}

void rs_buf_put(struct rs_buf *buf, const void *data, size_t size)
{
    buf_reserve(buf, size);
    memcpy(buf->data + buf->size, data, size);
    buf->size += size;
    buf->data[buf->size] = '\0';
}

void rs_buf_puts(struct rs_buf *buf, const char *str)
{
    rs_buf_put(buf, str, strlen(str));
}

void rs_buf_putc(struct rs_buf *buf, char c)
{
    buf_reserve(buf, 1);
    buf->data[buf->size++] = c;
    buf->data[buf->size] = '\0';
}

void rs_buf_printf(struct rs_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list copy;
    va_copy(copy, ap);
    int need = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (need < 0) {
        va_end(ap);
        return;
    }
    buf_reserve(buf, (size_t)need);
    vsnprintf(buf->data + buf->size, (size_t)need + 1, fmt, ap);
    buf->size += (size_t)need;
    va_end(ap);
}

void rs_buf_u64(struct rs_buf *buf, uint64_t value)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    buf_reserve(buf, (size_t)n);
    while (n > 0) {
        buf->data[buf->size++] = tmp[--n];
    }
    buf->data[buf->size] = '\0';
}

void rs_buf_i64(struct rs_buf *buf, int64_t value)
{
    if (value < 0) {
        rs_buf_putc(buf, '-');
        rs_buf_u64(buf, (uint64_t)0 - (uint64_t)value);
        return;
    }
    rs_buf_u64(buf, (uint64_t)value);
}

void rs_buf_json_str(struct rs_buf *buf, const char *str, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    buf_reserve(buf, size + 2);
    rs_buf_putc(buf, '"');
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)str[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            rs_buf_put(buf, esc, 2);
        } else if (c < 0x20 || c >= 0x7f) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            rs_buf_put(buf, esc, 6);
        } else {
            rs_buf_putc(buf, (char)c);
        }
    }
    rs_buf_putc(buf, '"');
}

void rs_buf_json_key(struct rs_buf *buf, const char *key)
{
    rs_buf_putc(buf, '"');
    rs_buf_puts(buf, key);
    rs_buf_put(buf, "\":", 2);
}
