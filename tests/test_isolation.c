/* test_isolation.c - SPEC §1 Isolation against the real engine, a real
 * SQLite file and the loopback receiver: a dead site does not hold up a
 * healthy one, per-site max_in_flight, round-robin claims (one engine and
 * two), the circuit breaker (opens after exactly N failures, one probe per
 * cool-down, doubling, closes on success, attempt counts exact), the seed's
 * retry rule with the breaker off, Retry-After (seconds, date, cap,
 * garbage), and the cross-process wakeup with an hour-long poll interval.
 *
 * Times come from the attempts the engine recorded (started_at, duration),
 * so the checks are about what happened, not about how fast this machine is;
 * the one comparison of durations (dead + healthy against healthy alone)
 * compares two runs of this same process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

/* From the ASan runtime every test links (sanitizer/allocator_interface.h,
 * which not every compiler installs): the bytes malloc'd and not freed. */
size_t __sanitizer_get_current_allocated_bytes(void);

#include <cmocka.h>

#include "hd_engine.h"
#include "hd_store.h"
#include "hd_util.h"
#include "testutil.h"

typedef tu_world fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    *state = f;
    if (!tu_world_open(f, NULL))
        return -1;
    f->cfg.delivery.retry_interval_ms = 20;
    return 0;
}

static int teardown(void **state)
{
    tu_world_close(*state);
    free(*state);
    return 0;
}

static int64_t add_site(fixture *f, const char *name, const char *path, int max_in_flight,
                        int64_t timeout_ms)
{
    site s;
    site_init(&s);
    s.name = hd_xstrdup(name);
    s.url = hd_xasprintf("%s%s", f->rcv.base_url, path);
    s.max_in_flight = max_in_flight;
    s.timeout_ms = timeout_ms;
    int64_t id = 0;
    hd_error err = {0};
    hd_status rc = store_site_add(f->st, &s, &id, &err);
    if (rc != HD_OK)
        fprintf(stderr, "site_add %s: %s\n", name, err.msg);
    assert_int_equal(rc, HD_OK);
    site_free(&s);
    return id;
}

static void set_site_path(fixture *f, int64_t id, const char *path)
{
    site s;
    hd_error err = {0};
    assert_int_equal(store_site_get(f->st, id, &s, &err), HD_OK);
    free(s.url);
    s.url = hd_xasprintf("%s%s", f->rcv.base_url, path);
    assert_int_equal(store_site_update(f->st, &s, &err), HD_OK);
    site_free(&s);
}

static int64_t *add_msgs(fixture *f, int64_t site_id, int n)
{
    int64_t *ids = calloc((size_t)n, sizeof *ids);
    for (int i = 0; i < n; i++) {
        new_message nm = { .site_id = site_id, .action = "order.created", .customer = "c1",
                           .payload = "{\"n\":1}" };
        hd_error err = {0};
        assert_int_equal(store_message_add(f->st, &nm, &ids[i], &err), HD_OK);
    }
    return ids;
}

static message get_msg(fixture *f, int64_t id)
{
    message m;
    assert_int_equal(store_message_get(f->st, id, &m, NULL), HD_OK);
    return m;
}

static circuit site_circuit(fixture *f, int64_t site_id)
{
    site_stats_list l;
    hd_error err = {0};
    assert_int_equal(store_sites_list(f->st, &l, &err), HD_OK);
    circuit c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < l.count; i++)
        if (l.items[i].s.id == site_id)
            c = l.items[i].circuit;
    site_stats_list_free(&l);
    return c;
}

/* Every attempt of the messages, sorted by start. */
typedef struct span {
    int64_t start, end;
    int64_t message_id;
    int code;
} span;

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start ? 1 : 0;
}

static span *attempts_of(fixture *f, const int64_t *ids, int n, int *count)
{
    span *out = NULL;
    *count = 0;
    for (int i = 0; i < n; i++) {
        attempt_list l;
        assert_int_equal(store_attempts_list(f->st, ids[i], &l, NULL), HD_OK);
        out = realloc(out, sizeof *out * (size_t)(*count + l.count + 1));
        for (int k = 0; k < l.count; k++)
            out[(*count)++] = (span){ l.items[k].started_at,
                                      l.items[k].started_at + l.items[k].duration_ms, ids[i],
                                      l.items[k].response_code };
        attempt_list_free(&l);
    }
    qsort(out, (size_t)*count, sizeof *out, span_cmp);
    return out;
}

