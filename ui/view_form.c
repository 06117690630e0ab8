/* view_form.c - the trusted-site form (add and edit), a small widget of our
 * own rather than libform: a column of fields, each a text, secret or
 * choice, and a Save button.
 *
 * DESIGN
 * Fields are data.  The fixed fields are the X-macro FORM_FIELD_LIST; what
 * the auth kinds need comes from the core's fields table (hd_auth.h): the
 * User, Header name and Secret fields take their label and whether they
 * show from the kind's entry for that slot, and every kind-specific
 * setting (slot AS_EXTRA) is a field of its own (id FF_COUNT + index in
 * auth_fields), shown while auth_field_active says so, with the table's
 * label, choices and place.  A setting added to the table appears here
 * without a change to this file.
 *
 * Validation is the core's: every change builds a `site` from the fields and
 * runs site_validate (pure: no key is read while typing); its error names
 * the field (err.field: "url", "auth.token_url") and the message is shown
 * under that field, once the operator has left it or tried to save.  Save
 * also probes the keys (site_probe_keys: the jwt RS256 PEM), then goes
 * through store_site_add/update, which validate again, so nothing invalid is ever
 * stored whatever the form does.  Save never makes the keys wait on the
 * database: it goes through the console's busy queue (ui_act, app.c; see
 * "saving without making the keys wait" below).  A hidden field is never part of the site
 * (so it can never hold a message the operator cannot see).
 *
 * Secrets are write-only: a stored secret (auth_secret or a secret key of
 * auth_extra such as session_token) shows as ******** and is kept as it is
 * unless the operator types a new one (the first key replaces it); typed
 * characters show as '*'.  After a kind change the stored site goes
 * through auth_change_kind, the function `sites edit --auth` uses: what it
 * keeps (user, secret and header within a family such as aws / aws-s3,
 * the settings the new kind has) is what the form keeps; what was typed
 * stays typed.
 *
 * Extra headers marked secret have a field of their own, Secret headers
 * ("Name: value; Name2: value2", typed masked, one write-only value for all
 * of them: kept unless retyped; the help line names the stored ones); the
 * Extra headers field holds the others.  A message about a secret header
 * names it by its place ("secret_headers: header 2 is not a valid header
 * name"), never by text typed in the masked field.
 *
 * More fields than rows (aws-s3 on 80x24 with a message, or a small
 * terminal): the column scrolls so that the focused field and its message
 * are always on screen.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hd_auth.h"
#include "hd_duration.h"
#include "hd_sanitize.h"
#include "hd_util.h"
#include "lineedit.h"
#include "term.h"
#include "ui.h"

typedef enum field_kind { F_TEXT, F_SECRET, F_CHOICE, F_BUTTON } field_kind;

/* Columns: id, label, kind, the field name site_validate uses in messages,
 * the hint shown above the fields while it has the focus. */
#define FORM_FIELD_LIST(_)                                                              \
    _(NAME,    "Name",          F_TEXT,   "name",         "1-64 of A-Z a-z 0-9 . _ -")  \
    _(URL,     "URL",           F_TEXT,   "url",          "http:// or https:// URL")    \
    _(CTYPE,   "Content type",  F_CHOICE, "content_type", "Space/Left/Right: json or form") \
    _(TIMEOUT, "Timeout",       F_TEXT,   "timeout",                                     \
      "per attempt, e.g. 10s (empty: delivery.timeout)")                                \
    _(INFLIGHT, "Max in flight", F_TEXT,  "max_in_flight",                               \
      "requests at once, 1-256 (empty: half of delivery.concurrency)")                  \
    _(AUTH,    "Auth",          F_CHOICE, "auth",         NULL) /* help: the kinds */  \
    _(USER,    "User",          F_TEXT,   "auth_user",    NULL)                         \
    _(HEADER,  "Header name",   F_TEXT,   "auth_header",  "e.g. X-Api-Key")             \
    _(SECRET,  "Secret",        F_SECRET, "auth_secret",  "typed masked; kept unless retyped") \
    _(HEADERS, "Extra headers", F_TEXT,   "headers",      "Name: value; Name2: value2") \
    _(SHEADERS, "Secret headers", F_SECRET, "secret_headers",                            \
      "Name: value; Name2: value2, typed masked; values masked everywhere")              \
    _(SAVE,    "",              F_BUTTON, "",             "Enter or Space saves")

typedef enum form_field {
#define FORM_FIELD_ENUM(id, label, kind, key, help) FF_##id,
    FORM_FIELD_LIST(FORM_FIELD_ENUM)
#undef FORM_FIELD_ENUM
    FF_COUNT
} form_field;

static const struct {
    const char *label;       /* shown left of the value */
    field_kind kind;         /* how it is edited */
    const char *key;         /* field name in site_validate messages */
    const char *help;        /* hint while focused, NULL = none */
} field_info[FF_COUNT] = {
#define FORM_FIELD_INFO(id, label, kind, key, help) { label, kind, key, help },
    FORM_FIELD_LIST(FORM_FIELD_INFO)
#undef FORM_FIELD_INFO
};

/* The auth_fields entries: ids FF_COUNT .. FF_COUNT + form_nextra() - 1 (only
 * the AS_EXTRA ones are ever shown; the others are User, Header, Secret). */
#define FORM_MAX_EXTRA 64
#define FORM_NFIELDS (FF_COUNT + FORM_MAX_EXTRA)
#define FORM_NONE (-1)

typedef struct form_state {
    int64_t site_id;                     /* 0 = adding */
    site orig;                           /* the stored site when editing (secrets included) */
    site kept;                           /* orig after auth_change_kind to the current kind:
                                            the stored values that still apply */
    char val[FORM_NFIELDS][512];         /* text of text, secret and extra choice fields */
    content_type ctype;                  /* choice */
    auth_kind auth;                      /* choice */
    bool typed[FORM_NFIELDS];            /* edited: a secret replaces the stored one, a map
                                            replaces the stored map */
    bool touched[FORM_NFIELDS];          /* left or edited: show its message */
    bool tried;                          /* a save was attempted: show every message */
    int focus;                           /* the field keys go to */
    size_t cursor;                       /* byte offset of the cursor in val[focus] */
    int err_field;                       /* where the current message belongs, FORM_NONE = none */
    char err[512];                       /* the current validation message, "" = valid */
    int scroll;                          /* first field line shown */
    site base;                           /* the site the fields built when the form
                                            opened: what differs from it, the operator
                                            changed (form_changes) */
    bool base_ok;                        /* base was built (else: all counts as changed) */
    int64_t version;                     /* the stored row's updated_at the save expects
                                            (store_site_update_if) */
    bool conflict;                       /* asking: the site changed meanwhile */
    char conflict_msg[256];              /* that question, sanitised */
} form_state;

