/* `rheasim run`: scenario + seed -> world, timeline, checks, outputs and a summary. */
#include "sim/run.h"

#include "reports/latency.h"
#include "reports/plot.h"
#include "sim/context.h"
#include "sim/history.h"
#include "sim/layout.h"
#include "sim/rhea_config.h"
#include "sim/workload.h"
#include "sim/lincheck.h"
#include "sim/nemesis.h"
#include "sim/scenario.h"
#include "sim/swarm.h"
#include "sim/timeseries.h"
#include "sim/world.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef RS_GIT_COMMIT
#define RS_GIT_COMMIT "unknown"
#endif

#define DRAWN_MAX 64

static const struct {
    const char *name;
    uint32_t flag;
    const char *help;
} bug_table[] = {
    {"commit-old-term", RS_BUG_COMMIT_OLD_TERM, "a leader counts replicas for earlier terms"},
    {"vote-no-log-check", RS_BUG_VOTE_NO_LOG_CHECK, "votes ignore the candidate's log"},
    {"ack-before-sync", RS_BUG_ACK_BEFORE_SYNC, "appends acknowledged before the sync"},
    {"read-without-quorum", RS_BUG_READ_WITHOUT_QUORUM, "ReadIndex without the heartbeat round"},
    {"joint-single-quorum", RS_BUG_JOINT_SINGLE_QUORUM,
     "a joint change commits with the new configuration's quorum only"},
    {"learner-votes-count", RS_BUG_LEARNER_VOTES_COUNT, "learner acks count toward quorums"},
    {"snapshot-drops-tail", RS_BUG_SNAPSHOT_DROPS_TAIL,
     "recovery drops the log after the snapshot"},
    {"truncate-committed", RS_BUG_TRUNCATE_COMMITTED,
     "an append cuts the log after it, even committed entries"},
    {"transfer-without-catchup", RS_BUG_TRANSFER_WITHOUT_CATCHUP,
     "TimeoutNow before the target caught up"},
    {"lease-ignores-drift", RS_BUG_LEASE_IGNORES_DRIFT, "the read lease trusts clocks fully"},
};

uint32_t rs_bug_flag(const char *name)
{
    for (size_t i = 0; i < sizeof bug_table / sizeof bug_table[0]; i++) {
        if (strcmp(bug_table[i].name, name) == 0) {
            return bug_table[i].flag;
        }
    }
    return 0;
}

const char *rs_bug_names(void)
{
    return "commit-old-term, vote-no-log-check, ack-before-sync, read-without-quorum, "
           "joint-single-quorum, learner-votes-count, snapshot-drops-tail, truncate-committed, "
           "transfer-without-catchup, lease-ignores-drift";
}

static const char *bug_name(uint32_t flag)
{
    for (size_t i = 0; i < sizeof bug_table / sizeof bug_table[0]; i++) {
        if (bug_table[i].flag == flag) {
            return bug_table[i].name;
        }
    }
    return "?";
}

void rs_run_options_default(struct rs_run_options *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->trace = true;
    o->plots = true;
    o->progress = true;
}

/* Everything one run holds. */
struct run {
    const struct rs_run_options *opt;
    struct rs_scenario scn;
    int64_t values[RS_SCN_SETTING_COUNT]; /* each setting's value for this seed (lo or drawn) */
    struct {
        enum rs_scn_setting_id id;
        int64_t value;
    } drawn[DRAWN_MAX];
    uint32_t drawn_count;
    struct rs_world world;
    struct rs_trace trace;
    FILE *trace_file;
    struct rs_history *history;
    struct rs_latency_log latency;
    char dir[512];
    struct rs_nemesis nemesis;
    bool swarm_on;
    struct rs_swarm swarm;
    struct rs_scn_command *steps; /* the swarm's timeline */
    uint32_t step_count;
    bool history_error;
    char history_message[256];
};

/* ---- parameters ---- */

static int64_t draw_value(struct run *run, struct rs_rng *rng, enum rs_scn_setting_id id)
{
    const struct rs_scn_value *v = &run->scn.settings[id];
    if (!v->drawn) {
        return v->lo;
    }
    uint64_t span = (uint64_t)(v->hi - v->lo);
    int64_t x = v->lo + (int64_t)rs_rng_below(rng, span + 1);
    if (run->drawn_count < DRAWN_MAX) {
        run->drawn[run->drawn_count].id = id;
        run->drawn[run->drawn_count].value = x;
        run->drawn_count++;
    }
    return x;
}

/* The swarm's mix and timeline for this seed; its network noise replaces the net settings. */
static void draw_swarm(struct run *run)
{
    struct rs_swarm *sw = &run->swarm;
    /* whole milliseconds, so that the schedule reads well */
    int64_t *interval = &run->values[RS_SCN_NEMESIS_INTERVAL];
    *interval = *interval / (int64_t)RS_NS_PER_MS * (int64_t)RS_NS_PER_MS;
    for (uint32_t i = 0; i < run->drawn_count; i++) {
        if (run->drawn[i].id == RS_SCN_NEMESIS_INTERVAL) {
            run->drawn[i].value = *interval;
        }
    }
    rs_swarm_draw(sw, run->opt->seed, (uint64_t)run->values[RS_SCN_NEMESIS_INTERVAL],
                  (uint64_t)run->values[RS_SCN_RAFT_ELECTION_TIMEOUT]);
    if (sw->enabled[RS_SWARM_NET_NOISE]) {
        run->values[RS_SCN_NET_LOSS] = sw->loss_ppm;
        run->values[RS_SCN_NET_DUP] = sw->dup_ppm;
        run->values[RS_SCN_NET_REORDER] = sw->reorder_ppm;
        run->values[RS_SCN_NET_CORRUPT] = sw->corrupt_ppm;
    }
    run->steps = calloc(RS_SWARM_STEPS_MAX, sizeof *run->steps);
    RS_ASSERT(run->steps != NULL);
    run->step_count = rs_swarm_steps(sw, run->opt->seed, run->scn.run_ns,
                                     (uint32_t)run->values[RS_SCN_CLUSTER_NODES], run->steps,
                                     RS_SWARM_STEPS_MAX);
}

static void draw_parameters(struct run *run)
{
    struct rs_rng rng;
    rs_rng_derive(&rng, run->opt->seed, "parameters");
    for (int id = 0; id < RS_SCN_SETTING_COUNT; id++) {
        /* clock drift and offset are drawn per node by the world from their ranges */
        if (id == RS_SCN_CLOCK_DRIFT || id == RS_SCN_CLOCK_OFFSET) {
            run->values[id] = run->scn.settings[id].lo;
            continue;
        }
        run->values[id] = draw_value(run, &rng, (enum rs_scn_setting_id)id);
    }
    run->swarm_on = run->values[RS_SCN_NEMESIS_SWARM] != 0;
    if (run->swarm_on) {
        draw_swarm(run);
    }
}

#define VAL(id) (run->values[RS_SCN_##id])

