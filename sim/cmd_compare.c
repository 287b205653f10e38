/* `rheasim compare`: each value of one setting run on the same seeds, paired statistics out. */
#include "sim/cmd_compare.h"

#include "core/base.h"
#include "reports/compare.h"
#include "sim/run.h"
#include "sim/scenario.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALUE_SIZE      RS_COMPARE_LABEL_SIZE
#define OUT_DIR_MAX     (DIR_SIZE - VALUE_SIZE - 64)
#define ASSIGNMENT_SIZE 192
#define DIR_SIZE        512
/* summary.json nests three objects deep today; deeper fields are not looked at. */
#define JSON_DEPTH_MAX 8
#define JSON_KEY_SIZE  48
/* latency.csv is read whole; a run with more than this many bytes of it is refused. */
#define LATENCY_CSV_BYTES_MAX (1ull << 31)

/* ---- the metrics of one run ---- */

enum metric_id {
    M_LATENCY_P50,
    M_LATENCY_P99,
    M_LATENCY_P999,
    M_OPS_OK,
    M_OPS_FAIL,
    M_OPS_INFO,
    M_AVAILABILITY,
    M_LONGEST_GAP,
    M_ZERO_OK_SECONDS,
    M_LEADER_AFTER_HEAL,
    M_CONVERGED_AFTER_HEAL,
    M_MESSAGES,
    M_LEADER_TERMS,
    M_LEADERS_SPREAD,
    M_LEADERS_STDDEV,
    M_LEADERS_BALANCED,
    M_REGIONS_SPREAD,
    M_LEADER_GAINS,
    M_REPLICAS_ADDED,
    M_SNAPSHOT_BYTES,
    M_COUNT
};

static const struct {
    const char *name;
    const char *unit;
    uint64_t scale;
    unsigned places;
    const char *help;
} metric_defs[M_COUNT] = {
    {"latency_p50", "ms", 1000000, 3, "Median latency of the ok client operations (all ops)."},
    {"latency_p99", "ms", 1000000, 3, "99th percentile latency of the ok client operations."},
    {"latency_p999", "ms", 1000000, 3, "99.9th percentile latency of the ok client operations."},
    {"ops_ok", "count", 1, 1, "Client operations that succeeded."},
    {"ops_fail", "count", 1, 1, "Client operations that failed for certain."},
    {"ops_info", "count", 1, 1, "Client operations with an unknown outcome (timed out)."},
    {"availability", "%", 10000, 3, "ok / (ok + fail + info) of the client operations."},
    {"unavailable_longest", "ms", 1000000, 3,
     "Longest time without an ok completion, from the first ok completion to the run's end."},
    {"zero_ok_seconds", "s", 1, 2,
     "Whole seconds with no ok completion, from the first ok completion's second on."},
    {"leader_after_heal", "ms", 1000000, 3,
     "Time from the final heal to a leader that reaches a majority (missing without a heal)."},
    {"converged_after_heal", "ms", 1000000, 3,
     "Time from the final heal to convergence (missing when liveness was not checked or it "
     "did not converge)."},
    {"messages", "count", 1, 1, "Messages the network carried."},
    {"leader_terms", "count", 1, 2, "Leader changes the checks saw."},
    {"leaders_spread", "count", 1, 2,
     "Leaders per store at the last sample: max - min over the stores that are up."},
    {"leaders_stddev", "count", 1000, 3,
     "Leaders per store at the last sample: standard deviation over the stores that are up."},
    {"leaders_balanced_since", "s", 1000, 3,
     "The sample time from which leaders stayed within max - min <= 1 to the end (missing: not "
     "balanced at the end)."},
    {"regions_spread", "count", 1, 2,
     "Region replicas per store at the last sample: max - min over the stores that are up."},
    {"leader_gains", "count", 1, 2,
     "Replicas that became leader (elections and transfers): leadership churn."},
    {"replicas_added", "count", 1, 2, "Replicas created for a region's leader: replica moves."},
    {"snapshot_bytes", "bytes", 1, 0, "Snapshot bytes sent: data moved."},
};

struct run_metrics {
    int64_t value[M_COUNT];
    bool present[M_COUNT];
    uint64_t end_ns;
};

static void metric_put(struct run_metrics *m, enum metric_id id, int64_t value)
{
    RS_ASSERT(id < M_COUNT);
    m->value[id] = value;
    m->present[id] = true;
}

/*
 * The hook for balance metrics. When runs write per-store time series (the lead's
 * timeseries.csv), the balance metrics (spread max-min, stddev, max/mean, convergence time,
 * transfers, moves, bytes moved) are read here from run_dir, each with one row in metric_defs
 * and an id in enum metric_id; the statistics and every output pick them up unchanged.
 */
static char *read_text(const char *path, size_t *size_out);

/* balance.csv: spreads at the last sample, and since when leaders stayed within one. */
static void balance_spreads(const char *run_dir, struct run_metrics *m)
{
    char path[DIR_SIZE + 32];
    snprintf(path, sizeof path, "%s/balance.csv", run_dir);
    size_t size = 0;
    char *text = read_text(path, &size);
    if (text == NULL) {
        return;
    }
    double since = -1;
    for (char *line = strchr(text, '\n'); line != NULL && line[1] != '\0';
         line = strchr(line + 1, '\n')) {
        double t, mean, stddev, ratio;
        char metric[32];
        unsigned stores;
        unsigned long long min, max, spread;
        if (sscanf(line + 1, "%lf,%31[^,],%u,%llu,%llu,%llu,%lf,%lf,%lf", &t, metric, &stores,
                   &min, &max, &spread, &mean, &stddev, &ratio) != 9) {
            continue;
        }
        if (strcmp(metric, "leaders") == 0) {
            metric_put(m, M_LEADERS_SPREAD, (int64_t)spread);
            metric_put(m, M_LEADERS_STDDEV, (int64_t)(stddev * 1000 + 0.5));
            since = stores > 0 && spread <= 1 ? (since < 0 ? t : since) : -1;
        } else if (strcmp(metric, "regions") == 0) {
            metric_put(m, M_REGIONS_SPREAD, (int64_t)spread);
        }
    }
    if (since >= 0) {
        metric_put(m, M_LEADERS_BALANCED, (int64_t)(since * 1000 + 0.5));
    }
    free(text);
}

