/* hd_retry.h - the retry policy of SPEC §1 as a pure function, and the
 * receiver's say in it: Retry-After (RFC 9110 §10.2.3) on 429 and 503. */
#ifndef HD_RETRY_H
#define HD_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "hd_message.h"

/* The cap on a Retry-After wait when the policy names none: one hour. */
#define HD_RETRY_AFTER_CAP_DEFAULT_MS (3600LL * 1000)

typedef struct retry_policy {
    int max_attempts;          /* attempts in all */
    int64_t retry_interval_ms; /* wait after an error */
    int64_t max_retry_after_ms; /* longest wait a Retry-After may ask for;
                                   0 (or below) = HD_RETRY_AFTER_CAP_DEFAULT_MS */
} retry_policy;

typedef struct retry_decision {
    msg_status status;         /* Done, Resent or Failed */
    int64_t next_due_at;       /* epoch ms of the next attempt when Resent, else 0 */
} retry_decision;

/* attempt_number counts the attempt just made (1 = first).
 * Same as retry_decide_after(p, attempt_number, success, finished_at_ms, -1). */
retry_decision retry_decide(const retry_policy *p, int attempt_number, bool success,
                            int64_t finished_at_ms);

/* retry_decide, with the wait the receiver asked for (retry_after_ms, from
 * retry_after_from_response; < 0 = none).  When Resent, the next attempt is
 * due at finished_at_ms + max(retry_interval, min(retry_after_ms, cap)),
 * cap = p->max_retry_after_ms, or HD_RETRY_AFTER_CAP_DEFAULT_MS when that is
 * <= 0 (the sum saturates at INT64_MAX).  Done and Failed are decided as by
 * retry_decide: the last allowed attempt fails whatever Retry-After says. */
retry_decision retry_decide_after(const retry_policy *p, int attempt_number, bool success,
                                  int64_t finished_at_ms, int64_t retry_after_ms);

/* The wait in ms that a Retry-After header value asks for, at now_ms (epoch
 * ms): delta-seconds ("120": digits only, surrounding spaces/tabs allowed;
 * values too large for INT64 milliseconds give INT64_MAX) or an HTTP-date
 * (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", and the obsolete RFC 850
 * "Sunday, 06-Nov-94 08:49:37 GMT" and asctime "Sun Nov  6 08:49:37 1994"
 * forms; English names whatever the locale).  A date not in the future gives
 * 0.  Anything else ("soon", "", "-5", "1.5", "12abc", NULL) gives -1:
 * ignore it. */
int64_t retry_after_parse(const char *value, int64_t now_ms);

/* The Retry-After wait of a response: response_headers is the stored text,
 * "Name: value\n" lines (attempt.response_headers; a trailing '\r' is
 * tolerated).  The name matches case-insensitively, the first Retry-After
 * line wins and its value is trimmed.  Returns the wait (>= 0) only for 429
 * and 503 with a valid Retry-After; -1 otherwise (other codes, no header, an
 * invalid value, NULL headers). */
int64_t retry_after_from_response(int response_code, const char *response_headers,
                                  int64_t now_ms);

/* Success = any 2xx. */
bool retry_is_success(int http_code);

#endif
