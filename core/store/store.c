/* A store: routes envelopes to its region replicas and merges their effects into one outbox. */
#include "core/store/store.h"

#include "core/kv/kv_cmd.h"
#include "core/wire/frame.h"

#include <stdlib.h>
#include <string.h>

void rs_store_init(struct rs_store *s, const struct rs_raft_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->id = cfg->id;
    s->raft = *cfg;
    s->raft.voter_count = 0;
    s->raft.learner_count = 0;
    s->random_seed = cfg->random_seed;
    rs_out_init(&s->out);
}

void rs_store_free(struct rs_store *s)
{
    for (size_t i = 0; i < s->replica_count; i++) {
        rs_node_free(s->replicas[i]);
        free(s->replicas[i]);
    }
    free(s->replicas);
    free(s->heap);
    free(s->due);
    free(s->touched);
    free(s->ops);
    free(s->scratch);
    rs_out_free(&s->out);
    memset(s, 0, sizeof *s);
}

void rs_store_prefix(uint64_t region_id, char out[RS_STORE_PREFIX_SIZE + 1])
{
    static const char hex[] = "0123456789abcdef";
    out[0] = 'r';
    for (int i = 0; i < 16; i++) {
        out[1 + i] = hex[(region_id >> (60 - 4 * i)) & 0xf];
    }
    out[17] = '-';
    out[18] = '\0';
}

