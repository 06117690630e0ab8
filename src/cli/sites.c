/* sites.c - `hookdesk sites list|add|edit|remove|test|export|import`.
 *
 * Every change goes through site_validate (via the store, and first here so
 * the message names the field: "sites add: url: must start with http://..."),
 * so nothing invalid is ever saved.  Secrets are write-only: list, test and
 * export print "********" unless `export --show-secrets` is asked for.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"
#include "hd_auth.h"
#include "hd_duration.h"
#include "hd_sanitize.h"
#include "hd_sitetest.h"
#include "hd_util.h"

/* ---- list ---- */

enum { LIST_COLS = 8, LIST_CSV_COLS = 12 };

/* "4 (default)" or "2": what the engines of this configuration use. */
static void max_in_flight_cell(const cli_ctx *ctx, const site *s, char *out, size_t len)
{
    int n = site_max_in_flight(s, ctx->cfg.delivery.concurrency);
    snprintf(out, len, "%d%s", n, s->max_in_flight > 0 ? "" : " (default)");
}

/* "closed", "open, probe in 7s: <why it opened>", "open, probing: <why>". */
static void circuit_cell(const circuit *c, int64_t now, char *out, size_t len)
{
    char d[64];
    cli_circuit_state(c, now, d, sizeof d);
    if (c->state != CIRCUIT_CLOSED && c->reason[0])
        snprintf(out, len, "%s: %s", d, c->reason);
    else
        snprintf(out, len, "%s", d);
}

/* When the next probe may go: only while open (probing: one is under way). */
static bool next_probe(const circuit *c, char ts[32])
{
    if (c->state != CIRCUIT_OPEN)
        return false;
    hd_time_rfc3339(c->until_ms, ts);
    return true;
}

static json_t *circuit_json(const circuit *c)
{
    char ts[32];
    json_t *o = json_object();
    json_object_set_new(o, "state", json_string(circuit_state_name(c->state)));
    json_object_set_new(o, "failures", json_integer(c->failures));
    json_object_set_new(o, "reason", c->reason[0] ? cli_json_str(c->reason) : json_null());
    json_object_set_new(o, "next_probe_at", next_probe(c, ts) ? json_string(ts) : json_null());
    json_object_set_new(o, "cooldown_ms",
                        c->state != CIRCUIT_CLOSED ? json_integer(c->cooldown_ms) : json_null());
    return o;
}

static void list_json(const cli_ctx *ctx, const site_stats *ss)
{
    const site *s = &ss->s;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(s->id));
    json_object_set_new(o, "name", cli_json_str(s->name));
    json_object_set_new(o, "url", cli_json_str(s->url));
    json_object_set_new(o, "auth", json_string(auth_kind_name(s->auth)));
    json_object_set_new(o, "content_type", json_string(content_type_name(s->ctype)));
    json_object_set_new(o, "timeout_ms", json_integer(s->timeout_ms));
    json_object_set_new(o, "max_in_flight",
                        json_integer(site_max_in_flight(s, ctx->cfg.delivery.concurrency)));
    json_object_set_new(o, "max_in_flight_default", json_boolean(s->max_in_flight <= 0));
    json_object_set_new(o, "enabled", json_boolean(s->enabled));
    json_object_set_new(o, "pending", json_integer(ss->pending));
    json_object_set_new(o, "recent_attempts", json_integer(ss->recent_total));
    json_object_set_new(o, "recent_ok", json_integer(ss->recent_ok));
    json_object_set_new(o, "circuit", circuit_json(&ss->circuit));
    json_t *h = json_object();
    for (int k = 0; k < s->nheaders; k++)
        json_object_set_new(h, s->headers[k].name,
                            cli_json_str(site_header_shown(&s->headers[k])));
    json_object_set_new(o, "headers", h);
    cli_json_print(stdout, o);
}

static void list_csv(const cli_ctx *ctx, const site_stats *ss, const char *pending,
                     const char *success)
{
    const site *s = &ss->s;
    const circuit *c = &ss->circuit;
    char mif[16], failures[16], probe[32] = "";
    snprintf(mif, sizeof mif, "%d", site_max_in_flight(s, ctx->cfg.delivery.concurrency));
    snprintf(failures, sizeof failures, "%d", c->failures);
    next_probe(c, probe);
    const char *cells[LIST_CSV_COLS] = {
        s->name, s->url, auth_kind_name(s->auth), s->enabled ? "yes" : "no", mif,
        s->max_in_flight > 0 ? "no" : "yes", pending, success, circuit_state_name(c->state),
        failures, probe, c->reason,
    };
    cli_csv_row(stdout, LIST_CSV_COLS, cells);
}

