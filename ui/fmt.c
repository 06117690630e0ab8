/* fmt.c - the console's pure helpers: cells, countdowns, filters, sparkline.
 *
 * Nothing here touches curses or the store, so tests/test_ui_fmt.c checks
 * it directly.  Every string from outside goes through sanitize_dup before
 * it is measured, so a cell can never carry an escape sequence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hd_duration.h"
#include "hd_queue_state.h"
#include "hd_sanitize.h"
#include "hd_util.h"
#include "term.h"
#include "ui.h"

/* ---- cells ---- */

static size_t fmt_append(char *out, size_t outlen, size_t at, const char *s, size_t n)
{
    if (at >= outlen)
        return at;
    if (n > outlen - 1 - at)
        n = outlen - 1 - at;
    memcpy(out + at, s, n);
    out[at + n] = '\0';
    return at + n;
}

void ui_fmt_cell(const char *s, int width, bool utf8, char *out, size_t outlen)
{
    if (!outlen)
        return;
    out[0] = '\0';
    if (width <= 0)
        return;
    char *clean = sanitize_dup(s ? s : "", 0);
    size_t w = utf8_width(clean);
    size_t at = 0, used;
    if (w <= (size_t)width) {
        at = fmt_append(out, outlen, 0, clean, strlen(clean));
        used = w;
    } else {
        /* Cut one column short and mark the cut, so a truncated id or
         * name is never mistaken for a whole one. */
        const char *mark = utf8 ? "\xe2\x80\xa6" : "~";
        size_t n = utf8_fit(clean, (size_t)width - 1);
        at = fmt_append(out, outlen, 0, clean, n);
        at = fmt_append(out, outlen, at, mark, strlen(mark));
        char save = clean[n];
        clean[n] = '\0';
        used = utf8_width(clean) + 1;
        clean[n] = save;
    }
    while (used < (size_t)width && at + 1 < outlen) {
        out[at++] = ' ';
        out[at] = '\0';
        used++;
    }
    free(clean);
}

void ui_fmt_thousands(int64_t n, char *out, size_t outlen)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%lld", (long long)(n < 0 ? -n : n));
    size_t len = strlen(digits), at = 0;
    char buf[48];
    if (n < 0)
        buf[at++] = '-';
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[at++] = ',';
        buf[at++] = digits[i];
    }
    buf[at] = '\0';
    snprintf(out, outlen, "%s", buf);
}

void ui_fmt_position(const msg_list *l, char *out, size_t outlen)
{
    if (l->page.count == 0) {
        snprintf(out, outlen, "%s", "");
        return;
    }
    char row[40] = "?", total[40] = "?";
    if (l->pos >= 0) {
        ui_fmt_thousands(l->pos + l->cursor + 1, row, sizeof row);
        if (l->pos_more)
            strcat(row, "+");
    }
    if (l->total >= 0) {
        ui_fmt_thousands(l->total, total, sizeof total);
        if (l->total_more)
            strcat(total, "+");
    }
    snprintf(out, outlen, "row %s of %s", row, total);
}

void ui_fit_columns(const int *want, const int *min, int n, int cols, int grow, int *w)
{
    int room = cols - (n - 1), sum = 0;
    for (int i = 0; i < n; i++) {
        w[i] = want[i] > min[i] ? want[i] : min[i];
        sum += w[i];
    }
    if (sum <= room) {
        if (grow >= 0 && grow < n)
            w[grow] += room - sum;
        return;
    }
    /* Too wide: take a column at a time from the widest column that can
     * still shrink, so long texts share the loss and short ones keep theirs. */
    while (sum > room) {
        int widest = -1;
        for (int i = 0; i < n; i++)
            if (w[i] > min[i] && (widest < 0 || w[i] > w[widest]))
                widest = i;
        if (widest < 0)
            break;   /* everything at its minimum: the line is cut at the edge */
        w[widest]--;
        sum--;
    }
}

void ui_fmt_next(const message *m, int64_t now_ms, char *out, size_t outlen)
{
    queue_state qs = queue_state_of(m, false, NULL, now_ms);
    if (qs.wait == QUEUE_FINISHED)
        snprintf(out, outlen, "-");
    else if (qs.wait == QUEUE_SENDING)
        snprintf(out, outlen, "sending");
    else
        duration_format_short(qs.in_ms, out, outlen);   /* "now" when due */
}

/* "circuit open, probe in 7s" / "circuit open 7s", and the probing and
 * probe-due forms. */
