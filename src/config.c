/* config.c - the YAML configuration of SPEC §5 (libyaml, document API).
 *
 * The file, every key optional (defaults shown):
 *
 *   database: hookdesk.db            # SQLite file, relative to the working directory
 *   delivery:
 *     concurrency: 8                 # parallel requests per engine, 1..256
 *     max_attempts: 5                # attempts in all before Failed, 1..100
 *     retry_interval: 10s            # wait after an error (duration)
 *     timeout: 10s                   # per-attempt limit when a site sets none, 1ms..10m
 *     max_response_body: 64KiB       # response body bytes kept per attempt (size)
 *     lease: 30s                     # claim time beyond the site timeout
 *     poll_interval: 100ms           # how often an idle engine looks for work, 1ms..1h
 *     synchronous: full              # full | normal (SQLite PRAGMA synchronous)
 *     user_agent: hookdesk/VERSION
 *     max_retry_after: 1h            # cap on a receiver's Retry-After (429/503), 1ms..30d
 *     fault_timeout: 2m              # database failing this long stops the engine (0: never)
 *     max_payload: 1MiB              # largest payload send/import/resend accept, 1KiB..64MiB
 *     breaker:                       # one circuit breaker per site
 *       failures: 5                  # consecutive failed attempts that open it, 0..1000
 *                                    # (0: breaker off)
 *       cooldown: 10s                # first wait before a probe, 1ms..1d
 *       max_cooldown: 5m             # the wait doubles up to this (>= cooldown), 1ms..1d
 *   retention: 90d                   # purge Done/Failed messages older than this
 *   purge:
 *     interval: 60s                  # how often the purge runs
 *     chunk: 500                     # rows per purge transaction
 *   network:
 *     allow_private: false           # allow loopback/private targets
 *     proxy: http://proxy.example:3128   # none by default; http https socks4 socks4a
 *                                    # socks5 socks5h; user:password@ allowed.  The
 *                                    # environment's http_proxy etc. are never used
 *   sites:                           # seeded into an empty database
 *     - name: billing                # 1..64 of [A-Za-z0-9._-], unique
 *       url: https://billing.example.com/hooks
 *       content_type: application/json   # or application/x-www-form-urlencoded
 *       timeout: 5s                  # 0 or absent: delivery.timeout
 *       max_in_flight: 4             # requests at once, 1..256; absent: the default,
 *                                    # half of delivery.concurrency (at least 1)
 *       enabled: true
 *       headers:                     # extra static headers, name: value
 *         X-Source: hookdesk
 *         X-Tenant-Key:                # a secret value: masked wherever the site
 *           value: ${TENANT_KEY}       # or its attempts are shown, like auth secrets
 *           secret: true
 *       auth:
 *         kind: basic                # none basic bearer header hmac jwt oauth2 aws aws-s3
 *         user: alice                # basic
 *         password: ${BILLING_PW}    # basic  } exactly one of these, all
 *         token: ...                 # bearer } stored as the site's secret
 *         value: ...                 # header }
 *         secret: whsec_...          # hmac, jwt HS256 }
 *         header: X-Api-Key          # header: the header name
 *     - name: jwt-site               # auth kind jwt: a fresh token per attempt
 *       auth:
 *         kind: jwt
 *         alg: RS256                 # HS256 (default; `secret:`) or RS256
 *         key_file: /etc/hookdesk/jwt.pem   # RS256 PEM private key, or
 *         key_env: HOOKDESK_JWT_KEY         #   a variable holding the PEM
 *         claims: {iss: hookdesk, aud: billing}   # plus iat and exp
 *         lifetime: 5m               # exp - iat, 1s..24h
 *     - name: oauth-site             # auth kind oauth2: client credentials
 *       auth:
 *         kind: oauth2
 *         token_url: https://auth.example.com/oauth/token
 *         client_id: hookdesk
 *         client_secret: ${OAUTH_SECRET}
 *         scope: hooks:write         # optional
 *         audience: https://api.example.com   # optional
 *         client_auth: basic         # basic (default) or body
 *     - name: aws-site               # auth kind aws: SigV4 (signed by libcurl)
 *       auth:
 *         kind: aws
 *         access_key: AKIA...
 *         secret_key: ${AWS_SECRET}
 *         region: eu-west-1
 *         service: execute-api
 *         session_token: ${AWS_TOKEN}   # optional
 *     - name: archive                # auth kind aws-s3: PUT {url}/{bucket}/{object}
 *       url: https://s3.eu-west-1.amazonaws.com
 *       auth:
 *         kind: aws-s3
 *         access_key: AKIA...
 *         secret_key: ${AWS_SECRET}
 *         region: eu-west-1
 *         bucket: hooks-archive
 *         object_format: "{date}/{action}/{id}.json"   # {id} {action} {customer} {date}
 *
 * In the database: client_id / access_key are the site's auth_user,
 * client_secret / secret_key its auth_secret, and the other auth keys the
 * JSON object auth_extra (the table in hd_auth.h; durations in ms).
 * Every scalar value goes through ${VAR} expansion ("$${" writes a literal
 * "${"); an unset variable is an error.  `sites import` loads a file that
 * may come from elsewhere with CONFIG_ENV_REFUSE: a ${VAR} is then an error
 * (unless --expand-env), so a stranger's file cannot read the operator's
 * environment into URLs and headers.  Durations: 250ms 10s 5m 1h 90d 1w
 * 1h30m; sizes: 512 64KiB 1MiB 1MB.  Booleans: true/false, yes/no, on/off.
 *
 * DESIGN: the whole file is loaded as a libyaml document (it is small),
 * then walked.  The plain keys are a table (key_specs) of section, name,
 * type, range and where the value goes, so adding a key is one line.  Every
 * error is "FILE:LINE:COL: what" with libyaml's 0-based marks printed
 * 1-based, pointing at the key (unknown key) or the value (bad value); a
 * site refused by site_validate points at the field site_validate names.
 * On any error the config is reset to pure defaults.
 *
 * BOUNDS (the file may come from elsewhere: `sites import`): at most
 * CONFIG_MAX_BYTES, checked before parsing; a first pass over libyaml's
 * events refuses aliases ("*name": a 50 KB file of them stands for millions
 * of nodes, which the walk would visit one by one) and nesting deeper than
 * CONFIG_MAX_DEPTH (libyaml's scanner is quadratic in the depth).  Every
 * check on a mapping or list is O(n log n) at worst: duplicate keys and
 * site names are found by sorting, JWT claims are built in one JSON object.
 */
