/* Tests of the gnuplot script and of running gnuplot: images, determinism, missing gnuplot. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/plot.h"

#define MS 1000000ull
#define S  1000000000ull

/* A 20 s run at 50 ops/s, from a fixed LCG, with a partition that slows and times out ops. */
static void fill_run(struct rs_latency_log *log)
{
    static const char *const ops[] = {"get", "put", "compare_and_put"};
    uint64_t state = 7;
    for (uint64_t invoke_ns = 0; invoke_ns < 20 * S; invoke_ns += 20 * MS) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t draw = (uint32_t)(state >> 33);
        uint64_t latency_ns = 1 * MS + draw % (4 * MS);
        enum rs_outcome outcome = RS_OUTCOME_OK;
        if (invoke_ns >= 5 * S && invoke_ns < 8 * S) {
            outcome = draw % 3 == 0 ? RS_OUTCOME_INFO : RS_OUTCOME_OK;
            latency_ns = outcome == RS_OUTCOME_INFO ? 1 * S : latency_ns + 200 * MS;
        } else if (draw % 97 == 0) {
            outcome = RS_OUTCOME_FAIL;
        }
        rs_latency_add(log, invoke_ns, latency_ns, ops[draw % 3], outcome);
    }
    rs_latency_add_window(log, 5 * S, 8 * S, "partition isolate leader");
    rs_latency_add_window(log, 12 * S, 13 * S, "crash store 2");
    rs_latency_set_end(log, 20 * S);
}

static char *read_file(const char *dir, const char *name, size_t *size_out)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return NULL;
    }
    struct rs_buf buf;
    rs_buf_init(&buf);
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, file)) > 0) {
        rs_buf_put(&buf, chunk, got);
    }
    fclose(file);
    rs_buf_putc(&buf, '\0'); /* ensures data is allocated even for an empty file */
    *size_out = buf.size - 1;
    return buf.data;
}

static bool file_exists(const char *dir, const char *name)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

static void make_dir(char *dir_template)
{
    assert_non_null(mkdtemp(dir_template));
}

static void remove_dir(const char *dir)
{
    DIR *handle = opendir(dir);
    assert_non_null(handle);
    struct dirent *entry;
    while ((entry = readdir(handle)) != NULL) {
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
            assert_int_equal(unlink(path), 0);
        }
    }
    closedir(handle);
    assert_int_equal(rmdir(dir), 0);
}

/* Runs with RHEASIM_GNUPLOT set to value (or unset for NULL), restoring it afterwards. */
static enum rs_plot_status plot_with(const char *gnuplot,
                                     const struct rs_latency_log *log,
                                     const char *dir,
                                     char *message,
                                     size_t message_size)
{
    const char *saved = getenv("RHEASIM_GNUPLOT");
    char *saved_copy = saved != NULL ? strdup(saved) : NULL;
    if (gnuplot != NULL) {
        setenv("RHEASIM_GNUPLOT", gnuplot, 1);
    } else {
        unsetenv("RHEASIM_GNUPLOT");
    }
    enum rs_plot_status status =
        rs_plot_latency(log, dir, "leader-isolation seed 7", message, message_size);
    if (saved_copy != NULL) {
        setenv("RHEASIM_GNUPLOT", saved_copy, 1);
        free(saved_copy);
    } else {
        unsetenv("RHEASIM_GNUPLOT");
    }
    return status;
}

