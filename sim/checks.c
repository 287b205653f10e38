/* Safety checks run by the world after every event. */
#include "sim/checks.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* inlined: the checks hash every entry, mostly a few dozen bytes, where the call costs */
#define XXH_INLINE_ALL
#include <xxhash.h>

/* The term before an entry whose predecessor is no longer in memory (log compaction). */
#define TERM_UNKNOWN UINT64_MAX
/* The index window is shifted once at least this many dead slots lead it (and half of it). */
#define SLOT_PRUNE_MIN 4096u
#define RECORDS_MAX UINT32_MAX

/* One entry seen at an index: the first node that held (index, term) decides what every
 * other holder of that index and term must agree with. */
struct rs_check_record {
    rs_term term; /* 0: empty */
    rs_term prev_term; /* term of the entry before it, TERM_UNKNOWN when not in memory */
    uint64_t digest;
    uint32_t next;       /* the next record at this index in the overflow pool, 0: none */
    uint8_t node;        /* the node that first held it */
    uint8_t applied_by;  /* 1 + the first node that applied it, 0: not applied */
};

_Static_assert(RS_CHECKS_NODES_MAX < 255, "node ids fit the records' bytes");

/* Further terms at the same index chain from first.next (rare: a leader change with an
 * uncommitted suffix). */
struct rs_check_slot {
    struct rs_check_record first;
};

/* The global commit index was pushed to last_index by nodes in term by_term (or later ones
 * pushed it in that term: by_term is never lower than the term the commit was made in). */
struct rs_commit_run {
    rs_index last_index;
    rs_term entry_term; /* term of the entry at last_index, 0 when it was not in memory */
    rs_term by_term;
};

const char *rs_check_name(enum rs_check_kind kind)
{
    switch (kind) {
    case RS_CHECK_NONE: return "none";
    case RS_CHECK_ELECTION_SAFETY: return "election-safety";
    case RS_CHECK_STATE_MACHINE: return "state-machine-safety";
    case RS_CHECK_COMMIT_MONOTONIC: return "commit-monotonic";
    case RS_CHECK_DURABILITY: return "durability";
    case RS_CHECK_COMMITTED_CONFLICT: return "committed-entry-conflict";
    case RS_CHECK_LINEARIZABILITY: return "linearizability";
    case RS_CHECK_LIVENESS: return "liveness";
    case RS_CHECK_EXPECTATION: return "expectation";
    case RS_CHECK_LOG_MATCHING: return "log-matching";
    case RS_CHECK_LEADER_APPEND_ONLY: return "leader-append-only";
    case RS_CHECK_LEADER_COMPLETENESS: return "leader-completeness";
    case RS_CHECK_COMMITTED_KEPT: return "committed-kept";
    case RS_CHECK_LEARNERS_UNCOUNTED: return "learners-uncounted";
    case RS_CHECK_ACKS_KEPT: return "acknowledgements-kept";
    case RS_CHECK_REGION_RANGES: return "region-ranges";
    case RS_CHECK_REGION_EPOCHS: return "region-epochs";
    case RS_CHECK_REGION_KEYS: return "region-keys";
    case RS_CHECK_CONF_SERIAL: return "conf-changes-serial";
    case RS_CHECK_LEARNER_CATCHUP: return "learners-catch-up";
    }
    return "unknown";
}

void rs_checks_init(struct rs_checks *c)
{
    memset(c, 0, sizeof *c);
    c->slot_base = 1;
    c->record_count = 1; /* record 0 means "none" */
}

void rs_checks_free(struct rs_checks *c)
{
    free(c->leader_of_term);
    free(c->slots);
    free(c->records);
    free(c->runs);
    memset(c, 0, sizeof *c);
}

void rs_checks_fail(struct rs_checks *c, uint64_t now_ns, enum rs_check_kind kind,
                    const char *fmt, ...)
{
    if (c->failed != RS_CHECK_NONE) {
        return; /* the first failure is the one reported */
    }
    c->failed = kind;
    c->failed_at_ns = now_ns;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof c->message, fmt, ap);
    va_end(ap);
}

static void *grow_zeroed(void *ptr, size_t *cap, size_t need, size_t elem)
{
    if (need < *cap) {
        return ptr;
    }
    size_t cap_new = *cap ? *cap : 1024;
    while (cap_new <= need) {
        cap_new *= 2;
    }
    uint8_t *p = realloc(ptr, cap_new * elem);
    RS_ASSERT(p != NULL);
    memset(p + *cap * elem, 0, (cap_new - *cap) * elem);
    *cap = cap_new;
    return p;
}

