/* auth_simple.c - the kinds with no settings beyond user, secret and
 * header: none, basic, bearer, header and hmac (Standard Webhooks).  Their
 * checks (pure, for site_validate) and how they sign a request. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_internal.h"
#include "hd_sign.h"
#include "hd_util.h"

static bool is_empty(const char *s)
{
    return !s || !*s;
}

/* ---- checks ---- */

hd_status auth_none_check(const auth_kind_ops *kind, const site *s, json_t *extra,
                          hd_error *err)
{
    (void)kind, (void)extra;
    if (!is_empty(s->auth_secret))
        return hd_error_field(err, HD_INVALID, "auth_secret", "must be empty with auth 'none'");
    if (!is_empty(s->auth_user))
        return hd_error_field(err, HD_INVALID, "auth_user", "must be empty with auth 'none'");
    return HD_OK;
}

hd_status auth_basic_check(const auth_kind_ops *kind, const site *s, json_t *extra,
                          hd_error *err)
{
    (void)kind, (void)extra;
    if (is_empty(s->auth_user))
        return hd_error_field(err, HD_INVALID, "auth_user", "is required for basic auth");
    if (strchr(s->auth_user, ':'))
        return hd_error_field(err, HD_INVALID, "auth_user", "must not contain ':'");
    if (!site_is_header_value(s->auth_user))
        return hd_error_field(err, HD_INVALID, "auth_user", "contains a control character");
    if (is_empty(s->auth_secret))
        return hd_error_field(err, HD_INVALID, "auth_secret",
                              "a password is required for basic auth");
    return HD_OK;
}

/* A secret sent as (part of) a header value. */
static hd_status check_header_secret(const site *s, const char *missing, hd_error *err)
{
    if (is_empty(s->auth_secret))
        return hd_error_field(err, HD_INVALID, "auth_secret", "%s", missing);
    if (!site_is_header_value(s->auth_secret))
        return hd_error_field(err, HD_INVALID, "auth_secret",
                              "contains a line break or control character");
    return HD_OK;
}

hd_status auth_bearer_check(const auth_kind_ops *kind, const site *s, json_t *extra,
                          hd_error *err)
{
    (void)kind, (void)extra;
    return check_header_secret(s, "a token is required for bearer auth", err);
}

hd_status auth_header_check(const auth_kind_ops *kind, const site *s, json_t *extra,
                          hd_error *err)
{
    (void)kind, (void)extra;
    const char *h = s->auth_header;
    if (is_empty(h))
        return hd_error_field(err, HD_INVALID, "auth_header",
                              "a header name is required for header auth");
    if (!site_is_token(h))
        return hd_error_field(err, HD_INVALID, "auth_header", "'%s' is not a valid header name",
                              h);
    /* Authorization is fine here ("Authorization: Token ..." is common). */
    if (strcasecmp(h, "Content-Type") == 0 || strcasecmp(h, "Content-Length") == 0 ||
        strcasecmp(h, "Host") == 0 || strncasecmp(h, "webhook-", 8) == 0)
        return hd_error_field(err, HD_INVALID, "auth_header",
                              "'%s' is set by hookdesk and cannot be used", h);
    for (int i = 0; i < s->nheaders; i++)
        if (s->headers[i].name && strcasecmp(s->headers[i].name, h) == 0)
            return hd_error_field(err, HD_INVALID, "auth_header",
                                  "'%s' is also given as an extra header", h);
    return check_header_secret(s, "a header value is required for header auth", err);
}

