/* picker.c - the site picker of Logs' `f` prompt: Tab completes a site
 * name to what the matching names share, Tab again (or a Tab that cannot
 * complete more) opens a small list of the sites that match what is typed,
 * chosen with the arrows and Enter; typing filters it, Esc closes it.
 *
 * DESIGN
 * prompt.c hands it every key of the open prompt first and lets it draw
 * its list; view_logs.c attaches it to the `f` prompt.  It reads and sets
 * the prompt's text (app.prompt_text) as data and calls no console service
 * (prompt.c, app.c), so no file reaches itself through calls.  The names
 * are read once, when the prompt opens: sites are few.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "console.h"
#include "hd_sanitize.h"
#include "hd_util.h"
#include "term.h"
#include "ui.h"

#define PICKER_ROWS 8        /* names shown at once */

static struct site_picker {
    bool attached;           /* the open prompt is the `f` prompt */
    bool open;               /* its list is shown */
    char **names;            /* every site's name, sorted (read at attach) */
    int count;
    char **shown;            /* the names matching the prompt's text (borrowed) */
    int nshown;
    int cursor, top;         /* in shown */
} P;

static void picker_free(void)
{
    for (int i = 0; i < P.count; i++)
        free(P.names[i]);
    free(P.names);
    free(P.shown);
    memset(&P, 0, sizeof P);
}

static int cmp_name(const void *x, const void *y)
{
    return strcasecmp(*(char *const *)x, *(char *const *)y);
}

void site_picker_attach(app *a)
{
    picker_free();
    site_stats_list l = { 0 };
    hd_error err = { 0 };
    if (store_sites_states(a->st, &l, &err) != HD_OK)
        return;   /* no picker: the prompt still takes a name typed whole */
    P.names = hd_xmalloc(sizeof *P.names * (size_t)(l.count ? l.count : 1));
    P.shown = hd_xmalloc(sizeof *P.shown * (size_t)(l.count ? l.count : 1));
    for (int i = 0; i < l.count; i++)
        P.names[P.count++] = hd_xstrdup(l.items[i].s.name);
    site_stats_list_free(&l);
    qsort(P.names, (size_t)P.count, sizeof *P.names, cmp_name);
    P.attached = true;
}

/* The names that start with text (any case); when none does, those that
 * contain it. */
static void picker_match(const char *text)
{
    size_t n = strlen(text);
    P.nshown = 0;
    for (int i = 0; i < P.count; i++)
        if (strncasecmp(P.names[i], text, n) == 0)
            P.shown[P.nshown++] = P.names[i];
    for (int i = 0; P.nshown == 0 && n && i < P.count; i++)
        if (strcasestr(P.names[i], text))
            P.shown[P.nshown++] = P.names[i];
    if (P.cursor >= P.nshown)
        P.cursor = P.nshown ? P.nshown - 1 : 0;
    if (P.cursor < P.top)
        P.top = P.cursor;
    if (P.cursor >= P.top + PICKER_ROWS)
        P.top = P.cursor - PICKER_ROWS + 1;
}

static void prompt_set(app *a, const char *text)
{
    snprintf(a->prompt_text, sizeof a->prompt_text, "%s", text);
    a->prompt_cursor = strlen(a->prompt_text);
}

/* Tab: one match completes the name; several extend the text to what they
 * share, and open the list when they share nothing more. */
static void picker_complete(app *a)
{
    picker_match(a->prompt_text);
    if (P.nshown == 0) {   /* the list says "no match" (the prompt hides messages) */
        P.open = true;
        return;
    }
    if (P.nshown == 1) {
        prompt_set(a, P.shown[0]);
        return;
    }
    size_t common = strlen(P.shown[0]);
    for (int i = 1; i < P.nshown; i++) {
        size_t k = 0;
        while (k < common && P.shown[i][k] == P.shown[0][k])
            k++;
        common = k;
    }
    if (common > strlen(a->prompt_text) &&
        strncasecmp(P.shown[0], a->prompt_text, strlen(a->prompt_text)) == 0) {
        char part[256];
        snprintf(part, sizeof part, "%.*s", (int)common, P.shown[0]);
        prompt_set(a, part);
        return;
    }
    P.open = true;
    P.cursor = P.top = 0;
}

/* Keys of the open list: the arrows (and Tab) move, Enter takes the name
 * and answers the prompt, Esc closes the list only; typing filters it. */
static bool picker_list_key(app *a, int key)
{
    int c = P.cursor;
    switch (key) {
    case TK_UP: c--; break;
    case TK_DOWN: case '\t': c++; break;
    case TK_BTAB: c--; break;
    case TK_PPAGE: c -= PICKER_ROWS; break;
    case TK_NPAGE: c += PICKER_ROWS; break;
    case TK_HOME: c = 0; break;
    case TK_END: c = P.nshown - 1; break;
    case TK_ESC: P.open = false; return true;
    case '\n':
        if (P.nshown)
            prompt_set(a, P.shown[P.cursor]);
        P.open = P.attached = false;
        return false;   /* the prompt takes Enter: the filter is applied */
    default:
        return false;   /* text editing: the list follows what is typed */
    }
    if (key == '\t' && c >= P.nshown)
        c = 0;
    P.cursor = c < 0 ? 0 : c >= P.nshown ? P.nshown - 1 : c;
    if (P.cursor < P.top)
        P.top = P.cursor;
    if (P.cursor >= P.top + PICKER_ROWS)
        P.top = P.cursor - PICKER_ROWS + 1;
    return true;
}

bool site_picker_key(app *a, int key)
{
    if (!P.attached || !a->prompting) {
        if (P.attached || P.names)
            picker_free();
        return false;
    }
    if (P.open)
        return picker_list_key(a, key);
    if (key == '\t') {
        picker_complete(a);
        return true;
    }
    if (key == '\n' || key == TK_ESC || key == TK_CTRL('g'))
        P.attached = false;   /* the prompt ends: the picker goes with it */
    return false;
}

/* The list, just above the footer under the prompt's text. */
void site_picker_draw(app *a)
{
    if (!P.attached || !P.open || !a->prompting)
        return;
    picker_match(a->prompt_text);
    int rows = term_rows(), cols = term_cols();
    int shown = P.nshown < PICKER_ROWS ? P.nshown : PICKER_ROWS;
    int w = 24;
    for (int i = 0; i < P.nshown; i++) {
        int nw = (int)utf8_width(P.shown[i]) + 4;
        if (nw > w)
            w = nw;
    }
    if (w > cols - 2)
        w = cols - 2;
    int h = (shown ? shown : 1) + 2, y = rows - 1 - h;
    int x = (int)utf8_width(a->prompt_label);
    if (x + w > cols)
        x = cols - w;
    if (y < 0 || w < 8)
        return;
    term_box(y, x, h, w, TA_POPUP);
    char title[48];
    snprintf(title, sizeof title, " %d site%s ", P.nshown, P.nshown == 1 ? "" : "s");
    term_put(y, x + 2, (int)strlen(title), TA_POPUP, title);
    if (P.nshown == 0)
        term_put(y + 1, x + 1, w - 2, TA_POPUP, " no match");
    char cell[512];
    for (int i = 0; i < shown && P.top + i < P.nshown; i++) {
        const char *name = P.shown[P.top + i];
        char *clean = sanitize_dup(name, 0);
        char line[300];
        snprintf(line, sizeof line, " %s", clean);
        free(clean);
        ui_fmt_cell(line, w - 2, a->utf8, cell, sizeof cell);
        term_put(y + 1 + i, x + 1, w - 2, P.top + i == P.cursor ? TA_SELECTED : TA_POPUP, cell);
    }
}
