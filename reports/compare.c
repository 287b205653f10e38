/* Paired comparison statistics over seeds and the tables and plots that show them. */
#include "reports/compare.h"

#include "reports/plot.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* reports/ links nothing of ours, so it has its own always-on assertion (see plot.c). */
#define COMPARE_ASSERT(cond) ((cond) ? (void)0 : compare_assert_fail(#cond, __LINE__))

#define PATH_SIZE 4096
#define NS_PER_MS 1000000ll

static _Noreturn void compare_assert_fail(const char *expr, int line)
{
    fprintf(stderr, "rheasim: assertion failed: %s (%s:%d)\n", expr, __FILE__, line);
    fflush(stderr);
    abort();
}

/* ---- statistics ---- */

/*
 * Square root by Newton's method: the libraries here link no libm. Starting at or above the
 * root, the iterates fall monotonically until rounding stops them, which ends the loop; the
 * bound only guards against a non-finite input.
 */
static double square_root(double x)
{
    if (!(x > 0.0)) {
        return 0.0;
    }
    double y = x > 1.0 ? x : 1.0;
    for (int i = 0; i < 2100; i++) {
        double next = 0.5 * (y + x / y);
        if (!(next < y)) {
            break;
        }
        y = next;
    }
    return y;
}

/* t_0.975 for df 1..30 (index df - 1), then the sparser rows below. */
static const double t95_small[30] = {
    12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
    2.2010,  2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
    2.0796,  2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
};
static const struct {
    uint32_t df;
    double t;
} t95_large[] = {{40, 2.0211}, {50, 2.0086},  {60, 2.0003},
                 {80, 1.9901}, {100, 1.9840}, {120, 1.9799}};
#define T95_NORMAL 1.9600

double rs_compare_t95(uint32_t df)
{
    if (df == 0) {
        return 0.0;
    }
    if (df <= 30) {
        return t95_small[df - 1];
    }
    if (df > 120) {
        return T95_NORMAL;
    }
    /* The row at or below df: t falls as df grows, so this errs towards a wider interval. */
    double t = t95_small[29];
    for (size_t i = 0; i < sizeof t95_large / sizeof t95_large[0]; i++) {
        if (t95_large[i].df <= df) {
            t = t95_large[i].t;
        }
    }
    return t;
}

void rs_compare_summarize(const int64_t *values,
                          const uint8_t *present,
                          uint32_t count,
                          struct rs_compare_summary *out)
{
    COMPARE_ASSERT(out != NULL);
    COMPARE_ASSERT(count == 0 || (values != NULL && present != NULL));
    memset(out, 0, sizeof *out);
    double sum = 0.0;
    for (uint32_t i = 0; i < count; i++) {
        if (present[i]) {
            sum += (double)values[i];
            out->n++;
        }
    }
    if (out->n == 0) {
        return;
    }
    out->mean = sum / out->n;
    if (out->n < 2) {
        return;
    }
    /* Two passes: the deviations are small next to the values, so little is lost. */
    double squares = 0.0;
    for (uint32_t i = 0; i < count; i++) {
        if (present[i]) {
            double d = (double)values[i] - out->mean;
            squares += d * d;
        }
    }
    out->stddev = square_root(squares / (out->n - 1));
    out->ci_half = rs_compare_t95(out->n - 1) * out->stddev / square_root((double)out->n);
}

