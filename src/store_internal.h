/* store_internal.h - what the files of the SQLite store share; nothing
 * outside src/store_*.c includes it.
 *
 * The store is one module behind include/hd_store.h, split by job:
 *   store_db.c        open (file modes, pragmas), close
 *   store_stmt.c      the statement cache, binding, write transactions
 *   store_schema.c    the schema and its migrations
 *   store_sites.c     trusted sites and their circuits
 *   store_messages.c  webhook ids, adding and reading messages, operator actions
 *   store_pages.c     keyset pages and counts for the screens and the CLI
 *   store_filters.c   a message filter as SQL fragments (pages, counts, bulk resend)
 *   store_claims.c    claims, leases, recording outcomes, next due
 *   store_counters.c  per-status counters, per-second attempt counters
 *   store_engines.c   the engines' heartbeats (which engines deliver here)
 *   store_search.c    search: the background index of words, find next, count
 *   store_debug.c     test hooks (store_debug.h)
 * Every SQLite statement of hookdesk is in these files (the PostgreSQL
 * backend's are in src/pg_*.c): the cached ones in
 * STORE_STMT_LIST below, the few built from filters (store_filters.c) and
 * store_messages.c, and the schema in store_schema.c.
 */
#ifndef HD_STORE_INTERNAL_H
#define HD_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store_backend.h"
#include "store_statuses.h"
#include "hd_util.h"

#define DEFAULT_SITE_TIMEOUT_MS 10000

/* ------------------------------------------------------------------------ */
/* Cached statements                                                        */

/* The message columns every message query returns, in the order row_message
 * reads them.  ?/:now is bound for in_flight.  A leased message is due when
 * its lease ends (as where the lease is kept in the row: PostgreSQL). */
#define MSG_COLS                                                                   \
    "m.id, m.webhook_id, m.site_id, s.name, m.action, m.customer, m.path, p.payload, " \
    "m.status, m.attempts, CASE WHEN l.until > m.due_at THEN l.until ELSE m.due_at END, " \
    "coalesce(l.until > :now, 0), "                                                 \
    "m.response_code, m.last_error, m.created_at, m.updated_at, m.resend_of, "       \
    "m.retry_after"
#define MSG_FROM                                                                   \
    " FROM messages m LEFT JOIN sites s ON s.id = m.site_id"                       \
    " LEFT JOIN payloads p ON p.message_id = m.id"                                 \
    " LEFT JOIN leases l ON l.message_id = m.id"

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

/* The cached statements, by job: stmt_get(st, STMT_<id>) prepares one on
 * first use (SQLITE_PREPARE_PERSISTENT) and keeps it for the connection.
 *
 * Notes on a few of the statements below:
 * - MSG_INSERT is INSERT OR ROLLBACK: an INSERT that fires a trigger and may
 *   abort needs a statement journal, which halves bulk-import speed.  Every
 *   NOT NULL column is checked in C first and no unique index can refuse a
 *   row, so the ROLLBACK (of the caller's whole transaction) cannot happen
 *   short of a bug; the caller then sees the error and its commit fails.
 * - ATTEMPT_INSERT inserts only when the message still exists, so that an
 *   outcome for a message deleted meanwhile (site deleted, purged) cannot
 *   fail a whole batch on the foreign key.
 * - ATTEMPT_INSERT and OUTCOME_UPDATE (the engine's hot path) are OR
 *   ROLLBACK for the same reason as MSG_INSERT: a statement that fires a
 *   trigger or checks a constraint inside a transaction otherwise keeps a
 *   statement journal, a copy of every page it changes (about 20 KB and 20
 *   allocations per delivery, 12% of the committer's instructions).  Their
 *   callers roll the whole batch back on any error anyway.
 * - CLAIM, SITE_FIRST_DUE and PENDING_COUNT name their index
 *   (messages_site_due), and PURGE names messages_created: without
 *   statistics the planner prefers messages_status and reads and sorts
 *   every row of the statuses.
 * - CLAIM takes one site (store_claim_fair walks the sites round-robin): the
 *   lease end and the site name come from C, so the statement reads
 *   nothing but the site's slice of messages_site_due. */