static const keybind form_keys[] = {
    { '\t', REQ_NEXT_FIELD, "Next" },
    { TK_DOWN, REQ_NEXT_FIELD, NULL },
    { TK_BTAB, REQ_PREV_FIELD, NULL },
    { TK_UP, REQ_PREV_FIELD, NULL },
    { '\n', REQ_FIELD_ENTER, NULL },
    { TK_CTRL('s'), REQ_SAVE, "Save" },
    { TK_F2, REQ_SAVE, NULL },
    { TK_ESC, REQ_FORM_CANCEL, "Cancel" },
    { 0, REQ_NONE, NULL },
};

/* The keys form_raw_key reads itself, for the `?` overlay: the line
 * editor's in a text field, then these (keep them in step with it). */
static const key_help choice_help[] = {
    { { ' ', TK_RIGHT, 'l' }, "Next choice (content type, auth kind...)" },
    { { TK_LEFT, 'h' }, "Previous choice" },
    { { ' ' }, "On the Save button: save" },
    { { 0 }, NULL },
};

static const key_help *const form_raw_help[] = { lineedit_key_help, choice_help, NULL };

/* ---- the fields ---- */

static int form_nextra(void)
{
    return auth_nfields < FORM_MAX_EXTRA ? auth_nfields : FORM_MAX_EXTRA;
}

/* The kind-specific setting of field id (an AS_EXTRA entry), or NULL. */
static const auth_field *extra_key(int id)
{
    const auth_field *k =
        id >= FF_COUNT && id < FF_COUNT + form_nextra() ? &auth_fields[id - FF_COUNT] : NULL;
    return k && k->slot == AS_EXTRA ? k : NULL;
}

static int extra_field(const char *name)
{
    const auth_field *k = auth_field_find(name);
    return k && k - auth_fields < form_nextra() ? FF_COUNT + (int)(k - auth_fields) : FORM_NONE;
}

/* The core's field behind a User, Header name or Secret field. */
static const auth_field *slot_field(const form_state *f, int id)
{
    switch (id) {
    case FF_USER: return auth_field_of(f->auth, AS_USER);
    case FF_HEADER: return auth_field_of(f->auth, AS_HEADER);
    case FF_SECRET: return auth_field_of(f->auth, AS_SECRET);
    default: return extra_key(id);
    }
}

static field_kind kind_of(int id)
{
    if (id < FF_COUNT)
        return field_info[id].kind;
    const auth_field *k = extra_key(id);
    if (k && k->secret)
        return F_SECRET;
    return k && k->choices[0] ? F_CHOICE : F_TEXT;
}

/* Whether field id shows, its when_key setting read from the form. */
static bool field_visible(const form_state *f, int id)
{
    if (id < 0)
        return false;
    if (id < FF_COUNT && id != FF_USER && id != FF_HEADER && id != FF_SECRET)
        return true;
    const auth_field *k = slot_field(f, id);
    int when = k && k->when_key ? extra_field(k->when_key) : FORM_NONE;
    return auth_field_active(k, f->auth, when != FORM_NONE ? f->val[when] : NULL);
}

/* The visible fields in screen order: name..auth, the leading settings of
 * the kind, its credentials, its other settings (secret ones last), extra
 * headers, Save.  Returns how many. */
static int form_layout(const form_state *f, int *out)
{
    int n = 0;
    for (int id = FF_NAME; id <= FF_AUTH; id++)
        out[n++] = id;
    for (int pass = 0; pass < 4; pass++) {
        if (pass == 1) {
            for (int id = FF_USER; id <= FF_SECRET; id++)
                if (field_visible(f, id))
                    out[n++] = id;
            continue;
        }
        for (int i = 0; i < form_nextra(); i++) {
            const auth_field *k = extra_key(FF_COUNT + i);
            int want = !k ? -1 : k->lead ? 0 : k->secret ? 3 : 2;
            if (want == pass && field_visible(f, FF_COUNT + i))
                out[n++] = FF_COUNT + i;
        }
    }
    out[n++] = FF_HEADERS;
    out[n++] = FF_SHEADERS;
    out[n++] = FF_SAVE;
    return n;
}

static const char *field_label(const form_state *f, int id, char *buf, size_t len)
{
    (void)buf, (void)len;
    const auth_field *k = id >= FF_USER ? slot_field(f, id) : NULL;
    if (k)
        return k->label;
    return id < FF_COUNT ? field_info[id].label : "";
}

/* Number of the stored site's headers marked secret. */
static int stored_secret_headers(const form_state *f)
{
    int n = 0;
    for (int i = 0; f->site_id && i < f->orig.nheaders; i++)
        n += f->orig.headers[i].secret;
    return n;
}

static const char *field_help(const form_state *f, int id, char *buf, size_t len)
{
    if (id == FF_SHEADERS && !f->typed[id] && stored_secret_headers(f) > 0) {
        /* Names only: which ones typing would replace. */
        size_t at = (size_t)snprintf(buf, len, "stored: ");
        for (int i = 0, k = 0; i < f->orig.nheaders && at < len; i++)
            if (f->orig.headers[i].secret)
                at += (size_t)snprintf(buf + at, len - at, "%s%s", k++ ? ", " : "",
                                       f->orig.headers[i].name);
        if (at < len)
            snprintf(buf + at, len - at, " (typing replaces them all: Name: value; ...)");
        return buf;
    }
    if (id == FF_AUTH) {
        size_t at = (size_t)snprintf(buf, len, "Space/Left/Right: ");
        if (at < len)
            auth_kind_list(buf + at, len - at, " ");
        return buf;
    }
    if (id < FF_COUNT)
        return id >= 0 ? field_info[id].help : NULL;
    const auth_field *k = extra_key(id);
    if (k && k->type == AX_MAP) {
        form_map_help(f->val[id], buf, len);   /* the claims as parsed */
        return buf;
    }
    return k ? k->help : NULL;
}

/* The stored secret a secret field keeps while nothing is typed (malloc'd,
 * NULL = none; for Secret headers only whether there are some). */
static char *stored_secret(const form_state *f, int id)
{
    if (id == FF_SHEADERS)
        return stored_secret_headers(f) > 0 ? hd_xstrdup("x") : NULL;
    if (id == FF_SECRET)
        return f->kept.auth_secret && *f->kept.auth_secret ? hd_xstrdup(f->kept.auth_secret)
                                                           : NULL;
    const auth_field *k = extra_key(id);
    return k ? auth_extra_get(f->kept.auth_extra, k->name) : NULL;
}

void form_free(app *a)
{
    form_state *f = a->form;
    if (!f)
        return;
    site_free(&f->orig);
    site_free(&f->kept);
    site_free(&f->base);
    explicit_bzero(f->val, sizeof f->val);   /* typed secrets */
    free(f);
    a->form = NULL;
}

/* A text field not edited shows the stored value that still applies. */
static void reload_text(form_state *f, int id, const char *kept)
{
    if (!f->typed[id])
        snprintf(f->val[id], sizeof f->val[0], "%s", kept ? kept : "");
}

/* A new kind: the stored site goes through the core's auth_change_kind,
 * as with `sites edit --auth`, and the fields show what it keeps. */
