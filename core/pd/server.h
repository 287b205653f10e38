/* A Placement Driver node: one member of the replicated PD group (RheaKV's PlacementDriverServer). */
#ifndef RS_CORE_PD_SERVER_H
#define RS_CORE_PD_SERVER_H

#include "core/base.h"
#include "core/pd/service.h"
#include "core/store/store.h"

/*
 * RheaKV's PD is itself a RheaKV store: a raft group whose leader is the active PD and whose
 * state machine holds the metadata (DefaultMetadataStore). Here a PD node is a store hosting
 * one region, RS_PD_SERVER_REGION_ID over the whole key space, whose voters are the PD nodes,
 * plus the service (core/pd/service.c) that runs only on the node that leads that region:
 *
 * - the service starts once the node leads and has applied an entry of its own term (so its
 *   state machine holds everything committed before), with the region descriptors the group
 *   stored (keys "region/" + the id, 8 bytes big-endian, values rs_pd_region_record) and
 *   an empty store view that heartbeats fill; it stops when the node loses leadership;
 * - a descriptor with an epoch the view did not have is written to the group (put);
 * - region ids for splits come in blocks of RS_PD_SERVER_ID_BLOCK from a sequence in the group
 *   (getSequence "region-id"), TiKV's allocator: a block is committed before any of its ids is
 *   given, so no two leaders ever give the same id (a deposed leader's unused ids are lost);
 * - a node that does not lead answers heartbeats and route requests with the leader it knows
 *   (RS_PD_MSG_LEADER); the leader acknowledges each heartbeat the same way and answers route
 *   requests with its view (RS_PD_MSG_ROUTES).
 *
 * The service talks to its state machine as a client of its own store: requests go straight
 * into the store, answers addressed to the node itself are taken out of the store's outbox.
 * Inside the group, raft ids are 1..member_count (members[i] is raft id i + 1), so the group
 * works whatever the endpoints' numbers.
 * Sans-IO like a store: after every call the host drains store.out (messages and disk
 * operations, the service's instructions included) and reads service->sent for its trace.
 */
#define RS_PD_SERVER_NODES_MAX  7u
#define RS_PD_SERVER_REGION_ID  1u
#define RS_PD_SERVER_ID_BLOCK   8u
/* requests to its own store in flight (a descriptor write per region at most); more are
 * dropped, and counted in requests_failed */
#define RS_PD_SERVER_PENDING_MAX RS_PD_SERVICE_REGIONS_MAX

typedef bool (*rs_pd_split_gate_fn)(void *ctx); /* false: no new region now */

struct rs_pd_server_config {
    rs_node_id id; /* its endpoint, and its raft id in the group */
    rs_node_id members[RS_PD_SERVER_NODES_MAX];
    uint32_t member_count;
    struct rs_raft_config raft; /* timings and options; id, members and seed set from here */
    uint64_t random_seed;
    uint64_t client_id; /* its session in the group's store: unique per incarnation */
    struct rs_pd_service_config service; /* id, alloc_region and region_changed set here */
    uint64_t first_region_id; /* the sequence's 0 is this id (the boot regions' come before) */
    rs_pd_split_gate_fn split_gate; /* NULL: always open */
    void *split_gate_ctx;
};

struct rs_pd_server_stats {
    uint64_t terms_led;        /* times the service started */
    uint64_t regions_loaded;   /* descriptors read from the group when it started */
    uint64_t regions_saved;    /* descriptor writes acknowledged */
    uint64_t id_blocks;        /* region id blocks committed */
    uint64_t routes_answered;
    uint64_t redirects;        /* heartbeats and route requests answered with a leader hint */
    uint64_t requests_failed;  /* own requests refused (no longer leader) or dropped */
};

enum rs_pd_pending_kind { RS_PD_PENDING_SAVE = 1, RS_PD_PENDING_IDS = 2 };

struct rs_pd_pending {
    uint64_t request_id;
    enum rs_pd_pending_kind kind;
};

struct rs_pd_server {
    struct rs_pd_server_config cfg;
    char policy[128];
    struct rs_store store;
    struct rs_pd_service *service; /* NULL unless it leads */
    rs_term service_term;
    uint64_t ids_next, ids_end; /* the block of region ids in hand: [next, end) */
    bool ids_asked;
    uint64_t next_seq;
    uint64_t next_request_id;
    struct rs_pd_pending pending[RS_PD_SERVER_PENDING_MAX];
    uint32_t pending_count;
    uint8_t *scratch;
    size_t scratch_cap;
    struct rs_out out; /* the server's own messages, joined to store.out after every call */
    uint64_t now_ns; /* the time of the call under way (the service's hooks need it) */
    /* instructions sent since rs_pd_server_clear_sent (split keys: size only, no bytes) */
    struct rs_pd_sent *sent;
    size_t sent_count, sent_cap;
    struct rs_pd_server_stats stats;
};

/* Starts the node from its files (an empty list: a new node). cfg->service.policy must name a
 * valid policy (rs_pd_policy_parse). Returns the store's recovery error, if any. */
enum rs_err rs_pd_server_init(struct rs_pd_server *srv, const struct rs_pd_server_config *cfg,
                              uint64_t now_ns, const struct rs_file_view *files, size_t file_count);
void rs_pd_server_free(struct rs_pd_server *srv);
void rs_pd_server_recv(struct rs_pd_server *srv, uint64_t now_ns, rs_node_id from,
                       const uint8_t *frame, size_t size);
void rs_pd_server_tick(struct rs_pd_server *srv, uint64_t now_ns);
void rs_pd_server_disk_done(struct rs_pd_server *srv, uint64_t now_ns, uint64_t id,
                            enum rs_err err);
uint64_t rs_pd_server_deadline(const struct rs_pd_server *srv);
void rs_pd_server_clear_sent(struct rs_pd_server *srv);
/* Whether this node runs the service (it leads the group). */
bool rs_pd_server_leads(const struct rs_pd_server *srv);
/* The PD leader this node knows (itself when it leads; RS_NODE_NONE: unknown). */
rs_node_id rs_pd_server_leader(const struct rs_pd_server *srv);
/* An administrative split of a region at key (size 0: its middle): see rs_pd_service_order;
 * RS_ENOTLEADER also when this node does not lead the group. */
enum rs_err rs_pd_server_split(struct rs_pd_server *srv, uint64_t now_ns, uint64_t region_id,
                               struct rs_bytes key);

#endif
