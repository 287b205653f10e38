/* The KV client: one operation at a time, leader search, retries and timeouts, sans I/O. */
#ifndef RS_CORE_CLIENT_CLIENT_H
#define RS_CORE_CLIENT_CLIENT_H

#include "core/base.h"
#include "core/kv/kv.h"

#define RS_CLIENT_SENDS_MAX 4u

struct rs_client_config {
    uint64_t client_id;          /* non-zero: 0 is reserved for internal commands */
    uint32_t node_count;         /* servers are nodes 1..node_count */
    uint64_t request_timeout_ns; /* one attempt waits this long, then the next node is tried */
    uint64_t op_timeout_ns;      /* the operation gives up this long after submit */
    uint64_t random_seed;        /* the only source of the client's random choices */
    uint64_t backoff_ns;         /* pause before retrying a busy server; 0: request_timeout/10 */
};

/*
 * How an operation ended:
 *   OK    the server answered; result holds the answer;
 *   FAIL  the operation definitely had no effect (a read that timed out, a request refused);
 *   INFO  the outcome is unknown (a write that timed out may or may not have been applied).
 */
enum rs_client_outcome { RS_CLIENT_OK = 0, RS_CLIENT_FAIL = 1, RS_CLIENT_INFO = 2 };

struct rs_client_send {
    rs_node_id to;
    const uint8_t *frame;
    size_t frame_size;
};

/* The effects of one call; the frames and the result's value and entries stay valid until the
 * next call. Each operation goes to one region as one request; the host splits an operation
 * that spans regions into one per region (sim/world.c, README "Stores and regions"). */
struct rs_client_out {
    uint32_t send_count;
    struct rs_client_send sends[RS_CLIENT_SENDS_MAX];
    uint64_t deadline_ns; /* 0: no timer needed; else call rs_client_tick at or after it */
    bool done;            /* the operation finished in this call */
    enum rs_client_outcome outcome;
    enum rs_err status; /* RS_OK, RS_ETIMEDOUT or the server's refusal, when done */
    struct rs_kv_result result;
};

/* Treat the fields as private; the struct is public so that the host can embed it. */
struct rs_client {
    struct rs_client_config cfg;
    uint64_t prng_state;
    rs_node_id leader; /* the node believed to lead; every attempt goes there */
    uint64_t last_seq;
    uint64_t last_request_id;
    /* The operation in flight. */
    bool active;
    bool is_write;
    uint64_t seq;
    uint64_t request_id; /* the attempt whose answer is awaited; 0 when none */
    uint64_t op_deadline_ns;
    uint64_t attempt_deadline_ns;
    uint64_t retry_at_ns; /* backing off until then; 0 when not */
    uint32_t redirect_count; /* immediate retries since the last pause */
    uint32_t attempt_count;
    /* Buffers owned by the client. */
    uint8_t *frame;
    size_t frame_size;
    size_t frame_cap;
    uint8_t *result_value;
    size_t result_cap;
};

void rs_client_init(struct rs_client *c, const struct rs_client_config *cfg);
void rs_client_free(struct rs_client *c);

/*
 * Starts an operation: RS_OK (out holds the first send and the deadline), RS_EBUSY when one is
 * in flight, RS_EINVAL / RS_ETOOBIG for an operation rs_kv_op_validate refuses, RS_ENOMEM.
 * The op's bytes are copied; the caller may reuse them at once.
 */
enum rs_err rs_client_submit(struct rs_client *c, uint64_t now_ns, const struct rs_kv_op *op,
                             struct rs_client_out *out);
/* A frame arrived from a server. Corrupt frames and answers to other attempts are ignored. */
void rs_client_recv(struct rs_client *c, uint64_t now_ns, rs_node_id from, const uint8_t *frame,
                    size_t size, struct rs_client_out *out);
/* Time passed; call at or after out->deadline_ns (earlier calls are harmless). */
void rs_client_tick(struct rs_client *c, uint64_t now_ns, struct rs_client_out *out);

bool rs_client_busy(const struct rs_client *c);
/* The seq of the operation in flight (or of the last one). */
uint64_t rs_client_seq(const struct rs_client *c);
/* Attempts (requests sent) for the operation in flight (or the last one). */
uint32_t rs_client_attempt_count(const struct rs_client *c);
/* The node the next attempt goes to. A client serving many regions keeps one guess per region
 * (core/client/route.h) and sets it before each operation. */
rs_node_id rs_client_leader(const struct rs_client *c);
void rs_client_set_leader(struct rs_client *c, rs_node_id leader);

#endif
