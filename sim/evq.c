/* The event queue: a 4-ary heap over an array of events, keyed by (time_ns, seq). */
#include "sim/evq.h"

#include <stdlib.h>

/*
 * A 4-ary heap: half the depth of a binary heap, and the four children of a node are
 * adjacent in memory, so sift-down touches fewer cache lines for the same comparisons.
 */
#define EVQ_ARITY   4u
#define EVQ_CAP_MIN 64u

static inline bool evq_before(const struct rs_event *a, const struct rs_event *b)
{
    /* seq is unique, so this is a strict total order and ties never reach addresses. */
    if (a->time_ns != b->time_ns) {
        return a->time_ns < b->time_ns;
    }
    return a->seq < b->seq;
}

void rs_evq_init(struct rs_evq *q)
{
    RS_ASSERT(q != NULL);
    q->heap = NULL;
    q->count = 0;
    q->cap = 0;
    q->next_seq = 1;
}

void rs_evq_free(struct rs_evq *q)
{
    RS_ASSERT(q != NULL);
    free(q->heap);
    q->heap = NULL;
    q->count = 0;
    q->cap = 0;
}

enum rs_err rs_evq_reserve(struct rs_evq *q, size_t count)
{
    RS_ASSERT(q->count <= q->cap);
    if (count <= q->cap) {
        return RS_OK;
    }
    size_t cap = q->cap < EVQ_CAP_MIN ? EVQ_CAP_MIN : q->cap;
    while (cap < count) {
        if (cap > SIZE_MAX / 2 / sizeof(struct rs_event)) {
            return RS_ENOMEM;
        }
        cap *= 2;
    }
    struct rs_event *heap = realloc(q->heap, cap * sizeof(struct rs_event));
    if (heap == NULL) {
        return RS_ENOMEM;
    }
    q->heap = heap;
    q->cap = cap;
    return RS_OK;
}

/* Move the hole at `index` up until `ev` fits there; events shift down instead of swapping. */
static void evq_sift_up(struct rs_event *heap, size_t index, const struct rs_event *ev)
{
    while (index > 0) {
        size_t parent = (index - 1) / EVQ_ARITY;
        if (!evq_before(ev, &heap[parent])) {
            break;
        }
        heap[index] = heap[parent];
        index = parent;
    }
    heap[index] = *ev;
}

/* Move the hole at the root down until `ev` (the former last event) fits there. */
static void evq_sift_down(struct rs_event *heap, size_t count, const struct rs_event *ev)
{
    size_t index = 0;
    for (;;) {
        size_t first = index * EVQ_ARITY + 1;
        if (first >= count) {
            break;
        }
        size_t last = first + EVQ_ARITY < count ? first + EVQ_ARITY : count;
        size_t best = first;
        for (size_t child = first + 1; child < last; child++) {
            if (evq_before(&heap[child], &heap[best])) {
                best = child;
            }
        }
        if (!evq_before(&heap[best], ev)) {
            break;
        }
        heap[index] = heap[best];
        index = best;
    }
    heap[index] = *ev;
}

uint64_t rs_evq_push(struct rs_evq *q, uint64_t time_ns, uint32_t kind, uint32_t node,
                     uint64_t arg, void *ptr)
{
    if (q->count == q->cap) {
        enum rs_err err = rs_evq_reserve(q, q->count + 1);
        RS_ASSERT(err == RS_OK);
    }
    RS_ASSERT(q->next_seq != UINT64_MAX);
    struct rs_event ev = {
        .time_ns = time_ns, .seq = q->next_seq++, .kind = kind, .node = node, .arg = arg,
        .ptr = ptr,
    };
    evq_sift_up(q->heap, q->count, &ev);
    q->count++;
    return ev.seq;
}

bool rs_evq_pop(struct rs_evq *q, struct rs_event *out)
{
    RS_ASSERT(out != NULL);
    if (q->count == 0) {
        return false;
    }
    *out = q->heap[0];
    q->count--;
    if (q->count > 0) {
        struct rs_event last = q->heap[q->count];
        evq_sift_down(q->heap, q->count, &last);
    }
    return true;
}

bool rs_evq_peek(const struct rs_evq *q, struct rs_event *out)
{
    RS_ASSERT(out != NULL);
    if (q->count == 0) {
        return false;
    }
    *out = q->heap[0];
    return true;
}

size_t rs_evq_size(const struct rs_evq *q)
{
    return q->count;
}
