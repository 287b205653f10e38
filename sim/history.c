/* Client histories: storage with interned strings, the checks every event passes, the writer. */
#include "sim/history.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The fields of a line; an error names the one to blame so the parser can give its column. */
enum hist_field {
    FIELD_PROCESS,
    FIELD_TYPE,
    FIELD_F,
    FIELD_KEY,
    FIELD_VALUE,
    FIELD_TIME,
    FIELD_ARGS,
    FIELD_COUNT
};

static const char *const field_names[FIELD_COUNT] = {"process", "type", "f",   "key",
                                                     "value",   "time", "args"};

static const char *const type_names[] = {"invoke", "ok", "fail", "info"};
static const char *const f_names[RS_HIST_F_COUNT] = {
    "get",          "put",          "delete",       "cas",        "put_if_absent",
    "get_and_put",  "multi_get",    "contains_key", "scan",       "reverse_scan",
    "batch_put",    "batch_delete", "cas_all",      "merge",      "delete_range",
    "get_sequence", "reset_sequence", "lock",       "unlock"};

const char *rs_hist_type_name(enum rs_hist_type type)
{
    return (unsigned)type < 4 ? type_names[type] : "?";
}

const char *rs_hist_f_name(enum rs_hist_f f)
{
    return (unsigned)f < RS_HIST_F_COUNT ? f_names[f] : "?";
}

static int type_parse(const char *name, size_t size)
{
    for (int i = 0; i < 4; i++) {
        if (strlen(type_names[i]) == size && memcmp(type_names[i], name, size) == 0) {
            return i;
        }
    }
    return -1;
}

static int f_parse(const char *name, size_t size)
{
    for (int i = 0; i < RS_HIST_F_COUNT; i++) {
        if (strlen(f_names[i]) == size && memcmp(f_names[i], name, size) == 0) {
            return i;
        }
    }
    return -1;
}

/* One process's place in the history: its last event and its outstanding invoke, if any. */
struct hist_proc {
    uint64_t process;
    uint32_t last_event;
    uint32_t outstanding;
    bool used;
};

struct rs_history {
    struct rs_hist_event *events;
    size_t event_count;
    size_t event_cap;
    char *chars;
    size_t chars_size;
    size_t chars_cap;
    uint64_t *string_offset;
    uint32_t *string_size;
    uint32_t string_count;
    size_t string_offset_cap;
    size_t string_size_cap;
    uint32_t *string_table; /* open addressing: string id + 1, 0 = empty */
    size_t string_table_cap;
    struct hist_proc *procs;
    size_t proc_count;
    size_t proc_cap;
    struct rs_hist_item *items; /* keys and value items of the later operations */
    size_t item_count;
    size_t item_cap;
};

/* Grows *ptr to hold at least need elements; false when memory runs out. */
static bool grow(void **ptr, size_t *cap, size_t need, size_t elem_size)
{
    if (need <= *cap) {
        return true;
    }
    size_t cap_new = *cap ? *cap : 16;
    while (cap_new < need) {
        cap_new *= 2;
    }
    RS_ASSERT(cap_new >= need);
    void *p = realloc(*ptr, cap_new * elem_size);
    if (p == NULL) {
        return false;
    }
    *ptr = p;
    *cap = cap_new;
    return true;
}

struct rs_history *rs_history_new(void)
{
    return calloc(1, sizeof(struct rs_history));
}

void rs_history_free(struct rs_history *history)
{
    if (history == NULL) {
        return;
    }
    free(history->events);
    free(history->chars);
    free(history->string_offset);
    free(history->string_size);
    free(history->string_table);
    free(history->procs);
    free(history->items);
    free(history);
}

size_t rs_history_event_count(const struct rs_history *history)
{
    return history->event_count;
}

const struct rs_hist_event *rs_history_event(const struct rs_history *history, size_t index)
{
    RS_ASSERT(index < history->event_count);
    return &history->events[index];
}

struct rs_hist_str rs_history_string(const struct rs_history *history, uint32_t id)
{
    RS_ASSERT(id < history->string_count);
    struct rs_hist_str s = {history->chars + history->string_offset[id], history->string_size[id]};
    return s;
}

uint32_t rs_history_string_count(const struct rs_history *history)
{
    return history->string_count;
}

const struct rs_hist_item *rs_history_keys(const struct rs_history *history,
                                           const struct rs_hist_event *ev)
{
    RS_ASSERT(ev->items_start + ev->key_count + ev->item_count <= history->item_count);
    return history->items + ev->items_start;
}

const struct rs_hist_item *rs_history_items(const struct rs_history *history,
                                            const struct rs_hist_event *ev)
{
    return rs_history_keys(history, ev) + ev->key_count;
}

static uint64_t hash_bytes(const char *data, size_t size)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < size; i++) {
        h = (h ^ (unsigned char)data[i]) * 1099511628211ull;
    }
    return h ^ (h >> 29);
}

static bool string_table_rehash(struct rs_history *h)
{
    size_t cap = h->string_table_cap ? h->string_table_cap * 2 : 1024;
    uint32_t *table = calloc(cap, sizeof *table);
    if (table == NULL) {
        return false;
    }
    for (uint32_t id = 0; id < h->string_count; id++) {
        size_t i = hash_bytes(h->chars + h->string_offset[id], h->string_size[id]) & (cap - 1);
        while (table[i] != 0) {
            i = (i + 1) & (cap - 1);
        }
        table[i] = id + 1;
    }
    free(h->string_table);
    h->string_table = table;
    h->string_table_cap = cap;
    return true;
}

static enum rs_err history_intern(struct rs_history *h, const char *data, size_t size, uint32_t *id)
{
    RS_ASSERT(data != NULL || size == 0);
    if (size > RS_HISTORY_STRING_BYTES_MAX) {
        return RS_ETOOBIG;
    }
    if ((size_t)(h->string_count + 1) * 2 > h->string_table_cap && !string_table_rehash(h)) {
        return RS_ENOMEM;
    }
    size_t mask = h->string_table_cap - 1;
    size_t i = hash_bytes(data, size) & mask;
    for (size_t probe = 0; probe <= mask && h->string_table[i] != 0; probe++) {
        uint32_t other = h->string_table[i] - 1;
        if (h->string_size[other] == size &&
            memcmp(h->chars + h->string_offset[other], data, size) == 0) {
            *id = other;
            return RS_OK;
        }
        i = (i + 1) & mask;
    }
    RS_ASSERT(h->string_table[i] == 0);
    if (h->string_count >= RS_HIST_NONE - 1) {
        return RS_ETOOBIG;
    }
    size_t need = (size_t)h->string_count + 1;
    if (!grow((void **)&h->string_offset, &h->string_offset_cap, need, sizeof(uint64_t)) ||
        !grow((void **)&h->string_size, &h->string_size_cap, need, sizeof(uint32_t)) ||
        !grow((void **)&h->chars, &h->chars_cap, h->chars_size + size + 1, 1)) {
        return RS_ENOMEM;
    }
    if (size > 0) {
        memcpy(h->chars + h->chars_size, data, size);
    }
    h->string_offset[h->string_count] = h->chars_size;
    h->string_size[h->string_count] = (uint32_t)size;
    h->chars_size += size;
    h->string_table[i] = h->string_count + 1;
    *id = h->string_count++;
    return RS_OK;
}

uint32_t rs_history_find_string(const struct rs_history *h, const char *data, size_t size)
{
    if (h->string_table_cap == 0) {
        return RS_HIST_NONE;
    }
    size_t mask = h->string_table_cap - 1;
    size_t i = hash_bytes(data, size) & mask;
    for (size_t probe = 0; probe <= mask && h->string_table[i] != 0; probe++) {
        uint32_t other = h->string_table[i] - 1;
        if (h->string_size[other] == size &&
            (size == 0 || memcmp(h->chars + h->string_offset[other], data, size) == 0)) {
            return other;
        }
        i = (i + 1) & mask;
    }
    return RS_HIST_NONE;
}

/* Finds or inserts the process; NULL when memory runs out. */
static struct hist_proc *proc_find(struct rs_history *h, uint64_t process)
{
    if ((h->proc_count + 1) * 2 > h->proc_cap) {
        size_t cap = h->proc_cap ? h->proc_cap * 2 : 64;
        struct hist_proc *procs = calloc(cap, sizeof *procs);
        if (procs == NULL) {
            return NULL;
        }
        for (size_t j = 0; j < h->proc_cap; j++) {
            if (!h->procs[j].used) {
                continue;
            }
            size_t i = (h->procs[j].process * 0x9e3779b97f4a7c15ull >> 17) & (cap - 1);
            while (procs[i].used) {
                i = (i + 1) & (cap - 1);
            }
            procs[i] = h->procs[j];
        }
        free(h->procs);
        h->procs = procs;
        h->proc_cap = cap;
    }
    size_t mask = h->proc_cap - 1;
    size_t i = (process * 0x9e3779b97f4a7c15ull >> 17) & mask;
    while (h->procs[i].used && h->procs[i].process != process) {
        i = (i + 1) & mask;
    }
    RS_ASSERT(i <= mask);
    return &h->procs[i];
}

