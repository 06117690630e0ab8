/* fuzz_oauth2.c - the OAuth2 token endpoint's answer (auth_oauth2_parse).
 *
 * Input: byte 0 picks the HTTP status (200, 201, 204, 299, 400, 401, 403,
 * 429, 500, 503, 0 = no response, or 100 + the next byte * 2), then the
 * response body (any bytes, with its length; for status 0 the body text
 * up to a NUL is the transport error, made one line as http.c does).
 * Rules: no crash, leak or UB (an expires_in that overflows int64 ms is UB
 * in the multiplication); success only for 2xx, with a non-empty token
 * without CR/LF and expires_in_ms > 0, and no error text; failure with an
 * error text and no token; the refresh margin is in [0, expires_in).
 * With HD_FUZZ_STRICT=1: the error text is one line (no CR/LF) of valid
 * UTF-8 (it is stored as the attempt's error and shown).
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hd_auth.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

static int pick_status(fz_input *in)
{
    static const int codes[] = { 200, 201, 204, 299, 400, 401, 403, 429, 500, 503, 0 };
    uint8_t b = fz_byte(in);
    if (b < sizeof codes / sizeof codes[0])
        return codes[b];
    if (b < 128)
        return 200;
    return 100 + 2 * (int)fz_byte(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = { data, size };
    int code = pick_status(&in);
    char *transport = NULL;
    if (code == 0) {
        fz_input copy = in;
        transport = fz_str(&copy);
        /* As http.c hands it over: one line (one_line). */
        for (char *c = transport; *c; c++)
            if (*c == '\r' || *c == '\n')
                *c = ' ';
    }
    size_t body_len = in.n;
    /* An exact-size copy: ASan sees a read past the body. */
    char *body = malloc(body_len ? body_len : 1);
    if (!body)
        abort();
    if (body_len)
        memcpy(body, in.p, body_len);

    char *token = NULL, *error = NULL;
    int64_t expires_ms = -1;
    bool ok = auth_oauth2_parse("https://auth.example.com/token", code, transport, body, body_len,
                                &token, &expires_ms, &error);
    if (ok) {
        FZ_CHECK(code >= 200 && code <= 299, "success on HTTP %d", code);
        FZ_CHECK(token && *token && !strpbrk(token, "\r\n"), "bad token on success");
        FZ_CHECK(expires_ms > 0, "expires_in_ms %lld <= 0", (long long)expires_ms);
        FZ_CHECK(error == NULL, "error text on success");
        int64_t margin = auth_oauth2_refresh_margin_ms(expires_ms);
        FZ_CHECK(margin >= 0 && margin < expires_ms, "refresh margin %lld for %lld",
                 (long long)margin, (long long)expires_ms);
    } else {
        FZ_CHECK(token == NULL, "token on failure");
        FZ_CHECK(error && *error, "failure without an error text");
        /* (The transport error is curl's text, not the endpoint's: not checked.) */
        if (code != 0) {
            FZ_CHECK(!strpbrk(error, "\r\n"), "error text is not one line: %s", error);
            FZ_CHECK(fz_utf8_valid(error, strlen(error)), "error text is not UTF-8: %s", error);
        }
    }
    free(token);
    free(error);
    free(body);
    free(transport);
    return 0;
}
