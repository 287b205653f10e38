/* A store node: routes frames to raft or the KV service, applies committed entries, answers. */
#include "core/store/node.h"

#include "core/kv/kv_cmd.h"
#include "core/wire/frame.h"

#include <stdlib.h>
#include <string.h>

void rs_node_init(struct rs_node *n, const struct rs_raft_config *cfg)
{
    memset(n, 0, sizeof *n);
    n->id = cfg->id;
    rs_out_init(&n->out);
    rs_raft_init(&n->raft, cfg, &n->out);
    rs_kv_init(&n->kv);
    n->next_cookie = 1;
}

void rs_node_free(struct rs_node *n)
{
    for (size_t i = 0; i < n->read_count; i++) {
        free(n->reads[i].request);
    }
    rs_raft_free(&n->raft);
    rs_kv_free(&n->kv);
    rs_out_free(&n->out);
    free(n->writes);
    free(n->scratch);
    memset(n, 0, sizeof *n);
}

static void after_event(struct rs_node *n);

enum rs_err rs_node_recover(struct rs_node *n, uint64_t now_ns, const struct rs_file_view *files,
                            size_t file_count)
{
    enum rs_err err = rs_raft_recover(&n->raft, now_ns, files, file_count);
    if (n->raft.cfg.snapshot_interval_ns > 0) {
        n->next_snapshot_ns = now_ns + n->raft.cfg.snapshot_interval_ns;
    }
    after_event(n); /* loads a recovered snapshot into the state machine */
    return err;
}

enum rs_err rs_node_change_conf(struct rs_node *n, uint64_t now_ns, const struct rs_conf *target)
{
    enum rs_err err = rs_raft_change_conf(&n->raft, now_ns, target);
    after_event(n);
    return err;
}

enum rs_err rs_node_reset_conf(struct rs_node *n, uint64_t now_ns, const struct rs_conf *conf)
{
    enum rs_err err = rs_raft_reset_conf(&n->raft, now_ns, conf);
    after_event(n);
    return err;
}

enum rs_err rs_node_transfer(struct rs_node *n, uint64_t now_ns, rs_node_id target)
{
    enum rs_err err = rs_raft_transfer(&n->raft, now_ns, target);
    after_event(n);
    return err;
}

void rs_node_request_snapshot(struct rs_node *n)
{
    n->snapshot_requested = true;
    after_event(n);
}

static void respond(struct rs_node *n, rs_node_id to, uint64_t request_id, uint64_t client_id,
                    uint64_t seq, enum rs_err status, const struct rs_kv_result *result)
{
    struct rs_kv_response resp = {
        .request_id = request_id,
        .client_id = client_id,
        .seq = seq,
        .status = status,
        .leader_hint = n->raft.leader_id,
    };
    if (result != NULL) {
        resp.result = *result;
    }
    size_t size = rs_kv_response_frame_size(&resp);
    size_t at = rs_out_reserve(&n->out, size);
    size_t written;
    enum rs_err err = rs_kv_response_frame_encode(&resp, rs_out_at(&n->out, at), size, &written);
    RS_ASSERT(err == RS_OK);
    RS_ASSERT(written == size);
    rs_out_msg(&n->out, to, RS_MSG_KV_RESPONSE, at, size);
    if (status == RS_ENOTLEADER) {
        n->stats.not_leader++;
    } else if (status == RS_EBUSY) {
        n->stats.busy++;
    }
}

static void ensure_scratch(struct rs_node *n, size_t size)
{
    if (size > n->scratch_cap) {
        n->scratch = realloc(n->scratch, size);
        RS_ASSERT(n->scratch != NULL);
        n->scratch_cap = size;
    }
}

static void writes_push(struct rs_node *n, const struct rs_pending_write *w)
{
    if (n->write_count == n->write_cap) {
        size_t cap = n->write_cap ? n->write_cap * 2 : 64;
        struct rs_pending_write *a = malloc(cap * sizeof *a);
        RS_ASSERT(a != NULL);
        for (size_t i = 0; i < n->write_count; i++) {
            a[i] = n->writes[(n->write_head + i) % n->write_cap];
        }
        free(n->writes);
        n->writes = a;
        n->write_cap = cap;
        n->write_head = 0;
    }
    n->writes[(n->write_head + n->write_count++) % n->write_cap] = *w;
}

