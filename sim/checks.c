/* Safety checks run by the world after every event. */
#include "sim/checks.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

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
    }
    return "unknown";
}

void rs_checks_init(struct rs_checks *c)
{
    memset(c, 0, sizeof *c);
}

void rs_checks_free(struct rs_checks *c)
{
    free(c->leader_of_term);
    free(c->applied);
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
                       "two leaders in term %llu: node %u and node %u",
                       (unsigned long long)r->term, known, id);
    }
}

static uint64_t entry_digest(const struct rs_entry *e)
{
    uint64_t h = XXH64(e->data, e->size, e->term);
    return (h ^ e->type) | 1; /* never 0: 0 marks "nothing applied here yet" */
}

static void check_applied(struct rs_checks *c, uint64_t now, uint32_t id, const struct rs_raft *r,
                          struct rs_check_node *cn)
{
    for (rs_index i = cn->last_applied + 1; i <= r->applied_index; i++) {
        uint64_t d = entry_digest(rs_log_get(&r->log, i));
        c->applied = grow_zeroed(c->applied, &c->applied_cap, i, sizeof *c->applied);
        struct rs_applied_digest *a = &c->applied[i];
        if (a->digest == 0) {
            a->digest = d;
            a->node = id;
        } else if (a->digest != d) {
            rs_checks_fail(c, now, RS_CHECK_STATE_MACHINE,
                           "node %u applied a different entry at index %llu than node %u "
                           "(term %llu here)",
                           id, (unsigned long long)i, a->node,
                           (unsigned long long)rs_log_term_at(&r->log, i));
            return;
        }
    }
}

bool rs_checks_node(struct rs_checks *c, uint64_t now_ns, uint32_t id, const struct rs_node *n)
{
    RS_ASSERT(id < RS_CHECKS_NODES_MAX);
    const struct rs_raft *r = &n->raft;
    struct rs_check_node *cn = &c->nodes[id];
    check_leader(c, now_ns, id, r);
    if (r->commit_index < cn->last_commit) {
        rs_checks_fail(c, now_ns, RS_CHECK_COMMIT_MONOTONIC,
                       "node %u commit index went back from %llu to %llu", id,
                       (unsigned long long)cn->last_commit, (unsigned long long)r->commit_index);
    }
    cn->last_commit = r->commit_index;
    if (r->applied_index > cn->last_applied) {
        check_applied(c, now_ns, id, r, cn);
        cn->last_applied = r->applied_index;
    }
    if (r->conflict_index != 0) {
        rs_checks_fail(c, now_ns, RS_CHECK_COMMITTED_CONFLICT,
                       "node %u was sent an entry contradicting its committed entry %llu", id,
                       (unsigned long long)r->conflict_index);
    }
    cn->last_term = r->term;
    cn->last_role = (int)r->role;
    return c->failed == RS_CHECK_NONE;
}

void rs_checks_crash(struct rs_checks *c, uint32_t id, const struct rs_node *n)
{
    struct rs_check_node *cn = &c->nodes[id];
    const struct rs_raft *r = &n->raft;
    cn->durable_index = r->durable_index;
    cn->durable_term = r->durable_index ? rs_log_term_at(&r->log, r->durable_index) : 0;
    cn->crashed = true;
}

bool rs_checks_recovered(struct rs_checks *c, uint64_t now_ns, uint32_t id,
                         const struct rs_node *n)
{
    struct rs_check_node *cn = &c->nodes[id];
    const struct rs_raft *r = &n->raft;
    if (cn->crashed && cn->durable_index > 0) {
        bool kept = rs_log_last_index(&r->log) >= cn->durable_index &&
                    rs_log_term_at(&r->log, cn->durable_index) == cn->durable_term;
        if (!kept) {
            rs_checks_fail(c, now_ns, RS_CHECK_DURABILITY,
                           "node %u lost synced entry %llu (term %llu) across a restart: it "
                           "recovered %llu entries",
                           id, (unsigned long long)cn->durable_index,
                           (unsigned long long)cn->durable_term,
                           (unsigned long long)rs_log_last_index(&r->log));
        }
    }
    /* a new incarnation starts its commit and apply counters afresh */
    cn->crashed = false;
    cn->last_commit = r->commit_index;
    cn->last_applied = r->applied_index;
    return c->failed == RS_CHECK_NONE;
}
