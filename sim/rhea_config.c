/* Reads RheaKV YAML configurations (libyaml's document API), then applies RheaKV's rules. */
#include "sim/rhea_config.h"

#include <yaml.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- key tables ---- */

/* A row either names a modelled field (field >= 0) or a RheaKV option the simulator reads past
 * with a warning (field == IGNORED, why says what is not modelled). */
#define IGNORED (-1)
#define END     (-2) /* map_next: no more keys */

struct key_row {
    const char *name;
    int field;
    const char *why;
};

struct key_table {
    const char *path; /* for messages: "storeEngineOptions" */
    const struct key_row *rows;
    uint32_t row_count;
};

#define ROWS(rows) rows, (uint32_t)(sizeof rows / sizeof rows[0])

enum root_field {
    ROOT_CLUSTER_ID,
    ROOT_CLUSTER_NAME,
    ROOT_SERVERS,
    ROOT_ONLY_LEADER_READ,
    ROOT_PD,
    ROOT_STORE
};
static const struct key_row root_rows[] = {
    {"clusterId", ROOT_CLUSTER_ID, NULL},
    {"clusterName", ROOT_CLUSTER_NAME, NULL},
    {"initialServerList", ROOT_SERVERS, NULL},
    {"onlyLeaderRead", ROOT_ONLY_LEADER_READ, NULL},
    {"placementDriverOptions", ROOT_PD, NULL},
    {"storeEngineOptions", ROOT_STORE, NULL},
    {"rpcOptions", IGNORED, "client RPC thread pools and timeouts"},
    {"failoverRetries", IGNORED, "the simulated clients retry by their own workload settings"},
    {"futureTimeoutMillis", IGNORED, "client timeouts come from the scenario's workload"},
    {"useParallelKVExecutor", IGNORED, "threads"},
    {"batchingOptions", IGNORED, "client request batching"},
    {"useParallelCompress", IGNORED, "snapshot compression"},
    {"compressThreads", IGNORED, "snapshot compression"},
    {"deCompressThreads", IGNORED, "snapshot compression"},
    {"compressLevel", IGNORED, "snapshot compression"},
};

enum pd_field { PD_FAKE, PD_GROUP_ID, PD_SERVERS };
static const struct key_row pd_rows[] = {
    {"fake", PD_FAKE, NULL},
    {"pdGroupId", PD_GROUP_ID, NULL},
    {"initialPdServerList", PD_SERVERS, NULL},
    {"initialServerList", IGNORED, "it only seeds the client's static route table"},
    {"regionRouteTableOptionsList", IGNORED, "clients route by the regions of storeEngineOptions"},
    {"cliOptions", IGNORED, "CLI RPC settings"},
    {"pdRpcOptions", IGNORED, "PD RPC thread pools and timeouts"},
};

enum store_field { STORE_ADDRESS, STORE_COMMON, STORE_REGIONS, STORE_LEAST_KEYS, STORE_HEARTBEAT };
static const struct key_row store_rows[] = {
    {"serverAddress", STORE_ADDRESS, NULL},
    {"commonNodeOptions", STORE_COMMON, NULL},
    {"regionEngineOptionsList", STORE_REGIONS, NULL},
    {"leastKeysOnSplit", STORE_LEAST_KEYS, NULL},
    {"heartbeatOptions", STORE_HEARTBEAT, NULL},
    {"initialServerList", IGNORED, "RheaKV overwrites it with the top-level initialServerList"},
    {"storageType", IGNORED, "the simulated store keeps its data in memory"},
    {"rocksDBOptions", IGNORED, "RocksDB tuning"},
    {"memoryDBOptions", IGNORED, "MemoryDB tuning"},
    {"raftDataPath", IGNORED, "storage paths"},
    {"useSharedRpcExecutor", IGNORED, "threads"},
    {"readIndexCoreThreads", IGNORED, "threads"},
    {"leaderStateTriggerCoreThreads", IGNORED, "threads"},
    {"snapshotCoreThreads", IGNORED, "threads"},
    {"snapshotMaxThreads", IGNORED, "threads"},
    {"cliRpcCoreThreads", IGNORED, "threads"},
    {"raftRpcCoreThreads", IGNORED, "threads"},
    {"kvRpcCoreThreads", IGNORED, "threads"},
    {"metricsReportPeriod", IGNORED, "metrics reporting"},
};

enum address_field { ADDRESS_IP, ADDRESS_PORT };
static const struct key_row address_rows[] = {
    {"ip", ADDRESS_IP, NULL},
    {"port", ADDRESS_PORT, NULL},
};

enum heartbeat_field { HEARTBEAT_STORE, HEARTBEAT_REGION, HEARTBEAT_TIMEOUT };
static const struct key_row heartbeat_rows[] = {
    {"storeHeartbeatIntervalSeconds", HEARTBEAT_STORE, NULL},
    {"regionHeartbeatIntervalSeconds", HEARTBEAT_REGION, NULL},
    {"heartbeatRpcTimeoutMillis", HEARTBEAT_TIMEOUT, NULL},
};

enum region_field { REGION_ID, REGION_START, REGION_END, REGION_NODE_OPTIONS, REGION_SERVERS };
static const struct key_row region_rows[] = {
    {"regionId", REGION_ID, NULL},
    {"startKey", REGION_START, NULL},
    {"endKey", REGION_END, NULL},
    {"nodeOptions", REGION_NODE_OPTIONS, NULL},
    {"initialServerList", REGION_SERVERS, NULL},
    {"raftGroupId", IGNORED, "RheaKV derives it as clusterName-regionId"},
    {"serverAddress", IGNORED, "RheaKV sets it to the store's serverAddress"},
    {"raftDataPath", IGNORED, "storage paths"},
    {"metricsReportPeriod", IGNORED, "metrics reporting"},
};

/* NodeOptions: the modelled fields use enum rs_rhea_node_field; raftOptions is a nested map. */
#define NODE_RAFT_OPTIONS RS_RHEA_NODE_FIELD_COUNT
static const struct key_row node_rows[] = {
    {"electionTimeoutMs", RS_RHEA_ELECTION_TIMEOUT, NULL},
    {"snapshotIntervalSecs", RS_RHEA_SNAPSHOT_INTERVAL, NULL},
    {"catchupMargin", RS_RHEA_CATCHUP_MARGIN, NULL},
    {"decayPriorityGap", RS_RHEA_DECAY_PRIORITY_GAP, NULL},
    {"raftOptions", NODE_RAFT_OPTIONS, NULL},
    {"electionPriority", IGNORED,
     "it is per process; write priorities in the peer list as ip:port:0:priority"},
    {"leaderLeaseTimeRatio", IGNORED, "the lease is bounded by the scenario's raft max_drift"},
    {"snapshotLogIndexMargin", IGNORED, "no equivalent (raft snapshot_entries is another rule)"},
    {"initialConf", IGNORED, "RheaKV sets it from initialServerList"},
    {"logUri", IGNORED, "storage paths"},
    {"raftMetaUri", IGNORED, "storage paths"},
    {"snapshotUri", IGNORED, "storage paths"},
    {"snapshotTempUri", IGNORED, "storage paths"},
    {"filterBeforeCopyRemote", IGNORED, "snapshot file reuse"},
    {"disableCli", IGNORED, "CLI RPC"},
    {"sharedTimerPool", IGNORED, "threads and timers"},
    {"timerPoolSize", IGNORED, "threads and timers"},
    {"cliRpcThreadPoolSize", IGNORED, "threads"},
    {"raftRpcThreadPoolSize", IGNORED, "threads"},
    {"enableMetrics", IGNORED, "metrics reporting"},
    {"sharedElectionTimer", IGNORED, "threads and timers"},
    {"sharedVoteTimer", IGNORED, "threads and timers"},
    {"sharedStepDownTimer", IGNORED, "threads and timers"},
    {"sharedSnapshotTimer", IGNORED, "threads and timers"},
    {"applyTaskMode", IGNORED, "threads"},
    {"rpcConnectTimeoutMs", IGNORED, "RPC transport"},
    {"rpcDefaultTimeout", IGNORED, "RPC transport"},
    {"rpcInstallSnapshotTimeout", IGNORED, "RPC transport"},
    {"rpcProcessorThreadPoolSize", IGNORED, "threads"},
    {"enableRpcChecksum", IGNORED, "simulated frames always carry checksums"},
    {"enableBoltReconnect", IGNORED, "RPC transport"},
};

static const struct key_row raft_rows[] = {
    {"electionHeartbeatFactor", RS_RHEA_HEARTBEAT_FACTOR, NULL},
    {"readOnlyOptions", RS_RHEA_READ_ONLY_OPTION, NULL},
    {"maxEntriesSize", RS_RHEA_MAX_ENTRIES_SIZE, NULL},
    {"maxBodySize", RS_RHEA_MAX_BODY_SIZE, NULL},
    {"maxByteCountPerRpc", RS_RHEA_MAX_BYTE_COUNT_PER_RPC, NULL},
    {"maxReplicatorInflightMsgs", RS_RHEA_MAX_INFLIGHT_MSGS, NULL},
    {"sync", IGNORED, "the simulated log is always synced before it is acknowledged"},
    {"syncMeta", IGNORED, "term and vote are always synced"},
    {"maxElectionDelayMs", IGNORED, "the engine draws election timeouts in [T, 2T)"},
    {"fileCheckHole", IGNORED, "snapshot file checks"},
    {"maxAppendBufferSize", IGNORED, "disk write batching"},
    {"maxLogsInMemoryBytes", IGNORED, "log caching"},
    {"applyBatch", IGNORED, "apply batching"},
    {"openStatistics", IGNORED, "RocksDB statistics"},
    {"replicatorPipeline", IGNORED, "replication is always pipelined"},
    {"disruptorBufferSize", IGNORED, "threads"},
    {"disruptorPublishEventWaitTimeoutSecs", IGNORED, "threads"},
    {"enableLogEntryChecksum", IGNORED, "log records are always checksummed"},
    {"maxReadIndexLag", IGNORED, "read-index lag limit"},
    {"stepDownWhenVoteTimedout", IGNORED, "no equivalent"},
    {"startupOldStorage", IGNORED, "storage migration"},
};

