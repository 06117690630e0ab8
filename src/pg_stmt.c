/* pg_stmt.c - the PostgreSQL store's statements: parameters, errors,
 * reconnecting, transactions, circuit events, the change counter.
 *
 * Live screens and idle engines learn of changes by LISTEN/NOTIFY: every
 * write transaction ends with NOTIFY on PG_CHANNEL, sent in the same round
 * trip as its COMMIT (PostgreSQL delivers it only if the commit succeeds,
 * and folds repeats within one transaction into one).  Each connection
 * LISTENs, so store_change_counter is a non-blocking read of the socket.
 */
#include "pg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Parameters and fields                                                    */

static const char **pp_slot(pg_params *p)
{
    /* PG_MAX_PARAMS is far above any statement's count: overflowing it is a
     * bug in the caller, caught by the server ("bind message supplies N
     * parameters") rather than by writing past the array. */
    if (p->n >= PG_MAX_PARAMS)
        return NULL;
    return &p->values[p->n++];
}

void pp_i64(pg_params *p, int64_t v)
{
    int i = p->n;
    const char **slot = pp_slot(p);
    if (!slot)
        return;
    snprintf(p->num[i], sizeof p->num[i], "%lld", (long long)v);
    *slot = p->num[i];
}

void pp_str(pg_params *p, const char *s)
{
    const char **slot = pp_slot(p);
    if (slot)
        *slot = s;
}

void pp_bool(pg_params *p, bool v)
{
    pp_str(p, v ? "t" : "f");
}

void pp_i64_or_null(pg_params *p, int64_t v)
{
    if (v)
        pp_i64(p, v);
    else
        pp_str(p, NULL);
}

int64_t pg_i64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    const char *v = PQgetvalue(r, row, col);
    if (v[0] == 't' && v[1] == '\0')
        return 1;
    if (v[0] == 'f' && v[1] == '\0')
        return 0;
    return strtoll(v, NULL, 10);
}

bool pg_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) != 0;
}

char *pg_strdup(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    return hd_xstrdup(PQgetvalue(r, row, col));
}

char *pg_bytes(const PGresult *r, int row, int col, size_t *len)
{
    *len = 0;
    if (PQgetisnull(r, row, col))
        return NULL;
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
    if (!raw)
        return NULL;
    char *out = malloc(n + 1);
    if (out) {
        memcpy(out, raw, n);
        out[n] = '\0';
        *len = n;
    }
    PQfreemem(raw);
    return out;
}

int64_t pg_affected(PGresult *r)
{
    const char *n = PQcmdTuples(r);
    return n && *n ? strtoll(n, NULL, 10) : 0;
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */

/* The server's (or libpq's) message, first line, without the "ERROR:  ". */
void pg_first_line(const char *msg, char *out, size_t size)
{
    if (!msg || !*msg)
        msg = "unknown error";
    if (strncmp(msg, "ERROR:  ", 8) == 0)
        msg += 8;
    size_t n = strcspn(msg, "\n");
    if (n >= size)
        n = size - 1;
    memcpy(out, msg, n);
    out[n] = '\0';
}

hd_status pg_fail(pg_store *st, const PGresult *r, const char *what, hd_error *err)
{
    char msg[400];
    const char *text = r ? PQresultErrorMessage(r) : NULL;
    if (!text || !*text)
        text = PQerrorMessage(st->conn);
    pg_first_line(text, msg, sizeof msg);
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state && strcmp(state, "23505") == 0)
        return hd_error_set(err, HD_EXISTS, "%s: %s", what, msg);
    /* Another session holds the lock past lock_timeout (55P03), or two
     * transactions deadlocked (40P01: the server cancelled this one):
     * nothing was done and trying again later is right, as with SQLite's
     * SQLITE_BUSY. */
    if (state && (strcmp(state, "55P03") == 0 || strcmp(state, "40P01") == 0))
        return hd_error_set(err, HD_BUSY, "%s: database %s: %s", what, st->shown, msg);
    return hd_error_set(err, HD_DB, "%s: database %s: %s", what, st->shown, msg);
}

/* Settings of every session, then LISTEN.  lock_timeout plays SQLite's
 * busy_timeout: no call waits on another writer's locks for ever. */
hd_status pg_session_setup(pg_store *st, int busy_timeout_ms, hd_error *err)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "SET lock_timeout = %d; SET TIME ZONE 'UTC'; SET client_min_messages = warning; "
             "LISTEN " PG_CHANNEL,
             busy_timeout_ms > 0 ? busy_timeout_ms : 5000);
    PGresult *r = PQexec(st->conn, sql);
    hd_status rc = PQresultStatus(r) == PGRES_COMMAND_OK ? HD_OK
                                                          : pg_fail(st, r, "session setup", err);
    PQclear(r);
    return rc;
}

