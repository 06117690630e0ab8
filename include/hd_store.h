/* hd_store.h - the store: where sites, messages and attempts are kept.
 *
 * This header is the whole interface of a store backend.  Callers (the
 * engine, the CLI, the console) see an opaque `store *` and the functions
 * below, nothing else, whichever backend holds the data: SQLite (a file;
 * src/store_*.c) or PostgreSQL (a server, workers on several hosts: SPEC
 * §7; src/pg_*.c).  store_open picks the backend by the database's name
 * (src/store.c); src/store_backend.h lists what each implements.  Nothing
 * here exposes a backend's types; every SQL statement of hookdesk lives in
 * those files.
 *
 * The domain types it stores (message, msg_status, attempt) are in
 * hd_message.h; site in hd_site.h; a site's circuit in hd_breaker.h.
 *
 * What every backend guarantees:
 * - A store handle is one connection and must be used by one thread at a
 *   time: the console's UI thread and the delivery engine each open their own.
 * - Writes: a function that writes runs in its own transaction (taking the
 *   write lock up front: BEGIN IMMEDIATE in SQLite; row locks in
 *   PostgreSQL, where writers run side by side), unless the caller
 *   opened one with store_tx_begin, in which case it joins it (the engine
 *   batches one tick's state changes into one transaction).
 * - Paging is keyset paging over message ids (newest first); no query loads a
 *   whole table.  Times are epoch milliseconds (UTC).
 * - Claims hand a message to one owner at a time, under a lease that expires
 *   (SPEC §1: at least once, nothing lost).
 *
 * The functions are grouped as a backend would implement them: connection,
 * transactions, sites, messages (reading, counters, operator actions) and
 * the delivery engine's claims and outcomes.
 */
#ifndef HD_STORE_H
#define HD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hd_breaker.h"
#include "hd_error.h"
#include "hd_message.h"
#include "hd_site.h"

/* ---- connection ---- */

typedef struct store store;

/* How to open.  The SQLite backend's knobs (synchronous_full, cache_kib,
 * no_reference_checks) are hints another backend may ignore. */
typedef struct store_options {
    bool synchronous_full;   /* PRAGMA synchronous=FULL, else NORMAL */
    int busy_timeout_ms;     /* default 5000 when 0 */
    bool read_only;          /* open without creating or migrating */
    int cache_kib;           /* page cache limit in KiB; 0 = 64 MiB (bulk writers);
                                the console asks for little: it reads one page of rows */
    bool no_reference_checks; /* foreign keys not enforced (nor cascaded) on this
                                connection: for the engine's committer only, whose
                                writes (store_record_outcomes, store_claim) keep the
                                references by construction; checking them again
                                costs a statement journal per attempt.
                                store_purge_chunk refuses to run on it. */
} store_options;

/* Process-wide backend settings (SQLite's); call once, first thing, before
 * any store is opened (main does).  Without it everything works, a little
 * slower. */
void store_global_init(void);

/* Opens (creating with mode 0600 when missing) and migrates to the current
 * schema version. */
hd_status store_open(const char *path, const store_options *opt, store **out, hd_error *err);
void store_close(store *st);
int store_schema_version(store *st);
/* The database's name as people may see it (messages, logs): a file's
 * path as given; a PostgreSQL connection string as
 * postgresql://user@host:port/db, without its password.  Free it. */
char *store_display_name(const char *database);

/* A number that changes whenever any connection (this or another process)
 * commits a change; compare with the last value to know when to re-query.
 * Another connection's commit shows at once on SQLite, and as soon as its
 * notification arrives (milliseconds) on PostgreSQL.  Never blocks. */
uint64_t store_change_counter(store *st);

/* Watching for other processes' commits: a descriptor that becomes
 * readable when some process, on any host, may have committed a change.
 * SQLite: inotify on the database's directory (hd_wakeup.h: one host
 * only); PostgreSQL: a connection of its own that LISTENs to the NOTIFY
 * every write transaction sends.  A hint, never the truth (callers
 * re-query); NULL (an error) means "poll instead".  One thread at a time. */
typedef struct store_watch store_watch;
hd_status store_watch_open(const char *database, store_watch **out, hd_error *err);
int store_watch_fd(const store_watch *w);      /* -1 for NULL */
bool store_watch_changed(store_watch *w);      /* drains; never blocks */
void store_watch_close(store_watch *w);

/* ---- transactions ---- */

hd_status store_tx_begin(store *st, hd_error *err);     /* BEGIN IMMEDIATE */
hd_status store_tx_commit(store *st, hd_error *err);
void store_tx_rollback(store *st);

/* ---- trusted sites ---- */