static void handle_write(struct rs_node *n, rs_node_id from, const struct rs_kv_request *req)
{
    struct rs_kv_cmd cmd = {.client_id = req->client_id, .seq = req->seq, .op = req->op};
    size_t size = rs_kv_cmd_size(&cmd);
    ensure_scratch(n, size);
    size_t written;
    if (rs_kv_cmd_encode(&cmd, n->scratch, n->scratch_cap, &written) != RS_OK) {
        respond(n, from, req->request_id, req->client_id, req->seq, RS_EINVAL, NULL);
        return;
    }
    struct rs_pending_write w = {.client = from, .request_id = req->request_id,
                                 .client_id = req->client_id, .seq = req->seq};
    struct rs_bytes data = {n->scratch, written};
    enum rs_err err = rs_raft_propose(&n->raft, n->raft.now_ns, data, &w.index, &w.term);
    if (err != RS_OK) {
        respond(n, from, req->request_id, req->client_id, req->seq, err, NULL);
        return;
    }
    writes_push(n, &w);
}

static void handle_read(struct rs_node *n, rs_node_id from, const struct rs_kv_request *req,
                        struct rs_bytes frame)
{
    if (n->read_count == RS_NODE_PENDING_READS_MAX) {
        respond(n, from, req->request_id, req->client_id, req->seq, RS_EBUSY, NULL);
        return;
    }
    uint64_t cookie = n->next_cookie++;
    enum rs_err err = rs_raft_read_index(&n->raft, n->raft.now_ns, cookie);
    if (err != RS_OK) {
        respond(n, from, req->request_id, req->client_id, req->seq,
                err == RS_EAGAIN ? RS_EBUSY : err, NULL);
        return;
    }
    struct rs_pending_read *rd = &n->reads[n->read_count++];
    memset(rd, 0, sizeof *rd);
    rd->cookie = cookie;
    rd->client = from;
    rd->request_id = req->request_id;
    rd->client_id = req->client_id;
    rd->seq = req->seq;
    rd->request_size = frame.size;
    rd->request = malloc(frame.size);
    RS_ASSERT(rd->request != NULL);
    memcpy(rd->request, frame.data, frame.size);
    if (n->raft.role != RS_LEADER) {
        /* served here once applied: bounded by the read timeout, forwarding included */
        uint64_t timeout = n->raft.cfg.read_timeout_ns;
        rd->deadline_ns = n->raft.now_ns + (timeout ? timeout : RS_RAFT_READ_TIMEOUT_DEFAULT_NS);
        n->stats.follower_reads++;
    }
}

static void handle_request(struct rs_node *n, rs_node_id from, struct rs_bytes frame)
{
    struct rs_kv_request req;
    if (rs_kv_request_frame_decode(frame, &req) != RS_OK) {
        n->stats.corrupt_frames++;
        return;
    }
    n->stats.requests++;
    bool is_write = rs_kv_opcode_is_write(req.op.opcode);
    if (!is_write && n->raft.cfg.follower_reads && n->raft.role != RS_ERROR_STATE) {
        handle_read(n, from, &req, frame); /* any replica serves reads (ReadIndex forwards) */
        return;
    }
    if (n->raft.role != RS_LEADER) {
        enum rs_err status = n->raft.role == RS_ERROR_STATE ? RS_ESHUTDOWN : RS_ENOTLEADER;
        respond(n, from, req.request_id, req.client_id, req.seq, status, NULL);
        return;
    }
    if (is_write) {
        handle_write(n, from, &req);
    } else {
        handle_read(n, from, &req, frame);
    }
}

static void remove_read(struct rs_node *n, size_t i)
{
    free(n->reads[i].request);
    n->reads[i] = n->reads[--n->read_count];
}

