/* Tests of the nemesis and the swarm: resolution and recording, timed undo, swizzle-clog, the
 * recoverable guard, swarm draws, schedule.scn replays, wipe refusal and the fault modes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/nemesis.h"
#include "sim/run.h"
#include "sim/swarm.h"

#define MS RS_NS_PER_MS
#define S  RS_NS_PER_S

struct fixture {
    struct rs_world world;
    struct rs_trace trace;
    struct rs_scenario scn;
    struct rs_scenario steps; /* a scenario whose timeline serves as swarm steps */
    struct rs_nemesis nemesis;
};

static void load(const char *text, struct rs_scenario *s)
{
    struct rs_scn_error err;
    if (rs_scenario_load_text("t.scn", text, strlen(text), s, &err) != RS_OK) {
        char line[512];
        rs_scn_error_format(&err, line, sizeof line);
        fail_msg("%s", line);
    }
}

/* A 5-node world (no clients) with the timeline of `timeline` and, as guarded swarm steps,
 * the timeline of `steps` (either may be NULL). */
static void open_fixture(struct fixture *f, const char *timeline, const char *steps,
                         enum rs_nemesis_mode mode)
{
    memset(f, 0, sizeof *f);
    char text[2048];
    snprintf(text, sizeof text, "cluster nodes=5 replicas=5\n%s",
             timeline != NULL ? timeline : "run 100s\n");
    load(text, &f->scn);
    snprintf(text, sizeof text, "cluster nodes=5 replicas=5\n%s",
             steps != NULL ? steps : "run 100s\n");
    load(text, &f->steps);
    struct rs_world_config c;
    memset(&c, 0, sizeof c);
    c.seed = 3;
    c.node_count = 5;
    c.raft = (struct rs_raft_config){.election_timeout_ns = 300 * MS,
                                     .heartbeat_ns = 50 * MS,
                                     .pre_vote = true,
                                     .max_inflight = 16,
                                     .batch_entries = 16,
                                     .batch_bytes = 64 * 1024,
                                     .proposal_queue = 256};
    c.net = (struct rs_link_params){.latency_min_ns = 1 * MS, .latency_max_ns = 2 * MS};
    c.disk = (struct rs_disk_params){.write_latency_min_ns = 100 * RS_NS_PER_US,
                                     .write_latency_max_ns = 100 * RS_NS_PER_US,
                                     .sync_latency_min_ns = 1 * MS,
                                     .sync_latency_max_ns = 1 * MS,
                                     .read_latency_min_ns = 100 * RS_NS_PER_US,
                                     .read_latency_max_ns = 100 * RS_NS_PER_US,
                                     .block_size = 512};
    c.fault_phase_ns = 100 * S;
    c.liveness_ns = 5 * S;
    rs_trace_init(&f->trace, NULL);
    assert_int_equal(rs_world_init(&f->world, &c, &f->trace), RS_OK);
    rs_nemesis_init(&f->nemesis, &f->world, mode, &f->scn, f->steps.commands,
                    f->steps.command_count);
    rs_nemesis_start(&f->nemesis);
}

static void close_fixture(struct fixture *f)
{
    rs_nemesis_free(&f->nemesis);
    rs_world_free(&f->world);
    rs_trace_free(&f->trace);
    rs_scenario_free(&f->scn);
    rs_scenario_free(&f->steps);
}

static void assert_checks_held(const struct rs_world *w)
{
    if (w->checks.failed != RS_CHECK_NONE) {
        fail_msg("check %s failed: %s", rs_check_name(w->checks.failed), w->checks.message);
    }
}

/* ---- resolution and the record ---- */

