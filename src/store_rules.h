/* store_rules.h - the operator actions' rules, the same on both store
 * backends (src/store_messages.c, src/pg_messages.c): what may be resent,
 * sent now or cancelled, and what the operator is told when it may not.
 * Pure C, no SQL. */
#ifndef HD_STORE_RULES_H
#define HD_STORE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hd_error.h"
#include "hd_message.h"

/* The one rule of every resend (ID or bulk, console or CLI): a payload
 * stored under an older, larger delivery.max_payload is not resent, as
 * `send` would refuse it now.  max_payload 0 = no limit.  The bulk resends
 * say the same in SQL (the payload's length in bytes). */
bool resend_payload_fits(const char *payload, uint64_t max_payload);
/* Why message #id was not resent: its payload of len bytes is over
 * max_payload (HD_INVALID, err->field "payload"). */
hd_status resend_refuse_payload(hd_error *err, int64_t id, size_t len, uint64_t max_payload);
/* Why message #id was not resent: its site was deleted (HD_NOT_FOUND, in
 * the operator's words rather than "site #10 not found"). */
hd_status resend_refuse_site_gone(hd_error *err, int64_t id);

/* Send now and cancel act on a pending message that is not being sent
 * right now: HD_OK when this one may be, else HD_INVALID saying why.
 * action is "send now" or "cancel". */
hd_status message_actionable(hd_error *err, const char *action, int64_t id, msg_status status,
                             bool in_flight);
/* HD_NOT_FOUND "message #id not found" (get, resend, send now, cancel). */
hd_status message_not_found(hd_error *err, int64_t id);

#endif
