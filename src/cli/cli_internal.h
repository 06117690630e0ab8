/* cli_internal.h - what the files of src/cli/ share; not part of the core's
 * public headers (only the CLI prints, so none of this belongs in include/). */
#ifndef HD_CLI_INTERNAL_H
#define HD_CLI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "hd_config.h"
#include "hd_error.h"
#include "hd_store.h"

/* Everything a command needs, set up by cli_main before the command runs. */
typedef struct cli_ctx {
    config cfg;              /* loaded configuration (--db applied) */
    store *st;               /* open store, sites seeded; NULL for commands that open their own */
    const char *cmd;         /* command name for messages ("send", "sites add") */
} cli_ctx;

/* A command: argv[0] is the command name, options follow (getopt_long
 * with optind reset by the caller). Returns the exit code. */
typedef int (*cli_run_fn)(cli_ctx *ctx, int argc, char **argv);

/* ---- messages and exit codes (args.c) ---- */

/* "hookdesk: CMD: what" on stderr; returns 2 and adds a "Try ..." hint. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "hookdesk: CMD: err->msg" on stderr; returns the exit code of err->code. */
int cli_report(const char *cmd, const hd_error *err);
/* Same for a failure described here; returns `code`. */
int cli_fail(const char *cmd, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Handles the ':' and '?' returns of getopt_long (opterr is off); returns 2. */
int cli_bad_option(const char *cmd, int opt, char **argv);
/* The options of a command whose only option is the switch --name: sets
 * *on when it is given.  Returns -1 when the options are fine, else the
 * exit code (the message printed); the arguments start at optind. */
int cli_one_switch(const char *cmd, int argc, char **argv, const char *name, bool *on);

/* Strict parsers for option values; print the error and return false. */
bool cli_parse_int64(const char *cmd, const char *what, const char *text, int64_t min,
                     int64_t *out);
/* A date or a duration ago (duration_parse_when); the error names what. */
bool cli_parse_time(const char *cmd, const char *what, const char *text, int64_t *out_ms);
/* The same for the end of a range (--until): a date alone includes its day. */
bool cli_parse_until(const char *cmd, const char *what, const char *text, int64_t *out_ms);

/* Resolves a site name to its id; prints "CMD: site 'x' not found" (exit 2). */
bool cli_site_id(cli_ctx *ctx, const char *name, int64_t *id_out, int *exit_code);

/* ---- output (output.c) ---- */

typedef enum cli_format {
    FORMAT_TABLE,
    FORMAT_JSON,             /* JSON Lines, one object per row */
    FORMAT_CSV               /* RFC 4180, header line, CRLF line ends */
} cli_format;

bool cli_parse_format(const char *cmd, const char *text, cli_format *out);
/* For the commands whose only option is --format (and no argument): -1
 * when the command line is good (*out set), else the exit code (said). */
int cli_only_format(const char *cmd, int argc, char **argv, cli_format *out);

/* A table printed in chunks: rows are buffered, the first flush fixes the
 * column widths (from the header and the rows seen so far) so that output
 * starts before the last row is known.  Cells are sanitised on the way in. */
typedef struct cli_table {
    FILE *out;
    int ncols;
    const char *const *headers;
    const bool *right;       /* right-aligned columns (numbers) */
    size_t *width;           /* display columns per column, fixed at first flush */
    char **cells;            /* buffered rows, nrows * ncols sanitised strings */
    int nrows;
    int cap;                 /* rows allocated */
    bool started;            /* header printed, widths fixed */
    bool utf8;               /* locale is UTF-8; else cells as text_ascii_fold shows them */
} cli_table;

void cli_table_init(cli_table *t, FILE *out, int ncols, const char *const *headers,
                    const bool *right);
void cli_table_add(cli_table *t, const char *const *cells);
void cli_table_flush(cli_table *t);
void cli_table_free(cli_table *t);   /* flushes what is left */

/* One CSV record; cells sanitised, guarded against formulas (a cell that
 * starts with = + - @ TAB or CR, and is not a plain number, gets a leading
 * '), then quoted when needed. */
void cli_csv_row(FILE *out, int ncols, const char *const *cells);
/* True for a cell a spreadsheet would take for a formula. */
bool cli_csv_needs_guard(const char *cell);

/* JSON helpers over jansson (declared without its types to keep this header light). */
struct json_t;
struct json_t *cli_json_str(const char *s);            /* null for NULL; invalid UTF-8 repaired */
struct json_t *cli_json_strn(const char *s, size_t n); /* same with a length (may hold NULs) */
void cli_json_print(FILE *out, struct json_t *obj);    /* one compact line; steals obj */

/* A circuit in words, countdowns as the queue's ("4m58s"): "closed",
 * "open, probe in 7s", "open, probe due", "open, probing". */
void cli_circuit_state(const circuit *c, int64_t now_ms, char *out, size_t outlen);

/* Messages in the three formats (logs). */
void cli_message_json_fields(struct json_t *obj, const message *m);

/* ---- commands ---- */
int cli_cmd_send(cli_ctx *ctx, int argc, char **argv);
int cli_cmd_logs(cli_ctx *ctx, int argc, char **argv);
int cli_cmd_queue(cli_ctx *ctx, int argc, char **argv);
int cli_cmd_show(cli_ctx *ctx, int argc, char **argv);
int cli_cmd_resend(cli_ctx *ctx, int argc, char **argv);
int cli_cmd_purge(cli_ctx *ctx, int argc, char **argv);
int cli_cmd_import(cli_ctx *ctx, int argc, char **argv);
int cli_cmd_sites(cli_ctx *ctx, int argc, char **argv);
/* The auth options of `sites add/edit`, from the kinds' fields table. */
void cli_sites_usage_auth(FILE *out);
int cli_cmd_serve(cli_ctx *ctx, int argc, char **argv);
int cli_cmd_engines(cli_ctx *ctx, int argc, char **argv);
int cli_cmd_migrate(cli_ctx *ctx, int argc, char **argv);

#endif