static void test_fired_commands_are_resolved(void **state)
{
    (void)state;
    struct fixture f;
    open_fixture(&f,
                 "at 1s partition majority-minority\n"
                 "at 1500ms heal\n"
                 "at 2s pause leader for=200ms..2s\n"
                 "at 3s crash-restart random down=100ms..1s\n"
                 "every 1s from 4s until 6s clog random for=100ms\n"
                 "at 6s clock-drift random ppm=-50..50\n"
                 "run 100s\n",
                 NULL, RS_NEMESIS_RECOVERABLE);
    rs_world_run_until(&f.world, 7 * S);
    assert_checks_held(&f.world);
    const struct rs_nemesis *n = &f.nemesis;
    assert_int_equal(n->fired_count, 7);
    const struct rs_scn_command *c = n->fired;
    /* a random split is recorded as explicit groups: a majority and a minority */
    assert_int_equal(c[0].verb, RS_SCN_PARTITION_GROUPS);
    assert_int_equal(c[0].at_ns, 1 * S);
    uint32_t minority = 0;
    for (uint32_t id = 1; id <= 5; id++) {
        assert_in_range(c[0].groups[id], 1, 2);
        minority += c[0].groups[id] == 2;
    }
    assert_int_equal(minority, 2);
    assert_int_equal(c[1].verb, RS_SCN_HEAL);
    /* targets become node(N); per-firing draws are fixed */
    assert_int_equal(c[2].verb, RS_SCN_PAUSE);
    assert_int_equal(c[2].target.kind, RS_SCN_TARGET_NODE);
    assert_int_equal(c[2].for_lo_ns, c[2].for_hi_ns);
    assert_in_range(c[2].for_lo_ns, 200 * MS, 2 * S);
    assert_int_equal(c[3].verb, RS_SCN_CRASH_RESTART);
    assert_int_equal(c[3].target.kind, RS_SCN_TARGET_NODE);
    assert_int_equal(c[3].down_lo_ns, c[3].down_hi_ns);
    assert_int_equal(c[4].verb, RS_SCN_CLOG);
    assert_int_equal(c[4].at_ns, 4 * S);
    assert_int_equal(c[5].at_ns, 5 * S);
    assert_false(c[5].repeat);
    assert_int_equal(c[6].verb, RS_SCN_DRIFT);
    assert_int_equal(c[6].amount_lo, c[6].amount_hi);
    assert_int_equal(n->firings[4], 2);
    /* the record reads back as a scenario with the same commands */
    char text[4096] = "cluster nodes=5 replicas=5\n";
    size_t used = strlen(text);
    for (uint32_t i = 0; i < n->fired_count; i++) {
        used += rs_scn_command_format(&c[i], text + used, sizeof text - used);
        used += (size_t)snprintf(text + used, sizeof text - used, "\n");
    }
    snprintf(text + used, sizeof text - used, "run 100s\n");
    struct rs_scenario again;
    struct rs_scn_error err;
    assert_int_equal(rs_scenario_load_text("again.scn", text, strlen(text), &again, &err), RS_OK);
    assert_int_equal(again.command_count, n->fired_count);
    rs_scenario_free(&again);
    close_fixture(&f);
}

/* ---- timed faults ---- */

static void test_timed_faults_undo_themselves(void **state)
{
    (void)state;
    struct fixture f;
    open_fixture(&f,
                 "at 1s pause node(2) for=500ms\n"
                 "at 1s filter drop append_request to=node(3) for=700ms\n"
                 "at 1s bandwidth node(4) rate=1KiB/s for=600ms\n"
                 "at 1s disk-fail node(5) dead for=1s\n"
                 "at 1s clog from=node(1) to=node(2) for=800ms\n"
                 "at 1050ms crash-restart leader down=50ms\n" /* a new term: meta writes */
                 "run 100s\n",
                 NULL, RS_NEMESIS_RECOVERABLE);
    struct rs_world *w = &f.world;
    rs_world_run_until(w, 1400 * MS);
    assert_true(w->nodes[2].paused);
    assert_int_not_equal(rs_net_filters(&w->net, 1, 3), 0);
    assert_int_equal(w->net.links[(size_t)4 * w->net.endpoint_count + 1].bandwidth_bytes_per_s,
                     1024);
    assert_true(rs_net_clogged(&w->net, 1, 2));
    assert_true(rs_world_disk_faulty(w, 5));
    assert_true(rs_world_node_errored(w, 5)); /* its term change could not be persisted */
    uint64_t restarts = w->stats.restarts;
    rs_world_run_until(w, 2100 * MS);
    assert_false(w->nodes[2].paused);
    assert_int_equal(rs_net_filters(&w->net, 1, 3), 0);
    assert_int_equal(w->net.links[(size_t)4 * w->net.endpoint_count + 1].bandwidth_bytes_per_s,
                     0);
    assert_false(rs_net_clogged(&w->net, 1, 2));
    /* the dead disk put node 5 in the error state; when the disk came back it restarted */
    assert_false(rs_world_disk_faulty(w, 5));
    assert_int_equal(w->stats.restarts, restarts + 1);
    assert_true(w->stats.disk_errors > 0);
    rs_world_run_until(w, 4 * S);
    assert_checks_held(w);
    close_fixture(&f);
}