static unsigned long long ull(uint64_t v)
{
    return (unsigned long long)v;
}

static uint64_t entry_digest(const struct rs_entry *e)
{
    uint64_t h = XXH3_64bits_withSeed(e->data, e->size, e->term);
    return (h ^ e->type) | 1; /* never 0: 0 stands for "no entry" */
}

/*
 * The log accessors of core/raft/log.h, inlined: the checks read a few fields of every entry
 * on the hot path, where a call per field would cost more than the reading.
 */
static inline bool log_has(const struct rs_log *log, rs_index index)
{
    return index >= log->first_index && index - log->first_index < log->count;
}

static inline const struct rs_entry *log_entry(const struct rs_log *log, rs_index index)
{
    RS_ASSERT(log_has(log, index));
    return &log->entries[index - log->first_index];
}

/* The slot of an index, or NULL when the index fell below the window (compacted everywhere). */
static struct rs_check_slot *slot_at(struct rs_checks *c, rs_index index)
{
    if (index < c->slot_base) {
        return NULL;
    }
    size_t at = (size_t)(index - c->slot_base);
    if (at >= c->slot_cap) {
        c->slots = grow_zeroed(c->slots, &c->slot_cap, at, sizeof *c->slots);
    }
    if (at >= c->slot_used) {
        c->slot_used = at + 1;
    }
    return &c->slots[at];
}

static void record_release_chain(struct rs_checks *c, uint32_t next)
{
    while (next != 0) {
        RS_ASSERT(next < c->record_count);
        uint32_t after = c->records[next].next;
        c->records[next].term = 0;
        c->records[next].next = c->record_free;
        c->record_free = next;
        next = after;
    }
}

/*
 * Drops the slots below the lowest first index of the live logs. Entries below it are in no
 * live replica's memory; a replica that restarts with older entries is simply not checked
 * there. Runs when a first index moved, and shifts only when the dead part is large, so the
 * memmove is paid once per many indexes.
 */
static void prune_slots(struct rs_checks *c)
{
    rs_index low = UINT64_MAX;
    for (uint32_t id = 0; id < RS_CHECKS_NODES_MAX; id++) {
        const struct rs_raft *r = c->nodes[id].raft;
        if (r != NULL && r->log.first_index < low) {
            low = r->log.first_index;
        }
    }
    if (low == UINT64_MAX || low <= c->slot_base) {
        return;
    }
    size_t drop = (size_t)(low - c->slot_base);
    if (drop < SLOT_PRUNE_MIN || drop * 2 < c->slot_used) {
        return;
    }
    size_t dead = drop < c->slot_used ? drop : c->slot_used;
    for (size_t i = 0; i < dead; i++) {
        record_release_chain(c, c->slots[i].first.next);
    }
    size_t keep = c->slot_used - dead;
    memmove(c->slots, c->slots + dead, keep * sizeof *c->slots);
    memset(c->slots + keep, 0, dead * sizeof *c->slots);
    c->slot_used = keep;
    c->slot_base = low;
    RS_ASSERT(c->slot_used <= c->slot_cap);
}

static void check_leader(struct rs_checks *c, uint64_t now, uint32_t id, const struct rs_raft *r)
{
    if (r->role != RS_LEADER) {
        return;
    }
    c->leader_of_term = grow_zeroed(c->leader_of_term, &c->leader_of_term_cap, r->term,
                                    sizeof *c->leader_of_term);
    rs_node_id known = c->leader_of_term[r->term];
    if (known == 0) {
        c->leader_of_term[r->term] = id;
        c->leader_changes++;
    } else if (known != id) {
        rs_checks_fail(c, now, RS_CHECK_ELECTION_SAFETY,
                       "two leaders in term %llu: node %u and node %u", ull(r->term), known, id);
    }
}

/* ---- log matching ---------------------------------------------------------------------- */

static rs_term prev_term_of(const struct rs_log *log, rs_index index)
{
    if (index == 1) {
        return 0;
    }
    /* TODO(snapshots): below first_index the snapshot's last term will answer */
    return log_has(log, index - 1) ? log_entry(log, index - 1)->term : TERM_UNKNOWN;
}

static struct rs_check_record *record_find(struct rs_checks *c, struct rs_check_slot *s,
                                           rs_term term)
{
    if (s->first.term == term) {
        return &s->first;
    }
    for (uint32_t k = s->first.next; k != 0; k = c->records[k].next) {
        if (c->records[k].term == term) {
            return &c->records[k];
        }
    }
    return NULL;
}

