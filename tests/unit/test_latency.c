/* Tests of the latency log: CSV texts, integer quantiles, JSON, op names and file writing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reports/latency.h"

#define MS 1000000ull
#define S  1000000000ull

/* A small run: records added out of invoke order, two with equal invoke times, a window. */
static void fill_small(struct rs_latency_log *log)
{
    rs_latency_add(log, 2 * S + 500 * MS, 7 * MS + 250000, "put", RS_OUTCOME_OK);
    rs_latency_add(log, 12345678901ull, 1500 * MS, "get", RS_OUTCOME_INFO);
    rs_latency_add(log, 1 * S, 3 * MS, "get", RS_OUTCOME_OK);
    rs_latency_add(log, 1 * S, 999, "put", RS_OUTCOME_FAIL);
    rs_latency_add(log, 0, 12 * MS, "get", RS_OUTCOME_OK);
    rs_latency_add_window(log, 5 * S, 10 * S, "partition");
}

static char *csv_of(const struct rs_latency_log *log,
                    void (*writer)(const struct rs_latency_log *, struct rs_buf *))
{
    struct rs_buf buf;
    rs_buf_init(&buf);
    writer(log, &buf);
    char *text = strdup(buf.data != NULL ? buf.data : "");
    rs_buf_free(&buf);
    return text;
}

static void test_latency_csv_exact_text(void **state)
{
    struct rs_latency_log log;
    rs_latency_init(&log);
    fill_small(&log);
    char *text = csv_of(&log, rs_latency_csv);
    /* Equal invoke times (1 s) keep the order they were added in. */
    assert_string_equal(text,
                        "time_s,latency_ms,op,outcome\n"
                        "0.000000,12.000000,get,ok\n"
                        "1.000000,3.000000,get,ok\n"
                        "1.000000,0.000999,put,fail\n"
                        "2.500000,7.250000,put,ok\n"
                        "12.345678,1500.000000,get,info\n");
    free(text);
    rs_latency_free(&log);
}

static void test_quantiles_csv_exact_text(void **state)
{
    struct rs_latency_log log;
    rs_latency_init(&log);
    fill_small(&log);
    char *text = csv_of(&log, rs_latency_quantiles_csv);
    assert_string_equal(text,
                        "op,ok_count,fail_count,info_count,p50_ms,p90_ms,p99_ms,p999_ms,max_ms\n"
                        "get,2,0,1,3.000000,12.000000,12.000000,12.000000,12.000000\n"
                        "put,1,1,0,7.250000,7.250000,7.250000,7.250000,7.250000\n"
                        "(all),3,1,1,7.250000,12.000000,12.000000,12.000000,12.000000\n");
    free(text);
    rs_latency_free(&log);
}

static void test_throughput_csv_counts_by_completion_second(void **state)
{
    struct rs_latency_log log;
    rs_latency_init(&log);
    fill_small(&log);
    char *text = csv_of(&log, rs_latency_throughput_csv);
    /* The info op completes at 13.845678 s, so seconds 0..13 are written, zeros included. */
    assert_string_equal(text,
                        "second,ok_count,fail_count,info_count\n"
                        "0,1,0,0\n1,1,1,0\n2,1,0,0\n3,0,0,0\n4,0,0,0\n5,0,0,0\n"
                        "6,0,0,0\n7,0,0,0\n8,0,0,0\n9,0,0,0\n10,0,0,0\n11,0,0,0\n"
                        "12,0,0,0\n13,0,0,1\n");
    free(text);
    /* A run end beyond the last completion extends the rows to cover it. */
    rs_latency_set_end(&log, 15 * S + 1);
    text = csv_of(&log, rs_latency_throughput_csv);
    assert_non_null(strstr(text, "\n15,0,0,0\n"));
    assert_null(strstr(text, "\n16,"));
    free(text);
    rs_latency_free(&log);
}

