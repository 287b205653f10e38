/* Paired comparison of configurations over seeds: statistics, compare.md, CSVs and plots. */
#ifndef RS_REPORTS_COMPARE_H
#define RS_REPORTS_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reports/json.h"

/* Bounds of one comparison; rs_compare_init refuses larger tables. */
#define RS_COMPARE_CONFIGS_MAX 16
#define RS_COMPARE_SEEDS_MAX   10000
#define RS_COMPARE_METRICS_MAX 32
#define RS_COMPARE_NAME_SIZE   48
#define RS_COMPARE_LABEL_SIZE  64
#define RS_COMPARE_HELP_SIZE   160
/* compare-latency.csv covers at most this many seconds of the chosen seed. */
#define RS_COMPARE_SECONDS_MAX 100000u

/*
 * How a metric is stored and shown. Values are integers in the metric's own unit (ns, ppm,
 * counts); display = value / scale (e.g. scale 1000000 shows ns as ms, 10000 shows ppm as %).
 */
struct rs_compare_metric {
    char name[RS_COMPARE_NAME_SIZE]; /* an identifier: "latency_p99" */
    char unit[16];                   /* the display unit: "ms", "%", "count", "s" */
    uint64_t scale;                  /* integer units per display unit, at least 1 */
    unsigned places;                 /* decimals of displayed means and differences */
    char help[RS_COMPARE_HELP_SIZE]; /* one sentence: what it measures */
};

/*
 * Every value of a comparison: metric x configuration x seed, each present or missing (a run
 * that has no such value, e.g. no convergence time when liveness was not checked). The first
 * configuration is the baseline of every paired difference.
 */
struct rs_compare_table {
    char setting[RS_COMPARE_LABEL_SIZE]; /* what varies: "raft.read" */
    uint32_t config_count;
    char config_labels[RS_COMPARE_CONFIGS_MAX][RS_COMPARE_LABEL_SIZE]; /* its values */
    uint32_t failed_runs[RS_COMPARE_CONFIGS_MAX]; /* runs whose checks failed (exit 1 or 2) */
    uint32_t seed_count;
    uint64_t *seeds;
    uint32_t metric_count;
    struct rs_compare_metric metrics[RS_COMPARE_METRICS_MAX];
    int64_t *values;  /* [metric][config][seed] */
    uint8_t *present; /* same shape: 1 when the value exists */
    /* latency over time of one seed (compare-latency.csv): [second][config], -1 for none */
    uint64_t latency_seed;
    uint32_t latency_second_count;
    int64_t *latency_p50_ns;
    int64_t *latency_p99_ns;
};

/* One configuration's values of one metric, over the seeds where it is present. */
struct rs_compare_summary {
    uint32_t n;
    double mean;
    double stddev;  /* sample standard deviation (n - 1); 0 when n < 2 */
    double ci_half; /* half width of the 95% CI of the mean; 0 when n < 2 */
};

/* The paired differences other - baseline over the seeds where both are present. */
struct rs_compare_diff {
    uint32_t n;
    bool defined; /* n >= 2: a standard deviation and an interval exist */
    double mean;
    double stddev;
    double t95; /* Student's t quantile used (0.975, n - 1 degrees of freedom) */
    double ci_low;
    double ci_high;
    bool significant;      /* defined and the interval excludes 0 */
    bool relative_defined; /* the baseline's mean is not 0 */
    double relative;       /* mean difference / baseline mean over the same seeds */
};

/*
 * The two-sided 95% quantile of Student's t (t_0.975) for df degrees of freedom: tabulated
 * for 1..30, 40, 50, 60, 80, 100, 120 (between table rows the smaller df is used, which
 * widens the interval a little), 1.96 (the normal) above 120. df 0 gives 0.
 */
double rs_compare_t95(uint32_t df);

/* Mean, sample deviation and 95% CI half width of values[i] where present[i]. */
void rs_compare_summarize(const int64_t *values,
                          const uint8_t *present,
                          uint32_t count,
                          struct rs_compare_summary *out);

/* The paired difference other[i] - base[i] over the i where both are present. */
void rs_compare_paired(const int64_t *base,
                       const uint8_t *base_present,
                       const int64_t *other,
                       const uint8_t *other_present,
                       uint32_t count,
                       struct rs_compare_diff *out);