#include "hd_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include <jansson.h>
#include <yaml.h>

#include "hd_auth.h"
#include "hd_version.h"
#include "hd_duration.h"
#include "hd_util.h"

/* ---- defaults ---- */

void config_defaults(config *c)
{
    memset(c, 0, sizeof *c);
    c->database = hd_xstrdup("hookdesk.db");
    c->delivery.concurrency = 8;
    c->delivery.max_attempts = 5;
    c->delivery.retry_interval_ms = 10 * 1000;
    c->delivery.timeout_ms = 10 * 1000;
    c->delivery.max_response_body = 64 * 1024;
    c->delivery.lease_ms = 30 * 1000;
    c->delivery.poll_interval_ms = 100;
    c->delivery.synchronous_full = true;
    c->delivery.breaker.failures = BREAKER_DEFAULT_FAILURES;
    c->delivery.breaker.cooldown_ms = BREAKER_DEFAULT_COOLDOWN_MS;
    c->delivery.breaker.max_cooldown_ms = BREAKER_DEFAULT_MAX_COOLDOWN_MS;
    c->delivery.max_retry_after_ms = 3600LL * 1000;
    c->delivery.fault_timeout_ms = 2 * 60 * 1000;
    c->delivery.user_agent = hd_xstrdup("hookdesk/" HOOKDESK_VERSION);
    c->delivery.max_payload = CONFIG_DEFAULT_MAX_PAYLOAD;
    c->retention_ms = 90LL * 24 * 3600 * 1000;
    c->purge_interval_ms = 60 * 1000;
    c->purge_chunk = 500;
    c->allow_private = false;
}

void config_free(config *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->database);
    free(c->delivery.user_agent);
    for (int i = 0; i < c->nsites; i++)
        site_free(&c->sites[i]);
    free(c->sites);
    memset(c, 0, sizeof *c);
}

/* ---- lookup ---- */

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

char *config_find(const char *explicit_path)
{
    if (explicit_path && *explicit_path)
        return hd_xstrdup(explicit_path);
    /* Like -c, the variable names a file on purpose: return it even when
     * missing, so that loading reports it instead of silently ignoring it. */
    const char *env = getenv("HOOKDESK_CONFIG");
    if (env && *env)
        return hd_xstrdup(env);
    if (is_file("config/hookdesk.yaml"))
        return hd_xstrdup("config/hookdesk.yaml");
    char *path = NULL;
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        path = hd_xasprintf("%s/hookdesk/config.yaml", xdg);
    else if (home && *home)
        path = hd_xasprintf("%s/.config/hookdesk/config.yaml", home);
    if (path && is_file(path))
        return path;
    free(path);
    return NULL;
}

/* ---- ${VAR} expansion ---- */

static bool is_var_start(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
}

static bool is_var_char(char ch)
{
    return is_var_start(ch) || (ch >= '0' && ch <= '9');
}

hd_status config_expand_env(const char *in, char **out, hd_error *err)
{
    return config_expand_env_mode(in, CONFIG_ENV_EXPAND, out, err);
}

hd_status config_expand_env_mode(const char *in, config_env env, char **out, hd_error *err)
{
    hd_buf b = { 0 };
    const char *p = in ? in : "";
    while (*p) {
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            hd_buf_puts(&b, "${");
            p += 3;
            continue;
        }
        if (p[0] != '$' || p[1] != '{') {
            hd_buf_putc(&b, *p++);
            continue;
        }
        const char *name = p + 2;
        const char *end = name;
        while (is_var_char(*end))
            end++;
        if (*end != '}' || end == name || !is_var_start(*name)) {
            hd_buf_free(&b);
            const char *close = strchr(name, '}');
            if (!close)
                return hd_error_set(err, HD_CONFIG, "'${' without a closing '}'");
            return hd_error_set(err, HD_CONFIG, "'${%.*s}' is not a valid variable name",
                                (int)(close - name), name);
        }
        char *var = hd_xstrndup(name, (size_t)(end - name));
        if (env == CONFIG_ENV_REFUSE) {
            /* A file from elsewhere must not read the operator's
             * environment into URLs and headers. */
            hd_buf_free(&b);
            hd_error_set(err, HD_CONFIG,
                         "'${%s}' would read the environment variable %s: pass --expand-env "
                         "to allow it (or write '$${' for a literal '${')", var, var);
            free(var);
            return HD_CONFIG;
        }
        const char *val = getenv(var);
        if (!val) {
            hd_buf_free(&b);
            hd_error_set(err, HD_CONFIG, "environment variable '%s' is not set", var);
            free(var);
            return HD_CONFIG;
        }
        free(var);
        hd_buf_puts(&b, val);
        p = end + 1;
    }
    *out = hd_buf_steal(&b);
    return HD_OK;
}

/* ---- the walk ---- */

/* Most plain keys there may be (key_specs below checks it). */
#define MAX_KEY_SPECS 32

typedef struct loader {
    const char *name;      /* file name for messages */
    yaml_document_t *doc;
    config *c;
    hd_error *err;
    config_env env;        /* ${VAR}: expanded, or refused (sites import) */
    const yaml_node_t *set_at[MAX_KEY_SPECS];   /* key_specs[i]'s value node, when given */
} loader;

__attribute__((format(printf, 3, 4)))
static hd_status fail_at(loader *L, const yaml_node_t *n, const char *fmt, ...)
{
    char what[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return hd_error_set(L->err, HD_CONFIG, "%s:%zu:%zu: %s", L->name,
                        n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1, what);
}

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    default: return "a value";
    }
}

/* "key:" with nothing after it, or an explicit null: an empty section. */
static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
           strcmp(v, "NULL") == 0;
}

/* The expanded text of a scalar value; `what` names the key for messages. */
static hd_status scalar_value(loader *L, const yaml_node_t *n, const char *what, char **out)
{
    if (n->type != YAML_SCALAR_NODE)
        return fail_at(L, n, "%s: expected a single value, got %s", what, node_kind(n));
    hd_error e;
    if (config_expand_env_mode((const char *)n->data.scalar.value, L->env, out, &e) != HD_OK)
        return fail_at(L, n, "%s: %s", what, e.msg);
    return HD_OK;
}

static bool parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = { "true", "yes", "on" };
    static const char *const no[] = { "false", "no", "off" };
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static bool parse_int(const char *v, long long *out)
{
    if (!*v)
        return false;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || *end)
        return false;
    *out = n;
    return true;
}

#define KEY(n) ((const char *)(n)->data.scalar.value)