hd_status store_site_add(store *st, const site *s, int64_t *id_out, hd_error *err);  /* validates */
hd_status store_site_update(store *st, const site *s, hd_error *err);               /* by s->id; validates */
/* The same, only if the row is still the version the caller read
 * (expected: its updated_at, which every edit and pause/resume moves
 * forward and circuit changes do not): HD_CHANGED, nothing written, when
 * another process or console changed the site since.  An editor that read
 * a site, let the operator change it, then saves uses this, so that it
 * never silently undoes a change it did not see. */
hd_status store_site_update_if(store *st, const site *s, int64_t expected, hd_error *err);
/* Deleting a site fails its pending messages ("site deleted"); its history stays. */
hd_status store_site_delete(store *st, int64_t id, hd_error *err);
hd_status store_site_set_enabled(store *st, int64_t id, bool enabled, hd_error *err);
hd_status store_site_get(store *st, int64_t id, site *out, hd_error *err);
hd_status store_site_get_by_name(store *st, const char *name, site *out, hd_error *err);
/* Seeds sites into a database that has none; *added says how many. */
hd_status store_seed_sites(store *st, const site *sites, int n, int *added, hd_error *err);

typedef struct site_stats {
    site s;
    circuit circuit;         /* the site's circuit breaker as stored */
    int64_t pending;         /* Queued + Resent messages */
    int recent_total;        /* attempts among the last 100 */
    int recent_ok;           /* of which 2xx */
} site_stats;

typedef struct site_stats_list {
    site_stats *items;
    int count;
} site_stats_list;

/* All sites ordered by name (sites are few: hundreds, not millions).  Its
 * cost does not grow with the messages: pending is a counter the store
 * keeps per site as messages come and go (site_pending), recent reads each
 * site's last 100 attempts. */
hd_status store_sites_list(store *st, site_stats_list *out, hd_error *err);
/* The same without the counts (pending, recent): the sites and their
 * circuits only, one read of the sites table whatever the backlog. */
hd_status store_sites_states(store *st, site_stats_list *out, hd_error *err);
void site_stats_list_free(site_stats_list *l);

/* ---- messages ---- */

/* Filters for the Logs/Queue screens and the CLI.  Zero/NULL = no condition. */
typedef struct msg_filter {
    unsigned status_mask;    /* MSG_STATUS_BIT()s; 0 = any */
    int64_t site_id;         /* 0 = any */
    const char *customer;    /* exact match */
    const char *action_text; /* case-insensitive substring of the action */
    const char *action;      /* exact action name */
    bool unresent;           /* only messages no resend was made of yet */
    int64_t since_ms;        /* created_at >= since */
    int64_t until_ms;        /* created_at < until */
} msg_filter;

/* Where a page starts (keyset paging; pages are always returned newest first). */
typedef enum page_dir {
    PAGE_FIRST,              /* the newest `limit` rows */
    PAGE_LAST,               /* the oldest `limit` rows */
    PAGE_OLDER,              /* the `limit` rows just older than anchor_id */
    PAGE_NEWER,              /* the `limit` rows just newer than anchor_id */
    PAGE_AT                  /* rows from anchor_id (inclusive) going older */
} page_dir;

typedef struct new_message {
    int64_t site_id;
    const char *action;
    const char *customer;    /* may be NULL */
    const char *path;        /* may be NULL; must start with '/' */
    const char *payload;     /* valid JSON text (the caller checks) */
    int64_t resend_of;       /* 0 = new */
} new_message;

hd_status store_message_add(store *st, const new_message *m, int64_t *id_out, hd_error *err);
hd_status store_message_get(store *st, int64_t id, message *out, hd_error *err);
/* The id of the message with this webhook id (what a receiver reports,
 * "msg_..."): an index seek on the time inside it.  HD_NOT_FOUND when no
 * message has it (purged, or not ours); HD_INVALID when it is not one. */
hd_status store_message_find_webhook_id(store *st, const char *webhook_id, int64_t *id,
                                        hd_error *err);
/* A page of messages; each row's resent_as says whether (and as which
 * message) it was resent. */
hd_status store_messages_page(store *st, const msg_filter *f, page_dir dir, int64_t anchor_id,
                              int limit, message_list *out, hd_error *err);
hd_status store_messages_count(store *st, const msg_filter *f, int64_t *count, hd_error *err);
/* How many messages match f with an id above newer_than (0: all of them),
 * looking at no more than `cap` of them (0 = no limit): *more says the
 * count stopped at the cap (*count is then cap).  A filter on statuses only
 * with newer_than 0 is answered exactly by the live counters.  Bounded work
 * whatever the database holds: the console's "row 71 of 20,000" (the rows
 * newer than the first one shown, and the total) on every refresh. */