static void form_set_auth(form_state *f, auth_kind k)
{
    f->auth = k;
    site_free(&f->kept);
    site_copy(&f->kept, &f->orig);
    auth_change_kind(&f->kept, k);
    reload_text(f, FF_USER, f->kept.auth_user);
    reload_text(f, FF_HEADER, f->kept.auth_header);
}

/* ---- building a site from the fields ---- */

/* Cuts "Name: value" at its colon: ends the name there, without the
 * spaces before it, and returns the value after the spaces. */
static char *cut_header(char *item, char *colon)
{
    *colon = '\0';
    char *value = colon + 1;
    while (*value == ' ')
        value++;
    char *end = item + strlen(item);
    while (end > item && end[-1] == ' ')
        *--end = '\0';
    return value;
}

/* "Name: value; Name2: value2" into s's extra headers (orig: the stored
 * site when editing, whose credential headers show as ********). */
static bool parse_headers(const char *text, const site *orig, site *s, hd_error *err)
{
    char *copy = hd_xstrdup(text);
    bool ok = true;
    char *save = NULL;
    for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
        while (*item == ' ')
            item++;
        if (!*item)
            continue;
        char *colon = strchr(item, ':');
        if (!colon) {
            hd_error_field(err, HD_INVALID, "headers", "'%s' is not 'Name: value'", item);
            ok = false;
            break;
        }
        char *value = cut_header(item, colon);
        /* A credential header still reading ******** keeps its stored value. */
        const char *kept = NULL;
        if (orig && site_header_is_secret(item) && strcmp(value, site_mask("x")) == 0)
            for (int k = 0; k < orig->nheaders; k++)
                if (!orig->headers[k].secret && strcasecmp(orig->headers[k].name, item) == 0)
                    kept = orig->headers[k].value;
        site_add_header(s, item, kept ? kept : value);
    }
    free(copy);
    return ok;
}

/* The Secret headers field into s, marked secret: typed, its text; else the
 * stored site's secret headers as they are.  Its text is never quoted in
 * err (it is typed masked): an item is named by its place. */
static bool parse_secret_headers(const form_state *f, site *s, hd_error *err)
{
    if (!f->typed[FF_SHEADERS]) {
        for (int i = 0; f->site_id && i < f->orig.nheaders; i++)
            if (f->orig.headers[i].secret)
                site_add_header_secret(s, f->orig.headers[i].name, f->orig.headers[i].value,
                                       true);
        return true;
    }
    char *copy = hd_xstrdup(f->val[FF_SHEADERS]);
    bool ok = true;
    char *save = NULL;
    int n = 0;
    for (char *item = strtok_r(copy, ";", &save); item; item = strtok_r(NULL, ";", &save)) {
        while (*item == ' ')
            item++;
        if (!*item)
            continue;
        n++;
        char *colon = strchr(item, ':');
        if (!colon || colon == item) {
            hd_error_field(err, HD_INVALID, "secret_headers", "header %d is not 'Name: value'", n);
            ok = false;
            break;
        }
        char *value = cut_header(item, colon);
        site_add_header_secret(s, item, value, true);
    }
    explicit_bzero(copy, strlen(f->val[FF_SHEADERS]));
    free(copy);
    return ok;
}

/* site_validate names a header by its text ("headers: 'X-Key' is not a
 * valid header name"): when that is a header of the Secret headers field
 * (and of no other field), say "secret_headers: header N ..." instead. */
static void hide_secret_header_name(const form_state *f, const site *s, hd_error *err)
{
    char *msg = err->msg;
    size_t len = sizeof err->msg;
    if (strcmp(err->field, "headers") != 0 || !f->typed[FF_SHEADERS])
        return;
    int n = 0;
    for (int i = 0; i < s->nheaders; i++) {
        if (!s->headers[i].secret)
            continue;
        n++;
        bool plain = false;
        for (int k = 0; k < s->nheaders; k++)
            plain = plain || (!s->headers[k].secret &&
                              strcasecmp(s->headers[k].name, s->headers[i].name) == 0);
        char *needle = hd_xasprintf("'%s'", s->headers[i].name);
        char *at = plain ? NULL : strstr(msg, needle);
        if (at) {
            char *text = hd_xasprintf("secret_headers: %.*sheader %d%s", (int)(at - msg - 9),
                                      msg + 9, n, at + strlen(needle));
            snprintf(msg, len, "%s", text);
            snprintf(err->field, sizeof err->field, "secret_headers");
            explicit_bzero(text, strlen(text));
            free(text);
            free(needle);
            return;
        }
        free(needle);
    }
}

/* A kind-specific setting typed in the form into s->auth_extra, the same
 * way `sites add/edit` applies its flag (by the setting's type). */
static bool build_one_extra(const auth_field *k, const char *v, site *s, hd_error *err)
{
    char field[64];
    snprintf(field, sizeof field, "auth.%s", k->name);
    switch (k->type) {
    case AX_STRING: auth_extra_set(&s->auth_extra, k->name, v); break;
    case AX_DURATION: {
        int64_t ms = 0;
        const char *w = NULL;
        while (*v == ' ')
            v++;
        if (*v && !duration_parse(v, &ms, &w)) {
            hd_error_field(err, HD_INVALID, field, "%s", w ? w : "not a duration (5m, 90s)");
            return false;
        }
        auth_extra_set_ms(&s->auth_extra, k->name, ms);
        break;
    }
    case AX_MAP: {
        char why[512];
        if (!form_map_parse(v, k->name, &s->auth_extra, why, sizeof why)) {
            hd_error_set(err, HD_INVALID, "%s", why);   /* "auth.claims: ..." */
            snprintf(err->field, sizeof err->field, "%s", field);
            return false;
        }
        break;
    }
    }
    return true;
}

/* The auth_extra settings: the stored ones still applying (f->kept), with
 * the visible fields' values over them. */
static bool build_extra(const form_state *f, site *s, hd_error *err)
{
    s->auth_extra = hd_xstrdup(f->kept.auth_extra);
    for (int i = 0; i < form_nextra(); i++) {
        int id = FF_COUNT + i;
        const auth_field *k = extra_key(id);
        if (!k)
            continue;
        if (!field_visible(f, id))
            auth_extra_set(&s->auth_extra, k->name, NULL);
        else if ((k->secret || k->type == AX_MAP) && !f->typed[id])
            continue;   /* the stored value stays */
        else if (!build_one_extra(k, f->val[id], s, err))
            return false;
    }
    auth_extra_keep_kind(&s->auth_extra, f->auth);
    return true;
}

/* "" (blanks around allowed) = 0, the default; else 1..SITE_MAX_IN_FLIGHT.
 * A typed 0 is refused: the default is the empty field. */
static bool parse_max_in_flight(const char *text, int *out)
{
    while (*text == ' ')
        text++;
    int n = 0, digits = 0;
    for (; *text >= '0' && *text <= '9'; text++, digits++) {
        n = n * 10 + (*text - '0');
        if (n > SITE_MAX_IN_FLIGHT)
            return false;
    }
    while (*text == ' ')
        text++;
    if (*text || (digits > 0 && n == 0))
        return false;
    *out = n;
    return true;
}