static int sites_list(cli_ctx *ctx, int argc, char **argv)
{
    static const char *const headers[LIST_COLS] = { "NAME", "URL", "AUTH", "ENABLED",
                                                    "MAX_IN_FLIGHT", "PENDING", "SUCCESS",
                                                    "CIRCUIT" };
    static const char *const csv_headers[LIST_CSV_COLS] = {
        "name", "url", "auth", "enabled", "max_in_flight", "max_in_flight_default", "pending",
        "success", "circuit", "circuit_failures", "next_probe_at", "circuit_reason",
    };
    static const bool right[LIST_COLS] = { false, false, false, false, false, true, true, false };
    cli_format format;
    int bad = cli_only_format(ctx->cmd, argc, argv, &format);
    if (bad >= 0)
        return bad;
    site_stats_list l = { 0 };
    hd_error err = { 0 };
    if (store_sites_list(ctx->st, &l, &err) != HD_OK)
        return cli_report(ctx->cmd, &err);
    int64_t now = hd_now_ms();
    cli_table t;
    if (format == FORMAT_TABLE)
        cli_table_init(&t, stdout, LIST_COLS, headers, right);
    else if (format == FORMAT_CSV)
        cli_csv_row(stdout, LIST_CSV_COLS, csv_headers);
    for (int i = 0; i < l.count; i++) {
        const site_stats *ss = &l.items[i];
        const site *s = &ss->s;
        if (format == FORMAT_JSON) {
            list_json(ctx, ss);
            continue;
        }
        char pending[24], success[16];
        snprintf(pending, sizeof pending, "%lld", (long long)ss->pending);
        if (ss->recent_total > 0)
            snprintf(success, sizeof success, "%d%%", ss->recent_ok * 100 / ss->recent_total);
        else
            snprintf(success, sizeof success, "-");
        if (format == FORMAT_CSV) {
            list_csv(ctx, ss, pending, success);
            continue;
        }
        char mif[32], circ[BREAKER_REASON_MAX + 80];
        max_in_flight_cell(ctx, s, mif, sizeof mif);
        circuit_cell(&ss->circuit, now, circ, sizeof circ);
        const char *cells[LIST_COLS] = { s->name, s->url, auth_kind_name(s->auth),
                                         s->enabled ? "yes" : "no", mif, pending, success, circ };
        cli_table_add(&t, cells);
    }
    if (format == FORMAT_TABLE)
        cli_table_free(&t);
    site_stats_list_free(&l);
    return 0;
}

/* ---- add / edit ---- */

#define CLI_MAX_FIELDS 64       /* room for auth_fields (checked in site_longopts) */

typedef struct site_flags {
    const char *url, *auth, *user, *secret, *header, *ctype, *timeout, *rename;
    const char *max_in_flight;  /* "1".."256" or "default" */
    const char **add_headers;   /* "Name: value" */
    bool *add_secret;           /* add_headers[i] came from --add-secret-header */
    int nadd;
    bool clear_headers;
    int enabled;                /* -1 unchanged, 0 disable, 1 enable */
    const char *extra[CLI_MAX_FIELDS];  /* auth_fields[i] (AS_EXTRA) given as a flag
                                           ("" = remove) */
    const char **claims;        /* --jwt-claim NAME=VALUE */
    int nclaims;
} site_flags;

#define OPT_EXTRA 1000          /* getopt code of auth_fields[i] = OPT_EXTRA + i */

/* Reads a secret given as "-" from the first line of stdin (keeps it out of
 * the process list and shell history). */
static char *read_secret_stdin(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        return hd_xstrdup("");
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = v && *v ? hd_xstrdup(v) : NULL;
}

/* --max-in-flight: 1..SITE_MAX_IN_FLIGHT, or "default" (stored as 0). */
static bool parse_max_in_flight(const char *text, int *out)
{
    if (strcmp(text, "default") == 0) {
        *out = 0;
        return true;
    }
    if (text[0] < '0' || text[0] > '9')   /* no sign, no blank */
        return false;
    char *end = NULL;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno || *end || n < 1 || n > SITE_MAX_IN_FLIGHT)
        return false;
    *out = (int)n;
    return true;
}

/* A kind-specific flag given for a kind without that setting. */
static int wrong_kind(cli_ctx *ctx, const auth_field *k, auth_kind kind)
{
    hd_buf kinds = {0};
    for (int a = 0; a < AUTH_KIND_COUNT; a++)
        if (k->kinds & (1u << a))
            hd_buf_printf(&kinds, "%s%s", kinds.len ? ", " : "", auth_kind_name((auth_kind)a));
    int rc = cli_usage_error(ctx->cmd, "--%s is for auth %s, not %s", k->flag, hd_buf_str(&kinds),
                             auth_kind_name(kind));
    hd_buf_free(&kinds);
    return rc;
}

