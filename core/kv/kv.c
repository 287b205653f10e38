/* The ordered KV state machine: a red-black tree of pairs plus the exactly-once session table. */
#include "core/kv/kv.h"

#include "core/kv/kv_cmd.h"
#include "core/wire/codec.h"

#include <bsd/sys/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* Seeds keep the pair and session hashes apart so one can never cancel the other. */
#define PAIR_HASH_SEED    0x7273506169720001ull
#define SESSION_HASH_SEED 0x7273536573730002ull
#define DIGEST_SEED       0x7273446967730003ull

#define SNAPSHOT_MAGIC              0x534b5352u /* "RSKS" */
#define SNAPSHOT_VERSION            2u
#define SNAPSHOT_HEADER_SIZE        32u
#define SNAPSHOT_TRAILER_SIZE       8u
#define SNAPSHOT_PAIR_FIXED_SIZE    9u
#define SNAPSHOT_PAIR_FIXED_SIZE_V1 8u
#define SNAPSHOT_SESSION_FIXED_SIZE 29u

struct rs_kv_node {
    RB_ENTRY(rs_kv_node) entry;
    uint8_t space; /* enum rs_kv_space */
    const uint8_t *key; /* points just past the node, where the key bytes live */
    uint8_t *value;     /* NULL when value_size is 0 */
    uint32_t key_size;
    uint32_t value_size;
    uint64_t pair_hash;
};

/* One client's session: its last applied seq and the result that seq produced. */
struct rs_kv_session {
    RB_ENTRY(rs_kv_session) by_client;
    RB_ENTRY(rs_kv_session) by_age;
    uint64_t client_id;
    uint64_t last_seq;
    uint64_t last_index;
    uint64_t session_hash;
    bool success;
    bool found;
    uint8_t *value; /* NULL when value_size is 0 */
    uint32_t value_size;
    uint64_t numbers[6]; /* the result's numbers, in their wire order (kv_cmd.h) */
};

/* Byte strings compare as memcmp over the common prefix, then the shorter one first. */
static int bytes_compare(const uint8_t *a, size_t a_size, const uint8_t *b, size_t b_size)
{
    size_t common = a_size < b_size ? a_size : b_size;
    int c = common > 0 ? memcmp(a, b, common) : 0;
    if (c != 0) {
        return c < 0 ? -1 : 1;
    }
    return a_size < b_size ? -1 : (a_size > b_size ? 1 : 0);
}

/* Pairs are ordered by space, then key: each space is one contiguous, ordered run. */
static int node_compare(const struct rs_kv_node *a, const struct rs_kv_node *b)
{
    if (a->space != b->space) {
        return a->space < b->space ? -1 : 1;
    }
    return bytes_compare(a->key, a->key_size, b->key, b->key_size);
}

static int session_compare_client(const struct rs_kv_session *a, const struct rs_kv_session *b)
{
    return a->client_id < b->client_id ? -1 : (a->client_id > b->client_id ? 1 : 0);
}

static int session_compare_age(const struct rs_kv_session *a, const struct rs_kv_session *b)
{
    if (a->last_index != b->last_index) {
        return a->last_index < b->last_index ? -1 : 1;
    }
    return session_compare_client(a, b);
}

/* tree.h's own *_STATIC variants need BSD's __unused, which strict C11 lacks. */
RB_GENERATE_INTERNAL(rs_kv_map, rs_kv_node, entry, node_compare, __attribute__((unused)) static)
RB_GENERATE_INTERNAL(rs_kv_session_map, rs_kv_session, by_client, session_compare_client,
                     __attribute__((unused)) static)
RB_GENERATE_INTERNAL(rs_kv_session_age, rs_kv_session, by_age, session_compare_age,
                     __attribute__((unused)) static)

/* The space moves the seed, so equal bytes in two spaces hash apart (data keys as before). */
static uint64_t pair_hash(uint8_t space, struct rs_bytes key, struct rs_bytes value)
{
    return XXH64(value.data, value.size, XXH64(key.data, key.size, PAIR_HASH_SEED + space));
}

static void numbers_from_result(const struct rs_kv_result *res, uint64_t *numbers)
{
    numbers[0] = res->seq_start;
    numbers[1] = res->seq_end;
    numbers[2] = res->lock_owner;
    numbers[3] = res->lock_token;
    numbers[4] = res->lock_remaining_ms;
    numbers[5] = res->lock_acquires;
}

static void numbers_to_result(const uint64_t *numbers, struct rs_kv_result *res)
{
    res->seq_start = numbers[0];
    res->seq_end = numbers[1];
    res->lock_owner = numbers[2];
    res->lock_token = numbers[3];
    res->lock_remaining_ms = numbers[4];
    res->lock_acquires = numbers[5];
}

static uint64_t session_hash(const struct rs_kv_session *s)
{
    uint8_t fixed[25 + 48];
    rs_put_u64(fixed, s->client_id);
    rs_put_u64(fixed + 8, s->last_seq);
    rs_put_u64(fixed + 16, s->last_index);
    rs_put_u8(fixed + 24, (uint8_t)((s->success ? 1u : 0u) | (s->found ? 2u : 0u)));
    for (int i = 0; i < 6; i++) {
        rs_put_u64(fixed + 25 + 8 * i, s->numbers[i]);
    }
    return XXH64(s->value, s->value_size, XXH64(fixed, sizeof fixed, SESSION_HASH_SEED));
}

static void node_free(struct rs_kv_node *node)
{
    if (node != NULL) {
        free(node->value);
        free(node);
    }
}

static void session_free(struct rs_kv_session *s)
{
    if (s != NULL) {
        free(s->value);
        free(s);
    }
}

/* Copies size bytes into a new buffer; a zero size needs none. False when malloc fails. */
static bool bytes_dup(const uint8_t *data, size_t size, uint8_t **out)
{
    *out = NULL;
    if (size == 0) {
        return true;
    }
    *out = malloc(size);
    if (*out == NULL) {
        return false;
    }
    memcpy(*out, data, size);
    return true;
}

static struct rs_kv_node *node_alloc(uint8_t space, struct rs_bytes key, struct rs_bytes value)
{
    RS_ASSERT(key.size <= RS_KV_KEY_SIZE_MAX);
    RS_ASSERT(value.size <= RS_KV_VALUE_SIZE_MAX);
    struct rs_kv_node *node = malloc(sizeof *node + key.size);
    if (node == NULL) {
        return NULL;
    }
    memset(node, 0, sizeof *node);
    if (!bytes_dup(value.data, value.size, &node->value)) {
        free(node);
        return NULL;
    }
    uint8_t *key_bytes = (uint8_t *)(node + 1);
    if (key.size > 0) {
        memcpy(key_bytes, key.data, key.size);
    }
    node->space = space;
    node->key = key_bytes;
    node->key_size = (uint32_t)key.size;
    node->value_size = (uint32_t)value.size;
    node->pair_hash = pair_hash(space, key, value);
    return node;
}

