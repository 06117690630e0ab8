/* view_logs.c - the Logs screen: every message, newest first, filtered.
 *
 * Body layout: a filter line, the column titles, then the visible page of
 * the message list (list.c).  Filters live in app.filter; changing one
 * re-anchors the list at the newest end.
 *
 * Search (`/`, n, N) is less's and tig's: it moves the cursor to a match
 * and marks the visible matches (bold, with a `>` before the status),
 * and leaves the list whole, so the rows around a match stay in view and
 * the filter line keeps meaning what it says.  Narrowing the list is what
 * the filters (s, f, c, t, and & for the action text, as less's &) do.  A search looks at the action, the
 * customer and the payload (store_search_next: words and their starts),
 * under the active filter.  n goes to the next match down the list (older),
 * N up (newer); neither wraps around: at the end the footer says "no more
 * matches" and the cursor stays (the list grows at the top while the
 * operator reads it, so a wrap would land on rows that were not there).
 * The first search from the prompt starts at the cursor's row, down, then
 * up when nothing is below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "hd_duration.h"
#include "hd_sanitize.h"
#include "hd_util.h"
#include "term.h"
#include "ui.h"

static const keybind logs_keys[] = {
    { '\n', REQ_ENTER, "Open" },
    { 's', REQ_FILTER_STATUS, "Status" },
    { '/', REQ_SEARCH, "Search" },
    { 'n', REQ_TEXT_NEXT, NULL },
    { 'N', REQ_TEXT_PREV, NULL },
    /* c, f and t are named in the hint line above the list instead of the
     * footer, which has room for 80 columns only. */
    { 'c', REQ_FILTER_CUST, NULL },
    { 'f', REQ_FILTER_SITE, NULL },
    { 't', REQ_FILTER_TIME, NULL },
    { '&', REQ_FILTER_ACTION, NULL },   /* less's & (show only matching lines) */
    { 'C', REQ_FILTER_CUST_ASK, NULL },
    { TK_ESC, REQ_FILTER_CLEAR, "Clear" },
    { TK_BACKSPACE, REQ_FILTER_CLEAR, NULL },
    { 'r', REQ_RESEND, "Resend" },
    { 'R', REQ_RESEND_ALL, "Resend all" },
    { 0, REQ_NONE, NULL },
};

static void logs_reset(app *a)
{
    a->logs.recount = true;
    a->logs.follow = true;
    a->logs.anchor_id = 0;
    a->logs.cursor = 0;
    a->need_refresh = true;
}

/* ---- search ---- */

/* Matches a "match 3 of 17" counts, at most (vim's search count stops at
 * 99; counting is bounded work however common the word). */
#define SEARCH_COUNT_CAP 999
/* Rows of the page an index step may cost a key: a small batch (the
 * console's writes give up on the lock after UI_BUSY_TIMEOUT_MS). */
#define SEARCH_INDEX_ROWS 200

static bool search_active(const app *a)
{
    return a->logs_search && *a->logs_search;
}

void ui_search_free(app *a)
{
    free(a->logs_search);
    a->logs_search = NULL;
    memset(a->logs_marks, 0, sizeof a->logs_marks);
    memset(a->logs_marked_ids, 0, sizeof a->logs_marked_ids);
}

void ui_search_index_turn(app *a)
{
    hd_error err = { 0 };
    /* A busy or failing step is tried again next turn; the search scans
     * what is not indexed, so nothing waits for it. */
    (void)store_search_index_step(a->st, SEARCH_INDEX_ROWS, NULL, &err);
}

/* Marks the visible rows that match.  What the last page knew is kept
 * (whether a message matches never changes); the rows it did not show
 * (new messages, a page further) are asked about: the matches from the
 * oldest of them up, one indexed query each and one more that ends the
 * walk.  An idle refresh (a status changed) asks nothing. */
