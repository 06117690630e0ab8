/* migrate.c - `hookdesk migrate --to URL`: copies the configured SQLite
 * database into an empty PostgreSQL database (store_migrate, hd_store.h)
 * and prints what it copied, table by table, on both sides.
 *
 * The target's name can hold a password: it is never printed as given,
 * only as the store shows it (masked), in the report and in errors alike;
 * an argument that is not an option is refused without being repeated.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_internal.h"
#include "hd_util.h"

/* Progress on a terminal only (stderr), one line rewritten in place and
 * cleared at the end (the report follows on stdout). */
static void show_progress(void *arg, const char *table, int64_t done, int64_t total)
{
    (void)arg;
    fprintf(stderr, "\rcopying %-16s %lld/%lld rows\033[K", table, (long long)done,
            (long long)total);
    fflush(stderr);
}

static int parse_options(const char *cmd, int argc, char **argv, const char **to)
{
    static const struct option longopts[] = {
        { "to", required_argument, NULL, 't' },
        { NULL, 0, NULL, 0 },
    };
    int opt;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (opt != 't')
            return cli_bad_option(cmd, opt, argv);
        *to = optarg;
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument (the target database goes after --to)");
    if (!*to || !**to)
        return cli_usage_error(cmd, "--to URL is required (the PostgreSQL database to copy into)");
    return -1;
}

static void print_report(const char *from, const store_migrate_report *r, double secs)
{
    printf("migrated %s -> %s\n", from, r->target);
    static const char *const headers[] = { "TABLE", "SOURCE", "TARGET" };
    static const bool right[] = { false, true, true };
    cli_table t;
    cli_table_init(&t, stdout, 3, headers, right);
    int64_t rows = 0;
    for (int i = 0; i < STORE_MIGRATE_TABLES; i++) {
        char src[24], dst[24];
        snprintf(src, sizeof src, "%lld", (long long)r->tables[i].source);
        snprintf(dst, sizeof dst, "%lld", (long long)r->tables[i].target);
        const char *cells[] = { r->tables[i].table, src, dst };
        cli_table_add(&t, cells);
        rows += r->tables[i].target;
    }
    cli_table_free(&t);
    printf("status counts:");
    for (int s = 0; s < MSG_STATUS_COUNT; s++)
        printf("%s %s %lld", s ? "," : "", msg_status_name((msg_status)s),
               (long long)r->status_counts[s]);
    printf("\n");
    if (r->counts_by_trigger)
        printf("note: the target's tables belong to another role; its status counters were "
               "kept row by row (slower, same result)\n");
    printf("%lld rows in %.2f s (%.0f rows/s), one transaction, committed; counts match\n",
           (long long)rows, secs, secs > 0 ? (double)rows / secs : 0.0);
}

int cli_cmd_migrate(cli_ctx *ctx, int argc, char **argv)
{
    const char *to = NULL;
    int bad = parse_options(ctx->cmd, argc, argv, &to);
    if (bad >= 0)
        return bad;
    store_migrate_report report;
    hd_error err = { 0 };
    int64_t t0 = hd_mono_ms();
    bool progress = isatty(STDERR_FILENO);
    hd_status rc = store_migrate(ctx->cfg.database, to, progress ? show_progress : NULL, NULL,
                                 &report, &err);
    double secs = (double)(hd_mono_ms() - t0) / 1000.0;
    if (progress) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    if (rc != HD_OK) {
        /* The store's messages begin with "migrate: " already. */
        int code = cli_report(NULL, &err);
        if (rc != HD_USAGE && rc != HD_EXISTS)
            fprintf(stderr, "hookdesk: %s: nothing was copied (the copy is one transaction)\n",
                    ctx->cmd);
        return code;
    }
    print_report(ctx->cfg.database, &report, secs);
    if (report.repaired)
        fprintf(stderr,
                "hookdesk: %s: %lld text value%s (response headers, errors) %s not valid UTF-8, "
                "which PostgreSQL cannot store: copied with U+FFFD in place of the bad bytes\n",
                ctx->cmd, (long long)report.repaired, report.repaired == 1 ? "" : "s",
                report.repaired == 1 ? "was" : "were");
    return 0;
}