/* timeseries.csv: churn totals over the run. */
static void balance_churn(const char *run_dir, struct run_metrics *m)
{
    char path[DIR_SIZE + 32];
    snprintf(path, sizeof path, "%s/timeseries.csv", run_dir);
    size_t size = 0;
    char *text = read_text(path, &size);
    if (text == NULL) {
        return;
    }
    unsigned long long gains = 0, added = 0, bytes = 0;
    for (char *line = strchr(text, '\n'); line != NULL && line[1] != '\0';
         line = strchr(line + 1, '\n')) {
        double t;
        unsigned store, up, leaders, regions;
        unsigned long long keys, kbytes, rq, wq, g, a, b, splits;
        if (sscanf(line + 1, "%lf,%u,%u,%u,%u,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu", &t, &store,
                   &up, &leaders, &regions, &keys, &kbytes, &rq, &wq, &g, &a, &b, &splits) == 13) {
            gains += g;
            added += a;
            bytes += b;
        }
    }
    metric_put(m, M_LEADER_GAINS, (int64_t)gains);
    metric_put(m, M_REPLICAS_ADDED, (int64_t)added);
    metric_put(m, M_SNAPSHOT_BYTES, (int64_t)bytes);
    free(text);
}

/* Balance measures from the run's per-store files (see README "Outputs"). */
static void balance_metrics(const char *run_dir, struct run_metrics *m)
{
    balance_spreads(run_dir, m);
    balance_churn(run_dir, m);
}

/* ---- reading a run's files ---- */

/* The whole file, NUL-terminated; NULL when it cannot be read. */
static char *read_text(const char *path, size_t *size_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    struct rs_buf b;
    rs_buf_init(&b);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && b.size < LATENCY_CSV_BYTES_MAX) {
        rs_buf_put(&b, chunk, got);
    }
    bool bad = ferror(f) != 0 || b.size >= LATENCY_CSV_BYTES_MAX;
    fclose(f);
    if (bad) {
        rs_buf_free(&b);
        return NULL;
    }
    rs_buf_putc(&b, '\0');
    *size_out = b.size - 1;
    return b.data;
}

struct json_field {
    const char *path; /* "counts.ops_ok" */
    int64_t value;
    bool found;
};

/* Skips a JSON string starting at text[i] == '"'; copies up to key_size - 1 bytes of it. */
static size_t json_string(const char *text, size_t size, size_t i, char *key, size_t key_size)
{
    RS_ASSERT(text[i] == '"');
    size_t length = 0;
    for (i++; i < size && text[i] != '"'; i++) {
        if (text[i] == '\\' && i + 1 < size) {
            i++;
        }
        if (length + 1 < key_size) {
            key[length++] = text[i];
        }
    }
    key[length] = '\0';
    return i < size ? i + 1 : size;
}

/* Stores an integer found at path (stack + key) into the field with that path. */
static void json_match(char stack[][JSON_KEY_SIZE],
                       uint32_t depth,
                       const char *key,
                       int64_t value,
                       struct json_field *fields,
                       size_t count)
{
    char path[JSON_DEPTH_MAX * JSON_KEY_SIZE + JSON_KEY_SIZE];
    size_t used = 0;
    path[0] = '\0';
    /* stack[1] is the top-level object, which has no key */
    for (uint32_t d = 2; d <= depth && d < JSON_DEPTH_MAX; d++) {
        used += (size_t)snprintf(path + used, sizeof path - used, "%s.", stack[d]);
    }
    snprintf(path + used, sizeof path - used, "%s", key);
    for (size_t f = 0; f < count; f++) {
        if (!fields[f].found && strcmp(fields[f].path, path) == 0) {
            fields[f].value = value;
            fields[f].found = true;
        }
    }
}

/*
 * Finds the integers at the given dotted paths in a JSON text written by rheasim run. Not a
 * validating parser: it tracks object keys and skips everything it does not look for.
 */
static void json_scan(const char *text, size_t size, struct json_field *fields, size_t count)
{
    char stack[JSON_DEPTH_MAX][JSON_KEY_SIZE];
    char key[JSON_KEY_SIZE] = "";
    uint32_t depth = 0;
    memset(stack, 0, sizeof stack);
    size_t i = 0;
    while (i < size) {
        char c = text[i];
        if (c == '"') {
            char word[JSON_KEY_SIZE];
            i = json_string(text, size, i, word, sizeof word);
            if (i < size && text[i] == ':') {
                memcpy(key, word, sizeof key);
            }
        } else if (c == '{' || c == '[') {
            depth++;
            if (depth < JSON_DEPTH_MAX) {
                snprintf(stack[depth], JSON_KEY_SIZE, "%s", c == '[' ? "[]" : key);
            }
            key[0] = '\0';
            i++;
        } else if (c == '}' || c == ']') {
            depth = depth > 0 ? depth - 1 : 0;
            i++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            char *end = NULL;
            long long v = strtoll(text + i, &end, 10);
            bool integer = end != text + i && *end != '.' && *end != 'e' && *end != 'E';
            if (integer && depth < JSON_DEPTH_MAX) {
                json_match(stack, depth, key, (int64_t)v, fields, count);
            }
            i = end != text + i ? (size_t)(end - text) : i + 1;
        } else {
            i++;
        }
    }
}

enum summary_field {
    S_P50,
    S_P99,
    S_P999,
    S_OK,
    S_FAIL,
    S_INFO,
    S_MESSAGES,
    S_TERMS,
    S_HEAL,
    S_CONVERGED,
    S_LEADER,
    S_END,
    S_COUNT
};

