/* A Placement Driver node: its raft-replicated metadata store, and the service while it leads. */
#include "core/pd/server.h"

#include "core/kv/kv_cmd.h"
#include "core/pd/msg.h"
#include "core/wire/codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REGION_KEY_PREFIX      "region/"
#define REGION_KEY_PREFIX_SIZE 7u
#define REGION_KEY_SIZE        (REGION_KEY_PREFIX_SIZE + 8u)
#define REGION_ID_SEQUENCE     "region-id"

static void after(struct rs_pd_server *srv, uint64_t now_ns);

/*
 * Raft ids in the group are 1..member_count (raft ids stay below RS_NODE_ID_MAX, endpoints need
 * not): member i's endpoint is cfg.members[i - 1]. The store speaks raft ids; the server turns
 * them into endpoints on the way in and out.
 */
static rs_node_id raft_id_of(const struct rs_pd_server *srv, rs_node_id endpoint)
{
    for (uint32_t i = 0; i < srv->cfg.member_count; i++) {
        if (srv->cfg.members[i] == endpoint) {
            return i + 1;
        }
    }
    return RS_NODE_NONE;
}

static rs_node_id endpoint_of(const struct rs_pd_server *srv, rs_node_id raft_id)
{
    RS_ASSERT(raft_id >= 1 && raft_id <= srv->cfg.member_count);
    return srv->cfg.members[raft_id - 1];
}

/* ---- requests to its own store ---- */

static void *scratch(struct rs_pd_server *srv, size_t size)
{
    if (srv->scratch_cap < size) {
        srv->scratch_cap = size;
        srv->scratch = realloc(srv->scratch, size);
        RS_ASSERT(srv->scratch != NULL);
    }
    return srv->scratch;
}

/* Hands op to its own store as a client would; the answer comes back through the outbox. */
static void submit(struct rs_pd_server *srv, uint64_t now_ns, const struct rs_kv_op *op,
                   enum rs_pd_pending_kind kind)
{
    struct rs_node *n = rs_store_replica(&srv->store, RS_PD_SERVER_REGION_ID);
    if (n == NULL || srv->pending_count == RS_PD_SERVER_PENDING_MAX) {
        srv->stats.requests_failed++;
        return;
    }
    struct rs_kv_request req = {.client_id = srv->cfg.client_id,
                                .seq = ++srv->next_seq,
                                .request_id = ++srv->next_request_id,
                                .op = *op};
    size_t inner = rs_kv_request_frame_size(&req);
    size_t total = rs_envelope_size(inner);
    uint8_t *frame = scratch(srv, total);
    size_t written = 0;
    enum rs_err err =
        rs_kv_request_frame_encode(&req, frame + rs_envelope_inner_offset(), inner, &written);
    RS_ASSERT(err == RS_OK && written == inner);
    rs_envelope_seal(frame, RS_PD_SERVER_REGION_ID, n->region.epoch, inner);
    srv->pending[srv->pending_count++] =
        (struct rs_pd_pending){.request_id = req.request_id, .kind = kind};
    rs_store_recv(&srv->store, now_ns, srv->store.id, frame, total);
}

/* The pending request answered by resp, taken off the list (false: none, or a stale one). */
static bool pending_take(struct rs_pd_server *srv, uint64_t request_id,
                         enum rs_pd_pending_kind *kind)
{
    /* a linear search: a few requests are in flight, except while a new leader saves its view */
    for (uint32_t i = 0; i < srv->pending_count; i++) {
        if (srv->pending[i].request_id == request_id) {
            *kind = srv->pending[i].kind;
            srv->pending[i] = srv->pending[--srv->pending_count]; /* order does not matter */
            return true;
        }
    }
    return false;
}

static void own_answer(struct rs_pd_server *srv, const uint8_t *frame, size_t size)
{
    struct rs_envelope env;
    struct rs_kv_response resp;
    enum rs_pd_pending_kind kind;
    if (rs_envelope_decode(frame, size, &env) != RS_OK ||
        rs_kv_response_frame_decode(env.inner, &resp) != RS_OK ||
        !pending_take(srv, resp.request_id, &kind)) {
        return; /* an answer for a service that has stopped since */
    }
    bool ok = resp.status == RS_OK && resp.result.success;
    srv->stats.requests_failed += !ok;
    if (kind == RS_PD_PENDING_SAVE) {
        srv->stats.regions_saved += ok;
        return;
    }
    srv->ids_asked = false;
    if (ok) {
        srv->ids_next = srv->cfg.first_region_id + resp.result.seq_start;
        srv->ids_end = srv->cfg.first_region_id + resp.result.seq_end;
        srv->stats.id_blocks++;
    }
}

