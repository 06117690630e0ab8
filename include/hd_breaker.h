/* hd_breaker.h - the circuit breaker of a trusted site (SPEC §1 Isolation),
 * as pure functions over a small state record.
 *
 * The state lives in the database (the sites row) so that every process and
 * console sees it; the store reads and writes it inside the transaction that
 * records outcomes or claims, and calls these functions to decide.  Nothing
 * here does I/O, so the whole state machine is unit-tested on its own.
 *
 *   CLOSED --(policy.failures consecutive failed attempts)--> OPEN until T
 *   OPEN   --(T passed: one message claimed as the probe)---> PROBING
 *   PROBING --(probe succeeded, or any attempt succeeded)---> CLOSED
 *   PROBING --(probe failed)--> OPEN, cool-down doubled (at most max_cooldown)
 *
 * While OPEN (and PROBING) nothing but the probe is claimed, so a site's
 * messages wait without spending attempts.  A probe whose engine died is
 * replaced once its lease (until_ms of PROBING) has passed.
 */
#ifndef HD_BREAKER_H
#define HD_BREAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum circuit_state {
    CIRCUIT_CLOSED = 0,
    CIRCUIT_OPEN = 1,
    CIRCUIT_PROBING = 2
} circuit_state;

/* "closed", "open", "probing" */
const char *circuit_state_name(circuit_state s);

typedef struct breaker_policy {
    int failures;            /* consecutive failed attempts that open it; 0 = breaker off */
    int64_t cooldown_ms;     /* first cool-down (default 10 s) */
    int64_t max_cooldown_ms; /* doubling stops here (default 5 min) */
} breaker_policy;

#define BREAKER_DEFAULT_FAILURES 5
#define BREAKER_DEFAULT_COOLDOWN_MS (10 * 1000)
#define BREAKER_DEFAULT_MAX_COOLDOWN_MS (5 * 60 * 1000)
#define BREAKER_REASON_MAX 200

/* A site's circuit as stored. */
typedef struct circuit {
    circuit_state state;
    int failures;            /* consecutive failed attempts so far */
    int64_t until_ms;        /* OPEN: the next probe may go then; PROBING: the
                                probe's lease ends then (another may go after) */
    int64_t cooldown_ms;     /* the cool-down the last opening used */
    char reason[BREAKER_REASON_MAX]; /* why it opened (the last error), "" when closed */
} circuit;

/* How one attempt counts for the breaker. */
typedef enum attempt_verdict {
    VERDICT_NEUTRAL = 0,     /* says nothing about the site (no request was made:
                                bad request, token endpoint down, site deleted) */
    VERDICT_OK,              /* the site answered (2xx, or a 4xx other than 429) */
    VERDICT_FAIL             /* connect error, timeout, TLS failure, 5xx, 429 */
} attempt_verdict;

/* response_code 0 = no response.  sent: the request reached the network. */
attempt_verdict breaker_verdict(int response_code, bool sent);

/* True when the breaker is on (failures > 0). */
bool breaker_enabled(const breaker_policy *p);

/* What a claim may take from a site whose circuit is c, at now:
 * -1 = no limit (closed), 0 = nothing (open, or a probe under way),
 * 1 = one message, the probe. */
int breaker_claimable(const breaker_policy *p, const circuit *c, int64_t now_ms);

/* A probe was claimed: c becomes PROBING until probe_lease_end_ms. */
void breaker_probe_claimed(circuit *c, int64_t probe_lease_end_ms);

/* Applies one attempt's verdict (probe: it was the probe).  Returns true
 * when the circuit opened, closed, or a failed probe opened it again
 * (worth logging). */
bool breaker_apply(const breaker_policy *p, circuit *c, attempt_verdict v, bool probe,
                   const char *error, int64_t now_ms);

/* The circuit for people, at now_ms: "open, probe in 7s", "open, probe
 * due", "open, probing", "closed"; brief (narrow columns): "open 7s",
 * "open", "probing", "closed".  One wording for the CLI and the console. */
void breaker_describe(const circuit *c, int64_t now_ms, bool brief, char *out, size_t outlen);

#endif
