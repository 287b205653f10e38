/* A store node: routes frames to raft or the KV service, applies committed entries, answers. */
#include "core/store/node.h"

#include "core/kv/kv_cmd.h"
#include "core/raft/conf.h"
#include "core/raft/msg.h"
#include "core/wire/codec.h"
#include "core/wire/frame.h"

#include <stdlib.h>
#include <string.h>

/* The first byte of a node's snapshot (see snapshot_size below). */
#define NODE_SNAPSHOT_VERSION 1u

void rs_node_init(struct rs_node *n, const struct rs_raft_config *cfg,
                  const struct rs_region *region)
{
    memset(n, 0, sizeof *n);
    n->id = cfg->id;
    rs_out_init(&n->out);
    rs_raft_init(&n->raft, cfg, &n->out);
    rs_kv_init(&n->kv);
    if (region != NULL) {
        rs_region_copy(&n->region, region);
    } else {
        rs_region_init(&n->region, 1, (struct rs_bytes){NULL, 0}, (struct rs_bytes){NULL, 0});
    }
    n->applied_conf = n->raft.conf;
    n->initialized = true;
    n->next_cookie = 1;
    n->host_role = -1;
}

void rs_node_free(struct rs_node *n)
{
    for (size_t i = 0; i < n->read_count; i++) {
        free(n->reads[i].request);
    }
    free(n->reads);
    rs_raft_free(&n->raft);
    rs_kv_free(&n->kv);
    rs_region_free(&n->region);
    free(n->split.snapshot);
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
    n->applied_conf = n->raft.base_conf;
    if (n->raft.cfg.snapshot_interval_ns > 0) {
        n->next_snapshot_ns = now_ns + n->raft.cfg.snapshot_interval_ns;
    }
    after_event(n); /* loads a recovered snapshot into the state machine */
    return err;
}

