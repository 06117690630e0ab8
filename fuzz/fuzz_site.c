/* fuzz_site.c - site validation (site_validate, and the kinds' checks of
 * auth_kinds behind it) with every field from the input, then what
 * a valid site is used for: the request of an attempt (request_build), the
 * oauth2 token request, the S3 object key, masking (auth_extra_masked,
 * site_header_shown).
 *
 * Input: 4 bytes (auth kind, content type, timeout, max_in_flight), then
 * NUL-separated fields: name, url, auth_user, auth_secret, auth_header,
 * auth_extra (JSON), message action, customer, path, payload, then extra
 * header name/value pairs to the end.  An empty optional field is NULL.
 * Rules: no crash, leak or UB; a copy validates the same; for a valid
 * site that builds a request: no header holds CR or LF (no header
 * injection), every Authorization header, the header of auth kind
 * "header", the session token and every extra header whose name looks
 * secret show ******** in the masked list.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "common.h"
#include "hd_auth.h"
#include "hd_request.h"
#include "hd_site.h"
#include "hd_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* An RS256 key for jwt sites with key_env HD_FUZZ_JWT_KEY (small: speed). */
    EVP_PKEY *key = EVP_RSA_gen(1024);
    BIO *bio = BIO_new(BIO_s_mem());
    if (!key || !bio || !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))
        abort();
    char *pem = NULL;
    long n = BIO_get_mem_data(bio, &pem);
    char *text = fz_dup(pem, (size_t)n);
    setenv("HD_FUZZ_JWT_KEY", text, 1);
    free(text);
    BIO_free(bio);
    EVP_PKEY_free(key);
    return 0;
}

static char *opt_str(fz_input *in)
{
    char *s = fz_str(in);
    if (*s)
        return s;
    free(s);
    return NULL;
}

static const char *header_name_of(const char *line, size_t *len)
{
    const char *colon = strstr(line, ": ");
    *len = colon ? (size_t)(colon - line) : strlen(line);
    return line;
}

static bool name_is(const char *line, const char *name)
{
    size_t len;
    header_name_of(line, &len);
    return name && strlen(name) == len && strncasecmp(line, name, len) == 0;
}

static void check_request(const site *s, const http_request *r)
{
    for (int i = 0; i < r->nheaders; i++) {
        FZ_CHECK(!strpbrk(r->headers[i], "\r\n"), "header with CR/LF sent: %s", r->headers[i]);
        FZ_CHECK(!strpbrk(r->headers_masked[i], "\r\n"), "masked header with CR/LF");
        const char *m = r->headers_masked[i];
        bool must_mask = name_is(m, "Authorization") || name_is(m, "x-amz-security-token") ||
                         (s->auth == AUTH_HEADER && name_is(m, s->auth_header));
        if (must_mask)
            FZ_CHECK(strstr(m, "********"), "secret header shown: %s", m);
    }
    for (int k = 0; k < s->nheaders; k++) {
        const site_header *h = &s->headers[k];
        if (!site_header_is_secret(h->name) || !h->value || !*h->value)
            continue;
        for (int i = 0; i < r->nheaders; i++)
            if (name_is(r->headers_masked[i], h->name))
                FZ_CHECK(strstr(r->headers_masked[i], "********"),
                         "secret extra header shown: %s", r->headers_masked[i]);
    }
    FZ_CHECK(strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0, "method %s",
             r->method);
    char *text = request_headers_text(r);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = { data, size };
    static const int64_t timeouts[] = { 0, 1, 999, 5000, 600000, 600001, -1, INT64_MAX };
    site s;
    site_init(&s);
    s.auth = (auth_kind)(fz_byte(&in) % (AUTH_KIND_COUNT + 1));
    s.ctype = (content_type)(fz_byte(&in) % 3);
    s.timeout_ms = timeouts[fz_byte(&in) % 8];
    s.max_in_flight = (int)(int8_t)fz_byte(&in) * 3;
    s.name = fz_str(&in);
    s.url = fz_str(&in);
    s.auth_user = opt_str(&in);
    s.auth_secret = opt_str(&in);
    s.auth_header = opt_str(&in);
    s.auth_extra = opt_str(&in);
    message m;
    memset(&m, 0, sizeof m);
    m.id = 42;
    strcpy(m.webhook_id, "msg_2f6rpj0y3y8bq0m2kc1g7n4x5a");
    m.created_at = FZ_NOW_MS;
    m.action = fz_str(&in);
    m.customer = opt_str(&in);
    m.path = opt_str(&in);
    m.payload = fz_str(&in);
    for (int k = 0; k < 16 && in.n > 0; k++) {
        char *name = fz_str(&in);
        char *value = fz_str(&in);
        site_add_header(&s, name, value);
        free(name);
        free(value);
    }

    hd_error err;
    hd_error_clear(&err);
    hd_status rc = site_validate(&s, &err);
    FZ_CHECK(rc == HD_OK || err.msg[0], "refused without a message");
    site copy;
    site_init(&copy);
    site_copy(&copy, &s);
    FZ_CHECK(site_validate(&copy, NULL) == rc, "a copy validates differently");
    site_free(&copy);

    (void)auth_kind_name(s.auth);
    (void)content_type_name(s.ctype);
    (void)site_max_in_flight(&s, 8);
    for (int k = 0; k < s.nheaders; k++)
        (void)site_header_shown(&s.headers[k]);
    char *masked = auth_extra_masked(s.auth_extra);
    free(masked);
    for (int k = 0; k < auth_nfields; k++) {
        char *v = auth_extra_get(s.auth_extra, auth_fields[k].name);
        free(v);
    }
    (void)auth_extra_get_ms(s.auth_extra, "lifetime", 1000);

    if (rc == HD_OK) {
        request_context ctx = { .now_ms = FZ_NOW_MS, .user_agent = "hookdesk/fuzz",
                                .oauth2_token = "tok-123" };
        http_request r;
        memset(&r, 0, sizeof r);
        if (request_build(&s, &m, &ctx, &r, &err) == HD_OK)
            check_request(&s, &r);
        request_free(&r);
        if (s.auth == AUTH_OAUTH2) {
            http_request tr;
            memset(&tr, 0, sizeof tr);
            if (auth_oauth2_token_request(&s, "hookdesk/fuzz", &tr, &err) == HD_OK)
                check_request(&s, &tr);
            request_free(&tr);
            free(auth_oauth2_cache_key(&s));
        }
        if (s.auth == AUTH_AWS_S3) {
            char *fmt = auth_extra_get(s.auth_extra, "object_format");
            free(auth_s3_object_key(fmt, &m));
            free(fmt);
        }
    }

    free(m.action);
    free(m.customer);
    free(m.path);
    free(m.payload);
    site_free(&s);
    return 0;
}
