/* Encoding and checked decoding of KV commands, client requests and responses. */
#include "core/kv/kv_cmd.h"

#include "core/raft/log.h"
#include "core/wire/frame.h"

#include <string.h>

/* The largest request and response must fit in one frame. */
_Static_assert(RS_KV_REQUEST_HEADER_SIZE + RS_KV_OP_SIZE_MAX <= RS_FRAME_BODY_MAX,
               "a request must fit in a frame");
_Static_assert(RS_KV_RESPONSE_HEADER_SIZE + RS_KV_RESULT_SIZE_MAX <= RS_FRAME_BODY_MAX,
               "a response must fit in a frame");

_Static_assert(RS_KV_OP_SIZE_MAX + RS_KV_CMD_HEADER_SIZE <= RS_ENTRY_SIZE_MAX,
               "a command must fit in a log entry");
_Static_assert(4u + 4u + RS_KV_KEY_SIZE_MAX + 2u * (4u + RS_KV_VALUE_SIZE_MAX) <=
                   RS_KV_BATCH_BYTES_MAX,
               "a list must hold at least one entry of the largest size");
_Static_assert(RS_KV_ENTRY_OVERHEAD + RS_KV_KEY_SIZE_MAX + RS_KV_VALUE_SIZE_MAX <=
                   RS_KV_RESULT_BYTES_MAX,
               "one entry of the largest size always fits in a result");

#define RESULT_FLAG_SUCCESS   0x01u
#define RESULT_FLAG_FOUND     0x02u
#define RESULT_FLAG_TRUNCATED 0x04u
#define RESULT_FLAG_NUMBERS   0x08u
#define RESULT_FLAG_ENTRIES   0x10u
#define RESULT_FLAGS_KNOWN    0x1fu
#define RESULT_NUMBERS_SIZE   48u

/* The fields an opcode's encoding carries, in the order they are written. */
enum {
    FIELD_KEY = 1u << 0,
    FIELD_EXPECTED = 1u << 1,
    FIELD_VALUE = 1u << 2,
    FIELD_LIST = 1u << 3,
    FIELD_END = 1u << 4,
    FIELD_SCAN = 1u << 5, /* u32 limit, u8 keys_only */
    FIELD_STEP = 1u << 6,
    FIELD_ACQUIRER = 1u << 7,
    FIELD_LEASE = 1u << 8, /* u64 lease_ms, u64 timestamp_ms, fencing_key */
};

static unsigned op_fields(unsigned opcode)
{
    switch (opcode) {
    case RS_KV_GET:
    case RS_KV_DELETE:
    case RS_KV_CONTAINS_KEY:
    case RS_KV_RESET_SEQUENCE: return FIELD_KEY;
    case RS_KV_PUT:
    case RS_KV_PUT_IF_ABSENT:
    case RS_KV_GET_AND_PUT:
    case RS_KV_MERGE: return FIELD_KEY | FIELD_VALUE;
    case RS_KV_CAS: return FIELD_KEY | FIELD_EXPECTED | FIELD_VALUE;
    case RS_KV_MULTI_GET:
    case RS_KV_BATCH_PUT:
    case RS_KV_BATCH_DELETE:
    case RS_KV_CAS_ALL: return FIELD_LIST;
    case RS_KV_SCAN:
    case RS_KV_REVERSE_SCAN: return FIELD_KEY | FIELD_END | FIELD_SCAN;
    case RS_KV_DELETE_RANGE: return FIELD_KEY | FIELD_END;
    case RS_KV_GET_SEQUENCE: return FIELD_KEY | FIELD_STEP;
    case RS_KV_LOCK: return FIELD_KEY | FIELD_ACQUIRER | FIELD_LEASE;
    case RS_KV_UNLOCK: return FIELD_KEY | FIELD_ACQUIRER;
    default: return 0;
    }
}


/* The fields each entry of an opcode's list carries. */
static unsigned list_fields(unsigned opcode)
{
    switch (opcode) {
    case RS_KV_MULTI_GET:
    case RS_KV_BATCH_DELETE: return FIELD_KEY;
    case RS_KV_BATCH_PUT: return FIELD_KEY | FIELD_VALUE;
    case RS_KV_CAS_ALL: return FIELD_KEY | FIELD_EXPECTED | FIELD_VALUE;
    default: return 0;
    }
}

