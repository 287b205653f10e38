/* Regions: a key range with its epoch, and the envelope that addresses a frame to one. */
#ifndef RS_CORE_STORE_REGION_H
#define RS_CORE_STORE_REGION_H

#include "core/base.h"
#include "core/wire/codec.h"

/* Boundary keys are bounded like any key (RS_KV_KEY_SIZE_MAX in core/kv/kv.h). */
#define RS_REGION_KEY_SIZE_MAX 1024u
#define RS_REGION_ID_NONE      0u

/*
 * A region's epoch (RheaKV's RegionEpoch): conf_ver grows with every membership change that
 * the region applies, version with every split. A request carries the epoch its sender knows;
 * a replica refuses one that does not match its own with RS_EEPOCH, so a client routing by a
 * stale table learns it and refreshes.
 */
struct rs_region_epoch {
    uint64_t conf_ver;
    uint64_t version;
};

/*
 * A region: the keys [start, end). An empty start is minus infinity and an empty end plus
 * infinity, so the first region of a store starts at "" and the last ends at "". The
 * boundaries are owned copies.
 */
struct rs_region {
    uint64_t id;
    struct rs_region_epoch epoch;
    uint8_t *start;
    size_t start_size;
    uint8_t *end;
    size_t end_size;
};

/* Sets id and the range [start, end) with epoch (1, 1), RheaKV's initial epoch. */
void rs_region_init(struct rs_region *r, uint64_t id, struct rs_bytes start, struct rs_bytes end);
void rs_region_free(struct rs_region *r);
void rs_region_copy(struct rs_region *dst, const struct rs_region *src);
/* Replaces the range (a split shrinks the parent). */
void rs_region_set_range(struct rs_region *r, struct rs_bytes start, struct rs_bytes end);
bool rs_region_contains(const struct rs_region *r, struct rs_bytes key);
/* Whether [start, end) lies in the region; an empty end is unbounded, an empty start "". */
bool rs_region_holds_range(const struct rs_region *r, struct rs_bytes start, struct rs_bytes end);
/*
 * Whether every key an operation touches lies in the region: its key, a list's keys, a range
 * [key, end_key), a lock's fencing key. A multi-key operation is atomic within one region
 * only: a replica refuses one that is not (RS_EKEYRANGE) and a client splits it. A list that
 * does not parse holds nothing.
 */
struct rs_kv_op;
bool rs_region_holds_op(const struct rs_region *r, const struct rs_kv_op *op);
/* Bytewise order; an empty end means plus infinity, an empty start minus infinity. */
int rs_key_compare(struct rs_bytes a, struct rs_bytes b);
static inline bool rs_region_epoch_equal(struct rs_region_epoch a, struct rs_region_epoch b)
{
    return a.conf_ver == b.conf_ver && a.version == b.version;
}

/*
 * The region as bytes (a node's snapshot starts with it):
 *   u64 id, u64 conf_ver, u64 version, u32 start_size, start, u32 end_size, end
 */
size_t rs_region_size(const struct rs_region *r);
void rs_region_write(struct rs_writer *w, const struct rs_region *r);
/* Reads into r (freeing what it held); sets rd->error when malformed. */
void rs_region_read(struct rs_reader *rd, struct rs_region *r);

/*
 * The envelope: every frame between stores, and between clients and stores, travels inside
 * one that names the region it is for. Its body is
 *   u64 region_id, u64 conf_ver, u64 version, the inner frame (header, body, checksum)
 * Raft messages and removal notices carry the sending replica's epoch (a receiver tells a
 * sender that missed its removal by it); a client request carries the epoch its routing
 * table holds; a store's response carries the region's epoch as the store knows it (0 for no
 * region).
 */
#define RS_ENVELOPE_BODY_HEADER_SIZE 24u
struct rs_envelope {
    uint64_t region_id;
    struct rs_region_epoch epoch;
    struct rs_bytes inner; /* a view of the inner frame */
};
/* The framed size of an envelope around an inner frame of inner_size bytes. */
size_t rs_envelope_size(size_t inner_size);
/*
 * Writes the envelope's frame header and fields at out; the inner frame must already be at
 * out + rs_envelope_inner_offset() (so nothing is copied). Returns the whole size.
 */
size_t rs_envelope_inner_offset(void);
size_t rs_envelope_seal(uint8_t *out, uint64_t region_id, struct rs_region_epoch epoch,
                        size_t inner_size);
/* RS_OK, or RS_ECORRUPT for a damaged frame, another type, or a short body. */
enum rs_err rs_envelope_decode(const uint8_t *frame, size_t size, struct rs_envelope *env);

#endif
