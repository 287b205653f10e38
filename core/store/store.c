/* A store: routes envelopes to its region replicas and merges their effects into one outbox. */
#include "core/store/store.h"

#include "core/kv/kv_cmd.h"
#include "core/pd/msg.h"
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
    rs_tombstones_init(&s->tombstones);
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
    for (size_t i = 0; i < s->destroyed_count; i++) {
        rs_node_free(s->destroyed[i]);
        free(s->destroyed[i]);
    }
    free(s->destroyed);
    rs_tombstones_free(&s->tombstones);
    for (uint32_t i = 0; i < s->pending_vote_count; i++) {
        free(s->pending_votes[i].frame);
    }
    free(s->ops);
    free(s->scratch);
    free(s->pd_last);
    free(s->pd_log);
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
    for (size_t i = 0; i < s->destroyed_count; i++) {
        rs_node_free(s->destroyed[i]);
        free(s->destroyed[i]);
    }
    s->destroyed_count = 0;
}

static struct rs_node *replica_add(struct rs_store *s, const struct rs_region *region,
                                   const struct rs_conf *conf, const struct rs_raft_config *raft);
static void out_move(struct rs_store *s, struct rs_node *n);
static void gc_after_flush(struct rs_store *s, struct rs_node *n);
static bool split_child_tombstoned(struct rs_store *s, uint64_t child_id);

static void hold_vote(struct rs_store *s, uint64_t region_id, rs_node_id from,
                      struct rs_bytes inner)
{
    if (s->pending_vote_count == RS_STORE_PENDING_VOTES_MAX) {
        free(s->pending_votes[0].frame);
        memmove(s->pending_votes, s->pending_votes + 1,
                (RS_STORE_PENDING_VOTES_MAX - 1) * sizeof s->pending_votes[0]);
        s->pending_vote_count--;
    }
    uint8_t *copy = malloc(inner.size ? inner.size : 1);
    RS_ASSERT(copy != NULL);
    memcpy(copy, inner.data, inner.size);
    s->pending_votes[s->pending_vote_count++] = (struct rs_store_pending_vote){
        .region_id = region_id, .from = from, .frame = copy, .size = inner.size};
}

/* The held vote requests of a region that now has its replica, in arrival order. */
static void replay_votes(struct rs_store *s, struct rs_node *n)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < s->pending_vote_count; i++) {
        struct rs_store_pending_vote *v = &s->pending_votes[i];
        if (v->region_id != n->region.id) {
            s->pending_votes[kept++] = *v;
            continue;
        }
        rs_node_recv(n, n->raft.now_ns, v->from, v->frame, v->size);
        free(v->frame);
        s->stats.votes_replayed++;
    }
    s->pending_vote_count = kept;
}

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
        if (child == NULL && split_child_tombstoned(s, n->split.child_id)) {
            rs_node_split_done(n); /* the child dropped this store since: no stale replica */
            continue;
        }
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
            if (err == RS_OK && n->raft.role == RS_LEADER) {
                /* the parent's leader leads the new region too, without a timeout's wait */
                rs_node_campaign(child, n->raft.now_ns);
            }
            replay_votes(s, child);
        }
        touch(s, child);
        out_move(s, child);
        s->stats.splits++;
        rs_node_split_done(n);
    }
}

static void hibernate_signal(struct rs_store *s, struct rs_node *n);

void rs_store_flush(struct rs_store *s, struct rs_node *n)
{
    touch(s, n);
    if (!s->recovering) {
        adopt_splits(s, n);
    }
    out_move(s, n);
    hibernate_signal(s, n);
    gc_after_flush(s, n); /* last: it may destroy n */
}

/* ---- hibernation: the store-level wake signal ---- */

void rs_store_wake(struct rs_store *s, uint64_t now_ns, rs_node_id leader)
{
    /* by index: waking touches no other replica and adds none */
    for (size_t i = 0; i < s->replica_count; i++) {
        struct rs_node *n = s->replicas[i];
        bool follows = n->raft.role == RS_FOLLOWER && n->raft.leader_id == leader;
        if (rs_raft_hibernating(&n->raft) && (leader == RS_NODE_NONE || follows)) {
            rs_node_wake(n, now_ns);
            touch(s, n);
            out_move(s, n);
        }
    }
}

/*
 * A replica's election timer found its leader silent (core/raft/hibernate.c): the other
 * replicas here that sleep under the same leader would not notice until a client turns to
 * them, so they all wake now (TiKV wakes the regions of a store it finds unreachable). Each
 * asks that leader to heartbeat and campaigns if it does not: the regions it led recover
 * together, as they would without hibernation.
 */
static void hibernate_signal(struct rs_store *s, struct rs_node *n)
{
    rs_node_id lost = n->raft.hib_lost_leader;
    if (lost == RS_NODE_NONE) {
        return;
    }
    n->raft.hib_lost_leader = RS_NODE_NONE;
    rs_store_wake(s, n->raft.now_ns, lost);
}