/* The Placement Driver's counts; only with a PD process, so other summaries stay as they were. */
static void summary_pd(const struct rs_world *w, struct rs_buf *b)
{
    const struct rs_world_pd *pd = &w->pd;
    if (!pd->enabled) {
        return;
    }
    uint64_t id_blocks = pd->id_blocks, saved = pd->regions_saved;
    for (uint32_t i = 0; i < pd->node_count; i++) {
        const struct rs_pd_server *srv = pd->nodes[i].pd_server;
        id_blocks += srv != NULL ? srv->stats.id_blocks : 0;
        saved += srv != NULL ? srv->stats.regions_saved : 0;
    }
    rs_buf_puts(b, ",\"pd\":{");
    rs_buf_puts(b, "\"policy\":");
    rs_buf_json_str(b, pd->policy, strlen(pd->policy));
    rs_buf_printf(b, ",\"nodes\":%u,\"leader_changes\":%llu,\"heartbeats\":%llu,"
                  "\"instructions_sent\":%llu,\"executed\":%llu,\"dropped\":%llu,"
                  "\"transfers\":%llu,\"splits\":%llu,\"peer_changes\":%llu,\"id_blocks\":%llu,"
                  "\"regions_saved\":%llu,\"route_requests\":%llu,\"route_tables\":%llu,"
                  "\"crashes\":%llu,\"restarts\":%llu}",
                  pd->node_count, (unsigned long long)pd->leader_changes,
                  (unsigned long long)pd->heartbeats, (unsigned long long)pd->instructions_sent,
                  (unsigned long long)pd->executed, (unsigned long long)pd->dropped,
                  (unsigned long long)pd->transfers_executed,
                  (unsigned long long)pd->splits_executed,
                  (unsigned long long)pd->peer_changes_executed, (unsigned long long)id_blocks,
                  (unsigned long long)saved, (unsigned long long)pd->route_requests,
                  (unsigned long long)pd->route_tables, (unsigned long long)pd->crashes,
                  (unsigned long long)pd->restarts);
}

static void build_config(struct run *run, struct rs_world_config *c)
{
    const struct rs_scenario *s = &run->scn;
    memset(c, 0, sizeof *c);
    c->seed = run->opt->seed;
    c->node_count = (uint32_t)VAL(CLUSTER_NODES);
    c->raft.election_timeout_ns = (uint64_t)VAL(RAFT_ELECTION_TIMEOUT);
    c->raft.heartbeat_ns = (uint64_t)VAL(RAFT_HEARTBEAT);
    c->raft.pre_vote = VAL(RAFT_PRE_VOTE) != 0;
    c->raft.read_mode = VAL(RAFT_READ) != 0 ? RS_READ_LEASE : RS_READ_SAFE;
    c->raft.max_drift_ppm = (uint32_t)VAL(RAFT_MAX_DRIFT);
    c->raft.snapshot_interval_ns = (uint64_t)VAL(RAFT_SNAPSHOT_INTERVAL);
    c->raft.snapshot_log_entries = (uint64_t)VAL(RAFT_SNAPSHOT_ENTRIES);
    c->raft.snapshot_margin = (uint64_t)VAL(RAFT_SNAPSHOT_MARGIN);
    c->raft.snapshot_chunk_bytes = (uint64_t)VAL(RAFT_SNAPSHOT_CHUNK);
    c->raft.catchup_margin = (uint64_t)VAL(RAFT_CATCHUP_MARGIN);
    c->raft.follower_reads = VAL(RAFT_FOLLOWER_READS) != 0;
    c->raft.hibernate = VAL(RAFT_HIBERNATE) != 0;
    c->replica_count = (uint32_t)VAL(CLUSTER_REPLICAS);
    c->learner_count = (uint32_t)VAL(CLUSTER_LEARNERS);
    c->raft.max_inflight = (uint32_t)VAL(RAFT_MAX_INFLIGHT);
    c->raft.batch_entries = (uint32_t)VAL(RAFT_BATCH_ENTRIES);
    c->raft.batch_bytes = (uint64_t)VAL(RAFT_BATCH_BYTES);
    c->raft.proposal_queue = (uint64_t)VAL(RAFT_PROPOSAL_QUEUE);
    c->net.latency_min_ns = (uint64_t)s->settings[RS_SCN_NET_LATENCY].lo;
    c->net.latency_max_ns = (uint64_t)s->settings[RS_SCN_NET_LATENCY].hi;
    c->net.tail_ppm = (uint32_t)VAL(NET_TAIL);
    c->net.tail_max_ns = (uint64_t)VAL(NET_TAIL_LATENCY);
    if (c->net.tail_max_ns < c->net.latency_max_ns) {
        c->net.tail_max_ns = c->net.latency_max_ns;
    }
    c->net.loss_ppm = (uint32_t)VAL(NET_LOSS);
    c->net.dup_ppm = (uint32_t)VAL(NET_DUP);
    c->net.reorder_ppm = (uint32_t)VAL(NET_REORDER);
    c->net.corrupt_ppm = (uint32_t)VAL(NET_CORRUPT);
    c->disk.write_latency_min_ns = (uint64_t)s->settings[RS_SCN_DISK_WRITE_LATENCY].lo;
    c->disk.write_latency_max_ns = (uint64_t)s->settings[RS_SCN_DISK_WRITE_LATENCY].hi;
    c->disk.sync_latency_min_ns = (uint64_t)s->settings[RS_SCN_DISK_SYNC_LATENCY].lo;
    c->disk.sync_latency_max_ns = (uint64_t)s->settings[RS_SCN_DISK_SYNC_LATENCY].hi;
    c->disk.read_latency_min_ns = (uint64_t)s->settings[RS_SCN_DISK_READ_LATENCY].lo;
    c->disk.read_latency_max_ns = (uint64_t)s->settings[RS_SCN_DISK_READ_LATENCY].hi;
    c->disk.block_size = (uint32_t)VAL(DISK_BLOCK);
    c->disk.torn_keep_ppm = (uint32_t)VAL(DISK_TORN);
    c->drift_ppm_min = (int32_t)s->settings[RS_SCN_CLOCK_DRIFT].lo;
    c->drift_ppm_max = (int32_t)s->settings[RS_SCN_CLOCK_DRIFT].hi;
    c->offset_ns_min = (uint64_t)s->settings[RS_SCN_CLOCK_OFFSET].lo;
    c->offset_ns_max = (uint64_t)s->settings[RS_SCN_CLOCK_OFFSET].hi;
    struct rs_workload_config *wl = &c->workload;
    wl->client_count = (uint32_t)VAL(WORKLOAD_CLIENTS);
    wl->reader_count = (uint32_t)VAL(WORKLOAD_READERS);
    wl->key_count = (uint32_t)VAL(WORKLOAD_KEYS);
    for (int op = 0; op < RS_SCN_OP_COUNT; op++) {
        wl->mix[op + 1] = s->settings[RS_SCN_WORKLOAD_MIX].mix_weight[op]; /* same order */
    }
    wl->dist = (enum rs_dist_kind)s->settings[RS_SCN_WORKLOAD_DIST].dist;
    wl->dist_param = s->settings[RS_SCN_WORKLOAD_DIST].dist_param;
    wl->rate_per_s = (uint64_t)VAL(WORKLOAD_RATE);
    wl->request_timeout_ns = (uint64_t)VAL(WORKLOAD_TIMEOUT);
    wl->op_timeout_ns = (uint64_t)VAL(WORKLOAD_OP_TIMEOUT);
    wl->value_size = (uint32_t)VAL(WORKLOAD_VALUE_SIZE);
    c->fault_phase_ns = s->run_ns;
    c->liveness_ns = (uint64_t)VAL(CHECK_LIVENESS);
    c->liveness_unchecked = VAL(CHECK_MODE) == 1;
    c->sample_ns = (uint64_t)VAL(CHECK_SAMPLE);
    uint32_t leader_store = (uint32_t)VAL(CLUSTER_LEADER_STORE);
    if (leader_store > 0) {
        /* jraft's priority election: the others wait while a higher priority may still win,
         * their target decaying by 10 each election timeout, so leadership lands on that node
         * first and stays there unless moved (a transfer) or the node fails. The others are at
         * 90, one decay step below: when that node cannot win (its log is behind), they wait
         * one election timeout, not ten */
        c->raft.priority_election = true;
        for (uint32_t id = 0; id <= RS_NODE_ID_MAX; id++) {
            c->raft.priorities[id] = id == leader_store ? 100 : 90;
        }
    }
    c->learner_catchup_ns = (uint64_t)VAL(CHECK_LEARNER_CATCHUP_WITHIN);
    c->bugs = run->opt->bugs;
    c->pd_policy = s->settings[RS_SCN_PD_POLICY].text;
    c->pd_heartbeat_ns = (uint64_t)VAL(PD_HEARTBEAT);
    c->pd_tick_ns = (uint64_t)VAL(PD_TICK);
    c->pd_node_count = (uint32_t)VAL(PD_NODES);
    c->pd_split_keys = (uint64_t)VAL(PD_SPLIT_KEYS);
}

