/* pg_counters.c - the PostgreSQL store's counters (the semantics of
 * store_counters.c): messages per status and attempts per second.
 *
 * Both tables are sharded (pg_schema.c): writers add to the row of their
 * own shard so that engines committing at once do not queue on one row
 * lock, and readers sum the shards here.  status_counts is kept by
 * triggers on messages; attempt_seconds by the outcomes (pg_claims.c).
 */
#include "pg_internal.h"
#include "store_histogram.h"

hd_status pg_status_counts(pg_store *st, int64_t counts[MSG_STATUS_COUNT], hd_error *err)
{
    for (int i = 0; i < MSG_STATUS_COUNT; i++)
        counts[i] = 0;
    PGresult *r = pg_run(st, "SELECT status, sum(n) FROM status_counts GROUP BY status", NULL,
                         "reading status counts", err);
    if (!r)
        return pg_run_failed(err);
    for (int i = 0; i < PQntuples(r); i++) {
        int64_t s = pg_i64(r, i, 0);
        if (s >= 0 && s < MSG_STATUS_COUNT)
            counts[s] = pg_i64(r, i, 1);
    }
    PQclear(r);
    return HD_OK;
}

/* Reads nbuckets x bucket_ms / 1 s seconds of the primary key (second,
 * shard), whatever the history holds. */
hd_status pg_attempt_histogram(pg_store *st, int64_t now_ms, int64_t bucket_ms, int nbuckets,
                               uint32_t *out, hd_error *err)
{
    store_histogram h;
    hd_status rc = store_histogram_init(&h, now_ms, bucket_ms, nbuckets, out, err);
    if (rc != HD_OK || h.nbuckets == 0)
        return rc;
    pg_params p = { 0 };
    pp_i64(&p, h.first_second);
    pp_i64(&p, h.end_second);
    PGresult *r = pg_run(st,
                         "SELECT second, sum(n) FROM attempt_seconds "
                         "WHERE second >= $1 AND second < $2 GROUP BY second",
                         &p, "reading the attempt histogram", err);
    if (!r)
        return pg_run_failed(err);
    for (int i = 0; i < PQntuples(r); i++)
        store_histogram_add(&h, pg_i64(r, i, 0), pg_i64(r, i, 1));
    PQclear(r);
    return HD_OK;
}
