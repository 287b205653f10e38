/* Placement Driver messages: store heartbeats (with region heartbeats) and instruction lists. */
#ifndef RS_CORE_PD_MSG_H
#define RS_CORE_PD_MSG_H

#include "core/base.h"
#include "core/pd/policy.h"

/*
 * Both travel in ordinary checksummed frames (core/wire/frame.h), not in region envelopes: they
 * are for a store (or the PD), not for one region. The type numbers sit in the gap of enum
 * rs_msg_type that nothing else uses (frame.h names neither yet).
 */
#define RS_PD_MSG_HEARTBEAT    48u /* store -> PD */
#define RS_PD_MSG_INSTRUCTIONS 49u /* PD -> store */
#define RS_PD_MSG_LEADER       50u /* PD node -> store or client: who leads the PD group */
#define RS_PD_MSG_ROUTE_GET    51u /* client -> PD: the region routing table, please */
#define RS_PD_MSG_ROUTES       52u /* PD -> client: the table, in parts */

/* Region heartbeats in one frame; a store leading more sends several frames (parts). */
#define RS_PD_MSG_REGIONS_MAX      64u
/* Instructions in one frame; more are sent as several frames. */
#define RS_PD_MSG_INSTRUCTIONS_MAX 16u

/* What a store says about itself (RheaKV's StoreStats); QPS over the last interval. */
struct rs_pd_store_stats {
    rs_node_id store_id;
    uint32_t region_count;
    uint32_t leader_count;
    uint64_t key_count;
    uint64_t size_bytes;
    uint64_t read_qps;
    uint64_t write_qps;
};

/*
 * One frame of a store heartbeat. Every part repeats the store's stats; regions are the ones
 * the store leads (leader fields are store_id). After a decode, start and end point into the
 * frame.
 *   body: u32 store_id, u32 region_count, u32 leader_count, u64 keys, u64 bytes, u64 read_qps,
 *         u64 write_qps, u32 part_index, u32 part_count, u32 entries, entries:
 *         u64 id, u64 conf_ver, u64 version, blob start, blob end, u8 voters, u32 each,
 *         u8 learners, u32 each, u64 keys, u64 bytes, u64 read_qps, u64 write_qps
 */
struct rs_pd_heartbeat {
    struct rs_pd_store_stats store;
    uint32_t part_index; /* 0..part_count-1 */
    uint32_t part_count;
    uint32_t region_count;
    struct rs_pd_region regions[RS_PD_MSG_REGIONS_MAX];
};

/*
 * Instructions for one store; the reason is not sent (the PD traces it).
 *   body: u32 count, count records: u8 kind, u8 change, u16 0, u32 handler_index,
 *         u64 region_id, u64 conf_ver, u64 version, u32 store_id, u64 new_region_id,
 *         blob split_key
 */
struct rs_pd_instructions {
    uint32_t count;
    struct rs_pd_instruction items[RS_PD_MSG_INSTRUCTIONS_MAX];
};

/* The frame size of hb (header included); hb must respect the bounds. */
size_t rs_pd_heartbeat_frame_size(const struct rs_pd_heartbeat *hb);
/* RS_OK; RS_EINVAL for a count beyond a bound or key beyond RS_REGION_KEY_SIZE_MAX;
 * RS_ETOOBIG when cap is too small. */
enum rs_err rs_pd_heartbeat_encode(const struct rs_pd_heartbeat *hb, uint8_t *out, size_t cap,
                                   size_t *written);
/* RS_OK, or RS_ECORRUPT for a damaged frame, another type, a bad count or trailing bytes. */
enum rs_err rs_pd_heartbeat_decode(const uint8_t *frame, size_t size, struct rs_pd_heartbeat *hb);

size_t rs_pd_instructions_frame_size(const struct rs_pd_instructions *list);
enum rs_err rs_pd_instructions_encode(const struct rs_pd_instructions *list, uint8_t *out,
                                      size_t cap, size_t *written);
/* split_key points into the frame; reason is left empty. */
enum rs_err rs_pd_instructions_decode(const uint8_t *frame, size_t size,
                                      struct rs_pd_instructions *list);

/*
 * The PD group's leader as a PD node knows it (RS_NODE_NONE: unknown), sent to whoever spoke
 * to a node that does not lead (so it tries the leader next), and by the leader itself as the
 * acknowledgement of a store heartbeat (so the store knows its PD is alive).
 *   body: u32 leader
 */
size_t rs_pd_leader_frame_size(void);
void rs_pd_leader_encode(rs_node_id leader, uint8_t *out);
enum rs_err rs_pd_leader_decode(const uint8_t *frame, size_t size, rs_node_id *leader);

/* A client's route request: body u64 request_id. */
size_t rs_pd_route_get_frame_size(void);
void rs_pd_route_get_encode(uint64_t request_id, uint8_t *out);
enum rs_err rs_pd_route_get_decode(const uint8_t *frame, size_t size, uint64_t *request_id);

/*
 * One part of the routing table (RheaKV's getRegionRouteTable answer): the regions as the PD
 * knows them, none overlapping, each with its leader (RS_NODE_NONE: unknown). The answer to
 * one request is part_count frames with the same request_id; statistics are not sent.
 *   body: u64 request_id, u32 part_index, u32 part_count, u32 entries,
 *         entries: u32 leader, then a region as in the heartbeat
 * After a decode, start and end point into the frame.
 */
struct rs_pd_routes {
    uint64_t request_id;
    uint32_t part_index;
    uint32_t part_count;
    uint32_t region_count;
    struct rs_pd_region regions[RS_PD_MSG_REGIONS_MAX];
};
size_t rs_pd_routes_frame_size(const struct rs_pd_routes *routes);
enum rs_err rs_pd_routes_encode(const struct rs_pd_routes *routes, uint8_t *out, size_t cap,
                                size_t *written);
enum rs_err rs_pd_routes_decode(const uint8_t *frame, size_t size, struct rs_pd_routes *routes);

/*
 * A region descriptor as the PD stores it in its own replicated KV store (RheaKV's
 * MetadataStore): id, epoch, range and peers, the heartbeat's record without statistics.
 * rs_pd_region_record_decode's start and end point into data.
 */
size_t rs_pd_region_record_size(const struct rs_pd_region *r);
void rs_pd_region_record_encode(const struct rs_pd_region *r, uint8_t *out, size_t size);
enum rs_err rs_pd_region_record_decode(const uint8_t *data, size_t size, struct rs_pd_region *r);

/* The frame's type, or 0 when it is too short to have one (no checksum check). */
unsigned rs_pd_frame_type(const uint8_t *frame, size_t size);

#endif