/* A name and where it was: for finding duplicates by sorting. */
typedef struct named {
    const char *name;
    int index;
} named;

static int named_cmp(const void *a, const void *b)
{
    const named *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* The first name (by index) that an earlier one repeats, in O(n log n):
 * returns its index and sets *first to the earlier one's, or -1 when all
 * differ.  Sorts v. */
static int first_duplicate(named *v, int n, int *first)
{
    qsort(v, (size_t)n, sizeof *v, named_cmp);
    int best = -1;
    for (int i = 1; i < n; i++) {
        /* v[i-1] starts a run of equal names when it differs from v[i-2]:
         * within a run the second entry is the earliest repeat. */
        if (strcmp(v[i - 1].name, v[i].name) != 0 ||
            (i >= 2 && strcmp(v[i - 2].name, v[i - 1].name) == 0))
            continue;
        if (best < 0 || v[i].index < best) {
            best = v[i].index;
            *first = v[i - 1].index;
        }
    }
    return best;
}

/* Checks that every key is a plain name and none appears twice (libyaml
 * keeps both).  Reports whichever comes first in the file, as a check line
 * by line would. */
static hd_status check_duplicates(loader *L, const yaml_node_t *map, const char *where)
{
    const yaml_node_pair_t *pairs = map->data.mapping.pairs.start;
    int n = (int)(map->data.mapping.pairs.top - pairs);
    int not_plain = -1;
    for (int i = 0; i < n && not_plain < 0; i++) {
        const yaml_node_t *k = yaml_document_get_node(L->doc, pairs[i].key);
        if (!k || k->type != YAML_SCALAR_NODE)
            not_plain = i;
    }
    int dup = -1, first = -1;
    if (n > 1) {
        int m = not_plain < 0 ? n : not_plain;   /* the keys before it are plain */
        named *v = hd_xcalloc((size_t)n, sizeof *v);
        for (int i = 0; i < m; i++) {
            v[i].name = KEY(yaml_document_get_node(L->doc, pairs[i].key));
            v[i].index = i;
        }
        dup = first_duplicate(v, m, &first);
        free(v);
    }
    if (dup >= 0) {
        const yaml_node_t *ka = yaml_document_get_node(L->doc, pairs[dup].key);
        const yaml_node_t *kb = yaml_document_get_node(L->doc, pairs[first].key);
        return fail_at(L, ka, "duplicate key '%s'%s%s (first at line %zu)", KEY(ka),
                       *where ? " in " : "", where, kb->start_mark.line + 1);
    }
    if (not_plain >= 0) {
        const yaml_node_t *k = yaml_document_get_node(L->doc, pairs[not_plain].key);
        return fail_at(L, k ? k : map, "keys must be plain names%s%s", *where ? " in " : "",
                       where);
    }
    return HD_OK;
}

/* Fetches a mapping, or NULL for an empty section; errors for other types. */
static hd_status get_mapping(loader *L, yaml_node_t *n, const char *what, yaml_node_t **out)
{
    *out = NULL;
    if (is_null(n))
        return HD_OK;
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(L, n, "%s: expected a mapping (key: value lines), got %s", what,
                       node_kind(n));
    *out = n;
    return check_duplicates(L, n, what);
}

/* ---- plain keys, as data ---- */

typedef enum value_type {
    V_STRING,    /* char * */
    V_INT,       /* int, within [min, max] */
    V_DURATION,  /* int64_t ms, within [min, max] */
    V_SIZE,      /* uint64_t bytes, within [min, max] */
    V_BOOL,      /* bool */
    V_SYNC,      /* bool synchronous_full from full|normal */
    V_PROXY      /* char[HD_PROXY_MAX]: a proxy URL (check_proxy) */
} value_type;

typedef struct key_spec {
    const char *section;   /* "" for the top level; "a.b" for the sub-mapping b of a */
    const char *key;
    value_type type;
    size_t offset;         /* where in struct config */
    long long min, max;    /* inclusive range for numbers (ms for durations) */
} key_spec;

#define MS_HOUR (3600LL * 1000)
#define MS_DAY (24 * MS_HOUR)
#define CFG(field) offsetof(config, field)

static const key_spec key_specs[] = {
    { "", "database", V_STRING, CFG(database), 0, 0 },
    { "", "retention", V_DURATION, CFG(retention_ms), 1, 100 * 365 * MS_DAY },
    { "delivery", "concurrency", V_INT, CFG(delivery.concurrency), 1, 256 },
    { "delivery", "max_attempts", V_INT, CFG(delivery.max_attempts), 1, 100 },
    { "delivery", "retry_interval", V_DURATION, CFG(delivery.retry_interval_ms), 0, 30 * MS_DAY },
    { "delivery", "timeout", V_DURATION, CFG(delivery.timeout_ms), 1, 10 * 60 * 1000 },
    { "delivery", "max_response_body", V_SIZE, CFG(delivery.max_response_body), 0, 1LL << 30 },
    { "delivery", "lease", V_DURATION, CFG(delivery.lease_ms), 1, MS_DAY },
    { "delivery", "poll_interval", V_DURATION, CFG(delivery.poll_interval_ms), 1, MS_HOUR },
    { "delivery", "synchronous", V_SYNC, CFG(delivery.synchronous_full), 0, 0 },
    { "delivery", "user_agent", V_STRING, CFG(delivery.user_agent), 0, 0 },
    { "delivery", "max_retry_after", V_DURATION, CFG(delivery.max_retry_after_ms), 1, 30 * MS_DAY },
    { "delivery", "fault_timeout", V_DURATION, CFG(delivery.fault_timeout_ms), 0, MS_DAY },
    { "delivery", "max_payload", V_SIZE, CFG(delivery.max_payload), CONFIG_MAX_PAYLOAD_MIN,
      CONFIG_MAX_PAYLOAD_MAX },
    { "delivery.breaker", "failures", V_INT, CFG(delivery.breaker.failures), 0, 1000 },
    { "delivery.breaker", "cooldown", V_DURATION, CFG(delivery.breaker.cooldown_ms), 1, MS_DAY },
    { "delivery.breaker", "max_cooldown", V_DURATION, CFG(delivery.breaker.max_cooldown_ms), 1,
      MS_DAY },
    { "purge", "interval", V_DURATION, CFG(purge_interval_ms), 1, MS_DAY },
    { "purge", "chunk", V_INT, CFG(purge_chunk), 1, 1000000 },
    { "network", "allow_private", V_BOOL, CFG(allow_private), 0, 0 },
    { "network", "proxy", V_PROXY, CFG(delivery.proxy), 0, 0 },
};
#define NKEY_SPECS (sizeof key_specs / sizeof key_specs[0])
_Static_assert(NKEY_SPECS <= MAX_KEY_SPECS, "raise MAX_KEY_SPECS");

static void range_text(const key_spec *k, char *out, size_t outlen)
{
    if (k->type == V_DURATION) {
        char a[32], b[32];
        duration_format(k->min, a, sizeof a);
        duration_format(k->max, b, sizeof b);
        snprintf(out, outlen, "%s..%s", a, b);
    } else if (k->type == V_SIZE) {
        char a[32], b[32];
        size_format((uint64_t)k->min, a, sizeof a);
        size_format((uint64_t)k->max, b, sizeof b);
        snprintf(out, outlen, "%s..%s", a, b);
    } else {
        snprintf(out, outlen, "%lld..%lld", k->min, k->max);
    }
}

/* network.proxy: scheme://[user:password@]host[:port][/]; NULL when fine,
 * else why.  The value itself is never quoted back (it may hold a password). */
static const char *check_proxy(const char *v)
{
    static const char *const schemes[] = { "http", "https", "socks4", "socks4a", "socks5",
                                           "socks5h" };
    if (strlen(v) >= HD_PROXY_MAX)
        return "is too long (at most 511 characters)";
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return "contains a space or control character (percent-encode it)";
    if (!strstr(v, "://"))
        return "must start with http://, https://, socks4://, socks4a://, socks5:// or "
               "socks5h://";
    CURLU *u = curl_url();
    if (!u)
        return "cannot allocate a URL parser";
    const char *why = NULL;
    char *part = NULL;
    if (curl_url_set(u, CURLUPART_URL, v, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
        why = "is not a URL (e.g. http://proxy.example:3128)";
        goto out;
    }
    bool known = false;
    if (curl_url_get(u, CURLUPART_SCHEME, &part, 0) == CURLUE_OK && part)
        for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
            known = known || strcasecmp(part, schemes[i]) == 0;
    curl_free(part);
    part = NULL;
    if (!known) {
        why = "must start with http://, https://, socks4://, socks4a://, socks5:// or "
              "socks5h://";
        goto out;
    }
    if (curl_url_get(u, CURLUPART_HOST, &part, 0) != CURLUE_OK || !part || !*part) {
        why = "a host name is required";
        goto out;
    }
    curl_free(part);
    part = NULL;
    bool path = curl_url_get(u, CURLUPART_PATH, &part, 0) == CURLUE_OK && part && *part &&
                strcmp(part, "/") != 0;
    curl_free(part);
    part = NULL;
    bool query = curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK;
    curl_free(part);
    part = NULL;
    bool fragment = curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK;
    if (path || query || fragment)
        why = "a proxy URL has no path, query or fragment";
out:
    curl_free(part);
    curl_url_cleanup(u);
    return why;
}

/* A number key (V_INT, V_DURATION, V_SIZE): the text read as the key's
 * type and checked against its range, into field (int, int64_t, uint64_t). */
static hd_status set_number(loader *L, const key_spec *k, yaml_node_t *vn, const char *what,
                            const char *v, void *field)
{
    char range[80];
    range_text(k, range, sizeof range);
    const char *why = NULL;
    switch (k->type) {
    case V_INT: {
        long long n;
        if (!parse_int(v, &n))
            return fail_at(L, vn, "%s: expected a whole number, got '%s'", what, v);
        if (n < k->min || n > k->max)
            return fail_at(L, vn, "%s: %lld is out of range (%s)", what, n, range);
        *(int *)field = (int)n;
        return HD_OK;
    }
    case V_DURATION: {
        int64_t ms;
        if (!duration_parse(v, &ms, &why))
            return fail_at(L, vn, "%s: '%s' is not a duration (e.g. 10s, 5m, 90d): %s", what, v,
                           why);
        if (ms < k->min || ms > k->max)
            return fail_at(L, vn, "%s: %s is out of range (%s)", what, v, range);
        *(int64_t *)field = ms;
        return HD_OK;
    }
    default: {
        uint64_t bytes;
        if (!size_parse(v, &bytes, &why))
            return fail_at(L, vn, "%s: '%s' is not a size (e.g. 64KiB): %s", what, v, why);
        if (bytes < (uint64_t)k->min || bytes > (uint64_t)k->max)
            return fail_at(L, vn, "%s: %s is out of range (%s)", what, v, range);
        *(uint64_t *)field = bytes;
        return HD_OK;
    }
    }
}

static hd_status set_key(loader *L, const key_spec *k, yaml_node_t *vn)
{
    L->set_at[k - key_specs] = vn;
    char what[96];
    if (*k->section)
        snprintf(what, sizeof what, "%s.%s", k->section, k->key);
    else
        snprintf(what, sizeof what, "%s", k->key);
    char *v;
    hd_status rc = scalar_value(L, vn, what, &v);
    if (rc != HD_OK)
        return rc;
    char *field = (char *)L->c + k->offset;
    rc = HD_OK;
    switch (k->type) {
    case V_STRING: {
        bool bad = !*v;
        for (const unsigned char *p = (const unsigned char *)v; *p; p++)
            if (*p < 0x20 || *p == 0x7f)
                bad = true;
        if (bad) {
            rc = fail_at(L, vn, "%s: must be a non-empty text without control characters", what);
            break;
        }
        char **slot = (char **)(void *)field;
        free(*slot);
        *slot = v;
        v = NULL;
        break;
    }
    case V_INT:
    case V_DURATION:
    case V_SIZE:
        rc = set_number(L, k, vn, what, v, field);
        break;
    case V_BOOL: {
        bool b;
        if (!parse_bool(v, &b))
            rc = fail_at(L, vn, "%s: expected true or false, got '%s'", what, v);
        else
            *(bool *)(void *)field = b;
        break;
    }
    case V_PROXY: {
        const char *bad = *v ? check_proxy(v) : NULL;
        if (bad)
            rc = fail_at(L, vn, "%s: %s", what, bad);
        else
            snprintf(field, HD_PROXY_MAX, "%s", v);   /* "" = none */
        explicit_bzero(v, strlen(v));   /* may hold the proxy's password */
        break;
    }
    case V_SYNC:
        if (strcasecmp(v, "full") == 0)
            *(bool *)(void *)field = true;
        else if (strcasecmp(v, "normal") == 0)
            *(bool *)(void *)field = false;
        else
            rc = fail_at(L, vn, "%s: expected full or normal, got '%s'", what, v);
        break;
    }
    free(v);
    return rc;
}

static const key_spec *find_spec(const char *section, const char *key)
{
    for (size_t i = 0; i < NKEY_SPECS; i++)
        if (strcmp(key_specs[i].section, section) == 0 && strcmp(key_specs[i].key, key) == 0)
            return &key_specs[i];
    return NULL;
}

/* Where the file set a plain key, NULL when it did not. */
static const yaml_node_t *given_at(const loader *L, const char *section, const char *key)
{
    const key_spec *k = find_spec(section, key);
    return k ? L->set_at[k - key_specs] : NULL;
}

/* A section ("delivery") or sub-section ("delivery.breaker") of key_specs. */
static bool is_section(const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; n && i < NKEY_SPECS; i++) {
        const char *sec = key_specs[i].section;
        if (strncmp(sec, name, n) == 0 && (sec[n] == '\0' || sec[n] == '.'))
            return true;
    }
    return false;
}

static hd_status load_section(loader *L, const char *section, yaml_node_t *node)
{
    yaml_node_t *map;
    hd_status rc = get_mapping(L, node, section, &map);
    if (rc != HD_OK || !map)
        return rc;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(L->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(L->doc, p->value);
        const key_spec *spec = find_spec(section, KEY(k));
        char sub[96];
        snprintf(sub, sizeof sub, "%s.%s", section, KEY(k));
        if (spec)
            rc = set_key(L, spec, v);
        else if (!strchr(KEY(k), '.') && is_section(sub))
            rc = load_section(L, sub, v);
        else
            rc = fail_at(L, k, "unknown key '%s' in %s", KEY(k), section);
        if (rc != HD_OK)
            return rc;
    }
    return HD_OK;
}

/* Rules between keys, once the whole file is read. */
static hd_status check_breaker(loader *L)
{
    const breaker_policy *b = &L->c->delivery.breaker;
    if (b->max_cooldown_ms >= b->cooldown_ms)
        return HD_OK;
    char cool[32], max[32];
    duration_format(b->cooldown_ms, cool, sizeof cool);
    duration_format(b->max_cooldown_ms, max, sizeof max);
    const yaml_node_t *max_at = given_at(L, "delivery.breaker", "max_cooldown");
    if (max_at)
        return fail_at(L, max_at,
                       "delivery.breaker.max_cooldown: %s is less than delivery.breaker.cooldown "
                       "(%s); it must be at least the cool-down", max, cool);
    return fail_at(L, given_at(L, "delivery.breaker", "cooldown"),
                   "delivery.breaker.cooldown: %s is more than delivery.breaker.max_cooldown "
                   "(%s, the default); raise max_cooldown too", cool, max);
}

/* ---- sites ---- */

/* Where each site field came from, to point site_validate's complaint at it. */
typedef struct site_marks {
    const yaml_node_t *map, *name, *url, *content_type, *timeout, *enabled, *headers;
    const yaml_node_t *max_in_flight;
    const yaml_node_t *auth, *kind, *user, *secret, *header;
    const yaml_node_t *extra[64];   /* auth_fields[i]'s value node */
} site_marks;

/* The node of the field an error is about (err->field), else the auth
 * block for an auth field given nowhere, else the site. */
static const yaml_node_t *mark_for_field(const site_marks *m, const hd_error *e)
{
    static const struct {
        const char *field;
        size_t offset;
    } fields[] = {
        { "name", offsetof(site_marks, name) },
        { "url", offsetof(site_marks, url) },
        { "content_type", offsetof(site_marks, content_type) },
        { "timeout", offsetof(site_marks, timeout) },
        { "max_in_flight", offsetof(site_marks, max_in_flight) },
        { "headers", offsetof(site_marks, headers) },
        { "auth", offsetof(site_marks, kind) },
        { "auth_user", offsetof(site_marks, user) },
        { "auth_secret", offsetof(site_marks, secret) },
        { "auth_header", offsetof(site_marks, header) },
    };
    const yaml_node_t *n = NULL;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0] && !n; i++)
        if (strcmp(e->field, fields[i].field) == 0)
            n = *(const yaml_node_t *const *)(const void *)((const char *)m + fields[i].offset);
    const auth_field *f = strncmp(e->field, "auth.", 5) == 0 ? auth_field_find(e->field + 5) : NULL;
    if (!n && f && f - auth_fields < 64)
        n = m->extra[f - auth_fields];
    if (!n && strncmp(e->field, "auth", 4) == 0)
        n = m->auth;
    return n ? n : m->map;
}

