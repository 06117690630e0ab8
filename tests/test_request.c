/* test_request.c - building attempts: auth headers, masking, URL join,
 * form encoding, webhook-id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "hd_request.h"
#include "hd_sign.h"

static const request_context ctx = { .now_ms = 1614265330123, .user_agent = "hookdesk-test/1" };

static void make(site *s, message *m, const char *url, auth_kind auth)
{
    site_init(s);
    s->name = strdup("a");
    s->url = strdup(url);
    s->auth = auth;
    memset(m, 0, sizeof *m);
    m->id = 7;
    snprintf(m->webhook_id, sizeof m->webhook_id, "msg_p5jXN8AQM9LWM0D4loKWxJek");
    m->payload = strdup("{\"test\": 2432232314}");
}

static void drop(site *s, message *m, http_request *r)
{
    request_free(r);
    site_free(s);
    free(m->payload);
    free(m->path);
}

/* The header "Name: value" as sent, or NULL. */
static const char *hdr(char **list, int n, const char *name)
{
    size_t len = strlen(name);
    for (int i = 0; i < n; i++)
        if (strncasecmp(list[i], name, len) == 0 && list[i][len] == ':')
            return list[i] + len + 2;
    return NULL;
}

static void test_none_and_common_headers(void **state)
{
    (void)state;
    site s;
    message m;
    http_request r;
    make(&s, &m, "https://example.com/hook", AUTH_NONE);
    assert_int_equal(request_build(&s, &m, &ctx, &r, NULL), HD_OK);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.url, "https://example.com/hook");
    assert_string_equal(r.body.data, m.payload);
    assert_string_equal(hdr(r.headers, r.nheaders, "Content-Type"), "application/json");
    assert_string_equal(hdr(r.headers, r.nheaders, "User-Agent"), "hookdesk-test/1");
    assert_string_equal(hdr(r.headers, r.nheaders, "webhook-id"), "msg_p5jXN8AQM9LWM0D4loKWxJek");
    assert_null(hdr(r.headers, r.nheaders, "Authorization"));
    assert_null(r.userpwd);
    char *text = request_headers_text(&r);
    assert_non_null(strstr(text, "webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek\n"));
    free(text);
    drop(&s, &m, &r);
}

