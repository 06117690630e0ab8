/* test_auth_sign.c - jwt, aws and aws-s3 requests checked with independent
 * code (tests/testutil.c, OpenSSL from the published algorithms), the
 * SigV4 checker itself checked against published AWS examples, the
 * validation of bad settings, encrypted RS256 keys (refused, never a
 * passphrase prompt) and the clamping of OAuth2 expires_in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <time.h>

#include "hd_auth.h"
#include "hd_request.h"
#include "hd_site.h"
#include "hd_util.h"
#include "testutil.h"

/* The checker first: AWS's own examples, so a wrong checker cannot pass
 * wrong signatures later. */
static void test_sigv4_published_vectors(void **state)
{
    (void)state;
    char sig[65];
    /* AWS SigV4 test suite, "get-vanilla". */
    tu_sigv4("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830T123600Z", "us-east-1",
             "service", "GET", "/", "",
             "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n", "host;x-amz-date",
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", sig);
    assert_string_equal(sig, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    /* Amazon S3 API reference, "Example: GET Object" (header-based auth). */
    tu_sigv4("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524T000000Z", "us-east-1", "s3",
             "GET", "/test.txt", "",
             "host:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
             "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
             "x-amz-date:20130524T000000Z\n",
             "host;range;x-amz-content-sha256;x-amz-date",
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", sig);
    assert_string_equal(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    char h[65];
    auth_sha256_hex("", 0, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static message make_msg(void)
{
    message m;
    memset(&m, 0, sizeof m);
    m.id = 42;
    snprintf(m.webhook_id, sizeof m.webhook_id, "msg_test");
    m.action = (char *)"order.created";
    m.customer = (char *)"ACME Corp/../x";
    m.payload = (char *)"{\"n\":1}";
    m.created_at = 1700000000000;   /* 2023-11-14T22:13:20Z */
    return m;
}

static const char *find_header(const http_request *r, const char *name, bool masked)
{
    size_t n = strlen(name);
    for (int i = 0; i < r->nheaders; i++) {
        const char *h = masked ? r->headers_masked[i] : r->headers[i];
        if (strncasecmp(h, name, n) == 0 && h[n] == ':')
            return h + n + 2;
    }
    return NULL;
}

static void test_jwt_hs256(void **state)
{
    (void)state;
    site s;
    site_init(&s);
    s.name = hd_xstrdup("j");
    s.url = hd_xstrdup("https://example.com/hook");
    s.auth = AUTH_JWT;
    s.auth_secret = hd_xstrdup("s3cr3t");
    auth_extra_set_claim(&s.auth_extra, "iss", "hookdesk");
    auth_extra_set_claim(&s.auth_extra, "aud", "billing");
    auth_extra_set_ms(&s.auth_extra, "lifetime", 120000);
    hd_error err = {0};
    assert_int_equal(site_validate(&s, &err), HD_OK);
    message m = make_msg();
    request_context ctx = { .now_ms = 1700000000123, .user_agent = NULL };
    http_request r;
    assert_int_equal(request_build(&s, &m, &ctx, &r, &err), HD_OK);
    const char *authz = find_header(&r, "Authorization", false);
    assert_non_null(authz);
    assert_int_equal(strncmp(authz, "Bearer ", 7), 0);
    assert_string_equal(find_header(&r, "Authorization", true), "Bearer ********");
    void *claims = NULL;
    char why[256];
    if (!tu_jwt_verify(authz + 7, "s3cr3t", NULL, &claims, why, sizeof why))
        fail_msg("%s", why);
    json_t *c = claims;
    assert_string_equal(json_string_value(json_object_get(c, "iss")), "hookdesk");
    assert_string_equal(json_string_value(json_object_get(c, "aud")), "billing");
    assert_int_equal(json_integer_value(json_object_get(c, "iat")), 1700000000);
    assert_int_equal(json_integer_value(json_object_get(c, "exp")), 1700000120);
    json_decref(c);
    /* A wrong secret does not verify (the checker is not a rubber stamp). */
    assert_false(tu_jwt_verify(authz + 7, "other", NULL, NULL, why, sizeof why));
    request_free(&r);
    site_free(&s);
}

static void test_jwt_rs256_file_and_env(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    char *path = hd_xasprintf("%s/key.pem", dir);
    char *pub = tu_rsa_keygen(path);
    assert_non_null(pub);
    site s;
    site_init(&s);
    s.name = hd_xstrdup("j");
    s.url = hd_xstrdup("https://example.com/hook");
    s.auth = AUTH_JWT;
    auth_extra_set(&s.auth_extra, "alg", "RS256");
    auth_extra_set(&s.auth_extra, "key_file", path);
    auth_extra_set_claim(&s.auth_extra, "sub", "hookdesk");
    hd_error err = {0};
    if (site_validate(&s, &err) != HD_OK)
        fail_msg("%s", err.msg);
    message m = make_msg();
    request_context ctx = { .now_ms = hd_now_ms() };
    for (int pass = 0; pass < 2; pass++) {
        http_request r;
        assert_int_equal(request_build(&s, &m, &ctx, &r, &err), HD_OK);
        const char *authz = find_header(&r, "Authorization", false);
        void *claims = NULL;
        char why[256];
        if (!tu_jwt_verify(authz + 7, NULL, pub, &claims, why, sizeof why))
            fail_msg("pass %d: %s", pass, why);
        json_t *c = claims;
        assert_string_equal(json_string_value(json_object_get(c, "sub")), "hookdesk");
        assert_int_equal(json_integer_value(json_object_get(c, "exp")) -
                             json_integer_value(json_object_get(c, "iat")),
                         300);   /* default lifetime 5m */
        json_decref(c);
        request_free(&r);
        /* Second pass: the same key from an environment variable. */
        hd_buf pem = {0};
        assert_int_equal(hd_read_file(path, &pem, NULL), 0);
        setenv("HD_TEST_JWT_KEY", hd_buf_str(&pem), 1);
        hd_buf_free(&pem);
        auth_extra_set(&s.auth_extra, "key_file", NULL);
        auth_extra_set(&s.auth_extra, "key_env", "HD_TEST_JWT_KEY");
        assert_int_equal(site_validate(&s, &err), HD_OK);
    }
    site_free(&s);
    free(pub);
    free(path);
    tu_rmdir(dir);
    free(dir);
}

static void test_aws_request(void **state)
{
    (void)state;
    site s;
    site_init(&s);
    s.name = hd_xstrdup("a");
    s.url = hd_xstrdup("https://api.example.com/hooks");
    s.auth = AUTH_AWS;
    s.auth_user = hd_xstrdup("AKIDEXAMPLE");
    s.auth_secret = hd_xstrdup("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    auth_extra_set(&s.auth_extra, "region", "eu-west-1");
    auth_extra_set(&s.auth_extra, "service", "execute-api");
    auth_extra_set(&s.auth_extra, "session_token", "SESSIONTOKEN");
    hd_error err = {0};
    assert_int_equal(site_validate(&s, &err), HD_OK);
    message m = make_msg();
    request_context ctx = { .now_ms = hd_now_ms() };
    http_request r;
    assert_int_equal(request_build(&s, &m, &ctx, &r, &err), HD_OK);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.aws_sigv4, "aws:amz:eu-west-1:execute-api");
    assert_string_equal(r.userpwd, "AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    assert_string_equal(find_header(&r, "x-amz-security-token", false), "SESSIONTOKEN");
    char *shown = request_headers_text(&r);
    assert_null(strstr(shown, "SESSIONTOKEN"));
    assert_null(strstr(shown, "EXAMPLEKEY"));
    free(shown);
    request_free(&r);
    site_free(&s);
}

static void test_s3_request(void **state)
{
    (void)state;
    site s;
    site_init(&s);
    s.name = hd_xstrdup("s3");
    s.url = hd_xstrdup("https://s3.eu-west-1.amazonaws.com");
    s.auth = AUTH_AWS_S3;
    s.auth_user = hd_xstrdup("AKID");
    s.auth_secret = hd_xstrdup("secret");
    auth_extra_set(&s.auth_extra, "region", "eu-west-1");
    auth_extra_set(&s.auth_extra, "bucket", "hooks-archive");
    auth_extra_set(&s.auth_extra, "object_format", "in/{customer}/{date}/{action}-{id}.json");
    hd_error err = {0};
    if (site_validate(&s, &err) != HD_OK)
        fail_msg("%s", err.msg);
    message m = make_msg();
    m.path = (char *)"/ignored";
    request_context ctx = { .now_ms = hd_now_ms() };
    http_request r;
    assert_int_equal(request_build(&s, &m, &ctx, &r, &err), HD_OK);
    assert_string_equal(r.method, "PUT");
    /* The customer's "/" and ".." cannot add path segments. */
    assert_string_equal(r.url, "https://s3.eu-west-1.amazonaws.com/hooks-archive/"
                               "in/ACME_Corp_.._x/2023-11-14/order.created-42.json");
    assert_string_equal(r.aws_sigv4, "aws:amz:eu-west-1:s3");
    char h[65];
    tu_sha256_hex("{\"n\":1}", 7, h);
    assert_string_equal(find_header(&r, "x-amz-content-sha256", false), h);
    assert_string_equal(r.body.data, "{\"n\":1}");
    request_free(&r);
    /* The default format. */
    auth_extra_set(&s.auth_extra, "object_format", NULL);
    char *key = auth_s3_object_key(NULL, &m);
    assert_string_equal(key, "2023-11-14/order.created/42.json");
    free(key);
    site_free(&s);
}

typedef struct bad_case {
    const char *label;
    auth_kind kind;
    const char *user, *secret;
    const char *extra;        /* JSON */
    const char *expect;       /* message prefix */
    bool probe;               /* found by site_probe_keys (reads the key), not validation */
} bad_case;

static void test_bad_settings(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        { "jwt unknown alg", AUTH_JWT, NULL, "x", "{\"alg\":\"HS512\"}",
          "auth.alg: unknown algorithm 'HS512' (HS256, RS256)", false },
        { "jwt missing key file", AUTH_JWT, NULL, NULL,
          "{\"alg\":\"RS256\",\"key_file\":\"/nonexistent/key.pem\"}",
          "auth.key_file: cannot read /nonexistent/key.pem", true },
        { "jwt not a key", AUTH_JWT, NULL, NULL, "{\"alg\":\"RS256\",\"key_file\":\"/etc/hostname\"}",
          "auth.key_file: /etc/hostname does not hold a PEM private key", true },
        { "jwt env unset", AUTH_JWT, NULL, NULL,
          "{\"alg\":\"RS256\",\"key_env\":\"HD_TEST_NO_SUCH_VAR\"}",
          "auth.key_env: environment variable HD_TEST_NO_SUCH_VAR is not set", true },
        { "jwt no key", AUTH_JWT, NULL, NULL, "{\"alg\":\"RS256\"}", "auth.key_file: ", false },
        { "jwt exp claim", AUTH_JWT, NULL, "x", "{\"claims\":{\"exp\":\"1\"}}", "auth.claims: ", false },
        { "jwt lifetime", AUTH_JWT, NULL, "x", "{\"lifetime\":10}", "auth.lifetime: ", false },
        { "unknown key", AUTH_JWT, NULL, "x", "{\"colour\":\"red\"}",
          "auth.colour: unknown setting", false },
        { "not json", AUTH_JWT, NULL, "x", "{", "auth_extra: is not a JSON object", false },
        { "oauth2 no url", AUTH_OAUTH2, "id", "sec", NULL, "auth.token_url: is required", false },
        { "oauth2 bad url", AUTH_OAUTH2, "id", "sec", "{\"token_url\":\"ftp://x/token\"}",
          "auth.token_url: must start with http:// or https://", false },
        { "oauth2 url spaces", AUTH_OAUTH2, "id", "sec", "{\"token_url\":\"http://a b/\"}",
          "auth.token_url: contains a space", false },
        { "oauth2 no id", AUTH_OAUTH2, NULL, "sec", "{\"token_url\":\"https://a/t\"}",
          "auth.client_id: a client_id is required", false },
        { "oauth2 no secret", AUTH_OAUTH2, "id", NULL, "{\"token_url\":\"https://a/t\"}",
          "auth.client_secret: a client_secret is required", false },
        { "oauth2 client_auth", AUTH_OAUTH2, "id", "s",
          "{\"token_url\":\"https://a/t\",\"client_auth\":\"header\"}", "auth.client_auth: ", false },
        { "aws no region", AUTH_AWS, "AKID", "s", "{\"service\":\"execute-api\"}",
          "auth.region: is required", false },
        { "aws bad region", AUTH_AWS, "AKID", "s", "{\"region\":\"EU WEST\",\"service\":\"x\"}",
          "auth.region: ", false },
        { "aws no service", AUTH_AWS, "AKID", "s", "{\"region\":\"eu-west-1\"}",
          "auth.service: is required", false },
        { "aws no key id", AUTH_AWS, NULL, "s", "{\"region\":\"eu-west-1\",\"service\":\"x\"}",
          "auth.access_key: an access key id is required", false },
        { "aws no secret", AUTH_AWS, "AKID", NULL, "{\"region\":\"eu-west-1\",\"service\":\"x\"}",
          "auth.secret_key: a secret access key is required", false },
        { "s3 no bucket", AUTH_AWS_S3, "AKID", "s", "{\"region\":\"eu-west-1\"}",
          "auth.bucket: is required", false },
        { "s3 bad bucket", AUTH_AWS_S3, "AKID", "s", "{\"region\":\"eu-west-1\",\"bucket\":\"A_B\"}",
          "auth.bucket: ", false },
        { "s3 placeholder", AUTH_AWS_S3, "AKID", "s",
          "{\"region\":\"eu-west-1\",\"bucket\":\"abc\",\"object_format\":\"{nope}.json\"}",
          "auth.object_format: unknown placeholder", false },
        { "s3 leading slash", AUTH_AWS_S3, "AKID", "s",
          "{\"region\":\"eu-west-1\",\"bucket\":\"abc\",\"object_format\":\"/x\"}",
          "auth.object_format: must not start with '/'", false },
        { "s3 dotdot", AUTH_AWS_S3, "AKID", "s",
          "{\"region\":\"eu-west-1\",\"bucket\":\"abc\",\"object_format\":\"a/../b\"}",
          "auth.object_format: ", false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        site s;
        site_init(&s);
        s.name = hd_xstrdup("x");
        s.url = hd_xstrdup("https://example.com/");
        s.auth = c->kind;
        s.auth_user = hd_xstrdup(c->user);
        s.auth_secret = hd_xstrdup(c->secret);
        s.auth_extra = hd_xstrdup(c->extra);
        hd_error err;
        hd_error_clear(&err);
        hd_status rc = site_validate(&s, &err);
        /* Validation never reads a key: those faults are the probe's. */
        if (c->probe && rc != HD_OK)
            fail_msg("case '%s': validation read the key: %s", c->label, err.msg);
        if (c->probe)
            rc = site_probe_keys(&s, &err);
        if (rc != HD_INVALID)
            fail_msg("case '%s': accepted", c->label);
        if (strncmp(err.msg, c->expect, strlen(c->expect)) != 0)
            fail_msg("case '%s': '%s' does not start with '%s'", c->label, err.msg, c->expect);
        /* The field is in the error, not only in its text; a storage slot
         * (auth_user, auth_secret) is named in the text as the kind's
         * configuration names it (auth.client_id). */
        size_t flen = strcspn(c->expect, ":");
        const char *slot = strncmp(c->expect, "auth.client_id:", 15) == 0 ||
                                   strncmp(c->expect, "auth.access_key:", 16) == 0
                               ? "auth_user"
                           : strncmp(c->expect, "auth.client_secret:", 19) == 0 ||
                                   strncmp(c->expect, "auth.secret_key:", 16) == 0 ||
                                   strncmp(c->expect, "auth.secret:", 12) == 0
                               ? "auth_secret"
                               : NULL;
        if (slot && strcmp(err.field, slot) != 0)
            fail_msg("case '%s': field '%s', message '%s'", c->label, err.field, err.msg);
        if (!slot && (strlen(err.field) != flen || strncmp(err.field, c->expect, flen) != 0))
            fail_msg("case '%s': field '%s', message '%s'", c->label, err.field, err.msg);
        site_free(&s);
    }
}

/* An RSA key written encrypted with passphrase "x": PKCS#8 ("BEGIN
 * ENCRYPTED PRIVATE KEY") or the traditional form ("Proc-Type: 4,ENCRYPTED"). */
static bool write_encrypted_key(const char *path, bool traditional)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    BIO *f = key ? BIO_new_file(path, "w") : NULL;
    bool ok = f != NULL;
    if (ok && traditional)
        ok = PEM_write_bio_PrivateKey_traditional(f, key, EVP_aes_256_cbc(),
                                                  (const unsigned char *)"x", 1, NULL, NULL) == 1;
    else if (ok)
        ok = PEM_write_bio_PKCS8PrivateKey(f, key, EVP_aes_256_cbc(), "x", 1, NULL, NULL) == 1;
    BIO_free(f);
    EVP_PKEY_free(key);
    return ok;
}

/* Issue #10: an encrypted key made OpenSSL prompt on the terminal.  It is
 * refused when the site's keys are probed (it is saved) and is an error
 * (not a wait) when a request is built, from a file or from an environment
 * variable. */
static void test_jwt_rs256_encrypted_key(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    for (int form = 0; form < 2; form++) {
        char *path = hd_xasprintf("%s/enc%d.pem", dir, form);
        assert_true(write_encrypted_key(path, form == 1));
        hd_buf pem = {0};
        assert_int_equal(hd_read_file(path, &pem, NULL), 0);
        assert_non_null(strstr(hd_buf_str(&pem), form ? "Proc-Type: 4,ENCRYPTED"
                                                       : "BEGIN ENCRYPTED PRIVATE KEY"));
        setenv("HD_TEST_ENC_KEY", hd_buf_str(&pem), 1);
        hd_buf_free(&pem);
        for (int from_env = 0; from_env < 2; from_env++) {
            site s;
            site_init(&s);
            s.name = hd_xstrdup("j");
            s.url = hd_xstrdup("https://example.com/hook");
            s.auth = AUTH_JWT;
            auth_extra_set(&s.auth_extra, "alg", "RS256");
            auth_extra_set(&s.auth_extra, from_env ? "key_env" : "key_file",
                           from_env ? "HD_TEST_ENC_KEY" : path);
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            hd_error err = {0};
            assert_int_equal(site_validate(&s, &err), HD_OK);   /* pure: no key read */
            assert_int_equal(site_probe_keys(&s, &err), HD_INVALID);
            const char *field = from_env ? "auth.key_env: " : "auth.key_file: ";
            if (strncmp(err.msg, field, strlen(field)) != 0 || !strstr(err.msg, "is encrypted") ||
                !strstr(err.msg, "unencrypted PEM key"))
                fail_msg("form %d env %d: %s", form, from_env, err.msg);
            /* At delivery: request_build fails with the same words. */
            message m = make_msg();
            request_context ctx = { .now_ms = hd_now_ms() };
            http_request r;
            hd_error_clear(&err);
            assert_int_not_equal(request_build(&s, &m, &ctx, &r, &err), HD_OK);
            assert_non_null(strstr(err.msg, "is encrypted (passphrase-protected)"));
            clock_gettime(CLOCK_MONOTONIC, &t1);
            /* No prompt: both answers come at once. */
            assert_true(t1.tv_sec - t0.tv_sec < 5);
            site_free(&s);
        }
        free(path);
    }
    unsetenv("HD_TEST_ENC_KEY");
    tu_rmdir(dir);
    free(dir);
}

/* Issue #10: expires_in comes from the token endpoint.  Whatever it says,
 * the lifetime stays within 1 s .. 1 day, without overflow (this runs under
 * UBSan), and a huge number does not cost the access token. */
static void test_oauth2_expires_in_clamped(void **state)
{
    (void)state;
    static const struct {
        const char *expires_in;   /* the JSON value, NULL = absent */
        int64_t ms;
    } cases[] = {
        { "3600", 3600000 },
        { "1", 1000 },
        { "86400", 86400000 },
        { "86401", 86400000 },
        { "99999999999999999999", 86400000 },          /* past 64 bits */
        { "\"99999999999999999999\"", 86400000 },      /* quoted */
        { "9223372036854775807", 86400000 },
        { "-9223372036854775808", 300000 },
        { "1e300", 86400000 },
        { "-1e300", 300000 },
        { "1.5", 1500 },
        { "0.2", 1000 },                               /* at least 1 s */
        { "0.0001", 1000 },
        { "1e-300", 1000 },
        { "0", 300000 },                               /* nothing usable: the default */
        { "-5", 300000 },
        { "\"-5\"", 300000 },
        { "\"3600\"", 3600000 },
        { "\" 60 \"", 60000 },
        { "\"0.5\"", 1000 },
        { "\"12abc\"", 300000 },
        { "\"\"", 300000 },
        { "\"1e5\"", 300000 },
        { "\"18446744073709551617000\"", 86400000 },
        { "true", 300000 },
        { "null", 300000 },
        { "[60]", 300000 },
        { NULL, 300000 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *body = cases[i].expires_in
                         ? hd_xasprintf("{\"access_token\":\"tok\",\"expires_in\":%s}",
                                        cases[i].expires_in)
                         : hd_xstrdup("{\"access_token\":\"tok\"}");
        char *token = NULL, *error = NULL;
        int64_t ms = -1;
        if (!auth_oauth2_parse("https://a/t", 200, NULL, body, strlen(body), &token, &ms, &error))
            fail_msg("expires_in %s: refused: %s", cases[i].expires_in, error);
        assert_string_equal(token, "tok");
        if (ms != cases[i].ms)
            fail_msg("expires_in %s: %lld ms, wanted %lld", cases[i].expires_in, (long long)ms,
                     (long long)cases[i].ms);
        assert_int_equal(auth_oauth2_expires_ms(body, strlen(body)), cases[i].ms);
        assert_true(auth_oauth2_refresh_margin_ms(ms) < ms);
        free(token);
        free(body);
    }
    assert_int_equal(auth_oauth2_expires_ms(NULL, 0), 300000);
    assert_int_equal(auth_oauth2_expires_ms("not json", 8), 300000);
}

static void test_extra_helpers(void **state)
{
    (void)state;
    char *x = NULL;
    auth_extra_set(&x, "region", "eu-west-1");
    auth_extra_set(&x, "session_token", "tok");
    auth_extra_set(&x, "alg", "RS256");
    char *masked = auth_extra_masked(x);
    assert_null(strstr(masked, "tok\""));
    assert_non_null(strstr(masked, "\"session_token\":\"********\""));
    /* An import of the masked text keeps the stored token. */
    assert_true(auth_extra_unmask(&masked, x));
    char *tok = auth_extra_get(masked, "session_token");
    assert_string_equal(tok, "tok");
    free(tok);
    free(masked);
    auth_extra_keep_kind(&x, AUTH_AWS_S3);
    char *alg = auth_extra_get(x, "alg");
    assert_null(alg);
    char *region = auth_extra_get(x, "region");
    assert_string_equal(region, "eu-west-1");
    free(region);
    auth_extra_set(&x, "region", NULL);
    auth_extra_set(&x, "session_token", "");
    assert_null(x);
}

/* A site of kind k with a value in every field k has (and a user, secret
 * and header whatever k is, to see them dropped). */
static void full_site(site *s, auth_kind k)
{
    site_init(s);
    s->name = hd_xstrdup("x");
    s->url = hd_xstrdup("https://example.com/");
    s->auth = k;
    s->auth_user = hd_xstrdup("user");
    s->auth_secret = hd_xstrdup("secret");
    s->auth_header = hd_xstrdup("X-Key");
    for (int i = 0; i < auth_nfields; i++) {
        const auth_field *f = &auth_fields[i];
        if (f->slot != AS_EXTRA || !(f->kinds & (1u << k)))
            continue;
        if (f->type == AX_MAP)
            auth_extra_set_claim(&s->auth_extra, "iss", "hookdesk");
        else if (f->type == AX_DURATION)
            auth_extra_set_ms(&s->auth_extra, f->name, 60000);
        else
            auth_extra_set(&s->auth_extra, f->name, "v");
    }
}

static bool same_family(auth_kind a, auth_kind b)
{
    return a == b || (auth_kinds[a].family && auth_kinds[b].family &&
                      strcmp(auth_kinds[a].family, auth_kinds[b].family) == 0);
}

/* Every change of kind, as `sites edit --auth` and the form's Auth choice
 * make it (both call auth_change_kind, so they keep the same fields): a
 * user, secret or header stays only within a family (aws, aws-s3) and
 * when the new kind has one; a setting of auth_extra only when the new
 * kind has it. */
static void test_change_kind_every_pair(void **state)
{
    (void)state;
    for (int from = 0; from < AUTH_KIND_COUNT; from++) {
        for (int to = 0; to < AUTH_KIND_COUNT; to++) {
            site s;
            full_site(&s, (auth_kind)from);
            auth_change_kind(&s, (auth_kind)to);
            assert_int_equal(s.auth, to);
            bool fam = same_family((auth_kind)from, (auth_kind)to);
            bool same = from == to;
            const char *what = auth_kind_name((auth_kind)to);
            if ((s.auth_user != NULL) != (same || (fam && auth_field_of((auth_kind)to, AS_USER))))
                fail_msg("%s -> %s: user", auth_kind_name((auth_kind)from), what);
            if ((s.auth_secret != NULL) !=
                (same || (fam && auth_field_of((auth_kind)to, AS_SECRET))))
                fail_msg("%s -> %s: secret", auth_kind_name((auth_kind)from), what);
            if ((s.auth_header != NULL) !=
                (same || (fam && auth_field_of((auth_kind)to, AS_HEADER))))
                fail_msg("%s -> %s: header", auth_kind_name((auth_kind)from), what);
            for (int i = 0; i < auth_nfields; i++) {
                const auth_field *f = &auth_fields[i];
                if (f->slot != AS_EXTRA)
                    continue;
                char *v = auth_extra_get(s.auth_extra, f->name);
                bool want = (f->kinds & (1u << from)) && (f->kinds & (1u << to));
                if ((v != NULL) != want)
                    fail_msg("%s -> %s: %s", auth_kind_name((auth_kind)from), what, f->name);
                free(v);
            }
            site_free(&s);
        }
    }
    /* The case of issue #9: aws -> aws-s3 keeps the keys and the region,
     * and with a bucket the site is valid at once. */
    site s;
    full_site(&s, AUTH_AWS);
    auth_extra_set(&s.auth_extra, "region", "eu-west-1");
    auth_extra_set(&s.auth_extra, "service", "execute-api");
    auth_change_kind(&s, AUTH_AWS_S3);
    auth_extra_set(&s.auth_extra, "bucket", "archive");
    hd_error err = {0};
    if (site_validate(&s, &err) != HD_OK)
        fail_msg("aws -> aws-s3: %s", err.msg);
    char *region = auth_extra_get(s.auth_extra, "region");
    assert_string_equal(region, "eu-west-1");
    free(region);
    site_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigv4_published_vectors),
        cmocka_unit_test(test_jwt_hs256),
        cmocka_unit_test(test_jwt_rs256_file_and_env),
        cmocka_unit_test(test_aws_request),
        cmocka_unit_test(test_s3_request),
        cmocka_unit_test(test_bad_settings),
        cmocka_unit_test(test_change_kind_every_pair),
        cmocka_unit_test(test_extra_helpers),
        cmocka_unit_test(test_jwt_rs256_encrypted_key),
        cmocka_unit_test(test_oauth2_expires_in_clamped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
