/* view_queue.c - the Queue screen: messages not yet Done or Failed, with
 * when and why they wait (the countdown to their next attempt, "paused",
 * "circuit open, probe in 7s", "in 59m (Retry-After)": ui_fmt_wait).  Send
 * now and cancel act on the selected row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hd_sanitize.h"
#include "hd_util.h"
#include "term.h"
#include "ui.h"

static const keybind queue_keys[] = {
    { '\n', REQ_ENTER, "Open" },
    { 's', REQ_SEND_NOW, "Send now" },
    { 'x', REQ_CANCEL_MSG, "Cancel" },
    { TK_DELETE, REQ_CANCEL_MSG, NULL },
    { 0, REQ_NONE, NULL },
};

static void queue_filter(msg_filter *f)
{
    memset(f, 0, sizeof *f);
    f->status_mask = MSG_PENDING_MASK;
}

/* Read now (one primary-key read), not from the site cache: that is as
 * old as the last refresh, and the site may have been paused since. */
static bool queue_site_paused(app *a, int64_t site_id)
{
    site s;
    site_init(&s);
    bool paused = store_site_get(a->st, site_id, &s, NULL) == HD_OK && !s.enabled;
    site_free(&s);
    return paused;
}

static void queue_refresh(app *a)
{
    msg_filter f;
    queue_filter(&f);
    a->queue.rows = ui_body_rows() - 2;
    msg_list_reload(a, &a->queue, &f);
    /* Paused sites and open circuits, so that Next says why a message waits
     * (as `hookdesk queue` does) rather than a countdown that will not
     * happen.  Read again only when the store changed, not every tick. */
    ui_site_cache_refresh(a);
}

enum { QC_ID, QC_ACTION, QC_CUSTOMER, QC_SITE, QC_RETRIES, QC_STATUS, QC_NEXT, QC_COUNT };

static const char *const queue_titles[QC_COUNT] = { "ID", "Action", "Customer", "Trusted site",
                                                    "Retries", "Status", "Next" };

/* The cells of one row; next is sized for `next_w` columns (ui_fmt_wait's
 * short forms when narrow). */
static void queue_cells(app *a, const message *m, int64_t now, int next_w, char id[24],
                        char retries[16], char next[64], const char *vals[QC_COUNT])
{
    snprintf(id, 24, "%lld", (long long)m->id);
    /* Retries: attempts after the first, as `hookdesk queue` and the
     * detail count them. */
    snprintf(retries, 16, "%d", m->attempts > 1 ? m->attempts - 1 : 0);
    const site_stats *ss = ui_site_state(a, m->site_id);
    ui_fmt_wait(m, ss && !ss->s.enabled, ui_site_circuit(a, ss), now, next_w, next, 64);
    vals[QC_ID] = id;
    vals[QC_ACTION] = m->action;
    vals[QC_CUSTOMER] = m->customer ? m->customer : "";
    vals[QC_SITE] = m->site_name ? m->site_name : "(deleted)";
    vals[QC_RETRIES] = retries;
    vals[QC_STATUS] = msg_status_title(m->status);
    vals[QC_NEXT] = next;
}

static int text_width(const char *s)
{
    char *clean = sanitize_dup(s ? s : "", 0);
    int w = (int)utf8_width(clean);
    free(clean);
    return w;
}

/* Sized to what the visible rows hold (ui_fit_columns); Next gets the room
 * of its long forms ("circuit open, probe in 2m05s") when there is some. */
static void queue_columns(app *a, int64_t now, int cols, int w[QC_COUNT])
{
    static const int least[QC_COUNT] = { 2, 8, 6, 6, 7, 6, 8 };
    const message_list *p = &a->queue.page;
    int want[QC_COUNT], min[QC_COUNT];
    for (int c = 0; c < QC_COUNT; c++)
        want[c] = text_width(queue_titles[c]);
    for (int i = 0; i < p->count; i++) {
        char id[24], retries[16], next[64];
        const char *vals[QC_COUNT];
        queue_cells(a, &p->items[i], now, 0, id, retries, next, vals);
        for (int c = 0; c < QC_COUNT; c++) {
            int tw = text_width(vals[c]);
            if (tw > want[c])
                want[c] = tw;
        }
    }
    for (int c = 0; c < QC_COUNT; c++)
        min[c] = least[c];
    min[QC_ID] = want[QC_ID];            /* an id is never cut */
    /* The short forms of the wait ("circuit open 7s") fit in 15. */
    min[QC_NEXT] = want[QC_NEXT] < 15 ? want[QC_NEXT] : 15;
    ui_fit_columns(want, min, QC_COUNT, cols, QC_ACTION, w);
}

