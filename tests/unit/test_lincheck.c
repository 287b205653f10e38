/* Tests of the linearizability checker: hand-made histories, random cross-checks, the command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include "sim/cmd_check_history.h"
#include "sim/history.h"
#include "sim/lincheck.h"

/* ---- Helpers ---- */

static struct rs_history *parse_text(const char *text)
{
    struct rs_history *h = rs_history_new();
    struct rs_history_error err;
    enum rs_err rc = rs_history_parse(h, text, strlen(text), &err);
    if (rc != RS_OK) {
        fprintf(stderr, "parse error %u:%u: %s\n", err.line, err.column, err.message);
    }
    assert_int_equal(rc, RS_OK);
    return h;
}

/* Checks with the fast checker and the reference; both must give `want`. */
static void expect_verdict_result(const char *text,
                                  enum rs_lincheck_verdict want,
                                  struct rs_lincheck_result *result)
{
    struct rs_history *h = parse_text(text);
    assert_int_equal(rs_lincheck_check(h, NULL, result), RS_OK);
    if (result->verdict != want) {
        struct rs_buf out;
        rs_buf_init(&out);
        rs_lincheck_format(h, result, &out);
        fprintf(stderr, "%s---\n%s", text, out.data);
        rs_buf_free(&out);
    }
    assert_int_equal(result->verdict, want);
    assert_int_equal(rs_lincheck_reference(h, 10000000), want);
    rs_history_free(h);
}

static void expect_verdict(const char *text, enum rs_lincheck_verdict want)
{
    struct rs_lincheck_result result;
    expect_verdict_result(text, want, &result);
    rs_lincheck_result_free(&result);
}

/* Builds JSONL from a compact script: "P invoke|ok|fail|info F KEY [VALUE|-|EXP>NEW] TIME". */
static char *script(const char *lines)
{
    static char out[16384];
    size_t used = 0;
    const char *p = lines;
    while (*p != '\0') {
        unsigned process = 0;
        char type[16], f[16], key[32], value[64];
        long long time = 0;
        int n = 0;
        int fields =
            sscanf(p, "%u %15s %15s %31s %63s %lld%n", &process, type, f, key, value, &time, &n);
        assert_int_equal(fields, 6);
        char json_value[160] = "";
        char *arrow = strchr(value, '>');
        if (strcmp(value, "-") == 0) {
            json_value[0] = '\0';
        } else if (strcmp(value, "null") == 0) {
            snprintf(json_value, sizeof json_value, ",\"value\":null");
        } else if (arrow != NULL) {
            *arrow = '\0';
            snprintf(json_value, sizeof json_value, ",\"value\":[\"%s\",\"%s\"]", value, arrow + 1);
        } else {
            snprintf(json_value, sizeof json_value, ",\"value\":\"%s\"", value);
        }
        used += (size_t)snprintf(out + used, sizeof out - used,
                                 "{\"process\":%u,\"type\":\"%s\",\"f\":\"%s\",\"key\":\"%s\"%s,"
                                 "\"time\":%lld}\n",
                                 process, type, f, key, json_value, time);
        assert_true(used < sizeof out);
        p += n;
        while (*p == '\n' || *p == ' ' || *p == ';') {
            p++;
        }
    }
    return out;
}

/* ---- Hand-written histories ---- */

static void test_empty_and_sequential(void **state)
{
    (void)state;
    expect_verdict("", RS_LINCHECK_OK);
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 10;"
                          "0 invoke get k - 20; 0 ok get k a 30;"
                          "0 invoke delete k - 40; 0 ok delete k - 50;"
                          "0 invoke get k - 60; 0 ok get k null 70"),
                   RS_LINCHECK_OK);
    /* A read of a value nobody wrote. */
    expect_verdict(script("0 invoke get k - 0; 0 ok get k zz 10"), RS_LINCHECK_VIOLATION);
}

static void test_stale_read(void **state)
{
    (void)state;
    const char *text = script(
        "0 invoke put k a 0; 0 ok put k - 10;"
        "1 invoke put k b 20; 1 ok put k - 30;"
        "2 invoke get k - 40; 2 ok get k a 50");
    struct rs_lincheck_result r;
    expect_verdict_result(text, RS_LINCHECK_VIOLATION, &r);
    /* The smallest window: put b, then the read of a after it completed. */
    assert_true(r.witness_is_window);
    assert_int_equal(r.witness_count, 2);
    assert_int_equal(r.witness[0], 2); /* the invoke of put b is event 2 */
    assert_int_equal(r.witness[1], 4); /* the invoke of the get */
    assert_int_equal(r.keys_violating, 1);
    rs_lincheck_result_free(&r);
}

static void test_lost_write_and_concurrency(void **state)
{
    (void)state;
    /* The put completed, then a read finds nothing. */
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 10;"
                          "1 invoke get k - 20; 1 ok get k null 30"),
                   RS_LINCHECK_VIOLATION);
    /* Overlapping: the read may come before or after the put. */
    expect_verdict(script("0 invoke put k a 0; 1 invoke get k - 5; 1 ok get k null 8;"
                          "2 invoke get k - 9; 2 ok get k a 12; 0 ok put k - 100"),
                   RS_LINCHECK_OK);
    /* Once a read saw the put's value, a later read cannot miss it. */
    expect_verdict(script("0 invoke put k a 0; 1 invoke get k - 10; 1 ok get k a 20;"
                          "1 invoke get k - 30; 1 ok get k null 40; 0 ok put k - 100"),
                   RS_LINCHECK_VIOLATION);
    /* Equal times are concurrent: a completion at 10 and an invoke at 10 overlap. */
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 10;"
                          "1 invoke get k - 10; 1 ok get k null 20"),
                   RS_LINCHECK_OK);
}

