/* auth_kinds.c - the authentication kinds as two tables: auth_kinds (one
 * entry per kind: name, family, validation, key probe, signing) and
 * auth_fields (one entry per setting: YAML key, where the site keeps it,
 * type, CLI flag, form label, the kinds it belongs to).
 *
 * DESIGN: nothing outside the auth files tests the kind.  The CLI builds
 * its flags from auth_fields, the form its fields, config.c its YAML keys
 * and the export its output; the request builder calls auth_sign.  A new
 * kind is an enum value in hd_site.h, an entry in each table here and its
 * functions in a file of its own.  A change of kind is one function,
 * auth_change_kind, so that the CLI's --auth and the form's Auth choice
 * keep the same settings.
 */
#include "hd_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_internal.h"
#include "hd_util.h"

#define K(kind) (1u << (kind))

const auth_kind_ops auth_kinds[AUTH_KIND_COUNT] = {
    [AUTH_NONE] = { "none", NULL, "masked", auth_none_check, NULL, auth_none_sign },
    [AUTH_BASIC] = { "basic", NULL, "masked", auth_basic_check, NULL, auth_basic_sign },
    [AUTH_BEARER] = { "bearer", NULL, "masked", auth_bearer_check, NULL, auth_bearer_sign },
    [AUTH_HEADER] = { "header", NULL, "masked", auth_header_check, NULL, auth_header_sign },
    [AUTH_HMAC] = { "hmac", NULL, "whsec_AAAAAAAAAAAAAAAAAAAAAAAA", auth_hmac_check, NULL, auth_hmac_sign },
    [AUTH_JWT] = { "jwt", NULL, "masked", auth_jwt_check, auth_jwt_probe, auth_jwt_sign },
    [AUTH_OAUTH2] = { "oauth2", NULL, "masked", auth_oauth2_check, NULL, auth_oauth2_sign },
    [AUTH_AWS] = { "aws", "aws", "masked", auth_aws_check, NULL, auth_aws_sign },
    [AUTH_AWS_S3] = { "aws-s3", "aws", "masked", auth_aws_s3_check, NULL, auth_aws_sign },
};

/* Order matters where the fields are listed: the YAML keys of one slot in
 * messages ("give only one of password, token, ..."), the extra settings
 * in export and in the form. */