/* Settings this version reads but cannot honour yet get a located error, never silence. */
static int unsupported(const struct run *run, struct rs_scn_error *err)
{
    const struct rs_scenario *s = &run->scn;
    const char *why = NULL;
    enum rs_scn_setting_id id = 0;
    if (VAL(CLUSTER_REPLICAS) + VAL(CLUSTER_LEARNERS) > VAL(CLUSTER_NODES)) {
        id = RS_SCN_CLUSTER_LEARNERS;
        why = "cluster.replicas + cluster.learners must not exceed cluster.nodes";
    } else if (VAL(RAFT_READ) != 0 && VAL(RAFT_PRE_VOTE) == 0) {
        id = RS_SCN_RAFT_READ;
        why = "raft.read=lease needs raft.pre_vote=on (without it a lease is unsound)";
    } else if (VAL(WORKLOAD_VALUE_SIZE) < 8 || VAL(WORKLOAD_VALUE_SIZE) > RS_WORKLOAD_VALUE_MAX) {
        id = RS_SCN_WORKLOAD_VALUE_SIZE;
        why = "workload.value_size must be within 8..4096 bytes";
    }
    if (why == NULL) {
        return 0;
    }
    const struct rs_scn_value *v = &s->settings[id];
    memset(err, 0, sizeof *err);
    snprintf(err->message, sizeof err->message, "%s", why);
    if (v->origin == RS_SCN_FROM_FLAG) {
        err->exit_code = 64;
        snprintf(err->message, sizeof err->message, "--set %s: %s",
                 rs_scn_schema[id].section_key, why);
    } else {
        err->exit_code = 65;
        snprintf(err->file, sizeof err->file, "%s", s->source);
        err->line = v->line ? v->line : 1;
        err->column = v->column ? v->column : 1;
    }
    return err->exit_code;
}

/* ---- the timeline ---- */

/* wipe fires now that membership changes can bring a wiped node back. */
#define RUN_WIPE_ENABLED 1

static int timeline_error(const struct run *run, const struct rs_scn_command *c, uint32_t column,
                          struct rs_scn_error *err, const char *message)
{
    memset(err, 0, sizeof *err);
    snprintf(err->file, sizeof err->file, "%s", run->scn.source);
    err->line = c->line;
    err->column = column ? column : 1;
    snprintf(err->message, sizeof err->message, "%s", message);
    err->exit_code = 65;
    return 65;
}

static int check_timeline(const struct run *run, struct rs_scn_error *err)
{
    for (uint32_t i = 0; i < run->scn.command_count; i++) {
        const struct rs_scn_command *c = &run->scn.commands[i];
        if (c->verb == RS_SCN_SET && strcmp(rs_scn_schema[c->setting].section, "net") != 0) {
            char message[128];
            snprintf(message, sizeof message, "only net settings can change during a run (not %s)",
                     rs_scn_schema[c->setting].section_key);
            return timeline_error(run, c, 1, err, message);
        }
        if (c->verb == RS_SCN_WIPE && !RUN_WIPE_ENABLED) {
            return timeline_error(run, c, c->target.column, err,
                                  "wipe needs membership changes, not yet in the engine");
        }
    }
    return 0;
}

static void on_window(void *ctx, uint64_t since_ns, uint64_t until_ns, const char *label)
{
    struct run *run = ctx;
    rs_latency_add_window(&run->latency, since_ns, until_ns, label);
}

/* ---- client operations: history and latency ---- */

static void on_op(void *ctx, const struct rs_op_event *ev)
{
    struct run *run = ctx;
    static const enum rs_hist_type types[] = {RS_HIST_INVOKE, RS_HIST_OK, RS_HIST_FAIL,
                                              RS_HIST_INFO};
    /* The workload knows each operation's shape; it writes the history event. */
    struct rs_history_error herr;
    if (!run->history_error &&
        rs_workload_record(ev->op, ev->process, types[ev->phase], ev->result,
                           (int64_t)ev->time_ns, run->history, &herr) != RS_OK) {
        run->history_error = true;
        snprintf(run->history_message, sizeof run->history_message, "%s", herr.message);
    }
    if (ev->phase != RS_OP_INVOKE) {
        static const enum rs_outcome outcomes[] = {RS_OUTCOME_OK, RS_OUTCOME_OK, RS_OUTCOME_FAIL,
                                                   RS_OUTCOME_INFO};
        rs_latency_add(&run->latency, ev->invoke_ns, ev->time_ns - ev->invoke_ns,
                       rs_hist_f_name((enum rs_hist_f)(ev->opcode - 1)), outcomes[ev->phase]);
    }
}

/* ---- expectations ---- */

/* The first time at or after `after` with an effective leader, UINT64_MAX if never. */
static uint64_t leader_time_after(const struct rs_world *w, uint64_t after)
{
    uint32_t current = 0;
    for (size_t i = 0; i < w->leader_log_count; i++) {
        const struct rs_leader_change *c = &w->leader_log[i];
        if (c->time_ns <= after) {
            current = c->leader;
            continue;
        }
        if (current != 0) {
            return after;
        }
        current = c->leader;
        if (current != 0) {
            return c->time_ns;
        }
    }
    return current != 0 ? after : UINT64_MAX;
}

/* The longest stretch without an effective leader, from the first leader to the end. */
static uint64_t longest_leaderless(const struct rs_world *w, uint64_t end_ns)
{
    uint64_t longest = 0;
    uint64_t since = 0;
    bool seen = false;
    bool without = false;
    for (size_t i = 0; i < w->leader_log_count; i++) {
        const struct rs_leader_change *c = &w->leader_log[i];
        if (c->leader != 0) {
            if (without && c->time_ns - since > longest) {
                longest = c->time_ns - since;
            }
            seen = true;
            without = false;
        } else if (seen && !without) {
            without = true;
            since = c->time_ns;
        }
    }
    if (without && end_ns - since > longest) {
        longest = end_ns - since;
    }
    return longest;
}

