/* pg_claims.c - the delivery engine's side of the PostgreSQL store: fair
 * claims with leases, recording outcomes (attempts, statuses, circuits,
 * counters), giving leases back, and when the next claim can find work.
 *
 * DESIGN
 * The rules are SQLite's (store_claims.c; hd_store.h): a claimed message
 * keeps status Queued/Resent, its due_at becomes the lease end (now +
 * effective site timeout + extra) and lease_owner names the engine; a dead
 * engine's lease simply passes.  What changes is that any number of engines
 * on any number of hosts claim and record at once:
 * - Messages are picked with FOR UPDATE SKIP LOCKED on messages_site_due:
 *   two claims never wait on each other and never take the same row (a row
 *   another transaction changed is re-checked against due_at <= now before
 *   it is locked).  One statement per round asks every site with room at
 *   once (a LATERAL seek per site), so a claim costs: the sites (1), the
 *   rounds (1, a second when a site had less than its share), the payloads
 *   (1), plus one when a probe is possible, one when a probe was taken and
 *   one when the byte budget gives messages back.
 * - The probe of an open circuit is taken under the site row's lock (FOR NO
 *   KEY UPDATE SKIP LOCKED, its circuit read again): of two engines
 *   claiming at once, one holds the row and takes the probe, the other
 *   skips the site this time, never waiting (no lock-order deadlock with
 *   record_outcomes, which locks site rows in the same transaction).
 * - record_outcomes locks its sites' rows first (FOR NO KEY UPDATE, in id
 *   order) and applies the breaker in C to what it read, so two engines
 *   never lose each other's failure counts; then one statement inserts the
 *   attempts, updates the messages still leased to the owner, writes the
 *   circuits and adds to attempt_seconds (its shard: pg_backend_pid() % 8),
 *   the outcomes travelling as arrays (unnest).  Status counts are kept by
 *   the schema's triggers.
 * Arrays go as parameters in PostgreSQL's array text form ({1,2,NULL},
 * {"a","b"}), never inside SQL text.
 */
#include "pg_internal.h"
#include "store_site_fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_CIRCUIT_COLS                                                            \
    "circuit_state, circuit_failures, circuit_until, circuit_cooldown, circuit_reason"

/* ------------------------------------------------------------------------ */
/* Settings of this connection                                              */

void pg_set_breaker(pg_store *st, const breaker_policy *p)
{
    if (p)
        st->breaker = *p;
    else
        memset(&st->breaker, 0, sizeof st->breaker);
}

void pg_set_default_timeout(pg_store *st, int64_t timeout_ms)
{
    st->default_timeout_ms = timeout_ms > 0 ? timeout_ms : PG_DEFAULT_SITE_TIMEOUT_MS;
}

/* ------------------------------------------------------------------------ */
/* Writes inside the engine's transaction                                   */

/* The engine's committer runs record_outcomes and claim_fair in one
 * transaction of its own (store_tx_begin ... commit) and rolls it all back
 * on any error: they join it as they are, without a savepoint, which would
 * cost two round trips each (a third of such a transaction's).  What they
 * refuse (no owner, a bad status) they refuse before writing; a statement
 * the server fails aborts the caller's transaction, whose commit then fails
 * (the NOTIFY sent with it is refused) - all or nothing, as with SQLite's
 * OR ROLLBACK statements.  Alone, each runs in a transaction of its own. */
static hd_status batch_begin(pg_store *st, bool *own, hd_error *err)
{
    *own = !st->in_caller_tx;
    if (!*own)
        return HD_OK;
    pg_write_mode mode;
    return pg_write_begin(st, &mode, err);
}

static hd_status batch_end(pg_store *st, bool own, hd_status rc, hd_error *err)
{
    return own ? pg_write_end(st, PG_OWN_TX, rc, err) : rc;
}

/* ------------------------------------------------------------------------ */
/* Arrays as parameters                                                     */

/* Items of the kinds pg_filters.c's pg_array_lit has not (it has text
 * that is never NULL, and bigint): the same literal, the same count. */
static void arr_sep(pg_array_lit *a)
{
    hd_buf_putc(&a->lit, a->n++ ? ',' : '{');
}

static void arr_null(pg_array_lit *a)
{
    arr_sep(a);
    hd_buf_puts(&a->lit, "NULL");
}

/* 0 as NULL, like pp_i64_or_null. */
static void arr_i64_or_null(pg_array_lit *a, int64_t v)
{
    if (v)
        pg_array_i64(a, v);
    else
        arr_null(a);
}

