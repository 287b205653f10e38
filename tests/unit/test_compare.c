/* Tests of the paired comparison: statistics against hand-computed values, tables, the command. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/compare.h"
#include "sim/cmd_compare.h"

#define EPSILON 1e-4

static const uint8_t all_present[8] = {1, 1, 1, 1, 1, 1, 1, 1};

static void test_t95_table_and_normal(void **state)
{
    (void)state;
    assert_float_equal(rs_compare_t95(0), 0.0, EPSILON);
    assert_float_equal(rs_compare_t95(1), 12.7062, EPSILON);
    assert_float_equal(rs_compare_t95(3), 3.1824, EPSILON);
    assert_float_equal(rs_compare_t95(30), 2.0423, EPSILON);
    /* between rows the smaller df (the wider interval) is used */
    assert_float_equal(rs_compare_t95(35), 2.0423, EPSILON);
    assert_float_equal(rs_compare_t95(45), 2.0211, EPSILON);
    assert_float_equal(rs_compare_t95(120), 1.9799, EPSILON);
    assert_float_equal(rs_compare_t95(121), 1.9600, EPSILON);
    assert_float_equal(rs_compare_t95(100000), 1.9600, EPSILON);
    /* t falls as df grows */
    for (uint32_t df = 1; df < 200; df++) {
        assert_true(rs_compare_t95(df + 1) <= rs_compare_t95(df));
    }
}

static void test_summary_hand_computed(void **state)
{
    (void)state;
    /* mean 5, squares 32, sample sd sqrt(32/7) = 2.138090, t(7) = 2.3646,
     * half = 2.3646 * 2.138090 / sqrt(8) = 1.787470 */
    const int64_t values[8] = {2, 4, 4, 4, 5, 5, 7, 9};
    struct rs_compare_summary s;
    rs_compare_summarize(values, all_present, 8, &s);
    assert_int_equal(s.n, 8);
    assert_float_equal(s.mean, 5.0, EPSILON);
    assert_float_equal(s.stddev, 2.138090, EPSILON);
    assert_float_equal(s.ci_half, 1.787470, EPSILON);
    /* missing values are left out: {2, 9} has mean 5.5, sd sqrt(24.5) = 4.949747 */
    const uint8_t some[8] = {1, 0, 0, 0, 0, 0, 0, 1};
    rs_compare_summarize(values, some, 8, &s);
    assert_int_equal(s.n, 2);
    assert_float_equal(s.mean, 5.5, EPSILON);
    assert_float_equal(s.stddev, 4.949747, EPSILON);
    /* one value: a mean, no spread */
    rs_compare_summarize(values + 6, all_present, 1, &s);
    assert_int_equal(s.n, 1);
    assert_float_equal(s.mean, 7.0, EPSILON);
    assert_float_equal(s.ci_half, 0.0, EPSILON);
}

static void test_paired_hand_computed(void **state)
{
    (void)state;
    /* diffs {2, 1, 5, 1}: mean 2.25, squares 10.75, sd sqrt(10.75/3) = 1.892969,
     * half = 3.1824 * 1.892969 / 2 = 3.012092: [-0.762092, 5.262092], not significant */
    const int64_t base[4] = {10, 20, 30, 40};
    const int64_t other[4] = {12, 21, 35, 41};
    struct rs_compare_diff d;
    rs_compare_paired(base, all_present, other, all_present, 4, &d);
    assert_int_equal(d.n, 4);
    assert_true(d.defined);
    assert_float_equal(d.mean, 2.25, EPSILON);
    assert_float_equal(d.stddev, 1.892969, EPSILON);
    assert_float_equal(d.t95, 3.1824, EPSILON);
    assert_float_equal(d.ci_low, -0.762092, EPSILON);
    assert_float_equal(d.ci_high, 5.262092, EPSILON);
    assert_false(d.significant);
    assert_true(d.relative_defined);
    assert_float_equal(d.relative, 2.25 / 25.0, EPSILON);
    /* diffs {-2, -3, -2, -3}: mean -2.5, sd 0.577350, half 0.918680: [-3.41868, -1.58132] */
    const int64_t lower[4] = {8, 17, 28, 37};
    rs_compare_paired(base, all_present, lower, all_present, 4, &d);
    assert_float_equal(d.mean, -2.5, EPSILON);
    assert_float_equal(d.ci_low, -3.418680, EPSILON);
    assert_float_equal(d.ci_high, -1.581320, EPSILON);
    assert_true(d.significant);
}

