/* store_migrate.c - copying a SQLite database into PostgreSQL (hookdesk
 * migrate, issue #12): the one store file that talks to both backends.
 *
 * DESIGN
 * - The source is opened read-only and read in one read transaction: a
 *   snapshot, so that the copy is consistent even while an engine still
 *   writes to it (what it writes after the snapshot is not copied).  Each
 *   table is read in key order, one row at a time (sqlite3_step): never a
 *   whole table in memory.
 * - Rows reach the target through COPY ... FROM STDIN in text format, in
 *   chunks of about COPY_CHUNK bytes (PQputCopyData): one round trip per
 *   chunk instead of one per row.  Every value is encoded here: NULL as \N;
 *   text with \\, \n, \r and \t escaped; bytea as \\x and hex; booleans as
 *   t/f.  A text value that is not valid UTF-8 (a receiver's header in
 *   Latin-1) or holds a NUL byte cannot be stored by PostgreSQL at all:
 *   its bad bytes become U+FFFD and the report counts such values.
 * - The whole copy is one transaction on the target (all or nothing):
 *   LOCK the tables other writers would add to, check that the target
 *   holds no site and no message, clear what an emptied database leaves
 *   (action names, per-second counters), copy, set the counters and the
 *   identities, count every table on both sides, ANALYZE, COMMIT.  Any
 *   failure rolls everything back.
 * - status_counts is kept by a row trigger on messages; fired for every
 *   copied row it would update the same few counter rows once per message,
 *   within one transaction, where each update walks the versions the
 *   previous ones left (2.8 s instead of 0.6 s for 20,000 messages, and
 *   quadratic).  So the trigger is paused for the copy (ALTER TABLE, which
 *   needs the table's owner, and is undone by a rollback like the rest) and
 *   the counters are set once from the copied messages.  When the tables
 *   belong to another role the trigger keeps counting: slower, same result.
 */
#include "pg_internal.h"
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

/* Bytes of COPY data sent at a time. */
#define COPY_CHUNK (256 * 1024)
/* Rows between two progress reports. */
#define PROGRESS_ROWS 5000

/* How a column's value is written for COPY: one letter per column. */
enum {
    COL_INT = 'i',           /* integer */
    COL_TEXT = 't',          /* text: escaped, UTF-8 checked */
    COL_BOOL = 'b',          /* SQLite 0/1 -> t/f */
    COL_BYTES = 'x'          /* BLOB -> bytea */
};

/* One table to copy: what reads it from SQLite (in key order) and the COPY
 * that writes it, with the same columns in the same order. */
typedef struct migrate_table {
    const char *name;
    const char *select;      /* SQLite */
    const char *copy;        /* PostgreSQL */
    const char *kinds;       /* a COL_ letter per column */
    const char *count;       /* SELECT count(*): the same text on both sides */
} migrate_table;

