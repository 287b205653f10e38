/* Swarm testing: draw a seed's fault mix, then a timeline of symbolic fault steps from it. */
#include "sim/swarm.h"

#include "core/wire/frame.h"
#include "sim/rng.h"

#include <string.h>

static const char *const kind_names[RS_SWARM_KIND_COUNT] = {
#define RS_SWARM_KIND_NAME(id, name) name,
    RS_SWARM_KINDS(RS_SWARM_KIND_NAME)
#undef RS_SWARM_KIND_NAME
};

const char *rs_swarm_kind_name(enum rs_swarm_kind kind)
{
    return (unsigned)kind < RS_SWARM_KIND_COUNT ? kind_names[kind] : "?";
}

static uint64_t range(struct rs_rng *rng, uint64_t lo, uint64_t hi)
{
    return rs_rng_range(rng, lo, hi);
}

/* A duration in whole milliseconds within [lo, hi] (so that schedules read well). */
static uint64_t range_ms(struct rs_rng *rng, uint64_t lo_ns, uint64_t hi_ns)
{
    uint64_t lo = (lo_ns + RS_NS_PER_MS - 1) / RS_NS_PER_MS;
    uint64_t hi = hi_ns / RS_NS_PER_MS;
    return (hi >= lo ? rs_rng_range(rng, lo, hi) : lo) * RS_NS_PER_MS;
}

/* Which kinds this seed uses: each with probability 1/2, at least one, and bit rot only
 * with crashes (rot is read when a crashed node restarts). */
static void draw_kinds(struct rs_swarm *s, struct rs_rng *rng)
{
    uint32_t count = 0;
    for (uint32_t k = 0; k < RS_SWARM_KIND_COUNT; k++) {
        s->enabled[k] = rs_rng_chance_ppm(rng, 500000);
        s->weight[k] = (uint32_t)range(rng, 1, 10); /* drawn always: stable streams */
        count += s->enabled[k];
    }
    if (count == 0) {
        s->enabled[rs_rng_below(rng, RS_SWARM_NET_NOISE)] = true;
    }
    if (s->enabled[RS_SWARM_BIT_ROT]) {
        s->enabled[RS_SWARM_CRASH] = true;
    }
    for (uint32_t k = 0; k < RS_SWARM_KIND_COUNT; k++) {
        s->weight[k] = s->enabled[k] ? s->weight[k] : 0;
    }
}

void rs_swarm_draw(struct rs_swarm *s, uint64_t seed, uint64_t interval_ns,
                   uint64_t election_timeout_ns)
{
    RS_ASSERT(interval_ns > 0 && election_timeout_ns > 0);
    struct rs_rng rng;
    rs_rng_derive(&rng, seed, "swarm");
    memset(s, 0, sizeof *s);
    draw_kinds(s, &rng);
    s->interval_ns = interval_ns < RS_NS_PER_MS ? RS_NS_PER_MS : interval_ns;
    s->fault_min_ns = range(&rng, 100, 1000) * RS_NS_PER_MS;
    s->fault_max_ns = range(&rng, s->fault_min_ns / RS_NS_PER_MS, 5000) * RS_NS_PER_MS;
    s->down_min_ns = range(&rng, 100, 500) * RS_NS_PER_MS;
    s->down_max_ns = range(&rng, 1000, 5000) * RS_NS_PER_MS;
    s->pause_min_ns = range(&rng, 50, 500) * RS_NS_PER_MS;
    s->pause_max_ns = range_ms(&rng, election_timeout_ns, 3 * election_timeout_ns);
    s->disk_error_ppm = (uint32_t)range(&rng, 1000, 200000);
    s->bandwidth_bytes_per_s = range(&rng, 2, 256) * 1024;
    s->slow_factor = (uint32_t)range(&rng, 2, 50);
    s->drift_ppm_max = (int32_t)range(&rng, 100, 50000);
    s->jump_max_ns = range(&rng, 100, 10000) * RS_NS_PER_MS;
    bool noise = s->enabled[RS_SWARM_NET_NOISE];
    s->loss_ppm = (uint32_t)range(&rng, 0, 30000) * noise;
    s->dup_ppm = (uint32_t)range(&rng, 0, 20000) * noise;
    s->reorder_ppm = (uint32_t)range(&rng, 0, 100000) * noise;
    s->corrupt_ppm = (uint32_t)range(&rng, 0, 10000) * noise;
}