static void queue_draw(app *a, int top, int rows)
{
    int cols = term_cols();
    char cell[512];
    char head[128], where[64];
    snprintf(head, sizeof head, "Pending messages: %lld Queued, %lld Resent",
             (long long)a->counts[MSG_QUEUED], (long long)a->counts[MSG_RESENT]);
    term_put(top, 0, cols, TA_DIM, head);
    ui_fmt_position(&a->queue, where, sizeof where);
    int ww = (int)strlen(where);
    if (ww && (int)strlen(head) + ww + 2 <= cols)
        term_put(top, cols - ww, ww, TA_DIM, where);
    int64_t now = hd_now_ms();
    int w[QC_COUNT];
    queue_columns(a, now, cols, w);
    term_put(top + 1, 0, cols, TA_COLHEAD, "");
    int x = 0;
    for (int c = 0; c < QC_COUNT; c++) {
        ui_fmt_cell(queue_titles[c], w[c], a->utf8, cell, sizeof cell);
        term_put(top + 1, x, w[c] + 1, TA_COLHEAD, cell);
        x += w[c] + 1;
    }
    const message_list *p = &a->queue.page;
    if (p->count == 0) {
        term_put(top + 3, 2, cols - 2, TA_DIM, "The queue is empty: every message is Done or Failed.");
        return;
    }
    for (int i = 0; i < p->count && i < rows - 2; i++) {
        const message *m = &p->items[i];
        bool sel = i == a->queue.cursor;
        int y = top + 2 + i;
        char id[24], retries[16], next[64];
        const char *vals[QC_COUNT];
        queue_cells(a, m, now, w[QC_NEXT], id, retries, next, vals);
        term_put(y, 0, cols, sel ? TA_SELECTED : TA_NORMAL, "");
        x = 0;
        for (int c = 0; c < QC_COUNT && x < cols; c++) {
            ui_fmt_cell(vals[c], w[c], a->utf8, cell, sizeof cell);
            term_attr at = sel                ? TA_SELECTED
                           : c == QC_STATUS   ? ui_status_attr(m->status)
                           : c == QC_NEXT && strncmp(next, "circuit", 7) == 0 ? TA_FAILED
                                                                              : TA_NORMAL;
            term_put(y, x, w[c] + (c < QC_COUNT - 1 ? 1 : 0), at, cell);
            x += w[c] + 1;
        }
    }
}

static hd_status cancel_run(app *a, ui_act *act, hd_error *err)
{
    return store_message_cancel(a->st, act->id, err);
}

static void cancel_done(app *a, const ui_act *act, hd_status rc, const hd_error *err)
{
    if (rc != HD_OK)
        ui_flash(a, true, "%s", err->msg);
    else
        ui_flash(a, false, "message #%lld cancelled (now Failed)", (long long)act->id);
}

static void on_cancel(app *a, int64_t id)
{
    ui_act act = { .run = cancel_run, .done = cancel_done, .id = id };
    snprintf(act.what, sizeof act.what, "cancel #%lld", (long long)id);
    ui_act_start(a, &act);
}

static hd_status send_now_run(app *a, ui_act *act, hd_error *err)
{
    return store_message_send_now(a->st, act->id, err);
}

/* act->arg: the message's site (is it paused?), act->out[0]: it was in flight. */
static void send_now_done(app *a, const ui_act *act, hd_status rc, const hd_error *err)
{
    if (rc != HD_OK) {
        ui_flash(a, true, "%s", err->msg);
    } else if (!act->out[0] && queue_site_paused(a, act->arg)) {
        ui_flash(a, false, "message #%lld goes out as soon as %s is resumed",
                 (long long)act->id, act->name);
    } else {
        ui_wakeup_engine(a);
        ui_flash(a, false, "message #%lld will be sent now", (long long)act->id);
    }
}

static ui_request queue_handle(app *a, ui_request r)
{
    msg_filter f;
    queue_filter(&f);
    const message *m = msg_list_selected(&a->queue);
    switch (r) {
    case REQ_ENTER:
        if (m) {
            a->detail_id = m->id;
            ui_switch(a, VIEW_DETAIL);
        }
        return REQ_NONE;
    case REQ_SEND_NOW:
        if (m) {
            ui_act act = { .run = send_now_run, .done = send_now_done, .id = m->id,
                           .arg = m->site_id, .out = { m->in_flight } };
            snprintf(act.what, sizeof act.what, "send #%lld now", (long long)m->id);
            snprintf(act.name, sizeof act.name, "%s", m->site_name ? m->site_name : "its site");
            ui_act_start(a, &act);
        }
        return REQ_NONE;
    case REQ_CANCEL_MSG:
        if (m)
            ui_confirm(a, on_cancel, m->id, "Cancel message #%lld (%s to %s)? It becomes Failed.",
                       (long long)m->id, m->action, m->site_name ? m->site_name : "deleted site");
        return REQ_NONE;
    default:
        return msg_list_navigate(a, &a->queue, &f, r) ? REQ_NONE : r;
    }
}

static void queue_tick(app *a)
{
    msg_filter f;
    queue_filter(&f);
    msg_list_count(a, &a->queue, &f);
}

static void queue_click(app *a, int row)
{
    if (msg_list_click(&a->queue, row))
        queue_handle(a, REQ_ENTER);
}

const view_ops view_queue_ops = { .title = "Queue", .keys = queue_keys,
                                  .refresh = queue_refresh, .draw = queue_draw,
                                  .handle = queue_handle, .click = queue_click,
                                  .tick = queue_tick };
