/* The Placement Driver service: keeps the view from heartbeats and sends the policies' orders. */
#include "core/pd/service.h"

#include <stdlib.h>
#include <string.h>

#define NONE ((size_t)-1)

enum rs_err rs_pd_service_init(struct rs_pd_service *s, const struct rs_pd_service_config *cfg,
                               uint64_t now_ns, char *message, size_t message_size)
{
    RS_ASSERT(s != NULL && cfg != NULL && cfg->policy != NULL);
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->cfg.policy = NULL; /* the caller's text is not kept */
    enum rs_err err =
        rs_pd_policy_create(cfg->policy, &cfg->params, &s->policy, message, message_size);
    if (err != RS_OK) {
        return err;
    }
    s->stores = calloc(RS_PD_SERVICE_STORES_MAX, sizeof *s->stores);
    s->store_seen_ns = calloc(RS_PD_SERVICE_STORES_MAX, sizeof *s->store_seen_ns);
    RS_ASSERT(s->stores != NULL && s->store_seen_ns != NULL);
    rs_out_init(&s->out);
    bool ticks = cfg->tick_ns > 0 && rs_pd_policy_uses_ticks(s->policy);
    s->next_tick_ns = ticks ? now_ns + cfg->tick_ns : UINT64_MAX;
    s->decide_from_ns = now_ns + cfg->warmup_ns;
    return RS_OK;
}

void rs_pd_service_free(struct rs_pd_service *s)
{
    for (size_t i = 0; i < s->region_count; i++) {
        free((void *)s->regions[i].start.data);
        free((void *)s->regions[i].end.data);
    }
    free(s->regions);
    free(s->stores);
    free(s->store_seen_ns);
    free(s->sent);
    free(s->scratch);
    rs_out_free(&s->out);
    if (s->policy != NULL) {
        rs_pd_policy_destroy(s->policy);
    }
    memset(s, 0, sizeof *s);
}

struct rs_pd_view rs_pd_service_view(const struct rs_pd_service *s)
{
    return (struct rs_pd_view){.stores = s->stores,
                               .store_count = s->store_count,
                               .regions = s->regions,
                               .region_count = s->region_count};
}

uint64_t rs_pd_service_deadline(const struct rs_pd_service *s)
{
    return s->next_tick_ns;
}

void rs_pd_service_clear_sent(struct rs_pd_service *s)
{
    s->sent_count = 0;
}

/* ---- the view ---- */

