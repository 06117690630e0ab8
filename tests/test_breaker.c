/* test_breaker.c - the circuit breaker's state machine (src/breaker.c) on
 * its own: what counts as a failure, opening after exactly N, one probe per
 * cool-down, doubling up to the cap, closing on success, the breaker off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "hd_breaker.h"

static const breaker_policy policy = { .failures = 3, .cooldown_ms = 1000,
                                       .max_cooldown_ms = 5000 };

static void test_verdicts(void **state)
{
    (void)state;
    assert_int_equal(breaker_verdict(0, true), VERDICT_FAIL);      /* connect, timeout, TLS */
    assert_int_equal(breaker_verdict(0, false), VERDICT_NEUTRAL);  /* never sent */
    assert_int_equal(breaker_verdict(500, true), VERDICT_FAIL);
    assert_int_equal(breaker_verdict(503, true), VERDICT_FAIL);
    assert_int_equal(breaker_verdict(429, true), VERDICT_FAIL);
    assert_int_equal(breaker_verdict(200, true), VERDICT_OK);
    assert_int_equal(breaker_verdict(404, true), VERDICT_OK);      /* the site is up */
    assert_int_equal(breaker_verdict(301, true), VERDICT_OK);
}

static void test_opens_after_exactly_n(void **state)
{
    (void)state;
    circuit c;
    memset(&c, 0, sizeof c);
    assert_false(breaker_apply(&policy, &c, VERDICT_FAIL, false, "HTTP 500", 100));
    assert_false(breaker_apply(&policy, &c, VERDICT_FAIL, false, "HTTP 500", 200));
    assert_int_equal(c.state, CIRCUIT_CLOSED);
    assert_int_equal(breaker_claimable(&policy, &c, 200), -1);
    /* A success in between starts the count again. */
    assert_false(breaker_apply(&policy, &c, VERDICT_OK, false, NULL, 250));
    assert_int_equal(c.failures, 0);
    /* Neutral outcomes do not count either way. */
    breaker_apply(&policy, &c, VERDICT_FAIL, false, "x", 300);
    breaker_apply(&policy, &c, VERDICT_NEUTRAL, false, NULL, 310);
    breaker_apply(&policy, &c, VERDICT_FAIL, false, "x", 320);
    assert_true(breaker_apply(&policy, &c, VERDICT_FAIL, false, "timed out", 400));
    assert_int_equal(c.state, CIRCUIT_OPEN);
    assert_int_equal(c.until_ms, 1400);
    assert_string_equal(c.reason, "timed out");
    assert_int_equal(breaker_claimable(&policy, &c, 1399), 0);
    assert_int_equal(breaker_claimable(&policy, &c, 1400), 1);
}

static void test_probe_doubles_then_closes(void **state)
{
    (void)state;
    circuit c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < 3; i++)
        breaker_apply(&policy, &c, VERDICT_FAIL, false, "HTTP 503", 0);
    int64_t now = c.until_ms;
    int64_t want[] = { 2000, 4000, 5000, 5000 };   /* doubling, capped at 5 s */
    for (int k = 0; k < 4; k++) {
        assert_int_equal(breaker_claimable(&policy, &c, now), 1);
        breaker_probe_claimed(&c, now + 500);
        assert_int_equal(c.state, CIRCUIT_PROBING);
        /* One probe at a time: nothing more until it ends or its lease does. */
        assert_int_equal(breaker_claimable(&policy, &c, now + 100), 0);
        /* An attempt from before the opening does not decide. */
        assert_false(breaker_apply(&policy, &c, VERDICT_FAIL, false, "late", now + 50));
        assert_int_equal(c.state, CIRCUIT_PROBING);
        assert_true(breaker_apply(&policy, &c, VERDICT_FAIL, true, "HTTP 503", now + 100));
        assert_int_equal(c.state, CIRCUIT_OPEN);
        assert_int_equal(c.cooldown_ms, want[k]);
        assert_int_equal(c.until_ms, now + 100 + want[k]);
        now = c.until_ms;
    }
    breaker_probe_claimed(&c, now + 500);
    assert_true(breaker_apply(&policy, &c, VERDICT_OK, true, NULL, now + 10));
    assert_int_equal(c.state, CIRCUIT_CLOSED);
    assert_int_equal(c.failures, 0);
    assert_string_equal(c.reason, "");
}

static void test_probe_lost_is_replaced(void **state)
{
    (void)state;
    circuit c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < 3; i++)
        breaker_apply(&policy, &c, VERDICT_FAIL, false, "x", 0);
    breaker_probe_claimed(&c, 5000);
    /* Its engine died: once the probe's lease ends, another may go. */
    assert_int_equal(breaker_claimable(&policy, &c, 4999), 0);
    assert_int_equal(breaker_claimable(&policy, &c, 5000), 1);
    /* A probe that never reached the site lets the next one go at once. */
    breaker_probe_claimed(&c, 9000);
    assert_false(breaker_apply(&policy, &c, VERDICT_NEUTRAL, true, NULL, 6000));
    assert_int_equal(breaker_claimable(&policy, &c, 6000), 1);
}

static void test_breaker_off(void **state)
{
    (void)state;
    breaker_policy off = policy;
    off.failures = 0;
    circuit c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < 50; i++)
        assert_false(breaker_apply(&off, &c, VERDICT_FAIL, false, "x", i));
    assert_int_equal(c.state, CIRCUIT_CLOSED);
    assert_int_equal(breaker_claimable(&off, &c, 0), -1);
    /* A stored open state is ignored while the breaker is off. */
    c.state = CIRCUIT_OPEN;
    c.until_ms = 1000000;
    assert_int_equal(breaker_claimable(&off, &c, 0), -1);
    assert_int_equal(breaker_claimable(NULL, &c, 0), -1);
}

static void test_describe(void **state)
{
    (void)state;
    circuit c;
    memset(&c, 0, sizeof c);
    char s[64];
    breaker_describe(&c, 0, false, s, sizeof s);
    assert_string_equal(s, "closed");
    c.state = CIRCUIT_OPEN;
    c.until_ms = 7000;
    breaker_describe(&c, 0, false, s, sizeof s);
    assert_string_equal(s, "open, probe in 7s");
    breaker_describe(&c, 0, true, s, sizeof s);
    assert_string_equal(s, "open 7s");
    breaker_describe(&c, 8000, false, s, sizeof s);
    assert_string_equal(s, "open, probe due");
    c.state = CIRCUIT_PROBING;
    breaker_describe(&c, 0, false, s, sizeof s);
    assert_string_equal(s, "open, probing");
    breaker_describe(&c, 0, true, s, sizeof s);
    assert_string_equal(s, "probing");
    assert_string_equal(circuit_state_name(CIRCUIT_PROBING), "probing");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_opens_after_exactly_n),
        cmocka_unit_test(test_probe_doubles_then_closes),
        cmocka_unit_test(test_probe_lost_is_replaced),
        cmocka_unit_test(test_breaker_off),
        cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