/* The metrics summary.json gives; false when a field is missing (an older or broken file). */
static bool read_summary(const char *run_dir, struct run_metrics *m)
{
    struct json_field fields[S_COUNT] = {
        [S_P50] = {"latency.all.latency_ns_p50", 0, false},
        [S_P99] = {"latency.all.latency_ns_p99", 0, false},
        [S_P999] = {"latency.all.latency_ns_p999", 0, false},
        [S_OK] = {"counts.ops_ok", 0, false},
        [S_FAIL] = {"counts.ops_fail", 0, false},
        [S_INFO] = {"counts.ops_info", 0, false},
        [S_MESSAGES] = {"counts.messages", 0, false},
        [S_TERMS] = {"counts.leader_terms", 0, false},
        [S_HEAL] = {"liveness.heal_ns", 0, false},
        [S_CONVERGED] = {"liveness.converged_ns", 0, false},
        [S_LEADER] = {"liveness.leader_after_heal_ns", 0, false},
        [S_END] = {"end_ns", 0, false},
    };
    char path[DIR_SIZE + 32];
    snprintf(path, sizeof path, "%s/summary.json", run_dir);
    size_t size = 0;
    char *text = read_text(path, &size);
    if (text == NULL) {
        return false;
    }
    json_scan(text, size, fields, S_COUNT);
    free(text);
    for (int f = 0; f < S_COUNT; f++) {
        if (!fields[f].found) {
            return false;
        }
    }
    static const struct {
        enum summary_field field;
        enum metric_id metric;
    } direct[] = {{S_P50, M_LATENCY_P50},   {S_P99, M_LATENCY_P99},   {S_P999, M_LATENCY_P999},
                  {S_OK, M_OPS_OK},         {S_FAIL, M_OPS_FAIL},     {S_INFO, M_OPS_INFO},
                  {S_MESSAGES, M_MESSAGES}, {S_TERMS, M_LEADER_TERMS}};
    for (size_t k = 0; k < sizeof direct / sizeof direct[0]; k++) {
        metric_put(m, direct[k].metric, fields[direct[k].field].value);
    }
    int64_t done = fields[S_OK].value + fields[S_FAIL].value + fields[S_INFO].value;
    if (done > 0) {
        metric_put(m, M_AVAILABILITY, fields[S_OK].value * 1000000 / done);
    }
    int64_t heal = fields[S_HEAL].value;
    if (heal > 0) {
        metric_put(m, M_LEADER_AFTER_HEAL, fields[S_LEADER].value);
        if (fields[S_CONVERGED].value >= heal) {
            metric_put(m, M_CONVERGED_AFTER_HEAL, fields[S_CONVERGED].value - heal);
        }
    }
    m->end_ns = (uint64_t)fields[S_END].value;
    return true;
}

/* A decimal "12.345678" as an integer count of 10^-places units, exactly; NULL if malformed. */
static const char *parse_fixed(const char *p, unsigned places, uint64_t *out)
{
    uint64_t whole = 0;
    const char *start = p;
    for (; *p >= '0' && *p <= '9' && whole < UINT64_MAX / 100; p++) {
        whole = whole * 10 + (uint64_t)(*p - '0');
    }
    if (p == start) {
        return NULL;
    }
    uint64_t fraction = 0;
    unsigned digits = 0;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            if (digits < places) {
                fraction = fraction * 10 + (uint64_t)(*p - '0');
                digits++;
            }
        }
    }
    for (; digits < places; digits++) {
        fraction *= 10;
    }
    uint64_t unit = 1;
    for (unsigned k = 0; k < places; k++) {
        unit *= 10;
    }
    *out = whole * unit + fraction;
    return p;
}

/* One ok operation: when it completed and how long it took. */
struct completion {
    uint64_t time_ns;
    uint64_t latency_ns;
};

static int compare_completion(const void *a, const void *b)
{
    const struct completion *x = a;
    const struct completion *y = b;
    if (x->time_ns != y->time_ns) {
        return x->time_ns < y->time_ns ? -1 : 1;
    }
    if (x->latency_ns != y->latency_ns) {
        return x->latency_ns < y->latency_ns ? -1 : 1;
    }
    return 0;
}

/*
 * The ok operations of latency.csv (time_s is the invoke time, so completion = time_s +
 * latency_ms), sorted by completion time. Returns the count; *out is NULL on a read error.
 */
static size_t read_completions(const char *run_dir, struct completion **out)
{
    char path[DIR_SIZE + 32];
    snprintf(path, sizeof path, "%s/latency.csv", run_dir);
    size_t size = 0;
    char *text = read_text(path, &size);
    *out = NULL;
    if (text == NULL) {
        return 0;
    }
    size_t count = 0, capacity = 1024;
    struct completion *list = malloc(capacity * sizeof *list);
    RS_ASSERT(list != NULL);
    const char *line = strchr(text, '\n'); /* past the header */
    while (line != NULL && line[1] != '\0') {
        line++;
        uint64_t invoke_us = 0, latency_ns = 0;
        const char *p = parse_fixed(line, 6, &invoke_us);
        p = p != NULL && *p == ',' ? parse_fixed(p + 1, 6, &latency_ns) : NULL;
        const char *outcome = p != NULL && *p == ',' ? strchr(p + 1, ',') : NULL;
        if (outcome != NULL && strncmp(outcome, ",ok", 3) == 0 &&
            (outcome[3] == '\n' || outcome[3] == '\0')) {
            if (count == capacity) {
                capacity *= 2;
                list = realloc(list, capacity * sizeof *list);
                RS_ASSERT(list != NULL);
            }
            list[count].time_ns = invoke_us * 1000 + latency_ns;
            list[count].latency_ns = latency_ns;
            count++;
        }
        line = strchr(line, '\n');
    }
    free(text);
    /* equal elements are equal in every field, so qsort's instability cannot show */
    qsort(list, count, sizeof *list, compare_completion);
    *out = list;
    return count;
}