static void test_cas_chains(void **state)
{
    (void)state;
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 10;"
                          "1 invoke cas k a>b 20; 1 ok cas k a>b 30;"
                          "2 invoke cas k b>c 25; 2 ok cas k b>c 40;"
                          "3 invoke get k - 50; 3 ok get k c 60"),
                   RS_LINCHECK_OK);
    /* Two cas succeeding from the same value. */
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 10;"
                          "1 invoke cas k a>b 20; 1 ok cas k a>b 30;"
                          "2 invoke cas k a>c 40; 2 ok cas k a>c 50"),
                   RS_LINCHECK_VIOLATION);
    /* A concurrent put cannot come between put a and the cas that consumes a, nor after. */
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 5;"
                          "1 invoke cas k a>b 10; 2 invoke put k c 12; 2 ok put k - 18;"
                          "1 ok cas k a>b 20; 3 invoke get k - 30; 3 ok get k b 40"),
                   RS_LINCHECK_VIOLATION);
    /* A failed cas is dropped. */
    expect_verdict(script("0 invoke cas k x>y 0; 0 fail cas k x>y 10;"
                          "1 invoke get k - 20; 1 ok get k null 30"),
                   RS_LINCHECK_OK);
}

static void test_delete_put_if_absent_get_and_put(void **state)
{
    (void)state;
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 10;"
                          "0 invoke delete k - 20; 0 ok delete k - 30;"
                          "0 invoke put_if_absent k b 40; 0 ok put_if_absent k - 50;"
                          "0 invoke get_and_put k c 60; 0 ok get_and_put k b 70;"
                          "0 invoke get k - 80; 0 ok get k c 90"),
                   RS_LINCHECK_OK);
    /* put_if_absent succeeded although a was there. */
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 10;"
                          "1 invoke put_if_absent k b 20; 1 ok put_if_absent k - 30"),
                   RS_LINCHECK_VIOLATION);
    /* get_and_put returned nothing although a was there. */
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 10;"
                          "1 invoke get_and_put k b 20; 1 ok get_and_put k null 30"),
                   RS_LINCHECK_VIOLATION);
    /* A put_if_absent that found the key present is a fail: dropped. */
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 10;"
                          "1 invoke put_if_absent k b 20; 1 fail put_if_absent k - 30;"
                          "1 invoke get k - 40; 1 ok get k a 50"),
                   RS_LINCHECK_OK);
}

static void test_info_operations(void **state)
{
    (void)state;
    /* Observed later: it must have happened, and can. */
    expect_verdict(script("0 invoke put k a 0; 0 info put k - 10;"
                          "1 invoke get k - 20; 1 ok get k a 30"),
                   RS_LINCHECK_OK);
    /* An invoke never completed counts as info; it may take effect long after. */
    expect_verdict(script("0 invoke put k a 0; 1 invoke get k - 1000; 1 ok get k a 1010"),
                   RS_LINCHECK_OK);
    /* Observed before it was invoked: it cannot be placed. */
    expect_verdict(script("1 invoke get k - 0; 1 ok get k a 10; 0 invoke put k a 20"),
                   RS_LINCHECK_VIOLATION);
    /* An info cas from a value that never was there, yet its new value is read. */
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 10;"
                          "1 invoke cas k b>c 20; 1 info cas k - 30;"
                          "2 invoke get k - 40; 2 ok get k c 50"),
                   RS_LINCHECK_VIOLATION);
    /* A chain of info cas forced by the last read. */
    expect_verdict(script("0 invoke put k a 0; 0 info put k - 5;"
                          "1 invoke cas k a>b 10; 1 info cas k - 15;"
                          "2 invoke cas k b>c 20; 2 info cas k - 25;"
                          "3 invoke get k - 100; 3 ok get k c 110"),
                   RS_LINCHECK_OK);
    /* An unobserved info put may never have happened. */
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 10;"
                          "1 invoke put k x 20; 1 info put k - 25;"
                          "2 invoke get k - 30; 2 ok get k a 40;"
                          "2 invoke put_if_absent k y 50; 2 fail put_if_absent k - 60"),
                   RS_LINCHECK_OK);
    /* Unknown delete explains a missing value; without it the read is a violation. */
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 10;"
                          "1 invoke delete k - 20; 1 info delete k - 25;"
                          "2 invoke get k - 30; 2 ok get k null 40;"
                          "2 invoke put_if_absent k b 50; 2 ok put_if_absent k - 60;"
                          "2 invoke get k - 70; 2 ok get k b 80"),
                   RS_LINCHECK_OK);
    /* One unknown delete can explain one disappearance, not two. */
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 10;"
                          "1 invoke delete k - 20; 1 info delete k - 25;"
                          "2 invoke get k - 30; 2 ok get k null 40;"
                          "2 invoke put k b 50; 2 ok put k - 60;"
                          "2 invoke get k - 70; 2 ok get k null 80"),
                   RS_LINCHECK_VIOLATION);
    /* A failed read carries no information. */
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 10;"
                          "1 invoke get k - 20; 1 info get k - 30"),
                   RS_LINCHECK_OK);
}