static const struct key_table root_table = {"the configuration", ROWS(root_rows)};
static const struct key_table pd_table = {"placementDriverOptions", ROWS(pd_rows)};
static const struct key_table store_table = {"storeEngineOptions", ROWS(store_rows)};
static const struct key_table address_table = {"serverAddress", ROWS(address_rows)};
static const struct key_table heartbeat_table = {"heartbeatOptions", ROWS(heartbeat_rows)};
static const struct key_table region_table = {"a region", ROWS(region_rows)};
static const struct key_table node_table = {"nodeOptions", ROWS(node_rows)};
static const struct key_table raft_table = {"raftOptions", ROWS(raft_rows)};

/* Duplicate keys are found with one bit per row. */
_Static_assert(sizeof node_rows / sizeof node_rows[0] <= 64, "seen masks are 64-bit");
_Static_assert(sizeof raft_rows / sizeof raft_rows[0] <= 64, "seen masks are 64-bit");
_Static_assert(sizeof store_rows / sizeof store_rows[0] <= 64, "seen masks are 64-bit");
_Static_assert(RS_RHEA_NODE_FIELD_COUNT <= 32, "set_mask is 32-bit");

static const char *const node_field_names[RS_RHEA_NODE_FIELD_COUNT] = {
    "electionTimeoutMs",       "snapshotIntervalSecs",      "catchupMargin",  "decayPriorityGap",
    "electionHeartbeatFactor", "readOnlyOptions",           "maxEntriesSize", "maxBodySize",
    "maxByteCountPerRpc",      "maxReplicatorInflightMsgs",
};

/* ---- the reader and its errors ---- */

/* What a region's item wrote, for the second pass and for locating its errors. */
struct region_nodes {
    yaml_node_t *id, *start, *end, *servers;
    bool own_options;
};

struct reader {
    yaml_document_t *doc;
    const char *text;
    size_t size;
    struct rs_rhea_config *c;
    struct rs_rhea_error *err;
    /* Written nodes the second pass needs: store numbering follows the top-level list first,
     * wherever the file puts it. */
    yaml_node_t *root;
    yaml_node_t *servers;    /* initialServerList */
    yaml_node_t *pd;         /* placementDriverOptions */
    yaml_node_t *pd_servers; /* initialPdServerList */
    yaml_node_t *store;      /* storeEngineOptions */
    yaml_node_t *address;    /* serverAddress */
    yaml_node_t *region_list;
    bool has_address_ip;
    struct region_nodes *region_nodes; /* one per region */
};

static struct rs_rhea_mark mark_of(const yaml_mark_t *m)
{
    struct rs_rhea_mark mark = {(uint32_t)m->line + 1u, (uint32_t)m->column + 1u};
    return mark;
}

static struct rs_rhea_mark node_mark(const yaml_node_t *node)
{
    return mark_of(&node->start_mark);
}

static struct rs_rhea_mark offset_to_mark(const char *text, size_t size, size_t offset);

/* libyaml places the end of a stream that lacks a final line break on a line of its own; the
 * error is put at the end of the last line instead, inside the text. */
static struct rs_rhea_mark clamp_to_text(const struct reader *r, struct rs_rhea_mark mark)
{
    struct rs_rhea_mark end = offset_to_mark(r->text, r->size, r->size);
    if (mark.line > end.line || (mark.line == end.line && mark.column > end.column)) {
        return end;
    }
    return mark;
}

static enum rs_err fail_at(struct reader *r, struct rs_rhea_mark mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn_at(struct reader *r, struct rs_rhea_mark mark, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum rs_err fail_at(struct reader *r, struct rs_rhea_mark mark, const char *fmt, ...)
{
    RS_ASSERT(fmt != NULL);
    mark = clamp_to_text(r, mark);
    r->err->line = mark.line;
    r->err->column = mark.column;
    va_list args;
    va_start(args, fmt);
    vsnprintf(r->err->message, sizeof r->err->message, fmt, args);
    va_end(args);
    RS_ASSERT(r->err->message[0] != '\0');
    return RS_EINVAL;
}

static void warn_at(struct reader *r, struct rs_rhea_mark mark, const char *fmt, ...)
{
    struct rs_rhea_config *c = r->c;
    if (c->warning_count == RS_RHEA_WARNING_COUNT_MAX) {
        c->warnings_dropped++;
        return;
    }
    char *w = c->warnings[c->warning_count++];
    int n = snprintf(w, RS_RHEA_MESSAGE_SIZE_MAX, "%s:%u:%u: warning: ", r->err->file, mark.line,
                     mark.column);
    if (n < 0 || (size_t)n >= RS_RHEA_MESSAGE_SIZE_MAX) {
        return;
    }
    va_list args;
    va_start(args, fmt);
    vsnprintf(w + n, RS_RHEA_MESSAGE_SIZE_MAX - (size_t)n, fmt, args);
    va_end(args);
}

/* Bytes for a message: printable ASCII as written, the rest as \xNN, long values cut. */
static const char *quote(char *buf, size_t cap, const uint8_t *data, size_t size)
{
    RS_ASSERT(cap >= 16);
    size_t used = 0;
    for (size_t i = 0; i < size; i++) {
        if (used + 8 > cap) {
            memcpy(buf + used, "...", 3);
            used += 3;
            break;
        }
        uint8_t b = data[i];
        if (b >= 0x20 && b < 0x7f && b != '\\') {
            buf[used++] = (char)b;
        } else {
            used += (size_t)snprintf(buf + used, cap - used, "\\x%02x", b);
        }
    }
    buf[used] = '\0';
    return buf;
}

static const char *scalar_text(const yaml_node_t *node)
{
    return (const char *)node->data.scalar.value;
}

static size_t scalar_size(const yaml_node_t *node)
{
    return node->data.scalar.length;
}

/* Plain empty, ~ and null are YAML's null: the key is as good as absent. */
static bool is_null(const yaml_node_t *node)
{
    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return false;
    }
    const char *t = scalar_text(node);
    return scalar_size(node) == 0 || strcmp(t, "~") == 0 || strcmp(t, "null") == 0 ||
           strcmp(t, "Null") == 0 || strcmp(t, "NULL") == 0;
}

static const char *node_kind(const yaml_node_t *node)
{
    return node->type == YAML_MAPPING_NODE    ? "a mapping"
           : node->type == YAML_SEQUENCE_NODE ? "a list"
                                              : "a value";
}

/* ---- mapping iteration: one key at a time, so that nested maps need no recursion ---- */

struct map_iter {
    yaml_node_t *map;
    yaml_node_pair_t *pair;
    const struct key_table *table;
    uint64_t seen;
    struct rs_rhea_mark seen_at[64];
    struct rs_rhea_mark key_mark; /* the key map_next returned last */
};

static enum rs_err map_begin(struct reader *r,
                             yaml_node_t *node,
                             const struct key_table *table,
                             struct map_iter *it)
{
    RS_ASSERT(table->row_count <= 64);
    memset(it, 0, sizeof *it);
    it->table = table;
    if (is_null(node)) {
        return fail_at(r, node_mark(node), "%s is empty: it must be a mapping of keys to values",
                       table->path);
    }
    if (node->type != YAML_MAPPING_NODE) {
        return fail_at(r, node_mark(node), "%s must be a mapping of keys to values, not %s",
                       table->path, node_kind(node));
    }
    it->map = node;
    it->pair = node->data.mapping.pairs.start;
    return RS_OK;
}

static uint32_t edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 63 || m > 63) {
        return 99;
    }
    uint32_t row[64], prev[64];
    for (size_t j = 0; j <= m; j++) {
        prev[j] = (uint32_t)j;
    }
    for (size_t i = 1; i <= n; i++) {
        row[0] = (uint32_t)i;
        for (size_t j = 1; j <= m; j++) {
            uint32_t sub = prev[j - 1] + ((a[i - 1] | 0x20) != (b[j - 1] | 0x20));
            uint32_t del = prev[j] + 1, ins = row[j - 1] + 1;
            row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, row, sizeof row);
    }
    return prev[m];
}

static enum rs_err unknown_key(struct reader *r, const struct key_table *table, yaml_node_t *key)
{
    char shown[96];
    quote(shown, sizeof shown, (const uint8_t *)scalar_text(key), scalar_size(key));
    if (strcmp(scalar_text(key), "<<") == 0) {
        return fail_at(r, node_mark(key), "YAML merge keys (<<) are not supported");
    }
    const char *best = NULL;
    uint32_t best_distance = 3; /* a suggestion only for near misses */
    for (uint32_t i = 0; i < table->row_count; i++) {
        uint32_t d = edit_distance(scalar_text(key), table->rows[i].name);
        if (d < best_distance) {
            best = table->rows[i].name;
            best_distance = d;
        }
    }
    if (best != NULL) {
        return fail_at(r, node_mark(key), "unknown key '%s' in %s (did you mean %s?)", shown,
                       table->path, best);
    }
    return fail_at(r, node_mark(key), "unknown key '%s' in %s", shown, table->path);
}

/* The next modelled key (*field >= 0), or *field == END. Ignored RheaKV options are skipped
 * with a warning; unknown and repeated keys are errors. */
