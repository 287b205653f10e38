/* The event loop of the deterministic world and the nodes, disks and clients it drives. */
#include "sim/world.h"

#include "core/kv/kv_cmd.h"
#include "core/wire/frame.h"
#include "sim/pool.h"

#include <bsd/stdlib.h> /* reallocarray */
#include <stdlib.h>
#include <string.h>

enum ev_kind {
    EV_DELIVER = 1,
    EV_NODE_TIMER,
    EV_DISK_DONE,
    EV_CLIENT_TIMER,
    EV_CLIENT_START,
    EV_NEMESIS,
    EV_HEAL,
    EV_LIVENESS_DEADLINE,
    EV_SAMPLE,
    EV_LEARNER_DEADLINE,
};

/* A message in flight; the bytes follow the header in the same pooled block. */
struct rs_world_flight {
    struct rs_world_flight *next; /* the held list of clogged links */
    uint64_t latency_ns;          /* held: the latency it travels with once released */
    uint32_t from;
    uint32_t to;
    uint32_t type;
    uint32_t size;
    bool corrupt; /* a bit was flipped on the way */
    uint8_t data[];
};

struct rs_world_disk_op {
    struct rs_out_disk op;
    uint8_t *data; /* pooled copy of the write data */
};

static void counts_keep(struct rs_world_node *wn);
static void mark(struct rs_world *w, enum rs_world_mark_kind kind);
static void trace_fault(struct rs_world *w, const char *what, uint32_t a, uint32_t b);

uint32_t rs_world_endpoint_of_client(const struct rs_world *w, uint32_t client)
{
    return w->cfg.node_count + 1 + client;
}

static bool is_node_endpoint(const struct rs_world *w, uint32_t endpoint)
{
    return endpoint >= 1 && endpoint <= w->cfg.node_count;
}

static bool is_pd_endpoint(const struct rs_world *w, uint32_t endpoint)
{
    return w->pd.enabled && endpoint >= w->pd.endpoint &&
           endpoint < w->pd.endpoint + w->pd.node_count;
}

/* The world node at an endpoint: a store or a PD node (NULL: a client). */
static struct rs_world_node *node_at(struct rs_world *w, uint32_t endpoint)
{
    if (is_node_endpoint(w, endpoint)) {
        return &w->nodes[endpoint];
    }
    return is_pd_endpoint(w, endpoint) ? &w->pd.nodes[endpoint - w->pd.endpoint] : NULL;
}

/* The node's next deadline, by its own clock. */
static uint64_t node_deadline(const struct rs_world_node *wn)
{
    return wn->pd_server != NULL ? rs_pd_server_deadline(wn->pd_server)
                                 : rs_store_deadline(wn->store);
}

/* ---- messages ---- */

/* A deterministic hash of a fault's name for the digest (FNV-1a). */
static uint64_t name_hash(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = name; *p != '\0'; p++) {
        h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
    }
    return h;
}

static struct rs_world_flight *flight_new(uint32_t from, uint32_t to, uint32_t type,
                                          const uint8_t *data, size_t size)
{
    struct rs_world_flight *f = rs_pool_alloc(sizeof *f + size);
    f->next = NULL;
    f->latency_ns = 0;
    f->from = from;
    f->to = to;
    f->type = type;
    f->size = (uint32_t)size;
    f->corrupt = false;
    memcpy(f->data, data, size);
    return f;
}

static void held_push(struct rs_world *w, struct rs_world_flight *f)
{
    if (w->held_tail != NULL) {
        w->held_tail->next = f;
    } else {
        w->held_head = f;
    }
    w->held_tail = f;
    w->held_count++;
    w->stats.held_copies++;
}

/*
 * Hands every held copy whose link is no longer clogged to the network again, in the order
 * they were held (so each link keeps FIFO order). Linear in the held copies: it runs once per
 * unclog, never per message.
 */
static void release_held(struct rs_world *w)
{
    struct rs_world_flight **at = &w->held_head;
    struct rs_world_flight *last = NULL;
    while (*at != NULL) {
        struct rs_world_flight *f = *at;
        if (rs_net_clogged(&w->net, f->from, f->to)) {
            last = f;
            at = &f->next;
            continue;
        }
        *at = f->next;
        f->next = NULL;
        w->held_count--;
        uint64_t when = rs_net_release(&w->net, w->now_ns, f->from, f->to, f->size,
                                       f->latency_ns);
        uint64_t words[4] = {0x52454c45, f->from, f->to, when};
        rs_trace_fold(w->trace, words, 4);
        rs_evq_push(&w->evq, when, EV_DELIVER, f->to, 0, f);
    }
    w->held_tail = last;
    RS_ASSERT(w->held_tail != NULL || w->held_count == 0);
}

static void send_message(struct rs_world *w, uint32_t from, uint32_t to, uint32_t type,
                         const uint8_t *data, size_t size)
{
    struct rs_net_fate fate;
    w->stats.messages++;
    rs_net_transmit(&w->net, w->now_ns, from, to, type, (uint32_t)size, &fate);
    unsigned corrupt = 0;
    for (unsigned i = 0; i < fate.copies; i++) {
        struct rs_world_flight *f = flight_new(from, to, type, data, size);
        if (fate.corrupt_bit[i] != RS_NET_INTACT) {
            uint64_t bit = fate.corrupt_bit[i];
            f->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            f->corrupt = true;
            corrupt++;
            w->stats.corrupt_copies++;
            uint64_t words[4] = {0x434f5252, from, to, bit};
            rs_trace_fold(w->trace, words, 4);
        }
        if (fate.held) {
            f->latency_ns = fate.latency_ns[i];
            held_push(w, f);
        } else {
            rs_evq_push(&w->evq, fate.deliver_at_ns[i], EV_DELIVER, to, 0, f);
        }
    }
    if (rs_trace_on(w->trace)) {
        struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, "send");
        rs_buf_printf(b, ",\"from\":%u,\"to\":%u,\"m\":\"%s\",\"size\":%zu,\"copies\":%u", from,
                      to, rs_msg_type_name(type), size, fate.copies);
        if (fate.filtered) {
            rs_buf_puts(b, ",\"filtered\":true");
        }
        if (fate.held) {
            rs_buf_puts(b, ",\"held\":true");
        }
        if (corrupt > 0) {
            rs_buf_printf(b, ",\"corrupt\":%u", corrupt);
        }
        rs_trace_end(w->trace);
    }
}

/* ---- nodes ---- */

static uint64_t node_local(const struct rs_world_node *wn, uint64_t global_ns)
{
    return rs_clock_local(&wn->clock, global_ns);
}

static void disk_ops_push(struct rs_world_node *wn, const struct rs_world_disk_op *op)
{
    if (wn->op_count == wn->op_cap) {
        size_t cap = wn->op_cap ? wn->op_cap * 2 : 64;
        struct rs_world_disk_op *a = malloc(cap * sizeof *a);
        RS_ASSERT(a != NULL);
        for (size_t i = 0; i < wn->op_count; i++) {
            a[i] = wn->ops[(wn->op_head + i) % wn->op_cap];
        }
        free(wn->ops);
        wn->ops = a;
        wn->op_cap = cap;
        wn->op_head = 0;
    }
    wn->ops[(wn->op_head + wn->op_count++) % wn->op_cap] = *op;
}

static void disk_ops_clear(struct rs_world_node *wn)
{
    while (wn->op_count > 0) {
        rs_pool_free(wn->ops[wn->op_head].data);
        wn->op_head = (wn->op_head + 1) % wn->op_cap;
        wn->op_count--;
    }
}

struct rs_node *rs_world_replica(const struct rs_world *w, uint32_t node, uint32_t region_index)
{
    const struct rs_world_node *wn = &w->nodes[node];
    if (!wn->up || region_index >= w->region_count) {
        return NULL;
    }
    return rs_store_replica(wn->store, w->regions[region_index].id);
}

static bool region_created(const struct rs_region *r)
{
    return r->epoch.version > 0;
}

/* The index of a region in w->regions (ids are 1..region_count, in order). */
static uint32_t region_index_of(const struct rs_world *w, uint64_t region_id)
{
    RS_ASSERT(region_id >= 1 && region_id <= w->region_count);
    return (uint32_t)(region_id - 1);
}

static void schedule_node_timer(struct rs_world *w, struct rs_world_node *wn)
{
    uint64_t local = node_deadline(wn);
    if (local == UINT64_MAX) {
        return;
    }
    uint64_t global = rs_clock_global(&wn->clock, local);
    if (global < w->now_ns) {
        global = w->now_ns;
    }
    /* keep at most one timer event per node: a later deadline is found when the earlier
     * event fires, so resets of the election timer cost no events */
    if (global < wn->timer_global_ns) {
        wn->timer_global_ns = global;
        rs_evq_push(&w->evq, global, EV_NODE_TIMER, wn->id, ++wn->timer_gen, NULL);
    }
}

static enum rs_disk_op disk_kind(uint8_t kind)
{
    return kind == RS_DISK_SYNC ? RS_DISK_OP_SYNC : RS_DISK_OP_WRITE;
}

/* Hands the node's effects to the world: messages to the network, disk operations to the
 * disk queue, the next timer to the event queue. */
static void drain_node(struct rs_world *w, struct rs_world_node *wn)
{
    struct rs_out *out = &wn->store->out;
    for (size_t i = 0; i < out->msg_count; i++) {
        const struct rs_out_msg *m = &out->msgs[i];
        send_message(w, wn->id, m->to, m->type, out->bytes + m->offset, m->size);
    }
    for (size_t i = 0; i < out->disk_count; i++) {
        struct rs_world_disk_op op = {.op = out->disk[i], .data = NULL};
        if (op.op.data_size > 0) {
            op.data = rs_pool_alloc(op.op.data_size);
            memcpy(op.data, out->bytes + op.op.data_offset, op.op.data_size);
        }
        disk_ops_push(wn, &op);
        if (rs_trace_on(w->trace)) {
            static const char *const kinds[] = {"?",      "write",  "sync",         "truncate",
                                                "remove", "rename", "remove-prefix"};
            struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, "disk");
            rs_buf_printf(b, ",\"node\":%u,\"op\":\"%s\",\"file\":\"%s\",\"offset\":%llu,"
                          "\"size\":%zu",
                          wn->id, kinds[op.op.kind <= RS_DISK_REMOVE_PREFIX ? op.op.kind : 0],
                          op.op.name, (unsigned long long)op.op.offset, op.op.data_size);
            rs_trace_end(w->trace);
        }
        uint64_t done = rs_disk_schedule(&wn->disk, w->now_ns, disk_kind(op.op.kind),
                                         op.op.data_size);
        rs_evq_push(&w->evq, done, EV_DISK_DONE, wn->id, wn->incarnation, NULL);
        w->stats.disk_ops++;
    }
    rs_out_clear(out);
    schedule_node_timer(w, wn);
}

/* A replica's role or term changed since the world last looked: trace it. Returns whether
 * it changed. */
static bool trace_node_state(struct rs_world *w, struct rs_world_node *wn, struct rs_node *n)
{
    const struct rs_raft *r = &n->raft;
    if ((int)r->role == n->host_role && r->term == n->host_term) {
        return false;
    }
    wn->leader_gains += r->role == RS_LEADER && n->host_role != (int)RS_LEADER;
    n->host_role = (int)r->role;
    n->host_term = r->term;
    uint64_t words[5] = {0x524f4c45, wn->id, (uint64_t)r->role, r->term, n->region.id};
    rs_trace_fold(w->trace, words, 5);
    if (rs_trace_on(w->trace)) {
        struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, "role");
        rs_buf_printf(b, ",\"node\":%u,\"region\":%llu,\"role\":\"%s\",\"term\":%llu,"
                      "\"commit\":%llu", wn->id, (unsigned long long)n->region.id,
                      rs_role_name(r->role), (unsigned long long)r->term,
                      (unsigned long long)r->commit_index);
        rs_trace_end(w->trace);
    }
    return true;
}

uint32_t rs_world_effective_leader(const struct rs_world *w)
{
    uint32_t leader = rs_world_leader(w);
    const struct rs_node *ln = leader != 0 ? rs_world_replica(w, leader, 0) : NULL;
    if (leader == 0 || w->nodes[leader].paused) {
        return 0;
    }
    uint64_t reach = 0;
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        const struct rs_world_node *wn = &w->nodes[id];
        bool ok = id == leader || (wn->up && !wn->paused && rs_net_link_up(&w->net, leader, id) &&
                                   rs_net_link_up(&w->net, id, leader));
        reach |= (uint64_t)ok << id;
    }
    /* a majority of the leader's configuration, both sides of a joint one */
    return rs_conf_majority(&ln->raft.conf, reach) ? leader : 0;
}

/* Leadership or connectivity changed: log the effective leader when it is a new one. */
static void note_leader(struct rs_world *w)
{
    uint32_t leader = rs_world_effective_leader(w);
    if (w->leader_log_count > 0 && w->leader_log[w->leader_log_count - 1].leader == leader) {
        return;
    }
    if (w->leader_log_count == w->leader_log_cap) {
        w->leader_log_cap = w->leader_log_cap ? w->leader_log_cap * 2 : 64;
        w->leader_log = realloc(w->leader_log, w->leader_log_cap * sizeof *w->leader_log);
        RS_ASSERT(w->leader_log != NULL);
    }
    w->leader_log[w->leader_log_count].time_ns = w->now_ns;
    w->leader_log[w->leader_log_count].leader = leader;
    w->leader_log_count++;
}

/* A region's checks failed: the run stops, and w->checks holds the first failure. */
static void region_failed(struct rs_world *w, uint32_t index)
{
    w->stopped = true;
    if (index == 0 || w->checks.failed != RS_CHECK_NONE) {
        return;
    }
    const struct rs_checks *c = w->region_checks[index];
    rs_checks_fail(&w->checks, c->failed_at_ns, c->failed, "region %llu: %s",
                   (unsigned long long)w->regions[index].id, c->message);
}

static int compare_region_start(const void *a, const void *b)
{
    const struct rs_region *x = *(const struct rs_region *const *)a;
    const struct rs_region *y = *(const struct rs_region *const *)b;
    /* ids break ties, so the order never depends on qsort's algorithm */
    int c = rs_key_compare((struct rs_bytes){x->start, x->start_size},
                           (struct rs_bytes){y->start, y->start_size});
    return c != 0 ? c : (x->id < y->id ? -1 : (x->id > y->id ? 1 : 0));
}

/*
 * region-ranges: the newest descriptors of the created regions cut the key space into
 * ranges that neither overlap nor leave a gap, from "" to "". Run when a descriptor changed
 * (a split applied somewhere): the parent shrinks and the child appears in the same event.
 */
static void check_region_ranges(struct rs_world *w)
{
    const struct rs_region **order = calloc(w->region_count, sizeof *order);
    RS_ASSERT(order != NULL);
    uint32_t count = 0;
    for (uint32_t i = 0; i < w->region_count; i++) {
        if (region_created(&w->regions[i])) {
            order[count++] = &w->regions[i];
        }
    }
    qsort(order, count, sizeof *order, compare_region_start);
    struct rs_bytes at = {NULL, 0}; /* every key from here on is still to be covered */
    for (uint32_t i = 0; i < count && w->checks.failed == RS_CHECK_NONE; i++) {
        struct rs_bytes start = {order[i]->start, order[i]->start_size};
        if (rs_key_compare(start, at) != 0 || (i > 0 && at.size == 0)) {
            rs_checks_fail(&w->checks, w->now_ns, RS_CHECK_REGION_RANGES,
                           "region %llu starts at '%.*s' but the regions before it end at '%.*s'",
                           (unsigned long long)order[i]->id, (int)start.size, start.data,
                           (int)at.size, at.data);
        }
        at = (struct rs_bytes){order[i]->end, order[i]->end_size};
    }
    if (count > 0 && at.size != 0 && w->checks.failed == RS_CHECK_NONE) {
        rs_checks_fail(&w->checks, w->now_ns, RS_CHECK_REGION_RANGES,
                       "no region covers the keys from '%.*s' on", (int)at.size, at.data);
    }
    free(order);
    if (w->checks.failed != RS_CHECK_NONE) {
        w->stopped = true;
    }
}

