/* `rheasim check-history`: sample files give their exit codes, and the history a run writes
 * is the file the command checks (a planted stale read is found in it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "run_helpers.h"
#include "sim/cmd_check_history.h"

#include <dirent.h>

static int check_file(const char *path)
{
    char name[] = "check-history";
    char file[512];
    snprintf(file, sizeof file, "%s", path);
    char *argv[] = {name, file, NULL};
    fflush(stdout);
    return rs_cmd_check_history(2, argv);
}

/* ok_* files are linearizable (0), bad_* are not (1), malformed_* are rejected (65). */
static void test_sample_files(void **state)
{
    (void)state;
    const char *dir = "tests/data/histories";
    DIR *d = opendir(dir);
    assert_non_null(d);
    int seen = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int expect;
        if (strncmp(e->d_name, "ok_", 3) == 0) {
            expect = 0;
        } else if (strncmp(e->d_name, "bad_", 4) == 0) {
            expect = 1;
        } else if (strncmp(e->d_name, "malformed_", 10) == 0) {
            expect = 65;
        } else {
            continue;
        }
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int code = check_file(path);
        if (code != expect) {
            fail_msg("%s: exit %d, expected %d", path, code, expect);
        }
        seen++;
    }
    closedir(d);
    assert_true(seen >= 6);
    assert_int_equal(check_file("tests/data/histories/does-not-exist.jsonl"), 66);
}

static void test_run_history_round_trip(void **state)
{
    (void)state;
    char dir[256], path[320];
    scratch_make(dir, sizeof dir, "hist");
    snprintf(path, sizeof path, "%s/history.jsonl", dir);
    struct rs_run_result r;
    assert_int_equal(run_seed("scenarios/stale-leader-reads.scn", 1, 0, dir, &r), 0);
    assert_int_equal(check_file(path), 0);
    int code = run_seed("scenarios/stale-leader-reads.scn", 1,
                        rs_bug_flag("read-without-quorum"), dir, &r);
    assert_int_equal(code, 1);
    assert_string_equal(r.check, "linearizability");
    assert_int_equal(check_file(path), 1); /* the standalone checker agrees with the run */
    scratch_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_files),
        cmocka_unit_test(test_run_history_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
