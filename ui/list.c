/* list.c - the message list shared by Logs and Queue: keyset paging.
 *
 * DESIGN
 * Only the visible page is ever in memory: `page` holds at most `rows`
 * messages (one more is asked for, to know whether older rows exist).  The
 * position is the id of the first visible row (anchor_id) and `follow`,
 * true while the operator is at the newest end: then each reload asks for
 * the newest page, so new messages push in at the top as they arrive.
 * Moving past the page asks the store for the neighbouring rows by id
 * (PAGE_NEWER / PAGE_OLDER), never by OFFSET, so PgDn costs the same at
 * row 10 and at row 1,000,000.
 *
 * Where the selection is ("row 71 of 20,000") costs nothing per key: `pos`
 * (rows newer than the first visible one) moves with the list, by what each
 * move skipped.  Counting happens only when the filter or the data changed
 * (an idle console counts nothing), after the frame that answers the key
 * is out (msg_list_count, from the view's tick), and never looks at more than
 * UI_COUNT_CAP rows (store_messages_count_upto): past that the screen says
 * "20,000+".  Without a filter, or with statuses only, the total is the
 * live counters' (exact, free), and at the newest end the position is 0.
 */
#include <stdlib.h>
#include <string.h>

#include "hd_util.h"
#include "ui.h"


static void list_goto(app *a, msg_list *l, const msg_filter *f, int64_t id);
static bool list_query(app *a, const msg_filter *f, page_dir dir, int64_t anchor, int limit,
                       message_list *out)
{
    hd_error err = { 0 };
    memset(out, 0, sizeof *out);
    if (store_messages_page(a->st, f, dir, anchor, limit, out, &err) != HD_OK) {
        ui_db_error(a, &err);
        memset(out, 0, sizeof *out);
        return false;
    }
    return true;
}

const message *msg_list_selected(const msg_list *l)
{
    if (l->cursor < 0 || l->cursor >= l->page.count)
        return NULL;
    return &l->page.items[l->cursor];
}

bool msg_list_click(msg_list *l, int row)
{
    int i = row - 2;
    if (i < 0 || i >= l->page.count)
        return false;
    if (i == l->cursor)
        return true;
    l->cursor = i;
    return false;
}

void msg_list_goto(app *a, msg_list *l, const msg_filter *f, int64_t id)
{
    l->recount = true;   /* a jump: where it lands is counted again */
    list_goto(a, l, f, id);
}

void msg_list_free(msg_list *l)
{
    message_list_free(&l->page);
    memset(&l->page, 0, sizeof l->page);
}

/* After a reload: the counts are due when the filter (l->recount) or the
 * data changed.  They are made by msg_list_count once the frame is out. */
static void list_count_check(app *a, msg_list *l)
{
    if (l->recount || !l->counted_ms || l->counted_cc != a->change_counter) {
        l->recount = false;
        l->count_due = true;
        a->count_due = true;
    }
}

void msg_list_count(app *a, msg_list *l, const msg_filter *f)
{
    if (!l->count_due)
        return;
    hd_error err = { 0 };
    l->count_due = false;
    l->counted_cc = a->change_counter;
    l->counted_ms = hd_mono_ms();
    if (store_messages_count_upto(a->st, f, 0, UI_COUNT_CAP, &l->total, &l->total_more,
                                  &err) != HD_OK) {
        l->total = -1;
        ui_db_error(a, &err);
        return;
    }
    if (l->follow || !l->page.count) {
        l->pos = 0;
        l->pos_more = false;
    } else if (store_messages_count_upto(a->st, f, l->page.items[0].id, UI_COUNT_CAP, &l->pos,
                                         &l->pos_more, &err) != HD_OK) {
        l->pos = -1;
    }
}

/* After a move that skipped `by` rows (negative: towards the newest). */
static void list_moved(msg_list *l, int64_t by)
{
    if (l->pos >= 0)
        l->pos = l->pos + by < 0 ? 0 : l->pos + by;
}

/* The first visible row is the k-th oldest (k = page rows): from the total
 * when it is exact, else counted (up to the cap) after the frame. */
static void list_at_end(app *a, msg_list *l)
{
    if (l->total >= 0 && !l->total_more) {
        l->pos = l->total - l->page.count;
        l->pos_more = false;
        if (l->pos < 0)
            l->pos = 0;
    } else {
        l->pos = -1;
        l->count_due = true;
        a->count_due = true;
    }
}

void msg_list_reload(app *a, msg_list *l, const msg_filter *f)
{
    if (l->rows < 1)
        l->rows = 1;
    const message *sel = msg_list_selected(l);
    int64_t sel_id = sel ? sel->id : 0;
    bool pinned_top = l->follow && l->cursor == 0;

    message_list page;
    bool ok;
    if (l->follow || !l->anchor_id)
        ok = list_query(a, f, PAGE_FIRST, 0, l->rows + 1, &page);
    else
        ok = list_query(a, f, PAGE_AT, l->anchor_id, l->rows + 1, &page);
    if (!ok)
        return;
    if (page.count == 0 && !l->follow) {
        /* Everything from the anchor down went away (purged, filtered out):
         * fall back to the newest page. */
        message_list_free(&page);
        l->follow = true;
        if (!list_query(a, f, PAGE_FIRST, 0, l->rows + 1, &page))
            return;
    }
    l->more_below = page.count > l->rows;
    while (page.count > l->rows)
        message_free(&page.items[--page.count]);
    msg_list_free(l);
    l->page = page;
    l->anchor_id = page.count ? page.items[0].id : 0;
    if (!l->follow && l->anchor_id) {
        /* Nothing newer than the anchor any more means we are at the top. */
        message_list newer;
        if (list_query(a, f, PAGE_NEWER, l->anchor_id, 1, &newer)) {
            l->follow = newer.count == 0;
            message_list_free(&newer);
        }
    }

    if (pinned_top) {
        l->cursor = 0;
    } else {
        int found = -1;
        for (int i = 0; sel_id && i < page.count; i++)
            if (page.items[i].id == sel_id)
                found = i;
        if (found >= 0)
            l->cursor = found;
    }
    if (l->cursor >= page.count)
        l->cursor = page.count - 1;
    if (l->cursor < 0)
        l->cursor = 0;
    if (l->follow) {
        l->pos = 0;
        l->pos_more = false;
    }
    list_count_check(a, l);
}

