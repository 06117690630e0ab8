/* pg_counters.c - PostgreSQL store: TODO (stubs until implemented). */
#include "pg_internal.h"

hd_status pg_status_counts(pg_store *st, int64_t counts[MSG_STATUS_COUNT], hd_error *err)
{
    (void)st;
    (void)counts;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_status_counts: not implemented on PostgreSQL yet");
}

hd_status pg_attempt_histogram(pg_store *st, int64_t now_ms, int64_t bucket_ms, int nbuckets, uint32_t *out, hd_error *err)
{
    (void)st;
    (void)now_ms;
    (void)bucket_ms;
    (void)nbuckets;
    (void)out;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_attempt_histogram: not implemented on PostgreSQL yet");
}