/* A connection found broken (server restart, failover, network cut) is
 * re-established here, before a statement is sent and never inside a
 * transaction: the transaction died with the connection, and its owner
 * learns so from the error of the statement that found it. */
static bool ensure_connected(pg_store *st)
{
    if (PQstatus(st->conn) == CONNECTION_OK)
        return true;
    if (st->in_caller_tx)
        return false;
    PQreset(st->conn);
    if (PQstatus(st->conn) != CONNECTION_OK)
        return false;
    hd_error ignored = { 0 };
    return pg_session_setup(st, 0, &ignored) == HD_OK;
}

/* ------------------------------------------------------------------------ */
/* Statements                                                               */

PGresult *pg_run(pg_store *st, const char *sql, const pg_params *p, const char *what,
                 hd_error *err)
{
    if (!ensure_connected(st)) {
        pg_fail(st, NULL, what, err);
        return NULL;
    }
    PGresult *r = PQexecParams(st->conn, sql, p ? p->n : 0, NULL, p ? p->values : NULL, NULL,
                               NULL, 0);
    ExecStatusType s = PQresultStatus(r);
    if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK)
        return r;
    pg_fail(st, r, what, err);
    PQclear(r);
    return NULL;
}

hd_status pg_run_failed(const hd_error *err)
{
    return err && err->code != HD_OK ? err->code : HD_DB;
}

hd_status pg_cmd(pg_store *st, const char *sql, const pg_params *p, const char *what,
                 hd_error *err)
{
    PGresult *r = pg_run(st, sql, p, what, err);
    if (!r)
        return err && err->code ? err->code : HD_DB;
    PQclear(r);
    return HD_OK;
}

