/* Raft core driven by hand-made events: a tiny fixture with a perfect, ordered network and
 * an instant disk that keeps files as byte arrays (synced and unsynced). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/raft/raft.h"
#include "core/raft/msg.h"
#include "core/wire/frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_MAX 5
#define FILES_MAX 256
#define QUEUE_MAX 100000

struct tfile {
    char name[RS_FILE_NAME_MAX];
    uint8_t *cur;
    size_t cur_size;
    uint8_t *durable;
    size_t durable_size;
    bool used;
};

struct tnode {
    struct rs_raft raft;
    struct rs_out out;
    struct tfile files[FILES_MAX];
    bool down;
    uint64_t pending_disk[4096];
    size_t pending_disk_count;
    bool hold_disk;    /* when set, disk ops never complete */
    bool skip_renames; /* when set, renames never happen (a crash just before them) */
};

struct tmsg {
    rs_node_id from, to;
    uint8_t *data;
    size_t size;
};

struct fixture {
    uint32_t n;
    uint32_t voters; /* nodes 1..voters start as voters; the others start outside the group */
    struct tnode nodes[N_MAX + 1];
    struct tmsg queue[QUEUE_MAX];
    size_t q_head, q_count;
    uint64_t now;
    uint32_t bugs;
    bool drop[N_MAX + 1][N_MAX + 1];
};

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
        if (t->skip_renames) {
            break;
        }
        struct tfile *to = file_get(t, d->name2, false);
        if (to != NULL) {
            free(to->cur);
            free(to->durable);
            memset(to, 0, sizeof *to);
        }
        strcpy(f->name, d->name2); /* metadata is durable at once, as in the simulator */
        break;
    }
    default: fail_msg("unexpected disk op");
    }
}

static void fx_drain(struct fixture *fx, uint32_t id)
{
    struct tnode *t = &fx->nodes[id];
    struct rs_out *out = &t->out;
    for (size_t i = 0; i < out->msg_count; i++) {
        struct rs_out_msg *m = &out->msgs[i];
        assert_true(fx->q_count < QUEUE_MAX);
        struct tmsg *q = &fx->queue[(fx->q_head + fx->q_count++) % QUEUE_MAX];
        q->from = id;
        q->to = m->to;
        q->size = m->size;
        q->data = malloc(m->size);
        memcpy(q->data, out->bytes + m->offset, m->size);
    }
    /* apply disk ops now (instant disk) but complete them after draining, in order */
    size_t count = out->disk_count;
    uint64_t ids[4096];
    assert_true(count < 4096);
    for (size_t i = 0; i < count; i++) {
        disk_apply(t, &out->disk[i], out->bytes);
        ids[i] = out->disk[i].id;
    }
    rs_out_clear(out);
    for (size_t i = 0; i < count; i++) {
        if (t->hold_disk) {
            t->pending_disk[t->pending_disk_count++] = ids[i];
            continue;
        }
        rs_raft_disk_done(&t->raft, fx->now, ids[i], RS_OK);
        rs_raft_flush(&t->raft);
        fx_drain(fx, id);
    }
}

static void fx_start_node(struct fixture *fx, uint32_t id, uint64_t seed)
{
    struct tnode *t = &fx->nodes[id];
    struct rs_raft_config cfg = {
        .id = id,
        .voter_count = fx->n,
        .election_timeout_ns = 1000 * RS_NS_PER_MS,
        .heartbeat_ns = 100 * RS_NS_PER_MS,
        .pre_vote = true,
        .max_inflight = 8,
        .batch_entries = 4,
        .batch_bytes = 1 << 20,
        .proposal_queue = 1000,
        .segment_bytes_max = 256,
        .snapshot_chunk_bytes = 100,
        .snapshot_margin = 5,
        .random_seed = seed * 7919 + id,
        .bugs = fx->bugs,
    };
    cfg.voter_count = fx->voters ? fx->voters : fx->n;
    for (uint32_t i = 0; i < cfg.voter_count; i++) {
        cfg.voters[i] = i + 1;
    }
    rs_out_init(&t->out);
    rs_raft_init(&t->raft, &cfg, &t->out);
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
    assert_int_equal(rs_raft_recover(&t->raft, fx->now, views, count), RS_OK);
    t->down = false;
    fx_drain(fx, id);
}

static void fx_init_voters(struct fixture *fx, uint32_t n, uint32_t voters, uint32_t bugs)
{
    memset(fx, 0, sizeof *fx);
    fx->n = n;
    fx->voters = voters;
    fx->bugs = bugs;
    for (uint32_t i = 1; i <= n; i++) {
        fx_start_node(fx, i, 1);
    }
}

static void fx_init(struct fixture *fx, uint32_t n, uint32_t bugs)
{
    memset(fx, 0, sizeof *fx);
    fx->n = n;
    fx->bugs = bugs;
    for (uint32_t i = 1; i <= n; i++) {
        fx_start_node(fx, i, 1);
    }
}