static void test_empty_log_gives_headers_only(void **state)
{
    struct rs_latency_log log;
    rs_latency_init(&log);
    char *text = csv_of(&log, rs_latency_csv);
    assert_string_equal(text, "time_s,latency_ms,op,outcome\n");
    free(text);
    text = csv_of(&log, rs_latency_throughput_csv);
    assert_string_equal(text, "second,ok_count,fail_count,info_count\n");
    free(text);
    text = csv_of(&log, rs_latency_quantiles_csv);
    assert_string_equal(text,
                        "op,ok_count,fail_count,info_count,p50_ms,p90_ms,p99_ms,"
                        "p999_ms,max_ms\n(all),0,0,0,0.000000,0.000000,0.000000,"
                        "0.000000,0.000000\n");
    free(text);
    struct rs_quantiles q;
    memset(&q, 0xff, sizeof q);
    rs_latency_quantiles(&log, NULL, &q);
    assert_int_equal(q.ok_count + q.fail_count + q.info_count, 0);
    assert_int_equal(q.latency_ns_p50 | q.latency_ns_p999 | q.latency_ns_max, 0);
    rs_latency_free(&log);
}

static void test_put_fixed_cuts_with_integers(void **state)
{
    struct rs_buf buf;
    rs_buf_init(&buf);
    rs_latency_put_fixed(&buf, 12345678901ull, S, 6);
    rs_buf_putc(&buf, ' ');
    rs_latency_put_fixed(&buf, 999, S, 6); /* below the last place: cut, not rounded */
    rs_buf_putc(&buf, ' ');
    rs_latency_put_fixed(&buf, 1999999, MS, 3);
    rs_buf_putc(&buf, ' ');
    rs_latency_put_fixed(&buf, UINT64_MAX, S, 9);
    rs_buf_putc(&buf, ' ');
    rs_latency_put_fixed(&buf, 42, 1, 0);
    assert_string_equal(buf.data, "12.345678 0.000000 1.999 18446744073.709551615 42");
    rs_buf_free(&buf);
}

/* 1..1000 ms added in a scrambled order: nearest-rank quantiles land on exact values. */
static void test_quantiles_nearest_rank(void **state)
{
    struct rs_latency_log log;
    rs_latency_init(&log);
    for (uint64_t i = 0; i < 1000; i++) {
        uint64_t value = (i * 337) % 1000 + 1; /* 337 is coprime to 1000: a permutation */
        rs_latency_add(&log, i * MS, value * MS, "get", RS_OUTCOME_OK);
    }
    rs_latency_add(&log, 0, 999999 * MS, "get", RS_OUTCOME_INFO); /* never in quantiles */
    struct rs_quantiles q;
    rs_latency_quantiles(&log, "get", &q);
    assert_int_equal(q.ok_count, 1000);
    assert_int_equal(q.info_count, 1);
    assert_int_equal(q.latency_ns_p50, 500 * MS);
    assert_int_equal(q.latency_ns_p90, 900 * MS);
    assert_int_equal(q.latency_ns_p99, 990 * MS);
    assert_int_equal(q.latency_ns_p999, 999 * MS);
    assert_int_equal(q.latency_ns_max, 1000 * MS);
    rs_latency_free(&log);
}

static void test_quantiles_ties_single_and_unknown(void **state)
{
    struct rs_latency_log log;
    rs_latency_init(&log);
    const uint64_t values[] = {5, 10, 5, 5, 5}; /* ranks: p50 -> 3rd, p90 -> 5th */
    for (size_t i = 0; i < 5; i++) {
        rs_latency_add(&log, i, values[i], "put", RS_OUTCOME_OK);
    }
    rs_latency_add(&log, 9, 77, "get", RS_OUTCOME_OK);
    rs_latency_add(&log, 9, 1, "get", RS_OUTCOME_FAIL);
    struct rs_quantiles q;
    rs_latency_quantiles(&log, "put", &q);
    assert_int_equal(q.latency_ns_p50, 5);
    assert_int_equal(q.latency_ns_p90, 10);
    assert_int_equal(q.latency_ns_max, 10);
    rs_latency_quantiles(&log, "get", &q);
    assert_int_equal(q.ok_count, 1);
    assert_int_equal(q.fail_count, 1);
    assert_int_equal(q.latency_ns_p50, 77);
    assert_int_equal(q.latency_ns_p999, 77);
    rs_latency_quantiles(&log, NULL, &q);
    assert_int_equal(q.ok_count, 6);
    assert_int_equal(q.latency_ns_p50, 5);
    assert_int_equal(q.latency_ns_max, 77);
    rs_latency_quantiles(&log, "scan", &q);
    assert_int_equal(q.ok_count + q.fail_count + q.info_count + q.latency_ns_max, 0);
    rs_latency_free(&log);
}

