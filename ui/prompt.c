/* prompt.c - the console's modal bits: the footer's messages (flash), the
 * line prompt (edited with lineedit.c, as the form's fields are), the
 * yes/no question and the popup (a site test's answer).
 *
 * Views open them (ui_flash, ui_prompt, ui_confirm, ui_popup); console.c
 * routes keys to them while one is open and draws them.  Everything shown
 * is sanitised here: messages and questions often quote outside text (a
 * site name, a server error).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "hd_sanitize.h"
#include "hd_util.h"
#include "lineedit.h"
#include "term.h"
#include "ui.h"

#define FLASH_MS 4000        /* how long a footer message stays */

/* Formats into dst, sanitised. */
__attribute__((format(printf, 3, 0)))
static void format_clean(char *dst, size_t size, const char *fmt, va_list ap)
{
    char raw[1024];
    vsnprintf(raw, sizeof raw, fmt, ap);
    char *clean = sanitize_dup(raw, 0);
    snprintf(dst, size, "%s", clean);
    free(clean);
}

/* ---- footer message ---- */

void ui_flash(app *a, bool error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    format_clean(a->flash, sizeof a->flash, fmt, ap);
    va_end(ap);
    a->flash_error = error;
    a->flash_until = hd_mono_ms() + FLASH_MS;
}

/* Operator writes waiting for a busy database (ui_act): said for as long
 * as they wait, above any other message. */
static bool acts_draw(const app *a, int y, int cols)
{
    if (a->nacts == 0)
        return false;
    char line[320];
    int64_t secs = (hd_mono_ms() - a->acts_since) / 1000;
    int n = snprintf(line, sizeof line, "database busy, retrying");
    if (secs > 0)
        n += snprintf(line + n, sizeof line - (size_t)n, " (%llds)", (long long)secs);
    snprintf(line + n, sizeof line - (size_t)n, ": %s%s (Esc cancels)", a->acts[0].what,
             a->nacts > 1 ? " and more" : "");
    term_put_bold(y, 0, cols, TA_ERROR, line);
    return true;
}

bool flash_draw(const app *a, int y, int cols)
{
    if (acts_draw(a, y, cols))
        return true;
    if (!a->flash[0] || hd_mono_ms() >= a->flash_until)
        return false;
    term_put(y, 0, cols, a->flash_error ? TA_ERROR : TA_OK, a->flash);
    return true;
}

/* ---- line prompt and yes/no question ---- */

void ui_prompt(app *a, const char *label, const char *initial, ui_prompt_fn cb)
{
    a->prompting = true;
    snprintf(a->prompt_label, sizeof a->prompt_label, "%s", label);
    snprintf(a->prompt_text, sizeof a->prompt_text, "%s", initial ? initial : "");
    a->prompt_cursor = strlen(a->prompt_text);
    a->prompt_cb = cb;
    a->hist_at = -1;
}

/* This kind's history; with `make`, a slot for it (the least used one
 * goes when all are taken: kinds are few, so this does not happen). */
static ui_prompt_history *history_of(app *a, ui_prompt_fn kind, bool make)
{
    ui_prompt_history *free_slot = NULL;
    for (int i = 0; i < UI_HIST_KINDS; i++) {
        if (a->prompt_hist[i].kind == kind)
            return &a->prompt_hist[i];
        if (!a->prompt_hist[i].kind && !free_slot)
            free_slot = &a->prompt_hist[i];
    }
    if (!make)
        return NULL;
    if (!free_slot) {
        free_slot = &a->prompt_hist[UI_HIST_KINDS - 1];
        for (int i = 0; i < free_slot->count; i++)
            free(free_slot->items[i]);
        free_slot->count = 0;
    }
    free_slot->kind = kind;
    return free_slot;
}

/* An answer joins its kind's history (not twice in a row, never empty). */
static void history_add(app *a, ui_prompt_fn kind, const char *text)
{
    if (!*text)
        return;
    ui_prompt_history *h = history_of(a, kind, true);
    if (h->count && strcmp(h->items[h->count - 1], text) == 0)
        return;
    if (h->count == UI_HIST_MAX) {
        free(h->items[0]);
        memmove(h->items, h->items + 1, (UI_HIST_MAX - 1) * sizeof h->items[0]);
        h->count--;
    }
    h->items[h->count++] = hd_xstrdup(text);
}

