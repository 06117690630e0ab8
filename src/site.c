/* site.c - trusted sites: names of the enums, life cycle and the one
 * validation every entry point (config, CLI, console, store) goes through.
 *
 * DESIGN: site_validate checks fields in a fixed order (name, url,
 * content_type, timeout, headers, auth) and stops at the first fault; its
 * message always starts with the field name ("url: ...") so the console can
 * put the text next to the right input and the CLI can print it as is.
 * The URL is parsed with libcurl's own URL parser (CURLU) so that what we
 * accept is exactly what the engine will later be able to send to.
 */
#include "hd_site.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hd_auth.h"
#include "hd_sign.h"
#include "hd_util.h"

#define SITE_NAME_MAX 64
#define SITE_TIMEOUT_MAX_MS (10 * 60 * 1000)   /* 10 min */

static const struct {
    const char *name;
    bool ready;
} auth_info[] = {
#define HD_AUTH_INFO(id, name, ready) { name, ready },
    HD_AUTH_KIND_LIST(HD_AUTH_INFO)
#undef HD_AUTH_INFO
};

const char *auth_kind_name(auth_kind k)
{
    if ((unsigned)k >= AUTH_KIND_COUNT)
        return "unknown";
    return auth_info[k].name;
}

bool auth_kind_parse(const char *name, auth_kind *out)
{
    if (!name)
        return false;
    for (int k = 0; k < AUTH_KIND_COUNT; k++) {
        if (strcasecmp(name, auth_info[k].name) == 0) {
            *out = (auth_kind)k;
            return true;
        }
    }
    return false;
}

bool auth_kind_supported(auth_kind k)
{
    return (unsigned)k < AUTH_KIND_COUNT && auth_info[k].ready;
}

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
    for (int i = 0; i < s->nheaders; i++) {
        free(s->headers[i].name);
        free(s->headers[i].value);
    }
    free(s->headers);
    free(s->auth_user);
    free(s->auth_secret);
    free(s->auth_header);
    free(s->auth_extra);
    s->name = s->url = s->auth_user = s->auth_secret = s->auth_header = s->auth_extra = NULL;
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

/* RFC 7230 tchar. */
static bool is_tchar(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token(const char *s)
{
    if (is_empty(s))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (!is_tchar(*p))
            return false;
    return true;
}

/* A header value may not split the request: no CR or LF (NUL cannot occur
 * in a C string); other C0 controls and DEL are refused as well since no
 * server would read them sensibly (HTAB is allowed, as in RFC 7230). */
static bool is_header_value(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return false;
    return true;
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
        return hd_error_set(err, HD_INVALID, "name: is required");
    size_t len = strlen(name);
    if (len > SITE_NAME_MAX)
        return hd_error_set(err, HD_INVALID, "name: is %zu characters long, at most %d allowed",
                            len, SITE_NAME_MAX);
    for (size_t i = 0; i < len; i++)
        if (!valid_name_char((unsigned char)name[i]))
            return hd_error_set(err, HD_INVALID,
                                "name: character %zu is not allowed (use A-Z a-z 0-9 . _ -)",
                                i + 1);
    return HD_OK;
}

static hd_status check_url(const char *field, const char *url, hd_error *err)
{
    if (is_empty(url))
        return hd_error_set(err, HD_INVALID, "%s: is required", field);
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return hd_error_set(err, HD_INVALID,
                                "%s: contains a space or control character (percent-encode it)",
                                field);
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return hd_error_set(err, HD_INVALID, "%s: must start with http:// or https://", field);

    /* libcurl reads "http:///x" as host "x"; an empty authority is a typo. */
    const char *auth = strstr(url, "://") + 3;
    if (*auth == '\0' || *auth == '/' || *auth == '?' || *auth == '#')
        return hd_error_set(err, HD_INVALID, "%s: a host name is required", field);

    CURLU *u = curl_url();
    if (!u)
        return hd_error_set(err, HD_NOMEM, "%s: cannot allocate a URL parser", field);
    hd_status rc = HD_OK;
    char *part = NULL;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        rc = hd_error_set(err, HD_INVALID, "%s: %s", field, curl_url_strerror(uc));
        goto out;
    }
    uc = curl_url_get(u, CURLUPART_SCHEME, &part, 0);
    if (uc != CURLUE_OK || !part ||
        (strcasecmp(part, "http") != 0 && strcasecmp(part, "https") != 0)) {
        rc = hd_error_set(err, HD_INVALID, "%s: must start with http:// or https://", field);
        goto out;
    }
    curl_free(part);
    part = NULL;
    uc = curl_url_get(u, CURLUPART_HOST, &part, 0);
    if (uc != CURLUE_OK || is_empty(part)) {
        rc = hd_error_set(err, HD_INVALID, "%s: a host name is required", field);
        goto out;
    }
    curl_free(part);
    part = NULL;
    /* Credentials in a URL end up in logs and screens; they belong in auth. */
    if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
        rc = hd_error_set(err, HD_INVALID,
                          "%s: must not contain a user name or password (use auth instead)",
                          field);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
        rc = hd_error_set(err, HD_INVALID, "%s: must not contain a #fragment", field);
        goto out;
    }
