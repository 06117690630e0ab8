/* message.c - message statuses and freeing messages and attempts
 * (hd_message.h). */
#include "hd_message.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "hd_util.h"

/* ------------------------------------------------------------------------ */
/* Statuses                                                                 */

static const struct {
    const char *name;
    const char *title;
    bool pending;
} status_info[] = {
#define HD_MSG_STATUS_INFO(id, name, title, pending) { name, title, pending },
    HD_MSG_STATUS_LIST(HD_MSG_STATUS_INFO)
#undef HD_MSG_STATUS_INFO
};

const char *msg_status_name(msg_status s)
{
    return (unsigned)s < MSG_STATUS_COUNT ? status_info[s].name : "unknown";
}

const char *msg_status_title(msg_status s)
{
    return (unsigned)s < MSG_STATUS_COUNT ? status_info[s].title : "Unknown";
}

bool msg_status_parse(const char *name, msg_status *out)
{
    if (!name)
        return false;
    for (int i = 0; i < MSG_STATUS_COUNT; i++) {
        if (strcasecmp(name, status_info[i].name) == 0) {
            *out = (msg_status)i;
            return true;
        }
    }
    return false;
}

bool msg_status_pending(msg_status s)
{
    return (unsigned)s < MSG_STATUS_COUNT && status_info[s].pending;
}

/* ------------------------------------------------------------------------ */
/* Freeing                                                                  */

void message_free(message *m)
{
    if (!m)
        return;
    free(m->site_name);
    free(m->action);
    free(m->customer);
    free(m->path);
    free(m->payload);
    free(m->last_error);
    memset(m, 0, sizeof *m);
}

void message_list_free(message_list *l)
{
    HD_LIST_FREE(l, message_free);
}

void attempt_free(attempt *a)
{
    if (!a)
        return;
    free(a->error);
    free(a->request_headers);
    free(a->response_headers);
    free(a->response_body);
    memset(a, 0, sizeof *a);
}

void attempt_list_free(attempt_list *l)
{
    HD_LIST_FREE(l, attempt_free);
}
