/* The KV client state machine: sends, redirects, backs off and times out one operation. */
#include "core/client/client.h"

#include "core/kv/kv_cmd.h"
#include "core/wire/codec.h"
#include "core/wire/frame.h"

#include <stdlib.h>
#include <string.h>

/* splitmix64: small, fast and good enough for jitter and the first node. */
static uint64_t prng_next(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15ull;
    uint64_t z = *state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static rs_node_id next_node(const struct rs_client *c, rs_node_id node)
{
    RS_ASSERT(node >= 1 && node <= c->cfg.node_count);
    return node % c->cfg.node_count + 1;
}

static bool node_valid(const struct rs_client *c, rs_node_id node)
{
    return node >= 1 && node <= c->cfg.node_count;
}

static uint64_t backoff_base_ns(const struct rs_client *c)
{
    if (c->cfg.backoff_ns > 0) {
        return c->cfg.backoff_ns;
    }
    uint64_t base = c->cfg.request_timeout_ns / 10;
    return base > 0 ? base : 1;
}

void rs_client_init(struct rs_client *c, const struct rs_client_config *cfg)
{
    RS_ASSERT(cfg->client_id != 0);
    RS_ASSERT(cfg->node_count >= 1);
    RS_ASSERT(cfg->request_timeout_ns > 0);
    RS_ASSERT(cfg->op_timeout_ns > 0);
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    c->prng_state = cfg->random_seed;
    c->leader = (rs_node_id)(1 + prng_next(&c->prng_state) % cfg->node_count);
}

void rs_client_free(struct rs_client *c)
{
    free(c->frame);
    free(c->result_value);
    c->frame = NULL;
    c->result_value = NULL;
    c->frame_cap = 0;
    c->result_cap = 0;
    c->active = false;
}

bool rs_client_busy(const struct rs_client *c)
{
    return c->active;
}

uint64_t rs_client_seq(const struct rs_client *c)
{
    return c->seq;
}

uint32_t rs_client_attempt_count(const struct rs_client *c)
{
    return c->attempt_count;
}

static void out_clear(struct rs_client_out *out)
{
    memset(out, 0, sizeof *out);
}

/* The one timer the host keeps armed: the earliest of the op, attempt and backoff times. */
static void out_finish(const struct rs_client *c, struct rs_client_out *out)
{
    out->deadline_ns = 0;
    if (!c->active) {
        return;
    }
    uint64_t next_ns = c->retry_at_ns != 0 ? c->retry_at_ns : c->attempt_deadline_ns;
    out->deadline_ns = next_ns < c->op_deadline_ns ? next_ns : c->op_deadline_ns;
    RS_ASSERT(out->deadline_ns != 0);
}

/* Sends the operation to the believed leader as a new attempt with a fresh request_id. */
static void send_attempt(struct rs_client *c, uint64_t now_ns, struct rs_client_out *out)
{
    RS_ASSERT(c->active);
    RS_ASSERT(out->send_count < RS_CLIENT_SENDS_MAX);
    c->request_id = ++c->last_request_id;
    rs_put_u64(c->frame + RS_FRAME_HEADER_SIZE + RS_KV_REQUEST_ID_OFFSET, c->request_id);
    rs_frame_seal(c->frame, RS_MSG_KV_REQUEST, c->frame_size - RS_FRAME_HEADER_SIZE);
    out->sends[out->send_count++] =
        (struct rs_client_send){c->leader, c->frame, c->frame_size};
    c->attempt_deadline_ns = now_ns + c->cfg.request_timeout_ns;
    c->retry_at_ns = 0;
    c->attempt_count++;
}

/* Pauses before the next attempt, with jitter so that clients do not retry in step. */
static void back_off(struct rs_client *c, uint64_t now_ns)
{
    uint64_t base_ns = backoff_base_ns(c);
    c->request_id = 0;
    c->redirect_count = 0;
    c->retry_at_ns = now_ns + base_ns + prng_next(&c->prng_state) % base_ns;
}

/*
 * Tries another node at once, unless a whole round of redirects went by without an answer
 * (no leader yet, or hints pointing in a circle): then pause, so as not to spin.
 */
static void redirect(struct rs_client *c, uint64_t now_ns, rs_node_id to,
                     struct rs_client_out *out)
{
    RS_ASSERT(node_valid(c, to));
    c->leader = to;
    c->request_id = 0;
    c->redirect_count++;
    if (c->redirect_count >= c->cfg.node_count) {
        back_off(c, now_ns);
        return;
    }
    send_attempt(c, now_ns, out);
}

static void complete(struct rs_client *c, enum rs_client_outcome outcome, enum rs_err status,
                     struct rs_client_out *out)
{
    RS_ASSERT(c->active);
    c->active = false;
    c->request_id = 0;
    c->retry_at_ns = 0;
    out->done = true;
    out->outcome = outcome;
    out->status = status;
}

/* Copies the answer (value and entries) into the client's buffer; false when out of memory. */
static bool keep_result(struct rs_client *c, const struct rs_kv_result *res,
                        struct rs_client_out *out)
{
    size_t need = res->value_size + res->entries_size;
    if (need > c->result_cap) {
        uint8_t *grown = realloc(c->result_value, need);
        if (grown == NULL) {
            return false;
        }
        c->result_value = grown;
        c->result_cap = need;
    }
    out->result = *res;
    out->result.value = NULL;
    out->result.entries = NULL;
    if (res->value_size > 0) {
        memcpy(c->result_value, res->value, res->value_size);
        out->result.value = c->result_value;
    }
    if (res->entries_size > 0) {
        memcpy(c->result_value + res->value_size, res->entries, res->entries_size);
        out->result.entries = c->result_value + res->value_size;
    }
    return true;
}

enum rs_err rs_client_submit(struct rs_client *c, uint64_t now_ns, const struct rs_kv_op *op,
                             struct rs_client_out *out)
{
    out_clear(out);
    if (c->active) {
        out_finish(c, out);
        return RS_EBUSY;
    }
    struct rs_kv_request req = {c->cfg.client_id, c->last_seq + 1, 0, *op};
    enum rs_err err = rs_kv_op_validate(op);
    if (err != RS_OK) {
        return err;
    }
    size_t frame_size = rs_kv_request_frame_size(&req);
    if (frame_size > c->frame_cap) {
        uint8_t *grown = realloc(c->frame, frame_size);
        if (grown == NULL) {
            return RS_ENOMEM;
        }
        c->frame = grown;
        c->frame_cap = frame_size;
    }
    err = rs_kv_request_frame_encode(&req, c->frame, c->frame_cap, &c->frame_size);
    RS_ASSERT(err == RS_OK);
    RS_ASSERT(c->frame_size == frame_size);
    c->last_seq = req.seq;
    c->seq = req.seq;
    c->active = true;
    c->is_write = rs_kv_opcode_is_write(op->opcode);
    c->op_deadline_ns = now_ns + c->cfg.op_timeout_ns;
    c->redirect_count = 0;
    c->attempt_count = 0;
    send_attempt(c, now_ns, out);
    out_finish(c, out);
    return RS_OK;
}

/* Acts on an answer to the current attempt. */
static void handle_response(struct rs_client *c, uint64_t now_ns, rs_node_id from,
                            const struct rs_kv_response *resp, struct rs_client_out *out)
{
    switch (resp->status) {
    case RS_EOK:
        if (!keep_result(c, &resp->result, out)) {
            return; /* as if the answer was lost: the retry will be deduplicated */
        }
        if (node_valid(c, from)) {
            c->leader = from;
        }
        complete(c, RS_CLIENT_OK, RS_OK, out);
        return;
    case RS_ENOTLEADER: {
        bool hinted = node_valid(c, resp->leader_hint) && resp->leader_hint != c->leader;
        redirect(c, now_ns, hinted ? resp->leader_hint : next_node(c, c->leader), out);
        return;
    }
    case RS_ESHUTDOWN: redirect(c, now_ns, next_node(c, c->leader), out); return;
    case RS_EINVAL:
    case RS_ETOOBIG:
        /* Refused before it reached the log: definitely no effect. */
        complete(c, RS_CLIENT_FAIL, resp->status, out);
        return;
    case RS_EEPOCH:
    case RS_EKEYRANGE:
        /* the host's routing table was behind; it refreshed it from the answer */
        back_off(c, now_ns);
        return;
    case RS_ENOREGION:
        /* that node holds no replica of the region (or an empty one): try the next */
        c->leader = next_node(c, c->leader);
        back_off(c, now_ns);
        return;
    case RS_EBUSY:
    case RS_EAGAIN:
    case RS_ESTALE:
    case RS_ETERMCHANGED:
    case RS_ETIMEDOUT:
        /* The node is (or was) the leader but cannot serve now; ask it again shortly. */
        back_off(c, now_ns);
        return;
    default:
        /* Trouble local to that node (disk, memory): try another one after a pause. */
        c->leader = next_node(c, c->leader);
        back_off(c, now_ns);
        return;
    }
}

void rs_client_recv(struct rs_client *c, uint64_t now_ns, rs_node_id from, const uint8_t *frame,
                    size_t size, struct rs_client_out *out)
{
    out_clear(out);
    struct rs_kv_response resp;
    if (c->active && c->request_id != 0 &&
        rs_kv_response_frame_decode((struct rs_bytes){frame, size}, &resp) == RS_OK &&
        resp.request_id == c->request_id && resp.client_id == c->cfg.client_id &&
        resp.seq == c->seq) {
        handle_response(c, now_ns, from, &resp, out);
    }
    out_finish(c, out);
}

void rs_client_tick(struct rs_client *c, uint64_t now_ns, struct rs_client_out *out)
{
    out_clear(out);
    if (!c->active) {
        return;
    }
    if (now_ns >= c->op_deadline_ns) {
        /* A read changes nothing; a write may have been applied by an unanswered attempt. */
        complete(c, c->is_write ? RS_CLIENT_INFO : RS_CLIENT_FAIL, RS_ETIMEDOUT, out);
    } else if (c->retry_at_ns != 0 && now_ns >= c->retry_at_ns) {
        send_attempt(c, now_ns, out);
    } else if (c->request_id != 0 && now_ns >= c->attempt_deadline_ns) {
        /* No answer: the node may be down or cut off. Same seq, next node, new request_id. */
        c->leader = next_node(c, c->leader);
        send_attempt(c, now_ns, out);
    }
    out_finish(c, out);
}

rs_node_id rs_client_leader(const struct rs_client *c)
{
    return c->leader;
}

void rs_client_set_leader(struct rs_client *c, rs_node_id leader)
{
    if (node_valid(c, leader)) {
        c->leader = leader;
    }
}
