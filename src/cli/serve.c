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
#include <stdlib.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "cli_internal.h"
#include "hd_duration.h"
#include "hd_engine.h"
#include "hd_sanitize.h"
#include "hd_util.h"

/* How often the waiting thread looks at the engine's state. */
#define SERVE_TICK_MS 100
/* A drain engine that has not been seen running after this long is treated
 * as finished (it may have ended before the first look). */
#define SERVE_START_GRACE_MS 2000

/* Appends a decimal number (printf was a tenth of the engine's own
 * instructions per attempt when a line was printed for each). */
static void buf_put_i64(hd_buf *b, int64_t v)
{
    char tmp[24];
    int i = (int)sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (v < 0)
        tmp[--i] = '-';
    hd_buf_append(b, tmp + i, sizeof tmp - (size_t)i);
}

/* "hookdesk: msg 42 -> site billing: HTTP 200 (attempt 1/5), done" */
static void format_attempt(hd_buf *b, const engine_event *ev)
{
    hd_buf_puts(b, "hookdesk: msg ");
    buf_put_i64(b, ev->u.attempt.message_id);
    hd_buf_puts(b, " -> site ");
    /* Site names are validated ([A-Za-z0-9._-]); errors come from outside. */
    hd_buf_puts(b, ev->u.attempt.site ? ev->u.attempt.site : "?");
    hd_buf_puts(b, ": ");
    if (ev->u.attempt.error) {
        sanitize_append(b, ev->u.attempt.error, strlen(ev->u.attempt.error), 0);
    } else {
        hd_buf_puts(b, "HTTP ");
        buf_put_i64(b, ev->u.attempt.response_code);
    }
    hd_buf_puts(b, " (attempt ");
    buf_put_i64(b, ev->u.attempt.number);
    hd_buf_putc(b, '/');
    buf_put_i64(b, ev->u.attempt.max_attempts);
    hd_buf_puts(b, "), ");
    if (ev->u.attempt.status == MSG_DONE) {
        hd_buf_puts(b, "done\n");
    } else if (ev->u.attempt.status == MSG_FAILED) {
        hd_buf_puts(b, "failed\n");
    } else {
        char in[32];
        duration_format(ev->u.attempt.retry_in_ms, in, sizeof in);
        hd_buf_puts(b, "retry in ");
        hd_buf_puts(b, in);
        hd_buf_putc(b, '\n');
    }
}

/* One event as its line on stderr. */
static void format_event(hd_buf *b, const engine_event *ev)
{
    char took[32];
    char *name, *text;
    switch (ev->kind) {
    case ENGINE_EV_ATTEMPT:
        format_attempt(b, ev);
        break;
    case ENGINE_EV_CIRCUIT_OPENED:
        name = sanitize_dup(ev->u.circuit.site, 0);
        text = sanitize_dup(ev->u.circuit.reason, 0);
        duration_format(ev->u.circuit.probe_in_ms, took, sizeof took);
        hd_buf_printf(b, "hookdesk: site %s: circuit open after %d failed attempts (%s); its "
                      "messages wait, probe in %s\n", name, ev->u.circuit.failures, text, took);
        free(text);
        free(name);
        break;
    case ENGINE_EV_CIRCUIT_CLOSED:
        name = sanitize_dup(ev->u.circuit.site, 0);
        hd_buf_printf(b, "hookdesk: site %s: circuit closed (an attempt succeeded); delivery "
                      "resumes\n", name);
        free(name);
        break;
    case ENGINE_EV_DB_FAULT:
        text = sanitize_dup(ev->u.fault.error, 0);
        hd_buf_printf(b, "hookdesk: database error: %s; %d finished attempts wait to be "
                      "recorded, new ones pause at %d; retrying%s\n", text, ev->u.fault.waiting,
                      ev->u.fault.pause_at, ev->u.fault.repeated ? " (still failing)" : "");
        free(text);
        break;
    case ENGINE_EV_DB_RECOVERED:
        duration_format(ev->u.recovered.fault_ms, took, sizeof took);
        hd_buf_printf(b, "hookdesk: database usable again after %s; delivery resumes\n", took);
        break;
    }
}

/* The engine's events as lines on stderr, one write per call (the attempts
 * of a commit together).  ctx is an hd_buf reused between calls: only the
 * engine's thread calls this. */
static void print_events(void *ctx, const engine_event *ev, int n)
{
    hd_buf *b = ctx;
    hd_buf_reset(b);
    for (int i = 0; i < n; i++)
        format_event(b, &ev[i]);
    fwrite(b->data, 1, b->len, stderr);
    fflush(stderr);
}

/* Waits until the engine stops by itself (drained, or it could not go
 * on) or a second SIGINT / SIGTERM aborts the attempts in flight (the first
 * lets them finish).  set: those signals, blocked.  Returns how many came. */
static int serve_until_done(engine *e, const sigset_t *set)
{
    int signals = 0;
    bool seen_running = false;
    int64_t started = hd_mono_ms();
    for (;;) {
        struct timespec ts = { 0, SERVE_TICK_MS * 1000000L };
        int sig = sigtimedwait(set, NULL, &ts);
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
    return signals;
}

/* After --drain: "drained" is a promise about the database, so check it
 * there.  Returns the exit code. */
static int check_drained(cli_ctx *ctx)
{
    hd_error err = { 0 };
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
    return 0;
}

int cli_cmd_serve(cli_ctx *ctx, int argc, char **argv)
{
    hd_buf lines = { 0 };
    engine_options eo = { .drain = false, .on_event = print_events, .event_ctx = &lines };
    int bad = cli_one_switch(ctx->cmd, argc, argv, "drain", &eo.drain);
    if (bad >= 0)
        return bad;
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
    char *shown = store_display_name(ctx->cfg.database);
    fprintf(stderr, "hookdesk: serve: delivering from %s (concurrency %d)%s\n", shown,
            ctx->cfg.delivery.concurrency, eo.drain ? ", until nothing is pending" : "");
    free(shown);

    int signals = serve_until_done(e, &set);

    /* Let the thread finish so the summary counts its last attempts. */
    engine_stats s;
    for (engine_get_stats(e, &s); s.running; engine_get_stats(e, &s)) {
        struct timespec nap = { 0, 20 * 1000000L };
        nanosleep(&nap, NULL);
    }
    hd_status rc = engine_join(e, &err);
    hd_buf_free(&lines);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    printf("serve: %lld attempts, %lld done, %lld failed, %lld errors\n", (long long)s.attempts,
           (long long)s.done, (long long)s.failed, (long long)s.errors);
    if (rc != HD_OK)
        return cli_report(ctx->cmd, &err);
    return eo.drain && signals == 0 ? check_drained(ctx) : 0;
}
