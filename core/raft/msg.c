/* Raft message codecs. */
#include "core/raft/msg.h"

#include "core/wire/codec.h"
#include "core/wire/frame.h"

#define VOTE_REQUEST_SIZE  (4 + 8 + 8 + 8 + 1)
#define VOTE_RESPONSE_SIZE (4 + 8 + 1 + 1)
#define APPEND_HEADER_SIZE (4 + 8 + 8 + 8 + 8 + 8 + 8 + 4)
#define APPEND_RESPONSE_SIZE (4 + 8 + 1 + 8 + 8 + 8)
#define ENTRY_HEADER_SIZE (8 + 1 + 4)

/* Reserves a frame with a body of body_size bytes; returns a writer over the body. */
static size_t frame_begin(struct rs_out *out, size_t body_size, struct rs_writer *w)
{
    size_t at = rs_out_reserve(out, RS_FRAME_HEADER_SIZE + body_size);
    rs_writer_init(w, rs_out_at(out, at + RS_FRAME_HEADER_SIZE), body_size);
    return at;
}

static void frame_finish(struct rs_out *out, size_t at, struct rs_writer *w, rs_node_id to,
                         unsigned type)
{
    RS_ASSERT(!w->overflow);
    RS_ASSERT(w->pos == w->cap);
    rs_frame_seal(rs_out_at(out, at), type, w->pos);
    rs_out_msg(out, to, type, at, RS_FRAME_HEADER_SIZE + w->pos);
}

void rs_msg_send_vote_request(struct rs_out *out, rs_node_id to, const struct rs_vote_request *m)
{
    struct rs_writer w;
    size_t at = frame_begin(out, VOTE_REQUEST_SIZE, &w);
    rs_w_u32(&w, m->from);
    rs_w_u64(&w, m->term);
    rs_w_u64(&w, m->last_log_index);
    rs_w_u64(&w, m->last_log_term);
    rs_w_u8(&w, m->pre_vote ? 1 : 0);
    frame_finish(out, at, &w, to, RS_MSG_VOTE_REQUEST);
}

void rs_msg_send_vote_response(struct rs_out *out, rs_node_id to,
                               const struct rs_vote_response *m)
{
    struct rs_writer w;
    size_t at = frame_begin(out, VOTE_RESPONSE_SIZE, &w);
    rs_w_u32(&w, m->from);
    rs_w_u64(&w, m->term);
    rs_w_u8(&w, m->granted ? 1 : 0);
    rs_w_u8(&w, m->pre_vote ? 1 : 0);
    frame_finish(out, at, &w, to, RS_MSG_VOTE_RESPONSE);
}

void rs_msg_send_append_response(struct rs_out *out, rs_node_id to,
                                 const struct rs_append_response *m)
{
    struct rs_writer w;
    size_t at = frame_begin(out, APPEND_RESPONSE_SIZE, &w);
    rs_w_u32(&w, m->from);
    rs_w_u64(&w, m->term);
    rs_w_u8(&w, m->success ? 1 : 0);
    rs_w_u64(&w, m->match_index);
    rs_w_u64(&w, m->seq);
    rs_w_u64(&w, m->read_seq);
    frame_finish(out, at, &w, to, RS_MSG_APPEND_RESPONSE);
}

void rs_msg_append_begin(struct rs_out *out, struct rs_append_builder *b,
                         const struct rs_append_request *m)
{
    b->frame_offset = rs_out_reserve(out, RS_FRAME_HEADER_SIZE + APPEND_HEADER_SIZE);
    b->body_start = b->frame_offset + RS_FRAME_HEADER_SIZE;
    b->entry_count = 0;
    struct rs_writer w;
    rs_writer_init(&w, rs_out_at(out, b->body_start), APPEND_HEADER_SIZE);
    rs_w_u32(&w, m->from);
    rs_w_u64(&w, m->term);
    rs_w_u64(&w, m->prev_index);
    rs_w_u64(&w, m->prev_term);
    rs_w_u64(&w, m->commit_index);
    rs_w_u64(&w, m->seq);
    rs_w_u64(&w, m->read_seq);
    rs_w_u32(&w, 0); /* entry count, patched by finish */
    RS_ASSERT(w.pos == APPEND_HEADER_SIZE);
}

