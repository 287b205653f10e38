/* The event loop of the deterministic world and the nodes, disks and clients it drives. */
#include "sim/world.h"

#include "core/kv/kv_cmd.h"
#include "core/wire/frame.h"
#include "sim/pool.h"

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

uint32_t rs_world_endpoint_of_client(const struct rs_world *w, uint32_t client)
{
    return w->cfg.node_count + 1 + client;
}

static bool is_node_endpoint(const struct rs_world *w, uint32_t endpoint)
{
    return endpoint >= 1 && endpoint <= w->cfg.node_count;
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

static void schedule_node_timer(struct rs_world *w, struct rs_world_node *wn)
{
    uint64_t local = rs_node_deadline(wn->node);
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
    struct rs_out *out = &wn->node->out;
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
            static const char *const kinds[] = {"?", "write", "sync", "truncate", "remove",
                                                "rename"};
            struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, "disk");
            rs_buf_printf(b, ",\"node\":%u,\"op\":\"%s\",\"file\":\"%s\",\"offset\":%llu,"
                          "\"size\":%zu",
                          wn->id, kinds[op.op.kind <= RS_DISK_RENAME ? op.op.kind : 0],
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

static void trace_node_state(struct rs_world *w, struct rs_world_node *wn, int role_before,
                             rs_term term_before)
{
    const struct rs_raft *r = &wn->node->raft;
    if ((int)r->role == role_before && r->term == term_before) {
        return;
    }
    uint64_t words[4] = {0x524f4c45, wn->id, (uint64_t)r->role, r->term};
    rs_trace_fold(w->trace, words, 4);
    if (rs_trace_on(w->trace)) {
        struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, "role");
        rs_buf_printf(b, ",\"node\":%u,\"role\":\"%s\",\"term\":%llu,\"commit\":%llu", wn->id,
                      rs_role_name(r->role), (unsigned long long)r->term,
                      (unsigned long long)r->commit_index);
        rs_trace_end(w->trace);
    }
}

uint32_t rs_world_effective_leader(const struct rs_world *w)
{
    uint32_t leader = rs_world_leader(w);
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
    return rs_conf_majority(&w->nodes[leader].node->raft.conf, reach) ? leader : 0;
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

/* Every event that touched a node ends here: effects out, checks run. */
static void after_node_event(struct rs_world *w, struct rs_world_node *wn, int role_before,
                             rs_term term_before)
{
    trace_node_state(w, wn, role_before, term_before);
    if ((int)wn->node->raft.role != role_before || wn->node->raft.term != term_before) {
        note_leader(w);
    }
    if (wn->joining && (wn->node->raft.conf_count > 0 || wn->node->raft.snap.file != NULL)) {
        wn->joining = false; /* it holds a configuration of its own now */
    }
    if (w->on_node != NULL) {
        w->on_node(w->on_node_ctx, w, wn->id);
    }
    drain_node(w, wn);
    if (!rs_checks_node(&w->checks, w->now_ns, wn->id, wn->node)) {
        w->stopped = true;
    }
}

static void node_start(struct rs_world *w, struct rs_world_node *wn)
{
    RS_ASSERT(!wn->up);
    struct rs_raft_config cfg = w->cfg.raft;
    cfg.id = wn->id;
    /* nodes 1..replicas start as voters, the next ones as learners, the rest outside the
     * group (they can join through membership changes) */
    uint32_t voters = w->cfg.replica_count ? w->cfg.replica_count : w->cfg.node_count;
    if (wn->joining) {
        voters = 0; /* no bootstrap configuration for a replaced disk */
    }
    cfg.voter_count = voters;
    for (uint32_t i = 0; i < voters; i++) {
        cfg.voters[i] = i + 1;
    }
    cfg.learner_count = wn->joining ? 0 : w->cfg.learner_count;
    for (uint32_t i = 0; i < cfg.learner_count; i++) {
        cfg.learners[i] = voters + 1 + i;
    }
    cfg.random_seed = rs_rng_next(&wn->rng);
    cfg.bugs = w->cfg.bugs;
    wn->node = malloc(sizeof *wn->node);
    RS_ASSERT(wn->node != NULL);
    rs_node_init(wn->node, &cfg);
    if (wn->corrupt_bits_armed > 0) {
        uint32_t bits = rs_disk_corrupt(&wn->disk, &wn->corrupt_rng, wn->corrupt_bits_armed,
                                        wn->corrupt_unsynced_only);
        w->stats.corrupted_disk_bits += bits;
        wn->corrupt_bits_armed = 0;
        if (!wn->corrupt_unsynced_only && bits > 0) {
            w->checks.nodes[wn->id].disk_lied = true; /* synced data may be gone, by design */
        }
        uint64_t words[3] = {0x524f54, wn->id, bits};
        rs_trace_fold(w->trace, words, 3);
        if (rs_trace_on(w->trace)) {
            struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, "bit-rot");
            rs_buf_printf(b, ",\"node\":%u,\"bits\":%u", wn->id, bits);
            rs_trace_end(w->trace);
        }
    }
    const char *names[1024];
    size_t count = rs_disk_list(&wn->disk, names, 1024);
    RS_ASSERT(count < 1024);
    struct rs_file_view views[1024];
    for (size_t i = 0; i < count; i++) {
        views[i].name = names[i];
        views[i].data = rs_disk_read(&wn->disk, names[i], &views[i].size);
    }
    wn->up = true;
    wn->incarnation++;
    wn->timer_global_ns = UINT64_MAX;
    rs_node_recover(wn->node, node_local(wn, w->now_ns), views, count);
    rs_disk_recovered(&wn->disk); /* what recovery read now counts as durable */
    if (!rs_checks_recovered(&w->checks, w->now_ns, wn->id, wn->node)) {
        w->stopped = true;
    }
    after_node_event(w, wn, -1, 0);
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
    rs_checks_crash(&w->checks, node, wn->node);
    rs_node_free(wn->node);
    free(wn->node);
    wn->node = NULL;
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
    int role = (int)wn->node->raft.role;
    rs_term term = wn->node->raft.term;
    uint64_t local = node_local(wn, w->now_ns);
    if (local >= rs_node_deadline(wn->node)) {
        rs_node_tick(wn->node, local);
    }
    after_node_event(w, wn, role, term);
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
        static const char *const kinds[] = {"?", "write", "sync", "truncate", "remove", "rename"};
        struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, "disk-error");
        rs_buf_printf(b, ",\"node\":%u,\"op\":\"%s\",\"file\":\"%s\",\"err\":\"%s\"", wn->id,
                      kinds[op->kind <= RS_DISK_RENAME ? op->kind : 0], op->name,
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
    int role = (int)wn->node->raft.role;
    rs_term term = wn->node->raft.term;
    rs_node_disk_done(wn->node, node_local(wn, w->now_ns), d.op.id, err);
    after_node_event(w, wn, role, term);
}

/* ---- clients ---- */

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

static void observe_op(struct rs_world *w, struct rs_world_client *wc, enum rs_op_phase phase,
                       const struct rs_kv_result *res)
{
    const struct rs_workload_op *op = &wc->op;
    struct rs_op_event ev = {
        .process = wc->process,
        .phase = phase,
        .opcode = op->opcode,
        .key = {(const uint8_t *)op->key, op->key_size},
        .value = {(const uint8_t *)op->value, op->value_size},
        .expected = {(const uint8_t *)op->expected, op->expected_size},
        .time_ns = w->now_ns,
        .invoke_ns = wc->invoke_ns,
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

/* Whether an ok result tells the workload which value the key holds now. */
static void learn_value(struct rs_world *w, struct rs_world_client *wc,
                        const struct rs_kv_result *res)
{
    const struct rs_workload_op *op = &wc->op;
    bool wrote = op->opcode == RS_KV_PUT || op->opcode == RS_KV_GET_AND_PUT ||
                 ((op->opcode == RS_KV_CAS || op->opcode == RS_KV_PUT_IF_ABSENT) && res->success);
    if (wrote) {
        rs_workload_observe(&w->workload, op->key_index, (const uint8_t *)op->value,
                            op->value_size);
    } else if (op->opcode == RS_KV_GET && res->found) {
        rs_workload_observe(&w->workload, op->key_index, res->value, res->value_size);
    }
}

static void client_done(struct rs_world *w, struct rs_world_client *wc,
                        const struct rs_client_out *out)
{
    enum rs_op_phase phase = RS_OP_OK;
    const struct rs_workload_op *op = &wc->op;
    if (out->outcome == RS_CLIENT_FAIL) {
        phase = RS_OP_FAIL;
    } else if (out->outcome == RS_CLIENT_INFO) {
        phase = RS_OP_INFO;
    } else if ((op->opcode == RS_KV_CAS || op->opcode == RS_KV_PUT_IF_ABSENT) &&
               !out->result.success) {
        phase = RS_OP_FAIL; /* the comparison failed: definitely no effect */
    }
    if (phase == RS_OP_OK) {
        learn_value(w, wc, &out->result);
    }
    observe_op(w, wc, phase, &out->result);
    w->stats.ops_ok += phase == RS_OP_OK;
    w->stats.ops_fail += phase == RS_OP_FAIL;
    w->stats.ops_info += phase == RS_OP_INFO;
    wc->busy = false;
    if (phase == RS_OP_INFO) {
        wc->process = w->next_process++; /* the old operation may still land: new process */
    }
    if (w->cfg.workload.rate_per_s == 0 && !wc->stopped) {
        rs_evq_push(&w->evq, w->now_ns + w->cfg.workload.think_ns, EV_CLIENT_START,
                    wc->endpoint, 0, NULL);
    }
}

static void drain_client(struct rs_world *w, struct rs_world_client *wc,
                         const struct rs_client_out *out)
{
    for (uint32_t i = 0; i < out->send_count; i++) {
        send_message(w, wc->endpoint, out->sends[i].to, RS_MSG_KV_REQUEST, out->sends[i].frame,
                     out->sends[i].frame_size);
    }
    if (out->done) {
        client_done(w, wc, out);
    }
    schedule_client_timer(w, wc, out->deadline_ns);
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
    struct rs_kv_op op = {
        .opcode = wc->op.opcode,
        .key = {(const uint8_t *)wc->op.key, wc->op.key_size},
        .value = {(const uint8_t *)wc->op.value, wc->op.value_size},
        .expected = {(const uint8_t *)wc->op.expected, wc->op.expected_size},
    };
    struct rs_client_out out;
    wc->busy = true;
    wc->invoke_ns = w->now_ns;
    w->stats.ops_invoked++;
    observe_op(w, wc, RS_OP_INVOKE, NULL);
    enum rs_err err = rs_client_submit(&wc->client, w->now_ns, &op, &out);
    RS_ASSERT(err == RS_OK);
    drain_client(w, wc, &out);
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
static uint64_t corrupt_seen(const struct rs_node *n)
{
    return n->stats.corrupt_frames + n->raft.stats.corrupt_messages;
}

static void on_deliver(struct rs_world *w, struct rs_world_flight *f)
{
    uint64_t words[5] = {0x444c56, f->from, f->to, f->type, f->size};
    rs_trace_fold(w->trace, words, 5);
    bool up = rs_net_link_up(&w->net, f->from, f->to); /* a partition cuts messages in flight */
    bool node = is_node_endpoint(w, f->to);
    bool alive = !node || w->nodes[f->to].up;
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
        int role = (int)wn->node->raft.role;
        rs_term term = wn->node->raft.term;
        uint64_t rejected = corrupt_seen(wn->node);
        rs_node_recv(wn->node, node_local(wn, w->now_ns), f->from, f->data, f->size);
        if (f->corrupt) {
            /* the frame checksum (or the message decoder) must have dropped it */
            bool caught = corrupt_seen(wn->node) > rejected;
            w->stats.corrupt_to_nodes++;
            w->stats.corrupt_rejected += caught;
            w->stats.corrupt_accepted += !caught;
        }
        after_node_event(w, wn, role, term);
    } else if (up && !node) {
        struct rs_world_client *wc = &w->clients[f->to - w->cfg.node_count - 1];
        struct rs_client_out out;
        rs_client_recv(&wc->client, w->now_ns, f->from, f->data, f->size, &out);
        drain_client(w, wc, &out);
    }
    rs_pool_free(f);
}

/* ---- nemesis ---- */

uint32_t rs_world_leader(const struct rs_world *w)
{
    uint32_t best = 0;
    rs_term best_term = 0;
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        const struct rs_world_node *wn = &w->nodes[id];
        if (wn->up && wn->node->raft.role == RS_LEADER && wn->node->raft.term >= best_term) {
            best = id;
            best_term = wn->node->raft.term;
        }
    }
    return best;
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
    w->checks.nodes[node].crashed = false;
    w->checks.nodes[node].disk_lied = true;
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
    rs_net_heal(&w->net);
    trace_fault(w, "heal-partitions", 0, 0);
}

void rs_world_heal_network(struct rs_world *w)
{
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
    return wn->up && wn->node->raft.role == RS_ERROR_STATE;
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
    w->heal_commit_index = 0;
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        const struct rs_world_node *wn = &w->nodes[id];
        if (wn->up && wn->node->raft.commit_index > w->heal_commit_index) {
            w->heal_commit_index = wn->node->raft.commit_index;
        }
    }
    uint64_t bound = w->cfg.learner_catchup_ns;
    if (bound == 0 || bound > w->cfg.liveness_ns) {
        bound = w->cfg.liveness_ns; /* the run ends there: later would never be checked */
    }
    rs_evq_push(&w->evq, w->now_ns + bound, EV_LEARNER_DEADLINE, 0, 0, NULL);
}

/* The replica whose configuration says who the learners are: the leader, or with none the
 * running replica with the highest commit index (the lowest id among equals). */
static const struct rs_raft *learner_reference(const struct rs_world *w)
{
    uint32_t leader = rs_world_leader(w);
    if (leader != 0) {
        return &w->nodes[leader].node->raft;
    }
    const struct rs_raft *best = NULL;
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        const struct rs_world_node *wn = &w->nodes[id];
        if (wn->up && (best == NULL || wn->node->raft.commit_index > best->commit_index)) {
            best = &wn->node->raft;
        }
    }
    return best;
}

