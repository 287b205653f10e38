/* Encoding and checked decoding of KV commands, client requests and responses. */
#include "core/kv/kv_cmd.h"

#include "core/wire/frame.h"

/* The largest request and response must fit in one frame. */
_Static_assert(RS_KV_REQUEST_HEADER_SIZE + RS_KV_OP_SIZE_MAX <= RS_FRAME_BODY_MAX,
               "a request must fit in a frame");
_Static_assert(RS_KV_RESPONSE_HEADER_SIZE + RS_KV_RESULT_SIZE_MAX <= RS_FRAME_BODY_MAX,
               "a response must fit in a frame");

#define RESULT_FLAG_SUCCESS 0x1u
#define RESULT_FLAG_FOUND   0x2u
#define RESULT_FLAGS_KNOWN  (RESULT_FLAG_SUCCESS | RESULT_FLAG_FOUND)

static bool op_uses_value(unsigned opcode)
{
    return opcode == RS_KV_PUT || opcode == RS_KV_PUT_IF_ABSENT || opcode == RS_KV_GET_AND_PUT ||
           opcode == RS_KV_CAS;
}

/* Size of the op fields after the opcode byte. */
static size_t op_fields_size(const struct rs_kv_op *op)
{
    size_t size = 4 + op->key.size;
    if (op_uses_value(op->opcode)) {
        size += 4 + op->value.size;
    }
    if (op->opcode == RS_KV_CAS) {
        size += 4 + op->expected.size;
    }
    return size;
}

static void op_fields_write(struct rs_writer *w, const struct rs_kv_op *op)
{
    rs_w_blob(w, op->key.data, op->key.size);
    if (op->opcode == RS_KV_CAS) {
        rs_w_blob(w, op->expected.data, op->expected.size);
    }
    if (op_uses_value(op->opcode)) {
        rs_w_blob(w, op->value.data, op->value.size);
    }
}

/* Reads a u32-prefixed slice no longer than size_max; an empty slice has data NULL. */
static struct rs_bytes read_limited(struct rs_reader *r, size_t size_max)
{
    struct rs_bytes b = rs_r_blob(r);
    if (b.size > size_max) {
        r->error = true;
    }
    if (r->error || b.size == 0) {
        b.data = NULL;
        b.size = 0;
    }
    return b;
}

/* Reads the op fields of an opcode already read; sets r->error on anything malformed. */
static void op_fields_read(struct rs_reader *r, struct rs_kv_op *op)
{
    op->key = (struct rs_bytes){NULL, 0};
    op->value = (struct rs_bytes){NULL, 0};
    op->expected = (struct rs_bytes){NULL, 0};
    if (!rs_kv_opcode_is_known(op->opcode)) {
        r->error = true;
        return;
    }
    op->key = read_limited(r, RS_KV_KEY_SIZE_MAX);
    if (op->opcode == RS_KV_CAS) {
        op->expected = read_limited(r, RS_KV_VALUE_SIZE_MAX);
    }
    if (op_uses_value(op->opcode)) {
        op->value = read_limited(r, RS_KV_VALUE_SIZE_MAX);
    }
}

/* Common tail of every decoder: no error and nothing left over. */
static enum rs_err reader_finish(const struct rs_reader *r)
{
    if (r->error || r->pos != r->size) {
        return RS_ECORRUPT;
    }
    return RS_OK;
}

size_t rs_kv_result_size(const struct rs_kv_result *res)
{
    return 5 + (res->found ? res->value_size : 0);
}

void rs_kv_result_write(struct rs_writer *w, const struct rs_kv_result *res)
{
    RS_ASSERT(res->value_size <= RS_KV_VALUE_SIZE_MAX);
    RS_ASSERT(res->found || res->value_size == 0);
    uint8_t flags = (uint8_t)((res->success ? RESULT_FLAG_SUCCESS : 0) |
                              (res->found ? RESULT_FLAG_FOUND : 0));
    rs_w_u8(w, flags);
    rs_w_blob(w, res->value, res->value_size);
}

void rs_kv_result_read(struct rs_reader *r, struct rs_kv_result *res)
{
    uint8_t flags = rs_r_u8(r);
    struct rs_bytes value = read_limited(r, RS_KV_VALUE_SIZE_MAX);
    if ((flags & ~RESULT_FLAGS_KNOWN) != 0) {
        r->error = true;
    }
    res->success = (flags & RESULT_FLAG_SUCCESS) != 0;
    res->found = (flags & RESULT_FLAG_FOUND) != 0;
    /* Only a found key has a value; anything else is damage, not a result. */
    if (value.size > 0 && !res->found) {
        r->error = true;
    }
    res->value = r->error ? NULL : value.data;
    res->value_size = r->error ? 0 : value.size;
}