/* Parents first: payloads and attempts reference messages. */
static const migrate_table tables[STORE_MIGRATE_TABLES] = {
    { "sites",
      "SELECT id, name, url, content_type, timeout_ms, enabled, headers, auth_kind, auth_user, "
      "auth_secret, auth_header, auth_extra, created_at, updated_at, max_in_flight, "
      "circuit_state, circuit_failures, circuit_until, circuit_cooldown, circuit_reason "
      "FROM sites ORDER BY id",
      "COPY sites(id, name, url, content_type, timeout_ms, enabled, headers, auth_kind, "
      "auth_user, auth_secret, auth_header, auth_extra, created_at, updated_at, max_in_flight, "
      "circuit_state, circuit_failures, circuit_until, circuit_cooldown, circuit_reason) "
      "FROM STDIN",
      "ittti" "btttt" "ttiii" "iiiit",
      "SELECT count(*) FROM sites" },
    { "messages",
      /* A leased message's owner and lease end go where PostgreSQL keeps
       * them: in the row. */
      "SELECT id, webhook_id, site_id, action, customer, path, status, attempts, "
      "coalesce((SELECT max(until, m.due_at) FROM leases WHERE message_id = m.id), due_at), "
      "coalesce((SELECT owner FROM leases WHERE message_id = m.id), lease_owner), "
      "response_code, last_error, created_at, updated_at, resend_of, retry_after "
      "FROM messages m ORDER BY id",
      "COPY messages(id, webhook_id, site_id, action, customer, path, status, attempts, due_at, "
      "lease_owner, response_code, last_error, created_at, updated_at, resend_of, retry_after) "
      "FROM STDIN",
      "itittt" "iiit" "itiiii",
      "SELECT count(*) FROM messages" },
    { "payloads",
      "SELECT message_id, payload FROM payloads ORDER BY message_id",
      "COPY payloads(message_id, payload) FROM STDIN",
      "it",
      "SELECT count(*) FROM payloads" },
    { "attempts",
      "SELECT id, message_id, site_id, number, started_at, duration_ms, response_code, error, "
      "request_headers, response_headers, response_body, body_truncated "
      "FROM attempts ORDER BY id",
      "COPY attempts(id, message_id, site_id, number, started_at, duration_ms, response_code, "
      "error, request_headers, response_headers, response_body, body_truncated) FROM STDIN",
      "iiiiii" "itttxb",
      "SELECT count(*) FROM attempts" },
    { "actions",
      "SELECT name FROM actions ORDER BY name",
      "COPY actions(name) FROM STDIN",
      "t",
      "SELECT count(*) FROM actions" },
    /* SQLite keeps one row per second; PostgreSQL shards them: shard 0. */
    { "attempt_seconds",
      "SELECT second, 0, n FROM attempt_seconds ORDER BY second",
      "COPY attempt_seconds(second, shard, n) FROM STDIN",
      "iii",
      "SELECT count(*) FROM attempt_seconds" },
};

/* What one copy works with. */
typedef struct migrate_run {
    sq_store *src;
    pg_store *dst;
    store_migrate_progress progress;
    void *progress_arg;
    store_migrate_report *out;
    hd_buf buf;              /* COPY data not sent yet */
} migrate_run;

/* ------------------------------------------------------------------------ */
/* Encoding values for COPY's text format                                   */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when it is not
 * one: overlong forms, surrogates and code points past U+10FFFF are not
 * valid, as PostgreSQL's own check says. */
static size_t utf8_valid_at(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Appends text escaped for COPY; returns true when a byte had to be
 * replaced (not UTF-8, or NUL). */
static bool put_text(hd_buf *b, const unsigned char *s, size_t n)
{
    bool repaired = false;
    size_t run = 0;          /* start of the bytes to copy as they are */
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        const char *esc = NULL;
        if (c >= 0x80) {
            size_t len = utf8_valid_at(s + i, n - i);
            if (len) {
                i += len;
                continue;
            }
            esc = "\xef\xbf\xbd";   /* U+FFFD */
            repaired = true;
        } else if (c == '\\') {
            esc = "\\\\";
        } else if (c == '\n') {
            esc = "\\n";
        } else if (c == '\r') {
            esc = "\\r";
        } else if (c == '\t') {
            esc = "\\t";
        } else if (c == 0) {
            esc = "\xef\xbf\xbd";
            repaired = true;
        } else {
            i++;
            continue;
        }
        hd_buf_append(b, s + run, i - run);
        hd_buf_puts(b, esc);
        run = ++i;
    }
    hd_buf_append(b, s + run, n - run);
    return repaired;
}

/* bytea in hex form, its backslash escaped for COPY: \\x0a1b... */
static void put_bytes(hd_buf *b, const unsigned char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    hd_buf_puts(b, "\\\\x");
    char chunk[512];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        chunk[k++] = hex[s[i] >> 4];
        chunk[k++] = hex[s[i] & 0x0f];
        if (k == sizeof chunk) {
            hd_buf_append(b, chunk, k);
            k = 0;
        }
    }
    hd_buf_append(b, chunk, k);
}

