/* Tests of the RheaKV YAML reader: the shipped examples, RheaKV's rules, located errors, fuzz. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "sim/rhea_config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATA_DIR   RS_SOURCE_DIR "/tests/data/rhea"
#define CONFIG_DIR RS_SOURCE_DIR "/configs"
#define BIT(field) (1u << RS_RHEA_##field)

/* ---- helpers ---- */

static char *read_whole(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    assert_non_null(file);
    char *text = malloc(1 << 20);
    assert_non_null(text);
    *size = fread(text, 1, 1 << 20, file);
    fclose(file);
    char *fitted = realloc(text, *size + 1);
    assert_non_null(fitted);
    fitted[*size] = '\0';
    return fitted;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* The *.yaml files of a directory, sorted, so that the tests run in a fixed order. */
static size_t list_samples(const char *dir, char names[][256], size_t cap)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t count = 0;
    for (struct dirent *e = readdir(d); e != NULL && count < cap; e = readdir(d)) {
        size_t n = strlen(e->d_name);
        if (n > 5 && strcmp(e->d_name + n - 5, ".yaml") == 0) {
            int written = snprintf(names[count++], 256, "%s/%s", dir, e->d_name);
            assert_true(written > 0 && written < 256);
        }
    }
    closedir(d);
    qsort(names, count, 256, compare_names);
    return count;
}

static enum rs_err load(const char *text, struct rs_rhea_config *c, struct rs_rhea_error *err)
{
    return rs_rhea_config_load_text("t.yaml", text, strlen(text), c, err);
}

/* Loads text that must be good; a failure prints the located error. */
static void load_ok(const char *text, struct rs_rhea_config *c)
{
    struct rs_rhea_error err;
    if (load(text, c, &err) != RS_OK) {
        char line[1024];
        rs_rhea_error_format(&err, line, sizeof line);
        fail_msg("%s", line);
    }
}

/* Loads text that must fail, and returns "line:col: message". */
static const char *load_bad(const char *text)
{
    static char line[1024];
    struct rs_rhea_config c;
    struct rs_rhea_error err;
    assert_int_equal(load(text, &c, &err), RS_EINVAL);
    assert_null(c.regions);
    assert_int_equal(c.region_count, 0);
    snprintf(line, sizeof line, "%u:%u: %s", err.line, err.column, err.message);
    return line;
}

/* A one-letter key, or "" for an unbounded end. */
static const char *one_letter(char buf[2], bool unbounded, char letter)
{
    buf[0] = unbounded ? '\0' : letter;
    buf[1] = '\0';
    return buf;
}

static bool has_warning(const struct rs_rhea_config *c, const char *part)
{
    for (uint32_t i = 0; i < c->warning_count; i++) {
        if (strstr(c->warnings[i], part) != NULL) {
            return true;
        }
    }
    return false;
}

static void assert_key(const uint8_t *key, uint32_t size, const char *expected)
{
    assert_int_equal(size, strlen(expected));
    assert_memory_equal(key, expected, size);
}

/* ---- the shipped examples ---- */

static void test_three_regions_example(void **state)
{
    (void)state;
    struct rs_rhea_config c;
    struct rs_rhea_error err;
    assert_int_equal(rs_rhea_config_load(CONFIG_DIR "/rhea-three-regions.yaml", &c, &err), RS_OK);
    assert_int_equal(c.cluster_id, 1);
    assert_string_equal(c.cluster_name, "rhea_sim");
    assert_true(c.only_leader_read);
    assert_false(c.only_leader_read_set);
    /* three listed stores, then the learner store that only region 3 names */
    assert_int_equal(c.server_count, 4);
    for (uint32_t i = 0; i < 4; i++) {
        assert_string_equal(c.servers[i].endpoint.host, "127.0.0.1");
        assert_int_equal(c.servers[i].endpoint.port, 8181 + i);
        assert_int_equal(c.servers[i].listed, i < 3);
    }
    assert_int_equal(c.servers[3].first.line, 38);
    assert_int_equal(c.servers[3].first.column, 71);
    assert_int_equal(c.store.server_store_id, 1);
    assert_int_equal(c.store.least_keys_on_split, 10000);
    assert_int_equal(c.store.store_heartbeat_interval_s, 10);
    assert_int_equal(c.store.region_heartbeat_interval_s, 10);
    assert_int_equal(c.store.heartbeat_rpc_timeout_ms, 5000);
    assert_false(c.pd.fake);
    assert_string_equal(c.pd.group_id, "rhea_pd--1");
    assert_int_equal(c.pd.peer_count, 3);
    assert_int_equal(c.pd.peers[2].endpoint.port, 8380);
    assert_false(c.pd.peers[2].learner);

    assert_int_equal(c.region_count, 3);
    static const char *const starts[] = {"", "g", "t"}, *const ends[] = {"g", "t", ""};
    for (uint32_t i = 0; i < 3; i++) {
        const struct rs_rhea_region *g = &c.regions[i];
        char group[32];
        snprintf(group, sizeof group, "rhea_sim-%u", i + 1);
        assert_int_equal(g->region_id, i + 1);
        assert_string_equal(g->raft_group_id, group);
        assert_key(g->start_key, g->start_key_size, starts[i]);
        assert_key(g->end_key, g->end_key_size, ends[i]);
        struct rs_rhea_members m;
        rs_rhea_region_members(&c, i, &m);
        assert_int_equal(m.voter_count, 3);
        assert_int_equal(m.voters[0], 1);
        assert_int_equal(m.voters[2], 3);
        assert_int_equal(m.learner_count, i == 2 ? 1 : 0);
        assert_false(m.has_priorities);
    }
    struct rs_rhea_members m;
    rs_rhea_region_members(&c, 2, &m);
    assert_int_equal(m.learners[0], 4);
    assert_true(c.regions[2].own_peers);
    assert_false(c.regions[0].own_peers);
    rs_rhea_config_free(&c);
}

