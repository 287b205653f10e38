/* Linearizable reads by ReadIndex: confirm leadership with a quorum round (or inside the
 * lease), then serve. */
#include "core/raft/internal.h"

#include <stdlib.h>

void rs_raft__read_done(struct rs_raft *r, uint64_t cookie, rs_index index, enum rs_err err)
{
    if (r->reads_done_count == r->reads_done_cap) {
        r->reads_done_cap = r->reads_done_cap ? r->reads_done_cap * 2 : 64;
        r->reads_done = realloc(r->reads_done, r->reads_done_cap * sizeof *r->reads_done);
        RS_ASSERT(r->reads_done != NULL);
    }
    struct rs_read_done *d = &r->reads_done[r->reads_done_count++];
    d->cookie = cookie;
    d->read_index = index;
    d->err = err;
}

static void read_push(struct rs_raft *r, uint64_t cookie, uint64_t seq, rs_index index)
{
    if (r->read_count == r->read_cap) {
        size_t cap = r->read_cap ? r->read_cap * 2 : 64;
        struct rs_read *reads = malloc(cap * sizeof *reads);
        RS_ASSERT(reads != NULL);
        for (size_t i = 0; i < r->read_count; i++) {
            reads[i] = r->reads[(r->read_head + i) % r->read_cap];
        }
        free(r->reads);
        r->reads = reads;
        r->read_cap = cap;
        r->read_head = 0;
    }
    struct rs_read *rd = &r->reads[(r->read_head + r->read_count++) % r->read_cap];
    rd->cookie = cookie;
    rd->read_seq = seq;
    rd->read_index = index;
}

enum rs_err rs_raft__leader_read_check(const struct rs_raft *r)
{
    if (r->role == RS_ERROR_STATE) {
        return RS_ESHUTDOWN;
    }
    if (r->role != RS_LEADER) {
        return RS_ENOTLEADER;
    }
    if (rs_raft_transferring(r)) {
        return RS_EBUSY; /* jraft: TRANSFERRING answers EBUSY */
    }
    /* until an entry of this term commits, the leader's commit index may lag the cluster's
     * (jraft answers EAGAIN here too); this also keeps a new leader from lease reads */
    if (r->commit_index < r->term_start_index) {
        return RS_EAGAIN;
    }
    return RS_OK;
}

enum rs_err rs_raft_read_index(struct rs_raft *r, uint64_t now_ns, uint64_t cookie)
{
    r->now_ns = now_ns;
    rs_raft__hib_activity_quiet(r); /* a read wakes a hibernating replica */
    if (r->role != RS_LEADER && r->role != RS_ERROR_STATE && r->cfg.follower_reads) {
        return rs_raft__forward_read(r, cookie);
    }
    enum rs_err err = rs_raft__leader_read_check(r);
    if (err != RS_OK) {
        return err;
    }
    if (r->read_count >= RS_RAFT_READS_MAX) {
        return RS_EBUSY;
    }
    if (rs_conf_majority(&r->conf, 1ull << r->cfg.id) ||
        (r->cfg.bugs & RS_BUG_READ_WITHOUT_QUORUM)) {
        rs_raft__read_done(r, cookie, r->commit_index, RS_OK);
        return RS_OK;
    }
    if (rs_raft_lease_valid(r)) {
        r->stats.lease_reads++;
        rs_raft__read_done(r, cookie, r->commit_index, RS_OK);
        return RS_OK;
    }
    read_push(r, cookie, rs_raft__read_round(r), r->commit_index);
    r->read_broadcast_needed = true;
    return RS_OK;
}

/* Reads whose round a quorum has acknowledged in this term are confirmed, oldest first. */
void rs_raft__reads_confirm(struct rs_raft *r)
{
    uint64_t acked[RS_NODE_ID_MAX + 1] = {0};
    acked[r->cfg.id] = r->read_seq;
    for (uint32_t i = 0; i < r->peer_count; i++) {
        acked[r->progress[i].id] = r->progress[i].read_seq_acked;
    }
    uint64_t confirmed = rs_conf_quorum_value(&r->conf, acked);
    rs_raft__lease_confirmed(r, confirmed);
    rs_raft__remote_reads_confirm(r, confirmed);
    while (r->read_count > 0 && r->reads[r->read_head].read_seq <= confirmed) {
        struct rs_read *rd = &r->reads[r->read_head];
        rs_raft__read_done(r, rd->cookie, rd->read_index, RS_OK);
        r->read_head = (r->read_head + 1) % r->read_cap;
        r->read_count--;
    }
}

void rs_raft__reads_fail(struct rs_raft *r, enum rs_err err)
{
    rs_raft__remote_reads_fail(r, err);
    while (r->read_count > 0) {
        struct rs_read *rd = &r->reads[r->read_head];
        rs_raft__read_done(r, rd->cookie, 0, err);
        r->read_head = (r->read_head + 1) % r->read_cap;
        r->read_count--;
    }
    r->read_seq = 0;
}
