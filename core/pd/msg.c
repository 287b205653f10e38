/* Placement Driver messages: bounded codecs for heartbeats and instruction lists. */
#include "core/pd/msg.h"

#include "core/wire/codec.h"
#include "core/wire/frame.h"

#include <string.h>

#define STORE_PART_SIZE  (4u + 4u + 4u + 8u * 4u + 4u + 4u + 4u)
#define REGION_FIXED_SIZE (8u * 3u + 4u + 4u + 1u + 1u + 8u * 4u)
#define INSTR_FIXED_SIZE (1u + 1u + 2u + 4u + 8u * 3u + 4u + 8u + 4u)

unsigned rs_pd_frame_type(const uint8_t *frame, size_t size)
{
    return size >= RS_FRAME_HEADER_SIZE ? rs_get_u16(frame + 4) : 0;
}

static size_t heartbeat_body_size(const struct rs_pd_heartbeat *hb)
{
    size_t size = STORE_PART_SIZE;
    for (uint32_t i = 0; i < hb->region_count && i < RS_PD_MSG_REGIONS_MAX; i++) {
        const struct rs_pd_region *r = &hb->regions[i];
        size += REGION_FIXED_SIZE + r->start.size + r->end.size +
                4u * ((size_t)r->voter_count + r->learner_count);
    }
    return size;
}

size_t rs_pd_heartbeat_frame_size(const struct rs_pd_heartbeat *hb)
{
    return RS_FRAME_HEADER_SIZE + heartbeat_body_size(hb);
}

static bool region_fits(const struct rs_pd_region *r)
{
    return r->start.size <= RS_REGION_KEY_SIZE_MAX && r->end.size <= RS_REGION_KEY_SIZE_MAX &&
           r->voter_count <= RS_PD_PEERS_MAX && r->learner_count <= RS_PD_PEERS_MAX;
}

static bool heartbeat_fits(const struct rs_pd_heartbeat *hb)
{
    if (hb->region_count > RS_PD_MSG_REGIONS_MAX || hb->part_index >= hb->part_count) {
        return false;
    }
    for (uint32_t i = 0; i < hb->region_count; i++) {
        if (!region_fits(&hb->regions[i])) {
            return false;
        }
    }
    return true;
}

/* Reads a peer list of at most RS_PD_PEERS_MAX ids; false when longer or an id is 0. */
static bool read_peers(struct rs_reader *rd, uint8_t *count, rs_node_id *ids)
{
    *count = rs_r_u8(rd);
    if (*count > RS_PD_PEERS_MAX) {
        return false;
    }
    for (uint8_t i = 0; i < *count; i++) {
        ids[i] = rs_r_u32(rd);
        if (ids[i] == RS_NODE_NONE && !rd->error) {
            return false;
        }
    }
    return true;
}

static size_t record_size(const struct rs_pd_region *r)
{
    return 8u * 3u + 4u + 4u + 1u + 1u + r->start.size + r->end.size +
           4u * ((size_t)r->voter_count + r->learner_count);
}

/* A region without statistics: id, epoch, range, peers. */
static void write_record(struct rs_writer *w, const struct rs_pd_region *r)
{
    rs_w_u64(w, r->id);
    rs_w_u64(w, r->epoch.conf_ver);
    rs_w_u64(w, r->epoch.version);
    rs_w_blob(w, r->start.data, r->start.size);
    rs_w_blob(w, r->end.data, r->end.size);
    rs_w_u8(w, r->voter_count);
    for (uint8_t i = 0; i < r->voter_count; i++) {
        rs_w_u32(w, r->voters[i]);
    }
    rs_w_u8(w, r->learner_count);
    for (uint8_t i = 0; i < r->learner_count; i++) {
        rs_w_u32(w, r->learners[i]);
    }
}

static bool read_record(struct rs_reader *rd, struct rs_pd_region *r)
{
    memset(r, 0, sizeof *r);
    r->id = rs_r_u64(rd);
    r->epoch.conf_ver = rs_r_u64(rd);
    r->epoch.version = rs_r_u64(rd);
    r->start = rs_r_blob(rd);
    r->end = rs_r_blob(rd);
    if (r->start.size > RS_REGION_KEY_SIZE_MAX || r->end.size > RS_REGION_KEY_SIZE_MAX ||
        !read_peers(rd, &r->voter_count, r->voters) ||
        !read_peers(rd, &r->learner_count, r->learners)) {
        return false;
    }
    return !rd->error && r->id != RS_REGION_ID_NONE;
}

