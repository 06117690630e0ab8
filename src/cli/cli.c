/* cli.c - the command line of SPEC §4: global options, configuration,
 * the command table, and the error/exit-code conventions every command uses.
 *
 * DESIGN
 * - The CLI is the one part of src/ that prints.  Every command returns its
 *   exit code: 0 ok, 1 the operation failed, 2 bad usage/config (from
 *   hd_status_exit_code, so a store or config error maps itself).
 * - Order matters for "a bad config touches nothing": the configuration is
 *   loaded and checked before the database is opened (and so created).
 * - `hookdesk COMMAND --help` is answered before the configuration is read,
 *   so help works even with a broken config file.
 * - Commands parse their own options with getopt_long (opterr off; our own
 *   messages say which command and option were wrong, then exit 2).
 */
#include "cli.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_internal.h"
#include "hd_duration.h"
#include "hd_sanitize.h"
#include "hd_util.h"

typedef struct cli_cmd {
    const char *name;
    cli_run_fn run;
    bool needs_store;        /* open the store before running (console/serve open their own) */
    const char *summary;     /* one line for `hookdesk --help` */
    const char *usage;       /* full text for `hookdesk COMMAND --help` */
    void (*usage_more)(FILE *out);  /* lines made from tables, after usage; or NULL */
} cli_cmd;

static int cli_cmd_console(cli_ctx *ctx, int argc, char **argv);

