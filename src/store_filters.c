/* store_filters.c - a message filter (hd_store.h msg_filter) as SQL: its
 * shape (which filters are set: the cache key of page, count and bulk
 * resend statements), the WHERE fragments of a shape and their bindings.
 * The text depends only on the shape, never on data (prepared statements
 * with named parameters).  Used by store_pages.c and the bulk resend of
 * store_messages.c.  Which statuses a filter selects is store_statuses.c's
 * (the PostgreSQL store shares it). */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int filter_shape(const msg_filter *f)
{
    if (!f)
        return 0;
    int flags = (f->site_id ? SHAPE_SITE : 0) | (f->customer ? SHAPE_CUSTOMER : 0) |
                (f->action_text && *f->action_text ? SHAPE_ACTION : 0) |
                (f->since_ms ? SHAPE_SINCE : 0) | (f->until_ms ? SHAPE_UNTIL : 0) |
                (f->action ? SHAPE_ACTION_EXACT : 0) | (f->unresent ? SHAPE_UNRESENT : 0);
    return popcount_mask(filter_mask(f)) * SHAPE_FLAGS + flags;
}

/* The WHERE conditions of a filter shape, as " AND ..." fragments. */
void filter_sql(hd_buf *b, int shape)
{
    int nstatus = shape / SHAPE_FLAGS;
    int flags = shape % SHAPE_FLAGS;
    if (nstatus > 0) {
        hd_buf_puts(b, " AND m.status IN (");
        for (int i = 0; i < nstatus; i++)
            hd_buf_printf(b, "%s:st%d", i ? ", " : "", i);
        hd_buf_puts(b, ")");
    }
    /* Time bounds are exact on created_at, plus an id range found through
     * the created_at index so that the keyset walk over ids stays a range
     * scan.  created_at is taken under the write lock, so it grows with the
     * id (a wall clock stepping back can only hide rows near a bound). */
    static const struct {
        int flag;
        const char *sql;
    } conds[] = {
        { SHAPE_SITE, " AND m.site_id = :site" },
        { SHAPE_CUSTOMER, " AND m.customer = :customer" },
        { SHAPE_ACTION, " AND instr(lower(m.action), lower(:action)) > 0" },
        { SHAPE_ACTION_EXACT, " AND m.action = :action_exact" },
        { SHAPE_UNRESENT, " AND NOT EXISTS (SELECT 1 FROM messages r WHERE r.resend_of = m.id)" },
        { SHAPE_SINCE, " AND m.created_at >= :since AND m.id >= coalesce((SELECT t.id FROM "
                       "messages t WHERE t.created_at >= :since ORDER BY t.created_at, t.id "
                       "LIMIT 1), 9223372036854775807)" },
        { SHAPE_UNTIL, " AND m.created_at < :until AND m.id <= coalesce((SELECT t.id FROM "
                       "messages t WHERE t.created_at < :until ORDER BY t.created_at DESC, "
                       "t.id DESC LIMIT 1), 0)" },
    };
    for (size_t i = 0; i < sizeof conds / sizeof conds[0]; i++)
        if (flags & conds[i].flag)
            hd_buf_puts(b, conds[i].sql);
}

void filter_bind(sqlite3_stmt *q, const msg_filter *f)
{
    if (!f)
        return;
    unsigned mask = filter_mask(f);
    int k = 0;
    for (int i = 0; i < MSG_STATUS_COUNT; i++) {
        if (mask & MSG_STATUS_BIT(i)) {
            char name[16];
            snprintf(name, sizeof name, ":st%d", k++);
            bind_i64(q, name, i);
        }
    }
    bind_i64(q, ":site", f->site_id);
    bind_text(q, ":customer", f->customer);
    bind_text(q, ":action", f->action_text);
    bind_text(q, ":action_exact", f->action);
    bind_i64(q, ":since", f->since_ms);
    bind_i64(q, ":until", f->until_ms);
}