static struct rs_bytes node_key(const struct rs_kv_node *node)
{
    return (struct rs_bytes){node->key, node->key_size};
}

/* Adds a node whose key is not in the map yet. */
static void map_link(struct rs_kv *kv, struct rs_kv_node *node)
{
    struct rs_kv_node *clash = RB_INSERT(rs_kv_map, &kv->map, node);
    RS_ASSERT(clash == NULL);
    kv->key_count++;
    kv->key_bytes += node->key_size;
    kv->value_bytes += node->value_size;
    kv->pair_hash_sum += node->pair_hash;
}

static void map_unlink(struct rs_kv *kv, struct rs_kv_node *node)
{
    RS_ASSERT(kv->key_count > 0);
    RB_REMOVE(rs_kv_map, &kv->map, node);
    kv->key_count--;
    kv->key_bytes -= node->key_size;
    kv->value_bytes -= node->value_size;
    kv->pair_hash_sum -= node->pair_hash;
}

static struct rs_kv_node *map_find_in(const struct rs_kv *kv, uint8_t space, struct rs_bytes key)
{
    struct rs_kv_node probe;
    probe.space = space;
    probe.key = key.data;
    probe.key_size = (uint32_t)key.size;
    /* RB_FIND takes a non-const head; the search does not modify it. */
    return RB_FIND(rs_kv_map, (struct rs_kv_map *)&kv->map, &probe);
}

static struct rs_kv_node *map_find(const struct rs_kv *kv, struct rs_bytes key)
{
    return map_find_in(kv, RS_KV_SPACE_DATA, key);
}

/* The first pair of the space at or after key. */
static struct rs_kv_node *map_lower_bound(const struct rs_kv *kv, uint8_t space,
                                          struct rs_bytes key)
{
    struct rs_kv_node probe;
    probe.space = space;
    probe.key = key.data;
    probe.key_size = (uint32_t)key.size;
    struct rs_kv_node *node = RB_NFIND(rs_kv_map, (struct rs_kv_map *)&kv->map, &probe);
    return node != NULL && node->space == space ? node : NULL;
}

/* Whether node (of the data space) lies before the end of [.., end); empty end: no bound. */
static bool before_end(const struct rs_kv_node *node, struct rs_bytes end)
{
    return node != NULL && node->space == RS_KV_SPACE_DATA &&
           (end.size == 0 || bytes_compare(node->key, node->key_size, end.data, end.size) < 0);
}

/* The last data pair before end (empty: the last data pair), or NULL. */
static struct rs_kv_node *map_last_before(const struct rs_kv *kv, struct rs_bytes end)
{
    struct rs_kv_node probe;
    probe.space = end.size == 0 ? RS_KV_SPACE_DATA + 1 : RS_KV_SPACE_DATA;
    probe.key = end.data;
    probe.key_size = (uint32_t)end.size;
    struct rs_kv_map *map = (struct rs_kv_map *)&kv->map;
    struct rs_kv_node *next = RB_NFIND(rs_kv_map, map, &probe);
    struct rs_kv_node *node = next != NULL ? RB_PREV(rs_kv_map, map, next) : RB_MAX(rs_kv_map, map);
    return node != NULL && node->space == RS_KV_SPACE_DATA ? node : NULL;
}

static struct rs_kv_session *session_find(const struct rs_kv *kv, uint64_t client_id)
{
    struct rs_kv_session probe;
    probe.client_id = client_id;
    return RB_FIND(rs_kv_session_map, (struct rs_kv_session_map *)&kv->sessions, &probe);
}

static void session_link(struct rs_kv *kv, struct rs_kv_session *s)
{
    struct rs_kv_session *clash_client = RB_INSERT(rs_kv_session_map, &kv->sessions, s);
    struct rs_kv_session *clash_age = RB_INSERT(rs_kv_session_age, &kv->ages, s);
    RS_ASSERT(clash_client == NULL);
    RS_ASSERT(clash_age == NULL);
    s->session_hash = session_hash(s);
    kv->session_hash_sum += s->session_hash;
    kv->session_count++;
}

static void session_unlink(struct rs_kv *kv, struct rs_kv_session *s)
{
    RS_ASSERT(kv->session_count > 0);
    RB_REMOVE(rs_kv_session_map, &kv->sessions, s);
    RB_REMOVE(rs_kv_session_age, &kv->ages, s);
    kv->session_hash_sum -= s->session_hash;
    kv->session_count--;
}

/* Frees what earlier results may still point into; called once the new copies exist. */
static void retired_flush(struct rs_kv *kv)
{
    node_free(kv->retired_node);
    free(kv->retired_value);
    kv->retired_node = NULL;
    kv->retired_value = NULL;
}

void rs_kv_init(struct rs_kv *kv)
{
    memset(kv, 0, sizeof *kv);
    RB_INIT(&kv->map);
    RB_INIT(&kv->sessions);
    RB_INIT(&kv->ages);
    kv->session_count_max = RS_KV_SESSION_COUNT_MAX;
}

void rs_kv_free(struct rs_kv *kv)
{
    struct rs_kv_node *node;
    while ((node = RB_MIN(rs_kv_map, &kv->map)) != NULL) {
        map_unlink(kv, node);
        node_free(node);
    }
    struct rs_kv_session *s;
    while ((s = RB_MIN(rs_kv_session_map, &kv->sessions)) != NULL) {
        session_unlink(kv, s);
        session_free(s);
    }
    RS_ASSERT(kv->key_count == 0);
    RS_ASSERT(kv->session_count == 0);
    retired_flush(kv);
}

const char *rs_kv_opcode_name(unsigned opcode)
{
    static const char *const names[RS_KV_OPCODE_MAX + 1] = {
        "unknown",      "get",          "put",          "delete",         "compare_and_put",
        "put_if_absent", "get_and_put", "multi_get",    "contains_key",   "scan",
        "reverse_scan", "batch_put",    "batch_delete", "compare_and_put_all", "merge",
        "delete_range", "get_sequence", "reset_sequence", "lock",         "unlock"};
    return opcode <= RS_KV_OPCODE_MAX ? names[opcode] : "unknown";
}

bool rs_kv_opcode_is_known(unsigned opcode)
{
    return opcode >= RS_KV_GET && opcode <= RS_KV_OPCODE_MAX;
}

bool rs_kv_opcode_is_write(unsigned opcode)
{
    return rs_kv_opcode_is_known(opcode) && opcode != RS_KV_GET && opcode != RS_KV_MULTI_GET &&
           opcode != RS_KV_CONTAINS_KEY && opcode != RS_KV_SCAN && opcode != RS_KV_REVERSE_SCAN;
}

/* What an operation does to the map, decided before anything is allocated or changed. */
enum map_action { ACTION_NONE, ACTION_SET, ACTION_REMOVE };

