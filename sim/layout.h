/* Region layouts: the workload's key space cut into ranges, and replicas placed on stores. */
#ifndef RS_SIM_LAYOUT_H
#define RS_SIM_LAYOUT_H

#include "core/raft/conf.h"
#include "core/store/region.h"

/*
 * The workload's keys ("k0", "k1", ...; at least `regions` of them) in byte order, cut into
 * `regions` ranges of equal key counts; the first starts at "" and the last ends at "", so
 * the whole key space is covered. Region ids are 1..regions in key order. The caller frees
 * each region (rs_region_free) and the array.
 */
struct rs_region *rs_layout_split_keys(uint32_t key_count, uint32_t regions);
/*
 * Region i (0-based) gets `replicas` voters on consecutive stores starting at store
 * (i mod stores) + 1, wrapping: every store holds about regions * replicas / stores replicas
 * and leads none yet. confs has `regions` entries.
 */
void rs_layout_spread(struct rs_conf *confs, uint32_t regions, uint32_t stores,
                      uint32_t replicas);

#endif
