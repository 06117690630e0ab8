/* test_queue_state.c - the one rule of why a pending message waits: what
 * wins over what (sending, paused, the circuit, Retry-After, its own time)
 * and the times it gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hd_queue_state.h"

static const int64_t now = 1000000;

static message pending(int64_t due_in)
{
    message m;
    memset(&m, 0, sizeof m);
    m.status = MSG_RESENT;
    m.due_at = now + due_in;
    return m;
}

static void check(queue_state qs, queue_wait wait, int64_t in_ms)
{
    assert_int_equal(qs.wait, wait);
    assert_int_equal(qs.in_ms, in_ms);
}

static void test_order(void **state)
{
    (void)state;
    circuit open = { .state = CIRCUIT_OPEN, .failures = 5, .until_ms = now + 7000 };
    circuit probing = { .state = CIRCUIT_PROBING, .until_ms = now + 30000 };
    message m = pending(4000);
    check(queue_state_of(&m, false, NULL, now), QUEUE_DUE, 4000);
    /* paused wins over the circuit: the Queue and the detail both say so */
    check(queue_state_of(&m, true, &open, now), QUEUE_PAUSED, 0);
    check(queue_state_of(&m, true, NULL, now), QUEUE_PAUSED, 0);
    m.due_at = now - 1;   /* "send now" on a paused site: still paused */
    check(queue_state_of(&m, true, NULL, now), QUEUE_PAUSED, 0);
    /* sending wins over paused */
    m.in_flight = true;
    check(queue_state_of(&m, true, &probing, now), QUEUE_SENDING, 0);
    /* finished wins over all */
    m.status = MSG_DONE;
    check(queue_state_of(&m, true, &probing, now), QUEUE_FINISHED, 0);
    m.status = MSG_FAILED;
    m.in_flight = false;
    check(queue_state_of(&m, false, NULL, now), QUEUE_FINISHED, 0);
}

static void test_circuit(void **state)
{
    (void)state;
    circuit closed = { .state = CIRCUIT_CLOSED };
    circuit open = { .state = CIRCUIT_OPEN, .failures = 5, .until_ms = now + 7000 };
    circuit probing = { .state = CIRCUIT_PROBING, .until_ms = now + 30000 };
    message m = pending(4000);
    check(queue_state_of(&m, false, &closed, now), QUEUE_DUE, 4000);
    /* the probe comes after the message's own time: the circuit holds it */
    check(queue_state_of(&m, false, &open, now), QUEUE_CIRCUIT, 7000);
    /* its own time is later than the probe: its own countdown */
    m.due_at = now + 200000;
    check(queue_state_of(&m, false, &open, now), QUEUE_DUE, 200000);
    /* probe due */
    m.due_at = now - 10;
    open.until_ms = now - 5;
    check(queue_state_of(&m, false, &open, now), QUEUE_CIRCUIT, 0);
    /* a probe under way holds every other message, whenever it is due */
    m.due_at = now + 999999;
    check(queue_state_of(&m, false, &probing, now), QUEUE_CIRCUIT, 0);
    /* ... but not the probe itself */
    m.in_flight = true;
    check(queue_state_of(&m, false, &probing, now), QUEUE_SENDING, 0);
}

static void test_retry_after(void **state)
{
    (void)state;
    circuit closed = { .state = CIRCUIT_CLOSED };
    message m = pending(3540000);
    m.retry_after_ms = 3540000;
    check(queue_state_of(&m, false, &closed, now), QUEUE_RETRY_AFTER, 3540000);
    check(queue_state_of(&m, true, &closed, now), QUEUE_PAUSED, 0);
    m.due_at = now - 1;   /* the wait is over: due */
    check(queue_state_of(&m, false, NULL, now), QUEUE_DUE, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_circuit),
        cmocka_unit_test(test_retry_after),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