/* Fixed SQL with no parameters (transaction control). */
static hd_status exec_fixed(pg_store *st, const char *sql, const char *what, hd_error *err)
{
    if (!ensure_connected(st))
        return pg_fail(st, NULL, what, err);
    PGresult *r = PQexec(st->conn, sql);
    hd_status rc = PQresultStatus(r) == PGRES_COMMAND_OK ? HD_OK : pg_fail(st, r, what, err);
    PQclear(r);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                             */

static hd_status begin_tx(pg_store *st, hd_error *err)
{
    if (st->read_only)
        return hd_error_set(err, HD_DB, "database %s: opened read-only", st->shown);
    return exec_fixed(st, "BEGIN", "begin transaction", err);
}

/* A COMMIT whose answer was lost with the connection (a server restart, a
 * failover, a network cut at that instant) may or may not have happened.
 * Retrying blindly could record an engine's outcomes twice; giving up
 * could report as lost what was written.  So every write transaction
 * leaves a mark (this connection's id and its commit number, one row per
 * connection in commit_marks), and after such a loss the mark is looked
 * up on a new connection: found, the commit happened. */
static hd_status mark_commit(pg_store *st, hd_error *err)
{
    st->mark_seq++;
    pg_params p = { 0 };
    pp_str(&p, st->mark_id);
    pp_i64(&p, st->mark_seq);
    pp_i64(&p, hd_now_ms());
    return pg_cmd(st,
                  "INSERT INTO commit_marks(conn, seq, at) VALUES ($1, $2, $3)"
                  " ON CONFLICT (conn) DO UPDATE SET seq = EXCLUDED.seq, at = EXCLUDED.at",
                  &p, "commit", err);
}

static hd_status commit_after_lost_answer(pg_store *st, hd_error *err)
{
    char lost[300];
    pg_first_line(PQerrorMessage(st->conn), lost, sizeof lost);
    if (!ensure_connected(st))
        return hd_error_set(err, HD_DB, "commit: database %s: connection lost (%s); the "
                            "server is not back, so it is not known whether it committed",
                            st->shown, lost);
    pg_params p = { 0 };
    pp_str(&p, st->mark_id);
    PGresult *r = pg_run(st, "SELECT seq FROM commit_marks WHERE conn = $1", &p, "commit", err);
    if (!r)
        return HD_DB;
    bool done = PQntuples(r) == 1 && pg_i64(r, 0, 0) == st->mark_seq;
    PQclear(r);
    if (done)
        return HD_OK;
    return hd_error_set(err, HD_DB, "commit: database %s: connection lost (%s); not committed",
                        st->shown, lost);
}

/* The NOTIFY rides in the COMMIT's round trip. */
static hd_status commit_tx(pg_store *st, hd_error *err)
{
    hd_status rc = mark_commit(st, err);
    if (rc == HD_OK) {
        PGresult *r = PQexec(st->conn, "NOTIFY " PG_CHANNEL "; COMMIT");
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            rc = HD_OK;
        else if (PQstatus(st->conn) != CONNECTION_OK)
            rc = commit_after_lost_answer(st, err);
        else
            rc = pg_fail(st, r, "commit", err);
        PQclear(r);
    }
    if (rc == HD_OK) {
        st->changes++;
        pg_events_commit(st);
    } else {
        if (PQstatus(st->conn) == CONNECTION_OK)
            PQclear(PQexec(st->conn, "ROLLBACK"));
        pg_events_drop(st);
    }
    return rc;
}

static void rollback_tx(pg_store *st)
{
    if (PQstatus(st->conn) == CONNECTION_OK)
        PQclear(PQexec(st->conn, "ROLLBACK"));
    pg_events_drop(st);
}

hd_status pg_write_begin(pg_store *st, pg_write_mode *mode, hd_error *err)
{
    if (st->in_caller_tx) {
        *mode = PG_JOINED;
        return exec_fixed(st, "SAVEPOINT hd_write", "savepoint", err);
    }
    *mode = PG_OWN_TX;
    return begin_tx(st, err);
}

hd_status pg_write_end(pg_store *st, pg_write_mode mode, hd_status rc, hd_error *err)
{
    if (mode == PG_JOINED) {
        if (rc != HD_OK) {
            exec_fixed(st, "ROLLBACK TO SAVEPOINT hd_write", "rollback to savepoint", NULL);
            return rc;
        }
        return exec_fixed(st, "RELEASE SAVEPOINT hd_write", "release savepoint", err);
    }
    if (rc != HD_OK) {
        rollback_tx(st);
        return rc;
    }
    return commit_tx(st, err);
}

hd_status pg_tx_begin(pg_store *st, hd_error *err)
{
    hd_status rc = begin_tx(st, err);
    st->in_caller_tx = rc == HD_OK;
    return rc;
}

hd_status pg_tx_commit(pg_store *st, hd_error *err)
{
    st->in_caller_tx = false;
    return commit_tx(st, err);
}

void pg_tx_rollback(pg_store *st)
{
    st->in_caller_tx = false;
    rollback_tx(st);
}


/* ------------------------------------------------------------------------ */
/* Circuit events (store_take_circuit_events): gathered by the open
 * transaction (pg_claims.c appends to tx_events), kept when it commits.   */

void pg_events_commit(pg_store *st)
{
    if (!st->ntx_events)
        return;
    circuit_event *all = realloc(st->events, (size_t)(st->nevents + st->ntx_events) * sizeof *all);
    if (!all) {
        pg_events_drop(st);   /* for the log only: losing them loses no state */
        return;
    }
    memcpy(all + st->nevents, st->tx_events, (size_t)st->ntx_events * sizeof *all);
    st->events = all;
    st->nevents += st->ntx_events;
    pg_events_drop(st);
}

void pg_events_drop(pg_store *st)
{
    free(st->tx_events);
    st->tx_events = NULL;
    st->ntx_events = 0;
}

void pg_take_circuit_events(pg_store *st, circuit_event **out, int *n)
{
    *out = st->events;
    *n = st->nevents;
    st->events = NULL;
    st->nevents = 0;
}

/* ------------------------------------------------------------------------ */
/* Version and changes                                                      */

int pg_schema_version(pg_store *st)
{
    PGresult *r = pg_run(st, "SELECT version FROM hookdesk_schema", NULL, "schema version", NULL);
    int v = r && PQntuples(r) == 1 ? (int)pg_i64(r, 0, 0) : 0;
    PQclear(r);
    return v;
}

/* Reads what notifications have arrived, without waiting.  A broken
 * connection counts as a change: the caller re-reads and sees the error. */
uint64_t pg_change_counter(pg_store *st)
{
    if (!PQconsumeInput(st->conn)) {
        ensure_connected(st);
        return ++st->changes;
    }
    PGnotify *n;
    while ((n = PQnotifies(st->conn)) != NULL) {
        if (n->be_pid != PQbackendPID(st->conn))   /* own commits counted at COMMIT */
            st->changes++;
        PQfreemem(n);
    }
    return st->changes;
}

