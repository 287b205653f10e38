/* Reads on followers and learners: ReadIndex forwarded to the leader (SOFAJRaft's
 * handleReadIndexRequest); the follower serves once it has applied the index it got back. */
#include "core/raft/internal.h"

#include <stdlib.h>
#include <string.h>

static uint64_t read_timeout_ns(const struct rs_raft *r)
{
    return r->cfg.read_timeout_ns ? r->cfg.read_timeout_ns : RS_RAFT_READ_TIMEOUT_DEFAULT_NS;
}

/* ---- follower side ---- */

/* Reads issued in one step share one request: the open batch goes out at the flush. */
enum rs_err rs_raft__forward_read(struct rs_raft *r, uint64_t cookie)
{
    RS_ASSERT(r->role != RS_LEADER && r->role != RS_ERROR_STATE);
    if (r->leader_id == RS_NODE_NONE || r->leader_id == r->cfg.id) {
        return RS_ENOTLEADER; /* no leader known: the client looks elsewhere */
    }
    if (r->forward_count >= RS_RAFT_FORWARDS_MAX) {
        return RS_EBUSY;
    }
    if (r->forward_open && r->forward_open_to != r->leader_id) {
        rs_raft__forward_flush(r); /* the leader changed within this step */
    }
    if (!r->forward_open) {
        r->forward_request_id++;
        r->forward_open = true;
        r->forward_open_to = r->leader_id;
    }
    if (r->forward_count == r->forward_cap) {
        r->forward_cap = r->forward_cap ? r->forward_cap * 2 : 64;
        r->forwards = realloc(r->forwards, r->forward_cap * sizeof *r->forwards);
        RS_ASSERT(r->forwards != NULL);
    }
    struct rs_forward *f = &r->forwards[r->forward_count++];
    f->cookie = cookie;
    f->request_id = r->forward_request_id;
    f->to = r->leader_id;
    f->deadline_ns = r->now_ns + read_timeout_ns(r);
    r->stats.reads_forwarded++;
    return RS_OK;
}

void rs_raft__forward_flush(struct rs_raft *r)
{
    if (!r->forward_open) {
        return;
    }
    RS_ASSERT(r->forward_open_to != RS_NODE_NONE && r->forward_open_to != r->cfg.id);
    RS_ASSERT(r->forward_count > 0); /* the batch holds at least the read that opened it */
    struct rs_read_index_request m = {
        .from = r->cfg.id, .term = r->term, .request_id = r->forward_request_id};
    size_t mark = r->out->msg_count;
    rs_msg_send_read_index_request(r->out, r->forward_open_to, &m);
    rs_raft__sent(r, mark);
    r->forward_open = false;
}

/* Completes the reads of one forwarded request with index and err. */
static void forwards_complete(struct rs_raft *r, rs_node_id from, uint64_t request_id,
                              rs_index index, enum rs_err err)
{
    size_t kept = 0;
    for (size_t i = 0; i < r->forward_count; i++) {
        struct rs_forward f = r->forwards[i];
        if (f.request_id == request_id && f.to == from) {
            rs_raft__read_done(r, f.cookie, index, err);
        } else {
            r->forwards[kept++] = f;
        }
    }
    r->forward_count = kept;
}

void rs_raft__recv_read_index_response(struct rs_raft *r, const struct rs_read_index_response *m)
{
    /* the index is good whatever our term now: the leader confirmed it after we asked, and
     * the entries we apply up to it are committed ones */
    rs_index index = m->err == RS_OK ? m->read_index : 0;
    forwards_complete(r, m->from, m->request_id, index, m->err);
}

/* Forwarded reads whose answer did not come in time fail with RS_ETIMEDOUT (they were queued
 * in time order with the same timeout, so the expired ones are a prefix). */
