/* store_pages.c - pages and counts of messages for the screens and the CLI
 * (keyset paging over ids, newest first; no query loads a whole table).
 *
 * A filter's SQL is built from a fixed set of WHERE fragments, so its text
 * depends only on which filters are set (its shape) and the direction:
 * page and count statements are cached per shape (st->page_stmts,
 * st->count_stmts).  Several statuses, or a site without a status, run as
 * one indexed query per status, merged here; an action search resolves the
 * matching names in the actions table first (store_messages.c keeps it).
 * The filters' SQL fragments are store_filters.c's (the bulk resend uses
 * them too).
 */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static hd_status messages_page(sq_store *st, const msg_filter *f, page_dir dir,
                               int64_t anchor_id, int limit, message_list *out, hd_error *err);

/* ------------------------------------------------------------------------ */
/* Pages                                                                    */

void page_sql(hd_buf *b, int shape, page_dir dir)
{
    hd_buf_puts(b, "SELECT " MSG_COLS MSG_FROM " WHERE 1");
    static const char *const order[] = {
        [PAGE_FIRST] = " ORDER BY m.id DESC",
        [PAGE_LAST] = " ORDER BY m.id ASC",
        [PAGE_OLDER] = " AND m.id < :anchor ORDER BY m.id DESC",
        [PAGE_NEWER] = " AND m.id > :anchor ORDER BY m.id ASC",
        [PAGE_AT] = " AND m.id <= :anchor ORDER BY m.id DESC",
    };
    filter_sql(b, shape);
    if ((unsigned)dir < sizeof order / sizeof order[0])
        hd_buf_puts(b, order[dir]);
    hd_buf_puts(b, " LIMIT :limit");
}

static sqlite3_stmt *page_stmt(sq_store *st, int shape, page_dir dir, hd_error *err)
{
    sqlite3_stmt **slot = &st->page_stmts[shape][dir];
    if (*slot) {
        sqlite3_reset(*slot);
        sqlite3_clear_bindings(*slot);
        return *slot;
    }
    hd_buf b = { 0 };
    page_sql(&b, shape, dir);
    *slot = stmt_prepare(st, hd_buf_str(&b), err);
    hd_buf_free(&b);
    return *slot;
}

void count_sql(hd_buf *b, int shape)
{
    hd_buf_puts(b, "SELECT count(*) FROM messages m WHERE 1");
    filter_sql(b, shape);
}

/* One page for a filter with at most one status. */
static hd_status page_query(sq_store *st, const msg_filter *f, page_dir dir, int64_t anchor_id,
                            int limit, message_list *out, hd_error *err)
{
    sqlite3_stmt *q = page_stmt(st, filter_shape(f), dir, err);
    if (!q)
        return HD_DB;
    filter_bind(q, f);
    bind_i64(q, ":anchor", anchor_id);
    bind_i64(q, ":limit", limit);
    bind_i64(q, ":now", hd_now_ms());
    return collect_messages(st, q, out, err);
}

static int cmp_id_desc(const void *a, const void *b)
{
    int64_t x = ((const message *)a)->id, y = ((const message *)b)->id;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int cmp_id_asc(const void *a, const void *b)
{
    return -cmp_id_desc(a, b);
}


/* Rows gathered from several ordered queries: keep the `limit` nearest the
 * anchor (the lowest ids going up, the highest going down). */
static void keep_nearest(message_list *out, bool ascending, int limit)
{
    if (out->count > 1)
        qsort(out->items, (size_t)out->count, sizeof *out->items,
              ascending ? cmp_id_asc : cmp_id_desc);
    while (out->count > limit)
        message_free(&out->items[--out->count]);
}

/* Queried oldest first to find the rows: hand them back newest first. */
static void newest_first(message_list *out, bool ascending)
{
    if (!ascending)
        return;
    for (int i = 0, j = out->count - 1; i < j; i++, j--) {
        message t = out->items[i];
        out->items[i] = out->items[j];
        out->items[j] = t;
    }
}

/* ------------------------------------------------------------------------ */
/* Action search                                                            */

/* An action search first finds the matching names in the small actions
 * table.  Up to ACTION_MATCH_MAX names are searched one indexed walk each
 * (messages(action, id)); more than that means matches are common, and the
 * plain scan finds a page of them quickly. */
#define ACTION_MATCH_MAX 32

typedef struct action_names {
    char *names[ACTION_MATCH_MAX + 1];
    int count;                        /* ACTION_MATCH_MAX + 1 = too many */
} action_names;

static void action_names_free(action_names *a)
{
    for (int i = 0; i < a->count; i++)
        free(a->names[i]);
    a->count = 0;
}

static hd_status actions_matching(sq_store *st, const char *text, action_names *out, hd_error *err)
{
    out->count = 0;
    sqlite3_stmt *q = stmt_get(st, STMT_ACTIONS_MATCHING, err);
    if (!q)
        return HD_DB;
    bind_text(q, ":text", text);
    bind_i64(q, ":limit", ACTION_MATCH_MAX + 1);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        out->names[out->count++] = hd_xstrdup((const char *)sqlite3_column_text(q, 0));
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "searching actions");
    sqlite3_reset(q);
    if (r != HD_OK)
        action_names_free(out);
    return r;
}

