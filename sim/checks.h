/* Safety checks after every event, and the liveness checks after the faults heal. */
#ifndef RS_SIM_CHECKS_H
#define RS_SIM_CHECKS_H

#include "core/store/node.h"

#include <stdbool.h>
#include <stdint.h>

#define RS_CHECKS_NODES_MAX 33u /* node ids 0..32 (RS_WORLD_NODES_MAX) */

enum rs_check_kind {
    RS_CHECK_NONE = 0,
    RS_CHECK_ELECTION_SAFETY, /* at most one leader per term */
    RS_CHECK_STATE_MACHINE,   /* the same entry applied at an index everywhere */
    RS_CHECK_COMMIT_MONOTONIC,
    RS_CHECK_DURABILITY,      /* no synced entry lost across a restart */
    RS_CHECK_COMMITTED_CONFLICT,
    RS_CHECK_LINEARIZABILITY,
    RS_CHECK_LIVENESS,
    RS_CHECK_EXPECTATION,
    RS_CHECK_LOG_MATCHING,        /* same index and term: same entry and same entries before */
    RS_CHECK_LEADER_APPEND_ONLY,  /* a leader never overwrites or deletes its entries */
    RS_CHECK_LEADER_COMPLETENESS, /* a leader holds every entry committed in earlier terms */
    RS_CHECK_COMMITTED_KEPT,      /* a replica never drops entries it knows are committed */
    RS_CHECK_LEARNERS_UNCOUNTED,  /* a leader commits only on a majority of its voters */
    RS_CHECK_ACKS_KEPT,           /* a replica keeps every entry it acknowledged */
    RS_CHECK_REGION_RANGES,       /* the regions' ranges never overlap and cover every key */
    RS_CHECK_REGION_EPOCHS,       /* a replica's region epoch never goes back */
    RS_CHECK_REGION_KEYS,         /* a replica holds no key outside its region's range */
    RS_CHECK_CONF_SERIAL,         /* one configuration change in flight: the last one committed */
    RS_CHECK_LEARNER_CATCHUP,     /* after the heal, learners reach the heal-time commit index */
};

const char *rs_check_name(enum rs_check_kind kind);

struct rs_check_node {
    rs_index last_commit;
    rs_index last_applied;
    /* captured at a crash: what the disk must still hold after recovery */
    rs_index durable_index;
    rs_term durable_term;
    bool crashed;
    bool disk_lied; /* the world rotted synced data: acknowledged entries may be gone */
    /* The live replica, from its last rs_checks_node until rs_checks_crash: other nodes'
     * commits are checked against it while it leads. */
    const struct rs_raft *raft;
    /* log matching: the entries [match_first_index, match_index] of its log were checked;
     * match_index is its last index when last checked, and the term and digest of that entry
     * reveal a rewritten suffix (for a leader: a broken append-only rule) */
    rs_index match_first_index;
    rs_index match_index;
    rs_term match_term;
    uint64_t match_digest;
    rs_term lead_term; /* non-zero while it leads: the term it was last seen leading */
    /* conf-changes-serial, while it leads serial_term: its log was scanned up to serial_index
     * from serial_first_index (the first entry of that term); its last configuration entry
     * of the term (serial_conf_index, serial_conf_term; index 0 while there is none) and the
     * nodes (bit id) seen holding that entry durably since it was appended */
    rs_term serial_term;
    rs_index serial_first_index;
    rs_index serial_index;
    rs_index serial_conf_index;
    rs_term serial_conf_term;
    uint64_t serial_conf_holders;
};

/* What the checks remember per log index (private to checks.c). */
struct rs_check_slot;
struct rs_check_record;
/* A stretch of the global commit index advanced by nodes in one term (private). */
struct rs_commit_run;

struct rs_checks {
    enum rs_check_kind failed;
    char message[2048];
    uint64_t failed_at_ns;
    rs_node_id *leader_of_term; /* index = term */
    size_t leader_of_term_cap;
    /* per log index from slot_base on: the entries seen there (log matching) and the entry
     * applied there (state machine safety); indexes below every live log's first index are
     * dropped, so memory follows log compaction */
    struct rs_check_slot *slots;
    size_t slot_cap;
    size_t slot_used;
    rs_index slot_base;
    struct rs_check_record *records; /* further terms at one index; [0] is unused */
    size_t record_count, record_cap;
    uint32_t record_free; /* free list through next, 0: empty */
    /* the highest commit index any node reached, and in which terms it got there */
    rs_index committed_index;
    struct rs_commit_run *runs;
    size_t run_count, run_cap;
    struct rs_check_node nodes[RS_CHECKS_NODES_MAX];
    uint64_t leader_changes;
};

void rs_checks_init(struct rs_checks *c);
void rs_checks_free(struct rs_checks *c);
/*
 * After any event that touched this node. Returns false when a check failed. The checks keep
 * a pointer to n->raft until rs_checks_crash for this node: call it before freeing the node.
 */
bool rs_checks_node(struct rs_checks *c, uint64_t now_ns, uint32_t id, const struct rs_node *n);
void rs_checks_crash(struct rs_checks *c, uint32_t id, const struct rs_node *n);
/* Node id's replica was destroyed (its region dropped the store): the checks forget it, and a
 * replica made there again later is checked from scratch. Call before freeing the node. */
void rs_checks_destroyed(struct rs_checks *c, uint32_t id);
bool rs_checks_recovered(struct rs_checks *c, uint64_t now_ns, uint32_t id,
                         const struct rs_node *n);
/* A learner as the learners-catch-up check sees it. */
struct rs_check_learner {
    uint32_t id;
    bool up;
    rs_index applied_index; /* meaningless when !up */
};

/*
 * The learners-catch-up check, since_heal_ns after the heal: every learner must be up and have
 * applied target_index (the highest commit index at the heal). Otherwise it fails naming the
 * learner furthest behind (a learner that is down counts as furthest), how far behind it is
 * and how many learners lag. Returns false when a check failed (this one or an earlier one).
 */
bool rs_checks_learners_caught_up(struct rs_checks *c, uint64_t now_ns, uint64_t since_heal_ns,
                                  rs_index target_index, const struct rs_check_learner *learners,
                                  uint32_t count);
void rs_checks_fail(struct rs_checks *c, uint64_t now_ns, enum rs_check_kind kind,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
