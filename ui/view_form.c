/* view_form.c - the trusted-site form (add and edit), a small widget of our
 * own rather than libform: a column of fields, each a text, secret or
 * choice, and a Save button.
 *
 * DESIGN
 * Fields are data.  The fixed fields are the X-macro FORM_FIELD_LIST; the
 * kind-specific settings of issue #4 (jwt, oauth2, aws, aws-s3) are one
 * field per entry of the core's auth_extra_keys table (field id FF_COUNT +
 * index), shown only while the site's kind is in the key's `kinds` bits, so
 * a key added to that table appears here without a change to this file.
 * extra_hints below only dresses some of them (a nicer label, a choice of
 * values, "only with jwt RS256"); a key without a hint is a text field
 * labelled from its name.
 *
 * Validation is the core's: every change builds a `site` from the fields and
 * runs site_validate; its message names the field ("url: must start with
 * ...", "auth.token_url: ...") and is shown under that field, once the
 * operator has left it or tried to save.  Saving goes through
 * store_site_add/update, which validate again, so nothing invalid is ever
 * stored whatever the form does.  A hidden field is never part of the site
 * (so it can never hold a message the operator cannot see).
 *
 * Secrets are write-only: a stored secret (auth_secret or a secret key of
 * auth_extra such as session_token) shows as ******** and is kept as it is
 * unless the operator types a new one (the first key replaces it); typed
 * characters show as '*'.  After a kind change the stored settings go
 * through auth_extra_keep_kind, and the stored auth_secret is only kept
 * while the kind is the stored one (a basic password is no bearer token).
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
    _(AUTH,    "Auth",          F_CHOICE, "auth",                                        \
      "Space/Left/Right: none basic bearer header hmac jwt oauth2 aws aws-s3")          \
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

/* The auth_extra_keys fields: ids FF_COUNT .. FF_COUNT + form_nextra() - 1. */
#define FORM_MAX_EXTRA 32
#define FORM_NFIELDS (FF_COUNT + FORM_MAX_EXTRA)
#define FORM_NONE (-1)

/* How some auth_extra keys are presented (keys without one are plain text
 * fields labelled from their name). */
typedef struct extra_hint {
    const char *name;            /* auth_extra_keys name */
    const char *label;           /* form label (15 columns) */
    const char *choices[4];      /* a choice among these values (first = default), or none */
    const char *needs_alg;       /* shown only while the jwt alg is this one */
    bool lead;                   /* placed right under Auth, before the credentials */
} extra_hint;

static const extra_hint extra_hints[] = {
    { "alg", "Algorithm", { "HS256", "RS256", NULL }, NULL, true },
    { "key_file", "Key file", { NULL }, "RS256", false },
    { "key_env", "Key variable", { NULL }, "RS256", false },
    { "claims", "Claims", { NULL }, NULL, false },
    { "lifetime", "Lifetime", { NULL }, NULL, false },
    { "token_url", "Token URL", { NULL }, NULL, true },
    { "client_auth", "Client auth", { "basic", "body", NULL }, NULL, false },
    { "session_token", "Session token", { NULL }, NULL, false },
    { "object_format", "Object format", { NULL }, NULL, false },
};

typedef struct form_state {
    int64_t site_id;                     /* 0 = adding */
    site orig;                           /* the stored site when editing (secrets included) */
    char *extra;                         /* orig.auth_extra kept to the current kind: the
                                            stored secrets and claims not retyped */
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
    return auth_extra_nkeys < FORM_MAX_EXTRA ? auth_extra_nkeys : FORM_MAX_EXTRA;
}

static const auth_extra_key *extra_key(int id)
{
    return id >= FF_COUNT && id < FF_COUNT + form_nextra() ? &auth_extra_keys[id - FF_COUNT]
                                                           : NULL;
}

static const extra_hint *extra_hint_of(const auth_extra_key *k)
{
    for (size_t i = 0; k && i < sizeof extra_hints / sizeof extra_hints[0]; i++)
        if (strcmp(extra_hints[i].name, k->name) == 0)
            return &extra_hints[i];
    return NULL;
}

static int extra_field(const char *name)
{
    for (int i = 0; i < form_nextra(); i++)
        if (strcmp(auth_extra_keys[i].name, name) == 0)
            return FF_COUNT + i;
    return FORM_NONE;
}

