/* request.c - one attempt's URL, headers and body, built from a site and a
 * message with the site's authentication applied.
 *
 * Two header lists are kept in step: `headers` (sent) and `headers_masked`
 * (stored with the attempt and shown in the console), where secrets are
 * replaced by ********.  Signatures are not secrets and stay visible.
 * Authentication is one switch over auth_kind: kinds of issue #4 (jwt,
 * oauth2, aws, aws-s3) get their own case there.
 */
#include "hd_request.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "hd_cli.h"
#include "hd_sign.h"

#define MASK "********"

static void add_header(http_request *r, const char *name, const char *value,
                       const char *masked_value)
{
    r->headers = hd_xrealloc(r->headers, sizeof *r->headers * (size_t)(r->nheaders + 1));
    r->headers_masked =
        hd_xrealloc(r->headers_masked, sizeof *r->headers_masked * (size_t)(r->nheaders + 1));
    r->headers[r->nheaders] = hd_xasprintf("%s: %s", name, value);
    r->headers_masked[r->nheaders] = hd_xasprintf("%s: %s", name, masked_value);
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

/* Extra static headers whose value is probably a credential are masked too. */
static bool header_looks_secret(const char *name)
{
    static const char *const words[] = { "authorization", "cookie", "token", "secret",
                                         "key", "password", "signature" };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasestr(name, words[i]))
            return true;
    return false;
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
    /* Issue #4: each of these gets its own builder here (jwt -> Bearer
     * header, oauth2 -> cached token, aws/aws-s3 -> r->aws_sigv4 + PUT). */
    case AUTH_JWT:
    case AUTH_OAUTH2:
    case AUTH_AWS:
    case AUTH_AWS_S3:
    case AUTH_KIND_COUNT:
        break;
    }
    return hd_error_set(err, HD_INVALID, "auth: kind \"%s\" is not implemented yet (issue #4)",
                        auth_kind_name(s->auth));
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
                   header_looks_secret(h->name) && *h->value ? MASK : h->value);
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
