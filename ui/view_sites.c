/* view_sites.c - the Trusted sites screen: name, URL, auth, enabled,
 * pending count, recent success rate and circuit breaker state; under the
 * list, the selected site's max in flight and why its circuit opened;
 * add/edit (view_form.c), delete, pause/resume and test.  Sites are few, so
 * the whole list is loaded on every refresh (every commit of any process):
 * that costs a few rows per site whatever the backlog, since the pending
 * counts are counters the store keeps (store_sites_list), not a count. */
#include <stdio.h>
#include <string.h>

#include "hd_util.h"
#include "term.h"
#include "ui.h"

static const keybind sites_keys[] = {
    { 'a', REQ_SITE_ADD, "Add" },
    { 'e', REQ_SITE_EDIT, "Edit" },
    { '\n', REQ_SITE_EDIT, NULL },
    { 'd', REQ_SITE_DELETE, "Delete" },
    { 'p', REQ_SITE_PAUSE, "Pause" },
    { 't', REQ_SITE_TEST, "Test" },
    { 0, REQ_NONE, NULL },
};

/* Body lines that are not site rows: the title, the column heads and the
 * selected site's two lines at the bottom. */
#define SITES_CHROME 4
#define SITES_COLS 7

/* The selected site's line: "billing  max in flight 4 (default)  circuit
 * open, probe in 7s after 5 failures" (sanitised when drawn). */
static void site_info(const app *a, const site_stats *ss, int64_t now, char *out, size_t len)
{
    const circuit *c = &ss->circuit;
    int n = site_max_in_flight(&ss->s, a->cfg->delivery.concurrency);
    char state[64];
    ui_fmt_circuit_state(c, now, state, sizeof state);
    int at = snprintf(out, len, "%s  max in flight %d%s  circuit %s", ss->s.name, n,
                      ss->s.max_in_flight > 0 ? "" : " (default)", state);
    if (at > 0 && (size_t)at < len && c->state != CIRCUIT_CLOSED)
        snprintf(out + at, len - (size_t)at, " after %d failure%s", c->failures,
                 c->failures == 1 ? "" : "s");
}

/* The two lines under the list: the selected site, and why its circuit
 * opened (the last error, from the receiver: sanitised by ui_fmt_cell). */
static void sites_draw_selected(const app *a, int y, int cols, int64_t now)
{
    if (a->sites_cursor < 0 || a->sites_cursor >= a->sites.count)
        return;
    const site_stats *ss = &a->sites.items[a->sites_cursor];
    bool open = ss->circuit.state != CIRCUIT_CLOSED;
    char info[256], cell[1024];
    site_info(a, ss, now, info, sizeof info);
    ui_fmt_cell(info, cols, a->utf8, cell, sizeof cell);
    term_put(y, 0, cols, open ? TA_FAILED : TA_DIM, cell);
    if (!open || !ss->circuit.reason[0])
        return;
    char why[BREAKER_REASON_MAX + 16];
    snprintf(why, sizeof why, "  why: %s", ss->circuit.reason);
    ui_fmt_cell(why, cols, a->utf8, cell, sizeof cell);
    term_put(y + 1, 0, cols, TA_DIM, cell);
}

static term_attr circuit_attr(const circuit *c)
{
    return c->state == CIRCUIT_OPEN ? TA_FAILED : c->state == CIRCUIT_PROBING ? TA_RESENT
                                                                             : TA_NORMAL;
}

static void sites_refresh(app *a)
{
    site_stats_list l = { 0 };
    hd_error err = { 0 };
    if (store_sites_list(a->st, &l, &err) != HD_OK) {
        ui_flash(a, true, "%s", err.msg);
        return;
    }
    /* The cursor stays on the same site when another process adds or
     * removes one before it (the list is by name): p does not confirm. */
    int64_t sel_id = 0;
    if (a->sites_cursor >= 0 && a->sites_cursor < a->sites.count)
        sel_id = a->sites.items[a->sites_cursor].s.id;
    if (a->sites_select_id) {   /* a site just added (view_form.c): it, wherever it sorts */
        sel_id = a->sites_select_id;
        a->sites_select_id = 0;
    }
    for (int i = 0; sel_id && i < l.count; i++)
        if (l.items[i].s.id == sel_id)
            a->sites_cursor = i;
    site_stats_list_free(&a->sites);
    a->sites = l;
    if (a->sites_cursor >= l.count)
        a->sites_cursor = l.count - 1;
    if (a->sites_cursor < 0)
        a->sites_cursor = 0;
    int rows = ui_body_rows() - SITES_CHROME;
    if (a->sites_cursor < a->sites_top)
        a->sites_top = a->sites_cursor;
    if (rows > 0 && a->sites_cursor >= a->sites_top + rows)
        a->sites_top = a->sites_cursor - rows + 1;
}

