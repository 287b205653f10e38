/* Tests of the scenario reader: typed values, located errors, overrides, round trip, fuzzing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "core/raft/conf.h"
#include "core/wire/frame.h"
#include "sim/scenario.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATA_DIR RS_SOURCE_DIR "/tests/data/scenarios"
#define MS       RS_NS_PER_MS
#define S        RS_NS_PER_S

/* ---- helpers ---- */

static char *read_whole(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    assert_non_null(file);
    char *text = malloc(1 << 20);
    assert_non_null(text);
    *size = fread(text, 1, 1 << 20, file);
    fclose(file);
    char *fitted = realloc(text, *size + 1);
    assert_non_null(fitted);
    fitted[*size] = '\0';
    return fitted;
}

/* The scenario written canonically, as a malloc'ed string. */
static char *write_text(const struct rs_scenario *s, size_t *size)
{
    char *text = NULL;
    FILE *file = open_memstream(&text, size);
    assert_non_null(file);
    rs_scenario_write(s, file);
    fclose(file);
    return text;
}

static void load_ok(const char *label, const char *text, struct rs_scenario *s)
{
    struct rs_scn_error err;
    enum rs_err rc = rs_scenario_load_text(label, text, strlen(text), s, &err);
    if (rc != RS_OK) {
        char line[512];
        rs_scn_error_format(&err, line, sizeof line);
        fail_msg("unexpected error: %s", line);
    }
}

/* Loads text that must fail; returns the formatted error in `line`. */
static struct rs_scn_error load_bad(const char *text, char *line, size_t size)
{
    struct rs_scenario s;
    struct rs_scn_error err;
    enum rs_err rc = rs_scenario_load_text("t.scn", text, strlen(text), &s, &err);
    assert_int_equal(rc, RS_EINVAL);
    assert_int_equal(err.exit_code, RS_SCN_EXIT_DATAERR);
    assert_null(s.commands); /* a failed load owns nothing */
    rs_scn_error_format(&err, line, size);
    rs_scenario_free(&s);
    return err;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.scn files of a data directory, sorted so that runs are reproducible. */
static size_t list_samples(const char *dir, char names[][256], size_t cap)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL && count < cap) {
        size_t n = strlen(entry->d_name);
        if (n > 4 && strcmp(entry->d_name + n - 4, ".scn") == 0) {
            int len = snprintf(names[count], 256, "%s/%s", dir, entry->d_name);
            assert_true(len > 0 && len < 256);
            count++;
        }
    }
    closedir(d);
    char *sorted[128];
    assert_true(count <= 128);
    for (size_t i = 0; i < count; i++) {
        sorted[i] = strdup(names[i]);
    }
    qsort(sorted, count, sizeof sorted[0], compare_names);
    for (size_t i = 0; i < count; i++) {
        snprintf(names[i], 256, "%s", sorted[i]);
        free(sorted[i]);
    }
    return count;
}

/* ---- the schema ---- */

static void test_schema_rows_have_valid_defaults(void **state)
{
    (void)state;
    struct rs_scenario s;
    rs_scenario_init(&s);
    for (size_t i = 0; i < RS_SCN_SETTING_COUNT; i++) {
        const struct rs_scn_setting *row = &rs_scn_schema[i];
        const struct rs_scn_value *v = &s.settings[i];
        assert_true(strlen(row->help) > 0);
        /* a file name is the one type whose default is "none" */
        assert_true(strlen(row->default_text) > 0 || row->type == RS_SCN_PATH);
        assert_int_equal(rs_scn_setting_find(row->section_key), (int)i);
        assert_ptr_equal(rs_scenario_get(&s, row->section_key), v);
        assert_int_equal(v->origin, RS_SCN_FROM_DEFAULT);
        assert_true(row->min <= row->max);
        bool scalar = row->type != RS_SCN_MIX && row->type != RS_SCN_DIST &&
                      row->type != RS_SCN_PATH;
        bool closed_rate = row->type == RS_SCN_RATE && v->lo == 0;
        if (scalar && !closed_rate) {
            assert_true(v->lo >= row->min && v->hi <= row->max);
        }
        /* Writing a default and reading it back gives the default. */
        char text[256];
        char assignment[300];
        rs_scn_value_format((enum rs_scn_setting_id)i, v, text, sizeof text);
        if (text[0] == '\0') {
            continue; /* no file: nothing to write (the writer leaves defaults out) */
        }
        snprintf(assignment, sizeof assignment, "%s=%s", row->section_key, text);
        struct rs_scn_error err;
        struct rs_scenario copy;
        rs_scenario_init(&copy);
        assert_int_equal(rs_scenario_apply_set(&copy, assignment, &err), RS_OK);
        assert_true(rs_scenario_equal(&copy, &s));
    }
    /* Enum rows: max is the last choice. */
    assert_int_equal(rs_scn_schema[RS_SCN_RAFT_READ].max, 1);
    assert_null(rs_scenario_get(&s, "net.los"));
    assert_int_equal(rs_scn_setting_find("nodes"), -1);
    /* Defaults obey the cross-field rules; only the run line is missing. */
    struct rs_scn_error err;
    s.run_ns = 1;
    assert_int_equal(rs_scenario_validate(&s, &err), RS_OK);
}

static void test_schema_names_are_unique(void **state)
{
    (void)state;
    for (size_t i = 0; i < RS_SCN_SETTING_COUNT; i++) {
        for (size_t j = i + 1; j < RS_SCN_SETTING_COUNT; j++) {
            assert_string_not_equal(rs_scn_schema[i].section_key, rs_scn_schema[j].section_key);
        }
    }
    assert_string_equal(rs_scn_type_name(RS_SCN_RANGE), "range");
    assert_string_equal(rs_scn_op_name(RS_SCN_OP_GET_AND_PUT), "get_and_put");
    assert_string_equal(rs_scn_verb_name(RS_SCN_CRASH_RESTART), "crash-restart");
}

/* ---- values, through --set ---- */

struct value_case {
    const char *assignment;
    int64_t lo;
    int64_t hi;
    bool drawn;
    const char *error; /* a part of the message, or NULL when the value is good */
};

