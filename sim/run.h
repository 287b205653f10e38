/* `rheasim run`: a scenario and a seed in, a run directory with every output out. */
#ifndef RS_SIM_RUN_H
#define RS_SIM_RUN_H

#include <stdbool.h>
#include <stdint.h>

#define RS_RUN_SETS_MAX 64

struct rs_run_options {
    const char *scenario_path;
    uint64_t seed;
    const char *out_dir; /* NULL: runs/<scenario>-<seed> */
    const char *sets[RS_RUN_SETS_MAX];
    uint32_t set_count;
    uint32_t bugs;
    bool check_determinism;
    bool trace;    /* write trace.jsonl (the digest is computed either way) */
    bool plots;    /* run gnuplot */
    bool quiet;    /* only the summary line */
    bool progress; /* a progress line on stderr (when it is a terminal) */
};

/* What a run found; the exit code follows DESIGN.md section 6. */
struct rs_run_result {
    int exit_code;
    uint64_t trace_digest;
    uint64_t events;
    char check[64];    /* the check that failed, "" when all held */
    char message[2048]; /* its message */
    char dir[512];     /* the run directory */
};

void rs_run_options_default(struct rs_run_options *o);
/* Runs once and writes the outputs. Prints the summary unless quiet. */
int rs_run(const struct rs_run_options *o, struct rs_run_result *result);
/* Makes a directory and its parents (mkdir -p, paths up to 511 bytes): 0 or an errno. */
int rs_make_dirs(const char *path);
/* The CLI entry: parses flags after "run". */
int rs_cmd_run(int argc, char **argv);

/* Bug names for --bug. Returns the flag, 0 when unknown. */
uint32_t rs_bug_flag(const char *name);
const char *rs_bug_names(void);

#endif
