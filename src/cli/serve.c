/* serve.c - `hookdesk serve [--drain]`: the delivery engine, headless.
 *
 * DESIGN
 * - SIGINT and SIGTERM are blocked in this thread BEFORE engine_start, so
 *   the engine's thread inherits the mask and the signals can only be taken
 *   here, synchronously, with sigtimedwait: no handler, no async-signal
 *   safety questions.
 * - The main thread waits in sigtimedwait with a short timeout so that it
 *   also notices the engine ending by itself (--drain, or a fatal error).
 * - First signal: engine_stop(FINISH) — claim nothing new, let in-flight
 *   attempts finish and be recorded.  Second signal: engine_stop(RELEASE) —
 *   abort them and give their leases back so another process retries them
 *   at once.  Either way no message is lost (SPEC §1).
 */
#include <errno.h>
#include <stdio.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "cli_internal.h"
#include "hd_engine.h"
#include "hd_util.h"

/* How often the waiting thread looks at the engine's state. */
#define SERVE_TICK_MS 100
/* A drain engine that has not been seen running after this long is treated
 * as finished (it may have ended before the first look). */
#define SERVE_START_GRACE_MS 2000

/* The engine's log lines (attempts, circuits opening and closing). */
static void log_to_stderr(void *ctx, const char *lines, size_t len)
{
    (void)ctx;
    fwrite(lines, 1, len, stderr);
    fflush(stderr);
}

int cli_cmd_serve(cli_ctx *ctx, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "drain", no_argument, NULL, 'd' },
        { NULL, 0, NULL, 0 },
    };
    engine_options eo = { .drain = false, .quiet = false, .log = log_to_stderr };
    int opt;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (opt == 'd')
            eo.drain = true;
        else
            return cli_bad_option(ctx->cmd, opt, argv);
    }
    if (optind < argc)
        return cli_usage_error(ctx->cmd, "unexpected argument '%s'", argv[optind]);

    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);

    engine *e = NULL;
    hd_error err = { 0 };
    if (engine_start(&ctx->cfg, &eo, &e, &err) != HD_OK) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return cli_report(ctx->cmd, &err);
    }
    fprintf(stderr, "hookdesk: serve: delivering from %s (concurrency %d)%s\n", ctx->cfg.database,
            ctx->cfg.delivery.concurrency, eo.drain ? ", until nothing is pending" : "");

    int signals = 0;
    bool seen_running = false;
    int64_t started = hd_mono_ms();
    for (;;) {
        struct timespec ts = { 0, SERVE_TICK_MS * 1000000L };
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM) {
            signals++;
            if (signals == 1) {
                fprintf(stderr, "hookdesk: serve: %s: finishing in-flight attempts "
                                "(send it again to abort them)\n",
                        sig == SIGINT ? "interrupted" : "terminated");
                engine_stop(e, ENGINE_STOP_FINISH);
            } else {
                fprintf(stderr, "hookdesk: serve: aborting in-flight attempts; they will be retried\n");
                engine_stop(e, ENGINE_STOP_RELEASE);
                break;
            }
            continue;
        }
        if (sig < 0 && errno != EAGAIN && errno != EINTR)
            break;
        engine_stats s;
        engine_get_stats(e, &s);
        if (s.running)
            seen_running = true;
        else if (seen_running || hd_mono_ms() - started > SERVE_START_GRACE_MS)
            break;
    }

    /* Let the thread finish so the summary counts its last attempts. */
    engine_stats s;
    for (engine_get_stats(e, &s); s.running; engine_get_stats(e, &s)) {
        struct timespec nap = { 0, 20 * 1000000L };
        nanosleep(&nap, NULL);
    }
    hd_status rc = engine_join(e, &err);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    printf("serve: %lld attempts, %lld done, %lld failed, %lld errors\n", (long long)s.attempts,
           (long long)s.done, (long long)s.failed, (long long)s.errors);
    if (rc != HD_OK)
        return cli_report(ctx->cmd, &err);
    if (eo.drain && signals == 0) {
        /* "Drained" is a promise about the database, so check it there. */
        int64_t pending = 0;
        store *st = NULL;
        store_options so = { .synchronous_full = ctx->cfg.delivery.synchronous_full };
        if (store_open(ctx->cfg.database, &so, &st, &err) != HD_OK ||
            store_pending_count(st, &pending, &err) != HD_OK) {
            if (st)
                store_close(st);
            return cli_report(ctx->cmd, &err);
        }
        store_close(st);
        if (pending > 0)
            return cli_fail(ctx->cmd, 1, "%lld messages still pending", (long long)pending);
    }
    return 0;
}