static void write_region(struct rs_writer *w, const struct rs_pd_region *r)
{
    write_record(w, r);
    rs_w_u64(w, r->key_count);
    rs_w_u64(w, r->size_bytes);
    rs_w_u64(w, r->read_qps);
    rs_w_u64(w, r->write_qps);
}

enum rs_err rs_pd_heartbeat_encode(const struct rs_pd_heartbeat *hb, uint8_t *out, size_t cap,
                                   size_t *written)
{
    if (!heartbeat_fits(hb)) {
        return RS_EINVAL;
    }
    size_t body = heartbeat_body_size(hb);
    if (cap < RS_FRAME_HEADER_SIZE + body) {
        return RS_ETOOBIG;
    }
    struct rs_writer w;
    rs_writer_init(&w, out + RS_FRAME_HEADER_SIZE, body);
    const struct rs_pd_store_stats *s = &hb->store;
    rs_w_u32(&w, s->store_id);
    rs_w_u32(&w, s->region_count);
    rs_w_u32(&w, s->leader_count);
    rs_w_u64(&w, s->key_count);
    rs_w_u64(&w, s->size_bytes);
    rs_w_u64(&w, s->read_qps);
    rs_w_u64(&w, s->write_qps);
    rs_w_u32(&w, hb->part_index);
    rs_w_u32(&w, hb->part_count);
    rs_w_u32(&w, hb->region_count);
    for (uint32_t i = 0; i < hb->region_count; i++) {
        write_region(&w, &hb->regions[i]);
    }
    RS_ASSERT(!w.overflow && w.pos == body);
    rs_frame_seal(out, RS_PD_MSG_HEARTBEAT, body);
    *written = RS_FRAME_HEADER_SIZE + body;
    return RS_OK;
}

static bool read_region(struct rs_reader *rd, rs_node_id leader, struct rs_pd_region *r)
{
    if (!read_record(rd, r)) {
        return false;
    }
    r->leader = leader;
    r->key_count = rs_r_u64(rd);
    r->size_bytes = rs_r_u64(rd);
    r->read_qps = rs_r_u64(rd);
    r->write_qps = rs_r_u64(rd);
    return !rd->error;
}

enum rs_err rs_pd_heartbeat_decode(const uint8_t *frame, size_t size, struct rs_pd_heartbeat *hb)
{
    unsigned type;
    struct rs_bytes body;
    if (rs_frame_decode(frame, size, &type, &body) != RS_OK || type != RS_PD_MSG_HEARTBEAT) {
        return RS_ECORRUPT;
    }
    struct rs_reader rd;
    rs_reader_init(&rd, body.data, body.size);
    struct rs_pd_store_stats *s = &hb->store;
    s->store_id = rs_r_u32(&rd);
    s->region_count = rs_r_u32(&rd);
    s->leader_count = rs_r_u32(&rd);
    s->key_count = rs_r_u64(&rd);
    s->size_bytes = rs_r_u64(&rd);
    s->read_qps = rs_r_u64(&rd);
    s->write_qps = rs_r_u64(&rd);
    hb->part_index = rs_r_u32(&rd);
    hb->part_count = rs_r_u32(&rd);
    hb->region_count = rs_r_u32(&rd);
    if (rd.error || s->store_id == RS_NODE_NONE || hb->region_count > RS_PD_MSG_REGIONS_MAX ||
        hb->part_index >= hb->part_count) {
        hb->region_count = 0;
        return RS_ECORRUPT;
    }
    for (uint32_t i = 0; i < hb->region_count; i++) {
        if (!read_region(&rd, s->store_id, &hb->regions[i])) {
            hb->region_count = 0;
            return RS_ECORRUPT;
        }
    }
    if (rd.pos != rd.size) {
        hb->region_count = 0;
        return RS_ECORRUPT;
    }
    return RS_OK;
}

static size_t instructions_body_size(const struct rs_pd_instructions *list)
{
    size_t size = 4;
    for (uint32_t i = 0; i < list->count && i < RS_PD_MSG_INSTRUCTIONS_MAX; i++) {
        size += INSTR_FIXED_SIZE + list->items[i].split_key.size;
    }
    return size;
}

size_t rs_pd_instructions_frame_size(const struct rs_pd_instructions *list)
{
    return RS_FRAME_HEADER_SIZE + instructions_body_size(list);
}

