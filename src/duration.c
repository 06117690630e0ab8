/* duration.c - human durations ("250ms", "10s", "1h30m", "90d") and sizes
 * ("64KiB") in both directions, and points in time typed as a date or a
 * duration ago.
 *
 * Parsing is strict: digits then a unit, repeated (durations only); no
 * signs, no fractions, no trailing junk, and every multiplication and sum
 * is overflow-checked.  A bare number is seconds (durations) or bytes
 * (sizes), and only when it stands alone: in "1h30" the 30 has no unit and
 * is refused rather than guessed.  Blanks around the whole text and between
 * a number and its unit are allowed ("64 KiB").
 *
 * Why-texts are static strings, except "unknown unit 'x'" which names the
 * unit: it lives in a thread-local buffer, valid until the next call from
 * the same thread.
 */
#include "hd_duration.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "hd_util.h"

typedef struct unit {
    const char *name;   /* as written after the number */
    uint64_t factor;    /* milliseconds or bytes per unit */
} unit;

/* Ordered largest first: duration_format relies on it. */
static const unit duration_units[] = {
    { "w", 7ULL * 24 * 3600 * 1000 },
    { "d", 24ULL * 3600 * 1000 },
    { "h", 3600ULL * 1000 },
    { "m", 60ULL * 1000 },
    { "s", 1000 },
    { "ms", 1 },
};

static const unit size_units[] = {
    { "GiB", 1ULL << 30 }, { "MiB", 1ULL << 20 }, { "KiB", 1ULL << 10 },
    { "GB", 1000000000ULL }, { "MB", 1000000ULL }, { "KB", 1000ULL },
    { "B", 1 },
};

#define NUNITS(a) (sizeof (a) / sizeof (a)[0])

static _Thread_local char why_buf[64];

static const char *why_unknown_unit(const char *u, size_t len)
{
    snprintf(why_buf, sizeof why_buf, "unknown unit '%.*s'", (int)(len > 16 ? 16 : len), u);
    return why_buf;
}

static const char *why_unexpected(const char *p)
{
    snprintf(why_buf, sizeof why_buf, "unexpected text '%.16s'", p);
    return why_buf;
}

/* Says why a text was refused (when asked: why may be NULL); false. */
static bool refuse(const char **why, const char *text)
{
    if (why)
        *why = text;
    return false;
}

static const char *skip_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Reads decimal digits at *pp into *out.  Returns NULL on success or the
 * why-text. */