static void expectations(struct run *run, struct rs_checks *checks)
{
    const struct rs_world *w = &run->world;
    char within[32];
    for (uint32_t i = 0; i < run->scn.expect_count && checks->failed == RS_CHECK_NONE; i++) {
        const struct rs_scn_expect *e = &run->scn.expects[i];
        rs_scn_duration_format(e->within_ns, within, sizeof within);
        if (e->kind == RS_SCN_EXPECT_LEADER_WITHIN) {
            uint64_t after = e->has_after ? e->after_ns : 0;
            uint64_t t = leader_time_after(w, after);
            if (t == UINT64_MAX || t - after > e->within_ns) {
                rs_checks_fail(checks, w->now_ns, RS_CHECK_EXPECTATION,
                               "%s:%u: no leader within %s", run->scn.source, e->line, within);
            }
        } else if (e->kind == RS_SCN_EXPECT_CONVERGED_WITHIN) {
            if (w->converged_ns == 0 || w->converged_ns - w->heal_ns > e->within_ns) {
                rs_checks_fail(checks, w->now_ns, RS_CHECK_EXPECTATION,
                               "%s:%u: not converged within %s of the heal", run->scn.source,
                               e->line, within);
            }
        } else if (e->kind == RS_SCN_EXPECT_OPS_OK) {
            if (w->stats.ops_ok < e->ops_ok_min) {
                rs_checks_fail(checks, w->now_ns, RS_CHECK_EXPECTATION,
                               "%s:%u: %llu operations succeeded, expected at least %llu",
                               run->scn.source, e->line, (unsigned long long)w->stats.ops_ok,
                               (unsigned long long)e->ops_ok_min);
            }
        } else if (e->kind == RS_SCN_EXPECT_BALANCED_WITHIN) {
            int64_t since = rs_balanced_since(w, RS_BALANCE_LEADERS);
            if (since < 0 || (uint64_t)since > e->within_ns) {
                rs_checks_fail(checks, w->now_ns, RS_CHECK_EXPECTATION,
                               "%s:%u: leaders per store not within one of each other from %s "
                               "on (balance.csv)", run->scn.source, e->line, within);
            }
        } else if (e->kind == RS_SCN_EXPECT_AVAILABILITY) {
            uint64_t done = w->stats.ops_ok + w->stats.ops_fail + w->stats.ops_info;
            uint64_t ppm = done ? w->stats.ops_ok * 1000000 / done : 0;
            if (ppm < e->availability_min_ppm) {
                rs_checks_fail(checks, w->now_ns, RS_CHECK_EXPECTATION,
                               "%s:%u: availability %llu ppm below %u ppm", run->scn.source,
                               e->line, (unsigned long long)ppm, e->availability_min_ppm);
            }
        }
    }
    uint64_t bound = (uint64_t)VAL(CHECK_LEADER_WITHIN);
    if (bound > 0 && checks->failed == RS_CHECK_NONE) {
        uint64_t gap = longest_leaderless(w, w->now_ns);
        if (gap > bound) {
            rs_checks_fail(checks, w->now_ns, RS_CHECK_EXPECTATION,
                           "check.leader_within: %llu ms without a leader",
                           (unsigned long long)(gap / RS_NS_PER_MS));
        }
    }
}

/* ---- outputs ---- */

int rs_make_dirs(const char *path)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
                return errno;
            }
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
        return errno;
    }
    return 0;
}

static FILE *open_out(const struct run *run, const char *name)
{
    char path[640];
    snprintf(path, sizeof path, "%s/%s", run->dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "rheasim: cannot write %s: %s\n", path, strerror(errno));
    }
    return f;
}

static void reproduce_line(const struct run *run, struct rs_buf *b)
{
    rs_buf_printf(b, "rheasim run %s --seed %llu", run->opt->scenario_path,
                  (unsigned long long)run->opt->seed);
    for (uint32_t i = 0; i < run->opt->set_count; i++) {
        rs_buf_printf(b, " --set %s", run->opt->sets[i]);
    }
    for (uint32_t bit = 1; bit != 0 && bit <= run->opt->bugs; bit <<= 1) {
        if (run->opt->bugs & bit) {
            rs_buf_printf(b, " --bug %s", bug_name(bit));
        }
    }
}

static int exit_code_of(enum rs_check_kind kind)
{
    switch (kind) {
    case RS_CHECK_NONE: return 0;
    case RS_CHECK_LIVENESS:
    case RS_CHECK_LEARNER_CATCHUP:
    case RS_CHECK_EXPECTATION: return 2;
    default: return 1;
    }
}

static void json_kv_u64(struct rs_buf *b, const char *key, uint64_t v, bool comma)
{
    rs_buf_json_key(b, key);
    rs_buf_u64(b, v);
    if (comma) {
        rs_buf_putc(b, ',');
    }
}

static void summary_parameters(const struct run *run, struct rs_buf *b)
{
    rs_buf_json_key(b, "parameters");
    rs_buf_putc(b, '{');
    for (uint32_t i = 0; i < run->drawn_count; i++) {
        char text[64];
        enum rs_scn_setting_id id = run->drawn[i].id;
        rs_scn_scalar_format(rs_scn_schema[id].type, run->drawn[i].value, text, sizeof text);
        rs_buf_printf(b, "%s\"%s\":", i ? "," : "", rs_scn_schema[id].section_key);
        rs_buf_json_str(b, text, strlen(text));
    }
    rs_buf_puts(b, "},");
}

/* Counts of the fault model (in "counts"). */
static void summary_fault_counts(const struct run *run, struct rs_buf *b)
{
    const struct rs_world_stats *st = &run->world.stats;
    const struct rs_net_counters *net = rs_net_counters(&run->world.net);
    json_kv_u64(b, "wipes", st->wipes, true);
    json_kv_u64(b, "pauses", st->pauses, true);
    json_kv_u64(b, "deferred_events", st->deferred_events, true);
    json_kv_u64(b, "held_copies", st->held_copies, true);
    json_kv_u64(b, "filtered", net->filtered, true);
    json_kv_u64(b, "queue_dropped", net->queue_dropped, true);
    json_kv_u64(b, "corrupt_copies", st->corrupt_copies, true);
    json_kv_u64(b, "corrupt_rejected", st->corrupt_rejected, true);
    json_kv_u64(b, "corrupt_accepted", st->corrupt_accepted, true);
    json_kv_u64(b, "disk_errors", st->disk_errors, true);
    json_kv_u64(b, "corrupted_disk_bits", st->corrupted_disk_bits, true);
}

/* The mode, the swarm's draws, and how often each fault fired. */
static void summary_faults(const struct run *run, struct rs_buf *b)
{
    const struct rs_nemesis *n = &run->nemesis;
    rs_buf_printf(b, "\"mode\":\"%s\",\"swarm\":",
                  n->mode == RS_NEMESIS_UNRESTRICTED ? "unrestricted" : "recoverable");
    if (run->swarm_on) {
        rs_swarm_json(&run->swarm, b);
    } else {
        rs_buf_puts(b, "null");
    }
    rs_buf_puts(b, ",\"faults\":{");
    const char *separator = "";
    for (int v = 0; v < RS_SCN_VERB_COUNT; v++) {
        if (n->verb_counts[v] > 0) {
            rs_buf_printf(b, "%s\"%s\":%llu", separator, rs_scn_verb_name((enum rs_scn_verb)v),
                          (unsigned long long)n->verb_counts[v]);
            separator = ",";
        }
    }
    rs_buf_printf(b, "},\"swarm_steps\":%u,\"swarm_skipped\":%llu,", run->step_count,
                  (unsigned long long)n->skipped);
}

/* Replica removal summed over the stores, earlier incarnations included. */
static void summary_stores(const struct rs_world *w, struct rs_buf *b)
{
    struct rs_world_counts sum = {0};
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        const struct rs_world_node *wn = &w->nodes[id];
        const struct rs_store_stats *live = wn->up ? &wn->store->stats : NULL;
        sum.replicas_destroyed += wn->counted.replicas_destroyed;
        sum.replicas_revived += wn->counted.replicas_revived;
        sum.tombstone_refusals += wn->counted.tombstone_refusals;
        if (live != NULL) {
            sum.replicas_destroyed += live->replicas_destroyed;
            sum.replicas_revived += live->replicas_revived;
            sum.tombstone_refusals += live->tombstone_refusals;
        }
    }
    rs_buf_puts(b, ",\"stores\":{");
    json_kv_u64(b, "replicas_destroyed", sum.replicas_destroyed, true);
    json_kv_u64(b, "replicas_revived", sum.replicas_revived, true);
    json_kv_u64(b, "tombstone_refusals", sum.tombstone_refusals, false);
    rs_buf_puts(b, "}");
}

