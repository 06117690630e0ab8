/* hd_engine.h - the delivery engine: a background thread that claims due
 * messages, sends them with libcurl's multi interface and records outcomes.
 *
 * A process creates one engine (the console, `hookdesk serve`); it opens its
 * own store connection from cfg->database.  engine_* functions are safe to
 * call from any thread.  curl_global_init must have run before engine_start
 * (hd_global_init() in main does it).
 */
#ifndef HD_ENGINE_H
#define HD_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "hd_config.h"
#include "hd_error.h"

typedef struct engine engine;

/* Receives the engine's log: one attempt or circuit change per line
 * ("hookdesk: ...\n"), possibly several lines per call; called from the
 * engine's thread, never with a lock held. */
typedef void (*engine_log_fn)(void *ctx, const char *lines, size_t len);

typedef struct engine_options {
    bool drain;              /* stop by itself when nothing is pending (serve --drain) */
    bool quiet;              /* no log lines at all (the console) */
    engine_log_fn log;       /* where log lines go; NULL = nowhere */
    void *log_ctx;
    int nice;                /* > 0: the engine thread runs at this nice value, so
                                that a console's keys win the CPU over deliveries */
} engine_options;

typedef struct engine_stats {
    bool running;            /* the thread is alive */
    bool stopping;           /* engine_stop was called; finishing in-flight work */
    int in_flight;           /* transfers under way */
    int64_t attempts;        /* attempts recorded by this engine */
    int64_t done;            /* messages it moved to Done */
    int64_t failed;          /* messages it moved to Failed */
    int64_t errors;          /* attempts that ended in an error */
    char last_error[256];    /* last engine-level failure (database, curl), "" when none */
    char fault[256];         /* the database error the engine is retrying now, ""
                                when its transactions succeed (see DESIGN in engine.c) */
    int64_t fault_since;     /* epoch ms the current fault began, 0 when none */
    int64_t held_bytes_max;  /* most payload bytes it held at once (sending, waiting
                                for a token, claimed ahead): at most about
                                concurrency x 2 MiB plus one message */
} engine_stats;

/* Copies cfg (the caller may free it afterwards) and starts the thread. */
hd_status engine_start(const config *cfg, const engine_options *opt, engine **out, hd_error *err);
/* Look for due work now (after a send, resend or "send now"). */
void engine_wakeup(engine *e);

typedef enum engine_stop_mode {
    ENGINE_STOP_FINISH,      /* claim nothing new; let in-flight attempts finish and record them */
    ENGINE_STOP_RELEASE      /* abort in-flight attempts and give their leases back at once */
} engine_stop_mode;

/* Asks the thread to stop; returns at once.  May be called again with RELEASE
 * to hurry a FINISH stop. */
void engine_stop(engine *e, engine_stop_mode mode);
/* Waits for the thread and frees everything.  Returns the status the thread
 * ended with (HD_OK, or the error that stopped it, in err). */
hd_status engine_join(engine *e, hd_error *err);
void engine_get_stats(engine *e, engine_stats *out);

#endif
