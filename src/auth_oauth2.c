/* auth_oauth2.c - the OAuth 2.0 client-credentials grant (RFC 6749 §4.4):
 * the token request, the reading of the answer, and the cache key.
 *
 * Fetching and caching are the caller's: the engine runs the token request
 * as one more transfer in its curl multi handle (see engine.c DESIGN) and
 * the site test performs it blocking.  Both use http.c, so the token URL
 * obeys the same rules as a delivery: private-address guard, no redirects,
 * TLS verified.
 */
#include "auth_internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hd_version.h"
#include "hd_retry.h"
#include "hd_sign.h"
#include "hd_sanitize.h"
#include "hd_util.h"

#define DEFAULT_EXPIRES_MS (5 * 60 * 1000)   /* answer without a usable expires_in */
/* expires_in comes from the token endpoint, a stranger: whatever it says
 * (a number, a quoted number, 1e300, "99999999999999999999", 0.2) the
 * lifetime is kept within these bounds, so it neither overflows nor makes
 * every message fetch a token of its own. */
#define MIN_EXPIRES_MS 1000LL                 /* 1 s */
#define MAX_EXPIRES_MS (24LL * 3600 * 1000)   /* 1 day */

/* application/x-www-form-urlencoded (RFC 6749 appendix B). */
static void form_escape(hd_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            hd_buf_putc(b, (char)*p);
        } else if (*p == ' ') {
            hd_buf_putc(b, '+');
        } else {
            hd_buf_putc(b, '%');
            hd_buf_putc(b, hex[*p >> 4]);
            hd_buf_putc(b, hex[*p & 15]);
        }
    }
}

static void form_pair(hd_buf *b, const char *name, const char *value)
{
    if (b->len)
        hd_buf_putc(b, '&');
    form_escape(b, name);
    hd_buf_putc(b, '=');
    form_escape(b, value);
}

char *auth_oauth2_cache_key(const site *s)
{
    char *url = auth_extra_get(s->auth_extra, "token_url");
    char *scope = auth_extra_get(s->auth_extra, "scope");
    char *aud = auth_extra_get(s->auth_extra, "audience");
    char *ca = auth_extra_get(s->auth_extra, "client_auth");
    char hash[65];
    const char *secret = s->auth_secret ? s->auth_secret : "";
    auth_sha256_hex(secret, strlen(secret), hash);
    char *key = hd_xasprintf("%s\n%s\n%s\n%s\n%s\n%s", url ? url : "",
                             s->auth_user ? s->auth_user : "", scope ? scope : "",
                             aud ? aud : "", ca ? ca : "basic", hash);
    free(url);
    free(scope);
    free(aud);
    free(ca);
    return key;
}

hd_status auth_oauth2_token_request(const site *s, const char *user_agent, http_request *out,
                                    hd_error *err)
{
    memset(out, 0, sizeof *out);
    char *url = auth_extra_get(s->auth_extra, "token_url");
    if (!url)
        return hd_error_field(err, HD_INVALID, "auth.token_url", "is required for oauth2");
    char *scope = auth_extra_get(s->auth_extra, "scope");
    char *aud = auth_extra_get(s->auth_extra, "audience");
    char *ca = auth_extra_get(s->auth_extra, "client_auth");
    bool in_body = ca && strcmp(ca, "body") == 0;
    const char *id = s->auth_user ? s->auth_user : "";
    const char *secret = s->auth_secret ? s->auth_secret : "";

    snprintf(out->method, sizeof out->method, "POST");
    out->url = url;
    form_pair(&out->body, "grant_type", "client_credentials");
    if (scope)
        form_pair(&out->body, "scope", scope);
    if (aud)
        form_pair(&out->body, "audience", aud);
    if (in_body) {
        form_pair(&out->body, "client_id", id);
        form_pair(&out->body, "client_secret", secret);
    }
    request_add_header(out, "Content-Type", "application/x-www-form-urlencoded",
               "application/x-www-form-urlencoded");
    request_add_header(out, "Accept", "application/json", "application/json");
    const char *ua = user_agent && *user_agent ? user_agent : "hookdesk/" HOOKDESK_VERSION;
    request_add_header(out, "User-Agent", ua, ua);
    if (!in_body) {
        /* RFC 6749 §2.3.1: both parts form-encoded before Basic. */
        hd_buf pair = {0};
        form_escape(&pair, id);
        hd_buf_putc(&pair, ':');
        form_escape(&pair, secret);
        char *b64 = base64_encode((const unsigned char *)pair.data, pair.len);
        char *value = hd_xasprintf("Basic %s", b64);
        request_add_header(out, "Authorization", value, "Basic " AUTH_MASK);
        explicit_bzero(pair.data, pair.len);
        explicit_bzero(value, strlen(value));
        hd_buf_free(&pair);
        free(b64);
        free(value);
    }
    free(scope);
    free(aud);
    free(ca);
    return HD_OK;
}