static void summary_json(const struct run *run, const struct rs_checks *checks,
                         const struct rs_lincheck_result *lin, struct rs_buf *b)
{
    const struct rs_world *w = &run->world;
    rs_buf_puts(b, "{");
    rs_buf_json_key(b, "scenario");
    rs_buf_json_str(b, run->scn.name, strlen(run->scn.name));
    rs_buf_putc(b, ',');
    rs_buf_json_key(b, "file");
    rs_buf_json_str(b, run->opt->scenario_path, strlen(run->opt->scenario_path));
    rs_buf_putc(b, ',');
    json_kv_u64(b, "seed", run->opt->seed, true);
    rs_buf_printf(b, "\"commit\":\"%s\",\"exit_code\":%d,", RS_GIT_COMMIT,
                  exit_code_of(checks->failed));
    rs_buf_printf(b, "\"check\":{\"failed\":\"%s\",\"message\":",
                  checks->failed == RS_CHECK_NONE ? "" : rs_check_name(checks->failed));
    rs_buf_json_str(b, checks->message, strlen(checks->message));
    rs_buf_printf(b, ",\"at_ns\":%llu},", (unsigned long long)checks->failed_at_ns);
    summary_parameters(run, b);
    rs_buf_puts(b, "\"counts\":{");
    json_kv_u64(b, "events", w->stats.events, true);
    json_kv_u64(b, "messages", w->stats.messages, true);
    json_kv_u64(b, "disk_ops", w->stats.disk_ops, true);
    json_kv_u64(b, "ops_invoked", w->stats.ops_invoked, true);
    json_kv_u64(b, "ops_ok", w->stats.ops_ok, true);
    json_kv_u64(b, "ops_fail", w->stats.ops_fail, true);
    json_kv_u64(b, "ops_info", w->stats.ops_info, true);
    json_kv_u64(b, "crashes", w->stats.crashes, true);
    json_kv_u64(b, "restarts", w->stats.restarts, true);
    summary_fault_counts(run, b);
    json_kv_u64(b, "leader_terms", checks->leader_changes, false);
    rs_buf_puts(b, "},");
    summary_faults(run, b);
    rs_buf_puts(b, "\"balance\":");
    rs_balance_json(&run->world, b);
    summary_pd(&run->world, b);
    summary_stores(&run->world, b);
    rs_buf_puts(b, ",\"linearizability\":{");
    rs_buf_printf(b, "\"verdict\":\"%s\",", rs_lincheck_verdict_name(lin->verdict));
    json_kv_u64(b, "operations", lin->op_count, true);
    json_kv_u64(b, "keys", lin->key_count, false);
    rs_buf_puts(b, "},\"liveness\":{");
    rs_buf_printf(b, "\"checked\":%s,", w->cfg.liveness_unchecked ? "false" : "true");
    if (w->cfg.liveness_unchecked) {
        rs_buf_puts(b, "\"why_not\":\"check.mode=unrestricted: safety only\",");
    }
    json_kv_u64(b, "heal_ns", w->heal_ns, true);
    json_kv_u64(b, "converged_ns", w->converged_ns, true);
    uint64_t leader = w->healed ? leader_time_after(w, w->heal_ns) : UINT64_MAX;
    json_kv_u64(b, "leader_after_heal_ns", leader == UINT64_MAX ? 0 : leader - w->heal_ns, false);
    rs_buf_puts(b, "},");
    rs_buf_json_key(b, "latency");
    rs_latency_write_json(&run->latency, b);
    rs_buf_printf(b, ",\"end_ns\":%llu,\"trace_digest\":\"%016llx\",",
                  (unsigned long long)w->now_ns, (unsigned long long)rs_trace_digest(&run->trace));
    struct rs_buf repro;
    rs_buf_init(&repro);
    reproduce_line(run, &repro);
    rs_buf_json_key(b, "reproduce");
    rs_buf_json_str(b, repro.data, repro.size);
    rs_buf_puts(b, "}\n");
    rs_buf_free(&repro);
}

/* A setting whose value this run decided (drawn per seed, or the swarm's net noise). */
static bool decided_here(const struct run *run, enum rs_scn_setting_id id)
{
    bool noise = run->swarm_on && run->swarm.enabled[RS_SWARM_NET_NOISE] &&
                 (id == RS_SCN_NET_LOSS || id == RS_SCN_NET_DUP || id == RS_SCN_NET_REORDER ||
                  id == RS_SCN_NET_CORRUPT);
    bool per_node = id == RS_SCN_CLOCK_DRIFT || id == RS_SCN_CLOCK_OFFSET;
    return noise || (run->scn.settings[id].drawn && !per_node);
}

/*
 * schedule.scn: the scenario as this seed ran it. Drawn values are fixed, the swarm is off,
 * and the timeline is what fired, resolved (node(N) targets, drawn amounts fixed), so the
 * seed becomes an editable scenario whose replay fires the same faults at the same times.
 */
static void write_schedule(struct run *run)
{
    FILE *f = open_out(run, "schedule.scn");
    if (f == NULL) {
        return;
    }
    struct rs_scenario sched = run->scn; /* a shallow copy: nothing of it is freed */
    snprintf(sched.name, sizeof sched.name, "%.*s-schedule", (int)sizeof sched.name - 10,
             run->scn.name);
    for (int id = 0; id < RS_SCN_SETTING_COUNT; id++) {
        if (decided_here(run, (enum rs_scn_setting_id)id)) {
            sched.settings[id].lo = sched.settings[id].hi = run->values[id];
            sched.settings[id].drawn = false;
        }
    }
    sched.settings[RS_SCN_NEMESIS_SWARM].lo = sched.settings[RS_SCN_NEMESIS_SWARM].hi = 0;
    sched.commands = run->nemesis.fired;
    sched.command_count = run->nemesis.fired_count < RS_SCN_COMMAND_COUNT_MAX
                              ? run->nemesis.fired_count
                              : RS_SCN_COMMAND_COUNT_MAX;
    fprintf(f, "# What fired in: ");
    struct rs_buf repro;
    rs_buf_init(&repro);
    reproduce_line(run, &repro);
    /* no directory in it: outputs stay byte-identical whatever --out says */
    fprintf(f, "%s\n# Replay it from the run directory: rheasim run schedule.scn --seed %llu",
            repro.data, (unsigned long long)run->opt->seed);
    for (uint32_t bit = 1; bit != 0 && bit <= run->opt->bugs; bit <<= 1) {
        if (run->opt->bugs & bit) {
            fprintf(f, " --bug %s", bug_name(bit));
        }
    }
    fprintf(f, "\n# Targets are resolved, drawn values fixed, the swarm is off.\n");
    if (run->nemesis.fired_truncated) {
        fprintf(f, "# Only the first %u faults are listed: the run fired %u.\n",
                RS_SCN_COMMAND_COUNT_MAX, run->nemesis.fired_count);
    }
    rs_buf_free(&repro);
    rs_scenario_write(&sched, f);
    fclose(f);
}

static void write_buf(struct run *run, const char *name, const struct rs_buf *b)
{
    FILE *f = open_out(run, name);
    if (f != NULL) {
        fwrite(b->data, 1, b->size, f);
        fclose(f);
    }
}

static void write_outputs(struct run *run, const struct rs_checks *checks,
                          const struct rs_lincheck_result *lin)
{
    write_schedule(run);
    FILE *f = open_out(run, "history.jsonl");
    if (f != NULL) {
        rs_history_write(run->history, f);
        fclose(f);
    }
    rs_latency_set_end(&run->latency, run->world.now_ns);
    for (size_t i = 0; i < run->world.mark_count; i++) {
        const struct rs_world_mark *m = &run->world.marks[i];
        rs_latency_add_mark(&run->latency, m->time_ns,
                            m->kind == RS_WORLD_MARK_SPLIT ? RS_LATENCY_MARK_SPLIT
                                                           : RS_LATENCY_MARK_TRANSFER);
    }
    char title[192];
    snprintf(title, sizeof title, "%s seed %llu", run->scn.name,
             (unsigned long long)run->opt->seed);
    char message[512];
    if (run->opt->plots) {
        enum rs_plot_status st = rs_plot_latency(&run->latency, run->dir, title, message,
                                                 sizeof message);
        if (st != RS_PLOT_OK && !run->opt->quiet) {
            fprintf(stderr, "rheasim: %s\n", message);
        }
    } else {
        rs_latency_write_csv(&run->latency, run->dir, message, sizeof message);
    }
    struct rs_buf b;
    rs_buf_init(&b);
    rs_timeseries_csv(&run->world, &b);
    write_buf(run, "timeseries.csv", &b);
    rs_buf_reset(&b);
    rs_balance_csv(&run->world, &b);
    write_buf(run, "balance.csv", &b);
    rs_buf_reset(&b);
    if (run->opt->plots) {
        enum rs_plot_status st = rs_plot_stores(run->dir, title, run->world.cfg.node_count,
                                                message, sizeof message);
        if (st != RS_PLOT_OK && st != RS_PLOT_NO_GNUPLOT && !run->opt->quiet) {
            fprintf(stderr, "rheasim: %s\n", message);
        }
    }
    summary_json(run, checks, lin, &b);
    f = open_out(run, "summary.json");
    if (f != NULL) {
        fwrite(b.data, 1, b.size, f);
        fclose(f);
    }
    rs_buf_free(&b);
}

