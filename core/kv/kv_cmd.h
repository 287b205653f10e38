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
 *   get, delete                          key
 *   put, put_if_absent, get_and_put      key, value
 *   cas                                  key, expected, value
 * A later opcode brings its own field list, so adding one changes no existing encoding.
 *
 * command  = u8 version, u8 opcode, u16 reserved (0), u64 client_id, u64 seq, op fields
 * request  = u8 version, u8 opcode, u16 reserved (0), u64 client_id, u64 seq,
 *            u64 request_id, op fields                      (frame type RS_MSG_KV_REQUEST)
 * response = u8 version, u8 status, u16 reserved (0), u32 leader_hint, u64 request_id,
 *            u64 client_id, u64 seq, result                 (frame type RS_MSG_KV_RESPONSE)
 * result   = u8 flags (bit 0 success, bit 1 found), u32 value_size, value
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
#define RS_KV_OP_SIZE_MAX          (4u + RS_KV_KEY_SIZE_MAX + 2u * (4u + RS_KV_VALUE_SIZE_MAX))
#define RS_KV_RESULT_SIZE_MAX      (5u + RS_KV_VALUE_SIZE_MAX)

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

/* The result alone (also the form of a saved session result). */
size_t rs_kv_result_size(const struct rs_kv_result *res);
void rs_kv_result_write(struct rs_writer *w, const struct rs_kv_result *res);
/* Reads a result; sets r->error when it is malformed. */
void rs_kv_result_read(struct rs_reader *r, struct rs_kv_result *res);

#endif