int64_t auth_oauth2_refresh_margin_ms(int64_t expires_in_ms)
{
    /* A fifth of the lifetime, at most 60 s: a 1 h token is renewed a
     * minute early, a 1 s token (tests) 200 ms early. */
    int64_t m = expires_in_ms / 5;
    return m > 60000 ? 60000 : m;
}

/* Seconds as a double (jansson gives integers, reals or the text of a
 * quoted number) to milliseconds within the bounds; 0 when the value says
 * nothing usable (absent, zero, negative, not a number). */
static int64_t clamp_seconds(double secs)
{
    if (!(secs > 0))   /* also NaN */
        return 0;
    if (secs >= (double)(MAX_EXPIRES_MS / 1000))
        return MAX_EXPIRES_MS;
    int64_t ms = (int64_t)(secs * 1000.0);
    return ms < MIN_EXPIRES_MS ? MIN_EXPIRES_MS : ms;
}

/* A quoted expires_in ("3600", " 3600 ", "0.5"): digits with an optional
 * fraction, no sign, no exponent; anything else is "not given" (-1). */
static double quoted_seconds(const char *t)
{
    while (*t == ' ')
        t++;
    double v = 0, scale = 1;
    bool any = false, frac = false;
    for (; *t; t++) {
        if (*t >= '0' && *t <= '9') {
            any = true;
            if (frac) {
                scale /= 10;
                v += (*t - '0') * scale;
            } else if (v < 1e12) {   /* saturated: far past the upper bound */
                v = v * 10 + (*t - '0');
            }
        } else if (*t == '.' && !frac) {
            frac = true;
        } else {
            break;
        }
    }
    while (*t == ' ')
        t++;
    return any && !*t ? v : -1;
}

static int64_t expires_of(const json_t *answer)
{
    json_t *ei = json_object_get(answer, "expires_in");
    int64_t ms = 0;
    if (json_is_number(ei))
        ms = clamp_seconds(json_number_value(ei));
    else if (json_is_string(ei))
        ms = clamp_seconds(quoted_seconds(json_string_value(ei)));   /* some servers quote it */
    return ms > 0 ? ms : DEFAULT_EXPIRES_MS;
}

/* The answer as jansson reads it, integers as reals: an expires_in past 64
 * bits must not make jansson refuse the whole answer (and so lose the
 * access token). */
static json_t *load_answer(const char *body, size_t body_len)
{
    return body && body_len ? json_loadb(body, body_len, JSON_DECODE_INT_AS_REAL, NULL) : NULL;
}

int64_t auth_oauth2_expires_ms(const char *body, size_t body_len)
{
    json_t *o = load_answer(body, body_len);
    int64_t ms = expires_of(o);
    json_decref(o);
    return ms;
}