static void print_parameters(const struct run *run)
{
    if (run->swarm_on) {
        struct rs_buf line;
        rs_buf_init(&line);
        rs_swarm_describe(&run->swarm, &line);
        printf("%s; %u steps, %s mode\n", line.data, run->step_count,
               VAL(CHECK_MODE) == 1 ? "unrestricted" : "recoverable");
        rs_buf_free(&line);
    }
    if (run->drawn_count == 0) {
        printf("parameters: none drawn (the scenario fixes every value)\n");
        return;
    }
    printf("parameters drawn for seed %llu:", (unsigned long long)run->opt->seed);
    for (uint32_t i = 0; i < run->drawn_count; i++) {
        char text[64];
        enum rs_scn_setting_id id = run->drawn[i].id;
        rs_scn_scalar_format(rs_scn_schema[id].type, run->drawn[i].value, text, sizeof text);
        printf(" %s=%s", rs_scn_schema[id].section_key, text);
    }
    printf("\n");
}

static void print_summary(const struct run *run, const struct rs_checks *checks,
                          const struct rs_lincheck_result *lin)
{
    const struct rs_world *w = &run->world;
    struct rs_quantiles q;
    rs_latency_quantiles(&run->latency, NULL, &q);
    printf("run: %s seed %llu: %s\n", run->scn.name, (unsigned long long)run->opt->seed,
           checks->failed == RS_CHECK_NONE ? "all checks held" : "FAILED");
    if (checks->failed != RS_CHECK_NONE) {
        printf("  check %s failed at %.3fs: %s\n", rs_check_name(checks->failed),
               (double)checks->failed_at_ns / 1e9, checks->message);
    }
    printf("  simulated %.3fs, %llu events, %llu messages, %llu crashes\n",
           (double)w->now_ns / 1e9, (unsigned long long)w->stats.events,
           (unsigned long long)w->stats.messages, (unsigned long long)w->stats.crashes);
    printf("  operations: %llu ok, %llu fail, %llu info; p50 %.3fms p99 %.3fms\n",
           (unsigned long long)w->stats.ops_ok, (unsigned long long)w->stats.ops_fail,
           (unsigned long long)w->stats.ops_info, (double)q.latency_ns_p50 / 1e6,
           (double)q.latency_ns_p99 / 1e6);
    printf("  linearizability: %s (%llu operations, %u keys)\n",
           rs_lincheck_verdict_name(lin->verdict), (unsigned long long)lin->op_count,
           lin->key_count);
    if (w->converged_ns != 0) {
        printf("  converged %.3fs after the heal\n", (double)(w->converged_ns - w->heal_ns) / 1e9);
    } else if (w->cfg.liveness_unchecked) {
        printf("  liveness not checked (check.mode=unrestricted: safety only)\n");
    }
    printf("  trace digest %016llx\n", (unsigned long long)rs_trace_digest(&run->trace));
    printf("  report: %s/summary.json (plot: %s/latency.png)\n", run->dir, run->dir);
    struct rs_buf repro;
    rs_buf_init(&repro);
    reproduce_line(run, &repro);
    printf("  reproduce: %s\n", repro.data);
    rs_buf_free(&repro);
}

static int load(struct run *run, struct rs_scn_error *err)
{
    const struct rs_run_options *o = run->opt;
    if (rs_scenario_load_file(o->scenario_path, &run->scn, err) != RS_OK) {
        return err->exit_code ? err->exit_code : 65;
    }
    for (uint32_t i = 0; i < o->set_count; i++) {
        if (rs_scenario_apply_set(&run->scn, o->sets[i], err) != RS_OK) {
            return err->exit_code ? err->exit_code : 64;
        }
    }
    if (rs_scenario_validate(&run->scn, err) != RS_OK) {
        return err->exit_code ? err->exit_code : 65;
    }
    draw_parameters(run);
    int code = unsupported(run, err);
    return code ? code : check_timeline(run, err);
}

static void progress(const struct run *run, bool final)
{
    const struct rs_world *w = &run->world;
    fprintf(stderr, "\r  %s seed %llu: %7.1fs simulated, %10llu events, %8llu ops ok%s",
            run->scn.name, (unsigned long long)run->opt->seed, (double)w->now_ns / 1e9,
            (unsigned long long)w->stats.events, (unsigned long long)w->stats.ops_ok,
            final ? "\n" : "");
}

static void simulate(struct run *run)
{
    bool show = run->opt->progress && !run->opt->quiet && isatty(2);
    rs_world_start(&run->world);
    for (uint64_t t = RS_NS_PER_S; !rs_world_done(&run->world); t += RS_NS_PER_S) {
        rs_world_run_until(&run->world, t);
        if (show) {
            progress(run, false);
        }
    }
    if (show) {
        progress(run, true);
    }
}

static void close_windows(struct run *run)
{
    uint64_t end = run->world.healed ? run->world.heal_ns : run->world.now_ns;
    rs_nemesis_close_windows(&run->nemesis, end);
}

static void check_history(struct run *run, struct rs_lincheck_result *lin)
{
    struct rs_checks *checks = &run->world.checks;
    if (run->history_error) {
        rs_checks_fail(checks, run->world.now_ns, RS_CHECK_LINEARIZABILITY,
                       "the recorded history is malformed: %s", run->history_message);
        return;
    }
    struct rs_lincheck_options lo;
    rs_lincheck_options_default(&lo);
    rs_lincheck_check(run->history, &lo, lin);
    if (lin->verdict == RS_LINCHECK_OK) {
        return;
    }
    struct rs_buf b;
    rs_buf_init(&b);
    rs_lincheck_format(run->history, lin, &b);
    if (lin->verdict == RS_LINCHECK_VIOLATION) {
        rs_checks_fail(checks, run->world.now_ns, RS_CHECK_LINEARIZABILITY, "%s", b.data);
    } else {
        rs_checks_fail(checks, run->world.now_ns, RS_CHECK_EXPECTATION,
                       "linearizability unknown (search budget exhausted): %s", b.data);
    }
    rs_buf_free(&b);
}

/* The layout a run starts with: regions, their members and options. */
struct layout {
    struct rs_region *regions;
    uint32_t region_count;
    struct rs_conf *confs;          /* NULL: every region on the cluster-wide voters */
    struct rs_raft_config *rafts;   /* NULL: the scenario's raft settings for every region */
};

static void layout_free(struct layout *l)
{
    for (uint32_t i = 0; l->regions != NULL && i < l->region_count; i++) {
        rs_region_free(&l->regions[i]);
    }
    free(l->regions);
    free(l->confs);
    free(l->rafts);
    memset(l, 0, sizeof *l);
}

