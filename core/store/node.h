/* A store node hosting one region replica: raft + KV state machine + client request service. */
#ifndef RS_CORE_STORE_NODE_H
#define RS_CORE_STORE_NODE_H

#include "core/base.h"
#include "core/kv/kv.h"
#include "core/out.h"
#include "core/raft/raft.h"

#define RS_NODE_PENDING_READS_MAX 4096u

/* A write proposed to raft, answered when its index is applied. */
struct rs_pending_write {
    rs_index index;
    rs_term term;
    rs_node_id client; /* network endpoint of the client */
    uint64_t request_id;
    uint64_t client_id;
    uint64_t seq;
};

/* A read waiting for its ReadIndex confirmation and then for apply to reach it. */
struct rs_pending_read {
    uint64_t cookie;
    rs_index read_index; /* 0 until confirmed */
    bool confirmed;
    rs_node_id client;
    uint64_t request_id;
    uint64_t client_id;
    uint64_t seq;
    uint8_t *request; /* a copy of the request frame: its op is decoded again when served */
    size_t request_size;
    uint64_t deadline_ns; /* a read served by a follower times out here (0: never) */
};

struct rs_node_stats {
    uint64_t requests;
    uint64_t corrupt_frames;
    uint64_t writes_answered;
    uint64_t reads_answered;
    uint64_t not_leader;
    uint64_t busy;
    uint64_t snapshots_loaded;
    uint64_t follower_reads;    /* gets a follower or learner accepted (cfg.follower_reads) */
    uint64_t reads_timed_out;   /* ... and answered RS_ETIMEDOUT */
};

struct rs_node {
    rs_node_id id;
    struct rs_raft raft;
    struct rs_kv kv;
    struct rs_out out;
    struct rs_pending_write *writes;
    size_t write_head, write_count, write_cap;
    struct rs_pending_read reads[RS_NODE_PENDING_READS_MAX];
    size_t read_count;
    uint64_t next_cookie;
    uint8_t *scratch; /* encoding buffer for commands and snapshots */
    size_t scratch_cap;
    uint64_t next_snapshot_ns; /* node-local time of the next snapshot by interval */
    bool snapshot_requested;
    struct rs_node_stats stats;
};

void rs_node_init(struct rs_node *n, const struct rs_raft_config *cfg);
void rs_node_free(struct rs_node *n);
enum rs_err rs_node_recover(struct rs_node *n, uint64_t now_ns, const struct rs_file_view *files,
                            size_t file_count);
/* A frame arrived from endpoint `from` (a peer or a client). */
void rs_node_recv(struct rs_node *n, uint64_t now_ns, rs_node_id from, const uint8_t *frame,
                  size_t size);
void rs_node_tick(struct rs_node *n, uint64_t now_ns);
void rs_node_disk_done(struct rs_node *n, uint64_t now_ns, uint64_t id, enum rs_err err);
/* Administrative commands (CliService): see rs_raft_change_conf and rs_raft_reset_conf. */
enum rs_err rs_node_change_conf(struct rs_node *n, uint64_t now_ns, const struct rs_conf *target);
enum rs_err rs_node_reset_conf(struct rs_node *n, uint64_t now_ns, const struct rs_conf *conf);
/* Leadership transfer (an administrative command): see rs_raft_transfer. */
enum rs_err rs_node_transfer(struct rs_node *n, uint64_t now_ns, rs_node_id target);
/* Takes a snapshot at the next opportunity (an administrative command). */
void rs_node_request_snapshot(struct rs_node *n);
/* Earliest node-local time at which rs_node_tick must run. */
uint64_t rs_node_deadline(const struct rs_node *n);

#endif