static bool slice_ok(struct rs_bytes b)
{
    return b.size == 0 || b.data != NULL;
}

/* Fields the opcode does not use must be empty, so that one operation has one encoding. */
static bool unused_fields_empty(const struct rs_kv_op *op, unsigned f)
{
    return ((f & FIELD_KEY) || op->key.size == 0) &&
           ((f & FIELD_EXPECTED) || op->expected.size == 0) &&
           ((f & FIELD_VALUE) || op->value.size == 0) && ((f & FIELD_LIST) || op->list.size == 0) &&
           ((f & FIELD_END) || op->end_key.size == 0) &&
           ((f & FIELD_SCAN) || (op->limit == 0 && !op->keys_only)) &&
           ((f & FIELD_STEP) || op->step == 0) && ((f & FIELD_ACQUIRER) || op->acquirer_id == 0) &&
           ((f & FIELD_LEASE) ||
            (op->lease_ms == 0 && op->timestamp_ms == 0 && op->fencing_key.size == 0));
}

enum rs_err rs_kv_op_validate(const struct rs_kv_op *op)
{
    unsigned f = op_fields(op->opcode);
    if (!rs_kv_opcode_is_known(op->opcode) || !unused_fields_empty(op, f)) {
        return RS_EINVAL;
    }
    if (!slice_ok(op->key) || !slice_ok(op->value) || !slice_ok(op->expected) ||
        !slice_ok(op->list) || !slice_ok(op->end_key) || !slice_ok(op->fencing_key)) {
        return RS_EINVAL;
    }
    if (op->key.size > RS_KV_KEY_SIZE_MAX || op->value.size > RS_KV_VALUE_SIZE_MAX ||
        op->expected.size > RS_KV_VALUE_SIZE_MAX || op->end_key.size > RS_KV_KEY_SIZE_MAX ||
        op->fencing_key.size > RS_KV_KEY_SIZE_MAX || op->list.size > RS_KV_BATCH_BYTES_MAX) {
        return RS_ETOOBIG;
    }
    if ((f & FIELD_LIST) != 0) {
        return rs_kv_list_check(op->opcode, op->list);
    }
    if ((f & FIELD_SCAN) != 0 && op->limit > RS_KV_SCAN_LIMIT_MAX) {
        return RS_EINVAL;
    }
    if ((f & FIELD_ACQUIRER) != 0 && op->acquirer_id == 0) {
        return RS_EINVAL;
    }
    if ((f & FIELD_LEASE) != 0 && (op->lease_ms == 0 || op->lease_ms > RS_KV_LEASE_MS_MAX ||
                                   op->timestamp_ms > RS_KV_TIMESTAMP_MS_MAX)) {
        return RS_EINVAL;
    }
    return RS_OK;
}

/* Size of the op fields after the opcode byte. */
static size_t op_fields_size(const struct rs_kv_op *op)
{
    unsigned f = op_fields(op->opcode);
    size_t size = 0;
    size += (f & FIELD_KEY) ? 4 + op->key.size : 0;
    size += (f & FIELD_EXPECTED) ? 4 + op->expected.size : 0;
    size += (f & FIELD_VALUE) ? 4 + op->value.size : 0;
    size += (f & FIELD_LIST) ? 4 + op->list.size : 0;
    size += (f & FIELD_END) ? 4 + op->end_key.size : 0;
    size += (f & FIELD_SCAN) ? 5 : 0;
    size += (f & FIELD_STEP) ? 8 : 0;
    size += (f & FIELD_ACQUIRER) ? 8 : 0;
    size += (f & FIELD_LEASE) ? 16 + 4 + op->fencing_key.size : 0;
    return size;
}