/* The index of the first replica whose region id is >= id (binary search). */
static size_t replica_lower_bound(const struct rs_store *s, uint64_t id)
{
    size_t lo = 0, hi = s->replica_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->replicas[mid]->region.id < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

struct rs_node *rs_store_replica(const struct rs_store *s, uint64_t region_id)
{
    size_t i = replica_lower_bound(s, region_id);
    return i < s->replica_count && s->replicas[i]->region.id == region_id ? s->replicas[i]
                                                                            : NULL;
}

/* Each replica draws its election timeouts from its own stream: the store's seed mixed with
 * the region id (splitmix64's finaliser), so adding a region changes no other's draws. */
static uint64_t replica_seed(uint64_t store_seed, uint64_t region_id)
{
    uint64_t z = store_seed + region_id * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ---- the timer heap ---- */

static bool heap_before(const struct rs_node *a, const struct rs_node *b)
{
    return a->store_deadline < b->store_deadline ||
           (a->store_deadline == b->store_deadline && a->region.id < b->region.id);
}

static void heap_place(struct rs_store *s, size_t i, struct rs_node *n)
{
    s->heap[i] = n;
    n->store_heap_index = i;
}

static void heap_sift(struct rs_store *s, size_t i)
{
    struct rs_node *n = s->heap[i];
    while (i > 0 && heap_before(n, s->heap[(i - 1) / 2])) {
        heap_place(s, i, s->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= s->heap_count) {
            break;
        }
        if (child + 1 < s->heap_count && heap_before(s->heap[child + 1], s->heap[child])) {
            child++;
        }
        if (!heap_before(s->heap[child], n)) {
            break;
        }
        heap_place(s, i, s->heap[child]);
        i = child;
    }
    heap_place(s, i, n);
}

/* A replica's timers change only when it handles something: refile it then. */
static void heap_update(struct rs_store *s, struct rs_node *n)
{
    n->store_deadline = rs_node_deadline(n);
    RS_ASSERT(n->store_heap_index < s->heap_count && s->heap[n->store_heap_index] == n);
    heap_sift(s, n->store_heap_index);
}

static struct rs_node *replica_add(struct rs_store *s, const struct rs_region *region,
                                   const struct rs_conf *conf, const struct rs_raft_config *raft)
{
    RS_ASSERT(rs_store_replica(s, region->id) == NULL);
    if (s->replica_count == s->replica_cap) {
        s->replica_cap = s->replica_cap ? s->replica_cap * 2 : 4;
        s->replicas = realloc(s->replicas, s->replica_cap * sizeof *s->replicas);
        s->heap = realloc(s->heap, s->replica_cap * sizeof *s->heap);
        s->due = realloc(s->due, s->replica_cap * sizeof *s->due);
        RS_ASSERT(s->replicas != NULL && s->heap != NULL && s->due != NULL);
    }
    struct rs_raft_config cfg = raft != NULL ? *raft : s->raft;
    cfg.id = s->id;
    cfg.bugs = s->raft.bugs;
    cfg.voter_count = 0;
    cfg.learner_count = 0;
    cfg.random_seed = replica_seed(s->random_seed, region->id);
    if (conf != NULL) {
        RS_ASSERT(conf->voter_count <= RS_RAFT_VOTERS_MAX);
        cfg.voter_count = conf->voter_count;
        memcpy(cfg.voters, conf->voters, conf->voter_count * sizeof cfg.voters[0]);
        cfg.learner_count = conf->learner_count;
        memcpy(cfg.learners, conf->learners, conf->learner_count * sizeof cfg.learners[0]);
    }
    struct rs_node *n = malloc(sizeof *n);
    RS_ASSERT(n != NULL);
    rs_node_init(n, &cfg, region);
    size_t at = replica_lower_bound(s, region->id);
    memmove(s->replicas + at + 1, s->replicas + at, (s->replica_count - at) * sizeof *s->replicas);
    s->replicas[at] = n;
    s->replica_count++;
    n->store_deadline = rs_node_deadline(n);
    s->heap_count++;
    heap_place(s, s->heap_count - 1, n);
    heap_sift(s, s->heap_count - 1);
    return n;
}

static void ops_push(struct rs_store *s, uint64_t id, uint64_t region_id, uint64_t inner_id)
{
    if (s->op_count == s->op_cap) {
        size_t cap = s->op_cap ? s->op_cap * 2 : 64;
        struct rs_store_op *a = malloc(cap * sizeof *a);
        RS_ASSERT(a != NULL);
        for (size_t i = 0; i < s->op_count; i++) {
            a[i] = s->ops[(s->op_head + i) % s->op_cap];
        }
        free(s->ops);
        s->ops = a;
        s->op_cap = cap;
        s->op_head = 0;
    }
    s->ops[(s->op_head + s->op_count++) % s->op_cap] =
        (struct rs_store_op){.id = id, .region_id = region_id, .inner_id = inner_id};
}

/* Wraps an inner frame into an envelope in the store's outbox. */
static void send_wrapped(struct rs_store *s, rs_node_id to, uint32_t type, uint64_t region_id,
                         struct rs_region_epoch epoch, const uint8_t *inner, size_t inner_size)
{
    size_t size = rs_envelope_size(inner_size);
    size_t at = rs_out_reserve(&s->out, size);
    uint8_t *p = rs_out_at(&s->out, at);
    memcpy(p + rs_envelope_inner_offset(), inner, inner_size);
    rs_envelope_seal(p, region_id, epoch, inner_size);
    rs_out_msg(&s->out, to, type, at, size);
}

static void prefixed(const char *prefix, const char *name, char out[RS_FILE_NAME_MAX])
{
    if (name[0] == '\0') {
        out[0] = '\0';
        return;
    }
    size_t len = strlen(name);
    RS_ASSERT(RS_STORE_PREFIX_SIZE + len < RS_FILE_NAME_MAX);
    memcpy(out, prefix, RS_STORE_PREFIX_SIZE);
    memcpy(out + RS_STORE_PREFIX_SIZE, name, len + 1);
}

static void touch(struct rs_store *s, struct rs_node *n)
{
    if (n->host_touched) {
        return;
    }
    if (s->touched_count == s->touched_cap) {
        s->touched_cap = s->touched_cap ? s->touched_cap * 2 : 8;
        s->touched = realloc(s->touched, s->touched_cap * sizeof *s->touched);
        RS_ASSERT(s->touched != NULL);
    }
    n->host_touched = true;
    s->touched[s->touched_count++] = n;
}

void rs_store_untouch(struct rs_store *s)
{
    for (size_t i = 0; i < s->touched_count; i++) {
        s->touched[i]->host_touched = false;
    }
    s->touched_count = 0;
}

static struct rs_node *replica_add(struct rs_store *s, const struct rs_region *region,
                                   const struct rs_conf *conf, const struct rs_raft_config *raft);
static void out_move(struct rs_store *s, struct rs_node *n);

/*
 * A replica applied a split: the new region's replica starts here from the split's snapshot,
 * unless this store already has one that holds something (created by its leader's messages,
 * or recovered from its own files): then that one is the region's, and the snapshot is
 * dropped. The child's effects go out before the parent's, so its initial snapshot is written
 * before anything the parent does after the split.
 */
static void adopt_splits(struct rs_store *s, struct rs_node *n)
{
    while (n->split.pending) {
        struct rs_node *child = rs_store_replica(s, n->split.child_id);
        if (child == NULL) {
            struct rs_region placeholder;
            rs_region_init(&placeholder, n->split.child_id, (struct rs_bytes){NULL, 0},
                           (struct rs_bytes){NULL, 0});
            child = replica_add(s, &placeholder, NULL, &n->raft.cfg); /* the parent's options */
            rs_region_free(&placeholder);
            child->initialized = false;
        }
        if (rs_node_empty(child)) {
            enum rs_err err = rs_node_bootstrap(child, n->raft.now_ns, &n->split.conf,
                                                n->split.snapshot, n->split.snapshot_size);
            RS_ASSERT(err == RS_OK || err == RS_ESHUTDOWN);
        }
        touch(s, child);
        out_move(s, child);
        s->stats.splits++;
        rs_node_split_done(n);
    }
}

void rs_store_flush(struct rs_store *s, struct rs_node *n)
{
    touch(s, n);
    if (!s->recovering) {
        adopt_splits(s, n);
    }
    out_move(s, n);
}

/* Moves a replica's effects into the store's outbox. */
static void out_move(struct rs_store *s, struct rs_node *n)
{
    heap_update(s, n);
    struct rs_out *o = &n->out;
    /* raft messages carry no epoch; responses to clients carry the region's */
    for (size_t i = 0; i < o->msg_count; i++) {
        const struct rs_out_msg *m = &o->msgs[i];
        struct rs_region_epoch epoch = {0, 0};
        if (m->type == RS_MSG_KV_RESPONSE) {
            epoch = n->region.epoch;
        }
        send_wrapped(s, m->to, m->type, n->region.id, epoch, o->bytes + m->offset, m->size);
    }
    char prefix[RS_STORE_PREFIX_SIZE + 1];
    rs_store_prefix(n->region.id, prefix);
    for (size_t i = 0; i < o->disk_count; i++) {
        const struct rs_out_disk *d = &o->disk[i];
        char name[RS_FILE_NAME_MAX], name2[RS_FILE_NAME_MAX];
        prefixed(prefix, d->name, name);
        prefixed(prefix, d->name2, name2);
        uint64_t id;
        if (d->kind == RS_DISK_WRITE) {
            id = rs_out_disk_op(&s->out, RS_DISK_WRITE, name, NULL, d->offset,
                                o->bytes + d->data_offset, d->data_size);
        } else {
            id = rs_out_disk_op(&s->out, (enum rs_disk_kind)d->kind, name,
                                name2[0] ? name2 : NULL, d->offset, NULL, 0);
        }
        ops_push(s, id, n->region.id, d->id);
    }
    rs_out_clear(o);
}

/* The files of one region, with the prefix taken off. */
static size_t region_files(const char *prefix, const struct rs_file_view *files, size_t count,
                           struct rs_file_view *out)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        if (strncmp(files[i].name, prefix, RS_STORE_PREFIX_SIZE) == 0) {
            out[n] = files[i];
            out[n].name = files[i].name + RS_STORE_PREFIX_SIZE;
            n++;
        }
    }
    return n;
}