static void test_json_quantiles(void **state)
{
    struct rs_latency_log log;
    rs_latency_init(&log);
    rs_latency_add(&log, 0, 20, "put", RS_OUTCOME_OK);
    rs_latency_add(&log, 0, 10, "get", RS_OUTCOME_OK);
    rs_latency_add(&log, 0, 30, "get", RS_OUTCOME_INFO);
    struct rs_buf buf;
    rs_buf_init(&buf);
    rs_latency_write_json(&log, &buf);
    assert_string_equal(
        buf.data,
        "{\"all\":{\"ok_count\":2,\"fail_count\":0,\"info_count\":1,\"latency_ns_p50\":10,"
        "\"latency_ns_p90\":20,\"latency_ns_p99\":20,\"latency_ns_p999\":20,"
        "\"latency_ns_max\":20},\"ops\":{"
        "\"get\":{\"ok_count\":1,\"fail_count\":0,\"info_count\":1,\"latency_ns_p50\":10,"
        "\"latency_ns_p90\":10,\"latency_ns_p99\":10,\"latency_ns_p999\":10,"
        "\"latency_ns_max\":10},"
        "\"put\":{\"ok_count\":1,\"fail_count\":0,\"info_count\":0,\"latency_ns_p50\":20,"
        "\"latency_ns_p90\":20,\"latency_ns_p99\":20,\"latency_ns_p999\":20,"
        "\"latency_ns_max\":20}}}");
    rs_buf_free(&buf);
    rs_latency_free(&log);
}

static void test_op_names_sanitized_and_bounded(void **state)
{
    struct rs_latency_log log;
    rs_latency_init(&log);
    rs_latency_add(&log, 0, 1, "get,\"x\"\n", RS_OUTCOME_OK);
    rs_latency_add(&log, 0, 1, NULL, RS_OUTCOME_OK);
    rs_latency_add(&log, 0, 1, "", RS_OUTCOME_OK);
    assert_int_equal(log.op_count, 2);
    assert_string_equal(log.op_names[0], "get__x__");
    assert_string_equal(log.op_names[1], "unnamed");
    char long_name[100];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    rs_latency_add(&log, 0, 1, long_name, RS_OUTCOME_OK);
    assert_int_equal(strlen(log.op_names[2]), RS_LATENCY_OP_NAME_SIZE - 1);
    /* Fill the table: every name past the last free slot lands in "other". */
    for (int i = 0; i < 2 * RS_LATENCY_OPS_MAX; i++) {
        char name[16];
        snprintf(name, sizeof name, "op%d", i);
        rs_latency_add(&log, 0, 1, name, RS_OUTCOME_OK);
    }
    assert_int_equal(log.op_count, RS_LATENCY_OPS_MAX);
    assert_string_equal(log.op_names[RS_LATENCY_OPS_MAX - 1], RS_LATENCY_OP_OTHER);
    struct rs_quantiles q;
    rs_latency_quantiles(&log, RS_LATENCY_OP_OTHER, &q);
    assert_int_equal(q.ok_count, 2 * RS_LATENCY_OPS_MAX - (RS_LATENCY_OPS_MAX - 1 - 3));
    /* Queries are sanitized like the names they look for. */
    rs_latency_quantiles(&log, "get,\"x\"\n", &q);
    assert_int_equal(q.ok_count, 1);
    size_t order[RS_LATENCY_OPS_MAX];
    assert_int_equal(rs_latency_ops_sorted(&log, order), RS_LATENCY_OPS_MAX);
    for (size_t i = 1; i < RS_LATENCY_OPS_MAX; i++) {
        assert_true(strcmp(log.op_names[order[i - 1]], log.op_names[order[i]]) < 0);
    }
    rs_latency_free(&log);
}

