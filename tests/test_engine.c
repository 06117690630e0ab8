/* test_engine.c - the delivery engine against real parts: the loopback
 * receiver as a child process, a real SQLite file in a temp dir, the engine
 * in-process.  Retry interval 50 ms so retries stay fast. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hd_config.h"
#include "hd_engine.h"
#include "hd_sign.h"
#include "hd_store.h"
#include "hd_util.h"
#include "http.h"
#include "testutil.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

typedef tu_world fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    *state = f;
    return tu_world_open(f, SECRET) ? 0 : -1;
}

static int teardown(void **state)
{
    tu_world_close(*state);
    free(*state);
    return 0;
}

/* Adds a site "name" at receiver path `path`; returns its id. */
static int64_t add_site(fixture *f, const char *name, const char *path, void (*tweak)(site *))
{
    site s;
    site_init(&s);
    s.name = strdup(name);
    s.url = hd_xasprintf("%s%s", f->rcv.base_url, path);
    if (tweak)
        tweak(&s);
    int64_t id = 0;
    hd_error err = {0};
    hd_status st = store_site_add(f->st, &s, &id, &err);
    if (st != HD_OK)
        fprintf(stderr, "site_add %s: %s\n", name, err.msg);
    assert_int_equal(st, HD_OK);
    site_free(&s);
    return id;
}

static bool first_request_seen(void *arg)
{
    return tu_log_count(arg, "/") > 0;
}

static int64_t add_msg(fixture *f, int64_t site_id, const char *payload)
{
    new_message nm = { .site_id = site_id, .action = "order.created", .customer = "c1",
                       .path = NULL, .payload = payload ? payload : "{\"n\":1}" };
    int64_t id = 0;
    hd_error err = {0};
    assert_int_equal(store_message_add(f->st, &nm, &id, &err), HD_OK);
    return id;
}

static engine *start(fixture *f, bool drain)
{
    engine *e = tu_engine_start(&f->cfg, drain);
    assert_non_null(e);
    return e;
}

static void finish(engine *e)
{
    assert_true(tu_engine_finish(e));
}

static void wait_done(fixture *f, const int64_t *ids, int n, int timeout_ms)
{
    assert_true(tu_wait_final(f->st, ids, n, timeout_ms));
}

static message get_msg(fixture *f, int64_t id)
{
    message m;
    assert_int_equal(store_message_get(f->st, id, &m, NULL), HD_OK);
    return m;
}

/* ---- tests ---- */

static void test_ok_and_drain(void **state)
{
    fixture *f = *state;
    int64_t site_id = add_site(f, "ok", "/ok", NULL);
    int64_t id = add_msg(f, site_id, NULL);
    engine *e = start(f, true);
    /* drain: the engine ends by itself once nothing is pending. */
    hd_error err = {0};
    assert_int_equal(engine_join(e, &err), HD_OK);
    message m = get_msg(f, id);
    assert_int_equal(m.status, MSG_DONE);
    assert_int_equal(m.attempts, 1);
    assert_int_equal(m.response_code, 200);
    attempt_list al;
    assert_int_equal(store_attempts_list(f->st, id, &al, NULL), HD_OK);
    assert_int_equal(al.count, 1);
    assert_int_equal(al.items[0].number, 1);
    assert_int_equal(al.items[0].response_code, 200);
    assert_null(al.items[0].error);
    assert_non_null(strstr(al.items[0].request_headers, m.webhook_id));
    assert_non_null(strstr(al.items[0].response_body, "ok"));
    attempt_list_free(&al);
    assert_int_equal(tu_log_count(&f->rcv, "/ok"), 1);
    message_free(&m);
}

/* The engine publishes its counters when the committer's result is taken
 * back, a moment after the database shows it: waits (5 s at most) until
 * they count `attempts` attempts, summed over the engines given. */
typedef struct stats_wait {
    engine *engines[2];
    int n;
    int64_t attempts;
} stats_wait;

