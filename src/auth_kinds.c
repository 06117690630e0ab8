/* auth_kinds.c - the authentication kinds as a table, auth_kinds (one
 * entry per kind: name, family, validation, key probe, signing); their
 * settings are the other table, auth_fields (auth_fields.c: YAML key,
 * where the site keeps it, type, CLI flag, form label, kinds).
 *
 * DESIGN: nothing outside the auth files tests the kind.  The CLI builds
 * its flags from auth_fields, the form its fields, config.c its YAML keys
 * and the export its output; the request builder calls auth_sign.  A new
 * kind is an enum value in hd_site.h, an entry in auth_kinds here, its
 * settings in auth_fields and its functions in a file of its own.  The
 * kinds' functions get their entry (`kind`) and never call back here.  A
 * change of kind is one function, auth_change_kind, so that the CLI's
 * --auth and the form's Auth choice keep the same settings.
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
    [AUTH_NONE] = { "none", NULL, "masked", false, auth_none_check, NULL, auth_none_sign },
    [AUTH_BASIC] = { "basic", NULL, "masked", false, auth_basic_check, NULL, auth_basic_sign },
    [AUTH_BEARER] = { "bearer", NULL, "masked", false, auth_bearer_check, NULL,
                      auth_bearer_sign },
    [AUTH_HEADER] = { "header", NULL, "masked", false, auth_header_check, NULL,
                      auth_header_sign },
    [AUTH_HMAC] = { "hmac", NULL, "whsec_AAAAAAAAAAAAAAAAAAAAAAAA", false, auth_hmac_check,
                    NULL, auth_hmac_sign },
    [AUTH_JWT] = { "jwt", NULL, "masked", false, auth_jwt_check, auth_jwt_probe,
                   auth_jwt_sign },
    [AUTH_OAUTH2] = { "oauth2", NULL, "masked", true, auth_oauth2_check, NULL,
                      auth_oauth2_sign },
    [AUTH_AWS] = { "aws", "aws", "masked", false, auth_aws_check, NULL, auth_aws_sign },
    [AUTH_AWS_S3] = { "aws-s3", "aws", "masked", false, auth_aws_s3_check, NULL, auth_aws_sign },
};

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

bool auth_needs_token(const site *s)
{
    return (unsigned)s->auth < AUTH_KIND_COUNT && auth_kinds[s->auth].needs_token;
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

/* ---- validation and signing ---- */

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

/* A kind's check names the site's storage slot (auth_user, auth_secret,
 * auth_header) in err->field, so that front-ends find the field; the
 * message says it as the configuration and the operator do, by the kind's
 * own name for it ("auth.client_id: a client_id is required for oauth2").
 * hd_error_field wrote the message as "FIELD: text", so the text starts
 * right after the field's name (nothing is parsed back). */
static void name_slot_as_configured(auth_kind k, hd_error *err)
{
    static const struct {
        const char *field;
        auth_slot slot;
    } slots[] = { { "auth_user", AS_USER }, { "auth_secret", AS_SECRET },
                  { "auth_header", AS_HEADER } };
    if (!err)
        return;
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        size_t n = strlen(slots[i].field);
        const auth_field *f = auth_field_of(k, slots[i].slot);
        if (!f || strcmp(err->field, slots[i].field) != 0 || strncmp(err->msg, err->field, n) != 0)
            continue;
        char *named = hd_xasprintf("auth.%s%s", f->name, err->msg + n);
        snprintf(err->msg, sizeof err->msg, "%.*s", (int)(sizeof err->msg - 1), named);
        free(named);
        return;
    }
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
    if (st == HD_OK) {
        st = auth_kinds[s->auth].check(&auth_kinds[s->auth], s, o, err);
        if (st != HD_OK)
            name_slot_as_configured(s->auth, err);
    }
    json_decref(o);
    return st;
}

hd_status auth_sign(const site *s, const message *m, const request_context *ctx,
                    http_request *r, hd_error *err)
{
    if ((unsigned)s->auth >= AUTH_KIND_COUNT)
        return hd_error_field(err, HD_INVALID, "auth", "unknown kind %d", (int)s->auth);
    return auth_kinds[s->auth].sign(&auth_kinds[s->auth], s, m, ctx, r, err);
}
