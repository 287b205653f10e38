/* Reads, checks and writes scenario files: the language and its limits are in scenario.h. */
#include "sim/scenario.h"

#include "core/pd/policy.h"

#include "core/wire/frame.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(RS_SCN_TIME_MAX_NS < UINT64_MAX / 4, "times may be added without overflow");
_Static_assert(RS_SCN_TIME_MAX_NS < (uint64_t)INT64_MAX, "times fit setting values");
_Static_assert(RS_SCN_DESCRIBE_SIZE_MAX + 16 < RS_SCN_LINE_SIZE_MAX, "describe is writable");
_Static_assert(RS_SCN_NAME_SIZE_MAX + 16 < RS_SCN_LINE_SIZE_MAX, "name is writable");
_Static_assert(RS_SCN_NODE_COUNT_MAX <= 9, "node(N) takes one digit");
_Static_assert(RS_SCN_COMMAND_COUNT_MAX <= RS_SCN_LINE_COUNT_MAX, "commands are lines");

/* ------------------------------------------------------------------------------------------ */
/* The schema and the names of things                                                         */

const struct rs_scn_setting rs_scn_schema[RS_SCN_SETTING_COUNT] = {
#define RS_SCN_SETTING_ROW(id, section, key, type, def, min, max, flags, choices, help) \
    {section, key, section "." key, type, def, min, max, flags, choices, help},
    RS_SCN_SETTINGS(RS_SCN_SETTING_ROW)
#undef RS_SCN_SETTING_ROW
};

/* Rules between two settings, checked after the file and again after overrides. */
enum rule_kind { RULE_AT_MOST, RULE_LESS };
struct rule {
    enum rs_scn_setting_id left;
    enum rule_kind kind;
    enum rs_scn_setting_id right;
};
static const struct rule rules[] = {
    {RS_SCN_CLUSTER_REPLICAS, RULE_AT_MOST, RS_SCN_CLUSTER_NODES},
    {RS_SCN_RAFT_HEARTBEAT, RULE_LESS, RS_SCN_RAFT_ELECTION_TIMEOUT},
    {RS_SCN_WORKLOAD_READERS, RULE_AT_MOST, RS_SCN_WORKLOAD_CLIENTS},
    {RS_SCN_CLUSTER_LEARNERS, RULE_AT_MOST, RS_SCN_CLUSTER_NODES},
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *const section_names[] = {"cluster",  "raft",     "net",   "disk",   "clock",
                                            "workload", "check",    "nemesis", "pd"};
static const char *const line_words[] = {"name",   "describe", "at",   "every", "run",
                                         "expect", "cluster",  "raft", "net",   "disk",
                                         "clock",  "workload", "check", "nemesis", "pd"};
/* The first six have their own readers; the rest are in fault_verbs, read_filter or
 * read_change_peers. */
static const char *const verb_words[] = {
    "partition",    "heal",      "crash",       "restart",    "crash-restart", "set",
    "clog",         "unclog",    "swizzle-clog", "filter",    "bandwidth",     "pause",
    "resume",       "disk-fail", "disk-full",   "disk-slow",  "disk-corrupt",  "disk-heal",
    "clock-drift",  "clock-jump", "wipe",      "snapshot",   "add-peer",      "remove-peer",
    "add-learner", "remove-learner", "promote", "transfer-leader", "change-peers", "split",
    "pd-crash", "pd-isolate", "rebalance"};
#define COMMAND_LIST                                                                           \
    "partition, heal, crash, restart, crash-restart, set, clog, unclog, swizzle-clog, filter, " \
    "bandwidth, pause, resume, disk-fail|full|slow|corrupt|heal, clock-drift|jump, wipe, "     \
    "snapshot, add-peer, remove-peer, add-learner, remove-learner, promote, transfer-leader, " \
    "change-peers, split, pd-crash, pd-isolate or rebalance"
static const char *const partition_words[] = {"isolate", "minority", "majority-minority",
                                              "one-way", "bridge",   "ring"};
static const char *const target_words[] = {"leader", "follower", "random", "node(N)"};
static const char *const expect_words[] = {"linearizable", "leader", "converged", "ops_ok",
                                           "availability", "balanced"};
static const char *const dist_words[] = {"uniform", "zipf", "hot", "sequential"};
static const char *const bool_words[] = {"off", "on", "false", "true"};

static const char *const type_names[RS_SCN_TYPE_COUNT] = {
    "int", "bool", "duration", "percent", "size", "enum", "range", "mix", "distribution", "rate",
    "path",
};
static const char *const op_names[RS_SCN_OP_COUNT] = {
#define RS_SCN_OP_NAME(id, name) name,
    RS_SCN_OPS(RS_SCN_OP_NAME)
#undef RS_SCN_OP_NAME
};
static const char *const verb_names[RS_SCN_VERB_COUNT] = {
    "partition isolate",
    "partition minority",
    "partition majority-minority",
    "partition one-way",
    "heal",
    "crash",
    "restart",
    "crash-restart",
    "set",
    "partition bridge",
    "partition ring",
    "partition groups",
    "clog",
    "unclog",
    "swizzle-clog",
    "filter drop",
    "bandwidth",
    "pause",
    "resume",
    "disk-fail",
    "disk-full",
    "disk-slow",
    "disk-corrupt",
    "disk-heal",
    "clock-drift",
    "clock-jump",
    "wipe",
    "snapshot",
    "add-peer",
    "remove-peer",
    "add-learner",
    "remove-learner",
    "promote",
    "transfer-leader",
    "change-peers",
    "split",
    "pd-crash",
    "pd-isolate",
    "rebalance",
};

const char *rs_scn_type_name(enum rs_scn_type type)
{
    return (unsigned)type < RS_SCN_TYPE_COUNT ? type_names[type] : "?";
}

const char *rs_scn_op_name(enum rs_scn_op op)
{
    return (unsigned)op < RS_SCN_OP_COUNT ? op_names[op] : "?";
}

const char *rs_scn_verb_name(enum rs_scn_verb verb)
{
    return (unsigned)verb < RS_SCN_VERB_COUNT ? verb_names[verb] : "?";
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool bytes_are(const char *p, size_t n, const char *word)
{
    size_t size = strlen(word);
    return n == size && memcmp(p, word, n) == 0;
}

/* Index of the word among names, or -1. */
static int lookup(const char *const *names, size_t count, const char *p, size_t n)
{
    for (size_t i = 0; i < count; i++) {
        if (bytes_are(p, n, names[i])) {
            return (int)i;
        }
    }
    return -1;
}

static const char *find_dots(const char *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (p[i] == '.' && p[i + 1] == '.') {
            return p + i;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Building messages                                                                          */

/* A bounded string builder with snprintf's return convention. */
struct out {
    char *buf;
    size_t size;
    size_t len;
};

__attribute__((format(printf, 2, 3))) static void out_printf(struct out *o, const char *fmt, ...)
{
    size_t room = o->len < o->size ? o->size - o->len : 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(room > 0 ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0) {
        o->len += (size_t)n;
    }
}

#define QUOTE_SIZE 64u

/* A word as it may appear in a message: printable, escaped, cut short when long. */
static const char *quote_into(char *buf, const char *p, size_t n, bool quotes)
{
    size_t o = 0;
    if (quotes) {
        buf[o++] = '\'';
    }
    for (size_t i = 0; i < n; i++) {
        if (o + 10 > QUOTE_SIZE) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
            buf[o++] = (char)c;
        } else {
            static const char hex[] = "0123456789abcdef";
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 15];
        }
    }
    if (quotes) {
        buf[o++] = '\'';
    }
    RS_ASSERT(o < QUOTE_SIZE);
    buf[o] = '\0';
    return buf;
}

static const char *quote(char *buf, const char *p, size_t n)
{
    return quote_into(buf, p, n, true);
}

#define GUESS_WORD_MAX 48u

/* Edit distance where swapping two neighbouring bytes counts as one edit ("gte" -> "get"):
 * the optimal string alignment variant of Damerau-Levenshtein, three rows on the stack. */
static uint32_t edit_distance(const char *a, size_t a_size, const char *b, size_t b_size)
{
    RS_ASSERT(a_size <= GUESS_WORD_MAX);
    RS_ASSERT(b_size <= GUESS_WORD_MAX);
    uint32_t rows[3][GUESS_WORD_MAX + 1];
    for (size_t j = 0; j <= b_size; j++) {
        rows[0][j] = (uint32_t)j;
    }
    for (size_t i = 1; i <= a_size; i++) {
        uint32_t *row = rows[i % 3];
        const uint32_t *above = rows[(i + 2) % 3];
        const uint32_t *above2 = rows[(i + 1) % 3];
        row[0] = (uint32_t)i;
        for (size_t j = 1; j <= b_size; j++) {
            uint32_t best = above[j - 1] + (a[i - 1] != b[j - 1]);
            best = above[j] + 1 < best ? above[j] + 1 : best;
            best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                above2[j - 2] + 1 < best) {
                best = above2[j - 2] + 1;
            }
            row[j] = best;
        }
    }
    return rows[a_size % 3][b_size];
}

/* The closest candidate to a misspelt word; ties go to the first (table order). */
struct guess {
    const char *best;
    uint32_t distance;
};

static bool guess_try(struct guess *g,
                      const char *p,
                      size_t n,
                      const char *candidate,
                      size_t candidate_size)
{
    if (n > GUESS_WORD_MAX || candidate_size > GUESS_WORD_MAX) {
        return false;
    }
    uint32_t distance = edit_distance(p, n, candidate, candidate_size);
    if (g->best != NULL && distance >= g->distance) {
        return false;
    }
    g->best = candidate;
    g->distance = distance;
    return true;
}

/* " (did you mean 'x'?)" when the guess is close enough to be useful, else "". */
static const char *guess_hint(const struct guess *g,
                              size_t n,
                              size_t best_size,
                              char *buf,
                              size_t size)
{
    uint32_t limit = n <= 3 ? 1 : (n <= 6 ? 2 : 3);
    buf[0] = '\0';
    if (g->best != NULL && g->distance > 0 && g->distance <= limit) {
        snprintf(buf, size, " (did you mean '%.*s'?)", (int)best_size, g->best);
    }
    return buf;
}

static const char *hint_among(const char *const *names,
                              size_t count,
                              const char *p,
                              size_t n,
                              char *buf,
                              size_t size)
{
    struct guess g = {NULL, 0};
    for (size_t i = 0; i < count; i++) {
        guess_try(&g, p, n, names[i], strlen(names[i]));
    }
    return guess_hint(&g, n, g.best != NULL ? strlen(g.best) : 0, buf, size);
}

/* Where errors go: a line of a file, or a --set flag. */
struct sink {
    struct rs_scn_error *err;
    const char *file; /* file errors: the label */
    const char *flag; /* flag errors: the assignment */
    uint32_t line;
    int exit_code; /* for file errors: 65, or 64 when a flag made the file wrong */
};

static size_t append(char *dst, size_t size, size_t len, const char *src)
{
    size_t n = strlen(src);
    if (len + 1 >= size) {
        return len;
    }
    if (n > size - 1 - len) {
        n = size - 1 - len;
    }
    memcpy(dst + len, src, n);
    dst[len + n] = '\0';
    return len + n;
}

__attribute__((format(printf, 3, 4))) static enum rs_err fail(const struct sink *k,
                                                              uint32_t column,
                                                              const char *fmt,
                                                              ...)
{
    struct rs_scn_error *err = k->err;
    char text[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    memset(err, 0, sizeof *err);
    err->column = column;
    if (k->flag != NULL) {
        char flag[QUOTE_SIZE];
        size_t len = append(err->message, sizeof err->message, 0, "--set ");
        len = append(err->message, sizeof err->message, len,
                     quote_into(flag, k->flag, strlen(k->flag), false));
        len = append(err->message, sizeof err->message, len, ": ");
        append(err->message, sizeof err->message, len, text);
        err->exit_code = RS_SCN_EXIT_USAGE;
    } else {
        append(err->file, sizeof err->file, 0, k->file != NULL ? k->file : "");
        append(err->message, sizeof err->message, 0, text);
        err->line = k->line;
        err->exit_code = k->exit_code != 0 ? k->exit_code : RS_SCN_EXIT_DATAERR;
    }
    return RS_EINVAL;
}

size_t rs_scn_error_format(const struct rs_scn_error *err, char *buf, size_t size)
{
    struct out o = {buf, size, 0};
    if (err->file[0] != '\0' && err->line > 0) {
        out_printf(&o, "%s:%" PRIu32 ":%" PRIu32 ": %s", err->file, err->line, err->column,
                   err->message);
    } else if (err->file[0] != '\0') {
        out_printf(&o, "%s: %s", err->file, err->message);
    } else {
        out_printf(&o, "%s", err->message);
    }
    return o.len;
}

/* ------------------------------------------------------------------------------------------ */
/* Numbers: exact decimal arithmetic in integers                                              */

enum num { NUM_OK, NUM_SYNTAX, NUM_OVERFLOW, NUM_PRECISION };

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b != 0) { /* Euclid: O(log) rounds */
        uint64_t rest = a % b;
        a = b;
        b = rest;
    }
    return a;
}

/* Fraction digits that are read: more would not fit the 64-bit numerator. */
#define FRACTION_DIGITS_MAX 18u

/*
 * "D+" or "D+.D+" times scale, exactly: the fraction F / 10^k times scale must be a whole
 * number, which holds when 10^k / gcd(scale, 10^k) divides F. This works for any scale
 * (1024 for KiB as well as 1000 for us); trailing zeros of the fraction are ignored.
 */
static enum num parse_decimal(const char *p, size_t n, uint64_t scale, uint64_t *out)
{
    RS_ASSERT(scale > 0);
    size_t i = 0;
    uint64_t whole = 0;
    for (; i < n && is_digit(p[i]); i++) {
        uint64_t digit = (uint64_t)(p[i] - '0');
        if (whole > (UINT64_MAX - digit) / 10) {
            return NUM_OVERFLOW;
        }
        whole = whole * 10 + digit;
    }
    if (i == 0 || (i < n && (p[i] != '.' || i + 1 == n))) {
        return NUM_SYNTAX;
    }
    for (size_t j = i + 1; j < n; j++) {
        if (!is_digit(p[j])) {
            return NUM_SYNTAX;
        }
    }
    if (whole > UINT64_MAX / scale) {
        return NUM_OVERFLOW;
    }
    uint64_t value = whole * scale;
    size_t end = n;
    while (end > i + 1 && p[end - 1] == '0') {
        end--;
    }
    size_t digits = i < n ? end - (i + 1) : 0;
    if (digits > FRACTION_DIGITS_MAX) {
        return NUM_PRECISION;
    }
    uint64_t numerator = 0;
    uint64_t denominator = 1;
    for (size_t j = i + 1; j < i + 1 + digits; j++) {
        numerator = numerator * 10 + (uint64_t)(p[j] - '0');
        denominator *= 10;
    }
    uint64_t common = gcd(scale, denominator);
    uint64_t part = denominator / common;
    if (numerator % part != 0) {
        return NUM_PRECISION;
    }
    uint64_t units = numerator / part;
    uint64_t step = scale / common;
    if (units > UINT64_MAX / step || value > UINT64_MAX - units * step) {
        return NUM_OVERFLOW;
    }
    *out = value + units * step;
    return NUM_OK;
}

/* Length of the leading run of digits and dots: the number in "1.5ms". */
static size_t number_size(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && (is_digit(p[i]) || p[i] == '.')) {
        i++;
    }
    return i;
}

struct unit {
    const char *name;
    uint64_t scale;
};

static const struct unit duration_units[] = {
    {"ns", 1},          {"us", RS_NS_PER_US},    {"ms", RS_NS_PER_MS},
    {"s", RS_NS_PER_S}, {"m", 60 * RS_NS_PER_S},
};
static const struct unit size_units[] = {
    {"", 1}, {"B", 1}, {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30},
};

static enum rs_err number_fail(const struct sink *k,
                               uint32_t column,
                               enum num status,
                               const char *p,
                               size_t n,
                               const char *what,
                               const char *finest)
{
    char q[QUOTE_SIZE];
    quote(q, p, n);
    switch (status) {
        case NUM_OVERFLOW:
            return fail(k, column, "%s %s is too large", what, q);
        case NUM_PRECISION:
            return fail(k, column, "%s %s is finer than %s", what, q, finest);
        default:
            return fail(k, column, "expected a %s, got %s", what, q);
    }
}