void rs_compare_paired(const int64_t *base,
                       const uint8_t *base_present,
                       const int64_t *other,
                       const uint8_t *other_present,
                       uint32_t count,
                       struct rs_compare_diff *out)
{
    COMPARE_ASSERT(out != NULL);
    COMPARE_ASSERT(count == 0 || (base != NULL && other != NULL));
    memset(out, 0, sizeof *out);
    double sum = 0.0;
    double base_sum = 0.0;
    for (uint32_t i = 0; i < count; i++) {
        if (base_present[i] && other_present[i]) {
            sum += (double)other[i] - (double)base[i];
            base_sum += (double)base[i];
            out->n++;
        }
    }
    if (out->n == 0) {
        return;
    }
    out->mean = sum / out->n;
    if (base_sum != 0.0) {
        out->relative_defined = true;
        out->relative = out->mean / (base_sum / out->n);
    }
    if (out->n < 2) {
        return;
    }
    double squares = 0.0;
    for (uint32_t i = 0; i < count; i++) {
        if (base_present[i] && other_present[i]) {
            double d = (double)other[i] - (double)base[i] - out->mean;
            squares += d * d;
        }
    }
    out->defined = true;
    out->stddev = square_root(squares / (out->n - 1));
    out->t95 = rs_compare_t95(out->n - 1);
    double half = out->t95 * out->stddev / square_root((double)out->n);
    out->ci_low = out->mean - half;
    out->ci_high = out->mean + half;
    out->significant = out->ci_low > 0.0 || out->ci_high < 0.0;
}

/* ---- the table ---- */

bool rs_compare_init(struct rs_compare_table *t,
                     const char *setting,
                     uint32_t config_count,
                     const uint64_t *seeds,
                     uint32_t seed_count)
{
    COMPARE_ASSERT(t != NULL);
    memset(t, 0, sizeof *t);
    if (config_count < 1 || config_count > RS_COMPARE_CONFIGS_MAX || seed_count < 1 ||
        seed_count > RS_COMPARE_SEEDS_MAX || seeds == NULL) {
        return false;
    }
    size_t cells = (size_t)RS_COMPARE_METRICS_MAX * config_count * seed_count;
    t->seeds = malloc(seed_count * sizeof *t->seeds);
    t->values = calloc(cells, sizeof *t->values);
    t->present = calloc(cells, sizeof *t->present);
    COMPARE_ASSERT(t->seeds != NULL && t->values != NULL && t->present != NULL);
    memcpy(t->seeds, seeds, seed_count * sizeof *seeds);
    snprintf(t->setting, sizeof t->setting, "%s", setting != NULL ? setting : "configuration");
    t->config_count = config_count;
    t->seed_count = seed_count;
    return true;
}

void rs_compare_free(struct rs_compare_table *t)
{
    free(t->seeds);
    free(t->values);
    free(t->present);
    free(t->latency_p50_ns);
    free(t->latency_p99_ns);
    memset(t, 0, sizeof *t);
}

int rs_compare_add_metric(struct rs_compare_table *t,
                          const char *name,
                          const char *unit,
                          uint64_t scale,
                          unsigned places,
                          const char *help)
{
    COMPARE_ASSERT(scale >= 1);
    COMPARE_ASSERT(places <= 9);
    if (t->metric_count == RS_COMPARE_METRICS_MAX) {
        return -1;
    }
    struct rs_compare_metric *m = &t->metrics[t->metric_count];
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->unit, sizeof m->unit, "%s", unit);
    snprintf(m->help, sizeof m->help, "%s", help != NULL ? help : "");
    m->scale = scale;
    m->places = places;
    return (int)t->metric_count++;
}

static size_t cell(const struct rs_compare_table *t, uint32_t metric, uint32_t config)
{
    COMPARE_ASSERT(metric < t->metric_count);
    COMPARE_ASSERT(config < t->config_count);
    return ((size_t)metric * t->config_count + config) * t->seed_count;
}

void rs_compare_set(struct rs_compare_table *t,
                    uint32_t metric,
                    uint32_t config,
                    uint32_t seed_index,
                    int64_t value)
{
    COMPARE_ASSERT(seed_index < t->seed_count);
    size_t at = cell(t, metric, config) + seed_index;
    t->values[at] = value;
    t->present[at] = 1;
}

const int64_t *rs_compare_row(const struct rs_compare_table *t, uint32_t metric, uint32_t config)
{
    return t->values + cell(t, metric, config);
}

