/* Workload generation: op mix, key distributions, unique values, cas expectations. */
#include "sim/workload.h"

#include "core/base.h"
#include "core/kv/kv_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum rs_err rs_workload_init(struct rs_workload *wl, const struct rs_workload_config *cfg,
                             uint64_t seed)
{
    memset(wl, 0, sizeof *wl);
    wl->cfg = *cfg;
    RS_ASSERT(cfg->key_count >= 1);
    RS_ASSERT(cfg->value_size >= 8 && cfg->value_size <= RS_WORKLOAD_VALUE_MAX);
    rs_rng_derive(&wl->rng, seed, "workload");
    for (unsigned op = 1; op <= RS_KV_OPCODE_MAX; op++) {
        wl->mix_total += cfg->mix[op];
    }
    RS_ASSERT(cfg->key_count < 1000000000u); /* key names fit RS_WORKLOAD_KEY_MAX */
    if (wl->mix_total == 0) {
        return RS_EINVAL;
    }
    if (cfg->dist == RS_DIST_ZIPF) {
        enum rs_err err = rs_zipf_init(&wl->zipf, cfg->key_count, cfg->dist_param);
        if (err != RS_OK) {
            return err;
        }
        wl->zipf_ready = true;
    }
    wl->last_known = calloc(cfg->key_count, sizeof *wl->last_known);
    return wl->last_known ? RS_OK : RS_ENOMEM;
}

void rs_workload_free(struct rs_workload *wl)
{
    if (wl->zipf_ready) {
        rs_zipf_free(&wl->zipf);
    }
    free(wl->last_known);
    memset(wl, 0, sizeof *wl);
}

static uint32_t pick_key(struct rs_workload *wl)
{
    uint32_t n = wl->cfg.key_count;
    switch (wl->cfg.dist) {
    case RS_DIST_ZIPF: return rs_zipf_sample(&wl->zipf, &wl->rng);
    case RS_DIST_HOT:
        if (rs_rng_chance_ppm(&wl->rng, wl->cfg.dist_param)) {
            return 0;
        }
        return (uint32_t)rs_rng_below(&wl->rng, n);
    case RS_DIST_SEQUENTIAL: return (uint32_t)(wl->sequential_next++ % n);
    case RS_DIST_UNIFORM: break;
    }
    return (uint32_t)rs_rng_below(&wl->rng, n);
}

static uint8_t pick_opcode(struct rs_workload *wl)
{
    uint64_t x = rs_rng_below(&wl->rng, wl->mix_total);
    for (unsigned op = 1; op <= RS_KV_OPCODE_MAX; op++) {
        if (x < wl->cfg.mix[op]) {
            return (uint8_t)op;
        }
        x -= wl->cfg.mix[op];
    }
    RS_UNREACHABLE();
}

/* v<counter> padded with '.' to the value size: unique, and its counter can be read back. */
static size_t format_value(const struct rs_workload *wl, uint64_t counter, char *out)
{
    int n = snprintf(out, RS_WORKLOAD_VALUE_MAX, "v%llu", (unsigned long long)counter);
    RS_ASSERT(n > 0);
    size_t size = (size_t)n;
    while (size < wl->cfg.value_size) {
        out[size++] = '.';
    }
    return size;
}

static size_t key_name(char *out, char prefix, uint32_t index)
{
    int n = snprintf(out, RS_WORKLOAD_KEY_MAX, "%c%u", prefix, index);
    RS_ASSERT(n > 0 && n < (int)RS_WORKLOAD_KEY_MAX);
    return (size_t)n;
}

/* The value cas (and cas_all) expects for a key: the last one seen, or a recent write. */
static size_t expected_value(struct rs_workload *wl, uint32_t key_index, char *out)
{
    uint64_t last = wl->last_known[key_index];
    /* with nothing seen yet, expect a value some recent write might have left */
    if (last == 0 && wl->value_counter > 1) {
        last = wl->value_counter - 1 - rs_rng_below(&wl->rng, wl->value_counter - 1);
    }
    return format_value(wl, last == 0 ? 1 : last, out);
}