/* True when f searches action text and the matching names were resolved
 * (few enough to walk each); *names then holds them. */
static bool action_search_resolved(sq_store *st, const msg_filter *f, action_names *names,
                                   hd_status *rc, hd_error *err)
{
    *rc = HD_OK;
    names->count = 0;
    if (!f || !f->action_text || !*f->action_text || f->action)
        return false;
    *rc = actions_matching(st, f->action_text, names, err);
    if (*rc != HD_OK)
        return true;
    if (names->count > ACTION_MATCH_MAX) {
        action_names_free(names);
        return false;
    }
    return true;
}

static hd_status page_by_actions(sq_store *st, const msg_filter *f, const action_names *names,
                                 page_dir dir, int64_t anchor_id, int limit, message_list *out,
                                 hd_error *err)
{
    msg_filter one = *f;
    one.action_text = NULL;
    hd_status rc = HD_OK;
    for (int i = 0; rc == HD_OK && i < names->count; i++) {
        one.action = names->names[i];
        message_list part;
        rc = messages_page(st, &one, dir, anchor_id, limit, &part, err);
        if (rc != HD_OK)
            break;
        if (part.count > 0) {
            out->items = hd_xrealloc(out->items,
                                     (size_t)(out->count + part.count) * sizeof *out->items);
            memcpy(out->items + out->count, part.items, (size_t)part.count * sizeof *part.items);
            out->count += part.count;
        }
        free(part.items);
    }
    if (rc != HD_OK) {
        message_list_free(out);
        return rc;
    }
    bool ascending = dir == PAGE_NEWER || dir == PAGE_LAST;
    keep_nearest(out, ascending, limit);
    newest_first(out, ascending);
    return HD_OK;
}

/* ------------------------------------------------------------------------ */
/* Resends                                                                  */

/* Each row's newest resend: one seek of messages_resend_of per row of the
 * page (a screenful), so Logs can mark what was resent already. */
static hd_status fill_resent_as(sq_store *st, message_list *page, hd_error *err)
{
    for (int i = 0; i < page->count; i++) {
        sqlite3_stmt *q = stmt_get(st, STMT_MSG_RESENT_AS, err);
        if (!q)
            return HD_DB;
        bind_i64(q, ":id", page->items[i].id);
        hd_status rc = step_i64(st, q, "reading resends", &page->items[i].resent_as, NULL, err);
        if (rc != HD_OK)
            return rc;
    }
    return HD_OK;
}

hd_status sq_message_resends(sq_store *st, int64_t id, int64_t *ids, int max, int *n,
                             hd_error *err)
{
    *n = 0;
    sqlite3_stmt *q = stmt_get(st, STMT_MSG_RESENDS, err);
    if (!q)
        return HD_DB;
    bind_i64(q, ":id", id);
    bind_i64(q, ":n", max);
    int rc = SQLITE_DONE;
    while (*n < max && (rc = sqlite3_step(q)) == SQLITE_ROW)
        ids[(*n)++] = sqlite3_column_int64(q, 0);
    hd_status r = *n == max || rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "reading resends");
    sqlite3_reset(q);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Pages and counts                                                         */

hd_status sq_messages_page(sq_store *st, const msg_filter *f, page_dir dir, int64_t anchor_id,
                              int limit, message_list *out, hd_error *err)
{
    hd_status rc = messages_page(st, f, dir, anchor_id, limit, out, err);
    if (rc == HD_OK)
        rc = fill_resent_as(st, out, err);
    if (rc != HD_OK)
        message_list_free(out);
    return rc;
}