/*
 * region-epochs and region-keys, for a replica that handled something: its epoch never goes
 * back while it runs (a restart replays from older state, so the bound starts again), and
 * it holds no key (of any key space) outside its range.
 */
static void check_replica_region(struct rs_world *w, uint32_t node, struct rs_node *n)
{
    const struct rs_region_epoch *e = &n->region.epoch;
    const struct rs_region_epoch *seen = &n->host_epoch;
    if (e->version < seen->version || (e->version == seen->version && e->conf_ver < seen->conf_ver)) {
        rs_checks_fail(&w->checks, w->now_ns, RS_CHECK_REGION_EPOCHS,
                       "node %u region %llu: epoch went back from (%llu, %llu) to (%llu, %llu)",
                       node, (unsigned long long)n->region.id,
                       (unsigned long long)seen->conf_ver, (unsigned long long)seen->version,
                       (unsigned long long)e->conf_ver, (unsigned long long)e->version);
    }
    n->host_epoch = *e;
    struct rs_bytes lowest, highest;
    if (n->initialized && rs_kv_key_bounds(&n->kv, &lowest, &highest) &&
        w->checks.failed == RS_CHECK_NONE &&
        (!rs_region_contains(&n->region, lowest) || !rs_region_contains(&n->region, highest))) {
        struct rs_bytes bad = rs_region_contains(&n->region, lowest) ? highest : lowest;
        rs_checks_fail(&w->checks, w->now_ns, RS_CHECK_REGION_KEYS,
                       "node %u region %llu [%.*s, %.*s) holds key '%.*s'", node,
                       (unsigned long long)n->region.id, (int)n->region.start_size,
                       n->region.start, (int)n->region.end_size, n->region.end, (int)bad.size,
                       bad.data);
    }
    if (w->checks.failed != RS_CHECK_NONE) {
        w->stopped = true;
    }
}

/* A replica's descriptor is the newest known when its epoch is: the world's routes use it.
 * Returns whether it was. */
static bool note_region(struct rs_world *w, const struct rs_node *n)
{
    if (!n->initialized) {
        return false;
    }
    struct rs_region *known = &w->regions[region_index_of(w, n->region.id)];
    const struct rs_region_epoch *a = &n->region.epoch;
    const struct rs_region_epoch *b = &known->epoch;
    if (a->version > b->version || (a->version == b->version && a->conf_ver > b->conf_ver)) {
        bool range_changed = a->version != b->version;
        if (!region_created(known)) {
            mark(w, RS_WORLD_MARK_SPLIT); /* the first replica of a region a split made */
        }
        rs_region_free(known);
        rs_region_copy(known, &n->region);
        return range_changed;
    }
    return false;
}

/* Whether every replica of the store holds a configuration of its own. */
static bool store_configured(const struct rs_store *s)
{
    for (size_t i = 0; i < s->replica_count; i++) {
        const struct rs_raft *r = &s->replicas[i]->raft;
        if (r->conf_count == 0 && r->snap.file == NULL) {
            return false;
        }
    }
    return true;
}

static void pd_store_log(struct rs_world *w, struct rs_world_node *wn);
static void pd_after(struct rs_world *w, struct rs_world_node *wn);
static uint32_t region_add(struct rs_world *w, const struct rs_region *r);

/*
 * A region id appears when a replica applies the split that made it (or a leader's message
 * creates its replica): the table grows to hold it. Ids are given out by the PD group (or by
 * rs_world_split) in increasing order; ids a deposed PD leader never gave stay slots that are
 * never created.
 */
static void region_slots_reach(struct rs_world *w, uint64_t region_id)
{
    RS_ASSERT(region_id >= 1 && region_id <= (uint64_t)w->region_count + (1u << 20));
    while (w->region_count < region_id) {
        struct rs_region pending;
        rs_region_init(&pending, (uint64_t)w->region_count + 1, (struct rs_bytes){NULL, 0},
                       (struct rs_bytes){NULL, 0});
        pending.epoch.version = 0; /* not created until a replica applies the split */
        region_add(w, &pending);
        rs_region_free(&pending);
    }
}

/* Every event that touched a store ends here: effects out, checks run on the replicas that
 * handled something. */
static void after_node_event(struct rs_world *w, struct rs_world_node *wn)
{
    if (wn->pd_server != NULL) {
        pd_after(w, wn); /* a PD node: no data checks */
        return;
    }
    struct rs_store *s = wn->store;
    bool first_changed = false;
    bool ranges_changed = false;
    for (size_t i = 0; i < s->touched_count; i++) {
        struct rs_node *n = s->touched[i];
        region_slots_reach(w, n->region.id);
        ranges_changed |= note_region(w, n);
        check_replica_region(w, wn->id, n);
        bool changed = trace_node_state(w, wn, n);
        first_changed |= changed && n->region.id == w->regions[0].id;
    }
    if (first_changed) {
        note_leader(w);
    }
    if (ranges_changed) {
        check_region_ranges(w);
    }
    if (wn->joining && store_configured(s)) {
        wn->joining = false; /* it holds configurations of its own now */
    }
    if (w->on_node != NULL) {
        w->on_node(w->on_node_ctx, w, wn->id);
    }
    if (s->pd_log_count > 0) {
        pd_store_log(w, wn);
    }
    drain_node(w, wn);
    for (size_t i = 0; i < s->touched_count; i++) {
        struct rs_node *n = s->touched[i];
        uint32_t index = region_index_of(w, n->region.id);
        if (!rs_checks_node(w->region_checks[index], w->now_ns, wn->id, n)) {
            region_failed(w, index);
        }
    }
    for (size_t i = 0; i < s->destroyed_count; i++) {
        /* checked above as it was last; its checks forget it before the store frees it */
        rs_checks_destroyed(w->region_checks[region_index_of(w, s->destroyed[i]->region.id)],
                            wn->id);
    }
    rs_store_untouch(s);
}

/* Sets disk_lied for a node in every region's checks. */
static void checks_disk_lied(struct rs_world *w, uint32_t node)
{
    for (uint32_t i = 0; i < w->region_count; i++) {
        w->region_checks[i]->nodes[node].crashed = false;
        w->region_checks[i]->nodes[node].disk_lied = true;
    }
}

#define RS_WORLD_FILES_MAX 1024u

/* What recovery reads: every file on the node's disk (names and views into the disk). */
static size_t disk_views(struct rs_world_node *wn, const char **names, struct rs_file_view *views)
{
    size_t count = rs_disk_list(&wn->disk, names, RS_WORLD_FILES_MAX);
    RS_ASSERT(count < RS_WORLD_FILES_MAX);
    for (size_t i = 0; i < count; i++) {
        views[i].name = names[i];
        views[i].data = rs_disk_read(&wn->disk, names[i], &views[i].size);
    }
    return count;
}

static void node_start(struct rs_world *w, struct rs_world_node *wn)
{
    RS_ASSERT(!wn->up);
    struct rs_raft_config cfg = w->cfg.raft;
    cfg.id = wn->id;
    cfg.random_seed = rs_rng_next(&wn->rng);
    cfg.bugs = w->cfg.bugs;
    /* nodes 1..replicas start as voters of every region, the next ones as learners, the rest
     * outside the groups (they can join through membership changes) */
    struct rs_conf conf = {0};
    if (!wn->joining) { /* no bootstrap configuration for a replaced disk */
        conf.voter_count = w->cfg.replica_count ? w->cfg.replica_count : w->cfg.node_count;
        for (uint32_t i = 0; i < conf.voter_count; i++) {
            conf.voters[i] = i + 1;
        }
        conf.learner_count = w->cfg.learner_count;
        for (uint32_t i = 0; i < conf.learner_count; i++) {
            conf.learners[i] = conf.voter_count + 1 + i;
        }
    }
    struct rs_store_boot *boot = malloc(w->boot_region_count * sizeof *boot);
    RS_ASSERT(boot != NULL);
    uint32_t boot_count = 0;
    static const struct rs_conf no_conf = {0};
    for (uint32_t i = 0; i < w->boot_region_count; i++) {
        const struct rs_conf *c = &conf;
        if (w->boot_confs != NULL) {
            c = &w->boot_confs[i];
            if (!rs_conf_is_member(c, wn->id)) {
                continue; /* not one of its replicas: a leader's message creates it if needed */
            }
            c = wn->joining ? &no_conf : c;
        }
        const struct rs_raft_config *raft = w->boot_rafts != NULL ? &w->boot_rafts[i] : NULL;
        boot[boot_count++] =
            (struct rs_store_boot){.region = &w->boot_regions[i], .conf = c, .raft = raft};
    }
    wn->store = malloc(sizeof *wn->store);
    RS_ASSERT(wn->store != NULL);
    rs_store_init(wn->store, &cfg);
    if (w->pd.enabled) {
        rs_node_id pd_nodes[RS_PD_SERVER_NODES_MAX];
        for (uint32_t i = 0; i < w->pd.node_count; i++) {
            pd_nodes[i] = w->pd.endpoint + i;
        }
        rs_store_pd_attach(wn->store, pd_nodes, w->pd.node_count, w->cfg.pd_heartbeat_ns,
                           node_local(wn, w->now_ns));
    }
    if (wn->corrupt_bits_armed > 0) {
        uint32_t bits = rs_disk_corrupt(&wn->disk, &wn->corrupt_rng, wn->corrupt_bits_armed,
                                        wn->corrupt_unsynced_only);
        w->stats.corrupted_disk_bits += bits;
        wn->corrupt_bits_armed = 0;
        if (!wn->corrupt_unsynced_only && bits > 0) {
            checks_disk_lied(w, wn->id); /* synced data may be gone, by design */
        }
        uint64_t words[3] = {0x524f54, wn->id, bits};
        rs_trace_fold(w->trace, words, 3);
        if (rs_trace_on(w->trace)) {
            struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, "bit-rot");
            rs_buf_printf(b, ",\"node\":%u,\"bits\":%u", wn->id, bits);
            rs_trace_end(w->trace);
        }
    }
    const char *names[RS_WORLD_FILES_MAX];
    struct rs_file_view views[RS_WORLD_FILES_MAX];
    size_t count = disk_views(wn, names, views);
    wn->up = true;
    wn->incarnation++;
    wn->timer_global_ns = UINT64_MAX;
    rs_store_recover(wn->store, node_local(wn, w->now_ns), boot, boot_count, views, count);
    free(boot);
    rs_disk_recovered(&wn->disk); /* what recovery read now counts as durable */
    for (size_t i = 0; i < wn->store->replica_count; i++) {
        struct rs_node *n = wn->store->replicas[i];
        uint32_t index = region_index_of(w, n->region.id);
        if (!rs_checks_recovered(w->region_checks[index], w->now_ns, wn->id, n)) {
            region_failed(w, index);
        }
    }
    after_node_event(w, wn);
}

/* The events a paused node had waiting are gone with its process. */
static void deferred_drop(struct rs_world_node *wn)
{
    struct rs_world_deferred *q = &wn->deferred;
    while (q->count > 0) {
        struct rs_event *ev = &q->events[q->head];
        if (ev->kind == EV_DELIVER) {
            rs_pool_free(ev->ptr);
        }
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
    wn->paused = false;
}

void rs_world_crash(struct rs_world *w, uint32_t node)
{
    RS_ASSERT(node >= 1 && node <= w->cfg.node_count);
    struct rs_world_node *wn = &w->nodes[node];
    if (!wn->up) {
        return;
    }
    deferred_drop(wn);
    counts_keep(wn);
    for (size_t i = 0; i < wn->store->replica_count; i++) {
        struct rs_node *n = wn->store->replicas[i];
        rs_checks_crash(w->region_checks[region_index_of(w, n->region.id)], node, n);
    }
    rs_store_free(wn->store);
    free(wn->store);
    wn->store = NULL;
    wn->up = false;
    wn->down_since_ns = w->now_ns;
    wn->crashes++;
    w->stats.crashes++;
    disk_ops_clear(wn); /* operations not completed never happened */
    rs_disk_crash(&wn->disk);
    note_leader(w);
    uint64_t words[3] = {0x43524153, node, w->now_ns};
    rs_trace_fold(w->trace, words, 3);
    if (rs_trace_on(w->trace)) {
        struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, "crash");
        rs_buf_printf(b, ",\"node\":%u", node);
        rs_trace_end(w->trace);
    }
}

void rs_world_restart(struct rs_world *w, uint32_t node)
{
    RS_ASSERT(node >= 1 && node <= w->cfg.node_count);
    struct rs_world_node *wn = &w->nodes[node];
    if (wn->up) {
        return;
    }
    w->stats.restarts++;
    uint64_t words[3] = {0x52455354, node, w->now_ns};
    rs_trace_fold(w->trace, words, 3);
    if (rs_trace_on(w->trace)) {
        struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, "restart");
        rs_buf_printf(b, ",\"node\":%u", node);
        rs_trace_end(w->trace);
    }
    node_start(w, wn);
}

static void on_node_timer(struct rs_world *w, struct rs_world_node *wn, uint64_t gen)
{
    if (!wn->up || gen != wn->timer_gen) {
        return; /* superseded or from a previous incarnation */
    }
    wn->timer_global_ns = UINT64_MAX;
    uint64_t local = node_local(wn, w->now_ns);
    if (wn->pd_server != NULL) {
        rs_pd_server_tick(wn->pd_server, local);
    } else if (local >= rs_store_deadline(wn->store)) {
        rs_store_tick(wn->store, local);
    }
    after_node_event(w, wn);
}

/* Applies a completed operation; an injected error or a full disk leaves the disk as it was. */
static enum rs_err apply_disk_op(struct rs_world_node *wn, const struct rs_world_disk_op *d)
{
    const struct rs_out_disk *op = &d->op;
    enum rs_disk_io io = op->kind == RS_DISK_WRITE  ? RS_DISK_IO_WRITE
                         : op->kind == RS_DISK_SYNC ? RS_DISK_IO_SYNC
                                                    : RS_DISK_IO_META;
    enum rs_err err = rs_disk_inject(&wn->disk, io);
    if (err != RS_OK) {
        return err;
    }
    switch (op->kind) {
    case RS_DISK_WRITE: err = rs_disk_write(&wn->disk, op->name, op->offset, d->data,
                                            op->data_size); break;
    case RS_DISK_SYNC: err = rs_disk_sync(&wn->disk, op->name); break;
    case RS_DISK_TRUNCATE: err = rs_disk_truncate(&wn->disk, op->name, op->offset); break;
    case RS_DISK_REMOVE: err = rs_disk_remove(&wn->disk, op->name); break;
    case RS_DISK_RENAME: err = rs_disk_rename(&wn->disk, op->name, op->name2); break;
    case RS_DISK_REMOVE_PREFIX: err = rs_disk_remove_prefix(&wn->disk, op->name); break;
    default: RS_UNREACHABLE();
    }
    /* a sync or truncate of a file that does not exist yet is not an error for the engine */
    RS_ASSERT(err == RS_OK || err == RS_ENOTFOUND || err == RS_ENOSPACE);
    return err == RS_ENOTFOUND ? RS_OK : err;
}

static void trace_disk_error(struct rs_world *w, struct rs_world_node *wn,
                             const struct rs_out_disk *op, enum rs_err err)
{
    w->stats.disk_errors++;
    uint64_t words[4] = {0x44455252, wn->id, op->kind, (uint64_t)err};
    rs_trace_fold(w->trace, words, 4);
    if (rs_trace_on(w->trace)) {
        static const char *const kinds[] = {"?",      "write",  "sync",         "truncate",
                                            "remove", "rename", "remove-prefix"};
        struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, "disk-error");
        rs_buf_printf(b, ",\"node\":%u,\"op\":\"%s\",\"file\":\"%s\",\"err\":\"%s\"", wn->id,
                      kinds[op->kind <= RS_DISK_REMOVE_PREFIX ? op->kind : 0], op->name,
                      rs_err_name(err));
        rs_trace_end(w->trace);
    }
}

