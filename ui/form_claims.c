/* form_claims.c - the site form's text form of a map setting (jwt claims):
 * "iss=hookdesk; sub=orders" both ways (claims are separated by ';', or by
 * ',' where NAME= follows it), and the parsed claims as the field's hint.  No curses here, so the unit tests
 * check it directly.  The JSON side goes through hd_json.h (reading) and
 * auth_extra_set_claim (writing): ui/ never builds JSON by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hd_auth.h"
#include "hd_json.h"
#include "hd_util.h"
#include "ui.h"

typedef struct claims_acc {
    hd_buf out;              /* "k=v; k2=v2" so far */
    bool ok;                 /* every member was a string */
} claims_acc;

static bool claims_member(const json_member *m, void *ud)
{
    claims_acc *acc = ud;
    hd_buf key = { 0 }, value = { 0 };
    /* json_scan hands out the key without its quotes; they are right there. */
    bool ok = json_string_decode(m->key - 1, m->key_len + 2, &key) &&
              json_string_decode(m->value, m->value_len, &value);
    if (ok)
        hd_buf_printf(&acc->out, "%s%s=%s", acc->out.len ? "; " : "", hd_buf_str(&key),
                      hd_buf_str(&value));
    else
        acc->ok = false;
    hd_buf_free(&key);
    hd_buf_free(&value);
    return ok;
}

char *form_map_text(const char *json)
{
    if (!json || !*json)
        return hd_xstrdup("");
    claims_acc acc = { .ok = true };
    bool is_object = false;
    hd_error err = { 0 };
    if (!json_scan(json, strlen(json), claims_member, &acc, &is_object, &err) || !is_object ||
        !acc.ok) {
        hd_buf_free(&acc.out);
        return hd_xstrdup("");
    }
    char *text = hd_buf_steal(&acc.out);
    return text ? text : hd_xstrdup("");
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    return s;
}

/* Whether a ',' at p separates two claims: what follows it reads NAME=
 * (so "aud=a,b" stays one claim, "iss=hookdesk, aud=qa" is two). */
static bool comma_splits(const char *p)
{
    p++;
    while (*p == ' ' || *p == '\t')
        p++;
    const char *name = p;
    while (*p && *p != '=' && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
        p++;
    if (p == name)
        return false;
    while (*p == ' ' || *p == '\t')
        p++;
    return *p == '=';
}

/* The next item of text at *at (NUL-terminated in place; separators ';',
 * and ',' where comma_splits), NULL at the end. */
static char *next_item(char **at)
{
    char *item = *at;
    if (!item)
        return NULL;
    char *p = item;
    while (*p && *p != ';' && !(*p == ',' && comma_splits(p)))
        p++;
    *at = *p ? p + 1 : NULL;
    *p = '\0';
    return item;
}

bool form_map_parse(const char *text, const char *key, char **extra, char *why, size_t whylen)
{
    auth_extra_set(extra, key, NULL);   /* the text is the whole map */
    char *copy = hd_xstrdup(text ? text : "");
    bool ok = true;
    char *at = copy;
    for (char *item; (item = next_item(&at)) != NULL;) {
        item = trim(item);
        if (!*item)
            continue;
        char *eq = strchr(item, '=');
        if (!eq || eq == item) {
            snprintf(why, whylen, "auth.%s: '%s' is not NAME=VALUE", key, item);
            ok = false;
            break;
        }
        *eq = '\0';
        auth_extra_set_claim(extra, trim(item), trim(eq + 1));
    }
    free(copy);
    return ok;
}

void form_map_help(const char *text, char *out, size_t outlen)
{
    static const char how[] = "NAME=VALUE; NAME2=VALUE2 (; or , between claims)";
    char *copy = hd_xstrdup(text ? text : "");
    char *at = copy;
    hd_buf b = { 0 };
    int n = 0;
    for (char *item; (item = next_item(&at)) != NULL;) {
        item = trim(item);
        char *eq = strchr(item, '=');
        if (!*item || !eq || eq == item)
            continue;   /* the field's message says what is wrong */
        *eq = '\0';
        hd_buf_printf(&b, "%s%s = %s", n++ ? " | " : "", trim(item), trim(eq + 1));
    }
    if (n)
        snprintf(out, outlen, "%d claim%s: %s", n, n == 1 ? "" : "s", hd_buf_str(&b));
    else
        snprintf(out, outlen, "%s", how);
    hd_buf_free(&b);
    free(copy);
}