static bool stats_caught_up(void *arg)
{
    stats_wait *w = arg;
    int64_t sum = 0;
    for (int i = 0; i < w->n; i++) {
        engine_stats s;
        engine_get_stats(w->engines[i], &s);
        sum += s.attempts;
    }
    return sum >= w->attempts;
}

static void wait_stats(engine *a, engine *b, int64_t attempts)
{
    stats_wait w = { .engines = { a, b }, .n = b ? 2 : 1, .attempts = attempts };
    assert_true(tu_wait_for(stats_caught_up, &w, 5000));
}

static void test_always_500_fails_after_5(void **state)
{
    fixture *f = *state;
    int64_t site_id = add_site(f, "err", "/status/500", NULL);
    int64_t id = add_msg(f, site_id, NULL);
    engine *e = start(f, false);
    wait_done(f, &id, 1, 10000);
    wait_stats(e, NULL, 5);
    engine_stats stats;
    engine_get_stats(e, &stats);
    finish(e);
    message m = get_msg(f, id);
    assert_int_equal(m.status, MSG_FAILED);
    assert_int_equal(m.attempts, 5);
    assert_string_equal(m.last_error, "HTTP 500");
    assert_int_equal(tu_log_count(&f->rcv, "/status/500"), 5);
    attempt_list al;
    assert_int_equal(store_attempts_list(f->st, id, &al, NULL), HD_OK);
    assert_int_equal(al.count, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(al.items[i].number, i + 1);
        assert_int_equal(al.items[i].response_code, 500);
    }
    /* retries wait the retry interval */
    assert_true(al.items[1].started_at - al.items[0].started_at >= 45);
    attempt_list_free(&al);
    assert_int_equal(stats.attempts, 5);
    assert_int_equal(stats.failed, 1);
    assert_int_equal(stats.errors, 5);
    message_free(&m);
}

static void test_seq_done_after_3_same_webhook_id(void **state)
{
    fixture *f = *state;
    int64_t site_id = add_site(f, "seq", "/seq/500,500,200", NULL);
    int64_t id = add_msg(f, site_id, NULL);
    engine *e = start(f, false);
    wait_done(f, &id, 1, 10000);
    finish(e);
    message m = get_msg(f, id);
    assert_int_equal(m.status, MSG_DONE);
    assert_int_equal(m.attempts, 3);
    tu_log log;
    assert_true(tu_log_read(&f->rcv, &log));
    assert_int_equal(log.count, 3);
    for (int i = 0; i < log.count; i++)
        assert_string_equal(log.items[i].webhook_id, m.webhook_id);
    tu_log_free(&log);
    message_free(&m);
}

static void short_timeout(site *s) { s->timeout_ms = 200; }

static void test_error_texts(void **state)
{
    fixture *f = *state;
    f->cfg.delivery.max_attempts = 1;
    int64_t ids[3];
    ids[0] = add_msg(f, add_site(f, "slow", "/delay/800", short_timeout), NULL);
    ids[1] = add_msg(f, add_site(f, "drop", "/drop", NULL), NULL);
    ids[2] = add_msg(f, add_site(f, "redir", "/redirect", NULL), NULL);
    engine *e = start(f, false);
    wait_done(f, ids, 3, 10000);
    finish(e);

    message m = get_msg(f, ids[0]);
    assert_int_equal(m.status, MSG_FAILED);
    assert_int_equal(m.response_code, 0);
    assert_string_equal(m.last_error, "timed out after 200 ms");
    message_free(&m);

    m = get_msg(f, ids[1]);
    assert_int_equal(m.status, MSG_FAILED);
    assert_int_equal(m.response_code, 0);
    assert_non_null(m.last_error);
    assert_true(strlen(m.last_error) > 5);
    assert_null(strchr(m.last_error, '\n'));
    message_free(&m);

    /* A redirect is not followed: the 302 itself is the (failed) answer. */
    m = get_msg(f, ids[2]);
    assert_int_equal(m.status, MSG_FAILED);
    assert_int_equal(m.response_code, 302);
    assert_non_null(strstr(m.last_error, "HTTP 302"));
    message_free(&m);
    assert_int_equal(tu_log_count(&f->rcv, "/ok"), 0);
}

