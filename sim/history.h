/* Client histories: the in-memory recorder, the history.jsonl reader and writer, a generator. */
#ifndef RS_SIM_HISTORY_H
#define RS_SIM_HISTORY_H

#include "core/base.h"
#include "reports/json.h"

#include <stdio.h>

/*
 * The format, one JSON object per line:
 *   {"process":0,"type":"invoke","f":"put","key":"k","value":"v","time":120}
 * Fields (each at most once, in any order, no others): process (integer >= 0), type (invoke |
 * ok | fail | info), f (the names below), key (a string, or for the multi-key operations an
 * array), value (see below; may be left out where it says "none"), args (an array of at most
 * four integers, where the table below names them; otherwise left out), time (integer, may be
 * negative). All but value and args are required.
 *
 *   f              invoke          ok                   fail / info
 *   get            none or null    null or the read     none or null
 *   put            the string      none or the same     none or the same
 *   delete         none or null    none or null         none or null
 *   cas            ["exp","new"]   the same pair        the same pair (info: or none)
 *   put_if_absent  the string      none or the same     none or the same
 *   get_and_put    the string      null or the previous none or null
 *
 * The later operations (RheaKV's API). Lists are JSON arrays; a multi-key operation names its
 * keys in "key" as an array, and its values in "value" in the same order:
 *   f               key           invoke value / args            ok value / args
 *   multi_get       [k, ...]      none                           [v|null, ...] (a prefix of
 *                                                                the keys when truncated)
 *   contains_key    k             none                           args [found 0|1]
 *   scan,           [start,       args [limit, keys_only 0|1]    [[k, v|null], ...] (null:
 *   reverse_scan     end|null]                                   keys_only), args [truncated]
 *   batch_put       [k, ...]      [v, ...]                       none or the same
 *   batch_delete    [k, ...]      none                           none
 *   cas_all         [k, ...]      [["exp","new"], ...]           none or the same
 *   merge           k             the string appended            none or the same
 *   delete_range    [start, end|null]  none                      none
 *   get_sequence    k             args [step]                    args [start, end]
 *   reset_sequence  k             none                           none
 *   lock            k             fencing key, args [acquirer,   args [success 0|1, holder,
 *                                 lease_ms, timestamp_ms]        token, acquires]
 *   unlock          k             args [acquirer]                args [success 0|1, holder]
 * fail and info completions carry no args and, for writes, none or the invoke's value. end
 * null is an unbounded range; scan's limit 0 means the store's largest. A sequence and a lock
 * named k are not the data key k (separate spaces); the fencing key is a data key.
 *
 * A process has at most one operation outstanding: its invoke is completed by its next ok, fail
 * or info, which repeats f and key. Time never goes backwards within a process (a completion is
 * not earlier than its invoke, an invoke not earlier than the process's previous event); lines
 * of different processes may come in any time order (merged client logs are accepted).
 * Blank lines are skipped. Strings are byte strings: \u0000..\u00ff decode to that one byte
 * (reports/json.h writes each non-ASCII byte that way, so files round-trip), higher code points
 * and surrogate pairs decode to UTF-8, raw non-ASCII bytes are kept as they are.
 */

enum rs_hist_type { RS_HIST_INVOKE, RS_HIST_OK, RS_HIST_FAIL, RS_HIST_INFO };

/* In the order of the KV opcodes: f = opcode - 1. */
enum rs_hist_f {
    RS_HIST_GET,
    RS_HIST_PUT,
    RS_HIST_DELETE,
    RS_HIST_CAS,
    RS_HIST_PUT_IF_ABSENT,
    RS_HIST_GET_AND_PUT,
    RS_HIST_MULTI_GET,
    RS_HIST_CONTAINS_KEY,
    RS_HIST_SCAN,
    RS_HIST_REVERSE_SCAN,
    RS_HIST_BATCH_PUT,
    RS_HIST_BATCH_DELETE,
    RS_HIST_CAS_ALL,
    RS_HIST_MERGE,
    RS_HIST_DELETE_RANGE,
    RS_HIST_GET_SEQUENCE,
    RS_HIST_RESET_SEQUENCE,
    RS_HIST_LOCK,
    RS_HIST_UNLOCK
};
#define RS_HIST_F_COUNT 19
/* The operations of the first format (one key, no args). */
#define RS_HIST_F_SIMPLE_COUNT 6

/*
 * What the "value" field held: left out, null, one string, cas's ["expected","new"], or a
 * list (of strings and nulls, or of pairs) for the later operations.
 */
enum rs_hist_value_kind {
    RS_HIST_VALUE_NONE,
    RS_HIST_VALUE_NULL,
    RS_HIST_VALUE_STRING,
    RS_HIST_VALUE_PAIR,
    RS_HIST_VALUE_LIST
};
#define RS_HIST_ARGS_MAX 4u
/* Keys plus value items of one event. */
#define RS_HISTORY_ITEMS_MAX 4096u

/* "No event" / "no string". */
#define RS_HIST_NONE UINT32_MAX

/* Bounds: anything larger is rejected with an error, never truncated. */
#define RS_HISTORY_LINE_BYTES_MAX   (1u << 20)
#define RS_HISTORY_STRING_BYTES_MAX (1u << 16)
#define RS_HISTORY_EVENTS_MAX       (1u << 28)
#define RS_HISTORY_FILE_BYTES_MAX   ((size_t)1 << 31)
#define RS_HISTORY_PROCESS_MAX      ((uint64_t)INT64_MAX)

/* A byte string the callee does not own; data == NULL is JSON null. */
struct rs_hist_str {
    const char *data;
    size_t size;
};