/* ---- swizzle-clog ---- */

static void test_swizzle_clog_unclogs_in_another_order(void **state)
{
    (void)state;
    struct fixture f;
    open_fixture(&f, "at 1s swizzle-clog nodes=4 interval=100ms\nrun 100s\n", NULL,
                 RS_NEMESIS_RECOVERABLE);
    rs_world_run_until(&f.world, 1350 * MS);
    uint32_t clogged = 0;
    for (uint32_t id = 1; id <= 5; id++) {
        clogged += rs_net_clogged(&f.world.net, id, id == 1 ? 2 : 1);
    }
    assert_true(clogged >= 3); /* four clogged by now (a link may lead to another clogged one) */
    rs_world_run_until(&f.world, 3 * S);
    const struct rs_nemesis *n = &f.nemesis;
    assert_int_equal(n->fired_count, 8); /* the steps are recorded, not the swizzle */
    assert_int_equal(n->verb_counts[RS_SCN_SWIZZLE_CLOG], 1);
    uint32_t order[4];
    uint32_t release[4];
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(n->fired[i].verb, RS_SCN_CLOG);
        assert_int_equal(n->fired[i].at_ns, 1 * S + i * 100 * MS);
        assert_int_equal(n->fired[4 + i].verb, RS_SCN_UNCLOG);
        assert_int_equal(n->fired[4 + i].at_ns, 1400 * MS + i * 100 * MS);
        order[i] = n->fired[i].target.node;
        release[i] = n->fired[4 + i].target.node;
    }
    assert_memory_not_equal(order, release, sizeof order);
    uint32_t seen = 0;
    for (uint32_t i = 0; i < 4; i++) {
        seen |= 1u << order[i];
        seen &= ~0u; /* every clogged node is released exactly once */
    }
    for (uint32_t i = 0; i < 4; i++) {
        assert_true(seen & (1u << release[i]));
        seen &= ~(1u << release[i]);
    }
    assert_int_equal(seen, 0);
    for (uint32_t id = 1; id <= 5; id++) {
        assert_false(rs_net_clogged(&f.world.net, id, id == 1 ? 2 : 1));
    }
    assert_int_equal(f.world.held_count, 0);
    assert_checks_held(&f.world);
    close_fixture(&f);
}

/* ---- the recoverable guard ---- */

static const char impairing_steps[] = "at 1s crash-restart node(1) down=5s\n"
                                      "at 1100ms pause node(2) for=5s\n"
                                      "at 1200ms disk-fail node(3) dead for=5s\n"
                                      "at 1300ms pause node(4) for=1s\n"
                                      "at 1400ms clog node(5) for=1s\n"
                                      "run 100s\n";

static void test_recoverable_guard_keeps_a_majority(void **state)
{
    (void)state;
    struct fixture f;
    open_fixture(&f, NULL, impairing_steps, RS_NEMESIS_RECOVERABLE);
    rs_world_run_until(&f.world, 2 * S);
    /* two of five impaired at most: the dead disk and the second pause are refused, the clog
     * (not an impairment) goes ahead */
    assert_int_equal(f.nemesis.skipped, 2);
    assert_false(rs_world_disk_faulty(&f.world, 3));
    assert_false(f.world.nodes[4].paused);
    assert_true(rs_net_clogged(&f.world.net, 5, 1));
    uint32_t impaired = 0;
    for (uint32_t id = 1; id <= 5; id++) {
        impaired += rs_nemesis_impaired(&f.world, id);
    }
    assert_int_equal(impaired, 2);
    close_fixture(&f);
    /* Scripted commands are not guarded, nor is the unrestricted mode. */
    open_fixture(&f, impairing_steps, NULL, RS_NEMESIS_RECOVERABLE);
    rs_world_run_until(&f.world, 2 * S);
    assert_int_equal(f.nemesis.skipped, 0);
    assert_true(f.world.nodes[4].paused);
    close_fixture(&f);
    open_fixture(&f, NULL, impairing_steps, RS_NEMESIS_UNRESTRICTED);
    rs_world_run_until(&f.world, 2 * S);
    assert_int_equal(f.nemesis.skipped, 0);
    assert_true(rs_world_disk_faulty(&f.world, 3));
    assert_true(f.world.nodes[4].paused);
    close_fixture(&f);
}

