/* Snapshots in the raft replica: save and compact, install to and from other replicas,
 * recovery. */
#include "core/raft/internal.h"

#include <stdlib.h>
#include <string.h>

#define MARGIN_DEFAULT 1000u
#define CHUNK_DEFAULT  (64u << 10)

static uint64_t chunk_bytes(const struct rs_raft *r)
{
    return r->cfg.snapshot_chunk_bytes ? r->cfg.snapshot_chunk_bytes : CHUNK_DEFAULT;
}

struct rs_bytes rs_raft_snapshot_data(const struct rs_raft *r)
{
    struct rs_snapshot_meta meta;
    struct rs_bytes data = {NULL, 0};
    if (r->snap.file != NULL) {
        enum rs_err err = rs_snapshot_decode(r->snap.file, r->snap.file_size, &meta, &data);
        RS_ASSERT(err == RS_OK); /* checked when it became the current snapshot */
    }
    return data;
}

rs_index rs_raft_snapshot_index(const struct rs_raft *r)
{
    return r->snap.meta.last_index;
}

void rs_raft_snapshot_loaded(struct rs_raft *r)
{
    RS_ASSERT(r->snapshot_to_load);
    r->snapshot_to_load = false;
    if (r->snap.meta.last_index > r->applied_index) {
        r->applied_index = r->snap.meta.last_index;
    }
    if (r->commit_index < r->applied_index) {
        r->commit_index = r->applied_index; /* jraft #1049: commit starts at the snapshot */
    }
}

/* Removes every segment file and forgets the on-disk log (the log restarts after index). */
static void drop_segments(struct rs_raft *r, rs_index index)
{
    char name[RS_FILE_NAME_MAX];
    for (uint32_t s = 0; s < r->store.segment_count; s++) {
        rs_log_segment_name(r->store.segments[s].first_index, name);
        rs_raft__disk(r, RS_DISK_REMOVE, name, RS_PURPOSE_NONE, 0);
    }
    r->store.segment_count = 0;
    r->written_index = index;
    r->durable_index = index;
    for (size_t i = 0; i < r->wait_count; i++) {
        struct rs_disk_wait *w = &r->waits[(r->wait_head + i) % r->wait_cap];
        if (w->purpose == RS_PURPOSE_LOG_SYNC) {
            w->value = index; /* syncs of the old log cover nothing beyond the snapshot */
        }
    }
}

/* Removes segment files whose entries all lie before index. */
static void drop_segments_before(struct rs_raft *r, rs_index index)
{
    struct rs_log_store *st = &r->store;
    uint32_t drop = 0;
    while (drop + 1 < st->segment_count && st->segments[drop + 1].first_index <= index) {
        char name[RS_FILE_NAME_MAX];
        rs_log_segment_name(st->segments[drop].first_index, name);
        rs_raft__disk(r, RS_DISK_REMOVE, name, RS_PURPOSE_NONE, 0);
        drop++;
    }
    memmove(st->segments, st->segments + drop, (st->segment_count - drop) * sizeof st->segments[0]);
    st->segment_count -= drop;
}

/* The log continues after a snapshot ending at (index, term): keep a matching suffix,
 * else start over after the snapshot (Raft paper, figure 13, steps 6 and 7). */
static void log_adopt_snapshot(struct rs_raft *r, rs_index index, rs_term term)
{
    bool matching = (rs_log_has(&r->log, index) || index + 1 == r->log.first_index) &&
                    rs_log_term_at(&r->log, index) == term;
    if (matching) {
        rs_log_compact(&r->log, index + 1);
        rs_raft__conf_compacted(r);
        drop_segments_before(r, index + 1);
        if (r->durable_index < index) {
            r->durable_index = index;
        }
        if (r->written_index < index) {
            r->written_index = index;
        }
        return;
    }
    rs_log_reset(&r->log, index, term);
    drop_segments(r, index);
    r->ack_count = 0;
    rs_raft__conf_reset(r, &r->install_conf);
}

/* Removes snapshot files older than the current one (they are superseded). */
static void remove_snapshot_file(struct rs_raft *r, const struct rs_snapshot_meta *m, bool part)
{
    char name[RS_FILE_NAME_MAX];
    rs_snapshot_name(m->last_index, m->last_term, part, name, sizeof name);
    rs_raft__disk(r, RS_DISK_REMOVE, name, RS_PURPOSE_NONE, 0);
}