enum rs_err rs_pd_instructions_encode(const struct rs_pd_instructions *list, uint8_t *out,
                                      size_t cap, size_t *written)
{
    if (list->count > RS_PD_MSG_INSTRUCTIONS_MAX) {
        return RS_EINVAL;
    }
    size_t body = instructions_body_size(list);
    if (cap < RS_FRAME_HEADER_SIZE + body) {
        return RS_ETOOBIG;
    }
    struct rs_writer w;
    rs_writer_init(&w, out + RS_FRAME_HEADER_SIZE, body);
    rs_w_u32(&w, list->count);
    for (uint32_t i = 0; i < list->count; i++) {
        const struct rs_pd_instruction *in = &list->items[i];
        if (in->split_key.size > RS_REGION_KEY_SIZE_MAX) {
            return RS_EINVAL;
        }
        rs_w_u8(&w, (uint8_t)in->kind);
        rs_w_u8(&w, (uint8_t)in->change);
        rs_w_u16(&w, 0);
        rs_w_u32(&w, in->handler_index);
        rs_w_u64(&w, in->region_id);
        rs_w_u64(&w, in->epoch.conf_ver);
        rs_w_u64(&w, in->epoch.version);
        rs_w_u32(&w, in->store_id);
        rs_w_u64(&w, in->new_region_id);
        rs_w_blob(&w, in->split_key.data, in->split_key.size);
    }
    RS_ASSERT(!w.overflow && w.pos == body);
    rs_frame_seal(out, RS_PD_MSG_INSTRUCTIONS, body);
    *written = RS_FRAME_HEADER_SIZE + body;
    return RS_OK;
}

static bool read_instruction(struct rs_reader *rd, struct rs_pd_instruction *in)
{
    memset(in, 0, sizeof *in);
    uint8_t kind = rs_r_u8(rd);
    uint8_t change = rs_r_u8(rd);
    uint16_t reserved = rs_r_u16(rd);
    in->handler_index = rs_r_u32(rd);
    in->region_id = rs_r_u64(rd);
    in->epoch.conf_ver = rs_r_u64(rd);
    in->epoch.version = rs_r_u64(rd);
    in->store_id = rs_r_u32(rd);
    in->new_region_id = rs_r_u64(rd);
    in->split_key = rs_r_blob(rd);
    if (rd->error || kind > RS_PD_CHANGE_PEER || change > RS_PD_PROMOTE_LEARNER ||
        reserved != 0 || in->split_key.size > RS_REGION_KEY_SIZE_MAX) {
        return false;
    }
    in->kind = (enum rs_pd_kind)kind;
    in->change = (enum rs_pd_change)change;
    return true;
}

enum rs_err rs_pd_instructions_decode(const uint8_t *frame, size_t size,
                                      struct rs_pd_instructions *list)
{
    unsigned type;
    struct rs_bytes body;
    list->count = 0;
    if (rs_frame_decode(frame, size, &type, &body) != RS_OK || type != RS_PD_MSG_INSTRUCTIONS) {
        return RS_ECORRUPT;
    }
    struct rs_reader rd;
    rs_reader_init(&rd, body.data, body.size);
    uint32_t count = rs_r_u32(&rd);
    if (rd.error || count > RS_PD_MSG_INSTRUCTIONS_MAX) {
        return RS_ECORRUPT;
    }
    for (uint32_t i = 0; i < count; i++) {
        if (!read_instruction(&rd, &list->items[i])) {
            return RS_ECORRUPT;
        }
    }
    if (rd.pos != rd.size) {
        return RS_ECORRUPT;
    }
    list->count = count;
    return RS_OK;
}

/* ---- the PD group's leader, route requests and answers, stored descriptors ---- */

size_t rs_pd_leader_frame_size(void)
{
    return RS_FRAME_HEADER_SIZE + 4u;
}

void rs_pd_leader_encode(rs_node_id leader, uint8_t *out)
{
    rs_put_u32(out + RS_FRAME_HEADER_SIZE, leader);
    rs_frame_seal(out, RS_PD_MSG_LEADER, 4u);
}

/* The body of a frame of the given type and exact body size (NULL: damaged or another). */
static const uint8_t *fixed_body(const uint8_t *frame, size_t size, unsigned want, size_t body_size)
{
    unsigned type;
    struct rs_bytes body;
    if (rs_frame_decode(frame, size, &type, &body) != RS_OK || type != want ||
        body.size != body_size) {
        return NULL;
    }
    return body.data;
}

enum rs_err rs_pd_leader_decode(const uint8_t *frame, size_t size, rs_node_id *leader)
{
    const uint8_t *body = fixed_body(frame, size, RS_PD_MSG_LEADER, 4u);
    if (body == NULL) {
        return RS_ECORRUPT;
    }
    *leader = rs_get_u32(body);
    return RS_OK;
}

size_t rs_pd_route_get_frame_size(void)
{
    return RS_FRAME_HEADER_SIZE + 8u;
}