static void test_huge_body_truncated(void **state)
{
    fixture *f = *state;
    f->cfg.delivery.max_response_body = 1000;
    int64_t id = add_msg(f, add_site(f, "huge", "/huge/1000000", NULL), NULL);
    engine *e = start(f, false);
    wait_done(f, &id, 1, 10000);
    finish(e);
    attempt_list al;
    assert_int_equal(store_attempts_list(f->st, id, &al, NULL), HD_OK);
    assert_int_equal(al.count, 1);
    assert_int_equal(al.items[0].response_code, 200);
    assert_int_equal(al.items[0].response_body_len, 1000);
    assert_true(al.items[0].body_truncated);
    assert_memory_equal(al.items[0].response_body, "abcdefghij", 10);
    attempt_list_free(&al);
}

/* A receiver that sends ~160 KB of headers: only HTTP_MAX_HEADERS are kept. */
static void test_huge_headers_capped(void **state)
{
    fixture *f = *state;
    int64_t id = add_msg(f, add_site(f, "hdrs", "/manyheaders/1500", NULL), NULL);
    engine *e = start(f, false);
    wait_done(f, &id, 1, 10000);
    finish(e);
    attempt_list al;
    assert_int_equal(store_attempts_list(f->st, id, &al, NULL), HD_OK);
    assert_int_equal(al.count, 1);
    assert_int_equal(al.items[0].response_code, 200);
    assert_non_null(al.items[0].response_headers);
    size_t len = strlen(al.items[0].response_headers);
    assert_true(len <= HTTP_MAX_HEADERS + 64);
    assert_true(len > HTTP_MAX_HEADERS / 2);
    assert_non_null(strstr(al.items[0].response_headers, "[more headers not kept]"));
    attempt_list_free(&al);
}

static void auth_basic(site *s)
{
    s->auth = AUTH_BASIC;
    s->auth_user = strdup("alice");
    s->auth_secret = strdup("pa:ss");
}
static void auth_bearer(site *s)
{
    s->auth = AUTH_BEARER;
    s->auth_secret = strdup("tok123");
}
static void auth_header(site *s)
{
    s->auth = AUTH_HEADER;
    s->auth_header = strdup("X-Api-Key");
    s->auth_secret = strdup("key456");
}
static void auth_hmac(site *s)
{
    s->auth = AUTH_HMAC;
    s->auth_secret = strdup(SECRET);
}

static const tu_logged *find_path(const tu_log *l, const char *path)
{
    for (int i = 0; i < l->count; i++)
        if (strcmp(l->items[i].path, path) == 0)
            return &l->items[i];
    return NULL;
}

