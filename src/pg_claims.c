/* pg_claims.c - PostgreSQL store: TODO (stubs until implemented). */
#include "pg_internal.h"

hd_status pg_claim_fair(pg_store *st, const claim_request *rq, message_list *out, hd_error *err)
{
    (void)st;
    (void)rq;
    (void)out;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_claim_fair: not implemented on PostgreSQL yet");
}

hd_status pg_claim(pg_store *st, const char *owner, int64_t now_ms, int64_t lease_extra_ms, int limit, message_list *out, hd_error *err)
{
    (void)st;
    (void)owner;
    (void)now_ms;
    (void)lease_extra_ms;
    (void)limit;
    (void)out;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_claim: not implemented on PostgreSQL yet");
}

void pg_set_breaker(pg_store *st, const breaker_policy *p)
{
    (void)st;
    (void)p;
}

hd_status pg_record_outcomes(pg_store *st, const char *owner, const attempt_outcome *o, int n, hd_error *err)
{
    (void)st;
    (void)owner;
    (void)o;
    (void)n;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_record_outcomes: not implemented on PostgreSQL yet");
}


void pg_set_default_timeout(pg_store *st, int64_t timeout_ms)
{
    (void)st;
    (void)timeout_ms;
}

hd_status pg_release_leases(pg_store *st, const char *owner, int64_t now_ms, hd_error *err)
{
    (void)st;
    (void)owner;
    (void)now_ms;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_release_leases: not implemented on PostgreSQL yet");
}

hd_status pg_release_messages(pg_store *st, const char *owner, const int64_t *ids, int n, int64_t now_ms, hd_error *err)
{
    (void)st;
    (void)owner;
    (void)ids;
    (void)n;
    (void)now_ms;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_release_messages: not implemented on PostgreSQL yet");
}

hd_status pg_next_due(pg_store *st, int64_t *due_ms, hd_error *err)
{
    (void)st;
    (void)due_ms;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_next_due: not implemented on PostgreSQL yet");
}

hd_status pg_pending_count(pg_store *st, int64_t *count, hd_error *err)
{
    (void)st;
    (void)count;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_pending_count: not implemented on PostgreSQL yet");
}