static void sites_draw_row(const app *a, const site_stats *ss, bool sel, int y, const int *w,
                           int64_t now)
{
    char cell[512], pending[24], rate[16], circ[32];
    snprintf(pending, sizeof pending, "%lld", (long long)ss->pending);
    ui_fmt_rate(ss->recent_ok, ss->recent_total, rate, sizeof rate);
    ui_fmt_circuit(&ss->circuit, now, circ, sizeof circ);
    const char *vals[SITES_COLS] = { ss->s.name, ss->s.url, auth_kind_name(ss->s.auth),
                                     ss->s.enabled ? "yes" : "paused", pending, rate, circ };
    term_put(y, 0, term_cols(), sel ? TA_SELECTED : TA_NORMAL, "");
    int x = 0;
    for (int c = 0; c < SITES_COLS; c++) {
        ui_fmt_cell(vals[c], w[c], a->utf8, cell, sizeof cell);
        term_attr at = sel                      ? TA_SELECTED
                       : c == 3 && !ss->s.enabled ? TA_RESENT
                       : c == 6                 ? circuit_attr(&ss->circuit)
                                                : TA_NORMAL;
        term_put(y, x, w[c] + (c < SITES_COLS - 1 ? 1 : 0), at, cell);
        x += w[c] + 1;
    }
}

static void sites_draw(app *a, int top, int rows)
{
    int cols = term_cols();
    char cell[512];
    char head[96];
    snprintf(head, sizeof head, "%d trusted sites.  a add  e edit  d delete  p pause/resume  t test",
             a->sites.count);
    term_put(top, 0, cols, TA_DIM, head);
    /* Auth (aws-s3), Enabled, Pending, Success, Circuit ("open 2m05s");
     * name and URL share the rest. */
    int w[SITES_COLS] = { 0, 0, 6, 7, 7, 7, 10 };
    int rest = cols - w[2] - w[3] - w[4] - w[5] - w[6] - SITES_COLS;
    if (rest < 20)
        rest = 20;
    w[0] = rest * 31 / 100;   /* 11 at 80 columns: demo-signed; the URL gets 25 */
    w[1] = rest - w[0];
    static const char *const titles[SITES_COLS] = { "Name", "URL", "Auth", "Enabled",
                                                    "Pending", "Success", "Circuit" };
    term_put(top + 1, 0, cols, TA_COLHEAD, "");
    int x = 0;
    for (int c = 0; c < SITES_COLS; c++) {
        ui_fmt_cell(titles[c], w[c], a->utf8, cell, sizeof cell);
        term_put(top + 1, x, w[c] + 1, TA_COLHEAD, cell);
        x += w[c] + 1;
    }
    if (a->sites.count == 0) {
        term_put(top + 3, 2, cols - 2, TA_DIM, "No trusted sites yet.  Press a to add one.");
        return;
    }
    int64_t now = hd_now_ms();
    int end = top + rows - (SITES_CHROME - 2);   /* the selected site's lines */
    for (int i = a->sites_top, y = top + 2; i < a->sites.count && y < end; i++, y++)
        sites_draw_row(a, &a->sites.items[i], i == a->sites_cursor, y, w, now);
    if (end > top + 2)
        sites_draw_selected(a, end, cols, now);
}

static const site_stats *sites_selected(const app *a)
{
    if (a->sites_cursor < 0 || a->sites_cursor >= a->sites.count)
        return NULL;
    return &a->sites.items[a->sites_cursor];
}

static hd_status delete_run(app *a, ui_act *act, hd_error *err)
{
    return store_site_delete(a->st, act->id, err);
}

