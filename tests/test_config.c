/* test_config.c - the YAML configuration: defaults, every key, ${VAR},
 * the lookup order, and errors with exact file:line:col positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hd_version.h"
#include "hd_config.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/hd-config-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *write_file(const char *rel, const char *text)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", tmpdir, rel) < 0)
        return NULL;
    /* Make the parent directories (at most two levels in these tests). */
    char *dir = strdup(path);
    for (char *p = dir + strlen(tmpdir) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0700);
            *p = '/';
        }
    }
    free(dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void assert_defaults(const config *c)
{
    assert_null(c->path);
    assert_string_equal(c->database, "hookdesk.db");
    assert_int_equal(c->delivery.concurrency, 8);
    assert_int_equal(c->delivery.max_attempts, 5);
    assert_int_equal(c->delivery.retry_interval_ms, 10000);
    assert_int_equal(c->delivery.timeout_ms, 10000);
    assert_int_equal(c->delivery.max_response_body, 65536);
    assert_int_equal(c->delivery.lease_ms, 30000);
    assert_int_equal(c->delivery.poll_interval_ms, 100);
    assert_true(c->delivery.synchronous_full);
    assert_string_equal(c->delivery.user_agent, "hookdesk/" HOOKDESK_VERSION);
    assert_int_equal(c->delivery.breaker.failures, 5);
    assert_int_equal(c->delivery.breaker.cooldown_ms, 10000);
    assert_int_equal(c->delivery.breaker.max_cooldown_ms, 300000);
    assert_int_equal(c->delivery.max_retry_after_ms, 3600000);
    assert_int_equal(c->retention_ms, 7776000000LL);
    assert_int_equal(c->purge_interval_ms, 60000);
    assert_int_equal(c->purge_chunk, 500);
    assert_false(c->allow_private);
    assert_int_equal(c->delivery.max_payload, 1048576);
    assert_string_equal(c->delivery.proxy, "");   /* no proxy unless configured */
    assert_null(c->sites);
    assert_int_equal(c->nsites, 0);
}

/* Loads yaml expecting failure; checks the whole message. */
static void expect_error(const char *yaml, const char *msg)
{
    config c;
    hd_error err;
    hd_error_clear(&err);
    hd_status rc = config_load_string(&c, yaml, "file", &err);
    if (rc == HD_OK)
        fail_msg("accepted, expected \"%s\"", msg);
    assert_int_equal(rc, HD_CONFIG);
    if (strcmp(err.msg, msg) != 0)
        fail_msg("got      \"%s\"\nexpected \"%s\"", err.msg, msg);
    assert_defaults(&c);   /* never half a configuration */
    config_free(&c);
}

static void test_defaults_without_file(void **state)
{
    (void)state;
    config c;
    hd_error err;
    assert_int_equal(config_load(&c, NULL, &err), HD_OK);
    assert_defaults(&c);
    config_free(&c);
    assert_int_equal(config_load_string(&c, "", "empty", &err), HD_OK);
    assert_defaults(&c);
    config_free(&c);
    assert_int_equal(config_load_string(&c, "# only a comment\n", "c", &err), HD_OK);
    assert_defaults(&c);
    config_free(&c);
    /* Empty sections are fine too. */
    assert_int_equal(config_load_string(&c, "delivery:\nsites:\n", "c", &err), HD_OK);
    assert_defaults(&c);
    config_free(&c);
}

static const char full_yaml[] =
    "database: /var/lib/hookdesk/main.db\n"
    "delivery:\n"
    "  concurrency: 32\n"
    "  max_attempts: 7\n"
    "  retry_interval: 50ms\n"
    "  timeout: 2m\n"
    "  max_response_body: 1MiB\n"
    "  lease: 1m30s\n"
    "  poll_interval: 20ms\n"
    "  synchronous: normal\n"
    "  user_agent: acme-hooks/2\n"
    "  max_retry_after: 2m\n"
    "  breaker:\n"
    "    failures: 3\n"
    "    cooldown: 2s\n"
    "    max_cooldown: 1m\n"
    "retention: 30d\n"
    "purge:\n"
    "  interval: 5m\n"
    "  chunk: 100\n"
    "network:\n"
    "  allow_private: yes\n"
    "sites:\n"
    "  - name: billing\n"
    "    url: https://billing.example.com/hooks\n"
    "    content_type: application/x-www-form-urlencoded\n"
    "    timeout: 5s\n"
    "    max_in_flight: 3\n"
    "    enabled: false\n"
    "    headers:\n"
    "      X-Source: hookdesk\n"
    "      X-Env: ${HD_TEST_ENV}\n"
    "    auth:\n"
    "      kind: basic\n"
    "      user: alice\n"
    "      password: ${HD_TEST_PW}\n"
    "  - name: crm\n"
    "    url: http://127.0.0.1:9000/in\n"
    "    auth: {kind: hmac, secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}\n"
    "  - name: api\n"
    "    url: https://api.example.com/\n"
    "    auth:\n"
    "      kind: header\n"
    "      header: X-Api-Key\n"
    "      value: k-123\n"
    "  - name: tok\n"
    "    url: https://tok.example.com/\n"
    "    auth:\n"
    "      kind: bearer\n"
    "      token: \"t$1\"\n";

static void test_every_key(void **state)
{
    (void)state;
    setenv("HD_TEST_ENV", "prod", 1);
    setenv("HD_TEST_PW", "s3cret", 1);
    char *path = write_file("full.yaml", full_yaml);
    config c;
    hd_error err;
    hd_error_clear(&err);
    if (config_load(&c, path, &err) != HD_OK)
        fail_msg("%s", err.msg);
    assert_string_equal(c.path, path);
    assert_string_equal(c.database, "/var/lib/hookdesk/main.db");
    assert_int_equal(c.delivery.concurrency, 32);
    assert_int_equal(c.delivery.max_attempts, 7);
    assert_int_equal(c.delivery.retry_interval_ms, 50);
    assert_int_equal(c.delivery.timeout_ms, 120000);
    assert_int_equal(c.delivery.max_response_body, 1048576);
    assert_int_equal(c.delivery.lease_ms, 90000);
    assert_int_equal(c.delivery.poll_interval_ms, 20);
    assert_false(c.delivery.synchronous_full);
    assert_string_equal(c.delivery.user_agent, "acme-hooks/2");
    assert_int_equal(c.delivery.max_retry_after_ms, 120000);
    assert_int_equal(c.delivery.breaker.failures, 3);
    assert_int_equal(c.delivery.breaker.cooldown_ms, 2000);
    assert_int_equal(c.delivery.breaker.max_cooldown_ms, 60000);
    assert_int_equal(c.retention_ms, 30LL * 86400000);
    assert_int_equal(c.purge_interval_ms, 300000);
    assert_int_equal(c.purge_chunk, 100);
    assert_true(c.allow_private);

    assert_int_equal(c.nsites, 4);
    const site *s = &c.sites[0];
    assert_string_equal(s->name, "billing");
    assert_string_equal(s->url, "https://billing.example.com/hooks");
    assert_int_equal(s->ctype, CONTENT_FORM);
    assert_int_equal(s->timeout_ms, 5000);
    assert_int_equal(s->max_in_flight, 3);
    assert_int_equal(site_max_in_flight(s, 32), 3);
    assert_false(s->enabled);
    assert_int_equal(s->nheaders, 2);
    assert_string_equal(s->headers[0].name, "X-Source");
    assert_string_equal(s->headers[0].value, "hookdesk");
    assert_string_equal(s->headers[1].name, "X-Env");
    assert_string_equal(s->headers[1].value, "prod");
    assert_int_equal(s->auth, AUTH_BASIC);
    assert_string_equal(s->auth_user, "alice");
    assert_string_equal(s->auth_secret, "s3cret");

    s = &c.sites[1];
    assert_string_equal(s->name, "crm");
    assert_int_equal(s->ctype, CONTENT_JSON);
    assert_true(s->enabled);
    assert_int_equal(s->timeout_ms, 0);
    assert_int_equal(s->max_in_flight, 0);                /* not given: the default, */
    assert_int_equal(site_max_in_flight(s, 32), 16);      /* half of concurrency */
    assert_int_equal(s->auth, AUTH_HMAC);
    assert_string_equal(s->auth_secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");

    s = &c.sites[2];
    assert_int_equal(s->auth, AUTH_HEADER);
    assert_string_equal(s->auth_header, "X-Api-Key");
    assert_string_equal(s->auth_secret, "k-123");

    s = &c.sites[3];
    assert_int_equal(s->auth, AUTH_BEARER);
    assert_string_equal(s->auth_secret, "t$1");   /* a lone $ is not expanded */
    for (int i = 0; i < c.nsites; i++)
        assert_int_equal(site_validate(&c.sites[i], NULL), HD_OK);
    config_free(&c);
    free(path);
}

static void test_env_expansion(void **state)
{
    (void)state;
    hd_error err;
    char *out = NULL;
    setenv("HD_A", "alpha", 1);
    setenv("HD_EMPTY", "", 1);
    unsetenv("HD_NOT_SET_ANYWHERE");
    assert_int_equal(config_expand_env("x${HD_A}y${HD_EMPTY}z", &out, &err), HD_OK);
    assert_string_equal(out, "xalphayz");
    free(out);
    assert_int_equal(config_expand_env("$HD_A $ $${HD_A} a$b", &out, &err), HD_OK);
    assert_string_equal(out, "$HD_A $ ${HD_A} a$b");
    free(out);
    assert_int_equal(config_expand_env("${HD_NOT_SET_ANYWHERE}", &out, &err), HD_CONFIG);
    assert_string_equal(err.msg, "environment variable 'HD_NOT_SET_ANYWHERE' is not set");
    assert_int_equal(config_expand_env("${HD_A", &out, &err), HD_CONFIG);
    assert_string_equal(err.msg, "'${' without a closing '}'");
    assert_int_equal(config_expand_env("${1X}", &out, &err), HD_CONFIG);
    assert_string_equal(err.msg, "'${1X}' is not a valid variable name");

    /* In a file: the error points at the value that uses the variable. */
    expect_error("database: x.db\n"
                 "delivery:\n"
                 "  user_agent: \"ua/${HD_NOT_SET_ANYWHERE}\"\n",
                 "file:3:15: delivery.user_agent: environment variable "
                 "'HD_NOT_SET_ANYWHERE' is not set");
    expect_error("sites:\n"
                 "  - name: a\n"
                 "    url: http://example.com/\n"
                 "    auth:\n"
                 "      kind: bearer\n"
                 "      token: ${HD_NOT_SET_ANYWHERE}\n",
                 "file:6:14: sites[0].auth.token: environment variable "
                 "'HD_NOT_SET_ANYWHERE' is not set");
    /* Expansion applies to every scalar, numbers included. */
    setenv("HD_CONC", "12", 1);
    config c;
    assert_int_equal(config_load_string(&c, "delivery: {concurrency: \"${HD_CONC}\"}\n", "f", &err),
                     HD_OK);
    assert_int_equal(c.delivery.concurrency, 12);
    config_free(&c);
}

static void test_unknown_keys(void **state)
{
    (void)state;
    expect_error("database: x.db\n"
                 "delivery:\n"
                 "    x: 1\n",
                 "file:3:5: unknown key 'x' in delivery");
    expect_error("databse: x.db\n", "file:1:1: unknown key 'databse'");
    expect_error("purge:\n  chunk: 5\n  every: 1s\n", "file:3:3: unknown key 'every' in purge");
    expect_error("sites:\n  - name: a\n    url: http://e.com/\n    colour: red\n",
                 "file:4:5: unknown key 'colour' in sites[0]");
    expect_error("sites:\n  - name: a\n    url: http://e.com/\n    auth:\n      kind: basic\n"
                 "      username: bob\n",
                 "file:6:7: unknown key 'username' in sites[0].auth");
    expect_error("delivery:\n  timeout: 1s\n  timeout: 2s\n",
                 "file:3:3: duplicate key 'timeout' in delivery (first at line 2)");
}

static void test_wrong_types_and_ranges(void **state)
{
    (void)state;
    expect_error("delivery: [1, 2]\n",
                 "file:1:11: delivery: expected a mapping (key: value lines), got a list");
    expect_error("- a\n- b\n",
                 "file:1:1: the top level: expected a mapping (key: value lines), got a list");
    expect_error("database: {a: 1}\n",
                 "file:1:11: database: expected a single value, got a mapping");
    expect_error("delivery:\n  concurrency: lots\n",
                 "file:2:16: delivery.concurrency: expected a whole number, got 'lots'");
    expect_error("delivery:\n  concurrency: 300\n",
                 "file:2:16: delivery.concurrency: 300 is out of range (1..256)");
    expect_error("delivery:\n  concurrency: 0\n",
                 "file:2:16: delivery.concurrency: 0 is out of range (1..256)");
    expect_error("delivery:\n  max_attempts: 101\n",
                 "file:2:17: delivery.max_attempts: 101 is out of range (1..100)");
    expect_error("delivery:\n  max_attempts: 99999999999999999999\n",
                 "file:2:17: delivery.max_attempts: expected a whole number, "
                 "got '99999999999999999999'");
    expect_error("delivery:\n  retry_interval: 10 parsecs\n",
                 "file:2:19: delivery.retry_interval: '10 parsecs' is not a duration "
                 "(e.g. 10s, 5m, 90d): unknown unit 'parsecs'");
    expect_error("delivery:\n  timeout: 11m\n",
                 "file:2:12: delivery.timeout: 11m is out of range (1ms..10m)");
    expect_error("delivery:\n  max_response_body: 64 KB!\n",
                 "file:2:22: delivery.max_response_body: '64 KB!' is not a size (e.g. 64KiB): "
                 "unknown unit '!'");
    expect_error("delivery:\n  synchronous: off\n",
                 "file:2:16: delivery.synchronous: expected full or normal, got 'off'");
    expect_error("network:\n  allow_private: maybe\n",
                 "file:2:18: network.allow_private: expected true or false, got 'maybe'");
    expect_error("retention: -1d\n",
                 "file:1:12: retention: '-1d' is not a duration (e.g. 10s, 5m, 90d): "
                 "negative values are not allowed");
    expect_error("database: \"\"\n",
                 "file:1:11: database: must be a non-empty text without control characters");
    expect_error("sites: {a: 1}\n",
                 "file:1:8: sites: expected a list of sites ('- name: ...'), got a mapping");
    expect_error("delivery:\n  concurrency: [1\n",
                 "file:3:1: did not find expected ',' or ']' while parsing a flow sequence");
}

static void test_sites_validated(void **state)
{
    (void)state;
    expect_error("sites:\n"
                 "  - name: billing\n"
                 "    url: ftp://billing.example.com/\n",
                 "file:3:10: site 'billing': url: must start with http:// or https://");
    expect_error("sites:\n"
                 "  - url: http://example.com/\n",
                 "file:2:5: sites[0]: name: is required");
    expect_error("sites:\n"
                 "  - name: bad name\n"
                 "    url: http://example.com/\n",
                 "file:2:11: sites[0]: name: character 4 is not allowed (use A-Z a-z 0-9 . _ -)");
    expect_error("sites:\n"
                 "  - name: a\n"
                 "    url: http://example.com/\n"
                 "    auth:\n"
                 "      kind: hmac\n"
                 "      secret: nope\n",
                 "file:6:15: site 'a': auth.secret: must start with 'whsec_'");
    expect_error("sites:\n"
                 "  - name: a\n"
                 "    url: http://example.com/\n"
                 "    auth:\n"
                 "      kind: basic\n"
                 "      password: pw\n",
                 "file:5:7: site 'a': auth.user: is required for basic auth");
    expect_error("sites:\n"
                 "  - name: a\n"
                 "    url: http://example.com/\n"
                 "    auth:\n"
                 "      kind: jwt\n",
                 "file:5:7: site 'a': auth.secret: a shared secret is required for jwt HS256");
    expect_error("sites:\n"
                 "  - name: a\n"
                 "    url: http://example.com/\n"
                 "    auth: {kind: kerberos}\n",
                 "file:4:18: sites[0].auth.kind: unknown kind 'kerberos' "
                 "(none, basic, bearer, header, hmac, jwt, oauth2, aws, aws-s3)");
    expect_error("sites:\n"
                 "  - name: a\n"
                 "    url: http://example.com/\n"
                 "    headers:\n"
                 "      Content-Type: text/plain\n",
                 "file:5:7: site 'a': headers: 'Content-Type' is set by hookdesk and cannot be "
                 "overridden");
    expect_error("sites:\n"
                 "  - name: a\n"
                 "    url: http://example.com/\n"
                 "    timeout: soon\n",
                 "file:4:14: sites[0].timeout: 'soon' is not a duration (e.g. 5s): "
                 "number expected");
    expect_error("sites:\n"
                 "  - name: a\n"
                 "    url: http://example.com/\n"
                 "    timeout: 1h\n",
                 "file:4:14: site 'a': timeout: must be between 1ms and 10m "
                 "(0 means the default)");
    expect_error("sites:\n"
                 "  - name: a\n"
                 "    url: http://example.com/a\n"
                 "  - name: a\n"
                 "    url: http://example.com/b\n",
                 "file:4:5: sites[1]: duplicate site name 'a' (first at line 2)");
    expect_error("sites:\n"
                 "  - name: a\n"
                 "    url: http://example.com/\n"
                 "    auth: {kind: bearer, token: x, secret: y}\n",
                 "file:4:36: sites[0].auth: give only one of password, token, secret, value, "
                 "client_secret, secret_key");
    /* A masked secret from `sites export` passes (the store keeps the real one). */
    config c;
    hd_error err;
    assert_int_equal(config_load_string(&c,
                                        "sites:\n"
                                        "  - name: a\n"
                                        "    url: http://example.com/\n"
                                        "    auth: {kind: hmac, secret: \"********\"}\n",
                                        "f", &err),
                     HD_OK);
    assert_int_equal(c.nsites, 1);
    assert_string_equal(c.sites[0].auth_secret, "********");
    config_free(&c);
    expect_error("sites:\n  - just-a-string\n",
                 "file:2:5: sites[0]: expected a mapping (name, url, auth...), got a value");
}

/* delivery.breaker is a mapping inside delivery; its keys, the cool-down
 * rule between two of them, and max_retry_after. */
static void test_breaker_keys(void **state)
{
    (void)state;
    config c;
    hd_error err;
    hd_error_clear(&err);
    /* Flow style, and failures: 0 (the breaker off) */
    if (config_load_string(&c, "delivery: {breaker: {failures: 0, cooldown: 50ms}}\n", "f",
                           &err) != HD_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(c.delivery.breaker.failures, 0);
    assert_int_equal(c.delivery.breaker.cooldown_ms, 50);
    assert_int_equal(c.delivery.breaker.max_cooldown_ms, 300000);
    config_free(&c);
    /* An empty breaker section keeps the defaults; cool-down = max is fine */
    assert_int_equal(config_load_string(&c, "delivery:\n  breaker:\n", "f", &err), HD_OK);
    assert_int_equal(c.delivery.breaker.failures, 5);
    config_free(&c);
    assert_int_equal(config_load_string(&c,
                                        "delivery:\n  breaker:\n    cooldown: 1m\n"
                                        "    max_cooldown: 1m\n",
                                        "f", &err),
                     HD_OK);
    assert_int_equal(c.delivery.breaker.cooldown_ms, 60000);
    assert_int_equal(c.delivery.breaker.max_cooldown_ms, 60000);
    config_free(&c);

    expect_error("delivery:\n  breaker:\n    failures: 1001\n",
                 "file:3:15: delivery.breaker.failures: 1001 is out of range (0..1000)");
    expect_error("delivery:\n  breaker:\n    failures: -1\n",
                 "file:3:15: delivery.breaker.failures: -1 is out of range (0..1000)");
    expect_error("delivery:\n  breaker:\n    failures: many\n",
                 "file:3:15: delivery.breaker.failures: expected a whole number, got 'many'");
    /* Negative cool-downs are errors (never a crash, never a wrap-around) */
    expect_error("delivery:\n  breaker:\n    cooldown: -5s\n",
                 "file:3:15: delivery.breaker.cooldown: '-5s' is not a duration "
                 "(e.g. 10s, 5m, 90d): negative values are not allowed");
    expect_error("delivery:\n  breaker:\n    max_cooldown: -1m\n",
                 "file:3:19: delivery.breaker.max_cooldown: '-1m' is not a duration "
                 "(e.g. 10s, 5m, 90d): negative values are not allowed");
    expect_error("delivery:\n  breaker:\n    cooldown: 0\n",
                 "file:3:15: delivery.breaker.cooldown: 0 is out of range (1ms..1d)");
    expect_error("delivery:\n  breaker:\n    max_cooldown: 2d\n",
                 "file:3:19: delivery.breaker.max_cooldown: 2d is out of range (1ms..1d)");
    /* max_cooldown below cooldown: the message names both, at max_cooldown... */
    expect_error("delivery:\n  breaker:\n    max_cooldown: 5s\n    cooldown: 10s\n",
                 "file:3:19: delivery.breaker.max_cooldown: 5s is less than "
                 "delivery.breaker.cooldown (10s); it must be at least the cool-down");
    /* ...or at cooldown when max_cooldown is the default */
    expect_error("delivery:\n  breaker:\n    cooldown: 10m\n",
                 "file:3:15: delivery.breaker.cooldown: 10m is more than "
                 "delivery.breaker.max_cooldown (5m, the default); raise max_cooldown too");
    expect_error("delivery:\n  breaker: 5\n",
                 "file:2:12: delivery.breaker: expected a mapping (key: value lines), got a value");
    expect_error("delivery:\n  breaker:\n    failure: 3\n",
                 "file:3:5: unknown key 'failure' in delivery.breaker");
    expect_error("delivery:\n  breaker: {failures: 1, failures: 2}\n",
                 "file:2:26: duplicate key 'failures' in delivery.breaker (first at line 2)");
    /* A dotted key is not a way into a sub-section */
    expect_error("delivery.breaker:\n  failures: 1\n", "file:1:1: unknown key 'delivery.breaker'");
    expect_error("delivery:\n  breaker.failures: 1\n",
                 "file:2:3: unknown key 'breaker.failures' in delivery");
    expect_error("breaker:\n  failures: 1\n", "file:1:1: unknown key 'breaker'");

    /* max_retry_after: a duration, 1ms..30d */
    assert_int_equal(config_load_string(&c, "delivery: {max_retry_after: 90s}\n", "f", &err),
                     HD_OK);
    assert_int_equal(c.delivery.max_retry_after_ms, 90000);
    config_free(&c);
    expect_error("delivery:\n  max_retry_after: 0\n",
                 "file:2:20: delivery.max_retry_after: 0 is out of range (1ms..30d)");
    expect_error("delivery:\n  max_retry_after: soon\n",
                 "file:2:20: delivery.max_retry_after: 'soon' is not a duration "
                 "(e.g. 10s, 5m, 90d): number expected");
    expect_error("delivery:\n  max_retry_after: -1h\n",
                 "file:2:20: delivery.max_retry_after: '-1h' is not a duration "
                 "(e.g. 10s, 5m, 90d): negative values are not allowed");

    /* poll_interval goes up to an hour (the wakeup makes long polls useful) */
    assert_int_equal(config_load_string(&c, "delivery: {poll_interval: 1h}\n", "f", &err), HD_OK);
    assert_int_equal(c.delivery.poll_interval_ms, 3600000);
    config_free(&c);
    expect_error("delivery:\n  poll_interval: 61m\n",
                 "file:2:18: delivery.poll_interval: 61m is out of range (1ms..1h)");
}

/* sites[i].max_in_flight: a whole number 1..256; leaving it out is the default. */
static void test_site_max_in_flight(void **state)
{
    (void)state;
    static const char head[] = "sites:\n  - name: a\n    url: http://example.com/\n";
    static const struct {
        const char *value;
        const char *msg;
    } bad[] = {
        { "0", "file:4:20: sites[0].max_in_flight: 0 is out of range (1..256; leave it out for "
               "the default, half of delivery.concurrency)" },
        { "-2", "file:4:20: sites[0].max_in_flight: -2 is out of range (1..256; leave it out "
                "for the default, half of delivery.concurrency)" },
        { "257", "file:4:20: sites[0].max_in_flight: 257 is out of range (1..256; leave it out "
                 "for the default, half of delivery.concurrency)" },
        { "2.5", "file:4:20: sites[0].max_in_flight: expected a whole number, got '2.5'" },
        { "four", "file:4:20: sites[0].max_in_flight: expected a whole number, got 'four'" },
        { "\"\"", "file:4:20: sites[0].max_in_flight: expected a whole number, got ''" },
        { "[1]", "file:4:20: sites[0].max_in_flight: expected a single value, got a list" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml, "%s    max_in_flight: %s\n", head, bad[i].value);
        expect_error(yaml, bad[i].msg);
    }
    config c;
    hd_error err;
    char yaml[256];
    snprintf(yaml, sizeof yaml, "delivery: {concurrency: 5}\n%s    max_in_flight: 256\n", head);
    assert_int_equal(config_load_string(&c, yaml, "f", &err), HD_OK);
    assert_int_equal(c.sites[0].max_in_flight, 256);
    assert_int_equal(site_max_in_flight(&c.sites[0], 5), 256);
    config_free(&c);
    assert_int_equal(config_load_string(&c, head, "f", &err), HD_OK);
    assert_int_equal(c.sites[0].max_in_flight, 0);
    assert_int_equal(site_max_in_flight(&c.sites[0], 5), 2);
    assert_int_equal(site_max_in_flight(&c.sites[0], 1), 1);   /* at least one */
    config_free(&c);
}

static void test_missing_file(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/nope.yaml", tmpdir);
    config c;
    hd_error err;
    assert_int_equal(config_load(&c, path, &err), HD_CONFIG);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "cannot open"));
    assert_defaults(&c);
    config_free(&c);
    /* Errors in a real file name the file. */
    char *bad = write_file("bad.yaml", "database: x\n\ndelivery:\n  lease: forever\n");
    assert_int_equal(config_load(&c, bad, &err), HD_CONFIG);
    char expect[600];
    snprintf(expect, sizeof expect,
             "%s:4:10: delivery.lease: 'forever' is not a duration (e.g. 10s, 5m, 90d): "
             "number expected", bad);
    assert_string_equal(err.msg, expect);
    assert_defaults(&c);
    config_free(&c);
    free(bad);
}

static void test_lookup_order(void **state)
{
    (void)state;
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    char work[400], xdg[400];
    snprintf(work, sizeof work, "%s/work", tmpdir);
    snprintf(xdg, sizeof xdg, "%s/xdg", tmpdir);
    mkdir(work, 0700);
    mkdir(xdg, 0700);
    assert_int_equal(chdir(work), 0);
    unsetenv("HOOKDESK_CONFIG");
    setenv("XDG_CONFIG_HOME", xdg, 1);

    /* Nothing anywhere: no file, defaults. */
    assert_null(config_find(NULL));

    /* XDG file. */
    char *x = write_file("xdg/hookdesk/config.yaml", "purge: {chunk: 3}\n");
    char *found = config_find(NULL);
    assert_non_null(found);
    assert_string_equal(found, x);
    free(found);

    /* ./config/hookdesk.yaml wins over XDG. */
    char *local = write_file("work/config/hookdesk.yaml", "purge: {chunk: 4}\n");
    found = config_find(NULL);
    assert_string_equal(found, "config/hookdesk.yaml");
    config c;
    hd_error err;
    assert_int_equal(config_load(&c, found, &err), HD_OK);
    assert_int_equal(c.purge_chunk, 4);
    config_free(&c);
    free(found);

    /* $HOOKDESK_CONFIG wins over both, even when missing (so it is reported). */
    setenv("HOOKDESK_CONFIG", "/nonexistent/hd.yaml", 1);
    found = config_find(NULL);
    assert_string_equal(found, "/nonexistent/hd.yaml");
    free(found);

    /* -c wins over everything. */
    found = config_find("explicit.yaml");
    assert_string_equal(found, "explicit.yaml");
    free(found);

    unsetenv("HOOKDESK_CONFIG");
    unsetenv("XDG_CONFIG_HOME");
    assert_int_equal(chdir(cwd), 0);
    free(x);
    free(local);
}

/* network.proxy: a URL with one of curl's proxy schemes; a bad one is an
 * error that never quotes the value (it may carry a password). */
static void test_network_proxy(void **state)
{
    (void)state;
    config c;
    hd_error err;
    const char *good[] = { "http://proxy.example:3128", "https://p.example", "socks5h://10.0.0.1:1080",
                           "socks4a://p:1", "http://user:pa%3Ass@proxy.example:8080/",
                           "HTTP://[::1]:3128" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml, "network:\n  proxy: \"%s\"\n", good[i]);
        if (config_load_string(&c, yaml, "f", &err) != HD_OK)
            fail_msg("%s refused: %s", good[i], err.msg);
        assert_string_equal(c.delivery.proxy, good[i]);
        config_free(&c);
    }
    /* An empty value is "none". */
    assert_int_equal(config_load_string(&c, "network:\n  proxy: \"\"\n", "f", &err), HD_OK);
    assert_string_equal(c.delivery.proxy, "");
    config_free(&c);
    expect_error("network:\n  proxy: proxy.example:3128\n",
                 "file:2:10: network.proxy: must start with http://, https://, socks4://, "
                 "socks4a://, socks5:// or socks5h://");
    expect_error("network:\n  proxy: ftp://u:hunter2@proxy.example\n",
                 "file:2:10: network.proxy: must start with http://, https://, socks4://, "
                 "socks4a://, socks5:// or socks5h://");
    expect_error("network:\n  proxy: http://u:hunter2@proxy.example/path\n",
                 "file:2:10: network.proxy: a proxy URL has no path, query or fragment");
    expect_error("network:\n  proxy: \"http://u:hunter2@proxy example\"\n",
                 "file:2:10: network.proxy: contains a space or control character "
                 "(percent-encode it)");
    expect_error("network:\n  proxy: http://\n",
                 "file:2:10: network.proxy: is not a URL (e.g. http://proxy.example:3128)");
    expect_error("network:\n  proxy: [a]\n",
                 "file:2:10: network.proxy: expected a single value, got a list");
}

