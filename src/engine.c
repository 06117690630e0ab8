/* engine.c - the delivery engine: claim due messages, send them with libcurl's
 * multi interface, record outcomes, purge old rows.
 *
 * DESIGN
 * Modules: this file has the worker loop, its slots (in flight, parked for
 * a token, claimed ahead), the fair-share holds and curl multi; the
 * committer thread is committer.c, the OAuth2 token cache token_cache.c.
 * What runs where:
 *   - engine_start (caller's thread) copies the settings, opens the worker's
 *     store connection and the committer (its own connection), creates the
 *     CURLM and starts the worker thread with every signal blocked; the
 *     worker sets its nice value and starts the committer thread
 *     (committer_start), which inherits both; engine_start returns once it
 *     has (`thread_ready`).
 *   - The worker (curl) thread owns everything else: its store handle `st`
 *     (reads, releases, purge), the easy handles in flight (`flights`), the
 *     finished-but-unrecorded outcomes (`outs`), the reserve (`ready`), the
 *     parked messages, the token cache, the site cache and `events`.
 *     Nothing of these is touched elsewhere, so they need no lock.
 *   - The committer thread owns its connection and runs one job at a time:
 *     a transaction recording the outcomes handed over and claiming
 *     messages (committer.c says how the job changes hands).  It calls
 *     wake_worker (curl_multi_wakeup) when a job is done.
 *   - engine_wakeup / engine_stop / engine_get_stats may be called from any
 *     thread; they only take `lock` and call curl_multi_wakeup (documented as
 *     callable from any thread) to cut the worker's curl_multi_poll short.
 *   - Events (engine_options.on_event) are delivered from the worker thread,
 *     never with a lock held (neither `lock` nor the committer's).
 * Which lock guards what:
 *   - `lock` guards `stop_requested`, `stop_mode`, `wake`, `stats` and
 *     `thread_ready` (with `ready_cond`).
 *     The worker takes it briefly to read the flags and publish stats, never
 *     while it does network or database work or delivers events.
 *   - The committer's lock guards the job under way (committer.c).
 * One tick of the worker (engine_loop):
 *   1. curl_multi_perform, then CURLMSG_DONE results -> attempt outcomes
 *      (collect_finished); parked messages whose token arrived resume
 *      (resume_parked); the committer's result is taken back
 *      (take_commit_result); freed slots are refilled at once from `ready`,
 *      messages claimed ahead (up to READY_DEPTH times the concurrency), so
 *      the network never waits for the database; one that waited half a
 *      lease or whose site was paused is released instead (ready_stale);
 *   2. one BEGIN IMMEDIATE transaction, handed to the committer as soon as
 *      attempts have finished or `ready` runs low (and no job is under
 *      way; the previous job's result is taken back first) (plan_commit):
 *      record every finished outcome (all that finished since the last
 *      commit: one fsync for many under load) and claim due messages; on
 *      failure (SQLITE_BUSY...) roll back and keep the outcomes for the next
 *      tick, so no finished attempt is lost.  An outcome not yet committed
 *      when the process dies is an attempt in flight: retried after its
 *      lease, the one duplicate SPEC §1 allows.  slot_free bounds them: at
 *      most UNRECORDED_DEPTH x concurrency sent and not yet recorded;
 *   3. start the claimed transfers (request build errors become outcomes
 *      without touching the network);
 *   4. one purge chunk when a purge is under way (each its own
 *      transaction) (purge_step);
 *   5. curl_multi_poll until curl has work, engine_wakeup/engine_stop, or
 *      the next due message / poll interval (wait_for_work).
 * Leases make a kill -9 safe: the attempts in flight are retried by whoever
 * claims them after the lease expires (the only duplicates SPEC §1 allows).
 *
 * Database faults (disk full, I/O error, corruption, a lock held past
 * busy_timeout) are loud and bounded:
 *   - a failed transaction is retried every poll interval; the outcomes it
 *     held stay in `outs`, and slot_free stops new transfers once
 *     UNRECORDED_DEPTH x concurrency are waiting, so memory and the number of
 *     unrecorded attempts stay bounded;
 *   - the fault is reported (ENGINE_EV_DB_FAULT) at once, then at most every
 *     FAULT_REPORT_EVERY_MS or when its text changes, and goes to stats.fault;
 *     its end is reported too (ENGINE_EV_DB_RECOVERED);
 *   - after delivery.fault_timeout of nothing but failures the engine stops
 *     with an error (serve exits 1, `serve --drain` ends); a write lock held
 *     by another process (a long import) is reported but waited for, not
 *     counted; a stop asked for while the database fails waits at most
 *     STOP_FAULT_GRACE_MS for it.
 *   Nothing is lost either way: an attempt not recorded is retried after its
 *   lease, as after a kill -9.
 *
 * OAuth2 tokens (auth kind oauth2) never block the worker:
 *   - A message whose site has no usable token (none yet, expired, or
 *     refused with a 401) is *parked* (`parked`, still counted against the
 *     concurrency) and, unless one is already under way for that token, the
 *     token request is added to the same curl multi handle as one more
 *     transfer (token_cache_fetch).  Other sites' transfers keep running;
 *     a slow or dead token endpoint only holds up the messages parked on it,
 *     for at most the site's timeout.
 *   - When the token transfer finishes (step 1, token_cache_finished) the
 *     parked messages resume: with the new token they start, after a failed
 *     fetch each becomes an attempt error "oauth2: token endpoint URL: HTTP
 *     500" and is retried as usual.  A 401 from the site drops the token it
 *     sent (token_refused); the attempt counts as an error and its retry
 *     fetches a new token.
 */
#include "hd_engine.h"

#include <inttypes.h>
#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "hd_auth.h"
#include "hd_duration.h"
#include "hd_request.h"
#include "hd_retry.h"
#include "hd_store.h"
#include "hd_util.h"
#include "committer.h"
#include "http.h"
#include "token_cache.h"

/* Messages claimed ahead, in units of delivery.concurrency.  Their leases
 * run from the claim, so the reserve is kept to a few ticks' worth.  It
 * must outlast a commit batch (COMMIT_BATCH) plus the transaction that
 * records it, or the reserve runs low before the batch is full and a claim
 * gets a transaction (and an fsync) of its own: at 3 the engine committed
 * every ~60 deliveries at 32 in flight, at 6 every ~100 (30k deliveries:
 * 508 -> 309 fsyncs). */
#define READY_DEPTH 6

/* Payload bytes an engine holds (sending, waiting for a token, claimed
 * ahead), per slot of delivery.concurrency: claims stop at
 * concurrency x this, so the engine's memory is bounded by bytes as well as
 * by count (1 MiB payloads x 7 x concurrency would be 224 MiB at 32). */
#define CLAIM_BYTES_PER_SLOT (2 * 1024 * 1024)

/* SQLite page cache per engine connection (KiB). */
#define ENGINE_CACHE_KIB (8 * 1024)

/* Finished attempts are handed to the committer once this many times the
 * concurrency have finished or the first has waited COMMIT_WAIT_MS.  Each
 * commit costs an fsync and writes every page it touched to the WAL (index
 * interior pages, the counters, the leaves shared by neighbouring rows), so
 * fewer, larger commits cost less per delivery: at 4 (with READY_DEPTH 6
 * and UNRECORDED_DEPTH 8) instead of 2 (3, 4), CPU per delivery of the hot
 * bench -11 us on a loaded machine (87.0 -> 76.3 us, least of 3 runs each,
 * user -4, sys -7; hd-store-only: 21.3 us at 32 outcomes per transaction,
 * 16 at 128).  A status change then shows at most COMMIT_WAIT_MS later. */
#define COMMIT_BATCH 4
#define COMMIT_WAIT_MS 30

/* A database fault is reported at once, then at most this often (ms). */
#define FAULT_REPORT_EVERY_MS 10000
/* A stop asked for while the database fails gives up on recording after
 * this long (ms): the unrecorded attempts are retried after their leases. */
#define STOP_FAULT_GRACE_MS 5000

/* How often (ms) the site cache looks whether any site changed. */
#define SITE_CACHE_CHECK_MS 250

/* Attempts sent and not yet durably recorded (under way, or finished and
 * waiting for the committer), in units of delivery.concurrency: what a
 * kill -9 can cost in re-sent attempts.  The committer records what
 * finished during its previous transaction, so this also caps its batches;
 * at 2 the curl thread waited for the committer half of the time and each
 * fsync covered ~15 attempts at 16 in flight; at 4, ~30, and no waiting
 * (20k deliveries: 2.0 s -> 1.5 s at 16 in flight, 1.5-2.1 -> 1.45 s at 64).
 * Batches of COMMIT_BATCH (4) x concurrency need room for one batch in the
 * committer, the next one filling, and the transfers under way: 8. */
#define UNRECORDED_DEPTH 8

/* A claimed message whose transfer is under way. */
typedef struct flight {
    http_transfer *t;        /* the easy handle (t->user points back here) */
    message m;               /* as claimed */
    int number;              /* attempt number: m.attempts + 1 at claim time */
    char *request_headers;   /* masked, stored with the attempt */
    int oauth_entry;         /* >= 0: the oauth2 entry whose token this message sent */
    char *oauth_token;       /* that token (to drop it after a 401 only if still current) */
} flight;