/* The order of the file's regions by start key (their ranges do not overlap). */
static void rhea_key_order(const struct rs_rhea_config *rc, uint32_t *order)
{
    for (uint32_t i = 0; i < rc->region_count; i++) {
        uint32_t j = i;
        const struct rs_rhea_region *r = &rc->regions[i];
        while (j > 0) {
            const struct rs_rhea_region *p = &rc->regions[order[j - 1]];
            if (rs_key_compare((struct rs_bytes){p->start_key, p->start_key_size},
                               (struct rs_bytes){r->start_key, r->start_key_size}) <= 0) {
                break;
            }
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
}

/*
 * cluster.rhea_config: stores are the file's servers (ids in order of first appearance),
 * regions its regionEngineOptionsList in key order (ids 1..N; the RheaKV region id and group
 * id stay in the file), each with its own members and node options. Returns 0, or 65 after
 * printing the located error.
 */
static int layout_from_rhea(struct run *run, struct rs_world_config *cfg, struct layout *l)
{
    const char *path = run->scn.settings[RS_SCN_CLUSTER_RHEA_CONFIG].text;
    struct rs_rhea_config rc;
    struct rs_rhea_error err;
    char text[1024];
    if (rs_rhea_config_load(path, &rc, &err) != RS_OK) {
        rs_rhea_error_format(&err, text, sizeof text);
        fprintf(stderr, "rheasim: %s\n", text);
        return 65;
    }
    const struct rs_scn_value *nodes = &run->scn.settings[RS_SCN_CLUSTER_NODES];
    if (rc.server_count != (uint32_t)nodes->lo) {
        fprintf(stderr, "rheasim: %s:%u:%u: cluster.nodes is %lld but %s has %u stores: set "
                        "cluster.nodes=%u\n", run->scn.source, nodes->line, nodes->column,
                (long long)nodes->lo, path, rc.server_count, rc.server_count);
        rs_rhea_config_free(&rc);
        return 65;
    }
    for (uint32_t i = 0; i < rc.warning_count && !run->opt->quiet; i++) {
        fprintf(stderr, "rheasim: warning: %s\n", rc.warnings[i]);
    }
    bool no_pd = strcmp(run->scn.settings[RS_SCN_PD_POLICY].text, "none") == 0 ||
                 run->scn.settings[RS_SCN_PD_POLICY].text[0] == '\0';
    if (!rc.pd.fake && no_pd && !run->opt->quiet) {
        fprintf(stderr, "rheasim: %s: placementDriverOptions.fake is false, but the Placement "
                        "Driver runs only when pd.policy names a policy (then as a group of "
                        "pd.nodes nodes, not the file's PD servers)\n", path);
    }
    l->region_count = rc.region_count;
    l->regions = calloc(rc.region_count, sizeof *l->regions);
    l->confs = calloc(rc.region_count, sizeof *l->confs);
    l->rafts = calloc(rc.region_count, sizeof *l->rafts);
    uint32_t *order = calloc(rc.region_count, sizeof *order);
    RS_ASSERT(l->regions != NULL && l->confs != NULL && l->rafts != NULL && order != NULL);
    rhea_key_order(&rc, order);
    for (uint32_t i = 0; i < rc.region_count; i++) {
        const struct rs_rhea_region *r = &rc.regions[order[i]];
        rs_region_init(&l->regions[i], i + 1, (struct rs_bytes){r->start_key, r->start_key_size},
                       (struct rs_bytes){r->end_key, r->end_key_size});
        struct rs_rhea_members m;
        rs_rhea_region_members(&rc, order[i], &m);
        l->confs[i].voter_count = m.voter_count;
        memcpy(l->confs[i].voters, m.voters, m.voter_count * sizeof m.voters[0]);
        l->confs[i].learner_count = m.learner_count;
        memcpy(l->confs[i].learners, m.learners, m.learner_count * sizeof m.learners[0]);
        l->rafts[i] = cfg->raft;
        rs_rhea_region_raft_config(&rc, order[i], m.voters[0], &l->rafts[i]);
    }
    free(order);
    rs_rhea_config_free(&rc);
    return 0;
}

static int layout_build(struct run *run, struct rs_world_config *cfg, struct layout *l)
{
    memset(l, 0, sizeof *l);
    if (run->scn.settings[RS_SCN_CLUSTER_RHEA_CONFIG].text[0] != '\0') {
        return layout_from_rhea(run, cfg, l);
    }
    l->region_count = (uint32_t)VAL(CLUSTER_REGIONS);
    l->regions = rs_layout_split_keys((uint32_t)VAL(WORKLOAD_KEYS), l->region_count);
    if (VAL(CLUSTER_PLACEMENT) == 1) {
        l->confs = calloc(l->region_count, sizeof *l->confs);
        RS_ASSERT(l->confs != NULL);
        rs_layout_spread(l->confs, l->region_count, cfg->node_count, cfg->replica_count);
    }
    return 0;
}

/*
 * A `split region=N key=K` of a region the cluster starts with must name a key strictly inside
 * that region's range, or the file is refused where the key is written (exit 65). A region
 * made later by a split is not known until it exists: a key it does not hold when the command
 * fires is refused then (RS_EKEYRANGE, in the trace).
 */
static int splits_check(const struct run *run, const struct layout *l)
{
    for (uint32_t i = 0; i < run->scn.command_count; i++) {
        const struct rs_scn_command *c = &run->scn.commands[i];
        if (c->verb != RS_SCN_SPLIT || c->key_size == 0 || c->region_id == 0 ||
            c->region_id > l->region_count) {
            continue;
        }
        const struct rs_region *r = &l->regions[c->region_id - 1];
        struct rs_bytes key = {(const uint8_t *)c->key, c->key_size};
        bool above_start = rs_key_compare(key, (struct rs_bytes){r->start, r->start_size}) > 0;
        bool below_end = r->end_size == 0 ||
                         rs_key_compare(key, (struct rs_bytes){r->end, r->end_size}) < 0;
        if (!above_start || !below_end) {
            fprintf(stderr,
                    "rheasim: %s:%u:%u: split key '%.*s' is not strictly inside region %llu, "
                    "which starts from '%.*s' up to %s%.*s%s\n",
                    run->opt->scenario_path, c->line, c->key_column, (int)c->key_size, c->key,
                    (unsigned long long)c->region_id, (int)r->start_size, (const char *)r->start,
                    r->end_size == 0 ? "the end" : "'", (int)r->end_size,
                    r->end_size == 0 ? "" : (const char *)r->end, r->end_size == 0 ? "" : "'");
            return 65;
        }
    }
    return 0;
}

static int prepare(struct run *run)
{
    const struct rs_run_options *o = run->opt;
    if (o->out_dir != NULL) {
        snprintf(run->dir, sizeof run->dir, "%s", o->out_dir);
    } else {
        snprintf(run->dir, sizeof run->dir, "runs/%s-seed%llu", run->scn.name,
                 (unsigned long long)o->seed);
    }
    int e = rs_make_dirs(run->dir);
    if (e != 0) {
        fprintf(stderr, "rheasim: cannot create %s: %s\n", run->dir, strerror(e));
        return 73; /* EX_CANTCREAT */
    }
    run->trace_file = o->trace ? open_out(run, "trace.jsonl") : NULL;
    if (o->trace && run->trace_file == NULL) {
        return 73;
    }
    rs_trace_init(&run->trace, run->trace_file);
    run->history = rs_history_new();
    rs_latency_init(&run->latency);
    RS_ASSERT(run->history != NULL);
    struct rs_world_config cfg;
    build_config(run, &cfg);
    struct layout layout;
    int code = layout_build(run, &cfg, &layout);
    code = code != 0 ? code : splits_check(run, &layout);
    if (code != 0) {
        layout_free(&layout);
        return code;
    }
    cfg.regions = layout.regions;
    cfg.region_count = layout.region_count;
    cfg.region_confs = layout.confs;
    cfg.region_rafts = layout.rafts;
    enum rs_err init_err = rs_world_init(&run->world, &cfg, &run->trace);
    layout_free(&layout);
    if (init_err != RS_OK) {
        fprintf(stderr, "rheasim: %s: the network or disk parameters are invalid\n",
                o->scenario_path);
        return 65;
    }
    run->world.on_op = on_op;
    run->world.on_op_ctx = run;
    enum rs_nemesis_mode mode = VAL(CHECK_MODE) == 1 ? RS_NEMESIS_UNRESTRICTED
                                                     : RS_NEMESIS_RECOVERABLE;
    rs_nemesis_init(&run->nemesis, &run->world, mode, &run->scn, run->steps, run->step_count);
    run->nemesis.on_window = on_window;
    run->nemesis.window_ctx = run;
    rs_nemesis_start(&run->nemesis);
    return 0;
}

static void release(struct run *run)
{
    rs_world_free(&run->world);
    rs_trace_free(&run->trace);
    if (run->trace_file != NULL) {
        fclose(run->trace_file);
    }
    if (run->history != NULL) {
        rs_history_free(run->history);
    }
    rs_latency_free(&run->latency);
    rs_nemesis_free(&run->nemesis);
    free(run->steps);
    rs_scenario_free(&run->scn);
}

int rs_run(const struct rs_run_options *o, struct rs_run_result *result)
{
    struct run *run = calloc(1, sizeof *run);
    RS_ASSERT(run != NULL);
    run->opt = o;
    memset(result, 0, sizeof *result);
    struct rs_scn_error err;
    int code = load(run, &err);
    if (code != 0) {
        char text[768];
        rs_scn_error_format(&err, text, sizeof text);
        fprintf(stderr, "rheasim: %s\n", text);
        rs_scenario_free(&run->scn);
        free(run->steps);
        free(run);
        return result->exit_code = code;
    }
    code = prepare(run);
    if (code == 0) {
        char context[320];
        snprintf(context, sizeof context, "scenario %s seed %llu (%s)", run->scn.name,
                 (unsigned long long)o->seed, o->scenario_path);
        rs_sim_set_context(context);
        if (!o->quiet) {
            print_parameters(run);
        }
        simulate(run);
        close_windows(run);
        struct rs_lincheck_result lin;
        memset(&lin, 0, sizeof lin);
        check_history(run, &lin);
        expectations(run, &run->world.checks);
        write_outputs(run, &run->world.checks, &lin);
        if (!o->quiet) {
            print_summary(run, &run->world.checks, &lin);
        }
        code = exit_code_of(run->world.checks.failed);
        result->trace_digest = rs_trace_digest(&run->trace);
        snprintf(result->dir, sizeof result->dir, "%s", run->dir);
        result->events = run->world.stats.events;
        if (run->world.checks.failed != RS_CHECK_NONE) {
            snprintf(result->check, sizeof result->check, "%s",
                     rs_check_name(run->world.checks.failed));
            snprintf(result->message, sizeof result->message, "%s",
                     run->world.checks.message);
        }
        rs_lincheck_result_free(&lin);
        rs_sim_set_context(NULL);
    }
    release(run);
    free(run);
    return result->exit_code = code;
}

/* ---- determinism and the command line ---- */

/* Prints the first line where two trace files differ. */
static void first_difference(const char *a_path, const char *b_path)
{
    FILE *a = fopen(a_path, "r");
    FILE *b = fopen(b_path, "r");
    if (a == NULL || b == NULL) {
        fprintf(stderr, "rheasim: cannot compare %s and %s\n", a_path, b_path);
        if (a) fclose(a);
        if (b) fclose(b);
        return;
    }
    char *la = NULL, *lb = NULL;
    size_t ca = 0, cb = 0;
    for (uint64_t line = 1;; line++) {
        ssize_t na = getline(&la, &ca, a);
        ssize_t nb = getline(&lb, &cb, b);
        if (na < 0 && nb < 0) {
            printf("determinism: the traces are equal; the difference is outside the trace\n");
            break;
        }
        if (na < 0 || nb < 0 || strcmp(la, lb) != 0) {
            printf("determinism: first differing event at trace line %llu\n",
                   (unsigned long long)line);
            printf("  run 1: %s", na < 0 ? "(end of trace)\n" : la);
            printf("  run 2: %s", nb < 0 ? "(end of trace)\n" : lb);
            break;
        }
    }
    free(la);
    free(lb);
    fclose(a);
    fclose(b);
}

static int check_determinism(const struct rs_run_options *o)
{
    struct rs_run_options first = *o;
    first.trace = true;
    struct rs_run_result a, b;
    int code = rs_run(&first, &a);
    if (code >= 64) {
        return code;
    }
    char dir[600];
    snprintf(dir, sizeof dir, "%s/determinism-rerun", a.dir);
    struct rs_run_options second = first;
    second.out_dir = dir;
    second.quiet = true;
    second.plots = false;
    rs_run(&second, &b);
    if (a.trace_digest == b.trace_digest && a.events == b.events) {
        printf("determinism: two runs gave the same trace (digest %016llx, %llu events)\n",
               (unsigned long long)a.trace_digest, (unsigned long long)a.events);
        return code;
    }
    printf("determinism: VIOLATED: digests %016llx and %016llx\n",
           (unsigned long long)a.trace_digest, (unsigned long long)b.trace_digest);
    char pa[700], pb[700];
    snprintf(pa, sizeof pa, "%s/trace.jsonl", a.dir);
    snprintf(pb, sizeof pb, "%s/trace.jsonl", dir);
    first_difference(pa, pb);
    return 1;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "rheasim run: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: rheasim run SCENARIO [--seed N] [--out DIR] [--set KEY=VALUE]... "
                    "[--bug NAME]... [--check-determinism] [--no-trace] [--no-plots] "
                    "[--quiet]\n");
    return 64;
}

static bool parse_u64(const char *text, uint64_t *out)
{
    if (text == NULL || *text == '\0') {
        return false;
    }
    uint64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) {
            return false;
        }
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = v;
    return true;
}