static void test_path_join(void **state)
{
    (void)state;
    static const struct { const char *url, *path, *want; } v[] = {
        { "https://e.com/hook", "/customers/42", "https://e.com/hook/customers/42" },
        { "https://e.com/hook/", "/customers/42", "https://e.com/hook/customers/42" },
        { "https://e.com/hook/", "customers/42", "https://e.com/hook/customers/42" },
        { "https://e.com/hook", "customers", "https://e.com/hook/customers" },
        { "https://e.com", "/x", "https://e.com/x" },
        { "https://e.com/hook", NULL, "https://e.com/hook" },
        { "https://e.com/hook", "", "https://e.com/hook" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        site s;
        message m;
        http_request r;
        make(&s, &m, v[i].url, AUTH_NONE);
        m.path = v[i].path ? strdup(v[i].path) : NULL;
        assert_int_equal(request_build(&s, &m, &ctx, &r, NULL), HD_OK);
        assert_string_equal(r.url, v[i].want);
        drop(&s, &m, &r);
    }
}

static void test_basic(void **state)
{
    (void)state;
    site s;
    message m;
    http_request r;
    make(&s, &m, "https://e.com/", AUTH_BASIC);
    s.auth_user = strdup("alice");
    s.auth_secret = strdup("s3cret:pw");
    assert_int_equal(request_build(&s, &m, &ctx, &r, NULL), HD_OK);
    assert_string_equal(r.userpwd, "alice:s3cret:pw");
    char *b64 = base64_encode((const unsigned char *)"alice:s3cret:pw", 15);
    char want[128];
    snprintf(want, sizeof want, "Basic %s", b64);
    free(b64);
    assert_string_equal(hdr(r.headers, r.nheaders, "Authorization"), want);
    assert_string_equal(hdr(r.headers_masked, r.nheaders, "Authorization"), "Basic ********");
    char *text = request_headers_text(&r);
    assert_null(strstr(text, "s3cret"));
    assert_null(strstr(text, want + 6));
    free(text);
    drop(&s, &m, &r);
}

static void test_bearer_and_header(void **state)
{
    (void)state;
    site s;
    message m;
    http_request r;
    make(&s, &m, "https://e.com/", AUTH_BEARER);
    s.auth_secret = strdup("tok-123");
    assert_int_equal(request_build(&s, &m, &ctx, &r, NULL), HD_OK);
    assert_string_equal(hdr(r.headers, r.nheaders, "Authorization"), "Bearer tok-123");
    assert_string_equal(hdr(r.headers_masked, r.nheaders, "Authorization"), "Bearer ********");
    drop(&s, &m, &r);

    make(&s, &m, "https://e.com/", AUTH_HEADER);
    s.auth_header = strdup("X-Api-Key");
    s.auth_secret = strdup("key-456");
    site_add_header(&s, "X-Tenant", "acme");
    site_add_header(&s, "X-Other-Token", "hidden");
    assert_int_equal(request_build(&s, &m, &ctx, &r, NULL), HD_OK);
    assert_string_equal(hdr(r.headers, r.nheaders, "X-Api-Key"), "key-456");
    assert_string_equal(hdr(r.headers_masked, r.nheaders, "X-Api-Key"), "********");
    assert_string_equal(hdr(r.headers, r.nheaders, "X-Tenant"), "acme");
    assert_string_equal(hdr(r.headers_masked, r.nheaders, "X-Tenant"), "acme");
    assert_string_equal(hdr(r.headers, r.nheaders, "X-Other-Token"), "hidden");
    assert_string_equal(hdr(r.headers_masked, r.nheaders, "X-Other-Token"), "********");
    drop(&s, &m, &r);

    /* Any header marked secret is sent as is and masked in what is stored
     * and shown, whatever its name; an empty one has nothing to hide. */
    make(&s, &m, "https://e.com/", AUTH_NONE);
    site_add_header_secret(&s, "X-Tenant", "t-789", true);
    site_add_header_secret(&s, "X-Blank", "", true);
    site_add_header(&s, "X-Plain", "p");
    assert_int_equal(request_build(&s, &m, &ctx, &r, NULL), HD_OK);
    assert_string_equal(hdr(r.headers, r.nheaders, "X-Tenant"), "t-789");
    assert_string_equal(hdr(r.headers_masked, r.nheaders, "X-Tenant"), "********");
    assert_string_equal(hdr(r.headers_masked, r.nheaders, "X-Blank"), "");
    assert_string_equal(hdr(r.headers_masked, r.nheaders, "X-Plain"), "p");
    char *text = request_headers_text(&r);
    assert_non_null(strstr(text, "X-Tenant: ********\n"));
    assert_null(strstr(text, "t-789"));
    free(text);
    drop(&s, &m, &r);

    /* A value that would inject a header is refused. */
    make(&s, &m, "https://e.com/", AUTH_BEARER);
    s.auth_secret = strdup("tok\r\nX-Evil: 1");
    hd_error err = {0};
    assert_int_equal(request_build(&s, &m, &ctx, &r, &err), HD_INVALID);
    drop(&s, &m, &r);
}

static void test_hmac(void **state)
{
    (void)state;
    site s;
    message m;
    http_request r;
    make(&s, &m, "https://e.com/", AUTH_HMAC);
    s.auth_secret = strdup("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    assert_int_equal(request_build(&s, &m, &ctx, &r, NULL), HD_OK);
    assert_string_equal(hdr(r.headers, r.nheaders, "webhook-timestamp"), "1614265330");
    /* Same inputs as the Standard Webhooks test vector. */
    assert_string_equal(hdr(r.headers, r.nheaders, "webhook-signature"),
                        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* Signatures are not secrets. */
    assert_string_equal(hdr(r.headers_masked, r.nheaders, "webhook-signature"),
                        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    drop(&s, &m, &r);
}

static void test_form(void **state)
{
    (void)state;
    site s;
    message m;
    http_request r;
    make(&s, &m, "https://e.com/", AUTH_NONE);
    s.ctype = CONTENT_FORM;
    free(m.payload);
    m.payload = strdup("{\"name\":\"J\\u00fcrgen & Co\",\"n\":42,\"x\":1.5,\"ok\":true,\"no\":false,"
                       "\"nil\":null,\"a=b\":\"c/d?e\"}");
    assert_int_equal(request_build(&s, &m, &ctx, &r, NULL), HD_OK);
    assert_string_equal(r.body.data,
                        "name=J%C3%BCrgen+%26+Co&n=42&x=1.5&ok=true&no=false&nil=&a%3Db=c%2Fd%3Fe");
    assert_string_equal(hdr(r.headers, r.nheaders, "Content-Type"),
                        "application/x-www-form-urlencoded");
    drop(&s, &m, &r);

    hd_error err = {0};
    make(&s, &m, "https://e.com/", AUTH_NONE);
    s.ctype = CONTENT_FORM;
    free(m.payload);
    m.payload = strdup("[1,2]");
    assert_int_equal(request_build(&s, &m, &ctx, &r, &err), HD_INVALID);
    assert_non_null(strstr(err.msg, "JSON object"));
    free(m.payload);
    m.payload = strdup("{\"a\":{\"b\":1}}");
    assert_int_equal(request_build(&s, &m, &ctx, &r, &err), HD_INVALID);
    assert_non_null(strstr(err.msg, "\"a\""));
    drop(&s, &m, &r);
}

static void test_unsupported_kinds(void **state)
{
    (void)state;
    const auth_kind kinds[] = { AUTH_JWT, AUTH_OAUTH2, AUTH_AWS, AUTH_AWS_S3 };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        site s;
        message m;
        http_request r;
        hd_error err = {0};
        make(&s, &m, "https://e.com/", kinds[i]);
        assert_int_equal(request_build(&s, &m, &ctx, &r, &err), HD_INVALID);
        assert_non_null(strstr(err.msg, auth_kind_name(kinds[i])));
        drop(&s, &m, &r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_none_and_common_headers),
        cmocka_unit_test(test_path_join),
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_bearer_and_header),
        cmocka_unit_test(test_hmac),
        cmocka_unit_test(test_form),
        cmocka_unit_test(test_unsupported_kinds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
