/* Binary formats of KV commands (log entry payloads) and of client requests and responses. */
#ifndef RS_CORE_KV_KV_CMD_H
#define RS_CORE_KV_KV_CMD_H

#include "core/base.h"
#include "core/kv/kv.h"
#include "core/wire/codec.h"

/*
 * Every format starts with a version byte; a decoder refuses versions it does not know. All
 * integers are little endian, every byte string is a u32 length and the bytes. The op part is
 * shared: u8 opcode, then the fields that opcode uses, in this order:
 *   get, delete, contains_key,
 *   reset_sequence                       key
 *   put, put_if_absent, get_and_put,
 *   merge                                key, value
 *   cas                                  key, expected, value
 *   multi_get, batch_put, batch_delete,
 *   cas_all                              list (u32 list_size, the list bytes)
 *   scan, reverse_scan                   key, end_key, u32 limit, u8 keys_only (0 or 1)
 *   delete_range                         key, end_key
 *   get_sequence                         key, u64 step
 *   lock                                 key, u64 acquirer_id, u64 lease_ms,
 *                                        u64 timestamp_ms, fencing_key
 *   unlock                               key, u64 acquirer_id
 * list = u32 entry_count, then per entry its fields: multi_get and batch_delete key;
 * batch_put key, value; cas_all key, expected, value.
 * A later opcode brings its own field list, so adding one changes no existing encoding.
 *
 * command  = u8 version, u8 opcode, u16 reserved (0), u64 client_id, u64 seq, op fields
 * request  = u8 version, u8 opcode, u16 reserved (0), u64 client_id, u64 seq,
 *            u64 request_id, op fields                      (frame type RS_MSG_KV_REQUEST)
 * response = u8 version, u8 status, u16 reserved (0), u32 leader_hint, u64 request_id,
 *            u64 client_id, u64 seq, result                 (frame type RS_MSG_KV_RESPONSE)
 * result   = u8 flags (bit 0 success, bit 1 found, bit 2 truncated, bit 3 numbers,
 *            bit 4 entries), u32 value_size, value,
 *            [numbers: u64 seq_start, seq_end, lock_owner, lock_token, lock_remaining_ms,
 *             lock_acquires], [entries: u32 entry_count, u32 entries_size, entries]
 *            where entries = per entry u8 found (0 or 1), key, value (a value only if found).
 *            A result of the first six operations sets neither bit 3 nor bit 4, so its
 *            encoding is the version 1 one.
 *
 * Decoders check every length against the bytes left and the named limits, refuse unknown
 * flags, a value without found, and trailing bytes. Decoded slices are views into the input.
 */
#define RS_KV_CMD_VERSION 1u

/* Fixed part of each format, and the largest possible encoding (for buffer sizing). */
#define RS_KV_CMD_HEADER_SIZE      20u
#define RS_KV_REQUEST_HEADER_SIZE  28u
#define RS_KV_RESPONSE_HEADER_SIZE 32u
/* Where request_id sits in a request body, so a client can re-address an attempt in place. */
#define RS_KV_REQUEST_ID_OFFSET    20u
#define RS_KV_OP_SIZE_MAX          (8u + RS_KV_BATCH_BYTES_MAX)
#define RS_KV_RESULT_SIZE_MAX      (5u + RS_KV_VALUE_SIZE_MAX + 48u + 8u + RS_KV_RESULT_BYTES_MAX)
/* Encoded size of one result entry besides its key and value. */
#define RS_KV_ENTRY_OVERHEAD 9u

/* A log entry payload: an operation with the session it belongs to (client_id 0: none). */
struct rs_kv_cmd {
    uint64_t client_id;
    uint64_t seq;
    struct rs_kv_op op;
};

/* A client's request: one attempt (request_id) of the operation (client_id, seq). */
struct rs_kv_request {
    uint64_t client_id;
    uint64_t seq;
    uint64_t request_id;
    struct rs_kv_op op;
};

/* A server's answer to one attempt. leader_hint is RS_NODE_NONE when unknown. */
struct rs_kv_response {
    uint64_t request_id;
    uint64_t client_id;
    uint64_t seq;
    enum rs_err status;
    rs_node_id leader_hint;
    struct rs_kv_result result;
};

