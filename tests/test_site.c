/* test_site.c - trusted-site validation: a table of good and bad sites,
 * each bad one with the field its message must name; plus the helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hd_site.h"

#define HMAC_KEY "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/* One case: the fields that differ from a valid "none" site. */
typedef struct site_case {
    const char *label;
    const char *name;
    const char *url;
    int64_t timeout_ms;
    int max_in_flight;
    auth_kind auth;
    const char *user, *secret, *header;
    const char *hname, *hvalue;   /* one extra header, when hname is set */
    const char *expect;           /* NULL = valid; else the message must start with it */
    const char *field;            /* err.field, when the message names the field as the
                                     configuration does (auth.token for auth_secret) */
} site_case;

static void build(site *s, const site_case *c)
{
    site_init(s);
    s->name = strdup(c->name ? c->name : "billing");
    s->url = strdup(c->url ? c->url : "https://hooks.example.com/in");
    s->timeout_ms = c->timeout_ms;
    s->max_in_flight = c->max_in_flight;
    s->auth = c->auth;
    s->auth_user = c->user ? strdup(c->user) : NULL;
    s->auth_secret = c->secret ? strdup(c->secret) : NULL;
    s->auth_header = c->header ? strdup(c->header) : NULL;
    if (c->hname)
        site_add_header(s, c->hname, c->hvalue);
}

