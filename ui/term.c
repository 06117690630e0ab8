/* term.c - the only file that talks to curses (see term.h).
 *
 * DESIGN
 * One curses screen on the controlling terminal, drawn on stdscr and pushed
 * out with wnoutrefresh + doupdate so that a frame appears at once (curses
 * only sends the cells that changed: no flicker).  Keys are read with a
 * timeout so the main loop can poll the database between keystrokes.
 * SIGINT/SIGTERM/SIGHUP only set a flag: the loop sees TERM_KEY_SIGNAL and
 * quits the normal way, which restores the terminal; a crash restores it
 * from a signal handler (term_on_crash) before the process dies.
 */
#include "term.h"

#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "hd_sanitize.h"
#include "hd_sign.h"
#include "ui.h"

static SCREEN *term_screen;           /* NULL when curses is not running */
static bool term_is_utf8;             /* locale codeset is UTF-8 */
static bool term_has_colour;          /* colours in use (terminal can, NO_COLOR unset) */
static chtype attr_of[TA_COUNT];   /* curses attribute per term_attr */
static volatile sig_atomic_t term_signalled;  /* a quit signal arrived */

static void term_on_signal(int sig)
{
    (void)sig;
    term_signalled = 1;
}

/* A crash (abort from an allocation failure, a sanitizer report, a bug)
 * must not leave the operator's terminal in raw mode: restore it, then let
 * the signal do what it would have done (SA_RESETHAND re-arms the default).
 * endwin is not async-signal-safe; htop's CRT_handleSIGSEGV makes the same
 * trade because the process is dying anyway. */
static void term_on_crash(int sig)
{
    if (term_screen)
        endwin();
    raise(sig);
}

static void term_setup_attrs(void)
{
    /* Monochrome first: every attribute must read well without colour
     * (NO_COLOR, or a terminal without it). */
    attr_of[TA_NORMAL] = A_NORMAL;
    attr_of[TA_HEADER] = A_REVERSE;
    attr_of[TA_TAB] = A_BOLD;
    attr_of[TA_COLHEAD] = A_BOLD | A_UNDERLINE;
    attr_of[TA_SELECTED] = A_REVERSE;
    attr_of[TA_FOOTER] = A_REVERSE;
    attr_of[TA_KEY] = A_BOLD;
    attr_of[TA_DIM] = A_DIM;
    attr_of[TA_ERROR] = A_BOLD;
    attr_of[TA_OK] = A_NORMAL;
    attr_of[TA_QUEUED] = A_NORMAL;
    attr_of[TA_RESENT] = A_BOLD;
    attr_of[TA_DONE] = A_NORMAL;
    attr_of[TA_FAILED] = A_BOLD | A_UNDERLINE;
    attr_of[TA_SPARK] = A_NORMAL;
    attr_of[TA_POPUP] = A_NORMAL;
    if (!term_has_colour)
        return;
    static const struct {
        term_attr a;
        short fg, bg;
        chtype extra;
    } pairs[] = {
        { TA_HEADER, COLOR_BLACK, COLOR_CYAN, 0 },
        { TA_TAB, COLOR_WHITE, COLOR_BLUE, A_BOLD },
        { TA_COLHEAD, COLOR_CYAN, -1, A_BOLD },
        { TA_SELECTED, COLOR_BLACK, COLOR_CYAN, 0 },
        { TA_FOOTER, COLOR_BLACK, COLOR_WHITE, 0 },
        { TA_KEY, COLOR_BLUE, COLOR_WHITE, A_BOLD },
        { TA_ERROR, COLOR_RED, -1, A_BOLD },
        { TA_OK, COLOR_GREEN, -1, 0 },
        { TA_QUEUED, COLOR_CYAN, -1, 0 },
        { TA_RESENT, COLOR_YELLOW, -1, A_BOLD },
        { TA_DONE, COLOR_GREEN, -1, 0 },
        { TA_FAILED, COLOR_RED, -1, A_BOLD },
        { TA_SPARK, COLOR_GREEN, -1, 0 },
        { TA_POPUP, COLOR_WHITE, COLOR_BLUE, 0 },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        short n = (short)(i + 1);
        init_pair(n, pairs[i].fg, pairs[i].bg);
        attr_of[pairs[i].a] = COLOR_PAIR(n) | pairs[i].extra;
    }
}

