/* The policy pipeline: handler registry, name parsing, view checks, rate limits, emitting. */
#include "core/pd/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_SIZE_MAX 64u

struct handler_def {
    const char *name;
    bool on_heartbeat;
    bool on_tick;
    rs_pd__handler_fn fn;
};

static const struct handler_def registry[] = {
    {"rhea-leader-balance", true, false, rs_pd__rhea_leader_balance},
    {"rhea-split-judge", true, false, rs_pd__rhea_split_judge},
    {"leader-count", false, true, rs_pd__leader_count},
    {"region-count", false, true, rs_pd__region_count},
    {"load", false, true, rs_pd__load},
    {"none", false, false, NULL},
};
#define REGISTRY_COUNT (sizeof registry / sizeof registry[0])

void rs_pd_params_default(struct rs_pd_params *params)
{
    RS_ASSERT(params != NULL);
    memset(params, 0, sizeof *params);
    params->heartbeat_instructions_max = 1;
    params->tick_instructions_max = 4;
    /* Half of RheaKV's 60 s heartbeat: a lost instruction is retried on the next one. */
    params->inflight_timeout_ns = 30 * RS_NS_PER_S;
    params->region_cooldown_ns = 0;
    params->least_keys_on_split = 10000;
    params->replica_count = 3;
    params->load_tolerance_ppm = 50000;
    params->load_min_qps = 10;
}

size_t rs_pd_handler_count(void)
{
    return REGISTRY_COUNT;
}

const char *rs_pd_handler_name(size_t index)
{
    return index < REGISTRY_COUNT ? registry[index].name : "?";
}

/* "known: a, b, c" appended at text[used]; snprintf truncates safely. */
static void append_known(char *text, size_t size, size_t used)
{
    for (size_t i = 0; i < REGISTRY_COUNT && used < size; i++) {
        int n = snprintf(text + used, size - used, "%s%s", i == 0 ? "; known: " : ", ",
                         registry[i].name);
        if (n < 0) {
            return;
        }
        used += (size_t)n;
    }
}

static enum rs_err parse_fail(char *message, size_t size, const char *what, const char *name,
                              size_t name_size)
{
    if (message != NULL && size > 0) {
        int n = snprintf(message, size, "%s \"%.*s\"", what, (int)name_size, name);
        if (n > 0 && (size_t)n < size) {
            append_known(message, size, (size_t)n);
        }
    }
    return RS_EINVAL;
}

static uint32_t registry_find(const char *name, size_t size)
{
    for (uint32_t i = 0; i < REGISTRY_COUNT; i++) {
        if (strlen(registry[i].name) == size && memcmp(registry[i].name, name, size) == 0) {
            return i;
        }
    }
    return RS_PD__NONE;
}

enum rs_err rs_pd_policy_parse(const char *names, uint32_t *handlers, size_t *handler_count,
                               char *message, size_t message_size)
{
    RS_ASSERT(handlers != NULL && handler_count != NULL);
    *handler_count = 0;
    if (message != NULL && message_size > 0) {
        message[0] = '\0';
    }
    if (names == NULL) {
        return parse_fail(message, message_size, "no policy name", "", 0);
    }
    const char *p = names;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t size = comma != NULL ? (size_t)(comma - p) : strlen(p);
        const char *name = p;
        while (size > 0 && (*name == ' ' || *name == '\t')) {
            name++;
            size--;
        }
        while (size > 0 && (name[size - 1] == ' ' || name[size - 1] == '\t')) {
            size--;
        }
        size_t shown = size < NAME_SIZE_MAX ? size : NAME_SIZE_MAX;
        uint32_t index = registry_find(name, size);
        if (size == 0) {
            return parse_fail(message, message_size, "empty policy name in", names,
                              strlen(names) < NAME_SIZE_MAX ? strlen(names) : NAME_SIZE_MAX);
        }
        if (index == RS_PD__NONE) {
            return parse_fail(message, message_size, "unknown policy", name, shown);
        }
        for (size_t i = 0; i < *handler_count; i++) {
            if (handlers[i] == index) {
                return parse_fail(message, message_size, "policy named twice:", name, shown);
            }
        }
        if (*handler_count == RS_PD_HANDLERS_MAX) {
            return parse_fail(message, message_size, "too many policies at", name, shown);
        }
        handlers[(*handler_count)++] = index;
        if (comma == NULL) {
            return RS_OK;
        }
        p = comma + 1;
    }
}

