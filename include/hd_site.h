/* hd_site.h - trusted sites: the fields of SPEC §2, their validation and
 * the authentication kinds.
 *
 * A site is validated once (site_validate) before it is ever stored; the
 * store, the CLI and the console all go through this one check so that
 * "nothing invalid is ever saved" holds whatever the entry point.
 */
#ifndef HD_SITE_H
#define HD_SITE_H

#include <stdbool.h>
#include <stdint.h>

#include "hd_error.h"

/* Authentication kinds.  Everything else about them (name, fields,
 * validation, signing) is the table of hd_auth.h, indexed by this enum. */
typedef enum auth_kind {
    AUTH_NONE,
    AUTH_BASIC,
    AUTH_BEARER,
    AUTH_HEADER,
    AUTH_HMAC,
    AUTH_JWT,
    AUTH_OAUTH2,
    AUTH_AWS,
    AUTH_AWS_S3,
    AUTH_KIND_COUNT
} auth_kind;

/* The kind's name ("aws-s3"; "unknown" out of range) and back (any case). */
const char *auth_kind_name(auth_kind k);
bool auth_kind_parse(const char *name, auth_kind *out);

typedef enum content_type {
    CONTENT_JSON,   /* application/json: the payload as is */
    CONTENT_FORM    /* application/x-www-form-urlencoded: top-level keys of the payload object */
} content_type;

const char *content_type_name(content_type c);
bool content_type_parse(const char *name, content_type *out);

/* One extra static header sent with every request to the site. */
typedef struct site_header {
    char *name;
    char *value;
    bool secret;            /* marked secret by the operator (YAML `secret: true`,
                               --add-secret-header, the form's Secret headers):
                               the value is masked wherever it would show, like an
                               auth secret.  Headers with a credential-like name are
                               masked without it (site_header_masked) */
} site_header;

/* Upper bound of site.max_in_flight (and of delivery.concurrency). */
#define SITE_MAX_IN_FLIGHT 256

typedef struct site {
    int64_t id;             /* store row id; 0 when not stored yet */
    char *name;             /* unique, 1..64 chars of [A-Za-z0-9._-] */
    char *url;              /* absolute http:// or https:// URL */
    content_type ctype;     /* body encoding */
    int64_t timeout_ms;     /* per-attempt limit; 0 = use delivery.timeout */
    bool enabled;           /* false = paused: its messages stay Queued */
    int max_in_flight;      /* most transfers of this site one engine runs at once
                               (SPEC §1 Isolation); 0 = the default: half of
                               delivery.concurrency, at least 1.  1..SITE_MAX_IN_FLIGHT */
    site_header *headers;   /* extra static headers */
    int nheaders;
    auth_kind auth;         /* which of the fields below apply */
    char *auth_user;        /* basic: user name */
    char *auth_secret;      /* basic password, bearer token, header value, hmac whsec_ key */
    char *auth_header;      /* header: the custom header name (e.g. X-Api-Key) */
    char *auth_extra;       /* JSON object text with kind-specific settings (jwt, oauth2, aws...), or NULL */
    int64_t created_at;     /* epoch ms */
    int64_t updated_at;     /* epoch ms */
} site;

void site_init(site *s);                     /* zero + defaults (json, enabled, auth none) */
void site_free(site *s);                     /* frees the members, not s */
void site_copy(site *dst, const site *src);  /* deep copy; dst is overwritten */
void site_add_header(site *s, const char *name, const char *value);
/* The same, marked secret or not. */
void site_add_header_secret(site *s, const char *name, const char *value, bool secret);
/* Drops every extra header (sites edit --clear-headers). */
void site_clear_headers(site *s);

/* Check every field, without I/O (the console runs it on every key).  On
 * failure err->field is the field and err->msg starts with it:
 * "url: must start with http:// or https://". */
hd_status site_validate(const site *s, hd_error *err);
/* What site_validate may not do: read and try the keys the site names
 * (jwt RS256: the PEM file or variable).  Called where a site is saved
 * or tested: `sites add/edit`, the form's Save, config load and import. */
hd_status site_probe_keys(const site *s, hd_error *err);

/* Rules shared by site and auth validation (site_rules.c). */
/* The rules of a site's url (http/https, a host, no credentials or
 * fragment), for any URL field; the error names `field`. */
hd_status site_check_url(const char *field, const char *url, hd_error *err);
/* An RFC 7230 token: a valid header name. */
bool site_is_token(const char *s);
/* No CR, LF or other control character but HTAB: cannot split a request. */
bool site_is_header_value(const char *s);

/* The effective max_in_flight of s for an engine of `concurrency` slots. */
int site_max_in_flight(const site *s, int concurrency);

/* "********" for any non-empty secret; used everywhere a secret would show. */
const char *site_mask(const char *secret);
/* True when an extra header's name says its value is a credential
 * (Authorization, Cookie, X-Api-Key, X-Auth-Token...): masked wherever the
 * site is shown, like the auth secret. */
bool site_header_is_secret(const char *name);
/* True when extra header h's value is masked wherever it shows: marked
 * secret, or a credential by its name (site_header_is_secret). */
bool site_header_masked(const site_header *h);
/* The value to show for extra header h: "********" when site_header_masked. */
const char *site_header_shown(const site_header *h);

#endif