static const cli_cmd commands[] = {
    { "console", cli_cmd_console, false, "the interactive console (default)",
      "usage: hookdesk console [--no-deliver]\n"
      "  Opens the terminal console; the delivery engine runs in the background\n"
      "  unless --no-deliver is given.\n", NULL },
    { "serve", cli_cmd_serve, false, "run the delivery engine without a console",
      "usage: hookdesk serve [--drain]\n"
      "  Delivers queued messages until SIGINT/SIGTERM.  The first signal lets\n"
      "  in-flight attempts finish; a second one aborts them (their leases are\n"
      "  given back, so another process retries them).\n"
      "  --drain   exit once nothing is queued or waiting for a retry\n"
      "            (exit 0 when nothing is pending, 1 otherwise)\n", NULL },
    { "send", cli_cmd_send, true, "queue one message (prints its id)",
      "usage: hookdesk send --site S --action A [--customer C] [--path P] [--payload FILE|-]\n"
      "  --site S        trusted site name\n"
      "  --action A      what happened, e.g. invoice.paid\n"
      "  --customer C    customer reference (optional)\n"
      "  --path P        appended to the site's URL, must start with '/'\n"
      "  --payload FILE  JSON payload from FILE, or '-' for stdin (default {}),\n"
      "                  at most delivery.max_payload bytes (default 1 MiB)\n", NULL },
    { "import", cli_cmd_import, true, "queue messages in bulk from JSON Lines",
      "usage: hookdesk import FILE|-\n"
      "  One message per line: {\"site\": S, \"action\": A, \"customer\": C, \"path\": P,\n"
      "  \"payload\": <any JSON>} (customer and path optional; empty lines skipped).\n"
      "  Every line is checked first; if any is bad nothing is stored.  A payload\n"
      "  may be delivery.max_payload bytes (default 1 MiB).  All or nothing: the\n"
      "  whole file is one transaction, so an import that is interrupted (Ctrl-C,\n"
      "  SIGTERM, kill -9, a database error) stores nothing and can simply be run\n"
      "  again.\n", NULL },
    { "logs", cli_cmd_logs, true, "list messages, newest first",
      "usage: hookdesk logs [--status S[,S]] [--site S] [--customer C] [--action TEXT]\n"
      "                     [--search WORDS] [--since T] [--until T] [--limit N]\n"
      "                     [--format table|json|csv]\n"
      "  --status   queued, resent, done, failed (comma-separated for several)\n"
      "  --action   case-insensitive substring of the action\n"
      "  --search   messages whose action, customer or payload has words beginning\n"
      "             with every one of WORDS (any case): 'zebra', 'cus_00', 'order 42'\n"
      "  --since/--until  a date (2026-11-29, 2026-11-29 20:58 local time,\n"
      "             2026-11-29T20:58:55Z UTC) or a duration ago (1h, 7d); a date\n"
      "             alone as --until includes that day (--since D --until D: day D)\n"
      "  --limit N  rows to print (default 50, 0 = all)\n"
      "  --format   table (default), json (JSON Lines) or csv\n", NULL },
    { "queue", cli_cmd_queue, true, "list messages still to be delivered",
      "usage: hookdesk queue [--site S] [--customer C] [--limit N] [--format table|json|csv]\n"
      "  RETRIES counts attempts after the first; NEXT is the countdown to the\n"
      "  next attempt, 'sending' while one is in flight, 'paused' for a paused site,\n"
      "  'circuit open, probe in 7s' while its site's circuit breaker is open, and\n"
      "  '59m (Retry-After)' when the receiver asked for that wait.\n", NULL },
    { "show", cli_cmd_show, true, "one message with its payload and every attempt",
      "usage: hookdesk show ID|WEBHOOK-ID [--format text|json]\n"
      "  ID is the message's number; WEBHOOK-ID its webhook-id header\n"
      "  (msg_..., constant across attempts: what a receiver reports).\n", NULL },
    { "resend", cli_cmd_resend, true, "resend messages as new linked messages",
      "usage: hookdesk resend [--force] ID...\n"
      "       hookdesk resend --status failed [--site S] [--customer C]\n"
      "  Each resend is a new Queued message with resend_of = the original.\n"
      "  A payload larger than delivery.max_payload (stored under an older, larger\n"
      "  limit) is not resent: resend ID refuses it, --status failed skips it and\n"
      "  says how many it skipped (exit 2).\n"
      "  resend ID of a message still pending (Queued or Resent) would send it\n"
      "  twice: refused (exit 1) unless --force.\n", NULL },
    { "engines", cli_cmd_engines, true, "the delivery engines alive on this database",
      "usage: hookdesk engines [--format table|json|csv]\n"
      "  Every engine (a console's, a `serve`, on any host sharing the database)\n"
      "  writes a heartbeat every 5 s; those seen in the last 15 s are listed:\n"
      "  host, pid, role (serve or console), when it started, when it was last\n"
      "  seen, the attempts it recorded and the transfers it had under way.\n", NULL },
    { "purge", cli_cmd_purge, true, "delete finished messages older than a duration",
      "usage: hookdesk purge [--older-than DURATION]\n"
      "  Default: the configured retention (90d).  Only Done and Failed messages\n"
      "  (and their attempts) are deleted.\n", NULL },
    { "migrate", cli_cmd_migrate, false, "copy the SQLite database into PostgreSQL",
      "usage: hookdesk [-c FILE] [--db FILE] migrate --to URL\n"
      "  Copies the configured SQLite database (database: or --db) into the\n"
      "  PostgreSQL database URL (postgresql://... or a libpq keyword string such\n"
      "  as 'host=/run/postgresql dbname=hookdesk'), which must hold no site and\n"
      "  no message (else exit 1, nothing changed): sites with their secrets,\n"
      "  messages, payloads, attempts, counters, keeping every id.  The schema is\n"
      "  created first.  One transaction: all or nothing.  It then prints the\n"
      "  rows of every table on both sides (checked equal before the commit).\n"
      "  It copies a snapshot: stop the engines (serve, consoles) on the SQLite\n"
      "  database first, or what they deliver afterwards stays behind.  A\n"
      "  password in URL is never printed.\n", NULL },
    { "sites", cli_cmd_sites, true, "manage trusted sites",
      "usage: hookdesk sites list [--format table|json|csv]\n"
      "       hookdesk sites add NAME --url URL [SITE OPTIONS]\n"
      "       hookdesk sites edit NAME [SITE OPTIONS] [--enable|--disable] [--rename NEW]\n"
      "       hookdesk sites remove NAME\n"
      "       hookdesk sites test NAME\n"
      "       hookdesk sites export [--show-secrets]\n"
      "       hookdesk sites import [--expand-env] FILE\n"
      "SITE OPTIONS:\n"
      "  --url URL              http:// or https:// endpoint\n"
      "  --content-type T       application/json (default) or application/x-www-form-urlencoded\n"
      "  --timeout D            per-attempt timeout (e.g. 5s; 0 = delivery.timeout)\n"
      "  --max-in-flight N      most requests to the site at once per engine, 1..256\n"
      "                         ('default': half of delivery.concurrency, at least 1)\n"
      "  --add-header 'N: V'    extra static header (repeatable)\n"
      "  --add-secret-header 'N: V'  header whose value is secret: masked everywhere\n"
      "                         ('N: -' reads V from stdin)\n"
      "  --clear-headers        (edit) drop the extra headers first\n"
      "  --disabled             (add) create the site paused\n"
      "Secrets are never printed; `sites export --show-secrets` is the one exception.\n"
      "`sites import` refuses a ${VAR} in FILE (it may come from someone else)\n"
      "unless --expand-env allows reading the environment.\n",
      cli_sites_usage_auth },
};

