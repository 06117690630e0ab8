/* ui.h - the console's shared types: requests, keymaps, views, the app.
 *
 * DESIGN
 * Screens are data: every screen is a `view_ops` table in its own file
 * (view_logs.c, view_queue.c, ...) listed once in UI_VIEW_LIST.  Keys are
 * data: every operator request is declared once in UI_REQ_LIST with its help
 * text; keymaps map keys to requests per view plus one generic map; the
 * footer and the `?` overlay are generated from those tables.
 *
 * A view's handle() returns the requests it does not handle; the shared
 * loop in console.c then does navigation, screen switching, help and quit.
 *
 * Files: console.c owns the loop, the header, the footer's keys and the
 * table of views, and calls the views through it.  The views (and list.c)
 * call the console's services in app.c (screens, the sites' state) and
 * prompt.c (messages, prompts, questions, the popup), never console.c; a
 * view reaches the table of views only as data (ui_view, app.views).  Two
 * views call another's entry point (the detail: ui_ask_resend and
 * ui_filter_customer of Logs; Sites: form_begin), never the other way.
 *
 * Threads: everything here runs on the UI thread, which owns one store
 * connection (app.st).  The delivery engine runs in its own thread with its
 * own connection; the UI only talks to it through engine_* calls.
 *
 * The pure helpers at the end (ui_fmt_*, ui_spark_*, ui_filter_*, keys_*)
 * do not touch curses so the unit tests can check them directly.
 */
#ifndef HD_UI_H
#define HD_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hd_config.h"
#include "hd_engine.h"
#include "hd_site.h"
#include "hd_sitetest.h"
#include "hd_store.h"
#include "hd_util.h"
#include "lineedit.h"
#include "term.h"

/* ---- requests (keys as data) ---- */
#define UI_REQ_LIST(_)                                              \
    _(NONE,          "")                                            \
    _(QUIT,          "Quit (after in-flight attempts finish)")      \
    _(BACK,          "Back / close")                                \
    _(HELP,          "Show this help")                              \
    _(VIEW_LOGS,     "Logs screen")                                 \
    _(VIEW_QUEUE,    "Queue screen")                                \
    _(VIEW_SITES,    "Trusted sites screen")                        \
    _(NEXT_VIEW,     "Next screen")                                 \
    _(PREV_VIEW,     "Previous screen")                             \
    _(UP,            "Move up")                                     \
    _(DOWN,          "Move down")                                   \
    _(PAGE_UP,       "Page up")                                     \
    _(PAGE_DOWN,     "Page down")                                   \
    _(HALF_UP,       "Half a page up")                              \
    _(HALF_DOWN,     "Half a page down")                            \
    _(FIRST,         "First line")                                  \
    _(LAST,          "Last line")                                   \
    _(ENTER,         "Open the selected line")                      \
    _(REFRESH,       "Reload and redraw")                           \
    _(FIND,          "Find a message by number or webhook-id (msg_...)") \
    _(FILTER_STATUS, "Cycle the status filter")                     \
    _(FILTER_SITE,   "Filter by trusted site")                      \
    _(FILTER_CUST,   "Show all messages of this customer")          \
    _(FILTER_CUST_ASK, "Filter by customer (prompt)")               \
    _(SEARCH,        "Search action, customer and payload (n, N)")  \
    _(FILTER_ACTION, "Filter by action text (a substring)")         \
    _(FILTER_TIME,   "Filter by time range")                        \
    _(FILTER_CLEAR,  "Clear all filters")                           \
    _(RESEND,        "Resend this message")                         \
    _(RESEND_ALL,    "Resend all Failed under the filter")          \
    _(SEND_NOW,      "Send now")                                    \
    _(CANCEL_MSG,    "Cancel this message")                         \
    _(SITE_ADD,      "Add a trusted site")                          \
    _(SITE_EDIT,     "Edit the trusted site")                       \
    _(SITE_DELETE,   "Delete the trusted site")                     \
    _(SITE_PAUSE,    "Pause / resume the trusted site")             \
    _(SITE_TEST,     "Test: send a ping")                           \
    _(FOLLOW_LINK,   "Open the linked message; Back returns") \
    _(NEXT_LINK,     "Next link (no links: next screen)")      \
    _(TEXT_SEARCH,   "Search the text of this page")                \
    _(TEXT_NEXT,     "Next match")                                  \
    _(TEXT_PREV,     "Previous match")                              \
    _(COPY,          "Copy the payload or the body on screen (OSC 52)") \
    _(PAGER,         "Open the payload or the body on screen in $PAGER")    \
    _(SAVE_AS,       "Save the payload or the body on screen to a file") \
    _(SAVE,          "Save the form")                               \
    _(NEXT_FIELD,    "Next field")                                  \
    _(PREV_FIELD,    "Previous field")                              \
    _(FIELD_ENTER,   "Next field (on Save: save)")                  \
    _(FORM_CANCEL,   "Cancel: close the form, nothing saved")

