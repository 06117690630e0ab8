/* store_claims.c - the delivery engine's side of the SQLite store: fair
 * claims with leases, recording outcomes (attempts, statuses, circuits,
 * counters), giving leases back, and when the next claim can find work.
 *
 * Leases: a claimed message keeps status Queued/Resent and its row is not
 * written: the claim puts a row in `leases` (message, owner engine, expiry =
 * now + effective site timeout + extra), and the outcome deletes it and
 * updates the message once.  Kept out of the message row because every
 * write of that row also rewrites its entry in messages_site_due (due_at is
 * in the key): a lease there cost a row rewrite and two index updates per
 * delivery on the biggest tables, where a lease row is one insert and one
 * delete in a table of a few hundred rows.  If the engine dies, its leases
 * expire and the messages are claimed again (at-least-once): the claim
 * skips only messages with a live lease, and takes over expired ones.
 * A site timeout_ms of 0 means
 * "the configured default": the store keeps that default
 * (store_set_default_timeout, 10 s until set) and binds it into the claim.
 */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Settings of this connection                                              */

void sq_set_breaker(sq_store *st, const breaker_policy *p)
{
    if (p)
        st->breaker = *p;
    else
        memset(&st->breaker, 0, sizeof st->breaker);
}

void sq_set_default_timeout(sq_store *st, int64_t timeout_ms)
{
    st->default_timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_SITE_TIMEOUT_MS;
}

void sq_take_circuit_events(sq_store *st, circuit_event **out, int *n)
{
    *out = st->events;
    *n = st->nevents;
    st->events = NULL;
    st->nevents = 0;
}

/* ------------------------------------------------------------------------ */
/* Claims                                                                   */

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
static hd_status claim_sites_load(sq_store *st, const claim_request *rq, claim_site **out, int *n,
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
            /* Holding more than the cap (its max_in_flight was lowered
             * meanwhile) is no room, not "any" (-1). */
            if (cs.room < 0)
                cs.room = 0;
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
        *out = hd_xgrow(*out, *n, &cap, sizeof **out, 8);
        (*out)[(*n)++] = cs;
    }
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "listing sites to claim from");
    sqlite3_reset(q);
    return r;
}

/* The leases on n claimed messages (the claim's transaction), up to
 * MULTI_ROWS a statement. */
static hd_status leases_take(sq_store *st, const message *m, int n, const char *owner,
                             int64_t until, hd_error *err)
{
    for (int i = 0; i < n;) {
        int rows = n - i < MULTI_ROWS ? n - i : MULTI_ROWS;
        sqlite3_stmt *q = multi_stmt(st, MULTI_LEASE_TAKE, rows, err);
        if (!q)
            return HD_DB;
        for (int r = 0; r < rows; r++, i++) {
            sqlite3_bind_int64(q, 3 * r + 1, m[i].id);
            sqlite3_bind_text(q, 3 * r + 2, owner, -1, SQLITE_STATIC);
            sqlite3_bind_int64(q, 3 * r + 3, until);
        }
        hd_status rc = step_done(st, q, "taking leases", err);
        if (rc != HD_OK)
            return rc;
    }
    return HD_OK;
}

/* Ends owner's lease on a message; *held: it still had it. */
static hd_status lease_end(sq_store *st, int64_t id, const char *owner, bool *held,
                           hd_error *err)
{
    *held = false;
    sqlite3_stmt *q = stmt_get(st, STMT_LEASE_END, err);
    if (!q)
        return HD_DB;
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_text(q, 2, owner, -1, SQLITE_STATIC);
    hd_status rc = step_done(st, q, "ending a lease", err);
    *held = rc == HD_OK && sqlite3_changes(st->db) == 1;
    return rc;
}

/* Claim cursors.  The messages under live leases are the oldest due of
 * their site (a lease does not move due_at), so a claim that walked from
 * the head of the site's due order would pass every message in flight,
 * claimed in reserve or waiting to be recorded (hundreds at concurrency 32)
 * on each claim.  Each claim goes on from where this connection's last one
 * of the site stopped instead: what lies before holds our leases, or
 * others' that were live then.  A message can become claimable there
 * afterwards (another engine's lease expires, we give one back), so a sweep
 * lasts CURSOR_SWEEP_MS at most before the next claim starts from the head
 * again; a claim that found fewer than it wanted ends it too (the site's
 * backlog is drained: without this, a message given back by another engine
 * behind the cursor would be due, found by next_due, and not claimed until
 * the sweep ended, the engine waking for it again and again), and giving
 * leases back and a rollback end every sweep at once. */