static void test_auth_kinds(void **state)
{
    fixture *f = *state;
    int64_t ids[5];
    ids[0] = add_msg(f, add_site(f, "basic", "/basic", auth_basic), NULL);
    ids[1] = add_msg(f, add_site(f, "bearer", "/bearer", auth_bearer), NULL);
    ids[2] = add_msg(f, add_site(f, "header", "/header", auth_header), NULL);
    ids[3] = add_msg(f, add_site(f, "hmac", "/hmac", auth_hmac), "{\"test\": 2432232314}");
    ids[4] = add_msg(f, add_site(f, "none", "/none", NULL), NULL);
    engine *e = start(f, false);
    wait_done(f, ids, 5, 10000);
    finish(e);
    tu_log log;
    assert_true(tu_log_read(&f->rcv, &log));
    assert_int_equal(log.count, 5);

    const tu_logged *r = find_path(&log, "/basic");
    assert_non_null(r);
    const char *authz = tu_logged_header(r, "authorization");
    assert_non_null(authz);
    assert_int_equal(strncmp(authz, "Basic ", 6), 0);
    unsigned char *dec = NULL;
    size_t declen = 0;
    assert_int_equal(base64_decode(authz + 6, &dec, &declen), 0);
    assert_int_equal(declen, strlen("alice:pa:ss"));
    assert_memory_equal(dec, "alice:pa:ss", declen);
    free(dec);

    r = find_path(&log, "/bearer");
    assert_string_equal(tu_logged_header(r, "authorization"), "Bearer tok123");
    r = find_path(&log, "/header");
    assert_string_equal(tu_logged_header(r, "x-api-key"), "key456");
    assert_null(tu_logged_header(r, "authorization"));
    r = find_path(&log, "/hmac");
    assert_int_equal(r->hmac, 1);   /* checked by the receiver's own HMAC code */
    assert_string_equal(r->body, "{\"test\": 2432232314}");
    assert_non_null(tu_logged_header(r, "webhook-timestamp"));
    r = find_path(&log, "/none");
    assert_int_equal(r->hmac, 0);   /* unsigned request is not accepted as signed */
    assert_null(tu_logged_header(r, "authorization"));
    assert_string_equal(tu_logged_header(r, "content-type"), "application/json");
    assert_non_null(strstr(tu_logged_header(r, "user-agent"), "hookdesk/"));
    tu_log_free(&log);

    /* Secrets never reach the stored request headers. */
    for (int i = 0; i < 4; i++) {
        attempt_list al;
        assert_int_equal(store_attempts_list(f->st, ids[i], &al, NULL), HD_OK);
        assert_int_equal(al.count, 1);
        const char *h = al.items[0].request_headers;
        assert_null(strstr(h, "tok123"));
        assert_null(strstr(h, "key456"));
        assert_null(strstr(h, "pa:ss"));
        attempt_list_free(&al);
    }
}

/* The engine configures the easy handle of a finished transfer for the next
 * one: nothing of a site's request may leak into the next site's.  One
 * connection, so every transfer reuses the previous one's handle. */
static void test_reused_handles_carry_nothing_over(void **state)
{
    fixture *f = *state;
    f->cfg.delivery.concurrency = 1;
    int64_t basic = add_site(f, "basic", "/basic", auth_basic);
    int64_t header = add_site(f, "header", "/header", auth_header);
    int64_t none = add_site(f, "none", "/none", NULL);
    int64_t ids[9];
    for (int i = 0; i < 3; i++) {
        ids[3 * i] = add_msg(f, basic, "{\"n\":1}");
        ids[3 * i + 1] = add_msg(f, header, "{\"n\":2}");
        ids[3 * i + 2] = add_msg(f, none, "{\"n\":3}");
    }
    engine *e = start(f, false);
    wait_done(f, ids, 9, 10000);
    finish(e);
    tu_log log;
    assert_true(tu_log_read(&f->rcv, &log));
    assert_int_equal(log.count, 9);
    int seen_none = 0, seen_basic = 0;
    for (int i = 0; i < log.count; i++) {
        const tu_logged *r = &log.items[i];
        assert_string_equal(r->method, "POST");
        if (strcmp(r->path, "/basic") == 0) {
            seen_basic++;
            assert_non_null(tu_logged_header(r, "authorization"));
            assert_null(tu_logged_header(r, "x-api-key"));
            assert_string_equal(r->body, "{\"n\":1}");
        } else if (strcmp(r->path, "/header") == 0) {
            assert_null(tu_logged_header(r, "authorization"));
            assert_string_equal(tu_logged_header(r, "x-api-key"), "key456");
            assert_string_equal(r->body, "{\"n\":2}");
        } else {
            seen_none++;
            assert_string_equal(r->path, "/none");
            assert_null(tu_logged_header(r, "authorization"));
            assert_null(tu_logged_header(r, "x-api-key"));
            assert_string_equal(r->body, "{\"n\":3}");
        }
        assert_non_null(r->webhook_id);
    }
    assert_int_equal(seen_basic, 3);
    assert_int_equal(seen_none, 3);
    tu_log_free(&log);
}