/* Unavailability from the ok completions: the longest gap and the seconds without any. */
static void availability_gaps(const struct completion *list,
                              size_t count,
                              uint64_t end_ns,
                              struct run_metrics *m)
{
    if (count == 0) {
        return; /* nothing ever succeeded: the gaps have no start; availability says it */
    }
    uint64_t longest = 0;
    for (size_t i = 1; i < count; i++) {
        uint64_t gap = list[i].time_ns - list[i - 1].time_ns;
        longest = gap > longest ? gap : longest;
    }
    uint64_t last = list[count - 1].time_ns;
    if (end_ns > last && end_ns - last > longest) {
        longest = end_ns - last;
    }
    metric_put(m, M_LONGEST_GAP, (int64_t)longest);
    uint64_t second = list[0].time_ns / RS_NS_PER_S;
    uint64_t whole_seconds = end_ns / RS_NS_PER_S; /* the last, partial second is left out */
    int64_t empty = 0;
    size_t i = 0;
    for (; second < whole_seconds; second++) {
        bool any = false;
        while (i < count && list[i].time_ns / RS_NS_PER_S <= second) {
            any = any || list[i].time_ns / RS_NS_PER_S == second;
            i++;
        }
        empty += any ? 0 : 1;
    }
    metric_put(m, M_ZERO_OK_SECONDS, empty);
}

/* ---- options ---- */

struct compare_options {
    const char *scenario_path;
    const char *out_dir; /* NULL: runs/compare-<scenario> */
    const char *sets[RS_RUN_SETS_MAX];
    uint32_t set_count;
    const char *vary;      /* "SETTING=v1,v2" as given (or built from --policies) */
    const char *vary_flag; /* "--vary" or "--policies": the flag errors name */
    uint64_t seed_first;
    uint64_t seed_last;
    bool seeds_given;
    uint32_t bugs;
    bool plots;
    bool quiet;
    bool expect_advisory; /* failed expectations are listed but leave the exit code alone */
};

/* Everything one comparison holds. */
struct compare {
    struct compare_options opt;
    char policies[ASSIGNMENT_SIZE * 2]; /* "pd.policy=..." built from --policies */
    char key[JSON_KEY_SIZE];
    uint32_t config_count;
    char values[RS_COMPARE_CONFIGS_MAX][VALUE_SIZE];
    char assignments[RS_COMPARE_CONFIGS_MAX][ASSIGNMENT_SIZE]; /* "key=value" for --set */
    char scenario_name[128];
    char out_dir[DIR_SIZE];
    struct rs_compare_table table;
    int worst_exit;
    struct rs_buf failures; /* Markdown lines: the runs whose checks failed */
};

#define COMPARE_USAGE                                                                       \
    "usage: rheasim compare SCENARIO (--vary SETTING=v1,v2[,...] | --policies a,b[,...])\n" \
    "                       --seeds FIRST..LAST [--out DIR] [--set KEY=VALUE]...\n"         \
    "                       [--bug NAME]... [--expect-advisory] [--no-plots] [--quiet]\n"

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rheasim compare: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s", COMPARE_USAGE);
    return 64;
}

static bool parse_u64(const char *text, size_t length, uint64_t *out)
{
    uint64_t v = 0;
    if (length == 0) {
        return false;
    }
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        if (c < '0' || c > '9' || v > (UINT64_MAX - (uint64_t)(c - '0')) / 10) {
            return false;
        }
        v = v * 10 + (uint64_t)(c - '0');
    }
    *out = v;
    return true;
}

/* "FIRST..LAST" with at least two seeds (a confidence interval needs two). */
static int parse_seeds(const char *text, struct compare_options *o)
{
    const char *dots = text != NULL ? strstr(text, "..") : NULL;
    if (dots == NULL || !parse_u64(text, (size_t)(dots - text), &o->seed_first) ||
        !parse_u64(dots + 2, strlen(dots + 2), &o->seed_last)) {
        return usage_error("--seeds needs FIRST..LAST, e.g. 1..20, not '%s'", text ? text : "");
    }
    if (o->seed_last <= o->seed_first) {
        return usage_error(
            "--seeds %s: at least two seeds are needed for a confidence "
            "interval (LAST must exceed FIRST)",
            text);
    }
    if (o->seed_last - o->seed_first >= RS_COMPARE_SEEDS_MAX) {
        return usage_error("--seeds %s: at most %u seeds", text, RS_COMPARE_SEEDS_MAX);
    }
    o->seeds_given = true;
    return 0;
}

static int set_vary(struct compare *c, const char *flag, const char *text)
{
    if (c->opt.vary != NULL) {
        return usage_error(
            "%s: one setting varies per comparison (%s was given already); "
            "fix the others with --set",
            flag, c->opt.vary_flag);
    }
    if (text == NULL) {
        return usage_error("%s needs a value", flag);
    }
    if (strcmp(flag, "--policies") == 0) {
        int length = snprintf(c->policies, sizeof c->policies, "pd.policy=%s", text);
        if (length < 0 || (size_t)length >= sizeof c->policies) {
            return usage_error("--policies: the list is too long");
        }
        text = c->policies;
    }
    c->opt.vary = text;
    c->opt.vary_flag = flag;
    return 0;
}

