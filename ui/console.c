/* console.c - console_main: the loop, header, footer, prompts and popups.
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "hd_version.h"
#include "hd_sanitize.h"
#include "hd_util.h"
#include "term.h"
#include "ui.h"

#define POLL_MS 100          /* key read timeout = how often the store is polled */
#define TICK_MS 1000         /* countdowns and sparkline */
#define FLASH_MS 4000        /* how long a footer message stays */
#define HEADER_ROWS 2
#define FOOTER_ROWS 1

static const view_ops *const view_table[VIEW_COUNT] = {
#define UI_VIEW_PTR(id, file, title) &view_##file##_ops,
    UI_VIEW_LIST(UI_VIEW_PTR)
#undef UI_VIEW_PTR
};

const view_ops *ui_view(ui_view_id id)
{
    return view_table[id];
}

int ui_body_rows(void)
{
    int r = term_rows() - HEADER_ROWS - FOOTER_ROWS;
    return r > 1 ? r : 1;
}

void ui_switch(app *a, ui_view_id id)
{
    if (id <= VIEW_SITES)
        a->back = id;
    a->view = id;
    if (view_table[id]->open)
        view_table[id]->open(a);
    a->need_refresh = true;
}

/* Formats into dst, sanitised: messages and questions often quote outside
 * text (a site name, a server error). */
__attribute__((format(printf, 3, 0)))
static void format_clean(char *dst, size_t size, const char *fmt, va_list ap)
{
    char raw[1024];
    vsnprintf(raw, sizeof raw, fmt, ap);
    char *clean = sanitize_dup(raw, 0);
    snprintf(dst, size, "%s", clean);
    free(clean);
}

void ui_flash(app *a, bool error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    format_clean(a->flash, sizeof a->flash, fmt, ap);
    va_end(ap);
    a->flash_error = error;
    a->flash_until = hd_mono_ms() + FLASH_MS;
}