out:
    curl_free(part);
    curl_url_cleanup(u);
    return rc;
}

hd_status auth_check_url(const char *field, const char *url, hd_error *err)
{
    return check_url(field, url, err);
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
            rc = hd_error_set(err, HD_INVALID, "headers: '%s' is given twice", v[i]->name);
    free(v);
    return rc;
}

static hd_status check_headers(const site *s, hd_error *err)
{
    for (int i = 0; i < s->nheaders; i++) {
        const char *name = s->headers[i].name;
        const char *value = s->headers[i].value ? s->headers[i].value : "";
        if (!is_token(name))
            return hd_error_set(err, HD_INVALID,
                                "headers: '%s' is not a valid header name",
                                name ? name : "");
        if (is_reserved_header(name))
            return hd_error_set(err, HD_INVALID,
                                "headers: '%s' is set by hookdesk and cannot be overridden",
                                name);
        if (!is_header_value(value))
            return hd_error_set(err, HD_INVALID,
                                "headers: value of '%s' contains a line break or control character",
                                name);
    }
    return check_header_duplicates(s, err);
}

static hd_status check_auth(const site *s, hd_error *err)
{
    if ((unsigned)s->auth >= AUTH_KIND_COUNT)
        return hd_error_set(err, HD_INVALID, "auth: unknown kind %d", (int)s->auth);
    if (!auth_kind_supported(s->auth))
        return hd_error_set(err, HD_INVALID, "auth: kind '%s' is not supported yet",
                            auth_kind_name(s->auth));
    switch (s->auth) {
    case AUTH_NONE:
        if (!is_empty(s->auth_secret))
            return hd_error_set(err, HD_INVALID, "auth_secret: must be empty with auth 'none'");
        if (!is_empty(s->auth_user))
            return hd_error_set(err, HD_INVALID, "auth_user: must be empty with auth 'none'");
        return HD_OK;
    case AUTH_BASIC:
        if (is_empty(s->auth_user))
            return hd_error_set(err, HD_INVALID, "auth_user: is required for basic auth");
        if (strchr(s->auth_user, ':'))
            return hd_error_set(err, HD_INVALID, "auth_user: must not contain ':'");
        if (!is_header_value(s->auth_user))
            return hd_error_set(err, HD_INVALID, "auth_user: contains a control character");
        if (is_empty(s->auth_secret))
            return hd_error_set(err, HD_INVALID, "auth_secret: a password is required for basic auth");
        return HD_OK;
    case AUTH_BEARER:
        if (is_empty(s->auth_secret))
            return hd_error_set(err, HD_INVALID, "auth_secret: a token is required for bearer auth");
        if (!is_header_value(s->auth_secret))
            return hd_error_set(err, HD_INVALID,
                                "auth_secret: contains a line break or control character");
        return HD_OK;
    case AUTH_HEADER:
        if (is_empty(s->auth_header))
            return hd_error_set(err, HD_INVALID,
                                "auth_header: a header name is required for header auth");
        if (!is_token(s->auth_header))
            return hd_error_set(err, HD_INVALID, "auth_header: '%s' is not a valid header name",
                                s->auth_header);
        /* Authorization is fine here ("Authorization: Token ..." is common). */
        if (strcasecmp(s->auth_header, "Content-Type") == 0 ||
            strcasecmp(s->auth_header, "Content-Length") == 0 ||
            strcasecmp(s->auth_header, "Host") == 0 ||
            strncasecmp(s->auth_header, "webhook-", 8) == 0)
            return hd_error_set(err, HD_INVALID,
                                "auth_header: '%s' is set by hookdesk and cannot be used",
                                s->auth_header);
        for (int i = 0; i < s->nheaders; i++)
            if (s->headers[i].name && strcasecmp(s->headers[i].name, s->auth_header) == 0)
                return hd_error_set(err, HD_INVALID,
                                    "auth_header: '%s' is also given as an extra header",
                                    s->auth_header);
        if (is_empty(s->auth_secret))
            return hd_error_set(err, HD_INVALID,
                                "auth_secret: a header value is required for header auth");
        if (!is_header_value(s->auth_secret))
            return hd_error_set(err, HD_INVALID,
                                "auth_secret: contains a line break or control character");
        return HD_OK;
    case AUTH_HMAC: {
        if (is_empty(s->auth_secret))
            return hd_error_set(err, HD_INVALID,
                                "auth_secret: a whsec_ signing secret is required for hmac auth");
        if (strncmp(s->auth_secret, "whsec_", 6) != 0)
            return hd_error_set(err, HD_INVALID, "auth_secret: must start with 'whsec_'");
        unsigned char *key = NULL;
        size_t n = 0;
        if (base64_decode(s->auth_secret + 6, &key, &n) != 0)
            return hd_error_set(err, HD_INVALID,
                                "auth_secret: the part after 'whsec_' is not valid base64");
        free(key);
        if (n == 0)
            return hd_error_set(err, HD_INVALID, "auth_secret: the key after 'whsec_' is empty");
        return HD_OK;
    }
    case AUTH_JWT:
    case AUTH_OAUTH2:
    case AUTH_AWS:
    case AUTH_AWS_S3:
        return auth_check(s, err);
    default:
        return hd_error_set(err, HD_INVALID, "auth: kind '%s' is not supported yet",
                            auth_kind_name(s->auth));
    }
}