static void test_three_regions_node_options(void **state)
{
    (void)state;
    struct rs_rhea_config c;
    struct rs_rhea_error err;
    assert_int_equal(rs_rhea_config_load(CONFIG_DIR "/rhea-three-regions.yaml", &c, &err), RS_OK);
    /* regions 1 and 2 have no nodeOptions: a copy of commonNodeOptions */
    for (uint32_t i = 0; i < 2; i++) {
        const struct rs_rhea_node_options *o = &c.regions[i].node_options;
        assert_true(o->copied_from_common);
        assert_int_equal(o->set_mask, BIT(ELECTION_TIMEOUT) | BIT(SNAPSHOT_INTERVAL) |
                                          BIT(READ_ONLY_OPTION) | BIT(MAX_INFLIGHT_MSGS));
        assert_int_equal(o->election_timeout_ms, 1000);
        assert_int_equal(o->snapshot_interval_s, 30);
        assert_int_equal(o->max_inflight_count, 64);
        assert_int_equal(o->read_mode, RS_READ_SAFE);
    }
    /* region 3 has its own: nothing of commonNodeOptions, jraft's defaults for the rest */
    const struct rs_rhea_node_options *o = &c.regions[2].node_options;
    assert_false(o->copied_from_common);
    assert_int_equal(o->election_timeout_ms, 2000);
    assert_int_equal(o->heartbeat_factor, 20);
    assert_int_equal(o->read_mode, RS_READ_LEASE);
    assert_int_equal(o->max_inflight_count, 256);
    assert_int_equal(o->max_entries_count, 1024);
    assert_int_equal(o->snapshot_chunk_bytes, 128 * 1024);
    /* the options read past, the new store and the region that misses a common option */
    assert_int_equal(c.warning_count, 4);
    assert_true(has_warning(&c,
                            "rhea-three-regions.yaml:17:3: warning: "
                            "storeEngineOptions.rocksDBOptions ignored: RocksDB tuning"));
    assert_true(has_warning(&c, "storeEngineOptions.raftDataPath ignored"));
    assert_true(has_warning(&c,
                            ":38:71: warning: 127.0.0.1:8184 is not in the top-level "
                            "initialServerList: it becomes store 4"));
    assert_true(has_warning(&c, ":40:9: warning: region 3 has its own nodeOptions"));
    assert_true(has_warning(&c, "jraft's defaults apply to maxReplicatorInflightMsgs"));
    rs_rhea_config_free(&c);
}

static void test_fake_pd_example(void **state)
{
    (void)state;
    struct rs_rhea_config c;
    struct rs_rhea_error err;
    assert_int_equal(rs_rhea_config_load(CONFIG_DIR "/rhea-fake-pd.yaml", &c, &err), RS_OK);
    assert_string_equal(c.cluster_name, "rhea_fake");
    assert_true(c.pd.fake);
    assert_int_equal(c.pd.peer_count, 0);
    assert_false(c.only_leader_read);
    assert_true(c.only_leader_read_set);
    assert_int_equal(c.server_count, 3);
    assert_string_equal(c.servers[1].endpoint.host, "10.0.0.2");
    /* serverAddress gives only the port: the one server with port 8182 */
    assert_int_equal(c.store.server_store_id, 2);
    /* no regionEngineOptionsList: RheaKV's region -1 over every key */
    assert_int_equal(c.region_count, 1);
    const struct rs_rhea_region *g = &c.regions[0];
    assert_int_equal(g->region_id, -1);
    assert_string_equal(g->raft_group_id, "rhea_fake--1");
    assert_int_equal(g->start_key_size, 0);
    assert_int_equal(g->end_key_size, 0);
    assert_true(g->node_options.copied_from_common);
    assert_int_equal(g->node_options.election_timeout_ms, 500);
    assert_int_equal(g->node_options.read_mode, RS_READ_LEASE);
    struct rs_rhea_members m;
    rs_rhea_region_members(&c, 0, &m);
    assert_int_equal(m.voter_count, 3);
    assert_int_equal(m.learner_count, 0);
    assert_int_equal(c.warning_count, 1);
    assert_true(has_warning(&c, "storeEngineOptions.storageType ignored"));
    rs_rhea_config_free(&c);
}

