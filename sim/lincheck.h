/* The linearizability checker for client histories of a key-value register store. */
#ifndef RS_SIM_LINCHECK_H
#define RS_SIM_LINCHECK_H

#include "core/base.h"
#include "reports/json.h"
#include "sim/history.h"

/*
 * Model: every key is an independent register that starts absent; the history is checked one
 * key at a time. A single-key history is linearizable iff every key is. Multi-key and later
 * operations are projected onto each key they touch (lincheck.c says how and why that is
 * sound): then every key passing is necessary, not sufficient (atomicity across keys is not
 * checked), and a few counters may be left unchecked (keys_skipped, with a note). ok operations took effect inside their interval with the recorded result; fail ones are
 * dropped; info ones (and invokes never completed) took effect at some point after their invoke,
 * or never. Two operations are ordered only when one's completion time is strictly before the
 * other's invoke time: equal times count as concurrent.
 *
 * When the values written to a key are unique (the workload's promise), the search uses it:
 * the write a read saw is known, unobserved writes need no branching, indeterminate writes are
 * either forced by an observer (and then get its completion as a deadline) or dropped. When a
 * key's written values repeat, that key is checked by the same search without those rules (the
 * general search: exact, but it may exhaust its budget sooner); the result says so in a note.
 * options.general forces the general search everywhere, as a second opinion.
 *
 * A violation is explained by a window: a few operations that cannot all take effect within
 * their intervals, found by shrinking time windows around the failure and then relaxing the
 * operations of the failing window one by one (see rs_lincheck_result).
 */

enum rs_lincheck_verdict { RS_LINCHECK_OK, RS_LINCHECK_VIOLATION, RS_LINCHECK_UNKNOWN };

/* Budgets apply to each key's search separately. Zero selects the default. */
struct rs_lincheck_options {
    uint64_t steps_max; /* successor configurations generated; default 2e9 */
    uint64_t bytes_max; /* memory for the search frontier; default 1 GiB */
    bool no_witness;    /* skip the search for a small failing window */
    bool general;       /* check every key by the general search (a second opinion) */
    bool self_check;    /* also judge each witness window of <= 64 ops by the reference */
};

#define RS_LINCHECK_STEPS_DEFAULT 2000000000ull
#define RS_LINCHECK_BYTES_DEFAULT (1ull << 30)
/* The exhaustive reference search handles at most this many operations of one key. */
#define RS_LINCHECK_REFERENCE_OPS_MAX 64u

struct rs_lincheck_result {
    enum rs_lincheck_verdict verdict;
    /* The key reported (first violating key, else first unknown one), or RS_HIST_NONE. */
    uint32_t key;
    /*
     * For a violation: invoke event indices (file order) of the operations shown. When
     * witness_is_window, the witness operations cannot all take effect within their intervals
     * in the window [window_start_ns, window_end_ns], starting from absent if
     * window_from_start (the window starts with the key's first operation) or else from any
     * state the operations invoked before the window could have left, and whichever of the
     * context operations (writes of the window whose outcome is unknown or undecided there)
     * take effect. Otherwise witness lists the operations pending when the search failed.
     */
    uint32_t *witness;
    uint32_t witness_count;
    uint32_t *context;
    uint32_t context_count;
    bool witness_is_window;
    bool window_from_start;
    int64_t window_start_ns;
    int64_t window_end_ns;
    char reason[256];
    char note[256]; /* e.g. a key whose written values repeat */
    /* Figures over the whole history. */
    uint32_t key_count;
    uint32_t keys_violating;
    uint32_t keys_unknown;
    uint32_t keys_general;             /* keys whose written values repeat (general search) */
    uint32_t keys_skipped;             /* keys the projection could not check (see note) */
    uint64_t op_count;                 /* operations checked (fail ones excluded) */
    uint64_t steps;                    /* summed over keys */
    uint64_t configs_max;              /* largest frontier of one key */
    uint64_t bytes_max;                /* largest search memory of one key */
    uint32_t self_check_disagreements; /* with options.self_check: must stay 0 */
};

void rs_lincheck_options_default(struct rs_lincheck_options *options);

/* Checks the history; RS_ENOMEM only when the host runs out of memory outside the budgets. */
enum rs_err rs_lincheck_check(const struct rs_history *history,
                              const struct rs_lincheck_options *options,
                              struct rs_lincheck_result *result);
void rs_lincheck_result_free(struct rs_lincheck_result *result);

/* A short human-readable account: "ok: ...", "violation: ..." with the witness lines, etc. */
void rs_lincheck_format(const struct rs_history *history,
                        const struct rs_lincheck_result *result,
                        struct rs_buf *out);
const char *rs_lincheck_verdict_name(enum rs_lincheck_verdict verdict);

/*
 * The reference checker: a plain exhaustive search over orders of each key's operations with
 * none of the fast checker's rules (no unique-value reasoning). Keys with more than
 * RS_LINCHECK_REFERENCE_OPS_MAX operations, or a search past steps_max, give UNKNOWN.
 */
enum rs_lincheck_verdict rs_lincheck_reference(const struct rs_history *history,
                                               uint64_t steps_max);

#endif
