/* test_ui_list.c - the console's keyset-paged message list (ui/list.c)
 * against a real SQLite store in a temp dir: the page holds only the
 * visible rows, and moving (Down past the page, PgDn, G, g, PgUp, Up) lands
 * on the right ids with a status filter or without. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hd_store.h"
#include "hd_util.h"
#include "../ui/ui.h"

#define N_MSG 95      /* messages in the store: ids 1..95 */
#define ROWS 10       /* visible rows */

typedef struct fixture {
    char dir[64];
    char path[96];
    app a;
} fixture;

static int setup(void **state)
{
    fixture *fx = hd_xcalloc(1, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/hd-uilist.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof fx->path, "%s/t.db", fx->dir);
    hd_error err = { 0 };
    store_options so = { .synchronous_full = false };
    assert_int_equal(store_open(fx->path, &so, &fx->a.st, &err), HD_OK);
    site s;
    site_init(&s);
    s.name = hd_xstrdup("demo");
    s.url = hd_xstrdup("http://127.0.0.1:9/x");
    int64_t site_id = 0;
    assert_int_equal(store_site_add(fx->a.st, &s, &site_id, &err), HD_OK);
    site_free(&s);
    assert_int_equal(store_tx_begin(fx->a.st, &err), HD_OK);
    for (int i = 1; i <= N_MSG; i++) {
        char action[32];
        snprintf(action, sizeof action, "%s.%d", i % 5 == 0 ? "invoice" : "order", i);
        new_message m = { .site_id = site_id, .action = action, .payload = "{}" };
        int64_t id = 0;
        assert_int_equal(store_message_add(fx->a.st, &m, &id, &err), HD_OK);
        assert_int_equal(id, i);
    }
    assert_int_equal(store_tx_commit(fx->a.st, &err), HD_OK);
    fx->a.logs.follow = true;
    fx->a.logs.rows = ROWS;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    msg_list_free(&fx->a.logs);
    store_close(fx->a.st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx);
    return 0;
}

static int64_t sel(const fixture *fx)
{
    const message *m = msg_list_selected(&fx->a.logs);
    return m ? m->id : -1;
}

static void test_pages_without_filter(void **state)
{
    fixture *fx = *state;
    msg_list *l = &fx->a.logs;
    msg_filter f;
    memset(&f, 0, sizeof f);
    msg_list_reload(&fx->a, l, &f);
    assert_int_equal(l->page.count, ROWS);          /* only the visible rows */
    assert_int_equal(l->page.items[0].id, N_MSG);   /* newest first */
    assert_true(l->more_below);
    assert_int_equal(sel(fx), 95);

    for (int i = 0; i < ROWS - 1; i++)
        assert_true(msg_list_navigate(&fx->a, l, &f, REQ_DOWN));
    assert_int_equal(sel(fx), 86);
    assert_true(msg_list_navigate(&fx->a, l, &f, REQ_DOWN));   /* past the page: scrolls */
    assert_int_equal(sel(fx), 85);
    assert_int_equal(l->page.items[0].id, 94);
    assert_false(l->follow);

    assert_true(msg_list_navigate(&fx->a, l, &f, REQ_PAGE_DOWN));
    assert_int_equal(l->page.items[0].id, 84);
    assert_int_equal(sel(fx), 75);

    assert_true(msg_list_navigate(&fx->a, l, &f, REQ_LAST));
    assert_int_equal(sel(fx), 1);
    assert_int_equal(l->page.items[0].id, ROWS);
    assert_false(l->more_below);
    assert_true(msg_list_navigate(&fx->a, l, &f, REQ_DOWN));   /* at the end: stays */
    assert_int_equal(sel(fx), 1);

    assert_true(msg_list_navigate(&fx->a, l, &f, REQ_PAGE_UP));
    assert_int_equal(l->page.items[0].id, 2 * ROWS);

    assert_true(msg_list_navigate(&fx->a, l, &f, REQ_FIRST));
    assert_int_equal(sel(fx), 95);
    assert_true(l->follow);
    assert_true(msg_list_navigate(&fx->a, l, &f, REQ_UP));     /* at the top: stays */
    assert_int_equal(sel(fx), 95);
    assert_false(msg_list_navigate(&fx->a, l, &f, REQ_RESEND));
}

