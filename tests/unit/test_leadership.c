/* Leadership transfer, priority election, lease reads and follower reads, driven by hand-made
 * events through store nodes (raft + KV) on a perfect, ordered network with an instant disk.
 * Links can be cut per direction and per message type; a node's disk can be held. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/kv/kv_cmd.h"
#include "core/raft/msg.h"
#include "core/raft/raft.h"
#include "core/store/node.h"
#include "core/wire/frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_MAX 5
#define FILES_MAX 256
#define QUEUE_MAX 100000
#define CLIENT 50u /* the network endpoint of the test's client */
#define REPLIES_MAX 64
#define MS RS_NS_PER_MS

struct tfile {
    char name[RS_FILE_NAME_MAX];
    uint8_t *cur;
    size_t cur_size;
    uint8_t *durable;
    size_t durable_size;
    bool used;
};

struct tnode {
    struct rs_node *node;
    struct tfile files[FILES_MAX];
    bool down;
    uint64_t pending_disk[4096]; /* held completions, oldest first from pending_head */
    size_t pending_head, pending_disk_count;
    bool hold_disk; /* disk operations happen but their completions wait */
};

struct tmsg {
    rs_node_id from, to;
    uint8_t *data;
    size_t size;
};

struct reply {
    uint64_t request_id;
    rs_node_id from;
    enum rs_err status;
    bool found;
    char value[64];
};

struct fixture {
    uint32_t n;
    uint32_t voters; /* nodes 1..voters are voters, the rest learners */
    struct rs_raft_config base; /* leadership settings copied into every node's config */
    struct tnode nodes[N_MAX + 1];
    struct tmsg queue[QUEUE_MAX];
    size_t q_head, q_count;
    uint64_t now;
    uint64_t drop_types[N_MAX + 1][N_MAX + 1]; /* bit t: messages of type t are lost */
    struct reply replies[REPLIES_MAX];
    size_t reply_count;
    uint64_t next_request_id;
};

#define ALL_TYPES UINT64_MAX
#define TYPE_BIT(t) (1ull << (t))

static struct rs_raft *R(struct fixture *fx, uint32_t id)
{
    return &fx->nodes[id].node->raft;
}

static struct tfile *file_get(struct tnode *t, const char *name, bool create)
{
    for (int i = 0; i < FILES_MAX; i++) {
        if (t->files[i].used && strcmp(t->files[i].name, name) == 0) {
            return &t->files[i];
        }
    }
    if (!create) {
        return NULL;
    }
    for (int i = 0; i < FILES_MAX; i++) {
        if (!t->files[i].used) {
            memset(&t->files[i], 0, sizeof t->files[i]);
            t->files[i].used = true;
            strcpy(t->files[i].name, name);
            return &t->files[i];
        }
    }
    fail_msg("too many files");
    return NULL;
}

static void disk_apply(struct tnode *t, const struct rs_out_disk *d, const uint8_t *bytes)
{
    struct tfile *f = file_get(t, d->name, d->kind == RS_DISK_WRITE);
    if (f == NULL) {
        return;
    }
    switch (d->kind) {
    case RS_DISK_WRITE: {
        size_t end = d->offset + d->data_size;
        if (end > f->cur_size) {
            f->cur = realloc(f->cur, end);
            memset(f->cur + f->cur_size, 0, end - f->cur_size);
            f->cur_size = end;
        }
        memcpy(f->cur + d->offset, bytes + d->data_offset, d->data_size);
        break;
    }
    case RS_DISK_SYNC:
        f->durable = realloc(f->durable, f->cur_size ? f->cur_size : 1);
        memcpy(f->durable, f->cur, f->cur_size);
        f->durable_size = f->cur_size;
        break;
    case RS_DISK_TRUNCATE:
        if (d->offset < f->cur_size) f->cur_size = d->offset;
        if (d->offset < f->durable_size) f->durable_size = d->offset;
        break;
    case RS_DISK_REMOVE:
        free(f->cur);
        free(f->durable);
        memset(f, 0, sizeof *f);
        break;
    case RS_DISK_RENAME: {
        struct tfile *to = file_get(t, d->name2, false);
        if (to != NULL) {
            free(to->cur);
            free(to->durable);
            memset(to, 0, sizeof *to);
        }
        strcpy(f->name, d->name2);
        break;
    }
    default: fail_msg("unexpected disk op");
    }
}

static void client_take(struct fixture *fx, rs_node_id from, const uint8_t *data, size_t size)
{
    struct rs_kv_response resp;
    assert_int_equal(rs_kv_response_frame_decode((struct rs_bytes){data, size}, &resp), RS_OK);
    assert_true(fx->reply_count < REPLIES_MAX);
    struct reply *rp = &fx->replies[fx->reply_count++];
    memset(rp, 0, sizeof *rp);
    rp->request_id = resp.request_id;
    rp->from = from;
    rp->status = resp.status;
    rp->found = resp.result.found;
    size_t n = resp.result.value_size < sizeof rp->value - 1 ? resp.result.value_size
                                                              : sizeof rp->value - 1;
    if (n > 0) {
        memcpy(rp->value, resp.result.value, n);
    }
}

static void fx_drain(struct fixture *fx, uint32_t id)
{
    struct tnode *t = &fx->nodes[id];
    struct rs_out *out = &t->node->out;
    for (size_t i = 0; i < out->msg_count; i++) {
        struct rs_out_msg *m = &out->msgs[i];
        if (m->to == CLIENT) {
            client_take(fx, id, out->bytes + m->offset, m->size);
            continue;
        }
        assert_true(fx->q_count < QUEUE_MAX);
        struct tmsg *q = &fx->queue[(fx->q_head + fx->q_count++) % QUEUE_MAX];
        q->from = id;
        q->to = m->to;
        q->size = m->size;
        q->data = malloc(m->size);
        memcpy(q->data, out->bytes + m->offset, m->size);
    }
    size_t count = out->disk_count;
    uint64_t ids[4096];
    assert_true(count < 4096);
    for (size_t i = 0; i < count; i++) {
        disk_apply(t, &out->disk[i], out->bytes);
        ids[i] = out->disk[i].id;
    }
    rs_out_clear(out);
    for (size_t i = 0; i < count; i++) {
        if (t->hold_disk || t->pending_disk_count > t->pending_head) {
            assert_true(t->pending_disk_count < 4096);
            t->pending_disk[t->pending_disk_count++] = ids[i];
            continue;
        }
        rs_node_disk_done(t->node, fx->now, ids[i], RS_OK);
        fx_drain(fx, id);
    }
}