static const site_case cases[] = {
    /* valid */
    { "plain", .expect = NULL },
    { "name charset", .name = "Billing-v2.prod_eu", .expect = NULL },
    { "64-char name", .name = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
    { "http with port path query", .url = "http://127.0.0.1:8080/a/b?x=1&y=2" },
    { "ipv6", .url = "https://[::1]:8443/hook" },
    { "timeout max", .timeout_ms = 600000 },
    { "timeout 1ms", .timeout_ms = 1 },
    { "max_in_flight 1", .max_in_flight = 1 },
    { "max_in_flight max", .max_in_flight = SITE_MAX_IN_FLIGHT },
    { "basic", .auth = AUTH_BASIC, .user = "alice", .secret = "s3cr:et" },
    { "bearer", .auth = AUTH_BEARER, .secret = "tok_123" },
    { "header", .auth = AUTH_HEADER, .header = "X-Api-Key", .secret = "k" },
    { "header Authorization", .auth = AUTH_HEADER, .header = "Authorization", .secret = "Token x" },
    { "hmac", .auth = AUTH_HMAC, .secret = HMAC_KEY },
    { "hmac unpadded", .auth = AUTH_HMAC, .secret = "whsec_YWJj" },
    { "hmac padded", .auth = AUTH_HMAC, .secret = "whsec_YWI=" },
    { "extra header", .hname = "X-Source", .hvalue = "hookdesk\tv1" },
    /* name */
    { "empty name", .name = "", .expect = "name: " },
    { "name with space", .name = "bill ing", .expect = "name: " },
    { "name with slash", .name = "a/b", .expect = "name: " },
    { "name utf8", .name = "caf\xc3\xa9", .expect = "name: " },
    { "65-char name", .name = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      .expect = "name: " },
    /* url */
    { "empty url", .url = "", .expect = "url: " },
    { "ftp", .url = "ftp://example.com/x", .expect = "url: must start with http:// or https://" },
    { "no scheme", .url = "example.com/x", .expect = "url: must start with http" },
    { "file", .url = "file:///etc/passwd", .expect = "url: " },
    { "no host", .url = "http:///path", .expect = "url: " },
    { "userinfo", .url = "https://bob:pw@example.com/", .expect = "url: must not contain a user" },
    { "user only", .url = "https://bob@example.com/", .expect = "url: must not contain a user" },
    { "fragment", .url = "https://example.com/a#frag", .expect = "url: must not contain a #fragment" },
    { "space", .url = "https://example.com/a b", .expect = "url: " },
    { "newline", .url = "https://example.com/\r\nX: y", .expect = "url: " },
    { "bad port", .url = "https://example.com:99999/", .expect = "url: " },
    /* timeout */
    { "negative timeout", .timeout_ms = -1, .expect = "timeout: " },
    { "timeout too long", .timeout_ms = 600001, .expect = "timeout: " },
    /* max_in_flight (0 = the default, valid) */
    { "negative max_in_flight", .max_in_flight = -1, .expect = "max_in_flight: " },
    { "max_in_flight too big", .max_in_flight = SITE_MAX_IN_FLIGHT + 1,
      .expect = "max_in_flight: " },
    /* headers */
    { "header bad name", .hname = "X Bad", .hvalue = "v", .expect = "headers: " },
    { "header empty name", .hname = "", .hvalue = "v", .expect = "headers: " },
    { "header CRLF value", .hname = "X-A", .hvalue = "v\r\nEvil: 1", .expect = "headers: " },
    { "header LF value", .hname = "X-A", .hvalue = "v\nx", .expect = "headers: " },
    { "override content-type", .hname = "content-type", .hvalue = "text/plain",
      .expect = "headers: " },
    { "override authorization", .hname = "Authorization", .hvalue = "x", .expect = "headers: " },
    { "override webhook-id", .hname = "Webhook-Id", .hvalue = "x", .expect = "headers: " },
    /* auth */
    { "none with secret", .auth = AUTH_NONE, .secret = "x", .expect = "auth_secret: " },
    { "basic no user", .auth = AUTH_BASIC, .secret = "pw", .field = "auth_user", .expect = "auth.user: " },
    { "basic colon user", .auth = AUTH_BASIC, .user = "a:b", .secret = "pw",
      .field = "auth_user", .expect = "auth.user: " },
    { "basic no password", .auth = AUTH_BASIC, .user = "alice", .field = "auth_secret", .expect = "auth.password: " },
    { "bearer no token", .auth = AUTH_BEARER, .field = "auth_secret", .expect = "auth.token: " },
    { "bearer CRLF", .auth = AUTH_BEARER, .secret = "t\r\nX: y", .field = "auth_secret", .expect = "auth.token: " },
    { "header no name", .auth = AUTH_HEADER, .secret = "k", .field = "auth_header", .expect = "auth.header: " },
    { "header bad name", .auth = AUTH_HEADER, .header = "X:Key", .secret = "k",
      .field = "auth_header", .expect = "auth.header: " },
    { "header webhook-", .auth = AUTH_HEADER, .header = "webhook-signature", .secret = "k",
      .field = "auth_header", .expect = "auth.header: " },
    { "header no value", .auth = AUTH_HEADER, .header = "X-Api-Key", .field = "auth_secret", .expect = "auth.value: " },
    { "header value CR", .auth = AUTH_HEADER, .header = "X-Api-Key", .secret = "a\rb",
      .field = "auth_secret", .expect = "auth.value: " },
    { "hmac no secret", .auth = AUTH_HMAC, .field = "auth_secret", .expect = "auth.secret: " },
    { "hmac no prefix", .auth = AUTH_HMAC, .secret = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      .field = "auth_secret", .expect = "auth.secret: must start with 'whsec_'" },
    { "hmac bad base64", .auth = AUTH_HMAC, .secret = "whsec_not*base64",
      .field = "auth_secret", .expect = "auth.secret: " },
    { "hmac bad length", .auth = AUTH_HMAC, .secret = "whsec_YWJjZ", .field = "auth_secret", .expect = "auth.secret: " },
    { "hmac empty key", .auth = AUTH_HMAC, .secret = "whsec_", .field = "auth_secret", .expect = "auth.secret: " },
    /* Issue #4 kinds: their settings are checked in tests/test_auth_*.c. */
    { "jwt no secret", .auth = AUTH_JWT, .field = "auth_secret", .expect = "auth.secret: " },
    { "oauth2 no token_url", .auth = AUTH_OAUTH2, .expect = "auth.token_url: is required" },
    { "aws-s3 no key id", .auth = AUTH_AWS_S3, .field = "auth_user", .expect = "auth.access_key: " },
};

static void test_site_validate_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const site_case *c = &cases[i];
        site s;
        build(&s, c);
        hd_error err;
        hd_error_clear(&err);
        hd_status rc = site_validate(&s, &err);
        if (!c->expect && rc != HD_OK)
            fail_msg("case '%s': refused: %s", c->label, err.msg);
        if (c->expect) {
            if (rc != HD_INVALID)
                fail_msg("case '%s': accepted (rc %d), expected '%s...'", c->label, (int)rc,
                         c->expect);
            if (strncmp(err.msg, c->expect, strlen(c->expect)) != 0)
                fail_msg("case '%s': message '%s' does not start with '%s'", c->label, err.msg,
                         c->expect);
            /* The field is in the error itself (what the form, the CLI and
             * config.c read), the name the message starts with. */
            const char *want = c->field ? c->field : c->expect;
            size_t flen = c->field ? strlen(c->field) : strcspn(c->expect, ":");
            if (strlen(err.field) != flen || strncmp(err.field, want, flen) != 0)
                fail_msg("case '%s': field '%s' for message '%s'", c->label, err.field,
                         err.msg);
            /* The message is one line. */
            assert_null(strchr(err.msg, '\n'));
            assert_true(strlen(err.msg) > strlen(c->expect) ||
                        strcmp(err.msg, c->expect) == 0);
        }
        site_free(&s);
    }
}