enum rs_err rs_node_change_conf(struct rs_node *n, uint64_t now_ns, const struct rs_conf *target)
{
    /* a member new to the region starts empty: it gets a snapshot, so make sure one exists */
    for (uint32_t i = 0; i < target->voter_count + target->learner_count; i++) {
        rs_node_id id = i < target->voter_count ? target->voters[i]
                                                : target->learners[i - target->voter_count];
        if (!rs_conf_is_member(&n->raft.conf, id)) {
            n->snapshot_requested = true;
        }
    }
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
    if (n->read_count == n->read_cap && n->read_cap < RS_NODE_PENDING_READS_MAX) {
        /* grown on demand: most replicas of a big store never hold many reads */
        n->read_cap = n->read_cap ? n->read_cap * 2 : 8;
        n->reads = realloc(n->reads, n->read_cap * sizeof *n->reads);
        RS_ASSERT(n->reads != NULL);
    }
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
    /* a client turned to this replica: a hibernating follower or learner wakes (it asks its
     * leader to heartbeat, and campaigns if it does not: the leader may be gone); a leader
     * wakes when it proposes or reads */
    if (n->raft.role != RS_LEADER) {
        rs_raft_wake(&n->raft, n->raft.now_ns);
    }
    if (!rs_region_holds_op(&n->region, &req.op)) {
        /* the client's routing table is behind a split: it refreshes and retries */
        respond(n, from, req.request_id, req.client_id, req.seq, RS_EKEYRANGE, NULL);
        return;
    }
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
        struct rs_kv_result res = {0};
        /* a split applied since the read arrived may have moved its keys away */
        err = rs_region_holds_op(&n->region, &req.op)
                  ? rs_kv_read_into(&n->kv, &req.op, n->scratch, RS_KV_RESULT_BYTES_MAX, &res)
                  : RS_EKEYRANGE;
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

/* As leader: the peers among ids that the configuration applied now leaves out. */
static void note_dropped_peers(struct rs_node *n, const rs_node_id *ids, uint32_t count,
                               const struct rs_conf *after)
{
    for (uint32_t i = 0; i < count; i++) {
        if (ids[i] != n->id && ids[i] <= RS_NODE_ID_MAX && !rs_conf_is_member(after, ids[i])) {
            n->peers_removed |= 1ull << ids[i];
        }
    }
}

/*
 * A configuration applied here dropped members: this replica (its store destroys it, see
 * core/store/store.c), or, on the leader, peers that its store tells they are removed.
 */
static void note_removals(struct rs_node *n, const struct rs_conf *before,
                          const struct rs_conf *after)
{
    if (rs_conf_is_member(before, n->id) && !rs_conf_is_member(after, n->id)) {
        n->removal_applied = true;
    }
    if (n->raft.role == RS_LEADER) {
        note_dropped_peers(n, before->voters, before->voter_count, after);
        note_dropped_peers(n, before->old_voters, before->old_voter_count, after);
        note_dropped_peers(n, before->learners, before->learner_count, after);
    }
}

/*
 * conf_ver counts membership changes (RheaKV bumps it on every change; every term also starts
 * with a configuration entry, which repeats the configuration and changes nothing).
 */
static void apply_conf(struct rs_node *n, const struct rs_entry *e)
{
    struct rs_conf conf;
    if (rs_conf_decode((struct rs_bytes){e->data, e->size}, &conf) != RS_OK) {
        return; /* raft decoded it when it was appended: only a broken log gets here */
    }
    /* a replica that joined with no configuration takes the first one it applies as the
     * starting point: the log's first configuration entry is the bootstrap configuration
     * repeated by the first leader, which the other replicas started from */
    bool first = n->applied_conf.voter_count == 0 && n->applied_conf.learner_count == 0;
    if (!first && !rs_conf_equal(&conf, &n->applied_conf)) {
        n->region.epoch.conf_ver++;
    }
    note_removals(n, &n->applied_conf, &conf);
    n->applied_conf = conf;
}

/*
 * A KV command, unless its key left the region: a write proposed before a split and applied
 * after it is refused (RS_EKEYRANGE) on every replica alike, and the client retries on the
 * region that holds the key now.
 */
static enum rs_err apply_data(struct rs_node *n, rs_index index, struct rs_bytes data,
                              struct rs_kv_result *res)
{
    struct rs_kv_cmd cmd;
    *res = (struct rs_kv_result){0};
    if (rs_kv_cmd_decode(data, &cmd) != RS_OK) {
        return RS_ECORRUPT; /* as rs_kv_apply answers: the replica halts */
    }
    if (!rs_region_holds_op(&n->region, &cmd.op)) {
        n->stats.key_range++;
        return RS_EKEYRANGE;
    }
    /* decoded once: rs_kv_apply would decode the same bytes again */
    return rs_kv_apply_op(&n->kv, index, cmd.client_id, cmd.seq, &cmd.op, res);
}

/*
 * Applies a split: the range shrinks to [start, key) with version + 1; the keys from `key` on
 * move into the child's initial snapshot, which the store turns into the child's replica with
 * the parent's members. The child's epoch is the parent's new one, so along any key's history
 * epochs only grow. A command whose version is not the region's (proposed before another
 * split) or whose key is no longer strictly inside is consumed without effect. Returns
 * whether a split was applied.
 */
static bool apply_region_cmd(struct rs_node *n, struct rs_bytes data)
{
    struct rs_reader rd;
    rs_reader_init(&rd, data.data, data.size);
    rs_r_u8(&rd);
    uint8_t kind = rs_r_u8(&rd);
    uint16_t reserved = rs_r_u16(&rd);
    uint64_t version = rs_r_u64(&rd);
    uint64_t child_id = rs_r_u64(&rd);
    struct rs_bytes key = rs_r_blob(&rd);
    struct rs_region *p = &n->region;
    bool inside = key.size > 0 && rs_region_contains(p, key) &&
                  rs_key_compare(key, (struct rs_bytes){p->start, p->start_size}) > 0;
    if (rd.error || rd.pos != rd.size || kind != RS_REGION_CMD_SPLIT || reserved != 0 ||
        version != p->epoch.version || !inside || child_id == p->id || n->split.pending) {
        return false;
    }
    struct rs_region child;
    rs_region_init(&child, child_id, key, (struct rs_bytes){p->end, p->end_size});
    rs_region_set_range(p, (struct rs_bytes){p->start, p->start_size}, key);
    p->epoch.version++;
    child.epoch = p->epoch;
    struct rs_kv moved;
    rs_kv_init(&moved);
    enum rs_err err = rs_kv_split(&n->kv, key, &moved, RS_SPLIT_INIT_INDEX);
    RS_ASSERT(err == RS_OK); /* out of memory: the simulator has no answer to that */
    size_t size = 1 + rs_region_size(&child) + rs_kv_snapshot_size(&moved);
    uint8_t *snap = malloc(size);
    RS_ASSERT(snap != NULL);
    struct rs_writer w;
    rs_writer_init(&w, snap, size);
    rs_w_u8(&w, NODE_SNAPSHOT_VERSION);
    rs_region_write(&w, &child);
    RS_ASSERT(!w.overflow);
    RS_ASSERT(rs_kv_snapshot_write(&moved, snap + w.pos, size - w.pos) == size - w.pos);
    rs_kv_free(&moved);
    rs_region_free(&child);
    n->split = (struct rs_node_split){.pending = true, .child_id = child_id,
                                      .conf = n->applied_conf, .snapshot = snap,
                                      .snapshot_size = size};
    n->stats.splits_applied++;
    return true;
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
        bool split = false;
        if (e->type == RS_ENTRY_DATA && e->size > 0 && e->data[0] == RS_REGION_CMD_MARK) {
            split = apply_region_cmd(n, (struct rs_bytes){e->data, e->size});
        } else if (e->type == RS_ENTRY_DATA) {
            err = apply_data(n, index, (struct rs_bytes){e->data, e->size}, &res);
            if (err == RS_ECORRUPT || err == RS_ENOMEM) {
                rs_raft_enter_error(r, err); /* a command we cannot apply halts the replica */
                return;
            }
        } else if (e->type == RS_ENTRY_CONF) {
            apply_conf(n, e);
        }
        answer_writes(n, index, e->term, &res, err);
        rs_raft_set_applied(r, index);
        if (split) {
            break; /* the store creates the new region before anything else is applied */
        }
    }
}