/* One kind-specific flag into s->auth_extra, by the setting's type. */
static int apply_extra(cli_ctx *ctx, const site_flags *fl, const auth_field *k, const char *v,
                       site *s)
{
    if (k->type == AX_MAP) {
        for (int c = 0; c < fl->nclaims; c++) {
            const char *eq = strchr(fl->claims[c], '=');
            if (!eq || eq == fl->claims[c])
                return cli_usage_error(ctx->cmd, "--%s: expected NAME=VALUE, got '%s'", k->flag,
                                       fl->claims[c]);
            char *name = hd_xstrndup(fl->claims[c], (size_t)(eq - fl->claims[c]));
            auth_extra_set_claim(&s->auth_extra, name, eq[1] ? eq + 1 : NULL);
            free(name);
        }
    } else if (k->type == AX_DURATION) {
        int64_t ms = 0;
        const char *why = NULL;
        if (*v && !duration_parse(v, &ms, &why))
            return cli_fail(ctx->cmd, 2, "auth.%s: '%s': %s", k->name, v,
                            why ? why : "bad duration");
        auth_extra_set_ms(&s->auth_extra, k->name, ms);
    } else if (k->secret && strcmp(v, "-") == 0) {
        char *sec = read_secret_stdin();
        auth_extra_set(&s->auth_extra, k->name, sec);
        explicit_bzero(sec, strlen(sec));
        free(sec);
    } else {
        auth_extra_set(&s->auth_extra, k->name, v);
    }
    return 0;
}

/* The auth flags: --auth first (a change of kind drops what the new kind
 * has no field for), then the settings.  Returns 0, or 2 after a message. */
static int apply_auth_flags(cli_ctx *ctx, const site_flags *fl, site *s)
{
    if (fl->auth) {
        auth_kind k;
        if (!auth_kind_parse(fl->auth, &k)) {
            char kinds[160];
            auth_kind_list(kinds, sizeof kinds, ", ");
            return cli_fail(ctx->cmd, 2, "auth: unknown kind '%s' (%s)", fl->auth, kinds);
        }
        /* What the form keeps on the same change (the kinds table says). */
        auth_change_kind(s, k);
    }
    if (fl->user)
        set_str(&s->auth_user, fl->user);
    for (int i = 0; i < auth_nfields && i < CLI_MAX_FIELDS; i++) {
        const auth_field *k = &auth_fields[i];
        if (k->slot != AS_EXTRA || (!fl->extra[i] && !(k->type == AX_MAP && fl->nclaims)))
            continue;
        int rc = k->kinds & (1u << s->auth) ? apply_extra(ctx, fl, k, fl->extra[i], s)
                                            : wrong_kind(ctx, k, s->auth);
        if (rc)
            return rc;
    }
    if (fl->secret) {
        if (strcmp(fl->secret, "-") == 0) {
            char *sec = read_secret_stdin();
            set_str(&s->auth_secret, sec);
            free(sec);
        } else {
            set_str(&s->auth_secret, fl->secret);
        }
    }
    if (fl->header)
        set_str(&s->auth_header, fl->header);
    return 0;
}

/* --clear-headers, then each --add-header / --add-secret-header (a secret
 * one's value "-" is read from stdin).  Returns 0, or 2 after a message. */
static int apply_header_flags(cli_ctx *ctx, const site_flags *fl, site *s)
{
    if (fl->clear_headers)
        site_clear_headers(s);
    for (int i = 0; i < fl->nadd; i++) {
        const char *h = fl->add_headers[i];
        bool secret = fl->add_secret[i];
        const char *colon = strchr(h, ':');
        if (!colon || colon == h) {
            /* A secret header's text is not echoed: it may be the value alone. */
            if (secret)
                return cli_usage_error(ctx->cmd, "--add-secret-header: expected 'Name: value' "
                                                 "(or 'Name: -' to read the value from stdin)");
            return cli_usage_error(ctx->cmd, "--add-header: expected 'Name: value', got '%s'", h);
        }
        char *name = hd_xstrndup(h, (size_t)(colon - h));
        const char *value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        if (secret && strcmp(value, "-") == 0) {
            char *line = read_secret_stdin();
            site_add_header_secret(s, name, line, true);
            explicit_bzero(line, strlen(line));
            free(line);
        } else {
            site_add_header_secret(s, name, value, secret);
        }
        free(name);
    }
    return 0;
}