static void test_paired_skips_unpaired_seeds(void **state)
{
    (void)state;
    const int64_t base[4] = {10, 20, 30, 40};
    const int64_t other[4] = {1000, 22, 33, 1000};
    const uint8_t base_present[4] = {0, 1, 1, 1};
    const uint8_t other_present[4] = {1, 1, 1, 0};
    struct rs_compare_diff d;
    rs_compare_paired(base, base_present, other, other_present, 4, &d);
    assert_int_equal(d.n, 2); /* seeds 2 and 3 only: diffs {2, 3} */
    assert_true(d.defined);
    assert_float_equal(d.mean, 2.5, EPSILON);
    /* one pair: a mean but no interval */
    rs_compare_paired(base, base_present, other, other_present, 2, &d);
    assert_int_equal(d.n, 1);
    assert_false(d.defined);
    assert_false(d.significant);
    /* identical runs: zero spread, an empty interval at 0, not significant */
    rs_compare_paired(base, all_present, base, all_present, 4, &d);
    assert_true(d.defined);
    assert_float_equal(d.ci_low, 0.0, EPSILON);
    assert_float_equal(d.ci_high, 0.0, EPSILON);
    assert_false(d.significant);
    /* a zero baseline has no relative difference */
    const int64_t zeros[2] = {0, 0};
    const int64_t ones[2] = {1, 1};
    rs_compare_paired(zeros, all_present, ones, all_present, 2, &d);
    assert_false(d.relative_defined);
}

/* Two configurations, three seeds, latency in ns shown as ms and availability in ppm as %. */
static void fill_table(struct rs_compare_table *t)
{
    const uint64_t seeds[3] = {1, 2, 3};
    assert_true(rs_compare_init(t, "raft.read", 2, seeds, 3));
    snprintf(t->config_labels[0], RS_COMPARE_LABEL_SIZE, "read_index");
    snprintf(t->config_labels[1], RS_COMPARE_LABEL_SIZE, "le|ase,x");
    assert_int_equal(rs_compare_add_metric(t, "latency_p99", "ms", 1000000, 3, "p99."), 0);
    assert_int_equal(rs_compare_add_metric(t, "availability", "%", 10000, 3, "ok share."), 1);
    const int64_t latency[2][3] = {{20000000, 22000000, 24000000}, {15000000, 16000000, 17000000}};
    for (uint32_t c = 0; c < 2; c++) {
        for (uint32_t s = 0; s < 3; s++) {
            rs_compare_set(t, 0, c, s, latency[c][s]);
        }
    }
    rs_compare_set(t, 1, 0, 0, 920012);
    rs_compare_set(t, 1, 1, 0, -5); /* negative values print exactly too */
}