#define CURSOR_SWEEP_MS 1000

/* The site's cursor if its sweep is still on, else NULL. */
static claim_cursor *cursor_find(sq_store *st, int64_t site_id, int64_t now)
{
    for (int i = 0; i < st->ncursors; i++) {
        claim_cursor *c = &st->cursors[i];
        if (c->site_id != site_id)
            continue;
        if (now - c->since_ms <= CURSOR_SWEEP_MS && now >= c->since_ms)
            return c;
        *c = st->cursors[--st->ncursors];   /* sweep over: from the head */
        return NULL;
    }
    return NULL;
}

static void cursor_forget(sq_store *st, int64_t site_id)
{
    for (int i = 0; i < st->ncursors; i++)
        if (st->cursors[i].site_id == site_id) {
            st->cursors[i] = st->cursors[--st->ncursors];
            return;
        }
}

static void cursor_move(sq_store *st, int64_t site_id, int64_t due_at, int64_t id, int64_t now)
{
    claim_cursor *c = cursor_find(st, site_id, now);
    if (!c) {
        st->cursors = hd_xgrow(st->cursors, st->ncursors, &st->cursors_cap,
                               sizeof *st->cursors, 8);
        c = &st->cursors[st->ncursors++];
        c->site_id = site_id;
        c->since_ms = now;
    }
    c->due_at = due_at;
    c->id = id;
}

/* Claims up to `want` due messages of one site into cs->got. */
static hd_status claim_from_site(sq_store *st, const claim_request *rq, claim_site *cs, int want,
                                 hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_CLAIM, err);
    if (!q)
        return HD_DB;
    int64_t lease_end = rq->now_ms + cs->timeout_ms + rq->lease_extra_ms;
    const claim_cursor *from = cursor_find(st, cs->id, rq->now_ms);
    bind_i64(q, ":now", rq->now_ms);
    bind_i64(q, ":site", cs->id);
    bind_i64(q, ":after_due", from ? from->due_at : INT64_MIN);
    bind_i64(q, ":after_id", from ? from->id : 0);
    bind_i64(q, ":n", want);
    int before = cs->got.count;
    hd_status rc = collect_messages(st, q, &cs->got, err);
    if (rc != HD_OK)
        return rc;
    int got = cs->got.count - before;
    if (got < want) {
        cursor_forget(st, cs->id);   /* drained: the next claim starts from the head */
    } else {   /* the rows come in due order: the last is the furthest */
        const message *last = &cs->got.items[cs->got.count - 1];
        cursor_move(st, cs->id, last->due_at, last->id, rq->now_ms);
    }
    for (int i = before; i < cs->got.count; i++) {
        message *m = &cs->got.items[i];
        m->site_name = hd_xstrdup(cs->name);
        m->probe = cs->probe;
        m->due_at = lease_end;
    }
    rc = leases_take(st, cs->got.items + before, got, rq->owner, lease_end, err);
    if (rc != HD_OK)
        return rc;
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
static hd_status claim_rounds(sq_store *st, const claim_request *rq, claim_site *cs, int n,
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

/* Reads a claimed message's payload into m->payload when it fits in what
 * the claim may still hold (*left; < 0: no budget); *fits says whether it
 * did.  One payload at a time: the claim's UPDATE returns none (RETURNING
 * keeps its rows in memory until the statement ends). */
static hd_status payload_load(sq_store *st, message *m, bool must, int64_t *left, bool *fits,
                              hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_PAYLOAD_GET, err);
    if (!q)
        return HD_DB;
    bind_i64(q, ":id", m->id);
    int rc = sqlite3_step(q);
    hd_status r = HD_OK;
    *fits = true;
    if (rc == SQLITE_ROW) {
        int64_t size = sqlite3_column_bytes(q, 0);
        if (*left >= 0 && !must && size > *left)
            *fits = false;
        else
            m->payload = col_text(q, 0);
        if (*fits && *left >= 0)
            *left = size > *left ? 0 : *left - size;
    } else if (rc != SQLITE_DONE) {
        r = db_fail(st, err, "reading a claimed message's payload");
    }
    sqlite3_reset(q);
    return r;
}

/* Loads the claimed messages' payloads.  The claim holds at most
 * rq->max_bytes of payload (at least one message, and every probe): the
 * rest of the interleaved list is given back in the same transaction,
 * unread, so big payloads bound the engine's memory by bytes as well as by
 * count. */