static const char *read_number(const char **pp, uint64_t *out)
{
    const char *p = *pp;
    if (*p == '-')
        return "negative values are not allowed";
    if (*p == '+')
        p++;
    if (!isdigit((unsigned char)*p))
        return "number expected";
    uint64_t v = 0;
    while (isdigit((unsigned char)*p)) {
        if (__builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
            return "value too large";
        p++;
    }
    if (*p == '.' || *p == ',')
        return "fractions are not supported (use a smaller unit, e.g. 1500ms)";
    *pp = p;
    *out = v;
    return NULL;
}

/* Reads a unit name (letters) at *pp; matches case-sensitively when exact
 * is set, else case-insensitively.  Returns its factor, 0 when the text has
 * no letters here, or sets *bad for an unknown one. */
static uint64_t read_unit(const char **pp, const unit *units, size_t n, bool exact,
                          const char **bad)
{
    const char *p = *pp;
    size_t len = 0;
    while (isalpha((unsigned char)p[len]))
        len++;
    if (len == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (strlen(units[i].name) != len)
            continue;
        if (exact ? strncmp(p, units[i].name, len) == 0
                  : strncasecmp(p, units[i].name, len) == 0) {
            *pp = p + len;
            return units[i].factor;
        }
    }
    *bad = why_unknown_unit(p, len);
    return 0;
}

/* One part at *pp: a number, blanks, a unit (read_unit) -- the number in
 * *n, the unit's factor in *f (0: none).  Returns NULL, or why the text is
 * refused; after_part: a part came before, so a missing number is junk
 * after that part ("10s!"). */
static const char *read_part(const char **pp, const unit *units, size_t nunits, bool exact,
                             bool after_part, uint64_t *n, uint64_t *f)
{
    const char *bad = read_number(pp, n);
    if (bad && after_part && strcmp(bad, "number expected") == 0)
        return why_unexpected(*pp);
    if (bad)
        return bad;
    *pp = skip_blanks(*pp);
    *f = read_unit(pp, units, nunits, exact, &bad);
    return bad;
}

bool duration_parse(const char *text, int64_t *out_ms, const char **why)
{
    if (!text)
        return refuse(why, "number expected");
    const char *p = skip_blanks(text);
    if (!*p)
        return refuse(why, "number expected");
    uint64_t total = 0;
    int parts = 0;
    while (*p) {
        /* "10x" fails on the x as a unit, "x" has no number at all.  Units
         * are case-sensitive: "m" is minutes, "M" would be a guess. */
        uint64_t n, f;
        const char *bad = read_part(&p, duration_units, NUNITS(duration_units), true, parts > 0,
                                    &n, &f);
        if (bad)
            return refuse(why, bad);
        if (f == 0) {
            if (*p)
                return refuse(why, why_unknown_unit(p, 1));
            if (parts > 0)
                return refuse(why, "unit expected after the last number (e.g. 1h30m)");
            f = 1000;   /* a bare number means seconds */
        }
        uint64_t v;
        if (__builtin_mul_overflow(n, f, &v) || __builtin_add_overflow(total, v, &total) ||
            total > (uint64_t)INT64_MAX)
            return refuse(why, "value too large");
        parts++;
        p = skip_blanks(p);
    }
    *out_ms = (int64_t)total;
    return true;
}

bool duration_parse_when(const char *text, int64_t now_ms, int64_t *out_ms, const char **why)
{
    const char *p = skip_blanks(text ? text : "");
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n == 0)
        return refuse(why, "expected a date or a duration ago, got nothing");
    /* A date has dashes, a duration never has: the two cannot both match. */
    char *t = hd_xstrndup(p, n);
    int64_t ms = 0;
    bool ok = true;
    if (hd_time_parse(t, &ms))
        *out_ms = ms;
    else if (duration_parse(t, &ms, NULL))
        *out_ms = now_ms - ms;
    else
        ok = false;
    free(t);
    if (!ok)
        return refuse(why, "neither a date (2026-11-29, 2026-11-29 20:58, 2026-11-29T20:58:55Z) "
                             "nor a duration ago (30m, 2h, 7d)");
    return true;
}

bool date_day_end(const char *text, int64_t *end_ms)
{
    const char *p = skip_blanks(text ? text : "");
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(p, "%Y-%m-%d", &tm);
    if (!end || *skip_blanks(end) != '\0')
        return false;
    tm.tm_mday++;            /* mktime normalises the 32nd and DST */
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    if (t == (time_t)-1)
        return false;
    *end_ms = (int64_t)t * 1000;
    return true;
}

bool size_parse(const char *text, uint64_t *out_bytes, const char **why)
{
    if (!text)
        return refuse(why, "number expected");
    const char *p = skip_blanks(text);
    /* Sizes are matched case-insensitively: "64kib" is not ambiguous. */
    uint64_t n, f;
    const char *bad = read_part(&p, size_units, NUNITS(size_units), false, false, &n, &f);
    if (bad)
        return refuse(why, bad);
    if (f == 0)
        f = 1;
    p = skip_blanks(p);
    if (*p)
        return refuse(why, why_unknown_unit(p, strlen(p)));
    uint64_t v;
    if (__builtin_mul_overflow(n, f, &v))
        return refuse(why, "value too large");
    *out_bytes = v;
    return true;
}

/* ---- formatting ---- */

