/* store_stmt.c - the SQLite store's statements and write transactions.
 *
 * DESIGN
 * - One `store` is one SQLite connection used by one thread (opened with
 *   SQLITE_OPEN_NOMUTEX; store_db.c).  Several processes share the file:
 *   WAL mode, busy_timeout, and every write transaction is BEGIN IMMEDIATE
 *   so that a writer waits for the lock up front (a deferred transaction
 *   that upgrades fails at once with SQLITE_BUSY, ignoring busy_timeout).
 * - Write functions join the caller's transaction when one is open
 *   (store_tx_begin; sqlite3_get_autocommit() == 0), else wrap themselves in
 *   BEGIN IMMEDIATE / COMMIT (write_begin / write_end).  A multi-statement
 *   write that joins a caller's transaction runs inside a SAVEPOINT so that
 *   it is all-or-nothing too.
 * - Hot statements live in a cache (st->stmts, generated from STORE_STMT_LIST
 *   in store_internal.h), prepared once with SQLITE_PREPARE_PERSISTENT.  Page
 *   and count queries are built from a fixed set of WHERE fragments
 *   (store_pages.c): the SQL text only depends on which filters are set (and
 *   the direction), never on data, so they are cached per shape as well.
 */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

const char *const stmt_sql[STMT_COUNT] = {
#define STORE_STMT_SQL(id, sql) sql,
    STORE_STMT_LIST(STORE_STMT_SQL)
#undef STORE_STMT_SQL
};

const char *const stmt_name[STMT_COUNT] = {
#define STORE_STMT_NAME(id, sql) #id,
    STORE_STMT_LIST(STORE_STMT_NAME)
#undef STORE_STMT_NAME
};

/* ------------------------------------------------------------------------ */
/* Errors and statement helpers                                             */

hd_status db_fail(sq_store *st, hd_error *err, const char *what)
{
    /* Another connection held the lock past busy_timeout: HD_BUSY, so that
     * a caller that must not wait (the console's keys) can try again later. */
    int ec = sqlite3_extended_errcode(st->db) & 0xff;
    hd_status code = ec == SQLITE_BUSY || ec == SQLITE_LOCKED ? HD_BUSY : HD_DB;
    return hd_error_set(err, code, "database %s: %s: %s", st->path, what,
                        sqlite3_errmsg(st->db));
}

/* Runs fixed SQL text (pragmas, the schema, the migrations' BEGIN and
 * COMMIT): no parameters, no rows. */
hd_status exec_sql(sq_store *st, const char *sql, hd_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        hd_status r = hd_error_set(err, HD_DB, "database %s: %s: %s", st->path, sql,
                                   msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return r;
    }
    return HD_OK;
}

sqlite3_stmt *stmt_prepare(sq_store *st, const char *sql, hd_error *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
        db_fail(st, err, "preparing a query");
        sqlite3_finalize(s);
        return NULL;
    }
    return s;
}

