/* Workload generation: op mix, key distributions, unique values, cas expectations. */
#include "sim/workload.h"

#include "core/base.h"

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

void rs_workload_next(struct rs_workload *wl, bool reader, struct rs_workload_op *op)
{
    memset(op, 0, offsetof(struct rs_workload_op, key));
    op->opcode = reader ? (uint8_t)RS_KV_GET : pick_opcode(wl);
    op->key_index = pick_key(wl);
    int n = snprintf(op->key, sizeof op->key, "k%u", op->key_index);
    op->key_size = (size_t)n;
    op->value_size = 0;
    op->expected_size = 0;
    if (rs_kv_opcode_is_write(op->opcode) && op->opcode != RS_KV_DELETE) {
        op->value_size = format_value(wl, ++wl->value_counter, op->value);
    }
    if (op->opcode == RS_KV_CAS) {
        uint64_t last = wl->last_known[op->key_index];
        /* with nothing seen yet, expect a value some recent write might have left */
        if (last == 0 && wl->value_counter > 1) {
            last = wl->value_counter - 1 - rs_rng_below(&wl->rng, wl->value_counter - 1);
        }
        op->expected_size = format_value(wl, last == 0 ? 1 : last, op->expected);
    }
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
