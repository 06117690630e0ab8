/* view_detail.c - one message: its fields, pretty payload, every attempt
 * with headers and body.
 *
 * The page is built once per refresh as an array of sanitised lines (so a
 * response body full of escape sequences is inert before it is stored) and
 * scrolled; it is rebuilt when the store changes, keeping the scroll.
 *
 * Besides the lines, a refresh notes where things are on the page: the
 * links of the resend chain ("Resend of #94", "Resent as #120": Enter, l,
 * Right or a click opens one, Back returns, Tab picks another) and the
 * parts that can be taken out (the payload, each response body: y, v, s
 * act on the one on screen, export.c does the work).  `/` searches the
 * lines, n/N move between the matches, which are highlighted.
 *
 * The state beyond app's detail_* fields is this file's (`D`): there is one
 * detail view per console.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
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
    { '/', REQ_TEXT_SEARCH, "Search" },
    { 'n', REQ_TEXT_NEXT, NULL },
    { 'N', REQ_TEXT_PREV, NULL },
    { 'y', REQ_COPY, "Copy" },
    { 'v', REQ_PAGER, "View" },
    { 's', REQ_SAVE_AS, "Save" },
    { '\n', REQ_FOLLOW_LINK, "Link" },
    { 'l', REQ_FOLLOW_LINK, NULL },
    { TK_RIGHT, REQ_FOLLOW_LINK, NULL },
    { '\t', REQ_NEXT_LINK, NULL },
    { 'r', REQ_RESEND, "Resend" },
    { 'c', REQ_FILTER_CUST, "Customer" },
    { 'C', REQ_FILTER_CUST_ASK, NULL },
    { 0, REQ_NONE, NULL },
};

#define DETAIL_LINKS 16      /* links on one page (Resend of + Resent as) */
#define DETAIL_RESENDS 6     /* "Resent as" ids listed (they fit in 80 columns) */
#define DETAIL_PARTS 64      /* parts that can be taken out */
#define DETAIL_HISTORY 32    /* links followed that Back can return through */

typedef struct detail_link {
    int line;                /* page line it is on */
    int col;                 /* column where "#94" starts (the label is ASCII) */
    int width;               /* its columns */
    int64_t id;              /* the message it opens */
} detail_link;

typedef struct detail_part {
    int first, last;         /* its page lines: title .. last line of text */
    int attempt;             /* -1 = the payload, else an index into D.al */
} detail_part;

static struct detail_state {
    message m;               /* the message shown (its payload, for y/v/s) */
    attempt_list al;         /* its attempts (their bodies) */
    detail_link links[DETAIL_LINKS];
    int nlinks;
    int focus;               /* the link Enter follows */
    int64_t focus_id;        /* ... by target, kept across refreshes */
    detail_part parts[DETAIL_PARTS];
    int nparts;
    struct {
        int64_t id;          /* a message left by following a link */
        int scroll;          /* and where it was scrolled to */
    } back[DETAIL_HISTORY];
    int depth;               /* entries in back */
    char search[128];        /* what `/` looks for, "" = nothing */
    int match_line;          /* the current match: page line (-1 = none) */
    int match_off;           /* ... and byte offset in it */
} D = { .match_line = -1 };

static void detail_free_lines(app *a)
{
    for (int i = 0; i < a->detail_nlines; i++)
        free(a->detail_lines[i]);
    free(a->detail_lines);
    a->detail_lines = NULL;
    a->detail_nlines = 0;
}