/* The learners-catch-up check (checks.c judges): skipped in unrestricted mode, where nothing
 * promises that the group can make progress after the heal. */
static void learner_catchup_check(struct rs_world *w)
{
    RS_ASSERT(w->healed);
    const struct rs_raft *ref = learner_reference(w);
    if (w->cfg.liveness_unchecked || ref == NULL) {
        return;
    }
    struct rs_check_learner learners[RS_CONF_LEARNERS_MAX];
    uint32_t count = 0;
    for (uint32_t i = 0; i < ref->conf.learner_count && count < RS_CONF_LEARNERS_MAX; i++) {
        rs_node_id id = ref->conf.learners[i];
        const struct rs_world_node *wn = id <= w->cfg.node_count ? &w->nodes[id] : NULL;
        bool up = wn != NULL && wn->up;
        learners[count++] = (struct rs_check_learner){
            .id = id, .up = up, .applied_index = up ? wn->node->raft.applied_index : 0};
    }
    rs_checks_learners_caught_up(&w->checks, w->now_ns, w->now_ns - w->heal_ns,
                                 w->heal_commit_index, learners, count);
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
static const char *convergence_gap(const struct rs_world *w)
{
    uint32_t leader = rs_world_leader(w);
    if (leader == 0) {
        return "no leader";
    }
    for (uint32_t c = 0; c < w->client_count; c++) {
        if (w->clients[c].busy) {
            return "client operations still pending";
        }
    }
    const struct rs_raft *lr = &w->nodes[leader].node->raft;
    if (lr->commit_index != rs_log_last_index(&lr->log)) {
        return "the leader has uncommitted entries";
    }
    uint64_t digest = rs_kv_digest(&w->nodes[leader].node->kv);
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        const struct rs_node *n = w->nodes[id].node;
        if (!rs_conf_is_member(&lr->conf, id)) {
            continue; /* not (or no longer) in the group: nothing to converge */
        }
        if (!w->nodes[id].up || n->raft.applied_index != lr->commit_index) {
            return "replicas have not applied the leader's commit index";
        }
        if (rs_kv_digest(&n->kv) != digest) {
            return "replica state digests differ";
        }
    }
    return NULL;
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
        const struct rs_raft *r = &wn->node->raft;
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

static void dispatch(struct rs_world *w, const struct rs_event *ev)
{
    if (defer_if_paused(w, ev)) {
        return;
    }
    switch (ev->kind) {
    case EV_DELIVER: on_deliver(w, ev->ptr); return;
    case EV_NODE_TIMER: on_node_timer(w, &w->nodes[ev->node], ev->arg); return;
    case EV_DISK_DONE: on_disk_done(w, &w->nodes[ev->node], ev->arg); return;
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
    uint32_t endpoints = cfg->node_count + 1 + cfg->workload.client_count;
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
            rs_node_free(wn->node);
            free(wn->node);
        }
        disk_ops_clear(wn);
        free(wn->ops);
        rs_disk_free(&wn->disk);
    }
    for (uint32_t c = 0; c < w->client_count; c++) {
        rs_client_free(&w->clients[c].client);
    }
    free(w->clients);
    free(w->leader_log);
    if (w->cfg.workload.client_count > 0) {
        rs_workload_free(&w->workload);
    }
    rs_net_free(&w->net);
    rs_evq_free(&w->evq);
    rs_checks_free(&w->checks);
    rs_pool_trim();
}

