/* auth_extra.c - the kind-specific settings of jwt, oauth2, aws and aws-s3
 * (site.auth_extra, a JSON object) and their validation.
 *
 * DESIGN: one table (auth_extra_keys) lists every key with its type, the
 * kinds it applies to, whether it is secret and its CLI flag; config.c,
 * src/cli/sites.c and the export walk it, so a new setting is one line here.
 * Keys that do not apply to the site's kind are ignored by validation (a
 * kind change in a form may leave them behind) and dropped by the CLI;
 * keys that are not in the table at all are refused.
 */
#include "hd_auth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "hd_util.h"

#define K(kind) (1u << (kind))
#define MASK "********"

const auth_extra_key auth_extra_keys[] = {
    { "alg", AX_STRING, false, K(AUTH_JWT), "jwt-alg", "jwt: HS256 (secret) or RS256 (PEM key)" },
    { "key_file", AX_STRING, false, K(AUTH_JWT), "jwt-key-file",
      "jwt RS256: path of the PEM private key" },
    { "key_env", AX_STRING, false, K(AUTH_JWT), "jwt-key-env",
      "jwt RS256: environment variable holding the PEM private key" },
    { "claims", AX_MAP, false, K(AUTH_JWT), "jwt-claim", "jwt: claim NAME=VALUE (repeatable)" },
    { "lifetime", AX_DURATION, false, K(AUTH_JWT), "jwt-lifetime",
      "jwt: exp - iat (default 5m)" },
    { "token_url", AX_STRING, false, K(AUTH_OAUTH2), "token-url",
      "oauth2: the token endpoint (client-credentials grant)" },
    { "scope", AX_STRING, false, K(AUTH_OAUTH2), "scope", "oauth2: scope (optional)" },
    { "audience", AX_STRING, false, K(AUTH_OAUTH2), "audience", "oauth2: audience (optional)" },
    { "client_auth", AX_STRING, false, K(AUTH_OAUTH2), "client-auth",
      "oauth2: basic (default) or body: how the client credentials are sent" },
    { "region", AX_STRING, false, K(AUTH_AWS) | K(AUTH_AWS_S3), "region",
      "aws, aws-s3: region, e.g. eu-west-1" },
    { "service", AX_STRING, false, K(AUTH_AWS), "service", "aws: service, e.g. execute-api" },
    { "session_token", AX_STRING, true, K(AUTH_AWS) | K(AUTH_AWS_S3), "session-token",
      "aws, aws-s3: temporary session token (optional; '-' reads stdin)" },
    { "bucket", AX_STRING, false, K(AUTH_AWS_S3), "bucket", "aws-s3: bucket name" },
    { "object_format", AX_STRING, false, K(AUTH_AWS_S3), "object-format",
      "aws-s3: object name, {id} {action} {customer} {date} (default " AUTH_S3_DEFAULT_FORMAT
      ")" },
};
const int auth_extra_nkeys = (int)(sizeof auth_extra_keys / sizeof auth_extra_keys[0]);

const auth_extra_key *auth_extra_key_find(const char *name)
{
    for (int i = 0; name && i < auth_extra_nkeys; i++)
        if (strcmp(auth_extra_keys[i].name, name) == 0)
            return &auth_extra_keys[i];
    return NULL;
}

/* ---- reading and writing ---- */

