/* console.c - console_main: the loop, the header, the footer's keys, and
 * the table of views it calls (ui_views).  Messages, prompts, questions and
 * the popup are prompt.c's; what the views ask of the console, app.c's.
 *
 * DESIGN
 * Threads: this file runs on the UI thread.  It owns one store connection
 * (a.st) and starts the delivery engine (its own thread and connection)
 * unless --no-deliver.  The UI never waits on the network: "test site" runs
 * in sitetest's own thread and is polled each turn.
 *
 * The loop turns every POLL_MS (the key read timeout): it reads at most one
 * input event, asks store_change_counter whether any connection committed
 * (ours, the engine's, another process'), and only then re-queries the
 * visible page and the header counters.  A 1 s tick redraws countdowns and
 * the sparkline.  Frames go out with wnoutrefresh/doupdate (term_flush), so
 * only changed cells are sent: no flicker, and a key is handled within one
 * turn however busy the engine is.
 *
 * Quitting: `q` asks the engine to finish its in-flight attempts (FINISH)
 * and keeps the screen live, saying so in the footer; a second `q` (or a
 * second signal) releases their leases instead (RELEASE).  Either way
 * nothing is lost: released messages are retried by the next engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "hd_util.h"
#include "term.h"
#include "ui.h"

#define POLL_MS 100          /* key read timeout = how often the store is polled */
#define TICK_MS 1000         /* countdowns and sparkline */

const view_ops *const ui_views[VIEW_COUNT] = {
#define UI_VIEW_PTR(id, file, title) &view_##file##_ops,
    UI_VIEW_LIST(UI_VIEW_PTR)
#undef UI_VIEW_PTR
};

/* ---- header ---- */

static void draw_header(app *a)
{
    int cols = term_cols();
    term_put(0, 0, cols, TA_HEADER, "");
    term_put_bold(0, 0, 10, TA_HEADER, " hookdesk");
    int x = 10;
    for (int v = VIEW_LOGS; v <= VIEW_SITES; v++) {
        char tab[32];
        snprintf(tab, sizeof tab, " %d %s ", v + 1, ui_views[v]->title);
        int w = (int)strlen(tab);
        a->tab_x[v] = x;
        term_put(0, x, w, (ui_view_id)v == a->back ? TA_TAB : TA_HEADER, tab);
        x += w + 1;
    }
    a->tab_x[3] = x;
    char right[128];
    if (!a->eng && a->engines_alive == 0)
        snprintf(right, sizeof right, "watching only: NO ENGINE is delivering ");
    else if (!a->eng && a->engines_alive > 0)
        snprintf(right, sizeof right, "watching only, %d engine%s delivering ",
                 a->engines_alive, a->engines_alive == 1 ? "" : "s");
    else if (!a->eng)
        snprintf(right, sizeof right, "watching only (--no-deliver) ");
    else {
        engine_stats es;
        engine_get_stats(a->eng, &es);
        if (es.running && es.fault[0])
            snprintf(right, sizeof right, "DATABASE ERROR, retrying, %d in flight ",
                     es.in_flight);
        else if (a->engines_alive > 1)   /* others deliver here too (serve, consoles) */
            snprintf(right, sizeof right, "%s %d in flight, %d engines ",
                     es.running ? (es.stopping ? "stopping," : "engine on,") : "engine off,",
                     es.in_flight, a->engines_alive);
        else
            snprintf(right, sizeof right, "%s %d in flight ",
                     es.running ? (es.stopping ? "stopping," : "engine on,") : "engine off,",
                     es.in_flight);
    }
    int rw = (int)strlen(right);
    if (x + rw < cols)
        term_put(0, cols - rw, rw, TA_HEADER, right);

    /* Row 1: counters per status, then the sparkline in what is left. */
    term_put(1, 0, cols, TA_NORMAL, "");
    x = 1;
    for (int s = 0; s < MSG_STATUS_COUNT; s++) {
        char c[48];
        snprintf(c, sizeof c, "%s %lld", msg_status_title((msg_status)s), (long long)a->counts[s]);
        int w = (int)strlen(c);
        term_put(1, x, w, ui_status_attr((msg_status)s), c);
        x += w + 2;
    }
    uint32_t peak = 0;
    for (int i = 0; i < UI_SPARK_BUCKETS; i++)
        if (a->hist[i] > peak)
            peak = a->hist[i];
    char label[48];
    snprintf(label, sizeof label, " %.1f/s max", peak / (UI_SPARK_BUCKET_MS / 1000.0));
    int lw = (int)strlen(label);
    int room = cols - x - lw - 1;
    if (room >= 10) {
        int n = room < UI_SPARK_BUCKETS ? room : UI_SPARK_BUCKETS;
        char spark[UI_SPARK_BUCKETS * 3 + 1];
        ui_spark_render(a->hist + (UI_SPARK_BUCKETS - n), n, a->utf8, spark, sizeof spark);
        term_put(1, x, n, TA_SPARK, spark);
        term_put(1, x + n, lw, TA_DIM, label);
    }
}

