/* store_counters.c - the SQLite store's counters: messages per status
 * (status_counts, O(1) for the status bar and unfiltered counts) and
 * attempts per second (attempt_seconds, for the sparkline).
 *
 * status_counts: inserts and deletes of messages are counted by triggers;
 * the UPDATEs that change a status (outcome, cancel, site deleted) are
 * counted in C (status_change) and written once per status and transaction
 * (status_counts_flush).  site_pending (pending messages per site) alike:
 * triggers for inserts and deletes, site_pending_change for those UPDATEs,
 * one write per site and transaction.  attempt_seconds gets one upsert per distinct
 * second of a batch of outcomes, never a row per attempt.
 */
#include "store_internal.h"
#include "store_histogram.h"

/* attempt_seconds rows kept by the purge (seconds). */
#define ATTEMPT_SECONDS_KEPT 3600

/* ------------------------------------------------------------------------ */
/* Status counts                                                            */

/* n messages went from one status to another (an UPDATE of messages.status;
 * inserts and deletes are counted by triggers). */
void status_change(sq_store *st, msg_status from, msg_status to, int64_t n)
{
    if (from == to || (unsigned)from >= MSG_STATUS_COUNT || (unsigned)to >= MSG_STATUS_COUNT)
        return;
    st->count_delta[from] -= n;
    st->count_delta[to] += n;
}

void site_pending_change(sq_store *st, int64_t site_id, int64_t n)
{
    if (n == 0)
        return;
    for (int i = 0; i < st->nsite_deltas; i++) {
        if (st->site_deltas[i].site_id == site_id) {
            st->site_deltas[i].n += n;
            return;
        }
    }
    st->site_deltas = hd_xgrow(st->site_deltas, st->nsite_deltas, &st->site_deltas_cap,
                               sizeof *st->site_deltas, 8);
    st->site_deltas[st->nsite_deltas++] = (site_delta){ site_id, n };
}

static hd_status site_pending_flush(sq_store *st, hd_error *err)
{
    for (int i = 0; i < st->nsite_deltas; i++) {
        if (st->site_deltas[i].n == 0)
            continue;
        sqlite3_stmt *q = stmt_get(st, STMT_SITE_PENDING_ADD, err);
        if (!q)
            return HD_DB;
        bind_i64(q, ":d", st->site_deltas[i].n);
        bind_i64(q, ":site", st->site_deltas[i].site_id);
        hd_status rc = step_done(st, q, "counting a site's pending messages", err);
        if (rc != HD_OK)
            return rc;
    }
    st->nsite_deltas = 0;
    return HD_OK;
}

/* Writes the changes counted so far into status_counts and site_pending
 * (same transaction). */
hd_status status_counts_flush(sq_store *st, hd_error *err)
{
    for (int s = 0; s < MSG_STATUS_COUNT; s++) {
        if (st->count_delta[s] == 0)
            continue;
        sqlite3_stmt *q = stmt_get(st, STMT_COUNT_ADD, err);
        if (!q)
            return HD_DB;
        bind_i64(q, ":d", st->count_delta[s]);
        bind_i64(q, ":status", s);
        hd_status rc = step_done(st, q, "counting statuses", err);
        if (rc != HD_OK)
            return rc;
        st->count_delta[s] = 0;
    }
    return site_pending_flush(st, err);
}

hd_status sq_status_counts(sq_store *st, int64_t counts[MSG_STATUS_COUNT], hd_error *err)
{
    for (int i = 0; i < MSG_STATUS_COUNT; i++)
        counts[i] = 0;
    sqlite3_stmt *q = stmt_get(st, STMT_STATUS_COUNTS, err);
    if (!q)
        return HD_DB;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int s = sqlite3_column_int(q, 0);
        if (s >= 0 && s < MSG_STATUS_COUNT)
            counts[s] = sqlite3_column_int64(q, 1);
    }
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "reading status counts");
    sqlite3_reset(q);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Attempts per second                                                      */

/* The sparkline's per-second counters: one upsert per distinct second. */
hd_status seconds_record(sq_store *st, const attempt_outcome *o, int n, hd_error *err)
{
    for (int i = 0; i < n; i++) {
        int64_t second = o[i].a.started_at / 1000;
        bool seen = false;
        for (int j = 0; !seen && j < i; j++)
            seen = o[j].a.started_at / 1000 == second;
        if (seen)
            continue;
        int64_t count = 0;
        for (int j = i; j < n; j++)
            count += o[j].a.started_at / 1000 == second;
        sqlite3_stmt *q = stmt_get(st, STMT_SECOND_ADD, err);
        if (!q)
            return HD_DB;
        bind_i64(q, ":second", second);
        bind_i64(q, ":n", count);
        hd_status rc = step_done(st, q, "counting attempts", err);
        if (rc != HD_OK)
            return rc;
    }
    return HD_OK;
}

hd_status seconds_purge(sq_store *st, hd_error *err)
{
    /* An hour is plenty: the sparkline shows 5 minutes. */
    sqlite3_stmt *q = stmt_get(st, STMT_SECONDS_PURGE, err);
    if (!q)
        return HD_DB;
    bind_i64(q, ":before", hd_now_ms() / 1000 - ATTEMPT_SECONDS_KEPT);
    return step_done(st, q, "purging old attempt counters", err);
}

hd_status sq_attempt_histogram(sq_store *st, int64_t now_ms, int64_t bucket_ms, int nbuckets,
                                  uint32_t *out, hd_error *err)
{
    store_histogram h;
    hd_status r = store_histogram_init(&h, now_ms, bucket_ms, nbuckets, out, err);
    if (r != HD_OK || h.nbuckets == 0)
        return r;
    sqlite3_stmt *q = stmt_get(st, STMT_HISTOGRAM, err);
    if (!q)
        return HD_DB;
    bind_i64(q, ":start", h.first_second);
    bind_i64(q, ":end", h.end_second);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        store_histogram_add(&h, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1));
    r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "reading the attempt histogram");
    sqlite3_reset(q);
    return r;
}