/* Builds a site from the fields; false with err when a field cannot even
 * be parsed (then err names it like site_validate does). */
static bool form_build(const form_state *f, site *s, hd_error *err)
{
    site_init(s);
    s->id = f->site_id;
    s->enabled = f->site_id ? f->orig.enabled : true;
    s->name = hd_xstrdup(f->val[FF_NAME]);
    s->url = hd_xstrdup(f->val[FF_URL]);
    s->ctype = f->ctype;
    s->auth = f->auth;
    const char *tmo = f->val[FF_TIMEOUT];
    while (*tmo == ' ')
        tmo++;
    if (*tmo) {
        const char *w = NULL;
        if (!duration_parse(tmo, &s->timeout_ms, &w)) {
            hd_error_field(err, HD_INVALID, "timeout", "%s", w ? w : "not a duration (10s, 500ms)");
            return false;
        }
    }
    if (!parse_max_in_flight(f->val[FF_INFLIGHT], &s->max_in_flight)) {
        hd_error_field(err, HD_INVALID, "max_in_flight", "must be 1 to %d (empty: the default)",
                       SITE_MAX_IN_FLIGHT);
        return false;
    }
    if (field_visible(f, FF_USER))
        s->auth_user = hd_xstrdup(f->val[FF_USER]);
    if (field_visible(f, FF_HEADER))
        s->auth_header = hd_xstrdup(f->val[FF_HEADER]);
    if (field_visible(f, FF_SECRET))
        s->auth_secret = f->typed[FF_SECRET] ? hd_xstrdup(f->val[FF_SECRET])
                                             : stored_secret(f, FF_SECRET);
    if (!build_extra(f, s, err))
        return false;
    return parse_headers(f->val[FF_HEADERS], f->site_id ? &f->orig : NULL, s, err) &&
           parse_secret_headers(f, s, err);
}

/* The form field an error is about (err->field), FORM_NONE for none. */
static int field_of_error(const hd_error *err)
{
    for (int i = 0; i < FF_COUNT; i++)
        if (field_info[i].key[0] && strcmp(err->field, field_info[i].key) == 0)
            return i;
    if (strncmp(err->field, "auth.", 5) == 0)
        return extra_field(err->field + 5);
    return FORM_NONE;
}

/* err's message as the form shows it, under the field it names. */
static void form_set_error(form_state *f, const hd_error *err)
{
    char *clean = sanitize_dup(err->msg, 0);
    snprintf(f->err, sizeof f->err, "%s", clean);
    free(clean);
    f->err_field = field_of_error(err);
}

static void form_validate(form_state *f)
{
    site s;
    hd_error err = { 0 };
    f->err[0] = '\0';
    f->err_field = FORM_NONE;
    if (form_build(f, &s, &err) && site_validate(&s, &err) == HD_OK)
        hd_error_clear(&err);
    hide_secret_header_name(f, &s, &err);
    site_free(&s);
    if (err.msg[0]) {
        form_set_error(f, &err);
        if (f->err_field != FORM_NONE && !field_visible(f, f->err_field))
            f->err_field = FORM_NONE;   /* shown under the fields */
    }
}

/* The stored settings into the extra fields. */
static void form_load_extra(form_state *f)
{
    for (int i = 0; i < form_nextra(); i++) {
        const auth_field *k = extra_key(FF_COUNT + i);
        char *v = f->val[FF_COUNT + i];
        size_t cap = sizeof f->val[0];
        if (!k || k->secret)
            continue;   /* shown as ******** from f->kept */
        if (k->type == AX_DURATION) {
            int64_t ms = auth_extra_get_ms(f->orig.auth_extra, k->name, 0);
            if (ms > 0)
                duration_format(ms, v, cap);
        } else {
            char *stored = auth_extra_get(f->orig.auth_extra, k->name);
            char *text = k->type == AX_MAP ? form_map_text(stored) : NULL;
            snprintf(v, cap, "%s", text ? text : stored ? stored : "");
            free(text);
            free(stored);
        }
        if (k->choices[0] && !*v)
            snprintf(v, cap, "%s", k->choices[0]);
    }
}

/* Moves the focus; the cursor goes to the end of the field's text. */
static void form_focus(form_state *f, int id)
{
    f->focus = id;
    f->cursor = strlen(f->val[id]);
}

void form_begin(app *a, int64_t site_id)
{
    form_free(a);
    form_state *f = hd_xcalloc(1, sizeof *f);
    site_init(&f->orig);
    f->site_id = site_id;
    f->ctype = CONTENT_JSON;
    f->auth = AUTH_NONE;
    if (site_id) {
        hd_error err = { 0 };
        if (store_site_get(a->st, site_id, &f->orig, &err) != HD_OK) {
            ui_flash(a, true, "%s", err.msg);
            site_free(&f->orig);
            free(f);
            return;
        }
        const site *o = &f->orig;
        snprintf(f->val[FF_NAME], sizeof f->val[0], "%s", o->name ? o->name : "");
        snprintf(f->val[FF_URL], sizeof f->val[0], "%s", o->url ? o->url : "");
        if (o->timeout_ms)
            duration_format(o->timeout_ms, f->val[FF_TIMEOUT], sizeof f->val[0]);
        if (o->max_in_flight > 0)
            snprintf(f->val[FF_INFLIGHT], sizeof f->val[0], "%d", o->max_in_flight);
        snprintf(f->val[FF_USER], sizeof f->val[0], "%s", o->auth_user ? o->auth_user : "");
        snprintf(f->val[FF_HEADER], sizeof f->val[0], "%s", o->auth_header ? o->auth_header : "");
        size_t at = 0;
        for (int i = 0; i < o->nheaders && at < sizeof f->val[0]; i++)
            if (!o->headers[i].secret)   /* those are in Secret headers */
                at += (size_t)snprintf(f->val[FF_HEADERS] + at, sizeof f->val[0] - at,
                                       "%s%s: %s", at ? "; " : "", o->headers[i].name,
                                       site_header_shown(&o->headers[i]));
        f->ctype = o->ctype;
    }
    form_set_auth(f, f->orig.auth);
    form_load_extra(f);
    form_focus(f, FF_NAME);
    a->form = f;
    form_validate(f);
    hd_error berr = { 0 };
    f->base_ok = form_build(f, &f->base, &berr);
    f->version = f->orig.updated_at;
    a->view = VIEW_FORM;   /* not ui_switch: Back returns to Sites */
    a->need_refresh = true;
}

static void form_move(form_state *f, int dir)
{
    int order[FORM_NFIELDS];
    int n = form_layout(f, order);
    int at = 0;
    if (f->focus >= 0)
        f->touched[f->focus] = true;
    for (int i = 0; i < n; i++)
        if (order[i] == f->focus)
            at = i;
    form_focus(f, order[(at + dir + n) % n]);
}