static void search_mark_page(app *a, const msg_filter *f)
{
    unsigned char was[UI_MARKS_MAX];
    int64_t was_ids[UI_MARKS_MAX];
    memcpy(was, a->logs_marks, sizeof was);
    memcpy(was_ids, a->logs_marked_ids, sizeof was_ids);
    memset(a->logs_marks, 0, sizeof a->logs_marks);
    memset(a->logs_marked_ids, 0, sizeof a->logs_marked_ids);
    const message_list *p = &a->logs.page;
    if (!search_active(a) || p->count == 0)
        return;
    int n = p->count < UI_MARKS_MAX ? p->count : UI_MARKS_MAX;
    int64_t lo = 0, hi = 0;   /* the ids not known yet */
    for (int i = 0; i < n; i++) {
        int64_t id = p->items[i].id;
        a->logs_marked_ids[i] = id;
        bool known = false;
        for (int j = 0; j < UI_MARKS_MAX && was_ids[j] && !known; j++)
            if (was_ids[j] == id) {
                a->logs_marks[i] = was[j];
                known = true;
            }
        if (!known) {
            hi = hi ? hi : id;   /* the page is newest first */
            lo = id;
        }
    }
    hd_error err = { 0 };
    for (int64_t id = lo - 1, k = 0; lo && k <= n; k++) {
        if (store_search_next(a->st, f, a->logs_search, id, false, &id, &err) != HD_OK ||
            id == 0 || id > hi)
            return;
        for (int i = 0; i < n; i++)
            if (p->items[i].id == id)
                a->logs_marks[i] = 1;
    }
}

/* "match 3 of 17 for 'zebra'" (as the detail's search says it) for the
 * match at id: the matches newer than it and all of them, counted up to
 * SEARCH_COUNT_CAP ("match 999+ of 999+"). */
static void search_say_where(app *a, const msg_filter *f, int64_t id)
{
    int64_t newer = 0, total = 0;
    bool newer_more = false, total_more = false;
    hd_error err = { 0 };
    char text[64];
    ui_fmt_cell(a->logs_search, 30, a->utf8, text, sizeof text);
    for (char *e = text + strlen(text); e > text && e[-1] == ' ';)
        *--e = '\0';
    if (store_search_count(a->st, f, a->logs_search, id, SEARCH_COUNT_CAP, &newer, &newer_more,
                           &err) != HD_OK ||
        store_search_count(a->st, f, a->logs_search, 0, SEARCH_COUNT_CAP, &total, &total_more,
                           &err) != HD_OK) {
        ui_flash(a, false, "a match for '%s'", text);
        return;
    }
    char at[32], of[32];
    ui_fmt_thousands(newer_more ? newer : newer + 1, at, sizeof at);
    ui_fmt_thousands(total, of, sizeof of);
    ui_flash(a, false, "match %s%s of %s%s for '%s'   (n older, N newer)", at,
             newer_more ? "+" : "", of, total_more ? "+" : "", text);
}

/* The nearest match from the cursor (older or newer; from_cursor: the
 * cursor's own row counts): the cursor moves there, on this page or on
 * the page it starts.  False when there is none. */
static bool search_go(app *a, bool older, bool from_cursor)
{
    msg_filter f;
    ui_filter_to_msg(&a->filter, &f);
    const message *m = msg_list_selected(&a->logs);
    int64_t from = m ? m->id : 0;
    if (m && from_cursor)
        from += older ? 1 : -1;
    int64_t id = 0;
    hd_error err = { 0 };
    hd_status rc = store_search_next(a->st, &f, a->logs_search, from, older, &id, &err);
    if (rc == HD_INVALID) {
        ui_flash(a, true, "%s", err.msg);
        ui_search_free(a);
        return true;
    }
    if (rc == HD_BUSY && strcmp(err.field, "search") == 0) {
        ui_flash(a, true, "%s", err.msg);   /* over the budget: the search stays */
        return true;
    }
    if (rc != HD_OK) {
        ui_db_error(a, &err);
        return true;
    }
    if (id == 0)
        return false;
    int at = -1;
    for (int i = 0; i < a->logs.page.count; i++)
        if (a->logs.page.items[i].id == id)
            at = i;
    if (at >= 0) {
        a->logs.cursor = at;
    } else {
        msg_list_goto(a, &a->logs, &f, id);
        search_mark_page(a, &f);
    }
    search_say_where(a, &f, id);
    return true;
}

/* n and N. */
static void search_again(app *a, bool older)
{
    if (!search_active(a)) {
        ui_flash(a, false, "no search yet: / searches the action, customer and payload");
        return;
    }
    if (!search_go(a, older, false))
        ui_flash(a, false, "no more matches %s   (%s goes back)",
                 older ? "below (older)" : "above (newer)", older ? "N" : "n");
}