static void test_private_refused(void **state)
{
    fixture *f = *state;
    f->cfg.allow_private = false;
    f->cfg.delivery.max_attempts = 1;
    int64_t id = add_msg(f, add_site(f, "local", "/ok", NULL), NULL);
    engine *e = start(f, false);
    wait_done(f, &id, 1, 10000);
    finish(e);
    message m = get_msg(f, id);
    assert_int_equal(m.status, MSG_FAILED);
    assert_string_equal(m.last_error,
                        "refused to connect to private address 127.0.0.1 "
                        "(network.allow_private is false)");
    message_free(&m);
    assert_int_equal(tu_log_count(&f->rcv, "/"), 0);
}

static void test_paused_site_keeps_queued(void **state)
{
    fixture *f = *state;
    int64_t paused = add_site(f, "paused", "/paused", NULL);
    assert_int_equal(store_site_set_enabled(f->st, paused, false, NULL), HD_OK);
    int64_t held = add_msg(f, paused, NULL);
    int64_t live = add_site(f, "live", "/live", NULL);
    int64_t other = add_msg(f, live, NULL);
    engine *e = start(f, false);
    wait_done(f, &other, 1, 10000);
    /* A message queued after the held one, claimed and delivered, proves a
     * claim went past it: claims take the oldest due first. */
    int64_t later = add_msg(f, live, NULL);
    engine_wakeup(e);
    wait_done(f, &later, 1, 10000);
    message m = get_msg(f, held);
    assert_int_equal(m.status, MSG_QUEUED);
    assert_int_equal(m.attempts, 0);
    message_free(&m);
    assert_int_equal(tu_log_count(&f->rcv, "/paused"), 0);
    /* Resumed: delivered. */
    assert_int_equal(store_site_set_enabled(f->st, paused, true, NULL), HD_OK);
    engine_wakeup(e);
    wait_done(f, &held, 1, 10000);
    finish(e);
    m = get_msg(f, held);
    assert_int_equal(m.status, MSG_DONE);
    message_free(&m);
}

/* Done, or Queued with no lease (given back). */
static bool done_or_released(const message *m)
{
    return m->status == MSG_DONE || (m->status == MSG_QUEUED && !m->in_flight);
}

/* Messages claimed ahead of a busy connection are not sent once their site
 * is paused: they go back to Queued with their leases released. */
static void test_pause_reaches_claimed_ahead(void **state)
{
    fixture *f = *state;
    enum { N = 6 };
    f->cfg.delivery.concurrency = 1;   /* one in flight, the rest claimed ahead */
    int64_t slow = add_site(f, "slow", "/delay/300", NULL);
    int64_t ids[N];
    for (int i = 0; i < N; i++)
        ids[i] = add_msg(f, slow, NULL);
    engine *e = start(f, false);
    assert_true(tu_wait_for(first_request_seen, &f->rcv, 10000));
    assert_int_equal(store_site_set_enabled(f->st, slow, false, NULL), HD_OK);
    /* The one in flight ends; nothing after it starts (a second one may
     * have started before the engine's site cache saw the pause). */
    wait_done(f, ids, 1, 10000);
    /* Every message ends Done (sent) or Queued and released (claimed ahead,
     * given back once the pause was seen); none is left leased. */
    assert_true(tu_wait_each(f->st, ids, N, done_or_released, 10000));
    int sent = tu_log_count(&f->rcv, "/delay/300");
    assert_true(sent >= 1 && sent <= 2);
    int queued = 0;
    for (int i = 0; i < N; i++) {
        message m = get_msg(f, ids[i]);
        if (m.status == MSG_QUEUED) {
            queued++;
            assert_false(m.in_flight);   /* released, not left to expire */
        }
        message_free(&m);
    }
    assert_int_equal(queued, N - sent);
    finish(e);
}

/* Retention: the engine purges finished messages older than `retention`
 * in the background, chunk by chunk, and never a pending one. */