static enum rs_err map_next(struct reader *r, struct map_iter *it, int *field, yaml_node_t **value)
{
    for (; it->pair < it->map->data.mapping.pairs.top; it->pair++) {
        yaml_node_t *key = yaml_document_get_node(r->doc, it->pair->key);
        *value = yaml_document_get_node(r->doc, it->pair->value);
        RS_ASSERT(key != NULL && *value != NULL);
        if (key->type != YAML_SCALAR_NODE) {
            return fail_at(r, node_mark(key), "keys of %s must be names, not %s", it->table->path,
                           node_kind(key));
        }
        uint32_t row = 0;
        while (row < it->table->row_count &&
               (strlen(it->table->rows[row].name) != scalar_size(key) ||
                strcmp(it->table->rows[row].name, scalar_text(key)) != 0)) {
            row++;
        }
        if (row == it->table->row_count) {
            return unknown_key(r, it->table, key);
        }
        const struct key_row *k = &it->table->rows[row];
        if (it->seen & (1ull << row)) {
            return fail_at(r, node_mark(key), "%s appears twice in %s (first at %u:%u)", k->name,
                           it->table->path, it->seen_at[row].line, it->seen_at[row].column);
        }
        it->seen |= 1ull << row;
        it->seen_at[row] = node_mark(key);
        it->key_mark = node_mark(key);
        if (k->field == IGNORED) {
            warn_at(r, node_mark(key), "%s.%s ignored: %s", it->table->path, k->name, k->why);
            continue;
        }
        *field = k->field;
        it->pair++;
        return RS_OK;
    }
    *field = END;
    return RS_OK;
}

/* ---- scalar values ---- */

static enum rs_err scalar_of(struct reader *r, yaml_node_t *node, const char *name)
{
    if (node->type != YAML_SCALAR_NODE) {
        return fail_at(r, node_mark(node), "%s must be a single value, not %s", name,
                       node_kind(node));
    }
    if (is_null(node)) {
        return fail_at(r, node_mark(node), "%s needs a value", name);
    }
    return RS_OK;
}

static enum rs_err read_int(struct reader *r,
                            yaml_node_t *node,
                            const char *name,
                            int64_t lo,
                            int64_t hi,
                            int64_t *out)
{
    RS_ASSERT(lo <= hi);
    enum rs_err rc = scalar_of(r, node, name);
    if (rc != RS_OK) {
        return rc;
    }
    const char *t = scalar_text(node);
    size_t size = scalar_size(node), i = 0;
    bool negative = size > 0 && t[0] == '-';
    i = (size > 0 && (t[0] == '-' || t[0] == '+')) ? 1 : 0;
    uint64_t v = 0;
    bool ok = i < size;
    for (; ok && i < size; i++) {
        ok = t[i] >= '0' && t[i] <= '9' && v <= (UINT64_MAX - 9) / 10;
        v = v * 10 + (uint64_t)(t[i] - '0');
    }
    bool in_range = ok && (negative ? v <= (uint64_t)INT64_MAX + 1 : v <= (uint64_t)INT64_MAX);
    int64_t value = !in_range ? 0 : negative ? (int64_t)(0 - v) : (int64_t)v;
    if (!in_range || value < lo || value > hi) {
        char shown[64];
        return fail_at(r, node_mark(node), "%s must be an integer from %lld to %lld, not '%s'",
                       name, (long long)lo, (long long)hi,
                       quote(shown, sizeof shown, (const uint8_t *)t, size));
    }
    *out = value;
    return RS_OK;
}

static enum rs_err read_u32(struct reader *r,
                            yaml_node_t *node,
                            const char *name,
                            int64_t lo,
                            int64_t hi,
                            uint32_t *out)
{
    RS_ASSERT(lo >= 0 && hi <= UINT32_MAX);
    int64_t v = 0;
    enum rs_err rc = read_int(r, node, name, lo, hi, &v);
    if (rc == RS_OK) {
        *out = (uint32_t)v;
    }
    return rc;
}

static enum rs_err read_bool(struct reader *r, yaml_node_t *node, const char *name, bool *out)
{
    enum rs_err rc = scalar_of(r, node, name);
    if (rc != RS_OK) {
        return rc;
    }
    const char *t = scalar_text(node);
    if (strcmp(t, "true") == 0 || strcmp(t, "True") == 0 || strcmp(t, "TRUE") == 0) {
        *out = true;
    } else if (strcmp(t, "false") == 0 || strcmp(t, "False") == 0 || strcmp(t, "FALSE") == 0) {
        *out = false;
    } else {
        char shown[64];
        return fail_at(r, node_mark(node), "%s must be true or false, not '%s'", name,
                       quote(shown, sizeof shown, (const uint8_t *)t, scalar_size(node)));
    }
    return RS_OK;
}

/* A name: printable, no control bytes, fits its buffer. */
static enum rs_err read_name(struct reader *r,
                             yaml_node_t *node,
                             const char *name,
                             char *out,
                             size_t cap)
{
    enum rs_err rc = scalar_of(r, node, name);
    if (rc != RS_OK) {
        return rc;
    }
    size_t size = scalar_size(node);
    const uint8_t *t = (const uint8_t *)scalar_text(node);
    if (size >= cap) {
        return fail_at(r, node_mark(node), "%s is longer than %zu bytes", name, cap - 1);
    }
    for (size_t i = 0; i < size; i++) {
        if (t[i] < 0x20 || t[i] == 0x7f) {
            return fail_at(r, node_mark(node), "%s contains a control character (byte %zu)", name,
                           i + 1);
        }
    }
    memcpy(out, t, size);
    out[size] = '\0';
    return RS_OK;
}

/* startKey and endKey: the bytes of the string; null or empty means unbounded. */
static enum rs_err read_key(struct reader *r,
                            yaml_node_t *node,
                            const char *name,
                            uint8_t *out,
                            uint32_t *size)
{
    *size = 0;
    if (is_null(node)) {
        return RS_OK;
    }
    if (node->type != YAML_SCALAR_NODE) {
        return fail_at(r, node_mark(node), "%s must be a single value, not %s", name,
                       node_kind(node));
    }
    if (scalar_size(node) > RS_RHEA_KEY_SIZE_MAX) {
        return fail_at(r, node_mark(node), "%s is longer than %u bytes", name,
                       RS_RHEA_KEY_SIZE_MAX);
    }
    memcpy(out, scalar_text(node), scalar_size(node));
    *size = (uint32_t)scalar_size(node);
    return RS_OK;
}

/* ---- node options ---- */

static void node_options_default(struct rs_rhea_node_options *o)
{
    memset(o, 0, sizeof *o);
    o->election_timeout_ms = 1000;
    o->snapshot_interval_s = 3600;
    o->catchup_margin = 1000;
    o->decay_priority_gap = 10;
    o->heartbeat_factor = 10;
    o->read_mode = RS_READ_SAFE;
    o->max_entries_count = 1024;
    o->max_body_size_bytes = 512u * 1024u;
    o->snapshot_chunk_bytes = 128u * 1024u;
    o->max_inflight_count = 256;
}

/* Where each field was written, for the checks that span two fields. */
struct node_marks {
    struct rs_rhea_mark at[RS_RHEA_NODE_FIELD_COUNT];
};

static enum rs_err read_read_mode(struct reader *r, yaml_node_t *node, enum rs_read_mode *out)
{
    enum rs_err rc = scalar_of(r, node, "readOnlyOptions");
    if (rc != RS_OK) {
        return rc;
    }
    if (strcmp(scalar_text(node), "ReadOnlySafe") == 0) {
        *out = RS_READ_SAFE;
    } else if (strcmp(scalar_text(node), "ReadOnlyLeaseBased") == 0) {
        *out = RS_READ_LEASE;
    } else {
        char shown[64];
        return fail_at(
            r, node_mark(node),
            "readOnlyOptions must be ReadOnlySafe or ReadOnlyLeaseBased, not '%s'",
            quote(shown, sizeof shown, (const uint8_t *)scalar_text(node), scalar_size(node)));
    }
    return RS_OK;
}

/* One NodeOptions or RaftOptions field; ranges are what the engine accepts. */
static enum rs_err read_node_field(struct reader *r,
                                   int field,
                                   yaml_node_t *value,
                                   struct rs_rhea_node_options *o)
{
    RS_ASSERT(field >= 0 && field < RS_RHEA_NODE_FIELD_COUNT);
    const char *name = node_field_names[field];
    int64_t v = 0;
    enum rs_err rc = RS_OK;
    switch ((enum rs_rhea_node_field)field) {
        case RS_RHEA_ELECTION_TIMEOUT:
            return read_u32(r, value, name, 10, 60000, &o->election_timeout_ms);
        case RS_RHEA_SNAPSHOT_INTERVAL:
            /* jraft: zero or less turns the snapshot timer off */
            rc = read_int(r, value, name, INT32_MIN, 1000000, &v);
            o->snapshot_interval_s = v > 0 ? (uint32_t)v : 0;
            return rc;
        case RS_RHEA_CATCHUP_MARGIN:
            return read_u32(r, value, name, 0, 100000000, &o->catchup_margin);
        case RS_RHEA_DECAY_PRIORITY_GAP:
            return read_u32(r, value, name, 0, 1000000, &o->decay_priority_gap);
        case RS_RHEA_HEARTBEAT_FACTOR:
            return read_u32(r, value, name, 2, 1000, &o->heartbeat_factor);
        case RS_RHEA_READ_ONLY_OPTION:
            return read_read_mode(r, value, &o->read_mode);
        case RS_RHEA_MAX_ENTRIES_SIZE:
            return read_u32(r, value, name, 1, RS_RAFT_BATCH_MAX, &o->max_entries_count);
        case RS_RHEA_MAX_BODY_SIZE:
            return read_u32(r, value, name, 1024, 8 << 20, &o->max_body_size_bytes);
        case RS_RHEA_MAX_BYTE_COUNT_PER_RPC:
            return read_u32(r, value, name, 64, 16 << 20, &o->snapshot_chunk_bytes);
        case RS_RHEA_MAX_INFLIGHT_MSGS:
            return read_u32(r, value, name, 1, RS_RAFT_INFLIGHT_MAX, &o->max_inflight_count);
        case RS_RHEA_NODE_FIELD_COUNT:
            break;
    }
    RS_UNREACHABLE();
}

