/* The linearizability checker: a per-key sweep with exact pruning rules, witnesses, reference. */
#include "sim/lincheck.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/*
 * How the fast search works (one key at a time).
 *
 * The register's state is which write is current: absent (0), DEAD (1: any value nobody ever
 * observes, or no longer can; no operation can tell those apart, so they are one state) or an
 * observed value. The sweep visits invoke and completion events in time order (invokes first
 * at equal times). A configuration is (which operations of the window are linearized, state,
 * info deletes used); the window is the operations invoked and not yet completed, because
 * every completed one is linearized in every surviving configuration and drops out. Before a
 * completion the frontier is closed under "linearize one more pending operation"; at the
 * completion only configurations that linearized that operation survive. An empty frontier
 * is a violation; budgets on steps and memory turn a runaway search into UNKNOWN.
 *
 * Rules that keep the frontier small. Each is exact: it never loses every linearization of a
 * linearizable history and never invents one (each comment below says why), and the unit
 * tests cross-check the whole against an exhaustive search on thousands of random histories.
 * - Reads change nothing, so linearizing one as soon as the state matches is never worse:
 *   reads are applied eagerly and never branched on.
 * - A put whose value nobody observes (no read, cas or get_and_put sees it) leaves a state in
 *   which only blind writes can follow, so it is absorbed by any blind write applied while it
 *   is pending, or else applied last before its completion. No branching.
 * - Pending writes with equal precondition and effect (deletes, say) are interchangeable: only
 *   the one that must complete first is branched on.
 * - Info (unknown outcome) writes whose value nobody observes are dropped: whatever followed
 *   one in a linearization was a blind write, so removing it leaves a linearization. Info
 *   deletes, all alike and never completing, are counted instead of tracked one by one.
 * Rules that need unique written values (a key whose values repeat does without them):
 * - The write a value came from is known, so state v may be left only once every read of v is
 *   invoked (hence done) and only by v's cas/get_and_put consumer if v has one.
 * - Then that consumer, once pending, is the only possible next write: it is applied at once.
 * - A blind write, its consumer chain and all their reads are contiguous in any linearization;
 *   once all are invoked the chain is absorbed or applied whole, like an unobserved put.
 * - An info write whose value an ok operation observes must have happened before that
 *   observer completed: it becomes mandatory with that deadline (info cas chains pass it on);
 *   an info write with no such observer is dropped (as above).
 * Without unique values, an info write whose value is still observed stays pending (it may or
 * may not happen) until the last completed observer of its value returns, then leaves.
 */

#define ABSENT 0u
#define DEAD   1u
#define NONE   RS_HIST_NONE
#define NEVER  INT64_MAX
/* An id no string takes (witness windows use it for "some other value"). */
#define WITNESS_OTHER_ID (NONE - 1)
/* The window (operations pending at once on one key) is at most this many words of bits. */
#define WINDOW_WORDS_MAX 64u

/* One operation (invoke plus completion) as extracted from the history. */
struct lc_op {
    int64_t invoke_ns;
    int64_t return_ns; /* NEVER when the outcome is unknown */
    uint32_t invoke_event;
    uint32_t complete_event; /* NONE when there is none */
    uint32_t key;
    uint32_t pre_value; /* string id the state must equal, NONE for absent (when !pre_any) */
    uint32_t eff_value; /* string id written, NONE for absent (delete) (when writes) */
    uint8_t f;        /* the single-key kind the search uses */
    uint8_t source_f; /* the history operation it was projected from (for messages) */
    bool sequence;    /* key names a sequence, not a data key */
    bool ok;
    bool maybe; /* witness windows only: may have taken effect, by return_ns, or not at all */
    bool pre_any;
    bool writes;
};

/* How the sweep treats an operation of one key. */
enum op_class {
    CLS_DROP,
    CLS_READ,
    CLS_WRITE,          /* mandatory, branched on */
    CLS_UNOBSERVED_PUT, /* mandatory blind put nobody observes: absorbed, never branched on */
    CLS_INFO_DELETE,    /* counted, not in the window */
    CLS_OPTIONAL        /* general search only: an info write that may or may not happen */
};

/* One key's operations and what the preparation decided about them. */
struct key_ctx {
    const struct lc_op *ops;
    uint32_t n;
    uint32_t value_count; /* local raw value ids 1..value_count; 0 is absent */
    uint32_t *pre;        /* local raw id per op */
    uint32_t *eff;
    uint8_t *cls;
    int64_t *ret;   /* completion or deadline the sweep uses */
    uint32_t *spre; /* sweep state ids */
    uint32_t *seff;
    uint32_t state_count;
    bool unique;        /* the unique-value rules apply */
    bool repeats;       /* written values repeat (then !unique) */
    bool force_general; /* the caller asked for the general search */
    uint32_t dup_first; /* two ops writing the same value, when values repeat */
    uint32_t dup_second;
    uint32_t *readers_uninvoked; /* per sweep state */
    uint32_t *consumer;          /* per sweep state: op index or NONE */
    uint32_t *writer;            /* per sweep state: the op writing it (unique values) */
    uint32_t *reader_start;      /* per sweep state: its reads are reader_ops[start..next) */
    uint32_t *reader_ops;
    uint32_t *class_of; /* per op that is branched on: ops with equal (pre, eff) share it */
    const struct derived *derived; /* strings of value ids (for messages) */
};

/* What one key's sweep concluded. */
struct key_outcome {
    enum rs_lincheck_verdict verdict;
    uint32_t fail_op; /* op index whose completion could not be met */
    int64_t fail_ns;
    uint32_t *pending; /* ops in the window at the failure */
    uint32_t pending_count;
    char reason[200];
    uint64_t steps;
    uint64_t configs_max;
    uint64_t bytes_max;
};

static void outcome_reason(struct key_outcome *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void outcome_reason(struct key_outcome *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reason, sizeof out->reason, fmt, ap);
    va_end(ap);
}

const char *rs_lincheck_verdict_name(enum rs_lincheck_verdict verdict)
{
    switch (verdict) {
        case RS_LINCHECK_OK:
            return "ok";
        case RS_LINCHECK_VIOLATION:
            return "violation";
        case RS_LINCHECK_UNKNOWN:
            return "unknown";
        default:
            return "?";
    }
}

void rs_lincheck_options_default(struct rs_lincheck_options *options)
{
    memset(options, 0, sizeof *options);
    options->steps_max = RS_LINCHECK_STEPS_DEFAULT;
    options->bytes_max = RS_LINCHECK_BYTES_DEFAULT;
}

/* ---- Extraction: operations from events ---- */

/*
 * Multi-key and later operations are checked by projection: each operation becomes one
 * single-key operation (a guarded read or write of one register) per key it touches, with its
 * own interval and outcome, and each key is then checked alone as before.
 *
 * Why this is sound (it never reports a violation for a linearizable history): take a
 * linearization of the whole history and keep, for one key, the projected operations in the
 * same order. Each projected operation sees exactly the state its original saw on that key and
 * leaves what the original left, so the order is a linearization of that key's projection.
 * Projection keeps every per-key consequence but forgets atomicity across keys: a multi_get
 * or scan that sees one key of a batch_put before it and another after it passes. That is the
 * gap (a full multi-key model for small key sets would close it).
 *
 *   multi_get ok      a get per returned key (a truncated result's missing keys: nothing)
 *   scan ok           a get per returned pair (keys_only: nothing for the key), and a get of
 *                     absent for every key the history knows inside the covered range that the
 *                     scan did not return (covered: the whole range, or up to the last key
 *                     returned when truncated)
 *   contains_key ok   found 0: a get of absent; found 1: nothing (presence is not a value)
 *   batch_put, batch_delete, cas_all   a put, delete or cas per key, same outcome
 *   delete_range      a delete of every key the history knows in the range
 *   merge             with unique merged strings containing no separator, the value a merge
 *                     made is visible in any observed value holding its string: "p1,..,m,..."
 *                     makes merge m a cas from "p1,..,p(i-1)" (absent when first) to
 *                     "p1,..,m". A merge nobody observes is a blind write of a value nobody
 *                     reads (every operation that could tell would have observed it). When the
 *                     strings repeat or hold the separator, the key is not checked (a note).
 *   get_sequence ok   in the sequence space: a cas from start to end (0 is absent), or a get
 *                     of start when step is 0; reset_sequence a delete
 *   lock ok, success with acquires 1 (a new holder)   on the fencing key (a data key): a cas
 *                     from token - 1 (0: absent) to token, as decimal text
 * Counters (a sequence, a fencing key) with an increment of unknown outcome are not checked:
 * the value it would leave is unknown, so later operations could not be explained (a note).
 * Lock records themselves (mutual exclusion, leases) are not checked, nor unlock.
 */

/* Strings the projection makes (merge prefixes, counters) that the history may not hold. */
struct derived {
    const struct rs_history *h;
    uint32_t base; /* ids from base on are derived */
    char *chars;
    size_t chars_size, chars_cap;
    size_t *offset;
    uint32_t *size;
    uint32_t count, cap;
};

static void derived_free(struct derived *d)
{
    free(d->chars);
    free(d->offset);
    free(d->size);
    memset(d, 0, sizeof *d);
}

static struct rs_hist_str lc_string(const struct derived *d, uint32_t id)
{
    if (id < d->base) {
        return rs_history_string(d->h, id);
    }
    RS_ASSERT(id - d->base < d->count);
    return (struct rs_hist_str){d->chars + d->offset[id - d->base], d->size[id - d->base]};
}

/* The id of these bytes: the history's, or a derived one (linear search: few are made). */
static uint32_t derived_id(struct derived *d, const char *data, size_t size)
{
    uint32_t id = rs_history_find_string(d->h, data, size);
    if (id != NONE) {
        return id;
    }
    for (uint32_t i = 0; i < d->count; i++) {
        if (d->size[i] == size && memcmp(d->chars + d->offset[i], data, size) == 0) {
            return d->base + i;
        }
    }
    if (d->count == d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 64;
        size_t *offset = realloc(d->offset, cap * sizeof *offset);
        d->offset = offset ? offset : d->offset;
        uint32_t *sizes = realloc(d->size, cap * sizeof *sizes);
        d->size = sizes ? sizes : d->size;
        RS_ASSERT(offset != NULL && sizes != NULL);
        d->cap = cap;
    }
    if (d->chars_size + size + 1 > d->chars_cap) {
        size_t cap = (d->chars_size + size + 1) * 2;
        char *chars = realloc(d->chars, cap);
        RS_ASSERT(chars != NULL);
        d->chars = chars;
        d->chars_cap = cap;
    }
    memcpy(d->chars + d->chars_size, data, size);
    d->offset[d->count] = d->chars_size;
    d->size[d->count] = (uint32_t)size;
    d->chars_size += size;
    RS_ASSERT(d->base + d->count < WITNESS_OTHER_ID);
    return d->base + d->count++;
}

static uint32_t counter_id(struct derived *d, int64_t value)
{
    if (value <= 0) {
        return NONE; /* a counter at 0 is an absent key */
    }
    char text[24];
    int n = snprintf(text, sizeof text, "%lld", (long long)value);
    return derived_id(d, text, (size_t)n);
}

/* What one history operation is, before projection. */
struct source {
    const struct rs_hist_event *inv;
    const struct rs_hist_event *done; /* NULL when never completed */
    uint32_t index;
    bool ok;
};

/* All operations, grouped by key (keys in order of first invoke, ops in invoke order). */
struct op_table {
    struct lc_op *ops;
    uint32_t op_count;
    uint32_t op_cap;
    uint32_t *key_start; /* per key rank: first op; key_start[key_count] = op_count */
    uint32_t key_count;
    struct derived derived;
    uint32_t space_base; /* checker keys: data key id, or space_base + id for a sequence */
    uint32_t key_ids;    /* checker key ids are below this */
    bool *skip;          /* per checker key: not checked (see above) */
    uint32_t keys_skipped;
    char skip_note[160];
    uint32_t *universe; /* data key ids the history knows, sorted by their bytes */
    uint32_t universe_count;
};

/* Appends one projected op (most fields from the source); false when memory runs out. */
static bool emit(struct op_table *t, const struct source *src, uint32_t key, uint8_t f,
                 bool pre_any, uint32_t pre, bool writes, uint32_t eff)
{
    if (t->op_count == t->op_cap) {
        uint32_t cap = t->op_cap ? t->op_cap * 2 : 1024;
        struct lc_op *ops = realloc(t->ops, ((size_t)cap + 1) * sizeof *ops);
        if (ops == NULL) {
            return false;
        }
        t->ops = ops;
        t->op_cap = cap;
    }
    struct lc_op *op = &t->ops[t->op_count++];
    memset(op, 0, sizeof *op);
    op->invoke_ns = src->inv->time_ns;
    op->return_ns = src->ok ? src->done->time_ns : NEVER;
    op->invoke_event = src->index;
    op->complete_event = src->inv->partner;
    op->key = key;
    op->f = f;
    op->source_f = src->inv->f;
    op->ok = src->ok;
    op->pre_any = pre_any;
    op->pre_value = pre;
    op->writes = writes;
    op->eff_value = eff;
    RS_ASSERT(!writes || f == RS_HIST_DELETE || eff != NONE);
    return true;
}

static bool emit_get(struct op_table *t, const struct source *src, uint32_t key, uint32_t value)
{
    return emit(t, src, key, RS_HIST_GET, false, value, false, NONE);
}

/* The single-key operations of the first format, as before projection existed. */
static bool project_simple(struct op_table *t, const struct source *src)
{
    const struct rs_hist_event *inv = src->inv;
    uint8_t f = inv->f;
    if (f == RS_HIST_GET) {
        return emit_get(t, src, inv->key,
                        src->done->value_kind == RS_HIST_VALUE_STRING ? src->done->value : NONE);
    }
    uint32_t eff = f == RS_HIST_DELETE ? NONE : inv->value;
    if (src->ok && f == RS_HIST_GET_AND_PUT) {
        uint32_t pre = src->done->value_kind == RS_HIST_VALUE_STRING ? src->done->value : NONE;
        return emit(t, src, inv->key, f, false, pre, true, eff);
    }
    if (f == RS_HIST_CAS) {
        return emit(t, src, inv->key, f, false, inv->expected, true, eff);
    }
    return emit(t, src, inv->key, f, f != RS_HIST_PUT_IF_ABSENT, NONE, true, eff);
}

static int compare_strings(const struct rs_history *h, uint32_t a, uint32_t b)
{
    struct rs_hist_str x = rs_history_string(h, a);
    struct rs_hist_str y = rs_history_string(h, b);
    size_t common = x.size < y.size ? x.size : y.size;
    int c = common > 0 ? memcmp(x.data, y.data, common) : 0;
    return c != 0 ? c : (x.size < y.size ? -1 : (x.size > y.size ? 1 : 0));
}

/* Universe keys in [start, end) (end NONE: unbounded), as an index range of t->universe. */
static void universe_range(const struct op_table *t, const struct rs_history *h, uint32_t start,
                           uint32_t end, bool end_inclusive, uint32_t *first, uint32_t *last)
{
    uint32_t i = 0;
    while (i < t->universe_count && compare_strings(h, t->universe[i], start) < 0) {
        i++;
    }
    uint32_t j = i;
    while (j < t->universe_count &&
           (end == NONE || compare_strings(h, t->universe[j], end) < (end_inclusive ? 1 : 0))) {
        j++;
    }
    *first = i;
    *last = j;
}