/* Moves a replica's effects into the store's outbox. */
static void out_move(struct rs_store *s, struct rs_node *n)
{
    heap_update(s, n);
    struct rs_out *o = &n->out;
    /* every message carries the region's epoch as applied here: a client learns it from a
     * response, a peer tells from a raft message that the sender missed its removal */
    for (size_t i = 0; i < o->msg_count; i++) {
        const struct rs_out_msg *m = &o->msgs[i];
        send_wrapped(s, m->to, m->type, n->region.id, n->region.epoch, o->bytes + m->offset,
                     m->size);
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

/* ---- Removed replicas: destroyed, with a tombstone ---- */

/*
 * A replica leaves its store when its region drops it (TiKV's tombstone peers), two ways:
 *
 * 1. It applies a configuration that no longer names it, having been a member of the one
 *    before, and no configuration entry after its applied index names it again. Only once
 *    no leader has replicated to it for an election timeout: a leader that adds the store
 *    back catches the replica up (the removal included) before a configuration names it.
 * 2. It missed that (a leader stops replicating to a removed peer at once) and sends a raft
 *    message to a replica R whose applied configuration, later configuration entries and
 *    peer table do not name it, with an older conf_ver than R's: R's store answers with a
 *    removal notice carrying R's epoch E (a leader also sends one to each peer that a
 *    configuration it applies removes). The sender's store destroys its replica only if E
 *    is newer than its conf_ver, its whole log, applied or not, reaches a conf_ver below E,
 *    and no leader but the notice's sender replicated to it within an election timeout.
 *
 * Destroying deletes the replica's files and keeps a tombstone: the conf_ver at the removal
 * (E) and the replica's term.
 *
 * Why this is safe. The configuration K at conf_ver E leaves the replica out and is committed
 * (R applied it). Raft lets a server outside a committed configuration be shut down; the
 * danger is a server that comes back with less than it promised, and with ids reused a store
 * can come back as a member of a later configuration C (added back) that counted on the old
 * replica. Not on its log: a leader counts an acknowledgement only for an entry of its own
 * term, and a leader whose configuration is C (after K) either had K in its log when its term
 * began, or appended K itself and began the next change only once K committed; so that entry
 * lies after K, and the acknowledging log holds K. In case 1 such a replica applied K and no
 * later configuration in its log names it; in case 2 its log reaches conf_ver E. Either way
 * what it acknowledged under C is not lost. Nor its vote: a replica made again starts in the
 * term after the tombstone's, so it never votes twice in a term, and a leader of the old
 * replica's term that still counts its acknowledgements (a partition hid the removal from
 * it) hears of the newer term and steps down. A replica comes back only for a message whose
 * conf_ver is not older than E: only a leader that applied K and adds the store back (staging
 * it first, or with a later configuration) sends to it then; older messages are stale and
 * refused. It may start from an older snapshot that names it a voter, so it neither votes nor
 * campaigns until it has applied conf_ver E (raft's elections_barred); until then the
 * tombstone stays, marked REVIVED, so that a restart keeps the bar.
 */

/* Store-level disk operations: struct rs_store_op with region RS_REGION_ID_NONE and a tag. */
#define STORE_OP_ORPHAN    0u /* a destroyed replica's: the completion goes nowhere */
#define STORE_OP_TOMBSTONE 1u /* writing the tombstone file */
#define STORE_OP_CLEANUP   2u /* deleting a destroyed replica's files */

static void store_op(struct rs_store *s, enum rs_disk_kind kind, const char *name,
                     const char *name2, const void *data, size_t size, uint64_t tag)
{
    uint64_t id = rs_out_disk_op(&s->out, kind, name, name2, 0, data, size);
    ops_push(s, id, RS_REGION_ID_NONE, tag);
}

static void store_op_done(struct rs_store *s, const struct rs_store_op *op, enum rs_err err)
{
    RS_ASSERT(op->region_id == RS_REGION_ID_NONE);
    if (op->inner_id == STORE_OP_TOMBSTONE && err != RS_OK) {
        s->stats.tombstone_file_errors++;
        s->tombstones_retry = true;
    }
}

static void scratch_reserve(struct rs_store *s, size_t size)
{
    if (size > s->scratch_cap) {
        s->scratch = realloc(s->scratch, size);
        RS_ASSERT(s->scratch != NULL);
        s->scratch_cap = size;
    }
}

/* The whole set, to a fresh temporary file, synced, renamed over the file (never half). */
static void tombstones_write(struct rs_store *s)
{
    size_t size = rs_tombstones_file_size(&s->tombstones);
    scratch_reserve(s, size);
    rs_tombstones_encode(&s->tombstones, s->scratch, size);
    const char *tmp = RS_TOMBSTONE_FILE_TMP;
    store_op(s, RS_DISK_REMOVE, tmp, NULL, NULL, 0, STORE_OP_TOMBSTONE);
    store_op(s, RS_DISK_WRITE, tmp, NULL, s->scratch, size, STORE_OP_TOMBSTONE);
    store_op(s, RS_DISK_SYNC, tmp, NULL, NULL, 0, STORE_OP_TOMBSTONE);
    store_op(s, RS_DISK_RENAME, tmp, RS_TOMBSTONE_FILE, NULL, 0, STORE_OP_TOMBSTONE);
    s->tombstones_retry = false;
}

/* A damaged file is a known loss: see tombstones_unreadable. */
static void tombstones_load(struct rs_store *s, const struct rs_file_view *files, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (strcmp(files[i].name, RS_TOMBSTONE_FILE) == 0 &&
            rs_tombstones_decode(&s->tombstones, files[i].data, files[i].size) != RS_OK) {
            s->tombstones_unreadable = true;
            s->stats.tombstone_file_errors++;
        }
    }
}

static void files_remove(struct rs_store *s, uint64_t region_id)
{
    char prefix[RS_STORE_PREFIX_SIZE + 1];
    rs_store_prefix(region_id, prefix);
    store_op(s, RS_DISK_REMOVE_PREFIX, prefix, NULL, NULL, 0, STORE_OP_CLEANUP);
}

/* A region's operations in flight complete into nothing: a replica made again later has ids
 * of its own. */
static void ops_orphan(struct rs_store *s, uint64_t region_id)
{
    for (size_t i = 0; i < s->op_count; i++) {
        struct rs_store_op *op = &s->ops[(s->op_head + i) % s->op_cap];
        if (op->region_id == region_id) {
            op->region_id = RS_REGION_ID_NONE;
            op->inner_id = STORE_OP_ORPHAN;
        }
    }
}

static void heap_remove(struct rs_store *s, struct rs_node *n)
{
    size_t i = n->store_heap_index;
    RS_ASSERT(i < s->heap_count && s->heap[i] == n);
    struct rs_node *last = s->heap[--s->heap_count];
    if (last != n) {
        heap_place(s, i, last);
        heap_sift(s, i);
    }
}

/* Out of the replica list and the timer heap, onto the destroyed list (still touched). */
static void replica_unlink(struct rs_store *s, struct rs_node *n)
{
    size_t at = replica_lower_bound(s, n->region.id);
    RS_ASSERT(at < s->replica_count && s->replicas[at] == n);
    memmove(s->replicas + at, s->replicas + at + 1,
            (s->replica_count - at - 1) * sizeof *s->replicas);
    s->replica_count--;
    heap_remove(s, n);
    if (s->destroyed_count == s->destroyed_cap) {
        s->destroyed_cap = s->destroyed_cap ? s->destroyed_cap * 2 : 4;
        s->destroyed = realloc(s->destroyed, s->destroyed_cap * sizeof *s->destroyed);
        RS_ASSERT(s->destroyed != NULL);
    }
    s->destroyed[s->destroyed_count++] = n;
    s->stats.retired_reads_answered += n->stats.reads_answered;
    s->stats.retired_writes_answered += n->stats.writes_answered;
    s->stats.retired_snapshot_bytes_sent += n->raft.stats.snapshot_bytes_sent;
}

/* The tombstone is durable before the files go: operations complete in submission order. */
static void replica_destroy(struct rs_store *s, struct rs_node *n, uint64_t conf_ver)
{
    uint64_t id = n->region.id;
    struct rs_tombstone t = {.region_id = id, .conf_ver = conf_ver, .term = n->raft.term,
                             .state = RS_TOMBSTONE_DESTROYED};
    const struct rs_tombstone *old = rs_tombstones_find(&s->tombstones, id);
    if (old != NULL) { /* never lowered: both only ever grew along the region */
        t.conf_ver = old->conf_ver > t.conf_ver ? old->conf_ver : t.conf_ver;
        t.term = old->term > t.term ? old->term : t.term;
    }
    rs_tombstones_put(&s->tombstones, &t);
    touch(s, n);
    ops_orphan(s, id);
    tombstones_write(s);
    files_remove(s, id);
    replica_unlink(s, n);
    s->stats.replicas_destroyed++;
}

/* Whether the store knows id as a peer of the region: named by a configuration applied or in
 * the log, or replicated to (a new voter catching up is in the peer table only). */
static bool peer_known(const struct rs_node *n, rs_node_id id)
{
    const struct rs_raft *r = &n->raft;
    if (rs_conf_is_member(&n->applied_conf, id) || rs_conf_is_member(&r->conf, id) ||
        rs_node_later_conf_has(n, id)) {
        return true;
    }
    for (uint32_t i = 0; i < r->peer_count; i++) {
        if (r->progress[i].id == id) {
            return true;
        }
    }
    return false;
}

static void send_removed(struct rs_store *s, const struct rs_node *n, rs_node_id to)
{
    uint8_t inner[RS_REMOVED_NOTICE_SIZE];
    size_t size = rs_removed_notice_encode(inner, to);
    send_wrapped(s, to, RS_MSG_PEER_REMOVED, n->region.id, n->region.epoch, inner, size);
    s->stats.removed_notices_sent++;
}

/* A raft message from a store the region dropped, which does not know it yet (case 2). */
static bool sender_removed(const struct rs_node *n, rs_node_id from, const struct rs_envelope *env,
                           unsigned type)
{
    bool raft = type >= RS_MSG_VOTE_REQUEST && type <= RS_MSG_READ_INDEX_RESPONSE;
    return raft && n->initialized && from != n->id && from != RS_NODE_NONE &&
           from <= RS_NODE_ID_MAX && env->epoch.conf_ver < n->region.epoch.conf_ver &&
           !peer_known(n, from);
}

/* A leader replicated to this replica within an election timeout: it is still wanted (a
 * leader adding the store back catches it up before any configuration names it). */
static bool leader_recent(const struct rs_node *n)
{
    const struct rs_raft *r = &n->raft;
    return r->leader_id != RS_NODE_NONE &&
           r->now_ns - r->last_leader_contact_ns < r->cfg.election_timeout_ns;
}

/* Case 2 at the removed replica's store: the notice's epoch is newer than anything its log
 * could reach, and no other leader is replicating to it. An uninitialized replica holds
 * nothing that could be stale: it stays. */
static bool removed_by_notice(const struct rs_node *n, rs_node_id from, uint64_t conf_ver)
{
    return n->initialized && conf_ver > n->region.epoch.conf_ver &&
           rs_node_log_conf_ver(n) < conf_ver &&
           (!leader_recent(n) || from == n->raft.leader_id);
}

static void recv_removed(struct rs_store *s, rs_node_id from, const struct rs_envelope *env)
{
    rs_node_id peer;
    if (rs_removed_notice_decode(env->inner, &peer) != RS_OK) {
        s->stats.corrupt_frames++;
        return;
    }
    s->stats.removed_notices_received++;
    struct rs_node *n = rs_store_replica(s, env->region_id);
    if (peer == s->id && n != NULL && removed_by_notice(n, from, env->epoch.conf_ver)) {
        replica_destroy(s, n, env->epoch.conf_ver);
    }
}

/* Case 1: the configuration applied here and every later one in the log leave it out. */
static bool removal_final(const struct rs_node *n)
{
    return n->raft.role != RS_LEADER && !rs_conf_is_member(&n->applied_conf, n->id) &&
           !rs_conf_is_member(&n->raft.conf, n->id) && !rs_node_later_conf_has(n, n->id);
}

/* A leader applied configurations that dropped peers: tell those it does not know again. */
static void notify_removed(struct rs_store *s, struct rs_node *n)
{
    uint64_t ids = n->peers_removed;
    n->peers_removed = 0;
    for (rs_node_id id = 1; id <= RS_NODE_ID_MAX; id++) {
        if (((ids >> id) & 1u) != 0 && !peer_known(n, id)) {
            send_removed(s, n, id);
        }
    }
}

/* A replica made again over a tombstone applied the tombstone's conf_ver: a member like any. */
static void revived_settled(struct rs_store *s, struct rs_node *n)
{
    n->revived = false;
    if (rs_tombstones_drop(&s->tombstones, n->region.id)) {
        tombstones_write(s);
    }
}

static void gc_after_flush(struct rs_store *s, struct rs_node *n)
{
    if (n->peers_removed != 0) {
        notify_removed(s, n);
    }
    if (n->revived && !n->raft.elections_barred) {
        revived_settled(s, n);
    }
    if (n->removal_applied && !s->recovering) {
        /* a leader still replicating to it is adding it back: wait (ticks come back here) */
        n->removal_applied = removal_final(n);
        if (n->removal_applied && !leader_recent(n)) {
            replica_destroy(s, n, n->region.epoch.conf_ver);
        }
    }
}

static void revived_restore(struct rs_node *n, const struct rs_tombstone *t)
{
    rs_raft_adopt_term(&n->raft, t->term + 1);
    rs_node_bar_elections(n, t->conf_ver);
}

/* A message of a region this store holds no replica of: a leader's append or snapshot makes
 * one (a split not applied here yet, an added replica, a store added back), unless the region
 * dropped this store at a newer conf_ver than the message's. */
static struct rs_node *replica_on_demand(struct rs_store *s, rs_node_id from,
                                         const struct rs_envelope *env, unsigned type)
{
    struct rs_tombstone *t = rs_tombstones_find(&s->tombstones, env->region_id);
    if (t != NULL && env->epoch.conf_ver < t->conf_ver) {
        s->stats.tombstone_refusals++;
        return NULL;
    }
    bool creates = type == RS_MSG_APPEND_REQUEST || type == RS_MSG_SNAPSHOT_REQUEST;
    if (!creates || env->region_id == RS_REGION_ID_NONE) {
        s->stats.unknown_region++;
        if (type == RS_MSG_VOTE_REQUEST && env->region_id != RS_REGION_ID_NONE) {
            hold_vote(s, env->region_id, from, env->inner);
        }
        return NULL;
    }
    /* an empty replica with no members takes the leader's state in */
    struct rs_region placeholder;
    rs_region_init(&placeholder, env->region_id, (struct rs_bytes){NULL, 0},
                   (struct rs_bytes){NULL, 0});
    struct rs_node *n = replica_add(s, &placeholder, NULL, NULL);
    rs_region_free(&placeholder);
    n->initialized = false;
    s->stats.created_on_demand++;
    if (t != NULL) {
        revived_restore(n, t);
        s->stats.replicas_revived++;
        if (t->state != RS_TOMBSTONE_REVIVED) {
            t->state = RS_TOMBSTONE_REVIVED;
            tombstones_write(s); /* before the replica's files: a restart keeps the bar */
        }
    }
    return n;
}

static bool split_child_tombstoned(struct rs_store *s, uint64_t child_id)
{
    bool tombstoned = rs_tombstones_find(&s->tombstones, child_id) != NULL;
    s->stats.tombstone_refusals += tombstoned;
    return tombstoned;
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
    const struct rs_tombstone *t = rs_tombstones_find(&s->tombstones, n->region.id);
    if (t != NULL && t->state == RS_TOMBSTONE_REVIVED) {
        revived_restore(n, t); /* still short of its tombstone's configuration */
    }
    rs_store_flush(s, n);
    return err;
}

static bool region_has_files(uint64_t region_id, const struct rs_file_view *files, size_t count)
{
    uint64_t id;
    for (size_t i = 0; i < count; i++) {
        if (file_region(files[i].name, &id) && id == region_id) {
            return true;
        }
    }
    return false;
}

/*
 * The boot regions, then the regions found only on disk (their snapshot brings the range).
 * A tombstoned region is not booted: it comes back through its leader, or from its own files
 * when it was made again. The files of a destroyed replica that a crash kept go now.
 */
static void recover_replicas(struct rs_store *s, const struct rs_store_boot *boot,
                             size_t boot_count, const struct rs_file_view *files,
                             size_t file_count)
{
    for (size_t i = 0; i < boot_count; i++) {
        uint64_t id = boot[i].region->id;
        if (rs_tombstones_find(&s->tombstones, id) != NULL) {
            continue;
        }
        /* with the tombstones unreadable, a region without files may be one destroyed here:
         * it waits to be added instead of booting as a member */
        bool unsure = s->tombstones_unreadable && !region_has_files(id, files, file_count);
        replica_add(s, boot[i].region, unsure ? NULL : boot[i].conf, boot[i].raft);
    }
    uint64_t cleaned = RS_REGION_ID_NONE;
    for (size_t i = 0; i < file_count; i++) {
        uint64_t id;
        if (!file_region(files[i].name, &id) || rs_store_replica(s, id) != NULL) {
            continue;
        }
        const struct rs_tombstone *t = rs_tombstones_find(&s->tombstones, id);
        if (t != NULL && t->state == RS_TOMBSTONE_DESTROYED) {
            if (id != cleaned) {
                files_remove(s, id);
                cleaned = id;
            }
            continue;
        }
        struct rs_region r;
        rs_region_init(&r, id, (struct rs_bytes){NULL, 0}, (struct rs_bytes){NULL, 0});
        replica_add(s, &r, NULL, NULL)->initialized = false;
        rs_region_free(&r);
    }
}

enum rs_err rs_store_recover(struct rs_store *s, uint64_t now_ns, const struct rs_store_boot *boot,
                             size_t boot_count, const struct rs_file_view *files,
                             size_t file_count)
{
    RS_ASSERT(s->replica_count == 0);
    tombstones_load(s, files, file_count);
    recover_replicas(s, boot, boot_count, files, file_count);
    /* every replica recovers from its own files before splits found in the logs create any */
    enum rs_err first = RS_OK;
    s->recovering = true;
    size_t count = s->replica_count;
    for (size_t i = 0; i < count; i++) {
        enum rs_err err = recover_one(s, now_ns, s->replicas[i], files, file_count);
        first = first == RS_OK ? err : first;
    }
    s->recovering = false;
    /* by id: a child made here has a higher id, so the walk reaches it too, and a replica
     * destroyed on the way takes nothing else with it */
    for (size_t i = 0; i < s->replica_count;) {
        uint64_t id = s->replicas[i]->region.id;
        rs_store_flush(s, s->replicas[i]);
        i = replica_lower_bound(s, id + 1);
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

static bool pd_recv(struct rs_store *s, uint64_t now_ns, rs_node_id from, const uint8_t *frame,
                    size_t size);

void rs_store_recv(struct rs_store *s, uint64_t now_ns, rs_node_id from, const uint8_t *frame,
                   size_t size)
{
    if (s->pd != RS_NODE_NONE && pd_recv(s, now_ns, from, frame, size)) {
        return;
    }
    struct rs_envelope env;
    if (rs_envelope_decode(frame, size, &env) != RS_OK) {
        s->stats.corrupt_frames++; /* bit flips on the wire end here */
        return;
    }
    unsigned type = env.inner.size >= RS_FRAME_HEADER_SIZE ? rs_get_u16(env.inner.data + 4) : 0;
    if (type == RS_MSG_PEER_REMOVED) {
        recv_removed(s, from, &env);
        return;
    }
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
    } else if (n == NULL) {
        n = replica_on_demand(s, from, &env, type);
        if (n == NULL) {
            return;
        }
    } else if (sender_removed(n, from, &env, type)) {
        send_removed(s, n, from); /* and the message goes on: raft judges it as before */
    }
    rs_node_recv(n, now_ns, from, env.inner.data, env.inner.size);
    rs_store_flush(s, n);
}

static void pd_heartbeat(struct rs_store *s, uint64_t now_ns);

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
    if (s->tombstones_retry) {
        tombstones_write(s);
    }
    if (s->pd != RS_NODE_NONE && now_ns >= s->pd_next_ns) {
        pd_heartbeat(s, now_ns);
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
    if (op.region_id == RS_REGION_ID_NONE) {
        store_op_done(s, &op, err); /* the store's own, or a destroyed replica's */
        return;
    }
    struct rs_node *n = rs_store_replica(s, op.region_id);
    if (n != NULL) {
        rs_node_disk_done(n, now_ns, op.inner_id, err);
        rs_store_flush(s, n);
    }
}

uint64_t rs_store_deadline(const struct rs_store *s)
{
    uint64_t top = s->heap_count > 0 ? s->heap[0]->store_deadline : UINT64_MAX;
    return s->pd != RS_NODE_NONE && s->pd_next_ns < top ? s->pd_next_ns : top;
}

/* ---- the Placement Driver: heartbeats out, instructions in ---- */

void rs_store_pd_attach(struct rs_store *s, const rs_node_id *pd_nodes, uint32_t pd_node_count,
                        uint64_t heartbeat_ns, uint64_t now_ns)
{
    RS_ASSERT(pd_node_count >= 1 && pd_node_count <= RS_STORE_PD_NODES_MAX);
    RS_ASSERT(heartbeat_ns > 0);
    for (uint32_t i = 0; i < pd_node_count; i++) {
        RS_ASSERT(pd_nodes[i] != RS_NODE_NONE && pd_nodes[i] != s->id);
        s->pd_nodes[i] = pd_nodes[i];
    }
    s->pd_node_count = pd_node_count;
    s->pd = pd_nodes[0];
    s->pd_acked = true; /* nothing sent yet: no reason to turn away from the first */
    s->pd_heartbeat_ns = heartbeat_ns;
    s->pd_next_ns = now_ns + heartbeat_ns;
    s->pd_last_ns = now_ns;
}

void rs_store_pd_log_clear(struct rs_store *s)
{
    s->pd_log_count = 0;
}

static bool replica_leads(const struct rs_node *n)
{
    return n->initialized && n->raft.role == RS_LEADER;
}

/* Per second over interval_ns, on integers; a counter that went back counts as 0. */
static uint64_t per_second(uint64_t now, uint64_t before, uint64_t interval_ns)
{
    if (now <= before || interval_ns == 0) {
        return 0;
    }
    return (now - before) * RS_NS_PER_S / interval_ns;
}

/* The region's counters at the last heartbeat (0 when it was not led here then). The walk
 * keeps *cursor moving forward: regions come in id order. */
static const struct rs_store_pd_last *pd_last_find(const struct rs_store *s, size_t *cursor,
                                                   uint64_t region_id)
{
    while (*cursor < s->pd_last_count && s->pd_last[*cursor].region_id < region_id) {
        (*cursor)++;
    }
    return *cursor < s->pd_last_count && s->pd_last[*cursor].region_id == region_id
               ? &s->pd_last[*cursor]
               : NULL;
}

static void pd_region_fill(const struct rs_node *n, const struct rs_store_pd_last *last,
                           uint64_t interval_ns, struct rs_pd_region *r)
{
    memset(r, 0, sizeof *r);
    r->id = n->region.id;
    r->epoch = n->region.epoch;
    r->start = (struct rs_bytes){n->region.start, n->region.start_size};
    r->end = (struct rs_bytes){n->region.end, n->region.end_size};
    r->leader = n->id;
    const struct rs_conf *c = &n->raft.conf;
    for (uint32_t i = 0; i < c->voter_count && r->voter_count < RS_PD_PEERS_MAX; i++) {
        r->voters[r->voter_count++] = c->voters[i];
    }
    for (uint32_t i = 0; i < c->learner_count && r->learner_count < RS_PD_PEERS_MAX; i++) {
        r->learners[r->learner_count++] = c->learners[i];
    }
    r->key_count = rs_kv_key_count(&n->kv);
    r->size_bytes = rs_kv_key_bytes(&n->kv) + rs_kv_value_bytes(&n->kv);
    r->read_qps = per_second(n->stats.reads_answered, last ? last->reads : 0, interval_ns);
    r->write_qps = per_second(n->stats.writes_answered, last ? last->writes : 0, interval_ns);
}

static void pd_send(struct rs_store *s, const struct rs_pd_heartbeat *hb)
{
    size_t size = rs_pd_heartbeat_frame_size(hb);
    size_t at = rs_out_reserve(&s->out, size);
    size_t written = 0;
    enum rs_err err = rs_pd_heartbeat_encode(hb, rs_out_at(&s->out, at), size, &written);
    RS_ASSERT(err == RS_OK && written == size);
    rs_out_msg(&s->out, s->pd, RS_PD_MSG_HEARTBEAT, at, size);
    s->stats.pd_heartbeats++;
}

/* The store's own figures: counts over every replica, QPS over every answer since the last. */
static void pd_store_stats(struct rs_store *s, uint64_t interval_ns, struct rs_pd_store_stats *st,
                           uint32_t *led)
{
    memset(st, 0, sizeof *st);
    st->store_id = s->id;
    uint64_t reads = 0, writes = 0;
    for (size_t i = 0; i < s->replica_count; i++) {
        const struct rs_node *n = s->replicas[i];
        st->region_count += n->initialized && rs_conf_is_member(&n->raft.conf, s->id);
        *led += replica_leads(n);
        st->key_count += rs_kv_key_count(&n->kv);
        st->size_bytes += rs_kv_key_bytes(&n->kv) + rs_kv_value_bytes(&n->kv);
        reads += n->stats.reads_answered;
        writes += n->stats.writes_answered;
    }
    st->leader_count = *led;
    st->read_qps = per_second(reads, s->pd_reads, interval_ns);
    st->write_qps = per_second(writes, s->pd_writes, interval_ns);
    s->pd_reads = reads;
    s->pd_writes = writes;
}

/* Remembers the led regions' counters for the next heartbeat's QPS. */
static void pd_last_keep(struct rs_store *s, uint32_t led)
{
    if (s->pd_last_cap < led) {
        s->pd_last_cap = led;
        s->pd_last = realloc(s->pd_last, s->pd_last_cap * sizeof *s->pd_last);
        RS_ASSERT(s->pd_last != NULL);
    }
    s->pd_last_count = 0;
    for (size_t i = 0; i < s->replica_count; i++) {
        const struct rs_node *n = s->replicas[i];
        if (replica_leads(n)) {
            s->pd_last[s->pd_last_count++] = (struct rs_store_pd_last){
                .region_id = n->region.id,
                .reads = n->stats.reads_answered,
                .writes = n->stats.writes_answered};
        }
    }
    RS_ASSERT(s->pd_last_count == led);
}

/* The PD node after the current one (the list's order, wrapping). */
static void pd_next_node(struct rs_store *s)
{
    uint32_t at = 0;
    while (at < s->pd_node_count && s->pd_nodes[at] != s->pd) {
        at++;
    }
    s->pd = s->pd_nodes[(at + 1) % s->pd_node_count];
}

static void pd_heartbeat(struct rs_store *s, uint64_t now_ns)
{
    if (!s->pd_acked) {
        pd_next_node(s); /* the last one went unanswered: that node is down or cut off */
    }
    s->pd_acked = false;
    uint64_t interval = now_ns - s->pd_last_ns;
    s->pd_last_ns = now_ns;
    s->pd_next_ns = now_ns + s->pd_heartbeat_ns;
    struct rs_pd_heartbeat *hb = malloc(sizeof *hb);
    RS_ASSERT(hb != NULL);
    uint32_t led = 0;
    pd_store_stats(s, interval, &hb->store, &led);
    hb->part_count = led == 0 ? 1 : (led + RS_PD_MSG_REGIONS_MAX - 1) / RS_PD_MSG_REGIONS_MAX;
    hb->part_index = 0;
    hb->region_count = 0;
    size_t cursor = 0;
    for (size_t i = 0; i < s->replica_count; i++) {
        const struct rs_node *n = s->replicas[i];
        if (!replica_leads(n)) {
            continue;
        }
        const struct rs_store_pd_last *last = pd_last_find(s, &cursor, n->region.id);
        pd_region_fill(n, last, interval, &hb->regions[hb->region_count++]);
        if (hb->region_count == RS_PD_MSG_REGIONS_MAX) {
            pd_send(s, hb);
            hb->part_index++;
            hb->region_count = 0;
        }
    }
    if (hb->region_count > 0 || led == 0) {
        pd_send(s, hb);
    }
    free(hb);
    pd_last_keep(s, led);
}

static void pd_log_push(struct rs_store *s, const struct rs_pd_instruction *in, bool executed,
                        enum rs_err result)
{
    if (s->pd_log_count == s->pd_log_cap) {
        s->pd_log_cap = s->pd_log_cap ? s->pd_log_cap * 2 : 8;
        s->pd_log = realloc(s->pd_log, s->pd_log_cap * sizeof *s->pd_log);
        RS_ASSERT(s->pd_log != NULL);
    }
    struct rs_store_pd_done *d = &s->pd_log[s->pd_log_count++];
    d->instruction = *in;
    d->instruction.split_key = (struct rs_bytes){NULL, 0};
    d->executed = executed;
    d->result = result;
    s->stats.pd_executed += executed;
    s->stats.pd_dropped += !executed;
}

static bool id_remove(rs_node_id *ids, uint32_t *count, rs_node_id id)
{
    for (uint32_t i = 0; i < *count; i++) {
        if (ids[i] == id) {
            memmove(ids + i, ids + i + 1, (*count - i - 1) * sizeof *ids);
            (*count)--;
            return true;
        }
    }
    return false;
}

/* The configuration a peer change asks for, from the replica's own; RS_EINVAL when it does
 * not apply (already there, not there, full), RS_EBUSY during a joint configuration. */
static enum rs_err pd_target_conf(const struct rs_node *n, const struct rs_pd_instruction *in,
                                  struct rs_conf *c)
{
    *c = n->raft.conf;
    if (rs_conf_joint(c)) {
        return RS_EBUSY;
    }
    rs_node_id id = in->store_id;
    bool member = rs_conf_is_member(c, id);
    switch (in->change) {
    case RS_PD_ADD_VOTER:
        if (rs_conf_in_voters(c, id) || c->voter_count == RS_CONF_VOTERS_MAX) {
            return RS_EINVAL;
        }
        id_remove(c->learners, &c->learner_count, id);
        c->voters[c->voter_count++] = id;
        return RS_OK;
    case RS_PD_ADD_LEARNER:
        if (member || c->learner_count == RS_CONF_LEARNERS_MAX) {
            return RS_EINVAL;
        }
        c->learners[c->learner_count++] = id;
        return RS_OK;
    case RS_PD_REMOVE_PEER:
        return id_remove(c->voters, &c->voter_count, id) ||
                       id_remove(c->learners, &c->learner_count, id)
                   ? RS_OK
                   : RS_EINVAL;
    case RS_PD_PROMOTE_LEARNER:
        if (!id_remove(c->learners, &c->learner_count, id) ||
            c->voter_count == RS_CONF_VOTERS_MAX) {
            return RS_EINVAL;
        }
        c->voters[c->voter_count++] = id;
        return RS_OK;
    }
    return RS_EINVAL;
}

static enum rs_err pd_execute(struct rs_node *n, uint64_t now_ns,
                              const struct rs_pd_instruction *in)
{
    switch (in->kind) {
    case RS_PD_TRANSFER_LEADER: return rs_node_transfer(n, now_ns, in->store_id);
    case RS_PD_RANGE_SPLIT:
        if (in->new_region_id == RS_REGION_ID_NONE) {
            return RS_EINVAL;
        }
        return rs_node_split(n, now_ns, in->split_key, in->new_region_id);
    case RS_PD_CHANGE_PEER: {
        struct rs_conf target;
        enum rs_err err = pd_target_conf(n, in, &target);
        if (err == RS_OK && rs_conf_validate(&target) != RS_OK) {
            err = RS_EINVAL;
        }
        return err == RS_OK ? rs_node_change_conf(n, now_ns, &target) : err;
    }
    }
    return RS_EINVAL;
}

/* One instruction: carried out only by the region's leader here, at the same epoch. */
static void pd_one(struct rs_store *s, uint64_t now_ns, const struct rs_pd_instruction *in)
{
    struct rs_node *n = rs_store_replica(s, in->region_id);
    if (n == NULL || !replica_leads(n)) {
        pd_log_push(s, in, false, RS_ENOTLEADER);
        return;
    }
    if (!rs_region_epoch_equal(n->region.epoch, in->epoch)) {
        pd_log_push(s, in, false, RS_EEPOCH); /* RheaKV: "instruction is out of date" */
        return;
    }
    enum rs_err err = pd_execute(n, now_ns, in);
    pd_log_push(s, in, err == RS_OK, err);
    rs_store_flush(s, n);
}

static void pd_instructions(struct rs_store *s, uint64_t now_ns, const uint8_t *frame,
                            size_t size)
{
    struct rs_pd_instructions *list = malloc(sizeof *list);
    RS_ASSERT(list != NULL);
    if (rs_pd_instructions_decode(frame, size, list) != RS_OK) {
        s->stats.pd_corrupt++;
        s->stats.corrupt_frames++; /* the world's corruption accounting counts these */
        free(list);
        return;
    }
    s->stats.pd_received += list->count;
    for (uint32_t i = 0; i < list->count; i++) {
        pd_one(s, now_ns, &list->items[i]);
    }
    free(list);
}

/* The PD group's answer to a heartbeat: an acknowledgement (the sender leads) or a hint. */
static void pd_leader(struct rs_store *s, uint64_t now_ns, rs_node_id from, const uint8_t *frame,
                      size_t size)
{
    rs_node_id leader;
    if (rs_pd_leader_decode(frame, size, &leader) != RS_OK) {
        s->stats.pd_corrupt++;
        s->stats.corrupt_frames++;
        return;
    }
    if (leader == from) {
        s->pd = from;
        s->pd_acked = true;
        return;
    }
    for (uint32_t i = 0; i < s->pd_node_count; i++) {
        if (s->pd_nodes[i] == leader && leader != s->pd) {
            s->pd = leader; /* heartbeat the leader now rather than a period later */
            s->pd_acked = true;
            s->pd_next_ns = now_ns;
            return;
        }
    }
}

/* A frame from a PD node: instructions or a leader answer (true), or not the PD's (false). */
static bool pd_recv(struct rs_store *s, uint64_t now_ns, rs_node_id from, const uint8_t *frame,
                    size_t size)
{
    bool member = false;
    for (uint32_t i = 0; i < s->pd_node_count; i++) {
        member = member || s->pd_nodes[i] == from;
    }
    unsigned type = rs_pd_frame_type(frame, size);
    if (!member || (type != RS_PD_MSG_INSTRUCTIONS && type != RS_PD_MSG_LEADER)) {
        return false;
    }
    if (type == RS_PD_MSG_INSTRUCTIONS) {
        pd_instructions(s, now_ns, frame, size);
    } else {
        pd_leader(s, now_ns, from, frame, size);
    }
    return true;
}
