/* pg_messages.c - messages in the PostgreSQL store: adding and reading
 * messages and their attempts, the operator's actions (resend, resend
 * failed, send now, cancel) and purge.  Pages and counts are pg_pages.c's.
 *
 * The semantics are the SQLite store's (store_messages.c), and so are the
 * webhook ids and the operator's rules: shared C (store_webhook_id.c,
 * store_rules.c).  What several writers at once (on several hosts) change:
 * - Adding a message is one statement (site check, action name, message,
 *   payload) that takes a key-share lock on its site row: a site being
 *   deleted meanwhile makes it wait, then refuse ("site #N not found").
 * - Send now and cancel lock the message row (FOR UPDATE) in the statement
 *   that changes it: an engine's claim (FOR UPDATE SKIP LOCKED) passes it
 *   by meanwhile, and one that got it first is seen as in flight.
 * - The bulk resend runs in one transaction under an advisory lock: a
 *   second operator's resend waits for the first to commit, then sees its
 *   resends (each statement reads what was committed before it began) and
 *   resends nothing twice.  The new messages' webhook ids are made here, in
 *   C, and passed as an array: PostgreSQL runs no C of ours.
 * - Purge skips rows another transaction holds (SKIP LOCKED) rather than
 *   wait for them; the next purge takes them.
 * Status counters are kept by the schema's triggers (pg_schema.c): no
 * function here counts.
 */
#include "pg_internal.h"
#include "store_rules.h"
#include "store_webhook_id.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Messages a bulk resend statement takes at a time. */
#define RESEND_CHUNK 1000
/* attempt_seconds rows the purge keeps (seconds): the sparkline shows 5
 * minutes, as in the SQLite store (store_counters.c). */
#define ATTEMPT_SECONDS_KEPT 3600
/* The advisory lock bulk resends take ("resend" in ASCII, as a number). */
#define RESEND_LOCK "125780053290596"

/* A write that is one statement, atomic on its own (adding a message, send
 * now, cancel): inside the caller's transaction it runs as is, with no
 * savepoint - a bulk import or a batch of cancels pays one round trip each.
 * What such a write refuses (no such site or message, not pending) it
 * refuses before writing anything, and the caller's transaction goes on; a
 * statement that fails (the server's error) aborts the caller's
 * transaction, whose commit then fails - as SQLite's INSERT OR ROLLBACK
 * undoes the caller's whole transaction.  Alone, it runs in a transaction
 * of its own (pg_write_begin: the commit carries the NOTIFY). */
static hd_status one_statement_begin(pg_store *st, bool *own, hd_error *err)
{
    *own = !st->in_caller_tx;
    if (!*own)
        return HD_OK;
    pg_write_mode mode;
    return pg_write_begin(st, &mode, err);
}

static hd_status one_statement_end(pg_store *st, bool own, hd_status rc, hd_error *err)
{
    return own ? pg_write_end(st, PG_OWN_TX, rc, err) : rc;
}

/* ------------------------------------------------------------------------ */
/* Rows to structs                                                          */

void pg_row_message(const PGresult *r, int row, message *m)
{
    memset(m, 0, sizeof *m);
    m->id = pg_i64(r, row, 0);
    snprintf(m->webhook_id, sizeof m->webhook_id, "%s", PQgetvalue(r, row, 1));
    m->site_id = pg_i64(r, row, 2);
    m->site_name = pg_strdup(r, row, 3);
    m->action = pg_strdup(r, row, 4);
    m->customer = pg_strdup(r, row, 5);
    m->path = pg_strdup(r, row, 6);
    m->payload = pg_strdup(r, row, 7);
    int64_t status = pg_i64(r, row, 8);
    m->status = status >= 0 && status < MSG_STATUS_COUNT ? (msg_status)status : MSG_FAILED;
    m->attempts = (int)pg_i64(r, row, 9);
    m->due_at = pg_i64(r, row, 10);
    m->in_flight = pg_i64(r, row, 11) != 0;
    m->response_code = (int)pg_i64(r, row, 12);
    m->last_error = pg_strdup(r, row, 13);
    m->created_at = pg_i64(r, row, 14);
    m->updated_at = pg_i64(r, row, 15);
    m->resend_of = pg_i64(r, row, 16);
    m->retry_after_ms = pg_i64(r, row, 17);
}