typedef enum ui_request {
#define UI_REQ_ENUM(id, help) REQ_##id,
    UI_REQ_LIST(UI_REQ_ENUM)
#undef UI_REQ_ENUM
    REQ_COUNT
} ui_request;

const char *ui_request_help(ui_request r);

/* One binding: a key (curses key code or character) and what it asks for.
 * `brief` is the footer label; entries with brief == NULL are only in `?`. */
typedef struct keybind {
    int key;                 /* 'q', KEY_DOWN, ... */
    ui_request req;          /* what it asks for */
    const char *brief;       /* short footer label ("Resend"), NULL = help only */
} keybind;

/* A keymap is an array ending with {0, REQ_NONE, NULL}. */
ui_request keys_lookup(const keybind *map, int key);
/* Looks in the view's map first, then in the generic map. */
ui_request keys_resolve(const keybind *view_map, int key);
/* "q", "Enter", "PgDn", "^S", "F2", "Alt-b"... into out. */
void keys_name(int key, char *out, size_t outlen);
/* What an Esc the terminal sent is, with the keys read after it: seq[0..n)
 * (characters; TK_BACKSPACE for a Backspace curses recognised), `ended`
 * when nothing more came within the wait.  Returns KEYS_ESC_MORE while a
 * longer sequence may follow (read one more key, or call again with
 * ended); else the key (TK_ESC alone, TK_ALT(c) for Esc + a key, TK_HOME
 * for "\e[1~", ...; TERM_KEY_NONE for a sequence to ignore) with *used,
 * how many of seq it took: the others are keys of their own, read again.
 * Every terminal's Home/End/PgUp/PgDn/arrows/F1/F2/F5/Delete/Shift-Tab is
 * known (xterm, rxvt, screen/tmux, linux console, VT220), whatever TERM
 * says; any other sequence is swallowed whole, never read as keys. */
#define KEYS_ESC_MORE (-100)
#define KEYS_ESC_MAX 16   /* longest sequence read; longer ones are dropped */
int keys_escape(const int *seq, int n, bool ended, int *used);
extern const keybind keys_generic[];

/* ---- views (screens as data) ---- */
#define UI_VIEW_LIST(_)          \
    _(LOGS,   logs,   "Logs")    \
    _(QUEUE,  queue,  "Queue")   \
    _(SITES,  sites,  "Sites")   \
    _(DETAIL, detail, "Detail")  \
    _(HELP,   help,   "Help")    \
    _(FORM,   form,   "Site form")

typedef enum ui_view_id {
#define UI_VIEW_ENUM(id, file, title) VIEW_##id,
    UI_VIEW_LIST(UI_VIEW_ENUM)
#undef UI_VIEW_ENUM
    VIEW_COUNT
} ui_view_id;

struct app;

typedef struct view_ops {
    const char *title;                                /* shown in the header */
    const keybind *keys;                              /* the view's own keymap */
    void (*open)(struct app *a);                      /* the view becomes current */
    void (*refresh)(struct app *a);                   /* re-query (data changed or resized) */
    void (*draw)(struct app *a, int top, int rows);   /* draw the body lines [top, top+rows) */
    ui_request (*handle)(struct app *a, ui_request r);/* returns what it did not handle */
    bool (*raw_key)(struct app *a, int key);          /* text input before keymaps; true = used */
    void (*click)(struct app *a, int row);            /* mouse click on body row `row` */
    void (*tick)(struct app *a);                      /* every loop turn (polls) */
    const struct key_help *const *raw_help;           /* what raw_key reads: key_help
                                                         tables (lineedit.h), NULL-ended;
                                                         listed by `?` */
} view_ops;

#define UI_VIEW_EXTERN(id, file, title) extern const view_ops view_##file##_ops;
UI_VIEW_LIST(UI_VIEW_EXTERN)
#undef UI_VIEW_EXTERN

/* console.c: every view, in UI_VIEW_LIST order (what app.views points at). */
extern const view_ops *const ui_views[VIEW_COUNT];

