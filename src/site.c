/* site.c - trusted sites: names of the enums, life cycle and the one
 * validation every entry point (config, CLI, console, store) goes through.
 *
 * DESIGN: site_validate checks fields in a fixed order (name, url,
 * content_type, timeout, headers, auth) and stops at the first fault; the
 * error names the field (err->field, and the message starts with it:
 * "url: ...") so the console can put the text next to the right input and
 * the CLI can print it as is.  The auth part is the kinds table's
 * (auth_validate, hd_auth.h).  Validation does no I/O; site_probe_keys
 * does what needs some, where sites are saved or tested.
 */
#include "hd_site.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hd_auth.h"
#include "hd_util.h"

#define SITE_NAME_MAX 64
#define SITE_TIMEOUT_MAX_MS (10 * 60 * 1000)   /* 10 min */

static const char *const content_type_names[] = {
    [CONTENT_JSON] = "application/json",
    [CONTENT_FORM] = "application/x-www-form-urlencoded",
};

const char *content_type_name(content_type c)
{
    if ((unsigned)c >= sizeof content_type_names / sizeof content_type_names[0])
        return "unknown";
    return content_type_names[c];
}

bool content_type_parse(const char *name, content_type *out)
{
    if (!name)
        return false;
    /* Short forms are accepted for people typing in the CLI or console. */
    if (strcasecmp(name, "application/json") == 0 || strcasecmp(name, "json") == 0) {
        *out = CONTENT_JSON;
        return true;
    }
    if (strcasecmp(name, "application/x-www-form-urlencoded") == 0 ||
        strcasecmp(name, "form") == 0) {
        *out = CONTENT_FORM;
        return true;
    }
    return false;
}

void site_init(site *s)
{
    memset(s, 0, sizeof *s);
    s->ctype = CONTENT_JSON;
    s->enabled = true;
    s->auth = AUTH_NONE;
}

void site_free(site *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->url);
    site_clear_headers(s);
    free(s->auth_user);
    free(s->auth_secret);
    free(s->auth_header);
    free(s->auth_extra);
    s->name = s->url = s->auth_user = s->auth_secret = s->auth_header = s->auth_extra = NULL;
}

void site_clear_headers(site *s)
{
    for (int i = 0; i < s->nheaders; i++) {
        free(s->headers[i].name);
        free(s->headers[i].value);
    }
    free(s->headers);
    s->headers = NULL;
    s->nheaders = 0;
}

void site_copy(site *dst, const site *src)
{
    *dst = *src;
    dst->name = hd_xstrdup(src->name);
    dst->url = hd_xstrdup(src->url);
    dst->auth_user = hd_xstrdup(src->auth_user);
    dst->auth_secret = hd_xstrdup(src->auth_secret);
    dst->auth_header = hd_xstrdup(src->auth_header);
    dst->auth_extra = hd_xstrdup(src->auth_extra);
    dst->headers = NULL;
    dst->nheaders = 0;
    if (src->nheaders > 0) {
        dst->headers = hd_xcalloc((size_t)src->nheaders, sizeof *dst->headers);
        for (int i = 0; i < src->nheaders; i++) {
            dst->headers[i].name = hd_xstrdup(src->headers[i].name);
            dst->headers[i].value = hd_xstrdup(src->headers[i].value);
            dst->headers[i].secret = src->headers[i].secret;
        }
        dst->nheaders = src->nheaders;
    }
}

void site_add_header(site *s, const char *name, const char *value)
{
    site_add_header_secret(s, name, value, false);
}

void site_add_header_secret(site *s, const char *name, const char *value, bool secret)
{
    s->headers = hd_xrealloc(s->headers, (size_t)(s->nheaders + 1) * sizeof *s->headers);
    s->headers[s->nheaders].name = hd_xstrdup(name ? name : "");
    s->headers[s->nheaders].value = hd_xstrdup(value ? value : "");
    s->headers[s->nheaders].secret = secret;
    s->nheaders++;
}

bool site_header_is_secret(const char *name)
{
    static const char *const words[] = { "authorization", "cookie", "token", "secret",
                                         "key", "password", "signature" };
    for (size_t i = 0; name && i < sizeof words / sizeof words[0]; i++)
        if (strcasestr(name, words[i]))
            return true;
    return false;
}

bool site_header_masked(const site_header *h)
{
    return h->secret || site_header_is_secret(h->name);
}

const char *site_header_shown(const site_header *h)
{
    return site_header_masked(h) ? site_mask(h->value) : h->value;
}

const char *site_mask(const char *secret)
{
    return secret && *secret ? "********" : "";
}