const uint8_t *rs_compare_row_present(const struct rs_compare_table *t,
                                      uint32_t metric,
                                      uint32_t config)
{
    return t->present + cell(t, metric, config);
}

bool rs_compare_latency_init(struct rs_compare_table *t, uint64_t seed, uint32_t second_count)
{
    free(t->latency_p50_ns);
    free(t->latency_p99_ns);
    t->latency_p50_ns = t->latency_p99_ns = NULL;
    t->latency_second_count = 0;
    if (second_count > RS_COMPARE_SECONDS_MAX) {
        return false;
    }
    size_t cells = (size_t)second_count * t->config_count;
    t->latency_p50_ns = malloc((cells ? cells : 1) * sizeof *t->latency_p50_ns);
    t->latency_p99_ns = malloc((cells ? cells : 1) * sizeof *t->latency_p99_ns);
    COMPARE_ASSERT(t->latency_p50_ns != NULL && t->latency_p99_ns != NULL);
    for (size_t i = 0; i < cells; i++) {
        t->latency_p50_ns[i] = t->latency_p99_ns[i] = -1;
    }
    t->latency_seed = seed;
    t->latency_second_count = second_count;
    return true;
}

/* ---- writers ---- */

/* value (in the metric's integer unit, as a double) shown in display units. */
static void put_display(struct rs_buf *out,
                        double value,
                        const struct rs_compare_metric *m,
                        unsigned places,
                        bool sign)
{
    double shown = value / (double)m->scale;
    if (shown == 0.0) {
        shown = 0.0; /* no "-0.000" */
    }
    rs_buf_printf(out, sign ? "%+.*f" : "%.*f", (int)places, shown);
}

/* An exact integer in display units: value / scale with the digits scale calls for. */
static void put_exact(struct rs_buf *out, int64_t value, uint64_t scale)
{
    unsigned places = 0;
    for (uint64_t s = scale; s >= 10; s /= 10) {
        places++;
    }
    uint64_t magnitude = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    if (value < 0) {
        rs_buf_putc(out, '-');
    }
    rs_buf_u64(out, magnitude / scale);
    if (places > 0) {
        rs_buf_printf(out, ".%0*llu", (int)places, (unsigned long long)(magnitude % scale));
    }
}

/* Labels as Markdown table cells: a '|' would split the cell, a newline the table. */
static void put_md_cell(struct rs_buf *out, const char *text)
{
    for (size_t i = 0; text[i] != '\0'; i++) {
        char c = text[i];
        if (c == '|') {
            rs_buf_puts(out, "\\|");
        } else {
            rs_buf_putc(out, (unsigned char)c < 0x20 ? ' ' : c);
        }
    }
}

static void markdown_row(const struct rs_compare_table *t,
                         uint32_t metric,
                         uint32_t config,
                         struct rs_buf *out)
{
    const struct rs_compare_metric *m = &t->metrics[metric];
    struct rs_compare_summary s;
    rs_compare_summarize(rs_compare_row(t, metric, config),
                         rs_compare_row_present(t, metric, config), t->seed_count, &s);
    rs_buf_puts(out, "| ");
    put_md_cell(out, t->config_labels[config]);
    rs_buf_printf(out, "%s | %u | ", config == 0 ? " (baseline)" : "", s.n);
    put_display(out, s.mean, m, m->places, false);
    rs_buf_puts(out, " | ");
    put_display(out, s.stddev, m, m->places, false);
    if (config == 0) {
        rs_buf_puts(out, " | | | |\n");
        return;
    }
    struct rs_compare_diff d;
    rs_compare_paired(rs_compare_row(t, metric, 0), rs_compare_row_present(t, metric, 0),
                      rs_compare_row(t, metric, config), rs_compare_row_present(t, metric, config),
                      t->seed_count, &d);
    rs_buf_puts(out, " | ");
    if (d.n > 0) {
        put_display(out, d.mean, m, m->places, true);
        if (d.relative_defined) {
            rs_buf_printf(out, " (%+.1f%%)", d.relative * 100.0 == 0.0 ? 0.0 : d.relative * 100.0);
        }
    }
    rs_buf_puts(out, " | ");
    if (d.defined) {
        rs_buf_puts(out, "[");
        put_display(out, d.ci_low, m, m->places, true);
        rs_buf_puts(out, ", ");
        put_display(out, d.ci_high, m, m->places, true);
        rs_buf_puts(out, "]");
    } else {
        rs_buf_puts(out, "n/a (fewer than 2 paired seeds)");
    }
    rs_buf_printf(out, " | %s |\n", !d.defined ? "" : d.significant ? "**yes**" : "no");
}