static enum rs_err parse_duration(const struct sink *k,
                                  const char *p,
                                  size_t n,
                                  uint32_t column,
                                  uint64_t *out)
{
    size_t digits = number_size(p, n);
    const char *unit = p + digits;
    size_t unit_size = n - digits;
    char q[QUOTE_SIZE];
    char q_unit[QUOTE_SIZE];
    if (digits == 0) {
        return fail(k, column, "expected a duration such as 1.5s or 200us, got %s", quote(q, p, n));
    }
    if (unit_size == 0) {
        if (bytes_are(p, n, "0")) {
            *out = 0;
            return RS_OK;
        }
        return fail(k, column + (uint32_t)digits, "missing unit in %s (ns, us, ms, s or m)",
                    quote(q, p, n));
    }
    for (size_t i = 0; i < COUNT_OF(duration_units); i++) {
        if (bytes_are(unit, unit_size, duration_units[i].name)) {
            enum num status = parse_decimal(p, digits, duration_units[i].scale, out);
            return status == NUM_OK ? RS_OK
                                    : number_fail(k, column, status, p, n, "duration", "1ns");
        }
    }
    return fail(k, column + (uint32_t)digits, "unknown unit %s in %s (ns, us, ms, s or m)",
                quote(q_unit, unit, unit_size), quote(q, p, n));
}

static enum rs_err parse_percent(const struct sink *k,
                                 const char *p,
                                 size_t n,
                                 uint32_t column,
                                 uint64_t *ppm)
{
    char q[QUOTE_SIZE];
    if (n < 2 || p[n - 1] != '%' || number_size(p, n - 1) != n - 1) {
        return fail(k, column, "expected a percentage such as 0.1%%, got %s", quote(q, p, n));
    }
    enum num status = parse_decimal(p, n - 1, RS_SCN_PPM_MAX / 100, ppm);
    return status == NUM_OK ? RS_OK
                            : number_fail(k, column, status, p, n, "percentage", "1 ppm (0.0001%)");
}

static enum rs_err parse_size(const struct sink *k,
                              const char *p,
                              size_t n,
                              uint32_t column,
                              uint64_t *bytes)
{
    size_t digits = number_size(p, n);
    char q[QUOTE_SIZE];
    char q_unit[QUOTE_SIZE];
    if (digits == 0) {
        return fail(k, column, "expected a size such as 4096 or 64KiB, got %s", quote(q, p, n));
    }
    for (size_t i = 0; i < COUNT_OF(size_units); i++) {
        if (bytes_are(p + digits, n - digits, size_units[i].name)) {
            enum num status = parse_decimal(p, digits, size_units[i].scale, bytes);
            return status == NUM_OK ? RS_OK
                                    : number_fail(k, column, status, p, n, "size", "1 byte");
        }
    }
    return fail(k, column + (uint32_t)digits, "unknown size unit %s in %s (B, KiB, MiB or GiB)",
                quote(q_unit, p + digits, n - digits), quote(q, p, n));
}

/* A plain integer with an optional minus sign. */
static enum rs_err parse_int(const struct sink *k,
                             const char *p,
                             size_t n,
                             uint32_t column,
                             int64_t *out)
{
    bool negative = n > 0 && p[0] == '-';
    size_t start = negative ? 1 : 0;
    uint64_t magnitude = 0;
    char q[QUOTE_SIZE];
    bool digits_only = n > start;
    for (size_t i = start; i < n; i++) {
        digits_only = digits_only && is_digit(p[i]);
    }
    if (!digits_only) {
        return fail(k, column, "expected an integer, got %s", quote(q, p, n));
    }
    enum num status = parse_decimal(p + start, n - start, 1, &magnitude);
    if (status != NUM_OK || magnitude > (uint64_t)INT64_MAX) {
        return fail(k, column, "integer %s is too large", quote(q, p, n));
    }
    *out = negative ? -(int64_t)magnitude : (int64_t)magnitude;
    return RS_OK;
}

/* "N/s" open loop, or "closed" (stored as 0). */
static enum rs_err parse_rate(const struct sink *k,
                              const char *p,
                              size_t n,
                              uint32_t column,
                              uint64_t *per_s)
{
    char q[QUOTE_SIZE];
    if (bytes_are(p, n, "closed")) {
        *per_s = 0;
        return RS_OK;
    }
    if (n < 3 || p[n - 2] != '/' || p[n - 1] != 's' || number_size(p, n - 2) != n - 2) {
        return fail(k, column, "expected a rate such as 2000/s, or closed, got %s", quote(q, p, n));
    }
    enum num status = parse_decimal(p, n - 2, 1, per_s);
    if (status == NUM_OK && *per_s == 0) {
        return fail(k, column, "rate %s is zero; write closed for a closed loop", quote(q, p, n));
    }
    return status == NUM_OK
               ? RS_OK
               : number_fail(k, column, status, p, n, "rate", "1 operation per second");
}

/* ------------------------------------------------------------------------------------------ */
/* Formatting values                                                                          */

size_t rs_scn_duration_format(uint64_t ns, char *buf, size_t size)
{
    struct out o = {buf, size, 0};
    if (ns == 0) {
        out_printf(&o, "0");
        return o.len;
    }
    for (size_t i = COUNT_OF(duration_units); i-- > 0;) {
        if (ns % duration_units[i].scale == 0) {
            out_printf(&o, "%" PRIu64 "%s", ns / duration_units[i].scale, duration_units[i].name);
            break;
        }
    }
    return o.len;
}

/* "W" or "W.F" for value / divisor, without trailing zeros (divisor a power of ten). */
static void out_decimal(struct out *o, uint64_t value, uint64_t divisor)
{
    out_printf(o, "%" PRIu64, value / divisor);
    uint64_t fraction = value % divisor;
    if (fraction == 0) {
        return;
    }
    char digits[24];
    size_t count = 0;
    for (uint64_t d = divisor / 10; d > 0 && count < sizeof digits - 1; d /= 10) {
        digits[count++] = (char)('0' + (fraction / d) % 10);
    }
    while (count > 0 && digits[count - 1] == '0') {
        count--;
    }
    digits[count] = '\0';
    out_printf(o, ".%s", digits);
}

static void out_scalar(struct out *o, enum rs_scn_type type, int64_t v)
{
    uint64_t u = (uint64_t)v;
    if (v < 0 || type == RS_SCN_INT || type == RS_SCN_ENUM) {
        out_printf(o, "%" PRId64, v);
    } else if (type == RS_SCN_BOOL) {
        out_printf(o, "%s", v != 0 ? "on" : "off");
    } else if (type == RS_SCN_DURATION || type == RS_SCN_RANGE) {
        char text[32];
        rs_scn_duration_format(u, text, sizeof text);
        out_printf(o, "%s", text);
    } else if (type == RS_SCN_PERCENT) {
        out_decimal(o, u, RS_SCN_PPM_MAX / 100);
        out_printf(o, "%%");
    } else if (type == RS_SCN_SIZE) {
        size_t i = COUNT_OF(size_units) - 1;
        while (i > 1 && (u == 0 || u % size_units[i].scale != 0)) {
            i--;
        }
        out_printf(o, "%" PRIu64 "%s", u / size_units[i].scale, i > 1 ? size_units[i].name : "");
    } else if (type == RS_SCN_RATE) {
        if (v == 0) {
            out_printf(o, "closed");
        } else {
            out_printf(o, "%" PRId64 "/s", v);
        }
    } else {
        out_printf(o, "%" PRId64, v);
    }
}

size_t rs_scn_scalar_format(enum rs_scn_type type, int64_t scalar, char *buf, size_t size)
{
    struct out o = {buf, size, 0};
    out_scalar(&o, type, scalar);
    return o.len;
}

/* The n-th choice of "a|b|c", or NULL. */
static const char *choice_at(const char *choices, int64_t index, size_t *size)
{
    const char *p = choices;
    for (int64_t i = 0; p != NULL; i++) {
        const char *bar = strchr(p, '|');
        size_t n = bar != NULL ? (size_t)(bar - p) : strlen(p);
        if (i == index) {
            *size = n;
            return p;
        }
        p = bar != NULL ? bar + 1 : NULL;
    }
    return NULL;
}

static void out_value(struct out *o, enum rs_scn_setting_id id, const struct rs_scn_value *v)
{
    const struct rs_scn_setting *row = &rs_scn_schema[id];
    size_t n = 0;
    const char *choice = NULL;
    const char *separator = "";
    switch (row->type) {
        case RS_SCN_ENUM:
            choice = choice_at(row->choices, v->lo, &n);
            out_printf(o, "%.*s", (int)(choice != NULL ? n : 1), choice != NULL ? choice : "?");
            return;
        case RS_SCN_MIX:
            for (size_t i = 0; i < RS_SCN_OP_COUNT; i++) {
                if (v->mix_weight[i] > 0) {
                    out_printf(o, "%s%s:%" PRIu32, separator, op_names[i], v->mix_weight[i]);
                    separator = ",";
                }
            }
            return;
        case RS_SCN_PATH: out_printf(o, "%s", v->text); return;
        case RS_SCN_DIST:
            out_printf(o, "%s", dist_words[v->dist]);
            if (v->dist == RS_SCN_DIST_ZIPF) {
                out_printf(o, ":");
                out_decimal(o, v->dist_param, 1000);
            } else if (v->dist == RS_SCN_DIST_HOT) {
                out_printf(o, ":");
                out_scalar(o, RS_SCN_PERCENT, v->dist_param);
            }
            return;
        default:
            out_scalar(o, row->type, v->lo);
            if (v->drawn || v->hi != v->lo) {
                out_printf(o, "..");
                out_scalar(o, row->type, v->hi);
            }
            return;
    }
}

size_t rs_scn_value_format(enum rs_scn_setting_id id,
                           const struct rs_scn_value *value,
                           char *buf,
                           size_t size)
{
    RS_ASSERT((unsigned)id < RS_SCN_SETTING_COUNT);
    struct out o = {buf, size, 0};
    out_value(&o, id, value);
    return o.len;
}

/* ------------------------------------------------------------------------------------------ */
/* Setting values                                                                             */

/* A scalar of the row's type, range-checked. RANGE rows check each end as a duration. */
static enum rs_err parse_scalar(const struct sink *k,
                                enum rs_scn_setting_id id,
                                const char *p,
                                size_t n,
                                uint32_t column,
                                int64_t *out)
{
    const struct rs_scn_setting *row = &rs_scn_schema[id];
    uint64_t u = 0;
    int64_t v = 0;
    enum rs_err rc = RS_OK;
    switch (row->type) {
        case RS_SCN_INT:
            rc = parse_int(k, p, n, column, &v);
            u = (uint64_t)v;
            break;
        case RS_SCN_DURATION:
        case RS_SCN_RANGE:
            rc = parse_duration(k, p, n, column, &u);
            break;
        case RS_SCN_PERCENT:
            rc = parse_percent(k, p, n, column, &u);
            break;
        case RS_SCN_SIZE:
            rc = parse_size(k, p, n, column, &u);
            break;
        case RS_SCN_RATE:
            rc = parse_rate(k, p, n, column, &u);
            if (rc == RS_OK && u == 0) {
                *out = 0; /* closed: no bounds apply */
                return RS_OK;
            }
            break;
        default:
            RS_UNREACHABLE();
    }
    if (rc != RS_OK) {
        return rc;
    }
    if (row->type != RS_SCN_INT) {
        v = u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
    }
    char q[QUOTE_SIZE];
    char low[32];
    char high[32];
    if (v < row->min || v > row->max) {
        rs_scn_scalar_format(row->type, row->min, low, sizeof low);
        rs_scn_scalar_format(row->type, row->max, high, sizeof high);
        return fail(k, column, "%s %s is out of range (%s..%s)", row->section_key, quote(q, p, n),
                    low, high);
    }
    if ((row->flags & RS_SCN_POW2) != 0 && (v & (v - 1)) != 0) {
        return fail(k, column, "%s %s is not a power of two", row->section_key, quote(q, p, n));
    }
    *out = v;
    return RS_OK;
}

/* "A..B" or "A": both ends as scalars, A <= B. */
static enum rs_err parse_span(const struct sink *k,
                              enum rs_scn_setting_id id,
                              const char *p,
                              size_t n,
                              uint32_t column,
                              struct rs_scn_value *v)
{
    const char *dots = find_dots(p, n);
    if (dots == NULL) {
        enum rs_err rc = parse_scalar(k, id, p, n, column, &v->lo);
        v->hi = v->lo;
        return rc;
    }
    const struct rs_scn_setting *row = &rs_scn_schema[id];
    size_t lo_size = (size_t)(dots - p);
    size_t hi_offset = lo_size + 2;
    char q[QUOTE_SIZE];
    if ((row->flags & RS_SCN_POW2) != 0) {
        return fail(k, column, "%s cannot be drawn from a range: it must be a power of two",
                    row->section_key);
    }
    enum rs_err rc = parse_scalar(k, id, p, lo_size, column, &v->lo);
    if (rc == RS_OK) {
        rc =
            parse_scalar(k, id, p + hi_offset, n - hi_offset, column + (uint32_t)hi_offset, &v->hi);
    }
    if (rc == RS_OK && row->type == RS_SCN_RATE && (v->lo == 0 || v->hi == 0)) {
        return fail(k, column, "%s: closed cannot be part of a drawn range", row->section_key);
    }
    if (rc == RS_OK && v->lo > v->hi) {
        return fail(k, column, "%s: the lower bound of %s is above the upper bound",
                    row->section_key, quote(q, p, n));
    }
    v->drawn = rc == RS_OK && row->type != RS_SCN_RANGE && v->lo < v->hi;
    return rc;
}

static enum rs_err parse_mix_entry(const struct sink *k,
                                   const char *p,
                                   size_t n,
                                   uint32_t column,
                                   uint32_t *weights,
                                   bool *seen)
{
    const char *colon = memchr(p, ':', n);
    char q[QUOTE_SIZE];
    char hint[QUOTE_SIZE + 24];
    if (n == 0) {
        return fail(k, column, "empty entry in the mix");
    }
    if (colon == NULL) {
        return fail(k, column, "expected operation:weight in the mix, got %s", quote(q, p, n));
    }
    size_t name_size = (size_t)(colon - p);
    int op = lookup(op_names, RS_SCN_OP_COUNT, p, name_size);
    if (op < 0) {
        return fail(k, column, "unknown operation %s in the mix%s", quote(q, p, name_size),
                    hint_among(op_names, RS_SCN_OP_COUNT, p, name_size, hint, sizeof hint));
    }
    if (seen[op]) {
        return fail(k, column, "operation %s appears twice in the mix", op_names[op]);
    }
    const char *digits = colon + 1;
    size_t digits_size = n - name_size - 1;
    uint64_t weight = 0;
    uint32_t weight_column = column + (uint32_t)name_size + 1;
    bool plain = digits_size > 0 && number_size(digits, digits_size) == digits_size &&
                 memchr(digits, '.', digits_size) == NULL;
    if (!plain || parse_decimal(digits, digits_size, 1, &weight) != NUM_OK ||
        weight > RS_SCN_WEIGHT_MAX) {
        return fail(k, weight_column, "weight %s of %s must be an integer in 0..%u",
                    quote(q, digits, digits_size), op_names[op], RS_SCN_WEIGHT_MAX);
    }
    seen[op] = true;
    weights[op] = (uint32_t)weight;
    return RS_OK;
}

static enum rs_err parse_mix(const struct sink *k,
                             const char *p,
                             size_t n,
                             uint32_t column,
                             struct rs_scn_value *v)
{
    bool seen[RS_SCN_OP_COUNT] = {false};
    size_t start = 0;
    /* Each entry consumes at least one byte (its comma), so n + 1 rounds are enough. */
    for (size_t round = 0; round <= n; round++) {
        const char *comma = memchr(p + start, ',', n - start);
        size_t end = comma != NULL ? (size_t)(comma - p) : n;
        enum rs_err rc = parse_mix_entry(k, p + start, end - start, column + (uint32_t)start,
                                         v->mix_weight, seen);
        if (rc != RS_OK) {
            return rc;
        }
        if (comma == NULL) {
            break;
        }
        start = end + 1;
    }
    for (size_t i = 0; i < RS_SCN_OP_COUNT; i++) {
        if (v->mix_weight[i] > 0) {
            return RS_OK;
        }
    }
    return fail(k, column, "the mix needs at least one positive weight");
}