/* Applies the flags to s; on a usage problem prints it and returns 2. */
static int apply_flags(cli_ctx *ctx, const site_flags *fl, site *s)
{
    if (fl->url)
        set_str(&s->url, fl->url);
    int rc = apply_auth_flags(ctx, fl, s);
    if (rc)
        return rc;
    if (fl->ctype && !content_type_parse(fl->ctype, &s->ctype))
        return cli_fail(ctx->cmd, 2,
                        "content_type: '%s' is not application/json or "
                        "application/x-www-form-urlencoded",
                        fl->ctype);
    if (fl->timeout) {
        const char *why = NULL;
        if (!duration_parse(fl->timeout, &s->timeout_ms, &why))
            return cli_fail(ctx->cmd, 2, "timeout: '%s': %s", fl->timeout, why ? why : "bad duration");
    }
    if (fl->max_in_flight && !parse_max_in_flight(fl->max_in_flight, &s->max_in_flight))
        return cli_fail(ctx->cmd, 2,
                        "max_in_flight: must be a whole number from 1 to %d, or 'default' (half "
                        "of delivery.concurrency); got '%s' (set with --max-in-flight)",
                        SITE_MAX_IN_FLIGHT, fl->max_in_flight);
    if ((rc = apply_header_flags(ctx, fl, s)) != 0)
        return rc;
    if (fl->rename)
        set_str(&s->name, fl->rename);
    if (fl->enabled >= 0)
        s->enabled = fl->enabled == 1;
    return 0;
}

static void free_flags(site_flags *fl)
{
    free(fl->add_headers);
    free(fl->add_secret);
    free(fl->claims);
}

/* Several fields share a flag (--secret): true for all but the first. */
static bool field_flag_repeated(int i)
{
    for (int k = 0; k < i; k++)
        if (strcmp(auth_fields[k].flag, auth_fields[i].flag) == 0)
            return true;
    return false;
}

static const struct option site_base_opts[] = {
    { "url", required_argument, NULL, 'u' },
    { "auth", required_argument, NULL, 'A' },
    { "content-type", required_argument, NULL, 'T' },
    { "timeout", required_argument, NULL, 't' },
    { "max-in-flight", required_argument, NULL, 'M' },
    { "add-header", required_argument, NULL, 'a' },
    { "add-secret-header", required_argument, NULL, 'X' },
    { "secret-header", required_argument, NULL, 'X' },
    { "clear-headers", no_argument, NULL, 'c' },
    { "disabled", no_argument, NULL, 'd' },
    { "enable", no_argument, NULL, 'E' },
    { "disable", no_argument, NULL, 'D' },
    { "rename", required_argument, NULL, 'r' },
};
enum { NBASE_OPTS = sizeof site_base_opts / sizeof site_base_opts[0] };

/* The site options into longopts (room for NBASE_OPTS + CLI_MAX_FIELDS + 1).
 * The auth flags come from hd_auth.h's table: --user, --client-id and
 * --access-key all set the site's user (any kind's name for it is
 * accepted), --secret its secret, --header its header; the others are
 * settings of auth_extra. */
static void site_longopts(struct option *longopts)
{
    static const int slot_opt[] = { [AS_USER] = 'U', [AS_SECRET] = 'S', [AS_HEADER] = 'H' };
    memcpy(longopts, site_base_opts, sizeof site_base_opts);
    int nopt = NBASE_OPTS;
    for (int i = 0; i < auth_nfields && i < CLI_MAX_FIELDS; i++) {
        const auth_field *f = &auth_fields[i];
        if (f->slot == AS_EXTRA || !field_flag_repeated(i))
            longopts[nopt++] = (struct option){ f->flag, required_argument, NULL,
                                                f->slot == AS_EXTRA ? OPT_EXTRA + i
                                                                    : slot_opt[f->slot] };
    }
    longopts[nopt] = (struct option){ NULL, 0, NULL, 0 };
}

/* One option (getopt_long's opt) and its value into fl; false when opt is
 * none of the site options. */
static bool take_site_flag(site_flags *fl, int opt, char *arg)
{
    switch (opt) {
    case 'u': fl->url = arg; break;
    case 'A': fl->auth = arg; break;
    case 'U': fl->user = arg; break;
    case 'S': fl->secret = arg; break;
    case 'H': fl->header = arg; break;
    case 'T': fl->ctype = arg; break;
    case 't': fl->timeout = arg; break;
    case 'M': fl->max_in_flight = arg; break;
    case 'a':
    case 'X':
        fl->add_headers = hd_xrealloc(fl->add_headers,
                                      (size_t)(fl->nadd + 1) * sizeof *fl->add_headers);
        fl->add_secret = hd_xrealloc(fl->add_secret,
                                     (size_t)(fl->nadd + 1) * sizeof *fl->add_secret);
        fl->add_secret[fl->nadd] = opt == 'X';
        fl->add_headers[fl->nadd++] = arg;
        break;
    case 'c': fl->clear_headers = true; break;
    case 'd': fl->enabled = 0; break;
    case 'E': fl->enabled = 1; break;
    case 'D': fl->enabled = 0; break;
    case 'r': fl->rename = arg; break;
    default:
        if (opt < OPT_EXTRA || opt >= OPT_EXTRA + auth_nfields)
            return false;
        if (auth_fields[opt - OPT_EXTRA].type == AX_MAP) {
            fl->claims = hd_xrealloc(fl->claims, (size_t)(fl->nclaims + 1) * sizeof *fl->claims);
            fl->claims[fl->nclaims++] = arg;
        } else {
            fl->extra[opt - OPT_EXTRA] = arg;
        }
    }
    return true;
}