/* Largest single unit that divides ms exactly: "90m", "1500ms". */
static void format_single(uint64_t ms, char *out, size_t outlen)
{
    for (size_t i = 0; i < NUNITS(duration_units); i++) {
        if (ms % duration_units[i].factor == 0) {
            snprintf(out, outlen, "%" PRIu64 "%s", ms / duration_units[i].factor,
                     duration_units[i].name);
            return;
        }
    }
}

/* Largest-first decomposition: "1w1ms" where a single unit would be long. */
static void format_combined(uint64_t ms, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NUNITS(duration_units) && ms > 0; i++) {
        uint64_t n = ms / duration_units[i].factor;
        if (n == 0)
            continue;
        ms -= n * duration_units[i].factor;
        int w = snprintf(out + used, outlen - used, "%" PRIu64 "%s", n, duration_units[i].name);
        if (w < 0 || (size_t)w >= outlen - used)
            return;
        used += (size_t)w;
    }
}

void duration_format(int64_t ms, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return;
    if (ms == 0) {
        snprintf(out, outlen, "0s");
        return;
    }
    /* Negative durations are never parsed, but format them legibly anyway
     * (the unsigned magnitude also covers INT64_MIN). */
    uint64_t mag = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    char single[48], combined[64];
    format_single(mag, single, sizeof single);
    format_combined(mag, combined, sizeof combined);
    const char *best = strlen(combined) < strlen(single) ? combined : single;
    snprintf(out, outlen, "%s%s", ms < 0 ? "-" : "", best);
}

void duration_format_short(int64_t ms, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return;
    if (ms <= 0) {
        snprintf(out, outlen, "now");
        return;
    }
    /* Round up: a countdown that shows "0s" while still waiting looks stuck. */
    int64_t s = ms / 1000 + (ms % 1000 ? 1 : 0);
    int64_t big, small;
    const char *bu, *su;
    if (s < 60) {
        snprintf(out, outlen, "%" PRId64 "s", s);
        return;
    } else if (s < 3600) {
        big = s / 60, small = s % 60, bu = "m", su = "s";
    } else if (s < 86400) {
        big = s / 3600, small = (s / 60) % 60, bu = "h", su = "m";
    } else {
        big = s / 86400, small = (s / 3600) % 24, bu = "d", su = "h";
    }
    if (small)
        snprintf(out, outlen, "%" PRId64 "%s%02" PRId64 "%s", big, bu, small, su);
    else
        snprintf(out, outlen, "%" PRId64 "%s", big, bu);
}

void size_format(uint64_t bytes, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return;
    /* Exact binary form when there is one (round-trips through size_parse);
     * otherwise plain bytes, never a rounded figure. */
    static const unit binary[] = {
        { "GiB", 1ULL << 30 }, { "MiB", 1ULL << 20 }, { "KiB", 1ULL << 10 },
    };
    for (size_t i = 0; i < NUNITS(binary); i++) {
        if (bytes >= binary[i].factor && bytes % binary[i].factor == 0) {
            snprintf(out, outlen, "%" PRIu64 "%s", bytes / binary[i].factor, binary[i].name);
            return;
        }
    }
    snprintf(out, outlen, "%" PRIu64 "B", bytes);
}

void size_words(uint64_t bytes, char *out, size_t outlen)
{
    char tmp[32];
    size_format(bytes, tmp, sizeof tmp);
    size_t digits = strspn(tmp, "0123456789");
    if (strcmp(tmp + digits, "B") == 0)
        snprintf(out, outlen, "%.*s bytes", (int)digits, tmp);
    else
        snprintf(out, outlen, "%.*s %s", (int)digits, tmp, tmp + digits);
}

bool duration_parse_until(const char *text, int64_t now_ms, int64_t *out_ms, const char **why)
{
    if (!duration_parse_when(text, now_ms, out_ms, why))
        return false;
    int64_t day_end;
    if (date_day_end(text, &day_end))
        *out_ms = day_end;
    return true;
}