hd_status auth_hmac_check(const auth_kind_ops *kind, const site *s, json_t *extra,
                          hd_error *err)
{
    (void)kind, (void)extra;
    if (is_empty(s->auth_secret))
        return hd_error_field(err, HD_INVALID, "auth_secret",
                              "a whsec_ signing secret is required for hmac auth");
    if (strncmp(s->auth_secret, "whsec_", 6) != 0)
        return hd_error_field(err, HD_INVALID, "auth_secret", "must start with 'whsec_'");
    unsigned char *key = NULL;
    size_t n = 0;
    if (base64_decode(s->auth_secret + 6, &key, &n) != 0)
        return hd_error_field(err, HD_INVALID, "auth_secret",
                              "the part after 'whsec_' is not valid base64");
    free(key);
    if (n == 0)
        return hd_error_field(err, HD_INVALID, "auth_secret", "the key after 'whsec_' is empty");
    return HD_OK;
}

/* ---- signing ---- */

hd_status auth_none_sign(const auth_kind_ops *kind, const site *s, const message *m,
                         const request_context *ctx, http_request *r, hd_error *err)
{
    (void)kind, (void)s, (void)m, (void)ctx, (void)r, (void)err;
    return HD_OK;
}

hd_status auth_basic_sign(const auth_kind_ops *kind, const site *s, const message *m,
                         const request_context *ctx, http_request *r, hd_error *err)
{
    (void)kind, (void)m, (void)ctx, (void)err;
    r->userpwd = hd_xasprintf("%s:%s", s->auth_user ? s->auth_user : "",
                              s->auth_secret ? s->auth_secret : "");
    /* Sent explicitly as well, so that what is shown is what curl sends
     * (a custom header replaces curl's own). */
    char *b64 = base64_encode((const unsigned char *)r->userpwd, strlen(r->userpwd));
    char *value = hd_xasprintf("Basic %s", b64);
    request_add_header(r, "Authorization", value, "Basic " AUTH_MASK);
    free(value);
    free(b64);
    return HD_OK;
}

/* The header `name`: "<scheme>the secret", shown as "<scheme>********";
 * what names the secret in the error about a line break in it. */
static hd_status add_secret_header(http_request *r, const char *name, const char *scheme,
                                   const site *s, const char *what, hd_error *err)
{
    const char *secret = s->auth_secret ? s->auth_secret : "";
    if (!request_header_value_ok(secret))
        return hd_error_field(err, HD_INVALID, "auth_secret", "%s contains a line break", what);
    char *value = hd_xasprintf("%s%s", scheme, secret);
    char *shown = hd_xasprintf("%s%s", scheme, AUTH_MASK);
    request_add_header(r, name, value, shown);
    free(shown);
    free(value);
    return HD_OK;
}

hd_status auth_bearer_sign(const auth_kind_ops *kind, const site *s, const message *m,
                         const request_context *ctx, http_request *r, hd_error *err)
{
    (void)kind, (void)m, (void)ctx;
    return add_secret_header(r, "Authorization", "Bearer ", s, "bearer token", err);
}

hd_status auth_header_sign(const auth_kind_ops *kind, const site *s, const message *m,
                         const request_context *ctx, http_request *r, hd_error *err)
{
    (void)kind, (void)m, (void)ctx;
    if (!request_header_name_ok(s->auth_header))
        return hd_error_field(err, HD_INVALID, "auth_header", "\"%s\" is not a valid header name",
                              s->auth_header ? s->auth_header : "");
    return add_secret_header(r, s->auth_header, "", s, "header value", err);
}

hd_status auth_hmac_sign(const auth_kind_ops *kind, const site *s, const message *m,
                         const request_context *ctx, http_request *r, hd_error *err)
{
    (void)kind;
    int64_t ts = ctx->now_ms / 1000;
    char *sig = sign_standard_webhook(s->auth_secret ? s->auth_secret : "", m->webhook_id, ts,
                                      r->body.data, r->body.len, err);
    if (!sig)
        return err ? err->code : HD_INVALID;
    char tsbuf[32];
    snprintf(tsbuf, sizeof tsbuf, "%" PRId64, ts);
    request_add_header(r, "webhook-timestamp", tsbuf, tsbuf);
    request_add_header(r, "webhook-signature", sig, sig);
    free(sig);
    return HD_OK;
}
