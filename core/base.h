/* Shared vocabulary of the engine: integer types, assertions, error codes. */
#ifndef RS_CORE_BASE_H
#define RS_CORE_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Time inside the engine is node-local monotonic nanoseconds, stamped by the host. */
typedef uint64_t rs_time_ns;
typedef uint64_t rs_index;
typedef uint64_t rs_term;
/* Node ids are small integers 1..RS_NODES_MAX; 0 means "none". */
typedef uint32_t rs_node_id;

#define RS_NODE_NONE 0u

#define RS_NS_PER_US 1000ull
#define RS_NS_PER_MS 1000000ull
#define RS_NS_PER_S  1000000000ull

/*
 * Assertions stay on in every build: an assertion failure in the simulator is a found bug.
 * The host provides rs_assert_fail (the simulator prints the seed and the event, then aborts),
 * so the engine itself does no I/O.
 */
_Noreturn void rs_assert_fail(const char *expr, const char *file, int line);

#define RS_ASSERT(cond) ((cond) ? (void)0 : rs_assert_fail(#cond, __FILE__, __LINE__))
#define RS_UNREACHABLE() rs_assert_fail("unreachable", __FILE__, __LINE__)

/* Error codes: one X-macro gives each its name and its message. */
#define RS_ERRNO_MAP(X)                                                   \
    X(OK, "ok")                                                           \
    X(NOTLEADER, "not the leader")                                        \
    X(BUSY, "busy, try again later")                                      \
    X(NOMEM, "out of memory")                                             \
    X(CORRUPT, "corrupt data")                                            \
    X(IO, "disk I/O error")                                               \
    X(INVAL, "invalid argument")                                          \
    X(TIMEDOUT, "timed out")                                              \
    X(STALE, "stale request")                                             \
    X(AGAIN, "not ready yet, try again")                                  \
    X(NOSPACE, "no space left")                                           \
    X(NOTFOUND, "not found")                                              \
    X(TOOBIG, "too big")                                                  \
    X(SHUTDOWN, "node is shut down or in error")                          \
    X(TRUNCATED, "truncated data")                                        \
    X(TERMCHANGED, "term changed before the operation finished")        \
    X(NOREGION, "no such region on this store")                         \
    X(EPOCH, "stale region epoch")                                      \
    X(KEYRANGE, "key outside the region's range")

enum rs_err {
#define RS_ERR_ENUM(name, msg) RS_E##name,
    RS_ERRNO_MAP(RS_ERR_ENUM)
#undef RS_ERR_ENUM
        RS_E_COUNT
};
#define RS_OK RS_EOK

const char *rs_err_name(enum rs_err err);
const char *rs_err_message(enum rs_err err);

/* Parses exactly 16 lowercase hex digits (the numbers in file names). */
bool rs_hex16_parse(const char *text, uint64_t *out);

/* A byte slice that the callee does not own. */
struct rs_bytes {
    const uint8_t *data;
    size_t size;
};

#endif