/* Transactions (store_stmt.c). */
#define STORE_STMT_TX(_)                                                            \
    _(BEGIN, "BEGIN IMMEDIATE")                                                     \
    _(COMMIT, "COMMIT")                                                             \
    _(ROLLBACK, "ROLLBACK")                                                         \
    _(SAVEPOINT, "SAVEPOINT hd_write")                                              \
    _(RELEASE, "RELEASE hd_write")                                                  \
    _(ROLLBACK_TO, "ROLLBACK TO hd_write")                                          \
    _(DATA_VERSION, "PRAGMA data_version")

/* Trusted sites (store_sites.c; SITE_EXISTS also store_messages.c). */
#define STORE_STMT_SITES(_)                                                         \
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
    /* updated_at is the row's version: every operator change (an edit,     \
     * pause/resume) moves it forward, by 1 ms at least; circuit changes     \
     * leave it.  :expected 0 = no check, else the version the editor read. */ \
    _(SITE_VERSION, "SELECT updated_at FROM sites WHERE id = :id")                  \
    _(SITE_UPDATE,                                                                  \
      "UPDATE sites SET name = :name, url = :url, content_type = :ctype, "          \
      "timeout_ms = :timeout, enabled = :enabled, headers = :headers, "             \
      "auth_kind = :auth, auth_user = :user, auth_secret = :secret, "               \
      "auth_header = :header, auth_extra = :extra, "                                \
      "updated_at = max(:now, updated_at + 1), max_in_flight = :max_in_flight "     \
      "WHERE id = :id AND (:expected = 0 OR updated_at = :expected)")               \
    _(SITE_SET_ENABLED,                                                             \
      "UPDATE sites SET enabled = :enabled, updated_at = max(:now, updated_at + 1) " \
      "WHERE id = :id")                                                             \
    _(SITE_PENDING_BY_STATUS,                                                       \
      "SELECT status, count(*) FROM messages WHERE site_id = :id AND status IN (0, 1) " \
      "GROUP BY status")                                                            \
    _(SITE_FAIL_PENDING,                                                            \
      "UPDATE messages SET status = 3, last_error = 'site deleted', due_at = NULL, " \
      "lease_owner = NULL, retry_after = NULL, updated_at = :now "                  \
      "WHERE site_id = :id AND status IN (0, 1)")                                   \
    _(SITE_DELETE, "DELETE FROM sites WHERE id = :id")                              \
    _(SITES_ALL, "SELECT " SITE_COLS ", " CIRCUIT_COLS " FROM sites ORDER BY name")  \
    _(SITES_PENDING, "SELECT site_id, n FROM site_pending WHERE n <> 0")           \
    _(SITE_RECENT,                                                                  \
      "SELECT count(*), coalesce(sum(response_code BETWEEN 200 AND 299), 0) FROM "  \
      "(SELECT response_code FROM attempts WHERE site_id = :id ORDER BY id DESC LIMIT 100)")

