/* test_claims_race.c - several connections claiming and recording at once,
 * as several engines (on several hosts) do: every message is claimed by
 * exactly one of them, an open circuit gives exactly one probe, and
 * failures counted by two engines at once all count; and an outcome whose
 * texts are not UTF-8 (what a receiver sent) is recorded.  Runs on both
 * backends (tu_db_name): SQLite serialises the writers, PostgreSQL runs
 * them side by side (FOR UPDATE SKIP LOCKED, row locks on sites). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>

#include "hd_store.h"
#include "hd_util.h"
#include "testutil.h"

#define CLAIMERS 4
#define MESSAGES 2000
#define SITES 3

typedef struct fixture {
    char *dir;
    char *db;                /* database name (file or PostgreSQL) */
    store *st;               /* the test's own connection */
    int64_t sites[SITES];
} fixture;

static const store_options opts = { .synchronous_full = false, .busy_timeout_ms = 10000 };

static store *open_db(const char *db)
{
    store *st = NULL;
    hd_error err = { 0 };
    if (store_open(db, &opts, &st, &err) != HD_OK)
        fail_msg("store_open: %s", err.msg);
    return st;
}

static int64_t add_site(store *st, const char *name)
{
    site s;
    site_init(&s);
    s.name = hd_xstrdup(name);
    s.url = hd_xstrdup("https://example.com/hooks");
    int64_t id = 0;
    hd_error err = { 0 };
    if (store_site_add(st, &s, &id, &err) != HD_OK)
        fail_msg("store_site_add %s: %s", name, err.msg);
    site_free(&s);
    return id;
}

/* n messages of site, in one transaction. */
static void add_messages(store *st, int64_t site_id, int n)
{
    hd_error err = { 0 };
    assert_int_equal(store_tx_begin(st, &err), HD_OK);
    for (int i = 0; i < n; i++) {
        new_message nm = { .site_id = site_id, .action = "race", .payload = "{\"n\":1}" };
        if (store_message_add(st, &nm, NULL, &err) != HD_OK)
            fail_msg("store_message_add: %s", err.msg);
    }
    assert_int_equal(store_tx_commit(st, &err), HD_OK);
}

static int setup(void **state)
{
    fixture *f = hd_xcalloc(1, sizeof *f);
    f->dir = tu_tempdir();
    f->db = tu_db_name(f->dir, "race.db");
    f->st = open_db(f->db);
    static const char *const names[SITES] = { "alpha", "beta", "gamma" };
    for (int i = 0; i < SITES; i++)
        f->sites[i] = add_site(f->st, names[i]);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->st);
    tu_db_drop(f->db);
    tu_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* ---- every message once ---- */

typedef struct claimer {
    const char *db;
    pthread_barrier_t *start;
    char owner[32];
    int64_t *ids;            /* what it claimed */
    int n;
    char error[1100];         /* a failed call, "" when none */
} claimer;

static void *claim_loop(void *arg)
{
    claimer *c = arg;
    store *st = NULL;
    hd_error err = { 0 };
    if (store_open(c->db, &opts, &st, &err) != HD_OK)
        snprintf(c->error, sizeof c->error, "store_open: %s", err.msg);
    pthread_barrier_wait(c->start);
    unsigned rotation = 0;
    while (st) {
        claim_request rq = { .owner = c->owner, .now_ms = hd_now_ms(), .lease_extra_ms = 60000,
                             .limit = 25, .concurrency = 8, .rotation = rotation };
        rotation++;
        message_list l;
        if (store_claim_fair(st, &rq, &l, &err) != HD_OK) {
            snprintf(c->error, sizeof c->error, "store_claim_fair: %s", err.msg);
            break;
        }
        for (int i = 0; i < l.count && c->n < MESSAGES; i++)
            c->ids[c->n++] = l.items[i].id;
        int got = l.count;
        message_list_free(&l);
        if (got == 0)
            break;
    }
    store_close(st);
    return NULL;
}

/* CLAIMERS connections claim MESSAGES due messages of SITES sites at once:
 * each message is handed to exactly one of them, and all are. */