static enum rs_err read_raft_options(struct reader *r,
                                     yaml_node_t *node,
                                     const char *path,
                                     struct rs_rhea_node_options *o,
                                     struct node_marks *marks)
{
    if (is_null(node)) {
        return RS_OK;
    }
    char raft_path[160];
    snprintf(raft_path, sizeof raft_path, "%s.raftOptions", path);
    struct key_table table = raft_table;
    table.path = raft_path;
    struct map_iter it;
    enum rs_err rc = map_begin(r, node, &table, &it);
    int field = END;
    yaml_node_t *value = NULL;
    while (rc == RS_OK && (rc = map_next(r, &it, &field, &value)) == RS_OK && field != END) {
        rc = read_node_field(r, field, value, o);
        o->set_mask |= 1u << field;
        marks->at[field] = node_mark(value);
    }
    return rc;
}

/* A NodeOptions mapping (commonNodeOptions or a region's nodeOptions) over jraft's defaults. */
static enum rs_err read_node_options(struct reader *r,
                                     yaml_node_t *node,
                                     const char *path,
                                     struct rs_rhea_node_options *o)
{
    node_options_default(o);
    if (is_null(node)) {
        return RS_OK;
    }
    o->mark = node_mark(node);
    struct node_marks marks;
    memset(&marks, 0, sizeof marks);
    struct key_table table = node_table;
    table.path = path;
    struct map_iter it;
    enum rs_err rc = map_begin(r, node, &table, &it);
    int field = END;
    yaml_node_t *value = NULL;
    while (rc == RS_OK && (rc = map_next(r, &it, &field, &value)) == RS_OK && field != END) {
        if (field == NODE_RAFT_OPTIONS) {
            rc = read_raft_options(r, value, path, o, &marks);
            continue;
        }
        rc = read_node_field(r, field, value, o);
        o->set_mask |= 1u << field;
        marks.at[field] = node_mark(value);
    }
    /* jraft's heartbeat is electionTimeoutMs / electionHeartbeatFactor; keep it a whole ms. */
    if (rc == RS_OK && o->election_timeout_ms / o->heartbeat_factor < 1) {
        bool factor_set = (o->set_mask & (1u << RS_RHEA_HEARTBEAT_FACTOR)) != 0;
        return fail_at(r,
                       marks.at[factor_set ? RS_RHEA_HEARTBEAT_FACTOR : RS_RHEA_ELECTION_TIMEOUT],
                       "electionTimeoutMs / electionHeartbeatFactor = %u / %u leaves a heartbeat "
                       "below 1 ms",
                       o->election_timeout_ms, o->heartbeat_factor);
    }
    return rc;
}

/* ---- peer lists: "ip:port,ip:port/learner,ip:port:0:priority" ---- */

struct peer_item {
    size_t offset; /* of the item in the list's text */
    char host[RS_RHEA_HOST_SIZE_MAX];
    uint16_t port;
    bool learner;
    int32_t priority;
};

struct peer_items {
    uint32_t count;
    uint32_t voter_count;
    struct peer_item items[RS_RHEA_PEER_COUNT_MAX];
};

/* The column of byte `offset` of a scalar, exact for one-line plain and quoted scalars. */
static struct rs_rhea_mark offset_mark(const yaml_node_t *node, size_t offset)
{
    struct rs_rhea_mark m = node_mark(node);
    if (node->start_mark.line != node->end_mark.line || offset > UINT32_MAX / 2) {
        return m;
    }
    yaml_scalar_style_t style = node->data.scalar.style;
    if (style == YAML_PLAIN_SCALAR_STYLE) {
        m.column += (uint32_t)offset;
    } else if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
               style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
        m.column += 1u + (uint32_t)offset;
    }
    return m;
}

static bool parse_number(const char *t, size_t size, int64_t lo, int64_t hi, int64_t *out)
{
    size_t i = size > 0 && t[0] == '-' ? 1 : 0;
    if (i == size || size - i > 10) {
        return false;
    }
    int64_t v = 0;
    for (; i < size; i++) {
        if (t[i] < '0' || t[i] > '9') {
            return false;
        }
        v = v * 10 + (t[i] - '0');
    }
    v = t[0] == '-' ? -v : v;
    *out = v;
    return v >= lo && v <= hi;
}