/* ---- footer ---- */

static void draw_footer(app *a)
{
    int y = term_rows() - 1, cols = term_cols();
    if (prompt_draw(a, y, cols))
        return;
    if (a->quit_stage) {
        engine_stats es = { 0 };
        if (a->eng)
            engine_get_stats(a->eng, &es);
        char line[160];
        const char *attempts = es.in_flight == 1 ? "attempt" : "attempts";
        if (a->quit_stage == 1)
            snprintf(line, sizeof line, "finishing %d in-flight %s... (q or Ctrl-C again: release them now)",
                     es.in_flight, attempts);
        else
            snprintf(line, sizeof line, "releasing %d in-flight %s...", es.in_flight, attempts);
        term_put_bold(y, 0, cols, TA_FOOTER, line);
        return;
    }
    if (flash_draw(a, y, cols))
        return;
    /* The keys of this screen, generated from its keymap, then the
     * generic ones that have a footer label. */
    term_put(y, 0, cols, TA_FOOTER, "");
    int x = 0;
    const view_ops *v = a->views[a->view];
    const keybind *maps[2] = { v->keys, keys_generic };
    bool shown[REQ_COUNT] = { false };
    for (int m = 0; m < 2; m++) {
        for (const keybind *k = maps[m]; k && k->req != REQ_NONE; k++) {
            if (!k->brief || shown[k->req])
                continue;
            if (m == 1 && keys_lookup(maps[0], k->key) != REQ_NONE)
                continue;   /* the view took this key for itself */
            if (m == 1 && v->raw_key && k->key >= 32 && k->key < 127)
                continue;   /* a form takes typed letters as text */
            shown[k->req] = true;
            char name[16];
            keys_name(k->key, name, sizeof name);
            int need = (int)strlen(name) + (int)strlen(k->brief) + 2;
            if (x + need > cols)
                return;
            term_put(y, x, (int)strlen(name), TA_KEY, name);
            term_put(y, x + (int)strlen(name), need - (int)strlen(name), TA_FOOTER, "");
            term_put(y, x + (int)strlen(name) + 1, (int)strlen(k->brief), TA_FOOTER, k->brief);
            x += need;
        }
    }
}

static void draw_all(app *a)
{
    term_erase();
    a->cursor_y = -1;
    draw_header(a);
    a->views[a->view]->draw(a, UI_HEADER_ROWS, ui_body_rows());
    if (a->popup)
        popup_draw(a);
    draw_footer(a);
    /* The cursor is placed last: drawing moves it. */
    if (a->popup || a->confirming)
        a->cursor_y = -1;
    term_cursor(a->cursor_y, a->cursor_x);
    term_flush();
}

/* ---- data ---- */

static void refresh_counters(app *a)
{
    hd_error err = { 0 };
    if (store_status_counts(a->st, a->counts, &err) != HD_OK)
        ui_db_error(a, &err);
}

/* How many engines deliver on this database (their heartbeat rows): the
 * header says so, and plainly when a watching console has none. */
