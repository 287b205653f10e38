/* The run's event trace: a digest over every event (always) and JSON lines (when enabled). */
#ifndef RS_SIM_TRACE_H
#define RS_SIM_TRACE_H

#include "reports/json.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <xxhash.h>

#define RS_TRACE_FOLD_BUFFER 8192u

struct rs_trace {
    FILE *file; /* NULL: no text trace (no formatting happens then) */
    XXH64_state_t *digest;
    uint64_t events;
    struct rs_buf line;
    /* folded words wait here and enter the hash a block at a time: streaming xxhash gives
     * the same digest whatever the chunking, and per-event updates cost more than the rest
     * of the digest work */
    uint8_t pending[RS_TRACE_FOLD_BUFFER];
    size_t pending_size;
};

void rs_trace_init(struct rs_trace *t, FILE *file);
void rs_trace_free(struct rs_trace *t);
static inline bool rs_trace_on(const struct rs_trace *t)
{
    return t != NULL && t->file != NULL;
}
/* Folds an event's identifying integers into the digest. Cheap; always called. */
void rs_trace_fold(struct rs_trace *t, const uint64_t *words, size_t count);
/* Starts a JSON line {"t":time,"e":"name" ... ; callers add fields with rs_buf_* on t->line. */
struct rs_buf *rs_trace_begin(struct rs_trace *t, uint64_t time_ns, const char *event);
/* Closes the line with }\n and writes it. */
void rs_trace_end(struct rs_trace *t);
uint64_t rs_trace_digest(const struct rs_trace *t);

#endif