/* A file named "r<hex16>-..." belongs to that region. */
static bool file_region(const char *name, uint64_t *id)
{
    char hex[17];
    if (name[0] != 'r' || strlen(name) < RS_STORE_PREFIX_SIZE || name[17] != '-') {
        return false;
    }
    memcpy(hex, name + 1, 16);
    hex[16] = '\0';
    return rs_hex16_parse(hex, id) && *id != RS_REGION_ID_NONE;
}

static enum rs_err recover_one(struct rs_store *s, uint64_t now_ns, struct rs_node *n,
                               const struct rs_file_view *files, size_t file_count)
{
    char prefix[RS_STORE_PREFIX_SIZE + 1];
    rs_store_prefix(n->region.id, prefix);
    struct rs_file_view *mine = malloc((file_count ? file_count : 1) * sizeof *mine);
    RS_ASSERT(mine != NULL);
    size_t count = region_files(prefix, files, file_count, mine);
    enum rs_err err = rs_node_recover(n, now_ns, mine, count);
    free(mine);
    rs_store_flush(s, n);
    return err;
}

enum rs_err rs_store_recover(struct rs_store *s, uint64_t now_ns, const struct rs_store_boot *boot,
                             size_t boot_count, const struct rs_file_view *files,
                             size_t file_count)
{
    RS_ASSERT(s->replica_count == 0);
    for (size_t i = 0; i < boot_count; i++) {
        replica_add(s, boot[i].region, boot[i].conf, boot[i].raft);
    }
    /* regions found only on disk: their snapshot brings the range */
    for (size_t i = 0; i < file_count; i++) {
        uint64_t id;
        if (file_region(files[i].name, &id) && rs_store_replica(s, id) == NULL) {
            struct rs_region r;
            rs_region_init(&r, id, (struct rs_bytes){NULL, 0}, (struct rs_bytes){NULL, 0});
            replica_add(s, &r, NULL, NULL)->initialized = false;
            rs_region_free(&r);
        }
    }
    /* every replica recovers from its own files before splits found in the logs create any */
    enum rs_err first = RS_OK;
    s->recovering = true;
    size_t count = s->replica_count;
    for (size_t i = 0; i < count; i++) {
        enum rs_err err = recover_one(s, now_ns, s->replicas[i], files, file_count);
        first = first == RS_OK ? err : first;
    }
    s->recovering = false;
    for (size_t i = 0; i < count; i++) {
        /* by id: a child made here has a higher id, so the loop reaches it too */
        rs_store_flush(s, s->replicas[i]);
        count = s->replica_count;
    }
    return first;
}