/* ---- the message list (Logs, Queue): keyset paging over the store ---- */
typedef struct msg_list {
    message_list page;       /* the visible rows only, newest first */
    int cursor;              /* selected row index in page */
    int rows;                /* how many rows fit on the screen */
    int64_t anchor_id;       /* id of the first visible row (PAGE_AT) */
    bool follow;             /* at the newest end: new rows push in at the top */
    bool more_below;         /* older rows exist past the page */
    /* "row 71 of 20,000": kept as the list moves, counted (bounded by
     * UI_COUNT_CAP) when the filter or the data changed */
    int64_t pos;             /* rows newer than the first visible one, -1 unknown */
    bool pos_more;           /* pos is at least this (the count stopped at the cap) */
    int64_t total;           /* rows under the filter, -1 unknown */
    bool total_more;         /* total is at least this */
    bool recount;            /* count again at the next reload (filter changed) */
    bool count_due;          /* msg_list_count has counting to do */
    uint64_t counted_cc;     /* change_counter the counts were made at */
    int64_t counted_ms;      /* when (monotonic), 0 = never */
} msg_list;

#define UI_COUNT_CAP 20000
#define UI_MARKS_MAX 512     /* Logs rows a search marks, at most (taller screens: the rest unmarked) */   /* rows a count looks at, at most (store_messages_count_upto) */

/* ---- filters ---- */
typedef struct ui_filter {
    unsigned status_mask;    /* MSG_STATUS_BIT()s, 0 = any */
    int64_t site_id;         /* 0 = any */
    char *site_name;         /* for display */
    char *customer;          /* exact */
    char *action;            /* substring */
    int64_t since_ms;        /* 0 = open */
    int64_t until_ms;        /* 0 = open */
} ui_filter;

void ui_filter_clear(ui_filter *f);
/* A deep copy of f (malloc'd strings). */
void ui_filter_copy(ui_filter *dst, const ui_filter *f);
bool ui_filter_active(const ui_filter *f);
/* The store's view of f (borrowing its strings). */
void ui_filter_to_msg(const ui_filter *f, msg_filter *out);
/* Any -> Queued -> Resent -> Done -> Failed -> any. */
void ui_filter_cycle_status(ui_filter *f);
/* "status=failed site=demo-ok customer=cus_001 action~order since 2026-..";
 * sanitised, "" when inactive. */
void ui_filter_describe(const ui_filter *f, char *out, size_t outlen);
/* One end of a time range as the operator would type it back: a date alone
 * for a local midnight (for an end, the last day it includes), else the
 * local date and time. */
void ui_range_end_text(int64_t ms, bool end, char out[32]);
/* "SINCE[..UNTIL]" e.g. "1h", "2026-11-01..2026-11-30", "..2026-11-01":
 * each end a date or a duration ago (duration_parse_when), blank = open.
 * A date alone as the end includes that day (*until = the next midnight);
 * a date alone without ".." is that one day.
 * Returns false with *why on bad text. */
bool ui_parse_range(const char *text, int64_t now_ms, int64_t *since, int64_t *until,
                    const char **why);

/* ---- formatting ---- */
/* Sanitises s, cuts it to `width` columns (marking a cut with "~" or "…")
 * and pads with spaces to exactly `width` columns. */
void ui_fmt_cell(const char *s, int width, bool utf8, char *out, size_t outlen);
/* 20000 -> "20,000". */
void ui_fmt_thousands(int64_t n, char *out, size_t outlen);
/* Where the selection is in a list: "row 71 of 20,000", "row 71 of
 * 20,000+" (the total is a lower bound), "row 20,001+ of 20,000+", "row ?
 * of 1,234" (not known); "" for an empty list. */
void ui_fmt_position(const msg_list *l, char *out, size_t outlen);
/* Column widths for a table `cols` wide (one space between columns):
 * want[i] is what column i holds at its widest (its title included),
 * min[i] the least it may shrink to.  Every column gets what it wants
 * when that fits and the column `grow` gets what is left; else the
 * widest ones give up columns, down to their minimum. */
void ui_fit_columns(const int *want, const int *min, int n, int cols, int grow, int *w);
/* Next-attempt column: "sending", "now", "4s", "2m05s", "-" (finished). */
void ui_fmt_next(const message *m, int64_t now_ms, char *out, size_t outlen);
/* Why a pending message waits (queue_state_of's verdict), for the Queue's
 * Next column and the detail: ui_fmt_next's text, or "paused" (paused: its
 * site is), "circuit open, probe in 7s" / "circuit open, probing" (c: its
 * site's circuit, NULL when circuits do not apply), "in 59m (Retry-After)"
 * (the receiver asked for that wait).  When that is wider than `width`
 * columns (> 0), a short form: "circuit open 7s", "circuit probing",
 * "59m Retry-After". */