static bool project_scan(struct op_table *t, const struct rs_history *h, const struct source *src)
{
    const struct rs_hist_item *range = rs_history_keys(h, src->inv);
    const struct rs_hist_item *items = rs_history_items(h, src->done);
    uint32_t n = src->done->item_count;
    bool reverse = src->inv->f == RS_HIST_REVERSE_SCAN;
    for (uint32_t i = 0; i < n; i++) {
        if (items[i].second != NONE && !emit_get(t, src, items[i].first, items[i].second)) {
            return false;
        }
    }
    /* The covered range: all of it, or when truncated up to (from) the last key returned. */
    uint32_t start = range[0].first;
    uint32_t end = range[1].first;
    bool inclusive = false;
    if (src->done->args[0] == 1 && n > 0) {
        start = reverse ? items[n - 1].first : start;
        end = reverse ? end : items[n - 1].first;
        inclusive = !reverse;
    } else if (src->done->args[0] == 1) {
        return true;
    }
    uint32_t first;
    uint32_t last;
    universe_range(t, h, start, end, inclusive, &first, &last);
    for (uint32_t u = first; u < last; u++) {
        bool returned = false;
        for (uint32_t i = 0; i < n && !returned; i++) {
            returned = items[i].first == t->universe[u];
        }
        if (!returned && !emit_get(t, src, t->universe[u], NONE)) {
            return false;
        }
    }
    return true;
}