/* ---- the swarm ---- */

static void test_swarm_draws_follow_the_seed(void **state)
{
    (void)state;
    struct rs_swarm a;
    struct rs_swarm b;
    rs_swarm_draw(&a, 42, 1 * S, 1 * S);
    rs_swarm_draw(&b, 42, 1 * S, 1 * S);
    assert_memory_equal(&a, &b, sizeof a);
    uint32_t differ = 0;
    uint32_t kinds_seen[RS_SWARM_KIND_COUNT] = {0};
    static struct rs_scn_command steps[RS_SWARM_STEPS_MAX];
    for (uint64_t seed = 1; seed <= 200; seed++) {
        rs_swarm_draw(&b, seed, 500 * MS, 1 * S);
        differ += memcmp(&a, &b, sizeof a) != 0;
        uint32_t enabled = 0;
        for (uint32_t k = 0; k < RS_SWARM_KIND_COUNT; k++) {
            enabled += b.enabled[k];
            kinds_seen[k] += b.enabled[k];
            assert_true(b.enabled[k] ? b.weight[k] >= 1 && b.weight[k] <= 10 : b.weight[k] == 0);
        }
        assert_true(enabled >= 1);
        assert_true(!b.enabled[RS_SWARM_BIT_ROT] || b.enabled[RS_SWARM_CRASH]);
        assert_true(b.fault_min_ns <= b.fault_max_ns);
        assert_true(b.pause_max_ns >= 1 * S); /* pauses may outlast the election timeout */
        uint32_t count = rs_swarm_steps(&b, seed, 20 * S, 5, steps, RS_SWARM_STEPS_MAX);
        uint64_t last = 0;
        for (uint32_t i = 0; i < count; i++) {
            assert_true(steps[i].at_ns >= last && steps[i].at_ns < 20 * S);
            assert_int_equal(steps[i].at_ns % MS, 0);
            last = steps[i].at_ns;
        }
    }
    assert_true(differ >= 199);
    for (uint32_t k = 0; k < RS_SWARM_KIND_COUNT; k++) {
        assert_in_range(kinds_seen[k], 60, 160); /* about half the seeds */
    }
    struct rs_buf line;
    rs_buf_init(&line);
    rs_swarm_draw(&a, 85, 491 * MS, 800 * MS);
    rs_swarm_describe(&a, &line);
    assert_non_null(strstr(line.data, "swarm: partitionx"));
    assert_non_null(strstr(line.data, "every ~491ms"));
    rs_buf_reset(&line);
    rs_swarm_json(&a, &line);
    assert_non_null(strstr(line.data, "\"faults\":{\"partition\":"));
    rs_buf_free(&line);
}

/* ---- whole runs ---- */