static void test_table_outputs(void **state)
{
    (void)state;
    struct rs_compare_table t;
    fill_table(&t);
    struct rs_buf b;
    rs_buf_init(&b);
    /* diffs {-5, -6, -7} ms: mean -6, sd 1, half = 4.3027 / sqrt(3) = 2.484165 */
    rs_compare_csv(&t, &b);
    assert_non_null(strstr(b.data, "metric,unit,config,baseline,n,mean,sd,ci95_half,diff_n,"));
    assert_non_null(strstr(b.data, "latency_p99,ms,read_index,yes,3,22.000000,2.000000,"));
    assert_non_null(strstr(b.data, "latency_p99,ms,\"le|ase,x\",no,3,16.000000,1.000000,"));
    assert_non_null(strstr(b.data, ",3,-6.000000,1.000000,4.3027,-8.484165,-3.515835,yes,"));
    /* availability: one seed each, so no interval */
    assert_non_null(strstr(b.data,
                           "availability,%,\"le|ase,x\",no,1,-0.000500,0.000000,0.000000,"
                           "1,,,,,,,\n"));
    rs_buf_reset(&b);
    rs_compare_seeds_csv(&t, &b);
    assert_non_null(strstr(b.data, "metric,unit,config,seed,value\n"));
    assert_non_null(strstr(b.data, "latency_p99,ms,read_index,2,22.000000\n"));
    assert_non_null(strstr(b.data, "availability,%,read_index,1,92.0012\n"));
    assert_non_null(strstr(b.data, "availability,%,\"le|ase,x\",1,-0.0005\n"));
    assert_non_null(strstr(b.data, "availability,%,read_index,2,\n"));
    rs_buf_reset(&b);
    rs_compare_markdown(&t, "a title", "Preamble.\n", &b);
    assert_non_null(strstr(b.data, "# a title\n\nPreamble.\n"));
    assert_non_null(strstr(b.data, "## latency_p99 (ms)\n\np99.\n"));
    assert_non_null(strstr(b.data, "| read_index (baseline) | 3 | 22.000 | 2.000 | | | |\n"));
    assert_non_null(strstr(b.data,
                           "| le\\|ase,x | 3 | 16.000 | 1.000 | -6.000 (-27.3%) | "
                           "[-8.484, -3.516] | **yes** |\n"));
    assert_non_null(strstr(b.data, "n/a (fewer than 2 paired seeds)"));
    rs_buf_free(&b);
    rs_compare_free(&t);
}

static void test_table_bounds(void **state)
{
    (void)state;
    struct rs_compare_table t;
    const uint64_t seeds[2] = {1, 2};
    assert_false(rs_compare_init(&t, "x", 0, seeds, 2));
    assert_false(rs_compare_init(&t, "x", RS_COMPARE_CONFIGS_MAX + 1, seeds, 2));
    assert_false(rs_compare_init(&t, "x", 2, seeds, 0));
    assert_true(rs_compare_init(&t, "x", 2, seeds, 2));
    for (int i = 0; i < RS_COMPARE_METRICS_MAX; i++) {
        assert_int_equal(rs_compare_add_metric(&t, "m", "count", 1, 0, NULL), i);
    }
    assert_int_equal(rs_compare_add_metric(&t, "m", "count", 1, 0, NULL), -1);
    assert_false(rs_compare_latency_init(&t, 1, RS_COMPARE_SECONDS_MAX + 1));
    assert_true(rs_compare_latency_init(&t, 1, 3));
    rs_compare_free(&t);
}

static bool file_exists(const char *dir, const char *name)
{
    char path[4200];
    struct stat st;
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    return n > 0 && (size_t)n < sizeof path && stat(path, &st) == 0 && st.st_size > 0;
}