static void result_from_node(const struct rs_kv_node *node, struct rs_kv_result *res)
{
    res->found = node != NULL;
    res->value = node != NULL && node->value_size > 0 ? node->value : NULL;
    res->value_size = node != NULL ? node->value_size : 0;
}

static bool node_value_equals(const struct rs_kv_node *node, struct rs_bytes expected)
{
    return node->value_size == expected.size &&
           (expected.size == 0 || memcmp(node->value, expected.data, expected.size) == 0);
}

/* Fills *res (value views point into the current node) and returns the change to make. */
static enum map_action plan_op(const struct rs_kv_op *op, const struct rs_kv_node *node,
                               struct rs_kv_result *res)
{
    *res = (struct rs_kv_result){0};
    switch (op->opcode) {
    case RS_KV_GET:
        res->success = true;
        result_from_node(node, res);
        return ACTION_NONE;
    case RS_KV_PUT:
        res->success = true;
        return ACTION_SET;
    case RS_KV_DELETE:
        res->success = true;
        res->found = node != NULL;
        return node != NULL ? ACTION_REMOVE : ACTION_NONE;
    case RS_KV_CAS:
        res->found = node != NULL;
        res->success = node != NULL && node_value_equals(node, op->expected);
        return res->success ? ACTION_SET : ACTION_NONE;
    case RS_KV_PUT_IF_ABSENT:
        res->success = node == NULL;
        result_from_node(node, res);
        return node == NULL ? ACTION_SET : ACTION_NONE;
    case RS_KV_GET_AND_PUT:
        res->success = true;
        result_from_node(node, res);
        return ACTION_SET;
    default: RS_UNREACHABLE();
    }
}

/* Everything an apply allocates, obtained before the state changes so that NOMEM is clean. */
struct prepared {
    struct rs_kv_node *new_node;     /* SET of an absent key */
    uint8_t *new_value;              /* SET of a present key */
    struct rs_kv_session *new_session;
    uint8_t *saved_value; /* the session's copy of the result value */
};

static void prepared_free(struct prepared *prep)
{
    node_free(prep->new_node);
    free(prep->new_value);
    session_free(prep->new_session);
    free(prep->saved_value);
    memset(prep, 0, sizeof *prep);
}

static enum rs_err prepare(const struct rs_kv_op *op, enum map_action action,
                           const struct rs_kv_node *node, bool needs_session, bool session_exists,
                           const struct rs_kv_result *res, struct prepared *prep)
{
    memset(prep, 0, sizeof *prep);
    bool ok = true;
    if (action == ACTION_SET && node == NULL) {
        prep->new_node = node_alloc(RS_KV_SPACE_DATA, op->key, op->value);
        ok = prep->new_node != NULL;
    } else if (action == ACTION_SET) {
        ok = bytes_dup(op->value.data, op->value.size, &prep->new_value);
    }
    if (ok && needs_session) {
        ok = bytes_dup(res->value, res->value_size, &prep->saved_value);
    }
    if (ok && needs_session && !session_exists) {
        prep->new_session = calloc(1, sizeof *prep->new_session);
        ok = prep->new_session != NULL;
    }
    if (!ok) {
        prepared_free(prep);
        return RS_ENOMEM;
    }
    return RS_OK;
}

/* Makes the planned change; the old value or node is kept until the next change. */
static void map_commit(struct rs_kv *kv, const struct rs_kv_op *op, enum map_action action,
                       struct rs_kv_node *node, struct prepared *prep)
{
    retired_flush(kv);
    if (action == ACTION_SET && node == NULL) {
        map_link(kv, prep->new_node);
        prep->new_node = NULL;
    } else if (action == ACTION_SET) {
        /* Hash the copy: op may point into memory the session update just released. */
        struct rs_bytes value = {prep->new_value, op->value.size};
        RS_ASSERT(value.size <= RS_KV_VALUE_SIZE_MAX);
        kv->value_bytes = kv->value_bytes - node->value_size + value.size;
        kv->pair_hash_sum -= node->pair_hash;
        node->pair_hash = pair_hash(node->space, node_key(node), value);
        kv->pair_hash_sum += node->pair_hash;
        kv->retired_value = node->value;
        node->value = prep->new_value;
        node->value_size = (uint32_t)op->value.size;
        prep->new_value = NULL;
    } else if (action == ACTION_REMOVE) {
        map_unlink(kv, node);
        kv->retired_node = node;
    }
}

/* Evicts the sessions used longest ago until one more fits under the bound. */
static void sessions_make_room(struct rs_kv *kv)
{
    RS_ASSERT(kv->session_count_max >= 1);
    while (kv->session_count >= kv->session_count_max) {
        struct rs_kv_session *oldest = RB_MIN(rs_kv_session_age, &kv->ages);
        RS_ASSERT(oldest != NULL);
        session_unlink(kv, oldest);
        session_free(oldest);
    }
}

/* Records (seq, result) as the client's last applied request. */
static void session_commit(struct rs_kv *kv, struct rs_kv_session *s, uint64_t client_id,
                           uint64_t seq, uint64_t index, struct prepared *prep,
                           struct rs_kv_result *res)
{
    if (s == NULL) {
        sessions_make_room(kv);
        s = prep->new_session;
        prep->new_session = NULL;
        s->client_id = client_id;
    } else {
        session_unlink(kv, s);
        free(s->value);
    }
    s->last_seq = seq;
    s->last_index = index;
    s->success = res->success;
    s->found = res->found;
    s->value = prep->saved_value;
    s->value_size = (uint32_t)res->value_size;
    numbers_from_result(res, s->numbers);
    prep->saved_value = NULL;
    session_link(kv, s);
    /* The saved copy outlives the map change, so the result points at it. */
    res->value = s->value;
}

static void result_from_session(const struct rs_kv_session *s, struct rs_kv_result *res)
{
    *res = (struct rs_kv_result){0};
    res->success = s->success;
    res->found = s->found;
    res->value = s->value;
    res->value_size = s->value_size;
    numbers_to_result(s->numbers, res);
}


/* ---- The later write operations: planned as a list of changes, allocated, then made ---- */

#define CHANGES_MAX      (RS_KV_BATCH_COUNT_MAX + 2u)
#define LOCK_RECORD_SIZE 32u
#define COUNTER_TEXT_MAX 20u /* decimal digits of UINT64_MAX */

/* One pair to set or remove. value is a view that lives until the plan is made or freed. */
struct change {
    uint8_t space;
    struct rs_bytes key;
    struct rs_kv_node *node; /* the pair now, or NULL */
    bool remove;
    struct rs_bytes value;
    struct rs_kv_node *new_node; /* prepared: a set of an absent key */
    uint8_t *new_value;          /* prepared: a set of a present key */
};

