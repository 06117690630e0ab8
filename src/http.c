/* http.c - an http_request as a curl easy handle: safe defaults (no
 * redirects, TLS verified, http/https only), the private-address guard,
 * bounded response bodies, and one-line error texts for attempts.
 *
 * DESIGN (SigV4 headers): for aws / aws-s3, libcurl computes Authorization
 * and x-amz-date while sending, so the headers request.c built beforehand
 * are not what went out.  For those transfers only, a debug callback keeps
 * the request header block curl wrote (CURLINFO_HEADER_OUT), and
 * http_transfer_finish masks it into http_result.sent_headers: lines that
 * are one of the request's own headers take that header's masked form, the
 * SigV4 signature becomes ********, any other secret-looking header is
 * masked whole.  Other kinds set no callback and no VERBOSE (the engine's
 * hot path pays nothing); curl_easy_reset in http_transfer_recycle clears
 * both before a handle is reused.
 *
 * DESIGN (reused handles): a handle whose transfer set only the options
 * every attempt sets (plain POST, auth in headers) keeps them when it is
 * recycled: the next transfer sets just its own URL, body, headers and
 * pointers (CURLOPT_PRIVATE carries `configured` meanwhile).  A transfer
 * that set a "sticky" option the next one must not inherit (another method,
 * USERPWD/HTTPAUTH, SigV4 and its debug callback, a proxy) has its handle
 * reset.  curl_easy_reset and the constant options were a tenth of the
 * engine's own instructions per attempt.
 *
 * DESIGN (proxies): none unless network.proxy is set; CURLOPT_PROXY "" keeps
 * libcurl from reading http_proxy / ALL_PROXY, and with a proxy NOPROXY ""
 * keeps no_proxy from sending some hosts around it.  Through a proxy every
 * socket goes to the proxy, which resolves and connects to the target: the
 * private-address guard then sees only the proxy's address (the operator's
 * choice, not judged).  What can still be judged is the URL's host: with
 * allow_private false a literal private address or a localhost name is
 * refused before any socket is opened (open_socket) or any request is
 * sent on a kept-alive proxy connection (on_prereq).  A name that resolves
 * to a private address behind the proxy cannot be seen from here.
 */
#include "http.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "hd_netguard.h"
#include "hd_retry.h"
#include "hd_site.h"

#define MASK "********"

/* CURLOPT_PRIVATE of a recycled handle that keeps the constant options. */
static char configured;

static bool has_proxy(const http_options *o)
{
    return o->proxy && *o->proxy;
}

/* With a proxy: true when the URL's host is one the proxy would connect to
 * on a private address we can tell from the URL alone (a literal address,
 * in any spelling inet_aton or inet_pton reads, or localhost); the host goes
 * into out. */
static bool url_host_private(const char *url, char *out, size_t outlen)
{
    CURLU *u = curl_url();
    char *host = NULL;
    bool refuse = false;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host) {
        const char *h = host;
        size_t n = strlen(host);
        if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
            h++;
            n -= 2;
        }
        char name[256];
        if (n < sizeof name) {
            memcpy(name, h, n);
            name[n] = '\0';
            char *zone = strchr(name, '%');
            if (zone)
                *zone = '\0';
            size_t len = strlen(name);
            while (len > 0 && name[len - 1] == '.')
                name[--len] = '\0';   /* "localhost." */
            struct sockaddr_in v4;
            struct sockaddr_in6 v6;
            memset(&v4, 0, sizeof v4);
            memset(&v6, 0, sizeof v6);
            if (strcasecmp(name, "localhost") == 0 ||
                (len > 10 && strcasecmp(name + len - 10, ".localhost") == 0)) {
                refuse = true;
                snprintf(out, outlen, "%s", name);
            } else if (inet_pton(AF_INET6, name, &v6.sin6_addr) == 1) {
                v6.sin6_family = AF_INET6;
                refuse = netguard_is_private((const struct sockaddr *)&v6);
                if (refuse)
                    netguard_format((const struct sockaddr *)&v6, out, outlen);
            } else if (inet_aton(name, &v4.sin_addr)) {
                v4.sin_family = AF_INET;
                refuse = netguard_is_private((const struct sockaddr *)&v4);
                if (refuse)
                    netguard_format((const struct sockaddr *)&v4, out, outlen);
            }
        }
    }
    curl_free(host);
    curl_url_cleanup(u);
    return refuse;
}

/* "http://proxy.example:3128" for messages: scheme, host and the port curl
 * uses (1080 unless given, 443 for https), never the credentials. */
