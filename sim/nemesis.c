/* The nemesis: resolves and fires timeline commands, undoes timed faults, records the schedule. */
#include "sim/nemesis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a nemesis event does; the event's arg is action << 56 | node << 48 | index. */
enum action {
    ACTION_COMMAND = 1, /* fire commands[index] */
    ACTION_STEP,        /* fire steps[index] (a swarm step) */
    ACTION_RESTART,     /* the restart of a crash-restart */
    ACTION_UNDO,        /* the end of fired[index]'s for= window */
    ACTION_CLOG,        /* a swizzle-clog step */
    ACTION_UNCLOG,
};

/* Node window kinds, after the three shared windows. */
enum { WINDOW_CRASH, WINDOW_PAUSE, WINDOW_CLOG, WINDOW_DISK, WINDOW_BANDWIDTH };

/* Which nodes a target may resolve to. */
enum want { WANT_ANY, WANT_UP, WANT_RUNNING, WANT_DOWN, WANT_PAUSED };

static uint64_t event_arg(enum action action, uint32_t node, uint32_t index)
{
    RS_ASSERT(node <= RS_WORLD_NODES_MAX);
    return ((uint64_t)action << 56) | ((uint64_t)node << 48) | index;
}

static void at(struct rs_nemesis *n, uint64_t time_ns, enum action action, uint32_t node,
               uint32_t index)
{
    rs_world_at(n->world, time_ns, event_arg(action, node, index));
}

/* ---- windows ---- */

static uint32_t node_window(uint32_t kind, uint32_t node)
{
    RS_ASSERT(kind < RS_NEMESIS_NODE_WINDOW_KINDS && node <= RS_WORLD_NODES_MAX);
    return 3u + kind * (RS_WORLD_NODES_MAX + 1) + node;
}

static void window_close(struct rs_nemesis *n, uint32_t key)
{
    struct rs_nemesis_window *win = &n->windows[key];
    if (win->open && n->on_window != NULL) {
        n->on_window(n->window_ctx, win->since_ns, n->world->now_ns, win->label);
    }
    win->open = false;
}

/* Opens a window (a partition window replaces the open one; others keep their start). */
static void window_open(struct rs_nemesis *n, uint32_t key, const char *label)
{
    struct rs_nemesis_window *win = &n->windows[key];
    if (win->open && key != RS_NEMESIS_WINDOW_PARTITION) {
        return;
    }
    window_close(n, key);
    win->open = true;
    win->since_ns = n->world->now_ns;
    snprintf(win->label, sizeof win->label, "%s", label);
}

static void window_open_node(struct rs_nemesis *n, uint32_t kind, uint32_t node)
{
    static const char *const names[] = {"crash", "pause", "clog", "disk", "bandwidth"};
    char label[48];
    snprintf(label, sizeof label, "%s n%u", names[kind], node);
    window_open(n, node_window(kind, node), label);
}

void rs_nemesis_close_windows(struct rs_nemesis *n, uint64_t end_ns)
{
    for (uint32_t key = 0; key < RS_NEMESIS_WINDOWS; key++) {
        struct rs_nemesis_window *win = &n->windows[key];
        if (win->open && n->on_window != NULL) {
            n->on_window(n->window_ctx, win->since_ns, end_ns, win->label);
        }
        win->open = false;
    }
}

/* ---- targets ---- */

static bool wanted(const struct rs_world *w, uint32_t id, enum want want)
{
    const struct rs_world_node *wn = &w->nodes[id];
    switch (want) {
    case WANT_UP: return wn->up;
    case WANT_RUNNING: return wn->up && !wn->paused;
    case WANT_DOWN: return !wn->up;
    case WANT_PAUSED: return wn->paused;
    default: return true;
    }
}

