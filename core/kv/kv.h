/* The ordered KV state machine of one region: the data, the client sessions, digest, snapshots. */
#ifndef RS_CORE_KV_KV_H
#define RS_CORE_KV_KV_H

#include "core/base.h"

/*
 * Limits with names. The codec refuses to encode past them and every decoder rejects them, so
 * the state machine never holds a key or value larger than these.
 */
#define RS_KV_KEY_SIZE_MAX   1024u
#define RS_KV_VALUE_SIZE_MAX (64u * 1024u)
/* Default bound of the session table; see rs_kv.session_count_max. */
#define RS_KV_SESSION_COUNT_MAX (1u << 16)

/*
 * Operation codes (RheaKV names). Codes are part of the log and wire formats: they are never
 * renumbered or reused, and a new operation takes the next free code. The planned assignment
 * for the rest of the RheaKV API is 7 multiGet, 8 containsKey, 9 scan, 10 reverseScan,
 * 11 batch put, 12 batch delete, 13 compareAndPutAll, 14 merge, 15 deleteRange,
 * 16 getSequence, 17 resetSequence, 18 lock, 19 unlock; codes from 64 on are left for
 * internal commands. Whether an operation writes is told by rs_kv_opcode_is_write, never by a
 * numeric range.
 */
enum rs_kv_opcode {
    RS_KV_GET = 1,
    RS_KV_PUT = 2,
    RS_KV_DELETE = 3,
    RS_KV_CAS = 4, /* compareAndPut */
    RS_KV_PUT_IF_ABSENT = 5,
    RS_KV_GET_AND_PUT = 6,
    RS_KV_OPCODE_MAX = 6 /* highest code this build knows */
};

/* One operation. All three slices are views the callee does not keep. */
struct rs_kv_op {
    uint8_t opcode;
    struct rs_bytes key;
    struct rs_bytes value;    /* put, cas (the new value), put_if_absent, get_and_put */
    struct rs_bytes expected; /* cas only: the value the key must hold now */
};

/*
 * The result of one operation.
 *   get           found, value = the current value
 *   put           success
 *   delete        success, found = whether the key existed
 *   cas           success iff the key exists and its value equals expected (a missing key
 *                 never matches); found = whether the key existed; no value
 *   put_if_absent success iff the key was absent; otherwise found and value = the existing value
 *   get_and_put   success, found and value = the previous value when there was one
 *
 * value is a view, never owned by the result. From rs_kv_apply and rs_kv_read it points into
 * the kv and stays valid until the next call that changes that kv (apply, snapshot load,
 * free). From a decoder it points into the decoded bytes; from the client into the client's
 * own buffer until its next call. value is NULL exactly when value_size is 0 or nothing was
 * found.
 */
struct rs_kv_result {
    bool success;
    bool found;
    const uint8_t *value;
    size_t value_size;
};

/*
 * The RB_HEAD layouts of sys/tree.h, spelled out so that this header does not need tree.h.
 * The nodes are private to kv.c.
 */
struct rs_kv_node;
struct rs_kv_session;
struct rs_kv_map {
    struct rs_kv_node *rbh_root;
};
struct rs_kv_session_map {
    struct rs_kv_session *rbh_root;
};
struct rs_kv_session_age {
    struct rs_kv_session *rbh_root;
};

/*
 * The state machine. Treat the fields as private and use the functions below; the struct is
 * public only so that the host can embed it.
 */
struct rs_kv {
    struct rs_kv_map map;                /* pairs ordered by key */
    struct rs_kv_session_map sessions;   /* sessions ordered by client id */
    struct rs_kv_session_age ages;       /* sessions ordered by (last index, client id) */
    uint64_t applied_index;
    uint64_t key_count;
    uint64_t key_bytes;
    uint64_t value_bytes;
    uint64_t session_count;
    /*
     * When the table is full a new client evicts the session used longest ago. Every replica
     * must use the same bound; rs_kv_init sets RS_KV_SESSION_COUNT_MAX, a host may lower it
     * (tests do) before the first apply.
     */
    uint64_t session_count_max;
    uint64_t pair_hash_sum;    /* sum of the hashes of every pair, mod 2^64 */
    uint64_t session_hash_sum; /* sum of the hashes of every session, mod 2^64 */
    /* Memory a result may still point into; freed by the next call that changes the kv. */
    struct rs_kv_node *retired_node;
    uint8_t *retired_value;
};