static void refresh_engines(app *a)
{
    engine_beat_list l;
    hd_error err = { 0 };
    if (store_engines_alive(a->st, hd_now_ms() - ENGINE_ALIVE_MS, &l, &err) != HD_OK) {
        a->engines_alive = -1;
        return;
    }
    a->engines_alive = l.count;
    engine_beat_list_free(&l);
}

static void refresh_histogram(app *a)
{
    hd_error err = { 0 };
    if (store_attempt_histogram(a->st, hd_now_ms(), UI_SPARK_BUCKET_MS, UI_SPARK_BUCKETS,
                                a->hist, &err) != HD_OK)
        ui_db_error(a, &err);
}

/* ---- input ---- */

static void begin_quit(app *a)
{
    if (a->nacts && a->quit_stage == 0) {
        /* A change the operator asked for still waits for the lock: say
         * that it will not be done rather than drop it silently. */
        ui_act_cancel(a, " (database busy); q again quits");
        return;
    }
    if (!a->eng) {
        a->running = false;
        return;
    }
    if (a->quit_stage == 0) {
        engine_stop(a->eng, ENGINE_STOP_FINISH);
        a->quit_stage = 1;
    } else if (a->quit_stage == 1) {
        engine_stop(a->eng, ENGINE_STOP_RELEASE);
        a->quit_stage = 2;
    }
}

/* ---- find a message (`#`, `:`) ---- */

/* "123", "#123" or a webhook-id "msg_..." (what a receiver reports): the
 * message's detail opens, from any screen; Back returns to that screen. */
static void on_find(app *a, const char *text)
{
    while (*text == ' ')
        text++;
    if (!*text)
        return;
    hd_error err = { 0 };
    int64_t id = 0;
    const char *num = text[0] == '#' ? text + 1 : text;
    char *end = NULL;
    long long v = strtoll(num, &end, 10);
    if (end != num && *end == '\0' && v > 0) {
        id = v;
    } else {
        hd_status rc = store_message_find_webhook_id(a->st, text, &id, &err);
        if (rc == HD_NOT_FOUND) {
            ui_flash(a, true, "no message has webhook-id %s (purged, or not from this database)",
                     text);
            return;
        }
        if (rc == HD_INVALID) {
            ui_flash(a, true, "'%s' is neither a message number nor a webhook-id (msg_...)", text);
            return;
        }
        if (rc != HD_OK) {
            ui_db_error(a, &err);
            return;
        }
    }
    message m;
    hd_status rc = store_message_get(a->st, id, &m, &err);
    if (rc == HD_NOT_FOUND) {
        ui_flash(a, true, "no message #%lld (purged, or not yet sent)", (long long)id);
        return;
    }
    if (rc != HD_OK) {
        ui_db_error(a, &err);
        return;
    }
    message_free(&m);
    a->detail_id = id;
    ui_switch(a, VIEW_DETAIL);
}

/* Shared handling of what a view returned unhandled. */
static void generic_request(app *a, ui_request r)
{
    switch (r) {
    case REQ_QUIT: begin_quit(a); break;
    case REQ_HELP:
        if (a->view != VIEW_HELP) {
            a->help_scroll = 0;
            a->help_from = a->view;
            a->view = VIEW_HELP;
        }
        break;
    case REQ_BACK:
        if (a->view > VIEW_SITES)
            ui_switch(a, a->back);
        break;
    case REQ_VIEW_LOGS: ui_switch(a, VIEW_LOGS); break;
    case REQ_VIEW_QUEUE: ui_switch(a, VIEW_QUEUE); break;
    case REQ_VIEW_SITES: ui_switch(a, VIEW_SITES); break;
    case REQ_NEXT_VIEW: ui_switch(a, a->back == VIEW_SITES ? VIEW_LOGS : a->back + 1); break;
    case REQ_PREV_VIEW: ui_switch(a, a->back == VIEW_LOGS ? VIEW_SITES : a->back - 1); break;
    case REQ_FIND:
        ui_prompt(a, "Find message (number or webhook-id msg_...): ", NULL, on_find);
        break;
    case REQ_REFRESH:
        term_redraw_all();
        a->need_refresh = true;
        break;
    default: break;
    }
}

