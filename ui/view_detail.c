/* view_detail.c - one message: its fields, pretty payload, every attempt
 * with headers and body.
 *
 * The page is built once per refresh as an array of sanitised lines (so a
 * response body full of escape sequences is inert before it is stored) and
 * scrolled; it is rebuilt when the store changes, keeping the scroll.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hd_duration.h"
#include "hd_json.h"
#include "hd_sanitize.h"
#include "hd_util.h"
#include "term.h"
#include "ui.h"

static const keybind detail_keys[] = {
    { TK_ESC, REQ_BACK, "Back" },
    { 'q', REQ_BACK, NULL },
    { 'h', REQ_BACK, NULL },
    { TK_LEFT, REQ_BACK, NULL },
    { TK_BACKSPACE, REQ_BACK, NULL },
    { 'r', REQ_RESEND, "Resend" },
    { 'c', REQ_FILTER_CUST, "Customer" },
    { 'C', REQ_FILTER_CUST_ASK, NULL },
    { 0, REQ_NONE, NULL },
};

void detail_free(app *a)
{
    for (int i = 0; i < a->detail_nlines; i++)
        free(a->detail_lines[i]);
    free(a->detail_lines);
    a->detail_lines = NULL;
    a->detail_nlines = 0;
}

typedef struct lines {
    char **v;
    int n, cap;
} lines;

static void add_line(lines *l, char *owned)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = hd_xrealloc(l->v, (size_t)l->cap * sizeof *l->v);
    }
    l->v[l->n++] = owned;
}

/* Adds one line of text (no newline in it), wrapped to `cols` columns after
 * the indent: a compact JSON body or a long header is read whole, not cut. */
static void add_wrapped(lines *l, const char *indent, const char *p, size_t n, size_t cols)
{
    size_t room = cols > strlen(indent) + 8 ? cols - strlen(indent) : 8;
    char *line = hd_xstrndup(p, n);
    const char *q = line;
    do {
        size_t take = utf8_fit(q, room);
        if (take == 0 && *q)   /* a character wider than the room: take it anyway */
            take = strlen(q) < 4 ? strlen(q) : 4;
        add_line(l, hd_xasprintf("%s%.*s", indent, (int)take, q));
        q += take;
    } while (*q);
    free(line);
}

/* Sanitises text (keeping newlines, tabs as spaces) and adds its lines,
 * each prefixed by indent and wrapped to the screen width. */
static void add_text(lines *l, const char *indent, const char *text, size_t len)
{
    size_t cols = (size_t)term_cols();
    hd_buf b = { 0 };
    sanitize_append(&b, text ? text : "", text ? len : 0, SANITIZE_KEEP_NEWLINES);
    const char *start = hd_buf_str(&b), *p = start;
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (!nl) {
            if (n || p == start)   /* no empty line after a final newline */
                add_wrapped(l, indent, p, n, cols);
            break;
        }
        add_wrapped(l, indent, p, n, cols);
        p = nl + 1;
    }
    hd_buf_free(&b);
}

static void add_field(lines *l, const char *label, const char *value)
{
    char *clean = sanitize_dup(value ? value : "", 0);
    add_line(l, hd_xasprintf("%-12s %s", label, clean));
    free(clean);
}

/* prefix + text, the text wrapped to the screen width under itself (the
 * lines after the first are indented as wide as the prefix): an error
 * from a receiver is read whole, not cut at 80 columns. */
static void add_hanging(lines *l, const char *prefix, const char *text)
{
    char *clean = sanitize_dup(text ? text : "", 0);
    size_t cols = (size_t)term_cols(), indent = utf8_width(prefix);
    size_t room = cols > indent + 20 ? cols - indent : 20;
    const char *p = clean;
    bool first = true;
    do {
        size_t take = utf8_fit(p, room);
        if (take == 0 && *p)   /* a character wider than the room: take it anyway */
            take = strlen(p) < 4 ? strlen(p) : 4;
        if (p[take] && p[take] != ' ') {   /* break after a word when there is one */
            size_t sp = take;
            while (sp > 0 && p[sp - 1] != ' ')
                sp--;
            if (sp > 0)
                take = sp;
        }
        if (first)
            add_line(l, hd_xasprintf("%s%.*s", prefix, (int)take, p));
        else
            add_line(l, hd_xasprintf("%*s%.*s", (int)indent, "", (int)take, p));
        p += take;
        while (*p == ' ')   /* a continuation starts at a word */
            p++;
        first = false;
    } while (*p);
    free(clean);
}

