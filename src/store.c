/* store.c - the SQLite store: every SQL statement of hookdesk.
 *
 * DESIGN
 * - One `store` is one SQLite connection used by one thread (opened with
 *   SQLITE_OPEN_NOMUTEX).  Several processes share the file: WAL mode,
 *   busy_timeout, and every write transaction is BEGIN IMMEDIATE so that a
 *   writer waits for the lock up front (a deferred transaction that upgrades
 *   fails at once with SQLITE_BUSY, ignoring busy_timeout).
 * - Write functions join the caller's transaction when one is open
 *   (store_tx_begin; sqlite3_get_autocommit() == 0), else wrap themselves in
 *   BEGIN IMMEDIATE / COMMIT.  A multi-statement write that joins a caller's
 *   transaction runs inside a SAVEPOINT so that it is all-or-nothing too.
 * - Hot statements live in a cache (st->stmts, generated from STORE_STMT_LIST),
 *   prepared once with SQLITE_PREPARE_PERSISTENT.  Page and count queries are
 *   built from a fixed set of WHERE fragments: the SQL text only depends on
 *   which filters are set (and the direction), never on data, so they are
 *   cached per shape as well.
 * - Schema: PRAGMA user_version and an ordered list of migrations, each run in
 *   its own transaction.  status_counts is kept exact by triggers.
 * - Leases: a claimed message keeps status Queued/Resent; its due_at becomes
 *   the lease expiry (now + effective site timeout + extra) and lease_owner
 *   names the engine.  If that engine dies, due_at simply passes and the
 *   message is claimed again (at-least-once).  A site timeout_ms of 0 means
 *   "the configured default": the store keeps that default
 *   (store_set_default_timeout, 10 s until set) and binds it into the claim.
 * - Webhook ids are made in C ("msg_" + 26 base32 chars: 48 bits of time, 80 random bits)
 *   and also exposed to SQL as hd_webhook_id() so that the bulk resend can be
 *   one INSERT ... SELECT.
 */
#include "hd_store.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hd_util.h"
#include "store_debug.h"

#define DEFAULT_BUSY_TIMEOUT_MS 5000
#define DEFAULT_SITE_TIMEOUT_MS 10000
#define RESEND_CHUNK 1000
/* attempt_seconds rows kept by the purge (seconds). */
#define ATTEMPT_SECONDS_KEPT 3600

/* ------------------------------------------------------------------------ */
/* Schema                                                                   */

/* Ordered migrations: migrations[i] takes user_version i to i + 1.  Add new
 * ones at the end; never edit one that has shipped. */
static const char *const migrations[] = {
    /* 1: the initial schema */
    "CREATE TABLE sites ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  url TEXT NOT NULL,"
    "  content_type TEXT NOT NULL DEFAULT 'application/json',"
    "  timeout_ms INTEGER NOT NULL DEFAULT 0,"
    "  enabled INTEGER NOT NULL DEFAULT 1,"
    "  headers TEXT,"
    "  auth_kind TEXT NOT NULL DEFAULT 'none',"
    "  auth_user TEXT,"
    "  auth_secret TEXT,"
    "  auth_header TEXT,"
    "  auth_extra TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ");"
    /* site_id has no foreign key: a deleted site's history stays. */
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY,"
    /* No UNIQUE index: nothing looks a message up by it, and keeping one
     * cost a quarter of the bulk-import speed.  48 bits of time and 80
     * random bits per id make a collision out of reach. */
    "  webhook_id TEXT NOT NULL,"
    "  site_id INTEGER NOT NULL,"
    "  action TEXT NOT NULL,"
    "  customer TEXT,"
    "  path TEXT,"
    "  payload TEXT NOT NULL,"
    "  status INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  due_at INTEGER,"
    "  lease_owner TEXT,"
    "  response_code INTEGER,"
    "  last_error TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  resend_of INTEGER"
    ");"
    "CREATE TABLE attempts ("
    "  id INTEGER PRIMARY KEY,"
    "  message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,"
    "  site_id INTEGER,"
    "  number INTEGER NOT NULL,"
    "  started_at INTEGER NOT NULL,"
    "  duration_ms INTEGER NOT NULL DEFAULT 0,"
    "  response_code INTEGER,"
    "  error TEXT,"
    "  request_headers TEXT,"
    "  response_headers TEXT,"
    "  response_body BLOB,"
    "  body_truncated INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE status_counts (status INTEGER PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO status_counts(status, n) VALUES (0, 0), (1, 0), (2, 0), (3, 0);"
    "CREATE TRIGGER messages_count_insert AFTER INSERT ON messages BEGIN"
    "  UPDATE status_counts SET n = n + 1 WHERE status = NEW.status;"
    " END;"
    "CREATE TRIGGER messages_count_update AFTER UPDATE OF status ON messages"
    "  WHEN OLD.status IS NOT NEW.status BEGIN"
    "  UPDATE status_counts SET n = n - 1 WHERE status = OLD.status;"
    "  UPDATE status_counts SET n = n + 1 WHERE status = NEW.status;"
    " END;"
    "CREATE TRIGGER messages_count_delete AFTER DELETE ON messages BEGIN"
    "  UPDATE status_counts SET n = n - 1 WHERE status = OLD.status;"
    " END;"
    "CREATE INDEX messages_status ON messages(status, id);"
    "CREATE INDEX messages_site ON messages(site_id, id);"
    "CREATE INDEX messages_customer ON messages(customer, id);"
    "CREATE INDEX messages_created ON messages(created_at);"
    "CREATE INDEX messages_due ON messages(due_at) WHERE status IN (0, 1);"
    "CREATE INDEX messages_resend_of ON messages(resend_of) WHERE resend_of IS NOT NULL;"
    "CREATE INDEX attempts_message ON attempts(message_id, number);"
    "CREATE INDEX attempts_started ON attempts(started_at);"
    "CREATE INDEX attempts_site ON attempts(site_id, id);",

    /* 2: the distinct actions, so that an action search resolves the few
     * matching names first and then walks messages(action, id) for each,
     * instead of reading every message when the text is rare or absent. */
    "CREATE TABLE actions (name TEXT PRIMARY KEY) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO actions(name) SELECT DISTINCT action FROM messages;"
    /* New names are added by message_insert (not by a trigger: a trigger
     * program per row cost a third of the bulk-import speed). */
    "CREATE INDEX messages_action ON messages(action, id);",

    /* 3: delivery isolation (issue #8).
     * - sites.max_in_flight (0 = half of the engine's concurrency) and the
     *   site's circuit breaker (hd_breaker.h), kept here so that every
     *   process and console sees one state.  Circuit changes do not touch
     *   updated_at: that is when an operator last edited the site.
     * - messages.retry_after: the wait a 429/503 asked for (ms), shown by
     *   the Queue and the detail.
     * - messages_site_due replaces messages_due: claims and next-due walk
     *   one site at a time (round-robin, and a paused site's backlog is
     *   never read); it also finds a deleted site's pending messages.
     * - messages_site_status replaces messages_site: a page with a site and
     *   a status filter (the Queue of one site, Failed of one site) walks
     *   exactly its rows; a page with a site filter only is one walk per
     *   status, merged (as for several statuses).
     * - attempt_seconds: attempts recorded per second, kept by the store as
     *   it records them (one row per second, not per attempt), so the
     *   sparkline reads 300 rows instead of counting 5 minutes of attempts;
     *   attempts_started, which only the sparkline read, goes.
     * - status_counts: inserts and deletes keep their triggers; the three
     *   UPDATEs that change a status (outcome, cancel, site deleted) count
     *   in C instead (status_change), one UPDATE per status and batch. */
    "ALTER TABLE sites ADD COLUMN max_in_flight INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sites ADD COLUMN circuit_state INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sites ADD COLUMN circuit_failures INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sites ADD COLUMN circuit_until INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sites ADD COLUMN circuit_cooldown INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE sites ADD COLUMN circuit_reason TEXT;"
    "ALTER TABLE messages ADD COLUMN retry_after INTEGER;"
    "DROP INDEX messages_due;"
    "CREATE INDEX messages_site_due ON messages(site_id, due_at) WHERE status IN (0, 1);"
    "DROP INDEX messages_site;"
    "CREATE INDEX messages_site_status ON messages(site_id, status, id);"
    "CREATE TABLE attempt_seconds (second INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
    "INSERT INTO attempt_seconds(second, n) SELECT started_at / 1000, count(*) FROM attempts "
    "  WHERE started_at >= (strftime('%s', 'now') - 3600) * 1000 GROUP BY 1;"
    /* The sparkline was its only reader: one index update less per attempt. */
    "DROP INDEX attempts_started;"
    /* Status changes are counted in C (status_change): the engine's outcome
     * update ran this trigger's two statements for every attempt. */
    "DROP TRIGGER messages_count_update;",
};

#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* ------------------------------------------------------------------------ */
/* Cached statements                                                        */

/* The message columns every message query returns, in the order row_message
 * reads them.  ?/:now is bound for in_flight. */
#define MSG_COLS                                                                   \
    "m.id, m.webhook_id, m.site_id, s.name, m.action, m.customer, m.path, m.payload, " \
    "m.status, m.attempts, m.due_at, "                                              \
    "(m.lease_owner IS NOT NULL AND m.due_at > :now), "                            \
    "m.response_code, m.last_error, m.created_at, m.updated_at, m.resend_of, "       \
    "m.retry_after"
#define MSG_FROM " FROM messages m LEFT JOIN sites s ON s.id = m.site_id"

#define SITE_COLS                                                                  \
    "id, name, url, content_type, timeout_ms, enabled, headers, auth_kind, "       \
    "auth_user, auth_secret, auth_header, auth_extra, created_at, updated_at, "    \
    "max_in_flight"

/* A site's circuit, in the order row_circuit reads them (from column k). */
#define CIRCUIT_COLS                                                               \
    "circuit_state, circuit_failures, circuit_until, circuit_cooldown, circuit_reason"

#define ATTEMPT_COLS                                                               \
    "id, message_id, site_id, number, started_at, duration_ms, response_code, "    \
    "error, request_headers, response_headers, response_body, body_truncated"


/* Notes on a few of the statements below:
 * - MSG_INSERT is INSERT OR ROLLBACK: an INSERT that fires a trigger and may
 *   abort needs a statement journal, which halves bulk-import speed.  Every
 *   NOT NULL column is checked in C first and no unique index can refuse a
 *   row, so the ROLLBACK (of the caller's whole transaction) cannot happen
 *   short of a bug; the caller then sees the error and its commit fails.
 * - ATTEMPT_INSERT inserts only when the message still exists, so that an
 *   outcome for a message deleted meanwhile (site deleted, purged) cannot
 *   fail a whole batch on the foreign key.
 * - CLAIM, ATTEMPT_INSERT and OUTCOME_UPDATE (the engine's hot path) are OR
 *   ROLLBACK for the same reason as MSG_INSERT: a statement that fires a
 *   trigger or checks a constraint inside a transaction otherwise keeps a
 *   statement journal, a copy of every page it changes (about 20 KB and 20
 *   allocations per delivery, 12% of the committer's instructions).  Their
 *   callers roll the whole batch back on any error anyway.
 * - CLAIM, NEXT_DUE and PURGE name their index: without statistics the
 *   planner prefers messages_status and sorts every pending row.
 * - CLAIM takes one site (store_claim_fair walks the sites round-robin): the
 *   lease end and the site name come from C, so the statement reads
 *   nothing but the site's slice of messages_site_due. */