static void dispatch(app *a, ui_request r)
{
    const view_ops *v = a->views[a->view];
    if (v->handle)
        r = v->handle(a, r);
    if (r != REQ_NONE)
        generic_request(a, r);
}

static void handle_mouse(app *a, const term_event *ev)
{
    if (a->popup) {
        popup_close(a);
        return;
    }
    if (ev->mouse_button == 4 || ev->mouse_button == 5) {
        for (int i = 0; i < 3; i++)
            dispatch(a, ev->mouse_button == 4 ? REQ_UP : REQ_DOWN);
        return;
    }
    if (ev->mouse_y == 0) {
        for (int v = VIEW_LOGS; v <= VIEW_SITES; v++)
            if (ev->mouse_x >= a->tab_x[v] && ev->mouse_x < a->tab_x[v + 1])
                ui_switch(a, (ui_view_id)v);
        return;
    }
    int row = ev->mouse_y - UI_HEADER_ROWS;
    if (row >= 0 && row < ui_body_rows() && a->views[a->view]->click)
        a->views[a->view]->click(a, row);
}

static void handle_event(app *a, const term_event *ev)
{
    if (ev->key == TERM_KEY_SIGNAL) {
        if (a->quit_stage == 0 && !a->eng)
            a->running = false;
        else
            begin_quit(a);
        return;
    }
    if (ev->key == TERM_KEY_RESIZE) {
        a->need_refresh = true;
        return;
    }
    if (ev->key == TERM_KEY_MOUSE) {
        /* A prompt or a yes/no question waits for the keyboard: a click
         * must not switch screens or move the selection under it. */
        if (!a->prompting && !a->confirming)
            handle_mouse(a, ev);
        return;
    }
    if (a->prompting) {
        prompt_key(a, ev->key);
        return;
    }
    if (a->confirming) {
        confirm_key(a, ev->key);
        return;
    }
    if (a->popup) {
        popup_key(a, ev->key);
        return;
    }
    if (a->nacts && ev->key == TK_ESC) {   /* the footer says so */
        ui_act_cancel(a, "");
        return;
    }
    if (a->quit_stage && (ev->key == 'q' || ev->key == TK_ESC)) {
        begin_quit(a);
        return;
    }
    const view_ops *v = a->views[a->view];
    if (v->raw_key && v->raw_key(a, ev->key))
        return;
    ui_request r = keys_resolve(v->keys, ev->key);
    if (r != REQ_NONE)
        dispatch(a, r);
}

/* ---- timing trace (bench/console.sh) ----
 * HOOKDESK_UI_TRACE=FILE appends one line per event: the time to the first
 * full screen, then for every key the time from reading it to the frame
 * that shows its effect (queries included), every re-query of the screen
 * ("refresh Logs ms 0.41": what caused it is a key, a commit or the tick),
 * and the memory at exit. */

static double trace_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void trace_memory(FILE *t)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return;
    char line[256];
    long rss = -1, hwm = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0)
            rss = strtol(line + 6, NULL, 10);
        else if (strncmp(line, "VmHWM:", 6) == 0)
            hwm = strtol(line + 6, NULL, 10);
    }
    fclose(f);
    fprintf(t, "rss_kib %ld peak_kib %ld\n", rss, hwm);
}

/* ---- the loop ---- */

/* What the loop keeps from one turn to the next. */
typedef struct loop_state {
    FILE *trace;                 /* HOOKDESK_UI_TRACE, NULL = off */
    double t_start;              /* when console_main began (trace clock, ms) */
    bool first_frame;            /* the first full screen is still to come */
    double key_t0;               /* when the last key was read, 0 = handled and drawn */
    char key_name[16];           /* its name, for the trace */
    double refresh_hold_until;   /* no live re-query before this (trace clock, ms) */
    bool engine_warned;          /* "delivery engine stopped" was shown */
    int64_t fault_shown;         /* es.fault_since last shown as a message */
} loop_state;