/* A write planned against the current state; nothing is changed until plan_commit. */
struct plan {
    struct change changes[CHANGES_MAX];
    uint32_t count;
    bool delete_range; /* remove every data pair of [range_start, range_end) */
    struct rs_bytes range_start, range_end;
    uint8_t *merged; /* merge: the new value, owned */
    uint8_t record[LOCK_RECORD_SIZE];
    uint8_t number[8];
    char counter[COUNTER_TEXT_MAX + 1];
};

static void plan_add(struct plan *p, const struct rs_kv *kv, uint8_t space, struct rs_bytes key,
                     bool remove, struct rs_bytes value)
{
    RS_ASSERT(p->count < CHANGES_MAX);
    struct change *c = &p->changes[p->count++];
    memset(c, 0, sizeof *c);
    c->space = space;
    c->key = key;
    c->node = map_find_in(kv, space, key);
    c->remove = remove;
    c->value = value;
}

static void plan_free(struct plan *p)
{
    for (uint32_t i = 0; i < p->count; i++) {
        node_free(p->changes[i].new_node);
        free(p->changes[i].new_value);
    }
    free(p->merged);
    p->merged = NULL;
    p->count = 0;
}

/* Allocates what every change needs; RS_ENOMEM leaves nothing behind. */
static enum rs_err plan_prepare(struct plan *p)
{
    for (uint32_t i = 0; i < p->count; i++) {
        struct change *c = &p->changes[i];
        bool ok = true;
        if (!c->remove && c->node == NULL) {
            c->new_node = node_alloc(c->space, c->key, c->value);
            ok = c->new_node != NULL;
        } else if (!c->remove) {
            ok = bytes_dup(c->value.data, c->value.size, &c->new_value);
        }
        if (!ok) {
            return RS_ENOMEM;
        }
    }
    return RS_OK;
}

static void range_remove(struct rs_kv *kv, struct rs_bytes start, struct rs_bytes end)
{
    struct rs_kv_node *node = map_lower_bound(kv, RS_KV_SPACE_DATA, start);
    /* Bounded by the pairs of the map: each step removes one. */
    while (before_end(node, end)) {
        struct rs_kv_node *next = RB_NEXT(rs_kv_map, &kv->map, node);
        map_unlink(kv, node);
        node_free(node);
        node = next;
    }
}

/* Makes every change; nothing here can fail. Results of these ops hold no map pointers. */
static void plan_commit(struct rs_kv *kv, struct plan *p)
{
    retired_flush(kv);
    for (uint32_t i = 0; i < p->count; i++) {
        struct change *c = &p->changes[i];
        if (c->remove && c->node != NULL) {
            map_unlink(kv, c->node);
            node_free(c->node);
        } else if (!c->remove && c->node == NULL) {
            map_link(kv, c->new_node);
            c->new_node = NULL;
        } else if (!c->remove) {
            struct rs_kv_node *node = c->node;
            kv->value_bytes = kv->value_bytes - node->value_size + c->value.size;
            kv->pair_hash_sum -= node->pair_hash;
            node->pair_hash = pair_hash(node->space, node_key(node), c->value);
            kv->pair_hash_sum += node->pair_hash;
            free(node->value);
            node->value = c->new_value;
            node->value_size = (uint32_t)c->value.size;
            c->new_value = NULL;
        }
    }
    if (p->delete_range) {
        range_remove(kv, p->range_start, p->range_end);
    }
}

static bool node_holds(const struct rs_kv_node *node, struct rs_bytes value)
{
    return node != NULL && node_value_equals(node, value);
}

/* batch_put, batch_delete, cas_all: one change per entry of the (checked) list. */
static void plan_list(const struct rs_kv *kv, const struct rs_kv_op *op, struct plan *p,
                      struct rs_kv_result *res)
{
    struct rs_kv_iter it;
    struct rs_kv_entry e;
    uint32_t count = rs_kv_list_begin(&it, op->opcode, op->list);
    RS_ASSERT(count >= 1 && count <= RS_KV_BATCH_COUNT_MAX);
    res->success = true;
    while (rs_kv_iter_next(&it, &e)) {
        plan_add(p, kv, RS_KV_SPACE_DATA, e.key, op->opcode == RS_KV_BATCH_DELETE, e.value);
        /* compareAndPutAll: a missing key never matches, as for cas */
        if (op->opcode == RS_KV_CAS_ALL && !node_holds(p->changes[p->count - 1].node, e.expected)) {
            res->success = false;
        }
    }
    RS_ASSERT(p->count == count);
    if (!res->success) {
        p->count = 0; /* all or nothing */
    }
}

/* merge: value, or the old value, the separator and value (RocksDB's string append). */
static enum rs_err plan_merge(const struct rs_kv *kv, const struct rs_kv_op *op, struct plan *p,
                              struct rs_kv_result *res)
{
    const struct rs_kv_node *node = map_find(kv, op->key);
    res->found = node != NULL;
    size_t size = node == NULL ? op->value.size : node->value_size + 1 + op->value.size;
    if (size > RS_KV_VALUE_SIZE_MAX) {
        return RS_OK; /* refused: success false, nothing changes */
    }
    p->merged = malloc(size > 0 ? size : 1);
    if (p->merged == NULL) {
        return RS_ENOMEM;
    }
    size_t at = 0;
    if (node != NULL) {
        memcpy(p->merged, node->value, node->value_size);
        at = node->value_size;
        p->merged[at++] = RS_KV_MERGE_SEPARATOR;
    }
    if (op->value.size > 0) {
        memcpy(p->merged + at, op->value.data, op->value.size);
    }
    res->success = true;
    plan_add(p, kv, RS_KV_SPACE_DATA, op->key, false, (struct rs_bytes){p->merged, size});
    return RS_OK;
}

static uint64_t stored_u64(const struct rs_kv_node *node, size_t offset)
{
    RS_ASSERT(node->value_size >= offset + 8);
    return rs_get_u64(node->value + offset);
}

/* getSequence: [start, start + step), stored as a u64 in the sequence space; step 0 reads. */
static void plan_sequence(const struct rs_kv *kv, const struct rs_kv_op *op, struct plan *p,
                          struct rs_kv_result *res)
{
    const struct rs_kv_node *node = map_find_in(kv, RS_KV_SPACE_SEQUENCE, op->key);
    uint64_t start = node != NULL && node->value_size == 8 ? stored_u64(node, 0) : 0;
    if (op->opcode == RS_KV_RESET_SEQUENCE) {
        res->success = true;
        res->found = node != NULL;
        plan_add(p, kv, RS_KV_SPACE_SEQUENCE, op->key, true, (struct rs_bytes){0});
        return;
    }
    if (start > UINT64_MAX - op->step) {
        return; /* RheaKV refuses an overflow too: success false, nothing changes */
    }
    res->success = true;
    res->found = node != NULL;
    res->seq_start = start;
    res->seq_end = start + op->step;
    if (op->step > 0) {
        rs_put_u64(p->number, res->seq_end);
        plan_add(p, kv, RS_KV_SPACE_SEQUENCE, op->key, false, (struct rs_bytes){p->number, 8});
    }
}