static void test_unobserved_puts(void **state)
{
    (void)state;
    /* x is never read; it must be placed before a to let both reads of a succeed. */
    expect_verdict(script("0 invoke put k x 0; 1 invoke put k a 10; 1 ok put k - 20;"
                          "1 invoke get k - 30; 1 ok get k a 40; 0 ok put k - 100;"
                          "1 invoke get k - 110; 1 ok get k a 120"),
                   RS_LINCHECK_OK);
    /* x completed after a and before the read of a: it hides a. */
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 10;"
                          "1 invoke put k x 20; 1 ok put k - 30;"
                          "2 invoke get k - 40; 2 ok get k a 50"),
                   RS_LINCHECK_VIOLATION);
    /* Many concurrent unobserved puts and a delete: fine, absent last. */
    expect_verdict(script("0 invoke put k x0 0; 1 invoke put k x1 0; 2 invoke put k x2 0;"
                          "3 invoke delete k - 0; 0 ok put k - 10; 1 ok put k - 10;"
                          "2 ok put k - 10; 3 ok delete k - 10;"
                          "4 invoke get k - 20; 4 ok get k null 30"),
                   RS_LINCHECK_OK);
}

static void test_overlapping_deletes(void **state)
{
    (void)state;
    /* The delete that must complete first has to be the one used first. */
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 3;"
                          "1 invoke delete k - 1; 2 invoke delete k - 1;"
                          "3 invoke get k - 4; 3 ok get k null 6; 1 ok delete k - 10;"
                          "3 invoke put k b 20; 3 ok put k - 30;"
                          "4 invoke get k - 40; 4 ok get k null 50; 2 ok delete k - 100"),
                   RS_LINCHECK_OK);
    /* Two deletes cannot explain three disappearances. */
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 3;"
                          "1 invoke delete k - 1; 2 invoke delete k - 1;"
                          "3 invoke get k - 4; 3 ok get k null 6; 1 ok delete k - 10;"
                          "3 invoke put k b 20; 3 ok put k - 30;"
                          "4 invoke get k - 40; 4 ok get k null 50;"
                          "4 invoke put k c 60; 4 ok put k - 70;"
                          "4 invoke get k - 80; 4 ok get k null 90; 2 ok delete k - 100"),
                   RS_LINCHECK_VIOLATION);
}

static void test_repeated_values_use_general_search(void **state)
{
    (void)state;
    struct rs_lincheck_result r;
    expect_verdict_result(script("0 invoke put k a 0; 0 ok put k - 10;"
                                 "1 invoke put k b 20; 1 ok put k - 30;"
                                 "3 invoke put k a 25; 3 ok put k - 45;"
                                 "2 invoke get k - 50; 2 ok get k a 60"),
                          RS_LINCHECK_OK, &r);
    assert_int_equal(r.keys_general, 1);
    assert_non_null(strstr(r.note, "repeat"));
    rs_lincheck_result_free(&r);
    expect_verdict(script("0 invoke put k a 0; 0 ok put k - 10;"
                          "1 invoke put k b 20; 1 ok put k - 30;"
                          "2 invoke get k - 40; 2 ok get k a 50;"
                          "1 invoke put k a 60; 1 ok put k - 70"),
                   RS_LINCHECK_VIOLATION);
    /* Repeated values with info writes that stay pending in the general search. */
    expect_verdict(script("0 invoke put k a 0; 0 info put k - 5;"
                          "1 invoke put k a 10; 1 info put k - 15;"
                          "2 invoke delete k - 20; 2 ok delete k - 30;"
                          "3 invoke get k - 40; 3 ok get k a 50;"
                          "3 invoke delete k - 60; 3 ok delete k - 70;"
                          "3 invoke get k - 80; 3 ok get k a 90"),
                   RS_LINCHECK_OK);
    expect_verdict(script("0 invoke put k a 0; 0 info put k - 5;"
                          "1 invoke put k a 10; 1 info put k - 15;"
                          "2 invoke delete k - 20; 2 ok delete k - 30;"
                          "3 invoke get k - 40; 3 ok get k a 50;"
                          "3 invoke delete k - 60; 3 ok delete k - 70;"
                          "3 invoke get k - 80; 3 ok get k a 90;"
                          "3 invoke delete k - 100; 3 ok delete k - 110;"
                          "3 invoke get k - 120; 3 ok get k a 130"),
                   RS_LINCHECK_VIOLATION);
}

static void test_keys_are_independent(void **state)
{
    (void)state;
    struct rs_lincheck_result r;
    expect_verdict_result(script("0 invoke put a v1 0; 0 ok put a - 10;"
                                 "1 invoke put b v2 0; 1 ok put b - 10;"
                                 "2 invoke get b - 20; 2 ok get b null 30;"
                                 "2 invoke get a - 40; 2 ok get a v1 50"),
                          RS_LINCHECK_VIOLATION, &r);
    assert_int_equal(r.key_count, 2);
    assert_int_equal(r.keys_violating, 1);
    rs_lincheck_result_free(&r);
}

/* ---- Random histories: fast checker against the reference ---- */