/* A claimed message waiting for its oauth2 token. */
typedef struct parked {
    message m;               /* as claimed (leased) */
    int number;              /* attempt number */
    int entry;               /* its token_cache entry */
    uint64_t fetches;        /* token_cache_fetches of it when parked */
    int64_t claimed_at;      /* monotonic ms of the claim (see lease_fresh) */
} parked;

/* A message claimed ahead, waiting for a free connection. */
typedef struct ready_msg {
    message m;               /* as claimed (leased) */
    int64_t claimed_at;      /* monotonic ms of the claim */
} ready_msg;

/* Sites the worker has looked up (see site_lookup). */
typedef struct site_cache {
    site *items;             /* sites fetched so far */
    int count;
    uint64_t counter;        /* store_change_counter when filled */
    int64_t checked_at;      /* monotonic ms of the last look at the counter */
} site_cache;

struct engine {
    /* Settings, fixed after engine_start. */
    char *database;
    delivery_config d;       /* copy; d.user_agent owned */
    int64_t retention_ms;    /* <= 0: no purge */
    int64_t purge_interval_ms;
    int purge_chunk;
    bool allow_private;
    engine_options opt;
    char owner[160];         /* "hostname:pid:random", the lease owner */
    char host[64];           /* hostname, for the heartbeat row */
    char role[16];           /* "serve", "console": the heartbeat row's role */
    int64_t started_at;      /* epoch ms engine_start ran */

    CURLM *multi;            /* created in engine_start, freed in engine_join */
    pthread_t thread;
    bool thread_started;

    pthread_mutex_t lock;    /* guards the five fields below (see DESIGN) */
    bool stop_requested;
    engine_stop_mode stop_mode;
    bool wake;               /* engine_wakeup: claim at the next tick */
    engine_stats stats;
    bool thread_ready;       /* the worker has set its nice value and started the
                                committer (or failed to): engine_start waits for it */
    pthread_cond_t ready_cond; /* signalled when thread_ready is set */

    committer *commit;       /* the committer (its thread and connection) */

    /* Worker thread only. */
    unsigned rotation;       /* advances with every claim (fair round-robin start) */
    int64_t *job_failing;    /* sites with a failed attempt in the job under way */
    int njob_failing;
    int64_t *open_sites;     /* sites whose circuit this engine saw open: their
                                messages claimed ahead are given back, not sent */
    int nopen_sites;
    store_watch *watch;      /* other processes' commits (NULL: polling only) */
    int64_t fault_since;     /* monotonic ms the current database fault began, 0 = none */
    int64_t fault_hard_since; /* ... its first error other than a held lock, 0 = none:
                                 what delivery.fault_timeout counts (a long import
                                 holding the write lock is waited for, not fatal) */
    int64_t fault_reported;  /* monotonic ms it was last reported */
    char fault_msg[256];     /* its text as last reported */
    store *st;
    flight **flights;        /* in flight, at most d.concurrency */
    int nflights;
    CURL **spare;            /* easy handles of finished transfers, reset, for
                                the next ones (at most d.concurrency) */
    int nspare;
    int64_t outs_since;      /* monotonic ms when outs became non-empty */
    pending_out *outs;       /* finished, not recorded yet */
    int nouts, outs_cap;
    int outs_failing;        /* of outs, those whose verdict is VERDICT_FAIL */
    pending_out *outs_spare; /* an empty outs array back from the committer, for
                                the next batch (NULL: none) */
    int outs_spare_cap;      /* its size */
    int job_outs_cap;        /* the size of the array the job under way holds */
    ready_msg *ready;        /* claimed, not started yet (oldest first), at most
                                READY_DEPTH * d.concurrency: a freed slot refills
                                at once instead of waiting for a transaction;
                                points into ready_mem: start_ready takes from
                                the front by moving it, not the rest) */
    int nready;
    ready_msg *ready_mem;    /* the reserve's allocation */
    int ready_cap;           /* its size, in messages */
    site_cache sites;
    token_cache tokens;      /* oauth2 tokens and their requests under way */
    token_fetch_options token_opt; /* how token requests are made */
    parked *parked;          /* messages waiting for a token */
    int nparked;
    engine_event *events;    /* events being delivered (reused: no allocation
                                per attempt once it has grown to a batch) */
    int nevents, events_cap;
    hd_status result;        /* what the thread ended with */
    hd_error result_err;
};

/* ---- small helpers ---- */

/* Copies text into out, cut to its size (the full text goes to the events). */
static void copy_cut(char *out, size_t size, const char *text)
{
    size_t n = strnlen(text, size - 1);
    memcpy(out, text, n);
    out[n] = '\0';
}

static void set_last_error(engine *e, const char *text)
{
    pthread_mutex_lock(&e->lock);
    copy_cut(e->stats.last_error, sizeof e->stats.last_error, text);
    pthread_mutex_unlock(&e->lock);
}

/* ---- events (see engine_event in hd_engine.h) ---- */

static bool events_wanted(const engine *e)
{
    return e->opt.on_event && !e->opt.quiet;
}

/* A new event at the end of e->events, zeroed but for its kind. */
static engine_event *event_add(engine *e, engine_event_kind kind)
{
    e->events = hd_xgrow(e->events, e->nevents, &e->events_cap, sizeof *e->events, 32);
    engine_event *ev = &e->events[e->nevents++];
    memset(ev, 0, sizeof *ev);
    ev->kind = kind;
    return ev;
}

/* Delivers the events added since the last call, in one call (worker
 * thread, no lock held: see DESIGN). */
static void events_flush(engine *e)
{
    if (e->nevents > 0 && events_wanted(e))
        e->opt.on_event(e->opt.event_ctx, e->events, e->nevents);
    e->nevents = 0;
}

/* A transaction failed (see DESIGN: database faults). */
static void fault_seen(engine *e, hd_status code, const char *msg)
{
    int64_t mono = hd_mono_ms();
    bool first = e->fault_since == 0;
    if (first)
        e->fault_since = mono;
    /* A lock another process holds (HD_BUSY: a long import, a PostgreSQL
     * lock timeout) is waited out, not counted towards fault_timeout. */
    if (e->fault_hard_since == 0 && code != HD_BUSY)
        e->fault_hard_since = mono;
    bool changed = strncmp(msg, e->fault_msg, sizeof e->fault_msg - 1) != 0;
    pthread_mutex_lock(&e->lock);
    copy_cut(e->stats.fault, sizeof e->stats.fault, msg);
    if (first)
        e->stats.fault_since = hd_now_ms();
    pthread_mutex_unlock(&e->lock);
    if (!first && !changed && mono - e->fault_reported < FAULT_REPORT_EVERY_MS)
        return;
    e->fault_reported = mono;
    copy_cut(e->fault_msg, sizeof e->fault_msg, msg);
    if (!events_wanted(e))
        return;
    engine_event *ev = event_add(e, ENGINE_EV_DB_FAULT);
    ev->u.fault.error = msg;
    ev->u.fault.waiting = e->nouts;
    ev->u.fault.pause_at = UNRECORDED_DEPTH * e->d.concurrency;
    ev->u.fault.repeated = !first;
    events_flush(e);
}

/* A transaction succeeded: the fault, if any, is over. */
static void fault_cleared(engine *e)
{
    if (e->fault_since == 0)
        return;
    int64_t lasted = hd_mono_ms() - e->fault_since;
    e->fault_since = 0;
    e->fault_hard_since = 0;
    e->fault_msg[0] = '\0';
    pthread_mutex_lock(&e->lock);
    e->stats.fault[0] = '\0';
    e->stats.fault_since = 0;
    pthread_mutex_unlock(&e->lock);
    if (!events_wanted(e))
        return;
    event_add(e, ENGINE_EV_DB_RECOVERED)->u.recovered.fault_ms = lasted;
    events_flush(e);
}

static void publish_in_flight(engine *e)
{
    pthread_mutex_lock(&e->lock);
    e->stats.in_flight = e->nflights;
    pthread_mutex_unlock(&e->lock);
}

static void make_owner(engine *e)
{
    snprintf(e->host, sizeof e->host, "localhost");
    gethostname(e->host, sizeof e->host);
    e->host[sizeof e->host - 1] = '\0';
    unsigned char r[4];
    hd_random_bytes(r, sizeof r);
    snprintf(e->owner, sizeof e->owner, "%s:%ld:%02x%02x%02x%02x", e->host, (long)getpid(),
             r[0], r[1], r[2], r[3]);
}

/* Writes this engine's heartbeat row (ENGINE_BEAT_MS apart): how every
 * process and console knows which engines deliver on the database.  A
 * failure is the engine's last error, never a fault: delivery goes on. */
