/* Latency records, fault windows, nearest-rank quantiles and the CSV files made from them. */
#include "reports/latency.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * reports/ links nothing of ours, so it cannot use core's RS_ASSERT (whose failure handler
 * lives in sim/); this one is likewise on in every build.
 */
#define LATENCY_ASSERT(cond) ((cond) ? (void)0 : latency_assert_fail(#cond, __LINE__))

#define NS_PER_S  1000000000ull
#define NS_PER_MS 1000000ull
/* Selects every op in the quantile and filter helpers. */
#define ALL_OPS        SIZE_MAX
#define FIRST_CAPACITY 256

static _Noreturn void latency_assert_fail(const char *expr, int line)
{
    fprintf(stderr, "rheasim: assertion failed: %s (%s:%d)\n", expr, __FILE__, line);
    fflush(stderr);
    abort();
}

static const char *const outcome_names[RS_OUTCOME_COUNT] = {"ok", "fail", "info"};

const char *rs_outcome_name(enum rs_outcome outcome)
{
    if ((unsigned)outcome >= RS_OUTCOME_COUNT) {
        return "?";
    }
    return outcome_names[outcome];
}

void rs_latency_init(struct rs_latency_log *log)
{
    memset(log, 0, sizeof *log);
}

void rs_latency_free(struct rs_latency_log *log)
{
    free(log->records);
    free(log->windows);
    free(log->marks);
    rs_latency_init(log);
}

/* Doubles an array's capacity; out of memory in the reporting path aborts, as rs_buf does. */
static void *grow_array(void *array, size_t *capacity, size_t element_size)
{
    size_t next = *capacity ? *capacity * 2 : FIRST_CAPACITY;
    LATENCY_ASSERT(next > *capacity);
    LATENCY_ASSERT(next <= SIZE_MAX / element_size);
    void *grown = realloc(array, next * element_size);
    if (grown == NULL) {
        abort();
    }
    *capacity = next;
    return grown;
}

static bool op_byte_allowed(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ':' || c == '-';
}

/* Op names go into CSV cells and gnuplot strings unquoted, so they keep to a safe alphabet. */
static void sanitize_op(char out[RS_LATENCY_OP_NAME_SIZE], const char *op)
{
    size_t size = 0;
    while (op != NULL && op[size] != '\0' && size < RS_LATENCY_OP_NAME_SIZE - 1) {
        unsigned char c = (unsigned char)op[size];
        out[size] = op_byte_allowed(c) ? (char)c : '_';
        size++;
    }
    out[size] = '\0';
    if (size == 0) {
        snprintf(out, RS_LATENCY_OP_NAME_SIZE, "%s", "unnamed");
    }
}

static size_t find_op(const struct rs_latency_log *log, const char *name)
{
    for (size_t i = 0; i < log->op_count; i++) {
        if (strcmp(log->op_names[i], name) == 0) {
            return i;
        }
    }
    return ALL_OPS;
}

static size_t add_op(struct rs_latency_log *log, const char *name)
{
    LATENCY_ASSERT(log->op_count < RS_LATENCY_OPS_MAX);
    size_t index = log->op_count++;
    snprintf(log->op_names[index], RS_LATENCY_OP_NAME_SIZE, "%s", name);
    return index;
}

static uint16_t intern_op(struct rs_latency_log *log, const char *op)
{
    char name[RS_LATENCY_OP_NAME_SIZE];
    sanitize_op(name, op);
    size_t index = find_op(log, name);
    if (index != ALL_OPS) {
        return (uint16_t)index;
    }
    if (log->op_count < RS_LATENCY_OPS_MAX - 1) {
        return (uint16_t)add_op(log, name);
    }
    /* The table is full: the reserved last slot collects every further name. */
    index = find_op(log, RS_LATENCY_OP_OTHER);
    if (index == ALL_OPS) {
        index = add_op(log, RS_LATENCY_OP_OTHER);
    }
    LATENCY_ASSERT(index < RS_LATENCY_OPS_MAX);
    return (uint16_t)index;
}

