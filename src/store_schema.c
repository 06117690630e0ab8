/* store_schema.c - the SQLite store's schema: PRAGMA user_version and an
 * ordered list of migrations, each run in its own transaction.
 *
 * The indexes the current schema has (after migration 3):
 *   messages_status       messages(status, id)
 *   messages_site_status  messages(site_id, status, id)
 *   messages_site_due     messages(site_id, due_at) WHERE status IN (0, 1)
 *   messages_customer     messages(customer, id)
 *   messages_action       messages(action, id)
 *   messages_created      messages(created_at)
 *   messages_resend_of    messages(resend_of) WHERE resend_of IS NOT NULL
 *   attempts_message      attempts(message_id, number)
 *   attempts_site         attempts(site_id, id)
 * plus sites(name) UNIQUE and the primary keys; none on webhook_id.
 * leases (migration 6) holds the engines' claims: a few hundred rows.
 * message_search (migration 8), an FTS5 index of words, and search_terms,
 * its words, are filled in the background (store_search.c).
 * status_counts is kept exact by triggers (inserts, deletes) and by the
 * store (status changes; store_counters.c); site_pending (migration 7), the
 * pending messages per site, by triggers alone.
 */
#include "store_internal.h"

#include <stdio.h>

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

    /* 4: payloads out of the message row.  SQLite rewrites a whole row on
     * every UPDATE, so each change of a message's state (its claim, each
     * outcome, a cancel) copied its payload through the page cache and the
     * WAL: a 1 MiB payload was written three times per delivery, and the
     * claim's dirty pages grew the engine's page cache past its limit (the
     * heap of an engine at concurrency 4 reached 65 MiB for 1 MB payloads).
     * The payload is written once, read by a primary-key lookup, and goes
     * with its message (ON DELETE CASCADE, as attempts). */
    "CREATE TABLE payloads ("
    "  message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,"
    "  payload TEXT NOT NULL"
    ");"
    "INSERT INTO payloads(message_id, payload) SELECT id, payload FROM messages;"
    "ALTER TABLE messages DROP COLUMN payload;",

    /* 5: the engines' heartbeats: every engine (a console's, a serve) keeps
     * its row fresh, so any process can tell how many deliver on this
     * database, from which hosts.  A few rows; no index needed. */
    "CREATE TABLE engines ("
    "  owner TEXT PRIMARY KEY,"     /* the lease owner: host:pid:random */
    "  host TEXT NOT NULL,"
    "  pid INTEGER NOT NULL,"
    "  role TEXT NOT NULL,"         /* serve, console */
    "  started_at INTEGER NOT NULL,"
    "  seen_at INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  in_flight INTEGER NOT NULL DEFAULT 0"
    ");",

    /* 6: leases out of the message row (store_claims.c says why).  A
     * message leased at the upgrade keeps its lease, and its due_at (the
     * lease's end under the old scheme).  No foreign key: a check per
     * claim for rows that every path ending a pending message deletes
     * (outcome, cancel, site deleted).  messages.lease_owner stays, unused
     * (dropping a column rewrites the whole table). */
    "CREATE TABLE leases ("
    "  message_id INTEGER PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  until INTEGER NOT NULL"
    ");"
    "INSERT INTO leases(message_id, owner, until) SELECT id, lease_owner, due_at FROM messages "
    "  WHERE lease_owner IS NOT NULL AND status IN (0, 1);"
    "UPDATE messages SET lease_owner = NULL WHERE lease_owner IS NOT NULL;",

    /* 7: pending messages per site (the Sites screen, `sites list`), kept
     * exact in the transaction that changes them, so that a Sites refresh
     * reads one row per site instead of counting every pending message
     * (1M messages, 200,000 pending: 44-59 ms a refresh in a console, on
     * every commit of any process).  Inserts and deletes of pending
     * messages are counted by triggers (the WHEN clauses: nothing runs for
     * others); the three UPDATEs that change a status (outcome, cancel,
     * site deleted) in C, one UPDATE per site and transaction
     * (site_pending_change, store_counters.c): a trigger on the outcome's
     * UPDATE cost a statement per delivery, +6,000 instructions (+7%).
     * Every site has its row from its creation (sites_pending_row), so the
     * bodies are plain UPDATEs of a column with no constraint: nothing in
     * them can fail, and SQLite then needs no statement journal for an
     * import's INSERT (an upsert or a NOT NULL made it keep one: +40%
     * instructions).  A deleted site's row stays, at 0. */
    "CREATE TABLE site_pending (site_id INTEGER PRIMARY KEY, n INTEGER);"
    "INSERT INTO site_pending(site_id, n) SELECT id, 0 FROM sites;"
    "INSERT OR REPLACE INTO site_pending(site_id, n) SELECT site_id, count(*) FROM messages"
    "  INDEXED BY messages_site_due WHERE status IN (0, 1) GROUP BY site_id;"
    "CREATE TRIGGER sites_pending_row AFTER INSERT ON sites BEGIN"
    "  INSERT OR REPLACE INTO site_pending(site_id, n) VALUES (NEW.id, 0);"
    " END;"
    "CREATE TRIGGER messages_pending_insert AFTER INSERT ON messages"
    "  WHEN NEW.status IN (0, 1) BEGIN"
    "  UPDATE site_pending SET n = n + 1 WHERE site_id = NEW.site_id;"
    " END;"
    "CREATE TRIGGER messages_pending_delete AFTER DELETE ON messages"
    "  WHEN OLD.status IN (0, 1) BEGIN"
    "  UPDATE site_pending SET n = n - 1 WHERE site_id = OLD.site_id;"
    " END;",

    /* 8: search (issue #11; hd_store.h "search", store_search.c).  The
     * words of every message's action, customer and payload start (65,536
     * characters: STORE_SEARCH_PAYLOAD_CHARS), in an FTS5 index of words
     * (unicode61; detail=none: no positions, a third of the size, and the
     * search needs none; columnsize=0: no per-row sizes, which only
     * ranking reads).  Contentless: the text is in messages and
     * payloads already.  The index is filled by store_search_index_step,
     * never here nor on insert: this migration is instant on any database
     * and adding a message costs what it did.  search_state.watermark is
     * the highest message id indexed.
     * A contentless index forgets a row only when told its words again, so
     * the delete trigger hands them over from the row being deleted (its
     * payload is still there BEFORE the delete; only the purge deletes
     * messages).  A second trigger lowers the watermark when the newest
     * rows go: SQLite hands out max(id) + 1 next, which must not count as
     * indexed. */
    "CREATE VIRTUAL TABLE message_search USING fts5(doc, content='', detail=none, columnsize=0,"
    "  tokenize='unicode61 remove_diacritics 0');"
    "CREATE TABLE search_state (id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  watermark INTEGER NOT NULL);"
    /* Every word indexed (up to 255 bytes), so that a search for a word's
     * start asks FTS5 for the few whole words it begins: FTS5 answers a
     * prefix query ("order"*) by merging every posting of every word with
     * that prefix (0.6 s at 1M messages for "order"), a word ("order") by
     * seeking in its postings from the cursor on (milliseconds). */
    "CREATE TABLE search_terms (term TEXT PRIMARY KEY) WITHOUT ROWID;"
    "INSERT INTO search_state(id, watermark) VALUES (1, 0);"
    "CREATE TRIGGER messages_search_forget BEFORE DELETE ON messages"
    "  WHEN OLD.id <= (SELECT watermark FROM search_state) BEGIN"
    "  INSERT INTO message_search(message_search, rowid, doc)"
    "   SELECT 'delete', OLD.id, OLD.action || ' ' || coalesce(OLD.customer, '') || ' ' ||"
    "    substr(p.payload, 1, 65536) FROM payloads p WHERE p.message_id = OLD.id;"
    " END;"
    "CREATE TRIGGER messages_search_watermark AFTER DELETE ON messages"
    "  WHEN OLD.id >= (SELECT coalesce(max(id), 0) FROM messages) BEGIN"
    "  UPDATE search_state SET watermark = (SELECT coalesce(max(id), 0) FROM messages)"
    "   WHERE watermark > (SELECT coalesce(max(id), 0) FROM messages);"
    " END;",
};