bool auth_oauth2_parse(const char *token_url, int response_code, const char *transport_error,
                       const char *body, size_t body_len, char **token, int64_t *expires_in_ms,
                       char **error)
{
    *token = NULL;
    *error = NULL;
    *expires_in_ms = 0;
    const char *url = token_url ? token_url : "?";
    if (response_code == 0) {
        *error = hd_xasprintf("oauth2: token endpoint %s: %s", url,
                              transport_error ? transport_error : "no response");
        return false;
    }
    json_t *o = load_answer(body, body_len);
    if (!retry_is_success(response_code)) {
        /* RFC 6749 §5.2 error answers say why ("invalid_client"). */
        const char *why = json_string_value(json_object_get(o, "error"));
        if (why) {
            /* The server's words: one line of inert text (no CR/LF, no
             * escapes), at most 120 bytes, cut on a character boundary. */
            char *safe = sanitize_dup(why, 0);
            size_t cut = strlen(safe);
            if (cut > 120) {
                cut = 120;
                while (cut > 0 && ((unsigned char)safe[cut] & 0xC0) == 0x80)
                    cut--;   /* a character boundary (sanitize_dup's text is UTF-8) */
                safe[cut] = '\0';
            }
            *error = hd_xasprintf("oauth2: token endpoint %s: HTTP %d (%s)", url, response_code,
                                  safe);
            free(safe);
        } else {
            *error = hd_xasprintf("oauth2: token endpoint %s: HTTP %d", url, response_code);
        }
        json_decref(o);
        return false;
    }
    const char *tok = json_string_value(json_object_get(o, "access_token"));
    if (!tok || !*tok || strpbrk(tok, "\r\n")) {
        *error = hd_xasprintf("oauth2: token endpoint %s: HTTP %d but the answer has no "
                              "access_token", url, response_code);
        json_decref(o);
        return false;
    }
    *token = hd_xstrdup(tok);
    *expires_in_ms = expires_of(o);
    json_decref(o);
    return true;
}

/* ---- the kind's entry in the table (auth_kinds.c) ---- */

hd_status auth_oauth2_check(const auth_kind_ops *kind, const site *s, json_t *o,
                          hd_error *err)
{
    (void)kind;
    const char *url = auth_json_str(o, "token_url");
    if (!url || !*url)
        return hd_error_field(err, HD_INVALID, "auth.token_url", "is required for oauth2");
    hd_status st = site_check_url("auth.token_url", url, err);
    if (st != HD_OK)
        return st;
    if (!s->auth_user || !*s->auth_user)
        return hd_error_field(err, HD_INVALID, "auth_user", "a client_id is required for oauth2");
    if (auth_has_control(s->auth_user))
        return hd_error_field(err, HD_INVALID, "auth_user", "contains a control character");
    if (!s->auth_secret || !*s->auth_secret)
        return hd_error_field(err, HD_INVALID, "auth_secret",
                              "a client_secret is required for oauth2");
    const char *ca = auth_json_str(o, "client_auth");
    if (ca && strcmp(ca, "basic") != 0 && strcmp(ca, "body") != 0)
        return hd_error_field(err, HD_INVALID, "auth.client_auth",
                              "must be basic or body, not '%s'", ca);
    return HD_OK;
}

/* The token the caller fetched (engine, site test) as a Bearer. */
hd_status auth_oauth2_sign(const auth_kind_ops *kind, const site *s, const message *m,
                         const request_context *ctx, http_request *r, hd_error *err)
{
    (void)kind, (void)s, (void)m;
    if (!ctx->oauth2_token || !*ctx->oauth2_token)
        return hd_error_set(err, HD_INVALID, "oauth2: no access token (the token endpoint "
                                             "was not asked)");
    if (!request_header_value_ok(ctx->oauth2_token))
        return hd_error_set(err, HD_INVALID, "oauth2: the access token contains a line break");
    char *value = hd_xasprintf("Bearer %s", ctx->oauth2_token);
    request_add_header(r, "Authorization", value, "Bearer " AUTH_MASK);
    free(value);
    return HD_OK;
}