static field_kind kind_of(int id)
{
    if (id < FF_COUNT)
        return field_info[id].kind;
    const auth_extra_key *k = extra_key(id);
    const extra_hint *h = extra_hint_of(k);
    if (k && k->secret)
        return F_SECRET;
    return h && h->choices[0] ? F_CHOICE : F_TEXT;
}

static bool jwt_alg_is(const form_state *f, const char *alg)
{
    int id = extra_field("alg");
    return id != FORM_NONE && strcmp(f->val[id], alg) == 0;
}

static bool field_visible(const form_state *f, int id)
{
    switch (id) {
    case FF_USER:
        return f->auth == AUTH_BASIC || f->auth == AUTH_OAUTH2 || f->auth == AUTH_AWS ||
               f->auth == AUTH_AWS_S3;
    case FF_HEADER: return f->auth == AUTH_HEADER;
    case FF_SECRET: return f->auth != AUTH_NONE && !(f->auth == AUTH_JWT && jwt_alg_is(f, "RS256"));
    default: break;
    }
    if (id < FF_COUNT)
        return id >= 0;
    const auth_extra_key *k = extra_key(id);
    if (!k || !(k->kinds & (1u << f->auth)))
        return false;
    const extra_hint *h = extra_hint_of(k);
    return !h || !h->needs_alg || jwt_alg_is(f, h->needs_alg);
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
            const auth_extra_key *k = &auth_extra_keys[i];
            const extra_hint *h = extra_hint_of(k);
            bool lead = h && h->lead;
            int want = lead ? 0 : k->secret ? 3 : 2;
            if (want == pass && field_visible(f, FF_COUNT + i))
                out[n++] = FF_COUNT + i;
        }
    }
    out[n++] = FF_HEADERS;
    out[n++] = FF_SHEADERS;
    out[n++] = FF_SAVE;
    return n;
}

static const char *user_label(auth_kind k)
{
    switch (k) {
    case AUTH_OAUTH2: return "Client id";
    case AUTH_AWS:
    case AUTH_AWS_S3: return "Access key id";
    default: return "User";
    }
}

static const char *secret_label(auth_kind k)
{
    switch (k) {
    case AUTH_BASIC: return "Password";
    case AUTH_BEARER: return "Token";
    case AUTH_HEADER: return "Header value";
    case AUTH_HMAC: return "Secret whsec_";
    case AUTH_OAUTH2: return "Client secret";
    case AUTH_AWS:
    case AUTH_AWS_S3: return "Secret key";
    default: return "Secret";
    }
}

static const char *field_label(const form_state *f, int id, char *buf, size_t len)
{
    if (id == FF_USER)
        return user_label(f->auth);
    if (id == FF_SECRET)
        return secret_label(f->auth);
    if (id < FF_COUNT)
        return field_info[id].label;
    const auth_extra_key *k = extra_key(id);
    const extra_hint *h = extra_hint_of(k);
    if (h)
        return h->label;
    /* "object_format" -> "Object format" */
    snprintf(buf, len, "%s", k ? k->name : "");
    for (char *p = buf; *p; p++)
        if (*p == '_')
            *p = ' ';
    if (buf[0] >= 'a' && buf[0] <= 'z')
        buf[0] = (char)(buf[0] - 'a' + 'A');
    return buf;
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
    if (id < FF_COUNT)
        return id >= 0 ? field_info[id].help : NULL;
    const auth_extra_key *k = extra_key(id);
    return k ? k->help : NULL;
}

/* The stored secret a secret field keeps while nothing is typed (malloc'd,
 * NULL = none; for Secret headers only whether there are some). */
static char *stored_secret(const form_state *f, int id)
{
    if (id == FF_SHEADERS)
        return stored_secret_headers(f) > 0 ? hd_xstrdup("x") : NULL;
    if (id == FF_SECRET)
        return f->auth == f->orig.auth && f->orig.auth_secret && *f->orig.auth_secret
                   ? hd_xstrdup(f->orig.auth_secret)
                   : NULL;
    const auth_extra_key *k = extra_key(id);
    return k ? auth_extra_get(f->extra, k->name) : NULL;
}

void form_free(app *a)
{
    form_state *f = a->form;
    if (!f)
        return;
    site_free(&f->orig);
    free(f->extra);
    explicit_bzero(f->val, sizeof f->val);   /* typed secrets */
    free(f);
    a->form = NULL;
}

/* A new kind: the stored settings that do not apply to it are dropped. */
static void form_set_auth(form_state *f, auth_kind k)
{
    f->auth = k;
    free(f->extra);
    f->extra = hd_xstrdup(f->orig.auth_extra);
    auth_extra_keep_kind(&f->extra, k);
}