static void on_disk_done(struct rs_world *w, struct rs_world_node *wn, uint64_t incarnation)
{
    if (!wn->up || incarnation != wn->incarnation) {
        return;
    }
    RS_ASSERT(wn->op_count > 0);
    struct rs_world_disk_op d = wn->ops[wn->op_head];
    wn->op_head = (wn->op_head + 1) % wn->op_cap;
    wn->op_count--;
    enum rs_err err = apply_disk_op(wn, &d);
    rs_pool_free(d.data);
    if (err != RS_OK) {
        trace_disk_error(w, wn, &d.op, err);
    }
    if (wn->pd_server != NULL) {
        rs_pd_server_disk_done(wn->pd_server, node_local(wn, w->now_ns), d.op.id, err);
    } else {
        rs_store_disk_done(wn->store, node_local(wn, w->now_ns), d.op.id, err);
    }
    after_node_event(w, wn);
}

/* ---- clients ---- */

/*
 * Request splitting (RheaKV's FailoverFuture family; research/jraft.md, "request path"). An
 * operation whose keys span regions runs as parts, one region each: a list's keys grouped by
 * region, a range region by region (a reverse scan from the last), the scan limit carried from
 * part to part. The parts run one after another in key order by the same client (RheaKV sends
 * them at once; one at a time is the simplest deterministic choice, and a client has only one
 * request in flight anyway), and their answers are merged for the caller. cas_all is split
 * too, as in RheaKV: all or nothing within each region, not across regions. A lock whose
 * fencing key lies in another region than its key is refused at the client (RS_EINVAL,
 * recorded as a failed lock): its fencing token must be the region's.
 *
 * History: each part is recorded as an operation of its own, with its own keys, interval and
 * outcome. That is sound because the checker (sim/lincheck.c) projects every operation on its
 * keys and assumes nothing across keys: a part is exactly what happened on its keys, and the
 * caller's operation, not atomic across regions, is never claimed to be one. An operation
 * inside one region is one part and is recorded as before.
 *
 * A split under a part: when the routes change (a refusal made the client refresh them) and
 * the part no longer lies in one region, it is abandoned (recorded as fail for a read, as info
 * for a write: an earlier attempt may still be applied) and what is left of the operation is
 * split again on the new routes and sent with the same values.
 */

static void routes_stale(struct rs_world *w, struct rs_world_client *wc);

/* Parts of one operation at most: a bound on re-splitting (then the operation fails). */
#define RS_WORLD_PARTS_MAX 64u

static void schedule_client_timer(struct rs_world *w, struct rs_world_client *wc, uint64_t at)
{
    if (at == 0) {
        return;
    }
    if (at < w->now_ns) {
        at = w->now_ns;
    }
    if (at < wc->timer_global_ns) {
        wc->timer_global_ns = at;
        rs_evq_push(&w->evq, at, EV_CLIENT_TIMER, wc->endpoint, ++wc->timer_gen, NULL);
    }
}

/* One history event of op (a part, or an operation refused before any part). */
static void observe_op(struct rs_world *w, struct rs_world_client *wc,
                       const struct rs_workload_op *op, enum rs_op_phase phase,
                       const struct rs_kv_result *res)
{
    struct rs_op_event ev = {
        .process = wc->process,
        .phase = phase,
        .opcode = op->opcode,
        .key = {(const uint8_t *)op->key, op->key_size},
        .value = {(const uint8_t *)op->value, op->value_size},
        .expected = {(const uint8_t *)op->expected, op->expected_size},
        .time_ns = w->now_ns,
        .invoke_ns = phase == RS_OP_INVOKE ? w->now_ns : wc->part_invoke_ns,
        .op = op,
        .result = res,
    };
    if (res != NULL) {
        ev.result_found = res->found;
        ev.result_value.data = res->value;
        ev.result_value.size = res->value_size;
    }
    uint64_t words[5] = {0x4f50, wc->process, (uint64_t)phase, op->opcode, op->key_index};
    rs_trace_fold(w->trace, words, 5);
    if (rs_trace_on(w->trace)) {
        static const char *const phases[] = {"invoke", "ok", "fail", "info"};
        struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, "op");
        rs_buf_printf(b, ",\"process\":%u,\"type\":\"%s\",\"f\":\"%s\",\"key\":", wc->process,
                      phases[phase], rs_kv_opcode_name(op->opcode));
        rs_buf_json_str(b, op->key, op->key_size);
        rs_trace_end(w->trace);
    }
    if (w->on_op != NULL) {
        w->on_op(w->on_op_ctx, &ev);
    }
}

static bool op_listed(uint8_t opcode)
{
    return opcode == RS_KV_MULTI_GET || opcode == RS_KV_BATCH_PUT ||
           opcode == RS_KV_BATCH_DELETE || opcode == RS_KV_CAS_ALL;
}

static bool op_ranged(uint8_t opcode)
{
    return opcode == RS_KV_SCAN || opcode == RS_KV_REVERSE_SCAN || opcode == RS_KV_DELETE_RANGE;
}

/* Room for size more bytes of merged answers. */
static void merged_reserve(struct rs_world_client *wc, size_t size)
{
    if (wc->merged_size + size > wc->merged_cap) {
        size_t cap = wc->merged_cap ? wc->merged_cap : 256;
        while (cap < wc->merged_size + size) {
            cap *= 2;
        }
        wc->merged = realloc(wc->merged, cap);
        RS_ASSERT(wc->merged != NULL);
        wc->merged_cap = cap;
    }
}

static size_t merged_append(struct rs_world_client *wc, const uint8_t *data, size_t size)
{
    merged_reserve(wc, size);
    size_t at = wc->merged_size;
    if (size > 0) {
        memcpy(wc->merged + at, data, size);
    }
    wc->merged_size += size;
    return at;
}

static void copy_key(char *dst, size_t *dst_size, const char *src, size_t size)
{
    RS_ASSERT(size <= RS_WORKLOAD_KEY_MAX);
    if (size > 0) { /* an empty key may be a NULL view */
        memcpy(dst, src, size);
    }
    *dst_size = size;
}

/* What is left of the operation is all of it; the answers so far, none. */
static void split_begin(struct rs_world_client *wc)
{
    const struct rs_workload_op *op = &wc->op;
    memset(wc->list_done, 0, sizeof wc->list_done);
    copy_key(wc->range_start, &wc->range_start_size, op->key, op->key_size);
    copy_key(wc->range_end, &wc->range_end_size, op->end_key, op->end_key_size);
    wc->rest_done = false;
    wc->limit_left = op->limit != 0 ? op->limit : RS_KV_SCAN_LIMIT_MAX;
    wc->merged_size = 0;
    wc->merged_count = 0;
    wc->all_success = true;
    wc->truncated = false;
    memset(&wc->single, 0, sizeof wc->single);
    wc->worst = RS_OP_OK;
    wc->part_count = 0;
}

/* The part: op's fields, without list or range (the caller fills those in). */
static void part_base(struct rs_workload_op *part, const struct rs_workload_op *op)
{
    part->opcode = op->opcode;
    part->key_index = op->key_index;
    copy_key(part->key, &part->key_size, op->key, op->key_size);
    memcpy(part->value, op->value, op->value_size); /* arrays: never NULL */
    part->value_size = op->value_size;
    memcpy(part->expected, op->expected, op->expected_size);
    part->expected_size = op->expected_size;
    part->list_count = 0;
    part->list_size = 0;
    copy_key(part->end_key, &part->end_key_size, op->end_key, op->end_key_size);
    part->limit = op->limit;
    part->keys_only = op->keys_only;
    part->step = op->step;
    part->lease_ms = op->lease_ms;
    part->acquirer_id = op->acquirer_id;
    part->timestamp_ms = op->timestamp_ms;
    copy_key(part->fencing_key, &part->fencing_key_size, op->fencing_key, op->fencing_key_size);
}

/* The list entries of op that take[] selects, in op's order. */
static void part_list(struct rs_world_client *wc, const bool *take)
{
    struct rs_workload_op *part = &wc->part;
    const struct rs_workload_op *op = &wc->op;
    uint32_t n = 0;
    for (uint32_t i = 0; i < op->list_count; i++) {
        if (!take[i]) {
            continue;
        }
        part->list_index[n] = op->list_index[i];
        copy_key(part->list_key[n], &part->list_key_size[n], op->list_key[i],
                 op->list_key_size[i]);
        memcpy(part->list_value[n], op->list_value[i], op->list_value_size[i]);
        part->list_value_size[n] = op->list_value_size[i];
        memcpy(part->list_expected[n], op->list_expected[i], op->list_expected_size[i]);
        part->list_expected_size[n] = op->list_expected_size[i];
        wc->part_list_of[n++] = i;
    }
    RS_ASSERT(n > 0);
    part->list_count = n;
    part->key_index = part->list_index[0]; /* a list's key is its first */
    copy_key(part->key, &part->key_size, part->list_key[0], part->list_key_size[0]);
}

enum plan { PLAN_PART, PLAN_DONE, PLAN_REFUSED };

/* The next range part: [range_start, range_end) cut at a region boundary. */
static enum plan plan_range(struct rs_world_client *wc, struct rs_workload_op *part)
{
    const struct rs_workload_op *op = &wc->op;
    if (wc->rest_done) {
        return PLAN_DONE;
    }
    struct rs_bytes start = {(const uint8_t *)wc->range_start, wc->range_start_size};
    struct rs_bytes end = {(const uint8_t *)wc->range_end, wc->range_end_size};
    struct rs_bytes part_start, part_end;
    wc->target = rs_route_range_part(&wc->route, start, end, op->opcode == RS_KV_REVERSE_SCAN,
                                     &part_start, &part_end);
    /* a bound longer than a workload key cannot be carried: the rest is refused */
    if (wc->target == NULL || part_start.size > RS_WORKLOAD_KEY_MAX ||
        part_end.size > RS_WORKLOAD_KEY_MAX) {
        return PLAN_REFUSED;
    }
    part_base(part, op);
    copy_key(part->key, &part->key_size, (const char *)part_start.data, part_start.size);
    copy_key(part->end_key, &part->end_key_size, (const char *)part_end.data, part_end.size);
    if (op->opcode != RS_KV_DELETE_RANGE) {
        bool untouched = op->limit == 0 && wc->limit_left == RS_KV_SCAN_LIMIT_MAX;
        part->limit = untouched ? 0 : wc->limit_left; /* the limit carried over */
    }
    return PLAN_PART;
}

/* The next part of wc->op on the current routes, in wc->part (wc->target its region). */
static enum plan plan_part(struct rs_world_client *wc)
{
    const struct rs_workload_op *op = &wc->op;
    struct rs_workload_op *part = &wc->part;
    if (op_listed(op->opcode)) {
        bool take[RS_KV_BATCH_COUNT_MAX];
        struct rs_bytes list = {op->list, op->list_size};
        bool left = false;
        for (uint32_t i = 0; i < op->list_count; i++) {
            left = left || !wc->list_done[i];
        }
        if (!left) {
            return PLAN_DONE;
        }
        wc->target = rs_route_list_part(&wc->route, op->opcode, list, op->list_count,
                                        wc->list_done, take);
        if (wc->target == NULL) {
            return PLAN_REFUSED;
        }
        part_base(part, op);
        part_list(wc, take);
        return PLAN_PART;
    }
    if (op_ranged(op->opcode)) {
        return plan_range(wc, part);
    }
    if (wc->rest_done) {
        return PLAN_DONE;
    }
    part_base(part, op); /* one part: the operation itself */
    return PLAN_PART;
}

/* The caller's answer from the parts' answers, in wc->result. */
static void merged_result(struct rs_world_client *wc)
{
    const struct rs_workload_op *op = &wc->op;
    struct rs_kv_result *res = &wc->result;
    memset(res, 0, sizeof *res);
    if (!op_listed(op->opcode) && !op_ranged(op->opcode)) {
        *res = wc->single;
        res->value = wc->single.value_size > 0 ? wc->merged : NULL;
        return;
    }
    res->success = wc->all_success;
    if (op->opcode == RS_KV_MULTI_GET) {
        /* entries in the caller's order, after the parts' bytes */
        size_t raw = wc->merged_size;
        uint32_t count = 0;
        for (uint32_t i = 0; i < op->list_count; i++) {
            if (wc->list_done[i]) {
                merged_reserve(wc, wc->list_entry_size[i]);
                merged_append(wc, wc->merged + wc->list_entry_at[i], wc->list_entry_size[i]);
                count++;
            }
        }
        res->entries = wc->merged + raw;
        res->entries_size = wc->merged_size - raw;
        res->entry_count = count;
    } else if (op->opcode != RS_KV_DELETE_RANGE) {
        res->entries = wc->merged;
        res->entries_size = wc->merged_size;
        res->entry_count = wc->merged_count;
        res->truncated = wc->truncated;
    }
    if (res->entries_size == 0) {
        res->entries = NULL;
    }
}

/* The operation is over (every part answered, or one failed): the caller learns its end. */
static void finish_op(struct rs_world *w, struct rs_world_client *wc, enum rs_op_phase phase)
{
    merged_result(wc);
    if (phase == RS_OP_OK && rs_workload_no_effect(&wc->op, &wc->result)) {
        phase = RS_OP_FAIL; /* counted as the history counts an unsplit one */
    }
    wc->result_phase = phase;
    wc->ops_finished++;
    w->stats.ops_ok += phase == RS_OP_OK;
    w->stats.ops_fail += phase == RS_OP_FAIL;
    w->stats.ops_info += phase == RS_OP_INFO;
    wc->busy = false;
    if (w->cfg.workload.rate_per_s == 0 && !wc->stopped) {
        rs_evq_push(&w->evq, w->now_ns + w->cfg.workload.think_ns, EV_CLIENT_START,
                    wc->endpoint, 0, NULL);
    }
}

/*
 * Plans and submits the next part (true, with its first send in *out), or finishes the
 * operation when nothing is left, it is out of time or parts, or the client refuses it.
 */
static bool start_next_part(struct rs_world *w, struct rs_world_client *wc,
                            struct rs_client_out *out)
{
    bool late = w->now_ns >= wc->invoke_ns + w->cfg.workload.op_timeout_ns;
    if (wc->part_count >= RS_WORLD_PARTS_MAX || (wc->part_count > 0 && late)) {
        finish_op(w, wc, RS_OP_FAIL); /* what is left was never sent: no effect */
        return false;
    }
    enum plan plan = plan_part(wc);
    if (plan == PLAN_PART) {
        rs_workload_to_kv(&wc->part, w->now_ns / RS_NS_PER_MS, wc->client.cfg.client_id,
                          &wc->part_kv);
        wc->target = rs_route_lookup_op(&wc->route, &wc->part_kv);
        plan = wc->target != NULL ? PLAN_PART : PLAN_REFUSED;
    }
    if (plan == PLAN_DONE) {
        finish_op(w, wc, wc->worst);
        return false;
    }
    if (plan == PLAN_REFUSED) {
        /* a lock whose fencing key lies in another region (RS_EINVAL), or keys no route
         * covers: refused before anything is sent; a refusal of the whole is recorded. A gap
         * in the routes (a split's new half nobody reported yet) sends for the PD's. */
        routes_stale(w, wc);
        if (wc->part_count == 0) {
            wc->part_invoke_ns = w->now_ns;
            observe_op(w, wc, &wc->op, RS_OP_INVOKE, NULL);
            observe_op(w, wc, &wc->op, RS_OP_FAIL, NULL);
        }
        finish_op(w, wc, RS_OP_FAIL);
        return false;
    }
    if (wc->target->leader == RS_NODE_NONE && !w->pd.enabled) {
        /* the fake PD tells where the region's leader is, as RheaKV's PD client does (a PD
         * group's routes carry the leaders it knows) */
        wc->target->leader = rs_world_region_leader(w, region_index_of(w, wc->target->region.id));
    }
    rs_client_set_leader(&wc->client, wc->target->leader);
    wc->part_invoke_ns = w->now_ns;
    wc->part_count++;
    observe_op(w, wc, &wc->part, RS_OP_INVOKE, NULL);
    enum rs_err err = rs_client_submit(&wc->client, w->now_ns, &wc->part_kv, out);
    RS_ASSERT(err == RS_OK); /* a part of a valid operation is valid */
    return true;
}

/* The key just after key (key + a zero byte), false when it does not fit a workload key. */
static bool key_after(char *dst, size_t *dst_size, struct rs_bytes key)
{
    if (key.size + 1 > RS_WORKLOAD_KEY_MAX) {
        return false;
    }
    memcpy(dst, key.data, key.size);
    dst[key.size] = 0;
    *dst_size = key.size + 1;
    return true;
}

