/* hd_request.h - what is sent for one attempt: URL, headers and body built
 * from a site and a message, with the site's authentication applied.
 *
 * Independent of libcurl so that it can be unit-tested and shown (masked) in
 * the console; src/http.c turns it into a transfer.
 */
#ifndef HD_REQUEST_H
#define HD_REQUEST_H

#include <stdint.h>

#include "hd_error.h"
#include "hd_message.h"
#include "hd_site.h"
#include "hd_util.h"

typedef struct http_request {
    char method[8];          /* "POST" (or "PUT" for aws-s3) */
    char *url;               /* site URL + message path */
    char **headers;          /* "Name: value", as sent */
    char **headers_masked;   /* the same with secrets replaced by ******** */
    int nheaders;
    hd_buf body;
    char *userpwd;           /* basic auth "user:password" handed to curl, or NULL */
    char *aws_sigv4;         /* CURLOPT_AWS_SIGV4 provider string, or NULL */
} http_request;

typedef struct request_context {
    int64_t now_ms;          /* signing time (webhook-timestamp, iat) */
    const char *user_agent;
    const char *oauth2_token;  /* oauth2: the access token the caller fetched (NULL = none) */
} request_context;

/* Builds the request; fails (HD_INVALID) for a payload the content type
 * cannot carry or an auth kind not implemented yet. */
hd_status request_build(const site *s, const message *m, const request_context *ctx,
                        http_request *out, hd_error *err);
void request_free(http_request *r);
/* The masked headers as "Name: value\n" lines (stored with each attempt). */
char *request_headers_text(const http_request *r);

#endif