/* The most attempts that were under way at one moment.  A start is wall
 * clock and a duration monotonic, both in whole milliseconds: an attempt
 * that ends within 2 ms of the next one's start is not counted as
 * overlapping it. */
static int max_overlap(const span *s, int n)
{
    int best = 0;
    for (int i = 0; i < n; i++) {
        int at = 0;
        for (int j = 0; j < n; j++)
            at += s[j].start <= s[i].start && s[j].end > s[i].start + 2;
        if (at > best)
            best = at;
    }
    return best;
}

static int total_attempts(fixture *f, const int64_t *ids, int n)
{
    int sum = 0;
    for (int i = 0; i < n; i++) {
        message m = get_msg(f, ids[i]);
        sum += m.attempts;
        message_free(&m);
    }
    return sum;
}

/* The live counters (kept by the store as statuses change) against a real
 * count of the rows. */
static void assert_counts_exact(fixture *f)
{
    int64_t live[MSG_STATUS_COUNT];
    assert_int_equal(store_status_counts(f->st, live, NULL), HD_OK);
    for (int s = 0; s < MSG_STATUS_COUNT; s++) {
        /* A time bound makes it count rows instead of reading the counters. */
        msg_filter flt = { .status_mask = MSG_STATUS_BIT(s), .since_ms = 1 };
        int64_t rows = 0;
        assert_int_equal(store_messages_count(f->st, &flt, &rows, NULL), HD_OK);
        if (rows != live[s])
            fail_msg("%s: %lld rows, counter says %lld", msg_status_name((msg_status)s),
                     (long long)rows, (long long)live[s]);
    }
}

static bool is_done(const message *m)
{
    return m->status == MSG_DONE;
}

/* Milliseconds until every message of ids is Done (fails after 30 s). */
static int64_t time_to_done(fixture *f, const int64_t *ids, int n, int64_t t0)
{
    assert_true(tu_wait_each(f->st, ids, n, is_done, 30000));
    return hd_mono_ms() - t0;
}

/* ---- a dead site and a healthy one ---- */

static void test_dead_site_does_not_hold_up_healthy(void **state)
{
    fixture *f = *state;
    enum { HEALTHY = 100, DEAD = 40 };
    f->cfg.delivery.concurrency = 8;      /* max_in_flight: 4 each by default */
    f->cfg.delivery.breaker.failures = 5;
    f->cfg.delivery.breaker.cooldown_ms = 10000;
    f->cfg.delivery.breaker.max_cooldown_ms = 60000;

    /* Alone first: how long the healthy site's messages take by themselves. */
    int64_t solo = add_site(f, "solo", "/ok", 0, 0);
    int64_t *solo_ids = add_msgs(f, solo, HEALTHY);
    int64_t t0 = hd_mono_ms();
    engine *e = tu_engine_start(&f->cfg, false);
    assert_non_null(e);
    int64_t alone_ms = time_to_done(f, solo_ids, HEALTHY, t0);
    assert_true(tu_engine_finish(e));

    /* Then behind a site that never answers within its 1 s timeout. */
    int64_t dead = add_site(f, "dead", "/delay/5000", 0, 1000);
    int64_t healthy = add_site(f, "healthy", "/ok", 0, 0);
    int64_t *dead_ids = add_msgs(f, dead, DEAD);
    int64_t *ids = add_msgs(f, healthy, HEALTHY);
    t0 = hd_mono_ms();
    e = tu_engine_start(&f->cfg, false);
    assert_non_null(e);
    int64_t mixed_ms = time_to_done(f, ids, HEALTHY, t0);
    printf("healthy site: %lld ms alone, %lld ms behind a dead site\n", (long long)alone_ms,
           (long long)mixed_ms);
    /* About twice the solo time at most (plus a little for a loaded machine);
     * before isolation this was the dead site's timeouts, tens of seconds. */
    assert_true(mixed_ms <= 2 * alone_ms + 500);

    /* The dead site never had more than its share of the slots... */
    int n = 0;
    span *sp = attempts_of(f, dead_ids, DEAD, &n);
    assert_true(max_overlap(sp, n) <= 4);
    free(sp);
    /* ...and its circuit opens after its fifth failure: its messages wait. */
    circuit c;
    for (int i = 0; i < 200; i++) {
        c = site_circuit(f, dead);
        if (c.state != CIRCUIT_CLOSED)
            break;
        tu_sleep_ms(20);
    }
    assert_int_equal(c.state, CIRCUIT_OPEN);
    assert_true(c.failures >= 5);
    assert_non_null(strstr(c.reason, "timed out"));
    assert_true(tu_engine_finish(e));
    /* Only the attempts that were under way when it opened went on: 5 to
     * open it, at most the 4 others in flight then. */
    int spent = total_attempts(f, dead_ids, DEAD);
    printf("dead site: %d attempts, circuit %s after %d failures\n", spent,
           circuit_state_name(c.state), c.failures);
    assert_true(spent >= 5 && spent <= 8);
    free(solo_ids);
    free(dead_ids);
    free(ids);
}