/* PgUp/PgDn: the first field / the Save button (the column is one page,
 * scrolled to the focus). */
static void form_move_end(form_state *f, int dir)
{
    int order[FORM_NFIELDS];
    int n = form_layout(f, order);
    if (n <= 0)
        return;
    if (f->focus >= 0)
        f->touched[f->focus] = true;
    form_focus(f, order[dir < 0 ? 0 : n - 1]);
}

/* ---- saving: only what the operator changed, on the version read ----
 *
 * A save never writes the fields wholesale: what the operator changed
 * (the groups where the fields' site differs from f->base, built the same
 * way when the form opened) goes onto the row as it is stored now, and the
 * rest (another console's timeout, a pause by `p` or `sites edit
 * --disable`) stays as it is.  The row must still be the version the form
 * read (store_site_update_if): when another process changed it meanwhile,
 * the form says what changed and asks (r reload, s save anyway, Esc keep
 * editing) instead of saving. */

/* Groups of site fields, as the operator edits them. */
enum {
    CH_NAME = 1 << 0,
    CH_URL = 1 << 1,
    CH_CTYPE = 1 << 2,
    CH_TIMEOUT = 1 << 3,
    CH_INFLIGHT = 1 << 4,
    CH_HEADERS = 1 << 5,
    CH_AUTH = 1 << 6,        /* the kind and all its settings, as one */
    CH_ENABLED = 1 << 7,     /* paused / resumed (never by the form) */
    CH_ALL = (1 << 8) - 1
};

static bool same_str(const char *x, const char *y)
{
    return strcmp(x ? x : "", y ? y : "") == 0;
}

/* The groups in which x and y differ. */
static unsigned site_changes(const site *x, const site *y)
{
    unsigned c = 0;
    if (!same_str(x->name, y->name))
        c |= CH_NAME;
    if (!same_str(x->url, y->url))
        c |= CH_URL;
    if (x->ctype != y->ctype)
        c |= CH_CTYPE;
    if (x->timeout_ms != y->timeout_ms)
        c |= CH_TIMEOUT;
    if (x->max_in_flight != y->max_in_flight)
        c |= CH_INFLIGHT;
    if (x->enabled != y->enabled)
        c |= CH_ENABLED;
    bool hsame = x->nheaders == y->nheaders;
    for (int i = 0; hsame && i < x->nheaders; i++)
        hsame = same_str(x->headers[i].name, y->headers[i].name) &&
                same_str(x->headers[i].value, y->headers[i].value) &&
                x->headers[i].secret == y->headers[i].secret;
    if (!hsame)
        c |= CH_HEADERS;
    if (x->auth != y->auth || !same_str(x->auth_user, y->auth_user) ||
        !same_str(x->auth_secret, y->auth_secret) || !same_str(x->auth_header, y->auth_header) ||
        !same_str(x->auth_extra, y->auth_extra))
        c |= CH_AUTH;
    return c;
}

/* What the operator changed in the form: s, the fields' site now, against
 * the one they built when the form opened. */
static unsigned form_changes(const form_state *f, const site *s)
{
    return f->base_ok ? site_changes(s, &f->base) & ~(unsigned)CH_ENABLED : CH_ALL;
}

/* Whether the fields differ from what the form opened with. */
static bool form_dirty(const form_state *f)
{
    site s;
    hd_error err = { 0 };
    bool built = form_build(f, &s, &err);
    bool dirty = !built || form_changes(f, &s) != 0;
    site_free(&s);
    return dirty;
}

static char *dup_or_null(const char *t)
{
    return t ? hd_xstrdup(t) : NULL;
}

/* out = cur (the row as stored now) with the groups in `mine` from s. */
static void site_merge(site *out, const site *cur, const site *s, unsigned mine)
{
    site_copy(out, cur);
    if (mine & CH_NAME) {
        free(out->name);
        out->name = dup_or_null(s->name);
    }
    if (mine & CH_URL) {
        free(out->url);
        out->url = dup_or_null(s->url);
    }
    if (mine & CH_CTYPE)
        out->ctype = s->ctype;
    if (mine & CH_TIMEOUT)
        out->timeout_ms = s->timeout_ms;
    if (mine & CH_INFLIGHT)
        out->max_in_flight = s->max_in_flight;
    if (mine & CH_HEADERS) {
        for (int i = 0; i < out->nheaders; i++) {
            free(out->headers[i].name);
            free(out->headers[i].value);
        }
        free(out->headers);
        out->headers = NULL;
        out->nheaders = 0;
        for (int i = 0; i < s->nheaders; i++)
            site_add_header_secret(out, s->headers[i].name, s->headers[i].value,
                                   s->headers[i].secret);
    }
    if (mine & CH_AUTH) {
        out->auth = s->auth;
        free(out->auth_user);
        free(out->auth_secret);
        free(out->auth_header);
        free(out->auth_extra);
        out->auth_user = dup_or_null(s->auth_user);
        out->auth_secret = dup_or_null(s->auth_secret);
        out->auth_header = dup_or_null(s->auth_header);
        out->auth_extra = dup_or_null(s->auth_extra);
    }
}

/* "timeout, paused": the groups another changed, from orig to cur. */
static void describe_changes(const site *orig, const site *cur, char *out, size_t len)
{
    static const struct {
        unsigned bit;
        const char *what;
    } names[] = {
        { CH_NAME, "name" },       { CH_URL, "URL" },         { CH_CTYPE, "content type" },
        { CH_TIMEOUT, "timeout" }, { CH_INFLIGHT, "max in flight" },
        { CH_HEADERS, "headers" }, { CH_AUTH, "auth" },
    };
    unsigned c = site_changes(orig, cur);
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0] && at < len; i++)
        if (c & names[i].bit)
            at += (size_t)snprintf(out + at, len - at, "%s%s", at ? ", " : "", names[i].what);
    if ((c & CH_ENABLED) && at < len)
        snprintf(out + at, len - at, "%s%s", at ? ", " : "", cur->enabled ? "resumed" : "paused");
}

/* The site changed meanwhile: say what and ask (form_conflict_key). */
static void form_ask_conflict(app *a, form_state *f, const site *cur)
{
    char what[160];
    describe_changes(&f->orig, cur, what, sizeof what);
    char *msg = hd_xasprintf("changed by someone else since you opened it%s%s",
                             what[0] ? ": " : "", what);
    char *clean = sanitize_dup(msg, 0);
    snprintf(f->conflict_msg, sizeof f->conflict_msg, "%s", clean);
    free(clean);
    free(msg);
    f->conflict = true;
    ui_flash(a, true, "not saved: %s", f->conflict_msg);
}

/* Stores s (the fields' site) over an existing site: what the operator
 * changed, merged onto the row as stored now, if that is still
 * f->version.  HD_CHANGED: asked, nothing written. */