static size_t store_index(const struct rs_pd_service *s, rs_node_id id)
{
    size_t lo = 0, hi = s->store_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->stores[mid].id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* The store's entry, added (down, nothing known) when new; NONE when the view is full. */
static size_t store_get(struct rs_pd_service *s, rs_node_id id)
{
    RS_ASSERT(id != RS_NODE_NONE);
    size_t at = store_index(s, id);
    if (at < s->store_count && s->stores[at].id == id) {
        return at;
    }
    if (s->store_count == RS_PD_SERVICE_STORES_MAX) {
        return NONE;
    }
    size_t tail = s->store_count - at;
    memmove(s->stores + at + 1, s->stores + at, tail * sizeof *s->stores);
    memmove(s->store_seen_ns + at + 1, s->store_seen_ns + at, tail * sizeof *s->store_seen_ns);
    memset(&s->stores[at], 0, sizeof s->stores[at]);
    s->stores[at].id = id;
    s->store_seen_ns[at] = 0;
    s->store_count++;
    return at;
}

static size_t region_index(const struct rs_pd_service *s, uint64_t id)
{
    size_t lo = 0, hi = s->region_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->regions[mid].id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static struct rs_bytes bytes_copy(struct rs_bytes b)
{
    if (b.size == 0) {
        return (struct rs_bytes){NULL, 0};
    }
    uint8_t *p = malloc(b.size);
    RS_ASSERT(p != NULL);
    memcpy(p, b.data, b.size);
    return (struct rs_bytes){p, b.size};
}

static bool epoch_older(struct rs_region_epoch a, struct rs_region_epoch b)
{
    return a.version < b.version || (a.version == b.version && a.conf_ver < b.conf_ver);
}

/* Every peer of r has a store entry (so the view stays valid). */
static bool peers_known(struct rs_pd_service *s, const struct rs_pd_region *r)
{
    for (uint8_t i = 0; i < r->voter_count; i++) {
        if (store_get(s, r->voters[i]) == NONE) {
            return false;
        }
    }
    for (uint8_t i = 0; i < r->learner_count; i++) {
        if (store_get(s, r->learners[i]) == NONE) {
            return false;
        }
    }
    return true;
}

/* Takes one region heartbeat into the view; false when it is stale or does not fit. */
static bool region_take(struct rs_pd_service *s, const struct rs_pd_region *r)
{
    size_t at = region_index(s, r->id);
    bool known = at < s->region_count && s->regions[at].id == r->id;
    if (known && epoch_older(r->epoch, s->regions[at].epoch)) {
        s->stats.stale_regions++;
        return false;
    }
    if ((!known && s->region_count == RS_PD_SERVICE_REGIONS_MAX) || !peers_known(s, r)) {
        s->stats.dropped_regions++;
        return false;
    }
    if (!known) {
        if (s->region_count == s->region_cap) {
            s->region_cap = s->region_cap ? s->region_cap * 2 : 16;
            s->regions = realloc(s->regions, s->region_cap * sizeof *s->regions);
            RS_ASSERT(s->regions != NULL);
        }
        memmove(s->regions + at + 1, s->regions + at,
                (s->region_count - at) * sizeof *s->regions);
        memset(&s->regions[at], 0, sizeof s->regions[at]);
        s->region_count++;
    }
    struct rs_pd_region *v = &s->regions[at];
    bool changed = !known || !rs_region_epoch_equal(v->epoch, r->epoch);
    free((void *)v->start.data);
    free((void *)v->end.data);
    *v = *r;
    v->start = bytes_copy(r->start);
    v->end = bytes_copy(r->end);
    if (changed && s->cfg.region_changed != NULL) {
        s->cfg.region_changed(s->cfg.alloc_ctx, v);
    }
    return true;
}

bool rs_pd_service_load(struct rs_pd_service *s, const struct rs_pd_region *r)
{
    size_t at = region_index(s, r->id);
    if (at < s->region_count && s->regions[at].id == r->id &&
        !epoch_older(s->regions[at].epoch, r->epoch)) {
        return false;
    }
    rs_pd_region_changed_fn hook = s->cfg.region_changed;
    struct rs_pd_region plain = *r;
    plain.leader = RS_NODE_NONE;
    s->cfg.region_changed = NULL; /* it came from the store: nothing to save */
    bool taken = region_take(s, &plain);
    s->cfg.region_changed = hook;
    return taken;
}

static void store_take(struct rs_pd_service *s, size_t at, const struct rs_pd_store_stats *st,
                       uint64_t now_ns)
{
    struct rs_pd_store *p = &s->stores[at];
    p->up = true;
    p->region_count = st->region_count;
    p->leader_count = st->leader_count;
    p->key_count = st->key_count;
    p->size_bytes = st->size_bytes;
    p->read_qps = st->read_qps;
    p->write_qps = st->write_qps;
    s->store_seen_ns[at] = now_ns;
}

/* ---- sending ---- */

static void sent_push(struct rs_pd_service *s, rs_node_id to, const struct rs_pd_instruction *in)
{
    if (s->sent_count == s->sent_cap) {
        s->sent_cap = s->sent_cap ? s->sent_cap * 2 : 16;
        s->sent = realloc(s->sent, s->sent_cap * sizeof *s->sent);
        RS_ASSERT(s->sent != NULL);
    }
    s->sent[s->sent_count++] = (struct rs_pd_sent){.to = to, .instruction = *in};
}

/* One frame to one store with the given instructions (at most RS_PD_MSG_INSTRUCTIONS_MAX). */
static void send_frame(struct rs_pd_service *s, rs_node_id to,
                       const struct rs_pd_instructions *list)
{
    RS_ASSERT(list->count > 0 && list->count <= RS_PD_MSG_INSTRUCTIONS_MAX);
    size_t size = rs_pd_instructions_frame_size(list);
    size_t at = rs_out_reserve(&s->out, size);
    size_t written = 0;
    enum rs_err err = rs_pd_instructions_encode(list, rs_out_at(&s->out, at), size, &written);
    RS_ASSERT(err == RS_OK && written == size);
    rs_out_msg(&s->out, to, RS_PD_MSG_INSTRUCTIONS, at, size);
    for (uint32_t i = 0; i < list->count; i++) {
        sent_push(s, to, &list->items[i]);
    }
    s->stats.instructions_sent += list->count;
}

/* Splits get their new region id here; one without an id is dropped. */
static bool instruction_ready(struct rs_pd_service *s, struct rs_pd_instruction *in)
{
    if (in->kind != RS_PD_RANGE_SPLIT || in->new_region_id != 0) {
        return true;
    }
    in->new_region_id = s->cfg.alloc_region != NULL ? s->cfg.alloc_region(s->cfg.alloc_ctx) : 0;
    if (in->new_region_id == 0) {
        s->stats.splits_without_id++;
        return false;
    }
    return true;
}

/* The instructions whose destination is `to`, in the order given, in frames of up to
 * RS_PD_MSG_INSTRUCTIONS_MAX. */
static void send_to(struct rs_pd_service *s, rs_node_id to, struct rs_pd_instruction *items,
                    const rs_node_id *dest, size_t count)
{
    struct rs_pd_instructions list;
    list.count = 0;
    for (size_t i = 0; i < count; i++) {
        if (dest[i] != to || !instruction_ready(s, &items[i])) {
            continue;
        }
        list.items[list.count++] = items[i];
        if (list.count == RS_PD_MSG_INSTRUCTIONS_MAX) {
            send_frame(s, to, &list);
            list.count = 0;
        }
    }
    if (list.count > 0) {
        send_frame(s, to, &list);
    }
}

/* Sends each instruction to its store: one frame group per store, stores in first-use order. */
static void send_all(struct rs_pd_service *s, struct rs_pd_instruction *items,
                     const rs_node_id *dest, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        bool first = dest[i] != RS_NODE_NONE;
        for (size_t j = 0; j < i && first; j++) {
            first = dest[j] != dest[i];
        }
        if (first) {
            send_to(s, dest[i], items, dest, count);
        }
    }
}

enum rs_err rs_pd_service_order(struct rs_pd_service *s, struct rs_pd_instruction *in)
{
    size_t r = region_index(s, in->region_id);
    if (r == s->region_count || s->regions[r].id != in->region_id) {
        return RS_ENOTFOUND;
    }
    rs_node_id to = s->regions[r].leader;
    if (to == RS_NODE_NONE) {
        return RS_ENOTLEADER;
    }
    in->epoch = s->regions[r].epoch; /* an order is for the region as the view knows it now */
    if (!instruction_ready(s, in)) {
        return RS_EBUSY;
    }
    struct rs_pd_instructions list = {.count = 1};
    list.items[0] = *in;
    send_frame(s, to, &list);
    return RS_OK;
}

/* ---- events ---- */

static void heartbeat_answer(struct rs_pd_service *s, uint64_t now_ns, rs_node_id store_id,
                             const uint64_t *ids, size_t id_count)
{
    struct rs_pd_instruction items[RS_PD_SERVICE_BATCH_MAX];
    rs_node_id dest[RS_PD_SERVICE_BATCH_MAX];
    struct rs_pd_out out = {.items = items, .capacity = RS_PD_SERVICE_BATCH_MAX, .count = 0};
    struct rs_pd_view view = rs_pd_service_view(s);
    if (id_count == 0) {
        return; /* RheaKV sends region heartbeats for the regions a store leads: none here */
    }
    if (rs_pd_region_heartbeat(s->policy, &view, store_id, ids, id_count, now_ns, &out) !=
        RS_OK) {
        s->stats.policy_errors++;
        return;
    }
    for (size_t i = 0; i < out.count; i++) {
        dest[i] = store_id; /* RheaKV answers the heartbeat's sender */
    }
    send_all(s, items, dest, out.count);
}

void rs_pd_service_recv(struct rs_pd_service *s, uint64_t now_ns, rs_node_id from,
                        const uint8_t *frame, size_t size)
{
    (void)from;
    struct rs_pd_heartbeat *hb = malloc(sizeof *hb);
    RS_ASSERT(hb != NULL);
    if (rs_pd_heartbeat_decode(frame, size, hb) != RS_OK) {
        s->stats.corrupt_frames++;
        free(hb);
        return;
    }
    s->stats.heartbeats++;
    size_t at = store_get(s, hb->store.store_id);
    if (at == NONE) {
        s->stats.dropped_regions += hb->region_count;
        free(hb);
        return;
    }
    store_take(s, at, &hb->store, now_ns);
    uint64_t ids[RS_PD_MSG_REGIONS_MAX];
    size_t id_count = 0;
    for (uint32_t i = 0; i < hb->region_count; i++) {
        if (region_take(s, &hb->regions[i])) {
            ids[id_count++] = hb->regions[i].id;
        }
    }
    RS_ASSERT(rs_pd_view_check(&(struct rs_pd_view){s->stores, s->store_count, s->regions,
                                                    s->region_count}) == RS_OK);
    if (id_count > 0 && rs_pd_policy_uses_heartbeats(s->policy) && now_ns >= s->decide_from_ns) {
        heartbeat_answer(s, now_ns, hb->store.store_id, ids, id_count);
    }
    free(hb);
}

/* Stores silent for longer than the timeout are down: the policies move nothing onto them. */
static void stores_expire(struct rs_pd_service *s, uint64_t now_ns)
{
    if (s->cfg.store_timeout_ns == 0) {
        return;
    }
    for (size_t i = 0; i < s->store_count; i++) {
        if (s->stores[i].up && now_ns - s->store_seen_ns[i] > s->cfg.store_timeout_ns) {
            s->stores[i].up = false;
        }
    }
}

void rs_pd_service_tick(struct rs_pd_service *s, uint64_t now_ns)
{
    if (now_ns < s->next_tick_ns) {
        return;
    }
    RS_ASSERT(s->cfg.tick_ns > 0);
    s->next_tick_ns = now_ns + s->cfg.tick_ns;
    s->stats.ticks++;
    stores_expire(s, now_ns);
    struct rs_pd_instruction items[RS_PD_SERVICE_BATCH_MAX];
    rs_node_id dest[RS_PD_SERVICE_BATCH_MAX];
    struct rs_pd_out out = {.items = items, .capacity = RS_PD_SERVICE_BATCH_MAX, .count = 0};
    struct rs_pd_view view = rs_pd_service_view(s);
    if (now_ns < s->decide_from_ns) {
        return; /* warming up: the view is not whole yet */
    }
    if (rs_pd_tick(s->policy, &view, now_ns, &out) != RS_OK) {
        s->stats.policy_errors++;
        return;
    }
    for (size_t i = 0; i < out.count; i++) {
        size_t r = region_index(s, items[i].region_id);
        dest[i] = r < s->region_count && s->regions[r].id == items[i].region_id
                      ? s->regions[r].leader
                      : RS_NODE_NONE;
        s->stats.instructions_no_leader += dest[i] == RS_NODE_NONE;
    }
    send_all(s, items, dest, out.count);
}
