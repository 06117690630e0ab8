/* view_help.c - the `?` overlay, generated from the keymaps and the help
 * texts of UI_REQ_LIST: the screen it was opened from, the screens it opens
 * that cannot show `?` themselves (the add/edit form takes `?` as text),
 * then the keys that work everywhere.  Keys a view reads raw (text editing)
 * have no request: their owners describe them as key_help tables
 * (view_ops.raw_help).  Nothing here is written by hand per key. */
#include <stdio.h>
#include <string.h>

#include "lineedit.h"
#include "term.h"
#include "ui.h"

static const keybind help_keys[] = {
    { TK_ESC, REQ_BACK, "Back" },
    { 'q', REQ_BACK, NULL },
    { '?', REQ_BACK, NULL },
    { '\n', REQ_BACK, NULL },
    { 0, REQ_NONE, NULL },
};

/* Screens opened from another one whose keys `?` lists with that screen's,
 * since that is where an operator looks for them. */
static const struct help_sub {
    ui_view_id from;             /* the screen `?` was opened from */
    ui_view_id sub;              /* a screen it opens */
    const char *title;           /* the section's heading, before the keys that open it */
    ui_request opened_by[2];     /* the requests of `from` that open `sub` */
} help_subs[] = {
    { VIEW_SITES, VIEW_FORM, "In the add/edit form", { REQ_SITE_ADD, REQ_SITE_EDIT } },
};

/* Where the next line goes: line counts every line of the help, drawn or
 * not, so help_total knows the length. */
typedef struct help_out {
    int y;                       /* next screen row */
    int top, rows;               /* the body */
    int skip;                    /* lines scrolled off the top */
    int line;                    /* lines so far */
} help_out;

/* One line: keys in a 22-column bold cell and their help from column 26,
 * or (keys NULL) a heading, or (both NULL) a blank line. */
static void help_line(help_out *o, const char *keys, const char *text)
{
    if (o->line++ < o->skip || o->y >= o->top + o->rows)
        return;
    int cols = term_cols();
    if (keys) {
        char cell[256];
        ui_fmt_cell(keys, 22, false, cell, sizeof cell);
        term_put_bold(o->y, 2, 22, TA_NORMAL, cell);
        term_put(o->y, 26, cols - 26, TA_NORMAL, text);
    } else if (text) {
        term_put(o->y, 0, cols, TA_COLHEAD, text);
    }
    o->y++;
}

static void names_add(char *names, size_t cap, int key)
{
    char n[16];
    keys_name(key, n, sizeof n);
    size_t len = strlen(names);
    snprintf(names + len, cap - len, "%s%s", len ? ", " : "", n);
}

static bool is_printable(int key)
{
    return key >= 32 && key < 0x110000 && key != 127;
}

/* Whether view v takes key before the generic map sees it: its keymap, its
 * raw keys, and (a view with raw_key) every typed character, as the footer
 * has it. */
static bool view_takes(const view_ops *v, int key)
{
    if (!v)
        return false;
    if (keys_lookup(v->keys, key) != REQ_NONE || (v->raw_key && is_printable(key)))
        return true;
    for (const key_help *const *t = v->raw_help; t && *t; t++)
        for (const key_help *h = *t; h->help; h++)
            for (size_t i = 0; i < sizeof h->keys / sizeof h->keys[0]; i++)
                if (h->keys[i] && h->keys[i] == key)
                    return true;
    return false;
}

/* One line per request of map (in map order): every key bound to it, then
 * its help.  Keys the `shadow` view takes for itself are left out. */
static void help_section(help_out *o, const keybind *map, const view_ops *shadow)
{
    bool seen[REQ_COUNT] = { false };
    for (const keybind *k = map; k && k->req != REQ_NONE; k++) {
        if (seen[k->req])
            continue;
        seen[k->req] = true;
        char names[96] = "";
        for (const keybind *j = k; j->req != REQ_NONE; j++)
            if (j->req == k->req && !view_takes(shadow, j->key))
                names_add(names, sizeof names, j->key);
        if (names[0])
            help_line(o, names, ui_request_help(k->req));
    }
}

/* One line per entry of a key_help table. */
static void help_table(help_out *o, const key_help *table)
{
    for (const key_help *h = table; h->help; h++) {
        char names[96] = "";
        for (size_t i = 0; i < sizeof h->keys / sizeof h->keys[0]; i++)
            if (h->keys[i])
                names_add(names, sizeof names, h->keys[i]);
        help_line(o, names, h->help);
    }
}

/* One line per entry of the view's raw key tables. */
static void help_raw(help_out *o, const view_ops *v)
{
    for (const key_help *const *t = v->raw_help; t && *t; t++)
        help_table(o, *t);
}

/* "In the add/edit form (a, e, Enter)": the sub screen's keys and raw keys. */
static void help_sub_section(const app *a, help_out *o, const view_ops *from,
                             const struct help_sub *s)
{
    char keys[96] = "", title[160];
    for (const keybind *k = from->keys; k && k->req != REQ_NONE; k++)
        if (k->req == s->opened_by[0] || k->req == s->opened_by[1])
            names_add(keys, sizeof keys, k->key);
    snprintf(title, sizeof title, keys[0] ? "%s (%s)" : "%s", s->title, keys);
    help_line(o, NULL, NULL);
    help_line(o, NULL, title);
    const view_ops *sub = ui_view(a, s->sub);
    help_section(o, sub->keys, NULL);
    help_raw(o, sub);
}

/* Lines in the help of the screen last drawn (set by help_draw, which runs
 * before every key), so scrolling stops at the end and G goes there. */
static int help_total;

static void help_draw(app *a, int top, int rows)
{
    const view_ops *from = ui_view(a, a->help_from);
    help_out o = { .y = top, .top = top, .rows = rows, .skip = a->help_scroll };
    char title[96];
    snprintf(title, sizeof title, "Keys on the %s screen", from->title);
    help_line(&o, NULL, title);
    help_section(&o, from->keys, NULL);
    help_raw(&o, from);
    for (size_t i = 0; i < sizeof help_subs / sizeof help_subs[0]; i++)
        if (help_subs[i].from == a->help_from)
            help_sub_section(a, &o, from, &help_subs[i]);
    help_line(&o, NULL, NULL);
    help_line(&o, NULL, "Everywhere (mouse: click a row or a tab, wheel scrolls)");
    help_section(&o, keys_generic, from);
    /* The footer prompts (search, filters, find) edit a line as the form's
     * fields do, and keep their earlier answers. */
    help_line(&o, NULL, NULL);
    help_line(&o, NULL, "In a prompt (/ search, f, t, C filters, # find)");
    help_table(&o, prompt_key_help);
    help_table(&o, lineedit_key_help);
    help_total = o.line;
}
static ui_request help_handle(app *a, ui_request r)
{
    int max = help_total - ui_body_rows();
    if (max < 0)
        max = 0;
    switch (r) {
    case REQ_UP:
    case REQ_PAGE_UP:
    case REQ_HALF_UP:
        a->help_scroll -= r == REQ_UP ? 1 : ui_body_rows() / 2;
        if (a->help_scroll < 0)
            a->help_scroll = 0;
        return REQ_NONE;
    case REQ_DOWN:
    case REQ_PAGE_DOWN:
    case REQ_HALF_DOWN:
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

const view_ops view_help_ops = { .title = "Help", .keys = help_keys, .draw = help_draw,
                                 .handle = help_handle };