/* Reads whose index is confirmed and applied are served from the state machine. */
static void serve_reads(struct rs_node *n)
{
    for (size_t i = 0; i < n->raft.reads_done_count; i++) {
        const struct rs_read_done *d = &n->raft.reads_done[i];
        for (size_t j = 0; j < n->read_count; j++) {
            struct rs_pending_read *rd = &n->reads[j];
            if (rd->cookie != d->cookie) {
                continue;
            }
            if (d->err != RS_OK) {
                enum rs_err err = d->err == RS_EAGAIN ? RS_EBUSY : d->err; /* as handle_read */
                respond(n, rd->client, rd->request_id, rd->client_id, rd->seq, err, NULL);
                n->stats.reads_timed_out += err == RS_ETIMEDOUT ? 1 : 0;
                remove_read(n, j);
            } else {
                rd->confirmed = true;
                rd->read_index = d->read_index;
            }
            break;
        }
    }
    n->raft.reads_done_count = 0;
    for (size_t j = 0; j < n->read_count;) {
        struct rs_pending_read *rd = &n->reads[j];
        if (!rd->confirmed || rd->read_index > n->raft.applied_index) {
            j++;
            continue;
        }
        /* The copy decoded when it arrived, so it decodes again; entries go to scratch, which
         * nothing else uses while reads are served, and respond copies them out. */
        struct rs_kv_request req;
        enum rs_err err = rs_kv_request_frame_decode(
            (struct rs_bytes){rd->request, rd->request_size}, &req);
        RS_ASSERT(err == RS_OK);
        ensure_scratch(n, RS_KV_RESULT_BYTES_MAX);
        struct rs_kv_result res;
        err = rs_kv_read_into(&n->kv, &req.op, n->scratch, RS_KV_RESULT_BYTES_MAX, &res);
        respond(n, rd->client, rd->request_id, rd->client_id, rd->seq, err, &res);
        n->stats.reads_answered++;
        remove_read(n, j);
    }
}

/* Answers the proposals that were decided by applying the entry at index. */
static void answer_writes(struct rs_node *n, rs_index index, rs_term term,
                          const struct rs_kv_result *res, enum rs_err err)
{
    while (n->write_count > 0) {
        struct rs_pending_write *w = &n->writes[n->write_head];
        if (w->index > index) {
            break;
        }
        if (w->index == index && w->term == term) {
            respond(n, w->client, w->request_id, w->client_id, w->seq, err, res);
            n->stats.writes_answered++;
        } else {
            /* another entry took this index: ours was never committed; the client retries
             * and session dedup makes the retry safe */
            respond(n, w->client, w->request_id, w->client_id, w->seq, RS_ENOTLEADER, NULL);
        }
        n->write_head = (n->write_head + 1) % n->write_cap;
        n->write_count--;
    }
}

static void apply_committed(struct rs_node *n)
{
    struct rs_raft *r = &n->raft;
    while (r->applied_index < r->commit_index && r->role != RS_ERROR_STATE) {
        rs_index index = r->applied_index + 1;
        if (!rs_log_has(&r->log, index)) {
            break; /* a committed entry is missing (only a broken engine): the checks say so */
        }
        const struct rs_entry *e = rs_log_get(&r->log, index);
        struct rs_kv_result res = {0};
        enum rs_err err = RS_OK;
        if (e->type == RS_ENTRY_DATA) {
            err = rs_kv_apply(&n->kv, index, (struct rs_bytes){e->data, e->size}, &res);
            if (err == RS_ECORRUPT || err == RS_ENOMEM) {
                rs_raft_enter_error(r, err); /* a command we cannot apply halts the replica */
                return;
            }
        }
        answer_writes(n, index, e->term, &res, err);
        rs_raft_set_applied(r, index);
    }
}

