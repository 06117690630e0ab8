/* store_backend.h - the two backends behind include/hd_store.h.
 *
 * A store handle is one connection of one backend: SQLite (a file;
 * src/store_*.c, internals in store_internal.h) or PostgreSQL (a server;
 * src/pg_*.c, internals in pg_internal.h).  src/store.c picks the backend
 * when a store is opened (by the database name) and forwards every call of
 * hd_store.h to it; each backend implements the same functions, with the
 * same contracts (hd_store.h), under its own prefix: sq_ and pg_.
 * Nothing outside the store's files includes this header.
 */
#ifndef HD_STORE_BACKEND_H
#define HD_STORE_BACKEND_H

#include "hd_store.h"

typedef struct sq_store sq_store;
typedef struct pg_store pg_store;

/* Exactly one of the two is set. */
struct store {
    sq_store *sq;
    pg_store *pg;
    bool search_caught_up;   /* the last index step found nothing to do ... */
    uint64_t search_cc;      /* ... at this change counter: until it moves,
                                a step costs no query (idle engines, consoles) */
    uint64_t cc_hidden;      /* this connection's own index steps' commits, taken
                                out of store_change_counter: they change nothing
                                a screen shows */
};

/* True when a database name selects PostgreSQL: a postgresql:// or
 * postgres:// URI, or a libpq keyword string ("host=... dbname=..."). */
bool store_name_is_postgres(const char *name);

/* ---- SQLite (src/store_*.c) ---- */

void sq_global_init(void);
void sq_set_search_budget(sq_store *st, int64_t steps);
hd_status sq_open(const char *path, const store_options *opt, sq_store **out, hd_error *err);
void sq_close(sq_store *st);
int sq_schema_version(sq_store *st);
uint64_t sq_change_counter(sq_store *st);
hd_status sq_tx_begin(sq_store *st, hd_error *err);
hd_status sq_tx_commit(sq_store *st, hd_error *err);
void sq_tx_rollback(sq_store *st);
hd_status sq_site_add(sq_store *st, const site *s, int64_t *id_out, hd_error *err);
/* expected 0 = no version check (store_site_update) */
hd_status sq_site_update_if(sq_store *st, const site *s, int64_t expected, hd_error *err);
hd_status sq_site_delete(sq_store *st, int64_t id, hd_error *err);
hd_status sq_site_set_enabled(sq_store *st, int64_t id, bool enabled, hd_error *err);
hd_status sq_site_get(sq_store *st, int64_t id, site *out, hd_error *err);
hd_status sq_site_get_by_name(sq_store *st, const char *name, site *out, hd_error *err);
hd_status sq_seed_sites(sq_store *st, const site *sites, int n, int *added, hd_error *err);
hd_status sq_sites_list(sq_store *st, site_stats_list *out, hd_error *err);
hd_status sq_sites_states(sq_store *st, site_stats_list *out, hd_error *err);
hd_status sq_message_add(sq_store *st, const new_message *m, int64_t *id_out, hd_error *err);
hd_status sq_message_get(sq_store *st, int64_t id, message *out, hd_error *err);
hd_status sq_message_find_webhook_id(sq_store *st, const char *webhook_id, int64_t *id, hd_error *err);
hd_status sq_messages_page(sq_store *st, const msg_filter *f, page_dir dir, int64_t anchor_id, int limit, message_list *out, hd_error *err);
hd_status sq_messages_count(sq_store *st, const msg_filter *f, int64_t *count, hd_error *err);
hd_status sq_messages_count_upto(sq_store *st, const msg_filter *f, int64_t newer_than, int64_t cap, int64_t *count, bool *more, hd_error *err);
hd_status sq_attempts_list(sq_store *st, int64_t message_id, attempt_list *out, hd_error *err);
hd_status sq_message_resends(sq_store *st, int64_t id, int64_t *ids, int max, int *n, hd_error *err);
hd_status sq_status_counts(sq_store *st, int64_t counts[MSG_STATUS_COUNT], hd_error *err);
hd_status sq_attempt_histogram(sq_store *st, int64_t now_ms, int64_t bucket_ms, int nbuckets, uint32_t *out, hd_error *err);
hd_status sq_message_resend(sq_store *st, int64_t id, uint64_t max_payload, int64_t *new_id, hd_error *err);
hd_status sq_messages_resend_failed(sq_store *st, const msg_filter *f, uint64_t max_payload, int64_t *resent, int64_t *skipped, hd_error *err);
hd_status sq_message_send_now(sq_store *st, int64_t id, hd_error *err);
hd_status sq_message_cancel(sq_store *st, int64_t id, hd_error *err);
hd_status sq_purge_chunk(sq_store *st, int64_t before_ms, int chunk, int64_t *deleted, hd_error *err);
hd_status sq_claim_fair(sq_store *st, const claim_request *rq, message_list *out, hd_error *err);
hd_status sq_claim(sq_store *st, const char *owner, int64_t now_ms, int64_t lease_extra_ms, int limit, message_list *out, hd_error *err);
void sq_set_breaker(sq_store *st, const breaker_policy *p);
hd_status sq_record_outcomes(sq_store *st, const char *owner, const attempt_outcome *o, int n, hd_error *err);
void sq_take_circuit_events(sq_store *st, circuit_event **out, int *n);
void sq_set_default_timeout(sq_store *st, int64_t timeout_ms);
hd_status sq_release_leases(sq_store *st, const char *owner, int64_t now_ms, hd_error *err);
hd_status sq_release_messages(sq_store *st, const char *owner, const int64_t *ids, int n, int64_t now_ms, hd_error *err);
hd_status sq_next_due(sq_store *st, int64_t *due_ms, hd_error *err);
hd_status sq_pending_count(sq_store *st, int64_t *count, hd_error *err);
hd_status sq_engine_beat(sq_store *st, const engine_beat *b, hd_error *err);
hd_status sq_engine_gone(sq_store *st, const char *owner, hd_error *err);
hd_status sq_engines_alive(sq_store *st, int64_t since_ms, engine_beat_list *out, hd_error *err);
/* store_search.c; *caught_up: nothing was left to index */
hd_status sq_search_index_step(sq_store *st, int max_rows, int64_t *indexed, bool *caught_up, hd_error *err);
hd_status sq_search_progress(sq_store *st, int64_t *indexed_upto, int64_t *newest, bool *complete, hd_error *err);
hd_status sq_search_next(sq_store *st, const msg_filter *f, const char *text, int64_t from_id, bool older, int64_t *id, hd_error *err);
hd_status sq_search_debug_indexed(sq_store *st, const char *word, int64_t *n, hd_error *err);
hd_status sq_search_count(sq_store *st, const msg_filter *f, const char *text, int64_t newer_than, int64_t cap, int64_t *count, bool *more, hd_error *err);