/* Completes the held disk operations, in order. */
static void fx_release_disk(struct fixture *fx, uint32_t id)
{
    struct tnode *t = &fx->nodes[id];
    t->hold_disk = false;
    /* completions stay in submission order: new operations queue behind the held ones */
    while (t->pending_head < t->pending_disk_count) {
        uint64_t op = t->pending_disk[t->pending_head++];
        rs_node_disk_done(t->node, fx->now, op, RS_OK);
        fx_drain(fx, id);
    }
    t->pending_head = t->pending_disk_count = 0;
}

static void fx_start_node(struct fixture *fx, uint32_t id, uint64_t seed)
{
    struct tnode *t = &fx->nodes[id];
    struct rs_raft_config cfg = fx->base;
    cfg.id = id;
    cfg.election_timeout_ns = 1000 * MS;
    cfg.heartbeat_ns = 100 * MS;
    cfg.pre_vote = true;
    cfg.max_inflight = 8;
    cfg.batch_entries = 4;
    cfg.batch_bytes = 1 << 20;
    cfg.proposal_queue = 1000;
    cfg.random_seed = seed * 7919 + id;
    cfg.voter_count = fx->voters;
    for (uint32_t i = 0; i < fx->voters; i++) {
        cfg.voters[i] = i + 1;
    }
    cfg.learner_count = fx->n - fx->voters;
    for (uint32_t i = 0; i < cfg.learner_count; i++) {
        cfg.learners[i] = fx->voters + i + 1;
    }
    t->node = calloc(1, sizeof *t->node);
    rs_node_init(t->node, &cfg, NULL);
    struct rs_file_view views[FILES_MAX];
    size_t count = 0;
    for (int i = 0; i < FILES_MAX; i++) {
        if (t->files[i].used) {
            views[count].name = t->files[i].name;
            views[count].data = t->files[i].cur;
            views[count].size = t->files[i].cur_size;
            count++;
        }
    }
    assert_int_equal(rs_node_recover(t->node, fx->now, views, count), RS_OK);
    t->down = false;
    fx_drain(fx, id);
}

/* n nodes, the first `voters` of them voters; base holds the leadership settings. */
static struct fixture *fx_new(uint32_t n, uint32_t voters, const struct rs_raft_config *base,
                              uint64_t seed)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    fx->n = n;
    fx->voters = voters;
    if (base != NULL) {
        fx->base = *base;
    }
    fx->next_request_id = 1;
    for (uint32_t i = 1; i <= n; i++) {
        fx_start_node(fx, i, seed);
    }
    return fx;
}

static void fx_crash(struct fixture *fx, uint32_t id)
{
    struct tnode *t = &fx->nodes[id];
    rs_node_free(t->node);
    free(t->node);
    t->node = NULL;
    for (int i = 0; i < FILES_MAX; i++) {
        struct tfile *f = &t->files[i];
        if (f->used) {
            f->cur = realloc(f->cur, f->durable_size ? f->durable_size : 1);
            memcpy(f->cur, f->durable, f->durable_size);
            f->cur_size = f->durable_size;
        }
    }
    t->down = true;
    t->pending_head = t->pending_disk_count = 0;
}

static void fx_free(struct fixture *fx)
{
    for (uint32_t i = 1; i <= fx->n; i++) {
        struct tnode *t = &fx->nodes[i];
        if (!t->down) {
            rs_node_free(t->node);
            free(t->node);
        }
        for (int f = 0; f < FILES_MAX; f++) {
            free(t->files[f].cur);
            free(t->files[f].durable);
        }
    }
    while (fx->q_count > 0) {
        free(fx->queue[fx->q_head].data);
        fx->q_head = (fx->q_head + 1) % QUEUE_MAX;
        fx->q_count--;
    }
    free(fx);
}

static unsigned frame_type(const struct tmsg *m)
{
    unsigned type;
    struct rs_bytes body;
    assert_int_equal(rs_frame_decode(m->data, m->size, &type, &body), RS_OK);
    return type;
}

static bool fx_deliver_one(struct fixture *fx)
{
    if (fx->q_count == 0) {
        return false;
    }
    struct tmsg m = fx->queue[fx->q_head];
    fx->q_head = (fx->q_head + 1) % QUEUE_MAX;
    fx->q_count--;
    struct tnode *t = &fx->nodes[m.to];
    unsigned type = frame_type(&m);
    if (!t->down && !(fx->drop_types[m.from][m.to] & TYPE_BIT(type))) {
        rs_node_recv(t->node, fx->now, m.from, m.data, m.size);
        fx_drain(fx, m.to);
    }
    free(m.data);
    return true;
}

static void fx_settle(struct fixture *fx)
{
    for (int i = 0; i < 1000000 && fx_deliver_one(fx); i++) {
    }
}

static void fx_tick_due(struct fixture *fx)
{
    for (uint32_t i = 1; i <= fx->n; i++) {
        struct tnode *t = &fx->nodes[i];
        if (!t->down && rs_node_deadline(t->node) <= fx->now) {
            rs_node_tick(t->node, fx->now);
            fx_drain(fx, i);
        }
    }
}

/* Advances time in 10 ms steps, ticking nodes whose deadline passed, delivering messages. */
static void fx_run(struct fixture *fx, uint64_t duration_ns)
{
    uint64_t end = fx->now + duration_ns;
    while (fx->now < end) {
        fx->now += 10 * MS;
        fx_tick_due(fx);
        fx_settle(fx);
    }
}