/* A node matching the target, or 0 when none fits (or no target: RS_WORLD_ANY for links). */
static uint32_t resolve(struct rs_nemesis *n, const struct rs_scn_target *t, enum want want)
{
    struct rs_world *w = n->world;
    uint32_t count_nodes = w->cfg.node_count;
    uint32_t leader = rs_world_leader(w);
    if (t->kind == RS_SCN_TARGET_NODE) {
        return t->node <= count_nodes ? t->node : 0;
    }
    if (t->kind == RS_SCN_TARGET_LEADER) {
        return leader;
    }
    RS_ASSERT(t->kind == RS_SCN_TARGET_RANDOM || t->kind == RS_SCN_TARGET_FOLLOWER);
    uint32_t pool[RS_WORLD_NODES_MAX];
    uint32_t count = 0;
    for (uint32_t id = 1; id <= count_nodes; id++) {
        if (wanted(w, id, want) && !(t->kind == RS_SCN_TARGET_FOLLOWER && id == leader)) {
            pool[count++] = id;
        }
    }
    return count == 0 ? 0 : pool[rs_rng_below(&w->nemesis_rng, count)];
}

/* A link end: no target means every endpoint. */
static uint32_t resolve_end(struct rs_nemesis *n, const struct rs_scn_target *t)
{
    return t->kind == RS_SCN_TARGET_NONE ? RS_WORLD_ANY : resolve(n, t, WANT_ANY);
}

static struct rs_scn_target node_target(uint32_t node)
{
    return (struct rs_scn_target){.kind = node == RS_WORLD_ANY ? RS_SCN_TARGET_NONE
                                                                : RS_SCN_TARGET_NODE,
                                  .node = node};
}

static int64_t draw_amount(struct rs_nemesis *n, int64_t lo, int64_t hi)
{
    RS_ASSERT(lo <= hi);
    return lo + (int64_t)rs_rng_below(&n->world->nemesis_rng, (uint64_t)(hi - lo) + 1);
}

bool rs_nemesis_impaired(const struct rs_world *w, uint32_t node)
{
    const struct rs_world_node *wn = &w->nodes[node];
    return !wn->up || wn->paused || rs_world_disk_faulty(w, node);
}

/* Recoverable swarm steps keep a majority unimpaired: may `node` be impaired too? */
static bool guard_allows(const struct rs_nemesis *n, uint32_t node, bool guarded)
{
    const struct rs_world *w = n->world;
    if (!guarded || n->mode == RS_NEMESIS_UNRESTRICTED || rs_nemesis_impaired(w, node)) {
        return true;
    }
    uint32_t impaired = 0;
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        impaired += rs_nemesis_impaired(w, id);
    }
    return impaired + 1 <= (w->cfg.node_count - 1) / 2;
}

/* ---- the record of what fired ---- */

/* Appends the resolved command and returns its index (undo events refer to it). */
static uint32_t record(struct rs_nemesis *n, const struct rs_scn_command *r)
{
    n->verb_counts[r->verb]++;
    n->fired_truncated = n->fired_count >= RS_SCN_COMMAND_COUNT_MAX;
    if (n->fired_count == n->fired_cap) {
        n->fired_cap = n->fired_cap ? n->fired_cap * 2 : 64;
        n->fired = realloc(n->fired, n->fired_cap * sizeof *n->fired);
        RS_ASSERT(n->fired != NULL);
    }
    n->fired[n->fired_count] = *r;
    return n->fired_count++;
}

/* ---- the actions ---- */

static void do_crash(struct rs_nemesis *n, uint32_t node)
{
    rs_world_crash(n->world, node);
    window_open_node(n, WINDOW_CRASH, node);
}

static void do_restart(struct rs_nemesis *n, uint32_t node)
{
    if (node == 0 || n->world->nodes[node].up) {
        return;
    }
    rs_world_restart(n->world, node);
    window_close(n, node_window(WINDOW_CRASH, node));
}

/* A replica left in the error state by a disk fault that ended: the operator restarts it. */
static void restart_if_errored(struct rs_nemesis *n, uint32_t node)
{
    if (rs_world_node_errored(n->world, node)) {
        do_crash(n, node);
        do_restart(n, node);
    }
}