/* A header value can be marked secret in YAML: Name: {value: V, secret: true}. */
static void test_secret_header_yaml(void **state)
{
    (void)state;
    config c;
    hd_error err;
    setenv("HD_TEST_TENANT", "from-env", 1);
    assert_int_equal(config_load_string(&c,
                                        "sites:\n"
                                        "  - name: a\n"
                                        "    url: http://example.com/\n"
                                        "    headers:\n"
                                        "      X-Plain: p\n"
                                        "      X-Tenant: {value: \"${HD_TEST_TENANT}\", secret: true}\n"
                                        "      X-Open:\n"
                                        "        value: o\n"
                                        "        secret: no\n",
                                        "f", &err),
                     HD_OK);
    assert_int_equal(c.nsites, 1);
    const site *s = &c.sites[0];
    assert_int_equal(s->nheaders, 3);
    assert_string_equal(s->headers[0].name, "X-Plain");
    assert_false(s->headers[0].secret);
    assert_string_equal(s->headers[1].name, "X-Tenant");
    assert_string_equal(s->headers[1].value, "from-env");
    assert_true(s->headers[1].secret);
    assert_string_equal(s->headers[2].value, "o");
    assert_false(s->headers[2].secret);
    config_free(&c);
    unsetenv("HD_TEST_TENANT");

    expect_error("sites:\n"
                 "  - name: a\n"
                 "    url: http://example.com/\n"
                 "    headers:\n"
                 "      X-T: {secret: true}\n",
                 "file:5:12: sites[0].headers.X-T: 'value' is required ('Name: {value: V, "
                 "secret: true}')");
    expect_error("sites:\n"
                 "  - name: a\n"
                 "    url: http://example.com/\n"
                 "    headers:\n"
                 "      X-T: {value: v, secret: maybe}\n",
                 "file:5:31: sites[0].headers.X-T.secret: expected true or false");
    expect_error("sites:\n"
                 "  - name: a\n"
                 "    url: http://example.com/\n"
                 "    headers:\n"
                 "      X-T: {value: v, hidden: true}\n",
                 "file:5:23: unknown key 'hidden' in sites[0].headers.X-T (a header is "
                 "'Name: value' or 'Name: {value: V, secret: true}')");
    expect_error("sites:\n"
                 "  - name: a\n"
                 "    url: http://example.com/\n"
                 "    headers:\n"
                 "      X-T: {value: [v]}\n",
                 "file:5:20: sites[0].headers.X-T.value: expected a single value, got a list");
    expect_error("sites:\n"
                 "  - name: a\n"
                 "    url: http://example.com/\n"
                 "    headers:\n"
                 "      X-T: {value: v, value: w}\n",
                 "file:5:23: duplicate key 'value' in sites[0].headers.X-T (first at line 5)");
}