static const struct value_case value_cases[] = {
    /* durations */
    {"clock.offset=1.5s", 1500 * MS, 1500 * MS, false, NULL},
    {"clock.offset=200us", 200000, 200000, false, NULL},
    {"clock.offset=0", 0, 0, false, NULL},
    {"clock.offset=1m", 60 * S, 60 * S, false, NULL},
    {"clock.offset=0.5us", 500, 500, false, NULL},
    {"clock.offset=7ns", 7, 7, false, NULL},
    {"clock.offset=1.000000001s", S + 1, S + 1, false, NULL},
    {"clock.offset=1.0000000000s", S, S, false, NULL},
    {"clock.offset=0.25m", 15 * S, 15 * S, false, NULL},
    {"clock.offset=1.0000000001s", 0, 0, false, "finer than 1ns"},
    {"clock.offset=1.5ns", 0, 0, false, "finer than 1ns"},
    {"clock.offset=18446744073709551616ns", 0, 0, false, "too large"},
    {"clock.offset=18446744073709551615ns", 0, 0, false, "out of range (0..60m)"},
    {"clock.offset=5", 0, 0, false, "missing unit in '5'"},
    {"clock.offset=.5s", 0, 0, false, "expected a duration"},
    {"clock.offset=5.s", 0, 0, false, "expected a duration"},
    {"clock.offset=1e3s", 0, 0, false, "unknown unit 'e3s'"},
    {"clock.offset=-1s", 0, 0, false, "expected a duration"},
    {"raft.election_timeout=5ms", 0, 0, false, "out of range (10ms..1m)"},
    /* percents in ppm */
    {"net.loss=0.1%", 1000, 1000, false, NULL},
    {"net.loss=100%", 1000000, 1000000, false, NULL},
    {"net.loss=0.0001%", 1, 1, false, NULL},
    {"net.loss=0.00001%", 0, 0, false, "finer than 1 ppm"},
    {"net.loss=12", 0, 0, false, "expected a percentage"},
    {"net.loss=%", 0, 0, false, "expected a percentage"},
    {"net.loss=100.01%", 0, 0, false, "out of range (0%..100%)"},
    /* sizes */
    {"raft.batch_bytes=64KiB", 65536, 65536, false, NULL},
    {"raft.batch_bytes=1MiB", 1 << 20, 1 << 20, false, NULL},
    {"raft.batch_bytes=1.5KiB", 1536, 1536, false, NULL},
    {"raft.batch_bytes=1.0009765625KiB", 1025, 1025, false, NULL},
    {"raft.batch_bytes=1.00097656KiB", 0, 0, false, "finer than 1 byte"},
    {"raft.batch_bytes=0.5MiB", 512 << 10, 512 << 10, false, NULL},
    {"clock.offset=0.000000001s", 1, 1, false, NULL},
    {"clock.offset=0.1000000000000000000000s", 100 * MS, 100 * MS, false, NULL},
    {"clock.offset=0.0000000000000000001s", 0, 0, false, "finer than 1ns"},
    {"clock.offset=0.0166666666666666666m", 0, 0, false, "finer than 1ns"},
    {"clock.offset=0.5m", 30 * S, 30 * S, false, NULL},
    {"raft.batch_bytes=8MiB", 8 << 20, 8 << 20, false, NULL},
    {"raft.batch_bytes=9MiB", 0, 0, false, "out of range (1KiB..8MiB)"},
    {"workload.value_size=16B", 16, 16, false, NULL},
    {"workload.value_size=0.5B", 0, 0, false, "finer than 1 byte"},
    {"raft.batch_bytes=64kb", 0, 0, false, "unknown size unit 'kb'"},
    {"disk.block=2048", 2048, 2048, false, NULL},
    {"disk.block=3000", 0, 0, false, "not a power of two"},
    /* ints and drawn ints */
    {"cluster.nodes=7", 7, 7, false, NULL},
    {"clock.drift=-200..200", -200, 200, true, NULL},
    {"clock.drift=-300..-100", -300, -100, true, NULL},
    {"clock.drift=-100001", 0, 0, false, "out of range (-100000..100000)"},
    {"clock.drift=--1", 0, 0, false, "expected an integer"},
    {"cluster.nodes=3.5", 0, 0, false, "expected an integer"},
    {"cluster.nodes=99999999999999999999", 0, 0, false, "too large"},
    {"cluster.nodes=5..3", 0, 0, false, "lower bound"},
    {"cluster.nodes=3..", 0, 0, false, "expected an integer, got ''"},
    /* bools and enums */
    {"raft.pre_vote=off", 0, 0, false, NULL},
    {"raft.pre_vote=true", 1, 1, false, NULL},
    {"raft.pre_vote=yes", 0, 0, false, "must be on, off, true or false"},
    {"raft.read=lease", 1, 1, false, NULL},
    {"raft.read=lease..read_index", 0, 0, false, "cannot be drawn"},
    /* rates */
    {"workload.rate=closed", 0, 0, false, NULL},
    {"workload.rate=2000/s", 2000, 2000, false, NULL},
    {"workload.rate=100/s..500/s", 100, 500, true, NULL},
    {"workload.rate=1.5/s", 0, 0, false, "finer than 1 operation per second"},
    {"workload.rate=0/s", 0, 0, false, "write closed"},
    {"workload.rate=closed..5/s", 0, 0, false, "closed cannot be part of a drawn range"},
    {"workload.rate=2000", 0, 0, false, "expected a rate"},
    /* ranges: A..B is the per-message range, never "drawn" */
    {"net.latency=3ms", 3 * MS, 3 * MS, false, NULL},
    {"net.latency=1ms..5ms", MS, 5 * MS, false, NULL},
    {"net.latency=0..1m", 0, 60 * S, false, NULL},
    {"net.latency=5ms..1ms", 0, 0, false, "lower bound"},
    {"net.latency=1ms..2m", 0, 0, false, "out of range (0..1m)"},
    /* drawn scalars; equal ends are not a draw */
    {"raft.heartbeat=50ms..100ms", 50 * MS, 100 * MS, true, NULL},
    {"raft.heartbeat=5ms..5ms", 5 * MS, 5 * MS, false, NULL},
    {"net.loss=0%..5%", 0, 50000, true, NULL},
    {"disk.block=512..1024", 0, 0, false, "cannot be drawn"},
};

static void test_values_parse_to_typed_fields(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof value_cases / sizeof value_cases[0]; i++) {
        const struct value_case *c = &value_cases[i];
        struct rs_scenario s;
        struct rs_scn_error err;
        rs_scenario_init(&s);
        enum rs_err rc = rs_scenario_apply_set(&s, c->assignment, &err);
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(c->assignment, "="), c->assignment);
        if (c->error == NULL) {
            if (rc != RS_OK) {
                fail_msg("%s: %s", c->assignment, err.message);
            }
            const struct rs_scn_value *v = rs_scenario_get(&s, name);
            if (v->lo != c->lo || v->hi != c->hi || v->drawn != c->drawn) {
                fail_msg("%s: got %lld..%lld drawn=%d", c->assignment, (long long)v->lo,
                         (long long)v->hi, v->drawn);
            }
            assert_int_equal(v->origin, RS_SCN_FROM_FLAG);
        } else {
            assert_int_equal(rc, RS_EINVAL);
            assert_int_equal(err.exit_code, RS_SCN_EXIT_USAGE);
            if (strstr(err.message, c->error) == NULL) {
                fail_msg("%s: message '%s' lacks '%s'", c->assignment, err.message, c->error);
            }
            /* Flag errors start by naming the flag. */
            char prefix[300];
            snprintf(prefix, sizeof prefix, "--set %s: ", c->assignment);
            assert_memory_equal(err.message, prefix, strlen(prefix));
        }
    }
}

static void test_mix_and_distribution(void **state)
{
    (void)state;
    struct rs_scenario s;
    struct rs_scn_error err;
    rs_scenario_init(&s);
    const struct rs_scn_value *mix = &s.settings[RS_SCN_WORKLOAD_MIX];
    const struct rs_scn_value *dist = &s.settings[RS_SCN_WORKLOAD_DIST];
    /* The default mix covers the six single-key operations (the later ones are opt-in). */
    for (size_t i = 0; i <= RS_SCN_OP_GET_AND_PUT; i++) {
        assert_true(mix->mix_weight[i] > 0);
    }
    assert_int_equal(rs_scenario_apply_set(&s, "workload.mix=get:50,put:40,cas:10", &err), RS_OK);
    assert_int_equal(mix->mix_weight[RS_SCN_OP_GET], 50);
    assert_int_equal(mix->mix_weight[RS_SCN_OP_PUT], 40);
    assert_int_equal(mix->mix_weight[RS_SCN_OP_CAS], 10);
    assert_int_equal(mix->mix_weight[RS_SCN_OP_DELETE], 0);
    assert_int_equal(rs_scenario_apply_set(&s, "workload.mix=get_and_put:1000000,get:0", &err),
                     RS_OK);
    assert_int_equal(mix->mix_weight[RS_SCN_OP_GET_AND_PUT], 1000000);
    assert_int_equal(mix->mix_weight[RS_SCN_OP_GET], 0);

    static const char *const bad_mixes[][2] = {
        {"workload.mix=get:50,,put:1", "empty entry in the mix"},
        {"workload.mix=get:50,", "empty entry in the mix"},
        {"workload.mix=get", "expected operation:weight"},
        {"workload.mix=get:1000001", "must be an integer in 0..1000000"},
        {"workload.mix=get:-1", "must be an integer"},
        {"workload.mix=get:", "must be an integer"},
        {"workload.mix=put:1,put:2", "appears twice"},
        {"workload.mix=delete:0", "at least one positive weight"},
        {"workload.mix=gte:1", "did you mean 'get'?"},
    };
    for (size_t i = 0; i < sizeof bad_mixes / sizeof bad_mixes[0]; i++) {
        assert_int_equal(rs_scenario_apply_set(&s, bad_mixes[i][0], &err), RS_EINVAL);
        assert_non_null(strstr(err.message, bad_mixes[i][1]));
    }
    assert_int_equal(mix->mix_weight[RS_SCN_OP_GET_AND_PUT], 1000000); /* unchanged */

    assert_int_equal(rs_scenario_apply_set(&s, "workload.dist=zipf:0.99", &err), RS_OK);
    assert_int_equal(dist->dist, RS_SCN_DIST_ZIPF);
    assert_int_equal(dist->dist_param, 990);
    assert_int_equal(rs_scenario_apply_set(&s, "workload.dist=zipf:5", &err), RS_OK);
    assert_int_equal(dist->dist_param, 5000);
    assert_int_equal(rs_scenario_apply_set(&s, "workload.dist=hot:10%", &err), RS_OK);
    assert_int_equal(dist->dist, RS_SCN_DIST_HOT);
    assert_int_equal(dist->dist_param, 100000);
    assert_int_equal(rs_scenario_apply_set(&s, "workload.dist=sequential", &err), RS_OK);
    assert_int_equal(dist->dist, RS_SCN_DIST_SEQUENTIAL);
    static const char *const bad_dists[][2] = {
        {"workload.dist=zipf", "needs a parameter"},
        {"workload.dist=zipf:", "needs a parameter"},
        {"workload.dist=zipf:0.9999", "finer than 0.001"},
        {"workload.dist=zipf:5.001", "out of range (0..5)"},
        {"workload.dist=hot:0%", "out of range"},
        {"workload.dist=hot:101%", "out of range"},
        {"workload.dist=uniform:3", "takes no parameter"},
        {"workload.dist=unifrom", "did you mean 'uniform'?"},
    };
    for (size_t i = 0; i < sizeof bad_dists / sizeof bad_dists[0]; i++) {
        assert_int_equal(rs_scenario_apply_set(&s, bad_dists[i][0], &err), RS_EINVAL);
        if (strstr(err.message, bad_dists[i][1]) == NULL) {
            fail_msg("%s: %s", bad_dists[i][0], err.message);
        }
    }
}