static void arr_bool(pg_array_lit *a, bool v)
{
    arr_sep(a);
    hd_buf_putc(&a->lit, v ? 't' : 'f');
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid:
 * what PostgreSQL's UTF8 text accepts (no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
static size_t utf8_valid_len(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (len == 0 || s[0] > 0xF4 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if (len == 3 && s[0] == 0xE0 && s[1] < 0xA0)
        return 0;   /* overlong */
    if (len == 3 && s[0] == 0xED && s[1] >= 0xA0)
        return 0;   /* surrogate */
    if (len == 4 && s[0] == 0xF0 && s[1] < 0x90)
        return 0;   /* overlong */
    if (len == 4 && s[0] == 0xF4 && s[1] >= 0x90)
        return 0;   /* above U+10FFFF */
    return len;
}

/* A text item, quoted.  A TEXT column holds valid UTF-8 only, where SQLite
 * keeps any bytes: what a receiver sent that is not UTF-8 (a header in
 * Latin-1) is stored with U+FFFD for each invalid byte, as the screens
 * would show it, rather than failing the whole batch for ever. */
static void arr_text(pg_array_lit *a, const char *s)
{
    if (!s) {
        arr_null(a);
        return;
    }
    arr_sep(a);
    hd_buf_putc(&a->lit, '"');
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n > 0) {
        size_t len = utf8_valid_len(p, n);
        if (len == 0) {
            hd_buf_puts(&a->lit, "\xEF\xBF\xBD");
            p++;
            n--;
            continue;
        }
        if (*p == '"' || *p == '\\')
            hd_buf_putc(&a->lit, '\\');
        hd_buf_append(&a->lit, p, len);
        p += len;
        n -= len;
    }
    hd_buf_putc(&a->lit, '"');
}

/* A bytea item: "\\x" and hex (the backslash escaped for the array). */
static void arr_bytes(pg_array_lit *a, const char *data, size_t len)
{
    if (!data) {
        arr_null(a);
        return;
    }
    static const char hex[] = "0123456789abcdef";
    arr_sep(a);
    hd_buf_puts(&a->lit, "\"\\\\x");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)data[i];
        char two[2] = { hex[c >> 4], hex[c & 15] };
        hd_buf_append(&a->lit, two, 2);
    }
    hd_buf_putc(&a->lit, '"');
}

/* ------------------------------------------------------------------------ */
/* Reading rows                                                             */

/* PG_CIRCUIT_COLS from column k. */
static void read_circuit(const PGresult *r, int row, int k, circuit *c)
{
    memset(c, 0, sizeof *c);
    c->state = store_circuit_state(pg_i64(r, row, k));
    c->failures = (int)pg_i64(r, row, k + 1);
    c->until_ms = pg_i64(r, row, k + 2);
    c->cooldown_ms = pg_i64(r, row, k + 3);
    if (!pg_null(r, row, k + 4))
        snprintf(c->reason, sizeof c->reason, "%s", PQgetvalue(r, row, k + 4));
}

/* ------------------------------------------------------------------------ */
/* Claims                                                                   */

/* One claimed message with what ordering and the byte budget need. */
typedef struct claimed {
    message m;
    int64_t old_due;         /* due_at before the claim: the order within a site */
    int64_t size;            /* payload bytes (0 when it has none) */
} claimed;

/* One enabled site as a claim sees it. */
typedef struct claim_site {
    int64_t id;
    char *name;
    int64_t timeout_ms;      /* effective */
    int max_in_flight;       /* as stored (0 = the engine's default) */
    int room;                /* how many more this claim may take (-1 = any) */
    bool probe;              /* its circuit allows exactly one: the probe */
    bool exhausted;          /* asked for more than it had due */
    int want;                /* asked of it in the current round */
    int round_got;           /* what the current round gave */
    circuit c;
    claimed *got;            /* claimed so far */
    int ngot, capgot;
} claim_site;