static void test_claimers_take_each_message_once(void **state)
{
    fixture *f = *state;
    for (int s = 0; s < SITES; s++)
        add_messages(f->st, f->sites[s], MESSAGES / SITES + (s < MESSAGES % SITES));

    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, CLAIMERS);
    claimer c[CLAIMERS];
    pthread_t t[CLAIMERS];
    for (int i = 0; i < CLAIMERS; i++) {
        memset(&c[i], 0, sizeof c[i]);
        c[i].db = f->db;
        c[i].start = &start;
        c[i].ids = hd_xcalloc(MESSAGES, sizeof *c[i].ids);
        snprintf(c[i].owner, sizeof c[i].owner, "claimer-%d", i);
        assert_int_equal(pthread_create(&t[i], NULL, claim_loop, &c[i]), 0);
    }
    for (int i = 0; i < CLAIMERS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);

    /* Message ids are 1..MESSAGES in a fresh database. */
    int *seen = hd_xcalloc(MESSAGES + 1, sizeof *seen);
    int total = 0, busy = 0;
    for (int k = 0; k < CLAIMERS; k++) {
        if (c[k].error[0])
            fail_msg("%s: %s", c[k].owner, c[k].error);
        busy += c[k].n > 0;
        for (int i = 0; i < c[k].n; i++) {
            int64_t id = c[k].ids[i];
            assert_true(id >= 1 && id <= MESSAGES);
            if (seen[id]++)
                fail_msg("message #%lld claimed twice", (long long)id);
            total++;
        }
        free(c[k].ids);
    }
    free(seen);
    assert_int_equal(total, MESSAGES);
    /* They claimed side by side (SQLite's lock may let one take all). */
    if (tu_backend_pg())
        assert_true(busy >= 2);

    /* Nothing is left to claim, and every message is in flight. */
    message_list l;
    hd_error err = { 0 };
    assert_int_equal(store_claim(f->st, "late", hd_now_ms(), 0, 10, &l, &err), HD_OK);
    assert_int_equal(l.count, 0);
    message_list_free(&l);
}

/* ---- one probe ---- */

static attempt_outcome failed(int64_t mid, int64_t site_id, int number, bool probe)
{
    attempt_outcome o;
    memset(&o, 0, sizeof o);
    o.a.message_id = mid;
    o.a.site_id = site_id;
    o.a.number = number;
    o.a.started_at = hd_now_ms();
    o.a.duration_ms = 5;
    o.a.response_code = 503;
    o.a.error = (char *)"HTTP 503";
    o.old_status = MSG_QUEUED;
    o.new_status = MSG_RESENT;
    o.verdict = VERDICT_FAIL;
    o.probe = probe;
    return o;
}

static circuit circuit_of(store *st, int64_t site_id)
{
    site_stats_list l = { 0 };
    hd_error err = { 0 };
    if (store_sites_states(st, &l, &err) != HD_OK)
        fail_msg("store_sites_states: %s", err.msg);
    circuit c;
    memset(&c, 0, sizeof c);
    bool found = false;
    for (int i = 0; i < l.count; i++)
        if (l.items[i].s.id == site_id) {
            c = l.items[i].circuit;
            found = true;
        }
    site_stats_list_free(&l);
    assert_true(found);
    return c;
}

typedef struct prober {
    const char *db;
    pthread_barrier_t *start;
    const breaker_policy *policy;
    int64_t now_ms;          /* past the cool-down */
    char owner[32];
    message_list got;
    char error[1100];
} prober;

/* On PostgreSQL each claim runs in a transaction kept open until both have
 * claimed, so that the two overlap whatever the threads' timing (as two
 * engines' transactions do); SQLite's writers wait for each other's
 * BEGIN IMMEDIATE, so there they simply start together. */
static void *claim_once(void *arg)
{
    prober *p = arg;
    store *st = NULL;
    hd_error err = { 0 };
    bool overlap = tu_backend_pg();
    if (store_open(p->db, &opts, &st, &err) != HD_OK)
        snprintf(p->error, sizeof p->error, "store_open: %s", err.msg);
    else
        store_set_breaker(st, p->policy);
    if (st && overlap && store_tx_begin(st, &err) != HD_OK)
        snprintf(p->error, sizeof p->error, "store_tx_begin: %s", err.msg);
    pthread_barrier_wait(p->start);
    claim_request rq = { .owner = p->owner, .now_ms = p->now_ms, .lease_extra_ms = 1000,
                         .limit = 10, .concurrency = 8, .breaker = p->policy };
    if (st && !p->error[0] && store_claim_fair(st, &rq, &p->got, &err) != HD_OK)
        snprintf(p->error, sizeof p->error, "store_claim_fair: %s", err.msg);
    if (overlap) {
        pthread_barrier_wait(p->start);
        if (st && !p->error[0] && store_tx_commit(st, &err) != HD_OK)
            snprintf(p->error, sizeof p->error, "store_tx_commit: %s", err.msg);
    }
    store_close(st);
    return NULL;
}

/* Two connections claim at the same moment from a site whose circuit is
 * open and whose cool-down has passed: one message in all, the probe, and
 * the circuit is probing.  The probe fails, the circuit opens again; ten
 * times over. */
