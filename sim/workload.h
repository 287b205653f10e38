/* The client workload: which operation, key and value each client issues next. */
#ifndef RS_SIM_WORKLOAD_H
#define RS_SIM_WORKLOAD_H

#include "core/kv/kv.h"
#include "sim/history.h"
#include "sim/rng.h"

#include <stdint.h>

enum rs_dist_kind { RS_DIST_UNIFORM = 0, RS_DIST_ZIPF, RS_DIST_HOT, RS_DIST_SEQUENTIAL };

#define RS_WORKLOAD_KEY_MAX   32u
#define RS_WORKLOAD_VALUE_MAX 4096u
/* Keys of one multi-key operation (multi_get, batches, cas_all). */
#define RS_WORKLOAD_LIST_MAX 4u
#define RS_WORKLOAD_LIST_BYTES \
    (4u + RS_WORKLOAD_LIST_MAX * (12u + RS_WORKLOAD_KEY_MAX + 2u * RS_WORKLOAD_VALUE_MAX))
/* Sequences, locks and the fencing key the workload uses. */
#define RS_WORKLOAD_SEQUENCES 2u
#define RS_WORKLOAD_LOCKS     2u

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
    /* Multi-key operations: list_count keys (key_index / key above is the first). */
    uint32_t list_count;
    uint32_t list_index[RS_WORKLOAD_LIST_MAX];
    char list_key[RS_WORKLOAD_LIST_MAX][RS_WORKLOAD_KEY_MAX];
    size_t list_key_size[RS_WORKLOAD_LIST_MAX];
    char list_value[RS_WORKLOAD_LIST_MAX][RS_WORKLOAD_VALUE_MAX];
    size_t list_value_size[RS_WORKLOAD_LIST_MAX];
    char list_expected[RS_WORKLOAD_LIST_MAX][RS_WORKLOAD_VALUE_MAX];
    size_t list_expected_size[RS_WORKLOAD_LIST_MAX];
    uint8_t list[RS_WORKLOAD_LIST_BYTES]; /* encoded by rs_workload_to_kv */
    size_t list_size;
    /* Ranges, sequences and locks. */
    char end_key[RS_WORKLOAD_KEY_MAX];
    size_t end_key_size; /* 0: unbounded */
    uint32_t limit;
    bool keys_only;
    uint64_t step;
    uint64_t lease_ms;
    uint64_t acquirer_id;  /* set by rs_workload_to_kv */
    uint64_t timestamp_ms; /* set by rs_workload_to_kv */
    char fencing_key[RS_WORKLOAD_KEY_MAX];
    size_t fencing_key_size;
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
    /* Scripted operations (tests): handed out first, in order, to whichever client asks. */
    const struct rs_workload_op *script;
    uint32_t script_count, script_next;
};

enum rs_err rs_workload_init(struct rs_workload *wl, const struct rs_workload_config *cfg,
                             uint64_t seed);
void rs_workload_free(struct rs_workload *wl);
/*
 * Operations to hand out before any generated one (tests set up known keys and ask known
 * questions this way). The ops are not copied: they must outlive the script. Draws nothing
 * from the random stream, so the generated operations that follow are the usual ones.
 */
void rs_workload_script(struct rs_workload *wl, const struct rs_workload_op *ops, uint32_t count);
/* The next operation (the script's first, while it lasts); a reader only reads. */
void rs_workload_next(struct rs_workload *wl, bool reader, struct rs_workload_op *op);
/*
 * The operation as the client submits it: stamps the acquirer (the client) and its clock
 * (lock carries them in the command), encodes the list, and fills *out with views of op.
 */
void rs_workload_to_kv(struct rs_workload_op *op, uint64_t now_ms, uint64_t acquirer_id,
                       struct rs_kv_op *out);
/* Whether an ok answer says the write had no effect (cas, put_if_absent, cas_all, merge and
 * get_sequence refused): it is then recorded as fail. lock and unlock answers are recorded. */
bool rs_workload_no_effect(const struct rs_workload_op *op, const struct rs_kv_result *res);
/* What an ok answer tells the workload about the values keys hold now. */
void rs_workload_learn(struct rs_workload *wl, const struct rs_workload_op *op,
                       const struct rs_kv_result *res);
/*
 * Records one event of the operation in the history (sim/history.h's format): the invoke,
 * or its completion with the answer when type is ok.
 */
enum rs_err rs_workload_record(const struct rs_workload_op *op, uint64_t process,
                               enum rs_hist_type type, const struct rs_kv_result *res,
                               int64_t time_ns, struct rs_history *history,
                               struct rs_history_error *error);

/* A value was seen for the key (read or written): cas will expect it next. */
void rs_workload_observe(struct rs_workload *wl, uint32_t key_index, const uint8_t *value,
                         size_t value_size);

#endif