/* delivery.max_payload: a size, 1 KiB..64 MiB, default 1 MiB. */
static void test_max_payload(void **state)
{
    (void)state;
    config c;
    hd_error err;
    static const struct {
        const char *text;
        uint64_t bytes;
    } good[] = { { "512KiB", 512 * 1024 }, { "1KiB", 1024 }, { "64MiB", 64 << 20 },
                 { "2MB", 2000000 }, { "4096", 4096 } };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char yaml[128];
        snprintf(yaml, sizeof yaml, "delivery:\n  max_payload: %s\n", good[i].text);
        if (config_load_string(&c, yaml, "f", &err) != HD_OK)
            fail_msg("%s: %s", good[i].text, err.msg);
        assert_int_equal(c.delivery.max_payload, good[i].bytes);
        config_free(&c);
    }
    expect_error("delivery:\n  max_payload: 1023\n",
                 "file:2:16: delivery.max_payload: 1023 is out of range (1KiB..64MiB)");
    expect_error("delivery:\n  max_payload: 65MiB\n",
                 "file:2:16: delivery.max_payload: 65MiB is out of range (1KiB..64MiB)");
    expect_error("delivery:\n  max_payload: lots\n",
                 "file:2:16: delivery.max_payload: 'lots' is not a size (e.g. 64KiB): "
                 "number expected");
}