static void record_add(struct rs_checks *c, struct rs_check_slot *s,
                       const struct rs_check_record *rec)
{
    if (s->first.term == 0) {
        uint32_t next = s->first.next;
        s->first = *rec;
        s->first.next = next;
        return;
    }
    uint32_t k = c->record_free;
    if (k != 0) {
        c->record_free = c->records[k].next;
    } else {
        RS_ASSERT(c->record_count < RECORDS_MAX);
        c->records = grow_zeroed(c->records, &c->record_cap, c->record_count, sizeof *c->records);
        k = (uint32_t)c->record_count++;
    }
    c->records[k] = *rec;
    c->records[k].next = s->first.next;
    s->first.next = k;
}

/* Entry index of node id (digest d) against what other replicas held at (index, term). */
static void match_entry(struct rs_checks *c, uint64_t now, uint32_t id, const struct rs_log *log,
                        rs_index index, uint64_t d)
{
    struct rs_check_slot *s = slot_at(c, index);
    if (s == NULL) {
        return;
    }
    struct rs_check_record mine = {.term = log_entry(log, index)->term,
                                   .prev_term = prev_term_of(log, index),
                                   .digest = d,
                                   .node = (uint8_t)id};
    RS_ASSERT(mine.term != 0);
    struct rs_check_record *known = record_find(c, s, mine.term);
    if (known == NULL) {
        record_add(c, s, &mine);
    } else if (known->digest != d) {
        rs_checks_fail(c, now, RS_CHECK_LOG_MATCHING,
                       "node %u and node %u both hold index %llu of term %llu, with different "
                       "contents (digest %016llx on node %u, %016llx on node %u)",
                       id, known->node, ull(index), ull(mine.term), ull(d), id,
                       ull(known->digest), known->node);
    } else if (known->prev_term == TERM_UNKNOWN) {
        known->prev_term = mine.prev_term;
    } else if (mine.prev_term != TERM_UNKNOWN && mine.prev_term != known->prev_term) {
        rs_checks_fail(c, now, RS_CHECK_LOG_MATCHING,
                       "node %u and node %u both hold index %llu of term %llu, but their logs "
                       "differ before it: index %llu has term %llu on node %u and term %llu "
                       "on node %u",
                       id, known->node, ull(index), ull(mine.term), ull(index - 1),
                       ull(mine.prev_term), id, ull(known->prev_term), known->node);
    }
}

/* What became of the last entry the previous check saw (the end of the checked part). */
struct frontier {
    bool shrunk;    /* the log now ends before it */
    bool rewritten; /* another entry (term or contents) now sits at its index */
    bool moved;     /* the first index changed (compaction, or a snapshot replaced the log) */
};

static struct frontier frontier_of(const struct rs_raft *r, const struct rs_check_node *cn)
{
    const struct rs_log *log = &r->log;
    struct frontier f = {.shrunk = cn->match_index > rs_log_last_index(log),
                         .moved = log->first_index != cn->match_first_index};
    if (!f.shrunk && log_has(log, cn->match_index)) {
        const struct rs_entry *e = log_entry(log, cn->match_index);
        f.rewritten = e->term != cn->match_term || entry_digest(e) != cn->match_digest;
    }
    return f;
}

/*
 * Checks the entries this node holds that were not checked yet. Raft only ever cuts a suffix
 * and appends, so the checked part is remembered by its last entry: when that entry is gone
 * or changed, or the first index moved, the checked part is cut back to the durable index.
 * That is safe because a truncation at j lowers durable_index below j in the same event, and
 * only a sync completion (a later event, which truncates nothing) raises it again.
 */
static void check_log_matching(struct rs_checks *c, uint64_t now, uint32_t id,
                               const struct rs_raft *r, struct rs_check_node *cn,
                               struct frontier f)
{
    const struct rs_log *log = &r->log;
    rs_index first = log->first_index;
    rs_index last = rs_log_last_index(log);
    rs_index v = cn->match_index;
    bool rewind = f.shrunk || f.rewritten || f.moved;
    if (rewind) {
        v = v < r->durable_index ? v : r->durable_index;
        v = v < last ? v : last;
    }
    if (f.moved) {
        cn->match_first_index = first;
        prune_slots(c);
    }
    if (v + 1 < first) {
        v = first - 1; /* compacted past what was checked: only what is present counts */
    }
    uint64_t d = cn->match_digest;
    for (rs_index i = v + 1; i <= last && c->failed == RS_CHECK_NONE; i++) {
        d = entry_digest(log_entry(log, i));
        match_entry(c, now, id, log, i, d);
    }
    if (last < first) {
        d = 0;
    } else if (v == last && rewind) {
        d = entry_digest(log_entry(log, last));
    }
    cn->match_index = last;
    cn->match_term = last < first ? 0 : log_entry(log, last)->term;
    cn->match_digest = d;
}

