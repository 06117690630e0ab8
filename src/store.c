/* store.c - the store's front door: picks the backend a database name
 * selects (store_backend.h) and forwards every call of hd_store.h to it. */
#include "store_backend.h"

#include "hd_util.h"
#include "hd_wakeup.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

bool store_name_is_postgres(const char *name)
{
    if (!name)
        return false;
    if (strncmp(name, "postgresql://", 13) == 0 || strncmp(name, "postgres://", 11) == 0)
        return true;
    /* A libpq keyword string: "key=value" pairs; a file name has no '=' in
     * its first word (a path with '=' in it is rare; ./a=b still works). */
    const char *eq = strchr(name, '=');
    if (!eq || name[0] == '/' || name[0] == '.')
        return false;
    for (const char *p = name; p < eq; p++)
        if (!isalpha((unsigned char)*p) && *p != '_')
            return false;
    return true;
}

/* ---- watching for commits ---- */

struct store_watch {
    db_watch *file;          /* SQLite: the database's directory */
    pg_watch *pg;            /* PostgreSQL: a LISTEN connection */
};

hd_status store_watch_open(const char *database, store_watch **out, hd_error *err)
{
    *out = NULL;
    store_watch *w = calloc(1, sizeof *w);
    if (!w)
        return hd_error_set(err, HD_NOMEM, "store watch: out of memory");
    hd_status rc = store_name_is_postgres(database) ? pg_watch_open(database, &w->pg, err)
                                                     : db_watch_open(database, &w->file, err);
    if (rc != HD_OK) {
        free(w);
        return rc;
    }
    *out = w;
    return HD_OK;
}

int store_watch_fd(const store_watch *w)
{
    if (!w)
        return -1;
    return w->pg ? pg_watch_fd(w->pg) : db_watch_fd(w->file);
}

bool store_watch_changed(store_watch *w)
{
    if (!w)
        return false;
    return w->pg ? pg_watch_changed(w->pg) : db_watch_changed(w->file);
}

void store_watch_close(store_watch *w)
{
    if (!w)
        return;
    pg_watch_close(w->pg);
    db_watch_close(w->file);
    free(w);
}

/* ---- connections ---- */

char *store_display_name(const char *database)
{
    return store_name_is_postgres(database) ? pg_display_name(database) : hd_xstrdup(database);
}

void store_global_init(void)
{
    sq_global_init();
}

hd_status store_open(const char *path, const store_options *opt, store **out, hd_error *err)
{
    *out = NULL;
    store *st = calloc(1, sizeof *st);
    if (!st)
        return hd_error_set(err, HD_NOMEM, "store: out of memory");
    hd_status rc = store_name_is_postgres(path) ? pg_open(path, opt, &st->pg, err)
                                                 : sq_open(path, opt, &st->sq, err);
    if (rc != HD_OK) {
        free(st);
        return rc;
    }
    *out = st;
    return HD_OK;
}

void store_close(store *st)
{
    if (!st)
        return;
    if (st->pg)
        pg_close(st->pg);
    else
        sq_close(st->sq);
    free(st);
}

int store_schema_version(store *st)
{
    return st->pg ? pg_schema_version(st->pg) : sq_schema_version(st->sq);
}

uint64_t store_change_counter(store *st)
{
    return (st->pg ? pg_change_counter(st->pg) : sq_change_counter(st->sq)) - st->cc_hidden;
}


hd_status store_tx_begin(store *st, hd_error *err)
{
    return st->pg ? pg_tx_begin(st->pg, err) : sq_tx_begin(st->sq, err);
}

hd_status store_tx_commit(store *st, hd_error *err)
{
    return st->pg ? pg_tx_commit(st->pg, err) : sq_tx_commit(st->sq, err);
}

void store_tx_rollback(store *st)
{
    if (st->pg)
        pg_tx_rollback(st->pg);
    else
        sq_tx_rollback(st->sq);
}

hd_status store_site_add(store *st, const site *s, int64_t *id_out, hd_error *err)
{
    return st->pg ? pg_site_add(st->pg, s, id_out, err) : sq_site_add(st->sq, s, id_out, err);
}