/* Splits the nodes into a minority (group 2) holding `first` (when non-zero) and a majority. */
static void split_minority(struct rs_nemesis *n, uint32_t first, uint8_t *groups)
{
    uint32_t count_nodes = n->world->cfg.node_count;
    uint32_t minority = (count_nodes - 1) / 2;
    uint32_t pool[RS_WORLD_NODES_MAX];
    uint32_t count = 0;
    memset(groups, 0, RS_SCN_NODE_COUNT_MAX + 1);
    for (uint32_t id = 1; id <= count_nodes; id++) {
        groups[id] = 1;
    }
    if (first != 0 && minority > 0) {
        groups[first] = 2;
        minority--;
    }
    for (uint32_t id = 1; id <= count_nodes; id++) {
        if (groups[id] == 1) {
            pool[count++] = id;
        }
    }
    for (uint32_t k = 0; k < minority && count > 0; k++) {
        uint32_t pick = (uint32_t)rs_rng_below(&n->world->nemesis_rng, count);
        groups[pool[pick]] = 2;
        pool[pick] = pool[--count];
    }
}

static void partition_groups(struct rs_nemesis *n, const uint8_t *groups)
{
    uint8_t side[RS_WORLD_NODES_MAX + 1] = {0};
    for (uint32_t id = 1; id <= n->world->cfg.node_count; id++) {
        side[id] = groups[id] > 0 ? (uint8_t)(groups[id] - 1) : 0;
    }
    rs_world_partition(n->world, side);
    window_open(n, RS_NEMESIS_WINDOW_PARTITION, "partition");
}

/* Partitions: true when something happened; r becomes the resolved command. */
static bool fire_partition(struct rs_nemesis *n, struct rs_scn_command *r)
{
    struct rs_world *w = n->world;
    char label[48];
    uint32_t node;
    switch (r->verb) {
    case RS_SCN_PARTITION_ISOLATE:
        if ((node = resolve(n, &r->target, WANT_ANY)) == 0) {
            return false;
        }
        rs_world_isolate(w, node);
        r->target = node_target(node);
        snprintf(label, sizeof label, "isolate n%u", node);
        window_open(n, RS_NEMESIS_WINDOW_PARTITION, label);
        return true;
    case RS_SCN_PARTITION_MINORITY:
    case RS_SCN_PARTITION_MAJORITY_MINORITY:
        node = r->verb == RS_SCN_PARTITION_MINORITY ? resolve(n, &r->target, WANT_ANY) : 0;
        split_minority(n, node, r->groups);
        r->verb = RS_SCN_PARTITION_GROUPS;
        r->target = node_target(RS_WORLD_ANY);
        partition_groups(n, r->groups);
        return true;
    case RS_SCN_PARTITION_GROUPS: partition_groups(n, r->groups); return true;
    case RS_SCN_PARTITION_ONE_WAY: {
        uint32_t from = resolve(n, &r->source, WANT_ANY);
        uint32_t to = resolve(n, &r->target, WANT_ANY);
        if (from == 0 || to == 0 || from == to) {
            return false;
        }
        rs_world_one_way(w, from, to);
        r->source = node_target(from);
        r->target = node_target(to);
        snprintf(label, sizeof label, "one-way n%u->n%u", from, to);
        window_open(n, RS_NEMESIS_WINDOW_PARTITION, label);
        return true;
    }
    case RS_SCN_PARTITION_BRIDGE:
        if ((node = resolve(n, &r->target, WANT_ANY)) == 0) {
            return false;
        }
        rs_world_bridge(w, node);
        r->target = node_target(node);
        snprintf(label, sizeof label, "bridge n%u", node);
        window_open(n, RS_NEMESIS_WINDOW_PARTITION, label);
        return true;
    case RS_SCN_PARTITION_RING:
        rs_world_ring(w);
        window_open(n, RS_NEMESIS_WINDOW_PARTITION, "ring");
        return true;
    default: RS_UNREACHABLE();
    }
}

static void heal_network(struct rs_nemesis *n)
{
    rs_world_heal_network(n->world);
    window_close(n, RS_NEMESIS_WINDOW_PARTITION);
    window_close(n, RS_NEMESIS_WINDOW_CLOG_LINKS);
    window_close(n, RS_NEMESIS_WINDOW_FILTER);
    for (uint32_t id = 1; id <= n->world->cfg.node_count; id++) {
        window_close(n, node_window(WINDOW_CLOG, id));
    }
}