/* The store answers a client itself: no such region, or a stale epoch. */
static void refuse_request(struct rs_store *s, rs_node_id from, const struct rs_envelope *env,
                           const struct rs_node *n, enum rs_err status)
{
    struct rs_kv_request req;
    if (rs_kv_request_frame_decode(env->inner, &req) != RS_OK) {
        s->stats.corrupt_frames++;
        return;
    }
    struct rs_kv_response resp = {.request_id = req.request_id,
                                  .client_id = req.client_id,
                                  .seq = req.seq,
                                  .status = status,
                                  .leader_hint = n != NULL ? n->raft.leader_id : RS_NODE_NONE};
    size_t size = rs_kv_response_frame_size(&resp);
    if (size > s->scratch_cap) {
        s->scratch = realloc(s->scratch, size);
        RS_ASSERT(s->scratch != NULL);
        s->scratch_cap = size;
    }
    size_t written;
    enum rs_err err = rs_kv_response_frame_encode(&resp, s->scratch, size, &written);
    RS_ASSERT(err == RS_OK);
    struct rs_region_epoch epoch = n != NULL ? n->region.epoch : (struct rs_region_epoch){0, 0};
    send_wrapped(s, from, RS_MSG_KV_RESPONSE, env->region_id, epoch, s->scratch, written);
}