static void test_site_copy_and_free(void **state)
{
    (void)state;
    site a;
    site_case c = { .label = "copy", .auth = AUTH_HEADER, .header = "X-Api-Key", .secret = "k" };
    build(&a, &c);
    site_add_header(&a, "X-One", "1");
    site_add_header(&a, "X-Two", "2");
    a.id = 7;
    a.timeout_ms = 1234;
    a.max_in_flight = 3;
    site b;
    site_copy(&b, &a);
    site_free(&a);   /* the copy must own all of its memory */
    assert_int_equal(b.id, 7);
    assert_int_equal(b.timeout_ms, 1234);
    assert_int_equal(b.max_in_flight, 3);
    assert_string_equal(b.name, "billing");
    assert_string_equal(b.auth_header, "X-Api-Key");
    assert_string_equal(b.auth_secret, "k");
    assert_null(b.auth_user);
    assert_int_equal(b.nheaders, 2);
    assert_string_equal(b.headers[1].name, "X-Two");
    assert_string_equal(b.headers[1].value, "2");
    assert_int_equal(site_validate(&b, NULL), HD_OK);
    site_free(&b);
    assert_null(b.name);
    assert_int_equal(b.nheaders, 0);
    site_free(&b);   /* twice is harmless */
}

static void test_site_init_defaults(void **state)
{
    (void)state;
    site s;
    site_init(&s);
    assert_int_equal(s.ctype, CONTENT_JSON);
    assert_true(s.enabled);
    assert_int_equal(s.auth, AUTH_NONE);
    assert_int_equal(s.timeout_ms, 0);
    assert_int_equal(s.max_in_flight, 0);
    assert_null(s.name);
    hd_error err;
    assert_int_equal(site_validate(&s, &err), HD_INVALID);
    assert_string_equal(err.msg, "name: is required");
    site_free(&s);
}

/* The effective max_in_flight: the site's own, else half of the engine's
 * concurrency, at least 1. */
static void test_max_in_flight(void **state)
{
    (void)state;
    site s;
    site_init(&s);
    assert_int_equal(site_max_in_flight(&s, 8), 4);
    assert_int_equal(site_max_in_flight(&s, 9), 4);
    assert_int_equal(site_max_in_flight(&s, 2), 1);
    assert_int_equal(site_max_in_flight(&s, 1), 1);
    assert_int_equal(site_max_in_flight(&s, 0), 1);
    assert_int_equal(site_max_in_flight(&s, 256), 128);
    s.max_in_flight = 6;
    assert_int_equal(site_max_in_flight(&s, 8), 6);
    assert_int_equal(site_max_in_flight(&s, 2), 6);   /* the site's own, even above half */
    assert_int_equal(site_max_in_flight(NULL, 8), 4);
    hd_error err;
    s.name = strdup("a");
    s.url = strdup("http://example.com/");
    s.max_in_flight = 0;
    assert_int_equal(site_validate(&s, &err), HD_OK);
    s.max_in_flight = 257;
    assert_int_equal(site_validate(&s, &err), HD_INVALID);
    assert_string_equal(err.msg, "max_in_flight: must be between 1 and 256 (0 means the default: "
                                 "half of delivery.concurrency)");
    site_free(&s);
}

static void test_auth_kinds(void **state)
{
    (void)state;
    static const char *const names[] = { "none", "basic", "bearer", "header", "hmac",
                                         "jwt", "oauth2", "aws", "aws-s3" };
    assert_int_equal(AUTH_KIND_COUNT, 9);
    for (int k = 0; k < AUTH_KIND_COUNT; k++) {
        assert_string_equal(auth_kind_name((auth_kind)k), names[k]);
        auth_kind back;
        assert_true(auth_kind_parse(names[k], &back));
        assert_int_equal(back, k);
    }
    auth_kind k;
    assert_true(auth_kind_parse("HMAC", &k));
    assert_int_equal(k, AUTH_HMAC);
    assert_false(auth_kind_parse("digest", &k));
    assert_false(auth_kind_parse(NULL, &k));
}