hd_status store_messages_count_upto(store *st, const msg_filter *f, int64_t newer_than,
                                    int64_t cap, int64_t *count, bool *more, hd_error *err);
hd_status store_attempts_list(store *st, int64_t message_id, attempt_list *out, hd_error *err);
/* The messages made as resends of message id (`resend`, `r`, `R`), oldest
 * first: up to max ids in ids[], *n of them (the detail's "Resent as"). */
hd_status store_message_resends(store *st, int64_t id, int64_t *ids, int max, int *n,
                                hd_error *err);

/* ---- search (the Logs' `/`, `logs --search`) ----
 *
 * A message matches a search text when every word of the text begins a
 * word of its action, its customer or its payload (the first
 * STORE_SEARCH_PAYLOAD_CHARS characters): "order" finds order.created,
 * "cus_0" finds cus_001 (words: runs of letters and digits; ASCII case
 * ignored; a one-character word only finds itself; src/store_search_text.h
 * says exactly).  Whole words and their
 * prefixes rather than any substring: an index of words is a third of the
 * data's size, one of substrings (trigrams) as large as the data, and
 * people search for names, ids and amounts.
 *
 * The index is kept off the delivery path: adding a message and the
 * engine's claims and outcomes never touch it.  store_search_index_step
 * adds the next messages to it, each batch in a short transaction of its
 * own, from idle moments (an idle engine, the console); a search reads
 * the index for the messages up to its watermark and scans the newest
 * STORE_SEARCH_TAIL_MAX messages above it, so a message is found the
 * moment it is added.  Only while the index is far behind (a large
 * database after the upgrade that added it) is a middle part not searched
 * yet: store_search_progress says so.  Purged messages leave the index
 * with their rows. */
#define STORE_SEARCH_PAYLOAD_CHARS 65536
#define STORE_SEARCH_TAIL_MAX 2000

/* Indexes up to max_rows messages more (its own transaction; none when
 * caught up, and then no write at all): *indexed says how many (may be
 * NULL).  HD_BUSY when another process holds the write lock: try later. */
hd_status store_search_index_step(store *st, int max_rows, int64_t *indexed, hd_error *err);
/* The highest message id the index covers and the newest id: a search
 * misses nothing when newest - indexed_upto is within the scanned tail
 * (*complete). */
hd_status store_search_progress(store *st, int64_t *indexed_upto, int64_t *newest,
                                bool *complete, hd_error *err);
/* The nearest message matching the search text and the filter, from
 * from_id (excluded) towards older ids (older) or newer ones: one indexed
 * query.  *id = 0 when there is none.  HD_INVALID (field "search") when
 * the text has no word to look for. */
hd_status store_search_next(store *st, const msg_filter *f, const char *text, int64_t from_id,
                            bool older, int64_t *id, hd_error *err);
/* Caps the work of each search query on this connection (SQLite virtual-
 * machine steps; 0: no cap, the default).  A query that reaches it stops
 * with HD_BUSY (field "search"): a common word under a filter that keeps
 * few of its matches walks them all, seconds at a million messages, and
 * a console's key must not wait for that.  PostgreSQL: no cap yet. */
void store_set_search_budget(store *st, int64_t steps);
/* How many messages newer than newer_than (0: all) match text and f,
 * looking at no more than cap + 1 matches: *more says the count stopped
 * at cap (the console's "match 3 of 17"). */
hd_status store_search_count(store *st, const msg_filter *f, const char *text,
                             int64_t newer_than, int64_t cap, int64_t *count, bool *more,
                             hd_error *err);

/* ---- counters ---- */

/* Live counters per status (kept as messages change: O(1)). */
hd_status store_status_counts(store *st, int64_t counts[MSG_STATUS_COUNT], hd_error *err);
/* Attempts recorded in each of nbuckets buckets of bucket_ms ending at now_ms
 * (oldest first), for the sparkline.  Read from per-second counters that the
 * engines keep as they record attempts (never by counting attempts), so the
 * cost is nbuckets x bucket_ms / 1 s rows whatever the history holds. */
hd_status store_attempt_histogram(store *st, int64_t now_ms, int64_t bucket_ms, int nbuckets,
                                  uint32_t *out, hd_error *err);

/* ---- operator actions ---- */

/* Resends are refused for a payload over max_payload bytes (the current
 * delivery.max_payload; 0 = no limit): HD_INVALID, field "payload". */
hd_status store_message_resend(store *st, int64_t id, uint64_t max_payload, int64_t *new_id,
                               hd_error *err);