/* 2..RS_WORKLOAD_LIST_MAX distinct keys, the first the one already picked. */
static void pick_list(struct rs_workload *wl, struct rs_workload_op *op)
{
    uint32_t want = 2 + (uint32_t)rs_rng_below(&wl->rng, RS_WORKLOAD_LIST_MAX - 1);
    want = want < wl->cfg.key_count ? want : wl->cfg.key_count;
    op->list_count = 0;
    /* Bounded: a few draws per slot, then the next unused index in order. */
    for (uint32_t attempt = 0; op->list_count < want && attempt < 4 * RS_WORKLOAD_LIST_MAX;
         attempt++) {
        uint32_t k = op->list_count == 0 ? op->key_index : pick_key(wl);
        bool seen = false;
        for (uint32_t i = 0; i < op->list_count; i++) {
            seen = seen || op->list_index[i] == k;
        }
        if (!seen) {
            op->list_index[op->list_count++] = k;
        }
    }
    for (uint32_t i = 0; i < op->list_count; i++) {
        uint32_t k = op->list_index[i];
        op->list_key_size[i] = key_name(op->list_key[i], 'k', k);
        op->list_value_size[i] = 0;
        op->list_expected_size[i] = 0;
        if (op->opcode == RS_KV_BATCH_PUT || op->opcode == RS_KV_CAS_ALL) {
            op->list_value_size[i] = format_value(wl, ++wl->value_counter, op->list_value[i]);
        }
        if (op->opcode == RS_KV_CAS_ALL) {
            op->list_expected_size[i] = expected_value(wl, k, op->list_expected[i]);
        }
    }
}

/* The fields of the later operations (the key is already picked). */
static void next_later(struct rs_workload *wl, struct rs_workload_op *op)
{
    uint32_t other = pick_key(wl);
    switch (op->opcode) {
    case RS_KV_MULTI_GET:
    case RS_KV_BATCH_PUT:
    case RS_KV_BATCH_DELETE:
    case RS_KV_CAS_ALL: pick_list(wl, op); return;
    case RS_KV_SCAN:
    case RS_KV_REVERSE_SCAN:
    case RS_KV_DELETE_RANGE:
        /* [k<a>, k<b>), or unbounded above one time in four (scans only) */
        if (op->opcode != RS_KV_DELETE_RANGE && rs_rng_below(&wl->rng, 4) == 0) {
            op->end_key_size = 0;
        } else {
            op->end_key_size = key_name(op->end_key, 'k', other);
            if (strcmp(op->end_key, op->key) < 0) {
                char swap[RS_WORKLOAD_KEY_MAX];
                memcpy(swap, op->key, sizeof swap);
                memcpy(op->key, op->end_key, sizeof swap);
                memcpy(op->end_key, swap, sizeof swap);
                size_t size = op->key_size;
                op->key_size = op->end_key_size;
                op->end_key_size = size;
            }
        }
        op->limit = op->opcode == RS_KV_DELETE_RANGE ? 0 : (uint32_t)rs_rng_below(&wl->rng, 6);
        op->keys_only = op->opcode != RS_KV_DELETE_RANGE && rs_rng_below(&wl->rng, 4) == 0;
        return;
    case RS_KV_MERGE: {
        /* short unique strings: merged values grow with every merge */
        int n = snprintf(op->value, sizeof op->value, "m%llu",
                         (unsigned long long)++wl->value_counter);
        op->value_size = (size_t)n;
        return;
    }
    case RS_KV_GET_SEQUENCE:
    case RS_KV_RESET_SEQUENCE:
        op->key_size = key_name(op->key, 's', op->key_index % RS_WORKLOAD_SEQUENCES);
        op->step = op->opcode == RS_KV_GET_SEQUENCE ? rs_rng_below(&wl->rng, 10) : 0;
        return;
    case RS_KV_LOCK:
    case RS_KV_UNLOCK:
        op->key_size = key_name(op->key, 'l', op->key_index % RS_WORKLOAD_LOCKS);
        if (op->opcode == RS_KV_LOCK) {
            /* The fencing counter is the data key named like the lock: a key with the lock's
             * own bytes always lies in the lock's region, whatever the splits (RheaKV keeps
             * fencing tokens per region for the same reason); a client refuses a lock whose
             * fencing key lies in another region. */
            op->lease_ms = 20 + rs_rng_below(&wl->rng, 180);
            memcpy(op->fencing_key, op->key, op->key_size);
            op->fencing_key_size = op->key_size;
        }
        return;
    default: return;
    }
}