/* Answers addressed to the node itself leave the outbox and go to own_answer. */
static void take_own_answers(struct rs_pd_server *srv)
{
    struct rs_out *o = &srv->store.out;
    size_t kept = 0;
    for (size_t i = 0; i < o->msg_count; i++) {
        if (o->msgs[i].to == srv->store.id) {
            own_answer(srv, o->bytes + o->msgs[i].offset, o->msgs[i].size);
        } else {
            o->msgs[kept++] = o->msgs[i];
        }
    }
    o->msg_count = kept;
}

/* ---- the service's hooks ---- */

static uint64_t alloc_region(void *ctx)
{
    struct rs_pd_server *srv = ctx;
    if (srv->cfg.split_gate != NULL && !srv->cfg.split_gate(srv->cfg.split_gate_ctx)) {
        return 0;
    }
    return srv->ids_next < srv->ids_end ? srv->ids_next++ : 0;
}

static void region_key(uint64_t id, uint8_t out[REGION_KEY_SIZE])
{
    memcpy(out, REGION_KEY_PREFIX, REGION_KEY_PREFIX_SIZE);
    for (unsigned i = 0; i < 8; i++) {
        out[REGION_KEY_PREFIX_SIZE + i] = (uint8_t)(id >> (56 - 8 * i)); /* key order = id order */
    }
}

/* A descriptor with a new epoch is written to the group (RheaKV's updateRegionInfo). The
 * service calls this from inside the node's calls, whose time is srv->now_ns. */
static void region_changed(void *ctx, const struct rs_pd_region *r)
{
    struct rs_pd_server *srv = ctx;
    uint8_t key[REGION_KEY_SIZE];
    region_key(r->id, key);
    size_t size = rs_pd_region_record_size(r);
    uint8_t *value = malloc(size);
    RS_ASSERT(value != NULL);
    rs_pd_region_record_encode(r, value, size);
    struct rs_kv_op op = {.opcode = RS_KV_PUT,
                          .key = {key, sizeof key},
                          .value = {value, size}};
    submit(srv, srv->now_ns, &op, RS_PD_PENDING_SAVE);
    free(value);
}

/* ---- the service's life: it runs while the node leads ---- */

/* The stored descriptors into the new service's view, in key (= id) order. */
static void load_regions(struct rs_pd_server *srv, const struct rs_node *n)
{
    uint8_t start[REGION_KEY_SIZE + 1];
    size_t start_size = REGION_KEY_PREFIX_SIZE;
    memcpy(start, REGION_KEY_PREFIX, REGION_KEY_PREFIX_SIZE);
    static const uint8_t end[] = "region0"; /* '0' follows '/' */
    uint8_t *buffer = malloc(RS_KV_RESULT_BYTES_MAX);
    RS_ASSERT(buffer != NULL);
    for (bool more = true; more;) {
        struct rs_kv_op op = {.opcode = RS_KV_SCAN,
                              .key = {start, start_size},
                              .end_key = {end, sizeof end - 1}};
        struct rs_kv_result res;
        if (rs_kv_read_into(&n->kv, &op, buffer, RS_KV_RESULT_BYTES_MAX, &res) != RS_OK) {
            break;
        }
        struct rs_kv_iter it;
        struct rs_kv_entry e;
        rs_kv_entries_begin(&it, &res);
        struct rs_pd_region r;
        while (rs_kv_iter_next(&it, &e)) {
            if (rs_pd_region_record_decode(e.value.data, e.value.size, &r) == RS_OK) {
                srv->stats.regions_loaded += rs_pd_service_load(srv->service, &r);
            }
            if (e.key.size == REGION_KEY_SIZE) { /* go on just after the last key */
                memcpy(start, e.key.data, REGION_KEY_SIZE);
                start[REGION_KEY_SIZE] = 0;
                start_size = REGION_KEY_SIZE + 1;
            }
        }
        more = res.truncated && res.entry_count > 0;
    }
    free(buffer);
}

