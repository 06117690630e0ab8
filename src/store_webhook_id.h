/* store_webhook_id.h - webhook ids, the same on both store backends: made
 * and read here, stored by src/store_messages.c (SQLite) and
 * src/pg_messages.c (PostgreSQL).  Pure C, no SQL.
 *
 * A webhook id is "msg_" + 26 base32 characters (a-z, 2-7): 48 bits of the
 * message's created_at (epoch ms, big-endian) then 80 random bits, as in
 * ULIDs.  The time in it is what store_message_find_webhook_id seeks on
 * (the messages_created index): no index is kept on webhook_id itself.
 */
#ifndef HD_STORE_WEBHOOK_ID_H
#define HD_STORE_WEBHOOK_ID_H

#include <stdbool.h>
#include <stdint.h>

/* Random bytes a webhook id takes. */
#define WEBHOOK_ID_RANDOM 10
/* Characters of a webhook id, without its NUL. */
#define WEBHOOK_ID_LEN 30

/* How far a webhook id's time may be from its message's created_at: none
 * since both come from one clock reading; a few ms for messages made
 * before that.  A lookup seeks created_at within this of the id's time. */
#define WEBHOOK_TIME_SLACK_MS 2000

/* The webhook id of a message created at created_ms with these random
 * bytes (out: WEBHOOK_ID_LEN characters and a NUL). */
void webhook_id_format(int64_t created_ms, const unsigned char random[WEBHOOK_ID_RANDOM],
                       char out[40]);
/* The creation time in a webhook id; false when it is not one of ours. */
bool webhook_id_time(const char *wid, int64_t *ms);
/* The message for webhook_id_time's refusal, in err (HD_INVALID). */
#define WEBHOOK_ID_INVALID_FMT "'%.40s' is not a webhook id (msg_ and 26 letters and digits)"

#endif