/* ---- errors ---- */

/* Every file in tests/data/rhea starts with "# error: LINE:COLUMN: MESSAGE", the one error it
 * must give; there is one file per kind of error. */
static void test_bad_samples_give_located_errors(void **state)
{
    (void)state;
    static char names[128][256];
    size_t count = list_samples(DATA_DIR, names, 128);
    assert_true(count >= 60);
    for (size_t i = 0; i < count; i++) {
        size_t size = 0;
        char *text = read_whole(names[i], &size);
        const char *marker = "# error: ";
        assert_memory_equal(text, marker, strlen(marker));
        char expected[700];
        size_t header = strcspn(text, "\n") - strlen(marker);
        snprintf(expected, sizeof expected, "%s:%.*s", names[i], (int)header,
                 text + strlen(marker));
        free(text);

        struct rs_rhea_config c;
        struct rs_rhea_error err;
        char got[700];
        assert_int_equal(rs_rhea_config_load(names[i], &c, &err), RS_EINVAL);
        rs_rhea_error_format(&err, got, sizeof got);
        if (strcmp(got, expected) != 0) {
            fail_msg("\n  expected %s\n  got      %s", expected, got);
        }
        assert_null(c.regions);
        rs_rhea_config_free(&c);
    }
}

static void test_missing_file(void **state)
{
    (void)state;
    struct rs_rhea_config c;
    struct rs_rhea_error err;
    char line[512];
    assert_int_equal(rs_rhea_config_load(DATA_DIR "/nope.yaml", &c, &err), RS_EIO);
    rs_rhea_error_format(&err, line, sizeof line);
    assert_non_null(strstr(line, "nope.yaml: cannot open: "));
    assert_int_equal(err.line, 0);
    /* A directory opens but does not read. */
    assert_int_equal(rs_rhea_config_load(DATA_DIR, &c, &err), RS_EIO);
    rs_rhea_error_format(&err, line, sizeof line);
    assert_string_equal(line, DATA_DIR ": cannot read the file");
    rs_rhea_config_free(&c);
    rs_rhea_config_free(&c);
}

#define HEAD    "clusterName: t\nplacementDriverOptions: {fake: true}\n"
#define STORE   "storeEngineOptions:\n  serverAddress: {ip: 10.0.0.1, port: 1}\n"
#define SERVERS "initialServerList: 10.0.0.1:1,10.0.0.2:1,10.0.0.3:1\n"

/* Bounds on counts and sizes are errors at the first item beyond them. */
static void test_limits_are_located(void **state)
{
    (void)state;
    size_t cap = 2u << 20;
    char *text = malloc(cap);
    assert_non_null(text);
    /* 256 regions load; the 257th is an error at its item */
    for (uint32_t count = 256; count <= 257; count++) {
        size_t used = (size_t)snprintf(text, cap, HEAD STORE "  regionEngineOptionsList:\n");
        for (uint32_t i = 0; i < count; i++) {
            used += (size_t)snprintf(text + used, cap - used, "    - {regionId: %u", i);
            used += i == 0 ? 0 : (size_t)snprintf(text + used, cap - used, ", startKey: k%03u", i);
            used += i + 1 == count
                        ? 0
                        : (size_t)snprintf(text + used, cap - used, ", endKey: k%03u", i + 1);
            used += (size_t)snprintf(text + used, cap - used, "}\n");
        }
        snprintf(text + used, cap - used, SERVERS);
        if (count == 256) {
            struct rs_rhea_config c;
            load_ok(text, &c);
            assert_int_equal(c.region_count, 256);
            assert_int_equal(rs_rhea_region_for_key(&c, (const uint8_t *)"k200x", 5), 200);
            rs_rhea_config_free(&c);
        } else {
            assert_string_equal(load_bad(text), "262:7: more than 256 regions");
        }
    }
    /* 63 servers at most: store ids index 64-bit sets */
    char start[2], end[2];
    size_t used = (size_t)snprintf(text, cap, HEAD STORE "  regionEngineOptionsList:\n");
    for (uint32_t i = 0; i < 8; i++) {
        used += (size_t)snprintf(text + used, cap - used,
                                 "    - {regionId: %u, startKey: '%s', endKey: '%s', "
                                 "initialServerList: '",
                                 i, one_letter(start, i == 0, (char)('a' + i)),
                                 one_letter(end, i == 7, (char)('b' + i)));
        for (uint32_t k = 0; k < 8; k++) {
            used += (size_t)snprintf(text + used, cap - used, "%s10.1.%u.%u:1", k ? "," : "", i, k);
        }
        used += (size_t)snprintf(text + used, cap - used, "'}\n");
    }
    snprintf(text + used, cap - used, "initialServerList: 10.0.0.1:1\n");
    const char *got = load_bad(text);
    assert_non_null(strstr(got, "more than 63 servers in the cluster"));
    /* the top-level server is store 1 and regions 0..6 add 56: the 7th of region 7 is the 64th */
    assert_memory_equal(got, "13:", 3);
    /* what libyaml is slow on: nesting, anchors and aliases, directives */
    used = (size_t)snprintf(text, cap, HEAD STORE SERVERS "rpcOptions: ");
    memset(text + used, '{', 40);
    text[used + 40] = '\0';
    assert_string_equal(load_bad(text), "6:45: lists and mappings nested deeper than 32 levels");
    used = (size_t)snprintf(text, cap, HEAD STORE SERVERS "rpcOptions: [&a x");
    for (uint32_t i = 0; i < 1023; i++) {
        used += (size_t)snprintf(text + used, cap - used, ", *a");
    }
    snprintf(text + used, cap - used, "]\n");
    struct rs_rhea_config ok;
    load_ok(text, &ok);
    rs_rhea_config_free(&ok);
    snprintf(text + used, cap - used, ",*a, *a]\n");
    assert_string_equal(load_bad(text), "6:4111: more than 1024 anchors and aliases");
    used = 0;
    for (uint32_t i = 0; i < 65; i++) {
        used += (size_t)snprintf(text + used, cap - used, "%%TAG !t%u! tag:t%u:\n", i, i);
    }
    snprintf(text + used, cap - used, "---\n" HEAD STORE SERVERS);
    assert_string_equal(load_bad(text), "65:1: more than 64 directives");
    /* the file size */
    memset(text, '#', RS_RHEA_FILE_SIZE_MAX + 1);
    struct rs_rhea_config c;
    struct rs_rhea_error err;
    assert_int_equal(rs_rhea_config_load_text("big", text, RS_RHEA_FILE_SIZE_MAX + 1, &c, &err),
                     RS_EINVAL);
    assert_string_equal(err.message, "the file is larger than 1048576 bytes");
    assert_int_equal(err.line, 1);
    free(text);
}

