/* request.c - one attempt's URL, headers and body, built from a site and a
 * message with the site's authentication applied.
 *
 * Two header lists are kept in step: `headers` (sent) and `headers_masked`
 * (stored with the attempt and shown in the console), where secrets are
 * replaced by ********.  Signatures are not secrets and stay visible.
 * Authentication is one switch over auth_kind.  jwt signs a fresh token
 * per attempt; oauth2 sends the token the caller (engine, site test)
 * fetched and passes in the context, so this file stays free of network and
 * shared state; aws and aws-s3 hand the signing to libcurl (aws_sigv4 +
 * userpwd) and only add the headers that go with it.
 */
#include "hd_request.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "hd_auth.h"
#include "hd_version.h"
#include "hd_sign.h"

#define MASK "********"

/* "name: value", malloc'd.  Every attempt builds a few of these, so plain
 * copies rather than a printf (which cost the engine's curl thread ~4% of
 * its instructions). */
static char *header_line(const char *name, const char *value)
{
    size_t n = strlen(name), v = strlen(value);
    char *line = hd_xmalloc(n + 2 + v + 1);
    memcpy(line, name, n);
    memcpy(line + n, ": ", 2);
    memcpy(line + n + 2, value, v + 1);
    return line;
}

static void add_header(http_request *r, const char *name, const char *value,
                       const char *masked_value)
{
    r->headers = hd_xrealloc(r->headers, sizeof *r->headers * (size_t)(r->nheaders + 1));
    r->headers_masked =
        hd_xrealloc(r->headers_masked, sizeof *r->headers_masked * (size_t)(r->nheaders + 1));
    r->headers[r->nheaders] = header_line(name, value);
    r->headers_masked[r->nheaders] = header_line(name, masked_value);
    r->nheaders++;
}

/* A header name is a token; a value must not be able to start a new header. */
static bool header_name_ok(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 32 || c >= 127 || c == ':')
            return false;
    }
    return true;
}

static bool header_value_ok(const char *s)
{
    return s && strpbrk(s, "\r\n") == NULL;
}

static char *join_url(const char *base, const char *path)
{
    if (!path || !*path)
        return hd_xstrdup(base);
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    while (*path == '/')
        path++;
    return hd_xasprintf("%.*s/%s", (int)blen, base, path);
}

/* application/x-www-form-urlencoded escaping (space as '+'). */
static void form_escape(hd_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            hd_buf_putc(b, (char)c);
        } else if (c == ' ') {
            hd_buf_putc(b, '+');
        } else {
            hd_buf_putc(b, '%');
            hd_buf_putc(b, hex[c >> 4]);
            hd_buf_putc(b, hex[c & 15]);
        }
    }
}

static hd_status form_body(const char *payload, hd_buf *out, hd_error *err)
{
    json_error_t jerr;
    json_t *root = json_loads(payload ? payload : "", JSON_DECODE_ANY, &jerr);
    if (!root)
        return hd_error_set(err, HD_INVALID, "form body: payload is not JSON: line %d column %d: %s",
                            jerr.line, jerr.column, jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return hd_error_set(err, HD_INVALID,
                            "form body: payload must be a JSON object to be sent as "
                            "application/x-www-form-urlencoded");
    }
    const char *key;
    json_t *val;
    bool first = true;
    json_object_foreach(root, key, val) {
        char num[64];
        const char *text;
        size_t tlen;
        switch (json_typeof(val)) {
        case JSON_STRING:
            text = json_string_value(val);
            tlen = json_string_length(val);
            break;
        case JSON_INTEGER:
            snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(val));
            text = num;
            tlen = strlen(num);
            break;
        case JSON_REAL:
            snprintf(num, sizeof num, "%.17g", json_real_value(val));
            text = num;
            tlen = strlen(num);
            break;
        case JSON_TRUE:
            text = "true";
            tlen = 4;
            break;
        case JSON_FALSE:
            text = "false";
            tlen = 5;
            break;
        case JSON_NULL:
            text = "";
            tlen = 0;
            break;
        default:
            hd_error_set(err, HD_INVALID,
                         "form body: value of \"%s\" is an %s; form bodies need scalar values",
                         key, json_is_array(val) ? "array" : "object");
            json_decref(root);
            return HD_INVALID;
        }
        if (!first)
            hd_buf_putc(out, '&');
        first = false;
        form_escape(out, key, strlen(key));
        hd_buf_putc(out, '=');
        form_escape(out, text, tlen);
    }
    json_decref(root);
    if (!out->data)
        hd_buf_puts(out, "");
    return HD_OK;
}