static void service_start(struct rs_pd_server *srv, uint64_t now_ns, const struct rs_node *n)
{
    struct rs_pd_service_config cfg = srv->cfg.service;
    cfg.id = srv->cfg.id;
    cfg.policy = srv->policy;
    cfg.alloc_region = alloc_region;
    cfg.alloc_ctx = srv;
    cfg.region_changed = region_changed;
    srv->service = malloc(sizeof *srv->service);
    RS_ASSERT(srv->service != NULL);
    enum rs_err err = rs_pd_service_init(srv->service, &cfg, now_ns, NULL, 0);
    RS_ASSERT(err == RS_OK); /* the host checked the policy's name */
    srv->service_term = n->raft.term;
    srv->stats.terms_led++;
    load_regions(srv, n);
}

static void service_stop(struct rs_pd_server *srv)
{
    rs_pd_service_free(srv->service);
    free(srv->service);
    srv->service = NULL;
    srv->ids_next = srv->ids_end = 0; /* a block may be in flight: its ids are lost */
    srv->ids_asked = false;
    srv->stats.requests_failed += srv->pending_count;
    srv->pending_count = 0;
}

static bool replica_ready(const struct rs_node *n)
{
    return n != NULL && n->raft.role == RS_LEADER &&
           n->raft.applied_index >= n->raft.term_start_index;
}

static void leadership(struct rs_pd_server *srv, uint64_t now_ns)
{
    const struct rs_node *n = rs_store_replica(&srv->store, RS_PD_SERVER_REGION_ID);
    bool ready = replica_ready(n);
    if (srv->service != NULL && (!ready || n->raft.term != srv->service_term)) {
        service_stop(srv);
    }
    if (ready && srv->service == NULL) {
        service_start(srv, now_ns, n);
    }
}

/* Asks for the next block of ids when half the one in hand is given. */
static void ids_refill(struct rs_pd_server *srv, uint64_t now_ns)
{
    if (srv->service == NULL || srv->ids_asked ||
        srv->ids_end - srv->ids_next >= RS_PD_SERVER_ID_BLOCK / 2) {
        return;
    }
    static const uint8_t key[] = REGION_ID_SEQUENCE;
    struct rs_kv_op op = {.opcode = RS_KV_GET_SEQUENCE,
                          .key = {key, sizeof key - 1},
                          .step = RS_PD_SERVER_ID_BLOCK};
    srv->ids_asked = true;
    submit(srv, now_ns, &op, RS_PD_PENDING_IDS);
}

/* Appends from's messages to `to` and empties from. */
static void out_append(struct rs_out *to, struct rs_out *from)
{
    for (size_t i = 0; i < from->msg_count; i++) {
        const struct rs_out_msg *m = &from->msgs[i];
        size_t at = rs_out_reserve(to, m->size);
        memcpy(rs_out_at(to, at), from->bytes + m->offset, m->size);
        rs_out_msg(to, m->to, m->type, at, m->size);
    }
    rs_out_clear(from);
}

/* The store's messages go to raft ids: now to endpoints. Then the server's own join them. */
static void out_finish(struct rs_pd_server *srv)
{
    struct rs_out *o = &srv->store.out;
    for (size_t i = 0; i < o->msg_count; i++) {
        o->msgs[i].to = endpoint_of(srv, o->msgs[i].to);
    }
    out_append(o, &srv->out);
}

/* The service's instruction frames join the node's outbox; what it sent, the node's list. */
static void service_flush(struct rs_pd_server *srv)
{
    struct rs_pd_service *s = srv->service;
    if (s == NULL) {
        return;
    }
    out_append(&srv->out, &s->out);
    for (size_t i = 0; i < s->sent_count; i++) {
        if (srv->sent_count == srv->sent_cap) {
            srv->sent_cap = srv->sent_cap ? srv->sent_cap * 2 : 16;
            srv->sent = realloc(srv->sent, srv->sent_cap * sizeof *srv->sent);
            RS_ASSERT(srv->sent != NULL);
        }
        srv->sent[srv->sent_count] = s->sent[i];
        /* the key's bytes stay with the service, which may stop before the host looks */
        srv->sent[srv->sent_count++].instruction.split_key.data = NULL;
    }
    rs_pd_service_clear_sent(s);
}