void rs_latency_add(struct rs_latency_log *log,
                    uint64_t invoke_ns,
                    uint64_t latency_ns,
                    const char *op,
                    enum rs_outcome outcome)
{
    LATENCY_ASSERT((unsigned)outcome < RS_OUTCOME_COUNT);
    if (log->record_count == log->record_capacity) {
        log->records = grow_array(log->records, &log->record_capacity, sizeof *log->records);
    }
    struct rs_latency_record *record = &log->records[log->record_count++];
    memset(record, 0, sizeof *record);
    record->invoke_ns = invoke_ns;
    record->latency_ns = latency_ns;
    record->op_index = intern_op(log, op);
    record->outcome = (uint8_t)outcome;
}

static void sanitize_label(char out[RS_LATENCY_LABEL_SIZE], const char *label)
{
    size_t size = 0;
    while (label != NULL && label[size] != '\0' && size < RS_LATENCY_LABEL_SIZE - 1) {
        unsigned char c = (unsigned char)label[size];
        out[size] = c >= 0x80 ? '?' : (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
        size++;
    }
    out[size] = '\0';
}

void rs_latency_add_window(struct rs_latency_log *log,
                           uint64_t start_ns,
                           uint64_t end_ns,
                           const char *label)
{
    if (log->window_count == log->window_capacity) {
        log->windows = grow_array(log->windows, &log->window_capacity, sizeof *log->windows);
    }
    struct rs_latency_window *window = &log->windows[log->window_count++];
    memset(window, 0, sizeof *window);
    window->start_ns = start_ns;
    window->end_ns = end_ns < start_ns ? start_ns : end_ns;
    sanitize_label(window->label, label);
    LATENCY_ASSERT(window->end_ns >= window->start_ns);
}

void rs_latency_add_mark(struct rs_latency_log *log, uint64_t time_ns,
                         enum rs_latency_mark_kind kind)
{
    if (log->mark_count == log->mark_capacity) {
        log->marks = grow_array(log->marks, &log->mark_capacity, sizeof *log->marks);
    }
    log->marks[log->mark_count++] = (struct rs_latency_mark){.time_ns = time_ns, .kind = kind};
}

void rs_latency_set_end(struct rs_latency_log *log, uint64_t end_ns)
{
    log->end_ns = end_ns;
}

static uint64_t completion_ns(const struct rs_latency_record *record)
{
    uint64_t done_ns = record->invoke_ns + record->latency_ns;
    return done_ns < record->invoke_ns ? UINT64_MAX : done_ns; /* saturate, never wrap */
}

uint64_t rs_latency_span_ns(const struct rs_latency_log *log)
{
    uint64_t span_ns = log->end_ns;
    for (size_t i = 0; i < log->record_count; i++) {
        uint64_t done_ns = completion_ns(&log->records[i]);
        span_ns = done_ns > span_ns ? done_ns : span_ns;
    }
    for (size_t i = 0; i < log->window_count; i++) {
        uint64_t end_ns = log->windows[i].end_ns;
        span_ns = end_ns > span_ns ? end_ns : span_ns;
    }
    return span_ns;
}

size_t rs_latency_ops_sorted(const struct rs_latency_log *log, size_t order[RS_LATENCY_OPS_MAX])
{
    LATENCY_ASSERT(log->op_count <= RS_LATENCY_OPS_MAX);
    /* Insertion sort: at most RS_LATENCY_OPS_MAX names, and the names are distinct. */
    for (size_t i = 0; i < log->op_count; i++) {
        size_t at = i;
        while (at > 0 && strcmp(log->op_names[order[at - 1]], log->op_names[i]) > 0) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = i;
    }
    return log->op_count;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t left = *(const uint64_t *)a;
    uint64_t right = *(const uint64_t *)b;
    return left < right ? -1 : left > right ? 1 : 0;
}

/* Nearest rank: the smallest value with at least per_mille/1000 of the values at or below it. */
static uint64_t nearest_rank(const uint64_t *sorted, size_t count, uint64_t per_mille)
{
    LATENCY_ASSERT(count > 0);
    LATENCY_ASSERT(per_mille >= 1 && per_mille <= 1000);
    uint64_t rank = ((uint64_t)count * per_mille + 999) / 1000;
    return sorted[rank - 1];
}

/* scratch must hold record_count values; op_index ALL_OPS selects every op. */
static void compute_quantiles(const struct rs_latency_log *log,
                              size_t op_index,
                              uint64_t *scratch,
                              struct rs_quantiles *quantiles)
{
    memset(quantiles, 0, sizeof *quantiles);
    size_t ok_count = 0;
    for (size_t i = 0; i < log->record_count; i++) {
        const struct rs_latency_record *record = &log->records[i];
        if (op_index != ALL_OPS && record->op_index != op_index) {
            continue;
        }
        if (record->outcome == RS_OUTCOME_OK) {
            scratch[ok_count++] = record->latency_ns;
        } else if (record->outcome == RS_OUTCOME_FAIL) {
            quantiles->fail_count++;
        } else {
            quantiles->info_count++;
        }
    }
    quantiles->ok_count = ok_count;
    if (ok_count == 0) {
        return;
    }
    qsort(scratch, ok_count, sizeof *scratch, compare_u64);
    quantiles->latency_ns_p50 = nearest_rank(scratch, ok_count, 500);
    quantiles->latency_ns_p90 = nearest_rank(scratch, ok_count, 900);
    quantiles->latency_ns_p99 = nearest_rank(scratch, ok_count, 990);
    quantiles->latency_ns_p999 = nearest_rank(scratch, ok_count, 999);
    quantiles->latency_ns_max = scratch[ok_count - 1];
}

static uint64_t *alloc_scratch(const struct rs_latency_log *log)
{
    uint64_t *scratch = malloc((log->record_count ? log->record_count : 1) * sizeof *scratch);
    if (scratch == NULL) {
        abort();
    }
    return scratch;
}

void rs_latency_quantiles(const struct rs_latency_log *log,
                          const char *op,
                          struct rs_quantiles *quantiles)
{
    size_t op_index = ALL_OPS;
    if (op != NULL) {
        char name[RS_LATENCY_OP_NAME_SIZE];
        sanitize_op(name, op); /* so that a query matches the name as it was stored */
        op_index = find_op(log, name);
        if (op_index == ALL_OPS) {
            memset(quantiles, 0, sizeof *quantiles);
            return;
        }
    }
    uint64_t *scratch = alloc_scratch(log);
    compute_quantiles(log, op_index, scratch, quantiles);
    free(scratch);
}

static void json_quantiles(struct rs_buf *out, const struct rs_quantiles *q)
{
    const char *keys[] = {"ok_count",       "fail_count",     "info_count",      "latency_ns_p50",
                          "latency_ns_p90", "latency_ns_p99", "latency_ns_p999", "latency_ns_max"};
    const uint64_t values[] = {q->ok_count,        q->fail_count,     q->info_count,
                               q->latency_ns_p50,  q->latency_ns_p90, q->latency_ns_p99,
                               q->latency_ns_p999, q->latency_ns_max};
    _Static_assert(sizeof keys / sizeof keys[0] == sizeof values / sizeof values[0],
                   "one key per value");
    rs_buf_putc(out, '{');
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        if (i > 0) {
            rs_buf_putc(out, ',');
        }
        rs_buf_json_key(out, keys[i]);
        rs_buf_u64(out, values[i]);
    }
    rs_buf_putc(out, '}');
}