int rs_cmd_run(int argc, char **argv)
{
    struct rs_run_options o;
    rs_run_options_default(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--seed") == 0) {
            if (!parse_u64(next, &o.seed)) {
                return usage_error("--seed needs a non-negative integer, not '%s'",
                                   next ? next : "");
            }
            i++;
        } else if (strcmp(a, "--out") == 0) {
            if (next == NULL) {
                return usage_error("--out needs a directory");
            }
            o.out_dir = next;
            i++;
        } else if (strcmp(a, "--set") == 0) {
            if (next == NULL || o.set_count == RS_RUN_SETS_MAX) {
                return usage_error("--set needs KEY=VALUE (at most 64 of them)");
            }
            o.sets[o.set_count++] = next;
            i++;
        } else if (strcmp(a, "--bug") == 0) {
            uint32_t flag = next ? rs_bug_flag(next) : 0;
            if (flag == 0) {
                fprintf(stderr, "rheasim run: known bugs: %s\n", rs_bug_names());
                return usage_error("--bug: unknown bug '%s'", next ? next : "");
            }
            o.bugs |= flag;
            i++;
        } else if (strcmp(a, "--check-determinism") == 0) {
            o.check_determinism = true;
        } else if (strcmp(a, "--no-trace") == 0) {
            o.trace = false;
        } else if (strcmp(a, "--no-plots") == 0) {
            o.plots = false;
        } else if (strcmp(a, "--quiet") == 0) {
            o.quiet = true;
        } else if (strcmp(a, "--no-progress") == 0) {
            o.progress = false;
        } else if (a[0] == '-') {
            return usage_error("unknown flag '%s'", a);
        } else if (o.scenario_path == NULL) {
            o.scenario_path = a;
        } else {
            return usage_error("one scenario per run ('%s' is extra)", a);
        }
    }
    if (o.scenario_path == NULL) {
        return usage_error("a scenario file is required");
    }
    if (o.check_determinism) {
        return check_determinism(&o);
    }
    struct rs_run_result result;
    return rs_run(&o, &result);
}
