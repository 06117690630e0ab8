/* test_json.c - the strict JSON scanner (json_scan.c) against fixed cases and
 * against jansson as an independent oracle, called as the engine calls it
 * for form-encoded sites (one JSON rule: what is accepted can be sent). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "hd_json.h"

static void test_accepts_rfc8259_values(void **state)
{
    (void)state;
    const char *good[] = {
        "0", "-0", "1.5e10", "-12.25E-3", "1E+2", "true", "false", "null", "\"\"",
        "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"", "[]", "{}", " [ 1 , [ ] , { } ] ",
        "{\"a\":{\"b\":[null,true,\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]}}",
        /* The edges of what jansson (form-encoded sites) can hold. */
        "9223372036854775807", "-9223372036854775808", "1e308", "1.7976931348623157e308",
        "-1.7976931348623157e308", "1e-400", "0e999999999999999999999", "0.0e400",
        "123456789012345678901234567890.5", "\"\\ud800\\udc00\\udbff\\udfff\\u0001\"",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        hd_error err;
        hd_error_clear(&err);
        if (!json_scan(good[i], strlen(good[i]), NULL, NULL, NULL, &err))
            fail_msg("refused %s: %s", good[i], err.msg);
    }
}

static void test_refuses_with_position(void **state)
{
    (void)state;
    struct {
        const char *text;
        const char *msg;
    } bad[] = {
        { "", "line 1, column 1: value expected" },
        { "01", "line 1, column 2: end of text expected" },
        { "1.", "line 1, column 3: digit expected" },
        { "-", "line 1, column 2: digit expected" },
        { "[1,]", "line 1, column 4: invalid token" },
        { "{\"a\" 1}", "line 1, column 6: ':' expected" },
        { "{\n  \"a\": 1,\n  \"b\": }", "line 3, column 8: invalid token" },
        { "\"a\tb\"", "line 1, column 3: control character in a string" },
        { "\"\\x\"", "line 1, column 2: invalid escape" },
        { "\"\\u12g4\"", "line 1, column 2: invalid \\u escape" },
        { "\"\xc3\x28\"", "line 1, column 2: invalid UTF-8" },
        { "\"\xed\xa0\x80\"", "line 1, column 2: invalid UTF-8" }, /* UTF-16 surrogate */
        { "\"\xc0\xaf\"", "line 1, column 2: invalid UTF-8" },     /* overlong */
        { "\"abc", "line 1, column 5: unterminated string" },
        { "{} {}", "line 1, column 4: end of text expected" },
        { "tru", "line 1, column 1: invalid token" },
        { "{'a':1}", "line 1, column 2: string or '}' expected" },
        /* What jansson refuses, so a form-encoded site could never send. */
        { "\"\\u0000\"", "line 1, column 2: \\u0000 (NUL) is not allowed in a string" },
        { "{\"a\\u0000\":1}", "line 1, column 4: \\u0000 (NUL) is not allowed in a string" },
        { "\"\\ud800\"", "line 1, column 2: lone UTF-16 surrogate in a \\u escape" },
        { "\"x\\uDBFF\"", "line 1, column 3: lone UTF-16 surrogate in a \\u escape" },
        { "\"\\udc00\"", "line 1, column 2: lone UTF-16 surrogate in a \\u escape" },
        { "\"\\ud800\\u0041\"", "line 1, column 2: lone UTF-16 surrogate in a \\u escape" },
        { "\"\\ud800\\ud800\"", "line 1, column 2: lone UTF-16 surrogate in a \\u escape" },
        { "\"\\ud800\\n\"", "line 1, column 2: lone UTF-16 surrogate in a \\u escape" },
        { "9223372036854775808",
          "line 1, column 1: integer out of range (beyond 64 bits; write it as a string)" },
        { "-9223372036854775809",
          "line 1, column 1: integer out of range (beyond 64 bits; write it as a string)" },
        { "{\"n\": 123456789012345678901234567890}",
          "line 1, column 7: integer out of range (beyond 64 bits; write it as a string)" },
        { "1e309", "line 1, column 1: number out of range (beyond a double)" },
        { "[0, -1.7976931348623159e308]", "line 1, column 5: number out of range (beyond a double)" },
        { "1000000000000000000000000000000000000000e300",
          "line 1, column 1: number out of range (beyond a double)" },
        { "0.00001e314", "line 1, column 1: number out of range (beyond a double)" },
        { "1e99999999999999999999", "line 1, column 1: number out of range (beyond a double)" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hd_error err;
        hd_error_clear(&err);
        if (json_scan(bad[i].text, strlen(bad[i].text), NULL, NULL, NULL, &err))
            fail_msg("accepted %s", bad[i].text);
        assert_int_equal(err.code, HD_INVALID);
        if (strcmp(err.msg, bad[i].msg) != 0)
            fail_msg("%s: got '%s', wanted '%s'", bad[i].text, err.msg, bad[i].msg);
    }
    /* Nesting is bounded, so hostile input cannot exhaust the stack. */
    char deep[2000];
    memset(deep, '[', sizeof deep);
    hd_error err;
    assert_false(json_scan(deep, sizeof deep, NULL, NULL, NULL, &err));
    assert_non_null(strstr(err.msg, "nested too deep"));
}

typedef struct seen {
    char keys[8][16];
    char values[8][64];
    int n;
} seen;

static bool collect(const json_member *m, void *ud)
{
    seen *s = ud;
    snprintf(s->keys[s->n], sizeof s->keys[0], "%.*s", (int)m->key_len, m->key);
    snprintf(s->values[s->n], sizeof s->values[0], "%.*s", (int)m->value_len, m->value);
    s->n++;
    return true;
}

static bool stop_at_b(const json_member *m, void *ud)
{
    (void)ud;
    return !(m->key_len == 1 && m->key[0] == 'b');
}

static void test_members_are_raw_spans(void **state)
{
    (void)state;
    const char *text = " { \"site\" : \"a\\nb\", \"payload\": {\"x\": [1, 2]} ,\"n\":-1.5e3 } ";
    seen s = { 0 };
    bool is_object = false;
    hd_error err;
    assert_true(json_scan(text, strlen(text), collect, &s, &is_object, &err));
    assert_true(is_object);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.keys[0], "site");
    assert_string_equal(s.values[0], "\"a\\nb\"");
    assert_string_equal(s.keys[1], "payload");
    assert_string_equal(s.values[1], "{\"x\": [1, 2]}");
    assert_string_equal(s.values[2], "-1.5e3");

    /* Nested members are not reported; non-objects say so. */
    s.n = 0;
    assert_true(json_scan("[{\"a\":1}]", 9, collect, &s, &is_object, &err));
    assert_false(is_object);
    assert_int_equal(s.n, 0);

    /* The callback can stop the scan; the error is then the caller's. */
    hd_error_clear(&err);
    assert_false(json_scan("{\"a\":1,\"b\":2}", 13, stop_at_b, NULL, NULL, &err));
    assert_int_equal(err.code, HD_OK);
}

