/* test_retry.c - the retry policy of SPEC §1: the whole n sequence; and
 * Retry-After (parsing, header lookup, its place in the decision). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hd_retry.h"

/* Five failing attempts with the defaults: Resent four times, each due
 * retry_interval after the n finished, then Failed. */
static void test_five_failures(void **state)
{
    (void)state;
    retry_policy p = { .max_attempts = 5, .retry_interval_ms = 10000 };
    int64_t now = 1700000000000LL;
    int retries = 0;
    for (int n = 1; n <= 5; n++) {
        int64_t finished = now + 250;   /* the attempt took 250 ms */
        retry_decision d = retry_decide(&p, n, false, finished);
        if (n < 5) {
            assert_int_equal(d.status, MSG_RESENT);
            assert_int_equal(d.next_due_at, finished + 10000);
            now = d.next_due_at;
            retries++;
        } else {
            assert_int_equal(d.status, MSG_FAILED);
            assert_int_equal(d.next_due_at, 0);
        }
    }
    assert_int_equal(retries, 4);   /* "retries" = attempts after the first */
    /* Total time from the first n: four waits plus five attempts. */
    assert_int_equal(now + 250 - 1700000000000LL, 4 * 10000 + 5 * 250);
}

/* Success at any n is Done, even the last allowed one. */
static void test_success_any_attempt(void **state)
{
    (void)state;
    retry_policy p = { .max_attempts = 5, .retry_interval_ms = 10000 };
    for (int n = 1; n <= 5; n++) {
        retry_decision d = retry_decide(&p, n, true, 5000);
        assert_int_equal(d.status, MSG_DONE);
        assert_int_equal(d.next_due_at, 0);
    }
}

static void test_edges(void **state)
{
    (void)state;
    retry_policy one = { .max_attempts = 1, .retry_interval_ms = 50 };
    assert_int_equal(retry_decide(&one, 1, false, 100).status, MSG_FAILED);
    retry_policy fast = { .max_attempts = 3, .retry_interval_ms = 50 };
    retry_decision d = retry_decide(&fast, 2, false, 1000);
    assert_int_equal(d.status, MSG_RESENT);
    assert_int_equal(d.next_due_at, 1050);
    /* An attempt beyond the limit (e.g. max_attempts lowered since) fails. */
    assert_int_equal(retry_decide(&fast, 7, false, 1000).status, MSG_FAILED);
    /* Zero interval: due at once. */
    retry_policy now = { .max_attempts = 2, .retry_interval_ms = 0 };
    d = retry_decide(&now, 1, false, 1234);
    assert_int_equal(d.status, MSG_RESENT);
    assert_int_equal(d.next_due_at, 1234);
}

static void test_is_success(void **state)
{
    (void)state;
    assert_true(retry_is_success(200));
    assert_true(retry_is_success(201));
    assert_true(retry_is_success(204));
    assert_true(retry_is_success(299));
    assert_false(retry_is_success(0));     /* network error: no response */
    assert_false(retry_is_success(199));
    assert_false(retry_is_success(300));
    assert_false(retry_is_success(301));   /* redirects are not followed */
    assert_false(retry_is_success(404));
    assert_false(retry_is_success(500));
    assert_false(retry_is_success(-1));
}

/* ---- Retry-After ---- */

/* 2023-11-14 22:13:20 UTC, a whole second. */
static const int64_t NOW = 1700000000000LL;

static void test_after_seconds(void **state)
{
    (void)state;
    assert_int_equal(retry_after_parse("120", NOW), 120000);
    assert_int_equal(retry_after_parse("0", NOW), 0);
    assert_int_equal(retry_after_parse("  7 ", NOW), 7000);
    assert_int_equal(retry_after_parse("\t3\t", NOW), 3000);
    assert_int_equal(retry_after_parse("007", NOW), 7000);
    /* Does not depend on now. */
    assert_int_equal(retry_after_parse("5", 0), 5000);
}

static void test_after_huge(void **state)
{
    (void)state;
    /* The largest whole-second count that fits in INT64 ms, and one more. */
    assert_int_equal(retry_after_parse("9223372036854775", NOW), 9223372036854775000LL);
    assert_int_equal(retry_after_parse("9223372036854776", NOW), INT64_MAX);
    assert_int_equal(retry_after_parse("99999999999999999999999999999999999999", NOW), INT64_MAX);
    assert_int_equal(retry_after_parse("18446744073709551617", NOW), INT64_MAX);
    /* Huge but not a number is still garbage. */
    assert_int_equal(retry_after_parse("99999999999999999999999x", NOW), -1);
}