void ui_fmt_wait(const message *m, bool paused, const circuit *c, int64_t now_ms, int width,
                 char *out, size_t outlen);
/* A circuit in words: "closed", "open, probe in 7s", "open, probe due",
 * "open, probing". */
void ui_fmt_circuit_state(const circuit *c, int64_t now_ms, char *out, size_t outlen);
/* The Sites screen's circuit column: "closed", "open 7s" (till the probe),
 * "open" (probe due), "probing". */
void ui_fmt_circuit(const circuit *c, int64_t now_ms, char *out, size_t outlen);
/* A status's colour (the counters, Logs and Queue). */
term_attr ui_status_attr(msg_status s);
/* "83%" or "-" when no recent attempts. */
void ui_fmt_rate(int ok, int total, char *out, size_t outlen);

/* ---- sparkline ---- */
/* Level 0..8 for each value (0 = nothing, 1..8 = the eight bar heights,
 * scaled to the maximum). */
void ui_spark_levels(const uint32_t *v, int n, int *levels);
/* Renders levels as ▁▂▃▄▅▆▇█ (or " .:-=+*#" without UTF-8) into out. */
void ui_spark_render(const uint32_t *v, int n, bool utf8, char *out, size_t outlen);

/* ---- the application ---- */
#define UI_SPARK_BUCKETS 60       /* sparkline buckets */
#define UI_SPARK_BUCKET_MS 5000   /* of 5 s: the last 5 minutes */
#define UI_HEADER_ROWS 2          /* tabs and engine state; counters and sparkline */
#define UI_FOOTER_ROWS 1          /* keys, messages, prompts */

typedef void (*ui_prompt_fn)(struct app *a, const char *text);
typedef void (*ui_confirm_fn)(struct app *a, int64_t arg);

/* A prompt's earlier answers for Up/Down, kept for the session.  A prompt's
 * kind is its callback: the search, the time range, find... each have
 * their own. */
#define UI_HIST_KINDS 8           /* prompt kinds remembered */
#define UI_HIST_MAX 32            /* answers kept per kind */
typedef struct ui_prompt_history {
    ui_prompt_fn kind;           /* whose answers; NULL = a free slot */
    char *items[UI_HIST_MAX];    /* oldest first, malloc'd */
    int count;
} ui_prompt_history;

/* ---- operator writes that never make the keys wait (app.c) ----
 * The UI's connection gives up on the write lock after UI_BUSY_TIMEOUT_MS.
 * An operator's write (pause, resend, cancel...) goes through ui_act: run
 * at once; when another process holds the lock (HD_BUSY) it is kept, in
 * order, and tried again every loop turn while the footer says "database
 * busy, retrying", until it is done or the operator cancels it (Esc). */
#define UI_BUSY_TIMEOUT_MS 20     /* longest a key waits for the write lock */
#define UI_SEARCH_BUDGET 1000000  /* SQLite VM steps a search query may take (store_set_search_budget) */
#define UI_ACTS_MAX 8             /* writes kept while the database is busy */

struct ui_act;
/* The write itself: HD_BUSY = nothing done, try again. */
typedef hd_status (*ui_act_run_fn)(struct app *a, struct ui_act *act, hd_error *err);
/* Says how it went (rc HD_OK or a real error, never HD_BUSY). */
typedef void (*ui_act_done_fn)(struct app *a, const struct ui_act *act, hd_status rc,
                               const hd_error *err);

typedef struct ui_act {
    char what[96];               /* "pause ok": named by the busy footer, sanitised */
    ui_act_run_fn run;           /* the store write */
    ui_act_done_fn done;         /* reports it; NULL = an error message only */
    int64_t id;                  /* the message or site it acts on */
    int64_t arg;                 /* its argument (enable flag, expected count) */
    int64_t out[2];              /* what the write produced (new id, counts) */
    char name[72];               /* a name done() says (the site's) */
    struct ui_filter *filter;    /* a bulk action's own copy of the filter, or NULL */
} ui_act;

