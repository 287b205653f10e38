/* Hibernation (core/raft/hibernate.c) driven by hand-made events: the raft fixture of
 * test_raft.c (a perfect, ordered network and an instant disk), with a host that applies every
 * committed entry at once and counts the messages it carries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/raft/raft.h"
#include "core/raft/msg.h"
#include "core/store/store.h"
#include "core/wire/frame.h"
#include "sim/layout.h"
#include "sim/world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_MAX     5
#define FILES_MAX 128
#define QUEUE_MAX 20000
#define HB_NS     (100 * RS_NS_PER_MS)
#define ET_NS     (1000 * RS_NS_PER_MS)

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
};

struct tmsg {
    rs_node_id from, to;
    uint8_t *data;
    size_t size;
};

struct fixture {
    uint32_t n;
    bool hibernate;
    enum rs_read_mode read_mode;
    struct tnode nodes[N_MAX + 1];
    struct tmsg queue[QUEUE_MAX];
    size_t q_head, q_count;
    uint64_t now;
    bool drop[N_MAX + 1][N_MAX + 1];
    uint64_t sent[RS_MSG_TYPE_MAX]; /* messages queued, by type */
    uint64_t sent_total;
};

static struct tfile *file_get(struct tnode *t, const char *name, bool create)
{
    for (int i = 0; i < FILES_MAX; i++) {
        if (t->files[i].used && strcmp(t->files[i].name, name) == 0) {
            return &t->files[i];
        }
    }
    for (int i = 0; create && i < FILES_MAX; i++) {
        if (!t->files[i].used) {
            memset(&t->files[i], 0, sizeof t->files[i]);
            t->files[i].used = true;
            strcpy(t->files[i].name, name);
            return &t->files[i];
        }
    }
    assert_false(create); /* out of file slots */
    return NULL;
}

/* The instant disk: writes, syncs and truncates (these tests take no snapshots). */
static void disk_apply(struct tnode *t, const struct rs_out_disk *d, const uint8_t *bytes)
{
    struct tfile *f = file_get(t, d->name, d->kind == RS_DISK_WRITE);
    if (f == NULL) {
        return;
    }
    if (d->kind == RS_DISK_WRITE) {
        size_t end = d->offset + d->data_size;
        if (end > f->cur_size) {
            f->cur = realloc(f->cur, end);
            memset(f->cur + f->cur_size, 0, end - f->cur_size);
            f->cur_size = end;
        }
        memcpy(f->cur + d->offset, bytes + d->data_offset, d->data_size);
    } else if (d->kind == RS_DISK_SYNC) {
        f->durable = realloc(f->durable, f->cur_size ? f->cur_size : 1);
        memcpy(f->durable, f->cur, f->cur_size);
        f->durable_size = f->cur_size;
    } else if (d->kind == RS_DISK_TRUNCATE) {
        f->cur_size = d->offset < f->cur_size ? d->offset : f->cur_size;
        f->durable_size = d->offset < f->durable_size ? d->offset : f->durable_size;
    } else {
        fail_msg("unexpected disk op %d", d->kind);
    }
}

/* Queues the node's messages, runs its disk, and applies what it committed (the host). */
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
        fx->sent[m->type]++;
        fx->sent_total++;
    }
    size_t count = out->disk_count;
    uint64_t ids[256];
    assert_true(count < 256);
    for (size_t i = 0; i < count; i++) {
        disk_apply(t, &out->disk[i], out->bytes);
        ids[i] = out->disk[i].id;
    }
    rs_out_clear(out);
    for (size_t i = 0; i < count; i++) {
        rs_raft_disk_done(&t->raft, fx->now, ids[i], RS_OK);
        rs_raft_flush(&t->raft);
        fx_drain(fx, id);
    }
    if (t->raft.role != RS_ERROR_STATE && t->raft.applied_index < t->raft.commit_index) {
        rs_raft_set_applied(&t->raft, t->raft.commit_index);
    }
}

