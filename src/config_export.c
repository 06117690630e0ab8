/* config_export.c - trusted sites written as the `sites:` list of a config
 * file (`hookdesk sites export`), with libyaml's emitter, so that any
 * text (quotes, line breaks, control characters, UTF-8) comes back the
 * same through config_load.  The keys are config.c's: the plain fields of
 * a site, and the auth: block from the kinds' fields table (hd_auth.h).
 *
 * Layout, kept from the exports of earlier versions so that files and
 * diffs stay alike: texts double-quoted, durations, numbers, booleans and
 * the kind plain, claims and secret-marked headers as flow mappings, no
 * line folding.  libyaml writes a list under a key without indenting its
 * "- " lines; the list is indented by two spaces afterwards (no scalar
 * spans lines, so this is a plain prefix on every line but the first).
 */
#include "hd_config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "hd_auth.h"
#include "hd_duration.h"
#include "hd_util.h"

typedef struct emitter {
    yaml_emitter_t y;
    bool ok;                 /* false after the first failed event */
} emitter;

static int write_buf(void *data, unsigned char *buffer, size_t size)
{
    hd_buf_append(data, buffer, size);
    return 1;
}

static void emit(emitter *e, yaml_event_t *ev, int made)
{
    if (!made || !e->ok || !yaml_emitter_emit(&e->y, ev))
        e->ok = false;
}

static void plain(emitter *e, const char *text)
{
    yaml_event_t ev;
    emit(e, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(uintptr_t)text,
                                              (int)strlen(text), 1, 1, YAML_PLAIN_SCALAR_STYLE));
}

/* A text, double-quoted; "${" is doubled so that config_load's
 * environment expansion gives it back unchanged. */
static void quoted(emitter *e, const char *text)
{
    hd_buf b = {0};
    for (const char *p = text ? text : ""; *p; p++) {
        if (p[0] == '$' && p[1] == '{')
            hd_buf_putc(&b, '$');
        hd_buf_putc(&b, *p);
    }
    char empty[] = "";
    yaml_event_t ev;
    emit(e, &ev, yaml_scalar_event_initialize(&ev, NULL, NULL,
                                              (yaml_char_t *)(b.data ? b.data : empty),
                                              (int)b.len, 1, 1, YAML_DOUBLE_QUOTED_SCALAR_STYLE));
    hd_buf_free(&b);
}

static void map_start(emitter *e, bool flow)
{
    yaml_event_t ev;
    yaml_mapping_style_t style = flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE;
    emit(e, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, style));
}

static void map_end(emitter *e)
{
    yaml_event_t ev;
    emit(e, &ev, yaml_mapping_end_event_initialize(&ev));
}

static void duration(emitter *e, int64_t ms)
{
    char d[32];
    duration_format(ms, d, sizeof d);
    plain(e, d);
}

static void headers(emitter *e, const site *s, bool show)
{
    if (s->nheaders == 0)
        return;
    plain(e, "headers");
    map_start(e, false);
    for (int k = 0; k < s->nheaders; k++) {
        const site_header *h = &s->headers[k];
        quoted(e, h->name);
        const char *value = show ? h->value : site_header_shown(h);
        if (!h->secret) {
            quoted(e, value);
            continue;
        }
        /* A header marked secret keeps its mark: {value: ..., secret: true}. */
        map_start(e, true);
        plain(e, "value");
        quoted(e, value);
        plain(e, "secret");
        plain(e, "true");
        map_end(e);
    }
    map_end(e);
}

/* A user, header or secret under the kind's YAML key for it. */
static void slot(emitter *e, const site *s, auth_slot which, const char *value, bool show)
{
    static const char *const fallback[] = { [AS_USER] = "user", [AS_SECRET] = "secret",
                                            [AS_HEADER] = "header" };
    if (!value || (which == AS_SECRET && !*value))
        return;
    const auth_field *f = auth_field_of(s->auth, which);
    plain(e, f ? f->name : fallback[which]);
    quoted(e, which == AS_SECRET && !show ? site_mask(value) : value);
}