static void test_string_decode(void **state)
{
    (void)state;
    hd_buf b = { 0 };
    const char *tok = "\"a\\\"b\\\\c\\/d\\n\\u00e9\\u20ac\\ud83d\\ude00\"";
    assert_true(json_string_decode(tok, strlen(tok), &b));
    assert_string_equal(hd_buf_str(&b), "a\"b\\c/d\n\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_true(json_string_decode("\"\"", 2, &b));
    assert_string_equal(hd_buf_str(&b), "");
    assert_false(json_string_decode("\"\\u0000\"", 8, &b)); /* NUL cannot be stored */
    assert_false(json_string_decode("42", 2, &b));
    /* A lone surrogate becomes U+FFFD rather than invalid UTF-8. */
    assert_true(json_string_decode("\"\\ud800x\"", 9, &b));
    assert_string_equal(hd_buf_str(&b), "\xef\xbf\xbdx");
    hd_buf_free(&b);
}

/* The flags request.c gives jansson when it turns a payload into a form
 * body: what the scanner accepts must load with exactly these. */
#define ENGINE_JANSSON_FLAGS JSON_DECODE_ANY

static bool jansson_accepts(const char *text, size_t len, json_error_t *je)
{
    /* request.c hands jansson a C string (json_loads); texts here hold no NUL
     * byte except where a case says so, and json_loadb sees the same bytes. */
    json_t *j = json_loadb(text, len, ENGINE_JANSSON_FLAGS, je);
    json_decref(j);
    return j != NULL;
}