static void fx_start_node(struct fixture *fx, uint32_t id)
{
    struct tnode *t = &fx->nodes[id];
    struct rs_raft_config cfg = {
        .id = id,
        .voter_count = fx->n,
        .election_timeout_ns = ET_NS,
        .heartbeat_ns = HB_NS,
        .pre_vote = true,
        .read_mode = fx->read_mode,
        .max_inflight = 8,
        .batch_entries = 4,
        .batch_bytes = 1 << 20,
        .proposal_queue = 1000,
        .segment_bytes_max = 1 << 20,
        .snapshot_chunk_bytes = 100,
        .snapshot_margin = 5,
        .random_seed = 7919 + id,
        .hibernate = fx->hibernate,
    };
    for (uint32_t i = 0; i < fx->n; i++) {
        cfg.voters[i] = i + 1;
    }
    rs_out_init(&t->out);
    rs_raft_init(&t->raft, &cfg, &t->out);
    struct rs_file_view views[FILES_MAX];
    size_t count = 0;
    for (int i = 0; i < FILES_MAX; i++) {
        if (t->files[i].used) {
            views[count++] =
                (struct rs_file_view){t->files[i].name, t->files[i].cur, t->files[i].cur_size};
        }
    }
    assert_int_equal(rs_raft_recover(&t->raft, fx->now, views, count), RS_OK);
    t->down = false;
    fx_drain(fx, id);
}

static struct fixture *fx_new(uint32_t n, bool hibernate, enum rs_read_mode read_mode)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    fx->n = n;
    fx->hibernate = hibernate;
    fx->read_mode = read_mode;
    for (uint32_t i = 1; i <= n; i++) {
        fx_start_node(fx, i);
    }
    return fx;
}

/* A crash: volatile state gone, unsynced bytes lost. */
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
    free(fx);
}