/* ---- the breaker ---- */

static bool circuit_open_now(fixture *f, int64_t site_id)
{
    return site_circuit(f, site_id).state != CIRCUIT_CLOSED;
}

static void test_breaker_opens_probes_and_closes(void **state)
{
    fixture *f = *state;
    enum { N = 4, FAILURES = 3 };
    f->cfg.delivery.max_attempts = 20;
    f->cfg.delivery.breaker.failures = FAILURES;
    f->cfg.delivery.breaker.cooldown_ms = 150;
    f->cfg.delivery.breaker.max_cooldown_ms = 600;
    /* One at a time, so "exactly N failures" is not blurred by transfers
     * that were already under way when it opened. */
    int64_t site_id = add_site(f, "flaky", "/status/500", 1, 0);
    int64_t *ids = add_msgs(f, site_id, N);
    engine *e = tu_engine_start(&f->cfg, false);
    assert_non_null(e);

    for (int i = 0; i < 250 && !circuit_open_now(f, site_id); i++)
        tu_sleep_ms(20);
    circuit c = site_circuit(f, site_id);
    assert_int_equal(c.state == CIRCUIT_OPEN || c.state == CIRCUIT_PROBING, true);
    assert_int_equal(c.cooldown_ms >= 150, true);
    assert_non_null(strstr(c.reason, "HTTP 500"));
    /* Probes: the cool-downs go 150, 300, 600, 600 ms. */
    tu_sleep_ms(1800);
    set_site_path(f, site_id, "/ok");
    assert_true(tu_wait_each(f->st, ids, N, is_done, 20000));
    assert_int_equal(site_circuit(f, site_id).state, CIRCUIT_CLOSED);
    assert_int_equal(site_circuit(f, site_id).failures, 0);
    assert_true(tu_engine_finish(e));

    int n = 0;
    span *sp = attempts_of(f, ids, N, &n);
    /* Every attempt recorded is one the receiver saw, and the other way round. */
    assert_int_equal(n, total_attempts(f, ids, N));
    assert_int_equal(tu_log_count(&f->rcv, "/"), n);
    assert_true(max_overlap(sp, n) <= 1);
    /* The first FAILURES attempts come retry_interval apart; then each gap
     * is at least the cool-down, which doubles up to its cap. */
    int64_t cool = 150;
    for (int i = FAILURES; i < n && sp[i - 1].code != 200; i++) {
        int64_t gap = sp[i].start - sp[i - 1].end;
        if (gap < cool - 5)
            fail_msg("attempt %d came %lld ms after the one before; cool-down %lld ms", i + 1,
                     (long long)gap, (long long)cool);
        cool = cool * 2 > 600 ? 600 : cool * 2;
    }
    /* 1.8 s of open circuit: a handful of probes (the last one closes it,
     * then the N messages go), not a retry every 20 ms. */
    int probes = 0;
    for (int i = FAILURES; i < n && sp[i - 1].code != 200; i++)
        probes++;
    printf("%d attempts: %d to open, %d probes\n", n, FAILURES, probes);
    assert_true(probes >= 3 && probes <= 6);
    assert_int_equal(n - FAILURES - probes, N - 1);
    assert_counts_exact(f);
    free(sp);
    free(ids);
}

