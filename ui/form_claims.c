/* form_claims.c - the site form's text form of a map setting (jwt claims):
 * "iss=hookdesk; sub=orders" both ways.  No curses here, so the unit tests
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

bool form_map_parse(const char *text, const char *key, char **extra, char *why, size_t whylen)
{
    auth_extra_set(extra, key, NULL);   /* the text is the whole map */
    char *copy = hd_xstrdup(text ? text : "");
    bool ok = true;
    char *save = NULL;
    for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
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