static void on_search(app *a, const char *text)
{
    ui_search_free(a);
    while (*text == ' ')
        text++;
    if (!*text) {
        a->need_refresh = true;
        return;
    }
    a->logs_search = hd_xstrdup(text);
    msg_filter f;
    ui_filter_to_msg(&a->filter, &f);
    /* From the cursor's row down, then up: the first search finds what
     * there is. */
    if (!search_go(a, true, true) && search_active(a) && !search_go(a, false, true))
        ui_flash(a, false, "no message %smatches '%s'",
                 ui_filter_active(&a->filter) ? "under the filter " : "", a->logs_search);
    a->need_refresh = true;
}

static void logs_refresh(app *a)
{
    msg_filter f;
    ui_filter_to_msg(&a->filter, &f);
    a->logs.rows = ui_body_rows() - 2;
    msg_list_reload(a, &a->logs, &f);
    search_mark_page(a, &f);
}

enum { LC_ID, LC_CREATED, LC_ACTION, LC_CUSTOMER, LC_SITE, LC_CODE, LC_STATUS, LC_COUNT };

static const char *const logs_titles[LC_COUNT] = { "ID", "Created at", "Action", "Customer",
                                                   "Trusted site", "Code", "Status" };

/* The cells of one row (t: room for the time). */
static void logs_cells(const message *m, bool full_time, char t[32], char id[24], char code[16],
                       const char *vals[LC_COUNT])
{
    hd_time_local(m->created_at, t);
    snprintf(id, 24, "%lld", (long long)m->id);
    if (m->response_code)
        snprintf(code, 16, "%d", m->response_code);
    else
        snprintf(code, 16, "-");   /* no code: spelt as the CLI and detail do */
    vals[LC_ID] = id;
    vals[LC_CREATED] = full_time ? t : t + 5;   /* drop the year when narrow */
    vals[LC_ACTION] = m->action;
    vals[LC_CUSTOMER] = m->customer ? m->customer : "";
    vals[LC_SITE] = m->site_name ? m->site_name : "(deleted)";
    vals[LC_CODE] = code;
    vals[LC_STATUS] = msg_status_title(m->status);
}

static int text_width(const char *s)
{
    char *clean = sanitize_dup(s ? s : "", 0);
    int w = (int)utf8_width(clean);
    free(clean);
    return w;
}

/* Column widths sized to what the visible rows hold (ui_fit_columns): the
 * id and the time whole, the texts shrinking together when the terminal
 * is narrow, what is left to the action. */
static void logs_columns(const message_list *p, int cols, bool full_time, int w[LC_COUNT])
{
    static const int least[LC_COUNT] = { 2, 14, 8, 6, 6, 4, 6 };
    int want[LC_COUNT], min[LC_COUNT];
    for (int c = 0; c < LC_COUNT; c++)
        want[c] = text_width(logs_titles[c]);
    for (int i = 0; i < p->count; i++) {
        char t[32], id[24], code[16];
        const char *vals[LC_COUNT];
        logs_cells(&p->items[i], full_time, t, id, code, vals);
        for (int c = 0; c < LC_COUNT; c++) {
            int tw = text_width(vals[c]);
            if (tw > want[c])
                want[c] = tw;
        }
    }
    for (int c = 0; c < LC_COUNT; c++)
        min[c] = least[c];
    min[LC_ID] = want[LC_ID];            /* an id is never cut */
    min[LC_CREATED] = want[LC_CREATED];
    /* The last column stays free for the resent mark after the status
     * (chain.c). */
    ui_fit_columns(want, min, LC_COUNT, cols - 1, LC_ACTION, w);
}

/* The line above the titles: the filter (or the hint) and, at the right,
 * where the selection is. */