static const cli_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void print_main_usage(FILE *out)
{
    fprintf(out,
            "usage: hookdesk [-c FILE] [--db DB] [COMMAND] [ARGS]\n"
            "hookdesk %s - a terminal console and CLI for outgoing webhooks.\n\n"
            "Global options (before the command):\n"
            "  -c, --config FILE   configuration file (else $HOOKDESK_CONFIG,\n"
            "                      ./config/hookdesk.yaml, $XDG_CONFIG_HOME/hookdesk/config.yaml)\n"
            "      --db DB         SQLite file or PostgreSQL URL (overrides `database:`)\n"
            "      --no-deliver    the console only watches (no delivery engine)\n"
            "  -h, --help          this help\n"
            "      --version       print the version\n\n"
            "Commands:\n",
            HOOKDESK_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'hookdesk COMMAND --help' for a command's options.\n"
                 "Exit codes: 0 ok, 1 operation failed, 2 bad usage or configuration.\n");
}

/* ---- the console (ui/) ---- */

/* main.c passes the console's entry point, so that the command line never
 * names (or links) ui/: the core and the CLI build without curses. */
static cli_console_fn console_entry;

static int cli_cmd_console(cli_ctx *ctx, int argc, char **argv)
{
    if (!console_entry)
        return cli_fail("console", 2, "this build of hookdesk has no console");
    /* The console opens its own store connections; argv starts after "console". */
    return console_entry(&ctx->cfg, argc > 0 ? argc - 1 : 0, argv + (argc > 0 ? 1 : 0));
}

/* ---- main entry ---- */

/* Loads the configuration and applies --db; prints the error itself. */
static int load_config(const cli_globals *g, config *cfg)
{
    hd_error err = { 0 };
    char *path = config_find(g->config_path);
    if (path) {
        if (config_load(cfg, path, &err) != HD_OK) {
            free(path);
            return cli_report(NULL, &err);
        }
        free(path);
    } else {
        config_defaults(cfg);
    }
    if (g->db_path) {
        free(cfg->database);
        cfg->database = hd_xstrdup(g->db_path);
    }
    return 0;
}

/* The first configured site holding a masked ("********") secret, or NULL. */
static const char *masked_site(const config *c)
{
    const char *mask = site_mask("x");
    for (int i = 0; i < c->nsites; i++) {
        const site *s = &c->sites[i];
        bool masked = (s->auth_secret && strcmp(s->auth_secret, mask) == 0) ||
                      (s->auth_extra && strstr(s->auth_extra, "\"********\""));
        for (int k = 0; k < s->nheaders && !masked; k++)
            masked = site_header_masked(&s->headers[k]) &&
                     strcmp(s->headers[k].value, mask) == 0;
        if (masked)
            return s->name;
    }
    return NULL;
}

static int open_store(cli_ctx *ctx)
{
    hd_error err = { 0 };
    const char *masked = masked_site(&ctx->cfg);
    if (masked) {
        /* The mask is accepted when reading a file so that `sites import`
         * can keep stored secrets; seeding has none to keep.  Refused before
         * the database is touched, like any configuration error. */
        hd_error_set(&err, HD_CONFIG,
                     "%s: site '%s': a secret is masked (\"********\"); give the real value",
                     ctx->cfg.path ? ctx->cfg.path : "configuration", masked);
        return cli_report(NULL, &err);
    }
    store_options opt = {
        .synchronous_full = ctx->cfg.delivery.synchronous_full,
        .busy_timeout_ms = 5000,
        .read_only = false,
    };
    if (store_open(ctx->cfg.database, &opt, &ctx->st, &err) != HD_OK)
        return cli_report(NULL, &err);
    if (ctx->cfg.nsites > 0) {
        int added = 0;
        if (store_seed_sites(ctx->st, ctx->cfg.sites, ctx->cfg.nsites, &added, &err) != HD_OK) {
            hd_error_prefix(&err, "seeding sites from %s: ",
                            ctx->cfg.path ? ctx->cfg.path : "the configuration");
            int rc = cli_report(NULL, &err);
            store_close(ctx->st);
            ctx->st = NULL;
            return rc;
        }
    }
    return 0;
}