static void test_open_circuit_gives_one_probe(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    breaker_policy policy = { .failures = 1, .cooldown_ms = 1000, .max_cooldown_ms = 4000 };
    store_set_breaker(f->st, &policy);
    int64_t site_id = f->sites[0];
    add_messages(f->st, site_id, 20);

    /* The first failure opens it. */
    message_list l;
    assert_int_equal(store_claim(f->st, "opener", hd_now_ms(), 0, 1, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);
    attempt_outcome o = failed(l.items[0].id, site_id, 1, false);
    message_list_free(&l);
    assert_int_equal(store_record_outcomes(f->st, "opener", &o, 1, &err), HD_OK);
    assert_int_equal(circuit_of(f->st, site_id).state, CIRCUIT_OPEN);

    for (int round = 0; round < 10; round++) {
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, 2);
        prober p[2];
        pthread_t t[2];
        for (int i = 0; i < 2; i++) {
            memset(&p[i], 0, sizeof p[i]);
            p[i].db = f->db;
            p[i].start = &start;
            p[i].policy = &policy;
            p[i].now_ms = hd_now_ms() + 3600 * 1000;   /* any cool-down has passed */
            snprintf(p[i].owner, sizeof p[i].owner, "prober-%d", i);
            assert_int_equal(pthread_create(&t[i], NULL, claim_once, &p[i]), 0);
        }
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&start);
        int total = 0, holder = -1;
        for (int i = 0; i < 2; i++) {
            if (p[i].error[0])
                fail_msg("%s: %s", p[i].owner, p[i].error);
            total += p[i].got.count;
            if (p[i].got.count > 0)
                holder = i;
        }
        if (total != 1)
            fail_msg("round %d: %d messages claimed from an open circuit, not 1 probe", round,
                     total);
        message *m = &p[holder].got.items[0];
        assert_true(m->probe);
        assert_int_equal(m->site_id, site_id);
        circuit c = circuit_of(f->st, site_id);
        assert_int_equal(c.state, CIRCUIT_PROBING);
        assert_int_equal(c.until_ms, p[holder].now_ms + 10000 + 1000);   /* the probe's lease */

        /* The probe fails: open again, cool-down doubled up to the cap. */
        o = failed(m->id, site_id, m->attempts + 1, true);
        assert_int_equal(store_record_outcomes(f->st, p[holder].owner, &o, 1, &err), HD_OK);
        c = circuit_of(f->st, site_id);
        assert_int_equal(c.state, CIRCUIT_OPEN);
        assert_int_equal(c.cooldown_ms, round == 0 ? 2000 : 4000);
        for (int i = 0; i < 2; i++)
            message_list_free(&p[i].got);
    }
    circuit_event *ev = NULL;
    int nev = 0;
    store_take_circuit_events(f->st, &ev, &nev);
    assert_int_equal(nev, 11);   /* opened, then opened again after each failed probe */
    free(ev);
}

/* ---- failure counts ---- */

typedef struct recorder {
    const char *db;
    pthread_barrier_t *start;
    const breaker_policy *policy;
    char owner[32];
    int64_t site_id;
    int64_t ids[10];         /* its claimed messages */
    char error[1100];
} recorder;

static void *record_loop(void *arg)
{
    recorder *r = arg;
    store *st = NULL;
    hd_error err = { 0 };
    if (store_open(r->db, &opts, &st, &err) != HD_OK)
        snprintf(r->error, sizeof r->error, "store_open: %s", err.msg);
    else
        store_set_breaker(st, r->policy);
    pthread_barrier_wait(r->start);
    for (int i = 0; st && i < 10; i++) {
        attempt_outcome o = failed(r->ids[i], r->site_id, 1, false);
        if (store_record_outcomes(st, r->owner, &o, 1, &err) != HD_OK) {
            snprintf(r->error, sizeof r->error, "store_record_outcomes: %s", err.msg);
            break;
        }
    }
    store_close(st);
    return NULL;
}

/* Four connections record failures of one site at once, one transaction
 * each: the circuit counts every one of them (none read a count another
 * was about to change). */