static void heartbeat(engine *e)
{
    pthread_mutex_lock(&e->lock);
    int64_t attempts = e->stats.attempts;
    int in_flight = e->stats.in_flight;
    pthread_mutex_unlock(&e->lock);
    engine_beat b = { .owner = e->owner, .host = e->host, .pid = (int64_t)getpid(),
                      .role = e->role, .started_at = e->started_at, .seen_at = hd_now_ms(),
                      .attempts = attempts, .in_flight = in_flight };
    hd_error err = {0};
    if (store_engine_beat(e->st, &b, &err) != HD_OK)
        set_last_error(e, err.msg);
}

/* Counts the failed outcomes of e->outs again (after outs were dropped or
 * put back; outs_push counts as it goes). */
static void outs_count_failing(engine *e)
{
    e->outs_failing = 0;
    for (int i = 0; i < e->nouts; i++)
        e->outs_failing += e->outs[i].o.verdict == VERDICT_FAIL;
}

static void outs_push(engine *e, attempt_outcome *o, char *site_name)
{
    if (e->nouts == 0)
        e->outs_since = hd_mono_ms();

    /* Sized for a whole batch at once: slot_free keeps the outcomes below
     * UNRECORDED_DEPTH x concurrency, and growing by doubling copied each
     * batch's outcomes three times over (commit_submit hands the array to
     * the committer, so every batch starts with the one the previous job
     * gave back: freeing ~40 KB per batch made glibc trim the thread's
     * heap, an madvise and page faults per batch). */
    if (!e->outs && e->outs_spare) {
        e->outs = e->outs_spare;
        e->outs_cap = e->outs_spare_cap;
        e->outs_spare = NULL;
    }
    e->outs = hd_xgrow(e->outs, e->nouts, &e->outs_cap, sizeof *e->outs,
                       UNRECORDED_DEPTH * e->d.concurrency);
    e->outs_failing += o->verdict == VERDICT_FAIL;
    e->outs[e->nouts].o = *o;
    e->outs[e->nouts].site_name = site_name;
    e->nouts++;
}

/* ---- sites ---- */

static void site_cache_clear(site_cache *c)
{
    for (int i = 0; i < c->count; i++)
        site_free(&c->items[i]);
    free(c->items);
    c->items = NULL;
    c->count = 0;
}

/* A claimed message may start its transfer only within half of
 * delivery.lease of its claim: the lease (site timeout + delivery.lease)
 * then outlasts the transfer, so no other process can take the message
 * while it is under way.  Messages kept waiting longer (claimed ahead behind
 * slow transfers, or parked for an oauth2 token) are given back instead. */
static bool lease_fresh(const engine *e, int64_t claimed_at)
{
    return hd_mono_ms() - claimed_at <= e->d.lease_ms / 2;
}

/* Gives the leases of never-started messages back (due again at once). */
static void release_ids(engine *e, const int64_t *ids, int n)
{
    hd_error err = {0};
    if (n > 0 && store_release_messages(e->st, e->owner, ids, n, hd_now_ms(), &err) != HD_OK)
        set_last_error(e, err.msg);   /* their leases expire instead */
}

/* The site of a message, from the cache (refreshed whenever any process
 * committed a change, so an edited site is used at once). */
static const site *site_lookup(engine *e, int64_t id, hd_error *err)
{
    /* Any commit (our own included) changes the counter, so asking for it
     * per message would refetch the sites after every tick: look at most
     * every SITE_CACHE_CHECK_MS (or poll interval, when shorter).  A site
     * edit reaches new attempts within that, however long the poll interval
     * is; a pause is immediate anyway (the claim skips paused sites). */
    int64_t mono = hd_mono_ms();
    int64_t every = e->d.poll_interval_ms < SITE_CACHE_CHECK_MS ? e->d.poll_interval_ms
                                                                : SITE_CACHE_CHECK_MS;
    if (mono >= e->sites.checked_at + every) {
        e->sites.checked_at = mono;
        uint64_t counter = store_change_counter(e->st);
        if (counter != e->sites.counter) {
            site_cache_clear(&e->sites);
            e->sites.counter = counter;
        }
    }
    for (int i = 0; i < e->sites.count; i++)
        if (e->sites.items[i].id == id)
            return &e->sites.items[i];
    site s;
    site_init(&s);
    if (store_site_get(e->st, id, &s, err) != HD_OK) {
        site_free(&s);
        return NULL;
    }
    e->sites.items = hd_xrealloc(e->sites.items, sizeof *e->sites.items * (size_t)(e->sites.count + 1));
    e->sites.items[e->sites.count] = s;
    return &e->sites.items[e->sites.count++];
}

/* ---- outcomes ---- */

/* Turns a finished (or never started) attempt into a pending outcome.
 * sent: the request went to the network (a connection was tried), so the
 * result says something about the site (its circuit breaker counts it). */
static void add_outcome(engine *e, message *m, int number, http_result *res,
                        char *request_headers, bool sent)
{
    attempt_outcome o;
    memset(&o, 0, sizeof o);
    o.a.message_id = m->id;
    o.a.site_id = m->site_id;
    o.a.number = number;
    o.a.started_at = res->started_at ? res->started_at : hd_now_ms();
    o.a.duration_ms = res->duration_ms;
    o.a.response_code = res->response_code;
    o.a.error = res->error;
    /* SigV4: what curl signed and sent is the truth; else the pre-built text. */
    if (res->sent_headers) {
        free(request_headers);
        request_headers = res->sent_headers;
    }
    o.a.request_headers = request_headers;
    o.a.response_headers = res->response_headers;
    o.a.response_body = res->response_body;
    o.a.response_body_len = res->response_body_len;
    o.a.body_truncated = res->body_truncated;
    memset(res, 0, sizeof *res);   /* ownership moved into o.a */

    retry_policy p = { e->d.max_attempts, e->d.retry_interval_ms, e->d.max_retry_after_ms };
    int64_t now = hd_now_ms();
    int64_t asked = retry_after_from_response(o.a.response_code, o.a.response_headers, now);
    /* http_transfer_finish gives every answer but a 2xx an error; the other
     * errors (no answer, a request never made) have no response code. */
    bool success = o.a.error == NULL && retry_is_success(o.a.response_code);
    retry_decision d = retry_decide_after(&p, number, success, now, asked);
    o.old_status = m->status;
    o.new_status = d.status;
    o.next_due_at = d.next_due_at;
    /* Shown as "(Retry-After)" only where it made the wait longer. */
    if (asked > e->d.retry_interval_ms && d.status == MSG_RESENT)
        o.retry_after_ms = d.next_due_at - now;
    o.verdict = breaker_verdict(o.a.response_code, sent);
    o.probe = m->probe;
    bool named = events_wanted(e);   /* the name is for the attempt's event */
    outs_push(e, &o, named ? m->site_name : NULL);
    if (named)
        m->site_name = NULL;   /* moved into the outcome */
}

static void flight_free(flight *f)
{
    http_transfer_free(f->t);
    message_free(&f->m);
    free(f->request_headers);
    free(f->oauth_token);
    free(f);
}

/* Frees a finished message transfer (already out of the multi handle),
 * keeping its easy handle for the next one. */
static void flight_done(engine *e, flight *f)
{
    if (e->nspare < e->d.concurrency) {
        e->spare[e->nspare++] = http_transfer_recycle(f->t);
        f->t = NULL;
    }
    flight_free(f);
}

static void spares_free(engine *e)
{
    for (int i = 0; i < e->nspare; i++)
        curl_easy_cleanup(e->spare[i]);
    e->nspare = 0;
}

static void flights_remove(engine *e, flight *f)
{
    for (int i = 0; i < e->nflights; i++) {
        if (e->flights[i] == f) {
            e->flights[i] = e->flights[--e->nflights];
            return;
        }
    }
}

/* ---- oauth2 tokens (see DESIGN; the cache is token_cache.c) ---- */

/* The site refused the token this message sent: the cache drops it (unless
 * a newer one came meanwhile), so the retry fetches a new one. */
static void token_refused(engine *e, flight *f, http_result *res)
{
    token_cache_refused(&e->tokens, f->oauth_entry, f->oauth_token);
    free(res->error);
    res->error = hd_xstrdup("HTTP 401 (oauth2 access token refused; a new one is fetched "
                            "for the next attempt)");
}

static void park(engine *e, message *m, int number, int entry, int64_t claimed_at)
{
    e->parked = hd_xrealloc(e->parked, sizeof *e->parked * (size_t)(e->nparked + 1));
    parked *p = &e->parked[e->nparked++];
    p->m = *m;
    memset(m, 0, sizeof *m);
    p->number = number;
    p->entry = entry;
    p->fetches = token_cache_fetches(&e->tokens, entry);
    p->claimed_at = claimed_at;
}

static void parked_free_all(engine *e)
{
    for (int i = 0; i < e->nparked; i++)
        message_free(&e->parked[i].m);
    free(e->parked);
    e->parked = NULL;
    e->nparked = 0;
}

