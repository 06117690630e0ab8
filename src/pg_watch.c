/* pg_watch.c - the PostgreSQL store's watch (store_watch in hd_store.h): a
 * connection of its own that LISTENs on PG_CHANNEL, so that an idle engine
 * sleeping in poll() wakes when any process on any host commits (every
 * write transaction ends with NOTIFY; pg_stmt.c).
 *
 * A connection lost (server restart, network cut) makes the socket
 * readable: pg_watch_changed reports a change (the engine looks at the
 * queue, which is the safe side) and reconnects, at most once a second so
 * that a server that stays away does not turn the engine's sleep into a
 * busy loop; while it is away the engine's poll interval is the fallback.
 */
#include "pg_internal.h"

#include <stdlib.h>
#include <time.h>

struct pg_watch {
    PGconn *conn;
    char *conninfo;
    time_t last_reconnect;   /* when a reconnect was last tried */
};

static bool listen_on(PGconn *c)
{
    if (PQstatus(c) != CONNECTION_OK)
        return false;
    PGresult *r = PQexec(c, "LISTEN " PG_CHANNEL);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok && PQsetnonblocking(c, 1) == 0;
}

hd_status pg_watch_open(const char *conninfo, pg_watch **out, hd_error *err)
{
    *out = NULL;
    pg_watch *w = calloc(1, sizeof *w);
    if (!w)
        return hd_error_set(err, HD_NOMEM, "database watch: out of memory");
    w->conninfo = hd_xstrdup(conninfo);
    w->conn = PQconnectdb(conninfo);
    if (!listen_on(w->conn)) {
        char msg[300];
        pg_first_line(PQerrorMessage(w->conn), msg, sizeof msg);
        pg_watch_close(w);
        return hd_error_set(err, HD_DB, "database watch: cannot LISTEN: %s", msg);
    }
    *out = w;
    return HD_OK;
}

int pg_watch_fd(const pg_watch *w)
{
    return w && w->conn ? PQsocket(w->conn) : -1;
}

static void reconnect(pg_watch *w)
{
    time_t now = time(NULL);
    if (now == w->last_reconnect)
        return;
    w->last_reconnect = now;
    PQreset(w->conn);
    listen_on(w->conn);
}

bool pg_watch_changed(pg_watch *w)
{
    if (!w || !w->conn)
        return false;
    if (PQstatus(w->conn) != CONNECTION_OK || !PQconsumeInput(w->conn)) {
        reconnect(w);
        return true;
    }
    bool changed = false;
    PGnotify *n;
    while ((n = PQnotifies(w->conn)) != NULL) {
        changed = true;
        PQfreemem(n);
    }
    return changed;
}

void pg_watch_close(pg_watch *w)
{
    if (!w)
        return;
    PQfinish(w->conn);
    free(w->conninfo);
    free(w);
}
