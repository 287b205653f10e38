/* Tests of client histories: the JSONL reader (and its errors), the writer, the recorder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/history.h"
#include "sim/lincheck.h"

#define LINE_PREFIX "{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"k\","

static struct rs_history *parse_ok(const char *text)
{
    struct rs_history *h = rs_history_new();
    struct rs_history_error err;
    enum rs_err rc = rs_history_parse(h, text, strlen(text), &err);
    if (rc != RS_OK) {
        fprintf(stderr, "%u:%u: %s\n", err.line, err.column, err.message);
    }
    assert_int_equal(rc, RS_OK);
    return h;
}

static bool str_is(const struct rs_history *h, uint32_t id, const char *want, size_t size)
{
    struct rs_hist_str s = rs_history_string(h, id);
    return s.size == size && memcmp(s.data, want, size) == 0;
}

static void test_parse_fields(void **state)
{
    (void)state;
    struct rs_history *h = parse_ok(
        "{\"time\":120,\"value\":[\"a\",\"b\"],\"key\":\"k\",\"f\":\"cas\",\"type\":\"invoke\","
        "\"process\":7}\n"
        "\n"
        "  { \"process\" : 7 , \"type\":\"ok\",\"f\":\"cas\",\"key\":\"k\",\"value\":[\"a\",\"b\"],"
        "\"time\":130 }  \r\n"
        "{\"process\":3,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"k\",\"value\":null,\"time\":-4}"
        "\n"
        "{\"process\":3,\"type\":\"ok\",\"f\":\"get\",\"key\":\"k\",\"value\":\"b\",\"time\":9}");
    assert_int_equal(rs_history_event_count(h), 4);
    const struct rs_hist_event *e0 = rs_history_event(h, 0);
    assert_int_equal(e0->process, 7);
    assert_int_equal(e0->type, RS_HIST_INVOKE);
    assert_int_equal(e0->f, RS_HIST_CAS);
    assert_int_equal(e0->time_ns, 120);
    assert_int_equal(e0->value_kind, RS_HIST_VALUE_PAIR);
    assert_true(str_is(h, e0->expected, "a", 1));
    assert_true(str_is(h, e0->value, "b", 1));
    assert_true(str_is(h, e0->key, "k", 1));
    assert_int_equal(e0->line, 1);
    assert_int_equal(e0->partner, 1);
    const struct rs_hist_event *e1 = rs_history_event(h, 1);
    assert_int_equal(e1->line, 3); /* the blank line counts */
    assert_int_equal(e1->partner, 0);
    assert_int_equal(e1->type, RS_HIST_OK);
    const struct rs_hist_event *e2 = rs_history_event(h, 2);
    assert_int_equal(e2->value_kind, RS_HIST_VALUE_NULL);
    assert_int_equal(e2->time_ns, -4);
    assert_int_equal(e2->partner, 3);
    const struct rs_hist_event *e3 = rs_history_event(h, 3);
    assert_int_equal(e3->value_kind, RS_HIST_VALUE_STRING);
    assert_int_equal(e3->value, e0->value); /* interned: same bytes, same id */
    rs_history_free(h);
}

static void test_unicode_escapes(void **state)
{
    (void)state;
    struct rs_history *h = parse_ok(LINE_PREFIX
                                    "\"time\":0}\n"
                                    "{\"process\":0,\"type\":\"ok\",\"f\":\"get\",\"key\":\"k\","
                                    "\"value\":\"\\u00e9\\u20ac\\ud83d\\ude00\\/\\b\\f\\n\\r\\t"
                                    "\\\"\\\\\\u0000x\",\"time\":1}");
    const struct rs_hist_event *ev = rs_history_event(h, 1);
    static const char want[] = "\xe9\xe2\x82\xac\xf0\x9f\x98\x80/\b\f\n\r\t\"\\\0x";
    assert_true(str_is(h, ev->value, want, sizeof want - 1));
    rs_history_free(h);
}

/* One bad input: the error must name this line, the column of `needle` in it, and `message`. */
struct bad_case {
    const char *text;
    uint32_t line;
    const char *needle; /* found in the failing line; its first byte is the column */
    const char *message;
};

#define INV_PUT \
    "{\"process\":0,\"type\":\"invoke\",\"f\":\"put\",\"key\":\"k\",\"value\":\"a\",\"time\":5}\n"