static void delete_done(app *a, const ui_act *act, hd_status rc, const hd_error *err)
{
    (void)act;
    if (rc != HD_OK)
        ui_flash(a, true, "%s", err->msg);
    else
        ui_flash(a, false, "trusted site deleted");
}

/* Through ui_act: a busy database never holds the keys (issue #11). */
static void on_delete(app *a, int64_t id)
{
    ui_act act = { .run = delete_run, .done = delete_done, .id = id };
    snprintf(act.what, sizeof act.what, "delete site #%lld", (long long)id);
    ui_act_start(a, &act);
}

static hd_status pause_run(app *a, ui_act *act, hd_error *err)
{
    return store_site_set_enabled(a->st, act->id, act->arg != 0, err);
}

static void pause_done(app *a, const ui_act *act, hd_status rc, const hd_error *err)
{
    if (rc != HD_OK) {
        ui_flash(a, true, "%s", err->msg);
        return;
    }
    ui_flash(a, false, "%s %s", act->name, act->arg ? "resumed" : "paused");
    ui_wakeup_engine(a);
}

static void sites_test(app *a, const site_stats *ss)
{
    if (a->test) {
        ui_flash(a, true, "a test is already running");
        return;
    }
    /* The list holds the stored site; fetch it again so the test uses the
     * newest settings, secrets included. */
    site s;
    site_init(&s);
    hd_error err = { 0 };
    if (store_site_get(a->st, ss->s.id, &s, &err) != HD_OK ||
        sitetest_start(a->cfg, &s, &a->test, &err) != HD_OK) {
        ui_flash(a, true, "%s", err.msg);
        a->test = NULL;
    } else {
        snprintf(a->test_site, sizeof a->test_site, "%s", s.name);
        char title[128];
        snprintf(title, sizeof title, "Test of %s", s.name);
        ui_popup(a, title, "sending a ping, waiting for the answer...");
    }
    site_free(&s);
}

static ui_request sites_handle(app *a, ui_request r)
{
    const site_stats *ss = sites_selected(a);
    switch (r) {
    case REQ_SITE_ADD:
        form_begin(a, 0);
        return REQ_NONE;
    case REQ_SITE_EDIT:
        if (ss)
            form_begin(a, ss->s.id);
        return REQ_NONE;
    case REQ_SITE_DELETE:
        if (ss && ss->pending > 0)
            ui_confirm(a, on_delete, ss->s.id,
                       "Delete trusted site %s? Its %lld pending message%s become%s Failed.",
                       ss->s.name, (long long)ss->pending, ss->pending == 1 ? "" : "s",
                       ss->pending == 1 ? "s" : "");
        else if (ss)
            ui_confirm(a, on_delete, ss->s.id,
                       "Delete trusted site %s? Its history stays in the logs.", ss->s.name);
        return REQ_NONE;
    case REQ_SITE_PAUSE:
        if (ss) {
            ui_act act = { .run = pause_run, .done = pause_done, .id = ss->s.id,
                           .arg = !ss->s.enabled };
            snprintf(act.what, sizeof act.what, "%s %s", ss->s.enabled ? "pause" : "resume",
                     ss->s.name);
            snprintf(act.name, sizeof act.name, "%s", ss->s.name);
            ui_act_start(a, &act);
        }
        return REQ_NONE;
    case REQ_SITE_TEST:
        if (ss)
            sites_test(a, ss);
        return REQ_NONE;
    default:
        return ui_cursor_move(&a->sites_cursor, &a->sites_top, a->sites.count,
                              ui_body_rows() - SITES_CHROME, r) ? REQ_NONE : r;
    }
}

static void sites_click(app *a, int row)
{
    int i = a->sites_top + row - 2;
    if (row < 2 || row >= ui_body_rows() - (SITES_CHROME - 2) || i >= a->sites.count)
        return;
    if (i == a->sites_cursor)
        sites_handle(a, REQ_SITE_EDIT);
    else
        a->sites_cursor = i;
}

const view_ops view_sites_ops = { .title = "Sites", .keys = sites_keys,
                                  .refresh = sites_refresh, .draw = sites_draw,
                                  .handle = sites_handle, .click = sites_click };
