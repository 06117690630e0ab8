/* pg_filters.c - a message filter (hd_store.h msg_filter) as PostgreSQL
 * conditions, for the pages and counts (pg_pages.c) and the bulk resend
 * (pg_messages.c); the counterpart of store_filters.c.
 *
 * Each condition is a fixed fragment; its values are the statement's next
 * numbered parameters ($n), never text in the SQL.  Which statuses a filter
 * selects is store_statuses.c's, shared with the SQLite store.
 */
#include "pg_internal.h"
#include "store_statuses.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A minute: see the time bounds in pg_filter_sql. */
#define PG_ID_ORDER_SLACK_MS "60000"

/* ------------------------------------------------------------------------ */
/* Parameters                                                               */

int pg_param_i64(pg_params *p, int64_t v)
{
    pp_i64(p, v);
    return p->n;
}

int pg_param_str(pg_params *p, const char *s)
{
    pp_str(p, s);
    return p->n;
}

void pg_array_str(pg_array_lit *a, const char *s)
{
    hd_buf_puts(&a->lit, a->n++ ? ",\"" : "{\"");
    for (const char *c = s; *c; c++) {
        if (*c == '"' || *c == '\\')
            hd_buf_putc(&a->lit, '\\');
        hd_buf_putc(&a->lit, *c);
    }
    hd_buf_putc(&a->lit, '"');
}

void pg_array_i64(pg_array_lit *a, int64_t v)
{
    hd_buf_printf(&a->lit, "%s%lld", a->n++ ? "," : "{", (long long)v);
}

int pg_param_array(pg_params *p, pg_array_lit *a)
{
    hd_buf_puts(&a->lit, a->n ? "}" : "{}");
    pp_str(p, hd_buf_str(&a->lit));
    return p->n;
}

void pg_array_free(pg_array_lit *a)
{
    hd_buf_free(&a->lit);
    a->n = 0;
}

/* ------------------------------------------------------------------------ */
/* Conditions                                                               */

static void status_sql(hd_buf *b, pg_params *p, unsigned mask)
{
    int n = popcount_mask(mask);
    if (n == 0)
        return;
    if (n == 1) {
        for (int s = 0; s < MSG_STATUS_COUNT; s++)
            if (mask & MSG_STATUS_BIT(s))
                hd_buf_printf(b, " AND m.status = $%d", pg_param_i64(p, s));
        return;
    }
    /* Counts and the bulk resend only: a page walks several statuses one by
     * one (pg_pages.c).  One parameter per status. */
    hd_buf_puts(b, " AND m.status IN (");
    int k = 0;
    for (int s = 0; s < MSG_STATUS_COUNT; s++)
        if (mask & MSG_STATUS_BIT(s))
            hd_buf_printf(b, "%s$%d", k++ ? ", " : "", pg_param_i64(p, s));
    hd_buf_puts(b, ")");
}

/* Time bounds are exact on created_at, plus an id bound found through the
 * created_at index so that the keyset walk over ids stays a range scan.
 * With several writers (on several hosts) ids and created_at are not in
 * the same order: a message's time is read before its row gets its id.  The
 * id bound therefore comes from a row a minute beyond the time bound: a row
 * created more than a minute out of step with its id (a writer stalled that
 * long between the two, or hosts whose clocks differ more) could be missed
 * near a bound; nothing else is. */
static void time_sql(hd_buf *b, pg_params *p, const msg_filter *f)
{
    if (f->since_ms) {
        int k = pg_param_i64(p, f->since_ms);
        hd_buf_printf(b,
                      " AND m.created_at >= $%d AND m.id > coalesce((SELECT t.id FROM messages t"
                      " WHERE t.created_at < $%d::bigint - " PG_ID_ORDER_SLACK_MS
                      " ORDER BY t.created_at DESC LIMIT 1), 0)",
                      k, k);
    }
    if (f->until_ms) {
        int k = pg_param_i64(p, f->until_ms);
        hd_buf_printf(b,
                      " AND m.created_at < $%d AND m.id < coalesce((SELECT t.id FROM messages t"
                      " WHERE t.created_at >= $%d::bigint + " PG_ID_ORDER_SLACK_MS
                      " ORDER BY t.created_at LIMIT 1), 9223372036854775807)",
                      k, k);
    }
}

void pg_filter_sql(hd_buf *b, pg_params *p, const msg_filter *f, unsigned leave_out)
{
    if (!f)
        return;
    if (!(leave_out & PG_FILTER_NO_STATUS))
        status_sql(b, p, filter_mask(f));
    if (f->site_id)
        hd_buf_printf(b, " AND m.site_id = $%d", pg_param_i64(p, f->site_id));
    if (f->customer)
        hd_buf_printf(b, " AND m.customer = $%d", pg_param_str(p, f->customer));
    /* A substring, not a pattern: strpos has no wildcards to escape. */
    if (f->action_text && *f->action_text && !(leave_out & PG_FILTER_NO_ACTION_TEXT))
        hd_buf_printf(b, " AND strpos(lower(m.action), lower($%d)) > 0",
                      pg_param_str(p, f->action_text));
    if (f->action)
        hd_buf_printf(b, " AND m.action = $%d", pg_param_str(p, f->action));
    if (f->unresent)
        hd_buf_puts(b, " AND NOT EXISTS (SELECT 1 FROM messages r WHERE r.resend_of = m.id)");
    time_sql(b, p, f);
}