/* The kind-specific settings (AS_EXTRA fields), in the table's order. */
static void extras(emitter *e, const site *s, bool show)
{
    json_t *o = s->auth_extra ? json_loads(s->auth_extra, 0, NULL) : NULL;
    for (int i = 0; i < auth_nfields && json_is_object(o); i++) {
        const auth_field *f = &auth_fields[i];
        json_t *v = f->slot == AS_EXTRA ? json_object_get(o, f->name) : NULL;
        if (!v || !(f->kinds & (1u << s->auth)))
            continue;
        if (f->type == AX_DURATION && json_is_integer(v)) {
            plain(e, f->name);
            duration(e, (int64_t)json_integer_value(v));
        } else if (f->type == AX_MAP && json_is_object(v)) {
            plain(e, f->name);
            map_start(e, true);
            const char *ck;
            json_t *cv;
            json_object_foreach(v, ck, cv) {
                quoted(e, ck);
                quoted(e, json_string_value(cv));
            }
            map_end(e);
        } else if (json_is_string(v)) {
            plain(e, f->name);
            const char *text = json_string_value(v);
            quoted(e, f->secret && !show ? site_mask(text) : text);
        }
    }
    json_decref(o);
}

static void auth(emitter *e, const site *s, bool show)
{
    plain(e, "auth");
    map_start(e, false);
    plain(e, "kind");
    plain(e, auth_kind_name(s->auth));
    slot(e, s, AS_USER, s->auth_user, show);
    slot(e, s, AS_HEADER, s->auth_header, show);
    slot(e, s, AS_SECRET, s->auth_secret, show);
    extras(e, s, show);
    map_end(e);
}

static void one_site(emitter *e, const site *s, bool show)
{
    map_start(e, false);
    plain(e, "name");
    quoted(e, s->name);
    plain(e, "url");
    quoted(e, s->url);
    plain(e, "content_type");
    plain(e, content_type_name(s->ctype));
    if (s->timeout_ms > 0) {
        plain(e, "timeout");
        duration(e, s->timeout_ms);
    }
    if (s->max_in_flight > 0) {
        char n[16];
        snprintf(n, sizeof n, "%d", s->max_in_flight);
        plain(e, "max_in_flight");
        plain(e, n);
    }
    plain(e, "enabled");
    plain(e, s->enabled ? "true" : "false");
    headers(e, s, show);
    auth(e, s, show);
    map_end(e);
}

static void document(emitter *e, const site *sites, int n, bool show)
{
    yaml_event_t ev;
    emit(e, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
    emit(e, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
    map_start(e, false);
    plain(e, "sites");
    emit(e, &ev, yaml_sequence_start_event_initialize(
                     &ev, NULL, NULL, 1, n ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE));
    for (int i = 0; i < n; i++)
        one_site(e, &sites[i], show);
    emit(e, &ev, yaml_sequence_end_event_initialize(&ev));
    map_end(e);
    emit(e, &ev, yaml_document_end_event_initialize(&ev, 1));
    emit(e, &ev, yaml_stream_end_event_initialize(&ev));
}

/* Every line after "sites:" two spaces in (see the top of the file). */
static void indent_list(const hd_buf *in, hd_buf *out)
{
    const char *p = hd_buf_str(in);
    bool first = true;
    while (*p) {
        size_t n = strcspn(p, "\n");
        if (!first)
            hd_buf_puts(out, "  ");
        hd_buf_append(out, p, n);
        p += n;
        if (*p == '\n') {
            hd_buf_putc(out, '\n');
            p++;
        }
        first = false;
    }
}

hd_status config_export_sites(const site *sites, int n, bool show_secrets, hd_buf *out,
                              hd_error *err)
{
    emitter e = { .ok = true };
    hd_buf text = {0};
    if (!yaml_emitter_initialize(&e.y))
        return hd_error_set(err, HD_NOMEM, "sites export: cannot start the YAML emitter");
    yaml_emitter_set_output(&e.y, write_buf, &text);
    yaml_emitter_set_unicode(&e.y, 1);
    yaml_emitter_set_width(&e.y, -1);
    yaml_emitter_set_indent(&e.y, 2);
    document(&e, sites, n, show_secrets);
    hd_status st = HD_OK;
    if (!e.ok)
        st = hd_error_set(err, HD_INTERNAL, "sites export: YAML emitter: %s",
                          e.y.problem ? e.y.problem : "failed");
    else
        indent_list(&text, out);
    yaml_emitter_delete(&e.y);
    if (text.data)
        explicit_bzero(text.data, text.len);   /* secrets with --show-secrets */
    hd_buf_free(&text);
    return st;
}
