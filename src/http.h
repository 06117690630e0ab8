/* http.h - internal: one attempt's http_request as a configured curl easy
 * handle, and its result.  Shared by the engine (multi interface) and the
 * site test (curl_easy_perform).  Not a public header: src/ only. */
#ifndef HD_HTTP_H
#define HD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "hd_error.h"
#include "hd_request.h"
#include "hd_util.h"

typedef struct http_options {
    int64_t timeout_ms;          /* whole attempt (site timeout or delivery default) */
    uint64_t max_response_body;  /* bytes of body kept; the rest is counted */
    bool allow_private;          /* network.allow_private */
    const char *proxy;           /* network.proxy URL, NULL or "" = none; must outlive
                                    the transfer.  Proxies from the environment
                                    (http_proxy, ALL_PROXY, no_proxy...) are never used */
} http_options;

/* Response header bytes kept per attempt. */
#define HTTP_MAX_HEADERS (64 * 1024)

typedef struct http_transfer {
    CURL *easy;                  /* configured handle; CURLOPT_PRIVATE points back here */
    struct curl_slist *slist;    /* request headers as curl wants them: one block of
                                    nodes pointing into req.headers (header_list) */
    http_request req;            /* owned: url and body must outlive the transfer */
    http_options opt;
    char errbuf[CURL_ERROR_SIZE];/* curl's detailed error text */
    char refused[64];            /* private address refused by the socket callback, "" if none */
    bool target_refused;         /* with a proxy: the URL's host is a private literal
                                    or localhost (named in `refused`); nothing is sent */
    hd_buf resp_headers;         /* "Name: value\n" lines of the final response */
    hd_buf resp_body;            /* first max_response_body bytes */
    uint64_t body_dropped;       /* bytes beyond max_response_body */
    bool headers_cut;            /* response headers went past HTTP_MAX_HEADERS */
    hd_buf sent;                 /* SigV4 only: the last request header block curl sent, raw */
    bool sent_complete;          /* `sent` ends with its blank line; a new block replaces it */
    bool sent_cut;               /* the block went past HTTP_MAX_HEADERS: not used */
    int requests_sent;           /* times curl was about to send the request */
    bool resend_refused;         /* curl wanted to send it again: refused */
    int64_t started_at;          /* epoch ms */
    int64_t started_mono;        /* monotonic ms, for the duration */
    void *user;                  /* caller's data (the engine's slot) */
} http_transfer;

typedef struct http_result {
    int response_code;           /* 0 = no response */
    char *error;                 /* NULL on a 2xx, else one line */
    char *response_headers;      /* malloc'd "Name: value\n" lines */
    char *response_body;         /* malloc'd, NUL-terminated (may hold NULs) */
    size_t response_body_len;
    bool body_truncated;
    int64_t started_at;          /* epoch ms */
    int64_t duration_ms;
    char *sent_headers;          /* SigV4 only, else NULL: the request headers curl
                                  * actually sent (it adds Authorization, x-amz-date),
                                  * masked like request_headers_text, "Name: value\n"
                                  * lines without the request line; NULL when nothing
                                  * was sent (e.g. connection refused) */
} http_result;

/* Takes over req (it is emptied) and makes a ready easy handle.  `reuse`
 * is NULL or a handle from http_transfer_recycle (taken over even on error):
 * configuring a used handle instead of a new one spares curl's per-handle
 * allocations (init and cleanup) on every attempt. */
hd_status http_transfer_new(http_request *req, const http_options *opt, CURL *reuse,
                            http_transfer **out, hd_error *err);
/* Marks the start (call right before adding to a multi or performing). */
void http_transfer_started(http_transfer *t);
/* Turns curl's result into an http_result (buffers move into it). */
void http_transfer_finish(http_transfer *t, CURLcode rc, http_result *out);
void http_transfer_free(http_transfer *t);
/* Frees t but keeps its easy handle, reset to curl's defaults (no options,
 * no callbacks into t), for the next http_transfer_new.  The handle must
 * no longer be in a multi handle. */
CURL *http_transfer_recycle(http_transfer *t);
void http_result_free(http_result *r);

/* Blocking: configure, perform, finish. */
hd_status http_perform(http_request *req, const http_options *opt, http_result *out,
                       hd_error *err);

#endif