/* Step 1: results of finished transfers.  Returns how many finished. */
static int collect_finished(engine *e)
{
    int running = 0;
    CURLMcode mc = curl_multi_perform(e->multi, &running);
    if (mc != CURLM_OK)
        set_last_error(e, curl_multi_strerror(mc));
    int finished = 0;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(e->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        http_transfer *t = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(e->multi, easy);
        http_result res;
        http_transfer_finish(t, rc, &res);
        if (token_cache_finished(&e->tokens, t, &res)) {
            http_result_free(&res);   /* its parked messages resume in resume_parked */
            continue;
        }
        flight *f = t->user;
        if (f->oauth_entry >= 0 && res.response_code == 401)
            token_refused(e, f, &res);
        add_outcome(e, &f->m, f->number, &res, f->request_headers, true);
        f->request_headers = NULL;
        flights_remove(e, f);
        flight_done(e, f);
        finished++;
    }
    if (finished)
        publish_in_flight(e);
    return finished;
}

static void outs_free_range(engine *e, int n)
{
    for (int i = 0; i < n; i++) {
        attempt_free(&e->outs[i].o.a);
        free(e->outs[i].site_name);
    }
    if (n > 0 && n < e->nouts)
        memmove(e->outs, e->outs + n, sizeof *e->outs * (size_t)(e->nouts - n));
    e->nouts -= n;
    outs_count_failing(e);
}

/* The event of one recorded attempt. */
static void attempt_event(engine *e, const pending_out *p, int64_t now)
{
    const attempt_outcome *o = &p->o;
    engine_event *ev = event_add(e, ENGINE_EV_ATTEMPT);
    ev->u.attempt.message_id = o->a.message_id;
    ev->u.attempt.site = p->site_name;
    ev->u.attempt.number = o->a.number;
    ev->u.attempt.max_attempts = e->d.max_attempts;
    ev->u.attempt.response_code = o->a.response_code;
    ev->u.attempt.error = o->a.error;
    ev->u.attempt.duration_ms = o->a.duration_ms;
    ev->u.attempt.status = o->new_status;
    if (o->new_status != MSG_DONE && o->new_status != MSG_FAILED)
        ev->u.attempt.retry_in_ms = o->next_due_at > now ? o->next_due_at - now : 0;
}

/* After a commit: events, counts, free (not the array itself). */
static void publish_recorded(engine *e, pending_out *outs, int n)
{
    int64_t attempts = 0, done = 0, failed = 0, errors = 0;
    bool events = events_wanted(e);
    int64_t now = hd_now_ms();
    for (int i = 0; i < n; i++) {
        const attempt_outcome *o = &outs[i].o;
        attempts++;
        if (o->a.error)
            errors++;
        if (o->new_status == MSG_DONE)
            done++;
        else if (o->new_status == MSG_FAILED)
            failed++;
        if (events)
            attempt_event(e, &outs[i], now);
    }
    events_flush(e);   /* one call for the batch, not one per attempt */
    for (int i = 0; i < n; i++) {
        attempt_free(&outs[i].o.a);
        free(outs[i].site_name);
    }
    pthread_mutex_lock(&e->lock);
    e->stats.attempts += attempts;
    e->stats.done += done;
    e->stats.failed += failed;
    e->stats.errors += errors;
    pthread_mutex_unlock(&e->lock);
}

static bool site_open(const engine *e, int64_t site_id)
{
    for (int i = 0; i < e->nopen_sites; i++)
        if (e->open_sites[i] == site_id)
            return true;
    return false;
}

/* Circuits a commit opened or closed: reported, and remembered so that the
 * messages of an open site claimed ahead are given back instead of sent
 * (while it is open they must not spend attempts).  Frees ev. */
static void circuits_changed(engine *e, circuit_event *ev, int n)
{
    int64_t now = hd_now_ms();
    for (int i = 0; i < n; i++) {
        const circuit *c = &ev[i].after;
        bool open = c->state != CIRCUIT_CLOSED;
        if (open && !site_open(e, ev[i].site_id)) {
            e->open_sites = hd_xrealloc(e->open_sites,
                                        sizeof *e->open_sites * (size_t)(e->nopen_sites + 1));
            e->open_sites[e->nopen_sites++] = ev[i].site_id;
        } else if (!open) {
            for (int k = 0; k < e->nopen_sites; k++)
                if (e->open_sites[k] == ev[i].site_id)
                    e->open_sites[k--] = e->open_sites[--e->nopen_sites];
        }
        if (!events_wanted(e))
            continue;
        engine_event *out = event_add(e, open ? ENGINE_EV_CIRCUIT_OPENED
                                              : ENGINE_EV_CIRCUIT_CLOSED);
        out->u.circuit.site_id = ev[i].site_id;
        out->u.circuit.site = ev[i].site_name;
        if (open) {
            out->u.circuit.failures = c->failures;
            out->u.circuit.reason = c->reason;
            out->u.circuit.probe_in_ms = c->until_ms > now ? c->until_ms - now : 0;
        }
    }
    events_flush(e);
    free(ev);
}

/* Adds one message of site_id to the hold table. */
static void hold_add(site_hold **h, int *n, int64_t site_id)
{
    for (int i = 0; i < *n; i++) {
        if ((*h)[i].site_id == site_id) {
            (*h)[i].held++;
            return;
        }
    }
    *h = hd_xrealloc(*h, sizeof **h * (size_t)(*n + 1));
    (*h)[(*n)++] = (site_hold){ site_id, 1 };
}

/* What this engine holds per site: sending, waiting for a token, claimed
 * ahead (a claim gives a site no more than its share minus these). */
static void holds_count(const engine *e, site_hold **h, int *n)
{
    *h = NULL;
    *n = 0;
    for (int i = 0; i < e->nflights; i++)
        hold_add(h, n, e->flights[i]->m.site_id);
    for (int i = 0; i < e->nparked; i++)
        hold_add(h, n, e->parked[i].m.site_id);
    for (int i = 0; i < e->nready; i++)
        hold_add(h, n, e->ready[i].m.site_id);
}

static int64_t payload_bytes(const message *m)
{
    return m->payload ? (int64_t)strlen(m->payload) : 0;
}

/* Payload bytes this engine holds now; the high-water mark goes to stats. */
static int64_t held_bytes(engine *e)
{
    int64_t n = 0;
    for (int i = 0; i < e->nflights; i++)
        n += payload_bytes(&e->flights[i]->m);
    for (int i = 0; i < e->nparked; i++)
        n += payload_bytes(&e->parked[i].m);
    for (int i = 0; i < e->nready; i++)
        n += payload_bytes(&e->ready[i].m);
    pthread_mutex_lock(&e->lock);
    if (n > e->stats.held_bytes_max)
        e->stats.held_bytes_max = n;
    pthread_mutex_unlock(&e->lock);
    return n;
}

/* Hands e->outs and a claim over to the committer (curl thread). */
static void commit_submit(engine *e, int claim_limit)
{
    commit_job job = {0};
    job.claim = (claim_request){
        .owner = e->owner, .lease_extra_ms = e->d.lease_ms, .limit = claim_limit,
        .concurrency = e->d.concurrency, .depth = READY_DEPTH + 1,
        .rotation = e->rotation++, .breaker = &e->d.breaker,
    };
    if (claim_limit > 0) {   /* the loop claims only below the budget */
        job.claim.max_bytes = (int64_t)e->d.concurrency * CLAIM_BYTES_PER_SLOT - held_bytes(e);
        holds_count(e, &job.held, &job.nheld);
    }
    e->njob_failing = 0;
    for (int i = 0; i < e->nouts; i++) {
        if (e->outs[i].o.verdict != VERDICT_FAIL)
            continue;
        e->job_failing = hd_xrealloc(e->job_failing,
                                     sizeof *e->job_failing * (size_t)(e->njob_failing + 1));
        e->job_failing[e->njob_failing++] = e->outs[i].o.a.site_id;
    }
    job.outs = e->outs;
    job.nouts = e->nouts;
    e->job_outs_cap = e->outs_cap;
    committer_submit(e->commit, &job);
    e->outs = NULL;
    e->nouts = e->outs_cap = 0;
    e->outs_failing = 0;
}

/* Puts outcomes back in front of e->outs (a failed commit: retried). */
static void outs_restore(engine *e, pending_out *outs, int n)
{
    if (n == 0) {
        free(outs);
        return;
    }
    pending_out *all = hd_xmalloc(sizeof *all * (size_t)(n + e->nouts));
    memcpy(all, outs, sizeof *all * (size_t)n);
    if (e->nouts > 0)
        memcpy(all + n, e->outs, sizeof *all * (size_t)e->nouts);
    free(outs);
    free(e->outs);
    e->outs = all;
    e->nouts += n;
    e->outs_cap = e->nouts;
    outs_count_failing(e);
}

/* Takes the committer's result back (curl thread): the outcomes are
 * published, or kept for the next try when the transaction failed.  The
 * caller has job->claimed (empty after a failure) and job->claim.limit.
 * With wait, blocks until the job is done.  False when no job was done (or
 * none was handed over). */