/* ---- leader completeness --------------------------------------------------------------- */

/* A leader (node id, log r) must hold the committed entry (index, term). */
static void check_holds(struct rs_checks *c, uint64_t now, uint32_t id, const struct rs_raft *r,
                        rs_index index, rs_term term, rs_term by_term)
{
    const struct rs_log *log = &r->log;
    if (term == 0 || index < log->first_index) {
        return; /* not in memory where it was committed, or in this leader's snapshot */
    }
    rs_index last = rs_log_last_index(log);
    if (index > last) {
        rs_checks_fail(c, now, RS_CHECK_LEADER_COMPLETENESS,
                       "leader node %u of term %llu lacks committed entry %llu (term %llu, "
                       "committed by term %llu): its log ends at index %llu (term %llu)",
                       id, ull(r->term), ull(index), ull(term), ull(by_term), ull(last),
                       ull(rs_log_last_term(log)));
    } else if (rs_log_term_at(log, index) != term) {
        rs_checks_fail(c, now, RS_CHECK_LEADER_COMPLETENESS,
                       "leader node %u of term %llu holds term %llu at index %llu, but the "
                       "committed entry there has term %llu (committed by term %llu)",
                       id, ull(r->term), ull(rs_log_term_at(log, index)), ull(index), ull(term),
                       ull(by_term));
    }
}

/*
 * A new leader of term t must hold the highest entry committed before t. The entries below it
 * follow: log matching (checked for every entry) makes the prefixes equal, and state machine
 * safety makes the committed entries in that prefix the ones everyone committed.
 */
static void check_new_leader(struct rs_checks *c, uint64_t now, uint32_t id,
                             const struct rs_raft *r)
{
    for (size_t k = c->run_count; k-- > 0;) {
        const struct rs_commit_run *run = &c->runs[k];
        if (run->by_term < r->term) {
            check_holds(c, now, id, r, run->last_index, run->entry_term, run->by_term);
            return;
        }
    }
}

/* This node's commit index advanced: record it, and every leader of a later term must hold
 * the entry (a stale leader may commit after a newer leader was elected). */
static void note_commit(struct rs_checks *c, uint64_t now, uint32_t id, const struct rs_raft *r)
{
    rs_index ci = r->commit_index;
    rs_term et = rs_log_has(&r->log, ci) ? rs_log_term_at(&r->log, ci) : 0;
    if (ci > c->committed_index) {
        struct rs_commit_run *top = c->run_count ? &c->runs[c->run_count - 1] : NULL;
        if (top == NULL || top->by_term != r->term) {
            c->runs = grow_zeroed(c->runs, &c->run_cap, c->run_count, sizeof *c->runs);
            top = &c->runs[c->run_count++];
            top->by_term = r->term;
        }
        top->last_index = ci;
        top->entry_term = et;
        c->committed_index = ci;
    }
    for (uint32_t k = 0; k < RS_CHECKS_NODES_MAX; k++) {
        const struct rs_check_node *other = &c->nodes[k];
        if (k != id && other->raft != NULL && other->lead_term > r->term) {
            check_holds(c, now, k, other->raft, ci, et, r->term);
        }
    }
}

/* ---- leader append-only ---------------------------------------------------------------- */

/* Runs before check_log_matching moves the frontier: the frontier is the leader's last entry
 * at its previous check, which may neither vanish nor change while it leads the same term. */
static void check_append_only(struct rs_checks *c, uint64_t now, uint32_t id,
                              const struct rs_raft *r, struct rs_check_node *cn,
                              struct frontier f)
{
    if (r->role != RS_LEADER) {
        cn->lead_term = 0;
        return;
    }
    if (cn->lead_term != r->term) {
        cn->lead_term = r->term;
        check_new_leader(c, now, id, r);
    } else if (f.shrunk) {
        rs_checks_fail(c, now, RS_CHECK_LEADER_APPEND_ONLY,
                       "leader node %u of term %llu deleted entries: its last index went from "
                       "%llu (term %llu) to %llu",
                       id, ull(r->term), ull(cn->match_index), ull(cn->match_term),
                       ull(rs_log_last_index(&r->log)));
    } else if (f.rewritten) {
        rs_term now_term = rs_log_term_at(&r->log, cn->match_index);
        rs_checks_fail(c, now, RS_CHECK_LEADER_APPEND_ONLY,
                       "leader node %u of term %llu overwrote entry %llu: term %llu became "
                       "term %llu%s",
                       id, ull(r->term), ull(cn->match_index), ull(cn->match_term),
                       ull(now_term), now_term == cn->match_term ? " with new contents" : "");
    }
}