/*
 * RheaKV's requireSameEpoch refuses any difference. A request that knows a newer epoch than
 * this replica is not stale, the replica is behind: it goes on, so a follower answers "not
 * the leader" with its hint (instead of "stale epoch", which would send the client back here),
 * and the range checks at request, apply and read time stay the authority.
 */
static bool epoch_older(struct rs_region_epoch a, struct rs_region_epoch b)
{
    return a.version < b.version || (a.version == b.version && a.conf_ver < b.conf_ver);
}

void rs_store_recv(struct rs_store *s, uint64_t now_ns, rs_node_id from, const uint8_t *frame,
                   size_t size)
{
    struct rs_envelope env;
    if (rs_envelope_decode(frame, size, &env) != RS_OK) {
        s->stats.corrupt_frames++; /* bit flips on the wire end here */
        return;
    }
    unsigned type = env.inner.size >= RS_FRAME_HEADER_SIZE ? rs_get_u16(env.inner.data + 4) : 0;
    struct rs_node *n = rs_store_replica(s, env.region_id);
    if (type == RS_MSG_KV_REQUEST) {
        if (n == NULL || !n->initialized) {
            s->stats.no_region++;
            refuse_request(s, from, &env, NULL, RS_ENOREGION);
            return;
        }
        if (epoch_older(env.epoch, n->region.epoch)) {
            s->stats.epoch_mismatch++;
            refuse_request(s, from, &env, n, RS_EEPOCH);
            return;
        }
    } else if (n == NULL && (type == RS_MSG_APPEND_REQUEST || type == RS_MSG_SNAPSHOT_REQUEST) &&
               env.region_id != RS_REGION_ID_NONE) {
        /* a leader replicates a region this store should hold (a split it has not applied,
         * or an added replica): an empty replica with no members takes it in */
        struct rs_region placeholder;
        rs_region_init(&placeholder, env.region_id, (struct rs_bytes){NULL, 0},
                       (struct rs_bytes){NULL, 0});
        n = replica_add(s, &placeholder, NULL, NULL);
        rs_region_free(&placeholder);
        n->initialized = false;
        s->stats.created_on_demand++;
    } else if (n == NULL) {
        s->stats.unknown_region++;
        return;
    }
    rs_node_recv(n, now_ns, from, env.inner.data, env.inner.size);
    rs_store_flush(s, n);
}

void rs_store_tick(struct rs_store *s, uint64_t now_ns)
{
    /* the due replicas first, in (deadline, region id) order: each is ticked once, and a tick
     * that splits a region adds a replica without disturbing the walk */
    size_t due = 0;
    while (s->heap_count > due && s->heap[0]->store_deadline <= now_ns) {
        struct rs_node *n = s->heap[0];
        s->due[due++] = n;
        n->store_deadline = UINT64_MAX; /* out of the way until it is refiled */
        heap_sift(s, 0);
    }
    for (size_t i = 0; i < due; i++) {
        rs_node_tick(s->due[i], now_ns);
        rs_store_flush(s, s->due[i]);
    }
}

void rs_store_disk_done(struct rs_store *s, uint64_t now_ns, uint64_t id, enum rs_err err)
{
    /* completions arrive in submission order: the FIFO's head is this one */
    RS_ASSERT(s->op_count > 0);
    struct rs_store_op op = s->ops[s->op_head];
    RS_ASSERT(op.id == id);
    s->op_head = (s->op_head + 1) % s->op_cap;
    s->op_count--;
    struct rs_node *n = rs_store_replica(s, op.region_id);
    if (n != NULL) {
        rs_node_disk_done(n, now_ns, op.inner_id, err);
        rs_store_flush(s, n);
    }
}

uint64_t rs_store_deadline(const struct rs_store *s)
{
    return s->heap_count > 0 ? s->heap[0]->store_deadline : UINT64_MAX;
}
