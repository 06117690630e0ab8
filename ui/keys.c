/* keys.c - requests, their help texts and the generic keymap.
 *
 * Every request is declared once in UI_REQ_LIST (ui.h) with its help text;
 * the footer and the `?` overlay are generated from the keymaps, so a key is
 * never described in two places.
 */
#include <stdio.h>
#include <string.h>

#include "term.h"
#include "ui.h"

static const char *const req_help[REQ_COUNT] = {
#define UI_REQ_HELP(id, help) help,
    UI_REQ_LIST(UI_REQ_HELP)
#undef UI_REQ_HELP
};

const char *ui_request_help(ui_request r)
{
    return (r >= 0 && r < REQ_COUNT) ? req_help[r] : "";
}

/* Screen switching, help, quit and the navigation every screen shares.  A
 * view's own map is looked up first, so a view may take a key for itself
 * (the detail view turns `q` into Back, like less and tig). */
const keybind keys_generic[] = {
    { '?', REQ_HELP, "Help" },
    { TK_F1, REQ_HELP, NULL },
    { 'q', REQ_QUIT, "Quit" },
    { '1', REQ_VIEW_LOGS, NULL },
    { '2', REQ_VIEW_QUEUE, NULL },
    { '3', REQ_VIEW_SITES, NULL },
    { '\t', REQ_NEXT_VIEW, NULL },
    { TK_BTAB, REQ_PREV_VIEW, NULL },
    { TK_UP, REQ_UP, NULL },
    { 'k', REQ_UP, NULL },
    { TK_DOWN, REQ_DOWN, NULL },
    { 'j', REQ_DOWN, NULL },
    { TK_PPAGE, REQ_PAGE_UP, NULL },
    { TK_CTRL('b'), REQ_PAGE_UP, NULL },
    { TK_NPAGE, REQ_PAGE_DOWN, NULL },
    { TK_CTRL('f'), REQ_PAGE_DOWN, NULL },
    { ' ', REQ_PAGE_DOWN, NULL },
    { 'g', REQ_FIRST, NULL },
    { TK_HOME, REQ_FIRST, NULL },
    { 'G', REQ_LAST, NULL },
    { TK_END, REQ_LAST, NULL },
    { '\n', REQ_ENTER, NULL },
    { TK_CTRL('l'), REQ_REFRESH, NULL },
    { TK_F5, REQ_REFRESH, NULL },
    { 0, REQ_NONE, NULL },
};

ui_request keys_lookup(const keybind *map, int key)
{
    for (const keybind *k = map; k && k->req != REQ_NONE; k++)
        if (k->key == key)
            return k->req;
    return REQ_NONE;
}

ui_request keys_resolve(const keybind *view_map, int key)
{
    ui_request r = keys_lookup(view_map, key);
    return r != REQ_NONE ? r : keys_lookup(keys_generic, key);
}

void keys_name(int key, char *out, size_t outlen)
{
    static const struct {
        int key;
        const char *name;
    } names[] = {
        { TK_UP, "Up" }, { TK_DOWN, "Down" }, { TK_LEFT, "Left" }, { TK_RIGHT, "Right" },
        { TK_PPAGE, "PgUp" }, { TK_NPAGE, "PgDn" }, { TK_HOME, "Home" }, { TK_END, "End" },
        { TK_BACKSPACE, "Bksp" }, { TK_DELETE, "Del" }, { TK_BTAB, "S-Tab" },
        { TK_F1, "F1" }, { TK_F2, "F2" }, { TK_F5, "F5" }, { TK_ENTER, "Enter" },
        { '\n', "Enter" }, { '\t', "Tab" }, { ' ', "Space" }, { TK_ESC, "Esc" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (names[i].key == key) {
            snprintf(out, outlen, "%s", names[i].name);
            return;
        }
    }
    if (key > 0 && key < 32)
        snprintf(out, outlen, "^%c", key + '@');
    else if (key >= 32 && key < 127)
        snprintf(out, outlen, "%c", key);
    else
        snprintf(out, outlen, "#%d", key);
}