/* One source row as one COPY line. */
static void put_row(migrate_run *run, sqlite3_stmt *q, const char *kinds)
{
    hd_buf *b = &run->buf;
    bool repaired = false;
    for (int col = 0; kinds[col]; col++) {
        if (col > 0)
            hd_buf_putc(b, '\t');
        if (sqlite3_column_type(q, col) == SQLITE_NULL) {
            hd_buf_puts(b, "\\N");
            continue;
        }
        switch (kinds[col]) {
        case COL_INT:
            hd_buf_printf(b, "%lld", (long long)sqlite3_column_int64(q, col));
            break;
        case COL_BOOL:
            hd_buf_putc(b, sqlite3_column_int64(q, col) ? 't' : 'f');
            break;
        case COL_BYTES: {
            const unsigned char *v = sqlite3_column_blob(q, col);
            put_bytes(b, v, v ? (size_t)sqlite3_column_bytes(q, col) : 0);
            break;
        }
        default: {
            const unsigned char *v = sqlite3_column_text(q, col);
            if (v && put_text(b, v, (size_t)sqlite3_column_bytes(q, col)))
                repaired = true;
            break;
        }
        }
    }
    hd_buf_putc(b, '\n');
    if (repaired)
        run->out->repaired++;
}

/* ------------------------------------------------------------------------ */
/* Copying one table                                                        */

static hd_status source_count(migrate_run *run, const char *sql, int64_t *n, hd_error *err)
{
    sqlite3_stmt *q = stmt_prepare(run->src, sql, err);
    if (!q)
        return HD_DB;
    hd_status rc = step_i64(run->src, q, "migrate: counting the source's rows", n, NULL, err);
    sqlite3_finalize(q);
    return rc;
}

static hd_status target_count(migrate_run *run, const char *sql, int64_t *n, hd_error *err)
{
    PGresult *r = pg_run(run->dst, sql, NULL, "migrate: counting the target's rows", err);
    if (!r)
        return HD_DB;
    *n = pg_i64(r, 0, 0);
    PQclear(r);
    return HD_OK;
}

static hd_status copy_send(migrate_run *run, hd_error *err)
{
    if (run->buf.len == 0)
        return HD_OK;
    if (PQputCopyData(run->dst->conn, run->buf.data, (int)run->buf.len) != 1)
        return pg_fail(run->dst, NULL, "migrate: sending rows", err);
    hd_buf_reset(&run->buf);
    return HD_OK;
}

/* Ends the COPY (abort_why: cancel it with that reason) and reads its
 * result: *copied rows on success. */
static hd_status copy_end(migrate_run *run, const char *table, const char *abort_why,
                          int64_t *copied, hd_error *err)
{
    PGconn *conn = run->dst->conn;
    hd_status rc = HD_OK;
    if (PQputCopyEnd(conn, abort_why) != 1 && !abort_why)
        rc = pg_fail(run->dst, NULL, "migrate: ending the copy", err);
    PGresult *r;
    char what[64];
    snprintf(what, sizeof what, "migrate: copying %s", table);
    while ((r = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            *copied = pg_affected(r);
        else if (rc == HD_OK && !abort_why)
            rc = pg_fail(run->dst, r, what, err);
        PQclear(r);
    }
    return abort_why && rc == HD_OK ? HD_DB : rc;
}

static void report_progress(migrate_run *run, const migrate_table *t, int64_t done, int64_t total)
{
    if (run->progress)
        run->progress(run->progress_arg, t->name, done, total);
}

/* Streams the rows of t from the source into the target; *copied is what
 * the COPY says it stored. */
static hd_status copy_rows(migrate_run *run, const migrate_table *t, int64_t total,
                           int64_t *copied, hd_error *err)
{
    sqlite3_stmt *q = stmt_prepare(run->src, t->select, err);
    if (!q)
        return HD_DB;
    /* The kinds are written by hand: a slip would shift every column. */
    int ncols = sqlite3_column_count(q);
    if ((size_t)ncols != strlen(t->kinds)) {
        sqlite3_finalize(q);
        return hd_error_set(err, HD_INTERNAL, "migrate: %s: %d columns read, %zu described",
                            t->name, ncols, strlen(t->kinds));
    }
    PGresult *r = PQexec(run->dst->conn, t->copy);
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        char what[64];
        snprintf(what, sizeof what, "migrate: copying %s", t->name);
        hd_status rc = pg_fail(run->dst, r, what, err);
        PQclear(r);
        sqlite3_finalize(q);
        return rc;
    }
    PQclear(r);
    hd_status rc = HD_OK;
    int64_t done = 0;
    int step;
    while (rc == HD_OK && (step = sqlite3_step(q)) == SQLITE_ROW) {
        put_row(run, q, t->kinds);
        done++;
        if (run->buf.len >= COPY_CHUNK)
            rc = copy_send(run, err);
        if (done % PROGRESS_ROWS == 0)
            report_progress(run, t, done, total);
    }
    if (rc == HD_OK && step != SQLITE_DONE) {
        char what[64];
        snprintf(what, sizeof what, "migrate: reading %s", t->name);
        rc = db_fail(run->src, err, what);
    }
    if (rc == HD_OK)
        rc = copy_send(run, err);
    sqlite3_finalize(q);
    hd_buf_reset(&run->buf);
    /* A failure here (source or connection) cancels the COPY; the error
     * already says why. */
    hd_status end = copy_end(run, t->name, rc == HD_OK ? NULL : "hookdesk migrate failed",
                             copied, err);
    if (rc == HD_OK)
        rc = end;
    if (rc == HD_OK)
        report_progress(run, t, done, total);
    return rc;
}