void rs_workload_script(struct rs_workload *wl, const struct rs_workload_op *ops, uint32_t count)
{
    RS_ASSERT(ops != NULL || count == 0);
    wl->script = ops;
    wl->script_count = count;
    wl->script_next = 0;
}

void rs_workload_next(struct rs_workload *wl, bool reader, struct rs_workload_op *op)
{
    if (wl->script_next < wl->script_count) {
        *op = wl->script[wl->script_next++]; /* scripted: readers too take it as it is */
        return;
    }
    memset(op, 0, offsetof(struct rs_workload_op, key));
    op->opcode = reader ? (uint8_t)RS_KV_GET : pick_opcode(wl);
    op->key_index = pick_key(wl);
    op->key_size = key_name(op->key, 'k', op->key_index);
    op->value_size = 0;
    op->expected_size = 0;
    op->list_count = 0;
    op->list_size = 0;
    op->end_key_size = 0;
    op->limit = 0;
    op->keys_only = false;
    op->step = 0;
    op->lease_ms = 0;
    op->acquirer_id = 0;
    op->timestamp_ms = 0;
    op->fencing_key_size = 0;
    if (op->opcode > RS_KV_GET_AND_PUT) {
        next_later(wl, op);
        return;
    }
    if (rs_kv_opcode_is_write(op->opcode) && op->opcode != RS_KV_DELETE) {
        op->value_size = format_value(wl, ++wl->value_counter, op->value);
    }
    if (op->opcode == RS_KV_CAS) {
        op->expected_size = expected_value(wl, op->key_index, op->expected);
    }
}

static struct rs_bytes bytes_of(const char *data, size_t size)
{
    return (struct rs_bytes){(const uint8_t *)data, size};
}

void rs_workload_to_kv(struct rs_workload_op *op, uint64_t now_ms, uint64_t acquirer_id,
                       struct rs_kv_op *out)
{
    memset(out, 0, sizeof *out);
    out->opcode = op->opcode;
    bool listed = op->opcode == RS_KV_MULTI_GET || op->opcode == RS_KV_BATCH_PUT ||
                  op->opcode == RS_KV_BATCH_DELETE || op->opcode == RS_KV_CAS_ALL;
    if (listed) {
        struct rs_kv_entry e[RS_WORKLOAD_LIST_MAX];
        for (uint32_t i = 0; i < op->list_count; i++) {
            e[i] = (struct rs_kv_entry){bytes_of(op->list_key[i], op->list_key_size[i]),
                                        bytes_of(op->list_expected[i], op->list_expected_size[i]),
                                        bytes_of(op->list_value[i], op->list_value_size[i]),
                                        false};
        }
        enum rs_err err = rs_kv_list_encode(op->opcode, e, op->list_count, op->list,
                                            sizeof op->list, &op->list_size);
        RS_ASSERT(err == RS_OK);
        out->list = bytes_of((const char *)op->list, op->list_size);
        return;
    }
    out->key = bytes_of(op->key, op->key_size);
    out->value = bytes_of(op->value, op->value_size);
    out->expected = bytes_of(op->expected, op->expected_size);
    out->end_key = bytes_of(op->end_key, op->end_key_size);
    out->limit = op->limit;
    out->keys_only = op->keys_only;
    out->step = op->step;
    if (op->opcode == RS_KV_LOCK || op->opcode == RS_KV_UNLOCK) {
        op->acquirer_id = acquirer_id;
        out->acquirer_id = acquirer_id;
    }
    if (op->opcode == RS_KV_LOCK) {
        op->timestamp_ms = now_ms;
        out->lease_ms = op->lease_ms;
        out->timestamp_ms = now_ms;
        out->fencing_key = bytes_of(op->fencing_key, op->fencing_key_size);
    }
}

