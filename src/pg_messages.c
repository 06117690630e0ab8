/* pg_messages.c - PostgreSQL store: TODO (stubs until implemented). */
#include "pg_internal.h"

hd_status pg_message_add(pg_store *st, const new_message *m, int64_t *id_out, hd_error *err)
{
    (void)st;
    (void)m;
    (void)id_out;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_message_add: not implemented on PostgreSQL yet");
}

hd_status pg_message_get(pg_store *st, int64_t id, message *out, hd_error *err)
{
    (void)st;
    (void)id;
    (void)out;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_message_get: not implemented on PostgreSQL yet");
}

hd_status pg_message_find_webhook_id(pg_store *st, const char *webhook_id, int64_t *id, hd_error *err)
{
    (void)st;
    (void)webhook_id;
    (void)id;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_message_find_webhook_id: not implemented on PostgreSQL yet");
}

hd_status pg_attempts_list(pg_store *st, int64_t message_id, attempt_list *out, hd_error *err)
{
    (void)st;
    (void)message_id;
    (void)out;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_attempts_list: not implemented on PostgreSQL yet");
}

hd_status pg_message_resend(pg_store *st, int64_t id, uint64_t max_payload, int64_t *new_id, hd_error *err)
{
    (void)st;
    (void)id;
    (void)max_payload;
    (void)new_id;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_message_resend: not implemented on PostgreSQL yet");
}

hd_status pg_messages_resend_failed(pg_store *st, const msg_filter *f, uint64_t max_payload, int64_t *resent, int64_t *skipped, hd_error *err)
{
    (void)st;
    (void)f;
    (void)max_payload;
    (void)resent;
    (void)skipped;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_messages_resend_failed: not implemented on PostgreSQL yet");
}

hd_status pg_message_send_now(pg_store *st, int64_t id, hd_error *err)
{
    (void)st;
    (void)id;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_message_send_now: not implemented on PostgreSQL yet");
}

hd_status pg_message_cancel(pg_store *st, int64_t id, hd_error *err)
{
    (void)st;
    (void)id;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_message_cancel: not implemented on PostgreSQL yet");
}

hd_status pg_purge_chunk(pg_store *st, int64_t before_ms, int chunk, int64_t *deleted, hd_error *err)
{
    (void)st;
    (void)before_ms;
    (void)chunk;
    (void)deleted;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_purge_chunk: not implemented on PostgreSQL yet");
}