static void test_new_rows_push_in_when_following(void **state)
{
    fixture *fx = *state;
    msg_list *l = &fx->a.logs;
    msg_filter f;
    memset(&f, 0, sizeof f);
    msg_list_reload(&fx->a, l, &f);
    assert_int_equal(sel(fx), 95);
    hd_error err = { 0 };
    new_message m = { .site_id = 1, .action = "late.arrival", .payload = "{}" };
    int64_t id = 0;
    assert_int_equal(store_message_add(fx->a.st, &m, &id, &err), HD_OK);
    msg_list_reload(&fx->a, l, &f);
    assert_int_equal(l->page.items[0].id, id);   /* at the top: it shows */
    assert_int_equal(sel(fx), id);

    /* Scrolled away from the top, the view stays where it is. */
    assert_true(msg_list_navigate(&fx->a, l, &f, REQ_PAGE_DOWN));
    int64_t top = l->page.items[0].id;
    assert_int_equal(store_message_add(fx->a.st, &m, &id, &err), HD_OK);
    msg_list_reload(&fx->a, l, &f);
    assert_int_equal(l->page.items[0].id, top);
}

static void test_pages_with_filter(void **state)
{
    fixture *fx = *state;
    msg_list *l = &fx->a.logs;
    msg_filter f;
    memset(&f, 0, sizeof f);
    f.action_text = "INVOICE";   /* case-insensitive: ids 5, 10, ... 95 */
    msg_list_reload(&fx->a, l, &f);
    assert_int_equal(l->page.count, ROWS);
    assert_int_equal(sel(fx), 95);
    assert_int_equal(l->page.items[ROWS - 1].id, 50);
    assert_true(msg_list_navigate(&fx->a, l, &f, REQ_PAGE_DOWN));
    /* 19 matches: the second page is the last one, shown full */
    assert_int_equal(l->page.items[l->page.count - 1].id, 5);
    assert_true(msg_list_navigate(&fx->a, l, &f, REQ_LAST));
    assert_int_equal(sel(fx), 5);
    assert_true(msg_list_navigate(&fx->a, l, &f, REQ_FIRST));
    assert_int_equal(sel(fx), 95);
    f.action_text = "nothing-matches";
    msg_list_reload(&fx->a, l, &f);
    assert_int_equal(l->page.count, 0);
    assert_null(msg_list_selected(l));
    assert_true(msg_list_navigate(&fx->a, l, &f, REQ_DOWN));
    assert_true(msg_list_navigate(&fx->a, l, &f, REQ_PAGE_DOWN));
    assert_true(msg_list_navigate(&fx->a, l, &f, REQ_LAST));
    assert_null(msg_list_selected(l));
}

/* A reload and its counts, as the console does them (the counts after the frame). */
static void reload_counted(fixture *fx, const msg_filter *f)
{
    msg_list_reload(&fx->a, &fx->a.logs, f);
    msg_list_count(&fx->a, &fx->a.logs, f);
}

/* The selected row's number, as "row N of M" shows it. */
static int64_t row_of(const fixture *fx)
{
    return fx->a.logs.pos + fx->a.logs.cursor + 1;
}