void rs_compare_markdown(const struct rs_compare_table *t,
                         const char *title,
                         const char *preamble,
                         struct rs_buf *out)
{
    COMPARE_ASSERT(t->config_count >= 1);
    rs_buf_printf(out, "# %s\n\n", title != NULL ? title : "Comparison");
    if (preamble != NULL) {
        rs_buf_puts(out, preamble);
        rs_buf_putc(out, '\n');
    }
    for (uint32_t metric = 0; metric < t->metric_count; metric++) {
        const struct rs_compare_metric *m = &t->metrics[metric];
        rs_buf_printf(out, "## %s (%s)\n\n%s\n\n", m->name, m->unit, m->help);
        rs_buf_printf(out,
                      "| %s | n | mean | sd | paired diff vs baseline | 95%% CI of the diff "
                      "| significant? |\n|---|---:|---:|---:|---:|---:|:---:|\n",
                      t->setting);
        for (uint32_t config = 0; config < t->config_count; config++) {
            markdown_row(t, metric, config, out);
        }
        rs_buf_putc(out, '\n');
    }
}

/* A CSV field: quoted when it holds a comma, quote or line break. */
static void put_csv_field(struct rs_buf *out, const char *text)
{
    if (strpbrk(text, ",\"\r\n") == NULL) {
        rs_buf_puts(out, text);
        return;
    }
    rs_buf_putc(out, '"');
    for (size_t i = 0; text[i] != '\0'; i++) {
        if (text[i] == '"') {
            rs_buf_putc(out, '"');
        }
        rs_buf_putc(out, text[i]);
    }
    rs_buf_putc(out, '"');
}

static void csv_diff_fields(const struct rs_compare_table *t,
                            uint32_t metric,
                            uint32_t config,
                            struct rs_buf *out)
{
    const struct rs_compare_metric *m = &t->metrics[metric];
    struct rs_compare_diff d;
    rs_compare_paired(rs_compare_row(t, metric, 0), rs_compare_row_present(t, metric, 0),
                      rs_compare_row(t, metric, config), rs_compare_row_present(t, metric, config),
                      t->seed_count, &d);
    if (config == 0 || !d.defined) {
        rs_buf_printf(out, ",%u,,,,,,,", config == 0 ? 0 : d.n);
        return;
    }
    rs_buf_printf(out, ",%u,", d.n);
    put_display(out, d.mean, m, 6, false);
    rs_buf_putc(out, ',');
    put_display(out, d.stddev, m, 6, false);
    rs_buf_printf(out, ",%.4f,", d.t95);
    put_display(out, d.ci_low, m, 6, false);
    rs_buf_putc(out, ',');
    put_display(out, d.ci_high, m, 6, false);
    rs_buf_printf(out, ",%s,", d.significant ? "yes" : "no");
    if (d.relative_defined) {
        rs_buf_printf(out, "%.6f", d.relative == 0.0 ? 0.0 : d.relative);
    }
}