/*
 * A node's snapshot is the region, then the KV state machine's snapshot:
 *   u8 version (1), region (core/store/region.h), kv snapshot (core/kv/kv.h)
 * so that a split or a membership change is part of every snapshot taken after it.
 */

static size_t snapshot_size(const struct rs_node *n)
{
    return 1 + rs_region_size(&n->region) + rs_kv_snapshot_size(&n->kv);
}

static void snapshot_write(struct rs_node *n, size_t size)
{
    ensure_scratch(n, size);
    struct rs_writer w;
    rs_writer_init(&w, n->scratch, n->scratch_cap);
    rs_w_u8(&w, NODE_SNAPSHOT_VERSION);
    rs_region_write(&w, &n->region);
    RS_ASSERT(!w.overflow);
    size_t written = rs_kv_snapshot_write(&n->kv, n->scratch + w.pos, size - w.pos);
    RS_ASSERT(w.pos + written == size);
}

static enum rs_err snapshot_load(struct rs_node *n, struct rs_bytes data)
{
    struct rs_reader rd;
    rs_reader_init(&rd, data.data, data.size);
    struct rs_region region = {0};
    bool ok = rs_r_u8(&rd) == NODE_SNAPSHOT_VERSION;
    rs_region_read(&rd, &region);
    if (!ok || rd.error || region.id != n->region.id) {
        rs_region_free(&region);
        return RS_ECORRUPT;
    }
    struct rs_bytes kv = {data.data + rd.pos, data.size - rd.pos};
    enum rs_err err = rs_kv_snapshot_load(&n->kv, kv);
    if (err == RS_OK) {
        rs_region_free(&n->region);
        n->region = region;
        n->applied_conf = n->raft.snap.meta.conf; /* the configuration at its index */
        n->initialized = true;
    } else {
        rs_region_free(&region);
    }
    return err;
}