static enum rs_err parse_dist(const struct sink *k,
                              const char *p,
                              size_t n,
                              uint32_t column,
                              struct rs_scn_value *v)
{
    const char *colon = memchr(p, ':', n);
    size_t name_size = colon != NULL ? (size_t)(colon - p) : n;
    int kind = lookup(dist_words, COUNT_OF(dist_words), p, name_size);
    char q[QUOTE_SIZE];
    char hint[QUOTE_SIZE + 24];
    if (kind < 0) {
        return fail(k, column, "unknown distribution %s%s", quote(q, p, name_size),
                    hint_among(dist_words, COUNT_OF(dist_words), p, name_size, hint, sizeof hint));
    }
    v->dist = (enum rs_scn_dist)kind;
    bool takes_param = kind == RS_SCN_DIST_ZIPF || kind == RS_SCN_DIST_HOT;
    if (!takes_param) {
        return colon == NULL ? RS_OK
                             : fail(k, column + (uint32_t)name_size, "%s takes no parameter",
                                    dist_words[kind]);
    }
    if (colon == NULL || name_size + 1 == n) {
        return fail(k, column, "%s needs a parameter, e.g. %s", dist_words[kind],
                    kind == RS_SCN_DIST_ZIPF ? "zipf:0.99" : "hot:10%");
    }
    const char *param = colon + 1;
    size_t param_size = n - name_size - 1;
    uint32_t param_column = column + (uint32_t)name_size + 1;
    uint64_t value = 0;
    if (kind == RS_SCN_DIST_HOT) {
        enum rs_err rc = parse_percent(k, param, param_size, param_column, &value);
        if (rc == RS_OK && (value == 0 || value > RS_SCN_PPM_MAX)) {
            return fail(k, param_column, "hot share %s is out of range (0.0001%%..100%%)",
                        quote(q, param, param_size));
        }
        v->dist_param = (uint32_t)value;
        return rc;
    }
    enum num status = number_size(param, param_size) == param_size
                          ? parse_decimal(param, param_size, 1000, &value)
                          : NUM_SYNTAX;
    if (status != NUM_OK) {
        return number_fail(k, param_column, status, param, param_size, "zipf exponent", "0.001");
    }
    if (value > RS_SCN_ZIPF_MAX) {
        return fail(k, param_column, "zipf exponent %s is out of range (0..5)",
                    quote(q, param, param_size));
    }
    v->dist_param = (uint32_t)value;
    return RS_OK;
}

static enum rs_err parse_choice(const struct sink *k,
                                enum rs_scn_setting_id id,
                                const char *p,
                                size_t n,
                                uint32_t column,
                                struct rs_scn_value *v)
{
    const struct rs_scn_setting *row = &rs_scn_schema[id];
    struct guess g = {NULL, 0};
    size_t best_size = 0;
    size_t size = 0;
    const char *choice = NULL;
    char q[QUOTE_SIZE];
    char hint[QUOTE_SIZE + 24];
    for (int64_t i = 0; (choice = choice_at(row->choices, i, &size)) != NULL; i++) {
        if (size == n && memcmp(choice, p, n) == 0) {
            v->lo = v->hi = i;
            return RS_OK;
        }
        guess_try(&g, p, n, choice, size);
    }
    char list[128];
    struct out o = {list, sizeof list, 0};
    for (int64_t i = 0; (choice = choice_at(row->choices, i, &size)) != NULL; i++) {
        bool last = choice_at(row->choices, i + 1, &best_size) == NULL;
        out_printf(&o, "%s%.*s", i == 0 ? "" : (last ? " or " : ", "), (int)size, choice);
    }
    best_size = g.best != NULL ? strcspn(g.best, "|") : 0;
    return fail(k, column, "%s must be %s, got %s%s", row->section_key, list, quote(q, p, n),
                guess_hint(&g, n, best_size, hint, sizeof hint));
}

/* A file name: printable ASCII without spaces (a word), at most RS_SCN_PATH_SIZE_MAX - 1. */
static enum rs_err parse_path(const struct sink *k, const struct rs_scn_setting *row,
                              const char *p, size_t n, uint32_t column, struct rs_scn_value *v)
{
    if (n >= RS_SCN_PATH_SIZE_MAX) {
        return fail(k, column, "%s is longer than %u bytes", row->section_key,
                    RS_SCN_PATH_SIZE_MAX - 1);
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x21 || p[i] > 0x7e) {
            return fail(k, column + (uint32_t)i, "%s: file names are printable ASCII",
                        row->section_key);
        }
    }
    memcpy(v->text, p, n);
    v->text[n] = '\0';
    if (row == &rs_scn_schema[RS_SCN_PD_POLICY]) {
        uint32_t handlers[RS_PD_HANDLERS_MAX];
        size_t handler_count = 0;
        char message[RS_PD_MESSAGE_SIZE_MIN + RS_SCN_PATH_SIZE_MAX];
        if (rs_pd_policy_parse(v->text, handlers, &handler_count, message, sizeof message) !=
            RS_OK) {
            return fail(k, column, "%s: %s", row->section_key, message);
        }
    }
    return RS_OK;
}

/* A value of setting id, written at column. The value's content fields start zeroed. */
static enum rs_err parse_value(const struct sink *k,
                               enum rs_scn_setting_id id,
                               const char *p,
                               size_t n,
                               uint32_t column,
                               struct rs_scn_value *v)
{
    RS_ASSERT((unsigned)id < RS_SCN_SETTING_COUNT);
    const struct rs_scn_setting *row = &rs_scn_schema[id];
    char q[QUOTE_SIZE];
    char hint[QUOTE_SIZE + 24];
    int index = -1;
    bool drawn = find_dots(p, n) != NULL;
    bool drawable = row->type != RS_SCN_BOOL && row->type != RS_SCN_ENUM &&
                    row->type != RS_SCN_MIX && row->type != RS_SCN_DIST &&
                    row->type != RS_SCN_PATH;
    if (drawn && !drawable) {
        return fail(k, column, "%s cannot be drawn from a range", row->section_key);
    }
    switch (row->type) {
        case RS_SCN_BOOL:
            index = lookup(bool_words, COUNT_OF(bool_words), p, n);
            if (index < 0) {
                return fail(k, column, "%s must be on, off, true or false, got %s%s",
                            row->section_key, quote(q, p, n),
                            hint_among(bool_words, COUNT_OF(bool_words), p, n, hint, sizeof hint));
            }
            v->lo = v->hi = index % 2;
            return RS_OK;
        case RS_SCN_ENUM:
            return parse_choice(k, id, p, n, column, v);
        case RS_SCN_MIX:
            return parse_mix(k, p, n, column, v);
        case RS_SCN_DIST:
            return parse_dist(k, p, n, column, v);
        case RS_SCN_PATH:
            return parse_path(k, row, p, n, column, v);
        default:
            return parse_span(k, id, p, n, column, v);
    }
}

static void value_clear(struct rs_scn_value *v)
{
    memset(v, 0, sizeof *v);
}