enum rs_err rs_pd_policy_create(const char *names, const struct rs_pd_params *params,
                                struct rs_pd_policy **policy, char *message, size_t message_size)
{
    RS_ASSERT(policy != NULL);
    RS_ASSERT(params != NULL);
    *policy = NULL;
    struct rs_pd_policy *p = calloc(1, sizeof *p);
    if (p == NULL) {
        return RS_ENOMEM;
    }
    enum rs_err err = rs_pd_policy_parse(names, p->handlers, &p->handler_count, message,
                                         message_size);
    if (err != RS_OK) {
        free(p);
        return err;
    }
    p->params = *params;
    *policy = p;
    return RS_OK;
}

static void scratch_free(struct rs_pd__scratch *s)
{
    free(s->a);
    free(s->b);
    free(s->c);
    free(s->d);
    free(s->e);
    free(s->led_start);
    free(s->led);
    free(s->used);
    memset(s, 0, sizeof *s);
}

void rs_pd_policy_destroy(struct rs_pd_policy *policy)
{
    if (policy == NULL) {
        return;
    }
    scratch_free(&policy->scratch);
    free(policy->moves);
    free(policy->reporters);
    free(policy);
}

void rs_pd_policy_reset(struct rs_pd_policy *policy)
{
    RS_ASSERT(policy != NULL);
    policy->move_count = 0;
    policy->reporter_count = 0;
}

static bool uses(const struct rs_pd_policy *policy, bool heartbeat)
{
    RS_ASSERT(policy != NULL);
    for (size_t i = 0; i < policy->handler_count; i++) {
        const struct handler_def *h = &registry[policy->handlers[i]];
        if (heartbeat ? h->on_heartbeat : h->on_tick) {
            return true;
        }
    }
    return false;
}

bool rs_pd_policy_uses_heartbeats(const struct rs_pd_policy *policy)
{
    return uses(policy, true);
}

bool rs_pd_policy_uses_ticks(const struct rs_pd_policy *policy)
{
    return uses(policy, false);
}