void detail_free(app *a)
{
    detail_free_lines(a);
    message_free(&D.m);
    attempt_list_free(&D.al);
    D.nlinks = D.nparts = 0;
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

static void add_link(lines *l, int col, const char *text, int64_t id)
{
    if (D.nlinks == DETAIL_LINKS)
        return;
    D.links[D.nlinks++] = (detail_link){ .line = l->n - 1, .col = col,
                                         .width = (int)strlen(text), .id = id };
}

/* "Resend of    #94" and "Resent as    #120, #131": links (the label is
 * 12 columns and a space, ASCII, so a link's column is its byte offset). */
static void add_chain(app *a, lines *l, const message *m)
{
    char buf[160];
    if (m->resend_of) {
        snprintf(buf, sizeof buf, "#%lld", (long long)m->resend_of);
        add_field(l, "Resend of", buf);
        add_link(l, 13, buf, m->resend_of);
    }
    int64_t ids[DETAIL_RESENDS];
    int n = 0;
    hd_error err = { 0 };
    if (store_message_resends(a->st, m->id, ids, DETAIL_RESENDS, &n, &err) != HD_OK) {
        ui_flash(a, true, "%s", err.msg);
        return;
    }
    if (n == 0)
        return;
    int at = 0, cols[DETAIL_RESENDS];
    for (int i = 0; i < n; i++) {
        /* at most 6 x 22 bytes: buf never fills */
        at += snprintf(buf + at, sizeof buf - (size_t)at, "%s", i ? ", " : "");
        cols[i] = 13 + at;
        at += snprintf(buf + at, sizeof buf - (size_t)at, "#%lld", (long long)ids[i]);
    }
    if (n == DETAIL_RESENDS)   /* maybe more: the newest are in Logs */
        snprintf(buf + at, sizeof buf - (size_t)at, ", ...");
    add_field(l, "Resent as", buf);
    for (int i = 0; i < n; i++) {
        char one[32];
        snprintf(one, sizeof one, "#%lld", (long long)ids[i]);
        add_link(l, cols[i], one, ids[i]);
    }
}

static void add_part(int first, int last, int attempt_index)
{
    if (D.nparts < DETAIL_PARTS)
        D.parts[D.nparts++] = (detail_part){ .first = first, .last = last, .attempt = attempt_index };
}

/* The message's fields, under its title line.  "Retries" is the Queue's
 * word and number (attempts after the first, as `hookdesk queue` counts
 * them), with the attempts in all beside it, as the list below counts
 * them. */
static void add_message_fields(app *a, lines *l, const message *m)
{
    char t[32], buf[128];
    add_line(l, hd_xasprintf("Message #%lld   %s", (long long)m->id, m->webhook_id));
    add_line(l, hd_xstrdup(""));
    add_field(l, "Status", msg_status_title(m->status));
    snprintf(buf, sizeof buf, "%d (%d attempt%s)", m->attempts > 1 ? m->attempts - 1 : 0,
             m->attempts, m->attempts == 1 ? "" : "s");
    add_field(l, "Retries", buf);
    if (msg_status_pending(m->status))
        add_next(a, l, m);
    add_field(l, "Action", m->action);
    add_field(l, "Customer", m->customer ? m->customer : "-");
    add_field(l, "Trusted site", m->site_name ? m->site_name : "(deleted)");
    if (m->path)
        add_field(l, "Path", m->path);
    hd_time_local(m->created_at, t);
    add_field(l, "Created at", t);
    hd_time_local(m->updated_at, t);
    add_field(l, "Updated at", t);
    add_chain(a, l, m);
    if (m->last_error)
        add_field_wrapped(l, "Last error", m->last_error);
}

/* The payload, pretty-printed: a part y/v/s can take out. */
static void add_payload(lines *l, const message *m)
{
    add_line(l, hd_xstrdup(""));
    add_line(l, hd_xstrdup("Payload"));
    int first = l->n - 1;
    char *pretty = json_pretty(m->payload ? m->payload : "", m->payload ? strlen(m->payload) : 0);
    add_text(l, "  ", pretty, strlen(pretty));
    free(pretty);
    add_part(first, l->n - 1, -1);
}

/* One row per attempt: number, start, duration, code ("-" for none) and
 * the error wrapped under its column. */
static void add_attempt_table(lines *l, const attempt_list *al)
{
    add_line(l, hd_xstrdup(""));
    add_line(l, hd_xasprintf("Attempts (%d)", al->count));
    if (al->count)
        add_line(l, hd_xasprintf("  %-3s %-19s %9s %5s  %s", "#", "Started", "Duration", "Code",
                                 "Error"));
    for (int i = 0; i < al->count; i++) {
        const attempt *at = &al->items[i];
        char t[32], code[16], row[96];
        hd_time_local(at->started_at, t);
        snprintf(code, sizeof code, "%s", at->response_code ? "" : "-");
        if (at->response_code)
            snprintf(code, sizeof code, "%d", at->response_code);
        snprintf(row, sizeof row, "  %-3d %-19s %6lld ms %5s  ", at->number, t,
                 (long long)at->duration_ms, code);
        add_hanging(l, row, at->error);
    }
}

/* Each attempt's request headers, response headers and body (the body a
 * part y/v/s can take out). */
static void add_attempt_exchanges(lines *l, const attempt_list *al)
{
    for (int i = 0; i < al->count; i++) {
        const attempt *at = &al->items[i];
        add_line(l, hd_xstrdup(""));
        add_line(l, hd_xasprintf("Attempt %d: request headers", at->number));
        if (at->request_headers)
            add_text(l, "  ", at->request_headers, strlen(at->request_headers));
        add_line(l, hd_xasprintf("Attempt %d: response headers", at->number));
        if (at->response_headers)
            add_text(l, "  ", at->response_headers, strlen(at->response_headers));
        char size[32];
        size_format(at->response_body_len, size, sizeof size);
        add_line(l, hd_xasprintf("Attempt %d: response body (%s%s)", at->number, size,
                                 at->body_truncated ? ", truncated" : ""));
        int first = l->n - 1;
        if (at->response_body && at->response_body_len)
            add_text(l, "  ", at->response_body, at->response_body_len);
        add_part(first, l->n - 1, i);
    }
}

/* The page just built becomes the one shown; the focused link stays the
 * same message while the page is rebuilt. */
static void detail_keep(app *a, lines *l, const message *m, const attempt_list *al)
{
    a->detail_lines = l->v;
    a->detail_nlines = l->n;
    D.m = *m;
    D.al = *al;
    D.focus = 0;
    for (int i = 0; i < D.nlinks; i++)
        if (D.links[i].id == D.focus_id)
            D.focus = i;
    if (D.match_line >= l->n)
        D.match_line = -1;
}

static void detail_refresh(app *a)
{
    message m;
    memset(&m, 0, sizeof m);
    attempt_list al = { 0 };
    hd_error err = { 0 };
    lines l = { 0 };
    detail_free(a);   /* links and parts are noted again as the page is built */
    if (store_message_get(a->st, a->detail_id, &m, &err) != HD_OK) {
        add_line(&l, hd_xasprintf("message #%lld: %s", (long long)a->detail_id, err.msg));
    } else {
        if (store_attempts_list(a->st, m.id, &al, &err) != HD_OK)
            ui_flash(a, true, "%s", err.msg);
        add_message_fields(a, &l, &m);
        add_payload(&l, &m);
        add_attempt_table(&l, &al);
        add_attempt_exchanges(&l, &al);
    }
    detail_keep(a, &l, &m, &al);
}

/* Opened from a list (or find by id): a new chain, nothing searched. */
static void detail_open(app *a)
{
    a->detail_scroll = 0;
    D.depth = 0;
    D.focus_id = 0;
    D.match_line = -1;
}

/* ---- drawing ---- */

/* Where in s (case-insensitive, ASCII) needle is, from byte `from`. */
static const char *find_ci(const char *s, size_t from, const char *needle)
{
    size_t n = strlen(needle), len = strlen(s);
    if (!n)
        return NULL;
    for (size_t i = from; i + n <= len; i++) {
        size_t k = 0;
        while (k < n && (s[i + k] | ((s[i + k] >= 'A' && s[i + k] <= 'Z') ? 0x20 : 0)) ==
                            (needle[k] | ((needle[k] >= 'A' && needle[k] <= 'Z') ? 0x20 : 0)))
            k++;
        if (k == n)
            return s + i;
    }
    return NULL;
}

/* Redraws bytes [off, off+len) of line s, drawn at row y, in attr. */
static void draw_span(const app *a, int y, const char *s, size_t off, size_t len, term_attr attr)
{
    char *before = hd_xstrndup(s, off);
    int x = (int)utf8_width(before), cols = term_cols();
    free(before);
    if (x >= cols)
        return;
    char *piece = hd_xstrndup(s + off, len);
    char cell[512];
    int w = (int)utf8_width(piece);
    if (w > cols - x)
        w = cols - x;
    ui_fmt_cell(piece, w, a->utf8, cell, sizeof cell);
    term_put(y, x, w, attr, cell);
    free(piece);
}

static void draw_marks(const app *a, int line, int y)
{
    const char *s = a->detail_lines[line];
    for (int k = 0; k < D.nlinks; k++)
        if (D.links[k].line == line)
            draw_span(a, y, s, (size_t)D.links[k].col, (size_t)D.links[k].width,
                      k == D.focus ? TA_SELECTED : TA_COLHEAD);
    if (!D.search[0])
        return;
    size_t n = strlen(D.search);
    for (const char *p = find_ci(s, 0, D.search); p; p = find_ci(s, (size_t)(p - s) + n, D.search)) {
        bool current = line == D.match_line && p - s == D.match_off;
        draw_span(a, y, s, (size_t)(p - s), n, current ? TA_SELECTED : TA_RESENT);
    }
}

static void detail_draw(app *a, int top, int rows)
{
    int cols = term_cols();
    char cell[2048];
    for (int i = 0; i < rows && a->detail_scroll + i < a->detail_nlines; i++) {
        const char *s = a->detail_lines[a->detail_scroll + i];
        /* Lines are sanitised already; cutting again only fits them. */
        ui_fmt_cell(s, cols, a->utf8, cell, sizeof cell);
        /* Section titles; not the field lines above them. */
        bool title = strncmp(s, "Message #", 9) == 0 || strcmp(s, "Payload") == 0 ||
                     strncmp(s, "Attempts (", 10) == 0 || strncmp(s, "Attempt ", 8) == 0;
        term_put(top + i, 0, cols, title ? TA_COLHEAD : TA_NORMAL, cell);
        draw_marks(a, a->detail_scroll + i, top + i);
    }
}

/* ---- scrolling, links, search ---- */

/* The largest scroll (the last line at the bottom), as ui_cursor_move counts. */
static int scroll_count(const app *a)
{
    int max = a->detail_nlines - ui_body_rows() + 1;
    return max < 1 ? 1 : max;
}

/* Scrolls so that page line `line` is on screen (a third down when it was not). */
static void show_line(app *a, int line)
{
    int rows = ui_body_rows();
    if (line >= a->detail_scroll && line < a->detail_scroll + rows)
        return;
    int to = line - rows / 3;
    int max = scroll_count(a) - 1;
    a->detail_scroll = to < 0 ? 0 : to > max ? max : to;
}

static void follow(app *a, const detail_link *k)
{
    if (D.depth == DETAIL_HISTORY) {   /* a very long walk: forget its start */
        memmove(D.back, D.back + 1, sizeof D.back[0] * (DETAIL_HISTORY - 1));
        D.depth--;
    }
    D.back[D.depth].id = a->detail_id;
    D.back[D.depth].scroll = a->detail_scroll;
    D.depth++;
    a->detail_id = k->id;
    a->detail_scroll = 0;
    D.focus_id = 0;
    D.match_line = -1;
    a->need_refresh = true;
}

/* Back: the message a link was followed from, where it was scrolled to. */
static bool go_back(app *a)
{
    if (D.depth == 0)
        return false;
    D.depth--;
    D.focus_id = a->detail_id;   /* the link just followed stays focused */
    a->detail_id = D.back[D.depth].id;
    a->detail_scroll = D.back[D.depth].scroll;
    D.match_line = -1;
    a->need_refresh = true;
    return true;
}

/* Is match (l1, o1) before (l2, o2) on the page? */
static bool match_before(int l1, int o1, int l2, int o2)
{
    return l1 < l2 || (l1 == l2 && o1 < o2);
}

/* Moves to the next (dir 1) or previous (-1) match from the current one
 * (or from the top of the screen), going round the page's end; false when
 * there is none at all.  Pages are a few thousand lines: a walk is cheap. */
static bool find_match(app *a, int dir, bool *wrapped)
{
    *wrapped = false;
    if (!D.search[0])
        return false;
    int from_l = D.match_line >= 0 ? D.match_line : a->detail_scroll;
    int from_o = D.match_line >= 0 ? D.match_off : -1;
    int first_l = -1, first_o = 0, last_l = -1, last_o = 0;   /* of the page */
    int hit_l = -1, hit_o = 0;
    size_t n = strlen(D.search);
    for (int i = 0; i < a->detail_nlines; i++) {
        const char *s = a->detail_lines[i];
        for (const char *p = find_ci(s, 0, D.search); p; p = find_ci(s, (size_t)(p - s) + n, D.search)) {
            int o = (int)(p - s);
            if (first_l < 0) {
                first_l = i;
                first_o = o;
            }
            last_l = i;
            last_o = o;
            if (dir > 0 && hit_l < 0 && match_before(from_l, from_o, i, o) &&
                !(D.match_line < 0 && i == from_l && o == from_o))
                hit_l = i, hit_o = o;
            if (dir < 0 && match_before(i, o, from_l, from_o < 0 ? 0 : from_o))
                hit_l = i, hit_o = o;
        }
    }
    if (first_l < 0)
        return false;
    if (hit_l < 0) {
        *wrapped = true;
        hit_l = dir > 0 ? first_l : last_l;
        hit_o = dir > 0 ? first_o : last_o;
    }
    D.match_line = hit_l;
    D.match_off = hit_o;
    show_line(a, hit_l);
    return true;
}

static int count_matches(const app *a, int *current)
{
    int total = 0;
    size_t n = strlen(D.search);
    *current = 0;
    for (int i = 0; i < a->detail_nlines; i++) {
        const char *s = a->detail_lines[i];
        for (const char *p = find_ci(s, 0, D.search); p; p = find_ci(s, (size_t)(p - s) + n, D.search)) {
            total++;
            if (i == D.match_line && p - s == D.match_off)
                *current = total;
        }
    }
    return total;
}

static void search_step(app *a, int dir)
{
    if (!D.search[0]) {
        ui_flash(a, false, "nothing searched yet: / searches this page");
        return;
    }
    bool wrapped;
    if (!find_match(a, dir, &wrapped)) {
        D.match_line = -1;
        ui_flash(a, true, "not found: %s", D.search);
        return;
    }
    int current, total = count_matches(a, &current);
    ui_flash(a, false, "match %d of %d for '%s'%s", current, total, D.search,
             wrapped ? (dir > 0 ? " (from the top)" : " (from the bottom)") : "");
}

static void on_search(app *a, const char *text)
{
    snprintf(D.search, sizeof D.search, "%s", text);
    D.match_line = -1;
    if (!*text)
        return;
    search_step(a, 1);
}

/* ---- taking data out ---- */

static const detail_part *part_at(int line)
{
    for (int i = 0; i < D.nparts; i++)
        if (line >= D.parts[i].first && line <= D.parts[i].last)
            return &D.parts[i];
    return NULL;
}

/* The part y, v and s act on: the one holding the current search match
 * when it is on screen, else the one at the top of the screen, else the
 * first that starts on screen, else the payload. */
static const detail_part *part_on_screen(const app *a)
{
    int top = a->detail_scroll, rows = ui_body_rows();
    const detail_part *p = NULL;
    if (D.match_line >= top && D.match_line < top + rows)
        p = part_at(D.match_line);
    if (!p)
        p = part_at(top);
    for (int i = 0; !p && i < D.nparts; i++)
        if (D.parts[i].first >= top && D.parts[i].first < top + rows)
            p = &D.parts[i];
    return p ? p : D.nparts ? &D.parts[0] : NULL;
}

static bool export_item_of(const app *a, export_item *it)
{
    memset(it, 0, sizeof *it);
    const detail_part *p = part_on_screen(a);
    if (!p || !D.m.id)
        return false;
    long long id = (long long)D.m.id;
    if (p->attempt < 0) {
        snprintf(it->what, sizeof it->what, "the payload of #%lld", id);
        it->data = D.m.payload ? D.m.payload : "";
        it->len = strlen(it->data);
        it->json = true;
        snprintf(it->name, sizeof it->name, "hookdesk-%lld-payload.json", id);
    } else {
        const attempt *at = &D.al.items[p->attempt];
        snprintf(it->what, sizeof it->what, "the response body of #%lld, attempt %d", id,
                 at->number);
        it->data = at->response_body ? at->response_body : "";
        it->len = at->response_body ? at->response_body_len : 0;
        snprintf(it->name, sizeof it->name, "hookdesk-%lld-attempt%d-body.txt", id, at->number);
    }
    return true;
}

static void take_out(app *a, ui_request r)
{
    export_item it;
    if (!export_item_of(a, &it)) {
        ui_flash(a, true, "nothing to take out: the message is not there");
        return;
    }
    if (r == REQ_COPY)
        export_copy(a, &it);
    else if (r == REQ_PAGER)
        export_pager(a, &it);
    else
        export_save(a, &it);
}

/* ---- keys ---- */

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
    case REQ_BACK:
        return go_back(a) ? REQ_NONE : r;
    case REQ_ENTER:
    case REQ_FOLLOW_LINK:
        if (D.nlinks)
            follow(a, &D.links[D.focus]);
        else
            ui_flash(a, false, "no links here: a resent message links to its resends");
        return REQ_NONE;
    case REQ_NEXT_LINK:
        if (!D.nlinks)
            return REQ_NEXT_VIEW;
        D.focus = (D.focus + 1) % D.nlinks;
        D.focus_id = D.links[D.focus].id;
        show_line(a, D.links[D.focus].line);
        return REQ_NONE;
    case REQ_TEXT_SEARCH:
        ui_prompt(a, "Search this page: ", D.search, on_search);
        return REQ_NONE;
    case REQ_TEXT_NEXT:
    case REQ_TEXT_PREV:
        search_step(a, r == REQ_TEXT_NEXT ? 1 : -1);
        return REQ_NONE;
    case REQ_COPY:
    case REQ_PAGER:
    case REQ_SAVE_AS:
        take_out(a, r);
        return REQ_NONE;
    default:
        return ui_cursor_move(&a->detail_scroll, NULL, scroll_count(a), rows, r) ? REQ_NONE : r;
    }
}

/* A click on a link opens it. */
static void detail_click(app *a, int row)
{
    int line = a->detail_scroll + row;
    for (int k = 0; k < D.nlinks; k++)
        if (D.links[k].line == line) {
            follow(a, &D.links[D.focus < D.nlinks && D.links[D.focus].line == line ? D.focus : k]);
            return;
        }
}

const view_ops view_detail_ops = { .title = "Detail", .keys = detail_keys, .open = detail_open,
                                   .refresh = detail_refresh, .draw = detail_draw,
                                   .handle = detail_handle, .click = detail_click };
