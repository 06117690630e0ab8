/* breaker.c - the circuit breaker state machine (see hd_breaker.h).
 *
 * Pure functions: the store runs them inside the transaction that reads and
 * writes the site's circuit, so two processes never decide on stale state. */
#include "hd_breaker.h"

#include <stdio.h>
#include <string.h>

#include "hd_duration.h"

const char *circuit_state_name(circuit_state s)
{
    switch (s) {
    case CIRCUIT_CLOSED:
        return "closed";
    case CIRCUIT_OPEN:
        return "open";
    case CIRCUIT_PROBING:
        return "probing";
    }
    return "closed";
}

attempt_verdict breaker_verdict(int response_code, bool sent)
{
    if (response_code == 0)
        return sent ? VERDICT_FAIL : VERDICT_NEUTRAL;
    /* 429: the site asks to be left alone; 5xx: it is not working.  Any
     * other answer proves it is up, whatever it thought of the message. */
    if (response_code == 429 || response_code >= 500)
        return VERDICT_FAIL;
    return VERDICT_OK;
}

bool breaker_enabled(const breaker_policy *p)
{
    return p && p->failures > 0;
}

int breaker_claimable(const breaker_policy *p, const circuit *c, int64_t now_ms)
{
    if (!breaker_enabled(p) || c->state == CIRCUIT_CLOSED)
        return -1;
    return now_ms >= c->until_ms ? 1 : 0;
}

void breaker_probe_claimed(circuit *c, int64_t probe_lease_end_ms)
{
    c->state = CIRCUIT_PROBING;
    c->until_ms = probe_lease_end_ms;
}

static void set_reason(circuit *c, const char *error)
{
    snprintf(c->reason, sizeof c->reason, "%s", error && *error ? error : "attempt failed");
}

static void open_for(circuit *c, int64_t cooldown_ms, const char *error, int64_t now_ms)
{
    c->state = CIRCUIT_OPEN;
    c->cooldown_ms = cooldown_ms;
    c->until_ms = now_ms + cooldown_ms;
    set_reason(c, error);
}

static void close_circuit(circuit *c)
{
    c->state = CIRCUIT_CLOSED;
    c->failures = 0;
    c->until_ms = 0;
    c->cooldown_ms = 0;
    c->reason[0] = '\0';
}

bool breaker_apply(const breaker_policy *p, circuit *c, attempt_verdict v, bool probe,
                   const char *error, int64_t now_ms)
{
    if (v == VERDICT_NEUTRAL) {
        /* A probe that never reached the site proves nothing: the next
         * message may probe at once, with the same cool-down. */
        if (probe && c->state == CIRCUIT_PROBING) {
            c->state = CIRCUIT_OPEN;
            c->until_ms = now_ms;
        }
        return false;
    }
    if (v == VERDICT_OK) {
        bool was_open = c->state != CIRCUIT_CLOSED;
        if (was_open || c->failures != 0)
            close_circuit(c);
        return was_open;
    }
    if (c->failures < 1000000)
        c->failures++;
    if (!breaker_enabled(p))
        return false;
    int64_t base = p->cooldown_ms > 0 ? p->cooldown_ms : BREAKER_DEFAULT_COOLDOWN_MS;
    int64_t cap = p->max_cooldown_ms >= base ? p->max_cooldown_ms : base;
    switch (c->state) {
    case CIRCUIT_CLOSED:
        if (c->failures < p->failures)
            return false;
        open_for(c, base, error, now_ms);
        return true;
    case CIRCUIT_PROBING:
        if (!probe)
            return false;   /* an attempt from before the opening: the probe decides */
        {
            int64_t next = c->cooldown_ms > 0 ? c->cooldown_ms : base;
            next = next > cap / 2 ? cap : next * 2;
            open_for(c, next, error, now_ms);
        }
        return true;        /* open again, for longer: worth a line too */
    case CIRCUIT_OPEN:
        return false;
    }
    return false;
}

void breaker_describe(const circuit *c, int64_t now_ms, bool brief, char *out, size_t outlen)
{
    char in[32];
    switch (c->state) {
    case CIRCUIT_OPEN:
        if (c->until_ms > now_ms) {
            duration_format_short(c->until_ms - now_ms, in, sizeof in);
            snprintf(out, outlen, brief ? "open %s" : "open, probe in %s", in);
        } else {
            snprintf(out, outlen, brief ? "open" : "open, probe due");
        }
        return;
    case CIRCUIT_PROBING:
        snprintf(out, outlen, brief ? "probing" : "open, probing");
        return;
    case CIRCUIT_CLOSED:
        break;
    }
    snprintf(out, outlen, "closed");
}
