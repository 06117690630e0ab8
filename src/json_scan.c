/* json_scan.c - a strict JSON checker that builds nothing.
 *
 * `import` checks every line of files with millions of messages and stores
 * each payload as the exact text it was given; building a jansson tree for
 * each line only to throw it away was a fifth of the import time, and
 * re-serialising it changed the payload (key order kept, but numbers beyond
 * 64 bits refused).  This scanner walks the RFC 8259 grammar once, checks
 * UTF-8, and reports top-level object members as raw spans.
 *
 * One JSON rule (issue #10): what `send` and `import` accept
 * must be deliverable to every site.  application/json sites get the text
 * as it is, but application/x-www-form-urlencoded sites parse it with
 * jansson (request.c, json_loads(JSON_DECODE_ANY)), so the scanner refuses
 * everything jansson refuses, on top of the grammar:
 *   - "\u0000" in a string (jansson needs JSON_ALLOW_NUL for it);
 *   - a lone UTF-16 surrogate escape ("\ud800", "\udc00", a high one not
 *     followed by a low one);
 *   - an integer (no fraction, no exponent) outside int64: jansson's
 *     json_int_t is a long long;
 *   - a real whose magnitude rounds past DBL_MAX ("1e309"): jansson's strtod
 *     overflows.  Underflow ("1e-400") is fine for both: it becomes 0.
 * The one difference left is stricter on this side: nesting deeper than
 * JSON_MAX_DEPTH (512) is refused here; jansson allows 2048.  test_json
 * checks a table of cases and random mutations against jansson both ways.
 */
#include "hd_json.h"

#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 512

typedef struct scanner {
    const unsigned char *start;
    const unsigned char *p;
    const unsigned char *end;
    int depth;
    bool grammar_only;       /* json_scan_grammar: no jansson limits */
    const char *why;         /* first error, NULL while all is well */
    const unsigned char *at; /* where it happened */
} scanner;

static bool fail(scanner *s, const char *why)
{
    if (!s->why) {
        s->why = why;
        s->at = s->p;
    }
    return false;
}