static void op_fields_write(struct rs_writer *w, const struct rs_kv_op *op)
{
    unsigned f = op_fields(op->opcode);
    if (f & FIELD_KEY) {
        rs_w_blob(w, op->key.data, op->key.size);
    }
    if (f & FIELD_EXPECTED) {
        rs_w_blob(w, op->expected.data, op->expected.size);
    }
    if (f & FIELD_VALUE) {
        rs_w_blob(w, op->value.data, op->value.size);
    }
    if (f & FIELD_LIST) {
        rs_w_blob(w, op->list.data, op->list.size);
    }
    if (f & FIELD_END) {
        rs_w_blob(w, op->end_key.data, op->end_key.size);
    }
    if (f & FIELD_SCAN) {
        rs_w_u32(w, op->limit);
        rs_w_u8(w, op->keys_only ? 1 : 0);
    }
    if (f & FIELD_STEP) {
        rs_w_u64(w, op->step);
    }
    if (f & FIELD_ACQUIRER) {
        rs_w_u64(w, op->acquirer_id);
    }
    if (f & FIELD_LEASE) {
        rs_w_u64(w, op->lease_ms);
        rs_w_u64(w, op->timestamp_ms);
        rs_w_blob(w, op->fencing_key.data, op->fencing_key.size);
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
    uint8_t opcode = op->opcode;
    memset(op, 0, sizeof *op);
    op->opcode = opcode;
    unsigned f = op_fields(opcode);
    if (!rs_kv_opcode_is_known(opcode)) {
        r->error = true;
        return;
    }
    op->key = (f & FIELD_KEY) ? read_limited(r, RS_KV_KEY_SIZE_MAX) : op->key;
    op->expected = (f & FIELD_EXPECTED) ? read_limited(r, RS_KV_VALUE_SIZE_MAX) : op->expected;
    op->value = (f & FIELD_VALUE) ? read_limited(r, RS_KV_VALUE_SIZE_MAX) : op->value;
    op->list = (f & FIELD_LIST) ? read_limited(r, RS_KV_BATCH_BYTES_MAX) : op->list;
    op->end_key = (f & FIELD_END) ? read_limited(r, RS_KV_KEY_SIZE_MAX) : op->end_key;
    if (f & FIELD_SCAN) {
        op->limit = rs_r_u32(r);
        uint8_t keys_only = rs_r_u8(r);
        r->error = r->error || keys_only > 1;
        op->keys_only = keys_only == 1;
    }
    op->step = (f & FIELD_STEP) ? rs_r_u64(r) : 0;
    op->acquirer_id = (f & FIELD_ACQUIRER) ? rs_r_u64(r) : 0;
    if (f & FIELD_LEASE) {
        op->lease_ms = rs_r_u64(r);
        op->timestamp_ms = rs_r_u64(r);
        op->fencing_key = read_limited(r, RS_KV_KEY_SIZE_MAX);
    }
    /* The semantic rules (limits, list shape) are the validator's, shared with the encoder. */
    if (!r->error && rs_kv_op_validate(op) != RS_OK) {
        r->error = true;
    }
}

/* ---- Lists ---- */

static size_t entry_size(unsigned fields, const struct rs_kv_entry *e)
{
    size_t size = 4 + e->key.size;
    size += (fields & FIELD_EXPECTED) ? 4 + e->expected.size : 0;
    size += (fields & FIELD_VALUE) ? 4 + e->value.size : 0;
    return size;
}

size_t rs_kv_list_size(unsigned opcode, const struct rs_kv_entry *entries, uint32_t count)
{
    unsigned fields = list_fields(opcode);
    size_t size = 4;
    for (uint32_t i = 0; i < count; i++) {
        size += entry_size(fields, &entries[i]);
    }
    return size;
}

static bool bytes_equal(struct rs_bytes a, struct rs_bytes b)
{
    return a.size == b.size && (a.size == 0 || memcmp(a.data, b.data, a.size) == 0);
}

enum rs_err rs_kv_list_encode(unsigned opcode, const struct rs_kv_entry *entries, uint32_t count,
                              uint8_t *out, size_t out_cap, size_t *size_out)
{
    unsigned fields = list_fields(opcode);
    if (fields == 0 || count == 0 || count > RS_KV_BATCH_COUNT_MAX) {
        return RS_EINVAL;
    }
    for (uint32_t i = 0; i < count; i++) {
        const struct rs_kv_entry *e = &entries[i];
        if (e->key.size > RS_KV_KEY_SIZE_MAX || e->value.size > RS_KV_VALUE_SIZE_MAX ||
            e->expected.size > RS_KV_VALUE_SIZE_MAX) {
            return RS_ETOOBIG;
        }
    }
    size_t size = rs_kv_list_size(opcode, entries, count);
    if (size > RS_KV_BATCH_BYTES_MAX) {
        return RS_ETOOBIG;
    }
    if (out_cap < size) {
        return RS_ENOSPACE;
    }
    struct rs_writer w;
    rs_writer_init(&w, out, out_cap);
    rs_w_u32(&w, count);
    for (uint32_t i = 0; i < count; i++) {
        rs_w_blob(&w, entries[i].key.data, entries[i].key.size);
        if (fields & FIELD_EXPECTED) {
            rs_w_blob(&w, entries[i].expected.data, entries[i].expected.size);
        }
        if (fields & FIELD_VALUE) {
            rs_w_blob(&w, entries[i].value.data, entries[i].value.size);
        }
    }
    RS_ASSERT(!w.overflow);
    RS_ASSERT(w.pos == size);
    *size_out = size;
    /* Repeated keys are refused after encoding so that the check reads the list format. */
    return rs_kv_list_check(opcode, (struct rs_bytes){out, size});
}

uint32_t rs_kv_list_begin(struct rs_kv_iter *it, unsigned opcode, struct rs_bytes list)
{
    rs_reader_init(&it->r, list.data, list.size);
    it->opcode = opcode;
    it->left = rs_r_u32(&it->r);
    if (it->r.error) {
        it->left = 0;
    }
    return it->left;
}

void rs_kv_entries_begin(struct rs_kv_iter *it, const struct rs_kv_result *res)
{
    rs_reader_init(&it->r, res->entries, res->entries_size);
    it->opcode = RS_KV_GET;
    it->left = res->entry_count;
}

bool rs_kv_iter_next(struct rs_kv_iter *it, struct rs_kv_entry *entry)
{
    memset(entry, 0, sizeof *entry);
    if (it->left == 0 || it->r.error) {
        return false;
    }
    it->left--;
    if (it->opcode == RS_KV_GET) {
        uint8_t found = rs_r_u8(&it->r);
        entry->found = found == 1;
        it->r.error = it->r.error || found > 1;
        entry->key = read_limited(&it->r, RS_KV_KEY_SIZE_MAX);
        entry->value = read_limited(&it->r, RS_KV_VALUE_SIZE_MAX);
        it->r.error = it->r.error || (!entry->found && entry->value.size > 0);
        return !it->r.error;
    }
    unsigned fields = list_fields(it->opcode);
    entry->key = read_limited(&it->r, RS_KV_KEY_SIZE_MAX);
    if (fields & FIELD_EXPECTED) {
        entry->expected = read_limited(&it->r, RS_KV_VALUE_SIZE_MAX);
    }
    if (fields & FIELD_VALUE) {
        entry->value = read_limited(&it->r, RS_KV_VALUE_SIZE_MAX);
    }
    return !it->r.error;
}

enum rs_err rs_kv_list_check(unsigned opcode, struct rs_bytes list)
{
    if (list_fields(opcode) == 0) {
        return RS_EINVAL;
    }
    if (list.size > RS_KV_BATCH_BYTES_MAX) {
        return RS_ETOOBIG;
    }
    struct rs_kv_iter it;
    uint32_t count = rs_kv_list_begin(&it, opcode, list);
    if (it.r.error || count == 0 || count > RS_KV_BATCH_COUNT_MAX) {
        return RS_EINVAL;
    }
    struct rs_bytes keys[RS_KV_BATCH_COUNT_MAX];
    struct rs_kv_entry e;
    for (uint32_t i = 0; i < count; i++) {
        if (!rs_kv_iter_next(&it, &e)) {
            return RS_EINVAL;
        }
        /* Distinct keys: at most 128 * 127 / 2 comparisons, and no ordering to agree on. */
        for (uint32_t j = 0; j < i; j++) {
            if (bytes_equal(keys[j], e.key)) {
                return RS_EINVAL;
            }
        }
        keys[i] = e.key;
    }
    return it.r.pos == it.r.size ? RS_OK : RS_EINVAL;
}

/* Common tail of every decoder: no error and nothing left over. */
static enum rs_err reader_finish(const struct rs_reader *r)
{
    if (r->error || r->pos != r->size) {
        return RS_ECORRUPT;
    }
    return RS_OK;
}

static bool result_has_numbers(const struct rs_kv_result *res)
{
    return (res->seq_start | res->seq_end | res->lock_owner | res->lock_token |
            res->lock_remaining_ms | res->lock_acquires) != 0;
}

static bool result_has_entries(const struct rs_kv_result *res)
{
    return res->entry_count > 0 || res->entries_size > 0;
}

size_t rs_kv_result_size(const struct rs_kv_result *res)
{
    size_t size = 5 + (res->found ? res->value_size : 0);
    size += result_has_numbers(res) ? RESULT_NUMBERS_SIZE : 0;
    size += result_has_entries(res) ? 8 + res->entries_size : 0;
    return size;
}

void rs_kv_result_write(struct rs_writer *w, const struct rs_kv_result *res)
{
    RS_ASSERT(res->value_size <= RS_KV_VALUE_SIZE_MAX);
    RS_ASSERT(res->found || res->value_size == 0);
    RS_ASSERT(res->entries_size <= RS_KV_RESULT_BYTES_MAX);
    bool numbers = result_has_numbers(res);
    bool entries = result_has_entries(res);
    uint8_t flags = (uint8_t)((res->success ? RESULT_FLAG_SUCCESS : 0) |
                              (res->found ? RESULT_FLAG_FOUND : 0) |
                              (res->truncated ? RESULT_FLAG_TRUNCATED : 0) |
                              (numbers ? RESULT_FLAG_NUMBERS : 0) |
                              (entries ? RESULT_FLAG_ENTRIES : 0));
    rs_w_u8(w, flags);
    rs_w_blob(w, res->value, res->value_size);
    if (numbers) {
        rs_w_u64(w, res->seq_start);
        rs_w_u64(w, res->seq_end);
        rs_w_u64(w, res->lock_owner);
        rs_w_u64(w, res->lock_token);
        rs_w_u64(w, res->lock_remaining_ms);
        rs_w_u64(w, res->lock_acquires);
    }
    if (entries) {
        rs_w_u32(w, res->entry_count);
        rs_w_blob(w, res->entries, res->entries_size);
    }
}

/* Checks that entries hold exactly entry_count well-formed result entries. */
static bool entries_valid(const struct rs_kv_result *res)
{
    struct rs_kv_iter it;
    struct rs_kv_entry e;
    rs_kv_entries_begin(&it, res);
    for (uint32_t i = 0; i < res->entry_count; i++) {
        if (!rs_kv_iter_next(&it, &e)) {
            return false;
        }
    }
    return it.r.pos == it.r.size;
}

void rs_kv_result_read(struct rs_reader *r, struct rs_kv_result *res)
{
    memset(res, 0, sizeof *res);
    uint8_t flags = rs_r_u8(r);
    struct rs_bytes value = read_limited(r, RS_KV_VALUE_SIZE_MAX);
    if ((flags & ~RESULT_FLAGS_KNOWN) != 0) {
        r->error = true;
    }
    res->success = (flags & RESULT_FLAG_SUCCESS) != 0;
    res->found = (flags & RESULT_FLAG_FOUND) != 0;
    res->truncated = (flags & RESULT_FLAG_TRUNCATED) != 0;
    /* Only a found key has a value; anything else is damage, not a result. */
    if (value.size > 0 && !res->found) {
        r->error = true;
    }
    if (flags & RESULT_FLAG_NUMBERS) {
        res->seq_start = rs_r_u64(r);
        res->seq_end = rs_r_u64(r);
        res->lock_owner = rs_r_u64(r);
        res->lock_token = rs_r_u64(r);
        res->lock_remaining_ms = rs_r_u64(r);
        res->lock_acquires = rs_r_u64(r);
    }
    if (flags & RESULT_FLAG_ENTRIES) {
        res->entry_count = rs_r_u32(r);
        struct rs_bytes entries = read_limited(r, RS_KV_RESULT_BYTES_MAX);
        res->entries = entries.data;
        res->entries_size = entries.size;
        r->error = r->error || !entries_valid(res);
    }
    /* The writer sets these flags exactly when there is something to write. */
    if (((flags & RESULT_FLAG_NUMBERS) != 0) != result_has_numbers(res) ||
        ((flags & RESULT_FLAG_ENTRIES) != 0) != result_has_entries(res)) {
        r->error = true;
    }
    res->value = r->error ? NULL : value.data;
    res->value_size = r->error ? 0 : value.size;
    if (r->error) {
        memset(res, 0, sizeof *res);
    }
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
    if (resp->result.value_size > RS_KV_VALUE_SIZE_MAX ||
        resp->result.entries_size > RS_KV_RESULT_BYTES_MAX) {
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