/* ---- building a site from the fields ---- */

/* "Name: value; Name2: value2" into s's extra headers (orig: the stored
 * site when editing, whose credential headers show as ********). */
static bool parse_headers(const char *text, const site *orig, site *s, char *why, size_t whylen)
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
            snprintf(why, whylen, "headers: '%s' is not 'Name: value'", item);
            ok = false;
            break;
        }
        *colon = '\0';
        char *value = colon + 1;
        while (*value == ' ')
            value++;
        char *end = item + strlen(item);
        while (end > item && end[-1] == ' ')
            *--end = '\0';
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
 * why (it is typed masked): an item is named by its place. */
static bool parse_secret_headers(const form_state *f, site *s, char *why, size_t whylen)
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
            snprintf(why, whylen, "secret_headers: header %d is not 'Name: value'", n);
            ok = false;
            break;
        }
        *colon = '\0';
        char *value = colon + 1;
        while (*value == ' ')
            value++;
        char *end = item + strlen(item);
        while (end > item && end[-1] == ' ')
            *--end = '\0';
        site_add_header_secret(s, item, value, true);
    }
    explicit_bzero(copy, strlen(f->val[FF_SHEADERS]));
    free(copy);
    return ok;
}

/* site_validate names a header by its text ("headers: 'X-Key' is not a
 * valid header name"): when that is a header of the Secret headers field
 * (and of no other field), say "secret_headers: header N ..." instead. */
static void hide_secret_header_name(const form_state *f, const site *s, char *msg, size_t len)
{
    if (strncmp(msg, "headers: ", 9) != 0 || !f->typed[FF_SHEADERS])
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
            explicit_bzero(text, strlen(text));
            free(text);
            free(needle);
            return;
        }
        free(needle);
    }
}

/* The auth_extra settings from the visible extra fields, the same way
 * `sites add/edit` applies its flags (by the key's type). */
