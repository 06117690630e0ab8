/* retry.c - the retry policy of SPEC §1 as a pure function, so the engine,
 * the tests and any future backend agree on exactly one rule. */
#include "hd_retry.h"

retry_decision retry_decide(const retry_policy *p, int attempt_number, bool success,
                            int64_t finished_at_ms)
{
    retry_decision d = { MSG_DONE, 0 };
    if (success)
        return d;
    /* max_attempts counts every attempt, the first one included; a policy
     * below 1 still allows the attempt that was just made. */
    int max = p->max_attempts < 1 ? 1 : p->max_attempts;
    if (attempt_number >= max) {
        d.status = MSG_FAILED;
        return d;
    }
    int64_t wait = p->retry_interval_ms < 0 ? 0 : p->retry_interval_ms;
    d.status = MSG_RESENT;
    d.next_due_at = finished_at_ms + wait;
    return d;
}

bool retry_is_success(int http_code)
{
    return http_code >= 200 && http_code <= 299;
}