uint32_t rs_pd__store_index(const struct rs_pd_view *view, rs_node_id id)
{
    /* Store ids are usually 1..N: then the id names its slot and no search is needed. */
    if (id >= 1 && id <= view->store_count && view->stores[id - 1].id == id) {
        return id - 1;
    }
    size_t lo = 0, hi = view->store_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (view->stores[mid].id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < view->store_count && view->stores[lo].id == id ? (uint32_t)lo : RS_PD__NONE;
}

uint32_t rs_pd__region_index(const struct rs_pd_view *view, uint64_t id)
{
    size_t lo = 0, hi = view->region_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (view->regions[mid].id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < view->region_count && view->regions[lo].id == id ? (uint32_t)lo : RS_PD__NONE;
}

bool rs_pd__region_has_voter(const struct rs_pd_region *r, rs_node_id id)
{
    for (size_t i = 0; i < r->voter_count && i < RS_PD_PEERS_MAX; i++) {
        if (r->voters[i] == id) {
            return true;
        }
    }
    return false;
}

bool rs_pd__region_has_peer(const struct rs_pd_region *r, rs_node_id id)
{
    if (rs_pd__region_has_voter(r, id)) {
        return true;
    }
    for (size_t i = 0; i < r->learner_count && i < RS_PD_PEERS_MAX; i++) {
        if (r->learners[i] == id) {
            return true;
        }
    }
    return false;
}

/* Peers name known stores, none twice; the leader, when known, is a voter. */
static bool region_ok(const struct rs_pd_view *view, const struct rs_pd_region *r)
{
    if (r->voter_count > RS_PD_PEERS_MAX || r->learner_count > RS_PD_PEERS_MAX) {
        return false;
    }
    size_t peer_count = (size_t)r->voter_count + r->learner_count;
    for (size_t i = 0; i < peer_count; i++) {
        rs_node_id id = i < r->voter_count ? r->voters[i] : r->learners[i - r->voter_count];
        if (rs_pd__store_index(view, id) == RS_PD__NONE) {
            return false;
        }
        for (size_t j = 0; j < i; j++) {
            rs_node_id other =
                j < r->voter_count ? r->voters[j] : r->learners[j - r->voter_count];
            if (other == id) {
                return false;
            }
        }
    }
    return r->leader == RS_NODE_NONE || rs_pd__region_has_voter(r, r->leader);
}

enum rs_err rs_pd_view_check(const struct rs_pd_view *view)
{
    if (view == NULL || (view->store_count > 0 && view->stores == NULL) ||
        (view->region_count > 0 && view->regions == NULL)) {
        return RS_EINVAL;
    }
    if (view->store_count >= RS_PD__NONE || view->region_count >= RS_PD__NONE) {
        return RS_EINVAL;
    }
    for (size_t i = 0; i < view->store_count; i++) {
        if (view->stores[i].id == RS_NODE_NONE ||
            (i > 0 && view->stores[i].id <= view->stores[i - 1].id)) {
            return RS_EINVAL;
        }
    }
    for (size_t i = 0; i < view->region_count; i++) {
        const struct rs_pd_region *r = &view->regions[i];
        if (r->id == RS_REGION_ID_NONE || (i > 0 && r->id <= view->regions[i - 1].id) ||
            !region_ok(view, r)) {
            return RS_EINVAL;
        }
    }
    return RS_OK;
}

static bool grow(void **array, size_t count, size_t item_size)
{
    void *p = realloc(*array, (count > 0 ? count : 1) * item_size);
    if (p == NULL) {
        return false;
    }
    *array = p;
    return true;
}

static enum rs_err scratch_reserve(struct rs_pd__scratch *s, size_t stores, size_t regions)
{
    if (s->store_cap < stores + 1) {
        size_t n = stores + 1;
        if (!grow((void **)&s->a, n, sizeof *s->a) || !grow((void **)&s->b, n, sizeof *s->b) ||
            !grow((void **)&s->c, n, sizeof *s->c) || !grow((void **)&s->d, n, sizeof *s->d) ||
            !grow((void **)&s->e, n, sizeof *s->e) ||
            !grow((void **)&s->led_start, n, sizeof *s->led_start)) {
            return RS_ENOMEM;
        }
        s->store_cap = n;
    }
    if (s->region_cap < regions || s->region_cap == 0) {
        if (!grow((void **)&s->led, regions, sizeof *s->led) ||
            !grow((void **)&s->used, regions, sizeof *s->used)) {
            return RS_ENOMEM;
        }
        s->region_cap = regions > 0 ? regions : 1;
    }
    memset(s->used, 0, s->region_cap);
    return RS_OK;
}

static struct rs_pd__move *move_find(const struct rs_pd_policy *p, uint64_t region_id)
{
    size_t lo = 0, hi = p->move_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->moves[mid].region_id < region_id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < p->move_count && p->moves[lo].region_id == region_id ? &p->moves[lo] : NULL;
}

static uint64_t age_ns(uint64_t now_ns, uint64_t then_ns)
{
    return now_ns > then_ns ? now_ns - then_ns : 0;
}

/* Forgets moves older than both limits, and makes room for this call's new ones. */
static enum rs_err moves_prepare(struct rs_pd_policy *p, uint64_t now_ns, size_t budget)
{
    uint64_t keep_ns = p->params.inflight_timeout_ns > p->params.region_cooldown_ns
                           ? p->params.inflight_timeout_ns
                           : p->params.region_cooldown_ns;
    size_t kept = 0;
    for (size_t i = 0; i < p->move_count; i++) {
        if (age_ns(now_ns, p->moves[i].issued_ns) < keep_ns) {
            p->moves[kept++] = p->moves[i];
        }
    }
    p->move_count = kept;
    if (p->move_cap < kept + budget) {
        if (!grow((void **)&p->moves, kept + budget, sizeof *p->moves)) {
            return RS_ENOMEM;
        }
        p->move_cap = kept + budget;
    }
    return RS_OK;
}

bool rs_pd__region_free(const struct rs_pd__ctx *ctx, uint32_t region_index)
{
    RS_ASSERT(region_index < ctx->view->region_count);
    if (ctx->policy->scratch.used[region_index]) {
        return false;
    }
    const struct rs_pd_region *r = &ctx->view->regions[region_index];
    const struct rs_pd__move *m = move_find(ctx->policy, r->id);
    if (m == NULL) {
        return true;
    }
    uint64_t age = age_ns(ctx->now_ns, m->issued_ns);
    if (age < ctx->policy->params.region_cooldown_ns) {
        return false;
    }
    bool unchanged = rs_region_epoch_equal(m->epoch, r->epoch) && m->leader == r->leader;
    return !(unchanged && age < ctx->policy->params.inflight_timeout_ns);
}

bool rs_pd__move_inflight(const struct rs_pd__ctx *ctx, const struct rs_pd__move *m,
                          uint32_t *region_index)
{
    RS_ASSERT(m >= ctx->policy->moves && m < ctx->policy->moves + ctx->policy->move_count);
    uint32_t at = rs_pd__region_index(ctx->view, m->region_id);
    *region_index = at;
    if (at == RS_PD__NONE ||
        age_ns(ctx->now_ns, m->issued_ns) >= ctx->policy->params.inflight_timeout_ns) {
        return false;
    }
    const struct rs_pd_region *r = &ctx->view->regions[at];
    return rs_region_epoch_equal(m->epoch, r->epoch) && m->leader == r->leader;
}

static void move_record(struct rs_pd_policy *p, const struct rs_pd_region *r, uint64_t now_ns,
                        const struct rs_pd_instruction *in)
{
    struct rs_pd__move *m = move_find(p, r->id);
    if (m == NULL) {
        RS_ASSERT(p->move_count < p->move_cap);
        size_t at = 0;
        while (at < p->move_count && p->moves[at].region_id < r->id) {
            at++;
        }
        memmove(&p->moves[at + 1], &p->moves[at], (p->move_count - at) * sizeof *m);
        p->move_count++;
        m = &p->moves[at];
    }
    m->region_id = r->id;
    m->issued_ns = now_ns;
    m->epoch = r->epoch;
    m->leader = r->leader;
    m->then_remove = RS_NODE_NONE;
    m->kind = in->kind;
    m->change = in->change;
    m->store = in->store_id;
}

void rs_pd__note_then_remove(struct rs_pd__ctx *ctx, uint64_t region_id, rs_node_id store)
{
    struct rs_pd__move *m = move_find(ctx->policy, region_id);
    RS_ASSERT(m != NULL);
    m->then_remove = store;
}

rs_node_id rs_pd__then_remove(const struct rs_pd__ctx *ctx, uint64_t region_id)
{
    const struct rs_pd__move *m = move_find(ctx->policy, region_id);
    return m != NULL ? m->then_remove : RS_NODE_NONE;
}

bool rs_pd__emit(struct rs_pd__ctx *ctx, uint32_t region_index, struct rs_pd_instruction *in)
{
    RS_ASSERT(region_index < ctx->view->region_count);
    RS_ASSERT(rs_pd__region_free(ctx, region_index));
    if (ctx->budget == 0 || ctx->out->count >= ctx->out->capacity) {
        ctx->budget = 0;
        return false;
    }
    const struct rs_pd_region *r = &ctx->view->regions[region_index];
    in->region_id = r->id;
    in->epoch = r->epoch;
    in->handler_index = ctx->handler;
    ctx->out->items[ctx->out->count++] = *in;
    ctx->budget--;
    ctx->policy->scratch.used[region_index] = 1;
    move_record(ctx->policy, r, ctx->now_ns, in);
    return true;
}

void rs_pd__transfer(struct rs_pd_instruction *in, rs_node_id to)
{
    memset(in, 0, sizeof *in);
    in->kind = RS_PD_TRANSFER_LEADER;
    in->store_id = to;
}

void rs_pd__change(struct rs_pd_instruction *in, enum rs_pd_change change, rs_node_id store)
{
    memset(in, 0, sizeof *in);
    in->kind = RS_PD_CHANGE_PEER;
    in->change = change;
    in->store_id = store;
}

void rs_pd__count_leaders(struct rs_pd__ctx *ctx)
{
    const struct rs_pd_view *v = ctx->view;
    struct rs_pd__scratch *s = &ctx->policy->scratch;
    memset(s->a, 0, (v->store_count + 1) * sizeof *s->a);
    memset(s->led_start, 0, (v->store_count + 1) * sizeof *s->led_start);
    for (size_t i = 0; i < v->region_count; i++) {
        uint32_t at = rs_pd__store_index(v, v->regions[i].leader);
        if (at != RS_PD__NONE) {
            s->a[at]++;
        }
    }
    /* Counting sort: each store's led regions in ascending region id. */
    uint32_t total = 0;
    for (size_t i = 0; i < v->store_count; i++) {
        s->led_start[i] = total;
        total += (uint32_t)s->a[i];
        s->c[i] = s->led_start[i];
    }
    s->led_start[v->store_count] = total;
    for (size_t i = 0; i < v->region_count; i++) {
        uint32_t at = rs_pd__store_index(v, v->regions[i].leader);
        if (at != RS_PD__NONE) {
            s->led[s->c[at]++] = (uint32_t)i;
        }
    }
    RS_ASSERT(v->store_count == 0 || s->c[v->store_count - 1] == total);
}

void rs_pd__count_replicas(struct rs_pd__ctx *ctx)
{
    const struct rs_pd_view *v = ctx->view;
    struct rs_pd__scratch *s = &ctx->policy->scratch;
    memset(s->a, 0, (v->store_count + 1) * sizeof *s->a);
    for (size_t i = 0; i < v->region_count; i++) {
        const struct rs_pd_region *r = &v->regions[i];
        for (size_t j = 0; j < r->voter_count; j++) {
            s->a[rs_pd__store_index(v, r->voters[j])]++;
        }
        for (size_t j = 0; j < r->learner_count; j++) {
            s->a[rs_pd__store_index(v, r->learners[j])]++;
        }
    }
}

static enum rs_err reporter_add(struct rs_pd_policy *p, rs_node_id id)
{
    size_t at = 0;
    while (at < p->reporter_count && p->reporters[at] < id) {
        at++;
    }
    if (at < p->reporter_count && p->reporters[at] == id) {
        return RS_OK;
    }
    if (p->reporter_count == p->reporter_cap) {
        size_t cap = p->reporter_cap * 2 + 8;
        if (!grow((void **)&p->reporters, cap, sizeof *p->reporters)) {
            return RS_ENOMEM;
        }
        p->reporter_cap = cap;
    }
    memmove(&p->reporters[at + 1], &p->reporters[at],
            (p->reporter_count - at) * sizeof *p->reporters);
    p->reporters[at] = id;
    p->reporter_count++;
    return RS_OK;
}

static enum rs_err call_begin(struct rs_pd__ctx *ctx, struct rs_pd_policy *policy,
                              const struct rs_pd_view *view, uint64_t now_ns,
                              struct rs_pd_out *out, uint32_t budget)
{
    RS_ASSERT(policy != NULL);
    RS_ASSERT(out != NULL);
    out->count = 0;
    memset(ctx, 0, sizeof *ctx);
    enum rs_err err = rs_pd_view_check(view);
    if (err != RS_OK) {
        return err;
    }
    if (out->capacity > 0 && out->items == NULL) {
        return RS_EINVAL;
    }
    ctx->policy = policy;
    ctx->view = view;
    ctx->now_ns = now_ns;
    ctx->out = out;
    ctx->budget = budget < out->capacity ? budget : out->capacity;
    err = scratch_reserve(&policy->scratch, view->store_count, view->region_count);
    if (err != RS_OK) {
        return err;
    }
    return moves_prepare(policy, now_ns, ctx->budget);
}

static void run_pipeline(struct rs_pd__ctx *ctx, bool heartbeat)
{
    const struct rs_pd_policy *p = ctx->policy;
    for (size_t i = 0; i < p->handler_count && ctx->budget > 0; i++) {
        const struct handler_def *h = &registry[p->handlers[i]];
        if (heartbeat ? h->on_heartbeat : h->on_tick) {
            ctx->handler = p->handlers[i];
            h->fn(ctx);
        }
    }
}

enum rs_err rs_pd_region_heartbeat(struct rs_pd_policy *policy, const struct rs_pd_view *view,
                                   rs_node_id store_id, const uint64_t *region_ids,
                                   size_t region_id_count, uint64_t now_ns,
                                   struct rs_pd_out *out)
{
    struct rs_pd__ctx ctx;
    enum rs_err err = call_begin(&ctx, policy, view, now_ns, out,
                                 policy->params.heartbeat_instructions_max);
    if (err != RS_OK) {
        return err;
    }
    if (rs_pd__store_index(view, store_id) == RS_PD__NONE ||
        (region_id_count > 0 && region_ids == NULL)) {
        return RS_EINVAL;
    }
    /* The caller put the heartbeat into the view: the sender leads every region it names. */
    for (size_t i = 0; i < region_id_count; i++) {
        uint32_t at = rs_pd__region_index(view, region_ids[i]);
        if (at == RS_PD__NONE || view->regions[at].leader != store_id) {
            return RS_EINVAL;
        }
    }
    err = reporter_add(policy, store_id);
    if (err != RS_OK) {
        return err;
    }
    ctx.from = store_id;
    ctx.region_ids = region_ids;
    ctx.region_id_count = region_id_count;
    run_pipeline(&ctx, true);
    return RS_OK;
}

enum rs_err rs_pd_tick(struct rs_pd_policy *policy, const struct rs_pd_view *view,
                       uint64_t now_ns, struct rs_pd_out *out)
{
    struct rs_pd__ctx ctx;
    enum rs_err err =
        call_begin(&ctx, policy, view, now_ns, out, policy->params.tick_instructions_max);
    if (err != RS_OK) {
        return err;
    }
    run_pipeline(&ctx, false);
    return RS_OK;
}
