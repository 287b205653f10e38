/* A scenario passes every check for a range of seeds (args: SCENARIO FIRST LAST). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "run_helpers.h"

static const char *scenario;
static uint64_t first_seed, last_seed;

static void test_every_seed_passes(void **state)
{
    (void)state;
    char dir[256];
    scratch_make(dir, sizeof dir, "sweep");
    uint32_t failures = 0;
    for (uint64_t seed = first_seed; seed <= last_seed; seed++) {
        struct rs_run_result r;
        int code = run_seed(scenario, seed, 0, dir, &r);
        if (code != 0) {
            printf("FAIL: rheasim run %s --seed %llu: exit %d, check %s: %.300s\n", scenario,
                   (unsigned long long)seed, code, r.check, r.message);
            failures++;
        }
    }
    scratch_remove(dir);
    printf("%s: seeds %llu..%llu, %u failures\n", scenario, (unsigned long long)first_seed,
           (unsigned long long)last_seed, failures);
    assert_int_equal(failures, 0);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s SCENARIO FIRST LAST\n", argv[0]);
        return 64;
    }
    scenario = argv[1];
    first_seed = strtoull(argv[2], NULL, 10);
    last_seed = strtoull(argv[3], NULL, 10);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_seed_passes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