void pg_collect_messages(const PGresult *r, message_list *out)
{
    int n = PQntuples(r);
    if (n == 0)
        return;
    out->items = hd_xrealloc(out->items, (size_t)(out->count + n) * sizeof *out->items);
    for (int i = 0; i < n; i++)
        pg_row_message(r, i, &out->items[out->count++]);
}

#define ATTEMPT_COLS                                                               \
    "id, message_id, site_id, number, started_at, duration_ms, response_code, "    \
    "error, request_headers, response_headers, response_body, body_truncated"

static void row_attempt(const PGresult *r, int row, attempt *a)
{
    memset(a, 0, sizeof *a);
    a->id = pg_i64(r, row, 0);
    a->message_id = pg_i64(r, row, 1);
    a->site_id = pg_i64(r, row, 2);
    a->number = (int)pg_i64(r, row, 3);
    a->started_at = pg_i64(r, row, 4);
    a->duration_ms = pg_i64(r, row, 5);
    a->response_code = (int)pg_i64(r, row, 6);
    a->error = pg_strdup(r, row, 7);
    a->request_headers = pg_strdup(r, row, 8);
    a->response_headers = pg_strdup(r, row, 9);
    /* NUL-terminated too (pg_bytes), so text bodies can be used as strings. */
    a->response_body = pg_bytes(r, row, 10, &a->response_body_len);
    a->body_truncated = pg_i64(r, row, 11) != 0;
}

/* ------------------------------------------------------------------------ */
/* Adding and reading                                                       */

/* One statement: the site must exist (and stays while this transaction
 * lasts: FOR KEY SHARE), its action name goes into the actions table (the
 * action search reads it), then the message and its payload (a table of
 * its own: state changes rewrite the message row, never the payload).  No
 * row back = no such site; nothing was written then. */
static const char message_insert_sql[] =
    "WITH s AS (SELECT id FROM sites WHERE id = $2 FOR KEY SHARE),"
    " a AS (INSERT INTO actions(name) SELECT $3::text FROM s ON CONFLICT DO NOTHING),"
    " m AS (INSERT INTO messages(webhook_id, site_id, action, customer, path, status, attempts,"
    "  due_at, created_at, updated_at, resend_of)"
    "  SELECT $1, s.id, $3::text, $4, $5, 0, 0, $6, $6, $6, $7 FROM s RETURNING id)"
    " INSERT INTO payloads(message_id, payload) SELECT id, $8 FROM m RETURNING message_id";

static hd_status message_check(const new_message *m, hd_error *err)
{
    if (!m->action || !*m->action)
        return hd_error_set(err, HD_INVALID, "action: must not be empty");
    if (!m->payload)
        return hd_error_set(err, HD_INVALID, "payload: missing");
    if (m->path && m->path[0] != '/')
        return hd_error_set(err, HD_INVALID, "path: must start with '/' (got '%s')", m->path);
    return HD_OK;
}