/* auth.claims into s->auth_extra's "claims" object, built in one piece
 * (auth_extra_set_claim per claim re-parses and re-writes the whole text:
 * quadratic, minutes for 20k claims). */
static hd_status load_claims(loader *L, yaml_node_t *v, const char *kw, site *s)
{
    yaml_node_t *map;
    hd_status rc;
    if ((rc = get_mapping(L, v, kw, &map)) != HD_OK || !map)
        return rc;
    json_t *claims = json_object();
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *ck = yaml_document_get_node(L->doc, p->key);
        yaml_node_t *cv = yaml_document_get_node(L->doc, p->value);
        char ckw[192];
        snprintf(ckw, sizeof ckw, "%s.%s", kw, KEY(ck));
        char *val = NULL;
        if ((rc = scalar_value(L, cv, ckw, &val)) != HD_OK) {
            json_decref(claims);
            return rc;
        }
        json_object_set_new(claims, KEY(ck), json_string(val));
        free(val);
    }
    json_t *o = s->auth_extra && *s->auth_extra ? json_loads(s->auth_extra, 0, NULL) : NULL;
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    if (json_object_size(claims) > 0)
        json_object_set_new(o, "claims", claims);
    else
        json_decref(claims);
    free(s->auth_extra);
    s->auth_extra = NULL;
    if (json_object_size(o) > 0) {
        char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        s->auth_extra = hd_xstrdup(text);
        free(text);
    }
    json_decref(o);
    return HD_OK;
}