/* One JSON rule (issue #10): a table of inputs, each judged by the scanner
 * and by jansson as the engine calls it, with the verdict both must give. */
static void test_one_rule_table(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool ok;
    } cases[] = {
        /* strings */
        { "\"\\ud800\"", false },            /* lone high surrogate */
        { "\"\\uDBFF\"", false },
        { "\"\\udc00\"", false },            /* lone low surrogate */
        { "\"\\uDFFF\"", false },
        { "\"a\\ud800b\"", false },
        { "\"\\ud800\\u0041\"", false },     /* high + not-a-low */
        { "\"\\ud800\\ud800\"", false },
        { "\"\\udc00\\ud800\"", false },     /* the pair the wrong way round */
        { "\"\\ud800\\\\udc00\"", false },   /* an escaped backslash in between */
        { "\"\\ud83d\\ude00\"", true },      /* a real pair: U+1F600 */
        { "\"\\uD83D\\uDE00\"", true },
        { "\"\\ud7ff\\ue000\"", true },      /* just outside the surrogates */
        { "\"\\u0000\"", false },            /* NUL (JSON_ALLOW_NUL is not given) */
        { "\"a\\u0000b\"", false },
        { "{\"\\u0000\":1}", false },        /* in a key too */
        { "\"\\u0001\\u001f\\u007f\"", true },
        { "\"\xed\xa0\x80\"", false },       /* a raw UTF-8 surrogate */
        { "\"\xf4\x90\x80\x80\"", false },   /* past U+10FFFF */
        { "\"\xf4\x8f\xbf\xbf\"", true },    /* U+10FFFF */
        /* integers: json_int_t is 64 bits */
        { "9223372036854775807", true },
        { "9223372036854775808", false },
        { "-9223372036854775808", true },
        { "-9223372036854775809", false },
        { "10000000000000000000", false },
        { "99999999999999999999", false },
        { "{\"id\":123456789012345678901234567890}", false },
        { "[0,-0,1,-1]", true },
        { "00", false },
        /* reals: strtod must not overflow; underflow is fine */
        { "9223372036854775808.0", true },
        { "1e19", true },
        { "1e308", true },
        { "1E+308", true },
        { "1.7976931348623157e308", true },   /* DBL_MAX */
        { "1.7976931348623158e308", true },   /* still rounds to DBL_MAX */
        { "1.7976931348623159e308", false },  /* rounds to infinity */
        /* the same two written out in 309 digits */
        { "1797693134862315700000000000000000000000000000000000000000000000000000000000000000000000"
          "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
          "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
          "000000000000000000000000000000000000000000000.0", true },
        { "1797693134862315900000000000000000000000000000000000000000000000000000000000000000000000"
          "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
          "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
          "000000000000000000000000000000000000000000000.0", false },
        { "0.1797693134862315e309", true },
        { "0.1797693134862316e309", false },
        { "1e309", false },
        { "-1e309", false },
        { "1e400", false },
        { "0.000001e313", true },
        { "0.0000001e316", false },
        { "1e-400", true },
        { "-1e-99999999999999999999", true },
        { "0e99999999999999999999", true },
        { "0.000e400", true },
        { "1e99999999999999999999", false },
        /* grammar */
        { "{\"a\":1,\"a\":2}", true },       /* duplicate keys: jansson keeps the last */
        { "\xef\xbb\xbf{}", false },         /* a byte order mark */
        { "{} ", true },
        { " ", false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = cases[i].text;
        size_t len = strlen(t);
        hd_error err;
        hd_error_clear(&err);
        json_error_t je;
        bool mine = json_scan(t, len, NULL, NULL, NULL, &err);
        bool theirs = jansson_accepts(t, len, &je);
        if (theirs != cases[i].ok)
            fail_msg("jansson %s '%s' (%s): the table is wrong", theirs ? "accepts" : "refuses",
                     t, theirs ? "" : je.text);
        if (mine != cases[i].ok)
            fail_msg("scanner %s '%s' (%s); jansson %s it", mine ? "accepts" : "refuses", t,
                     mine ? "" : err.msg, theirs ? "accepts" : "refuses");
    }

    /* The one difference, on the safe side: nesting past 512 is refused
     * here although jansson takes up to 2048. */
    for (int depth = 511; depth <= 2049; depth++) {
        if (depth > 515 && depth < 2046)
            continue;
        char *deep = malloc((size_t)depth * 2);
        memset(deep, '[', (size_t)depth);
        memset(deep + depth, ']', (size_t)depth);
        hd_error err;
        json_error_t je;
        bool mine = json_scan(deep, (size_t)depth * 2, NULL, NULL, NULL, &err);
        bool theirs = jansson_accepts(deep, (size_t)depth * 2, &je);
        free(deep);
        assert_int_equal(mine, depth <= 512);
        assert_int_equal(theirs, depth <= 2048);
        assert_true(!mine || theirs);   /* never accepted here and refused there */
    }
}

