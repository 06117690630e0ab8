/* test_ui_lineedit.c - the form's line editor: cursor moves, insertion and
 * deletion at the cursor, UTF-8 kept whole, the buffer never overflows;
 * and what reaches it: escape sequences decoded into keys (keys_escape). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../ui/lineedit.h"
#include "../ui/term.h"
#include "../ui/ui.h"

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

/* Alt-b/Alt-f move by words, Alt-Backspace and Alt-d delete one, as in
 * readline (what a terminal sends as Esc + key, decoded by keys_escape). */
static void test_words(void **state)
{
    (void)state;
    char buf[64] = "iss=hookdesk; aud=qa";
    size_t cur = strlen(buf);
    assert_int_equal(lineedit_key(buf, sizeof buf, &cur, TK_ALT('b')), LE_MOVED);
    assert_int_equal(cur, 18);   /* start of "qa" */
    lineedit_key(buf, sizeof buf, &cur, TK_ALT('b'));
    assert_int_equal(cur, 14);   /* "aud" */
    lineedit_key(buf, sizeof buf, &cur, TK_ALT('b'));
    assert_int_equal(cur, 4);    /* "hookdesk" */
    lineedit_key(buf, sizeof buf, &cur, TK_ALT('f'));
    assert_int_equal(cur, 12);   /* after "hookdesk" */
    assert_int_equal(lineedit_key(buf, sizeof buf, &cur, TK_ALT(TK_BACKSPACE)), LE_CHANGED);
    assert_string_equal(buf, "iss=; aud=qa");
    assert_int_equal(cur, 4);
    assert_int_equal(lineedit_key(buf, sizeof buf, &cur, TK_ALT('d')), LE_CHANGED);
    assert_string_equal(buf, "iss==qa");
    assert_int_equal(cur, 4);
    /* Nothing to delete: the text stays. */
    cur = 0;
    assert_int_equal(lineedit_key(buf, sizeof buf, &cur, TK_ALT(TK_BACKSPACE)), LE_MOVED);
    cur = strlen(buf);
    assert_int_equal(lineedit_key(buf, sizeof buf, &cur, TK_ALT('d')), LE_MOVED);
    /* UTF-8 letters are word characters, kept whole. */
    char u[64] = "caf\xc3\xa9 cr\xc3\xa8me";
    cur = strlen(u);
    lineedit_key(u, sizeof u, &cur, TK_CTRL('w'));
    assert_string_equal(u, "caf\xc3\xa9 ");
    lineedit_key(u, sizeof u, &cur, TK_ALT('b'));
    assert_int_equal(cur, 0);
    /* Other Alt keys are not editing keys (the view ignores them). */
    assert_int_equal(lineedit_key(u, sizeof u, &cur, TK_ALT('x')), LE_IGNORED);
    assert_string_equal(u, "caf\xc3\xa9 ");
}

/* Feeds keys_escape what term_escape reads after an Esc: one more key
 * while it asks for more; `text` then nothing (ended). */
static int esc(const char *text, int *used)
{
    int seq[KEYS_ESC_MAX], n = 0, key;
    size_t len = strlen(text);
    while ((key = keys_escape(seq, n, (size_t)n == len || n == KEYS_ESC_MAX, used)) ==
           KEYS_ESC_MORE)
        seq[n] = (unsigned char)text[n], n++;
    return key;
}

static void test_escape_sequences(void **state)
{
    (void)state;
    int used = 0;
    /* Home/End/PgUp/PgDn as xterm, VT220/screen/tmux/linux and rxvt send them. */
    const struct {
        const char *seq;
        int key;
    } known[] = {
        { "[1~", TK_HOME },  { "[7~", TK_HOME },  { "[H", TK_HOME },   { "OH", TK_HOME },
        { "[4~", TK_END },   { "[8~", TK_END },   { "[F", TK_END },    { "OF", TK_END },
        { "[5~", TK_PPAGE }, { "[6~", TK_NPAGE }, { "[3~", TK_DELETE }, { "[A", TK_UP },
        { "OB", TK_DOWN },   { "[Z", TK_BTAB },   { "OP", TK_F1 },     { "[[A", TK_F1 },
        { "[11~", TK_F1 },   { "[12~", TK_F2 },   { "[15~", TK_F5 },   { "[1;5D", TK_ALT('b') },
        { "[1;3C", TK_ALT('f') }, { "[1;2A", TK_UP },
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        assert_int_equal(esc(known[i].seq, &used), known[i].key);
        assert_int_equal(used, (int)strlen(known[i].seq));
    }
    /* Unknown sequences are swallowed whole: nothing of them is a key. */
    const char *unknown[] = { "[2~", "[24~", "[200~", "[?1h", "[<0;1;1M", "OZ", "[[Z", "[1;" };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_int_equal(esc(unknown[i], &used), TERM_KEY_NONE);
        assert_int_equal(used, (int)strlen(unknown[i]));
    }
    /* Alt + a key; Esc alone; Esc Esc is two Escs (the second read again). */
    assert_int_equal(esc("b", &used), TK_ALT('b'));
    assert_int_equal(used, 1);
    assert_int_equal(esc("\x7f", &used), TK_ALT(TK_BACKSPACE));
    assert_int_equal(esc("", &used), TK_ESC);
    assert_int_equal(used, 0);
    assert_int_equal(esc("\x1b", &used), TK_ESC);
    assert_int_equal(used, 0);
    assert_int_equal(esc("[", &used), TK_ALT('['));
    /* Names for the help. */
    char name[16];
    keys_name(TK_ALT('b'), name, sizeof name);
    assert_string_equal(name, "Alt-b");
    keys_name(TK_ALT(TK_BACKSPACE), name, sizeof name);
    assert_string_equal(name, "Alt-Bksp");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_in_the_middle),
        cmocka_unit_test(test_utf8_is_one_character),
        cmocka_unit_test(test_full_buffer_drops_input),
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_escape_sequences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