#define STORE_STMT_LIST(_)                                                          \
    _(BEGIN, "BEGIN IMMEDIATE")                                                     \
    _(COMMIT, "COMMIT")                                                             \
    _(ROLLBACK, "ROLLBACK")                                                         \
    _(SAVEPOINT, "SAVEPOINT hd_write")                                              \
    _(RELEASE, "RELEASE hd_write")                                                  \
    _(ROLLBACK_TO, "ROLLBACK TO hd_write")                                          \
    _(DATA_VERSION, "PRAGMA data_version")                                          \
    _(SITE_EXISTS, "SELECT 1 FROM sites WHERE id = :id")                            \
    _(SITE_BY_ID, "SELECT " SITE_COLS " FROM sites WHERE id = :id")                 \
    _(SITE_BY_NAME, "SELECT " SITE_COLS " FROM sites WHERE name = :name")           \
    _(SITE_ID_BY_NAME, "SELECT id FROM sites WHERE name = :name")                   \
    _(SITE_COUNT, "SELECT count(*) FROM sites")                                     \
    _(SITE_INSERT,                                                                  \
      "INSERT INTO sites(name, url, content_type, timeout_ms, enabled, headers, "   \
      "auth_kind, auth_user, auth_secret, auth_header, auth_extra, created_at, "    \
      "updated_at, max_in_flight) VALUES (:name, :url, :ctype, :timeout, :enabled, " \
      ":headers, :auth, :user, :secret, :header, :extra, :now, :now, :max_in_flight)") \
    _(SITE_UPDATE,                                                                  \
      "UPDATE sites SET name = :name, url = :url, content_type = :ctype, "          \
      "timeout_ms = :timeout, enabled = :enabled, headers = :headers, "             \
      "auth_kind = :auth, auth_user = :user, auth_secret = :secret, "               \
      "auth_header = :header, auth_extra = :extra, updated_at = :now, "             \
      "max_in_flight = :max_in_flight WHERE id = :id")                              \
    _(SITE_SET_ENABLED,                                                             \
      "UPDATE sites SET enabled = :enabled, updated_at = :now WHERE id = :id")      \
    _(SITE_FAIL_PENDING,                                                            \
      "UPDATE messages SET status = 3, last_error = 'site deleted', due_at = NULL, " \
      "lease_owner = NULL, retry_after = NULL, updated_at = :now "                  \
      "WHERE site_id = :id AND status IN (0, 1)")                                   \
    _(SITE_DELETE, "DELETE FROM sites WHERE id = :id")                              \
    _(SITES_ALL, "SELECT " SITE_COLS ", " CIRCUIT_COLS " FROM sites ORDER BY name")  \
    _(CLAIM_SITES, "SELECT id, name, timeout_ms, max_in_flight, " CIRCUIT_COLS      \
                   " FROM sites WHERE enabled ORDER BY id")                         \
    _(CIRCUIT_GET, "SELECT name, " CIRCUIT_COLS " FROM sites WHERE id = :id")        \
    _(CIRCUIT_SET,                                                                  \
      "UPDATE sites SET circuit_state = :state, circuit_failures = :failures, "     \
      "circuit_until = :until, circuit_cooldown = :cooldown, circuit_reason = :reason " \
      "WHERE id = :id")                                                             \
    _(SITE_FIRST_DUE,                                                               \
      "SELECT due_at FROM messages INDEXED BY messages_site_due "                   \
      "WHERE site_id = :site AND status IN (0, 1) ORDER BY due_at LIMIT 1")         \
    _(SECOND_ADD,                                                                   \
      "INSERT INTO attempt_seconds(second, n) VALUES (:second, :n) "                \
      "ON CONFLICT(second) DO UPDATE SET n = n + excluded.n")                       \
    _(SECONDS_PURGE, "DELETE FROM attempt_seconds WHERE second < :before")          \
    _(COUNT_ADD, "UPDATE status_counts SET n = n + :d WHERE status = :status")     \
    _(SITE_PENDING_BY_STATUS,                                                       \
      "SELECT status, count(*) FROM messages WHERE site_id = :id AND status IN (0, 1) " \
      "GROUP BY status")                                                            \
    _(SITES_PENDING,                                                                \
      "SELECT site_id, count(*) FROM messages INDEXED BY messages_site_due "        \
      "WHERE status IN (0, 1) GROUP BY site_id")                                    \
    _(SITE_RECENT,                                                                  \
      "SELECT count(*), coalesce(sum(response_code BETWEEN 200 AND 299), 0) FROM "  \
      "(SELECT response_code FROM attempts WHERE site_id = :id ORDER BY id DESC LIMIT 100)") \
    _(MSG_INSERT,                                                                   \
      "INSERT OR ROLLBACK INTO messages(webhook_id, site_id, action, customer, path, payload, " \
      "status, attempts, due_at, created_at, updated_at, resend_of) VALUES "        \
      "(:wid, :site, :action, :customer, :path, :payload, 0, 0, :now, :now, :now, :resend_of)") \
    _(MSG_GET, "SELECT " MSG_COLS MSG_FROM " WHERE m.id = :id")                     \
    _(MSG_SEND_NOW,                                                                 \
      "UPDATE messages SET due_at = :now, retry_after = NULL, updated_at = :now "   \
      "WHERE id = :id")                                                             \
    _(MSG_CANCEL,                                                                   \
      "UPDATE messages SET status = 3, last_error = 'cancelled by operator', "      \
      "due_at = NULL, lease_owner = NULL, retry_after = NULL, updated_at = :now "   \
      "WHERE id = :id")                                                             \
    _(MAX_ID, "SELECT coalesce(max(id), 0) FROM messages")                          \
    _(ACTION_REGISTER, "INSERT OR IGNORE INTO actions(name) VALUES (:name)")        \
    _(ACTIONS_MATCHING, "SELECT name FROM actions WHERE instr(lower(name), lower(:text)) > 0 " \
                        "LIMIT :limit")                                             \
    _(ATTEMPTS_OF, "SELECT " ATTEMPT_COLS " FROM attempts WHERE message_id = :id "  \
                   "ORDER BY number, id")                                           \
    _(STATUS_COUNTS, "SELECT status, n FROM status_counts")                         \
    _(HISTOGRAM,                                                                    \
      "SELECT second, n FROM attempt_seconds WHERE second >= :start AND second < :end") \
    _(PURGE,                                                                        \
      "DELETE FROM messages WHERE id IN (SELECT id FROM messages "                  \
      "INDEXED BY messages_created WHERE created_at < :before AND status IN (2, 3) ORDER BY created_at LIMIT :n)") \
    _(CLAIM,                                                                        \
      "UPDATE OR ROLLBACK messages SET due_at = :lease_end, lease_owner = :owner, " \
      "updated_at = :now WHERE id IN (SELECT id FROM messages "                     \
      "INDEXED BY messages_site_due WHERE site_id = :site AND status IN (0, 1) "    \
      "AND due_at <= :now ORDER BY due_at LIMIT :n) RETURNING "                     \
      "id, webhook_id, site_id, NULL, action, customer, path, payload, status, "    \
      "attempts, due_at, 1, response_code, last_error, created_at, updated_at, "    \
      "resend_of, retry_after")                                                     \
    _(ATTEMPT_INSERT,                                                               \
      "INSERT OR ROLLBACK INTO attempts(message_id, site_id, number, started_at, duration_ms, " \
      "response_code, error, request_headers, response_headers, response_body, "    \
      "body_truncated) SELECT :mid, coalesce(:site, m.site_id), :number, :started, " \
      ":duration, :code, :error, :reqh, :resph, :body, :trunc FROM messages m "     \
      "WHERE m.id = :mid")                                                          \
    _(OUTCOME_UPDATE,                                                               \
      "UPDATE OR ROLLBACK messages SET status = :status, attempts = attempts + 1, "             \
      "due_at = :due, response_code = :code, last_error = :error, "                 \
      "retry_after = :retry_after, lease_owner = NULL, updated_at = :now "          \
      "WHERE id = :id AND lease_owner = :owner")                                    \
    _(RELEASE_ONE,                                                                  \
      "UPDATE messages SET due_at = :now, lease_owner = NULL, updated_at = :now "   \
      "WHERE id = :id AND lease_owner = :owner AND status IN (0, 1)")               \
    _(RELEASE_LEASES,                                                               \
      "UPDATE messages SET due_at = :now, lease_owner = NULL, updated_at = :now "   \
      "WHERE status IN (0, 1) AND lease_owner = :owner")                            \
    _(PENDING_COUNT,                                                                \
      "SELECT count(*) FROM sites s CROSS JOIN messages m INDEXED BY messages_site_due " \
      "ON m.site_id = s.id WHERE s.enabled AND m.status IN (0, 1)")

typedef enum stmt_id {
#define STORE_STMT_ENUM(id, sql) STMT_##id,
    STORE_STMT_LIST(STORE_STMT_ENUM)
#undef STORE_STMT_ENUM
    STMT_COUNT
} stmt_id;

static const char *const stmt_sql[] = {
#define STORE_STMT_SQL(id, sql) sql,
    STORE_STMT_LIST(STORE_STMT_SQL)
#undef STORE_STMT_SQL
};

static const char *const stmt_name[] = {
#define STORE_STMT_NAME(id, sql) #id,
    STORE_STMT_LIST(STORE_STMT_NAME)
#undef STORE_STMT_NAME
};

/* Action names remembered per write transaction (see register_action). */
#define KNOWN_ACTIONS 16

/* Filter shapes for the page/count caches: which optional filters are set. */
enum {
    SHAPE_SITE = 1,
    SHAPE_CUSTOMER = 2,
    SHAPE_ACTION = 4,
    SHAPE_SINCE = 8,
    SHAPE_UNTIL = 16,
    SHAPE_ACTION_EXACT = 32,
    SHAPE_UNRESENT = 64,
    SHAPE_FLAGS = 128,                /* combinations of the above */
    SHAPE_STATUSES = MSG_STATUS_COUNT + 1, /* 0..4 statuses in the IN list */
    SHAPE_COUNT = SHAPE_FLAGS * SHAPE_STATUSES,
    PAGE_DIRS = PAGE_AT + 1
};

struct store {
    sqlite3 *db;                      /* the connection */
    char *path;                       /* database file, for messages */
    bool read_only;                   /* opened with store_options.read_only */
    bool no_reference_checks;         /* store_options.no_reference_checks */
    int64_t default_timeout_ms;       /* effective timeout of sites with timeout_ms 0 */
    uint64_t own_commits;             /* write transactions this connection committed */
    sqlite3_stmt *stmts[STMT_COUNT];  /* cached statements, prepared on first use */
    sqlite3_stmt *page_stmts[SHAPE_COUNT][PAGE_DIRS]; /* page queries per filter shape */
    sqlite3_stmt *count_stmts[SHAPE_COUNT];           /* count queries per filter shape */
    int64_t known_site;               /* site seen to exist in the open write
                                         transaction (0 = none): bulk imports
                                         skip the lookup for every row */
    char *known_actions[KNOWN_ACTIONS]; /* action names registered in the
                                         actions table by the open write
                                         transaction; round-robin */
    int known_actions_next;           /* slot the next name goes to */
    breaker_policy breaker;           /* store_set_breaker; failures 0 = off */
    int64_t count_delta[MSG_STATUS_COUNT]; /* status changes of the open write
                                         transaction not yet in status_counts */
    circuit_event *tx_events;         /* circuit changes of the open write
                                         transaction (dropped on rollback) */
    int ntx_events;
    circuit_event *events;            /* ... of committed ones, until taken */
    int nevents;
    unsigned char rnd[4096];          /* pool of random bytes for webhook ids */
    size_t rnd_used;                  /* bytes of rnd already handed out */
};

/* ------------------------------------------------------------------------ */
/* Errors and statement helpers                                             */

static hd_status db_fail(store *st, hd_error *err, const char *what)
{
    return hd_error_set(err, HD_DB, "database %s: %s: %s", st->path, what,
                        sqlite3_errmsg(st->db));
}

static sqlite3_stmt *prepare(store *st, const char *sql, hd_error *err)
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
static sqlite3_stmt *stmt_get(store *st, stmt_id id, hd_error *err)
{
    sqlite3_stmt *s = st->stmts[id];
    if (!s) {
        s = prepare(st, stmt_sql[id], err);
        st->stmts[id] = s;
        return s;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
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
static void bind_i64(sqlite3_stmt *s, const char *name, int64_t v)
{
    int i = param_index(s, name);
    if (i > 0)
        sqlite3_bind_int64(s, i, v);
}

/* 0 becomes NULL: for optional ids, codes and times. */
static void bind_i64_or_null(sqlite3_stmt *s, const char *name, int64_t v)
{
    int i = param_index(s, name);
    if (i > 0) {
        if (v)
            sqlite3_bind_int64(s, i, v);
        else
            sqlite3_bind_null(s, i);
    }
}

static void bind_text(sqlite3_stmt *s, const char *name, const char *v)
{
    int i = param_index(s, name);
    if (i > 0) {
        if (v)
            sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(s, i);
    }
}

static char *col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? hd_xstrdup((const char *)t) : NULL;
}

/* Runs a statement that returns no rows (or whose rows are not wanted). */
static hd_status step_done(store *st, sqlite3_stmt *s, const char *what, hd_error *err)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ;
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, what);
    sqlite3_reset(s);
    return r;
}

static hd_status exec_cached(store *st, stmt_id id, const char *what, hd_error *err)
{
    sqlite3_stmt *s = stmt_get(st, id, err);
    if (!s)
        return HD_DB;
    return step_done(st, s, what, err);
}