static void test_breaker_off_keeps_the_retry_rule(void **state)
{
    fixture *f = *state;
    enum { N = 3 };
    f->cfg.delivery.max_attempts = 5;
    f->cfg.delivery.retry_interval_ms = 100;
    f->cfg.delivery.breaker.failures = 0;
    int64_t site_id = add_site(f, "down", "/status/503", 0, 0);
    int64_t *ids = add_msgs(f, site_id, N);
    engine *e = tu_engine_start(&f->cfg, false);
    assert_non_null(e);
    assert_true(tu_wait_final(f->st, ids, N, 20000));
    assert_true(tu_engine_finish(e));
    for (int i = 0; i < N; i++) {
        message m = get_msg(f, ids[i]);
        assert_int_equal(m.status, MSG_FAILED);
        assert_int_equal(m.attempts, 5);
        message_free(&m);
        int n = 0;
        span *sp = attempts_of(f, &ids[i], 1, &n);
        assert_int_equal(n, 5);
        for (int k = 1; k < n; k++)
            assert_true(sp[k].start - sp[k - 1].end >= 100 - 2);
        free(sp);
    }
    assert_int_equal(site_circuit(f, site_id).state, CIRCUIT_CLOSED);
    assert_counts_exact(f);
    free(ids);
}

/* ---- fair share ---- */

static void test_fair_share_one_engine(void **state)
{
    fixture *f = *state;
    f->cfg.delivery.concurrency = 4;      /* max_in_flight 2 by default */
    int64_t slow = add_site(f, "slow", "/delay/150", 0, 0);
    int64_t single = add_site(f, "single", "/delay/150", 1, 0);
    int64_t quick = add_site(f, "quick", "/ok", 0, 0);
    int64_t *slow_ids = add_msgs(f, slow, 30);
    int64_t *single_ids = add_msgs(f, single, 6);
    /* Queued last: strictly oldest first, it would wait for all 36. */
    int64_t *quick_ids = add_msgs(f, quick, 1);
    engine *e = tu_engine_start(&f->cfg, false);
    assert_non_null(e);
    assert_true(tu_wait_final(f->st, quick_ids, 1, 20000));
    /* Served with the first round, long before the slow site's backlog. */
    int64_t slow_pending = 0;
    msg_filter flt = { .status_mask = MSG_PENDING_MASK, .site_id = slow };
    assert_int_equal(store_messages_count(f->st, &flt, &slow_pending, NULL), HD_OK);
    assert_true(slow_pending >= 20);
    assert_true(tu_wait_final(f->st, slow_ids, 30, 30000));
    assert_true(tu_wait_final(f->st, single_ids, 6, 30000));
    assert_true(tu_engine_finish(e));
    int n = 0;
    span *sp = attempts_of(f, slow_ids, 30, &n);
    assert_int_equal(n, 30);
    assert_int_equal(max_overlap(sp, n), 2);   /* its share, and all of it */
    free(sp);
    sp = attempts_of(f, single_ids, 6, &n);
    assert_int_equal(max_overlap(sp, n), 1);   /* its own max_in_flight */
    free(sp);
    free(slow_ids);
    free(single_ids);
    free(quick_ids);
}