static void fmt_circuit_wait(const circuit *c, int64_t now_ms, bool brief, char *out,
                             size_t outlen)
{
    char in[32];
    if (!brief) {
        ui_fmt_circuit_state(c, now_ms, in, sizeof in);
        snprintf(out, outlen, "circuit %s", in);
    } else if (c->state == CIRCUIT_PROBING) {
        snprintf(out, outlen, "circuit probing");
    } else if (c->until_ms <= now_ms) {
        snprintf(out, outlen, "circuit open, due");
    } else {
        duration_format_short(c->until_ms - now_ms, in, sizeof in);
        snprintf(out, outlen, "circuit open %s", in);
    }
}

/* The words for queue_state_of's verdict (the rule is the core's). */
static void fmt_wait_form(const message *m, bool paused, const circuit *c, int64_t now_ms,
                          bool brief, char *out, size_t outlen)
{
    queue_state qs = queue_state_of(m, paused, c, now_ms);
    char in[32];
    switch (qs.wait) {
    case QUEUE_PAUSED:
        snprintf(out, outlen, "paused");
        break;
    case QUEUE_CIRCUIT:
        fmt_circuit_wait(c, now_ms, brief, out, outlen);
        break;
    case QUEUE_RETRY_AFTER:
        duration_format_short(qs.in_ms, in, sizeof in);
        snprintf(out, outlen, brief ? "%s Retry-After" : "in %s (Retry-After)", in);
        break;
    default:
        ui_fmt_next(m, now_ms, out, outlen);
        break;
    }
}

void ui_fmt_wait(const message *m, bool paused, const circuit *c, int64_t now_ms, int width,
                 char *out, size_t outlen)
{
    fmt_wait_form(m, paused, c, now_ms, false, out, outlen);
    if (width > 0 && utf8_width(out) > (size_t)width)
        fmt_wait_form(m, paused, c, now_ms, true, out, outlen);
}

void ui_fmt_circuit_state(const circuit *c, int64_t now_ms, char *out, size_t outlen)
{
    breaker_describe(c, now_ms, false, out, outlen);
}

void ui_fmt_circuit(const circuit *c, int64_t now_ms, char *out, size_t outlen)
{
    breaker_describe(c, now_ms, true, out, outlen);
}

term_attr ui_status_attr(msg_status s)
{
    static const term_attr attr[MSG_STATUS_COUNT] = {
        [MSG_QUEUED] = TA_QUEUED, [MSG_RESENT] = TA_RESENT,
        [MSG_DONE] = TA_DONE, [MSG_FAILED] = TA_FAILED,
    };
    return (unsigned)s < MSG_STATUS_COUNT ? attr[s] : TA_NORMAL;
}

void ui_fmt_rate(int ok, int total, char *out, size_t outlen)
{
    if (total <= 0)
        snprintf(out, outlen, "-");
    else
        snprintf(out, outlen, "%d%%", (int)((ok * 100LL + total / 2) / total));
}

/* ---- filters ---- */

void ui_filter_clear(ui_filter *f)
{
    free(f->site_name);
    free(f->customer);
    free(f->action);
    memset(f, 0, sizeof *f);
}

static char *dup_or_null(const char *s)
{
    return s ? hd_xstrdup(s) : NULL;
}

void ui_filter_copy(ui_filter *dst, const ui_filter *f)
{
    *dst = *f;
    dst->site_name = dup_or_null(f->site_name);
    dst->customer = dup_or_null(f->customer);
    dst->action = dup_or_null(f->action);
}

bool ui_filter_active(const ui_filter *f)
{
    return f->status_mask || f->site_id || f->customer || f->action || f->since_ms || f->until_ms;
}

void ui_filter_to_msg(const ui_filter *f, msg_filter *out)
{
    memset(out, 0, sizeof *out);
    out->status_mask = f->status_mask;
    out->site_id = f->site_id;
    out->customer = f->customer;
    out->action_text = f->action;
    out->since_ms = f->since_ms;
    out->until_ms = f->until_ms;
}

void ui_filter_cycle_status(ui_filter *f)
{
    /* any -> each single status in order -> any; a mixed mask (not made by
     * this key) starts over at the first status. */
    for (int s = 0; s < MSG_STATUS_COUNT; s++) {
        if (f->status_mask == MSG_STATUS_BIT(s)) {
            f->status_mask = s + 1 < MSG_STATUS_COUNT ? MSG_STATUS_BIT(s + 1) : 0;
            return;
        }
    }
    f->status_mask = MSG_STATUS_BIT(0);
}

static void describe_add(hd_buf *b, const char *key, const char *sep, const char *value)
{
    if (b->len)
        hd_buf_putc(b, ' ');
    hd_buf_puts(b, key);
    hd_buf_puts(b, sep);
    sanitize_append(b, value, strlen(value), 0);
}