/* True when the command's own arguments ask for help (before any "--"). */
static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    }
    return false;
}

/* `hookdesk --no-deliver [console ...]`: the console's arguments with
 * the option among them (malloc'd, NULL-ended; *argc is their count). */
static char **console_no_deliver(int *argc, char **argv)
{
    int n = 0;
    char **out = hd_xcalloc((size_t)*argc + 3, sizeof *out);
    out[n++] = (char *)"console";
    out[n++] = (char *)"--no-deliver";
    for (int i = *argc > 0 ? 1 : 0; i < *argc; i++)
        out[n++] = argv[i];
    out[n] = NULL;
    *argc = n;
    return out;
}

/* Loads the configuration, opens the store and runs cmd with its
 * arguments; returns its exit code. */
static int run_command(const cli_cmd *cmd, const cli_globals *g, int argc, char **argv)
{
    cli_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.cmd = cmd->name;
    int rc = load_config(g, &ctx.cfg);
    if (rc != 0) {
        config_free(&ctx.cfg);   /* a failed load leaves defaults behind */
        return rc;
    }
    /* Every command seeds `sites:` (the console and serve too), so open the
     * store here; console and serve close it again and open their own. */
    rc = open_store(&ctx);
    if (rc == 0) {
        if (!cmd->needs_store) {
            store_close(ctx.st);
            ctx.st = NULL;
        }
        optind = 0;   /* glibc: 0 re-initialises getopt for the command's argv */
        rc = cmd->run(&ctx, argc, argv);
    }
    if (ctx.st)
        store_close(ctx.st);
    config_free(&ctx.cfg);
    return rc;
}

int cli_main(int argc, char **argv, cli_console_fn console)
{
    console_entry = console;
    static const struct option longopts[] = {
        { "config", required_argument, NULL, 'c' },
        { "db", required_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "no-deliver", no_argument, NULL, 'N' },
        { NULL, 0, NULL, 0 },
    };
    cli_globals g = { NULL, NULL };
    bool no_deliver = false;   /* `hookdesk --no-deliver`: the default console, watching only */
    int opt;
    opterr = 0;
    optind = 0;
    /* '+': stop at the command word, whose options belong to the command. */
    while ((opt = getopt_long(argc, argv, "+:c:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c': g.config_path = optarg; break;
        case 'D': g.db_path = optarg; break;
        case 'h': print_main_usage(stdout); return 0;
        case 'V': printf("hookdesk %s\n", HOOKDESK_VERSION); return 0;
        case 'N': no_deliver = true; break;
        default: return cli_bad_option(NULL, opt, argv);
        }
    }

    int cargc = argc - optind;
    char **cargv = argv + optind;
    const cli_cmd *cmd;
    if (cargc == 0) {
        cmd = find_command("console");
    } else {
        cmd = find_command(cargv[0]);
        if (!cmd)
            return cli_usage_error(NULL, "unknown command '%s'", cargv[0]);
        /* The console too: its help must not need a readable config or
         * create a database (open_store below would). */
        if (wants_help(cargc, cargv)) {
            fputs(cmd->usage, stdout);
            if (cmd->usage_more)
                cmd->usage_more(stdout);
            return 0;
        }
    }

    /* The console's own option may come before the (implied) command word. */
    char **console_argv = NULL;
    if (no_deliver) {
        if (cmd->run != cli_cmd_console)
            return cli_usage_error(NULL, "--no-deliver applies to the console only");
        console_argv = console_no_deliver(&cargc, cargv);
        cargv = console_argv;
    }
    int rc = run_command(cmd, &g, cargc, cargv);
    free(console_argv);
    /* ferror too: a write that failed earlier (its buffer already gone)
     * leaves only the error flag behind, and fflush would then succeed. */
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == 0) {
        fprintf(stderr, "hookdesk: writing output: %s\n", strerror(errno));
        rc = 1;
    }
    return rc;
}