static void skip_ws(scanner *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* Steps over c when it comes next. */
static bool eat(scanner *s, unsigned char c)
{
    if (s->p >= s->end || *s->p != c)
        return false;
    s->p++;
    return true;
}

static bool literal(scanner *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return fail(s, "invalid token");
    s->p += n;
    return true;
}

static bool digits(scanner *s)
{
    if (s->p >= s->end || *s->p < '0' || *s->p > '9')
        return fail(s, "digit expected");
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return true;
}

/* An integer token (sign, digits without leading zeros) fits in int64,
 * as jansson's strtoll needs. */
static bool int64_fits(const unsigned char *p, const unsigned char *end)
{
    bool neg = *p == '-';
    if (neg)
        p++;
    size_t n = (size_t)(end - p);
    if (n != 19)
        return n < 19;
    /* Same length: digit strings compare like the numbers. */
    return memcmp(p, neg ? "9223372036854775808" : "9223372036854775807", 19) <= 0;
}

/* A real token's value stays finite as a double (strtod does not overflow,
 * as jansson needs).  With the significant digits S (leading zeros
 * dropped) read as 0.S x 10^e10, the value is below 1e308 when e10 <= 308
 * and at least 1e309 when e10 >= 310; only e10 == 309 is decided by
 * strtod itself, on a text without a decimal point so that no locale can
 * change its reading. */
static bool real_fits(const unsigned char *p, const unsigned char *end)
{
    if (*p == '-')
        p++;
    const unsigned char *first = NULL;   /* first non-zero digit of the mantissa */
    int64_t e10 = 0;                     /* decimal exponent of 0.S */
    bool frac = false;
    const unsigned char *q = p;
    for (; q < end && *q != 'e' && *q != 'E'; q++) {
        if (*q == '.') {
            frac = true;
            continue;
        }
        if (!first && *q != '0') {
            first = q;
        } else if (!first && frac) {
            e10--;   /* 0.001: each zero after the point lowers it */
            continue;
        }
        if (first && !frac)
            e10++;
    }
    if (!first)
        return true;   /* zero, whatever the exponent */
    if (q < end) {
        q++;
        bool neg = *q == '-';
        if (*q == '-' || *q == '+')
            q++;
        int64_t x = 0;
        for (; q < end; q++)
            if (x < 1000000000)   /* saturated: far past any double either way */
                x = x * 10 + (*q - '0');
        e10 += neg ? -x : x;
    }
    if (e10 <= 308)
        return true;
    if (e10 >= 310)
        return false;
    /* S then "e" (309 - digits of S): the same value, no decimal point. */
    hd_buf b = { 0 };
    for (const unsigned char *d = first; d < end && *d != 'e' && *d != 'E'; d++)
        if (*d != '.')
            hd_buf_putc(&b, (char)*d);
    size_t ndigits = b.len;
    char ex[32];
    snprintf(ex, sizeof ex, "e%lld", (long long)(309 - (int64_t)ndigits));
    hd_buf_puts(&b, ex);
    double v = strtod(hd_buf_str(&b), NULL);
    hd_buf_free(&b);
    return v <= DBL_MAX;   /* HUGE_VAL (inf) when it overflowed */
}

static bool number(scanner *s)
{
    const unsigned char *start = s->p;
    bool integer = true;
    if (*s->p == '-')
        s->p++;
    if (!eat(s, '0') && !digits(s))
        return false;
    if (eat(s, '.')) {
        integer = false;
        if (!digits(s))
            return false;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        integer = false;
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!digits(s))
            return false;
    }
    if (!s->grammar_only && (integer ? !int64_fits(start, s->p) : !real_fits(start, s->p))) {
        const unsigned char *after = s->p;
        s->p = start;   /* the error points at the number */
        fail(s, integer ? "integer out of range (beyond 64 bits; write it as a string)"
                        : "number out of range (beyond a double)");
        s->p = after;
        return false;
    }
    return true;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads the 4 hex digits after "\u"; -1 when they are not hex. */
static long hex4(const unsigned char *p, const unsigned char *end)
{
    if (end - p < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Length of the valid UTF-8 sequence at p (2..4), 0 when invalid. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t n;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    /* Overlong forms, surrogates and values past U+10FFFF. */
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static bool string(scanner *s)
{
    s->p++; /* the opening quote */
    while (s->p < s->end) {
        unsigned char c = *s->p;
        if (c == '"') {
            s->p++;
            return true;
        }
        if (c < 0x20)
            return fail(s, "control character in a string");
        if (c == '\\') {
            if (s->end - s->p < 2)
                break;
            unsigned char e = s->p[1];
            if (e == 'u') {
                long cp = hex4(s->p + 2, s->end);
                if (cp < 0)
                    return fail(s, "invalid \\u escape");
                if (s->grammar_only) {
                    s->p += 6;
                    continue;
                }
                if (cp == 0)
                    return fail(s, "\\u0000 (NUL) is not allowed in a string");
                if (cp >= 0xdc00 && cp <= 0xdfff)
                    return fail(s, "lone UTF-16 surrogate in a \\u escape");
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    /* A high surrogate needs its low half right after it. */
                    const unsigned char *lo = s->p + 6;
                    long low = s->end - lo >= 2 && lo[0] == '\\' && lo[1] == 'u'
                                   ? hex4(lo + 2, s->end)
                                   : -1;
                    if (low < 0xdc00 || low > 0xdfff)
                        return fail(s, "lone UTF-16 surrogate in a \\u escape");
                    s->p += 6;
                }
                s->p += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                s->p += 2;
            } else {
                return fail(s, "invalid escape");
            }
            continue;
        }
        if (c < 0x80) {
            s->p++;
            continue;
        }
        size_t n = utf8_seq(s->p, s->end);
        if (!n)
            return fail(s, "invalid UTF-8");
        s->p += n;
    }
    return fail(s, "unterminated string");
}

static bool value(scanner *s, json_member_fn fn, void *ud, bool *is_object);

static bool object(scanner *s, json_member_fn fn, void *ud)
{
    s->p++; /* '{' */
    skip_ws(s);
    if (eat(s, '}'))
        return true;
    for (;;) {
        skip_ws(s);
        if (s->p >= s->end || *s->p != '"')
            return fail(s, "string or '}' expected");
        const unsigned char *key = s->p + 1;
        if (!string(s))
            return false;
        size_t key_len = (size_t)(s->p - 1 - key);
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':')
            return fail(s, "':' expected");
        s->p++;
        skip_ws(s);
        const unsigned char *val = s->p;
        if (!value(s, NULL, NULL, NULL))
            return false;
        if (fn) {
            json_member m = { (const char *)key, key_len, (const char *)val,
                              (size_t)(s->p - val) };
            if (!fn(&m, ud))
                return fail(s, "stopped");
        }
        skip_ws(s);
        if (eat(s, ','))
            continue;
        if (eat(s, '}'))
            return true;
        return fail(s, "',' or '}' expected");
    }
}

static bool array(scanner *s)
{
    s->p++; /* '[' */
    skip_ws(s);
    if (eat(s, ']'))
        return true;
    for (;;) {
        skip_ws(s);
        if (!value(s, NULL, NULL, NULL))
            return false;
        skip_ws(s);
        if (eat(s, ','))
            continue;
        if (eat(s, ']'))
            return true;
        return fail(s, "',' or ']' expected");
    }
}

static bool value(scanner *s, json_member_fn fn, void *ud, bool *is_object)
{
    if (s->p >= s->end)
        return fail(s, "value expected");
    bool ok;
    switch (*s->p) {
    case '{':
    case '[':
        if (++s->depth > JSON_MAX_DEPTH)
            return fail(s, "nested too deep");
        if (is_object)
            *is_object = *s->p == '{';
        ok = *s->p == '{' ? object(s, fn, ud) : array(s);
        s->depth--;
        return ok;
    case '"':
        return string(s);
    case 't':
        return literal(s, "true");
    case 'f':
        return literal(s, "false");
    case 'n':
        return literal(s, "null");
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
            return number(s);
        return fail(s, "invalid token");
    }
}

static void position(const scanner *s, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const unsigned char *q = s->start; q < s->at; q++) {
        if (*q == '\n') {
            (*line)++;
            *col = 1;
        } else if ((*q & 0xc0) != 0x80) {
            (*col)++;
        }
    }
}

