/* store_messages.c - messages in the SQLite store: webhook ids, adding and
 * reading messages and their attempts, and the operator's actions (resend,
 * resend failed, send now, cancel, purge).  Pages and counts for the
 * screens are in store_pages.c.
 *
 * Webhook ids are made in C (their format is store_webhook_id.c's: "msg_" +
 * 26 base32 chars, 48 bits of time, 80 random bits) and also exposed to SQL
 * as hd_webhook_id() so that the bulk resend can be one INSERT ... SELECT.
 */
#include "store_internal.h"
#include "store_rules.h"
#include "store_webhook_id.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESEND_CHUNK 1000

/* ------------------------------------------------------------------------ */
/* Webhook ids                                                              */

static void random_take(sq_store *st, unsigned char *out, size_t n)
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

/* A webhook id for a message created at now_ms (its created_at): the
 * format is store_webhook_id.c's, the random bits come from the pool. */
static void webhook_id_make(sq_store *st, int64_t now_ms, char out[40])
{
    unsigned char rnd[WEBHOOK_ID_RANDOM];
    random_take(st, rnd, sizeof rnd);
    webhook_id_format(now_ms, rnd, out);
}

/* hd_webhook_id(created_at): for the bulk resend's INSERT ... SELECT. */
static void sql_webhook_id(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    char id[40];
    webhook_id_make(sqlite3_user_data(ctx), sqlite3_value_int64(argv[0]), id);
    sqlite3_result_text(ctx, id, -1, SQLITE_TRANSIENT);
}

hd_status webhook_id_register(sq_store *st, hd_error *err)
{
    if (sqlite3_create_function(st->db, "hd_webhook_id", 1, SQLITE_UTF8, st, sql_webhook_id,
                                NULL, NULL) != SQLITE_OK)
        return db_fail(st, err, "registering functions");
    return HD_OK;
}

hd_status sq_message_find_webhook_id(sq_store *st, const char *wid, int64_t *id,
                                        hd_error *err)
{
    int64_t t = 0;
    if (!webhook_id_time(wid, &t))
        return hd_error_set(err, HD_INVALID, WEBHOOK_ID_INVALID_FMT, wid);
    sqlite3_stmt *q = stmt_get(st, STMT_MSG_BY_WEBHOOK_ID, err);
    if (!q)
        return HD_DB;
    bind_i64(q, ":lo", t - WEBHOOK_TIME_SLACK_MS);
    bind_i64(q, ":hi", t + WEBHOOK_TIME_SLACK_MS);
    bind_text(q, ":wid", wid);
    bool found = false;
    hd_status rc = step_i64(st, q, "looking up a webhook id", id, &found, err);
    if (rc == HD_OK && !found)
        rc = hd_error_set(err, HD_NOT_FOUND, "no message has webhook id %s", wid);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Rows to structs                                                          */

/* Reads the MSG_COLS columns (or the claim's RETURNING list, same order). */
void row_message(sqlite3_stmt *s, message *m)
{
    memset(m, 0, sizeof *m);
    m->id = sqlite3_column_int64(s, 0);
    /* Copied, cut to the field (not snprintf: a tenth of this function's
     * cost for every message an engine claims). */
    const unsigned char *wid = sqlite3_column_text(s, 1);
    size_t wlen = wid ? strnlen((const char *)wid, sizeof m->webhook_id - 1) : 0;
    if (wlen)
        memcpy(m->webhook_id, wid, wlen);
    m->webhook_id[wlen] = '\0';
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

static void read_message(sqlite3_stmt *q, void *item)
{
    row_message(q, item);
}

static void read_attempt(sqlite3_stmt *q, void *item)
{
    row_attempt(q, item);
}

hd_status collect_messages(sq_store *st, sqlite3_stmt *s, message_list *out, hd_error *err)
{
    return COLLECT_LIST(st, s, read_message, out, "reading messages", err);
}

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */

/* Every action name a message is stored with is in the actions table (the
 * action search reads it).  Names already registered by this write
 * transaction are remembered, so a bulk import pays one lookup per batch
 * and name, not per row. */
static hd_status register_action(sq_store *st, const char *action, hd_error *err)
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

/* Inserts one message; the caller holds a write transaction or relies on the
 * single statement being atomic. */
static hd_status message_insert(sq_store *st, const new_message *m, int64_t *id_out, hd_error *err)
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
    int64_t now = hd_now_ms();
    webhook_id_make(st, now, wid);
    bind_text(q, ":wid", wid);
    bind_i64(q, ":site", m->site_id);
    bind_text(q, ":action", m->action);
    bind_text(q, ":customer", m->customer);
    bind_text(q, ":path", m->path);
    bind_i64(q, ":now", now);
    bind_i64_or_null(q, ":resend_of", m->resend_of);
    rc = step_done(st, q, "adding a message", err);
    if (rc != HD_OK)
        return rc;
    int64_t id = sqlite3_last_insert_rowid(st->db);
    /* The payload has a table of its own (schema 4): state changes rewrite
     * the message row, never the payload. */
    q = stmt_get(st, STMT_PAYLOAD_INSERT, err);
    if (!q)
        return HD_DB;
    bind_i64(q, ":id", id);
    bind_text(q, ":payload", m->payload);
    rc = step_done(st, q, "adding a message's payload", err);
    if (rc == HD_OK && id_out)
        *id_out = id;
    return rc;
}

hd_status sq_message_add(sq_store *st, const new_message *m, int64_t *id_out, hd_error *err)
{
    write_mode mode;
    /* No savepoint when joining (bulk import speed): both INSERTs are OR
     * ROLLBACK, so a failure undoes the caller's whole transaction and
     * never leaves a message without its payload. */
    hd_status rc = write_begin(st, false, &mode, err);
    if (rc != HD_OK)
        return rc;
    rc = message_insert(st, m, id_out, err);
    return write_end(st, mode, rc, err);
}

static hd_status message_fetch(sq_store *st, int64_t id, message *out, bool *found, hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_MSG_GET, err);
    if (!q)
        return HD_DB;
    bind_i64(q, ":id", id);
    bind_i64(q, ":now", hd_now_ms());
    return step_row(st, q, read_message, out, found, "reading a message", err);
}