static void set_message(struct rs_history_error *error, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_message(struct rs_history_error *error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error->message, sizeof error->message, fmt, ap);
    va_end(ap);
}

static bool kind_in(uint8_t kind, bool none, bool null, bool string)
{
    return (kind == RS_HIST_VALUE_NONE && none) || (kind == RS_HIST_VALUE_NULL && null) ||
           (kind == RS_HIST_VALUE_STRING && string);
}

static bool same_value(const struct rs_hist_event *a, const struct rs_hist_event *b);

/* ---- The rules of the later operations ---- */

/* The shape an operation's key takes: one string, a list of strings, or [start, end|null]. */
static bool f_key_list(uint8_t f)
{
    return f == RS_HIST_MULTI_GET || f == RS_HIST_BATCH_PUT || f == RS_HIST_BATCH_DELETE ||
           f == RS_HIST_CAS_ALL || f == RS_HIST_SCAN || f == RS_HIST_REVERSE_SCAN ||
           f == RS_HIST_DELETE_RANGE;
}

static bool f_is_range(uint8_t f)
{
    return f == RS_HIST_SCAN || f == RS_HIST_REVERSE_SCAN || f == RS_HIST_DELETE_RANGE;
}

static const char *check_keys(const struct rs_history *h, const struct rs_hist_event *ev)
{
    if (!f_key_list(ev->f)) {
        return ev->key_list ? "this f takes one key, a string" : NULL;
    }
    if (!ev->key_list) {
        return "this f takes its keys as an array";
    }
    const struct rs_hist_item *keys = rs_history_keys(h, ev);
    if (f_is_range(ev->f)) {
        bool ok = ev->key_count == 2 && keys[0].first != RS_HIST_NONE;
        return ok ? NULL : "a range is [\"start\", \"end\" or null]";
    }
    for (uint32_t i = 0; i < ev->key_count; i++) {
        if (keys[i].first == RS_HIST_NONE) {
            return "keys are strings";
        }
    }
    return ev->key_count >= 1 ? NULL : "the key array is empty";
}

/* Items of a list value: all strings (or null when may_null), or all pairs. */
static bool items_shaped(const struct rs_history *h, const struct rs_hist_event *ev, bool pairs,
                         bool may_null, bool second_may_null)
{
    const struct rs_hist_item *items = rs_history_items(h, ev);
    for (uint32_t i = 0; i < ev->item_count; i++) {
        if (items[i].pair != pairs || (items[i].first == RS_HIST_NONE && !may_null) ||
            (pairs && items[i].second == RS_HIST_NONE && !second_may_null)) {
            return false;
        }
    }
    return true;
}

static bool is_list(const struct rs_hist_event *ev)
{
    return ev->value_kind == RS_HIST_VALUE_LIST;
}

/* The args an operation's invoke and ok carry (fail and info carry none). */
static uint8_t f_args(uint8_t f, bool invoke)
{
    switch (f) {
    case RS_HIST_CONTAINS_KEY: return invoke ? 0 : 1;
    case RS_HIST_SCAN:
    case RS_HIST_REVERSE_SCAN: return invoke ? 2 : 1;
    case RS_HIST_GET_SEQUENCE: return invoke ? 1 : 2;
    case RS_HIST_LOCK: return invoke ? 3 : 4;
    case RS_HIST_UNLOCK: return invoke ? 1 : 2;
    default: return 0;
    }
}

static const char *check_args(const struct rs_hist_event *ev)
{
    bool carries = ev->type == RS_HIST_INVOKE || ev->type == RS_HIST_OK;
    uint8_t want = carries ? f_args(ev->f, ev->type == RS_HIST_INVOKE) : 0;
    if (ev->arg_count != want) {
        return want == 0 ? "this event carries no args" : "wrong number of args for this f";
    }
    bool flags_ok = true;
    if (ev->type == RS_HIST_OK && (ev->f == RS_HIST_CONTAINS_KEY || ev->f == RS_HIST_SCAN ||
                                   ev->f == RS_HIST_REVERSE_SCAN || ev->f == RS_HIST_LOCK ||
                                   ev->f == RS_HIST_UNLOCK)) {
        flags_ok = ev->args[0] == 0 || ev->args[0] == 1;
    }
    if (ev->type == RS_HIST_INVOKE && (ev->f == RS_HIST_SCAN || ev->f == RS_HIST_REVERSE_SCAN)) {
        flags_ok = ev->args[1] == 0 || ev->args[1] == 1;
    }
    for (uint32_t i = 0; i < ev->arg_count; i++) {
        flags_ok = flags_ok && ev->args[i] >= 0;
    }
    return flags_ok ? NULL : "args out of range (flags are 0 or 1, numbers not negative)";
}

/* Value rules of the later operations for an invoke. */
static const char *check_later_invoke(const struct rs_history *h, const struct rs_hist_event *ev)
{
    bool none = kind_in(ev->value_kind, true, true, false);
    switch (ev->f) {
    case RS_HIST_BATCH_PUT:
        return is_list(ev) && ev->item_count == ev->key_count &&
                       items_shaped(h, ev, false, false, false)
                   ? NULL
                   : "a batch_put invoke needs one string value per key";
    case RS_HIST_CAS_ALL:
        return is_list(ev) && ev->item_count == ev->key_count &&
                       items_shaped(h, ev, true, false, false)
                   ? NULL
                   : "a cas_all invoke needs one [\"expected\",\"new\"] per key";
    case RS_HIST_MERGE:
    case RS_HIST_LOCK:
        return ev->value_kind == RS_HIST_VALUE_STRING ? NULL : "this invoke needs a string value";
    default: return none ? NULL : "this invoke carries no value";
    }
}

static bool same_items(const struct rs_history *h, const struct rs_hist_event *a,
                       const struct rs_hist_event *b)
{
    if (a->item_count != b->item_count) {
        return false;
    }
    const struct rs_hist_item *x = rs_history_items(h, a);
    const struct rs_hist_item *y = rs_history_items(h, b);
    for (uint32_t i = 0; i < a->item_count; i++) {
        if (x[i].first != y[i].first || x[i].second != y[i].second || x[i].pair != y[i].pair) {
            return false;
        }
    }
    return true;
}

/* Value rules of the later operations for a completion. */
static const char *check_later_completion(const struct rs_history *h,
                                          const struct rs_hist_event *ev,
                                          const struct rs_hist_event *inv)
{
    bool ok = ev->type == RS_HIST_OK;
    bool none = kind_in(ev->value_kind, true, true, false);
    switch (ev->f) {
    case RS_HIST_MULTI_GET:
        if (!ok) {
            return none ? NULL : "a fail or info carries no value here";
        }
        return is_list(ev) && ev->item_count <= inv->key_count &&
                       items_shaped(h, ev, false, true, false)
                   ? NULL
                   : "a multi_get ok needs [value or null, ...], at most one per key";
    case RS_HIST_SCAN:
    case RS_HIST_REVERSE_SCAN:
        if (!ok) {
            return none ? NULL : "a fail or info carries no value here";
        }
        return is_list(ev) && items_shaped(h, ev, true, false, true)
                   ? NULL
                   : "a scan ok needs [[\"key\", value or null], ...]";
    case RS_HIST_BATCH_PUT:
    case RS_HIST_CAS_ALL:
        return ev->value_kind == RS_HIST_VALUE_NONE || (is_list(ev) && same_items(h, ev, inv))
                   ? NULL
                   : "the value differs from its invoke's";
    case RS_HIST_MERGE:
    case RS_HIST_LOCK:
        return ev->value_kind == RS_HIST_VALUE_NONE || same_value(ev, inv)
                   ? NULL
                   : "the value differs from its invoke's";
    default: return none ? NULL : "this f carries no value";
    }
}

/* The value rules of the table in history.h for an invoke; NULL when the value is fine. */
static const char *check_invoke_value(const struct rs_hist_event *ev)
{
    switch (ev->f) {
        case RS_HIST_GET:
        case RS_HIST_DELETE:
            return kind_in(ev->value_kind, true, true, false) ? NULL
                                                              : "this invoke carries no value";
        case RS_HIST_PUT:
        case RS_HIST_PUT_IF_ABSENT:
        case RS_HIST_GET_AND_PUT:
            return ev->value_kind == RS_HIST_VALUE_STRING ? NULL
                                                          : "this invoke needs a string value";
        case RS_HIST_CAS:
            return ev->value_kind == RS_HIST_VALUE_PAIR
                       ? NULL
                       : "a cas invoke needs the value [\"expected\",\"new\"]";
        default:
            return "unknown f";
    }
}