/* A kind-specific setting (an AS_EXTRA field of hd_auth.h) into s->auth_extra. */
static hd_status load_auth_extra(loader *L, yaml_node_t *v, const char *kw,
                                 const auth_field *spec, site *s, site_marks *m)
{
    if (spec - auth_fields < 64)
        m->extra[spec - auth_fields] = v;
    hd_status rc;
    char *val = NULL;
    if (spec->type == AX_MAP)
        return load_claims(L, v, kw, s);
    if ((rc = scalar_value(L, v, kw, &val)) != HD_OK)
        return rc;
    if (spec->type == AX_DURATION) {
        int64_t ms = 0;
        const char *why = NULL;
        if (!duration_parse(val, &ms, &why)) {
            rc = fail_at(L, v, "%s: '%s' is not a duration (e.g. 5m): %s", kw, val, why);
            free(val);
            return rc;
        }
        auth_extra_set_ms(&s->auth_extra, spec->name, ms);
    } else {
        auth_extra_set(&s->auth_extra, spec->name, val);
    }
    free(val);
    return HD_OK;
}

/* "user, client_id, access_key": the YAML keys of one slot, each once. */
static void slot_keys(auth_slot slot, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < auth_nfields && at < len; i++) {
        const auth_field *f = &auth_fields[i];
        bool seen = false;
        for (int k = 0; k < i && !seen; k++)
            seen = auth_fields[k].slot == slot && strcmp(auth_fields[k].name, f->name) == 0;
        if (f->slot == slot && !seen)
            at += (size_t)snprintf(buf + at, len - at, "%s%s", at ? ", " : "", f->name);
    }
}