/* Messages, attempts, operator actions (store_messages.c, store_pages.c). */
#define STORE_STMT_MESSAGES(_)                                                      \
    _(MSG_INSERT,                                                                   \
      "INSERT OR ROLLBACK INTO messages(webhook_id, site_id, action, customer, path, " \
      "status, attempts, due_at, created_at, updated_at, resend_of) VALUES "        \
      "(:wid, :site, :action, :customer, :path, 0, 0, :now, :now, :now, :resend_of)") \
    _(PAYLOAD_GET, "SELECT payload FROM payloads WHERE message_id = :id")           \
    _(PAYLOAD_INSERT,                                                               \
      "INSERT OR ROLLBACK INTO payloads(message_id, payload) VALUES (:id, :payload)") \
    _(PAYLOADS_COPY_RESENT,                                                         \
      "INSERT INTO payloads(message_id, payload) SELECT n.id, p.payload "           \
      "FROM messages n JOIN payloads p ON p.message_id = n.resend_of WHERE n.id > :after") \
    _(MSG_GET, "SELECT " MSG_COLS MSG_FROM " WHERE m.id = :id")                     \
    _(MSG_SITE, "SELECT site_id FROM messages WHERE id = :id")                      \
    _(MSG_SEND_NOW,                                                                 \
      "UPDATE messages SET due_at = :now, retry_after = NULL, updated_at = :now "   \
      "WHERE id = :id")                                                             \
    _(MSG_CANCEL,                                                                   \
      "UPDATE messages SET status = 3, last_error = 'cancelled by operator', "      \
      "due_at = NULL, lease_owner = NULL, retry_after = NULL, updated_at = :now "   \
      "WHERE id = :id")                                                             \
    _(MAX_ID, "SELECT coalesce(max(id), 0) FROM messages")                          \
    _(MSG_BY_WEBHOOK_ID,                                                            \
      "SELECT id FROM messages INDEXED BY messages_created WHERE created_at "       \
      "BETWEEN :lo AND :hi AND webhook_id = :wid LIMIT 1")                          \
    /* The resends made of a message (messages_resend_of: one index seek). */    \
    _(MSG_RESENT_AS, "SELECT max(id) FROM messages WHERE resend_of = :id")          \
    _(MSG_RESENDS, "SELECT id FROM messages WHERE resend_of = :id ORDER BY id LIMIT :n") \
    _(ACTION_REGISTER, "INSERT OR IGNORE INTO actions(name) VALUES (:name)")        \
    _(ACTIONS_MATCHING, "SELECT name FROM actions WHERE instr(lower(name), lower(:text)) > 0 " \
                        "LIMIT :limit")                                             \
    _(ATTEMPTS_OF, "SELECT " ATTEMPT_COLS " FROM attempts WHERE message_id = :id "  \
                   "ORDER BY number, id")                                           \
    _(PURGE,                                                                        \
      "DELETE FROM messages WHERE id IN (SELECT id FROM messages "                  \
      "INDEXED BY messages_created WHERE created_at < :before AND status IN (2, 3) ORDER BY created_at LIMIT :n)")

/* Claims, leases, outcomes, circuits (store_claims.c). */
#define STORE_STMT_CLAIMS(_)                                                        \
    _(CLAIM_SITES, "SELECT id, name, timeout_ms, max_in_flight, " CIRCUIT_COLS      \
                   " FROM sites WHERE enabled ORDER BY id")                         \
    /* The claim reads a site's due messages that hold no live lease, from   \
     * its cursor on (:after_due, :after_id); the caller then takes a lease  \
     * on each (MULTI_LEASE_TAKE, same transaction: INSERT OR REPLACE, so   \
     * that an expired lease is taken over). */                               \
    _(CLAIM,                                                                        \
      "SELECT m.id, m.webhook_id, m.site_id, NULL, m.action, m.customer, m.path, "  \
      "NULL, m.status, m.attempts, m.due_at, 1, m.response_code, m.last_error, "    \
      "m.created_at, m.updated_at, m.resend_of, m.retry_after FROM messages m "     \
      "INDEXED BY messages_site_due WHERE m.site_id = :site AND m.status IN (0, 1) " \
      "AND m.due_at <= :now AND (m.due_at, m.id) > (:after_due, :after_id) "       \
      "AND NOT EXISTS (SELECT 1 FROM leases l "                                     \
      "WHERE l.message_id = m.id AND l.until > :now) ORDER BY m.due_at, m.id LIMIT :n") \
    _(LEASE_END, "DELETE FROM leases WHERE message_id = :id AND owner = :owner")    \
    _(LEASE_DROP, "DELETE FROM leases WHERE message_id = :id")                      \
    _(LEASES_DROP_SITE,                                                             \
      "DELETE FROM leases WHERE message_id IN (SELECT id FROM messages "            \
      "INDEXED BY messages_site_due WHERE site_id = :id AND status IN (0, 1))")     \
    /* When the first live lease ends: its message may be claimed again. */ \
    _(LEASES_FIRST_END, "SELECT min(until) FROM leases WHERE until > :now")         \
    _(CIRCUIT_GET, "SELECT name, " CIRCUIT_COLS " FROM sites WHERE id = :id")        \
    _(CIRCUIT_SET,                                                                  \
      "UPDATE sites SET circuit_state = :state, circuit_failures = :failures, "     \
      "circuit_until = :until, circuit_cooldown = :cooldown, circuit_reason = :reason " \
      "WHERE id = :id")                                                             \
    _(ATTEMPT_INSERT,                                                               \
      "INSERT OR ROLLBACK INTO attempts(message_id, site_id, number, started_at, duration_ms, " \
      "response_code, error, request_headers, response_headers, response_body, "    \
      "body_truncated) SELECT :mid, coalesce(:site, m.site_id), :number, :started, " \
      ":duration, :code, :error, :reqh, :resph, :body, :trunc FROM messages m "     \
      "WHERE m.id = :mid")                                                          \
    /* ATTEMPT_INSERT without its look-up of the message, for when the    \
     * outcome's UPDATE has just found it; same parameters, same order.  */ \
    _(ATTEMPT_ADD,                                                                  \
      "INSERT OR ROLLBACK INTO attempts(message_id, site_id, number, started_at, duration_ms, " \
      "response_code, error, request_headers, response_headers, response_body, "    \
      "body_truncated) VALUES (:mid, :site, :number, :started, :duration, :code, "  \
      ":error, :reqh, :resph, :body, :trunc)")                                      \
    _(OUTCOME_UPDATE,                                                               \
      "UPDATE OR ROLLBACK messages SET status = :status, attempts = attempts + 1, "             \
      "due_at = :due, response_code = :code, last_error = :error, "                 \
      "retry_after = :retry_after, updated_at = :now "                              \
      "WHERE id = :id AND status IN (0, 1)")                                        \
    _(RELEASE_LEASES, "DELETE FROM leases WHERE owner = :owner")                    \
    _(SITE_FIRST_DUE,                                                               \
      "SELECT m.due_at FROM messages m INDEXED BY messages_site_due "                \
      "WHERE m.site_id = :site AND m.status IN (0, 1) AND NOT EXISTS (SELECT 1 "    \
      "FROM leases l WHERE l.message_id = m.id AND l.until > :now) "                \
      "ORDER BY m.due_at LIMIT 1")                                                  \
    _(PENDING_COUNT,                                                                \
      "SELECT count(*) FROM sites s CROSS JOIN messages m INDEXED BY messages_site_due " \
      "ON m.site_id = s.id WHERE s.enabled AND m.status IN (0, 1)")