void ui_prompt(app *a, const char *label, const char *initial, ui_prompt_fn cb)
{
    a->prompting = true;
    snprintf(a->prompt_label, sizeof a->prompt_label, "%s", label);
    snprintf(a->prompt_text, sizeof a->prompt_text, "%s", initial ? initial : "");
    a->prompt_len = strlen(a->prompt_text);
    a->prompt_cb = cb;
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

/* Whenever anything changed: the site states (paused, circuit) are one
 * read of the small sites table, nothing counted. */
void ui_site_cache_refresh(app *a)
{
    if (a->site_cache_ok && a->site_cache_cc == a->change_counter)
        return;
    site_stats_list l = { 0 };
    hd_error err = { 0 };
    if (store_sites_states(a->st, &l, &err) != HD_OK) {
        ui_flash(a, true, "%s", err.msg);
        return;
    }
    site_stats_list_free(&a->site_cache);
    a->site_cache = l;
    a->site_cache_cc = a->change_counter;
    a->site_cache_ok = true;
}

const site_stats *ui_site_state(const app *a, int64_t site_id)
{
    for (int i = 0; i < a->site_cache.count; i++)
        if (a->site_cache.items[i].s.id == site_id)
            return &a->site_cache.items[i];
    return NULL;
}

const circuit *ui_site_circuit(const app *a, const site_stats *ss)
{
    if (!ss || !breaker_enabled(&a->cfg->delivery.breaker))
        return NULL;
    return &ss->circuit;
}

void ui_wakeup_engine(app *a)
{
    if (a->eng)
        engine_wakeup(a->eng);
}

/* ---- header ---- */

static const term_attr status_attr[MSG_STATUS_COUNT] = {
    TA_QUEUED, TA_RESENT, TA_DONE, TA_FAILED,
};

static void draw_header(app *a)
{
    int cols = term_cols();
    term_put(0, 0, cols, TA_HEADER, "");
    term_put_bold(0, 0, 10, TA_HEADER, " hookdesk");
    int x = 10;
    for (int v = VIEW_LOGS; v <= VIEW_SITES; v++) {
        char tab[32];
        snprintf(tab, sizeof tab, " %d %s ", v + 1, view_table[v]->title);
        int w = (int)strlen(tab);
        a->tab_x[v] = x;
        term_put(0, x, w, (ui_view_id)v == a->back ? TA_TAB : TA_HEADER, tab);
        x += w + 1;
    }
    a->tab_x[3] = x;
    char right[128];
    if (!a->eng)
        snprintf(right, sizeof right, "watching only (--no-deliver) ");
    else {
        engine_stats es;
        engine_get_stats(a->eng, &es);
        if (es.running && es.fault[0])
            snprintf(right, sizeof right, "DATABASE ERROR, retrying, %d in flight ",
                     es.in_flight);
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
        term_put(1, x, w, status_attr[s], c);
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
    if (a->prompting) {
        char line[512];
        snprintf(line, sizeof line, "%s%s", a->prompt_label, a->prompt_text);
        char *clean = sanitize_dup(line, 0);
        term_put(y, 0, cols, TA_NORMAL, clean);
        size_t w = utf8_width(clean);
        free(clean);
        a->cursor_y = y;
        a->cursor_x = (int)(w < (size_t)cols ? w : (size_t)cols - 1);
        return;
    }
    if (a->confirming) {
        char line[320];
        snprintf(line, sizeof line, "%s [y/N]", a->confirm_text);
        term_put_bold(y, 0, cols, TA_ERROR, line);
        return;
    }
    if (a->quit_stage) {
        engine_stats es = { 0 };
        if (a->eng)
            engine_get_stats(a->eng, &es);
        char line[160];
        const char *attempts = es.in_flight == 1 ? "attempt" : "attempts";
        if (a->quit_stage == 1)
            snprintf(line, sizeof line, "finishing %d in-flight %s... (q again: release them now)",
                     es.in_flight, attempts);
        else
            snprintf(line, sizeof line, "releasing %d in-flight %s...", es.in_flight, attempts);
        term_put_bold(y, 0, cols, TA_FOOTER, line);
        return;
    }
    if (a->flash[0] && hd_mono_ms() < a->flash_until) {
        term_put(y, 0, cols, a->flash_error ? TA_ERROR : TA_OK, a->flash);
        return;
    }
    /* The keys of this screen, generated from its keymap, then the
     * generic ones that have a footer label. */
    term_put(y, 0, cols, TA_FOOTER, "");
    int x = 0;
    const keybind *maps[2] = { view_table[a->view]->keys, keys_generic };
    bool shown[REQ_COUNT] = { false };
    for (int m = 0; m < 2; m++) {
        for (const keybind *k = maps[m]; k && k->req != REQ_NONE; k++) {
            if (!k->brief || shown[k->req])
                continue;
            if (m == 1 && keys_lookup(maps[0], k->key) != REQ_NONE)
                continue;   /* the view took this key for itself */
            if (m == 1 && view_table[a->view]->raw_key && k->key >= 32 && k->key < 127)
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

/* ---- popup (site test result) ---- */

/* The popup's body shows lines y0+1 .. y0+h-3 of its box (see draw_popup):
 * scrolling stops when its last line is on screen. */
static int popup_max_scroll(const app *a)
{
    int shown = term_rows() - 4 - 3;
    int lines = 1;
    for (const char *p = hd_buf_str(&a->popup_body); *p; p++)
        if (*p == '\n' && p[1])
            lines++;
    return lines > shown && shown > 0 ? lines - shown : 0;
}

static void draw_popup(app *a)
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
        if (line >= a->popup_scroll) {
            char *one = hd_xstrndup(p, len);
            char cell[1024];
            ui_fmt_cell(one, w - 4, a->utf8, cell, sizeof cell);
            term_put(y++, x0 + 2, w - 4, TA_POPUP, cell);
            free(one);
        }
        line++;
        p += len + (nl ? 1 : 0);
    }
    term_put(y0 + h - 2, x0 + 2, w - 4, TA_POPUP, "Esc/Enter closes, j/k scroll");
}

static void draw_all(app *a)
{
    term_erase();
    a->cursor_y = -1;
    draw_header(a);
    view_table[a->view]->draw(a, HEADER_ROWS, ui_body_rows());
    if (a->popup)
        draw_popup(a);
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
        ui_flash(a, true, "%s", err.msg);
}

static void refresh_histogram(app *a)
{
    hd_error err = { 0 };
    if (store_attempt_histogram(a->st, hd_now_ms(), UI_SPARK_BUCKET_MS, UI_SPARK_BUCKETS,
                                a->hist, &err) != HD_OK)
        ui_flash(a, true, "%s", err.msg);
}

/* ---- input ---- */

static void begin_quit(app *a)
{
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

static void prompt_key(app *a, int key)
{
    if (key == TK_ESC || key == TK_CTRL('g')) {
        a->prompting = false;
    } else if (key == '\n') {
        a->prompting = false;
        char text[sizeof a->prompt_text];
        memcpy(text, a->prompt_text, sizeof text);
        a->flash[0] = '\0';   /* an earlier message no longer applies to the answer */
        a->prompt_cb(a, text);
        a->need_refresh = true;
    } else if (key == TK_BACKSPACE) {
        /* Drop one whole UTF-8 character. */
        while (a->prompt_len > 0) {
            unsigned char c = (unsigned char)a->prompt_text[--a->prompt_len];
            if ((c & 0xc0) != 0x80)
                break;
        }
        a->prompt_text[a->prompt_len] = '\0';
    } else if (key == TK_CTRL('u')) {
        a->prompt_len = 0;
        a->prompt_text[0] = '\0';
    } else if (key >= 32 && key < 0x110000 && key != 127) {
        char enc[5];
        size_t n;
        unsigned c = (unsigned)key;
        if (c < 0x80) { enc[0] = (char)c; n = 1; }
        else if (c < 0x800) { enc[0] = (char)(0xc0 | c >> 6); enc[1] = (char)(0x80 | (c & 0x3f)); n = 2; }
        else if (c < 0x10000) { enc[0] = (char)(0xe0 | c >> 12); enc[1] = (char)(0x80 | ((c >> 6) & 0x3f)); enc[2] = (char)(0x80 | (c & 0x3f)); n = 3; }
        else { enc[0] = (char)(0xf0 | c >> 18); enc[1] = (char)(0x80 | ((c >> 12) & 0x3f)); enc[2] = (char)(0x80 | ((c >> 6) & 0x3f)); enc[3] = (char)(0x80 | (c & 0x3f)); n = 4; }
        if (a->prompt_len + n < sizeof a->prompt_text) {
            memcpy(a->prompt_text + a->prompt_len, enc, n);
            a->prompt_len += n;
            a->prompt_text[a->prompt_len] = '\0';
        }
    }
}

static void popup_close(app *a)
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
    case REQ_REFRESH:
        term_redraw_all();
        a->need_refresh = true;
        break;
    default: break;
    }
}

static void dispatch(app *a, ui_request r)
{
    const view_ops *v = view_table[a->view];
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
    int row = ev->mouse_y - HEADER_ROWS;
    if (row >= 0 && row < ui_body_rows() && view_table[a->view]->click)
        view_table[a->view]->click(a, row);
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
        a->confirming = false;
        a->flash[0] = '\0';
        if (ev->key == 'y' || ev->key == 'Y')
            a->confirm_cb(a, a->confirm_arg);
        else
            ui_flash(a, false, "cancelled");
        a->need_refresh = true;
        return;
    }
    if (a->popup) {
        if ((ev->key == 'j' || ev->key == TK_DOWN) && a->popup_scroll < popup_max_scroll(a))
            a->popup_scroll++;
        else if ((ev->key == 'k' || ev->key == TK_UP) && a->popup_scroll > 0)
            a->popup_scroll--;
        else if (ev->key == TK_ESC || ev->key == '\n' || ev->key == 'q')
            popup_close(a);
        return;
    }
    if (a->quit_stage && (ev->key == 'q' || ev->key == TK_ESC)) {
        begin_quit(a);
        return;
    }
    const view_ops *v = view_table[a->view];
    if (v->raw_key && v->raw_key(a, ev->key))
        return;
    ui_request r = keys_resolve(v->keys, ev->key);
    if (r != REQ_NONE)
        dispatch(a, r);
}

/* ---- timing trace (bench/console.sh) ----
 * HOOKDESK_UI_TRACE=FILE appends one line per event: the time to the first
 * full screen, then for every key the time from reading it to the frame
 * that shows its effect (queries included), and the memory at exit. */

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

/* ---- main ---- */

static void usage(FILE *to)
{
    fputs("usage: hookdesk [-c FILE] [--db FILE] [console] [--no-deliver]\n"
          "  --no-deliver   watch only: do not run the delivery engine in this process\n"
          "Keys: ? in the console shows them all.\n", to);
}

static void app_free(app *a)
{
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
}

int console_main(const config *cfg, int argc, char **argv)
{
    bool no_deliver = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--no-deliver") == 0) {
            no_deliver = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "hookdesk console: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    double t_start = trace_now_ms();
    const char *trace_path = getenv("HOOKDESK_UI_TRACE");
    FILE *trace = trace_path && *trace_path ? fopen(trace_path, "a") : NULL;
    if (trace)
        setvbuf(trace, NULL, _IOLBF, 0);

    app a;
    memset(&a, 0, sizeof a);
    a.cfg = cfg;
    a.logs.follow = a.queue.follow = true;
    hd_error err = { 0 };
    /* 4 MiB of page cache: the console reads a screenful at a time, and a
     * search that scans a million rows must not keep them all resident. */
    store_options so = { .synchronous_full = cfg->delivery.synchronous_full, .cache_kib = 4096 };
    if (store_open(cfg->database, &so, &a.st, &err) != HD_OK) {
        fprintf(stderr, "hookdesk: %s\n", err.msg);
        return hd_status_exit_code(err.code);
    }
    if (cfg->nsites > 0) {
        int added = 0;
        if (store_seed_sites(a.st, cfg->sites, cfg->nsites, &added, &err) != HD_OK) {
            fprintf(stderr, "hookdesk: %s\n", err.msg);
            store_close(a.st);
            return hd_status_exit_code(err.code);
        }
    }
    if (term_init(&err) != HD_OK) {
        fprintf(stderr, "hookdesk: %s\n", err.msg);
        store_close(a.st);
        return hd_status_exit_code(err.code);
    }
    a.utf8 = term_utf8();
    if (!no_deliver) {
        /* nice 5: under a full delivery load the keys still come first. */
        engine_options eo = { .drain = false, .quiet = true, .nice = 5 };
        if (engine_start(cfg, &eo, &a.eng, &err) != HD_OK) {
            term_done();
            fprintf(stderr, "hookdesk: %s\n", err.msg);
            store_close(a.st);
            return hd_status_exit_code(err.code);
        }
    }

    a.running = true;
    a.change_counter = store_change_counter(a.st);
    refresh_counters(&a);
    refresh_histogram(&a);
    a.last_tick_ms = hd_mono_ms();
    ui_switch(&a, VIEW_LOGS);
    bool engine_warned = false;
    int64_t fault_shown = 0;      /* es.fault_since last shown as a message */
    bool first_frame = true;
    double key_t0 = 0;          /* when the last key was read, 0 = handled and drawn */
    char key_name[16] = "";
    double refresh_hold_until = 0;   /* no live re-query before this (ms, trace clock) */
    while (a.running) {
        /* A refresh the operator asked for (a key) runs at once; one caused
         * only by another process' commit waits while the last query was
         * slow (a filter no index serves, on millions of rows), so that
         * live updates never take the keyboard away. */
        if (a.need_refresh && (key_t0 > 0 || trace_now_ms() >= refresh_hold_until)) {
            a.need_refresh = false;
            double r0 = trace_now_ms();
            if (view_table[a.view]->refresh)
                view_table[a.view]->refresh(&a);
            double took = trace_now_ms() - r0;
            refresh_hold_until = took > 50 ? r0 + took * 4 : 0;
        }
        draw_all(&a);
        if (trace && first_frame)
            fprintf(trace, "first_screen_ms %.2f\n", trace_now_ms() - t_start);
        first_frame = false;
        if (key_t0 > 0) {
            if (trace)
                fprintf(trace, "key %s ms %.2f\n", key_name, trace_now_ms() - key_t0);
            key_t0 = 0;
        }

        term_event ev;
        term_read(POLL_MS, &ev);
        if (ev.key != TERM_KEY_NONE) {
            if (ev.key >= 0 || ev.key == TERM_KEY_RESIZE) {
                key_t0 = trace_now_ms();
                keys_name(ev.key, key_name, sizeof key_name);
            }
            handle_event(&a, &ev);
        }

        uint64_t cc = store_change_counter(a.st);
        if (cc != a.change_counter) {
            a.change_counter = cc;
            a.need_refresh = true;
            refresh_counters(&a);
        }
        int64_t now = hd_mono_ms();
        if (now - a.last_tick_ms >= TICK_MS) {
            a.last_tick_ms = now;
            refresh_histogram(&a);
            /* Countdowns move with time, not with commits, and "sending"
             * ends by lease expiry: the Queue and the detail (its "Next
             * attempt") are redrawn every tick. */
            if (a.view == VIEW_QUEUE || a.view == VIEW_DETAIL)
                a.need_refresh = true;
        }
        if (view_table[a.view]->tick)
            view_table[a.view]->tick(&a);
        if (a.test) {
            sitetest_result res;
            if (sitetest_poll(a.test, &res)) {
                hd_buf body = { 0 };
                hd_buf_printf(&body, "code: %d\ntime: %lld ms\n", res.response_code,
                              (long long)res.duration_ms);
                if (res.error)
                    hd_buf_printf(&body, "error: %s\n", res.error);
                hd_buf_printf(&body, "\nrequest headers:\n%s\nresponse headers:\n%s\nbody:\n",
                              res.request_headers ? res.request_headers : "",
                              res.response_headers ? res.response_headers : "");
                if (res.response_body)
                    hd_buf_append(&body, res.response_body, res.response_body_len);
                char title[160];
                snprintf(title, sizeof title, "Test of %s: %s", a.test_site,
                         retry_is_success(res.response_code) ? "OK" : "FAILED");
                sitetest_free(a.test);
                a.test = NULL;
                ui_popup(&a, title, hd_buf_str(&body));
                hd_buf_free(&body);
                sitetest_result_free(&res);
            }
        }
        if (a.eng) {
            engine_stats es;
            engine_get_stats(a.eng, &es);
            /* A database fault shows once as a message when it begins (the
             * header says so as long as it lasts). */
            if (es.running && es.fault_since != fault_shown) {
                fault_shown = es.fault_since;
                if (es.fault_since)
                    ui_flash(&a, true, "delivery engine: database error: %s (retrying)",
                             es.fault);
            }
            if (!es.running) {
                if (a.quit_stage)
                    a.running = false;
                else if (!engine_warned) {
                    engine_warned = true;
                    ui_flash(&a, true, "delivery engine stopped: %s", es.last_error);
                }
            }
        }
    }

    term_done();
    int rc = 0;
    if (a.eng) {
        engine_stop(a.eng, ENGINE_STOP_RELEASE);
        if (engine_join(a.eng, &err) != HD_OK) {
            fprintf(stderr, "hookdesk: delivery engine: %s\n", err.msg);
            rc = 1;
        }
    }
    if (trace) {
        trace_memory(trace);
        fclose(trace);
    }
    app_free(&a);
    store_close(a.st);
    return rc;
}