/* ---- state machine safety -------------------------------------------------------------- */

/* The entry applied at this index by any node so far, or NULL. */
static const struct rs_check_record *applied_at(const struct rs_checks *c,
                                                const struct rs_check_slot *s)
{
    if (s->first.applied_by != 0) {
        return &s->first;
    }
    for (uint32_t k = s->first.next; k != 0; k = c->records[k].next) {
        if (c->records[k].applied_by != 0) {
            return &c->records[k];
        }
    }
    return NULL;
}

/* Applied entries lie in the checked part of the log, so each has its record: the same
 * (index, term) is the same entry, and one applied record per index is allowed. */
static void check_applied(struct rs_checks *c, uint64_t now, uint32_t id, const struct rs_raft *r,
                          struct rs_check_node *cn)
{
    rs_index from = cn->last_applied + 1;
    if (from < r->log.first_index) {
        from = r->log.first_index; /* applied from a snapshot: those entries are not here */
    }
    rs_index to = r->applied_index < cn->match_index ? r->applied_index : cn->match_index;
    for (rs_index i = from; i <= to; i++) {
        struct rs_check_slot *s = slot_at(c, i);
        if (s == NULL || !log_has(&r->log, i)) {
            continue;
        }
        rs_term term = log_entry(&r->log, i)->term;
        struct rs_check_record *mine = record_find(c, s, term);
        if (mine == NULL || mine->applied_by != 0) {
            continue;
        }
        const struct rs_check_record *other = applied_at(c, s);
        if (other != NULL) {
            rs_checks_fail(c, now, RS_CHECK_STATE_MACHINE,
                           "node %u applied a different entry at index %llu than node %u "
                           "(term %llu here, term %llu there)",
                           id, ull(i), other->applied_by - 1u, ull(term), ull(other->term));
            return;
        }
        mine->applied_by = (uint8_t)(id + 1);
    }
}

/* A leader's commit index is held by a majority of its voters (both sides of a joint
 * configuration), counting itself by its synced log: the commit decision, re-checked from
 * outside, so that counting a learner (or only one side of a change) is caught. */
static void check_commit_quorum(struct rs_checks *c, uint64_t now, uint32_t id,
                                const struct rs_raft *r)
{
    if (r->role != RS_LEADER || r->term_start_index == 0 ||
        r->commit_index < r->term_start_index) {
        return; /* earlier terms' commits came from earlier leaders (and a replica that never
                 * ran an election, as in hand-made test states, has no decision to check) */
    }
    uint64_t holders = 1ull << id;
    if (r->durable_index < r->commit_index) {
        holders = 0;
    }
    for (uint32_t i = 0; i < r->peer_count; i++) {
        if (r->progress[i].match_index >= r->commit_index) {
            holders |= 1ull << r->progress[i].id;
        }
    }
    /* the decision may precede a configuration entry appended in the same event (a change
     * whose catch-up ended on this very acknowledgement): the previous one counts too */
    const struct rs_conf *before = r->conf_count >= 2   ? &r->confs[r->conf_count - 2].conf
                                   : r->conf_count == 1 ? &r->base_conf
                                                        : &r->conf;
    if (!rs_conf_majority(&r->conf, holders) && !rs_conf_majority(before, holders)) {
        rs_checks_fail(c, now, RS_CHECK_LEARNERS_UNCOUNTED,
                       "leader node %u committed %llu without a majority of its voters%s holding it",
                       id, ull(r->commit_index),
                       rs_conf_joint(&r->conf) ? " (old and new)" : "");
    }
}

/* What a replica acknowledged to the leader of its current term (that leader's match index
 * for it) must still be in its log: an acknowledgement promises durability. Acknowledgements
 * to leaders of earlier terms are not promises once a newer leader replaced the suffix. */