static int run_into(const char *scenario, uint64_t seed, const char *dir,
                    struct rs_run_result *result)
{
    struct rs_run_options o;
    rs_run_options_default(&o);
    o.scenario_path = scenario;
    o.seed = seed;
    o.out_dir = dir;
    o.plots = false;
    o.quiet = true;
    o.progress = false;
    return rs_run(&o, result);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The schedule a swarm seed writes replays it: the same faults, the same trace digest. */
static void test_schedule_replays_the_run(void **state)
{
    (void)state;
    char dir[] = "/tmp/rheasim-nemesis-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char first[128];
    char second[128];
    char schedule[160];
    snprintf(first, sizeof first, "%s/swarm", dir);
    snprintf(second, sizeof second, "%s/replay", dir);
    snprintf(schedule, sizeof schedule, "%s/schedule.scn", first);
    for (uint64_t seed = 85; seed <= 87; seed++) {
        struct rs_run_result a;
        struct rs_run_result b;
        assert_int_equal(run_into("scenarios/swarm.scn", seed, first, &a), 0);
        const char *text = slurp(schedule);
        assert_non_null(strstr(text, "name swarm-schedule\n"));
        assert_null(strstr(text, "swarm=on"));
        for (const char *line = strstr(text, "\nat "); line != NULL;
             line = strstr(line + 1, "\nat ")) {
            size_t n = strcspn(line + 1, "\n"); /* every target resolved */
            char copy[256];
            snprintf(copy, sizeof copy, "%.*s", (int)n, line + 1);
            assert_null(strstr(copy, "random"));
            assert_null(strstr(copy, "leader"));
            assert_null(strstr(copy, "follower"));
        }
        assert_int_equal(run_into(schedule, seed, second, &b), 0);
        assert_int_equal(a.trace_digest, b.trace_digest);
    }
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Runs a scenario text; returns the exit code and what it printed on stderr. */
static int run_text(const char *text, const char *dir, char *errors, size_t size)
{
    char path[160];
    snprintf(path, sizeof path, "%s/t.scn", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    char err_path[160];
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    fflush(stderr);
    int saved = dup(2);
    FILE *redirect = freopen(err_path, "w", stderr);
    assert_non_null(redirect);
    char out[160];
    snprintf(out, sizeof out, "%s/out", dir);
    struct rs_run_result result;
    int code = run_into(path, 1, out, &result);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    snprintf(errors, size, "%s", slurp(err_path));
    return code;
}

static void test_wipe_refused_and_modes(void **state)
{
    (void)state;
    char dir[] = "/tmp/rheasim-nemesis-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char errors[1024];
    /* wipe is allowed now that membership changes bring a wiped node back */
    assert_int_not_equal(run_text("run 5s\nat 1s wipe node(2)\n", dir, errors, sizeof errors),
                         65);
    /* A liveness bound nobody can meet: recoverable fails it, unrestricted does not check. */
    static const char tight[] = "check liveness=1ms mode=%s\nrun 2s\nat 1s crash leader\n";
    char text[160];
    snprintf(text, sizeof text, tight, "recoverable");
    assert_int_equal(run_text(text, dir, errors, sizeof errors), 2);
    snprintf(text, sizeof text, tight, "unrestricted");
    assert_int_equal(run_text(text, dir, errors, sizeof errors), 0);
    char summary[200];
    snprintf(summary, sizeof summary, "%s/out/summary.json", dir);
    const char *json = slurp(summary);
    assert_non_null(strstr(json, "\"mode\":\"unrestricted\""));
    assert_non_null(strstr(json, "\"liveness\":{\"checked\":false,"));
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* A split key outside its region's starting range is a located error; inside, the run goes. */
static void test_split_key_outside_region_is_located(void **state)
{
    (void)state;
    char dir[] = "/tmp/rheasim-nemesis-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char errors[1024];
    static const char outside[] = "cluster nodes=3 regions=2\nworkload clients=1 keys=10\n"
                                  "run 2s\nat 1s split region=2 key=k0\n";
    assert_int_equal(run_text(outside, dir, errors, sizeof errors), 65);
    assert_non_null(strstr(errors, "t.scn:4:26: split key 'k0' is not strictly inside region 2"));
    static const char at_start[] = "cluster nodes=3 regions=2\nworkload clients=1 keys=10\n"
                                   "run 2s\nat 1s split region=2 key=k5\n";
    assert_int_equal(run_text(at_start, dir, errors, sizeof errors), 65); /* not strictly */
    static const char inside[] = "cluster nodes=3 regions=2\nworkload clients=1 keys=10\n"
                                 "run 2s\nat 1s split region=2 key=k7\n";
    assert_int_equal(run_text(inside, dir, errors, sizeof errors), 0);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fired_commands_are_resolved),
        cmocka_unit_test(test_timed_faults_undo_themselves),
        cmocka_unit_test(test_swizzle_clog_unclogs_in_another_order),
        cmocka_unit_test(test_recoverable_guard_keeps_a_majority),
        cmocka_unit_test(test_swarm_draws_follow_the_seed),
        cmocka_unit_test(test_schedule_replays_the_run),
        cmocka_unit_test(test_wipe_refused_and_modes),
        cmocka_unit_test(test_split_key_outside_region_is_located),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
