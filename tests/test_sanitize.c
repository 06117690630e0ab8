/* test_sanitize.c - terminal-safe text (escapes made inert, UTF-8 kept,
 * invalid bytes replaced, widths) and the JSON helpers shown next to it. */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hd_json.h"
#include "hd_sanitize.h"

/* The property every sanitised text must have: no byte a terminal acts on. */
static void assert_inert(const char *s, unsigned flags)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; p[i]; i++) {
        if (p[i] == '\n' && (flags & SANITIZE_KEEP_NEWLINES))
            continue;
        if (p[i] == '\t' && (flags & SANITIZE_KEEP_TABS))
            continue;
        if (p[i] < 0x20 || p[i] == 0x7f)
            fail_msg("control byte 0x%02x at %zu in '%s'", p[i], i, s);
        /* C1 controls encoded as UTF-8 are C2 80..C2 9F. */
        if (p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
            fail_msg("C1 control at %zu in '%s'", i, s);
        /* Bidi overrides / isolates and U+2028/2029: E2 80 A8..AE, E2 81 A6..A9. */
        if (p[i] == 0xe2 && p[i + 1] == 0x80 && p[i + 2] >= 0xa8 && p[i + 2] <= 0xae)
            fail_msg("layout control at %zu in '%s'", i, s);
        if (p[i] == 0xe2 && p[i + 1] == 0x81 && p[i + 2] >= 0xa6 && p[i + 2] <= 0xa9)
            fail_msg("bidi isolate at %zu in '%s'", i, s);
    }
}

static void check(const char *in, size_t len, unsigned flags, const char *expect)
{
    hd_buf b = { 0 };
    sanitize_append(&b, in, len, flags);
    assert_string_equal(hd_buf_str(&b), expect);
    assert_inert(hd_buf_str(&b), flags);
    hd_buf_free(&b);
}

static void test_escape_sequences(void **state)
{
    (void)state;
    const char *evil = "\x1b[2J\x1b]0;evil\x07";
    check(evil, strlen(evil), 0, "^[[2J^[]0;evil^G");
    check("a\x7f" "b", 3, 0, "a^?b");
    check("\x9b", 1, 0, "\xef\xbf\xbd");             /* a lone C1 byte is not UTF-8 */
    check("x\xc2\x9b" "31m", 6, 0, "x\\u{9B}31m");   /* CSI as a UTF-8 C1 control */
    check("\xc2\x85", 2, 0, "\\u{85}");
    check("nul\0byte", 8, 0, "nul^@byte");
    check("\r\n", 2, 0, "^M^J");
    check("a\tb", 3, 0, "a b");
    check("a\tb", 3, SANITIZE_KEEP_TABS, "a\tb");
    check("l1\nl2\r\n", 7, SANITIZE_KEEP_NEWLINES, "l1\nl2^M\n");
    check("\x01\x1f", 2, 0, "^A^_");
}

static void test_layout_controls(void **state)
{
    (void)state;
    /* RLO "Trojan Source" and line separators become visible numbers. */
    check("abc\xe2\x80\xae" "cba", 9, 0, "abc\\u{202E}cba");
    check("\xe2\x80\xa8\xe2\x80\xa9", 6, 0, "\\u{2028}\\u{2029}");
    check("\xe2\x81\xa6x\xe2\x81\xa9", 7, 0, "\\u{2066}x\\u{2069}");
    check("\xe2\x80\xaa", 3, 0, "\\u{202A}");
}

