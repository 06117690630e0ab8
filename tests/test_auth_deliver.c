/* test_auth_deliver.c - jwt, oauth2, aws and aws-s3 through the real
 * engine (and, for aws, the site test), the real loopback receiver and a
 * real SQLite file.  What the receiver got is checked with independent code
 * (tests/testutil.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "hd_auth.h"
#include "hd_config.h"
#include "hd_engine.h"
#include "hd_sitetest.h"
#include "hd_store.h"
#include "hd_util.h"
#include "testutil.h"

typedef tu_world fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    *state = f;
    return tu_world_open(f, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
    tu_world_close(*state);
    free(*state);
    return 0;
}

static int64_t add_site(fixture *f, site *s)
{
    int64_t id = 0;
    hd_error err = {0};
    hd_status st = store_site_add(f->st, s, &id, &err);
    if (st != HD_OK)
        fail_msg("site_add %s: %s", s->name, err.msg);
    site_free(s);
    return id;
}

static void new_site(fixture *f, site *s, const char *name, const char *path, auth_kind k)
{
    site_init(s);
    s->name = hd_xstrdup(name);
    s->url = hd_xasprintf("%s%s", f->rcv.base_url, path);
    s->auth = k;
}

static int64_t add_msg(fixture *f, int64_t site_id, const char *action)
{
    new_message nm = { .site_id = site_id, .action = action, .customer = "c/1",
                       .path = NULL, .payload = "{\"n\":1}" };
    int64_t id = 0;
    hd_error err = {0};
    assert_int_equal(store_message_add(f->st, &nm, &id, &err), HD_OK);
    return id;
}

static engine *start(fixture *f)
{
    engine *e = tu_engine_start(&f->cfg, false);
    assert_non_null(e);
    return e;
}

static void finish(engine *e)
{
    assert_true(tu_engine_finish(e));
}

static void wait_done(fixture *f, const int64_t *ids, int n)
{
    assert_true(tu_wait_final(f->st, ids, n, 15000));
}

static message get_msg(fixture *f, int64_t id)
{
    message m;
    assert_int_equal(store_message_get(f->st, id, &m, NULL), HD_OK);
    return m;
}

static const tu_logged *find_path(const tu_log *l, const char *prefix)
{
    for (int i = 0; i < l->count; i++)
        if (strncmp(l->items[i].path, prefix, strlen(prefix)) == 0)
            return &l->items[i];
    return NULL;
}

static void test_jwt_both_algorithms(void **state)
{
    fixture *f = *state;
    char *key = hd_xasprintf("%s/jwt.pem", f->dir);
    char *pub = tu_rsa_keygen(key);
    site s;
    new_site(f, &s, "hs", "/jwt/hs", AUTH_JWT);
    s.auth_secret = hd_xstrdup("hs-secret");
    auth_extra_set_claim(&s.auth_extra, "iss", "hookdesk-test");
    int64_t hs = add_site(f, &s);
    new_site(f, &s, "rs", "/jwt/rs", AUTH_JWT);
    auth_extra_set(&s.auth_extra, "alg", "RS256");
    auth_extra_set(&s.auth_extra, "key_file", key);
    auth_extra_set_ms(&s.auth_extra, "lifetime", 60000);
    int64_t rs = add_site(f, &s);
    int64_t ids[2] = { add_msg(f, hs, "a"), add_msg(f, rs, "b") };
    engine *e = start(f);
    wait_done(f, ids, 2);
    finish(e);
    for (int i = 0; i < 2; i++) {
        message m = get_msg(f, ids[i]);
        assert_int_equal(m.status, MSG_DONE);
        message_free(&m);
    }
    tu_log log;
    assert_true(tu_log_read(&f->rcv, &log));
    char why[256];
    void *claims = NULL;
    const tu_logged *r = find_path(&log, "/jwt/hs");
    assert_non_null(r);
    if (!tu_jwt_verify(tu_logged_header(r, "authorization") + 7, "hs-secret", NULL, &claims, why,
                       sizeof why))
        fail_msg("HS256: %s", why);
    assert_string_equal(json_string_value(json_object_get(claims, "iss")), "hookdesk-test");
    json_decref(claims);
    r = find_path(&log, "/jwt/rs");
    assert_non_null(r);
    if (!tu_jwt_verify(tu_logged_header(r, "authorization") + 7, NULL, pub, &claims, why,
                       sizeof why))
        fail_msg("RS256: %s", why);
    json_t *c = claims;
    assert_int_equal(json_integer_value(json_object_get(c, "exp")) -
                         json_integer_value(json_object_get(c, "iat")), 60);
    json_decref(c);
    tu_log_free(&log);
    /* The stored request headers show no token. */
    attempt_list al;
    assert_int_equal(store_attempts_list(f->st, ids[0], &al, NULL), HD_OK);
    assert_non_null(strstr(al.items[0].request_headers, "Authorization: Bearer ********"));
    attempt_list_free(&al);
    free(pub);
    free(key);
}