static json_t *load(const char *extra)
{
    if (!extra || !*extra)
        return NULL;
    json_t *o = json_loads(extra, 0, NULL);
    if (o && !json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Replaces *extra by o's text (NULL for an empty object); consumes o. */
static void save(char **extra, json_t *o)
{
    free(*extra);
    *extra = NULL;
    if (o && json_object_size(o) > 0) {
        char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        *extra = hd_xstrdup(text);
        free(text);
    }
    json_decref(o);
}

char *auth_extra_get(const char *extra, const char *key)
{
    json_t *o = load(extra);
    json_t *v = json_object_get(o, key);
    char *out = NULL;
    if (json_is_string(v))
        out = hd_xstrdup(json_string_value(v));
    else if (json_is_integer(v))
        out = hd_xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_object(v)) {
        char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
        out = hd_xstrdup(text);
        free(text);
    }
    json_decref(o);
    return out;
}

int64_t auth_extra_get_ms(const char *extra, const char *key, int64_t dflt)
{
    json_t *o = load(extra);
    json_t *v = json_object_get(o, key);
    int64_t out = json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
    json_decref(o);
    return out;
}

static json_t *load_or_new(const char *extra)
{
    json_t *o = load(extra);
    return o ? o : json_object();
}

void auth_extra_set(char **extra, const char *key, const char *value)
{
    json_t *o = load_or_new(*extra);
    if (value && *value)
        json_object_set_new(o, key, json_string(value));
    else
        json_object_del(o, key);
    save(extra, o);
}

void auth_extra_set_ms(char **extra, const char *key, int64_t ms)
{
    json_t *o = load_or_new(*extra);
    if (ms > 0)
        json_object_set_new(o, key, json_integer((json_int_t)ms));
    else
        json_object_del(o, key);
    save(extra, o);
}

void auth_extra_set_claim(char **extra, const char *name, const char *value)
{
    json_t *o = load_or_new(*extra);
    json_t *c = json_object_get(o, "claims");
    if (!json_is_object(c)) {
        c = json_object();
        json_object_set_new(o, "claims", c);
    }
    if (value)
        json_object_set_new(c, name, json_string(value));
    else
        json_object_del(c, name);
    if (json_object_size(c) == 0)
        json_object_del(o, "claims");
    save(extra, o);
}

void auth_extra_keep_kind(char **extra, auth_kind k)
{
    json_t *o = load(*extra);
    if (!o) {
        free(*extra);
        *extra = NULL;
        return;
    }
    for (int i = 0; i < auth_extra_nkeys; i++)
        if (!(auth_extra_keys[i].kinds & K(k)))
            json_object_del(o, auth_extra_keys[i].name);
    save(extra, o);
}

char *auth_extra_masked(const char *extra)
{
    if (!extra)
        return NULL;
    json_t *o = load(extra);
    if (!o)
        return hd_xstrdup(extra);
    for (int i = 0; i < auth_extra_nkeys; i++) {
        json_t *v = json_object_get(o, auth_extra_keys[i].name);
        if (auth_extra_keys[i].secret && json_is_string(v) && json_string_length(v) > 0)
            json_object_set_new(o, auth_extra_keys[i].name, json_string(MASK));
    }
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *out = hd_xstrdup(text);
    free(text);
    json_decref(o);
    return out;
}

bool auth_extra_unmask(char **in, const char *old)
{
    json_t *o = load(*in);
    if (!o)
        return true;
    json_t *prev = load(old);
    bool ok = true;
    for (int i = 0; i < auth_extra_nkeys; i++) {
        const char *name = auth_extra_keys[i].name;
        json_t *v = json_object_get(o, name);
        if (!json_is_string(v) || strcmp(json_string_value(v), MASK) != 0)
            continue;
        json_t *p = json_object_get(prev, name);
        if (json_is_string(p))
            json_object_set(o, name, p);
        else
            ok = false;
    }
    json_decref(prev);
    save(in, o);
    return ok;
}

/* ---- validation ---- */

static bool is_empty(const char *s)
{
    return !s || !*s;
}

static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

static const char *str_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Types and unknown keys; the per-kind checks below read known keys only. */
static hd_status check_shape(json_t *o, hd_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        const auth_extra_key *k = auth_extra_key_find(key);
        if (!k)
            return hd_error_set(err, HD_INVALID, "auth.%s: unknown setting", key);
        switch (k->type) {
        case AX_STRING:
            if (!json_is_string(v))
                return hd_error_set(err, HD_INVALID, "auth.%s: must be a text", key);
            if (has_control(json_string_value(v)))
                return hd_error_set(err, HD_INVALID,
                                    "auth.%s: contains a line break or control character", key);
            break;
        case AX_DURATION:
            if (!json_is_integer(v) || json_integer_value(v) < 0)
                return hd_error_set(err, HD_INVALID, "auth.%s: must be a duration", key);
            break;
        case AX_MAP: {
            if (!json_is_object(v))
                return hd_error_set(err, HD_INVALID, "auth.%s: must be a map of NAME: VALUE",
                                    key);
            const char *ck;
            json_t *cv;
            json_object_foreach(v, ck, cv) {
                if (!json_is_string(cv))
                    return hd_error_set(err, HD_INVALID, "auth.%s.%s: must be a text", key, ck);
                if (!*ck)
                    return hd_error_set(err, HD_INVALID, "auth.%s: a claim name is empty", key);
            }
            break;
        }
        }
    }
    return HD_OK;
}

