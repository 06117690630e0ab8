/* http.c - an http_request as a curl easy handle: safe defaults (no
 * redirects, TLS verified, http/https only), the private-address guard,
 * bounded response bodies, and one-line error texts for attempts.
 */
#include "http.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hd_netguard.h"

/* Refuses private targets before the socket even exists; the address is kept
 * so the attempt error can name it. */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    http_transfer *t = clientp;
    (void)purpose;
    if (!t->opt.allow_private && netguard_is_private(&addr->addr)) {
        netguard_format(&addr->addr, t->refused, sizeof t->refused);
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

static size_t on_header(char *data, size_t size, size_t n, void *userp)
{
    http_transfer *t = userp;
    size_t len = size * n;
    /* A status line starts a new header block (1xx interim answers). */
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        hd_buf_reset(&t->resp_headers);
        return len;
    }
    size_t end = len;
    while (end > 0 && (data[end - 1] == '\n' || data[end - 1] == '\r'))
        end--;
    if (end == 0)
        return len;
    /* The receiver is a stranger: keep at most HTTP_MAX_HEADERS bytes of its
     * headers (libcurl before 8.3 does not bound them itself). */
    if (t->resp_headers.len + end + 1 > HTTP_MAX_HEADERS) {
        if (!t->headers_cut) {
            hd_buf_puts(&t->resp_headers, "[more headers not kept]\n");
            t->headers_cut = true;
        }
        return len;
    }
    hd_buf_append(&t->resp_headers, data, end);
    hd_buf_putc(&t->resp_headers, '\n');
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    http_transfer *t = userp;
    size_t len = size * n;
    size_t room = t->opt.max_response_body > t->resp_body.len
                      ? (size_t)(t->opt.max_response_body - t->resp_body.len)
                      : 0;
    size_t keep = len < room ? len : room;
    if (keep)
        hd_buf_append(&t->resp_body, data, keep);
    t->body_dropped += len - keep;
    return len;
}

hd_status http_transfer_new(http_request *req, const http_options *opt, CURL *reuse,
                            http_transfer **out, hd_error *err)
{
    http_transfer *t = hd_xcalloc(1, sizeof *t);
    t->req = *req;
    memset(req, 0, sizeof *req);
    t->opt = *opt;
    if (t->opt.timeout_ms <= 0)
        t->opt.timeout_ms = 10000;
    t->easy = reuse ? reuse : curl_easy_init();
    if (!t->easy) {
        http_transfer_free(t);
        return hd_error_set(err, HD_NET, "curl: cannot create an easy handle");
    }
    for (int i = 0; i < t->req.nheaders; i++) {
        struct curl_slist *s = curl_slist_append(t->slist, t->req.headers[i]);
        if (!s)
            goto nomem;
        t->slist = s;
    }
    /* curl would otherwise wait for "100 Continue" before larger bodies.
     * Not with SigV4: curl 7.88 signs every header of the list, even the
     * empty "Expect:" that only removes a header, so the server would see a
     * signature over a header never sent (caught by test_auth_deliver).
     * Its automatic Expect (bodies over 1 MiB) is added after signing. */
    if (!t->req.aws_sigv4) {
        struct curl_slist *s = curl_slist_append(t->slist, "Expect:");
        if (!s)
            goto nomem;
        t->slist = s;
    }

    CURL *e = t->easy;
    CURLcode rc = CURLE_OK;
#define SET(opt_, val_) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt_, val_); } while (0)
    SET(CURLOPT_URL, t->req.url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TIMEOUT_MS, (long)t->opt.timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)t->opt.timeout_ms);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_OPENSOCKETFUNCTION, open_socket);
    SET(CURLOPT_OPENSOCKETDATA, t);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, t);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, t);
    SET(CURLOPT_ERRORBUFFER, t->errbuf);
    SET(CURLOPT_HTTPHEADER, t->slist);
    SET(CURLOPT_PRIVATE, t);
    SET(CURLOPT_POSTFIELDS, t->req.body.data ? t->req.body.data : "");
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->req.body.len);
    if (strcmp(t->req.method, "POST") != 0)
        SET(CURLOPT_CUSTOMREQUEST, t->req.method);
    if (t->req.aws_sigv4) {
        /* SigV4: curl signs with key id and secret from USERPWD (setting
         * AWS_SIGV4 also selects it as the auth method, so no HTTPAUTH). */
        SET(CURLOPT_AWS_SIGV4, t->req.aws_sigv4);
        if (t->req.userpwd)
            SET(CURLOPT_USERPWD, t->req.userpwd);
    } else if (t->req.userpwd) {
        SET(CURLOPT_USERPWD, t->req.userpwd);
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    }
#undef SET
    if (rc != CURLE_OK) {
        hd_error_set(err, HD_NET, "curl: cannot configure the request: %s", curl_easy_strerror(rc));
        http_transfer_free(t);
        return HD_NET;
    }
    *out = t;
    return HD_OK;