bool rs_workload_no_effect(const struct rs_workload_op *op, const struct rs_kv_result *res)
{
    switch (op->opcode) {
    case RS_KV_CAS:
    case RS_KV_PUT_IF_ABSENT:
    case RS_KV_CAS_ALL:
    case RS_KV_MERGE:
    case RS_KV_GET_SEQUENCE: return !res->success;
    default: return false;
    }
}

/* The key index of a workload key name "k<digits>", or UINT32_MAX. */
static uint32_t key_index_of(struct rs_bytes key)
{
    if (key.size < 2 || key.data[0] != 'k') {
        return UINT32_MAX;
    }
    uint64_t v = 0;
    for (size_t i = 1; i < key.size; i++) {
        if (key.data[i] < '0' || key.data[i] > '9' || v > UINT32_MAX / 10) {
            return UINT32_MAX;
        }
        v = v * 10 + (uint64_t)(key.data[i] - '0');
    }
    return v < UINT32_MAX ? (uint32_t)v : UINT32_MAX;
}

void rs_workload_learn(struct rs_workload *wl, const struct rs_workload_op *op,
                       const struct rs_kv_result *res)
{
    bool wrote = op->opcode == RS_KV_PUT || op->opcode == RS_KV_GET_AND_PUT ||
                 ((op->opcode == RS_KV_CAS || op->opcode == RS_KV_PUT_IF_ABSENT) && res->success);
    if (wrote) {
        rs_workload_observe(wl, op->key_index, (const uint8_t *)op->value, op->value_size);
    } else if (op->opcode == RS_KV_GET && res->found) {
        rs_workload_observe(wl, op->key_index, res->value, res->value_size);
    }
    if ((op->opcode == RS_KV_BATCH_PUT || op->opcode == RS_KV_CAS_ALL) && res->success) {
        for (uint32_t i = 0; i < op->list_count; i++) {
            rs_workload_observe(wl, op->list_index[i], (const uint8_t *)op->list_value[i],
                                op->list_value_size[i]);
        }
    }
    if (op->opcode == RS_KV_MULTI_GET || op->opcode == RS_KV_SCAN ||
        op->opcode == RS_KV_REVERSE_SCAN) {
        struct rs_kv_iter it;
        struct rs_kv_entry e;
        rs_kv_entries_begin(&it, res);
        while (rs_kv_iter_next(&it, &e)) {
            if (e.found && e.value.size > 0) {
                rs_workload_observe(wl, key_index_of(e.key), e.value.data, e.value.size);
            }
        }
    }
}

/* The single-key operations of the first format (as run.c recorded them). */
static void record_simple(const struct rs_workload_op *op, enum rs_hist_type type,
                          const struct rs_kv_result *res, struct rs_hist_event_in *in)
{
    struct rs_hist_str value = {op->value, op->value_size};
    bool ok = type == RS_HIST_OK;
    switch (op->opcode) {
    case RS_KV_GET:
    case RS_KV_GET_AND_PUT:
        if (ok) { /* the read, or the previous value */
            in->value_kind = res->found ? RS_HIST_VALUE_STRING : RS_HIST_VALUE_NULL;
            in->value = (struct rs_hist_str){(const char *)res->value, res->value_size};
        } else if (type == RS_HIST_INVOKE && op->opcode == RS_KV_GET_AND_PUT) {
            in->value_kind = RS_HIST_VALUE_STRING;
            in->value = value;
        }
        break;
    case RS_KV_PUT:
    case RS_KV_PUT_IF_ABSENT:
        in->value_kind = RS_HIST_VALUE_STRING;
        in->value = value;
        break;
    case RS_KV_CAS:
        in->value_kind = RS_HIST_VALUE_PAIR;
        in->value = value;
        in->expected = (struct rs_hist_str){op->expected, op->expected_size};
        break;
    default: break; /* delete carries no value */
    }
    if (in->value_kind == RS_HIST_VALUE_STRING && in->value.data == NULL) {
        in->value.data = ""; /* an empty value is a string, not null */
    }
}

