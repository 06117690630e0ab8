/* view_help.c - the `?` overlay, generated from the keymaps and the help
 * texts of UI_REQ_LIST: the screen it was opened from, then the keys that
 * work everywhere.  Nothing here is written by hand per key. */
#include <stdio.h>
#include <string.h>

#include "term.h"
#include "ui.h"

static const keybind help_keys[] = {
    { TK_ESC, REQ_BACK, "Back" },
    { 'q', REQ_BACK, NULL },
    { '?', REQ_BACK, NULL },
    { '\n', REQ_BACK, NULL },
    { 0, REQ_NONE, NULL },
};

/* One line per request of map (in map order): every key bound to it, then
 * its help.  Keys the `shadow` map takes for itself are left out. */
static int help_section(const keybind *map, const keybind *shadow, int y, int top, int rows,
                        int skip, int *line)
{
    int cols = term_cols();
    bool seen[REQ_COUNT] = { false };
    for (const keybind *k = map; k && k->req != REQ_NONE; k++) {
        if (seen[k->req])
            continue;
        seen[k->req] = true;
        char names[96] = "";
        for (const keybind *j = k; j->req != REQ_NONE; j++) {
            if (j->req != k->req || (shadow && keys_lookup(shadow, j->key) != REQ_NONE))
                continue;
            char n[16];
            keys_name(j->key, n, sizeof n);
            size_t len = strlen(names);
            snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "", n);
        }
        if (!names[0])
            continue;
        if ((*line)++ < skip)
            continue;
        if (y < top + rows) {
            char cell[256];
            ui_fmt_cell(names, 22, false, cell, sizeof cell);
            term_put_bold(y, 2, 22, TA_NORMAL, cell);
            term_put(y, 26, cols - 26, TA_NORMAL, ui_request_help(k->req));
            y++;
        }
    }
    return y;
}

/* Lines in the help of the screen last drawn (set by help_draw, which runs
 * before every key), so scrolling stops at the end and G goes there. */
static int help_total;

static void help_draw(app *a, int top, int rows)
{
    int cols = term_cols();
    const view_ops *from = ui_view(a->help_from);
    int line = 0, skip = a->help_scroll, y = top;
    char title[96];
    snprintf(title, sizeof title, "Keys on the %s screen", from->title);
    if (line++ >= skip)
        term_put(y++, 0, cols, TA_COLHEAD, title);
    y = help_section(from->keys, NULL, y, top, rows, skip, &line);
    if (line++ >= skip && y < top + rows)
        y++;
    if (line++ >= skip && y < top + rows)
        term_put(y++, 0, cols, TA_COLHEAD, "Everywhere (mouse: click a row or a tab, wheel scrolls)");
    help_section(keys_generic, from->keys, y, top, rows, skip, &line);
    help_total = line;
}

static ui_request help_handle(app *a, ui_request r)
{
    int max = help_total - ui_body_rows();
    if (max < 0)
        max = 0;
    switch (r) {
    case REQ_UP:
    case REQ_PAGE_UP:
        a->help_scroll -= r == REQ_UP ? 1 : ui_body_rows() / 2;
        if (a->help_scroll < 0)
            a->help_scroll = 0;
        return REQ_NONE;
    case REQ_DOWN:
    case REQ_PAGE_DOWN:
        a->help_scroll += r == REQ_DOWN ? 1 : ui_body_rows() / 2;
        if (a->help_scroll > max)
            a->help_scroll = max;
        return REQ_NONE;
    case REQ_FIRST:
        a->help_scroll = 0;
        return REQ_NONE;
    case REQ_LAST:
        a->help_scroll = max;
        return REQ_NONE;
    case REQ_BACK:
    case REQ_HELP:
        ui_switch(a, a->help_from);
        return REQ_NONE;
    default:
        return r;
    }
}

const view_ops view_help_ops = {
    .title = "Help",
    .keys = help_keys,
    .draw = help_draw,
    .handle = help_handle,
};