static void test_formatting_is_canonical(void **state)
{
    (void)state;
    char text[64];
    static const struct {
        enum rs_scn_type type;
        int64_t value;
        const char *text;
    } cases[] = {
        {RS_SCN_DURATION, 0, "0"},
        {RS_SCN_DURATION, 1500 * (int64_t)MS, "1500ms"},
        {RS_SCN_DURATION, 90 * (int64_t)S, "90s"},
        {RS_SCN_DURATION, 120 * (int64_t)S, "2m"},
        {RS_SCN_DURATION, 1001, "1001ns"},
        {RS_SCN_PERCENT, 1000, "0.1%"},
        {RS_SCN_PERCENT, 1, "0.0001%"},
        {RS_SCN_PERCENT, 1000000, "100%"},
        {RS_SCN_PERCENT, 995000, "99.5%"},
        {RS_SCN_SIZE, 1024, "1KiB"},
        {RS_SCN_SIZE, 1536, "1536"},
        {RS_SCN_SIZE, 8 << 20, "8MiB"},
        {RS_SCN_SIZE, 0, "0"},
        {RS_SCN_RATE, 0, "closed"},
        {RS_SCN_RATE, 2000, "2000/s"},
        {RS_SCN_INT, -200, "-200"},
        {RS_SCN_BOOL, 1, "on"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = rs_scn_scalar_format(cases[i].type, cases[i].value, text, sizeof text);
        assert_string_equal(text, cases[i].text);
        assert_int_equal(n, strlen(cases[i].text));
    }
    /* Truncation keeps a terminated string and reports the full length. */
    assert_int_equal(rs_scn_scalar_format(RS_SCN_RATE, 2000, text, 3), 6);
    assert_string_equal(text, "20");
}

/* ---- whole files ---- */

static void test_full_file_settings(void **state)
{
    (void)state;
    struct rs_scenario s;
    struct rs_scn_error err;
    assert_int_equal(rs_scenario_load_file(DATA_DIR "/good/full.scn", &s, &err), RS_OK);
    assert_string_equal(s.name, "leader-isolation");
    assert_string_equal(s.describe,
                        "Isolate the leader of the only region; the rest elects a "
                        "new one; nothing is lost.");
    assert_int_equal(s.settings[RS_SCN_CLUSTER_NODES].lo, 5);
    assert_int_equal(s.settings[RS_SCN_CLUSTER_NODES].origin, RS_SCN_FROM_FILE);
    assert_int_equal(s.settings[RS_SCN_CLUSTER_NODES].line, 6);
    assert_int_equal(s.settings[RS_SCN_CLUSTER_NODES].column, 11);
    assert_int_equal(s.settings[RS_SCN_RAFT_ELECTION_TIMEOUT].lo, 1500 * MS);
    assert_int_equal(s.settings[RS_SCN_RAFT_PRE_VOTE].lo, 0);
    assert_int_equal(s.settings[RS_SCN_RAFT_READ].lo, 1);
    assert_int_equal(s.settings[RS_SCN_RAFT_BATCH_BYTES].lo, 64 * 1024);
    assert_int_equal(s.settings[RS_SCN_RAFT_MAX_DRIFT].lo, 2000);
    assert_int_equal(s.settings[RS_SCN_RAFT_HIBERNATE].lo, 1);
    assert_int_equal(s.settings[RS_SCN_NET_LATENCY].lo, MS);
    assert_int_equal(s.settings[RS_SCN_NET_LATENCY].hi, 5 * MS);
    assert_false(s.settings[RS_SCN_NET_LATENCY].drawn);
    assert_int_equal(s.settings[RS_SCN_NET_LOSS].lo, 2500);
    assert_int_equal(s.settings[RS_SCN_DISK_SYNC_LATENCY].lo, 2 * MS);
    assert_int_equal(s.settings[RS_SCN_DISK_SYNC_LATENCY].hi, 2 * MS);
    assert_int_equal(s.settings[RS_SCN_DISK_BLOCK].lo, 512);
    assert_int_equal(s.settings[RS_SCN_CLOCK_DRIFT].lo, -200);
    assert_int_equal(s.settings[RS_SCN_CLOCK_DRIFT].hi, 200);
    assert_true(s.settings[RS_SCN_CLOCK_DRIFT].drawn);
    assert_int_equal(s.settings[RS_SCN_WORKLOAD_RATE].lo, 2000);
    assert_int_equal(s.settings[RS_SCN_WORKLOAD_VALUE_SIZE].lo, 1024);
    assert_int_equal(s.settings[RS_SCN_WORKLOAD_READERS].lo, 4);
    assert_int_equal(s.settings[RS_SCN_CHECK_LEADER_WITHIN].lo, 5 * S);
    /* full.scn is the sample of every setting: a new schema row belongs in it too. */
    for (size_t i = 0; i < RS_SCN_SETTING_COUNT; i++) {
        if (s.settings[i].origin != RS_SCN_FROM_FILE) {
            fail_msg("full.scn does not set %s", rs_scn_schema[i].section_key);
        }
    }
    assert_int_equal(s.run_ns, 30 * S);
    rs_scenario_free(&s);
    rs_scenario_free(&s); /* freeing twice is safe */
}

static void test_full_file_timeline(void **state)
{
    (void)state;
    struct rs_scenario s;
    struct rs_scn_error err;
    assert_int_equal(rs_scenario_load_file(DATA_DIR "/good/full.scn", &s, &err), RS_OK);
    assert_int_equal(s.command_count, 11);
    const struct rs_scn_command *c = s.commands;
    assert_int_equal(c[0].verb, RS_SCN_PARTITION_ISOLATE);
    assert_int_equal(c[0].at_ns, 5 * S);
    assert_int_equal(c[0].target.kind, RS_SCN_TARGET_LEADER);
    assert_int_equal(c[0].line, 18);
    assert_int_equal(c[0].time_column, 4);
    assert_int_equal(c[1].verb, RS_SCN_PARTITION_ONE_WAY);
    assert_int_equal(c[1].source.kind, RS_SCN_TARGET_NODE);
    assert_int_equal(c[1].source.node, 1);
    assert_int_equal(c[1].target.kind, RS_SCN_TARGET_FOLLOWER);
    assert_int_equal(c[2].verb, RS_SCN_SET);
    assert_int_equal(c[2].at_ns, 7500 * MS);
    assert_int_equal(c[2].setting, RS_SCN_NET_LOSS);
    assert_int_equal(c[2].value.lo, 200000);
    assert_int_equal(c[3].setting, RS_SCN_NET_LATENCY);
    assert_int_equal(c[3].value.hi, 50 * MS);
    assert_int_equal(c[4].verb, RS_SCN_HEAL);
    assert_int_equal(c[5].verb, RS_SCN_CRASH);
    assert_int_equal(c[5].target.node, 2);
    assert_int_equal(c[6].verb, RS_SCN_RESTART);
    assert_int_equal(c[7].verb, RS_SCN_PARTITION_MINORITY);
    assert_int_equal(c[7].target.kind, RS_SCN_TARGET_RANDOM);
    assert_int_equal(c[8].verb, RS_SCN_PARTITION_MAJORITY_MINORITY);
    assert_true(c[9].repeat);
    assert_int_equal(c[9].verb, RS_SCN_CRASH_RESTART);
    assert_int_equal(c[9].period_ns, 10 * S);
    assert_int_equal(c[9].at_ns, 10 * S); /* no `from`: one period in */
    assert_true(c[9].until_ns == RS_SCN_TIME_END);
    assert_int_equal(c[9].down_lo_ns, 500 * MS);
    assert_int_equal(c[9].down_hi_ns, 2 * S);
    assert_int_equal(c[10].at_ns, 1 * S);
    assert_int_equal(c[10].period_ns, 3 * S);
    assert_int_equal(c[10].until_ns, 20 * S);
    assert_int_equal(c[10].target.kind, RS_SCN_TARGET_FOLLOWER);
    assert_int_equal(c[10].down_lo_ns, c[10].down_hi_ns);
    rs_scenario_free(&s);
}

static void test_full_file_expectations(void **state)
{
    (void)state;
    struct rs_scenario s;
    struct rs_scn_error err;
    assert_int_equal(rs_scenario_load_file(DATA_DIR "/good/full.scn", &s, &err), RS_OK);
    assert_int_equal(s.expect_count, 6);
    const struct rs_scn_expect *e = s.expects;
    assert_int_equal(e[0].kind, RS_SCN_EXPECT_LINEARIZABLE);
    assert_int_equal(e[1].kind, RS_SCN_EXPECT_LEADER_WITHIN);
    assert_int_equal(e[1].within_ns, 3 * S);
    assert_true(e[1].has_after);
    assert_int_equal(e[1].after_ns, 5 * S);
    assert_false(e[2].has_after);
    assert_int_equal(e[3].kind, RS_SCN_EXPECT_CONVERGED_WITHIN);
    assert_int_equal(e[3].within_ns, 15 * S);
    assert_int_equal(e[4].kind, RS_SCN_EXPECT_OPS_OK);
    assert_int_equal(e[4].ops_ok_min, 1000);
    assert_int_equal(e[5].kind, RS_SCN_EXPECT_AVAILABILITY);
    assert_int_equal(e[5].availability_min_ppm, 995000);
    rs_scenario_free(&s);
}

static void test_drawn_file_typed(void **state)
{
    (void)state;
    struct rs_scenario s;
    struct rs_scn_error err;
    assert_int_equal(rs_scenario_load_file(DATA_DIR "/good/drawn.scn", &s, &err), RS_OK);
    const struct rs_scn_value *nodes = &s.settings[RS_SCN_CLUSTER_NODES];
    assert_true(nodes->drawn);
    assert_int_equal(nodes->lo, 3);
    assert_int_equal(nodes->hi, 5);
    assert_true(s.settings[RS_SCN_RAFT_ELECTION_TIMEOUT].drawn);
    assert_int_equal(s.settings[RS_SCN_RAFT_ELECTION_TIMEOUT].lo, 500 * MS);
    assert_int_equal(s.settings[RS_SCN_NET_LOSS].hi, 50000);
    assert_false(s.settings[RS_SCN_DISK_WRITE_LATENCY].drawn);
    assert_int_equal(s.settings[RS_SCN_DISK_WRITE_LATENCY].hi, MS);
    assert_int_equal(s.settings[RS_SCN_WORKLOAD_VALUE_SIZE].hi, 4096);
    assert_int_equal(s.commands[0].down_lo_ns, 100 * MS);
    assert_int_equal(s.commands[0].down_hi_ns, 5 * S);
    assert_true(s.commands[1].value.drawn);
    assert_int_equal(s.commands[1].value.hi, 900000);
    assert_int_equal(s.run_ns, 60 * S);
    rs_scenario_free(&s);
}

static void test_line_endings_do_not_matter(void **state)
{
    (void)state;
    struct rs_scenario crlf;
    struct rs_scenario lf;
    struct rs_scn_error err;
    assert_int_equal(rs_scenario_load_file(DATA_DIR "/good/crlf.scn", &crlf, &err), RS_OK);
    load_ok("lf",
            "name crlf\ncluster nodes=3\n\n# comment\nat 1s heal\nrun 2s\n"
            "expect linearizable\n",
            &lf);
    assert_true(rs_scenario_equal(&crlf, &lf));
    assert_int_equal(crlf.commands[0].line, 5);
    rs_scenario_free(&crlf);
    rs_scenario_free(&lf);
    /* A file at its defaults equals the minimal file. */
    struct rs_scenario minimal;
    struct rs_scenario written;
    assert_int_equal(rs_scenario_load_file(DATA_DIR "/good/minimal.scn", &minimal, &err), RS_OK);
    assert_int_equal(rs_scenario_load_file(DATA_DIR "/good/defaults-written.scn", &written, &err),
                     RS_OK);
    assert_true(rs_scenario_equal(&minimal, &written));
    rs_scenario_free(&minimal);
    rs_scenario_free(&written);
}

/* Every bad sample fails with exactly the error its first line announces. */
static void test_bad_samples_give_located_errors(void **state)
{
    (void)state;
    static char names[128][256];
    size_t count = list_samples(DATA_DIR "/bad", names, 128);
    assert_true(count >= 50);
    for (size_t i = 0; i < count; i++) {
        size_t size = 0;
        char *text = read_whole(names[i], &size);
        const char *marker = "# error: ";
        assert_memory_equal(text, marker, strlen(marker));
        char expected[600];
        size_t header = strcspn(text, "\n") - strlen(marker);
        snprintf(expected, sizeof expected, "%s:%.*s", names[i], (int)header,
                 text + strlen(marker));
        free(text);

        struct rs_scenario s;
        struct rs_scn_error err;
        char got[600];
        assert_int_equal(rs_scenario_load_file(names[i], &s, &err), RS_EINVAL);
        assert_int_equal(err.exit_code, RS_SCN_EXIT_DATAERR);
        rs_scn_error_format(&err, got, sizeof got);
        if (strcmp(got, expected) != 0) {
            fail_msg("\n  expected %s\n  got      %s", expected, got);
        }
        assert_int_equal(s.command_count, 0);
        rs_scenario_free(&s);
    }
}

static void test_missing_file(void **state)
{
    (void)state;
    struct rs_scenario s;
    struct rs_scn_error err;
    char line[512];
    assert_int_equal(rs_scenario_load_file(DATA_DIR "/nope.scn", &s, &err), RS_EIO);
    rs_scn_error_format(&err, line, sizeof line);
    assert_non_null(strstr(line, "nope.scn: cannot open: "));
    assert_int_equal(err.exit_code, RS_SCN_EXIT_DATAERR);
    rs_scenario_free(&s);
    /* A directory opens but does not read. */
    assert_int_equal(rs_scenario_load_file(DATA_DIR, &s, &err), RS_EIO);
    rs_scn_error_format(&err, line, sizeof line);
    assert_string_equal(line, DATA_DIR ": cannot read the file");
    rs_scenario_free(&s);
}

/* ---- limits and hostile bytes ---- */

static char *repeat_lines(const char *line, size_t count, const char *tail)
{
    size_t size = strlen(line) * count + strlen(tail) + 1;
    char *text = malloc(size);
    assert_non_null(text);
    text[0] = '\0';
    size_t len = 0;
    for (size_t i = 0; i < count; i++) {
        memcpy(text + len, line, strlen(line));
        len += strlen(line);
    }
    memcpy(text + len, tail, strlen(tail) + 1);
    return text;
}

static void test_limits_are_located(void **state)
{
    (void)state;
    char line[600];
    /* A line one byte too long: the error is at the first byte beyond the limit. */
    char *text = repeat_lines("#", RS_SCN_LINE_SIZE_MAX + 1, "\nrun 1s\n");
    struct rs_scn_error err = load_bad(text, line, sizeof line);
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, RS_SCN_LINE_SIZE_MAX + 1);
    free(text);
    /* Exactly at the limit is fine. */
    text = repeat_lines("#", RS_SCN_LINE_SIZE_MAX, "\nrun 1s\n");
    struct rs_scenario s;
    load_ok("t.scn", text, &s);
    rs_scenario_free(&s);
    free(text);

    text = repeat_lines("\n", RS_SCN_LINE_COUNT_MAX, "run 1s\n");
    err = load_bad(text, line, sizeof line);
    assert_string_equal(line, "t.scn:4097:1: more than 4096 lines");
    free(text);

    text = repeat_lines("at 1s heal\n", RS_SCN_COMMAND_COUNT_MAX + 1, "run 1s\n");
    err = load_bad(text, line, sizeof line);
    assert_string_equal(line, "t.scn:4001:1: more than 4000 timeline commands");
    free(text);

    text = repeat_lines("expect linearizable\n", RS_SCN_EXPECT_COUNT_MAX + 1, "run 1s\n");
    err = load_bad(text, line, sizeof line);
    assert_string_equal(line, "t.scn:65:1: more than 64 expectations");
    free(text);

    text = repeat_lines("a ", RS_SCN_WORD_COUNT_MAX + 1, "\n");
    err = load_bad(text, line, sizeof line);
    assert_string_equal(line, "t.scn:1:129: more than 64 words on a line");
    free(text);

    /* Twelve lines of 40 bytes joined by spaces fit in 511 bytes; the thirteenth does not. */
    text = repeat_lines("describe 0123456789012345678901234567890123456789\n", 13, "run 1s\n");
    err = load_bad(text, line, sizeof line);
    assert_string_equal(line, "t.scn:13:10: the description is longer than 511 bytes");
    free(text);
}

