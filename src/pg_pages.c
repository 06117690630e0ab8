/* pg_pages.c - pages and counts of messages in the PostgreSQL store, for
 * the screens and the CLI: keyset paging over ids, newest first, no query
 * that reads a whole table (the counterpart of store_pages.c).
 *
 * A page is one statement.  Its keyset walk (ORDER BY id LIMIT n, from the
 * anchor) runs on an index ordered by id: messages_status (status, id),
 * messages_site_status (site_id, status, id), messages_action (action, id),
 * messages_customer (customer, id) or the primary key.  A condition those
 * indexes cannot give in id order - several statuses, a site without a
 * status, an action search matching several names - is walked one value
 * at a time: the values go as arrays, each is one LATERAL walk of at most n
 * rows, and the walks are merged by a top-n sort of what they found:
 *
 *   SELECT cols FROM (SELECT k.id FROM unnest($S::int[]) ws(s),
 *       LATERAL (SELECT m.id FROM messages m WHERE m.status = ws.s AND ...
 *                AND m.id < $anchor ORDER BY m.id DESC LIMIT $n) k
 *     ORDER BY k.id DESC LIMIT $n) ids JOIN messages m ON m.id = ids.id ...
 *
 * An action search first finds the matching names in the small actions
 * table (as in SQLite): up to ACTION_MATCH_MAX are walked one by one, more
 * means matches are common and the plain scan finds a page quickly.
 * Counts with only a status condition read the trigger-kept counters.
 */
#include "pg_internal.h"
#include "store_statuses.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACTION_MATCH_MAX 32

/* What a page walks one value at a time. */
typedef struct page_walk {
    pg_array_lit statuses;            /* int[] of the statuses (when walk_statuses) */
    bool walk_statuses;
    pg_array_lit names;               /* text[] of the action names (when walk_names) */
    bool walk_names;
    int nnames;                       /* names found */
} page_walk;

static void page_walk_free(page_walk *w)
{
    pg_array_free(&w->statuses);
    pg_array_free(&w->names);
}

/* ------------------------------------------------------------------------ */
/* Action search                                                            */

/* Resolves f's action search into the matching names (w->walk_names) when
 * there are few enough to walk one by one.  No search, an exact action
 * (which the search then only narrows), or too many names: no walk. */
static hd_status resolve_action_names(pg_store *st, const msg_filter *f, page_walk *w,
                                      hd_error *err)
{
    if (!f || !f->action_text || !*f->action_text || f->action)
        return HD_OK;
    pg_params p = { 0 };
    pp_str(&p, f->action_text);
    pp_i64(&p, ACTION_MATCH_MAX + 1);
    PGresult *r = pg_run(st,
                         "SELECT name FROM actions WHERE strpos(lower(name), lower($1)) > 0"
                         " LIMIT $2",
                         &p, "searching actions", err);
    if (!r)
        return pg_run_failed(err);
    int n = PQntuples(r);
    if (n <= ACTION_MATCH_MAX) {
        w->walk_names = true;
        w->nnames = n;
        for (int i = 0; i < n; i++)
            pg_array_str(&w->names, PQgetvalue(r, i, 0));
    }
    PQclear(r);
    return HD_OK;
}

/* ------------------------------------------------------------------------ */
/* Pages                                                                    */

static bool ascending_dir(page_dir dir)
{
    return dir == PAGE_NEWER || dir == PAGE_LAST;
}

/* The keyset walk of one value (or of the whole filter when nothing is
 * walked): ids only, at most $limit of them. */
static void walk_sql(hd_buf *b, pg_params *p, const msg_filter *f, const page_walk *w,
                     page_dir dir, int64_t anchor_id, int limit_param)
{
    hd_buf_puts(b, "SELECT m.id FROM messages m WHERE true");
    unsigned leave_out = PG_FILTER_ALL;
    if (w->walk_statuses) {
        hd_buf_puts(b, " AND m.status = ws.s");
        leave_out |= PG_FILTER_NO_STATUS;
    }
    if (w->walk_names) {
        hd_buf_puts(b, " AND m.action = wa.a");
        leave_out |= PG_FILTER_NO_ACTION_TEXT;
    }
    pg_filter_sql(b, p, f, leave_out);
    static const char *const keyset_op[] = {
        [PAGE_OLDER] = "<", [PAGE_NEWER] = ">", [PAGE_AT] = "<=",
    };
    if (dir == PAGE_OLDER || dir == PAGE_NEWER || dir == PAGE_AT)
        hd_buf_printf(b, " AND m.id %s $%d", keyset_op[dir], pg_param_i64(p, anchor_id));
    hd_buf_printf(b, " ORDER BY m.id%s LIMIT $%d", ascending_dir(dir) ? "" : " DESC",
                  limit_param);
}