/* An IPv4 dotted quad, or a host name of letters, digits, '-', '_' and dots. */
static bool host_valid(const char *h, size_t size)
{
    if (size == 0 || size >= RS_RHEA_HOST_SIZE_MAX || h[0] == '.' || h[size - 1] == '.') {
        return false;
    }
    bool numeric = true;
    for (size_t i = 0; i < size; i++) {
        char ch = h[i];
        bool digit = ch >= '0' && ch <= '9';
        bool alnum = digit || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        if (!alnum && ch != '-' && ch != '_' && ch != '.') {
            return false;
        }
        if (ch == '.' && h[i + 1] == '.') {
            return false; /* an empty label; h[i + 1] exists, the last byte is no dot */
        }
        numeric = numeric && (digit || ch == '.');
    }
    if (!numeric) {
        return true;
    }
    uint32_t parts = 0;
    for (size_t start = 0; start <= size && parts < 5; parts++) {
        const char *dot = memchr(h + start, '.', size - start);
        size_t end = dot != NULL ? (size_t)(dot - h) : size;
        int64_t octet = 0;
        if (end - start > 3 || !parse_number(h + start, end - start, 0, 255, &octet)) {
            return false;
        }
        start = end + 1;
    }
    return parts == 4;
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* jraft's PeerId text, with the rules jraft leaves loose made strict: a bad peer is an error
 * (jraft logs it and drops it), "/learner" must end the item, the index must be 0. */
static enum rs_err parse_peer_item(struct reader *r,
                                   const yaml_node_t *node,
                                   const char *list_name,
                                   size_t start,
                                   size_t end,
                                   struct peer_item *out)
{
    const char *t = scalar_text(node);
    char shown[96];
    RS_ASSERT(start < end && end <= scalar_size(node));
    memset(out, 0, sizeof *out);
    out->offset = start;
    out->priority = RS_PRIORITY_DISABLED;
    if (end - start >= 8 && memcmp(t + end - 8, "/learner", 8) == 0) {
        out->learner = true;
        end -= 8;
        while (end > start && is_space(t[end - 1])) {
            end--;
        }
    }
    quote(shown, sizeof shown, (const uint8_t *)t + start, end - start);
    if (end > start && t[start] == '[') {
        return fail_at(r, offset_mark(node, start), "'%s' in %s: IPv6 addresses are not supported",
                       shown, list_name);
    }
    size_t cut[5] = {start}; /* part k is [cut[k], cut[k + 1] - 1) */
    uint32_t part_count = 1;
    for (size_t i = start; i < end && part_count <= 4; i++) {
        if (t[i] == ':') {
            cut[part_count++] = i + 1;
        }
    }
    if (part_count < 2 || part_count > 4 || memchr(t + start, '/', end - start) != NULL) {
        return fail_at(r, offset_mark(node, start),
                       "'%s' in %s is not ip:port, ip:port/learner or ip:port:index:priority",
                       shown, list_name);
    }
    cut[part_count] = end + 1;
    size_t host_size = cut[1] - 1 - cut[0];
    if (!host_valid(t + cut[0], host_size)) {
        char host[96];
        quote(host, sizeof host, (const uint8_t *)t + cut[0], host_size);
        return fail_at(r, offset_mark(node, start),
                       "'%s' in %s: '%s' is not an IPv4 address or host name", shown, list_name,
                       host);
    }
    memcpy(out->host, t + cut[0], host_size);
    int64_t v = 0;
    if (!parse_number(t + cut[1], cut[2] - 1 - cut[1], 1, 65535, &v)) {
        return fail_at(r, offset_mark(node, cut[1]), "'%s' in %s: the port must be from 1 to 65535",
                       shown, list_name);
    }
    out->port = (uint16_t)v;
    /* jraft allows an empty index only before a priority: "ip:port::priority" */
    bool index_empty = part_count >= 3 && cut[3] - 1 == cut[2];
    if (part_count >= 3 && !(index_empty && part_count == 4) &&
        !parse_number(t + cut[2], cut[3] - 1 - cut[2], 0, 0, &v)) {
        return fail_at(r, offset_mark(node, cut[2]),
                       "'%s' in %s: peer index must be 0 (one replica of a region per store)",
                       shown, list_name);
    }
    if (part_count == 4) {
        if (!parse_number(t + cut[3], cut[4] - 1 - cut[3], RS_PRIORITY_DISABLED, 1000000, &v)) {
            return fail_at(r, offset_mark(node, cut[3]),
                           "'%s' in %s: the priority must be from -1 to 1000000", shown, list_name);
        }
        out->priority = (int32_t)v;
    }
    return RS_OK;
}

static enum rs_err add_peer_item(struct reader *r,
                                 const yaml_node_t *node,
                                 const char *list_name,
                                 const struct peer_item *item,
                                 struct peer_items *out)
{
    struct rs_rhea_mark mark = offset_mark(node, item->offset);
    for (uint32_t i = 0; i < out->count; i++) {
        if (out->items[i].port == item->port && strcmp(out->items[i].host, item->host) == 0) {
            return fail_at(r, mark, "%s:%u appears twice in %s", item->host, item->port, list_name);
        }
    }
    uint32_t learner_count = out->count - out->voter_count;
    if (item->learner && learner_count == RS_CONF_LEARNERS_MAX) {
        return fail_at(r, mark, "%s has more than %u learners", list_name, RS_CONF_LEARNERS_MAX);
    }
    if (!item->learner && out->voter_count == RS_CONF_VOTERS_MAX) {
        return fail_at(r, mark, "%s has more than %u voters", list_name, RS_CONF_VOTERS_MAX);
    }
    RS_ASSERT(out->count < RS_RHEA_PEER_COUNT_MAX);
    out->items[out->count++] = *item;
    out->voter_count += item->learner ? 0 : 1;
    return RS_OK;
}

/* Items are separated by commas; empty items are skipped, as jraft does. */
static enum rs_err parse_peer_list(struct reader *r,
                                   yaml_node_t *node,
                                   const char *list_name,
                                   struct peer_items *out)
{
    memset(out, 0, sizeof *out);
    enum rs_err rc = scalar_of(r, node, list_name);
    const char *t = scalar_text(node);
    size_t size = scalar_size(node);
    for (size_t pos = 0; rc == RS_OK && pos <= size;) {
        const char *comma = memchr(t + pos, ',', size - pos);
        size_t end = comma != NULL ? (size_t)(comma - t) : size;
        size_t start = pos;
        pos = end + 1;
        while (start < end && is_space(t[start])) {
            start++;
        }
        while (end > start && is_space(t[end - 1])) {
            end--;
        }
        if (start == end) {
            continue;
        }
        struct peer_item item;
        rc = parse_peer_item(r, node, list_name, start, end, &item);
        if (rc == RS_OK) {
            rc = add_peer_item(r, node, list_name, &item, out);
        }
    }
    if (rc == RS_OK && out->voter_count == 0) {
        return fail_at(r, node_mark(node), "%s has no voter", list_name);
    }
    return rc;
}

static rs_node_id find_server(const struct rs_rhea_config *c, const char *host, uint16_t port)
{
    for (uint32_t i = 0; i < c->server_count; i++) {
        if (c->servers[i].endpoint.port == port && strcmp(c->servers[i].endpoint.host, host) == 0) {
            return (rs_node_id)(i + 1);
        }
    }
    return RS_NODE_NONE;
}

/* A store list: its servers become stores (ids in order of first appearance). */
static enum rs_err resolve_store_list(struct reader *r,
                                      yaml_node_t *node,
                                      const char *list_name,
                                      bool top,
                                      struct rs_rhea_peer_list *out)
{
    struct peer_items items;
    enum rs_err rc = parse_peer_list(r, node, list_name, &items);
    struct rs_rhea_config *c = r->c;
    memset(out, 0, sizeof *out);
    out->mark = node_mark(node);
    for (uint32_t i = 0; rc == RS_OK && i < items.count; i++) {
        const struct peer_item *item = &items.items[i];
        struct rs_rhea_mark mark = offset_mark(node, item->offset);
        rs_node_id id = find_server(c, item->host, item->port);
        if (id == RS_NODE_NONE && c->server_count == RS_RHEA_SERVER_COUNT_MAX) {
            return fail_at(r, mark, "more than %u servers in the cluster",
                           RS_RHEA_SERVER_COUNT_MAX);
        }
        if (id == RS_NODE_NONE) {
            struct rs_rhea_server *s = &c->servers[c->server_count++];
            memcpy(s->endpoint.host, item->host, sizeof s->endpoint.host);
            s->endpoint.port = item->port;
            s->listed = top;
            s->first = mark;
            id = (rs_node_id)c->server_count;
            if (!top && r->servers != NULL) {
                warn_at(r, mark,
                        "%s:%u is not in the top-level initialServerList: it becomes "
                        "store %u",
                        item->host, item->port, id);
            }
        }
        out->peers[out->peer_count++] = (struct rs_rhea_peer){
            .store_id = id, .learner = item->learner, .priority = item->priority};
    }
    return rc;
}

/* ---- the file's mappings (first pass: read values, keep the lists for the second) ---- */

/* Blank like RheaKV's Strings.isBlank: absent, null, or only spaces. */
static bool is_blank(const yaml_node_t *node)
{
    if (node == NULL || is_null(node)) {
        return true;
    }
    if (node->type != YAML_SCALAR_NODE) {
        return false;
    }
    for (size_t i = 0; i < scalar_size(node); i++) {
        if (!is_space(scalar_text(node)[i])) {
            return false;
        }
    }
    return true;
}

static enum rs_err read_address(struct reader *r, yaml_node_t *node)
{
    struct rs_rhea_endpoint *a = &r->c->store.server_address;
    struct map_iter it;
    enum rs_err rc = map_begin(r, node, &address_table, &it);
    int field = END;
    yaml_node_t *value = NULL;
    bool has_port = false;
    while (rc == RS_OK && (rc = map_next(r, &it, &field, &value)) == RS_OK && field != END) {
        if (field == ADDRESS_IP) {
            r->has_address_ip = !is_null(value);
            rc = r->has_address_ip
                     ? read_name(r, value, "serverAddress.ip", a->host, sizeof a->host)
                     : RS_OK;
            if (rc == RS_OK && r->has_address_ip && !host_valid(a->host, strlen(a->host))) {
                rc = fail_at(r, node_mark(value),
                             "serverAddress.ip '%s' is not an IPv4 address "
                             "or host name",
                             a->host);
            }
        } else {
            int64_t port = 0;
            rc = read_int(r, value, "serverAddress.port", 1, 65535, &port);
            a->port = (uint16_t)port;
            has_port = true;
        }
    }
    if (rc == RS_OK && !has_port) {
        return fail_at(r, node_mark(node), "serverAddress needs a port");
    }
    r->c->store.has_server_address = true;
    r->address = node;
    return rc;
}

static enum rs_err read_heartbeat(struct reader *r, yaml_node_t *node)
{
    if (is_null(node)) {
        return RS_OK;
    }
    struct map_iter it;
    enum rs_err rc = map_begin(r, node, &heartbeat_table, &it);
    int field = END;
    yaml_node_t *value = NULL;
    while (rc == RS_OK && (rc = map_next(r, &it, &field, &value)) == RS_OK && field != END) {
        if (field == HEARTBEAT_STORE) {
            rc = read_u32(r, value, "storeHeartbeatIntervalSeconds", 1, 86400,
                          &r->c->store.store_heartbeat_interval_s);
        } else if (field == HEARTBEAT_REGION) {
            rc = read_u32(r, value, "regionHeartbeatIntervalSeconds", 1, 86400,
                          &r->c->store.region_heartbeat_interval_s);
        } else {
            rc = read_u32(r, value, "heartbeatRpcTimeoutMillis", 1, 3600000,
                          &r->c->store.heartbeat_rpc_timeout_ms);
        }
    }
    return rc;
}

static enum rs_err read_region_field(struct reader *r,
                                     uint32_t index,
                                     int field,
                                     yaml_node_t *value,
                                     const char *path)
{
    struct rs_rhea_region *g = &r->c->regions[index];
    struct region_nodes *n = &r->region_nodes[index];
    if (field == REGION_ID) {
        n->id = value;
        return read_int(r, value, "regionId", RS_RHEA_REGION_ID_MIN, RS_RHEA_REGION_ID_LIMIT - 1,
                        &g->region_id);
    }
    if (field == REGION_START) {
        n->start = is_null(value) ? NULL : value;
        return read_key(r, value, "startKey", g->start_key, &g->start_key_size);
    }
    if (field == REGION_END) {
        n->end = is_null(value) ? NULL : value;
        return read_key(r, value, "endKey", g->end_key, &g->end_key_size);
    }
    if (field == REGION_NODE_OPTIONS) {
        char options_path[96];
        snprintf(options_path, sizeof options_path, "%s.nodeOptions", path);
        n->own_options = !is_null(value);
        return read_node_options(r, value, options_path, &g->node_options);
    }
    RS_ASSERT(field == REGION_SERVERS);
    if (!is_blank(value) && value->type != YAML_SCALAR_NODE) {
        return fail_at(r, node_mark(value), "%s.initialServerList must be a single value, not %s",
                       path, node_kind(value));
    }
    n->servers = is_blank(value) ? NULL : value;
    return RS_OK;
}

static enum rs_err read_region(struct reader *r, yaml_node_t *node, uint32_t index)
{
    char path[64];
    snprintf(path, sizeof path, "regionEngineOptionsList[%u]", index);
    struct key_table table = region_table;
    table.path = path;
    r->c->regions[index].mark = node_mark(node);
    struct map_iter it;
    enum rs_err rc = map_begin(r, node, &table, &it);
    int field = END;
    yaml_node_t *value = NULL;
    while (rc == RS_OK && (rc = map_next(r, &it, &field, &value)) == RS_OK && field != END) {
        rc = read_region_field(r, index, field, value, path);
    }
    if (rc != RS_OK) {
        return rc;
    }
    const struct region_nodes *n = &r->region_nodes[index];
    if (n->id == NULL) {
        return fail_at(r, node_mark(node), "%s needs a regionId", path);
    }
    for (uint32_t i = 0; i < index; i++) {
        if (r->c->regions[i].region_id == r->c->regions[index].region_id) {
            struct rs_rhea_mark first = node_mark(r->region_nodes[i].id);
            return fail_at(r, node_mark(n->id), "regionId %lld appears twice (first at %u:%u)",
                           (long long)r->c->regions[index].region_id, first.line, first.column);
        }
    }
    return RS_OK;
}

static enum rs_err read_regions(struct reader *r, yaml_node_t *node)
{
    if (is_null(node)) {
        return RS_OK;
    }
    if (node->type != YAML_SEQUENCE_NODE) {
        return fail_at(r, node_mark(node), "regionEngineOptionsList must be a list, not %s",
                       node_kind(node));
    }
    yaml_node_item_t *items = node->data.sequence.items.start;
    size_t count = (size_t)(node->data.sequence.items.top - items);
    if (count > RS_RHEA_REGION_COUNT_MAX) {
        yaml_node_t *extra = yaml_document_get_node(r->doc, items[RS_RHEA_REGION_COUNT_MAX]);
        return fail_at(r, node_mark(extra), "more than %u regions", RS_RHEA_REGION_COUNT_MAX);
    }
    if (count == 0) {
        return RS_OK;
    }
    r->c->regions = calloc(count, sizeof *r->c->regions);
    r->region_nodes = calloc(count, sizeof *r->region_nodes);
    if (r->c->regions == NULL || r->region_nodes == NULL) {
        snprintf(r->err->message, sizeof r->err->message, "out of memory");
        return RS_ENOMEM;
    }
    r->c->region_count = (uint32_t)count;
    r->region_list = node;
    enum rs_err rc = RS_OK;
    for (uint32_t i = 0; rc == RS_OK && i < count; i++) {
        rc = read_region(r, yaml_document_get_node(r->doc, items[i]), i);
    }
    return rc;
}

static enum rs_err read_store(struct reader *r, yaml_node_t *node)
{
    struct map_iter it;
    enum rs_err rc = map_begin(r, node, &store_table, &it);
    int field = END;
    yaml_node_t *value = NULL;
    struct rs_rhea_config *c = r->c;
    while (rc == RS_OK && (rc = map_next(r, &it, &field, &value)) == RS_OK && field != END) {
        int64_t keys = 0;
        switch ((enum store_field)field) {
            case STORE_ADDRESS:
                rc = read_address(r, value);
                break;
            case STORE_COMMON:
                rc =
                    read_node_options(r, value, "commonNodeOptions", &c->store.common_node_options);
                break;
            case STORE_REGIONS:
                rc = read_regions(r, value);
                break;
            case STORE_LEAST_KEYS:
                rc = read_int(r, value, "leastKeysOnSplit", 1, 1000000000000ll, &keys);
                c->store.least_keys_on_split = (uint64_t)keys;
                break;
            case STORE_HEARTBEAT:
                rc = read_heartbeat(r, value);
                break;
        }
    }
    r->store = node;
    return rc;
}

static enum rs_err read_pd(struct reader *r, yaml_node_t *node)
{
    struct map_iter it;
    enum rs_err rc = map_begin(r, node, &pd_table, &it);
    int field = END;
    yaml_node_t *value = NULL;
    struct rs_rhea_config *c = r->c;
    while (rc == RS_OK && (rc = map_next(r, &it, &field, &value)) == RS_OK && field != END) {
        if (field == PD_FAKE) {
            rc = read_bool(r, value, "placementDriverOptions.fake", &c->pd.fake);
        } else if (field == PD_GROUP_ID) {
            rc = is_blank(value)
                     ? RS_OK
                     : read_name(r, value, "pdGroupId", c->pd.group_id, sizeof c->pd.group_id);
        } else {
            r->pd_servers = is_blank(value) ? NULL : value;
        }
    }
    r->pd = node;
    return rc;
}

static enum rs_err read_root(struct reader *r, yaml_node_t *node)
{
    struct map_iter it;
    enum rs_err rc = map_begin(r, node, &root_table, &it);
    int field = END;
    yaml_node_t *value = NULL;
    struct rs_rhea_config *c = r->c;
    r->root = node;
    while (rc == RS_OK && (rc = map_next(r, &it, &field, &value)) == RS_OK && field != END) {
        switch ((enum root_field)field) {
            case ROOT_CLUSTER_ID:
                rc = read_int(r, value, "clusterId", INT64_MIN, INT64_MAX, &c->cluster_id);
                break;
            case ROOT_CLUSTER_NAME:
                rc = read_name(r, value, "clusterName", c->cluster_name, sizeof c->cluster_name);
                break;
            case ROOT_SERVERS:
                r->servers = is_blank(value) ? NULL : value;
                break;
            case ROOT_ONLY_LEADER_READ:
                rc = read_bool(r, value, "onlyLeaderRead", &c->only_leader_read);
                c->only_leader_read_set = true;
                break;
            case ROOT_PD:
                rc = read_pd(r, value);
                break;
            case ROOT_STORE:
                rc = read_store(r, value);
                break;
        }
    }
    return rc;
}

/* ---- the second pass: RheaKV's rules and the checks across the file ---- */

/* RheaKV copies commonNodeOptions whole into a region without nodeOptions; a region with its
 * own keeps jraft's defaults for what it leaves out, which is easy to miss: warn. */
static void copy_node_options(struct reader *r, struct rs_rhea_region *g, bool own)
{
    const struct rs_rhea_node_options *common = &r->c->store.common_node_options;
    if (!own) {
        g->node_options = *common;
        g->node_options.copied_from_common = true;
        return;
    }
    uint32_t dropped = common->set_mask & ~g->node_options.set_mask;
    if (dropped == 0) {
        return;
    }
    char names[256] = "";
    size_t used = 0;
    for (uint32_t f = 0; f < RS_RHEA_NODE_FIELD_COUNT && used < sizeof names; f++) {
        if (dropped & (1u << f)) {
            int n = snprintf(names + used, sizeof names - used, "%s%s", used > 0 ? ", " : "",
                             node_field_names[f]);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    warn_at(r, g->node_options.mark,
            "region %lld has its own nodeOptions, which RheaKV does not merge with "
            "commonNodeOptions: jraft's defaults apply to %s",
            (long long)g->region_id, names);
}

static enum rs_err resolve_regions(struct reader *r)
{
    struct rs_rhea_config *c = r->c;
    if (c->region_count == 0) {
        /* RheaKV's default: one region, id -1, the whole key space */
        c->regions = calloc(1, sizeof *c->regions);
        r->region_nodes = calloc(1, sizeof *r->region_nodes);
        if (c->regions == NULL || r->region_nodes == NULL) {
            snprintf(r->err->message, sizeof r->err->message, "out of memory");
            return RS_ENOMEM;
        }
        c->region_count = 1;
        c->regions[0].region_id = RS_RHEA_DEFAULT_REGION_ID;
        c->regions[0].mark = node_mark(r->store);
    }
    for (uint32_t i = 0; i < c->region_count; i++) {
        struct rs_rhea_region *g = &c->regions[i];
        const struct region_nodes *n = &r->region_nodes[i];
        char name[80];
        snprintf(name, sizeof name, "the initialServerList of region %lld",
                 (long long)g->region_id);
        if (n->servers != NULL) {
            g->own_peers = true;
            enum rs_err rc = resolve_store_list(r, n->servers, name, false, &g->peers);
            if (rc != RS_OK) {
                return rc;
            }
        } else if (r->servers != NULL) {
            g->peers = c->initial_peers;
        } else {
            return fail_at(r, g->mark,
                           "region %lld has no initialServerList, and there is no "
                           "top-level initialServerList to take",
                           (long long)g->region_id);
        }
        copy_node_options(r, g, n->own_options);
        snprintf(g->raft_group_id, sizeof g->raft_group_id, "%s-%lld", c->cluster_name,
                 (long long)g->region_id);
    }
    return RS_OK;
}

/* The store this file was written for. RheaKV would take the local host name for a missing
 * or 0.0.0.0 ip; the simulator has none, so the port must then name one server. */
static enum rs_err resolve_address(struct reader *r)
{
    struct rs_rhea_config *c = r->c;
    const struct rs_rhea_endpoint *a = &c->store.server_address;
    if (!c->store.has_server_address) {
        return fail_at(r, node_mark(r->store), "storeEngineOptions needs a serverAddress");
    }
    if (r->has_address_ip && strcmp(a->host, "0.0.0.0") != 0) {
        c->store.server_store_id = find_server(c, a->host, a->port);
        if (c->store.server_store_id == RS_NODE_NONE) {
            return fail_at(r, node_mark(r->address),
                           "serverAddress %s:%u is in no initialServerList", a->host, a->port);
        }
        return RS_OK;
    }
    uint32_t match_count = 0;
    for (uint32_t i = 0; i < c->server_count; i++) {
        if (c->servers[i].endpoint.port == a->port) {
            match_count++;
            c->store.server_store_id = (rs_node_id)(i + 1);
        }
    }
    if (match_count != 1) {
        return fail_at(r, node_mark(r->address),
                       "serverAddress gives port %u without an ip, and %s server has that port",
                       a->port, match_count == 0 ? "no" : "more than one");
    }
    return RS_OK;
}

static enum rs_err resolve_pd(struct reader *r)
{
    struct rs_rhea_config *c = r->c;
    if (c->pd.fake) {
        if (r->pd_servers != NULL) {
            warn_at(r, node_mark(r->pd_servers),
                    "placementDriverOptions.initialPdServerList ignored: fake is true");
        }
        return RS_OK;
    }
    if (c->pd.group_id[0] == '\0') {
        return fail_at(r, node_mark(r->pd),
                       "placementDriverOptions needs a pdGroupId unless "
                       "fake is true");
    }
    if (r->pd_servers == NULL) {
        return fail_at(r, node_mark(r->pd),
                       "placementDriverOptions needs an "
                       "initialPdServerList unless fake is true");
    }
    struct peer_items items;
    enum rs_err rc = parse_peer_list(r, r->pd_servers, "initialPdServerList", &items);
    for (uint32_t i = 0; rc == RS_OK && i < items.count; i++) {
        const struct peer_item *item = &items.items[i];
        if (find_server(c, item->host, item->port) != RS_NODE_NONE) {
            return fail_at(r, offset_mark(r->pd_servers, item->offset),
                           "%s:%u is both a PD server and a store", item->host, item->port);
        }
        memcpy(c->pd.peers[i].endpoint.host, item->host, sizeof item->host);
        c->pd.peers[i].endpoint.port = item->port;
        c->pd.peers[i].learner = item->learner;
        c->pd.peer_count = i + 1;
    }
    return rc;
}

/* Bytewise, a shorter key first when it is a prefix of the longer. */
static int key_compare(const uint8_t *a, uint32_t a_size, const uint8_t *b, uint32_t b_size)
{
    uint32_t n = a_size < b_size ? a_size : b_size;
    int d = n > 0 ? memcmp(a, b, n) : 0;
    if (d != 0) {
        return d;
    }
    return a_size < b_size ? -1 : a_size > b_size ? 1 : 0;
}

/* Region starts in order: an empty start (-inf) first, then bytewise; ties in file order. */
static bool start_before(const struct rs_rhea_region *a, const struct rs_rhea_region *b)
{
    if (a->start_key_size == 0 || b->start_key_size == 0) {
        return a->start_key_size == 0 && b->start_key_size != 0;
    }
    return key_compare(a->start_key, a->start_key_size, b->start_key, b->start_key_size) < 0;
}

static struct rs_rhea_mark key_mark(const struct reader *r, uint32_t index, bool start)
{
    const yaml_node_t *node = start ? r->region_nodes[index].start : r->region_nodes[index].end;
    return node != NULL ? node_mark(node) : r->c->regions[index].mark;
}

static enum rs_err check_ranges(struct reader *r)
{
    const struct rs_rhea_config *c = r->c;
    char start[96], end[96];
    for (uint32_t i = 0; i < c->region_count; i++) {
        const struct rs_rhea_region *g = &c->regions[i];
        if (g->start_key_size > 0 && g->end_key_size > 0 &&
            key_compare(g->start_key, g->start_key_size, g->end_key, g->end_key_size) >= 0) {
            return fail_at(r, key_mark(r, i, true),
                           "region %lld: startKey '%s' is not below endKey '%s'",
                           (long long)g->region_id,
                           quote(start, sizeof start, g->start_key, g->start_key_size),
                           quote(end, sizeof end, g->end_key, g->end_key_size));
        }
    }
    return RS_OK;
}

/* Sorted by start key, each region must end where the next starts: no gap, no overlap, from an
 * empty startKey (-inf) to an empty endKey (+inf). */
static enum rs_err check_key_space(struct reader *r)
{
    const struct rs_rhea_config *c = r->c;
    const struct rs_rhea_region *g = c->regions;
    uint32_t order[RS_RHEA_REGION_COUNT_MAX];
    char a[96], b[96];
    RS_ASSERT(c->region_count >= 1 && c->region_count <= RS_RHEA_REGION_COUNT_MAX);
    for (uint32_t i = 0; i < c->region_count; i++) {
        uint32_t j = i;
        for (; j > 0 && start_before(&g[i], &g[order[j - 1]]); j--) {
            order[j] = order[j - 1];
        }
        order[j] = i;
    }
    const struct rs_rhea_region *first = &g[order[0]];
    if (first->start_key_size > 0) {
        return fail_at(r, key_mark(r, order[0], true),
                       "keys below '%s' are in no region: no region has an empty startKey "
                       "(the lowest is region %lld's)",
                       quote(a, sizeof a, first->start_key, first->start_key_size),
                       (long long)first->region_id);
    }
    for (uint32_t k = 1; k < c->region_count; k++) {
        const struct rs_rhea_region *p = &g[order[k - 1]], *q = &g[order[k]];
        struct rs_rhea_mark at = key_mark(r, order[k], true);
        if (q->start_key_size == 0) {
            return fail_at(r, at, "regions %lld and %lld overlap: both have an empty startKey",
                           (long long)p->region_id, (long long)q->region_id);
        }
        quote(a, sizeof a, q->start_key, q->start_key_size);
        if (p->end_key_size == 0) {
            return fail_at(r, at,
                           "region %lld starts at '%s', inside region %lld, which has an "
                           "empty endKey",
                           (long long)q->region_id, a, (long long)p->region_id);
        }
        int d = key_compare(p->end_key, p->end_key_size, q->start_key, q->start_key_size);
        quote(b, sizeof b, p->end_key, p->end_key_size);
        if (d < 0) {
            return fail_at(r, at,
                           "keys from '%s' to '%s' are in no region (region %lld ends, "
                           "region %lld starts)",
                           b, a, (long long)p->region_id, (long long)q->region_id);
        }
        if (d > 0) {
            return fail_at(r, at,
                           "region %lld starts at '%s', inside region %lld, which ends at "
                           "'%s'",
                           (long long)q->region_id, a, (long long)p->region_id, b);
        }
    }
    const struct rs_rhea_region *last = &g[order[c->region_count - 1]];
    if (last->end_key_size > 0) {
        return fail_at(r, key_mark(r, order[c->region_count - 1], false),
                       "keys from '%s' up are in no region: no region has an empty endKey "
                       "(the highest is region %lld's)",
                       quote(a, sizeof a, last->end_key, last->end_key_size),
                       (long long)last->region_id);
    }
    return RS_OK;
}

static enum rs_err resolve(struct reader *r)
{
    struct rs_rhea_config *c = r->c;
    if (r->store == NULL) {
        return fail_at(r, node_mark(r->root),
                       "storeEngineOptions is required: the simulator "
                       "builds the cluster from the store's regions");
    }
    if (r->pd == NULL) {
        return fail_at(r, node_mark(r->root),
                       "placementDriverOptions is required (RheaKV "
                       "refuses a configuration without it)");
    }
    enum rs_err rc = RS_OK;
    if (r->servers != NULL) {
        rc = resolve_store_list(r, r->servers, "initialServerList", true, &c->initial_peers);
    }
    if (rc == RS_OK) {
        rc = resolve_regions(r);
    }
    if (rc == RS_OK) {
        rc = resolve_address(r);
    }
    if (rc == RS_OK) {
        rc = resolve_pd(r);
    }
    if (rc == RS_OK) {
        rc = check_ranges(r);
    }
    return rc == RS_OK ? check_key_space(r) : rc;
}

/* ---- loading ---- */

/* A byte offset as line and column, breaking lines where libyaml does (\r\n, \r, \n, NEL, LS,
 * PS) and counting characters, as libyaml's marks do. */
static struct rs_rhea_mark offset_to_mark(const char *text, size_t size, size_t offset)
{
    struct rs_rhea_mark m = {1, 1};
    const uint8_t *t = (const uint8_t *)text;
    for (size_t i = 0; i < offset && i < size;) {
        size_t brk = (t[i] == '\r' && i + 1 < size && t[i + 1] == '\n')   ? 2
                     : (t[i] == '\r' || t[i] == '\n')                     ? 1
                     : (i + 1 < size && t[i] == 0xc2 && t[i + 1] == 0x85) ? 2
                     : (i + 2 < size && t[i] == 0xe2 && t[i + 1] == 0x80 &&
                        (t[i + 2] == 0xa8 || t[i + 2] == 0xa9))
                         ? 3
                         : 0;
        if (brk > 0) {
            m.line++;
            m.column = 1;
            i += brk;
            continue;
        }
        m.column += (t[i] & 0xc0) != 0x80 ? 1u : 0u;
        i++;
    }
    return m;
}

static bool is_break(char ch)
{
    return ch == '\n' || ch == '\r';
}

/* Whether text[i] starts an anchor or an alias: '&' or '*' after a blank or a flow indicator,
 * before a name. */
static bool anchor_at(const char *t, size_t size, size_t i)
{
    if ((t[i] != '&' && t[i] != '*') || i + 1 == size || is_space(t[i + 1]) || is_break(t[i + 1])) {
        return false;
    }
    return i == 0 || is_space(t[i - 1]) || is_break(t[i - 1]) || strchr("[{,", t[i - 1]) != NULL;
}

/* The things libyaml is slow on (RS_RHEA_FLOW_DEPTH_MAX and the limits after it) are counted
 * before libyaml sees the text, conservatively: in quoted and block scalars too. Only whole-line
 * comments are skipped, since no flow indicator, anchor or alias can be on one. */
static enum rs_err check_text_shape(struct reader *r)
{
    const char *t = r->text;
    uint32_t depth = 0, anchor_count = 0, directive_count = 0;
    bool line_start = true;
    for (size_t i = 0; i < r->size; i++) {
        char ch = t[i];
        struct rs_rhea_mark at = {0, 0};
        if (is_break(ch) || (line_start && is_space(ch))) {
            line_start = is_break(ch) || line_start;
            continue;
        }
        if (line_start && ch == '#') {
            while (i + 1 < r->size && !is_break(t[i + 1])) {
                i++;
            }
            continue;
        }
        bool column_one = i == 0 || is_break(t[i - 1]);
        line_start = false;
        depth = (ch == ']' || ch == '}') && depth > 0 ? depth - 1 : depth;
        if ((ch == '[' || ch == '{') && ++depth > RS_RHEA_FLOW_DEPTH_MAX) {
            at = offset_to_mark(t, r->size, i);
            return fail_at(r, at, "lists and mappings nested deeper than %u levels",
                           RS_RHEA_FLOW_DEPTH_MAX);
        }
        if (anchor_at(t, r->size, i) && ++anchor_count > RS_RHEA_ANCHOR_COUNT_MAX) {
            at = offset_to_mark(t, r->size, i);
            return fail_at(r, at, "more than %u anchors and aliases", RS_RHEA_ANCHOR_COUNT_MAX);
        }
        if (ch == '%' && column_one && ++directive_count > RS_RHEA_DIRECTIVE_COUNT_MAX) {
            at = offset_to_mark(t, r->size, i);
            return fail_at(r, at, "more than %u directives", RS_RHEA_DIRECTIVE_COUNT_MAX);
        }
    }
    return RS_OK;
}

static enum rs_err parser_error(struct reader *r, const yaml_parser_t *p)
{
    if (p->error == YAML_MEMORY_ERROR) {
        snprintf(r->err->message, sizeof r->err->message, "out of memory");
        return RS_ENOMEM;
    }
    const char *problem = p->problem != NULL ? p->problem : "unreadable YAML";
    if (p->error == YAML_READER_ERROR) {
        return fail_at(r, offset_to_mark(r->text, r->size, p->problem_offset), "%s", problem);
    }
    if (p->context != NULL) {
        struct rs_rhea_mark from = mark_of(&p->context_mark);
        return fail_at(r, mark_of(&p->problem_mark), "%s (%s that starts at %u:%u)", problem,
                       p->context, from.line, from.column);
    }
    return fail_at(r, mark_of(&p->problem_mark), "%s", problem);
}

static void config_init(struct rs_rhea_config *c, const char *label)
{
    memset(c, 0, sizeof *c);
    snprintf(c->source, sizeof c->source, "%s", label);
    snprintf(c->cluster_name, sizeof c->cluster_name, "default-group-cluster");
    c->only_leader_read = true;
    c->store.least_keys_on_split = 10000;
    c->store.store_heartbeat_interval_s = 60;
    c->store.region_heartbeat_interval_s = 60;
    c->store.heartbeat_rpc_timeout_ms = 5000;
    node_options_default(&c->store.common_node_options);
}

/* The first document is the configuration. The rest of the stream is read before the
 * configuration is checked, so that a syntax error there is reported as such rather than as
 * what the cut-short first document lacks; a second document is an error, not dropped. */
static enum rs_err read_stream(struct reader *r, yaml_parser_t *parser)
{
    yaml_document_t doc, next;
    if (!yaml_parser_load(parser, &doc)) {
        return parser_error(r, parser);
    }
    enum rs_err rc = RS_OK;
    if (!yaml_parser_load(parser, &next)) {
        rc = parser_error(r, parser);
    } else {
        if (yaml_document_get_root_node(&next) != NULL) {
            rc = fail_at(r, mark_of(&next.start_mark),
                         "a second YAML document: a configuration is one document");
        }
        yaml_document_delete(&next);
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (rc == RS_OK && root == NULL) {
        rc = fail_at(r, (struct rs_rhea_mark){1, 1}, "no configuration: the file is empty");
    }
    if (rc == RS_OK) {
        r->doc = &doc;
        rc = read_root(r, root);
        rc = rc == RS_OK ? resolve(r) : rc;
        r->doc = NULL;
    }
    yaml_document_delete(&doc);
    return rc;
}

enum rs_err rs_rhea_config_load_text(const char *label,
                                     const char *text,
                                     size_t size,
                                     struct rs_rhea_config *out,
                                     struct rs_rhea_error *err)
{
    RS_ASSERT(label != NULL && out != NULL && err != NULL);
    RS_ASSERT(text != NULL || size == 0);
    config_init(out, label);
    memset(err, 0, sizeof *err);
    snprintf(err->file, sizeof err->file, "%s", label);
    struct reader r = {.text = text, .size = size, .c = out, .err = err};
    if (size > RS_RHEA_FILE_SIZE_MAX) {
        return fail_at(&r, (struct rs_rhea_mark){1, 1}, "the file is larger than %u bytes",
                       RS_RHEA_FILE_SIZE_MAX);
    }
    if (size >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        /* libyaml keeps a UTF-8 byte-order mark when the encoding is given, and counts it in
         * the first line's columns; editors do not. */
        r.text = text + 3;
        r.size = size - 3;
    }
    enum rs_err rc = check_text_shape(&r);
    if (rc != RS_OK) {
        return rc;
    }
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err->message, sizeof err->message, "out of memory");
        return RS_ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)(r.size > 0 ? r.text : ""),
                                 r.size);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
    rc = read_stream(&r, &parser);
    yaml_parser_delete(&parser);
    free(r.region_nodes);
    if (rc != RS_OK) {
        rs_rhea_config_free(out);
    }
    return rc;
}

enum rs_err rs_rhea_config_load(const char *path,
                                struct rs_rhea_config *out,
                                struct rs_rhea_error *err)
{
    RS_ASSERT(path != NULL && out != NULL && err != NULL);
    config_init(out, path);
    memset(err, 0, sizeof *err);
    snprintf(err->file, sizeof err->file, "%s", path);
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        snprintf(err->message, sizeof err->message, "cannot open: %s", strerror(errno));
        return RS_EIO;
    }
    char *text = malloc(RS_RHEA_FILE_SIZE_MAX + 1);
    if (text == NULL) {
        fclose(file);
        snprintf(err->message, sizeof err->message, "out of memory");
        return RS_ENOMEM;
    }
    size_t size = fread(text, 1, RS_RHEA_FILE_SIZE_MAX + 1, file);
    bool failed = ferror(file) != 0;
    fclose(file);
    enum rs_err rc = RS_EIO;
    if (failed) {
        snprintf(err->message, sizeof err->message, "cannot read the file");
    } else {
        rc = rs_rhea_config_load_text(path, text, size, out, err);
    }
    free(text);
    return rc;
}