size_t rs_kv_cmd_size(const struct rs_kv_cmd *cmd)
{
    return RS_KV_CMD_HEADER_SIZE + op_fields_size(&cmd->op);
}

enum rs_err rs_kv_cmd_encode(const struct rs_kv_cmd *cmd, uint8_t *out, size_t out_cap,
                             size_t *size_out)
{
    enum rs_err err = rs_kv_op_validate(&cmd->op);
    if (err != RS_OK) {
        return err;
    }
    size_t size = rs_kv_cmd_size(cmd);
    if (out_cap < size) {
        return RS_ENOSPACE;
    }
    struct rs_writer w;
    rs_writer_init(&w, out, out_cap);
    rs_w_u8(&w, RS_KV_CMD_VERSION);
    rs_w_u8(&w, cmd->op.opcode);
    rs_w_u16(&w, 0);
    rs_w_u64(&w, cmd->client_id);
    rs_w_u64(&w, cmd->seq);
    op_fields_write(&w, &cmd->op);
    RS_ASSERT(!w.overflow);
    RS_ASSERT(w.pos == size);
    *size_out = size;
    return RS_OK;
}

enum rs_err rs_kv_cmd_decode(struct rs_bytes data, struct rs_kv_cmd *cmd)
{
    struct rs_reader r;
    rs_reader_init(&r, data.data, data.size);
    uint8_t version = rs_r_u8(&r);
    cmd->op.opcode = rs_r_u8(&r);
    uint16_t reserved = rs_r_u16(&r);
    cmd->client_id = rs_r_u64(&r);
    cmd->seq = rs_r_u64(&r);
    if (version != RS_KV_CMD_VERSION || reserved != 0) {
        r.error = true;
    }
    op_fields_read(&r, &cmd->op);
    return reader_finish(&r);
}

size_t rs_kv_request_size(const struct rs_kv_request *req)
{
    return RS_KV_REQUEST_HEADER_SIZE + op_fields_size(&req->op);
}

enum rs_err rs_kv_request_encode(const struct rs_kv_request *req, uint8_t *out, size_t out_cap,
                                 size_t *size_out)
{
    enum rs_err err = rs_kv_op_validate(&req->op);
    if (err != RS_OK) {
        return err;
    }
    size_t size = rs_kv_request_size(req);
    if (out_cap < size) {
        return RS_ENOSPACE;
    }
    struct rs_writer w;
    rs_writer_init(&w, out, out_cap);
    rs_w_u8(&w, RS_KV_CMD_VERSION);
    rs_w_u8(&w, req->op.opcode);
    rs_w_u16(&w, 0);
    rs_w_u64(&w, req->client_id);
    rs_w_u64(&w, req->seq);
    rs_w_u64(&w, req->request_id);
    op_fields_write(&w, &req->op);
    RS_ASSERT(!w.overflow);
    RS_ASSERT(w.pos == size);
    *size_out = size;
    return RS_OK;
}

enum rs_err rs_kv_request_decode(struct rs_bytes data, struct rs_kv_request *req)
{
    struct rs_reader r;
    rs_reader_init(&r, data.data, data.size);
    uint8_t version = rs_r_u8(&r);
    req->op.opcode = rs_r_u8(&r);
    uint16_t reserved = rs_r_u16(&r);
    req->client_id = rs_r_u64(&r);
    req->seq = rs_r_u64(&r);
    req->request_id = rs_r_u64(&r);
    if (version != RS_KV_CMD_VERSION || reserved != 0) {
        r.error = true;
    }
    op_fields_read(&r, &req->op);
    return reader_finish(&r);
}

size_t rs_kv_response_size(const struct rs_kv_response *resp)
{
    return RS_KV_RESPONSE_HEADER_SIZE + rs_kv_result_size(&resp->result);
}