/* After every call: the service's output out, leadership followed, answers taken in. */
static void after(struct rs_pd_server *srv, uint64_t now_ns)
{
    srv->now_ns = now_ns;
    service_flush(srv);
    take_own_answers(srv);
    leadership(srv, now_ns);
    ids_refill(srv, now_ns);
    take_own_answers(srv); /* a refusal comes back at once */
    service_flush(srv);
    out_finish(srv);
    rs_store_untouch(&srv->store); /* the host runs no per-replica bookkeeping here */
}

/* ---- the public calls ---- */

enum rs_err rs_pd_server_init(struct rs_pd_server *srv, const struct rs_pd_server_config *cfg,
                              uint64_t now_ns, const struct rs_file_view *files, size_t file_count)
{
    RS_ASSERT(cfg->member_count >= 1 && cfg->member_count <= RS_PD_SERVER_NODES_MAX);
    RS_ASSERT(cfg->service.policy != NULL && strlen(cfg->service.policy) < sizeof srv->policy);
    memset(srv, 0, sizeof *srv);
    srv->cfg = *cfg;
    memcpy(srv->policy, cfg->service.policy, strlen(cfg->service.policy) + 1);
    srv->cfg.service.policy = NULL; /* the caller's text is not kept */
    rs_node_id self = raft_id_of(srv, cfg->id);
    RS_ASSERT(self != RS_NODE_NONE);
    struct rs_raft_config raft = cfg->raft;
    raft.id = self;
    raft.random_seed = cfg->random_seed;
    raft.priority_election = false; /* the scenario's priorities are the stores' */
    rs_store_init(&srv->store, &raft);
    rs_out_init(&srv->out);
    struct rs_region region;
    rs_region_init(&region, RS_PD_SERVER_REGION_ID, (struct rs_bytes){NULL, 0},
                   (struct rs_bytes){NULL, 0});
    struct rs_conf conf;
    memset(&conf, 0, sizeof conf);
    conf.voter_count = cfg->member_count;
    for (uint32_t i = 0; i < cfg->member_count; i++) {
        conf.voters[i] = i + 1;
    }
    struct rs_store_boot boot = {.region = &region, .conf = &conf, .raft = NULL};
    enum rs_err err = rs_store_recover(&srv->store, now_ns, &boot, 1, files, file_count);
    rs_region_free(&region);
    after(srv, now_ns);
    return err;
}

void rs_pd_server_clear_sent(struct rs_pd_server *srv)
{
    srv->sent_count = 0;
}

void rs_pd_server_free(struct rs_pd_server *srv)
{
    if (srv->service != NULL) {
        service_stop(srv);
    }
    rs_store_free(&srv->store);
    rs_out_free(&srv->out);
    free(srv->scratch);
    free(srv->sent);
    memset(srv, 0, sizeof *srv);
}

rs_node_id rs_pd_server_leader(const struct rs_pd_server *srv)
{
    if (srv->service != NULL) {
        return srv->cfg.id;
    }
    const struct rs_node *n = rs_store_replica(&srv->store, RS_PD_SERVER_REGION_ID);
    /* a leader not yet serving is not named: the asker would stop looking */
    bool other = n != NULL && n->raft.leader_id != RS_NODE_NONE &&
                 n->raft.leader_id != srv->store.id;
    return other ? endpoint_of(srv, n->raft.leader_id) : RS_NODE_NONE;
}

bool rs_pd_server_leads(const struct rs_pd_server *srv)
{
    return srv->service != NULL;
}

static void send_leader(struct rs_pd_server *srv, rs_node_id to)
{
    size_t size = rs_pd_leader_frame_size();
    size_t at = rs_out_reserve(&srv->out, size);
    rs_pd_leader_encode(rs_pd_server_leader(srv), rs_out_at(&srv->out, at));
    rs_out_msg(&srv->out, to, RS_PD_MSG_LEADER, at, size);
}

