/* Raft replica life cycle: init, recovery, roles, meta durability, disk completions, timers. */
#include "core/raft/internal.h"

#include "core/wire/frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_FILE "meta"

const char *rs_role_name(enum rs_role role)
{
    switch (role) {
    case RS_FOLLOWER: return "follower";
    case RS_PRE_CANDIDATE: return "pre_candidate";
    case RS_CANDIDATE: return "candidate";
    case RS_LEADER: return "leader";
    case RS_ERROR_STATE: return "error";
    }
    return "unknown";
}

/* splitmix64: the engine's only source of randomness, seeded by the host. */
uint64_t rs_raft__random(struct rs_raft *r)
{
    uint64_t z = (r->rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void rs_raft__reset_election_timer(struct rs_raft *r)
{
    uint64_t t = r->cfg.election_timeout_ns;
    r->election_deadline_ns = r->now_ns + t + rs_raft__random(r) % t;
    r->hib_state = RS_HIB_AWAKE; /* a running election timer is an awake follower's */
}

void rs_raft_init(struct rs_raft *r, const struct rs_raft_config *cfg, struct rs_out *out)
{
    /* no voters: a node joining with an empty disk, which waits to be added */
    RS_ASSERT(cfg->voter_count <= RS_RAFT_VOTERS_MAX);
    RS_ASSERT(cfg->heartbeat_ns > 0 && cfg->heartbeat_ns < cfg->election_timeout_ns);
    RS_ASSERT(cfg->max_inflight >= 1 && cfg->max_inflight <= RS_RAFT_INFLIGHT_MAX);
    RS_ASSERT(cfg->batch_entries >= 1 && cfg->batch_entries <= RS_RAFT_BATCH_MAX);
    rs_raft__leadership_check_config(cfg);
    memset(r, 0, sizeof *r);
    r->cfg = *cfg;
    if (r->cfg.segment_bytes_max == 0) {
        r->cfg.segment_bytes_max = 8u << 20;
    }
    r->out = out;
    r->rng_state = cfg->random_seed;
    rs_log_init(&r->log);
    r->store.segment_bytes_max = r->cfg.segment_bytes_max;
    struct rs_conf initial = {.voter_count = cfg->voter_count,
                              .learner_count = cfg->learner_count};
    memcpy(initial.voters, cfg->voters, cfg->voter_count * sizeof cfg->voters[0]);
    memcpy(initial.learners, cfg->learners, cfg->learner_count * sizeof cfg->learners[0]);
    RS_ASSERT(cfg->voter_count == 0 || rs_conf_validate(&initial) == RS_OK);
    rs_raft__conf_reset(r, &initial);
    r->role = RS_FOLLOWER;
}

void rs_raft_free(struct rs_raft *r)
{
    rs_log_free(&r->log);
    rs_log_store_free(&r->store);
    for (uint32_t id = 0; id <= RS_NODE_ID_MAX; id++) {
        free(r->inflight[id]);
    }
    free(r->held);
    free(r->held_bytes);
    free(r->waits);
    free(r->reads);
    free(r->reads_done);
    free(r->acks);
    rs_snapshot_free(&r->snap);
    rs_snapshot_free(&r->snap_saving);
    free(r->install.buf);
    rs_raft__leadership_free(r);
    memset(r, 0, sizeof *r);
}

static void wait_push(struct rs_raft *r, uint64_t id, enum rs_disk_purpose purpose, uint64_t value)
{
    if (r->wait_count == r->wait_cap) {
        size_t cap = r->wait_cap ? r->wait_cap * 2 : 64;
        struct rs_disk_wait *w = malloc(cap * sizeof *w);
        RS_ASSERT(w != NULL);
        for (size_t i = 0; i < r->wait_count; i++) {
            w[i] = r->waits[(r->wait_head + i) % r->wait_cap];
        }
        free(r->waits);
        r->waits = w;
        r->wait_cap = cap;
        r->wait_head = 0;
    }
    struct rs_disk_wait *w = &r->waits[(r->wait_head + r->wait_count++) % r->wait_cap];
    w->id = id;
    w->purpose = purpose;
    w->value = value;
}

uint64_t rs_raft__disk(struct rs_raft *r, enum rs_disk_kind kind, const char *name,
                       enum rs_disk_purpose purpose, uint64_t value)
{
    RS_ASSERT(kind != RS_DISK_WRITE);
    uint64_t id = rs_out_disk_op(r->out, kind, name, NULL, 0, NULL, 0);
    wait_push(r, id, purpose, value);
    return id;
}

void rs_raft__track(struct rs_raft *r, uint64_t id)
{
    wait_push(r, id, RS_PURPOSE_NONE, 0);
}

void rs_raft__track_purpose(struct rs_raft *r, uint64_t id, enum rs_disk_purpose purpose,
                            uint64_t value)
{
    wait_push(r, id, purpose, value);
}

/* Registers every disk operation the outbox gained since mark (writes carry no purpose). */
static void track_disk_ops(struct rs_raft *r, size_t mark)
{
    for (size_t i = mark; i < r->out->disk_count; i++) {
        wait_push(r, r->out->disk[i].id, RS_PURPOSE_NONE, 0);
    }
}

void rs_raft__persist_meta(struct rs_raft *r)
{
    struct rs_meta meta = {.seq = ++r->meta_seq, .term = r->term, .voted_for = r->voted_for};
    uint8_t slot[RS_META_SLOT_SIZE];
    rs_meta_encode(slot, &meta);
    size_t mark = r->out->disk_count;
    rs_out_disk_op(r->out, RS_DISK_WRITE, META_FILE, NULL, (meta.seq % 2) * RS_META_SLOT_SIZE,
                   slot, sizeof slot);
    track_disk_ops(r, mark);
    rs_raft__disk(r, RS_DISK_SYNC, META_FILE, RS_PURPOSE_META_SYNC, meta.seq);
}

/* Moves messages queued since msg_mark into the held queue while meta is not durable. */
void rs_raft__sent(struct rs_raft *r, size_t msg_mark)
{
    if (r->meta_seq_durable == r->meta_seq) {
        return;
    }
    struct rs_out *out = r->out;
    for (size_t i = msg_mark; i < out->msg_count; i++) {
        struct rs_out_msg *m = &out->msgs[i];
        if (r->held_count == r->held_cap) {
            r->held_cap = r->held_cap ? r->held_cap * 2 : 64;
            r->held = realloc(r->held, r->held_cap * sizeof *r->held);
            RS_ASSERT(r->held != NULL);
        }
        while (r->held_bytes_size + m->size > r->held_bytes_cap) {
            r->held_bytes_cap = r->held_bytes_cap ? r->held_bytes_cap * 2 : 4096;
            r->held_bytes = realloc(r->held_bytes, r->held_bytes_cap);
            RS_ASSERT(r->held_bytes != NULL);
        }
        memcpy(r->held_bytes + r->held_bytes_size, rs_out_at(out, m->offset), m->size);
        struct rs_out_msg *h = &r->held[r->held_count++];
        *h = *m;
        h->offset = r->held_bytes_size;
        r->held_bytes_size += m->size;
    }
    out->msg_count = msg_mark;
}

static void release_held(struct rs_raft *r)
{
    for (size_t i = 0; i < r->held_count; i++) {
        struct rs_out_msg *h = &r->held[i];
        size_t at = rs_out_reserve(r->out, h->size);
        memcpy(rs_out_at(r->out, at), r->held_bytes + h->offset, h->size);
        rs_out_msg(r->out, h->to, h->type, at, h->size);
    }
    r->held_count = 0;
    r->held_bytes_size = 0;
}

enum rs_err rs_raft_recover(struct rs_raft *r, uint64_t now_ns, const struct rs_file_view *files,
                            size_t file_count)
{
    r->now_ns = now_ns;
    for (size_t i = 0; i < file_count; i++) {
        if (strcmp(files[i].name, META_FILE) == 0) {
            struct rs_meta meta;
            if (rs_meta_decode(files[i].data, files[i].size, &meta) == RS_OK) {
                r->term = meta.term;
                r->voted_for = meta.voted_for;
                r->meta_seq = r->meta_seq_durable = meta.seq;
            }
        }
    }
    size_t mark = r->out->disk_count;
    struct rs_log_recovery rec;
    enum rs_err err = rs_log_recover(&r->log, &r->store, files, file_count, r->out, &rec);
    track_disk_ops(r, mark);
    if (err != RS_OK) {
        snprintf(r->error_detail, sizeof r->error_detail, "%s", rec.detail);
        rs_raft__enter_error(r, err);
        return err;
    }
    /* what survived the crash is what the disk holds durably */
    r->durable_index = r->written_index = rs_log_last_index(&r->log);
    rs_raft__snapshot_recover(r, files, file_count);
    for (rs_index i = r->log.first_index; i <= rs_log_last_index(&r->log); i++) {
        const struct rs_entry *e = rs_log_get(&r->log, i);
        if (e->type == RS_ENTRY_CONF) {
            rs_raft__conf_appended(r, i, e);
        }
    }
    /* A crash can keep a torn log block while losing the unsynced meta write that preceded
     * it. The term then comes from the log; no vote was sent in it (votes wait for the meta
     * sync), so forgetting the vote is safe. */
    if (rs_log_last_term(&r->log) > r->term) {
        r->term = rs_log_last_term(&r->log);
        r->voted_for = RS_NODE_NONE;
    }
    rs_raft__reset_election_timer(r);
    rs_raft__hib_recovered(r);
    return RS_OK;
}

void rs_raft_adopt_term(struct rs_raft *r, rs_term term)
{
    if (term <= r->term || r->role == RS_ERROR_STATE) {
        return;
    }
    RS_ASSERT(r->role != RS_LEADER);
    rs_raft__become_follower(r, term, RS_NODE_NONE); /* persists the term, no vote */
    RS_ASSERT(r->term == term && r->voted_for == RS_NODE_NONE);
}

void rs_raft__enter_error(struct rs_raft *r, enum rs_err err)
{
    if (r->role == RS_LEADER) {
        rs_raft__reads_fail(r, RS_ESHUTDOWN);
        rs_raft__change_abort(r);
    }
    r->role = RS_ERROR_STATE;
    r->error = err;
    r->leader_id = RS_NODE_NONE;
    r->ack_count = 0;
}

void rs_raft__become_follower(struct rs_raft *r, rs_term term, rs_node_id leader)
{
    RS_ASSERT(term >= r->term);
    if (r->role == RS_LEADER) {
        rs_raft__reads_fail(r, RS_ENOTLEADER);
        rs_raft__change_abort(r);
    }
    if (term > r->term) {
        r->term = term;
        r->voted_for = RS_NODE_NONE;
        r->ack_count = 0; /* acknowledgements of an older term are worthless now */
        rs_raft__persist_meta(r);
    }
    r->role = RS_FOLLOWER;
    r->leader_id = leader;
    rs_raft__reset_election_timer(r);
}

void rs_raft__become_leader(struct rs_raft *r)
{
    RS_ASSERT(r->role == RS_CANDIDATE);
    RS_ASSERT(r->voted_for == r->cfg.id);
    r->role = RS_LEADER;
    r->leader_id = r->cfg.id;
    r->stats.leader_terms++;
    rs_index next = rs_log_last_index(&r->log) + 1;
    for (uint32_t i = 0; i < r->peer_count; i++) {
        struct rs_progress *p = &r->progress[i];
        rs_node_id id = p->id;
        memset(p, 0, sizeof *p);
        p->id = id;
        p->state = RS_PROBE;
        p->next_index = next;
        p->last_ack_ns = r->now_ns; /* a grace period before the step-down check counts */
    }
    /* A new leader's first entry is a configuration entry (as in SOFAJRaft); earlier terms'
     * entries commit only together with it (Raft paper section 5.4.2). */
    uint8_t conf[RS_CONF_ENCODED_MAX];
    size_t size = rs_conf_encode(&r->conf, conf);
    struct rs_entry *e = rs_log_append(&r->log, r->term, RS_ENTRY_CONF, conf, (uint32_t)size);
    rs_raft__conf_appended(r, next, e);
    rs_raft__change_resume(r);
    r->term_start_index = next;
    r->hib_state = RS_HIB_AWAKE;
    r->hib_idle_rounds = 0;
    r->hib_acked = 0;
    r->read_seq = 0;
    r->read_count = 0;
    r->stepdown_deadline_ns = r->now_ns + r->cfg.election_timeout_ns;
    rs_raft__heartbeat_all(r);
    r->heartbeat_deadline_ns = r->now_ns + r->cfg.heartbeat_ns;
}

void rs_raft_recv(struct rs_raft *r, uint64_t now_ns, rs_node_id from, unsigned type,
                  struct rs_bytes body)
{
    r->now_ns = now_ns;
    if (r->role == RS_ERROR_STATE) {
        return; /* a replica in error neither votes nor acknowledges */
    }
    rs_raft__hib_before_recv(r, type);
    enum rs_err err = RS_OK;
    switch (type) {
    case RS_MSG_VOTE_REQUEST: {
        struct rs_vote_request m;
        if ((err = rs_msg_decode_vote_request(body, &m)) == RS_OK && m.from == from) {
            rs_raft__recv_vote_request(r, &m);
        }
        break;
    }
    case RS_MSG_VOTE_RESPONSE: {
        struct rs_vote_response m;
        if ((err = rs_msg_decode_vote_response(body, &m)) == RS_OK && m.from == from) {
            rs_raft__recv_vote_response(r, &m);
        }
        break;
    }
    case RS_MSG_APPEND_REQUEST: {
        struct rs_append_request m;
        if ((err = rs_msg_decode_append_request(body, &m)) == RS_OK && m.from == from) {
            rs_raft__recv_append_request(r, &m);
        }
        break;
    }
    case RS_MSG_APPEND_RESPONSE: {
        struct rs_append_response m;
        if ((err = rs_msg_decode_append_response(body, &m)) == RS_OK && m.from == from) {
            rs_raft__recv_append_response(r, &m);
        }
        break;
    }
    case RS_MSG_SNAPSHOT_REQUEST: {
        struct rs_snapshot_request m;
        if ((err = rs_msg_decode_snapshot_request(body, &m)) == RS_OK && m.from == from) {
            rs_raft__recv_snapshot_request(r, &m);
        }
        break;
    }
    case RS_MSG_SNAPSHOT_RESPONSE: {
        struct rs_snapshot_response m;
        if ((err = rs_msg_decode_snapshot_response(body, &m)) == RS_OK && m.from == from) {
            rs_raft__recv_snapshot_response(r, &m);
        }
        break;
    }
    default: err = rs_raft__leadership_recv(r, from, type, body); break;
    }
    if (err != RS_OK) {
        r->stats.corrupt_messages++;
    }
    if (r->role != RS_ERROR_STATE) {
        rs_raft__hib_after_recv(r);
    }
}

void rs_raft_tick(struct rs_raft *r, uint64_t now_ns)
{
    r->now_ns = now_ns;
    if (r->role == RS_ERROR_STATE) {
        return;
    }
    rs_raft__leadership_tick(r);
    if (r->role == RS_LEADER) {
        rs_raft__leader_tick(r);
    } else if (now_ns >= r->election_deadline_ns) {
        rs_raft__election_timeout(r);
    }
}

uint64_t rs_raft_deadline(const struct rs_raft *r)
{
    if (r->role == RS_ERROR_STATE) {
        return UINT64_MAX;
    }
    uint64_t d = r->election_deadline_ns;
    if (r->role == RS_LEADER) {
        d = r->heartbeat_deadline_ns;
        d = r->stepdown_deadline_ns < d ? r->stepdown_deadline_ns : d;
    }
    uint64_t extra = rs_raft__leadership_deadline(r); /* transfer and forwarded-read timeouts */
    return extra < d ? extra : d;
}

uint32_t rs_raft__segment_slot(const struct rs_raft *r, rs_index segment_first)
{
    for (uint32_t s = 0; s < r->store.segment_count; s++) {
        if (r->store.segments[s].first_index == segment_first) {
            return s;
        }
    }
    RS_UNREACHABLE();
}

/* Entries from index on are removed, in memory and on disk (a conflicting suffix). */
void rs_raft__truncate(struct rs_raft *r, rs_index index)
{
    RS_ASSERT(index > r->commit_index); /* committed entries are never truncated */
    rs_raft__truncate_unchecked(r, index);
}

/* The truncation itself; only the planted bug truncate-committed calls it directly. */
void rs_raft__truncate_unchecked(struct rs_raft *r, rs_index index)
{
    RS_ASSERT(rs_log_has(&r->log, index));
    if (index <= r->written_index) {
        const struct rs_entry *e = rs_log_get(&r->log, index);
        uint32_t seg = rs_raft__segment_slot(r, e->segment_first);
        char name[RS_FILE_NAME_MAX];
        size_t mark = r->out->disk_count;
        rs_log_segment_name(r->store.segments[seg].first_index, name);
        rs_out_disk_op(r->out, RS_DISK_TRUNCATE, name, NULL, e->offset, NULL, 0);
        for (uint32_t s = seg + 1; s < r->store.segment_count; s++) {
            rs_log_segment_name(r->store.segments[s].first_index, name);
            rs_out_disk_op(r->out, RS_DISK_REMOVE, name, NULL, 0, NULL, 0);
        }
        track_disk_ops(r, mark);
        r->store.segments[seg].size_bytes = e->offset;
        r->store.segments[seg].dirty = true;
        r->store.segment_count = seg + 1;
        r->written_index = index - 1;
    }
    if (r->durable_index >= index) {
        r->durable_index = index - 1;
    }
    /* syncs in flight cover the old entries only up to the cut */
    for (size_t i = 0; i < r->wait_count; i++) {
        struct rs_disk_wait *w = &r->waits[(r->wait_head + i) % r->wait_cap];
        if (w->purpose == RS_PURPOSE_LOG_SYNC && w->value >= index) {
            w->value = index - 1;
        }
    }
    rs_log_truncate_suffix(&r->log, index);
    rs_raft__conf_truncated(r, index);
}

void rs_raft_disk_done(struct rs_raft *r, uint64_t now_ns, uint64_t id, enum rs_err err)
{
    r->now_ns = now_ns;
    RS_ASSERT(r->wait_count > 0);
    struct rs_disk_wait w = r->waits[r->wait_head];
    RS_ASSERT(w.id == id); /* the host completes disk operations in submission order */
    r->wait_head = (r->wait_head + 1) % r->wait_cap;
    r->wait_count--;
    if (r->role == RS_ERROR_STATE) {
        return;
    }
    if (err != RS_OK) {
        /* a failed write or sync: stop serving, never acknowledge what may not be durable */
        rs_raft__enter_error(r, err);
        return;
    }
    if (w.purpose == RS_PURPOSE_META_SYNC) {
        RS_ASSERT(w.value > r->meta_seq_durable);
        r->meta_seq_durable = w.value;
        if (r->meta_seq_durable == r->meta_seq) {
            release_held(r);
        }
    } else if (w.purpose == RS_PURPOSE_LOG_SYNC) {
        r->sync_in_flight = false;
        rs_raft__log_synced(r, w.value);
    } else if (w.purpose != RS_PURPOSE_NONE) {
        rs_raft__snapshot_disk_done(r, w.purpose);
    }
}

void rs_raft__log_synced(struct rs_raft *r, rs_index index)
{
    if (index > r->durable_index) {
        r->durable_index = index;
    }
    RS_ASSERT(r->durable_index <= rs_log_last_index(&r->log));
    if (r->role == RS_LEADER) {
        rs_raft__maybe_commit(r);
    } else {
        rs_raft__send_durable_acks(r);
    }
}

/* Submits writes for entries not yet written, and a sync round when none is in flight. */
void rs_raft__write_log(struct rs_raft *r)
{
    rs_index last = rs_log_last_index(&r->log);
    struct rs_log_store *st = &r->store;
    while (r->written_index < last) {
        if (st->segment_count == 0 ||
            st->segments[st->segment_count - 1].size_bytes >= st->segment_bytes_max) {
            struct rs_segment *s = rs_log_store_push(st);
            s->first_index = r->written_index + 1;
            s->size_bytes = 0;
            s->dirty = false;
        }
        uint32_t seg = st->segment_count - 1;
        struct rs_segment *s = &st->segments[seg];
        size_t start = r->out->bytes_size;
        rs_index i = r->written_index + 1;
        for (; i <= last && s->size_bytes + (r->out->bytes_size - start) < st->segment_bytes_max;
             i++) {
            struct rs_entry *e = (struct rs_entry *)rs_log_get(&r->log, i);
            size_t at = rs_out_reserve(r->out, rs_log_record_size(e->size));
            e->segment_first = s->first_index;
            e->offset = s->size_bytes + (at - start);
            rs_log_record_encode(rs_out_at(r->out, at), i, e->term, e->type, r->durable_index,
                                 e->data, e->size);
        }
        char name[RS_FILE_NAME_MAX];
        rs_log_segment_name(s->first_index, name);
        size_t size = r->out->bytes_size - start;
        uint64_t id = rs_out_disk_write_at(r->out, name, s->size_bytes, start, size);
        wait_push(r, id, RS_PURPOSE_NONE, 0);
        s->size_bytes += size;
        s->dirty = true;
        r->written_index = i - 1;
    }
    if (r->sync_in_flight || r->durable_index >= r->written_index) {
        return;
    }
    /* every dirty segment is synced, oldest first, so a synced later segment implies the
     * earlier ones are synced too (recovery relies on it) */
    uint64_t last_id = 0;
    for (uint32_t s = 0; s < st->segment_count; s++) {
        if (st->segments[s].dirty) {
            char name[RS_FILE_NAME_MAX];
            rs_log_segment_name(st->segments[s].first_index, name);
            last_id = rs_raft__disk(r, RS_DISK_SYNC, name, RS_PURPOSE_NONE, 0);
            st->segments[s].dirty = false;
        }
    }
    if (last_id == 0) {
        return;
    }
    struct rs_disk_wait *w = &r->waits[(r->wait_head + r->wait_count - 1) % r->wait_cap];
    RS_ASSERT(w->id == last_id);
    w->purpose = RS_PURPOSE_LOG_SYNC;
    w->value = r->written_index;
    r->sync_in_flight = true;
}

void rs_raft_flush(struct rs_raft *r)
{
    if (r->role == RS_ERROR_STATE) {
        return;
    }
    rs_raft__write_log(r);
    rs_raft__leadership_flush(r);
    if (r->role == RS_LEADER) {
        rs_raft__replicate_all(r);
    }
}

void rs_raft_set_applied(struct rs_raft *r, rs_index index)
{
    RS_ASSERT(index >= r->applied_index);
    RS_ASSERT(index <= r->commit_index);
    r->applied_index = index;
}

enum rs_err rs_raft_propose(struct rs_raft *r, uint64_t now_ns, struct rs_bytes data,
                            rs_index *index, rs_term *term)
{
    r->now_ns = now_ns;
    if (r->role == RS_ERROR_STATE) {
        return RS_ESHUTDOWN;
    }
    if (r->role != RS_LEADER) {
        return RS_ENOTLEADER;
    }
    rs_raft__hib_activity_quiet(r); /* a proposal wakes a hibernating group */
    if (rs_raft_transferring(r)) {
        return RS_EBUSY; /* jraft: TRANSFERRING refuses apply with EBUSY */
    }
    if (data.size > RS_ENTRY_SIZE_MAX) {
        return RS_ETOOBIG;
    }
    if (rs_log_last_index(&r->log) - r->commit_index >= r->cfg.proposal_queue) {
        r->stats.proposals_busy++;
        return RS_EBUSY; /* a bounded queue answers busy instead of growing */
    }
    rs_log_append(&r->log, r->term, RS_ENTRY_DATA, data.data, (uint32_t)data.size);
    *index = rs_log_last_index(&r->log);
    *term = r->term;
    return RS_OK;
}

void rs_raft_enter_error(struct rs_raft *r, enum rs_err err)
{
    rs_raft__enter_error(r, err);
}
