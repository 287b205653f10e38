/* Elections: timeouts, pre-vote, durable votes, counting, and vote requests received. */
#include "core/raft/internal.h"

static void send_vote_requests(struct rs_raft *r, bool pre_vote)
{
    struct rs_vote_request m = {
        .from = r->cfg.id,
        .term = pre_vote ? r->term + 1 : r->term,
        .last_log_index = rs_log_last_index(&r->log),
        .last_log_term = rs_log_last_term(&r->log),
        .pre_vote = pre_vote,
    };
    size_t mark = r->out->msg_count;
    for (uint32_t i = 0; i < r->peer_count; i++) {
        rs_node_id id = r->progress[i].id;
        if (rs_conf_is_voter(&r->conf, id)) {
            rs_msg_send_vote_request(r->out, id, &m);
        }
    }
    rs_raft__sent(r, mark);
}

/* Votes count only from voters, of both sides of a joint configuration. */
static bool has_quorum(const struct rs_raft *r, uint64_t votes)
{
    return rs_conf_majority(&r->conf, votes);
}

static uint64_t self_bit(const struct rs_raft *r)
{
    RS_ASSERT(rs_conf_is_voter(&r->conf, r->cfg.id));
    return 1ull << r->cfg.id;
}

static void become_candidate(struct rs_raft *r)
{
    r->role = RS_CANDIDATE;
    r->term++;
    r->voted_for = r->cfg.id;
    r->leader_id = RS_NODE_NONE;
    r->stats.elections_started++;
    /* the term and vote are durable before the vote requests leave (SOFAJRaft #1245): the
     * requests below are held until the meta sync completes */
    rs_raft__persist_meta(r);
    r->votes_granted = self_bit(r);
    r->votes_refused = 0;
    rs_raft__reset_election_timer(r);
    if (has_quorum(r, r->votes_granted)) {
        rs_raft__become_leader(r);
        return;
    }
    send_vote_requests(r, false);
}

static void become_pre_candidate(struct rs_raft *r)
{
    r->role = RS_PRE_CANDIDATE;
    r->leader_id = RS_NODE_NONE;
    r->votes_granted = self_bit(r);
    r->votes_refused = 0;
    rs_raft__reset_election_timer(r);
    if (has_quorum(r, r->votes_granted)) {
        become_candidate(r);
        return;
    }
    send_vote_requests(r, true);
}

void rs_raft__election_timeout(struct rs_raft *r)
{
    RS_ASSERT(r->role != RS_LEADER);
    rs_raft__hib_election_timeout(r); /* a silent leader, for the store (hibernate.c) */
    if (!rs_conf_is_voter(&r->conf, r->cfg.id) || r->elections_barred) {
        rs_raft__reset_election_timer(r); /* learners and removed nodes never campaign */
        return;
    }
    if (r->role == RS_FOLLOWER && r->leader_id != RS_NODE_NONE &&
        r->now_ns - r->last_leader_contact_ns < r->cfg.election_timeout_ns) {
        rs_raft__reset_election_timer(r); /* the leader is alive */
        return;
    }
    if (!rs_raft__priority_allows_election(r)) {
        rs_raft__reset_election_timer(r); /* a higher priority goes first (priority.c) */
        return;
    }
    /* a candidate whose vote timed out steps down and pre-votes again (jraft's
     * stepDownWhenVoteTimedout), so a partitioned node does not inflate terms */
    if (r->cfg.pre_vote) {
        become_pre_candidate(r);
    } else {
        become_candidate(r);
    }
}

void rs_raft__elect_self(struct rs_raft *r)
{
    RS_ASSERT(r->role == RS_FOLLOWER);
    become_candidate(r);
}

enum rs_err rs_raft_campaign(struct rs_raft *r, uint64_t now_ns)
{
    r->now_ns = now_ns;
    if (r->role != RS_FOLLOWER || !rs_conf_is_voter(&r->conf, r->cfg.id) ||
        r->elections_barred || rs_raft__priority_of(r, r->cfg.id) == RS_PRIORITY_NEVER) {
        return RS_EINVAL;
    }
    become_candidate(r);
    return RS_OK;
}

static bool log_up_to_date(const struct rs_raft *r, rs_term last_term, rs_index last_index)
{
    rs_term my_term = rs_log_last_term(&r->log);
    if (last_term != my_term) {
        return last_term > my_term;
    }
    return last_index >= rs_log_last_index(&r->log);
}

static void respond(struct rs_raft *r, rs_node_id to, bool granted, bool pre_vote)
{
    struct rs_vote_response resp = {
        .from = r->cfg.id, .term = r->term, .granted = granted, .pre_vote = pre_vote};
    size_t mark = r->out->msg_count;
    rs_msg_send_vote_response(r->out, to, &resp);
    rs_raft__sent(r, mark);
}

static bool leader_lease_valid(const struct rs_raft *r)
{
    if (r->role == RS_LEADER) {
        return true;
    }
    return r->leader_id != RS_NODE_NONE &&
           r->now_ns - r->last_leader_contact_ns < r->cfg.election_timeout_ns;
}

void rs_raft__recv_vote_request(struct rs_raft *r, const struct rs_vote_request *m)
{
    bool log_ok = (r->cfg.bugs & RS_BUG_VOTE_NO_LOG_CHECK) ||
                  log_up_to_date(r, m->last_log_term, m->last_log_index);
    /* only voters grant votes, and only to voters (a learner's vote never counts) */
    bool member = rs_conf_is_voter(&r->conf, m->from) && rs_conf_is_voter(&r->conf, r->cfg.id) &&
                  !r->elections_barred;
    if (m->pre_vote) {
        /* a pre-vote never changes our term; refused while a leader lease holds, so a node
         * coming back from a partition cannot disrupt a healthy leader (jraft #15) */
        bool grant = member && m->term > r->term && log_ok && !leader_lease_valid(r);
        respond(r, m->from, grant, true);
        return;
    }
    if (m->term < r->term) {
        respond(r, m->from, false, false);
        return;
    }
    if (m->term > r->term) {
        rs_raft__become_follower(r, m->term, RS_NODE_NONE);
    }
    bool grant = member && log_ok &&
                 (r->voted_for == RS_NODE_NONE || r->voted_for == m->from);
    if (grant && r->voted_for != m->from) {
        r->voted_for = m->from;
        rs_raft__persist_meta(r); /* the grant below is held until this is durable */
    }
    if (grant) {
        rs_raft__reset_election_timer(r);
    }
    respond(r, m->from, grant, false);
}

void rs_raft__recv_vote_response(struct rs_raft *r, const struct rs_vote_response *m)
{
    if (m->from == 0 || m->from > RS_NODE_ID_MAX) {
        return;
    }
    uint64_t bit = 1ull << m->from;
    if (m->term > r->term) {
        rs_raft__become_follower(r, m->term, RS_NODE_NONE);
        return;
    }
    if (m->pre_vote && r->role == RS_PRE_CANDIDATE) {
        if (m->granted) {
            r->votes_granted |= bit;
            if (has_quorum(r, r->votes_granted)) {
                become_candidate(r);
            }
        }
        return;
    }
    if (!m->pre_vote && r->role == RS_CANDIDATE && m->term == r->term) {
        if (m->granted) {
            r->votes_granted |= bit;
            if (has_quorum(r, r->votes_granted)) {
                rs_raft__become_leader(r);
            }
        } else {
            r->votes_refused |= bit;
        }
    }
}
