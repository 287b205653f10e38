/* Tombstones: the regions a store destroyed its replica of, their file, and the removal notice. */
#ifndef RS_CORE_STORE_TOMBSTONE_H
#define RS_CORE_STORE_TOMBSTONE_H

#include "core/base.h"

/*
 * When a store destroys a region's replica (the region dropped it, see core/store/store.c) it
 * keeps a tombstone: the region's conf_ver at the removal, which tells stale messages (an
 * older conf_ver) from a leader adding the store back, and the destroyed replica's term: a
 * replica made again starts past it, so it never votes twice in a term.
 *
 * A tombstone is DESTROYED while the store holds no replica of the region, and REVIVED while a
 * replica made again has not yet applied the tombstone's conf_ver (until then its elections
 * are barred: it may hold an older state than the one destroyed). Then the tombstone goes.
 */
enum rs_tombstone_state { RS_TOMBSTONE_DESTROYED = 1, RS_TOMBSTONE_REVIVED = 2 };

struct rs_tombstone {
    uint64_t region_id;
    uint64_t conf_ver;
    rs_term term;  /* the destroyed replica's */
    uint8_t state; /* enum rs_tombstone_state */
};

/*
 * A store's tombstones, ordered by region id. Bounded: at RS_TOMBSTONES_MAX the lowest region
 * id gives way (losing a tombstone lets a stale leader's message make an empty replica again,
 * which waits for a snapshot and is destroyed again when it learns of its removal).
 */
#define RS_TOMBSTONES_MAX 65536u
struct rs_tombstones {
    struct rs_tombstone *items;
    size_t count, cap;
};

void rs_tombstones_init(struct rs_tombstones *t);
void rs_tombstones_free(struct rs_tombstones *t);
struct rs_tombstone *rs_tombstones_find(const struct rs_tombstones *t, uint64_t region_id);
/* Inserts, or replaces the region's tombstone. */
void rs_tombstones_put(struct rs_tombstones *t, const struct rs_tombstone *e);
/* Returns whether the region had one. */
bool rs_tombstones_drop(struct rs_tombstones *t, uint64_t region_id);

/*
 * The file, written whole to RS_TOMBSTONE_FILE_TMP, synced and renamed over RS_TOMBSTONE_FILE:
 *   u32 magic "RSTB", u16 version (1), u16 reserved (0), u32 count, u32 reserved (0),
 *   count x (u64 region_id, u64 conf_ver, u64 term, u8 state, 7 bytes of 0),
 *   u64 xxh64 of everything before it
 */
#define RS_TOMBSTONE_FILE     "tombstones"
#define RS_TOMBSTONE_FILE_TMP "tombstones.tmp"
size_t rs_tombstones_file_size(const struct rs_tombstones *t);
/* Writes exactly rs_tombstones_file_size bytes. */
void rs_tombstones_encode(const struct rs_tombstones *t, uint8_t *out, size_t size);
/* Replaces t's contents; RS_ECORRUPT (t emptied) for a damaged or malformed file. */
enum rs_err rs_tombstones_decode(struct rs_tombstones *t, const uint8_t *data, size_t size);

/*
 * The removal notice ("you are removed"): an inner frame of type RS_MSG_PEER_REMOVED in an
 * envelope that names the region and carries the sender's epoch. Its body names the replica
 * it is about: u32 peer, u32 reserved (0).
 */
#define RS_REMOVED_NOTICE_SIZE 32u /* the frame header and the body */
size_t rs_removed_notice_encode(uint8_t out[RS_REMOVED_NOTICE_SIZE], rs_node_id peer);
/* RS_ECORRUPT for a damaged frame, another type or a malformed body. */
enum rs_err rs_removed_notice_decode(struct rs_bytes inner, rs_node_id *peer);

#endif