/* Counters (store_counters.c). */
#define STORE_STMT_COUNTERS(_)                                                      \
    _(COUNT_ADD, "UPDATE status_counts SET n = n + :d WHERE status = :status")     \
    _(SITE_PENDING_ADD, "UPDATE site_pending SET n = n + :d WHERE site_id = :site")  \
    _(STATUS_COUNTS, "SELECT status, n FROM status_counts")                         \
    _(SECOND_ADD,                                                                   \
      "INSERT INTO attempt_seconds(second, n) VALUES (:second, :n) "                \
      "ON CONFLICT(second) DO UPDATE SET n = n + excluded.n")                       \
    _(SECONDS_PURGE, "DELETE FROM attempt_seconds WHERE second < :before")          \
    _(HISTOGRAM,                                                                    \
      "SELECT second, n FROM attempt_seconds WHERE second >= :start AND second < :end")

/* Engines' heartbeats (store_engines.c). */
#define STORE_STMT_ENGINES(_)                                                       \
    _(ENGINE_BEAT,                                                                  \
      "INSERT INTO engines(owner, host, pid, role, started_at, seen_at, attempts, "  \
      "in_flight) VALUES (:owner, :host, :pid, :role, :started, :seen, :attempts, " \
      ":in_flight) ON CONFLICT(owner) DO UPDATE SET seen_at = excluded.seen_at, "   \
      "attempts = excluded.attempts, in_flight = excluded.in_flight")               \
    _(ENGINE_GONE, "DELETE FROM engines WHERE owner = :owner")                      \
    _(ENGINES_FORGET, "DELETE FROM engines WHERE seen_at < :before")                \
    _(ENGINES_ALIVE,                                                                \
      "SELECT owner, host, pid, role, started_at, seen_at, attempts, in_flight "    \
      "FROM engines WHERE seen_at >= :since ORDER BY started_at, owner")

/* The text a message is searched by (store_search.c), exactly as the
 * migration's delete trigger (store_schema.c, version 8) gives it back to
 * the contentless index: any other text would corrupt it. */
#define SEARCH_DOC                                                                  \
    "m.action || ' ' || coalesce(m.customer, '') || ' ' || substr(p.payload, 1, 65536)"

