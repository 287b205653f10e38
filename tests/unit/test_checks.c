/* The per-event raft safety checks, fed hand-built replica states: each check holds on a
 * consistent cluster and fails, with its own name and a precise message, on a violation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODES 3

struct fixture {
    struct rs_checks checks;
    struct rs_node *nodes[NODES + 1]; /* ids 1..NODES */
    uint64_t now_ns;
};

static struct rs_node *node_new(rs_index first_index)
{
    struct rs_node *n = calloc(1, sizeof *n);
    assert_non_null(n);
    rs_log_init(&n->raft.log);
    n->raft.log.first_index = first_index;
    return n;
}

static void node_free(struct rs_node *n)
{
    if (n != NULL) {
        rs_log_free(&n->raft.log);
        free(n);
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    rs_checks_init(&f->checks);
    for (uint32_t id = 1; id <= NODES; id++) {
        f->nodes[id] = node_new(1);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rs_checks_free(&f->checks);
    for (uint32_t id = 1; id <= NODES; id++) {
        node_free(f->nodes[id]);
    }
    free(f);
    return 0;
}

/* Appends an entry whose payload is text (not synced yet). */
static void append(struct fixture *f, uint32_t id, rs_term term, const char *text)
{
    struct rs_raft *r = &f->nodes[id]->raft;
    rs_log_append(&r->log, term, RS_ENTRY_DATA, text, (uint32_t)strlen(text));
}

/* A sync completed: the whole log is durable. */
static void sync_log(struct fixture *f, uint32_t id)
{
    struct rs_raft *r = &f->nodes[id]->raft;
    r->durable_index = rs_log_last_index(&r->log);
}

/* Replaces a replica's log by entries [first_index, last_index] of term 1 with one payload,
 * as if it had compacted what comes before. */
static void compacted_log(struct fixture *f, uint32_t id, rs_index first_index,
                          rs_index last_index, const char *text)
{
    struct rs_log *log = &f->nodes[id]->raft.log;
    rs_log_free(log);
    log->first_index = first_index;
    for (rs_index i = first_index; i <= last_index; i++) {
        append(f, id, 1, text);
    }
    sync_log(f, id);
}

/* Cuts the log from index on, as the follower path does (durable index included). */
static void truncate_from(struct fixture *f, uint32_t id, rs_index index)
{
    struct rs_raft *r = &f->nodes[id]->raft;
    rs_log_truncate_suffix(&r->log, index);
    if (r->durable_index >= index) {
        r->durable_index = index - 1;
    }
}

static void set_role(struct fixture *f, uint32_t id, enum rs_role role, rs_term term)
{
    f->nodes[id]->raft.role = role;
    f->nodes[id]->raft.term = term;
}

static void set_commit(struct fixture *f, uint32_t id, rs_index commit)
{
    f->nodes[id]->raft.commit_index = commit;
    f->nodes[id]->raft.applied_index = commit;
}

/* One event touched node id: run the checks. */
static bool check(struct fixture *f, uint32_t id)
{
    f->now_ns += 1000;
    return rs_checks_node(&f->checks, f->now_ns, id, f->nodes[id]);
}

static void assert_failed(struct fixture *f, enum rs_check_kind kind, const char *fragment)
{
    if (f->checks.failed != kind) {
        fail_msg("expected %s, got %s: %s", rs_check_name(kind),
                 rs_check_name(f->checks.failed), f->checks.message);
    }
    if (strstr(f->checks.message, fragment) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", f->checks.message, fragment);
    }
}

/* Entries 1..count of term 1 with payloads "e<index>" on every node, all committed. */
static void replicated_prefix(struct fixture *f, rs_index count)
{
    for (uint32_t id = 1; id <= NODES; id++) {
        for (rs_index i = 1; i <= count; i++) {
            char text[32];
            snprintf(text, sizeof text, "e%llu", (unsigned long long)i);
            append(f, id, 1, text);
        }
        sync_log(f, id);
        set_role(f, id, id == 1 ? RS_LEADER : RS_FOLLOWER, 1);
        set_commit(f, id, count);
        assert_true(check(f, id));
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(rs_check_name(RS_CHECK_LOG_MATCHING), "log-matching");
    assert_string_equal(rs_check_name(RS_CHECK_LEADER_APPEND_ONLY), "leader-append-only");
    assert_string_equal(rs_check_name(RS_CHECK_LEADER_COMPLETENESS), "leader-completeness");
    assert_string_equal(rs_check_name(RS_CHECK_STATE_MACHINE), "state-machine-safety");
    assert_string_equal(rs_check_name(RS_CHECK_CONF_SERIAL), "conf-changes-serial");
}

/* Leader changes with a legitimate truncation of an uncommitted suffix: nothing fails. */
static void test_consistent_history_passes(void **state)
{
    struct fixture *f = *state;
    replicated_prefix(f, 2);
    /* node 1 (leader of 1) appends index 3, node 3 gets it, then node 2 wins term 2 */
    append(f, 1, 1, "old3");
    assert_true(check(f, 1));
    append(f, 3, 1, "old3");
    assert_true(check(f, 3));
    set_role(f, 2, RS_LEADER, 2);
    assert_true(check(f, 2));
    append(f, 2, 2, "new3");
    append(f, 2, 2, "new4");
    assert_true(check(f, 2));
    /* node 3 drops the term-1 entry for the term-2 ones in one event */
    set_role(f, 3, RS_FOLLOWER, 2);
    truncate_from(f, 3, 3);
    append(f, 3, 2, "new3");
    append(f, 3, 2, "new4");
    assert_true(check(f, 3));
    set_commit(f, 2, 4);
    assert_true(check(f, 2));
    set_commit(f, 3, 4);
    assert_true(check(f, 3));
    /* the old leader hears of term 2 and is repaired the same way */
    set_role(f, 1, RS_FOLLOWER, 2);
    truncate_from(f, 1, 3);
    append(f, 1, 2, "new3");
    append(f, 1, 2, "new4");
    set_commit(f, 1, 4);
    assert_true(check(f, 1));
    /* node 1 holds everything committed: it may lead term 3 */
    set_role(f, 1, RS_LEADER, 3);
    append(f, 1, 3, "conf");
    assert_true(check(f, 1));
    assert_int_equal(f->checks.failed, RS_CHECK_NONE);
    assert_int_equal(f->checks.committed_index, 4);
}

static void test_same_index_and_term_with_different_contents_fails(void **state)
{
    struct fixture *f = *state;
    replicated_prefix(f, 2);
    append(f, 1, 1, "put k=1");
    assert_true(check(f, 1));
    append(f, 2, 1, "put k=2");
    assert_false(check(f, 2));
    assert_failed(f, RS_CHECK_LOG_MATCHING, "both hold index 3 of term 1, with different");
    assert_non_null(strstr(f->checks.message, "node 2 and node 1"));
}

static void test_same_entry_after_different_prefixes_fails(void **state)
{
    struct fixture *f = *state;
    replicated_prefix(f, 1);
    append(f, 1, 1, "a");
    append(f, 1, 2, "c");
    assert_true(check(f, 1));
    append(f, 2, 2, "b"); /* index 2 differs by term: allowed on its own */
    append(f, 2, 2, "c"); /* index 3 is the same entry as node 1's, after another one */
    assert_false(check(f, 2));
    assert_failed(f, RS_CHECK_LOG_MATCHING,
                  "index 2 has term 2 on node 2 and term 1 on node 1");
}

/* A rewritten suffix is checked again even when the last index did not move. */
static void test_rewritten_suffix_is_rechecked(void **state)
{
    struct fixture *f = *state;
    replicated_prefix(f, 1);
    append(f, 1, 2, "x");
    assert_true(check(f, 1));
    append(f, 2, 1, "y");
    assert_true(check(f, 2));
    truncate_from(f, 2, 2);
    append(f, 2, 2, "z"); /* index 2 of term 2 again, but not node 1's entry */
    assert_false(check(f, 2));
    assert_failed(f, RS_CHECK_LOG_MATCHING, "index 2 of term 2");
}

/* The suffix was cut below the checked point and grew past it within one event. */
static void test_cut_and_regrown_suffix_is_rechecked(void **state)
{
    struct fixture *f = *state;
    replicated_prefix(f, 1);
    append(f, 1, 2, "a2");
    append(f, 1, 2, "a3");
    append(f, 1, 2, "a4");
    assert_true(check(f, 1));
    append(f, 3, 1, "b2");
    append(f, 3, 1, "b3");
    sync_log(f, 3);
    assert_true(check(f, 3));
    truncate_from(f, 3, 2);
    append(f, 3, 2, "a2");
    append(f, 3, 2, "WRONG");
    append(f, 3, 2, "a4");
    assert_false(check(f, 3));
    assert_failed(f, RS_CHECK_LOG_MATCHING, "node 3 and node 1 both hold index 3 of term 2");
}

static void test_leader_log_shrinking_fails(void **state)
{
    struct fixture *f = *state;
    replicated_prefix(f, 1);
    set_role(f, 1, RS_LEADER, 2);
    append(f, 1, 2, "a");
    append(f, 1, 2, "b");
    assert_true(check(f, 1));
    truncate_from(f, 1, 3);
    assert_false(check(f, 1));
    assert_failed(f, RS_CHECK_LEADER_APPEND_ONLY,
                  "leader node 1 of term 2 deleted entries: its last index went from 3");
}

static void test_leader_overwriting_its_last_entry_fails(void **state)
{
    struct fixture *f = *state;
    replicated_prefix(f, 1);
    set_role(f, 1, RS_LEADER, 2);
    append(f, 1, 2, "a");
    assert_true(check(f, 1));
    truncate_from(f, 1, 2);
    append(f, 1, 2, "b");
    assert_false(check(f, 1));
    assert_failed(f, RS_CHECK_LEADER_APPEND_ONLY, "overwrote entry 2: term 2 became term 2 with");
}

/* A leader's log may shrink once it no longer leads; a new term starts a new tracking. */
static void test_former_leader_may_be_truncated(void **state)
{
    struct fixture *f = *state;
    replicated_prefix(f, 1);
    append(f, 1, 1, "uncommitted");
    assert_true(check(f, 1));
    set_role(f, 1, RS_FOLLOWER, 2);
    truncate_from(f, 1, 2);
    assert_true(check(f, 1));
    assert_int_equal(f->checks.failed, RS_CHECK_NONE);
}

static void test_new_leader_missing_committed_entry_fails(void **state)
{
    struct fixture *f = *state;
    replicated_prefix(f, 1);
    append(f, 1, 1, "a");
    append(f, 1, 1, "b");
    set_commit(f, 1, 3);
    assert_true(check(f, 1));
    set_role(f, 2, RS_LEADER, 2);
    assert_false(check(f, 2));
    assert_failed(f, RS_CHECK_LEADER_COMPLETENESS,
                  "leader node 2 of term 2 lacks committed entry 3 (term 1, committed by term "
                  "1): its log ends at index 1");
}

static void test_new_leader_with_other_entry_at_committed_index_fails(void **state)
{
    struct fixture *f = *state;
    replicated_prefix(f, 1);
    append(f, 1, 1, "a");
    set_commit(f, 1, 2);
    assert_true(check(f, 1));
    /* node 3 wins term 2 with its own entry at the committed index */
    set_role(f, 3, RS_LEADER, 2);
    append(f, 3, 2, "z");
    assert_false(check(f, 3));
    assert_failed(f, RS_CHECK_LEADER_COMPLETENESS, "holds term 2 at index 2");
}

/* A stale leader of term 1 commits after node 2 was elected in term 2 without the entry. */
static void test_late_commit_of_earlier_term_checks_current_leader(void **state)
{
    struct fixture *f = *state;
    replicated_prefix(f, 1);
    append(f, 1, 1, "a");
    assert_true(check(f, 1));
    set_role(f, 2, RS_LEADER, 2);
    assert_true(check(f, 2)); /* entry 2 is not committed yet */
    set_commit(f, 1, 2);
    assert_false(check(f, 1));
    assert_failed(f, RS_CHECK_LEADER_COMPLETENESS, "leader node 2 of term 2 lacks committed "
                                                   "entry 2 (term 1, committed by term 1)");
}

/* Entries committed in later terms are not owed to an older leader. */
static void test_stale_leader_need_not_hold_later_commits(void **state)
{
    struct fixture *f = *state;
    replicated_prefix(f, 1);
    set_role(f, 1, RS_LEADER, 3);
    append(f, 1, 3, "t3");
    set_commit(f, 1, 2);
    assert_true(check(f, 1));
    set_role(f, 2, RS_LEADER, 2); /* elected in term 2, seen only now */
    assert_true(check(f, 2));
    append(f, 1, 3, "t3b");
    set_commit(f, 1, 3);
    assert_true(check(f, 1));
    assert_int_equal(f->checks.failed, RS_CHECK_NONE);
}

static void test_applied_entries_differ_fails(void **state)
{
    struct fixture *f = *state;
    replicated_prefix(f, 1);
    append(f, 1, 1, "a");
    set_commit(f, 1, 2);
    assert_true(check(f, 1));
    append(f, 2, 2, "b");
    set_commit(f, 2, 2);
    assert_false(check(f, 2));
    assert_failed(f, RS_CHECK_STATE_MACHINE, "node 2 applied a different entry at index 2");
}

/* Compacted logs: only present entries are compared and the index window follows the first
 * index of the live logs. */
static void test_compacted_logs_prune_the_window(void **state)
{
    struct fixture *f = *state;
    const rs_index total = 6000, first = 5001;
    for (uint32_t id = 1; id <= NODES; id++) {
        compacted_log(f, id, 1, total, "same");
        assert_true(check(f, id));
    }
    for (uint32_t id = 1; id <= NODES; id++) {
        compacted_log(f, id, first, total, "same");
        assert_true(check(f, id));
        /* the window moves only once no live log holds the old indexes */
        assert_int_equal(f->checks.slot_base, id < NODES ? 1 : first);
    }
    append(f, 1, 1, "one");
    assert_true(check(f, 1));
    append(f, 2, 1, "two");
    assert_false(check(f, 2));
    assert_failed(f, RS_CHECK_LOG_MATCHING, "index 6001 of term 1");
}

/* A restarted replica's log is checked whole again. */
static void test_recovered_log_is_rechecked(void **state)
{
    struct fixture *f = *state;
    replicated_prefix(f, 2);
    rs_checks_crash(&f->checks, 3, f->nodes[3]);
    node_free(f->nodes[3]);
    f->nodes[3] = node_new(1);
    append(f, 3, 1, "e1");
    append(f, 3, 1, "e2");
    append(f, 3, 1, "forged"); /* index 3 of term 1: node 1 holds another one */
    sync_log(f, 3);
    assert_true(rs_checks_recovered(&f->checks, f->now_ns, 3, f->nodes[3]));
    assert_true(check(f, 1));
    append(f, 1, 1, "real");
    assert_true(check(f, 1));
    assert_false(check(f, 3));
    assert_failed(f, RS_CHECK_LOG_MATCHING, "index 3 of term 1");
}

static void test_lost_synced_entry_fails_durability(void **state)
{
    struct fixture *f = *state;
    replicated_prefix(f, 3);
    rs_checks_crash(&f->checks, 2, f->nodes[2]);
    node_free(f->nodes[2]);
    f->nodes[2] = node_new(1);
    append(f, 2, 1, "e1");
    sync_log(f, 2);
    assert_false(rs_checks_recovered(&f->checks, f->now_ns, 2, f->nodes[2]));
    assert_failed(f, RS_CHECK_DURABILITY, "node 2 lost synced entry 3");
}

/* ---- conf-changes-serial ---------------------------------------------------------------- */

/* {1,2,3} -> {3}: the joint configuration needs node 3 and two of 1, 2, 3. */
static const struct rs_conf conf_123 = {.voter_count = 3, .voters = {1, 2, 3}};
static const struct rs_conf conf_3 = {.voter_count = 1, .voters = {3}};
static const struct rs_conf joint_123_3 = {
    .voter_count = 1, .voters = {3}, .old_voter_count = 3, .old_voters = {1, 2, 3}};

static void append_conf(struct fixture *f, uint32_t id, rs_term term, const struct rs_conf *conf)
{
    uint8_t bytes[RS_CONF_ENCODED_MAX];
    size_t size = rs_conf_encode(conf, bytes);
    rs_log_append(&f->nodes[id]->raft.log, term, RS_ENTRY_CONF, bytes, (uint32_t)size);
}

/* Node id follows the leader of term: role, and the entries given, synced. */
static void follow(struct fixture *f, uint32_t id, rs_term term)
{
    set_role(f, id, RS_FOLLOWER, term);
    sync_log(f, id);
    assert_true(check(f, id));
}

/* Node 1 leads term 2 from entry e1: its first entry restates {1,2,3}, and every node stores
 * and syncs it, so it commits (index 2). */
static void conf_committed_at_term_start(struct fixture *f)
{
    replicated_prefix(f, 1);
    set_role(f, 1, RS_LEADER, 2);
    append_conf(f, 1, 2, &conf_123);
    assert_true(check(f, 1));
    for (uint32_t id = 2; id <= NODES; id++) {
        append_conf(f, id, 2, &conf_123);
        follow(f, id, 2);
    }
    sync_log(f, 1);
    set_commit(f, 1, 2);
    assert_true(check(f, 1));
}

/* {1,2,3} -> joint -> {3}, each entry appended once the one before committed on both
 * majorities; a new leader restates the joint configuration it inherits uncommitted, and
 * finishes the change once that restatement committed. */
static void test_conf_changes_one_at_a_time_pass(void **state)
{
    struct fixture *f = *state;
    conf_committed_at_term_start(f);
    append(f, 1, 2, "x");
    append_conf(f, 1, 2, &joint_123_3); /* index 4 */
    assert_true(check(f, 1));
    for (uint32_t id = 2; id <= NODES; id++) {
        append(f, id, 2, "x");
        append_conf(f, id, 2, &joint_123_3);
        follow(f, id, 2);
    }
    sync_log(f, 1);
    set_commit(f, 1, 4);
    append_conf(f, 1, 2, &conf_3); /* index 5: the second step, in the same event */
    assert_true(check(f, 1));
    /* node 3 never heard of index 5 or of the commit of 4: it restates the joint entry */
    set_role(f, 3, RS_LEADER, 3);
    set_commit(f, 3, 3);
    append_conf(f, 3, 3, &joint_123_3); /* index 5 of term 3 */
    assert_true(check(f, 3));
    truncate_from(f, 2, 5);
    append_conf(f, 2, 3, &joint_123_3);
    follow(f, 2, 3);
    sync_log(f, 3);
    set_commit(f, 3, 5);
    append_conf(f, 3, 3, &conf_3); /* index 6 */
    assert_true(check(f, 3));
    assert_int_equal(f->checks.failed, RS_CHECK_NONE);
}

/* A second change starts while the first (the term's first entry) is uncommitted. */
static void test_conf_entry_before_the_last_committed_fails(void **state)
{
    struct fixture *f = *state;
    replicated_prefix(f, 1);
    set_role(f, 1, RS_LEADER, 2);
    append_conf(f, 1, 2, &conf_123);
    assert_true(check(f, 1));
    append(f, 1, 2, "x");
    append_conf(f, 1, 2, &joint_123_3);
    assert_false(check(f, 1));
    assert_failed(f, RS_CHECK_CONF_SERIAL,
                  "leader node 1 of term 2 appended configuration entry 4 while configuration "
                  "entry 2 (term 2) was uncommitted: its commit index is 1");
}

/* A new leader's first entry may only restate the configuration it inherits uncommitted. */
static void test_new_leader_changing_uncommitted_conf_fails(void **state)
{
    struct fixture *f = *state;
    conf_committed_at_term_start(f);
    append_conf(f, 1, 2, &joint_123_3); /* index 3, uncommitted */
    assert_true(check(f, 1));
    append_conf(f, 2, 2, &joint_123_3);
    follow(f, 2, 2);
    set_role(f, 2, RS_LEADER, 3);
    append_conf(f, 2, 3, &conf_3); /* skips the joint entry's commit */
    assert_false(check(f, 2));
    assert_failed(f, RS_CHECK_CONF_SERIAL,
                  "appended configuration entry 4 while configuration entry 3 (term 2) was "
                  "uncommitted");
}

/* The leader counts the joint entry committed once node 3 (the new majority) holds it: the
 * old voters 1 and 2 never stored it durably (the planted bug joint-single-quorum). */
static void test_joint_entry_committed_on_new_majority_only_fails(void **state)
{
    struct fixture *f = *state;
    conf_committed_at_term_start(f);
    append_conf(f, 1, 2, &joint_123_3); /* index 3, not synced by node 1 */
    assert_true(check(f, 1));
    append_conf(f, 3, 2, &joint_123_3);
    follow(f, 3, 2);
    append_conf(f, 2, 2, &joint_123_3); /* stored, not yet synced */
    assert_true(check(f, 2));
    set_commit(f, 1, 3);
    append_conf(f, 1, 2, &conf_3);
    assert_false(check(f, 1));
    assert_failed(f, RS_CHECK_CONF_SERIAL,
                  "leader node 1 of term 2 appended configuration entry 4 after committing "
                  "configuration entry 3, which only nodes 3 held: not a majority of its voters "
                  "(old and new)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_consistent_history_passes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_index_and_term_with_different_contents_fails,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_entry_after_different_prefixes_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rewritten_suffix_is_rechecked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_and_regrown_suffix_is_rechecked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_leader_log_shrinking_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leader_overwriting_its_last_entry_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_former_leader_may_be_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_leader_missing_committed_entry_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_new_leader_with_other_entry_at_committed_index_fails,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_commit_of_earlier_term_checks_current_leader,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_leader_need_not_hold_later_commits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_applied_entries_differ_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compacted_logs_prune_the_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovered_log_is_rechecked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_synced_entry_fails_durability, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_conf_changes_one_at_a_time_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conf_entry_before_the_last_committed_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_new_leader_changing_uncommitted_conf_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_joint_entry_committed_on_new_majority_only_fails,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
