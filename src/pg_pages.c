/* pg_pages.c - PostgreSQL store: TODO (stubs until implemented). */
#include "pg_internal.h"

hd_status pg_messages_page(pg_store *st, const msg_filter *f, page_dir dir, int64_t anchor_id, int limit, message_list *out, hd_error *err)
{
    (void)st;
    (void)f;
    (void)dir;
    (void)anchor_id;
    (void)limit;
    (void)out;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_messages_page: not implemented on PostgreSQL yet");
}

hd_status pg_messages_count(pg_store *st, const msg_filter *f, int64_t *count, hd_error *err)
{
    (void)st;
    (void)f;
    (void)count;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_messages_count: not implemented on PostgreSQL yet");
}
