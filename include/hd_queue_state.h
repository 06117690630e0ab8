/* hd_queue_state.h - why a pending message waits, and for how long.
 *
 * SPEC §1: a paused site keeps its messages Queued; a site whose circuit is
 * open holds them (without spending attempts) till its probe; a receiver's
 * Retry-After delays that message's next attempt.  This is the one rule
 * that decides which of these a message waits for; the console (Queue
 * screen, detail) and the CLI (queue, show, their JSON) word it their own
 * way.  Pure: no I/O, no clock (now is given).
 */
#ifndef HD_QUEUE_STATE_H
#define HD_QUEUE_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "hd_breaker.h"
#include "hd_message.h"

typedef enum queue_wait {
    QUEUE_FINISHED,          /* Done or Failed: waits for nothing */
    QUEUE_SENDING,           /* an attempt is in flight */
    QUEUE_PAUSED,            /* its site is paused: goes once it is resumed */
    QUEUE_CIRCUIT,           /* its site's circuit: open till the probe, or probing */
    QUEUE_RETRY_AFTER,       /* the receiver asked for this wait (Retry-After) */
    QUEUE_DUE                /* its own time: now, or in in_ms */
} queue_wait;

typedef struct queue_state {
    queue_wait wait;         /* what it waits for (the first that applies, in enum order) */
    int64_t in_ms;           /* QUEUE_RETRY_AFTER, QUEUE_DUE: ms till its own next attempt
                                (0 = due now); QUEUE_CIRCUIT: ms till the probe may go
                                (0 = due, or probing); else 0 */
} queue_state;

/* m: a message; paused: its site is paused; c: its site's circuit, NULL
 * when circuits do not apply (a deleted site, or delivery.breaker off:
 * engines then do not look at them).  The circuit holds a message when it
 * is probing, or open with the probe not later than the message is due. */
queue_state queue_state_of(const message *m, bool paused, const circuit *c, int64_t now_ms);

#endif