const auth_field auth_fields[] = {
    /* name, slot, type, secret, kinds, flag, label, help, choices, when_key, when_is,
     * when_not, lead */
    { "user", AS_USER, AX_STRING, false, K(AUTH_BASIC), "user", "User", "basic: user name",
      { NULL }, NULL, NULL, false, false },
    { "client_id", AS_USER, AX_STRING, false, K(AUTH_OAUTH2), "client-id", "Client id",
      "oauth2: client id", { NULL }, NULL, NULL, false, false },
    { "access_key", AS_USER, AX_STRING, false, K(AUTH_AWS) | K(AUTH_AWS_S3), "access-key",
      "Access key id", "aws, aws-s3: access key id", { NULL }, NULL, NULL, false, false },
    { "password", AS_SECRET, AX_STRING, true, K(AUTH_BASIC), "secret", "Password",
      "basic: password", { NULL }, NULL, NULL, false, false },
    { "token", AS_SECRET, AX_STRING, true, K(AUTH_BEARER), "secret", "Token", "bearer: token",
      { NULL }, NULL, NULL, false, false },
    { "secret", AS_SECRET, AX_STRING, true, K(AUTH_HMAC), "secret", "Secret whsec_",
      "hmac: whsec_ signing key", { NULL }, NULL, NULL, false, false },
    { "value", AS_SECRET, AX_STRING, true, K(AUTH_HEADER), "secret", "Header value",
      "header: the header's value", { NULL }, NULL, NULL, false, false },
    { "secret", AS_SECRET, AX_STRING, true, K(AUTH_JWT), "secret", "Secret",
      "jwt HS256: shared secret", { NULL }, "alg", "RS256", true, false },
    { "client_secret", AS_SECRET, AX_STRING, true, K(AUTH_OAUTH2), "secret", "Client secret",
      "oauth2: client secret", { NULL }, NULL, NULL, false, false },
    { "secret_key", AS_SECRET, AX_STRING, true, K(AUTH_AWS) | K(AUTH_AWS_S3), "secret",
      "Secret key", "aws, aws-s3: secret access key", { NULL }, NULL, NULL, false, false },
    { "header", AS_HEADER, AX_STRING, false, K(AUTH_HEADER), "header", "Header name",
      "header: the header carrying the secret (e.g. X-Api-Key)", { NULL }, NULL, NULL, false,
      false },
    { "alg", AS_EXTRA, AX_STRING, false, K(AUTH_JWT), "jwt-alg", "Algorithm",
      "jwt: HS256 (secret) or RS256 (PEM key)", { "HS256", "RS256", NULL }, NULL, NULL, false,
      true },
    { "key_file", AS_EXTRA, AX_STRING, false, K(AUTH_JWT), "jwt-key-file", "Key file",
      "jwt RS256: path of the PEM private key", { NULL }, "alg", "RS256", false, false },
    { "key_env", AS_EXTRA, AX_STRING, false, K(AUTH_JWT), "jwt-key-env", "Key variable",
      "jwt RS256: environment variable holding the PEM private key", { NULL }, "alg", "RS256",
      false, false },
    { "claims", AS_EXTRA, AX_MAP, false, K(AUTH_JWT), "jwt-claim", "Claims",
      "jwt: claim NAME=VALUE (repeatable)", { NULL }, NULL, NULL, false, false },
    { "lifetime", AS_EXTRA, AX_DURATION, false, K(AUTH_JWT), "jwt-lifetime", "Lifetime",
      "jwt: exp - iat (default 5m)", { NULL }, NULL, NULL, false, false },
    { "token_url", AS_EXTRA, AX_STRING, false, K(AUTH_OAUTH2), "token-url", "Token URL",
      "oauth2: the token endpoint (client-credentials grant)", { NULL }, NULL, NULL, false,
      true },
    { "scope", AS_EXTRA, AX_STRING, false, K(AUTH_OAUTH2), "scope", "Scope",
      "oauth2: scope (optional)", { NULL }, NULL, NULL, false, false },
    { "audience", AS_EXTRA, AX_STRING, false, K(AUTH_OAUTH2), "audience", "Audience",
      "oauth2: audience (optional)", { NULL }, NULL, NULL, false, false },
    { "client_auth", AS_EXTRA, AX_STRING, false, K(AUTH_OAUTH2), "client-auth", "Client auth",
      "oauth2: basic (default) or body: how the client credentials are sent",
      { "basic", "body", NULL }, NULL, NULL, false, false },
    { "region", AS_EXTRA, AX_STRING, false, K(AUTH_AWS) | K(AUTH_AWS_S3), "region", "Region",
      "aws, aws-s3: region, e.g. eu-west-1", { NULL }, NULL, NULL, false, false },
    { "service", AS_EXTRA, AX_STRING, false, K(AUTH_AWS), "service", "Service",
      "aws: service, e.g. execute-api", { NULL }, NULL, NULL, false, false },
    { "session_token", AS_EXTRA, AX_STRING, true, K(AUTH_AWS) | K(AUTH_AWS_S3),
      "session-token", "Session token",
      "aws, aws-s3: temporary session token (optional; '-' reads stdin)", { NULL }, NULL, NULL,
      false, false },
    { "bucket", AS_EXTRA, AX_STRING, false, K(AUTH_AWS_S3), "bucket", "Bucket",
      "aws-s3: bucket name", { NULL }, NULL, NULL, false, false },
    { "object_format", AS_EXTRA, AX_STRING, false, K(AUTH_AWS_S3), "object-format",
      "Object format",
      "aws-s3: object name, {id} {action} {customer} {date} (default " AUTH_S3_DEFAULT_FORMAT
      ")", { NULL }, NULL, NULL, false, false },
};
const int auth_nfields = (int)(sizeof auth_fields / sizeof auth_fields[0]);

/* ---- kinds ---- */

const char *auth_kind_name(auth_kind k)
{
    if ((unsigned)k >= AUTH_KIND_COUNT)
        return "unknown";
    return auth_kinds[k].name;
}

bool auth_kind_parse(const char *name, auth_kind *out)
{
    for (int k = 0; name && k < AUTH_KIND_COUNT; k++) {
        if (strcasecmp(name, auth_kinds[k].name) == 0) {
            *out = (auth_kind)k;
            return true;
        }
    }
    return false;
}

bool auth_kind_supported(auth_kind k)
{
    return (unsigned)k < AUTH_KIND_COUNT;
}

void auth_kind_list(char *buf, size_t len, const char *sep)
{
    size_t at = 0;
    if (len)
        buf[0] = '\0';
    for (int k = 0; k < AUTH_KIND_COUNT && at < len; k++)
        at += (size_t)snprintf(buf + at, len - at, "%s%s", k ? sep : "", auth_kinds[k].name);
}

static bool same_family(auth_kind a, auth_kind b)
{
    const char *fa = auth_kinds[a].family, *fb = auth_kinds[b].family;
    return a == b || (fa && fb && strcmp(fa, fb) == 0);
}

/* A credential (user, secret, header) survives a change of kind only
 * within a family: a basic password is no bearer token, an aws secret key
 * is an aws-s3 one. */
static void keep_slot(char **value, auth_kind from, auth_kind to, auth_slot slot)
{
    if (same_family(from, to) && auth_field_of(to, slot))
        return;
    free(*value);
    *value = NULL;
}