static void make_current(struct rs_raft *r, struct rs_snapshot *s)
{
    if (r->snap.file != NULL && r->snap.meta.last_index != s->meta.last_index) {
        remove_snapshot_file(r, &r->snap.meta, false);
    }
    rs_snapshot_free(&r->snap);
    r->snap = *s;
    memset(s, 0, sizeof *s);
}

enum rs_err rs_raft_snapshot_save(struct rs_raft *r, rs_index index, const uint8_t *data,
                                  size_t size)
{
    if (r->role == RS_ERROR_STATE) {
        return RS_ESHUTDOWN;
    }
    if (r->snap_saving.file != NULL || r->install.active) {
        return RS_EBUSY;
    }
    if (index <= r->snap.meta.last_index || index > r->applied_index ||
        !rs_log_has(&r->log, index)) {
        return RS_EINVAL;
    }
    struct rs_snapshot_meta meta = {.last_index = index,
                                    .last_term = rs_log_term_at(&r->log, index),
                                    .conf = rs_raft__conf_at(r, index)};
    r->snap_saving.meta = meta;
    r->snap_saving.file = rs_snapshot_encode(&meta, data, size);
    r->snap_saving.file_size = rs_snapshot_file_size(size);
    char part[RS_FILE_NAME_MAX], name[RS_FILE_NAME_MAX];
    rs_snapshot_name(index, meta.last_term, true, part, sizeof part);
    rs_snapshot_name(index, meta.last_term, false, name, sizeof name);
    /* written to a .part file, synced, renamed: a crash never leaves a half snapshot that
     * recovery would trust */
    uint64_t id = rs_out_disk_op(r->out, RS_DISK_WRITE, part, NULL, 0, r->snap_saving.file,
                                 r->snap_saving.file_size);
    rs_raft__track(r, id);
    rs_raft__disk(r, RS_DISK_SYNC, part, RS_PURPOSE_NONE, 0);
    id = rs_out_disk_op(r->out, RS_DISK_RENAME, part, name, 0, NULL, 0);
    rs_raft__track_purpose(r, id, RS_PURPOSE_SNAP_SAVED, index);
    return RS_OK;
}

/*
 * A group that starts from a state instead of an empty log (a region made by a split): every
 * replica that applies the split writes the same snapshot at (index, term), and one created
 * later, empty, receives it from the leader like any snapshot, because the log begins after
 * index. The file goes through .part, sync and rename like any snapshot; it is current at
 * once (its bytes are the same on every replica), and the host's disk completes operations
 * in order, so no later write of this replica can be durable without it.
 */
enum rs_err rs_raft_bootstrap(struct rs_raft *r, rs_index index, rs_term term,
                              const struct rs_conf *conf, const uint8_t *data, size_t size)
{
    if (r->role == RS_ERROR_STATE) {
        return RS_ESHUTDOWN;
    }
    if (index == 0 || term == 0 || r->term != 0 || rs_log_last_index(&r->log) != 0 ||
        r->snap.file != NULL || r->snap_saving.file != NULL || r->install.active) {
        return RS_EINVAL;
    }
    struct rs_snapshot snap = {.meta = {.last_index = index, .last_term = term, .conf = *conf}};
    snap.file = rs_snapshot_encode(&snap.meta, data, size);
    snap.file_size = rs_snapshot_file_size(size);
    char part[RS_FILE_NAME_MAX], name[RS_FILE_NAME_MAX];
    rs_snapshot_name(index, term, true, part, sizeof part);
    rs_snapshot_name(index, term, false, name, sizeof name);
    uint64_t id = rs_out_disk_op(r->out, RS_DISK_WRITE, part, NULL, 0, snap.file, snap.file_size);
    rs_raft__track(r, id);
    rs_raft__disk(r, RS_DISK_SYNC, part, RS_PURPOSE_NONE, 0);
    rs_raft__track(r, rs_out_disk_op(r->out, RS_DISK_RENAME, part, name, 0, NULL, 0));
    r->snap = snap;
    rs_log_reset(&r->log, index, term);
    r->written_index = index;
    r->durable_index = index;
    r->term = term;
    rs_raft__conf_reset(r, conf);
    r->snapshot_to_load = true;
    return RS_OK;
}

/* A snapshot we took is durable: it becomes current and the log behind it is compacted,
 * keeping a margin of entries for followers that are only a little behind. */