/* Search (store_search.c). */
#define STORE_STMT_SEARCH(_)                                                        \
    _(SEARCH_STATE,                                                                 \
      "SELECT watermark, (SELECT coalesce(max(id), 0) FROM messages) FROM search_state") \
    _(SEARCH_BATCH_END,                                                             \
      "SELECT max(id) FROM (SELECT id FROM messages WHERE id > :wm ORDER BY id LIMIT :n)") \
    _(SEARCH_INDEX,                                                                 \
      "INSERT INTO message_search(rowid, doc) SELECT m.id, " SEARCH_DOC             \
      " FROM messages m JOIN payloads p ON p.message_id = m.id"                     \
      " WHERE m.id > :wm AND m.id <= :hi")                                          \
    _(SEARCH_MARK, "UPDATE search_state SET watermark = :hi")                       \
    _(SEARCH_TAIL,                                                                  \
      "SELECT coalesce(min(id), 0) FROM (SELECT id FROM messages WHERE id > :wm"    \
      " ORDER BY id DESC LIMIT :tail)")                                             \
    _(SEARCH_GAP, "SELECT EXISTS (SELECT 1 FROM messages WHERE id > :wm AND id < :lo)") \
    _(SEARCH_DOCS,                                                                  \
      "SELECT " SEARCH_DOC " FROM messages m JOIN payloads p ON p.message_id = m.id" \
      " WHERE m.id > :wm AND m.id <= :hi")                                          \
    _(SEARCH_TERM_ADD, "INSERT OR IGNORE INTO search_terms(term) VALUES (:t)")      \
    _(SEARCH_TERMS,                                                                 \
      "SELECT term FROM search_terms WHERE term >= :lo AND term < :hi ORDER BY term" \
      " LIMIT :n")

#define STORE_STMT_LIST(_)                                                          \
    STORE_STMT_TX(_) STORE_STMT_SITES(_) STORE_STMT_MESSAGES(_) STORE_STMT_CLAIMS(_) \
    STORE_STMT_COUNTERS(_) STORE_STMT_ENGINES(_) STORE_STMT_SEARCH(_)

typedef enum stmt_id {
#define STORE_STMT_ENUM(id, sql) STMT_##id,
    STORE_STMT_LIST(STORE_STMT_ENUM)
#undef STORE_STMT_ENUM
    STMT_COUNT
} stmt_id;

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

/* Where the next claim of a site starts in its due order (due_at, id): past
 * what this connection claimed before, which holds live leases (see
 * store_claims.c).  since_ms: when the sweep started, from the head. */
/* Pending messages a site gained (or lost: n < 0) in the open write
 * transaction, for site_pending (store_counters.c). */
typedef struct site_delta {
    int64_t site_id, n;
} site_delta;

typedef struct claim_cursor {
    int64_t site_id, due_at, id, since_ms;
} claim_cursor;

/* Multi-row INSERTs of the hot path (multi_stmt, store_stmt.c): one
 * statement run per up to MULTI_ROWS rows instead of one per row.  Each
 * run of a statement costs SQLite a fixed ~7k instructions (its cursors,
 * the program's start and end) beside the work per row. */
#define MULTI_ROWS 16
typedef enum multi_id {
    MULTI_ATTEMPT_ADD,   /* ATTEMPT_ADD's columns, AP_COUNT parameters a row */
    MULTI_LEASE_TAKE,    /* LEASE_TAKE's: message_id, owner, until */
    MULTI_COUNT
} multi_id;

struct sq_store {
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
    bool search_fn;                   /* hd_search_match is registered (store_search.c) */
    int64_t search_budget;            /* store_set_search_budget; 0 = none */
    int64_t search_spent;             /* steps of the search query under way */
    uint64_t search_vm_steps;         /* VM steps of the search's statements, which are
                                         prepared per call (store_debug_vm_steps) */
    unsigned char rnd[4096];          /* pool of random bytes for webhook ids */
    size_t rnd_used;                  /* bytes of rnd already handed out */
    sqlite3_stmt *multi[MULTI_COUNT][MULTI_ROWS + 1]; /* multi_stmt's, by row count */
    site_delta *site_deltas;          /* site_pending_change's, until flushed */
    int nsite_deltas, site_deltas_cap;
    claim_cursor *cursors;            /* per site: where this connection's
                                         claims go on (store_claims.c) */
    int ncursors, cursors_cap;
};