hd_status store_site_update(store *st, const site *s, hd_error *err)
{
    return store_site_update_if(st, s, 0, err);   /* 0: no version check */
}

hd_status store_site_update_if(store *st, const site *s, int64_t expected, hd_error *err)
{
    if (expected < 0)
        expected = 0;
    return st->pg ? pg_site_update_if(st->pg, s, expected, err) : sq_site_update_if(st->sq, s, expected, err);
}

hd_status store_site_delete(store *st, int64_t id, hd_error *err)
{
    return st->pg ? pg_site_delete(st->pg, id, err) : sq_site_delete(st->sq, id, err);
}

hd_status store_site_set_enabled(store *st, int64_t id, bool enabled, hd_error *err)
{
    return st->pg ? pg_site_set_enabled(st->pg, id, enabled, err) : sq_site_set_enabled(st->sq, id, enabled, err);
}

hd_status store_site_get(store *st, int64_t id, site *out, hd_error *err)
{
    return st->pg ? pg_site_get(st->pg, id, out, err) : sq_site_get(st->sq, id, out, err);
}

hd_status store_site_get_by_name(store *st, const char *name, site *out, hd_error *err)
{
    return st->pg ? pg_site_get_by_name(st->pg, name, out, err) : sq_site_get_by_name(st->sq, name, out, err);
}

hd_status store_seed_sites(store *st, const site *sites, int n, int *added, hd_error *err)
{
    return st->pg ? pg_seed_sites(st->pg, sites, n, added, err) : sq_seed_sites(st->sq, sites, n, added, err);
}

hd_status store_sites_list(store *st, site_stats_list *out, hd_error *err)
{
    return st->pg ? pg_sites_list(st->pg, out, err) : sq_sites_list(st->sq, out, err);
}

hd_status store_sites_states(store *st, site_stats_list *out, hd_error *err)
{
    return st->pg ? pg_sites_states(st->pg, out, err) : sq_sites_states(st->sq, out, err);
}

hd_status store_message_add(store *st, const new_message *m, int64_t *id_out, hd_error *err)
{
    return st->pg ? pg_message_add(st->pg, m, id_out, err) : sq_message_add(st->sq, m, id_out, err);
}

hd_status store_message_get(store *st, int64_t id, message *out, hd_error *err)
{
    return st->pg ? pg_message_get(st->pg, id, out, err) : sq_message_get(st->sq, id, out, err);
}

hd_status store_message_find_webhook_id(store *st, const char *webhook_id, int64_t *id, hd_error *err)
{
    return st->pg ? pg_message_find_webhook_id(st->pg, webhook_id, id, err) : sq_message_find_webhook_id(st->sq, webhook_id, id, err);
}

hd_status store_messages_page(store *st, const msg_filter *f, page_dir dir, int64_t anchor_id, int limit, message_list *out, hd_error *err)
{
    return st->pg ? pg_messages_page(st->pg, f, dir, anchor_id, limit, out, err) : sq_messages_page(st->sq, f, dir, anchor_id, limit, out, err);
}

hd_status store_messages_count(store *st, const msg_filter *f, int64_t *count, hd_error *err)
{
    return st->pg ? pg_messages_count(st->pg, f, count, err) : sq_messages_count(st->sq, f, count, err);
}

hd_status store_messages_count_upto(store *st, const msg_filter *f, int64_t newer_than,
                                    int64_t cap, int64_t *count, bool *more, hd_error *err)
{
    return st->pg ? pg_messages_count_upto(st->pg, f, newer_than, cap, count, more, err)
                  : sq_messages_count_upto(st->sq, f, newer_than, cap, count, more, err);
}

hd_status store_message_resends(store *st, int64_t id, int64_t *ids, int max, int *n, hd_error *err)
{
    return st->pg ? pg_message_resends(st->pg, id, ids, max, n, err)
                  : sq_message_resends(st->sq, id, ids, max, n, err);
}

hd_status store_attempts_list(store *st, int64_t message_id, attempt_list *out, hd_error *err)
{
    return st->pg ? pg_attempts_list(st->pg, message_id, out, err) : sq_attempts_list(st->sq, message_id, out, err);
}