/* A cached statement, reset and with its bindings cleared. */
sqlite3_stmt *stmt_get(sq_store *st, stmt_id id, hd_error *err)
{
    sqlite3_stmt *s = st->stmts[id];
    if (!s) {
        s = stmt_prepare(st, stmt_sql[id], err);
        st->stmts[id] = s;
        return s;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

/* Multi-row statements: a fixed head, then one "(?, ?, ...)" per row; the
 * text depends on the row count only, never on data. */
static const struct {
    const char *head;
    int params;   /* per row */
} multi_sql[MULTI_COUNT] = {
    [MULTI_ATTEMPT_ADD] = { "INSERT OR ROLLBACK INTO attempts(message_id, site_id, number, "
                            "started_at, duration_ms, response_code, error, request_headers, "
                            "response_headers, response_body, body_truncated) VALUES ", 11 },
    [MULTI_LEASE_TAKE] = { "INSERT OR REPLACE INTO leases(message_id, owner, until) VALUES ", 3 },
};

sqlite3_stmt *multi_stmt(sq_store *st, multi_id which, int rows, hd_error *err)
{
    if (rows < 1 || rows > MULTI_ROWS) {
        hd_error_set(err, HD_INTERNAL, "multi-row statement of %d rows", rows);
        return NULL;
    }
    sqlite3_stmt *s = st->multi[which][rows];
    if (s) {
        sqlite3_reset(s);
        return s;
    }
    hd_buf sql = { 0 };
    hd_buf_puts(&sql, multi_sql[which].head);
    for (int r = 0; r < rows; r++) {
        hd_buf_puts(&sql, r ? ", (" : "(");
        for (int p = 0; p < multi_sql[which].params; p++)
            hd_buf_puts(&sql, p ? ", ?" : "?");
        hd_buf_putc(&sql, ')');
    }
    s = stmt_prepare(st, hd_buf_str(&sql), err);
    hd_buf_free(&sql);
    st->multi[which][rows] = s;
    return s;
}

/* sqlite3_bind_parameter_index compares the name with every parameter of
 * the statement in turn: a twentieth of the committer's instructions, with
 * ~25 binds per attempt.  Names are string literals, so a (statement, name)
 * pair remembers its index; a hit is confirmed by asking the statement for
 * the name at that index (a cheap walk by number), so a statement finalized
 * and another allocated at the same address can never use a wrong index.
 * Per thread, like the connections. */
#define PARAM_CACHE 256

static _Thread_local struct param_slot {
    const sqlite3_stmt *stmt;
    const char *name;
    int index;
} param_cache[PARAM_CACHE];

static int param_index(sqlite3_stmt *s, const char *name)
{
    uintptr_t h = ((uintptr_t)s >> 4) ^ ((uintptr_t)name * 2654435761u);
    struct param_slot *slot = &param_cache[(h ^ (h >> 11)) % PARAM_CACHE];
    if (slot->stmt == s && slot->name == name) {
        const char *at = sqlite3_bind_parameter_name(s, slot->index);
        if (at && strcmp(at, name) == 0)
            return slot->index;
    }
    int i = sqlite3_bind_parameter_index(s, name);
    *slot = (struct param_slot){ s, name, i };
    return i;
}

/* Bind helpers by parameter name; a name the statement lacks is ignored so
 * that the built page queries can share the binding code. */
void bind_i64(sqlite3_stmt *s, const char *name, int64_t v)
{
    int i = param_index(s, name);
    if (i > 0)
        sqlite3_bind_int64(s, i, v);
}

/* 0 becomes NULL: for optional ids, codes and times. */
void bind_i64_or_null(sqlite3_stmt *s, const char *name, int64_t v)
{
    int i = param_index(s, name);
    if (i > 0) {
        if (v)
            sqlite3_bind_int64(s, i, v);
        else
            sqlite3_bind_null(s, i);
    }
}

void bind_text(sqlite3_stmt *s, const char *name, const char *v)
{
    int i = param_index(s, name);
    if (i > 0) {
        if (v)
            sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(s, i);
    }
}

void bind_blob(sqlite3_stmt *s, const char *name, const void *v, size_t len)
{
    int i = param_index(s, name);
    if (i > 0) {
        if (v)
            sqlite3_bind_blob64(s, i, v, len, SQLITE_STATIC);
        else
            sqlite3_bind_null(s, i);
    }
}

char *col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? hd_xstrdup((const char *)t) : NULL;
}

/* Runs a statement that returns no rows (or whose rows are not wanted). */
hd_status step_done(sq_store *st, sqlite3_stmt *s, const char *what, hd_error *err)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, what);
    sqlite3_reset(s);
    return r;
}

hd_status exec_cached(sq_store *st, stmt_id id, const char *what, hd_error *err)
{
    sqlite3_stmt *s = stmt_get(st, id, err);
    if (!s)
        return HD_DB;
    return step_done(st, s, what, err);
}

/* One int64 from a one-row query; *found says whether there was a row. */
hd_status step_row(sq_store *st, sqlite3_stmt *q, row_reader read, void *out, bool *found,
                   const char *what, hd_error *err)
{
    int rc = sqlite3_step(q);
    hd_status r = HD_OK;
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        read(q, out);
    else if (rc != SQLITE_DONE)
        r = db_fail(st, err, what);
    sqlite3_reset(q);
    return r;
}

hd_status collect_rows(sq_store *st, sqlite3_stmt *q, row_reader read, size_t size, row_array *a,
                       const char *what, hd_error *err)
{
    int cap = a->count;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        a->items = hd_xgrow(a->items, a->count, &cap, size, 8);
        char *item = (char *)a->items + size * (size_t)a->count;
        memset(item, 0, size);
        read(q, item);
        a->count++;
    }
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, what);
    sqlite3_reset(q);
    return r;
}

hd_status step_i64(sq_store *st, sqlite3_stmt *s, const char *what, int64_t *out,
                          bool *found, hd_error *err)
{
    *out = 0;
    if (found)
        *found = false;
    int rc = sqlite3_step(s);
    hd_status r = HD_OK;
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(s, 0);
        if (found)
            *found = true;
    } else if (rc == SQLITE_DONE) {
        *out = 0;
        if (found)
            *found = false;
    } else {
        r = db_fail(st, err, what);
    }
    sqlite3_reset(s);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                             */

/* Forgets what the last write transaction learnt (sites seen, actions
 * registered): that transaction may have been rolled back. */
