/* libFuzzer entry point for the RheaKV YAML reader: never crash or hang, errors inside the
 * input, and whatever loads keeps the reader's promises (regions cover the key space, every
 * member is a store, a voter in every region).
 *
 * Not part of the CMake build. From the repository root:
 *   clang -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -I. tests/fuzz/fuzz_rhea_config.c sim/rhea_config.c sim/assert.c sim/context.c \
 *     core/base.c -lyaml -o build/fuzz_rhea_config
 *   mkdir -p build/fuzz-rhea-corpus
 *   build/fuzz_rhea_config -dict=tests/data/rhea/rhea.dict -max_len=8192 -timeout=5 \
 *     -max_total_time=300 build/fuzz-rhea-corpus configs tests/data/rhea
 */
#include "sim/rhea_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const struct rs_rhea_error *err)
{
    fprintf(stderr, "%s: %u:%u %s\n", what, err->line, err->column, err->message);
    abort();
}

/* A line break as libyaml counts them: \r\n, \r, \n, NEL, LS, PS. */
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
    return i + 2 < size && t[i] == 0xe2 && t[i + 1] == 0x80 &&
                   (t[i + 2] == 0xa8 || t[i + 2] == 0xa9)
               ? 3
               : 0;
}

/* line in 1..lines, column in 1..(bytes of that line)+1: columns count characters, which are
 * never more than bytes. */
static void check_location(const uint8_t *t, size_t size, const struct rs_rhea_error *err)
{
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
        wanted_size = line == err->line ? line_size : wanted_size;
        line++;
        found = found || line == err->line;
        line_size = 0;
        i += brk;
    }
    wanted_size = line == err->line ? line_size : wanted_size;
    if (!found || err->column < 1 || err->column > wanted_size + 1 || err->message[0] == '\0') {
        fail("error outside the input", err);
    }
}

static void check_config(const struct rs_rhea_config *c, const struct rs_rhea_error *err)
{
    if (c->region_count < 1 || c->server_count < 1 || c->store.server_store_id < 1 ||
        c->store.server_store_id > c->server_count) {
        fail("loaded without regions, servers or its own store", err);
    }
    for (uint32_t i = 0; i < c->region_count; i++) {
        const struct rs_rhea_region *g = &c->regions[i];
        if (rs_rhea_region_for_key(c, g->start_key, g->start_key_size) != i) {
            fail("a region's start key routes elsewhere", err);
        }
        struct rs_rhea_members m;
        rs_rhea_region_members(c, i, &m);
        for (uint32_t k = 0; k < m.voter_count + m.learner_count; k++) {
            rs_node_id id = k < m.voter_count ? m.voters[k] : m.learners[k - m.voter_count];
            if (id < 1 || id > c->server_count) {
                fail("a member that is no store", err);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rs_rhea_config c;
    struct rs_rhea_error err;
    enum rs_err rc = rs_rhea_config_load_text("fuzz.yaml", (const char *)data, size, &c, &err);
    if (rc == RS_OK) {
        check_config(&c, &err);
    } else if (rc != RS_EINVAL || c.regions != NULL) {
        fail("an unexpected result", &err);
    } else {
        check_location(data, size, &err);
    }
    rs_rhea_config_free(&c);
    return 0;
}