static void proxy_shown(const char *proxy, char *out, size_t outlen)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, proxy, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
            port = NULL;
        snprintf(out, outlen, "%s://%s:%s", scheme, host,
                 port ? port : strcasecmp(scheme, "https") == 0 ? "443" : "1080");
    } else {
        snprintf(out, outlen, "(network.proxy)");
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

/* Refuses private targets before the socket even exists; the address is kept
 * so the attempt error can name it.  Through a proxy the socket goes to the
 * proxy: only the URL's host can be judged (see DESIGN: proxies). */
static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    http_transfer *t = clientp;
    (void)purpose;
    if (has_proxy(&t->opt)) {
        if (t->target_refused)
            return CURL_SOCKET_BAD;
    } else if (!t->opt.allow_private && netguard_is_private(&addr->addr)) {
        netguard_format(&addr->addr, t->refused, sizeof t->refused);
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* Called by curl right before it sends the request, on every connection it
 * tries.  When a kept-alive connection dies after the request went out and
 * before an answer came, libcurl sends the same request again on a new
 * connection by itself: a POST the receiver gets and nobody records.  The
 * second send is refused here instead, so the attempt ends with an error,
 * is recorded, and the engine retries it under its own rules (SPEC §1:
 * every request that leaves is a recorded attempt). */
static int on_prereq(void *clientp, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
    http_transfer *t = clientp;
    (void)conn_primary_ip;
    (void)conn_local_ip;
    (void)conn_primary_port;
    (void)conn_local_port;
    if (t->target_refused)
        return CURL_PREREQFUNC_ABORT;   /* a kept-alive proxy connection */
    if (t->requests_sent++ > 0) {
        t->resend_refused = true;
        return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
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

/* SigV4 transfers only (VERBOSE is on for them): keeps the last request
 * header block.  curl writes a block again when it retries on a new
 * connection, so a block after a complete one replaces it. */
static int on_debug(CURL *easy, curl_infotype type, char *data, size_t size, void *userp)
{
    http_transfer *t = userp;
    (void)easy;
    if (type != CURLINFO_HEADER_OUT)
        return 0;
    if (t->sent_complete) {
        hd_buf_reset(&t->sent);
        t->sent_complete = false;
        t->sent_cut = false;
    }
    if (t->sent_cut || t->sent.len + size > HTTP_MAX_HEADERS) {
        t->sent_cut = true;
        return 0;
    }
    hd_buf_append(&t->sent, data, size);
    if (t->sent.len >= 4 && memcmp(t->sent.data + t->sent.len - 4, "\r\n\r\n", 4) == 0)
        t->sent_complete = true;
    return 0;
}

/* An Authorization value as shown: SigV4 keeps algorithm, Credential (the
 * access key id is not secret) and SignedHeaders, and hides the signature;
 * any other scheme keeps only its name. */
static void put_masked_authorization(hd_buf *b, const char *value)
{
    static const char algo[] = "AWS4-HMAC-SHA256 ";
    const char *sig = strstr(value, "Signature=");
    if (strncmp(value, algo, sizeof algo - 1) == 0 && sig) {
        sig += strlen("Signature=");
        hd_buf_append(b, value, (size_t)(sig - value));
        hd_buf_puts(b, MASK);
        sig += strspn(sig, "0123456789abcdefABCDEF");
        hd_buf_puts(b, sig);   /* nothing after the signature today */
        return;
    }
    size_t scheme = strcspn(value, " ");
    if (value[scheme] == ' ') {
        hd_buf_append(b, value, scheme + 1);
        hd_buf_puts(b, MASK);
    } else {
        hd_buf_puts(b, MASK);
    }
}

/* One sent header line (no CR/LF) into b, masked. */
static void put_masked_line(hd_buf *b, const http_request *req, const char *line, size_t len)
{
    /* One of ours: exactly as request.c masked it. */
    for (int i = 0; i < req->nheaders; i++) {
        if (strlen(req->headers[i]) == len && memcmp(req->headers[i], line, len) == 0) {
            hd_buf_puts(b, req->headers_masked[i]);
            hd_buf_putc(b, '\n');
            return;
        }
    }
    const char *colon = memchr(line, ':', len);
    if (!colon) {
        hd_buf_puts(b, MASK "\n");   /* not a header line: nothing to tell */
        return;
    }
    char *name = hd_xstrndup(line, (size_t)(colon - line));
    const char *v = colon + 1;
    while (v < line + len && (*v == ' ' || *v == '\t'))
        v++;
    char *value = hd_xstrndup(v, (size_t)(line + len - v));
    hd_buf_printf(b, "%s: ", name);
    if (strcasecmp(name, "Authorization") == 0)
        put_masked_authorization(b, value);
    else if (site_header_is_secret(name) && *value)
        hd_buf_puts(b, MASK);
    else
        hd_buf_puts(b, value);
    hd_buf_putc(b, '\n');
    free(name);
    free(value);
}

/* The captured header block, request line dropped, masked; NULL when
 * nothing (whole) was captured. */
static char *sent_headers_masked(const http_transfer *t)
{
    if (!t->req.aws_sigv4 || t->sent_cut || t->sent.len == 0)
        return NULL;
    const char *p = t->sent.data;
    const char *end = p + t->sent.len;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        return NULL;
    p = nl + 1;   /* the request line is shown apart (method and URL) */
    hd_buf b = {0};
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        size_t len = (size_t)(eol - p);
        while (len > 0 && p[len - 1] == '\r')
            len--;
        if (len > 0)
            put_masked_line(&b, &t->req, p, len);
        p = nl ? nl + 1 : end;
    }
    char *text = hd_buf_steal(&b);
    /* Never the secret key, whatever curl wrote (it should not be there):
     * the pre-built headers are shown instead. */
    const char *secret = t->req.userpwd ? strchr(t->req.userpwd, ':') : NULL;
    if (text && secret && secret[1] && strstr(text, secret + 1)) {
        free(text);
        return NULL;
    }
    return text;
}

/* Turns off curl's "Expect: 100-continue" (see header_list). */
static char expect_off[] = "Expect:";

/* The request's headers as curl's list (t->slist): nodes of one block that
 * point at t->req's own lines, which outlive the transfer (curl reads the
 * list, never frees or changes it).  curl_slist_append copied every line
 * and allocated each node: two allocations per header and attempt.
 * Freed by http_transfer_free (one free, the lines are t->req's). */
static void header_list(http_transfer *t)
{
    int n = t->req.nheaders + (t->req.aws_sigv4 ? 0 : 1);
    if (n == 0)
        return;
    struct curl_slist *nodes = hd_xmalloc(sizeof *nodes * (size_t)n);
    for (int i = 0; i < t->req.nheaders; i++)
        nodes[i].data = t->req.headers[i];
    /* curl would otherwise wait for "100 Continue" before larger bodies.
     * Not with SigV4: curl 7.88 signs every header of the list, even the
     * empty "Expect:" that only removes a header, so the server would see a
     * signature over a header never sent (caught by test_auth_deliver).
     * Its automatic Expect (bodies over 1 MiB) is added after signing. */
    if (!t->req.aws_sigv4)
        nodes[n - 1].data = expect_off;
    for (int i = 0; i < n; i++)
        nodes[i].next = i + 1 < n ? &nodes[i + 1] : NULL;
    t->slist = nodes;
}

#define SET(opt_, val_) do { if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt_, val_); } while (0)

/* The options every attempt sets (see DESIGN: reused handles). */
static CURLcode set_constant_options(CURL *e)
{
    CURLcode rc = CURLE_OK;
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_NOSIGNAL, 1L);
    /* No proxy from the environment (http_proxy, ALL_PROXY...): SPEC §2
     * uses proxies only when configured, and the private-address check
     * must see the address actually connected to, not a proxy's. */
    SET(CURLOPT_PROXY, "");
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_OPENSOCKETFUNCTION, open_socket);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_PREREQFUNCTION, on_prereq);
    return rc;
}