/* CPU time of this thread (the loader runs in it): the timing checks
 * below compare costs, which other processes on a loaded machine must not
 * blur the way they stretch wall time. */
static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Loads yaml (a string) and returns the error, or "" when it loaded; the
 * time it took in *secs. */
static const char *load_timed(const char *yaml, double *secs)
{
    static hd_error err;
    config c;
    struct timespec t0;
    hd_error_clear(&err);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    hd_status rc = config_load_string(&c, yaml, "file", &err);
    *secs = seconds_since(&t0);
    config_free(&c);
    return rc == HD_OK ? "" : err.msg;
}

/* A billion-laughs file (51 KB of aliases standing for 10^9 nodes) is
 * refused in milliseconds at its first alias; so is any alias, a document
 * over 1 MiB (string or file, the file not read beyond that) and nesting
 * deeper than CONFIG_MAX_DEPTH. */
static void test_yaml_size_and_aliases(void **state)
{
    (void)state;
    expect_error("delivery:\n  timeout: &t 5s\n  lease: *t\n",
                 "file:3:10: aliases are not supported (*t): write the value out");
    expect_error("sites:\n  - &s {name: a, url: 'http://e.com/'}\n  - *s\n",
                 "file:3:5: aliases are not supported (*s): write the value out");

    /* The bomb: a site with 1,000 headers, a list of 4,000 aliases of it,
     * and 6,000 aliases of that list: 24 million sites, 24 billion headers
     * for the walk to visit. */
    size_t cap = 128 * 1024, len = 0;
    char *bomb = malloc(cap);
    assert_non_null(bomb);
    len += (size_t)snprintf(bomb + len, cap - len,
                            "x: &h {name: a, url: 'http://e.com/', headers: {");
    for (int i = 0; i < 1000; i++)
        len += (size_t)snprintf(bomb + len, cap - len, "%sH%d: v", i ? ", " : "", i);
    len += (size_t)snprintf(bomb + len, cap - len, "}}\nl1: &l1 [");
    for (int i = 0; i < 4000; i++)
        len += (size_t)snprintf(bomb + len, cap - len, "%s*h", i ? ", " : "");
    len += (size_t)snprintf(bomb + len, cap - len, "]\nsites: [");
    for (int i = 0; i < 6000; i++)
        len += (size_t)snprintf(bomb + len, cap - len, "%s*l1", i ? ", " : "");
    len += (size_t)snprintf(bomb + len, cap - len, "]\n");
    assert_true(len > 50000 && len < cap - 1);
    double secs;
    const char *msg = load_timed(bomb, &secs);
    if (!strstr(msg, "file:2:10: aliases are not supported (*h)"))
        fail_msg("alias bomb: got \"%s\"", msg);
    if (secs > 0.5)
        fail_msg("alias bomb: refused after %.2f s", secs);
    free(bomb);

    /* Nesting: CONFIG_MAX_DEPTH levels are fine (as far as nesting goes),
     * deeper is refused; 200k levels are refused at once (libyaml alone
     * would take minutes: its scanner is quadratic in the depth). */
    char *deep = malloc(2 * 200000 + 16);
    assert_non_null(deep);
    static const int depths[] = { CONFIG_MAX_DEPTH - 1, CONFIG_MAX_DEPTH + 1, 200000 };
    for (size_t d = 0; d < sizeof depths / sizeof depths[0]; d++) {
        int depth = depths[d];
        int n = sprintf(deep, "a: ");
        memset(deep + n, '[', (size_t)depth);
        memset(deep + n + depth, ']', (size_t)depth);
        deep[n + 2 * depth] = '\0';
        msg = load_timed(deep, &secs);
        if (depth < CONFIG_MAX_DEPTH) {
            assert_string_equal(msg, "file:1:1: unknown key 'a'");
        } else if (!strstr(msg, "nested deeper than 64 mappings and lists")) {
            fail_msg("depth %d: got \"%s\"", depth, msg);
        }
        if (secs > 0.5)
            fail_msg("depth %d: %.2f s", depth, secs);
    }
    free(deep);

    /* Size: a string over 1 MiB, and a file (only 1 MiB + a chunk is read). */
    size_t big = CONFIG_MAX_BYTES + 1;
    char *text = malloc(big + 1);
    assert_non_null(text);
    memset(text, '#', big);
    text[big] = '\0';
    msg = load_timed(text, &secs);
    assert_string_equal(msg, "file: 1048577 bytes is more than a configuration may have (1 MiB)");
    text[big - 1] = '\0';   /* exactly 1 MiB of comment: fine */
    msg = load_timed(text, &secs);
    assert_string_equal(msg, "");
    char *path = write_file("huge.yaml", "");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    memset(text, '#', big);
    text[big] = '\0';
    for (int i = 0; i < 8; i++)
        fputs(text, f);
    fclose(f);
    config c;
    hd_error err;
    assert_int_equal(config_load(&c, path, &err), HD_CONFIG);
    char want[600];
    snprintf(want, sizeof want, "%s: larger than a configuration may be (1 MiB)", path);
    assert_string_equal(err.msg, want);
    assert_defaults(&c);
    config_free(&c);
    free(path);
    free(text);
}

