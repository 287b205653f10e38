/* The frame every network message travels in: a type, a length and a checksum of the body. */
#ifndef RS_CORE_WIRE_FRAME_H
#define RS_CORE_WIRE_FRAME_H

#include "core/base.h"

/*
 * Layout (little endian): u32 magic, u16 type, u16 reserved (0), u32 body_size,
 * u32 reserved (0), u64 xxh64(body). The body follows. A frame whose magic, size or checksum is
 * wrong is dropped by the receiver as corrupt (bit flips on the wire are caught here).
 */
#define RS_FRAME_MAGIC       0x52534d31u /* "RSM1" */
#define RS_FRAME_HEADER_SIZE 24u
#define RS_FRAME_BODY_MAX    (8u << 20)

enum rs_msg_type {
    RS_MSG_NONE = 0,
    /* raft */
    RS_MSG_VOTE_REQUEST = 1,
    RS_MSG_VOTE_RESPONSE = 2,
    RS_MSG_APPEND_REQUEST = 3,
    RS_MSG_APPEND_RESPONSE = 4,
    RS_MSG_TIMEOUT_NOW = 5,
    RS_MSG_SNAPSHOT_REQUEST = 6,
    RS_MSG_SNAPSHOT_RESPONSE = 7,
    RS_MSG_READ_INDEX_REQUEST = 8,
    RS_MSG_READ_INDEX_RESPONSE = 9,
    RS_MSG_HIBERNATE = 10, /* a leader's last heartbeat before it goes quiet (hibernate.c) */
    RS_MSG_WAKE_UP = 11,   /* a follower asks its leader to heartbeat again */
    /* store -> store: "you are removed" (core/store/tombstone.h) */
    RS_MSG_PEER_REMOVED = 16,
    /* client <-> store */
    RS_MSG_KV_REQUEST = 32,
    RS_MSG_KV_RESPONSE = 33,
    /* the envelope that addresses an inner frame to a region (core/store/region.h) */
    RS_MSG_REGION = 40,
    RS_MSG_TYPE_MAX = 64
};

const char *rs_msg_type_name(unsigned type);

/* Writes header + body into out (capacity out_cap). Returns the frame size, 0 if too small. */
size_t rs_frame_encode(uint8_t *out, size_t out_cap, unsigned type, const uint8_t *body,
                       size_t body_size);
/* Writes only the header for a body already placed at out + RS_FRAME_HEADER_SIZE. */
void rs_frame_seal(uint8_t *out, unsigned type, size_t body_size);
/* Checks a received frame. On success sets *type and *body. RS_ECORRUPT when damaged. */
enum rs_err rs_frame_decode(const uint8_t *data, size_t size, unsigned *type,
                            struct rs_bytes *body);

#endif