/* Request headers as stored or shown (`shown`) against what the receiver got
 * (r): the SigV4 headers curl added are there, the Authorization value as
 * sent up to "Signature=" then ********; neither the secret key nor the
 * real signature anywhere; the request line is not a header. */
static void check_sigv4_shown(const char *shown, const tu_logged *r, const char *secret, bool s3)
{
    assert_non_null(shown);
    const char *auth = tu_logged_header(r, "authorization");
    assert_non_null(auth);
    const char *sig = strstr(auth, "Signature=");
    assert_non_null(sig);
    sig += strlen("Signature=");
    assert_int_equal(strlen(sig), 64);
    char *want = hd_xasprintf("Authorization: %.*s********\n", (int)(sig - auth), auth);
    if (!strstr(shown, want))
        fail_msg("no \"%s\" in:\n%s", want, shown);
    free(want);
    assert_non_null(strstr(shown, "Authorization: AWS4-HMAC-SHA256 Credential="));
    assert_non_null(strstr(shown, ", Signature=********\n"));
    char *date = hd_xasprintf("x-amz-date: %s\n", tu_logged_header(r, "x-amz-date"));
    if (!strcasestr(shown, date))
        fail_msg("no \"%s\" in:\n%s", date, shown);
    free(date);
    if (s3) {
        char *hash = hd_xasprintf("x-amz-content-sha256: %s\n",
                                  tu_logged_header(r, "x-amz-content-sha256"));
        if (!strcasestr(shown, hash))
            fail_msg("no \"%s\" in:\n%s", hash, shown);
        free(hash);
    }
    if (strstr(shown, secret))
        fail_msg("the secret key is shown:\n%s", shown);
    if (strstr(shown, sig))
        fail_msg("the signature is shown:\n%s", shown);
    assert_null(strstr(shown, "HTTP/1.1"));
}

