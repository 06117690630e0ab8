/* request.c - one attempt's URL, headers and body, built from a site and a
 * message with the site's authentication applied.
 *
 * Two header lists are kept in step: `headers` (sent) and `headers_masked`
 * (stored with the attempt and shown in the console), where secrets are
 * replaced by ********.  Signatures are not secrets and stay visible.
 * Authentication is the site's kind's (auth_sign, the table of hd_auth.h):
 * jwt signs a fresh token per attempt; oauth2 sends the token the caller
 * (engine, site test) fetched and passes in the context, so this file
 * stays free of network and shared state; aws and aws-s3 hand the signing
 * to libcurl (aws_sigv4 + userpwd) and only add the headers that go with it.
 */
#include "hd_request.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hd_auth.h"
#include "hd_version.h"

#define MASK "********"   /* a masked extra header value */

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

hd_status request_build(const site *s, const message *m, const request_context *ctx,
                        http_request *out, hd_error *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->method, sizeof out->method, "POST");
    out->url = request_join_url(s->url ? s->url : "", m->path);

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
    request_add_header(out, "Content-Type", ctype, ctype);
    request_add_header(out, "User-Agent", ua, ua);
    request_add_header(out, "webhook-id", m->webhook_id, m->webhook_id);
    for (int i = 0; i < s->nheaders; i++) {
        const site_header *h = &s->headers[i];
        if (!request_header_name_ok(h->name) || !request_header_value_ok(h->value)) {
            st = hd_error_set(err, HD_INVALID, "headers: \"%s\" is not a valid header",
                              h->name ? h->name : "");
            goto fail;
        }
        request_add_header(out, h->name, h->value,
                   site_header_masked(h) && *h->value ? MASK : h->value);
    }
    request_context dflt = { .now_ms = hd_now_ms(), .user_agent = NULL };
    st = auth_sign(s, m, ctx ? ctx : &dflt, out, err);
    if (st != HD_OK)
        goto fail;
    return HD_OK;
fail:
    request_free(out);
    return st;
}