static bool commit_collect(engine *e, bool wait, commit_job *job)
{
    if (!committer_collect(e->commit, wait, job))
        return false;
    e->njob_failing = 0;
    if (job->rc == HD_OK) {
        publish_recorded(e, job->outs, job->nouts);
        if (!e->outs_spare && job->outs) {   /* the next batch's array */
            e->outs_spare = job->outs;
            e->outs_spare_cap = e->job_outs_cap;
        } else {
            free(job->outs);
        }
        fault_cleared(e);
    } else {
        outs_restore(e, job->outs, job->nouts);
        set_last_error(e, job->err.msg);
        fault_seen(e, job->err.code, job->err.msg);
    }
    job->outs = NULL;
    job->nouts = 0;
    circuits_changed(e, job->events, job->nevents);
    job->events = NULL;
    job->nevents = 0;
    return true;
}

/* Synchronous form for the stop paths, on the curl thread's connection once
 * the committer is idle. */
static hd_status commit_now(engine *e)
{
    message_list none;
    hd_error err = {0};
    hd_status rc = commit_tx(e->st, e->owner, e->outs, e->nouts, NULL, &none, &err);
    if (rc == HD_OK) {
        pending_out *outs = e->outs;
        int n = e->nouts;
        e->outs = NULL;
        e->nouts = e->outs_cap = 0;
        e->outs_failing = 0;
        publish_recorded(e, outs, n);
        free(outs);
    } else {
        set_last_error(e, err.msg);
    }
    circuit_event *events = NULL;
    int nevents = 0;
    store_take_circuit_events(e->st, &events, &nevents);
    circuits_changed(e, events, nevents);
    return rc;
}

/* An attempt that never reached the network (no site, no token, a request
 * that cannot be built): error (taken over) becomes its outcome, and m is
 * freed.  headers: the request headers when they were built (taken over). */
static void fail_unsent(engine *e, message *m, int number, char *error, char *headers)
{
    http_result res;
    memset(&res, 0, sizeof res);
    res.error = error;
    add_outcome(e, m, number, &res, headers, false);
    message_free(m);
}

/* oauth2: puts the entry's token into ctx and returns true, or takes m
 * over and returns false: parked until a token fetch finishes (started
 * here unless one is under way), or failed with the error of the fetch it
 * was waiting for (`resumed`). */
static bool oauth_token_ready(engine *e, const site *s, message *m, int number, bool resumed,
                              int64_t claimed_at, int entry, request_context *ctx)
{
    /* A resumed message takes the fresh token even when expires_in is
     * shorter than the refresh margin (no fetch loop). */
    const char *token = token_cache_token(&e->tokens, entry, resumed);
    const char *fetch_error = token_cache_error(&e->tokens, entry);
    if (!token && resumed && fetch_error) {
        fail_unsent(e, m, number, hd_xstrdup(fetch_error), NULL);
        return false;
    }
    if (!token) {
        park(e, m, number, entry, claimed_at);
        token_cache_fetch(&e->tokens, entry, s, &e->token_opt, e->multi);
        return false;
    }
    ctx->oauth2_token = token;
    return true;
}

/* Adds the transfer of m (taken over) to the multi handle, in a slot.
 * headers: the masked request headers (taken over); oauth_entry and
 * oauth_token (copied): the token it sends, -1 and NULL when none. */
static void start_flight(engine *e, message *m, int number, http_transfer *t, char *headers,
                         int oauth_entry, const char *oauth_token)
{
    flight *f = hd_xcalloc(1, sizeof *f);
    f->t = t;
    f->m = *m;
    memset(m, 0, sizeof *m);
    f->number = number;
    f->request_headers = headers;
    f->oauth_entry = oauth_entry;
    f->oauth_token = oauth_token ? hd_xstrdup(oauth_token) : NULL;
    t->user = f;
    http_transfer_started(t);
    CURLMcode mc = curl_multi_add_handle(e->multi, t->easy);
    if (mc != CURLM_OK) {
        http_result res;
        memset(&res, 0, sizeof res);
        res.error = hd_xasprintf("curl: %s", curl_multi_strerror(mc));
        res.started_at = t->started_at;
        add_outcome(e, &f->m, number, &res, f->request_headers, false);
        f->request_headers = NULL;
        flight_free(f);
        return;
    }
    e->flights[e->nflights++] = f;
}

/* Step 3: start one claimed message (takes it over).  `resumed`: it was
 * parked and the token fetch it waited for has finished. */
static void start_message(engine *e, message *m, bool resumed, int64_t claimed_at)
{
    int number = m->attempts + 1;
    hd_error err = {0};
    const site *s = site_lookup(e, m->site_id, &err);
    if (!s) {
        fail_unsent(e, m, number,
                    hd_xasprintf("site %" PRId64 " not found: %s", m->site_id, err.msg), NULL);
        return;
    }
    request_context ctx = { .now_ms = hd_now_ms(), .user_agent = e->d.user_agent };
    int entry = -1;
    if (auth_needs_token(s)) {
        entry = token_cache_entry(&e->tokens, s);
        if (!oauth_token_ready(e, s, m, number, resumed, claimed_at, entry, &ctx))
            return;
    }
    http_request req;
    if (request_build(s, m, &ctx, &req, &err) != HD_OK) {
        fail_unsent(e, m, number, hd_xstrdup(err.msg), NULL);
        return;
    }
    char *headers = request_headers_text(&req);
    http_options opt = {
        .timeout_ms = s->timeout_ms > 0 ? s->timeout_ms : e->d.timeout_ms,
        .max_response_body = e->d.max_response_body,
        .allow_private = e->allow_private,
        .proxy = e->d.proxy,
    };
    http_transfer *t = NULL;
    CURL *reuse = e->nspare > 0 ? e->spare[--e->nspare] : NULL;
    if (http_transfer_new(&req, &opt, reuse, &t, &err) != HD_OK) {
        request_free(&req);
        fail_unsent(e, m, number, hd_xstrdup(err.msg), headers);
        return;
    }
    start_flight(e, m, number, t, headers, entry, ctx.oauth2_token);
}

/* Step 1b: parked messages whose token fetch has finished start (or fail
 * with the fetch's error).  Returns how many left the parking. */
static int resume_parked(engine *e)
{
    int n = e->nparked;
    if (n == 0)
        return 0;
    parked *list = e->parked;
    e->parked = NULL;
    e->nparked = 0;
    int resumed = 0;
    for (int i = 0; i < n; i++) {
        parked *p = &list[i];
        if (token_cache_fetches(&e->tokens, p->entry) == p->fetches) {
            /* Still waiting: back into the (new) list. */
            e->parked = hd_xrealloc(e->parked, sizeof *e->parked * (size_t)(e->nparked + 1));
            e->parked[e->nparked++] = *p;
            continue;
        }
        resumed++;
        if (lease_fresh(e, p->claimed_at)) {
            start_message(e, &p->m, true, p->claimed_at);
        } else {
            /* The token took too long for the lease: give it back. */
            release_ids(e, &p->m.id, 1);
        }
        message_free(&p->m);
    }
    free(list);
    if (resumed)
        publish_in_flight(e);
    return resumed;
}

static void id_push(int64_t **ids, int *n, int64_t id)
{
    *ids = hd_xrealloc(*ids, sizeof **ids * (size_t)(*n + 1));
    (*ids)[(*n)++] = id;
}

/* Drops every transfer, parked message and token fetch (their leases
 * expire or are released; nothing is recorded for them). */
static void drop_all(engine *e)
{
    for (int i = 0; i < e->nflights; i++) {
        curl_multi_remove_handle(e->multi, e->flights[i]->t->easy);
        flight_free(e->flights[i]);
    }
    e->nflights = 0;
    token_cache_abort(&e->tokens, e->multi);
    parked_free_all(e);
}

/* RELEASE: drop what is in flight and give the leases back.  Finished
 * outcomes are still recorded first (they are real attempts). */
static void release_all(engine *e)
{
    /* The messages it holds, by id: one lookup each, where a release by
     * owner would walk every pending message (a paused site's backlog). */
    int64_t *ids = NULL;
    int n = 0;
    for (int i = 0; i < e->nflights; i++)
        id_push(&ids, &n, e->flights[i]->m.id);
    for (int i = 0; i < e->nparked; i++)
        id_push(&ids, &n, e->parked[i].m.id);
    for (int i = 0; i < e->nready; i++)
        id_push(&ids, &n, e->ready[i].m.id);
    drop_all(e);
    for (int i = 0; i < e->nready; i++)
        message_free(&e->ready[i].m);
    e->nready = 0;   /* their leases go back with all the others below */
    publish_in_flight(e);
    /* The committer's job first (what it claimed goes back too). */
    commit_job job;
    if (commit_collect(e, true, &job)) {
        for (int i = 0; i < job.claimed.count; i++)
            id_push(&ids, &n, job.claimed.items[i].id);
        message_list_free(&job.claimed);
    }
    if (e->fault_since) {
        /* The database fails: trying would only wait.  Their leases expire. */
        outs_free_range(e, e->nouts);
        free(ids);
        return;
    }
    if (e->nouts > 0 && commit_now(e) != HD_OK)
        outs_free_range(e, e->nouts);   /* their leases expire: retried, not lost */
    release_ids(e, ids, n);
    free(ids);
}

/* The database fails and the engine gives up (fault_timeout, or a stop
 * while failing): drop everything; what was not recorded is retried by
 * whoever claims it after its lease, as after a kill -9. */