static void test_error_format(void **state)
{
    (void)state;
    struct rs_rhea_error err = {.file = "a.yaml", .line = 3, .column = 7, .message = "bad"};
    char buf[64];
    assert_int_equal(rs_rhea_error_format(&err, buf, sizeof buf), 15);
    assert_string_equal(buf, "a.yaml:3:7: bad");
    err.line = 0;
    rs_rhea_error_format(&err, buf, sizeof buf);
    assert_string_equal(buf, "a.yaml: bad");
}

/* ---- RheaKV's rules ---- */

/* A region without nodeOptions gets commonNodeOptions whole; a region with its own gets
 * nothing of them (StoreEngine.init: rOpts.getNodeOptions() == null -> copy). */
static void test_node_options_copy_rule(void **state)
{
    (void)state;
    struct rs_rhea_config c;
    load_ok(HEAD STORE
            "  regionEngineOptionsList:\n"
            "    - {regionId: 1, endKey: b}\n"
            "    - {regionId: 2, startKey: b, endKey: c, nodeOptions: {snapshotIntervalSecs: -5}}\n"
            "    - {regionId: 3, startKey: c, endKey: d, nodeOptions: ~}\n"
            "    - {regionId: 4, startKey: d, nodeOptions: {}}\n"
            "  commonNodeOptions:\n"
            "    electionTimeoutMs: 3000\n"
            "    raftOptions: {maxEntriesSize: 100, maxBodySize: 2048}\n" SERVERS,
            &c);
    const struct rs_rhea_node_options *o1 = &c.regions[0].node_options;
    const struct rs_rhea_node_options *o2 = &c.regions[1].node_options;
    const struct rs_rhea_node_options *o3 = &c.regions[2].node_options;
    const struct rs_rhea_node_options *o4 = &c.regions[3].node_options;
    /* commonNodeOptions came after the regions in the file: the copy still happens */
    assert_true(o1->copied_from_common);
    assert_int_equal(o1->election_timeout_ms, 3000);
    assert_int_equal(o1->max_entries_count, 100);
    assert_int_equal(o1->max_body_size_bytes, 2048);
    assert_int_equal(o1->set_mask,
                     BIT(ELECTION_TIMEOUT) | BIT(MAX_ENTRIES_SIZE) | BIT(MAX_BODY_SIZE));
    /* own options: jraft's defaults, not the common ones; <= 0 turns timer snapshots off */
    assert_false(o2->copied_from_common);
    assert_int_equal(o2->election_timeout_ms, 1000);
    assert_int_equal(o2->max_entries_count, 1024);
    assert_int_equal(o2->snapshot_interval_s, 0);
    assert_int_equal(o2->set_mask, BIT(SNAPSHOT_INTERVAL));
    /* a null nodeOptions is no nodeOptions; an empty mapping is options of its own */
    assert_true(o3->copied_from_common);
    assert_int_equal(o3->election_timeout_ms, 3000);
    assert_false(o4->copied_from_common);
    assert_int_equal(o4->set_mask, 0);
    assert_int_equal(o4->election_timeout_ms, 1000);
    assert_int_equal(c.warning_count, 2);
    assert_true(has_warning(&c,
                            "t.yaml:7:58: warning: region 2 has its own nodeOptions, which "
                            "RheaKV does not merge with commonNodeOptions: jraft's defaults "
                            "apply to electionTimeoutMs, maxEntriesSize, maxBodySize"));
    assert_true(has_warning(&c, "t.yaml:9:47: warning: region 4 has its own nodeOptions"));
    rs_rhea_config_free(&c);
}