typedef struct app {
    const view_ops *const *views; /* the table of views (ui_views), by ui_view_id */
    const config *cfg;           /* loaded configuration (owned by the CLI) */
    store *st;                   /* the UI thread's own connection */
    engine *eng;                 /* NULL with --no-deliver */
    bool utf8;                   /* terminal speaks UTF-8 */
    ui_view_id view;             /* current screen */
    ui_view_id back;             /* where Back goes from detail/help/form */
    bool running;                /* false ends the loop */
    int quit_stage;              /* 0 running, 1 finishing, 2 releasing */
    uint64_t change_counter;     /* last store_change_counter seen */
    bool need_refresh;           /* re-query the current view */
    int64_t counts[MSG_STATUS_COUNT];     /* header counters */
    uint32_t hist[UI_SPARK_BUCKETS];      /* attempts per bucket */
    int64_t last_tick_ms;        /* last 1 s tick (monotonic) */
    int engines_alive;           /* engines with a fresh heartbeat on this database
                                    (this console's own included), -1 unknown */
    char flash[256];             /* footer message */
    bool flash_error;            /* red footer message */
    int64_t flash_until;         /* monotonic ms */
    int tab_x[4];                /* header tab start columns (mouse) */
    int cursor_y, cursor_x;      /* where a view wants the text cursor; y < 0 = hidden */
    ui_act acts[UI_ACTS_MAX];    /* operator writes waiting for a busy database, oldest first */
    int nacts;                   /* how many */
    int64_t acts_since;          /* monotonic ms the oldest first found it busy */
    bool read_busy;              /* the last refresh found the database busy: again next turn */
    bool count_due;              /* a list's counts are due: the view's tick, after the frame */

    /* modal line prompt in the footer (prompt.c) */
    bool prompting;              /* the footer is a prompt: keys edit its text */
    char prompt_label[64];       /* "Search action: " */
    char prompt_text[256];       /* the answer so far, UTF-8 */
    size_t prompt_cursor;        /* byte offset of the cursor in prompt_text */
    ui_prompt_fn prompt_cb;      /* called with the text on Enter */
    ui_prompt_history prompt_hist[UI_HIST_KINDS]; /* earlier answers, per prompt kind */
    int hist_at;                 /* entry Up/Down recalled (0 = newest), -1 = the draft */
    char prompt_draft[256];      /* what was typed before Up recalled an entry */

    /* modal yes/no confirmation (prompt.c) */
    bool confirming;             /* the footer asks: the next key answers */
    char confirm_text[256];      /* the question, sanitised */
    ui_confirm_fn confirm_cb;    /* called on y */
    int64_t confirm_arg;         /* its argument (a message or site id) */

    /* popup text (site test result, prompt.c) */
    bool popup;                  /* shown over the screen */
    char popup_title[128];       /* sanitised */
    hd_buf popup_body;           /* sanitised lines */
    int popup_scroll;            /* lines scrolled off the top */
    sitetest *test;              /* running site test, polled each turn */
    char test_site[80];

    /* per-view state */
    ui_filter filter;            /* Logs filter */
    char *logs_search;           /* Logs' search text (`/`; n, N), NULL = none */
    unsigned char logs_marks[UI_MARKS_MAX]; /* visible Logs rows matching it */
    int64_t logs_marked_ids[UI_MARKS_MAX];  /* the ids logs_marks was made for (a
                                               message's match never changes: a
                                               refresh asks only about new rows) */
    msg_list logs;
    msg_list queue;
    site_stats_list sites;
    int sites_cursor, sites_top;
    int64_t sites_select_id;     /* the site the next Sites refresh selects (one just
                                    added by the form), 0 = none */
    site_stats_list site_cache;  /* ui_site_state's copy of the sites */
    uint64_t site_cache_cc;      /* change_counter it was read at */
    bool site_cache_ok;
    int64_t detail_id;           /* message shown by the detail view */
    char **detail_lines;
    int detail_nlines;
    int detail_scroll;
    int help_scroll;
    ui_view_id help_from;        /* the screen `?` was pressed on */
    int64_t form_site_id;        /* 0 = adding */
    void *form;                  /* view_form.c's state */
} app;

/* app.c: the console's services to the views (see DESIGN above). */
const view_ops *ui_view(const app *a, ui_view_id id);
/* Makes id the current screen (opens it; Logs, Queue and Sites become
 * where Back goes) and asks for a refresh. */
void ui_switch(app *a, ui_view_id id);
/* Rows between the header and the footer. */
int ui_body_rows(void);
void ui_wakeup_engine(app *a);
/* The sites' stored state (paused, circuit...) for the Queue and the
 * detail: ui_site_cache_refresh (in a view's refresh) reads them again when
 * the store changed since; ui_site_state finds one (NULL: deleted). */