void rs_latency_write_json(const struct rs_latency_log *log, struct rs_buf *out)
{
    uint64_t *scratch = alloc_scratch(log);
    struct rs_quantiles quantiles;
    compute_quantiles(log, ALL_OPS, scratch, &quantiles);
    rs_buf_putc(out, '{');
    rs_buf_json_key(out, "all");
    json_quantiles(out, &quantiles);
    rs_buf_putc(out, ',');
    rs_buf_json_key(out, "ops");
    rs_buf_putc(out, '{');
    size_t order[RS_LATENCY_OPS_MAX];
    size_t op_count = rs_latency_ops_sorted(log, order);
    for (size_t i = 0; i < op_count; i++) {
        const char *name = log->op_names[order[i]];
        if (i > 0) {
            rs_buf_putc(out, ',');
        }
        rs_buf_json_str(out, name, strlen(name));
        rs_buf_putc(out, ':');
        compute_quantiles(log, order[i], scratch, &quantiles);
        json_quantiles(out, &quantiles);
    }
    rs_buf_put(out, "}}", 2);
    free(scratch);
}

void rs_latency_put_fixed(struct rs_buf *out, uint64_t value, uint64_t unit, unsigned places)
{
    LATENCY_ASSERT(unit >= 1 && unit <= NS_PER_S);
    LATENCY_ASSERT(places <= 9);
    rs_buf_u64(out, value / unit);
    if (places == 0) {
        return;
    }
    uint64_t scale = 1;
    for (unsigned i = 0; i < places; i++) {
        scale *= 10;
    }
    /* Below 10^9 * 10^9, so no overflow. */
    uint64_t fraction = (value % unit) * scale / unit;
    char digits[10];
    for (unsigned i = places; i > 0; i--) {
        digits[i - 1] = (char)('0' + fraction % 10);
        fraction /= 10;
    }
    rs_buf_putc(out, '.');
    rs_buf_put(out, digits, places);
}

