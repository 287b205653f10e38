/* Tests of the learners-catch-up check: the judgment alone, and in a world whose learner was
 * cut off for the whole fault phase. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "sim/world.h"

#define MS RS_NS_PER_MS
#define S  RS_NS_PER_S

/* ---- the judgment ---- */

static void test_name(void **state)
{
    (void)state;
    assert_string_equal(rs_check_name(RS_CHECK_LEARNER_CATCHUP), "learners-catch-up");
}

static void test_caught_up_learners_pass(void **state)
{
    (void)state;
    struct rs_checks c;
    rs_checks_init(&c);
    const struct rs_check_learner l[] = {{.id = 4, .up = true, .applied_index = 100},
                                         {.id = 5, .up = true, .applied_index = 120}};
    assert_true(rs_checks_learners_caught_up(&c, 7 * S, 2 * S, 100, l, 2));
    assert_true(rs_checks_learners_caught_up(&c, 7 * S, 2 * S, 100, NULL, 0));
    assert_int_equal(c.failed, RS_CHECK_NONE);
    rs_checks_free(&c);
}

static void test_lagging_learner_is_named_with_its_lag(void **state)
{
    (void)state;
    struct rs_checks c;
    rs_checks_init(&c);
    const struct rs_check_learner l[] = {{.id = 4, .up = true, .applied_index = 90},
                                         {.id = 5, .up = true, .applied_index = 40},
                                         {.id = 6, .up = true, .applied_index = 100}};
    assert_false(rs_checks_learners_caught_up(&c, 9 * S, 3 * S, 100, l, 3));
    assert_int_equal(c.failed, RS_CHECK_LEARNER_CATCHUP);
    assert_int_equal(c.failed_at_ns, 9 * S);
    assert_non_null(strstr(c.message, "learner 5 applied 40 of 100 (60 behind"));
    assert_non_null(strstr(c.message, "3000 ms after the heal"));
    assert_non_null(strstr(c.message, "2 of 3 learners behind"));
    rs_checks_free(&c);
}

static void test_down_learner_ranks_furthest_behind(void **state)
{
    (void)state;
    struct rs_checks c;
    rs_checks_init(&c);
    const struct rs_check_learner l[] = {{.id = 4, .up = true, .applied_index = 0},
                                         {.id = 5, .up = false, .applied_index = 0}};
    assert_false(rs_checks_learners_caught_up(&c, 9 * S, 1 * S, 50, l, 2));
    assert_int_equal(c.failed, RS_CHECK_LEARNER_CATCHUP);
    assert_non_null(strstr(c.message, "learner 5 is down"));
    rs_checks_free(&c);
}

static void test_first_failure_is_kept(void **state)
{
    (void)state;
    struct rs_checks c;
    rs_checks_init(&c);
    rs_checks_fail(&c, 1 * S, RS_CHECK_LIVENESS, "earlier");
    const struct rs_check_learner l[] = {{.id = 4, .up = true, .applied_index = 1}};
    assert_false(rs_checks_learners_caught_up(&c, 2 * S, 1 * S, 50, l, 1));
    assert_int_equal(c.failed, RS_CHECK_LIVENESS);
    assert_string_equal(c.message, "earlier");
    rs_checks_free(&c);
}

/* ---- in a world ---- */

/* Three voters and a learner (node 4), writes only, a 2s fault phase. */
static void config(struct rs_world_config *c, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->seed = seed;
    c->node_count = 4;
    c->replica_count = 3;
    c->learner_count = 1;
    c->raft.election_timeout_ns = 300 * MS;
    c->raft.heartbeat_ns = 50 * MS;
    c->raft.pre_vote = true;
    c->raft.max_inflight = 64;
    c->raft.batch_entries = 64;
    c->raft.batch_bytes = 64 * 1024;
    c->raft.proposal_queue = 1024;
    c->net = (struct rs_link_params){.latency_min_ns = 1 * MS, .latency_max_ns = 3 * MS};
    c->disk = (struct rs_disk_params){.write_latency_min_ns = 50 * RS_NS_PER_US,
                                      .write_latency_max_ns = 200 * RS_NS_PER_US,
                                      .sync_latency_min_ns = 500 * RS_NS_PER_US,
                                      .sync_latency_max_ns = 1 * MS,
                                      .read_latency_min_ns = 50 * RS_NS_PER_US,
                                      .read_latency_max_ns = 50 * RS_NS_PER_US,
                                      .block_size = 512,
                                      .torn_keep_ppm = 500000};
    c->workload = (struct rs_workload_config){.client_count = 3,
                                              .key_count = 5,
                                              .request_timeout_ns = 200 * MS,
                                              .op_timeout_ns = 2 * S,
                                              .value_size = 16};
    c->workload.mix[RS_KV_PUT] = 1;
    c->fault_phase_ns = 2 * S;
    c->liveness_ns = 5 * S;
}