void rs_compare_csv(const struct rs_compare_table *t, struct rs_buf *out)
{
    rs_buf_puts(out,
                "metric,unit,config,baseline,n,mean,sd,ci95_half,diff_n,diff_mean,diff_sd,"
                "t95,ci95_low,ci95_high,significant,relative_diff\n");
    for (uint32_t metric = 0; metric < t->metric_count; metric++) {
        const struct rs_compare_metric *m = &t->metrics[metric];
        for (uint32_t config = 0; config < t->config_count; config++) {
            struct rs_compare_summary s;
            rs_compare_summarize(rs_compare_row(t, metric, config),
                                 rs_compare_row_present(t, metric, config), t->seed_count, &s);
            rs_buf_printf(out, "%s,%s,", m->name, m->unit);
            put_csv_field(out, t->config_labels[config]);
            rs_buf_printf(out, ",%s,%u,", config == 0 ? "yes" : "no", s.n);
            put_display(out, s.mean, m, 6, false);
            rs_buf_putc(out, ',');
            put_display(out, s.stddev, m, 6, false);
            rs_buf_putc(out, ',');
            put_display(out, s.ci_half, m, 6, false);
            csv_diff_fields(t, metric, config, out);
            rs_buf_putc(out, '\n');
        }
    }
}

void rs_compare_seeds_csv(const struct rs_compare_table *t, struct rs_buf *out)
{
    rs_buf_puts(out, "metric,unit,config,seed,value\n");
    for (uint32_t metric = 0; metric < t->metric_count; metric++) {
        const struct rs_compare_metric *m = &t->metrics[metric];
        for (uint32_t config = 0; config < t->config_count; config++) {
            const int64_t *row = rs_compare_row(t, metric, config);
            const uint8_t *present = rs_compare_row_present(t, metric, config);
            for (uint32_t i = 0; i < t->seed_count; i++) {
                rs_buf_printf(out, "%s,%s,", m->name, m->unit);
                put_csv_field(out, t->config_labels[config]);
                rs_buf_printf(out, ",%llu,", (unsigned long long)t->seeds[i]);
                if (present[i]) {
                    put_exact(out, row[i], m->scale);
                }
                rs_buf_putc(out, '\n');
            }
        }
    }
}

void rs_compare_latency_csv(const struct rs_compare_table *t, struct rs_buf *out)
{
    rs_buf_puts(out, "second");
    for (uint32_t config = 0; config < t->config_count; config++) {
        char header[RS_COMPARE_LABEL_SIZE + 16];
        snprintf(header, sizeof header, "%s p50_ms", t->config_labels[config]);
        rs_buf_putc(out, ',');
        put_csv_field(out, header);
        snprintf(header, sizeof header, "%s p99_ms", t->config_labels[config]);
        rs_buf_putc(out, ',');
        put_csv_field(out, header);
    }
    rs_buf_putc(out, '\n');
    for (uint32_t second = 0; second < t->latency_second_count; second++) {
        rs_buf_u64(out, second);
        for (uint32_t config = 0; config < t->config_count; config++) {
            size_t at = (size_t)second * t->config_count + config;
            const int64_t both[2] = {t->latency_p50_ns[at], t->latency_p99_ns[at]};
            for (int k = 0; k < 2; k++) {
                rs_buf_putc(out, ',');
                if (both[k] >= 0) {
                    put_exact(out, both[k], NS_PER_MS);
                }
            }
        }
        rs_buf_putc(out, '\n');
    }
}

/* A gnuplot data string: double-quoted, without the characters that would end it. */
static void put_data_string(struct rs_buf *out, const char *text)
{
    rs_buf_putc(out, '"');
    for (size_t i = 0; text[i] != '\0'; i++) {
        char c = text[i];
        rs_buf_putc(out, c == '"' || c == '\\' || (unsigned char)c < 0x20 ? '_' : c);
    }
    rs_buf_putc(out, '"');
}

