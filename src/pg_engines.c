/* pg_engines.c - PostgreSQL store: TODO (stubs until implemented). */
#include "pg_internal.h"

hd_status pg_engine_beat(pg_store *st, const engine_beat *b, hd_error *err)
{
    (void)st;
    (void)b;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_engine_beat: not implemented on PostgreSQL yet");
}

hd_status pg_engine_gone(pg_store *st, const char *owner, hd_error *err)
{
    (void)st;
    (void)owner;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_engine_gone: not implemented on PostgreSQL yet");
}

hd_status pg_engines_alive(pg_store *st, int64_t since_ms, engine_beat_list *out, hd_error *err)
{
    (void)st;
    (void)since_ms;
    (void)out;
    (void)err;
    return hd_error_set(err, HD_INTERNAL, "store_engines_alive: not implemented on PostgreSQL yet");
}