/* json_scan_grammar (for showing stored payloads) keeps to the grammar only:
 * what the one JSON rule refuses is still well-formed JSON to show. */
static void test_grammar_only(void **state)
{
    (void)state;
    const char *shown[] = { "123456789012345678901234567890", "1e400", "\"\\ud800\"",
                            "\"\\u0000\"", "{\"a\":[\"\\udc00\", -99999999999999999999]}" };
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        hd_error err;
        assert_false(json_scan(shown[i], strlen(shown[i]), NULL, NULL, NULL, &err));
        assert_true(json_scan_grammar(shown[i], strlen(shown[i])));
    }
    const char *bad[] = { "", "01", "\"\\x\"", "\"\\u12\"", "[1,]", "\"\xc3\x28\"" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(json_scan_grammar(bad[i], strlen(bad[i])));
}

/* Mutations of valid documents: the scanner and jansson (as the engine calls
 * it) must agree on every one, both ways. */
static void test_agrees_with_jansson(void **state)
{
    (void)state;
    const char *seeds[] = {
        "{\"site\":\"a\",\"payload\":{\"k\":[1,2.5,-3e2,true,false,null,\"s\\u00e9\"]}}",
        "[\"x\",{\"y\":{}},[],0.25]",
        "\"text with \\\"quotes\\\" and \\\\ slashes\"",
        "[\"\\ud83d\\ude00\",\"\\u0041\\u00ff\",\"\\uabcd\\u0101\"]",
        "[9223372036854775807,-9223372036854775808,1.7976931348623157e308,1e-300]",
        "{\"n\":1234567890123456789,\"m\":-999999999999999999,\"r\":9.99e307}",
    };
    const char alphabet[] = "{}[]\",:.-+eE0123456789tfnulr \\/\x01\xc3\xa9" "abcdDuU";
    unsigned seed = 12345;
    int checked = 0, refused = 0;
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        size_t len = strlen(seeds[s]);
        for (int round = 0; round < 5000; round++) {
            char buf[256];
            memcpy(buf, seeds[s], len);
            int edits = 1 + (int)(seed % 3);
            for (int e = 0; e < edits; e++) {
                seed = seed * 1103515245u + 12345u;
                size_t pos = (seed >> 8) % len;
                seed = seed * 1103515245u + 12345u;
                buf[pos] = alphabet[(seed >> 8) % (sizeof alphabet - 1)];
            }
            json_error_t je;
            hd_error err;
            bool theirs = jansson_accepts(buf, len, &je);
            bool mine = json_scan(buf, len, NULL, NULL, NULL, &err);
            if (mine != theirs)
                fail_msg("disagree on '%.*s': scanner %d (%s), jansson %d (%s)", (int)len, buf,
                         mine, mine ? "" : err.msg, theirs, theirs ? "" : je.text);
            refused += !mine;
            checked++;
        }
    }
    assert_int_equal(checked, 30000);
    assert_true(refused > 1000 && refused < 29000);   /* both verdicts were exercised */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_rfc8259_values),
        cmocka_unit_test(test_refuses_with_position),
        cmocka_unit_test(test_members_are_raw_spans),
        cmocka_unit_test(test_string_decode),
        cmocka_unit_test(test_one_rule_table),
        cmocka_unit_test(test_grammar_only),
        cmocka_unit_test(test_agrees_with_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