/* ---- validation ---- */

static bool is_empty(const char *s)
{
    return !s || !*s;
}

static bool valid_name_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

/* Headers the engine sets itself; an extra header may not replace them. */
static bool is_reserved_header(const char *name)
{
    static const char *const reserved[] = {
        "Content-Type", "Authorization", "Content-Length", "Host", "Transfer-Encoding",
    };
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcasecmp(name, reserved[i]) == 0)
            return true;
    return strncasecmp(name, "webhook-", 8) == 0;
}

static hd_status check_name(const char *name, hd_error *err)
{
    if (is_empty(name))
        return hd_error_field(err, HD_INVALID, "name", "is required");
    size_t len = strlen(name);
    if (len > SITE_NAME_MAX)
        return hd_error_field(err, HD_INVALID, "name",
                              "is %zu characters long, at most %d allowed", len, SITE_NAME_MAX);
    for (size_t i = 0; i < len; i++)
        if (!valid_name_char((unsigned char)name[i]))
            return hd_error_field(err, HD_INVALID, "name",
                                  "character %zu is not allowed (use A-Z a-z 0-9 . _ -)", i + 1);
    return HD_OK;
}

static int cmp_header_name(const void *a, const void *b)
{
    return strcasecmp((*(const site_header *const *)a)->name,
                      (*(const site_header *const *)b)->name);
}

/* Names sorted, neighbours compared: a site with 20,000 headers is checked
 * in milliseconds (comparing every pair took seconds). */
static hd_status check_header_duplicates(const site *s, hd_error *err)
{
    if (s->nheaders < 2)
        return HD_OK;
    const site_header **v = hd_xmalloc(sizeof *v * (size_t)s->nheaders);
    for (int i = 0; i < s->nheaders; i++)
        v[i] = &s->headers[i];
    qsort(v, (size_t)s->nheaders, sizeof *v, cmp_header_name);
    hd_status rc = HD_OK;
    for (int i = 1; i < s->nheaders && rc == HD_OK; i++)
        if (strcasecmp(v[i - 1]->name, v[i]->name) == 0)
            rc = hd_error_field(err, HD_INVALID, "headers", "'%s' is given twice", v[i]->name);
    free(v);
    return rc;
}

static hd_status check_headers(const site *s, hd_error *err)
{
    for (int i = 0; i < s->nheaders; i++) {
        const char *name = s->headers[i].name;
        const char *value = s->headers[i].value ? s->headers[i].value : "";
        if (!site_is_token(name))
            return hd_error_field(err, HD_INVALID, "headers", "'%s' is not a valid header name",
                                  name ? name : "");
        if (is_reserved_header(name))
            return hd_error_field(err, HD_INVALID, "headers",
                                  "'%s' is set by hookdesk and cannot be overridden", name);
        if (!site_is_header_value(value))
            return hd_error_field(err, HD_INVALID, "headers",
                                  "value of '%s' contains a line break or control character",
                                  name);
    }
    return check_header_duplicates(s, err);
}

hd_status site_validate(const site *s, hd_error *err)
{
    hd_status rc;
    if ((rc = check_name(s->name, err)) != HD_OK)
        return rc;
    if ((rc = site_check_url("url", s->url, err)) != HD_OK)
        return rc;
    if ((unsigned)s->ctype > CONTENT_FORM)
        return hd_error_field(err, HD_INVALID, "content_type", "unknown value %d", (int)s->ctype);
    if (s->timeout_ms != 0 && (s->timeout_ms < 1 || s->timeout_ms > SITE_TIMEOUT_MAX_MS))
        return hd_error_field(err, HD_INVALID, "timeout",
                              "must be between 1ms and 10m (0 means the default)");
    if (s->max_in_flight < 0 || s->max_in_flight > SITE_MAX_IN_FLIGHT)
        return hd_error_field(err, HD_INVALID, "max_in_flight",
                              "must be between 1 and %d (0 means the default: "
                              "half of delivery.concurrency)", SITE_MAX_IN_FLIGHT);
    if ((rc = check_headers(s, err)) != HD_OK)
        return rc;
    return auth_validate(s, err);
}

hd_status site_probe_keys(const site *s, hd_error *err)
{
    if ((unsigned)s->auth >= AUTH_KIND_COUNT || !auth_kinds[s->auth].probe)
        return HD_OK;
    return auth_kinds[s->auth].probe(s, err);
}

int site_max_in_flight(const site *s, int concurrency)
{
    if (s && s->max_in_flight > 0)
        return s->max_in_flight;
    return concurrency >= 2 ? concurrency / 2 : 1;
}