/* The page without resent_as (page_by_actions merges several of these). */
static hd_status messages_page(sq_store *st, const msg_filter *f, page_dir dir,
                               int64_t anchor_id, int limit, message_list *out, hd_error *err)
{
    out->items = NULL;
    out->count = 0;
    if ((unsigned)dir >= PAGE_DIRS)
        return hd_error_set(err, HD_INTERNAL, "messages page: bad direction %d", (int)dir);
    if (limit <= 0)
        return HD_OK;
    action_names names;
    hd_status arc;
    if (action_search_resolved(st, f, &names, &arc, err)) {
        if (arc == HD_OK)
            arc = page_by_actions(st, f, &names, dir, anchor_id, limit, out, err);
        action_names_free(&names);
        return arc;
    }
    bool ascending = dir == PAGE_NEWER || dir == PAGE_LAST;
    unsigned mask = page_mask(f);
    hd_status rc = HD_OK;
    if (popcount_mask(mask) <= 1) {
        rc = page_query(st, f, dir, anchor_id, limit, out, err);
    } else {
        /* Several statuses: "status IN (...)" cannot walk the (status, id)
         * or (site, status, id) index in id order, so SQLite would sort every
         * matching row.  One ordered query per status (each at most `limit`
         * rows), merged here. */
        msg_filter one = *f;
        for (int s = 0; rc == HD_OK && s < MSG_STATUS_COUNT; s++) {
            if (!(mask & MSG_STATUS_BIT(s)))
                continue;
            one.status_mask = MSG_STATUS_BIT(s);
            rc = page_query(st, &one, dir, anchor_id, limit, out, err);
        }
        if (rc == HD_OK)
            keep_nearest(out, ascending, limit);
    }
    if (rc != HD_OK) {
        message_list_free(out);
        return rc;
    }
    newest_first(out, ascending);
    return HD_OK;
}

/* Sums the counts of each action name an action search resolved to. */
static hd_status count_by_actions(sq_store *st, const msg_filter *f, const action_names *names,
                                  int64_t *count, hd_error *err)
{
    msg_filter one = *f;
    one.action_text = NULL;
    hd_status rc = HD_OK;
    for (int i = 0; rc == HD_OK && i < names->count; i++) {
        one.action = names->names[i];
        int64_t n = 0;
        rc = sq_messages_count(st, &one, &n, err);
        *count += n;
    }
    return rc;
}

/* Only a status condition (or none): the trigger-kept counters answer. */
static hd_status count_by_counters(sq_store *st, const msg_filter *f, int64_t *count,
                                   hd_error *err)
{
    int64_t counts[MSG_STATUS_COUNT];
    hd_status rc = sq_status_counts(st, counts, err);
    if (rc != HD_OK)
        return rc;
    unsigned mask = filter_mask(f);
    for (int i = 0; i < MSG_STATUS_COUNT; i++)
        if (!mask || (mask & MSG_STATUS_BIT(i)))
            *count += counts[i];
    return HD_OK;
}

/* As for pages: one indexed count per status of mask. */
static hd_status count_by_statuses(sq_store *st, const msg_filter *f, unsigned mask,
                                   int64_t *count, hd_error *err)
{
    msg_filter one = *f;
    for (int s = 0; s < MSG_STATUS_COUNT; s++) {
        if (!(mask & MSG_STATUS_BIT(s)))
            continue;
        one.status_mask = MSG_STATUS_BIT(s);
        int64_t n = 0;
        hd_status rc = sq_messages_count(st, &one, &n, err);
        if (rc != HD_OK)
            return rc;
        *count += n;
    }
    return HD_OK;
}

static sqlite3_stmt *count_stmt(sq_store *st, int shape, hd_error *err)
{
    sqlite3_stmt **slot = &st->count_stmts[shape];
    if (*slot) {
        sqlite3_reset(*slot);
        sqlite3_clear_bindings(*slot);
        return *slot;
    }
    hd_buf b = { 0 };
    count_sql(&b, shape);
    *slot = stmt_prepare(st, hd_buf_str(&b), err);
    hd_buf_free(&b);
    return *slot;
}

