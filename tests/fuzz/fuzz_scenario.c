/* libFuzzer entry point for the scenario reader: never crash, errors inside the input, and
 * whatever reads must write back to text that reads as the same scenario.
 *
 * Not part of the CMake build. From the repository root:
 *   clang -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -I. tests/fuzz/fuzz_scenario.c sim/scenario.c sim/assert.c sim/context.c core/base.c \
 *     -o build/fuzz_scenario
 *   mkdir -p build/fuzz-corpus
 *   build/fuzz_scenario -dict=tests/data/scenarios/scenario.dict -max_total_time=300 \
 *     build/fuzz-corpus tests/data/scenarios/good tests/data/scenarios/bad
 */
#include "sim/scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_location(const char *text, size_t size, const struct rs_scn_error *err)
{
    uint32_t line_count = 0;
    size_t line_size = 0;
    for (size_t pos = 0; pos < size;) {
        const char *nl = memchr(text + pos, '\n', size - pos);
        size_t end = nl != NULL ? (size_t)(nl - text) : size;
        line_count++;
        if (line_count == err->line) {
            line_size = end - pos;
        }
        pos = nl != NULL ? end + 1 : size;
    }
    bool inside = line_count == 0 ? err->line == 1 && err->column == 1
                                  : err->line >= 1 && err->line <= line_count && err->column >= 1 &&
                                        err->column <= line_size + 1;
    if (!inside || err->message[0] == '\0') {
        fprintf(stderr, "error outside the input: %u:%u %s\n", err->line, err->column,
                err->message);
        abort();
    }
}

static void check_round_trip(const struct rs_scenario *s)
{
    char *text = NULL;
    size_t size = 0;
    FILE *file = open_memstream(&text, &size);
    if (file == NULL) {
        return;
    }
    rs_scenario_write(s, file);
    fclose(file);
    struct rs_scenario again;
    struct rs_scn_error err;
    if (rs_scenario_load_text("written", text, size, &again, &err) != RS_OK ||
        !rs_scenario_equal(s, &again)) {
        fprintf(stderr, "round trip failed (%s) on:\n%s", err.message, text);
        abort();
    }
    rs_scenario_free(&again);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rs_scenario s;
    struct rs_scn_error err;
    const char *text = (const char *)data;
    if (rs_scenario_load_text("fuzz.scn", text, size, &s, &err) == RS_OK) {
        check_round_trip(&s);
    } else {
        check_location(text, size, &err);
    }
    /* The first line, as a --set flag, on whatever was read (or the defaults). */
    char flag[RS_SCN_LINE_SIZE_MAX + 2];
    const char *nl = memchr(text, '\n', size);
    size_t n = nl != NULL ? (size_t)(nl - text) : size;
    n = n < sizeof flag - 1 ? n : sizeof flag - 1;
    memcpy(flag, text, n);
    flag[n] = '\0';
    if (rs_scenario_apply_set(&s, flag, &err) == RS_OK) {
        (void)rs_scenario_validate(&s, &err);
    } else if (err.exit_code != RS_SCN_EXIT_USAGE) {
        abort();
    }
    rs_scenario_free(&s);
    return 0;
}