hd_status store_status_counts(store *st, int64_t counts[MSG_STATUS_COUNT], hd_error *err)
{
    return st->pg ? pg_status_counts(st->pg, counts, err) : sq_status_counts(st->sq, counts, err);
}

hd_status store_attempt_histogram(store *st, int64_t now_ms, int64_t bucket_ms, int nbuckets, uint32_t *out, hd_error *err)
{
    return st->pg ? pg_attempt_histogram(st->pg, now_ms, bucket_ms, nbuckets, out, err) : sq_attempt_histogram(st->sq, now_ms, bucket_ms, nbuckets, out, err);
}

hd_status store_message_resend(store *st, int64_t id, uint64_t max_payload, int64_t *new_id, hd_error *err)
{
    return st->pg ? pg_message_resend(st->pg, id, max_payload, new_id, err) : sq_message_resend(st->sq, id, max_payload, new_id, err);
}

hd_status store_messages_resend_failed(store *st, const msg_filter *f, uint64_t max_payload, int64_t *resent, int64_t *skipped, hd_error *err)
{
    return st->pg ? pg_messages_resend_failed(st->pg, f, max_payload, resent, skipped, err) : sq_messages_resend_failed(st->sq, f, max_payload, resent, skipped, err);
}

hd_status store_message_send_now(store *st, int64_t id, hd_error *err)
{
    return st->pg ? pg_message_send_now(st->pg, id, err) : sq_message_send_now(st->sq, id, err);
}

hd_status store_message_cancel(store *st, int64_t id, hd_error *err)
{
    return st->pg ? pg_message_cancel(st->pg, id, err) : sq_message_cancel(st->sq, id, err);
}

hd_status store_purge_chunk(store *st, int64_t before_ms, int chunk, int64_t *deleted, hd_error *err)
{
    return st->pg ? pg_purge_chunk(st->pg, before_ms, chunk, deleted, err) : sq_purge_chunk(st->sq, before_ms, chunk, deleted, err);
}

hd_status store_claim_fair(store *st, const claim_request *rq, message_list *out, hd_error *err)
{
    return st->pg ? pg_claim_fair(st->pg, rq, out, err) : sq_claim_fair(st->sq, rq, out, err);
}

hd_status store_claim(store *st, const char *owner, int64_t now_ms, int64_t lease_extra_ms, int limit, message_list *out, hd_error *err)
{
    return st->pg ? pg_claim(st->pg, owner, now_ms, lease_extra_ms, limit, out, err) : sq_claim(st->sq, owner, now_ms, lease_extra_ms, limit, out, err);
}

void store_set_search_budget(store *st, int64_t steps)
{
    if (!st->pg)
        sq_set_search_budget(st->sq, steps);
}

void store_set_breaker(store *st, const breaker_policy *p)
{
    if (st->pg)
        pg_set_breaker(st->pg, p);
    else
        sq_set_breaker(st->sq, p);
}

/* The caller's part of the contract is checked here, once for both
 * backends. */
hd_status store_record_outcomes(store *st, const char *owner, const attempt_outcome *o, int n, hd_error *err)
{
    if (n <= 0)
        return HD_OK;
    if (!owner || !*owner)
        return hd_error_set(err, HD_INTERNAL, "record outcomes: no lease owner given");
    for (int i = 0; i < n; i++)
        if ((unsigned)o[i].new_status >= MSG_STATUS_COUNT)
            return hd_error_set(err, HD_INTERNAL, "record outcomes: bad status %d for #%lld",
                                (int)o[i].new_status, (long long)o[i].a.message_id);
    return st->pg ? pg_record_outcomes(st->pg, owner, o, n, err) : sq_record_outcomes(st->sq, owner, o, n, err);
}

void store_take_circuit_events(store *st, circuit_event **out, int *n)
{
    if (st->pg)
        pg_take_circuit_events(st->pg, out, n);
    else
        sq_take_circuit_events(st->sq, out, n);
}