/* A refresh the operator asked for (a key) runs at once; one caused only by
 * another process' commit waits while the last query was slow (a filter no
 * index serves, on millions of rows), so that live updates never take the
 * keyboard away. */
static bool refresh_view(app *a, loop_state *ls)
{
    if (!a->need_refresh || (ls->key_t0 <= 0 && trace_now_ms() < ls->refresh_hold_until))
        return false;
    a->need_refresh = false;
    double r0 = trace_now_ms();
    if (a->views[a->view]->refresh)
        a->views[a->view]->refresh(a);
    double took = trace_now_ms() - r0;
    ls->refresh_hold_until = took > 50 ? r0 + took * 4 : 0;
    /* One line per re-query, so that a test can see an idle console does
     * none (and the bench what each one costs). */
    if (ls->trace)
        fprintf(ls->trace, "refresh %s ms %.2f\n", a->views[a->view]->title, took);
    return true;
}

/* Whether the screen may look different from the last frame although no
 * key, re-query or tick came: something is moving or going away (a
 * message, a waiting change, a running test, quitting). */
static bool screen_moving(const app *a)
{
    return a->nacts || a->test || a->quit_stage || a->popup || a->prompting ||
           a->confirming || (a->flash[0] && hd_mono_ms() < a->flash_until + POLL_MS);
}

static void draw_frame(app *a, loop_state *ls)
{
    draw_all(a);
    if (ls->trace && ls->first_frame)
        fprintf(ls->trace, "first_screen_ms %.2f\n", trace_now_ms() - ls->t_start);
    ls->first_frame = false;
    if (ls->key_t0 > 0) {
        if (ls->trace)
            fprintf(ls->trace, "key %s ms %.2f\n", ls->key_name, trace_now_ms() - ls->key_t0);
        ls->key_t0 = 0;
    }
}

/* Waits up to POLL_MS for one event and handles it. */
static bool read_input(app *a, loop_state *ls)
{
    term_event ev;
    term_read(POLL_MS, &ev);
    if (ev.key == TERM_KEY_NONE)
        return false;
    if (ev.key >= 0 || ev.key == TERM_KEY_RESIZE) {
        ls->key_t0 = trace_now_ms();
        keys_name(ev.key, ls->key_name, sizeof ls->key_name);
    }
    handle_event(a, &ev);
    return true;
}

/* Any commit (ours, the engine's, another process'): re-query.  Every
 * TICK_MS: the sparkline, and the screens whose text moves with time. */
static bool poll_store(app *a)
{
    uint64_t cc = store_change_counter(a->st);
    if (cc != a->change_counter) {
        a->change_counter = cc;
        a->need_refresh = true;
        refresh_counters(a);
    }
    int64_t now = hd_mono_ms();
    if (now - a->last_tick_ms >= TICK_MS) {
        a->last_tick_ms = now;
        refresh_histogram(a);
        refresh_engines(a);
        /* Countdowns move with time, not with commits, and "sending"
         * ends by lease expiry: the Queue and the detail (its "Next
         * attempt") are redrawn every tick. */
        if (a->view == VIEW_QUEUE || a->view == VIEW_DETAIL)
            a->need_refresh = true;
        return true;
    }
    return false;
}

/* A site test's answer, once it came, in the popup. */
static void poll_site_test(app *a)
{
    sitetest_result res;
    if (!a->test || !sitetest_poll(a->test, &res))
        return;
    hd_buf body = { 0 };
    /* As `hookdesk sites test` prints it: the request line and headers,
     * then the answer ("no response", never "code: 0"). */
    if (res.request_line)
        hd_buf_printf(&body, "%s\n", res.request_line);
    hd_buf_printf(&body, "%s", res.request_headers ? res.request_headers : "");
    if (res.response_code)
        hd_buf_printf(&body, "\nHTTP %d in %lld ms\n", res.response_code,
                      (long long)res.duration_ms);
    else
        hd_buf_printf(&body, "\nno response after %lld ms\n", (long long)res.duration_ms);
    if (res.error)
        hd_buf_printf(&body, "error: %s\n", res.error);
    hd_buf_printf(&body, "%s\n", res.response_headers ? res.response_headers : "");
    if (res.response_body)
        hd_buf_append(&body, res.response_body, res.response_body_len);
    char title[160];
    snprintf(title, sizeof title, "Test of %s: %s", a->test_site,
             retry_is_success(res.response_code) ? "OK" : "FAILED");
    sitetest_free(a->test);
    a->test = NULL;
    ui_popup(a, title, hd_buf_str(&body));
    hd_buf_free(&body);
    sitetest_result_free(&res);
}

