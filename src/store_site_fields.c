/* store_site_fields.c - how a site's fields are stored, the same in both
 * backends (store_site_fields.h). */
#include "store_site_fields.h"

#include <jansson.h>

hd_status store_headers_to_json(const site *s, char **out, hd_error *err)
{
    *out = NULL;
    if (s->nheaders <= 0)
        return HD_OK;
    json_t *obj = json_object();
    for (int i = 0; i < s->nheaders; i++) {
        const site_header *h = &s->headers[i];
        json_t *v = json_string(h->value ? h->value : "");
        if (v && h->secret) {
            json_t *o = json_object();
            if (json_object_set_new(o, "value", v) != 0 ||
                json_object_set_new(o, "secret", json_true()) != 0) {
                json_decref(o);
                o = NULL;
            }
            v = o;
        }
        if (!v || !h->name || json_object_set_new(obj, h->name, v) != 0) {
            json_decref(obj);
            return hd_error_set(err, HD_INVALID, "headers: '%s' is not valid UTF-8",
                                h->name ? h->name : "(null)");
        }
    }
    *out = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (!*out)
        return hd_error_set(err, HD_NOMEM, "headers: cannot encode as JSON");
    return HD_OK;
}

void store_headers_from_json(site *s, const char *text)
{
    if (!text)
        return;
    json_t *obj = json_loads(text, 0, NULL);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        if (json_is_string(v)) {
            site_add_header(s, key, json_string_value(v));
        } else if (json_is_object(v) && json_is_string(json_object_get(v, "value"))) {
            /* Anything but an explicit false keeps it masked. */
            json_t *secret = json_object_get(v, "secret");
            site_add_header_secret(s, key, json_string_value(json_object_get(v, "value")),
                                   !json_is_false(secret));
        }
    }
    json_decref(obj);
}

void store_site_kinds(site *s, const char *ctype_name, const char *auth_name)
{
    if (!ctype_name || !content_type_parse(ctype_name, &s->ctype))
        s->ctype = CONTENT_JSON;
    if (!auth_name || !auth_kind_parse(auth_name, &s->auth))
        s->auth = AUTH_NONE;
}

circuit_state store_circuit_state(int64_t stored)
{
    return stored == CIRCUIT_OPEN || stored == CIRCUIT_PROBING ? (circuit_state)stored
                                                               : CIRCUIT_CLOSED;
}
