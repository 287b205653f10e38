/* A planted bug is caught by a scenario within a seed budget, by the check we expect
 * (args: BUG SCENARIO SEEDS CHECK). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "run_helpers.h"

static const char *bug, *scenario, *expected_check;
static uint64_t seed_budget;

static void test_bug_is_caught(void **state)
{
    (void)state;
    uint32_t flag = rs_bug_flag(bug);
    assert_int_not_equal(flag, 0);
    char dir[256];
    scratch_make(dir, sizeof dir, "bug");
    uint64_t caught_at = 0;
    struct rs_run_result r;
    for (uint64_t seed = 1; seed <= seed_budget && caught_at == 0; seed++) {
        int code = run_seed(scenario, seed, flag, dir, &r);
        assert_true(code == 0 || code == 1 || code == 2);
        if (code != 0) {
            caught_at = seed;
        }
    }
    scratch_remove(dir);
    if (caught_at == 0) {
        fail_msg("--bug %s was not caught by %s in %llu seeds", bug, scenario,
                 (unsigned long long)seed_budget);
    }
    printf("--bug %s caught by %s at seed %llu by check %s: %.300s\n", bug, scenario,
           (unsigned long long)caught_at, r.check, r.message);
    /* CHECK may list alternatives: "state-machine-safety|durability" */
    bool expected = false;
    const char *p = expected_check;
    size_t n = strlen(r.check);
    while (*p != '\0' && !expected) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        expected = len == n && strncmp(p, r.check, n) == 0;
        p = bar ? bar + 1 : p + len;
    }
    if (!expected) {
        fail_msg("caught by check %s, expected %s", r.check, expected_check);
    }
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s BUG SCENARIO SEEDS CHECK\n", argv[0]);
        return 64;
    }
    bug = argv[1];
    scenario = argv[2];
    seed_budget = strtoull(argv[3], NULL, 10);
    expected_check = argv[4];
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_bug_is_caught)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