static void test_fair_share_two_engines(void **state)
{
    fixture *f = *state;
    f->cfg.delivery.concurrency = 4;
    int64_t slow = add_site(f, "slow", "/delay/100", 2, 0);
    int64_t quick = add_site(f, "quick", "/ok", 0, 0);
    int64_t *slow_ids = add_msgs(f, slow, 40);
    int64_t *quick_ids = add_msgs(f, quick, 2);
    engine *a = tu_engine_start(&f->cfg, false);
    engine *b = tu_engine_start(&f->cfg, false);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(tu_wait_final(f->st, quick_ids, 2, 20000));
    int64_t slow_pending = 0;
    msg_filter flt = { .status_mask = MSG_PENDING_MASK, .site_id = slow };
    assert_int_equal(store_messages_count(f->st, &flt, &slow_pending, NULL), HD_OK);
    assert_true(slow_pending >= 25);
    assert_true(tu_wait_final(f->st, slow_ids, 40, 30000));
    engine_stats sa, sb;
    engine_get_stats(a, &sa);
    engine_get_stats(b, &sb);
    assert_true(tu_engine_finish(a));
    assert_true(tu_engine_finish(b));
    int n = 0;
    span *sp = attempts_of(f, slow_ids, 40, &n);
    assert_int_equal(n, 40);
    /* Two per engine. */
    assert_true(max_overlap(sp, n) <= 4);
    assert_int_equal(tu_log_count(&f->rcv, "/delay/"), 40);
    assert_true(sa.attempts > 0 && sb.attempts > 0);
    free(sp);
    free(slow_ids);
    free(quick_ids);
}

/* ---- Retry-After ---- */

/* The gap between a message's two attempts (it gets two: max_attempts 2);
 * *second_at: when the second one started (epoch ms). */
static int64_t retry_gap_at(fixture *f, const char *path, int64_t *asked_ms, int64_t *second_at)
{
    static int k;
    char name[32];
    snprintf(name, sizeof name, "ra%d", k++);
    int64_t site_id = add_site(f, name, path, 0, 0);
    int64_t *ids = add_msgs(f, site_id, 1);
    engine *e = tu_engine_start(&f->cfg, false);
    assert_non_null(e);
    /* Between the attempts the message says why it waits. */
    *asked_ms = 0;
    for (int i = 0; i < 500; i++) {
        message m = get_msg(f, ids[0]);
        bool waiting = m.attempts == 1 && m.status == MSG_RESENT;
        if (waiting)
            *asked_ms = m.retry_after_ms;
        message_free(&m);
        if (waiting)
            break;
        tu_sleep_ms(10);
    }
    assert_true(tu_wait_final(f->st, ids, 1, 20000));
    assert_true(tu_engine_finish(e));
    int n = 0;
    span *sp = attempts_of(f, ids, 1, &n);
    assert_int_equal(n, 2);
    int64_t gap = sp[1].start - sp[0].end;
    *second_at = sp[1].start;
    free(sp);
    free(ids);
    return gap;
}

static int64_t retry_gap(fixture *f, const char *path, int64_t *asked_ms)
{
    int64_t at;
    return retry_gap_at(f, path, asked_ms, &at);
}

static void test_retry_after(void **state)
{
    fixture *f = *state;
    f->cfg.delivery.max_attempts = 2;
    f->cfg.delivery.retry_interval_ms = 20;
    f->cfg.delivery.max_retry_after_ms = 3000;
    int64_t asked;

    int64_t gap = retry_gap(f, "/retryafter/503/1", &asked);
    assert_true(gap >= 1000 - 5 && gap < 3000);
    assert_true(asked >= 900 && asked <= 1000);

    /* An HTTP date three seconds ahead: the second attempt waits for it
     * (whole seconds, however long the first one took to go out). */
    char date[64], path[128];
    time_t t = time(NULL) + 3;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a,%%20%d%%20%b%%20%Y%%20%H:%M:%S%%20GMT", &tm);
    snprintf(path, sizeof path, "/retryafter/429/%s", date);
    int64_t second_at = 0;
    gap = retry_gap_at(f, path, &asked, &second_at);
    assert_true(second_at >= (int64_t)t * 1000 - 5);
    assert_true(gap < 4000);

    /* Capped by delivery.max_retry_after. */
    f->cfg.delivery.max_retry_after_ms = 300;
    gap = retry_gap(f, "/retryafter/503/3600", &asked);
    assert_true(gap >= 300 - 5 && gap < 2000);
    assert_true(asked > 0 && asked <= 300);

    /* Not a number nor a date: ignored, the retry interval applies. */
    gap = retry_gap(f, "/retryafter/503/soon", &asked);
    assert_true(gap < 1000);
    assert_int_equal(asked, 0);
    /* Retry-After on a 500 is not a request to wait. */
    gap = retry_gap(f, "/retryafter/500/2", &asked);
    assert_true(gap < 1000);
    assert_int_equal(asked, 0);
}