/* ---- steps ---- */

static struct rs_scn_target target(enum rs_scn_target_kind kind)
{
    return (struct rs_scn_target){.kind = kind};
}

/* Leader half the time (the interesting node), else a random one. */
static struct rs_scn_target leader_or_random(struct rs_rng *rng)
{
    return target(rs_rng_below(rng, 2) == 0 ? RS_SCN_TARGET_LEADER : RS_SCN_TARGET_RANDOM);
}

static void timed(const struct rs_swarm *s, struct rs_rng *rng, struct rs_scn_command *c)
{
    c->for_lo_ns = c->for_hi_ns = range_ms(rng, s->fault_min_ns, s->fault_max_ns);
}

static void step_partition(const struct rs_swarm *s, struct rs_rng *rng,
                           struct rs_scn_command *c)
{
    static const enum rs_scn_verb verbs[] = {
        RS_SCN_PARTITION_ISOLATE, RS_SCN_PARTITION_MINORITY, RS_SCN_PARTITION_MAJORITY_MINORITY,
        RS_SCN_PARTITION_ONE_WAY, RS_SCN_PARTITION_BRIDGE,   RS_SCN_PARTITION_RING};
    c->verb = verbs[rs_rng_below(rng, sizeof verbs / sizeof verbs[0])];
    if (c->verb == RS_SCN_PARTITION_ISOLATE || c->verb == RS_SCN_PARTITION_MINORITY) {
        c->target = leader_or_random(rng);
    } else if (c->verb == RS_SCN_PARTITION_BRIDGE) {
        c->target = target(RS_SCN_TARGET_RANDOM);
    } else if (c->verb == RS_SCN_PARTITION_ONE_WAY) {
        bool from_leader = rs_rng_below(rng, 2) == 0;
        c->source = target(from_leader ? RS_SCN_TARGET_LEADER : RS_SCN_TARGET_FOLLOWER);
        c->target = target(from_leader ? RS_SCN_TARGET_FOLLOWER : RS_SCN_TARGET_LEADER);
    }
    timed(s, rng, c);
}

static void step_filter(const struct rs_swarm *s, struct rs_rng *rng, struct rs_scn_command *c)
{
    static const unsigned types[] = {RS_MSG_VOTE_REQUEST,     RS_MSG_VOTE_RESPONSE,
                                     RS_MSG_APPEND_REQUEST,   RS_MSG_APPEND_RESPONSE,
                                     RS_MSG_KV_REQUEST,       RS_MSG_KV_RESPONSE};
    c->verb = RS_SCN_FILTER;
    uint32_t count = (uint32_t)range(rng, 1, 2);
    for (uint32_t i = 0; i < count; i++) {
        c->msg_types |= 1ull << types[rs_rng_below(rng, sizeof types / sizeof types[0])];
    }
    switch (rs_rng_below(rng, 3)) {
    case 0: c->target = target(RS_SCN_TARGET_RANDOM); break;
    case 1: c->source = target(RS_SCN_TARGET_LEADER); break;
    default:
        c->source = target(RS_SCN_TARGET_LEADER);
        c->target = target(RS_SCN_TARGET_FOLLOWER);
        break;
    }
    timed(s, rng, c);
}

static void step_disk(const struct rs_swarm *s, struct rs_rng *rng, enum rs_swarm_kind kind,
                      struct rs_scn_command *c)
{
    c->target = target(RS_SCN_TARGET_RANDOM);
    timed(s, rng, c);
    switch (kind) {
    case RS_SWARM_DISK_ERRORS:
        c->verb = RS_SCN_DISK_FAIL;
        if (rs_rng_below(rng, 2) == 0) {
            c->fail_next = (uint32_t)range(rng, 1, 3);
        } else {
            c->write_ppm = c->sync_ppm = s->disk_error_ppm;
        }
        break;
    case RS_SWARM_DISK_FULL:
        c->verb = RS_SCN_DISK_FULL;
        c->amount_lo = c->amount_hi = (int64_t)range(rng, 0, 64) * 1024;
        break;
    case RS_SWARM_DISK_SLOW:
        c->verb = RS_SCN_DISK_SLOW;
        c->amount_lo = c->amount_hi = (int64_t)range(rng, 2, s->slow_factor);
        break;
    default: /* bit rot, read by the next restart of a crashed node */
        c->verb = RS_SCN_DISK_CORRUPT;
        c->for_lo_ns = c->for_hi_ns = 0;
        c->amount_lo = c->amount_hi = (int64_t)range(rng, 1, 16);
        break;
    }
}