void rs_rhea_config_free(struct rs_rhea_config *c)
{
    free(c->regions);
    c->regions = NULL;
    c->region_count = 0;
}

int rs_rhea_error_format(const struct rs_rhea_error *err, char *buf, size_t size)
{
    if (err->line == 0) {
        return snprintf(buf, size, "%s: %s", err->file, err->message);
    }
    return snprintf(buf, size, "%s:%u:%u: %s", err->file, err->line, err->column, err->message);
}

/* ---- using a configuration ---- */

rs_node_id rs_rhea_store_id(const struct rs_rhea_config *c, const char *host, uint16_t port)
{
    RS_ASSERT(c != NULL && host != NULL);
    return find_server(c, host, port);
}

void rs_rhea_region_members(const struct rs_rhea_config *c,
                            uint32_t region_index,
                            struct rs_rhea_members *out)
{
    RS_ASSERT(region_index < c->region_count);
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i <= RS_NODE_ID_MAX; i++) {
        out->priorities[i] = RS_PRIORITY_DISABLED;
    }
    const struct rs_rhea_peer_list *list = &c->regions[region_index].peers;
    for (uint32_t i = 0; i < list->peer_count; i++) {
        const struct rs_rhea_peer *p = &list->peers[i];
        RS_ASSERT(p->store_id >= 1 && p->store_id <= c->server_count);
        if (p->learner) {
            out->learners[out->learner_count++] = p->store_id;
        } else {
            out->voters[out->voter_count++] = p->store_id;
        }
        out->priorities[p->store_id] = p->priority;
        out->has_priorities = out->has_priorities || p->priority != RS_PRIORITY_DISABLED;
    }
    RS_ASSERT(out->voter_count >= 1);
}

