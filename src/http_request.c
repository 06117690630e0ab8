/* http_request.c - the http_request value: its two header lists kept in
 * step (as sent, and masked for storage and screens), the URL joined from
 * a site and a message path, freeing.  request.c builds one; the auth
 * kinds add their headers through request_add_header. */
#include "hd_request.h"

#include <stdlib.h>
#include <string.h>

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

void request_add_header(http_request *r, const char *name, const char *value,
                       const char *masked_value)
{
    r->headers = hd_xrealloc(r->headers, sizeof *r->headers * (size_t)(r->nheaders + 1));
    r->headers_masked =
        hd_xrealloc(r->headers_masked, sizeof *r->headers_masked * (size_t)(r->nheaders + 1));
    r->headers[r->nheaders] = header_line(name, value);
    /* Most headers show as they are sent: one line for both (request_free
     * frees it once). */
    r->headers_masked[r->nheaders] = masked_value == value || strcmp(masked_value, value) == 0
                                         ? r->headers[r->nheaders]
                                         : header_line(name, masked_value);
    r->nheaders++;
}

/* A header name is a token; a value must not be able to start a new header. */
bool request_header_name_ok(const char *s)
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

bool request_header_value_ok(const char *s)
{
    return s && strpbrk(s, "\r\n") == NULL;
}

char *request_join_url(const char *base, const char *path)
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

void request_free(http_request *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->nheaders; i++) {
        if (r->headers_masked[i] != r->headers[i])
            free(r->headers_masked[i]);
        free(r->headers[i]);
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
    /* Measured first, then copied into one allocation (an hd_buf grew,
     * and so reallocated, a few times per attempt). */
    size_t total = 0;
    for (int i = 0; i < r->nheaders; i++)
        total += strlen(r->headers_masked[i]) + 1;
    if (total == 0)
        return hd_xstrdup("");
    char *text = hd_xmalloc(total + 1);
    char *p = text;
    for (int i = 0; i < r->nheaders; i++) {
        size_t n = strlen(r->headers_masked[i]);
        memcpy(p, r->headers_masked[i], n);
        p[n] = '\n';
        p += n + 1;
    }
    *p = '\0';
    return text;
}