static void set_args(struct rs_hist_event_in *in, uint32_t count, int64_t a, int64_t b, int64_t c,
                     int64_t d)
{
    in->arg_count = count;
    in->args[0] = a;
    in->args[1] = b;
    in->args[2] = c;
    in->args[3] = d;
}

/* Args of the invoke and of the ok answer (fail and info carry none). */
static void record_args(const struct rs_workload_op *op, enum rs_hist_type type,
                        const struct rs_kv_result *res, struct rs_hist_event_in *in)
{
    bool invoke = type == RS_HIST_INVOKE;
    if (!invoke && type != RS_HIST_OK) {
        return;
    }
    switch (op->opcode) {
    case RS_KV_CONTAINS_KEY: set_args(in, invoke ? 0 : 1, !invoke && res->found, 0, 0, 0); break;
    case RS_KV_SCAN:
    case RS_KV_REVERSE_SCAN:
        set_args(in, invoke ? 2 : 1, invoke ? op->limit : res->truncated, op->keys_only, 0, 0);
        break;
    case RS_KV_GET_SEQUENCE:
        set_args(in, invoke ? 1 : 2, invoke ? (int64_t)op->step : (int64_t)res->seq_start,
                 (int64_t)res->seq_end, 0, 0);
        break;
    case RS_KV_LOCK:
        if (invoke) {
            set_args(in, 3, (int64_t)op->acquirer_id, (int64_t)op->lease_ms,
                     (int64_t)op->timestamp_ms, 0);
        } else {
            set_args(in, 4, res->success, (int64_t)res->lock_owner, (int64_t)res->lock_token,
                     (int64_t)res->lock_acquires);
        }
        break;
    case RS_KV_UNLOCK:
        set_args(in, invoke ? 1 : 2, invoke ? (int64_t)op->acquirer_id : res->success,
                 (int64_t)res->lock_owner, 0, 0);
        break;
    default: break;
    }
}

static struct rs_hist_str hist_str(const char *data, size_t size)
{
    return (struct rs_hist_str){data != NULL ? data : "", size};
}

/* Items of an ok multi_get or scan answer (allocated: a scan may return many). */
static struct rs_hist_item_in *result_items(const struct rs_workload_op *op,
                                            const struct rs_kv_result *res)
{
    struct rs_hist_item_in *items = calloc(res->entry_count + 1, sizeof *items);
    RS_ASSERT(items != NULL);
    struct rs_kv_iter it;
    struct rs_kv_entry e;
    rs_kv_entries_begin(&it, res);
    for (uint32_t i = 0; rs_kv_iter_next(&it, &e); i++) {
        RS_ASSERT(i < res->entry_count);
        struct rs_hist_str value = e.found ? hist_str((const char *)e.value.data, e.value.size)
                                           : (struct rs_hist_str){NULL, 0};
        if (op->opcode == RS_KV_MULTI_GET) {
            items[i].first = value;
        } else {
            items[i].pair = true;
            items[i].first = hist_str((const char *)e.key.data, e.key.size);
            items[i].second = op->keys_only ? (struct rs_hist_str){NULL, 0} : value;
        }
    }
    return items;
}

