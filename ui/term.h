/* term.h - the terminal behind one door.
 *
 * term.c is the only file of hookdesk that includes curses.  Everything the
 * console draws goes through these calls; the text handed to term_put must
 * already be sanitised (ui_fmt_cell / sanitize_dup) - term.c does not look
 * inside it.
 */
#ifndef HD_TERM_H
#define HD_TERM_H

#include <stdbool.h>
#include <stddef.h>

#include "hd_error.h"

/* Drawing attributes: a colour pair with a monochrome fallback each. */
typedef enum term_attr {
    TA_NORMAL,
    TA_HEADER,       /* top bar */
    TA_TAB,          /* the current screen's tab */
    TA_COLHEAD,      /* column titles */
    TA_SELECTED,     /* the selected row */
    TA_FOOTER,       /* the key bar */
    TA_KEY,          /* a key name in the footer */
    TA_DIM,          /* secondary text */
    TA_ERROR,        /* error messages */
    TA_OK,           /* success messages */
    TA_QUEUED,       /* status colours */
    TA_RESENT,
    TA_DONE,
    TA_FAILED,
    TA_SPARK,        /* the sparkline */
    TA_POPUP,        /* popup frame and text */
    TA_COUNT
} term_attr;

/* Special keys that are not curses codes. */
#define TERM_KEY_NONE   (-1)    /* timeout, nothing read */
#define TERM_KEY_RESIZE (-2)    /* the window changed size */
#define TERM_KEY_MOUSE  (-3)    /* see term_event.mouse_* */
#define TERM_KEY_SIGNAL (-4)    /* SIGINT/SIGTERM/SIGHUP arrived */

typedef struct term_event {
    int key;              /* Unicode character, TK_* or TERM_KEY_* */
    int mouse_y;          /* screen row of a click */
    int mouse_x;          /* screen column */
    int mouse_button;     /* 1 = left click, 4 = wheel up, 5 = wheel down */
} term_event;

/* Starts curses on the controlling terminal (UTF-8 locale, colours unless
 * NO_COLOR is set, mouse, keypad).  Fails (no terminal) without exiting. */
hd_status term_init(hd_error *err);
/* Restores the terminal; safe to call twice or without init. */
void term_done(void);

bool term_utf8(void);
int term_rows(void);
int term_cols(void);

/* Waits up to timeout_ms for one input event. */
void term_read(int timeout_ms, term_event *ev);

void term_erase(void);
/* Writes text at (y, x), at most `width` columns (text is cut by bytes that
 * the caller already fitted); the rest of the width is filled with spaces
 * in the same attribute.  width <= 0 means to the end of the line. */
void term_put(int y, int x, int width, term_attr attr, const char *text);
void term_put_bold(int y, int x, int width, term_attr attr, const char *text);
void term_box(int y, int x, int h, int w, term_attr attr);
/* Shows the cursor at (y, x), or hides it when y < 0. */
void term_cursor(int y, int x);
/* Pushes the frame out in one go (wnoutrefresh + doupdate: no flicker). */
void term_flush(void);
/* Forces a full repaint on the next flush (Ctrl-L). */
void term_redraw_all(void);

/* ---- taking data out (export.c) ---- */
/* Puts data on the terminal's clipboard with OSC 52 (base64), when the
 * terminal's terminfo entry says it takes it (the Ms capability: xterm,
 * tmux; tmux keeps it with `set -g set-clipboard on`).  False when TERM
 * has no Ms: nothing is sent. */
bool term_clipboard(const char *data, size_t len);
/* Hands the terminal to another program ($PAGER): the screen and modes as
 * the shell had them (def_prog_mode + endwin), then term_resume takes it
 * back and repaints everything.  A Ctrl-C meant for that program does not
 * reach the console's quit. */
void term_suspend(void);
void term_resume(void);

/* Key codes: characters are themselves; special keys are translated by
 * term_read into these (so keymaps are constant tables without curses). */
enum term_key {
    TK_UP = 0x110000,        /* beyond Unicode */
    TK_DOWN,
    TK_LEFT,
    TK_RIGHT,
    TK_PPAGE,
    TK_NPAGE,
    TK_HOME,
    TK_END,
    TK_BACKSPACE,
    TK_DELETE,
    TK_BTAB,                 /* Shift-Tab */
    TK_F1,
    TK_F2,
    TK_F5,
    TK_ENTER                 /* keypad Enter (Enter itself is '\n') */
};
#define TK_CTRL(c) ((c) & 0x1f)
#define TK_ESC 27
/* Alt (Meta) with a key: what a terminal sends as Esc then the key
 * (keys_escape).  TK_ALT('b'), TK_ALT(TK_BACKSPACE): never printable, so
 * a view that does not bind one ignores it. */
#define TK_ALT_BASE 0x200000
#define TK_ALT(k) (TK_ALT_BASE + (k))

#endif