hd_status sq_message_get(sq_store *st, int64_t id, message *out, hd_error *err)
{
    bool found;
    hd_status rc = message_fetch(st, id, out, &found, err);
    if (rc == HD_OK && !found)
        rc = message_not_found(err, id);
    return rc;
}

hd_status sq_attempts_list(sq_store *st, int64_t message_id, attempt_list *out, hd_error *err)
{
    return COLLECT_LIST_BY(st, STMT_ATTEMPTS_OF, ":id", message_id, read_attempt, out,
                           attempt_list_free, "reading attempts", err);
}


/* ---- operator actions ---- */

hd_status sq_message_resend(sq_store *st, int64_t id, uint64_t max_payload, int64_t *new_id,
                               hd_error *err)
{
    write_mode mode;
    hd_status rc = write_begin(st, true, &mode, err);
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
    return write_end(st, mode, rc, err);
}

void resend_failed_sql(hd_buf *b, int shape)
{
    hd_buf_puts(b,
                "INSERT INTO messages(webhook_id, site_id, action, customer, path, "
                "status, attempts, due_at, created_at, updated_at, resend_of) "
                "SELECT hd_webhook_id(:now), m.site_id, m.action, m.customer, m.path, "
                "0, 0, :now, :now, :now, m.id FROM messages m JOIN sites s ON s.id = m.site_id "
                "WHERE m.id > :after AND m.id <= :hi");
    filter_sql(b, shape);
    /* resend_payload_fits(), in SQL (:max_payload 0 = no limit) */
    hd_buf_puts(b, " AND (:max_payload = 0 OR (SELECT length(CAST(p.payload AS BLOB)) FROM "
                   "payloads p WHERE p.message_id = m.id) <= :max_payload)");
    hd_buf_puts(b, " ORDER BY m.id LIMIT :n RETURNING resend_of");
}

static sqlite3_stmt *resend_failed_stmt(sq_store *st, int shape, hd_error *err)
{
    /* Built per call: bulk resends are rare, and the cost is one prepare. */
    hd_buf b = { 0 };
    resend_failed_sql(&b, shape);
    sqlite3_stmt *q = stmt_prepare(st, hd_buf_str(&b), err);
    hd_buf_free(&b);
    return q;
}

/* One chunk of the bulk resend: failed messages above *after (up to hi)
 * resent, in its own short transaction unless the caller holds one.  *n =
 * how many; *after moves to the last original resent. */
static hd_status resend_failed_chunk(sq_store *st, sqlite3_stmt *q, const msg_filter *ff,
                                     uint64_t max_payload, int64_t hi, int64_t *after, int *n,
                                     hd_error *err)
{
    *n = 0;
    write_mode mode;
    hd_status rc = write_begin(st, true, &mode, err);
    if (rc != HD_OK)
        return rc;
    /* The new messages' ids are above the largest one now: their payloads
     * are copied from the originals by one statement after the INSERT. */
    int64_t first_new_after = 0;
    sqlite3_stmt *mx = stmt_get(st, STMT_MAX_ID, err);
    rc = mx ? step_i64(st, mx, "reading the last message id", &first_new_after, NULL, err)
            : HD_DB;
    if (rc != HD_OK)
        return write_end(st, mode, rc, err);
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    filter_bind(q, ff);
    bind_i64(q, ":now", hd_now_ms());
    bind_i64(q, ":after", *after);
    bind_i64(q, ":hi", hi);
    bind_i64(q, ":n", RESEND_CHUNK);
    bind_i64(q, ":max_payload", (int64_t)max_payload);
    int count = 0;
    int64_t last = *after;
    int step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t orig = sqlite3_column_int64(q, 0);
        if (orig > last)
            last = orig;
        count++;
    }
    if (step != SQLITE_DONE)
        rc = db_fail(st, err, "resending failed messages");
    sqlite3_reset(q);
    if (rc == HD_OK && count > 0) {
        sqlite3_stmt *cp = stmt_get(st, STMT_PAYLOADS_COPY_RESENT, err);
        if (!cp) {
            rc = HD_DB;
        } else {
            bind_i64(cp, ":after", first_new_after);
            rc = step_done(st, cp, "copying the resent messages' payloads", err);
        }
    }
    rc = write_end(st, mode, rc, err);
    if (rc == HD_OK) {
        *n = count;
        *after = last;
    }
    return rc;
}