static void test_script_names_series_windows_and_title(void **state)
{
    struct rs_latency_log log;
    rs_latency_init(&log);
    fill_run(&log);
    struct rs_buf script;
    rs_buf_init(&script);
    rs_plot_script(&log, "it's seed 7", &script);
    assert_non_null(strstr(script.data, "set title 'it''s seed 7'\n"));
    assert_non_null(strstr(script.data, "set xrange [0:20.000000]\n"));
    assert_non_null(strstr(script.data,
                           "set object 1 rect from first 5.000000, graph 0 to "
                           "first 8.000000, graph 1 behind"));
    /* Labels step down; one in the right half ends at its window's right edge. */
    assert_non_null(strstr(script.data,
                           "set label 1 'partition isolate leader' at first "
                           "5.000000, graph 0.96 left"));
    assert_non_null(strstr(script.data,
                           "set label 2 'crash store 2' at first 13.000000, "
                           "graph 0.91 right"));
    assert_non_null(strstr(script.data, "strcol(3) eq 'compare_and_put'"));
    assert_non_null(strstr(script.data, "strcol(4) eq 'info'"));
    assert_non_null(strstr(script.data, "strcol(4) eq 'fail'"));
    /* Slowest op 1 s: the axis ends at the power of ten above twice that. */
    assert_non_null(strstr(script.data, "set yrange [1.000000:10000.000000]\n"));
    assert_non_null(strstr(script.data, "set output 'throughput.png'\n"));
    rs_buf_free(&script);
    /* Without fail or info ops their series are left out (gnuplot warns on empty series). */
    rs_latency_free(&log);
    rs_latency_init(&log);
    rs_latency_add(&log, 0, 3 * MS, "get", RS_OUTCOME_OK);
    rs_buf_init(&script);
    rs_plot_script(&log, NULL, &script);
    assert_null(strstr(script.data, "strcol(4) eq 'info'"));
    assert_null(strstr(script.data, "strcol(4) eq 'fail'"));
    assert_non_null(strstr(script.data, "set yrange [1.000000:10.000000]\n"));
    rs_buf_free(&script);
    rs_latency_free(&log);
}

static const char *const outputs[] = {"latency.csv",    "latency-quantiles.csv", "throughput.csv",
                                      "latency.gp",     "latency.svg",           "latency.png",
                                      "throughput.svg", "throughput.png"};

static void test_plot_images_are_made_and_identical(void **state)
{
    char first[] = "/tmp/rheasim-plot-XXXXXX";
    char second[] = "/tmp/rheasim-plot-XXXXXX";
    make_dir(first);
    make_dir(second);
    struct rs_latency_log log;
    rs_latency_init(&log);
    fill_run(&log);
    char message[512];
    enum rs_plot_status status = plot_with(NULL, &log, first, message, sizeof message);
    if (status == RS_PLOT_NO_GNUPLOT) {
        remove_dir(first);
        remove_dir(second);
        rs_latency_free(&log);
        skip();
    }
    assert_int_equal(status, RS_PLOT_OK);
    assert_non_null(strstr(message, "latency.png"));
    assert_int_equal(plot_with(NULL, &log, second, message, sizeof message), RS_PLOT_OK);
    assert_false(file_exists(first, "gnuplot.log")); /* a clean run leaves no empty log */
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        size_t first_size = 0;
        size_t second_size = 0;
        char *first_data = read_file(first, outputs[i], &first_size);
        char *second_data = read_file(second, outputs[i], &second_size);
        assert_non_null(first_data);
        assert_non_null(second_data);
        assert_true(first_size > 0);
        assert_int_equal(first_size, second_size);
        assert_memory_equal(first_data, second_data, first_size);
        if (strstr(outputs[i], ".png") != NULL) {
            assert_true(first_size > 8);
            assert_memory_equal(first_data, "\x89PNG\r\n\x1a\n", 8);
        } else if (strstr(outputs[i], ".svg") != NULL) {
            assert_non_null(strstr(first_data, "<svg"));
            assert_non_null(strstr(first_data, "leader-isolation seed 7"));
        }
        free(first_data);
        free(second_data);
    }
    rs_latency_free(&log);
    remove_dir(first);
    remove_dir(second);
}

static void test_plot_empty_log_still_draws(void **state)
{
    char dir[] = "/tmp/rheasim-plot-XXXXXX";
    make_dir(dir);
    struct rs_latency_log log;
    rs_latency_init(&log);
    char message[512];
    enum rs_plot_status status = plot_with(NULL, &log, dir, message, sizeof message);
    if (status != RS_PLOT_NO_GNUPLOT) {
        assert_int_equal(status, RS_PLOT_OK);
        assert_true(file_exists(dir, "latency.png"));
        assert_true(file_exists(dir, "throughput.svg"));
    }
    rs_latency_free(&log);
    remove_dir(dir);
}