/* ---- administrative commands (CliService), sent to the current leader ---- */

static void after_admin(struct rs_world *w, uint32_t id, int role, rs_term term,
                        const char *what, uint32_t target, enum rs_err err)
{
    after_node_event(w, &w->nodes[id], role, term);
    uint64_t words[4] = {0x41444d, id, target, (uint64_t)err};
    rs_trace_fold(w->trace, words, 4);
    if (rs_trace_on(w->trace)) {
        struct rs_buf *b = rs_trace_begin(w->trace, w->now_ns, "admin");
        rs_buf_printf(b, ",\"op\":\"%s\",\"leader\":%u,\"target\":%u,\"result\":\"%s\"",
                      what, id, target, rs_err_name(err));
        rs_trace_end(w->trace);
    }
}

enum rs_err rs_world_snapshot(struct rs_world *w, uint32_t node)
{
    struct rs_world_node *wn = &w->nodes[node];
    if (!wn->up || wn->paused) {
        return RS_ESHUTDOWN;
    }
    int role = (int)wn->node->raft.role;
    rs_term term = wn->node->raft.term;
    rs_node_request_snapshot(wn->node);
    after_admin(w, node, role, term, "snapshot", node, RS_OK);
    return RS_OK;
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
    struct rs_node *ln = w->nodes[leader].node;
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
    int role = (int)ln->raft.role;
    rs_term term = ln->raft.term;
    enum rs_err err = target.voter_count == 0 || target.voter_count > RS_CONF_VOTERS_MAX ||
                              target.learner_count > RS_CONF_LEARNERS_MAX
                          ? RS_EINVAL
                          : rs_node_change_conf(ln, rs_clock_local(&w->nodes[leader].clock,
                                                                   w->now_ns),
                                                &target);
    after_admin(w, leader, role, term, names[op], node, err);
    return err;
}

enum rs_err rs_world_transfer(struct rs_world *w, uint32_t target)
{
    uint32_t leader = rs_world_leader(w);
    if (leader == 0 || w->nodes[leader].paused) {
        return RS_ENOTLEADER;
    }
    struct rs_node *ln = w->nodes[leader].node;
    int role = (int)ln->raft.role;
    rs_term term = ln->raft.term;
    enum rs_err err =
        rs_node_transfer(ln, rs_clock_local(&w->nodes[leader].clock, w->now_ns), target);
    after_admin(w, leader, role, term, "transfer-leader", target, err);
    return err;
}