void store_set_default_timeout(store *st, int64_t timeout_ms)
{
    if (st->pg)
        pg_set_default_timeout(st->pg, timeout_ms);
    else
        sq_set_default_timeout(st->sq, timeout_ms);
}

hd_status store_release_leases(store *st, const char *owner, int64_t now_ms, hd_error *err)
{
    return st->pg ? pg_release_leases(st->pg, owner, now_ms, err) : sq_release_leases(st->sq, owner, now_ms, err);
}

hd_status store_release_messages(store *st, const char *owner, const int64_t *ids, int n, int64_t now_ms, hd_error *err)
{
    return st->pg ? pg_release_messages(st->pg, owner, ids, n, now_ms, err) : sq_release_messages(st->sq, owner, ids, n, now_ms, err);
}

hd_status store_next_due(store *st, int64_t *due_ms, hd_error *err)
{
    return st->pg ? pg_next_due(st->pg, due_ms, err) : sq_next_due(st->sq, due_ms, err);
}

hd_status store_pending_count(store *st, int64_t *count, hd_error *err)
{
    return st->pg ? pg_pending_count(st->pg, count, err) : sq_pending_count(st->sq, count, err);
}

hd_status store_engine_beat(store *st, const engine_beat *b, hd_error *err)
{
    return st->pg ? pg_engine_beat(st->pg, b, err) : sq_engine_beat(st->sq, b, err);
}

hd_status store_engine_gone(store *st, const char *owner, hd_error *err)
{
    return st->pg ? pg_engine_gone(st->pg, owner, err) : sq_engine_gone(st->sq, owner, err);
}

hd_status store_engines_alive(store *st, int64_t since_ms, engine_beat_list *out, hd_error *err)
{
    return st->pg ? pg_engines_alive(st->pg, since_ms, out, err) : sq_engines_alive(st->sq, since_ms, out, err);
}

/* ---- search ---- */

hd_status store_search_index_step(store *st, int max_rows, int64_t *indexed, hd_error *err)
{
    if (indexed)
        *indexed = 0;
    /* Caught up and nothing committed since: nothing to index, no query
     * (an idle engine or console calls this every turn). */
    uint64_t cc = store_change_counter(st);
    if (st->search_caught_up && st->search_cc == cc)
        return HD_OK;
    int64_t n = 0;
    bool caught_up = false;
    hd_status rc = st->pg ? pg_search_index_step(st->pg, max_rows, &n, &caught_up, err)
                          : sq_search_index_step(st->sq, max_rows, &n, &caught_up, err);
    st->search_caught_up = rc == HD_OK && caught_up;
    /* The step's own commit adds 1 to the counter (both backends count
     * their own commits once).  It changes nothing a screen shows, so the
     * console that indexed does not re-read its screen for it; when
     * another process committed meanwhile the counter moved more, and
     * that change still shows. */
    uint64_t after = store_change_counter(st);
    if (rc == HD_OK && n > 0 && after == cc + 1)
        st->cc_hidden++;
    st->search_cc = store_change_counter(st);
    if (indexed)
        *indexed = n;
    return rc;
}

hd_status store_search_progress(store *st, int64_t *indexed_upto, int64_t *newest,
                                bool *complete, hd_error *err)
{
    return st->pg ? pg_search_progress(st->pg, indexed_upto, newest, complete, err)
                  : sq_search_progress(st->sq, indexed_upto, newest, complete, err);
}

hd_status store_search_next(store *st, const msg_filter *f, const char *text, int64_t from_id,
                            bool older, int64_t *id, hd_error *err)
{
    *id = 0;
    return st->pg ? pg_search_next(st->pg, f, text, from_id, older, id, err)
                  : sq_search_next(st->sq, f, text, from_id, older, id, err);
}

hd_status store_search_count(store *st, const msg_filter *f, const char *text,
                             int64_t newer_than, int64_t cap, int64_t *count, bool *more,
                             hd_error *err)
{
    *count = 0;
    *more = false;
    return st->pg ? pg_search_count(st->pg, f, text, newer_than, cap, count, more, err)
                  : sq_search_count(st->sq, f, text, newer_than, cap, count, more, err);
}