static void test_after_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "soon", "", "   ", "-5", "+5", "1.5", "12abc", "12 34", "0x10", "1e3",
        "Sun, 06 Nov 1994 08:49:37",          /* no GMT */
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 GMT x",
        "Sun, 31 Feb 2030 08:49:37 GMT",      /* no such day */
        "Sun, 06 Foo 2030 08:49:37 GMT",
        "Sun, 06 Nov 2030 24:00:00 GMT",
        "Sun, 06 Nov 2030 08:60:00 GMT",
        "Xyz, 06 Nov 2030 08:49:37 GMT",
        "Sun, 06 Nov 30 08:49:37 GMT",        /* IMF wants four digits */
        "Sunday, 06-Nov-2030 08:49:37 GMT",   /* RFC 850 wants two */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (retry_after_parse(bad[i], NOW) != -1)
            fail_msg("\"%s\" should be ignored", bad[i]);
    }
    assert_int_equal(retry_after_parse(NULL, NOW), -1);
}

static void test_after_date(void **state)
{
    (void)state;
    /* NOW is Tue, 14 Nov 2023 22:13:20 GMT. */
    assert_int_equal(retry_after_parse("Tue, 14 Nov 2023 22:15:20 GMT", NOW), 120000);
    assert_int_equal(retry_after_parse("  Tue, 14 Nov 2023 22:15:20 GMT  ", NOW), 120000);
    assert_int_equal(retry_after_parse("Wed, 15 Nov 2023 22:13:20 GMT", NOW), 86400000);
    /* Not a whole second from now. */
    assert_int_equal(retry_after_parse("Tue, 14 Nov 2023 22:13:21 GMT", NOW + 250), 750);
    /* Obsolete forms. */
    assert_int_equal(retry_after_parse("Tuesday, 14-Nov-23 22:15:20 GMT", NOW), 120000);
    assert_int_equal(retry_after_parse("Tue Nov 14 22:15:20 2023", NOW), 120000);
    assert_int_equal(retry_after_parse("Fri Dec  1 00:00:00 2023", NOW),
                     1701388800000LL - NOW);
    /* Leap day. */
    assert_int_equal(retry_after_parse("Thu, 29 Feb 2024 00:00:00 GMT", NOW),
                     1709164800000LL - NOW);
    /* Now or in the past: no wait. */
    assert_int_equal(retry_after_parse("Tue, 14 Nov 2023 22:13:20 GMT", NOW), 0);
    assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", NOW), 0);
    assert_int_equal(retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", NOW), 0);
    assert_int_equal(retry_after_parse("Sun Nov  6 08:49:37 1994", NOW), 0);
    /* The RFC's example is 784111777 s after the epoch. */
    assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", 784111777000LL - 1000),
                     1000);
    assert_int_equal(retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", 784111777000LL - 1000),
                     1000);
    assert_int_equal(retry_after_parse("Sun Nov  6 08:49:37 1994", 784111777000LL - 1000), 1000);
}

static void test_after_from_response(void **state)
{
    (void)state;
    const char *h = "Content-Type: text/plain\nretry-after: 30\nRetry-After: 99\n";
    assert_int_equal(retry_after_from_response(503, h, NOW), 30000);   /* first wins */
    assert_int_equal(retry_after_from_response(429, h, NOW), 30000);
    assert_int_equal(retry_after_from_response(429, "RETRY-AFTER:5", NOW), 5000);
    assert_int_equal(retry_after_from_response(429, "X: 1\nReTrY-aFtEr:   12   \r\nY: 2", NOW),
                     12000);
    assert_int_equal(
        retry_after_from_response(503, "Retry-After: Tue, 14 Nov 2023 22:14:20 GMT\n", NOW),
        60000);
    assert_int_equal(retry_after_from_response(503, "Retry-After: 0\n", NOW), 0);
    /* Only 429 and 503. */
    static const int others[] = { 0, 200, 301, 400, 404, 500, 502, 504 };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        assert_int_equal(retry_after_from_response(others[i], h, NOW), -1);
    /* No header, a look-alike, an invalid value, no headers at all. */
    assert_int_equal(retry_after_from_response(503, "Content-Length: 0\n", NOW), -1);
    assert_int_equal(retry_after_from_response(503, "X-Retry-After: 5\nRetry-After-X: 5\n", NOW),
                     -1);
    assert_int_equal(retry_after_from_response(503, "Retry-After: soon\nRetry-After: 5\n", NOW),
                     -1);
    assert_int_equal(retry_after_from_response(503, "", NOW), -1);
    assert_int_equal(retry_after_from_response(503, NULL, NOW), -1);
}