static void test_missing_gnuplot_keeps_csvs(void **state)
{
    char dir[] = "/tmp/rheasim-plot-XXXXXX";
    make_dir(dir);
    struct rs_latency_log log;
    rs_latency_init(&log);
    fill_run(&log);
    /* A stale image from an earlier run must not survive next to the new CSVs. */
    char stale[4096];
    snprintf(stale, sizeof stale, "%s/latency.png", dir);
    FILE *file = fopen(stale, "wb");
    assert_non_null(file);
    fputs("old", file);
    fclose(file);
    char message[512] = "";
    enum rs_plot_status status =
        plot_with("/nonexistent/rheasim/gnuplot", &log, dir, message, sizeof message);
    assert_int_equal(status, RS_PLOT_NO_GNUPLOT);
    assert_non_null(strstr(message, "gnuplot not found"));
    assert_non_null(strstr(message, "/nonexistent/rheasim/gnuplot"));
    assert_null(strchr(message, '\n'));
    for (size_t i = 0; i < 4; i++) {
        assert_true(file_exists(dir, outputs[i]));
    }
    assert_false(file_exists(dir, "latency.png"));
    /* A bare name that is on no PATH entry is missing too. */
    status = plot_with("rheasim-no-such-gnuplot", &log, dir, message, sizeof message);
    assert_int_equal(status, RS_PLOT_NO_GNUPLOT);
    rs_latency_free(&log);
    remove_dir(dir);
}

static void test_failing_gnuplot_is_reported(void **state)
{
    char dir[] = "/tmp/rheasim-plot-XXXXXX";
    make_dir(dir);
    struct rs_latency_log log;
    rs_latency_init(&log);
    fill_run(&log);
    char message[512] = "";
    /* `false` stands in for a gnuplot that exits with an error. */
    enum rs_plot_status status = plot_with("false", &log, dir, message, sizeof message);
    assert_int_equal(status, RS_PLOT_FAILED);
    assert_non_null(strstr(message, "exit status 1"));
    assert_non_null(strstr(message, "gnuplot.log"));
    assert_true(file_exists(dir, "latency.csv"));
    assert_true(file_exists(dir, "latency.gp"));
    /* `true` exits 0 but writes nothing: still a failure, not a silent success. */
    status = plot_with("true", &log, dir, message, sizeof message);
    assert_int_equal(status, RS_PLOT_FAILED);
    assert_non_null(strstr(message, "did not write"));
    rs_latency_free(&log);
    remove_dir(dir);
}

static void test_unwritable_dir_is_io(void **state)
{
    char dir[] = "/tmp/rheasim-plot-XXXXXX";
    make_dir(dir);
    struct rs_latency_log log;
    rs_latency_init(&log);
    fill_run(&log);
    /* A path below a regular file cannot be written even by root (chmod would not stop it). */
    char file_path[4096];
    snprintf(file_path, sizeof file_path, "%s/plain-file", dir);
    FILE *file = fopen(file_path, "wb");
    assert_non_null(file);
    fclose(file);
    char below[4200];
    snprintf(below, sizeof below, "%s/run", file_path);
    char message[512] = "";
    assert_int_equal(plot_with(NULL, &log, below, message, sizeof message), RS_PLOT_IO);
    assert_non_null(strstr(message, "cannot write"));
    assert_non_null(strstr(message, "latency.csv"));
    if (geteuid() != 0) {
        char locked[4200];
        snprintf(locked, sizeof locked, "%s/locked", dir);
        assert_int_equal(mkdir(locked, 0500), 0);
        assert_int_equal(plot_with(NULL, &log, locked, message, sizeof message), RS_PLOT_IO);
        assert_int_equal(rmdir(locked), 0);
    }
    /* A NULL message buffer is allowed. */
    assert_int_equal(plot_with(NULL, &log, below, NULL, 0), RS_PLOT_IO);
    rs_latency_free(&log);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_script_names_series_windows_and_title),
        cmocka_unit_test(test_plot_images_are_made_and_identical),
        cmocka_unit_test(test_plot_empty_log_still_draws),
        cmocka_unit_test(test_missing_gnuplot_keeps_csvs),
        cmocka_unit_test(test_failing_gnuplot_is_reported),
        cmocka_unit_test(test_unwritable_dir_is_io),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
