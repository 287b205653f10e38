/* Per-node clocks: exact 128-bit integer conversions between global and local time. */
#include "sim/clock.h"

typedef __int128 clock_i128;

#define PPM_ONE 1000000

static bool drift_valid(int32_t drift_ppm)
{
    return drift_ppm >= -RS_CLOCK_DRIFT_PPM_MAX && drift_ppm <= RS_CLOCK_DRIFT_PPM_MAX;
}

/* floor(a / b) and ceil(a / b) for b > 0; C division truncates towards zero. */
static clock_i128 floor_div(clock_i128 a, clock_i128 b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static clock_i128 ceil_div(clock_i128 a, clock_i128 b)
{
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

static uint64_t clamp_u64(clock_i128 v)
{
    if (v < 0) {
        return 0;
    }
    if (v > (clock_i128)UINT64_MAX) {
        return UINT64_MAX;
    }
    return (uint64_t)v;
}

/*
 * Below this elapsed time (2.4 hours) elapsed * rate fits in 64 bits, so the common case
 * avoids a 128-bit division; the result is the same either way.
 */
#define FAST_ELAPSED_MAX (1ull << 43)
_Static_assert(FAST_ELAPSED_MAX <= UINT64_MAX / (PPM_ONE + RS_CLOCK_DRIFT_PPM_MAX),
               "the fast path of rs_clock_local must not overflow");
_Static_assert(FAST_ELAPSED_MAX <= (UINT64_MAX - PPM_ONE) / PPM_ONE,
               "the fast path of rs_clock_global must not overflow");

/* local(g) before clamping; |value| < 2^86, far inside 128 bits. */
static clock_i128 local_unclamped(const struct rs_clock *c, uint64_t global_ns)
{
    RS_ASSERT(drift_valid(c->drift_ppm));
    uint64_t rate = (uint64_t)(PPM_ONE + c->drift_ppm);
    if (global_ns >= c->anchor_ns && global_ns - c->anchor_ns < FAST_ELAPSED_MAX) {
        uint64_t scaled = (global_ns - c->anchor_ns) * rate / PPM_ONE;
        return (clock_i128)c->offset_ns + (clock_i128)scaled;
    }
    clock_i128 elapsed = (clock_i128)global_ns - (clock_i128)c->anchor_ns;
    return (clock_i128)c->offset_ns + floor_div(elapsed * (clock_i128)rate, PPM_ONE);
}

enum rs_err rs_clock_init(struct rs_clock *c, int64_t offset_ns, int32_t drift_ppm)
{
    RS_ASSERT(c != NULL);
    if (!drift_valid(drift_ppm)) {
        return RS_EINVAL;
    }
    *c = (struct rs_clock){.offset_ns = offset_ns, .drift_ppm = drift_ppm};
    return RS_OK;
}

uint64_t rs_clock_local(const struct rs_clock *c, uint64_t global_ns)
{
    return clamp_u64(local_unclamped(c, global_ns));
}

/*
 * local(g) >= L  <=>  floor(e * rate / 1e6) >= L - offset  <=>  e * rate >= (L - offset) * 1e6
 * (floor(x) >= T for an integer T exactly when x >= T), so the smallest elapsed time e is
 * ceil((L - offset) * 1e6 / rate). Clamping local time to 0 and UINT64_MAX does not change the
 * answer for 1 <= L <= UINT64_MAX.
 */
uint64_t rs_clock_global(const struct rs_clock *c, uint64_t local_ns)
{
    RS_ASSERT(drift_valid(c->drift_ppm));
    if (local_ns == 0) {
        return 0;
    }
    clock_i128 target = (clock_i128)local_ns - (clock_i128)c->offset_ns;
    clock_i128 rate = PPM_ONE + c->drift_ppm;
    clock_i128 elapsed;
    if (target >= 0 && target < (clock_i128)FAST_ELAPSED_MAX) {
        uint64_t scaled = (uint64_t)target * PPM_ONE;
        elapsed = (clock_i128)((scaled + (uint64_t)rate - 1) / (uint64_t)rate);
    } else {
        elapsed = ceil_div(target * PPM_ONE, rate);
    }
    uint64_t global_ns = clamp_u64((clock_i128)c->anchor_ns + elapsed);
    RS_ASSERT(global_ns == RS_CLOCK_NEVER || rs_clock_local(c, global_ns) >= local_ns);
    return global_ns;
}

enum rs_err rs_clock_set_drift(struct rs_clock *c, uint64_t now_ns, int32_t drift_ppm)
{
    if (!drift_valid(drift_ppm)) {
        return RS_EINVAL;
    }
    clock_i128 local = local_unclamped(c, now_ns);
    /* Keep a negative offset negative so a clock still held at 0 stays held consistently. */
    if (local > INT64_MAX) {
        local = INT64_MAX;
    } else if (local < INT64_MIN) {
        local = INT64_MIN;
    }
    c->offset_ns = (int64_t)local;
    c->anchor_ns = now_ns;
    c->drift_ppm = drift_ppm;
    return RS_OK;
}

uint64_t rs_clock_wall(const struct rs_clock *c, uint64_t global_ns)
{
    return clamp_u64(local_unclamped(c, global_ns) + c->wall_offset_ns);
}

void rs_clock_wall_step(struct rs_clock *c, int64_t delta_ns)
{
    /* Saturate rather than overflow: a step past the int64 range is a scenario mistake. */
    if (delta_ns > 0 && c->wall_offset_ns > INT64_MAX - delta_ns) {
        c->wall_offset_ns = INT64_MAX;
    } else if (delta_ns < 0 && c->wall_offset_ns < INT64_MIN - delta_ns) {
        c->wall_offset_ns = INT64_MIN;
    } else {
        c->wall_offset_ns += delta_ns;
    }
}
