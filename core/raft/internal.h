/* Functions shared by the raft files; not part of the engine's public API. */
#ifndef RS_CORE_RAFT_INTERNAL_H
#define RS_CORE_RAFT_INTERNAL_H

#include "core/raft/msg.h"
#include "core/raft/raft.h"

/* raft.c */
uint64_t rs_raft__random(struct rs_raft *r);
struct rs_progress *rs_raft__progress(struct rs_raft *r, rs_node_id id);
/* Configuration bookkeeping (conf.c holds the pure parts). */
void rs_raft__conf_appended(struct rs_raft *r, rs_index index, const struct rs_entry *e);
void rs_raft__conf_truncated(struct rs_raft *r, rs_index index);
void rs_raft__conf_compacted(struct rs_raft *r);
void rs_raft__conf_reset(struct rs_raft *r, const struct rs_conf *base);
void rs_raft__peers_update(struct rs_raft *r);
struct rs_conf rs_raft__conf_at(const struct rs_raft *r, rs_index index);
/* The commit index moved: configuration changes take their next step. */
void rs_raft__commit_advanced(struct rs_raft *r);
void rs_raft__change_catchup(struct rs_raft *r);
void rs_raft__change_resume(struct rs_raft *r);
void rs_raft__change_abort(struct rs_raft *r);
void rs_raft__reset_election_timer(struct rs_raft *r);
void rs_raft__persist_meta(struct rs_raft *r);
/* Call after encoding messages: holds them back while a meta write is in flight. */
void rs_raft__sent(struct rs_raft *r, size_t msg_mark);
uint64_t rs_raft__disk(struct rs_raft *r, enum rs_disk_kind kind, const char *name,
                       enum rs_disk_purpose purpose, uint64_t value);
void rs_raft__become_follower(struct rs_raft *r, rs_term term, rs_node_id leader);
void rs_raft__become_leader(struct rs_raft *r);
void rs_raft__enter_error(struct rs_raft *r, enum rs_err err);
void rs_raft__truncate(struct rs_raft *r, rs_index index);
void rs_raft__truncate_unchecked(struct rs_raft *r, rs_index index);
void rs_raft__write_log(struct rs_raft *r);
void rs_raft__log_synced(struct rs_raft *r, rs_index index);
uint32_t rs_raft__segment_slot(const struct rs_raft *r, rs_index segment_first);

void rs_raft__track(struct rs_raft *r, uint64_t id);
void rs_raft__track_purpose(struct rs_raft *r, uint64_t id, enum rs_disk_purpose purpose,
                            uint64_t value);

/* snapshot.c */
void rs_raft__snapshot_recover(struct rs_raft *r, const struct rs_file_view *files, size_t count);
void rs_raft__snapshot_disk_done(struct rs_raft *r, enum rs_disk_purpose purpose);
void rs_raft__send_snapshot(struct rs_raft *r, struct rs_progress *p);
void rs_raft__recv_snapshot_request(struct rs_raft *r, const struct rs_snapshot_request *m);
void rs_raft__recv_snapshot_response(struct rs_raft *r, const struct rs_snapshot_response *m);

/* election.c */
void rs_raft__election_timeout(struct rs_raft *r);
void rs_raft__recv_vote_request(struct rs_raft *r, const struct rs_vote_request *m);
void rs_raft__recv_vote_response(struct rs_raft *r, const struct rs_vote_response *m);

/* replication.c */
void rs_raft__replicate(struct rs_raft *r, struct rs_progress *p);
void rs_raft__replicate_all(struct rs_raft *r);
void rs_raft__heartbeat_all(struct rs_raft *r);
void rs_raft__leader_tick(struct rs_raft *r);
void rs_raft__recv_append_response(struct rs_raft *r, const struct rs_append_response *m);
void rs_raft__maybe_commit(struct rs_raft *r);

/* recv_append.c */
void rs_raft__recv_append_request(struct rs_raft *r, const struct rs_append_request *m);
void rs_raft__send_durable_acks(struct rs_raft *r);

/* read.c */
void rs_raft__reads_confirm(struct rs_raft *r);
void rs_raft__reads_fail(struct rs_raft *r, enum rs_err err);

#endif
