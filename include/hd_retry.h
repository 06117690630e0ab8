/* hd_retry.h - the retry policy of SPEC §1 as a pure function. */
#ifndef HD_RETRY_H
#define HD_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "hd_store.h"

typedef struct retry_policy {
    int max_attempts;          /* attempts in all */
    int64_t retry_interval_ms; /* wait after an error */
} retry_policy;

typedef struct retry_decision {
    msg_status status;         /* Done, Resent or Failed */
    int64_t next_due_at;       /* epoch ms of the next attempt when Resent, else 0 */
} retry_decision;

/* attempt_number counts the attempt just made (1 = first). */
retry_decision retry_decide(const retry_policy *p, int attempt_number, bool success,
                            int64_t finished_at_ms);
/* Success = any 2xx. */
bool retry_is_success(int http_code);

#endif