/* Re-anchors at `id` (or the newest end when id is 0) and reloads. */
static void list_goto(app *a, msg_list *l, const msg_filter *f, int64_t id)
{
    l->follow = id == 0;
    l->anchor_id = id;
    l->cursor = -1;   /* do not chase the old selection */
    msg_list_reload(a, l, f);
}

/* A page older, the cursor on the same row; at the end, the last page. */
static void list_page_down(app *a, msg_list *l, const msg_filter *f)
{
    int n = l->page.count;
    message_list res;
    if (!l->more_below || !n) {
        l->cursor = n - 1;
    } else if (list_query(a, f, PAGE_OLDER, l->page.items[n - 1].id, l->rows, &res)) {
        int cur = l->cursor;
        if (res.count >= l->rows) {
            list_moved(l, n);
            list_goto(a, l, f, res.items[0].id);
            l->cursor = cur < l->page.count ? cur : l->page.count - 1;
        } else {
            message_list_free(&res);
            if (list_query(a, f, PAGE_LAST, 0, l->rows, &res) && res.count) {
                list_goto(a, l, f, res.items[0].id);
                list_at_end(a, l);
            }
            l->cursor = l->page.count - 1;
        }
        message_list_free(&res);
    }
    if (l->cursor < 0)
        l->cursor = 0;
}

/* A page newer, the cursor on the same row; near the top, the first page. */
static void list_page_up(app *a, msg_list *l, const msg_filter *f)
{
    message_list res;
    if (!l->page.count || l->follow) {
        l->cursor = 0;
    } else if (list_query(a, f, PAGE_NEWER, l->page.items[0].id, l->rows, &res)) {
        int cur = l->cursor;
        if (res.count >= l->rows && res.count) {
            list_moved(l, -res.count);
            list_goto(a, l, f, res.items[0].id);
        } else {
            list_goto(a, l, f, 0);
        }
        l->cursor = res.count >= l->rows ? (cur < l->page.count ? cur : 0) : 0;
        message_list_free(&res);
    }
}

bool msg_list_navigate(app *a, msg_list *l, const msg_filter *f, ui_request r)
{
    int n = l->page.count;
    message_list res;
    switch (r) {
    case REQ_UP:
        if (l->cursor > 0) {
            l->cursor--;
        } else if (n && list_query(a, f, PAGE_NEWER, l->page.items[0].id, 1, &res)) {
            if (res.count) {
                list_moved(l, -1);
                list_goto(a, l, f, res.items[0].id);
                l->cursor = 0;
            }
            message_list_free(&res);
        }
        return true;
    case REQ_DOWN:
        if (l->cursor < n - 1) {
            l->cursor++;
        } else if (l->more_below && n > 1) {
            list_moved(l, 1);
            list_goto(a, l, f, l->page.items[1].id);
            l->cursor = l->page.count - 1;
        } else if (l->more_below && n == 1) {
            if (list_query(a, f, PAGE_OLDER, l->page.items[0].id, 1, &res)) {
                if (res.count) {
                    list_moved(l, 1);
                    list_goto(a, l, f, res.items[0].id);
                }
                message_list_free(&res);
            }
            l->cursor = 0;
        }
        return true;
    case REQ_PAGE_DOWN:
        list_page_down(a, l, f);
        return true;
    case REQ_PAGE_UP:
        list_page_up(a, l, f);
        return true;
    case REQ_HALF_UP:
    case REQ_HALF_DOWN:
        /* Row by row: inside the page that is free, past it each step is
         * one indexed read, and the position follows exactly. */
        for (int i = 0; i < (l->rows + 1) / 2; i++)
            msg_list_navigate(a, l, f, r == REQ_HALF_UP ? REQ_UP : REQ_DOWN);
        return true;
    case REQ_FIRST:
        list_goto(a, l, f, 0);
        l->cursor = 0;
        return true;
    case REQ_LAST:
        if (list_query(a, f, PAGE_LAST, 0, l->rows, &res)) {
            if (res.count) {
                list_goto(a, l, f, res.items[0].id);
                list_at_end(a, l);
            }
            message_list_free(&res);
        }
        l->cursor = l->page.count ? l->page.count - 1 : 0;
        return true;
    default:
        return false;
    }
}

bool ui_cursor_move(int *cursor, int *top, int count, int rows, ui_request r)
{
    if (rows < 1)
        rows = 1;
    int c = *cursor;
    switch (r) {
    case REQ_UP: c--; break;
    case REQ_DOWN: c++; break;
    case REQ_PAGE_UP: c -= rows; break;
    case REQ_PAGE_DOWN: c += rows; break;
    case REQ_HALF_UP: c -= (rows + 1) / 2; break;
    case REQ_HALF_DOWN: c += (rows + 1) / 2; break;
    case REQ_FIRST: c = 0; break;
    case REQ_LAST: c = count - 1; break;
    default: return false;
    }
    if (c >= count)
        c = count - 1;
    if (c < 0)
        c = 0;
    *cursor = c;
    if (top) {
        if (c < *top)
            *top = c;
        if (c >= *top + rows)
            *top = c - rows + 1;
        if (*top < 0)
            *top = 0;
    }
    return true;
}