/* A snapshot replaced the state (recovery or an install from the leader). */
static void load_snapshot(struct rs_node *n)
{
    struct rs_raft *r = &n->raft;
    if (snapshot_load(n, rs_raft_snapshot_data(r)) != RS_OK) {
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
    bool due = n->snapshot_requested || r->snapshot_wanted ||
               (r->cfg.snapshot_log_entries > 0 && since >= r->cfg.snapshot_log_entries) ||
               (n->next_snapshot_ns > 0 && r->now_ns >= n->next_snapshot_ns);
    /* not while a split waits for its store: the child's initial snapshot must be written
     * before a parent snapshot without the moved keys */
    if (!due || since == 0 || r->role == RS_ERROR_STATE || n->split.pending) {
        return;
    }
    size_t size = snapshot_size(n);
    snapshot_write(n, size);
    if (rs_raft_snapshot_save(r, r->applied_index, n->scratch, size) == RS_OK) {
        n->snapshot_requested = false;
        r->snapshot_wanted = false;
        if (r->cfg.snapshot_interval_ns > 0) {
            n->next_snapshot_ns = r->now_ns + r->cfg.snapshot_interval_ns;
        }
    }
}

/* A replica made again holds the configuration that removed its predecessor: it may take
 * part in elections again (they were barred: it may have started from an older snapshot). */
static void lift_bar(struct rs_node *n)
{
    if (n->revived && n->raft.elections_barred && n->initialized &&
        n->region.epoch.conf_ver >= n->conf_ver_floor) {
        n->raft.elections_barred = false;
    }
}

void rs_node_bar_elections(struct rs_node *n, uint64_t conf_ver_floor)
{
    n->revived = true;
    n->conf_ver_floor = conf_ver_floor;
    n->raft.elections_barred = true;
    lift_bar(n);
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
    lift_bar(n);
}

/* An append that starts the log (from index 1): it carries entries or probes index 0. */
static bool from_the_start(struct rs_bytes body)
{
    struct rs_append_request m;
    return rs_msg_decode_append_request(body, &m) == RS_OK && m.prev_index == 0;
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
    } else if (!n->initialized && (type == RS_MSG_APPEND_REQUEST || type == RS_MSG_HIBERNATE) &&
               from_the_start(body)) {
        /* a replica that does not know its region yet takes no log from its beginning: that
         * log never tells the range, a snapshot does. Unanswered, the leader keeps retrying
         * and sends a snapshot as soon as it has one (it takes one for a new member) */
        n->stats.appends_refused++;
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

enum rs_err rs_node_split(struct rs_node *n, uint64_t now_ns, struct rs_bytes split_key,
                          uint64_t child_id)
{
    n->raft.now_ns = now_ns;
    if (n->raft.role != RS_LEADER) {
        return RS_ENOTLEADER;
    }
    if (n->split.pending) {
        return RS_EBUSY;
    }
    if (split_key.size == 0 && !rs_kv_middle_key(&n->kv, &split_key)) {
        return RS_EINVAL;
    }
    const struct rs_region *p = &n->region;
    if (split_key.size > RS_REGION_KEY_SIZE_MAX || !rs_region_contains(p, split_key) ||
        rs_key_compare(split_key, (struct rs_bytes){p->start, p->start_size}) <= 0) {
        return RS_EKEYRANGE;
    }
    size_t size = 1 + 1 + 2 + 8 + 8 + 4 + split_key.size;
    ensure_scratch(n, size);
    struct rs_writer w;
    rs_writer_init(&w, n->scratch, n->scratch_cap);
    rs_w_u8(&w, RS_REGION_CMD_MARK);
    rs_w_u8(&w, RS_REGION_CMD_SPLIT);
    rs_w_u16(&w, 0);
    rs_w_u64(&w, p->epoch.version);
    rs_w_u64(&w, child_id);
    rs_w_blob(&w, split_key.data, split_key.size);
    RS_ASSERT(!w.overflow && w.pos == size);
    rs_index index;
    rs_term term;
    enum rs_err err =
        rs_raft_propose(&n->raft, now_ns, (struct rs_bytes){n->scratch, size}, &index, &term);
    after_event(n);
    return err;
}

enum rs_err rs_node_bootstrap(struct rs_node *n, uint64_t now_ns, const struct rs_conf *conf,
                              const uint8_t *snapshot, size_t size)
{
    n->raft.now_ns = now_ns;
    enum rs_err err =
        rs_raft_bootstrap(&n->raft, RS_SPLIT_INIT_INDEX, RS_SPLIT_INIT_TERM, conf, snapshot, size);
    if (err == RS_OK) {
        n->applied_conf = *conf;
        after_event(n); /* loads the snapshot: range, epoch and data */
    }
    return err;
}

void rs_node_wake(struct rs_node *n, uint64_t now_ns)
{
    rs_raft_wake(&n->raft, now_ns);
    after_event(n);
}

enum rs_err rs_node_campaign(struct rs_node *n, uint64_t now_ns)
{
    enum rs_err err = rs_raft_campaign(&n->raft, now_ns);
    after_event(n);
    return err;
}

void rs_node_split_done(struct rs_node *n)
{
    free(n->split.snapshot);
    memset(&n->split, 0, sizeof n->split);
    after_event(n); /* entries after the split apply now */
}

bool rs_node_empty(const struct rs_node *n)
{
    /* a snapshot being installed counts: the leader is already filling the replica */
    return rs_log_last_index(&n->raft.log) == 0 && n->raft.snap.file == NULL &&
           n->raft.term == 0 && !n->raft.install.active;
}

uint64_t rs_node_log_conf_ver(const struct rs_node *n)
{
    const struct rs_raft *r = &n->raft;
    if (r->conf_count == RS_RAFT_CONFS_MAX) {
        return UINT64_MAX; /* older entries may have left the list */
    }
    uint64_t conf_ver = n->region.epoch.conf_ver;
    const struct rs_conf *prev = &n->applied_conf;
    for (uint32_t i = 0; i < r->conf_count; i++) {
        if (r->confs[i].index <= r->applied_index) {
            continue;
        }
        conf_ver += !rs_conf_equal(&r->confs[i].conf, prev);
        prev = &r->confs[i].conf;
    }
    RS_ASSERT(conf_ver >= n->region.epoch.conf_ver);
    return conf_ver;
}

bool rs_node_later_conf_has(const struct rs_node *n, rs_node_id id)
{
    const struct rs_raft *r = &n->raft;
    if (r->conf_count == RS_RAFT_CONFS_MAX) {
        return true;
    }
    for (uint32_t i = 0; i < r->conf_count; i++) {
        if (r->confs[i].index > r->applied_index && rs_conf_is_member(&r->confs[i].conf, id)) {
            return true;
        }
    }
    return false;
}