static const struct bad_case bad_cases[] = {
    {"{\"process\":0}", 1, "}", "missing field \"type\""},
    {"[1]", 1, "[", "expected '{'"},
    {"{process:0}", 1, "process", "to start a field name"},
    {LINE_PREFIX "\"time\":1", 1, NULL, "expected ',' or '}'"},
    {LINE_PREFIX "\"time\":1,\"colour\":2}", 1, "\"colour\"", "unknown field"},
    {LINE_PREFIX "\"time\":1,\"key\":\"j\"}", 1, "\"key\":\"j\"", "appears twice"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"k\"}", 1, "}",
     "missing field \"time\""},
    {"{\"process\":\"0\",\"type\":\"invoke\",\"f\":\"get\",\"key\":\"k\",\"time\":1}", 1, "\"0\"",
     "process must be an integer"},
    {"{\"process\":-1,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"k\",\"time\":1}", 1, "-1",
     "must not be negative"},
    {LINE_PREFIX "\"time\":1.5}", 1, "1.5", "time must be an integer"},
    {LINE_PREFIX "\"time\":1e3}", 1, "1e3", "time must be an integer"},
    {LINE_PREFIX "\"time\":007}", 1, "007", "leading zero"},
    {LINE_PREFIX "\"time\":99999999999999999999}", 1, "999", "does not fit"},
    {LINE_PREFIX "\"time\":true}", 1, "true", "time must be an integer"},
    {"{\"process\":0,\"type\":\"begin\",\"f\":\"get\",\"key\":\"k\",\"time\":1}", 1, "\"begin\"",
     "unknown type"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"incr\",\"key\":\"k\",\"time\":1}", 1, "\"incr\"",
     "unknown f"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":7,\"time\":1}", 1, "7,",
     "a string for key"},
    {LINE_PREFIX "\"time\":1} x", 1, "x", "end of the line"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"a\\qb\",\"time\":1}", 1, "\\q",
     "invalid escape"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"\\u12\",\"time\":1}", 1, "\\u12",
     "four hex digits"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"\\udc00\",\"time\":1}", 1,
     "\\udc00", "unpaired low surrogate"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"\\ud800x\",\"time\":1}", 1,
     "\\ud800", "without its low half"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"a\tb\",\"time\":1}", 1, "\tb",
     "control byte"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"abc", 1, "\"abc",
     "unterminated string"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k\",\"value\":\"a\",\"time\":1}",
     1, "\"a\"", "needs the value [\"expected\",\"new\"]"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k\",\"value\":[\"a\"],\"time\":1}",
     1, "[\"a\"]", "needs the value [\"expected\",\"new\"]"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k\",\"value\":[\"a\",\"b\",\"c\"],"
     "\"time\":1}",
     1, "[\"a\",\"b\",\"c\"]", "needs the value [\"expected\",\"new\"]"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k\",\"value\":[\"a\",2],\"time\":"
     "1}",
     1, "2]", "a string, null or a [pair]"},
    /* The later operations: key shapes, args, list values. */
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"multi_get\",\"key\":\"k\",\"time\":1}", 1,
     "\"k\",\"time", "keys as an array"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"scan\",\"key\":[\"a\"],\"args\":[0,0],"
     "\"time\":1}",
     1, "[\"a\"]", "a range is"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"scan\",\"key\":[\"a\",null],\"args\":[0,2],"
     "\"time\":1}",
     1, "[0,2]", "args out of range"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"get_sequence\",\"key\":\"s\",\"time\":1}", 1,
     "}", "wrong number of args"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"s\",\"args\":[1,2,3,4,5],"
     "\"time\":1}",
     1, "5]", "more than 4 args"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"batch_put\",\"key\":[\"a\",\"b\"],"
     "\"value\":[\"1\"],\"time\":1}",
     1, "[\"1\"]", "one string value per key"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"multi_get\",\"key\":[\"a\"],\"time\":1}\n"
     "{\"process\":0,\"type\":\"ok\",\"f\":\"multi_get\",\"key\":[\"a\"],\"value\":[\"x\",\"y\"],"
     "\"time\":2}",
     2, "[\"x\",\"y\"]", "at most one per key"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"multi_get\",\"key\":[\"a\"],\"time\":1}\n"
     "{\"process\":0,\"type\":\"ok\",\"f\":\"multi_get\",\"key\":[\"b\"],\"value\":[],"
     "\"time\":2}",
     2, "[\"b\"]", "key differs"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"put\",\"key\":\"k\",\"value\":null,\"time\":1}", 1,
     "null", "needs a string value"},
    {LINE_PREFIX "\"value\":\"x\",\"time\":1}", 1, "\"x\"", "carries no value"},
    {LINE_PREFIX "\"value\":{},\"time\":1}", 1, "{}", "a string, null or"},
    {"{\"process\":0,\"type\":\"ok\",\"f\":\"get\",\"key\":\"k\",\"value\":null,\"time\":1}", 1,
     "\"ok\"", "ok without an invoke outstanding for process 0"},
    {INV_PUT "{\"process\":0,\"type\":\"ok\",\"f\":\"get\",\"key\":\"k\",\"time\":6}", 2, "\"get\"",
     "f differs from its invoke's (invoked on line 1)"},
    {INV_PUT "{\"process\":0,\"type\":\"ok\",\"f\":\"put\",\"key\":\"j\",\"time\":6}", 2, "\"j\"",
     "key differs"},
    {INV_PUT
     "{\"process\":0,\"type\":\"ok\",\"f\":\"put\",\"key\":\"k\",\"value\":\"b\",\"time\":6}",
     2, "\"b\"", "value differs"},
    {INV_PUT "{\"process\":0,\"type\":\"ok\",\"f\":\"put\",\"key\":\"k\",\"time\":4}", 2, "4}",
     "time goes backwards for process 0 (its event on line 1 has time 5)"},
    {INV_PUT INV_PUT, 2, "\"invoke\"", "already has an operation outstanding (invoked on line 1)"},
    {"{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"k\",\"time\":5}\n"
     "{\"process\":0,\"type\":\"ok\",\"f\":\"get\",\"key\":\"k\",\"time\":6}",
     2, "}", "needs the value read"},
    {"\n\n   \n" LINE_PREFIX "\"time\":}", 4, "}", "time must be an integer"},
};