/* One int64 from a one-row query; *found says whether there was a row. */
static hd_status step_i64(store *st, sqlite3_stmt *s, const char *what, int64_t *out,
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
/* Status counts                                                            */

/* n messages went from one status to another (an UPDATE of messages.status;
 * inserts and deletes are counted by triggers). */
static void status_change(store *st, msg_status from, msg_status to, int64_t n)
{
    if (from == to || (unsigned)from >= MSG_STATUS_COUNT || (unsigned)to >= MSG_STATUS_COUNT)
        return;
    st->count_delta[from] -= n;
    st->count_delta[to] += n;
}

/* Writes the changes counted so far into status_counts (same transaction). */
static hd_status status_counts_flush(store *st, hd_error *err)
{
    for (int s = 0; s < MSG_STATUS_COUNT; s++) {
        if (st->count_delta[s] == 0)
            continue;
        sqlite3_stmt *q = stmt_get(st, STMT_COUNT_ADD, err);
        if (!q)
            return HD_DB;
        bind_i64(q, ":d", st->count_delta[s]);
        bind_i64(q, ":status", s);
        hd_status rc = step_done(st, q, "counting statuses", err);
        if (rc != HD_OK)
            return rc;
        st->count_delta[s] = 0;
    }
    return HD_OK;
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                             */

/* Forgets what the last write transaction learnt (sites seen, actions
 * registered): that transaction may have been rolled back. */
static void write_memory_reset(store *st)
{
    memset(st->count_delta, 0, sizeof st->count_delta);
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
static void committed(store *st)
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

void store_take_circuit_events(store *st, circuit_event **out, int *n)
{
    *out = st->events;
    *n = st->nevents;
    st->events = NULL;
    st->nevents = 0;
}

void store_set_breaker(store *st, const breaker_policy *p)
{
    if (p)
        st->breaker = *p;
    else
        memset(&st->breaker, 0, sizeof st->breaker);
}

/* How a write function runs: its own transaction, a savepoint in the
 * caller's transaction, or simply inside the caller's transaction. */
typedef enum write_mode {
    WRITE_OWN_TX,
    WRITE_SAVEPOINT,
    WRITE_JOINED
} write_mode;

/* multi: the function runs several statements, so joining the caller's
 * transaction needs a savepoint to stay all-or-nothing. */
static hd_status write_begin(store *st, bool multi, write_mode *mode, hd_error *err)
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

/* Ends what write_begin started: commits when rc is HD_OK, else undoes. */
static hd_status write_end(store *st, write_mode mode, hd_status rc, hd_error *err)
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
        return rc;
    case WRITE_SAVEPOINT:
        /* An OR ROLLBACK statement that failed has ended the transaction. */
        if (rc != HD_OK && !sqlite3_get_autocommit(st->db))
            exec_cached(st, STMT_ROLLBACK_TO, "rollback to savepoint", NULL);
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

hd_status store_tx_begin(store *st, hd_error *err)
{
    if (st->read_only)
        return hd_error_set(err, HD_DB, "database %s: opened read-only", st->path);
    if (!sqlite3_get_autocommit(st->db))
        return hd_error_set(err, HD_INTERNAL, "database %s: a transaction is already open",
                            st->path);
    write_memory_reset(st);
    return exec_cached(st, STMT_BEGIN, "begin transaction", err);
}

hd_status store_tx_commit(store *st, hd_error *err)
{
    if (sqlite3_get_autocommit(st->db))
        return hd_error_set(err, HD_INTERNAL, "database %s: commit without a transaction",
                            st->path);
    hd_status rc = exec_cached(st, STMT_COMMIT, "commit", err);
    if (rc == HD_OK)
        committed(st);
    return rc;
}

void store_tx_rollback(store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        exec_cached(st, STMT_ROLLBACK, "rollback", NULL);
}

uint64_t store_change_counter(store *st)
{
    /* data_version changes when another connection commits; own_commits when
     * this one does.  Each in its own half so any change changes the value. */
    int64_t dv = 0;
    sqlite3_stmt *s = stmt_get(st, STMT_DATA_VERSION, NULL);
    if (s)
        step_i64(st, s, "data_version", &dv, NULL, NULL);
    return ((uint64_t)dv << 32) | (st->own_commits & 0xffffffffu);
}

/* ------------------------------------------------------------------------ */
/* Webhook ids                                                              */

static void random_take(store *st, unsigned char *out, size_t n)
{
    if (st->rnd_used + n > sizeof st->rnd) {
        hd_random_bytes(st->rnd, sizeof st->rnd);
        st->rnd_used = 0;
    }
    memcpy(out, st->rnd + st->rnd_used, n);
    /* Never hand the same bytes out twice. */
    memset(st->rnd + st->rnd_used, 0, n);
    st->rnd_used += n;
}

static void webhook_id_make(store *st, char out[40])
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    /* Time first (48 bits of epoch ms, big-endian), then 80 random bits, as
     * in ULIDs: ids made one after the other sort together, so a bulk import
     * appends to the right edge of the webhook_id index instead of touching
     * a random page of it for every row (twice the import speed at 10^6
     * rows).  80 random bits per millisecond keep collisions out of reach. */
    unsigned char b[16];
    uint64_t now = (uint64_t)hd_now_ms();
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(now >> (8 * (5 - i)));
    random_take(st, b + 6, sizeof b - 6);
    memcpy(out, "msg_", 4);
    /* 26 chars x 5 bits = 130 bits; the last 2 bits are zero padding. */
    unsigned bitbuf = 0;
    int bits = 0;
    size_t in = 0;
    for (int i = 0; i < 26; i++) {
        if (bits < 5) {
            bitbuf = (bitbuf << 8) | (in < sizeof b ? b[in] : 0);
            in++;
            bits += 8;
        }
        out[4 + i] = alphabet[(bitbuf >> (bits - 5)) & 31];
        bits -= 5;
    }
    out[30] = '\0';
}

static void sql_webhook_id(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    char id[40];
    webhook_id_make(sqlite3_user_data(ctx), id);
    sqlite3_result_text(ctx, id, -1, SQLITE_TRANSIENT);
}

/* ------------------------------------------------------------------------ */
/* Open, migrate, close                                                     */

static hd_status pragma_exec(store *st, const char *sql, hd_error *err)
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

static hd_status read_user_version(store *st, int *version, hd_error *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK) {
        sqlite3_finalize(s);
        return db_fail(st, err, "reading the schema version");
    }
    int rc = sqlite3_step(s);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    hd_status r = (rc == SQLITE_ROW || rc == SQLITE_DONE)
                      ? HD_OK
                      : db_fail(st, err, "reading the schema version");
    sqlite3_finalize(s);
    return r;
}

static hd_status migrate(store *st, hd_error *err)
{
    int version;
    hd_status rc = read_user_version(st, &version, err);
    if (rc != HD_OK)
        return rc;
    while (version < SCHEMA_VERSION) {
        if ((rc = pragma_exec(st, "BEGIN IMMEDIATE", err)) != HD_OK)
            return rc;
        /* Another process may have migrated while we waited for the lock. */
        if ((rc = read_user_version(st, &version, err)) != HD_OK) {
            pragma_exec(st, "ROLLBACK", NULL);
            return rc;
        }
        if (version >= SCHEMA_VERSION) {
            pragma_exec(st, "ROLLBACK", NULL);
            break;
        }
        char *msg = NULL;
        if (sqlite3_exec(st->db, migrations[version], NULL, NULL, &msg) != SQLITE_OK) {
            rc = hd_error_set(err, HD_DB, "database %s: migration to schema version %d: %s",
                              st->path, version + 1, msg ? msg : sqlite3_errmsg(st->db));
            sqlite3_free(msg);
            pragma_exec(st, "ROLLBACK", NULL);
            return rc;
        }
        /* PRAGMA takes no parameters; the number is ours, not data. */
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version + 1);
        if ((rc = pragma_exec(st, sql, err)) != HD_OK ||
            (rc = pragma_exec(st, "COMMIT", err)) != HD_OK) {
            pragma_exec(st, "ROLLBACK", NULL);
            return rc;
        }
        st->own_commits++;
        version++;
    }
    if (version > SCHEMA_VERSION)
        return hd_error_set(err, HD_DB,
                            "database %s: schema version %d is newer than this hookdesk "
                            "understands (%d); upgrade hookdesk",
                            st->path, version, SCHEMA_VERSION);
    return HD_OK;
}

/* ---- who may own the files (issue #10: secrets) ----
 *
 * The database and its -wal/-shm/-journal files hold every site secret in
 * clear text, so a read-write store_open uses them only when they belong to
 * this user (effective uid) and have mode 0600: a wider mode of our own file
 * is narrowed, a file owned by someone else (a pre-made 0666 -wal in a
 * shared directory) or one whose mode cannot be changed is refused with a
 * message that names it and says what to do.
 *
 * The check is made on what SQLite actually opened, not on a path looked at
 * beforehand: the unix VFS lets its open() be replaced (xSetSystemCall), and
 * guarded_open runs fstat/fchmod on the new descriptor before SQLite ever
 * reads or writes it.  It only acts in a thread inside a read-write
 * store_open (guard.on); every file a connection keeps (database, -wal,
 * -shm) is opened there: the journal_mode and user_version reads open them.
 * Directories, /dev/urandom and other non-regular files are left alone.
 * After the open the same rule is checked once more by path (check_files),
 * for files this connection did not open itself (the -shm is shared by the
 * connections of one process, a -journal may lie around) and for a VFS
 * without xSetSystemCall.  Read-only opens change nothing (no chmod). */

static _Thread_local struct {
    bool on;                 /* a read-write store_open runs in this thread */
    char why[640];           /* the first refusal, "" = none */
} guard;

typedef int (*open_fn)(const char *, int, int);
static open_fn real_open;    /* SQLite's open() before ours; set once */
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

/* "nobody, uid 65534" */
static void describe_user(uid_t uid, char *out, size_t len)
{
    struct passwd pw, *found = NULL;
    char buf[1024];
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found && found->pw_name)
        snprintf(out, len, "%s, uid %u", found->pw_name, (unsigned)uid);
    else
        snprintf(out, len, "uid %u", (unsigned)uid);
}

/* True when the file (fd >= 0: the open descriptor, else path) is ours with
 * mode 0600 now, narrowing the mode when needed; a path that does not exist
 * and files that are not regular pass.  Else why says what and what to do. */
static bool private_file(const char *path, int fd, char *why, size_t len)
{
    struct stat sb;
    if ((fd >= 0 ? fstat(fd, &sb) : stat(path, &sb)) != 0 || !S_ISREG(sb.st_mode))
        return true;
    uid_t me = geteuid();
    if (sb.st_uid != me) {
        char owner[160], self[160];
        describe_user(sb.st_uid, owner, sizeof owner);
        describe_user(me, self, sizeof self);
        snprintf(why, len,
                 "%s is owned by another user (%s), not by you (%s), mode %04o: hookdesk "
                 "writes site secrets into the database and its -wal/-shm files and uses only "
                 "files you own with mode 0600; if it is yours, chown it to you and chmod 600 "
                 "it, otherwise remove it (with no hookdesk running) or use another database",
                 path, owner, self, (unsigned)(sb.st_mode & 07777));
        return false;
    }
    if ((sb.st_mode & 07777) == 0600)
        return true;
    unsigned was = (unsigned)(sb.st_mode & 07777);
    int rc = fd >= 0 ? fchmod(fd, 0600) : chmod(path, 0600);
    int e = errno;
    if (rc == 0 && (fd >= 0 ? fstat(fd, &sb) : stat(path, &sb)) == 0 &&
        (sb.st_mode & 07777) == 0600)
        return true;
    snprintf(why, len,
             "%s has mode %04o and cannot be made 0600 (%s): hookdesk writes site secrets into "
             "it; chmod 600 it yourself, or keep the database on a writable file system that "
             "keeps Unix file modes",
             path, was, rc != 0 ? strerror(e) : "the mode did not change");
    return false;
}

/* SQLite's open(), checked (see above). */
static int guarded_open(const char *path, int flags, int mode)
{
    int fd = real_open(path, flags, mode);
    if (fd < 0 || !guard.on)
        return fd;
    char why[sizeof guard.why];
    if (private_file(path, fd, why, sizeof why))
        return fd;
    if (!guard.why[0])
        snprintf(guard.why, sizeof guard.why, "%s", why);
    /* Closing drops this process's POSIX locks on the file, but a file
     * refused here was never accepted by another connection of ours. */
    close(fd);
    errno = EACCES;
    return -1;
}

static void guard_install(void)
{
    if (sqlite3_initialize() != SQLITE_OK)
        return;
    sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
    if (!vfs || vfs->iVersion < 3 || !vfs->xGetSystemCall || !vfs->xSetSystemCall)
        return;   /* check_files still checks by path */
    sqlite3_syscall_ptr cur = vfs->xGetSystemCall(vfs, "open");
    if (!cur)
        return;
    real_open = (open_fn)cur;
    if (vfs->xSetSystemCall(vfs, "open", (sqlite3_syscall_ptr)guarded_open) != SQLITE_OK)
        real_open = NULL;
}

/* The database and the side files SQLite makes next to it, by path. */
static hd_status check_files(const char *path, hd_error *err)
{
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char *p = hd_xasprintf("%s%s", path, suffixes[i]);
        char why[sizeof guard.why];
        bool ok = private_file(p, -1, why, sizeof why);
        free(p);
        if (!ok)
            return hd_error_set(err, HD_IO, "database %s: %s", path, why);
    }
    return HD_OK;
}

void store_global_init(void)
{
    /* SQLite's memory statistics take a global mutex on every allocation
     * (about 50 per delivery in the committer, 5% of its instructions);
     * hookdesk never reads them. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

hd_status store_open(const char *path, const store_options *opt, store **out, hd_error *err)
{
    store_options defaults = { .synchronous_full = true };
    if (!opt)
        opt = &defaults;
    *out = NULL;
    if (!path || !*path)
        return hd_error_set(err, HD_CONFIG, "database: no file name given");
    if (!opt->read_only) {
        /* Create it ourselves so that it is born 0600 whatever the umask.
         * Only when it does not exist: close() drops every POSIX lock this
         * process holds on the file, including those of a store already
         * open on it in another thread (the console's UI and engine), and
         * another process would then delete the WAL under our feet. */
        struct stat sb;
        if (stat(path, &sb) != 0) {
            int fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
            if (fd >= 0)
                close(fd);
            else if (errno != EEXIST)
                return hd_error_set(err, HD_IO, "database %s: cannot create: %s", path,
                                    strerror(errno));
        }
        /* Owner and mode of every file SQLite opens from here on. */
        pthread_once(&guard_once, guard_install);
        guard.on = true;
        guard.why[0] = '\0';
    } else if (access(path, R_OK) != 0) {
        return hd_error_set(err, HD_IO, "database %s: cannot open: %s", path, strerror(errno));
    }

    store *st = hd_xcalloc(1, sizeof *st);
    st->path = hd_xstrdup(path);
    st->read_only = opt->read_only;
    st->no_reference_checks = opt->no_reference_checks;
    st->default_timeout_ms = DEFAULT_SITE_TIMEOUT_MS;
    st->rnd_used = sizeof st->rnd;  /* filled on first use */
    int flags = (opt->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
                SQLITE_OPEN_NOMUTEX;
    hd_status rc = HD_OK;
    if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
        rc = st->db ? db_fail(st, err, "open")
                    : hd_error_set(err, HD_NOMEM, "database %s: open: out of memory", path);
        goto fail;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms
                                                          : DEFAULT_BUSY_TIMEOUT_MS);
    if (!opt->read_only) {
        /* journal_mode answers with the mode it ended up in. */
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL) != SQLITE_OK ||
            sqlite3_step(s) != SQLITE_ROW) {
            sqlite3_finalize(s);
            rc = db_fail(st, err, "setting WAL mode");
            goto fail;
        }
        const char *mode = (const char *)sqlite3_column_text(s, 0);
        bool wal = mode && strcasecmp(mode, "wal") == 0;
        sqlite3_finalize(s);
        if (!wal) {
            rc = hd_error_set(err, HD_DB, "database %s: cannot switch to WAL mode", path);
            goto fail;
        }
    }
    char cache_pragma[48];
    /* PRAGMA takes no bound parameters; the value is an int from the caller. */
    snprintf(cache_pragma, sizeof cache_pragma, "PRAGMA cache_size=-%d",
             opt->cache_kib > 0 ? opt->cache_kib : 65536);
    if ((rc = pragma_exec(st, opt->synchronous_full ? "PRAGMA synchronous=FULL"
                                                    : "PRAGMA synchronous=NORMAL", err)) != HD_OK ||
        (rc = pragma_exec(st, opt->no_reference_checks ? "PRAGMA foreign_keys=OFF"
                                                       : "PRAGMA foreign_keys=ON", err)) != HD_OK ||
        /* Up to 64 MiB of page cache by default (allocated only as used): a
         * bulk import touches many index pages, and a small cache spills them
         * to the WAL over and over.  A reader that only shows pages asks for
         * less, so a scan of a big table does not grow its memory. */
        (rc = pragma_exec(st, cache_pragma, err)) != HD_OK ||
        /* Statement journals (an INSERT that fires the status_counts trigger
         * inside a caller's transaction needs one) stay in memory: on disk
         * they cost ~20 pwrite calls per imported message. */
        (rc = pragma_exec(st, "PRAGMA temp_store=MEMORY", err)) != HD_OK)
        goto fail;
    if (sqlite3_create_function(st->db, "hd_webhook_id", 0, SQLITE_UTF8, st, sql_webhook_id,
                                NULL, NULL) != SQLITE_OK) {
        rc = db_fail(st, err, "registering functions");
        goto fail;
    }
    if (!opt->read_only) {
        if ((rc = migrate(st, err)) != HD_OK)
            goto fail;
        if ((rc = check_files(path, err)) != HD_OK)
            goto fail;
    } else {
        int version;
        if ((rc = read_user_version(st, &version, err)) != HD_OK)
            goto fail;
        if (version != SCHEMA_VERSION) {
            rc = hd_error_set(err, HD_DB,
                              "database %s: schema version %d, expected %d (open it read-write "
                              "once to migrate)",
                              path, version, SCHEMA_VERSION);
            goto fail;
        }
    }
    if (guard.on && guard.why[0])
        goto fail;   /* a file was refused, whatever SQLite made of it */
    guard.on = false;
    *out = st;
    return HD_OK;
