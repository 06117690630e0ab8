/* view_form.c - the trusted-site form (add and edit), a small widget of our
 * own rather than libform: a column of fields, each a text, secret or
 * choice, and a Save button.
 *
 * DESIGN
 * Validation is the core's: every change builds a `site` from the fields and
 * runs site_validate; its message names the field ("url: must start with
 * ...") and is shown under that field, once the operator has left it or
 * tried to save.  Saving goes through store_site_add/update, which validate
 * again, so nothing invalid is ever stored whatever the form does.
 *
 * Secrets are write-only: an existing secret shows as ******** and is kept
 * as it is unless the operator types a new one (the first key replaces it);
 * typed characters show as '*'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hd_duration.h"
#include "hd_sanitize.h"
#include "hd_util.h"
#include "term.h"
#include "ui.h"

typedef enum field_kind { F_TEXT, F_SECRET, F_CHOICE, F_BUTTON } field_kind;

/* Columns: id, label, kind, the field name site_validate uses in messages. */
#define FORM_FIELD_LIST(_)                                    \
    _(NAME,    "Name",          F_TEXT,   "name")             \
    _(URL,     "URL",           F_TEXT,   "url")              \
    _(CTYPE,   "Content type",  F_CHOICE, "content_type")     \
    _(TIMEOUT, "Timeout",       F_TEXT,   "timeout")          \
    _(AUTH,    "Auth",          F_CHOICE, "auth")             \
    _(USER,    "User",          F_TEXT,   "auth_user")        \
    _(HEADER,  "Header name",   F_TEXT,   "auth_header")      \
    _(SECRET,  "Secret",        F_SECRET, "auth_secret")      \
    _(HEADERS, "Extra headers", F_TEXT,   "headers")          \
    _(SAVE,    "",              F_BUTTON, "")

typedef enum form_field {
#define FORM_FIELD_ENUM(id, label, kind, key) FF_##id,
    FORM_FIELD_LIST(FORM_FIELD_ENUM)
#undef FORM_FIELD_ENUM
    FF_COUNT
} form_field;

static const struct {
    const char *label;       /* shown left of the value */
    field_kind kind;         /* how it is edited */
    const char *key;         /* field name in site_validate messages */
} field_info[FF_COUNT] = {
#define FORM_FIELD_INFO(id, label, kind, key) { label, kind, key },
    FORM_FIELD_LIST(FORM_FIELD_INFO)
#undef FORM_FIELD_INFO
};

typedef struct form_state {
    int64_t site_id;             /* 0 = adding */
    site orig;                   /* the stored site when editing (secrets included) */
    char val[FF_COUNT][512];     /* text of text and secret fields */
    content_type ctype;          /* choice */
    auth_kind auth;              /* choice */
    bool secret_typed;           /* a new secret was typed (else keep orig's) */
    bool touched[FF_COUNT];      /* left or edited: show its message */
    bool tried;                  /* a save was attempted: show every message */
    form_field focus;            /* the field keys go to */
    form_field err_field;        /* where the current message belongs, FF_COUNT = none */
    char err[512];               /* the current validation message, "" = valid */
} form_state;

static const keybind form_keys[] = {
    { '\t', REQ_NEXT_FIELD, "Next" },
    { TK_DOWN, REQ_NEXT_FIELD, NULL },
    { TK_BTAB, REQ_PREV_FIELD, NULL },
    { TK_UP, REQ_PREV_FIELD, NULL },
    { '\n', REQ_ENTER, NULL },
    { TK_CTRL('s'), REQ_SAVE, "Save" },
    { TK_F2, REQ_SAVE, NULL },
    { TK_ESC, REQ_BACK, "Cancel" },
    { 0, REQ_NONE, NULL },
};

void form_free(app *a)
{
    form_state *f = a->form;
    if (!f)
        return;
    site_free(&f->orig);
    free(f);
    a->form = NULL;
}

static bool field_visible(const form_state *f, form_field id)
{
    switch (id) {
    case FF_USER: return f->auth == AUTH_BASIC;
    case FF_HEADER: return f->auth == AUTH_HEADER;
    case FF_SECRET: return f->auth != AUTH_NONE;
    default: return true;
    }
}

static const char *secret_label(auth_kind k)
{
    switch (k) {
    case AUTH_BASIC: return "Password";
    case AUTH_BEARER: return "Token";
    case AUTH_HEADER: return "Header value";
    case AUTH_HMAC: return "Secret whsec_";
    default: return "Secret";
    }
}

/* "Name: value; Name2: value2" into s's extra headers. */
static bool parse_headers(const char *text, site *s, char *why, size_t whylen)
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
        site_add_header(s, item, value);
    }
    free(copy);
    return ok;
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
    s->auth_extra = hd_xstrdup(f->orig.auth_extra);
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
    if (f->auth == AUTH_BASIC)
        s->auth_user = hd_xstrdup(f->val[FF_USER]);
    if (f->auth == AUTH_HEADER)
        s->auth_header = hd_xstrdup(f->val[FF_HEADER]);
    if (f->auth != AUTH_NONE)
        s->auth_secret = hd_xstrdup(f->secret_typed ? f->val[FF_SECRET] : f->orig.auth_secret);
    return parse_headers(f->val[FF_HEADERS], s, why, whylen);
}