static void logs_draw_top(app *a, int y, int cols)
{
    char line[1024], cell[512], where[64];
    ui_fmt_position(&a->logs, where, sizeof where);
    int ww = (int)strlen(where);
    int left = ww && cols > ww + 20 ? cols - ww - 1 : cols;
    if (ui_filter_active(&a->filter) || search_active(a)) {
        char desc[512] = "", search[300] = "";
        ui_filter_describe(&a->filter, desc, sizeof desc);
        if (search_active(a)) {
            char *clean = sanitize_dup(a->logs_search, 0);
            snprintf(search, sizeof search, "%sSearch: %s (n/N)", desc[0] ? "  " : "", clean);
            free(clean);
        }
        snprintf(line, sizeof line, "%s%s%s   (Esc clears)", desc[0] ? "Filter: " : "", desc,
                 search);
        ui_fmt_cell(line, left, a->utf8, cell, sizeof cell);
        term_put_bold(y, 0, cols, TA_RESENT, cell);
    } else {
        /* The keys the footer has no room for; shorter when the position
         * takes its share of the line. */
        static const char *const hints[] = {
            "All messages, newest first.  s status  / search  & action  f site  c customer  "
            "t time  # find",
            "All messages, newest first.  s status / search f site c customer t time",
            "All messages, newest first.  s status / search f site c cust t time",
            "All messages.  s status / search & action f site c customer t time",
            "s status / search & action f site c customer t time",
        };
        size_t h = 0;
        while (h + 1 < sizeof hints / sizeof hints[0] && (int)strlen(hints[h]) > left)
            h++;
        ui_fmt_cell(hints[h], left, a->utf8, cell, sizeof cell);
        term_put(y, 0, cols, TA_DIM, cell);
    }
    if (left < cols)
        term_put(y, cols - ww, ww, TA_DIM, where);
}

static void logs_draw(app *a, int top, int rows)
{
    int cols = term_cols();
    char cell[512];
    logs_draw_top(a, top, cols);
    const message_list *p = &a->logs.page;
    bool full_time = cols >= 110;
    int w[LC_COUNT];
    logs_columns(p, cols, full_time, w);
    int x = 0;
    term_put(top + 1, 0, cols, TA_COLHEAD, "");
    for (int c = 0; c < LC_COUNT; c++) {
        ui_fmt_cell(logs_titles[c], w[c], a->utf8, cell, sizeof cell);
        term_put(top + 1, x, w[c] + 1, TA_COLHEAD, cell);
        x += w[c] + 1;
    }
    if (p->count == 0) {
        term_put(top + 3, 2, cols - 2, TA_DIM,
                 ui_filter_active(&a->filter) ? "No message matches the filter."
                                              : "No messages yet.  `hookdesk send` queues one.");
        return;
    }
    for (int i = 0; i < p->count && i < rows - 2; i++) {
        const message *m = &p->items[i];
        bool sel = i == a->logs.cursor;
        int y = top + 2 + i;
        char t[32], id[24], code[16];
        const char *vals[LC_COUNT];
        logs_cells(m, full_time, t, id, code, vals);
        bool mark = i < UI_MARKS_MAX && a->logs_marks[i];
        term_put(y, 0, cols, sel ? TA_SELECTED : TA_NORMAL, "");
        x = 0;
        for (int c = 0; c < LC_COUNT && x < cols; c++) {
            ui_fmt_cell(vals[c], w[c], a->utf8, cell, sizeof cell);
            term_attr at = sel ? TA_SELECTED
                               : (c == LC_STATUS ? ui_status_attr(m->status) : TA_NORMAL);
            /* A search match: bold, as less and tig show theirs. */
            if (mark)
                term_put_bold(y, x, w[c] + (c < LC_COUNT - 1 ? 1 : 0), at, cell);
            else
                term_put(y, x, w[c] + (c < LC_COUNT - 1 ? 1 : 0), at, cell);
            x += w[c] + 1;
        }
        /* ... and a `>` in the gap before the status, for terminals where
         * bold does not show (`*` after the status is chain.c's resent
         * mark without UTF-8). */
        if (mark && x - w[LC_STATUS] - 2 > 0)
            term_put(y, x - w[LC_STATUS] - 2, 1, sel ? TA_SELECTED : TA_NORMAL, ">");
        logs_draw_resent_mark(a, m, y, x - 1, sel);   /* chain.c: "↻" after Status */
    }
}

/* ---- filter prompts ---- */

static void set_str(char **slot, const char *text)
{
    free(*slot);
    *slot = (text && *text) ? hd_xstrdup(text) : NULL;
}

static void on_action(app *a, const char *text)
{
    set_str(&a->filter.action, text);
    logs_reset(a);
}

static void on_customer(app *a, const char *text)
{
    set_str(&a->filter.customer, text);
    logs_reset(a);
}