hd_status site_validate(const site *s, hd_error *err)
{
    hd_status rc;
    if ((rc = check_name(s->name, err)) != HD_OK)
        return rc;
    if ((rc = check_url("url", s->url, err)) != HD_OK)
        return rc;
    if ((unsigned)s->ctype > CONTENT_FORM)
        return hd_error_set(err, HD_INVALID, "content_type: unknown value %d", (int)s->ctype);
    if (s->timeout_ms != 0 && (s->timeout_ms < 1 || s->timeout_ms > SITE_TIMEOUT_MAX_MS))
        return hd_error_set(err, HD_INVALID,
                            "timeout: must be between 1ms and 10m (0 means the default)");
    if (s->max_in_flight < 0 || s->max_in_flight > SITE_MAX_IN_FLIGHT)
        return hd_error_set(err, HD_INVALID,
                            "max_in_flight: must be between 1 and %d (0 means the default: "
                            "half of delivery.concurrency)", SITE_MAX_IN_FLIGHT);
    if ((rc = check_headers(s, err)) != HD_OK)
        return rc;
    return check_auth(s, err);
}

int site_max_in_flight(const site *s, int concurrency)
{
    if (s && s->max_in_flight > 0)
        return s->max_in_flight;
    return concurrency >= 2 ? concurrency / 2 : 1;
}
