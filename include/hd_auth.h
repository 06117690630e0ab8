/* hd_auth.h - the authentication kinds of a trusted site, described once:
 * the kinds table (auth_kinds: name, family, validation, key probe,
 * request signing) and the fields table (auth_fields: every setting of
 * every kind with its YAML key, CLI flag, form label and where the site
 * keeps it).  The form, the CLI, YAML loading, export and the request
 * builder loop over these tables instead of testing the kind.
 *
 * Where a setting lives:
 *   auth_user    basic user; oauth2 client_id; aws / aws-s3 access key id
 *   auth_secret  basic password, bearer token, header value, hmac whsec_
 *                key, jwt HS256 shared secret, oauth2 client secret,
 *                aws / aws-s3 secret access key
 *   auth_header  header: the header name
 *   auth_extra   a JSON object with the AS_EXTRA fields, e.g.
 *                {"alg":"RS256","key_file":"/etc/hd/jwt.pem",
 *                 "claims":{"iss":"hookdesk"},"lifetime":300000}
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

struct json_t;   /* jansson's; the kinds' checks get auth_extra parsed once */

/* ---- the kinds ---- */

typedef struct auth_kind_ops {
    const char *name;        /* in config, CLI, database and screens: "aws-s3" */
    const char *family;      /* kinds of one family share their credentials: a
                                change of kind within it keeps user, secret and
                                header (aws -> aws-s3); NULL = a family of one */
    const char *stand_in;    /* a well-formed secret, checked in place of a masked
                                one ("********" in an export: the stored one stays) */
    bool needs_token;        /* a request needs a token fetched first (oauth2's
                                client credentials): the engine takes it from its
                                cache, a site test fetches its own */
    /* Every rule of the kind that needs no I/O (site_validate calls it
     * after the shape of auth_extra is checked; extra is never NULL).
     * check and sign get their own entry (its name for messages). */
    hd_status (*check)(const struct auth_kind_ops *kind, const site *s, struct json_t *extra,
                       hd_error *err);
    /* What validation may not do: read and use the keys (the jwt RS256
     * PEM), when the site is saved or tested.  NULL = nothing to probe. */
    hd_status (*probe)(const site *s, hd_error *err);
    /* Adds the kind's authentication to a request being built. */
    hd_status (*sign)(const struct auth_kind_ops *kind, const site *s, const message *m,
                      const request_context *ctx, http_request *r, hd_error *err);
} auth_kind_ops;

extern const auth_kind_ops auth_kinds[AUTH_KIND_COUNT];

/* Whether s's kind needs a token fetched before a request (needs_token). */
bool auth_needs_token(const site *s);

/* "none, basic, ..., aws-s3" (sep between the names) into buf. */
void auth_kind_list(char *buf, size_t len, const char *sep);

/* The one change of kind, used by the CLI (--auth) and the form: the
 * values the new kind has no field for are dropped, user / secret /
 * header are kept only within a family, settings of auth_extra only
 * while the new kind has them.  Nothing happens when the kind is the same. */
void auth_change_kind(site *s, auth_kind to);

/* Checks the auth part of a site (site_validate's last step); pure. */
hd_status auth_validate(const site *s, hd_error *err);
/* Signs a request the way the site's kind says (request_build). */
hd_status auth_sign(const site *s, const message *m, const request_context *ctx,
                    http_request *r, hd_error *err);

/* ---- the fields ---- */

typedef enum auth_slot {
    AS_USER,                 /* site.auth_user */
    AS_SECRET,               /* site.auth_secret */
    AS_HEADER,               /* site.auth_header */
    AS_EXTRA                 /* the key `name` of the JSON object site.auth_extra */
} auth_slot;

typedef enum auth_field_type {
    AX_STRING,               /* text (JSON string in auth_extra) */
    AX_DURATION,             /* JSON integer, milliseconds; "5m" in YAML, flags, form */
    AX_MAP                   /* JSON object of strings (jwt claims) */
} auth_field_type;

typedef struct auth_field {
    const char *name;        /* key in the YAML auth: block (and in auth_extra) */
    auth_slot slot;          /* where the site keeps it */
    auth_field_type type;
    bool secret;             /* masked in export, list, test output and the form */
    unsigned kinds;          /* bit (1u << auth_kind) for each kind it belongs to */
    const char *flag;        /* `sites add/edit` option, without "--" */
    const char *label;       /* the form's label (15 columns) */
    const char *help;        /* one line: CLI help, the form's hint */
    const char *choices[3];  /* one of these values (the first is the default), or none */
    const char *when_key;    /* only while the setting when_key ... */
    const char *when_is;     /* ... is this value (NULL = no such rule) */
    bool when_not;           /* ... or, when set, is not this value */
    bool lead;               /* the form shows it right under Auth */
} auth_field;

extern const auth_field auth_fields[];
extern const int auth_nfields;

/* The AS_EXTRA field called name, or NULL. */
const auth_field *auth_field_find(const char *name);
/* Kind k's field kept in slot (user, secret, header), or NULL. */
const auth_field *auth_field_of(auth_kind k, auth_slot slot);
/* Whether f is a field of kind k while its when_key setting reads
 * when_value (NULL = not set: the default, choices[0] of that setting). */
bool auth_field_active(const auth_field *f, auth_kind k, const char *when_value);

/* ---- auth_extra (auth_extra.c) ---- */

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
