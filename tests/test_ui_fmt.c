/* test_ui_fmt.c - the console's logic that does not need a terminal: cell
 * fitting (UTF-8, escapes), countdowns, success rates, the sparkline's
 * bucket scaling, filters (cycling, description, time ranges) and keymap
 * lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "hd_sanitize.h"
#include "hd_util.h"
#include "../ui/term.h"
#include "../ui/ui.h"

static void test_cell_pads_and_cuts(void **state)
{
    (void)state;
    char out[64];
    ui_fmt_cell("abc", 6, false, out, sizeof out);
    assert_string_equal(out, "abc   ");
    ui_fmt_cell("abcdefgh", 6, false, out, sizeof out);
    assert_string_equal(out, "abcde~");
    ui_fmt_cell("abcdefgh", 6, true, out, sizeof out);
    assert_string_equal(out, "abcde\xe2\x80\xa6");
    ui_fmt_cell(NULL, 3, false, out, sizeof out);
    assert_string_equal(out, "   ");
    ui_fmt_cell("abc", 0, false, out, sizeof out);
    assert_string_equal(out, "");
    /* a tiny buffer is never overrun */
    char tiny[4];
    ui_fmt_cell("abcdefgh", 10, false, tiny, sizeof tiny);
    assert_int_equal(strlen(tiny), 3);
}