/* Store ids follow the top-level list wherever the file puts it, then the regions' own lists;
 * a region's non-empty list wins over the top-level one, a blank one inherits it. */
static void test_server_lists_and_store_ids(void **state)
{
    (void)state;
    struct rs_rhea_config c;
    load_ok(HEAD STORE
            "  regionEngineOptionsList:\n"
            "    - {regionId: 7, endKey: m, initialServerList: ' 10.0.0.3:1, 10.0.0.9:1/learner ,"
            "10.0.0.1:1,,'}\n"
            "    - {regionId: 8, startKey: m, initialServerList: '  '}\n"
            "initialServerList: 10.0.0.2:1,10.0.0.1:1,10.0.0.3:1\n",
            &c);
    assert_int_equal(c.server_count, 4);
    assert_int_equal(rs_rhea_store_id(&c, "10.0.0.2", 1), 1);
    assert_int_equal(rs_rhea_store_id(&c, "10.0.0.1", 1), 2);
    assert_int_equal(rs_rhea_store_id(&c, "10.0.0.3", 1), 3);
    assert_int_equal(rs_rhea_store_id(&c, "10.0.0.9", 1), 4);
    assert_int_equal(rs_rhea_store_id(&c, "10.0.0.9", 2), 0);
    assert_false(c.servers[3].listed);
    assert_int_equal(c.store.server_store_id, 2);
    struct rs_rhea_members m;
    rs_rhea_region_members(&c, 0, &m);
    assert_int_equal(m.voter_count, 2);
    assert_int_equal(m.voters[0], 3);
    assert_int_equal(m.voters[1], 2);
    assert_int_equal(m.learner_count, 1);
    assert_int_equal(m.learners[0], 4);
    rs_rhea_region_members(&c, 1, &m);
    assert_false(c.regions[1].own_peers);
    assert_int_equal(m.voter_count, 3);
    assert_int_equal(m.voters[0], 1);
    assert_int_equal(m.learner_count, 0);
    assert_string_equal(c.regions[1].raft_group_id, "t-8");
    rs_rhea_config_free(&c);
}

static void test_region_raft_config(void **state)
{
    (void)state;
    struct rs_rhea_config c;
    load_ok(HEAD STORE
            "  commonNodeOptions:\n"
            "    electionTimeoutMs: 2000\n"
            "    catchupMargin: 7\n"
            "    raftOptions: {electionHeartbeatFactor: 4, readOnlyOptions: ReadOnlyLeaseBased,"
            " maxReplicatorInflightMsgs: 8, maxByteCountPerRpc: 4096}\n"
            "onlyLeaderRead: false\n"
            "initialServerList: 10.0.0.1:1::3,10.0.0.2:1:0:0,10.0.0.3:1,10.0.0.4:1/learner\n",
            &c);
    struct rs_raft_config base;
    memset(&base, 0, sizeof base);
    base.random_seed = 99;
    base.pre_vote = true;
    base.batch_entries = 5;
    struct rs_raft_config cfg = base;
    assert_true(rs_rhea_region_raft_config(&c, 0, 4, &cfg));
    assert_int_equal(cfg.id, 4);
    assert_int_equal(cfg.voter_count, 3);
    assert_int_equal(cfg.voters[2], 3);
    assert_int_equal(cfg.learner_count, 1);
    assert_int_equal(cfg.learners[0], 4);
    assert_true(cfg.priority_election);
    assert_int_equal(cfg.priorities[1], 3);
    assert_int_equal(cfg.priorities[2], RS_PRIORITY_NEVER);
    assert_int_equal(cfg.priorities[3], RS_PRIORITY_DISABLED);
    assert_int_equal(cfg.election_timeout_ns, 2000 * RS_NS_PER_MS);
    assert_int_equal(cfg.heartbeat_ns, 500 * RS_NS_PER_MS);
    assert_int_equal(cfg.read_mode, RS_READ_LEASE);
    assert_int_equal(cfg.max_inflight, 8);
    assert_int_equal(cfg.snapshot_chunk_bytes, 4096);
    assert_int_equal(cfg.catchup_margin, 7);
    assert_true(cfg.follower_reads);
    /* what the file did not set keeps the caller's (the scenario's) values */
    assert_int_equal(cfg.random_seed, 99);
    assert_true(cfg.pre_vote);
    assert_int_equal(cfg.batch_entries, 5);
    assert_int_equal(cfg.snapshot_interval_ns, 0);
    /* a store outside the region's list does not host it, and nothing changes */
    cfg = base;
    assert_false(rs_rhea_region_raft_config(&c, 0, 5, &cfg));
    assert_memory_equal(&cfg, &base, sizeof cfg);
    rs_rhea_config_free(&c);
}

