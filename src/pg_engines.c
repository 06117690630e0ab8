/* pg_engines.c - the engines' heartbeats in the PostgreSQL store (the
 * semantics of store_engines.c, hd_store.h "engines' heartbeats"): one row
 * per running engine, on any host, refreshed every ENGINE_BEAT_MS.
 *
 * A beat is one upsert; rows not seen for an hour (a crashed engine's) go
 * in the same transaction.  Engines on several hosts beat at once: the
 * clean-up skips rows another transaction holds (SKIP LOCKED), so two
 * beats never wait on, or deadlock over, each other's rows (a row being
 * written is alive anyway).
 */
#include "pg_internal.h"

#include <stdlib.h>

/* A crashed engine's row is forgotten after this long (ms). */
#define ENGINE_FORGET_MS (60 * 60 * 1000)

hd_status pg_engine_beat(pg_store *st, const engine_beat *b, hd_error *err)
{
    pg_write_mode mode;
    hd_status rc = pg_write_begin(st, &mode, err);
    if (rc != HD_OK)
        return rc;
    pg_params p = { 0 };
    pp_str(&p, b->owner);
    pp_str(&p, b->host);
    pp_i64(&p, b->pid);
    pp_str(&p, b->role);
    pp_i64(&p, b->started_at);
    pp_i64(&p, b->seen_at);
    pp_i64(&p, b->attempts);
    pp_i64(&p, b->in_flight);
    /* A refresh keeps the row's started_at (and host, pid, role). */
    rc = pg_cmd(st,
                "INSERT INTO engines(owner, host, pid, role, started_at, seen_at, attempts, "
                "in_flight) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                "ON CONFLICT (owner) DO UPDATE SET seen_at = excluded.seen_at, "
                "attempts = excluded.attempts, in_flight = excluded.in_flight",
                &p, "writing the engine's heartbeat", err);
    if (rc == HD_OK) {
        pg_params q = { 0 };
        pp_i64(&q, b->seen_at - ENGINE_FORGET_MS);
        rc = pg_cmd(st,
                    "DELETE FROM engines WHERE owner IN (SELECT owner FROM engines "
                    "WHERE seen_at < $1 FOR UPDATE SKIP LOCKED)",
                    &q, "forgetting engines long gone", err);
    }
    return pg_write_end(st, mode, rc, err);
}

hd_status pg_engine_gone(pg_store *st, const char *owner, hd_error *err)
{
    pg_write_mode mode;
    hd_status rc = pg_write_begin(st, &mode, err);
    if (rc != HD_OK)
        return rc;
    pg_params p = { 0 };
    pp_str(&p, owner);
    rc = pg_cmd(st, "DELETE FROM engines WHERE owner = $1", &p, "removing the engine's heartbeat",
                err);
    return pg_write_end(st, mode, rc, err);
}

/* Oldest first; owners in byte order (COLLATE "C", as SQLite's BINARY). */
hd_status pg_engines_alive(pg_store *st, int64_t since_ms, engine_beat_list *out, hd_error *err)
{
    out->items = NULL;
    out->count = 0;
    pg_params p = { 0 };
    pp_i64(&p, since_ms);
    PGresult *r = pg_run(st,
                         "SELECT owner, host, pid, role, started_at, seen_at, attempts, in_flight "
                         "FROM engines WHERE seen_at >= $1 ORDER BY started_at, owner COLLATE \"C\"",
                         &p, "listing the engines", err);
    if (!r)
        return pg_run_failed(err);
    int n = PQntuples(r);
    if (n > 0 && !(out->items = calloc((size_t)n, sizeof *out->items))) {
        PQclear(r);
        return hd_error_set(err, HD_NOMEM, "listing the engines: out of memory");
    }
    for (int i = 0; i < n; i++) {
        engine_beat *b = &out->items[out->count++];
        b->owner = pg_strdup(r, i, 0);
        b->host = pg_strdup(r, i, 1);
        b->pid = pg_i64(r, i, 2);
        b->role = pg_strdup(r, i, 3);
        b->started_at = pg_i64(r, i, 4);
        b->seen_at = pg_i64(r, i, 5);
        b->attempts = pg_i64(r, i, 6);
        b->in_flight = (int)pg_i64(r, i, 7);
    }
    PQclear(r);
    return HD_OK;
}