/* A range part answered: the range left shrinks, the limit is carried over. */
static void range_answered(struct rs_world_client *wc, const struct rs_kv_result *res,
                           struct rs_bytes last_key)
{
    const struct rs_workload_op *part = &wc->part;
    bool reverse = part->opcode == RS_KV_REVERSE_SCAN;
    bool scan = part->opcode != RS_KV_DELETE_RANGE;
    if (scan) {
        RS_ASSERT(res->entry_count <= wc->limit_left);
        wc->limit_left -= res->entry_count;
    }
    if (scan && res->truncated && wc->limit_left > 0) {
        /* the answer's size bound cut it: go on after the last key returned */
        bool fits = last_key.size <= RS_WORKLOAD_KEY_MAX;
        if (reverse && fits) {
            copy_key(wc->range_end, &wc->range_end_size, (const char *)last_key.data,
                     last_key.size);
        } else if (!reverse) {
            fits = key_after(wc->range_start, &wc->range_start_size, last_key);
        }
        wc->rest_done = !fits;
        wc->truncated = !fits;
        return;
    }
    bool covered = reverse ? part->key_size == wc->range_start_size &&
                                 memcmp(part->key, wc->range_start, part->key_size) == 0
                           : part->end_key_size == wc->range_end_size &&
                                 memcmp(part->end_key, wc->range_end, part->end_key_size) == 0;
    if (reverse) {
        copy_key(wc->range_end, &wc->range_end_size, part->key, part->key_size);
    } else {
        copy_key(wc->range_start, &wc->range_start_size, part->end_key, part->end_key_size);
    }
    wc->rest_done = covered || (scan && wc->limit_left == 0);
    /* the limit reached before the end: more keys may follow (the client cannot tell) */
    wc->truncated = scan && wc->limit_left == 0 && (res->truncated || !covered);
}

/* A part answered: its keys are done and its answer joins the merged one. */
static void part_answered(struct rs_world_client *wc, const struct rs_kv_result *res)
{
    const struct rs_workload_op *op = &wc->op;
    wc->all_success = wc->all_success && res->success;
    if (!op_listed(op->opcode) && !op_ranged(op->opcode)) {
        wc->single = *res;
        wc->merged_size = 0;
        merged_append(wc, res->value, res->value_size);
        wc->rest_done = true;
        return;
    }
    struct rs_kv_iter it;
    struct rs_kv_entry e;
    struct rs_bytes last_key = {NULL, 0};
    uint32_t answered = 0;
    rs_kv_entries_begin(&it, res);
    for (size_t before = it.r.pos; rs_kv_iter_next(&it, &e); before = it.r.pos) {
        size_t at = merged_append(wc, res->entries + before, it.r.pos - before);
        if (op->opcode == RS_KV_MULTI_GET && answered < wc->part.list_count) {
            uint32_t i = wc->part_list_of[answered]; /* answers come in the part's order */
            wc->list_entry_at[i] = at;
            wc->list_entry_size[i] = it.r.pos - before;
            wc->list_done[i] = true;
        }
        last_key = e.key;
        answered++;
    }
    wc->merged_count += answered;
    if (op_listed(op->opcode) && op->opcode != RS_KV_MULTI_GET) {
        for (uint32_t n = 0; n < wc->part.list_count; n++) {
            wc->list_done[wc->part_list_of[n]] = true; /* a batch is all or nothing */
        }
    }
    if (op_ranged(op->opcode)) {
        range_answered(wc, res, last_key);
    }
}

/*
 * A part ended (the client's verdict in out). Returns whether the next part was submitted
 * (its first send in *next).
 */
static bool part_done(struct rs_world *w, struct rs_world_client *wc,
                      const struct rs_client_out *out, struct rs_client_out *next)
{
    enum rs_op_phase phase = RS_OP_OK;
    if (out->outcome == RS_CLIENT_FAIL) {
        phase = RS_OP_FAIL;
    } else if (out->outcome == RS_CLIENT_INFO) {
        phase = RS_OP_INFO;
    } else if (rs_workload_no_effect(&wc->part, &out->result)) {
        phase = RS_OP_FAIL; /* the comparison failed (or a refusal): definitely no effect */
    }
    if (phase == RS_OP_OK) {
        rs_workload_learn(&w->workload, &wc->part, &out->result);
    }
    observe_op(w, wc, &wc->part, phase, &out->result);
    if (wc->target == NULL) { /* the routes were refreshed since the last attempt */
        wc->target = rs_route_lookup_op(&wc->route, &wc->part_kv);
    }
    if (wc->target != NULL) {
        wc->target->leader = rs_client_leader(&wc->client);
    }
    if (phase == RS_OP_INFO) {
        wc->process = w->next_process++; /* the old operation may still land: new process */
    }
    wc->worst = phase > wc->worst ? phase : wc->worst; /* ok < fail < info */
    if (out->outcome != RS_CLIENT_OK) {
        finish_op(w, wc, wc->worst); /* the rest is not sent (RheaKV fails the whole too) */
        return false;
    }
    part_answered(wc, &out->result);
    return start_next_part(w, wc, next);
}

/*
 * The part no longer lies in one region (a split moved a boundary through it): the client's
 * operation is ended and what is left is split again. A read had no effect; a write may
 * still be applied by an attempt in flight, so it is recorded as info, and its keys go out
 * again with the same values (the checker copes with repeated values).
 */
static bool abandon_part(struct rs_world *w, struct rs_world_client *wc,
                         struct rs_client_out *next)
{
    struct rs_client_out end;
    /* at the end of time the operation is past its deadline: the client ends it now, as the
     * deadline would; its own verdict is not used */
    rs_client_tick(&wc->client, UINT64_MAX, &end);
    RS_ASSERT(end.done);
    bool write = rs_kv_opcode_is_write(wc->part.opcode);
    observe_op(w, wc, &wc->part, write ? RS_OP_INFO : RS_OP_FAIL, NULL);
    if (write) {
        wc->process = w->next_process++;
    }
    return start_next_part(w, wc, next);
}

/* The client's sends, each in an envelope that names the part's region and its epoch. */
static void send_frames(struct rs_world *w, struct rs_world_client *wc,
                        const struct rs_client_out *out)
{
    for (uint32_t i = 0; i < out->send_count; i++) {
        const struct rs_region *region = &wc->target->region;
        size_t size = rs_envelope_size(out->sends[i].frame_size);
        uint8_t *frame = rs_pool_alloc(size);
        memcpy(frame + rs_envelope_inner_offset(), out->sends[i].frame, out->sends[i].frame_size);
        rs_envelope_seal(frame, region->id, region->epoch, out->sends[i].frame_size);
        send_message(w, wc->endpoint, out->sends[i].to, RS_MSG_KV_REQUEST, frame, size);
        rs_pool_free(frame);
    }
}

/*
 * Carries out the client's effects. A finished part starts the next one, whose effects are
 * carried out in turn: a loop, bounded because every round starts a new part.
 */
static void drain_client(struct rs_world *w, struct rs_world_client *wc,
                         const struct rs_client_out *first)
{
    struct rs_client_out outs[2];
    const struct rs_client_out *out = first;
    for (uint32_t round = 0; out != NULL; round++) {
        RS_ASSERT(round <= RS_WORLD_PARTS_MAX + 1);
        struct rs_client_out *next = &outs[round % 2]; /* never the one being read */
        bool started = false;
        if (out->send_count > 0) {
            /* the routes may have changed since the part started */
            wc->target = rs_route_lookup_op(&wc->route, &wc->part_kv);
        }
        if (out->send_count > 0 && wc->target == NULL) {
            started = abandon_part(w, wc, next);
        } else {
            send_frames(w, wc, out);
            if (out->done) {
                started = part_done(w, wc, out, next);
            }
            schedule_client_timer(w, wc, out->deadline_ns);
        }
        out = started ? next : NULL;
    }
}

/*
 * A client's routing table from the world's newest region descriptors (the fake Placement
 * Driver: in RheaKV's fake mode routes are static; here they follow the splits the stores
 * applied, so that a client never needs a PD to find a key). Leader guesses are kept.
 */
static void refresh_routes(struct rs_world *w, struct rs_world_client *wc)
{
    RS_ASSERT(!w->pd.enabled);
    struct rs_region *live = calloc(w->region_count, sizeof *live);
    rs_node_id *leaders = calloc(w->region_count, sizeof *leaders);
    RS_ASSERT(live != NULL && leaders != NULL);
    uint32_t count = 0;
    for (uint32_t i = 0; i < w->region_count; i++) {
        if (region_created(&w->regions[i])) {
            struct rs_route_entry *old = rs_route_find(&wc->route, w->regions[i].id);
            leaders[count] = old != NULL ? old->leader : RS_NODE_NONE;
            live[count++] = w->regions[i]; /* shallow: rs_route_init copies */
        }
    }
    rs_route_free(&wc->route);
    rs_route_init(&wc->route, live, count);
    for (uint32_t i = 0; i < count; i++) {
        rs_route_find(&wc->route, live[i].id)->leader = leaders[i];
    }
    wc->target = NULL;
    free(live);
    free(leaders);
}

/* A route request unanswered this long goes to the next PD node. */
#define ROUTE_TIMEOUT_NS (200 * RS_NS_PER_MS)

static void routes_parts_clear(struct rs_world_client *wc)
{
    for (size_t i = 0; i < wc->route_region_count; i++) {
        rs_region_free(&wc->route_regions[i]);
    }
    wc->route_region_count = 0;
    wc->route_parts_seen = 0;
}

/*
 * The client's routes are out of date (a refusal said so, or a key has no route): in fake PD
 * mode it reads the world's table; with a PD group it asks the PD node it believes leads
 * (RheaKV's PD client refreshing its RegionRouteTable), unless a request is already in flight.
 * One unanswered for ROUTE_TIMEOUT_NS goes to the next node.
 */
static void routes_stale(struct rs_world *w, struct rs_world_client *wc)
{
    if (!w->pd.enabled) {
        refresh_routes(w, wc);
        return;
    }
    if (wc->route_asked_ns != 0) {
        if (w->now_ns - wc->route_asked_ns < ROUTE_TIMEOUT_NS) {
            return;
        }
        wc->pd_guess = (wc->pd_guess + 1) % w->pd.node_count;
    }
    routes_parts_clear(wc);
    wc->route_request_id++;
    wc->route_asked_ns = w->now_ns > 0 ? w->now_ns : 1;
    uint8_t frame[64];
    RS_ASSERT(rs_pd_route_get_frame_size() <= sizeof frame);
    rs_pd_route_get_encode(wc->route_request_id, frame);
    send_message(w, wc->endpoint, w->pd.endpoint + wc->pd_guess, RS_PD_MSG_ROUTE_GET, frame,
                 rs_pd_route_get_frame_size());
    w->pd.route_requests++;
}

/* A part of the PD's table, kept until every part arrived. */
static void routes_part(struct rs_world_client *wc, const struct rs_pd_routes *part)
{
    size_t need = wc->route_region_count + part->region_count;
    if (need > wc->route_region_cap) {
        wc->route_region_cap = need * 2;
        wc->route_regions = reallocarray(wc->route_regions, wc->route_region_cap,
                                         sizeof *wc->route_regions);
        wc->route_leaders = reallocarray(wc->route_leaders, wc->route_region_cap,
                                         sizeof *wc->route_leaders);
        RS_ASSERT(wc->route_regions != NULL && wc->route_leaders != NULL);
    }
    for (uint32_t i = 0; i < part->region_count; i++) {
        const struct rs_pd_region *r = &part->regions[i];
        struct rs_region *dst = &wc->route_regions[wc->route_region_count];
        rs_region_init(dst, r->id, r->start, r->end);
        dst->epoch = r->epoch;
        wc->route_leaders[wc->route_region_count++] = r->leader;
    }
    wc->route_parts_seen |= 1ull << part->part_index;
}

/* The PD's whole table merged into the client's; the part in flight is looked up again. */
static void routes_install(struct rs_world *w, struct rs_world_client *wc)
{
    rs_route_merge(&wc->route, wc->route_regions, wc->route_leaders, wc->route_region_count);
    routes_parts_clear(wc);
    wc->route_asked_ns = 0;
    wc->target = NULL;
    w->pd.route_tables++;
}

/* A PD node's answer to a route request: a leader hint, or a part of the table. */
static void client_pd_recv(struct rs_world *w, struct rs_world_client *wc,
                           const struct rs_world_flight *f)
{
    rs_node_id leader;
    if (rs_pd_leader_decode(f->data, f->size, &leader) == RS_OK) {
        if (is_pd_endpoint(w, leader) && wc->route_asked_ns != 0) {
            wc->pd_guess = leader - w->pd.endpoint; /* ask the leader now */
            wc->route_asked_ns = 0;
            routes_stale(w, wc);
        }
        return;
    }
    struct rs_pd_routes *part = malloc(sizeof *part);
    RS_ASSERT(part != NULL);
    if (rs_pd_routes_decode(f->data, f->size, part) == RS_OK && wc->route_asked_ns != 0 &&
        part->request_id == wc->route_request_id && part->part_count <= 64 &&
        (wc->route_parts_seen >> part->part_index & 1u) == 0) {
        routes_part(wc, part);
        if (wc->route_parts_seen == (part->part_count == 64 ? UINT64_MAX
                                                             : (1ull << part->part_count) - 1)) {
            routes_install(w, wc);
        }
    }
    free(part);
}

/* An answer from a store: out of its envelope, the region's epoch noted, into the client. */
static void client_recv(struct rs_world *w, struct rs_world_client *wc,
                        const struct rs_world_flight *f)
{
    if (is_pd_endpoint(w, f->from)) {
        client_pd_recv(w, wc, f);
        return;
    }
    struct rs_envelope env;
    if (rs_envelope_decode(f->data, f->size, &env) != RS_OK || wc->target == NULL ||
        env.region_id != wc->target->region.id) {
        return; /* damaged, or about another operation: as if lost */
    }
    struct rs_region *r = &wc->target->region;
    if (env.epoch.version == r->epoch.version && env.epoch.conf_ver > r->epoch.conf_ver) {
        /* a membership change: same range, newer conf_ver */
        r->epoch.conf_ver = env.epoch.conf_ver;
    }
    struct rs_kv_response resp;
    if (rs_kv_response_frame_decode(env.inner, &resp) == RS_OK &&
        (resp.status == RS_EKEYRANGE ||
         (resp.status == RS_EEPOCH && env.epoch.version != r->epoch.version))) {
        /* a split moved the range: ask the PD again. NOREGION only says that store holds no
         * replica (regions on other stores): the client tries the next one. */
        routes_stale(w, wc);
    }
    struct rs_client_out out;
    rs_client_recv(&wc->client, w->now_ns, f->from, env.inner.data, env.inner.size, &out);
    drain_client(w, wc, &out);
}

static void on_client_start(struct rs_world *w, struct rs_world_client *wc)
{
    if (wc->stopped) {
        return;
    }
    uint64_t rate = w->cfg.workload.rate_per_s;
    if (rate > 0) {
        /* open loop: arrivals keep their pace; an arrival that finds the client busy is
         * skipped */
        uint64_t interval = (uint64_t)w->client_count * RS_NS_PER_S / rate;
        rs_evq_push(&w->evq, w->now_ns + (interval ? interval : 1), EV_CLIENT_START,
                    wc->endpoint, 0, NULL);
    }
    if (wc->busy) {
        return;
    }
    bool reader = (uint32_t)(wc - w->clients) < w->cfg.workload.reader_count;
    rs_workload_next(&w->workload, reader, &wc->op);
    /* encodes the list the parts are cut from, and stamps a lock's acquirer and clock */
    struct rs_kv_op whole;
    rs_workload_to_kv(&wc->op, w->now_ns / RS_NS_PER_MS, wc->client.cfg.client_id, &whole);
    wc->busy = true;
    wc->invoke_ns = w->now_ns;
    w->stats.ops_invoked++;
    split_begin(wc);
    struct rs_client_out out;
    if (start_next_part(w, wc, &out)) {
        drain_client(w, wc, &out);
    }
}