void rs_raft__forward_expire(struct rs_raft *r)
{
    size_t expired = 0;
    while (expired < r->forward_count && r->forwards[expired].deadline_ns <= r->now_ns) {
        struct rs_forward *f = &r->forwards[expired];
        if (r->forward_open && f->request_id == r->forward_request_id) {
            break; /* not even sent yet (a zero timeout): it goes out at the flush */
        }
        rs_raft__read_done(r, f->cookie, 0, RS_ETIMEDOUT);
        expired++;
    }
    if (expired > 0) {
        memmove(r->forwards, r->forwards + expired,
                (r->forward_count - expired) * sizeof r->forwards[0]);
        r->forward_count -= expired;
    }
}

/* ---- leader side ---- */

static void respond(struct rs_raft *r, rs_node_id to, uint64_t request_id, rs_index index,
                    enum rs_err err)
{
    struct rs_read_index_response m = {.from = r->cfg.id, .term = r->term,
                                       .request_id = request_id, .read_index = index,
                                       .err = err};
    size_t mark = r->out->msg_count;
    rs_msg_send_read_index_response(r->out, to, &m);
    rs_raft__sent(r, mark);
    if (err == RS_OK) {
        r->stats.remote_reads_answered++;
    }
}

static void remote_push(struct rs_raft *r, const struct rs_remote_read *rd)
{
    if (r->remote_count == r->remote_cap) {
        size_t cap = r->remote_cap ? r->remote_cap * 2 : 64;
        struct rs_remote_read *a = malloc(cap * sizeof *a);
        RS_ASSERT(a != NULL);
        for (size_t i = 0; i < r->remote_count; i++) {
            a[i] = r->remote_reads[(r->remote_head + i) % r->remote_cap];
        }
        free(r->remote_reads);
        r->remote_reads = a;
        r->remote_cap = cap;
        r->remote_head = 0;
    }
    r->remote_reads[(r->remote_head + r->remote_count++) % r->remote_cap] = *rd;
}

/* The leader runs its ReadIndex (lease or quorum round) for a follower's batch. */
void rs_raft__recv_read_index_request(struct rs_raft *r, const struct rs_read_index_request *m)
{
    enum rs_err err = rs_raft__leader_read_check(r);
    if (err == RS_OK && m->term > r->term) {
        err = RS_ENOTLEADER; /* a newer term exists: let the follower find its leader */
    } else if (err == RS_OK && !rs_conf_is_member(&r->conf, m->from)) {
        err = RS_EINVAL; /* jraft answers EPERM to strangers */
    } else if (err == RS_OK && r->remote_count >= RS_RAFT_REMOTE_READS_MAX) {
        err = RS_EBUSY;
    }
    if (err != RS_OK) {
        respond(r, m->from, m->request_id, 0, err);
        return;
    }
    bool lease = rs_raft_lease_valid(r);
    if (lease || rs_conf_majority(&r->conf, 1ull << r->cfg.id) ||
        (r->cfg.bugs & RS_BUG_READ_WITHOUT_QUORUM)) {
        r->stats.lease_reads += lease ? 1 : 0;
        respond(r, m->from, m->request_id, r->commit_index, RS_OK);
        return;
    }
    struct rs_remote_read rd = {.from = m->from, .request_id = m->request_id,
                                .read_seq = rs_raft__read_round(r),
                                .read_index = r->commit_index};
    remote_push(r, &rd);
    r->read_broadcast_needed = true;
}

void rs_raft__remote_reads_confirm(struct rs_raft *r, uint64_t confirmed_seq)
{
    while (r->remote_count > 0 && r->remote_reads[r->remote_head].read_seq <= confirmed_seq) {
        struct rs_remote_read *rd = &r->remote_reads[r->remote_head];
        respond(r, rd->from, rd->request_id, rd->read_index, RS_OK);
        r->remote_head = (r->remote_head + 1) % r->remote_cap;
        r->remote_count--;
    }
}

void rs_raft__remote_reads_fail(struct rs_raft *r, enum rs_err err)
{
    while (r->remote_count > 0) {
        struct rs_remote_read *rd = &r->remote_reads[r->remote_head];
        respond(r, rd->from, rd->request_id, 0, err);
        r->remote_head = (r->remote_head + 1) % r->remote_cap;
        r->remote_count--;
    }
}