nomem:
    http_transfer_free(t);
    return hd_error_set(err, HD_NOMEM, "curl: out of memory building headers");
}

void http_transfer_started(http_transfer *t)
{
    t->started_at = hd_now_ms();
    t->started_mono = hd_mono_ms();
}

static char *one_line(const char *s)
{
    char *p = hd_xstrdup(s);
    size_t len = strlen(p);
    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r' || p[len - 1] == ' '))
        p[--len] = '\0';
    for (char *q = p; *q; q++)
        if (*q == '\n' || *q == '\r')
            *q = ' ';
    return p;
}

void http_transfer_finish(http_transfer *t, CURLcode rc, http_result *out)
{
    memset(out, 0, sizeof *out);
    out->started_at = t->started_at;
    out->duration_ms = t->started_mono ? hd_mono_ms() - t->started_mono : 0;
    long code = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
    out->response_code = (int)code;

    if (t->refused[0]) {
        out->error = hd_xasprintf("refused to connect to private address %s "
                                  "(network.allow_private is false)", t->refused);
        out->response_code = 0;
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        out->error = hd_xasprintf("timed out after %" PRId64 " ms", t->opt.timeout_ms);
    } else if (rc != CURLE_OK) {
        out->error = one_line(t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
    } else if (code < 200 || code > 299) {
        if (code >= 300 && code < 400)
            out->error = hd_xasprintf("HTTP %ld (redirects are not followed)", code);
        else
            out->error = hd_xasprintf("HTTP %ld", code);
    }
    out->response_headers = hd_buf_steal(&t->resp_headers);
    out->response_body_len = t->resp_body.len;
    out->response_body = hd_buf_steal(&t->resp_body);
    out->body_truncated = t->body_dropped > 0;
}

void http_transfer_free(http_transfer *t)
{
    if (!t)
        return;
    if (t->easy)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->slist);
    request_free(&t->req);
    hd_buf_free(&t->resp_headers);
    hd_buf_free(&t->resp_body);
    free(t);
}

CURL *http_transfer_recycle(http_transfer *t)
{
    CURL *easy = t->easy;
    curl_easy_reset(easy);
    t->easy = NULL;
    http_transfer_free(t);
    return easy;
}

void http_result_free(http_result *r)
{
    if (!r)
        return;
    free(r->error);
    free(r->response_headers);
    free(r->response_body);
    memset(r, 0, sizeof *r);
}

hd_status http_perform(http_request *req, const http_options *opt, http_result *out,
                       hd_error *err)
{
    http_transfer *t = NULL;
    hd_status st = http_transfer_new(req, opt, NULL, &t, err);
    if (st != HD_OK)
        return st;
    http_transfer_started(t);
    CURLcode rc = curl_easy_perform(t->easy);
    http_transfer_finish(t, rc, out);
    http_transfer_free(t);
    return HD_OK;
}