static void test_utf8_kept_invalid_replaced(void **state)
{
    (void)state;
    const char *ok = "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 ~!";
    check(ok, strlen(ok), 0, ok);
    check("", 0, 0, "");
    /* Invalid: stray continuation, overlong, surrogate, > U+10FFFF, truncated. */
    check("a\x80" "b", 3, 0, "a\xef\xbf\xbd" "b");
    check("\xc0\xaf", 2, 0, "\xef\xbf\xbd\xef\xbf\xbd");
    check("\xed\xa0\x80", 3, 0, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    check("\xf4\x90\x80\x80", 4, 0,
          "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    check("x\xe6\x97", 3, 0, "x\xef\xbf\xbd\xef\xbf\xbd");
    check("\xff", 1, 0, "\xef\xbf\xbd");
}

static void test_sanitize_dup_and_fuzz(void **state)
{
    (void)state;
    char *s = sanitize_dup("tab\there\x1b", 0);
    assert_string_equal(s, "tab here^[");
    free(s);
    s = sanitize_dup(NULL, 0);
    assert_string_equal(s, "");
    free(s);
    /* Every byte value, in pseudo-random mixes: the result is always inert
     * and valid enough for the checker above. */
    unsigned seed = 12345;
    for (int round = 0; round < 2000; round++) {
        unsigned char in[64];
        for (size_t i = 0; i < sizeof in; i++) {
            seed = seed * 1103515245u + 12345u;
            in[i] = (unsigned char)(seed >> 16);
        }
        hd_buf b = { 0 };
        sanitize_append(&b, (const char *)in, sizeof in, round & 3);
        assert_inert(hd_buf_str(&b), round & 3);
        assert_int_equal(strlen(hd_buf_str(&b)), b.len);
        hd_buf_free(&b);
    }
}

static void test_widths(void **state)
{
    (void)state;
    assert_non_null(setlocale(LC_ALL, "C.UTF-8"));
    assert_int_equal(utf8_width(""), 0);
    assert_int_equal(utf8_width(NULL), 0);
    assert_int_equal(utf8_width("hello"), 5);
    assert_int_equal(utf8_width("caf\xc3\xa9"), 4);
    assert_int_equal(utf8_width("\xe6\x97\xa5\xe6\x9c\xac"), 4);      /* 日本 */
    assert_int_equal(utf8_width("\xf0\x9f\x98\x80"), 2);              /* 😀 */
    assert_int_equal(utf8_width("e\xcc\x81"), 1);                     /* e + combining acute */
    assert_int_equal(utf8_width("a\xffz"), 3);                        /* invalid byte: 1 */

    /* utf8_fit never splits a character. */
    const char *cjk = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";          /* 日本語, 6 columns */
    assert_int_equal(utf8_fit(cjk, 0), 0);
    assert_int_equal(utf8_fit(cjk, 1), 0);
    assert_int_equal(utf8_fit(cjk, 2), 3);
    assert_int_equal(utf8_fit(cjk, 3), 3);
    assert_int_equal(utf8_fit(cjk, 5), 6);
    assert_int_equal(utf8_fit(cjk, 6), 9);
    assert_int_equal(utf8_fit(cjk, 80), 9);
    assert_int_equal(utf8_fit("abcdef", 4), 4);
    assert_int_equal(utf8_fit("ab\xf0\x9f\x98\x80x", 3), 2);
    assert_int_equal(utf8_fit("ab\xf0\x9f\x98\x80x", 4), 6);
    assert_int_equal(utf8_fit("e\xcc\x81x", 1), 3);                   /* keeps the accent */
    assert_int_equal(utf8_fit(NULL, 5), 0);
}

/* LANG=C (issue #11): the terminal cannot show other characters than
 * ASCII; each character is one column and shows as one '?'. */
static void test_widths_c_locale(void **state)
{
    (void)state;
    assert_non_null(setlocale(LC_ALL, "C"));
    assert_false(locale_is_utf8());
    assert_int_equal(utf8_width("caf\xc3\xa9"), 4);
    assert_int_equal(utf8_width("\xe6\x97\xa5\xe6\x9c\xac"), 2);      /* 日本 */
    assert_int_equal(utf8_width("\xf0\x9f\x98\x80!"), 2);             /* 😀! */
    assert_int_equal(utf8_width("a\xffz"), 3);
    assert_int_equal(utf8_fit("\xe6\x97\xa5\xe6\x9c\xac", 1), 3);     /* never half of 日 */
    char s[] = "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 a\xffz";
    text_ascii_fold(s);
    assert_string_equal(s, "caf? ?? ? a?z");
    assert_non_null(setlocale(LC_ALL, "C.UTF-8"));
    assert_true(locale_is_utf8());
}

static void test_json_valid(void **state)
{
    (void)state;
    hd_error err;
    hd_error_clear(&err);
    const char *good[] = { "{}", "[]", "{\"a\":[1,2,{\"b\":null}]}", "42", "\"s\"", "true",
                           " {\"x\": \"\\u00e9\"} " };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!json_valid(good[i], strlen(good[i]), &err))
            fail_msg("'%s' refused: %s", good[i], err.msg);

    const char *bad = "{\n  \"a\": 1,\n  \"b\": }";
    assert_false(json_valid(bad, strlen(bad), &err));
    assert_int_equal(err.code, HD_INVALID);
    assert_true(strncmp(err.msg, "line 3, column ", 15) == 0);
    assert_false(json_valid("", 0, &err));
    assert_false(json_valid("{} {}", 5, &err));
    assert_false(json_valid("{\"a\":1", 6, &err));
    /* Only len bytes count. */
    assert_true(json_valid("{}garbage", 2, &err));
}

static void test_json_pretty(void **state)
{
    (void)state;
    const char *in = "{\"z\":1,\"a\":[1,\"two\"],\"m\":{}}";
    char *p = json_pretty(in, strlen(in));
    assert_string_equal(p, "{\n  \"z\": 1,\n  \"a\": [\n    1,\n    \"two\"\n  ],\n  \"m\": {}\n}");
    free(p);
    p = json_pretty("7", 1);
    assert_string_equal(p, "7");
    free(p);
    p = json_pretty("\"x\"", 3);
    assert_string_equal(p, "\"x\"");
    free(p);
    /* Re-indented, not re-encoded: numbers, escapes and duplicate keys stay
     * exactly as sent. */
    const char *exact = " {\"n\": 1.10, \"big\":123456789012345678901234567890,"
                        "\"k\":1,\"k\":2, \"s\": \"a\\u00e9\\\"}\", \"e\": [ ], \"x\": 1e5}";
    p = json_pretty(exact, strlen(exact));
    assert_string_equal(p, "{\n  \"n\": 1.10,\n  \"big\": 123456789012345678901234567890,\n"
                           "  \"k\": 1,\n  \"k\": 2,\n  \"s\": \"a\\u00e9\\\"}\",\n"
                           "  \"e\": [],\n  \"x\": 1e5\n}");
    free(p);
    /* Not JSON: the text comes back unchanged. */
    p = json_pretty("not json {", 10);
    assert_string_equal(p, "not json {");
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_sequences),
        cmocka_unit_test(test_layout_controls),
        cmocka_unit_test(test_utf8_kept_invalid_replaced),
        cmocka_unit_test(test_sanitize_dup_and_fuzz),
        cmocka_unit_test(test_widths),
        cmocka_unit_test(test_widths_c_locale),
        cmocka_unit_test(test_json_valid),
        cmocka_unit_test(test_json_pretty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