/* Resends every Failed message matching f that was not resent before
 * (status_mask is forced to Failed, unresent to true), so pressing it twice
 * does not deliver the same messages twice.  Those whose payload is over
 * max_payload are left alone: *skipped (may be NULL) says how many. */
hd_status store_messages_resend_failed(store *st, const msg_filter *f, uint64_t max_payload,
                                       int64_t *resent, int64_t *skipped, hd_error *err);
hd_status store_message_send_now(store *st, int64_t id, hd_error *err);   /* pending, not in flight */
hd_status store_message_cancel(store *st, int64_t id, hd_error *err);     /* -> Failed "cancelled by operator" */

/* Deletes up to `chunk` finished messages created before before_ms, with their
 * attempts; *deleted = messages removed (0 = nothing left to purge). */
hd_status store_purge_chunk(store *st, int64_t before_ms, int chunk, int64_t *deleted, hd_error *err);

/* ---- delivery engine ---- */

/* How many messages of one site an engine holds now (sending, waiting for
 * a token, or claimed ahead). */
typedef struct site_hold {
    int64_t site_id;
    int held;
} site_hold;

/* A fair claim (SPEC §1 Isolation). */
typedef struct claim_request {
    const char *owner;           /* the lease owner */
    int64_t now_ms;
    int64_t lease_extra_ms;      /* lease = now + site timeout + this */
    int limit;                   /* messages in all */
    int concurrency;             /* the engine's slots: a site's default max_in_flight
                                    is half of it (site_max_in_flight) */
    int depth;                   /* a site may hold depth x its max_in_flight (sending
                                    + claimed ahead); 0 = no per-site cap */
    const site_hold *held;       /* what the caller holds now, per site */
    int nheld;
    unsigned rotation;           /* where the round-robin over sites starts; the
                                    caller advances it between claims */
    const breaker_policy *breaker; /* NULL (or failures 0): circuits are not looked at */
    int64_t max_bytes;           /* payload bytes this claim may hand out (> 0): what
                                    goes beyond is given back at once (at least one
                                    message and every probe are kept); 0 = no limit */
} claim_request;

/* Claims due messages of enabled sites whose circuit allows it: round-robin
 * across the sites that have due work (each gets an equal share of `limit`,
 * what one cannot use goes to the others), oldest due first within a site,
 * never beyond the site's cap.  A site whose circuit is open and whose
 * cool-down has passed gives exactly one message, marked probe, and its
 * circuit becomes probing.  Each message's lease is owner until now + its
 * site's timeout + lease_extra_ms.  Returns them interleaved by site. */
hd_status store_claim_fair(store *st, const claim_request *rq, message_list *out,
                           hd_error *err);
/* The simple form: claims up to `limit` due messages, no per-site cap,
 * circuits not looked at (tools, tests). */
hd_status store_claim(store *st, const char *owner, int64_t now_ms, int64_t lease_extra_ms,
                      int limit, message_list *out, hd_error *err);

/* The outcome of one attempt, as the engine hands it to the store. */
typedef struct attempt_outcome {
    attempt a;               /* the attempt row to insert (a.number, times, code, texts) */
    msg_status old_status;   /* what it was when claimed (Queued or Resent) */
    msg_status new_status;   /* what the message becomes */
    int64_t next_due_at;     /* when pending: time of the next attempt */
    int64_t retry_after_ms;  /* the Retry-After the answer asked for (0 = none) */
    attempt_verdict verdict; /* how it counts for the site's circuit breaker */
    bool probe;              /* the message was claimed as the circuit probe */
} attempt_outcome;

/* A circuit that opened, closed, or opened again after a failed probe while
 * outcomes were recorded (for the engine's log). */
typedef struct circuit_event {
    int64_t site_id;
    char site_name[72];
    circuit after;           /* the state it is in now */
} circuit_event;

/* The breaker policy record_outcomes and claims apply on this connection
 * (breaker off until set). */
void store_set_breaker(store *st, const breaker_policy *p);

/* Records outcomes (inserts attempts, updates messages, clears leases, and
 * updates each site's circuit with store_set_breaker's policy).  A message
 * whose lease was taken over by another owner still gets its attempt
 * recorded, but its status is left to the new owner. */
hd_status store_record_outcomes(store *st, const char *owner, const attempt_outcome *o, int n,
                                hd_error *err);
/* The circuit events of the last committed transaction on this connection
 * (store_tx_commit): moved to *out (free with free()), *n of them.  A
 * transaction rolled back leaves none. */
void store_take_circuit_events(store *st, circuit_event **out, int *n);
/* The effective timeout of sites whose timeout_ms is 0 (delivery.timeout),
 * used to compute lease expiry in store_claim.  10 s until set. */