/* A field whose value may be longer than the screen is wide (an error
 * from the receiver): wrapped under itself. */
static void add_field_wrapped(lines *l, const char *label, const char *value)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%-12s ", label);
    add_hanging(l, prefix, value);
}

/* "Next attempt" says why it waits: "in 59m (Retry-After)", "circuit open,
 * probe in 7s", "paused"; with its site's circuit and why it opened. */
static void add_next(app *a, lines *l, const message *m)
{
    ui_site_cache_refresh(a);
    const site_stats *ss = ui_site_state(a, m->site_id);
    const circuit *c = ui_site_circuit(a, ss);
    char buf[128];
    int64_t now = hd_now_ms();
    ui_fmt_wait(m, ss && !ss->s.enabled, c, now, 0, buf, sizeof buf);
    add_field(l, "Next attempt", buf);
    if (!c || c->state == CIRCUIT_CLOSED)
        return;
    char state[64];
    ui_fmt_circuit_state(c, now, state, sizeof state);
    snprintf(buf, sizeof buf, "%s after %d failure%s", state, c->failures,
             c->failures == 1 ? "" : "s");
    add_field(l, "Site circuit", buf);
    if (c->reason[0])
        add_field_wrapped(l, "Open because", c->reason);
}

static void detail_refresh(app *a)
{
    message m;
    memset(&m, 0, sizeof m);
    attempt_list al = { 0 };
    hd_error err = { 0 };
    lines l = { 0 };
    if (store_message_get(a->st, a->detail_id, &m, &err) != HD_OK) {
        add_line(&l, hd_xasprintf("message #%lld: %s", (long long)a->detail_id, err.msg));
        goto done;
    }
    if (store_attempts_list(a->st, m.id, &al, &err) != HD_OK)
        ui_flash(a, true, "%s", err.msg);

    char t[32], t2[32], buf[128];
    add_line(&l, hd_xasprintf("Message #%lld   %s", (long long)m.id, m.webhook_id));
    add_line(&l, hd_xstrdup(""));
    add_field(&l, "Status", msg_status_title(m.status));
    snprintf(buf, sizeof buf, "%d", m.attempts);
    add_field(&l, "Attempts", buf);
    if (msg_status_pending(m.status))
        add_next(a, &l, &m);
    add_field(&l, "Action", m.action);
    add_field(&l, "Customer", m.customer ? m.customer : "-");
    add_field(&l, "Trusted site", m.site_name ? m.site_name : "(deleted)");
    if (m.path)
        add_field(&l, "Path", m.path);
    hd_time_local(m.created_at, t);
    hd_time_local(m.updated_at, t2);
    add_field(&l, "Created at", t);
    add_field(&l, "Updated at", t2);
    if (m.resend_of) {
        snprintf(buf, sizeof buf, "#%lld", (long long)m.resend_of);
        add_field(&l, "Resend of", buf);
    }
    if (m.last_error)
        add_field_wrapped(&l, "Last error", m.last_error);

    add_line(&l, hd_xstrdup(""));
    add_line(&l, hd_xstrdup("Payload"));
    char *pretty = json_pretty(m.payload ? m.payload : "", m.payload ? strlen(m.payload) : 0);
    add_text(&l, "  ", pretty, strlen(pretty));
    free(pretty);

    add_line(&l, hd_xstrdup(""));
    add_line(&l, hd_xasprintf("Attempts (%d)", al.count));
    if (al.count)
        add_line(&l, hd_xasprintf("  %-3s %-19s %9s %5s  %s", "#", "Started", "Duration", "Code",
                                  "Error"));
    for (int i = 0; i < al.count; i++) {
        const attempt *at = &al.items[i];
        hd_time_local(at->started_at, t);
        char code[16];
        snprintf(code, sizeof code, "%s", at->response_code ? "" : "-");
        if (at->response_code)
            snprintf(code, sizeof code, "%d", at->response_code);
        char row[96];
        snprintf(row, sizeof row, "  %-3d %-19s %6lld ms %5s  ", at->number, t,
                 (long long)at->duration_ms, code);
        add_hanging(&l, row, at->error);   /* the error wrapped under its column */
    }
    for (int i = 0; i < al.count; i++) {
        const attempt *at = &al.items[i];
        add_line(&l, hd_xstrdup(""));
        add_line(&l, hd_xasprintf("Attempt %d: request headers", at->number));
        if (at->request_headers)
            add_text(&l, "  ", at->request_headers, strlen(at->request_headers));
        add_line(&l, hd_xasprintf("Attempt %d: response headers", at->number));
        if (at->response_headers)
            add_text(&l, "  ", at->response_headers, strlen(at->response_headers));
        char size[32];
        size_format(at->response_body_len, size, sizeof size);
        add_line(&l, hd_xasprintf("Attempt %d: response body (%s%s)", at->number, size,
                                  at->body_truncated ? ", truncated" : ""));
        if (at->response_body && at->response_body_len)
            add_text(&l, "  ", at->response_body, at->response_body_len);
    }
done:
    detail_free(a);
    a->detail_lines = l.v;
    a->detail_nlines = l.n;
    attempt_list_free(&al);
    message_free(&m);
}

