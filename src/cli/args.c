/* args.c - what every command shares: error lines with their exit codes
 * (cli_usage_error, cli_report, cli_fail), getopt's complaints, and the
 * strict option-value parsers (numbers, times, site names). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"
#include "hd_duration.h"
#include "hd_sanitize.h"
#include "hd_util.h"

/* Every error line goes through here: messages quote input (arguments, file
 * names, site names from import files), which must not reach a terminal raw. */
static void print_error(const char *cmd, const char *msg)
{
    char *clean = sanitize_dup(msg, 0);
    if (cmd)
        fprintf(stderr, "hookdesk: %s: %s\n", cmd, clean);
    else
        fprintf(stderr, "hookdesk: %s\n", clean);
    free(clean);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cmd) {
        print_error(cmd, msg);
        /* "sites add" -> help of "sites" */
        char top[32];
        snprintf(top, sizeof top, "%.*s", (int)strcspn(cmd, " "), cmd);
        fprintf(stderr, "Try 'hookdesk %s --help'.\n", top);
    } else {
        print_error(NULL, msg);
        fputs("Try 'hookdesk --help'.\n", stderr);
    }
    return 2;
}

int cli_report(const char *cmd, const hd_error *err)
{
    print_error(cmd, err->msg);
    int code = hd_status_exit_code(err->code);
    return code ? code : 1;
}

int cli_fail(const char *cmd, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error(cmd, msg);
    return code;
}

int cli_bad_option(const char *cmd, int opt, char **argv)
{
    /* optind has moved past the offending word. */
    const char *word = optind > 0 ? argv[optind - 1] : "?";
    if (opt == ':')
        return cli_usage_error(cmd, "option '%s' needs a value", word);
    if (optopt && optopt != '?')
        return cli_usage_error(cmd, "unknown option '-%c'", optopt);
    return cli_usage_error(cmd, "unknown option '%s'", word);
}

int cli_one_switch(const char *cmd, int argc, char **argv, const char *name, bool *on)
{
    const struct option longopts[] = {
        { name, no_argument, NULL, 's' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (opt != 's')
            return cli_bad_option(cmd, opt, argv);
        *on = true;
    }
    return -1;
}

bool cli_parse_int64(const char *cmd, const char *what, const char *text, int64_t min,
                     int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < min) {
        cli_usage_error(cmd, "%s: '%s' is not a whole number >= %lld", what, text,
                        (long long)min);
        return false;
    }
    *out = v;
    return true;
}

bool cli_parse_time(const char *cmd, const char *what, const char *text, int64_t *out_ms)
{
    const char *why = NULL;
    if (duration_parse_when(text, hd_now_ms(), out_ms, &why))
        return true;
    cli_usage_error(cmd, "%s: '%s': %s", what, text, why);
    return false;
}

bool cli_parse_until(const char *cmd, const char *what, const char *text, int64_t *out_ms)
{
    const char *why = NULL;
    if (duration_parse_until(text, hd_now_ms(), out_ms, &why))
        return true;
    cli_usage_error(cmd, "%s: '%s': %s", what, text, why);
    return false;
}

bool cli_site_id(cli_ctx *ctx, const char *name, int64_t *id_out, int *exit_code)
{
    site s;
    site_init(&s);
    hd_error err = { 0 };
    hd_status rc = store_site_get_by_name(ctx->st, name, &s, &err);
    if (rc == HD_OK) {
        *id_out = s.id;
        site_free(&s);
        return true;
    }
    site_free(&s);
    if (rc == HD_NOT_FOUND)
        *exit_code = cli_fail(ctx->cmd, 2, "site '%s' not found", name);
    else
        *exit_code = cli_report(ctx->cmd, &err);
    return false;
}

