/* Instructions as text, and carried out on a view the way a store would carry them out. */
#include "core/pd/internal.h"

#include <stdio.h>
#include <string.h>

static const char *change_name(enum rs_pd_change change)
{
    switch (change) {
    case RS_PD_ADD_VOTER:
        return "add-voter";
    case RS_PD_ADD_LEARNER:
        return "add-learner";
    case RS_PD_REMOVE_PEER:
        return "remove-peer";
    case RS_PD_PROMOTE_LEARNER:
        return "promote-learner";
    }
    return "?";
}

int rs_pd_instruction_format(const struct rs_pd_instruction *in, char *text, size_t text_size)
{
    RS_ASSERT(in != NULL);
    RS_ASSERT(text != NULL || text_size == 0);
    const char *by = rs_pd_handler_name(in->handler_index);
    unsigned long long region = in->region_id;
    unsigned long long conf_ver = in->epoch.conf_ver, version = in->epoch.version;
    switch (in->kind) {
    case RS_PD_TRANSFER_LEADER:
        return snprintf(text, text_size,
                        "transfer-leader region=%llu epoch=%llu.%llu to=%u by=%s: %s", region,
                        conf_ver, version, (unsigned)in->store_id, by, in->reason);
    case RS_PD_RANGE_SPLIT:
        return snprintf(text, text_size,
                        "range-split region=%llu epoch=%llu.%llu new=%llu at=%s by=%s: %s",
                        region, conf_ver, version, (unsigned long long)in->new_region_id,
                        in->split_key.size == 0 ? "midpoint" : "key", by, in->reason);
    case RS_PD_CHANGE_PEER:
        return snprintf(text, text_size,
                        "change-peer %s region=%llu epoch=%llu.%llu store=%u by=%s: %s",
                        change_name(in->change), region, conf_ver, version,
                        (unsigned)in->store_id, by, in->reason);
    }
    return snprintf(text, text_size, "unknown instruction kind %d", (int)in->kind);
}

static void list_remove(rs_node_id *list, uint8_t *count, rs_node_id id)
{
    size_t kept = 0;
    for (size_t i = 0; i < *count; i++) {
        if (list[i] != id) {
            list[kept++] = list[i];
        }
    }
    RS_ASSERT(kept + 1 == *count);
    *count = (uint8_t)kept;
}

/* Keeps peer lists in ascending id, so views that went through the same changes are equal. */
static void list_insert(rs_node_id *list, uint8_t *count, rs_node_id id)
{
    RS_ASSERT(*count < RS_PD_PEERS_MAX);
    size_t at = *count;
    while (at > 0 && list[at - 1] > id) {
        list[at] = list[at - 1];
        at--;
    }
    list[at] = id;
    (*count)++;
}

static enum rs_err apply_transfer(struct rs_pd_view *v, struct rs_pd_region *r, uint32_t to)
{
    rs_node_id id = v->stores[to].id;
    if (!rs_pd__region_has_voter(r, id) || r->leader == id) {
        return RS_EINVAL;
    }
    uint32_t from = rs_pd__store_index(v, r->leader);
    if (from != RS_PD__NONE && v->stores[from].leader_count > 0) {
        v->stores[from].leader_count--;
    }
    v->stores[to].leader_count++;
    r->leader = id;
    return RS_OK;
}

static enum rs_err apply_change(struct rs_pd_view *v, struct rs_pd_region *r, uint32_t at,
                                enum rs_pd_change change)
{
    struct rs_pd_store *s = &v->stores[at];
    bool voter = rs_pd__region_has_voter(r, s->id);
    bool peer = rs_pd__region_has_peer(r, s->id);
    switch (change) {
    case RS_PD_ADD_VOTER:
    case RS_PD_ADD_LEARNER:
        if (peer) {
            return RS_EINVAL;
        }
        if (change == RS_PD_ADD_VOTER ? r->voter_count == RS_PD_PEERS_MAX
                                      : r->learner_count == RS_PD_PEERS_MAX) {
            return RS_EINVAL;
        }
        if (change == RS_PD_ADD_VOTER) {
            list_insert(r->voters, &r->voter_count, s->id);
        } else {
            list_insert(r->learners, &r->learner_count, s->id);
        }
        s->region_count++;
        break;
    case RS_PD_REMOVE_PEER:
        if (!peer || (voter && r->voter_count == 1)) {
            return RS_EINVAL;
        }
        if (voter) {
            list_remove(r->voters, &r->voter_count, s->id);
        } else {
            list_remove(r->learners, &r->learner_count, s->id);
        }
        if (r->leader == s->id) {
            /* A removed leader steps down; the PD learns the next one from a heartbeat. */
            r->leader = RS_NODE_NONE;
            s->leader_count = s->leader_count > 0 ? s->leader_count - 1 : 0;
        }
        s->region_count = s->region_count > 0 ? s->region_count - 1 : 0;
        break;
    case RS_PD_PROMOTE_LEARNER:
        if (!peer || voter || r->voter_count == RS_PD_PEERS_MAX) {
            return RS_EINVAL;
        }
        list_remove(r->learners, &r->learner_count, s->id);
        list_insert(r->voters, &r->voter_count, s->id);
        break;
    default:
        return RS_EINVAL;
    }
    r->epoch.conf_ver++;
    return RS_OK;
}

enum rs_err rs_pd_apply(struct rs_pd_view *view, const struct rs_pd_instruction *in)
{
    RS_ASSERT(in != NULL);
    if (rs_pd_view_check(view) != RS_OK) {
        return RS_EINVAL;
    }
    uint32_t region = rs_pd__region_index(view, in->region_id);
    uint32_t store = rs_pd__store_index(view, in->store_id);
    if (region == RS_PD__NONE || (in->kind != RS_PD_RANGE_SPLIT && store == RS_PD__NONE)) {
        return RS_ENOTFOUND;
    }
    struct rs_pd_region *r = &view->regions[region];
    if (!rs_region_epoch_equal(r->epoch, in->epoch)) {
        return RS_EEPOCH;
    }
    switch (in->kind) {
    case RS_PD_TRANSFER_LEADER:
        return apply_transfer(view, r, store);
    case RS_PD_CHANGE_PEER:
        return apply_change(view, r, store, in->change);
    case RS_PD_RANGE_SPLIT:
        return RS_EINVAL;
    }
    return RS_EINVAL;
}