static void detail_open(app *a)
{
    a->detail_scroll = 0;
}

static void detail_draw(app *a, int top, int rows)
{
    int cols = term_cols();
    char cell[2048];
    for (int i = 0; i < rows && a->detail_scroll + i < a->detail_nlines; i++) {
        const char *s = a->detail_lines[a->detail_scroll + i];
        /* Lines are sanitised already; cutting again only fits them. */
        ui_fmt_cell(s, cols, a->utf8, cell, sizeof cell);
        /* Section titles; not the "Attempts     4" field line above them. */
        bool title = strncmp(s, "Message #", 9) == 0 || strcmp(s, "Payload") == 0 ||
                     strncmp(s, "Attempts (", 10) == 0 || strncmp(s, "Attempt ", 8) == 0;
        term_put(top + i, 0, cols, title ? TA_COLHEAD : TA_NORMAL, cell);
    }
}

/* C: the Logs of a customer typed at the prompt (prefilled with this
 * message's), as `C` asks on Logs. */
static void on_customer(app *a, const char *text)
{
    if (!*text)
        ui_flash(a, false, "no customer given");
    else
        ui_filter_customer(a, text);
}

static ui_request detail_handle(app *a, ui_request r)
{
    int rows = ui_body_rows();
    int max = a->detail_nlines - rows + 1;
    if (max < 1)
        max = 1;
    switch (r) {
    case REQ_RESEND:
    case REQ_FILTER_CUST_ASK:
    case REQ_FILTER_CUST: {
        message m;
        memset(&m, 0, sizeof m);
        hd_error err = { 0 };
        if (store_message_get(a->st, a->detail_id, &m, &err) != HD_OK)
            ui_flash(a, true, "%s", err.msg);
        else if (r == REQ_RESEND)
            ui_ask_resend(a, &m);
        else if (r == REQ_FILTER_CUST_ASK)
            ui_prompt(a, "Customer: ", m.customer ? m.customer : "", on_customer);
        else
            ui_filter_customer(a, m.customer);
        message_free(&m);
        return REQ_NONE;
    }
    case REQ_ENTER:
        return REQ_NONE;
    default:
        return ui_cursor_move(&a->detail_scroll, NULL, max, rows, r) ? REQ_NONE : r;
    }
}

const view_ops view_detail_ops = { .title = "Detail", .keys = detail_keys, .open = detail_open,
                                   .refresh = detail_refresh, .draw = detail_draw,
                                   .handle = detail_handle };
