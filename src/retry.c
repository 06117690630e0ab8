/* retry.c - the retry policy of SPEC §1 as a pure function, so the engine,
 * the tests and any future backend agree on exactly one rule; and the
 * Retry-After header (RFC 9110 §10.2.3), parsed here without the C library's
 * locale-dependent date functions (a console runs with setlocale). */
#include "hd_retry.h"

#include <stddef.h>
#include <string.h>
#include <time.h>

/* a + b for b >= 0, saturating at INT64_MAX. */
static int64_t add_sat(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

retry_decision retry_decide_after(const retry_policy *p, int attempt_number, bool success,
                                  int64_t finished_at_ms, int64_t retry_after_ms)
{
    retry_decision d = { MSG_DONE, 0 };
    if (success)
        return d;
    /* max_attempts counts every attempt, the first one included; a policy
     * below 1 still allows the attempt that was just made. */
    int max = p->max_attempts < 1 ? 1 : p->max_attempts;
    if (attempt_number >= max) {
        d.status = MSG_FAILED;
        return d;
    }
    int64_t wait = p->retry_interval_ms < 0 ? 0 : p->retry_interval_ms;
    if (retry_after_ms >= 0) {
        /* The receiver may ask for more time, never for less, and not for
         * longer than the cap (a hostile "Retry-After: 999999999"). */
        int64_t cap = p->max_retry_after_ms > 0 ? p->max_retry_after_ms
                                                : HD_RETRY_AFTER_CAP_DEFAULT_MS;
        int64_t asked = retry_after_ms < cap ? retry_after_ms : cap;
        if (asked > wait)
            wait = asked;
    }
    d.status = MSG_RESENT;
    d.next_due_at = add_sat(finished_at_ms, wait);
    return d;
}

retry_decision retry_decide(const retry_policy *p, int attempt_number, bool success,
                            int64_t finished_at_ms)
{
    return retry_decide_after(p, attempt_number, success, finished_at_ms, -1);
}

bool retry_is_success(int http_code)
{
    return http_code >= 200 && http_code <= 299;
}

/* ---- Retry-After ---- */

/* A cursor over the bytes [p, e) of a header value. */
typedef struct cursor {
    const char *p;
    const char *e;
} cursor;

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive (ASCII) equality of n bytes. */
static bool same_ci(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    return true;
}

/* Consumes the exact character ch. */
static bool take_char(cursor *c, char ch)
{
    if (c->p >= c->e || *c->p != ch)
        return false;
    c->p++;
    return true;
}

/* Consumes min..max digits. */
static bool take_num(cursor *c, int min, int max, int *out)
{
    int v = 0, n = 0;
    while (n < max && c->p < c->e && is_digit(*c->p)) {
        v = v * 10 + (*c->p - '0');
        c->p++;
        n++;
    }
    *out = v;
    return n >= min;
}

/* Consumes a run of letters equal (case-insensitively) to one of names[];
 * returns its index or -1. */
static int take_name(cursor *c, const char *const names[], int count)
{
    const char *s = c->p;
    while (c->p < c->e && ascii_lower(*c->p) >= 'a' && ascii_lower(*c->p) <= 'z')
        c->p++;
    size_t len = (size_t)(c->p - s);
    for (int i = 0; i < count; i++)
        if (strlen(names[i]) == len && same_ci(s, names[i], len))
            return i;
    return -1;
}

static const char *const short_days[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const long_days[7] = { "Sunday", "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday" };
static const char *const months[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static bool take_month(cursor *c, int *mon)
{
    *mon = take_name(c, months, 12);
    return *mon >= 0;
}

/* "HH:MM:SS" (a leap second :60 is let through; timegm carries it). */
static bool take_time(cursor *c, struct tm *tm)
{
    return take_num(c, 2, 2, &tm->tm_hour) && take_char(c, ':') &&
           take_num(c, 2, 2, &tm->tm_min) && take_char(c, ':') &&
           take_num(c, 2, 2, &tm->tm_sec) && tm->tm_hour <= 23 && tm->tm_min <= 59 &&
           tm->tm_sec <= 60;
}

/* " GMT" ending the value. */
static bool take_gmt(cursor *c)
{
    if (!take_char(c, ' ') || c->e - c->p != 3 || !same_ci(c->p, "GMT", 3))
        return false;
    c->p += 3;
    return true;
}

static bool leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* RFC 850's two-digit year: the one with those last digits that is not more
 * than 50 years in the future (RFC 9110 §5.6.7). */
static int full_year(int yy, int64_t now_ms)
{
    time_t now = (time_t)(now_ms / 1000);
    struct tm t;
    int this_year = gmtime_r(&now, &t) ? t.tm_year + 1900 : 2000;
    int y = this_year / 100 * 100 + yy;
    if (y > this_year + 50)
        y -= 100;
    return y;
}

/* The HTTP-date filling c (already trimmed) into *out (epoch seconds). */
static bool parse_http_date(cursor c, int64_t now_ms, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int year = 0, mon = 0;
    cursor at = c;
    if (take_name(&c, short_days, 7) >= 0) {
        if (take_char(&c, ',')) {
            /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
            if (!(take_char(&c, ' ') && take_num(&c, 1, 2, &tm.tm_mday) && take_char(&c, ' ') &&
                  take_month(&c, &mon) && take_char(&c, ' ') && take_num(&c, 4, 4, &year) &&
                  take_char(&c, ' ') && take_time(&c, &tm) && take_gmt(&c)))
                return false;
        } else {
            /* asctime: "Sun Nov  6 08:49:37 1994" */
            if (!(take_char(&c, ' ') && take_month(&c, &mon) && take_char(&c, ' ')))
                return false;
            (void)take_char(&c, ' ');   /* " 6" */
            if (!(take_num(&c, 1, 2, &tm.tm_mday) && take_char(&c, ' ') && take_time(&c, &tm) &&
                  take_char(&c, ' ') && take_num(&c, 4, 4, &year)))
                return false;
        }
    } else {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
        c = at;
        int yy = 0;
        if (!(take_name(&c, long_days, 7) >= 0 && take_char(&c, ',') && take_char(&c, ' ') &&
              take_num(&c, 2, 2, &tm.tm_mday) && take_char(&c, '-') && take_month(&c, &mon) &&
              take_char(&c, '-') && take_num(&c, 2, 2, &yy) && take_char(&c, ' ') &&
              take_time(&c, &tm) && take_gmt(&c)))
            return false;
        year = full_year(yy, now_ms);
    }
    if (c.p != c.e)
        return false;
    static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int last = mdays[mon] + (mon == 1 && leap_year(year) ? 1 : 0);
    if (tm.tm_mday < 1 || tm.tm_mday > last)
        return false;
    tm.tm_mon = mon;
    tm.tm_year = year - 1900;
    *out = (int64_t)timegm(&tm);
    return true;
}

/* The wait asked for by the value in [p, e); see retry_after_parse. */
static int64_t parse_span(const char *p, const char *e, int64_t now_ms)
{
    while (p < e && is_blank(*p))
        p++;
    while (e > p && is_blank(e[-1]))
        e--;
    if (p == e)
        return -1;
    if (is_digit(*p)) {
        /* delta-seconds: digits only; more than INT64 ms can hold saturates. */
        int64_t secs = 0;
        bool huge = false;
        for (const char *q = p; q < e; q++) {
            if (!is_digit(*q))
                return -1;
            if (secs > (INT64_MAX / 1000 - (*q - '0')) / 10)
                huge = true;
            else
                secs = secs * 10 + (*q - '0');
        }
        return huge ? INT64_MAX : secs * 1000;
    }
    int64_t when = 0;
    if (!parse_http_date((cursor){ p, e }, now_ms, &when))
        return -1;
    /* Years are four digits: when * 1000 cannot overflow. */
    int64_t when_ms = when * 1000;
    if (when_ms <= now_ms)
        return 0;
    if (now_ms < 0 && when_ms > INT64_MAX + now_ms)
        return INT64_MAX;
    return when_ms - now_ms;
}

int64_t retry_after_parse(const char *value, int64_t now_ms)
{
    if (!value)
        return -1;
    return parse_span(value, value + strlen(value), now_ms);
}

/* Whether [p, e), blanks before the colon aside, is name (lower case). */
static bool is_header_name(const char *p, const char *e, const char *name, size_t len)
{
    while (e > p && is_blank(e[-1]))
        e--;
    return (size_t)(e - p) == len && same_ci(p, name, len);
}

int64_t retry_after_from_response(int response_code, const char *response_headers,
                                  int64_t now_ms)
{
    static const char name[] = "retry-after";
    const size_t name_len = sizeof name - 1;
    if ((response_code != 429 && response_code != 503) || !response_headers)
        return -1;
    const char *line = response_headers;
    for (;;) {
        const char *nl = strchr(line, '\n');
        const char *end = nl ? nl : line + strlen(line);
        if (end > line && end[-1] == '\r')
            end--;
        const char *colon = memchr(line, ':', (size_t)(end - line));
        if (colon && is_header_name(line, colon, name, name_len))
            return parse_span(colon + 1, end, now_ms);
        if (!nl)
            return -1;
        line = nl + 1;
    }
}