void auth_change_kind(site *s, auth_kind to)
{
    if (s->auth == to || (unsigned)to >= AUTH_KIND_COUNT)
        return;
    keep_slot(&s->auth_user, s->auth, to, AS_USER);
    keep_slot(&s->auth_secret, s->auth, to, AS_SECRET);
    keep_slot(&s->auth_header, s->auth, to, AS_HEADER);
    auth_extra_keep_kind(&s->auth_extra, to);
    s->auth = to;
}

/* ---- fields ---- */

const auth_field *auth_field_find(const char *name)
{
    for (int i = 0; name && i < auth_nfields; i++)
        if (auth_fields[i].slot == AS_EXTRA && strcmp(auth_fields[i].name, name) == 0)
            return &auth_fields[i];
    return NULL;
}

const auth_field *auth_field_of(auth_kind k, auth_slot slot)
{
    for (int i = 0; i < auth_nfields && (unsigned)k < AUTH_KIND_COUNT; i++)
        if (auth_fields[i].slot == slot && (auth_fields[i].kinds & K(k)))
            return &auth_fields[i];
    return NULL;
}

bool auth_field_active(const auth_field *f, auth_kind k, const char *when_value)
{
    if (!f || (unsigned)k >= AUTH_KIND_COUNT || !(f->kinds & K(k)))
        return false;
    if (!f->when_key)
        return true;
    if (!when_value || !*when_value) {
        const auth_field *w = auth_field_find(f->when_key);
        when_value = w && w->choices[0] ? w->choices[0] : "";
    }
    bool is = strcmp(when_value, f->when_is) == 0;
    return f->when_not ? !is : is;
}

bool auth_field_active_in(const auth_field *f, const site *s)
{
    char *v = f && f->when_key ? auth_extra_get(s->auth_extra, f->when_key) : NULL;
    bool on = auth_field_active(f, s->auth, v);
    free(v);
    return on;
}

/* ---- validation and signing ---- */

const char *auth_json_str(json_t *extra, const char *key)
{
    json_t *v = json_object_get(extra, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

bool auth_has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

/* A map's entries (jwt claims): texts with a name. */
static hd_status check_map(const char *key, json_t *v, hd_error *err)
{
    char field[64];
    snprintf(field, sizeof field, "auth.%s", key);
    if (!json_is_object(v))
        return hd_error_field(err, HD_INVALID, field, "must be a map of NAME: VALUE");
    const char *ck;
    json_t *cv;
    json_object_foreach(v, ck, cv) {
        if (!json_is_string(cv)) {
            hd_error_field(err, HD_INVALID, field, "must be a text");
            /* The message names the claim, the field stays the map. */
            if (err)
                snprintf(err->msg, sizeof err->msg, "auth.%s.%s: must be a text", key, ck);
            return HD_INVALID;
        }
        if (!*ck)
            return hd_error_field(err, HD_INVALID, field, "a claim name is empty");
    }
    return HD_OK;
}

/* Types and unknown keys; the kinds' checks read known keys only. */
static hd_status check_shape(json_t *o, hd_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        const auth_field *f = auth_field_find(key);
        char field[64];
        snprintf(field, sizeof field, "auth.%s", key);
        if (!f)
            return hd_error_field(err, HD_INVALID, field, "unknown setting");
        switch (f->type) {
        case AX_STRING:
            if (!json_is_string(v))
                return hd_error_field(err, HD_INVALID, field, "must be a text");
            if (auth_has_control(json_string_value(v)))
                return hd_error_field(err, HD_INVALID, field,
                                      "contains a line break or control character");
            break;
        case AX_DURATION:
            if (!json_is_integer(v) || json_integer_value(v) < 0)
                return hd_error_field(err, HD_INVALID, field, "must be a duration");
            break;
        case AX_MAP: {
            hd_status st = check_map(key, v, err);
            if (st != HD_OK)
                return st;
            break;
        }
        }
    }
    return HD_OK;
}

hd_status auth_validate(const site *s, hd_error *err)
{
    if ((unsigned)s->auth >= AUTH_KIND_COUNT)
        return hd_error_field(err, HD_INVALID, "auth", "unknown kind %d", (int)s->auth);
    json_t *o = NULL;
    if (s->auth_extra && *s->auth_extra) {
        o = json_loads(s->auth_extra, 0, NULL);
        if (!json_is_object(o)) {
            json_decref(o);
            return hd_error_field(err, HD_INVALID, "auth_extra", "is not a JSON object");
        }
    } else {
        o = json_object();
    }
    hd_status st = check_shape(o, err);
    if (st == HD_OK)
        st = auth_kinds[s->auth].check(s, o, err);
    json_decref(o);
    return st;
}

hd_status auth_sign(const site *s, const message *m, const request_context *ctx,
                    http_request *r, hd_error *err)
{
    if ((unsigned)s->auth >= AUTH_KIND_COUNT)
        return hd_error_field(err, HD_INVALID, "auth", "unknown kind %d", (int)s->auth);
    return auth_kinds[s->auth].sign(s, m, ctx, r, err);
}