void rs_compare_plot_data(const struct rs_compare_table *t, struct rs_buf *out)
{
    rs_buf_puts(out,
                "# compare-metrics.dat: one block per metric (gnuplot index = metric "
                "order in compare.csv)\n# x label mean ci95_low ci95_high (display "
                "units)\n");
    for (uint32_t metric = 0; metric < t->metric_count; metric++) {
        const struct rs_compare_metric *m = &t->metrics[metric];
        rs_buf_printf(out, "# %s (%s)\n", m->name, m->unit);
        for (uint32_t config = 0; config < t->config_count; config++) {
            struct rs_compare_summary s;
            rs_compare_summarize(rs_compare_row(t, metric, config),
                                 rs_compare_row_present(t, metric, config), t->seed_count, &s);
            rs_buf_printf(out, "%u ", config);
            put_data_string(out, t->config_labels[config]);
            rs_buf_putc(out, ' ');
            put_display(out, s.mean, m, 6, false);
            rs_buf_putc(out, ' ');
            put_display(out, s.mean - s.ci_half, m, 6, false);
            rs_buf_putc(out, ' ');
            put_display(out, s.mean + s.ci_half, m, 6, false);
            rs_buf_putc(out, '\n');
        }
        rs_buf_puts(out, "\n\n");
    }
}

/* A gnuplot single-quoted string: no escapes inside except '' for a quote. */
static void put_quoted(struct rs_buf *out, const char *text)
{
    rs_buf_putc(out, '\'');
    for (size_t i = 0; text[i] != '\0'; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\'') {
            rs_buf_put(out, "''", 2);
        } else {
            rs_buf_putc(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
        }
    }
    rs_buf_putc(out, '\'');
}

/* Okabe-Ito colours, as in plot.c. */
static const char *const config_colours[] = {"0072B2", "E69F00", "009E73", "CC79A7",
                                             "56B4E9", "D55E00", "000000", "999999"};
#define COLOUR_COUNT (sizeof config_colours / sizeof config_colours[0])

static void put_terminal(struct rs_buf *out, bool png, int width, int height, const char *name)
{
    if (png) {
        rs_buf_printf(out,
                      "set terminal pngcairo size %d,%d noenhanced font 'Sans,10' "
                      "background '#ffffff'\nset output '%s.png'\n",
                      width, height, name);
    } else {
        rs_buf_printf(out,
                      "set terminal svg size %d,%d noenhanced font 'Sans,11' "
                      "background '#ffffff'\nset output '%s.svg'\n",
                      width, height, name);
    }
}

static void latency_plot_script(const struct rs_compare_table *t,
                                const char *title,
                                struct rs_buf *out)
{
    rs_buf_puts(out,
                "# Latency over time: per second of completion, p99 (solid) and p50 "
                "(dashed) of ok operations.\nset datafile separator ','\nset title ");
    char text[512];
    snprintf(text, sizeof text, "%s: latency per second, seed %llu (the median seed)",
             title != NULL ? title : "comparison", (unsigned long long)t->latency_seed);
    put_quoted(out, text);
    rs_buf_puts(out,
                "\nset xlabel 'simulated time (s)'\nset ylabel 'latency (ms)'\n"
                "set logscale y 10\nset format y '%g'\nset grid xtics ytics lc rgb "
                "'#dddddd'\nset border 3\nset xtics nomirror\nset ytics nomirror\n"
                "set key below center horizontal\n");
    for (int png = 0; png < 2; png++) {
        put_terminal(out, png != 0, 1200, 500, "compare-latency");
        if (png) {
            rs_buf_puts(out, "replot\n");
            continue;
        }
        rs_buf_puts(out, "plot \\\n");
        for (uint32_t config = 0; config < t->config_count; config++) {
            const char *colour = config_colours[config % COLOUR_COUNT];
            rs_buf_printf(out,
                          "  'compare-latency.csv' skip 1 using ($1+0.5):%u with lines "
                          "linewidth 1.5 linecolor rgb '#%s' title ",
                          3 + 2 * config, colour);
            snprintf(text, sizeof text, "%s p99", t->config_labels[config]);
            put_quoted(out, text);
            rs_buf_printf(out,
                          ", \\\n  'compare-latency.csv' skip 1 using ($1+0.5):%u with "
                          "lines linewidth 1 dashtype 2 linecolor rgb '#%s' title ",
                          2 + 2 * config, colour);
            snprintf(text, sizeof text, "%s p50", t->config_labels[config]);
            put_quoted(out, text);
            rs_buf_puts(out, config + 1 < t->config_count ? ", \\\n" : "\n");
        }
    }
    rs_buf_puts(out,
                "unset logscale y\nunset title\nunset xlabel\nunset ylabel\nunset key\n"
                "set datafile separator whitespace\n");
}