static void test_parse_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        struct rs_history *h = rs_history_new();
        struct rs_history_error err;
        enum rs_err rc = rs_history_parse(h, c->text, strlen(c->text), &err);
        const char *line = c->text;
        for (uint32_t l = 1; l < c->line; l++) {
            line = strchr(line, '\n') + 1;
        }
        size_t line_size = strcspn(line, "\n");
        uint32_t column = (uint32_t)line_size + 1; /* the end of the line */
        if (c->needle != NULL) {
            const char *at = strstr(line, c->needle);
            assert_non_null(at);
            column = (uint32_t)(at - line) + 1;
        }
        if (rc != RS_ECORRUPT || err.line != c->line || err.column != column ||
            strstr(err.message, c->message) == NULL) {
            fprintf(stderr, "case %zu: rc %d at %u:%u (want %u:%u): %s\n", i, rc, err.line,
                    err.column, c->line, column, err.message);
        }
        assert_int_equal(rc, RS_ECORRUPT);
        assert_int_equal(err.line, c->line);
        assert_int_equal(err.column, column);
        assert_non_null(strstr(err.message, c->message));
        /* The good lines before the bad one stay. */
        size_t events = 0;
        for (const char *p = c->text; p < line; p = strchr(p, '\n') + 1) {
            events += p[strspn(p, " ")] != '\n';
        }
        assert_int_equal(rs_history_event_count(h), events);
        rs_history_free(h);
    }
}

