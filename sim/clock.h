/* Per-node clocks: a monotonic clock with offset and drift, and a wall clock that can step. */
#ifndef RS_SIM_CLOCK_H
#define RS_SIM_CLOCK_H

#include "core/base.h"

#define RS_CLOCK_DRIFT_PPM_MAX 100000 /* +-10%: the rate stays in [0.9, 1.1] */
#define RS_CLOCK_NEVER         UINT64_MAX

/*
 * A node's clocks as exact functions of global simulated time g (nanoseconds):
 *
 *   local(g) = offset_ns + floor((g - anchor_ns) * (1e6 + drift_ppm) / 1e6)
 *   wall(g)  = local(g) + wall_offset_ns
 *
 * With anchor_ns = 0 this is local = g + offset + g * drift / 1e6 (with floor rounding), so
 * `(struct rs_clock){.offset_ns = ..., .drift_ppm = ...}` is a valid clock. The anchor exists
 * so that the drift can change mid-run (rs_clock_set_drift) without the monotonic clock
 * jumping: the new rate starts from the local time reached at that moment.
 *
 * Both clocks are clamped to [0, UINT64_MAX]: a negative offset holds local time at 0 until
 * the oscillator has caught up (hosts that want negative skew to be visible give every node a
 * positive base offset). Monotonic: local(g + 1) >= local(g) for every g, because the rate is
 * positive for every drift in [-RS_CLOCK_DRIFT_PPM_MAX, RS_CLOCK_DRIFT_PPM_MAX]. The wall
 * clock may step backwards or forwards (rs_clock_wall_step); the local clock never does.
 * Exact for any g and offsets: the arithmetic is 128-bit.
 */
struct rs_clock {
    int64_t offset_ns;      /* local time at global time anchor_ns, before clamping */
    uint64_t anchor_ns;     /* global time the current rate started from */
    int64_t wall_offset_ns; /* wall minus local */
    int32_t drift_ppm;      /* in [-RS_CLOCK_DRIFT_PPM_MAX, RS_CLOCK_DRIFT_PPM_MAX] */
};

/* A clock with anchor 0 and no wall offset. RS_EINVAL (and *c untouched) for a bad drift. */
enum rs_err rs_clock_init(struct rs_clock *c, int64_t offset_ns, int32_t drift_ppm);

/* Node-local monotonic time at global time global_ns. */
uint64_t rs_clock_local(const struct rs_clock *c, uint64_t global_ns);

/*
 * The smallest global g with local(g) >= local_ns: when a timer set for local time local_ns
 * fires. RS_CLOCK_NEVER (UINT64_MAX) if local time does not reach local_ns before the end of
 * global time (or reaches it exactly at UINT64_MAX).
 */
uint64_t rs_clock_global(const struct rs_clock *c, uint64_t local_ns);

/*
 * Change the rate from global time now_ns on; local time at now_ns is unchanged, so the clock
 * stays monotonic. RS_EINVAL for a bad drift. Exact while local time stays below 2^63 ns
 * (292 years); beyond that the stored offset saturates.
 */
enum rs_err rs_clock_set_drift(struct rs_clock *c, uint64_t now_ns, int32_t drift_ppm);

/* Wall-clock time at global time global_ns (clamped to [0, UINT64_MAX]). */
uint64_t rs_clock_wall(const struct rs_clock *c, uint64_t global_ns);
/* Step the wall clock by delta_ns (negative: backwards), as NTP or an operator would. */
void rs_clock_wall_step(struct rs_clock *c, int64_t delta_ns);

#endif