/* Lists: batch_put, batch_delete, cas_all (one op per key), multi_get (one get per result). */
static bool project_list(struct op_table *t, const struct rs_history *h, const struct source *src)
{
    const struct rs_hist_item *keys = rs_history_keys(h, src->inv);
    uint8_t f = src->inv->f;
    if (f == RS_HIST_MULTI_GET) {
        const struct rs_hist_item *items = rs_history_items(h, src->done);
        for (uint32_t i = 0; i < src->done->item_count; i++) {
            if (!emit_get(t, src, keys[i].first, items[i].first)) {
                return false;
            }
        }
        return true;
    }
    const struct rs_hist_item *values = rs_history_items(h, src->inv);
    for (uint32_t i = 0; i < src->inv->key_count; i++) {
        bool ok = f == RS_HIST_BATCH_DELETE
                      ? emit(t, src, keys[i].first, RS_HIST_DELETE, true, NONE, true, NONE)
                  : f == RS_HIST_BATCH_PUT
                      ? emit(t, src, keys[i].first, RS_HIST_PUT, true, NONE, true, values[i].first)
                      : emit(t, src, keys[i].first, RS_HIST_CAS, false, values[i].first, true,
                             values[i].second);
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool project_delete_range(struct op_table *t, const struct rs_history *h,
                                 const struct source *src)
{
    const struct rs_hist_item *range = rs_history_keys(h, src->inv);
    uint32_t first;
    uint32_t last;
    universe_range(t, h, range[0].first, range[1].first, false, &first, &last);
    for (uint32_t u = first; u < last; u++) {
        if (!emit(t, src, t->universe[u], RS_HIST_DELETE, true, NONE, true, NONE)) {
            return false;
        }
    }
    return true;
}

/* ---- Merge, counters and the table ---- */

#define MULTI_KEY (NONE - 1) /* a string written on more than one key */

/* Per data key facts the projection needs before it starts (indexed by string id). */
struct prepass {
    bool *in_universe;
    bool *has_merge;
    bool *merge_unsafe;     /* merged strings repeat, hold the separator or equal a write */
    uint32_t *written_on;   /* string id -> the key a non-merge write wrote it on, MULTI_KEY */
    uint32_t *merged_on;    /* string id -> the key a merge appended it on, MULTI_KEY */
    uint32_t **observed;    /* per key: values ok operations observed */
    uint32_t *observed_count;
    uint32_t *observed_cap;
};

static void prepass_free(struct prepass *pp, uint32_t strings)
{
    for (uint32_t i = 0; pp->observed != NULL && i < strings; i++) {
        free(pp->observed[i]);
    }
    free(pp->in_universe);
    free(pp->has_merge);
    free(pp->merge_unsafe);
    free(pp->written_on);
    free(pp->merged_on);
    free(pp->observed);
    free(pp->observed_count);
    free(pp->observed_cap);
    memset(pp, 0, sizeof *pp);
}

static void note_observed(struct prepass *pp, uint32_t key, uint32_t value)
{
    if (value == NONE) {
        return;
    }
    pp->in_universe[key] = true;
    if (pp->observed_count[key] == pp->observed_cap[key]) {
        uint32_t cap = pp->observed_cap[key] ? pp->observed_cap[key] * 2 : 8;
        uint32_t *grown = realloc(pp->observed[key], cap * sizeof *grown);
        RS_ASSERT(grown != NULL);
        pp->observed[key] = grown;
        pp->observed_cap[key] = cap;
    }
    pp->observed[key][pp->observed_count[key]++] = value;
}

static void note_written(struct prepass *pp, uint32_t *on, uint32_t key, uint32_t value)
{
    pp->in_universe[key] = true;
    if (value != NONE) {
        on[value] = on[value] == NONE || on[value] == key ? key : MULTI_KEY;
    }
}

static bool has_separator(const struct rs_history *h, uint32_t id)
{
    struct rs_hist_str v = rs_history_string(h, id);
    return v.size > 0 && memchr(v.data, ',', v.size) != NULL;
}

/* What one invoke tells the prepass: keys, written and observed values. */
static void prepass_event(struct prepass *pp, const struct rs_history *h, uint32_t index)
{
    const struct rs_hist_event *inv = rs_history_event(h, index);
    const struct rs_hist_event *done =
        inv->partner != NONE ? rs_history_event(h, inv->partner) : NULL;
    bool ok = done != NULL && done->type == RS_HIST_OK;
    const struct rs_hist_item *keys = inv->key_list ? rs_history_keys(h, inv) : NULL;
    const struct rs_hist_item *vals = inv->value_kind == RS_HIST_VALUE_LIST
                                          ? rs_history_items(h, inv) : NULL;
    switch (inv->f) {
    case RS_HIST_GET:
    case RS_HIST_GET_AND_PUT:
    case RS_HIST_PUT:
    case RS_HIST_PUT_IF_ABSENT:
    case RS_HIST_CAS:
        note_written(pp, pp->written_on, inv->key, inv->f == RS_HIST_GET ? NONE : inv->value);
        if (ok && done->value_kind == RS_HIST_VALUE_STRING) {
            note_observed(pp, inv->key, done->value);
        }
        if (ok && inv->f == RS_HIST_CAS) {
            note_observed(pp, inv->key, inv->expected);
        }
        return;
    case RS_HIST_DELETE:
    case RS_HIST_CONTAINS_KEY: pp->in_universe[inv->key] = true; return;
    case RS_HIST_MERGE:
        pp->has_merge[inv->key] = true;
        pp->merge_unsafe[inv->key] |= has_separator(h, inv->value) ||
                                      pp->merged_on[inv->value] != NONE;
        note_written(pp, pp->merged_on, inv->key, inv->value);
        return;
    case RS_HIST_LOCK: pp->in_universe[inv->value] = true; return;
    case RS_HIST_MULTI_GET:
    case RS_HIST_BATCH_PUT:
    case RS_HIST_BATCH_DELETE:
    case RS_HIST_CAS_ALL:
        for (uint32_t i = 0; i < inv->key_count; i++) {
            note_written(pp, pp->written_on, keys[i].first,
                         vals != NULL ? (vals[i].pair ? vals[i].second : vals[i].first) : NONE);
            if (ok && inv->f == RS_HIST_CAS_ALL) {
                note_observed(pp, keys[i].first, vals[i].first);
            }
            if (ok && inv->f == RS_HIST_MULTI_GET && i < done->item_count) {
                note_observed(pp, keys[i].first, rs_history_items(h, done)[i].first);
            }
        }
        return;
    case RS_HIST_SCAN:
    case RS_HIST_REVERSE_SCAN:
        for (uint32_t i = 0; ok && i < done->item_count; i++) {
            const struct rs_hist_item *it = &rs_history_items(h, done)[i];
            pp->in_universe[it->first] = true;
            note_observed(pp, it->first, it->second);
        }
        return;
    default: return;
    }
}

static enum rs_err prepass_run(struct prepass *pp, const struct rs_history *h)
{
    uint32_t strings = rs_history_string_count(h);
    size_t n = (size_t)strings + 1;
    memset(pp, 0, sizeof *pp);
    pp->in_universe = calloc(n, sizeof *pp->in_universe);
    pp->has_merge = calloc(n, sizeof *pp->has_merge);
    pp->merge_unsafe = calloc(n, sizeof *pp->merge_unsafe);
    pp->written_on = malloc(n * sizeof *pp->written_on);
    pp->merged_on = malloc(n * sizeof *pp->merged_on);
    pp->observed = calloc(n, sizeof *pp->observed);
    pp->observed_count = calloc(n, sizeof *pp->observed_count);
    pp->observed_cap = calloc(n, sizeof *pp->observed_cap);
    if (!pp->in_universe || !pp->has_merge || !pp->merge_unsafe || !pp->written_on ||
        !pp->merged_on || !pp->observed || !pp->observed_count || !pp->observed_cap) {
        return RS_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        pp->written_on[i] = pp->merged_on[i] = NONE;
    }
    size_t events = rs_history_event_count(h);
    for (size_t i = 0; i < events; i++) {
        if (rs_history_event(h, i)->type == RS_HIST_INVOKE) {
            prepass_event(pp, h, (uint32_t)i);
        }
    }
    /* A merged string that some other write also writes, or any written value holding the
     * separator, on a key with merges, breaks the reading of observed values. */
    for (uint32_t id = 0; id < strings; id++) {
        uint32_t key = pp->merged_on[id];
        if (key == MULTI_KEY || (key != NONE && pp->written_on[id] == key)) {
            for (uint32_t k = 0; k < strings; k++) {
                pp->merge_unsafe[k] |= key == MULTI_KEY ? pp->has_merge[k] : k == key;
            }
        }
        uint32_t w = pp->written_on[id];
        if (w != NONE && has_separator(h, id)) {
            for (uint32_t k = 0; k < strings; k++) {
                pp->merge_unsafe[k] |= pp->has_merge[k] && (w == MULTI_KEY || k == w);
            }
        }
    }
    return RS_OK;
}

/* Finds merge m in an observed value of its key; the value ids before and after it. */
static bool merge_find(struct op_table *t, const struct prepass *pp, const struct rs_history *h,
                       uint32_t key, uint32_t m, uint32_t *pre, uint32_t *eff)
{
    struct rs_hist_str arg = rs_history_string(h, m);
    for (uint32_t o = 0; o < pp->observed_count[key]; o++) {
        struct rs_hist_str v = lc_string(&t->derived, pp->observed[key][o]);
        size_t at = 0;
        /* Walk the elements of v; bounded by its size. */
        while (at <= v.size) {
            const char *sep = at < v.size ? memchr(v.data + at, ',', v.size - at) : NULL;
            size_t end = sep != NULL ? (size_t)(sep - v.data) : v.size;
            if (end - at == arg.size && (arg.size == 0 || memcmp(v.data + at, arg.data, arg.size) == 0)) {
                *pre = at == 0 ? NONE : derived_id(&t->derived, v.data, at - 1);
                *eff = derived_id(&t->derived, v.data, end);
                return true;
            }
            if (sep == NULL) {
                break;
            }
            at = end + 1;
        }
    }
    return false;
}

static void skip_key(struct op_table *t, const struct rs_history *h, uint32_t key, bool sequence,
                     const char *why)
{
    uint32_t rank = sequence ? t->space_base + key : key;
    if (t->skip[rank]) {
        return;
    }
    t->skip[rank] = true;
    if (t->keys_skipped++ == 0) {
        struct rs_hist_str k = rs_history_string(h, key);
        snprintf(t->skip_note, sizeof t->skip_note, "%s \"%.*s\" not checked: %s",
                 sequence ? "sequence" : "key", k.size > 40 ? 40 : (int)k.size, k.data, why);
    }
}

/* The later single-key operations: merge, contains_key, sequences, lock. */
static bool project_later(struct op_table *t, const struct prepass *pp, const struct rs_history *h,
                          const struct source *src)
{
    const struct rs_hist_event *inv = src->inv;
    switch (inv->f) {
    case RS_HIST_MERGE: {
        uint32_t pre = NONE;
        uint32_t eff = NONE;
        if (pp->merge_unsafe[inv->key]) {
            skip_key(t, h, inv->key, false, "its merged strings repeat or hold the separator");
            return true;
        }
        if (merge_find(t, pp, h, inv->key, inv->value, &pre, &eff)) {
            return emit(t, src, inv->key, RS_HIST_CAS, false, pre, true, eff);
        }
        char blind[40];
        int n = snprintf(blind, sizeof blind, "\x01merge#%u", src->index); /* nobody reads it */
        return emit(t, src, inv->key, RS_HIST_PUT, true, NONE, true,
                    derived_id(&t->derived, blind, (size_t)n));
    }
    case RS_HIST_CONTAINS_KEY:
        return !src->ok || src->done->args[0] == 1 || emit_get(t, src, inv->key, NONE);
    case RS_HIST_RESET_SEQUENCE: {
        bool ok = emit(t, src, inv->key, RS_HIST_DELETE, true, NONE, true, NONE);
        t->ops[t->op_count - 1].sequence = true;
        return ok;
    }
    case RS_HIST_GET_SEQUENCE: {
        if (!src->ok) {
            if (inv->args[0] > 0) {
                skip_key(t, h, inv->key, true, "an increment's outcome is unknown");
            }
            return true;
        }
        uint32_t pre = counter_id(&t->derived, src->done->args[0]);
        uint32_t eff = counter_id(&t->derived, src->done->args[1]);
        bool ok = inv->args[0] == 0 ? emit_get(t, src, inv->key, pre)
                                    : emit(t, src, inv->key,
                                           pre == NONE ? RS_HIST_PUT_IF_ABSENT : RS_HIST_CAS, false,
                                           pre, true, eff);
        t->ops[t->op_count - 1].sequence = true;
        return ok;
    }
    case RS_HIST_LOCK:
        if (!src->ok) {
            skip_key(t, h, inv->value, false, "a lock of unknown outcome may have taken a token");
            return true;
        }
        if (src->done->args[0] == 1 && src->done->args[3] == 1) {
            uint32_t pre = counter_id(&t->derived, src->done->args[2] - 1);
            return emit(t, src, inv->value, pre == NONE ? RS_HIST_PUT_IF_ABSENT : RS_HIST_CAS,
                        false, pre, true, counter_id(&t->derived, src->done->args[2]));
        }
        return true;
    default: return true; /* unlock: lock records are not checked */
    }
}

/* Projects one operation; false when memory runs out. */
static bool project(struct op_table *t, const struct prepass *pp, const struct rs_history *h,
                    uint32_t index)
{
    const struct rs_hist_event *inv = rs_history_event(h, index);
    RS_ASSERT(inv->type == RS_HIST_INVOKE);
    struct source src = {inv, inv->partner != NONE ? rs_history_event(h, inv->partner) : NULL,
                         index, false};
    uint8_t outcome = src.done ? src.done->type : RS_HIST_INFO;
    src.ok = outcome == RS_HIST_OK;
    bool read = inv->f == RS_HIST_GET || inv->f == RS_HIST_MULTI_GET ||
                inv->f == RS_HIST_SCAN || inv->f == RS_HIST_REVERSE_SCAN ||
                inv->f == RS_HIST_CONTAINS_KEY;
    if (outcome == RS_HIST_FAIL || (read && !src.ok)) {
        return true; /* did not happen, or a read whose result nobody knows */
    }
    if (inv->f < RS_HIST_F_SIMPLE_COUNT) {
        return project_simple(t, &src);
    }
    switch (inv->f) {
    case RS_HIST_SCAN:
    case RS_HIST_REVERSE_SCAN: return project_scan(t, h, &src);
    case RS_HIST_MULTI_GET:
    case RS_HIST_BATCH_PUT:
    case RS_HIST_BATCH_DELETE:
    case RS_HIST_CAS_ALL: return project_list(t, h, &src);
    case RS_HIST_DELETE_RANGE: return project_delete_range(t, h, &src);
    default: return project_later(t, pp, h, &src);
    }
}

static void op_table_free(struct op_table *t)
{
    free(t->ops);
    free(t->key_start);
    free(t->skip);
    free(t->universe);
    derived_free(&t->derived);
    memset(t, 0, sizeof *t);
}

static const struct rs_history *universe_history; /* qsort has no context argument */

static int compare_universe(const void *a, const void *b)
{
    return compare_strings(universe_history, *(const uint32_t *)a, *(const uint32_t *)b);
}

/* Orders the projected ops by checker key (first appearance), keeping their order within. */
static enum rs_err op_table_group(struct op_table *t)
{
    uint32_t *rank = malloc(((size_t)t->key_ids + 1) * sizeof *rank);
    uint32_t *count = calloc((size_t)t->key_ids + 1, sizeof *count);
    struct lc_op *grouped = malloc(((size_t)t->op_count + 1) * sizeof *grouped);
    enum rs_err rc = RS_ENOMEM;
    if (rank != NULL && count != NULL && grouped != NULL) {
        for (uint32_t i = 0; i < t->key_ids; i++) {
            rank[i] = NONE;
        }
        uint32_t n = 0;
        for (uint32_t i = 0; i < t->op_count; i++) {
            uint32_t id = t->ops[i].sequence ? t->space_base + t->ops[i].key : t->ops[i].key;
            if (t->skip[id]) {
                continue;
            }
            rank[id] = rank[id] == NONE ? t->key_count++ : rank[id];
            count[rank[id]]++;
            t->ops[n++] = t->ops[i];
        }
        t->op_count = n;
        t->key_start = calloc((size_t)t->key_count + 1, sizeof *t->key_start);
        if (t->key_start != NULL) {
            for (uint32_t k = 0; k < t->key_count; k++) {
                t->key_start[k + 1] = t->key_start[k] + count[k];
                count[k] = t->key_start[k];
            }
            for (uint32_t i = 0; i < n; i++) {
                uint32_t id = t->ops[i].sequence ? t->space_base + t->ops[i].key : t->ops[i].key;
                grouped[count[rank[id]]++] = t->ops[i];
            }
            RS_ASSERT(t->key_start[t->key_count] == n);
            free(t->ops);
            t->ops = grouped;
            grouped = NULL;
            rc = RS_OK;
        }
    }
    free(rank);
    free(count);
    free(grouped);
    return rc;
}

static enum rs_err op_table_build(const struct rs_history *h, struct op_table *t)
{
    uint32_t strings = rs_history_string_count(h);
    memset(t, 0, sizeof *t);
    t->derived.h = h;
    t->derived.base = strings;
    t->space_base = strings;
    t->key_ids = 2 * strings;
    struct prepass pp;
    enum rs_err rc = prepass_run(&pp, h);
    t->skip = calloc((size_t)t->key_ids + 1, sizeof *t->skip);
    t->universe = malloc(((size_t)strings + 1) * sizeof *t->universe);
    rc = rc == RS_OK && t->skip != NULL && t->universe != NULL ? RS_OK : RS_ENOMEM;
    for (uint32_t id = 0; rc == RS_OK && id < strings; id++) {
        if (pp.in_universe[id]) {
            t->universe[t->universe_count++] = id;
        }
    }
    if (rc == RS_OK) {
        universe_history = h;
        qsort(t->universe, t->universe_count, sizeof *t->universe, compare_universe);
    }
    size_t events = rs_history_event_count(h);
    for (size_t i = 0; rc == RS_OK && i < events; i++) {
        if (rs_history_event(h, i)->type == RS_HIST_INVOKE && !project(t, &pp, h, (uint32_t)i)) {
            rc = RS_ENOMEM;
        }
    }
    prepass_free(&pp, strings);
    if (rc == RS_OK) {
        rc = op_table_group(t);
    }
    if (rc != RS_OK) {
        op_table_free(t);
    }
    return rc;
}

/* ---- Preparation of one key: local value ids, uniqueness, classes, deadlines ---- */

static void key_ctx_free(struct key_ctx *k)
{
    free(k->pre);
    free(k->eff);
    free(k->cls);
    free(k->ret);
    free(k->spre);
    free(k->seff);
    free(k->readers_uninvoked);
    free(k->consumer);
    free(k->writer);
    free(k->reader_start);
    free(k->reader_ops);
    free(k->class_of);
}

/* Local value ids (0 absent, then 1.. by first mention) through a string-id-indexed map. */
static enum rs_err key_local_ids(struct key_ctx *k, uint32_t *map, uint32_t *touched)
{
    uint32_t count = 0;
    k->pre = malloc(((size_t)k->n + 1) * sizeof *k->pre);
    k->eff = malloc(((size_t)k->n + 1) * sizeof *k->eff);
    if (k->pre == NULL || k->eff == NULL) {
        return RS_ENOMEM;
    }
    for (uint32_t i = 0; i < k->n; i++) {
        uint32_t values[2] = {k->ops[i].pre_value, k->ops[i].eff_value};
        uint32_t ids[2] = {ABSENT, ABSENT};
        for (int j = 0; j < 2; j++) {
            if (values[j] == NONE) {
                continue;
            }
            if (map[values[j]] == NONE) {
                map[values[j]] = ++count;
                touched[count - 1] = values[j];
            }
            ids[j] = map[values[j]];
        }
        k->pre[i] = ids[0];
        k->eff[i] = ids[1];
    }
    for (uint32_t j = 0; j < count; j++) {
        map[touched[j]] = NONE;
    }
    k->value_count = count;
    RS_ASSERT(count <= 2 * k->n);
    return RS_OK;
}

static bool writes_value(const struct key_ctx *k, uint32_t i)
{
    return k->ops[i].writes && k->ops[i].f != RS_HIST_DELETE;
}

/* The writer of each value; notes the first value written twice (then the key is general). */
static void key_writers(struct key_ctx *k, uint32_t *writer)
{
    k->unique = true;
    for (uint32_t v = 0; v <= k->value_count; v++) {
        writer[v] = NONE;
    }
    for (uint32_t i = 0; i < k->n; i++) {
        if (!writes_value(k, i)) {
            continue;
        }
        RS_ASSERT(k->eff[i] != ABSENT);
        if (writer[k->eff[i]] != NONE && k->unique) {
            k->unique = false;
            k->dup_first = writer[k->eff[i]];
            k->dup_second = i;
        }
        writer[k->eff[i]] = i;
    }
}

static bool observes_value(const struct key_ctx *k, uint32_t i)
{
    return !k->ops[i].pre_any && k->pre[i] != ABSENT;
}

/*
 * Unique values: an info write observed by an ok operation must precede it, so it gets the
 * observer's completion as a deadline; an info cas with a deadline passes it to the writer of
 * the value it expects. Deadlines only decrease, so the worklist ends.
 */
static void key_deadlines(struct key_ctx *k, const uint32_t *writer, uint32_t *stack, bool *queued)
{
    uint32_t depth = 0;
    for (uint32_t i = 0; i < k->n; i++) {
        k->ret[i] = k->ops[i].return_ns;
        queued[i] = false;
    }
    for (uint32_t i = 0; i < k->n; i++) {
        uint32_t w = observes_value(k, i) && k->ops[i].ok ? writer[k->pre[i]] : NONE;
        if (w != NONE && !k->ops[w].ok && k->ops[i].return_ns < k->ret[w]) {
            k->ret[w] = k->ops[i].return_ns;
            if (!queued[w]) {
                queued[w] = true;
                stack[depth++] = w;
            }
        }
    }
    uint64_t guard = (uint64_t)k->n * k->n + 1;
    while (depth > 0 && guard-- > 0) {
        uint32_t c = stack[--depth];
        queued[c] = false;
        uint32_t w = observes_value(k, c) ? writer[k->pre[c]] : NONE;
        if (w != NONE && !k->ops[w].ok && k->ret[c] < k->ret[w]) {
            k->ret[w] = k->ret[c];
            if (!queued[w]) {
                queued[w] = true;
                stack[depth++] = w;
            }
        }
    }
    RS_ASSERT(depth == 0);
}

/*
 * General search: drop info writes of values nobody (still kept) observes, until none is left.
 * obs counts the kept observers of each value.
 */
static void key_drop_unobserved_info(struct key_ctx *k, uint32_t *obs, uint32_t *stack)
{
    uint32_t depth = 0;
    for (uint32_t v = 0; v <= k->value_count; v++) {
        obs[v] = 0;
    }
    for (uint32_t i = 0; i < k->n; i++) {
        obs[k->pre[i]] += k->cls[i] != CLS_DROP && observes_value(k, i);
    }
    for (uint32_t i = 0; i < k->n; i++) {
        if (writes_value(k, i) && !k->ops[i].ok && obs[k->eff[i]] == 0) {
            k->cls[i] = CLS_DROP;
            stack[depth++] = i;
        }
    }
    uint64_t guard = (uint64_t)k->n + 1;
    while (depth > 0 && guard-- > 0) {
        uint32_t d = stack[--depth];
        if (!observes_value(k, d) || --obs[k->pre[d]] != 0) {
            continue;
        }
        for (uint32_t i = 0; i < k->n; i++) { /* rare: a dropped info cas was the last observer */
            if (writes_value(k, i) && !k->ops[i].ok && k->cls[i] != CLS_DROP &&
                k->eff[i] == k->pre[d]) {
                k->cls[i] = CLS_DROP;
                stack[depth++] = i;
            }
        }
    }
    RS_ASSERT(depth == 0);
}

struct effect_entry {
    uint32_t pre;
    uint32_t eff;
    uint32_t op;
};

static int compare_effect_entry(const void *a, const void *b)
{
    const struct effect_entry *x = a;
    const struct effect_entry *y = b;
    if (x->pre != y->pre) {
        return x->pre < y->pre ? -1 : 1;
    }
    if (x->eff != y->eff) {
        return x->eff < y->eff ? -1 : 1;
    }
    return x->op < y->op ? -1 : x->op > y->op;
}

/* Ids for the (precondition, effect) pairs of the writes branched on. */
static enum rs_err key_classes_of_effect(struct key_ctx *k)
{
    k->class_of = malloc(((size_t)k->n + 1) * sizeof *k->class_of);
    struct effect_entry *e = malloc(((size_t)k->n + 1) * sizeof *e);
    if (k->class_of == NULL || e == NULL) {
        free(e);
        return RS_ENOMEM;
    }
    uint32_t count = 0;
    for (uint32_t i = 0; i < k->n; i++) {
        k->class_of[i] = NONE;
        if (k->cls[i] == CLS_WRITE || k->cls[i] == CLS_OPTIONAL) {
            e[count++] = (struct effect_entry){k->spre[i], k->seff[i], i};
        }
    }
    qsort(e, count, sizeof *e, compare_effect_entry);
    uint32_t id = 0;
    for (uint32_t j = 0; j < count; j++) {
        bool same = j > 0 && e[j].pre == e[j - 1].pre && e[j].eff == e[j - 1].eff;
        id += j > 0 && !same;
        k->class_of[e[j].op] = id;
    }
    free(e);
    return RS_OK;
}

/*
 * General search: an info write of v not yet done when the last completed observer of v has
 * returned can only produce a state nobody needs any more, so from then on it is dropped, as
 * an unobserved one is. Observers of unknown outcome keep it forever. Sets the time in ret.
 */
static enum rs_err key_retire_times(struct key_ctx *k)
{
    int64_t *last = malloc(k->state_count * sizeof *last);
    if (last == NULL) {
        return RS_ENOMEM;
    }
    for (uint32_t st = 0; st < k->state_count; st++) {
        last[st] = INT64_MIN;
    }
    for (uint32_t i = 0; i < k->n; i++) {
        uint32_t st = k->spre[i];
        if (k->cls[i] == CLS_DROP || st == NONE || st == DEAD) {
            continue;
        }
        bool mandatory = k->cls[i] == CLS_READ || k->cls[i] == CLS_WRITE;
        int64_t t = mandatory ? k->ret[i] : NEVER;
        last[st] = t > last[st] ? t : last[st];
    }
    for (uint32_t i = 0; i < k->n; i++) {
        if (k->cls[i] == CLS_OPTIONAL) {
            RS_ASSERT(k->seff[i] != DEAD && k->seff[i] < k->state_count);
            int64_t t = last[k->seff[i]];
            t = t < k->ops[i].invoke_ns ? k->ops[i].invoke_ns : t;
            /* One that may have happened earlier does so by its completion, if at all. */
            k->ret[i] = k->ops[i].maybe && k->ops[i].return_ns < t ? k->ops[i].return_ns : t;
        }
    }
    free(last);
    return RS_OK;
}

/* Per observed state: the op that writes it (the last one, unless unique) and its reads. */
static enum rs_err key_readers(struct key_ctx *k)
{
    k->writer = malloc(k->state_count * sizeof *k->writer);
    k->reader_start = calloc((size_t)k->state_count + 1, sizeof *k->reader_start);
    k->reader_ops = malloc(((size_t)k->n + 1) * sizeof *k->reader_ops);
    uint32_t *placed = calloc(k->state_count, sizeof *placed);
    if (!k->writer || !k->reader_start || !k->reader_ops || !placed) {
        free(placed);
        return RS_ENOMEM;
    }
    for (uint32_t st = 0; st < k->state_count; st++) {
        k->writer[st] = NONE;
        k->reader_start[st + 1] = k->reader_start[st] + k->readers_uninvoked[st];
    }
    for (uint32_t i = 0; i < k->n; i++) {
        uint32_t st = k->cls[i] == CLS_READ ? k->spre[i] : k->seff[i];
        if (k->cls[i] == CLS_DROP || st == NONE || st < 2) {
            continue;
        }
        if (k->cls[i] == CLS_READ) {
            k->reader_ops[k->reader_start[st] + placed[st]++] = i;
        } else {
            k->writer[st] = i;
        }
    }
    for (uint32_t st = 0; st < k->state_count; st++) {
        RS_ASSERT(k->reader_start[st] + placed[st] == k->reader_start[st + 1]);
    }
    free(placed);
    return RS_OK;
}

/* Sweep state ids: absent, DEAD for every never-observed value, then observed values. */
static enum rs_err key_states(struct key_ctx *k, const bool *observed)
{
    uint32_t *sid = malloc(((size_t)k->value_count + 1) * sizeof *sid);
    if (sid == NULL) {
        return RS_ENOMEM;
    }
    sid[ABSENT] = ABSENT;
    k->state_count = 2;
    for (uint32_t v = 1; v <= k->value_count; v++) {
        sid[v] = observed[v] ? k->state_count++ : DEAD;
    }
    for (uint32_t i = 0; i < k->n; i++) {
        k->spre[i] = k->ops[i].pre_any ? NONE : sid[k->pre[i]];
        k->seff[i] = k->ops[i].writes ? sid[k->eff[i]] : NONE;
        RS_ASSERT(k->ops[i].pre_any || k->pre[i] == ABSENT || k->spre[i] >= 2 ||
                  k->cls[i] == CLS_DROP);
    }
    free(sid);
    k->readers_uninvoked = calloc(k->state_count, sizeof *k->readers_uninvoked);
    k->consumer = malloc(k->state_count * sizeof *k->consumer);
    if (k->readers_uninvoked == NULL || k->consumer == NULL) {
        return RS_ENOMEM;
    }
    for (uint32_t s = 0; s < k->state_count; s++) {
        k->consumer[s] = NONE;
    }
    for (uint32_t i = 0; i < k->n; i++) {
        if (k->cls[i] == CLS_READ && k->spre[i] >= 2) {
            k->readers_uninvoked[k->spre[i]]++;
        }
        if (k->cls[i] == CLS_WRITE && k->spre[i] != NONE && k->spre[i] >= 2 &&
            k->consumer[k->spre[i]] == NONE) {
            k->consumer[k->spre[i]] = i;
        }
    }
    enum rs_err rc = key_classes_of_effect(k);
    if (rc != RS_OK) {
        return rc;
    }
    return k->unique ? key_readers(k) : key_retire_times(k);
}

/* Classes: what the sweep does with each operation (see the comment at the top). */
static void key_classes(struct key_ctx *k,
                        const uint32_t *writer,
                        uint32_t *stack,
                        bool *flags,
                        uint32_t *obs)
{
    for (uint32_t i = 0; i < k->n; i++) {
        const struct lc_op *op = &k->ops[i];
        if (op->ok) {
            k->cls[i] = op->writes ? CLS_WRITE : CLS_READ;
        } else if (!op->writes) {
            k->cls[i] = CLS_DROP; /* a read that need not happen */
        } else {
            bool counted = op->f == RS_HIST_DELETE && !op->maybe;
            k->cls[i] = counted ? CLS_INFO_DELETE : CLS_OPTIONAL;
        }
    }
    if (k->unique) {
        key_deadlines(k, writer, stack, flags);
        for (uint32_t i = 0; i < k->n; i++) {
            if (k->cls[i] == CLS_OPTIONAL) {
                bool forced = k->ret[i] != NEVER;
                k->cls[i] = forced ? CLS_WRITE : CLS_DROP;
                k->ret[i] =
                    forced && k->ret[i] < k->ops[i].invoke_ns ? k->ops[i].invoke_ns : k->ret[i];
            }
        }
    } else {
        for (uint32_t i = 0; i < k->n; i++) {
            k->ret[i] = k->ops[i].return_ns;
        }
        key_drop_unobserved_info(k, obs, stack);
    }
    /* flags now holds "observed" per value, counting only the operations kept. */
    for (uint32_t v = 0; v <= k->value_count; v++) {
        flags[v] = false;
    }
    for (uint32_t i = 0; i < k->n; i++) {
        if (k->cls[i] != CLS_DROP && observes_value(k, i)) {
            flags[k->pre[i]] = true;
        }
    }
    for (uint32_t i = 0; i < k->n; i++) {
        if (k->cls[i] == CLS_WRITE && k->ops[i].ok && k->ops[i].f == RS_HIST_PUT &&
            !flags[k->eff[i]]) {
            k->cls[i] = CLS_UNOBSERVED_PUT;
        }
    }
}

static enum rs_err key_prepare(struct key_ctx *k, uint32_t *map, uint32_t *touched)
{
    enum rs_err rc = key_local_ids(k, map, touched);
    if (rc != RS_OK) {
        return rc;
    }
    size_t n = (size_t)k->n + 1;
    size_t values = (size_t)k->value_count + 1;
    size_t flag_count = n > values ? n : values;
    k->cls = malloc(n);
    k->ret = malloc(n * sizeof *k->ret);
    k->spre = malloc(n * sizeof *k->spre);
    k->seff = malloc(n * sizeof *k->seff);
    uint32_t *writer = malloc(values * sizeof *writer);
    uint32_t *obs = malloc(values * sizeof *obs);
    uint32_t *stack = malloc(n * sizeof *stack);
    bool *flags = malloc(flag_count * sizeof *flags);
    rc = RS_ENOMEM;
    if (k->cls && k->ret && k->spre && k->seff && writer && obs && stack && flags) {
        key_writers(k, writer);
        k->repeats = !k->unique;
        k->unique = k->unique && !k->force_general;
        key_classes(k, writer, stack, flags, obs);
        rc = key_states(k, flags);
    }
    free(writer);
    free(obs);
    free(stack);
    free(flags);
    return rc;
}

/* ---- The sweep ---- */

#define MASK_COUNT 7

/* A set of configurations: [state | used info deletes << 32, window bits...] each. */
struct frontier {
    uint64_t *data;
    size_t count;
    size_t cap;
    uint32_t *table; /* open addressing: index + 1, 0 empty */
    size_t table_cap;
};

struct sweep {
    struct key_ctx *k;
    size_t words;
    size_t stride;
    uint32_t slot_count;
    struct frontier f[2];
    int cur;
    uint32_t *slot_op;
    uint32_t *op_slot;
    uint32_t *slot_pre; /* state the op needs, NONE for any */
    uint32_t *slot_eff;
    uint32_t *free_slots;
    uint32_t free_count;
    uint64_t *masks; /* the seven masks below, words each */
    uint64_t *read_mask;
    uint64_t *branch_mask;
    uint64_t *absorb_mask;
    uint64_t *optional_mask;
    uint64_t *blind_mask;
    uint64_t *occupied_mask;
    uint64_t *delete_mask; /* pending ok deletes: an info delete is used only without them */
    uint64_t *class_masks; /* per slot: the pending slots whose op has the same class_of */
    uint32_t info_deletes_invoked;
    uint64_t *scratch; /* three configurations */
    uint32_t *redo;
    size_t redo_count;
    size_t redo_cap;
    uint64_t steps;
    uint64_t steps_max;
    uint64_t bytes;
    uint64_t bytes_max;
    uint64_t bytes_peak;
    uint64_t configs_max;
    bool out_of_memory_budget;
    bool out_of_host_memory;
};

static uint32_t cfg_state(const uint64_t *cfg)
{
    return (uint32_t)cfg[0];
}

static uint32_t cfg_used(const uint64_t *cfg)
{
    return (uint32_t)(cfg[0] >> 32);
}

static bool cfg_done(const uint64_t *cfg, uint32_t slot)
{
    return (cfg[1 + slot / 64] >> (slot % 64)) & 1u;
}

static uint64_t cfg_hash(const struct sweep *s, const uint64_t *cfg)
{
    uint64_t h = (cfg[0] & 0xffffffffu) * 0x9e3779b97f4a7c15ull;
    for (size_t w = 0; w < s->words; w++) {
        h = (h ^ cfg[1 + w]) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    }
    return h ^ (h >> 29);
}

static bool cfg_same_key(const struct sweep *s, const uint64_t *a, const uint64_t *b)
{
    return cfg_state(a) == cfg_state(b) && memcmp(a + 1, b + 1, s->words * 8) == 0;
}

/* Accounts for a change of allocated bytes; false when the memory budget would be passed. */
static bool sweep_charge(struct sweep *s, uint64_t add, uint64_t release)
{
    if (s->bytes - release + add > s->bytes_max) {
        s->out_of_memory_budget = true;
        return false;
    }
    s->bytes = s->bytes - release + add;
    s->bytes_peak = s->bytes > s->bytes_peak ? s->bytes : s->bytes_peak;
    return true;
}

static bool frontier_rehash(struct sweep *s, struct frontier *f)
{
    size_t cap = f->table_cap ? f->table_cap * 2 : 64;
    if (!sweep_charge(s, cap * sizeof(uint32_t), f->table_cap * sizeof(uint32_t))) {
        return false;
    }
    uint32_t *table = calloc(cap, sizeof *table);
    if (table == NULL) {
        s->out_of_host_memory = true;
        return false;
    }
    for (size_t i = 0; i < f->count; i++) {
        size_t j = cfg_hash(s, f->data + i * s->stride) & (cap - 1);
        while (table[j] != 0) {
            j = (j + 1) & (cap - 1);
        }
        table[j] = (uint32_t)i + 1;
    }
    free(f->table);
    f->table = table;
    f->table_cap = cap;
    return true;
}

static bool frontier_reserve(struct sweep *s, struct frontier *f)
{
    if ((f->count + 1) * 2 > f->table_cap && !frontier_rehash(s, f)) {
        return false;
    }
    if (f->count < f->cap) {
        return true;
    }
    size_t cap = f->cap ? f->cap * 2 : 64;
    size_t row = s->stride * sizeof(uint64_t);
    if (cap >= UINT32_MAX || !sweep_charge(s, cap * row, f->cap * row)) {
        s->out_of_memory_budget = true;
        return false;
    }
    uint64_t *data = realloc(f->data, cap * row);
    if (data == NULL) {
        s->out_of_host_memory = true;
        return false;
    }
    f->data = data;
    f->cap = cap;
    return true;
}

/* Empties f. A table much larger than its content is dropped (it regrows on demand), so a
 * passing peak of the frontier does not make every later clear expensive. */
static void frontier_clear(struct sweep *s, struct frontier *f)
{
    if (f->table_cap > 1024 && f->count * 8 < f->table_cap) {
        bool ok = sweep_charge(s, 0, f->table_cap * sizeof *f->table);
        RS_ASSERT(ok);
        free(f->table);
        f->table = NULL;
        f->table_cap = 0;
    } else if (f->table != NULL) {
        memset(f->table, 0, f->table_cap * sizeof *f->table);
    }
    f->count = 0;
}

/*
 * Adds cfg unless an equal one with no more info deletes used is there. Returns the index
 * added or improved, NONE when dominated; sets *failed when a budget ran out.
 */
static uint32_t frontier_insert(struct sweep *s,
                                struct frontier *f,
                                const uint64_t *cfg,
                                bool *failed)
{
    if (!frontier_reserve(s, f)) {
        *failed = true;
        return NONE;
    }
    size_t mask = f->table_cap - 1;
    size_t j = cfg_hash(s, cfg) & mask;
    while (f->table[j] != 0) {
        uint64_t *other = f->data + (size_t)(f->table[j] - 1) * s->stride;
        if (cfg_same_key(s, other, cfg)) {
            if (cfg_used(cfg) >= cfg_used(other)) {
                return NONE;
            }
            other[0] = cfg[0];
            return f->table[j] - 1;
        }
        j = (j + 1) & mask;
    }
    RS_ASSERT(f->count < f->cap);
    memcpy(f->data + f->count * s->stride, cfg, s->stride * sizeof(uint64_t));
    f->table[j] = (uint32_t)f->count + 1;
    return (uint32_t)f->count++;
}

static void sweep_eager_reads(const struct sweep *s, uint64_t *cfg, uint32_t state)
{
    for (size_t w = 0; w < s->words; w++) {
        uint64_t m = s->read_mask[w] & ~cfg[1 + w];
        while (m != 0) {
            uint32_t bit = (uint32_t)__builtin_ctzll(m);
            m &= m - 1;
            if (s->slot_pre[w * 64 + bit] == state) {
                cfg[1 + w] |= 1ull << bit;
            }
        }
    }
}

/*
 * Moves that lose nothing, made at once:
 * - reads are linearized eagerly: every pending read of the current state is marked done;
 * - with unique values, once every read of the current value v is invoked (hence done), the
 *   cas or get_and_put that consumes v, if pending, is the only possible next write (any other
 *   would make it impossible), so it is applied now; and a value whose reads are all done and
 *   that nothing consumes can matter to nobody any more: the state becomes DEAD.
 */
static void sweep_normalize(const struct sweep *s, uint64_t *cfg)
{
    const struct key_ctx *k = s->k;
    uint32_t state = cfg_state(cfg);
    for (uint32_t guard = 0; guard <= s->slot_count; guard++) {
        sweep_eager_reads(s, cfg, state);
        if (!k->unique || state < 2 || k->readers_uninvoked[state] != 0) {
            break;
        }
        uint32_t c = k->consumer[state];
        if (c == NONE) {
            state = DEAD;
            break;
        }
        uint32_t slot = s->op_slot[c];
        if (slot == NONE || cfg_done(cfg, slot)) {
            break; /* not invoked yet: the state waits for it */
        }
        RS_ASSERT(s->slot_pre[slot] == state);
        cfg[1 + slot / 64] |= 1ull << (slot % 64);
        state = s->slot_eff[slot];
    }
    cfg[0] = (cfg[0] & ~0xffffffffull) | state;
}

/* With unique values, whether state may be overwritten by op (NONE for an info delete). */
static bool sweep_may_leave(const struct sweep *s, uint32_t state, uint32_t op)
{
    const struct key_ctx *k = s->k;
    if (!k->unique || state < 2) {
        return true;
    }
    RS_ASSERT(state < k->state_count);
    if (k->readers_uninvoked[state] > 0) {
        return false; /* a read of this value comes later: it could never see it again */
    }
    return k->consumer[state] == NONE || k->consumer[state] == op;
}

/* A write leaves state for eff: blind writes absorb pending unobserved puts. */
static void sweep_set_state(const struct sweep *s, uint64_t *cfg, uint32_t eff, bool blind)
{
    if (blind) {
        for (size_t w = 0; w < s->words; w++) {
            cfg[1 + w] |= s->absorb_mask[w];
        }
    }
    cfg[0] = (cfg[0] & ~0xffffffffull) | eff;
    sweep_normalize(s, cfg);
}

/* Linearizes the op in slot (or an info delete when slot is NONE) from src into dst. */
static bool sweep_apply(const struct sweep *s, const uint64_t *src, uint32_t slot, uint64_t *dst)
{
    uint32_t op = slot == NONE ? NONE : s->slot_op[slot];
    if (!sweep_may_leave(s, cfg_state(src), op)) {
        return false;
    }
    memcpy(dst, src, s->stride * sizeof(uint64_t));
    if (slot == NONE) {
        RS_ASSERT(cfg_used(src) < s->info_deletes_invoked);
        dst[0] += 1ull << 32;
        sweep_set_state(s, dst, ABSENT, true);
        return true;
    }
    RS_ASSERT(!cfg_done(src, slot));
    dst[1 + slot / 64] |= 1ull << (slot % 64);
    sweep_set_state(s, dst, s->slot_eff[slot], (s->blind_mask[slot / 64] >> (slot % 64)) & 1u);
    return true;
}

static bool sweep_redo_push(struct sweep *s, uint32_t index)
{
    if (s->redo_count == s->redo_cap) {
        size_t cap = s->redo_cap ? s->redo_cap * 2 : 64;
        uint32_t *redo = realloc(s->redo, cap * sizeof *redo);
        if (redo == NULL) {
            s->out_of_host_memory = true;
            return false;
        }
        s->redo = redo;
        s->redo_cap = cap;
    }
    s->redo[s->redo_count++] = index;
    return true;
}

static bool sweep_add(struct sweep *s, struct frontier *f, const uint64_t *cfg, size_t expanded)
{
    bool failed = false;
    uint32_t at = frontier_insert(s, f, cfg, &failed);
    if (at != NONE && at < expanded) {
        return sweep_redo_push(s, at); /* fewer info deletes used: expand it again */
    }
    return !failed;
}

/* Whether op a is to be used before op b of the same class: mandatory first, then by time. */
static bool class_before(const struct key_ctx *k, uint32_t a, uint32_t b)
{
    bool mandatory_a = k->cls[a] == CLS_WRITE;
    bool mandatory_b = k->cls[b] == CLS_WRITE;
    if (mandatory_a != mandatory_b) {
        return mandatory_a;
    }
    if (k->ret[a] != k->ret[b]) {
        return k->ret[a] < k->ret[b];
    }
    return a < b;
}

/*
 * Pending writes with the same precondition and effect (deletes, say) are interchangeable
 * but for when they must complete, so only the one that must complete first (mandatory ones
 * before those of unknown outcome) is branched on: a linearization that applies another one
 * now can swap the two. For the same reason an info delete is used only when no ok delete is
 * pending.
 */
static bool sweep_is_representative(const struct sweep *s, const uint64_t *cfg, uint32_t slot)
{
    const uint64_t *mates = s->class_masks + (size_t)slot * s->words;
    uint32_t op = s->slot_op[slot];
    RS_ASSERT((mates[slot / 64] >> (slot % 64)) & 1u);
    for (size_t w = 0; w < s->words; w++) {
        uint64_t m = mates[w] & ~cfg[1 + w] & s->branch_mask[w];
        while (m != 0) {
            uint32_t other = (uint32_t)(w * 64) + (uint32_t)__builtin_ctzll(m);
            m &= m - 1;
            if (other != slot && class_before(s->k, s->slot_op[other], op)) {
                return false;
            }
        }
    }
    return true;
}

static bool pending_delete(const struct sweep *s, const uint64_t *cfg)
{
    for (size_t w = 0; w < s->words; w++) {
        if ((s->delete_mask[w] & ~cfg[1 + w]) != 0) {
            return true;
        }
    }
    return false;
}

/* Adds every successor of configuration `at` to f; false when a budget ran out. */
static bool sweep_expand(struct sweep *s, struct frontier *f, size_t at, size_t expanded)
{
    uint64_t *src = s->scratch;
    uint64_t *dst = s->scratch + s->stride;
    memcpy(src, f->data + at * s->stride, s->stride * sizeof(uint64_t));
    uint32_t state = cfg_state(src);
    for (size_t w = 0; w < s->words; w++) {
        uint64_t m = s->branch_mask[w] & ~src[1 + w];
        while (m != 0) {
            uint32_t slot = (uint32_t)(w * 64) + (uint32_t)__builtin_ctzll(m);
            m &= m - 1;
            if ((s->slot_pre[slot] != NONE && s->slot_pre[slot] != state) ||
                !sweep_is_representative(s, src, slot)) {
                continue;
            }
            if (++s->steps > s->steps_max) {
                return false;
            }
            if (sweep_apply(s, src, slot, dst) && !sweep_add(s, f, dst, expanded)) {
                return false;
            }
        }
    }
    if (cfg_used(src) < s->info_deletes_invoked && !pending_delete(s, src)) {
        if (++s->steps > s->steps_max) {
            return false;
        }
        if (sweep_apply(s, src, NONE, dst) && !sweep_add(s, f, dst, expanded)) {
            return false;
        }
    }
    return true;
}

/* Closes the frontier under "linearize one more pending operation". */
static bool sweep_closure(struct sweep *s)
{
    struct frontier *src = &s->f[s->cur];
    struct frontier *dst = &s->f[!s->cur];
    uint64_t *cfg = s->scratch + 2 * s->stride;
    frontier_clear(s, dst);
    for (size_t i = 0; i < src->count; i++) {
        memcpy(cfg, src->data + i * s->stride, s->stride * sizeof(uint64_t));
        sweep_normalize(s, cfg); /* reads invoked since the last closure */
        if (!sweep_add(s, dst, cfg, 0)) {
            return false;
        }
    }
    s->cur = !s->cur;
    size_t next = 0;
    s->redo_count = 0;
    for (;;) {
        size_t at;
        if (next < dst->count) {
            at = next++;
        } else if (s->redo_count > 0) {
            at = s->redo[--s->redo_count];
        } else {
            break;
        }
        if (!sweep_expand(s, dst, at, next)) {
            return false;
        }
    }
    s->configs_max = dst->count > s->configs_max ? dst->count : s->configs_max;
    return true;
}

static void mask_set(uint64_t *mask, uint32_t slot, bool on)
{
    if (on) {
        mask[slot / 64] |= 1ull << (slot % 64);
    } else {
        mask[slot / 64] &= ~(1ull << (slot % 64));
    }
}

/* The value written by the blind write that starts v's chain of consumers, or NONE. */
static uint32_t chain_head(const struct key_ctx *k, uint32_t v)
{
    for (uint32_t guard = 0; guard <= k->n; guard++) {
        uint32_t op = k->writer[v];
        if (op == NONE || k->cls[op] != CLS_WRITE) {
            return NONE;
        }
        if (k->ops[op].pre_any) {
            return v;
        }
        uint32_t u = k->spre[op];
        if (u < 2 || k->consumer[u] != op) {
            return NONE; /* starts from absent, or a second consumer: no unit */
        }
        v = u;
    }
    return NONE;
}

/* Whether every op of the chain written from value `head` on is pending, every read invoked. */
static bool chain_ready(const struct sweep *s, uint32_t head)
{
    const struct key_ctx *k = s->k;
    uint32_t op = k->writer[head];
    for (uint32_t guard = 0; guard <= k->n; guard++) {
        uint32_t v = k->seff[op];
        if (s->op_slot[op] == NONE) {
            return false;
        }
        if (v < 2) {
            return true; /* the chain ends with a value nobody observes */
        }
        if (k->readers_uninvoked[v] != 0) {
            return false;
        }
        op = k->consumer[v];
        if (op == NONE) {
            return true;
        }
    }
    return false;
}

/*
 * Unique values: a blind write of v, the consumer of v (cas or get_and_put), the consumer of
 * what that wrote and so on, with all their reads, are contiguous in any linearization: while
 * a value of the chain is current, only its reads and its consumer can run. Once all of them
 * are invoked the chain behaves as one unobserved put: absorbed whole by a blind write applied
 * while it is pending, or applied whole at the first completion among its ops. Before that,
 * its writes are branched on as usual. Eager consumers (sweep_normalize) keep the invariant
 * that makes this a mask: in every configuration the chain is all done or not started.
 */
static void sweep_try_unit(struct sweep *s, uint32_t value)
{
    const struct key_ctx *k = s->k;
    uint32_t head = chain_head(k, value);
    if (head == NONE || !chain_ready(s, head)) {
        return;
    }
    uint32_t op = k->writer[head];
    for (uint32_t guard = 0; guard <= k->n && op != NONE; guard++) {
        uint32_t slot = s->op_slot[op];
        uint32_t v = k->seff[op];
        RS_ASSERT(slot != NONE);
        mask_set(s->branch_mask, slot, false);
        mask_set(s->absorb_mask, slot, true);
        if (v < 2) {
            break;
        }
        for (uint32_t j = k->reader_start[v]; j < k->reader_start[v + 1]; j++) {
            uint32_t r = k->reader_ops[j];
            if (s->op_slot[r] != NONE) {
                mask_set(s->absorb_mask, s->op_slot[r], true);
            }
        }
        op = k->consumer[v];
    }
}

/* The slot joins the class masks of the pending ops with its class (and its own). */
static void sweep_class_join(struct sweep *s, uint32_t slot)
{
    uint64_t *mine = s->class_masks + (size_t)slot * s->words;
    uint32_t c = s->k->class_of[s->slot_op[slot]];
    memset(mine, 0, s->words * sizeof *mine);
    mask_set(mine, slot, true);
    for (uint32_t t = 0; t < s->slot_count && c != NONE; t++) {
        if (t != slot && s->slot_op[t] != NONE && s->k->class_of[s->slot_op[t]] == c) {
            mask_set(mine, t, true);
            mask_set(s->class_masks + (size_t)t * s->words, slot, true);
        }
    }
}

static void sweep_class_leave(struct sweep *s, uint32_t slot)
{
    uint64_t *mine = s->class_masks + (size_t)slot * s->words;
    for (uint32_t t = 0; t < s->slot_count; t++) {
        if (t != slot && ((mine[t / 64] >> (t % 64)) & 1u)) {
            mask_set(s->class_masks + (size_t)t * s->words, slot, false);
        }
    }
    memset(mine, 0, s->words * sizeof *mine);
}

static void sweep_invoke(struct sweep *s, uint32_t op)
{
    struct key_ctx *k = s->k;
    uint8_t cls = k->cls[op];
    if (cls == CLS_INFO_DELETE) {
        s->info_deletes_invoked++;
        return;
    }
    RS_ASSERT(s->free_count > 0);
    uint32_t slot = s->free_slots[--s->free_count];
    RS_ASSERT(s->slot_op[slot] == NONE);
    s->slot_op[slot] = op;
    s->op_slot[op] = slot;
    s->slot_pre[slot] = k->spre[op];
    s->slot_eff[slot] = k->seff[op];
    mask_set(s->read_mask, slot, cls == CLS_READ);
    mask_set(s->branch_mask, slot, cls == CLS_WRITE || cls == CLS_OPTIONAL);
    mask_set(s->absorb_mask, slot, cls == CLS_UNOBSERVED_PUT);
    mask_set(s->optional_mask, slot, cls == CLS_OPTIONAL);
    mask_set(s->blind_mask, slot, k->ops[op].writes && k->ops[op].pre_any);
    mask_set(s->occupied_mask, slot, true);
    mask_set(s->delete_mask, slot,
             cls == CLS_WRITE && k->ops[op].ok && k->ops[op].f == RS_HIST_DELETE);
    sweep_class_join(s, slot);
    if (cls == CLS_READ && k->unique && k->spre[op] >= 2) {
        RS_ASSERT(k->readers_uninvoked[k->spre[op]] > 0);
        k->readers_uninvoked[k->spre[op]]--;
        sweep_try_unit(s, k->spre[op]);
    }
    if (cls == CLS_WRITE && k->unique && k->seff[op] >= 2) {
        sweep_try_unit(s, k->seff[op]);
    }
    if (cls == CLS_WRITE && k->unique && k->spre[op] != NONE && k->spre[op] >= 2) {
        sweep_try_unit(s, k->spre[op]);
    }
}

static void sweep_free_slot(struct sweep *s, uint32_t slot)
{
    RS_ASSERT(s->slot_op[slot] != NONE);
    sweep_class_leave(s, slot);
    s->slot_pre[slot] = NONE;
    for (size_t m = 0; m < MASK_COUNT; m++) {
        mask_set(s->masks + m * s->words, slot, false);
    }
    s->op_slot[s->slot_op[slot]] = NONE;
    s->slot_op[slot] = NONE;
    s->free_slots[s->free_count++] = slot;
    RS_ASSERT(s->free_count <= s->slot_count);
}

/*
 * Rebuilds the current frontier with the bits in clear[] cleared. At a completion the
 * completed op is done in every survivor, and an unobserved put not yet done is applied now,
 * as the last thing before its completion (see the top of the file).
 */
static bool sweep_filter(struct sweep *s, uint32_t slot, const uint64_t *clear)
{
    struct frontier *src = &s->f[s->cur];
    struct frontier *dst = &s->f[!s->cur];
    uint64_t *cfg = s->scratch;
    bool unobserved = slot != NONE && ((s->absorb_mask[slot / 64] >> (slot % 64)) & 1u);
    frontier_clear(s, dst);
    for (size_t i = 0; i < src->count; i++) {
        memcpy(cfg, src->data + i * s->stride, s->stride * sizeof(uint64_t));
        if (slot != NONE && !cfg_done(cfg, slot)) {
            if (!unobserved || !sweep_may_leave(s, cfg_state(cfg), s->slot_op[slot])) {
                continue;
            }
            sweep_set_state(s, cfg, DEAD, true);
        }
        for (size_t w = 0; w < s->words; w++) {
            cfg[1 + w] &= ~clear[w];
        }
        if (!sweep_add(s, dst, cfg, 0)) {
            return false;
        }
    }
    s->cur = !s->cur;
    return true;
}

/* General search: info writes done in every configuration leave the window. */
static bool sweep_retire_optional(struct sweep *s)
{
    struct frontier *f = &s->f[s->cur];
    uint64_t *all = s->scratch + 2 * s->stride;
    bool any = false;
    for (size_t w = 0; w < s->words; w++) {
        all[w] = s->optional_mask[w];
        for (size_t i = 0; i < f->count && all[w] != 0; i++) {
            all[w] &= f->data[i * s->stride + 1 + w];
        }
        any = any || all[w] != 0;
    }
    if (!any) {
        return true;
    }
    uint64_t clear[WINDOW_WORDS_MAX];
    RS_ASSERT(s->words <= WINDOW_WORDS_MAX);
    memcpy(clear, all, s->words * sizeof(uint64_t));
    for (uint32_t slot = 0; slot < s->slot_count; slot++) {
        if ((clear[slot / 64] >> (slot % 64)) & 1u) {
            sweep_free_slot(s, slot);
        }
    }
    return sweep_filter(s, NONE, clear);
}

/* General search: an info write whose value nobody can observe any more leaves the window. */
static bool sweep_retire(struct sweep *s, uint32_t op)
{
    uint32_t slot = s->op_slot[op];
    if (slot == NONE) {
        return true; /* done everywhere already, and retired */
    }
    RS_ASSERT(!s->k->unique && s->k->cls[op] == CLS_OPTIONAL);
    if (!sweep_closure(s)) {
        return false; /* first every chance to apply it, up to now */
    }
    uint64_t clear[WINDOW_WORDS_MAX] = {0};
    mask_set(clear, slot, true);
    sweep_free_slot(s, slot);
    return sweep_filter(s, NONE, clear);
}

/* The completion (or deadline) of op: 0 fine, 1 violation, 2 budget ran out. */
static int sweep_return(struct sweep *s, uint32_t op, uint32_t *slot_out)
{
    uint32_t slot = s->op_slot[op];
    RS_ASSERT(slot != NONE && s->slot_op[slot] == op);
    *slot_out = slot;
    if (!sweep_closure(s)) {
        return 2;
    }
    uint64_t clear[WINDOW_WORDS_MAX] = {0};
    RS_ASSERT(s->words <= WINDOW_WORDS_MAX);
    mask_set(clear, slot, true);
    if (!sweep_filter(s, slot, clear)) {
        return 2;
    }
    if (s->f[s->cur].count == 0) {
        return 1;
    }
    sweep_free_slot(s, slot);
    if (!s->k->unique && !sweep_retire_optional(s)) {
        return 2;
    }
    return 0;
}

/* An invoke (kind 0) or a completion or deadline (kind 1) of one op of the key. */
struct sweep_event {
    int64_t time_ns;
    uint32_t op;
    uint32_t kind;
};

static int compare_sweep_event(const void *a, const void *b)
{
    const struct sweep_event *x = a;
    const struct sweep_event *y = b;
    if (x->time_ns != y->time_ns) {
        return x->time_ns < y->time_ns ? -1 : 1;
    }
    if (x->kind != y->kind) {
        return x->kind < y->kind ? -1 : 1; /* invokes first: equal times are concurrent */
    }
    return x->op < y->op ? -1 : x->op > y->op;
}

static bool has_window_slot(uint8_t cls)
{
    return cls == CLS_READ || cls == CLS_WRITE || cls == CLS_UNOBSERVED_PUT || cls == CLS_OPTIONAL;
}

/* The key's events in sweep order; *slots gets the widest window (optional ops never leave). */
static struct sweep_event *sweep_events(const struct key_ctx *k, size_t *count, uint32_t *slots)
{
    struct sweep_event *ev = malloc(((size_t)k->n * 2 + 1) * sizeof *ev);
    if (ev == NULL) {
        return NULL;
    }
    size_t n = 0;
    for (uint32_t i = 0; i < k->n; i++) {
        uint8_t cls = k->cls[i];
        if (cls == CLS_DROP) {
            continue;
        }
        ev[n++] = (struct sweep_event){k->ops[i].invoke_ns, i, 0};
        if (cls == CLS_READ || cls == CLS_WRITE || cls == CLS_UNOBSERVED_PUT) {
            RS_ASSERT(k->ret[i] != NEVER);
            ev[n++] = (struct sweep_event){k->ret[i], i, 1};
        } else if (cls == CLS_OPTIONAL && k->ret[i] != NEVER) {
            ev[n++] = (struct sweep_event){k->ret[i], i, 2}; /* after completions at that time */
        }
    }
    qsort(ev, n, sizeof *ev, compare_sweep_event);
    uint32_t open = 0;
    *slots = 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].kind == 0 && has_window_slot(k->cls[ev[i].op])) {
            open++;
            *slots = open > *slots ? open : *slots;
        } else if (ev[i].kind != 0) {
            open--;
        }
    }
    *count = n;
    return ev;
}

