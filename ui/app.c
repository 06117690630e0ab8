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
#include <stddef.h>

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