static void test_region_for_key(void **state)
{
    (void)state;
    struct rs_rhea_config c;
    load_ok(HEAD STORE
            "  regionEngineOptionsList:\n"
            "    - {regionId: 3, startKey: \"t\\xff\"}\n"
            "    - {regionId: 1, endKey: g}\n"
            "    - {regionId: 2, startKey: g, endKey: \"t\\xff\"}\n" SERVERS,
            &c);
    static const struct {
        const char *key;
        uint32_t index;
    } cases[] = {{"", 1},          {"a", 1},         {"f\xff", 1}, {"g", 2},       {"t", 2},
                 {"t\xc3\xbe", 2}, {"t\xc3\xbf", 0}, {"u", 0},     {"\xff\xff", 0}};
    /* "\xff" in a double-quoted YAML string is the character U+00FF: bytes c3 bf */
    assert_key(c.regions[0].start_key, c.regions[0].start_key_size, "t\xc3\xbf");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t got =
            rs_rhea_region_for_key(&c, (const uint8_t *)cases[i].key, strlen(cases[i].key));
        assert_int_equal(got, cases[i].index);
    }
    rs_rhea_config_free(&c);
}

/* Options RheaKV accepts but the simulator does not model read past with warnings, bounded. */
static void test_ignored_options_warn(void **state)
{
    (void)state;
    char text[8192], start[2], end[2];
    size_t used = (size_t)snprintf(text, sizeof text,
                                   HEAD STORE
                                   "  commonNodeOptions:\n"
                                   "    raftOptions:\n");
    static const char *const ignored[] = {"sync",
                                          "syncMeta",
                                          "maxElectionDelayMs",
                                          "fileCheckHole",
                                          "maxAppendBufferSize",
                                          "applyBatch",
                                          "openStatistics",
                                          "replicatorPipeline"};
    for (size_t i = 0; i < 8; i++) {
        used += (size_t)snprintf(text + used, sizeof text - used, "      %s: 1\n", ignored[i]);
    }
    used += (size_t)snprintf(text + used, sizeof text - used, "  regionEngineOptionsList:\n");
    for (uint32_t i = 0; i < 30; i++) {
        used += (size_t)snprintf(text + used, sizeof text - used,
                                 "    - {regionId: %u, startKey: '%s', endKey: '%s', "
                                 "raftDataPath: x}\n",
                                 i, one_letter(start, i == 0, (char)('A' + i)),
                                 one_letter(end, i == 29, (char)('B' + i)));
    }
    snprintf(text + used, sizeof text - used, "rpcOptions: {rpcTimeoutMillis: 1}\n" SERVERS);
    struct rs_rhea_config c;
    load_ok(text, &c);
    assert_int_equal(c.warning_count, RS_RHEA_WARNING_COUNT_MAX);
    assert_int_equal(c.warnings_dropped, 8 + 30 + 1 - RS_RHEA_WARNING_COUNT_MAX);
    assert_string_equal(c.warnings[0],
                        "t.yaml:7:7: warning: commonNodeOptions.raftOptions.sync ignored: the "
                        "simulated log is always synced before it is acknowledged");
    assert_true(has_warning(&c, "regionEngineOptionsList[23].raftDataPath ignored"));
    rs_rhea_config_free(&c);
}

/* Inputs that a careless reader would crash on, loop on or misread. */
static void test_hostile_inputs(void **state)
{
    (void)state;
    struct rs_rhea_config c;
    struct rs_rhea_error err;
    /* a NUL byte in the text; escapes that put one inside a value */
    static const char nul[] = "clusterName: a\0b\n";
    assert_int_equal(rs_rhea_config_load_text("n", nul, sizeof nul - 1, &c, &err), RS_EINVAL);
    assert_int_equal(err.line, 1);
    assert_string_equal(load_bad("clusterName: \"a\\0b\"\n"),
                        "1:14: clusterName contains a control character (byte 2)");
    assert_string_equal(load_bad(HEAD STORE "initialServerList: \"10.0.0.1:1\\0\"\n"),
                        "5:30: '10.0.0.1:1\\x00' in initialServerList: the port must be from 1 "
                        "to 65535");
    /* deep nesting: an error before libyaml, whose time is quadratic in it */
    size_t depth = 500000;
    char *deep = malloc(2 * depth + 32);
    assert_non_null(deep);
    size_t used = (size_t)sprintf(deep, "clusterName: ");
    memset(deep + used, '[', depth);
    memset(deep + used + depth, ']', depth);
    assert_int_equal(rs_rhea_config_load_text("deep", deep, used + 2 * depth, &c, &err), RS_EINVAL);
    assert_string_equal(err.message, "lists and mappings nested deeper than 32 levels");
    assert_int_equal(err.column, 14 + 32);
    free(deep);
    /* the end of a stream without a final line break is on the last line, not after it */
    assert_string_equal(load_bad("clusterName: [a"),
                        "1:16: did not find expected ',' or ']' (while parsing a flow sequence "
                        "that starts at 1:14)");
    /* aliases are shared nodes, not copies: a laugh bomb in an ignored option costs nothing,
     * and an alias may stand for a value the reader uses */
    load_ok(HEAD STORE
            "rpcOptions: &a [x, x, x, x, x, x, x, x]\n"
            "batchingOptions: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
            "failoverRetries: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
            "futureTimeoutMillis: [*c, *c, *c, *c, *c, *c, *c, *c]\n"
            "initialServerList: &s 10.0.0.1:1,10.0.0.2:1\n",
            &c);
    assert_int_equal(c.server_count, 2);
    rs_rhea_config_free(&c);
}