static void test_failure_counts_add_up(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    breaker_policy policy = { .failures = 1000, .cooldown_ms = 1000 };
    int64_t site_id = f->sites[1];
    add_messages(f->st, site_id, 40);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, CLAIMERS);
    recorder r[CLAIMERS];
    pthread_t t[CLAIMERS];
    for (int i = 0; i < CLAIMERS; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].db = f->db;
        r[i].start = &start;
        r[i].policy = &policy;
        r[i].site_id = site_id;
        snprintf(r[i].owner, sizeof r[i].owner, "recorder-%d", i);
        message_list l;
        assert_int_equal(store_claim(f->st, r[i].owner, hd_now_ms(), 60000, 10, &l, &err), HD_OK);
        assert_int_equal(l.count, 10);
        for (int k = 0; k < 10; k++)
            r[i].ids[k] = l.items[k].id;
        message_list_free(&l);
    }
    for (int i = 0; i < CLAIMERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, record_loop, &r[i]), 0);
    for (int i = 0; i < CLAIMERS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < CLAIMERS; i++)
        if (r[i].error[0])
            fail_msg("%s: %s", r[i].owner, r[i].error);
    circuit c = circuit_of(f->st, site_id);
    assert_int_equal(c.state, CIRCUIT_CLOSED);
    assert_int_equal(c.failures, 10 * CLAIMERS);
    int64_t counts[MSG_STATUS_COUNT];
    assert_int_equal(store_status_counts(f->st, counts, &err), HD_OK);
    assert_int_equal(counts[MSG_RESENT], 10 * CLAIMERS);
}

/* ---- what receivers send ---- */

/* A receiver's answer is stored as it came, with whatever bytes: a body
 * with NULs, an error text with quotes and backslashes, headers that are
 * not UTF-8.  PostgreSQL's text holds UTF-8 only: there each invalid byte
 * becomes U+FFFD (as the screens show it) instead of failing the batch. */
static void test_outcome_texts_as_received(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    add_messages(f->st, f->sites[2], 1);
    message_list l;
    assert_int_equal(store_claim(f->st, "E", hd_now_ms(), 0, 1, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);
    int64_t id = l.items[0].id;
    message_list_free(&l);
    static char body[] = "a\0b\"c\\d\xff{},NULL";
    attempt_outcome o = failed(id, f->sites[2], 1, false);
    o.a.error = (char *)"quote \" backslash \\ braces {} comma, NULL";
    o.a.request_headers = (char *)"NULL";
    o.a.response_headers = (char *)"Latin-1: caf\xe9\nUTF-8: caf\xc3\xa9\n";
    o.a.response_body = body;
    o.a.response_body_len = sizeof body - 1;
    assert_int_equal(store_record_outcomes(f->st, "E", &o, 1, &err), HD_OK);

    attempt_list al;
    assert_int_equal(store_attempts_list(f->st, id, &al, &err), HD_OK);
    assert_int_equal(al.count, 1);
    attempt *a = &al.items[0];
    assert_string_equal(a->error, o.a.error);
    assert_string_equal(a->request_headers, "NULL");
    assert_string_equal(a->response_headers,
                        tu_backend_pg() ? "Latin-1: caf\xef\xbf\xbd\nUTF-8: caf\xc3\xa9\n"
                                        : o.a.response_headers);
    assert_int_equal(a->response_body_len, sizeof body - 1);
    assert_memory_equal(a->response_body, body, sizeof body - 1);
    attempt_list_free(&al);
    message m;
    assert_int_equal(store_message_get(f->st, id, &m, &err), HD_OK);
    assert_int_equal(m.status, MSG_RESENT);
    assert_string_equal(m.last_error, o.a.error);
    message_free(&m);
}

/* A site that holds more than its cap (its max_in_flight was lowered while
 * the engine held its messages) gets nothing more, on both backends; at
 * exactly one below its cap it gets one. */
static void test_over_cap_gets_nothing(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    add_messages(f->st, f->sites[1], 10);
    /* concurrency 8: default max_in_flight 4; depth 2: a cap of 8 held. */
    site_hold held = { .site_id = f->sites[1], .held = 9 };
    claim_request rq = { .owner = "E", .now_ms = hd_now_ms(), .lease_extra_ms = 1000,
                         .limit = 10, .concurrency = 8, .depth = 2, .held = &held, .nheld = 1 };
    message_list l;
    assert_int_equal(store_claim_fair(f->st, &rq, &l, &err), HD_OK);
    assert_int_equal(l.count, 0);
    message_list_free(&l);
    held.held = 7;
    assert_int_equal(store_claim_fair(f->st, &rq, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);
    message_list_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_claimers_take_each_message_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_circuit_gives_one_probe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_counts_add_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outcome_texts_as_received, setup, teardown),
        cmocka_unit_test_setup_teardown(test_over_cap_gets_nothing, setup, teardown),
    };
    return cmocka_run_group_tests_name(tu_backend_pg() ? "claims race (PostgreSQL)"
                                                       : "claims race (SQLite)",
                                       tests, NULL, NULL);
}