struct order_key {
    uint64_t invoke_ns;
    size_t index;
};

/* Keys are unique (the index breaks ties), so qsort's instability cannot show. */
static int compare_order(const void *a, const void *b)
{
    const struct order_key *left = a;
    const struct order_key *right = b;
    if (left->invoke_ns != right->invoke_ns) {
        return left->invoke_ns < right->invoke_ns ? -1 : 1;
    }
    return left->index < right->index ? -1 : left->index > right->index ? 1 : 0;
}

void rs_latency_csv(const struct rs_latency_log *log, struct rs_buf *out)
{
    rs_buf_puts(out, "time_s,latency_ms,op,outcome\n");
    if (log->record_count == 0) {
        return;
    }
    struct order_key *order = malloc(log->record_count * sizeof *order);
    if (order == NULL) {
        abort();
    }
    for (size_t i = 0; i < log->record_count; i++) {
        order[i].invoke_ns = log->records[i].invoke_ns;
        order[i].index = i;
    }
    qsort(order, log->record_count, sizeof *order, compare_order);
    for (size_t i = 0; i < log->record_count; i++) {
        const struct rs_latency_record *record = &log->records[order[i].index];
        LATENCY_ASSERT(record->op_index < log->op_count);
        rs_latency_put_fixed(out, record->invoke_ns, NS_PER_S, 6);
        rs_buf_putc(out, ',');
        rs_latency_put_fixed(out, record->latency_ns, NS_PER_MS, 6);
        rs_buf_putc(out, ',');
        rs_buf_puts(out, log->op_names[record->op_index]);
        rs_buf_putc(out, ',');
        rs_buf_puts(out, rs_outcome_name((enum rs_outcome)record->outcome));
        rs_buf_putc(out, '\n');
    }
    free(order);
}

static void quantiles_row(struct rs_buf *out, const char *name, const struct rs_quantiles *q)
{
    rs_buf_puts(out, name);
    const uint64_t counts[] = {q->ok_count, q->fail_count, q->info_count};
    for (size_t i = 0; i < 3; i++) {
        rs_buf_putc(out, ',');
        rs_buf_u64(out, counts[i]);
    }
    const uint64_t latencies_ns[] = {q->latency_ns_p50, q->latency_ns_p90, q->latency_ns_p99,
                                     q->latency_ns_p999, q->latency_ns_max};
    for (size_t i = 0; i < 5; i++) {
        rs_buf_putc(out, ',');
        rs_latency_put_fixed(out, latencies_ns[i], NS_PER_MS, 6);
    }
    rs_buf_putc(out, '\n');
}