/*
 * Encoders return RS_OK and set *size_out, RS_EINVAL / RS_ETOOBIG for an operation that
 * rs_kv_op_validate refuses, or RS_ENOSPACE when out_cap is below the *_size() figure.
 */
size_t rs_kv_cmd_size(const struct rs_kv_cmd *cmd);
enum rs_err rs_kv_cmd_encode(const struct rs_kv_cmd *cmd, uint8_t *out, size_t out_cap,
                             size_t *size_out);
/* RS_OK, or RS_ECORRUPT for anything malformed. */
enum rs_err rs_kv_cmd_decode(struct rs_bytes data, struct rs_kv_cmd *cmd);

size_t rs_kv_request_size(const struct rs_kv_request *req);
enum rs_err rs_kv_request_encode(const struct rs_kv_request *req, uint8_t *out, size_t out_cap,
                                 size_t *size_out);
enum rs_err rs_kv_request_decode(struct rs_bytes data, struct rs_kv_request *req);

size_t rs_kv_response_size(const struct rs_kv_response *resp);
enum rs_err rs_kv_response_encode(const struct rs_kv_response *resp, uint8_t *out,
                                  size_t out_cap, size_t *size_out);
enum rs_err rs_kv_response_decode(struct rs_bytes data, struct rs_kv_response *resp);

/*
 * The same, framed (core/wire/frame.h): the frame header then the body, sealed with its
 * checksum. Sizes include the frame header. The frame decoders also check the frame type.
 */
size_t rs_kv_request_frame_size(const struct rs_kv_request *req);
enum rs_err rs_kv_request_frame_encode(const struct rs_kv_request *req, uint8_t *out,
                                       size_t out_cap, size_t *size_out);
enum rs_err rs_kv_request_frame_decode(struct rs_bytes frame, struct rs_kv_request *req);
size_t rs_kv_response_frame_size(const struct rs_kv_response *resp);
enum rs_err rs_kv_response_frame_encode(const struct rs_kv_response *resp, uint8_t *out,
                                        size_t out_cap, size_t *size_out);
enum rs_err rs_kv_response_frame_decode(struct rs_bytes frame, struct rs_kv_response *resp);

/* An entry of a list or of a result; fields an opcode does not use are empty. */
struct rs_kv_entry {
    struct rs_bytes key;
    struct rs_bytes expected;
    struct rs_bytes value;
    bool found; /* result entries only */
};

/*
 * Lists (rs_kv_op.list). rs_kv_list_size is the encoded size; rs_kv_list_encode returns
 * RS_EINVAL for an opcode without a list, a count outside 1..RS_KV_BATCH_COUNT_MAX or repeated
 * keys, RS_ETOOBIG past a size limit, RS_ENOSPACE when out_cap is too small.
 * rs_kv_list_check validates a list for an opcode the same way (a decoder uses it).
 */
size_t rs_kv_list_size(unsigned opcode, const struct rs_kv_entry *entries, uint32_t count);
enum rs_err rs_kv_list_encode(unsigned opcode, const struct rs_kv_entry *entries, uint32_t count,
                              uint8_t *out, size_t out_cap, size_t *size_out);
enum rs_err rs_kv_list_check(unsigned opcode, struct rs_bytes list);

/* Walks a list (checked) or the entries of a result (decoded or from rs_kv_read_into). */
struct rs_kv_iter {
    struct rs_reader r;
    unsigned opcode; /* RS_KV_GET for result entries */
    uint32_t left;
};
/* Starts on a list; returns its entry count. */
uint32_t rs_kv_list_begin(struct rs_kv_iter *it, unsigned opcode, struct rs_bytes list);
/* Starts on a result's entries (result.entry_count of them). */
void rs_kv_entries_begin(struct rs_kv_iter *it, const struct rs_kv_result *res);
/* The next entry; false at the end (or on damage, which checked input never has). */
bool rs_kv_iter_next(struct rs_kv_iter *it, struct rs_kv_entry *entry);

/* The result alone (also the form of a saved session result). */
size_t rs_kv_result_size(const struct rs_kv_result *res);
void rs_kv_result_write(struct rs_writer *w, const struct rs_kv_result *res);
/* Reads a result; sets r->error when it is malformed. */
void rs_kv_result_read(struct rs_reader *r, struct rs_kv_result *res);

#endif