/* One flag at argv[*i]; returns 0 or the exit code of a usage error. */
static int parse_flag(struct compare *c, int argc, char **argv, int *i)
{
    struct compare_options *o = &c->opt;
    const char *a = argv[*i];
    const char *next = *i + 1 < argc ? argv[*i + 1] : NULL;
    bool takes_value = strcmp(a, "--vary") == 0 || strcmp(a, "--policies") == 0 ||
                       strcmp(a, "--seeds") == 0 || strcmp(a, "--out") == 0 ||
                       strcmp(a, "--set") == 0 || strcmp(a, "--bug") == 0;
    if (takes_value && next == NULL) {
        return usage_error("%s needs a value", a);
    }
    *i += takes_value ? 1 : 0;
    if (strcmp(a, "--vary") == 0 || strcmp(a, "--policies") == 0) {
        return set_vary(c, a, next);
    } else if (strcmp(a, "--seeds") == 0) {
        return parse_seeds(next, o);
    } else if (strcmp(a, "--out") == 0) {
        if (next != NULL && strlen(next) > OUT_DIR_MAX) {
            /* room for runs/<n>-<value>/seed-<seed> under it in a DIR_SIZE path */
            return usage_error("--out: the directory name is longer than %d bytes", OUT_DIR_MAX);
        }
        o->out_dir = next;
    } else if (strcmp(a, "--set") == 0) {
        if (o->set_count + 1 >= RS_RUN_SETS_MAX) { /* one slot stays for the varied setting */
            return usage_error("--set: at most %d of them", RS_RUN_SETS_MAX - 1);
        }
        o->sets[o->set_count++] = next;
    } else if (strcmp(a, "--bug") == 0) {
        uint32_t flag = rs_bug_flag(next);
        if (flag == 0) {
            return usage_error("--bug: unknown bug '%s' (known: %s)", next, rs_bug_names());
        }
        o->bugs |= flag;
    } else if (strcmp(a, "--no-plots") == 0) {
        o->plots = false;
    } else if (strcmp(a, "--expect-advisory") == 0) {
        o->expect_advisory = true;
    } else if (strcmp(a, "--quiet") == 0) {
        o->quiet = true;
    } else {
        return usage_error("unknown flag '%s'", a);
    }
    return 0;
}

static int parse_args(struct compare *c, int argc, char **argv)
{
    c->opt.plots = true;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') {
            int code = parse_flag(c, argc, argv, &i);
            if (code != 0) {
                return code;
            }
        } else if (c->opt.scenario_path == NULL) {
            c->opt.scenario_path = argv[i];
        } else {
            return usage_error("one scenario per comparison ('%s' is extra)", argv[i]);
        }
    }
    if (c->opt.scenario_path == NULL) {
        return usage_error("a scenario file is required");
    }
    if (c->opt.vary == NULL) {
        return usage_error("say what differs: --vary SETTING=v1,v2 or --policies a,b");
    }
    if (!c->opt.seeds_given) {
        return usage_error("--seeds FIRST..LAST is required (e.g. --seeds 1..20)");
    }
    return 0;
}

/* ---- the configurations ---- */

/* Splits "SETTING=v1,v2" (or v1;v2 when a value itself holds commas, as a mix does). */
static int split_vary(struct compare *c)
{
    const char *flag = c->opt.vary_flag;
    const char *text = c->opt.vary;
    const char *equals = strchr(text, '=');
    if (equals == NULL || equals == text || (size_t)(equals - text) >= sizeof c->key) {
        return usage_error("%s needs SETTING=v1,v2[,...], not '%s'", flag, text);
    }
    snprintf(c->key, sizeof c->key, "%.*s", (int)(equals - text), text);
    const char *list = equals + 1;
    char separator = strchr(list, ';') != NULL ? ';' : ',';
    for (const char *p = list; p != NULL;) {
        const char *end = strchr(p, separator);
        size_t length = end != NULL ? (size_t)(end - p) : strlen(p);
        if (length == 0 || length >= VALUE_SIZE) {
            return usage_error("%s %s: each value must be 1..%d bytes", flag, text, VALUE_SIZE - 1);
        }
        if (c->config_count == RS_COMPARE_CONFIGS_MAX) {
            return usage_error("%s: at most %d values", flag, RS_COMPARE_CONFIGS_MAX);
        }
        snprintf(c->values[c->config_count], VALUE_SIZE, "%.*s", (int)length, p);
        for (uint32_t k = 0; k < c->config_count; k++) {
            if (strcmp(c->values[k], c->values[c->config_count]) == 0) {
                return usage_error("%s: the value '%s' is listed twice", flag, c->values[k]);
            }
        }
        char assignment[ASSIGNMENT_SIZE]; /* a copy: gcc's -Wrestrict sees one object c */
        snprintf(assignment, sizeof assignment, "%s=%s", c->key, c->values[c->config_count]);
        memcpy(c->assignments[c->config_count], assignment, sizeof assignment);
        c->config_count++;
        p = end != NULL ? end + 1 : NULL;
    }
    if (c->config_count < 2) {
        return usage_error("%s: a comparison needs at least two values", flag);
    }
    return 0;
}

/* The scenario reader blames "--set KEY=VALUE: "; after our own prefix that would repeat. */
static const char *without_set_prefix(const char *text)
{
    const char *colon = strncmp(text, "--set ", 6) == 0 ? strstr(text, ": ") : NULL;
    return colon != NULL ? colon + 2 : text;
}

static int scenario_error(const char *prefix, const struct rs_scn_error *err, int fallback)
{
    char text[768];
    rs_scn_error_format(err, text, sizeof text);
    fprintf(stderr, "rheasim compare: %s%s\n", prefix,
            prefix[0] != '\0' ? without_set_prefix(text) : text);
    return err->exit_code ? err->exit_code : fallback;
}

/* One configuration as a run will build it: scenario, --set flags, then the varied value. */
static int check_config(const struct compare *c, uint32_t config)
{
    struct rs_scenario scn;
    struct rs_scn_error err;
    if (rs_scenario_load_file(c->opt.scenario_path, &scn, &err) != RS_OK) {
        return scenario_error("", &err, 65);
    }
    int code = 0;
    for (uint32_t i = 0; i < c->opt.set_count && code == 0; i++) {
        if (rs_scenario_apply_set(&scn, c->opt.sets[i], &err) != RS_OK) {
            code = scenario_error("", &err, 64);
        }
    }
    if (code == 0 && rs_scenario_apply_set(&scn, c->assignments[config], &err) != RS_OK) {
        fprintf(stderr, "rheasim compare: %s %s: %s\n", c->opt.vary_flag, c->assignments[config],
                without_set_prefix(err.message));
        code = 64;
    }
    if (code == 0 && rs_scenario_validate(&scn, &err) != RS_OK) {
        char prefix[ASSIGNMENT_SIZE + 32];
        snprintf(prefix, sizeof prefix, "%s %s: ", c->opt.vary_flag, c->assignments[config]);
        code = scenario_error(prefix, &err, 65);
    }
    rs_scenario_free(&scn);
    return code;
}