static hd_status form_store_edit(app *a, form_state *f, const site *s, hd_error *err)
{
    site cur;
    hd_status rc = store_site_get(a->st, f->site_id, &cur, err);
    if (rc == HD_NOT_FOUND)
        return hd_error_set(err, rc, "the site was deleted since you opened it");
    if (rc != HD_OK)
        return rc;
    if (cur.updated_at != f->version) {
        form_ask_conflict(a, f, &cur);
        site_free(&cur);
        return HD_CHANGED;
    }
    site merged;
    site_merge(&merged, &cur, s, form_changes(f, s));
    rc = store_site_update_if(a->st, &merged, f->version, err);
    site_free(&merged);
    site_free(&cur);
    if (rc == HD_CHANGED) {
        /* Changed between the read above and the write: read it again. */
        if (store_site_get(a->st, f->site_id, &cur, NULL) == HD_OK) {
            form_ask_conflict(a, f, &cur);
            site_free(&cur);
        } else {
            rc = hd_error_set(err, HD_NOT_FOUND, "the site was deleted since you opened it");
        }
    }
    return rc;
}

/* ---- saving without making the keys wait ----
 *
 * Save goes through the console's busy queue (ui_act, app.c): the write
 * runs at once, and when another process holds the write lock it is kept
 * and tried again every loop turn while the footer says "database busy,
 * retrying".  The form stays open meanwhile, its fields read-only so that
 * what lands is what the operator saw when saving; Esc stops the wait
 * (ui_act_cancel) and the fields are still there to save again.  Each try
 * builds the site from the fields and, for an edit, checks the version
 * again: a change another process made while the save waited is found
 * and asked about (form_ask_conflict) as on a first try. */

/* The store write of one try; HD_BUSY: nothing written, try again. */
static hd_status form_save_run(app *a, ui_act *act, hd_error *err)
{
    form_state *f = a->form;
    if (!f || f->site_id != act->id)
        return hd_error_set(err, HD_INVALID, "the form was closed before it could be saved");
    site s;
    hd_error build_err = { 0 };
    form_build(f, &s, &build_err);   /* form_save validated the fields */
    /* The keys are read only now (validation never reads them). */
    hd_status rc = site_probe_keys(&s, err);
    if (rc == HD_OK)
        rc = f->site_id ? form_store_edit(a, f, &s, err)
                        : store_site_add(a->st, &s, &act->out[0], err);
    site_free(&s);
    return rc;
}

/* A save the store refused (it validates again and knows about
 * duplicates): the message under its field, the fields as typed. */
static void form_save_refused(app *a, form_state *f, hd_status rc, const hd_error *err)
{
    site s;
    hd_error shown = *err, build_err = { 0 };
    form_build(f, &s, &build_err);
    hide_secret_header_name(f, &s, &shown);
    site_free(&s);
    form_set_error(f, &shown);
    if (rc == HD_EXISTS)
        f->err_field = FF_NAME;
    if (f->err_field != FORM_NONE && field_visible(f, f->err_field))
        form_focus(f, f->err_field);
    else
        f->err_field = FORM_NONE;
    ui_flash(a, true, "not saved: %s", f->err);
}

/* How the save ended (at once or after waiting): never HD_BUSY here. */
static void form_save_done(app *a, const ui_act *act, hd_status rc, const hd_error *err)
{
    form_state *f = a->form;
    if (!f || f->site_id != act->id) {
        if (rc != HD_OK)
            ui_flash(a, true, "not saved: %s", err->msg);
        return;
    }
    if (rc == HD_CHANGED)
        return;   /* form_ask_conflict asked; the fields stay as typed */
    if (rc != HD_OK) {
        form_save_refused(a, f, rc, err);
        return;
    }
    ui_flash(a, false, "trusted site %s saved", f->val[FF_NAME]);
    bool shown = a->view == VIEW_FORM;
    form_free(a);
    ui_wakeup_engine(a);
    a->sites_select_id = act->out[0];   /* the cursor on the site just added */
    if (shown)
        ui_switch(a, VIEW_SITES);
}

/* Whether a save of the form waits for the database. */
static bool form_save_waiting(const app *a)
{
    for (int i = 0; i < a->nacts; i++)
        if (a->acts[i].run == form_save_run)
            return true;
    return false;
}

static void form_save(app *a, form_state *f)
{
    if (form_save_waiting(a))
        return;   /* tried every turn already; the footer says so */
    f->tried = true;
    f->conflict = false;
    form_validate(f);
    if (f->err[0]) {
        if (f->err_field != FORM_NONE)
            form_focus(f, f->err_field);
        ui_flash(a, true, "not saved: %s", f->err);
        return;
    }
    ui_act act = { .run = form_save_run, .done = form_save_done, .id = f->site_id };
    snprintf(act.what, sizeof act.what, "%s site %.72s", f->site_id ? "save" : "add",
             f->val[FF_NAME]);
    ui_act_start(a, &act);
}

/* While the form asks about a site changed meanwhile: r reloads it (the
 * edits are dropped), s saves the edits over it (what the operator did not
 * change keeps the other's values), Esc goes back to editing.  Other keys
 * are swallowed: the question stays. */
static bool form_conflict_key(app *a, form_state *f, int key)
{
    if (key == 'r' || key == 'R') {
        int64_t id = f->site_id;
        form_begin(a, id);   /* frees f */
        if (a->form)
            ui_flash(a, false, "reloaded: your edits were dropped");
        else
            ui_switch(a, VIEW_SITES);   /* deleted meanwhile: form_begin said so */
        return true;
    }
    if (key == 's' || key == 'S') {
        site cur;
        hd_error err = { 0 };
        if (store_site_get(a->st, f->site_id, &cur, &err) != HD_OK) {
            f->conflict = false;
            ui_flash(a, true, "not saved: the site was deleted since you opened it");
            return true;
        }
        /* The current version is the one the save now expects: another
         * change after it asks again. */
        f->version = cur.updated_at;
        site_free(&cur);
        form_save(a, f);
        return true;
    }
    if (key == TK_ESC) {
        f->conflict = false;
        ui_flash(a, false, "not saved; still editing");
        return true;
    }
    return true;
}

/* ---- keys ---- */

/* Space/Right or Left on a choice field. */
static void form_choose(form_state *f, int dir)
{
    if (f->focus == FF_CTYPE) {
        f->ctype = f->ctype == CONTENT_JSON ? CONTENT_FORM : CONTENT_JSON;
    } else if (f->focus == FF_AUTH) {
        form_set_auth(f, (auth_kind)((f->auth + dir + AUTH_KIND_COUNT) % AUTH_KIND_COUNT));
    } else {
        const auth_field *h = extra_key(f->focus);
        if (!h || !h->choices[0])
            return;
        int n = 0, at = -1;
        while (n < (int)(sizeof h->choices / sizeof h->choices[0]) && h->choices[n]) {
            if (strcmp(h->choices[n], f->val[f->focus]) == 0)
                at = n;
            n++;
        }
        if (at < 0)
            at = dir > 0 ? -1 : 0;
        snprintf(f->val[f->focus], sizeof f->val[0], "%s", h->choices[((at + dir) % n + n) % n]);
        f->typed[f->focus] = true;
    }
    f->touched[f->focus] = true;
    form_validate(f);
}