void rs_pd_route_get_encode(uint64_t request_id, uint8_t *out)
{
    rs_put_u64(out + RS_FRAME_HEADER_SIZE, request_id);
    rs_frame_seal(out, RS_PD_MSG_ROUTE_GET, 8u);
}

enum rs_err rs_pd_route_get_decode(const uint8_t *frame, size_t size, uint64_t *request_id)
{
    const uint8_t *body = fixed_body(frame, size, RS_PD_MSG_ROUTE_GET, 8u);
    if (body == NULL) {
        return RS_ECORRUPT;
    }
    *request_id = rs_get_u64(body);
    return RS_OK;
}

size_t rs_pd_region_record_size(const struct rs_pd_region *r)
{
    return record_size(r);
}

void rs_pd_region_record_encode(const struct rs_pd_region *r, uint8_t *out, size_t size)
{
    RS_ASSERT(region_fits(r) && size == record_size(r));
    struct rs_writer w;
    rs_writer_init(&w, out, size);
    write_record(&w, r);
    RS_ASSERT(!w.overflow && w.pos == size);
}

enum rs_err rs_pd_region_record_decode(const uint8_t *data, size_t size, struct rs_pd_region *r)
{
    struct rs_reader rd;
    rs_reader_init(&rd, data, size);
    if (!read_record(&rd, r) || rd.pos != rd.size) {
        return RS_ECORRUPT;
    }
    return RS_OK;
}

static size_t routes_body_size(const struct rs_pd_routes *routes)
{
    size_t size = 8u + 4u * 3u;
    for (uint32_t i = 0; i < routes->region_count && i < RS_PD_MSG_REGIONS_MAX; i++) {
        size += 4u + record_size(&routes->regions[i]);
    }
    return size;
}

size_t rs_pd_routes_frame_size(const struct rs_pd_routes *routes)
{
    return RS_FRAME_HEADER_SIZE + routes_body_size(routes);
}

enum rs_err rs_pd_routes_encode(const struct rs_pd_routes *routes, uint8_t *out, size_t cap,
                                size_t *written)
{
    if (routes->region_count > RS_PD_MSG_REGIONS_MAX ||
        routes->part_index >= routes->part_count) {
        return RS_EINVAL;
    }
    for (uint32_t i = 0; i < routes->region_count; i++) {
        if (!region_fits(&routes->regions[i])) {
            return RS_EINVAL;
        }
    }
    size_t body = routes_body_size(routes);
    if (cap < RS_FRAME_HEADER_SIZE + body) {
        return RS_ETOOBIG;
    }
    struct rs_writer w;
    rs_writer_init(&w, out + RS_FRAME_HEADER_SIZE, body);
    rs_w_u64(&w, routes->request_id);
    rs_w_u32(&w, routes->part_index);
    rs_w_u32(&w, routes->part_count);
    rs_w_u32(&w, routes->region_count);
    for (uint32_t i = 0; i < routes->region_count; i++) {
        rs_w_u32(&w, routes->regions[i].leader);
        write_record(&w, &routes->regions[i]);
    }
    RS_ASSERT(!w.overflow && w.pos == body);
    rs_frame_seal(out, RS_PD_MSG_ROUTES, body);
    *written = RS_FRAME_HEADER_SIZE + body;
    return RS_OK;
}

enum rs_err rs_pd_routes_decode(const uint8_t *frame, size_t size, struct rs_pd_routes *routes)
{
    unsigned type;
    struct rs_bytes body;
    routes->region_count = 0;
    if (rs_frame_decode(frame, size, &type, &body) != RS_OK || type != RS_PD_MSG_ROUTES) {
        return RS_ECORRUPT;
    }
    struct rs_reader rd;
    rs_reader_init(&rd, body.data, body.size);
    routes->request_id = rs_r_u64(&rd);
    routes->part_index = rs_r_u32(&rd);
    routes->part_count = rs_r_u32(&rd);
    uint32_t count = rs_r_u32(&rd);
    if (rd.error || count > RS_PD_MSG_REGIONS_MAX || routes->part_index >= routes->part_count) {
        return RS_ECORRUPT;
    }
    for (uint32_t i = 0; i < count; i++) {
        rs_node_id leader = rs_r_u32(&rd);
        if (!read_record(&rd, &routes->regions[i])) {
            return RS_ECORRUPT;
        }
        routes->regions[i].leader = leader;
    }
    if (rd.pos != rd.size) {
        return RS_ECORRUPT;
    }
    routes->region_count = count;
    return RS_OK;
}