fail:
    /* SQLite only says "unable to open database file": say why. */
    if (guard.on && guard.why[0])
        rc = hd_error_set(err, HD_IO, "database %s: %s", path, guard.why);
    guard.on = false;
    store_close(st);
    return rc;
}

void store_close(store *st)
{
    if (!st)
        return;
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(st->stmts[i]);
    for (int i = 0; i < SHAPE_COUNT; i++) {
        for (int d = 0; d < PAGE_DIRS; d++)
            sqlite3_finalize(st->page_stmts[i][d]);
        sqlite3_finalize(st->count_stmts[i]);
    }
    if (st->db) {
        if (!sqlite3_get_autocommit(st->db))
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(st->db);
    }
    write_memory_reset(st);
    free(st->events);
    free(st->path);
    free(st);
}

int store_schema_version(store *st)
{
    int v = 0;
    if (read_user_version(st, &v, NULL) != HD_OK)
        return -1;
    return v;
}

void store_set_default_timeout(store *st, int64_t timeout_ms)
{
    st->default_timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_SITE_TIMEOUT_MS;
}

/* ------------------------------------------------------------------------ */
/* Rows to structs                                                          */

/* Reads the MSG_COLS columns (or the claim's RETURNING list, same order). */
static void row_message(sqlite3_stmt *s, message *m)
{
    memset(m, 0, sizeof *m);
    m->id = sqlite3_column_int64(s, 0);
    const unsigned char *wid = sqlite3_column_text(s, 1);
    snprintf(m->webhook_id, sizeof m->webhook_id, "%s", wid ? (const char *)wid : "");
    m->site_id = sqlite3_column_int64(s, 2);
    m->site_name = col_text(s, 3);
    m->action = col_text(s, 4);
    m->customer = col_text(s, 5);
    m->path = col_text(s, 6);
    m->payload = col_text(s, 7);
    int status = sqlite3_column_int(s, 8);
    m->status = status >= 0 && status < MSG_STATUS_COUNT ? (msg_status)status : MSG_FAILED;
    m->attempts = sqlite3_column_int(s, 9);
    m->due_at = sqlite3_column_int64(s, 10);
    m->in_flight = sqlite3_column_int(s, 11) != 0;
    m->response_code = sqlite3_column_int(s, 12);
    m->last_error = col_text(s, 13);
    m->created_at = sqlite3_column_int64(s, 14);
    m->updated_at = sqlite3_column_int64(s, 15);
    m->resend_of = sqlite3_column_int64(s, 16);
    m->retry_after_ms = sqlite3_column_int64(s, 17);
}

static void row_attempt(sqlite3_stmt *s, attempt *a)
{
    memset(a, 0, sizeof *a);
    a->id = sqlite3_column_int64(s, 0);
    a->message_id = sqlite3_column_int64(s, 1);
    a->site_id = sqlite3_column_int64(s, 2);
    a->number = sqlite3_column_int(s, 3);
    a->started_at = sqlite3_column_int64(s, 4);
    a->duration_ms = sqlite3_column_int64(s, 5);
    a->response_code = sqlite3_column_int(s, 6);
    a->error = col_text(s, 7);
    a->request_headers = col_text(s, 8);
    a->response_headers = col_text(s, 9);
    const void *body = sqlite3_column_blob(s, 10);
    int len = sqlite3_column_bytes(s, 10);
    if (body) {
        /* NUL-terminated too, so text bodies can be used as strings. */
        a->response_body = hd_xmalloc((size_t)len + 1);
        memcpy(a->response_body, body, (size_t)len);
        a->response_body[len] = '\0';
        a->response_body_len = (size_t)len;
    }
    a->body_truncated = sqlite3_column_int(s, 11) != 0;
}

/* Steps s to the end, appending every row to out. */
static hd_status collect_messages(store *st, sqlite3_stmt *s, message_list *out, hd_error *err)
{
    int cap = out->count;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (out->count == cap) {
            cap = cap ? cap * 2 : 16;
            out->items = hd_xrealloc(out->items, (size_t)cap * sizeof *out->items);
        }
        row_message(s, &out->items[out->count++]);
    }
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "reading messages");
    sqlite3_reset(s);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Sites                                                                    */

/* sites.headers: a JSON object in the site's order, name -> value, where a
 * header marked secret is name -> {"value": value, "secret": true} (rows
 * written before the flag existed hold only strings, and read the same). */
static hd_status headers_to_json(const site *s, char **out, hd_error *err)
{
    *out = NULL;
    if (s->nheaders <= 0)
        return HD_OK;
    json_t *obj = json_object();
    for (int i = 0; i < s->nheaders; i++) {
        const site_header *h = &s->headers[i];
        json_t *v = json_string(h->value ? h->value : "");
        if (v && h->secret) {
            json_t *o = json_object();
            if (json_object_set_new(o, "value", v) != 0 ||
                json_object_set_new(o, "secret", json_true()) != 0) {
                json_decref(o);
                o = NULL;
            }
            v = o;
        }
        if (!v || !h->name || json_object_set_new(obj, h->name, v) != 0) {
            json_decref(obj);
            return hd_error_set(err, HD_INVALID, "headers: '%s' is not valid UTF-8",
                                h->name ? h->name : "(null)");
        }
    }
    *out = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (!*out)
        return hd_error_set(err, HD_NOMEM, "headers: cannot encode as JSON");
    return HD_OK;
}

static void headers_from_json(site *s, const char *text)
{
    if (!text)
        return;
    json_t *obj = json_loads(text, 0, NULL);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        if (json_is_string(v)) {
            site_add_header(s, key, json_string_value(v));
        } else if (json_is_object(v) && json_is_string(json_object_get(v, "value"))) {
            /* Anything but an explicit false keeps it masked. */
            json_t *secret = json_object_get(v, "secret");
            site_add_header_secret(s, key, json_string_value(json_object_get(v, "value")),
                                   !json_is_false(secret));
        }
    }
    json_decref(obj);
}

static void row_site(sqlite3_stmt *q, site *s)
{
    site_init(s);
    s->id = sqlite3_column_int64(q, 0);
    s->name = col_text(q, 1);
    s->url = col_text(q, 2);
    const char *ct = (const char *)sqlite3_column_text(q, 3);
    if (!ct || !content_type_parse(ct, &s->ctype))
        s->ctype = CONTENT_JSON;
    s->timeout_ms = sqlite3_column_int64(q, 4);
    s->enabled = sqlite3_column_int(q, 5) != 0;
    headers_from_json(s, (const char *)sqlite3_column_text(q, 6));
    const char *kind = (const char *)sqlite3_column_text(q, 7);
    if (!kind || !auth_kind_parse(kind, &s->auth))
        s->auth = AUTH_NONE;
    s->auth_user = col_text(q, 8);
    s->auth_secret = col_text(q, 9);
    s->auth_header = col_text(q, 10);
    s->auth_extra = col_text(q, 11);
    s->created_at = sqlite3_column_int64(q, 12);
    s->updated_at = sqlite3_column_int64(q, 13);
    s->max_in_flight = sqlite3_column_int(q, 14);
}

/* Reads CIRCUIT_COLS starting at column k. */
static void row_circuit(sqlite3_stmt *q, int k, circuit *c)
{
    memset(c, 0, sizeof *c);
    int state = sqlite3_column_int(q, k);
    c->state = state == CIRCUIT_OPEN || state == CIRCUIT_PROBING ? (circuit_state)state
                                                                 : CIRCUIT_CLOSED;
    c->failures = sqlite3_column_int(q, k + 1);
    c->until_ms = sqlite3_column_int64(q, k + 2);
    c->cooldown_ms = sqlite3_column_int64(q, k + 3);
    const unsigned char *why = sqlite3_column_text(q, k + 4);
    snprintf(c->reason, sizeof c->reason, "%s", why ? (const char *)why : "");
}

static void bind_circuit(sqlite3_stmt *q, int64_t site_id, const circuit *c)
{
    bind_i64(q, ":id", site_id);
    bind_i64(q, ":state", c->state);
    bind_i64(q, ":failures", c->failures);
    bind_i64(q, ":until", c->until_ms);
    bind_i64(q, ":cooldown", c->cooldown_ms);
    bind_text(q, ":reason", c->reason[0] ? c->reason : NULL);
}

static void bind_site(sqlite3_stmt *q, const site *s, const char *headers, int64_t now)
{
    bind_text(q, ":name", s->name);
    bind_text(q, ":url", s->url);
    bind_text(q, ":ctype", content_type_name(s->ctype));
    bind_i64(q, ":timeout", s->timeout_ms);
    bind_i64(q, ":enabled", s->enabled ? 1 : 0);
    bind_text(q, ":headers", headers);
    bind_text(q, ":auth", auth_kind_name(s->auth));
    bind_text(q, ":user", s->auth_user);
    bind_text(q, ":secret", s->auth_secret);
    bind_text(q, ":header", s->auth_header);
    bind_text(q, ":extra", s->auth_extra);
    bind_i64(q, ":now", now);
    bind_i64(q, ":id", s->id);
    bind_i64(q, ":max_in_flight", s->max_in_flight);
}

static hd_status site_name_taken(store *st, const char *name, int64_t except_id, hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_SITE_ID_BY_NAME, err);
    if (!q)
        return HD_DB;
    bind_text(q, ":name", name);
    int64_t id = 0;
    bool found = false;
    hd_status rc = step_i64(st, q, "looking up a site", &id, &found, err);
    if (rc != HD_OK)
        return rc;
    if (found && id != except_id)
        return hd_error_set(err, HD_EXISTS, "sites: name '%s' already exists", name);
    return HD_OK;
}

/* Inserts one validated site; the caller holds a write transaction. */
static hd_status site_insert(store *st, const site *s, int64_t *id_out, hd_error *err)
{
    hd_status rc = site_validate(s, err);
    if (rc != HD_OK)
        return rc;
    if ((rc = site_name_taken(st, s->name, 0, err)) != HD_OK)
        return rc;
    char *headers;
    if ((rc = headers_to_json(s, &headers, err)) != HD_OK)
        return rc;
    sqlite3_stmt *q = stmt_get(st, STMT_SITE_INSERT, err);
    if (!q) {
        free(headers);
        return HD_DB;
    }
    bind_site(q, s, headers, hd_now_ms());
    int step = sqlite3_step(q);
    if (step == SQLITE_DONE) {
        if (id_out)
            *id_out = sqlite3_last_insert_rowid(st->db);
    } else if (step == SQLITE_CONSTRAINT_UNIQUE) {
        rc = hd_error_set(err, HD_EXISTS, "sites: name '%s' already exists", s->name);
    } else {
        rc = db_fail(st, err, "adding a site");
    }
    sqlite3_reset(q);
    free(headers);
    return rc;
}

hd_status store_site_add(store *st, const site *s, int64_t *id_out, hd_error *err)
{
    /* Validate before taking the write lock: nothing invalid is ever saved. */
    hd_status rc = site_validate(s, err);
    if (rc != HD_OK)
        return rc;
    write_mode mode;
    if ((rc = write_begin(st, true, &mode, err)) != HD_OK)
        return rc;
    rc = site_insert(st, s, id_out, err);
    return write_end(st, mode, rc, err);
}

hd_status store_site_update(store *st, const site *s, hd_error *err)
{
    hd_status rc = site_validate(s, err);
    if (rc != HD_OK)
        return rc;
    char *headers;
    if ((rc = headers_to_json(s, &headers, err)) != HD_OK)
        return rc;
    write_mode mode;
    if ((rc = write_begin(st, true, &mode, err)) != HD_OK) {
        free(headers);
        return rc;
    }
    sqlite3_stmt *q = stmt_get(st, STMT_SITE_EXISTS, err);
    if (!q) {
        rc = HD_DB;
    } else {
        int64_t one = 0;
        bool found = false;
        bind_i64(q, ":id", s->id);
        rc = step_i64(st, q, "looking up a site", &one, &found, err);
        if (rc == HD_OK && !found)
            rc = hd_error_set(err, HD_NOT_FOUND, "site #%lld not found", (long long)s->id);
    }
    if (rc == HD_OK)
        rc = site_name_taken(st, s->name, s->id, err);
    q = rc == HD_OK ? stmt_get(st, STMT_SITE_UPDATE, err) : NULL;
    if (rc == HD_OK && !q)
        rc = HD_DB;
    if (q) {
        bind_site(q, s, headers, hd_now_ms());
        int step = sqlite3_step(q);
        if (step == SQLITE_CONSTRAINT_UNIQUE)
            rc = hd_error_set(err, HD_EXISTS, "sites: name '%s' already exists", s->name);
        else if (step != SQLITE_DONE)
            rc = db_fail(st, err, "updating a site");
        else if (sqlite3_changes(st->db) == 0)
            rc = hd_error_set(err, HD_NOT_FOUND, "site #%lld not found", (long long)s->id);
        sqlite3_reset(q);
    }
    free(headers);
    return write_end(st, mode, rc, err);
}

