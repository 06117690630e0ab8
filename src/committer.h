/* committer.h - internal: the delivery engine's committer, a second thread
 * with its own store connection that runs the engine's transactions (record
 * finished attempts, claim due messages), so the curl thread goes on sending
 * while SQLite writes and fsyncs.  src/ only.
 *
 * Threads: committer_open/_start/_stop/_close and the job functions
 * (committer_submit, _busy, _unrecorded, _collect) are called by one
 * thread, the engine's curl thread (open and close may run before it
 * starts and after it ends).  The committer thread touches only its own
 * connection and the job handed over. */
#ifndef HD_COMMITTER_H
#define HD_COMMITTER_H

#include <stdbool.h>

#include "hd_error.h"
#include "hd_store.h"

/* A finished attempt waiting to be recorded. */
typedef struct pending_out {
    attempt_outcome o;       /* what store_record_outcomes takes */
    char *site_name;         /* for its event (moved from the message); NULL when
                                nobody listens to events */
} pending_out;

/* One transaction's work and its result. */
typedef struct commit_job {
    /* Handed over: owned by the committer from committer_submit until
     * committer_collect gives it back. */
    pending_out *outs;       /* to record (malloc'd array) */
    int nouts;
    claim_request claim;     /* claim.limit 0: claim nothing; claim.held and now_ms
                                are set when the transaction runs */
    site_hold *held;         /* what the caller holds per site (malloc'd, becomes
                                claim.held; freed by committer_collect) */
    int nheld;
    /* The result, set by committer_collect. */
    hd_status rc;            /* HD_OK: outs recorded, claimed claimed; else rolled
                                back (nothing recorded, nothing claimed) */
    hd_error err;            /* why, when rc != HD_OK */
    message_list claimed;    /* leased to the claim's owner */
    circuit_event *events;   /* circuits the commit opened or closed (malloc'd) */
    int nevents;
} commit_job;

typedef struct committer committer;

/* Opens the committer's connection (so: as the engine's own, default
 * timeout and breaker policy as store_set_default_timeout/_breaker take
 * them; breaker must outlive the committer).  owner: the lease owner the
 * outcomes are recorded for (copied). */
hd_status committer_open(const char *database, const store_options *so, int64_t default_timeout_ms,
                         const breaker_policy *breaker, const char *owner, committer **out,
                         hd_error *err);
/* Starts the thread (it inherits the caller's signal mask and nice value).
 * wake(wake_ctx) is called from the committer thread, without its lock
 * held, whenever a job is done. */
hd_status committer_start(committer *c, void (*wake)(void *ctx), void *wake_ctx, hd_error *err);
/* Hands a job over (moved: *job is emptied).  No job may be under way. */
void committer_submit(committer *c, commit_job *job);
/* A job is handed over and not yet collected. */
bool committer_busy(const committer *c);
/* Finished attempts in the job under way (0 when none). */
int committer_unrecorded(const committer *c);
/* Takes the job's result back into *out (its outs and claimed are the
 * caller's again).  With wait, blocks until the job is done.  False when no
 * job is done, or none was handed over. */
bool committer_collect(committer *c, bool wait, commit_job *out);
/* Ends the thread (no job may be under way) and waits for it. */
void committer_stop(committer *c);
/* Closes the connection and frees c (stopped first when started). */
void committer_close(committer *c);

/* The transaction itself, on any connection: BEGIN IMMEDIATE, record outs,
 * claim (when claim && claim->limit > 0; claim->now_ms is set), COMMIT.  On
 * failure it rolls back (nothing recorded, *claimed empty) and err says
 * why.  The stop paths run it on the curl thread's connection. */
hd_status commit_tx(store *st, const char *owner, const pending_out *outs, int nouts,
                    claim_request *claim, message_list *claimed, hd_error *err);

#endif