static void clog_node(struct rs_nemesis *n, uint32_t node, bool clogged)
{
    rs_world_clog_node(n->world, node, clogged);
    if (clogged) {
        window_open_node(n, WINDOW_CLOG, node);
    } else {
        window_close(n, node_window(WINDOW_CLOG, node));
    }
}

/* clog and unclog: a node, or one link from -> to. */
static bool fire_clog(struct rs_nemesis *n, struct rs_scn_command *r, bool clogged)
{
    if (r->source.kind == RS_SCN_TARGET_NONE) {
        uint32_t node = resolve(n, &r->target, WANT_ANY);
        if (node == 0) {
            return false;
        }
        clog_node(n, node, clogged);
        r->target = node_target(node);
        return true;
    }
    uint32_t from = resolve(n, &r->source, WANT_ANY);
    uint32_t to = resolve(n, &r->target, WANT_ANY);
    if (from == 0 || to == 0 || from == to) {
        return false;
    }
    rs_world_clog(n->world, from, to, clogged);
    r->source = node_target(from);
    r->target = node_target(to);
    if (clogged) {
        window_open(n, RS_NEMESIS_WINDOW_CLOG_LINKS, "clog");
    }
    return true;
}

/*
 * FoundationDB's swizzle-clog: clog a random subset of nodes one by one, `interval` apart,
 * then unclog them in another random order. The steps are events of their own (and are what
 * the schedule records).
 */
