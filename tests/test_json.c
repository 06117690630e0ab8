/* test_json.c - the strict JSON scanner (json_scan.c) against fixed cases and
 * against jansson as an independent oracle. */
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
        "123456789012345678901234567890", /* bigger than 64 bits: still JSON */
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

/* Mutations of valid documents: the scanner and jansson must agree on every
 * one (jansson is configured to the same rules: any value, NUL allowed). */
static void test_agrees_with_jansson(void **state)
{
    (void)state;
    const char *seeds[] = {
        "{\"site\":\"a\",\"payload\":{\"k\":[1,2.5,-3e2,true,false,null,\"s\\u00e9\"]}}",
        "[\"x\",{\"y\":{}},[],0.25]",
        "\"text with \\\"quotes\\\" and \\\\ slashes\"",
    };
    const char alphabet[] = "{}[]\",:.-+eE0123456789tfnulr \\/\x01\xc3\xa9";
    unsigned seed = 12345;
    int checked = 0;
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        size_t len = strlen(seeds[s]);
        for (int round = 0; round < 3000; round++) {
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
            json_t *j = json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
            hd_error err;
            bool mine = json_scan(buf, len, NULL, NULL, NULL, &err);
            if (mine != (j != NULL))
                fail_msg("disagree on '%.*s': scanner %d, jansson %d (%s)", (int)len, buf, mine,
                         j != NULL, j ? "" : je.text);
            json_decref(j);
            checked++;
        }
    }
    assert_int_equal(checked, 9000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_rfc8259_values),
        cmocka_unit_test(test_refuses_with_position),
        cmocka_unit_test(test_members_are_raw_spans),
        cmocka_unit_test(test_string_decode),
        cmocka_unit_test(test_agrees_with_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