static bool value_same(const struct rs_scn_value *a, const struct rs_scn_value *b)
{
    return a->lo == b->lo && a->hi == b->hi && a->drawn == b->drawn && a->dist == b->dist &&
           a->dist_param == b->dist_param && strcmp(a->text, b->text) == 0 &&
           memcmp(a->mix_weight, b->mix_weight, sizeof a->mix_weight) == 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Scenario lifetime and lookup                                                               */

void rs_scenario_init(struct rs_scenario *s)
{
    RS_ASSERT(s != NULL);
    memset(s, 0, sizeof *s);
    struct rs_scn_error err;
    struct sink k = {&err, "default", NULL, 0, 0};
    for (size_t i = 0; i < RS_SCN_SETTING_COUNT; i++) {
        const char *text = rs_scn_schema[i].default_text;
        enum rs_err rc =
            parse_value(&k, (enum rs_scn_setting_id)i, text, strlen(text), 1, &s->settings[i]);
        RS_ASSERT(rc == RS_OK); /* every schema default parses: tested per row */
    }
}

void rs_scenario_free(struct rs_scenario *s)
{
    RS_ASSERT(s != NULL);
    free(s->commands);
    free(s->expects);
    rs_scenario_init(s);
}

int rs_scn_setting_find(const char *section_key)
{
    for (size_t i = 0; section_key != NULL && i < RS_SCN_SETTING_COUNT; i++) {
        if (strcmp(rs_scn_schema[i].section_key, section_key) == 0) {
            return (int)i;
        }
    }
    return -1;
}

const struct rs_scn_value *rs_scenario_get(const struct rs_scenario *s, const char *section_key)
{
    int id = rs_scn_setting_find(section_key);
    return id < 0 ? NULL : &s->settings[id];
}

static int find_setting(const char *p, size_t n)
{
    for (size_t i = 0; i < RS_SCN_SETTING_COUNT; i++) {
        if (bytes_are(p, n, rs_scn_schema[i].section_key)) {
            return (int)i;
        }
    }
    return -1;
}

/* "unknown setting 'net.los' (did you mean 'net.loss'?)", trying the same section first and
 * then the same key in another section. */
static enum rs_err unknown_setting(const struct sink *k,
                                   uint32_t column,
                                   const char *section,
                                   size_t section_size,
                                   const char *key,
                                   size_t key_size)
{
    struct guess g = {NULL, 0};
    int best = -1;
    char full[2 * QUOTE_SIZE];
    char q_section[QUOTE_SIZE];
    char q_key[QUOTE_SIZE];
    char hint[QUOTE_SIZE + 24];
    for (size_t i = 0; i < RS_SCN_SETTING_COUNT; i++) {
        const struct rs_scn_setting *row = &rs_scn_schema[i];
        if (bytes_are(section, section_size, row->section) &&
            guess_try(&g, key, key_size, row->key, strlen(row->key))) {
            best = (int)i;
        }
    }
    bool close =
        guess_hint(&g, key_size, g.best != NULL ? strlen(g.best) : 0, hint, sizeof hint)[0] != '\0';
    for (size_t i = 0; !close && i < RS_SCN_SETTING_COUNT; i++) {
        if (bytes_are(key, key_size, rs_scn_schema[i].key)) {
            best = (int)i;
            close = true;
        }
    }
    hint[0] = '\0';
    if (close) {
        snprintf(hint, sizeof hint, " (did you mean '%s'?)", rs_scn_schema[best].section_key);
    }
    quote_into(q_section, section, section_size, false);
    quote_into(q_key, key, key_size, false);
    snprintf(full, sizeof full, "%s%s%s", q_section, section_size > 0 ? "." : "", q_key);
    return fail(k, column, "unknown setting '%s'%s", full, hint);
}

/* "section.key=value": used by --set and by the `set` timeline command. */
static enum rs_err parse_assignment(const struct sink *k,
                                    const char *p,
                                    size_t n,
                                    uint32_t column,
                                    enum rs_scn_setting_id *id,
                                    struct rs_scn_value *v)
{
    const char *equals = memchr(p, '=', n);
    char q[QUOTE_SIZE];
    if (equals == NULL) {
        return fail(k, column, "expected section.key=value, got %s", quote(q, p, n));
    }
    size_t name_size = (size_t)(equals - p);
    int found = find_setting(p, name_size);
    if (found < 0) {
        const char *dot = memchr(p, '.', name_size);
        size_t section_size = dot != NULL ? (size_t)(dot - p) : 0;
        size_t key_offset = dot != NULL ? section_size + 1 : 0;
        return unknown_setting(k, column, p, section_size, p + key_offset, name_size - key_offset);
    }
    if (name_size + 1 == n) {
        return fail(k, column + (uint32_t)n, "missing value for %s",
                    rs_scn_schema[found].section_key);
    }
    *id = (enum rs_scn_setting_id)found;
    value_clear(v);
    return parse_value(k, *id, equals + 1, n - name_size - 1, column + (uint32_t)name_size + 1, v);
}

enum rs_err rs_scenario_apply_set(struct rs_scenario *s,
                                  const char *assignment,
                                  struct rs_scn_error *err)
{
    RS_ASSERT(s != NULL && err != NULL);
    RS_ASSERT(assignment != NULL);
    struct sink k = {err, NULL, assignment, 0, RS_SCN_EXIT_USAGE};
    size_t n = strlen(assignment);
    if (n > RS_SCN_LINE_SIZE_MAX) {
        return fail(&k, RS_SCN_LINE_SIZE_MAX + 1, "longer than %u bytes", RS_SCN_LINE_SIZE_MAX);
    }
    enum rs_scn_setting_id id = RS_SCN_CLUSTER_NODES;
    struct rs_scn_value value;
    enum rs_err rc = parse_assignment(&k, assignment, n, 1, &id, &value);
    if (rc != RS_OK) {
        return rc;
    }
    value.origin = RS_SCN_FROM_FLAG;
    value.order = ++s->set_counter;
    s->settings[id] = value;
    return RS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Cross-field checks                                                                         */

/* node(N) must exist in every draw of cluster.nodes. Blames the flag when a flag set nodes. */
static enum rs_err check_target(const struct rs_scenario *s,
                                const struct sink *k,
                                const struct rs_scn_target *t)
{
    const struct rs_scn_value *nodes = &s->settings[RS_SCN_CLUSTER_NODES];
    if (t->kind != RS_SCN_TARGET_NODE || (int64_t)t->node <= nodes->lo) {
        return RS_OK;
    }
    char text[48];
    rs_scn_value_format(RS_SCN_CLUSTER_NODES, nodes, text, sizeof text);
    if (nodes->origin == RS_SCN_FROM_FLAG) {
        struct sink flagged = *k;
        flagged.exit_code = RS_SCN_EXIT_USAGE;
        return fail(&flagged, t->column,
                    "node(%" PRIu32
                    ") does not exist with --set "
                    "cluster.nodes=%s",
                    t->node, text);
    }
    return fail(k, t->column, "node(%" PRIu32 ") does not exist: cluster.nodes is %s", t->node,
                text);
}

static enum rs_err check_rule(const struct rs_scenario *s,
                              const struct rule *rule,
                              struct rs_scn_error *err)
{
    const struct rs_scn_value *left = &s->settings[rule->left];
    const struct rs_scn_value *right = &s->settings[rule->right];
    /* Drawn values must satisfy the rule in every draw. */
    bool holds = rule->kind == RULE_AT_MOST ? left->hi <= right->lo : left->hi < right->lo;
    if (holds) {
        return RS_OK;
    }
    /* The setting written last made the pair inconsistent: point there. */
    enum rs_scn_setting_id blamed_id = left->order >= right->order ? rule->left : rule->right;
    const struct rs_scn_value *blamed = &s->settings[blamed_id];
    RS_ASSERT(blamed->origin != RS_SCN_FROM_DEFAULT); /* the defaults obey every rule */
    char left_text[64];
    char right_text[64];
    char flag[128];
    rs_scn_value_format(rule->left, left, left_text, sizeof left_text);
    rs_scn_value_format(rule->right, right, right_text, sizeof right_text);
    snprintf(flag, sizeof flag, "%s=%s", rs_scn_schema[blamed_id].section_key,
             blamed_id == rule->left ? left_text : right_text);
    struct sink k = {err, s->source, NULL, blamed->line, 0};
    if (blamed->origin == RS_SCN_FROM_FLAG) {
        k.flag = flag;
    }
    return fail(&k, blamed->column, "%s = %s must be %s %s = %s",
                rs_scn_schema[rule->left].section_key, left_text,
                rule->kind == RULE_AT_MOST ? "at most" : "less than",
                rs_scn_schema[rule->right].section_key, right_text);
}

/* change-peers names nodes that must exist in every draw of cluster.nodes. */
static enum rs_err check_change_peers_nodes(const struct rs_scn_value *nodes,
                                            const struct sink *blamed,
                                            const struct rs_scn_command *c, const char *text)
{
    for (uint32_t id = 1; id <= RS_SCN_NODE_COUNT_MAX; id++) {
        bool voter = (c->conf_voters >> id) & 1u;
        bool learner = (c->conf_learners >> id) & 1u;
        if ((voter || learner) && (int64_t)id > nodes->lo) {
            return fail(blamed, voter ? c->conf_voters_column : c->conf_learners_column,
                        "node %" PRIu32 " of %s does not exist: cluster.nodes is %s", id,
                        voter ? "voters=" : "learners=", text);
        }
    }
    return RS_OK;
}

/* Node counts and groups must fit every draw of cluster.nodes (like node(N) targets). */
static enum rs_err check_nodes(const struct rs_scenario *s, const struct sink *k,
                               const struct rs_scn_command *c)
{
    const struct rs_scn_value *nodes = &s->settings[RS_SCN_CLUSTER_NODES];
    struct sink blamed = *k;
    char text[48];
    rs_scn_value_format(RS_SCN_CLUSTER_NODES, nodes, text, sizeof text);
    if (nodes->origin == RS_SCN_FROM_FLAG) {
        blamed.exit_code = RS_SCN_EXIT_USAGE;
    }
    if (c->verb == RS_SCN_SWIZZLE_CLOG && c->amount_hi > nodes->lo) {
        return fail(&blamed, c->amount_column,
                    "swizzle-clog nodes=%" PRId64 " is more than cluster.nodes (%s)",
                    c->amount_hi, text);
    }
    for (uint32_t id = 1; c->verb == RS_SCN_PARTITION_GROUPS && id <= RS_SCN_NODE_COUNT_MAX;
         id++) {
        if (c->groups[id] != 0 && (int64_t)id > nodes->lo) {
            return fail(&blamed, c->groups_column,
                        "node %" PRIu32 " of groups= does not exist: cluster.nodes is %s", id,
                        text);
        }
    }
    return c->verb == RS_SCN_CHANGE_PEERS ? check_change_peers_nodes(nodes, &blamed, c, text)
                                          : RS_OK;
}

static enum rs_err check_command(const struct rs_scenario *s,
                                 const struct rs_scn_command *c,
                                 struct rs_scn_error *err)
{
    struct sink k = {err, s->source, NULL, c->line, 0};
    enum rs_err rc = check_target(s, &k, &c->source);
    if (rc == RS_OK) {
        rc = check_target(s, &k, &c->target);
    }
    if (rc == RS_OK) {
        rc = check_nodes(s, &k, c);
    }
    if (rc != RS_OK || c->at_ns <= s->run_ns) {
        return rc;
    }
    char at[32];
    char run[32];
    rs_scn_duration_format(c->at_ns, at, sizeof at);
    rs_scn_duration_format(s->run_ns, run, sizeof run);
    return fail(&k, c->time_column, "%s %s is after the end of the run (run %s)",
                c->repeat ? "every: the first firing at" : "at", at, run);
}

enum rs_err rs_scenario_validate(const struct rs_scenario *s, struct rs_scn_error *err)
{
    RS_ASSERT(s != NULL && err != NULL);
    RS_ASSERT(s->command_count <= RS_SCN_COMMAND_COUNT_MAX);
    for (size_t i = 0; i < COUNT_OF(rules); i++) {
        enum rs_err rc = check_rule(s, &rules[i], err);
        if (rc != RS_OK) {
            return rc;
        }
    }
    if (s->run_ns == 0) {
        struct sink k = {err, s->source, NULL, s->line_count > 0 ? s->line_count : 1, 0};
        return fail(&k, 1, "missing 'run DURATION' line (the length of the fault phase)");
    }
    for (uint32_t i = 0; i < s->command_count; i++) {
        enum rs_err rc = check_command(s, &s->commands[i], err);
        if (rc != RS_OK) {
            return rc;
        }
    }
    return RS_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* The line reader                                                                            */

struct word {
    const char *text;
    uint32_t size;
    uint32_t column;
};

struct reader {
    struct rs_scenario *s;
    struct sink sink; /* sink.line is the current line */
    struct word words[RS_SCN_WORD_COUNT_MAX];
    uint32_t word_count;
    uint32_t end_column;    /* just after the last word: where a missing word would go */
    uint32_t timeline_line; /* the first at, every, run or expect line; 0 = none yet */
    uint32_t name_line;
    uint32_t run_line;
    uint32_t last_at_line; /* the previous at line, for the time order; 0 = none */
    uint64_t last_at_ns;
};

static bool word_is(const struct word *w, const char *text)
{
    return bytes_are(w->text, w->size, text);
}

static const char *word_quote(char *buf, const struct word *w)
{
    return quote(buf, w->text, w->size);
}

static enum rs_err split_words(struct reader *r, const char *text, uint32_t size)
{
    r->word_count = 0;
    r->end_column = 1;
    for (uint32_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == 0) {
            return fail(&r->sink, i + 1, "NUL byte in the line");
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return fail(&r->sink, i + 1, "control byte 0x%02x in the line", c);
        }
    }
    uint32_t i = 0;
    while (i < size) {
        while (i < size && (text[i] == ' ' || text[i] == '\t')) {
            i++;
        }
        if (i == size || text[i] == '#') {
            break;
        }
        uint32_t start = i;
        while (i < size && text[i] != ' ' && text[i] != '\t') {
            i++;
        }
        if (r->word_count == RS_SCN_WORD_COUNT_MAX) {
            return fail(&r->sink, start + 1, "more than %u words on a line", RS_SCN_WORD_COUNT_MAX);
        }
        r->words[r->word_count++] = (struct word){text + start, i - start, start + 1};
        r->end_column = i + 1;
    }
    return RS_OK;
}

/* Exactly `count` words, or an error: `need` names what is missing. */
static enum rs_err want_words(struct reader *r, uint32_t count, const char *need)
{
    char q[QUOTE_SIZE];
    if (r->word_count < count) {
        return fail(&r->sink, r->end_column, "%s", need);
    }
    if (r->word_count > count) {
        return fail(&r->sink, r->words[count].column, "unexpected %s at the end of the line",
                    word_quote(q, &r->words[count]));
    }
    return RS_OK;
}

/* Word `index` must be `keyword`. */
static enum rs_err want_keyword(struct reader *r,
                                uint32_t index,
                                const char *keyword,
                                const char *need)
{
    char q[QUOTE_SIZE];
    if (index >= r->word_count) {
        return fail(&r->sink, r->end_column, "%s", need);
    }
    if (!word_is(&r->words[index], keyword)) {
        return fail(&r->sink, r->words[index].column, "expected '%s', got %s", keyword,
                    word_quote(q, &r->words[index]));
    }
    return RS_OK;
}

static enum rs_err read_time(struct reader *r, uint32_t index, const char *what, uint64_t *ns)
{
    const struct word *w = &r->words[index];
    char q[QUOTE_SIZE];
    enum rs_err rc = parse_duration(&r->sink, w->text, w->size, w->column, ns);
    if (rc == RS_OK && *ns > RS_SCN_TIME_MAX_NS) {
        return fail(&r->sink, w->column, "%s %s is beyond the limit of 1000000s", what,
                    word_quote(q, w));
    }
    return rc;
}

static enum rs_err read_name(struct reader *r)
{
    enum rs_err rc = want_words(r, 2, "name needs an identifier");
    const struct word *w = &r->words[1];
    if (rc != RS_OK) {
        return rc;
    }
    if (r->name_line != 0) {
        return fail(&r->sink, r->words[0].column, "name is already given on line %" PRIu32,
                    r->name_line);
    }
    bool ok = w->size < RS_SCN_NAME_SIZE_MAX && w->text[0] != '-' && w->text[0] != '.';
    for (uint32_t i = 0; ok && i < w->size; i++) {
        char c = w->text[i];
        ok = is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
             c == '-' || c == '.';
    }
    if (!ok) {
        char q[QUOTE_SIZE];
        return fail(&r->sink, w->column,
                    "name %s must be letters, digits, '_', '-' and '.', "
                    "at most %u bytes",
                    word_quote(q, w), RS_SCN_NAME_SIZE_MAX - 1);
    }
    memcpy(r->s->name, w->text, w->size);
    r->s->name[w->size] = '\0';
    r->name_line = r->sink.line;
    return RS_OK;
}

/* The text runs from the first word to the end of the last one; lines join with a space. */
static enum rs_err read_describe(struct reader *r)
{
    if (r->word_count < 2) {
        return fail(&r->sink, r->end_column, "describe needs some text");
    }
    const struct word *first = &r->words[1];
    const struct word *last = &r->words[r->word_count - 1];
    size_t size = (size_t)(last->text + last->size - first->text);
    char *describe = r->s->describe;
    size_t used = strlen(describe);
    size_t separator = used > 0 ? 1 : 0;
    if (used + separator + size >= RS_SCN_DESCRIBE_SIZE_MAX) {
        return fail(&r->sink, first->column, "the description is longer than %u bytes",
                    RS_SCN_DESCRIBE_SIZE_MAX - 1);
    }
    if (separator > 0) {
        describe[used++] = ' ';
    }
    memcpy(describe + used, first->text, size);
    describe[used + size] = '\0';
    return RS_OK;
}

static int find_in_section(const struct word *section, const char *key, size_t key_size)
{
    for (size_t i = 0; i < RS_SCN_SETTING_COUNT; i++) {
        if (word_is(section, rs_scn_schema[i].section) &&
            bytes_are(key, key_size, rs_scn_schema[i].key)) {
            return (int)i;
        }
    }
    return -1;
}

static enum rs_err read_setting(struct reader *r, const struct word *section, const struct word *w)
{
    char q[QUOTE_SIZE];
    const char *equals = memchr(w->text, '=', w->size);
    if (equals == NULL || equals == w->text) {
        return fail(&r->sink, w->column, "expected key=value, got %s", word_quote(q, w));
    }
    size_t key_size = (size_t)(equals - w->text);
    int id = find_in_section(section, w->text, key_size);
    if (id < 0) {
        return unknown_setting(&r->sink, w->column, section->text, section->size, w->text,
                               key_size);
    }
    const struct rs_scn_setting *row = &rs_scn_schema[id];
    struct rs_scn_value *slot = &r->s->settings[id];
    if (key_size + 1 == w->size) {
        return fail(&r->sink, w->column + w->size, "missing value for %s", row->section_key);
    }
    if (slot->origin == RS_SCN_FROM_FILE) {
        return fail(&r->sink, w->column, "%s is already set on line %" PRIu32, row->section_key,
                    slot->line);
    }
    struct rs_scn_value value;
    value_clear(&value);
    uint32_t value_column = w->column + (uint32_t)key_size + 1;
    enum rs_err rc = parse_value(&r->sink, (enum rs_scn_setting_id)id, equals + 1,
                                 w->size - key_size - 1, value_column, &value);
    if (rc != RS_OK) {
        return rc;
    }
    value.origin = RS_SCN_FROM_FILE;
    value.line = r->sink.line;
    value.column = w->column;
    value.order = ++r->s->set_counter;
    *slot = value;
    return RS_OK;
}

static enum rs_err read_settings(struct reader *r)
{
    const struct word *section = &r->words[0];
    if (r->timeline_line != 0) {
        return fail(&r->sink, section->column,
                    "settings must come before the first at, every, run or expect line "
                    "(line %" PRIu32 ")",
                    r->timeline_line);
    }
    if (r->word_count < 2) {
        return fail(&r->sink, r->end_column, "%.*s needs key=value settings", (int)section->size,
                    section->text);
    }
    for (uint32_t i = 1; i < r->word_count; i++) {
        enum rs_err rc = read_setting(r, section, &r->words[i]);
        if (rc != RS_OK) {
            return rc;
        }
    }
    return RS_OK;
}

/* ---- Timeline commands ---- */

static enum rs_err read_target(struct reader *r,
                               const char *p,
                               size_t n,
                               uint32_t column,
                               struct rs_scn_target *t)
{
    char q[QUOTE_SIZE];
    char hint[QUOTE_SIZE + 24];
    int kind = lookup(target_words, 3, p, n);
    t->column = column;
    if (kind >= 0) {
        t->kind = (enum rs_scn_target_kind)(RS_SCN_TARGET_LEADER + kind);
        return RS_OK;
    }
    if (n >= 5 && memcmp(p, "node(", 5) == 0) {
        if (n != 7 || p[6] != ')' || p[5] < '1' || p[5] > '0' + (int)RS_SCN_NODE_COUNT_MAX) {
            return fail(&r->sink, column, "expected node(N) with N in 1..%u, got %s",
                        RS_SCN_NODE_COUNT_MAX, quote(q, p, n));
        }
        t->kind = RS_SCN_TARGET_NODE;
        t->node = (rs_node_id)(p[5] - '0');
        return check_target(r->s, &r->sink, t);
    }
    return fail(&r->sink, column,
                "unknown target %s%s: expected leader, follower, random or node(N)", quote(q, p, n),
                hint_among(target_words, COUNT_OF(target_words), p, n, hint, sizeof hint));
}

static enum rs_err read_options(struct reader *r, uint32_t first, const char *verb,
                                uint32_t allowed, uint32_t required, const char *usage,
                                struct rs_scn_command *c, uint32_t *given);

static enum rs_err read_one_way(struct reader *r, uint32_t first, struct rs_scn_command *c)
{
    enum rs_err rc = r->word_count < first + 2
                         ? fail(&r->sink, r->end_column,
                                "partition one-way needs from=TARGET to=TARGET")
                         : RS_OK;
    char q[QUOTE_SIZE];
    for (uint32_t i = first; rc == RS_OK && i < first + 2; i++) {
        const struct word *w = &r->words[i];
        bool from = w->size >= 5 && memcmp(w->text, "from=", 5) == 0;
        bool to = w->size >= 3 && memcmp(w->text, "to=", 3) == 0;
        struct rs_scn_target *t = from ? &c->source : &c->target;
        uint32_t skip = from ? 5 : 3;
        if (!from && !to) {
            return fail(&r->sink, w->column, "expected from=TARGET or to=TARGET, got %s",
                        word_quote(q, w));
        }
        if (t->kind != RS_SCN_TARGET_NONE) {
            return fail(&r->sink, w->column, "%s is given twice", from ? "from=" : "to=");
        }
        rc = read_target(r, w->text + skip, w->size - skip, w->column + skip, t);
    }
    bool same_node = c->source.kind == RS_SCN_TARGET_NODE && c->source.node == c->target.node;
    bool both_leader = c->source.kind == RS_SCN_TARGET_LEADER && c->target.kind == c->source.kind;
    if (rc == RS_OK && c->target.kind == c->source.kind && (same_node || both_leader)) {
        return fail(&r->sink, r->words[first].column,
                    "partition one-way needs two different nodes");
    }
    uint32_t given = 0;
    return rc != RS_OK ? rc
                       : read_options(r, first + 2, "partition one-way", 1u /* OPT_FOR */, 0,
                                      "partition one-way from=TARGET to=TARGET [for=DURATION]",
                                      c, &given);
}

static enum rs_err read_groups(struct reader *r, const struct word *w, struct rs_scn_command *c);

static enum rs_err read_partition(struct reader *r, uint32_t first, struct rs_scn_command *c)
{
    static const char kinds[] = "isolate, minority, majority-minority, one-way, bridge, ring or "
                                "groups=";
    char q[QUOTE_SIZE];
    char hint[QUOTE_SIZE + 24];
    if (first >= r->word_count) {
        return fail(&r->sink, r->end_column, "partition needs a kind: %s", kinds);
    }
    const struct word *w = &r->words[first];
    uint32_t given = 0;
    if (w->size >= 7 && memcmp(w->text, "groups=", 7) == 0) {
        c->verb = RS_SCN_PARTITION_GROUPS;
        enum rs_err rc = read_groups(r, w, c);
        return rc != RS_OK ? rc
                           : read_options(r, first + 1, "partition groups", 1u, 0,
                                          "partition groups=1,2/3 [for=DURATION]", c, &given);
    }
    int kind = lookup(partition_words, COUNT_OF(partition_words), w->text, w->size);
    if (kind < 0) {
        return fail(&r->sink, w->column, "unknown partition %s%s: expected %s", word_quote(q, w),
                    hint_among(partition_words, COUNT_OF(partition_words), w->text, w->size, hint,
                               sizeof hint),
                    kinds);
    }
    static const enum rs_scn_verb verbs[] = {
        RS_SCN_PARTITION_ISOLATE, RS_SCN_PARTITION_MINORITY, RS_SCN_PARTITION_MAJORITY_MINORITY,
        RS_SCN_PARTITION_ONE_WAY, RS_SCN_PARTITION_BRIDGE,   RS_SCN_PARTITION_RING};
    c->verb = verbs[kind];
    if (c->verb == RS_SCN_PARTITION_ONE_WAY) {
        return read_one_way(r, first + 1, c);
    }
    uint32_t next = first + 1;
    bool has_target = next < r->word_count && memchr(r->words[next].text, '=',
                                                     r->words[next].size) == NULL;
    bool needs_target = c->verb == RS_SCN_PARTITION_ISOLATE ||
                        c->verb == RS_SCN_PARTITION_MINORITY;
    bool takes_target = needs_target || c->verb == RS_SCN_PARTITION_BRIDGE;
    if (needs_target && !has_target) {
        return fail(&r->sink, next < r->word_count ? r->words[next].column : r->end_column,
                    "partition needs a target: leader, follower, random or node(N)");
    }
    if (takes_target && has_target) {
        const struct word *t = &r->words[next++];
        enum rs_err rc = read_target(r, t->text, t->size, t->column, &c->target);
        if (rc != RS_OK) {
            return rc;
        }
    } else if (c->verb == RS_SCN_PARTITION_BRIDGE) {
        c->target.kind = RS_SCN_TARGET_RANDOM; /* the bridge node, when not named */
    }
    char usage[64];
    snprintf(usage, sizeof usage, "%s%s [for=DURATION]", verb_names[c->verb],
             takes_target ? (needs_target ? " TARGET" : " [TARGET]") : "");
    return read_options(r, next, verb_names[c->verb], 1u /* OPT_FOR */, 0, usage, c, &given);
}

static enum rs_err read_down(struct reader *r, const struct word *w, struct rs_scn_command *c)
{
    char q[QUOTE_SIZE];
    if (w->size < 5 || memcmp(w->text, "down=", 5) != 0) {
        return fail(&r->sink, w->column, "expected down=DURATION, got %s", word_quote(q, w));
    }
    const char *p = w->text + 5;
    size_t n = w->size - 5;
    const char *dots = find_dots(p, n);
    size_t lo_size = dots != NULL ? (size_t)(dots - p) : n;
    uint32_t column = w->column + 5;
    enum rs_err rc = parse_duration(&r->sink, p, lo_size, column, &c->down_lo_ns);
    c->down_hi_ns = c->down_lo_ns;
    if (rc == RS_OK && dots != NULL) {
        size_t offset = lo_size + 2;
        rc = parse_duration(&r->sink, p + offset, n - offset, column + (uint32_t)offset,
                            &c->down_hi_ns);
    }
    if (rc == RS_OK && c->down_lo_ns > c->down_hi_ns) {
        return fail(&r->sink, column, "the lower bound of %s is above the upper bound",
                    quote(q, p, n));
    }
    if (rc == RS_OK && c->down_hi_ns > RS_SCN_TIME_MAX_NS) {
        return fail(&r->sink, column, "down time %s is beyond the limit of 1000000s",
                    quote(q, p, n));
    }
    return rc;
}

static enum rs_err read_set(struct reader *r, const struct word *w, struct rs_scn_command *c)
{
    enum rs_err rc =
        parse_assignment(&r->sink, w->text, w->size, w->column, &c->setting, &c->value);
    if (rc == RS_OK && (rs_scn_schema[c->setting].flags & RS_SCN_LIVE) == 0) {
        return fail(&r->sink, w->column,
                    "%s cannot change during a run: set takes net.* and "
                    "disk.* settings other than disk.block",
                    rs_scn_schema[c->setting].section_key);
    }
    return rc;
}

/* ---- Fault commands: VERB [TARGET] [key=value | flag]... ---- */

/* The options a fault command may take, as bits. */
enum {
    OPT_FOR = 1u << 0,
    OPT_NODES = 1u << 1,
    OPT_INTERVAL = 1u << 2,
    OPT_WRITE = 1u << 3,
    OPT_SYNC = 1u << 4,
    OPT_NEXT = 1u << 5,
    OPT_DEAD = 1u << 6,
    OPT_FREE = 1u << 7,
    OPT_FACTOR = 1u << 8,
    OPT_BITS = 1u << 9,
    OPT_SCOPE = 1u << 10,
    OPT_PPM = 1u << 11,
    OPT_BY = 1u << 12,
    OPT_RATE = 1u << 13,
    OPT_FROM = 1u << 14,
    OPT_TO = 1u << 15,
    OPT_REGION = 1u << 16,
    OPT_KEY = 1u << 17,
};
static const char *const option_words[] = {"for",  "nodes", "interval", "write", "sync", "next",
                                           "dead", "free",  "factor",   "bits",  "scope", "ppm",
                                           "by",   "rate",  "from",     "to",    "region", "key"};

/* Limits of the fault options (the disk and clock limits are the simulator's own). */
#define FAULT_FOR_MIN_NS    RS_SCN_MS(1)
#define FAULT_INTERVAL_MAX  RS_SCN_S(1000)
#define FAULT_NEXT_MAX      1000000
#define FAULT_FREE_MAX      (1ll << 40)
#define FAULT_FACTOR_MAX    1000 /* RS_DISK_SLOW_FACTOR_MAX */
#define FAULT_BITS_MAX      4096
#define FAULT_DRIFT_MAX     100000 /* RS_CLOCK_DRIFT_PPM_MAX */
#define FAULT_JUMP_MAX_NS   RS_SCN_S(3600)
#define FAULT_RATE_MIN      64
#define FAULT_RATE_MAX      (1ll << 40)

enum target_rule { TARGET_NONE, TARGET_REQUIRED, TARGET_OPTIONAL, TARGET_OR_LINK };

struct fault_verb {
    const char *word;
    enum rs_scn_verb verb;
    enum target_rule target;
    uint32_t options;  /* allowed */
    uint32_t required; /* one of these must be given (0: none needed) */
    const char *usage;
};

static const struct fault_verb fault_verbs[] = {
    {"clog", RS_SCN_CLOG, TARGET_OR_LINK, OPT_FOR, 0,
     "clog TARGET [for=DURATION], or clog from=TARGET to=TARGET [for=DURATION]"},
    {"unclog", RS_SCN_UNCLOG, TARGET_OR_LINK, 0, 0,
     "unclog TARGET, or unclog from=TARGET to=TARGET"},
    {"swizzle-clog", RS_SCN_SWIZZLE_CLOG, TARGET_NONE, OPT_NODES | OPT_INTERVAL, 0,
     "swizzle-clog [nodes=N] [interval=DURATION]"},
    {"bandwidth", RS_SCN_BANDWIDTH, TARGET_REQUIRED, OPT_RATE | OPT_FOR, OPT_RATE,
     "bandwidth TARGET rate=SIZE/s [for=DURATION]"},
    {"pause", RS_SCN_PAUSE, TARGET_REQUIRED, OPT_FOR, 0, "pause TARGET [for=DURATION]"},
    {"resume", RS_SCN_RESUME, TARGET_REQUIRED, 0, 0, "resume TARGET"},
    {"disk-fail", RS_SCN_DISK_FAIL, TARGET_REQUIRED,
     OPT_WRITE | OPT_SYNC | OPT_NEXT | OPT_DEAD | OPT_FOR,
     OPT_WRITE | OPT_SYNC | OPT_NEXT | OPT_DEAD,
     "disk-fail TARGET write=PERCENT sync=PERCENT next=N dead (at least one) [for=DURATION]"},
    {"disk-full", RS_SCN_DISK_FULL, TARGET_REQUIRED, OPT_FREE | OPT_FOR, 0,
     "disk-full TARGET [free=SIZE] [for=DURATION]"},
    {"disk-slow", RS_SCN_DISK_SLOW, TARGET_REQUIRED, OPT_FACTOR | OPT_FOR, OPT_FACTOR,
     "disk-slow TARGET factor=N [for=DURATION]"},
    {"disk-corrupt", RS_SCN_DISK_CORRUPT, TARGET_REQUIRED, OPT_BITS | OPT_SCOPE, 0,
     "disk-corrupt TARGET [bits=N] [scope=unsynced|any]"},
    {"disk-heal", RS_SCN_DISK_HEAL, TARGET_REQUIRED, 0, 0, "disk-heal TARGET"},
    {"clock-drift", RS_SCN_DRIFT, TARGET_REQUIRED, OPT_PPM, OPT_PPM,
     "clock-drift TARGET ppm=N"},
    {"clock-jump", RS_SCN_WALL_JUMP, TARGET_REQUIRED, OPT_BY, OPT_BY,
     "clock-jump TARGET by=DURATION (negative: backwards)"},
    {"wipe", RS_SCN_WIPE, TARGET_REQUIRED, 0, 0, "wipe TARGET"},
    {"snapshot", RS_SCN_SNAPSHOT, TARGET_REQUIRED, 0, 0, "snapshot TARGET"},
    {"add-peer", RS_SCN_ADD_PEER, TARGET_REQUIRED, 0, 0, "add-peer TARGET"},
    {"remove-peer", RS_SCN_REMOVE_PEER, TARGET_REQUIRED, 0, 0, "remove-peer TARGET"},
    {"add-learner", RS_SCN_ADD_LEARNER, TARGET_REQUIRED, 0, 0, "add-learner TARGET"},
    {"remove-learner", RS_SCN_REMOVE_LEARNER, TARGET_REQUIRED, 0, 0, "remove-learner TARGET"},
    {"promote", RS_SCN_PROMOTE, TARGET_REQUIRED, 0, 0, "promote TARGET"},
    {"transfer-leader", RS_SCN_TRANSFER_LEADER, TARGET_OPTIONAL, 0, 0,
     "transfer-leader [TARGET]"},
    {"split", RS_SCN_SPLIT, TARGET_NONE, OPT_REGION | OPT_KEY, 0, "split [region=N] [key=KEY]"},
    {"pd-crash", RS_SCN_PD_CRASH, TARGET_NONE, OPT_FOR, 0, "pd-crash [for=DURATION]"},
    {"pd-isolate", RS_SCN_PD_ISOLATE, TARGET_NONE, OPT_FOR, 0, "pd-isolate [for=DURATION]"},
    {"rebalance", RS_SCN_REBALANCE, TARGET_NONE, 0, 0, "rebalance"},
};

/* "A..B" or "A" of signed integers within [min, max]; lo <= hi. */
static enum rs_err parse_int_span(const struct sink *k, const char *what, const char *p,
                                  size_t n, uint32_t column, int64_t min, int64_t max,
                                  int64_t *lo, int64_t *hi)
{
    const char *dots = find_dots(p, n);
    size_t lo_size = dots != NULL ? (size_t)(dots - p) : n;
    char q[QUOTE_SIZE];
    enum rs_err rc = parse_int(k, p, lo_size, column, lo);
    *hi = *lo;
    if (rc == RS_OK && dots != NULL) {
        size_t offset = lo_size + 2;
        rc = parse_int(k, p + offset, n - offset, column + (uint32_t)offset, hi);
    }
    if (rc != RS_OK) {
        return rc;
    }
    if (*lo < min || *hi > max) {
        return fail(k, column, "%s %s is out of range (%" PRId64 "..%" PRId64 ")", what,
                    quote(q, p, n), min, max);
    }
    if (*lo > *hi) {
        return fail(k, column, "the lower bound of %s is above the upper bound", quote(q, p, n));
    }
    return RS_OK;
}

/* A duration with an optional minus sign (clock jumps go both ways). */
static enum rs_err parse_signed_duration(const struct sink *k, const char *p, size_t n,
                                         uint32_t column, int64_t *out)
{
    bool negative = n > 0 && p[0] == '-';
    size_t start = negative ? 1 : 0;
    uint64_t magnitude = 0;
    enum rs_err rc = parse_duration(k, p + start, n - start, column + (uint32_t)start, &magnitude);
    if (rc != RS_OK) {
        return rc;
    }
    if (magnitude > (uint64_t)FAULT_JUMP_MAX_NS) {
        char q[QUOTE_SIZE];
        return fail(k, column, "clock jump %s is out of range (-3600s..3600s)", quote(q, p, n));
    }
    *out = negative ? -(int64_t)magnitude : (int64_t)magnitude;
    return RS_OK;
}

static enum rs_err parse_jump_span(const struct sink *k, const char *p, size_t n,
                                   uint32_t column, int64_t *lo, int64_t *hi)
{
    const char *dots = find_dots(p, n);
    size_t lo_size = dots != NULL ? (size_t)(dots - p) : n;
    enum rs_err rc = parse_signed_duration(k, p, lo_size, column, lo);
    *hi = *lo;
    if (rc == RS_OK && dots != NULL) {
        size_t offset = lo_size + 2;
        rc = parse_signed_duration(k, p + offset, n - offset, column + (uint32_t)offset, hi);
    }
    if (rc == RS_OK && *lo > *hi) {
        char q[QUOTE_SIZE];
        return fail(k, column, "the lower bound of %s is above the upper bound", quote(q, p, n));
    }
    return rc;
}

/* for=DURATION or for=A..B, each at least 1ms and within the time limit. */
static enum rs_err parse_for(const struct sink *k, const char *p, size_t n, uint32_t column,
                             struct rs_scn_command *c)
{
    const char *dots = find_dots(p, n);
    size_t lo_size = dots != NULL ? (size_t)(dots - p) : n;
    char q[QUOTE_SIZE];
    enum rs_err rc = parse_duration(k, p, lo_size, column, &c->for_lo_ns);
    c->for_hi_ns = c->for_lo_ns;
    if (rc == RS_OK && dots != NULL) {
        size_t offset = lo_size + 2;
        rc = parse_duration(k, p + offset, n - offset, column + (uint32_t)offset, &c->for_hi_ns);
    }
    if (rc != RS_OK) {
        return rc;
    }
    if (c->for_lo_ns < (uint64_t)FAULT_FOR_MIN_NS || c->for_hi_ns > RS_SCN_TIME_MAX_NS) {
        return fail(k, column, "for=%s is out of range (1ms..1000000s)", quote(q, p, n));
    }
    if (c->for_lo_ns > c->for_hi_ns) {
        return fail(k, column, "the lower bound of %s is above the upper bound", quote(q, p, n));
    }
    return RS_OK;
}

/* rate=SIZE/s */
static enum rs_err parse_bandwidth(const struct sink *k, const char *p, size_t n,
                                   uint32_t column, struct rs_scn_command *c)
{
    char q[QUOTE_SIZE];
    if (n < 3 || p[n - 2] != '/' || p[n - 1] != 's') {
        return fail(k, column, "expected a bandwidth such as 64KiB/s, got %s", quote(q, p, n));
    }
    uint64_t bytes = 0;
    enum rs_err rc = parse_size(k, p, n - 2, column, &bytes);
    if (rc == RS_OK && (bytes < FAULT_RATE_MIN || bytes > (uint64_t)FAULT_RATE_MAX)) {
        return fail(k, column, "bandwidth %s is out of range (64/s..1024GiB/s)", quote(q, p, n));
    }
    c->amount_lo = c->amount_hi = (int64_t)bytes;
    return rc;
}

/* A percentage of operations, 0%..100%. */
static enum rs_err parse_error_rate(const struct sink *k, const char *what, const char *p,
                                    size_t n, uint32_t column, uint32_t *ppm)
{
    uint64_t value = 0;
    enum rs_err rc = parse_percent(k, p, n, column, &value);
    if (rc == RS_OK && value > RS_SCN_PPM_MAX) {
        char q[QUOTE_SIZE];
        return fail(k, column, "%s %s is above 100%%", what, quote(q, p, n));
    }
    *ppm = (uint32_t)value;
    return rc;
}

/* A split key: 1..RS_SCN_KEY_SIZE_MAX printable bytes (a line's words have no spaces). */
static enum rs_err parse_split_key(const struct sink *k, const char *p, size_t n,
                                   uint32_t column, struct rs_scn_command *c)
{
    if (n > RS_SCN_KEY_SIZE_MAX) {
        return fail(k, column, "key is longer than %u bytes", RS_SCN_KEY_SIZE_MAX);
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x21 || p[i] > 0x7e) {
            return fail(k, column + (uint32_t)i, "key bytes must be printable ASCII");
        }
    }
    memcpy(c->key, p, n);
    c->key_size = (uint32_t)n;
    c->key_column = column;
    return RS_OK;
}

/* One key=value option (or the flag `dead`) whose key is option_words[index]. */
static enum rs_err read_option_value(struct reader *r, int index, const char *p, size_t n,
                                     uint32_t column, struct rs_scn_command *c)
{
    const struct sink *k = &r->sink;
    uint64_t u = 0;
    enum rs_err rc = RS_OK;
    c->amount_column = (1u << index) & (OPT_NODES | OPT_FACTOR | OPT_BITS | OPT_PPM | OPT_BY |
                                        OPT_RATE | OPT_FREE)
                           ? column
                           : c->amount_column;
    switch (1u << index) {
        case OPT_FOR: return parse_for(k, p, n, column, c);
        case OPT_NODES:
            return parse_int_span(k, "nodes", p, n, column, 1, RS_SCN_NODE_COUNT_MAX,
                                  &c->amount_lo, &c->amount_hi);
        case OPT_INTERVAL:
            rc = parse_duration(k, p, n, column, &c->interval_ns);
            if (rc == RS_OK && (c->interval_ns < (uint64_t)FAULT_FOR_MIN_NS ||
                                c->interval_ns > FAULT_INTERVAL_MAX)) {
                char q[QUOTE_SIZE];
                return fail(k, column, "interval %s is out of range (1ms..1000s)", quote(q, p, n));
            }
            return rc;
        case OPT_WRITE: return parse_error_rate(k, "write", p, n, column, &c->write_ppm);
        case OPT_SYNC: return parse_error_rate(k, "sync", p, n, column, &c->sync_ppm);
        case OPT_NEXT: {
            int64_t lo = 0;
            int64_t hi = 0;
            rc = parse_int_span(k, "next", p, n, column, 1, FAULT_NEXT_MAX, &lo, &hi);
            if (rc == RS_OK && lo != hi) {
                return fail(k, column, "next cannot be drawn from a range");
            }
            c->fail_next = (uint32_t)lo;
            return rc;
        }
        case OPT_FREE:
            rc = parse_size(k, p, n, column, &u);
            if (rc == RS_OK && u > (uint64_t)FAULT_FREE_MAX) {
                char q[QUOTE_SIZE];
                return fail(k, column, "free %s is out of range (0..1024GiB)", quote(q, p, n));
            }
            c->amount_lo = c->amount_hi = (int64_t)u;
            return rc;
        case OPT_FACTOR:
            return parse_int_span(k, "factor", p, n, column, 1, FAULT_FACTOR_MAX, &c->amount_lo,
                                  &c->amount_hi);
        case OPT_BITS:
            return parse_int_span(k, "bits", p, n, column, 1, FAULT_BITS_MAX, &c->amount_lo,
                                  &c->amount_hi);
        case OPT_SCOPE:
            if (bytes_are(p, n, "unsynced") || bytes_are(p, n, "any")) {
                c->scope = bytes_are(p, n, "any") ? RS_SCN_SCOPE_ANY : RS_SCN_SCOPE_UNSYNCED;
                return RS_OK;
            } else {
                char q[QUOTE_SIZE];
                return fail(k, column, "scope must be unsynced or any, got %s", quote(q, p, n));
            }
        case OPT_PPM:
            return parse_int_span(k, "drift", p, n, column, -FAULT_DRIFT_MAX, FAULT_DRIFT_MAX,
                                  &c->amount_lo, &c->amount_hi);
        case OPT_BY: return parse_jump_span(k, p, n, column, &c->amount_lo, &c->amount_hi);
        case OPT_RATE: return parse_bandwidth(k, p, n, column, c);
        case OPT_FROM: return read_target(r, p, n, column, &c->source);
        case OPT_TO: return read_target(r, p, n, column, &c->target);
        case OPT_REGION: {
            int64_t lo = 0;
            int64_t hi = 0;
            rc = parse_int_span(k, "region", p, n, column, 1, RS_SCN_REGION_ID_MAX, &lo, &hi);
            if (rc == RS_OK && lo != hi) {
                return fail(k, column, "region cannot be drawn from a range");
            }
            c->region_id = (uint64_t)lo;
            return rc;
        }
        case OPT_KEY: return parse_split_key(k, p, n, column, c);
        default: RS_UNREACHABLE();
    }
}

/* The options from word `first` on; `allowed` and `required` are OPT_ bits. */
static enum rs_err read_options(struct reader *r, uint32_t first, const char *verb,
                                uint32_t allowed, uint32_t required, const char *usage,
                                struct rs_scn_command *c, uint32_t *given)
{
    char q[QUOTE_SIZE];
    *given = 0;
    for (uint32_t i = first; i < r->word_count; i++) {
        const struct word *w = &r->words[i];
        const char *equals = memchr(w->text, '=', w->size);
        size_t key_size = equals != NULL ? (size_t)(equals - w->text) : w->size;
        int index = lookup(option_words, COUNT_OF(option_words), w->text, key_size);
        bool flag = index >= 0 && (1u << index) == OPT_DEAD;
        if (index < 0 || (allowed & (1u << index)) == 0 || flag != (equals == NULL)) {
            if (allowed == 0) {
                return fail(&r->sink, w->column, "unexpected %s at the end of the line",
                            word_quote(q, w));
            }
            return fail(&r->sink, w->column, "%s does not take %s: %s", verb, word_quote(q, w),
                        usage);
        }
        if (*given & (1u << index)) {
            return fail(&r->sink, w->column, "%s%s is given twice", option_words[index],
                        flag ? "" : "=");
        }
        *given |= 1u << index;
        if (flag) {
            c->dead = true;
            continue;
        }
        if (key_size + 1 == w->size) {
            return fail(&r->sink, w->column + w->size, "missing value for %s=",
                        option_words[index]);
        }
        enum rs_err rc = read_option_value(r, index, equals + 1, w->size - key_size - 1,
                                           w->column + (uint32_t)key_size + 1, c);
        if (rc != RS_OK) {
            return rc;
        }
    }
    if (required != 0 && (*given & required) == 0) {
        return fail(&r->sink, r->end_column, "%s needs more: %s", verb, usage);
    }
    return RS_OK;
}

/* A target word: not an option (a word with '='). */
static bool is_target_word(const struct word *w)
{
    return memchr(w->text, '=', w->size) == NULL && !word_is(w, "dead");
}

static enum rs_err read_fault(struct reader *r, uint32_t first, const struct fault_verb *v,
                              struct rs_scn_command *c)
{
    c->verb = v->verb;
    uint32_t next = first;
    uint32_t options = v->options;
    bool has_target = next < r->word_count && is_target_word(&r->words[next]);
    bool read_it = v->target == TARGET_REQUIRED ||
                   ((v->target == TARGET_OR_LINK || v->target == TARGET_OPTIONAL) && has_target);
    if (read_it) {
        if (!has_target) {
            return fail(&r->sink, next < r->word_count ? r->words[next].column : r->end_column,
                        "%s needs a target: leader, follower, random or node(N)", v->word);
        }
        const struct word *t = &r->words[next++];
        enum rs_err rc = read_target(r, t->text, t->size, t->column, &c->target);
        if (rc != RS_OK) {
            return rc;
        }
    } else if (v->target == TARGET_OR_LINK) {
        options |= OPT_FROM | OPT_TO;
    }
    uint32_t given = 0;
    enum rs_err rc = read_options(r, next, v->word, options, v->required, v->usage, c, &given);
    if (rc != RS_OK) {
        return rc;
    }
    if (v->target == TARGET_OR_LINK && !has_target) {
        if ((given & (OPT_FROM | OPT_TO)) != (OPT_FROM | OPT_TO)) {
            return fail(&r->sink, r->end_column, "%s needs a target: %s", v->word, v->usage);
        }
        bool same_node = c->source.kind == RS_SCN_TARGET_NODE &&
                         c->target.kind == RS_SCN_TARGET_NODE && c->source.node == c->target.node;
        bool both_leader = c->source.kind == RS_SCN_TARGET_LEADER &&
                           c->target.kind == RS_SCN_TARGET_LEADER;
        if (same_node || both_leader) {
            return fail(&r->sink, r->words[first].column, "%s needs two different nodes", v->word);
        }
    }
    if (v->verb == RS_SCN_DISK_CORRUPT && (given & OPT_BITS) == 0) {
        c->amount_lo = c->amount_hi = 1;
    }
    if (v->verb == RS_SCN_SWIZZLE_CLOG && (given & OPT_INTERVAL) == 0) {
        c->interval_ns = RS_NS_PER_S;
    }
    return RS_OK;
}

/*
 * The message types a filter can name, as rs_msg_type_name spells them. Kept here (the header
 * gives the numbers) so that the reader links without the engine; test_scenario checks that
 * the two agree.
 */
static const struct {
    unsigned type;
    const char *name;
} msg_types[] = {
    {RS_MSG_VOTE_REQUEST, "vote_request"},
    {RS_MSG_VOTE_RESPONSE, "vote_response"},
    {RS_MSG_APPEND_REQUEST, "append_request"},
    {RS_MSG_APPEND_RESPONSE, "append_response"},
    {RS_MSG_TIMEOUT_NOW, "timeout_now"},
    {RS_MSG_SNAPSHOT_REQUEST, "snapshot_request"},
    {RS_MSG_SNAPSHOT_RESPONSE, "snapshot_response"},
    {RS_MSG_READ_INDEX_REQUEST, "read_index_request"},
    {RS_MSG_READ_INDEX_RESPONSE, "read_index_response"},
    {RS_MSG_HIBERNATE, "hibernate"},
    {RS_MSG_WAKE_UP, "wake_up"},
    {RS_MSG_PEER_REMOVED, "peer_removed"},
    {RS_MSG_KV_REQUEST, "kv_request"},
    {RS_MSG_KV_RESPONSE, "kv_response"},
};
_Static_assert(RS_MSG_TYPE_MAX <= 64, "a filter mask has a bit per message type");

uint64_t rs_scn_msg_type_bit(const char *name, size_t size)
{
    for (size_t i = 0; i < COUNT_OF(msg_types); i++) {
        if (bytes_are(name, size, msg_types[i].name)) {
            return 1ull << msg_types[i].type;
        }
    }
    return 0;
}

/* filter drop TYPE[,TYPE]... [from=TARGET] [to=TARGET] [for=DURATION] */
static enum rs_err read_filter(struct reader *r, uint32_t first, struct rs_scn_command *c)
{
    static const char usage[] =
        "filter drop TYPE[,TYPE]... [from=TARGET] [to=TARGET] [for=DURATION]";
    c->verb = RS_SCN_FILTER;
    enum rs_err rc = want_keyword(r, first, "drop", usage);
    if (rc == RS_OK && first + 1 >= r->word_count) {
        rc = fail(&r->sink, r->end_column, "filter drop needs message types, e.g. append_request");
    }
    if (rc != RS_OK) {
        return rc;
    }
    const struct word *w = &r->words[first + 1];
    size_t start = 0;
    /* Each type consumes at least one byte (its comma), so size + 1 rounds are enough. */
    for (size_t round = 0; round <= w->size; round++) {
        const char *comma = memchr(w->text + start, ',', w->size - start);
        size_t end = comma != NULL ? (size_t)(comma - w->text) : w->size;
        uint64_t bit = rs_scn_msg_type_bit(w->text + start, end - start);
        if (bit == 0) {
            char q[QUOTE_SIZE];
            return fail(&r->sink, w->column + (uint32_t)start,
                        "unknown message type %s: expected vote_request, vote_response, "
                        "append_request, append_response, kv_request, kv_response, ...",
                        quote(q, w->text + start, end - start));
        }
        c->msg_types |= bit;
        if (comma == NULL) {
            break;
        }
        start = end + 1;
    }
    uint32_t given = 0;
    return read_options(r, first + 2, "filter drop", OPT_FROM | OPT_TO | OPT_FOR, 0, usage, c,
                        &given);
}

/* groups=1,2/3,4,5: every node at most once; unlisted nodes join the first group. */
static enum rs_err read_groups(struct reader *r, const struct word *w, struct rs_scn_command *c)
{
    const char *p = w->text + 7;
    size_t n = w->size - 7;
    uint32_t column = w->column + 7;
    uint32_t group = 1;
    c->groups_column = column;
    for (size_t i = 0; i < n; i++) {
        char ch = p[i];
        bool digit_ok = ch >= '1' && ch <= '0' + (int)RS_SCN_NODE_COUNT_MAX;
        bool separator_ok = i > 0 && i + 1 < n && (p[i - 1] >= '1' && p[i - 1] <= '9');
        if (digit_ok && (i == 0 || p[i - 1] == ',' || p[i - 1] == '/')) {
            uint32_t node = (uint32_t)(ch - '0');
            if (c->groups[node] != 0) {
                return fail(&r->sink, column + (uint32_t)i, "node %u is in two groups", node);
            }
            c->groups[node] = (uint8_t)group;
        } else if ((ch == ',' || ch == '/') && separator_ok) {
            group += ch == '/';
        } else {
            char q[QUOTE_SIZE];
            return fail(&r->sink, column + (uint32_t)i,
                        "expected groups of node numbers such as groups=1,2/3,4,5, got %s",
                        quote(q, p, n));
        }
    }
    if (n == 0 || group < 2) {
        return fail(&r->sink, column, "groups needs at least two groups separated by '/'");
    }
    return RS_OK;
}
/* ---- change-peers voters=N,N... [learners=N,N...] ---- */

#define CHANGE_USAGE "change-peers voters=N,N... [learners=N,N...]"
/* The engine's bound on learners (RS_CONF_LEARNERS_MAX, which test_scenario compares), kept
 * here so that the reader links without the engine. */
#define CHANGE_LEARNERS_MAX 7u

/* "1,4,5" after key=: node numbers, each once; where each was written goes to columns[]. */
static enum rs_err read_node_list(struct reader *r, const char *key, const char *p, size_t n,
                                  uint32_t column, uint32_t *ids, uint32_t *columns)
{
    char q[QUOTE_SIZE];
    size_t start = 0;
    /* Each node consumes at least one byte and its comma, so n + 1 rounds are enough. */
    for (size_t round = 0; round <= n; round++) {
        const char *comma = memchr(p + start, ',', n - start);
        size_t end = comma != NULL ? (size_t)(comma - p) : n;
        uint32_t at = column + (uint32_t)start;
        int64_t node = 0;
        if (end == start) {
            return fail(&r->sink, at, "expected node numbers such as %s1,4,5, got %s", key,
                        quote(q, p, n));
        }
        enum rs_err rc = parse_int(&r->sink, p + start, end - start, at, &node);
        if (rc != RS_OK) {
            return rc;
        }
        if (node < 1 || node > (int64_t)RS_SCN_NODE_COUNT_MAX) {
            return fail(&r->sink, at, "node %s of %s is out of range (1..%u)",
                        quote(q, p + start, end - start), key, RS_SCN_NODE_COUNT_MAX);
        }
        if ((*ids >> node) & 1u) {
            return fail(&r->sink, at, "node %" PRId64 " is listed twice in %s", node, key);
        }
        *ids |= 1u << node;
        columns[node] = at;
        if (comma == NULL) {
            return RS_OK;
        }
        start = end + 1;
    }
    return fail(&r->sink, column, "too many node numbers in %s", key);
}

/* The lowest node id in a bit set (which must not be empty). */
static uint32_t lowest_node(uint32_t ids)
{
    RS_ASSERT(ids != 0);
    uint32_t id = 0;
    while (((ids >> id) & 1u) == 0) {
        id++;
    }
    return id;
}

static enum rs_err read_change_peers(struct reader *r, uint32_t first, struct rs_scn_command *c)
{
    char q[QUOTE_SIZE];
    uint32_t columns[2][RS_SCN_NODE_COUNT_MAX + 1] = {{0}};
    c->verb = RS_SCN_CHANGE_PEERS;
    for (uint32_t i = first; i < r->word_count; i++) {
        const struct word *w = &r->words[i];
        bool voters = w->size >= 7 && memcmp(w->text, "voters=", 7) == 0;
        bool learners = w->size >= 9 && memcmp(w->text, "learners=", 9) == 0;
        if (!voters && !learners) {
            return fail(&r->sink, w->column, "change-peers does not take %s: " CHANGE_USAGE,
                        word_quote(q, w));
        }
        const char *key = voters ? "voters=" : "learners=";
        size_t skip = voters ? 7 : 9;
        uint32_t *column = voters ? &c->conf_voters_column : &c->conf_learners_column;
        if (*column != 0) {
            return fail(&r->sink, w->column, "%s is given twice", key);
        }
        *column = w->column + (uint32_t)skip;
        if (w->size == skip) {
            return fail(&r->sink, *column, "missing node numbers after %s", key);
        }
        enum rs_err rc = read_node_list(r, key, w->text + skip, w->size - skip, *column,
                                        voters ? &c->conf_voters : &c->conf_learners,
                                        columns[voters ? 0 : 1]);
        if (rc != RS_OK) {
            return rc;
        }
    }
    if (c->conf_voters == 0) {
        return fail(&r->sink, r->end_column, "change-peers needs voters=: " CHANGE_USAGE);
    }
    uint32_t both = c->conf_voters & c->conf_learners;
    if (both != 0) {
        uint32_t node = lowest_node(both);
        return fail(&r->sink, columns[0][node] > columns[1][node] ? columns[0][node]
                                                                 : columns[1][node],
                    "node %" PRIu32 " is both a voter and a learner", node);
    }
    uint32_t learner_count = 0;
    for (uint32_t id = 1; id <= RS_SCN_NODE_COUNT_MAX; id++) {
        learner_count += (c->conf_learners >> id) & 1u;
    }
    if (learner_count > CHANGE_LEARNERS_MAX) {
        return fail(&r->sink, c->conf_learners_column,
                    "change-peers takes at most %u learners", CHANGE_LEARNERS_MAX);
    }
    return RS_OK;
}

static enum rs_err read_command(struct reader *r, uint32_t first, struct rs_scn_command *c)
{
    char q[QUOTE_SIZE];
    char hint[QUOTE_SIZE + 24];
    if (first >= r->word_count) {
        return fail(&r->sink, r->end_column, "missing command: " COMMAND_LIST);
    }
    const struct word *w = &r->words[first];
    const struct word *arg = first + 1 < r->word_count ? &r->words[first + 1] : NULL;
    int verb = lookup(verb_words, COUNT_OF(verb_words), w->text, w->size);
    enum rs_err rc = RS_OK;
    switch (verb) {
        case 0:
            return read_partition(r, first + 1, c);
        case 1:
            c->verb = RS_SCN_HEAL;
            return want_words(r, first + 1, "");
        case 2:
        case 3:
            c->verb = verb == 2 ? RS_SCN_CRASH : RS_SCN_RESTART;
            rc = want_words(r, first + 2,
                            verb == 2 ? "crash needs a target: leader, follower, "
                                        "random or node(N)"
                                      : "restart needs a target: leader, follower, "
                                        "random or node(N)");
            return rc != RS_OK ? rc : read_target(r, arg->text, arg->size, arg->column, &c->target);
        case 4:
            c->verb = RS_SCN_CRASH_RESTART;
            rc = want_words(r, first + 3, "crash-restart needs a target and down=DURATION");
            rc = rc != RS_OK ? rc : read_target(r, arg->text, arg->size, arg->column, &c->target);
            return rc != RS_OK ? rc : read_down(r, &r->words[first + 2], c);
        case 5:
            c->verb = RS_SCN_SET;
            rc = want_words(r, first + 2, "set needs section.key=value");
            return rc != RS_OK ? rc : read_set(r, arg, c);
        case -1:
            return fail(&r->sink, w->column, "unknown command %s%s: expected " COMMAND_LIST,
                        word_quote(q, w),
                        hint_among(verb_words, COUNT_OF(verb_words), w->text, w->size, hint,
                                   sizeof hint));
        default:
            break;
    }
    if (word_is(w, "filter")) {
        return read_filter(r, first + 1, c);
    }
    if (word_is(w, "change-peers")) {
        return read_change_peers(r, first + 1, c);
    }
    for (size_t i = 0; i < COUNT_OF(fault_verbs); i++) {
        if (word_is(w, fault_verbs[i].word)) {
            return read_fault(r, first + 1, &fault_verbs[i], c);
        }
    }
    RS_UNREACHABLE();
}

static enum rs_err push_command(struct reader *r, const struct rs_scn_command *c)
{
    struct rs_scenario *s = r->s;
    RS_ASSERT(s->command_count < RS_SCN_COMMAND_COUNT_MAX);
    if (s->command_count == s->command_cap) {
        uint32_t cap = s->command_cap > 0 ? 2 * s->command_cap : 16;
        cap = cap < RS_SCN_COMMAND_COUNT_MAX ? cap : RS_SCN_COMMAND_COUNT_MAX;
        struct rs_scn_command *grown = realloc(s->commands, cap * sizeof *grown);
        if (grown == NULL) {
            fail(&r->sink, 1, "out of memory");
            return RS_ENOMEM;
        }
        s->commands = grown;
        s->command_cap = cap;
    }
    s->commands[s->command_count++] = *c;
    return RS_OK;
}

static enum rs_err room_for_command(struct reader *r)
{
    if (r->s->command_count < RS_SCN_COMMAND_COUNT_MAX) {
        return RS_OK;
    }
    return fail(&r->sink, r->words[0].column, "more than %u timeline commands",
                RS_SCN_COMMAND_COUNT_MAX);
}

static enum rs_err read_at(struct reader *r)
{
    struct rs_scn_command c;
    memset(&c, 0, sizeof c);
    enum rs_err rc = room_for_command(r);
    if (rc == RS_OK && r->word_count < 2) {
        rc = fail(&r->sink, r->end_column, "at needs a time and a command");
    }
    rc = rc != RS_OK ? rc : read_time(r, 1, "time", &c.at_ns);
    if (rc != RS_OK) {
        return rc;
    }
    if (r->last_at_line != 0 && c.at_ns < r->last_at_ns) {
        char q[QUOTE_SIZE];
        char previous[32];
        rs_scn_duration_format(r->last_at_ns, previous, sizeof previous);
        return fail(&r->sink, r->words[1].column,
                    "at %s comes before the time of line %" PRIu32
                    " (%s): at lines must be in time order",
                    word_quote(q, &r->words[1]), r->last_at_line, previous);
    }
    c.line = r->sink.line;
    c.time_column = r->words[1].column;
    rc = read_command(r, 2, &c);
    rc = rc != RS_OK ? rc : push_command(r, &c);
    r->last_at_ns = c.at_ns;
    r->last_at_line = c.line;
    return rc;
}

/* `every PERIOD [from TIME] [until TIME]`: the options before the command, each once. */
static enum rs_err read_every_options(struct reader *r, uint32_t *next, struct rs_scn_command *c)
{
    uint32_t i = 2;
    bool has_from = false;
    bool has_until = false;
    while (i < r->word_count && (word_is(&r->words[i], "from") || word_is(&r->words[i], "until"))) {
        bool from = word_is(&r->words[i], "from");
        enum rs_err rc = RS_OK;
        if (from ? has_from : has_until) {
            return fail(&r->sink, r->words[i].column, "%s is given twice", from ? "from" : "until");
        }
        if (i + 1 >= r->word_count) {
            return fail(&r->sink, r->end_column, "%s needs a time", from ? "from" : "until");
        }
        rc = read_time(r, i + 1, from ? "from" : "until", from ? &c->at_ns : &c->until_ns);
        if (rc != RS_OK) {
            return rc;
        }
        c->time_column = from ? r->words[i + 1].column : c->time_column;
        has_from = has_from || from;
        has_until = has_until || !from;
        i += 2;
    }
    if (has_until && c->at_ns >= c->until_ns) {
        char q[QUOTE_SIZE];
        char first[32];
        rs_scn_duration_format(c->at_ns, first, sizeof first);
        return fail(&r->sink, r->words[i - 1].column,
                    "every never fires: until %s is not "
                    "after the first firing at %s",
                    word_quote(q, &r->words[i - 1]), first);
    }
    *next = i;
    return RS_OK;
}

static enum rs_err read_every(struct reader *r)
{
    struct rs_scn_command c;
    memset(&c, 0, sizeof c);
    enum rs_err rc = room_for_command(r);
    if (rc == RS_OK && r->word_count < 2) {
        rc = fail(&r->sink, r->end_column, "every needs a period and a command");
    }
    rc = rc != RS_OK ? rc : read_time(r, 1, "period", &c.period_ns);
    if (rc == RS_OK && c.period_ns == 0) {
        rc = fail(&r->sink, r->words[1].column, "every needs a positive period");
    }
    if (rc != RS_OK) {
        return rc;
    }
    c.repeat = true;
    c.line = r->sink.line;
    c.at_ns = c.period_ns; /* without `from`, the first firing is one period in */
    c.until_ns = RS_SCN_TIME_END;
    c.time_column = r->words[1].column;
    uint32_t next = 2;
    rc = read_every_options(r, &next, &c);
    rc = rc != RS_OK ? rc : read_command(r, next, &c);
    return rc != RS_OK ? rc : push_command(r, &c);
}

static enum rs_err read_run(struct reader *r)
{
    enum rs_err rc = want_words(r, 2, "run needs a duration");
    if (rc == RS_OK && r->run_line != 0) {
        rc = fail(&r->sink, r->words[0].column, "run is already given on line %" PRIu32,
                  r->run_line);
    }
    rc = rc != RS_OK ? rc : read_time(r, 1, "run", &r->s->run_ns);
    if (rc == RS_OK && r->s->run_ns == 0) {
        rc = fail(&r->sink, r->words[1].column, "run needs a positive duration");
    }
    r->run_line = r->sink.line;
    return rc;
}

/* ---- Expectations ---- */

static enum rs_err read_expect_leader(struct reader *r, struct rs_scn_expect *e)
{
    enum rs_err rc = want_keyword(r, 2, "within", "expect leader needs 'within DURATION'");
    if (rc == RS_OK && r->word_count < 4) {
        rc = fail(&r->sink, r->end_column, "within needs a duration");
    }
    rc = rc != RS_OK ? rc : read_time(r, 3, "within", &e->within_ns);
    if (rc != RS_OK || r->word_count == 4) {
        return rc;
    }
    rc = want_keyword(r, 4, "after", "");
    rc = rc != RS_OK ? rc : want_words(r, 6, "after needs a time");
    rc = rc != RS_OK ? rc : read_time(r, 5, "after", &e->after_ns);
    e->has_after = rc == RS_OK;
    return rc;
}

static enum rs_err read_expect_at_least(struct reader *r, struct rs_scn_expect *e)
{
    enum rs_err rc = want_keyword(r, 2, ">=", "needs '>=' and a bound");
    rc = rc != RS_OK ? rc : want_words(r, 4, "'>=' needs a bound");
    if (rc != RS_OK) {
        return rc;
    }
    const struct word *w = &r->words[3];
    uint64_t value = 0;
    char q[QUOTE_SIZE];
    if (e->kind == RS_SCN_EXPECT_AVAILABILITY) {
        rc = parse_percent(&r->sink, w->text, w->size, w->column, &value);
        if (rc == RS_OK && value > RS_SCN_PPM_MAX) {
            return fail(&r->sink, w->column, "availability %s is above 100%%", word_quote(q, w));
        }
        e->availability_min_ppm = (uint32_t)value;
        return rc;
    }
    bool digits = number_size(w->text, w->size) == w->size && memchr(w->text, '.', w->size) == NULL;
    if (!digits || parse_decimal(w->text, w->size, 1, &value) != NUM_OK) {
        return fail(&r->sink, w->column, "expected a count of operations, got %s",
                    word_quote(q, w));
    }
    e->ops_ok_min = value;
    return RS_OK;
}

static enum rs_err push_expect(struct reader *r, const struct rs_scn_expect *e)
{
    struct rs_scenario *s = r->s;
    RS_ASSERT(s->expect_count < RS_SCN_EXPECT_COUNT_MAX);
    if (s->expect_count == s->expect_cap) {
        uint32_t cap = s->expect_cap > 0 ? 2 * s->expect_cap : 8;
        cap = cap < RS_SCN_EXPECT_COUNT_MAX ? cap : RS_SCN_EXPECT_COUNT_MAX;
        struct rs_scn_expect *grown = realloc(s->expects, cap * sizeof *grown);
        if (grown == NULL) {
            fail(&r->sink, 1, "out of memory");
            return RS_ENOMEM;
        }
        s->expects = grown;
        s->expect_cap = cap;
    }
    s->expects[s->expect_count++] = *e;
    return RS_OK;
}

static enum rs_err read_expect(struct reader *r)
{
    char q[QUOTE_SIZE];
    char hint[QUOTE_SIZE + 24];
    if (r->s->expect_count == RS_SCN_EXPECT_COUNT_MAX) {
        return fail(&r->sink, r->words[0].column, "more than %u expectations",
                    RS_SCN_EXPECT_COUNT_MAX);
    }
    if (r->word_count < 2) {
        return fail(&r->sink, r->end_column,
                    "expect needs linearizable, leader, converged, "
                    "ops_ok, availability or balanced");
    }
    const struct word *w = &r->words[1];
    int kind = lookup(expect_words, COUNT_OF(expect_words), w->text, w->size);
    struct rs_scn_expect e;
    memset(&e, 0, sizeof e);
    e.kind = (enum rs_scn_expect_kind)kind;
    e.line = r->sink.line;
    enum rs_err rc = RS_OK;
    if (kind < 0) {
        return fail(
            &r->sink, w->column,
            "unknown expectation %s%s: expected linearizable, "
            "leader, converged, ops_ok, availability or balanced",
            word_quote(q, w),
            hint_among(expect_words, COUNT_OF(expect_words), w->text, w->size, hint, sizeof hint));
    } else if (e.kind == RS_SCN_EXPECT_LINEARIZABLE) {
        rc = want_words(r, 2, "");
    } else if (e.kind == RS_SCN_EXPECT_LEADER_WITHIN) {
        rc = read_expect_leader(r, &e);
    } else if (e.kind == RS_SCN_EXPECT_CONVERGED_WITHIN ||
               e.kind == RS_SCN_EXPECT_BALANCED_WITHIN) {
        rc = want_keyword(r, 2, "within",
                          e.kind == RS_SCN_EXPECT_BALANCED_WITHIN
                              ? "expect balanced needs 'within DURATION'"
                              : "expect converged needs 'within DURATION'");
        rc = rc != RS_OK ? rc : want_words(r, 4, "within needs a duration");
        rc = rc != RS_OK ? rc : read_time(r, 3, "within", &e.within_ns);
    } else {
        rc = read_expect_at_least(r, &e);
    }
    return rc != RS_OK ? rc : push_expect(r, &e);
}

static enum rs_err read_line(struct reader *r)
{
    char q[QUOTE_SIZE];
    char hint[QUOTE_SIZE + 24];
    const struct word *w = &r->words[0];
    if (r->word_count == 0) {
        return RS_OK;
    }
    if (lookup(section_names, COUNT_OF(section_names), w->text, w->size) >= 0) {
        return read_settings(r);
    }
    if (word_is(w, "name")) {
        return read_name(r);
    }
    if (word_is(w, "describe")) {
        return read_describe(r);
    }
    bool timeline =
        word_is(w, "at") || word_is(w, "every") || word_is(w, "run") || word_is(w, "expect");
    if (timeline && r->timeline_line == 0) {
        r->timeline_line = r->sink.line;
    }
    if (word_is(w, "at")) {
        return read_at(r);
    }
    if (word_is(w, "every")) {
        return read_every(r);
    }
    if (word_is(w, "run")) {
        return read_run(r);
    }
    if (word_is(w, "expect")) {
        return read_expect(r);
    }
    return fail(&r->sink, w->column,
                "unknown line %s%s: expected name, describe, a settings "
                "section (cluster, raft, net, disk, clock, workload, check, nemesis), at, every, "
                "run or expect",
                word_quote(q, w),
                hint_among(line_words, COUNT_OF(line_words), w->text, w->size, hint, sizeof hint));
}

static enum rs_err read_text(struct reader *r, const char *text, size_t size)
{
    size_t pos = 0;
    uint32_t line = 0;
    /* Each round consumes at least one byte; the line limit ends long inputs first. */
    while (pos < size) {
        line++;
        r->sink.line = line;
        r->s->line_count = line;
        if (line > RS_SCN_LINE_COUNT_MAX) {
            return fail(&r->sink, 1, "more than %u lines", RS_SCN_LINE_COUNT_MAX);
        }
        const char *newline = memchr(text + pos, '\n', size - pos);
        size_t end = newline != NULL ? (size_t)(newline - text) : size;
        size_t line_size = end - pos;
        if (line_size > 0 && text[end - 1] == '\r') {
            line_size--; /* CRLF files read like LF files */
        }
        if (line_size > RS_SCN_LINE_SIZE_MAX) {
            return fail(&r->sink, RS_SCN_LINE_SIZE_MAX + 1, "line longer than %u bytes",
                        RS_SCN_LINE_SIZE_MAX);
        }
        enum rs_err rc = split_words(r, text + pos, (uint32_t)line_size);
        rc = rc != RS_OK ? rc : read_line(r);
        if (rc != RS_OK) {
            return rc;
        }
        pos = newline != NULL ? end + 1 : size;
    }
    return RS_OK;
}

enum rs_err rs_scenario_load_text(const char *label,
                                  const char *text,
                                  size_t size,
                                  struct rs_scenario *out,
                                  struct rs_scn_error *err)
{
    RS_ASSERT(out != NULL && err != NULL);
    RS_ASSERT(text != NULL || size == 0);
    rs_scenario_init(out);
    memset(err, 0, sizeof *err);
    append(out->source, sizeof out->source, 0, label != NULL ? label : "<text>");
    struct reader reader; /* about 1 KiB: the word table of one line */
    memset(&reader, 0, sizeof reader);
    reader.s = out;
    reader.sink = (struct sink){err, out->source, NULL, 0, 0};
    enum rs_err rc = read_text(&reader, text, size);
    if (rc == RS_OK) {
        rc = rs_scenario_validate(out, err);
    }
    if (rc != RS_OK) {
        char source[sizeof out->source];
        memcpy(source, out->source, sizeof source);
        rs_scenario_free(out);
        memcpy(out->source, source, sizeof source);
    }
    return rc;
}

enum rs_err rs_scenario_load_file(const char *path,
                                  struct rs_scenario *out,
                                  struct rs_scn_error *err)
{
    RS_ASSERT(path != NULL);
    rs_scenario_init(out);
    struct sink k = {err, path, NULL, 0, 0};
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        fail(&k, 0, "cannot open: %s", strerror(errno));
        return RS_EIO;
    }
    /* Read one byte past the limit: a longer file breaks a line or count limit within it. */
    size_t limit = RS_SCN_FILE_SIZE_MAX + 1;
    size_t cap = 0;
    size_t size = 0;
    char *text = NULL;
    bool failed = false;
    while (!failed && size < limit) {
        if (size == cap) {
            cap = cap == 0 ? 16384 : (2 * cap < limit ? 2 * cap : limit);
            char *grown = realloc(text, cap);
            failed = grown == NULL;
            text = grown != NULL ? grown : text;
            continue;
        }
        size_t got = fread(text + size, 1, cap - size, file);
        size += got;
        if (got == 0) {
            break;
        }
    }
    failed = failed || ferror(file);
    fclose(file);
    enum rs_err rc = RS_EIO;
    if (failed) {
        fail(&k, 0, "cannot read the file");
    } else {
        rc = rs_scenario_load_text(path, text, size, out, err);
    }
    free(text);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Writing and comparing                                                                      */

static void out_target(struct out *o, const struct rs_scn_target *t)
{
    switch (t->kind) {
        case RS_SCN_TARGET_LEADER:
        case RS_SCN_TARGET_FOLLOWER:
        case RS_SCN_TARGET_RANDOM:
            out_printf(o, "%s", target_words[t->kind - RS_SCN_TARGET_LEADER]);
            break;
        case RS_SCN_TARGET_NODE:
            out_printf(o, "node(%" PRIu32 ")", t->node);
            break;
        default:
            out_printf(o, "?");
            break;
    }
}

static void out_duration(struct out *o, uint64_t ns)
{
    char text[32];
    rs_scn_duration_format(ns, text, sizeof text);
    out_printf(o, "%s", text);
}

static void out_msg_types(struct out *o, uint64_t types)
{
    const char *separator = " ";
    for (size_t i = 0; i < COUNT_OF(msg_types); i++) {
        if ((types >> msg_types[i].type) & 1) {
            out_printf(o, "%s%s", separator, msg_types[i].name);
            separator = ",";
        }
    }
}

static void out_groups(struct out *o, const uint8_t *groups)
{
    out_printf(o, " groups=");
    uint8_t last = 0;
    for (uint8_t g = 1; g <= RS_SCN_NODE_COUNT_MAX; g++) {
        bool first = true;
        for (uint32_t id = 1; id <= RS_SCN_NODE_COUNT_MAX; id++) {
            if (groups[id] == g) {
                out_printf(o, "%s%" PRIu32, first ? (last != 0 ? "/" : "") : ",", id);
                first = false;
                last = g;
            }
        }
    }
}

/* " voters=1,4,5" (nothing for an empty set): change-peers' lists in node order. */
static void out_node_list(struct out *o, const char *key, uint32_t ids)
{
    const char *separator = key;
    for (uint32_t id = 1; id <= RS_SCN_NODE_COUNT_MAX; id++) {
        if ((ids >> id) & 1u) {
            out_printf(o, "%s%" PRIu32, separator, id);
            separator = ",";
        }
    }
}

/* " key=A" or " key=A..B" for a signed amount in a type's syntax. */
static void out_amount(struct out *o, const char *key, enum rs_scn_type type, int64_t lo,
                       int64_t hi, const char *suffix)
{
    out_printf(o, " %s=", key);
    for (int i = 0; i < (lo != hi ? 2 : 1); i++) {
        int64_t v = i == 0 ? lo : hi;
        if (i == 1) {
            out_printf(o, "..");
        }
        if (v < 0 && type == RS_SCN_DURATION) {
            out_printf(o, "-");
            out_scalar(o, type, -v);
        } else {
            out_scalar(o, type, v);
        }
        out_printf(o, "%s", suffix);
    }
}

static void out_fault_options(struct out *o, const struct rs_scn_command *c)
{
    int64_t lo = c->amount_lo;
    int64_t hi = c->amount_hi;
    switch (c->verb) {
        case RS_SCN_SWIZZLE_CLOG:
            if (lo > 0) {
                out_amount(o, "nodes", RS_SCN_INT, lo, hi, "");
            }
            out_printf(o, " interval=");
            out_duration(o, c->interval_ns);
            break;
        case RS_SCN_BANDWIDTH: out_amount(o, "rate", RS_SCN_SIZE, lo, hi, "/s"); break;
        case RS_SCN_DISK_FAIL:
            /* write=0% alone is a valid (idle) fault: keep one option so it reads back */
            if (c->write_ppm > 0 || (c->sync_ppm == 0 && c->fail_next == 0 && !c->dead)) {
                out_amount(o, "write", RS_SCN_PERCENT, c->write_ppm, c->write_ppm, "");
            }
            if (c->sync_ppm > 0) {
                out_amount(o, "sync", RS_SCN_PERCENT, c->sync_ppm, c->sync_ppm, "");
            }
            if (c->fail_next > 0) {
                out_amount(o, "next", RS_SCN_INT, c->fail_next, c->fail_next, "");
            }
            if (c->dead) {
                out_printf(o, " dead");
            }
            break;
        case RS_SCN_DISK_FULL:
            if (hi > 0) {
                out_amount(o, "free", RS_SCN_SIZE, lo, hi, "");
            }
            break;
        case RS_SCN_DISK_SLOW: out_amount(o, "factor", RS_SCN_INT, lo, hi, ""); break;
        case RS_SCN_DISK_CORRUPT:
            out_amount(o, "bits", RS_SCN_INT, lo, hi, "");
            if (c->scope == RS_SCN_SCOPE_ANY) {
                out_printf(o, " scope=any");
            }
            break;
        case RS_SCN_DRIFT: out_amount(o, "ppm", RS_SCN_INT, lo, hi, ""); break;
        case RS_SCN_WALL_JUMP: out_amount(o, "by", RS_SCN_DURATION, lo, hi, ""); break;
        case RS_SCN_SPLIT:
            if (c->region_id > 0) {
                out_printf(o, " region=%" PRIu64, c->region_id);
            }
            if (c->key_size > 0) {
                out_printf(o, " key=%.*s", (int)c->key_size, c->key);
            }
            break;
        default: break;
    }
    if (c->for_lo_ns > 0) {
        out_amount(o, "for", RS_SCN_DURATION, (int64_t)c->for_lo_ns, (int64_t)c->for_hi_ns, "");
    }
}

size_t rs_scn_command_format(const struct rs_scn_command *c, char *buf, size_t size)
{
    struct out o = {buf, size, 0};
    out_printf(&o, "%s ", c->repeat ? "every" : "at");
    out_duration(&o, c->repeat ? c->period_ns : c->at_ns);
    if (c->repeat && c->at_ns != c->period_ns) {
        out_printf(&o, " from ");
        out_duration(&o, c->at_ns);
    }
    if (c->repeat && c->until_ns != RS_SCN_TIME_END) {
        out_printf(&o, " until ");
        out_duration(&o, c->until_ns);
    }
    /* partition groups is written by its option: "partition groups=1,2/3" */
    out_printf(&o, " %s",
               c->verb == RS_SCN_PARTITION_GROUPS ? "partition" : rs_scn_verb_name(c->verb));
    if (c->verb == RS_SCN_FILTER) {
        out_msg_types(&o, c->msg_types);
    }
    if (c->verb == RS_SCN_PARTITION_GROUPS) {
        out_groups(&o, c->groups);
    } else if (c->source.kind != RS_SCN_TARGET_NONE ||
               (c->verb == RS_SCN_FILTER && c->target.kind != RS_SCN_TARGET_NONE)) {
        if (c->source.kind != RS_SCN_TARGET_NONE) {
            out_printf(&o, " from=");
            out_target(&o, &c->source);
        }
        if (c->target.kind != RS_SCN_TARGET_NONE) {
            out_printf(&o, " to=");
            out_target(&o, &c->target);
        }
    } else if (c->verb == RS_SCN_SET) {
        out_printf(&o, " %s=", rs_scn_schema[c->setting].section_key);
        out_value(&o, c->setting, &c->value);
    } else if (c->target.kind != RS_SCN_TARGET_NONE) {
        out_printf(&o, " ");
        out_target(&o, &c->target);
    }
    if (c->verb == RS_SCN_CRASH_RESTART) {
        out_printf(&o, " down=");
        out_duration(&o, c->down_lo_ns);
        if (c->down_hi_ns != c->down_lo_ns) {
            out_printf(&o, "..");
            out_duration(&o, c->down_hi_ns);
        }
    }
    if (c->verb == RS_SCN_CHANGE_PEERS) {
        out_node_list(&o, " voters=", c->conf_voters);
        out_node_list(&o, " learners=", c->conf_learners);
    }
    out_fault_options(&o, c);
    return o.len;
}

size_t rs_scn_expect_format(const struct rs_scn_expect *e, char *buf, size_t size)
{
    struct out o = {buf, size, 0};
    switch (e->kind) {
        case RS_SCN_EXPECT_LINEARIZABLE:
            out_printf(&o, "expect linearizable");
            break;
        case RS_SCN_EXPECT_LEADER_WITHIN:
        case RS_SCN_EXPECT_CONVERGED_WITHIN:
            out_printf(&o, "expect %s within ",
                       e->kind == RS_SCN_EXPECT_LEADER_WITHIN ? "leader" : "converged");
            out_duration(&o, e->within_ns);
            if (e->has_after) {
                out_printf(&o, " after ");
                out_duration(&o, e->after_ns);
            }
            break;
        case RS_SCN_EXPECT_OPS_OK:
            out_printf(&o, "expect ops_ok >= %" PRIu64, e->ops_ok_min);
            break;
        case RS_SCN_EXPECT_AVAILABILITY:
            out_printf(&o, "expect availability >= ");
            out_scalar(&o, RS_SCN_PERCENT, e->availability_min_ppm);
            break;
        case RS_SCN_EXPECT_BALANCED_WITHIN:
            out_printf(&o, "expect balanced within ");
            out_duration(&o, e->within_ns);
            break;
    }
    return o.len;
}

/* One or more "section key=value ..." lines with the settings that differ from the defaults,
 * wrapped so that lines stay readable (and far below the line limit). */
static void write_section(const struct rs_scenario *s,
                          const struct rs_scenario *defaults,
                          const char *section,
                          FILE *file)
{
    enum { WRAP_COLUMNS = 100 };
    char line[RS_SCN_LINE_SIZE_MAX + 1];
    struct out o = {line, sizeof line, 0};
    size_t header = strlen(section);
    out_printf(&o, "%s", section);
    for (size_t i = 0; i < RS_SCN_SETTING_COUNT; i++) {
        const struct rs_scn_setting *row = &rs_scn_schema[i];
        if (strcmp(row->section, section) != 0 ||
            value_same(&s->settings[i], &defaults->settings[i])) {
            continue;
        }
        char word[256];
        struct out w = {word, sizeof word, 0};
        out_printf(&w, "%s=", row->key);
        out_value(&w, (enum rs_scn_setting_id)i, &s->settings[i]);
        if (o.len > header && o.len + 1 + w.len > WRAP_COLUMNS) {
            fprintf(file, "%s\n", line);
            o.len = 0;
            out_printf(&o, "%s", section);
        }
        out_printf(&o, " %s", word);
    }
    if (o.len > header) {
        fprintf(file, "%s\n", line);
    }
}

/* A single space between two words: the reader joins describe lines with exactly that. */
static bool lone_space(const char *text, size_t i, size_t size)
{
    bool blank_before = i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t';
    bool blank_after = i + 1 >= size || text[i + 1] == ' ' || text[i + 1] == '\t';
    return text[i] == ' ' && !blank_before && !blank_after;
}

/*
 * describe lines of about 90 columns: each breaks at a lone space (other runs of blanks would
 * not read back the same), the last one that fits or else the first after. The reader joined
 * its lines at lone spaces, so a line never gets more words than a line it read.
 */
static void write_describe(const char *text, FILE *file)
{
    enum { WRAP_COLUMNS = 90 };
    size_t size = strlen(text);
    size_t start = 0;
    while (start < size) {
        size_t cut = 0;
        for (size_t i = start; size - start > WRAP_COLUMNS && i < size; i++) {
            if (lone_space(text, i, size) && (i - start <= WRAP_COLUMNS || cut == 0)) {
                cut = i;
            }
            if (i - start > WRAP_COLUMNS && cut != 0) {
                break;
            }
        }
        size_t end = cut != 0 ? cut : size;
        fprintf(file, "describe %.*s\n", (int)(end - start), text + start);
        start = cut != 0 ? cut + 1 : size;
    }
}

void rs_scenario_write(const struct rs_scenario *s, FILE *file)
{
    RS_ASSERT(s != NULL && file != NULL);
    struct rs_scenario defaults;
    rs_scenario_init(&defaults);
    char line[RS_SCN_LINE_SIZE_MAX + 1];
    if (s->name[0] != '\0') {
        fprintf(file, "name %s\n", s->name);
    }
    write_describe(s->describe, file);
    for (size_t i = 0; i < COUNT_OF(section_names); i++) {
        write_section(s, &defaults, section_names[i], file);
    }
    for (uint32_t i = 0; i < s->command_count; i++) {
        rs_scn_command_format(&s->commands[i], line, sizeof line);
        fprintf(file, "%s\n", line);
    }
    if (s->run_ns > 0) {
        rs_scn_duration_format(s->run_ns, line, sizeof line);
        fprintf(file, "run %s\n", line);
    }
    for (uint32_t i = 0; i < s->expect_count; i++) {
        rs_scn_expect_format(&s->expects[i], line, sizeof line);
        fprintf(file, "%s\n", line);
    }
}

static bool target_same(const struct rs_scn_target *a, const struct rs_scn_target *b)
{
    return a->kind == b->kind && a->node == b->node;
}

static bool command_same(const struct rs_scn_command *a, const struct rs_scn_command *b)
{
    bool same = a->repeat == b->repeat && a->at_ns == b->at_ns && a->period_ns == b->period_ns &&
                a->until_ns == b->until_ns && a->verb == b->verb &&
                target_same(&a->source, &b->source) && target_same(&a->target, &b->target) &&
                a->down_lo_ns == b->down_lo_ns && a->down_hi_ns == b->down_hi_ns;
    if (same && a->verb == RS_SCN_SET) {
        same = a->setting == b->setting && value_same(&a->value, &b->value);
    }
    same = same && a->for_lo_ns == b->for_lo_ns && a->for_hi_ns == b->for_hi_ns &&
           a->amount_lo == b->amount_lo && a->amount_hi == b->amount_hi &&
           a->interval_ns == b->interval_ns && a->write_ppm == b->write_ppm &&
           a->sync_ppm == b->sync_ppm && a->fail_next == b->fail_next && a->dead == b->dead &&
           a->scope == b->scope && a->msg_types == b->msg_types &&
           memcmp(a->groups, b->groups, sizeof a->groups) == 0 && a->region_id == b->region_id &&
           a->key_size == b->key_size && memcmp(a->key, b->key, a->key_size) == 0 &&
           a->conf_voters == b->conf_voters && a->conf_learners == b->conf_learners;
    return same;
}

static bool expect_same(const struct rs_scn_expect *a, const struct rs_scn_expect *b)
{
    return a->kind == b->kind && a->within_ns == b->within_ns && a->has_after == b->has_after &&
           a->after_ns == b->after_ns && a->ops_ok_min == b->ops_ok_min &&
           a->availability_min_ppm == b->availability_min_ppm;
}

bool rs_scenario_equal(const struct rs_scenario *a, const struct rs_scenario *b)
{
    RS_ASSERT(a != NULL && b != NULL);
    if (strcmp(a->name, b->name) != 0 || strcmp(a->describe, b->describe) != 0 ||
        a->run_ns != b->run_ns || a->command_count != b->command_count ||
        a->expect_count != b->expect_count) {
        return false;
    }
    for (size_t i = 0; i < RS_SCN_SETTING_COUNT; i++) {
        if (!value_same(&a->settings[i], &b->settings[i])) {
            return false;
        }
    }
    for (uint32_t i = 0; i < a->command_count; i++) {
        if (!command_same(&a->commands[i], &b->commands[i])) {
            return false;
        }
    }
    for (uint32_t i = 0; i < a->expect_count; i++) {
        if (!expect_same(&a->expects[i], &b->expects[i])) {
            return false;
        }
    }
    return true;
}