static void on_site(app *a, const char *text)
{
    if (!*text) {
        a->filter.site_id = 0;
        set_str(&a->filter.site_name, NULL);
        logs_reset(a);
        return;
    }
    site s;
    site_init(&s);
    hd_error err = { 0 };
    if (store_site_get_by_name(a->st, text, &s, &err) != HD_OK) {
        ui_flash(a, true, "%s", err.msg);
    } else {
        a->filter.site_id = s.id;
        set_str(&a->filter.site_name, s.name);
        logs_reset(a);
    }
    site_free(&s);
}

static void on_time(app *a, const char *text)
{
    const char *why = NULL;
    int64_t since, until;
    if (!ui_parse_range(text, hd_now_ms(), &since, &until, &why)) {
        ui_flash(a, true, "time range: %s", why);
        return;
    }
    a->filter.since_ms = since;
    a->filter.until_ms = until;
    logs_reset(a);
}

/* ---- actions ---- */

/* The current delivery.max_payload: the store refuses (r) or skips (R)
 * payloads over it, one rule for the console and the CLI. */
static uint64_t max_payload(const app *a)
{
    return a->cfg ? a->cfg->delivery.max_payload : 0;
}

static hd_status resend_run(app *a, ui_act *act, hd_error *err)
{
    return store_message_resend(a->st, act->id, max_payload(a), &act->out[0], err);
}

static void resend_done(app *a, const ui_act *act, hd_status rc, const hd_error *err)
{
    if (rc != HD_OK) {
        ui_flash(a, true, "%s", err->msg);
        return;
    }
    ui_wakeup_engine(a);
    ui_flash(a, false, "message #%lld resent as #%lld", (long long)act->id,
             (long long)act->out[0]);
}

static void on_resend(app *a, int64_t id)
{
    ui_act act = { .run = resend_run, .done = resend_done, .id = id };
    snprintf(act.what, sizeof act.what, "resend #%lld", (long long)id);
    ui_act_start(a, &act);
}

/* The Failed messages `R` resends: those the filter shows, so none when
 * it asks for other statuses only (status=queued). */
static bool resend_all_filter(const ui_filter *uf, msg_filter *f)
{
    ui_filter_to_msg(uf, f);
    if (f->status_mask && !(f->status_mask & MSG_STATUS_BIT(MSG_FAILED)))
        return false;
    f->status_mask = MSG_STATUS_BIT(MSG_FAILED);
    f->unresent = true;   /* what store_messages_resend_failed will take */
    return true;
}

/* With the filter as it was when the operator said yes (act->filter), even
 * when the database was busy and the filter has changed since. */
static hd_status resend_all_run(app *a, ui_act *act, hd_error *err)
{
    msg_filter f;
    if (!resend_all_filter(act->filter, &f))
        return HD_OK;
    return store_messages_resend_failed(a->st, &f, max_payload(a), &act->out[0], &act->out[1],
                                        err);
}

static void resend_all_done(app *a, const ui_act *act, hd_status rc, const hd_error *err)
{
    if (rc != HD_OK) {
        ui_flash(a, true, "%s", err->msg);
        return;
    }
    ui_wakeup_engine(a);
    if (act->out[1] > 0) {
        char limit[32];
        size_words(max_payload(a), limit, sizeof limit);
        ui_flash(a, true, "resent %lld Failed messages; %lld skipped: payload over "
                 "delivery.max_payload (%s)", (long long)act->out[0], (long long)act->out[1],
                 limit);
    } else {
        ui_flash(a, false, "resent %lld Failed messages (of %lld counted)",
                 (long long)act->out[0], (long long)act->arg);
    }
}

static void on_resend_all(app *a, int64_t expected)
{
    ui_act act = { .run = resend_all_run, .done = resend_all_done, .arg = expected };
    snprintf(act.what, sizeof act.what, "resend %lld Failed", (long long)expected);
    act.filter = hd_xcalloc(1, sizeof *act.filter);
    ui_filter_copy(act.filter, &a->filter);
    ui_act_start(a, &act);
}

void ui_ask_resend(app *a, const message *m)
{
    if (msg_status_pending(m->status)) {
        ui_confirm(a, on_resend, m->id, "#%lld is still pending (%s): resend anyway "
                   "(sends it twice)?", (long long)m->id, msg_status_title(m->status));
        return;
    }
    ui_confirm(a, on_resend, m->id, "Resend message #%lld (%s to %s)?", (long long)m->id,
               m->action, m->site_name ? m->site_name : "deleted site");
}

