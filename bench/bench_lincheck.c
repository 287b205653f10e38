/* Benchmark of the linearizability checker on fixed-seed workloads: time and peak memory. */
#define _DEFAULT_SOURCE /* wait4 */
#include "sim/history.h"
#include "sim/lincheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct workload {
    const char *name;
    uint32_t op_count;
    uint32_t key_count;
    uint32_t client_count;
    uint32_t info_ppm;
    uint32_t value_alphabet;
    uint64_t steps_max;                /* 0: the checker's default */
    uint32_t mix_ppm[RS_HIST_F_COUNT]; /* get, put, delete, cas, put_if_absent, get_and_put */
};

/* The two targets first: they are hard requirements. */
static const struct workload workloads[] = {
    {"hot-key", 20000, 1, 16, 20000, 0, 0, {400000, 300000, 100000, 200000, 0, 0}},
    {"many-keys", 100000, 1000, 16, 10000, 0, 0, {400000, 250000, 50000, 200000, 50000, 50000}},
    {"hot-key-info5%", 20000, 1, 16, 50000, 0, 0, {400000, 300000, 100000, 200000, 0, 0}},
    {"hot-key-64-clients", 20000, 1, 64, 20000, 0, 0, {400000, 300000, 100000, 200000, 0, 0}},
    {"hot-key-all-ops",
     20000,
     1,
     16,
     20000,
     0,
     0,
     {300000, 200000, 100000, 200000, 100000, 100000}},
    {"general-search", 2000, 1, 8, 20000, 1000, 0, {400000, 300000, 100000, 200000, 0, 0}},
    {"general-search-16", 2000, 1, 8, 20000, 16, 100000000, {400000, 300000, 100000, 200000, 0, 0}},
};

static double ms_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1e3 +
           (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* Generates the workload, writes it as JSONL, parses it back, checks it; prints one row. */
static int run_workload(const struct workload *w)
{
    struct rs_history_gen_options o;
    rs_history_gen_defaults(&o);
    o.seed = 20240601;
    o.op_count = w->op_count;
    o.key_count = w->key_count;
    o.client_count = w->client_count;
    o.info_ppm = w->info_ppm;
    o.value_alphabet = w->value_alphabet;
    memcpy(o.mix_ppm, w->mix_ppm, sizeof o.mix_ppm);
    struct rs_history *gen = rs_history_new();
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    if (gen == NULL || mem == NULL || rs_history_generate(gen, &o) != RS_OK ||
        rs_history_write(gen, mem) != RS_OK || fclose(mem) != 0) {
        fprintf(stderr, "bench: cannot generate %s\n", w->name);
        return 1;
    }
    rs_history_free(gen);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct rs_history *h = rs_history_new();
    struct rs_history_error err;
    if (rs_history_parse(h, text, size, &err) != RS_OK) {
        fprintf(stderr, "bench: %s:%u:%u: %s\n", w->name, err.line, err.column, err.message);
        return 1;
    }
    double load_ms = ms_since(&start);
    free(text);
    struct rs_lincheck_options opt;
    rs_lincheck_options_default(&opt);
    opt.steps_max = w->steps_max ? w->steps_max : opt.steps_max;
    struct rs_lincheck_result r;
    clock_gettime(CLOCK_MONOTONIC, &start);
    enum rs_err rc = rs_lincheck_check(h, &opt, &r);
    double check_ms = ms_since(&start);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%-19s %7u %6u %8u %6.1f%% %-10s %9.1f %9.1f %9.1f %12llu %9llu\n", w->name, w->op_count,
           w->key_count, w->client_count, w->info_ppm / 10000.0,
           rc == RS_OK ? rs_lincheck_verdict_name(r.verdict) : "error", load_ms, check_ms,
           ru.ru_maxrss / 1024.0, (unsigned long long)r.steps, (unsigned long long)r.configs_max);
    fflush(stdout);
    rs_lincheck_result_free(&r);
    rs_history_free(h);
    return rc == RS_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("%-19s %7s %6s %8s %7s %-10s %9s %9s %9s %12s %9s\n", "workload", "ops", "keys",
           "clients", "info", "result", "load ms", "check ms", "RSS MiB", "steps", "frontier");
    fflush(stdout);
    int failures = 0;
    for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++) {
        /* Each workload in its own process, so that the peak RSS is its own. */
        pid_t pid = fork();
        if (pid == 0) {
            _exit(run_workload(&workloads[i]));
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            failures++;
        }
    }
    printf(
        "ops: operations generated (fail ones included); load: JSONL parse; check: the "
        "checker; RSS: peak of the process\n");
    return failures ? 1 : 0;
}