/*
 * A panel's y range holds 0 (bars start there, so their heights compare honestly) and every
 * interval, with a margin; a flat panel gets a unit range instead of gnuplot's warning.
 */
static void put_metric_yrange(const struct rs_compare_table *t, uint32_t metric, struct rs_buf *out)
{
    const struct rs_compare_metric *m = &t->metrics[metric];
    double low = 0.0, high = 0.0;
    for (uint32_t config = 0; config < t->config_count; config++) {
        struct rs_compare_summary s;
        rs_compare_summarize(rs_compare_row(t, metric, config),
                             rs_compare_row_present(t, metric, config), t->seed_count, &s);
        double below = (s.mean - s.ci_half) / (double)m->scale;
        double above = (s.mean + s.ci_half) / (double)m->scale;
        low = below < low ? below : low;
        high = above > high ? above : high;
    }
    double margin = (high - low) * 0.08;
    if (margin <= 0.0) {
        margin = 1.0;
    }
    rs_buf_printf(out, "\nset yrange [%.6g:%.6g]", low < 0.0 ? low - margin : 0.0, high + margin);
}

static void metrics_plot_script(const struct rs_compare_table *t,
                                const char *title,
                                struct rs_buf *out)
{
    uint32_t columns = t->metric_count < 3 ? (t->metric_count ? t->metric_count : 1) : 3;
    uint32_t rows = (t->metric_count + columns - 1) / columns;
    rows = rows ? rows : 1;
    rs_buf_printf(out,
                  "# Per metric: the mean of each configuration with the 95%% CI of that "
                  "mean (paired CIs are in compare.md).\nset style fill solid 0.6 "
                  "border -1\nset boxwidth 0.6\nset xrange [-0.6:%u.4]\n"
                  "set xtics nomirror\nset format y '%%g'\n",
                  t->config_count - 1);
    for (int png = 0; png < 2; png++) {
        put_terminal(out, png != 0, 400 * (int)columns, 300 * (int)rows, "compare-metrics");
        rs_buf_printf(out, "set multiplot layout %u,%u title ", rows, columns);
        put_quoted(out, title != NULL ? title : "comparison");
        rs_buf_putc(out, '\n');
        for (uint32_t metric = 0; metric < t->metric_count; metric++) {
            char text[RS_COMPARE_NAME_SIZE + 32];
            snprintf(text, sizeof text, "%s (%s)", t->metrics[metric].name,
                     t->metrics[metric].unit);
            rs_buf_puts(out, "set title ");
            put_quoted(out, text);
            put_metric_yrange(t, metric, out);
            rs_buf_printf(out,
                          "\nplot 'compare-metrics.dat' index %u using 1:3:xtic(2) with "
                          "boxes linecolor rgb '#%s' notitle, \\\n  '' index %u using "
                          "1:3:4:5 with yerrorbars pointtype 0 linecolor rgb '#000000' "
                          "notitle\n",
                          metric, config_colours[0], metric);
        }
        rs_buf_puts(out, "unset multiplot\n");
    }
    rs_buf_puts(out, "unset output\n");
}

void rs_compare_plot_script(const struct rs_compare_table *t, const char *title, struct rs_buf *out)
{
    COMPARE_ASSERT(t->config_count >= 1);
    rs_buf_puts(out,
                "# compare.gp: written by rheasim compare. Run `gnuplot compare.gp` in the\n"
                "# comparison directory: it reads compare-latency.csv and "
                "compare-metrics.dat\n# and writes compare-latency.svg/.png and "
                "compare-metrics.svg/.png.\n");
    if (t->latency_second_count > 0) {
        latency_plot_script(t, title, out);
    }
    metrics_plot_script(t, title, out);
}