/* aws, aws-s3: libcurl signs (SigV4) with the provider string and the
 * key:secret pair; we add what it signs along: the session token and, for
 * S3, the payload hash, which S3 requires as a header. */
static hd_status apply_aws(const site *s, const message *m, http_request *r, hd_error *err)
{
    bool s3 = s->auth == AUTH_AWS_S3;
    char *region = auth_extra_get(s->auth_extra, "region");
    char *service = s3 ? hd_xstrdup("s3") : auth_extra_get(s->auth_extra, "service");
    char *token = auth_extra_get(s->auth_extra, "session_token");
    hd_status st = HD_OK;
    if (!region || !service) {
        st = hd_error_set(err, HD_INVALID, "auth.%s: is required for %s",
                          region ? "service" : "region", auth_kind_name(s->auth));
        goto out;
    }
    if (s3) {
        char *bucket = auth_extra_get(s->auth_extra, "bucket");
        char *format = auth_extra_get(s->auth_extra, "object_format");
        if (!bucket) {
            free(format);
            st = hd_error_set(err, HD_INVALID, "auth.bucket: is required for aws-s3");
            goto out;
        }
        char *key = auth_s3_object_key(format, m);
        char *path = hd_xasprintf("%s/%s", bucket, key);
        free(r->url);
        r->url = join_url(s->url ? s->url : "", path);   /* path style; the message path is not used */
        snprintf(r->method, sizeof r->method, "PUT");
        free(path);
        free(key);
        free(bucket);
        free(format);
        char hash[65];
        auth_sha256_hex(r->body.data ? r->body.data : "", r->body.len, hash);
        add_header(r, "x-amz-content-sha256", hash, hash);
    }
    if (token) {
        if (!header_value_ok(token)) {
            st = hd_error_set(err, HD_INVALID, "auth.session_token: contains a line break");
            goto out;
        }
        add_header(r, "x-amz-security-token", token, MASK);
    }
    r->aws_sigv4 = hd_xasprintf("aws:amz:%s:%s", region, service);
    r->userpwd = hd_xasprintf("%s:%s", s->auth_user ? s->auth_user : "",
                              s->auth_secret ? s->auth_secret : "");
out:
    free(region);
    free(service);
    free(token);
    return st;
}