/* An event of h as recorder input (strings point into h). */
static struct rs_hist_event_in event_in(const struct rs_history *h, size_t i)
{
    const struct rs_hist_event *ev = rs_history_event(h, i);
    struct rs_hist_event_in in = {.process = ev->process,
                                  .type = (enum rs_hist_type)ev->type,
                                  .f = (enum rs_hist_f)ev->f,
                                  .key = rs_history_string(h, ev->key),
                                  .value_kind = (enum rs_hist_value_kind)ev->value_kind,
                                  .time_ns = ev->time_ns};
    if (ev->value != RS_HIST_NONE) {
        in.value = rs_history_string(h, ev->value);
    }
    if (ev->expected != RS_HIST_NONE) {
        in.expected = rs_history_string(h, ev->expected);
    }
    return in;
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

enum mutation { MUT_READ, MUT_MOVE, MUT_INFO_TO_OK, MUT_CAS_EXPECTED, MUT_DROP_COMPLETION };

/* Whether event i can take the mutation. */
static bool mutable_event(const struct rs_history *h, size_t i, enum mutation kind)
{
    const struct rs_hist_event *ev = rs_history_event(h, i);
    bool reads = ev->f == RS_HIST_GET || ev->f == RS_HIST_GET_AND_PUT;
    bool completed = ev->type == RS_HIST_INVOKE && ev->partner != RS_HIST_NONE;
    switch (kind) {
        case MUT_READ:
            return ev->type == RS_HIST_OK && reads;
        case MUT_MOVE:
            return completed;
        case MUT_INFO_TO_OK:
            return ev->type == RS_HIST_INFO && !reads;
        case MUT_CAS_EXPECTED:
            return completed && ev->f == RS_HIST_CAS &&
                   rs_history_event(h, ev->partner)->type != RS_HIST_INFO;
        default:
            return ev->type == RS_HIST_OK;
    }
}

/*
 * A mutated copy: an ok read gets another value (or null); a completed operation moves to
 * another time (on a fresh process, so per-process order still holds); an info write becomes
 * ok; a cas expects another value; or an ok loses its completion (becomes indeterminate).
 */
static struct rs_history *mutate(const struct rs_history *h, uint64_t *rng)
{
    size_t n = rs_history_event_count(h);
    size_t target = n;
    enum mutation kind = (enum mutation)(rng_next(rng) % 5);
    for (size_t tries = 0; tries < 4 * n && target == n; tries++) {
        size_t i = rng_next(rng) % n;
        target = mutable_event(h, i, kind) ? i : n;
    }
    if (target == n) {
        return NULL;
    }
    struct rs_history *m = rs_history_new();
    struct rs_hist_str other =
        rs_history_string(h, (uint32_t)(rng_next(rng) % rs_history_string_count(h)));
    int64_t shift = (int64_t)(rng_next(rng) % 4000000) - 2000000;
    bool null = rng_next(rng) % 4 == 0;
    uint32_t partner = rs_history_event(h, target)->partner;
    for (size_t i = 0; i < n; i++) {
        struct rs_hist_event_in in = event_in(h, i);
        bool hit = i == target || i == partner;
        if (kind == MUT_READ && i == target) {
            in.value_kind = null ? RS_HIST_VALUE_NULL : RS_HIST_VALUE_STRING;
            in.value = other;
        } else if (kind == MUT_MOVE && hit) {
            in.process = 1000000;
            in.time_ns += shift;
        } else if (kind == MUT_INFO_TO_OK && i == target) {
            in.type = RS_HIST_OK;
        } else if (kind == MUT_CAS_EXPECTED && hit) {
            in.expected = other;
        } else if (kind == MUT_DROP_COMPLETION && i == target) {
            continue;
        }
        enum rs_err rc = rs_history_add(m, &in, NULL);
        if (rc != RS_OK) {
            /* The process invokes again after its dropped completion, or an ok get_and_put
               or cas lacks the value an ok needs: not a mutant worth having. */
            assert_true(kind == MUT_DROP_COMPLETION || kind == MUT_INFO_TO_OK);
            rs_history_free(m);
            return NULL;
        }
    }
    return m;
}

struct tally {
    unsigned checked;
    unsigned violations;
    unsigned unknown;
    unsigned windows; /* violations shown with a failing window */
};

/* The fast checker and the reference must agree; a violation must come with a witness. */
static void cross_check(const struct rs_history *h, struct tally *t)
{
    enum rs_lincheck_verdict want = rs_lincheck_reference(h, 20000000);
    struct rs_lincheck_options opt;
    rs_lincheck_options_default(&opt);
    opt.self_check = true; /* every witness window is judged by the reference too */
    struct rs_lincheck_result r;
    assert_int_equal(rs_lincheck_check(h, &opt, &r), RS_OK);
    assert_int_equal(r.self_check_disagreements, 0);
    if (want == RS_LINCHECK_UNKNOWN) {
        t->unknown++;
    } else {
        if (r.verdict != want) {
            rs_history_write(h, stderr);
            fprintf(stderr, "fast %d reference %d\n", r.verdict, want);
        }
        assert_int_equal(r.verdict, want);
        t->checked++;
        t->violations += want == RS_LINCHECK_VIOLATION;
    }
    if (r.verdict == RS_LINCHECK_VIOLATION) {
        assert_true(r.witness_count > 0);
        t->windows += r.witness_is_window;
    }
    rs_lincheck_result_free(&r);
}

static void random_options(struct rs_history_gen_options *o, uint64_t *rng, unsigned round)
{
    rs_history_gen_defaults(o);
    o->seed = 1000 + round;
    o->op_count = 3 + (uint32_t)(rng_next(rng) % 14);
    o->key_count = 1 + (uint32_t)(rng_next(rng) % 2);
    o->client_count = 2 + (uint32_t)(rng_next(rng) % 4);
    o->info_ppm = (uint32_t)(rng_next(rng) % 300000);
    o->fail_ppm = (uint32_t)(rng_next(rng) % 100000);
    o->value_alphabet = rng_next(rng) % 4 == 0 ? 2 + (uint32_t)(rng_next(rng) % 3) : 0;
    if (rng_next(rng) % 3 == 0) {
        o->mix_ppm[RS_HIST_DELETE] = 300000; /* deletes overlap often */
    }
    o->latency_ns_max = 1000000;
    o->think_ns_max = (int64_t)(rng_next(rng) % 1000000);
}

/* Longer single-key histories with many clients: much more overlap. */
static void concurrent_options(struct rs_history_gen_options *o, uint64_t *rng, unsigned round)
{
    random_options(o, rng, round);
    o->seed = 5000 + round;
    o->op_count = 20 + (uint32_t)(rng_next(rng) % 30);
    o->key_count = 1;
    o->client_count = 4 + (uint32_t)(rng_next(rng) % 8);
    o->think_ns_max = (int64_t)(rng_next(rng) % 200000);
    o->value_alphabet = rng_next(rng) % 8 == 0 ? 3 + (uint32_t)(rng_next(rng) % 4) : 0;
}

static void test_random_cross_check_concurrent(void **state)
{
    (void)state;
    uint64_t rng = 4242;
    struct tally good = {0};
    struct tally bad = {0};
    for (unsigned round = 0; round < 400; round++) {
        struct rs_history_gen_options o;
        concurrent_options(&o, &rng, round);
        struct rs_history *h = rs_history_new();
        assert_int_equal(rs_history_generate(h, &o), RS_OK);
        cross_check(h, &good);
        for (int j = 0; j < 3; j++) {
            struct rs_history *m = mutate(h, &rng);
            if (m != NULL) {
                cross_check(m, &bad);
                rs_history_free(m);
            }
        }
        rs_history_free(h);
    }
    assert_int_equal(good.violations, 0);
    assert_true(good.checked > 350);
    assert_true(bad.checked > 700);
    assert_true(bad.violations > bad.checked / 5);
    assert_true(bad.windows * 20 >= bad.violations * 19); /* a window nearly always */
    fprintf(stderr, "concurrent cross-check: %u good, %u mutants (%u violations), %u undecided\n",
            good.checked, bad.checked, bad.violations, good.unknown + bad.unknown);
}

static void test_random_cross_check(void **state)
{
    (void)state;
    uint64_t rng = 42;
    struct tally good = {0};
    struct tally bad = {0};
    for (unsigned round = 0; round < 3000; round++) {
        struct rs_history_gen_options o;
        random_options(&o, &rng, round);
        struct rs_history *h = rs_history_new();
        assert_int_equal(rs_history_generate(h, &o), RS_OK);
        cross_check(h, &good);
        for (int j = 0; j < 2; j++) {
            struct rs_history *m = mutate(h, &rng);
            if (m != NULL) {
                cross_check(m, &bad);
                rs_history_free(m);
            }
        }
        rs_history_free(h);
    }
    /* Generated histories are correct; a good share of the mutants are not. */
    assert_int_equal(good.violations, 0);
    assert_true(good.checked > 2900);
    fprintf(stderr, "cross-check: %u good, %u mutants (%u violations), %u undecided\n",
            good.checked, bad.checked, bad.violations, good.unknown + bad.unknown);
    assert_true(bad.checked > 3500);
    assert_true(bad.violations > bad.checked / 5);
    assert_true(bad.windows * 20 >= bad.violations * 19); /* a window nearly always */
}

/* ---- Larger histories ---- */

/* The unique-value rules against the general search, on histories too long for the reference. */
static void test_rules_agree_with_general_search(void **state)
{
    (void)state;
    uint64_t rng = 777;
    struct rs_lincheck_options general;
    rs_lincheck_options_default(&general);
    general.general = true;
    general.no_witness = true;
    general.steps_max = 3000000;
    unsigned compared = 0;
    unsigned violations = 0;
    unsigned windows = 0;
    struct rs_lincheck_options checked;
    rs_lincheck_options_default(&checked);
    checked.self_check = true;
    for (unsigned round = 0; round < 80; round++) {
        struct rs_history_gen_options o;
        random_options(&o, &rng, round);
        o.seed = 9000 + round;
        o.op_count = 100 + (uint32_t)(rng_next(&rng) % 200);
        o.client_count = 4 + (uint32_t)(rng_next(&rng) % 10);
        o.info_ppm = (uint32_t)(rng_next(&rng) % 30000);
        o.value_alphabet = 0;
        struct rs_history *h = rs_history_new();
        assert_int_equal(rs_history_generate(h, &o), RS_OK);
        for (int j = 0; j < 4; j++) {
            struct rs_history *m = j == 0 ? h : mutate(h, &rng);
            if (m == NULL) {
                continue;
            }
            struct rs_lincheck_result fast, slow;
            assert_int_equal(rs_lincheck_check(m, &checked, &fast), RS_OK);
            assert_int_equal(rs_lincheck_check(m, &general, &slow), RS_OK);
            if (slow.verdict != RS_LINCHECK_UNKNOWN) {
                assert_int_equal(fast.verdict, slow.verdict);
                compared++;
                violations += fast.verdict == RS_LINCHECK_VIOLATION;
            }
            windows += fast.witness_is_window;
            assert_int_equal(fast.self_check_disagreements, 0);
            rs_lincheck_result_free(&fast);
            rs_lincheck_result_free(&slow);
            if (m != h) {
                rs_history_free(m);
            }
        }
        rs_history_free(h);
    }
    fprintf(stderr, "rules against general search: %u compared, %u violations, %u windows\n",
            compared, violations, windows);
    assert_true(compared > 200);
    assert_true(violations > compared / 10);
}

static void test_hot_key_with_info(void **state)
{
    (void)state;
    struct rs_history_gen_options o;
    rs_history_gen_defaults(&o);
    o.seed = 7;
    o.op_count = 4000;
    o.key_count = 1;
    o.client_count = 16;
    o.info_ppm = 50000;
    struct rs_history *h = rs_history_new();
    assert_int_equal(rs_history_generate(h, &o), RS_OK);
    struct rs_lincheck_result r;
    assert_int_equal(rs_lincheck_check(h, NULL, &r), RS_OK);
    assert_int_equal(r.verdict, RS_LINCHECK_OK);
    assert_int_equal(r.keys_general, 0);
    rs_lincheck_result_free(&r);
    /* A read that returns a value overwritten long before is caught in a long history. */
    struct rs_history *m = rs_history_new();
    size_t n = rs_history_event_count(h);
    bool mutated = false;
    for (size_t i = 0; i < n; i++) {
        struct rs_hist_event_in in = event_in(h, i);
        if (!mutated && i > n / 2 && in.type == RS_HIST_OK && in.f == RS_HIST_GET &&
            in.value_kind == RS_HIST_VALUE_STRING) {
            in.value.data = "v3";
            in.value.size = 2;
            mutated = true;
        }
        assert_int_equal(rs_history_add(m, &in, NULL), RS_OK);
    }
    assert_true(mutated);
    assert_int_equal(rs_lincheck_check(m, NULL, &r), RS_OK);
    assert_int_equal(r.verdict, RS_LINCHECK_VIOLATION);
    assert_true(r.witness_is_window);
    assert_true(r.witness_count >= 1 && r.witness_count <= 8);
    rs_lincheck_result_free(&r);
    rs_history_free(m);
    rs_history_free(h);
}

static void test_budget_gives_unknown(void **state)
{
    (void)state;
    struct rs_history_gen_options o;
    rs_history_gen_defaults(&o);
    o.op_count = 500;
    o.key_count = 1;
    o.client_count = 16;
    struct rs_history *h = rs_history_new();
    assert_int_equal(rs_history_generate(h, &o), RS_OK);
    struct rs_lincheck_options opt;
    rs_lincheck_options_default(&opt);
    opt.steps_max = 5;
    struct rs_lincheck_result r;
    assert_int_equal(rs_lincheck_check(h, &opt, &r), RS_OK);
    assert_int_equal(r.verdict, RS_LINCHECK_UNKNOWN);
    assert_non_null(strstr(r.reason, "steps"));
    rs_lincheck_result_free(&r);
    opt.steps_max = 0;
    opt.bytes_max = 100;
    assert_int_equal(rs_lincheck_check(h, &opt, &r), RS_OK);
    assert_int_equal(r.verdict, RS_LINCHECK_UNKNOWN);
    assert_non_null(strstr(r.reason, "memory"));
    rs_lincheck_result_free(&r);
    rs_history_free(h);
}

static void test_window_too_wide_gives_unknown(void **state)
{
    (void)state;
    struct rs_history *h = rs_history_new();
    char value[16];
    for (uint32_t i = 0; i < 5000; i++) {
        snprintf(value, sizeof value, "v%u", i);
        struct rs_hist_event_in in = {.process = i,
                                      .type = RS_HIST_INVOKE,
                                      .f = RS_HIST_PUT,
                                      .key = {"k", 1},
                                      .value_kind = RS_HIST_VALUE_STRING,
                                      .value = {value, strlen(value)},
                                      .time_ns = i};
        assert_int_equal(rs_history_add(h, &in, NULL), RS_OK);
    }
    for (uint32_t i = 0; i < 5000; i++) {
        struct rs_hist_event_in in = {.process = i,
                                      .type = RS_HIST_OK,
                                      .f = RS_HIST_PUT,
                                      .key = {"k", 1},
                                      .time_ns = 10000 + i};
        assert_int_equal(rs_history_add(h, &in, NULL), RS_OK);
    }
    struct rs_lincheck_result r;
    assert_int_equal(rs_lincheck_check(h, NULL, &r), RS_OK);
    assert_int_equal(r.verdict, RS_LINCHECK_UNKNOWN);
    assert_non_null(strstr(r.reason, "pending at once"));
    rs_lincheck_result_free(&r);
    rs_history_free(h);
}

/* ---- The command ---- */

static int run_cmd(const char *file, const char *extra)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/histories/%s", RS_SOURCE_DIR, file);
    char name[] = "check-history";
    char flag[64];
    snprintf(flag, sizeof flag, "%s", extra ? extra : "");
    char *argv[4] = {name, path, flag, NULL};
    return rs_cmd_check_history(extra ? 3 : 2, argv);
}

