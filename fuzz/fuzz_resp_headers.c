/* fuzz_resp_headers.c - a receiver's response headers: src/http.c's
 * header callback (on_header, static: called through the pointer that
 * http_transfer_new hands to curl_easy_setopt, see common.c), then what is
 * read from the stored text: Retry-After (retry_after_from_response,
 * retry_after_parse) and the terminal-safe form (sanitize_append).
 *
 * Input: byte 0 picks the status (bits 0-1: 429, 503, 200 or another) and
 * the sanitizer flags (bits 2-3), byte 1 how many times the header lines
 * are sent (once; 0xF0..0xFF: 16..61 times, past the 64 KiB kept),
 * then header lines, each handed to the callback as curl does (one line
 * with its CR/LF per call).  The body callback gets the same bytes.
 * Rules: no crash, leak or UB; the callbacks take every byte; the stored
 * headers stay within HTTP_MAX_HEADERS (plus the one marker line) and are
 * "Name: value\n" lines without empty ones; the kept body is within
 * max_response_body; Retry-After is -1 unless 429/503, else >= -1; the
 * sanitised text holds no control character but \n and \t.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hd_retry.h"
#include "hd_sanitize.h"
#include "hd_util.h"
#include "http.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = { data, size };
    uint8_t sel = fz_byte(&in);
    int code = sel % 4 == 0 ? 429 : sel % 4 == 1 ? 503 : sel % 4 == 2 ? 200 : 100 + sel;
    unsigned flags = (sel >> 2) & 3u;
    /* Mostly once; 0xF0..0xFF sends the lines 16..61 times (past 64 KiB). */
    uint8_t rep = fz_byte(&in);
    int repeat = rep >= 0xf0 ? 16 + 3 * (rep & 15) : 1;

    http_request req;
    memset(&req, 0, sizeof req);
    strcpy(req.method, "POST");
    req.url = hd_xstrdup("http://127.0.0.1:9/hook");
    http_options opt = { .timeout_ms = 1000, .max_response_body = 1000, .allow_private = false };
    http_transfer *t = NULL;
    fz_curl_reset();
    FZ_CHECK(http_transfer_new(&req, &opt, NULL, &t, NULL) == HD_OK, "http_transfer_new failed");
    FZ_CHECK(fz_header_cb && fz_body_cb, "header/body callbacks not captured");

    /* Header lines, one per call, as curl hands them over. */
    char *copy = NULL;
    for (int r = 0; r < repeat; r++) {
        const uint8_t *p = in.p, *end = in.p + in.n;
        while (p < end) {
            const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
            size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
            copy = fz_dup(p, len);   /* exact size: reads past it are caught */
            /* curl refuses a header with a NUL byte before any callback. */
            for (size_t i = 0; i < len; i++)
                if (copy[i] == '\0')
                    copy[i] = ' ';
            FZ_CHECK(fz_header_cb(copy, 1, len, t) == len, "header callback refused bytes");
            FZ_CHECK(fz_body_cb(copy, 1, len, t) == len, "body callback refused bytes");
            free(copy);
            p += len;
        }
    }
    http_result res;
    http_transfer_finish(t, CURLE_OK, &res);
    http_transfer_free(t);

    const char *hdrs = res.response_headers ? res.response_headers : "";
    size_t hlen = strlen(hdrs);
    FZ_CHECK(hlen <= HTTP_MAX_HEADERS + strlen("[more headers not kept]\n"),
             "%zu header bytes kept", hlen);
    FZ_CHECK(hlen == 0 || hdrs[hlen - 1] == '\n', "stored headers do not end with a newline");
    FZ_CHECK(hdrs[0] != '\n' && !strstr(hdrs, "\n\n"), "an empty header line was stored");
    FZ_CHECK(res.response_body_len <= opt.max_response_body, "body over max_response_body");

    int64_t wait = retry_after_from_response(code, hdrs, FZ_NOW_MS);
    if (code != 429 && code != 503)
        FZ_CHECK(wait == -1, "Retry-After %lld on HTTP %d", (long long)wait, code);
    else
        FZ_CHECK(wait >= -1, "Retry-After %lld", (long long)wait);
    /* Each stored line's value, as a bare Retry-After value. */
    char *lines = hd_xstrdup(hdrs);
    for (char *save = NULL, *l = strtok_r(lines, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(l, ':');
        FZ_CHECK(retry_after_parse(colon ? colon + 1 : l, FZ_NOW_MS) >= -1, "retry_after_parse");
    }
    free(lines);

    hd_buf b = { 0 };
    sanitize_append(&b, hdrs, hlen, flags);
    fz_check_sanitized(hd_buf_str(&b), b.len, flags);
    hd_buf_free(&b);
    http_result_free(&res);
    return 0;
}
