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
    { TK_CTRL('p'), REQ_UP, NULL },
    { TK_CTRL('n'), REQ_DOWN, NULL },
    { TK_PPAGE, REQ_PAGE_UP, NULL },
    { TK_CTRL('b'), REQ_PAGE_UP, NULL },
    { TK_NPAGE, REQ_PAGE_DOWN, NULL },
    { TK_CTRL('f'), REQ_PAGE_DOWN, NULL },
    { ' ', REQ_PAGE_DOWN, NULL },
    { TK_CTRL('u'), REQ_HALF_UP, NULL },
    { TK_CTRL('d'), REQ_HALF_DOWN, NULL },
    { 'g', REQ_FIRST, NULL },
    { TK_HOME, REQ_FIRST, NULL },
    { 'G', REQ_LAST, NULL },
    { TK_END, REQ_LAST, NULL },
    { '\n', REQ_ENTER, NULL },
    { '#', REQ_FIND, NULL },
    { ':', REQ_FIND, NULL },
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
    if (key >= TK_ALT_BASE) {
        char base[16];
        keys_name(key - TK_ALT_BASE, base, sizeof base);
        snprintf(out, outlen, "Alt-%s", base);
    } else if (key > 0 && key < 32)
        snprintf(out, outlen, "^%c", key + '@');
    else if (key >= 32 && key < 127)
        snprintf(out, outlen, "%c", key);
    else
        snprintf(out, outlen, "#%d", key);
}

/* ---- escape sequences ----
 * curses decodes the sequences the terminfo entry of TERM lists; a terminal
 * that sends another one for the same key (Home as "\e[1~" under
 * TERM=xterm-256color, whose entry says "\eOH") reached the views as Esc,
 * '[', '1', '~': Esc cleared the Logs filter, '1' switched screens.  So
 * term_read hands every Esc curses returns to keys_escape with what follows
 * it, and the sequences of every common terminal are known here. */

/* CSI "\e[" or SS3 "\eO" + parameters + final byte: the key, TERM_KEY_NONE
 * when it is not one hookdesk reads. */
static int csi_key(int intro, int p1, int p2, int final)
{
    bool word = p2 == 3 || p2 == 5 || p2 == 7;   /* Alt, Ctrl: a word at a time */
    switch (final) {
    case 'A': return TK_UP;
    case 'B': return TK_DOWN;
    case 'C': return word ? TK_ALT('f') : TK_RIGHT;
    case 'D': return word ? TK_ALT('b') : TK_LEFT;
    case 'H': return TK_HOME;
    case 'F': return TK_END;
    case 'Z': return intro == '[' ? TK_BTAB : TERM_KEY_NONE;
    case 'P': return p1 <= 1 ? TK_F1 : TERM_KEY_NONE;
    case 'Q': return p1 <= 1 ? TK_F2 : TERM_KEY_NONE;
    case 'M': return intro == 'O' ? '\n' : TERM_KEY_NONE;   /* keypad Enter */
    case '~':
        switch (p1) {
        case 1: case 7: return TK_HOME;    /* VT220/screen/linux; rxvt */
        case 4: case 8: return TK_END;
        case 5: return TK_PPAGE;
        case 6: return TK_NPAGE;
        case 3: return TK_DELETE;
        case 11: return TK_F1;
        case 12: return TK_F2;
        case 15: return TK_F5;
        default: return TERM_KEY_NONE;    /* Insert, F6..F12, pasting marks */
        }
    default: return TERM_KEY_NONE;
    }
}

int keys_escape(const int *seq, int n, bool ended, int *used)
{
    *used = n;
    if (n == 0)
        return ended ? TK_ESC : KEYS_ESC_MORE;
    int first = seq[0];
    if (first == TK_ESC) {
        *used = 0;          /* Esc Esc: two Escs, the second read again */
        return TK_ESC;
    }
    if (first != '[' && first != 'O') {
        *used = 1;
        if (first == 127 || first == 8 || first == TK_BACKSPACE)
            return TK_ALT(TK_BACKSPACE);
        return first >= 0 && first < 0x110000 ? TK_ALT(first) : TERM_KEY_NONE;
    }
    if (n == 1)
        return ended ? TK_ALT(first) : KEYS_ESC_MORE;   /* Alt-[ or Alt-O alone */
    /* The linux console's F1..F5: "\e[[A".."\e[[E". */
    if (first == '[' && seq[1] == '[') {
        if (n == 2)
            return ended ? TERM_KEY_NONE : KEYS_ESC_MORE;
        return seq[2] == 'A' ? TK_F1 : seq[2] == 'B' ? TK_F2 : seq[2] == 'E' ? TK_F5
                                                                              : TERM_KEY_NONE;
    }
    /* X10 mouse report without curses: "\e[M" and three bytes, ignored. */
    if (first == '[' && seq[1] == 'M' && n < 5)
        return ended ? TERM_KEY_NONE : KEYS_ESC_MORE;
    if (first == '[' && seq[1] == 'M')
        return TERM_KEY_NONE;
    int last = seq[n - 1];
    if (last >= 0x20 && last <= 0x3f)   /* parameters, intermediates: more to come */
        return ended || n >= KEYS_ESC_MAX ? TERM_KEY_NONE : KEYS_ESC_MORE;
    if (last < 0x40 || last > 0x7e)
        return TERM_KEY_NONE;           /* not a sequence: swallowed */
    int p[2] = { 0, 0 }, np = 0;
    for (int i = 1; i < n - 1; i++) {
        if (seq[i] >= '0' && seq[i] <= '9') {
            if (np < 2)
                p[np] = p[np] * 10 + (seq[i] - '0');
            if (p[np < 2 ? np : 1] > 9999)
                return TERM_KEY_NONE;
        } else if (seq[i] == ';') {
            np++;
        } else {
            return TERM_KEY_NONE;       /* "\e[<..M" (SGR mouse), "\e[?..": not keys */
        }
    }
    return csi_key(first, p[0], p[1], last);
}