/* ---- store_stmt.c: statements ---- */

extern const char *const stmt_sql[STMT_COUNT];
extern const char *const stmt_name[STMT_COUNT];

hd_status db_fail(sq_store *st, hd_error *err, const char *what);
/* Runs fixed SQL text (pragmas, the schema): no parameters, no rows. */
hd_status exec_sql(sq_store *st, const char *sql, hd_error *err);
sqlite3_stmt *stmt_prepare(sq_store *st, const char *sql, hd_error *err);
/* A cached statement, reset and with its bindings cleared. */
sqlite3_stmt *stmt_get(sq_store *st, stmt_id id, hd_error *err);
/* The multi-row INSERT `which` of `rows` rows (1..MULTI_ROWS), prepared on
 * first use and kept; parameters numbered row by row (?1.. of row 0, then
 * row 1's...). */
sqlite3_stmt *multi_stmt(sq_store *st, multi_id which, int rows, hd_error *err);
/* Bind helpers by parameter name; a name the statement lacks is ignored so
 * that the built page queries can share the binding code. */
void bind_i64(sqlite3_stmt *s, const char *name, int64_t v);
void bind_i64_or_null(sqlite3_stmt *s, const char *name, int64_t v);  /* 0 = NULL */
void bind_text(sqlite3_stmt *s, const char *name, const char *v);     /* NULL = NULL */
void bind_blob(sqlite3_stmt *s, const char *name, const void *v, size_t len); /* NULL = NULL */
char *col_text(sqlite3_stmt *s, int i);                               /* copy or NULL */
/* Runs a statement that returns no rows (or whose rows are not wanted). */
hd_status step_done(sq_store *st, sqlite3_stmt *s, const char *what, hd_error *err);
hd_status exec_cached(sq_store *st, stmt_id id, const char *what, hd_error *err);
/* One int64 from a one-row query; *found (may be NULL) says whether there was a row. */
/* Reads one row into *out with read (what the caller's row function
 * fills); *found false when there is none. */
typedef void (*row_reader)(sqlite3_stmt *q, void *item);
hd_status step_row(sq_store *st, sqlite3_stmt *q, row_reader read, void *out, bool *found,
                   const char *what, hd_error *err);
/* An array being filled by collect_rows: items of one size, doubling. */
typedef struct row_array {
    void *items;
    int count;
} row_array;
/* Appends every row to a (zeroed, then read); the caller frees what a
 * holds, on an error too. */
hd_status collect_rows(sq_store *st, sqlite3_stmt *q, row_reader read, size_t size, row_array *a,
                       const char *what, hd_error *err);
/* collect_rows into a list struct with `items` and `count` (message_list,
 * attempt_list, ...), whose item type gives the size. */
#define COLLECT_LIST(st, q, read, list, what, err)                                  \
    ({                                                                              \
        row_array a_ = { (list)->items, (list)->count };                            \
        hd_status r_ = collect_rows(st, q, read, sizeof *(list)->items, &a_, what, err); \
        (list)->items = a_.items;                                                   \
        (list)->count = a_.count;                                                   \
        r_;                                                                         \
    })
/* A whole list (emptied first; freed with LIST_FREE on an error) from the
 * cached statement id with one integer parameter. */
#define COLLECT_LIST_BY(st, id, param, value, read, list, LIST_FREE, what, err)    \
    ({                                                                              \
        (list)->items = NULL;                                                       \
        (list)->count = 0;                                                          \
        sqlite3_stmt *q_ = stmt_get(st, id, err);                                   \
        hd_status rr_ = HD_DB;                                                      \
        if (q_) {                                                                   \
            bind_i64(q_, param, value);                                             \
            rr_ = COLLECT_LIST(st, q_, read, list, what, err);                      \
            if (rr_ != HD_OK)                                                       \
                LIST_FREE(list);                                                    \
        }                                                                           \
        rr_;                                                                        \
    })
hd_status step_i64(sq_store *st, sqlite3_stmt *s, const char *what, int64_t *out, bool *found,
                   hd_error *err);

/* ---- store_stmt.c: write transactions ---- */

