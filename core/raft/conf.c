/* Configurations: membership tests, joint majorities, encoding. */
#include "core/raft/conf.h"

#include "core/wire/codec.h"

#include <string.h>

static bool in_list(const rs_node_id *list, uint32_t count, rs_node_id id)
{
    for (uint32_t i = 0; i < count; i++) {
        if (list[i] == id) {
            return true;
        }
    }
    return false;
}

bool rs_conf_in_voters(const struct rs_conf *c, rs_node_id id)
{
    return in_list(c->voters, c->voter_count, id);
}

bool rs_conf_in_old_voters(const struct rs_conf *c, rs_node_id id)
{
    return in_list(c->old_voters, c->old_voter_count, id);
}

bool rs_conf_is_voter(const struct rs_conf *c, rs_node_id id)
{
    return rs_conf_in_voters(c, id) || rs_conf_in_old_voters(c, id);
}

bool rs_conf_is_learner(const struct rs_conf *c, rs_node_id id)
{
    return in_list(c->learners, c->learner_count, id);
}

bool rs_conf_is_member(const struct rs_conf *c, rs_node_id id)
{
    return rs_conf_is_voter(c, id) || rs_conf_is_learner(c, id);
}

static bool list_majority(const rs_node_id *list, uint32_t count, uint64_t ids)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < count; i++) {
        n += (ids >> list[i]) & 1u;
    }
    return n >= count / 2 + 1;
}

bool rs_conf_majority(const struct rs_conf *c, uint64_t ids)
{
    if (!list_majority(c->voters, c->voter_count, ids)) {
        return false;
    }
    return !rs_conf_joint(c) || list_majority(c->old_voters, c->old_voter_count, ids);
}

/* The (count/2 + 1)-th largest value among the list's voters. */
static uint64_t list_quorum_value(const rs_node_id *list, uint32_t count,
                                  const uint64_t value_of[RS_NODE_ID_MAX + 1])
{
    uint64_t v[RS_CONF_VOTERS_MAX];
    RS_ASSERT(count >= 1 && count <= RS_CONF_VOTERS_MAX);
    for (uint32_t i = 0; i < count; i++) {
        uint64_t x = value_of[list[i]];
        uint32_t j = i;
        while (j > 0 && v[j - 1] < x) { /* insertion sort, descending */
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
    return v[count / 2];
}

uint64_t rs_conf_quorum_value(const struct rs_conf *c, const uint64_t value_of[RS_NODE_ID_MAX + 1])
{
    uint64_t q = list_quorum_value(c->voters, c->voter_count, value_of);
    if (rs_conf_joint(c)) {
        uint64_t old = list_quorum_value(c->old_voters, c->old_voter_count, value_of);
        q = old < q ? old : q;
    }
    return q;
}

bool rs_conf_equal(const struct rs_conf *a, const struct rs_conf *b)
{
    uint8_t ea[RS_CONF_ENCODED_MAX], eb[RS_CONF_ENCODED_MAX];
    size_t na = rs_conf_encode(a, ea);
    size_t nb = rs_conf_encode(b, eb);
    return na == nb && memcmp(ea, eb, na) == 0;
}

static bool ids_valid(const rs_node_id *list, uint32_t count, uint64_t *seen)
{
    for (uint32_t i = 0; i < count; i++) {
        if (list[i] == 0 || list[i] > RS_NODE_ID_MAX || ((*seen >> list[i]) & 1u)) {
            return false;
        }
        *seen |= 1ull << list[i];
    }
    return true;
}

enum rs_err rs_conf_validate(const struct rs_conf *c)
{
    if (c->voter_count == 0 || c->voter_count > RS_CONF_VOTERS_MAX ||
        c->learner_count > RS_CONF_LEARNERS_MAX || c->old_voter_count > RS_CONF_VOTERS_MAX) {
        return RS_EINVAL;
    }
    uint64_t seen = 0;
    if (!ids_valid(c->voters, c->voter_count, &seen) ||
        !ids_valid(c->learners, c->learner_count, &seen)) {
        return RS_EINVAL;
    }
    uint64_t old_seen = 0;
    return ids_valid(c->old_voters, c->old_voter_count, &old_seen) ? RS_OK : RS_EINVAL;
}

size_t rs_conf_encode(const struct rs_conf *c, uint8_t out[RS_CONF_ENCODED_MAX])
{
    struct rs_writer w;
    rs_writer_init(&w, out, RS_CONF_ENCODED_MAX);
    rs_w_u8(&w, 1); /* version */
    rs_w_u8(&w, (uint8_t)c->voter_count);
    rs_w_u8(&w, (uint8_t)c->learner_count);
    rs_w_u8(&w, (uint8_t)c->old_voter_count);
    for (uint32_t i = 0; i < c->voter_count; i++) {
        rs_w_u32(&w, c->voters[i]);
    }
    for (uint32_t i = 0; i < c->learner_count; i++) {
        rs_w_u32(&w, c->learners[i]);
    }
    for (uint32_t i = 0; i < c->old_voter_count; i++) {
        rs_w_u32(&w, c->old_voters[i]);
    }
    RS_ASSERT(!w.overflow);
    return w.pos;
}

enum rs_err rs_conf_decode(struct rs_bytes data, struct rs_conf *c)
{
    struct rs_reader r;
    rs_reader_init(&r, data.data, data.size);
    memset(c, 0, sizeof *c);
    uint8_t version = rs_r_u8(&r);
    c->voter_count = rs_r_u8(&r);
    c->learner_count = rs_r_u8(&r);
    c->old_voter_count = rs_r_u8(&r);
    if (r.error || version != 1 || c->voter_count > RS_CONF_VOTERS_MAX ||
        c->learner_count > RS_CONF_LEARNERS_MAX || c->old_voter_count > RS_CONF_VOTERS_MAX) {
        return RS_ECORRUPT;
    }
    for (uint32_t i = 0; i < c->voter_count; i++) {
        c->voters[i] = rs_r_u32(&r);
    }
    for (uint32_t i = 0; i < c->learner_count; i++) {
        c->learners[i] = rs_r_u32(&r);
    }
    for (uint32_t i = 0; i < c->old_voter_count; i++) {
        c->old_voters[i] = rs_r_u32(&r);
    }
    if (r.error || r.pos != r.size) {
        return RS_ECORRUPT;
    }
    return rs_conf_validate(c) == RS_OK ? RS_OK : RS_ECORRUPT;
}