static int check_configs(struct compare *c)
{
    struct rs_scenario scn;
    struct rs_scn_error err;
    if (rs_scenario_load_file(c->opt.scenario_path, &scn, &err) != RS_OK) {
        return scenario_error("", &err, 65); /* a bad file is the file's fault, not a flag's */
    }
    snprintf(c->scenario_name, sizeof c->scenario_name, "%s", scn.name);
    rs_scenario_free(&scn);
    if (rs_scn_setting_find(c->key) < 0) {
        if (strcmp(c->opt.vary_flag, "--policies") == 0) {
            return usage_error(
                "--policies: this build has no setting pd.policy (the Placement "
                "Driver policies are not in it yet); compare another setting "
                "with --vary SETTING=v1,v2");
        }
        return usage_error("--vary: unknown setting '%s' (rheasim list settings shows them)",
                           c->key);
    }
    size_t key_length = strlen(c->key);
    for (uint32_t i = 0; i < c->opt.set_count; i++) {
        if (strncmp(c->opt.sets[i], c->key, key_length) == 0 && c->opt.sets[i][key_length] == '=') {
            return usage_error("--set %s: %s already varies %s", c->opt.sets[i], c->opt.vary_flag,
                               c->key);
        }
    }
    for (uint32_t config = 0; config < c->config_count; config++) {
        int code = check_config(c, config);
        if (code != 0) {
            return code;
        }
    }
    return 0;
}

/* ---- running ---- */

/* out/runs/<n>-<value>/seed-<seed>, the value cut to file-name bytes. */
static void run_dir(const struct compare *c, uint32_t config, uint64_t seed, char *dir, size_t size)
{
    char value[VALUE_SIZE];
    size_t i = 0;
    for (; c->values[config][i] != '\0' && i + 1 < sizeof value; i++) {
        char ch = c->values[config][i];
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
        value[i] = plain ? ch : '_';
    }
    value[i] = '\0';
    int n = snprintf(dir, size, "%s/runs/%u-%s/seed-%llu", c->out_dir, config + 1, value,
                     (unsigned long long)seed);
    RS_ASSERT(n > 0 && (size_t)n < size); /* --out is at most OUT_DIR_MAX bytes */
}

static void reproduce_run(const struct compare *c, uint32_t config, uint64_t seed, struct rs_buf *b)
{
    rs_buf_printf(b, "rheasim run %s --seed %llu", c->opt.scenario_path, (unsigned long long)seed);
    for (uint32_t i = 0; i < c->opt.set_count; i++) {
        rs_buf_printf(b, " --set %s", c->opt.sets[i]);
    }
    rs_buf_printf(b, " --set %s", c->assignments[config]);
}

/* Notes a run whose checks failed: the comparison still uses its numbers. */
static void note_failure(struct compare *c,
                         uint32_t config,
                         uint64_t seed,
                         const struct rs_run_result *result)
{
    c->table.failed_runs[config]++;
    /* a policy that never balances fails `expect balanced`: with --expect-advisory that is a
     * finding of the comparison, not an error of the command (safety checks still count) */
    bool advisory = c->opt.expect_advisory && strcmp(result->check, "expectation") == 0;
    if (!advisory && (result->exit_code == 1 || c->worst_exit == 0)) {
        c->worst_exit = result->exit_code;
    }
    size_t line = strcspn(result->message, "\n");
    rs_buf_printf(&c->failures, "- `%s` seed %llu: exit %d, check %s: %.*s  \n  reproduce: `",
                  c->assignments[config], (unsigned long long)seed, result->exit_code,
                  result->check, (int)(line < 200 ? line : 200), result->message);
    reproduce_run(c, config, seed, &c->failures);
    rs_buf_puts(&c->failures, "`\n");
}

/* Runs one configuration on one seed and stores its metrics; 0 or an exit code >= 64. */
static int run_one(struct compare *c, uint32_t config, uint32_t seed_index)
{
    uint64_t seed = c->opt.seed_first + seed_index;
    char dir[DIR_SIZE];
    run_dir(c, config, seed, dir, sizeof dir);
    struct rs_run_options o;
    rs_run_options_default(&o);
    o.scenario_path = c->opt.scenario_path;
    o.seed = seed;
    o.out_dir = dir;
    memcpy(o.sets, c->opt.sets, c->opt.set_count * sizeof o.sets[0]);
    o.sets[c->opt.set_count] = c->assignments[config];
    o.set_count = c->opt.set_count + 1;
    o.bugs = c->opt.bugs;
    o.trace = o.plots = o.progress = false;
    o.quiet = true;
    struct rs_run_result result;
    int code = rs_run(&o, &result);
    if (code >= 64) {
        fprintf(stderr,
                "rheasim compare: %s %s: the run of seed %llu was refused (exit %d, "
                "above); nothing was compared\n",
                c->opt.vary_flag, c->assignments[config], (unsigned long long)seed, code);
        return code;
    }
    if (code != 0) {
        note_failure(c, config, seed, &result);
    }
    struct run_metrics m;
    memset(&m, 0, sizeof m);
    struct completion *list = NULL;
    size_t count = 0;
    if (read_summary(dir, &m)) {
        count = read_completions(dir, &list);
    }
    if (list == NULL) {
        fprintf(stderr, "rheasim compare: cannot read summary.json or latency.csv in %s\n", dir);
        return 74; /* EX_IOERR */
    }
    availability_gaps(list, count, m.end_ns, &m);
    free(list);
    balance_metrics(dir, &m);
    for (uint32_t id = 0; id < M_COUNT; id++) {
        if (m.present[id]) {
            rs_compare_set(&c->table, id, config, seed_index, m.value[id]);
        }
    }
    if (!c->opt.quiet) {
        printf("  seed %llu %s: %s, %lld ok, p99 %.3fms\n", (unsigned long long)seed,
               c->assignments[config], code == 0 ? "checks held" : result.check,
               (long long)m.value[M_OPS_OK], (double)m.value[M_LATENCY_P99] / 1e6);
    }
    return 0;
}