/* How a write function runs: its own transaction, a savepoint in the
 * caller's transaction, or simply inside the caller's transaction. */
typedef enum write_mode {
    WRITE_OWN_TX,
    WRITE_SAVEPOINT,
    WRITE_JOINED
} write_mode;

/* multi: the function runs several statements, so joining the caller's
 * transaction needs a savepoint to stay all-or-nothing. */
hd_status write_begin(sq_store *st, bool multi, write_mode *mode, hd_error *err);
/* Ends what write_begin started: commits when rc is HD_OK, else undoes. */
hd_status write_end(sq_store *st, write_mode mode, hd_status rc, hd_error *err);
/* write_begin, then the cached statement id in *q: a write that starts
 * with that statement.  On failure the write is ended and *q is NULL. */
hd_status write_stmt(sq_store *st, stmt_id id, bool multi, write_mode *mode, sqlite3_stmt **q,
                     hd_error *err);
/* Forgets what the last write transaction learnt (see write_begin). */
void write_memory_reset(sq_store *st);

/* ---- store_schema.c ---- */

/* Takes the database to the current schema version. */
hd_status schema_migrate(sq_store *st, hd_error *err);

/* store_alloc.c: SQLite's allocator (small blocks from per-thread lists);
 * before SQLite is first used, once per process. */
void sq_alloc_install(void);

/* Forgets every site's claim cursor (store_claims.c; the next claims start
 * from the head): after a rollback, or leases given back.  Here, not in
 * store_claims.c, because write transactions (store_stmt.c) end sweeps too
 * and store_claims.c calls them: no circle between the two. */
static inline void claim_cursors_reset(sq_store *st)
{
    st->ncursors = 0;
}
hd_status schema_create_at(const char *path, int version, hd_error *err);
/* Fails unless the database is at the current version (read-only opens). */
hd_status schema_check(sq_store *st, hd_error *err);

/* ---- store_sites.c ---- */

/* Reads CIRCUIT_COLS starting at column k. */
void row_circuit(sqlite3_stmt *q, int k, circuit *c);
/* Binds :id and the circuit's columns for CIRCUIT_SET. */
void bind_circuit(sqlite3_stmt *q, int64_t site_id, const circuit *c);

/* ---- store_messages.c ---- */

/* Registers hd_webhook_id() with the connection (the bulk resend uses it). */
hd_status webhook_id_register(sq_store *st, hd_error *err);
/* Reads the MSG_COLS columns (or the claim's RETURNING list, same order). */
void row_message(sqlite3_stmt *s, message *m);
/* Steps s to the end, appending every row to out. */
hd_status collect_messages(sq_store *st, sqlite3_stmt *s, message_list *out, hd_error *err);
/* The bulk resend's INSERT ... SELECT for a filter shape (store_debug.c explains it). */
void resend_failed_sql(hd_buf *b, int shape);

/* ---- store_filters.c: filters as SQL ---- */

/* popcount_mask, filter_mask, page_mask: store_statuses.h */
/* Which filters are set: selects the cached page and count statements. */
int filter_shape(const msg_filter *f);
/* The WHERE conditions of a filter shape, as " AND ..." fragments. */
void filter_sql(hd_buf *b, int shape);
void filter_bind(sqlite3_stmt *q, const msg_filter *f);

/* ---- store_pages.c ---- */

void page_sql(hd_buf *b, int shape, page_dir dir);
void count_sql(hd_buf *b, int shape);

/* ---- store_counters.c ---- */

/* n messages went from one status to another (an UPDATE of messages.status;
 * inserts and deletes are counted by triggers); written by status_counts_flush. */
void status_change(sq_store *st, msg_status from, msg_status to, int64_t n);
/* n more (or fewer) pending messages for a site by such an UPDATE; written
 * by status_counts_flush too. */
void site_pending_change(sq_store *st, int64_t site_id, int64_t n);
/* Writes the changes counted so far into status_counts (same transaction). */
hd_status status_counts_flush(sq_store *st, hd_error *err);
/* Adds the outcomes' attempts to the per-second counters. */
hd_status seconds_record(sq_store *st, const attempt_outcome *o, int n, hd_error *err);
/* Deletes per-second counters older than the sparkline can show. */
hd_status seconds_purge(sq_store *st, hd_error *err);

#endif