/* How many Failed messages matching ff (up to hi) are still not resent:
 * after the bulk resend, those whose payload is over the limit. */
static hd_status count_left(sq_store *st, const msg_filter *ff, int64_t hi, int64_t *left,
                            hd_error *err)
{
    hd_buf b = { 0 };
    hd_buf_puts(&b, "SELECT count(*) FROM messages m JOIN sites s ON s.id = m.site_id "
                    "WHERE m.id <= :hi");
    filter_sql(&b, filter_shape(ff));
    sqlite3_stmt *q = stmt_prepare(st, hd_buf_str(&b), err);
    hd_buf_free(&b);
    if (!q)
        return HD_DB;
    filter_bind(q, ff);
    bind_i64(q, ":hi", hi);
    hd_status rc = step_i64(st, q, "counting the messages not resent", left, NULL, err);
    sqlite3_finalize(q);
    return rc;
}

hd_status sq_messages_resend_failed(sq_store *st, const msg_filter *f, uint64_t max_payload,
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
    int n = RESEND_CHUNK;
    while (rc == HD_OK && n == RESEND_CHUNK) {
        rc = resend_failed_chunk(st, q, &ff, max_payload, hi, &after, &n, err);
        total += n;
    }
    sqlite3_finalize(q);
    *resent = total;
    if (rc == HD_OK && skipped && max_payload > 0)
        rc = count_left(st, &ff, hi, skipped, err);
    return rc;
}

/* Shared checks of send-now and cancel: the message exists, is pending and
 * is not being sent right now. */
static hd_status check_actionable(sq_store *st, int64_t id, const char *action, msg_status *status,
                                  int64_t *site_id, hd_error *err)
{
    message m;
    bool found = false;
    hd_status rc = message_fetch(st, id, &m, &found, err);
    if (rc != HD_OK)
        return rc;
    if (!found)
        return message_not_found(err, id);
    *status = m.status;
    *site_id = m.site_id;
    rc = message_actionable(err, action, id, m.status, m.in_flight);
    message_free(&m);
    return rc;
}

/* A cancelled message's lease goes with it: an engine's outcome for it
 * then finds no lease and leaves the message Failed. */
static hd_status lease_drop(sq_store *st, int64_t id, hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_LEASE_DROP, err);
    if (!q)
        return HD_DB;
    sqlite3_bind_int64(q, 1, id);
    return step_done(st, q, "dropping a cancelled message's lease", err);
}

static hd_status message_action(sq_store *st, int64_t id, stmt_id which, const char *action,
                                 hd_error *err)
{
    write_mode mode;
    hd_status rc = write_begin(st, true, &mode, err);
    if (rc != HD_OK)
        return rc;
    msg_status before = MSG_QUEUED;
    int64_t site_id = 0;
    rc = check_actionable(st, id, action, &before, &site_id, err);
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
        if (msg_status_pending(before))
            site_pending_change(st, site_id, -1);
        rc = status_counts_flush(st, err);
        if (rc == HD_OK)
            rc = lease_drop(st, id, err);
    }
    return write_end(st, mode, rc, err);
}

hd_status sq_message_send_now(sq_store *st, int64_t id, hd_error *err)
{
    return message_action(st, id, STMT_MSG_SEND_NOW, "send now", err);
}

hd_status sq_message_cancel(sq_store *st, int64_t id, hd_error *err)
{
    return message_action(st, id, STMT_MSG_CANCEL, "cancel", err);
}

hd_status sq_purge_chunk(sq_store *st, int64_t before_ms, int chunk, int64_t *deleted,
                            hd_error *err)
{
    *deleted = 0;
    if (chunk <= 0)
        return HD_OK;
    if (st->no_reference_checks)
        return hd_error_set(err, HD_INTERNAL, "database %s: purge on a connection without "
                            "reference checks would leave attempts behind", st->path);
    write_mode mode;
    sqlite3_stmt *q;
    /* One DELETE; attempts go with it (ON DELETE CASCADE). */
    hd_status rc = write_stmt(st, STMT_PURGE, true, &mode, &q, err);
    if (rc != HD_OK)
        return rc;
    bind_i64(q, ":before", before_ms);
    bind_i64(q, ":n", chunk);
    rc = step_done(st, q, "purging old messages", err);
    if (rc == HD_OK)
        *deleted = sqlite3_changes(st->db);
    if (rc == HD_OK)
        rc = seconds_purge(st, err);
    rc = write_end(st, mode, rc, err);
    if (rc != HD_OK)
        *deleted = 0;
    return rc;
}

