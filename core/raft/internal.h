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
void rs_raft__read_done(struct rs_raft *r, uint64_t cookie, rs_index index, enum rs_err err);
/* What a leader checks before any ReadIndex, local or forwarded: RS_OK or the refusal. */
enum rs_err rs_raft__leader_read_check(const struct rs_raft *r);

/* leadership.c: hooks tying transfer, priority, lease and follower reads into the replica */
void rs_raft__leadership_check_config(const struct rs_raft_config *cfg);
void rs_raft__leadership_free(struct rs_raft *r);
enum rs_err rs_raft__leadership_recv(struct rs_raft *r, rs_node_id from, unsigned type,
                                     struct rs_bytes body);
void rs_raft__leadership_tick(struct rs_raft *r);
void rs_raft__leadership_flush(struct rs_raft *r);
uint64_t rs_raft__leadership_deadline(const struct rs_raft *r);

/* transfer.c */
void rs_raft__transfer_tick(struct rs_raft *r);
void rs_raft__transfer_flush(struct rs_raft *r);
void rs_raft__recv_timeout_now(struct rs_raft *r, const struct rs_timeout_now *m);

/* election.c: campaign at once, skipping pre-vote (a TimeoutNow) */
void rs_raft__elect_self(struct rs_raft *r);

/* priority.c */
int32_t rs_raft__priority_of(const struct rs_raft *r, rs_node_id id);
/* At an election timeout with no live leader: may this node campaign now? */
bool rs_raft__priority_allows_election(struct rs_raft *r);

/* lease.c */
/* Starts a new read round (read_seq + 1) and remembers when it was sent. */
uint64_t rs_raft__read_round(struct rs_raft *r);
/* A heartbeat broadcast begins: in lease mode it is a new round. */
void rs_raft__lease_heartbeat(struct rs_raft *r);
/* A quorum acknowledged rounds up to seq: the lease restarts at that round's send time. */
void rs_raft__lease_confirmed(struct rs_raft *r, uint64_t seq);

/* forward.c */
enum rs_err rs_raft__forward_read(struct rs_raft *r, uint64_t cookie);
void rs_raft__forward_flush(struct rs_raft *r);
void rs_raft__forward_expire(struct rs_raft *r);
void rs_raft__recv_read_index_request(struct rs_raft *r, const struct rs_read_index_request *m);
void rs_raft__recv_read_index_response(struct rs_raft *r,
                                       const struct rs_read_index_response *m);
void rs_raft__remote_reads_confirm(struct rs_raft *r, uint64_t confirmed_seq);
void rs_raft__remote_reads_fail(struct rs_raft *r, enum rs_err err);

/* hibernate.c (every function is a no-op with cfg.hibernate off) */
/* Something happened that is not a heartbeat: a leader counts its idle rounds from zero and
 * wakes; a sleeping follower wakes and asks its leader to wake. */
void rs_raft__hib_activity(struct rs_raft *r);
/* The same for a proposal or a read: a leader wakes without heartbeats, since the entries or
 * the read round about to go out wake its followers (a wake costs no extra messages). */
void rs_raft__hib_activity_quiet(struct rs_raft *r);
/* Before and after a message is handled. */
void rs_raft__hib_before_recv(struct rs_raft *r, unsigned type);
void rs_raft__hib_after_recv(struct rs_raft *r);
/* The leader's heartbeat period is due: true when this round was a hibernate round (the
 * caller then sends no heartbeats). */
bool rs_raft__hib_heartbeat_round(struct rs_raft *r);
/* A successful append response from p carrying seq. */
void rs_raft__hib_ack(struct rs_raft *r, struct rs_progress *p, uint64_t seq);
void rs_raft__recv_hibernate(struct rs_raft *r, const struct rs_append_request *m);
void rs_raft__recv_wake_up(struct rs_raft *r, const struct rs_wake_up *m);
/* A follower's election timer fired: notes a leader that went silent, for the store. */
void rs_raft__hib_election_timeout(struct rs_raft *r);
/* After recovery: ask the voters to wake, so a sleeping leader heartbeats this replica. */
void rs_raft__hib_recovered(struct rs_raft *r);

#endif