static void test_windows_labels_and_span(void **state)
{
    struct rs_latency_log log;
    rs_latency_init(&log);
    rs_latency_add(&log, 1 * S, 2 * S, "get", RS_OUTCOME_OK);
    assert_int_equal(rs_latency_span_ns(&log), 3 * S);
    rs_latency_add_window(&log, 9 * S, 4 * S, "bad\tlabel\xc3\xa9"); /* end before start */
    assert_int_equal(log.windows[0].end_ns, 9 * S);
    assert_string_equal(log.windows[0].label, "bad label??");
    assert_int_equal(rs_latency_span_ns(&log), 9 * S);
    rs_latency_set_end(&log, 20 * S);
    assert_int_equal(rs_latency_span_ns(&log), 20 * S);
    rs_latency_add(&log, UINT64_MAX - 1, 10, "get", RS_OUTCOME_OK); /* saturates, no wrap */
    assert_int_equal(rs_latency_span_ns(&log), UINT64_MAX);
    rs_latency_free(&log);
}

static void test_many_records_grow(void **state)
{
    struct rs_latency_log log;
    rs_latency_init(&log);
    for (uint64_t i = 0; i < 100000; i++) {
        rs_latency_add(&log, 100000 - i, i, (i & 1) ? "get" : "put", RS_OUTCOME_OK);
    }
    assert_int_equal(log.record_count, 100000);
    assert_true(log.record_capacity >= 100000 && log.record_capacity < 200000 * 2);
    assert_int_equal(log.records[99999].latency_ns, 99999);
    struct rs_quantiles q;
    rs_latency_quantiles(&log, NULL, &q);
    assert_int_equal(q.latency_ns_p50, 49999);
    assert_int_equal(q.latency_ns_max, 99999);
    rs_latency_free(&log);
}

static char *read_text(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return NULL;
    }
    struct rs_buf buf;
    rs_buf_init(&buf);
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, file)) > 0) {
        rs_buf_put(&buf, chunk, got);
    }
    fclose(file);
    char *text = strdup(buf.data != NULL ? buf.data : "");
    rs_buf_free(&buf);
    return text;
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

static void test_write_csv_files(void **state)
{
    char dir[] = "/tmp/rheasim-latency-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct rs_latency_log log;
    rs_latency_init(&log);
    fill_small(&log);
    char path[4096];
    assert_int_equal(rs_latency_write_csv(&log, dir, path, sizeof path), 0);
    const char *names[] = {"latency.csv", "latency-quantiles.csv", "throughput.csv"};
    void (*writers[])(const struct rs_latency_log *, struct rs_buf *) = {
        rs_latency_csv, rs_latency_quantiles_csv, rs_latency_throughput_csv};
    for (size_t i = 0; i < 3; i++) {
        char *on_disk = read_text(dir, names[i]);
        char *expected = csv_of(&log, writers[i]);
        assert_non_null(on_disk);
        assert_string_equal(on_disk, expected);
        free(on_disk);
        free(expected);
    }
    /* A directory that does not exist: an errno and the path that failed, no crash. */
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/no/such/dir", dir);
    assert_int_equal(rs_latency_write_csv(&log, missing, path, sizeof path), ENOENT);
    assert_non_null(strstr(path, "no/such/dir/latency.csv"));
    rs_latency_free(&log);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_latency_csv_exact_text),
        cmocka_unit_test(test_quantiles_csv_exact_text),
        cmocka_unit_test(test_throughput_csv_counts_by_completion_second),
        cmocka_unit_test(test_empty_log_gives_headers_only),
        cmocka_unit_test(test_put_fixed_cuts_with_integers),
        cmocka_unit_test(test_quantiles_nearest_rank),
        cmocka_unit_test(test_quantiles_ties_single_and_unknown),
        cmocka_unit_test(test_json_quantiles),
        cmocka_unit_test(test_op_names_sanitized_and_bounded),
        cmocka_unit_test(test_windows_labels_and_span),
        cmocka_unit_test(test_many_records_grow),
        cmocka_unit_test(test_write_csv_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
