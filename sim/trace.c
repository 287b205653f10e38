/* Trace digest and JSON lines. */
#include "sim/trace.h"

#include "core/base.h"

void rs_trace_init(struct rs_trace *t, FILE *file)
{
    t->file = file;
    t->digest = XXH64_createState();
    RS_ASSERT(t->digest != NULL);
    XXH64_reset(t->digest, 0);
    t->events = 0;
    t->pending_size = 0;
    rs_buf_init(&t->line);
}

void rs_trace_free(struct rs_trace *t)
{
    XXH64_freeState(t->digest);
    rs_buf_free(&t->line);
    t->digest = NULL;
}

void rs_trace_fold(struct rs_trace *t, const uint64_t *words, size_t count)
{
    RS_ASSERT(count <= 8);
    if (t->pending_size + 8 * count > RS_TRACE_FOLD_BUFFER) {
        XXH64_update(t->digest, t->pending, t->pending_size);
        t->pending_size = 0;
    }
    uint8_t *bytes = t->pending + t->pending_size;
    for (size_t i = 0; i < count; i++) {
        for (int b = 0; b < 8; b++) {
            bytes[8 * i + (size_t)b] = (uint8_t)(words[i] >> (8 * b));
        }
    }
    t->pending_size += 8 * count;
    t->events++;
}

struct rs_buf *rs_trace_begin(struct rs_trace *t, uint64_t time_ns, const char *event)
{
    rs_buf_reset(&t->line);
    rs_buf_puts(&t->line, "{\"t\":");
    rs_buf_u64(&t->line, time_ns);
    rs_buf_puts(&t->line, ",\"e\":\"");
    rs_buf_puts(&t->line, event);
    rs_buf_putc(&t->line, '"');
    return &t->line;
}

void rs_trace_end(struct rs_trace *t)
{
    rs_buf_put(&t->line, "}\n", 2);
    fwrite(t->line.data, 1, t->line.size, t->file);
}

uint64_t rs_trace_digest(const struct rs_trace *t)
{
    /* digest a copy so that folding can go on after a look at the digest */
    XXH64_state_t *copy = XXH64_createState();
    RS_ASSERT(copy != NULL);
    XXH64_copyState(copy, t->digest);
    XXH64_update(copy, t->pending, t->pending_size);
    uint64_t digest = XXH64_digest(copy);
    XXH64_freeState(copy);
    return digest;
}