/* Parses NAME and the site flags; returns -1 when fine, else the exit code. */
static int parse_site_flags(cli_ctx *ctx, int argc, char **argv, bool edit, const char **name,
                            site_flags *fl)
{
    struct option longopts[NBASE_OPTS + CLI_MAX_FIELDS + 1];
    site_longopts(longopts);
    memset(fl, 0, sizeof *fl);
    fl->enabled = -1;
    int opt;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        /* Flags that only make sense for one of add/edit. */
        if ((!edit && (opt == 'E' || opt == 'D' || opt == 'r' || opt == 'c')) ||
            (edit && opt == 'd'))
            return cli_usage_error(ctx->cmd, "option '%s' is not for %s", argv[optind - 1],
                                   ctx->cmd);
        if (!take_site_flag(fl, opt, optarg))
            return cli_bad_option(ctx->cmd, opt, argv);
    }
    if (argc - optind != 1)
        return cli_usage_error(ctx->cmd, argc - optind == 0 ? "expected a site NAME"
                                                            : "expected one site NAME");
    *name = argv[optind];
    return -1;
}

/* site_validate names the stored field (err->field: "auth_secret"); say
 * which flag sets it, so the operator knows what to change on the command
 * line. */
static void hint_flag(hd_error *err, auth_kind kind)
{
    static const struct {
        const char *field;
        const char *flag;
    } fields[] = {
        { "url", "url" },         { "timeout", "timeout" },
        { "max_in_flight", "max-in-flight" },
        { "content_type", "content-type" }, { "headers", "add-header" },
        { "auth", "auth" },
    };
    static const struct {
        const char *field;
        auth_slot slot;
    } slots[] = { { "auth_user", AS_USER }, { "auth_secret", AS_SECRET },
                  { "auth_header", AS_HEADER } };
    const char *flag = NULL;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0] && !flag; i++)
        if (strcmp(err->field, fields[i].field) == 0)
            flag = fields[i].flag;
    for (size_t i = 0; i < sizeof slots / sizeof slots[0] && !flag; i++) {
        if (strcmp(err->field, slots[i].field) != 0)
            continue;
        /* The kind's own name for it (--client-id), else the first kind's. */
        const auth_field *f = auth_field_of(kind, slots[i].slot);
        for (int k = 0; !f && k < auth_nfields; k++)
            if (auth_fields[k].slot == slots[i].slot)
                f = &auth_fields[k];
        flag = f ? f->flag : NULL;
    }
    const auth_field *f = strncmp(err->field, "auth.", 5) == 0 ? auth_field_find(err->field + 5)
                                                                : NULL;
    if (!flag && f)
        flag = f->flag;
    if (!flag)
        return;
    size_t len = strlen(err->msg);
    snprintf(err->msg + len, sizeof err->msg - len, " (set with --%s)", flag);
}

/* Checks s as site_validate does, then its keys (the jwt RS256 PEM): a
 * site is only saved with keys that work. */
static hd_status check_site(const site *s, hd_error *err)
{
    hd_status st = site_validate(s, err);
    return st == HD_OK ? site_probe_keys(s, err) : st;
}

static int sites_add(cli_ctx *ctx, int argc, char **argv)
{
    const char *name = NULL;
    site_flags fl;
    int rc = parse_site_flags(ctx, argc, argv, false, &name, &fl);
    if (rc >= 0) {
        free_flags(&fl);
        return rc;
    }
    if (!fl.url) {
        free_flags(&fl);
        return cli_usage_error(ctx->cmd, "--url is required");
    }
    site s;
    site_init(&s);
    s.name = hd_xstrdup(name);
    rc = apply_flags(ctx, &fl, &s);
    hd_error err = { 0 };
    if (rc == 0) {
        int64_t id = 0;
        if (check_site(&s, &err) != HD_OK || store_site_add(ctx->st, &s, &id, &err) != HD_OK) {
            if (err.code == HD_INVALID)
                hint_flag(&err, s.auth);
            rc = cli_report(ctx->cmd, &err);
        }
        else
            printf("added site %s\n", name);
    }
    site_free(&s);
    free_flags(&fl);
    return rc;
}

/* One edit: reads the site, applies the flags, saves it on the version
 * read.  Returns the exit code, or -1 when another process changed the
 * site meanwhile (nothing written: the caller tries again on the new row,
 * so that an edit changes only what its flags name). */