static void step_other(const struct rs_swarm *s, struct rs_rng *rng, enum rs_swarm_kind kind,
                       struct rs_scn_command *c)
{
    switch (kind) {
    case RS_SWARM_CRASH:
        c->verb = RS_SCN_CRASH_RESTART;
        c->target = leader_or_random(rng);
        c->down_lo_ns = c->down_hi_ns = range_ms(rng, s->down_min_ns, s->down_max_ns);
        break;
    case RS_SWARM_PAUSE:
        c->verb = RS_SCN_PAUSE;
        c->target = leader_or_random(rng);
        c->for_lo_ns = c->for_hi_ns = range_ms(rng, s->pause_min_ns, s->pause_max_ns);
        break;
    case RS_SWARM_CLOG:
        c->verb = RS_SCN_CLOG;
        if (rs_rng_below(rng, 3) == 0) {
            c->source = target(RS_SCN_TARGET_LEADER);
            c->target = target(RS_SCN_TARGET_FOLLOWER);
        } else {
            c->target = leader_or_random(rng);
        }
        timed(s, rng, c);
        break;
    case RS_SWARM_SWIZZLE:
        c->verb = RS_SCN_SWIZZLE_CLOG;
        c->interval_ns = range(rng, 100, 1000) * RS_NS_PER_MS;
        break;
    case RS_SWARM_BANDWIDTH:
        c->verb = RS_SCN_BANDWIDTH;
        c->target = leader_or_random(rng);
        c->amount_lo = c->amount_hi = (int64_t)s->bandwidth_bytes_per_s;
        timed(s, rng, c);
        break;
    case RS_SWARM_DRIFT:
        c->verb = RS_SCN_DRIFT;
        c->target = target(RS_SCN_TARGET_RANDOM);
        c->amount_lo = c->amount_hi = (int64_t)range(rng, 0, 2 * (uint64_t)s->drift_ppm_max) -
                                      s->drift_ppm_max;
        break;
    default:
        c->verb = RS_SCN_WALL_JUMP;
        c->target = target(RS_SCN_TARGET_RANDOM);
        c->amount_lo = c->amount_hi = (int64_t)range_ms(rng, 0, 2 * s->jump_max_ns) -
                                      (int64_t)s->jump_max_ns;
        break;
    }
}

/* A kind by weight among the enabled step kinds (net noise makes no steps). */
static enum rs_swarm_kind pick_kind(const struct rs_swarm *s, struct rs_rng *rng)
{
    uint32_t total = 0;
    for (uint32_t k = 0; k < RS_SWARM_NET_NOISE; k++) {
        total += s->weight[k];
    }
    RS_ASSERT(total > 0);
    uint64_t x = rs_rng_below(rng, total);
    for (uint32_t k = 0; k < RS_SWARM_NET_NOISE; k++) {
        if (x < s->weight[k]) {
            return (enum rs_swarm_kind)k;
        }
        x -= s->weight[k];
    }
    RS_UNREACHABLE();
}

uint32_t rs_swarm_steps(const struct rs_swarm *s, uint64_t seed, uint64_t run_ns,
                        uint32_t node_count, struct rs_scn_command *steps, uint32_t cap)
{
    RS_ASSERT(node_count >= 1 && cap <= RS_SWARM_STEPS_MAX);
    uint32_t step_kinds = 0;
    for (uint32_t k = 0; k < RS_SWARM_NET_NOISE; k++) {
        step_kinds += s->enabled[k];
    }
    if (step_kinds == 0) {
        return 0;
    }
    struct rs_rng rng;
    rs_rng_derive(&rng, seed, "swarm/steps");
    uint32_t count = 0;
    uint64_t half = s->interval_ns / 2;
    for (uint64_t t = range_ms(&rng, half, s->interval_ns + half); t < run_ns && count < cap;
         t += range_ms(&rng, half, s->interval_ns + half)) {
        struct rs_scn_command *c = &steps[count++];
        memset(c, 0, sizeof *c);
        c->at_ns = t;
        c->until_ns = RS_SCN_TIME_END;
        enum rs_swarm_kind kind = pick_kind(s, &rng);
        if (kind == RS_SWARM_PARTITION) {
            step_partition(s, &rng, c);
        } else if (kind == RS_SWARM_FILTER) {
            step_filter(s, &rng, c);
        } else if (kind >= RS_SWARM_DISK_ERRORS && kind <= RS_SWARM_BIT_ROT) {
            step_disk(s, &rng, kind, c);
        } else {
            step_other(s, &rng, kind, c);
        }
    }
    return count;
}

