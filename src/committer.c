/* committer.c - the delivery engine's committer thread (see committer.h).
 *
 * DESIGN
 * What runs where:
 *   - The engine's curl thread opens the committer (its own connection,
 *     `st`), starts its thread, hands it one job at a time
 *     (committer_submit) and takes the result back (committer_collect).
 *   - The committer thread waits for a job, runs it as one transaction
 *     (commit_tx) on `st`, publishes the result and calls wake() so that
 *     the curl thread's curl_multi_poll ends and collects it.  Commits and
 *     their fsyncs thus overlap with sending (1.2-1.5x the deliveries/s of
 *     doing them on the curl thread, measured A/B).
 * Which lock guards what:
 *   - `lock` (with `cond`) guards `job`, `ready`, `done` and `quit`.  A
 *     job's arrays belong to the committer thread from committer_submit
 *     until committer_collect takes them back; it reads them with the lock
 *     released while the transaction runs.
 *   - `busy` and `unrecorded` are the curl thread's own view (no lock).
 *   - wake() is called with no lock held.
 */
#include "committer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hd_util.h"

struct committer {
    store *st;               /* the committer thread's connection */
    char *owner;             /* lease owner of the recorded outcomes */
    void (*wake)(void *ctx); /* a job is done (committer thread, no lock held) */
    void *wake_ctx;
    pthread_t thread;
    bool started;            /* thread runs (until committer_stop) */

    pthread_mutex_t lock;    /* guards the four fields below */
    pthread_cond_t cond;     /* signalled on submit, done and quit */
    commit_job job;          /* the job handed over, then its result */
    bool ready;              /* handed over, not run yet */
    bool done;               /* run: job holds the result */
    bool quit;               /* the thread should exit */

    /* Curl thread only. */
    bool busy;               /* a job is handed over and not yet collected */
    int unrecorded;          /* its nouts */
};

hd_status commit_tx(store *st, const char *owner, const pending_out *outs, int nouts,
                    claim_request *claim, message_list *claimed, hd_error *err)
{
    memset(claimed, 0, sizeof *claimed);
    hd_status rc = store_tx_begin(st, err);
    if (rc != HD_OK)
        return rc;
    if (nouts > 0) {
        attempt_outcome *arr = hd_xmalloc(sizeof *arr * (size_t)nouts);
        for (int i = 0; i < nouts; i++)
            arr[i] = outs[i].o;
        rc = store_record_outcomes(st, owner, arr, nouts, err);
        free(arr);
    }
    if (rc == HD_OK && claim && claim->limit > 0) {
        claim->now_ms = hd_now_ms();
        rc = store_claim_fair(st, claim, claimed, err);
    }
    if (rc == HD_OK)
        rc = store_tx_commit(st, err);
    if (rc != HD_OK) {
        store_tx_rollback(st);
        message_list_free(claimed);
        memset(claimed, 0, sizeof *claimed);
        if (!err->msg[0])
            hd_error_set(err, HD_DB, "database transaction failed");
    }
    return rc;
}

static void *committer_thread(void *arg)
{
    committer *c = arg;
    pthread_setname_np(pthread_self(), "hd-commit");   /* top -H, ps -L, perf */
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (!c->quit && !c->ready)
            pthread_cond_wait(&c->cond, &c->lock);
        if (c->quit)
            break;
        c->ready = false;
        commit_job job = c->job;
        pthread_mutex_unlock(&c->lock);

        memset(&job.err, 0, sizeof job.err);
        job.claim.held = job.held;
        job.claim.nheld = job.nheld;
        job.rc = commit_tx(c->st, c->owner, job.outs, job.nouts, &job.claim, &job.claimed,
                           &job.err);
        job.events = NULL;
        job.nevents = 0;
        store_take_circuit_events(c->st, &job.events, &job.nevents);

        pthread_mutex_lock(&c->lock);
        c->job = job;
        c->done = true;
        pthread_cond_broadcast(&c->cond);   /* a stop path may wait for it */
        pthread_mutex_unlock(&c->lock);
        c->wake(c->wake_ctx);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

hd_status committer_open(const char *database, const store_options *so, int64_t default_timeout_ms,
                         const breaker_policy *breaker, const char *owner, committer **out,
                         hd_error *err)
{
    committer *c = hd_xcalloc(1, sizeof *c);
    hd_status rc = store_open(database, so, &c->st, err);
    if (rc != HD_OK) {
        free(c);
        return rc;
    }
    store_set_default_timeout(c->st, default_timeout_ms);
    store_set_breaker(c->st, breaker);
    c->owner = hd_xstrdup(owner);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    *out = c;
    return HD_OK;
}

hd_status committer_start(committer *c, void (*wake)(void *ctx), void *wake_ctx, hd_error *err)
{
    c->wake = wake;
    c->wake_ctx = wake_ctx;
    int rc = pthread_create(&c->thread, NULL, committer_thread, c);
    if (rc != 0)
        return hd_error_set(err, HD_INTERNAL, "cannot start the committer thread: %s",
                            strerror(rc));
    c->started = true;
    return HD_OK;
}

void committer_submit(committer *c, commit_job *job)
{
    c->busy = true;
    c->unrecorded = job->nouts;
    pthread_mutex_lock(&c->lock);
    c->job = *job;
    c->done = false;
    c->ready = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    memset(job, 0, sizeof *job);
}

bool committer_busy(const committer *c)
{
    return c->busy;
}

int committer_unrecorded(const committer *c)
{
    return c->busy ? c->unrecorded : 0;
}

bool committer_collect(committer *c, bool wait, commit_job *out)
{
    if (!c->busy)
        return false;
    pthread_mutex_lock(&c->lock);
    while (wait && !c->done)
        pthread_cond_wait(&c->cond, &c->lock);
    bool done = c->done;
    if (done) {
        *out = c->job;
        memset(&c->job, 0, sizeof c->job);
        c->done = false;
    }
    pthread_mutex_unlock(&c->lock);
    if (!done)
        return false;
    c->busy = false;
    c->unrecorded = 0;
    free(out->held);
    out->held = NULL;
    out->nheld = 0;
    out->claim.held = NULL;
    out->claim.nheld = 0;
    return true;
}

void committer_stop(committer *c)
{
    if (!c || !c->started)
        return;
    pthread_mutex_lock(&c->lock);
    c->quit = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    c->started = false;
}

void committer_close(committer *c)
{
    if (!c)
        return;
    committer_stop(c);
    store_close(c->st);
    free(c->owner);
    /* Every stop path collects the job under way; a result never collected
     * would leave only these. */
    free(c->job.held);
    free(c->job.events);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    free(c);
}