static bool same_value(const struct rs_hist_event *a, const struct rs_hist_event *b)
{
    if (a->value_kind == RS_HIST_VALUE_LIST || b->value_kind == RS_HIST_VALUE_LIST) {
        return false; /* lists are compared by same_items */
    }
    return a->value_kind == b->value_kind && a->value == b->value && a->expected == b->expected;
}

/* The value rules for a completion, given its invoke; NULL when the value is fine. */
static const char *check_completion_value(const struct rs_hist_event *ev,
                                          const struct rs_hist_event *inv)
{
    bool ok = ev->type == RS_HIST_OK;
    bool none = ev->value_kind == RS_HIST_VALUE_NONE;
    switch (ev->f) {
        case RS_HIST_GET:
        case RS_HIST_GET_AND_PUT:
            if (ok) {
                return kind_in(ev->value_kind, false, true, true)
                           ? NULL
                           : "an ok of this f needs the value read: a string or null";
            }
            return kind_in(ev->value_kind, true, true, false)
                       ? NULL
                       : "a fail or info carries no value here";
        case RS_HIST_DELETE:
            return kind_in(ev->value_kind, true, true, false) ? NULL : "a delete carries no value";
        case RS_HIST_PUT:
        case RS_HIST_PUT_IF_ABSENT:
            return none || same_value(ev, inv) ? NULL : "the value differs from its invoke's";
        case RS_HIST_CAS:
            if (none && ev->type == RS_HIST_INFO) {
                return NULL;
            }
            return same_value(ev, inv) ? NULL : "a cas completion repeats its invoke's value pair";
        default:
            return "unknown f";
    }
}

/* "on line N" for a loaded event, "as event #N" for a recorded one. */
static void where(const struct rs_hist_event *ev, uint32_t index, char *out, size_t size)
{
    if (ev->line != 0) {
        snprintf(out, size, "on line %u", ev->line);
    } else {
        snprintf(out, size, "as event #%u", index);
    }
}

static bool same_keys(const struct rs_history *h, const struct rs_hist_event *a,
                      const struct rs_hist_event *b)
{
    if (a->key_list != b->key_list || a->key_count != b->key_count) {
        return false;
    }
    if (!a->key_list) {
        return a->key == b->key;
    }
    const struct rs_hist_item *x = rs_history_keys(h, a);
    const struct rs_hist_item *y = rs_history_keys(h, b);
    for (uint32_t i = 0; i < a->key_count; i++) {
        if (x[i].first != y[i].first) {
            return false;
        }
    }
    return true;
}

/* An invoke's own rules: key shape, args, value. */
static enum rs_err check_event_alone(const struct rs_history *h, const struct rs_hist_event *ev,
                                     struct rs_history_error *error, enum hist_field *bad_field)
{
    const char *bad = check_keys(h, ev);
    *bad_field = FIELD_KEY;
    if (bad == NULL) {
        bad = check_args(ev);
        *bad_field = FIELD_ARGS;
    }
    if (bad == NULL) {
        bad = ev->f >= RS_HIST_F_SIMPLE_COUNT ? check_later_invoke(h, ev) : check_invoke_value(ev);
        *bad_field = FIELD_VALUE;
    }
    if (bad != NULL) {
        set_message(error, "%s", bad);
    }
    return bad ? RS_EINVAL : RS_OK;
}

/* Pairing: an invoke needs an idle process, a completion needs a matching outstanding invoke. */
static enum rs_err check_pairing(const struct rs_history *h,
                                 const struct hist_proc *proc,
                                 const struct rs_hist_event *ev,
                                 struct rs_history_error *error,
                                 enum hist_field *bad_field)
{
    char at[40];
    bool outstanding = proc->used && proc->outstanding != RS_HIST_NONE;
    const char *bad = NULL;
    if (ev->type == RS_HIST_INVOKE) {
        if (outstanding) {
            where(&h->events[proc->outstanding], proc->outstanding, at, sizeof at);
            *bad_field = FIELD_TYPE;
            set_message(error, "process %llu already has an operation outstanding (invoked %s)",
                        (unsigned long long)ev->process, at);
            return RS_EINVAL;
        }
        return check_event_alone(h, ev, error, bad_field);
    }
    if (!outstanding) {
        *bad_field = FIELD_TYPE;
        set_message(error, "%s without an invoke outstanding for process %llu",
                    rs_hist_type_name(ev->type), (unsigned long long)ev->process);
        return RS_EINVAL;
    }
    const struct rs_hist_event *inv = &h->events[proc->outstanding];
    if (inv->f != ev->f) {
        *bad_field = FIELD_F;
        bad = "f differs from its invoke's";
    } else if (!same_keys(h, inv, ev)) {
        *bad_field = FIELD_KEY;
        bad = "key differs from its invoke's";
    } else if (check_keys(h, ev) != NULL) {
        *bad_field = FIELD_KEY;
        bad = check_keys(h, ev);
    } else if (check_args(ev) != NULL) {
        *bad_field = FIELD_ARGS;
        bad = check_args(ev);
    } else {
        *bad_field = FIELD_VALUE;
        bad = ev->f >= RS_HIST_F_SIMPLE_COUNT ? check_later_completion(h, ev, inv)
                                              : check_completion_value(ev, inv);
    }
    if (bad != NULL) {
        where(inv, proc->outstanding, at, sizeof at);
        set_message(error, "%s (invoked %s)", bad, at);
        return RS_EINVAL;
    }
    return RS_OK;
}

/* Range checks that a recorder (not the parser, which checks them first) could get wrong. */
static enum rs_err check_ranges(const struct rs_history *h,
                                const struct rs_hist_event *ev,
                                struct rs_history_error *error,
                                enum hist_field *bad_field)
{
    if (ev->type > RS_HIST_INFO || ev->f >= RS_HIST_F_COUNT ||
        ev->process > RS_HISTORY_PROCESS_MAX || ev->value_kind > RS_HIST_VALUE_LIST) {
        *bad_field = ev->type > RS_HIST_INFO               ? FIELD_TYPE
                     : ev->f >= RS_HIST_F_COUNT            ? FIELD_F
                     : ev->value_kind > RS_HIST_VALUE_LIST ? FIELD_VALUE
                                                           : FIELD_PROCESS;
        set_message(error, "%s out of range", field_names[*bad_field]);
        return RS_EINVAL;
    }
    if (h->event_count >= RS_HISTORY_EVENTS_MAX) {
        *bad_field = FIELD_PROCESS;
        set_message(error, "more than %u events", (unsigned)RS_HISTORY_EVENTS_MAX);
        return RS_ETOOBIG;
    }
    return RS_OK;
}

/*
 * The checks every event passes, loaded or recorded. On failure fills error->message, sets
 * *bad_field to the field to blame (for the column) and leaves the history's events unchanged.
 */
static enum rs_err history_append(struct rs_history *h,
                                  struct rs_hist_event *ev,
                                  struct rs_history_error *error,
                                  enum hist_field *bad_field)
{
    RS_ASSERT(error != NULL);
    RS_ASSERT(bad_field != NULL);
    enum rs_err rc = check_ranges(h, ev, error, bad_field);
    if (rc != RS_OK) {
        return rc;
    }
    struct hist_proc *proc = proc_find(h, ev->process);
    if (proc == NULL ||
        !grow((void **)&h->events, &h->event_cap, h->event_count + 1, sizeof *h->events)) {
        *bad_field = FIELD_PROCESS;
        set_message(error, "out of memory");
        return RS_ENOMEM;
    }
    if (proc->used && ev->time_ns < h->events[proc->last_event].time_ns) {
        char at[40];
        const struct rs_hist_event *last = &h->events[proc->last_event];
        where(last, proc->last_event, at, sizeof at);
        *bad_field = FIELD_TIME;
        set_message(error, "time goes backwards for process %llu (its event %s has time %lld)",
                    (unsigned long long)ev->process, at, (long long)last->time_ns);
        return RS_EINVAL;
    }
    rc = check_pairing(h, proc, ev, error, bad_field);
    if (rc != RS_OK) {
        return rc;
    }
    uint32_t index = (uint32_t)h->event_count;
    ev->partner = RS_HIST_NONE;
    if (ev->type == RS_HIST_INVOKE) {
        proc->outstanding = index;
    } else {
        ev->partner = proc->outstanding;
        h->events[proc->outstanding].partner = index;
        proc->outstanding = RS_HIST_NONE;
    }
    if (!proc->used) {
        proc->used = true;
        proc->process = ev->process;
        h->proc_count++;
    }
    proc->last_event = index;
    h->events[h->event_count++] = *ev;
    return RS_OK;
}