/* The fencing counter kept as decimal text in a data key; false when the text is not one. */
static bool counter_parse(const struct rs_kv_node *node, uint64_t *value)
{
    *value = 0;
    if (node == NULL) {
        return true;
    }
    if (node->value_size == 0 || node->value_size > COUNTER_TEXT_MAX) {
        return false;
    }
    for (uint32_t i = 0; i < node->value_size; i++) {
        uint8_t c = node->value[i];
        uint64_t digit = (uint64_t)(c - '0');
        if (c < '0' || c > '9' || *value > (UINT64_MAX - digit) / 10) {
            return false;
        }
        *value = *value * 10 + digit;
    }
    return true;
}

struct lock_record {
    uint64_t owner;
    uint64_t deadline_ms;
    uint64_t token;
    uint64_t acquires;
};

static bool lock_record_read(const struct rs_kv_node *node, struct lock_record *rec)
{
    memset(rec, 0, sizeof *rec);
    if (node == NULL || node->value_size != LOCK_RECORD_SIZE) {
        return false;
    }
    rec->owner = stored_u64(node, 0);
    rec->deadline_ms = stored_u64(node, 8);
    rec->token = stored_u64(node, 16);
    rec->acquires = stored_u64(node, 24);
    return true;
}

static void lock_record_plan(const struct rs_kv *kv, const struct rs_kv_op *op, struct plan *p,
                             const struct lock_record *rec)
{
    rs_put_u64(p->record, rec->owner);
    rs_put_u64(p->record + 8, rec->deadline_ms);
    rs_put_u64(p->record + 16, rec->token);
    rs_put_u64(p->record + 24, rec->acquires);
    plan_add(p, kv, RS_KV_SPACE_LOCK, op->key, false, (struct rs_bytes){p->record, LOCK_RECORD_SIZE});
}

static void lock_result(const struct lock_record *rec, uint64_t now_ms, struct rs_kv_result *res)
{
    res->lock_owner = rec->owner;
    res->lock_token = rec->token;
    res->lock_acquires = rec->acquires;
    res->lock_remaining_ms = rec->deadline_ms > now_ms ? rec->deadline_ms - now_ms : 0;
}

/*
 * tryLock (RheaKV's tryLockWith): the holder re-enters (acquires + 1, lease renewed from the
 * command's timestamp, same token); a lock that is free or whose lease ended by the command's
 * timestamp goes to the acquirer with the next token of its fencing key; otherwise it fails
 * and names the holder. Deviation: a fencing counter that is not decimal text (someone wrote
 * the key) fails the lock instead of handing out a token that might not increase.
 */
static void plan_lock(const struct rs_kv *kv, const struct rs_kv_op *op, struct plan *p,
                      struct rs_kv_result *res)
{
    struct lock_record rec;
    bool held = lock_record_read(map_find_in(kv, RS_KV_SPACE_LOCK, op->key), &rec) &&
                op->timestamp_ms < rec.deadline_ms;
    res->found = held;
    if (held && rec.owner != op->acquirer_id) {
        lock_result(&rec, op->timestamp_ms, res);
        return;
    }
    if (held) {
        rec.acquires++;
        rec.deadline_ms = op->timestamp_ms + op->lease_ms;
    } else {
        uint64_t counter = 0;
        const struct rs_kv_node *fence = map_find(kv, op->fencing_key);
        if (!counter_parse(fence, &counter) || counter == UINT64_MAX) {
            return;
        }
        rec = (struct lock_record){op->acquirer_id, op->timestamp_ms + op->lease_ms, counter + 1, 1};
        int n = snprintf(p->counter, sizeof p->counter, "%llu", (unsigned long long)rec.token);
        RS_ASSERT(n > 0 && (size_t)n <= COUNTER_TEXT_MAX);
        plan_add(p, kv, RS_KV_SPACE_DATA, op->fencing_key, false,
                 (struct rs_bytes){(const uint8_t *)p->counter, (size_t)n});
    }
    res->success = true;
    lock_result(&rec, op->timestamp_ms, res);
    lock_record_plan(kv, op, p, &rec);
}

/* unlock (releaseLockWith): the holder's acquires - 1, the record goes at 0. */
static void plan_unlock(const struct rs_kv *kv, const struct rs_kv_op *op, struct plan *p,
                        struct rs_kv_result *res)
{
    struct lock_record rec;
    res->found = lock_record_read(map_find_in(kv, RS_KV_SPACE_LOCK, op->key), &rec);
    if (!res->found) {
        res->success = true; /* RheaKV: releasing a lock nobody holds succeeds */
        return;
    }
    if (rec.owner != op->acquirer_id) {
        lock_result(&rec, 0, res);
        res->lock_remaining_ms = 0;
        return;
    }
    res->success = true;
    if (--rec.acquires == 0) {
        plan_add(p, kv, RS_KV_SPACE_LOCK, op->key, true, (struct rs_bytes){0});
        rec.owner = 0;
        rec.token = 0;
        rec.deadline_ms = 0;
    } else {
        lock_record_plan(kv, op, p, &rec);
    }
    lock_result(&rec, 0, res);
    res->lock_remaining_ms = 0;
}

static enum rs_err plan_op_multi(const struct rs_kv *kv, const struct rs_kv_op *op,
                                 struct plan *p, struct rs_kv_result *res)
{
    switch (op->opcode) {
    case RS_KV_BATCH_PUT:
    case RS_KV_BATCH_DELETE:
    case RS_KV_CAS_ALL: plan_list(kv, op, p, res); return RS_OK;
    case RS_KV_MERGE: return plan_merge(kv, op, p, res);
    case RS_KV_DELETE_RANGE:
        res->success = true;
        p->delete_range = true;
        p->range_start = op->key;
        p->range_end = op->end_key;
        return RS_OK;
    case RS_KV_GET_SEQUENCE:
    case RS_KV_RESET_SEQUENCE: plan_sequence(kv, op, p, res); return RS_OK;
    case RS_KV_LOCK: plan_lock(kv, op, p, res); return RS_OK;
    case RS_KV_UNLOCK: plan_unlock(kv, op, p, res); return RS_OK;
    case RS_KV_CONTAINS_KEY:
        /* Reads written to the log (by hand: the node serves them by ReadIndex) change
         * nothing; there is no buffer for entries, so multi_get and scan answer success only. */
        res->found = map_find(kv, op->key) != NULL;
        res->success = true;
        return RS_OK;
    case RS_KV_MULTI_GET:
    case RS_KV_SCAN:
    case RS_KV_REVERSE_SCAN: res->success = true; return RS_OK;
    default: RS_UNREACHABLE();
    }
}