static form_field field_of_message(const char *msg)
{
    for (int i = 0; i < FF_COUNT; i++) {
        size_t n = strlen(field_info[i].key);
        if (n && strncmp(msg, field_info[i].key, n) == 0 && msg[n] == ':')
            return (form_field)i;
    }
    return FF_COUNT;
}

static void form_validate(form_state *f)
{
    site s;
    hd_error err = { 0 };
    char why[512] = "";
    f->err[0] = '\0';
    f->err_field = FF_COUNT;
    if (!form_build(f, &s, why, sizeof why))
        snprintf(err.msg, sizeof err.msg, "%s", why);
    else if (site_validate(&s, &err) == HD_OK)
        err.msg[0] = '\0';
    site_free(&s);
    if (err.msg[0]) {
        char *clean = sanitize_dup(err.msg, 0);
        snprintf(f->err, sizeof f->err, "%s", clean);
        free(clean);
        f->err_field = field_of_message(f->err);
    }
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
        snprintf(f->val[FF_USER], sizeof f->val[0], "%s", o->auth_user ? o->auth_user : "");
        snprintf(f->val[FF_HEADER], sizeof f->val[0], "%s", o->auth_header ? o->auth_header : "");
        size_t at = 0;
        for (int i = 0; i < o->nheaders && at < sizeof f->val[0]; i++)
            at += (size_t)snprintf(f->val[FF_HEADERS] + at, sizeof f->val[0] - at, "%s%s: %s",
                                   i ? "; " : "", o->headers[i].name, o->headers[i].value);
        f->ctype = o->ctype;
        f->auth = o->auth;
    }
    f->focus = FF_NAME;
    a->form = f;
    form_validate(f);
    a->view = VIEW_FORM;   /* not ui_switch: Back returns to Sites */
    a->need_refresh = true;
}

static void form_move(form_state *f, int dir)
{
    f->touched[f->focus] = true;
    int i = f->focus;
    do {
        i = (i + dir + FF_COUNT) % FF_COUNT;
    } while (!field_visible(f, (form_field)i));
    f->focus = (form_field)i;
}

static void form_save(app *a, form_state *f)
{
    f->tried = true;
    form_validate(f);
    if (f->err[0]) {
        if (f->err_field != FF_COUNT)
            f->focus = f->err_field;
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
        char *clean = sanitize_dup(err.msg, 0);
        snprintf(f->err, sizeof f->err, "%s", clean);
        free(clean);
        f->err_field = rc == HD_EXISTS ? FF_NAME : field_of_message(f->err);
        ui_flash(a, true, "not saved: %s", f->err);
    } else {
        ui_flash(a, false, "trusted site %s saved", s.name);
        form_free(a);
        ui_wakeup_engine(a);
        ui_switch(a, VIEW_SITES);
    }
    site_free(&s);
}

static void put_utf8(char *buf, size_t cap, int key)
{
    char enc[5];
    size_t n;
    unsigned c = (unsigned)key;
    if (c < 0x80) { enc[0] = (char)c; n = 1; }
    else if (c < 0x800) { enc[0] = (char)(0xc0 | c >> 6); enc[1] = (char)(0x80 | (c & 0x3f)); n = 2; }
    else if (c < 0x10000) { enc[0] = (char)(0xe0 | c >> 12); enc[1] = (char)(0x80 | ((c >> 6) & 0x3f)); enc[2] = (char)(0x80 | (c & 0x3f)); n = 3; }
    else { enc[0] = (char)(0xf0 | c >> 18); enc[1] = (char)(0x80 | ((c >> 12) & 0x3f)); enc[2] = (char)(0x80 | ((c >> 6) & 0x3f)); enc[3] = (char)(0x80 | (c & 0x3f)); n = 4; }
    size_t len = strlen(buf);
    if (len + n < cap) {
        memcpy(buf + len, enc, n);
        buf[len + n] = '\0';
    }
}

static void drop_last_char(char *buf)
{
    size_t len = strlen(buf);
    while (len > 0) {
        unsigned char c = (unsigned char)buf[--len];
        if ((c & 0xc0) != 0x80)
            break;
    }
    buf[len] = '\0';
}