static void test_aws_and_s3(void **state)
{
    fixture *f = *state;
    site s;
    new_site(f, &s, "aws", "/aws/hook", AUTH_AWS);
    s.auth_user = hd_xstrdup("AKIDEXAMPLE");
    s.auth_secret = hd_xstrdup("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    auth_extra_set(&s.auth_extra, "region", "eu-west-1");
    auth_extra_set(&s.auth_extra, "service", "execute-api");
    auth_extra_set(&s.auth_extra, "session_token", "SESSION-TOKEN");
    int64_t aws = add_site(f, &s);
    new_site(f, &s, "s3", "", AUTH_AWS_S3);
    s.auth_user = hd_xstrdup("AKIDS3");
    s.auth_secret = hd_xstrdup("s3-secret-key");
    auth_extra_set(&s.auth_extra, "region", "us-east-1");
    auth_extra_set(&s.auth_extra, "bucket", "archive");
    auth_extra_set(&s.auth_extra, "object_format", "{customer}/{action}/{id}.json");
    int64_t s3 = add_site(f, &s);
    int64_t ids[2] = { add_msg(f, aws, "order.created"), add_msg(f, s3, "order.paid") };
    engine *e = start(f);
    wait_done(f, ids, 2);
    finish(e);
    tu_log log;
    assert_true(tu_log_read(&f->rcv, &log));
    char why[256];
    const tu_logged *r = find_path(&log, "/aws/hook");
    assert_non_null(r);
    assert_string_equal(r->method, "POST");
    assert_string_equal(tu_logged_header(r, "x-amz-security-token"), "SESSION-TOKEN");
    assert_non_null(strstr(tu_logged_header(r, "authorization"),
                           "Credential=AKIDEXAMPLE/"));
    assert_non_null(strstr(tu_logged_header(r, "authorization"), "/eu-west-1/execute-api/"));
    if (!tu_sigv4_check(r, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", why, sizeof why))
        fail_msg("aws: %s", why);
    assert_false(tu_sigv4_check(r, "wrong-secret", why, sizeof why));

    char *path = hd_xasprintf("/archive/c_1/order.paid/%lld.json", (long long)ids[1]);
    r = find_path(&log, path);
    if (!r)
        fail_msg("no PUT to %s", path);
    assert_string_equal(r->method, "PUT");
    assert_string_equal(r->body, "{\"n\":1}");
    char h[65];
    tu_sha256_hex("{\"n\":1}", 7, h);
    assert_string_equal(tu_logged_header(r, "x-amz-content-sha256"), h);
    if (!tu_sigv4_check(r, "s3-secret-key", why, sizeof why))
        fail_msg("s3: %s", why);
    assert_non_null(strstr(tu_logged_header(r, "authorization"), "/us-east-1/s3/aws4_request"));
    /* The stored attempts show the headers curl signed and sent, masked. */
    attempt_list al;
    assert_int_equal(store_attempts_list(f->st, ids[1], &al, NULL), HD_OK);
    assert_int_equal(al.count, 1);
    check_sigv4_shown(al.items[0].request_headers, r, "s3-secret-key", true);
    attempt_list_free(&al);
    r = find_path(&log, "/aws/hook");
    assert_int_equal(store_attempts_list(f->st, ids[0], &al, NULL), HD_OK);
    assert_int_equal(al.count, 1);
    check_sigv4_shown(al.items[0].request_headers, r,
                      "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", false);
    assert_null(strstr(al.items[0].request_headers, "SESSION-TOKEN"));
    assert_non_null(strstr(al.items[0].request_headers, "x-amz-security-token: ********\n"));
    assert_non_null(strstr(al.items[0].request_headers, "webhook-id: "));
    attempt_list_free(&al);
    free(path);
    tu_log_free(&log);
    for (int i = 0; i < 2; i++) {
        message m = get_msg(f, ids[i]);
        assert_int_equal(m.status, MSG_DONE);
        message_free(&m);
    }
}

/* `sites test` (sitetest_run) shows the same; a site that cannot be reached
 * shows the pre-built headers (nothing was sent, nothing signed). */
static void test_aws_sitetest(void **state)
{
    fixture *f = *state;
    site s;
    new_site(f, &s, "aws", "/aws/ping", AUTH_AWS);
    s.auth_user = hd_xstrdup("AKIDTEST");
    s.auth_secret = hd_xstrdup("test-secret-key-1");
    auth_extra_set(&s.auth_extra, "region", "eu-central-1");
    auth_extra_set(&s.auth_extra, "service", "execute-api");
    auth_extra_set(&s.auth_extra, "session_token", "SESSION-TOKEN-2");
    sitetest_result aws;
    hd_error err = {0};
    if (sitetest_run(&f->cfg, &s, &aws, &err) != HD_OK)
        fail_msg("sitetest aws: %s", err.msg);
    assert_int_equal(aws.response_code, 200);

    site s3;
    new_site(f, &s3, "s3", "", AUTH_AWS_S3);
    s3.auth_user = hd_xstrdup("AKIDS3T");
    s3.auth_secret = hd_xstrdup("test-secret-key-2");
    auth_extra_set(&s3.auth_extra, "region", "us-west-2");
    auth_extra_set(&s3.auth_extra, "bucket", "tbucket");
    auth_extra_set(&s3.auth_extra, "object_format", "{action}/{id}.json");
    sitetest_result sr;
    if (sitetest_run(&f->cfg, &s3, &sr, &err) != HD_OK)
        fail_msg("sitetest s3: %s", err.msg);
    assert_int_equal(sr.response_code, 200);

    tu_log log;
    assert_true(tu_log_read(&f->rcv, &log));
    char why[256];
    const tu_logged *r = find_path(&log, "/aws/ping");
    assert_non_null(r);
    if (!tu_sigv4_check(r, "test-secret-key-1", why, sizeof why))
        fail_msg("aws: %s", why);
    check_sigv4_shown(aws.request_headers, r, "test-secret-key-1", false);
    assert_null(strstr(aws.request_headers, "SESSION-TOKEN-2"));
    r = find_path(&log, "/tbucket/ping/0.json");
    assert_non_null(r);
    assert_string_equal(r->method, "PUT");
    if (!tu_sigv4_check(r, "test-secret-key-2", why, sizeof why))
        fail_msg("s3: %s", why);
    check_sigv4_shown(sr.request_headers, r, "test-secret-key-2", true);
    tu_log_free(&log);
    sitetest_result_free(&aws);
    sitetest_result_free(&sr);

    /* Port 1 refuses: no header block went out, the built one is shown. */
    free(s.url);
    s.url = hd_xstrdup("http://127.0.0.1:1/aws/ping");
    sitetest_result down;
    if (sitetest_run(&f->cfg, &s, &down, &err) != HD_OK)
        fail_msg("sitetest down: %s", err.msg);
    assert_int_equal(down.response_code, 0);
    assert_non_null(down.error);
    assert_non_null(down.request_headers);
    assert_null(strstr(down.request_headers, "Authorization"));
    assert_non_null(strstr(down.request_headers, "x-amz-security-token: ********\n"));
    assert_null(strstr(down.request_headers, "test-secret-key-1"));
    sitetest_result_free(&down);
    site_free(&s);
    site_free(&s3);
}

static void oauth_site(fixture *f, site *s, const char *name, const char *realm,
                       const char *token_query, bool body_auth)
{
    char path[128];
    snprintf(path, sizeof path, "/oauth/%s/protected", realm);
    new_site(f, s, name, path, AUTH_OAUTH2);
    s->auth_user = hd_xstrdup("client-1");
    s->auth_secret = hd_xstrdup("client secret");
    char *url = hd_xasprintf("%s/oauth/%s/token%s", f->rcv.base_url, realm, token_query);
    auth_extra_set(&s->auth_extra, "token_url", url);
    auth_extra_set(&s->auth_extra, "scope", "hooks:write");
    if (body_auth)
        auth_extra_set(&s->auth_extra, "client_auth", "body");
    free(url);
}

static void test_oauth2_one_token_for_many(void **state)
{
    fixture *f = *state;
    f->cfg.delivery.concurrency = 8;
    site s;
    oauth_site(f, &s, "o", "r1", "", false);
    int64_t sid = add_site(f, &s);
    int64_t ids[20];
    for (int i = 0; i < 20; i++)
        ids[i] = add_msg(f, sid, "x");
    engine *e = start(f);
    wait_done(f, ids, 20);
    for (int i = 0; i < 20; i++) {
        message m = get_msg(f, ids[i]);
        assert_int_equal(m.status, MSG_DONE);
        assert_int_equal(m.attempts, 1);
        message_free(&m);
    }
    assert_int_equal(tu_log_count(&f->rcv, "/oauth/r1/token"), 1);
    assert_int_equal(tu_log_count(&f->rcv, "/oauth/r1/protected"), 20);

    /* Revoked behind our back: the next message gets a 401 (an error,
     * retried), the retry fetches a new token and succeeds. */
    char *revoke = hd_xasprintf("%s/oauth/r1/revoke", f->rcv.base_url);
    site rs;
    site_init(&rs);
    rs.name = hd_xstrdup("revoker");
    rs.url = revoke;
    int64_t rid = add_site(f, &rs);
    int64_t r1 = add_msg(f, rid, "revoke");
    engine_wakeup(e);
    wait_done(f, &r1, 1);
    int64_t after = add_msg(f, sid, "after-revoke");
    engine_wakeup(e);
    wait_done(f, &after, 1);
    finish(e);
    message m = get_msg(f, after);
    assert_int_equal(m.status, MSG_DONE);
    assert_int_equal(m.attempts, 2);
    message_free(&m);
    attempt_list al;
    assert_int_equal(store_attempts_list(f->st, after, &al, NULL), HD_OK);
    assert_int_equal(al.count, 2);
    assert_int_equal(al.items[0].response_code, 401);
    assert_non_null(strstr(al.items[0].error, "401"));
    assert_null(strstr(al.items[1].request_headers, "r1-"));   /* token masked */
    attempt_list_free(&al);
    assert_int_equal(tu_log_count(&f->rcv, "/oauth/r1/token"), 2);

    /* The token request: Basic client credentials, form body with scope. */
    tu_log log;
    assert_true(tu_log_read(&f->rcv, &log));
    const tu_logged *t = find_path(&log, "/oauth/r1/token");
    assert_string_equal(t->method, "POST");
    assert_string_equal(t->body, "grant_type=client_credentials&scope=hooks%3Awrite");
    assert_string_equal(tu_logged_header(t, "authorization"),
                        "Basic Y2xpZW50LTE6Y2xpZW50K3NlY3JldA==");   /* client-1:client+secret */
    tu_log_free(&log);
}

static void test_oauth2_refresh_before_expiry(void **state)
{
    fixture *f = *state;
    site s;
    oauth_site(f, &s, "o", "r2", "?expires_in=1", true);
    int64_t sid = add_site(f, &s);
    engine *e = start(f);
    int64_t a = add_msg(f, sid, "first");
    engine_wakeup(e);
    wait_done(f, &a, 1);
    tu_sleep_ms(1100);   /* past expires_in: the token must not be reused */
    int64_t b = add_msg(f, sid, "second");
    engine_wakeup(e);
    wait_done(f, &b, 1);
    finish(e);
    for (int i = 0; i < 2; i++) {
        message m = get_msg(f, i ? b : a);
        assert_int_equal(m.status, MSG_DONE);
        assert_int_equal(m.attempts, 1);   /* refreshed ahead, never refused */
        message_free(&m);
    }
    assert_int_equal(tu_log_count(&f->rcv, "/oauth/r2/token"), 2);
    tu_log log;
    assert_true(tu_log_read(&f->rcv, &log));
    const tu_logged *t = find_path(&log, "/oauth/r2/token");
    assert_null(tu_logged_header(t, "authorization"));
    assert_non_null(strstr(t->body, "client_id=client-1&client_secret=client+secret"));
    tu_log_free(&log);
}

/* A failing token endpoint: its messages get attempt errors saying so and
 * fail; a plain site keeps delivering meanwhile; a slow one (2 s) does not
 * hold up others either. */
static void test_oauth2_endpoint_down(void **state)
{
    fixture *f = *state;
    f->cfg.delivery.max_attempts = 3;
    site s;
    oauth_site(f, &s, "down", "r3", "?fail=500", false);
    int64_t down = add_site(f, &s);
    new_site(f, &s, "slowtok", "/oauth/r4/protected", AUTH_OAUTH2);
    s.auth_user = hd_xstrdup("c");
    s.auth_secret = hd_xstrdup("s");
    char *slow = hd_xasprintf("%s/delay/2000", f->rcv.base_url);
    auth_extra_set(&s.auth_extra, "token_url", slow);
    free(slow);
    int64_t slowtok = add_site(f, &s);
    new_site(f, &s, "plain", "/plain", AUTH_NONE);
    int64_t plain = add_site(f, &s);
    int64_t bad[3] = { add_msg(f, down, "x"), add_msg(f, down, "y"), add_msg(f, slowtok, "z") };
    engine *e = start(f);
    int64_t t0 = hd_mono_ms();
    int64_t ok[5];
    for (int i = 0; i < 5; i++)
        ok[i] = add_msg(f, plain, "ok");
    engine_wakeup(e);
    wait_done(f, ok, 5);
    /* Well before the slow token endpoint answers. */
    assert_true(hd_mono_ms() - t0 < 1500);
    wait_done(f, bad, 2);
    for (int i = 0; i < 2; i++) {
        message m = get_msg(f, bad[i]);
        assert_int_equal(m.status, MSG_FAILED);
        assert_int_equal(m.attempts, 3);
        char *want = hd_xasprintf("oauth2: token endpoint %s/oauth/r3/token?fail=500: HTTP 500 "
                                  "(server_error)", f->rcv.base_url);
        assert_string_equal(m.last_error, want);
        free(want);
        message_free(&m);
    }
    assert_int_equal(tu_log_count(&f->rcv, "/oauth/r3/protected"), 0);
    engine_stop(e, ENGINE_STOP_RELEASE);
    hd_error err = {0};
    assert_int_equal(engine_join(e, &err), HD_OK);
}

static void test_oauth2_private_guard(void **state)
{
    fixture *f = *state;
    f->cfg.allow_private = false;
    f->cfg.delivery.max_attempts = 1;
    site s;
    oauth_site(f, &s, "o", "r5", "", false);
    int64_t sid = add_site(f, &s);
    int64_t id = add_msg(f, sid, "x");
    engine *e = start(f);
    wait_done(f, &id, 1);
    finish(e);
    message m = get_msg(f, id);
    assert_int_equal(m.status, MSG_FAILED);
    assert_non_null(strstr(m.last_error, "oauth2: token endpoint "));
    assert_non_null(strstr(m.last_error, "refused to connect to private address 127.0.0.1"));
    message_free(&m);
    assert_int_equal(tu_log_count(&f->rcv, "/oauth/"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_jwt_both_algorithms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aws_and_s3, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aws_sitetest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oauth2_one_token_for_many, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oauth2_refresh_before_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oauth2_endpoint_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oauth2_private_guard, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