hd_status store_site_delete(store *st, int64_t id, hd_error *err)
{
    st->known_site = 0;
    write_mode mode;
    hd_status rc = write_begin(st, true, &mode, err);
    if (rc != HD_OK)
        return rc;
    int64_t now = hd_now_ms();
    /* Count them first: they all become Failed. */
    sqlite3_stmt *q = stmt_get(st, STMT_SITE_PENDING_BY_STATUS, err);
    if (!q) {
        rc = HD_DB;
    } else {
        bind_i64(q, ":id", id);
        int step;
        while ((step = sqlite3_step(q)) == SQLITE_ROW)
            status_change(st, (msg_status)sqlite3_column_int(q, 0), MSG_FAILED,
                          sqlite3_column_int64(q, 1));
        if (step != SQLITE_DONE)
            rc = db_fail(st, err, "counting the site's pending messages");
        sqlite3_reset(q);
    }
    if (rc == HD_OK && !(q = stmt_get(st, STMT_SITE_FAIL_PENDING, err)))
        rc = HD_DB;
    if (rc == HD_OK) {
        bind_i64(q, ":id", id);
        bind_i64(q, ":now", now);
        rc = step_done(st, q, "failing the site's pending messages", err);
    }
    if (rc == HD_OK)
        rc = status_counts_flush(st, err);
    if (rc == HD_OK) {
        if (!(q = stmt_get(st, STMT_SITE_DELETE, err))) {
            rc = HD_DB;
        } else {
            bind_i64(q, ":id", id);
            rc = step_done(st, q, "deleting a site", err);
            if (rc == HD_OK && sqlite3_changes(st->db) == 0)
                rc = hd_error_set(err, HD_NOT_FOUND, "site #%lld not found", (long long)id);
        }
    }
    return write_end(st, mode, rc, err);
}

hd_status store_site_set_enabled(store *st, int64_t id, bool enabled, hd_error *err)
{
    write_mode mode;
    hd_status rc = write_begin(st, false, &mode, err);
    if (rc != HD_OK)
        return rc;
    sqlite3_stmt *q = stmt_get(st, STMT_SITE_SET_ENABLED, err);
    if (!q) {
        rc = HD_DB;
    } else {
        bind_i64(q, ":id", id);
        bind_i64(q, ":enabled", enabled ? 1 : 0);
        bind_i64(q, ":now", hd_now_ms());
        rc = step_done(st, q, "pausing or resuming a site", err);
        if (rc == HD_OK && sqlite3_changes(st->db) == 0)
            rc = hd_error_set(err, HD_NOT_FOUND, "site #%lld not found", (long long)id);
    }
    return write_end(st, mode, rc, err);
}

static hd_status site_fetch(store *st, sqlite3_stmt *q, site *out, bool *found, hd_error *err)
{
    int rc = sqlite3_step(q);
    hd_status r = HD_OK;
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        row_site(q, out);
    else if (rc != SQLITE_DONE)
        r = db_fail(st, err, "reading a site");
    sqlite3_reset(q);
    return r;
}

hd_status store_site_get(store *st, int64_t id, site *out, hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_SITE_BY_ID, err);
    if (!q)
        return HD_DB;
    bind_i64(q, ":id", id);
    bool found = false;
    hd_status rc = site_fetch(st, q, out, &found, err);
    if (rc == HD_OK && !found)
        rc = hd_error_set(err, HD_NOT_FOUND, "site #%lld not found", (long long)id);
    return rc;
}

hd_status store_site_get_by_name(store *st, const char *name, site *out, hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_SITE_BY_NAME, err);
    if (!q)
        return HD_DB;
    bind_text(q, ":name", name);
    bool found = false;
    hd_status rc = site_fetch(st, q, out, &found, err);
    if (rc == HD_OK && !found)
        rc = hd_error_set(err, HD_NOT_FOUND, "site '%s' not found", name ? name : "");
    return rc;
}

hd_status store_seed_sites(store *st, const site *sites, int n, int *added, hd_error *err)
{
    if (added)
        *added = 0;
    write_mode mode;
    hd_status rc = write_begin(st, true, &mode, err);
    if (rc != HD_OK)
        return rc;
    sqlite3_stmt *q = stmt_get(st, STMT_SITE_COUNT, err);
    int64_t count = 0;
    rc = q ? step_i64(st, q, "counting sites", &count, NULL, err) : HD_DB;
    int done = 0;
    for (int i = 0; rc == HD_OK && count == 0 && i < n; i++) {
        rc = site_insert(st, &sites[i], NULL, err);
        if (rc != HD_OK)
            hd_error_prefix(err, "seeding site '%s': ", sites[i].name ? sites[i].name : "");
        else
            done++;
    }
    rc = write_end(st, mode, rc, err);
    if (rc == HD_OK && added)
        *added = done;
    return rc;
}

void site_stats_list_free(site_stats_list *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->count; i++)
        site_free(&l->items[i].s);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

/* The sites with their circuits, nothing counted (one read of the small
 * sites table). */
static hd_status sites_read(store *st, site_stats_list *out, hd_error *err)
{
    out->items = NULL;
    out->count = 0;
    sqlite3_stmt *q = stmt_get(st, STMT_SITES_ALL, err);
    if (!q)
        return HD_DB;
    int cap = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (out->count == cap) {
            cap = cap ? cap * 2 : 16;
            out->items = hd_xrealloc(out->items, (size_t)cap * sizeof *out->items);
        }
        site_stats *ss = &out->items[out->count++];
        memset(ss, 0, sizeof *ss);
        row_site(q, &ss->s);
        row_circuit(q, 15, &ss->circuit);
    }
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "listing sites");
    sqlite3_reset(q);
    if (r != HD_OK)
        site_stats_list_free(out);
    return r;
}

hd_status store_sites_states(store *st, site_stats_list *out, hd_error *err)
{
    return sites_read(st, out, err);
}

hd_status store_sites_list(store *st, site_stats_list *out, hd_error *err)
{
    hd_status r = sites_read(st, out, err);
    if (r != HD_OK)
        return r;
    sqlite3_stmt *q;
    int rc;

    /* Pending counts: one pass over the pending messages (partial index). */
    if (!(q = stmt_get(st, STMT_SITES_PENDING, err))) {
        r = HD_DB;
        goto fail;
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        for (int i = 0; i < out->count; i++) {
            if (out->items[i].s.id == id) {
                out->items[i].pending = sqlite3_column_int64(q, 1);
                break;
            }
        }
    }
    r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "counting pending messages");
    sqlite3_reset(q);
    if (r != HD_OK)
        goto fail;

    for (int i = 0; i < out->count; i++) {
        if (!(q = stmt_get(st, STMT_SITE_RECENT, err))) {
            r = HD_DB;
            goto fail;
        }
        bind_i64(q, ":id", out->items[i].s.id);
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            out->items[i].recent_total = sqlite3_column_int(q, 0);
            out->items[i].recent_ok = sqlite3_column_int(q, 1);
        } else if (rc != SQLITE_DONE) {
            r = db_fail(st, err, "reading recent attempts");
            sqlite3_reset(q);
            goto fail;
        }
        sqlite3_reset(q);
    }
    return HD_OK;
fail:
    site_stats_list_free(out);
    return r;
}

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */

/* Inserts one message; the caller holds a write transaction or relies on the
 * single statement being atomic. */
/* Every action name a message is stored with is in the actions table (the
 * action search reads it).  Names already registered by this write
 * transaction are remembered, so a bulk import pays one lookup per batch
 * and name, not per row. */
static hd_status register_action(store *st, const char *action, hd_error *err)
{
    for (int i = 0; i < KNOWN_ACTIONS; i++)
        if (st->known_actions[i] && strcmp(st->known_actions[i], action) == 0)
            return HD_OK;
    sqlite3_stmt *q = stmt_get(st, STMT_ACTION_REGISTER, err);
    if (!q)
        return HD_DB;
    bind_text(q, ":name", action);
    hd_status rc = step_done(st, q, "registering an action", err);
    if (rc != HD_OK)
        return rc;
    int slot = st->known_actions_next;
    free(st->known_actions[slot]);
    st->known_actions[slot] = hd_xstrdup(action);
    st->known_actions_next = (slot + 1) % KNOWN_ACTIONS;
    return HD_OK;
}

static hd_status message_insert(store *st, const new_message *m, int64_t *id_out, hd_error *err)
{
    if (!m->action || !*m->action)
        return hd_error_set(err, HD_INVALID, "action: must not be empty");
    if (!m->payload)
        return hd_error_set(err, HD_INVALID, "payload: missing");
    if (m->path && m->path[0] != '/')
        return hd_error_set(err, HD_INVALID, "path: must start with '/' (got '%s')", m->path);
    /* We hold the write lock, so a site seen earlier in this transaction
     * can only have gone through this connection (site_delete forgets it). */
    hd_status rc;
    if (m->site_id == 0 || m->site_id != st->known_site) {
        sqlite3_stmt *q = stmt_get(st, STMT_SITE_EXISTS, err);
        if (!q)
            return HD_DB;
        bind_i64(q, ":id", m->site_id);
        int64_t one = 0;
        bool found = false;
        rc = step_i64(st, q, "looking up a site", &one, &found, err);
        if (rc != HD_OK)
            return rc;
        if (!found)
            return hd_error_set(err, HD_NOT_FOUND, "site #%lld not found",
                                (long long)m->site_id);
        st->known_site = m->site_id;
    }

    rc = register_action(st, m->action, err);
    if (rc != HD_OK)
        return rc;

    sqlite3_stmt *q = stmt_get(st, STMT_MSG_INSERT, err);
    if (!q)
        return HD_DB;
    char wid[40];
    webhook_id_make(st, wid);
    bind_text(q, ":wid", wid);
    bind_i64(q, ":site", m->site_id);
    bind_text(q, ":action", m->action);
    bind_text(q, ":customer", m->customer);
    bind_text(q, ":path", m->path);
    bind_text(q, ":payload", m->payload);
    bind_i64(q, ":now", hd_now_ms());
    bind_i64_or_null(q, ":resend_of", m->resend_of);
    rc = step_done(st, q, "adding a message", err);
    if (rc == HD_OK && id_out)
        *id_out = sqlite3_last_insert_rowid(st->db);
    return rc;
}

hd_status store_message_add(store *st, const new_message *m, int64_t *id_out, hd_error *err)
{
    write_mode mode;
    /* One INSERT: atomic on its own, so no savepoint when joining (bulk import speed). */
    hd_status rc = write_begin(st, false, &mode, err);
    if (rc != HD_OK)
        return rc;
    rc = message_insert(st, m, id_out, err);
    return write_end(st, mode, rc, err);
}

static hd_status message_fetch(store *st, int64_t id, message *out, bool *found, hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_MSG_GET, err);
    if (!q)
        return HD_DB;
    bind_i64(q, ":id", id);
    bind_i64(q, ":now", hd_now_ms());
    int rc = sqlite3_step(q);
    hd_status r = HD_OK;
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW)
        row_message(q, out);
    else if (rc != SQLITE_DONE)
        r = db_fail(st, err, "reading a message");
    sqlite3_reset(q);
    return r;
}

hd_status store_message_get(store *st, int64_t id, message *out, hd_error *err)
{
    bool found;
    hd_status rc = message_fetch(st, id, out, &found, err);
    if (rc == HD_OK && !found)
        rc = hd_error_set(err, HD_NOT_FOUND, "message #%lld not found", (long long)id);
    return rc;
}

static int popcount_mask(unsigned mask)
{
    int n = 0;
    for (int i = 0; i < MSG_STATUS_COUNT; i++)
        n += (mask >> i) & 1u;
    return n;
}

static unsigned filter_mask(const msg_filter *f)
{
    return f ? f->status_mask & ((1u << MSG_STATUS_COUNT) - 1) : 0;
}

/* The statuses a page walks one by one: those of the filter, or all of them
 * when it has a site but no status (messages_site_status is ordered by id
 * within (site, status) only). */
static unsigned page_mask(const msg_filter *f)
{
    unsigned mask = filter_mask(f);
    if (mask == 0 && f && f->site_id)
        mask = (1u << MSG_STATUS_COUNT) - 1;
    return mask;
}

static int filter_shape(const msg_filter *f)
{
    if (!f)
        return 0;
    int flags = (f->site_id ? SHAPE_SITE : 0) | (f->customer ? SHAPE_CUSTOMER : 0) |
                (f->action_text && *f->action_text ? SHAPE_ACTION : 0) |
                (f->since_ms ? SHAPE_SINCE : 0) | (f->until_ms ? SHAPE_UNTIL : 0) |
                (f->action ? SHAPE_ACTION_EXACT : 0) | (f->unresent ? SHAPE_UNRESENT : 0);
    return popcount_mask(filter_mask(f)) * SHAPE_FLAGS + flags;
}

/* The WHERE conditions of a filter shape, as " AND ..." fragments. */
static void filter_sql(hd_buf *b, int shape)
{
    int nstatus = shape / SHAPE_FLAGS;
    int flags = shape % SHAPE_FLAGS;
    if (nstatus > 0) {
        hd_buf_puts(b, " AND m.status IN (");
        for (int i = 0; i < nstatus; i++)
            hd_buf_printf(b, "%s:st%d", i ? ", " : "", i);
        hd_buf_puts(b, ")");
    }
    if (flags & SHAPE_SITE)
        hd_buf_puts(b, " AND m.site_id = :site");
    if (flags & SHAPE_CUSTOMER)
        hd_buf_puts(b, " AND m.customer = :customer");
    if (flags & SHAPE_ACTION)
        hd_buf_puts(b, " AND instr(lower(m.action), lower(:action)) > 0");
    if (flags & SHAPE_ACTION_EXACT)
        hd_buf_puts(b, " AND m.action = :action_exact");
    if (flags & SHAPE_UNRESENT)
        hd_buf_puts(b, " AND NOT EXISTS (SELECT 1 FROM messages r WHERE r.resend_of = m.id)");
    /* Time bounds are exact on created_at, plus an id range found through
     * the created_at index so that the keyset walk over ids stays a range
     * scan.  created_at is taken under the write lock, so it grows with the
     * id (a wall clock stepping back can only hide rows near a bound). */
    if (flags & SHAPE_SINCE)
        hd_buf_puts(b, " AND m.created_at >= :since AND m.id >= coalesce((SELECT t.id FROM "
                       "messages t WHERE t.created_at >= :since ORDER BY t.created_at, t.id "
                       "LIMIT 1), 9223372036854775807)");
    if (flags & SHAPE_UNTIL)
        hd_buf_puts(b, " AND m.created_at < :until AND m.id <= coalesce((SELECT t.id FROM "
                       "messages t WHERE t.created_at < :until ORDER BY t.created_at DESC, "
                       "t.id DESC LIMIT 1), 0)");
}