static void give_up(engine *e)
{
    commit_job job;
    if (commit_collect(e, true, &job))
        message_list_free(&job.claimed);
    drop_all(e);
    for (int i = 0; i < e->nready; i++)
        message_free(&e->ready[i].m);
    e->nready = 0;
    outs_free_range(e, e->nouts);
    publish_in_flight(e);
}

/* A transfer may start: fewer than `concurrency` under way, and fewer than
 * UNRECORDED_DEPTH times that sent but not yet recorded.  The second bound is
 * what a kill -9 can cost: at most that many attempts are sent again (SPEC
 * §1's in-flight duplicates), however the commits are grouped. */
static bool slot_free(const engine *e)
{
    int busy = e->nflights + e->nparked;
    int unrecorded = e->nouts + committer_unrecorded(e->commit);
    return busy < e->d.concurrency && busy + unrecorded < UNRECORDED_DEPTH * e->d.concurrency;
}

/* A message claimed ahead is given back instead of sent when it waited too
 * long for a connection (lease_fresh), when its site has been paused
 * meanwhile, or when its site's circuit opened (unless it is the probe). */
static bool ready_stale(engine *e, const ready_msg *r)
{
    if (!lease_fresh(e, r->claimed_at))
        return true;
    if (!r->m.probe && site_open(e, r->m.site_id))
        return true;
    const site *s = site_lookup(e, r->m.site_id, NULL);
    return s && !s->enabled;
}

/* A failed attempt of the site is not recorded yet: its circuit may be
 * about to open.  Its next transfer waits for that commit (a few ms), so
 * that the breaker opens after exactly delivery.breaker.failures attempts
 * and no message spends an attempt on a circuit that is already open. */
static bool site_suspect(const engine *e, int64_t site_id)
{
    if (!breaker_enabled(&e->d.breaker))
        return false;
    for (int i = 0; i < e->njob_failing; i++)
        if (e->job_failing[i] == site_id)
            return true;
    for (int i = 0; e->outs_failing > 0 && i < e->nouts; i++)
        if (e->outs[i].o.verdict == VERDICT_FAIL && e->outs[i].o.a.site_id == site_id)
            return true;
    return false;
}

/* True when the site already has its max_in_flight transfers under way
 * here (active: sending and parked per site, counted by the caller), or
 * must wait for a failure to be recorded (site_suspect). */
static bool site_full(engine *e, const site_hold *active, int nactive, int64_t site_id)
{
    if (site_suspect(e, site_id))
        return true;
    int n = 0;
    for (int i = 0; i < nactive; i++)
        if (active[i].site_id == site_id)
            n = active[i].held;
    if (n == 0)
        return false;
    const site *s = site_lookup(e, site_id, NULL);
    return s && n >= site_max_in_flight(s, e->d.concurrency);
}

/* Step 1: fill free slots from the messages claimed ahead, oldest claim
 * first, skipping those whose site has its share under way already (they
 * keep their place for the next free slot).  The walk ends when the slots
 * are full: the rest keep their place and are looked at (stale or not) when
 * their turn comes, so a tick costs what it starts, not the whole reserve
 * (READY_DEPTH x concurrency; it ran ready_stale, a clock read and a site
 * lookup, for every one of them on every tick). */
static void start_ready(engine *e)
{
    if (e->nready == 0 || !slot_free(e))
        return;
    site_hold *active = NULL;
    int nactive = 0;
    for (int i = 0; i < e->nflights; i++)
        hold_add(&active, &nactive, e->flights[i]->m.site_id);
    for (int i = 0; i < e->nparked; i++)
        hold_add(&active, &nactive, e->parked[i].m.site_id);
    int keep = 0, started = 0, nstale = 0;
    int64_t *stale = NULL;
    int i = 0;
    for (; i < e->nready && slot_free(e); i++) {
        ready_msg r = e->ready[i];
        if (ready_stale(e, &r)) {
            stale = hd_xrealloc(stale, sizeof *stale * (size_t)(nstale + 1));
            stale[nstale++] = r.m.id;
            message_free(&r.m);
            continue;
        }
        if (site_full(e, active, nactive, r.m.site_id)) {
            e->ready[keep++] = r;
            continue;
        }
        int64_t site_id = r.m.site_id;
        start_message(e, &r.m, false, r.claimed_at);
        hold_add(&active, &nactive, site_id);
        started++;
    }
    /* The ones not reached stay behind the kept ones, in order.  Usually
     * none was kept: the front moves instead of the rest (a reserve of
     * READY_DEPTH x concurrency messages is ~30 KB at 32). */
    if (keep == 0)
        e->ready += i;
    else if (i < e->nready)
        memmove(e->ready + keep, e->ready + i, sizeof *e->ready * (size_t)(e->nready - i));
    e->nready = keep + (e->nready - i);
    free(active);
    release_ids(e, stale, nstale);
    free(stale);
    if (started > 0)
        publish_in_flight(e);
}

/* Stopping: messages claimed ahead were never sent; give their leases back
 * so another process (or the next start) sends them without waiting. */
static void release_ready(engine *e)
{
    if (e->nready == 0)
        return;
    int64_t *ids = hd_xmalloc(sizeof *ids * (size_t)e->nready);
    for (int i = 0; i < e->nready; i++) {
        ids[i] = e->ready[i].m.id;
        message_free(&e->ready[i].m);
    }
    release_ids(e, ids, e->nready);
    free(ids);
    e->nready = 0;
}

/* True when this engine is sending message id right now (or parked it for
 * a token): a claim can hand back a message whose lease ran out while its
 * transfer went on (a slow site, a loaded machine), since the store only
 * skips live leases; sending it again would be a second delivery. */
static bool in_flight_here(const engine *e, int64_t id)
{
    for (int i = 0; i < e->nflights; i++)
        if (e->flights[i]->m.id == id)
            return true;
    for (int i = 0; i < e->nparked; i++)
        if (e->parked[i].m.id == id)
            return true;
    return false;
}

/* Claimed messages join the reserve; returns how many (claimed is emptied).
 * One already under way here is dropped: the claim renewed its lease, and
 * the transfer under way records it. */
static int take_claimed(engine *e, message_list *claimed)
{
    int kept = 0;
    for (int i = 0; i < claimed->count; i++) {
        if (in_flight_here(e, claimed->items[i].id))
            message_free(&claimed->items[i]);
        else
            claimed->items[kept++] = claimed->items[i];
    }
    claimed->count = kept;
    int n = claimed->count;
    if (n == 0) {
        free(claimed->items);
        claimed->items = NULL;
        return 0;
    }
    if (e->ready != e->ready_mem) {   /* back to the front of the allocation */
        memmove(e->ready_mem, e->ready, sizeof *e->ready * (size_t)e->nready);
        e->ready = e->ready_mem;
    }
    if (e->nready + n > e->ready_cap) {   /* the most a claim fills it to, once */
        int most = (READY_DEPTH + 1) * e->d.concurrency;
        e->ready_cap = e->nready + n > most ? e->nready + n : most;
        e->ready_mem = hd_xrealloc(e->ready_mem, sizeof *e->ready_mem * (size_t)e->ready_cap);
        e->ready = e->ready_mem;
    }
    int64_t at = hd_mono_ms();
    for (int i = 0; i < claimed->count; i++)
        e->ready[e->nready++] = (ready_msg){ claimed->items[i], at };
    free(claimed->items);
    claimed->items = NULL;
    claimed->count = 0;
    return n;
}

/* The loop's timers and flags (worker thread only). */
typedef struct loop_state {
    int64_t poll_ms;          /* delivery.poll_interval */
    int64_t next_claim;       /* monotonic ms: claim no earlier than this */
    int64_t next_tx_retry;    /* monotonic ms: after a failed transaction */
    int64_t next_purge;       /* monotonic ms: the next purge starts */
    bool purging;             /* a purge is under way, one chunk per tick */
    int64_t next_drain_check; /* monotonic ms: drain's next pending count */
    int64_t next_beat;        /* monotonic ms: the next heartbeat */
    bool bytes_full;          /* this tick: the held payload bytes stop claims */
} loop_state;

/* A claim found fewer than it asked for: nothing else is due now, so the
 * next claim waits until the next message is due (or the poll interval). */
static void claim_when_due(engine *e, loop_state *ls)
{
    int64_t due = 0, wait = ls->poll_ms;
    hd_error err = {0};
    if (store_next_due(e->st, &due, &err) == HD_OK && due > 0) {
        int64_t until = due - hd_now_ms();
        if (until < wait)
            wait = until < 0 ? 0 : until;
    }
    ls->next_claim = hd_mono_ms() + wait;
}

/* Step 1: the committer's result, when it is in: its claims join the
 * reserve; after a failure the transaction is retried in a poll interval. */
static void take_commit_result(engine *e, loop_state *ls)
{
    commit_job job;
    if (!commit_collect(e, false, &job))
        return;
    if (job.rc == HD_OK) {
        int got = take_claimed(e, &job.claimed);
        if (got > 0)
            held_bytes(e);   /* the high-water mark */
        if (job.claim.limit > 0 && got < job.claim.limit)
            claim_when_due(e, ls);
    } else {
        ls->next_tx_retry = hd_mono_ms() + ls->poll_ms;
        ls->next_claim = ls->next_tx_retry;
    }
    message_list_free(&job.claimed);
}

