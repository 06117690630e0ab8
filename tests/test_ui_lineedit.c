/* test_ui_lineedit.c - the form's line editor: cursor moves, insertion and
 * deletion at the cursor, UTF-8 kept whole, the buffer never overflows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../ui/lineedit.h"
#include "../ui/term.h"

static void type(char *buf, size_t cap, size_t *cur, const char *text)
{
    for (const char *p = text; *p; p++)
        assert_int_equal(lineedit_key(buf, cap, cur, (unsigned char)*p), LE_CHANGED);
}

static void test_insert_in_the_middle(void **state)
{
    (void)state;
    char buf[64] = "http://example.com/hook";
    size_t cur = strlen(buf);
    /* Home, then right past "http", then type an "s": a typo fixed in place. */
    assert_int_equal(lineedit_key(buf, sizeof buf, &cur, TK_HOME), LE_MOVED);
    assert_int_equal(cur, 0);
    for (int i = 0; i < 4; i++)
        lineedit_key(buf, sizeof buf, &cur, TK_RIGHT);
    type(buf, sizeof buf, &cur, "s");
    assert_string_equal(buf, "https://example.com/hook");
    assert_int_equal(cur, 5);
    /* Delete removes the character under the cursor, Backspace the one before. */
    lineedit_key(buf, sizeof buf, &cur, TK_DELETE);
    assert_string_equal(buf, "https//example.com/hook");
    lineedit_key(buf, sizeof buf, &cur, TK_BACKSPACE);
    assert_string_equal(buf, "http//example.com/hook");
    assert_int_equal(cur, 4);
    /* ^K cuts to the end, ^U to the start. */
    lineedit_key(buf, sizeof buf, &cur, TK_CTRL('k'));
    assert_string_equal(buf, "http");
    lineedit_key(buf, sizeof buf, &cur, TK_LEFT);
    lineedit_key(buf, sizeof buf, &cur, TK_CTRL('u'));
    assert_string_equal(buf, "p");
    assert_int_equal(cur, 0);
    /* Moving past either end stays at the end. */
    assert_int_equal(lineedit_key(buf, sizeof buf, &cur, TK_LEFT), LE_MOVED);
    assert_int_equal(cur, 0);
    lineedit_key(buf, sizeof buf, &cur, TK_END);
    lineedit_key(buf, sizeof buf, &cur, TK_RIGHT);
    assert_int_equal(cur, 1);
    assert_int_equal(lineedit_key(buf, sizeof buf, &cur, TK_F5), LE_IGNORED);
}

static void test_utf8_is_one_character(void **state)
{
    (void)state;
    char buf[32] = "";
    size_t cur = 0;
    lineedit_key(buf, sizeof buf, &cur, 0xe9);      /* é: 2 bytes */
    lineedit_key(buf, sizeof buf, &cur, 0x1f600);   /* emoji: 4 bytes */
    type(buf, sizeof buf, &cur, "x");
    assert_string_equal(buf, "\xc3\xa9\xf0\x9f\x98\x80x");
    assert_int_equal(lineedit_chars(buf, strlen(buf)), 3);
    lineedit_key(buf, sizeof buf, &cur, TK_LEFT);
    lineedit_key(buf, sizeof buf, &cur, TK_LEFT);   /* before the emoji */
    assert_int_equal(cur, 2);
    assert_int_equal(lineedit_chars(buf, cur), 1);
    lineedit_key(buf, sizeof buf, &cur, TK_DELETE); /* removes all 4 bytes */
    assert_string_equal(buf, "\xc3\xa9x");
    lineedit_key(buf, sizeof buf, &cur, TK_BACKSPACE);
    assert_string_equal(buf, "x");
    assert_int_equal(cur, 0);
}

static void test_full_buffer_drops_input(void **state)
{
    (void)state;
    char buf[6] = "abcd";
    size_t cur = 4;
    type(buf, sizeof buf, &cur, "e");                /* 5 bytes + NUL: full */
    assert_int_equal(lineedit_key(buf, sizeof buf, &cur, 'f'), LE_IGNORED);
    assert_int_equal(lineedit_key(buf, sizeof buf, &cur, 0xe9), LE_IGNORED);
    assert_string_equal(buf, "abcde");
    /* A cursor beyond the text (stale after an outside change) is clamped. */
    cur = 99;
    assert_int_equal(lineedit_key(buf, sizeof buf, &cur, TK_BACKSPACE), LE_CHANGED);
    assert_string_equal(buf, "abcd");
    assert_int_equal(cur, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_in_the_middle),
        cmocka_unit_test(test_utf8_is_one_character),
        cmocka_unit_test(test_full_buffer_drops_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