struct fixture {
    struct rs_world world;
    struct rs_trace trace;
};

/* Runs the whole world with the learner cut off from everyone during the fault phase. */
static void run_with_learner_cut_off(struct fixture *f, const struct rs_world_config *c)
{
    memset(f, 0, sizeof *f);
    rs_trace_init(&f->trace, NULL);
    assert_int_equal(rs_world_init(&f->world, c, &f->trace), RS_OK);
    rs_world_isolate(&f->world, 4);
    rs_world_run(&f->world);
    assert_true(f->world.healed);
}

static void close_world(struct fixture *f)
{
    rs_world_free(&f->world);
    rs_trace_free(&f->trace);
}

/* 1ms after the heal the learner cannot have caught up on 2s of writes: the check fires. */
static void test_world_reports_lagging_learner(void **state)
{
    (void)state;
    struct rs_world_config c;
    config(&c, 11);
    c.learner_catchup_ns = 1 * MS;
    struct fixture f;
    run_with_learner_cut_off(&f, &c);
    struct rs_world *w = &f.world;
    assert_true(w->heal_commit_index > 50); /* the voters went on without the learner */
    assert_int_equal(w->checks.failed, RS_CHECK_LEARNER_CATCHUP);
    assert_int_equal(w->checks.failed_at_ns, w->heal_ns + 1 * MS);
    assert_non_null(strstr(w->checks.message, "learner 4 applied"));
    assert_non_null(strstr(w->checks.message, "behind the commit index at the heal"));
    close_world(&f);
}

/* With the default bound (the liveness bound) the learner catches up and the world converges. */
static void test_world_learner_catches_up_within_default_bound(void **state)
{
    (void)state;
    struct rs_world_config c;
    config(&c, 11);
    struct fixture f;
    run_with_learner_cut_off(&f, &c);
    struct rs_world *w = &f.world;
    if (w->checks.failed != RS_CHECK_NONE) {
        fail_msg("check %s failed: %s", rs_check_name(w->checks.failed), w->checks.message);
    }
    assert_true(w->converged_ns > w->heal_ns);
    assert_true(w->nodes[4].up);
    assert_true(rs_world_replica(w, 4, 0)->raft.applied_index >= w->heal_commit_index);
    close_world(&f);
}

/* A bound shorter than the liveness bound but long enough: the check passes at its deadline
 * or the world converges first; either way nothing fails. */
static void test_world_generous_bound_passes(void **state)
{
    (void)state;
    struct rs_world_config c;
    config(&c, 12);
    c.learner_catchup_ns = 3 * S;
    struct fixture f;
    run_with_learner_cut_off(&f, &c);
    assert_int_equal(f.world.checks.failed, RS_CHECK_NONE);
    assert_true(f.world.converged_ns > f.world.heal_ns);
    close_world(&f);
}

/* Unrestricted mode asserts safety only: a lagging learner is not a failure there. */
static void test_world_unrestricted_mode_skips_the_check(void **state)
{
    (void)state;
    struct rs_world_config c;
    config(&c, 11);
    c.learner_catchup_ns = 1 * MS;
    c.liveness_unchecked = true;
    struct fixture f;
    run_with_learner_cut_off(&f, &c);
    assert_int_equal(f.world.checks.failed, RS_CHECK_NONE);
    close_world(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name),
        cmocka_unit_test(test_caught_up_learners_pass),
        cmocka_unit_test(test_lagging_learner_is_named_with_its_lag),
        cmocka_unit_test(test_down_learner_ranks_furthest_behind),
        cmocka_unit_test(test_first_failure_is_kept),
        cmocka_unit_test(test_world_reports_lagging_learner),
        cmocka_unit_test(test_world_learner_catches_up_within_default_bound),
        cmocka_unit_test(test_world_generous_bound_passes),
        cmocka_unit_test(test_world_unrestricted_mode_skips_the_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