/* While a save waits for the database the fields are read-only: only the
 * keys that move between fields (or save: a no-op then) get through. */
static bool form_key_moves(int key)
{
    switch (keys_resolve(form_keys, key)) {
    case REQ_NEXT_FIELD:
    case REQ_PREV_FIELD:
    case REQ_PAGE_UP:
    case REQ_PAGE_DOWN:
    case REQ_FIELD_ENTER:
    case REQ_SAVE: return true;
    default: return false;
    }
}

static bool form_raw_key(app *a, int key)
{
    form_state *f = a->form;
    if (!f)
        return false;
    if (f->conflict)
        return form_conflict_key(a, f, key);
    if (form_save_waiting(a))
        return !form_key_moves(key);
    bool printable = key >= 32 && key < 0x110000 && key != 127;
    field_kind k = kind_of(f->focus);
    if (k == F_TEXT || k == F_SECRET) {
        char *v = f->val[f->focus];
        if (k == F_SECRET && !f->typed[f->focus] &&
            (printable || key == TK_BACKSPACE || key == TK_CTRL('u'))) {
            f->typed[f->focus] = true;   /* the first key replaces the stored secret */
            v[0] = '\0';
            f->cursor = 0;
            if (!printable) {
                f->touched[f->focus] = true;
                form_validate(f);
                return true;
            }
        }
        if (k == F_SECRET) {
            /* Typed masked: the whole value is one word, so that moving by
             * words never shows where its punctuation is. */
            key = key == TK_ALT('b')                                ? TK_HOME
                  : key == TK_ALT('f')                              ? TK_END
                  : key == TK_ALT(TK_BACKSPACE) || key == TK_CTRL('w') ? TK_CTRL('u')
                  : key == TK_ALT('d')                              ? TK_CTRL('k')
                                                                    : key;
        }
        lineedit_result r = lineedit_key(v, sizeof f->val[0], &f->cursor, key);
        if (r == LE_IGNORED)
            return printable;   /* a full field swallows letters; other keys go on */
        if (r == LE_MOVED)
            return true;
        f->typed[f->focus] = true;
        f->touched[f->focus] = true;
        form_validate(f);
        return true;
    }
    if (k == F_CHOICE) {
        int dir = 0;
        if (key == ' ' || key == TK_RIGHT || key == 'l')
            dir = 1;
        else if (key == TK_LEFT || key == 'h')
            dir = -1;
        if (dir)
            form_choose(f, dir);
        return printable || dir;
    }
    if (key == ' ') {
        form_save(a, f);
        return true;
    }
    return printable;   /* typed letters never leak out as commands */
}

/* Closes the form, nothing saved (Esc; asked first when it was changed). */
static void form_discard(app *a, int64_t unused)
{
    (void)unused;
    form_free(a);
    ui_flash(a, false, "not saved");
    ui_switch(a, VIEW_SITES);
}

static ui_request form_handle(app *a, ui_request r)
{
    form_state *f = a->form;
    if (!f)
        return r == REQ_BACK || r == REQ_FORM_CANCEL ? (ui_switch(a, VIEW_SITES), REQ_NONE) : r;
    switch (r) {
    case REQ_NEXT_FIELD: form_move(f, 1); return REQ_NONE;
    case REQ_PREV_FIELD: form_move(f, -1); return REQ_NONE;
    case REQ_PAGE_UP: form_move_end(f, -1); return REQ_NONE;
    case REQ_PAGE_DOWN: form_move_end(f, 1); return REQ_NONE;
    case REQ_FIELD_ENTER:
        if (f->focus == FF_SAVE)
            form_save(a, f);
        else
            form_move(f, 1);
        return REQ_NONE;
    case REQ_SAVE: form_save(a, f); return REQ_NONE;
    case REQ_BACK:
    case REQ_FORM_CANCEL:
        if (form_dirty(f)) {
            ui_confirm(a, form_discard, 0, "Discard your changes to %s?",
                       f->site_id ? "this site" : "the new site");
            return REQ_NONE;
        }
        form_discard(a, 0);
        return REQ_NONE;
    case REQ_HELP:
    case REQ_REFRESH:
        return r;
    default:
        return REQ_NONE;   /* no screen switch with unsaved edits: Esc first */
    }
}

/* ---- drawing ---- */

/* The value column of field id (secrets masked); sanitised later. */
/* Steps *p over one character; returns its width in columns. */
static size_t skip_char(const char **p)
{
    const char *start = *p;
    (*p)++;
    while (((unsigned char)**p & 0xc0) == 0x80)
        (*p)++;
    char one[8];
    size_t n = (size_t)(*p - start) < sizeof one - 1 ? (size_t)(*p - start) : sizeof one - 1;
    memcpy(one, start, n);
    one[n] = '\0';
    return utf8_width(one);
}

/* Columns of the focused field's text before the cursor, as displayed
 * (sanitised text; one '*' per character of a typed secret; a stored secret
 * shows ******** with the cursor after it, since typing replaces it). */
static size_t cursor_columns(const form_state *f, int id, const char *shown)
{
    if (kind_of(id) == F_SECRET)
        return f->typed[id] ? lineedit_chars(f->val[id], f->cursor) : utf8_width(shown);
    char *before = hd_xstrndup(f->val[id], f->cursor);
    char *clean = sanitize_dup(before, 0);
    size_t cols = utf8_width(clean);
    free(clean);
    free(before);
    return cols;
}

static void field_value(const form_state *f, int id, char *value, size_t len)
{
    switch (kind_of(id)) {
    case F_TEXT: snprintf(value, len, "%s", f->val[id]); break;
    case F_SECRET:
        if (!f->typed[id]) {
            char *stored = stored_secret(f, id);
            snprintf(value, len, "%s", site_mask(stored));
            if (stored)
                explicit_bzero(stored, strlen(stored));
            free(stored);
        } else {
            size_t n = 0;
            for (const char *p = f->val[id]; *p && n + 1 < len; p++)
                if (((unsigned char)*p & 0xc0) != 0x80)
                    value[n++] = '*';
            value[n] = '\0';
        }
        break;
    case F_CHOICE:
        snprintf(value, len, "< %s >",
                 id == FF_CTYPE  ? content_type_name(f->ctype)
                 : id == FF_AUTH ? auth_kind_name(f->auth)
                                 : f->val[id]);
        break;
    case F_BUTTON: snprintf(value, len, "[ Save ]"); break;
    }
}

/* One screen line of the field column: a field or its message. */
typedef struct form_line {
    int id;                  /* field, FORM_NONE = the message of no field */
    bool msg;                /* the message line */
} form_line;

/* Rows 0 and 1: what the form is for, and its keys (or the question it
 * asks, or that a save waits). */
