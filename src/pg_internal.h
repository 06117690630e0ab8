/* pg_internal.h - what the files of the PostgreSQL store share; nothing
 * outside src/pg_*.c includes it.
 *
 * The PostgreSQL backend implements hd_store.h (see store_backend.h) with
 * libpq, split by job like the SQLite one:
 *   pg_db.c        open, close
 *   pg_stmt.c      parameters, errors, reconnecting, transactions, circuit
 *                  events, the change counter (LISTEN/NOTIFY)
 *   pg_schema.c    the schema and its migrations
 *   pg_sites.c     trusted sites and their circuits
 *   pg_messages.c  adding and reading messages, operator actions, purge
 *   pg_pages.c     keyset pages and counts for the screens and the CLI
 *   pg_filters.c   a message filter as SQL conditions (pages, counts, bulk resend)
 *   pg_claims.c    claims (FOR UPDATE SKIP LOCKED), leases, outcomes, next due
 *   pg_counters.c  per-status counters, per-second attempt counters
 *   pg_engines.c   the engines' heartbeats
 * Every statement is sent with PQexecParams: data only ever travels as
 * parameters ($1, $2...), never inside SQL text.  Values go and come as
 * text (int64 as decimal), which keeps the code free of byte-order work.
 *
 * Semantics are those of the SQLite store (hd_store.h); where PostgreSQL
 * needs something else (several writers at once, several hosts), the file
 * says why.
 */
#ifndef HD_PG_INTERNAL_H
#define HD_PG_INTERNAL_H

#include <libpq-fe.h>

#include "hd_util.h"
#include "store_backend.h"

#define PG_DEFAULT_SITE_TIMEOUT_MS 10000
/* The channel every committed change is announced on (pg_db.c). */
#define PG_CHANNEL "hookdesk"
#define PG_MAX_PARAMS 32

struct pg_store {
    PGconn *conn;
    char *conninfo;                   /* as given: for reconnecting (never printed) */
    char *shown;                      /* the same with any password masked: for messages */
    bool read_only;
    bool in_caller_tx;                /* store_tx_begin is open */
    int64_t default_timeout_ms;       /* effective timeout of sites with timeout_ms 0 */
    uint64_t changes;                 /* store_change_counter: own commits + notifications */
    char mark_id[33];                 /* this connection's row in commit_marks (pg_stmt.c) */
    int64_t mark_seq;                 /* its write transactions so far */
    breaker_policy breaker;           /* store_set_breaker; failures 0 = off */
    circuit_event *tx_events;         /* circuit changes of the open transaction */
    int ntx_events;
    circuit_event *events;            /* ... of committed ones, until taken */
    int nevents;
    /* The search indexer's proof that no transaction can still commit a
     * message id at or below an id (pg_search.c). */
    int64_t search_final;             /* every id up to it is committed or never will be */
    int64_t search_pending_id;        /* an id handed out (0 = none) that becomes final ... */
    int64_t search_pending_xmax;      /* ... once no transaction older than this xid runs */
};

/* Parameters of one statement, as text.  pp_* append one ($1, $2, ...). */
typedef struct pg_params {
    int n;
    const char *values[PG_MAX_PARAMS];
    char num[PG_MAX_PARAMS][24];      /* storage of numbers formatted as text */
} pg_params;

void pp_i64(pg_params *p, int64_t v);
void pp_str(pg_params *p, const char *s);    /* NULL -> SQL NULL */
void pp_bool(pg_params *p, bool v);
/* A number that means "none" (0) as SQL NULL. */
void pp_i64_or_null(pg_params *p, int64_t v);

/* Runs one statement.  Returns the result (PQclear it) when it succeeded
 * (rows or a command), NULL with *err set ("what: <server's message>")
 * otherwise.  A broken connection is re-established once, outside a
 * transaction, before it gives up. */
PGresult *pg_run(pg_store *st, const char *sql, const pg_params *p, const char *what,
                 hd_error *err);
/* The status to return after pg_run gave NULL (what it set in err). */
hd_status pg_run_failed(const hd_error *err);
/* The same for a statement that returns no rows the caller wants. */
hd_status pg_cmd(pg_store *st, const char *sql, const pg_params *p, const char *what,
                 hd_error *err);
/* Rows changed by a command result. */
int64_t pg_affected(PGresult *r);