/* The engine's health: a database fault shows once as a message when it
 * begins (the header says so as long as it lasts); a stopped engine once,
 * or ends the loop when quitting. */
static void poll_engine(app *a, loop_state *ls)
{
    if (!a->eng)
        return;
    engine_stats es;
    engine_get_stats(a->eng, &es);
    if (es.running && es.fault_since != ls->fault_shown) {
        ls->fault_shown = es.fault_since;
        if (es.fault_since)
            ui_flash(a, true, "delivery engine: database error: %s (retrying)", es.fault);
    }
    if (!es.running) {
        if (a->quit_stage)
            a->running = false;
        else if (!ls->engine_warned) {
            ls->engine_warned = true;
            ui_flash(a, true, "delivery engine stopped: %s", es.last_error);
        }
    }
}

static void run_loop(app *a, loop_state *ls)
{
    a->running = true;
    a->change_counter = store_change_counter(a->st);
    refresh_counters(a);
    refresh_histogram(a);
    refresh_engines(a);
    a->last_tick_ms = hd_mono_ms();
    ui_switch(a, VIEW_LOGS);
    bool changed = true;   /* the last turn may have changed the screen */
    while (a->running) {
        changed |= refresh_view(a, ls);
        /* An idle turn draws nothing: no frame is built when no key, no
         * commit and no tick came (an idle console costs about nothing). */
        if (changed || screen_moving(a))
            draw_frame(a, ls);
        if (a->count_due) {
            /* Counting ("row 71 of 20,000") after the key's frame is out:
             * the view's tick does it, and the frame is drawn again. */
            a->count_due = false;
            if (a->views[a->view]->tick)
                a->views[a->view]->tick(a);
            draw_frame(a, ls);
        }
        changed = read_input(a, ls);
        ui_act_retry(a);
        if (a->read_busy) {
            /* A read found the database busy: everything again next turn. */
            a->read_busy = false;
            a->change_counter = 0;
        }
        if (!changed)
            ui_search_index_turn(a);   /* idle: the search index's next batch */
        changed |= poll_store(a);
        if (a->views[a->view]->tick)
            a->views[a->view]->tick(a);
        poll_site_test(a);
        poll_engine(a, ls);
    }
}

/* ---- main ---- */

static void usage(FILE *to)
{
    fputs("usage: hookdesk [-c FILE] [--db FILE] [console] [--no-deliver]\n"
          "  --no-deliver   watch only: do not run the delivery engine in this process\n"
          "Keys: ? in the console shows them all.\n", to);
}

/* Returns -1 to go on, else the exit code (--help: 0, a bad option: 2). */
static int parse_args(int argc, char **argv, bool *no_deliver)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--no-deliver") == 0) {
            *no_deliver = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "hookdesk console: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    return -1;
}

static void trace_open(loop_state *ls)
{
    memset(ls, 0, sizeof *ls);
    ls->t_start = trace_now_ms();
    ls->first_frame = true;
    const char *trace_path = getenv("HOOKDESK_UI_TRACE");
    ls->trace = trace_path && *trace_path ? fopen(trace_path, "a") : NULL;
    if (ls->trace)
        setvbuf(ls->trace, NULL, _IOLBF, 0);
}