static void fx_settle(struct fixture *fx)
{
    for (int i = 0; i < 100000 && fx->q_count > 0; i++) {
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
    rs_term best = 0;
    for (uint32_t i = 1; i <= fx->n; i++) {
        struct rs_raft *r = &fx->nodes[i].raft;
        if (!fx->nodes[i].down && rs_raft_is_leader(r) && r->term >= best) {
            leader = i;
            best = r->term;
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

static bool all_asleep(struct fixture *fx)
{
    for (uint32_t i = 1; i <= fx->n; i++) {
        if (!fx->nodes[i].down && !rs_raft_hibernating(&fx->nodes[i].raft)) {
            return false;
        }
    }
    return true;
}

static uint64_t elections(struct fixture *fx)
{
    uint64_t sum = 0;
    for (uint32_t i = 1; i <= fx->n; i++) {
        sum += fx->nodes[i].down ? 0 : fx->nodes[i].raft.stats.elections_started;
    }
    return sum;
}

/* A three-node group that elected a leader, committed its first entry and went to sleep. */
static struct fixture *fx_asleep(enum rs_read_mode read_mode, uint32_t *leader)
{
    struct fixture *fx = fx_new(3, true, read_mode);
    fx_run(fx, 3 * ET_NS);
    *leader = fx_leader(fx);
    assert_int_not_equal(*leader, 0);
    /* K idle periods, a period for the hibernate round, and slack */
    fx_run(fx, (RS_RAFT_HIBERNATE_IDLE_ROUNDS + 3) * HB_NS);
    assert_true(all_asleep(fx));
    return fx;
}

/* Wakes the group with a proposal and stops the moment it sleeps again: the leader's last
 * heartbeat round, a lease round, is a period old. */
static void fx_fall_asleep_again(struct fixture *fx, uint32_t leader)
{
    fx_propose(fx, leader, "wake");
    fx_settle(fx);
    assert_false(all_asleep(fx));
    for (int i = 0; i < 100 && !all_asleep(fx); i++) {
        fx_run(fx, 10 * RS_NS_PER_MS);
    }
    assert_true(all_asleep(fx));
}

static void test_idle_group_falls_silent(void **state)
{
    (void)state;
    uint32_t leader;
    struct fixture *fx = fx_asleep(RS_READ_SAFE, &leader);
    assert_true(fx->sent[RS_MSG_HIBERNATE] >= 2); /* one to each follower */
    for (uint32_t i = 1; i <= 3; i++) {
        assert_int_equal(rs_raft_deadline(&fx->nodes[i].raft), UINT64_MAX);
        assert_int_equal(fx->nodes[i].raft.leader_id, leader);
    }
    /* a minute of silence: no message, no election, the same leader */
    uint64_t sent = fx->sent_total;
    rs_term term = fx->nodes[leader].raft.term;
    fx_run(fx, 60 * RS_NS_PER_S);
    assert_int_equal(fx->sent_total, sent);
    assert_int_equal(fx_leader(fx), leader);
    assert_int_equal(fx->nodes[leader].raft.term, term);
    fx_free(fx);
}

static void test_without_hibernate_heartbeats_go_on(void **state)
{
    (void)state;
    struct fixture *fx = fx_new(3, false, RS_READ_SAFE);
    fx_run(fx, 3 * ET_NS);
    uint64_t sent = fx->sent_total;
    fx_run(fx, 10 * RS_NS_PER_S);
    /* 100 periods, two followers, a heartbeat and its answer each */
    assert_true(fx->sent_total - sent >= 400);
    assert_int_equal(fx->sent[RS_MSG_HIBERNATE], 0);
    for (uint32_t i = 1; i <= 3; i++) {
        assert_false(rs_raft_hibernating(&fx->nodes[i].raft));
        assert_true(rs_raft_deadline(&fx->nodes[i].raft) < UINT64_MAX);
    }
    fx_free(fx);
}

static void test_proposal_wakes_the_group(void **state)
{
    (void)state;
    uint32_t leader;
    struct fixture *fx = fx_asleep(RS_READ_SAFE, &leader);
    uint64_t appends = fx->sent[RS_MSG_APPEND_REQUEST];
    fx_propose(fx, leader, "wake");
    assert_false(rs_raft_hibernating(&fx->nodes[leader].raft));
    assert_true(fx->sent[RS_MSG_APPEND_REQUEST] > appends); /* out at once, not a period later */
    fx_settle(fx);
    struct rs_raft *lr = &fx->nodes[leader].raft;
    rs_index last = rs_log_last_index(&lr->log);
    assert_int_equal(lr->commit_index, last);
    for (uint32_t i = 1; i <= 3; i++) {
        struct rs_raft *r = &fx->nodes[i].raft;
        assert_false(rs_raft_hibernating(r));
        assert_true(rs_raft_deadline(r) < UINT64_MAX);
    }
    fx_run(fx, 2 * HB_NS); /* the followers learn the commit from the next heartbeat */
    for (uint32_t i = 1; i <= 3; i++) {
        assert_int_equal(fx->nodes[i].raft.commit_index, last);
    }
    /* idle again: back to sleep, with the same leader */
    fx_run(fx, (RS_RAFT_HIBERNATE_IDLE_ROUNDS + 3) * HB_NS);
    assert_true(all_asleep(fx));
    assert_int_equal(fx_leader(fx), leader);
    assert_true(lr->stats.hibernations >= 2);
    fx_free(fx);
}

static void test_woken_follower_wakes_the_leader_without_election(void **state)
{
    (void)state;
    uint32_t leader;
    struct fixture *fx = fx_asleep(RS_READ_SAFE, &leader);
    uint32_t follower = leader % 3 + 1;
    uint64_t before = elections(fx);
    rs_term term = fx->nodes[leader].raft.term;
    /* a client request reached the follower: its host signals it */
    rs_raft_wake(&fx->nodes[follower].raft, fx->now);
    assert_false(rs_raft_hibernating(&fx->nodes[follower].raft));
    assert_true(rs_raft_deadline(&fx->nodes[follower].raft) < UINT64_MAX);
    fx_drain(fx, follower);
    assert_int_equal(fx->sent[RS_MSG_WAKE_UP], 1);
    fx_settle(fx);
    assert_false(rs_raft_hibernating(&fx->nodes[leader].raft)); /* heartbeating again */
    /* well past an election timeout: nobody campaigned, and the group sleeps again */
    fx_run(fx, 3 * ET_NS);
    assert_int_equal(elections(fx), before);
    assert_int_equal(fx_leader(fx), leader);
    assert_int_equal(fx->nodes[leader].raft.term, term);
    assert_true(all_asleep(fx));
    fx_free(fx);
}

static void test_crashed_sleeping_leader_is_replaced(void **state)
{
    (void)state;
    uint32_t leader;
    struct fixture *fx = fx_asleep(RS_READ_SAFE, &leader);
    rs_term term = fx->nodes[leader].raft.term;
    fx_crash(fx, leader);
    /* silence hides the crash: nobody campaigns on its own */
    fx_run(fx, 5 * ET_NS);
    assert_int_equal(fx_leader(fx), 0);
    /* a client gives up on the leader and turns to a follower, which wakes; its wake-up goes
     * unanswered, it campaigns, and the other follower (woken by the pre-vote) elects it */
    uint32_t follower = leader % 3 + 1;
    rs_raft_wake(&fx->nodes[follower].raft, fx->now);
    fx_drain(fx, follower);
    /* within its first timeout (randomized below 2 ET): the sleeping follower, which heard
     * nothing for long, grants the first pre-vote */
    fx_run(fx, 2 * ET_NS + 2 * HB_NS);
    uint32_t next = fx_leader(fx);
    assert_true(next != 0 && next != leader);
    assert_true(fx->nodes[next].raft.term > term);
    /* the old leader restarts as a follower and is caught up by the new one */
    fx_start_node(fx, leader);
    fx_propose(fx, next, "after");
    fx_run(fx, ET_NS);
    assert_int_equal(fx->nodes[leader].raft.commit_index, fx->nodes[next].raft.commit_index);
    assert_int_equal(fx_leader(fx), next);
    fx_free(fx);
}

static void test_restarted_leader_wakes_its_followers(void **state)
{
    (void)state;
    uint32_t leader;
    struct fixture *fx = fx_asleep(RS_READ_SAFE, &leader);
    rs_term term = fx->nodes[leader].raft.term;
    fx_crash(fx, leader);
    fx_run(fx, 2 * ET_NS);
    /* back from its disk: it asks every voter to wake, and those that followed it know it no
     * longer leads, so a new term starts without any client's help */
    fx_start_node(fx, leader);
    assert_int_equal(fx->sent[RS_MSG_WAKE_UP], 2);
    fx_run(fx, 6 * ET_NS);
    uint32_t next = fx_leader(fx);
    assert_int_not_equal(next, 0);
    assert_true(fx->nodes[next].raft.term > term);
    fx_free(fx);
}

static void test_restarted_follower_is_heartbeaten_without_election(void **state)
{
    (void)state;
    uint32_t leader;
    struct fixture *fx = fx_asleep(RS_READ_SAFE, &leader);
    uint32_t follower = leader % 3 + 1;
    rs_term term = fx->nodes[leader].raft.term;
    fx_crash(fx, follower);
    fx_start_node(fx, follower); /* its wake-ups reach the sleeping leader */
    fx_settle(fx);
    assert_false(rs_raft_hibernating(&fx->nodes[leader].raft));
    assert_int_equal(fx->nodes[follower].raft.leader_id, leader);
    fx_run(fx, 3 * ET_NS);
    assert_int_equal(fx_leader(fx), leader);
    assert_int_equal(fx->nodes[leader].raft.term, term);
    assert_true(all_asleep(fx));
    fx_free(fx);
}

static void test_lost_hibernate_message_is_resent(void **state)
{
    (void)state;
    uint32_t leader;
    struct fixture *fx = fx_asleep(RS_READ_SAFE, &leader);
    uint32_t follower = leader % 3 + 1;
    uint64_t before = elections(fx);
    fx_propose(fx, leader, "wake");
    fx_settle(fx);
    /* the leader's messages to one follower are lost while the group dozes off (for less
     * than an election timeout, so that the follower does not campaign) */
    fx->drop[leader][follower] = true;
    fx_run(fx, (RS_RAFT_HIBERNATE_IDLE_ROUNDS + 2) * HB_NS);
    struct rs_raft *lr = &fx->nodes[leader].raft;
    assert_false(rs_raft_hibernating(lr)); /* it waits for that acknowledgement */
    assert_int_equal(lr->hib_state, RS_HIB_DOZING);
    assert_false(rs_raft_hibernating(&fx->nodes[follower].raft));
    uint64_t hibernates = fx->sent[RS_MSG_HIBERNATE];
    fx_run(fx, 2 * HB_NS);
    assert_true(fx->sent[RS_MSG_HIBERNATE] >= hibernates + 2); /* resent every period */
    fx->drop[leader][follower] = false;
    fx_run(fx, 3 * HB_NS);
    assert_true(all_asleep(fx));
    assert_int_equal(fx_leader(fx), leader);
    assert_int_equal(elections(fx), before); /* the follower's silence deposed nobody */
    fx_free(fx);
}

static void test_sleeping_leader_serves_no_lease_read(void **state)
{
    (void)state;
    uint32_t leader;
    struct fixture *fx = fx_asleep(RS_READ_LEASE, &leader);
    struct rs_raft *r = &fx->nodes[leader].raft;
    fx_fall_asleep_again(fx, leader);
    /* the last confirmed round is recent: an awake leader would answer from its lease */
    assert_int_equal(r->lease_term, r->term);
    assert_true(fx->now - r->lease_start_ns < rs_raft_lease_duration_ns(&r->cfg));
    assert_false(rs_raft_lease_valid(r));
    uint64_t lease_reads = r->stats.lease_reads;
    assert_int_equal(rs_raft_read_index(r, fx->now, 7), RS_OK);
    assert_int_equal(r->reads_done_count, 0); /* not at once: a quorum round first */
    assert_int_equal(r->stats.lease_reads, lease_reads);
    rs_raft_flush(r);
    fx_drain(fx, leader);
    fx_settle(fx);
    assert_int_equal(r->reads_done_count, 1);
    assert_int_equal(r->reads_done[0].cookie, 7);
    assert_int_equal(r->reads_done[0].err, RS_OK);
    r->reads_done_count = 0;
    /* the round after the wake restarted the lease: the next read needs no round */
    assert_true(rs_raft_lease_valid(r));
    assert_int_equal(rs_raft_read_index(r, fx->now, 8), RS_OK);
    assert_int_equal(r->reads_done_count, 1);
    assert_int_equal(r->stats.lease_reads, lease_reads + 1);
    fx_free(fx);
}

static void test_sleeping_leader_cut_off_reads_nothing(void **state)
{
    (void)state;
    uint32_t leader;
    struct fixture *fx = fx_asleep(RS_READ_LEASE, &leader);
    struct rs_raft *r = &fx->nodes[leader].raft;
    fx_fall_asleep_again(fx, leader);
    assert_true(fx->now - r->lease_start_ns < rs_raft_lease_duration_ns(&r->cfg));
    /* cut off while asleep: a lease from before the sleep must not answer, and without a
     * quorum the read waits (the followers may have elected another leader meanwhile) */
    for (uint32_t i = 1; i <= 3; i++) {
        fx->drop[leader][i] = fx->drop[i][leader] = true;
    }
    assert_int_equal(rs_raft_read_index(r, fx->now, 9), RS_OK);
    rs_raft_flush(r);
    fx_drain(fx, leader);
    fx_settle(fx);
    assert_int_equal(r->reads_done_count, 0);
    assert_false(rs_raft_lease_valid(r));
    fx_run(fx, ET_NS / 2); /* still inside the old lease's window: nothing */
    assert_int_equal(r->reads_done_count, 0);
    fx_free(fx);
}

/* ---- stores in the simulated world ---- */

#define WORLD_REGIONS 6u

static struct rs_world *world_open(struct rs_trace *trace)
{
    struct rs_world_config c;
    memset(&c, 0, sizeof c);
    c.seed = 3;
    c.node_count = 3;
    c.replica_count = 3;
    c.raft = (struct rs_raft_config){.election_timeout_ns = 300 * RS_NS_PER_MS,
                                     .heartbeat_ns = 50 * RS_NS_PER_MS,
                                     .pre_vote = true,
                                     .max_inflight = 16,
                                     .batch_entries = 16,
                                     .batch_bytes = 64 * 1024,
                                     .proposal_queue = 1024,
                                     .hibernate = true};
    c.net =
        (struct rs_link_params){.latency_min_ns = RS_NS_PER_MS, .latency_max_ns = 3 * RS_NS_PER_MS};
    c.disk = (struct rs_disk_params){.write_latency_min_ns = 50 * RS_NS_PER_US,
                                     .write_latency_max_ns = 100 * RS_NS_PER_US,
                                     .sync_latency_min_ns = 200 * RS_NS_PER_US,
                                     .sync_latency_max_ns = 500 * RS_NS_PER_US,
                                     .read_latency_min_ns = 50 * RS_NS_PER_US,
                                     .read_latency_max_ns = 50 * RS_NS_PER_US,
                                     .block_size = 512,
                                     .torn_keep_ppm = 500000};
    c.workload = (struct rs_workload_config){.client_count = 0,
                                             .key_count = 60,
                                             .request_timeout_ns = 200 * RS_NS_PER_MS,
                                             .op_timeout_ns = 2 * RS_NS_PER_S,
                                             .value_size = 16};
    c.workload.mix[RS_KV_PUT] = 1;
    c.fault_phase_ns = 1000 * RS_NS_PER_S;
    c.liveness_ns = 10 * RS_NS_PER_S;
    struct rs_region *regions = rs_layout_split_keys(c.workload.key_count, WORLD_REGIONS);
    c.regions = regions;
    c.region_count = WORLD_REGIONS;
    struct rs_world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    rs_trace_init(trace, NULL);
    assert_int_equal(rs_world_init(w, &c, trace), RS_OK);
    for (uint32_t i = 0; i < WORLD_REGIONS; i++) {
        rs_region_free(&regions[i]);
    }
    free(regions);
    return w;
}

static void world_close(struct rs_world *w, struct rs_trace *trace)
{
    rs_world_free(w);
    free(w);
    rs_trace_free(trace);
}

static bool world_asleep(const struct rs_world *w)
{
    for (uint32_t id = 1; id <= w->cfg.node_count; id++) {
        const struct rs_store *s = w->nodes[id].store;
        for (size_t i = 0; s != NULL && i < s->replica_count; i++) {
            if (!rs_raft_hibernating(&s->replicas[i]->raft)) {
                return false;
            }
        }
        if (s != NULL && rs_store_deadline(s) != UINT64_MAX) {
            return false; /* a sleeping store has no timer at all */
        }
    }
    return true;
}

/*
 * A store whose replica found its leader silent wakes its other replicas that sleep under the
 * same leader: when a client's request brings one region of a crashed leader store back, the
 * others that store led come back too, with no client of their own.
 */
static void test_store_wakes_the_regions_of_a_silent_leader(void **state)
{
    (void)state;
    struct rs_trace trace;
    struct rs_world *w = world_open(&trace);
    rs_world_run_until(w, 5 * RS_NS_PER_S);
    assert_true(world_asleep(w));
    uint32_t led[4] = {0};
    for (uint32_t i = 0; i < WORLD_REGIONS; i++) {
        led[rs_world_region_leader(w, i)]++;
    }
    uint32_t crashed = led[1] >= 2 ? 1 : (led[2] >= 2 ? 2 : 3); /* six regions, three stores */
    assert_true(led[crashed] >= 2);
    rs_world_crash(w, crashed);
    rs_world_run_until(w, 10 * RS_NS_PER_S);
    uint32_t leaderless = 0, first = WORLD_REGIONS;
    for (uint32_t i = 0; i < WORLD_REGIONS; i++) {
        if (rs_world_region_leader(w, i) == 0) {
            leaderless++;
            first = first < i ? first : i;
        }
    }
    assert_int_equal(leaderless, led[crashed]); /* the silence hides the crash */
    /* a client turns to one follower of one of those regions (its store signals it; a
     * snapshot request on the same store is how the test makes the world drain that store) */
    uint32_t other = crashed % 3 + 1;
    struct rs_world_node *wn = &w->nodes[other];
    struct rs_node *n = rs_world_replica(w, other, first);
    rs_node_wake(n, rs_clock_local(&wn->clock, w->now_ns));
    rs_store_flush(wn->store, n);
    assert_int_equal(rs_world_snapshot(w, other), RS_OK);
    rs_world_run_until(w, 15 * RS_NS_PER_S);
    for (uint32_t i = 0; i < WORLD_REGIONS; i++) {
        uint32_t leader = rs_world_region_leader(w, i);
        assert_true(leader != 0 && leader != crashed);
    }
    assert_int_equal(w->checks.failed, RS_CHECK_NONE);
    world_close(w, &trace);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_group_falls_silent),
        cmocka_unit_test(test_without_hibernate_heartbeats_go_on),
        cmocka_unit_test(test_proposal_wakes_the_group),
        cmocka_unit_test(test_woken_follower_wakes_the_leader_without_election),
        cmocka_unit_test(test_crashed_sleeping_leader_is_replaced),
        cmocka_unit_test(test_restarted_leader_wakes_its_followers),
        cmocka_unit_test(test_restarted_follower_is_heartbeaten_without_election),
        cmocka_unit_test(test_lost_hibernate_message_is_resent),
        cmocka_unit_test(test_sleeping_leader_serves_no_lease_read),
        cmocka_unit_test(test_sleeping_leader_cut_off_reads_nothing),
        cmocka_unit_test(test_store_wakes_the_regions_of_a_silent_leader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