static void page_sql(hd_buf *b, pg_params *p, const msg_filter *f, page_walk *w, page_dir dir,
                     int64_t anchor_id, int limit)
{
    pp_i64(p, hd_now_ms());                  /* $1 of PG_MSG_COLS */
    int lim = pg_param_i64(p, limit);
    hd_buf_puts(b, "SELECT " PG_MSG_COLS " FROM (");
    if (w->walk_statuses || w->walk_names) {
        hd_buf_puts(b, "SELECT k.id FROM ");
        if (w->walk_statuses)
            hd_buf_printf(b, "unnest($%d::int[]) AS ws(s) CROSS JOIN ",
                          pg_param_array(p, &w->statuses));
        if (w->walk_names)
            hd_buf_printf(b, "unnest($%d::text[]) AS wa(a) CROSS JOIN ",
                          pg_param_array(p, &w->names));
        hd_buf_puts(b, "LATERAL (");
        walk_sql(b, p, f, w, dir, anchor_id, lim);
        hd_buf_printf(b, ") k ORDER BY k.id%s LIMIT $%d", ascending_dir(dir) ? "" : " DESC",
                      lim);
    } else {
        walk_sql(b, p, f, w, dir, anchor_id, lim);
    }
    /* Queried from the anchor outwards; handed back newest first. */
    hd_buf_puts(b, ") ids JOIN messages m ON m.id = ids.id"
                   " LEFT JOIN sites s ON s.id = m.site_id"
                   " LEFT JOIN payloads p ON p.message_id = m.id ORDER BY m.id DESC");
}

/* ------------------------------------------------------------------------ */
/* Resends                                                                  */

/* Each row's newest resend, for the whole page in one statement: one seek
 * of messages_resend_of per row (a screenful), so Logs can mark what was
 * resent already. */
static hd_status fill_resent_as(pg_store *st, message_list *page, hd_error *err)
{
    if (page->count == 0)
        return HD_OK;
    pg_array_lit ids = { 0 };
    for (int i = 0; i < page->count; i++)
        pg_array_i64(&ids, page->items[i].id);
    pg_params p = { 0 };
    pg_param_array(&p, &ids);
    PGresult *r = pg_run(st,
                         "SELECT x.id, (SELECT max(m.id) FROM messages m WHERE m.resend_of = x.id)"
                         " FROM unnest($1::bigint[]) AS x(id)",
                         &p, "reading resends", err);
    pg_array_free(&ids);
    if (!r)
        return pg_run_failed(err);
    for (int row = 0; row < PQntuples(r); row++) {
        int64_t id = pg_i64(r, row, 0);
        for (int i = 0; i < page->count; i++)
            if (page->items[i].id == id)
                page->items[i].resent_as = pg_i64(r, row, 1);
    }
    PQclear(r);
    return HD_OK;
}

hd_status pg_message_resends(pg_store *st, int64_t id, int64_t *ids, int max, int *n,
                             hd_error *err)
{
    *n = 0;
    pg_params p = { 0 };
    pp_i64(&p, id);
    pp_i64(&p, max);
    PGresult *r = pg_run(st, "SELECT id FROM messages WHERE resend_of = $1 ORDER BY id LIMIT $2",
                         &p, "reading resends", err);
    if (!r)
        return pg_run_failed(err);
    for (int row = 0; row < PQntuples(r) && *n < max; row++)
        ids[(*n)++] = pg_i64(r, row, 0);
    PQclear(r);
    return HD_OK;
}