static void test_bounds(void **state)
{
    (void)state;
    size_t size = RS_HISTORY_STRING_BYTES_MAX + 200;
    char *text = malloc(size);
    int n = snprintf(text, size, "{\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"");
    memset(text + n, 'x', RS_HISTORY_STRING_BYTES_MAX + 1);
    strcpy(text + n + RS_HISTORY_STRING_BYTES_MAX + 1, "\",\"time\":1}");
    struct rs_history *h = rs_history_new();
    struct rs_history_error err;
    assert_int_equal(rs_history_parse(h, text, strlen(text), &err), RS_ECORRUPT);
    assert_non_null(strstr(err.message, "string longer than"));
    assert_int_equal(err.column, (uint32_t)n);
    free(text);
    size = RS_HISTORY_LINE_BYTES_MAX + 10;
    text = malloc(size);
    memset(text, ' ', size);
    assert_int_equal(rs_history_parse(h, text, size, &err), RS_ECORRUPT);
    assert_non_null(strstr(err.message, "line longer than"));
    assert_int_equal(err.line, 1);
    /* A NUL byte outside a string is an error, not the end of the input. */
    static const char nul[] = "{\"process\":0\0}";
    assert_int_equal(rs_history_parse(h, nul, sizeof nul - 1, &err), RS_ECORRUPT);
    assert_int_equal(err.column, 13);
    assert_non_null(strstr(err.message, "byte 0x00"));
    free(text);
    rs_history_free(h);
}

static struct rs_hist_str hs(const char *data, size_t size)
{
    struct rs_hist_str s = {data, size};
    return s;
}

static void test_recorder_checks(void **state)
{
    (void)state;
    struct rs_history *h = rs_history_new();
    struct rs_history_error err;
    struct rs_hist_event_in ev = {
        .process = 1, .type = RS_HIST_OK, .f = RS_HIST_PUT, .key = hs("k", 1), .time_ns = 10};
    assert_int_equal(rs_history_add(h, &ev, &err), RS_EINVAL);
    assert_non_null(strstr(err.message, "without an invoke"));
    assert_int_equal(rs_history_event_count(h), 0);
    ev.type = RS_HIST_INVOKE;
    assert_int_equal(rs_history_add(h, &ev, &err), RS_EINVAL); /* a put needs its value */
    ev.value_kind = RS_HIST_VALUE_STRING;
    ev.value = hs("v", 1);
    assert_int_equal(rs_history_add(h, &ev, &err), RS_OK);
    ev.type = RS_HIST_OK;
    ev.key = hs("j", 1);
    assert_int_equal(rs_history_add(h, &ev, &err), RS_EINVAL);
    assert_non_null(strstr(err.message, "key differs"));
    assert_non_null(strstr(err.message, "as event #0"));
    ev.key = hs(NULL, 0);
    assert_int_equal(rs_history_add(h, &ev, &err), RS_EINVAL);
    ev.key = hs("k", 1);
    ev.time_ns = 9;
    assert_int_equal(rs_history_add(h, &ev, &err), RS_EINVAL);
    assert_non_null(strstr(err.message, "backwards"));
    ev.time_ns = 10;
    ev.type = (enum rs_hist_type)9;
    assert_int_equal(rs_history_add(h, &ev, &err), RS_EINVAL);
    ev.type = RS_HIST_OK;
    ev.value_kind = RS_HIST_VALUE_NONE;
    assert_int_equal(rs_history_add(h, &ev, &err), RS_OK);
    assert_int_equal(rs_history_event_count(h), 2);
    assert_int_equal(rs_history_event(h, 0)->partner, 1);
    assert_int_equal(rs_history_event(h, 0)->line, 0);
    rs_history_free(h);
}

static void expect_same_events(const struct rs_history *a, const struct rs_history *b)
{
    assert_int_equal(rs_history_event_count(a), rs_history_event_count(b));
    for (size_t i = 0; i < rs_history_event_count(a); i++) {
        const struct rs_hist_event *x = rs_history_event(a, i);
        const struct rs_hist_event *y = rs_history_event(b, i);
        assert_int_equal(x->process, y->process);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->f, y->f);
        assert_int_equal(x->time_ns, y->time_ns);
        assert_int_equal(x->value_kind, y->value_kind);
        assert_int_equal(x->partner, y->partner);
        uint32_t xs[3] = {x->key, x->value, x->expected};
        uint32_t ys[3] = {y->key, y->value, y->expected};
        for (int j = 0; j < 3; j++) {
            assert_int_equal(xs[j] == RS_HIST_NONE, ys[j] == RS_HIST_NONE);
            if (xs[j] != RS_HIST_NONE) {
                struct rs_hist_str s = rs_history_string(a, xs[j]);
                assert_true(str_is(b, ys[j], s.data, s.size));
            }
        }
    }
}

static struct rs_history *write_and_load(const struct rs_history *h)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(rs_history_write(h, f), RS_OK);
    rewind(f);
    struct rs_history *back = rs_history_new();
    struct rs_history_error err;
    enum rs_err rc = rs_history_load(back, f, &err);
    if (rc != RS_OK) {
        fprintf(stderr, "%u:%u: %s\n", err.line, err.column, err.message);
    }
    assert_int_equal(rc, RS_OK);
    fclose(f);
    return back;
}