static void form_draw_title(app *a, const form_state *f, int top, int cols)
{
    char title[160], cell[1024];
    if (f->site_id)
        snprintf(title, sizeof title, "Edit trusted site %s", f->orig.name ? f->orig.name : "");
    else
        snprintf(title, sizeof title, "Add a trusted site");
    ui_fmt_cell(title, cols, a->utf8, cell, sizeof cell);
    term_put(top, 0, cols, TA_COLHEAD, cell);
    if (f->conflict)
        term_put_bold(top + 1, 0, cols, TA_ERROR,
                      "r reload (drops your edits), s save anyway, Esc keep editing");
    else if (form_save_waiting(a))
        term_put_bold(top + 1, 0, cols, TA_ERROR,
                      "Saving: waits for the database; fields kept, read-only; Esc stops");
    else
        term_put(top + 1, 0, cols, TA_DIM,
                 "Tab/Up/Down move, Space/Left/Right change a choice, ^S or F2 saves, Esc cancels");
}

/* The column's lines: each visible field, with its message under it when
 * it is shown, and the message of no field last.  *focus_line..*focus_end
 * are the focused field's lines.  Returns how many. */
static int form_lines(const form_state *f, form_line *lines, int *focus_line, int *focus_end)
{
    int order[FORM_NFIELDS];
    int n = form_layout(f, order);
    int nl = 0;
    *focus_line = 0;
    *focus_end = 1;
    for (int i = 0; i < n; i++) {
        int id = order[i];
        if (id == f->focus)
            *focus_line = nl;
        lines[nl++] = (form_line){ id, false };
        if (f->err_field == id && (f->tried || f->touched[id]))
            lines[nl++] = (form_line){ id, true };
        if (id == f->focus)
            *focus_end = nl;
    }
    if (f->err[0] && f->err_field == FORM_NONE && f->tried)
        lines[nl++] = (form_line){ FORM_NONE, true };
    return nl;
}

/* The first line shown, so that the focused field and its message are in
 * the `avail` rows and no row is left empty below the last line. */
static void form_scroll(form_state *f, int nl, int focus_line, int focus_end, int avail)
{
    if (f->scroll > focus_line)
        f->scroll = focus_line;
    if (focus_end - f->scroll > avail)
        f->scroll = focus_end - avail;
    if (f->scroll > nl - avail)
        f->scroll = nl - avail;
    if (f->scroll < 0)
        f->scroll = 0;
}

/* Row 2: what the focused field takes (or the question's details), and
 * whether lines are out of view. */
static void form_draw_hint(app *a, const form_state *f, int y, int cols, int avail, int nl)
{
    const char *more = f->scroll > 0 && f->scroll + avail < nl ? "more above and below"
                       : f->scroll > 0                          ? "more above"
                       : f->scroll + avail < nl                 ? "more below"
                                                                : "";
    char help_buf[512], cell[1024];
    const char *help = field_help(f, f->focus, help_buf, sizeof help_buf);
    int mw = *more ? (int)strlen(more) + 1 : 0;
    if (f->conflict)
        help = f->conflict_msg;
    ui_fmt_cell(help ? help : "", cols - 1 - mw, a->utf8, cell, sizeof cell);
    term_put(y, 1, cols - 1 - mw, f->conflict ? TA_ERROR : TA_DIM, cell);
    if (*more)
        term_put(y, cols - mw, mw, TA_DIM, more);
}

/* Where a field's label and value go on its line. */
typedef struct form_columns {
    int label_w;             /* the label's columns (from column 1) */
    int value_x, value_w;    /* the value's first column and width */
    int cols;                /* the screen's */
} form_columns;

/* The message line under field id (FORM_NONE: under all of them). */
static void form_draw_message(app *a, const form_state *f, int id, int y, const form_columns *c)
{
    char cell[1024];
    int x = id == FORM_NONE ? 1 : c->value_x;
    ui_fmt_cell(f->err, c->cols - x, a->utf8, cell, sizeof cell);
    term_put(y, x, c->cols - x, TA_ERROR, cell);
}

/* Field id's line: its label and its value, scrolled so that the cursor
 * (the focused text field: *cur_x, returned as its column) or the end of
 * the value is in view.  Returns whether the cursor is on this line. */
static bool form_draw_field(app *a, const form_state *f, int id, int y, const form_columns *c,
                            int *cur_x)
{
    char cell[1024], label_buf[64], value[600];
    bool focus = id == f->focus;
    field_kind kind = kind_of(id);
    field_value(f, id, value, sizeof value);
    if (kind != F_BUTTON) {
        ui_fmt_cell(field_label(f, id, label_buf, sizeof label_buf), c->label_w, a->utf8, cell,
                    sizeof cell);
        term_put_bold(y, 1, c->label_w, TA_NORMAL, cell);
    }
    char *clean = sanitize_dup(value, 0);
    const char *shown = clean;
    bool editing = focus && (kind == F_TEXT || kind == F_SECRET);
    if (editing) {
        /* Scroll the value so that the cursor is in view. */
        size_t before = cursor_columns(f, id, clean);
        while (*shown && before >= (size_t)c->value_w)
            before -= skip_char(&shown);
        *cur_x = c->value_x + (int)before;
    } else {
        /* Show the end of a long value: where typing would happen. */
        while (*shown && utf8_width(shown) >= (size_t)c->value_w)
            skip_char(&shown);
    }
    ui_fmt_cell(shown, c->value_w, a->utf8, cell, sizeof cell);
    term_put(y, c->value_x, c->value_w, focus ? TA_SELECTED : TA_POPUP, cell);
    free(clean);
    return editing;
}

static void form_draw(app *a, int top, int rows)
{
    form_state *f = a->form;
    int cols = term_cols();
    if (!f)
        return;
    form_draw_title(a, f, top, cols);
    /* The lines, then the window over them that holds the focus. */
    form_line lines[2 * FORM_NFIELDS + 1];
    int focus_line, focus_end;
    int nl = form_lines(f, lines, &focus_line, &focus_end);
    int avail = rows - 3 < 1 ? 1 : rows - 3;
    form_scroll(f, nl, focus_line, focus_end, avail);
    form_draw_hint(a, f, top + 2, cols, avail, nl);

    form_columns c = { .label_w = 15, .value_x = 17, .value_w = cols - 19, .cols = cols };
    if (c.value_w > 60)
        c.value_w = 60;
    int cur_y = -1, cur_x = 0;
    for (int l = f->scroll; l < nl && l - f->scroll < avail; l++) {
        int y = top + 3 + (l - f->scroll);
        if (lines[l].msg)
            form_draw_message(a, f, lines[l].id, y, &c);
        else if (form_draw_field(a, f, lines[l].id, y, &c, &cur_x))
            cur_y = y;
    }
    if (cur_y >= 0) {
        a->cursor_y = cur_y;
        a->cursor_x = cur_x < cols ? cur_x : cols - 1;
    }
}

const view_ops view_form_ops = { .title = "Site form", .keys = form_keys, .draw = form_draw,
                                 .handle = form_handle, .raw_key = form_raw_key,
                                 .raw_help = form_raw_help };