static void filter_bind(sqlite3_stmt *q, const msg_filter *f)
{
    if (!f)
        return;
    unsigned mask = filter_mask(f);
    int k = 0;
    for (int i = 0; i < MSG_STATUS_COUNT; i++) {
        if (mask & MSG_STATUS_BIT(i)) {
            char name[16];
            snprintf(name, sizeof name, ":st%d", k++);
            bind_i64(q, name, i);
        }
    }
    bind_i64(q, ":site", f->site_id);
    bind_text(q, ":customer", f->customer);
    bind_text(q, ":action", f->action_text);
    bind_text(q, ":action_exact", f->action);
    bind_i64(q, ":since", f->since_ms);
    bind_i64(q, ":until", f->until_ms);
}

static void page_sql(hd_buf *b, int shape, page_dir dir)
{
    hd_buf_puts(b, "SELECT " MSG_COLS MSG_FROM " WHERE 1");
    filter_sql(b, shape);
    switch (dir) {
    case PAGE_FIRST:
        hd_buf_puts(b, " ORDER BY m.id DESC");
        break;
    case PAGE_LAST:
        hd_buf_puts(b, " ORDER BY m.id ASC");
        break;
    case PAGE_OLDER:
        hd_buf_puts(b, " AND m.id < :anchor ORDER BY m.id DESC");
        break;
    case PAGE_NEWER:
        hd_buf_puts(b, " AND m.id > :anchor ORDER BY m.id ASC");
        break;
    case PAGE_AT:
        hd_buf_puts(b, " AND m.id <= :anchor ORDER BY m.id DESC");
        break;
    }
    hd_buf_puts(b, " LIMIT :limit");
}

static sqlite3_stmt *page_stmt(store *st, int shape, page_dir dir, hd_error *err)
{
    sqlite3_stmt **slot = &st->page_stmts[shape][dir];
    if (*slot) {
        sqlite3_reset(*slot);
        sqlite3_clear_bindings(*slot);
        return *slot;
    }
    hd_buf b = { 0 };
    page_sql(&b, shape, dir);
    *slot = prepare(st, hd_buf_str(&b), err);
    hd_buf_free(&b);
    return *slot;
}

static void count_sql(hd_buf *b, int shape)
{
    hd_buf_puts(b, "SELECT count(*) FROM messages m WHERE 1");
    filter_sql(b, shape);
}

/* One page for a filter with at most one status. */
static hd_status page_query(store *st, const msg_filter *f, page_dir dir, int64_t anchor_id,
                            int limit, message_list *out, hd_error *err)
{
    sqlite3_stmt *q = page_stmt(st, filter_shape(f), dir, err);
    if (!q)
        return HD_DB;
    filter_bind(q, f);
    bind_i64(q, ":anchor", anchor_id);
    bind_i64(q, ":limit", limit);
    bind_i64(q, ":now", hd_now_ms());
    return collect_messages(st, q, out, err);
}

static int cmp_id_desc(const void *a, const void *b)
{
    int64_t x = ((const message *)a)->id, y = ((const message *)b)->id;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int cmp_id_asc(const void *a, const void *b)
{
    return -cmp_id_desc(a, b);
}


/* Rows gathered from several ordered queries: keep the `limit` nearest the
 * anchor (the lowest ids going up, the highest going down). */
static void keep_nearest(message_list *out, bool ascending, int limit)
{
    if (out->count > 1)
        qsort(out->items, (size_t)out->count, sizeof *out->items,
              ascending ? cmp_id_asc : cmp_id_desc);
    while (out->count > limit)
        message_free(&out->items[--out->count]);
}

/* Queried oldest first to find the rows: hand them back newest first. */
static void newest_first(message_list *out, bool ascending)
{
    if (!ascending)
        return;
    for (int i = 0, j = out->count - 1; i < j; i++, j--) {
        message t = out->items[i];
        out->items[i] = out->items[j];
        out->items[j] = t;
    }
}

/* An action search first finds the matching names in the small actions
 * table.  Up to ACTION_MATCH_MAX names are searched one indexed walk each
 * (messages(action, id)); more than that means matches are common, and the
 * plain scan finds a page of them quickly. */
#define ACTION_MATCH_MAX 32

typedef struct action_names {
    char *names[ACTION_MATCH_MAX + 1];
    int count;                        /* ACTION_MATCH_MAX + 1 = too many */
} action_names;

static void action_names_free(action_names *a)
{
    for (int i = 0; i < a->count; i++)
        free(a->names[i]);
    a->count = 0;
}

static hd_status actions_matching(store *st, const char *text, action_names *out, hd_error *err)
{
    out->count = 0;
    sqlite3_stmt *q = stmt_get(st, STMT_ACTIONS_MATCHING, err);
    if (!q)
        return HD_DB;
    bind_text(q, ":text", text);
    bind_i64(q, ":limit", ACTION_MATCH_MAX + 1);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        out->names[out->count++] = hd_xstrdup((const char *)sqlite3_column_text(q, 0));
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "searching actions");
    sqlite3_reset(q);
    if (r != HD_OK)
        action_names_free(out);
    return r;
}

/* True when f searches action text and the matching names were resolved
 * (few enough to walk each); *names then holds them. */
static bool action_search_resolved(store *st, const msg_filter *f, action_names *names,
                                   hd_status *rc, hd_error *err)
{
    *rc = HD_OK;
    names->count = 0;
    if (!f || !f->action_text || !*f->action_text || f->action)
        return false;
    *rc = actions_matching(st, f->action_text, names, err);
    if (*rc != HD_OK)
        return true;
    if (names->count > ACTION_MATCH_MAX) {
        action_names_free(names);
        return false;
    }
    return true;
}

static hd_status page_by_actions(store *st, const msg_filter *f, const action_names *names,
                                 page_dir dir, int64_t anchor_id, int limit, message_list *out,
                                 hd_error *err)
{
    msg_filter one = *f;
    one.action_text = NULL;
    hd_status rc = HD_OK;
    for (int i = 0; rc == HD_OK && i < names->count; i++) {
        one.action = names->names[i];
        message_list part;
        rc = store_messages_page(st, &one, dir, anchor_id, limit, &part, err);
        if (rc != HD_OK)
            break;
        if (part.count > 0) {
            out->items = hd_xrealloc(out->items,
                                     (size_t)(out->count + part.count) * sizeof *out->items);
            memcpy(out->items + out->count, part.items, (size_t)part.count * sizeof *part.items);
            out->count += part.count;
        }
        free(part.items);
    }
    if (rc != HD_OK) {
        message_list_free(out);
        return rc;
    }
    bool ascending = dir == PAGE_NEWER || dir == PAGE_LAST;
    keep_nearest(out, ascending, limit);
    newest_first(out, ascending);
    return HD_OK;
}

hd_status store_messages_page(store *st, const msg_filter *f, page_dir dir, int64_t anchor_id,
                              int limit, message_list *out, hd_error *err)
{
    out->items = NULL;
    out->count = 0;
    if ((unsigned)dir >= PAGE_DIRS)
        return hd_error_set(err, HD_INTERNAL, "messages page: bad direction %d", (int)dir);
    if (limit <= 0)
        return HD_OK;
    action_names names;
    hd_status arc;
    if (action_search_resolved(st, f, &names, &arc, err)) {
        if (arc == HD_OK)
            arc = page_by_actions(st, f, &names, dir, anchor_id, limit, out, err);
        action_names_free(&names);
        return arc;
    }
    bool ascending = dir == PAGE_NEWER || dir == PAGE_LAST;
    unsigned mask = page_mask(f);
    hd_status rc = HD_OK;
    if (popcount_mask(mask) <= 1) {
        rc = page_query(st, f, dir, anchor_id, limit, out, err);
    } else {
        /* Several statuses: "status IN (...)" cannot walk the (status, id)
         * or (site, status, id) index in id order, so SQLite would sort every
         * matching row.  One ordered query per status (each at most `limit`
         * rows), merged here. */
        msg_filter one = *f;
        for (int s = 0; rc == HD_OK && s < MSG_STATUS_COUNT; s++) {
            if (!(mask & MSG_STATUS_BIT(s)))
                continue;
            one.status_mask = MSG_STATUS_BIT(s);
            rc = page_query(st, &one, dir, anchor_id, limit, out, err);
        }
        if (rc == HD_OK)
            keep_nearest(out, ascending, limit);
    }
    if (rc != HD_OK) {
        message_list_free(out);
        return rc;
    }
    newest_first(out, ascending);
    return HD_OK;
}

hd_status store_status_counts(store *st, int64_t counts[MSG_STATUS_COUNT], hd_error *err)
{
    for (int i = 0; i < MSG_STATUS_COUNT; i++)
        counts[i] = 0;
    sqlite3_stmt *q = stmt_get(st, STMT_STATUS_COUNTS, err);
    if (!q)
        return HD_DB;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int s = sqlite3_column_int(q, 0);
        if (s >= 0 && s < MSG_STATUS_COUNT)
            counts[s] = sqlite3_column_int64(q, 1);
    }
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "reading status counts");
    sqlite3_reset(q);
    return r;
}

hd_status store_messages_count(store *st, const msg_filter *f, int64_t *count, hd_error *err)
{
    *count = 0;
    action_names names;
    hd_status arc;
    if (action_search_resolved(st, f, &names, &arc, err)) {
        msg_filter one = *f;
        one.action_text = NULL;
        for (int i = 0; arc == HD_OK && i < names.count; i++) {
            one.action = names.names[i];
            int64_t n = 0;
            arc = store_messages_count(st, &one, &n, err);
            *count += n;
        }
        action_names_free(&names);
        return arc;
    }
    int shape = filter_shape(f);
    if (shape % SHAPE_FLAGS == 0) {
        /* Only a status condition (or none): the trigger-kept counters answer. */
        int64_t counts[MSG_STATUS_COUNT];
        hd_status rc = store_status_counts(st, counts, err);
        if (rc != HD_OK)
            return rc;
        unsigned mask = filter_mask(f);
        for (int i = 0; i < MSG_STATUS_COUNT; i++)
            if (!mask || (mask & MSG_STATUS_BIT(i)))
                *count += counts[i];
        return HD_OK;
    }
    unsigned mask = filter_mask(f);
    if (popcount_mask(mask) > 1) {
        /* As for pages: one indexed count per status. */
        msg_filter one = *f;
        for (int s = 0; s < MSG_STATUS_COUNT; s++) {
            if (!(mask & MSG_STATUS_BIT(s)))
                continue;
            one.status_mask = MSG_STATUS_BIT(s);
            int64_t n = 0;
            hd_status rc = store_messages_count(st, &one, &n, err);
            if (rc != HD_OK)
                return rc;
            *count += n;
        }
        return HD_OK;
    }
    sqlite3_stmt **slot = &st->count_stmts[shape];
    if (*slot) {
        sqlite3_reset(*slot);
        sqlite3_clear_bindings(*slot);
    } else {
        hd_buf b = { 0 };
        count_sql(&b, shape);
        *slot = prepare(st, hd_buf_str(&b), err);
        hd_buf_free(&b);
        if (!*slot)
            return HD_DB;
    }
    filter_bind(*slot, f);
    return step_i64(st, *slot, "counting messages", count, NULL, err);
}

hd_status store_attempts_list(store *st, int64_t message_id, attempt_list *out, hd_error *err)
{
    out->items = NULL;
    out->count = 0;
    sqlite3_stmt *q = stmt_get(st, STMT_ATTEMPTS_OF, err);
    if (!q)
        return HD_DB;
    bind_i64(q, ":id", message_id);
    int cap = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (out->count == cap) {
            cap = cap ? cap * 2 : 8;
            out->items = hd_xrealloc(out->items, (size_t)cap * sizeof *out->items);
        }
        row_attempt(q, &out->items[out->count++]);
    }
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "reading attempts");
    sqlite3_reset(q);
    if (r != HD_OK)
        attempt_list_free(out);
    return r;
}

hd_status store_attempt_histogram(store *st, int64_t now_ms, int64_t bucket_ms, int nbuckets,
                                  uint32_t *out, hd_error *err)
{
    if (nbuckets <= 0)
        return HD_OK;
    memset(out, 0, (size_t)nbuckets * sizeof *out);
    if (bucket_ms <= 0)
        return hd_error_set(err, HD_INTERNAL, "attempt histogram: bucket must be positive");
    sqlite3_stmt *q = stmt_get(st, STMT_HISTOGRAM, err);
    if (!q)
        return HD_DB;
    /* Counted per whole second: a second goes to the bucket its start falls in. */
    int64_t start = now_ms - bucket_ms * nbuckets;
    bind_i64(q, ":start", start / 1000);
    bind_i64(q, ":end", now_ms / 1000 + 1);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t at = sqlite3_column_int64(q, 0) * 1000;
        int64_t b = at < start ? 0 : (at - start) / bucket_ms;
        if (b >= nbuckets)
            b = nbuckets - 1;
        out[b] += (uint32_t)sqlite3_column_int64(q, 1);
    }
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "reading the attempt histogram");
    sqlite3_reset(q);
    return r;
}

/* ---- operator actions ---- */