static uint32_t fx_leader(struct fixture *fx)
{
    uint32_t leader = 0;
    for (uint32_t i = 1; i <= fx->n; i++) {
        if (!fx->nodes[i].down && rs_raft_is_leader(R(fx, i))) {
            assert_int_equal(leader, 0);
            leader = i;
        }
    }
    return leader;
}

static void fx_cut(struct fixture *fx, uint32_t a, uint32_t b, uint64_t types)
{
    fx->drop_types[a][b] = types;
}

static void fx_isolate(struct fixture *fx, uint32_t id, bool cut)
{
    for (uint32_t i = 1; i <= fx->n; i++) {
        fx->drop_types[id][i] = fx->drop_types[i][id] = cut ? ALL_TYPES : 0;
    }
}

/* A client request straight into a node (the client's link is perfect). Returns its id. */
static uint64_t fx_request(struct fixture *fx, uint32_t id, uint8_t opcode, const char *key,
                           const char *value)
{
    uint64_t rid = fx->next_request_id++;
    struct rs_kv_request req = {.client_id = 7, .seq = rid, .request_id = rid};
    req.op.opcode = opcode;
    req.op.key = (struct rs_bytes){(const uint8_t *)key, strlen(key)};
    if (value != NULL) {
        req.op.value = (struct rs_bytes){(const uint8_t *)value, strlen(value)};
    }
    uint8_t frame[512];
    size_t size;
    assert_int_equal(rs_kv_request_frame_encode(&req, frame, sizeof frame, &size), RS_OK);
    rs_node_recv(fx->nodes[id].node, fx->now, CLIENT, frame, size);
    fx_drain(fx, id);
    return rid;
}

static const struct reply *fx_reply(struct fixture *fx, uint64_t request_id)
{
    for (size_t i = 0; i < fx->reply_count; i++) {
        if (fx->replies[i].request_id == request_id) {
            return &fx->replies[i];
        }
    }
    return NULL;
}

/* Puts key=value through the leader and waits for the answer. */
static void fx_put(struct fixture *fx, uint32_t leader, const char *key, const char *value)
{
    uint64_t rid = fx_request(fx, leader, RS_KV_PUT, key, value);
    fx_settle(fx);
    const struct reply *rp = fx_reply(fx, rid);
    assert_non_null(rp);
    assert_int_equal(rp->status, RS_OK);
}

static uint32_t fx_elect(struct fixture *fx)
{
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    assert_true(leader >= 1);
    return leader;
}

static uint32_t other_than(struct fixture *fx, uint32_t a, uint32_t b)
{
    for (uint32_t i = 1; i <= fx->voters; i++) {
        if (i != a && i != b) {
            return i;
        }
    }
    fail_msg("no such node");
    return 0;
}

/* ------------------------------------------------------------------ transfer */

static void test_transfer_to_caught_up_follower_elects_it_next_term(void **state)
{
    (void)state;
    struct fixture *fx = fx_new(3, 3, NULL, 1);
    uint32_t leader = fx_elect(fx);
    fx_put(fx, leader, "k", "v1");
    fx_run(fx, 200 * MS);
    uint32_t target = other_than(fx, leader, 0);
    rs_term term = R(fx, leader)->term;
    assert_int_equal(rs_node_transfer(fx->nodes[leader].node, fx->now, target), RS_OK);
    /* caught up already: the TimeoutNow left with the call */
    assert_int_equal(R(fx, leader)->stats.timeout_now_sent, 1);
    assert_true(rs_raft_transferring(R(fx, leader)));
    fx_drain(fx, leader);
    fx_settle(fx); /* no time passes: the target campaigns at once, without pre-vote */
    assert_int_equal(fx_leader(fx), target);
    assert_int_equal(R(fx, target)->term, term + 1);
    assert_int_equal(R(fx, target)->stats.timeout_now_elections, 1);
    assert_int_equal(R(fx, leader)->role, RS_FOLLOWER);
    assert_int_equal(R(fx, leader)->leader_id, target);
    assert_false(rs_raft_transferring(R(fx, leader)));
    /* the new leader serves */
    fx_put(fx, target, "k", "v2");
    fx_free(fx);
}

static void test_transfer_waits_for_lagging_follower(void **state)
{
    (void)state;
    struct fixture *fx = fx_new(3, 3, NULL, 2);
    uint32_t leader = fx_elect(fx);
    uint32_t target = other_than(fx, leader, 0);
    fx_cut(fx, leader, target, ALL_TYPES); /* the target misses what follows */
    for (int i = 0; i < 10; i++) {
        fx_put(fx, leader, "k", "lagging");
    }
    struct rs_raft *lr = R(fx, leader);
    struct rs_node *ln = fx->nodes[leader].node;
    rs_index last = rs_log_last_index(&lr->log);
    assert_true(rs_log_last_index(&R(fx, target)->log) < last);
    rs_term term = lr->term;
    assert_int_equal(rs_node_transfer(ln, fx->now, target), RS_OK);
    assert_int_equal(lr->stats.timeout_now_sent, 0); /* it waits for the catch-up */
    /* meanwhile proposals and reads are refused with BUSY */
    rs_index index;
    rs_term t;
    struct rs_bytes data = {(const uint8_t *)"x", 1};
    assert_int_equal(rs_raft_propose(lr, fx->now, data, &index, &t), RS_EBUSY);
    assert_int_equal(rs_raft_read_index(lr, fx->now, 99), RS_EBUSY);
    uint64_t put = fx_request(fx, leader, RS_KV_PUT, "k", "refused");
    assert_int_equal(fx_reply(fx, put)->status, RS_EBUSY);
    assert_int_equal(rs_node_transfer(ln, fx->now, target), RS_EBUSY); /* one at a time */
    fx_run(fx, 300 * MS);
    assert_int_equal(lr->stats.timeout_now_sent, 0);
    /* the link heals: the target catches up, then gets the TimeoutNow and wins */
    fx_cut(fx, leader, target, 0);
    fx_run(fx, 300 * MS);
    assert_int_equal(lr->stats.timeout_now_sent, 1);
    assert_int_equal(fx_leader(fx), target);
    assert_int_equal(R(fx, target)->term, term + 1);
    assert_true(rs_log_last_index(&R(fx, target)->log) > last); /* it kept all, then its own */
    assert_int_equal(lr->stats.transfers_timed_out, 0);
    fx_free(fx);
}

