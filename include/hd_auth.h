/* hd_auth.h - the authentication kinds of issue #4 (jwt, oauth2, aws,
 * aws-s3): their settings in site.auth_extra, their validation and the
 * pieces the request builder, the engine and the site test need.
 *
 * Where each setting lives (one table, auth_extra_keys, drives YAML, CLI
 * flags, export and masking):
 *   auth_user    oauth2 client_id; aws / aws-s3 access key id
 *   auth_secret  jwt HS256 shared secret; oauth2 client secret;
 *                aws / aws-s3 secret access key
 *   auth_extra   a JSON object with the keys of auth_extra_keys below, e.g.
 *                {"alg":"RS256","key_file":"/etc/hd/jwt.pem",
 *                 "claims":{"iss":"hookdesk"},"lifetime_ms":300000}
 */
#ifndef HD_AUTH_H
#define HD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hd_error.h"
#include "hd_message.h"
#include "hd_request.h"
#include "hd_site.h"

/* ---- auth_extra keys ---- */

typedef enum auth_extra_type {
    AX_STRING,               /* JSON string */
    AX_DURATION,             /* JSON integer, milliseconds; "5m" in YAML and flags */
    AX_MAP                   /* JSON object of strings (jwt claims) */
} auth_extra_type;

typedef struct auth_extra_key {
    const char *name;        /* key in auth_extra and in the YAML auth: block */
    auth_extra_type type;
    bool secret;             /* masked in export, list and test output */
    unsigned kinds;          /* bit (1u << auth_kind) for each kind it applies to */
    const char *flag;        /* `sites add/edit` option, without "--" */
    const char *help;        /* one line for help texts */
} auth_extra_key;

extern const auth_extra_key auth_extra_keys[];
extern const int auth_extra_nkeys;
const auth_extra_key *auth_extra_key_find(const char *name);

/* Reading auth_extra (NULL or "" = no settings).  Returned strings are
 * malloc'd; NULL when absent. */
char *auth_extra_get(const char *extra, const char *key);
int64_t auth_extra_get_ms(const char *extra, const char *key, int64_t dflt);
/* Writing: *extra is replaced by the new JSON text (NULL when empty).
 * value NULL or "" removes the key. */
void auth_extra_set(char **extra, const char *key, const char *value);
void auth_extra_set_ms(char **extra, const char *key, int64_t ms);
/* A claim of the "claims" map; value NULL removes it. */
void auth_extra_set_claim(char **extra, const char *name, const char *value);
/* Drops the keys that do not apply to kind k (after a kind change). */
void auth_extra_keep_kind(char **extra, auth_kind k);
/* Copy of extra with secret keys replaced by "********" (NULL stays NULL). */
char *auth_extra_masked(const char *extra);
/* Where a key of `in` is "********", take the value of `old` (import of an
 * export made without --show-secrets).  Returns false when a masked key has
 * no stored value to keep. */
bool auth_extra_unmask(char **in, const char *old);

/* Validation of the kinds of this header (called by site_validate).  The
 * message names the field: "auth.alg: unknown algorithm 'HS512' (HS256, RS256)". */
hd_status auth_check(const site *s, hd_error *err);
/* The URL rules of a site's url (http/https, host, no credentials...) for
 * another URL field; messages start with "field: ".  (site.c) */
hd_status auth_check_url(const char *field, const char *url, hd_error *err);

/* ---- jwt (auth_jwt.c) ---- */

#define AUTH_JWT_DEFAULT_LIFETIME_MS (5 * 60 * 1000)

/* A signed compact JWT for one attempt (iat = now, exp = now + lifetime);
 * malloc'd, or NULL with err set (unreadable key, ...). */
char *auth_jwt_token(const site *s, int64_t now_ms, hd_error *err);
/* base64url without padding (RFC 7515 §2); malloc'd. */
char *auth_base64url(const unsigned char *data, size_t len);

/* ---- aws / aws-s3 (auth_aws.c) ---- */

#define AUTH_S3_DEFAULT_FORMAT "{date}/{action}/{id}.json"

/* The S3 object key for a message from object_format; placeholders {id}
 * (message id), {action}, {customer}, {date} (YYYY-MM-DD of created_at,
 * UTC) are sanitised to [A-Za-z0-9._-].  malloc'd. */
char *auth_s3_object_key(const char *format, const message *m);
/* Lower-case hex SHA-256 (x-amz-content-sha256); out needs 65 bytes. */
void auth_sha256_hex(const void *data, size_t len, char out[65]);

/* ---- oauth2 (auth_oauth2.c) ---- */

/* Identifies a token: same key = same token endpoint, client and scope (the
 * secret is hashed in), so an edited site never reuses an old token. */
char *auth_oauth2_cache_key(const site *s);
/* The client-credentials request to token_url (POST, form body, Basic or
 * body credentials as configured). */
hd_status auth_oauth2_token_request(const site *s, const char *user_agent, http_request *out,
                                    hd_error *err);
/* Reads the token endpoint's answer.  On success *token is malloc'd and
 * *expires_in_ms is auth_oauth2_expires_ms of the body.  On failure
 * *error is a malloc'd one-line text "oauth2: token endpoint URL: HTTP 500". */
bool auth_oauth2_parse(const char *token_url, int response_code, const char *transport_error,
                       const char *body, size_t body_len, char **token, int64_t *expires_in_ms,
                       char **error);
/* The token's lifetime from the answer's expires_in (a number or a quoted
 * number of seconds), clamped to 1 s .. 1 day; 5 min when it is absent,
 * not a positive number or the body is not JSON.  Never overflows. */
int64_t auth_oauth2_expires_ms(const char *body, size_t body_len);
/* How long before expires_in a token is refreshed. */
int64_t auth_oauth2_refresh_margin_ms(int64_t expires_in_ms);

#endif