static void on_client_timer(struct rs_world *w, struct rs_world_client *wc, uint64_t gen)
{
    if (gen != wc->timer_gen) {
        return;
    }
    wc->timer_global_ns = UINT64_MAX;
    struct rs_client_out out;
    rs_client_tick(&wc->client, w->now_ns, &out);
    drain_client(w, wc, &out);
}

/* ---- network events ---- */

/* What a node has counted as corrupt so far (frames and raft messages). */
/* Corrupt frames a store (or one of its replicas) refused so far. */
static uint64_t corrupt_seen(const struct rs_store *s)
{
    uint64_t count = s->stats.corrupt_frames;
    for (size_t i = 0; i < s->replica_count; i++) {
        const struct rs_node *n = s->replicas[i];
        count += n->stats.corrupt_frames + n->raft.stats.corrupt_messages;
    }
    return count;
}

/* ---- the Placement Driver group ---- */

uint32_t rs_world_pd_endpoint(const struct rs_world *w)
{
    return w->pd.enabled ? w->pd.endpoint : 0;
}

/* New region ids: none after the heal, when the region table is fixed for the liveness
 * checks. */
static bool pd_split_gate(void *ctx)
{
    const struct rs_world *w = ctx;
    return !w->healed;
}

static void pd_trace(struct rs_world *w, const char *event, uint32_t node,
                     const struct rs_pd_instruction *in, enum rs_err result)
{
    uint64_t words[6] = {0x5044, name_hash(event), node, in ? in->region_id : 0,
                         in ? (uint64_t)in->kind : 0, (uint64_t)result};
    rs_trace_fold(w->trace, words, 6);
    if (!rs_trace_on(w->trace)) {
        return;
    }
    struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, "pd");
    rs_buf_printf(b, ",\"event\":\"%s\",\"node\":%u", event, node);
    if (in != NULL) {
        char text[RS_PD_REASON_SIZE + 128];
        rs_pd_instruction_format(in, text, sizeof text);
        rs_buf_puts(b, ",\"instruction\":");
        rs_buf_json_str(b, text, strlen(text));
        rs_buf_printf(b, ",\"result\":\"%s\"", rs_err_name(result));
    }
    rs_trace_end(w->trace);
}

static void pd_server_config(struct rs_world *w, struct rs_world_node *wn,
                             struct rs_pd_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->id = wn->id;
    cfg->member_count = w->pd.node_count;
    for (uint32_t i = 0; i < w->pd.node_count; i++) {
        cfg->members[i] = w->pd.endpoint + i;
    }
    cfg->raft = w->cfg.raft; /* the stores' timings; no planted bugs */
    /* one group whose followers hear from stores, not clients, so nothing would wake them */
    cfg->raft.hibernate = false;
    cfg->random_seed = rs_rng_next(&wn->rng);
    cfg->client_id = rs_rng_next(&wn->rng) | (1ull << 63); /* a new session per incarnation */
    struct rs_pd_service_config *sc = &cfg->service;
    sc->policy = w->pd.policy;
    sc->tick_ns = w->cfg.pd_tick_ns;
    sc->store_timeout_ns = 3 * w->cfg.pd_heartbeat_ns;
    sc->warmup_ns = 2 * w->cfg.pd_heartbeat_ns + w->cfg.pd_heartbeat_ns / 2;
    rs_pd_params_default(&sc->params);
    /* an instruction not seen carried out within six heartbeats is presumed lost (a cut, a
     * crashed leader): its region may get another one */
    sc->params.inflight_timeout_ns = 6 * w->cfg.pd_heartbeat_ns;
    if (w->cfg.pd_split_keys > 0) {
        sc->params.least_keys_on_split = w->cfg.pd_split_keys;
    }
    cfg->first_region_id = (uint64_t)w->boot_region_count + 1;
    cfg->split_gate = pd_split_gate;
    cfg->split_gate_ctx = w;
}

static void after_node_event(struct rs_world *w, struct rs_world_node *wn);

/* A PD node starts (or restarts) from its disk. */
static void pd_node_start(struct rs_world *w, struct rs_world_node *wn)
{
    RS_ASSERT(!wn->up && wn->pd_server == NULL);
    struct rs_pd_server_config cfg;
    pd_server_config(w, wn, &cfg);
    const char *names[RS_WORLD_FILES_MAX];
    struct rs_file_view views[RS_WORLD_FILES_MAX];
    size_t count = disk_views(wn, names, views);
    wn->pd_server = malloc(sizeof *wn->pd_server);
    RS_ASSERT(wn->pd_server != NULL);
    wn->up = true;
    wn->incarnation++;
    wn->timer_global_ns = UINT64_MAX;
    rs_pd_server_init(wn->pd_server, &cfg, node_local(wn, w->now_ns), views, count);
    wn->store = &wn->pd_server->store;
    rs_disk_recovered(&wn->disk);
    after_node_event(w, wn);
}

static void pd_counts_keep(struct rs_world *w, const struct rs_pd_server *srv)
{
    w->pd.id_blocks += srv->stats.id_blocks;
    w->pd.regions_saved += srv->stats.regions_saved;
    w->pd.routes_answered += srv->stats.routes_answered;
}

static void pd_node_crash(struct rs_world *w, struct rs_world_node *wn)
{
    RS_ASSERT(wn->up && wn->pd_server != NULL);
    pd_counts_keep(w, wn->pd_server);
    rs_pd_server_free(wn->pd_server);
    free(wn->pd_server);
    wn->pd_server = NULL;
    wn->store = NULL;
    wn->up = false;
    wn->down_since_ns = w->now_ns;
    wn->crashes++;
    disk_ops_clear(wn); /* operations not completed never happened */
    rs_disk_crash(&wn->disk);
    if (w->pd.leader == wn->id) {
        w->pd.leader = 0;
    }
    pd_trace(w, "crash", wn->id, NULL, RS_OK);
}

/* The PD node that leads the group, else the first that is up (NULL: all are down). */
static struct rs_world_node *pd_target(struct rs_world *w)
{
    struct rs_world_node *first = NULL;
    for (uint32_t i = 0; i < w->pd.node_count; i++) {
        struct rs_world_node *wn = &w->pd.nodes[i];
        if (wn->up && rs_pd_server_leads(wn->pd_server)) {
            return wn;
        }
        first = first == NULL && wn->up ? wn : first;
    }
    return first;
}

bool rs_world_pd_crash(struct rs_world *w)
{
    struct rs_world_node *wn = w->pd.enabled ? pd_target(w) : NULL;
    if (wn == NULL) {
        return false;
    }
    pd_node_crash(w, wn);
    w->pd.crashes++;
    return true;
}

/* Cuts the PD leader (or heals the cut) off from every other endpoint: stores, clients and
 * the other PD nodes, so the group elects another leader. */
bool rs_world_pd_isolate(struct rs_world *w, bool cut)
{
    if (!w->pd.enabled) {
        return false;
    }
    uint32_t node = w->pd.isolated;
    if (cut) {
        struct rs_world_node *wn = node == 0 ? pd_target(w) : NULL;
        if (wn == NULL) {
            return false;
        }
        node = wn->id;
    }
    if (node == 0) {
        return false;
    }
    uint32_t endpoints = w->pd.endpoint + w->pd.node_count;
    for (uint32_t id = 1; id < endpoints; id++) {
        if (id != node) {
            rs_net_block(&w->net, node, id, cut);
            rs_net_block(&w->net, id, node, cut);
        }
    }
    w->pd.isolated = cut ? node : 0;
    trace_fault(w, cut ? "pd-isolate" : "pd-unisolate", node, 0);
    return true;
}

void rs_world_pd_restart(struct rs_world *w)
{
    for (uint32_t i = 0; w->pd.enabled && i < w->pd.node_count; i++) {
        struct rs_world_node *wn = &w->pd.nodes[i];
        if (!wn->up) {
            w->pd.restarts++;
            pd_trace(w, "restart", wn->id, NULL, RS_OK);
            pd_node_start(w, wn);
        }
    }
}

/* After every event of a PD node: its instructions traced, its leadership noted, its effects
 * out. */
static void pd_after(struct rs_world *w, struct rs_world_node *wn)
{
    struct rs_pd_server *srv = wn->pd_server;
    for (size_t i = 0; i < srv->sent_count; i++) {
        pd_trace(w, "sent", srv->sent[i].to, &srv->sent[i].instruction, RS_OK);
    }
    w->pd.instructions_sent += srv->sent_count;
    rs_pd_server_clear_sent(srv);
    if (rs_pd_server_leads(srv) && w->pd.leader != wn->id) {
        w->pd.leader = wn->id;
        w->pd.leader_changes++;
        pd_trace(w, "leader", wn->id, NULL, RS_OK);
    }
    drain_node(w, wn);
}

/* What a store did with the PD's instructions since the last look: counted and traced. */
static void pd_store_log(struct rs_world *w, struct rs_world_node *wn)
{
    struct rs_store *s = wn->store;
    for (size_t i = 0; i < s->pd_log_count; i++) {
        const struct rs_store_pd_done *d = &s->pd_log[i];
        w->pd.executed += d->executed;
        w->pd.dropped += !d->executed;
        if (d->executed) {
            enum rs_pd_kind kind = d->instruction.kind;
            w->pd.transfers_executed += kind == RS_PD_TRANSFER_LEADER;
            if (kind == RS_PD_TRANSFER_LEADER && d->result == RS_OK) {
                mark(w, RS_WORLD_MARK_TRANSFER);
            }
            w->pd.splits_executed += kind == RS_PD_RANGE_SPLIT;
            w->pd.peer_changes_executed += kind == RS_PD_CHANGE_PEER;
        }
        pd_trace(w, d->executed ? "executed" : "dropped", wn->id, &d->instruction, d->result);
    }
    rs_store_pd_log_clear(s);
}

static void on_deliver(struct rs_world *w, struct rs_world_flight *f)
{
    uint64_t words[5] = {0x444c56, f->from, f->to, f->type, f->size};
    rs_trace_fold(w->trace, words, 5);
    bool up = rs_net_link_up(&w->net, f->from, f->to); /* a partition cuts messages in flight */
    bool node = is_node_endpoint(w, f->to);
    bool pd = is_pd_endpoint(w, f->to);
    bool alive = pd ? node_at(w, f->to)->up : (!node || w->nodes[f->to].up);
    if (rs_trace_on(w->trace)) {
        struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, up && alive ? "deliver" : "drop");
        rs_buf_printf(b, ",\"from\":%u,\"to\":%u,\"m\":\"%s\"", f->from, f->to,
                      rs_msg_type_name(f->type));
        if (f->corrupt) {
            rs_buf_puts(b, ",\"corrupt\":true");
        }
        rs_trace_end(w->trace);
    }
    if (up && alive && node) {
        struct rs_world_node *wn = &w->nodes[f->to];
        /* only for a corrupt copy: the count walks every replica of the store */
        uint64_t rejected = f->corrupt ? corrupt_seen(wn->store) : 0;
        rs_store_recv(wn->store, node_local(wn, w->now_ns), f->from, f->data, f->size);
        if (f->corrupt) {
            /* the frame checksum (or the message decoder) must have dropped it */
            bool caught = corrupt_seen(wn->store) > rejected;
            w->stats.corrupt_to_nodes++;
            w->stats.corrupt_rejected += caught;
            w->stats.corrupt_accepted += !caught;
        }
        after_node_event(w, wn);
    } else if (up && alive && pd) {
        struct rs_world_node *wn = node_at(w, f->to);
        w->pd.heartbeats += rs_pd_server_leads(wn->pd_server) &&
                            rs_pd_frame_type(f->data, f->size) == RS_PD_MSG_HEARTBEAT;
        rs_pd_server_recv(wn->pd_server, node_local(wn, w->now_ns), f->from, f->data, f->size);
        after_node_event(w, wn);
    } else if (up && !node && !pd) {
        client_recv(w, &w->clients[f->to - w->cfg.node_count - 1], f);
    }
    rs_pool_free(f);
}

/* ---- nemesis ---- */

uint32_t rs_world_region_leader(const struct rs_world *w, uint32_t region_index)
{
    uint32_t best = 0;
    rs_term best_term = 0;
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        const struct rs_node *n = rs_world_replica(w, id, region_index);
        if (n != NULL && n->raft.role == RS_LEADER && n->raft.term >= best_term) {
            best = id;
            best_term = n->raft.term;
        }
    }
    return best;
}

uint32_t rs_world_leader(const struct rs_world *w)
{
    return rs_world_region_leader(w, 0);
}

/* A fault line: what happened, to whom (a, b) and a value (v); all folded into the digest. */
static void trace_fault_v(struct rs_world *w, const char *what, uint32_t a, uint32_t b,
                          int64_t v)
{
    note_leader(w);
    uint64_t words[5] = {0x4641554c, a, b, name_hash(what), (uint64_t)v};
    rs_trace_fold(w->trace, words, 5);
    if (rs_trace_on(w->trace)) {
        struct rs_buf *buf = rs_trace_begin(w->trace, w->now_ns, "fault");
        rs_buf_printf(buf, ",\"what\":\"%s\",\"a\":%u,\"b\":%u", what, a, b);
        if (v != 0) {
            rs_buf_printf(buf, ",\"v\":%lld", (long long)v);
        }
        rs_trace_end(w->trace);
    }
}

static void trace_fault(struct rs_world *w, const char *what, uint32_t a, uint32_t b)
{
    trace_fault_v(w, what, a, b, 0);
}

static struct rs_world_node *world_node(struct rs_world *w, uint32_t node)
{
    RS_ASSERT(node >= 1 && node <= w->cfg.node_count);
    return &w->nodes[node];
}

void rs_world_wipe(struct rs_world *w, uint32_t node)
{
    struct rs_world_node *wn = world_node(w, node);
    rs_world_crash(w, node);
    rs_disk_wipe(&wn->disk);
    wn->corrupt_bits_armed = 0;
    /* A replaced disk keeps nothing, so the restart owes nothing to the durability check,
     * nor to what the old disk acknowledged. */
    checks_disk_lied(w, node);
    w->stats.wipes++;
    wn->joining = true;
    trace_fault(w, "wipe", node, 0);
    rs_world_restart(w, node);
}

void rs_world_pause(struct rs_world *w, uint32_t node)
{
    struct rs_world_node *wn = world_node(w, node);
    if (!wn->up || wn->paused) {
        return;
    }
    wn->paused = true;
    w->stats.pauses++;
    trace_fault(w, "pause", node, 0);
}

static void deferred_push(struct rs_world_deferred *q, const struct rs_event *ev)
{
    if (q->count == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        struct rs_event *a = malloc(cap * sizeof *a);
        RS_ASSERT(a != NULL);
        for (size_t i = 0; i < q->count; i++) {
            a[i] = q->events[(q->head + i) % q->cap];
        }
        free(q->events);
        q->events = a;
        q->cap = cap;
        q->head = 0;
    }
    q->events[(q->head + q->count++) % q->cap] = *ev;
}