static void test_decide_after(void **state)
{
    (void)state;
    retry_policy p = { .max_attempts = 5, .retry_interval_ms = 10000 };
    int64_t fin = NOW + 250;
    /* No Retry-After: exactly retry_decide. */
    for (int n = 1; n <= 6; n++) {
        for (int ok = 0; ok <= 1; ok++) {
            retry_decision a = retry_decide(&p, n, ok, fin);
            retry_decision b = retry_decide_after(&p, n, ok, fin, -1);
            assert_int_equal(a.status, b.status);
            assert_int_equal(a.next_due_at, b.next_due_at);
        }
    }
    /* Longer than the interval: honoured. */
    retry_decision d = retry_decide_after(&p, 1, false, fin, 120000);
    assert_int_equal(d.status, MSG_RESENT);
    assert_int_equal(d.next_due_at, fin + 120000);
    /* Shorter than the interval (or 0): the interval still holds. */
    assert_int_equal(retry_decide_after(&p, 1, false, fin, 3000).next_due_at, fin + 10000);
    assert_int_equal(retry_decide_after(&p, 1, false, fin, 0).next_due_at, fin + 10000);
    /* The default cap: one hour. */
    assert_int_equal(retry_decide_after(&p, 2, false, fin, 7200000).next_due_at, fin + 3600000);
    assert_int_equal(retry_decide_after(&p, 2, false, fin, INT64_MAX).next_due_at,
                     fin + HD_RETRY_AFTER_CAP_DEFAULT_MS);
    /* A policy's own cap. */
    retry_policy capped = { .max_attempts = 5, .retry_interval_ms = 1000,
                            .max_retry_after_ms = 30000 };
    assert_int_equal(retry_decide_after(&capped, 1, false, fin, 60000).next_due_at, fin + 30000);
    assert_int_equal(retry_decide_after(&capped, 1, false, fin, 20000).next_due_at, fin + 20000);
    /* A cap below the interval does not shorten the interval. */
    retry_policy low = { .max_attempts = 5, .retry_interval_ms = 10000,
                         .max_retry_after_ms = 2000 };
    assert_int_equal(retry_decide_after(&low, 1, false, fin, 60000).next_due_at, fin + 10000);
    /* A negative cap means the default. */
    retry_policy neg = { .max_attempts = 5, .retry_interval_ms = 0, .max_retry_after_ms = -1 };
    assert_int_equal(retry_decide_after(&neg, 1, false, fin, INT64_MAX).next_due_at,
                     fin + 3600000);
    /* An enormous cap: the due time saturates instead of overflowing. */
    retry_policy open = { .max_attempts = 5, .retry_interval_ms = 0,
                          .max_retry_after_ms = INT64_MAX };
    assert_int_equal(retry_decide_after(&open, 1, false, fin, INT64_MAX).next_due_at, INT64_MAX);
    /* The last attempt fails whatever the receiver asks; success is Done. */
    d = retry_decide_after(&p, 5, false, fin, 120000);
    assert_int_equal(d.status, MSG_FAILED);
    assert_int_equal(d.next_due_at, 0);
    d = retry_decide_after(&p, 3, true, fin, 120000);
    assert_int_equal(d.status, MSG_DONE);
    assert_int_equal(d.next_due_at, 0);
}

/* From the stored headers to the next due time, as the engine does it. */
static void test_after_end_to_end(void **state)
{
    (void)state;
    retry_policy p = { .max_attempts = 3, .retry_interval_ms = 5000 };
    const char *h = "Date: Tue, 14 Nov 2023 22:13:20 GMT\nRetry-After: 90\n";
    int64_t ra = retry_after_from_response(429, h, NOW);
    assert_int_equal(retry_decide_after(&p, 1, false, NOW, ra).next_due_at, NOW + 90000);
    ra = retry_after_from_response(500, h, NOW);
    assert_int_equal(retry_decide_after(&p, 1, false, NOW, ra).next_due_at, NOW + 5000);
    ra = retry_after_from_response(503, "Retry-After: 99999999999\n", NOW);
    assert_int_equal(retry_decide_after(&p, 2, false, NOW, ra).next_due_at, NOW + 3600000);
    assert_int_equal(retry_decide_after(&p, 3, false, NOW, ra).status, MSG_FAILED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_five_failures),
        cmocka_unit_test(test_success_any_attempt),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_is_success),
        cmocka_unit_test(test_after_seconds),
        cmocka_unit_test(test_after_huge),
        cmocka_unit_test(test_after_garbage),
        cmocka_unit_test(test_after_date),
        cmocka_unit_test(test_after_from_response),
        cmocka_unit_test(test_decide_after),
        cmocka_unit_test(test_after_end_to_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