/* Up (older, dir 1) or Down (newer, dir -1) through this prompt's history;
 * below the newest entry is what was being typed. */
static void history_move(app *a, int dir)
{
    ui_prompt_history *h = history_of(a, a->prompt_cb, false);
    int count = h ? h->count : 0;
    int to = a->hist_at + dir;
    if (to >= count || to < -1)
        return;
    if (a->hist_at == -1)
        snprintf(a->prompt_draft, sizeof a->prompt_draft, "%s", a->prompt_text);
    a->hist_at = to;
    snprintf(a->prompt_text, sizeof a->prompt_text, "%s",
             to < 0 ? a->prompt_draft : h->items[count - 1 - to]);
    a->prompt_cursor = strlen(a->prompt_text);
}

void prompt_free(app *a)
{
    for (int i = 0; i < UI_HIST_KINDS; i++) {
        for (int j = 0; j < a->prompt_hist[i].count; j++)
            free(a->prompt_hist[i].items[j]);
        memset(&a->prompt_hist[i], 0, sizeof a->prompt_hist[i]);
    }
}

const key_help prompt_key_help[] = {
    { { TK_UP, TK_DOWN, TK_CTRL('p'), TK_CTRL('n') }, "Earlier / later answers to this prompt" },
    { { '\n' }, "Answer" },
    { { TK_ESC, TK_CTRL('g') }, "Cancel the prompt" },
    { { 0 }, NULL },
};

void prompt_key(app *a, int key)
{
    if (site_picker_key(a, key))   /* picker.c: the `f` prompt's site picker */
        return;
    if (key == TK_ESC || key == TK_CTRL('g')) {
        a->prompting = false;
    } else if (key == '\n') {
        a->prompting = false;
        char text[sizeof a->prompt_text];
        memcpy(text, a->prompt_text, sizeof text);
        history_add(a, a->prompt_cb, text);
        a->flash[0] = '\0';   /* an earlier message no longer applies to the answer */
        a->prompt_cb(a, text);
        a->need_refresh = true;
    } else if (key == TK_UP || key == TK_CTRL('p')) {
        history_move(a, 1);
    } else if (key == TK_DOWN || key == TK_CTRL('n')) {
        history_move(a, -1);
    } else {
        lineedit_key(a->prompt_text, sizeof a->prompt_text, &a->prompt_cursor, key);
    }
}

void ui_confirm(app *a, ui_confirm_fn cb, int64_t arg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    format_clean(a->confirm_text, sizeof a->confirm_text, fmt, ap);
    va_end(ap);
    a->confirming = true;
    a->confirm_cb = cb;
    a->confirm_arg = arg;
}

void confirm_key(app *a, int key)
{
    a->confirming = false;
    a->flash[0] = '\0';
    if (key == 'y' || key == 'Y')
        a->confirm_cb(a, a->confirm_arg);
    else
        ui_flash(a, false, "cancelled");
    a->need_refresh = true;
}

/* Columns of label + text up to the cursor, as drawn (sanitised). */
static size_t prompt_cursor_column(const app *a)
{
    char line[512];
    snprintf(line, sizeof line, "%s%.*s", a->prompt_label, (int)a->prompt_cursor, a->prompt_text);
    char *clean = sanitize_dup(line, 0);
    size_t w = utf8_width(clean);
    free(clean);
    return w;
}

bool prompt_draw(app *a, int y, int cols)
{
    if (a->prompting) {
        site_picker_draw(a);   /* picker.c: its list, when open */
        char line[512];
        snprintf(line, sizeof line, "%s%s", a->prompt_label, a->prompt_text);
        char *clean = sanitize_dup(line, 0);
        term_put(y, 0, cols, TA_NORMAL, clean);
        free(clean);
        size_t w = prompt_cursor_column(a);
        a->cursor_y = y;
        a->cursor_x = (int)(w < (size_t)cols ? w : (size_t)cols - 1);
        return true;
    }
    if (a->confirming) {
        char line[320];
        snprintf(line, sizeof line, "%s [y/N]", a->confirm_text);
        term_put_bold(y, 0, cols, TA_ERROR, line);
        return true;
    }
    return false;
}

/* ---- popup (site test result) ---- */