static hd_status apply_auth(const site *s, const message *m, const request_context *ctx,
                            http_request *r, hd_error *err)
{
    const char *secret = s->auth_secret ? s->auth_secret : "";
    switch (s->auth) {
    case AUTH_NONE:
        return HD_OK;
    case AUTH_BASIC: {
        r->userpwd = hd_xasprintf("%s:%s", s->auth_user ? s->auth_user : "", secret);
        /* Sent explicitly as well, so that what is shown is what curl sends
         * (a custom header replaces curl's own). */
        char *b64 = base64_encode((const unsigned char *)r->userpwd, strlen(r->userpwd));
        char *value = hd_xasprintf("Basic %s", b64);
        add_header(r, "Authorization", value, "Basic " MASK);
        free(value);
        free(b64);
        return HD_OK;
    }
    case AUTH_BEARER: {
        if (!header_value_ok(secret))
            return hd_error_set(err, HD_INVALID, "auth_secret: bearer token contains a line break");
        char *value = hd_xasprintf("Bearer %s", secret);
        add_header(r, "Authorization", value, "Bearer " MASK);
        free(value);
        return HD_OK;
    }
    case AUTH_HEADER:
        if (!header_name_ok(s->auth_header))
            return hd_error_set(err, HD_INVALID, "auth_header: \"%s\" is not a valid header name",
                                s->auth_header ? s->auth_header : "");
        if (!header_value_ok(secret))
            return hd_error_set(err, HD_INVALID, "auth_secret: header value contains a line break");
        add_header(r, s->auth_header, secret, MASK);
        return HD_OK;
    case AUTH_HMAC: {
        int64_t ts = ctx->now_ms / 1000;
        char *sig = sign_standard_webhook(secret, m->webhook_id, ts, r->body.data, r->body.len, err);
        if (!sig)
            return err ? err->code : HD_INVALID;
        char tsbuf[32];
        snprintf(tsbuf, sizeof tsbuf, "%" PRId64, ts);
        add_header(r, "webhook-timestamp", tsbuf, tsbuf);
        add_header(r, "webhook-signature", sig, sig);
        free(sig);
        return HD_OK;
    }
    case AUTH_JWT: {
        /* A fresh token per attempt: iat/exp always current. */
        char *tok = auth_jwt_token(s, ctx->now_ms, err);
        if (!tok)
            return err ? err->code : HD_INVALID;
        char *value = hd_xasprintf("Bearer %s", tok);
        add_header(r, "Authorization", value, "Bearer " MASK);
        explicit_bzero(value, strlen(value));
        explicit_bzero(tok, strlen(tok));
        free(value);
        free(tok);
        return HD_OK;
    }
    case AUTH_OAUTH2: {
        if (!ctx->oauth2_token || !*ctx->oauth2_token)
            return hd_error_set(err, HD_INVALID, "oauth2: no access token (the token endpoint "
                                                 "was not asked)");
        if (!header_value_ok(ctx->oauth2_token))
            return hd_error_set(err, HD_INVALID,
                                "oauth2: the access token contains a line break");
        char *value = hd_xasprintf("Bearer %s", ctx->oauth2_token);
        add_header(r, "Authorization", value, "Bearer " MASK);
        free(value);
        return HD_OK;
    }
    case AUTH_AWS:
    case AUTH_AWS_S3:
        return apply_aws(s, m, r, err);
    case AUTH_KIND_COUNT:
        break;
    }
    return hd_error_set(err, HD_INVALID, "auth: unknown kind %d", (int)s->auth);
}

hd_status request_build(const site *s, const message *m, const request_context *ctx,
                        http_request *out, hd_error *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->method, sizeof out->method, "POST");
    out->url = join_url(s->url ? s->url : "", m->path);

    hd_status st;
    const char *ctype;
    if (s->ctype == CONTENT_FORM) {
        ctype = "application/x-www-form-urlencoded";
        st = form_body(m->payload, &out->body, err);
        if (st != HD_OK)
            goto fail;
    } else {
        ctype = "application/json";
        hd_buf_puts(&out->body, m->payload ? m->payload : "");
    }

    const char *ua = ctx && ctx->user_agent && *ctx->user_agent ? ctx->user_agent
                                                              : "hookdesk/" HOOKDESK_VERSION;
    add_header(out, "Content-Type", ctype, ctype);
    add_header(out, "User-Agent", ua, ua);
    add_header(out, "webhook-id", m->webhook_id, m->webhook_id);
    for (int i = 0; i < s->nheaders; i++) {
        const site_header *h = &s->headers[i];
        if (!header_name_ok(h->name) || !header_value_ok(h->value)) {
            st = hd_error_set(err, HD_INVALID, "headers: \"%s\" is not a valid header",
                              h->name ? h->name : "");
            goto fail;
        }
        add_header(out, h->name, h->value,
                   site_header_masked(h) && *h->value ? MASK : h->value);
    }
    request_context dflt = { .now_ms = hd_now_ms(), .user_agent = NULL };
    st = apply_auth(s, m, ctx ? ctx : &dflt, out, err);
    if (st != HD_OK)
        goto fail;
    return HD_OK;
fail:
    request_free(out);
    return st;
}

void request_free(http_request *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->nheaders; i++) {
        free(r->headers[i]);
        free(r->headers_masked[i]);
    }
    free(r->headers);
    free(r->headers_masked);
    free(r->url);
    hd_buf_free(&r->body);
    if (r->userpwd) {
        explicit_bzero(r->userpwd, strlen(r->userpwd));
        free(r->userpwd);
    }
    free(r->aws_sigv4);
    memset(r, 0, sizeof *r);
}

char *request_headers_text(const http_request *r)
{
    hd_buf b = {0};
    for (int i = 0; i < r->nheaders; i++) {
        hd_buf_puts(&b, r->headers_masked[i]);
        hd_buf_putc(&b, '\n');
    }
    return hd_buf_steal(&b);
}