static void snapshot_saved(struct rs_raft *r)
{
    rs_index index = r->snap_saving.meta.last_index;
    make_current(r, &r->snap_saving);
    r->stats.snapshots_saved++;
    uint64_t margin = r->cfg.snapshot_margin ? r->cfg.snapshot_margin : MARGIN_DEFAULT;
    rs_index keep_from = index + 1 > margin ? index + 1 - margin : 1;
    if (keep_from > r->log.first_index) {
        rs_log_compact(&r->log, keep_from);
        rs_raft__conf_compacted(r);
        drop_segments_before(r, keep_from);
    }
}

/* ---- install: the follower side ---- */

static void respond(struct rs_raft *r, rs_node_id to, rs_index index, bool success, bool done,
                    uint64_t next_offset)
{
    struct rs_snapshot_response resp = {.from = r->cfg.id, .term = r->term, .last_index = index,
                                        .success = success, .done = done,
                                        .next_offset = next_offset};
    size_t mark = r->out->msg_count;
    rs_msg_send_snapshot_response(r->out, to, &resp);
    rs_raft__sent(r, mark);
}

static void install_discard(struct rs_raft *r)
{
    struct rs_install *in = &r->install;
    if (in->active) {
        struct rs_snapshot_meta m = {.last_index = in->last_index, .last_term = in->last_term};
        remove_snapshot_file(r, &m, true);
    }
    free(in->buf);
    memset(in, 0, sizeof *in);
}

static void install_start(struct rs_raft *r, const struct rs_snapshot_request *m)
{
    struct rs_install *in = &r->install;
    in->active = true;
    in->last_index = m->last_index;
    in->last_term = m->last_term;
    in->total_size = m->total_size;
    in->received = 0;
}

/* Stores a chunk that continues the download; true when the file is complete. */
static bool install_store(struct rs_raft *r, const struct rs_snapshot_request *m)
{
    struct rs_install *in = &r->install;
    if (in->cap < in->total_size) {
        in->buf = realloc(in->buf, in->total_size);
        RS_ASSERT(in->buf != NULL);
        in->cap = in->total_size;
    }
    memcpy(in->buf + in->received, m->chunk.data, m->chunk.size);
    char part[RS_FILE_NAME_MAX];
    rs_snapshot_name(in->last_index, in->last_term, true, part, sizeof part);
    uint64_t id = rs_out_disk_op(r->out, RS_DISK_WRITE, part, NULL, in->received, m->chunk.data,
                                 m->chunk.size);
    rs_raft__track(r, id);
    in->received += m->chunk.size;
    return in->received == in->total_size;
}

static void install_finish(struct rs_raft *r)
{
    struct rs_install *in = &r->install;
    struct rs_snapshot_meta meta;
    struct rs_bytes data;
    if (rs_snapshot_decode(in->buf, in->total_size, &meta, &data) != RS_OK ||
        meta.last_index != in->last_index || meta.last_term != in->last_term) {
        /* damaged (a torn part file resumed after a crash): start the download over */
        rs_node_id leader = in->leader;
        rs_index index = in->last_index;
        install_discard(r);
        respond(r, leader, index, true, false, 0);
        return;
    }
    in->finishing = true;
    char part[RS_FILE_NAME_MAX], name[RS_FILE_NAME_MAX];
    rs_snapshot_name(in->last_index, in->last_term, true, part, sizeof part);
    rs_snapshot_name(in->last_index, in->last_term, false, name, sizeof name);
    rs_raft__disk(r, RS_DISK_SYNC, part, RS_PURPOSE_NONE, 0);
    uint64_t id = rs_out_disk_op(r->out, RS_DISK_RENAME, part, name, 0, NULL, 0);
    rs_raft__track_purpose(r, id, RS_PURPOSE_SNAP_INSTALLED, in->last_index);
}