static void test_transfer_timeout_restores_leadership(void **state)
{
    (void)state;
    struct rs_raft_config base = {.read_mode = RS_READ_LEASE, .max_drift_ppm = 1000};
    struct fixture *fx = fx_new(3, 3, &base, 3);
    uint32_t leader = fx_elect(fx);
    uint32_t target = other_than(fx, leader, 0);
    fx_put(fx, leader, "k", "v");
    fx_run(fx, 200 * MS);
    struct rs_raft *lr = R(fx, leader);
    rs_term term = lr->term;
    /* the TimeoutNow is lost: the target never campaigns */
    fx_cut(fx, leader, target, TYPE_BIT(RS_MSG_TIMEOUT_NOW));
    assert_true(rs_raft_lease_valid(lr));
    assert_int_equal(rs_node_transfer(fx->nodes[leader].node, fx->now, target), RS_OK);
    assert_int_equal(lr->stats.timeout_now_sent, 1);
    fx_run(fx, 900 * MS);
    assert_true(rs_raft_transferring(lr));
    fx_run(fx, 200 * MS); /* one election timeout after the start */
    assert_false(rs_raft_transferring(lr));
    assert_int_equal(lr->stats.transfers_timed_out, 1);
    assert_int_equal(fx_leader(fx), leader);
    assert_int_equal(lr->term, term);
    fx_put(fx, leader, "k", "after"); /* serving again */
    /* a TimeoutNow went out in this term: lease reads stay off until the next term */
    fx_run(fx, 200 * MS);
    assert_int_equal(lr->lease_term, lr->term);
    assert_false(rs_raft_lease_valid(lr));
    fx_free(fx);
}

static void test_transfer_refusals(void **state)
{
    (void)state;
    struct rs_raft_config base = {.priority_election = true,
                                  .priorities = {[1] = 5, [2] = 5, [3] = 0, [4] = 5}};
    struct fixture *fx = fx_new(4, 3, &base, 4); /* node 4 is a learner */
    uint32_t leader = fx_elect(fx);
    assert_true(leader != 3); /* priority 0 */
    struct rs_raft *lr = R(fx, leader);
    uint32_t follower = other_than(fx, leader, 3);
    uint64_t now = fx->now;
    assert_int_equal(rs_raft_transfer(R(fx, follower), now, leader), RS_ENOTLEADER);
    assert_int_equal(rs_raft_transfer(lr, now, 4), RS_EINVAL);  /* a learner */
    assert_int_equal(rs_raft_transfer(lr, now, 3), RS_EINVAL);  /* priority 0 */
    assert_int_equal(rs_raft_transfer(lr, now, 9), RS_EINVAL);  /* not a member */
    assert_int_equal(rs_raft_transfer(lr, now, leader), RS_OK); /* itself: nothing to do */
    assert_false(rs_raft_transferring(lr));
    lr->change.stage = RS_CHANGE_CATCHING_UP; /* a configuration change is running */
    assert_int_equal(rs_raft_transfer(lr, now, follower), RS_EBUSY);
    lr->change.stage = RS_CHANGE_NONE;
    /* RS_NODE_NONE: the only voter that may lead and is not the leader */
    assert_int_equal(rs_raft_transfer(lr, now, RS_NODE_NONE), RS_OK);
    assert_int_equal(lr->transfer_target, follower);
    fx_drain(fx, leader);
    fx_settle(fx);
    assert_int_equal(fx_leader(fx), follower);
    fx_free(fx);
}

static void test_transfer_any_peer_picks_largest_match_then_priority(void **state)
{
    (void)state;
    struct rs_raft_config base = {.priority_election = true,
                                  .priorities = {[1] = 10, [2] = 10, [3] = 20, [4] = 30,
                                                 [5] = 1}};
    struct fixture *fx = fx_new(5, 5, &base, 5);
    uint32_t leader = fx_elect(fx);
    assert_int_equal(leader, 4); /* the highest priority leads */
    fx_put(fx, leader, "k", "v");
    fx_run(fx, 200 * MS);
    /* 3 misses the next entries: 1 and 2 (priority 10) and 5 (priority 1) are ahead */
    fx_cut(fx, 4, 3, ALL_TYPES);
    fx_put(fx, leader, "k", "v2");
    struct rs_raft *lr = R(fx, leader);
    assert_int_equal(rs_raft_transfer(lr, fx->now, RS_NODE_NONE), RS_OK);
    assert_int_equal(lr->transfer_target, 1); /* tie between 1 and 2: configuration order */
    fx_free(fx);
}

static void test_transfer_without_catchup_bug_sends_early(void **state)
{
    (void)state;
    struct rs_raft_config base = {.bugs = RS_BUG_TRANSFER_WITHOUT_CATCHUP};
    struct fixture *fx = fx_new(3, 3, &base, 6);
    uint32_t leader = fx_elect(fx);
    uint32_t target = other_than(fx, leader, 0);
    fx_cut(fx, leader, target, TYPE_BIT(RS_MSG_APPEND_REQUEST));
    for (int i = 0; i < 5; i++) {
        fx_put(fx, leader, "k", "lagging");
    }
    struct rs_raft *lr = R(fx, leader);
    rs_index target_last = rs_log_last_index(&R(fx, target)->log);
    assert_true(target_last < rs_log_last_index(&lr->log));
    assert_int_equal(rs_raft_transfer(lr, fx->now, target), RS_OK);
    /* sent at once although the target lags */
    assert_int_equal(lr->stats.timeout_now_sent, 1);
    rs_index match = 0;
    for (uint32_t i = 0; i < lr->peer_count; i++) {
        match = lr->progress[i].id == target ? lr->progress[i].match_index : match;
    }
    assert_true(match < rs_log_last_index(&lr->log));
    fx_drain(fx, leader);
    fx_settle(fx);
    /* the target campaigned with a stale log: it cannot win, and the leader was deposed */
    assert_int_equal(R(fx, target)->stats.timeout_now_elections, 1);
    assert_false(rs_raft_is_leader(R(fx, target)));
    assert_false(rs_raft_is_leader(lr));
    fx_free(fx);
}