static int edit_once(cli_ctx *ctx, const char *name, site_flags *fl)
{
    site s;
    site_init(&s);
    hd_error err = { 0 };
    int rc;
    hd_status st = store_site_get_by_name(ctx->st, name, &s, &err);
    if (st == HD_NOT_FOUND)
        rc = cli_fail(ctx->cmd, 1, "site '%s' not found", name);
    else if (st != HD_OK)
        rc = cli_report(ctx->cmd, &err);
    else
        rc = apply_flags(ctx, fl, &s);
    int64_t version = s.updated_at;
    if (rc == 0) {
        if (check_site(&s, &err) != HD_OK ||
            store_site_update_if(ctx->st, &s, version, &err) != HD_OK) {
            if (err.code == HD_CHANGED)
                rc = -1;
            else {
                if (err.code == HD_INVALID)
                    hint_flag(&err, s.auth);
                rc = cli_report(ctx->cmd, &err);
            }
        } else {
            printf("updated site %s\n", s.name);
        }
    }
    site_free(&s);
    return rc;
}

static int sites_edit(cli_ctx *ctx, int argc, char **argv)
{
    const char *name = NULL;
    site_flags fl;
    int rc = parse_site_flags(ctx, argc, argv, true, &name, &fl);
    if (rc >= 0) {
        free_flags(&fl);
        return rc;
    }
    /* A console saving the same site between our read and our write: read
     * it again and apply the flags to what it saved. */
    for (int tries = 0; (rc = edit_once(ctx, name, &fl)) < 0 && tries < 5; tries++)
        ;
    if (rc < 0)
        rc = cli_fail(ctx->cmd, 1, "site '%s' kept changing under this edit; nothing saved", name);
    free_flags(&fl);
    return rc;
}

/* ---- remove / test ---- */

static int one_name(cli_ctx *ctx, int argc, char **argv, const char **name)
{
    static const struct option longopts[] = { { NULL, 0, NULL, 0 } };
    int opt;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1)
        return cli_bad_option(ctx->cmd, opt, argv);
    if (argc - optind != 1)
        return cli_usage_error(ctx->cmd, "expected one site NAME");
    *name = argv[optind];
    return -1;
}

static int get_site(cli_ctx *ctx, const char *name, site *s)
{
    hd_error err = { 0 };
    hd_status st = store_site_get_by_name(ctx->st, name, s, &err);
    if (st == HD_NOT_FOUND)
        return cli_fail(ctx->cmd, 1, "site '%s' not found", name);
    if (st != HD_OK)
        return cli_report(ctx->cmd, &err);
    return 0;
}

static int sites_remove(cli_ctx *ctx, int argc, char **argv)
{
    const char *name = NULL;
    int rc = one_name(ctx, argc, argv, &name);
    if (rc >= 0)
        return rc;
    site s;
    site_init(&s);
    rc = get_site(ctx, name, &s);
    if (rc == 0) {
        hd_error err = { 0 };
        if (store_site_delete(ctx->st, s.id, &err) != HD_OK)
            rc = cli_report(ctx->cmd, &err);
        else
            printf("removed site %s\n", name);
    }
    site_free(&s);
    return rc;
}

static void print_lines(const char *prefix, const char *text, size_t len)
{
    if (!text || !len)
        return;
    hd_buf b = { 0 };
    sanitize_append(&b, text, len, SANITIZE_KEEP_NEWLINES | SANITIZE_KEEP_TABS);
    const char *p = hd_buf_str(&b);
    while (*p) {
        size_t n = strcspn(p, "\n");
        size_t shown = n;
        if (shown && p[shown - 1] == '\r')   /* CRLF header lines */
            shown--;
        printf("%s%.*s\n", prefix, (int)shown, p);
        p += n;
        if (*p == '\n')
            p++;
    }
    hd_buf_free(&b);
}

static int sites_test(cli_ctx *ctx, int argc, char **argv)
{
    const char *name = NULL;
    int rc = one_name(ctx, argc, argv, &name);
    if (rc >= 0)
        return rc;
    site s;
    site_init(&s);
    rc = get_site(ctx, name, &s);
    if (rc != 0) {
        site_free(&s);
        return rc;
    }
    sitetest_result r;
    memset(&r, 0, sizeof r);
    hd_error err = { 0 };
    if (sitetest_run(&ctx->cfg, &s, &r, &err) != HD_OK) {
        rc = cli_report(ctx->cmd, &err);
        goto out;
    }
    char *line = sanitize_dup(r.request_line ? r.request_line : s.url, 0);
    printf("%s\n", line);
    free(line);
    print_lines("> ", r.request_headers, r.request_headers ? strlen(r.request_headers) : 0);
    if (r.response_code)
        printf("< HTTP %d in %lld ms\n", r.response_code, (long long)r.duration_ms);
    else
        printf("< no response after %lld ms\n", (long long)r.duration_ms);
    print_lines("< ", r.response_headers, r.response_headers ? strlen(r.response_headers) : 0);
    if (r.response_body_len) {
        printf("\n");
        print_lines("", r.response_body, r.response_body_len);
    }
    if (r.error) {
        fprintf(stderr, "hookdesk: %s: %s: ", ctx->cmd, name);
        char *e = sanitize_dup(r.error, 0);
        fprintf(stderr, "%s\n", e);
        free(e);
    }
    rc = retry_is_success(r.response_code) ? 0 : 1;
    if (rc == 0)
        printf("ok\n");
out:
    sitetest_result_free(&r);
    site_free(&s);
    return rc;
}