/* The YAML key of a user, secret or header field (any kind's: the key
 * names the slot, the kind says what it means), or NULL. */
static const auth_field *slot_field(const char *key)
{
    for (int i = 0; i < auth_nfields; i++)
        if (auth_fields[i].slot != AS_EXTRA && strcmp(auth_fields[i].name, key) == 0)
            return &auth_fields[i];
    return NULL;
}

static hd_status load_auth_kind(loader *L, yaml_node_t *v, const char *kw, site *s,
                                site_marks *m)
{
    char *val = NULL;
    hd_status rc = scalar_value(L, v, kw, &val);
    if (rc != HD_OK)
        return rc;
    if (!auth_kind_parse(val, &s->auth)) {
        char kinds[160];
        auth_kind_list(kinds, sizeof kinds, ", ");
        rc = fail_at(L, v, "%s: unknown kind '%s' (%s)", kw, val, kinds);
    }
    free(val);
    m->kind = v;
    return rc;
}

/* user / client_id / access_key, password / token / ..., header. */
static hd_status load_auth_slot(loader *L, yaml_node_t *k, yaml_node_t *v, const char *kw,
                                const char *what, const auth_field *f, site *s, site_marks *m)
{
    const yaml_node_t **mark = f->slot == AS_USER     ? &m->user
                               : f->slot == AS_SECRET ? &m->secret
                                                      : &m->header;
    char **dst = f->slot == AS_USER     ? &s->auth_user
                 : f->slot == AS_SECRET ? &s->auth_secret
                                        : &s->auth_header;
    if (*mark && f->slot != AS_HEADER) {
        char keys[160];
        slot_keys(f->slot, keys, sizeof keys);
        return fail_at(L, k, "%s: give only one of %s", what, keys);
    }
    char *val = NULL;
    hd_status rc = scalar_value(L, v, kw, &val);
    if (rc != HD_OK)
        return rc;
    free(*dst);
    *dst = val;
    *mark = v;
    return HD_OK;
}

static hd_status load_auth(loader *L, yaml_node_t *node, const char *where, site *s,
                           site_marks *m)
{
    yaml_node_t *map;
    char what[128];
    snprintf(what, sizeof what, "%s.auth", where);
    hd_status rc = get_mapping(L, node, what, &map);
    if (rc != HD_OK || !map)
        return rc;
    m->auth = map;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(L->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(L->doc, p->value);
        const char *key = KEY(k);
        char kw[160];
        snprintf(kw, sizeof kw, "%s.%s", what, key);
        const auth_field *f;
        if (strcmp(key, "kind") == 0)
            rc = load_auth_kind(L, v, kw, s, m);
        else if ((f = slot_field(key)) != NULL)
            rc = load_auth_slot(L, k, v, kw, what, f, s, m);
        else if ((f = auth_field_find(key)) != NULL)
            rc = load_auth_extra(L, v, kw, f, s, m);
        else
            rc = fail_at(L, k, "unknown key '%s' in %s", key, what);
        if (rc != HD_OK)
            return rc;
    }
    return HD_OK;
}

/* One header written as a mapping: {value: V, secret: true|false}.  A
 * secret one is masked wherever it shows, whatever its name. */
static hd_status load_secret_header(loader *L, yaml_node_t *map, const char *kw,
                                    const char *name, site *s)
{
    hd_status rc = check_duplicates(L, map, kw);
    if (rc != HD_OK)
        return rc;
    char *value = NULL;
    bool secret = false, have_value = false;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(L->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(L->doc, p->value);
        char sub[224];
        snprintf(sub, sizeof sub, "%s.%s", kw, KEY(k));
        char *text = NULL;
        if (strcmp(KEY(k), "value") == 0) {
            if ((rc = scalar_value(L, v, sub, &text)) != HD_OK)
                break;
            free(value);
            value = text;
            have_value = true;
        } else if (strcmp(KEY(k), "secret") == 0) {
            if ((rc = scalar_value(L, v, sub, &text)) != HD_OK)
                break;
            bool ok = parse_bool(text, &secret);
            free(text);
            if (!ok) {
                rc = fail_at(L, v, "%s: expected true or false", sub);
                break;
            }
        } else {
            rc = fail_at(L, k, "unknown key '%s' in %s (a header is 'Name: value' or "
                               "'Name: {value: V, secret: true}')", KEY(k), kw);
            break;
        }
    }
    if (rc == HD_OK && !have_value)
        rc = fail_at(L, map, "%s: 'value' is required ('Name: {value: V, secret: true}')", kw);
    if (rc == HD_OK)
        site_add_header_secret(s, name, value, secret);
    if (value)
        explicit_bzero(value, strlen(value));
    free(value);
    return rc;
}

static hd_status load_headers(loader *L, yaml_node_t *node, const char *where, site *s)
{
    yaml_node_t *map;
    char what[128];
    snprintf(what, sizeof what, "%s.headers", where);
    hd_status rc = get_mapping(L, node, what, &map);
    if (rc != HD_OK || !map)
        return rc;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(L->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(L->doc, p->value);
        char kw[192];
        snprintf(kw, sizeof kw, "%s.%s", what, KEY(k));
        char *val;
        if (v->type == YAML_MAPPING_NODE) {
            rc = load_secret_header(L, v, kw, KEY(k), s);
        } else if ((rc = scalar_value(L, v, kw, &val)) == HD_OK) {
            site_add_header(s, KEY(k), val);
            free(val);
        }
        if (rc != HD_OK)
            return rc;
    }
    return HD_OK;
}