static bool is_single_key_op(unsigned opcode)
{
    return opcode >= RS_KV_GET && opcode <= RS_KV_GET_AND_PUT;
}

/* The later writes: plan, allocate (plan and session), then change the state. */
static enum rs_err apply_multi(struct rs_kv *kv, uint64_t index, uint64_t client_id, uint64_t seq,
                               const struct rs_kv_op *op, struct rs_kv_session *s,
                               struct rs_kv_result *res)
{
    struct plan *p = calloc(1, sizeof *p);
    if (p == NULL) {
        return RS_ENOMEM;
    }
    struct prepared prep;
    memset(&prep, 0, sizeof prep);
    struct rs_kv_op none = {.opcode = op->opcode};
    enum rs_err err = plan_op_multi(kv, op, p, res);
    if (err == RS_OK) {
        err = plan_prepare(p);
    }
    if (err == RS_OK) {
        err = prepare(&none, ACTION_NONE, NULL, client_id != 0, s != NULL, res, &prep);
    }
    if (err != RS_OK) {
        plan_free(p);
        free(p);
        *res = (struct rs_kv_result){0};
        return err;
    }
    if (client_id != 0) {
        session_commit(kv, s, client_id, seq, index, &prep, res);
    }
    plan_commit(kv, p);
    kv->applied_index = index;
    prepared_free(&prep);
    plan_free(p);
    free(p);
    return RS_OK;
}

enum rs_err rs_kv_apply_op(struct rs_kv *kv, uint64_t index, uint64_t client_id, uint64_t seq,
                           const struct rs_kv_op *op, struct rs_kv_result *res)
{
    RS_ASSERT(index > kv->applied_index);
    *res = (struct rs_kv_result){0};
    enum rs_err err = rs_kv_op_validate(op);
    if (err != RS_OK) {
        return err;
    }
    struct rs_kv_session *s = client_id != 0 ? session_find(kv, client_id) : NULL;
    if (s != NULL && seq <= s->last_seq) {
        /* A retry gets the saved answer; an older seq was overtaken and must not apply. */
        kv->applied_index = index;
        if (seq == s->last_seq) {
            result_from_session(s, res);
            return RS_OK;
        }
        return RS_ESTALE;
    }
    if (!is_single_key_op(op->opcode)) {
        return apply_multi(kv, index, client_id, seq, op, s, res);
    }
    struct rs_kv_node *node = map_find(kv, op->key);
    enum map_action action = plan_op(op, node, res);
    struct prepared prep;
    err = prepare(op, action, node, client_id != 0, s != NULL, res, &prep);
    if (err != RS_OK) {
        *res = (struct rs_kv_result){0};
        return err;
    }
    if (client_id != 0) {
        session_commit(kv, s, client_id, seq, index, &prep, res);
    }
    map_commit(kv, op, action, node, &prep);
    kv->applied_index = index;
    prepared_free(&prep);
    return RS_OK;
}

enum rs_err rs_kv_apply(struct rs_kv *kv, uint64_t index, struct rs_bytes command,
                        struct rs_kv_result *res)
{
    struct rs_kv_cmd cmd;
    *res = (struct rs_kv_result){0};
    if (rs_kv_cmd_decode(command, &cmd) != RS_OK) {
        return RS_ECORRUPT;
    }
    return rs_kv_apply_op(kv, index, cmd.client_id, cmd.seq, &cmd.op, res);
}

/* Appends result entries to a bounded buffer; false when the next one does not fit. */
struct entry_writer {
    struct rs_writer w;
    uint32_t count;
};

static bool entry_append(struct entry_writer *ew, bool found, struct rs_bytes key,
                         const uint8_t *value, size_t value_size)
{
    size_t size = RS_KV_ENTRY_OVERHEAD + key.size + value_size;
    if (ew->w.cap - ew->w.pos < size) {
        return false;
    }
    rs_w_u8(&ew->w, found ? 1 : 0);
    rs_w_blob(&ew->w, key.data, key.size);
    rs_w_blob(&ew->w, value, value_size);
    RS_ASSERT(!ew->w.overflow);
    ew->count++;
    return true;
}

static void read_multi_get(const struct rs_kv *kv, const struct rs_kv_op *op,
                           struct entry_writer *ew, struct rs_kv_result *res)
{
    struct rs_kv_iter it;
    struct rs_kv_entry e;
    rs_kv_list_begin(&it, op->opcode, op->list);
    while (rs_kv_iter_next(&it, &e)) {
        const struct rs_kv_node *node = map_find(kv, e.key);
        if (!entry_append(ew, node != NULL, e.key, node ? node->value : NULL,
                          node ? node->value_size : 0)) {
            res->truncated = true;
            return;
        }
    }
}

/* [key, end_key) ascending, or descending for reverse_scan; truncated when more follow. */
static void read_scan(const struct rs_kv *kv, const struct rs_kv_op *op, struct entry_writer *ew,
                      struct rs_kv_result *res)
{
    bool reverse = op->opcode == RS_KV_REVERSE_SCAN;
    uint32_t limit = op->limit != 0 ? op->limit : RS_KV_SCAN_LIMIT_MAX;
    struct rs_kv_node *node = reverse ? map_last_before(kv, op->end_key)
                                      : map_lower_bound(kv, RS_KV_SPACE_DATA, op->key);
    /* Bounded by limit <= RS_KV_SCAN_LIMIT_MAX entries. */
    for (;;) {
        bool in_range = reverse ? node != NULL && node->space == RS_KV_SPACE_DATA &&
                                      bytes_compare(node->key, node->key_size, op->key.data,
                                                    op->key.size) >= 0
                                : before_end(node, op->end_key);
        if (!in_range) {
            return;
        }
        if (ew->count == limit ||
            !entry_append(ew, true, node_key(node), op->keys_only ? NULL : node->value,
                          op->keys_only ? 0 : node->value_size)) {
            res->truncated = true; /* a key of the range was left out */
            return;
        }
        node = reverse ? RB_PREV(rs_kv_map, &kv->map, node) : RB_NEXT(rs_kv_map, &kv->map, node);
    }
}

enum rs_err rs_kv_read_into(const struct rs_kv *kv, const struct rs_kv_op *op, uint8_t *buffer,
                            size_t buffer_size, struct rs_kv_result *res)
{
    *res = (struct rs_kv_result){0};
    enum rs_err err = rs_kv_op_validate(op);
    if (err != RS_OK) {
        return err;
    }
    if (rs_kv_opcode_is_write(op->opcode)) {
        return RS_EINVAL;
    }
    res->success = true;
    if (op->opcode == RS_KV_GET) {
        result_from_node(map_find(kv, op->key), res);
        return RS_OK;
    }
    if (op->opcode == RS_KV_CONTAINS_KEY) {
        res->found = map_find(kv, op->key) != NULL;
        return RS_OK;
    }
    struct entry_writer ew = {.count = 0};
    size_t cap = buffer_size < RS_KV_RESULT_BYTES_MAX ? buffer_size : RS_KV_RESULT_BYTES_MAX;
    rs_writer_init(&ew.w, buffer, buffer != NULL ? cap : 0);
    if (op->opcode == RS_KV_MULTI_GET) {
        read_multi_get(kv, op, &ew, res);
    } else {
        read_scan(kv, op, &ew, res);
    }
    if (res->truncated && ew.count == 0) {
        *res = (struct rs_kv_result){0};
        return RS_ENOSPACE;
    }
    res->entries = ew.count > 0 ? buffer : NULL;
    res->entries_size = ew.w.pos;
    res->entry_count = ew.count;
    return RS_OK;
}

