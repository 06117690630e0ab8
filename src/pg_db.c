/* pg_db.c - the PostgreSQL store's connection: open, close, and the name
 * it goes by in messages (never with its password). */
#include "pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Connecting                                                               */

/* "postgresql://user@host:port/db" from any conninfo, never the password. */
char *pg_display_name(const char *conninfo)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &errmsg);
    if (!opts) {
        PQfreemem(errmsg);
        return hd_xstrdup("(PostgreSQL)");
    }
    const char *user = "", *host = "", *port = "", *db = "";
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (strcmp(o->keyword, "user") == 0)
            user = o->val;
        else if (strcmp(o->keyword, "host") == 0)
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "dbname") == 0)
            db = o->val;
    }
    hd_buf b = { 0 };
    hd_buf_printf(&b, "postgresql://%s%s%s%s%s/%s", user, *user ? "@" : "", host, *port ? ":" : "",
                  port, db);
    PQconninfoFree(opts);
    return hd_buf_steal(&b);
}

static int busy_timeout_of(const store_options *opt)
{
    return opt && opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : 5000;
}

static hd_status connect_now(pg_store *st, hd_error *err)
{
    st->conn = PQconnectdb(st->conninfo);
    if (PQstatus(st->conn) != CONNECTION_OK) {
        char msg[400];
        pg_first_line(PQerrorMessage(st->conn), msg, sizeof msg);
        return hd_error_set(err, HD_DB, "database %s: cannot connect: %s", st->shown, msg);
    }
    return HD_OK;
}

hd_status pg_open(const char *conninfo, const store_options *opt, pg_store **out, hd_error *err)
{
    pg_store *st = calloc(1, sizeof *st);
    if (!st)
        return hd_error_set(err, HD_NOMEM, "store: out of memory");
    st->conninfo = hd_xstrdup(conninfo);
    st->shown = pg_display_name(conninfo);
    st->read_only = opt && opt->read_only;
    st->default_timeout_ms = PG_DEFAULT_SITE_TIMEOUT_MS;
    unsigned char rnd[16];
    hd_random_bytes(rnd, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++)
        snprintf(st->mark_id + 2 * i, 3, "%02x", rnd[i]);
    hd_status rc = connect_now(st, err);
    if (rc == HD_OK)
        rc = pg_session_setup(st, busy_timeout_of(opt), err);
    if (rc == HD_OK)
        rc = pg_schema_migrate(st, err);
    if (rc != HD_OK) {
        pg_close(st);
        return rc;
    }
    *out = st;
    return HD_OK;
}

void pg_close(pg_store *st)
{
    if (!st)
        return;
    /* Its commit mark is of no use once it is gone (best effort: a crashed
     * process leaves one small row). */
    if (PQstatus(st->conn) == CONNECTION_OK && st->mark_seq > 0) {
        pg_params p = { 0 };
        pp_str(&p, st->mark_id);
        PQclear(PQexecParams(st->conn, "DELETE FROM commit_marks WHERE conn = $1", p.n, NULL,
                             p.values, NULL, NULL, 0));
    }
    PQfinish(st->conn);
    free(st->conninfo);
    free(st->shown);
    free(st->tx_events);
    free(st->events);
    free(st);
}
