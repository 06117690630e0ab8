/* fuzz_sigv4_mask.c - masking of the request headers libcurl writes for
 * SigV4 (aws, aws-s3): src/http.c's debug callback (on_debug, static:
 * called through the pointer http_transfer_new hands to curl_easy_setopt,
 * see common.c) keeps the header block, http_transfer_finish masks it into
 * http_result.sent_headers (sent_headers_masked, put_masked_line,
 * put_masked_authorization).
 *
 * Input: byte 0: bit 0 picks aws-s3 over aws; when bits 4-7 are all set the
 * chunks are sent 16..37 times (bits 1-3; past the 64 KiB kept), else once;
 * then chunks separated by
 * 0xFF bytes, each handed to the callback as one CURLINFO_HEADER_OUT block
 * (and as CURLINFO_TEXT, which must be ignored).  The request is a real
 * one from request_build for an aws site with a session token.
 * Rules: no crash, leak or UB; the secret access key never appears in the
 * masked text; every Authorization line and every line whose name looks
 * secret (site_header_is_secret) with a value shows ******** instead.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "hd_request.h"
#include "hd_site.h"
#include "hd_util.h"
#include "http.h"

#define SECRET_KEY "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return 0;
}

static void build(bool s3, http_request *req)
{
    site s;
    site_init(&s);
    s.name = hd_xstrdup("aws");
    s.url = hd_xstrdup(s3 ? "https://s3.eu-west-1.amazonaws.com" : "https://api.example.com/hook");
    s.auth = s3 ? AUTH_AWS_S3 : AUTH_AWS;
    s.auth_user = hd_xstrdup("AKIDEXAMPLE");
    s.auth_secret = hd_xstrdup(SECRET_KEY);
    s.auth_extra = hd_xstrdup(s3 ? "{\"region\":\"eu-west-1\",\"bucket\":\"hooks\","
                                   "\"session_token\":\"FQoGZXIvYXdzEXAMPLETOKEN\"}"
                                 : "{\"region\":\"eu-west-1\",\"service\":\"execute-api\","
                                   "\"session_token\":\"FQoGZXIvYXdzEXAMPLETOKEN\"}");
    site_add_header(&s, "X-Source", "hookdesk");
    site_add_header(&s, "X-Api-Key", "k-123456");
    message m;
    memset(&m, 0, sizeof m);
    m.id = 7;
    strcpy(m.webhook_id, "msg_2f6rpj0y3y8bq0m2kc1g7n4x5a");
    m.action = hd_xstrdup("invoice.paid");
    m.payload = hd_xstrdup("{\"total\":12.5}");
    m.created_at = FZ_NOW_MS;
    request_context ctx = { .now_ms = FZ_NOW_MS, .user_agent = "hookdesk/fuzz" };
    hd_error err;
    hd_error_clear(&err);
    FZ_CHECK(request_build(&s, &m, &ctx, req, &err) == HD_OK, "request_build: %s", err.msg);
    FZ_CHECK(req->aws_sigv4 != NULL, "no SigV4 for an aws site");
    free(m.action);
    free(m.payload);
    site_free(&s);
}

static void check_masked(const char *text)
{
    FZ_CHECK(!strstr(text, SECRET_KEY), "the secret access key is in the masked headers");
    char *copy = hd_xstrdup(text);
    for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *colon = strstr(l, ": ");
        if (!colon) {
            FZ_CHECK(strcmp(l, "********") == 0, "a non-header line shown: %s", l);
            continue;
        }
        *colon = '\0';
        const char *value = colon + 2;
        if (strcasecmp(l, "Authorization") == 0 || (site_header_is_secret(l) && *value))
            FZ_CHECK(strstr(value, "********"), "header %s shown unmasked: %s", l, value);
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = { data, size };
    uint8_t mode = fz_byte(&in);
    /* Mostly once; bits 4-7 all set: 16..37 times (past the 64 KiB kept). */
    int repeat = (mode & 0xf0) == 0xf0 ? 16 + 3 * ((mode >> 1) & 7) : 1;

    http_request req;
    memset(&req, 0, sizeof req);
    build(mode & 1, &req);
    http_options opt = { .timeout_ms = 1000, .max_response_body = 1000, .allow_private = false };
    http_transfer *t = NULL;
    fz_curl_reset();
    FZ_CHECK(http_transfer_new(&req, &opt, NULL, &t, NULL) == HD_OK, "http_transfer_new failed");
    FZ_CHECK(fz_debug_cb != NULL, "debug callback not captured for SigV4");

    for (int r = 0; r < repeat; r++) {
        const uint8_t *p = in.p, *end = in.p + in.n;
        while (p < end) {
            const uint8_t *sep = memchr(p, 0xff, (size_t)(end - p));
            size_t len = sep ? (size_t)(sep - p) : (size_t)(end - p);
            char *chunk = fz_dup(p, len);
            FZ_CHECK(fz_debug_cb(t->easy, CURLINFO_TEXT, chunk, len, t) == 0, "debug callback");
            FZ_CHECK(fz_debug_cb(t->easy, CURLINFO_HEADER_OUT, chunk, len, t) == 0,
                     "debug callback");
            free(chunk);
            p += len + (sep ? 1 : 0);
        }
    }
    http_result res;
    http_transfer_finish(t, CURLE_OK, &res);
    http_transfer_free(t);
    if (res.sent_headers)
        check_masked(res.sent_headers);
    http_result_free(&res);
    return 0;
}
