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
#include <unistd.h>

#include <cmocka.h>

#include "hd_cli.h"
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
                 "file:6:15: site 'a': auth_secret: must start with 'whsec_'");
    expect_error("sites:\n"
                 "  - name: a\n"
                 "    url: http://example.com/\n"
                 "    auth:\n"
                 "      kind: basic\n"
                 "      password: pw\n",
                 "file:5:7: site 'a': auth_user: is required for basic auth");
    expect_error("sites:\n"
                 "  - name: a\n"
                 "    url: http://example.com/\n"
                 "    auth:\n"
                 "      kind: jwt\n",
                 "file:5:7: site 'a': auth_secret: a shared secret is required for jwt HS256");
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
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