hd_status store_message_resend(store *st, int64_t id, int64_t *new_id, hd_error *err)
{
    write_mode mode;
    hd_status rc = write_begin(st, true, &mode, err);
    if (rc != HD_OK)
        return rc;
    message m;
    bool found = false;
    rc = message_fetch(st, id, &m, &found, err);
    if (rc == HD_OK && !found)
        rc = hd_error_set(err, HD_NOT_FOUND, "message #%lld not found", (long long)id);
    if (rc == HD_OK) {
        new_message nm = {
            .site_id = m.site_id, .action = m.action, .customer = m.customer,
            .path = m.path, .payload = m.payload, .resend_of = m.id,
        };
        rc = message_insert(st, &nm, new_id, err);
        if (rc == HD_NOT_FOUND)
            hd_error_prefix(err, "resend #%lld: ", (long long)id);
        message_free(&m);
    }
    return write_end(st, mode, rc, err);
}

static void resend_failed_sql(hd_buf *b, int shape)
{
    hd_buf_puts(b,
                "INSERT INTO messages(webhook_id, site_id, action, customer, path, payload, "
                "status, attempts, due_at, created_at, updated_at, resend_of) "
                "SELECT hd_webhook_id(), m.site_id, m.action, m.customer, m.path, m.payload, "
                "0, 0, :now, :now, :now, m.id FROM messages m JOIN sites s ON s.id = m.site_id "
                "WHERE m.id > :after AND m.id <= :hi");
    filter_sql(b, shape);
    hd_buf_puts(b, " ORDER BY m.id LIMIT :n RETURNING resend_of");
}

static sqlite3_stmt *resend_failed_stmt(store *st, int shape, hd_error *err)
{
    /* Built per call: bulk resends are rare, and the cost is one prepare. */
    hd_buf b = { 0 };
    resend_failed_sql(&b, shape);
    sqlite3_stmt *q = prepare(st, hd_buf_str(&b), err);
    hd_buf_free(&b);
    return q;
}

hd_status store_messages_resend_failed(store *st, const msg_filter *f, int64_t *resent,
                                       hd_error *err)
{
    *resent = 0;
    msg_filter ff = { 0 };
    if (f)
        ff = *f;
    ff.status_mask = MSG_STATUS_BIT(MSG_FAILED);
    ff.unresent = true;
    sqlite3_stmt *q = resend_failed_stmt(st, filter_shape(&ff), err);
    if (!q)
        return HD_DB;
    /* Only messages that exist now: the new ones (and anything added later)
     * are above hi. */
    int64_t hi = 0;
    sqlite3_stmt *mx = stmt_get(st, STMT_MAX_ID, err);
    hd_status rc = mx ? step_i64(st, mx, "reading the last message id", &hi, NULL, err) : HD_DB;
    int64_t after = 0;
    int64_t total = 0;
    bool more = true;
    while (rc == HD_OK && more) {
        /* Chunks: each its own short transaction unless the caller holds one. */
        write_mode mode;
        if ((rc = write_begin(st, true, &mode, err)) != HD_OK)
            break;
        sqlite3_reset(q);
        sqlite3_clear_bindings(q);
        filter_bind(q, &ff);
        bind_i64(q, ":now", hd_now_ms());
        bind_i64(q, ":after", after);
        bind_i64(q, ":hi", hi);
        bind_i64(q, ":n", RESEND_CHUNK);
        int n = 0;
        int64_t last = after;
        int step;
        while ((step = sqlite3_step(q)) == SQLITE_ROW) {
            int64_t orig = sqlite3_column_int64(q, 0);
            if (orig > last)
                last = orig;
            n++;
        }
        if (step != SQLITE_DONE)
            rc = db_fail(st, err, "resending failed messages");
        sqlite3_reset(q);
        rc = write_end(st, mode, rc, err);
        if (rc == HD_OK) {
            total += n;
            after = last;
            more = n == RESEND_CHUNK;
        }
    }
    sqlite3_finalize(q);
    *resent = total;
    return rc;
}

/* Shared checks of send-now and cancel: the message exists, is pending and
 * is not being sent right now. */
static hd_status check_actionable(store *st, int64_t id, const char *action, msg_status *status,
                                  hd_error *err)
{
    message m;
    bool found = false;
    hd_status rc = message_fetch(st, id, &m, &found, err);
    if (rc != HD_OK)
        return rc;
    if (!found)
        return hd_error_set(err, HD_NOT_FOUND, "message #%lld not found", (long long)id);
    *status = m.status;
    if (!msg_status_pending(m.status))
        rc = hd_error_set(err, HD_INVALID,
                          "%s message #%lld: it is %s; only queued or resent messages can be %s",
                          action, (long long)id, msg_status_name(m.status),
                          strcmp(action, "cancel") == 0 ? "cancelled" : "sent now");
    else if (m.in_flight)
        rc = hd_error_set(err, HD_INVALID,
                          "%s message #%lld: an attempt is in flight right now; try again "
                          "when it finishes",
                          action, (long long)id);
    message_free(&m);
    return rc;
}

static hd_status message_action(store *st, int64_t id, stmt_id which, const char *action,
                                 hd_error *err)
{
    write_mode mode;
    hd_status rc = write_begin(st, true, &mode, err);
    if (rc != HD_OK)
        return rc;
    msg_status before = MSG_QUEUED;
    rc = check_actionable(st, id, action, &before, err);
    if (rc == HD_OK) {
        sqlite3_stmt *q = stmt_get(st, which, err);
        if (!q) {
            rc = HD_DB;
        } else {
            bind_i64(q, ":id", id);
            bind_i64(q, ":now", hd_now_ms());
            rc = step_done(st, q, action, err);
        }
    }
    if (rc == HD_OK && which == STMT_MSG_CANCEL && sqlite3_changes(st->db) == 1) {
        status_change(st, before, MSG_FAILED, 1);
        rc = status_counts_flush(st, err);
    }
    return write_end(st, mode, rc, err);
}

hd_status store_message_send_now(store *st, int64_t id, hd_error *err)
{
    return message_action(st, id, STMT_MSG_SEND_NOW, "send now", err);
}

hd_status store_message_cancel(store *st, int64_t id, hd_error *err)
{
    return message_action(st, id, STMT_MSG_CANCEL, "cancel", err);
}

hd_status store_purge_chunk(store *st, int64_t before_ms, int chunk, int64_t *deleted,
                            hd_error *err)
{
    *deleted = 0;
    if (chunk <= 0)
        return HD_OK;
    if (st->no_reference_checks)
        return hd_error_set(err, HD_INTERNAL, "database %s: purge on a connection without "
                            "reference checks would leave attempts behind", st->path);
    write_mode mode;
    /* One DELETE; attempts go with it (ON DELETE CASCADE). */
    hd_status rc = write_begin(st, true, &mode, err);
    if (rc != HD_OK)
        return rc;
    sqlite3_stmt *q = stmt_get(st, STMT_PURGE, err);
    if (!q) {
        rc = HD_DB;
    } else {
        bind_i64(q, ":before", before_ms);
        bind_i64(q, ":n", chunk);
        rc = step_done(st, q, "purging old messages", err);
        if (rc == HD_OK)
            *deleted = sqlite3_changes(st->db);
    }
    /* The sparkline's counters: an hour is plenty (it shows 5 minutes). */
    if (rc == HD_OK && !(q = stmt_get(st, STMT_SECONDS_PURGE, err)))
        rc = HD_DB;
    if (rc == HD_OK) {
        bind_i64(q, ":before", hd_now_ms() / 1000 - ATTEMPT_SECONDS_KEPT);
        rc = step_done(st, q, "purging old attempt counters", err);
    }
    rc = write_end(st, mode, rc, err);
    if (rc != HD_OK)
        *deleted = 0;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Delivery engine                                                          */

/* One enabled site as a claim sees it. */
typedef struct claim_site {
    int64_t id;
    char *name;
    int64_t timeout_ms;      /* effective */
    int room;                /* how many more this claim may take (-1 = any) */
    bool probe;              /* its circuit allows exactly one: the probe */
    bool exhausted;          /* asked for more than it had due */
    circuit c;
    message_list got;        /* claimed so far */
} claim_site;

static void claim_sites_free(claim_site *cs, int n)
{
    for (int i = 0; i < n; i++) {
        free(cs[i].name);
        message_list_free(&cs[i].got);
    }
    free(cs);
}

static int held_of(const claim_request *rq, int64_t site_id)
{
    for (int i = 0; i < rq->nheld; i++)
        if (rq->held[i].site_id == site_id)
            return rq->held[i].held;
    return 0;
}

/* The enabled sites that may give messages now, with how many each may. */
static hd_status claim_sites_load(store *st, const claim_request *rq, claim_site **out, int *n,
                                  hd_error *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *q = stmt_get(st, STMT_CLAIM_SITES, err);
    if (!q)
        return HD_DB;
    int cap = 0, rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        claim_site cs;
        memset(&cs, 0, sizeof cs);
        cs.id = sqlite3_column_int64(q, 0);
        int64_t tmo = sqlite3_column_int64(q, 2);
        cs.timeout_ms = tmo > 0 ? tmo : st->default_timeout_ms;
        row_circuit(q, 4, &cs.c);
        cs.room = -1;
        if (rq->depth > 0) {
            site one;
            memset(&one, 0, sizeof one);
            one.max_in_flight = sqlite3_column_int(q, 3);
            cs.room = rq->depth * site_max_in_flight(&one, rq->concurrency) - held_of(rq, cs.id);
        }
        int allowed = breaker_claimable(rq->breaker, &cs.c, rq->now_ms);
        if (allowed == 1) {
            cs.probe = true;
            cs.room = 1;
        } else if (allowed == 0) {
            cs.room = 0;
        }
        if (cs.room == 0)
            continue;
        cs.name = col_text(q, 1);
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = hd_xrealloc(*out, sizeof **out * (size_t)cap);
        }
        (*out)[(*n)++] = cs;
    }
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "listing sites to claim from");
    sqlite3_reset(q);
    return r;
}

/* Claims up to `want` due messages of one site into cs->got. */
static hd_status claim_from_site(store *st, const claim_request *rq, claim_site *cs, int want,
                                 hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_CLAIM, err);
    if (!q)
        return HD_DB;
    bind_i64(q, ":now", rq->now_ms);
    bind_i64(q, ":lease_end", rq->now_ms + cs->timeout_ms + rq->lease_extra_ms);
    bind_text(q, ":owner", rq->owner);
    bind_i64(q, ":site", cs->id);
    bind_i64(q, ":n", want);
    int before = cs->got.count;
    hd_status rc = collect_messages(st, q, &cs->got, err);
    if (rc != HD_OK)
        return rc;
    int got = cs->got.count - before;
    for (int i = before; i < cs->got.count; i++) {
        cs->got.items[i].site_name = hd_xstrdup(cs->name);
        cs->got.items[i].probe = cs->probe;
    }
    if (cs->room > 0)
        cs->room -= got;
    if (got < want)
        cs->exhausted = true;
    if (cs->probe && got > 0) {
        breaker_probe_claimed(&cs->c, rq->now_ms + cs->timeout_ms + rq->lease_extra_ms);
        sqlite3_stmt *u = stmt_get(st, STMT_CIRCUIT_SET, err);
        if (!u)
            return HD_DB;
        bind_circuit(u, cs->id, &cs->c);
        return step_done(st, u, "marking a circuit probing", err);
    }
    return HD_OK;
}

/* Round-robin: every site that can still give gets an equal share of what
 * is left, starting at the rotation; what one cannot use goes to the others
 * in the next round. */
static hd_status claim_rounds(store *st, const claim_request *rq, claim_site *cs, int n,
                              int *total, hd_error *err)
{
    int left = rq->limit;
    for (;;) {
        int active = 0;
        for (int i = 0; i < n; i++)
            active += !cs[i].exhausted && cs[i].room != 0;
        if (active == 0 || left <= 0)
            return HD_OK;
        int share = left / active > 0 ? left / active : 1;
        for (int k = 0; k < n && left > 0; k++) {
            claim_site *c = &cs[(rq->rotation + (unsigned)k) % (unsigned)n];
            if (c->exhausted || c->room == 0)
                continue;
            int want = share;
            if (c->room > 0 && want > c->room)
                want = c->room;
            if (want > left)
                want = left;
            int before = c->got.count;
            hd_status rc = claim_from_site(st, rq, c, want, err);
            if (rc != HD_OK)
                return rc;
            left -= c->got.count - before;
            *total += c->got.count - before;
        }
    }
}

/* Hands the claimed messages back interleaved by site (A1 B1 A2 B2 ...), so
 * that an engine starting them in order serves the sites alike. */
static void claim_interleave(claim_site *cs, int n, int total, const claim_request *rq,
                             message_list *out)
{
    out->items = total > 0 ? hd_xmalloc(sizeof *out->items * (size_t)total) : NULL;
    out->count = 0;
    for (int round = 0; out->count < total; round++) {
        for (int k = 0; k < n; k++) {
            claim_site *c = &cs[(rq->rotation + (unsigned)k) % (unsigned)n];
            if (round < c->got.count)
                out->items[out->count++] = c->got.items[round];
        }
    }
    for (int k = 0; k < n; k++) {
        free(cs[k].got.items);   /* the messages moved to out */
        cs[k].got.items = NULL;
        cs[k].got.count = 0;
    }
}

/* The claim holds at most rq->max_bytes of payload (at least one message,
 * and every probe): the rest of the interleaved list is given back in the
 * same transaction, so big payloads bound the engine's memory by bytes as
 * well as by count. */
static hd_status claim_trim_bytes(store *st, const claim_request *rq, message_list *out,
                                  hd_error *err)
{
    if (rq->max_bytes <= 0)
        return HD_OK;
    int64_t bytes = 0;
    int keep = 0;
    for (int i = 0; i < out->count; i++) {
        message *m = &out->items[i];
        int64_t size = m->payload ? (int64_t)strlen(m->payload) : 0;
        if (keep == 0 || m->probe || bytes + size <= rq->max_bytes) {
            bytes += size;
            out->items[keep++] = *m;
            continue;
        }
        sqlite3_stmt *q = stmt_get(st, STMT_RELEASE_ONE, err);
        if (!q)
            return HD_DB;
        bind_i64(q, ":now", rq->now_ms);
        bind_i64(q, ":id", m->id);
        bind_text(q, ":owner", rq->owner);
        hd_status rc = step_done(st, q, "giving back a claim over the byte budget", err);
        message_free(m);
        if (rc != HD_OK) {
            for (int j = i + 1; j < out->count; j++)
                message_free(&out->items[j]);
            out->count = keep;
            return rc;
        }
    }
    out->count = keep;
    return HD_OK;
}

