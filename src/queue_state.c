/* queue_state.c - why a pending message waits (see hd_queue_state.h). */
#include "hd_queue_state.h"

queue_state queue_state_of(const message *m, bool paused, const circuit *c, int64_t now_ms)
{
    queue_state qs = { QUEUE_DUE, m->due_at > now_ms ? m->due_at - now_ms : 0 };
    if (!msg_status_pending(m->status)) {
        qs = (queue_state){ QUEUE_FINISHED, 0 };
    } else if (m->in_flight) {
        qs = (queue_state){ QUEUE_SENDING, 0 };
    } else if (paused) {
        qs = (queue_state){ QUEUE_PAUSED, 0 };
    } else if (c && (c->state == CIRCUIT_PROBING ||
                     (c->state == CIRCUIT_OPEN && m->due_at <= c->until_ms))) {
        int64_t probe_in = c->state == CIRCUIT_OPEN && c->until_ms > now_ms ? c->until_ms - now_ms : 0;
        qs = (queue_state){ QUEUE_CIRCUIT, probe_in };
    } else if (m->retry_after_ms > 0 && m->due_at > now_ms) {
        qs.wait = QUEUE_RETRY_AFTER;
    }
    return qs;
}