hd_status term_init(hd_error *err)
{
    if (term_screen)
        return HD_OK;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
        return hd_error_set(err, HD_USAGE,
                            "console: stdin and stdout must be a terminal (use the CLI commands in scripts)");
    /* A terminal without cursor movement would show a blank screen. */
    const char *term = getenv("TERM");
    if (!term || !*term || strcmp(term, "dumb") == 0)
        return hd_error_set(err, HD_USAGE,
                            "console: the terminal (TERM=%s) cannot move the cursor; run it in a "
                            "full terminal, or use the CLI commands (hookdesk logs, queue, sites)",
                            term && *term ? term : "unset");
    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    term_is_utf8 = cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
    /* A short ESC delay: Esc closes things and must not feel sticky. */
    if (!getenv("ESCDELAY"))
        set_escdelay(25);
    term_screen = newterm(NULL, stdout, stdin);
    if (!term_screen)
        return hd_error_set(err, HD_USAGE, "console: cannot start curses on terminal '%s'",
                            getenv("TERM") ? getenv("TERM") : "(TERM unset)");
    set_term(term_screen);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    intrflush(stdscr, FALSE);
    leaveok(stdscr, TRUE);
    curs_set(0);

    /* Ctrl-S saves a form: take it back from XON/XOFF flow control. */
    struct termios tio;
    if (tcgetattr(STDIN_FILENO, &tio) == 0) {
        tio.c_iflag &= ~(tcflag_t)IXON;
        tcsetattr(STDIN_FILENO, TCSANOW, &tio);
        def_prog_mode();
    }

    const char *nc = getenv("NO_COLOR");
    term_has_colour = !(nc && *nc) && has_colors();
    if (term_has_colour) {
        start_color();
        use_default_colors();
    }
    term_setup_attrs();

    mousemask(BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = term_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = term_on_crash;
    sa.sa_flags = (int)SA_RESETHAND;
    sigaction(SIGABRT, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    return HD_OK;
}

void term_done(void)
{
    if (!term_screen)
        return;
    mousemask(0, NULL);
    curs_set(1);
    endwin();
    delscreen(term_screen);
    term_screen = NULL;
    fflush(stdout);
}

bool term_utf8(void)
{
    return term_is_utf8;
}

int term_rows(void)
{
    return term_screen ? LINES : 24;
}

int term_cols(void)
{
    return term_screen ? COLS : 80;
}

static int term_translate(int code)
{
    static const struct {
        int curses;
        int ours;
    } map[] = {
        { KEY_UP, TK_UP }, { KEY_DOWN, TK_DOWN }, { KEY_LEFT, TK_LEFT },
        { KEY_RIGHT, TK_RIGHT }, { KEY_PPAGE, TK_PPAGE }, { KEY_NPAGE, TK_NPAGE },
        { KEY_HOME, TK_HOME }, { KEY_END, TK_END }, { KEY_BACKSPACE, TK_BACKSPACE },
        { KEY_DC, TK_DELETE }, { KEY_BTAB, TK_BTAB }, { KEY_F(1), TK_F1 },
        { KEY_F(2), TK_F2 }, { KEY_F(5), TK_F5 }, { KEY_ENTER, '\n' },
        { KEY_A1, TK_HOME }, { KEY_C1, TK_END }, { KEY_A3, TK_PPAGE }, { KEY_C3, TK_NPAGE },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (map[i].curses == code)
            return map[i].ours;
    return TERM_KEY_NONE;
}

/* An Esc came: read what follows it until keys_escape knows what they are;
 * what it did not take is read again.  curses has already waited the Esc
 * delay for the bytes after an Esc (and keeps those that match no key of
 * TERM's), so the rest of a sequence is there at once: a short wait only
 * covers a sequence split on its way, and keeps a lone Esc quick. */
static int term_escape(void)
{
    int seq[KEYS_ESC_MAX], used = 0, key;
    wint_t raw[KEYS_ESC_MAX];
    int n = 0;
    int wait_ms = get_escdelay() < 10 ? get_escdelay() : 10;
    while ((key = keys_escape(seq, n, n == KEYS_ESC_MAX, &used)) == KEYS_ESC_MORE) {
        timeout(wait_ms);
        wint_t c;
        int r = get_wch(&c);
        bool other_key = r == KEY_CODE_YES && c != KEY_BACKSPACE;   /* a key of its own */
        if (other_key)
            ungetch((int)c);
        if (r == ERR || other_key) {
            key = keys_escape(seq, n, true, &used);
            break;
        }
        raw[n] = c;
        seq[n++] = r == KEY_CODE_YES ? TK_BACKSPACE : (int)c;
    }
    for (int i = n - 1; i >= used; i--)
        unget_wch(raw[i]);
    return key;
}

void term_read(int timeout_ms, term_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->key = TERM_KEY_NONE;
    if (term_signalled) {
        term_signalled = 0;
        ev->key = TERM_KEY_SIGNAL;
        return;
    }
    if (!term_screen)
        return;
    timeout(timeout_ms);
    wint_t ch;
    int r = get_wch(&ch);
    if (r == ERR) {
        if (term_signalled) {
            term_signalled = 0;
            ev->key = TERM_KEY_SIGNAL;
        }
        return;
    }
    if (r == KEY_CODE_YES) {
        if (ch == KEY_RESIZE) {
            ev->key = TERM_KEY_RESIZE;
        } else if (ch == KEY_MOUSE) {
            MEVENT me;
            if (getmouse(&me) != OK)
                return;
            ev->key = TERM_KEY_MOUSE;
            ev->mouse_y = me.y;
            ev->mouse_x = me.x;
            if (me.bstate & BUTTON4_PRESSED)
                ev->mouse_button = 4;
            else if (me.bstate & BUTTON5_PRESSED)
                ev->mouse_button = 5;
            else if (me.bstate & BUTTON1_PRESSED)
                ev->mouse_button = 1;
            else
                ev->key = TERM_KEY_NONE;
        } else {
            ev->key = term_translate((int)ch);
        }
        return;
    }
    if (ch == '\r')
        ch = '\n';
    if (ch == TK_ESC)
        ev->key = term_escape();
    else if (ch == 127 || ch == 8)
        ev->key = TK_BACKSPACE;
    else
        ev->key = (int)ch;
}

void term_erase(void)
{
    if (term_screen)
        erase();
}

static void term_put_attr(int y, int x, int width, chtype attr, const char *text)
{
    if (!term_screen || y < 0 || y >= LINES || x >= COLS)
        return;
    if (width <= 0 || x + width > COLS)
        width = COLS - x;
    if (width <= 0)
        return;
    attrset(attr);
    /* Outside a UTF-8 locale (LANG=C) curses would show each byte of a
     * character as "M-x": one '?' per character instead, as wide as the
     * views measured it (utf8_width counts one column per character). */
    char *folded = NULL;
    if (!term_is_utf8 && text) {
        folded = hd_xstrdup(text);
        text_ascii_fold(folded);
        text = folded;
    }
    size_t n = utf8_fit(text ? text : "", (size_t)width);
    mvaddnstr(y, x, text ? text : "", (int)n);
    free(folded);
    int cy, cx;
    getyx(stdscr, cy, cx);
    /* Pad to the width; after the last column the cursor may have wrapped. */
    if (cy == y)
        for (int i = cx; i < x + width && i < COLS; i++)
            mvaddch(y, i, ' ');
    attrset(A_NORMAL);
}

void term_put(int y, int x, int width, term_attr attr, const char *text)
{
    term_put_attr(y, x, width, attr_of[attr], text);
}

void term_put_bold(int y, int x, int width, term_attr attr, const char *text)
{
    term_put_attr(y, x, width, attr_of[attr] | A_BOLD, text);
}

void term_box(int y, int x, int h, int w, term_attr attr)
{
    if (!term_screen || h < 2 || w < 2)
        return;
    attrset(attr_of[attr]);
    for (int r = y; r < y + h && r < LINES; r++)
        mvhline(r, x, ' ', w);
    mvaddch(y, x, ACS_ULCORNER);
    mvhline(y, x + 1, ACS_HLINE, w - 2);
    mvaddch(y, x + w - 1, ACS_URCORNER);
    mvvline(y + 1, x, ACS_VLINE, h - 2);
    mvvline(y + 1, x + w - 1, ACS_VLINE, h - 2);
    mvaddch(y + h - 1, x, ACS_LLCORNER);
    mvhline(y + h - 1, x + 1, ACS_HLINE, w - 2);
    mvaddch(y + h - 1, x + w - 1, ACS_LRCORNER);
    attrset(A_NORMAL);
}

void term_cursor(int y, int x)
{
    if (!term_screen)
        return;
    if (y < 0) {
        leaveok(stdscr, TRUE);
        curs_set(0);
        return;
    }
    leaveok(stdscr, FALSE);
    curs_set(1);
    move(y, x);
}

void term_flush(void)
{
    if (!term_screen)
        return;
    wnoutrefresh(stdscr);
    doupdate();
}

void term_redraw_all(void)
{
    if (term_screen)
        clearok(curscr, TRUE);
}

/* ---- taking data out (export.c) ---- */

bool term_clipboard(const char *data, size_t len)
{
    if (!term_screen)
        return false;
    /* Ms is "\E]52;%p1%s;%p2%s\007" wherever it is defined: its presence
     * says the terminal takes OSC 52; the sequence is written directly
     * because tparm's string arguments are not meant for 100 KiB. */
    const char *ms = tigetstr("Ms");
    if (!ms || ms == (char *)-1)
        return false;
    char *b64 = base64_encode((const unsigned char *)data, len);
    fflush(stdout);
    fputs("\033]52;c;", stdout);
    fputs(b64, stdout);
    fputs("\007", stdout);
    fflush(stdout);
    free(b64);
    return true;
}

static bool term_suspended;

void term_suspend(void)
{
    if (!term_screen || term_suspended)
        return;
    def_prog_mode();
    endwin();
    fflush(stdout);
    term_suspended = true;
}

void term_resume(void)
{
    if (!term_screen || !term_suspended)
        return;
    term_suspended = false;
    term_signalled = 0;   /* a Ctrl-C typed in the other program was its own */
    reset_prog_mode();
    clearok(curscr, TRUE);
    refresh();
}