static enum rs_err intern_str(struct rs_history *h, struct rs_hist_str s, uint32_t *id)
{
    if (s.data == NULL) {
        return RS_EINVAL;
    }
    return history_intern(h, s.data, s.size, id);
}

/* Appends one item (string ids already interned); false when memory runs out. */
static bool item_push(struct rs_history *h, uint32_t first, uint32_t second, bool pair)
{
    if (!grow((void **)&h->items, &h->item_cap, h->item_count + 1, sizeof *h->items)) {
        return false;
    }
    h->items[h->item_count++] = (struct rs_hist_item){first, second, pair};
    return true;
}

static enum rs_err intern_or_null(struct rs_history *h, struct rs_hist_str s, uint32_t *id)
{
    *id = RS_HIST_NONE;
    return s.data == NULL ? RS_OK : history_intern(h, s.data, s.size, id);
}

/* The keys, items and args of a recorded event; the items go at the end of the table. */
static enum rs_err add_lists(struct rs_history *h, const struct rs_hist_event_in *in,
                             struct rs_hist_event *ev)
{
    if (in->key_count + in->item_count > RS_HISTORY_ITEMS_MAX || in->arg_count > RS_HIST_ARGS_MAX) {
        return RS_ETOOBIG;
    }
    ev->items_start = (uint32_t)h->item_count;
    ev->key_list = in->keys != NULL;
    ev->key_count = in->keys != NULL ? in->key_count : 0;
    ev->item_count = in->value_kind == RS_HIST_VALUE_LIST ? in->item_count : 0;
    ev->arg_count = (uint8_t)in->arg_count;
    memcpy(ev->args, in->args, sizeof ev->args);
    enum rs_err rc = RS_OK;
    for (uint32_t i = 0; i < ev->key_count && rc == RS_OK; i++) {
        uint32_t id;
        rc = intern_or_null(h, in->keys[i], &id);
        rc = rc == RS_OK && !item_push(h, id, RS_HIST_NONE, false) ? RS_ENOMEM : rc;
    }
    for (uint32_t i = 0; i < ev->item_count && rc == RS_OK; i++) {
        uint32_t a;
        uint32_t b = RS_HIST_NONE;
        rc = intern_or_null(h, in->items[i].first, &a);
        if (rc == RS_OK && in->items[i].pair) {
            rc = intern_or_null(h, in->items[i].second, &b);
        }
        rc = rc == RS_OK && !item_push(h, a, b, in->items[i].pair) ? RS_ENOMEM : rc;
    }
    return rc;
}

enum rs_err rs_history_add(struct rs_history *history,
                           const struct rs_hist_event_in *event,
                           struct rs_history_error *error)
{
    struct rs_history_error local;
    struct rs_history_error *err = error ? error : &local;
    memset(err, 0, sizeof *err);
    struct rs_hist_event ev = {.process = event->process,
                               .time_ns = event->time_ns,
                               .value = RS_HIST_NONE,
                               .expected = RS_HIST_NONE,
                               .type = (uint8_t)event->type,
                               .f = (uint8_t)event->f,
                               .value_kind = (uint8_t)event->value_kind};
    size_t items_before = history->item_count;
    enum rs_err rc = event->keys != NULL ? RS_OK : intern_str(history, event->key, &ev.key);
    ev.key = event->keys != NULL ? RS_HIST_NONE : ev.key;
    if (rc == RS_OK) {
        rc = add_lists(history, event, &ev);
    }
    if (rc == RS_OK && event->value_kind >= RS_HIST_VALUE_STRING &&
        event->value_kind != RS_HIST_VALUE_LIST) {
        rc = intern_str(history, event->value, &ev.value);
    }
    if (rc == RS_OK && event->value_kind == RS_HIST_VALUE_PAIR) {
        rc = intern_str(history, event->expected, &ev.expected);
    }
    if (rc == RS_OK && event->value_kind > RS_HIST_VALUE_LIST) {
        rc = RS_EINVAL;
    }
    if (rc != RS_OK) {
        history->item_count = items_before;
        set_message(err, "bad key or value: %s", rs_err_message(rc));
        return rc;
    }
    enum hist_field field;
    rc = history_append(history, &ev, err, &field);
    if (rc != RS_OK) {
        history->item_count = items_before;
    }
    return rc;
}

static void format_string(const struct rs_history *h, uint32_t id, struct rs_buf *out)
{
    if (id == RS_HIST_NONE) {
        rs_buf_puts(out, "null");
        return;
    }
    struct rs_hist_str s = rs_history_string(h, id);
    rs_buf_json_str(out, s.data, s.size);
}

static void format_items(const struct rs_history *h, const struct rs_hist_item *items,
                         uint32_t count, struct rs_buf *out)
{
    rs_buf_putc(out, '[');
    for (uint32_t i = 0; i < count; i++) {
        rs_buf_puts(out, i > 0 ? "," : "");
        rs_buf_puts(out, items[i].pair ? "[" : "");
        format_string(h, items[i].first, out);
        if (items[i].pair) {
            rs_buf_putc(out, ',');
            format_string(h, items[i].second, out);
            rs_buf_putc(out, ']');
        }
    }
    rs_buf_putc(out, ']');
}

void rs_history_format_event(const struct rs_history *history, size_t index, struct rs_buf *out)
{
    const struct rs_hist_event *ev = rs_history_event(history, index);
    rs_buf_puts(out, "{\"process\":");
    rs_buf_u64(out, ev->process);
    rs_buf_puts(out, ",\"type\":\"");
    rs_buf_puts(out, rs_hist_type_name(ev->type));
    rs_buf_puts(out, "\",\"f\":\"");
    rs_buf_puts(out, rs_hist_f_name(ev->f));
    rs_buf_puts(out, "\",\"key\":");
    if (ev->key_list) {
        format_items(history, rs_history_keys(history, ev), ev->key_count, out);
    } else {
        format_string(history, ev->key, out);
    }
    switch (ev->value_kind) {
        case RS_HIST_VALUE_LIST:
            rs_buf_puts(out, ",\"value\":");
            format_items(history, rs_history_items(history, ev), ev->item_count, out);
            break;
        case RS_HIST_VALUE_NULL:
            rs_buf_puts(out, ",\"value\":null");
            break;
        case RS_HIST_VALUE_STRING:
            rs_buf_puts(out, ",\"value\":");
            format_string(history, ev->value, out);
            break;
        case RS_HIST_VALUE_PAIR:
            rs_buf_puts(out, ",\"value\":[");
            format_string(history, ev->expected, out);
            rs_buf_putc(out, ',');
            format_string(history, ev->value, out);
            rs_buf_putc(out, ']');
            break;
        default:
            break;
    }
    if (ev->arg_count > 0) {
        rs_buf_puts(out, ",\"args\":[");
        for (uint32_t i = 0; i < ev->arg_count; i++) {
            rs_buf_puts(out, i > 0 ? "," : "");
            rs_buf_i64(out, ev->args[i]);
        }
        rs_buf_putc(out, ']');
    }
    rs_buf_puts(out, ",\"time\":");
    rs_buf_i64(out, ev->time_ns);
    rs_buf_putc(out, '}');
}

enum rs_err rs_history_write(const struct rs_history *history, FILE *file)
{
    struct rs_buf buf;
    rs_buf_init(&buf);
    enum rs_err rc = RS_OK;
    for (size_t i = 0; i < history->event_count && rc == RS_OK; i++) {
        rs_history_format_event(history, i, &buf);
        rs_buf_putc(&buf, '\n');
        if (buf.size >= 65536 || i + 1 == history->event_count) {
            if (fwrite(buf.data, 1, buf.size, file) != buf.size) {
                rc = RS_EIO;
            }
            rs_buf_reset(&buf);
        }
    }
    rs_buf_free(&buf);
    if (rc == RS_OK && fflush(file) != 0) {
        rc = RS_EIO;
    }
    return rc;
}

/* ---- The JSONL reader: a small bounded parser for flat objects, one per line. ---- */

struct parser {
    struct rs_history *h;
    struct rs_history_error *error;
    const char *line;
    size_t size;
    size_t pos;
    uint32_t line_number;
    char *scratch; /* RS_HISTORY_STRING_BYTES_MAX bytes for decoding one string */
    struct rs_hist_item *keys;   /* RS_HISTORY_ITEMS_MAX: a key array being read */
    struct rs_hist_item *values; /* RS_HISTORY_ITEMS_MAX: a value list being read */
};