static bool all_purged(void *arg)
{
    fixture *f = arg;
    int64_t n = -1;
    msg_filter done = { .status_mask = MSG_STATUS_BIT(MSG_DONE) };
    return store_messages_count(f->st, &done, &n, NULL) == HD_OK && n == 0;
}

static void test_retention_purge(void **state)
{
    fixture *f = *state;
    enum { N = 7 };
    f->cfg.retention_ms = 300;
    f->cfg.purge_interval_ms = 50;
    f->cfg.purge_chunk = 2;   /* several chunks */
    int64_t ok = add_site(f, "ok", "/ok", NULL);
    int64_t paused = add_site(f, "paused", "/ok", NULL);
    assert_int_equal(store_site_set_enabled(f->st, paused, false, NULL), HD_OK);
    int64_t held = add_msg(f, paused, NULL);
    int64_t ids[N];
    for (int i = 0; i < N; i++)
        ids[i] = add_msg(f, ok, NULL);
    engine *e = start(f, false);
    wait_done(f, ids, N, 10000);
    assert_true(tu_wait_for(all_purged, f, 10000));
    finish(e);
    for (int i = 0; i < N; i++) {
        message m;
        assert_int_equal(store_message_get(f->st, ids[i], &m, NULL), HD_NOT_FOUND);
        attempt_list al;
        assert_int_equal(store_attempts_list(f->st, ids[i], &al, NULL), HD_OK);
        assert_int_equal(al.count, 0);   /* the attempts went with them */
        attempt_list_free(&al);
    }
    message m = get_msg(f, held);   /* pending: older than retention, kept */
    assert_int_equal(m.status, MSG_QUEUED);
    message_free(&m);
}

static void timeout_400ms(site *s)
{
    s->timeout_ms = 400;
}

/* With a short delivery.lease, messages claimed ahead of a slow transfer go
 * stale and are given back, then claimed afresh: every one is still sent
 * exactly once and ends Done. */
static void test_stale_claims_released_and_reclaimed(void **state)
{
    fixture *f = *state;
    enum { N = 4 };
    f->cfg.delivery.concurrency = 1;
    f->cfg.delivery.lease_ms = 200;   /* a transfer must start within 100 ms of its claim */
    /* Leases of 400 + 200 ms: without the check, the third message claimed
     * ahead would still wait in the reserve when its lease ran out, and this
     * very engine would claim it a second time. */
    int64_t slow = add_site(f, "slow", "/delay/300", timeout_400ms);
    int64_t ids[N];
    for (int i = 0; i < N; i++)
        ids[i] = add_msg(f, slow, NULL);
    engine *e = start(f, false);
    wait_done(f, ids, N, 15000);
    finish(e);
    assert_int_equal(tu_log_count(&f->rcv, "/delay/300"), N);
    for (int i = 0; i < N; i++) {
        message m = get_msg(f, ids[i]);
        assert_int_equal(m.status, MSG_DONE);
        assert_int_equal(m.attempts, 1);
        message_free(&m);
    }
}

/* The console runs its engine at a higher nice value: the engine's two
 * threads (curl and committer) show it in /proc. */
static int threads_with_nice(int nice)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int found = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[300], buf[1024];
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", de->d_name);
        FILE *fp = fopen(path, "r");
        if (!fp)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
        buf[n] = '\0';
        /* Fields after the ")" of the command: state is field 3, nice 19. */
        const char *p = strrchr(buf, ')');
        int field = 2;
        long value = 0;
        for (; p && *p; p++) {
            if (*p == ' ' && ++field == 19) {
                value = strtol(p + 1, NULL, 10);
                break;
            }
        }
        if (field == 19 && value == nice)
            found++;
    }
    closedir(d);
    return found;
}