/* The stop flags; clears the wakeup. */
static bool stop_flags(engine *e, engine_stop_mode *mode, bool *woken)
{
    pthread_mutex_lock(&e->lock);
    bool stop = e->stop_requested;
    *mode = e->stop_mode;
    *woken = e->wake;
    e->wake = false;
    pthread_mutex_unlock(&e->lock);
    return stop;
}

/* True when the loop must end now: a RELEASE stop, delivery.fault_timeout
 * of failing transactions (the engine's result is the error), or a stop
 * waiting too long for a failing database. */
static bool must_end(engine *e, bool stop, engine_stop_mode mode)
{
    if (stop && mode == ENGINE_STOP_RELEASE) {
        release_all(e);
        return true;
    }
    if (e->fault_hard_since && e->d.fault_timeout_ms > 0 &&
        hd_mono_ms() - e->fault_hard_since >= e->d.fault_timeout_ms) {
        char took[32];
        duration_format(e->d.fault_timeout_ms, took, sizeof took);
        e->result = hd_error_set(&e->result_err, HD_DB,
                                 "delivery engine stopped: database transactions failed for "
                                 "%s (delivery.fault_timeout): %s; no message is lost (what "
                                 "was not recorded is retried after its lease)",
                                 took, e->fault_msg);
        set_last_error(e, e->result_err.msg);
        give_up(e);
        return true;
    }
    if (stop && e->fault_since && hd_mono_ms() - e->fault_since >= STOP_FAULT_GRACE_MS) {
        give_up(e);   /* a stop never waits long for a failing database */
        return true;
    }
    return false;
}

/* Step 2: hands finished outcomes and/or a claim to the committer when it
 * is time (and it is idle). */
static void plan_commit(engine *e, loop_state *ls, bool stop, int64_t mono)
{
    /* Keep `concurrency` in flight and up to READY_DEPTH times that
     * claimed ahead; claim when the reserve is down to one concurrency's
     * worth, so each transaction claims a large batch. */
    int busy = e->nflights + e->nparked;
    int room = (READY_DEPTH + 1) * e->d.concurrency - busy - e->nready;
    /* Outcomes are handed to the committer in batches: once
     * COMMIT_BATCH x concurrency have finished, or the first of them has
     * waited COMMIT_WAIT_MS, or nothing else is in flight (or stopping).
     * Every commit writes each page it touched to the WAL, so fewer,
     * larger commits write a third fewer pages per attempt (pwrite
     * calls per 10k deliveries: 17.6k at once, 12.0k batched; CPU per
     * delivery -7%).  The transfers started from the reserve keep the
     * connections busy meanwhile, and the unrecorded bound
     * (UNRECORDED_DEPTH) still holds. */
    bool flush = e->nouts > 0 &&
                 (e->nouts >= COMMIT_BATCH * e->d.concurrency ||
                  mono - e->outs_since >= COMMIT_WAIT_MS || e->nflights == 0 || stop);
    /* A transaction that records outcomes also tops the reserve up when
     * there is room for a batch: one commit instead of two. */
    bool want_claim = !stop && mono >= ls->next_claim && room > 0 &&
                      (e->nready <= e->d.concurrency ||
                       (flush && room >= e->d.concurrency));
    /* Big payloads: what is held already may use up the byte budget;
     * the transfers under way free it (their end wakes the loop). */
    ls->bytes_full = want_claim &&
                     held_bytes(e) >= (int64_t)e->d.concurrency * CLAIM_BYTES_PER_SLOT;
    bool claim = want_claim && !ls->bytes_full;
    if ((flush || claim) && mono >= ls->next_tx_retry && !committer_busy(e->commit))
        commit_submit(e, claim ? room : 0);
}

/* Messages an idle engine indexes for search per loop turn (a few ms of
 * write lock). */
#define SEARCH_STEP_ROWS 500

/* Nothing under way here: no transfer, outcome, parked message, token
 * request, reserve or job. */
static bool engine_idle(const engine *e)
{
    return e->nflights == 0 && e->nouts == 0 && e->nparked == 0 && e->tokens.nrequests == 0 &&
           e->nready == 0 && !committer_busy(e->commit);
}

/* drain: done once nothing is in flight here and nothing is pending in the
 * database (another process's in-flight messages count). */
static bool drained(engine *e, loop_state *ls, int64_t mono)
{
    if (mono < ls->next_drain_check)
        return false;
    int64_t pending = 0;
    hd_error err = {0};
    if (store_pending_count(e->st, &pending, &err) == HD_OK) {
        if (pending == 0)
            return true;
    } else {
        set_last_error(e, err.msg);
    }
    ls->next_drain_check = mono + ls->poll_ms;
    return false;
}

/* Step 4, retention: one chunk per tick, so delivery never waits for a
 * purge. */
static void purge_step(engine *e, loop_state *ls, int64_t mono)
{
    if (e->retention_ms > 0 && !ls->purging && mono >= ls->next_purge)
        ls->purging = true;
    if (!ls->purging)
        return;
    int64_t deleted = 0;
    hd_error err = {0};
    if (store_purge_chunk(e->st, hd_now_ms() - e->retention_ms, e->purge_chunk, &deleted,
                          &err) != HD_OK) {
        set_last_error(e, err.msg);
        deleted = 0;
    }
    if (deleted < e->purge_chunk) {
        ls->purging = false;
        ls->next_purge = hd_mono_ms() + e->purge_interval_ms;
    }
}

/* Step 4b, search (issue #11): an idle engine adds the next messages to
 * the search index, in a short transaction of its own; once caught up it
 * costs no query (store_search_index_step).  A failure is not the
 * engine's: the search scans what is not indexed, and the next idle turn
 * tries again. */
static void search_index_step(engine *e)
{
    hd_error err = {0};
    (void)store_search_index_step(e->st, SEARCH_STEP_ROWS, NULL, &err);
}

/* How long step 5 may wait (ms). */
static int64_t wait_timeout(engine *e, const loop_state *ls, bool stop)
{
    int64_t now = hd_mono_ms();
    int64_t timeout = ls->poll_ms;
    bool busy = committer_busy(e->commit);
    if (e->nouts > 0 && !busy) {  /* to hand over in time (or after a failure) */
        int64_t at = e->outs_since + COMMIT_WAIT_MS;
        if (at < ls->next_tx_retry)
            at = ls->next_tx_retry;
        timeout = at > now ? at - now : 0;
    }
    /* A claim waits for the committer when it is busy: its wakeup ends
     * the poll then (a zero timeout here would spin the thread). */
    if (!stop && e->nready <= e->d.concurrency && !busy && !ls->bytes_full) {
        int64_t until = ls->next_claim > now ? ls->next_claim - now : 0;
        if (until < timeout)
            timeout = until;
    }
    if (ls->purging)
        timeout = 0;
    if (ls->next_beat - now < timeout)
        timeout = ls->next_beat > now ? ls->next_beat - now : 0;
    long curl_ms = -1;
    if (curl_multi_timeout(e->multi, &curl_ms) == CURLM_OK && curl_ms >= 0 && curl_ms < timeout)
        timeout = curl_ms;
    return timeout < 0 ? 0 : timeout;
}

/* Step 5: wait for curl, a wakeup, or the next claim time. */
static void wait_for_work(engine *e, loop_state *ls, bool stop, bool idle)
{
    int64_t timeout = wait_timeout(e, ls, stop);
    if (timeout == 0 && e->nflights == 0 && e->tokens.nrequests == 0 &&
        !committer_busy(e->commit))
        return;
    /* Another process's commit (a send, an import) ends the wait at
     * once: the poll interval is only the fallback.  Only when idle:
     * a busy engine claims often anyway, and every WAL write of its
     * own committer would wake this poll for nothing. */
    bool watch = e->watch && idle;
    struct curl_waitfd wfd = { .fd = watch ? store_watch_fd(e->watch) : -1,
                               .events = CURL_WAIT_POLLIN };
    CURLMcode mc = curl_multi_poll(e->multi, watch ? &wfd : NULL, watch ? 1 : 0,
                                   (int)timeout, NULL);
    if (mc != CURLM_OK) {
        set_last_error(e, curl_multi_strerror(mc));
        usleep(10000);
    }
    if (watch && (wfd.revents & CURL_WAIT_POLLIN) && store_watch_changed(e->watch))
        ls->next_claim = 0;
}