void rs_world_resume(struct rs_world *w, uint32_t node)
{
    struct rs_world_node *wn = world_node(w, node);
    if (!wn->paused) {
        return;
    }
    wn->paused = false;
    struct rs_world_deferred *q = &wn->deferred;
    trace_fault_v(w, "resume", node, 0, (int64_t)q->count);
    /* Same time, pushed in order: the queue's sequence numbers keep the original order. */
    while (q->count > 0) {
        const struct rs_event *ev = &q->events[q->head];
        rs_evq_push(&w->evq, w->now_ns, ev->kind, ev->node, ev->arg, ev->ptr);
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
}

/* An event for a paused node waits for its resume. */
static bool defer_if_paused(struct rs_world *w, const struct rs_event *ev)
{
    bool for_node = ev->kind == EV_DELIVER || ev->kind == EV_NODE_TIMER ||
                    ev->kind == EV_DISK_DONE;
    if (!for_node || !is_node_endpoint(w, ev->node) || !w->nodes[ev->node].paused) {
        return false;
    }
    deferred_push(&w->nodes[ev->node].deferred, ev);
    w->stats.deferred_events++;
    return true;
}

void rs_world_isolate(struct rs_world *w, uint32_t node)
{
    rs_net_isolate(&w->net, node);
    trace_fault(w, "isolate", node, 0);
}

/* Node to node links only: clients keep reaching every node. */
static void cut_nodes(struct rs_world *w, uint32_t a, uint32_t b)
{
    rs_net_block(&w->net, a, b, true);
    rs_net_block(&w->net, b, a, true);
}

void rs_world_partition(struct rs_world *w, const uint8_t *side_by_node)
{
    uint32_t mask = 0;
    for (uint32_t a = 1; a <= w->cfg.node_count; a++) {
        mask |= (uint32_t)(side_by_node[a] != side_by_node[1]) << a;
        for (uint32_t b = a + 1; b <= w->cfg.node_count; b++) {
            if (side_by_node[a] != side_by_node[b]) {
                cut_nodes(w, a, b);
            }
        }
    }
    trace_fault(w, "partition", side_by_node[1], mask);
}

void rs_world_bridge(struct rs_world *w, uint32_t bridge)
{
    uint32_t n = w->cfg.node_count;
    RS_ASSERT(bridge >= 1 && bridge <= n);
    uint32_t first_half = n / 2; /* of the n - 1 others, the larger half first */
    uint8_t half[RS_WORLD_NODES_MAX + 1] = {0};
    uint32_t seen = 0;
    for (uint32_t id = 1; id <= n; id++) {
        if (id != bridge) {
            half[id] = seen++ < first_half ? 1 : 2;
        }
    }
    for (uint32_t a = 1; a <= n; a++) {
        for (uint32_t b = a + 1; b <= n; b++) {
            if (half[a] != 0 && half[b] != 0 && half[a] != half[b]) {
                cut_nodes(w, a, b);
            }
        }
    }
    trace_fault(w, "bridge", bridge, 0);
}

void rs_world_ring(struct rs_world *w)
{
    uint32_t n = w->cfg.node_count;
    for (uint32_t a = 1; a <= n; a++) {
        for (uint32_t b = a + 1; b <= n; b++) {
            bool neighbours = b == a + 1 || (a == 1 && b == n);
            if (!neighbours) {
                cut_nodes(w, a, b);
            }
        }
    }
    trace_fault(w, "ring", n, 0);
}

void rs_world_one_way(struct rs_world *w, uint32_t from, uint32_t to)
{
    rs_net_block(&w->net, from, to, true);
    trace_fault(w, "one-way", from, to);
}

void rs_world_heal_partitions(struct rs_world *w)
{
    w->pd.isolated = 0;
    rs_net_heal(&w->net);
    trace_fault(w, "heal-partitions", 0, 0);
}

void rs_world_heal_network(struct rs_world *w)
{
    w->pd.isolated = 0;
    rs_net_heal(&w->net);
    rs_net_clear_filters(&w->net);
    rs_net_unclog_all(&w->net);
    release_held(w);
    trace_fault(w, "heal", 0, 0);
}

/* Calls fn for every link from -> to, RS_WORLD_ANY standing for every endpoint. */
#define FOR_LINKS(w, from, to, src, dst)                                                    \
    for (uint32_t src = (from) == RS_WORLD_ANY ? 1 : (from);                                \
         src <= ((from) == RS_WORLD_ANY ? (w)->net.endpoint_count - 1 : (from)); src++)     \
        for (uint32_t dst = (to) == RS_WORLD_ANY ? 1 : (to);                                \
             dst <= ((to) == RS_WORLD_ANY ? (w)->net.endpoint_count - 1 : (to)); dst++)

void rs_world_clog(struct rs_world *w, uint32_t from, uint32_t to, bool clogged)
{
    FOR_LINKS(w, from, to, src, dst)
    {
        if (src != dst) {
            rs_net_clog(&w->net, src, dst, clogged);
        }
    }
    if (!clogged) {
        release_held(w);
    }
    trace_fault(w, clogged ? "clog" : "unclog", from, to);
}

void rs_world_clog_node(struct rs_world *w, uint32_t node, bool clogged)
{
    RS_ASSERT(is_node_endpoint(w, node));
    for (uint32_t e = 1; e < w->net.endpoint_count; e++) {
        if (e != node) {
            rs_net_clog(&w->net, node, e, clogged);
            rs_net_clog(&w->net, e, node, clogged);
        }
    }
    if (!clogged) {
        release_held(w);
    }
    trace_fault(w, clogged ? "clog-node" : "unclog-node", node, 0);
}

void rs_world_filter(struct rs_world *w, uint32_t from, uint32_t to, uint64_t types, bool drop)
{
    FOR_LINKS(w, from, to, src, dst)
    {
        rs_net_filter(&w->net, src, dst, types, drop);
    }
    trace_fault_v(w, drop ? "filter" : "unfilter", from, to, (int64_t)types);
}

void rs_world_bandwidth(struct rs_world *w, uint32_t from, uint32_t to, uint64_t bytes_per_s)
{
    FOR_LINKS(w, from, to, src, dst)
    {
        rs_net_set_bandwidth(&w->net, src, dst, bytes_per_s);
    }
    trace_fault_v(w, "bandwidth", from, to, (int64_t)bytes_per_s);
}

void rs_world_set_link_params(struct rs_world *w, const struct rs_link_params *p)
{
    rs_net_set_all(&w->net, p);
    trace_fault(w, "link-params", p->loss_ppm, p->dup_ppm);
}

void rs_world_disk_faults(struct rs_world *w, uint32_t node, const struct rs_disk_faults *f)
{
    struct rs_world_node *wn = world_node(w, node);
    RS_ASSERT(rs_disk_set_faults(&wn->disk, f) == RS_OK);
    note_leader(w);
    uint64_t words[8] = {0x44464c54,         node,         f->write_error_ppm, f->sync_error_ppm,
                         f->fail_next,       f->dead,      f->capacity_bytes,  f->slow_factor};
    rs_trace_fold(w->trace, words, 8);
    if (rs_trace_on(w->trace)) {
        struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, "fault");
        rs_buf_printf(b,
                      ",\"what\":\"disk-faults\",\"a\":%u,\"write_ppm\":%u,\"sync_ppm\":%u,"
                      "\"next\":%u,\"dead\":%s,\"capacity\":%llu,\"slow\":%u",
                      node, f->write_error_ppm, f->sync_error_ppm, f->fail_next,
                      f->dead ? "true" : "false", (unsigned long long)f->capacity_bytes,
                      f->slow_factor);
        rs_trace_end(w->trace);
    }
}

void rs_world_corrupt_disk(struct rs_world *w, uint32_t node, uint32_t bits,
                           bool unsynced_only)
{
    struct rs_world_node *wn = world_node(w, node);
    wn->corrupt_bits_armed = bits;
    wn->corrupt_unsynced_only = unsynced_only;
    trace_fault_v(w, "disk-corrupt", node, unsynced_only, bits);
}

bool rs_world_node_errored(const struct rs_world *w, uint32_t node)
{
    const struct rs_world_node *wn = &w->nodes[node];
    if (!wn->up) {
        return false;
    }
    for (size_t i = 0; i < wn->store->replica_count; i++) {
        if (wn->store->replicas[i]->raft.role == RS_ERROR_STATE) {
            return true;
        }
    }
    return false;
}

bool rs_world_disk_faulty(const struct rs_world *w, uint32_t node)
{
    const struct rs_disk_faults *f = &w->nodes[node].disk.faults;
    bool injecting = f->dead || f->fail_next > 0 || f->write_error_ppm > 0 ||
                     f->sync_error_ppm > 0 || f->capacity_bytes > 0;
    return injecting || w->nodes[node].corrupt_bits_armed > 0 || rs_world_node_errored(w, node);
}

void rs_world_set_drift(struct rs_world *w, uint32_t node, int32_t drift_ppm)
{
    struct rs_world_node *wn = world_node(w, node);
    RS_ASSERT(rs_clock_set_drift(&wn->clock, w->now_ns, drift_ppm) == RS_OK);
    if (wn->up) {
        /* the pending timer event was placed with the old rate: place it again */
        wn->timer_gen++;
        wn->timer_global_ns = UINT64_MAX;
        schedule_node_timer(w, wn);
    }
    trace_fault_v(w, "drift", node, 0, drift_ppm);
}

void rs_world_wall_step(struct rs_world *w, uint32_t node, int64_t delta_ns)
{
    rs_clock_wall_step(&world_node(w, node)->clock, delta_ns);
    trace_fault_v(w, "clock-jump", node, 0, delta_ns);
}

/* ---- learners catch up after the heal ---- */

/*
 * Remembers what the learners must reach, the highest commit index of a running replica (the
 * leader's, unless the leader is stale), and when. A bound at least as long as the liveness
 * bound is judged at the liveness deadline, just before the convergence check, so that a
 * lagging learner is named rather than reported as "not converged".
 */
static void learner_catchup_arm(struct rs_world *w)
{
    RS_ASSERT(w->healed);
    free(w->heal_commits);
    w->heal_commits = calloc(w->region_count, sizeof *w->heal_commits);
    RS_ASSERT(w->heal_commits != NULL);
    for (uint32_t i = 0; i < w->region_count; i++) {
        for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
            const struct rs_node *n = rs_world_replica(w, id, i);
            if (n != NULL && n->raft.commit_index > w->heal_commits[i]) {
                w->heal_commits[i] = n->raft.commit_index;
            }
        }
    }
    w->heal_commit_count = w->region_count;
    w->heal_commit_index = w->heal_commits[0];
    uint64_t bound = w->cfg.learner_catchup_ns;
    if (bound == 0 || bound > w->cfg.liveness_ns) {
        bound = w->cfg.liveness_ns; /* the run ends there: later would never be checked */
    }
    rs_evq_push(&w->evq, w->now_ns + bound, EV_LEARNER_DEADLINE, 0, 0, NULL);
}

/* The replica whose configuration says who the learners are: the leader, or with none the
 * running replica with the highest commit index (the lowest id among equals). */
static const struct rs_raft *learner_reference(const struct rs_world *w, uint32_t index)
{
    uint32_t leader = rs_world_region_leader(w, index);
    if (leader != 0) {
        return &rs_world_replica(w, leader, index)->raft;
    }
    const struct rs_raft *best = NULL;
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        const struct rs_node *n = rs_world_replica(w, id, index);
        if (n != NULL && (best == NULL || n->raft.commit_index > best->commit_index)) {
            best = &n->raft;
        }
    }
    return best;
}

/* The learners-catch-up check (checks.c judges): skipped in unrestricted mode, where nothing
 * promises that the group can make progress after the heal. */
static void region_learners_check(struct rs_world *w, uint32_t index);

static void learner_catchup_check(struct rs_world *w)
{
    RS_ASSERT(w->healed);
    for (uint32_t i = 0; i < w->region_count && w->checks.failed == RS_CHECK_NONE; i++) {
        region_learners_check(w, i);
    }
}

/* The check for one region (created before the heal: later ones have no heal-time index). */
static void region_learners_check(struct rs_world *w, uint32_t index)
{
    const struct rs_raft *ref = learner_reference(w, index);
    if (w->cfg.liveness_unchecked || ref == NULL) {
        return;
    }
    struct rs_check_learner learners[RS_CONF_LEARNERS_MAX];
    uint32_t count = 0;
    for (uint32_t i = 0; i < ref->conf.learner_count && count < RS_CONF_LEARNERS_MAX; i++) {
        rs_node_id id = ref->conf.learners[i];
        const struct rs_world_node *wn = id <= w->cfg.node_count ? &w->nodes[id] : NULL;
        bool up = wn != NULL && wn->up;
        const struct rs_node *n = up ? rs_world_replica(w, id, index) : NULL;
        learners[count++] = (struct rs_check_learner){
            .id = id, .up = n != NULL, .applied_index = n != NULL ? n->raft.applied_index : 0};
    }
    if (index >= w->heal_commit_count) {
        return; /* made by a split after the heal: nothing was promised for it */
    }
    rs_index target = w->heal_commits[index];
    rs_checks_learners_caught_up(&w->checks, w->now_ns, w->now_ns - w->heal_ns, target,
                                 learners, count);
}

void rs_world_heal_all(struct rs_world *w)
{
    w->healed = true;
    w->heal_ns = w->now_ns;
    struct rs_link_params p = w->cfg.net;
    p.loss_ppm = 0;
    p.dup_ppm = 0;
    p.reorder_ppm = 0;
    p.tail_ppm = 0;
    p.corrupt_ppm = 0;
    rs_net_set_all(&w->net, &p);
    FOR_LINKS(w, RS_WORLD_ANY, RS_WORLD_ANY, src, dst)
    {
        rs_net_set_bandwidth(&w->net, src, dst, 0);
    }
    rs_world_heal_network(w);
    static const struct rs_disk_faults healthy = {0};
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        struct rs_world_node *wn = &w->nodes[id];
        rs_world_resume(w, id);
        RS_ASSERT(rs_disk_set_faults(&wn->disk, &healthy) == RS_OK);
        wn->corrupt_bits_armed = 0;
        if (rs_world_node_errored(w, id)) {
            rs_world_crash(w, id); /* an errored replica recovers only through a restart */
        }
        rs_world_restart(w, id);
    }
    rs_world_pd_restart(w);
    for (uint32_t c = 0; c < w->client_count; c++) {
        w->clients[c].stopped = true; /* no new operations; the pending ones finish */
    }
    trace_fault(w, "heal-all", 0, 0);
    learner_catchup_arm(w); /* before the liveness deadline: at the same time it goes first */
    rs_evq_push(&w->evq, w->now_ns + w->cfg.liveness_ns, EV_LIVENESS_DEADLINE, 0, 0, NULL);
}

void rs_world_at(struct rs_world *w, uint64_t time_ns, uint64_t arg)
{
    rs_evq_push(&w->evq, time_ns, EV_NEMESIS, 0, arg, NULL);
}

/* ---- liveness ---- */

/* After the heal: a leader, no pending client operation, every replica at the leader's commit
 * index with the same state digest. Returns NULL when converged, else what is missing. */
static const char *region_gap(const struct rs_world *w, uint32_t index)
{
    uint32_t leader = rs_world_region_leader(w, index);
    if (leader == 0) {
        return "no leader";
    }
    const struct rs_node *ln = rs_world_replica(w, leader, index);
    const struct rs_raft *lr = &ln->raft;
    if (lr->commit_index != rs_log_last_index(&lr->log)) {
        return "the leader has uncommitted entries";
    }
    uint64_t digest = rs_kv_digest(&ln->kv);
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        if (!rs_conf_is_member(&lr->conf, id)) {
            continue; /* not (or no longer) in the group: nothing to converge */
        }
        const struct rs_node *n = rs_world_replica(w, id, index);
        if (n == NULL || n->raft.applied_index != lr->commit_index) {
            return "replicas have not applied the leader's commit index";
        }
        if (rs_kv_digest(&n->kv) != digest) {
            return "replica state digests differ";
        }
    }
    return NULL;
}

static const char *convergence_gap(const struct rs_world *w)
{
    for (uint32_t c = 0; c < w->client_count; c++) {
        if (w->clients[c].busy) {
            return "client operations still pending";
        }
    }
    for (uint32_t i = 0; i < w->region_count; i++) {
        if (!region_created(&w->regions[i])) {
            continue; /* a split that was proposed and never applied */
        }
        const char *gap = region_gap(w, i);
        if (gap != NULL) {
            return gap;
        }
    }
    bool pd_serving = !w->pd.enabled;
    for (uint32_t i = 0; !pd_serving && i < w->pd.node_count; i++) {
        pd_serving = w->pd.nodes[i].up && rs_pd_server_leads(w->pd.nodes[i].pd_server);
    }
    return pd_serving ? NULL : "no PD node serves (the PD group has no leader)";
}

/* One line of every node's raft state, for liveness reports. */
static void describe_nodes(const struct rs_world *w, char *out, size_t size)
{
    size_t at = 0;
    out[0] = '\0';
    for (uint32_t id = 1; id <= w->cfg.node_count && at < size; id++) {
        const struct rs_world_node *wn = &w->nodes[id];
        if (!wn->up) {
            at += (size_t)snprintf(out + at, size - at, "%sn%u down", id > 1 ? ", " : "", id);
            continue;
        }
        const struct rs_node *n = rs_world_replica(w, id, 0);
        if (n == NULL) {
            at += (size_t)snprintf(out + at, size - at, "%sn%u hosts no replica of region 1",
                                   id > 1 ? ", " : "", id);
            continue;
        }
        const struct rs_raft *r = &n->raft;
        at += (size_t)snprintf(out + at, size - at,
                               "%sn%u %s term %llu last %llu durable %llu commit %llu applied %llu",
                               id > 1 ? ", " : "", id, rs_role_name(r->role),
                               (unsigned long long)r->term,
                               (unsigned long long)rs_log_last_index(&r->log),
                               (unsigned long long)r->durable_index,
                               (unsigned long long)r->commit_index,
                               (unsigned long long)r->applied_index);
    }
}