/* ---- files and gnuplot ---- */

static void say(char *message, size_t message_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *message, size_t message_size, const char *fmt, ...)
{
    if (message == NULL || message_size == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, message_size, fmt, ap);
    va_end(ap);
}

/* Returns 0 or an errno value; path gets the file's path either way. */
static int write_file(const char *dir,
                      const char *name,
                      const struct rs_buf *buf,
                      char *path,
                      size_t path_size)
{
    int length = snprintf(path, path_size, "%s/%s", dir, name);
    if (length < 0 || (size_t)length >= path_size) {
        return ENAMETOOLONG;
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return errno;
    }
    size_t written = buf->size > 0 ? fwrite(buf->data, 1, buf->size, f) : 0;
    int err = written == buf->size ? 0 : EIO;
    if (fclose(f) != 0 && err == 0) {
        err = errno;
    }
    return err;
}

static const char *const compare_images[] = {"compare-latency.svg", "compare-latency.png",
                                             "compare-metrics.svg", "compare-metrics.png"};
#define COMPARE_IMAGE_COUNT (sizeof compare_images / sizeof compare_images[0])

static enum rs_compare_plot_status plot(const struct rs_compare_table *t,
                                        const char *dir,
                                        char *message,
                                        size_t message_size)
{
    /* without a latency series the script draws the metrics only */
    size_t first = t->latency_second_count > 0 ? 0 : 2;
    const struct rs_plot_job job = {"compare.gp", "compare.md and the CSVs",
                                    "compare-gnuplot.log", compare_images + first,
                                    COMPARE_IMAGE_COUNT - first};
    switch (rs_plot_run(dir, &job, message, message_size)) {
    case RS_PLOT_OK: return RS_COMPARE_PLOT_OK;
    case RS_PLOT_NO_GNUPLOT: return RS_COMPARE_PLOT_NO_GNUPLOT;
    default: return RS_COMPARE_PLOT_FAILED;
    }
}

enum rs_compare_plot_status rs_compare_write(const struct rs_compare_table *t,
                                             const char *dir,
                                             const char *title,
                                             const char *preamble,
                                             bool plots,
                                             char *message,
                                             size_t message_size)
{
    COMPARE_ASSERT(t != NULL);
    COMPARE_ASSERT(dir != NULL);
    void (*const writers[])(const struct rs_compare_table *, struct rs_buf *) = {
        rs_compare_csv, rs_compare_seeds_csv, rs_compare_latency_csv, rs_compare_plot_data};
    static const char *const names[] = {"compare.csv",         "compare-seeds.csv",
                                        "compare-latency.csv", "compare-metrics.dat",
                                        "compare.md",          "compare.gp"};
    char path[PATH_SIZE];
    struct rs_buf buf;
    rs_buf_init(&buf);
    int err = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && err == 0; i++) {
        rs_buf_reset(&buf);
        if (i < 4) {
            writers[i](t, &buf);
        } else if (i == 4) {
            rs_compare_markdown(t, title, preamble, &buf);
        } else {
            rs_compare_plot_script(t, title, &buf);
        }
        err = write_file(dir, names[i], &buf, path, sizeof path);
    }
    rs_buf_free(&buf);
    if (err != 0) {
        say(message, message_size, "cannot write %s: %s", path, strerror(err));
        return RS_COMPARE_PLOT_IO;
    }
    /* Images from an earlier comparison must never disagree with the tables. */
    for (size_t i = 0; i < COMPARE_IMAGE_COUNT; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, compare_images[i]);
        unlink(path);
    }
    if (!plots) {
        say(message, message_size,
            "wrote compare.md, compare.csv and compare-seeds.csv in %s "
            "(plots not asked for)",
            dir);
        return RS_COMPARE_PLOT_OK;
    }
    return plot(t, dir, message, message_size);
}