static hd_status check_jwt(const site *s, json_t *o, hd_error *err)
{
    const char *alg = str_of(o, "alg");
    const char *key_file = str_of(o, "key_file");
    const char *key_env = str_of(o, "key_env");
    if (!alg || strcmp(alg, "HS256") == 0) {
        if (is_empty(s->auth_secret))
            return hd_error_set(err, HD_INVALID,
                                "auth_secret: a shared secret is required for jwt HS256");
        if (key_file || key_env)
            return hd_error_set(err, HD_INVALID, "auth.%s: only used with alg RS256",
                                key_file ? "key_file" : "key_env");
    } else if (strcmp(alg, "RS256") == 0) {
        if (!key_file && !key_env)
            return hd_error_set(err, HD_INVALID,
                                "auth.key_file: RS256 needs key_file or key_env (a PEM private key)");
        if (key_file && key_env)
            return hd_error_set(err, HD_INVALID, "auth.key_env: give key_file or key_env, not both");
        if (key_env && !getenv(key_env))
            return hd_error_set(err, HD_INVALID,
                                "auth.key_env: environment variable %s is not set", key_env);
        if (!is_empty(s->auth_secret))
            return hd_error_set(err, HD_INVALID,
                                "auth_secret: not used with jwt RS256 (the key is key_file or key_env)");
    } else {
        return hd_error_set(err, HD_INVALID, "auth.alg: unknown algorithm '%s' (HS256, RS256)",
                            alg);
    }
    json_t *claims = json_object_get(o, "claims");
    if (json_object_get(claims, "iat") || json_object_get(claims, "exp"))
        return hd_error_set(err, HD_INVALID,
                            "auth.claims: iat and exp are set by hookdesk (see lifetime)");
    int64_t life = auth_extra_get_ms(s->auth_extra, "lifetime", AUTH_JWT_DEFAULT_LIFETIME_MS);
    if (life < 1000 || life > 24LL * 3600 * 1000)
        return hd_error_set(err, HD_INVALID, "auth.lifetime: must be between 1s and 24h");
    /* Signing once proves the key file / variable holds a usable key. */
    char *tok = auth_jwt_token(s, hd_now_ms(), err);
    if (!tok)
        return err ? err->code : HD_INVALID;
    free(tok);
    return HD_OK;
}

static hd_status check_oauth2(const site *s, json_t *o, hd_error *err)
{
    const char *url = str_of(o, "token_url");
    if (is_empty(url))
        return hd_error_set(err, HD_INVALID, "auth.token_url: is required for oauth2");
    hd_status st = auth_check_url("auth.token_url", url, err);
    if (st != HD_OK)
        return st;
    if (is_empty(s->auth_user))
        return hd_error_set(err, HD_INVALID, "auth_user: a client_id is required for oauth2");
    if (has_control(s->auth_user))
        return hd_error_set(err, HD_INVALID, "auth_user: contains a control character");
    if (is_empty(s->auth_secret))
        return hd_error_set(err, HD_INVALID, "auth_secret: a client_secret is required for oauth2");
    const char *ca = str_of(o, "client_auth");
    if (ca && strcmp(ca, "basic") != 0 && strcmp(ca, "body") != 0)
        return hd_error_set(err, HD_INVALID, "auth.client_auth: must be basic or body, not '%s'",
                            ca);
    return HD_OK;
}

