/* site_rules.c - the syntax rules a site's fields and its auth settings
 * share: URLs (parsed with libcurl's own CURLU, so that what is accepted
 * is exactly what the engine can send to), header names and values. */
#include "hd_site.h"

#include <curl/curl.h>
#include <string.h>
#include <strings.h>

static bool is_empty(const char *s)
{
    return !s || !*s;
}

/* RFC 7230 tchar. */
static bool is_tchar(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

bool site_is_token(const char *s)
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
bool site_is_header_value(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return false;
    return true;
}

hd_status site_check_url(const char *field, const char *url, hd_error *err)
{
    if (is_empty(url))
        return hd_error_field(err, HD_INVALID, field, "is required");
    for (const unsigned char *p = (const unsigned char *)url; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return hd_error_field(err, HD_INVALID, field,
                                  "contains a space or control character (percent-encode it)");
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return hd_error_field(err, HD_INVALID, field, "must start with http:// or https://");

    /* libcurl reads "http:///x" as host "x"; an empty authority is a typo. */
    const char *auth = strstr(url, "://") + 3;
    if (*auth == '\0' || *auth == '/' || *auth == '?' || *auth == '#')
        return hd_error_field(err, HD_INVALID, field, "a host name is required");

    CURLU *u = curl_url();
    if (!u)
        return hd_error_field(err, HD_NOMEM, field, "cannot allocate a URL parser");
    hd_status rc = HD_OK;
    char *part = NULL;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        rc = hd_error_field(err, HD_INVALID, field, "%s", curl_url_strerror(uc));
        goto out;
    }
    uc = curl_url_get(u, CURLUPART_SCHEME, &part, 0);
    if (uc != CURLUE_OK || !part ||
        (strcasecmp(part, "http") != 0 && strcasecmp(part, "https") != 0)) {
        rc = hd_error_field(err, HD_INVALID, field, "must start with http:// or https://");
        goto out;
    }
    curl_free(part);
    part = NULL;
    uc = curl_url_get(u, CURLUPART_HOST, &part, 0);
    if (uc != CURLUE_OK || is_empty(part)) {
        rc = hd_error_field(err, HD_INVALID, field, "a host name is required");
        goto out;
    }
    curl_free(part);
    part = NULL;
    /* Credentials in a URL end up in logs and screens; they belong in auth. */
    if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
        rc = hd_error_field(err, HD_INVALID, field,
                            "must not contain a user name or password (use auth instead)");
        goto out;
    }
    if (curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
        rc = hd_error_field(err, HD_INVALID, field, "must not contain a #fragment");
        goto out;
    }
out:
    curl_free(part);
    curl_url_cleanup(u);
    return rc;
}

