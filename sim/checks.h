/* Safety checks after every event, and the liveness checks after the faults heal. */
#ifndef RS_SIM_CHECKS_H
#define RS_SIM_CHECKS_H

#include "core/store/node.h"

#include <stdbool.h>
#include <stdint.h>

#define RS_CHECKS_NODES_MAX 10u

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
};

const char *rs_check_name(enum rs_check_kind kind);

struct rs_check_node {
    rs_index last_commit;
    rs_index last_applied;
    rs_term last_term;
    int last_role;
    /* captured at a crash: what the disk must still hold after recovery */
    rs_index durable_index;
    rs_term durable_term;
    bool crashed;
};

struct rs_applied_digest {
    uint64_t digest; /* 0: nothing applied at this index yet */
    uint32_t node;
};

struct rs_checks {
    enum rs_check_kind failed;
    char message[2048];
    uint64_t failed_at_ns;
    rs_node_id *leader_of_term; /* index = term */
    size_t leader_of_term_cap;
    struct rs_applied_digest *applied; /* index = log index */
    size_t applied_cap;
    struct rs_check_node nodes[RS_CHECKS_NODES_MAX];
    uint64_t leader_changes;
};

void rs_checks_init(struct rs_checks *c);
void rs_checks_free(struct rs_checks *c);
/* After any event that touched this node. Returns false when a check failed. */
bool rs_checks_node(struct rs_checks *c, uint64_t now_ns, uint32_t id, const struct rs_node *n);
void rs_checks_crash(struct rs_checks *c, uint32_t id, const struct rs_node *n);
bool rs_checks_recovered(struct rs_checks *c, uint64_t now_ns, uint32_t id,
                         const struct rs_node *n);
void rs_checks_fail(struct rs_checks *c, uint64_t now_ns, enum rs_check_kind kind,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