/* ---- the loop ---- */

static void mark(struct rs_world *w, enum rs_world_mark_kind kind)
{
    if (w->mark_count == w->mark_cap) {
        w->mark_cap = w->mark_cap ? w->mark_cap * 2 : 64;
        w->marks = reallocarray(w->marks, w->mark_cap, sizeof *w->marks);
        RS_ASSERT(w->marks != NULL);
    }
    w->marks[w->mark_count++] = (struct rs_world_mark){.time_ns = w->now_ns, .kind = kind};
}

/* What a store's live replicas have counted so far (lost at a crash: see counts_keep). */
static struct rs_world_counts live_counts(const struct rs_world_node *wn)
{
    struct rs_world_counts c = {0};
    if (!wn->up) {
        return c;
    }
    const struct rs_store *s = wn->store;
    for (size_t i = 0; i < s->replica_count; i++) {
        const struct rs_node *n = s->replicas[i];
        c.reads += n->stats.reads_answered;
        c.writes += n->stats.writes_answered;
        c.snapshot_bytes += n->raft.stats.snapshot_bytes_sent;
    }
    c.reads += s->stats.retired_reads_answered; /* of replicas destroyed here */
    c.writes += s->stats.retired_writes_answered;
    c.snapshot_bytes += s->stats.retired_snapshot_bytes_sent;
    c.replicas_added = s->stats.created_on_demand;
    c.splits = s->stats.splits;
    c.replicas_destroyed = s->stats.replicas_destroyed;
    c.replicas_revived = s->stats.replicas_revived;
    c.tombstone_refusals = s->stats.tombstone_refusals;
    return c;
}

/* Before a store goes away: its counters join the node's running totals. */
static void counts_keep(struct rs_world_node *wn)
{
    struct rs_world_counts c = live_counts(wn);
    wn->counted.reads += c.reads;
    wn->counted.writes += c.writes;
    wn->counted.snapshot_bytes += c.snapshot_bytes;
    wn->counted.replicas_added += c.replicas_added;
    wn->counted.splits += c.splits;
    wn->counted.replicas_destroyed += c.replicas_destroyed;
    wn->counted.replicas_revived += c.replicas_revived;
    wn->counted.tombstone_refusals += c.tombstone_refusals;
}

/*
 * Region replicas per store by the configurations in force: the leader's, or with no leader
 * the most advanced replica's. A replica's own configuration is no guide: one removed from its
 * region may not hear of it (its leader stops replicating to it) and stays until its store
 * destroys it (core/store/store.c).
 */
static void count_members(const struct rs_world *w, uint32_t *members)
{
    for (uint32_t i = 0; i < w->region_count; i++) {
        if (!region_created(&w->regions[i])) {
            continue;
        }
        const struct rs_node *ref = NULL;
        uint32_t leader = rs_world_region_leader(w, i);
        for (uint32_t id = 1; leader == 0 && id <= w->cfg.node_count; id++) {
            const struct rs_node *n = rs_world_replica(w, id, i);
            if (n != NULL && (ref == NULL || n->raft.applied_index > ref->raft.applied_index)) {
                ref = n;
            }
        }
        ref = leader != 0 ? rs_world_replica(w, leader, i) : ref;
        for (uint32_t id = 1; ref != NULL && id <= w->cfg.node_count; id++) {
            members[id] += rs_conf_is_member(&ref->raft.conf, id);
        }
    }
}

/* One row per store: gauges now, counters since the last sample. */
static void sample_stores(struct rs_world *w)
{
    uint32_t members[RS_WORLD_NODES_MAX + 1] = {0};
    count_members(w, members);
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        struct rs_world_node *wn = &w->nodes[id];
        struct rs_world_counts live = live_counts(wn);
        struct rs_world_counts total = {
            .reads = wn->counted.reads + live.reads,
            .writes = wn->counted.writes + live.writes,
            .leader_gains = wn->leader_gains,
            .replicas_added = wn->counted.replicas_added + live.replicas_added,
            .snapshot_bytes = wn->counted.snapshot_bytes + live.snapshot_bytes,
            .splits = wn->counted.splits + live.splits,
        };
        struct rs_world_sample row = {
            .time_ns = w->now_ns,
            .store = id,
            .up = wn->up,
            .regions = members[id],
            .reads = total.reads - wn->sampled.reads,
            .writes = total.writes - wn->sampled.writes,
            .leader_gains = total.leader_gains - wn->sampled.leader_gains,
            .replicas_added = total.replicas_added - wn->sampled.replicas_added,
            .snapshot_bytes = total.snapshot_bytes - wn->sampled.snapshot_bytes,
            .splits = total.splits - wn->sampled.splits,
        };
        wn->sampled = total;
        for (size_t i = 0; wn->up && i < wn->store->replica_count; i++) {
            const struct rs_node *n = wn->store->replicas[i];
            row.leaders += n->raft.role == RS_LEADER;
            (void)n->initialized; /* regions: counted from the leaders' configurations */
            row.keys += rs_kv_key_count(&n->kv);
            row.bytes += rs_kv_key_bytes(&n->kv) + rs_kv_value_bytes(&n->kv);
        }
        if (w->sample_count == w->sample_cap) {
            w->sample_cap = w->sample_cap ? w->sample_cap * 2 : 256;
            w->samples = reallocarray(w->samples, w->sample_cap, sizeof *w->samples);
            RS_ASSERT(w->samples != NULL);
        }
        w->samples[w->sample_count++] = row;
    }
}

static void dispatch(struct rs_world *w, const struct rs_event *ev)
{
    if (defer_if_paused(w, ev)) {
        return;
    }
    switch (ev->kind) {
    case EV_DELIVER: on_deliver(w, ev->ptr); return;
    case EV_NODE_TIMER: on_node_timer(w, node_at(w, ev->node), ev->arg); return;
    case EV_DISK_DONE: on_disk_done(w, node_at(w, ev->node), ev->arg); return;
    case EV_CLIENT_TIMER:
        on_client_timer(w, &w->clients[ev->node - w->cfg.node_count - 1], ev->arg);
        return;
    case EV_CLIENT_START:
        on_client_start(w, &w->clients[ev->node - w->cfg.node_count - 1]);
        return;
    case EV_NEMESIS:
        if (w->on_nemesis != NULL && !w->healed) {
            w->on_nemesis(w->on_nemesis_ctx, w, ev->arg);
        }
        return;
    case EV_HEAL: rs_world_heal_all(w); return;
    case EV_SAMPLE:
        sample_stores(w);
        rs_evq_push(&w->evq, w->now_ns + w->cfg.sample_ns, EV_SAMPLE, 0, 0, NULL);
        return;
    case EV_LEARNER_DEADLINE: learner_catchup_check(w); return;
    case EV_LIVENESS_DEADLINE: {
        const char *gap = convergence_gap(w);
        if (gap != NULL && !w->cfg.liveness_unchecked) {
            char state[320];
            describe_nodes(w, state, sizeof state);
            rs_checks_fail(&w->checks, w->now_ns, RS_CHECK_LIVENESS,
                           "not converged %llu ms after the faults healed: %s; %s",
                           (unsigned long long)(w->cfg.liveness_ns / RS_NS_PER_MS), gap, state);
        }
        w->stopped = true;
        return;
    }
    default: RS_UNREACHABLE();
    }
}

void rs_world_run_until(struct rs_world *w, uint64_t time_ns)
{
    struct rs_event ev;
    while (!w->stopped && rs_evq_peek(&w->evq, &ev) && ev.time_ns <= time_ns) {
        rs_evq_pop(&w->evq, &ev);
        RS_ASSERT(ev.time_ns >= w->now_ns);
        w->now_ns = ev.time_ns;
        w->stats.events++;
        /* A nemesis event folds through the faults it causes, so that a schedule.scn replay
         * (which has no events for steps that did nothing) keeps the digest. */
        if (ev.kind != EV_NEMESIS) {
            uint64_t words[3] = {ev.time_ns, ev.kind, ev.node};
            rs_trace_fold(w->trace, words, 3);
        }
        dispatch(w, &ev);
        if (w->checks.failed != RS_CHECK_NONE) {
            w->stopped = true;
        } else if (w->healed && w->converged_ns == 0 && convergence_gap(w) == NULL) {
            w->converged_ns = w->now_ns;
            w->stopped = true;
        }
    }
}

void rs_world_start(struct rs_world *w)
{
    rs_evq_push(&w->evq, w->cfg.fault_phase_ns, EV_HEAL, 0, 0, NULL);
    if (w->cfg.sample_ns > 0) {
        rs_evq_push(&w->evq, w->cfg.sample_ns, EV_SAMPLE, 0, 0, NULL);
    }
}

bool rs_world_done(const struct rs_world *w)
{
    return w->stopped || rs_evq_size(&w->evq) == 0;
}

void rs_world_run(struct rs_world *w)
{
    rs_world_start(w);
    rs_world_run_until(w, UINT64_MAX);
}

/* ---- set-up ---- */

static void init_nodes(struct rs_world *w)
{
    struct rs_rng clock_rng;
    rs_rng_derive(&clock_rng, w->cfg.seed, "clocks");
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        struct rs_world_node *wn = &w->nodes[id];
        wn->id = id;
        int64_t span = (int64_t)w->cfg.drift_ppm_max - w->cfg.drift_ppm_min;
        int32_t drift = w->cfg.drift_ppm_min + (int32_t)rs_rng_below(&clock_rng,
                                                                      (uint64_t)span + 1);
        uint64_t offset = rs_rng_range(&clock_rng, w->cfg.offset_ns_min, w->cfg.offset_ns_max);
        RS_ASSERT(rs_clock_init(&wn->clock, (int64_t)offset, drift) == RS_OK);
        RS_ASSERT(rs_disk_init(&wn->disk, &w->cfg.disk, w->cfg.seed, id) == RS_OK);
        rs_rng_derive_idx(&wn->rng, w->cfg.seed, "node", id);
        rs_rng_derive_idx(&wn->corrupt_rng, w->cfg.seed, "bit-rot", id);
        wn->timer_global_ns = UINT64_MAX;
    }
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        node_start(w, &w->nodes[id]);
    }
}

/* The PD nodes: their own clocks (no drift: the stores' skew is what scenarios vary), disks
 * and seeds; they start before the stores. */
static void init_pd_nodes(struct rs_world *w)
{
    for (uint32_t i = 0; w->pd.enabled && i < w->pd.node_count; i++) {
        struct rs_world_node *wn = &w->pd.nodes[i];
        wn->id = w->pd.endpoint + i;
        RS_ASSERT(rs_clock_init(&wn->clock, 0, 0) == RS_OK);
        RS_ASSERT(rs_disk_init(&wn->disk, &w->cfg.disk, w->cfg.seed, wn->id) == RS_OK);
        rs_rng_derive_idx(&wn->rng, w->cfg.seed, "pd-node", i + 1);
        wn->timer_global_ns = UINT64_MAX;
    }
    for (uint32_t i = 0; w->pd.enabled && i < w->pd.node_count; i++) {
        pd_node_start(w, &w->pd.nodes[i]);
    }
}

/* The regions every store starts with, ids 1..region_count in key order, each with checks. */
/* A new region slot (id region_count + 1), with its checks; not created until a replica
 * applies the split that makes it. */
static uint32_t region_add(struct rs_world *w, const struct rs_region *r)
{
    if (w->region_count == w->region_cap) {
        w->region_cap = w->region_cap ? w->region_cap * 2 : 8;
        w->regions = reallocarray(w->regions, w->region_cap, sizeof *w->regions);
        w->region_checks = reallocarray(w->region_checks, w->region_cap,
                                        sizeof *w->region_checks);
        RS_ASSERT(w->regions != NULL && w->region_checks != NULL);
    }
    uint32_t i = w->region_count++;
    RS_ASSERT(r->id == i + 1);
    rs_region_copy(&w->regions[i], r);
    if (i == 0) {
        w->region_checks[i] = &w->checks;
    } else {
        w->region_checks[i] = malloc(sizeof *w->region_checks[i]);
        RS_ASSERT(w->region_checks[i] != NULL);
        rs_checks_init(w->region_checks[i]);
    }
    return i;
}

static void init_regions(struct rs_world *w)
{
    const struct rs_world_config *cfg = &w->cfg;
    w->boot_region_count = cfg->regions != NULL ? cfg->region_count : 1;
    w->boot_regions = calloc(w->boot_region_count, sizeof *w->boot_regions);
    RS_ASSERT(w->boot_regions != NULL);
    for (uint32_t i = 0; i < w->boot_region_count; i++) {
        if (cfg->regions != NULL) {
            rs_region_copy(&w->boot_regions[i], &cfg->regions[i]);
        } else {
            rs_region_init(&w->boot_regions[i], 1, (struct rs_bytes){NULL, 0},
                           (struct rs_bytes){NULL, 0});
        }
        region_add(w, &w->boot_regions[i]);
    }
    if (cfg->region_confs != NULL) {
        w->boot_confs = calloc(w->boot_region_count, sizeof *w->boot_confs);
        RS_ASSERT(w->boot_confs != NULL);
        memcpy(w->boot_confs, cfg->region_confs, w->boot_region_count * sizeof *w->boot_confs);
    }
    if (cfg->region_rafts != NULL) {
        w->boot_rafts = calloc(w->boot_region_count, sizeof *w->boot_rafts);
        RS_ASSERT(w->boot_rafts != NULL);
        memcpy(w->boot_rafts, cfg->region_rafts, w->boot_region_count * sizeof *w->boot_rafts);
    }
    w->cfg.regions = NULL; /* the copies above are the world's own */
    w->cfg.region_confs = NULL;
    w->cfg.region_rafts = NULL;
}

static void init_clients(struct rs_world *w)
{
    const struct rs_workload_config *wl = &w->cfg.workload;
    w->client_count = wl->client_count;
    w->clients = calloc(w->client_count ? w->client_count : 1, sizeof *w->clients);
    RS_ASSERT(w->clients != NULL);
    struct rs_rng rng;
    rs_rng_derive(&rng, w->cfg.seed, "clients");
    for (uint32_t c = 0; c < w->client_count; c++) {
        struct rs_world_client *wc = &w->clients[c];
        struct rs_client_config cfg = {
            .client_id = c + 1,
            .node_count = w->cfg.node_count,
            .request_timeout_ns = wl->request_timeout_ns,
            .op_timeout_ns = wl->op_timeout_ns,
            .random_seed = rs_rng_next(&rng),
        };
        rs_client_init(&wc->client, &cfg);
        rs_route_init(&wc->route, w->regions, w->region_count);
        wc->endpoint = rs_world_endpoint_of_client(w, c);
        wc->process = w->next_process++;
        wc->timer_global_ns = UINT64_MAX;
        /* stagger the first operations a little so clients do not move in lockstep */
        uint64_t start = 10 * RS_NS_PER_MS + rs_rng_below(&rng, 10 * RS_NS_PER_MS);
        rs_evq_push(&w->evq, start, EV_CLIENT_START, wc->endpoint, 0, NULL);
    }
}