static bool build_extra(const form_state *f, site *s, char *why, size_t whylen)
{
    s->auth_extra = hd_xstrdup(f->extra);
    for (int i = 0; i < form_nextra(); i++) {
        const auth_extra_key *k = &auth_extra_keys[i];
        int id = FF_COUNT + i;
        const char *v = f->val[id];
        if (!field_visible(f, id)) {
            auth_extra_set(&s->auth_extra, k->name, NULL);
            continue;
        }
        if ((k->secret || k->type == AX_MAP) && !f->typed[id])
            continue;   /* the stored value stays */
        switch (k->type) {
        case AX_STRING: auth_extra_set(&s->auth_extra, k->name, v); break;
        case AX_DURATION: {
            int64_t ms = 0;
            const char *w = NULL;
            while (*v == ' ')
                v++;
            if (*v && !duration_parse(v, &ms, &w)) {
                snprintf(why, whylen, "auth.%s: %s", k->name, w ? w : "not a duration (5m, 90s)");
                return false;
            }
            auth_extra_set_ms(&s->auth_extra, k->name, ms);
            break;
        }
        case AX_MAP:
            if (!form_map_parse(v, k->name, &s->auth_extra, why, whylen))
                return false;
            break;
        }
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

/* Builds a site from the fields; false with why when a field cannot even be
 * parsed (then why names it like site_validate does). */
static bool form_build(const form_state *f, site *s, char *why, size_t whylen)
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
            snprintf(why, whylen, "timeout: %s", w ? w : "not a duration (10s, 500ms)");
            return false;
        }
    }
    if (!parse_max_in_flight(f->val[FF_INFLIGHT], &s->max_in_flight)) {
        snprintf(why, whylen, "max_in_flight: must be 1 to %d (empty: the default)",
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
    if (!build_extra(f, s, why, whylen))
        return false;
    return parse_headers(f->val[FF_HEADERS], f->site_id ? &f->orig : NULL, s, why, whylen) &&
           parse_secret_headers(f, s, why, whylen);
}

static int field_of_message(const char *msg)
{
    for (int i = 0; i < FF_COUNT; i++) {
        size_t n = strlen(field_info[i].key);
        if (n && strncmp(msg, field_info[i].key, n) == 0 && msg[n] == ':')
            return i;
    }
    /* "auth.token_url: ...", "auth.claims.iss: ..." */
    if (strncmp(msg, "auth.", 5) == 0) {
        for (int i = 0; i < form_nextra(); i++) {
            size_t n = strlen(auth_extra_keys[i].name);
            if (strncmp(msg + 5, auth_extra_keys[i].name, n) == 0 &&
                (msg[5 + n] == ':' || msg[5 + n] == '.'))
                return FF_COUNT + i;
        }
    }
    return FORM_NONE;
}

static void form_validate(form_state *f)
{
    site s;
    hd_error err = { 0 };
    char why[512] = "";
    f->err[0] = '\0';
    f->err_field = FORM_NONE;
    if (!form_build(f, &s, why, sizeof why))
        snprintf(err.msg, sizeof err.msg, "%s", why);
    else if (site_validate(&s, &err) == HD_OK)
        err.msg[0] = '\0';
    hide_secret_header_name(f, &s, err.msg, sizeof err.msg);
    site_free(&s);
    if (err.msg[0]) {
        char *clean = sanitize_dup(err.msg, 0);
        snprintf(f->err, sizeof f->err, "%s", clean);
        free(clean);
        f->err_field = field_of_message(f->err);
        if (f->err_field != FORM_NONE && !field_visible(f, f->err_field))
            f->err_field = FORM_NONE;   /* shown under the fields */
    }
}

/* The stored settings into the extra fields. */
static void form_load_extra(form_state *f)
{
    for (int i = 0; i < form_nextra(); i++) {
        const auth_extra_key *k = &auth_extra_keys[i];
        char *v = f->val[FF_COUNT + i];
        size_t cap = sizeof f->val[0];
        if (k->secret)
            continue;   /* shown as ******** from f->extra */
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
        const extra_hint *h = extra_hint_of(k);
        if (h && h->choices[0] && !*v)
            snprintf(v, cap, "%s", h->choices[0]);
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

static void form_save(app *a, form_state *f)
{
    f->tried = true;
    form_validate(f);
    if (f->err[0]) {
        if (f->err_field != FORM_NONE)
            form_focus(f, f->err_field);
        ui_flash(a, true, "not saved: %s", f->err);
        return;
    }
    site s;
    char why[512];
    form_build(f, &s, why, sizeof why);
    hd_error err = { 0 };
    hd_status rc = f->site_id ? store_site_update(a->st, &s, &err)
                              : store_site_add(a->st, &s, NULL, &err);
    if (rc != HD_OK) {
        /* The store validates again and knows about duplicates. */
        hide_secret_header_name(f, &s, err.msg, sizeof err.msg);
        char *clean = sanitize_dup(err.msg, 0);
        snprintf(f->err, sizeof f->err, "%s", clean);
        free(clean);
        f->err_field = rc == HD_EXISTS ? FF_NAME : field_of_message(f->err);
        if (f->err_field != FORM_NONE && field_visible(f, f->err_field))
            form_focus(f, f->err_field);
        else
            f->err_field = FORM_NONE;
        ui_flash(a, true, "not saved: %s", f->err);
    } else {
        ui_flash(a, false, "trusted site %s saved", s.name);
        form_free(a);
        ui_wakeup_engine(a);
        ui_switch(a, VIEW_SITES);
    }
    site_free(&s);
}

/* ---- keys ---- */

/* Space/Right or Left on a choice field. */
static void form_choose(form_state *f, int dir)
{
    if (f->focus == FF_CTYPE) {
        f->ctype = f->ctype == CONTENT_JSON ? CONTENT_FORM : CONTENT_JSON;
    } else if (f->focus == FF_AUTH) {
        /* Only the kinds that work are offered. */
        int i = f->auth;
        do {
            i = (i + dir + AUTH_KIND_COUNT) % AUTH_KIND_COUNT;
        } while (!auth_kind_supported((auth_kind)i));
        form_set_auth(f, (auth_kind)i);
    } else {
        const extra_hint *h = extra_hint_of(extra_key(f->focus));
        if (!h || !h->choices[0])
            return;
        int n = 0, at = -1;
        while (n < 4 && h->choices[n]) {
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

static bool form_raw_key(app *a, int key)
{
    form_state *f = a->form;
    if (!f)
        return false;
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
        form_free(a);
        ui_flash(a, false, "not saved");
        ui_switch(a, VIEW_SITES);
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

static void form_draw(app *a, int top, int rows)
{
    form_state *f = a->form;
    int cols = term_cols();
    if (!f)
        return;
    char title[160], cell[1024], label_buf[64];
    if (f->site_id)
        snprintf(title, sizeof title, "Edit trusted site %s", f->orig.name ? f->orig.name : "");
    else
        snprintf(title, sizeof title, "Add a trusted site");
    ui_fmt_cell(title, cols, a->utf8, cell, sizeof cell);
    term_put(top, 0, cols, TA_COLHEAD, cell);
    term_put(top + 1, 0, cols, TA_DIM,
             "Tab/Up/Down move, Space/Left/Right change a choice, ^S or F2 saves, Esc cancels");

    /* The lines, then the window over them that holds the focus. */
    int order[FORM_NFIELDS];
    int n = form_layout(f, order);
    form_line lines[2 * FORM_NFIELDS + 1];
    int nl = 0, focus_line = 0, focus_end = 1;
    for (int i = 0; i < n; i++) {
        int id = order[i];
        if (id == f->focus)
            focus_line = nl;
        lines[nl++] = (form_line){ id, false };
        if (f->err_field == id && (f->tried || f->touched[id]))
            lines[nl++] = (form_line){ id, true };
        if (id == f->focus)
            focus_end = nl;
    }
    if (f->err[0] && f->err_field == FORM_NONE && f->tried)
        lines[nl++] = (form_line){ FORM_NONE, true };
    int avail = rows - 3;
    if (avail < 1)
        avail = 1;
    if (f->scroll > focus_line)
        f->scroll = focus_line;
    if (focus_end - f->scroll > avail)
        f->scroll = focus_end - avail;
    if (f->scroll > nl - avail)
        f->scroll = nl - avail;
    if (f->scroll < 0)
        f->scroll = 0;

    /* Row 2: what the focused field takes, and whether lines are out of view. */
    const char *more = f->scroll > 0 && f->scroll + avail < nl ? "more above and below"
                       : f->scroll > 0                          ? "more above"
                       : f->scroll + avail < nl                 ? "more below"
                                                                : "";
    char help_buf[512];
    const char *help = field_help(f, f->focus, help_buf, sizeof help_buf);
    int mw = *more ? (int)strlen(more) + 1 : 0;
    ui_fmt_cell(help ? help : "", cols - 1 - mw, a->utf8, cell, sizeof cell);
    term_put(top + 2, 1, cols - 1 - mw, TA_DIM, cell);
    if (*more)
        term_put(top + 2, cols - mw, mw, TA_DIM, more);

    int lw = 15, vw = cols - lw - 4;
    if (vw > 60)
        vw = 60;
    int cur_y = -1, cur_x = 0;
    for (int l = f->scroll; l < nl && l - f->scroll < avail; l++) {
        int y = top + 3 + (l - f->scroll);
        int id = lines[l].id;
        if (lines[l].msg) {
            int x = id == FORM_NONE ? 1 : lw + 2;
            ui_fmt_cell(f->err, cols - x, a->utf8, cell, sizeof cell);
            term_put(y, x, cols - x, TA_ERROR, cell);
            continue;
        }
        bool focus = id == f->focus;
        field_kind kind = kind_of(id);
        char value[600];
        field_value(f, id, value, sizeof value);
        if (kind != F_BUTTON) {
            ui_fmt_cell(field_label(f, id, label_buf, sizeof label_buf), lw, a->utf8, cell,
                        sizeof cell);
            term_put_bold(y, 1, lw, TA_NORMAL, cell);
        }
        char *clean = sanitize_dup(value, 0);
        const char *shown = clean;
        bool editing = focus && (kind == F_TEXT || kind == F_SECRET);
        if (editing) {
            /* Scroll the value so that the cursor is in view. */
            size_t before = cursor_columns(f, id, clean);
            while (*shown && before >= (size_t)vw)
                before -= skip_char(&shown);
            cur_y = y;
            cur_x = lw + 2 + (int)before;
        } else {
            /* Show the end of a long value: where typing would happen. */
            while (*shown && utf8_width(shown) >= (size_t)vw)
                skip_char(&shown);
        }
        ui_fmt_cell(shown, vw, a->utf8, cell, sizeof cell);
        term_put(y, lw + 2, vw, focus ? TA_SELECTED : TA_POPUP, cell);
        free(clean);
    }
    if (cur_y >= 0) {
        a->cursor_y = cur_y;
        a->cursor_x = cur_x < cols ? cur_x : cols - 1;
    }
}

const view_ops view_form_ops = {
    .title = "Site form",
    .keys = form_keys,
    .draw = form_draw,
    .handle = form_handle,
    .raw_key = form_raw_key,
    .raw_help = form_raw_help,
};