static void test_hostile_bytes(void **state)
{
    (void)state;
    struct rs_scenario s;
    struct rs_scn_error err;
    char line[600];
    static const char nul[] = "run 1s\nat 1s he\0al\n";
    assert_int_equal(rs_scenario_load_text("t.scn", nul, sizeof nul - 1, &s, &err), RS_EINVAL);
    rs_scn_error_format(&err, line, sizeof line);
    assert_string_equal(line, "t.scn:2:9: NUL byte in the line");
    rs_scenario_free(&s);

    load_bad("run 1s\r\r\n", line, sizeof line);
    assert_string_equal(line, "t.scn:1:7: control byte 0x0d in the line");

    /* Empty input: the missing run line is reported at 1:1. */
    assert_int_equal(rs_scenario_load_text("t.scn", "", 0, &s, &err), RS_EINVAL);
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 1);
    rs_scenario_free(&s);

    /* Words quoted in messages are escaped and cut short. */
    load_bad("net loss=\x80\xff\n", line, sizeof line);
    assert_string_equal(line, "t.scn:1:10: expected a percentage such as 0.1%, got '\\x80\\xff'");
    char *text = repeat_lines("x", 200, " 1\n");
    load_bad(text, line, sizeof line);
    assert_non_null(strstr(line, "xxxx...'"));
    assert_true(strlen(line) < 300);
    free(text);

    /* A comment starts only at the start of a word. */
    load_ok("t.scn", "describe issue#12  and #13\nrun 1s\n", &s);
    assert_string_equal(s.describe, "issue#12  and");
    rs_scenario_free(&s);
    load_bad("run 1s#x\n", line, sizeof line);
    assert_string_equal(line, "t.scn:1:6: unknown unit 's#x' in '1s#x' (ns, us, ms, s or m)");
    load_bad("run 1s\nrun#\n", line, sizeof line);
    assert_string_equal(
        line,
        "t.scn:2:1: unknown line 'run#' (did you mean 'run'?): expected name, describe, a "
        "settings section (cluster, raft, net, disk, clock, workload, "
        "check, nemesis), at, every, run or expect");
}