void ui_filter_describe(const ui_filter *f, char *out, size_t outlen)
{
    hd_buf b = { 0 };
    if (f->status_mask) {
        hd_buf sts = { 0 };
        for (int s = 0; s < MSG_STATUS_COUNT; s++) {
            if (f->status_mask & MSG_STATUS_BIT(s)) {
                if (sts.len)
                    hd_buf_putc(&sts, '|');
                hd_buf_puts(&sts, msg_status_name((msg_status)s));
            }
        }
        describe_add(&b, "status", "=", hd_buf_str(&sts));
        hd_buf_free(&sts);
    }
    if (f->site_id)
        describe_add(&b, "site", "=", f->site_name ? f->site_name : "?");
    if (f->customer)
        describe_add(&b, "customer", "=", f->customer);
    if (f->action)
        describe_add(&b, "action", "~", f->action);
    char t[32];
    if (f->since_ms) {
        ui_range_end_text(f->since_ms, false, t);
        describe_add(&b, "since", " ", t);
    }
    if (f->until_ms) {
        ui_range_end_text(f->until_ms, true, t);
        describe_add(&b, "until", " ", t);
    }
    snprintf(out, outlen, "%s", hd_buf_str(&b));
    hd_buf_free(&b);
}

void ui_range_end_text(int64_t ms, bool end, char out[32])
{
    /* A local midnight reads as the date that was typed: for an end (kept
     * exclusive), the day before, whose whole day the range includes. */
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    if (ms % 1000 == 0 && tm.tm_hour == 0 && tm.tm_min == 0 && tm.tm_sec == 0) {
        if (end) {
            tm.tm_mday--;
            tm.tm_isdst = -1;
            t = mktime(&tm);
            localtime_r(&t, &tm);
        }
        strftime(out, 32, "%Y-%m-%d", &tm);
        return;
    }
    hd_time_local(ms, out);
}

/* One end of a range: blank = open (0), else a date or a duration ago.
 * *day_ms = the start of the next day when the text is a date alone
 * (2026-11-30), else 0. */
static bool parse_end(const char *text, size_t n, int64_t now_ms, int64_t *out_ms,
                      int64_t *day_end_ms, const char **why)
{
    char *t = hd_xstrndup(text, n);
    bool blank = t[strspn(t, " \t")] == '\0';
    bool ok = blank || duration_parse_when(t, now_ms, out_ms, why);
    if (blank)
        *out_ms = 0;
    *day_end_ms = 0;
    if (ok && !blank)
        date_day_end(t, day_end_ms);
    free(t);
    return ok;
}

bool ui_parse_range(const char *text, int64_t now_ms, int64_t *since, int64_t *until,
                    const char **why)
{
    const char *dots = strstr(text, "..");
    int64_t day_end = 0;
    if (!parse_end(text, dots ? (size_t)(dots - text) : strlen(text), now_ms, since, &day_end,
                   why))
        return false;
    /* A date alone is that whole day; the end as `logs --until` reads it
     * (duration_parse_until: a date alone includes its day). */
    *until = dots ? 0 : day_end;
    if (dots) {
        const char *end = dots + 2;
        if (end[strspn(end, " \t")] != '\0' && !duration_parse_until(end, now_ms, until, why))
            return false;
    }
    if (*since && *until && *until <= *since) {
        if (why)
            *why = "the end of the range is not after its start";
        return false;
    }
    return true;
}

/* ---- sparkline ---- */

void ui_spark_levels(const uint32_t *v, int n, int *levels)
{
    uint32_t max = 0;
    for (int i = 0; i < n; i++)
        if (v[i] > max)
            max = v[i];
    for (int i = 0; i < n; i++) {
        /* ceil(v * 8 / max): the busiest bucket gets the full bar and any
         * activity at all shows at least the lowest one. */
        levels[i] = max ? (int)(((uint64_t)v[i] * 8 + max - 1) / max) : 0;
    }
}

void ui_spark_render(const uint32_t *v, int n, bool utf8, char *out, size_t outlen)
{
    static const char *const bars[9] = {
        " ", "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
        "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88",
    };
    static const char ascii[] = " ._-:=+*#";
    if (!outlen)
        return;
    out[0] = '\0';
    if (n <= 0)
        return;
    int *levels = hd_xcalloc((size_t)n, sizeof *levels);
    ui_spark_levels(v, n, levels);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        const char *bar = utf8 ? bars[levels[i]] : &ascii[levels[i]];
        size_t len = utf8 ? strlen(bar) : 1;
        if (at + len >= outlen)
            break;   /* never half a character */
        at = fmt_append(out, outlen, at, bar, len);
    }
    free(levels);
}