/* site_validate, except that a masked secret ("********", what `sites
 * export` writes without --show-secrets) stands for "keep the stored one":
 * it is checked as if a well-formed secret were there, and the store, which
 * validates again on every write, sees the real one.  `sites import`
 * depends on this to round-trip an export.  Loading is where a config's
 * sites are saved (seeded, imported), so the keys are probed here too. */
static hd_status validate_site(const site *s, hd_error *err)
{
    char *extra = NULL;
    bool masked_extra = s->auth_extra && strstr(s->auth_extra, "\"********\"");
    bool masked = s->auth_secret && strcmp(s->auth_secret, site_mask("x")) == 0;
    if (!masked && !masked_extra) {
        hd_status rc = site_validate(s, err);
        return rc == HD_OK ? site_probe_keys(s, err) : rc;
    }
    site probe = *s;
    char *stand_in = hd_xstrdup(auth_kinds[s->auth].stand_in);
    if (masked)
        probe.auth_secret = stand_in;
    if (masked_extra) {
        /* A masked secret setting (a session token): a stand-in for each. */
        json_t *stand_ins = json_object();
        for (int i = 0; i < auth_nfields; i++)
            if (auth_fields[i].slot == AS_EXTRA && auth_fields[i].secret)
                json_object_set_new(stand_ins, auth_fields[i].name, json_string("masked"));
        char *old = json_dumps(stand_ins, JSON_COMPACT);
        json_decref(stand_ins);
        extra = hd_xstrdup(s->auth_extra);
        auth_extra_unmask(&extra, old);
        free(old);
        probe.auth_extra = extra;
    }
    hd_status rc = site_validate(&probe, err);
    if (rc == HD_OK)
        rc = site_probe_keys(&probe, err);
    free(stand_in);
    free(extra);
    return rc;
}

/* sites[i].max_in_flight: 1..SITE_MAX_IN_FLIGHT.  0 is what the store
 * keeps for "the default", but in the file the default is saying nothing. */
static hd_status load_max_in_flight(loader *L, const yaml_node_t *v, const char *kw,
                                    const char *val, site *s)
{
    long long n;
    if (!parse_int(val, &n))
        return fail_at(L, v, "%s: expected a whole number, got '%s'", kw, val);
    if (n < 1 || n > SITE_MAX_IN_FLIGHT)
        return fail_at(L, v,
                       "%s: %lld is out of range (1..%d; leave it out for the default, half of "
                       "delivery.concurrency)", kw, n, SITE_MAX_IN_FLIGHT);
    s->max_in_flight = (int)n;
    return HD_OK;
}

/* One plain field of a site (name, url, content_type, timeout,
 * max_in_flight, enabled); val is taken over. */
static hd_status load_site_scalar(loader *L, const char *key, yaml_node_t *v, const char *kw,
                                  char *val, site *s, site_marks *m)
{
    hd_status rc = HD_OK;
    const char *why = NULL;
    if (strcmp(key, "name") == 0) {
        free(s->name);
        s->name = val;
        val = NULL;
        m->name = v;
    } else if (strcmp(key, "url") == 0) {
        free(s->url);
        s->url = val;
        val = NULL;
        m->url = v;
    } else if (strcmp(key, "content_type") == 0) {
        m->content_type = v;
        if (!content_type_parse(val, &s->ctype))
            rc = fail_at(L, v,
                         "%s: expected application/json or "
                         "application/x-www-form-urlencoded, got '%s'", kw, val);
    } else if (strcmp(key, "timeout") == 0) {
        if (!duration_parse(val, &s->timeout_ms, &why))
            rc = fail_at(L, v, "%s: '%s' is not a duration (e.g. 5s): %s", kw, val, why);
        m->timeout = v;
    } else if (strcmp(key, "max_in_flight") == 0) {
        m->max_in_flight = v;
        rc = load_max_in_flight(L, v, kw, val, s);
    } else {
        m->enabled = v;
        if (!parse_bool(val, &s->enabled))
            rc = fail_at(L, v, "%s: expected true or false, got '%s'", kw, val);
    }
    free(val);
    return rc;
}

static bool is_site_scalar(const char *key)
{
    static const char *const keys[] = { "name", "url", "content_type", "timeout",
                                        "max_in_flight", "enabled" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(key, keys[i]) == 0)
            return true;
    return false;
}

static hd_status load_site(loader *L, yaml_node_t *node, int index, site *s)
{
    char where[32];
    snprintf(where, sizeof where, "sites[%d]", index);
    if (node->type != YAML_MAPPING_NODE)
        return fail_at(L, node, "%s: expected a mapping (name, url, auth...), got %s", where,
                       node_kind(node));
    hd_status rc = check_duplicates(L, node, where);
    if (rc != HD_OK)
        return rc;
    site_marks m = { .map = node };
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(L->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(L->doc, p->value);
        const char *key = KEY(k);
        char kw[96];
        snprintf(kw, sizeof kw, "%s.%s", where, key);
        char *val = NULL;
        if (strcmp(key, "headers") == 0) {
            m.headers = v;
            rc = load_headers(L, v, where, s);
        } else if (strcmp(key, "auth") == 0) {
            rc = load_auth(L, v, where, s, &m);
        } else if (!is_site_scalar(key)) {
            rc = fail_at(L, k, "unknown key '%s' in %s", key, where);
        } else if ((rc = scalar_value(L, v, kw, &val)) == HD_OK) {
            rc = load_site_scalar(L, key, v, kw, val, s, &m);
        }
        if (rc != HD_OK)
            return rc;
    }
    hd_error e = { 0 };
    if (validate_site(s, &e) != HD_OK) {
        const yaml_node_t *at = mark_for_field(&m, &e);
        if (s->name && *s->name && strcmp(e.field, "name") != 0)
            return fail_at(L, at, "site '%s': %s", s->name, e.msg);
        return fail_at(L, at, "%s: %s", where, e.msg);
    }
    return HD_OK;
}

