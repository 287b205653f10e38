/* Latency records of client operations and fault windows, with their quantiles and CSV files. */
#ifndef RS_REPORTS_LATENCY_H
#define RS_REPORTS_LATENCY_H

#include <stddef.h>
#include <stdint.h>

#include "reports/json.h"

/*
 * How an operation ended, in the history checker's terms: ok, failed for certain, or info
 * (indeterminate: it timed out or its reply was lost, so it may or may not have taken effect).
 * reports/ keeps its own enum so that it depends on nothing else of ours; the sim maps to it.
 */
enum rs_outcome { RS_OUTCOME_OK, RS_OUTCOME_FAIL, RS_OUTCOME_INFO, RS_OUTCOME_COUNT };

/* "ok", "fail" or "info" (the words used in the CSV files); "?" for a value out of range. */
const char *rs_outcome_name(enum rs_outcome outcome);

/*
 * Distinct op names a log keeps. The last slot is reserved: once the table holds
 * RS_LATENCY_OPS_MAX - 1 names, every further new name is recorded as RS_LATENCY_OP_OTHER.
 */
#define RS_LATENCY_OPS_MAX  64
#define RS_LATENCY_OP_OTHER "other"
/* Op names and window labels are truncated to fit (size includes the terminating NUL). */
#define RS_LATENCY_OP_NAME_SIZE 32
#define RS_LATENCY_LABEL_SIZE   64
/* throughput.csv has at most this many one-second rows; later completions are left out. */
#define RS_LATENCY_SECONDS_MAX (1u << 20)

struct rs_latency_record {
    uint64_t invoke_ns;
    uint64_t latency_ns;
    uint16_t op_index; /* into rs_latency_log.op_names */
    uint8_t outcome;   /* enum rs_outcome */
};

/* A fault window [start_ns, end_ns) in simulated time, shaded on the plots. */
struct rs_latency_window {
    uint64_t start_ns;
    uint64_t end_ns;
    char label[RS_LATENCY_LABEL_SIZE];
};

/* A moment marked on the latency plot with a vertical line. */
enum rs_latency_mark_kind { RS_LATENCY_MARK_TRANSFER = 0, RS_LATENCY_MARK_SPLIT = 1 };
struct rs_latency_mark {
    uint64_t time_ns;
    enum rs_latency_mark_kind kind;
};

/* Everything here is owned by the log; the arrays grow by doubling, never per record. */
struct rs_latency_log {
    struct rs_latency_record *records; /* in the order they were added */
    size_t record_count;
    size_t record_capacity;
    struct rs_latency_window *windows;
    size_t window_count;
    size_t window_capacity;
    struct rs_latency_mark *marks; /* leadership transfers and splits, in time order */
    size_t mark_count;
    size_t mark_capacity;
    char op_names[RS_LATENCY_OPS_MAX][RS_LATENCY_OP_NAME_SIZE]; /* in first-seen order */
    size_t op_count;
    uint64_t end_ns; /* simulated end of the run, 0 when not told */
};

/* Quantiles by nearest rank over ok operations (all zero when there are none). */
struct rs_quantiles {
    uint64_t ok_count;
    uint64_t fail_count;
    uint64_t info_count;
    uint64_t latency_ns_p50;
    uint64_t latency_ns_p90;
    uint64_t latency_ns_p99;
    uint64_t latency_ns_p999;
    uint64_t latency_ns_max;
};

void rs_latency_init(struct rs_latency_log *log);
void rs_latency_free(struct rs_latency_log *log);

/*
 * Records one finished operation. invoke_ns is when it was invoked, latency_ns how long until
 * its outcome was known (for info operations: until the client gave up, its timeout).
 * Op names are short identifiers: bytes other than [A-Za-z0-9_.:-] become '_', an empty or
 * NULL name becomes "unnamed". Records may be added in any order of invoke time.
 */
