/* lineedit.c - one line of UTF-8 text with a cursor (see lineedit.h). */
#include "lineedit.h"

#include <string.h>

#include "term.h"

static bool is_continuation(unsigned char c)
{
    return (c & 0xc0) == 0x80;
}

static size_t prev_char(const char *buf, size_t at)
{
    while (at > 0 && is_continuation((unsigned char)buf[--at]))
        ;
    return at;
}

static size_t next_char(const char *buf, size_t at)
{
    size_t len = strlen(buf);
    if (at >= len)
        return len;
    at++;
    while (at < len && is_continuation((unsigned char)buf[at]))
        at++;
    return at;
}

static size_t encode_utf8(unsigned c, char out[4])
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | c >> 6);
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xe0 | c >> 12);
        out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | c >> 18);
    out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    out[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

/* Removes bytes [from, to) of buf. */
static void cut(char *buf, size_t from, size_t to)
{
    memmove(buf + from, buf + to, strlen(buf + to) + 1);
}

/* A word is letters and digits (any non-ASCII character counts as a
 * letter), as in readline: Alt-b/Alt-f stop at the start/end of one. */
static bool is_word(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c >= 0x80;
}

/* The start of the word before at (skipping what is between). */
static size_t word_left(const char *buf, size_t at)
{
    while (at > 0 && !is_word((unsigned char)buf[at - 1]))
        at--;
    while (at > 0 && is_word((unsigned char)buf[at - 1]))
        at--;
    return at;
}

/* The end of the word after at. */
static size_t word_right(const char *buf, size_t at)
{
    size_t len = strlen(buf);
    while (at < len && !is_word((unsigned char)buf[at]))
        at++;
    while (at < len && is_word((unsigned char)buf[at]))
        at++;
    return at;
}

/* What lineedit_key below does, as data for the `?` overlay: an entry
 * per case of its switch, in its order (keep the two in step). */
const key_help lineedit_key_help[] = {
    { { TK_LEFT, TK_RIGHT }, "Move the cursor in a text field" },
    { { TK_HOME, TK_CTRL('a') }, "Cursor to the start of the text" },
    { { TK_END, TK_CTRL('e') }, "Cursor to the end of the text" },
    { { TK_BACKSPACE, TK_CTRL('h') }, "Delete the character before the cursor" },
    { { TK_DELETE, TK_CTRL('d') }, "Delete the character under the cursor" },
    { { TK_CTRL('u') }, "Cut everything before the cursor" },
    { { TK_CTRL('k') }, "Cut from the cursor to the end" },
    { { TK_ALT('b'), TK_ALT('f') }, "Move the cursor a word left / right" },
    { { TK_ALT(TK_BACKSPACE), TK_CTRL('w') }, "Delete the word before the cursor" },
    { { TK_ALT('d') }, "Delete the word after the cursor" },
    { { 0 }, NULL },
};

lineedit_result lineedit_key(char *buf, size_t cap, size_t *cursor, int key)
{
    size_t len = strlen(buf);
    size_t at = *cursor > len ? len : *cursor;
    *cursor = at;
    bool printable = key >= 32 && key < 0x110000 && key != 127 && !(key >= 0xd800 && key < 0xe000);
    if (printable) {
        char enc[4];
        size_t n = encode_utf8((unsigned)key, enc);
        if (len + n + 1 > cap)
            return LE_IGNORED;   /* full: the character is dropped */
        memmove(buf + at + n, buf + at, len - at + 1);
        memcpy(buf + at, enc, n);
        *cursor = at + n;
        return LE_CHANGED;
    }
    switch (key) {
    case TK_LEFT:
        *cursor = prev_char(buf, at);
        return LE_MOVED;
    case TK_RIGHT:
        *cursor = next_char(buf, at);
        return LE_MOVED;
    case TK_HOME:
    case TK_CTRL('a'):
        *cursor = 0;
        return LE_MOVED;
    case TK_END:
    case TK_CTRL('e'):
        *cursor = len;
        return LE_MOVED;
    case TK_BACKSPACE:
    case TK_CTRL('h'):
        if (at == 0)
            return LE_MOVED;
        *cursor = prev_char(buf, at);
        cut(buf, *cursor, at);
        return LE_CHANGED;
    case TK_DELETE:
    case TK_CTRL('d'):
        if (at == len)
            return LE_MOVED;
        cut(buf, at, next_char(buf, at));
        return LE_CHANGED;
    case TK_CTRL('u'):
        cut(buf, 0, at);
        *cursor = 0;
        return LE_CHANGED;
    case TK_CTRL('k'):
        buf[at] = '\0';
        return LE_CHANGED;
    case TK_ALT('b'):
        *cursor = word_left(buf, at);
        return LE_MOVED;
    case TK_ALT('f'):
        *cursor = word_right(buf, at);
        return LE_MOVED;
    case TK_ALT(TK_BACKSPACE):
    case TK_CTRL('w'):
        *cursor = word_left(buf, at);
        cut(buf, *cursor, at);
        return at == *cursor ? LE_MOVED : LE_CHANGED;
    case TK_ALT('d'): {
        size_t end = word_right(buf, at);
        cut(buf, at, end);
        return end == at ? LE_MOVED : LE_CHANGED;
    }
    default:
        return LE_IGNORED;
    }
}

size_t lineedit_chars(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n && s[i]; i++)
        if (!is_continuation((unsigned char)s[i]))
            chars++;
    return chars;
}