/* One list item: a string or null (first.data NULL), or a pair when pair is set. */
struct rs_hist_item_in {
    struct rs_hist_str first;
    struct rs_hist_str second;
    bool pair;
};

/*
 * One event as a recorder hands it in. expected is used only by cas (value is then "new").
 * A multi-key operation gives keys/key_count (and key is unused); a LIST value gives
 * items/item_count.
 */
struct rs_hist_event_in {
    uint64_t process;
    enum rs_hist_type type;
    enum rs_hist_f f;
    struct rs_hist_str key;
    enum rs_hist_value_kind value_kind;
    struct rs_hist_str value;
    struct rs_hist_str expected;
    int64_t time_ns;
    const struct rs_hist_str *keys;
    uint32_t key_count;
    const struct rs_hist_item_in *items;
    uint32_t item_count;
    int64_t args[RS_HIST_ARGS_MAX];
    uint32_t arg_count;
};

/* A stored list item: string ids (RS_HIST_NONE is null); second is RS_HIST_NONE unless pair. */
struct rs_hist_item {
    uint32_t first;
    uint32_t second;
    bool pair;
};

/* One stored event. Strings are interned: equal bytes give equal ids. */
struct rs_hist_event {
    uint64_t process;
    int64_t time_ns;
    uint32_t key;       /* string id */
    uint32_t value;     /* string id for STRING, the new value for PAIR, else RS_HIST_NONE */
    uint32_t expected;  /* string id for PAIR, else RS_HIST_NONE */
    uint32_t line;      /* 1-based line in the loaded text, 0 when recorded in memory */
    uint32_t partner;   /* the invoke's completion or the completion's invoke, or RS_HIST_NONE */
    uint8_t type;       /* enum rs_hist_type */
    uint8_t f;          /* enum rs_hist_f */
    uint8_t value_kind; /* enum rs_hist_value_kind */
    bool key_list;      /* key was an array: keys are items[items_start ..] */
    uint8_t arg_count;
    uint32_t items_start; /* into rs_history_items: the key_count keys, then the value items */
    uint32_t key_count;
    uint32_t item_count;
    int64_t args[RS_HIST_ARGS_MAX];
};

/* Where and why input was rejected. line and column are 1-based (0 when recorded). */
struct rs_history_error {
    uint32_t line;
    uint32_t column;
    char message[192];
};

struct rs_history;

struct rs_history *rs_history_new(void);
void rs_history_free(struct rs_history *history);

/*
 * Appends one event after checking it like a loaded line. RS_EINVAL (with error filled in, if
 * given) when the event breaks a rule; the history is then unchanged. RS_ENOMEM, RS_ETOOBIG.
 */
enum rs_err rs_history_add(struct rs_history *history,
                           const struct rs_hist_event_in *event,
                           struct rs_history_error *error);

/*
 * Parses JSONL text and appends its events. RS_ECORRUPT with line, column and message on the
 * first bad line (the events before it stay appended); RS_ENOMEM; RS_ETOOBIG past a bound.
 */
enum rs_err rs_history_parse(struct rs_history *history,
                             const char *text,
                             size_t size,
                             struct rs_history_error *error);
/* Reads the whole file and parses it; RS_EIO when it cannot be read. */
enum rs_err rs_history_load(struct rs_history *history, FILE *file, struct rs_history_error *error);

size_t rs_history_event_count(const struct rs_history *history);
const struct rs_hist_event *rs_history_event(const struct rs_history *history, size_t index);
struct rs_hist_str rs_history_string(const struct rs_history *history, uint32_t id);
/* The id of a string already in the history, or RS_HIST_NONE. */
uint32_t rs_history_find_string(const struct rs_history *history, const char *data, size_t size);
/* An event's keys (key_count of them) and value items (item_count). */
const struct rs_hist_item *rs_history_keys(const struct rs_history *history,
                                           const struct rs_hist_event *ev);
const struct rs_hist_item *rs_history_items(const struct rs_history *history,
                                            const struct rs_hist_event *ev);
uint32_t rs_history_string_count(const struct rs_history *history);

/* One event as its JSON object, without the newline, appended to out. */
void rs_history_format_event(const struct rs_history *history, size_t index, struct rs_buf *out);
/* Every event, one line each (this is history.jsonl). RS_EIO on a write error. */
enum rs_err rs_history_write(const struct rs_history *history, FILE *file);

const char *rs_hist_type_name(enum rs_hist_type type);
const char *rs_hist_f_name(enum rs_hist_f f);

/*
 * A synthetic history of a correct store: clients run operations against one register per key,
 * each taking effect at a point inside its interval (an unknown-outcome operation may take
 * effect later or never). Deterministic for a given options struct. Used by tests and bench.
 */
struct rs_history_gen_options {
    uint64_t seed;
    uint32_t op_count;
    uint32_t key_count;
    uint32_t client_count;
    /* Mix in parts per million, indexed by enum rs_hist_f; need not sum to a million. */
    uint32_t mix_ppm[RS_HIST_F_COUNT];
    uint32_t info_ppm;       /* outcome unknown (recorded as info or left without completion) */
    uint32_t fail_ppm;       /* a blind write that definitely failed */
    uint32_t value_alphabet; /* 0: every written value unique; n: values drawn from n names */
    int64_t latency_ns_max;  /* invoke to effect and effect to completion, each at most */
    int64_t think_ns_max;    /* pause between a client's operations */
};

void rs_history_gen_defaults(struct rs_history_gen_options *options);
enum rs_err rs_history_generate(struct rs_history *history,
                                const struct rs_history_gen_options *options);

#endif
