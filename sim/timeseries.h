/* Per-store time series and balance measures, from the world's samples (cfg.sample_ns). */
#ifndef RS_SIM_TIMESERIES_H
#define RS_SIM_TIMESERIES_H

#include "reports/json.h"
#include "sim/world.h"

/* The measures whose balance across stores is reported. */
enum rs_balance_metric {
    RS_BALANCE_LEADERS = 0,
    RS_BALANCE_REGIONS,
    RS_BALANCE_KEYS,
    RS_BALANCE_BYTES,
    RS_BALANCE_READ_QPS,
    RS_BALANCE_WRITE_QPS,
    RS_BALANCE_METRIC_COUNT
};
const char *rs_balance_metric_name(enum rs_balance_metric m);

/*
 * The spread of one measure over the stores that are up at one sample time. stddev and
 * max_over_mean are the only floating-point values, and only for output.
 */
struct rs_spread {
    uint64_t min, max;
    uint32_t stores;
    double mean, stddev, max_over_mean;
};
void rs_spread_of(const struct rs_world_sample *rows, size_t count, enum rs_balance_metric m,
                  uint64_t sample_ns, struct rs_spread *out);

/* timeseries.csv: one row per store and sample. */
void rs_timeseries_csv(const struct rs_world *w, struct rs_buf *out);
/* balance.csv: one row per sample time and measure: min, max, max-min, stddev, max/mean. */
void rs_balance_csv(const struct rs_world *w, struct rs_buf *out);
/*
 * The summary's "balance" object: per measure the spread at the last sample, and since when
 * the leaders and the region replicas have been balanced (max - min <= 1 over the stores that
 * are up, held to the end), plus churn totals (leader gains, replicas added, snapshot bytes,
 * splits). null without samples.
 */
void rs_balance_json(const struct rs_world *w, struct rs_buf *out);
/* The first sample time from which max - min <= 1 held to the last sample; -1 when it does
 * not hold at the end (or there are no samples). */
int64_t rs_balanced_since(const struct rs_world *w, enum rs_balance_metric m);

#endif
