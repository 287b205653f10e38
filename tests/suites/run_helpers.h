/* Shared helpers of the suite tests: run a scenario in-process into a scratch directory. */
#ifndef RS_TESTS_RUN_HELPERS_H
#define RS_TESTS_RUN_HELPERS_H

#include "sim/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A scratch directory under /tmp, removed with its files by scratch_remove. */
static inline void scratch_make(char *dir, size_t size, const char *tag)
{
    snprintf(dir, size, "/tmp/rheasim-%s-XXXXXX", tag);
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        abort();
    }
}

static inline void scratch_remove(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
}

/* Runs one seed quietly, without trace or plots. Returns the exit code. */
static inline int run_seed(const char *scenario, uint64_t seed, uint32_t bugs, const char *dir,
                           struct rs_run_result *result)
{
    struct rs_run_options o;
    rs_run_options_default(&o);
    o.scenario_path = scenario;
    o.seed = seed;
    o.bugs = bugs;
    o.out_dir = dir;
    o.trace = false;
    o.plots = false;
    o.quiet = true;
    o.progress = false;
    return rs_run(&o, result);
}

#endif