/* A TimeoutNow counts only from the leader of the receiver's term, to a voter that may lead. */
static void test_timeout_now_ignored_unless_from_current_leader(void **state)
{
    (void)state;
    struct rs_raft_config base = {.priority_election = true,
                                  .priorities = {[1] = 5, [2] = 5, [3] = 5, [4] = 5}};
    struct fixture *fx = fx_new(4, 3, &base, 15); /* node 4 is a learner */
    uint32_t leader = fx_elect(fx);
    uint32_t f = other_than(fx, leader, 0);
    uint32_t g = other_than(fx, leader, f);
    rs_term term = R(fx, f)->term;
    struct rs_out out;
    rs_out_init(&out);
    struct rs_timeout_now from_peer = {.from = g, .term = term};
    struct rs_timeout_now stale = {.from = leader, .term = term - 1};
    struct rs_timeout_now good = {.from = leader, .term = term};
    rs_msg_send_timeout_now(&out, f, &from_peer);
    rs_msg_send_timeout_now(&out, f, &stale);
    rs_msg_send_timeout_now(&out, 4, &good);
    rs_node_id senders[3] = {g, leader, leader};
    rs_node_id receivers[3] = {f, f, 4};
    for (int i = 0; i < 3; i++) {
        rs_node_recv(fx->nodes[receivers[i]].node, fx->now, senders[i],
                     out.bytes + out.msgs[i].offset, out.msgs[i].size);
        fx_drain(fx, receivers[i]);
    }
    fx_settle(fx);
    assert_int_equal(fx_leader(fx), leader);
    assert_int_equal(R(fx, f)->term, term);
    assert_int_equal(R(fx, f)->stats.timeout_now_elections, 0);
    assert_int_equal(R(fx, 4)->stats.timeout_now_elections, 0); /* a learner never campaigns */
    /* a message claiming another sender than its link is dropped as corrupt */
    uint64_t corrupt = R(fx, f)->stats.corrupt_messages;
    rs_node_recv(fx->nodes[f].node, fx->now, g, out.bytes + out.msgs[2].offset,
                 out.msgs[2].size);
    fx_drain(fx, f);
    assert_int_equal(R(fx, f)->stats.corrupt_messages, corrupt);
    assert_int_equal(R(fx, f)->stats.timeout_now_elections, 0);
    rs_out_free(&out);
    fx_free(fx);
}

/* ------------------------------------------------------------------ priority */

/* With the top priority down, a node of priority 50 under a target of 100 skips while the
 * target decays 100 -> 80 -> 64 -> 52 -> 42 (steps max(10, target / 5)), then campaigns. */