static bool form_raw_key(app *a, int key)
{
    form_state *f = a->form;
    if (!f)
        return false;
    bool printable = key >= 32 && key < 0x110000 && key != 127;
    field_kind k = field_info[f->focus].kind;
    if (k == F_TEXT || k == F_SECRET) {
        char *v = f->val[f->focus];
        if (k == F_SECRET && !f->secret_typed && (printable || key == TK_BACKSPACE ||
                                                  key == TK_CTRL('u'))) {
            f->secret_typed = true;   /* the first key replaces the stored secret */
            v[0] = '\0';
            if (!printable) {
                form_validate(f);
                return true;
            }
        }
        if (printable)
            put_utf8(v, sizeof f->val[0], key);
        else if (key == TK_BACKSPACE)
            drop_last_char(v);
        else if (key == TK_CTRL('u'))
            v[0] = '\0';
        else
            return false;
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
        if (dir && f->focus == FF_CTYPE) {
            f->ctype = f->ctype == CONTENT_JSON ? CONTENT_FORM : CONTENT_JSON;
        } else if (dir) {
            /* Only the kinds that work yet are offered. */
            int i = f->auth;
            do {
                i = (i + dir + AUTH_KIND_COUNT) % AUTH_KIND_COUNT;
            } while (!auth_kind_supported((auth_kind)i));
            f->auth = (auth_kind)i;
        }
        if (dir)
            form_validate(f);
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
        return r == REQ_BACK ? (ui_switch(a, VIEW_SITES), REQ_NONE) : r;
    switch (r) {
    case REQ_NEXT_FIELD: form_move(f, 1); return REQ_NONE;
    case REQ_PREV_FIELD: form_move(f, -1); return REQ_NONE;
    case REQ_ENTER:
        if (f->focus == FF_SAVE)
            form_save(a, f);
        else
            form_move(f, 1);
        return REQ_NONE;
    case REQ_SAVE: form_save(a, f); return REQ_NONE;
    case REQ_BACK:
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

static void form_draw(app *a, int top, int rows)
{
    form_state *f = a->form;
    int cols = term_cols();
    if (!f)
        return;
    char title[160], cell[1024];
    if (f->site_id)
        snprintf(title, sizeof title, "Edit trusted site %s", f->orig.name ? f->orig.name : "");
    else
        snprintf(title, sizeof title, "Add a trusted site");
    ui_fmt_cell(title, cols, a->utf8, cell, sizeof cell);
    term_put(top, 0, cols, TA_COLHEAD, cell);
    term_put(top + 1, 0, cols, TA_DIM,
             "Tab/Up/Down move, Space/Left/Right change a choice, ^S or F2 saves, Esc cancels");
    int lw = 15, vw = cols - lw - 4;
    if (vw > 60)
        vw = 60;
    int y = top + 3, cur_y = -1, cur_x = 0;
    for (int i = 0; i < FF_COUNT && y < top + rows; i++) {
        form_field id = (form_field)i;
        if (!field_visible(f, id))
            continue;
        bool focus = id == f->focus;
        const char *label = id == FF_SECRET ? secret_label(f->auth) : field_info[i].label;
        char value[600];
        switch (field_info[i].kind) {
        case F_TEXT: snprintf(value, sizeof value, "%s", f->val[i]); break;
        case F_SECRET:
            if (!f->secret_typed)
                snprintf(value, sizeof value, "%s", site_mask(f->orig.auth_secret));
            else {
                size_t n = 0;
                for (const char *p = f->val[i]; *p && n + 1 < sizeof value; p++)
                    if (((unsigned char)*p & 0xc0) != 0x80)
                        value[n++] = '*';
                value[n] = '\0';
            }
            break;
        case F_CHOICE:
            snprintf(value, sizeof value, "< %s >", id == FF_CTYPE ? content_type_name(f->ctype)
                                                                 : auth_kind_name(f->auth));
            break;
        case F_BUTTON: snprintf(value, sizeof value, "[ Save ]"); break;
        }
        if (field_info[i].kind != F_BUTTON) {
            ui_fmt_cell(label, lw, a->utf8, cell, sizeof cell);
            term_put_bold(y, 1, lw, TA_NORMAL, cell);
        }
        /* Show the end of a long value: that is where typing happens. */
        const char *shown = value;
        char *clean = sanitize_dup(shown, 0);
        const char *tail = clean;
        while (*tail && utf8_width(tail) >= (size_t)vw) {
            tail++;
            while (((unsigned char)*tail & 0xc0) == 0x80)
                tail++;
        }
        ui_fmt_cell(tail, vw, a->utf8, cell, sizeof cell);
        term_put(y, lw + 2, vw, focus ? TA_SELECTED : TA_POPUP, cell);
        if (focus && (field_info[i].kind == F_TEXT || field_info[i].kind == F_SECRET)) {
            cur_y = y;
            cur_x = lw + 2 + (int)utf8_width(tail);
        }
        free(clean);
        y++;
        bool show = f->err_field == id && (f->tried || f->touched[i]);
        if (show && y < top + rows) {
            ui_fmt_cell(f->err, cols - lw - 2, a->utf8, cell, sizeof cell);
            term_put(y++, lw + 2, cols - lw - 2, TA_ERROR, cell);
        }
    }
    if (f->err[0] && f->err_field == FF_COUNT && f->tried && y + 1 < top + rows) {
        ui_fmt_cell(f->err, cols - 2, a->utf8, cell, sizeof cell);
        term_put(y + 1, 1, cols - 2, TA_ERROR, cell);
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
};