static void remove_tree(const char *dir)
{
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_missing_gnuplot_still_writes_tables(void **state)
{
    (void)state;
    struct rs_compare_table t;
    fill_table(&t);
    assert_true(rs_compare_latency_init(&t, 2, 2));
    t.latency_p99_ns[0] = 1500000;
    char dir[] = "/tmp/rheasim-compare-plot-XXXXXX";
    assert_non_null(mkdtemp(dir));
    setenv("RHEASIM_GNUPLOT", "/nonexistent/gnuplot", 1);
    char message[512] = "";
    enum rs_compare_plot_status st =
        rs_compare_write(&t, dir, "title", NULL, true, message, sizeof message);
    unsetenv("RHEASIM_GNUPLOT");
    assert_int_equal(st, RS_COMPARE_PLOT_NO_GNUPLOT);
    assert_non_null(strstr(message, "gnuplot not found"));
    const char *const files[] = {"compare.md",          "compare.csv",         "compare-seeds.csv",
                                 "compare-latency.csv", "compare-metrics.dat", "compare.gp"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        assert_true(file_exists(dir, files[i]));
    }
    assert_false(file_exists(dir, "compare-metrics.svg"));
    rs_compare_free(&t);
    remove_tree(dir);
}

/* A scenario short enough for a unit test: a leader isolated for a second. */
static const char tiny_scenario[] =
    "name tiny-compare\n"
    "cluster nodes=3 replicas=3\n"
    "raft election_timeout=500ms heartbeat=50ms pre_vote=on\n"
    "workload clients=2 keys=5\n"
    "at 1s partition isolate leader\n"
    "at 2s heal\n"
    "run 3s\n";

/* Runs the command on argv given as one space-separated line (no quoting needed here). */
static int command(const char *line)
{
    char text[8192];
    char *argv[32];
    int argc = 0;
    snprintf(text, sizeof text, "%s", line);
    for (char *word = strtok(text, " "); word != NULL && argc < 31; word = strtok(NULL, " ")) {
        argv[argc++] = word;
    }
    argv[argc] = NULL;
    return rs_cmd_compare(argc, argv);
}

static int compare_with(const char *scenario, const char *out, const char *vary, const char *seeds)
{
    char line[8192];
    int n = snprintf(line, sizeof line, "compare %s --vary %s --seeds %s --out %s --no-plots --quiet",
                     scenario, vary, seeds, out);
    assert_true(n > 0 && (size_t)n < sizeof line);
    return command(line);
}

static char *read_all(const char *dir, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *text = calloc(1, 1 << 20);
    assert_non_null(text);
    size_t got = fread(text, 1, (1 << 20) - 1, f);
    text[got] = '\0';
    fclose(f);
    return text;
}

static void test_command_end_to_end_and_repeatable(void **state)
{
    (void)state;
    char dir[] = "/tmp/rheasim-compare-cmd-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char scenario[4200], out_a[4200], out_b[4200];
    snprintf(scenario, sizeof scenario, "%s/tiny.scn", dir);
    snprintf(out_a, sizeof out_a, "%s/a", dir);
    snprintf(out_b, sizeof out_b, "%s/b", dir);
    FILE *f = fopen(scenario, "w");
    assert_non_null(f);
    fputs(tiny_scenario, f);
    fclose(f);
    assert_int_equal(compare_with(scenario, out_a, "raft.read=read_index,lease", "1..2"), 0);
    assert_int_equal(compare_with(scenario, out_b, "raft.read=read_index,lease", "1..2"), 0);
    char *a = read_all(out_a, "compare.csv");
    char *b = read_all(out_b, "compare.csv");
    assert_string_equal(a, b); /* the same seeds give the same bytes */
    /* a header and 20 metrics (13 of the clients and the run, 7 of balance) x 2
     * configurations */
    size_t lines = 0;
    for (const char *p = a; *p; p++) {
        lines += *p == '\n';
    }
    assert_int_equal(lines, 1 + 20 * 2);
    assert_non_null(strstr(a, "\nleaders_spread,count,read_index,yes,2,"));
    assert_non_null(strstr(a, "\nlatency_p99,ms,read_index,yes,2,"));
    assert_non_null(strstr(a, "\nlatency_p99,ms,lease,no,2,"));
    assert_non_null(strstr(a, "\navailability,%,lease,no,2,"));
    free(a);
    free(b);
    char *md = read_all(out_a, "compare.md");
    assert_non_null(strstr(md, "| lease | 2 |"));
    assert_non_null(strstr(md, "All 4 runs held every check."));
    free(md);
    assert_true(file_exists(out_a, "runs/2-lease/seed-2/summary.json"));
    remove_tree(dir);
}

/* A run that fails an expectation: exit 2, the tables still written, the run listed. */
static void test_failed_runs_are_listed(void **state)
{
    (void)state;
    char dir[] = "/tmp/rheasim-compare-fail-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char scenario[4200], out[4200];
    snprintf(scenario, sizeof scenario, "%s/tiny.scn", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    FILE *f = fopen(scenario, "w");
    assert_non_null(f);
    fputs(tiny_scenario, f);
    fputs("expect ops_ok >= 1000000000\n", f);
    fclose(f);
    assert_int_equal(compare_with(scenario, out, "raft.read=read_index,lease", "1..2"), 2);
    char *md = read_all(out, "compare.md");
    assert_non_null(strstr(md, "4 runs failed a check (their numbers are included)"));
    assert_non_null(strstr(md, "- `raft.read=lease` seed 2: exit 2, check expectation"));
    assert_non_null(strstr(md, "reproduce: `rheasim run "));
    free(md);
    char *csv = read_all(out, "compare.csv");
    assert_non_null(strstr(csv, "\nops_ok,count,lease,no,2,"));
    free(csv);
    /* --expect-advisory: the same runs are listed, and the command succeeds */
    char line[9000];
    snprintf(line, sizeof line,
             "compare %s --vary raft.read=read_index,lease --seeds 1..2 --out %s --no-plots "
             "--quiet --expect-advisory",
             scenario, out);
    assert_int_equal(command(line), 0);
    md = read_all(out, "compare.md");
    assert_non_null(strstr(md, "4 runs failed a check (their numbers are included)"));
    free(md);
    remove_tree(dir);
}

static void test_command_errors(void **state)
{
    (void)state;
    char dir[] = "/tmp/rheasim-compare-err-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char scenario[4200], bad[4200], out[4200];
    snprintf(scenario, sizeof scenario, "%s/tiny.scn", dir);
    snprintf(bad, sizeof bad, "%s/bad.scn", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    FILE *f = fopen(scenario, "w");
    fputs(tiny_scenario, f);
    fclose(f);
    f = fopen(bad, "w");
    fputs("name bad\nno such line\n", f);
    fclose(f);
    const char *flag_errors[][2] = {
        {"raft.read=read_index,lease", "1..1"}, {"raft.read=read_index,lease", "3"},
        {"raft.read=read_index,lease", "2..1"}, {"no.such=1,2", "1..2"},
        {"raft.read=read_index,nope", "1..2"},  {"raft.read=lease", "1..2"},
        {"raft.read=lease,lease", "1..2"},      {"raft.heartbeat=10ms,2s", "1..2"},
    };
    for (size_t i = 0; i < sizeof flag_errors / sizeof flag_errors[0]; i++) {
        assert_int_equal(compare_with(scenario, out, flag_errors[i][0], flag_errors[i][1]), 64);
    }
    char line[8192];
    snprintf(line, sizeof line, "compare %s --policies a,b --seeds 1..2", scenario);
    assert_int_equal(command(line), 64);
    snprintf(line, sizeof line, "compare %s --vary raft.read=read_index,lease", scenario);
    assert_int_equal(command(line), 64); /* no --seeds */
    snprintf(line, sizeof line, "compare %s --seeds 1..2", scenario);
    assert_int_equal(command(line), 64); /* nothing varies */
    snprintf(line, sizeof line,
             "compare %s --vary raft.read=read_index,lease --seeds 1..2 "
             "--set raft.read=lease",
             scenario);
    assert_int_equal(command(line), 64); /* the varied setting fixed as well */
    assert_int_equal(compare_with(bad, out, "raft.read=read_index,lease", "1..2"), 65);
    struct stat st;
    assert_int_not_equal(stat(out, &st), 0); /* nothing ran, nothing was written */
    remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t95_table_and_normal),
        cmocka_unit_test(test_summary_hand_computed),
        cmocka_unit_test(test_paired_hand_computed),
        cmocka_unit_test(test_paired_skips_unpaired_seeds),
        cmocka_unit_test(test_table_outputs),
        cmocka_unit_test(test_table_bounds),
        cmocka_unit_test(test_missing_gnuplot_still_writes_tables),
        cmocka_unit_test(test_command_end_to_end_and_repeatable),
        cmocka_unit_test(test_failed_runs_are_listed),
        cmocka_unit_test(test_command_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