void rs_msg_append_add_entry(struct rs_out *out, struct rs_append_builder *b, rs_term term,
                             uint8_t type, const uint8_t *data, uint32_t size)
{
    size_t at = rs_out_reserve(out, ENTRY_HEADER_SIZE + size);
    uint8_t *p = rs_out_at(out, at);
    rs_put_u64(p, term);
    p[8] = type;
    rs_put_u32(p + 9, size);
    if (size > 0) {
        memcpy(p + ENTRY_HEADER_SIZE, data, size);
    }
    b->entry_count++;
}

static void append_seal(struct rs_out *out, struct rs_append_builder *b, rs_node_id to,
                        unsigned type)
{
    RS_ASSERT(b->entry_count <= RS_APPEND_ENTRIES_MAX);
    RS_ASSERT(out->bytes_size >= b->body_start + APPEND_HEADER_SIZE);
    rs_put_u32(rs_out_at(out, b->body_start + APPEND_HEADER_SIZE - 4), b->entry_count);
    size_t body_size = out->bytes_size - b->body_start;
    rs_frame_seal(rs_out_at(out, b->frame_offset), type, body_size);
    rs_out_msg(out, to, type, b->frame_offset, RS_FRAME_HEADER_SIZE + body_size);
}

void rs_msg_append_finish(struct rs_out *out, struct rs_append_builder *b, rs_node_id to)
{
    append_seal(out, b, to, RS_MSG_APPEND_REQUEST);
}

void rs_msg_send_hibernate(struct rs_out *out, rs_node_id to, const struct rs_append_request *m)
{
    RS_ASSERT(m->entry_count == 0);
    struct rs_append_builder b;
    rs_msg_append_begin(out, &b, m);
    append_seal(out, &b, to, RS_MSG_HIBERNATE);
}

enum rs_err rs_msg_decode_hibernate(struct rs_bytes body, struct rs_append_request *m)
{
    enum rs_err err = rs_msg_decode_append_request(body, m);
    return err == RS_OK && m->entry_count != 0 ? RS_ECORRUPT : err;
}

enum rs_err rs_msg_decode_vote_request(struct rs_bytes body, struct rs_vote_request *m)
{
    struct rs_reader r;
    rs_reader_init(&r, body.data, body.size);
    m->from = rs_r_u32(&r);
    m->term = rs_r_u64(&r);
    m->last_log_index = rs_r_u64(&r);
    m->last_log_term = rs_r_u64(&r);
    uint8_t pre = rs_r_u8(&r);
    m->pre_vote = pre != 0;
    return r.error || r.pos != r.size || pre > 1 ? RS_ECORRUPT : RS_OK;
}

enum rs_err rs_msg_decode_vote_response(struct rs_bytes body, struct rs_vote_response *m)
{
    struct rs_reader r;
    rs_reader_init(&r, body.data, body.size);
    m->from = rs_r_u32(&r);
    m->term = rs_r_u64(&r);
    uint8_t granted = rs_r_u8(&r);
    uint8_t pre = rs_r_u8(&r);
    m->granted = granted != 0;
    m->pre_vote = pre != 0;
    return r.error || r.pos != r.size || granted > 1 || pre > 1 ? RS_ECORRUPT : RS_OK;
}

enum rs_err rs_msg_decode_append_request(struct rs_bytes body, struct rs_append_request *m)
{
    struct rs_reader r;
    rs_reader_init(&r, body.data, body.size);
    m->from = rs_r_u32(&r);
    m->term = rs_r_u64(&r);
    m->prev_index = rs_r_u64(&r);
    m->prev_term = rs_r_u64(&r);
    m->commit_index = rs_r_u64(&r);
    m->seq = rs_r_u64(&r);
    m->read_seq = rs_r_u64(&r);
    m->entry_count = rs_r_u32(&r);
    if (r.error || m->entry_count > RS_APPEND_ENTRIES_MAX) {
        return RS_ECORRUPT;
    }
    m->entry_bytes.data = body.data + r.pos;
    m->entry_bytes.size = body.size - r.pos;
    /* validate the entry framing once, so iteration cannot fail later */
    size_t pos = 0;
    struct rs_wire_entry e;
    for (uint32_t i = 0; i < m->entry_count; i++) {
        if (rs_append_next_entry(m, &pos, &e) != RS_OK) {
            return RS_ECORRUPT;
        }
    }
    return pos == m->entry_bytes.size ? RS_OK : RS_ECORRUPT;
}