/* Seed by seed, every configuration in turn: a refused configuration shows up at once. */
static int run_all(struct compare *c)
{
    for (uint32_t s = 0; s < c->table.seed_count; s++) {
        for (uint32_t config = 0; config < c->config_count; config++) {
            int code = run_one(c, config, s);
            if (code != 0) {
                return code;
            }
        }
    }
    return 0;
}

/* ---- latency over time of the median seed ---- */

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* The seed whose baseline p99 is the median (the lower one of two; ties by seed order). */
static uint32_t median_seed_index(const struct compare *c)
{
    const int64_t *p99 = rs_compare_row(&c->table, M_LATENCY_P99, 0);
    const uint8_t *present = rs_compare_row_present(&c->table, M_LATENCY_P99, 0);
    uint32_t n = c->table.seed_count;
    /* each key packs (p99, seed index) so that the order is total */
    uint64_t *keys = malloc(n * sizeof *keys);
    RS_ASSERT(keys != NULL);
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (present[i] && p99[i] >= 0 && (uint64_t)p99[i] < (UINT64_MAX >> 14)) {
            keys[count++] = ((uint64_t)p99[i] << 14) | i;
        }
    }
    _Static_assert(RS_COMPARE_SEEDS_MAX <= (1 << 14), "seed index must fit in 14 bits");
    uint32_t chosen = 0;
    if (count > 0) {
        qsort(keys, count, sizeof *keys, compare_u64);
        chosen = (uint32_t)(keys[(count - 1) / 2] & ((1u << 14) - 1));
    }
    free(keys);
    RS_ASSERT(chosen < n);
    return chosen;
}

/* p50 and p99 (nearest rank) of the ok latencies per completion second of one run. */
static void fill_latency_seconds(struct rs_compare_table *t,
                                 uint32_t config,
                                 const struct completion *list,
                                 size_t count)
{
    uint64_t *group = malloc((count ? count : 1) * sizeof *group);
    RS_ASSERT(group != NULL);
    size_t i = 0;
    while (i < count) {
        uint64_t second = list[i].time_ns / RS_NS_PER_S;
        size_t n = 0;
        for (; i < count && list[i].time_ns / RS_NS_PER_S == second; i++) {
            group[n++] = list[i].latency_ns;
        }
        if (second >= t->latency_second_count) {
            continue;
        }
        qsort(group, n, sizeof *group, compare_u64);
        size_t at = (size_t)second * t->config_count + config;
        t->latency_p50_ns[at] = (int64_t)group[(n * 50 + 99) / 100 - 1];
        t->latency_p99_ns[at] = (int64_t)group[(n * 99 + 99) / 100 - 1];
    }
    free(group);
}

static void latency_over_time(struct compare *c)
{
    uint32_t index = median_seed_index(c);
    uint64_t seed = c->opt.seed_first + index;
    struct completion *lists[RS_COMPARE_CONFIGS_MAX];
    size_t counts[RS_COMPARE_CONFIGS_MAX];
    uint64_t seconds = 0;
    for (uint32_t config = 0; config < c->config_count; config++) {
        char dir[DIR_SIZE];
        run_dir(c, config, seed, dir, sizeof dir);
        counts[config] = read_completions(dir, &lists[config]);
        if (counts[config] > 0) {
            uint64_t last = lists[config][counts[config] - 1].time_ns / RS_NS_PER_S + 1;
            seconds = last > seconds ? last : seconds;
        }
    }
    if (seconds > RS_COMPARE_SECONDS_MAX) {
        seconds = RS_COMPARE_SECONDS_MAX; /* later seconds are left out of the plot */
    }
    bool ok = rs_compare_latency_init(&c->table, seed, (uint32_t)seconds);
    RS_ASSERT(ok);
    for (uint32_t config = 0; config < c->config_count; config++) {
        if (lists[config] != NULL) {
            fill_latency_seconds(&c->table, config, lists[config], counts[config]);
        }
        free(lists[config]);
    }
}

/* ---- outputs ---- */

static void reproduce_compare(const struct compare *c, struct rs_buf *b)
{
    rs_buf_printf(
        b, "rheasim compare %s %s %s --seeds %llu..%llu", c->opt.scenario_path, c->opt.vary_flag,
        strcmp(c->opt.vary_flag, "--policies") == 0 ? strchr(c->opt.vary, '=') + 1 : c->opt.vary,
        (unsigned long long)c->opt.seed_first, (unsigned long long)c->opt.seed_last);
    for (uint32_t i = 0; i < c->opt.set_count; i++) {
        rs_buf_printf(b, " --set %s", c->opt.sets[i]);
    }
}