static void sweep_free(struct sweep *s)
{
    for (int i = 0; i < 2; i++) {
        free(s->f[i].data);
        free(s->f[i].table);
    }
    free(s->slot_op);
    free(s->op_slot);
    free(s->slot_pre);
    free(s->slot_eff);
    free(s->free_slots);
    free(s->masks);
    free(s->class_masks);
    free(s->scratch);
    free(s->redo);
}

/* The frontier starts with nothing done in each of the initial states (absent if none). */
static enum rs_err sweep_init(struct sweep *s,
                              struct key_ctx *k,
                              uint32_t slots,
                              const struct rs_lincheck_options *opt,
                              const uint32_t *initial,
                              uint32_t initial_count)
{
    memset(s, 0, sizeof *s);
    s->k = k;
    s->slot_count = slots > 0 ? slots : 1;
    s->words = (s->slot_count + 63) / 64;
    s->stride = s->words + 1;
    s->steps_max = opt->steps_max;
    s->bytes_max = opt->bytes_max;
    s->slot_op = malloc(s->slot_count * sizeof *s->slot_op);
    s->op_slot = malloc(((size_t)k->n + 1) * sizeof *s->op_slot);
    s->slot_pre = malloc(s->slot_count * sizeof *s->slot_pre);
    s->slot_eff = malloc(s->slot_count * sizeof *s->slot_eff);
    s->free_slots = malloc(s->slot_count * sizeof *s->free_slots);
    s->masks = calloc(MASK_COUNT * s->words, sizeof *s->masks);
    s->class_masks = calloc((size_t)s->slot_count * s->words, sizeof *s->class_masks);
    s->scratch = calloc(3 * s->stride, sizeof *s->scratch);
    if (!s->slot_op || !s->op_slot || !s->slot_pre || !s->slot_eff || !s->free_slots || !s->masks ||
        !s->class_masks || !s->scratch) {
        return RS_ENOMEM;
    }
    uint64_t **masks[MASK_COUNT] = {&s->read_mask,     &s->branch_mask, &s->absorb_mask,
                                    &s->optional_mask, &s->blind_mask,  &s->occupied_mask,
                                    &s->delete_mask};
    for (size_t m = 0; m < MASK_COUNT; m++) {
        *masks[m] = s->masks + m * s->words;
    }
    for (uint32_t i = 0; i < s->slot_count; i++) {
        s->slot_op[i] = NONE;
        s->slot_pre[i] = NONE;
        s->slot_eff[i] = NONE;
        s->free_slots[i] = s->slot_count - 1 - i; /* lowest slot first */
    }
    s->free_count = s->slot_count;
    for (uint32_t i = 0; i < k->n; i++) {
        s->op_slot[i] = NONE;
    }
    bool failed = false;
    memset(s->scratch, 0, s->stride * sizeof(uint64_t));
    for (uint32_t i = 0; i < (initial ? initial_count : 1) && !failed; i++) {
        RS_ASSERT(initial == NULL || initial[i] < k->state_count);
        s->scratch[0] = initial ? initial[i] : ABSENT;
        frontier_insert(s, &s->f[0], s->scratch, &failed);
    }
    return failed && s->out_of_host_memory ? RS_ENOMEM : RS_OK;
}