static void test_round_trip_generated(void **state)
{
    (void)state;
    struct rs_history_gen_options o;
    rs_history_gen_defaults(&o);
    o.op_count = 3000;
    o.info_ppm = 100000;
    o.fail_ppm = 50000;
    o.mix_ppm[RS_HIST_PUT_IF_ABSENT] = 100000;
    struct rs_history *h = rs_history_new();
    assert_int_equal(rs_history_generate(h, &o), RS_OK);
    assert_true(rs_history_event_count(h) > 5000);
    struct rs_history *back = write_and_load(h);
    expect_same_events(h, back);
    assert_int_equal(rs_history_event(back, 0)->line, 1);
    /* Deterministic: the same options give the same history, another seed another one. */
    struct rs_history *again = rs_history_new();
    assert_int_equal(rs_history_generate(again, &o), RS_OK);
    expect_same_events(h, again);
    struct rs_history *other = rs_history_new();
    o.seed = 2;
    assert_int_equal(rs_history_generate(other, &o), RS_OK);
    struct rs_buf x, y;
    rs_buf_init(&x);
    rs_buf_init(&y);
    for (size_t i = 0; i < 50; i++) {
        rs_history_format_event(h, i, &x);
        rs_history_format_event(other, i, &y);
    }
    assert_true(x.size != y.size || memcmp(x.data, y.data, x.size) != 0);
    rs_buf_free(&x);
    rs_buf_free(&y);
    rs_history_free(h);
    rs_history_free(back);
    rs_history_free(again);
    rs_history_free(other);
}

static void test_round_trip_strings(void **state)
{
    (void)state;
    static const char weird[] = "q\"b\\s/\x01\x1f\x7f\xc3\xa9\xff\0end";
    char *big = malloc(RS_HISTORY_STRING_BYTES_MAX);
    memset(big, 'z', RS_HISTORY_STRING_BYTES_MAX);
    struct rs_history *h = rs_history_new();
    struct rs_hist_event_in ev = {.process = UINT64_C(9000000000000000000),
                                  .type = RS_HIST_INVOKE,
                                  .f = RS_HIST_CAS,
                                  .key = hs(weird, sizeof weird - 1),
                                  .value_kind = RS_HIST_VALUE_PAIR,
                                  .value = hs("", 0),
                                  .expected = hs(big, RS_HISTORY_STRING_BYTES_MAX),
                                  .time_ns = INT64_MIN};
    assert_int_equal(rs_history_add(h, &ev, NULL), RS_OK);
    ev.type = RS_HIST_INFO;
    ev.value_kind = RS_HIST_VALUE_NONE;
    ev.time_ns = INT64_MAX;
    assert_int_equal(rs_history_add(h, &ev, NULL), RS_OK);
    struct rs_hist_event_in get = {.process = 0,
                                   .type = RS_HIST_INVOKE,
                                   .f = RS_HIST_GET,
                                   .key = hs("", 0),
                                   .value_kind = RS_HIST_VALUE_NULL};
    assert_int_equal(rs_history_add(h, &get, NULL), RS_OK);
    struct rs_history *back = write_and_load(h);
    expect_same_events(h, back);
    rs_history_free(back);
    rs_history_free(h);
    free(big);
}

static void test_writer_format(void **state)
{
    (void)state;
    const char *text =
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"put\",\"key\":\"k\",\"value\":\"v\",\"time\":"
        "120}\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"put\",\"key\":\"k\",\"time\":130}\n"
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"k\",\"value\":[\"v\",\"w\"],"
        "\"time\":140}\n"
        "{\"process\":1,\"type\":\"fail\",\"f\":\"cas\",\"key\":\"k\",\"value\":[\"v\",\"w\"],"
        "\"time\":150}\n"
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"k\",\"time\":160}\n"
        "{\"process\":1,\"type\":\"ok\",\"f\":\"get\",\"key\":\"k\",\"value\":null,\"time\":170}\n";
    struct rs_history *h = parse_ok(text);
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    assert_int_equal(rs_history_write(h, f), RS_OK);
    fclose(f);
    assert_string_equal(out, text); /* exactly the documented format, field order included */
    free(out);
    rs_history_free(h);
}