/* The worker's ticks (see DESIGN), until a stop or drain ends them. */
static void engine_loop(engine *e)
{
    loop_state ls = { .poll_ms = e->d.poll_interval_ms, .next_purge = hd_mono_ms() + 1000 };
    for (;;) {
        int finished = collect_finished(e);
        finished += resume_parked(e);
        take_commit_result(e, &ls);
        start_ready(e);

        engine_stop_mode mode;
        bool woken;
        bool stop = stop_flags(e, &mode, &woken);
        if (must_end(e, stop, mode))
            return;
        if (stop)
            release_ready(e);

        int64_t mono = hd_mono_ms();
        if (woken || finished)
            ls.next_claim = 0;
        plan_commit(e, &ls, stop, mono);

        bool idle = engine_idle(e);
        if (stop && idle)
            return;   /* FINISH: everything in flight is recorded */
        if (e->opt.drain && !stop && idle && drained(e, &ls, mono))
            return;
        if (!stop)
            purge_step(e, &ls, mono);
        if (!stop && idle)
            search_index_step(e);
        if (mono >= ls.next_beat) {
            heartbeat(e);
            ls.next_beat = mono + ENGINE_BEAT_MS;
        }
        wait_for_work(e, &ls, stop, idle);
    }
}

/* The committer finished a job: end the worker's curl_multi_poll. */
static void wake_worker(void *ctx)
{
    engine *e = ctx;
    curl_multi_wakeup(e->multi);
}

static void *engine_thread(void *arg)
{
    engine *e = arg;
    /* Names shown by top -H, ps -L and perf. */
    pthread_setname_np(pthread_self(), "hd-deliver");
    /* Linux: a thread's nice value is its own (setpriority on its tid); the
     * committer, created below, inherits it. */
    if (e->opt.nice > 0 && setpriority(PRIO_PROCESS, (id_t)gettid(), e->opt.nice) != 0)
        set_last_error(e, "could not lower the engine thread's priority");
    bool started = committer_start(e->commit, wake_worker, e, &e->result_err) == HD_OK;
    if (!started) {
        e->result = e->result_err.code;
        hd_error_prefix(&e->result_err, "delivery engine: ");
        set_last_error(e, e->result_err.msg);
    }
    /* Both threads run at opt.nice from engine_start's return on. */
    pthread_mutex_lock(&e->lock);
    e->thread_ready = true;
    pthread_cond_broadcast(&e->ready_cond);
    pthread_mutex_unlock(&e->lock);
    if (started) {
        engine_loop(e);
        /* Every way out of the loop leaves no job under way: FINISH ends
         * idle, RELEASE and give_up take the job back. */
        committer_stop(e->commit);
        hd_error gone_err = {0};
        if (store_engine_gone(e->st, e->owner, &gone_err) != HD_OK)
            set_last_error(e, gone_err.msg);
    }
    committer_close(e->commit);
    e->commit = NULL;
    /* Whatever is left (a FINISH that could not record) expires as a lease. */
    drop_all(e);
    spares_free(e);
    token_cache_free(&e->tokens);
    outs_free_range(e, e->nouts);
    site_cache_clear(&e->sites);
    store_close(e->st);
    e->st = NULL;
    pthread_mutex_lock(&e->lock);
    e->stats.running = false;
    e->stats.in_flight = 0;
    pthread_mutex_unlock(&e->lock);
    return NULL;
}

static void engine_free(engine *e)
{
    if (e->multi)
        curl_multi_cleanup(e->multi);
    if (e->st)
        store_close(e->st);
    committer_close(e->commit);
    store_watch_close(e->watch);
    free(e->open_sites);
    free(e->job_failing);
    free(e->events);
    free(e->database);
    free(e->d.user_agent);
    free(e->flights);
    free(e->spare);
    free(e->outs);
    free(e->outs_spare);
    for (int i = 0; i < e->nready; i++)
        message_free(&e->ready[i].m);
    free(e->ready_mem);
    pthread_mutex_destroy(&e->lock);
    pthread_cond_destroy(&e->ready_cond);
    free(e);
}

/* The settings, with defaults for what cfg leaves unset. */
static void settings_copy(engine *e, const config *cfg, const engine_options *opt)
{
    e->database = hd_xstrdup(cfg->database ? cfg->database : "hookdesk.db");
    e->d = cfg->delivery;
    e->d.user_agent = hd_xstrdup(cfg->delivery.user_agent);
    if (e->d.concurrency <= 0)
        e->d.concurrency = 8;
    if (e->d.max_attempts <= 0)
        e->d.max_attempts = 5;
    if (e->d.timeout_ms <= 0)
        e->d.timeout_ms = 10000;
    if (e->d.poll_interval_ms <= 0)
        e->d.poll_interval_ms = 100;
    if (e->d.lease_ms < 0)
        e->d.lease_ms = 30000;
    e->retention_ms = cfg->retention_ms;
    e->purge_interval_ms = cfg->purge_interval_ms > 0 ? cfg->purge_interval_ms : 60000;
    e->purge_chunk = cfg->purge_chunk > 0 ? cfg->purge_chunk : 500;
    e->allow_private = cfg->allow_private;
    if (opt)
        e->opt = *opt;
    snprintf(e->role, sizeof e->role, "%s", e->opt.role ? e->opt.role : "serve");
    e->opt.role = NULL;   /* the caller's string: e->role is the copy */
    e->token_opt = (token_fetch_options){
        .user_agent = e->d.user_agent, .default_timeout_ms = e->d.timeout_ms,
        .allow_private = e->allow_private, .proxy = e->d.proxy,
    };
}

/* The worker's connection and the committer's. */
static hd_status open_stores(engine *e, hd_error *err)
{
    /* A page cache of ENGINE_CACHE_KIB per connection: the engine reads the
     * index pages of the due messages and the rows it claims, not whole
     * tables, and two connections of the 64 MiB default made the engine's
     * memory grow with the payloads it had sent. */
    store_options so = { .synchronous_full = e->d.synchronous_full,
                         .busy_timeout_ms = 2000, .read_only = false,
                         .cache_kib = ENGINE_CACHE_KIB };
    hd_status st = store_open(e->database, &so, &e->st, err);
    if (st != HD_OK)
        return st;
    /* Leases of sites without their own timeout use the delivery default. */
    store_set_default_timeout(e->st, e->d.timeout_ms);
    store_set_breaker(e->st, &e->d.breaker);
    /* The committer only records outcomes and claims: an attempt is inserted
     * only for a message that exists (ATTEMPT_INSERT), so the foreign key
     * check would only add a statement journal to every attempt (11% of the
     * committer's instructions, callgrind). */
    store_options commit_so = so;
    commit_so.no_reference_checks = true;
    return committer_open(e->database, &commit_so, e->d.timeout_ms, &e->d.breaker, e->owner,
                          &e->commit, err);
}

hd_status engine_start(const config *cfg, const engine_options *opt, engine **out, hd_error *err)
{
    engine *e = hd_xcalloc(1, sizeof *e);
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->ready_cond, NULL);
    settings_copy(e, cfg, opt);
    make_owner(e);
    e->started_at = hd_now_ms();
    e->flights = hd_xcalloc((size_t)e->d.concurrency, sizeof *e->flights);
    e->spare = hd_xcalloc((size_t)e->d.concurrency, sizeof *e->spare);
    hd_status st = open_stores(e, err);
    if (st != HD_OK) {
        hd_error_prefix(err, "delivery engine: ");
        engine_free(e);
        return st;
    }
    /* Without a watch (no inotify, an unwatchable directory) the engine
     * polls every poll_interval as before. */
    hd_error werr = {0};
    if (store_watch_open(e->database, &e->watch, &werr) != HD_OK)
        e->watch = NULL;
    e->sites.counter = store_change_counter(e->st);
    e->multi = curl_multi_init();
    if (!e->multi) {
        engine_free(e);
        return hd_error_set(err, HD_NET, "delivery engine: curl_multi_init failed");
    }
    curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)e->d.concurrency);
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)e->d.concurrency * 2);

    e->stats.running = true;
    int rc = hd_thread_start(&e->thread, engine_thread, e);
    if (rc != 0) {
        engine_free(e);
        return hd_error_set(err, HD_INTERNAL, "delivery engine: cannot start a thread: %s",
                            strerror(rc));
    }
    e->thread_started = true;
    pthread_mutex_lock(&e->lock);
    while (!e->thread_ready)
        pthread_cond_wait(&e->ready_cond, &e->lock);
    pthread_mutex_unlock(&e->lock);
    *out = e;
    return HD_OK;
}

void engine_wakeup(engine *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    e->wake = true;
    pthread_mutex_unlock(&e->lock);
    curl_multi_wakeup(e->multi);
}

void engine_stop(engine *e, engine_stop_mode mode)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    /* RELEASE may hurry a FINISH, never the other way round. */
    if (!e->stop_requested || mode == ENGINE_STOP_RELEASE)
        e->stop_mode = mode;
    e->stop_requested = true;
    e->stats.stopping = true;
    pthread_mutex_unlock(&e->lock);
    curl_multi_wakeup(e->multi);
}

hd_status engine_join(engine *e, hd_error *err)
{
    if (!e)
        return HD_OK;
    if (e->thread_started)
        pthread_join(e->thread, NULL);
    hd_status st = e->result;
    if (st != HD_OK && err)
        *err = e->result_err;
    engine_free(e);
    return st;
}

void engine_get_stats(engine *e, engine_stats *out)
{
    pthread_mutex_lock(&e->lock);
    *out = e->stats;
    pthread_mutex_unlock(&e->lock);
}