static void app_free(app *a)
{
    ui_act_cancel(a, "");   /* frees what still waited for the lock */
    prompt_free(a);
    popup_close(a);
    if (a->test) {
        /* Quitting: wait for it (bounded by the site timeout). */
        sitetest_free(a->test);
        a->test = NULL;
    }
    hd_buf_free(&a->popup_body);
    msg_list_free(&a->logs);
    msg_list_free(&a->queue);
    site_stats_list_free(&a->sites);
    site_stats_list_free(&a->site_cache);
    detail_free(a);
    form_free(a);
    ui_filter_clear(&a->filter);
    ui_search_free(a);
}

/* After the loop: the terminal back, the engine stopped (its in-flight
 * attempts released), everything freed.  Returns the exit code. */
static int console_end(app *a, loop_state *ls)
{
    term_done();
    int rc = 0;
    hd_error err = { 0 };
    if (a->eng) {
        engine_stop(a->eng, ENGINE_STOP_RELEASE);
        if (engine_join(a->eng, &err) != HD_OK) {
            fprintf(stderr, "hookdesk: delivery engine: %s\n", err.msg);
            rc = 1;
        }
    }
    if (ls->trace) {
        trace_memory(ls->trace);
        fclose(ls->trace);
    }
    app_free(a);
    store_close(a->st);
    return rc;
}

/* The UI's connection.  It is opened twice: first with the usual busy
 * timeout to migrate and seed the configured sites (start-up may wait for
 * a busy database), then for the loop with UI_BUSY_TIMEOUT_MS, so that no
 * key ever waits longer than that for the write lock (ui_act). */
static hd_status console_open_store(const config *cfg, store **out, hd_error *err)
{
    store *boot = NULL;
    store_options so = { .synchronous_full = cfg->delivery.synchronous_full, .cache_kib = 4096 };
    hd_status rc = store_open(cfg->database, &so, &boot, err);
    if (rc != HD_OK)
        return rc;
    int added = 0;
    if (cfg->nsites > 0)
        rc = store_seed_sites(boot, cfg->sites, cfg->nsites, &added, err);
    store_close(boot);
    if (rc != HD_OK)
        return rc;
    /* 4 MiB of page cache: the console reads a screenful at a time, and a
     * search that scans a million rows must not keep them all resident. */
    so.busy_timeout_ms = UI_BUSY_TIMEOUT_MS;
    rc = store_open(cfg->database, &so, out, err);
    /* A search query stops after UI_SEARCH_BUDGET steps (tens of ms)
     * instead of freezing the keys for seconds (a common word under a
     * filter that keeps few of its matches). */
    if (rc == HD_OK)
        store_set_search_budget(*out, UI_SEARCH_BUDGET);
    return rc;
}

int console_main(const config *cfg, int argc, char **argv)
{
    bool no_deliver = false;
    int exit_code = parse_args(argc, argv, &no_deliver);
    if (exit_code >= 0)
        return exit_code;
    loop_state ls;
    trace_open(&ls);

    app a;
    memset(&a, 0, sizeof a);
    a.views = ui_views;
    a.cfg = cfg;
    a.logs.follow = a.queue.follow = true;
    hd_error err = { 0 };
    if (console_open_store(cfg, &a.st, &err) != HD_OK) {
        fprintf(stderr, "hookdesk: %s\n", err.msg);
        return hd_status_exit_code(err.code);
    }
    if (term_init(&err) != HD_OK) {
        fprintf(stderr, "hookdesk: %s\n", err.msg);
        store_close(a.st);
        return hd_status_exit_code(err.code);
    }
    a.utf8 = term_utf8();
    if (!no_deliver) {
        /* nice 5: under a full delivery load the keys still come first. */
        engine_options eo = { .drain = false, .quiet = true, .nice = 5, .role = "console" };
        if (engine_start(cfg, &eo, &a.eng, &err) != HD_OK) {
            term_done();
            fprintf(stderr, "hookdesk: %s\n", err.msg);
            store_close(a.st);
            return hd_status_exit_code(err.code);
        }
    }

    run_loop(&a, &ls);
    return console_end(&a, &ls);
}