void store_set_default_timeout(store *st, int64_t timeout_ms);
/* Gives back every lease of owner.  It walks the pending messages (a paused
 * site's backlog included): the engine releases what it holds by id with
 * store_release_messages instead. */
hd_status store_release_leases(store *st, const char *owner, int64_t now_ms, hd_error *err);
/* Gives back the leases of these messages only (claimed, never started). */
hd_status store_release_messages(store *st, const char *owner, const int64_t *ids, int n,
                                 int64_t now_ms, hd_error *err);
/* When the next claim can find something: the earliest due_at of a pending
 * message of an enabled site, or the next probe time of a site whose
 * circuit is open (store_set_breaker); 0 when nothing is pending.  One index
 * seek per enabled site: a paused site's backlog costs nothing. */
hd_status store_next_due(store *st, int64_t *due_ms, hd_error *err);
/* Pending messages of enabled sites (for `serve --drain`). */
hd_status store_pending_count(store *st, int64_t *count, hd_error *err);

/* ---- engines' heartbeats ---- */

/* One engine as its heartbeat row says (SPEC §7: workers on any host).  An
 * engine writes it every ENGINE_BEAT_MS; one not seen for ENGINE_ALIVE_MS
 * is taken for dead (killed, its host gone). */
#define ENGINE_BEAT_MS 5000
#define ENGINE_ALIVE_MS 15000

typedef struct engine_beat {
    char *owner;             /* its lease owner, host:pid:random */
    char *host;
    int64_t pid;
    char *role;              /* "serve" or "console" */
    int64_t started_at;
    int64_t seen_at;         /* its last heartbeat */
    int64_t attempts;        /* attempts it has recorded since it started */
    int in_flight;           /* transfers it had under way then */
} engine_beat;

typedef struct engine_beat_list {
    engine_beat *items;
    int count;
} engine_beat_list;

/* Writes (or refreshes) this engine's row; rows not seen for an hour (a
 * crashed engine's) go at the same time. */
hd_status store_engine_beat(store *st, const engine_beat *b, hd_error *err);
/* Removes this engine's row (a clean stop). */
hd_status store_engine_gone(store *st, const char *owner, hd_error *err);
/* The engines seen since since_ms, oldest first. */
hd_status store_engines_alive(store *st, int64_t since_ms, engine_beat_list *out, hd_error *err);
void engine_beat_list_free(engine_beat_list *l);

/* ---- copying a database to PostgreSQL (hookdesk migrate) ---- */

/* The tables store_migrate copies, in the order it copies them. */
#define STORE_MIGRATE_TABLES 6

typedef struct store_migrate_count {
    const char *table;       /* "sites", "messages", "payloads", "attempts",
                                "actions", "attempt_seconds" */
    int64_t source;          /* rows in the source (its snapshot) */
    int64_t target;          /* rows in the target after the copy */
} store_migrate_count;

typedef struct store_migrate_report {
    char target[256];        /* the target's name, any password masked */
    store_migrate_count tables[STORE_MIGRATE_TABLES];
    int64_t status_counts[MSG_STATUS_COUNT]; /* the target's counters after the copy
                                                (checked against its messages) */
    int64_t repaired;        /* text values that were not valid UTF-8 (or held a
                                NUL byte), which PostgreSQL cannot store: their
                                bad bytes were copied as U+FFFD */
    bool counts_by_trigger;  /* the target's status counters were kept row by row
                                (its tables belong to another role, so their
                                trigger could not be paused): slower, same result */
} store_migrate_report;

/* Progress of a copy: rows of table copied so far, of total. */
typedef void (*store_migrate_progress)(void *arg, const char *table, int64_t done, int64_t total);

/* Copies the SQLite database `from` into the PostgreSQL database `to`:
 * every site (with its secrets), message, payload, attempt, action name
 * and per-second attempt counter, keeping ids; the target's identities go
 * on after the largest id copied and its status counters match its
 * messages.  The target's schema is created (or migrated) first; the
 * target must hold no site and no message (else HD_EXISTS, nothing
 * changed).  The copy is one transaction on the target: all or nothing.
 * It reads one snapshot of the source (a consistent copy even while
 * another process writes to it; what is written after is not copied), row
 * by row, and checks the row count of every table on both sides before it
 * commits.  HD_USAGE when from is not a SQLite file name or to is not a
 * PostgreSQL one.  progress (may be NULL) is called as tables go. */
hd_status store_migrate(const char *from, const char *to, store_migrate_progress progress,
                        void *progress_arg, store_migrate_report *out, hd_error *err);

#endif