enum rs_err rs_append_next_entry(const struct rs_append_request *m, size_t *pos,
                                 struct rs_wire_entry *e)
{
    size_t left = m->entry_bytes.size - *pos;
    if (left < ENTRY_HEADER_SIZE) {
        return RS_ECORRUPT;
    }
    const uint8_t *p = m->entry_bytes.data + *pos;
    uint32_t size = rs_get_u32(p + 9);
    if (size > left - ENTRY_HEADER_SIZE) {
        return RS_ECORRUPT;
    }
    e->term = rs_get_u64(p);
    e->type = p[8];
    e->data.data = p + ENTRY_HEADER_SIZE;
    e->data.size = size;
    *pos += ENTRY_HEADER_SIZE + size;
    return RS_OK;
}

enum rs_err rs_msg_decode_append_response(struct rs_bytes body, struct rs_append_response *m)
{
    struct rs_reader r;
    rs_reader_init(&r, body.data, body.size);
    m->from = rs_r_u32(&r);
    m->term = rs_r_u64(&r);
    uint8_t ok = rs_r_u8(&r);
    m->success = ok != 0;
    m->match_index = rs_r_u64(&r);
    m->seq = rs_r_u64(&r);
    m->read_seq = rs_r_u64(&r);
    return r.error || r.pos != r.size || ok > 1 ? RS_ECORRUPT : RS_OK;
}

#define SNAPSHOT_REQUEST_HEADER (4 + 8 + 8 + 8 + 8 + 8 + 4)
#define SNAPSHOT_RESPONSE_SIZE (4 + 8 + 8 + 1 + 1 + 8)

void rs_msg_send_snapshot_request(struct rs_out *out, rs_node_id to,
                                  const struct rs_snapshot_request *m)
{
    struct rs_writer w;
    size_t at = frame_begin(out, SNAPSHOT_REQUEST_HEADER + m->chunk.size, &w);
    rs_w_u32(&w, m->from);
    rs_w_u64(&w, m->term);
    rs_w_u64(&w, m->last_index);
    rs_w_u64(&w, m->last_term);
    rs_w_u64(&w, m->total_size);
    rs_w_u64(&w, m->offset);
    rs_w_blob(&w, m->chunk.data, m->chunk.size);
    frame_finish(out, at, &w, to, RS_MSG_SNAPSHOT_REQUEST);
}

void rs_msg_send_snapshot_response(struct rs_out *out, rs_node_id to,
                                   const struct rs_snapshot_response *m)
{
    struct rs_writer w;
    size_t at = frame_begin(out, SNAPSHOT_RESPONSE_SIZE, &w);
    rs_w_u32(&w, m->from);
    rs_w_u64(&w, m->term);
    rs_w_u64(&w, m->last_index);
    rs_w_u8(&w, m->success ? 1 : 0);
    rs_w_u8(&w, m->done ? 1 : 0);
    rs_w_u64(&w, m->next_offset);
    frame_finish(out, at, &w, to, RS_MSG_SNAPSHOT_RESPONSE);
}

enum rs_err rs_msg_decode_snapshot_request(struct rs_bytes body, struct rs_snapshot_request *m)
{
    struct rs_reader r;
    rs_reader_init(&r, body.data, body.size);
    m->from = rs_r_u32(&r);
    m->term = rs_r_u64(&r);
    m->last_index = rs_r_u64(&r);
    m->last_term = rs_r_u64(&r);
    m->total_size = rs_r_u64(&r);
    m->offset = rs_r_u64(&r);
    m->chunk = rs_r_blob(&r);
    if (r.error || r.pos != r.size || m->offset > m->total_size ||
        m->chunk.size > m->total_size - m->offset) {
        return RS_ECORRUPT;
    }
    return RS_OK;
}

enum rs_err rs_msg_decode_snapshot_response(struct rs_bytes body,
                                            struct rs_snapshot_response *m)
{
    struct rs_reader r;
    rs_reader_init(&r, body.data, body.size);
    m->from = rs_r_u32(&r);
    m->term = rs_r_u64(&r);
    m->last_index = rs_r_u64(&r);
    uint8_t success = rs_r_u8(&r);
    uint8_t done = rs_r_u8(&r);
    m->success = success != 0;
    m->done = done != 0;
    m->next_offset = rs_r_u64(&r);
    return r.error || r.pos != r.size || success > 1 || done > 1 ? RS_ECORRUPT : RS_OK;
}