/* CRLF and a byte-order mark read like plain LF text. */
static void test_line_endings_and_bom(void **state)
{
    (void)state;
    const char *lf = HEAD STORE "  leastKeysOnSplit: 5\n" SERVERS;
    char crlf[1024] = "\xef\xbb\xbf";
    size_t used = 3;
    for (const char *p = lf; *p != '\0'; p++) {
        if (*p == '\n') {
            crlf[used++] = '\r';
        }
        crlf[used++] = *p;
    }
    crlf[used] = '\0';
    struct rs_rhea_config a, b;
    load_ok(lf, &a);
    load_ok(crlf, &b);
    assert_int_equal(b.store.least_keys_on_split, 5);
    assert_int_equal(a.server_count, b.server_count);
    assert_int_equal(a.regions[0].peers.mark.line, b.regions[0].peers.mark.line);
    rs_rhea_config_free(&a);
    rs_rhea_config_free(&b);
    /* errors after CR line breaks still name the right line */
    assert_string_equal(load_bad("clusterName: t\r\n\r\nbad: 1\r\n"),
                        "3:1: unknown key 'bad' in the configuration");
}

/* ---- deterministic mutation fuzzing ---- */

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#define FUZZ_CAP 16384

/* Bytes that matter to YAML and to the peer lists, so that mutations reach the reader. */
static const char interesting[] = " \t\n\r:,-{}[]&*!|>'\"#/~0123456789.\0\x7f\x80\xc2\x85";

static size_t mutate(char *buf, size_t size, uint64_t *rng)
{
    uint64_t rounds = 1 + splitmix64(rng) % 3;
    for (uint64_t r = 0; r < rounds; r++) {
        uint64_t kind = splitmix64(rng) % 7;
        size_t at = size > 0 ? (size_t)(splitmix64(rng) % size) : 0;
        char byte = (splitmix64(rng) & 1) ? interesting[splitmix64(rng) % (sizeof interesting - 1)]
                                          : (char)splitmix64(rng);
        if (kind == 0 && size > 0) {
            buf[at] ^= (char)(1u << (splitmix64(rng) % 8));
        } else if (kind == 1 && size < FUZZ_CAP) {
            memmove(buf + at + 1, buf + at, size - at);
            buf[at] = byte;
            size++;
        } else if (kind == 2 && size > 0) {
            memmove(buf + at, buf + at + 1, size - at - 1);
            size--;
        } else if (kind == 3 && size > 0) {
            buf[at] = byte;
        } else if ((kind == 4 || kind == 5) && size > 0) {
            /* Delete or duplicate the line that holds `at`. */
            size_t start = at;
            while (start > 0 && buf[start - 1] != '\n') {
                start--;
            }
            const char *nl = memchr(buf + at, '\n', size - at);
            size_t end = nl != NULL ? (size_t)(nl - buf) + 1 : size;
            size_t n = end - start;
            if (kind == 4) {
                memmove(buf + start, buf + end, size - end);
                size -= n;
            } else if (size + n <= FUZZ_CAP) {
                memmove(buf + end, buf + start, size - start);
                size += n;
            }
        } else if (size > 0) {
            /* Copy a slice elsewhere: repeats keys, values and peers. */
            size_t from = (size_t)(splitmix64(rng) % size);
            size_t n = 1 + (size_t)(splitmix64(rng) % 40);
            n = n > size - from ? size - from : n;
            n = n > FUZZ_CAP - size ? FUZZ_CAP - size : n;
            memmove(buf + at + n, buf + at, size - at);
            memmove(buf + at, buf + (from >= at ? from + n : from), n);
            size += n;
        }
    }
    return size;
}

/* The length in bytes of a line break at text[i] as libyaml counts them, or 0. */
static size_t break_at(const uint8_t *t, size_t size, size_t i)
{
    if (t[i] == '\r') {
        return i + 1 < size && t[i + 1] == '\n' ? 2 : 1;
    }
    if (t[i] == '\n') {
        return 1;
    }
    if (i + 1 < size && t[i] == 0xc2 && t[i + 1] == 0x85) {
        return 2;
    }
    if (i + 2 < size && t[i] == 0xe2 && t[i + 1] == 0x80 &&
        (t[i + 2] == 0xa8 || t[i + 2] == 0xa9)) {
        return 3;
    }
    return 0;
}

