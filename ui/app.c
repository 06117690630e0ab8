/* app.c - what the views ask of the console, done on the app's state: go
 * to another screen, how many body rows there are, wake the engine, the
 * sites' stored state for the Queue and the detail.
 *
 * DESIGN
 * This file and prompt.c (footer messages, prompts, questions, the popup)
 * are the console's services; the views and list.c call them, console.c
 * calls them and the views (through the table of view_ops it owns, which
 * the views only reach as data: app.views).  Neither calls console.c or a
 * view by name, so there is no circle between the files of ui/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hd_sanitize.h"
#include "hd_util.h"
#include "term.h"
#include "ui.h"

const view_ops *ui_view(const app *a, ui_view_id id)
{
    return a->views[id];
}

int ui_body_rows(void)
{
    int r = term_rows() - UI_HEADER_ROWS - UI_FOOTER_ROWS;
    return r > 1 ? r : 1;
}

void ui_switch(app *a, ui_view_id id)
{
    if (id <= VIEW_SITES)
        a->back = id;
    a->view = id;
    if (a->views[id]->open)
        a->views[id]->open(a);
    a->need_refresh = true;
}

void ui_wakeup_engine(app *a)
{
    if (a->eng)
        engine_wakeup(a->eng);
}

/* Whenever anything changed: the site states (paused, circuit) are one
 * read of the small sites table, nothing counted. */
void ui_site_cache_refresh(app *a)
{
    if (a->site_cache_ok && a->site_cache_cc == a->change_counter)
        return;
    site_stats_list l = { 0 };
    hd_error err = { 0 };
    if (store_sites_states(a->st, &l, &err) != HD_OK) {
        ui_flash(a, true, "%s", err.msg);
        return;
    }
    site_stats_list_free(&a->site_cache);
    a->site_cache = l;
    a->site_cache_cc = a->change_counter;
    a->site_cache_ok = true;
}

const site_stats *ui_site_state(const app *a, int64_t site_id)
{
    for (int i = 0; i < a->site_cache.count; i++)
        if (a->site_cache.items[i].s.id == site_id)
            return &a->site_cache.items[i];
    return NULL;
}

const circuit *ui_site_circuit(const app *a, const site_stats *ss)
{
    if (!ss || !breaker_enabled(&a->cfg->delivery.breaker))
        return NULL;
    return &ss->circuit;
}

/* ---- operator writes (see ui_act in ui.h) ---- */

static void act_free(ui_act *act)
{
    if (act->filter) {
        ui_filter_clear(act->filter);
        free(act->filter);
        act->filter = NULL;
    }
}

/* The outcome of a write that was not busy. */
static void act_finish(app *a, ui_act *act, hd_status rc, const hd_error *err)
{
    if (act->done)
        act->done(a, act, rc, err);
    else if (rc != HD_OK)
        ui_flash(a, true, "%s", err->msg);
    act_free(act);
    a->need_refresh = true;
}

void ui_act_start(app *a, const ui_act *act)
{
    ui_act one = *act;
    char *clean = sanitize_dup(act->what, 0);
    snprintf(one.what, sizeof one.what, "%s", clean);
    free(clean);
    if (a->nacts == 0) {
        hd_error err = { 0 };
        hd_status rc = one.run(a, &one, &err);
        if (rc != HD_BUSY) {
            act_finish(a, &one, rc, &err);
            return;
        }
        a->acts_since = hd_mono_ms();
    } else if (a->nacts == UI_ACTS_MAX) {
        /* Writes wait in order behind the first: never run one before an
         * earlier one (a pause and the resume after it). */
        ui_flash(a, true, "database busy: %d changes already waiting, %s not done", a->nacts,
                 one.what);
        act_free(&one);
        return;
    }
    a->acts[a->nacts++] = one;
}

void ui_act_retry(app *a)
{
    while (a->nacts > 0) {
        ui_act *act = &a->acts[0];
        hd_error err = { 0 };
        hd_status rc = act->run(a, act, &err);
        if (rc == HD_BUSY)
            return;
        ui_act done = *act;
        memmove(&a->acts[0], &a->acts[1], (size_t)(a->nacts - 1) * sizeof a->acts[0]);
        a->nacts--;
        a->acts_since = hd_mono_ms();
        act_finish(a, &done, rc, &err);
    }
}

void ui_act_cancel(app *a, const char *then)
{
    if (a->nacts == 0)
        return;
    char list[200] = "";
    for (int i = 0; i < a->nacts; i++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", a->acts[i].what);
        act_free(&a->acts[i]);
    }
    ui_flash(a, true, "cancelled, not done: %s%s", list, then);
    a->nacts = 0;
}

void ui_db_error(app *a, const hd_error *err)
{
    if (err->code == HD_BUSY) {
        a->read_busy = true;
        ui_flash(a, true, "database busy, retrying");
    } else {
        ui_flash(a, true, "%s", err->msg);
    }
}