static void check_acks(struct rs_checks *c, uint64_t now, uint32_t id, const struct rs_raft *r)
{
    if (c->nodes[id].disk_lied || r->role == RS_ERROR_STATE) {
        return;
    }
    rs_index have = rs_log_last_index(&r->log);
    for (uint32_t j = 1; j < RS_CHECKS_NODES_MAX; j++) {
        const struct rs_raft *l = c->nodes[j].raft;
        if (j == id || l == NULL || l->role != RS_LEADER || l->term != r->term) {
            continue;
        }
        for (uint32_t i = 0; i < l->peer_count; i++) {
            const struct rs_progress *p = &l->progress[i];
            if (p->id == id && p->match_index > have) {
                rs_checks_fail(c, now, RS_CHECK_ACKS_KEPT,
                               "node %u acknowledged entries up to %llu to leader %u but its log "
                               "ends at %llu",
                               id, ull(p->match_index), j, ull(have));
                return;
            }
        }
    }
}

/* ---- conf-changes-serial --------------------------------------------------------------- */

/* Does the replica hold entry (index, term) in its synced log? */
static bool holds_durably(const struct rs_raft *r, rs_index index, rs_term term)
{
    return r->durable_index >= index && log_has(&r->log, index) &&
           log_entry(&r->log, index)->term == term;
}

/*
 * Node id was touched: each leader's last configuration entry gains it as a holder once it
 * holds that entry durably. A replica acknowledges only what it synced, and every sync ends
 * in an event the checks see, so these holders include every acknowledgement the leader can
 * have counted (they may include more: nodes that stored the entry and were then wiped).
 */
static void note_conf_holders(struct rs_checks *c, uint32_t id, const struct rs_raft *r)
{
    for (uint32_t k = 0; k < RS_CHECKS_NODES_MAX; k++) {
        struct rs_check_node *l = &c->nodes[k];
        if (l->serial_conf_index != 0 &&
            holds_durably(r, l->serial_conf_index, l->serial_conf_term)) {
            l->serial_conf_holders |= 1ull << id;
        }
    }
}

/* The first index of the entries of this term at the end of the log. */
static rs_index term_first_index(const struct rs_log *log, rs_term term)
{
    rs_index i = rs_log_last_index(log);
    while (i >= log->first_index && log_entry(log, i)->term == term) {
        i--;
    }
    return i + 1;
}

/* The configuration entry before index in the log, 0 when none is in memory. */
static rs_index conf_before(const struct rs_log *log, rs_index index)
{
    for (rs_index k = index; k-- > log->first_index;) {
        if (log_entry(log, k)->type == RS_ENTRY_CONF) {
            return k;
        }
    }
    return 0;
}

static bool same_payload(const struct rs_entry *a, const struct rs_entry *b)
{
    return a->size == b->size && (a->size == 0 || memcmp(a->data, b->data, a->size) == 0);
}