void ui_filter_customer(app *a, const char *customer)
{
    if (!customer || !*customer) {
        ui_flash(a, true, "this message has no customer");
        return;
    }
    /* Every message of the customer: the other filters go (they may not
     * even be on screen when this comes from the Queue's detail view).
     * The string may belong to a page the clear frees: copy it first. */
    char *keep = hd_xstrdup(customer);
    ui_filter_clear(&a->filter);
    a->filter.customer = keep;
    logs_reset(a);
    ui_switch(a, VIEW_LOGS);
}

static ui_request logs_handle(app *a, ui_request r)
{
    msg_filter f;
    ui_filter_to_msg(&a->filter, &f);
    const message *m = msg_list_selected(&a->logs);
    switch (r) {
    case REQ_FILTER_STATUS:
        ui_filter_cycle_status(&a->filter);
        logs_reset(a);
        return REQ_NONE;
    case REQ_SEARCH:
        ui_prompt(a, "Search action, customer, payload: ", a->logs_search, on_search);
        return REQ_NONE;
    case REQ_TEXT_NEXT:
    case REQ_TEXT_PREV:
        search_again(a, r == REQ_TEXT_NEXT);
        return REQ_NONE;
    case REQ_FILTER_ACTION:
        ui_prompt(a, "Filter action: ", a->filter.action, on_action);
        return REQ_NONE;
    case REQ_FILTER_CUST_ASK:
        ui_prompt(a, "Customer (empty = any): ", a->filter.customer, on_customer);
        return REQ_NONE;
    case REQ_FILTER_CUST:
        if (m)
            ui_filter_customer(a, m->customer);
        return REQ_NONE;
    case REQ_FILTER_SITE:
        ui_prompt(a, "Trusted site (Tab lists, empty = any): ", a->filter.site_name, on_site);
        site_picker_attach(a);   /* picker.c: Tab completes, or lists the sites */
        return REQ_NONE;
    case REQ_FILTER_TIME: {
        /* Prefilled with the active range, in local time as typed. */
        char range[80] = "", since[32] = "", until[32] = "";
        if (a->filter.since_ms)
            ui_range_end_text(a->filter.since_ms, false, since);
        if (a->filter.until_ms)
            ui_range_end_text(a->filter.until_ms, true, until);
        if (since[0] || until[0])
            snprintf(range, sizeof range, "%s..%s", since, until);
        ui_prompt(a, "Time range (1h, 2026-11-01..2026-11-30, empty = any): ", range, on_time);
        return REQ_NONE;
    }
    case REQ_FILTER_CLEAR:
        if (ui_filter_active(&a->filter) || search_active(a)) {
            ui_filter_clear(&a->filter);
            ui_search_free(a);
            logs_reset(a);
        }
        return REQ_NONE;
    case REQ_ENTER:
        if (m) {
            a->detail_id = m->id;
            ui_switch(a, VIEW_DETAIL);
        }
        return REQ_NONE;
    case REQ_RESEND:
        if (m)
            ui_ask_resend(a, m);
        return REQ_NONE;
    case REQ_RESEND_ALL: {
        msg_filter ff;
        int64_t n = 0;
        hd_error err = { 0 };
        if (!resend_all_filter(&a->filter, &ff))
            ui_flash(a, false, "the filter shows no Failed messages: nothing to resend");
        else if (store_messages_count(a->st, &ff, &n, &err) != HD_OK)
            ui_flash(a, true, "%s", err.msg);
        else if (n == 0)
            ui_flash(a, false, "no Failed messages left to resend under the current filter");
        else
            ui_confirm(a, on_resend_all, n, "Resend all %lld Failed messages under the current filter?",
                       (long long)n);
        return REQ_NONE;
    }
    default:
        return msg_list_navigate(a, &a->logs, &f, r) ? REQ_NONE : r;
    }
}

static void logs_tick(app *a)
{
    msg_filter f;
    ui_filter_to_msg(&a->filter, &f);
    msg_list_count(a, &a->logs, &f);
}

static void logs_click(app *a, int row)
{
    if (msg_list_click(&a->logs, row))
        logs_handle(a, REQ_ENTER);
}

const view_ops view_logs_ops = { .title = "Logs", .keys = logs_keys,
                                 .refresh = logs_refresh, .draw = logs_draw,
                                 .handle = logs_handle, .click = logs_click,
                                 .tick = logs_tick };