static void outcome_pending(struct key_outcome *out, const struct sweep *s)
{
    out->pending = malloc(((size_t)s->slot_count + 1) * sizeof *out->pending);
    out->pending_count = 0;
    for (uint32_t i = 0; out->pending != NULL && i < s->slot_count; i++) {
        if (s->slot_op[i] != NONE) {
            out->pending[out->pending_count++] = s->slot_op[i];
        }
    }
}

static void outcome_budget(struct key_outcome *out, const struct sweep *s, int64_t time_ns)
{
    out->verdict = RS_LINCHECK_UNKNOWN;
    out->fail_ns = time_ns;
    if (s->out_of_memory_budget) {
        outcome_reason(out,
                       "search memory budget of %llu bytes exhausted at time %lld "
                       "(%zu configurations)",
                       (unsigned long long)s->bytes_max, (long long)time_ns, s->f[s->cur].count);
    } else {
        outcome_reason(out,
                       "search budget of %llu steps exhausted at time %lld "
                       "(%zu configurations)",
                       (unsigned long long)s->steps_max, (long long)time_ns, s->f[s->cur].count);
    }
}

/* Runs the sweep over one prepared key. RS_ENOMEM only when the host is out of memory. */
static enum rs_err key_sweep(struct key_ctx *k,
                             const struct rs_lincheck_options *opt,
                             const uint32_t *initial,
                             uint32_t initial_count,
                             struct key_outcome *out)
{
    size_t count = 0;
    uint32_t slots = 0;
    struct sweep_event *ev = sweep_events(k, &count, &slots);
    if (ev == NULL) {
        return RS_ENOMEM;
    }
    out->verdict = RS_LINCHECK_OK;
    if (slots > WINDOW_WORDS_MAX * 64) {
        out->verdict = RS_LINCHECK_UNKNOWN;
        outcome_reason(out, "more than %u operations pending at once", WINDOW_WORDS_MAX * 64);
        free(ev);
        return RS_OK;
    }
    struct sweep s;
    enum rs_err rc = sweep_init(&s, k, slots, opt, initial, initial_count);
    if (rc == RS_OK && s.out_of_memory_budget) {
        outcome_budget(out, &s, count > 0 ? ev[0].time_ns : 0);
        count = 0;
    }
    for (size_t i = 0; i < count && rc == RS_OK; i++) {
        if (ev[i].kind == 0) {
            sweep_invoke(&s, ev[i].op);
            continue;
        }
        if (ev[i].kind == 2) {
            if (!sweep_retire(&s, ev[i].op)) {
                rc = s.out_of_host_memory ? RS_ENOMEM : RS_OK;
                outcome_budget(out, &s, ev[i].time_ns);
                break;
            }
            continue;
        }
        uint32_t slot = NONE;
        int r = sweep_return(&s, ev[i].op, &slot);
        if (r == 1) {
            out->verdict = RS_LINCHECK_VIOLATION;
            out->fail_op = ev[i].op;
            out->fail_ns = ev[i].time_ns;
            outcome_pending(out, &s);
            break;
        }
        if (r == 2) {
            rc = s.out_of_host_memory ? RS_ENOMEM : RS_OK;
            outcome_budget(out, &s, ev[i].time_ns);
            break;
        }
    }
    out->steps = s.steps;
    out->configs_max = s.configs_max;
    out->bytes_max = s.bytes_peak;
    sweep_free(&s);
    free(ev);
    return rc;
}

