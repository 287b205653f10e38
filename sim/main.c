/* The rheasim command line: run, compare, check-history, list. */
#include "sim/cmd_check_history.h"
#include "sim/cmd_compare.h"
#include "sim/run.h"
#include "sim/scenario.h"

#include <stdio.h>
#include <string.h>

static int usage(FILE *out)
{
    fprintf(out,
            "usage: rheasim COMMAND ...\n"
            "  run SCENARIO [--seed N] [--out DIR] [--set KEY=VALUE]... [--bug NAME]...\n"
            "               [--check-determinism] [--no-trace] [--no-plots] [--quiet]\n"
            "  compare SCENARIO (--vary SETTING=v1,v2[,...] | --policies a,b[,...])\n"
            "          --seeds FIRST..LAST [--out DIR] [--set KEY=VALUE]... [--no-plots]\n"
            "                          every value run on the same seeds; paired differences\n"
            "  check-history FILE      check a history.jsonl for linearizability\n"
            "  list settings|bugs      the scenario settings with defaults, or the planted bugs\n"
            "exit codes: 0 all checks held, 1 safety or linearizability violation,\n"
            "            2 liveness or expectation failure, 64 bad usage, 65 bad input file\n");
    return out == stdout ? 0 : 64;
}

static int cmd_list(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "bugs") == 0) {
        printf("%s\n", rs_bug_names());
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "settings") == 0) {
        for (int i = 0; i < RS_SCN_SETTING_COUNT; i++) {
            const struct rs_scn_setting *s = &rs_scn_schema[i];
            printf("%-24s %-10s default %-14s %s\n", s->section_key, rs_scn_type_name(s->type),
                   s->default_text, s->help);
        }
        return 0;
    }
    fprintf(stderr, "rheasim list: say 'settings' or 'bugs'\n");
    return 64;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        return usage(stderr);
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0) {
        return rs_cmd_run(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "compare") == 0) {
        return rs_cmd_compare(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "check-history") == 0) {
        return rs_cmd_check_history(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "list") == 0) {
        return cmd_list(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        return usage(stdout);
    }
    fprintf(stderr, "rheasim: unknown command '%s'\n", cmd);
    return usage(stderr);
}