static void fire_swizzle(struct rs_nemesis *n, const struct rs_scn_command *c)
{
    struct rs_world *w = n->world;
    uint32_t count_nodes = w->cfg.node_count;
    uint32_t k = c->amount_hi > 0 ? (uint32_t)draw_amount(n, c->amount_lo, c->amount_hi)
                                  : count_nodes / 2 + 1;
    k = k < count_nodes ? k : count_nodes;
    uint32_t order[RS_WORLD_NODES_MAX];
    for (uint32_t i = 0; i < count_nodes; i++) {
        order[i] = i + 1;
    }
    for (uint32_t i = 0; i < k; i++) { /* the first k of a random permutation */
        uint32_t j = i + (uint32_t)rs_rng_below(&w->nemesis_rng, count_nodes - i);
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    uint32_t release[RS_WORLD_NODES_MAX];
    memcpy(release, order, k * sizeof release[0]);
    for (uint32_t i = k; i-- > 1;) {
        uint32_t j = (uint32_t)rs_rng_below(&w->nemesis_rng, i + 1);
        uint32_t t = release[i];
        release[i] = release[j];
        release[j] = t;
    }
    if (k > 1 && memcmp(release, order, k * sizeof release[0]) == 0) {
        for (uint32_t i = 0; i < k / 2; i++) { /* another order: reverse it */
            uint32_t t = release[i];
            release[i] = release[k - 1 - i];
            release[k - 1 - i] = t;
        }
    }
    for (uint32_t i = 0; i < k; i++) {
        at(n, w->now_ns + i * c->interval_ns, ACTION_CLOG, order[i], 0);
        at(n, w->now_ns + (k + i) * c->interval_ns, ACTION_UNCLOG, release[i], 0);
    }
    n->verb_counts[RS_SCN_SWIZZLE_CLOG]++;
}

static bool fire_filter(struct rs_nemesis *n, struct rs_scn_command *r, bool drop)
{
    uint32_t from = resolve_end(n, &r->source);
    uint32_t to = resolve_end(n, &r->target);
    if ((r->source.kind != RS_SCN_TARGET_NONE && from == 0) ||
        (r->target.kind != RS_SCN_TARGET_NONE && to == 0)) {
        return false;
    }
    rs_world_filter(n->world, from, to, r->msg_types, drop);
    r->source = node_target(from);
    r->target = node_target(to);
    if (drop) {
        window_open(n, RS_NEMESIS_WINDOW_FILTER, "filter");
    }
    return true;
}

static void bandwidth(struct rs_nemesis *n, uint32_t node, uint64_t bytes_per_s)
{
    rs_world_bandwidth(n->world, node, RS_WORLD_ANY, bytes_per_s);
    rs_world_bandwidth(n->world, RS_WORLD_ANY, node, bytes_per_s);
    if (bytes_per_s > 0) {
        window_open_node(n, WINDOW_BANDWIDTH, node);
    } else {
        window_close(n, node_window(WINDOW_BANDWIDTH, node));
    }
}

/* disk-fail, disk-full, disk-slow, disk-heal: the node's fault set changes. */
static void fire_disk(struct rs_nemesis *n, const struct rs_scn_command *r, uint32_t node)
{
    struct rs_world_node *wn = &n->world->nodes[node];
    struct rs_disk_faults f = wn->disk.faults;
    switch (r->verb) {
    case RS_SCN_DISK_FAIL:
        f.write_error_ppm = r->write_ppm;
        f.sync_error_ppm = r->sync_ppm;
        f.fail_next = r->fail_next;
        f.dead = r->dead;
        break;
    case RS_SCN_DISK_FULL: f.capacity_bytes = wn->disk.used_bytes + (uint64_t)r->amount_lo; break;
    case RS_SCN_DISK_SLOW: f.slow_factor = (uint32_t)r->amount_lo; break;
    default: f = (struct rs_disk_faults){0}; break;
    }
    rs_world_disk_faults(n->world, node, &f);
    if (r->verb == RS_SCN_DISK_HEAL) {
        window_close(n, node_window(WINDOW_DISK, node));
    } else {
        window_open_node(n, WINDOW_DISK, node);
    }
}

static void do_set(struct rs_nemesis *n, struct rs_scn_command *r)
{
    struct rs_world *w = n->world;
    struct rs_link_params p = w->cfg.net;
    int64_t v = r->value.drawn ? draw_amount(n, r->value.lo, r->value.hi) : r->value.lo;
    r->value.lo = r->value.hi = v; /* recorded as the value it took */
    r->value.drawn = false;
    switch (r->setting) {
    case RS_SCN_NET_LATENCY:
        p.latency_min_ns = (uint64_t)r->value.lo;
        p.latency_max_ns = (uint64_t)r->value.hi;
        break;
    case RS_SCN_NET_TAIL: p.tail_ppm = (uint32_t)v; break;
    case RS_SCN_NET_TAIL_LATENCY: p.tail_max_ns = (uint64_t)v; break;
    case RS_SCN_NET_LOSS: p.loss_ppm = (uint32_t)v; break;
    case RS_SCN_NET_DUP: p.dup_ppm = (uint32_t)v; break;
    case RS_SCN_NET_REORDER: p.reorder_ppm = (uint32_t)v; break;
    case RS_SCN_NET_CORRUPT: p.corrupt_ppm = (uint32_t)v; break;
    default: return; /* refused when the scenario was loaded */
    }
    if (p.tail_max_ns < p.latency_max_ns) {
        p.tail_max_ns = p.latency_max_ns;
    }
    w->cfg.net = p; /* later sets change the current parameters, not the scenario's */
    rs_world_set_link_params(w, &p);
}

/* The verbs aimed at one node. Returns the node acted on, 0 when nothing happened. */
static uint32_t fire_node(struct rs_nemesis *n, struct rs_scn_command *r, bool guarded)
{
    struct rs_world *w = n->world;
    static const enum want wants[RS_SCN_VERB_COUNT] = {
        [RS_SCN_CRASH] = WANT_UP,         [RS_SCN_RESTART] = WANT_DOWN,
        [RS_SCN_CRASH_RESTART] = WANT_UP, [RS_SCN_PAUSE] = WANT_RUNNING,
        [RS_SCN_RESUME] = WANT_PAUSED,    [RS_SCN_DISK_CORRUPT] = WANT_DOWN,
    };
    bool impairs = r->verb == RS_SCN_CRASH || r->verb == RS_SCN_CRASH_RESTART ||
                   r->verb == RS_SCN_PAUSE || r->verb == RS_SCN_DISK_FAIL ||
                   r->verb == RS_SCN_DISK_FULL || r->verb == RS_SCN_DISK_CORRUPT ||
                   r->verb == RS_SCN_WIPE;
    enum want want = wants[r->verb];
    if (r->verb == RS_SCN_DISK_CORRUPT && r->target.kind == RS_SCN_TARGET_NODE) {
        want = WANT_ANY; /* a named node's disk rots now and is read at its next start */
    }
    uint32_t node = resolve(n, &r->target, want);
    if (node == 0 || !wanted(w, node, want)) {
        return 0; /* nobody fits, or the named node is not in a state this verb acts on */
    }
    if (impairs && !guard_allows(n, node, guarded)) {
        n->skipped++;
        return 0;
    }
    r->target = node_target(node);
    switch (r->verb) {
    case RS_SCN_CRASH: do_crash(n, node); break;
    case RS_SCN_RESTART: do_restart(n, node); break;
    case RS_SCN_CRASH_RESTART: {
        uint64_t down = rs_rng_range(&w->nemesis_rng, r->down_lo_ns, r->down_hi_ns);
        r->down_lo_ns = r->down_hi_ns = down;
        do_crash(n, node);
        at(n, w->now_ns + down, ACTION_RESTART, node, 0);
        break;
    }
    case RS_SCN_PAUSE:
        rs_world_pause(w, node);
        window_open_node(n, WINDOW_PAUSE, node);
        break;
    case RS_SCN_RESUME:
        rs_world_resume(w, node);
        window_close(n, node_window(WINDOW_PAUSE, node));
        break;
    case RS_SCN_BANDWIDTH: bandwidth(n, node, (uint64_t)r->amount_lo); break;
    case RS_SCN_DISK_CORRUPT:
        rs_world_corrupt_disk(w, node, (uint32_t)r->amount_lo, r->scope == RS_SCN_SCOPE_UNSYNCED);
        break;
    case RS_SCN_DRIFT: rs_world_set_drift(w, node, (int32_t)r->amount_lo); break;
    case RS_SCN_WALL_JUMP: rs_world_wall_step(w, node, r->amount_lo); break;
    case RS_SCN_WIPE: rs_world_wipe(w, node); break;
    case RS_SCN_SNAPSHOT: rs_world_snapshot(w, node); break;
    case RS_SCN_ADD_PEER: rs_world_change_member(w, RS_MEMBER_ADD_PEER, node); break;
    case RS_SCN_REMOVE_PEER: rs_world_change_member(w, RS_MEMBER_REMOVE_PEER, node); break;
    case RS_SCN_ADD_LEARNER: rs_world_change_member(w, RS_MEMBER_ADD_LEARNER, node); break;
    case RS_SCN_REMOVE_LEARNER: rs_world_change_member(w, RS_MEMBER_REMOVE_LEARNER, node); break;
    case RS_SCN_PROMOTE: rs_world_change_member(w, RS_MEMBER_PROMOTE, node); break;
    case RS_SCN_TRANSFER_LEADER: rs_world_transfer(w, node); break;
    default: fire_disk(n, r, node); break;
    }
    return node;
}

/* Fixes every per-firing draw (A..B amounts and durations) before the command fires. */
static void draw_per_firing(struct rs_nemesis *n, struct rs_scn_command *r)
{
    if (r->verb != RS_SCN_SWIZZLE_CLOG && r->amount_lo != r->amount_hi) {
        r->amount_lo = r->amount_hi = draw_amount(n, r->amount_lo, r->amount_hi);
    }
    if (r->for_lo_ns != r->for_hi_ns) {
        r->for_lo_ns = r->for_hi_ns = rs_rng_range(&n->world->nemesis_rng, r->for_lo_ns,
                                                   r->for_hi_ns);
    }
}

/*
 * split: region= names the region (by id); without it, the region holding key=, and without
 * either, the region whose leader holds the most keys (ties: the lower id). Recorded with the
 * region resolved, so schedule.scn splits the same one.
 */
static bool fire_split(struct rs_nemesis *n, struct rs_scn_command *r)
{
    struct rs_world *w = n->world;
    struct rs_bytes key = {(const uint8_t *)r->key, r->key_size};
    uint32_t index = rs_world_region_to_split(w, r->region_id, key);
    if (index == UINT32_MAX) {
        return false;
    }
    r->region_id = w->regions[index].id;
    return rs_world_split(w, index, key) == RS_OK;
}

/* Fires one command; records it resolved when it did something, and schedules its undo. */
static void fire(struct rs_nemesis *n, const struct rs_scn_command *c, bool guarded)
{
    struct rs_world *w = n->world;
    struct rs_scn_command r = *c;
    r.repeat = false;
    r.at_ns = w->now_ns;
    r.period_ns = 0;
    r.until_ns = RS_SCN_TIME_END;
    r.line = 0;
    draw_per_firing(n, &r);
    bool done = true;
    switch (c->verb) {
    case RS_SCN_PARTITION_ISOLATE:
    case RS_SCN_PARTITION_MINORITY:
    case RS_SCN_PARTITION_MAJORITY_MINORITY:
    case RS_SCN_PARTITION_ONE_WAY:
    case RS_SCN_PARTITION_BRIDGE:
    case RS_SCN_PARTITION_RING:
    case RS_SCN_PARTITION_GROUPS: done = fire_partition(n, &r); break;
    case RS_SCN_HEAL: heal_network(n); break;
    case RS_SCN_SPLIT: done = fire_split(n, &r); break;
    case RS_SCN_PD_CRASH: done = rs_world_pd_crash(w); break;
    case RS_SCN_PD_ISOLATE: done = rs_world_pd_isolate(w, true); break;
    case RS_SCN_REBALANCE: rs_world_rebalance(w); break;
    case RS_SCN_SET: do_set(n, &r); break;
    case RS_SCN_CLOG:
    case RS_SCN_UNCLOG: done = fire_clog(n, &r, c->verb == RS_SCN_CLOG); break;
    case RS_SCN_SWIZZLE_CLOG: fire_swizzle(n, &r); return; /* its steps are recorded */
    case RS_SCN_FILTER: done = fire_filter(n, &r, true); break;
    case RS_SCN_CHANGE_PEERS: /* recorded whatever the leader answers, as the other admin verbs */
        rs_world_change_peers(w, r.conf_voters, r.conf_learners);
        break;
    case RS_SCN_TRANSFER_LEADER:
        if (r.target.kind == RS_SCN_TARGET_NONE) { /* to the best candidate */
            done = rs_world_transfer(w, RS_NODE_NONE) == RS_OK;
            break;
        }
        done = fire_node(n, &r, guarded) != 0;
        break;
    default: done = fire_node(n, &r, guarded) != 0; break;
    }
    if (!done) {
        return;
    }
    uint32_t index = record(n, &r);
    if (r.for_lo_ns > 0) {
        at(n, w->now_ns + r.for_lo_ns, ACTION_UNDO, 0, index);
    }
}

/* The end of a for= window: the fault goes away (not recorded: for= says it). */
static void undo(struct rs_nemesis *n, const struct rs_scn_command *r)
{
    struct rs_world *w = n->world;
    uint32_t node = r->target.kind == RS_SCN_TARGET_NODE ? r->target.node : 0;
    struct rs_disk_faults f = node != 0 ? w->nodes[node].disk.faults : (struct rs_disk_faults){0};
    switch (r->verb) {
    case RS_SCN_CLOG:
        if (r->source.kind == RS_SCN_TARGET_NONE) {
            clog_node(n, node, false);
        } else {
            rs_world_clog(w, r->source.node, node, false);
        }
        return;
    case RS_SCN_FILTER:
        rs_world_filter(w, r->source.kind == RS_SCN_TARGET_NODE ? r->source.node : RS_WORLD_ANY,
                        node != 0 ? node : RS_WORLD_ANY, r->msg_types, false);
        return;
    case RS_SCN_BANDWIDTH: bandwidth(n, node, 0); return;
    case RS_SCN_PD_CRASH: rs_world_pd_restart(w); return;
    case RS_SCN_PD_ISOLATE: rs_world_pd_isolate(w, false); return;
    case RS_SCN_PAUSE:
        rs_world_resume(w, node);
        window_close(n, node_window(WINDOW_PAUSE, node));
        return;
    case RS_SCN_DISK_FAIL:
        f.write_error_ppm = f.sync_error_ppm = f.fail_next = 0;
        f.dead = false;
        break;
    case RS_SCN_DISK_FULL: f.capacity_bytes = 0; break;
    case RS_SCN_DISK_SLOW: f.slow_factor = 0; break;
    default: /* the partitions */
        rs_world_heal_partitions(w);
        window_close(n, RS_NEMESIS_WINDOW_PARTITION);
        return;
    }
    rs_world_disk_faults(w, node, &f);
    if (!rs_world_disk_faulty(w, node) || rs_world_node_errored(w, node)) {
        window_close(n, node_window(WINDOW_DISK, node));
    }
    restart_if_errored(n, node);
}

/* A swizzle step, recorded as the clog or unclog it is. */
static void swizzle_step(struct rs_nemesis *n, uint32_t node, bool clogged)
{
    clog_node(n, node, clogged);
    struct rs_scn_command r = {.verb = clogged ? RS_SCN_CLOG : RS_SCN_UNCLOG,
                               .at_ns = n->world->now_ns,
                               .until_ns = RS_SCN_TIME_END,
                               .target = node_target(node)};
    record(n, &r);
}

static void on_event(void *ctx, struct rs_world *w, uint64_t arg)
{
    struct rs_nemesis *n = ctx;
    RS_ASSERT(w == n->world);
    enum action action = (enum action)(arg >> 56);
    uint32_t node = (uint32_t)((arg >> 48) & 0xff);
    uint32_t index = (uint32_t)arg;
    switch (action) {
    case ACTION_COMMAND: {
        RS_ASSERT(index < n->command_count);
        const struct rs_scn_command *c = &n->commands[index];
        n->firings[index]++;
        fire(n, c, false);
        uint64_t next = w->now_ns + c->period_ns;
        if (c->repeat && next < c->until_ns && next < n->run_ns) {
            at(n, next, ACTION_COMMAND, 0, index);
        }
        return;
    }
    case ACTION_STEP: RS_ASSERT(index < n->step_count); fire(n, &n->steps[index], true); return;
    case ACTION_RESTART: do_restart(n, node); return;
    case ACTION_UNDO: RS_ASSERT(index < n->fired_count); undo(n, &n->fired[index]); return;
    case ACTION_CLOG: swizzle_step(n, node, true); return;
    case ACTION_UNCLOG: swizzle_step(n, node, false); return;
    default: RS_UNREACHABLE();
    }
}

void rs_nemesis_init(struct rs_nemesis *n, struct rs_world *w, enum rs_nemesis_mode mode,
                     const struct rs_scenario *scn, const struct rs_scn_command *steps,
                     uint32_t step_count)
{
    memset(n, 0, sizeof *n);
    n->world = w;
    n->mode = mode;
    n->commands = scn->commands;
    n->command_count = scn->command_count;
    n->run_ns = scn->run_ns;
    n->steps = steps;
    n->step_count = step_count;
    n->firings = calloc(scn->command_count + 1, sizeof *n->firings);
    RS_ASSERT(n->firings != NULL);
    w->on_nemesis = on_event;
    w->on_nemesis_ctx = n;
}

void rs_nemesis_free(struct rs_nemesis *n)
{
    free(n->firings);
    free(n->fired);
    memset(n, 0, sizeof *n);
}

void rs_nemesis_start(struct rs_nemesis *n)
{
    for (uint32_t i = 0; i < n->command_count; i++) {
        if (n->commands[i].at_ns < n->run_ns) {
            at(n, n->commands[i].at_ns, ACTION_COMMAND, 0, i);
        }
    }
    for (uint32_t i = 0; i < n->step_count; i++) {
        if (n->steps[i].at_ns < n->run_ns) {
            at(n, n->steps[i].at_ns, ACTION_STEP, 0, i);
        }
    }
}