void rs_raft__recv_snapshot_request(struct rs_raft *r, const struct rs_snapshot_request *m)
{
    if (m->term < r->term) {
        respond(r, m->from, m->last_index, false, false, 0);
        return;
    }
    if (m->term > r->term || r->role != RS_FOLLOWER) {
        if (r->role == RS_LEADER && m->term == r->term) {
            return; /* two leaders in one term: the safety checks report it */
        }
        rs_raft__become_follower(r, m->term, m->from);
    }
    r->leader_id = m->from;
    r->last_leader_contact_ns = r->now_ns;
    rs_raft__reset_election_timer(r);
    struct rs_install *in = &r->install;
    rs_index have = r->snap.meta.last_index > r->commit_index ? r->snap.meta.last_index
                                                             : r->commit_index;
    if (m->last_index <= have) {
        respond(r, m->from, m->last_index, true, true, m->total_size); /* already have it */
        return;
    }
    if (in->active && (in->last_index != m->last_index || in->last_term != m->last_term)) {
        if (m->last_index < in->last_index || in->finishing) {
            respond(r, m->from, m->last_index, false, false, 0); /* an older one: stale */
            return;
        }
        install_discard(r); /* a newer snapshot replaces the one in progress */
    }
    if (!in->active) {
        install_start(r, m);
    }
    in->leader = m->from;
    in->leader_term = m->term;
    if (in->total_size == 0 || in->received > m->total_size) {
        in->total_size = m->total_size; /* resumed after a crash: now we know the size */
        if (in->received > in->total_size) {
            in->received = 0;
        }
    }
    if (in->finishing || m->offset != in->received || m->total_size != in->total_size) {
        respond(r, m->from, m->last_index, true, false, in->received);
        return;
    }
    if (install_store(r, m)) {
        install_finish(r); /* answered once the snapshot is durable */
        return;
    }
    respond(r, m->from, m->last_index, true, false, in->received);
}

/* A snapshot from the leader is durable: adopt it. */
static void snapshot_installed(struct rs_raft *r)
{
    struct rs_install *in = &r->install;
    struct rs_snapshot s = {.file = in->buf, .file_size = in->total_size};
    struct rs_bytes data;
    enum rs_err err = rs_snapshot_decode(s.file, s.file_size, &s.meta, &data);
    RS_ASSERT(err == RS_OK);
    rs_node_id leader = in->leader;
    rs_term leader_term = in->leader_term;
    in->buf = NULL;
    memset(in, 0, sizeof *in);
    r->install_conf = s.meta.conf;
    log_adopt_snapshot(r, s.meta.last_index, s.meta.last_term);
    make_current(r, &s);
    if (r->commit_index < r->snap.meta.last_index) {
        r->commit_index = r->snap.meta.last_index;
    }
    r->snapshot_to_load = true;
    r->stats.snapshots_installed++;
    if (r->term == leader_term) {
        respond(r, leader, r->snap.meta.last_index, true, true, r->snap.file_size);
    }
}

void rs_raft__snapshot_disk_done(struct rs_raft *r, enum rs_disk_purpose purpose)
{
    if (purpose == RS_PURPOSE_SNAP_SAVED) {
        snapshot_saved(r);
    } else if (purpose == RS_PURPOSE_SNAP_INSTALLED) {
        snapshot_installed(r);
    }
}

/* ---- install: the leader side ---- */

void rs_raft__send_snapshot(struct rs_raft *r, struct rs_progress *p)
{
    RS_ASSERT(r->snap.file != NULL);
    if (p->state != RS_SNAPSHOT || p->snap_index != r->snap.meta.last_index) {
        p->state = RS_SNAPSHOT;
        p->snap_index = r->snap.meta.last_index;
        p->snap_offset = 0;
        p->inflight_count = 0;
        p->inflight_head = 0;
    }
    uint64_t n = r->snap.file_size - p->snap_offset;
    if (n > chunk_bytes(r)) {
        n = chunk_bytes(r);
    }
    struct rs_snapshot_request m = {
        .from = r->cfg.id,
        .term = r->term,
        .last_index = r->snap.meta.last_index,
        .last_term = r->snap.meta.last_term,
        .total_size = r->snap.file_size,
        .offset = p->snap_offset,
        .chunk = {r->snap.file + p->snap_offset, n},
    };
    size_t mark = r->out->msg_count;
    rs_msg_send_snapshot_request(r->out, p->id, &m);
    rs_raft__sent(r, mark);
    p->snap_sent_ns = r->now_ns == 0 ? 1 : r->now_ns;
    r->stats.snapshot_chunks_sent++;
    r->stats.snapshot_bytes_sent += n;
}

