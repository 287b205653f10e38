/* The simulator's event queue: a 4-ary min-heap ordered by (time, sequence number). */
#ifndef RS_SIM_EVQ_H
#define RS_SIM_EVQ_H

#include "core/base.h"

/*
 * One pending event. The queue gives meaning only to time_ns and seq; kind, node, arg and ptr
 * are the host's payload and are returned unchanged.
 */
struct rs_event {
    uint64_t time_ns; /* global simulated time at which the event fires */
    uint64_t seq;     /* assigned by rs_evq_push: 1, 2, 3, ... in push order */
    uint32_t kind;
    uint32_t node;
    uint64_t arg;
    void *ptr;
};

/*
 * Events fire in increasing (time_ns, seq) order: two events at the same time fire in the
 * order they were pushed, never in an order that depends on addresses. The heap is an array
 * of events that grows by doubling, so a push allocates only when the queue reaches a new
 * high-water mark; pop never allocates or frees.
 */
struct rs_evq {
    struct rs_event *heap;
    size_t count;
    size_t cap;
    uint64_t next_seq;
};

void rs_evq_init(struct rs_evq *q);
void rs_evq_free(struct rs_evq *q);

/* Grow the array so that `count` events fit without allocating; RS_ENOMEM leaves q as is. */
enum rs_err rs_evq_reserve(struct rs_evq *q, size_t count);

/*
 * Queue an event and return its sequence number (strictly increasing across pushes).
 * The simulator cannot continue without memory, so a failed allocation is an assertion
 * failure; call rs_evq_reserve first to handle RS_ENOMEM instead.
 */
uint64_t rs_evq_push(struct rs_evq *q, uint64_t time_ns, uint32_t kind, uint32_t node,
                     uint64_t arg, void *ptr);

/* Remove the earliest event into *out; false (and *out untouched) if the queue is empty. */
bool rs_evq_pop(struct rs_evq *q, struct rs_event *out);
/* Copy the earliest event into *out without removing it; false if the queue is empty. */
bool rs_evq_peek(const struct rs_evq *q, struct rs_event *out);
size_t rs_evq_size(const struct rs_evq *q);

#endif
