/* test_retry.c - the retry policy of SPEC §1: the whole n sequence. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_five_failures),
        cmocka_unit_test(test_success_any_attempt),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_is_success),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