static void test_content_types(void **state)
{
    (void)state;
    content_type c;
    assert_string_equal(content_type_name(CONTENT_JSON), "application/json");
    assert_string_equal(content_type_name(CONTENT_FORM), "application/x-www-form-urlencoded");
    assert_true(content_type_parse("application/x-www-form-urlencoded", &c));
    assert_int_equal(c, CONTENT_FORM);
    assert_true(content_type_parse("application/json", &c));
    assert_int_equal(c, CONTENT_JSON);
    assert_false(content_type_parse("text/plain", &c));
}

static void test_site_mask(void **state)
{
    (void)state;
    assert_string_equal(site_mask("hunter2"), "********");
    assert_string_equal(site_mask("x"), "********");
    assert_string_equal(site_mask(""), "");
    assert_string_equal(site_mask(NULL), "");
}

static void test_duplicate_headers(void **state)
{
    (void)state;
    site s;
    site_case c = { .label = "dup" };
    build(&s, &c);
    site_add_header(&s, "X-A", "1");
    site_add_header(&s, "x-a", "2");
    hd_error err;
    assert_int_equal(site_validate(&s, &err), HD_INVALID);
    assert_string_equal(err.msg, "headers: 'x-a' is given twice");
    site_free(&s);
}

/* A header marked secret is masked whatever its name; a credential-like
 * name is masked without the mark; copies keep the mark. */
static void test_secret_headers(void **state)
{
    (void)state;
    site s;
    site_case c = { .label = "secret headers" };
    build(&s, &c);
    site_add_header(&s, "X-Plain", "visible");
    site_add_header_secret(&s, "X-Tenant", "t-123", true);
    site_add_header_secret(&s, "X-Api-Key", "k-456", false);
    site_add_header_secret(&s, "X-Empty", "", true);
    assert_int_equal(site_validate(&s, NULL), HD_OK);
    assert_false(s.headers[0].secret);
    assert_true(s.headers[1].secret);
    assert_false(site_header_masked(&s.headers[0]));
    assert_true(site_header_masked(&s.headers[1]));
    assert_true(site_header_masked(&s.headers[2]));   /* by its name */
    assert_string_equal(site_header_shown(&s.headers[0]), "visible");
    assert_string_equal(site_header_shown(&s.headers[1]), "********");
    assert_string_equal(site_header_shown(&s.headers[2]), "********");
    assert_string_equal(site_header_shown(&s.headers[3]), "");   /* nothing to hide */
    site b;
    site_copy(&b, &s);
    site_free(&s);
    assert_int_equal(b.nheaders, 4);
    assert_false(b.headers[0].secret);
    assert_true(b.headers[1].secret);
    assert_string_equal(b.headers[1].value, "t-123");
    assert_false(b.headers[2].secret);
    site_free(&b);
}

/* 20,000 headers: validated (and a duplicate among them found) by sorting,
 * not by comparing every pair. */
static void test_many_headers(void **state)
{
    (void)state;
    site s;
    site_init(&s);
    s.name = strdup("many");
    s.url = strdup("https://example.com/hook");
    /* Built in one array (site_add_header grows it by one each time). */
    s.headers = calloc(20001, sizeof *s.headers);
    for (int i = 0; i < 20000; i++) {
        char name[32];
        snprintf(name, sizeof name, "X-H%05d", i);
        s.headers[i].name = strdup(name);
        s.headers[i].value = strdup("v");
    }
    s.nheaders = 20000;
    hd_error err = { 0 };
    assert_int_equal(site_validate(&s, &err), HD_OK);
    s.headers[20000].name = strdup("x-h12345");
    s.headers[20000].value = strdup("again");
    s.nheaders = 20001;
    assert_int_equal(site_validate(&s, &err), HD_INVALID);
    assert_non_null(strstr(err.msg, "is given twice"));
    site_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_secret_headers),
        cmocka_unit_test(test_site_validate_table),
        cmocka_unit_test(test_site_copy_and_free),
        cmocka_unit_test(test_site_init_defaults),
        cmocka_unit_test(test_max_in_flight),
        cmocka_unit_test(test_auth_kinds),
        cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_site_mask),
        cmocka_unit_test(test_duplicate_headers),
        cmocka_unit_test(test_many_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