void rs_kv_init(struct rs_kv *kv);
void rs_kv_free(struct rs_kv *kv);

const char *rs_kv_opcode_name(unsigned opcode);
bool rs_kv_opcode_is_known(unsigned opcode);
bool rs_kv_opcode_is_write(unsigned opcode);
/* RS_OK, or RS_EINVAL (unknown opcode, a field the opcode does not use is set) or RS_ETOOBIG. */
enum rs_err rs_kv_op_validate(const struct rs_kv_op *op);

/*
 * Applies a command produced by rs_kv_cmd_encode as log entry `index` (greater than every index
 * applied before). Returns
 *   RS_OK       applied, or a retry of the client's last applied seq: *res is the saved result
 *               and nothing is applied again;
 *   RS_ESTALE   seq is below the client's last applied seq: no effect, *res cleared, the
 *               applied index still advances (the entry is consumed);
 *   RS_ECORRUPT the command bytes are malformed: no change at all, the index is not consumed;
 *   RS_ENOMEM   an allocation failed: no change at all.
 * client_id 0 skips the session table (internal commands).
 */
enum rs_err rs_kv_apply(struct rs_kv *kv, uint64_t index, struct rs_bytes command,
                        struct rs_kv_result *res);
/*
 * The same for an operation already decoded; when rs_kv_op_validate refuses the op, its error
 * (RS_EINVAL or RS_ETOOBIG) with no change at all.
 */
enum rs_err rs_kv_apply_op(struct rs_kv *kv, uint64_t index, uint64_t client_id, uint64_t seq,
                           const struct rs_kv_op *op, struct rs_kv_result *res);
/* Serves a read (get) without a log entry, as after ReadIndex. RS_EINVAL for a write. */
enum rs_err rs_kv_read(const struct rs_kv *kv, const struct rs_kv_op *op,
                       struct rs_kv_result *res);

/*
 * A digest of the whole state (pairs, sessions, applied index) in O(1): equal states give
 * equal digests whatever the history that built them.
 */
uint64_t rs_kv_digest(const struct rs_kv *kv);
uint64_t rs_kv_applied_index(const struct rs_kv *kv);
uint64_t rs_kv_key_count(const struct rs_kv *kv);
uint64_t rs_kv_key_bytes(const struct rs_kv *kv);
uint64_t rs_kv_value_bytes(const struct rs_kv *kv);
uint64_t rs_kv_session_count(const struct rs_kv *kv);

/*
 * Snapshots. The format (little endian): u32 magic "RSKS", u16 version, u16 reserved (0),
 * u64 applied_index, u64 pair_count, u64 session_count, then every pair in key order
 * (u32 key_size, key, u32 value_size, value), then every session in client order (u64
 * client_id, u64 last_seq, u64 last_index, u8 flags, u32 value_size, value), then u64
 * xxh64 of everything before it.
 */
size_t rs_kv_snapshot_size(const struct rs_kv *kv);
/* Writes the snapshot; returns its size, or 0 when buffer_size is smaller than that. */
size_t rs_kv_snapshot_write(const struct rs_kv *kv, uint8_t *buffer, size_t buffer_size);
/* Replaces the state with the snapshot. RS_ECORRUPT or RS_ENOMEM leave the kv unchanged. */
enum rs_err rs_kv_snapshot_load(struct rs_kv *kv, struct rs_bytes snapshot);

/*
 * A region split: every pair whose key is at or above split_key moves from `from` into `to`
 * (an empty kv), and `to` gets a copy of every session, so a client retrying a write on the
 * new region is still deduplicated. `to` starts at applied index to_index. RS_ENOMEM leaves
 * both unchanged.
 */
enum rs_err rs_kv_split(struct rs_kv *from, struct rs_bytes split_key, struct rs_kv *to,
                        uint64_t to_index);
/* The key at the middle of the key order (RheaKV splits at the key-count midpoint); false
 * with fewer than two keys. A view into the kv, valid until it changes. O(key count). */
bool rs_kv_middle_key(const struct rs_kv *kv, struct rs_bytes *key);

#endif