/* ---- the wakeup ---- */

static void test_commit_elsewhere_wakes_the_engine(void **state)
{
    fixture *f = *state;
    f->cfg.delivery.poll_interval_ms = 3600 * 1000;
    int64_t site_id = add_site(f, "wake", "/ok", 0, 0);
    engine *e = tu_engine_start(&f->cfg, false);
    assert_non_null(e);
    tu_sleep_ms(300);   /* idle now, its next look an hour away */
    /* The test's own connection is another connection of the database, as
     * a `hookdesk send` would be; nobody calls engine_wakeup. */
    int64_t t0 = hd_mono_ms();
    int64_t *ids = add_msgs(f, site_id, 1);
    assert_true(tu_wait_final(f->st, ids, 1, 5000));
    int64_t took = hd_mono_ms() - t0;
    printf("delivered %lld ms after the commit (poll interval 1 h)\n", (long long)took);
    assert_true(took < 5000);
    message m = get_msg(f, ids[0]);
    assert_int_equal(m.status, MSG_DONE);
    message_free(&m);
    assert_true(tu_engine_finish(e));
    free(ids);
}

/* ---- every request that leaves is a recorded attempt ---- */

/* The receiver answers the first request of a connection and closes any
 * later one after reading it: libcurl would send the request again on a new
 * connection by itself, a POST nobody recorded. */
static void test_no_unrecorded_resends(void **state)
{
    fixture *f = *state;
    enum { N = 6 };
    f->cfg.delivery.concurrency = 1;
    f->cfg.delivery.max_attempts = 5;
    int64_t site_id = add_site(f, "closer", "/keepthendrop", 0, 0);
    int64_t *ids = calloc(N, sizeof *ids);
    engine *e = tu_engine_start(&f->cfg, false);
    assert_non_null(e);
    /* One at a time, each after the previous one's answer, so that each
     * goes out on the connection the previous one kept alive. */
    for (int i = 0; i < N; i++) {
        int64_t *one = add_msgs(f, site_id, 1);
        ids[i] = one[0];
        free(one);
        assert_true(tu_wait_final(f->st, &ids[i], 1, 10000));
    }
    assert_true(tu_engine_finish(e));
    int recorded = total_attempts(f, ids, N);
    int received = tu_log_count(&f->rcv, "/keepthendrop");
    printf("%d messages: %d attempts recorded, %d requests received\n", N, recorded, received);
    assert_int_equal(received, recorded);
    assert_true(recorded > N);   /* the dropped ones were retried by the engine */
    for (int i = 0; i < N; i++) {
        message m = get_msg(f, ids[i]);
        assert_int_equal(m.status, MSG_DONE);
        message_free(&m);
    }
    free(ids);
}

/* ---- memory bounded by bytes ---- */

/* n messages whose payload is {"pad":"xxx..."} with pad bytes of x. */
static void add_big_msgs(fixture *f, int64_t site_id, int n, size_t pad, int64_t *ids)
{
    char *payload = malloc(pad + 16);
    assert_non_null(payload);
    memcpy(payload, "{\"pad\":\"", 8);
    memset(payload + 8, 'x', pad);
    memcpy(payload + 8 + pad, "\"}", 3);
    for (int i = 0; i < n; i++) {
        new_message nm = { .site_id = site_id, .action = "big", .payload = payload };
        assert_int_equal(store_message_add(f->st, &nm, &ids[i], NULL), HD_OK);
    }
    free(payload);
}