static void test_errors_at_end_of_line(void **state)
{
    (void)state;
    char line[600];
    static const char *const cases[][2] = {
        {"run", "t.scn:1:4: run needs a duration"},
        {"run 1s\nat 1s",
         "t.scn:2:6: missing command: partition, heal, crash, restart, crash-restart, set, "
         "clog, unclog, swizzle-clog, filter, bandwidth, pause, resume, "
         "disk-fail|full|slow|corrupt|heal, clock-drift|jump, wipe, snapshot, add-peer, "
         "remove-peer, add-learner, remove-learner, promote, transfer-leader, change-peers, "
         "split, pd-crash, pd-isolate or rebalance"},
        {"run 1s\nat", "t.scn:2:3: at needs a time and a command"},
        {"run 1s\nexpect leader within", "t.scn:2:21: within needs a duration"},
        {"run 1s\nexpect leader", "t.scn:2:14: expect leader needs 'within DURATION'"},
        {"run 1s\nexpect leader within 1s after", "t.scn:2:30: after needs a time"},
        {"run 1s\nexpect ops_ok >= 1.5",
         "t.scn:2:18: expected a count of operations, "
         "got '1.5'"},
        {"run 1s\nevery 1s from", "t.scn:2:14: from needs a time"},
        {"run 1s\nevery 1s from 1s from 2s heal", "t.scn:2:18: from is given twice"},
        {"run 1s\nat 1s partition",
         "t.scn:2:16: partition needs a kind: isolate, minority, "
         "majority-minority, one-way, bridge, ring or groups="},
        {"run 1s\nat 1s partition one-way from=leader from=random",
         "t.scn:2:37: from= is given twice"},
        {"run 1s\nat 1s partition one-way from=leader too=random",
         "t.scn:2:37: expected from=TARGET or to=TARGET, got 'too=random'"},
        {"run 1s\nat 1s crash-restart leader down=2s..1s",
         "t.scn:2:33: the lower bound of '2s..1s' is above the upper bound"},
        {"run 1s\nat 1s set net.loss",
         "t.scn:2:11: expected section.key=value, "
         "got 'net.loss'"},
        {"run 1s\nat 1s set net.loss=", "t.scn:2:20: missing value for net.loss"},
        {"net", "t.scn:1:4: net needs key=value settings"},
        {"net =1%\nrun 1s", "t.scn:1:5: expected key=value, got '=1%'"},
        {"name", "t.scn:1:5: name needs an identifier"},
        {"describe", "t.scn:1:9: describe needs some text"},
        {"run 0s", "t.scn:1:5: run needs a positive duration"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        load_bad(cases[i][0], line, sizeof line);
        if (strcmp(line, cases[i][1]) != 0) {
            fail_msg("\n  expected %s\n  got      %s", cases[i][1], line);
        }
    }
}

/* ---- overrides ---- */

static void test_overrides_name_the_flag(void **state)
{
    (void)state;
    struct rs_scenario s;
    struct rs_scn_error err;
    char line[600];
    load_ok("x.scn",
            "cluster nodes=5 replicas=3\nraft heartbeat=100ms\n"
            "at 1s crash node(5)\nrun 10s\n",
            &s);
    /* A flag overrides a file setting. */
    assert_int_equal(rs_scenario_apply_set(&s, "raft.election_timeout=500ms", &err), RS_OK);
    assert_int_equal(s.settings[RS_SCN_RAFT_ELECTION_TIMEOUT].lo, 500 * MS);
    assert_int_equal(rs_scenario_apply_set(&s, "raft.heartbeat=50ms", &err), RS_OK);
    assert_int_equal(s.settings[RS_SCN_RAFT_HEARTBEAT].origin, RS_SCN_FROM_FLAG);
    assert_int_equal(rs_scenario_validate(&s, &err), RS_OK);

    /* A bad flag leaves the scenario unchanged and names itself. */
    assert_int_equal(rs_scenario_apply_set(&s, "raft.election_timeout=5", &err), RS_EINVAL);
    assert_int_equal(s.settings[RS_SCN_RAFT_ELECTION_TIMEOUT].lo, 500 * MS);
    rs_scn_error_format(&err, line, sizeof line);
    assert_string_equal(line,
                        "--set raft.election_timeout=5: missing unit in '5' "
                        "(ns, us, ms, s or m)");
    assert_int_equal(err.exit_code, RS_SCN_EXIT_USAGE);
    assert_int_equal(err.line, 0);
    assert_int_equal(err.column, 24);
    assert_int_equal(rs_scenario_apply_set(&s, "raft.x=1", &err), RS_EINVAL);
    assert_string_equal(err.message, "--set raft.x=1: unknown setting 'raft.x'");
    assert_int_equal(rs_scenario_apply_set(&s, "raft.hearbeat=1ms", &err), RS_EINVAL);
    assert_string_equal(err.message,
                        "--set raft.hearbeat=1ms: unknown setting "
                        "'raft.hearbeat' (did you mean 'raft.heartbeat'?)");
    assert_int_equal(rs_scenario_apply_set(&s, "loss=1%", &err), RS_EINVAL);
    assert_string_equal(err.message,
                        "--set loss=1%: unknown setting 'loss' "
                        "(did you mean 'net.loss'?)");
    assert_int_equal(rs_scenario_apply_set(&s, "net.loss", &err), RS_EINVAL);
    assert_string_equal(err.message,
                        "--set net.loss: expected section.key=value, "
                        "got 'net.loss'");
    assert_int_equal(rs_scenario_apply_set(&s, "net.loss=", &err), RS_EINVAL);
    assert_string_equal(err.message, "--set net.loss=: missing value for net.loss");

    rs_scenario_free(&s);
}

static void test_revalidation_blames_the_later_setting(void **state)
{
    (void)state;
    struct rs_scenario s;
    struct rs_scn_error err;
    char line[600];
    load_ok("x.scn",
            "cluster nodes=5 replicas=3\nraft heartbeat=100ms\n"
            "at 1s crash node(5)\nrun 10s\n",
            &s);
    assert_int_equal(rs_scenario_apply_set(&s, "raft.election_timeout=500ms", &err), RS_OK);
    /* Cross-field rules after overrides blame the flag that broke them. */
    assert_int_equal(rs_scenario_apply_set(&s, "raft.heartbeat=600ms", &err), RS_OK);
    assert_int_equal(rs_scenario_validate(&s, &err), RS_EINVAL);
    rs_scn_error_format(&err, line, sizeof line);
    assert_string_equal(line,
                        "--set raft.heartbeat=600ms: raft.heartbeat = 600ms must be "
                        "less than raft.election_timeout = 500ms");
    assert_int_equal(err.exit_code, RS_SCN_EXIT_USAGE);
    assert_int_equal(rs_scenario_apply_set(&s, "raft.heartbeat=100ms", &err), RS_OK);

    /* node(5) in the file, --set cluster.nodes=4: located in the file, blamed on the flag. */
    assert_int_equal(rs_scenario_apply_set(&s, "cluster.nodes=4", &err), RS_OK);
    assert_int_equal(rs_scenario_validate(&s, &err), RS_EINVAL);
    rs_scn_error_format(&err, line, sizeof line);
    assert_string_equal(line, "x.scn:3:13: node(5) does not exist with --set cluster.nodes=4");
    assert_int_equal(err.exit_code, RS_SCN_EXIT_USAGE);
    /* Nodes drawn from 4..6: node(5) might not exist in some seeds. */
    assert_int_equal(rs_scenario_apply_set(&s, "cluster.nodes=4..6", &err), RS_OK);
    assert_int_equal(rs_scenario_validate(&s, &err), RS_EINVAL);
    assert_int_equal(rs_scenario_apply_set(&s, "cluster.nodes=5..6", &err), RS_OK);
    assert_int_equal(rs_scenario_validate(&s, &err), RS_OK);

    /* replicas from the file, nodes from a flag: the flag came last. */
    assert_int_equal(rs_scenario_apply_set(&s, "cluster.nodes=2", &err), RS_OK);
    assert_int_equal(rs_scenario_validate(&s, &err), RS_EINVAL);
    assert_string_equal(err.message,
                        "--set cluster.nodes=2: cluster.replicas = 3 must be at "
                        "most cluster.nodes = 2");
    /* Then fix it with a later flag on the other side: that one is fine. */
    assert_int_equal(rs_scenario_apply_set(&s, "cluster.replicas=1", &err), RS_OK);
    assert_int_equal(rs_scenario_validate(&s, &err), RS_EINVAL); /* node(5) again */
    assert_int_equal(err.line, 3);
    rs_scenario_free(&s);

    /* Overlong flags are refused, not read. */
    char *flag = repeat_lines("x", RS_SCN_LINE_SIZE_MAX + 1, "");
    rs_scenario_init(&s);
    assert_int_equal(rs_scenario_apply_set(&s, flag, &err), RS_EINVAL);
    assert_true(strlen(err.message) < sizeof err.message);
    free(flag);
}

/* ---- round trip ---- */

static void assert_round_trip(const struct rs_scenario *s)
{
    size_t size = 0;
    char *text = write_text(s, &size);
    struct rs_scenario again;
    struct rs_scn_error err;
    if (rs_scenario_load_text("written", text, size, &again, &err) != RS_OK) {
        char line[600];
        rs_scn_error_format(&err, line, sizeof line);
        fail_msg("written text does not read back: %s\n%s", line, text);
    }
    if (!rs_scenario_equal(s, &again)) {
        fail_msg("written text reads back different:\n%s", text);
    }
    /* The canonical form is a fixed point. */
    size_t size_again = 0;
    char *text_again = write_text(&again, &size_again);
    assert_int_equal(size, size_again);
    assert_memory_equal(text, text_again, size);
    free(text);
    free(text_again);
    rs_scenario_free(&again);
}

static void test_write_read_round_trip(void **state)
{
    (void)state;
    static char names[128][256];
    size_t count = list_samples(DATA_DIR "/good", names, 128);
    assert_true(count >= 5);
    for (size_t i = 0; i < count; i++) {
        struct rs_scenario s;
        struct rs_scn_error err;
        assert_int_equal(rs_scenario_load_file(names[i], &s, &err), RS_OK);
        assert_round_trip(&s);
        rs_scenario_free(&s);
    }
    /* Equality sees every kind of difference. */
    struct rs_scenario a;
    struct rs_scenario b;
    struct rs_scn_error err;
    assert_int_equal(rs_scenario_load_file(DATA_DIR "/good/full.scn", &a, &err), RS_OK);
    assert_int_equal(rs_scenario_load_file(DATA_DIR "/good/full.scn", &b, &err), RS_OK);
    assert_true(rs_scenario_equal(&a, &b));
    b.commands[3].value.hi++;
    assert_false(rs_scenario_equal(&a, &b));
    b.commands[3].value.hi--;
    b.expects[5].availability_min_ppm++;
    assert_false(rs_scenario_equal(&a, &b));
    b.expects[5].availability_min_ppm--;
    b.settings[RS_SCN_WORKLOAD_MIX].mix_weight[RS_SCN_OP_DELETE] = 1;
    assert_false(rs_scenario_equal(&a, &b));
    b.settings[RS_SCN_WORKLOAD_MIX].mix_weight[RS_SCN_OP_DELETE] = 0;
    b.commands[1].source.node = 3;
    assert_false(rs_scenario_equal(&a, &b));
    b.commands[1].source.node = 1;
    assert_true(rs_scenario_equal(&a, &b));
    /* Overrides are written too. */
    assert_int_equal(rs_scenario_apply_set(&b, "net.dup=0.5%", &err), RS_OK);
    assert_round_trip(&b);
    rs_scenario_free(&a);
    rs_scenario_free(&b);
}

static void test_command_and_expect_format(void **state)
{
    (void)state;
    struct rs_scenario s;
    load_ok("t",
            "run 1m\nevery 2s from 4s until 20s partition one-way from=leader "
            "to=node(3)\nat 5s crash-restart node(1) down=1500ms\n"
            "expect leader within 3s after 5s\n",
            &s);
    char line[256];
    rs_scn_command_format(&s.commands[0], line, sizeof line);
    assert_string_equal(line,
                        "every 2s from 4s until 20s partition one-way from=leader "
                        "to=node(3)");
    rs_scn_command_format(&s.commands[1], line, sizeof line);
    assert_string_equal(line, "at 5s crash-restart node(1) down=1500ms");
    rs_scn_expect_format(&s.expects[0], line, sizeof line);
    assert_string_equal(line, "expect leader within 3s after 5s");
    rs_scenario_free(&s);
}


/* faults.scn: every fault command and option, read into the typed command. */
static void test_fault_commands(void **state)
{
    (void)state;
    struct rs_scenario s;
    struct rs_scn_error err;
    assert_int_equal(rs_scenario_load_file(DATA_DIR "/good/faults.scn", &s, &err), RS_OK);
    assert_int_equal(s.command_count, 30);
    assert_int_equal(s.settings[RS_SCN_NET_CORRUPT].lo, 100);
    assert_int_equal(s.settings[RS_SCN_CHECK_MODE].lo, 1);
    const struct rs_scn_command *c = s.commands;
    assert_int_equal(c[0].verb, RS_SCN_PARTITION_BRIDGE);
    assert_int_equal(c[0].target.node, 3);
    assert_int_equal(c[0].for_lo_ns, 2 * S);
    assert_int_equal(c[1].target.kind, RS_SCN_TARGET_RANDOM); /* the bridge, when not named */
    assert_int_equal(c[2].verb, RS_SCN_PARTITION_RING);
    assert_int_equal(c[2].for_lo_ns, 1 * S);
    assert_int_equal(c[2].for_hi_ns, 3 * S);
    assert_int_equal(c[3].verb, RS_SCN_PARTITION_GROUPS);
    const uint8_t groups[10] = {0, 1, 2, 2, 1, 3, 0, 0, 0, 0};
    assert_memory_equal(c[3].groups, groups, sizeof groups);
    assert_int_equal(c[4].for_lo_ns, 500 * MS);
    assert_int_equal(c[5].verb, RS_SCN_PARTITION_ONE_WAY);
    assert_int_equal(c[5].for_lo_ns, 1 * S);
    assert_int_equal(c[6].verb, RS_SCN_CLOG);
    assert_int_equal(c[6].target.node, 2);
    assert_int_equal(c[7].source.kind, RS_SCN_TARGET_LEADER);
    assert_int_equal(c[7].target.node, 4);
    assert_int_equal(c[9].verb, RS_SCN_UNCLOG);
    assert_int_equal(c[10].verb, RS_SCN_SWIZZLE_CLOG);
    assert_int_equal(c[10].amount_lo, 2);
    assert_int_equal(c[10].amount_hi, 3);
    assert_int_equal(c[10].interval_ns, 250 * MS);
    assert_int_equal(c[11].amount_lo, 0); /* a majority, decided when it fires */
    assert_int_equal(c[11].interval_ns, 1 * S);
    assert_int_equal(c[12].verb, RS_SCN_FILTER);
    assert_int_equal(c[12].msg_types,
                     (1ull << RS_MSG_APPEND_REQUEST) | (1ull << RS_MSG_VOTE_REQUEST));
    assert_int_equal(c[12].target.node, 3);
    assert_int_equal(c[13].source.kind, RS_SCN_TARGET_NONE); /* any sender */
    assert_int_equal(c[14].verb, RS_SCN_BANDWIDTH);
    assert_int_equal(c[14].amount_lo, 64 * 1024);
    assert_int_equal(c[15].verb, RS_SCN_PAUSE);
    assert_int_equal(c[15].for_lo_ns, 1500 * MS);
    assert_int_equal(c[16].verb, RS_SCN_RESUME);
    assert_int_equal(c[17].verb, RS_SCN_DISK_FAIL);
    assert_int_equal(c[17].write_ppm, 10000);
    assert_int_equal(c[17].sync_ppm, 5000);
    assert_int_equal(c[17].fail_next, 3);
    assert_true(c[17].dead);
    assert_false(c[18].dead);
    assert_int_equal(c[19].verb, RS_SCN_DISK_FULL);
    assert_int_equal(c[19].amount_lo, 4096);
    assert_int_equal(c[20].amount_lo, 0);
    assert_int_equal(c[21].verb, RS_SCN_DISK_SLOW);
    assert_int_equal(c[21].amount_hi, 20);
    assert_int_equal(c[22].verb, RS_SCN_DISK_CORRUPT);
    assert_int_equal(c[22].amount_lo, 4);
    assert_int_equal(c[22].scope, RS_SCN_SCOPE_ANY);
    assert_int_equal(c[23].amount_lo, 1);
    assert_int_equal(c[23].scope, RS_SCN_SCOPE_UNSYNCED);
    assert_int_equal(c[24].verb, RS_SCN_DISK_HEAL);
    assert_int_equal(c[25].verb, RS_SCN_DRIFT);
    assert_int_equal(c[25].amount_lo, -200);
    assert_int_equal(c[26].verb, RS_SCN_WALL_JUMP);
    assert_int_equal(c[26].amount_lo, -1500 * (int64_t)MS);
    assert_int_equal(c[26].amount_hi, 2 * (int64_t)S);
    assert_int_equal(c[28].verb, RS_SCN_WIPE);
    assert_int_equal(c[29].verb, RS_SCN_PAUSE);
    assert_true(c[29].repeat);
    assert_int_equal(c[29].for_hi_ns, 1 * S);
    char line[256];
    static const char *const written[][2] = {
        {"3", "at 2s partition groups=1,4/2,3/5"},
        {"7", "at 3s clog from=leader to=node(4)"},
        {"12", "at 6s filter drop vote_request,append_request from=leader to=node(3) for=2s"},
        {"17", "at 9s disk-fail follower write=1% sync=0.5% next=3 dead for=1s..2s"},
        {"26", "at 15s clock-jump node(2) by=-1500ms..2s"},
        {"27", "at 15s clock-jump node(3) by=5s"},
    };
    for (size_t i = 0; i < sizeof written / sizeof written[0]; i++) {
        rs_scn_command_format(&c[atoi(written[i][0])], line, sizeof line);
        assert_string_equal(line, written[i][1]);
    }
    /* Filters name the types as the engine does. */
    uint32_t named = 0;
    for (unsigned t = 1; t < RS_MSG_TYPE_MAX; t++) {
        const char *name = rs_msg_type_name(t);
        /* an envelope is filtered by the type of the frame it carries */
        if (strcmp(name, "unknown") != 0 && t != RS_MSG_REGION) {
            assert_int_equal(rs_scn_msg_type_bit(name, strlen(name)), 1ull << t);
            named++;
        }
    }
    assert_int_equal(named, 14);
    assert_int_equal(rs_scn_msg_type_bit("unknown", 7), 0);
    /* Equality sees the fault options. */
    struct rs_scenario b;
    assert_int_equal(rs_scenario_load_file(DATA_DIR "/good/faults.scn", &b, &err), RS_OK);
    assert_true(rs_scenario_equal(&s, &b));
    b.commands[3].groups[5] = 2;
    assert_false(rs_scenario_equal(&s, &b));
    b.commands[3].groups[5] = 3;
    b.commands[12].msg_types ^= 2;
    assert_false(rs_scenario_equal(&s, &b));
    b.commands[12].msg_types ^= 2;
    b.commands[21].amount_hi--;
    assert_false(rs_scenario_equal(&s, &b));
    b.commands[21].amount_hi++;
    b.commands[0].for_hi_ns++;
    assert_false(rs_scenario_equal(&s, &b));
    b.commands[0].for_hi_ns--;
    assert_true(rs_scenario_equal(&s, &b));
    rs_scenario_free(&b);
    rs_scenario_free(&s);
}

/* ---- fuzzing ---- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#define FUZZ_CAP 16384

/* Bytes that matter to the grammar, so that mutations reach deep into it. */
static const char interesting[] = " \t\n\r#=.:,%0123456789-()/\0\x7f\x80smunKiB";

static size_t mutate(char *buf, size_t size, uint64_t *rng)
{
    uint64_t rounds = 1 + splitmix64(rng) % 3;
    for (uint64_t r = 0; r < rounds; r++) {
        uint64_t kind = splitmix64(rng) % 8;
        size_t at = size > 0 ? (size_t)(splitmix64(rng) % size) : 0;
        char byte = (splitmix64(rng) & 1) ? interesting[splitmix64(rng) % (sizeof interesting - 1)]
                                          : (char)splitmix64(rng);
        if (kind == 0 && size > 0) {
            buf[at] ^= (char)(1u << (splitmix64(rng) % 8));
        } else if (kind == 1 && size < FUZZ_CAP) {
            memmove(buf + at + 1, buf + at, size - at);
            buf[at] = byte;
            size++;
        } else if (kind == 2 && size > 0) {
            memmove(buf + at, buf + at + 1, size - at - 1);
            size--;
        } else if (kind == 3 && size > 0) {
            buf[at] = byte;
        } else if (kind == 4 && size > 0) {
            /* A digit for a digit: mostly values that still read, some out of range. */
            for (size_t i = 0; i < size; i++) {
                size_t pos = (at + i) % size;
                if (buf[pos] >= '0' && buf[pos] <= '9') {
                    buf[pos] = (char)('0' + splitmix64(rng) % 10);
                    break;
                }
            }
        } else if ((kind == 5 || kind == 6) && size > 0) {
            /* Delete or duplicate the line that holds `at`. */
            size_t start = at;
            while (start > 0 && buf[start - 1] != '\n') {
                start--;
            }
            const char *nl = memchr(buf + at, '\n', size - at);
            size_t end = nl != NULL ? (size_t)(nl - buf) + 1 : size;
            size_t n = end - start;
            if (kind == 5) {
                memmove(buf + start, buf + end, size - end);
                size -= n;
            } else if (size + n <= FUZZ_CAP) {
                memmove(buf + end, buf + start, size - start);
                size += n;
            }
        } else if (size > 0) {
            /* Copy a slice elsewhere: repeats words, lines and values. */
            size_t from = (size_t)(splitmix64(rng) % size);
            size_t n = 1 + (size_t)(splitmix64(rng) % 40);
            n = n > size - from ? size - from : n;
            n = n > FUZZ_CAP - size ? FUZZ_CAP - size : n;
            memmove(buf + at + n, buf + at, size - at);
            memmove(buf + at, buf + (from >= at ? from + n : from), n);
            size += n;
        }
    }
    return size;
}

/* The error's line and column must point into the text (column may be one past the end). */
static void assert_located_inside(const char *text, size_t size, const struct rs_scn_error *err)
{
    size_t line_count = 0;
    size_t line_start = 0;
    size_t line_size = 0;
    for (size_t pos = 0; pos < size;) {
        const char *nl = memchr(text + pos, '\n', size - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : size;
        line_count++;
        if (line_count == err->line) {
            line_start = pos;
            line_size = end - pos;
        }
        pos = nl != NULL ? end + 1 : size;
    }
    (void)line_start;
    if (line_count == 0) {
        assert_int_equal(err->line, 1);
        assert_int_equal(err->column, 1);
        return;
    }
    if (err->line < 1 || err->line > line_count || err->column < 1 || err->column > line_size + 1) {
        fail_msg("error %u:%u outside the input (%zu lines, line size %zu): %s", err->line,
                 err->column, line_count, line_size, err->message);
    }
}

static void test_mutation_fuzz(void **state)
{
    (void)state;
    static char names[128][256];
    static char bad_names[128][256];
    size_t count = list_samples(DATA_DIR "/good", names, 128);
    size_t good_count = count;
    size_t bad_count = list_samples(DATA_DIR "/bad", bad_names, 128);
    for (size_t i = 0; i < bad_count && count < 128; i++) {
        memcpy(names[count++], bad_names[i], 256);
    }
    char *samples[128];
    size_t sizes[128];
    for (size_t i = 0; i < count; i++) {
        samples[i] = read_whole(names[i], &sizes[i]);
        assert_true(sizes[i] < FUZZ_CAP);
    }
    char *buf = malloc(FUZZ_CAP);
    assert_non_null(buf);
    uint64_t rng = 0x5ce7a210;
    size_t parsed = 0;
    for (int iteration = 0; iteration < 20000; iteration++) {
        /* Three in four start from a good sample, so that many mutants still read. */
        size_t pick = (splitmix64(&rng) % 4 != 0) ? (size_t)(splitmix64(&rng) % good_count)
                                                  : (size_t)(splitmix64(&rng) % count);
        memcpy(buf, samples[pick], sizes[pick]);
        size_t size = mutate(buf, sizes[pick], &rng);
        struct rs_scenario s;
        struct rs_scn_error err;
        enum rs_err rc = rs_scenario_load_text("fuzz.scn", buf, size, &s, &err);
        if (rc == RS_OK) {
            parsed++;
            assert_round_trip(&s);
        } else {
            assert_int_equal(rc, RS_EINVAL);
            assert_true(err.message[0] != '\0');
            assert_int_equal(err.exit_code, RS_SCN_EXIT_DATAERR);
            assert_located_inside(buf, size, &err);
        }
        rs_scenario_free(&s);
    }
    print_message("fuzz: %zu of 20000 mutated inputs parsed\n", parsed);
    /* The mutations must not be so wild that nothing parses, nor so mild that all does. */
    assert_true(parsed > 1000);
    assert_true(parsed < 19000);
    for (size_t i = 0; i < count; i++) {
        free(samples[i]);
    }
    free(buf);
}

/* ---- change-peers ---- */

/* Node lists read into bit sets, written back in node order. */
static void test_change_peers_reads_and_writes(void **state)
{
    (void)state;
    struct rs_scenario s;
    load_ok("t",
            "cluster nodes=5\nrun 20s\nat 5s change-peers voters=5,1,4 learners=2\n"
            "at 6s change-peers learners=4 voters=3\n"
            "at 7s change-peers voters=1,2,3,4,5\n",
            &s);
    assert_int_equal(s.command_count, 3);
    const struct rs_scn_command *c = s.commands;
    assert_int_equal(c[0].verb, RS_SCN_CHANGE_PEERS);
    assert_int_equal(c[0].conf_voters, (1u << 1) | (1u << 4) | (1u << 5));
    assert_int_equal(c[0].conf_learners, 1u << 2);
    assert_int_equal(c[0].target.kind, RS_SCN_TARGET_NONE);
    /* the options in either order; a single voter is enough */
    assert_int_equal(c[1].conf_voters, 1u << 3);
    assert_int_equal(c[1].conf_learners, 1u << 4);
    assert_int_equal(c[2].conf_learners, 0);
    char line[256];
    rs_scn_command_format(&c[0], line, sizeof line);
    assert_string_equal(line, "at 5s change-peers voters=1,4,5 learners=2");
    rs_scn_command_format(&c[2], line, sizeof line);
    assert_string_equal(line, "at 7s change-peers voters=1,2,3,4,5");
    assert_string_equal(rs_scn_verb_name(RS_SCN_CHANGE_PEERS), "change-peers");
    assert_round_trip(&s);
    rs_scenario_free(&s);
}

static void test_change_peers_errors_are_located(void **state)
{
    (void)state;
    char line[600];
    static const char *const cases[][2] = {
        {"run 9s\nat 1s change-peers",
         "t.scn:2:19: change-peers needs voters=: change-peers voters=N,N... [learners=N,N...]"},
        {"run 9s\nat 1s change-peers learners=2",
         "t.scn:2:30: change-peers needs voters=: change-peers voters=N,N... [learners=N,N...]"},
        {"run 9s\nat 1s change-peers voters=", "t.scn:2:27: missing node numbers after voters="},
        {"run 9s\nat 1s change-peers voters=1,3,1",
         "t.scn:2:31: node 1 is listed twice in voters="},
        {"run 9s\nat 1s change-peers voters=1,,2",
         "t.scn:2:29: expected node numbers such as voters=1,4,5, got '1,,2'"},
        {"run 9s\nat 1s change-peers voters=1,2,",
         "t.scn:2:31: expected node numbers such as voters=1,4,5, got '1,2,'"},
        {"run 9s\nat 1s change-peers voters=x", "t.scn:2:27: expected an integer, got 'x'"},
        {"run 9s\nat 1s change-peers voters=1,12",
         "t.scn:2:29: node '12' of voters= is out of range (1..9)"},
        {"run 9s\nat 1s change-peers voters=0",
         "t.scn:2:27: node '0' of voters= is out of range (1..9)"},
        {"run 9s\nat 1s change-peers voters=1,2 learners=3,2",
         "t.scn:2:42: node 2 is both a voter and a learner"},
        {"run 9s\nat 1s change-peers learners=1,2 voters=3,2",
         "t.scn:2:42: node 2 is both a voter and a learner"},
        {"run 9s\nat 1s change-peers voters=1 voters=2", "t.scn:2:29: voters= is given twice"},
        {"run 9s\nat 1s change-peers voters=1 node(2)",
         "t.scn:2:29: change-peers does not take 'node(2)': change-peers voters=N,N... "
         "[learners=N,N...]"},
        {"run 9s\nat 1s change-peers voters=1,2,3,4",
         "t.scn:2:27: node 4 of voters= does not exist: cluster.nodes is 3"},
        {"cluster nodes=4\nrun 9s\nat 1s change-peers voters=1 learners=2,5",
         "t.scn:3:38: node 5 of learners= does not exist: cluster.nodes is 4"},
        {"cluster nodes=9\nrun 9s\nat 1s change-peers voters=1 learners=2,3,4,5,6,7,8,9",
         "t.scn:3:38: change-peers takes at most 7 learners"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        load_bad(cases[i][0], line, sizeof line);
        if (strcmp(line, cases[i][1]) != 0) {
            fail_msg("\n  expected %s\n  got      %s", cases[i][1], line);
        }
    }
}

/* The reader's learner bound is the engine's, and 7 learners read. */
static void test_change_peers_learner_bound_is_the_engines(void **state)
{
    (void)state;
    assert_int_equal(RS_CONF_LEARNERS_MAX, 7);
    struct rs_scenario s;
    load_ok("t", "cluster nodes=9\nrun 9s\nat 1s change-peers voters=1,2 learners=3,4,5,6,7,8,9\n",
            &s);
    assert_int_equal(s.commands[0].conf_learners, 0x3f8u);
    rs_scenario_free(&s);
}

/* Every prefix of a change-peers line reads, or fails inside the text. */
static void test_change_peers_prefixes_fail_inside_the_text(void **state)
{
    (void)state;
    static const char full[] = "cluster nodes=5\nrun 9s\nat 1s change-peers voters=3,4,5 "
                               "learners=1,2\n";
    size_t parsed = 0;
    for (size_t size = 0; size <= sizeof full - 1; size++) {
        struct rs_scenario s;
        struct rs_scn_error err;
        if (rs_scenario_load_text("p.scn", full, size, &s, &err) == RS_OK) {
            parsed++;
            assert_round_trip(&s);
        } else {
            assert_int_equal(err.exit_code, RS_SCN_EXIT_DATAERR);
            assert_located_inside(full, size, &err);
        }
        rs_scenario_free(&s);
    }
    assert_true(parsed >= 8); /* the prefixes ending at a whole node or option */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_rows_have_valid_defaults),
        cmocka_unit_test(test_schema_names_are_unique),
        cmocka_unit_test(test_values_parse_to_typed_fields),
        cmocka_unit_test(test_mix_and_distribution),
        cmocka_unit_test(test_formatting_is_canonical),
        cmocka_unit_test(test_full_file_settings),
        cmocka_unit_test(test_full_file_timeline),
        cmocka_unit_test(test_full_file_expectations),
        cmocka_unit_test(test_drawn_file_typed),
        cmocka_unit_test(test_line_endings_do_not_matter),
        cmocka_unit_test(test_bad_samples_give_located_errors),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_limits_are_located),
        cmocka_unit_test(test_hostile_bytes),
        cmocka_unit_test(test_errors_at_end_of_line),
        cmocka_unit_test(test_overrides_name_the_flag),
        cmocka_unit_test(test_revalidation_blames_the_later_setting),
        cmocka_unit_test(test_write_read_round_trip),
        cmocka_unit_test(test_command_and_expect_format),
        cmocka_unit_test(test_fault_commands),
        cmocka_unit_test(test_mutation_fuzz),
        cmocka_unit_test(test_change_peers_reads_and_writes),
        cmocka_unit_test(test_change_peers_errors_are_located),
        cmocka_unit_test(test_change_peers_learner_bound_is_the_engines),
        cmocka_unit_test(test_change_peers_prefixes_fail_inside_the_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