#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* Tests only (store_debug.h): a database file at an older schema version,
 * made by that version's migrations, to test the later ones on. */
hd_status schema_create_at(const char *path, int version, hd_error *err)
{
    if (version < 1 || version > SCHEMA_VERSION)
        return hd_error_set(err, HD_INVALID, "schema version %d: no such version", version);
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        hd_status rc = hd_error_set(err, HD_DB, "database %s: %s", path,
                                    db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return rc;
    }
    char *msg = NULL;
    int rc = SQLITE_OK;
    for (int v = 0; v < version && rc == SQLITE_OK; v++)
        rc = sqlite3_exec(db, migrations[v], NULL, NULL, &msg);
    if (rc == SQLITE_OK) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version);
        rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    }
    hd_status r = rc == SQLITE_OK ? HD_OK
                                  : hd_error_set(err, HD_DB, "database %s: schema %d: %s", path,
                                                 version, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    sqlite3_close(db);
    return r;
}

static hd_status read_user_version(sq_store *st, int *version, hd_error *err)
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

hd_status schema_migrate(sq_store *st, hd_error *err)
{
    int version;
    hd_status rc = read_user_version(st, &version, err);
    if (rc != HD_OK)
        return rc;
    while (version < SCHEMA_VERSION) {
        if ((rc = exec_sql(st, "BEGIN IMMEDIATE", err)) != HD_OK)
            return rc;
        /* Another process may have migrated while we waited for the lock. */
        if ((rc = read_user_version(st, &version, err)) != HD_OK) {
            exec_sql(st, "ROLLBACK", NULL);
            return rc;
        }
        if (version >= SCHEMA_VERSION) {
            exec_sql(st, "ROLLBACK", NULL);
            break;
        }
        char *msg = NULL;
        if (sqlite3_exec(st->db, migrations[version], NULL, NULL, &msg) != SQLITE_OK) {
            rc = hd_error_set(err, HD_DB, "database %s: migration to schema version %d: %s",
                              st->path, version + 1, msg ? msg : sqlite3_errmsg(st->db));
            sqlite3_free(msg);
            exec_sql(st, "ROLLBACK", NULL);
            return rc;
        }
        /* PRAGMA takes no parameters; the number is ours, not data. */
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version + 1);
        if ((rc = exec_sql(st, sql, err)) != HD_OK ||
            (rc = exec_sql(st, "COMMIT", err)) != HD_OK) {
            exec_sql(st, "ROLLBACK", NULL);
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

hd_status schema_check(sq_store *st, hd_error *err)
{
    int version;
    hd_status rc = read_user_version(st, &version, err);
    if (rc != HD_OK)
        return rc;
    if (version != SCHEMA_VERSION)
        return hd_error_set(err, HD_DB,
                            "database %s: schema version %d, expected %d (open it read-write "
                            "once to migrate)",
                            st->path, version, SCHEMA_VERSION);
    return HD_OK;
}

int sq_schema_version(sq_store *st)
{
    int v = 0;
    if (read_user_version(st, &v, NULL) != HD_OK)
        return -1;
    return v;
}