static hd_status message_insert(pg_store *st, const new_message *m, int64_t *id_out,
                                 hd_error *err)
{
    hd_status rc = message_check(m, err);
    if (rc != HD_OK)
        return rc;
    /* The id's time is the message's created_at: one clock reading. */
    int64_t now = hd_now_ms();
    unsigned char rnd[WEBHOOK_ID_RANDOM];
    hd_random_bytes(rnd, sizeof rnd);
    char wid[40];
    webhook_id_format(now, rnd, wid);
    pg_params p = { 0 };
    pp_str(&p, wid);
    pp_i64(&p, m->site_id);
    pp_str(&p, m->action);
    pp_str(&p, m->customer);
    pp_str(&p, m->path);
    pp_i64(&p, now);
    pp_i64_or_null(&p, m->resend_of);
    pp_str(&p, m->payload);
    PGresult *r = pg_run(st, message_insert_sql, &p, "adding a message", err);
    if (!r)
        return pg_run_failed(err);
    if (PQntuples(r) == 0)
        rc = hd_error_set(err, HD_NOT_FOUND, "site #%lld not found", (long long)m->site_id);
    else if (id_out)
        *id_out = pg_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

hd_status pg_message_add(pg_store *st, const new_message *m, int64_t *id_out, hd_error *err)
{
    bool own;
    hd_status rc = one_statement_begin(st, &own, err);
    if (rc != HD_OK)
        return rc;
    rc = message_insert(st, m, id_out, err);
    return one_statement_end(st, own, rc, err);
}

static hd_status message_fetch(pg_store *st, int64_t id, message *out, bool *found,
                               hd_error *err)
{
    *found = false;
    pg_params p = { 0 };
    pp_i64(&p, hd_now_ms());
    pp_i64(&p, id);
    PGresult *r = pg_run(st, "SELECT " PG_MSG_COLS PG_MSG_FROM " WHERE m.id = $2", &p,
                         "reading a message", err);
    if (!r)
        return pg_run_failed(err);
    *found = PQntuples(r) > 0;
    if (*found)
        pg_row_message(r, 0, out);
    PQclear(r);
    return HD_OK;
}

hd_status pg_message_get(pg_store *st, int64_t id, message *out, hd_error *err)
{
    bool found;
    hd_status rc = message_fetch(st, id, out, &found, err);
    if (rc == HD_OK && !found)
        rc = message_not_found(err, id);
    return rc;
}

/* A seek on messages_created: the time inside the id is the message's
 * created_at (store_webhook_id.h). */
hd_status pg_message_find_webhook_id(pg_store *st, const char *wid, int64_t *id, hd_error *err)
{
    int64_t t = 0;
    if (!webhook_id_time(wid, &t))
        return hd_error_set(err, HD_INVALID, WEBHOOK_ID_INVALID_FMT, wid);
    pg_params p = { 0 };
    pp_i64(&p, t - WEBHOOK_TIME_SLACK_MS);
    pp_i64(&p, t + WEBHOOK_TIME_SLACK_MS);
    pp_str(&p, wid);
    PGresult *r = pg_run(st,
                         "SELECT id FROM messages WHERE created_at BETWEEN $1 AND $2"
                         " AND webhook_id = $3 LIMIT 1",
                         &p, "looking up a webhook id", err);
    if (!r)
        return pg_run_failed(err);
    hd_status rc = HD_OK;
    if (PQntuples(r) == 0)
        rc = hd_error_set(err, HD_NOT_FOUND, "no message has webhook id %s", wid);
    else
        *id = pg_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

hd_status pg_attempts_list(pg_store *st, int64_t message_id, attempt_list *out, hd_error *err)
{
    out->items = NULL;
    out->count = 0;
    pg_params p = { 0 };
    pp_i64(&p, message_id);
    PGresult *r = pg_run(st,
                         "SELECT " ATTEMPT_COLS " FROM attempts WHERE message_id = $1"
                         " ORDER BY number, id",
                         &p, "reading attempts", err);
    if (!r)
        return pg_run_failed(err);
    int n = PQntuples(r);
    if (n > 0)
        out->items = hd_xcalloc((size_t)n, sizeof *out->items);
    for (int i = 0; i < n; i++)
        row_attempt(r, i, &out->items[out->count++]);
    PQclear(r);
    return HD_OK;
}

/* ------------------------------------------------------------------------ */
/* Resend                                                                   */

hd_status pg_message_resend(pg_store *st, int64_t id, uint64_t max_payload, int64_t *new_id,
                            hd_error *err)
{
    pg_write_mode mode;
    hd_status rc = pg_write_begin(st, &mode, err);
    if (rc != HD_OK)
        return rc;
    message m;
    bool found = false;
    rc = message_fetch(st, id, &m, &found, err);
    if (rc == HD_OK && !found)
        rc = message_not_found(err, id);
    if (rc == HD_OK && !resend_payload_fits(m.payload, max_payload)) {
        rc = resend_refuse_payload(err, id, strlen(m.payload), max_payload);
    } else if (rc == HD_OK) {
        new_message nm = {
            .site_id = m.site_id, .action = m.action, .customer = m.customer,
            .path = m.path, .payload = m.payload, .resend_of = m.id,
        };
        rc = message_insert(st, &nm, new_id, err);
        if (rc == HD_NOT_FOUND)   /* the site */
            resend_refuse_site_gone(err, id);
    }
    if (found)
        message_free(&m);
    return pg_write_end(st, mode, rc, err);
}

/* One chunk of the bulk resend: up to RESEND_CHUNK Failed messages of ff
 * above $2 (up to $3, the last id when the resend began) whose payload fits
 * $5, in id order, each paired with a webhook id of $6 (made for created_at
 * $1); the new messages, then their payloads copied from the originals.
 * Returns how many were resent and the last original taken. */
static const char resend_chunk_head[] =
    "WITH c AS (SELECT m.id, row_number() OVER (ORDER BY m.id) AS k"
    "  FROM messages m JOIN sites s ON s.id = m.site_id"
    "  WHERE m.id > $2::bigint AND m.id <= $3::bigint";
/* ... the filter's conditions (pg_filter_sql), then: */
static const char resend_chunk_tail[] =
    "  AND ($5::bigint = 0 OR (SELECT octet_length(p.payload) FROM payloads p"
    "   WHERE p.message_id = m.id) <= $5::bigint)"
    "  ORDER BY m.id LIMIT $4::bigint),"
    " n AS (INSERT INTO messages(webhook_id, site_id, action, customer, path, status, attempts,"
    "  due_at, created_at, updated_at, resend_of)"
    "  SELECT w.wid, o.site_id, o.action, o.customer, o.path, 0, 0, $1::bigint, $1::bigint,"
    "  $1::bigint, o.id FROM c JOIN messages o ON o.id = c.id"
    "  JOIN unnest($6::text[]) WITH ORDINALITY AS w(wid, k) ON w.k = c.k"
    "  ORDER BY o.id RETURNING id, resend_of),"
    " pl AS (INSERT INTO payloads(message_id, payload)"
    "  SELECT n.id, p.payload FROM n JOIN payloads p ON p.message_id = n.resend_of)"
    " SELECT count(*), coalesce(max(resend_of), 0) FROM n";

static hd_status resend_chunk(pg_store *st, const msg_filter *ff, uint64_t max_payload,
                              int64_t hi, int64_t *after, int *n, hd_error *err)
{
    *n = 0;
    int64_t now = hd_now_ms();
    pg_array_lit wids = { 0 };
    unsigned char rnd[RESEND_CHUNK][WEBHOOK_ID_RANDOM];
    hd_random_bytes(rnd, sizeof rnd);
    for (int i = 0; i < RESEND_CHUNK; i++) {
        char wid[40];
        webhook_id_format(now, rnd[i], wid);
        pg_array_str(&wids, wid);
    }
    pg_params p = { 0 };
    pp_i64(&p, now);
    pp_i64(&p, *after);
    pp_i64(&p, hi);
    pp_i64(&p, RESEND_CHUNK);
    pp_i64(&p, (int64_t)max_payload);
    pg_param_array(&p, &wids);
    hd_buf sql = { 0 };
    hd_buf_puts(&sql, resend_chunk_head);
    pg_filter_sql(&sql, &p, ff, PG_FILTER_ALL);
    hd_buf_puts(&sql, resend_chunk_tail);
    PGresult *r = pg_run(st, hd_buf_str(&sql), &p, "resending failed messages", err);
    hd_buf_free(&sql);
    pg_array_free(&wids);
    if (!r)
        return pg_run_failed(err);
    *n = (int)pg_i64(r, 0, 0);
    if (*n > 0)
        *after = pg_i64(r, 0, 1);
    PQclear(r);
    return HD_OK;
}

/* How many Failed messages matching ff (up to hi) are still not resent:
 * after the bulk resend, those whose payload is over the limit. */
static hd_status count_left(pg_store *st, const msg_filter *ff, int64_t hi, int64_t *left,
                            hd_error *err)
{
    pg_params p = { 0 };
    hd_buf sql = { 0 };
    hd_buf_printf(&sql, "SELECT count(*) FROM messages m JOIN sites s ON s.id = m.site_id"
                        " WHERE m.id <= $%d", pg_param_i64(&p, hi));
    pg_filter_sql(&sql, &p, ff, PG_FILTER_ALL);
    PGresult *r = pg_run(st, hd_buf_str(&sql), &p, "counting the messages not resent", err);
    hd_buf_free(&sql);
    if (!r)
        return pg_run_failed(err);
    *left = pg_i64(r, 0, 0);
    PQclear(r);
    return HD_OK;
}

static hd_status last_message_id(pg_store *st, int64_t *id, hd_error *err)
{
    PGresult *r = pg_run(st, "SELECT coalesce(max(id), 0) FROM messages", NULL,
                         "reading the last message id", err);
    if (!r)
        return pg_run_failed(err);
    *id = pg_i64(r, 0, 0);
    PQclear(r);
    return HD_OK;
}

static hd_status resend_failed_locked(pg_store *st, const msg_filter *ff, uint64_t max_payload,
                                      int64_t *resent, int64_t *skipped, hd_error *err)
{
    /* Only messages that exist now: the new ones (and anything added
     * later) are above hi. */
    int64_t hi = 0;
    hd_status rc = last_message_id(st, &hi, err);
    int64_t after = 0;
    int n = RESEND_CHUNK;
    while (rc == HD_OK && n == RESEND_CHUNK) {
        rc = resend_chunk(st, ff, max_payload, hi, &after, &n, err);
        *resent += n;
    }
    if (rc == HD_OK && skipped && max_payload > 0)
        rc = count_left(st, ff, hi, skipped, err);
    return rc;
}

hd_status pg_messages_resend_failed(pg_store *st, const msg_filter *f, uint64_t max_payload,
                                    int64_t *resent, int64_t *skipped, hd_error *err)
{
    *resent = 0;
    if (skipped)
        *skipped = 0;
    msg_filter ff = { 0 };
    if (f)
        ff = *f;
    ff.status_mask = MSG_STATUS_BIT(MSG_FAILED);
    ff.unresent = true;
    pg_write_mode mode;
    hd_status rc = pg_write_begin(st, &mode, err);
    if (rc != HD_OK)
        return rc;
    /* Held until the commit: a second bulk resend waits here (up to the
     * lock timeout), then reads the first one's resends. */
    rc = pg_cmd(st, "SELECT pg_advisory_xact_lock(" RESEND_LOCK ")", NULL,
                "waiting for another bulk resend to finish", err);
    if (rc == HD_OK)
        rc = resend_failed_locked(st, &ff, max_payload, resent, skipped, err);
    rc = pg_write_end(st, mode, rc, err);
    if (rc != HD_OK) {   /* all or nothing */
        *resent = 0;
        if (skipped)
            *skipped = 0;
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Send now, cancel                                                         */

/* Send now and cancel are one statement each: the message row locked
 * (FOR UPDATE), what it was, and the change when the shared rules allow it
 * (store_rules.c: pending - status 0 or 1 - and not in flight; $2: now).
 * %s is the change's SET list. */
static const char action_head[] =
    "WITH cur AS (SELECT id, status,"
    "  coalesce(lease_owner IS NOT NULL AND due_at > $2, false) AS in_flight"
    "  FROM messages WHERE id = $1 FOR UPDATE),"
    " upd AS (UPDATE messages m SET ";
static const char action_tail[] =
    "  FROM cur WHERE m.id = cur.id AND cur.status IN (0, 1) AND NOT cur.in_flight RETURNING 1)"
    " SELECT status, in_flight FROM cur";

static hd_status action_apply(pg_store *st, int64_t id, const char *set, const char *action,
                              hd_error *err)
{
    pg_params p = { 0 };
    pp_i64(&p, id);
    pp_i64(&p, hd_now_ms());
    hd_buf sql = { 0 };
    hd_buf_puts(&sql, action_head);
    hd_buf_puts(&sql, set);
    hd_buf_puts(&sql, action_tail);
    PGresult *r = pg_run(st, hd_buf_str(&sql), &p, action, err);
    hd_buf_free(&sql);
    if (!r)
        return pg_run_failed(err);
    hd_status rc;
    if (PQntuples(r) == 0) {
        rc = message_not_found(err, id);
    } else {
        int64_t status = pg_i64(r, 0, 0);
        msg_status s = status >= 0 && status < MSG_STATUS_COUNT ? (msg_status)status
                                                                 : MSG_FAILED;
        /* The same rule the statement applied: HD_OK = it changed the row. */
        rc = message_actionable(err, action, id, s, pg_i64(r, 0, 1) != 0);
    }
    PQclear(r);
    return rc;
}

static hd_status message_action(pg_store *st, int64_t id, const char *set, const char *action,
                                hd_error *err)
{
    bool own;
    hd_status rc = one_statement_begin(st, &own, err);
    if (rc != HD_OK)
        return rc;
    rc = action_apply(st, id, set, action, err);
    return one_statement_end(st, own, rc, err);
}

hd_status pg_message_send_now(pg_store *st, int64_t id, hd_error *err)
{
    return message_action(st, id, "due_at = $2, retry_after = NULL, updated_at = $2",
                          "send now", err);
}

/* The status change is counted by the trigger. */
hd_status pg_message_cancel(pg_store *st, int64_t id, hd_error *err)
{
    return message_action(st, id,
                          "status = 3, last_error = 'cancelled by operator', due_at = NULL,"
                          " lease_owner = NULL, retry_after = NULL, updated_at = $2",
                          "cancel", err);
}

/* ------------------------------------------------------------------------ */
/* Purge                                                                    */

/* Finished messages in created_at order (messages_created); attempts and
 * payloads go with them (ON DELETE CASCADE), the counters with the
 * trigger.  The ids go as an array (= ANY): with "id IN (SELECT ...)" the
 * planner hash-joins the chunk against a scan of the whole table. */
static const char purge_sql[] =
    "DELETE FROM messages WHERE id = ANY(ARRAY(SELECT id FROM messages"
    " WHERE created_at < $1 AND status IN (2, 3) ORDER BY created_at LIMIT $2"
    " FOR UPDATE SKIP LOCKED))";

hd_status pg_purge_chunk(pg_store *st, int64_t before_ms, int chunk, int64_t *deleted,
                         hd_error *err)
{
    *deleted = 0;
    if (chunk <= 0)
        return HD_OK;
    pg_write_mode mode;
    hd_status rc = pg_write_begin(st, &mode, err);
    if (rc != HD_OK)
        return rc;
    pg_params p = { 0 };
    pp_i64(&p, before_ms);
    pp_i64(&p, chunk);
    PGresult *r = pg_run(st, purge_sql, &p, "purging old messages", err);
    if (!r) {
        rc = pg_run_failed(err);
    } else {
        *deleted = pg_affected(r);
        PQclear(r);
    }
    if (rc == HD_OK) {
        pg_params s = { 0 };
        pp_i64(&s, hd_now_ms() / 1000 - ATTEMPT_SECONDS_KEPT);
        rc = pg_cmd(st, "DELETE FROM attempt_seconds WHERE second < $1", &s,
                    "purging old attempt counters", err);
    }
    rc = pg_write_end(st, mode, rc, err);
    if (rc != HD_OK)
        *deleted = 0;
    return rc;
}
