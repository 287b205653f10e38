/* Follower side of replication: append requests, conflict truncation, durable acks. */
#include "core/raft/internal.h"

#include <stdlib.h>

static void respond(struct rs_raft *r, const struct rs_append_request *m, bool success,
                    rs_index match)
{
    struct rs_append_response resp = {
        .from = r->cfg.id,
        .term = r->term,
        .success = success,
        .match_index = match,
        .seq = m->seq,
        .read_seq = m->read_seq,
    };
    size_t mark = r->out->msg_count;
    rs_msg_send_append_response(r->out, m->from, &resp);
    rs_raft__sent(r, mark);
}

static void queue_ack(struct rs_raft *r, const struct rs_append_request *m, rs_index match)
{
    if (r->ack_count == RS_RAFT_ACKS_MAX) {
        return; /* bounded: the leader's retry timer covers a dropped ack */
    }
    if (r->ack_count == r->ack_cap) {
        r->ack_cap = r->ack_cap ? r->ack_cap * 2 : 64;
        r->acks = realloc(r->acks, r->ack_cap * sizeof *r->acks);
        RS_ASSERT(r->acks != NULL);
    }
    struct rs_pending_ack *a = &r->acks[r->ack_count++];
    a->to = m->from;
    a->term = r->term;
    a->match_index = match;
    a->seq = m->seq;
    a->read_seq = m->read_seq;
}

void rs_raft__send_durable_acks(struct rs_raft *r)
{
    size_t kept = 0;
    for (size_t i = 0; i < r->ack_count; i++) {
        struct rs_pending_ack a = r->acks[i];
        if (a.term != r->term) {
            continue;
        }
        if (a.match_index > r->durable_index) {
            r->acks[kept++] = a;
            continue;
        }
        struct rs_append_request m = {.from = a.to, .seq = a.seq, .read_seq = a.read_seq};
        respond(r, &m, true, a.match_index);
    }
    r->ack_count = kept;
}

/* Appends the request's entries after prev_index, cutting a conflicting suffix first. */
static void append_entries(struct rs_raft *r, const struct rs_append_request *m)
{
    size_t pos = 0;
    rs_index index = m->prev_index;
    for (uint32_t i = 0; i < m->entry_count; i++) {
        struct rs_wire_entry e;
        enum rs_err err = rs_append_next_entry(m, &pos, &e);
        RS_ASSERT(err == RS_OK); /* framing was validated by the decoder */
        index++;
        if (index < r->log.first_index) {
            continue; /* inside our snapshot: committed, so it matches */
        }
        if (rs_log_has(&r->log, index)) {
            if (rs_log_term_at(&r->log, index) == e.term) {
                continue; /* already have it */
            }
            if (index <= r->commit_index) {
                /* a leader contradicts an entry this replica knows is committed: only a broken
                 * engine gets here; stop and let the safety checks report it */
                r->conflict_index = index;
                rs_raft__enter_error(r, RS_ECORRUPT);
                return;
            }
            rs_raft__truncate(r, index);
        }
        if (e.term < rs_log_last_term(&r->log) || e.term > m->term) {
            return; /* not a log a leader of this term could send: ignore the rest */
        }
        struct rs_entry *added =
            rs_log_append(&r->log, e.term, e.type, e.data.data, (uint32_t)e.data.size);
        if (e.type == RS_ENTRY_CONF) {
            rs_raft__conf_appended(r, index, added);
        }
    }
}

void rs_raft__recv_append_request(struct rs_raft *r, const struct rs_append_request *m)
{
    if (m->term < r->term) {
        respond(r, m, false, rs_log_last_index(&r->log));
        return;
    }
    if (r->role == RS_LEADER && m->term == r->term) {
        return; /* two leaders in one term: the safety checks report it; never merge logs */
    }
    if (m->term > r->term || r->role != RS_FOLLOWER) {
        rs_raft__become_follower(r, m->term, m->from);
    }
    r->leader_id = m->from;
    r->last_leader_contact_ns = r->now_ns;
    rs_raft__reset_election_timer(r);
    rs_index last = rs_log_last_index(&r->log);
    if (m->prev_index > last) {
        respond(r, m, false, last);
        return;
    }
    /* a prev_index inside our snapshot is committed and therefore matches */
    if (m->prev_index + 1 >= r->log.first_index &&
        rs_log_term_at(&r->log, m->prev_index) != m->prev_term) {
        respond(r, m, false, m->prev_index - 1);
        return;
    }
    append_entries(r, m);
    if (r->role == RS_ERROR_STATE) {
        return;
    }
    rs_index end = m->prev_index + m->entry_count;
    if ((r->cfg.bugs & RS_BUG_TRUNCATE_COMMITTED) && m->entry_count > 0 &&
        end >= r->log.first_index && end < rs_log_last_index(&r->log)) {
        /* planted: a late append cuts what follows it, conflict or not, committed or not */
        rs_raft__truncate_unchecked(r, end + 1);
    }
    rs_index last_new = m->prev_index + m->entry_count;
    if (last_new > rs_log_last_index(&r->log)) {
        last_new = rs_log_last_index(&r->log);
    }
    rs_index commit = m->commit_index < last_new ? m->commit_index : last_new;
    if (commit > r->commit_index) {
        r->commit_index = commit;
    }
    if (m->entry_count == 0) {
        rs_index match = m->prev_index < r->durable_index ? m->prev_index : r->durable_index;
        respond(r, m, true, match);
    } else if ((r->cfg.bugs & RS_BUG_ACK_BEFORE_SYNC) || r->durable_index >= last_new) {
        respond(r, m, true, last_new);
    } else {
        queue_ack(r, m, last_new);
    }
}