void write_memory_reset(sq_store *st)
{
    memset(st->count_delta, 0, sizeof st->count_delta);
    st->nsite_deltas = 0;
    free(st->tx_events);
    st->tx_events = NULL;
    st->ntx_events = 0;
    st->known_site = 0;
    for (int i = 0; i < KNOWN_ACTIONS; i++) {
        free(st->known_actions[i]);
        st->known_actions[i] = NULL;
    }
    st->known_actions_next = 0;
}

/* A write transaction committed: what it decided is now true. */
static void committed(sq_store *st)
{
    st->own_commits++;
    if (st->ntx_events > 0) {
        st->events = hd_xrealloc(st->events,
                                 sizeof *st->events * (size_t)(st->nevents + st->ntx_events));
        memcpy(st->events + st->nevents, st->tx_events, sizeof *st->events * (size_t)st->ntx_events);
        st->nevents += st->ntx_events;
        st->ntx_events = 0;
    }
}

/* multi: the function runs several statements, so joining the caller's
 * transaction needs a savepoint to stay all-or-nothing. */
hd_status write_begin(sq_store *st, bool multi, write_mode *mode, hd_error *err)
{
    if (st->read_only)
        return hd_error_set(err, HD_DB, "database %s: opened read-only", st->path);
    if (sqlite3_get_autocommit(st->db)) {
        *mode = WRITE_OWN_TX;
        write_memory_reset(st);
        return exec_cached(st, STMT_BEGIN, "begin transaction", err);
    }
    *mode = multi ? WRITE_SAVEPOINT : WRITE_JOINED;
    return multi ? exec_cached(st, STMT_SAVEPOINT, "savepoint", err) : HD_OK;
}

hd_status write_stmt(sq_store *st, stmt_id id, bool multi, write_mode *mode, sqlite3_stmt **q,
                     hd_error *err)
{
    *q = NULL;
    hd_status rc = write_begin(st, multi, mode, err);
    if (rc != HD_OK)
        return rc;
    *q = stmt_get(st, id, err);
    return *q ? HD_OK : write_end(st, *mode, HD_DB, err);
}

/* Ends what write_begin started: commits when rc is HD_OK, else undoes. */
hd_status write_end(sq_store *st, write_mode mode, hd_status rc, hd_error *err)
{
    switch (mode) {
    case WRITE_OWN_TX:
        if (rc == HD_OK) {
            rc = exec_cached(st, STMT_COMMIT, "commit", err);
            if (rc == HD_OK) {
                committed(st);
                return HD_OK;
            }
        }
        if (!sqlite3_get_autocommit(st->db))
            exec_cached(st, STMT_ROLLBACK, "rollback", NULL);
        claim_cursors_reset(st);   /* the claims' leases are undone */
        return rc;
    case WRITE_SAVEPOINT:
        /* An OR ROLLBACK statement that failed has ended the transaction. */
        if (rc != HD_OK && !sqlite3_get_autocommit(st->db))
            exec_cached(st, STMT_ROLLBACK_TO, "rollback to savepoint", NULL);
        if (rc != HD_OK)
            claim_cursors_reset(st);
        if (!sqlite3_get_autocommit(st->db)) {
            hd_status r2 = exec_cached(st, STMT_RELEASE, "release savepoint",
                                       rc == HD_OK ? err : NULL);
            if (rc == HD_OK)
                rc = r2;
        }
        return rc;
    case WRITE_JOINED:
        break;
    }
    return rc;
}

hd_status sq_tx_begin(sq_store *st, hd_error *err)
{
    if (st->read_only)
        return hd_error_set(err, HD_DB, "database %s: opened read-only", st->path);
    if (!sqlite3_get_autocommit(st->db))
        return hd_error_set(err, HD_INTERNAL, "database %s: a transaction is already open",
                            st->path);
    write_memory_reset(st);
    return exec_cached(st, STMT_BEGIN, "begin transaction", err);
}

hd_status sq_tx_commit(sq_store *st, hd_error *err)
{
    if (sqlite3_get_autocommit(st->db))
        return hd_error_set(err, HD_INTERNAL, "database %s: commit without a transaction",
                            st->path);
    hd_status rc = exec_cached(st, STMT_COMMIT, "commit", err);
    if (rc == HD_OK)
        committed(st);
    else
        claim_cursors_reset(st);
    return rc;
}

void sq_tx_rollback(sq_store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        exec_cached(st, STMT_ROLLBACK, "rollback", NULL);
    claim_cursors_reset(st);
}

uint64_t sq_change_counter(sq_store *st)
{
    /* data_version changes when another connection commits; own_commits when
     * this one does.  Each in its own half so any change changes the value. */
    int64_t dv = 0;
    sqlite3_stmt *s = stmt_get(st, STMT_DATA_VERSION, NULL);
    if (s)
        step_i64(st, s, "data_version", &dv, NULL, NULL);
    return ((uint64_t)dv << 32) | (st->own_commits & 0xffffffffu);
}