static void claim_sites_free(claim_site *cs, int n)
{
    for (int i = 0; i < n; i++) {
        free(cs[i].name);
        for (int k = 0; k < cs[i].ngot; k++)
            message_free(&cs[i].got[k].m);
        free(cs[i].got);
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

static int64_t lease_end(const claim_request *rq, const claim_site *cs)
{
    return rq->now_ms + cs->timeout_ms + rq->lease_extra_ms;
}

/* How many the claim may take from cs with its circuit as cs->c (sets
 * room and probe). */
static void site_room(const claim_request *rq, claim_site *cs)
{
    cs->room = -1;
    cs->probe = false;
    if (rq->depth > 0) {
        site one;
        memset(&one, 0, sizeof one);
        one.max_in_flight = cs->max_in_flight;
        int cap = rq->depth * site_max_in_flight(&one, rq->concurrency) - held_of(rq, cs->id);
        /* Holding more than the cap (it was lowered meanwhile) is no room,
         * not -1 ("any"). */
        cs->room = cap > 0 ? cap : 0;
    }
    int allowed = breaker_claimable(rq->breaker, &cs->c, rq->now_ms);
    if (allowed == 1) {
        cs->probe = true;
        cs->room = 1;
    } else if (allowed == 0) {
        cs->room = 0;
    }
}

/* The enabled sites that may give messages now, with how many each may. */
static hd_status claim_sites_load(pg_store *st, const claim_request *rq, claim_site **out, int *n,
                                  hd_error *err)
{
    *out = NULL;
    *n = 0;
    PGresult *r = pg_run(st,
                         "SELECT id, name, timeout_ms, max_in_flight, " PG_CIRCUIT_COLS
                         " FROM sites WHERE enabled ORDER BY id",
                         NULL, "listing sites to claim from", err);
    if (!r)
        return HD_DB;
    int cap = 0;
    for (int i = 0; i < PQntuples(r); i++) {
        claim_site cs;
        memset(&cs, 0, sizeof cs);
        cs.id = pg_i64(r, i, 0);
        int64_t tmo = pg_i64(r, i, 2);
        cs.timeout_ms = tmo > 0 ? tmo : st->default_timeout_ms;
        cs.max_in_flight = (int)pg_i64(r, i, 3);
        read_circuit(r, i, 4, &cs.c);
        site_room(rq, &cs);
        if (cs.room == 0)
            continue;
        cs.name = pg_strdup(r, i, 1);
        *out = hd_xgrow(*out, *n, &cap, sizeof **out, 8);
        (*out)[(*n)++] = cs;
    }
    PQclear(r);
    return HD_OK;
}

/* The sites that may give a probe are read again under their row lock:
 * another engine holding a row (taking the probe, recording outcomes) makes
 * this claim skip that site; a circuit that changed meanwhile counts as it
 * is now. */
static hd_status claim_probes_lock(pg_store *st, const claim_request *rq, claim_site *cs, int n,
                                   hd_error *err)
{
    pg_array_lit ids = { 0 };
    for (int i = 0; i < n; i++)
        if (cs[i].probe)
            pg_array_i64(&ids, cs[i].id);
    if (ids.n == 0)
        return HD_OK;
    pg_params p = { 0 };
    pg_param_array(&p, &ids);
    PGresult *r = pg_run(st,
                         "SELECT id, " PG_CIRCUIT_COLS " FROM sites WHERE id = ANY($1::bigint[]) "
                         "AND enabled ORDER BY id FOR NO KEY UPDATE SKIP LOCKED",
                         &p, "locking a circuit for its probe", err);
    pg_array_free(&ids);
    if (!r)
        return HD_DB;
    for (int i = 0; i < n; i++) {
        if (!cs[i].probe)
            continue;
        int row = -1;
        for (int k = 0; row < 0 && k < PQntuples(r); k++)
            if (pg_i64(r, k, 0) == cs[i].id)
                row = k;
        if (row < 0) {
            cs[i].room = 0;   /* another engine holds it: not this time */
            cs[i].probe = false;
            continue;
        }
        read_circuit(r, row, 1, &cs[i].c);
        site_room(rq, &cs[i]);
    }
    PQclear(r);
    return HD_OK;
}

/* The claim's returned columns, in the order claim_row reads them. */
#define CLAIM_RETURNING                                                            \
    "m.id, m.webhook_id, m.site_id, m.action, m.customer, m.path, m.status, "      \
    "m.attempts, m.due_at, m.response_code, m.last_error, m.created_at, "          \
    "m.updated_at, m.resend_of, m.retry_after, picked.old_due, "                   \
    "(SELECT octet_length(payload) FROM payloads WHERE message_id = m.id)"

static void claim_row(const PGresult *r, int i, claimed *c)
{
    memset(c, 0, sizeof *c);
    message *m = &c->m;
    m->id = pg_i64(r, i, 0);
    snprintf(m->webhook_id, sizeof m->webhook_id, "%s", PQgetvalue(r, i, 1));
    m->site_id = pg_i64(r, i, 2);
    m->action = pg_strdup(r, i, 3);
    m->customer = pg_strdup(r, i, 4);
    m->path = pg_strdup(r, i, 5);
    int64_t status = pg_i64(r, i, 6);
    m->status = status >= 0 && status < MSG_STATUS_COUNT ? (msg_status)status : MSG_FAILED;
    m->attempts = (int)pg_i64(r, i, 7);
    m->due_at = pg_i64(r, i, 8);
    m->in_flight = true;
    m->response_code = (int)pg_i64(r, i, 9);
    m->last_error = pg_strdup(r, i, 10);
    m->created_at = pg_i64(r, i, 11);
    m->updated_at = pg_i64(r, i, 12);
    m->resend_of = pg_i64(r, i, 13);
    m->retry_after_ms = pg_i64(r, i, 14);
    c->old_due = pg_i64(r, i, 15);
    c->size = pg_i64(r, i, 16);
}

static claim_site *site_of(claim_site *cs, int n, int64_t id)
{
    int lo = 0, hi = n - 1;   /* cs is in id order (the sites query's) */
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (cs[mid].id == id)
            return &cs[mid];
        if (cs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

/* One round: every site with a want > 0 at once, oldest due first within
 * each; what each got is appended to its list. */
static hd_status claim_round(pg_store *st, const claim_request *rq, claim_site *cs, int n,
                             int *got_total, hd_error *err)
{
    pg_array_lit ids = { 0 }, wants = { 0 }, ends = { 0 };
    for (int i = 0; i < n; i++) {
        if (cs[i].want <= 0)
            continue;
        pg_array_i64(&ids, cs[i].id);
        pg_array_i64(&wants, cs[i].want);
        pg_array_i64(&ends, lease_end(rq, &cs[i]));
    }
    pg_params p = { 0 };
    pg_param_array(&p, &ids);
    pg_param_array(&p, &wants);
    pg_param_array(&p, &ends);
    pp_i64(&p, rq->now_ms);
    pp_str(&p, rq->owner);
    PGresult *r = pg_run(
        st,
        "WITH want AS (SELECT * FROM unnest($1::bigint[], $2::int[], $3::bigint[]) "
        "  AS w(site, n, lease_end)), "
        "picked AS (SELECT p.id, p.due_at AS old_due, w.lease_end FROM want w "
        "  CROSS JOIN LATERAL (SELECT id, due_at FROM messages "
        "    WHERE site_id = w.site AND status IN (0, 1) AND due_at <= $4 "
        "    ORDER BY due_at, id LIMIT w.n FOR UPDATE SKIP LOCKED) p) "
        "UPDATE messages m SET due_at = picked.lease_end, lease_owner = $5, updated_at = $4 "
        "FROM picked WHERE m.id = picked.id RETURNING " CLAIM_RETURNING,
        &p, "claiming messages", err);
    pg_array_free(&ids);
    pg_array_free(&wants);
    pg_array_free(&ends);
    if (!r)
        return HD_DB;
    for (int i = 0; i < PQntuples(r); i++) {
        claimed c;
        claim_row(r, i, &c);
        claim_site *s = site_of(cs, n, c.m.site_id);
        if (!s) {   /* cannot happen: it was asked for by id */
            message_free(&c.m);
            continue;
        }
        c.m.site_name = hd_xstrdup(s->name);
        c.m.probe = s->probe;
        s->got = hd_xgrow(s->got, s->ngot, &s->capgot, sizeof *s->got, 8);
        s->got[s->ngot++] = c;
        s->round_got++;
    }
    PQclear(r);
    for (int i = 0; i < n; i++) {
        if (cs[i].want <= 0)
            continue;
        if (cs[i].room > 0)
            cs[i].room -= cs[i].round_got;
        if (cs[i].round_got < cs[i].want)
            cs[i].exhausted = true;
        *got_total += cs[i].round_got;
        cs[i].want = cs[i].round_got = 0;
    }
    return HD_OK;
}

/* Round-robin as SQLite's: every site that can still give gets an equal
 * share of what is left, starting at the rotation; what one cannot use
 * goes to the others in the next round.  A round asks all its sites in one
 * statement, so the shares of a round are counted as asked, not as got. */
static hd_status claim_rounds(pg_store *st, const claim_request *rq, claim_site *cs, int n,
                              hd_error *err)
{
    int left = rq->limit;
    for (;;) {
        int active = 0;
        for (int i = 0; i < n; i++)
            active += !cs[i].exhausted && cs[i].room != 0;
        if (active == 0 || left <= 0)
            return HD_OK;
        int share = left / active > 0 ? left / active : 1;
        int budget = left;
        for (int k = 0; k < n && budget > 0; k++) {
            claim_site *c = &cs[(rq->rotation + (unsigned)k) % (unsigned)n];
            if (c->exhausted || c->room == 0)
                continue;
            int want = share;
            if (c->room > 0 && want > c->room)
                want = c->room;
            if (want > budget)
                want = budget;
            c->want = want;
            budget -= want;
        }
        int got = 0;
        hd_status rc = claim_round(st, rq, cs, n, &got, err);
        if (rc != HD_OK)
            return rc;
        left -= got;
    }
}

/* A probe was claimed: the circuit becomes probing until its lease ends
 * (the row is locked by claim_probes_lock). */
static hd_status claim_probes_mark(pg_store *st, const claim_request *rq, claim_site *cs, int n,
                                   hd_error *err)
{
    for (int i = 0; i < n; i++) {
        if (!cs[i].probe || cs[i].ngot == 0)
            continue;
        breaker_probe_claimed(&cs[i].c, lease_end(rq, &cs[i]));
        pg_params p = { 0 };
        pp_i64(&p, cs[i].id);
        pp_i64(&p, cs[i].c.state);
        pp_i64(&p, cs[i].c.until_ms);
        hd_status rc = pg_cmd(st,
                              "UPDATE sites SET circuit_state = $2, circuit_until = $3 "
                              "WHERE id = $1",
                              &p, "marking a circuit probing", err);
        if (rc != HD_OK)
            return rc;
    }
    return HD_OK;
}

static int claimed_cmp(const void *a, const void *b)
{
    const claimed *x = a, *y = b;
    if (x->old_due != y->old_due)
        return x->old_due < y->old_due ? -1 : 1;
    return x->m.id < y->m.id ? -1 : x->m.id > y->m.id;
}

/* Interleaved by site (A1 B1 A2 B2 ...), oldest due first within a site,
 * so that an engine starting them in order serves the sites alike. */
static claimed *claim_interleave(claim_site *cs, int n, const claim_request *rq, int *total)
{
    *total = 0;
    for (int k = 0; k < n; k++) {
        if (cs[k].ngot > 1)
            qsort(cs[k].got, (size_t)cs[k].ngot, sizeof *cs[k].got, claimed_cmp);
        *total += cs[k].ngot;
    }
    claimed *all = *total > 0 ? hd_xmalloc(sizeof *all * (size_t)*total) : NULL;
    int count = 0;
    for (int round = 0; count < *total; round++)
        for (int k = 0; k < n; k++) {
            claim_site *c = &cs[(rq->rotation + (unsigned)k) % (unsigned)n];
            if (round < c->ngot)
                all[count++] = c->got[round];
        }
    for (int k = 0; k < n; k++) {
        free(cs[k].got);   /* the messages moved to all */
        cs[k].got = NULL;
        cs[k].ngot = cs[k].capgot = 0;
    }
    return all;
}

/* Gives back the leases of these messages (due now again). */
static hd_status release_ids(pg_store *st, const char *owner, pg_array_lit *ids, int64_t now,
                             const char *what, hd_error *err)
{
    pg_params p = { 0 };
    pg_param_array(&p, ids);
    pp_str(&p, owner);
    pp_i64(&p, now);
    return pg_cmd(st,
                  "UPDATE messages SET due_at = $3, lease_owner = NULL, updated_at = $3 "
                  "WHERE id = ANY($1::bigint[]) AND lease_owner = $2 AND status IN (0, 1)",
                  &p, what, err);
}

/* The byte budget, as SQLite's: in the interleaved order a message is kept
 * when its payload fits in what is left (the first one and every probe
 * always); the others are given back at once, unread. */
static hd_status claim_budget(pg_store *st, const claim_request *rq, claimed *all, int *count,
                              hd_error *err)
{
    int64_t left = rq->max_bytes > 0 ? rq->max_bytes : -1;
    int keep = 0;
    pg_array_lit back = { 0 };
    for (int i = 0; i < *count; i++) {
        claimed *c = &all[i];
        bool must = keep == 0 || c->m.probe;
        if (left >= 0 && !must && c->size > left) {
            pg_array_i64(&back, c->m.id);
            message_free(&c->m);
            continue;
        }
        if (left >= 0)
            left = c->size > left ? 0 : left - c->size;
        all[keep++] = *c;
    }
    *count = keep;
    hd_status rc = HD_OK;
    if (back.n > 0)
        rc = release_ids(st, rq->owner, &back, rq->now_ms,
                         "giving back a claim over the byte budget", err);
    pg_array_free(&back);
    return rc;
}

/* The kept messages' payloads, in one read. */
static hd_status claim_payloads(pg_store *st, claimed *all, int count, hd_error *err)
{
    if (count == 0)
        return HD_OK;
    pg_array_lit ids = { 0 };
    for (int i = 0; i < count; i++)
        pg_array_i64(&ids, all[i].m.id);
    pg_params p = { 0 };
    pg_param_array(&p, &ids);
    PGresult *r = pg_run(st,
                         "SELECT message_id, payload FROM payloads "
                         "WHERE message_id = ANY($1::bigint[]) ORDER BY message_id",
                         &p, "reading claimed messages' payloads", err);
    pg_array_free(&ids);
    if (!r)
        return HD_DB;
    for (int k = 0; k < PQntuples(r); k++) {
        int64_t id = pg_i64(r, k, 0);
        for (int i = 0; i < count; i++)
            if (all[i].m.id == id && !all[i].m.payload)
                all[i].m.payload = pg_strdup(r, k, 1);
    }
    PQclear(r);
    return HD_OK;
}

static void claimed_free(claimed *all, int count)
{
    for (int i = 0; i < count; i++)
        message_free(&all[i].m);
    free(all);
}

/* Everything of a claim inside the write transaction; *all and *count are
 * what it hands out (also on an error, for the caller to free). */
static hd_status claim_run(pg_store *st, const claim_request *rq, claimed **all, int *count,
                           hd_error *err)
{
    claim_site *cs = NULL;
    int n = 0;
    hd_status rc = claim_sites_load(st, rq, &cs, &n, err);
    if (rc == HD_OK)
        rc = claim_probes_lock(st, rq, cs, n, err);
    if (rc == HD_OK)
        rc = claim_rounds(st, rq, cs, n, err);
    if (rc == HD_OK)
        rc = claim_probes_mark(st, rq, cs, n, err);
    if (rc == HD_OK) {
        *all = claim_interleave(cs, n, rq, count);
        rc = claim_budget(st, rq, *all, count, err);
    }
    if (rc == HD_OK)
        rc = claim_payloads(st, *all, *count, err);
    claim_sites_free(cs, n);
    return rc;
}

hd_status pg_claim_fair(pg_store *st, const claim_request *rq, message_list *out, hd_error *err)
{
    out->items = NULL;
    out->count = 0;
    if (rq->limit <= 0)
        return HD_OK;
    if (!rq->owner || !*rq->owner)
        return hd_error_set(err, HD_INTERNAL, "claim: no lease owner given");
    bool own;
    hd_status rc = batch_begin(st, &own, err);
    if (rc != HD_OK)
        return rc;
    claimed *all = NULL;
    int count = 0;
    rc = claim_run(st, rq, &all, &count, err);
    rc = batch_end(st, own, rc, err);
    if (rc != HD_OK) {
        claimed_free(all, count);
        return rc;
    }
    if (count > 0) {
        out->items = hd_xmalloc(sizeof *out->items * (size_t)count);
        for (int i = 0; i < count; i++)
            out->items[i] = all[i].m;
        out->count = count;
    }
    free(all);
    return HD_OK;
}

hd_status pg_claim(pg_store *st, const char *owner, int64_t now_ms, int64_t lease_extra_ms,
                   int limit, message_list *out, hd_error *err)
{
    claim_request rq = { .owner = owner, .now_ms = now_ms, .lease_extra_ms = lease_extra_ms,
                         .limit = limit };
    return pg_claim_fair(st, &rq, out, err);
}

/* ------------------------------------------------------------------------ */
/* Outcomes                                                                 */

/* A circuit opened or closed: remembered for the engine's log. */
static void circuit_event_add(pg_store *st, int64_t site_id, const char *name, const circuit *c)
{
    st->tx_events = hd_xrealloc(st->tx_events, sizeof *st->tx_events * (size_t)(st->ntx_events + 1));
    circuit_event *ev = &st->tx_events[st->ntx_events++];
    memset(ev, 0, sizeof *ev);
    ev->site_id = site_id;
    snprintf(ev->site_name, sizeof ev->site_name, "%s", name ? name : "?");
    ev->after = *c;
}

/* An outcome that can change its site's circuit. */
static bool circuit_relevant(const attempt_outcome *o)
{
    return o->a.site_id != 0 && (o->verdict != VERDICT_NEUTRAL || o->probe);
}

/* The circuits' new values, as arrays for the outcome statement. */
typedef struct circuit_arrays {
    pg_array_lit id, state, failures, until, cooldown, reason;
} circuit_arrays;

static void circuit_arrays_free(circuit_arrays *ca)
{
    pg_array_free(&ca->id);
    pg_array_free(&ca->state);
    pg_array_free(&ca->failures);
    pg_array_free(&ca->until);
    pg_array_free(&ca->cooldown);
    pg_array_free(&ca->reason);
}

/* Reads the batch's sites under their row locks (in id order, so that two
 * engines' batches never deadlock), applies every verdict in the order the
 * attempts finished, and lists the circuits that changed in *ca. */
static hd_status circuits_apply(pg_store *st, const attempt_outcome *o, int n, int64_t now,
                                circuit_arrays *ca, hd_error *err)
{
    if (!breaker_enabled(&st->breaker))
        return HD_OK;
    pg_array_lit ids = { 0 };
    for (int i = 0; i < n; i++) {
        if (!circuit_relevant(&o[i]))
            continue;
        bool seen = false;
        for (int j = 0; !seen && j < i; j++)
            seen = circuit_relevant(&o[j]) && o[j].a.site_id == o[i].a.site_id;
        if (!seen)
            pg_array_i64(&ids, o[i].a.site_id);
    }
    if (ids.n == 0)
        return HD_OK;
    pg_params p = { 0 };
    pg_param_array(&p, &ids);
    PGresult *r = pg_run(st,
                         "SELECT id, name, " PG_CIRCUIT_COLS " FROM sites "
                         "WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE",
                         &p, "reading circuits", err);
    pg_array_free(&ids);
    if (!r)
        return HD_DB;
    /* A site deleted meanwhile has no row: nothing to keep. */
    for (int k = 0; k < PQntuples(r); k++) {
        int64_t site_id = pg_i64(r, k, 0);
        const char *name = PQgetvalue(r, k, 1);
        circuit c, before;
        read_circuit(r, k, 2, &c);
        before = c;
        for (int i = 0; i < n; i++) {
            if (o[i].a.site_id != site_id)
                continue;
            if (breaker_apply(&st->breaker, &c, o[i].verdict, o[i].probe, o[i].a.error, now))
                circuit_event_add(st, site_id, name, &c);
        }
        if (memcmp(&before, &c, sizeof c) == 0)
            continue;
        pg_array_i64(&ca->id, site_id);
        pg_array_i64(&ca->state, c.state);
        pg_array_i64(&ca->failures, c.failures);
        pg_array_i64(&ca->until, c.until_ms);
        pg_array_i64(&ca->cooldown, c.cooldown_ms);
        arr_text(&ca->reason, c.reason[0] ? c.reason : NULL);
    }
    PQclear(r);
    return HD_OK;
}

/* The outcome statement's arrays, one item per outcome. */
enum {
    OC_MID, OC_SITE, OC_NUMBER, OC_STARTED, OC_DURATION, OC_CODE, OC_ERROR, OC_REQH,
    OC_RESPH, OC_BODY, OC_TRUNC, OC_STATUS, OC_DUE, OC_RETRY_AFTER, OC_COLS
};

static void outcome_items(pg_array_lit *col, const attempt_outcome *o, int64_t now)
{
    const attempt *a = &o->a;
    bool pending = msg_status_pending(o->new_status);
    pg_array_i64(&col[OC_MID], a->message_id);
    arr_i64_or_null(&col[OC_SITE], a->site_id);
    pg_array_i64(&col[OC_NUMBER], a->number);
    pg_array_i64(&col[OC_STARTED], a->started_at);
    pg_array_i64(&col[OC_DURATION], a->duration_ms);
    arr_i64_or_null(&col[OC_CODE], a->response_code);
    arr_text(&col[OC_ERROR], a->error);
    arr_text(&col[OC_REQH], a->request_headers);
    arr_text(&col[OC_RESPH], a->response_headers);
    arr_bytes(&col[OC_BODY], a->response_body, a->response_body_len);
    arr_bool(&col[OC_TRUNC], a->body_truncated);
    pg_array_i64(&col[OC_STATUS], o->new_status);
    arr_i64_or_null(&col[OC_DUE], pending ? (o->next_due_at ? o->next_due_at : now) : 0);
    arr_i64_or_null(&col[OC_RETRY_AFTER], pending && o->retry_after_ms > 0 ? o->retry_after_ms : 0);
}

/* One statement for outcomes o[0..n) (no message twice among them):
 * attempts inserted for the messages that still exist, messages updated
 * where the owner's lease still holds, the changed circuits written, and
 * the attempts counted per second. */
static const char OUTCOMES_SQL[] =
    "WITH o AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::bigint[], "
    "  $5::bigint[], $6::int[], $7::text[], $8::text[], $9::text[], $10::bytea[], "
    "  $11::bool[], $12::int[], $13::bigint[], $14::bigint[]) WITH ORDINALITY "
    "  AS o(mid, site, number, started, duration, code, error, reqh, resph, body, trunc, "
    "  status, due, retry_after, i)), "
    "ins AS (INSERT INTO attempts(message_id, site_id, number, started_at, duration_ms, "
    "  response_code, error, request_headers, response_headers, response_body, "
    "  body_truncated) SELECT o.mid, coalesce(o.site, m.site_id), o.number, o.started, "
    "  o.duration, o.code, o.error, o.reqh, o.resph, o.body, o.trunc "
    "  FROM o JOIN messages m ON m.id = o.mid ORDER BY o.i), "
    "upd AS (UPDATE messages m SET status = o.status, attempts = m.attempts + 1, "
    "  due_at = o.due, response_code = o.code, last_error = o.error, "
    "  retry_after = o.retry_after, lease_owner = NULL, updated_at = $15 "
    "  FROM o WHERE m.id = o.mid AND m.lease_owner = $16 RETURNING m.id), "
    "circ AS (UPDATE sites s SET circuit_state = c.state, circuit_failures = c.failures, "
    "  circuit_until = c.until, circuit_cooldown = c.cooldown, circuit_reason = c.reason "
    "  FROM unnest($17::bigint[], $18::int[], $19::int[], $20::bigint[], $21::bigint[], "
    "  $22::text[]) AS c(id, state, failures, until, cooldown, reason) WHERE s.id = c.id), "
    "sec AS (INSERT INTO attempt_seconds(second, shard, n) "
    "  SELECT o.started / 1000, pg_backend_pid() % 8, count(*) FROM o GROUP BY 1 "
    "  ON CONFLICT (second, shard) DO UPDATE SET n = attempt_seconds.n + EXCLUDED.n) "
    "SELECT count(*) FROM upd";

static hd_status outcomes_write(pg_store *st, const char *owner, const attempt_outcome *o, int n,
                                int64_t now, circuit_arrays *ca, hd_error *err)
{
    pg_array_lit col[OC_COLS];
    memset(col, 0, sizeof col);
    for (int i = 0; i < n; i++)
        outcome_items(col, &o[i], now);
    pg_params p = { 0 };
    for (int c = 0; c < OC_COLS; c++)
        pg_param_array(&p, &col[c]);
    pp_i64(&p, now);
    pp_str(&p, owner);
    pg_param_array(&p, &ca->id);
    pg_param_array(&p, &ca->state);
    pg_param_array(&p, &ca->failures);
    pg_param_array(&p, &ca->until);
    pg_param_array(&p, &ca->cooldown);
    pg_param_array(&p, &ca->reason);
    hd_status rc = pg_cmd(st, OUTCOMES_SQL, &p, "recording outcomes", err);
    for (int c = 0; c < OC_COLS; c++)
        pg_array_free(&col[c]);
    return rc;
}

/* How many outcomes from o[0] have no message twice (one UPDATE cannot
 * change a row twice; an engine's batch has each message once anyway). */
static int distinct_run(const attempt_outcome *o, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = 0; j < i; j++)
            if (o[j].a.message_id == o[i].a.message_id)
                return i;
    return n;
}

hd_status pg_record_outcomes(pg_store *st, const char *owner, const attempt_outcome *o, int n,
                             hd_error *err)
{
    /* n > 0, owner and statuses checked by store_record_outcomes (store.c). */
    bool own;
    hd_status rc = batch_begin(st, &own, err);
    if (rc != HD_OK)
        return rc;
    int64_t now = hd_now_ms();
    circuit_arrays ca;
    memset(&ca, 0, sizeof ca);
    rc = circuits_apply(st, o, n, now, &ca, err);
    for (int done = 0; rc == HD_OK && done < n;) {
        int run = distinct_run(o + done, n - done);
        rc = outcomes_write(st, owner, o + done, run, now, &ca, err);
        circuit_arrays_free(&ca);   /* written with the first run */
        done += run;
    }
    circuit_arrays_free(&ca);
    return batch_end(st, own, rc, err);
}

/* ------------------------------------------------------------------------ */
/* Leases given back, next due                                              */

hd_status pg_release_leases(pg_store *st, const char *owner, int64_t now_ms, hd_error *err)
{
    bool own;
    hd_status rc = batch_begin(st, &own, err);
    if (rc != HD_OK)
        return rc;
    pg_params p = { 0 };
    pp_i64(&p, now_ms);
    pp_str(&p, owner);
    rc = pg_cmd(st,
                "UPDATE messages SET due_at = $1, lease_owner = NULL, updated_at = $1 "
                "WHERE status IN (0, 1) AND lease_owner = $2",
                &p, "releasing leases", err);
    return batch_end(st, own, rc, err);
}

hd_status pg_release_messages(pg_store *st, const char *owner, const int64_t *ids, int n,
                              int64_t now_ms, hd_error *err)
{
    bool own;
    hd_status rc = batch_begin(st, &own, err);
    if (rc != HD_OK)
        return rc;
    pg_array_lit a = { 0 };
    for (int i = 0; i < n; i++)
        pg_array_i64(&a, ids[i]);
    rc = release_ids(st, owner, &a, now_ms, "releasing a lease", err);
    pg_array_free(&a);
    return batch_end(st, own, rc, err);
}

hd_status pg_next_due(pg_store *st, int64_t *due_ms, hd_error *err)
{
    *due_ms = 0;
    /* One seek of messages_site_due per enabled site: a paused site's
     * backlog costs nothing. */
    PGresult *r = pg_run(st,
                         "SELECT s.circuit_state, s.circuit_until, (SELECT m.due_at FROM messages m "
                         "WHERE m.site_id = s.id AND m.status IN (0, 1) "
                         "ORDER BY m.due_at LIMIT 1) FROM sites s WHERE s.enabled",
                         NULL, "finding the next due message", err);
    if (!r)
        return HD_DB;
    for (int i = 0; i < PQntuples(r); i++) {
        if (pg_null(r, i, 2))
            continue;
        int64_t due = pg_i64(r, i, 2);
        bool open = breaker_enabled(&st->breaker) && pg_i64(r, i, 0) != CIRCUIT_CLOSED;
        if (open && due < pg_i64(r, i, 1))
            due = pg_i64(r, i, 1);   /* an open circuit: nothing goes before its probe */
        if (*due_ms == 0 || due < *due_ms)
            *due_ms = due;
    }
    PQclear(r);
    return HD_OK;
}

hd_status pg_pending_count(pg_store *st, int64_t *count, hd_error *err)
{
    *count = 0;
    PGresult *r = pg_run(st,
                         "SELECT count(*) FROM sites s JOIN messages m ON m.site_id = s.id "
                         "WHERE s.enabled AND m.status IN (0, 1)",
                         NULL, "counting pending messages", err);
    if (!r)
        return HD_DB;
    *count = pg_i64(r, 0, 0);
    PQclear(r);
    return HD_OK;
}
