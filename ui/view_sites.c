/* view_sites.c - the Trusted sites screen: name, URL, auth, enabled,
 * pending count and recent success rate; add/edit (view_form.c), delete,
 * pause/resume and test.  Sites are few, so the whole list is loaded. */
#include <stdio.h>
#include <string.h>

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
    for (int i = 0; sel_id && i < l.count; i++)
        if (l.items[i].s.id == sel_id)
            a->sites_cursor = i;
    site_stats_list_free(&a->sites);
    a->sites = l;
    if (a->sites_cursor >= l.count)
        a->sites_cursor = l.count - 1;
    if (a->sites_cursor < 0)
        a->sites_cursor = 0;
    int rows = ui_body_rows() - 2;
    if (a->sites_cursor < a->sites_top)
        a->sites_top = a->sites_cursor;
    if (rows > 0 && a->sites_cursor >= a->sites_top + rows)
        a->sites_top = a->sites_cursor - rows + 1;
}

static void sites_draw(app *a, int top, int rows)
{
    int cols = term_cols();
    char cell[512];
    char head[96];
    snprintf(head, sizeof head, "%d trusted sites.  a add  e edit  d delete  p pause/resume  t test",
             a->sites.count);
    term_put(top, 0, cols, TA_DIM, head);
    int w[6] = { 0, 0, 7, 7, 7, 7 };
    int rest = cols - w[2] - w[3] - w[4] - w[5] - 6;
    if (rest < 20)
        rest = 20;
    w[0] = rest * 35 / 100;
    w[1] = rest - w[0];
    static const char *const titles[6] = { "Name", "URL", "Auth", "Enabled", "Pending", "Success" };
    term_put(top + 1, 0, cols, TA_COLHEAD, "");
    int x = 0;
    for (int c = 0; c < 6; c++) {
        ui_fmt_cell(titles[c], w[c], a->utf8, cell, sizeof cell);
        term_put(top + 1, x, w[c] + 1, TA_COLHEAD, cell);
        x += w[c] + 1;
    }
    if (a->sites.count == 0) {
        term_put(top + 3, 2, cols - 2, TA_DIM, "No trusted sites yet.  Press a to add one.");
        return;
    }
    for (int i = a->sites_top, y = top + 2; i < a->sites.count && y < top + rows; i++, y++) {
        const site_stats *ss = &a->sites.items[i];
        bool sel = i == a->sites_cursor;
        char pending[24], rate[16];
        snprintf(pending, sizeof pending, "%lld", (long long)ss->pending);
        ui_fmt_rate(ss->recent_ok, ss->recent_total, rate, sizeof rate);
        const char *vals[6] = { ss->s.name, ss->s.url, auth_kind_name(ss->s.auth),
                                ss->s.enabled ? "yes" : "paused", pending, rate };
        term_put(y, 0, cols, sel ? TA_SELECTED : TA_NORMAL, "");
        x = 0;
        for (int c = 0; c < 6; c++) {
            ui_fmt_cell(vals[c], w[c], a->utf8, cell, sizeof cell);
            term_attr at = sel ? TA_SELECTED
                               : (c == 3 && !ss->s.enabled) ? TA_RESENT : TA_NORMAL;
            term_put(y, x, w[c] + (c < 5 ? 1 : 0), at, cell);
            x += w[c] + 1;
        }
    }
}

static const site_stats *sites_selected(const app *a)
{
    if (a->sites_cursor < 0 || a->sites_cursor >= a->sites.count)
        return NULL;
    return &a->sites.items[a->sites_cursor];
}

static void on_delete(app *a, int64_t id)
{
    hd_error err = { 0 };
    if (store_site_delete(a->st, id, &err) != HD_OK)
        ui_flash(a, true, "%s", err.msg);
    else
        ui_flash(a, false, "trusted site deleted");
    a->need_refresh = true;
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
    hd_error err = { 0 };
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
            if (store_site_set_enabled(a->st, ss->s.id, !ss->s.enabled, &err) != HD_OK)
                ui_flash(a, true, "%s", err.msg);
            else {
                ui_flash(a, false, "%s %s", ss->s.name, ss->s.enabled ? "paused" : "resumed");
                ui_wakeup_engine(a);
            }
            a->need_refresh = true;
        }
        return REQ_NONE;
    case REQ_SITE_TEST:
        if (ss)
            sites_test(a, ss);
        return REQ_NONE;
    default:
        return ui_cursor_move(&a->sites_cursor, &a->sites_top, a->sites.count,
                              ui_body_rows() - 2, r) ? REQ_NONE : r;
    }
}

static void sites_click(app *a, int row)
{
    int i = a->sites_top + row - 2;
    if (row < 2 || i >= a->sites.count)
        return;
    if (i == a->sites_cursor)
        sites_handle(a, REQ_SITE_EDIT);
    else
        a->sites_cursor = i;
}

const view_ops view_sites_ops = {
    .title = "Sites",
    .keys = sites_keys,
    .refresh = sites_refresh,
    .draw = sites_draw,
    .handle = sites_handle,
    .click = sites_click,
};
