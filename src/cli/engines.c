/* engines.c - `hookdesk engines`: which delivery engines (consoles, `serve`
 * processes, on this host or others sharing the database) are alive, from
 * their heartbeat rows (hd_store.h "engines' heartbeats"). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cli_internal.h"
#include "hd_duration.h"
#include "hd_util.h"

static void engine_row(cli_format format, cli_table *t, const engine_beat *b, int64_t now)
{
    char pid[24], started[32], seen[48], attempts[24], in_flight[16];
    snprintf(pid, sizeof pid, "%lld", (long long)b->pid);
    snprintf(attempts, sizeof attempts, "%lld", (long long)b->attempts);
    snprintf(in_flight, sizeof in_flight, "%d", b->in_flight);
    if (format == FORMAT_TABLE) {
        hd_time_local(b->started_at, started);
        char ago[32];
        duration_format_short(now - b->seen_at > 0 ? now - b->seen_at : 0, ago, sizeof ago);
        snprintf(seen, sizeof seen, "%s ago", ago);
        const char *cells[] = { b->host, pid, b->role, started, seen, attempts, in_flight };
        cli_table_add(t, cells);
        return;
    }
    hd_time_rfc3339(b->started_at, started);
    hd_time_rfc3339(b->seen_at, seen);
    if (format == FORMAT_CSV) {
        const char *cells[] = { b->owner, b->host, pid, b->role, started, seen, attempts,
                                in_flight };
        cli_csv_row(stdout, 8, cells);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "owner", cli_json_str(b->owner));
    json_object_set_new(o, "host", cli_json_str(b->host));
    json_object_set_new(o, "pid", json_integer(b->pid));
    json_object_set_new(o, "role", cli_json_str(b->role));
    json_object_set_new(o, "started_at", json_string(started));
    json_object_set_new(o, "seen_at", json_string(seen));
    json_object_set_new(o, "attempts", json_integer(b->attempts));
    json_object_set_new(o, "in_flight", json_integer(b->in_flight));
    cli_json_print(stdout, o);
}

int cli_cmd_engines(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "format", required_argument, NULL, 'f' },
        { NULL, 0, NULL, 0 },
    };
    cli_format format = FORMAT_TABLE;
    int opt;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (opt != 'f')
            return cli_bad_option(ctx->cmd, opt, argv);
        if (!cli_parse_format(ctx->cmd, optarg, &format))
            return 2;
    }
    if (optind < argc)
        return cli_usage_error(ctx->cmd, "unexpected argument '%s'", argv[optind]);

    int64_t now = hd_now_ms();
    engine_beat_list l;
    hd_error err = { 0 };
    if (store_engines_alive(ctx->st, now - ENGINE_ALIVE_MS, &l, &err) != HD_OK)
        return cli_report(ctx->cmd, &err);
    static const char *const headers[] = { "HOST", "PID", "ROLE", "STARTED", "SEEN",
                                           "ATTEMPTS", "IN FLIGHT" };
    static const char *const csv_headers[] = { "owner", "host", "pid", "role", "started_at",
                                               "seen_at", "attempts", "in_flight" };
    static const bool right[] = { false, true, false, false, false, true, true };
    cli_table t;
    if (format == FORMAT_TABLE)
        cli_table_init(&t, stdout, 7, headers, right);
    else if (format == FORMAT_CSV)
        cli_csv_row(stdout, 8, csv_headers);
    for (int i = 0; i < l.count; i++)
        engine_row(format, &t, &l.items[i], now);
    if (format == FORMAT_TABLE) {
        cli_table_free(&t);
        if (l.count == 0)
            fprintf(stderr, "hookdesk: engines: no engine is delivering on this database\n");
    }
    engine_beat_list_free(&l);
    return 0;
}