static void test_priority_target_decays_then_lower_node_campaigns(void **state)
{
    (void)state;
    struct rs_raft_config base = {.priority_election = true,
                                  .priorities = {[1] = 100, [2] = 50, [3] = 50}};
    struct fixture *fx = fx_new(3, 3, &base, 16);
    fx_crash(fx, 1);
    fx_run(fx, 12 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    assert_true(leader == 2 || leader == 3);
    struct rs_raft *r = R(fx, leader);
    assert_int_equal(r->stats.priority_skips, 4);
    assert_int_equal(r->target_priority, 42);
    assert_int_equal(r->stats.elections_started, 1);
    /* the decayed target stays (it resets only when the configuration changes) */
    fx_start_node(fx, 1, 17);
    fx_run(fx, 2 * RS_NS_PER_S);
    assert_int_equal(fx_leader(fx), leader);
    fx_free(fx);
}

static void test_higher_priority_wins_when_logs_are_equal(void **state)
{
    (void)state;
    struct rs_raft_config base = {.priority_election = true,
                                  .priorities = {[1] = 10, [2] = 30, [3] = 20}};
    for (uint64_t seed = 1; seed <= 8; seed++) {
        struct fixture *fx = fx_new(3, 3, &base, seed);
        assert_int_equal(fx_elect(fx), 2);
        assert_int_equal(R(fx, 1)->stats.elections_started, 0);
        /* without node 2 the target decays until a lower priority may campaign */
        fx_crash(fx, 2);
        fx_run(fx, 8 * RS_NS_PER_S);
        uint32_t next = fx_leader(fx);
        assert_true(next == 1 || next == 3);
        assert_true(R(fx, 1)->stats.priority_skips + R(fx, 3)->stats.priority_skips > 0);
        fx_free(fx);
    }
}

static void test_priority_zero_never_leads(void **state)
{
    (void)state;
    struct rs_raft_config base = {.priority_election = true,
                                  .priorities = {[1] = 0, [2] = 1, [3] = 1}};
    struct fixture *fx = fx_new(3, 3, &base, 7);
    uint32_t leader = fx_elect(fx);
    assert_true(leader == 2 || leader == 3);
    for (int round = 0; round < 4; round++) {
        /* crash the leader, let another take over, bring it back */
        leader = fx_leader(fx);
        if (leader != 0) {
            fx_crash(fx, leader);
        }
        fx_run(fx, 4 * RS_NS_PER_S);
        assert_true(fx_leader(fx) != 1);
        if (leader != 0) {
            fx_start_node(fx, leader, 10 + (uint64_t)round);
        }
        fx_run(fx, 3 * RS_NS_PER_S);
    }
    assert_int_equal(R(fx, 1)->stats.elections_started, 0);
    assert_true(R(fx, 1)->stats.priority_skips > 0);
    /* with both others down, node 1 still never campaigns */
    fx_crash(fx, 2);
    fx_crash(fx, 3);
    fx_run(fx, 6 * RS_NS_PER_S);
    assert_int_equal(R(fx, 1)->stats.elections_started, 0);
    assert_int_equal(R(fx, 1)->role, RS_FOLLOWER);
    fx_free(fx);
}

/* ------------------------------------------------------------------ lease */

static void test_lease_duration_bound(void **state)
{
    (void)state;
    struct rs_raft_config cfg = {.election_timeout_ns = RS_NS_PER_S, .max_drift_ppm = 100000};
    /* 900 ms * (1 - 0.1) / (1 + 0.1), rounded down */
    assert_int_equal(rs_raft_lease_duration_ns(&cfg), 736363636u);
    cfg.max_drift_ppm = 0;
    assert_int_equal(rs_raft_lease_duration_ns(&cfg), 900 * MS);
    cfg.max_drift_ppm = 500;
    assert_int_equal(rs_raft_lease_duration_ns(&cfg), 899100449u);
    /* the planted bug trusts the full 9/10 whatever the drift */
    cfg.max_drift_ppm = 100000;
    cfg.bugs = RS_BUG_LEASE_IGNORES_DRIFT;
    assert_int_equal(rs_raft_lease_duration_ns(&cfg), 900 * MS);
    /* soundness: the leader's lease in real time never outlasts a fast follower's timeout */
    cfg.bugs = 0;
    for (uint32_t ppm = 0; ppm <= 200000; ppm += 5000) {
        cfg.max_drift_ppm = ppm;
        uint64_t d = rs_raft_lease_duration_ns(&cfg);
        /* d / (1 - rho) <= ET / (1 + rho)  <=>  d * (1e6 + ppm) <= ET * (1e6 - ppm) */
        assert_true((d / 1000) * (1000000u + ppm) <= (RS_NS_PER_S / 1000) * (1000000u - ppm));
    }
    /* huge timeouts do not overflow */
    cfg.election_timeout_ns = 3600ull * RS_NS_PER_S;
    cfg.max_drift_ppm = 999999;
    assert_true(rs_raft_lease_duration_ns(&cfg) < 2 * RS_NS_PER_S);
}

/* The leader, cut off after a confirmed round, reads without a round until the lease ends. */
static void lease_read_check(uint32_t bugs, uint64_t probe_ns, bool expect_lease)
{
    struct rs_raft_config base = {.read_mode = RS_READ_LEASE, .max_drift_ppm = 100000,
                                  .bugs = bugs};
    struct fixture *fx = fx_new(3, 3, &base, 8);
    uint32_t leader = fx_elect(fx);
    fx_put(fx, leader, "k", "v");
    fx_run(fx, 150 * MS);
    struct rs_raft *r = R(fx, leader);
    assert_int_equal(r->lease_term, r->term);
    uint64_t start = r->lease_start_ns;
    assert_true(fx->now - start <= 100 * MS); /* the last heartbeat round was acknowledged */
    fx_isolate(fx, leader, true);
    /* no ticks: only the read moves the leader's clock */
    fx->now = start + probe_ns;
    size_t done_before = r->reads_done_count;
    assert_int_equal(rs_raft_read_index(r, fx->now, 4242), RS_OK);
    rs_raft_flush(r);
    struct rs_out *out = &fx->nodes[leader].node->out;
    if (expect_lease) {
        assert_int_equal(r->reads_done_count, done_before + 1);
        assert_int_equal(r->reads_done[r->reads_done_count - 1].read_index, r->commit_index);
        assert_int_equal(out->msg_count, 0); /* no round */
        assert_int_equal(r->stats.lease_reads, 1);
    } else {
        assert_int_equal(r->reads_done_count, done_before);
        assert_true(out->msg_count >= 2); /* the safe round's heartbeats */
        assert_int_equal(r->stats.lease_reads, 0);
        assert_int_equal(r->read_count, 1);
        /* the fallback round confirms it once the followers answer (the node then drains
         * reads_done, so the pending count tells) */
        fx_drain(fx, leader);
        fx_isolate(fx, leader, false);
        fx_settle(fx);
        assert_int_equal(r->read_count, 0);
        assert_true(rs_raft_is_leader(r));
        assert_true(rs_raft_lease_valid(r)); /* and the round renewed the lease */
    }
    r->reads_done_count = 0;
    fx_drain(fx, leader);
    fx_free(fx);
}

static void test_lease_read_inside_answers_at_once(void **state)
{
    (void)state;
    lease_read_check(0, 736 * MS, true);
}

static void test_lease_read_outside_falls_back_to_round(void **state)
{
    (void)state;
    lease_read_check(0, 737 * MS, false);
    lease_read_check(0, 850 * MS, false);
}

static void test_lease_ignores_drift_bug_trusts_longer_lease(void **state)
{
    (void)state;
    lease_read_check(RS_BUG_LEASE_IGNORES_DRIFT, 850 * MS, true);
    lease_read_check(RS_BUG_LEASE_IGNORES_DRIFT, 900 * MS, false);
}

static void test_lease_off_in_safe_mode_and_without_prevote(void **state)
{
    (void)state;
    struct rs_raft_config base = {.read_mode = RS_READ_SAFE};
    struct fixture *fx = fx_new(3, 3, &base, 9);
    uint32_t leader = fx_elect(fx);
    fx_run(fx, 200 * MS);
    assert_false(rs_raft_lease_valid(R(fx, leader)));
    assert_int_equal(rs_raft_read_index(R(fx, leader), fx->now, 1), RS_OK);
    assert_int_equal(R(fx, leader)->stats.lease_reads, 0);
    fx_free(fx);
}

/* A new leader has acknowledged rounds but no entry of its term committed: no lease read. */
static void test_new_leader_no_lease_before_its_entry_commits(void **state)
{
    (void)state;
    struct rs_raft_config base = {.read_mode = RS_READ_LEASE, .max_drift_ppm = 1000};
    struct fixture *fx = fx_new(3, 3, &base, 10);
    uint32_t old = fx_elect(fx);
    uint32_t next = other_than(fx, old, 0);
    uint32_t third = other_than(fx, old, next);
    fx->nodes[third].hold_disk = true; /* it never votes and never acknowledges entries */
    assert_int_equal(rs_node_transfer(fx->nodes[old].node, fx->now, next), RS_OK);
    fx_drain(fx, old);
    /* deliver until `next` wins, then hold the old leader's disk too */
    for (int i = 0; i < 1000 && !rs_raft_is_leader(R(fx, next)); i++) {
        assert_true(fx_deliver_one(fx));
    }
    assert_true(rs_raft_is_leader(R(fx, next)));
    fx->nodes[old].hold_disk = true;
    fx_settle(fx);
    struct rs_raft *r = R(fx, next);
    assert_true(r->commit_index < r->term_start_index);
    assert_int_equal(r->lease_term, r->term); /* heartbeats were acknowledged ... */
    assert_false(rs_raft_lease_valid(r));     /* ... but the lease waits for the commit */
    assert_int_equal(rs_raft_read_index(r, fx->now, 5), RS_EAGAIN);
    fx_release_disk(fx, old);
    fx_release_disk(fx, third);
    fx_settle(fx);
    assert_true(r->commit_index >= r->term_start_index);
    fx_run(fx, 100 * MS);
    assert_true(rs_raft_lease_valid(r));
    fx_free(fx);
}

/* ------------------------------------------------------------------ follower reads */

static void test_follower_read_forwards_and_waits_for_apply(void **state)
{
    (void)state;
    struct rs_raft_config base = {.follower_reads = true};
    struct fixture *fx = fx_new(3, 3, &base, 11);
    uint32_t leader = fx_elect(fx);
    uint32_t f = other_than(fx, leader, 0);
    fx_put(fx, leader, "k", "v1");
    fx_run(fx, 200 * MS);
    /* f stops receiving entries (ReadIndex traffic still flows) and the value moves on */
    fx_cut(fx, leader, f, TYPE_BIT(RS_MSG_APPEND_REQUEST));
    fx_put(fx, leader, "k", "v2");
    uint64_t get = fx_request(fx, f, RS_KV_GET, "k", NULL);
    fx_settle(fx);
    assert_int_equal(R(fx, f)->stats.reads_forwarded, 1);
    assert_int_equal(R(fx, leader)->stats.remote_reads_answered, 1);
    /* f knows the read index but has not applied it: no answer yet (never the stale v1) */
    assert_null(fx_reply(fx, get));
    assert_int_equal(fx->nodes[f].node->read_count, 1);
    fx_cut(fx, leader, f, 0);
    fx_run(fx, 200 * MS);
    assert_null(fx_reply(fx, get)); /* the lost appends are resent after ET/2 */
    fx_run(fx, 600 * MS);
    const struct reply *rp = fx_reply(fx, get);
    assert_non_null(rp);
    assert_int_equal(rp->from, f);
    assert_int_equal(rp->status, RS_OK);
    assert_string_equal(rp->value, "v2");
    fx_free(fx);
}

static void test_follower_read_times_out(void **state)
{
    (void)state;
    struct rs_raft_config base = {.follower_reads = true, .read_timeout_ns = 500 * MS};
    struct fixture *fx = fx_new(3, 3, &base, 12);
    uint32_t leader = fx_elect(fx);
    uint32_t f = other_than(fx, leader, 0);
    fx_put(fx, leader, "k", "v1");
    fx_run(fx, 200 * MS);
    /* the request is lost */
    fx_cut(fx, f, leader, TYPE_BIT(RS_MSG_READ_INDEX_REQUEST));
    uint64_t lost = fx_request(fx, f, RS_KV_GET, "k", NULL);
    fx_settle(fx);
    /* the answer comes but the entries do not */
    fx_cut(fx, f, leader, 0);
    fx_cut(fx, leader, f, TYPE_BIT(RS_MSG_APPEND_REQUEST));
    fx_put(fx, leader, "k", "v2");
    uint64_t stuck = fx_request(fx, f, RS_KV_GET, "k", NULL);
    fx_run(fx, 400 * MS);
    assert_null(fx_reply(fx, lost));
    assert_null(fx_reply(fx, stuck));
    fx_run(fx, 200 * MS);
    assert_int_equal(fx_reply(fx, lost)->status, RS_ETIMEDOUT);
    assert_int_equal(fx_reply(fx, stuck)->status, RS_ETIMEDOUT);
    assert_int_equal(fx->nodes[f].node->read_count, 0);
    assert_int_equal(R(fx, f)->forward_count, 0);
    assert_int_equal(fx->nodes[f].node->stats.reads_timed_out, 2);
    fx_free(fx);
}

/* The leader steps down while a forwarded read waits for its round: the follower hears so. */
static void test_forwarded_read_fails_when_leader_steps_down(void **state)
{
    (void)state;
    struct rs_raft_config base = {.follower_reads = true};
    struct fixture *fx = fx_new(3, 3, &base, 18);
    uint32_t leader = fx_elect(fx);
    uint32_t f = other_than(fx, leader, 0);
    uint32_t g = other_than(fx, leader, f);
    fx_put(fx, leader, "k", "v1");
    fx_run(fx, 200 * MS);
    /* no quorum round can complete: g is gone, f gets no heartbeats (reads still flow) */
    fx_isolate(fx, g, true);
    fx_cut(fx, leader, f, TYPE_BIT(RS_MSG_APPEND_REQUEST));
    uint64_t get = fx_request(fx, f, RS_KV_GET, "k", NULL);
    fx_settle(fx);
    assert_int_equal(R(fx, leader)->remote_count, 1);
    fx_run(fx, 1600 * MS); /* the step-down check (every ET/2) finds no majority */
    assert_false(rs_raft_is_leader(R(fx, leader)));
    assert_int_equal(R(fx, leader)->remote_count, 0);
    const struct reply *rp = fx_reply(fx, get);
    assert_non_null(rp);
    assert_int_equal(rp->status, RS_ENOTLEADER);
    fx_free(fx);
}

static void test_follower_reads_off_answers_not_leader(void **state)
{
    (void)state;
    struct fixture *fx = fx_new(3, 3, NULL, 13);
    uint32_t leader = fx_elect(fx);
    uint32_t f = other_than(fx, leader, 0);
    uint64_t get = fx_request(fx, f, RS_KV_GET, "k", NULL);
    const struct reply *rp = fx_reply(fx, get);
    assert_non_null(rp);
    assert_int_equal(rp->status, RS_ENOTLEADER);
    assert_int_equal(R(fx, f)->stats.reads_forwarded, 0);
    fx_free(fx);
}

static void test_learner_serves_reads_in_lease_mode(void **state)
{
    (void)state;
    struct rs_raft_config base = {.follower_reads = true, .read_mode = RS_READ_LEASE,
                                  .max_drift_ppm = 500};
    struct fixture *fx = fx_new(4, 3, &base, 14); /* node 4 is a learner */
    uint32_t leader = fx_elect(fx);
    fx_put(fx, leader, "k", "learned");
    fx_run(fx, 300 * MS);
    uint64_t get = fx_request(fx, 4, RS_KV_GET, "k", NULL);
    uint64_t absent = fx_request(fx, 4, RS_KV_GET, "nope", NULL);
    fx_settle(fx);
    const struct reply *rp = fx_reply(fx, get);
    assert_non_null(rp);
    assert_int_equal(rp->status, RS_OK);
    assert_string_equal(rp->value, "learned");
    assert_int_equal(fx_reply(fx, absent)->status, RS_OK);
    assert_false(fx_reply(fx, absent)->found);
    /* both forwarded, answered inside the lease without a round */
    assert_int_equal(R(fx, 4)->stats.reads_forwarded, 2);
    assert_int_equal(R(fx, leader)->stats.lease_reads, 2);
    /* writes still go to the leader */
    uint64_t put = fx_request(fx, 4, RS_KV_PUT, "k", "no");
    assert_int_equal(fx_reply(fx, put)->status, RS_ENOTLEADER);
    fx_free(fx);
}

/* ------------------------------------------------------------------ codecs */

static void test_leadership_message_codecs(void **state)
{
    (void)state;
    struct rs_out out;
    rs_out_init(&out);
    struct rs_timeout_now tn = {.from = 3, .term = 77};
    struct rs_read_index_request rq = {.from = 2, .term = 5, .request_id = 99};
    struct rs_read_index_response rs = {.from = 1, .term = 5, .request_id = 99,
                                        .read_index = 1234, .err = RS_EAGAIN};
    rs_msg_send_timeout_now(&out, 1, &tn);
    rs_msg_send_read_index_request(&out, 1, &rq);
    rs_msg_send_read_index_response(&out, 2, &rs);
    assert_int_equal(out.msg_count, 3);
    unsigned type;
    struct rs_bytes body[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rs_frame_decode(out.bytes + out.msgs[i].offset, out.msgs[i].size, &type,
                                         &body[i]),
                         RS_OK);
        assert_int_equal(type, out.msgs[i].type);
    }
    struct rs_timeout_now tn2;
    struct rs_read_index_request rq2;
    struct rs_read_index_response rs2;
    assert_int_equal(rs_msg_decode_timeout_now(body[0], &tn2), RS_OK);
    assert_int_equal(tn2.term, 77);
    assert_int_equal(rs_msg_decode_read_index_request(body[1], &rq2), RS_OK);
    assert_int_equal(rq2.request_id, 99);
    assert_int_equal(rs_msg_decode_read_index_response(body[2], &rs2), RS_OK);
    assert_int_equal(rs2.read_index, 1234);
    assert_int_equal(rs2.err, RS_EAGAIN);
    /* truncated bodies and unknown error codes are corrupt */
    struct rs_bytes cut = {body[2].data, body[2].size - 1};
    assert_int_equal(rs_msg_decode_read_index_response(cut, &rs2), RS_ECORRUPT);
    uint8_t bad[64];
    memcpy(bad, body[2].data, body[2].size);
    bad[body[2].size - 4] = 0xff;
    struct rs_bytes badb = {bad, body[2].size};
    assert_int_equal(rs_msg_decode_read_index_response(badb, &rs2), RS_ECORRUPT);
    struct rs_bytes longer = {body[0].data, body[0].size + 1};
    assert_int_equal(rs_msg_decode_timeout_now(longer, &tn2), RS_ECORRUPT);
    rs_out_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transfer_to_caught_up_follower_elects_it_next_term),
        cmocka_unit_test(test_transfer_waits_for_lagging_follower),
        cmocka_unit_test(test_transfer_timeout_restores_leadership),
        cmocka_unit_test(test_transfer_refusals),
        cmocka_unit_test(test_transfer_any_peer_picks_largest_match_then_priority),
        cmocka_unit_test(test_transfer_without_catchup_bug_sends_early),
        cmocka_unit_test(test_timeout_now_ignored_unless_from_current_leader),
        cmocka_unit_test(test_priority_target_decays_then_lower_node_campaigns),
        cmocka_unit_test(test_higher_priority_wins_when_logs_are_equal),
        cmocka_unit_test(test_priority_zero_never_leads),
        cmocka_unit_test(test_lease_duration_bound),
        cmocka_unit_test(test_lease_read_inside_answers_at_once),
        cmocka_unit_test(test_lease_read_outside_falls_back_to_round),
        cmocka_unit_test(test_lease_ignores_drift_bug_trusts_longer_lease),
        cmocka_unit_test(test_lease_off_in_safe_mode_and_without_prevote),
        cmocka_unit_test(test_new_leader_no_lease_before_its_entry_commits),
        cmocka_unit_test(test_follower_read_forwards_and_waits_for_apply),
        cmocka_unit_test(test_follower_read_times_out),
        cmocka_unit_test(test_forwarded_read_fails_when_leader_steps_down),
        cmocka_unit_test(test_follower_reads_off_answers_not_leader),
        cmocka_unit_test(test_learner_serves_reads_in_lease_mode),
        cmocka_unit_test(test_leadership_message_codecs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