enum rs_err rs_world_init(struct rs_world *w, const struct rs_world_config *cfg,
                          struct rs_trace *trace)
{
    memset(w, 0, sizeof *w);
    w->cfg = *cfg;
    w->trace = trace;
    RS_ASSERT(cfg->node_count >= 1 && cfg->node_count <= RS_WORLD_NODES_MAX);
    RS_ASSERT(cfg->workload.client_count <= RS_WORLD_CLIENTS_MAX);
    rs_evq_init(&w->evq);
    rs_checks_init(&w->checks);
    init_regions(w);
    uint32_t endpoints = cfg->node_count + 1 + cfg->workload.client_count;
    if (cfg->pd_policy != NULL && strcmp(cfg->pd_policy, "none") != 0) {
        uint32_t handlers[RS_PD_HANDLERS_MAX];
        size_t handler_count = 0;
        if (rs_pd_policy_parse(cfg->pd_policy, handlers, &handler_count, NULL, 0) != RS_OK ||
            cfg->pd_heartbeat_ns == 0 || strlen(cfg->pd_policy) >= sizeof w->pd.policy) {
            return RS_EINVAL;
        }
        memcpy(w->pd.policy, cfg->pd_policy, strlen(cfg->pd_policy) + 1);
        w->pd.enabled = true;
        w->pd.node_count = cfg->pd_node_count > 0 ? cfg->pd_node_count : 1;
        if (w->pd.node_count > RS_PD_SERVER_NODES_MAX) {
            return RS_EINVAL;
        }
        w->pd.endpoint = endpoints; /* after the clients: their endpoints stay as they were */
        endpoints += w->pd.node_count;
    }
    w->cfg.pd_policy = NULL; /* the caller's text: the service copies what it needs */
    enum rs_err err = rs_net_init(&w->net, endpoints, &cfg->net, cfg->seed);
    if (err != RS_OK) {
        return err;
    }
    if (cfg->workload.client_count > 0) {
        err = rs_workload_init(&w->workload, &cfg->workload, cfg->seed);
        if (err != RS_OK) {
            return err;
        }
    }
    rs_rng_derive(&w->nemesis_rng, cfg->seed, "nemesis");
    init_pd_nodes(w);
    init_nodes(w);
    init_clients(w);
    return RS_OK;
}

void rs_world_free(struct rs_world *w)
{
    struct rs_event ev;
    while (rs_evq_pop(&w->evq, &ev)) {
        if (ev.kind == EV_DELIVER) {
            rs_pool_free(ev.ptr);
        }
    }
    while (w->held_head != NULL) {
        struct rs_world_flight *f = w->held_head;
        w->held_head = f->next;
        rs_pool_free(f);
    }
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        struct rs_world_node *wn = &w->nodes[id];
        deferred_drop(wn);
        free(wn->deferred.events);
        if (wn->up) {
            rs_store_free(wn->store);
            free(wn->store);
        }
        disk_ops_clear(wn);
        free(wn->ops);
        rs_disk_free(&wn->disk);
    }
    for (uint32_t c = 0; c < w->client_count; c++) {
        rs_client_free(&w->clients[c].client);
        rs_route_free(&w->clients[c].route);
        routes_parts_clear(&w->clients[c]);
        free(w->clients[c].route_regions);
        free(w->clients[c].route_leaders);
        free(w->clients[c].merged);
    }
    free(w->clients);
    free(w->leader_log);
    free(w->samples);
    free(w->marks);
    free(w->heal_commits);
    if (w->cfg.workload.client_count > 0) {
        rs_workload_free(&w->workload);
    }
    rs_net_free(&w->net);
    rs_evq_free(&w->evq);
    for (uint32_t i = 0; i < w->region_count; i++) {
        if (i > 0) {
            rs_checks_free(w->region_checks[i]);
            free(w->region_checks[i]);
        }
        rs_region_free(&w->regions[i]);
    }
    for (uint32_t i = 0; i < w->boot_region_count; i++) {
        rs_region_free(&w->boot_regions[i]);
    }
    free(w->boot_regions);
    free(w->boot_confs);
    free(w->boot_rafts);
    for (uint32_t i = 0; w->pd.enabled && i < w->pd.node_count; i++) {
        struct rs_world_node *wn = &w->pd.nodes[i];
        if (wn->up) {
            rs_pd_server_free(wn->pd_server);
            free(wn->pd_server);
        }
        disk_ops_clear(wn);
        free(wn->ops);
        rs_disk_free(&wn->disk);
    }
    free(w->region_checks);
    free(w->regions);
    rs_checks_free(&w->checks);
    rs_pool_trim();
}

/* ---- administrative commands (CliService), sent to the current leader ---- */

/* An administrative command's trace line: who took it (a region's leader, or the PD node
 * that orders a split), its target and result. */
static void trace_admin(struct rs_world *w, uint32_t id, const char *what, uint32_t target,
                        enum rs_err err)
{
    uint64_t words[4] = {0x41444d, id, target, (uint64_t)err};
    rs_trace_fold(w->trace, words, 4);
    if (rs_trace_on(w->trace)) {
        struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, "admin");
        rs_buf_printf(b, ",\"op\":\"%s\",\"leader\":%u,\"target\":%u,\"result\":\"%s\"",
                      what, id, target, rs_err_name(err));
        rs_trace_end(w->trace);
    }
}

static void after_admin(struct rs_world *w, uint32_t id, const char *what, uint32_t target,
                        enum rs_err err)
{
    after_node_event(w, &w->nodes[id]);
    trace_admin(w, id, what, target, err);
}

enum rs_err rs_world_snapshot(struct rs_world *w, uint32_t node)
{
    struct rs_world_node *wn = &w->nodes[node];
    if (!wn->up || wn->paused) {
        return RS_ESHUTDOWN;
    }
    struct rs_node *n = rs_world_replica(w, node, 0);
    if (n == NULL) {
        return RS_ENOREGION; /* region 1 dropped this store (or it never held it) */
    }
    rs_node_request_snapshot(n);
    rs_store_flush(wn->store, n);
    after_admin(w, node, "snapshot", node, RS_OK);
    return RS_OK;
}

uint32_t rs_world_region_to_split(const struct rs_world *w, uint64_t region_id,
                                  struct rs_bytes key)
{
    if (region_id > 0) {
        return region_id <= w->region_count && region_created(&w->regions[region_id - 1])
                   ? (uint32_t)(region_id - 1)
                   : UINT32_MAX;
    }
    uint32_t best = UINT32_MAX;
    uint64_t best_keys = 0;
    for (uint32_t i = 0; i < w->region_count; i++) {
        const struct rs_region *r = &w->regions[i];
        if (!region_created(r)) {
            continue;
        }
        if (key.size > 0) {
            if (rs_region_contains(r, key)) {
                return i;
            }
            continue;
        }
        uint32_t leader = rs_world_region_leader(w, i);
        uint64_t keys = leader != 0 ? rs_kv_key_count(&rs_world_replica(w, leader, i)->kv) : 0;
        if (best == UINT32_MAX || keys > best_keys) {
            best = i;
            best_keys = keys;
        }
    }
    return best;
}

/* With a PD group, a split is the PD leader's to order (it gives the new region's id). */
static enum rs_err pd_split(struct rs_world *w, uint32_t region_index, struct rs_bytes key)
{
    struct rs_world_node *pn = pd_target(w);
    enum rs_err err = RS_ENOTLEADER;
    if (pn != NULL) {
        err = rs_pd_server_split(pn->pd_server, node_local(pn, w->now_ns),
                                 w->regions[region_index].id, key);
        after_node_event(w, pn);
    }
    trace_admin(w, pn != NULL ? pn->id : 0, "split", (uint32_t)w->regions[region_index].id, err);
    return err;
}

enum rs_err rs_world_split(struct rs_world *w, uint32_t region_index, struct rs_bytes key)
{
    if (w->pd.enabled) {
        return pd_split(w, region_index, key);
    }
    uint32_t leader = rs_world_region_leader(w, region_index);
    if (leader == 0 || w->nodes[leader].paused) {
        return RS_ENOTLEADER;
    }
    struct rs_node *ln = rs_world_replica(w, leader, region_index);
    uint64_t child = (uint64_t)w->region_count + 1;
    enum rs_err err =
        rs_node_split(ln, rs_clock_local(&w->nodes[leader].clock, w->now_ns), key, child);
    if (err == RS_OK) {
        struct rs_region pending;
        rs_region_init(&pending, child, (struct rs_bytes){NULL, 0}, (struct rs_bytes){NULL, 0});
        pending.epoch.version = 0; /* not created until a replica applies the split */
        region_add(w, &pending);
        rs_region_free(&pending);
    }
    rs_store_flush(w->nodes[leader].store, ln);
    after_admin(w, leader, "split", (uint32_t)child, err);
    return err;
}

/* The first voter of the region, other than `leader`, on a store that is up and below the
 * expected count (CliService's getAlivePeers order: the configuration's). */
static uint32_t rebalance_target(const struct rs_world *w, const struct rs_node *ln,
                                 uint32_t leader, const uint32_t *counter, uint32_t expected)
{
    const struct rs_conf *c = &ln->raft.conf;
    for (uint32_t k = 0; k < c->voter_count; k++) {
        uint32_t id = c->voters[k];
        if (id != leader && id <= w->cfg.node_count && w->nodes[id].up && !w->nodes[id].paused &&
            counter[id] < expected) {
            return id;
        }
    }
    return 0;
}

uint32_t rs_world_rebalance(struct rs_world *w)
{
    uint32_t counter[RS_WORLD_NODES_MAX + 1] = {0};
    uint32_t *intended = calloc(w->region_count, sizeof *intended);
    uint32_t *queue = calloc(2 * (size_t)w->region_count + 1, sizeof *queue);
    RS_ASSERT(intended != NULL && queue != NULL);
    uint32_t led = 0, up = 0, head = 0, tail = 0, started = 0;
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        up += w->nodes[id].up;
    }
    for (uint32_t i = 0; i < w->region_count; i++) {
        intended[i] = region_created(&w->regions[i]) ? rs_world_region_leader(w, i) : 0;
        led += intended[i] != 0;
        queue[tail++] = i;
    }
    uint32_t expected = up > 0 ? (led + up - 1) / up : 0;
    while (head < tail) {
        uint32_t g = queue[head++];
        uint32_t leader = intended[g];
        if (leader == 0 || ++counter[leader] <= expected) {
            continue;
        }
        struct rs_node *ln = rs_world_replica(w, leader, g);
        if (ln == NULL) {
            continue; /* a transfer's target whose store holds no replica (yet, or any more) */
        }
        uint32_t target = rebalance_target(w, ln, leader, counter, expected);
        if (target == 0) {
            continue;
        }
        enum rs_err err =
            rs_node_transfer(ln, rs_clock_local(&w->nodes[leader].clock, w->now_ns), target);
        rs_store_flush(w->nodes[leader].store, ln);
        after_admin(w, leader, "rebalance", target, err);
        if (err != RS_OK) {
            break; /* CliService stops at a busy node: rebalance again later */
        }
        mark(w, RS_WORLD_MARK_TRANSFER);
        started++;
        counter[leader]--;
        intended[g] = target;
        queue[tail++] = g; /* counted for its new leader when polled again */
    }
    free(queue);
    free(intended);
    return started;
}

static bool conf_remove(rs_node_id *list, uint32_t *count, rs_node_id id)
{
    for (uint32_t i = 0; i < *count; i++) {
        if (list[i] == id) {
            list[i] = list[--*count];
            return true;
        }
    }
    return false;
}

enum rs_err rs_world_change_member(struct rs_world *w, enum rs_member_op op, uint32_t node)
{
    uint32_t leader = rs_world_leader(w);
    if (leader == 0 || w->nodes[leader].paused) {
        return RS_ENOTLEADER;
    }
    struct rs_node *ln = rs_world_replica(w, leader, 0);
    struct rs_conf target = ln->raft.conf;
    target.old_voter_count = 0;
    bool voter = conf_remove(target.voters, &target.voter_count, node);
    bool learner = conf_remove(target.learners, &target.learner_count, node);
    static const char *const names[] = {"add-peer", "remove-peer", "add-learner",
                                        "remove-learner", "promote"};
    if (op == RS_MEMBER_ADD_PEER || (op == RS_MEMBER_PROMOTE && learner)) {
        target.voters[target.voter_count++] = node;
    } else if (op == RS_MEMBER_ADD_LEARNER) {
        target.learners[target.learner_count++] = node;
    } else if (op == RS_MEMBER_PROMOTE || (op == RS_MEMBER_REMOVE_PEER && !voter) ||
               (op == RS_MEMBER_REMOVE_LEARNER && voter)) {
        target = ln->raft.conf; /* nothing to do: not in the role the command names */
    }
    enum rs_err err = target.voter_count == 0 || target.voter_count > RS_CONF_VOTERS_MAX ||
                              target.learner_count > RS_CONF_LEARNERS_MAX
                          ? RS_EINVAL
                          : rs_node_change_conf(ln, rs_clock_local(&w->nodes[leader].clock,
                                                                   w->now_ns),
                                                &target);
    rs_store_flush(w->nodes[leader].store, ln);
    after_admin(w, leader, names[op], node, err);
    return err;
}

/* The configuration of two node sets, in node order; false when it cannot be one. */
static bool conf_of_sets(const struct rs_world *w, uint64_t voters, uint64_t learners,
                         struct rs_conf *conf)
{
    memset(conf, 0, sizeof *conf);
    if (voters == 0 || (voters & learners) != 0 || ((voters | learners) & 1u) != 0) {
        return false; /* no voter, a node in both sets, or node 0 */
    }
    for (uint32_t id = 1; id < 64; id++) {
        bool voter = (voters >> id) & 1u;
        bool learner = (learners >> id) & 1u;
        if ((voter || learner) && id > w->cfg.node_count) {
            return false;
        }
        if (voter && conf->voter_count == RS_CONF_VOTERS_MAX) {
            return false;
        }
        if (learner && conf->learner_count == RS_CONF_LEARNERS_MAX) {
            return false;
        }
        if (voter) {
            conf->voters[conf->voter_count++] = id;
        } else if (learner) {
            conf->learners[conf->learner_count++] = id;
        }
    }
    return true;
}

/* "1,4,5": the node ids of a bit set, into the trace line. */
static void trace_node_set(struct rs_buf *b, uint64_t ids)
{
    const char *separator = "";
    for (uint32_t id = 0; id < 64; id++) {
        if ((ids >> id) & 1u) {
            rs_buf_printf(b, "%s%u", separator, id);
            separator = ",";
        }
    }
}

/* As after_admin, with both node sets of the target configuration in the trace. */
static void after_change_peers(struct rs_world *w, uint32_t id, uint64_t voters,
                               uint64_t learners, enum rs_err err)
{
    after_node_event(w, &w->nodes[id]);
    uint64_t words[5] = {0x41444d43, id, voters, learners, (uint64_t)err};
    rs_trace_fold(w->trace, words, 5);
    if (rs_trace_on(w->trace)) {
        struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, "admin");
        rs_buf_printf(b, ",\"op\":\"change-peers\",\"leader\":%u,\"voters\":[", id);
        trace_node_set(b, voters);
        rs_buf_puts(b, "],\"learners\":[");
        trace_node_set(b, learners);
        rs_buf_printf(b, "],\"result\":\"%s\"", rs_err_name(err));
        rs_trace_end(w->trace);
    }
}

enum rs_err rs_world_change_peers(struct rs_world *w, uint64_t voters, uint64_t learners)
{
    uint32_t leader = rs_world_leader(w);
    if (leader == 0 || w->nodes[leader].paused) {
        return RS_ENOTLEADER;
    }
    struct rs_node *ln = rs_world_replica(w, leader, 0);
    struct rs_conf target;
    bool valid = conf_of_sets(w, voters, learners, &target);
    enum rs_err err =
        valid ? rs_node_change_conf(ln, rs_clock_local(&w->nodes[leader].clock, w->now_ns),
                                    &target)
              : RS_EINVAL;
    RS_ASSERT(valid || err == RS_EINVAL);
    rs_store_flush(w->nodes[leader].store, ln);
    after_change_peers(w, leader, voters, learners, err);
    return err;
}

enum rs_err rs_world_transfer(struct rs_world *w, uint32_t target)
{
    uint32_t leader = rs_world_leader(w);
    if (leader == 0 || w->nodes[leader].paused) {
        return RS_ENOTLEADER;
    }
    struct rs_node *ln = rs_world_replica(w, leader, 0);
    enum rs_err err =
        rs_node_transfer(ln, rs_clock_local(&w->nodes[leader].clock, w->now_ns), target);
    rs_store_flush(w->nodes[leader].store, ln);
    if (err == RS_OK) {
        mark(w, RS_WORLD_MARK_TRANSFER);
    }
    after_admin(w, leader, "transfer-leader", target, err);
    return err;
}