/* What compare.md says before the tables; nothing in it depends on --out. */
static void preamble(const struct compare *c, struct rs_buf *b)
{
    rs_buf_printf(b,
                  "Scenario `%s` (%s), seeds %llu..%llu: every configuration ran on the same "
                  "seeds, so the workload and fault streams are the same and each seed gives "
                  "one paired difference.\n\nVaried: `%s` = ",
                  c->opt.scenario_path, c->scenario_name, (unsigned long long)c->opt.seed_first,
                  (unsigned long long)c->opt.seed_last, c->key);
    for (uint32_t k = 0; k < c->config_count; k++) {
        rs_buf_printf(b, "%s`%s`%s", k ? ", " : "", c->values[k], k ? "" : " (baseline)");
    }
    rs_buf_puts(b, ".\n\nReproduce: `");
    reproduce_compare(c, b);
    rs_buf_puts(b,
                "`\n\nPaired difference = configuration - baseline, seed by seed; its mean, "
                "sample standard deviation and 95% confidence interval (Student's t with "
                "n - 1 degrees of freedom; n = the seeds where both have the value). "
                "*Significant* means the interval excludes 0. The per-run directories are "
                "in `runs/<n>-<value>/seed-<seed>/`.\n\n");
    rs_buf_printf(b,
                  "The latency plot (compare-latency.svg) shows seed %llu, the median seed "
                  "by the baseline's p99 latency.\n\n",
                  (unsigned long long)c->table.latency_seed);
    uint32_t failed = 0;
    for (uint32_t k = 0; k < c->config_count; k++) {
        failed += c->table.failed_runs[k];
    }
    if (failed == 0) {
        rs_buf_printf(b, "All %llu runs held every check.\n",
                      (unsigned long long)c->config_count * c->table.seed_count);
    } else {
        rs_buf_printf(b, "%u runs failed a check (their numbers are included):\n\n%s", failed,
                      c->failures.data);
    }
}

/* A line per metric on stdout: the baseline's mean, then each configuration's difference. */
static void print_table(const struct compare *c)
{
    const struct rs_compare_table *t = &c->table;
    for (uint32_t metric = 0; metric < t->metric_count; metric++) {
        const struct rs_compare_metric *m = &t->metrics[metric];
        struct rs_compare_summary s;
        rs_compare_summarize(rs_compare_row(t, metric, 0), rs_compare_row_present(t, metric, 0),
                             t->seed_count, &s);
        printf("  %-22s %s %.*f %s", m->name, c->values[0], (int)m->places,
               s.mean / (double)m->scale, m->unit);
        for (uint32_t config = 1; config < t->config_count; config++) {
            struct rs_compare_diff d;
            rs_compare_paired(rs_compare_row(t, metric, 0), rs_compare_row_present(t, metric, 0),
                              rs_compare_row(t, metric, config),
                              rs_compare_row_present(t, metric, config), t->seed_count, &d);
            double scale = (double)m->scale;
            printf("; %s %+.*f [%+.*f, %+.*f]%s", c->values[config], (int)m->places, d.mean / scale,
                   (int)m->places, d.ci_low / scale, (int)m->places, d.ci_high / scale,
                   d.significant ? " *" : "");
        }
        printf("\n");
    }
}

static int write_outputs(struct compare *c)
{
    latency_over_time(c);
    struct rs_buf text;
    rs_buf_init(&text);
    preamble(c, &text);
    char title[256];
    snprintf(title, sizeof title, "%s: %s over seeds %llu..%llu", c->scenario_name, c->key,
             (unsigned long long)c->opt.seed_first, (unsigned long long)c->opt.seed_last);
    char message[DIR_SIZE + 256];
    enum rs_compare_plot_status status = rs_compare_write(&c->table, c->out_dir, title, text.data,
                                                          c->opt.plots, message, sizeof message);
    rs_buf_free(&text);
    if (status == RS_COMPARE_PLOT_IO) {
        fprintf(stderr, "rheasim compare: %s\n", message);
        return 73;
    }
    if (!c->opt.quiet) {
        printf("compare: %s (mean differences vs %s with 95%% CI; * = significant)\n", title,
               c->values[0]);
        print_table(c);
    }
    /* a missing gnuplot is one clear line; the tables are there either way */
    if (status != RS_COMPARE_PLOT_OK) {
        fprintf(stderr, "rheasim compare: %s\n", message);
    }
    printf("compare: %s/compare.md\n", c->out_dir);
    return 0;
}

static void setup_table(struct compare *c)
{
    uint32_t seed_count = (uint32_t)(c->opt.seed_last - c->opt.seed_first + 1);
    uint64_t *seeds = malloc(seed_count * sizeof *seeds);
    RS_ASSERT(seeds != NULL);
    for (uint32_t i = 0; i < seed_count; i++) {
        seeds[i] = c->opt.seed_first + i;
    }
    bool ok = rs_compare_init(&c->table, c->key, c->config_count, seeds, seed_count);
    RS_ASSERT(ok);
    free(seeds);
    for (uint32_t k = 0; k < c->config_count; k++) {
        _Static_assert(VALUE_SIZE == RS_COMPARE_LABEL_SIZE, "labels are the values");
        memcpy(c->table.config_labels[k], c->values[k], VALUE_SIZE);
    }
    for (int id = 0; id < M_COUNT; id++) {
        int index = rs_compare_add_metric(&c->table, metric_defs[id].name, metric_defs[id].unit,
                                          metric_defs[id].scale, metric_defs[id].places,
                                          metric_defs[id].help);
        RS_ASSERT(index == id);
    }
}

int rs_cmd_compare(int argc, char **argv)
{
    struct compare *c = calloc(1, sizeof *c);
    RS_ASSERT(c != NULL);
    rs_buf_init(&c->failures);
    rs_buf_puts(&c->failures, "");
    int code = parse_args(c, argc, argv);
    code = code != 0 ? code : split_vary(c);
    code = code != 0 ? code : check_configs(c);
    if (code == 0) {
        if (c->opt.out_dir != NULL) {
            snprintf(c->out_dir, sizeof c->out_dir, "%s", c->opt.out_dir);
        } else {
            snprintf(c->out_dir, sizeof c->out_dir, "runs/compare-%s", c->scenario_name);
        }
        int err = rs_make_dirs(c->out_dir);
        if (err != 0) {
            fprintf(stderr, "rheasim compare: cannot create %s: %s\n", c->out_dir, strerror(err));
            code = 73;
        }
    }
    if (code == 0) {
        setup_table(c);
        code = run_all(c);
        code = code != 0 ? code : write_outputs(c);
        code = code != 0 ? code : c->worst_exit;
        rs_compare_free(&c->table);
    }
    rs_buf_free(&c->failures);
    free(c);
    return code;
}