/* The view's regions as route parts (RheaKV's getRegionRouteTable), with their leaders. */
static void send_routes(struct rs_pd_server *srv, rs_node_id to, uint64_t request_id)
{
    struct rs_pd_view view = rs_pd_service_view(srv->service);
    struct rs_pd_routes *part = malloc(sizeof *part);
    RS_ASSERT(part != NULL);
    size_t parts = (view.region_count + RS_PD_MSG_REGIONS_MAX - 1) / RS_PD_MSG_REGIONS_MAX;
    part->request_id = request_id;
    part->part_count = parts > 0 ? (uint32_t)parts : 1;
    for (uint32_t p = 0; p < part->part_count; p++) {
        size_t first = (size_t)p * RS_PD_MSG_REGIONS_MAX;
        size_t left = view.region_count - first;
        part->part_index = p;
        part->region_count = (uint32_t)(left < RS_PD_MSG_REGIONS_MAX ? left : RS_PD_MSG_REGIONS_MAX);
        memcpy(part->regions, view.regions + first, part->region_count * sizeof part->regions[0]);
        size_t size = rs_pd_routes_frame_size(part);
        size_t at = rs_out_reserve(&srv->out, size);
        size_t written = 0;
        enum rs_err err = rs_pd_routes_encode(part, rs_out_at(&srv->out, at), size, &written);
        RS_ASSERT(err == RS_OK && written == size);
        rs_out_msg(&srv->out, to, RS_PD_MSG_ROUTES, at, size);
    }
    free(part);
    srv->stats.routes_answered++;
}

void rs_pd_server_recv(struct rs_pd_server *srv, uint64_t now_ns, rs_node_id from,
                       const uint8_t *frame, size_t size)
{
    srv->now_ns = now_ns;
    unsigned type = rs_pd_frame_type(frame, size);
    uint64_t request_id = 0;
    if (type == RS_PD_MSG_HEARTBEAT || type == RS_PD_MSG_ROUTE_GET) {
        if (srv->service == NULL) {
            srv->stats.redirects++;
            send_leader(srv, from); /* try the leader, if this node knows one */
        } else if (type == RS_PD_MSG_HEARTBEAT) {
            rs_pd_service_recv(srv->service, now_ns, from, frame, size);
            send_leader(srv, from); /* the acknowledgement */
        } else if (rs_pd_route_get_decode(frame, size, &request_id) == RS_OK) {
            send_routes(srv, from, request_id);
        }
    } else if (raft_id_of(srv, from) != RS_NODE_NONE) {
        rs_store_recv(&srv->store, now_ns, raft_id_of(srv, from), frame, size);
    } /* the group's store serves no one else */
    after(srv, now_ns);
}

void rs_pd_server_tick(struct rs_pd_server *srv, uint64_t now_ns)
{
    srv->now_ns = now_ns;
    if (now_ns >= rs_store_deadline(&srv->store)) {
        rs_store_tick(&srv->store, now_ns);
    }
    if (srv->service != NULL) {
        rs_pd_service_tick(srv->service, now_ns);
    }
    after(srv, now_ns);
}

void rs_pd_server_disk_done(struct rs_pd_server *srv, uint64_t now_ns, uint64_t id,
                            enum rs_err err)
{
    rs_store_disk_done(&srv->store, now_ns, id, err);
    after(srv, now_ns);
}

uint64_t rs_pd_server_deadline(const struct rs_pd_server *srv)
{
    uint64_t store = rs_store_deadline(&srv->store);
    uint64_t service = srv->service != NULL ? rs_pd_service_deadline(srv->service) : UINT64_MAX;
    return store < service ? store : service;
}

enum rs_err rs_pd_server_split(struct rs_pd_server *srv, uint64_t now_ns, uint64_t region_id,
                               struct rs_bytes key)
{
    if (srv->service == NULL) {
        return RS_ENOTLEADER;
    }
    srv->now_ns = now_ns;
    struct rs_pd_instruction in;
    memset(&in, 0, sizeof in);
    in.kind = RS_PD_RANGE_SPLIT;
    in.region_id = region_id;
    in.split_key = key;
    in.handler_index = UINT32_MAX; /* no handler: an operator's order */
    snprintf(in.reason, sizeof in.reason, "administrative split");
    enum rs_err err = rs_pd_service_order(srv->service, &in);
    after(srv, now_ns);
    return err;
}