/* A crash: volatile state gone, unsynced file content lost. */
static void fx_crash(struct fixture *fx, uint32_t id)
{
    struct tnode *t = &fx->nodes[id];
    rs_raft_free(&t->raft);
    rs_out_free(&t->out);
    for (int i = 0; i < FILES_MAX; i++) {
        struct tfile *f = &t->files[i];
        if (f->used) {
            f->cur = realloc(f->cur, f->durable_size ? f->durable_size : 1);
            memcpy(f->cur, f->durable, f->durable_size);
            f->cur_size = f->durable_size;
        }
    }
    t->down = true;
    t->pending_disk_count = 0;
}

static void fx_free(struct fixture *fx)
{
    for (uint32_t i = 1; i <= fx->n; i++) {
        struct tnode *t = &fx->nodes[i];
        if (!t->down) {
            rs_raft_free(&t->raft);
            rs_out_free(&t->out);
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
    if (!t->down && !fx->drop[m.from][m.to]) {
        unsigned type;
        struct rs_bytes body;
        assert_int_equal(rs_frame_decode(m.data, m.size, &type, &body), RS_OK);
        rs_raft_recv(&t->raft, fx->now, m.from, type, body);
        rs_raft_flush(&t->raft);
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

/* Advances time in 10 ms steps, ticking nodes whose deadline passed, delivering messages. */
static void fx_run(struct fixture *fx, uint64_t duration_ns)
{
    uint64_t end = fx->now + duration_ns;
    while (fx->now < end) {
        fx->now += 10 * RS_NS_PER_MS;
        for (uint32_t i = 1; i <= fx->n; i++) {
            struct tnode *t = &fx->nodes[i];
            if (!t->down && rs_raft_deadline(&t->raft) <= fx->now) {
                rs_raft_tick(&t->raft, fx->now);
                rs_raft_flush(&t->raft);
                fx_drain(fx, i);
            }
        }
        fx_settle(fx);
    }
}

static uint32_t fx_leader(struct fixture *fx)
{
    uint32_t leader = 0;
    for (uint32_t i = 1; i <= fx->n; i++) {
        if (!fx->nodes[i].down && rs_raft_is_leader(&fx->nodes[i].raft)) {
            assert_int_equal(leader, 0);
            leader = i;
        }
    }
    return leader;
}

static void fx_propose(struct fixture *fx, uint32_t id, const char *text)
{
    struct rs_raft *r = &fx->nodes[id].raft;
    rs_index index;
    rs_term term;
    struct rs_bytes data = {(const uint8_t *)text, strlen(text)};
    assert_int_equal(rs_raft_propose(r, fx->now, data, &index, &term), RS_OK);
    rs_raft_flush(r);
    fx_drain(fx, id);
}

static void test_elects_one_leader(void **state)
{
    (void)state;
    struct fixture *fx = calloc(1, sizeof *fx);
    fx_init(fx, 3, 0);
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    assert_true(leader >= 1 && leader <= 3);
    rs_term term = fx->nodes[leader].raft.term;
    for (uint32_t i = 1; i <= 3; i++) {
        assert_int_equal(fx->nodes[i].raft.term, term);
        assert_int_equal(fx->nodes[i].raft.leader_id, leader);
    }
    /* the leader's configuration entry commits everywhere */
    fx_run(fx, RS_NS_PER_S);
    for (uint32_t i = 1; i <= 3; i++) {
        assert_true(fx->nodes[i].raft.commit_index >= 1);
    }
    fx_free(fx);
    free(fx);
}

static void test_replicates_and_commits(void **state)
{
    (void)state;
    struct fixture *fx = calloc(1, sizeof *fx);
    fx_init(fx, 3, 0);
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    char text[32];
    for (int i = 0; i < 200; i++) {
        snprintf(text, sizeof text, "cmd-%d", i);
        fx_propose(fx, leader, text);
    }
    fx_run(fx, RS_NS_PER_S);
    struct rs_raft *lr = &fx->nodes[leader].raft;
    rs_index last = rs_log_last_index(&lr->log);
    assert_true(last >= 201);
    for (uint32_t i = 1; i <= 3; i++) {
        struct rs_raft *r = &fx->nodes[i].raft;
        assert_int_equal(r->commit_index, last);
        assert_int_equal(rs_log_last_index(&r->log), last);
        const struct rs_entry *e = rs_log_get(&r->log, last);
        assert_int_equal(e->size, strlen("cmd-199"));
        assert_memory_equal(e->data, "cmd-199", e->size);
    }
    fx_free(fx);
    free(fx);
}

static void test_leader_crash_reelects_and_keeps_committed(void **state)
{
    (void)state;
    struct fixture *fx = calloc(1, sizeof *fx);
    fx_init(fx, 5, 0);
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    fx_propose(fx, leader, "before-crash");
    fx_run(fx, RS_NS_PER_S);
    rs_index committed = fx->nodes[leader].raft.commit_index;
    rs_term old_term = fx->nodes[leader].raft.term;
    fx_crash(fx, leader);
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t next = fx_leader(fx);
    assert_true(next != 0 && next != leader);
    assert_true(fx->nodes[next].raft.term > old_term);
    assert_true(rs_log_last_index(&fx->nodes[next].raft.log) >= committed);
    /* the old leader restarts from its disk and catches up */
    fx_start_node(fx, leader, 2);
    fx_propose(fx, next, "after-restart");
    fx_run(fx, 3 * RS_NS_PER_S);
    struct rs_raft *old = &fx->nodes[leader].raft;
    assert_int_equal(rs_log_last_index(&old->log), rs_log_last_index(&fx->nodes[next].raft.log));
    assert_int_equal(old->commit_index, fx->nodes[next].raft.commit_index);
    fx_free(fx);
    free(fx);
}

static void test_recovery_restores_term_vote_and_log(void **state)
{
    (void)state;
    struct fixture *fx = calloc(1, sizeof *fx);
    fx_init(fx, 3, 0);
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    for (int i = 0; i < 50; i++) {
        fx_propose(fx, leader, "payload-payload-payload");
    }
    fx_run(fx, RS_NS_PER_S);
    uint32_t follower = leader % 3 + 1;
    struct rs_raft *f = &fx->nodes[follower].raft;
    rs_term term = f->term;
    rs_node_id voted = f->voted_for;
    rs_index last = rs_log_last_index(&f->log);
    assert_true(f->store.segment_count > 1); /* small segments: the log spans several files */
    fx_crash(fx, follower);
    fx_start_node(fx, follower, 3);
    f = &fx->nodes[follower].raft;
    assert_int_equal(f->term, term);
    assert_int_equal(f->voted_for, voted);
    assert_int_equal(rs_log_last_index(&f->log), last);
    assert_int_equal(f->durable_index, last);
    fx_free(fx);
    free(fx);
}

static void test_torn_tail_is_cut_on_recovery(void **state)
{
    (void)state;
    struct rs_out out;
    rs_out_init(&out);
    /* two good records and a third with a damaged checksum */
    uint8_t file[512];
    size_t pos = 0;
    for (rs_index i = 1; i <= 3; i++) {
        rs_log_record_encode(file + pos, i, 1, RS_ENTRY_DATA, 0, (const uint8_t *)"abcd", 4);
        pos += rs_log_record_size(4);
    }
    file[pos - 1] ^= 0x40;
    struct rs_file_view view = {"log-0000000000000001", file, pos};
    struct rs_log log;
    struct rs_log_store store;
    struct rs_log_recovery rec;
    rs_log_init(&log);
    memset(&store, 0, sizeof store);
    assert_int_equal(rs_log_recover(&log, &store, &view, 1, &out, &rec), RS_OK);
    assert_int_equal(rs_log_last_index(&log), 2);
    assert_true(rec.cut);
    assert_int_equal(rec.cut_offset, 2 * rs_log_record_size(4));
    assert_int_equal(out.disk_count, 2);
    assert_int_equal(out.disk[0].kind, RS_DISK_TRUNCATE);
    assert_int_equal(out.disk[0].offset, 2 * rs_log_record_size(4));
    rs_log_free(&log);
    rs_log_store_free(&store);
    rs_out_free(&out);
}

static void test_meta_picks_newest_valid_slot(void **state)
{
    (void)state;
    uint8_t file[2 * RS_META_SLOT_SIZE];
    struct rs_meta a = {.seq = 7, .term = 3, .voted_for = 2};
    struct rs_meta b = {.seq = 8, .term = 4, .voted_for = 0};
    rs_meta_encode(file + RS_META_SLOT_SIZE, &a);
    rs_meta_encode(file, &b);
    struct rs_meta got;
    assert_int_equal(rs_meta_decode(file, sizeof file, &got), RS_OK);
    assert_int_equal(got.term, 4);
    file[20] ^= 1; /* damage the newer slot: the older one wins */
    assert_int_equal(rs_meta_decode(file, sizeof file, &got), RS_OK);
    assert_int_equal(got.term, 3);
    assert_int_equal(got.voted_for, 2);
    file[RS_META_SLOT_SIZE + 3] ^= 1;
    assert_int_equal(rs_meta_decode(file, sizeof file, &got), RS_ENOTFOUND);
}

/* A vote grant must not leave before the vote is durable. */
static void test_vote_waits_for_meta_sync(void **state)
{
    (void)state;
    struct rs_out out;
    struct rs_raft r;
    rs_out_init(&out);
    struct rs_raft_config cfg = {.id = 2, .voter_count = 3, .voters = {1, 2, 3},
                                 .election_timeout_ns = RS_NS_PER_S,
                                 .heartbeat_ns = 100 * RS_NS_PER_MS, .pre_vote = true,
                                 .max_inflight = 4, .batch_entries = 4, .batch_bytes = 4096,
                                 .proposal_queue = 100, .random_seed = 5};
    rs_raft_init(&r, &cfg, &out);
    assert_int_equal(rs_raft_recover(&r, 0, NULL, 0), RS_OK);
    struct rs_out req_out;
    rs_out_init(&req_out);
    struct rs_vote_request req = {.from = 1, .term = 1, .last_log_index = 0, .last_log_term = 0};
    rs_msg_send_vote_request(&req_out, 2, &req);
    unsigned type;
    struct rs_bytes body;
    assert_int_equal(rs_frame_decode(req_out.bytes, req_out.msgs[0].size, &type, &body), RS_OK);
    rs_raft_recv(&r, 10, 1, type, body);
    assert_int_equal(r.voted_for, 1);
    assert_int_equal(out.msg_count, 0); /* held */
    assert_true(out.disk_count >= 2);   /* meta write + sync */
    for (size_t i = 0; i < out.disk_count; i++) {
        uint64_t id = out.disk[i].id;
        if (i + 1 == out.disk_count) {
            rs_out_clear(&out);
        }
        rs_raft_disk_done(&r, 20, id, RS_OK);
    }
    assert_int_equal(out.msg_count, 1);
    assert_int_equal(out.msgs[0].type, RS_MSG_VOTE_RESPONSE);
    rs_raft_free(&r);
    rs_out_free(&out);
    rs_out_free(&req_out);
}

static void test_disk_error_enters_error_state(void **state)
{
    (void)state;
    struct rs_out out;
    struct rs_raft r;
    rs_out_init(&out);
    struct rs_raft_config cfg = {.id = 1, .voter_count = 1, .voters = {1},
                                 .election_timeout_ns = RS_NS_PER_S,
                                 .heartbeat_ns = 100 * RS_NS_PER_MS, .pre_vote = true,
                                 .max_inflight = 4, .batch_entries = 4, .batch_bytes = 4096,
                                 .proposal_queue = 100, .random_seed = 5};
    rs_raft_init(&r, &cfg, &out);
    assert_int_equal(rs_raft_recover(&r, 0, NULL, 0), RS_OK);
    rs_raft_tick(&r, 3 * RS_NS_PER_S);
    assert_true(rs_raft_is_leader(&r)); /* a single voter elects itself */
    rs_raft_flush(&r);
    assert_true(out.disk_count > 0);
    rs_raft_disk_done(&r, 3 * RS_NS_PER_S, out.disk[0].id, RS_EIO);
    assert_int_equal(r.role, RS_ERROR_STATE);
    rs_index index;
    rs_term term;
    struct rs_bytes data = {(const uint8_t *)"x", 1};
    assert_int_equal(rs_raft_propose(&r, 4 * RS_NS_PER_S, data, &index, &term), RS_ESHUTDOWN);
    rs_raft_free(&r);
    rs_out_free(&out);
}

static void test_read_index_needs_quorum_round(void **state)
{
    (void)state;
    struct fixture *fx = calloc(1, sizeof *fx);
    fx_init(fx, 3, 0);
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    struct rs_raft *r = &fx->nodes[leader].raft;
    /* cut the leader off: the read cannot be confirmed */
    for (uint32_t i = 1; i <= 3; i++) {
        fx->drop[leader][i] = fx->drop[i][leader] = true;
    }
    assert_int_equal(rs_raft_read_index(r, fx->now, 42), RS_OK);
    rs_raft_flush(r);
    fx_drain(fx, leader);
    fx_settle(fx);
    assert_int_equal(r->reads_done_count, 0);
    for (uint32_t i = 1; i <= 3; i++) {
        fx->drop[leader][i] = fx->drop[i][leader] = false;
    }
    assert_int_equal(rs_raft_read_index(r, fx->now, 43), RS_OK);
    rs_raft_flush(r);
    fx_drain(fx, leader);
    fx_settle(fx);
    assert_int_equal(r->reads_done_count, 2); /* the later round confirms both */
    assert_int_equal(r->reads_done[0].cookie, 42);
    assert_int_equal(r->reads_done[0].err, RS_OK);
    fx_free(fx);
    free(fx);
}

static void test_read_without_quorum_bug_answers_at_once(void **state)
{
    (void)state;
    struct fixture *fx = calloc(1, sizeof *fx);
    fx_init(fx, 3, RS_BUG_READ_WITHOUT_QUORUM);
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    struct rs_raft *r = &fx->nodes[leader].raft;
    assert_int_equal(rs_raft_read_index(r, fx->now, 1), RS_OK);
    assert_int_equal(r->reads_done_count, 1);
    fx_free(fx);
    free(fx);
}

static void test_isolated_leader_steps_down(void **state)
{
    (void)state;
    struct fixture *fx = calloc(1, sizeof *fx);
    fx_init(fx, 3, 0);
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    for (uint32_t i = 1; i <= 3; i++) {
        fx->drop[leader][i] = fx->drop[i][leader] = true;
    }
    fx_run(fx, 3 * RS_NS_PER_S);
    assert_false(rs_raft_is_leader(&fx->nodes[leader].raft));
    uint32_t next = fx_leader(fx);
    assert_true(next != 0 && next != leader);
    fx_free(fx);
    free(fx);
}


static struct tfile *find_prefix(struct tnode *t, const char *prefix, bool part)
{
    for (int i = 0; i < FILES_MAX; i++) {
        struct tfile *f = &t->files[i];
        if (f->used && strncmp(f->name, prefix, strlen(prefix)) == 0 &&
            (strstr(f->name, ".part") != NULL) == part) {
            return f;
        }
    }
    return NULL;
}

static void fx_snapshot(struct fixture *fx, uint32_t id, const char *data)
{
    struct rs_raft *r = &fx->nodes[id].raft;
    r->applied_index = r->commit_index; /* the fixture has no state machine: all applied */
    assert_int_equal(rs_raft_snapshot_save(r, r->applied_index, (const uint8_t *)data,
                                           strlen(data)),
                     RS_OK);
    fx_drain(fx, id);
}

static void test_snapshot_compacts_and_recovers(void **state)
{
    (void)state;
    struct fixture *fx = calloc(1, sizeof *fx);
    fx_init(fx, 3, 0);
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    for (int i = 0; i < 60; i++) {
        fx_propose(fx, leader, "entry-entry-entry");
    }
    fx_run(fx, RS_NS_PER_S);
    struct rs_raft *r = &fx->nodes[leader].raft;
    rs_index commit = r->commit_index;
    uint32_t segments_before = r->store.segment_count;
    fx_snapshot(fx, leader, "state-at-commit");
    assert_int_equal(rs_raft_snapshot_index(r), commit);
    assert_int_equal(r->log.first_index, commit + 1 - 5); /* the margin stays */
    assert_true(r->store.segment_count < segments_before);
    struct tfile *f = find_prefix(&fx->nodes[leader], "snap-", false);
    assert_non_null(f);
    assert_null(find_prefix(&fx->nodes[leader], "snap-", true)); /* renamed, no .part left */
    /* restart from disk: the snapshot and the log after it come back */
    fx_crash(fx, leader);
    fx_start_node(fx, leader, 9);
    r = &fx->nodes[leader].raft;
    assert_int_equal(rs_raft_snapshot_index(r), commit);
    assert_true(r->snapshot_to_load);
    struct rs_bytes data = rs_raft_snapshot_data(r);
    assert_int_equal(data.size, strlen("state-at-commit"));
    assert_memory_equal(data.data, "state-at-commit", data.size);
    rs_raft_snapshot_loaded(r);
    assert_int_equal(r->applied_index, commit);
    assert_int_equal(r->commit_index, commit);
    assert_int_equal(rs_log_last_index(&r->log), commit);
    fx_free(fx);
    free(fx);
}

static void test_lagging_follower_gets_snapshot_in_chunks(void **state)
{
    (void)state;
    struct fixture *fx = calloc(1, sizeof *fx);
    fx_init(fx, 3, 0);
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    uint32_t lagger = leader % 3 + 1;
    fx_crash(fx, lagger);
    for (int i = 0; i < 80; i++) {
        fx_propose(fx, leader, "while-you-were-away");
    }
    fx_run(fx, RS_NS_PER_S);
    char big[1000];
    memset(big, 'S', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    fx_snapshot(fx, leader, big); /* about 1 KB: ten chunks of 100 bytes */
    struct rs_raft *lr = &fx->nodes[leader].raft;
    assert_true(lr->log.first_index > 1);
    /* a chunk gets lost on the way: the retry timer resends it */
    fx_start_node(fx, lagger, 4);
    fx_run(fx, 50 * RS_NS_PER_MS);
    fx->drop[leader][lagger] = true;
    fx_run(fx, 200 * RS_NS_PER_MS);
    fx->drop[leader][lagger] = false;
    fx_run(fx, 3 * RS_NS_PER_S);
    struct rs_raft *f = &fx->nodes[lagger].raft;
    assert_int_equal(f->stats.snapshots_installed, 1);
    assert_int_equal(rs_raft_snapshot_index(f), rs_raft_snapshot_index(lr));
    assert_true(f->snapshot_to_load);
    assert_memory_equal(rs_raft_snapshot_data(f).data, big, sizeof big - 1);
    rs_raft_snapshot_loaded(f);
    fx_propose(fx, leader, "after-install");
    fx_run(fx, RS_NS_PER_S);
    assert_int_equal(rs_log_last_index(&f->log), rs_log_last_index(&lr->log));
    assert_int_equal(f->commit_index, lr->commit_index);
    assert_true(lr->stats.snapshot_chunks_sent >= 10);
    fx_free(fx);
    free(fx);
}

/* A crash between writing the .part file and the rename leaves the old state in charge. */
static void test_crash_during_save_keeps_old_state(void **state)
{
    (void)state;
    struct fixture *fx = calloc(1, sizeof *fx);
    fx_init(fx, 3, 0);
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    for (int i = 0; i < 20; i++) {
        fx_propose(fx, leader, "x");
    }
    fx_run(fx, RS_NS_PER_S);
    struct tnode *t = &fx->nodes[leader];
    rs_index last = rs_log_last_index(&t->raft.log);
    t->hold_disk = true; /* the save's operations never complete ... */
    t->skip_renames = true; /* ... and the crash comes before the rename */
    fx_snapshot(fx, leader, "never-finished");
    fx_crash(fx, leader);
    t->hold_disk = false;
    t->skip_renames = false;
    /* the .part file is complete and synced, but only a renamed file is trusted */
    assert_non_null(find_prefix(t, "snap-", true));
    fx_start_node(fx, leader, 5);
    struct rs_raft *r = &t->raft;
    assert_int_equal(rs_raft_snapshot_index(r), 0);
    assert_false(r->snapshot_to_load);
    assert_int_equal(rs_log_last_index(&r->log), last);
    fx_free(fx);
    free(fx);
}

static struct rs_conf conf_of(const rs_node_id *voters, uint32_t nv, const rs_node_id *learners,
                              uint32_t nl)
{
    struct rs_conf c = {.voter_count = nv, .learner_count = nl};
    memcpy(c.voters, voters, nv * sizeof *voters);
    if (nl > 0) {
        memcpy(c.learners, learners, nl * sizeof *learners);
    }
    return c;
}

static void test_add_voter_through_joint_consensus(void **state)
{
    (void)state;
    struct fixture *fx = calloc(1, sizeof *fx);
    fx_init_voters(fx, 4, 3, 0); /* node 4 runs but is not a member */
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    assert_true(leader >= 1 && leader <= 3);
    for (int i = 0; i < 30; i++) {
        fx_propose(fx, leader, "before");
    }
    fx_run(fx, RS_NS_PER_S);
    struct rs_raft *r = &fx->nodes[leader].raft;
    rs_node_id v[] = {1, 2, 3, 4};
    struct rs_conf target = conf_of(v, 4, NULL, 0);
    assert_int_equal(rs_raft_change_conf(r, fx->now, &target), RS_OK);
    assert_int_equal(rs_raft_change_conf(r, fx->now, &target), RS_EBUSY); /* one at a time */
    rs_raft_flush(r);
    fx_drain(fx, leader);
    fx_run(fx, 2 * RS_NS_PER_S);
    assert_int_equal(r->change.stage, RS_CHANGE_NONE);
    assert_int_equal(r->change_result.err, RS_OK);
    assert_true(rs_conf_equal(&r->conf, &target));
    /* the log holds the joint entry then the new configuration, both committed */
    bool joint_seen = false;
    for (rs_index i = r->log.first_index; i <= r->commit_index; i++) {
        const struct rs_entry *e = rs_log_get(&r->log, i);
        struct rs_conf c;
        if (e->type == RS_ENTRY_CONF &&
            rs_conf_decode((struct rs_bytes){e->data, e->size}, &c) == RS_OK &&
            rs_conf_joint(&c)) {
            joint_seen = true;
            assert_int_equal(c.old_voter_count, 3);
            assert_int_equal(c.voter_count, 4);
        }
    }
    assert_true(joint_seen);
    struct rs_raft *n4 = &fx->nodes[4].raft;
    assert_true(rs_conf_equal(&n4->conf, &target));
    assert_int_equal(n4->commit_index, r->commit_index);
    fx_free(fx);
    free(fx);
}

static void test_learner_replicated_but_never_counted(void **state)
{
    (void)state;
    struct fixture *fx = calloc(1, sizeof *fx);
    fx_init_voters(fx, 4, 3, 0);
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    struct rs_raft *r = &fx->nodes[leader].raft;
    rs_node_id v[] = {1, 2, 3}, l[] = {4};
    struct rs_conf target = conf_of(v, 3, l, 1);
    assert_int_equal(rs_raft_change_conf(r, fx->now, &target), RS_OK);
    rs_raft_flush(r);
    fx_drain(fx, leader);
    fx_run(fx, RS_NS_PER_S);
    assert_int_equal(r->change_result.err, RS_OK);
    assert_true(rs_conf_is_learner(&r->conf, 4));
    /* the learner gets the log ... */
    fx_propose(fx, leader, "to-the-learner");
    fx_run(fx, RS_NS_PER_S);
    assert_int_equal(rs_log_last_index(&fx->nodes[4].raft.log), rs_log_last_index(&r->log));
    /* ... but with both other voters gone, leader + learner commit nothing */
    for (uint32_t id = 1; id <= 3; id++) {
        if (id != leader) {
            fx_crash(fx, id);
        }
    }
    rs_index commit = r->commit_index;
    fx_propose(fx, leader, "not-committed");
    fx_run(fx, 300 * RS_NS_PER_MS);
    assert_int_equal(r->commit_index, commit);
    /* a learner never campaigns */
    assert_int_equal(fx->nodes[4].raft.stats.elections_started, 0);
    fx_free(fx);
    free(fx);
}

static void test_learner_votes_count_bug_commits_without_voters(void **state)
{
    (void)state;
    struct fixture *fx = calloc(1, sizeof *fx);
    fx_init_voters(fx, 4, 3, RS_BUG_LEARNER_VOTES_COUNT);
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    struct rs_raft *r = &fx->nodes[leader].raft;
    rs_node_id v[] = {1, 2, 3}, l[] = {4};
    struct rs_conf target = conf_of(v, 3, l, 1);
    assert_int_equal(rs_raft_change_conf(r, fx->now, &target), RS_OK);
    rs_raft_flush(r);
    fx_drain(fx, leader);
    fx_run(fx, RS_NS_PER_S);
    uint32_t crashed = 0;
    for (uint32_t id = 1; id <= 3; id++) {
        if (id != leader && crashed++ == 0) {
            fx_crash(fx, id); /* one voter down: leader + learner make "two of four" */
        }
    }
    rs_index commit = r->commit_index;
    for (uint32_t id = 1; id <= 3; id++) {
        if (id != leader && !fx->nodes[id].down) {
            fx->drop[leader][id] = fx->drop[id][leader] = true;
        }
    }
    fx_propose(fx, leader, "counted-by-a-learner");
    fx_run(fx, 300 * RS_NS_PER_MS);
    assert_true(r->commit_index > commit); /* the planted bug: voters 1 of 3 + learner */
    fx_free(fx);
    free(fx);
}

static void test_leader_removing_itself_steps_down(void **state)
{
    (void)state;
    struct fixture *fx = calloc(1, sizeof *fx);
    fx_init(fx, 3, 0);
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    struct rs_raft *r = &fx->nodes[leader].raft;
    rs_node_id v[2];
    uint32_t n = 0;
    for (uint32_t id = 1; id <= 3; id++) {
        if (id != leader) {
            v[n++] = id;
        }
    }
    struct rs_conf target = conf_of(v, 2, NULL, 0);
    assert_int_equal(rs_raft_change_conf(r, fx->now, &target), RS_OK);
    rs_raft_flush(r);
    fx_drain(fx, leader);
    fx_run(fx, 5 * RS_NS_PER_S);
    assert_false(rs_raft_is_leader(r));
    uint32_t next = fx_leader(fx);
    assert_true(next != 0 && next != leader);
    assert_true(rs_conf_equal(&fx->nodes[next].raft.conf, &target));
    fx_free(fx);
    free(fx);
}

static void test_reset_conf_recovers_from_majority_loss(void **state)
{
    (void)state;
    struct fixture *fx = calloc(1, sizeof *fx);
    fx_init(fx, 3, 0);
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    uint32_t survivor = leader;
    for (uint32_t id = 1; id <= 3; id++) {
        if (id != survivor) {
            fx_crash(fx, id); /* the majority is gone for good */
        }
    }
    fx_run(fx, 3 * RS_NS_PER_S);
    assert_false(rs_raft_is_leader(&fx->nodes[survivor].raft));
    rs_node_id v[] = {survivor};
    struct rs_conf alone = conf_of(v, 1, NULL, 0);
    struct rs_raft *r = &fx->nodes[survivor].raft;
    rs_term term = r->term;
    assert_int_equal(rs_raft_reset_conf(r, fx->now, &alone), RS_OK);
    assert_true(r->term > term);
    fx_drain(fx, survivor);
    fx_run(fx, 3 * RS_NS_PER_S);
    assert_true(rs_raft_is_leader(r));
    fx_free(fx);
    free(fx);
}

/* Damage to a record that a later record says was synced is not a torn tail: refuse. */
static void test_corrupt_synced_record_is_reported(void **state)
{
    (void)state;
    struct rs_out out;
    rs_out_init(&out);
    uint8_t file[512];
    size_t pos = 0;
    for (rs_index i = 1; i <= 3; i++) {
        /* record 3 was written when 1..2 were already durable */
        rs_log_record_encode(file + pos, i, 1, RS_ENTRY_DATA, i - 1, (const uint8_t *)"abcd", 4);
        pos += rs_log_record_size(4);
    }
    file[rs_log_record_size(4) + 45] ^= 0x01; /* damage record 2's payload */
    struct rs_file_view view = {"log-0000000000000001", file, pos};
    struct rs_log log;
    struct rs_log_store store;
    struct rs_log_recovery rec;
    rs_log_init(&log);
    memset(&store, 0, sizeof store);
    assert_int_equal(rs_log_recover(&log, &store, &view, 1, &out, &rec), RS_ECORRUPT);
    assert_non_null(strstr(rec.detail, "log-0000000000000001"));
    assert_non_null(strstr(rec.detail, "entry 2"));
    rs_log_free(&log);
    rs_log_store_free(&store);
    /* the same damage with record 3 written before the sync: a torn tail, cut */
    pos = 0;
    for (rs_index i = 1; i <= 3; i++) {
        rs_log_record_encode(file + pos, i, 1, RS_ENTRY_DATA, 0, (const uint8_t *)"abcd", 4);
        pos += rs_log_record_size(4);
    }
    file[rs_log_record_size(4) + 45] ^= 0x01;
    rs_log_init(&log);
    memset(&store, 0, sizeof store);
    assert_int_equal(rs_log_recover(&log, &store, &view, 1, &out, &rec), RS_OK);
    assert_int_equal(rs_log_last_index(&log), 1);
    rs_log_free(&log);
    rs_log_store_free(&store);
    rs_out_free(&out);
}

/* A follower that crashes halfway through a download resumes from what its .part file holds. */
static void test_install_resumes_after_follower_crash(void **state)
{
    (void)state;
    struct fixture *fx = calloc(1, sizeof *fx);
    fx_init(fx, 3, 0);
    fx_run(fx, 5 * RS_NS_PER_S);
    uint32_t leader = fx_leader(fx);
    uint32_t lagger = leader % 3 + 1;
    fx_crash(fx, lagger);
    for (int i = 0; i < 40; i++) {
        fx_propose(fx, leader, "backlog");
    }
    fx_run(fx, RS_NS_PER_S);
    char big[2000];
    memset(big, 'R', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    fx_snapshot(fx, leader, big); /* about 2 KB: twenty chunks */
    struct rs_raft *lr = &fx->nodes[leader].raft;
    fx_start_node(fx, lagger, 6);
    /* let a few chunks through, one message at a time, then crash the follower */
    struct tnode *t = &fx->nodes[lagger];
    fx->now += 10 * RS_NS_PER_MS;
    rs_raft_tick(lr, fx->now);
    rs_raft_flush(lr);
    fx_drain(fx, leader);
    for (int i = 0; i < 100000 && t->raft.install.received < 800; i++) {
        if (!fx_deliver_one(fx)) {
            fx->now += 100 * RS_NS_PER_MS;
            rs_raft_tick(lr, fx->now);
            rs_raft_flush(lr);
            fx_drain(fx, leader);
        }
    }
    assert_true(t->raft.install.active);
    uint64_t received = t->raft.install.received;
    assert_true(received > 0 && received < lr->snap.file_size);
    /* the chunk writes were never synced: make them durable as a kind disk would, so the
     * resume point is visible (a torn .part is caught by the checksum at the end) */
    for (int i = 0; i < FILES_MAX; i++) {
        struct tfile *f = &t->files[i];
        if (f->used && strstr(f->name, ".part") != NULL) {
            f->durable = realloc(f->durable, f->cur_size);
            memcpy(f->durable, f->cur, f->cur_size);
            f->durable_size = f->cur_size;
        }
    }
    fx_crash(fx, lagger);
    fx_start_node(fx, lagger, 7);
    assert_true(t->raft.install.active);
    assert_int_equal(t->raft.install.received, received); /* resumes, not from zero */
    uint64_t sent_mid = lr->stats.snapshot_chunks_sent;
    fx_run(fx, 3 * RS_NS_PER_S);
    assert_int_equal(t->raft.stats.snapshots_installed, 1);
    assert_memory_equal(rs_raft_snapshot_data(&t->raft).data, big, sizeof big - 1);
    /* fewer chunks than a fresh download of twenty were needed after the crash */
    assert_true(lr->stats.snapshot_chunks_sent - sent_mid < 20);
    fx_free(fx);
    free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_elects_one_leader),
        cmocka_unit_test(test_replicates_and_commits),
        cmocka_unit_test(test_leader_crash_reelects_and_keeps_committed),
        cmocka_unit_test(test_recovery_restores_term_vote_and_log),
        cmocka_unit_test(test_torn_tail_is_cut_on_recovery),
        cmocka_unit_test(test_corrupt_synced_record_is_reported),
        cmocka_unit_test(test_meta_picks_newest_valid_slot),
        cmocka_unit_test(test_vote_waits_for_meta_sync),
        cmocka_unit_test(test_disk_error_enters_error_state),
        cmocka_unit_test(test_read_index_needs_quorum_round),
        cmocka_unit_test(test_read_without_quorum_bug_answers_at_once),
        cmocka_unit_test(test_isolated_leader_steps_down),
        cmocka_unit_test(test_snapshot_compacts_and_recovers),
        cmocka_unit_test(test_lagging_follower_gets_snapshot_in_chunks),
        cmocka_unit_test(test_crash_during_save_keeps_old_state),
        cmocka_unit_test(test_install_resumes_after_follower_crash),
        cmocka_unit_test(test_add_voter_through_joint_consensus),
        cmocka_unit_test(test_learner_replicated_but_never_counted),
        cmocka_unit_test(test_learner_votes_count_bug_commits_without_voters),
        cmocka_unit_test(test_leader_removing_itself_steps_down),
        cmocka_unit_test(test_reset_conf_recovers_from_majority_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