/* Every sample file: ok_* must exit 0, bad_* 1, malformed_* 65. */
static void test_command_on_sample_files(void **state)
{
    (void)state;
    char dir_path[512];
    snprintf(dir_path, sizeof dir_path, "%s/tests/data/histories", RS_SOURCE_DIR);
    DIR *dir = opendir(dir_path);
    assert_non_null(dir);
    unsigned counts[3] = {0};
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        static const char *const prefixes[3] = {"ok_", "bad_", "malformed_"};
        static const int codes[3] = {0, 1, 65};
        for (int p = 0; p < 3; p++) {
            if (strncmp(entry->d_name, prefixes[p], strlen(prefixes[p])) == 0) {
                int code = run_cmd(entry->d_name, NULL);
                if (code != codes[p]) {
                    fprintf(stderr, "%s: exit %d\n", entry->d_name, code);
                }
                assert_int_equal(code, codes[p]);
                counts[p]++;
            }
        }
    }
    closedir(dir);
    assert_true(counts[0] >= 4 && counts[1] >= 5 && counts[2] >= 4);
}

static void test_command_usage_and_budget(void **state)
{
    (void)state;
    assert_int_equal(run_cmd("no_such_file.jsonl", NULL), 66);
    assert_int_equal(run_cmd("ok_register.jsonl", "--bogus"), 64);
    assert_int_equal(run_cmd("bad_stale_read.jsonl", "--no-witness"), 1);
    assert_int_equal(run_cmd("ok_register.jsonl", "--stats"), 0);
    char name[] = "check-history";
    char budget[] = "--budget";
    char one[] = "1";
    char bad[] = "x";
    char memory[] = "--memory-mb";
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/histories/ok_concurrent.jsonl", RS_SOURCE_DIR);
    char *argv1[1] = {name};
    assert_int_equal(rs_cmd_check_history(1, argv1), 64);
    char *argv2[4] = {name, path, budget, one};
    assert_int_equal(rs_cmd_check_history(4, argv2), 2);
    char *argv3[4] = {name, path, budget, bad};
    assert_int_equal(rs_cmd_check_history(4, argv3), 64);
    char *argv4[4] = {name, path, memory, one};
    assert_int_equal(rs_cmd_check_history(4, argv4), 0);
    char *argv5[3] = {name, path, budget};
    assert_int_equal(rs_cmd_check_history(3, argv5), 64);
    assert_int_equal(rs_cmd_check_history(2, argv2), 0);
}


