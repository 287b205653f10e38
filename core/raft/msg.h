/* Raft message bodies and their codecs (framing and checksums are in core/wire/frame.h). */
#ifndef RS_CORE_RAFT_MSG_H
#define RS_CORE_RAFT_MSG_H

#include "core/base.h"
#include "core/out.h"

struct rs_vote_request {
    rs_node_id from;
    rs_term term;
    rs_index last_log_index;
    rs_term last_log_term;
    bool pre_vote;
};

struct rs_vote_response {
    rs_node_id from;
    rs_term term;
    bool granted;
    bool pre_vote;
};

/* Entries inside an append request are views into the received bytes. */
struct rs_wire_entry {
    rs_term term;
    uint8_t type;
    struct rs_bytes data;
};

#define RS_APPEND_ENTRIES_MAX 4096u

struct rs_append_request {
    rs_node_id from;
    rs_term term;
    rs_index prev_index;
    rs_term prev_term;
    rs_index commit_index;
    uint64_t seq;
    uint64_t read_seq;
    uint32_t entry_count;
    /* entries are decoded one by one with rs_append_next_entry */
    struct rs_bytes entry_bytes;
};

struct rs_append_response {
    rs_node_id from;
    rs_term term;
    bool success;
    rs_index match_index; /* success: durable match; failure: the follower's last index */
    uint64_t seq;
    uint64_t read_seq;
};

/* One chunk of a snapshot file, at offset, of a file of total_size bytes. */
struct rs_snapshot_request {
    rs_node_id from;
    rs_term term;
    rs_index last_index;
    rs_term last_term;
    uint64_t total_size;
    uint64_t offset;
    struct rs_bytes chunk;
};

/* done: the follower has the snapshot (installed now or earlier). Otherwise next_offset is
 * the offset it expects next (a resend point after a lost chunk or a crash). */
struct rs_snapshot_response {
    rs_node_id from;
    rs_term term;
    rs_index last_index;
    bool success; /* false: refused (stale term or an older snapshot than one in progress) */
    bool done;
    uint64_t next_offset;
};

/* The leader tells a caught-up follower to campaign now (leadership transfer). */
struct rs_timeout_now {
    rs_node_id from;
    rs_term term; /* the leader's term: only a follower of that term obeys */
};

/* A follower or learner asks the leader for a read index (one request covers a batch). */
struct rs_read_index_request {
    rs_node_id from;
    rs_term term;
    uint64_t request_id;
};

struct rs_read_index_response {
    rs_node_id from;
    rs_term term;
    uint64_t request_id;
    rs_index read_index; /* valid when err == RS_OK */
    enum rs_err err;
};

/* A follower or learner asks its leader to heartbeat again (hibernate.c); a replica that
 * restarted asks every voter, since it does not know which one leads. */
struct rs_wake_up {
    rs_node_id from;
    rs_term term;
};

/* Each encoder appends a sealed frame to out and queues it for `to`. */
void rs_msg_send_vote_request(struct rs_out *out, rs_node_id to, const struct rs_vote_request *m);
void rs_msg_send_vote_response(struct rs_out *out, rs_node_id to,
                               const struct rs_vote_response *m);
void rs_msg_send_append_response(struct rs_out *out, rs_node_id to,
                                 const struct rs_append_response *m);

/*
 * Append requests are built in place: begin reserves the header, add_entry appends entries,
 * finish seals the frame and queues it.
 */
struct rs_append_builder {
    size_t frame_offset;
    size_t body_start;
    uint32_t entry_count;
};
void rs_msg_append_begin(struct rs_out *out, struct rs_append_builder *b,
                         const struct rs_append_request *m);
void rs_msg_append_add_entry(struct rs_out *out, struct rs_append_builder *b, rs_term term,
                             uint8_t type, const uint8_t *data, uint32_t size);
void rs_msg_append_finish(struct rs_out *out, struct rs_append_builder *b, rs_node_id to);

void rs_msg_send_snapshot_request(struct rs_out *out, rs_node_id to,
                                  const struct rs_snapshot_request *m);
void rs_msg_send_snapshot_response(struct rs_out *out, rs_node_id to,
                                   const struct rs_snapshot_response *m);
enum rs_err rs_msg_decode_snapshot_request(struct rs_bytes body, struct rs_snapshot_request *m);
enum rs_err rs_msg_decode_snapshot_response(struct rs_bytes body,
                                            struct rs_snapshot_response *m);

void rs_msg_send_timeout_now(struct rs_out *out, rs_node_id to, const struct rs_timeout_now *m);
void rs_msg_send_read_index_request(struct rs_out *out, rs_node_id to,
                                    const struct rs_read_index_request *m);
void rs_msg_send_read_index_response(struct rs_out *out, rs_node_id to,
                                     const struct rs_read_index_response *m);
enum rs_err rs_msg_decode_timeout_now(struct rs_bytes body, struct rs_timeout_now *m);
enum rs_err rs_msg_decode_read_index_request(struct rs_bytes body,
                                             struct rs_read_index_request *m);
enum rs_err rs_msg_decode_read_index_response(struct rs_bytes body,
                                              struct rs_read_index_response *m);

/* A hibernate message is an append request without entries, under its own frame type. */
void rs_msg_send_hibernate(struct rs_out *out, rs_node_id to, const struct rs_append_request *m);
enum rs_err rs_msg_decode_hibernate(struct rs_bytes body, struct rs_append_request *m);
void rs_msg_send_wake_up(struct rs_out *out, rs_node_id to, const struct rs_wake_up *m);
enum rs_err rs_msg_decode_wake_up(struct rs_bytes body, struct rs_wake_up *m);

enum rs_err rs_msg_decode_vote_request(struct rs_bytes body, struct rs_vote_request *m);
enum rs_err rs_msg_decode_vote_response(struct rs_bytes body, struct rs_vote_response *m);
enum rs_err rs_msg_decode_append_request(struct rs_bytes body, struct rs_append_request *m);
enum rs_err rs_msg_decode_append_response(struct rs_bytes body, struct rs_append_response *m);
/* Iterates the entries of a decoded append request; *pos starts at 0. */
enum rs_err rs_append_next_entry(const struct rs_append_request *m, size_t *pos,
                                 struct rs_wire_entry *e);

#endif