enum rs_err rs_kv_response_encode(const struct rs_kv_response *resp, uint8_t *out,
                                  size_t out_cap, size_t *size_out)
{
    RS_ASSERT((unsigned)resp->status < RS_E_COUNT);
    if (resp->result.value_size > RS_KV_VALUE_SIZE_MAX) {
        return RS_ETOOBIG;
    }
    if (resp->result.value_size > 0 && !resp->result.found) {
        return RS_EINVAL;
    }
    size_t size = rs_kv_response_size(resp);
    if (out_cap < size) {
        return RS_ENOSPACE;
    }
    struct rs_writer w;
    rs_writer_init(&w, out, out_cap);
    rs_w_u8(&w, RS_KV_CMD_VERSION);
    rs_w_u8(&w, (uint8_t)resp->status);
    rs_w_u16(&w, 0);
    rs_w_u32(&w, resp->leader_hint);
    rs_w_u64(&w, resp->request_id);
    rs_w_u64(&w, resp->client_id);
    rs_w_u64(&w, resp->seq);
    rs_kv_result_write(&w, &resp->result);
    RS_ASSERT(!w.overflow);
    RS_ASSERT(w.pos == size);
    *size_out = size;
    return RS_OK;
}

enum rs_err rs_kv_response_decode(struct rs_bytes data, struct rs_kv_response *resp)
{
    struct rs_reader r;
    rs_reader_init(&r, data.data, data.size);
    uint8_t version = rs_r_u8(&r);
    uint8_t status = rs_r_u8(&r);
    uint16_t reserved = rs_r_u16(&r);
    resp->leader_hint = rs_r_u32(&r);
    resp->request_id = rs_r_u64(&r);
    resp->client_id = rs_r_u64(&r);
    resp->seq = rs_r_u64(&r);
    if (version != RS_KV_CMD_VERSION || reserved != 0 || status >= RS_E_COUNT) {
        r.error = true;
    }
    resp->status = r.error ? RS_ECORRUPT : (enum rs_err)status;
    rs_kv_result_read(&r, &resp->result);
    return reader_finish(&r);
}

size_t rs_kv_request_frame_size(const struct rs_kv_request *req)
{
    return RS_FRAME_HEADER_SIZE + rs_kv_request_size(req);
}

enum rs_err rs_kv_request_frame_encode(const struct rs_kv_request *req, uint8_t *out,
                                       size_t out_cap, size_t *size_out)
{
    if (out_cap < RS_FRAME_HEADER_SIZE) {
        return RS_ENOSPACE;
    }
    size_t body_size = 0;
    enum rs_err err = rs_kv_request_encode(req, out + RS_FRAME_HEADER_SIZE,
                                           out_cap - RS_FRAME_HEADER_SIZE, &body_size);
    if (err != RS_OK) {
        return err;
    }
    rs_frame_seal(out, RS_MSG_KV_REQUEST, body_size);
    *size_out = RS_FRAME_HEADER_SIZE + body_size;
    return RS_OK;
}

enum rs_err rs_kv_request_frame_decode(struct rs_bytes frame, struct rs_kv_request *req)
{
    unsigned type = RS_MSG_NONE;
    struct rs_bytes body;
    if (rs_frame_decode(frame.data, frame.size, &type, &body) != RS_OK ||
        type != RS_MSG_KV_REQUEST) {
        return RS_ECORRUPT;
    }
    return rs_kv_request_decode(body, req);
}

size_t rs_kv_response_frame_size(const struct rs_kv_response *resp)
{
    return RS_FRAME_HEADER_SIZE + rs_kv_response_size(resp);
}

enum rs_err rs_kv_response_frame_encode(const struct rs_kv_response *resp, uint8_t *out,
                                        size_t out_cap, size_t *size_out)
{
    if (out_cap < RS_FRAME_HEADER_SIZE) {
        return RS_ENOSPACE;
    }
    size_t body_size = 0;
    enum rs_err err = rs_kv_response_encode(resp, out + RS_FRAME_HEADER_SIZE,
                                            out_cap - RS_FRAME_HEADER_SIZE, &body_size);
    if (err != RS_OK) {
        return err;
    }
    rs_frame_seal(out, RS_MSG_KV_RESPONSE, body_size);
    *size_out = RS_FRAME_HEADER_SIZE + body_size;
    return RS_OK;
}

enum rs_err rs_kv_response_frame_decode(struct rs_bytes frame, struct rs_kv_response *resp)
{
    unsigned type = RS_MSG_NONE;
    struct rs_bytes body;
    if (rs_frame_decode(frame.data, frame.size, &type, &body) != RS_OK ||
        type != RS_MSG_KV_RESPONSE) {
        return RS_ECORRUPT;
    }
    return rs_kv_response_decode(body, resp);
}