hd_status sq_messages_count(sq_store *st, const msg_filter *f, int64_t *count, hd_error *err)
{
    *count = 0;
    action_names names;
    hd_status arc;
    if (action_search_resolved(st, f, &names, &arc, err)) {
        if (arc == HD_OK)
            arc = count_by_actions(st, f, &names, count, err);
        action_names_free(&names);
        return arc;
    }
    int shape = filter_shape(f);
    if (shape % SHAPE_FLAGS == 0)
        return count_by_counters(st, f, count, err);
    unsigned mask = filter_mask(f);
    if (popcount_mask(mask) > 1)
        return count_by_statuses(st, f, mask, count, err);
    sqlite3_stmt *q = count_stmt(st, shape, err);
    if (!q)
        return HD_DB;
    filter_bind(q, f);
    return step_i64(st, q, "counting messages", count, NULL, err);
}

/* ------------------------------------------------------------------------ */
/* Bounded counts (the console's position and total)                        */

/* One filter with at most one status and no action search: a count of at
 * most cap + 1 rows newer than anchor, on the filter's index.  Prepared each
 * time (a few per second at most): no cache slot per shape. */
static hd_status count_upto_one(sq_store *st, const msg_filter *f, int64_t anchor, int64_t cap,
                                int64_t *count, hd_error *err)
{
    hd_buf b = { 0 };
    hd_buf_puts(&b, "SELECT count(*) FROM (SELECT 1 FROM messages m WHERE 1");
    filter_sql(&b, filter_shape(f));
    hd_buf_puts(&b, " AND m.id > :anchor LIMIT :cap)");
    sqlite3_stmt *q = stmt_prepare(st, hd_buf_str(&b), err);
    hd_buf_free(&b);
    if (!q)
        return HD_DB;
    filter_bind(q, f);
    bind_i64(q, ":anchor", anchor);
    bind_i64(q, ":cap", cap > 0 ? cap + 1 : -1);   /* one more: is there more? LIMIT -1: none */
    hd_status rc = step_i64(st, q, "counting messages", count, NULL, err);
    sqlite3_finalize(q);
    return rc;
}

/* The statuses to count one by one so that "id > newer_than" is a range of
 * an index: those of the filter; all of them for a site without a status
 * (as pages walk it), or for no condition at all (the (status, id) index
 * is far smaller than the table). */
static unsigned count_mask(const msg_filter *f, int64_t newer_than)
{
    unsigned mask = page_mask(f);
    if (mask == 0 && newer_than > 0 && filter_shape(f) == 0)
        mask = (1u << MSG_STATUS_COUNT) - 1;
    return mask;
}

hd_status sq_messages_count_upto(sq_store *st, const msg_filter *f, int64_t newer_than,
                                 int64_t cap, int64_t *count, bool *more, hd_error *err)
{
    *count = 0;
    *more = false;
    action_names names;
    hd_status rc;
    msg_filter one = f ? *f : (msg_filter){ 0 };
    if (action_search_resolved(st, f, &names, &rc, err)) {
        /* Each matching name on its own index (as pages do). */
        one.action_text = NULL;
        for (int i = 0; rc == HD_OK && i < names.count && !*more; i++) {
            one.action = names.names[i];
            int64_t n = 0;
            bool m = false;
            rc = sq_messages_count_upto(st, &one, newer_than, cap, &n, &m, err);
            *count += n;
            *more = m;
        }
        action_names_free(&names);
    } else if (newer_than <= 0 && filter_shape(f) % SHAPE_FLAGS == 0) {
        return count_by_counters(st, f, count, err);   /* exact, O(1) */
    } else if (popcount_mask(count_mask(f, newer_than)) > 1) {
        unsigned mask = count_mask(f, newer_than);
        for (int s = 0; rc == HD_OK && s < MSG_STATUS_COUNT && !*more; s++) {
            if (!(mask & MSG_STATUS_BIT(s)))
                continue;
            one.status_mask = MSG_STATUS_BIT(s);
            int64_t n = 0;
            rc = count_upto_one(st, &one, newer_than, cap, &n, err);
            *count += n;
            *more = cap > 0 && *count > cap;
        }
    } else {
        rc = count_upto_one(st, &one, newer_than, cap, count, err);
    }
    if (rc != HD_OK)
        return rc;
    if (cap > 0 && (*more || *count > cap)) {
        *count = cap;
        *more = true;
    }
    return HD_OK;
}