/*
 * Sets up a table for config_count configurations (labels set by the caller) and the given
 * seeds (copied). Returns false, with the table empty, when a bound is exceeded or
 * config_count < 1 or seed_count < 1.
 */
bool rs_compare_init(struct rs_compare_table *t,
                     const char *setting,
                     uint32_t config_count,
                     const uint64_t *seeds,
                     uint32_t seed_count);
void rs_compare_free(struct rs_compare_table *t);
/* Adds a metric (all values missing); returns its index, or -1 when the table is full. */
int rs_compare_add_metric(struct rs_compare_table *t,
                          const char *name,
                          const char *unit,
                          uint64_t scale,
                          unsigned places,
                          const char *help);
void rs_compare_set(struct rs_compare_table *t,
                    uint32_t metric,
                    uint32_t config,
                    uint32_t seed_index,
                    int64_t value);
/* The row of one metric and configuration: seed_count values and presence flags. */
const int64_t *rs_compare_row(const struct rs_compare_table *t, uint32_t metric, uint32_t config);
const uint8_t *rs_compare_row_present(const struct rs_compare_table *t,
                                      uint32_t metric,
                                      uint32_t config);
/* Allocates the latency-over-time arrays (all -1) for second_count seconds of seed. */
bool rs_compare_latency_init(struct rs_compare_table *t, uint64_t seed, uint32_t second_count);

/*
 * compare.md: a heading, the caller's preamble (Markdown, may be NULL), then per metric a
 * table: configuration, n, mean, sd, paired difference vs the baseline (and relative), 95% CI,
 * significant?. Numbers in display units; nothing in it depends on the output directory.
 */
void rs_compare_markdown(const struct rs_compare_table *t,
                         const char *title,
                         const char *preamble,
                         struct rs_buf *out);
/*
 * compare.csv, one row per configuration x metric:
 * metric,unit,config,baseline,n,mean,sd,ci95_half,diff_n,diff_mean,diff_sd,t95,ci95_low,
 * ci95_high,significant,relative_diff  (display units, six decimals; diff fields empty for
 * the baseline and where fewer than two seeds pair up).
 */
void rs_compare_csv(const struct rs_compare_table *t, struct rs_buf *out);
/* compare-seeds.csv: metric,unit,config,seed,value (display units; empty when missing). */
void rs_compare_seeds_csv(const struct rs_compare_table *t, struct rs_buf *out);
/* compare-latency.csv: second, then per configuration "<label> p50_ms" and "<label> p99_ms". */
void rs_compare_latency_csv(const struct rs_compare_table *t, struct rs_buf *out);
/* compare-metrics.dat: per metric a gnuplot data block (index i): x, label, mean, low, high. */
void rs_compare_plot_data(const struct rs_compare_table *t, struct rs_buf *out);
/* compare.gp: reads compare-latency.csv and compare-metrics.dat, writes compare-latency.svg,
 * compare-latency.png, compare-metrics.svg and compare-metrics.png. */
void rs_compare_plot_script(const struct rs_compare_table *t,
                            const char *title,
                            struct rs_buf *out);

enum rs_compare_plot_status {
    RS_COMPARE_PLOT_OK,         /* every file and the four images written */
    RS_COMPARE_PLOT_NO_GNUPLOT, /* data files and compare.gp written; no gnuplot to run */
    RS_COMPARE_PLOT_FAILED,     /* data files and compare.gp written; gnuplot failed */
    RS_COMPARE_PLOT_IO,         /* a file in dir could not be written */
};

/*
 * Writes compare.md, compare.csv, compare-seeds.csv, compare-latency.csv, compare-metrics.dat
 * and compare.gp into dir (which must exist); then, when plots is true, runs gnuplot there
 * ($RHEASIM_GNUPLOT when set and not empty, else gnuplot on PATH; its output in
 * dir/compare-gnuplot.log, removed when empty). message gets one line for the user.
 */
enum rs_compare_plot_status rs_compare_write(const struct rs_compare_table *t,
                                             const char *dir,
                                             const char *title,
                                             const char *preamble,
                                             bool plots,
                                             char *message,
                                             size_t message_size);

#endif