/* ---- The reference search: exhaustive over orders, at most 64 operations ---- */

struct ref_op {
    int64_t invoke_ns;
    int64_t return_ns; /* NEVER for an operation that may take effect any time after invoke */
    bool mandatory;    /* must take effect; otherwise it may or may not */
    bool pre_any;
    bool writes;
    uint32_t pre;
    uint32_t eff;
    uint32_t tag; /* the caller's index */
};

/* Visited (done mask, state) pairs. */
struct ref_seen {
    uint64_t *mask;
    uint32_t *state;
    size_t count;
    size_t cap; /* power of two; entries with state NONE are empty */
};

static uint64_t ref_hash(uint64_t mask, uint32_t state)
{
    uint64_t h = (mask ^ ((uint64_t)state << 40)) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 31);
}

static bool ref_seen_grow(struct ref_seen *seen)
{
    size_t cap = seen->cap ? seen->cap * 2 : 1024;
    uint64_t *mask = malloc(cap * sizeof *mask);
    uint32_t *state = malloc(cap * sizeof *state);
    if (mask == NULL || state == NULL) {
        free(mask);
        free(state);
        return false;
    }
    for (size_t i = 0; i < cap; i++) {
        state[i] = NONE;
    }
    for (size_t i = 0; i < seen->cap; i++) {
        if (seen->state[i] == NONE) {
            continue;
        }
        size_t j = ref_hash(seen->mask[i], seen->state[i]) & (cap - 1);
        while (state[j] != NONE) {
            j = (j + 1) & (cap - 1);
        }
        mask[j] = seen->mask[i];
        state[j] = seen->state[i];
    }
    free(seen->mask);
    free(seen->state);
    seen->mask = mask;
    seen->state = state;
    seen->cap = cap;
    return true;
}

/* Marks (mask, state) seen; returns 1 if it was new, 0 if seen before, -1 out of memory. */
static int ref_seen_add(struct ref_seen *seen, uint64_t mask, uint32_t state)
{
    if ((seen->count + 1) * 2 > seen->cap && !ref_seen_grow(seen)) {
        return -1;
    }
    size_t j = ref_hash(mask, state) & (seen->cap - 1);
    while (seen->state[j] != NONE) {
        if (seen->mask[j] == mask && seen->state[j] == state) {
            return 0;
        }
        j = (j + 1) & (seen->cap - 1);
    }
    seen->mask[j] = mask;
    seen->state[j] = state;
    seen->count++;
    return 1;
}

struct ref_frame {
    uint64_t mask;
    uint32_t state;
    uint32_t next;
};

/* The precedence masks: before[i] must be done before i; skip[i] can never follow i. */
static uint64_t ref_precedence(const struct ref_op *ops,
                               uint32_t n,
                               uint64_t *before,
                               uint64_t *skip)
{
    uint64_t mandatory = 0;
    for (uint32_t i = 0; i < n; i++) {
        mandatory |= (uint64_t)ops[i].mandatory << i;
        before[i] = 0;
        skip[i] = 0;
        for (uint32_t j = 0; j < n; j++) {
            if (j != i && ops[j].return_ns < ops[i].invoke_ns) {
                before[i] |= (uint64_t)ops[j].mandatory << j;
                skip[i] |= (uint64_t)!ops[j].mandatory << j;
            }
        }
    }
    return mandatory;
}

/* The next op (from frame->next on) that may be linearized in the frame's configuration. */
static uint32_t ref_next(const struct ref_op *ops,
                         uint32_t n,
                         const uint64_t *before,
                         const struct ref_frame *frame)
{
    for (uint32_t i = frame->next; i < n; i++) {
        if (((frame->mask >> i) & 1u) || (before[i] & ~frame->mask) != 0) {
            continue;
        }
        if (ops[i].pre_any || ops[i].pre == frame->state) {
            return i;
        }
    }
    return NONE;
}

/*
 * Depth-first search over linearization orders with a visited set: OK when some order takes
 * every mandatory op (from one of the initial states), VIOLATION when none does, UNKNOWN when
 * steps_max ran out (or memory).
 */
static enum rs_lincheck_verdict ref_search(const struct ref_op *ops,
                                           uint32_t n,
                                           const uint32_t *initial,
                                           uint32_t initial_count,
                                           uint64_t steps_max,
                                           uint64_t *steps)
{
    RS_ASSERT(n <= RS_LINCHECK_REFERENCE_OPS_MAX);
    uint64_t before[RS_LINCHECK_REFERENCE_OPS_MAX];
    uint64_t skip[RS_LINCHECK_REFERENCE_OPS_MAX];
    uint64_t mandatory = ref_precedence(ops, n, before, skip);
    struct ref_frame stack[RS_LINCHECK_REFERENCE_OPS_MAX + 1];
    struct ref_seen seen = {0};
    enum rs_lincheck_verdict verdict = RS_LINCHECK_VIOLATION;
    for (uint32_t r = 0; r < initial_count && verdict == RS_LINCHECK_VIOLATION; r++) {
        int fresh = ref_seen_add(&seen, 0, initial[r]);
        verdict = fresh < 0 ? RS_LINCHECK_UNKNOWN : verdict;
        uint32_t depth = fresh > 0 ? 1 : 0;
        stack[0] = (struct ref_frame){0, initial[r], 0};
        while (depth > 0 && verdict == RS_LINCHECK_VIOLATION) {
            struct ref_frame *top = &stack[depth - 1];
            if ((top->mask & mandatory) == mandatory) {
                verdict = RS_LINCHECK_OK;
                break;
            }
            uint32_t i = ref_next(ops, n, before, top);
            if (i == NONE) {
                depth--;
                continue;
            }
            top->next = i + 1;
            struct ref_frame child = {top->mask | (1ull << i) | skip[i],
                                      ops[i].writes ? ops[i].eff : top->state, 0};
            int added = ref_seen_add(&seen, child.mask, child.state);
            if (++*steps > steps_max || added < 0) {
                verdict = RS_LINCHECK_UNKNOWN;
            } else if (added > 0) {
                RS_ASSERT(depth <= n);
                stack[depth++] = child;
            }
        }
    }
    free(seen.mask);
    free(seen.state);
    return verdict;
}