/* A snapshot replaced the state (recovery or an install from the leader). */
static void load_snapshot(struct rs_node *n)
{
    struct rs_raft *r = &n->raft;
    if (rs_kv_snapshot_load(&n->kv, rs_raft_snapshot_data(r)) != RS_OK) {
        rs_raft_enter_error(r, RS_ECORRUPT); /* a snapshot we cannot load halts the replica */
        return;
    }
    rs_raft_snapshot_loaded(r);
    n->stats.snapshots_loaded++;
    /* our proposals up to here were decided elsewhere; the clients retry (dedup is safe) */
    struct rs_kv_result none = {0};
    answer_writes(n, r->applied_index, 0, &none, RS_ENOTLEADER);
}

/* Takes a snapshot when one is due: by entries applied, by time, or on request. */
static void maybe_snapshot(struct rs_node *n)
{
    struct rs_raft *r = &n->raft;
    rs_index since = r->applied_index - rs_raft_snapshot_index(r);
    bool due = n->snapshot_requested ||
               (r->cfg.snapshot_log_entries > 0 && since >= r->cfg.snapshot_log_entries) ||
               (n->next_snapshot_ns > 0 && r->now_ns >= n->next_snapshot_ns);
    if (!due || since == 0 || r->role == RS_ERROR_STATE) {
        return;
    }
    size_t size = rs_kv_snapshot_size(&n->kv);
    ensure_scratch(n, size);
    size_t written = rs_kv_snapshot_write(&n->kv, n->scratch, n->scratch_cap);
    RS_ASSERT(written == size);
    if (rs_raft_snapshot_save(r, r->applied_index, n->scratch, size) == RS_OK) {
        n->snapshot_requested = false;
        if (r->cfg.snapshot_interval_ns > 0) {
            n->next_snapshot_ns = r->now_ns + r->cfg.snapshot_interval_ns;
        }
    }
}

/* The work every event ends with. */
static void after_event(struct rs_node *n)
{
    rs_raft_flush(&n->raft);
    if (n->raft.snapshot_to_load) {
        load_snapshot(n);
    }
    apply_committed(n);
    serve_reads(n);
    maybe_snapshot(n);
}

void rs_node_recv(struct rs_node *n, uint64_t now_ns, rs_node_id from, const uint8_t *frame,
                  size_t size)
{
    unsigned type;
    struct rs_bytes body;
    n->raft.now_ns = now_ns;
    if (rs_frame_decode(frame, size, &type, &body) != RS_OK) {
        n->stats.corrupt_frames++; /* bit flips on the wire end here */
        return;
    }
    if (type == RS_MSG_KV_REQUEST) {
        handle_request(n, from, (struct rs_bytes){frame, size});
    } else {
        rs_raft_recv(&n->raft, now_ns, from, type, body);
    }
    after_event(n);
}

/* Follower-served reads not answered by their deadline get RS_ETIMEDOUT. */
static void expire_reads(struct rs_node *n)
{
    for (size_t j = 0; j < n->read_count;) {
        struct rs_pending_read *rd = &n->reads[j];
        if (rd->deadline_ns == 0 || rd->deadline_ns > n->raft.now_ns) {
            j++;
            continue;
        }
        respond(n, rd->client, rd->request_id, rd->client_id, rd->seq, RS_ETIMEDOUT, NULL);
        n->stats.reads_timed_out++;
        remove_read(n, j);
    }
}

void rs_node_tick(struct rs_node *n, uint64_t now_ns)
{
    rs_raft_tick(&n->raft, now_ns);
    after_event(n);
    if (n->raft.cfg.follower_reads) {
        expire_reads(n);
    }
}

void rs_node_disk_done(struct rs_node *n, uint64_t now_ns, uint64_t id, enum rs_err err)
{
    rs_raft_disk_done(&n->raft, now_ns, id, err);
    after_event(n);
}

uint64_t rs_node_deadline(const struct rs_node *n)
{
    uint64_t d = rs_raft_deadline(&n->raft);
    for (size_t j = 0; n->raft.cfg.follower_reads && j < n->read_count; j++) {
        uint64_t rd = n->reads[j].deadline_ns;
        d = rd != 0 && rd < d ? rd : d;
    }
    return n->next_snapshot_ns > 0 && n->next_snapshot_ns < d ? n->next_snapshot_ns : d;
}