/* ---- The later operations: each kind has a history that must be rejected ---- */

#define EV(p, t, f, rest, time)                                                               \
    "{\"process\":" #p ",\"type\":\"" t "\",\"f\":\"" f "\",\"key\":" rest ",\"time\":" #time \
    "}\n"
#define PUT_A_V1 EV(0, "invoke", "put", "\"a\",\"value\":\"v1\"", 1) EV(0, "ok", "put", "\"a\"", 2)

static enum rs_lincheck_verdict verdict_of(const char *text)
{
    struct rs_history *h = parse_text(text);
    struct rs_lincheck_result r;
    assert_int_equal(rs_lincheck_check(h, NULL, &r), RS_OK);
    enum rs_lincheck_verdict v = r.verdict;
    rs_lincheck_result_free(&r);
    rs_history_free(h);
    return v;
}

static void test_later_ops_rejected(void **state)
{
    (void)state;
    static const char *const bad[] = {
        /* multi_get misses a completed put */
        PUT_A_V1 EV(1, "invoke", "multi_get", "[\"a\",\"b\"]", 3)
            EV(1, "ok", "multi_get", "[\"a\",\"b\"],\"value\":[null,null]", 4),
        /* a full scan that leaves out a key that exists */
        PUT_A_V1 EV(1, "invoke", "scan", "[\"\",null],\"args\":[0,0]", 3)
            EV(1, "ok", "scan", "[\"\",null],\"value\":[],\"args\":[0]", 4),
        /* a truncated scan that skipped a key before the last one it returned */
        PUT_A_V1 EV(0, "invoke", "put", "\"b\",\"value\":\"v2\"", 3) EV(0, "ok", "put", "\"b\"", 4)
            EV(1, "invoke", "scan", "[\"\",null],\"args\":[1,0]", 5)
                EV(1, "ok", "scan", "[\"\",null],\"value\":[[\"b\",\"v2\"]],\"args\":[1]", 6),
        /* contains_key false after a put */
        PUT_A_V1 EV(1, "invoke", "contains_key", "\"a\"", 3)
            EV(1, "ok", "contains_key", "\"a\",\"args\":[0]", 4),
        /* batch_put, then a read of the old state */
        EV(0, "invoke", "batch_put", "[\"a\",\"b\"],\"value\":[\"v1\",\"v2\"]", 1)
            EV(0, "ok", "batch_put", "[\"a\",\"b\"]", 2) EV(1, "invoke", "get", "\"b\"", 3)
                EV(1, "ok", "get", "\"b\",\"value\":null", 4),
        /* batch_delete, then the deleted value */
        PUT_A_V1 EV(0, "invoke", "batch_delete", "[\"a\"]", 3)
            EV(0, "ok", "batch_delete", "[\"a\"]", 4) EV(1, "invoke", "get", "\"a\"", 5)
                EV(1, "ok", "get", "\"a\",\"value\":\"v1\"", 6),
        /* cas_all succeeded, yet the old value is read after */
        PUT_A_V1 EV(0, "invoke", "cas_all", "[\"a\"],\"value\":[[\"v1\",\"v2\"]]", 3)
            EV(0, "ok", "cas_all", "[\"a\"]", 4) EV(1, "invoke", "get", "\"a\"", 5)
                EV(1, "ok", "get", "\"a\",\"value\":\"v1\"", 6),
        /* two merges in order, read back in the other order */
        EV(0, "invoke", "merge", "\"a\",\"value\":\"m1\"", 1) EV(0, "ok", "merge", "\"a\"", 2)
            EV(0, "invoke", "merge", "\"a\",\"value\":\"m2\"", 3) EV(0, "ok", "merge", "\"a\"", 4)
                EV(1, "invoke", "get", "\"a\"", 5)
                    EV(1, "ok", "get", "\"a\",\"value\":\"m2,m1\"", 6),
        /* delete_range, then a value of its range */
        PUT_A_V1 EV(0, "invoke", "delete_range", "[\"a\",\"b\"]", 3)
            EV(0, "ok", "delete_range", "[\"a\",\"b\"]", 4) EV(1, "invoke", "get", "\"a\"", 5)
                EV(1, "ok", "get", "\"a\",\"value\":\"v1\"", 6),
        /* two sequential get_sequence calls hand out the same range */
        EV(0, "invoke", "get_sequence", "\"s\",\"args\":[5]", 1)
            EV(0, "ok", "get_sequence", "\"s\",\"args\":[0,5]", 2)
                EV(1, "invoke", "get_sequence", "\"s\",\"args\":[5]", 3)
                    EV(1, "ok", "get_sequence", "\"s\",\"args\":[0,5]", 4),
        /* reset_sequence completed, yet the next range continues the old one */
        EV(0, "invoke", "get_sequence", "\"s\",\"args\":[5]", 1)
            EV(0, "ok", "get_sequence", "\"s\",\"args\":[0,5]", 2)
                EV(0, "invoke", "reset_sequence", "\"s\"", 3)
                    EV(0, "ok", "reset_sequence", "\"s\"", 4)
                        EV(1, "invoke", "get_sequence", "\"s\",\"args\":[1]", 5)
                            EV(1, "ok", "get_sequence", "\"s\",\"args\":[5,6]", 6),
        /* two new holders in turn get the same fencing token */
        EV(0, "invoke", "lock", "\"L\",\"value\":\"f\",\"args\":[1,10,0]", 1)
            EV(0, "ok", "lock", "\"L\",\"value\":\"f\",\"args\":[1,1,1,1]", 2)
                EV(1, "invoke", "lock", "\"M\",\"value\":\"f\",\"args\":[2,10,0]", 3)
                    EV(1, "ok", "lock", "\"M\",\"value\":\"f\",\"args\":[1,2,1,1]", 4),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (verdict_of(bad[i]) != RS_LINCHECK_VIOLATION) {
            fail_msg("case %zu was not rejected", i);
        }
    }
    /* Their linearizable twins pass. */
    static const char *const good[] = {
        PUT_A_V1 EV(1, "invoke", "multi_get", "[\"a\",\"b\"]", 3)
            EV(1, "ok", "multi_get", "[\"a\",\"b\"],\"value\":[\"v1\",null]", 4),
        PUT_A_V1 EV(0, "invoke", "put", "\"b\",\"value\":\"v2\"", 3) EV(0, "ok", "put", "\"b\"", 4)
            EV(1, "invoke", "scan", "[\"\",null],\"args\":[1,0]", 5)
                EV(1, "ok", "scan", "[\"\",null],\"value\":[[\"a\",\"v1\"]],\"args\":[1]", 6),
        EV(0, "invoke", "merge", "\"a\",\"value\":\"m1\"", 1) EV(0, "ok", "merge", "\"a\"", 2)
            EV(0, "invoke", "merge", "\"a\",\"value\":\"m2\"", 3) EV(0, "ok", "merge", "\"a\"", 4)
                EV(1, "invoke", "get", "\"a\"", 5)
                    EV(1, "ok", "get", "\"a\",\"value\":\"m1,m2\"", 6),
        /* an unknown-outcome increment: the sequence is left unchecked, not misjudged */
        EV(0, "invoke", "get_sequence", "\"s\",\"args\":[5]", 1)
            EV(0, "info", "get_sequence", "\"s\"", 2)
                EV(1, "invoke", "get_sequence", "\"s\",\"args\":[1]", 3)
                    EV(1, "ok", "get_sequence", "\"s\",\"args\":[5,6]", 4),
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (verdict_of(good[i]) != RS_LINCHECK_OK) {
            fail_msg("good case %zu was rejected", i);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_sequential),
        cmocka_unit_test(test_later_ops_rejected),
        cmocka_unit_test(test_stale_read),
        cmocka_unit_test(test_lost_write_and_concurrency),
        cmocka_unit_test(test_cas_chains),
        cmocka_unit_test(test_delete_put_if_absent_get_and_put),
        cmocka_unit_test(test_info_operations),
        cmocka_unit_test(test_unobserved_puts),
        cmocka_unit_test(test_overlapping_deletes),
        cmocka_unit_test(test_repeated_values_use_general_search),
        cmocka_unit_test(test_keys_are_independent),
        cmocka_unit_test(test_random_cross_check),
        cmocka_unit_test(test_random_cross_check_concurrent),
        cmocka_unit_test(test_rules_agree_with_general_search),
        cmocka_unit_test(test_hot_key_with_info),
        cmocka_unit_test(test_budget_gives_unknown),
        cmocka_unit_test(test_window_too_wide_gives_unknown),
        cmocka_unit_test(test_command_on_sample_files),
        cmocka_unit_test(test_command_usage_and_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
