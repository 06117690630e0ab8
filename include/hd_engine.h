/* hd_engine.h - the delivery engine: a background thread that claims due
 * messages, sends them with libcurl's multi interface and records outcomes.
 *
 * A process creates one engine (the console, `hookdesk serve`); it opens its
 * own store connections from cfg->database.  engine_* functions are safe to
 * call from any thread.  curl_global_init must have run before engine_start
 * (hd_global_init() in main does it).  The engine never prints: it reports
 * attempts, circuits and database faults as events (engine_options.on_event)
 * and its state in engine_stats; the front-ends say it in words.
 */
#ifndef HD_ENGINE_H
#define HD_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "hd_config.h"
#include "hd_error.h"
#include "hd_store.h"

typedef struct engine engine;

/* What an engine_event reports. */
typedef enum engine_event_kind {
    ENGINE_EV_ATTEMPT,       /* an attempt was recorded (after its commit) */
    ENGINE_EV_CIRCUIT_OPENED,/* a site's circuit opened (or opened again after a
                                failed probe): its messages wait */
    ENGINE_EV_CIRCUIT_CLOSED,/* a site's circuit closed: delivery resumes */
    ENGINE_EV_DB_FAULT,      /* a transaction failed; the engine retries it every
                                poll interval (reported at once, then at most every
                                10 s while the text stays the same) */
    ENGINE_EV_DB_RECOVERED   /* transactions succeed again after a DB_FAULT */
} engine_event_kind;

/* One event.  Texts are as they came (a receiver's error, a site's name):
 * not sanitized, the front-end makes them safe to print.  Pointers are
 * valid during the callback only. */
typedef struct engine_event {
    engine_event_kind kind;
    union {
        struct {                 /* ENGINE_EV_ATTEMPT */
            int64_t message_id;
            const char *site;    /* the site's name, NULL if unknown */
            int number;          /* attempt number, 1 = first */
            int max_attempts;    /* delivery.max_attempts */
            int response_code;   /* HTTP status, 0 = no answer */
            const char *error;   /* why it failed, NULL on success */
            int64_t duration_ms;
            msg_status status;   /* what the message became: MSG_DONE, MSG_FAILED,
                                    or MSG_RESENT (due again in retry_in_ms) */
            int64_t retry_in_ms; /* MSG_RESENT: ms from now to its next attempt */
        } attempt;
        struct {                 /* ENGINE_EV_CIRCUIT_OPENED, _CLOSED */
            int64_t site_id;
            const char *site;    /* the site's name */
            int failures;        /* OPENED: failed attempts in a row */
            const char *reason;  /* OPENED: the last failure */
            int64_t probe_in_ms; /* OPENED: ms from now to the probe */
        } circuit;
        struct {                 /* ENGINE_EV_DB_FAULT */
            const char *error;   /* the database's error */
            int waiting;         /* finished attempts waiting to be recorded */
            int pause_at;        /* new transfers pause when this many wait */
            bool repeated;       /* not the fault's first report (its text may
                                    have changed since) */
        } fault;
        struct {                 /* ENGINE_EV_DB_RECOVERED */
            int64_t fault_ms;    /* how long transactions failed */
        } recovered;
    } u;
} engine_event;

/* Receives the engine's events, n at a time (the attempts of one commit
 * come in one call).  Called from the engine's thread, never with an engine
 * lock held: it may call engine_wakeup, engine_stop and engine_get_stats
 * (not engine_join), and should return soon (the engine starts no transfer
 * meanwhile). */
typedef void (*engine_event_fn)(void *ctx, const engine_event *ev, int n);

typedef struct engine_options {
    bool drain;              /* stop by itself when nothing is pending (serve --drain) */
    bool quiet;              /* no events even with on_event set */
    engine_event_fn on_event;/* where events go; NULL = nowhere (the console) */
    void *event_ctx;         /* on_event's ctx */
    int nice;                /* > 0: the engine thread runs at this nice value, so
                                that a console's keys win the CPU over deliveries */
    const char *role;        /* its heartbeat row's role: "serve" (default), "console" */
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