static hd_status copy_table(migrate_run *run, int i, hd_error *err)
{
    const migrate_table *t = &tables[i];
    store_migrate_count *c = &run->out->tables[i];
    c->table = t->name;
    hd_status rc = source_count(run, t->count, &c->source, err);
    if (rc != HD_OK)
        return rc;
    report_progress(run, t, 0, c->source);
    int64_t copied = 0;
    rc = copy_rows(run, t, c->source, &copied, err);
    if (rc == HD_OK && copied != c->source)
        rc = hd_error_set(err, HD_INTERNAL,
                          "migrate: %s: the source has %lld rows but %lld were copied",
                          t->name, (long long)c->source, (long long)copied);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The target's transaction                                                 */

/* Fails with HD_EXISTS unless the target holds no site and no message.
 * The tables are locked first, so that no other process adds one before
 * the copy commits. */
static hd_status target_must_be_empty(migrate_run *run, hd_error *err)
{
    hd_status rc = pg_cmd(run->dst, "LOCK TABLE sites, messages IN EXCLUSIVE MODE", NULL,
                          "migrate: locking the target's tables", err);
    if (rc != HD_OK)
        return rc;
    PGresult *r = pg_run(run->dst,
                         "SELECT (SELECT count(*) FROM sites), EXISTS (SELECT 1 FROM messages)",
                         NULL, "migrate: looking into the target", err);
    if (!r)
        return HD_DB;
    int64_t sites = pg_i64(r, 0, 0);
    bool messages = pg_i64(r, 0, 1) != 0;
    PQclear(r);
    if (sites == 0 && !messages)
        return HD_OK;
    char what[64] = "";
    if (sites)
        snprintf(what, sizeof what, "%lld site%s%s", (long long)sites, sites == 1 ? "" : "s",
                 messages ? " and messages" : "");
    else
        snprintf(what, sizeof what, "messages");
    return hd_error_set(err, HD_EXISTS,
                        "migrate: the target %s already holds %s: migrate copies into an empty "
                        "database only; nothing was changed",
                        run->dst->shown, what);
}

/* What a database whose sites and messages were all deleted keeps: action
 * names and per-second counters of attempts of messages that are gone. */
static hd_status target_clear_leftovers(migrate_run *run, hd_error *err)
{
    hd_status rc = pg_cmd(run->dst, "DELETE FROM actions", NULL, "migrate: clearing actions", err);
    if (rc == HD_OK)
        rc = pg_cmd(run->dst, "DELETE FROM attempt_seconds", NULL,
                    "migrate: clearing attempt_seconds", err);
    return rc;
}

/* Pauses the status counting trigger for the copy (see DESIGN), under a
 * savepoint: a target owned by another role refuses (42501), and its
 * trigger then counts row by row. */
static hd_status pause_count_trigger(migrate_run *run, hd_error *err)
{
    PGconn *conn = run->dst->conn;
    hd_status rc = pg_cmd(run->dst, "SAVEPOINT hd_migrate", NULL, "migrate: savepoint", err);
    if (rc != HD_OK)
        return rc;
    PGresult *r = PQexec(conn, "ALTER TABLE messages DISABLE TRIGGER messages_count_insert");
    ExecStatusType s = PQresultStatus(r);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    bool not_owner = s != PGRES_COMMAND_OK && state && strcmp(state, "42501") == 0;
    if (s != PGRES_COMMAND_OK && !not_owner)
        rc = pg_fail(run->dst, r, "migrate: pausing the status counters", err);
    PQclear(r);
    if (rc != HD_OK)
        return rc;
    if (not_owner) {
        run->out->counts_by_trigger = true;
        return pg_cmd(run->dst, "ROLLBACK TO SAVEPOINT hd_migrate", NULL,
                      "migrate: savepoint", err);
    }
    return pg_cmd(run->dst, "RELEASE SAVEPOINT hd_migrate", NULL, "migrate: savepoint", err);
}

/* The counters from the copied messages (all on shard 0: readers sum the
 * shards), and the trigger back on. */
static hd_status set_status_counts(migrate_run *run, hd_error *err)
{
    if (run->out->counts_by_trigger)
        return HD_OK;
    hd_status rc = pg_cmd(run->dst, "UPDATE status_counts SET n = 0 WHERE n <> 0", NULL,
                          "migrate: status counters", err);
    if (rc == HD_OK)
        rc = pg_cmd(run->dst,
                    "UPDATE status_counts c SET n = m.n FROM (SELECT status, count(*) AS n "
                    "FROM messages GROUP BY status) m WHERE c.status = m.status AND c.shard = 0",
                    NULL, "migrate: status counters", err);
    if (rc == HD_OK)
        rc = pg_cmd(run->dst, "ALTER TABLE messages ENABLE TRIGGER messages_count_insert", NULL,
                    "migrate: status counters", err);
    return rc;
}

/* New rows get ids after the copied ones. */
static hd_status set_identities(migrate_run *run, hd_error *err)
{
    static const char *const sql[] = {
        "SELECT setval(pg_get_serial_sequence('sites', 'id'), max(id)) FROM sites "
        "HAVING max(id) IS NOT NULL",
        "SELECT setval(pg_get_serial_sequence('messages', 'id'), max(id)) FROM messages "
        "HAVING max(id) IS NOT NULL",
        "SELECT setval(pg_get_serial_sequence('attempts', 'id'), max(id)) FROM attempts "
        "HAVING max(id) IS NOT NULL",
    };
    hd_status rc = HD_OK;
    for (size_t i = 0; i < sizeof sql / sizeof sql[0] && rc == HD_OK; i++)
        rc = pg_cmd(run->dst, sql[i], NULL, "migrate: setting the next ids", err);
    return rc;
}

/* Every table counted on the target, against the source's snapshot; the
 * status counters against the messages they count. */
static hd_status verify(migrate_run *run, hd_error *err)
{
    for (int i = 0; i < STORE_MIGRATE_TABLES; i++) {
        store_migrate_count *c = &run->out->tables[i];
        hd_status rc = target_count(run, tables[i].count, &c->target, err);
        if (rc != HD_OK)
            return rc;
        if (c->target != c->source)
            return hd_error_set(err, HD_INTERNAL,
                                "migrate: %s: %lld rows in the source but %lld in the target",
                                c->table, (long long)c->source, (long long)c->target);
    }
    PGresult *r = pg_run(run->dst,
                         "SELECT s.status, s.n, (SELECT count(*) FROM messages m "
                         "WHERE m.status = s.status) FROM (SELECT status, sum(n) AS n "
                         "FROM status_counts GROUP BY status) s ORDER BY s.status",
                         NULL, "migrate: checking the status counters", err);
    if (!r)
        return HD_DB;
    hd_status rc = HD_OK;
    for (int row = 0; row < PQntuples(r) && rc == HD_OK; row++) {
        int64_t status = pg_i64(r, row, 0), counted = pg_i64(r, row, 1), real = pg_i64(r, row, 2);
        if (status >= 0 && status < MSG_STATUS_COUNT)
            run->out->status_counts[status] = counted;
        if (counted != real)
            rc = hd_error_set(err, HD_INTERNAL,
                              "migrate: the status counter of %s says %lld, the target has "
                              "%lld such messages",
                              msg_status_name((msg_status)status), (long long)counted,
                              (long long)real);
    }
    PQclear(r);
    return rc;
}

/* Everything that runs inside the target's transaction. */
static hd_status copy_all(migrate_run *run, hd_error *err)
{
    hd_status rc = target_must_be_empty(run, err);
    if (rc == HD_OK)
        rc = target_clear_leftovers(run, err);
    if (rc == HD_OK)
        rc = pause_count_trigger(run, err);
    for (int i = 0; i < STORE_MIGRATE_TABLES && rc == HD_OK; i++)
        rc = copy_table(run, i, err);
    if (rc == HD_OK)
        rc = set_status_counts(run, err);
    if (rc == HD_OK)
        rc = set_identities(run, err);
    if (rc == HD_OK)
        rc = verify(run, err);
    /* Statistics for the planner at once, rather than when autovacuum
     * comes by: the first screens and claims run on a full database.  Only
     * the owner may (others get a warning per table, on stderr). */
    if (rc == HD_OK && !run->out->counts_by_trigger)
        rc = pg_cmd(run->dst, "ANALYZE sites, messages, payloads, attempts", NULL,
                    "migrate: analyze", err);
    return rc;
}

/* The source's snapshot around the target's transaction. */
static hd_status migrate_between(migrate_run *run, hd_error *err)
{
    hd_status rc = exec_sql(run->src, "BEGIN", err);
    if (rc != HD_OK)
        return rc;
    rc = pg_tx_begin(run->dst, err);
    if (rc == HD_OK) {
        rc = copy_all(run, err);
        if (rc == HD_OK)
            rc = pg_tx_commit(run->dst, err);
        else
            pg_tx_rollback(run->dst);
    }
    exec_sql(run->src, "COMMIT", NULL);
    return rc;
}

hd_status store_migrate(const char *from, const char *to, store_migrate_progress progress,
                        void *progress_arg, store_migrate_report *out, hd_error *err)
{
    memset(out, 0, sizeof *out);
    /* Names only: a PostgreSQL name may hold a password, never repeated. */
    if (!from || store_name_is_postgres(from))
        return hd_error_set(err, HD_USAGE,
                            "migrate: the source database is not a SQLite file: migrate copies "
                            "the configured SQLite database (database: or --db) into PostgreSQL");
    if (!to || !store_name_is_postgres(to))
        return hd_error_set(err, HD_USAGE,
                            "migrate: --to %s is not a PostgreSQL database: give a "
                            "postgresql:// URI or a libpq keyword string (host=... dbname=...)",
                            to ? to : "(none)");
    migrate_run run = { .progress = progress, .progress_arg = progress_arg, .out = out };
    store_options ro = { .read_only = true };
    hd_status rc = sq_open(from, &ro, &run.src, err);
    if (rc != HD_OK) {
        hd_error_prefix(err, "migrate: the source: ");
        return rc;
    }
    store_options rw = { .busy_timeout_ms = 5000 };
    rc = pg_open(to, &rw, &run.dst, err);
    if (rc != HD_OK)
        hd_error_prefix(err, "migrate: the target: ");
    if (rc == HD_OK) {
        snprintf(out->target, sizeof out->target, "%s", run.dst->shown);
        rc = migrate_between(&run, err);
    }
    hd_buf_free(&run.buf);
    pg_close(run.dst);
    sq_close(run.src);
    return rc;
}