static hd_status load_sites(loader *L, yaml_node_t *node)
{
    if (is_null(node))
        return HD_OK;
    if (node->type != YAML_SEQUENCE_NODE)
        return fail_at(L, node, "sites: expected a list of sites ('- name: ...'), got %s",
                       node_kind(node));
    config *c = L->c;
    int n = (int)(node->data.sequence.items.top - node->data.sequence.items.start);
    if (n == 0)
        return HD_OK;
    c->sites = hd_xcalloc((size_t)n, sizeof *c->sites);
    hd_status rc = HD_OK;
    for (int i = 0; i < n && rc == HD_OK; i++) {
        yaml_node_t *item = yaml_document_get_node(L->doc, node->data.sequence.items.start[i]);
        site *s = &c->sites[i];
        site_init(s);
        c->nsites = i + 1;   /* counted before loading so a failure still frees it */
        rc = load_site(L, item, i, s);
    }
    if (rc != HD_OK)
        return rc;
    /* Names are unique: by sorting, once every site is loaded. */
    named *v = hd_xcalloc((size_t)n, sizeof *v);
    for (int i = 0; i < n; i++) {
        v[i].name = c->sites[i].name;
        v[i].index = i;
    }
    int first = -1;
    int dup = first_duplicate(v, n, &first);
    free(v);
    if (dup >= 0) {
        const yaml_node_t *at = yaml_document_get_node(L->doc, node->data.sequence.items.start[dup]);
        const yaml_node_t *was =
            yaml_document_get_node(L->doc, node->data.sequence.items.start[first]);
        return fail_at(L, at, "sites[%d]: duplicate site name '%s' (first at line %zu)", dup,
                       c->sites[dup].name, was->start_mark.line + 1);
    }
    return HD_OK;
}

static hd_status load_root(loader *L, yaml_node_t *root)
{
    yaml_node_t *map;
    hd_status rc = get_mapping(L, root, "the top level", &map);
    if (rc != HD_OK || !map)
        return rc;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(L->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(L->doc, p->value);
        const char *key = KEY(k);
        const key_spec *spec;
        if (strcmp(key, "sites") == 0)
            rc = load_sites(L, v);
        else if (!strchr(key, '.') && is_section(key))
            rc = load_section(L, key, v);
        else if ((spec = find_spec("", key)) != NULL)
            rc = set_key(L, spec, v);
        else
            rc = fail_at(L, k, "unknown key '%s'", key);
        if (rc != HD_OK)
            return rc;
    }
    return check_breaker(L);
}

/* The first pass (DESIGN, BOUNDS): aliases and deep nesting are refused
 * from libyaml's events, before a document is built.  A syntax error is
 * left to yaml_parser_load, which reports it. */
static hd_status check_events(const char *yaml, size_t len, const char *name, hd_error *err)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return hd_error_set(err, HD_NOMEM, "%s: cannot start the YAML parser", name);
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
    hd_status rc = HD_OK;
    int depth = 0;
    for (bool done = false; !done && rc == HD_OK;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev))
            break;
        const yaml_mark_t *mk = &ev.start_mark;
        switch (ev.type) {
        case YAML_ALIAS_EVENT:
            rc = hd_error_set(err, HD_CONFIG,
                              "%s:%zu:%zu: aliases are not supported (*%.64s): write the value "
                              "out", name, mk->line + 1, mk->column + 1,
                              (const char *)ev.data.alias.anchor);
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++depth > CONFIG_MAX_DEPTH)
                rc = hd_error_set(err, HD_CONFIG,
                                  "%s:%zu:%zu: nested deeper than %d mappings and lists", name,
                                  mk->line + 1, mk->column + 1, CONFIG_MAX_DEPTH);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return rc;
}

static hd_status load_yaml(config *c, const char *yaml, size_t len, const char *name,
                           config_env env, hd_error *err)
{
    if (len > CONFIG_MAX_BYTES)
        return hd_error_set(err, HD_CONFIG, "%s: %zu bytes is more than a configuration may "
                            "have (1 MiB)", name, len);
    hd_status checked = check_events(yaml, len, name, err);
    if (checked != HD_OK)
        return checked;
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return hd_error_set(err, HD_NOMEM, "%s: cannot start the YAML parser", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, &doc)) {
        const yaml_mark_t *mk = parser.problem ? &parser.problem_mark : &parser.mark;
        hd_status rc = hd_error_set(err, HD_CONFIG, "%s:%zu:%zu: %s%s%s", name, mk->line + 1,
                                    mk->column + 1,
                                    parser.problem ? parser.problem : "invalid YAML",
                                    parser.context ? " " : "",
                                    parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return rc;
    }
    loader L = { .name = name, .doc = &doc, .c = c, .err = err, .env = env };
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    hd_status rc = root ? load_root(&L, root) : HD_OK;   /* empty file: defaults */
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

static hd_status load_string_env(config *c, const char *yaml, const char *name, config_env env,
                                 hd_error *err)
{
    config_defaults(c);
    if (!name)
        name = "config";
    hd_status rc = load_yaml(c, yaml ? yaml : "", yaml ? strlen(yaml) : 0, name, env, err);
    if (rc != HD_OK) {
        /* Never half a configuration: the caller gets defaults or nothing. */
        config_free(c);
        config_defaults(c);
    }
    return rc;
}

hd_status config_load_string(config *c, const char *yaml, const char *name, hd_error *err)
{
    return load_string_env(c, yaml, name, CONFIG_ENV_EXPAND, err);
}

hd_status config_load(config *c, const char *path, hd_error *err)
{
    return config_load_env(c, path, CONFIG_ENV_EXPAND, err);
}

_Static_assert(CONFIG_MAX_BYTES == 1024 * 1024, "the messages say 1 MiB");

/* The file, but never more than CONFIG_MAX_BYTES of it (it may be a pipe or
 * a stranger's 1 GB file: it is never read in full). */
static hd_status read_bounded(const char *path, hd_buf *out, hd_error *err)
{
    hd_status rc = (hd_status)hd_read_file_max(path, CONFIG_MAX_BYTES, out, err);
    if (rc != HD_OK)
        return rc;
    if (out->len > CONFIG_MAX_BYTES)
        return hd_error_set(err, HD_CONFIG, "%s: larger than a configuration may be (1 MiB)",
                            strcmp(path, "-") == 0 ? "stdin" : path);
    return HD_OK;
}

hd_status config_load_env(config *c, const char *path, config_env env, hd_error *err)
{
    if (!path) {
        config_defaults(c);
        return HD_OK;
    }
    hd_buf text = { 0 };
    hd_error e;
    if (read_bounded(path, &text, &e) != HD_OK) {
        hd_buf_free(&text);
        config_defaults(c);
        return hd_error_set(err, HD_CONFIG, "%s", e.msg);
    }
    hd_status rc = load_string_env(c, hd_buf_str(&text), path, env, err);
    hd_buf_free(&text);
    if (rc == HD_OK)
        c->path = hd_xstrdup(path);
    return rc;
}