void rs_raft__recv_snapshot_response(struct rs_raft *r, const struct rs_snapshot_response *m)
{
    if (m->term > r->term) {
        rs_raft__become_follower(r, m->term, RS_NODE_NONE);
        return;
    }
    struct rs_progress *p = rs_raft__progress(r, m->from);
    if (r->role != RS_LEADER || m->term < r->term || p == NULL) {
        return;
    }
    p->last_ack_ns = r->now_ns;
    if (p->state != RS_SNAPSHOT || m->last_index != p->snap_index) {
        return; /* a late answer about another snapshot */
    }
    if (m->done) {
        if (m->last_index > p->match_index) {
            p->match_index = m->last_index;
            rs_raft__maybe_commit(r);
        }
        p->state = RS_PROBE;
        p->next_index = p->match_index + 1;
        p->probe_sent_ns = 0;
        p->valid_seq = p->send_seq;
        rs_raft__replicate(r, p);
        return;
    }
    if (!m->success || m->next_offset > r->snap.file_size) {
        return; /* refused: the retry timer sends the chunk again */
    }
    p->snap_offset = m->next_offset;
    rs_raft__send_snapshot(r, p);
}

/* ---- recovery ---- */

/* Finds the newest valid snapshot and a download to resume; removes what is superseded. */
static void recover_snapshot_files(struct rs_raft *r, const struct rs_file_view *files,
                                   size_t count)
{
    int best = -1;
    for (size_t i = 0; i < count; i++) {
        rs_index index;
        rs_term term;
        bool part;
        struct rs_snapshot_meta meta;
        struct rs_bytes data;
        if (!rs_snapshot_parse_name(files[i].name, &index, &term, &part) || part) {
            continue;
        }
        if (rs_snapshot_decode(files[i].data, files[i].size, &meta, &data) == RS_OK &&
            meta.last_index == index && meta.last_term == term &&
            (best < 0 || index > r->snap.meta.last_index)) {
            best = (int)i;
            r->snap.meta = meta;
        }
    }
    if (best >= 0) {
        r->snap.file_size = files[best].size;
        r->snap.file = malloc(files[best].size);
        RS_ASSERT(r->snap.file != NULL);
        memcpy(r->snap.file, files[best].data, files[best].size);
    }
    for (size_t i = 0; i < count; i++) {
        rs_index index;
        rs_term term;
        bool part;
        if (!rs_snapshot_parse_name(files[i].name, &index, &term, &part) ||
            (int)i == best) {
            continue;
        }
        if (part && index > r->snap.meta.last_index && !r->install.active) {
            /* a download cut by a crash: resume it where the file ends (the checksum
             * decides at the end whether the bytes are good) */
            struct rs_install *in = &r->install;
            in->active = true;
            in->last_index = index;
            in->last_term = term;
            in->received = files[i].size;
            in->cap = files[i].size;
            in->buf = malloc(files[i].size ? files[i].size : 1);
            RS_ASSERT(in->buf != NULL);
            memcpy(in->buf, files[i].data, files[i].size);
            continue;
        }
        rs_raft__disk(r, RS_DISK_REMOVE, files[i].name, RS_PURPOSE_NONE, 0);
    }
}

void rs_raft__snapshot_recover(struct rs_raft *r, const struct rs_file_view *files, size_t count)
{
    recover_snapshot_files(r, files, count);
    if (r->snap.file == NULL) {
        return;
    }
    rs_index index = r->snap.meta.last_index;
    rs_term term = r->snap.meta.last_term;
    /* the log must continue the snapshot: a gap or a conflicting entry means the segments
     * are stale (the snapshot was installed from a leader) */
    bool continues = r->log.first_index <= index + 1 && rs_log_last_index(&r->log) >= index;
    if (r->log.first_index == index + 1 && r->log.count > 0) {
        /* the log begins right after the snapshot (a bootstrapped region, or appends after
         * an install that dropped every segment): only the snapshot knows the term there */
        r->log.prev_term = term;
    }
    r->install_conf = r->snap.meta.conf;
    rs_raft__conf_reset(r, &r->snap.meta.conf); /* log entries after it are replayed next */
    bool drop_tail = (r->cfg.bugs & RS_BUG_SNAPSHOT_DROPS_TAIL) != 0; /* planted */
    if (continues && rs_log_term_at(&r->log, index) == term && !drop_tail) {
        log_adopt_snapshot(r, index, term);
    } else {
        rs_log_reset(&r->log, index, term);
        drop_segments(r, index);
    }
    r->commit_index = index;
    r->snapshot_to_load = true;
}