/* Reference ops for a key's operations: ok ones mandatory, info ones free. */
static uint32_t ref_ops_of_key(const struct key_ctx *k, struct ref_op *ref)
{
    RS_ASSERT(k->n <= RS_LINCHECK_REFERENCE_OPS_MAX);
    for (uint32_t i = 0; i < k->n; i++) {
        const struct lc_op *op = &k->ops[i];
        ref[i] = (struct ref_op){op->invoke_ns, op->return_ns, op->ok,    op->pre_any,
                                 op->writes,    k->pre[i],     k->eff[i], i};
    }
    return k->n;
}

enum rs_lincheck_verdict rs_lincheck_reference(const struct rs_history *history, uint64_t steps_max)
{
    struct op_table t;
    if (op_table_build(history, &t) != RS_OK) {
        return RS_LINCHECK_UNKNOWN;
    }
    uint32_t strings = t.derived.base + t.derived.count;
    uint32_t *map = malloc(((size_t)strings + 1) * sizeof *map);
    uint32_t *touched = NULL;
    if (map == NULL) {
        op_table_free(&t);
        return RS_LINCHECK_UNKNOWN;
    }
    touched = malloc(((size_t)t.op_count * 2 + 1) * sizeof *touched);
    for (uint32_t s = 0; s < strings; s++) {
        map[s] = NONE;
    }
    bool unknown = touched == NULL;
    bool violation = false;
    for (uint32_t key = 0; key < t.key_count && touched != NULL; key++) {
        struct key_ctx k = {.ops = t.ops + t.key_start[key],
                            .n = t.key_start[key + 1] - t.key_start[key]};
        struct ref_op ref[RS_LINCHECK_REFERENCE_OPS_MAX];
        uint32_t absent = ABSENT;
        uint64_t steps = 0;
        if (k.n > RS_LINCHECK_REFERENCE_OPS_MAX || key_local_ids(&k, map, touched) != RS_OK) {
            unknown = true;
        } else {
            uint32_t n = ref_ops_of_key(&k, ref);
            enum rs_lincheck_verdict v = ref_search(ref, n, &absent, 1, steps_max, &steps);
            violation = violation || v == RS_LINCHECK_VIOLATION;
            unknown = unknown || v == RS_LINCHECK_UNKNOWN;
        }
        key_ctx_free(&k);
    }
    free(map);
    free(touched);
    op_table_free(&t);
    return violation ? RS_LINCHECK_VIOLATION : (unknown ? RS_LINCHECK_UNKNOWN : RS_LINCHECK_OK);
}

/* ---- Witness: a small window of the failing key that alone cannot be linearized ---- */

#define WITNESS_STEPS_MAX         20000000ull /* over the whole witness search of one key */
#define WITNESS_ATTEMPT_STEPS_MAX 2000000ull
#define WITNESS_BYTES_MAX         (64ull << 20)
#define WITNESS_ENDS_MAX          16u
#define WITNESS_ATTEMPTS_MAX      512u
#define WITNESS_OPS_MAX           128u       /* a window with more operations is no small witness */
#define WITNESS_OTHER             WITNESS_OTHER_ID /* an initial value no window op observes */

struct witness {
    uint32_t ops[WITNESS_OPS_MAX]; /* key-local op indices that must take effect */
    uint32_t count;
    uint32_t context[WITNESS_OPS_MAX]; /* the window's writes that may or may not */
    uint32_t context_count;
    int64_t start_ns;
    int64_t end_ns;
    bool from_start;
    bool found;
    uint32_t disagreements; /* self-check: windows the reference judged otherwise */
};

/* A window [start, end] of the key as a small history of its own; see window_build. */
struct window {
    struct lc_op ops[WITNESS_OPS_MAX];
    uint32_t tag[WITNESS_OPS_MAX]; /* key-local op index */
    uint32_t n;
    uint32_t initial[WITNESS_OPS_MAX + 2]; /* string ids; NONE absent, WITNESS_OTHER */
    uint32_t initial_count;
};

/* Scratch shared by the windows of one key. */
struct witness_search {
    const struct key_ctx *k;
    uint32_t *map;
    uint32_t *touched;
    bool *observed;
    struct window *win;
    uint64_t steps;
    uint32_t attempts;
    bool self_check;
    uint32_t disagreements;
};

/* Whether op i belongs in the window, and how: -1 no, 0 optional, 1 mandatory. */
static int window_role(const struct key_ctx *k, uint32_t i, int64_t start_ns, int64_t end_ns)
{
    const struct lc_op *op = &k->ops[i];
    bool completed = op->ok && op->return_ns <= end_ns;
    if (op->invoke_ns > end_ns || (completed && op->return_ns < start_ns)) {
        return -1; /* after the window, or over before it */
    }
    bool mandatory = completed && op->invoke_ns >= start_ns;
    if (!op->writes && !mandatory) {
        return -1; /* a read that need not happen constrains nothing */
    }
    return mandatory;
}

/* The op as the window sees it: optional ones may take effect (by their completion) or not. */
static struct lc_op window_op(const struct lc_op *op, int role, int64_t start_ns, int64_t end_ns)
{
    struct lc_op w = *op;
    w.invoke_ns = op->invoke_ns < start_ns ? start_ns : op->invoke_ns;
    if (role == 0) {
        bool completed = op->ok && op->return_ns <= end_ns;
        w.ok = false;
        w.maybe = completed; /* straddles the start: maybe it happened before */
        w.return_ns = completed ? op->return_ns : NEVER;
    }
    return w;
}

/*
 * The state at the start: absent at the very beginning, else absent or any value written by
 * an op invoked before the start (values the window never observes collapse into one).
 */
static void window_initial(struct witness_search *ws, int64_t start_ns, bool beginning)
{
    const struct key_ctx *k = ws->k;
    struct window *win = ws->win;
    bool other = false;
    win->initial_count = 0;
    win->initial[win->initial_count++] = NONE;
    for (uint32_t i = 0; i < k->n && !beginning; i++) {
        if (!writes_value(k, i) || k->ops[i].invoke_ns >= start_ns) {
            continue;
        }
        if (!ws->observed[k->eff[i]]) {
            other = true;
            continue;
        }
        ws->observed[k->eff[i]] = false; /* listed once */
        RS_ASSERT(win->initial_count < WITNESS_OPS_MAX + 1);
        win->initial[win->initial_count++] = k->ops[i].eff_value;
    }
    if (other) {
        win->initial[win->initial_count++] = WITNESS_OTHER;
    }
}

/*
 * Builds the window: the ops that overlap [start, end]. Those straddling the start may have
 * taken effect before it, so they are optional; those not completed by the end are optional;
 * optional writes of values no window op observes are left out (they cannot matter). False
 * when more than WITNESS_OPS_MAX ops remain.
 */
static bool window_build(struct witness_search *ws,
                         int64_t start_ns,
                         int64_t end_ns,
                         bool beginning)
{
    const struct key_ctx *k = ws->k;
    struct window *win = ws->win;
    memset(ws->observed, 0, ((size_t)k->value_count + 1) * sizeof *ws->observed);
    for (uint32_t i = 0; i < k->n; i++) {
        if (window_role(k, i, start_ns, end_ns) >= 0 && !k->ops[i].pre_any) {
            ws->observed[k->pre[i]] = true;
        }
    }
    /*
     * Info deletes invoked before the start are alike (optional, from the start on, for ever);
     * with m other ops in the window at most m + 1 of them can matter (one per gap between
     * consecutive ops: two deletes in a row do what one does), so only that many are kept.
     */
    uint32_t others = 0;
    for (uint32_t pass = 0; pass < 2; pass++) {
        uint32_t deletes = 0;
        win->n = 0;
        for (uint32_t i = 0; i < k->n; i++) {
            int role = window_role(k, i, start_ns, end_ns);
            if (role < 0 || (role == 0 && !ws->observed[k->eff[i]])) {
                continue;
            }
            const struct lc_op *op = &k->ops[i];
            bool early_info_delete = !op->ok && op->f == RS_HIST_DELETE && op->invoke_ns < start_ns;
            if (early_info_delete && (pass == 0 || ++deletes > others + 1)) {
                continue;
            }
            others += pass == 0;
            if (pass == 1 && win->n == WITNESS_OPS_MAX) {
                return false;
            }
            if (pass == 1) {
                win->tag[win->n] = i;
                win->ops[win->n++] = window_op(op, role, start_ns, end_ns);
            }
        }
    }
    window_initial(ws, start_ns, beginning);
    return true;
}

/* The sweep state of an initial value in the prepared window. */
static uint32_t window_state(const struct key_ctx *w, uint32_t value)
{
    if (value == NONE) {
        return ABSENT;
    }
    for (uint32_t i = 0; i < w->n && value != WITNESS_OTHER; i++) {
        if (!w->ops[i].pre_any && w->ops[i].pre_value == value) {
            return w->spre[i];
        }
    }
    return DEAD;
}

/* The reference search's verdict on a prepared window (UNKNOWN beyond its size). */
static enum rs_lincheck_verdict window_reference(const struct window *win, const struct key_ctx *w)
{
    struct ref_op ref[RS_LINCHECK_REFERENCE_OPS_MAX];
    uint32_t initial[WITNESS_OPS_MAX + 2];
    if (w->n > RS_LINCHECK_REFERENCE_OPS_MAX) {
        return RS_LINCHECK_UNKNOWN;
    }
    for (uint32_t i = 0; i < w->n; i++) {
        const struct lc_op *op = &w->ops[i];
        int64_t ret = op->ok || op->maybe ? op->return_ns : NEVER;
        bool pre_any = op->pre_any || (!op->writes && !op->ok); /* optional read: no matter */
        ref[i] = (struct ref_op){op->invoke_ns, ret,       op->ok,    pre_any,
                                 op->writes,    w->pre[i], w->eff[i], i};
    }
    for (uint32_t j = 0; j < win->initial_count; j++) {
        uint32_t value = win->initial[j];
        initial[j] = value == NONE ? ABSENT : w->value_count + 1;
        for (uint32_t i = 0; i < w->n; i++) {
            if (!w->ops[i].pre_any && w->ops[i].pre_value == value) {
                initial[j] = w->pre[i];
            }
        }
    }
    uint64_t steps = 0;
    return ref_search(ref, w->n, initial, win->initial_count, WITNESS_ATTEMPT_STEPS_MAX, &steps);
}

/* Checks the window by the general search (no unique-value rules: its start breaks them). */
static enum rs_lincheck_verdict window_check(struct witness_search *ws)
{
    struct window *win = ws->win;
    struct key_ctx w = {.ops = win->ops, .n = win->n, .force_general = true};
    struct rs_lincheck_options opt = {.bytes_max = WITNESS_BYTES_MAX};
    uint64_t left = WITNESS_STEPS_MAX - ws->steps;
    opt.steps_max = left < WITNESS_ATTEMPT_STEPS_MAX ? left : WITNESS_ATTEMPT_STEPS_MAX;
    struct key_outcome out;
    memset(&out, 0, sizeof out);
    out.verdict = RS_LINCHECK_UNKNOWN;
    uint32_t initial[WITNESS_OPS_MAX + 2];
    RS_ASSERT(ws->steps < WITNESS_STEPS_MAX);
    if (key_prepare(&w, ws->map, ws->touched) == RS_OK) {
        for (uint32_t i = 0; i < win->initial_count; i++) {
            initial[i] = window_state(&w, win->initial[i]);
        }
        if (key_sweep(&w, &opt, initial, win->initial_count, &out) != RS_OK) {
            out.verdict = RS_LINCHECK_UNKNOWN;
        }
    }
    ws->steps += out.steps;
    if (ws->self_check && w.pre != NULL && w.spre != NULL) {
        enum rs_lincheck_verdict ref = window_reference(win, &w);
        bool decided = ref != RS_LINCHECK_UNKNOWN && out.verdict != RS_LINCHECK_UNKNOWN;
        ws->disagreements += decided && ref != out.verdict;
    }
    free(out.pending);
    key_ctx_free(&w);
    return out.verdict;
}

/* Relaxes each mandatory op of a failing window in turn, keeping the relaxations that still fail.
 */
static void window_minimize(struct witness_search *ws)
{
    struct window *win = ws->win;
    for (uint32_t j = 0; j < win->n && ws->steps < WITNESS_STEPS_MAX; j++) {
        struct lc_op saved = win->ops[j];
        if (!saved.ok) {
            continue;
        }
        win->ops[j].ok = false; /* a read is then dropped, a write may or may not happen */
        win->ops[j].maybe = true;
        if (window_check(ws) != RS_LINCHECK_VIOLATION) {
            win->ops[j] = saved;
        }
    }
}

static void witness_take(struct witness *w,
                         const struct window *win,
                         int64_t start_ns,
                         int64_t end_ns,
                         bool beginning)
{
    w->found = true;
    w->start_ns = start_ns;
    w->end_ns = end_ns;
    w->from_start = beginning;
    w->count = 0;
    w->context_count = 0;
    for (uint32_t j = 0; j < win->n; j++) {
        if (win->ops[j].ok) {
            w->ops[w->count++] = win->tag[j];
        } else if (win->ops[j].writes) {
            w->context[w->context_count++] = win->tag[j];
        }
    }
}

/* Tries windows ending at `end_ns`, latest start first; true once one fails (w is filled). */
static bool witness_for_end(struct witness_search *ws,
                            int64_t end_ns,
                            const int64_t *starts,
                            size_t start_count,
                            struct witness *w)
{
    for (size_t s = start_count; s-- > 0;) {
        if (starts[s] > end_ns) {
            continue;
        }
        bool beginning = s == 0;
        if (!window_build(ws, starts[s], end_ns, beginning) ||
            ++ws->attempts > WITNESS_ATTEMPTS_MAX || ws->steps >= WITNESS_STEPS_MAX) {
            return false;
        }
        enum rs_lincheck_verdict v = window_check(ws);
        if (v == RS_LINCHECK_VIOLATION) {
            window_minimize(ws);
            witness_take(w, ws->win, starts[s], end_ns, beginning);
            return true;
        }
        if (v == RS_LINCHECK_UNKNOWN) {
            return false;
        }
    }
    return false;
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts and removes repeats; returns the new count. */
static size_t sort_unique(int64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, compare_i64);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m == 0 || v[m - 1] != v[i]) {
            v[m++] = v[i];
        }
    }
    return m;
}

/*
 * The sweep may fail before the end of a failing prefix (it uses what it knows of later
 * operations), so windows end at the failure time or at one of the next completions.
 */