uint32_t rs_rhea_region_for_key(const struct rs_rhea_config *c, const uint8_t *key, size_t size)
{
    RS_ASSERT(c->region_count >= 1);
    uint32_t key_size = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
    for (uint32_t i = 0; i < c->region_count; i++) {
        const struct rs_rhea_region *g = &c->regions[i];
        bool above_start = g->start_key_size == 0 ||
                           key_compare(g->start_key, g->start_key_size, key, key_size) <= 0;
        bool below_end =
            g->end_key_size == 0 || key_compare(key, key_size, g->end_key, g->end_key_size) < 0;
        if (above_start && below_end) {
            return i;
        }
    }
    RS_UNREACHABLE(); /* the loader checked that the regions cover the key space */
}

void rs_rhea_node_options_to_raft(const struct rs_rhea_node_options *o, struct rs_raft_config *cfg)
{
    RS_ASSERT(o->heartbeat_factor >= 2);
    uint32_t set = o->set_mask;
#define SET(field) ((set & (1u << RS_RHEA_##field)) != 0)
    if (SET(ELECTION_TIMEOUT)) {
        cfg->election_timeout_ns = (uint64_t)o->election_timeout_ms * RS_NS_PER_MS;
    }
    if (SET(ELECTION_TIMEOUT) || SET(HEARTBEAT_FACTOR)) {
        cfg->heartbeat_ns = cfg->election_timeout_ns / o->heartbeat_factor;
    }
    if (SET(SNAPSHOT_INTERVAL)) {
        cfg->snapshot_interval_ns = (uint64_t)o->snapshot_interval_s * RS_NS_PER_S;
    }
    if (SET(CATCHUP_MARGIN)) {
        cfg->catchup_margin = o->catchup_margin;
    }
    if (SET(DECAY_PRIORITY_GAP)) {
        cfg->decay_priority_gap = o->decay_priority_gap;
    }
    if (SET(READ_ONLY_OPTION)) {
        cfg->read_mode = o->read_mode;
    }
    if (SET(MAX_ENTRIES_SIZE)) {
        cfg->batch_entries = o->max_entries_count;
    }
    if (SET(MAX_BODY_SIZE)) {
        cfg->batch_bytes = o->max_body_size_bytes;
    }
    if (SET(MAX_BYTE_COUNT_PER_RPC)) {
        cfg->snapshot_chunk_bytes = o->snapshot_chunk_bytes;
    }
    if (SET(MAX_INFLIGHT_MSGS)) {
        cfg->max_inflight = o->max_inflight_count;
    }
#undef SET
}

bool rs_rhea_region_raft_config(const struct rs_rhea_config *c,
                                uint32_t region_index,
                                rs_node_id store_id,
                                struct rs_raft_config *cfg)
{
    RS_ASSERT(region_index < c->region_count);
    struct rs_rhea_members m;
    rs_rhea_region_members(c, region_index, &m);
    bool member = false;
    for (uint32_t i = 0; i < m.voter_count; i++) {
        member = member || m.voters[i] == store_id;
    }
    for (uint32_t i = 0; i < m.learner_count; i++) {
        member = member || m.learners[i] == store_id;
    }
    if (!member) {
        return false;
    }
    cfg->id = store_id;
    cfg->voter_count = m.voter_count;
    memcpy(cfg->voters, m.voters, sizeof m.voters);
    cfg->learner_count = m.learner_count;
    memcpy(cfg->learners, m.learners, sizeof m.learners);
    if (m.has_priorities) {
        cfg->priority_election = true;
        memcpy(cfg->priorities, m.priorities, sizeof m.priorities);
    }
    rs_rhea_node_options_to_raft(&c->regions[region_index].node_options, cfg);
    if (c->only_leader_read_set) {
        cfg->follower_reads = !c->only_leader_read;
    }
    return true;
}