/* ---- export / import ---- */

static int sites_export(cli_ctx *ctx, int argc, char **argv)
{
    bool show = false;
    int bad = cli_one_switch(ctx->cmd, argc, argv, "show-secrets", &show);
    if (bad >= 0)
        return bad;
    if (optind < argc)
        return cli_usage_error(ctx->cmd, "unexpected argument '%s'", argv[optind]);
    site_stats_list l = { 0 };
    hd_error err = { 0 };
    if (store_sites_states(ctx->st, &l, &err) != HD_OK)
        return cli_report(ctx->cmd, &err);
    printf("# hookdesk %s: trusted sites (load with `hookdesk sites import FILE`\n"
           "# or paste under a config file's `sites:`)%s\n",
           HOOKDESK_VERSION,
           show ? "\n# WARNING: this file holds secrets in clear text"
                : "\n# secrets are masked as \"********\"; importing keeps the stored ones");
    /* The YAML itself is config_export_sites's (libyaml's emitter). */
    site *sites = hd_xcalloc((size_t)l.count + 1, sizeof *sites);
    for (int i = 0; i < l.count; i++)
        sites[i] = l.items[i].s;
    hd_buf yaml = {0};
    hd_status st = config_export_sites(sites, l.count, show, &yaml, &err);
    free(sites);
    if (st == HD_OK)
        fwrite(yaml.data, 1, yaml.len, stdout);
    if (yaml.data)
        explicit_bzero(yaml.data, yaml.len);
    hd_buf_free(&yaml);
    site_stats_list_free(&l);
    return st == HD_OK ? 0 : cli_report(ctx->cmd, &err);
}

/* Credential and secret-marked headers exported without --show-secrets
 * read "********": put back the stored value of the header of the same
 * name.  False (with the header's name in *missing) when there is none to
 * put back. */
static bool unmask_headers(site *in, const site *old, const char **missing)
{
    const char *mask = site_mask("x");
    for (int i = 0; i < in->nheaders; i++) {
        site_header *h = &in->headers[i];
        if (!site_header_masked(h) || strcmp(h->value, mask) != 0)
            continue;
        const char *stored = NULL;
        for (int k = 0; old && k < old->nheaders; k++)
            if (strcasecmp(old->headers[k].name, h->name) == 0)
                stored = old->headers[k].value;
        if (!stored) {
            *missing = h->name;
            return false;
        }
        set_str(&h->value, stored);
    }
    return true;
}

/* One site of an import file: updated when a site of its name is stored
 * (masked values keep the stored ones), else added.  Returns -1, or the
 * exit code after the message. */
static int import_site(cli_ctx *ctx, const char *path, site *in, int *added, int *updated)
{
    int rc = -1;
    hd_error err = { 0 };
    site old;
    site_init(&old);
    hd_status st = store_site_get_by_name(ctx->st, in->name, &old, &err);
    bool masked = in->auth_secret && strcmp(in->auth_secret, site_mask("x")) == 0;
    const char *missing = NULL;
    if ((st == HD_OK || st == HD_NOT_FOUND) &&
        !unmask_headers(in, st == HD_OK ? &old : NULL, &missing))
        st = hd_error_set(&err, HD_INVALID,
                          "%s: site '%s': header '%s' is masked (\"********\") and has no "
                          "stored value; give the real one", path, in->name, missing);
    if (st == HD_OK && in->auth_extra && old.auth == in->auth &&
        !auth_extra_unmask(&in->auth_extra, old.auth_extra))
        st = hd_error_set(&err, HD_INVALID,
                          "%s: site '%s': a masked (\"********\") auth setting has no stored "
                          "value; give the real one", path, in->name);
    else if (st == HD_OK && in->auth_extra && old.auth != in->auth &&
             strstr(in->auth_extra, "\"********\""))
        /* Unchecked, the mask itself would be stored as the new kind's
         * setting (e.g. a session token of "********"). */
        st = hd_error_set(&err, HD_INVALID,
                          "%s: site '%s': an auth setting is masked (\"********\") and the "
                          "auth kind changed; give the real value", path, in->name);
    if (st == HD_OK) {
        /* An export without --show-secrets: keep the stored secret. */
        if (masked && old.auth == in->auth)
            set_str(&in->auth_secret, old.auth_secret);
        else if (masked)
            st = hd_error_set(&err, HD_INVALID,
                              "%s: site '%s': auth secret is masked (\"********\") and the "
                              "auth kind changed; give the real secret",
                              path, in->name);
        in->id = old.id;
        if (st == HD_OK && store_site_update(ctx->st, in, &err) == HD_OK)
            (*updated)++;
        else
            rc = cli_report(ctx->cmd, &err);
    } else if (st == HD_NOT_FOUND) {
        if (masked || (in->auth_extra && strstr(in->auth_extra, "\"********\""))) {
            hd_error_set(&err, HD_INVALID,
                         "%s: site '%s': auth secret is masked (\"********\"); give the real "
                         "secret",
                         path, in->name);
            rc = cli_report(ctx->cmd, &err);
        } else if (store_site_add(ctx->st, in, &in->id, &err) == HD_OK) {
            (*added)++;
        } else {
            rc = cli_report(ctx->cmd, &err);
        }
    } else {
        rc = cli_report(ctx->cmd, &err);
    }
    site_free(&old);
    return rc;
}