static void test_position_kept_while_moving(void **state)
{
    fixture *fx = *state;
    msg_list *l = &fx->a.logs;
    msg_filter f;
    memset(&f, 0, sizeof f);
    reload_counted(fx, &f);
    assert_int_equal(l->total, N_MSG);
    assert_false(l->total_more);
    char where[64];
    ui_fmt_position(l, where, sizeof where);
    assert_string_equal(where, "row 1 of 95");
    /* Without a filter, the row of id k is N_MSG - k + 1, whatever the move. */
    static const ui_request moves[] = { REQ_DOWN, REQ_DOWN, REQ_PAGE_DOWN, REQ_PAGE_DOWN,
                                        REQ_UP, REQ_LAST, REQ_UP, REQ_PAGE_UP, REQ_PAGE_UP,
                                        REQ_DOWN, REQ_FIRST, REQ_PAGE_DOWN, REQ_PAGE_UP };
    for (size_t i = 0; i < sizeof moves / sizeof moves[0]; i++) {
        for (int k = 0; k < (moves[i] == REQ_DOWN ? ROWS : 1); k++)
            assert_true(msg_list_navigate(&fx->a, l, &f, moves[i]));
        assert_int_equal(row_of(fx), N_MSG - sel(fx) + 1);
        assert_false(l->pos_more);
    }
    assert_true(msg_list_navigate(&fx->a, l, &f, REQ_LAST));
    ui_fmt_position(l, where, sizeof where);
    assert_string_equal(where, "row 95 of 95");

    /* Under a filter (ids 5, 10, ... 95: id k is row (95 - k) / 5 + 1),
     * and counted again when the data changed. */
    f.action_text = "invoice";
    l->recount = true;
    l->follow = true;
    reload_counted(fx, &f);
    assert_int_equal(l->total, 19);
    assert_true(msg_list_navigate(&fx->a, l, &f, REQ_PAGE_DOWN));
    assert_int_equal(row_of(fx), (N_MSG - sel(fx)) / 5 + 1);
    hd_error err = { 0 };
    new_message m = { .site_id = 1, .action = "invoice.late", .payload = "{}" };
    assert_int_equal(store_message_add(fx->a.st, &m, NULL, &err), HD_OK);
    int64_t before = row_of(fx);
    l->recount = true;
    reload_counted(fx, &f);
    assert_int_equal(l->total, 20);
    assert_int_equal(row_of(fx), before + 1);   /* one more row above it */
}

static void test_count_upto_bounded(void **state)
{
    fixture *fx = *state;
    hd_error err = { 0 };
    msg_filter f;
    memset(&f, 0, sizeof f);
    int64_t n = -1;
    bool more = true;
    /* No condition: the counters answer, exactly, whatever the cap. */
    assert_int_equal(store_messages_count_upto(fx->a.st, &f, 0, 10, &n, &more, &err), HD_OK);
    assert_int_equal(n, N_MSG);
    assert_false(more);
    /* Newer than an id: counted, up to the cap. */
    assert_int_equal(store_messages_count_upto(fx->a.st, &f, 90, 0, &n, &more, &err), HD_OK);
    assert_int_equal(n, 5);
    assert_false(more);
    assert_int_equal(store_messages_count_upto(fx->a.st, &f, 50, 10, &n, &more, &err), HD_OK);
    assert_int_equal(n, 10);
    assert_true(more);
    assert_int_equal(store_messages_count_upto(fx->a.st, &f, 85, 10, &n, &more, &err), HD_OK);
    assert_int_equal(n, 10);   /* exactly the cap is not "more" */
    assert_false(more);
    /* An action search: each matching name on its index, summed. */
    f.action_text = "invoice";
    assert_int_equal(store_messages_count_upto(fx->a.st, &f, 0, 10, &n, &more, &err), HD_OK);
    assert_int_equal(n, 10);
    assert_true(more);
    assert_int_equal(store_messages_count_upto(fx->a.st, &f, 50, 100, &n, &more, &err), HD_OK);
    assert_int_equal(n, 9);
    assert_false(more);
    /* Two statuses: one count each. */
    memset(&f, 0, sizeof f);
    f.status_mask = MSG_STATUS_BIT(MSG_QUEUED) | MSG_STATUS_BIT(MSG_FAILED);
    assert_int_equal(store_messages_count_upto(fx->a.st, &f, 45, 0, &n, &more, &err), HD_OK);
    assert_int_equal(n, 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pages_without_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_rows_push_in_when_following, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pages_with_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_position_kept_while_moving, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_upto_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