/* This attempt's options: its request, timeouts, proxy and credentials. */
static CURLcode set_request_options(http_transfer *t)
{
    CURL *e = t->easy;
    CURLcode rc = CURLE_OK;
    SET(CURLOPT_URL, t->req.url);
    SET(CURLOPT_TIMEOUT_MS, (long)t->opt.timeout_ms);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)t->opt.timeout_ms);
    SET(CURLOPT_OPENSOCKETDATA, t);
    SET(CURLOPT_PREREQDATA, t);
    SET(CURLOPT_HEADERDATA, t);
    SET(CURLOPT_WRITEDATA, t);
    SET(CURLOPT_ERRORBUFFER, t->errbuf);
    SET(CURLOPT_HTTPHEADER, t->slist);
    SET(CURLOPT_PRIVATE, t);
    SET(CURLOPT_POSTFIELDS, t->req.body.data ? t->req.body.data : "");
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->req.body.len);
    if (strcmp(t->req.method, "POST") != 0)
        SET(CURLOPT_CUSTOMREQUEST, t->req.method);
    if (has_proxy(&t->opt)) {
        /* Sticky: the handle is reset before it is used without one. */
        SET(CURLOPT_PROXY, t->opt.proxy);
        SET(CURLOPT_NOPROXY, "");
    }
    if (t->req.aws_sigv4) {
        /* SigV4: curl signs with key id and secret from USERPWD (setting
         * AWS_SIGV4 also selects it as the auth method, so no HTTPAUTH). */
        SET(CURLOPT_AWS_SIGV4, t->req.aws_sigv4);
        if (t->req.userpwd)
            SET(CURLOPT_USERPWD, t->req.userpwd);
        /* What curl signs and sends, for the attempt record (see DESIGN). */
        SET(CURLOPT_DEBUGFUNCTION, on_debug);
        SET(CURLOPT_DEBUGDATA, t);
        SET(CURLOPT_VERBOSE, 1L);
    } else if (t->req.userpwd) {
        SET(CURLOPT_USERPWD, t->req.userpwd);
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    }
    return rc;
}

