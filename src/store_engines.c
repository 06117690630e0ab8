/* store_engines.c - the engines' heartbeats (hd_store.h "engines'
 * heartbeats"): one row per running engine, refreshed every
 * ENGINE_BEAT_MS, so every process and console can say how many engines
 * deliver on this database and from which hosts. */
#include "store_internal.h"

#include <stdlib.h>

/* A crashed engine's row is forgotten after this long (ms). */
#define ENGINE_FORGET_MS (60 * 60 * 1000)

hd_status sq_engine_beat(sq_store *st, const engine_beat *b, hd_error *err)
{
    write_mode mode;
    sqlite3_stmt *q;
    hd_status rc = write_stmt(st, STMT_ENGINE_BEAT, true, &mode, &q, err);
    if (rc != HD_OK)
        return rc;
    bind_text(q, ":owner", b->owner);
    bind_text(q, ":host", b->host);
    bind_i64(q, ":pid", b->pid);
    bind_text(q, ":role", b->role);
    bind_i64(q, ":started", b->started_at);
    bind_i64(q, ":seen", b->seen_at);
    bind_i64(q, ":attempts", b->attempts);
    bind_i64(q, ":in_flight", b->in_flight);
    rc = step_done(st, q, "writing the engine's heartbeat", err);
    if (rc == HD_OK) {
        q = stmt_get(st, STMT_ENGINES_FORGET, err);
        if (!q)
            return write_end(st, mode, HD_DB, err);
        bind_i64(q, ":before", b->seen_at - ENGINE_FORGET_MS);
        rc = step_done(st, q, "forgetting engines long gone", err);
    }
    return write_end(st, mode, rc, err);
}

hd_status sq_engine_gone(sq_store *st, const char *owner, hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_ENGINE_GONE, err);
    if (!q)
        return HD_DB;
    bind_text(q, ":owner", owner);
    return step_done(st, q, "removing the engine's heartbeat", err);
}

static void read_beat(sqlite3_stmt *q, void *item)
{
    engine_beat *b = item;
    b->owner = col_text(q, 0);
    b->host = col_text(q, 1);
    b->pid = sqlite3_column_int64(q, 2);
    b->role = col_text(q, 3);
    b->started_at = sqlite3_column_int64(q, 4);
    b->seen_at = sqlite3_column_int64(q, 5);
    b->attempts = sqlite3_column_int64(q, 6);
    b->in_flight = sqlite3_column_int(q, 7);
}

hd_status sq_engines_alive(sq_store *st, int64_t since_ms, engine_beat_list *out, hd_error *err)
{
    return COLLECT_LIST_BY(st, STMT_ENGINES_ALIVE, ":since", since_ms, read_beat, out,
                           engine_beat_list_free, "listing the engines", err);
}

static void engine_beat_free(engine_beat *b)
{
    free(b->owner);
    free(b->host);
    free(b->role);
}

void engine_beat_list_free(engine_beat_list *l)
{
    HD_LIST_FREE(l, engine_beat_free);
}