/* Appends to a growing string (test helper; aborts on overflow). */
static void add(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        if ((size_t)n < *cap - *len) {
            *len += (size_t)n;
            return;
        }
        *cap *= 2;
        *buf = realloc(*buf, *cap);
        assert_non_null(*buf);
    }
}

/* The big inputs of test_big_mappings_linear: n entries of one kind, then
 * (dup) a duplicate of an early one. */
enum big_kind { BIG_TOP_KEYS, BIG_CLAIMS, BIG_HEADERS, BIG_SITES };

static char *big_yaml(enum big_kind kind, int n, bool dup)
{
    size_t cap = 1 << 16, len = 0;
    char *y = malloc(cap);
    assert_non_null(y);
    y[0] = '\0';
    switch (kind) {
    case BIG_TOP_KEYS:
        for (int i = 0; i < n; i++)
            add(&y, &len, &cap, "k%d: 1\n", i);
        if (dup)
            add(&y, &len, &cap, "k0: 2\n");
        break;
    case BIG_CLAIMS:
        add(&y, &len, &cap, "sites:\n  - name: j\n    url: https://e.com/\n    auth:\n"
                            "      kind: jwt\n      secret: abcdefghijabcdefghijabcdefghij12\n"
                            "      claims:\n");
        for (int i = 0; i < n; i++)
            add(&y, &len, &cap, "        c%d: v%d\n", i, i);
        if (dup)
            add(&y, &len, &cap, "        c7: again\n");
        break;
    case BIG_HEADERS:
        add(&y, &len, &cap, "sites:\n  - name: h\n    url: https://e.com/\n    headers:\n");
        for (int i = 0; i < n; i++)
            add(&y, &len, &cap, "      X-H%d: v\n", i);
        add(&y, &len, &cap, "      X-H3: w\n");   /* always: site.c's own check is quadratic */
        break;
    case BIG_SITES:
        add(&y, &len, &cap, "sites:\n");
        for (int i = 0; i < n; i++)
            add(&y, &len, &cap, "  - {name: s%d, url: 'https://e.com/'}\n", i);
        if (dup)
            add(&y, &len, &cap, "  - {name: s42, url: 'https://e.com/'}\n");
        break;
    }
    return y;
}