static bool scan(const char *text, size_t len, bool grammar_only, json_member_fn fn, void *ud,
                 bool *is_object, hd_error *err)
{
    scanner s = { (const unsigned char *)text, (const unsigned char *)text,
                  (const unsigned char *)text + (text ? len : 0), 0, grammar_only, NULL, NULL };
    bool obj = false;
    skip_ws(&s);
    bool ok = value(&s, fn, ud, &obj);
    if (ok) {
        skip_ws(&s);
        if (s.p != s.end)
            ok = fail(&s, "end of text expected");
    }
    if (is_object)
        *is_object = ok && obj;
    if (!ok && strcmp(s.why, "stopped") != 0) {
        int line, col;
        position(&s, &line, &col);
        hd_error_set(err, HD_INVALID, "line %d, column %d: %s", line, col, s.why);
    }
    return ok;
}

bool json_scan(const char *text, size_t len, json_member_fn fn, void *ud, bool *is_object,
               hd_error *err)
{
    return scan(text, len, false, fn, ud, is_object, err);
}

bool json_scan_grammar(const char *text, size_t len)
{
    return scan(text, len, true, NULL, NULL, NULL, NULL);
}

bool json_valid(const char *text, size_t len, hd_error *err)
{
    return json_scan(text, len, NULL, NULL, NULL, err);
}

static void put_utf8(hd_buf *out, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    hd_buf_append(out, b, n);
}

bool json_string_decode(const char *token, size_t len, hd_buf *out)
{
    hd_buf_reset(out);
    if (len < 2 || token[0] != '"' || token[len - 1] != '"')
        return false;
    const unsigned char *p = (const unsigned char *)token + 1;
    const unsigned char *end = (const unsigned char *)token + len - 1;
    while (p < end) {
        const unsigned char *run = p;
        while (p < end && *p != '\\')
            p++;
        hd_buf_append(out, run, (size_t)(p - run));
        if (p >= end)
            break;
        if (end - p < 2)
            return false;
        unsigned char e = p[1];
        static const char from[] = "\"\\/bfnrt";
        static const char to[] = "\"\\/\b\f\n\r\t";
        const char *hit = e ? strchr(from, e) : NULL;
        if (hit) {
            hd_buf_putc(out, to[hit - from]);
            p += 2;
            continue;
        }
        if (e != 'u')
            return false;
        long cp = hex4(p + 2, end);
        if (cp < 0)
            return false;
        p += 6;
        if (cp >= 0xd800 && cp <= 0xdbff && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
            long lo = hex4(p + 2, end);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            }
        }
        if (cp == 0)
            return false;
        /* A lone surrogate cannot be UTF-8: U+FFFD stands in for it. */
        put_utf8(out, (cp >= 0xd800 && cp <= 0xdfff) ? 0xfffd : (uint32_t)cp);
    }
    if (!out->data)
        hd_buf_puts(out, "");
    return true;
}
