/* sanitize.c - text from strangers made inert for a terminal.
 *
 * DESIGN: the input is decoded as UTF-8 by hand (strict: no overlong forms,
 * no surrogates, nothing above U+10FFFF) so the result does not depend on
 * the locale; every code point is then either copied as is or replaced by a
 * visible form that contains no control byte:
 *   C0 controls and DEL    "^@".."^_", "^?"   (ESC is "^[")
 *   \n, \t                 kept when the flags say so; else "^J", " "
 *   C1 controls            "\u{9B}"           (U+0080..U+009F)
 *   line/paragraph sep.,   "\u{2028}"         (they break lines or reorder
 *   bidi embeddings,                           text on screen: "Trojan
 *   overrides, isolates                        Source" tricks)
 *   invalid byte           U+FFFD, one per byte
 * Widths decode UTF-8 by hand too.  In a UTF-8 locale a character is as
 * wide as wcwidth says; in any other (LANG=C) the terminal cannot show it,
 * so the front-ends show it through text_ascii_fold (one '?' per
 * character) and every character counts as one column: the columns they
 * compute then match what is drawn.
 */
#include "hd_sanitize.h"

#include <langinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

/* Decodes one UTF-8 sequence at s (n bytes available).  Returns its length
 * and sets *cp, or returns 0 when the first byte does not start a valid
 * sequence. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;   /* continuation byte, 0xc0/0xc1 (overlong) or 0xf5.. */
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* Code points that are printable in principle but rearrange or break the
 * display: shown by number instead. */
static bool is_layout_control(uint32_t cp)
{
    return cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

void sanitize_append(hd_buf *out, const char *in, size_t len, unsigned flags)
{
    if (!in)
        return;
    const unsigned char *p = (const unsigned char *)in;
    const unsigned char *end = p + len;
    /* Runs of plain text are copied in one append rather than per byte. */
    const unsigned char *run = p;
    while (p < end) {
        uint32_t cp;
        size_t n = utf8_decode(p, (size_t)(end - p), &cp);
        bool keep = n > 0 && cp >= 0x20 && cp != 0x7f && !(cp >= 0x80 && cp <= 0x9f) &&
                    !is_layout_control(cp);
        if (n > 0 && cp == '\n' && (flags & SANITIZE_KEEP_NEWLINES))
            keep = true;
        if (n > 0 && cp == '\t' && (flags & SANITIZE_KEEP_TABS))
            keep = true;
        if (keep) {
            p += n;
            continue;
        }
        hd_buf_append(out, run, (size_t)(p - run));
        if (n == 0) {
            hd_buf_append(out, "\xef\xbf\xbd", 3);
            n = 1;
        } else if (cp == '\t') {
            hd_buf_putc(out, ' ');
        } else if (cp < 0x20) {
            char caret[2] = { '^', (char)(cp + 0x40) };
            hd_buf_append(out, caret, 2);
        } else if (cp == 0x7f) {
            hd_buf_append(out, "^?", 2);
        } else {
            hd_buf_printf(out, "\\u{%X}", (unsigned)cp);
        }
        p += n;
        run = p;
    }
    hd_buf_append(out, run, (size_t)(p - run));
}

char *sanitize_dup(const char *in, unsigned flags)
{
    hd_buf b = { 0 };
    if (in)
        sanitize_append(&b, in, strlen(in), flags);
    return hd_buf_steal(&b);
}

bool locale_is_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
}

void text_ascii_fold(char *s)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    char *out = s;
    size_t n = strlen(s);
    while (n > 0) {
        uint32_t cp;
        size_t adv = utf8_decode(p, n, &cp);
        if (adv == 0)
            adv = 1;                 /* an undecodable byte: one stand-in */
        *out++ = *p < 0x80 ? (char)*p : '?';
        p += adv;
        n -= adv;
    }
    *out = '\0';
}

/* Width of the character at s (consuming *adv bytes); an undecodable byte
 * or a non-printable character counts as one column, as the sanitiser would
 * show at least that much for it.  Outside a UTF-8 locale every character
 * is one column: one stand-in (text_ascii_fold). */
static int char_width(const char *s, size_t n, bool utf8, size_t *adv)
{
    uint32_t cp;
    size_t r = utf8_decode((const unsigned char *)s, n, &cp);
    if (r == 0) {
        *adv = 1;
        return 1;
    }
    *adv = r;
    if (cp < 0x80 || !utf8)
        return 1;
    int w = wcwidth((wchar_t)cp);
    return w < 0 ? 1 : w;
}

size_t utf8_width(const char *s)
{
    if (!s)
        return 0;
    bool utf8 = locale_is_utf8();
    size_t n = strlen(s), cols = 0;
    while (n > 0) {
        size_t adv;
        cols += (size_t)char_width(s, n, utf8, &adv);
        s += adv;
        n -= adv;
    }
    return cols;
}

size_t utf8_fit(const char *s, size_t cols)
{
    if (!s)
        return 0;
    bool utf8 = locale_is_utf8();
    size_t n = strlen(s), used = 0, bytes = 0;
    while (bytes < n) {
        size_t adv;
        int w = char_width(s + bytes, n - bytes, utf8, &adv);
        if (used + (size_t)w > cols)
            break;
        used += (size_t)w;
        bytes += adv;
    }
    return bytes;
}