/* Loading 4x the entries must not take much more than 4x the time (16x
 * when quadratic; measured under ASan: 3.7x to 4.5x).  Judged only when the
 * big load is slow enough for the ratio to mean something, with room for a
 * loaded machine. */
static void assert_linear(enum big_kind kind, const char *what)
{
    double t[2];
    int n[2] = { 5000, 20000 };
    for (int i = 0; i < 2; i++) {
        char *y = big_yaml(kind, n[i], false);
        double best = 1e9;
        for (int run = 0; run < 2; run++) {   /* the better of two */
            double secs;
            load_timed(y, &secs);
            if (secs < best)
                best = secs;
        }
        t[i] = best;
        free(y);
    }
    if (t[1] > 0.3 && t[1] > 8 * t[0])
        fail_msg("%s: 5k entries %.3f s, 20k entries %.3f s: not linear", what, t[0], t[1]);
}

/* Mappings and lists of 20k entries are checked in (about) linear time:
 * duplicate keys and site names by sorting (every pair was compared), JWT
 * claims built at once (one claim at a time re-wrote the whole JSON text:
 * minutes for 20k).  Each duplicate is found only after all the entries. */
static void test_big_mappings_linear(void **state)
{
    (void)state;
    double secs;
    char *y;

    y = big_yaml(BIG_TOP_KEYS, 20000, true);
    assert_string_equal(load_timed(y, &secs),
                        "file:20001:1: duplicate key 'k0' in the top level (first at line 1)");
    free(y);
    assert_linear(BIG_TOP_KEYS, "top-level keys");

    /* 20k JWT claims: loaded, every claim kept. */
    y = big_yaml(BIG_CLAIMS, 20000, false);
    config c;
    hd_error err;
    if (config_load_string(&c, y, "file", &err) != HD_OK)
        fail_msg("20k claims: %s", err.msg);
    assert_int_equal(c.nsites, 1);
    assert_non_null(strstr(c.sites[0].auth_extra, "\"c0\":\"v0\""));
    assert_non_null(strstr(c.sites[0].auth_extra, "\"c19999\":\"v19999\""));
    config_free(&c);
    free(y);
    y = big_yaml(BIG_CLAIMS, 20000, true);
    assert_string_equal(load_timed(y, &secs),
                        "file:20008:9: duplicate key 'c7' in sites[0].auth.claims "
                        "(first at line 15)");
    free(y);
    assert_linear(BIG_CLAIMS, "JWT claims");

    /* 20k header names, then a duplicate (found before site validation,
     * whose own duplicate check in site.c compares every pair). */
    y = big_yaml(BIG_HEADERS, 20000, true);
    assert_string_equal(load_timed(y, &secs),
                        "file:20005:7: duplicate key 'X-H3' in sites[0].headers "
                        "(first at line 8)");
    free(y);
    assert_linear(BIG_HEADERS, "header names");

    /* 20k sites, then a duplicate name. */
    y = big_yaml(BIG_SITES, 20000, true);
    assert_string_equal(load_timed(y, &secs),
                        "file:20002:5: sites[20000]: duplicate site name 's42' "
                        "(first at line 44)");
    free(y);
    assert_linear(BIG_SITES, "sites");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_without_file),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_env_expansion),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_wrong_types_and_ranges),
        cmocka_unit_test(test_sites_validated),
        cmocka_unit_test(test_breaker_keys),
        cmocka_unit_test(test_site_max_in_flight),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_lookup_order),
        cmocka_unit_test(test_max_payload),
        cmocka_unit_test(test_yaml_size_and_aliases),
        cmocka_unit_test(test_big_mappings_linear),
        cmocka_unit_test(test_network_proxy),
        cmocka_unit_test(test_secret_header_yaml),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