#undef SET

hd_status http_transfer_new(http_request *req, const http_options *opt, CURL *reuse,
                            http_transfer **out, hd_error *err)
{
    http_transfer *t = hd_xcalloc(1, sizeof *t);
    t->req = *req;
    memset(req, 0, sizeof *req);
    t->opt = *opt;
    if (t->opt.timeout_ms <= 0)
        t->opt.timeout_ms = 10000;
    if (has_proxy(&t->opt) && !t->opt.allow_private)
        t->target_refused = url_host_private(t->req.url ? t->req.url : "", t->refused,
                                             sizeof t->refused);
    t->easy = reuse ? reuse : curl_easy_init();
    if (!t->easy) {
        http_transfer_free(t);
        return hd_error_set(err, HD_NET, "curl: cannot create an easy handle");
    }
    header_list(t);
    void *was = NULL;
    if (reuse)
        curl_easy_getinfo(t->easy, CURLINFO_PRIVATE, (char **)&was);
    CURLcode rc = was != &configured ? set_constant_options(t->easy) : CURLE_OK;
    if (rc == CURLE_OK)
        rc = set_request_options(t);
    if (rc != CURLE_OK) {
        hd_error_set(err, HD_NET, "curl: cannot configure the request: %s", curl_easy_strerror(rc));
        http_transfer_free(t);
        return HD_NET;
    }
    *out = t;
    return HD_OK;
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

    if (t->target_refused) {
        out->error = hd_xasprintf("refused to send to %s through the proxy: a private address "
                                  "(network.allow_private is false)", t->refused);
        out->response_code = 0;
    } else if (t->refused[0]) {
        out->error = hd_xasprintf("refused to connect to private address %s "
                                  "(network.allow_private is false)", t->refused);
        out->response_code = 0;
    } else if (t->resend_refused) {
        out->error = hd_xstrdup("the connection closed after the request was sent, before an "
                                "answer (not sent again on a new connection: the retry is a "
                                "recorded attempt)");
        out->response_code = 0;
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        out->error = hd_xasprintf("timed out after %" PRId64 " ms", t->opt.timeout_ms);
    } else if (rc != CURLE_OK) {
        out->error = one_line(t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
    } else if (!retry_is_success((int)code)) {
        if (code >= 300 && code < 400)
            out->error = hd_xasprintf("HTTP %ld (redirects are not followed)", code);
        else
            out->error = hd_xasprintf("HTTP %ld", code);
    }
    if (out->error && rc != CURLE_OK && !t->target_refused && has_proxy(&t->opt)) {
        /* A transport error: it may be the proxy's; say which one was used. */
        char shown[300];
        proxy_shown(t->opt.proxy, shown, sizeof shown);
        char *e = hd_xasprintf("%s (through proxy %s)", out->error, shown);
        free(out->error);
        out->error = e;
    }
    out->response_headers = hd_buf_steal(&t->resp_headers);
    out->response_body_len = t->resp_body.len;
    out->response_body = hd_buf_steal(&t->resp_body);
    out->body_truncated = t->body_dropped > 0;
    out->sent_headers = sent_headers_masked(t);
}

void http_transfer_free(http_transfer *t)
{
    if (!t)
        return;
    if (t->easy)
        curl_easy_cleanup(t->easy);
    free(t->slist);   /* one block; its lines are t->req's (header_list) */
    request_free(&t->req);
    hd_buf_free(&t->resp_headers);
    hd_buf_free(&t->resp_body);
    hd_buf_free(&t->sent);
    free(t);
}

/* The transfer set an option the next one must not inherit. */
static bool sticky_options(const http_transfer *t)
{
    return t->req.aws_sigv4 || t->req.userpwd || strcmp(t->req.method, "POST") != 0 ||
           has_proxy(&t->opt);
}

CURL *http_transfer_recycle(http_transfer *t)
{
    CURL *easy = t->easy;
    if (sticky_options(t)) {
        curl_easy_reset(easy);
    } else {
        /* Keeps the constant options; the pointers into t are set again
         * by the next http_transfer_new before the handle is used. */
        curl_easy_setopt(easy, CURLOPT_PRIVATE, &configured);
    }
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
    free(r->sent_headers);
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