/* The error's line and column must point into the text (the column may be one past a line's
 * last byte, and the line one past the last break). */
static void assert_located_inside(const char *text, size_t size, const struct rs_rhea_error *err)
{
    const uint8_t *t = (const uint8_t *)text;
    uint32_t line = 1;
    size_t line_size = 0, wanted_size = 0;
    bool found = err->line == 1;
    for (size_t i = 0; i < size;) {
        size_t brk = break_at(t, size, i);
        if (brk == 0) {
            line_size++;
            i++;
            continue;
        }
        if (line == err->line) {
            wanted_size = line_size;
        }
        line++;
        found = found || line == err->line;
        line_size = 0;
        i += brk;
    }
    if (line == err->line) {
        wanted_size = line_size;
    }
    if (!found || err->column < 1 || err->column > wanted_size + 1 || err->message[0] == '\0') {
        fail_msg("error %u:%u outside the input (%u lines): %s", err->line, err->column, line,
                 err->message);
    }
}

/* What a loaded configuration promises: regions cover the key space, members are stores. */
static void assert_consistent(const struct rs_rhea_config *c)
{
    assert_true(c->region_count >= 1);
    assert_true(c->server_count >= 1);
    for (uint32_t i = 0; i < c->region_count; i++) {
        const struct rs_rhea_region *g = &c->regions[i];
        assert_int_equal(rs_rhea_region_for_key(c, g->start_key, g->start_key_size), i);
        struct rs_rhea_members m;
        rs_rhea_region_members(c, i, &m);
        assert_true(m.voter_count >= 1);
        for (uint32_t k = 0; k < m.voter_count; k++) {
            assert_true(m.voters[k] >= 1 && m.voters[k] <= c->server_count);
        }
        assert_true(g->node_options.election_timeout_ms / g->node_options.heartbeat_factor >= 1);
    }
    assert_true(c->store.server_store_id >= 1 && c->store.server_store_id <= c->server_count);
    assert_true(c->pd.fake || (c->pd.peer_count >= 1 && c->pd.group_id[0] != '\0'));
}

static void test_mutation_fuzz(void **state)
{
    (void)state;
    static char names[128][256];
    size_t good_count = list_samples(CONFIG_DIR, names, 128);
    size_t count = good_count + list_samples(DATA_DIR, names + good_count, 128 - good_count);
    assert_true(good_count >= 2);
    char *samples[128];
    size_t sizes[128];
    for (size_t i = 0; i < count; i++) {
        samples[i] = read_whole(names[i], &sizes[i]);
        assert_true(sizes[i] < FUZZ_CAP);
    }
    char *buf = malloc(FUZZ_CAP);
    assert_non_null(buf);
    uint64_t rng = 0x7e11a;
    size_t parsed = 0;
    for (int iteration = 0; iteration < 20000; iteration++) {
        /* Three in four start from a good sample, so that many mutants still load. */
        size_t pick = (splitmix64(&rng) % 4 != 0) ? (size_t)(splitmix64(&rng) % good_count)
                                                  : (size_t)(splitmix64(&rng) % count);
        memcpy(buf, samples[pick], sizes[pick]);
        size_t size = mutate(buf, sizes[pick], &rng);
        struct rs_rhea_config c;
        struct rs_rhea_error err;
        enum rs_err rc = rs_rhea_config_load_text("fuzz.yaml", buf, size, &c, &err);
        if (rc == RS_OK) {
            parsed++;
            assert_consistent(&c);
        } else {
            assert_int_equal(rc, RS_EINVAL);
            assert_null(c.regions);
            assert_located_inside(buf, size, &err);
        }
        rs_rhea_config_free(&c);
    }
    print_message("fuzz: %zu of 20000 mutated inputs loaded\n", parsed);
    /* The mutations must not be so wild that nothing loads, nor so mild that all does. */
    assert_true(parsed > 1000);
    assert_true(parsed < 19000);
    for (size_t i = 0; i < count; i++) {
        free(samples[i]);
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_regions_example),
        cmocka_unit_test(test_three_regions_node_options),
        cmocka_unit_test(test_fake_pd_example),
        cmocka_unit_test(test_bad_samples_give_located_errors),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_limits_are_located),
        cmocka_unit_test(test_error_format),
        cmocka_unit_test(test_node_options_copy_rule),
        cmocka_unit_test(test_server_lists_and_store_ids),
        cmocka_unit_test(test_region_raft_config),
        cmocka_unit_test(test_region_for_key),
        cmocka_unit_test(test_ignored_options_warn),
        cmocka_unit_test(test_hostile_inputs),
        cmocka_unit_test(test_line_endings_and_bom),
        cmocka_unit_test(test_mutation_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