#define TIMEOUT_NOW_SIZE         (4 + 8)
#define READ_INDEX_REQUEST_SIZE  (4 + 8 + 8)
#define READ_INDEX_RESPONSE_SIZE (4 + 8 + 8 + 8 + 4)

void rs_msg_send_timeout_now(struct rs_out *out, rs_node_id to, const struct rs_timeout_now *m)
{
    struct rs_writer w;
    size_t at = frame_begin(out, TIMEOUT_NOW_SIZE, &w);
    rs_w_u32(&w, m->from);
    rs_w_u64(&w, m->term);
    frame_finish(out, at, &w, to, RS_MSG_TIMEOUT_NOW);
}

void rs_msg_send_read_index_request(struct rs_out *out, rs_node_id to,
                                    const struct rs_read_index_request *m)
{
    struct rs_writer w;
    size_t at = frame_begin(out, READ_INDEX_REQUEST_SIZE, &w);
    rs_w_u32(&w, m->from);
    rs_w_u64(&w, m->term);
    rs_w_u64(&w, m->request_id);
    frame_finish(out, at, &w, to, RS_MSG_READ_INDEX_REQUEST);
}

void rs_msg_send_read_index_response(struct rs_out *out, rs_node_id to,
                                     const struct rs_read_index_response *m)
{
    RS_ASSERT((unsigned)m->err < RS_E_COUNT);
    struct rs_writer w;
    size_t at = frame_begin(out, READ_INDEX_RESPONSE_SIZE, &w);
    rs_w_u32(&w, m->from);
    rs_w_u64(&w, m->term);
    rs_w_u64(&w, m->request_id);
    rs_w_u64(&w, m->read_index);
    rs_w_u32(&w, (uint32_t)m->err);
    frame_finish(out, at, &w, to, RS_MSG_READ_INDEX_RESPONSE);
}

enum rs_err rs_msg_decode_timeout_now(struct rs_bytes body, struct rs_timeout_now *m)
{
    struct rs_reader r;
    rs_reader_init(&r, body.data, body.size);
    m->from = rs_r_u32(&r);
    m->term = rs_r_u64(&r);
    return r.error || r.pos != r.size ? RS_ECORRUPT : RS_OK;
}

enum rs_err rs_msg_decode_read_index_request(struct rs_bytes body,
                                             struct rs_read_index_request *m)
{
    struct rs_reader r;
    rs_reader_init(&r, body.data, body.size);
    m->from = rs_r_u32(&r);
    m->term = rs_r_u64(&r);
    m->request_id = rs_r_u64(&r);
    return r.error || r.pos != r.size ? RS_ECORRUPT : RS_OK;
}

enum rs_err rs_msg_decode_read_index_response(struct rs_bytes body,
                                              struct rs_read_index_response *m)
{
    struct rs_reader r;
    rs_reader_init(&r, body.data, body.size);
    m->from = rs_r_u32(&r);
    m->term = rs_r_u64(&r);
    m->request_id = rs_r_u64(&r);
    m->read_index = rs_r_u64(&r);
    uint32_t err = rs_r_u32(&r);
    m->err = err < RS_E_COUNT ? (enum rs_err)err : RS_ECORRUPT;
    return r.error || r.pos != r.size || err >= RS_E_COUNT ? RS_ECORRUPT : RS_OK;
}

#define WAKE_UP_SIZE (4 + 8)

void rs_msg_send_wake_up(struct rs_out *out, rs_node_id to, const struct rs_wake_up *m)
{
    struct rs_writer w;
    size_t at = frame_begin(out, WAKE_UP_SIZE, &w);
    rs_w_u32(&w, m->from);
    rs_w_u64(&w, m->term);
    frame_finish(out, at, &w, to, RS_MSG_WAKE_UP);
}

enum rs_err rs_msg_decode_wake_up(struct rs_bytes body, struct rs_wake_up *m)
{
    struct rs_reader r;
    rs_reader_init(&r, body.data, body.size);
    m->from = rs_r_u32(&r);
    m->term = rs_r_u64(&r);
    return r.error || r.pos != r.size ? RS_ECORRUPT : RS_OK;
}