/* ---- PostgreSQL (src/pg_*.c) ---- */

hd_status pg_open(const char *conninfo, const store_options *opt, pg_store **out, hd_error *err);
/* "postgresql://user@host:port/db" for any conninfo, never its password. */
char *pg_display_name(const char *conninfo);
/* A LISTEN connection of its own (pg_watch.c). */
typedef struct pg_watch pg_watch;
hd_status pg_watch_open(const char *conninfo, pg_watch **out, hd_error *err);
int pg_watch_fd(const pg_watch *w);
bool pg_watch_changed(pg_watch *w);
void pg_watch_close(pg_watch *w);
void pg_close(pg_store *st);
int pg_schema_version(pg_store *st);
uint64_t pg_change_counter(pg_store *st);
hd_status pg_tx_begin(pg_store *st, hd_error *err);
hd_status pg_tx_commit(pg_store *st, hd_error *err);
void pg_tx_rollback(pg_store *st);
hd_status pg_site_add(pg_store *st, const site *s, int64_t *id_out, hd_error *err);
hd_status pg_site_update_if(pg_store *st, const site *s, int64_t expected, hd_error *err);
hd_status pg_site_delete(pg_store *st, int64_t id, hd_error *err);
hd_status pg_site_set_enabled(pg_store *st, int64_t id, bool enabled, hd_error *err);
hd_status pg_site_get(pg_store *st, int64_t id, site *out, hd_error *err);
hd_status pg_site_get_by_name(pg_store *st, const char *name, site *out, hd_error *err);
hd_status pg_seed_sites(pg_store *st, const site *sites, int n, int *added, hd_error *err);
hd_status pg_sites_list(pg_store *st, site_stats_list *out, hd_error *err);
hd_status pg_sites_states(pg_store *st, site_stats_list *out, hd_error *err);
hd_status pg_message_add(pg_store *st, const new_message *m, int64_t *id_out, hd_error *err);
hd_status pg_message_get(pg_store *st, int64_t id, message *out, hd_error *err);
hd_status pg_message_find_webhook_id(pg_store *st, const char *webhook_id, int64_t *id, hd_error *err);
hd_status pg_messages_page(pg_store *st, const msg_filter *f, page_dir dir, int64_t anchor_id, int limit, message_list *out, hd_error *err);
hd_status pg_messages_count_upto(pg_store *st, const msg_filter *f, int64_t newer_than, int64_t cap, int64_t *count, bool *more, hd_error *err);
hd_status pg_message_resends(pg_store *st, int64_t id, int64_t *ids, int max, int *n, hd_error *err);
hd_status pg_messages_count(pg_store *st, const msg_filter *f, int64_t *count, hd_error *err);
hd_status pg_attempts_list(pg_store *st, int64_t message_id, attempt_list *out, hd_error *err);
hd_status pg_status_counts(pg_store *st, int64_t counts[MSG_STATUS_COUNT], hd_error *err);
hd_status pg_attempt_histogram(pg_store *st, int64_t now_ms, int64_t bucket_ms, int nbuckets, uint32_t *out, hd_error *err);
hd_status pg_message_resend(pg_store *st, int64_t id, uint64_t max_payload, int64_t *new_id, hd_error *err);
hd_status pg_messages_resend_failed(pg_store *st, const msg_filter *f, uint64_t max_payload, int64_t *resent, int64_t *skipped, hd_error *err);
hd_status pg_message_send_now(pg_store *st, int64_t id, hd_error *err);
hd_status pg_message_cancel(pg_store *st, int64_t id, hd_error *err);
hd_status pg_purge_chunk(pg_store *st, int64_t before_ms, int chunk, int64_t *deleted, hd_error *err);
hd_status pg_claim_fair(pg_store *st, const claim_request *rq, message_list *out, hd_error *err);
hd_status pg_claim(pg_store *st, const char *owner, int64_t now_ms, int64_t lease_extra_ms, int limit, message_list *out, hd_error *err);
void pg_set_breaker(pg_store *st, const breaker_policy *p);
hd_status pg_record_outcomes(pg_store *st, const char *owner, const attempt_outcome *o, int n, hd_error *err);
void pg_take_circuit_events(pg_store *st, circuit_event **out, int *n);
void pg_set_default_timeout(pg_store *st, int64_t timeout_ms);
hd_status pg_release_leases(pg_store *st, const char *owner, int64_t now_ms, hd_error *err);
hd_status pg_release_messages(pg_store *st, const char *owner, const int64_t *ids, int n, int64_t now_ms, hd_error *err);
hd_status pg_next_due(pg_store *st, int64_t *due_ms, hd_error *err);
hd_status pg_pending_count(pg_store *st, int64_t *count, hd_error *err);
hd_status pg_engine_beat(pg_store *st, const engine_beat *b, hd_error *err);
hd_status pg_engine_gone(pg_store *st, const char *owner, hd_error *err);
hd_status pg_engines_alive(pg_store *st, int64_t since_ms, engine_beat_list *out, hd_error *err);
/* pg_search.c */
hd_status pg_search_index_step(pg_store *st, int max_rows, int64_t *indexed, bool *caught_up, hd_error *err);
hd_status pg_search_progress(pg_store *st, int64_t *indexed_upto, int64_t *newest, bool *complete, hd_error *err);
hd_status pg_search_next(pg_store *st, const msg_filter *f, const char *text, int64_t from_id, bool older, int64_t *id, hd_error *err);
hd_status pg_search_debug_indexed(pg_store *st, const char *word, int64_t *n, hd_error *err);
hd_status pg_search_count(pg_store *st, const msg_filter *f, const char *text, int64_t newer_than, int64_t cap, int64_t *count, bool *more, hd_error *err);

#endif