enum rs_err rs_kv_read(const struct rs_kv *kv, const struct rs_kv_op *op,
                       struct rs_kv_result *res)
{
    return rs_kv_read_into(kv, op, NULL, 0, res);
}

bool rs_kv_lookup(const struct rs_kv *kv, enum rs_kv_space space, struct rs_bytes key,
                  struct rs_bytes *value)
{
    const struct rs_kv_node *node = map_find_in(kv, (uint8_t)space, key);
    *value = node != NULL ? (struct rs_bytes){node->value, node->value_size} : (struct rs_bytes){0};
    return node != NULL;
}

uint64_t rs_kv_digest(const struct rs_kv *kv)
{
    uint8_t folded[40];
    rs_put_u64(folded, kv->pair_hash_sum);
    rs_put_u64(folded + 8, kv->session_hash_sum);
    rs_put_u64(folded + 16, kv->applied_index);
    rs_put_u64(folded + 24, kv->key_count);
    rs_put_u64(folded + 32, kv->session_count);
    return XXH64(folded, sizeof folded, DIGEST_SEED);
}

uint64_t rs_kv_applied_index(const struct rs_kv *kv)
{
    return kv->applied_index;
}

uint64_t rs_kv_key_count(const struct rs_kv *kv)
{
    return kv->key_count;
}

uint64_t rs_kv_key_bytes(const struct rs_kv *kv)
{
    return kv->key_bytes;
}

uint64_t rs_kv_value_bytes(const struct rs_kv *kv)
{
    return kv->value_bytes;
}

uint64_t rs_kv_session_count(const struct rs_kv *kv)
{
    return kv->session_count;
}

size_t rs_kv_snapshot_size(const struct rs_kv *kv)
{
    size_t size = SNAPSHOT_HEADER_SIZE + SNAPSHOT_TRAILER_SIZE;
    size += (size_t)(kv->key_count * SNAPSHOT_PAIR_FIXED_SIZE + kv->key_bytes + kv->value_bytes);
    struct rs_kv_session *s;
    RB_FOREACH (s, rs_kv_session_map, (struct rs_kv_session_map *)&kv->sessions) {
        struct rs_kv_result saved;
        result_from_session(s, &saved);
        size += 24 + rs_kv_result_size(&saved);
    }
    return size;
}

size_t rs_kv_snapshot_write(const struct rs_kv *kv, uint8_t *buffer, size_t buffer_size)
{
    size_t size = rs_kv_snapshot_size(kv);
    if (buffer_size < size) {
        return 0;
    }
    struct rs_writer w;
    rs_writer_init(&w, buffer, size);
    rs_w_u32(&w, SNAPSHOT_MAGIC);
    rs_w_u16(&w, SNAPSHOT_VERSION);
    rs_w_u16(&w, 0);
    rs_w_u64(&w, kv->applied_index);
    rs_w_u64(&w, kv->key_count);
    rs_w_u64(&w, kv->session_count);
    struct rs_kv_node *node;
    RB_FOREACH (node, rs_kv_map, (struct rs_kv_map *)&kv->map) {
        rs_w_u8(&w, node->space);
        rs_w_blob(&w, node->key, node->key_size);
        rs_w_blob(&w, node->value, node->value_size);
    }
    struct rs_kv_session *s;
    RB_FOREACH (s, rs_kv_session_map, (struct rs_kv_session_map *)&kv->sessions) {
        rs_w_u64(&w, s->client_id);
        rs_w_u64(&w, s->last_seq);
        rs_w_u64(&w, s->last_index);
        struct rs_kv_result saved;
        result_from_session(s, &saved);
        rs_kv_result_write(&w, &saved);
    }
    rs_w_u64(&w, XXH64(buffer, w.pos, 0));
    RS_ASSERT(!w.overflow);
    RS_ASSERT(w.pos == size);
    return size;
}

/*
 * Reads pair_count pairs into an empty kv; (space, key) must strictly increase. Version 1
 * has no space byte: every pair is a data key.
 */
static enum rs_err snapshot_load_pairs(struct rs_reader *r, struct rs_kv *kv, uint64_t pair_count,
                                       uint16_t version)
{
    const struct rs_kv_node *prev = NULL;
    for (uint64_t i = 0; i < pair_count && !r->error; i++) {
        uint8_t space = version >= 2 ? rs_r_u8(r) : RS_KV_SPACE_DATA;
        struct rs_bytes key = rs_r_blob(r);
        struct rs_bytes value = rs_r_blob(r);
        if (r->error || key.size > RS_KV_KEY_SIZE_MAX || value.size > RS_KV_VALUE_SIZE_MAX ||
            space >= RS_KV_SPACE_COUNT) {
            return RS_ECORRUPT;
        }
        if (prev != NULL && (prev->space > space ||
                             (prev->space == space &&
                              bytes_compare(prev->key, prev->key_size, key.data, key.size) >= 0))) {
            return RS_ECORRUPT;
        }
        struct rs_kv_node *node = node_alloc(space, key, value);
        if (node == NULL) {
            return RS_ENOMEM;
        }
        map_link(kv, node);
        prev = node;
    }
    return r->error ? RS_ECORRUPT : RS_OK;
}

/* Reads session_count sessions into a kv; client ids must strictly increase from 1. */
static enum rs_err snapshot_load_sessions(struct rs_reader *r, struct rs_kv *kv,
                                          uint64_t session_count)
{
    uint64_t prev_client_id = 0;
    for (uint64_t i = 0; i < session_count && !r->error; i++) {
        uint64_t client_id = rs_r_u64(r);
        uint64_t last_seq = rs_r_u64(r);
        uint64_t last_index = rs_r_u64(r);
        struct rs_kv_result saved;
        rs_kv_result_read(r, &saved);
        if (r->error || client_id <= prev_client_id || last_index > kv->applied_index) {
            return RS_ECORRUPT;
        }
        struct rs_kv_session *s = calloc(1, sizeof *s);
        if (s == NULL || !bytes_dup(saved.value, saved.value_size, &s->value)) {
            free(s);
            return RS_ENOMEM;
        }
        s->client_id = client_id;
        s->last_seq = last_seq;
        s->last_index = last_index;
        s->success = saved.success;
        s->found = saved.found;
        s->value_size = (uint32_t)saved.value_size;
        numbers_from_result(&saved, s->numbers);
        /* A saved result is a write's: it never carries entries or a truncation. */
        if (saved.entry_count > 0 || saved.truncated) {
            session_free(s);
            return RS_ECORRUPT;
        }
        session_link(kv, s);
        prev_client_id = client_id;
    }
    return r->error ? RS_ECORRUPT : RS_OK;
}