static hd_status claim_load_payloads(sq_store *st, const claim_request *rq, message_list *out,
                                     hd_error *err)
{
    int64_t left = rq->max_bytes > 0 ? rq->max_bytes : -1;
    int keep = 0;
    for (int i = 0; i < out->count; i++) {
        message *m = &out->items[i];
        bool fits = true;
        hd_status rc = payload_load(st, m, keep == 0 || m->probe, &left, &fits, err);
        if (rc == HD_OK && fits) {
            out->items[keep++] = *m;
            continue;
        }
        bool held;
        if (rc == HD_OK)
            rc = lease_end(st, m->id, rq->owner, &held, err);
        claim_cursors_reset(st);   /* it is claimable again, behind the cursor */
        if (rc != HD_OK) {
            for (int j = i; j < out->count; j++)
                message_free(&out->items[j]);
            out->count = keep;
            return rc;
        }
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

hd_status sq_claim_fair(sq_store *st, const claim_request *rq, message_list *out,
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
        rc = claim_load_payloads(st, rq, out, err);
    }
    rc = write_end(st, mode, rc, err);
    if (rc != HD_OK)
        message_list_free(out);
    claim_sites_free(cs, n);
    return rc;
}

hd_status sq_claim(sq_store *st, const char *owner, int64_t now_ms, int64_t lease_extra_ms,
                      int limit, message_list *out, hd_error *err)
{
    claim_request rq = { .owner = owner, .now_ms = now_ms, .lease_extra_ms = lease_extra_ms,
                         .limit = limit };
    return sq_claim_fair(st, &rq, out, err);
}

/* ------------------------------------------------------------------------ */
/* Outcomes                                                                 */

/* Parameters of the two hot statements of record_one by number.  SQLite
 * numbers named parameters by their first appearance in the SQL, so for one
 * statement text the numbers are the same on every connection: they are
 * looked up once per thread (each connection is used by one thread) instead
 * of by name per bind (param_index: a look-up and a strcmp per bind, ~20
 * binds per attempt). */
enum { AP_MID, AP_SITE, AP_NUMBER, AP_STARTED, AP_DURATION, AP_CODE, AP_ERROR, AP_REQH,
       AP_RESPH, AP_BODY, AP_TRUNC, AP_COUNT };
static const char *const attempt_params[AP_COUNT] = {
    ":mid", ":site", ":number", ":started", ":duration", ":code", ":error", ":reqh",
    ":resph", ":body", ":trunc",
};
enum { OP_ID, OP_STATUS, OP_DUE, OP_CODE, OP_ERROR, OP_NOW, OP_RETRY_AFTER, OP_COUNT };
static const char *const outcome_params[OP_COUNT] = {
    ":id", ":status", ":due", ":code", ":error", ":now", ":retry_after",
};

/* Fills idx (n numbers, then a 0 sentinel past them) once. */
static void params_number(sqlite3_stmt *q, const char *const *names, int n, int *idx)
{
    if (idx[n] != 0)
        return;
    for (int i = 0; i < n; i++)
        idx[i] = sqlite3_bind_parameter_index(q, names[i]);
    idx[n] = 1;
}

static void num_i64_or_null(sqlite3_stmt *q, int i, int64_t v)
{
    if (v)
        sqlite3_bind_int64(q, i, v);
    else
        sqlite3_bind_null(q, i);
}

static void num_text(sqlite3_stmt *q, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(q, i);
}

/* Inserts the attempt row.  known: the message exists (the outcome's UPDATE
 * just changed it), so the INSERT need not look it up. */
static hd_status attempt_insert(sq_store *st, const attempt *a, bool known, hd_error *err)
{
    static _Thread_local int idx[2][AP_COUNT + 1];
    bool add = known && a->site_id != 0;
    sqlite3_stmt *q = stmt_get(st, add ? STMT_ATTEMPT_ADD : STMT_ATTEMPT_INSERT, err);
    if (!q)
        return HD_DB;
    int *n = idx[add];
    params_number(q, attempt_params, AP_COUNT, n);
    sqlite3_bind_int64(q, n[AP_MID], a->message_id);
    num_i64_or_null(q, n[AP_SITE], a->site_id);
    sqlite3_bind_int64(q, n[AP_NUMBER], a->number);
    sqlite3_bind_int64(q, n[AP_STARTED], a->started_at);
    sqlite3_bind_int64(q, n[AP_DURATION], a->duration_ms);
    num_i64_or_null(q, n[AP_CODE], a->response_code);
    num_text(q, n[AP_ERROR], a->error);
    num_text(q, n[AP_REQH], a->request_headers);
    num_text(q, n[AP_RESPH], a->response_headers);
    if (a->response_body)
        sqlite3_bind_blob64(q, n[AP_BODY], a->response_body, a->response_body_len,
                            SQLITE_STATIC);
    else
        sqlite3_bind_null(q, n[AP_BODY]);
    sqlite3_bind_int64(q, n[AP_TRUNC], a->body_truncated ? 1 : 0);
    return step_done(st, q, "recording an attempt", err);
}

/* Inserts n attempts whose messages the outcomes' UPDATEs just found (no
 * look-up, as ATTEMPT_ADD), up to MULTI_ROWS a statement. */
static hd_status attempts_add(sq_store *st, const attempt *const *a, int n, hd_error *err)
{
    for (int i = 0; i < n;) {
        int rows = n - i < MULTI_ROWS ? n - i : MULTI_ROWS;
        sqlite3_stmt *q = multi_stmt(st, MULTI_ATTEMPT_ADD, rows, err);
        if (!q)
            return HD_DB;
        for (int r = 0; r < rows; r++, i++) {
            const attempt *t = a[i];
            int b = r * AP_COUNT + 1;   /* the row's first parameter */
            sqlite3_bind_int64(q, b + AP_MID, t->message_id);
            num_i64_or_null(q, b + AP_SITE, t->site_id);
            sqlite3_bind_int64(q, b + AP_NUMBER, t->number);
            sqlite3_bind_int64(q, b + AP_STARTED, t->started_at);
            sqlite3_bind_int64(q, b + AP_DURATION, t->duration_ms);
            num_i64_or_null(q, b + AP_CODE, t->response_code);
            num_text(q, b + AP_ERROR, t->error);
            num_text(q, b + AP_REQH, t->request_headers);
            num_text(q, b + AP_RESPH, t->response_headers);
            if (t->response_body)
                sqlite3_bind_blob64(q, b + AP_BODY, t->response_body, t->response_body_len,
                                    SQLITE_STATIC);
            else
                sqlite3_bind_null(q, b + AP_BODY);
            sqlite3_bind_int64(q, b + AP_TRUNC, t->body_truncated ? 1 : 0);
        }
        hd_status rc = step_done(st, q, "recording attempts", err);
        if (rc != HD_OK)
            return rc;
    }
    return HD_OK;
}

/* The message's new state, once its lease was found ours; *changed: it was
 * still pending, so it exists and its status was the claimed one. */
static hd_status outcome_update(sq_store *st, const attempt_outcome *o, int64_t now,
                                bool *changed, hd_error *err)
{
    static _Thread_local int n[OP_COUNT + 1];
    const attempt *a = &o->a;
    *changed = false;
    sqlite3_stmt *q = stmt_get(st, STMT_OUTCOME_UPDATE, err);
    if (!q)
        return HD_DB;
    params_number(q, outcome_params, OP_COUNT, n);
    bool pending = msg_status_pending(o->new_status);
    sqlite3_bind_int64(q, n[OP_ID], a->message_id);
    sqlite3_bind_int64(q, n[OP_STATUS], o->new_status);
    num_i64_or_null(q, n[OP_DUE], pending ? (o->next_due_at ? o->next_due_at : now) : 0);
    num_i64_or_null(q, n[OP_CODE], a->response_code);
    num_text(q, n[OP_ERROR], a->error);
    sqlite3_bind_int64(q, n[OP_NOW], now);
    num_i64_or_null(q, n[OP_RETRY_AFTER],
                    pending && o->retry_after_ms > 0 ? o->retry_after_ms : 0);
    hd_status rc = step_done(st, q, "updating a message", err);
    *changed = rc == HD_OK && sqlite3_changes(st->db) == 1;
    return rc;
}

/* A pending message more or less for the site of attempt a's message (an
 * outcome without a site id looks it up). */
static hd_status pending_change_of(sq_store *st, const attempt *a, int n, hd_error *err)
{
    int64_t site_id = a->site_id;
    if (site_id == 0) {
        sqlite3_stmt *q = stmt_get(st, STMT_MSG_SITE, err);
        if (!q)
            return HD_DB;
        bind_i64(q, ":id", a->message_id);
        hd_status rc = step_i64(st, q, "finding a message's site", &site_id, NULL, err);
        if (rc != HD_OK)
            return rc;
    }
    site_pending_change(st, site_id, n);
    return HD_OK;
}

/* The message first: when it is still ours its attempt goes in later with
 * the batch's others (*add), without a look-up of the message (the guarded
 * INSERT re-reads its row: ~2k instructions). */
static hd_status record_one(sq_store *st, const char *owner, const attempt_outcome *o, int64_t now,
                            bool *add, hd_error *err)
{
    bool held = false, changed = false;
    *add = false;
    hd_status rc = lease_end(st, o->a.message_id, owner, &held, err);
    if (rc == HD_OK && held)
        rc = outcome_update(st, o, now, &changed, err);
    if (rc == HD_OK && changed && o->a.site_id != 0)
        *add = true;
    else if (rc == HD_OK)
        rc = attempt_insert(st, &o->a, changed, err);
    /* Applied only while our lease held: the status was the claimed one. */
    if (rc == HD_OK && changed) {
        status_change(st, o->old_status, o->new_status, 1);
        if (msg_status_pending(o->old_status) != msg_status_pending(o->new_status))
            rc = pending_change_of(st, &o->a, msg_status_pending(o->new_status) ? 1 : -1, err);
    }
    return rc;
}

/* A circuit opened or closed: remembered for the engine's log. */
static void circuit_event_add(sq_store *st, int64_t site_id, const char *name, const circuit *c)
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
static hd_status circuit_record(sq_store *st, int64_t site_id, const attempt_outcome *o, int n,
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
static hd_status circuits_record(sq_store *st, const attempt_outcome *o, int n, int64_t now,
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

hd_status sq_record_outcomes(sq_store *st, const char *owner, const attempt_outcome *o, int n,
                                hd_error *err)
{
    /* n > 0, owner and statuses checked by store_record_outcomes (store.c). */
    write_mode mode;
    hd_status rc = write_begin(st, true, &mode, err);
    if (rc != HD_OK)
        return rc;
    int64_t now = hd_now_ms();
    const attempt **adds = hd_xmalloc(sizeof *adds * (size_t)n);
    int nadds = 0;
    for (int i = 0; rc == HD_OK && i < n; i++) {
        bool add = false;
        rc = record_one(st, owner, &o[i], now, &add, err);
        if (add)
            adds[nadds++] = &o[i].a;
    }
    if (rc == HD_OK)
        rc = attempts_add(st, adds, nadds, err);
    free(adds);
    if (rc == HD_OK)
        rc = circuits_record(st, o, n, now, err);
    if (rc == HD_OK)
        rc = seconds_record(st, o, n, err);
    if (rc == HD_OK)
        rc = status_counts_flush(st, err);
    return write_end(st, mode, rc, err);
}

/* ------------------------------------------------------------------------ */
/* Leases given back, next due                                              */

hd_status sq_release_leases(sq_store *st, const char *owner, int64_t now_ms, hd_error *err)
{
    write_mode mode;
    sqlite3_stmt *q;
    hd_status rc = write_stmt(st, STMT_RELEASE_LEASES, false, &mode, &q, err);
    if (rc != HD_OK)
        return rc;
    (void)now_ms;   /* the messages' due_at was never moved: due again at once */
    claim_cursors_reset(st);
    bind_text(q, ":owner", owner);
    rc = step_done(st, q, "releasing leases", err);
    return write_end(st, mode, rc, err);
}

hd_status sq_release_messages(sq_store *st, const char *owner, const int64_t *ids, int n,
                                 int64_t now_ms, hd_error *err)
{
    write_mode mode;
    hd_status rc = write_begin(st, true, &mode, err);
    if (rc != HD_OK)
        return rc;
    (void)now_ms;   /* as in sq_release_leases */
    claim_cursors_reset(st);
    for (int i = 0; rc == HD_OK && i < n; i++) {
        bool held;
        rc = lease_end(st, ids[i], owner, &held, err);
    }
    return write_end(st, mode, rc, err);
}

/* When the first live lease ends (0: none), so that a message whose
 * engine died is claimed again then.  All sites' leases: one of a paused
 * site costs one wakeup that claims nothing. */
static hd_status leases_first_end(sq_store *st, int64_t now, int64_t *end, hd_error *err)
{
    *end = 0;
    sqlite3_stmt *q = stmt_get(st, STMT_LEASES_FIRST_END, err);
    if (!q)
        return HD_DB;
    sqlite3_bind_int64(q, 1, now);
    return step_i64(st, q, "finding when the first lease ends", end, NULL, err);
}

hd_status sq_next_due(sq_store *st, int64_t *due_ms, hd_error *err)
{
    int64_t now = hd_now_ms();
    hd_status lr = leases_first_end(st, now, due_ms, err);
    if (lr != HD_OK)
        return lr;
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
        bind_i64(q, ":now", now);
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

hd_status sq_pending_count(sq_store *st, int64_t *count, hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_PENDING_COUNT, err);
    if (!q)
        return HD_DB;
    return step_i64(st, q, "counting pending messages", count, NULL, err);
}