static void test_cell_utf8_width(void **state)
{
    (void)state;
    char out[64];
    /* Wide characters take two columns: 3 of them fill 6. */
    ui_fmt_cell("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 6, true, out, sizeof out);
    assert_string_equal(out, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    assert_int_equal(utf8_width(out), 6);
    /* In 5 columns: two wide ones (4) + the mark (1). */
    ui_fmt_cell("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 5, true, out, sizeof out);
    assert_int_equal(utf8_width(out), 5);
    assert_non_null(strstr(out, "\xe2\x80\xa6"));
    /* In 4 columns: one wide (2) + mark (1) + a pad space: never over. */
    ui_fmt_cell("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4, true, out, sizeof out);
    assert_int_equal(utf8_width(out), 4);
    /* Accented Latin is one column per character. */
    ui_fmt_cell("Zo\xc3\xab", 5, true, out, sizeof out);
    assert_string_equal(out, "Zo\xc3\xab  ");
}

static void test_cell_neutralises_escapes(void **state)
{
    (void)state;
    char out[128];
    ui_fmt_cell("\x1b]0;pwned\x07\x1b[31mred\r\n", 40, true, out, sizeof out);
    for (const char *p = out; *p; p++) {
        unsigned char c = (unsigned char)*p;
        assert_true(c >= 0x20 && c != 0x7f);
    }
    assert_non_null(strstr(out, "red"));
    assert_non_null(strstr(out, "pwned"));
    assert_int_equal(utf8_width(out), 40);
}

static void test_next_countdown(void **state)
{
    (void)state;
    message m;
    memset(&m, 0, sizeof m);
    char out[32];
    int64_t now = 1000000;
    m.status = MSG_DONE;
    ui_fmt_next(&m, now, out, sizeof out);
    assert_string_equal(out, "-");
    m.status = MSG_RESENT;
    m.due_at = now + 4000;
    ui_fmt_next(&m, now, out, sizeof out);
    assert_string_equal(out, "4s");
    m.due_at = now + 125000;
    ui_fmt_next(&m, now, out, sizeof out);
    assert_string_equal(out, "2m05s");
    m.due_at = now - 5;
    ui_fmt_next(&m, now, out, sizeof out);
    assert_string_equal(out, "now");
    m.in_flight = true;
    m.due_at = now + 30000;   /* the lease expiry while in flight */
    ui_fmt_next(&m, now, out, sizeof out);
    assert_string_equal(out, "sending");
}

/* Why a pending message waits: paused, its site's circuit, Retry-After;
 * the long form when it fits, the short one at 80 columns. */
static void test_wait_reasons(void **state)
{
    (void)state;
    message m;
    memset(&m, 0, sizeof m);
    char out[64];
    int64_t now = 1000000;
    m.status = MSG_RESENT;
    m.due_at = now + 4000;
    circuit closed = { .state = CIRCUIT_CLOSED };
    circuit open = { .state = CIRCUIT_OPEN, .failures = 5, .until_ms = now + 7000 };
    circuit probing = { .state = CIRCUIT_PROBING, .until_ms = now + 30000 };

    /* nothing special: the countdown, as ui_fmt_next */
    ui_fmt_wait(&m, false, NULL, now, 0, out, sizeof out);
    assert_string_equal(out, "4s");
    ui_fmt_wait(&m, false, &closed, now, 0, out, sizeof out);
    assert_string_equal(out, "4s");
    /* paused wins over everything but sending */
    ui_fmt_wait(&m, true, &open, now, 0, out, sizeof out);
    assert_string_equal(out, "paused");
    /* an open circuit whose probe comes first */
    ui_fmt_wait(&m, false, &open, now, 0, out, sizeof out);
    assert_string_equal(out, "circuit open, probe in 7s");
    ui_fmt_wait(&m, false, &open, now, 20, out, sizeof out);
    assert_string_equal(out, "circuit open 7s");
    open.until_ms = now + 125000;
    ui_fmt_wait(&m, false, &open, now, 20, out, sizeof out);
    assert_string_equal(out, "circuit open 2m05s");
    ui_fmt_wait(&m, false, &open, now, 40, out, sizeof out);
    assert_string_equal(out, "circuit open, probe in 2m05s");
    /* its own time is later than the probe: its own countdown */
    m.due_at = now + 200000;
    ui_fmt_wait(&m, false, &open, now, 0, out, sizeof out);
    assert_string_equal(out, "3m20s");
    m.due_at = now - 10;
    open.until_ms = now - 5;
    ui_fmt_wait(&m, false, &open, now, 0, out, sizeof out);
    assert_string_equal(out, "circuit open, probe due");
    ui_fmt_wait(&m, false, &open, now, 20, out, sizeof out);
    assert_string_equal(out, "circuit open, due");
    /* a probe under way holds every other message of the site */
    m.due_at = now + 999999;
    ui_fmt_wait(&m, false, &probing, now, 0, out, sizeof out);
    assert_string_equal(out, "circuit open, probing");
    ui_fmt_wait(&m, false, &probing, now, 20, out, sizeof out);
    assert_string_equal(out, "circuit probing");
    /* ... but not the probe itself, nor a finished message */
    m.in_flight = true;
    ui_fmt_wait(&m, false, &probing, now, 0, out, sizeof out);
    assert_string_equal(out, "sending");
    m.in_flight = false;
    m.status = MSG_DONE;
    ui_fmt_wait(&m, true, &probing, now, 0, out, sizeof out);
    assert_string_equal(out, "-");
    /* Retry-After */
    m.status = MSG_RESENT;
    m.due_at = now + 3540000;
    m.retry_after_ms = 3540000;
    ui_fmt_wait(&m, false, &closed, now, 0, out, sizeof out);
    assert_string_equal(out, "in 59m (Retry-After)");
    ui_fmt_wait(&m, false, &closed, now, 20, out, sizeof out);
    assert_string_equal(out, "in 59m (Retry-After)");   /* fits exactly */
    m.due_at = now + 3539000;
    ui_fmt_wait(&m, false, &closed, now, 20, out, sizeof out);
    assert_string_equal(out, "58m59s Retry-After");
    m.due_at = now - 1;   /* due: nothing left to wait for */
    ui_fmt_wait(&m, false, NULL, now, 0, out, sizeof out);
    assert_string_equal(out, "now");
}

static void test_circuit_cells(void **state)
{
    (void)state;
    char out[64];
    int64_t now = 5000000;
    circuit c = { .state = CIRCUIT_CLOSED };
    ui_fmt_circuit(&c, now, out, sizeof out);
    assert_string_equal(out, "closed");
    ui_fmt_circuit_state(&c, now, out, sizeof out);
    assert_string_equal(out, "closed");
    c.state = CIRCUIT_OPEN;
    c.until_ms = now + 6500;   /* rounded up: never "0s" while waiting */
    ui_fmt_circuit(&c, now, out, sizeof out);
    assert_string_equal(out, "open 7s");
    ui_fmt_circuit_state(&c, now, out, sizeof out);
    assert_string_equal(out, "open, probe in 7s");
    c.until_ms = now + 299000;
    ui_fmt_circuit(&c, now, out, sizeof out);
    assert_string_equal(out, "open 4m59s");   /* the column's 10 */
    c.until_ms = now;
    ui_fmt_circuit(&c, now, out, sizeof out);
    assert_string_equal(out, "open");
    ui_fmt_circuit_state(&c, now, out, sizeof out);
    assert_string_equal(out, "open, probe due");
    c.state = CIRCUIT_PROBING;
    ui_fmt_circuit(&c, now, out, sizeof out);
    assert_string_equal(out, "probing");
    ui_fmt_circuit_state(&c, now, out, sizeof out);
    assert_string_equal(out, "open, probing");
}

static void test_rate(void **state)
{
    (void)state;
    char out[16];
    ui_fmt_rate(0, 0, out, sizeof out);
    assert_string_equal(out, "-");
    ui_fmt_rate(83, 100, out, sizeof out);
    assert_string_equal(out, "83%");
    ui_fmt_rate(2, 3, out, sizeof out);
    assert_string_equal(out, "67%");
    ui_fmt_rate(5, 5, out, sizeof out);
    assert_string_equal(out, "100%");
}

static void test_spark_levels(void **state)
{
    (void)state;
    uint32_t v[6] = { 0, 1, 4, 8, 7, 100 };
    int lv[6];
    ui_spark_levels(v, 6, lv);
    assert_int_equal(lv[0], 0);   /* nothing: no bar */
    assert_int_equal(lv[1], 1);   /* any activity shows */
    assert_int_equal(lv[5], 8);   /* the busiest bucket is full */
    for (int i = 1; i < 6; i++)
        assert_true(lv[i] >= lv[i - 1] || v[i] < v[i - 1]);
    uint32_t flat[3] = { 5, 5, 5 };
    ui_spark_levels(flat, 3, lv);
    assert_int_equal(lv[0], 8);
    assert_int_equal(lv[2], 8);
    uint32_t zero[3] = { 0, 0, 0 };
    ui_spark_levels(zero, 3, lv);
    assert_int_equal(lv[1], 0);
    /* Huge counts do not overflow the scaling. */
    uint32_t big[2] = { UINT32_MAX, UINT32_MAX / 2 };
    ui_spark_levels(big, 2, lv);
    assert_int_equal(lv[0], 8);
    assert_int_equal(lv[1], 4);
}

static void test_spark_render(void **state)
{
    (void)state;
    uint32_t v[4] = { 0, 1, 2, 8 };
    char out[64];
    ui_spark_render(v, 4, true, out, sizeof out);
    assert_string_equal(out, " \xe2\x96\x81\xe2\x96\x82\xe2\x96\x88");
    assert_int_equal(utf8_width(out), 4);
    ui_spark_render(v, 4, false, out, sizeof out);
    assert_string_equal(out, " ._#");
    /* A short buffer is cut, never overrun, never mid-character. */
    char small[5];
    ui_spark_render(v, 4, true, small, sizeof small);
    assert_string_equal(small, " \xe2\x96\x81");
}

static void test_filter_cycle_and_describe(void **state)
{
    (void)state;
    ui_filter f;
    memset(&f, 0, sizeof f);
    assert_false(ui_filter_active(&f));
    ui_filter_cycle_status(&f);
    assert_int_equal(f.status_mask, MSG_STATUS_BIT(MSG_QUEUED));
    ui_filter_cycle_status(&f);
    ui_filter_cycle_status(&f);
    ui_filter_cycle_status(&f);
    assert_int_equal(f.status_mask, MSG_STATUS_BIT(MSG_FAILED));
    ui_filter_cycle_status(&f);
    assert_int_equal(f.status_mask, 0);
    f.status_mask = MSG_PENDING_MASK;   /* mixed: starts over */
    ui_filter_cycle_status(&f);
    assert_int_equal(f.status_mask, MSG_STATUS_BIT(MSG_QUEUED));

    f.status_mask = MSG_STATUS_BIT(MSG_FAILED);
    f.site_id = 7;
    f.site_name = hd_xstrdup("demo-ok");
    f.customer = hd_xstrdup("cus_\x1b[2J001");
    f.action = hd_xstrdup("order");
    assert_true(ui_filter_active(&f));
    char d[256];
    ui_filter_describe(&f, d, sizeof d);
    assert_non_null(strstr(d, "status=failed"));
    assert_non_null(strstr(d, "site=demo-ok"));
    assert_non_null(strstr(d, "action~order"));
    assert_null(strchr(d, '\x1b'));   /* the customer came from outside */

    msg_filter mf;
    ui_filter_to_msg(&f, &mf);
    assert_int_equal(mf.status_mask, MSG_STATUS_BIT(MSG_FAILED));
    assert_int_equal(mf.site_id, 7);
    assert_string_equal(mf.action_text, "order");
    assert_ptr_equal(mf.customer, f.customer);

    ui_filter_clear(&f);
    assert_false(ui_filter_active(&f));
    assert_null(f.customer);
    ui_filter_describe(&f, d, sizeof d);
    assert_string_equal(d, "");
}

static void test_time_range(void **state)
{
    (void)state;
    int64_t now = 1800000000000LL, since = -1, until = -1;
    const char *why = NULL;
    assert_true(ui_parse_range("1h", now, &since, &until, &why));
    assert_int_equal(since, now - 3600000);
    assert_int_equal(until, 0);
    assert_true(ui_parse_range(" 2026-11-01 .. 2026-11-30 ", now, &since, &until, &why));
    int64_t a, b;
    assert_true(hd_time_parse("2026-11-01", &a));
    assert_true(hd_time_parse("2026-12-01", &b));
    /* issue #11: a date-only end includes its day (the 30th is in) */
    assert_int_equal(since, a);
    assert_int_equal(until, b);
    int64_t a2;
    assert_true(hd_time_parse("2026-11-02", &a2));
    assert_true(ui_parse_range("..2026-11-01", now, &since, &until, &why));
    assert_int_equal(since, 0);
    assert_int_equal(until, a2);
    /* a single date is that day, not "since" */
    assert_true(ui_parse_range("2026-11-01", now, &since, &until, &why));
    assert_int_equal(since, a);
    assert_int_equal(until, a2);
    /* an end with a time stays exact */
    int64_t c;
    assert_true(hd_time_parse("2026-11-30 12:00", &c));
    assert_true(ui_parse_range("2026-11-01..2026-11-30 12:00", now, &since, &until, &why));
    assert_int_equal(until, c);
    assert_true(ui_parse_range("2026-11-30..2026-11-30", now, &since, &until, &why));
    assert_true(ui_parse_range("", now, &since, &until, &why));
    assert_int_equal(since, 0);
    assert_int_equal(until, 0);
    assert_false(ui_parse_range("yesterday", now, &since, &until, &why));
    assert_non_null(why);
    why = NULL;
    assert_false(ui_parse_range("2026-11-30..2026-11-01", now, &since, &until, &why));
    assert_non_null(strstr(why, "not after"));
}

static void test_keymaps(void **state)
{
    (void)state;
    static const keybind view[] = {
        { 'q', REQ_BACK, "Back" },
        { 's', REQ_SEND_NOW, "Send now" },
        { 0, REQ_NONE, NULL },
    };
    /* the view's map first, then the generic one */
    assert_int_equal(keys_resolve(view, 'q'), REQ_BACK);
    assert_int_equal(keys_resolve(view, 's'), REQ_SEND_NOW);
    assert_int_equal(keys_resolve(view, 'j'), REQ_DOWN);
    assert_int_equal(keys_resolve(view, TK_DOWN), REQ_DOWN);
    assert_int_equal(keys_resolve(view, TK_NPAGE), REQ_PAGE_DOWN);
    assert_int_equal(keys_resolve(view, 'G'), REQ_LAST);
    assert_int_equal(keys_resolve(view, '2'), REQ_VIEW_QUEUE);
    assert_int_equal(keys_resolve(view, '\t'), REQ_NEXT_VIEW);
    assert_int_equal(keys_resolve(NULL, 'q'), REQ_QUIT);
    assert_int_equal(keys_resolve(view, 'Z'), REQ_NONE);
    assert_int_equal(keys_lookup(view, 'j'), REQ_NONE);
    char n[16];
    keys_name('\n', n, sizeof n);
    assert_string_equal(n, "Enter");
    keys_name(TK_CTRL('s'), n, sizeof n);
    assert_string_equal(n, "^S");
    keys_name(TK_NPAGE, n, sizeof n);
    assert_string_equal(n, "PgDn");
    keys_name('x', n, sizeof n);
    assert_string_equal(n, "x");
    /* every request has help text (the ? overlay is generated from it) */
    for (int r = 1; r < REQ_COUNT; r++)
        assert_true(strlen(ui_request_help((ui_request)r)) > 0);
    /* every view is in the table with a keymap and a draw function */
    for (int v = 0; v < VIEW_COUNT; v++) {
        assert_non_null(ui_views[v]->keys);
        assert_non_null(ui_views[v]->draw);
    }
}

static void test_cursor_move(void **state)
{
    (void)state;
    int c = 0, top = 0;
    assert_true(ui_cursor_move(&c, &top, 50, 10, REQ_DOWN));
    assert_int_equal(c, 1);
    assert_true(ui_cursor_move(&c, &top, 50, 10, REQ_PAGE_DOWN));
    assert_int_equal(c, 11);
    assert_int_equal(top, 2);
    assert_true(ui_cursor_move(&c, &top, 50, 10, REQ_LAST));
    assert_int_equal(c, 49);
    assert_int_equal(top, 40);
    assert_true(ui_cursor_move(&c, &top, 50, 10, REQ_PAGE_DOWN));
    assert_int_equal(c, 49);
    assert_true(ui_cursor_move(&c, &top, 50, 10, REQ_FIRST));
    assert_int_equal(c, 0);
    assert_int_equal(top, 0);
    assert_true(ui_cursor_move(&c, &top, 50, 10, REQ_UP));
    assert_int_equal(c, 0);
    assert_false(ui_cursor_move(&c, &top, 50, 10, REQ_RESEND));
    c = 3;
    assert_true(ui_cursor_move(&c, &top, 0, 10, REQ_DOWN));   /* empty list */
    assert_int_equal(c, 0);
}

static void test_thousands_and_position(void **state)
{
    (void)state;
    char out[64];
    ui_fmt_thousands(0, out, sizeof out);
    assert_string_equal(out, "0");
    ui_fmt_thousands(999, out, sizeof out);
    assert_string_equal(out, "999");
    ui_fmt_thousands(20000, out, sizeof out);
    assert_string_equal(out, "20,000");
    ui_fmt_thousands(1234567, out, sizeof out);
    assert_string_equal(out, "1,234,567");
    message rows[3];
    memset(rows, 0, sizeof rows);
    msg_list l;
    memset(&l, 0, sizeof l);
    ui_fmt_position(&l, out, sizeof out);
    assert_string_equal(out, "");   /* empty list: nothing to say */
    l.page.items = rows;
    l.page.count = 3;
    l.pos = 68;
    l.cursor = 2;
    l.total = 20000;
    ui_fmt_position(&l, out, sizeof out);
    assert_string_equal(out, "row 71 of 20,000");
    l.total_more = true;
    l.pos_more = true;
    ui_fmt_position(&l, out, sizeof out);
    assert_string_equal(out, "row 71+ of 20,000+");
    l.pos = -1;
    l.total = -1;
    ui_fmt_position(&l, out, sizeof out);
    assert_string_equal(out, "row ? of ?");
}

static void test_fit_columns(void **state)
{
    (void)state;
    int w[4];
    /* Fits: each as wide as it wants, the rest to column 1. */
    const int want[4] = { 3, 10, 8, 6 }, min[4] = { 3, 4, 4, 6 };
    ui_fit_columns(want, min, 4, 40, 1, w);
    assert_int_equal(w[0], 3);
    assert_int_equal(w[1], 40 - 3 - 3 - 8 - 6);
    assert_int_equal(w[2], 8);
    assert_int_equal(w[3], 6);
    /* Too narrow: the widest give up first, down to their minimum. */
    const int want2[4] = { 3, 30, 20, 6 };
    ui_fit_columns(want2, min, 4, 40, 1, w);
    assert_int_equal(w[0] + w[1] + w[2] + w[3] + 3, 40);
    assert_int_equal(w[0], 3);
    assert_int_equal(w[3], 6);
    assert_true(w[1] - w[2] <= 1 && w[2] - w[1] <= 1);   /* shared the loss */
    /* Narrower than the minimums: every column at its minimum. */
    ui_fit_columns(want2, min, 4, 10, 1, w);
    assert_int_equal(w[1], 4);
    assert_int_equal(w[2], 4);
}

int main(void)
{
    setlocale(LC_ALL, "C.UTF-8");   /* utf8_width uses wcwidth */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cell_pads_and_cuts),
        cmocka_unit_test(test_cell_utf8_width),
        cmocka_unit_test(test_cell_neutralises_escapes),
        cmocka_unit_test(test_wait_reasons),
        cmocka_unit_test(test_circuit_cells),
        cmocka_unit_test(test_next_countdown),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_spark_levels),
        cmocka_unit_test(test_spark_render),
        cmocka_unit_test(test_filter_cycle_and_describe),
        cmocka_unit_test(test_time_range),
        cmocka_unit_test(test_keymaps),
        cmocka_unit_test(test_cursor_move),
        cmocka_unit_test(test_thousands_and_position),
        cmocka_unit_test(test_fit_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