void rs_latency_add(struct rs_latency_log *log,
                    uint64_t invoke_ns,
                    uint64_t latency_ns,
                    const char *op,
                    enum rs_outcome outcome);

/*
 * Records a fault window. A window still open at the end of the run should be closed by the
 * caller at the run's end time. end_ns < start_ns is taken as an empty window at start_ns.
 * Control bytes and non-ASCII bytes in the label become spaces and '?'.
 */
void rs_latency_add_window(struct rs_latency_log *log,
                           uint64_t start_ns,
                           uint64_t end_ns,
                           const char *label);

/* Tells the log when the run ended, so that plots and throughput.csv cover the whole run. */
/* Marks a leadership transfer or a split at time_ns (drawn as a vertical line). */
void rs_latency_add_mark(struct rs_latency_log *log, uint64_t time_ns,
                         enum rs_latency_mark_kind kind);
void rs_latency_set_end(struct rs_latency_log *log, uint64_t end_ns);

/* The time the reports cover: the latest of end_ns, any completion and any window end. */
uint64_t rs_latency_span_ns(const struct rs_latency_log *log);

/*
 * Fills order[] with op indices (into op_names) by name in byte order, which is stable across
 * runs and seeds unlike first-seen order, and returns how many ops there are.
 */
size_t rs_latency_ops_sorted(const struct rs_latency_log *log, size_t order[RS_LATENCY_OPS_MAX]);

/* Quantiles of one op, or of all ops when op is NULL. An unknown op gives all zeros. */
void rs_latency_quantiles(const struct rs_latency_log *log,
                          const char *op,
                          struct rs_quantiles *quantiles);

/*
 * The quantiles as a JSON object for summary.json:
 * {"all":{"ok_count":..,"fail_count":..,"info_count":..,"latency_ns_p50":..,..},
 *  "ops":{"get":{..},"put":{..}}} with ops in byte order and integer nanoseconds.
 */
void rs_latency_write_json(const struct rs_latency_log *log, struct rs_buf *out);

/*
 * The CSV texts. Times are decimal with six places, cut (not rounded) from integer
 * nanoseconds, so that the files are byte-identical for the same records.
 * latency.csv:            time_s,latency_ms,op,outcome  (time_s is the invoke time; rows by
 *                         invoke time, equal times in the order they were added)
 * latency-quantiles.csv:  op,ok_count,fail_count,info_count,p50_ms,p90_ms,p99_ms,p999_ms,max_ms
 *                         (ops in byte order, then the row "(all)")
 * throughput.csv:         second,ok_count,fail_count,info_count  (operations by the second
 *                         in which they completed, every second from 0 to the end of the span)
 */
void rs_latency_csv(const struct rs_latency_log *log, struct rs_buf *out);
void rs_latency_quantiles_csv(const struct rs_latency_log *log, struct rs_buf *out);
void rs_latency_throughput_csv(const struct rs_latency_log *log, struct rs_buf *out);

/*
 * Writes latency.csv, latency-quantiles.csv and throughput.csv into dir (which must exist).
 * Returns 0, or the errno of the first failure; path_out (may be NULL) then names the file.
 */
int rs_latency_write_csv(const struct rs_latency_log *log,
                         const char *dir,
                         char *path_out,
                         size_t path_size);

/*
 * Writes value / unit as a decimal with `places` digits after the point, cut towards zero,
 * using integers only (e.g. value 12345678901, unit 1000000000, places 6 gives 12.345678).
 * unit must be at most 10^9 and places at most 9.
 */
void rs_latency_put_fixed(struct rs_buf *out, uint64_t value, uint64_t unit, unsigned places);

/* Writes buf to dir/name. Returns 0 or an errno value; path_out (may be NULL) gets the path. */
int rs_latency_write_file(const char *dir,
                          const char *name,
                          const struct rs_buf *buf,
                          char *path_out,
                          size_t path_size);

#endif
