/* Frame encoding and checking. */
#include "core/wire/frame.h"

#include "core/wire/codec.h"

#include <xxhash.h>

const char *rs_msg_type_name(unsigned type)
{
    switch (type) {
    case RS_MSG_VOTE_REQUEST: return "vote_request";
    case RS_MSG_VOTE_RESPONSE: return "vote_response";
    case RS_MSG_APPEND_REQUEST: return "append_request";
    case RS_MSG_APPEND_RESPONSE: return "append_response";
    case RS_MSG_TIMEOUT_NOW: return "timeout_now";
    case RS_MSG_SNAPSHOT_REQUEST: return "snapshot_request";
    case RS_MSG_SNAPSHOT_RESPONSE: return "snapshot_response";
    case RS_MSG_READ_INDEX_REQUEST: return "read_index_request";
    case RS_MSG_READ_INDEX_RESPONSE: return "read_index_response";
    case RS_MSG_PEER_REMOVED: return "peer_removed";
    case RS_MSG_HIBERNATE: return "hibernate";
    case RS_MSG_WAKE_UP: return "wake_up";
    case RS_MSG_KV_REQUEST: return "kv_request";
    case RS_MSG_KV_RESPONSE: return "kv_response";
    case RS_MSG_REGION: return "region";
    default: return "unknown";
    }
}

void rs_frame_seal(uint8_t *out, unsigned type, size_t body_size)
{
    RS_ASSERT(body_size <= RS_FRAME_BODY_MAX);
    RS_ASSERT(type < RS_MSG_TYPE_MAX);
    rs_put_u32(out, RS_FRAME_MAGIC);
    rs_put_u16(out + 4, (uint16_t)type);
    rs_put_u16(out + 6, 0);
    rs_put_u32(out + 8, (uint32_t)body_size);
    rs_put_u32(out + 12, 0);
    rs_put_u64(out + 16, XXH64(out + RS_FRAME_HEADER_SIZE, body_size, 0));
}

size_t rs_frame_encode(uint8_t *out, size_t out_cap, unsigned type, const uint8_t *body,
                       size_t body_size)
{
    if (out_cap < RS_FRAME_HEADER_SIZE || out_cap - RS_FRAME_HEADER_SIZE < body_size) {
        return 0;
    }
    if (body_size > 0) {
        memcpy(out + RS_FRAME_HEADER_SIZE, body, body_size);
    }
    rs_frame_seal(out, type, body_size);
    return RS_FRAME_HEADER_SIZE + body_size;
}

enum rs_err rs_frame_decode(const uint8_t *data, size_t size, unsigned *type,
                            struct rs_bytes *body)
{
    if (size < RS_FRAME_HEADER_SIZE || rs_get_u32(data) != RS_FRAME_MAGIC) {
        return RS_ECORRUPT;
    }
    uint32_t body_size = rs_get_u32(data + 8);
    if (body_size != size - RS_FRAME_HEADER_SIZE || rs_get_u16(data + 6) != 0 ||
        rs_get_u32(data + 12) != 0) {
        return RS_ECORRUPT;
    }
    if (XXH64(data + RS_FRAME_HEADER_SIZE, body_size, 0) != rs_get_u64(data + 16)) {
        return RS_ECORRUPT;
    }
    unsigned t = rs_get_u16(data + 4);
    if (t == RS_MSG_NONE || t >= RS_MSG_TYPE_MAX) {
        return RS_ECORRUPT;
    }
    *type = t;
    body->data = data + RS_FRAME_HEADER_SIZE;
    body->size = body_size;
    return RS_OK;
}