/* "1,4,5": the node ids of a bit set. */
static void format_nodes(uint64_t ids, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (uint32_t id = 0; id < 64 && used < size; id++) {
        if ((ids >> id) & 1u) {
            int n = snprintf(buf + used, size - used, "%s%u", used > 0 ? "," : "", id);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    if (buf[0] == '\0') {
        snprintf(buf, size, "none");
    }
}

/*
 * The leader appended the configuration entry at index: the configuration entry before it
 * must be committed, both by the leader's own commit index and from the outside (held
 * durably by a majority of its voters, of both sides when it is joint). Only a new term's
 * first entry may restate the configuration it inherits while that one is uncommitted.
 */
static void check_conf_entry(struct rs_checks *c, uint64_t now, uint32_t id,
                             const struct rs_raft *r, const struct rs_check_node *cn,
                             rs_index index)
{
    const struct rs_log *log = &r->log;
    bool watched = cn->serial_conf_index != 0;
    rs_index prev = watched ? cn->serial_conf_index : conf_before(log, index);
    if (prev == 0 || prev < log->first_index) {
        return; /* none in memory: compacted entries were committed and applied */
    }
    const struct rs_entry *p = log_entry(log, prev);
    if (!watched && index == cn->serial_first_index && same_payload(log_entry(log, index), p)) {
        return; /* the new term's first entry repeats the configuration in force */
    }
    if (r->commit_index < prev) {
        rs_checks_fail(c, now, RS_CHECK_CONF_SERIAL,
                       "leader node %u of term %llu appended configuration entry %llu while "
                       "configuration entry %llu (term %llu) was uncommitted: its commit index "
                       "is %llu",
                       id, ull(r->term), ull(index), ull(prev), ull(p->term),
                       ull(r->commit_index));
        return;
    }
    struct rs_conf conf;
    if (!watched || rs_conf_decode((struct rs_bytes){p->data, p->size}, &conf) != RS_OK) {
        return; /* appended in an earlier term: its holders were not followed */
    }
    if (!rs_conf_majority(&conf, cn->serial_conf_holders)) {
        char holders[64];
        format_nodes(cn->serial_conf_holders, holders, sizeof holders);
        rs_checks_fail(c, now, RS_CHECK_CONF_SERIAL,
                       "leader node %u of term %llu appended configuration entry %llu after "
                       "committing configuration entry %llu, which only nodes %s held: not a "
                       "majority of its voters%s",
                       id, ull(r->term), ull(index), ull(prev), holders,
                       rs_conf_joint(&conf) ? " (old and new)" : "");
    }
}

/* A leader's new entries: each configuration entry is checked, then followed. */
static void check_conf_serial(struct rs_checks *c, uint64_t now, uint32_t id,
                              const struct rs_raft *r)
{
    struct rs_check_node *cn = &c->nodes[id];
    note_conf_holders(c, id, r);
    if (r->role != RS_LEADER) {
        cn->serial_term = 0;
        cn->serial_conf_index = 0;
        return;
    }
    const struct rs_log *log = &r->log;
    if (cn->serial_term != r->term) {
        cn->serial_term = r->term;
        cn->serial_first_index = term_first_index(log, r->term);
        cn->serial_index = cn->serial_first_index - 1;
        cn->serial_conf_index = 0;
    }
    rs_index last = rs_log_last_index(log);
    rs_index from = cn->serial_index + 1 > log->first_index ? cn->serial_index + 1
                                                            : log->first_index;
    for (rs_index i = from; i <= last && c->failed == RS_CHECK_NONE; i++) {
        if (log_entry(log, i)->type != RS_ENTRY_CONF) {
            continue;
        }
        check_conf_entry(c, now, id, r, cn, i);
        cn->serial_conf_index = i;
        cn->serial_conf_term = log_entry(log, i)->term;
        cn->serial_conf_holders = 0;
        for (uint32_t k = 0; k < RS_CHECKS_NODES_MAX; k++) {
            const struct rs_raft *other = c->nodes[k].raft;
            if (other != NULL && holds_durably(other, i, cn->serial_conf_term)) {
                cn->serial_conf_holders |= 1ull << k;
            }
        }
    }
    cn->serial_index = last;
}

bool rs_checks_node(struct rs_checks *c, uint64_t now_ns, uint32_t id, const struct rs_node *n)
{
    RS_ASSERT(id < RS_CHECKS_NODES_MAX);
    const struct rs_raft *r = &n->raft;
    struct rs_check_node *cn = &c->nodes[id];
    cn->raft = r;
    check_leader(c, now_ns, id, r);
    struct frontier f = frontier_of(r, cn);
    check_append_only(c, now_ns, id, r, cn, f);
    check_log_matching(c, now_ns, id, r, cn, f);
    if (r->commit_index < cn->last_commit) {
        rs_checks_fail(c, now_ns, RS_CHECK_COMMIT_MONOTONIC,
                       "node %u commit index went back from %llu to %llu", id,
                       ull(cn->last_commit), ull(r->commit_index));
    } else if (r->commit_index > cn->last_commit) {
        note_commit(c, now_ns, id, r);
        check_commit_quorum(c, now_ns, id, r); /* the decision just taken */
    }
    cn->last_commit = r->commit_index;
    if (r->applied_index > cn->last_applied) {
        check_applied(c, now_ns, id, r, cn);
        cn->last_applied = r->applied_index;
    }
    if (r->commit_index > rs_log_last_index(&r->log) && r->role != RS_ERROR_STATE) {
        rs_checks_fail(c, now_ns, RS_CHECK_COMMITTED_KEPT,
                       "node %u knows entries up to %llu are committed but its log ends at %llu",
                       id, ull(r->commit_index), ull(rs_log_last_index(&r->log)));
    }
    check_acks(c, now_ns, id, r);
    check_conf_serial(c, now_ns, id, r);
    if (r->conflict_index != 0) {
        rs_checks_fail(c, now_ns, RS_CHECK_COMMITTED_CONFLICT,
                       "node %u was sent an entry contradicting its committed entry %llu", id,
                       ull(r->conflict_index));
    }
    return c->failed == RS_CHECK_NONE;
}

void rs_checks_crash(struct rs_checks *c, uint32_t id, const struct rs_node *n)
{
    RS_ASSERT(id < RS_CHECKS_NODES_MAX);
    struct rs_check_node *cn = &c->nodes[id];
    const struct rs_raft *r = &n->raft;
    cn->durable_index = r->durable_index;
    cn->durable_term = rs_log_has(&r->log, r->durable_index)
                           ? rs_log_term_at(&r->log, r->durable_index)
                           : 0;
    cn->crashed = true;
    cn->raft = NULL; /* the node is freed next */
    cn->lead_term = 0;
}

void rs_checks_destroyed(struct rs_checks *c, uint32_t id)
{
    RS_ASSERT(id < RS_CHECKS_NODES_MAX);
    /* its log, commit and apply points are gone with it, on purpose: nothing to compare a
     * replica made again with (which starts empty). What other nodes' checks learnt from it
     * (entries seen at each index, holders of configuration entries) stays. */
    memset(&c->nodes[id], 0, sizeof c->nodes[id]);
    RS_ASSERT(c->nodes[id].raft == NULL);
}

bool rs_checks_recovered(struct rs_checks *c, uint64_t now_ns, uint32_t id,
                         const struct rs_node *n)
{
    RS_ASSERT(id < RS_CHECKS_NODES_MAX);
    struct rs_check_node *cn = &c->nodes[id];
    const struct rs_raft *r = &n->raft;
    /* a durable entry now below the first index sits in a snapshot: nothing to compare */
    if (cn->crashed && cn->durable_term != 0 && cn->durable_index >= r->log.first_index) {
        bool kept = rs_log_last_index(&r->log) >= cn->durable_index &&
                    rs_log_term_at(&r->log, cn->durable_index) == cn->durable_term;
        if (!kept) {
            rs_checks_fail(c, now_ns, RS_CHECK_DURABILITY,
                           "node %u lost synced entry %llu (term %llu) across a restart: it "
                           "recovered %llu entries",
                           id, ull(cn->durable_index), ull(cn->durable_term),
                           ull(rs_log_last_index(&r->log)));
        }
    }
    /* a new incarnation starts its counters afresh, and its recovered log is checked whole */
    cn->crashed = false;
    cn->last_commit = r->commit_index;
    cn->last_applied = r->applied_index;
    cn->raft = r;
    cn->match_first_index = r->log.first_index;
    cn->match_index = r->log.first_index - 1;
    cn->match_term = 0;
    cn->match_digest = 0;
    cn->lead_term = 0;
    return c->failed == RS_CHECK_NONE;
}

/* How far behind target a learner is; a learner that is down is behind by all of it, plus one
 * so that it ranks behind a running learner that has applied nothing. */
static uint64_t learner_lag(const struct rs_check_learner *l, rs_index target_index)
{
    if (!l->up) {
        return target_index + 1;
    }
    return l->applied_index >= target_index ? 0 : target_index - l->applied_index;
}

bool rs_checks_learners_caught_up(struct rs_checks *c, uint64_t now_ns, uint64_t since_heal_ns,
                                  rs_index target_index, const struct rs_check_learner *learners,
                                  uint32_t count)
{
    RS_ASSERT(count == 0 || learners != NULL);
    RS_ASSERT(target_index < UINT64_MAX);
    uint32_t lagging = 0;
    uint32_t worst = 0;
    uint64_t worst_lag = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint64_t lag = learner_lag(&learners[i], target_index);
        lagging += lag > 0;
        if (lag > worst_lag) {
            worst_lag = lag;
            worst = i;
        }
    }
    if (lagging == 0) {
        return c->failed == RS_CHECK_NONE;
    }
    const struct rs_check_learner *l = &learners[worst];
    if (!l->up) {
        rs_checks_fail(c, now_ns, RS_CHECK_LEARNER_CATCHUP,
                       "learner %u is down %llu ms after the heal (the commit index at the heal "
                       "was %llu); %u of %u learners behind",
                       l->id, ull(since_heal_ns / RS_NS_PER_MS), ull(target_index), lagging, count);
    } else {
        rs_checks_fail(c, now_ns, RS_CHECK_LEARNER_CATCHUP,
                       "learner %u applied %llu of %llu (%llu behind the commit index at the "
                       "heal) %llu ms after the heal; %u of %u learners behind",
                       l->id, ull(l->applied_index), ull(target_index), ull(worst_lag),
                       ull(since_heal_ns / RS_NS_PER_MS), lagging, count);
    }
    return false;
}