void ui_popup(app *a, const char *title, const char *body)
{
    char *t = sanitize_dup(title, 0);
    snprintf(a->popup_title, sizeof a->popup_title, "%s", t);
    free(t);
    hd_buf_reset(&a->popup_body);
    sanitize_append(&a->popup_body, body, strlen(body), SANITIZE_KEEP_NEWLINES);
    a->popup = true;
    a->popup_scroll = 0;
}

void popup_close(app *a)
{
    a->popup = false;
    /* A test still waiting for its answer keeps running: freeing it joins
     * its thread, which would freeze the keys for up to the site timeout.
     * The main loop shows its result when it comes. */
    if (a->test && sitetest_poll(a->test, NULL)) {
        sitetest_free(a->test);
        a->test = NULL;
    }
}

/* How many bytes of s (n bytes, no newline) fill one popup row of `width`
 * columns: a long header or body line wraps instead of being cut. */
static size_t popup_row_bytes(const char *s, size_t n, int width)
{
    char *part = hd_xstrndup(s, n);
    size_t take = utf8_fit(part, width > 0 ? (size_t)width : 1);
    free(part);
    if (take == 0 && n)   /* a character wider than the row: take it anyway */
        take = n < 4 ? n : 4;
    return take;
}

/* The popup's rows once its lines are wrapped to its text width. */
static int popup_rows(const app *a, int width)
{
    int rows = 0;
    const char *p = hd_buf_str(&a->popup_body);
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t off = 0;
        do {
            off += popup_row_bytes(p + off, len - off, width);
            rows++;
        } while (off < len);
        p += len + (nl ? 1 : 0);
    }
    return rows ? rows : 1;
}

/* The popup's body shows rows y0+1 .. y0+h-3 of its box (see popup_draw):
 * scrolling stops when its last row is on screen. */
static int popup_max_scroll(const app *a)
{
    int shown = term_rows() - 4 - 3;
    int lines = popup_rows(a, term_cols() - 6 - 4);
    return lines > shown && shown > 0 ? lines - shown : 0;
}

void popup_key(app *a, int key)
{
    int max = popup_max_scroll(a), page = term_rows() - 4 - 3 - 1;
    if (page < 1)
        page = 1;
    int to = a->popup_scroll;
    if (key == 'j' || key == TK_DOWN)
        to++;
    else if (key == 'k' || key == TK_UP)
        to--;
    else if (key == TK_NPAGE || key == ' ')
        to += page;
    else if (key == TK_PPAGE)
        to -= page;
    else if (key == 'g' || key == TK_HOME)
        to = 0;
    else if (key == 'G' || key == TK_END)
        to = max;
    else if (key == TK_ESC || key == '\n' || key == 'q')
        popup_close(a);
    a->popup_scroll = to < 0 ? 0 : to > max ? max : to;
}

void popup_draw(const app *a)
{
    int rows = term_rows(), cols = term_cols();
    int h = rows - 4, w = cols - 6;
    if (h < 5 || w < 20)
        return;
    int y0 = 2, x0 = 3;
    term_box(y0, x0, h, w, TA_POPUP);
    char title[160];
    snprintf(title, sizeof title, " %s ", a->popup_title);
    term_put_bold(y0, x0 + 2, (int)utf8_width(title) < w - 4 ? (int)utf8_width(title) : w - 4,
                  TA_POPUP, title);
    const char *p = hd_buf_str(&a->popup_body);
    int line = 0, y = y0 + 1;
    while (*p && y < y0 + h - 2) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t off = 0;
        do {   /* a long line wraps onto the next rows */
            size_t take = popup_row_bytes(p + off, len - off, w - 4);
            if (line >= a->popup_scroll && y < y0 + h - 2) {
                char *one = hd_xstrndup(p + off, take);
                char cell[1024];
                ui_fmt_cell(one, w - 4, a->utf8, cell, sizeof cell);
                term_put(y++, x0 + 2, w - 4, TA_POPUP, cell);
                free(one);
            }
            line++;
            off += take;
        } while (off < len);
        p += len + (nl ? 1 : 0);
    }
    term_put(y0 + h - 2, x0 + 2, w - 4, TA_POPUP, "Esc/Enter closes, j/k, PgUp/PgDn, Space, g/G scroll");
}