/* A line's fields as parsed, with the column of each value for later errors. */
struct line_fields {
    bool seen[FIELD_COUNT];
    size_t pos[FIELD_COUNT];
    struct rs_hist_event ev;
    uint32_t value_items; /* items of a list value, in p->values */
};

static enum rs_err parse_error_at(struct parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum rs_err parse_error_at(struct parser *p, size_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error->message, sizeof p->error->message, fmt, ap);
    va_end(ap);
    p->error->line = p->line_number;
    p->error->column = (uint32_t)(pos + 1);
    return RS_ECORRUPT;
}

/* The byte at pos, shown readably in a message. */
static const char *show_byte(const struct parser *p, size_t pos, char *out, size_t size)
{
    if (pos >= p->size) {
        snprintf(out, size, "end of line");
    } else {
        unsigned char c = (unsigned char)p->line[pos];
        if (c >= 0x20 && c < 0x7f) {
            snprintf(out, size, "'%c'", c);
        } else {
            snprintf(out, size, "byte 0x%02x", c);
        }
    }
    return out;
}

static enum rs_err unexpected(struct parser *p, const char *wanted)
{
    char shown[24];
    return parse_error_at(p, p->pos, "expected %s, found %s", wanted,
                          show_byte(p, p->pos, shown, sizeof shown));
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->size) {
        char c = p->line[p->pos];
        if (c != ' ' && c != '\t' && c != '\r') {
            break;
        }
        p->pos++;
    }
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Four hex digits at pos (just after "\u"); -1 when they are not there. */
static int32_t hex4(const struct parser *p, size_t pos)
{
    if (p->size - pos < 4) {
        return -1;
    }
    int32_t v = 0;
    for (size_t i = 0; i < 4; i++) {
        int d = hex_digit(p->line[pos + i]);
        if (d < 0) {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

/* Appends a code point: below 0x100 as one byte (see history.h), above as UTF-8. */
static size_t put_code_point(uint32_t cp, char *out)
{
    if (cp < 0x100) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    RS_ASSERT(cp <= 0x10ffff);
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A \u escape at pos (on the backslash), surrogate pairs included; advances p->pos. */
static enum rs_err parse_unicode_escape(struct parser *p, uint32_t *cp)
{
    size_t start = p->pos;
    int32_t high = hex4(p, start + 2);
    if (high < 0) {
        return parse_error_at(p, start, "\\u needs four hex digits");
    }
    p->pos = start + 6;
    if (high >= 0xdc00 && high <= 0xdfff) {
        return parse_error_at(p, start, "unpaired low surrogate \\u%04x", (unsigned)high);
    }
    if (high < 0xd800 || high > 0xdbff) {
        *cp = (uint32_t)high;
        return RS_OK;
    }
    int32_t low = -1;
    if (p->size - p->pos >= 6 && p->line[p->pos] == '\\' && p->line[p->pos + 1] == 'u') {
        low = hex4(p, p->pos + 2);
    }
    if (low < 0xdc00 || low > 0xdfff) {
        return parse_error_at(p, start, "high surrogate \\u%04x without its low half",
                              (unsigned)high);
    }
    p->pos += 6;
    *cp = 0x10000 + (((uint32_t)high - 0xd800) << 10) + ((uint32_t)low - 0xdc00);
    return RS_OK;
}

/* One escape sequence at pos (on the backslash); its bytes go to out, their count to *n. */
static enum rs_err parse_escape(struct parser *p, char *out, size_t *n)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    if (p->pos + 1 >= p->size) {
        return parse_error_at(p, p->pos, "unterminated string");
    }
    char c = p->line[p->pos + 1];
    const char *hit = c != '\0' ? strchr(from, c) : NULL;
    if (hit != NULL) {
        out[0] = to[hit - from];
        *n = 1;
        p->pos += 2;
        return RS_OK;
    }
    if (c != 'u') {
        return parse_error_at(p, p->pos, "invalid escape \\%c", c >= 0x20 && c < 0x7f ? c : '?');
    }
    uint32_t cp = 0;
    enum rs_err rc = parse_unicode_escape(p, &cp);
    if (rc == RS_OK) {
        *n = put_code_point(cp, out);
    }
    return rc;
}

/* A JSON string at pos (on the quote), decoded into p->scratch; its length goes to *size. */
static enum rs_err parse_string(struct parser *p, size_t *size)
{
    RS_ASSERT(p->line[p->pos] == '"');
    size_t start = p->pos;
    size_t len = 0;
    p->pos++;
    for (;;) {
        if (p->pos >= p->size) {
            return parse_error_at(p, start, "unterminated string");
        }
        unsigned char c = (unsigned char)p->line[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) {
            return parse_error_at(p, p->pos, "control byte 0x%02x inside a string", c);
        }
        char bytes[4];
        size_t n = 1;
        bytes[0] = (char)c;
        if (c == '\\') {
            enum rs_err rc = parse_escape(p, bytes, &n);
            if (rc != RS_OK) {
                return rc;
            }
        } else {
            p->pos++;
        }
        if (len + n > RS_HISTORY_STRING_BYTES_MAX) {
            return parse_error_at(p, start, "string longer than %u bytes",
                                  (unsigned)RS_HISTORY_STRING_BYTES_MAX);
        }
        memcpy(p->scratch + len, bytes, n);
        len += n;
    }
    *size = len;
    return RS_OK;
}

/* A JSON string at pos, interned. */
static enum rs_err parse_interned(struct parser *p, uint32_t *id)
{
    size_t start = p->pos;
    size_t size = 0;
    enum rs_err rc = parse_string(p, &size);
    if (rc != RS_OK) {
        return rc;
    }
    rc = history_intern(p->h, p->scratch, size, id);
    if (rc != RS_OK) {
        return parse_error_at(p, start, "cannot store the string: %s", rs_err_message(rc));
    }
    return RS_OK;
}

/* A JSON integer (no fraction, no exponent, no leading zeros) that fits in int64. */
static enum rs_err parse_int(struct parser *p, const char *field, int64_t *value)
{
    size_t start = p->pos;
    bool negative = p->pos < p->size && p->line[p->pos] == '-';
    p->pos += negative;
    size_t digits = p->pos;
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    while (p->pos < p->size && p->line[p->pos] >= '0' && p->line[p->pos] <= '9') {
        uint64_t d = (uint64_t)(p->line[p->pos] - '0');
        if (v > (limit - d) / 10) {
            return parse_error_at(p, start, "%s does not fit in a 64-bit integer", field);
        }
        v = v * 10 + d;
        p->pos++;
    }
    if (p->pos == digits) {
        return parse_error_at(p, start, "%s must be an integer", field);
    }
    if (p->pos - digits > 1 && p->line[digits] == '0') {
        return parse_error_at(p, start, "%s has a leading zero", field);
    }
    if (p->pos < p->size && strchr(".eE", p->line[p->pos]) != NULL && p->line[p->pos] != '\0') {
        return parse_error_at(p, start, "%s must be an integer", field);
    }
    if (negative) {
        *value = v > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)v;
    } else {
        *value = (int64_t)v;
    }
    return RS_OK;
}

/* "null" at pos. */
static bool parse_null(struct parser *p)
{
    if (p->size - p->pos >= 4 && memcmp(p->line + p->pos, "null", 4) == 0) {
        p->pos += 4;
        return true;
    }
    return false;
}

/* A string or null at pos, as an item string id (RS_HIST_NONE for null). */
static enum rs_err parse_item_string(struct parser *p, bool may_null, const char *wanted,
                                     uint32_t *id)
{
    *id = RS_HIST_NONE;
    if (p->pos < p->size && p->line[p->pos] == '"') {
        return parse_interned(p, id);
    }
    if (may_null && parse_null(p)) {
        return RS_OK;
    }
    return unexpected(p, wanted);
}

/* After an item: ',' (true) or the closing ']' (false, *done set). */
static enum rs_err parse_list_separator(struct parser *p, bool *done)
{
    skip_ws(p);
    if (p->pos < p->size && (p->line[p->pos] == ',' || p->line[p->pos] == ']')) {
        *done = p->line[p->pos] == ']';
        p->pos++;
        skip_ws(p);
        return RS_OK;
    }
    return unexpected(p, "',' or ']'");
}

/* ["a","b"] or ["a",null] inside a list, at pos (on the bracket). */
static enum rs_err parse_item_pair(struct parser *p, struct rs_hist_item *item)
{
    p->pos++;
    skip_ws(p);
    enum rs_err rc = parse_item_string(p, false, "a string in a [pair]", &item->first);
    skip_ws(p);
    if (rc == RS_OK && (p->pos >= p->size || p->line[p->pos] != ',')) {
        rc = unexpected(p, "',' (a pair is [\"first\",\"second\" or null])");
    }
    if (rc == RS_OK) {
        p->pos++;
        skip_ws(p);
        rc = parse_item_string(p, true, "a string or null in a [pair]", &item->second);
    }
    skip_ws(p);
    if (rc == RS_OK && (p->pos >= p->size || p->line[p->pos] != ']')) {
        rc = unexpected(p, "']' (a pair has two items)");
    }
    p->pos += rc == RS_OK;
    item->pair = true;
    return rc;
}

/* An array of strings and nulls (and pairs when pairs is set) at pos (on the bracket). */
static enum rs_err parse_list(struct parser *p, struct rs_hist_item *items, bool pairs,
                              uint32_t *count)
{
    *count = 0;
    p->pos++;
    skip_ws(p);
    if (p->pos < p->size && p->line[p->pos] == ']') {
        p->pos++;
        return RS_OK;
    }
    bool done = false;
    while (!done) {
        if (*count == RS_HISTORY_ITEMS_MAX) {
            return parse_error_at(p, p->pos, "more than %u items", RS_HISTORY_ITEMS_MAX);
        }
        struct rs_hist_item *item = &items[(*count)++];
        *item = (struct rs_hist_item){RS_HIST_NONE, RS_HIST_NONE, false};
        enum rs_err rc = pairs && p->pos < p->size && p->line[p->pos] == '['
                             ? parse_item_pair(p, item)
                             : parse_item_string(p, true,
                                                 pairs ? "a string, null or a [pair] in a list"
                                                       : "a string or null in the key array",
                                                 &item->first);
        if (rc == RS_OK) {
            rc = parse_list_separator(p, &done);
        }
        if (rc != RS_OK) {
            return rc;
        }
    }
    return RS_OK;
}

static enum rs_err parse_value_field(struct parser *p, struct line_fields *lf)
{
    struct rs_hist_event *ev = &lf->ev;
    char c = p->pos < p->size ? p->line[p->pos] : '\0';
    if (c == '"') {
        ev->value_kind = RS_HIST_VALUE_STRING;
        return parse_interned(p, &ev->value);
    }
    if (c == '[') {
        ev->value_kind = RS_HIST_VALUE_LIST; /* cas's pair is told apart once f is known */
        return parse_list(p, p->values, true, &lf->value_items);
    }
    if (parse_null(p)) {
        ev->value_kind = RS_HIST_VALUE_NULL;
        return RS_OK;
    }
    return unexpected(p, "a string, null or [\"expected\",\"new\"] for value");
}

/* "args": an array of at most RS_HIST_ARGS_MAX integers. */
static enum rs_err parse_args(struct parser *p, struct rs_hist_event *ev)
{
    if (p->pos >= p->size || p->line[p->pos] != '[') {
        return unexpected(p, "an array of integers for args");
    }
    p->pos++;
    skip_ws(p);
    bool done = p->pos < p->size && p->line[p->pos] == ']';
    p->pos += done;
    while (!done) {
        if (ev->arg_count == RS_HIST_ARGS_MAX) {
            return parse_error_at(p, p->pos, "more than %u args", RS_HIST_ARGS_MAX);
        }
        enum rs_err rc = parse_int(p, "an arg", &ev->args[ev->arg_count++]);
        if (rc == RS_OK) {
            rc = parse_list_separator(p, &done);
        }
        if (rc != RS_OK) {
            return rc;
        }
    }
    return RS_OK;
}

/* "type" or "f": a string naming one of a few words. */
static enum rs_err parse_name_field(struct parser *p, enum hist_field field, uint8_t *out)
{
    size_t start = p->pos;
    if (p->pos >= p->size || p->line[p->pos] != '"') {
        return unexpected(p, field == FIELD_TYPE ? "a string for type" : "a string for f");
    }
    size_t size = 0;
    enum rs_err rc = parse_string(p, &size);
    if (rc != RS_OK) {
        return rc;
    }
    int v = field == FIELD_TYPE ? type_parse(p->scratch, size) : f_parse(p->scratch, size);
    if (v < 0) {
        return parse_error_at(p, start,
                              field == FIELD_TYPE
                                  ? "unknown type (invoke, ok, fail or info)"
                                  : "unknown f (get, put, delete, cas, put_if_absent, "
                                    "get_and_put or one of the later operations)");
    }
    *out = (uint8_t)v;
    return RS_OK;
}

static enum rs_err parse_field(struct parser *p, enum hist_field field, struct line_fields *lf)
{
    struct rs_hist_event *ev = &lf->ev;
    int64_t number = 0;
    enum rs_err rc = RS_OK;
    switch (field) {
        case FIELD_PROCESS:
            rc = parse_int(p, "process", &number);
            if (rc == RS_OK && number < 0) {
                rc = parse_error_at(p, lf->pos[field], "process must not be negative");
            }
            ev->process = (uint64_t)number;
            return rc;
        case FIELD_TIME:
            return parse_int(p, "time", &ev->time_ns);
        case FIELD_TYPE:
            return parse_name_field(p, field, &ev->type);
        case FIELD_F:
            return parse_name_field(p, field, &ev->f);
        case FIELD_KEY:
            if (p->pos < p->size && p->line[p->pos] == '[') {
                ev->key_list = true;
                return parse_list(p, p->keys, false, &ev->key_count);
            }
            if (p->pos >= p->size || p->line[p->pos] != '"') {
                return unexpected(p, "a string for key");
            }
            return parse_interned(p, &ev->key);
        case FIELD_VALUE:
            return parse_value_field(p, lf);
        case FIELD_ARGS:
            return parse_args(p, ev);
        default:
            RS_UNREACHABLE();
    }
}

/* `"name":` at pos; the field it names goes to *field. */
static enum rs_err parse_field_name(struct parser *p,
                                    const struct line_fields *lf,
                                    enum hist_field *field)
{
    size_t start = p->pos;
    if (p->pos >= p->size || p->line[p->pos] != '"') {
        return unexpected(p, "'\"' to start a field name");
    }
    size_t size = 0;
    enum rs_err rc = parse_string(p, &size);
    if (rc != RS_OK) {
        return rc;
    }
    int found = -1;
    for (int i = 0; i < FIELD_COUNT; i++) {
        if (strlen(field_names[i]) == size && memcmp(field_names[i], p->scratch, size) == 0) {
            found = i;
        }
    }
    if (found < 0) {
        return parse_error_at(p, start,
                              "unknown field (expected process, type, f, key, value, "
                              "args or time)");
    }
    if (lf->seen[found]) {
        return parse_error_at(p, start, "field \"%s\" appears twice", field_names[found]);
    }
    skip_ws(p);
    if (p->pos >= p->size || p->line[p->pos] != ':') {
        return unexpected(p, "':'");
    }
    p->pos++;
    skip_ws(p);
    *field = (enum hist_field)found;
    return RS_OK;
}

/* The object's fields, from just after '{' to just after '}'. */
static enum rs_err parse_object(struct parser *p, struct line_fields *lf)
{
    skip_ws(p);
    if (p->pos < p->size && p->line[p->pos] == '}') {
        p->pos++;
        return RS_OK;
    }
    for (int count = 0; count < FIELD_COUNT; count++) {
        enum hist_field field;
        enum rs_err rc = parse_field_name(p, lf, &field);
        if (rc != RS_OK) {
            return rc;
        }
        lf->seen[field] = true;
        lf->pos[field] = p->pos;
        rc = parse_field(p, field, lf);
        if (rc != RS_OK) {
            return rc;
        }
        skip_ws(p);
        if (p->pos < p->size && p->line[p->pos] == '}') {
            p->pos++;
            return RS_OK;
        }
        if (p->pos >= p->size || p->line[p->pos] != ',') {
            return unexpected(p, "',' or '}'");
        }
        p->pos++;
        skip_ws(p);
    }
    /* Every distinct field was read and one more follows: it is a duplicate or unknown. */
    enum hist_field field;
    enum rs_err rc = parse_field_name(p, lf, &field);
    RS_ASSERT(rc != RS_OK);
    return rc;
}

/*
 * Moves a line's key array and value list into the history's items (keys first), and turns
 * a cas value of exactly two strings into its pair.
 */
static enum rs_err line_lists(struct parser *p, struct line_fields *lf)
{
    struct rs_hist_event *ev = &lf->ev;
    const struct rs_hist_item *v = p->values;
    if (ev->f < RS_HIST_F_SIMPLE_COUNT && ev->value_kind == RS_HIST_VALUE_LIST &&
        lf->value_items == 2 && !v[0].pair && !v[1].pair && v[0].first != RS_HIST_NONE &&
        v[1].first != RS_HIST_NONE) {
        ev->value_kind = RS_HIST_VALUE_PAIR;
        ev->expected = v[0].first;
        ev->value = v[1].first;
        lf->value_items = 0;
    }
    ev->key = ev->key_list ? RS_HIST_NONE : ev->key;
    ev->items_start = (uint32_t)p->h->item_count;
    ev->item_count = ev->value_kind == RS_HIST_VALUE_LIST ? lf->value_items : 0;
    if (ev->key_count + ev->item_count > RS_HISTORY_ITEMS_MAX) {
        return parse_error_at(p, lf->pos[FIELD_VALUE], "more than %u items in one line",
                              RS_HISTORY_ITEMS_MAX);
    }
    for (uint32_t i = 0; i < ev->key_count + ev->item_count; i++) {
        const struct rs_hist_item *it = i < ev->key_count ? &p->keys[i] : &v[i - ev->key_count];
        if (!item_push(p->h, it->first, it->second, it->pair)) {
            return parse_error_at(p, 0, "out of memory");
        }
    }
    return RS_OK;
}

/* One non-blank line: the object, then the checks shared with the recorder. */
static enum rs_err parse_line(struct parser *p)
{
    struct line_fields lf;
    memset(&lf, 0, sizeof lf);
    lf.ev.value = RS_HIST_NONE;
    lf.ev.expected = RS_HIST_NONE;
    lf.ev.value_kind = RS_HIST_VALUE_NONE;
    lf.ev.line = p->line_number;
    skip_ws(p);
    if (p->pos >= p->size || p->line[p->pos] != '{') {
        return unexpected(p, "'{'");
    }
    p->pos++;
    enum rs_err rc = parse_object(p, &lf);
    if (rc != RS_OK) {
        return rc;
    }
    size_t close = p->pos - 1;
    skip_ws(p);
    if (p->pos < p->size) {
        return unexpected(p, "the end of the line after the object");
    }
    for (int i = 0; i < FIELD_COUNT; i++) {
        if (!lf.seen[i] && i != FIELD_VALUE && i != FIELD_ARGS) {
            return parse_error_at(p, close, "missing field \"%s\"", field_names[i]);
        }
        if (!lf.seen[i]) {
            lf.pos[i] = close;
        }
    }
    size_t items_before = p->h->item_count;
    rc = line_lists(p, &lf);
    if (rc != RS_OK) {
        return rc;
    }
    enum hist_field bad = FIELD_PROCESS;
    rc = history_append(p->h, &lf.ev, p->error, &bad);
    if (rc != RS_OK) {
        p->h->item_count = items_before;
        RS_ASSERT(bad < FIELD_COUNT);
        p->error->line = p->line_number;
        p->error->column = (uint32_t)(lf.pos[bad] + 1);
        return rc == RS_EINVAL ? RS_ECORRUPT : rc;
    }
    return RS_OK;
}

enum rs_err rs_history_parse(struct rs_history *history,
                             const char *text,
                             size_t size,
                             struct rs_history_error *error)
{
    struct rs_history_error local;
    struct parser p = {.h = history, .error = error ? error : &local};
    memset(p.error, 0, sizeof *p.error);
    if (size > RS_HISTORY_FILE_BYTES_MAX) {
        set_message(p.error, "input larger than %zu bytes", (size_t)RS_HISTORY_FILE_BYTES_MAX);
        return RS_ETOOBIG;
    }
    p.scratch = malloc(RS_HISTORY_STRING_BYTES_MAX);
    p.keys = malloc(RS_HISTORY_ITEMS_MAX * sizeof *p.keys);
    p.values = malloc(RS_HISTORY_ITEMS_MAX * sizeof *p.values);
    if (p.scratch == NULL || p.keys == NULL || p.values == NULL) {
        free(p.scratch);
        free(p.keys);
        free(p.values);
        set_message(p.error, "out of memory");
        return RS_ENOMEM;
    }
    enum rs_err rc = RS_OK;
    size_t start = 0;
    while (start < size && rc == RS_OK) {
        const char *nl = memchr(text + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - text) : size;
        p.line = text + start;
        p.size = end - start;
        p.pos = 0;
        p.line_number++;
        if (p.size > RS_HISTORY_LINE_BYTES_MAX) {
            rc = parse_error_at(&p, RS_HISTORY_LINE_BYTES_MAX, "line longer than %u bytes",
                                (unsigned)RS_HISTORY_LINE_BYTES_MAX);
            break;
        }
        skip_ws(&p);
        if (p.pos < p.size) {
            rc = parse_line(&p);
        }
        start = end + 1;
    }
    free(p.scratch);
    free(p.keys);
    free(p.values);
    return rc;
}

enum rs_err rs_history_load(struct rs_history *history, FILE *file, struct rs_history_error *error)
{
    struct rs_history_error local;
    struct rs_history_error *err = error ? error : &local;
    memset(err, 0, sizeof *err);
    char *text = NULL;
    size_t size = 0;
    size_t cap = 0;
    enum rs_err rc = RS_OK;
    for (;;) {
        if (!grow((void **)&text, &cap, size + 65536, 1)) {
            rc = RS_ENOMEM;
            set_message(err, "out of memory");
            break;
        }
        size_t n = fread(text + size, 1, cap - size, file);
        size += n;
        if (n == 0 || size > RS_HISTORY_FILE_BYTES_MAX) {
            break;
        }
    }
    if (rc == RS_OK && ferror(file)) {
        rc = RS_EIO;
        set_message(err, "read error");
    }
    if (rc == RS_OK) {
        rc = rs_history_parse(history, text, size, err);
    }
    free(text);
    return rc;
}

/* ---- A generator of correct histories, for tests and benchmarks. ---- */

/* splitmix64: small, fast and good enough to draw workloads. */
static uint64_t gen_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t gen_below(uint64_t *state, uint64_t bound)
{
    RS_ASSERT(bound > 0);
    return gen_next(state) % bound;
}

static bool gen_ppm(uint64_t *state, uint32_t ppm)
{
    return gen_below(state, 1000000) < ppm;
}

/* One generated operation. Values are numbers: v<n>; -1 is absent (null). */
struct gen_op {
    int64_t invoke_ns;
    int64_t effect_ns;
    int64_t return_ns;
    uint64_t process;
    uint32_t index;
    uint32_t key;
    uint8_t f;
    uint8_t outcome;  /* RS_HIST_OK, RS_HIST_FAIL or RS_HIST_INFO */
    bool effect;      /* takes effect at effect_ns */
    bool completed;   /* has a completion line (an info may have none) */
    int64_t written;  /* put, cas new, put_if_absent, get_and_put */
    int64_t expected; /* cas */
    int64_t read;     /* get, get_and_put ok: what was there */
};

void rs_history_gen_defaults(struct rs_history_gen_options *options)
{
    memset(options, 0, sizeof *options);
    options->seed = 1;
    options->op_count = 1000;
    options->key_count = 10;
    options->client_count = 8;
    options->mix_ppm[RS_HIST_GET] = 400000;
    options->mix_ppm[RS_HIST_PUT] = 250000;
    options->mix_ppm[RS_HIST_DELETE] = 50000;
    options->mix_ppm[RS_HIST_CAS] = 200000;
    options->mix_ppm[RS_HIST_PUT_IF_ABSENT] = 50000;
    options->mix_ppm[RS_HIST_GET_AND_PUT] = 50000;
    options->info_ppm = 10000;
    options->fail_ppm = 5000;
    options->latency_ns_max = 2000000;
    options->think_ns_max = 500000;
}

static uint8_t gen_pick_f(uint64_t *rng, const struct rs_history_gen_options *o)
{
    uint64_t total = 0;
    /* The generator models the single-key operations only. */
    for (int i = 0; i < RS_HIST_F_SIMPLE_COUNT; i++) {
        total += o->mix_ppm[i];
    }
    uint64_t x = gen_below(rng, total ? total : 1);
    for (int i = 0; i < RS_HIST_F_SIMPLE_COUNT; i++) {
        if (x < o->mix_ppm[i]) {
            return (uint8_t)i;
        }
        x -= o->mix_ppm[i];
    }
    return RS_HIST_GET;
}

/* Times, clients and kinds: everything that does not depend on the register's state. */
static void gen_shape(struct gen_op *ops,
                      const struct rs_history_gen_options *o,
                      uint64_t *rng,
                      int64_t *client_free_ns,
                      uint64_t *client_process)
{
    uint64_t next_process = o->client_count;
    int64_t lat = o->latency_ns_max > 0 ? o->latency_ns_max : 1;
    for (uint32_t i = 0; i < o->op_count; i++) {
        uint32_t c = 0;
        for (uint32_t j = 1; j < o->client_count; j++) {
            c = client_free_ns[j] < client_free_ns[c] ? j : c;
        }
        struct gen_op *op = &ops[i];
        op->index = i;
        op->process = client_process[c];
        op->key = (uint32_t)gen_below(rng, o->key_count);
        op->f = gen_pick_f(rng, o);
        op->invoke_ns = client_free_ns[c] + (int64_t)gen_below(rng, (uint64_t)o->think_ns_max + 1);
        op->effect_ns = op->invoke_ns + (int64_t)gen_below(rng, (uint64_t)lat + 1);
        op->return_ns = op->effect_ns + (int64_t)gen_below(rng, (uint64_t)lat + 1);
        op->outcome = RS_HIST_OK;
        op->effect = true;
        op->completed = true;
        if (gen_ppm(rng, o->info_ppm)) {
            /* Unknown outcome: it may take effect late, after the client gave up, or never. */
            op->outcome = RS_HIST_INFO;
            op->effect = gen_below(rng, 2) == 0;
            op->effect_ns = op->invoke_ns + (int64_t)gen_below(rng, 4 * (uint64_t)lat + 1);
            op->completed = gen_below(rng, 2) == 0;
            client_process[c] = next_process++; /* the process is gone: Jepsen's convention */
        } else if (op->f != RS_HIST_GET && gen_ppm(rng, o->fail_ppm)) {
            op->outcome = RS_HIST_FAIL;
            op->effect = false;
        }
        client_free_ns[c] = op->return_ns;
    }
}

static int compare_effect(const void *a, const void *b)
{
    const struct gen_op *x = *(const struct gen_op *const *)a;
    const struct gen_op *y = *(const struct gen_op *const *)b;
    if (x->effect_ns != y->effect_ns) {
        return x->effect_ns < y->effect_ns ? -1 : 1;
    }
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Runs the operations against one register per key in effect order and fills in results. */
static void gen_apply(struct gen_op **order,
                      const struct rs_history_gen_options *o,
                      uint64_t *rng,
                      int64_t *current)
{
    for (uint32_t i = 0; i < o->op_count; i++) {
        struct gen_op *op = order[i];
        int64_t *cur = &current[op->key];
        /* Position in effect order names a fresh value; an alphabet makes values repeat. */
        op->written = o->value_alphabet ? (int64_t)gen_below(rng, o->value_alphabet) : (int64_t)i;
        op->read = *cur;
        if (op->f == RS_HIST_CAS) {
            bool hit = *cur >= 0 && gen_below(rng, 3) != 0;
            op->expected = hit ? *cur : (int64_t)gen_below(rng, (uint64_t)i + 1);
            if (op->expected != *cur && op->outcome == RS_HIST_OK) {
                op->outcome = RS_HIST_FAIL; /* the store answered "not the expected value" */
                op->effect = false;
            }
        }
        if (op->f == RS_HIST_PUT_IF_ABSENT && *cur >= 0 && op->outcome == RS_HIST_OK) {
            op->outcome = RS_HIST_FAIL;
            op->effect = false;
        }
        if (!op->effect || op->f == RS_HIST_GET) {
            continue;
        }
        if (op->f == RS_HIST_DELETE) {
            *cur = -1;
        } else if ((op->f != RS_HIST_CAS || op->expected == *cur) &&
                   (op->f != RS_HIST_PUT_IF_ABSENT || *cur < 0)) {
            *cur = op->written;
        }
    }
}

/* An event to emit: op index times two, plus one for the completion. */
struct gen_event {
    int64_t time_ns;
    uint32_t code;
};

static int compare_gen_event(const void *a, const void *b)
{
    const struct gen_event *x = a;
    const struct gen_event *y = b;
    if (x->time_ns != y->time_ns) {
        return x->time_ns < y->time_ns ? -1 : 1;
    }
    /* Completions first at equal times, so a process's next invoke follows its completion. */
    uint32_t xc = !(x->code & 1);
    uint32_t yc = !(y->code & 1);
    if (xc != yc) {
        return xc < yc ? -1 : 1;
    }
    return x->code < y->code ? -1 : x->code > y->code;
}

static struct rs_hist_str gen_name(char *buf, size_t size, char prefix, int64_t n)
{
    int len = snprintf(buf, size, "%c%lld", prefix, (long long)n);
    RS_ASSERT(len > 0 && (size_t)len < size);
    struct rs_hist_str s = {buf, (size_t)len};
    return s;
}

static enum rs_err gen_emit_one(struct rs_history *h, const struct gen_op *op, bool completion)
{
    char kbuf[24], vbuf[24], ebuf[24];
    struct rs_hist_event_in in = {.process = op->process,
                                  .f = (enum rs_hist_f)op->f,
                                  .key = gen_name(kbuf, sizeof kbuf, 'k', op->key)};
    in.type = completion ? (enum rs_hist_type)op->outcome : RS_HIST_INVOKE;
    in.time_ns = completion ? op->return_ns : op->invoke_ns;
    in.value_kind = RS_HIST_VALUE_NONE;
    bool writes =
        op->f == RS_HIST_PUT || op->f == RS_HIST_PUT_IF_ABSENT || op->f == RS_HIST_GET_AND_PUT;
    bool reads = op->f == RS_HIST_GET || op->f == RS_HIST_GET_AND_PUT;
    if (op->f == RS_HIST_CAS && (!completion || op->outcome != RS_HIST_INFO)) {
        in.value_kind = RS_HIST_VALUE_PAIR;
        in.expected = gen_name(ebuf, sizeof ebuf, 'v', op->expected);
        in.value = gen_name(vbuf, sizeof vbuf, 'v', op->written);
    } else if (writes && !completion) {
        in.value_kind = RS_HIST_VALUE_STRING;
        in.value = gen_name(vbuf, sizeof vbuf, 'v', op->written);
    } else if (reads && completion && op->outcome == RS_HIST_OK) {
        in.value_kind = op->read < 0 ? RS_HIST_VALUE_NULL : RS_HIST_VALUE_STRING;
        in.value = gen_name(vbuf, sizeof vbuf, 'v', op->read);
    }
    return rs_history_add(h, &in, NULL);
}

static enum rs_err gen_emit(struct rs_history *h, const struct gen_op *ops, uint32_t count)
{
    struct gen_event *events = calloc((size_t)count * 2 + 1, sizeof *events);
    if (events == NULL) {
        return RS_ENOMEM;
    }
    size_t n = 0;
    for (uint32_t i = 0; i < count; i++) {
        events[n++] = (struct gen_event){ops[i].invoke_ns, i * 2};
        if (ops[i].completed) {
            events[n++] = (struct gen_event){ops[i].return_ns, i * 2 + 1};
        }
    }
    qsort(events, n, sizeof *events, compare_gen_event);
    enum rs_err rc = RS_OK;
    for (size_t i = 0; i < n && rc == RS_OK; i++) {
        rc = gen_emit_one(h, &ops[events[i].code / 2], events[i].code & 1);
    }
    free(events);
    return rc;
}

enum rs_err rs_history_generate(struct rs_history *history,
                                const struct rs_history_gen_options *options)
{
    const struct rs_history_gen_options *o = options;
    if (o->op_count == 0 || o->key_count == 0 || o->client_count == 0 ||
        o->op_count > RS_HISTORY_EVENTS_MAX / 2 || o->latency_ns_max < 0 || o->think_ns_max < 0) {
        return RS_EINVAL;
    }
    struct gen_op *ops = calloc(o->op_count, sizeof *ops);
    struct gen_op **order = calloc(o->op_count, sizeof *order);
    int64_t *client_free_ns = calloc(o->client_count, sizeof *client_free_ns);
    uint64_t *client_process = calloc(o->client_count, sizeof *client_process);
    int64_t *current = calloc(o->key_count, sizeof *current);
    enum rs_err rc = RS_ENOMEM;
    if (ops && order && client_free_ns && client_process && current) {
        uint64_t rng = o->seed;
        for (uint32_t c = 0; c < o->client_count; c++) {
            client_process[c] = c;
        }
        for (uint32_t k = 0; k < o->key_count; k++) {
            current[k] = -1;
        }
        gen_shape(ops, o, &rng, client_free_ns, client_process);
        for (uint32_t i = 0; i < o->op_count; i++) {
            order[i] = &ops[i];
        }
        qsort(order, o->op_count, sizeof *order, compare_effect);
        gen_apply(order, o, &rng, current);
        rc = gen_emit(history, ops, o->op_count);
    }
    free(ops);
    free(order);
    free(client_free_ns);
    free(client_process);
    free(current);
    return rc;
}