void ui_site_cache_refresh(app *a);
const site_stats *ui_site_state(const app *a, int64_t site_id);
/* The circuit to show for a site's waiting messages: NULL when the breaker
 * is off in this configuration (engines then do not look at circuits). */
const circuit *ui_site_circuit(const app *a, const site_stats *ss);
/* Runs an operator's write now, or keeps it for ui_act_retry when the
 * database is busy (see ui_act above).  Takes act->filter (malloc'd). */
void ui_act_start(app *a, const ui_act *act);
/* Every loop turn: the kept writes again, in order, until one is busy. */
void ui_act_retry(app *a);
/* Drops the kept writes, saying which were not done (then: more words). */
void ui_act_cancel(app *a, const char *then);
/* A read that failed: "database busy, retrying" (and again next turn) when
 * it was only busy, else the error. */
void ui_db_error(app *a, const hd_error *err);

/* prompt.c: messages, prompts, questions and the popup.  Views open them;
 * console.c hands them keys while they are open and draws them. */
void ui_flash(app *a, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void ui_prompt(app *a, const char *label, const char *initial, ui_prompt_fn cb);
void ui_confirm(app *a, ui_confirm_fn cb, int64_t arg, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ui_popup(app *a, const char *title, const char *body);
void prompt_key(app *a, int key);          /* while a->prompting */
void confirm_key(app *a, int key);         /* while a->confirming: y or not */
void popup_key(app *a, int key);           /* while a->popup */
void popup_close(app *a);
/* Frees the prompts' histories (at exit). */
void prompt_free(app *a);
/* The keys a prompt reads beyond lineedit's (Up/Down, Enter, Esc), for `?`. */
extern const key_help prompt_key_help[];
/* The footer line y: the prompt (placing the cursor) or the question;
 * false when neither is open. */
bool prompt_draw(app *a, int y, int cols);
/* The footer line y: the current message; false when there is none. */
bool flash_draw(const app *a, int y, int cols);
void popup_draw(const app *a);

/* list.c: keyset paging shared by Logs and Queue */
void msg_list_reload(app *a, msg_list *l, const msg_filter *f);
/* The total and the position when a reload found them due (the filter or
 * the data changed): run from the view's tick, once the frame that answers
 * a key is out, so a count never delays a key's frame. */
void msg_list_count(app *a, msg_list *l, const msg_filter *f);
bool msg_list_navigate(app *a, msg_list *l, const msg_filter *f, ui_request r);
/* Re-anchors the list at message id (its first visible row, selected) and
 * reloads; the position is counted again. */
void msg_list_goto(app *a, msg_list *l, const msg_filter *f, int64_t id);
const message *msg_list_selected(const msg_list *l);
/* A click on body row `row` (the list starts under two header lines):
 * selects that message; true when it was selected already (open it). */
bool msg_list_click(msg_list *l, int row);
void msg_list_free(msg_list *l);
/* In-memory cursor moves for short lists (sites, text pages). */
bool ui_cursor_move(int *cursor, int *top, int count, int rows, ui_request r);

/* view_logs.c: shared with the detail view */
void ui_ask_resend(app *a, const message *m);          /* confirm, then resend */
void ui_filter_customer(app *a, const char *customer); /* Logs filtered to one customer */
/* An idle turn's share of the search index (store_search_index_step): a
 * small batch, and no query at all once caught up. */
void ui_search_index_turn(app *a);
/* Forgets the Logs' search (at exit). */
void ui_search_free(app *a);

void detail_free(app *a);
/* view_form.c: opens the site form (site_id 0 = a new site). */
void form_begin(app *a, int64_t site_id);
void form_free(app *a);
/* form_claims.c: a map setting (jwt claims) as the form's "k=v; k2=v2" text
 * (items separated by ';', or by ',' where NAME= follows).
 * form_map_text: from the map's JSON object text ("" for none or bad JSON);
 * malloc'd.  form_map_parse: replaces key in *extra by the map in text;
 * false with why ("auth.claims: 'x' is not NAME=VALUE") on a bad item. */
char *form_map_text(const char *json);
bool form_map_parse(const char *text, const char *key, char **extra, char *why, size_t whylen);
/* The hint of such a field: what its text parses into ("2 claims: iss =
 * hookdesk | aud = qa"), or how to type it when it holds none. */
void form_map_help(const char *text, char *out, size_t outlen);

#endif