hd_status store_claim_fair(store *st, const claim_request *rq, message_list *out,
                           hd_error *err)
{
    out->items = NULL;
    out->count = 0;
    if (rq->limit <= 0)
        return HD_OK;
    if (!rq->owner || !*rq->owner)
        return hd_error_set(err, HD_INTERNAL, "claim: no lease owner given");
    write_mode mode;
    hd_status rc = write_begin(st, true, &mode, err);
    if (rc != HD_OK)
        return rc;
    claim_site *cs = NULL;
    int n = 0, total = 0;
    rc = claim_sites_load(st, rq, &cs, &n, err);
    if (rc == HD_OK)
        rc = claim_rounds(st, rq, cs, n, &total, err);
    if (rc == HD_OK) {
        claim_interleave(cs, n, total, rq, out);
        rc = claim_trim_bytes(st, rq, out, err);
    }
    rc = write_end(st, mode, rc, err);
    if (rc != HD_OK)
        message_list_free(out);
    claim_sites_free(cs, n);
    return rc;
}

hd_status store_claim(store *st, const char *owner, int64_t now_ms, int64_t lease_extra_ms,
                      int limit, message_list *out, hd_error *err)
{
    claim_request rq = { .owner = owner, .now_ms = now_ms, .lease_extra_ms = lease_extra_ms,
                         .limit = limit };
    return store_claim_fair(st, &rq, out, err);
}

static hd_status record_one(store *st, const char *owner, const attempt_outcome *o, int64_t now,
                            hd_error *err)
{
    const attempt *a = &o->a;
    sqlite3_stmt *q = stmt_get(st, STMT_ATTEMPT_INSERT, err);
    if (!q)
        return HD_DB;
    bind_i64(q, ":mid", a->message_id);
    bind_i64_or_null(q, ":site", a->site_id);
    bind_i64(q, ":number", a->number);
    bind_i64(q, ":started", a->started_at);
    bind_i64(q, ":duration", a->duration_ms);
    bind_i64_or_null(q, ":code", a->response_code);
    bind_text(q, ":error", a->error);
    bind_text(q, ":reqh", a->request_headers);
    bind_text(q, ":resph", a->response_headers);
    int bi = param_index(q, ":body");
    if (a->response_body)
        sqlite3_bind_blob64(q, bi, a->response_body, a->response_body_len, SQLITE_STATIC);
    bind_i64(q, ":trunc", a->body_truncated ? 1 : 0);
    hd_status rc = step_done(st, q, "recording an attempt", err);
    if (rc != HD_OK)
        return rc;

    if (!(q = stmt_get(st, STMT_OUTCOME_UPDATE, err)))
        return HD_DB;
    bool pending = msg_status_pending(o->new_status);
    bind_i64(q, ":id", a->message_id);
    bind_i64(q, ":status", o->new_status);
    bind_i64_or_null(q, ":due", pending ? (o->next_due_at ? o->next_due_at : now) : 0);
    bind_i64_or_null(q, ":code", a->response_code);
    bind_text(q, ":error", a->error);
    bind_i64(q, ":now", now);
    bind_text(q, ":owner", owner);
    bind_i64_or_null(q, ":retry_after", pending && o->retry_after_ms > 0 ? o->retry_after_ms : 0);
    rc = step_done(st, q, "updating a message", err);
    /* Applied only while our lease held: the status was the claimed one. */
    if (rc == HD_OK && sqlite3_changes(st->db) == 1)
        status_change(st, o->old_status, o->new_status, 1);
    return rc;
}

/* A circuit opened or closed: remembered for the engine's log. */
static void circuit_event_add(store *st, int64_t site_id, const char *name, const circuit *c)
{
    st->tx_events = hd_xrealloc(st->tx_events, sizeof *st->tx_events * (size_t)(st->ntx_events + 1));
    circuit_event *ev = &st->tx_events[st->ntx_events++];
    memset(ev, 0, sizeof *ev);
    ev->site_id = site_id;
    snprintf(ev->site_name, sizeof ev->site_name, "%s", name ? name : "?");
    ev->after = *c;
}

/* Applies the verdicts of site_id's outcomes (in the order they finished)
 * to its stored circuit: one read, and one write only when it changed. */
static hd_status circuit_record(store *st, int64_t site_id, const attempt_outcome *o, int n,
                                int64_t now, hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_CIRCUIT_GET, err);
    if (!q)
        return HD_DB;
    bind_i64(q, ":id", site_id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_DONE) {   /* deleted meanwhile: nothing to keep */
        sqlite3_reset(q);
        return HD_OK;
    }
    if (rc != SQLITE_ROW) {
        hd_status r = db_fail(st, err, "reading a circuit");
        sqlite3_reset(q);
        return r;
    }
    char *name = col_text(q, 0);
    circuit c;
    row_circuit(q, 1, &c);
    sqlite3_reset(q);
    circuit before = c;
    for (int i = 0; i < n; i++) {
        if (o[i].a.site_id != site_id)
            continue;
        if (breaker_apply(&st->breaker, &c, o[i].verdict, o[i].probe, o[i].a.error, now))
            circuit_event_add(st, site_id, name, &c);
    }
    free(name);
    if (memcmp(&before, &c, sizeof c) == 0)
        return HD_OK;
    if (!(q = stmt_get(st, STMT_CIRCUIT_SET, err)))
        return HD_DB;
    bind_circuit(q, site_id, &c);
    return step_done(st, q, "updating a circuit", err);
}

/* An outcome that can change its site's circuit. */
static bool circuit_relevant(const attempt_outcome *o)
{
    return o->a.site_id != 0 && (o->verdict != VERDICT_NEUTRAL || o->probe);
}

/* Every site of the batch once (batches are a few dozen outcomes of a few sites). */
static hd_status circuits_record(store *st, const attempt_outcome *o, int n, int64_t now,
                                 hd_error *err)
{
    if (!breaker_enabled(&st->breaker))
        return HD_OK;
    for (int i = 0; i < n; i++) {
        if (!circuit_relevant(&o[i]))
            continue;
        bool seen = false;
        for (int j = 0; !seen && j < i; j++)
            seen = circuit_relevant(&o[j]) && o[j].a.site_id == o[i].a.site_id;
        if (seen)
            continue;
        hd_status rc = circuit_record(st, o[i].a.site_id, o, n, now, err);
        if (rc != HD_OK)
            return rc;
    }
    return HD_OK;
}

/* The sparkline's per-second counters: one upsert per distinct second. */
static hd_status seconds_record(store *st, const attempt_outcome *o, int n, hd_error *err)
{
    for (int i = 0; i < n; i++) {
        int64_t second = o[i].a.started_at / 1000;
        bool seen = false;
        for (int j = 0; !seen && j < i; j++)
            seen = o[j].a.started_at / 1000 == second;
        if (seen)
            continue;
        int64_t count = 0;
        for (int j = i; j < n; j++)
            count += o[j].a.started_at / 1000 == second;
        sqlite3_stmt *q = stmt_get(st, STMT_SECOND_ADD, err);
        if (!q)
            return HD_DB;
        bind_i64(q, ":second", second);
        bind_i64(q, ":n", count);
        hd_status rc = step_done(st, q, "counting attempts", err);
        if (rc != HD_OK)
            return rc;
    }
    return HD_OK;
}

hd_status store_record_outcomes(store *st, const char *owner, const attempt_outcome *o, int n,
                                hd_error *err)
{
    if (n <= 0)
        return HD_OK;
    if (!owner || !*owner)
        return hd_error_set(err, HD_INTERNAL, "record outcomes: no lease owner given");
    for (int i = 0; i < n; i++)
        if ((unsigned)o[i].new_status >= MSG_STATUS_COUNT)
            return hd_error_set(err, HD_INTERNAL, "record outcomes: bad status %d for #%lld",
                                (int)o[i].new_status, (long long)o[i].a.message_id);
    write_mode mode;
    hd_status rc = write_begin(st, true, &mode, err);
    if (rc != HD_OK)
        return rc;
    int64_t now = hd_now_ms();
    for (int i = 0; rc == HD_OK && i < n; i++)
        rc = record_one(st, owner, &o[i], now, err);
    if (rc == HD_OK)
        rc = circuits_record(st, o, n, now, err);
    if (rc == HD_OK)
        rc = seconds_record(st, o, n, err);
    if (rc == HD_OK)
        rc = status_counts_flush(st, err);
    return write_end(st, mode, rc, err);
}

hd_status store_release_leases(store *st, const char *owner, int64_t now_ms, hd_error *err)
{
    write_mode mode;
    hd_status rc = write_begin(st, false, &mode, err);
    if (rc != HD_OK)
        return rc;
    sqlite3_stmt *q = stmt_get(st, STMT_RELEASE_LEASES, err);
    if (!q) {
        rc = HD_DB;
    } else {
        bind_i64(q, ":now", now_ms);
        bind_text(q, ":owner", owner);
        rc = step_done(st, q, "releasing leases", err);
    }
    return write_end(st, mode, rc, err);
}

hd_status store_release_messages(store *st, const char *owner, const int64_t *ids, int n,
                                 int64_t now_ms, hd_error *err)
{
    write_mode mode;
    hd_status rc = write_begin(st, true, &mode, err);
    if (rc != HD_OK)
        return rc;
    sqlite3_stmt *q = stmt_get(st, STMT_RELEASE_ONE, err);
    if (!q)
        rc = HD_DB;
    for (int i = 0; rc == HD_OK && i < n; i++) {
        sqlite3_reset(q);
        bind_i64(q, ":now", now_ms);
        bind_i64(q, ":id", ids[i]);
        bind_text(q, ":owner", owner);
        rc = step_done(st, q, "releasing a lease", err);
    }
    return write_end(st, mode, rc, err);
}

hd_status store_next_due(store *st, int64_t *due_ms, hd_error *err)
{
    *due_ms = 0;
    sqlite3_stmt *q = stmt_get(st, STMT_CLAIM_SITES, err);
    if (!q)
        return HD_DB;
    /* The enabled sites first (few), then one seek each. */
    int64_t *ids = NULL, *opens = NULL;
    int n = 0, cap = 0, rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            ids = hd_xrealloc(ids, sizeof *ids * (size_t)cap);
            opens = hd_xrealloc(opens, sizeof *opens * (size_t)cap);
        }
        circuit c;
        row_circuit(q, 4, &c);
        ids[n] = sqlite3_column_int64(q, 0);
        opens[n++] = breaker_enabled(&st->breaker) && c.state != CIRCUIT_CLOSED ? c.until_ms : 0;
    }
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "listing sites");
    sqlite3_reset(q);
    for (int i = 0; r == HD_OK && i < n; i++) {
        if (!(q = stmt_get(st, STMT_SITE_FIRST_DUE, err))) {
            r = HD_DB;
            break;
        }
        bind_i64(q, ":site", ids[i]);
        int64_t due = 0;
        bool found = false;
        r = step_i64(st, q, "finding the next due message", &due, &found, err);
        if (r != HD_OK || !found)
            continue;
        if (due < opens[i])
            due = opens[i];   /* an open circuit: nothing goes before its probe */
        if (*due_ms == 0 || due < *due_ms)
            *due_ms = due;
    }
    free(ids);
    free(opens);
    return r;
}

hd_status store_pending_count(store *st, int64_t *count, hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_PENDING_COUNT, err);
    if (!q)
        return HD_DB;
    return step_i64(st, q, "counting pending messages", count, NULL, err);
}

/* ------------------------------------------------------------------------ */
/* Test hooks                                                               */

static uint64_t vm_steps_of(sqlite3_stmt *s)
{
    return s ? (uint64_t)sqlite3_stmt_status(s, SQLITE_STMTSTATUS_VM_STEP, 0) : 0;
}

uint64_t store_debug_vm_steps(store *st)
{
    uint64_t n = 0;
    for (int i = 0; i < STMT_COUNT; i++)
        n += vm_steps_of(st->stmts[i]);
    for (int i = 0; i < SHAPE_COUNT; i++) {
        for (int d = 0; d < PAGE_DIRS; d++)
            n += vm_steps_of(st->page_stmts[i][d]);
        n += vm_steps_of(st->count_stmts[i]);
    }
    return n;
}

hd_status store_debug_plan(store *st, const char *name, const msg_filter *f, page_dir dir,
                           hd_buf *out, hd_error *err)
{
    hd_buf sql = { 0 };
    hd_buf_puts(&sql, "EXPLAIN QUERY PLAN ");
    msg_filter single = { 0 };
    if (f) {
        /* Several statuses run as one query per status: explain that one. */
        single = *f;
        unsigned mask = strcmp(name, "page") == 0 ? page_mask(f) : filter_mask(f);
        if (popcount_mask(mask) > 1)
            single.status_mask = mask & -mask;
        f = &single;
    }
    if (strcmp(name, "page") == 0) {
        page_sql(&sql, filter_shape(f), dir);
    } else if (strcmp(name, "count") == 0) {
        count_sql(&sql, filter_shape(f));
    } else if (strcmp(name, "resend_failed") == 0) {
        msg_filter ff = { 0 };
        if (f)
            ff = *f;
        ff.status_mask = MSG_STATUS_BIT(MSG_FAILED);
        resend_failed_sql(&sql, filter_shape(&ff));
    } else {
        int i = 0;
        while (i < STMT_COUNT && strcmp(stmt_name[i], name) != 0)
            i++;
        if (i == STMT_COUNT) {
            hd_buf_free(&sql);
            return hd_error_set(err, HD_INTERNAL, "store_debug_plan: no query '%s'", name);
        }
        hd_buf_puts(&sql, stmt_sql[i]);
    }
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(st->db, hd_buf_str(&sql), -1, &q, NULL);
    hd_buf_free(&sql);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(q);
        return db_fail(st, err, "explaining a query");
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const unsigned char *detail = sqlite3_column_text(q, 3);
        hd_buf_printf(out, "%s\n", detail ? (const char *)detail : "");
    }
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "explaining a query");
    sqlite3_finalize(q);
    return r;
}