hd_status pg_messages_page(pg_store *st, const msg_filter *f, page_dir dir, int64_t anchor_id,
                           int limit, message_list *out, hd_error *err)
{
    out->items = NULL;
    out->count = 0;
    if ((unsigned)dir > PAGE_AT)
        return hd_error_set(err, HD_INTERNAL, "messages page: bad direction %d", (int)dir);
    if (limit <= 0)
        return HD_OK;
    page_walk w = { 0 };
    hd_status rc = resolve_action_names(st, f, &w, err);
    if (rc != HD_OK || (w.walk_names && w.nnames == 0)) {
        page_walk_free(&w);
        return rc;
    }
    unsigned mask = page_mask(f);
    if (popcount_mask(mask) > 1) {
        w.walk_statuses = true;
        for (int s = 0; s < MSG_STATUS_COUNT; s++)
            if (mask & MSG_STATUS_BIT(s))
                pg_array_i64(&w.statuses, s);
    }
    pg_params p = { 0 };
    hd_buf sql = { 0 };
    page_sql(&sql, &p, f, &w, dir, anchor_id, limit);
    PGresult *r = pg_run(st, hd_buf_str(&sql), &p, "reading messages", err);
    hd_buf_free(&sql);
    page_walk_free(&w);
    if (!r)
        return pg_run_failed(err);
    pg_collect_messages(r, out);
    PQclear(r);
    rc = fill_resent_as(st, out, err);
    if (rc != HD_OK)
        message_list_free(out);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Counts                                                                   */

/* True when f has no condition but statuses: the counters answer. */
static bool only_statuses(const msg_filter *f)
{
    return !f || (!f->site_id && !f->customer && !(f->action_text && *f->action_text) &&
                  !f->action && !f->unresent && !f->since_ms && !f->until_ms);
}

static hd_status count_run(pg_store *st, const hd_buf *sql, const pg_params *p, int64_t *count,
                           hd_error *err)
{
    PGresult *r = pg_run(st, hd_buf_str(sql), p, "counting messages", err);
    if (!r)
        return pg_run_failed(err);
    *count = pg_i64(r, 0, 0);
    PQclear(r);
    return HD_OK;
}

hd_status pg_messages_count(pg_store *st, const msg_filter *f, int64_t *count, hd_error *err)
{
    *count = 0;
    page_walk w = { 0 };
    hd_status rc = resolve_action_names(st, f, &w, err);
    if (rc != HD_OK || (w.walk_names && w.nnames == 0)) {
        page_walk_free(&w);
        return rc;
    }
    pg_params p = { 0 };
    hd_buf sql = { 0 };
    if (only_statuses(f)) {
        /* The status_counts shards (pg_schema.c), summed; f has nothing
         * but statuses, so its conditions read on status_counts too. */
        hd_buf_puts(&sql, "SELECT coalesce(sum(m.n), 0) FROM status_counts m WHERE true");
        pg_filter_sql(&sql, &p, f, PG_FILTER_ALL);
    } else {
        /* No order to keep: one count, the names as one array. */
        hd_buf_puts(&sql, "SELECT count(*) FROM messages m WHERE true");
        if (w.walk_names)
            hd_buf_printf(&sql, " AND m.action = ANY($%d::text[])", pg_param_array(&p, &w.names));
        pg_filter_sql(&sql, &p, f, w.walk_names ? PG_FILTER_NO_ACTION_TEXT : PG_FILTER_ALL);
    }
    rc = count_run(st, &sql, &p, count, err);
    hd_buf_free(&sql);
    page_walk_free(&w);
    return rc;
}

/* The console's "row 71 of 20,000": rows newer than the anchor (or all)
 * under f, never reading more than cap + 1 of them.  A statuses-only
 * filter with no anchor reads the counters (exact, O(1)). */
hd_status pg_messages_count_upto(pg_store *st, const msg_filter *f, int64_t newer_than,
                                 int64_t cap, int64_t *count, bool *more, hd_error *err)
{
    *count = 0;
    *more = false;
    if (newer_than <= 0 && only_statuses(f))
        return pg_messages_count(st, f, count, err);
    page_walk w = { 0 };
    hd_status rc = resolve_action_names(st, f, &w, err);
    if (rc != HD_OK || (w.walk_names && w.nnames == 0)) {
        page_walk_free(&w);
        return rc;
    }
    pg_params p = { 0 };
    hd_buf sql = { 0 };
    hd_buf_puts(&sql, "SELECT count(*) FROM (SELECT 1 FROM messages m WHERE true");
    if (w.walk_names)
        hd_buf_printf(&sql, " AND m.action = ANY($%d::text[])", pg_param_array(&p, &w.names));
    pg_filter_sql(&sql, &p, f, w.walk_names ? PG_FILTER_NO_ACTION_TEXT : PG_FILTER_ALL);
    hd_buf_printf(&sql, " AND m.id > $%d", pg_param_i64(&p, newer_than > 0 ? newer_than : 0));
    if (cap > 0)
        hd_buf_printf(&sql, " LIMIT $%d", pg_param_i64(&p, cap + 1));   /* one more: is there more? */
    hd_buf_puts(&sql, ") x");
    rc = count_run(st, &sql, &p, count, err);
    hd_buf_free(&sql);
    page_walk_free(&w);
    if (rc == HD_OK && cap > 0 && *count > cap) {
        *count = cap;
        *more = true;
    }
    return rc;
}