enum rs_err rs_workload_record(const struct rs_workload_op *op, uint64_t process,
                               enum rs_hist_type type, const struct rs_kv_result *res,
                               int64_t time_ns, struct rs_history *history,
                               struct rs_history_error *error)
{
    struct rs_hist_event_in in = {.process = process, .type = type,
                                  .f = (enum rs_hist_f)(op->opcode - 1),
                                  .key = hist_str(op->key, op->key_size),
                                  .value_kind = RS_HIST_VALUE_NONE, .time_ns = time_ns};
    struct rs_hist_str keys[RS_WORKLOAD_LIST_MAX];
    struct rs_hist_item_in pairs[RS_WORKLOAD_LIST_MAX];
    struct rs_hist_item_in *items = NULL;
    bool ok = type == RS_HIST_OK;
    static const struct rs_kv_result no_answer; /* an invoke has none */
    res = res != NULL ? res : &no_answer;
    if (op->opcode <= RS_KV_GET_AND_PUT) {
        record_simple(op, type, res, &in);
    }
    record_args(op, type, res, &in);
    for (uint32_t i = 0; i < op->list_count; i++) {
        keys[i] = hist_str(op->list_key[i], op->list_key_size[i]);
        pairs[i] = (struct rs_hist_item_in){hist_str(op->list_value[i], op->list_value_size[i]),
                                            {NULL, 0}, false};
        if (op->opcode == RS_KV_CAS_ALL) {
            pairs[i] = (struct rs_hist_item_in){
                hist_str(op->list_expected[i], op->list_expected_size[i]),
                hist_str(op->list_value[i], op->list_value_size[i]), true};
        }
    }
    switch (op->opcode) {
    case RS_KV_MULTI_GET:
    case RS_KV_BATCH_PUT:
    case RS_KV_BATCH_DELETE:
    case RS_KV_CAS_ALL:
        in.keys = keys;
        in.key_count = op->list_count;
        if (type == RS_HIST_INVOKE &&
            (op->opcode == RS_KV_BATCH_PUT || op->opcode == RS_KV_CAS_ALL)) {
            in.value_kind = RS_HIST_VALUE_LIST;
            in.items = pairs;
            in.item_count = op->list_count;
        }
        break;
    case RS_KV_SCAN:
    case RS_KV_REVERSE_SCAN:
    case RS_KV_DELETE_RANGE:
        keys[0] = hist_str(op->key, op->key_size);
        keys[1] = op->end_key_size > 0 ? hist_str(op->end_key, op->end_key_size)
                                       : (struct rs_hist_str){NULL, 0};
        in.keys = keys;
        in.key_count = 2;
        break;
    case RS_KV_MERGE:
        in.value_kind = type == RS_HIST_INVOKE ? RS_HIST_VALUE_STRING : RS_HIST_VALUE_NONE;
        in.value = hist_str(op->value, op->value_size);
        break;
    case RS_KV_LOCK:
        in.value_kind = type == RS_HIST_INVOKE ? RS_HIST_VALUE_STRING : RS_HIST_VALUE_NONE;
        in.value = hist_str(op->fencing_key, op->fencing_key_size);
        break;
    default: break;
    }
    bool answers = op->opcode == RS_KV_MULTI_GET || op->opcode == RS_KV_SCAN ||
                   op->opcode == RS_KV_REVERSE_SCAN;
    if (ok && answers) {
        items = result_items(op, res);
        in.value_kind = RS_HIST_VALUE_LIST;
        in.items = items;
        in.item_count = res->entry_count;
    }
    enum rs_err err = rs_history_add(history, &in, error);
    free(items);
    return err;
}

void rs_workload_observe(struct rs_workload *wl, uint32_t key_index, const uint8_t *value,
                         size_t value_size)
{
    if (key_index >= wl->cfg.key_count || value_size < 2 || value[0] != 'v') {
        return;
    }
    uint64_t counter = 0;
    for (size_t i = 1; i < value_size && value[i] >= '0' && value[i] <= '9'; i++) {
        counter = counter * 10 + (uint64_t)(value[i] - '0');
    }
    wl->last_known[key_index] = counter;
}
