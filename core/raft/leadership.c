/* Hooks that tie leadership transfer, priority election, lease reads, follower reads and
 * hibernation into the replica's life cycle (init, free, messages, timers, flush), kept apart
 * from raft.c. */
#include "core/raft/internal.h"

#include "core/wire/frame.h"

#include <stdlib.h>

void rs_raft__leadership_check_config(const struct rs_raft_config *cfg)
{
    RS_ASSERT(cfg->max_drift_ppm < 1000000u);
    if (cfg->priority_election) {
        for (uint32_t id = 0; id <= RS_NODE_ID_MAX; id++) {
            RS_ASSERT(cfg->priorities[id] >= RS_PRIORITY_DISABLED);
        }
    }
}

void rs_raft__leadership_free(struct rs_raft *r)
{
    free(r->forwards);
    free(r->remote_reads);
    r->forwards = NULL;
    r->remote_reads = NULL;
}

/* Messages of these features; RS_ECORRUPT for a type the replica does not know. */
enum rs_err rs_raft__leadership_recv(struct rs_raft *r, rs_node_id from, unsigned type,
                                     struct rs_bytes body)
{
    enum rs_err err = RS_ECORRUPT;
    switch (type) {
    case RS_MSG_TIMEOUT_NOW: {
        struct rs_timeout_now m;
        if ((err = rs_msg_decode_timeout_now(body, &m)) == RS_OK && m.from == from) {
            rs_raft__recv_timeout_now(r, &m);
        }
        break;
    }
    case RS_MSG_READ_INDEX_REQUEST: {
        struct rs_read_index_request m;
        if ((err = rs_msg_decode_read_index_request(body, &m)) == RS_OK && m.from == from) {
            rs_raft__recv_read_index_request(r, &m);
        }
        break;
    }
    case RS_MSG_READ_INDEX_RESPONSE: {
        struct rs_read_index_response m;
        if ((err = rs_msg_decode_read_index_response(body, &m)) == RS_OK && m.from == from) {
            rs_raft__recv_read_index_response(r, &m);
        }
        break;
    }
    case RS_MSG_HIBERNATE: {
        struct rs_append_request m;
        if ((err = rs_msg_decode_hibernate(body, &m)) == RS_OK && m.from == from) {
            rs_raft__recv_hibernate(r, &m);
        }
        break;
    }
    case RS_MSG_WAKE_UP: {
        struct rs_wake_up m;
        if ((err = rs_msg_decode_wake_up(body, &m)) == RS_OK && m.from == from) {
            rs_raft__recv_wake_up(r, &m);
        }
        break;
    }
    default: break;
    }
    return err;
}

void rs_raft__leadership_tick(struct rs_raft *r)
{
    rs_raft__forward_expire(r);
    if (r->role == RS_LEADER) {
        rs_raft__transfer_tick(r);
    }
}

void rs_raft__leadership_flush(struct rs_raft *r)
{
    rs_raft__forward_flush(r);
    if (r->role == RS_LEADER) {
        rs_raft__transfer_flush(r);
    }
}

/* The earliest of: a transfer's timeout, the oldest forwarded read's timeout. */
uint64_t rs_raft__leadership_deadline(const struct rs_raft *r)
{
    uint64_t d = UINT64_MAX;
    if (rs_raft_transferring(r)) {
        d = r->transfer_deadline_ns;
    }
    if (r->forward_count > 0 && r->forwards[0].deadline_ns < d) {
        d = r->forwards[0].deadline_ns;
    }
    return d;
}
