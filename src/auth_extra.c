/* auth_extra.c - reading and writing the kind-specific settings of jwt,
 * oauth2, aws and aws-s3 (site.auth_extra, a JSON object whose keys are
 * the AS_EXTRA entries of auth_fields), masking and unmasking their
 * secret ones.  Their validation is the kinds' (auth_kinds.c).
 */
#include "auth_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "hd_util.h"

#define K(kind) (1u << (kind))
#define MASK "********"

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
    for (int i = 0; i < auth_nfields; i++)
        if (auth_fields[i].slot == AS_EXTRA && !(auth_fields[i].kinds & K(k)))
            json_object_del(o, auth_fields[i].name);
    save(extra, o);
}

char *auth_extra_masked(const char *extra)
{
    if (!extra)
        return NULL;
    json_t *o = load(extra);
    if (!o)
        return hd_xstrdup(extra);
    for (int i = 0; i < auth_nfields; i++) {
        const auth_field *f = &auth_fields[i];
        json_t *v = f->slot == AS_EXTRA ? json_object_get(o, f->name) : NULL;
        if (f->secret && json_is_string(v) && json_string_length(v) > 0)
            json_object_set_new(o, f->name, json_string(MASK));
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
    for (int i = 0; i < auth_nfields; i++) {
        if (auth_fields[i].slot != AS_EXTRA)
            continue;
        const char *name = auth_fields[i].name;
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

/* ---- for the kinds' checks ---- */

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
