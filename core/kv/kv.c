/* The ordered KV state machine: a red-black tree of pairs plus the exactly-once session table. */
#include "core/kv/kv.h"

#include "core/kv/kv_cmd.h"
#include "core/wire/codec.h"

#include <bsd/sys/tree.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* Seeds keep the pair and session hashes apart so one can never cancel the other. */
#define PAIR_HASH_SEED    0x7273506169720001ull
#define SESSION_HASH_SEED 0x7273536573730002ull
#define DIGEST_SEED       0x7273446967730003ull

#define SNAPSHOT_MAGIC              0x534b5352u /* "RSKS" */
#define SNAPSHOT_VERSION            1u
#define SNAPSHOT_HEADER_SIZE        32u
#define SNAPSHOT_TRAILER_SIZE       8u
#define SNAPSHOT_PAIR_FIXED_SIZE    8u
#define SNAPSHOT_SESSION_FIXED_SIZE 29u

struct rs_kv_node {
    RB_ENTRY(rs_kv_node) entry;
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

static int node_compare(const struct rs_kv_node *a, const struct rs_kv_node *b)
{
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

static uint64_t pair_hash(struct rs_bytes key, struct rs_bytes value)
{
    return XXH64(value.data, value.size, XXH64(key.data, key.size, PAIR_HASH_SEED));
}

static uint64_t session_hash(const struct rs_kv_session *s)
{
    uint8_t fixed[25];
    rs_put_u64(fixed, s->client_id);
    rs_put_u64(fixed + 8, s->last_seq);
    rs_put_u64(fixed + 16, s->last_index);
    rs_put_u8(fixed + 24, (uint8_t)((s->success ? 1u : 0u) | (s->found ? 2u : 0u)));
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

static struct rs_kv_node *node_alloc(struct rs_bytes key, struct rs_bytes value)
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
    node->key = key_bytes;
    node->key_size = (uint32_t)key.size;
    node->value_size = (uint32_t)value.size;
    node->pair_hash = pair_hash(key, value);
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

static struct rs_kv_node *map_find(const struct rs_kv *kv, struct rs_bytes key)
{
    struct rs_kv_node probe;
    probe.key = key.data;
    probe.key_size = (uint32_t)key.size;
    /* RB_FIND takes a non-const head; the search does not modify it. */
    return RB_FIND(rs_kv_map, (struct rs_kv_map *)&kv->map, &probe);
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
    switch (opcode) {
    case RS_KV_GET: return "get";
    case RS_KV_PUT: return "put";
    case RS_KV_DELETE: return "delete";
    case RS_KV_CAS: return "compare_and_put";
    case RS_KV_PUT_IF_ABSENT: return "put_if_absent";
    case RS_KV_GET_AND_PUT: return "get_and_put";
    default: return "unknown";
    }
}

bool rs_kv_opcode_is_known(unsigned opcode)
{
    return opcode >= RS_KV_GET && opcode <= RS_KV_OPCODE_MAX;
}

bool rs_kv_opcode_is_write(unsigned opcode)
{
    return rs_kv_opcode_is_known(opcode) && opcode != RS_KV_GET;
}

enum rs_err rs_kv_op_validate(const struct rs_kv_op *op)
{
    if (!rs_kv_opcode_is_known(op->opcode)) {
        return RS_EINVAL;
    }
    bool uses_value = op->opcode != RS_KV_GET && op->opcode != RS_KV_DELETE;
    bool uses_expected = op->opcode == RS_KV_CAS;
    if ((!uses_value && op->value.size > 0) || (!uses_expected && op->expected.size > 0)) {
        return RS_EINVAL;
    }
    if ((op->key.size > 0 && op->key.data == NULL) ||
        (op->value.size > 0 && op->value.data == NULL) ||
        (op->expected.size > 0 && op->expected.data == NULL)) {
        return RS_EINVAL;
    }
    if (op->key.size > RS_KV_KEY_SIZE_MAX || op->value.size > RS_KV_VALUE_SIZE_MAX ||
        op->expected.size > RS_KV_VALUE_SIZE_MAX) {
        return RS_ETOOBIG;
    }
    return RS_OK;
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
        prep->new_node = node_alloc(op->key, op->value);
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
        node->pair_hash = pair_hash(node_key(node), value);
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
    prep->saved_value = NULL;
    session_link(kv, s);
    /* The saved copy outlives the map change, so the result points at it. */
    res->value = s->value;
}

static void result_from_session(const struct rs_kv_session *s, struct rs_kv_result *res)
{
    res->success = s->success;
    res->found = s->found;
    res->value = s->value;
    res->value_size = s->value_size;
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

enum rs_err rs_kv_read(const struct rs_kv *kv, const struct rs_kv_op *op,
                       struct rs_kv_result *res)
{
    *res = (struct rs_kv_result){0};
    enum rs_err err = rs_kv_op_validate(op);
    if (err != RS_OK) {
        return err;
    }
    if (rs_kv_opcode_is_write(op->opcode)) {
        return RS_EINVAL;
    }
    RS_ASSERT(op->opcode == RS_KV_GET);
    res->success = true;
    result_from_node(map_find(kv, op->key), res);
    return RS_OK;
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
        size += SNAPSHOT_SESSION_FIXED_SIZE + s->value_size;
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

/* Reads pair_count pairs into an empty kv; keys must come in strictly increasing order. */
static enum rs_err snapshot_load_pairs(struct rs_reader *r, struct rs_kv *kv, uint64_t pair_count)
{
    const struct rs_kv_node *prev = NULL;
    for (uint64_t i = 0; i < pair_count && !r->error; i++) {
        struct rs_bytes key = rs_r_blob(r);
        struct rs_bytes value = rs_r_blob(r);
        if (r->error || key.size > RS_KV_KEY_SIZE_MAX || value.size > RS_KV_VALUE_SIZE_MAX) {
            return RS_ECORRUPT;
        }
        if (prev != NULL && bytes_compare(prev->key, prev->key_size, key.data, key.size) >= 0) {
            return RS_ECORRUPT;
        }
        struct rs_kv_node *node = node_alloc(key, value);
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
    if (r.error || magic != SNAPSHOT_MAGIC || version != SNAPSHOT_VERSION || reserved != 0) {
        return RS_ECORRUPT;
    }
    /* Counts that the bytes cannot hold are damage; refusing them early bounds the loops. */
    size_t left = r.size - r.pos;
    if (pair_count > left / SNAPSHOT_PAIR_FIXED_SIZE ||
        session_count > left / SNAPSHOT_SESSION_FIXED_SIZE) {
        return RS_ECORRUPT;
    }
    enum rs_err err = snapshot_load_pairs(&r, into, pair_count);
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
    struct rs_kv_node probe;
    probe.key = split_key.data;
    probe.key_size = (uint32_t)split_key.size;
    struct rs_kv_node *node = RB_NFIND(rs_kv_map, &from->map, &probe);
    while (node != NULL) {
        struct rs_kv_node *next = RB_NEXT(rs_kv_map, &from->map, node);
        map_unlink(from, node);
        map_link(to, node);
        node = next;
    }
    to->session_count_max = from->session_count_max;
    to->applied_index = to_index;
    return RS_OK;
}

bool rs_kv_middle_key(const struct rs_kv *kv, struct rs_bytes *key)
{
    if (kv->key_count < 2) {
        return false;
    }
    uint64_t rank = kv->key_count / 2;
    struct rs_kv_node *node = RB_MIN(rs_kv_map, (struct rs_kv_map *)&kv->map);
    for (uint64_t i = 0; i < rank && node != NULL; i++) {
        node = RB_NEXT(rs_kv_map, (struct rs_kv_map *)&kv->map, node);
    }
    RS_ASSERT(node != NULL);
    *key = node_key(node);
    return true;
}