/* Every later operation parses and is written back byte for byte. */
static void test_round_trip_kv_api(void **state)
{
    (void)state;
    FILE *in = fopen(RS_SOURCE_DIR "/tests/data/histories/kv_api_ok.jsonl", "rb");
    assert_non_null(in);
    char text[16384];
    size_t text_size = fread(text, 1, sizeof text - 1, in);
    text[text_size] = '\0';
    fclose(in);
    struct rs_history *h = parse_ok(text);
    assert_int_equal(rs_history_event_count(h), 44);
    const struct rs_hist_event *scan = rs_history_event(h, 7);
    assert_int_equal(scan->f, RS_HIST_SCAN);
    assert_true(scan->key_list);
    assert_int_equal(scan->key_count, 2);
    assert_int_equal(scan->item_count, 2);
    assert_int_equal(rs_history_keys(h, scan)[1].first, RS_HIST_NONE);
    assert_true(rs_history_items(h, scan)[1].pair);
    assert_int_equal(scan->arg_count, 1);
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    assert_int_equal(rs_history_write(h, f), RS_OK);
    fclose(f);
    assert_string_equal(out, text);
    free(out);
    rs_history_free(h);
}

static uint64_t fuzz_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* One to three byte edits (replace, insert, delete) with bytes JSON cares about. */
static void fuzz_edit(char *text, size_t *size, uint64_t *rng)
{
    static const char alphabet[] = "{}[]\":,\\u0123456789-.eEnul tfrxa\n\r\t\x01\xff";
    unsigned edits = 1 + (unsigned)(fuzz_next(rng) % 3);
    for (unsigned e = 0; e < edits; e++) {
        size_t at = fuzz_next(rng) % *size;
        char c = alphabet[fuzz_next(rng) % (sizeof alphabet - 1)];
        switch (fuzz_next(rng) % 3) {
            case 0:
                text[at] = c;
                break;
            case 1:
                memmove(text + at + 1, text + at, *size - at);
                text[at] = c;
                (*size)++;
                break;
            default:
                memmove(text + at, text + at + 1, *size - at - 1);
                (*size)--;
                break;
        }
    }
}

/* Where the error points must exist: a line of the text, a column of that line (or just past). */
static void expect_error_in_bounds(const char *text, size_t size, const struct rs_history_error *e)
{
    assert_true(e->line >= 1);
    size_t start = 0;
    for (uint32_t l = 1; l < e->line; l++) {
        const char *nl = memchr(text + start, '\n', size - start);
        assert_non_null(nl);
        start = (size_t)(nl - text) + 1;
    }
    const char *nl = start < size ? memchr(text + start, '\n', size - start) : NULL;
    size_t line_size = nl ? (size_t)(nl - text) - start : size - start;
    assert_true(e->column >= 1 && e->column <= line_size + 1);
    assert_true(e->message[0] != '\0');
}

/* Random edits of valid text: every result parses or fails with an in-bounds error, and
 * whatever parses can be checked (under the sanitizers this is the crash test). */
static void test_parser_fuzz(void **state)
{
    (void)state;
    struct rs_history_gen_options o;
    rs_history_gen_defaults(&o);
    o.op_count = 12;
    o.key_count = 2;
    o.client_count = 3;
    o.info_ppm = 200000;
    struct rs_history *g = rs_history_new();
    assert_int_equal(rs_history_generate(g, &o), RS_OK);
    char *base = NULL;
    size_t base_size = 0;
    FILE *f = open_memstream(&base, &base_size);
    assert_int_equal(rs_history_write(g, f), RS_OK);
    fclose(f);
    rs_history_free(g);
    char *text = malloc(base_size + 64);
    uint64_t rng = 88172645463325252ull;
    unsigned parsed = 0;
    for (unsigned round = 0; round < 20000; round++) {
        memcpy(text, base, base_size);
        size_t size = base_size;
        fuzz_edit(text, &size, &rng);
        struct rs_history *h = rs_history_new();
        struct rs_history_error err;
        enum rs_err rc = rs_history_parse(h, text, size, &err);
        if (rc == RS_OK) {
            struct rs_lincheck_result r;
            assert_int_equal(rs_lincheck_check(h, NULL, &r), RS_OK);
            rs_lincheck_result_free(&r);
            parsed++;
        } else {
            assert_int_equal(rc, RS_ECORRUPT);
            expect_error_in_bounds(text, size, &err);
        }
        rs_history_free(h);
    }
    assert_true(parsed > 100); /* some edits keep the text valid (inside strings, say) */
    free(text);
    free(base);
}

int main(void)
{
    /* clang-format off */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_unicode_escapes),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_recorder_checks),
        cmocka_unit_test(test_round_trip_generated),
        cmocka_unit_test(test_round_trip_strings),
        cmocka_unit_test(test_writer_format),
        cmocka_unit_test(test_round_trip_kv_api),
        cmocka_unit_test(test_parser_fuzz),
    };
    /* clang-format on */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
