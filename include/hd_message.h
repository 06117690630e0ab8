/* hd_message.h - the domain of delivery: a webhook message, its status and
 * the attempts made to deliver it.
 *
 * Plain data, no storage: the retry policy, the request builder and the
 * auth code need these types and nothing of the store (hd_store.h), which
 * reads and writes them.
 */
#ifndef HD_MESSAGE_H
#define HD_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Message statuses.  Columns: enum suffix, name (CLI, JSON), title (screens),
 * pending (still to be delivered).  The enum values are stored: append only. */
#define HD_MSG_STATUS_LIST(_)                  \
    _(QUEUED, "queued", "Queued", true)        \
    _(RESENT, "resent", "Resent", true)        \
    _(DONE,   "done",   "Done",   false)       \
    _(FAILED, "failed", "Failed", false)

typedef enum msg_status {
#define HD_MSG_STATUS_ENUM(id, name, title, pending) MSG_##id,
    HD_MSG_STATUS_LIST(HD_MSG_STATUS_ENUM)
#undef HD_MSG_STATUS_ENUM
    MSG_STATUS_COUNT
} msg_status;

const char *msg_status_name(msg_status s);   /* "queued" */
const char *msg_status_title(msg_status s);  /* "Queued" */
bool msg_status_parse(const char *name, msg_status *out);  /* case-insensitive */
bool msg_status_pending(msg_status s);
#define MSG_STATUS_BIT(s) (1u << (s))
#define MSG_PENDING_MASK (MSG_STATUS_BIT(MSG_QUEUED) | MSG_STATUS_BIT(MSG_RESENT))

typedef struct message {
    int64_t id;              /* row id, what `show ID` takes */
    char webhook_id[40];     /* "msg_" + 26 base32 chars; the webhook-id header */
    int64_t site_id;
    char *site_name;         /* joined from sites; NULL if the site was deleted */
    char *action;
    char *customer;          /* may be NULL */
    char *path;              /* appended to the site URL; may be NULL */
    char *payload;           /* JSON text */
    msg_status status;
    int attempts;            /* attempts recorded so far */
    int64_t due_at;          /* next attempt (or lease expiry while in flight); 0 when finished */
    bool in_flight;          /* claimed by an engine and its lease has not expired */
    int response_code;       /* last HTTP code, 0 when none */
    char *last_error;        /* last attempt's error, NULL when none */
    int64_t created_at;
    int64_t updated_at;
    int64_t resend_of;       /* original message id, 0 when none */
    int64_t resent_as;       /* the newest resend made of it, 0 when none: filled
                                by store_messages_page only (Logs marks resent rows) */
    int64_t retry_after_ms;  /* the wait the receiver asked for with Retry-After on
                                its last answer (429/503), 0 when none: due_at
                                then honours it (capped by delivery.max_retry_after) */
    bool probe;              /* store_claim_fair: claimed as its site's circuit probe */
} message;

typedef struct message_list {
    message *items;
    int count;
} message_list;

typedef struct attempt {
    int64_t id;
    int64_t message_id;
    int64_t site_id;
    int number;              /* 1 for the first attempt */
    int64_t started_at;
    int64_t duration_ms;
    int response_code;       /* 0 = no response (network error, timeout) */
    char *error;             /* NULL on success */
    char *request_headers;   /* "Name: value\n" lines, secrets masked */
    char *response_headers;  /* "Name: value\n" lines as received */
    char *response_body;     /* first max_response_body bytes (may hold NULs) */
    size_t response_body_len;
    bool body_truncated;     /* the receiver sent more than was kept */
} attempt;

typedef struct attempt_list {
    attempt *items;
    int count;
} attempt_list;

/* Free what the struct points to and zero it (NULL is fine). */
void message_free(message *m);
void message_list_free(message_list *l);
void attempt_free(attempt *a);
void attempt_list_free(attempt_list *l);

#endif