/* Field readers (row, column); NULL reads as 0 / NULL / false. */
int64_t pg_i64(const PGresult *r, int row, int col);
bool pg_null(const PGresult *r, int row, int col);
char *pg_strdup(const PGresult *r, int row, int col); /* NULL when SQL NULL */
/* A bytea column (text format "\x..." hex): decoded, *len bytes + NUL. */
char *pg_bytes(const PGresult *r, int row, int col, size_t *len);

/* Sets *err from a failed result (or the connection's message when r is
 * NULL): HD_EXISTS for a unique violation, else HD_DB naming the database. */
hd_status pg_fail(pg_store *st, const PGresult *r, const char *what, hd_error *err);

/* Write transactions: a write function joins the caller's transaction
 * (store_tx_begin) or runs in its own.  pg_write_begin starts one when
 * needed; pg_write_end commits it when rc is HD_OK, else rolls back (a
 * joined write that fails rolls back to its savepoint). */
typedef enum pg_write_mode { PG_OWN_TX, PG_JOINED } pg_write_mode;
hd_status pg_write_begin(pg_store *st, pg_write_mode *mode, hd_error *err);
hd_status pg_write_end(pg_store *st, pg_write_mode mode, hd_status rc, hd_error *err);

/* pg_schema.c: creates or migrates the schema (under an advisory lock, so
 * that several processes starting at once migrate once). */
hd_status pg_schema_migrate(pg_store *st, hd_error *err);
int pg_schema_current(void);

/* The first line of a server message, without "ERROR:  ". */
void pg_first_line(const char *msg, char *out, size_t size);
/* Per-session settings and LISTEN (after connecting and reconnecting). */
hd_status pg_session_setup(pg_store *st, int busy_timeout_ms, hd_error *err);

/* The circuit events of the open transaction (tx_events; pg_claims.c adds
 * them) become the committed ones, or are dropped with a rollback. */
void pg_events_commit(pg_store *st);
void pg_events_drop(pg_store *st);

/* ---- pg_messages.c: message rows ---- */

/* The message columns every message query returns, in the order
 * pg_row_message reads them (SQLite's MSG_COLS); $1 is now, for in_flight. */
#define PG_MSG_COLS                                                                \
    "m.id, m.webhook_id, m.site_id, s.name, m.action, m.customer, m.path, p.payload, " \
    "m.status, m.attempts, m.due_at, "                                              \
    "(m.lease_owner IS NOT NULL AND m.due_at > $1), "                              \
    "m.response_code, m.last_error, m.created_at, m.updated_at, m.resend_of, "       \
    "m.retry_after"
#define PG_MSG_FROM                                                                \
    " FROM messages m LEFT JOIN sites s ON s.id = m.site_id"                       \
    " LEFT JOIN payloads p ON p.message_id = m.id"

/* Reads row `row` of PG_MSG_COLS (or a list in the same order) into *m. */
void pg_row_message(const PGresult *r, int row, message *m);
/* Appends every row of r (PG_MSG_COLS) to out. */
void pg_collect_messages(const PGresult *r, message_list *out);

/* ---- pg_filters.c: a message filter as SQL ---- */

/* What of a filter pg_filter_sql leaves out: a page walks its statuses or
 * its action names one by one (pg_pages.c) instead. */
enum {
    PG_FILTER_ALL = 0,
    PG_FILTER_NO_STATUS = 1,          /* no status condition */
    PG_FILTER_NO_ACTION_TEXT = 2      /* no action substring condition */
};
/* Appends f's conditions as " AND ..." fragments on messages m, their
 * values as the next parameters of p: the SQL text depends only on which
 * filters are set, never on their values. */
void pg_filter_sql(hd_buf *b, pg_params *p, const msg_filter *f, unsigned leave_out);
/* The next parameter of p, and its number ($n) for the SQL text. */
int pg_param_i64(pg_params *p, int64_t v);
int pg_param_str(pg_params *p, const char *s);
/* An array parameter (text[] or bigint[]) being built: its literal, with
 * every element quoted, so any text travels intact. */
typedef struct pg_array_lit {
    hd_buf lit;                       /* "{"a","b"" ... until pg_param_array closes it */
    int n;                            /* elements so far */
} pg_array_lit;
void pg_array_str(pg_array_lit *a, const char *s);
void pg_array_i64(pg_array_lit *a, int64_t v);
/* Closes a's literal and makes it the next parameter of p; a must live
 * until the statement has run (pg_array_free after). */
int pg_param_array(pg_params *p, pg_array_lit *a);
void pg_array_free(pg_array_lit *a);

#endif