static void test_claims_bounded_by_bytes(void **state)
{
    fixture *f = *state;
    enum { N = 12, PAD = 700 * 1024 };
    f->cfg.delivery.concurrency = 2;     /* byte budget: 2 x 2 MiB */
    int64_t site_id = add_site(f, "big", "/delay/30", 0, 0);
    int64_t ids[N];
    add_big_msgs(f, site_id, N, PAD, ids);
    engine *e = tu_engine_start(&f->cfg, false);
    assert_non_null(e);
    assert_true(tu_wait_each(f->st, ids, N, is_done, 30000));
    engine_stats es;
    engine_get_stats(e, &es);
    assert_true(tu_engine_finish(e));
    printf("held at most %lld bytes of payload (budget %d)\n", (long long)es.held_bytes_max,
           2 * 2 * 1024 * 1024);
    /* Without the byte budget it claims 4 x 2 = 8 at once: 5.6 MB. */
    assert_true(es.held_bytes_max > 0);
    assert_true(es.held_bytes_max <= 4 * 1024 * 1024 + PAD + 16);
}

/* The README's worst case for an engine's memory, checked on the heap (the
 * tests run under ASan, whose allocator counts every live byte: payloads,
 * their copies in requests, claim rows, curl's buffers, SQLite's page
 * caches).  A sampler thread keeps the high-water mark while the engine
 * delivers payloads of max_payload size to a slow site. */
typedef struct heap_sampler {
    pthread_t thread;
    volatile int stop;
    size_t peak;
} heap_sampler;

static void *sample_heap(void *arg)
{
    heap_sampler *hs = arg;
    const struct timespec ms = { 0, 1000 * 1000 };
    while (!hs->stop) {
        size_t now = __sanitizer_get_current_allocated_bytes();
        if (now > hs->peak)
            hs->peak = now;
        nanosleep(&ms, NULL);
    }
    return NULL;
}

static void test_heap_within_the_stated_worst_case(void **state)
{
    fixture *f = *state;
    enum { N = 24, CONC = 4, PAD = 1000 * 1000 };
    const size_t MiB = 1024 * 1024;
    f->cfg.delivery.concurrency = CONC;
    int64_t site_id = add_site(f, "big", "/delay/40", CONC, 0);
    int64_t ids[N];
    add_big_msgs(f, site_id, N, PAD, ids);

    size_t base = __sanitizer_get_current_allocated_bytes();
    heap_sampler hs = { .peak = base };
    assert_int_equal(pthread_create(&hs.thread, NULL, sample_heap, &hs), 0);
    engine *e = tu_engine_start(&f->cfg, false);
    assert_non_null(e);
    /* Waits on the engine's own counters: reading the messages here would
     * put their payloads on this thread's side of the heap. */
    engine_stats es = { 0 };
    for (int waited = 0; waited < 60000 && es.done < N; waited += 10) {
        const struct timespec ten_ms = { 0, 10 * 1000 * 1000 };
        nanosleep(&ten_ms, NULL);
        engine_get_stats(e, &es);
    }
    assert_int_equal(es.done, N);
    assert_true(tu_engine_finish(e));
    hs.stop = 1;
    pthread_join(hs.thread, NULL);

    /* README "Bounded memory": two page caches of 8 MiB, 2.5 x concurrency
     * x 2 MiB of payloads (held, their copy in the request, a claim's rows),
     * concurrency x (max_response_body + 64 KiB of headers); plus 2 MiB for
     * curl, its connections and the engine's own tables. */
    size_t bound = 16 * MiB + (size_t)(2.5 * CONC * 2 * MiB) +
                   CONC * ((size_t)f->cfg.delivery.max_response_body + 64 * 1024) + 2 * MiB;
    size_t grew = hs.peak - base;
    printf("heap grew by at most %.1f MiB while delivering %d payloads of %d KB at "
           "concurrency %d (stated worst case %.1f MiB)\n",
           (double)grew / (double)MiB, N, PAD / 1000, CONC, (double)bound / (double)MiB);
    assert_true(grew > (size_t)PAD);   /* the sampler saw the payloads */
    assert_true(grew <= bound);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dead_site_does_not_hold_up_healthy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_heap_within_the_stated_worst_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_breaker_opens_probes_and_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_breaker_off_keeps_the_retry_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fair_share_one_engine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fair_share_two_engines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_elsewhere_wakes_the_engine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_unrecorded_resends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claims_bounded_by_bytes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
