/* The client workload: which operation, key and value each client issues next. */
#ifndef RS_SIM_WORKLOAD_H
#define RS_SIM_WORKLOAD_H

#include "core/kv/kv.h"
#include "sim/rng.h"

#include <stdint.h>

enum rs_dist_kind { RS_DIST_UNIFORM = 0, RS_DIST_ZIPF, RS_DIST_HOT, RS_DIST_SEQUENTIAL };

#define RS_WORKLOAD_KEY_MAX   32u
#define RS_WORKLOAD_VALUE_MAX 4096u

struct rs_workload_config {
    uint32_t client_count;
    uint32_t reader_count; /* the first reader_count clients only read */
    uint32_t key_count;
    uint32_t mix[RS_KV_OPCODE_MAX + 1]; /* weight per opcode */
    enum rs_dist_kind dist;
    uint32_t dist_param;  /* zipf: exponent x1000; hot: share of traffic to key 0 in ppm */
    uint64_t rate_per_s;  /* 0: closed loop */
    uint64_t think_ns;    /* closed loop: pause between a completion and the next invoke */
    uint64_t request_timeout_ns;
    uint64_t op_timeout_ns;
    uint32_t value_size;
};

struct rs_workload_op {
    uint8_t opcode;
    uint32_t key_index;
    char key[RS_WORKLOAD_KEY_MAX];
    size_t key_size;
    char value[RS_WORKLOAD_VALUE_MAX];
    size_t value_size;
    char expected[RS_WORKLOAD_VALUE_MAX];
    size_t expected_size;
};

struct rs_workload {
    struct rs_workload_config cfg;
    struct rs_rng rng;
    struct rs_zipf zipf;
    bool zipf_ready;
    uint32_t mix_total;
    uint64_t value_counter;  /* written values are v<counter>: unique in the run */
    uint64_t *last_known;    /* per key: counter of the last value seen, 0 = none */
    uint64_t sequential_next;
};

enum rs_err rs_workload_init(struct rs_workload *wl, const struct rs_workload_config *cfg,
                             uint64_t seed);
void rs_workload_free(struct rs_workload *wl);
/* The next operation; a reader only reads. */
void rs_workload_next(struct rs_workload *wl, bool reader, struct rs_workload_op *op);
/* A value was seen for the key (read or written): cas will expect it next. */
void rs_workload_observe(struct rs_workload *wl, uint32_t key_index, const uint8_t *value,
                         size_t value_size);

#endif