/* ---- reports ---- */

static void put_duration(struct rs_buf *b, uint64_t ns)
{
    char text[32];
    rs_scn_duration_format(ns, text, sizeof text);
    rs_buf_puts(b, text);
}

static void put_percent(struct rs_buf *b, uint32_t ppm)
{
    char text[32];
    rs_scn_scalar_format(RS_SCN_PERCENT, ppm, text, sizeof text);
    rs_buf_puts(b, text);
}

void rs_swarm_describe(const struct rs_swarm *s, struct rs_buf *b)
{
    rs_buf_puts(b, "swarm:");
    for (uint32_t k = 0; k < RS_SWARM_KIND_COUNT; k++) {
        if (s->enabled[k]) {
            rs_buf_printf(b, " %s", kind_names[k]);
            if (k != RS_SWARM_NET_NOISE) {
                rs_buf_printf(b, "x%u", s->weight[k]);
            }
        }
    }
    rs_buf_puts(b, "; every ~");
    put_duration(b, s->interval_ns);
    rs_buf_puts(b, ", faults last ");
    put_duration(b, s->fault_min_ns);
    rs_buf_puts(b, "..");
    put_duration(b, s->fault_max_ns);
    if (s->enabled[RS_SWARM_NET_NOISE]) {
        rs_buf_puts(b, "; net loss ");
        put_percent(b, s->loss_ppm);
        rs_buf_puts(b, " dup ");
        put_percent(b, s->dup_ppm);
        rs_buf_puts(b, " reorder ");
        put_percent(b, s->reorder_ppm);
        rs_buf_puts(b, " corrupt ");
        put_percent(b, s->corrupt_ppm);
    }
}

static void json_u64(struct rs_buf *b, const char *key, uint64_t v, bool comma)
{
    rs_buf_json_key(b, key);
    rs_buf_u64(b, v);
    if (comma) {
        rs_buf_putc(b, ',');
    }
}

void rs_swarm_json(const struct rs_swarm *s, struct rs_buf *b)
{
    rs_buf_puts(b, "{\"faults\":{");
    bool first = true;
    for (uint32_t k = 0; k < RS_SWARM_KIND_COUNT; k++) {
        if (s->enabled[k]) {
            rs_buf_printf(b, "%s\"%s\":%u", first ? "" : ",", kind_names[k], s->weight[k]);
            first = false;
        }
    }
    rs_buf_puts(b, "},");
    json_u64(b, "interval_ns", s->interval_ns, true);
    json_u64(b, "fault_min_ns", s->fault_min_ns, true);
    json_u64(b, "fault_max_ns", s->fault_max_ns, true);
    json_u64(b, "down_min_ns", s->down_min_ns, true);
    json_u64(b, "down_max_ns", s->down_max_ns, true);
    json_u64(b, "pause_min_ns", s->pause_min_ns, true);
    json_u64(b, "pause_max_ns", s->pause_max_ns, true);
    json_u64(b, "disk_error_ppm", s->disk_error_ppm, true);
    json_u64(b, "bandwidth_bytes_per_s", s->bandwidth_bytes_per_s, true);
    json_u64(b, "slow_factor", s->slow_factor, true);
    json_u64(b, "drift_ppm_max", (uint64_t)s->drift_ppm_max, true);
    json_u64(b, "jump_max_ns", s->jump_max_ns, true);
    json_u64(b, "loss_ppm", s->loss_ppm, true);
    json_u64(b, "dup_ppm", s->dup_ppm, true);
    json_u64(b, "reorder_ppm", s->reorder_ppm, true);
    json_u64(b, "corrupt_ppm", s->corrupt_ppm, false);
    rs_buf_putc(b, '}');
}
