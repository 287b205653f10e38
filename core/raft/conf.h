/* Raft configurations: voters, learners, and the old voters of a joint configuration. */
#ifndef RS_CORE_RAFT_CONF_H
#define RS_CORE_RAFT_CONF_H

#include "core/base.h"

#define RS_CONF_VOTERS_MAX   9u
#define RS_CONF_LEARNERS_MAX 7u
#define RS_NODE_ID_MAX       63u /* node ids index 64-bit sets */
#define RS_CONF_ENCODED_MAX  (4 + 4 * (2 * RS_CONF_VOTERS_MAX + RS_CONF_LEARNERS_MAX))

/* old_voter_count > 0 marks a joint configuration C_old,new: decisions need a majority of
 * voters and a majority of old_voters (Raft paper section 6). Learners never count. */
struct rs_conf {
    uint32_t voter_count;
    rs_node_id voters[RS_CONF_VOTERS_MAX];
    uint32_t learner_count;
    rs_node_id learners[RS_CONF_LEARNERS_MAX];
    uint32_t old_voter_count;
    rs_node_id old_voters[RS_CONF_VOTERS_MAX];
};

static inline bool rs_conf_joint(const struct rs_conf *c)
{
    return c->old_voter_count > 0;
}

bool rs_conf_in_voters(const struct rs_conf *c, rs_node_id id);
bool rs_conf_in_old_voters(const struct rs_conf *c, rs_node_id id);
/* A voter of either side of a joint configuration. */
bool rs_conf_is_voter(const struct rs_conf *c, rs_node_id id);
bool rs_conf_is_learner(const struct rs_conf *c, rs_node_id id);
bool rs_conf_is_member(const struct rs_conf *c, rs_node_id id);
/* Does the set of node ids (bit id set) hold a majority of voters (and of old voters)? */
bool rs_conf_majority(const struct rs_conf *c, uint64_t ids);
/* The highest value that a majority of voters (and of old voters) have reached, where
 * value_of(id) gives each voter's value. */
uint64_t rs_conf_quorum_value(const struct rs_conf *c, const uint64_t value_of[RS_NODE_ID_MAX + 1]);
bool rs_conf_equal(const struct rs_conf *a, const struct rs_conf *b);
/* Checks ids (1..RS_NODE_ID_MAX, no duplicates, learners not voters, at least one voter). */
enum rs_err rs_conf_validate(const struct rs_conf *c);

size_t rs_conf_encode(const struct rs_conf *c, uint8_t out[RS_CONF_ENCODED_MAX]);
enum rs_err rs_conf_decode(struct rs_bytes data, struct rs_conf *c);

#endif