/* `sites import [--expand-env] FILE`.  The file may come from someone
 * else: a ${VAR} in it is refused unless --expand-env says the operator
 * wants the environment read into its URLs and headers. */
static int sites_import(cli_ctx *ctx, int argc, char **argv)
{
    bool expand = false;
    int bad = cli_one_switch(ctx->cmd, argc, argv, "expand-env", &expand);
    if (bad >= 0)
        return bad;
    config_env env = expand ? CONFIG_ENV_EXPAND : CONFIG_ENV_REFUSE;
    if (argc - optind != 1)
        return cli_usage_error(ctx->cmd, "expected one FILE");
    const char *path = argv[optind];
    int rc = -1;
    config c;
    hd_error err = { 0 };
    if (config_load_env(&c, path, env, &err) != HD_OK) {
        config_free(&c);
        return cli_report(ctx->cmd, &err);
    }
    int added = 0, updated = 0;
    if (store_tx_begin(ctx->st, &err) != HD_OK) {
        config_free(&c);
        return cli_report(ctx->cmd, &err);
    }
    for (int i = 0; i < c.nsites && rc < 0; i++)
        rc = import_site(ctx, path, &c.sites[i], &added, &updated);
    if (rc < 0 && store_tx_commit(ctx->st, &err) != HD_OK)
        rc = cli_report(ctx->cmd, &err);
    if (rc >= 0) {
        /* All or nothing. */
        store_tx_rollback(ctx->st);
        fprintf(stderr, "hookdesk: %s: nothing was imported\n", ctx->cmd);
    } else {
        printf("imported %d site%s (%d added, %d updated)\n", added + updated,
               added + updated == 1 ? "" : "s", added, updated);
        rc = 0;
    }
    config_free(&c);
    return rc;
}

/* ---- help ---- */

void cli_sites_usage_auth(FILE *out)
{
    char kinds[160];
    auth_kind_list(kinds, sizeof kinds, ", ");
    fprintf(out, "AUTH OPTIONS (--auth KIND: %s):\n", kinds);
    for (int i = 0; i < auth_nfields; i++) {
        if (field_flag_repeated(i))
            continue;
        /* A flag several kinds share (--secret): every kind's meaning. */
        hd_buf help = {0};
        for (int k = i; k < auth_nfields; k++)
            if (strcmp(auth_fields[k].flag, auth_fields[i].flag) == 0)
                hd_buf_printf(&help, "%s%s", help.len ? ";\n                         " : "",
                              auth_fields[k].help);
        char opt[48];
        snprintf(opt, sizeof opt, "--%s V", auth_fields[i].flag);
        fprintf(out, "  %-22s %s\n", opt, hd_buf_str(&help));
        hd_buf_free(&help);
    }
    fputs("  A secret given as '-' is read from the first line of stdin; --jwt-claim\n"
          "  repeats ('N=' removes a claim); a flag with an empty value removes it.\n",
          out);
}

/* ---- dispatch ---- */

int cli_cmd_sites(cli_ctx *ctx, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(cli_ctx *, int, char **);
        const char *cmd;     /* name in messages */
    } subs[] = {
        { "list", sites_list, "sites list" },     { "add", sites_add, "sites add" },
        { "edit", sites_edit, "sites edit" },     { "remove", sites_remove, "sites remove" },
        { "test", sites_test, "sites test" },     { "export", sites_export, "sites export" },
        { "import", sites_import, "sites import" },
    };
    if (argc < 2)
        return sites_list(ctx, 1, argv);
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        if (strcmp(argv[1], subs[i].name) == 0) {
            ctx->cmd = subs[i].cmd;
            optind = 0;
            return subs[i].run(ctx, argc - 1, argv + 1);
        }
    }
    return cli_usage_error("sites", "unknown subcommand '%s' (list, add, edit, remove, test, "
                                    "export, import)",
                           argv[1]);
}