static void key_witness(const struct key_ctx *k,
                        int64_t fail_ns,
                        uint32_t *map,
                        uint32_t *touched,
                        bool self_check,
                        struct witness *w)
{
    memset(w, 0, sizeof *w);
    struct witness_search ws = {.k = k, .map = map, .touched = touched, .self_check = self_check};
    int64_t *starts = malloc(((size_t)k->n + 1) * sizeof *starts);
    int64_t *ends = malloc(((size_t)k->n + 2) * sizeof *ends);
    ws.observed = malloc(((size_t)k->value_count + 2) * sizeof *ws.observed);
    ws.win = malloc(sizeof *ws.win);
    if (starts && ends && ws.observed && ws.win) {
        size_t start_count = 0;
        size_t end_count = 0;
        ends[end_count++] = fail_ns;
        for (uint32_t i = 0; i < k->n; i++) {
            starts[start_count++] = k->ops[i].invoke_ns;
            if (k->ops[i].ok && k->ops[i].return_ns > fail_ns) {
                ends[end_count++] = k->ops[i].return_ns;
            }
        }
        start_count = sort_unique(starts, start_count);
        end_count = sort_unique(ends, end_count);
        for (size_t e = 0; e < end_count && e < WITNESS_ENDS_MAX && !w->found; e++) {
            witness_for_end(&ws, ends[e], starts, start_count, w);
        }
    }
    w->disagreements = ws.disagreements;
    free(starts);
    free(ends);
    free(ws.observed);
    free(ws.win);
}

/* ---- The whole history ---- */

static void result_reason(struct rs_lincheck_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void result_reason(struct rs_lincheck_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
}

/* "line 12" for a loaded event, "event #12" for a recorded one. */
static void event_place(const struct rs_history *h, uint32_t index, char *out, size_t size)
{
    const struct rs_hist_event *ev = rs_history_event(h, index);
    if (ev->line != 0) {
        snprintf(out, size, "line %u", ev->line);
    } else {
        snprintf(out, size, "event #%u", index);
    }
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The invoke event indices of key ops, in file order; *count is 0 when memory runs out. */
static uint32_t *events_of_ops(const struct key_ctx *k,
                               const uint32_t *ops,
                               uint32_t op_count,
                               uint32_t *count)
{
    uint32_t *events = malloc(((size_t)op_count + 1) * sizeof *events);
    *count = 0;
    for (uint32_t i = 0; events != NULL && i < op_count; i++) {
        RS_ASSERT(ops[i] < k->n);
        events[(*count)++] = k->ops[ops[i]].invoke_event;
    }
    if (events != NULL) {
        qsort(events, *count, sizeof *events, compare_u32);
    }
    return events;
}

/* Whether op i needs a value that no operation of its key writes. */
static bool unwritten_value(const struct key_ctx *k, uint32_t i)
{
    if (!observes_value(k, i)) {
        return false;
    }
    for (uint32_t j = 0; j < k->n; j++) {
        if (writes_value(k, j) && k->eff[j] == k->pre[i]) {
            return false;
        }
    }
    return true;
}

/* The reason line of a violation found at the completion (or deadline) of op `fail`. */
static void violation_reason(const struct rs_history *h,
                             const struct key_ctx *k,
                             uint32_t fail,
                             int64_t fail_ns,
                             bool exact_prefix,
                             struct rs_lincheck_result *r)
{
    const struct lc_op *op = &k->ops[fail];
    char at[32];
    event_place(h, op->invoke_event, at, sizeof at);
    if (unwritten_value(k, fail)) {
        struct rs_hist_str v = lc_string(k->derived, op->pre_value);
        result_reason(r,
                      "the %s invoked on %s needs the value \"%.*s\", which no operation "
                      "on this key writes",
                      rs_hist_f_name(op->source_f), at, v.size > 40 ? 40 : (int)v.size, v.data);
    } else if (!op->ok) {
        result_reason(r,
                      "the %s of unknown outcome invoked on %s is observed, so it must take "
                      "effect by time %lld, and it cannot",
                      rs_hist_f_name(op->source_f), at, (long long)fail_ns);
    } else if (exact_prefix) {
        result_reason(r,
                      "the %s invoked on %s cannot take effect by its completion at time %lld: "
                      "the history up to then is not linearizable",
                      rs_hist_f_name(op->source_f), at, (long long)fail_ns);
    } else {
        result_reason(r,
                      "no linearization lets the %s invoked on %s take effect by its "
                      "completion at time %lld (later reads and cas taken into account)",
                      rs_hist_f_name(op->source_f), at, (long long)fail_ns);
    }
}

#define PREFIX_STEPS_MAX 50000000ull

/*
 * The unique-value rules see the future (a value may not be left while a later read needs
 * it), so the fast search can fail well before the end of the shortest failing prefix. The
 * general search does not: where it fails is that end, a better place to explain and to end
 * witness windows. Within a budget; UNKNOWN otherwise.
 */
static void key_prefix_failure(const struct key_ctx *k,
                               const struct rs_lincheck_options *opt,
                               uint32_t *map,
                               uint32_t *touched,
                               struct key_outcome *gen)
{
    struct key_ctx g = {.ops = k->ops, .n = k->n, .force_general = true};
    struct rs_lincheck_options gopt = {.bytes_max = opt->bytes_max};
    gopt.steps_max = opt->steps_max < PREFIX_STEPS_MAX ? opt->steps_max : PREFIX_STEPS_MAX;
    memset(gen, 0, sizeof *gen);
    gen->verdict = RS_LINCHECK_UNKNOWN;
    if (key_prepare(&g, map, touched) != RS_OK || key_sweep(&g, &gopt, NULL, 0, gen) != RS_OK) {
        gen->verdict = RS_LINCHECK_UNKNOWN;
    }
    free(gen->pending);
    gen->pending = NULL;
    key_ctx_free(&g);
}

static void record_violation(const struct rs_history *h,
                             const struct key_ctx *k,
                             const struct key_outcome *out,
                             const struct rs_lincheck_options *opt,
                             uint32_t *map,
                             uint32_t *touched,
                             struct rs_lincheck_result *r)
{
    struct key_outcome gen = {.verdict = RS_LINCHECK_UNKNOWN};
    if (!opt->no_witness && k->unique) {
        key_prefix_failure(k, opt, map, touched, &gen);
    }
    if (gen.verdict == RS_LINCHECK_OK) {
        r->self_check_disagreements++; /* both searches are exact: this is a bug */
        snprintf(r->note, sizeof r->note,
                 "internal error: the general search finds this key linearizable");
    }
    bool general = gen.verdict == RS_LINCHECK_VIOLATION;
    uint32_t fail = general ? gen.fail_op : out->fail_op;
    int64_t fail_ns = general ? gen.fail_ns : out->fail_ns;
    violation_reason(h, k, fail, fail_ns, general || !k->unique, r);
    struct witness w = {0};
    if (!opt->no_witness) {
        key_witness(k, fail_ns, map, touched, opt->self_check, &w);
        r->self_check_disagreements += w.disagreements;
    }
    r->witness = events_of_ops(k, w.found ? w.ops : out->pending,
                               w.found ? w.count : out->pending_count, &r->witness_count);
    r->context = events_of_ops(k, w.context, w.found ? w.context_count : 0, &r->context_count);
    r->witness_is_window = w.found;
    r->window_from_start = w.from_start;
    r->window_start_ns = w.found ? w.start_ns : out->fail_ns;
    r->window_end_ns = w.found ? w.end_ns : out->fail_ns;
}

static void record_general_note(const struct rs_history *h,
                                const struct key_ctx *k,
                                struct rs_lincheck_result *r)
{
    if (r->keys_general++ > 0) {
        return;
    }
    char first[32];
    char second[32];
    event_place(h, k->ops[k->dup_first].invoke_event, first, sizeof first);
    event_place(h, k->ops[k->dup_second].invoke_event, second, sizeof second);
    struct rs_hist_str key = rs_history_string(h, k->ops[0].key);
    snprintf(r->note, sizeof r->note,
             "written values repeat (%s and %s write the same value of key \"%.*s\"); such keys "
             "were checked by the general search",
             first, second, key.size > 40 ? 40 : (int)key.size, key.data);
}

/* Prepares, sweeps and records one key. */
static enum rs_err check_key(const struct rs_history *h,
                             struct key_ctx *k,
                             uint32_t *map,
                             uint32_t *touched,
                             const struct rs_lincheck_options *opt,
                             struct rs_lincheck_result *r)
{
    struct key_outcome out;
    memset(&out, 0, sizeof out);
    enum rs_err rc = key_prepare(k, map, touched);
    if (rc == RS_OK) {
        rc = key_sweep(k, opt, NULL, 0, &out);
    }
    if (rc != RS_OK) {
        free(out.pending);
        return rc;
    }
    r->steps += out.steps;
    r->configs_max = out.configs_max > r->configs_max ? out.configs_max : r->configs_max;
    r->bytes_max = out.bytes_max > r->bytes_max ? out.bytes_max : r->bytes_max;
    if (k->repeats) {
        record_general_note(h, k, r);
    }
    if (out.verdict == RS_LINCHECK_VIOLATION && r->keys_violating++ == 0) {
        r->key = k->ops[0].key;
        record_violation(h, k, &out, opt, map, touched, r);
    }
    if (out.verdict == RS_LINCHECK_UNKNOWN && r->keys_unknown++ == 0 && r->keys_violating == 0) {
        r->key = k->ops[0].key;
        snprintf(r->reason, sizeof r->reason, "%s", out.reason);
    }
    free(out.pending);
    return RS_OK;
}

enum rs_err rs_lincheck_check(const struct rs_history *history,
                              const struct rs_lincheck_options *options,
                              struct rs_lincheck_result *result)
{
    struct rs_lincheck_options opt;
    rs_lincheck_options_default(&opt);
    if (options != NULL) {
        opt.steps_max = options->steps_max ? options->steps_max : opt.steps_max;
        opt.bytes_max = options->bytes_max ? options->bytes_max : opt.bytes_max;
        opt.no_witness = options->no_witness;
        opt.general = options->general;
        opt.self_check = options->self_check;
    }
    memset(result, 0, sizeof *result);
    result->key = NONE;
    struct op_table t;
    enum rs_err rc = op_table_build(history, &t);
    if (rc != RS_OK) {
        return rc;
    }
    uint32_t strings = t.derived.base + t.derived.count;
    uint32_t *map = malloc(((size_t)strings + 1) * sizeof *map);
    uint32_t *touched = malloc(((size_t)t.op_count * 2 + 1) * sizeof *touched);
    rc = map && touched ? RS_OK : RS_ENOMEM;
    for (uint32_t s = 0; map != NULL && s < strings; s++) {
        map[s] = NONE;
    }
    result->key_count = t.key_count;
    result->op_count = t.op_count;
    for (uint32_t key = 0; key < t.key_count && rc == RS_OK; key++) {
        struct key_ctx k = {.ops = t.ops + t.key_start[key],
                            .n = t.key_start[key + 1] - t.key_start[key],
                            .force_general = opt.general,
                            .derived = &t.derived};
        rc = check_key(history, &k, map, touched, &opt, result);
        key_ctx_free(&k);
    }
    if (t.keys_skipped > 0 && result->note[0] == '\0') {
        snprintf(result->note, sizeof result->note, "%u key(s) not checked; %s", t.keys_skipped,
                 t.skip_note);
    }
    result->keys_skipped = t.keys_skipped;
    free(map);
    free(touched);
    op_table_free(&t);
    result->verdict = result->keys_violating ? RS_LINCHECK_VIOLATION
                      : result->keys_unknown ? RS_LINCHECK_UNKNOWN
                                             : RS_LINCHECK_OK;
    return rc;
}

void rs_lincheck_result_free(struct rs_lincheck_result *result)
{
    free(result->witness);
    free(result->context);
    result->witness = NULL;
    result->context = NULL;
    result->witness_count = 0;
    result->context_count = 0;
}

static void format_event_line(const struct rs_history *h, uint32_t index, struct rs_buf *out)
{
    char at[32];
    event_place(h, index, at, sizeof at);
    rs_buf_printf(out, "    %s: ", at);
    rs_history_format_event(h, index, out);
    rs_buf_putc(out, '\n');
}

/* The lines of the given operations (invoke and completion); of more than `limit` operations
 * only the last ones, those nearest the window. */
static void format_ops(const struct rs_history *h,
                       const uint32_t *events,
                       uint32_t count,
                       uint32_t limit,
                       struct rs_buf *out)
{
    uint32_t first = count > limit ? count - limit : 0;
    if (first > 0) {
        rs_buf_printf(out, "    ... %u earlier ones, then\n", first);
    }
    for (uint32_t i = first; i < count; i++) {
        format_event_line(h, events[i], out);
        uint32_t done = rs_history_event(h, events[i])->partner;
        if (done != NONE) {
            format_event_line(h, done, out);
        }
    }
}

static void format_violation(const struct rs_history *h,
                             const struct rs_lincheck_result *r,
                             struct rs_buf *out)
{
    struct rs_hist_str key = rs_history_string(h, r->key);
    rs_buf_puts(out, "violation: key ");
    rs_buf_json_str(out, key.data, key.size);
    rs_buf_printf(out, " is not linearizable (%u of %u keys)\n  %s\n", r->keys_violating,
                  r->key_count, r->reason);
    if (!r->witness_is_window) {
        rs_buf_puts(out,
                    "  no small failing window was found; the operations pending when the "
                    "check failed:\n");
        format_ops(h, r->witness, r->witness_count, UINT32_MAX, out);
        return;
    }
    rs_buf_printf(out, "  smallest failing window found: time %lld to %lld, ",
                  (long long)r->window_start_ns, (long long)r->window_end_ns);
    if (r->window_from_start) {
        rs_buf_puts(out, "from the key's first operation (the key starts absent)\n");
    } else {
        rs_buf_printf(out, "from any state the operations invoked before time %lld could leave\n",
                      (long long)r->window_start_ns);
    }
    rs_buf_puts(out, r->witness_count == 1
                         ? "  this operation cannot take effect within its interval:\n"
                         : "  these operations cannot all take effect within their intervals:\n");
    format_ops(h, r->witness, r->witness_count, UINT32_MAX, out);
    if (r->context_count > 0) {
        rs_buf_puts(out,
                    "  whichever of these writes (outcome unknown, or not decided inside "
                    "the window) take effect:\n");
        format_ops(h, r->context, r->context_count, 8, out);
    }
}

void rs_lincheck_format(const struct rs_history *history,
                        const struct rs_lincheck_result *result,
                        struct rs_buf *out)
{
    const struct rs_lincheck_result *r = result;
    switch (r->verdict) {
        case RS_LINCHECK_OK:
            rs_buf_printf(out, "ok: %llu operations on %u keys are linearizable\n",
                          (unsigned long long)r->op_count, r->key_count);
            break;
        case RS_LINCHECK_VIOLATION:
            format_violation(history, r, out);
            break;
        case RS_LINCHECK_UNKNOWN: {
            struct rs_hist_str key = rs_history_string(history, r->key);
            rs_buf_puts(out, "unknown: key ");
            rs_buf_json_str(out, key.data, key.size);
            rs_buf_printf(out, ": %s (%u of %u keys undecided)\n", r->reason, r->keys_unknown,
                          r->key_count);
            break;
        }
        default:
            RS_UNREACHABLE();
    }
    if (r->note[0] != '\0') {
        rs_buf_printf(out, "note: %s\n", r->note);
    }
}
