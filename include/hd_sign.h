/* hd_sign.h - Standard Webhooks signing and the encodings it needs. */
#ifndef HD_SIGN_H
#define HD_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "hd_error.h"

/* Standard base64 with padding; returns a malloc'd string. */
char *base64_encode(const unsigned char *data, size_t len);
/* Decodes standard base64 (padding optional); returns 0 or -1 on bad input. */
int base64_decode(const char *text, unsigned char **out, size_t *outlen);

/* webhook-signature value "v1,<base64 HMAC-SHA256 of id.timestamp.body>".
 * secret is "whsec_<base64 key>" (the prefix is optional).  Returns a
 * malloc'd string or NULL with err set when the secret is not valid base64. */
char *sign_standard_webhook(const char *secret, const char *msg_id, int64_t timestamp_s,
                            const char *body, size_t body_len, hd_error *err);

/* Checks a secret is usable for hmac (for site validation). */
hd_status sign_check_secret(const char *secret, hd_error *err);

#endif