void rs_latency_quantiles_csv(const struct rs_latency_log *log, struct rs_buf *out)
{
    rs_buf_puts(out, "op,ok_count,fail_count,info_count,p50_ms,p90_ms,p99_ms,p999_ms,max_ms\n");
    uint64_t *scratch = alloc_scratch(log);
    struct rs_quantiles quantiles;
    size_t order[RS_LATENCY_OPS_MAX];
    size_t op_count = rs_latency_ops_sorted(log, order);
    for (size_t i = 0; i < op_count; i++) {
        compute_quantiles(log, order[i], scratch, &quantiles);
        quantiles_row(out, log->op_names[order[i]], &quantiles);
    }
    /* Parentheses cannot occur in an op name, so this row never collides with one. */
    compute_quantiles(log, ALL_OPS, scratch, &quantiles);
    quantiles_row(out, "(all)", &quantiles);
    free(scratch);
}

static uint64_t seconds_up(uint64_t time_ns)
{
    return time_ns / NS_PER_S + (time_ns % NS_PER_S != 0);
}

/* One row per second that anything touches: each completion's second, and up to every end. */
static size_t throughput_seconds(const struct rs_latency_log *log)
{
    uint64_t count = seconds_up(log->end_ns);
    for (size_t i = 0; i < log->record_count; i++) {
        uint64_t second = completion_ns(&log->records[i]) / NS_PER_S;
        count = second + 1 > count ? second + 1 : count;
    }
    for (size_t i = 0; i < log->window_count; i++) {
        uint64_t second = seconds_up(log->windows[i].end_ns);
        count = second > count ? second : count;
    }
    return count > RS_LATENCY_SECONDS_MAX ? RS_LATENCY_SECONDS_MAX : (size_t)count;
}

void rs_latency_throughput_csv(const struct rs_latency_log *log, struct rs_buf *out)
{
    rs_buf_puts(out, "second,ok_count,fail_count,info_count\n");
    size_t second_count = throughput_seconds(log);
    if (second_count == 0) {
        return;
    }
    uint64_t(*counts)[RS_OUTCOME_COUNT] = calloc(second_count, sizeof *counts);
    if (counts == NULL) {
        abort();
    }
    for (size_t i = 0; i < log->record_count; i++) {
        const struct rs_latency_record *record = &log->records[i];
        uint64_t second = completion_ns(record) / NS_PER_S;
        if (second < second_count) {
            LATENCY_ASSERT(record->outcome < RS_OUTCOME_COUNT);
            counts[second][record->outcome]++;
        }
    }
    for (size_t second = 0; second < second_count; second++) {
        rs_buf_u64(out, second);
        for (size_t outcome = 0; outcome < RS_OUTCOME_COUNT; outcome++) {
            rs_buf_putc(out, ',');
            rs_buf_u64(out, counts[second][outcome]);
        }
        rs_buf_putc(out, '\n');
    }
    free(counts);
}

int rs_latency_write_file(const char *dir,
                          const char *name,
                          const struct rs_buf *buf,
                          char *path_out,
                          size_t path_size)
{
    char path[4096];
    int length = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (path_out != NULL && path_size > 0) {
        snprintf(path_out, path_size, "%s", path);
    }
    if (length < 0 || (size_t)length >= sizeof path) {
        return ENAMETOOLONG;
    }
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        return errno ? errno : EIO;
    }
    int err = 0;
    if (buf->size > 0 && fwrite(buf->data, 1, buf->size, file) != buf->size) {
        err = errno ? errno : EIO;
    }
    if (fclose(file) != 0 && err == 0) {
        err = errno ? errno : EIO;
    }
    return err;
}

int rs_latency_write_csv(const struct rs_latency_log *log,
                         const char *dir,
                         char *path_out,
                         size_t path_size)
{
    static const char *const names[] = {"latency.csv", "latency-quantiles.csv", "throughput.csv"};
    void (*const writers[])(const struct rs_latency_log *, struct rs_buf *) = {
        rs_latency_csv, rs_latency_quantiles_csv, rs_latency_throughput_csv};
    struct rs_buf buf;
    rs_buf_init(&buf);
    int err = 0;
    for (size_t i = 0; i < 3 && err == 0; i++) {
        rs_buf_reset(&buf);
        writers[i](log, &buf);
        err = rs_latency_write_file(dir, names[i], &buf, path_out, path_size);
    }
    rs_buf_free(&buf);
    return err;
}