/* Parses a snapshot whose checksum already matched into the empty kv *into. */
static enum rs_err snapshot_parse(struct rs_bytes snapshot, struct rs_kv *into)
{
    struct rs_reader r;
    rs_reader_init(&r, snapshot.data, snapshot.size - SNAPSHOT_TRAILER_SIZE);
    uint32_t magic = rs_r_u32(&r);
    uint16_t version = rs_r_u16(&r);
    uint16_t reserved = rs_r_u16(&r);
    into->applied_index = rs_r_u64(&r);
    uint64_t pair_count = rs_r_u64(&r);
    uint64_t session_count = rs_r_u64(&r);
    if (r.error || magic != SNAPSHOT_MAGIC || version < 1 || version > SNAPSHOT_VERSION ||
        reserved != 0) {
        return RS_ECORRUPT;
    }
    /* Counts that the bytes cannot hold are damage; refusing them early bounds the loops. */
    size_t left = r.size - r.pos;
    size_t pair_fixed = version >= 2 ? SNAPSHOT_PAIR_FIXED_SIZE : SNAPSHOT_PAIR_FIXED_SIZE_V1;
    if (pair_count > left / pair_fixed ||
        session_count > left / SNAPSHOT_SESSION_FIXED_SIZE) {
        return RS_ECORRUPT;
    }
    enum rs_err err = snapshot_load_pairs(&r, into, pair_count, version);
    if (err == RS_OK) {
        err = snapshot_load_sessions(&r, into, session_count);
    }
    if (err == RS_OK && r.pos != r.size) {
        err = RS_ECORRUPT;
    }
    return err;
}

enum rs_err rs_kv_snapshot_load(struct rs_kv *kv, struct rs_bytes snapshot)
{
    if (snapshot.size < SNAPSHOT_HEADER_SIZE + SNAPSHOT_TRAILER_SIZE) {
        return RS_ECORRUPT;
    }
    size_t body_size = snapshot.size - SNAPSHOT_TRAILER_SIZE;
    if (XXH64(snapshot.data, body_size, 0) != rs_get_u64(snapshot.data + body_size)) {
        return RS_ECORRUPT;
    }
    struct rs_kv loaded;
    rs_kv_init(&loaded);
    loaded.session_count_max = kv->session_count_max;
    enum rs_err err = snapshot_parse(snapshot, &loaded);
    if (err != RS_OK) {
        rs_kv_free(&loaded);
        return err;
    }
    rs_kv_free(kv);
    *kv = loaded;
    return RS_OK;
}

/* ---- splits ---- */

enum rs_err rs_kv_split(struct rs_kv *from, struct rs_bytes split_key, struct rs_kv *to,
                        uint64_t to_index)
{
    RS_ASSERT(to->key_count == 0 && to->session_count == 0);
    RS_ASSERT(split_key.size > 0);
    /* copy the sessions first: a failed allocation then leaves `from` as it was */
    struct rs_kv_session *s;
    RB_FOREACH(s, rs_kv_session_map, &from->sessions)
    {
        struct rs_kv_session *copy = malloc(sizeof *copy);
        if (copy == NULL || !bytes_dup(s->value, s->value_size, &copy->value)) {
            free(copy);
            rs_kv_free(to);
            rs_kv_init(to);
            return RS_ENOMEM;
        }
        uint8_t *value = copy->value;
        *copy = *s;
        copy->value = value;
        /* the parent's indexes mean nothing in the child's log: every copied session counts
         * as used at the child's first index (age order then falls back to client id) */
        copy->last_index = to_index;
        session_link(to, copy);
    }
    /* pairs are ordered by (space, key): in each space, the keys from split_key on move
     * (sequences and locks move with their keys, like data) */
    for (uint8_t space = RS_KV_SPACE_DATA; space <= RS_KV_SPACE_LOCK; space++) {
        struct rs_kv_node *node = map_lower_bound(from, space, split_key);
        while (node != NULL && node->space == space) {
            struct rs_kv_node *next = RB_NEXT(rs_kv_map, &from->map, node);
            map_unlink(from, node);
            map_link(to, node);
            node = next;
        }
    }
    to->session_count_max = from->session_count_max;
    to->applied_index = to_index;
    return RS_OK;
}

bool rs_kv_middle_key(const struct rs_kv *kv, struct rs_bytes *key)
{
    /* data keys only: the data space comes first in the order */
    uint64_t count = 0;
    struct rs_kv_node *node;
    RB_FOREACH(node, rs_kv_map, (struct rs_kv_map *)&kv->map)
    {
        if (node->space != RS_KV_SPACE_DATA) {
            break;
        }
        count++;
    }
    if (count < 2) {
        return false;
    }
    node = RB_MIN(rs_kv_map, (struct rs_kv_map *)&kv->map);
    for (uint64_t i = 0; i < count / 2; i++) {
        node = RB_NEXT(rs_kv_map, (struct rs_kv_map *)&kv->map, node);
    }
    *key = node_key(node);
    return true;
}

bool rs_kv_key_bounds(const struct rs_kv *kv, struct rs_bytes *lowest, struct rs_bytes *highest)
{
    bool any = false;
    for (uint8_t space = RS_KV_SPACE_DATA; space <= RS_KV_SPACE_LOCK; space++) {
        struct rs_kv_node *first = map_lower_bound(kv, space, (struct rs_bytes){NULL, 0});
        if (first == NULL) {
            continue;
        }
        /* the space's last pair: the one before the next space's first, or the maximum */
        struct rs_kv_node probe = {.space = (uint8_t)(space + 1), .key = NULL, .key_size = 0};
        struct rs_kv_node *next = RB_NFIND(rs_kv_map, (struct rs_kv_map *)&kv->map, &probe);
        struct rs_kv_node *last = next != NULL
                                      ? RB_PREV(rs_kv_map, (struct rs_kv_map *)&kv->map, next)
                                      : RB_MAX(rs_kv_map, (struct rs_kv_map *)&kv->map);
        struct rs_bytes lo = node_key(first);
        struct rs_bytes hi = node_key(last);
        if (!any || bytes_compare(lo.data, lo.size, lowest->data, lowest->size) < 0) {
            *lowest = lo;
        }
        if (!any || bytes_compare(hi.data, hi.size, highest->data, highest->size) > 0) {
            *highest = hi;
        }
        any = true;
    }
    return any;
}
