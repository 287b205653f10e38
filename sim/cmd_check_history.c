/* The check-history command: load a history file, check it, print the verdict. */
#include "sim/cmd_check_history.h"

#include "sim/history.h"
#include "sim/lincheck.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_LINEARIZABLE 0
#define EXIT_VIOLATION    1
#define EXIT_UNKNOWN      2
#define EXIT_USAGE        64
#define EXIT_DATAERR      65
#define EXIT_NOINPUT      66
#define EXIT_SOFTWARE     70

static const char usage[] =
    "usage: rheasim check-history FILE [--budget STEPS] [--memory-mb MB] [--no-witness] "
    "[--general] [--stats]\n"
    "  --budget STEPS   search steps per key before answering unknown (default 2000000000)\n"
    "  --memory-mb MB   search memory per key before answering unknown (default 1024)\n"
    "  --no-witness     do not search for a small failing window\n"
    "  --general        do not rely on unique written values (slower; a second opinion)\n"
    "  --stats          print search figures\n"
    "exit: 0 linearizable, 1 not, 2 unknown, 64 usage, 65 malformed file, 66 cannot open\n";

/* A positive decimal integer no larger than max; false otherwise. */
static bool parse_count(const char *text, unsigned long long max, unsigned long long *value)
{
    if (text == NULL || text[0] < '0' || text[0] > '9') {
        return false;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0' || v == 0 || v > max) {
        return false;
    }
    *value = v;
    return true;
}

struct cmd_args {
    const char *path;
    struct rs_lincheck_options options;
    bool stats;
};

static bool parse_args(int argc, char **argv, struct cmd_args *args)
{
    memset(args, 0, sizeof *args);
    rs_lincheck_options_default(&args->options);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        unsigned long long v = 0;
        if (strcmp(a, "--budget") == 0 && i + 1 < argc) {
            if (!parse_count(argv[++i], UINT64_MAX, &v)) {
                return false;
            }
            args->options.steps_max = v;
        } else if (strcmp(a, "--memory-mb") == 0 && i + 1 < argc) {
            if (!parse_count(argv[++i], 1ull << 30, &v)) {
                return false;
            }
            args->options.bytes_max = v << 20;
        } else if (strcmp(a, "--no-witness") == 0) {
            args->options.no_witness = true;
        } else if (strcmp(a, "--general") == 0) {
            args->options.general = true;
        } else if (strcmp(a, "--stats") == 0) {
            args->stats = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            return false;
        } else if (args->path == NULL) {
            args->path = a;
        } else {
            return false;
        }
    }
    return args->path != NULL;
}

static int check_loaded(const struct rs_history *history, const struct cmd_args *args)
{
    struct rs_lincheck_result result;
    enum rs_err rc = rs_lincheck_check(history, &args->options, &result);
    if (rc != RS_OK) {
        fprintf(stderr, "rheasim: check-history: %s\n", rs_err_message(rc));
        rs_lincheck_result_free(&result);
        return EXIT_SOFTWARE;
    }
    struct rs_buf out;
    rs_buf_init(&out);
    rs_lincheck_format(history, &result, &out);
    if (args->stats) {
        rs_buf_printf(&out,
                      "stats: %llu operations, %u keys (%u by the general search), "
                      "%llu steps, largest frontier %llu, peak search memory %llu bytes\n",
                      (unsigned long long)result.op_count, result.key_count, result.keys_general,
                      (unsigned long long)result.steps, (unsigned long long)result.configs_max,
                      (unsigned long long)result.bytes_max);
    }
    fputs(out.data ? out.data : "", stdout);
    rs_buf_free(&out);
    int code = result.verdict == RS_LINCHECK_OK          ? EXIT_LINEARIZABLE
               : result.verdict == RS_LINCHECK_VIOLATION ? EXIT_VIOLATION
                                                         : EXIT_UNKNOWN;
    rs_lincheck_result_free(&result);
    return code;
}

int rs_cmd_check_history(int argc, char **argv)
{
    struct cmd_args args;
    if (!parse_args(argc, argv, &args)) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    FILE *file = strcmp(args.path, "-") == 0 ? stdin : fopen(args.path, "rb");
    if (file == NULL) {
        fprintf(stderr, "rheasim: check-history: cannot open %s: %s\n", args.path, strerror(errno));
        return EXIT_NOINPUT;
    }
    struct rs_history *history = rs_history_new();
    struct rs_history_error error;
    enum rs_err rc = history ? rs_history_load(history, file, &error) : RS_ENOMEM;
    if (file != stdin) {
        fclose(file);
    }
    int code;
    if (rc == RS_ECORRUPT || rc == RS_ETOOBIG) {
        fprintf(stderr, "%s:%u:%u: %s\n", args.path, error.line, error.column, error.message);
        code = EXIT_DATAERR;
    } else if (rc == RS_EIO) {
        fprintf(stderr, "rheasim: check-history: cannot read %s\n", args.path);
        code = EXIT_NOINPUT;
    } else if (rc != RS_OK) {
        fprintf(stderr, "rheasim: check-history: %s\n", rs_err_message(rc));
        code = EXIT_SOFTWARE;
    } else {
        code = check_loaded(history, &args);
    }
    rs_history_free(history);
    return code;
}