/* Region and service names: lower-case letters, digits and '-'. */
static bool aws_name_ok(const char *s)
{
    if (is_empty(s) || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-'))
            return false;
    return true;
}

/* S3 bucket naming rules (the path-style subset): 3..63 of [a-z0-9.-],
 * starting and ending with a letter or digit. */
static bool bucket_ok(const char *b)
{
    size_t n = b ? strlen(b) : 0;
    if (n < 3 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        if (!(islower(c) || isdigit(c) || c == '.' || c == '-'))
            return false;
    }
    return isalnum((unsigned char)b[0]) && isalnum((unsigned char)b[n - 1]) && !strstr(b, "..");
}

static hd_status check_object_format(const char *f, hd_error *err)
{
    static const char *const names[] = { "{id}", "{action}", "{customer}", "{date}" };
    if (*f == '/')
        return hd_error_set(err, HD_INVALID, "auth.object_format: must not start with '/'");
    if (strlen(f) > 512)
        return hd_error_set(err, HD_INVALID, "auth.object_format: is longer than 512 characters");
    for (const char *p = f; *p; p++) {
        if (*p == '{') {
            size_t i = 0;
            for (; i < 4; i++)
                if (strncmp(p, names[i], strlen(names[i])) == 0)
                    break;
            if (i == 4)
                return hd_error_set(err, HD_INVALID,
                                    "auth.object_format: unknown placeholder at '%.20s' "
                                    "({id} {action} {customer} {date})", p);
            p += strlen(names[i]) - 1;
            continue;
        }
        unsigned char c = (unsigned char)*p;
        if (!(isalnum(c) || strchr("/._-!*'()", c)))
            return hd_error_set(err, HD_INVALID,
                                "auth.object_format: character '%c' is not safe in an object "
                                "name (use A-Z a-z 0-9 / . _ - ! * ' ( ))", c);
    }
    if (strstr(f, "//") || strstr(f, "/./") || strstr(f, "../") || strncmp(f, "./", 2) == 0)
        return hd_error_set(err, HD_INVALID, "auth.object_format: empty or dot path segment");
    return HD_OK;
}

static hd_status check_aws(const site *s, json_t *o, bool s3, hd_error *err)
{
    if (is_empty(s->auth_user))
        return hd_error_set(err, HD_INVALID, "auth_user: an access key id is required for %s",
                            auth_kind_name(s->auth));
    if (strchr(s->auth_user, ':') || has_control(s->auth_user) || strchr(s->auth_user, ' '))
        return hd_error_set(err, HD_INVALID,
                            "auth_user: the access key id must not contain ':', spaces or "
                            "control characters");
    if (is_empty(s->auth_secret))
        return hd_error_set(err, HD_INVALID, "auth_secret: a secret access key is required for %s",
                            auth_kind_name(s->auth));
    if (has_control(s->auth_secret))
        return hd_error_set(err, HD_INVALID, "auth_secret: contains a control character");
    const char *region = str_of(o, "region");
    if (is_empty(region))
        return hd_error_set(err, HD_INVALID, "auth.region: is required for %s",
                            auth_kind_name(s->auth));
    if (!aws_name_ok(region))
        return hd_error_set(err, HD_INVALID,
                            "auth.region: '%s' is not a region name (e.g. eu-west-1)", region);
    if (!s3) {
        const char *service = str_of(o, "service");
        if (is_empty(service))
            return hd_error_set(err, HD_INVALID, "auth.service: is required for aws (e.g. execute-api)");
        if (!aws_name_ok(service))
            return hd_error_set(err, HD_INVALID,
                                "auth.service: '%s' is not a service name (e.g. execute-api)",
                                service);
        return HD_OK;
    }
    const char *bucket = str_of(o, "bucket");
    if (is_empty(bucket))
        return hd_error_set(err, HD_INVALID, "auth.bucket: is required for aws-s3");
    if (!bucket_ok(bucket))
        return hd_error_set(err, HD_INVALID,
                            "auth.bucket: '%s' is not a bucket name (3-63 of a-z 0-9 . -)", bucket);
    const char *fmt = str_of(o, "object_format");
    if (fmt)
        return check_object_format(fmt, err);
    return HD_OK;
}

hd_status auth_check(const site *s, hd_error *err)
{
    json_t *o = NULL;
    if (!is_empty(s->auth_extra)) {
        json_error_t jerr;
        o = json_loads(s->auth_extra, 0, &jerr);
        if (!o || !json_is_object(o)) {
            json_decref(o);
            return hd_error_set(err, HD_INVALID, "auth_extra: is not a JSON object");
        }
        hd_status st = check_shape(o, err);
        if (st != HD_OK) {
            json_decref(o);
            return st;
        }
    }
    if (!o)
        o = json_object();
    hd_status st = HD_OK;
    switch (s->auth) {
    case AUTH_JWT: st = check_jwt(s, o, err); break;
    case AUTH_OAUTH2: st = check_oauth2(s, o, err); break;
    case AUTH_AWS: st = check_aws(s, o, false, err); break;
    case AUTH_AWS_S3: st = check_aws(s, o, true, err); break;
    default: break;
    }
    json_decref(o);
    return st;
}
