/* store_rules.c - the operator actions' rules (store_rules.h), shared by
 * the SQLite and the PostgreSQL store. */
#include "store_rules.h"

#include <stdio.h>
#include <string.h>

#include "hd_duration.h"

bool resend_payload_fits(const char *payload, uint64_t max_payload)
{
    return max_payload == 0 || !payload || strlen(payload) <= max_payload;
}

hd_status resend_refuse_payload(hd_error *err, int64_t id, size_t len, uint64_t max_payload)
{
    char limit[32];
    size_words(max_payload, limit, sizeof limit);
    hd_status rc = hd_error_set(err, HD_INVALID, "#%lld not resent: its payload (%zu bytes) is "
                                "over delivery.max_payload (%s)", (long long)id, len, limit);
    if (err)
        snprintf(err->field, sizeof err->field, "payload");
    return rc;
}

hd_status resend_refuse_site_gone(hd_error *err, int64_t id)
{
    return hd_error_set(err, HD_NOT_FOUND, "#%lld not resent: its site was deleted",
                        (long long)id);
}

hd_status message_actionable(hd_error *err, const char *action, int64_t id, msg_status status,
                             bool in_flight)
{
    if (!msg_status_pending(status))
        return hd_error_set(err, HD_INVALID,
                            "%s message #%lld: it is %s; only queued or resent messages can be %s",
                            action, (long long)id, msg_status_name(status),
                            strcmp(action, "cancel") == 0 ? "cancelled" : "sent now");
    if (in_flight)
        return hd_error_set(err, HD_INVALID,
                            "%s message #%lld: an attempt is in flight right now; try again "
                            "when it finishes",
                            action, (long long)id);
    return HD_OK;
}

hd_status message_not_found(hd_error *err, int64_t id)
{
    return hd_error_set(err, HD_NOT_FOUND, "message #%lld not found", (long long)id);
}