static void test_engine_thread_nice(void **state)
{
    fixture *f = *state;
    assert_int_equal(threads_with_nice(7), 0);
    engine_options opt = { .quiet = true, .nice = 7 };
    engine *e = NULL;
    hd_error err = {0};
    assert_int_equal(engine_start(&f->cfg, &opt, &e, &err), HD_OK);
    int found = 0;
    for (int i = 0; i < 100 && found == 0; i++) {   /* the thread sets it as it starts */
        found = threads_with_nice(7);
        if (!found)
            tu_sleep_ms(10);
    }
    finish(e);
    assert_int_equal(found, 2);   /* the engine thread and its committer */
}

static void test_two_engines_no_double_send(void **state)
{
    fixture *f = *state;
    enum { N = 300 };
    /* Every message needs two attempts (500 then 200): 600 requests. */
    int64_t site_id = add_site(f, "shared", "/seq/500,200", NULL);
    int64_t *ids = calloc(N, sizeof *ids);
    for (int i = 0; i < N; i++)
        ids[i] = add_msg(f, site_id, NULL);
    f->cfg.delivery.retry_interval_ms = 10;
    engine *a = start(f, false);
    engine *b = start(f, false);
    wait_done(f, ids, N, 60000);
    wait_stats(a, b, 2 * N);
    engine_stats sa, sb;
    engine_get_stats(a, &sa);
    engine_get_stats(b, &sb);
    finish(a);
    finish(b);
    for (int i = 0; i < N; i++) {
        message m = get_msg(f, ids[i]);
        assert_int_equal(m.status, MSG_DONE);
        assert_int_equal(m.attempts, 2);
        message_free(&m);
    }
    free(ids);
    assert_int_equal(sa.attempts + sb.attempts, 2 * N);
    /* Both engines took part (not a proof of anything alone, but a sanity check). */
    assert_true(sa.attempts > 0 && sb.attempts > 0);

    tu_log log;
    assert_true(tu_log_read(&f->rcv, &log));
    assert_int_equal(log.count, 2 * N);
    /* Each webhook-id exactly twice: no attempt was sent by both engines. */
    for (int i = 0; i < log.count; i++) {
        int same = 0;
        for (int j = 0; j < log.count; j++)
            same += strcmp(log.items[i].webhook_id, log.items[j].webhook_id) == 0;
        assert_int_equal(same, 2);
    }
    tu_log_free(&log);
}

static bool three_in_flight(void *arg)
{
    engine_stats s;
    engine_get_stats(arg, &s);
    return s.in_flight == 3;
}

static void test_release_gives_leases_back(void **state)
{
    fixture *f = *state;
    int64_t site_id = add_site(f, "slow", "/delay/1500", NULL);
    int64_t ids[3];
    for (int i = 0; i < 3; i++)
        ids[i] = add_msg(f, site_id, NULL);
    engine *e = start(f, false);
    assert_true(tu_wait_for(three_in_flight, e, 5000));
    for (int i = 0; i < 3; i++) {
        message m = get_msg(f, ids[i]);
        assert_true(m.in_flight);
        message_free(&m);
    }
    int64_t t0 = hd_mono_ms();
    engine_stop(e, ENGINE_STOP_RELEASE);
    hd_error err = {0};
    assert_int_equal(engine_join(e, &err), HD_OK);
    assert_true(hd_mono_ms() - t0 < 1000);   /* did not wait for the 1.5 s answers */
    int64_t now = hd_now_ms();
    for (int i = 0; i < 3; i++) {
        message m = get_msg(f, ids[i]);
        assert_int_equal(m.status, MSG_QUEUED);
        assert_int_equal(m.attempts, 0);
        assert_false(m.in_flight);
        assert_true(m.due_at <= now);   /* claimable again at once */
        message_free(&m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ok_and_drain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_always_500_fails_after_5, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seq_done_after_3_same_webhook_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_texts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_body_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_headers_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_kinds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reused_handles_carry_nothing_over, setup, teardown),
        cmocka_unit_test_setup_teardown(test_private_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paused_site_keeps_queued, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pause_reaches_claimed_ahead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_claims_released_and_reclaimed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_thread_nice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_engines_no_double_send, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_gives_leases_back, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
