/* pg_sites.c - trusted sites in the PostgreSQL store: adding, editing,
 * pausing and deleting them, reading them with their circuits and counts
 * (the semantics of store_sites.c, hd_store.h).
 *
 * Where several writers at once need more than SQLite's one write lock:
 * - a name taken by another writer between a check and a write is the
 *   unique index's to refuse: the INSERT says ON CONFLICT DO NOTHING and an
 *   UPDATE's unique violation reads as the same HD_EXISTS;
 * - an editor's version check (store_site_update_if) is the UPDATE's own
 *   WHERE, which PostgreSQL re-checks on the row's newest version when it
 *   had to wait for another writer's lock;
 * - deleting a site takes its row lock before it fails the pending
 *   messages, so a message_add that locks the site row (FOR KEY SHARE)
 *   either lands before and is failed too, or finds the site gone;
 * - seeding locks the sites table against other writers, and only when it
 *   found it empty (every start after the first costs one count).
 * Sites are few: lists read the whole small table, ordered by name in
 * byte order (COLLATE "C", as SQLite's BINARY), and count each site's
 * pending messages and last 100 attempts through its own slice of an index
 * (messages_site_status, attempts_site), never the whole messages table.
 * The circuit columns are written by pg_claims.c; here they are only read.
 */
#include "pg_internal.h"
#include "store_site_fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_SITE_COLS                                                               \
    "s.id, s.name, s.url, s.content_type, s.timeout_ms, s.enabled, s.headers, "    \
    "s.auth_kind, s.auth_user, s.auth_secret, s.auth_header, s.auth_extra, "       \
    "s.created_at, s.updated_at, s.max_in_flight"
#define PG_SITE_NCOLS 15
#define PG_CIRCUIT_COLS                                                            \
    "s.circuit_state, s.circuit_failures, s.circuit_until, s.circuit_cooldown, "   \
    "s.circuit_reason"

/* ------------------------------------------------------------------------ */
/* Rows                                                                     */

static void row_site(const PGresult *r, int i, site *s)
{
    site_init(s);
    s->id = pg_i64(r, i, 0);
    s->name = pg_strdup(r, i, 1);
    s->url = pg_strdup(r, i, 2);
    store_site_kinds(s, pg_null(r, i, 3) ? NULL : PQgetvalue(r, i, 3),
                     pg_null(r, i, 7) ? NULL : PQgetvalue(r, i, 7));
    s->timeout_ms = pg_i64(r, i, 4);
    s->enabled = pg_i64(r, i, 5) != 0;
    store_headers_from_json(s, pg_null(r, i, 6) ? NULL : PQgetvalue(r, i, 6));
    s->auth_user = pg_strdup(r, i, 8);
    s->auth_secret = pg_strdup(r, i, 9);
    s->auth_header = pg_strdup(r, i, 10);
    s->auth_extra = pg_strdup(r, i, 11);
    s->created_at = pg_i64(r, i, 12);
    s->updated_at = pg_i64(r, i, 13);
    s->max_in_flight = (int)pg_i64(r, i, 14);
}

/* The circuit columns from column k (PG_CIRCUIT_COLS). */
static void row_circuit(const PGresult *r, int i, int k, circuit *c)
{
    memset(c, 0, sizeof *c);
    c->state = store_circuit_state(pg_i64(r, i, k));
    c->failures = (int)pg_i64(r, i, k + 1);
    c->until_ms = pg_i64(r, i, k + 2);
    c->cooldown_ms = pg_i64(r, i, k + 3);
    snprintf(c->reason, sizeof c->reason, "%s", pg_null(r, i, k + 4) ? "" : PQgetvalue(r, i, k + 4));
}

/* $1..$12 of SITE_INSERT and SITE_UPDATE, in this order. */
static void params_site(pg_params *p, const site *s, const char *headers, int64_t now)
{
    pp_str(p, s->name);
    pp_str(p, s->url);
    pp_str(p, content_type_name(s->ctype));
    pp_i64(p, s->timeout_ms);
    pp_bool(p, s->enabled);
    pp_str(p, headers);
    pp_str(p, auth_kind_name(s->auth));
    pp_str(p, s->auth_user);
    pp_str(p, s->auth_secret);
    pp_str(p, s->auth_header);
    pp_str(p, s->auth_extra);
    pp_i64(p, s->max_in_flight);
    pp_i64(p, now);
}

static hd_status name_exists(const site *s, hd_error *err)
{
    return hd_error_set(err, HD_EXISTS, "sites: name '%s' already exists", s->name);
}

static hd_status site_not_found(int64_t id, hd_error *err)
{
    return hd_error_set(err, HD_NOT_FOUND, "site #%lld not found", (long long)id);
}

static hd_status site_changed(const site *s, hd_error *err)
{
    return hd_error_set(err, HD_CHANGED, "site '%s' was changed by someone else since it was read",
                        s->name ? s->name : "");
}

/* ------------------------------------------------------------------------ */
/* Adding and editing                                                       */

/* Inserts one site (validated here: nothing invalid is ever saved); the
 * caller holds a write transaction. */
static hd_status site_insert(pg_store *st, const site *s, int64_t *id_out, hd_error *err)
{
    hd_status rc = site_validate(s, err);
    if (rc != HD_OK)
        return rc;
    char *headers;
    if ((rc = store_headers_to_json(s, &headers, err)) != HD_OK)
        return rc;
    pg_params p = { 0 };
    params_site(&p, s, headers, hd_now_ms());
    PGresult *r = pg_run(st,
                         "INSERT INTO sites(name, url, content_type, timeout_ms, enabled, headers, "
                         "auth_kind, auth_user, auth_secret, auth_header, auth_extra, "
                         "max_in_flight, created_at, updated_at) "
                         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) "
                         "ON CONFLICT (name) DO NOTHING RETURNING id",
                         &p, "adding a site", err);
    free(headers);
    if (!r)
        return pg_run_failed(err);
    if (PQntuples(r) == 0)
        rc = name_exists(s, err);
    else if (id_out)
        *id_out = pg_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

hd_status pg_site_add(pg_store *st, const site *s, int64_t *id_out, hd_error *err)
{
    /* Validate before starting a transaction. */
    hd_status rc = site_validate(s, err);
    if (rc != HD_OK)
        return rc;
    pg_write_mode mode;
    if ((rc = pg_write_begin(st, &mode, err)) != HD_OK)
        return rc;
    rc = site_insert(st, s, id_out, err);
    return pg_write_end(st, mode, rc, err);
}

/* Why an UPDATE of site id changed no row: gone, or (only an update with
 * a version check can miss a row that exists) changed since it was read. */
static hd_status site_missed(pg_store *st, const site *s, hd_error *err)
{
    pg_params p = { 0 };
    pp_i64(&p, s->id);
    PGresult *r = pg_run(st, "SELECT 1 FROM sites WHERE id = $1", &p, "looking up a site", err);
    if (!r)
        return pg_run_failed(err);
    bool found = PQntuples(r) > 0;
    PQclear(r);
    return found ? site_changed(s, err) : site_not_found(s->id, err);
}

/* The update of pg_site_update_if; expected 0 = no version check.
 * updated_at is the row's version: every operator change moves it forward,
 * by 1 ms at least, even within one millisecond. */
static hd_status site_update(pg_store *st, const site *s, int64_t expected, hd_error *err)
{
    hd_status rc = site_validate(s, err);
    if (rc != HD_OK)
        return rc;
    char *headers;
    if ((rc = store_headers_to_json(s, &headers, err)) != HD_OK)
        return rc;
    pg_write_mode mode;
    if ((rc = pg_write_begin(st, &mode, err)) != HD_OK) {
        free(headers);
        return rc;
    }
    pg_params p = { 0 };
    params_site(&p, s, headers, hd_now_ms());
    pp_i64(&p, s->id);
    pp_i64(&p, expected);
    PGresult *r = pg_run(st,
                         "UPDATE sites SET name = $1, url = $2, content_type = $3, "
                         "timeout_ms = $4, enabled = $5, headers = $6, auth_kind = $7, "
                         "auth_user = $8, auth_secret = $9, auth_header = $10, "
                         "auth_extra = $11, max_in_flight = $12, "
                         "updated_at = GREATEST($13::bigint, updated_at + 1) "
                         "WHERE id = $14 AND ($15::bigint = 0 OR updated_at = $15::bigint)",
                         &p, "updating a site", err);
    free(headers);
    if (!r) {
        rc = pg_run_failed(err);
        if (rc == HD_EXISTS)
            rc = name_exists(s, err);
    }
    else if (pg_affected(r) == 0)
        rc = site_missed(st, s, err);
    PQclear(r);
    return pg_write_end(st, mode, rc, err);
}

hd_status pg_site_update_if(pg_store *st, const site *s, int64_t expected, hd_error *err)
{
    return site_update(st, s, expected, err);
}

/* ------------------------------------------------------------------------ */
/* Deleting, pausing                                                        */

/* The site's row goes first: its lock keeps messages from being added to it
 * (message_add locks the row it checks) until this commits.  Then its
 * pending messages fail, through messages_site_status; the status_counts
 * triggers count them.  Its history stays. */
hd_status pg_site_delete(pg_store *st, int64_t id, hd_error *err)
{
    pg_write_mode mode;
    hd_status rc = pg_write_begin(st, &mode, err);
    if (rc != HD_OK)
        return rc;
    pg_params p = { 0 };
    pp_i64(&p, id);
    PGresult *r = pg_run(st, "DELETE FROM sites WHERE id = $1", &p, "deleting a site", err);
    if (!r)
        rc = pg_run_failed(err);
    else if (pg_affected(r) == 0)
        rc = site_not_found(id, err);
    PQclear(r);
    if (rc == HD_OK) {
        pp_i64(&p, hd_now_ms());
        rc = pg_cmd(st,
                    "UPDATE messages SET status = 3, last_error = 'site deleted', "
                    "due_at = NULL, lease_owner = NULL, retry_after = NULL, updated_at = $2 "
                    "WHERE site_id = $1 AND status IN (0, 1)",
                    &p, "failing the site's pending messages", err);
    }
    return pg_write_end(st, mode, rc, err);
}

hd_status pg_site_set_enabled(pg_store *st, int64_t id, bool enabled, hd_error *err)
{
    pg_write_mode mode;
    hd_status rc = pg_write_begin(st, &mode, err);
    if (rc != HD_OK)
        return rc;
    pg_params p = { 0 };
    pp_i64(&p, id);
    pp_bool(&p, enabled);
    pp_i64(&p, hd_now_ms());
    PGresult *r = pg_run(st,
                         "UPDATE sites SET enabled = $2, "
                         "updated_at = GREATEST($3::bigint, updated_at + 1) WHERE id = $1",
                         &p, "pausing or resuming a site", err);
    if (!r)
        rc = pg_run_failed(err);
    else if (pg_affected(r) == 0)
        rc = site_not_found(id, err);
    PQclear(r);
    return pg_write_end(st, mode, rc, err);
}

/* ------------------------------------------------------------------------ */
/* Reading one                                                              */

/* A site by name when name is given, else by id. */
static hd_status site_lookup(pg_store *st, int64_t id, const char *name, site *out, hd_error *err)
{
    pg_params p = { 0 };
    if (name)
        pp_str(&p, name);
    else
        pp_i64(&p, id);
    PGresult *r = pg_run(st,
                         name ? "SELECT " PG_SITE_COLS " FROM sites s WHERE s.name = $1"
                              : "SELECT " PG_SITE_COLS " FROM sites s WHERE s.id = $1",
                         &p, "reading a site", err);
    if (!r)
        return pg_run_failed(err);
    hd_status rc = HD_OK;
    if (PQntuples(r) > 0)
        row_site(r, 0, out);
    else if (name)
        rc = hd_error_set(err, HD_NOT_FOUND, "site '%s' not found", name);
    else
        rc = site_not_found(id, err);
    PQclear(r);
    return rc;
}

hd_status pg_site_get(pg_store *st, int64_t id, site *out, hd_error *err)
{
    return site_lookup(st, id, NULL, out, err);
}

hd_status pg_site_get_by_name(pg_store *st, const char *name, site *out, hd_error *err)
{
    return site_lookup(st, 0, name ? name : "", out, err);
}

/* ------------------------------------------------------------------------ */
/* Seeding                                                                  */

static hd_status sites_exist(pg_store *st, bool *any, hd_error *err)
{
    PGresult *r = pg_run(st, "SELECT EXISTS (SELECT 1 FROM sites)", NULL, "counting sites", err);
    if (!r)
        return pg_run_failed(err);
    *any = pg_i64(r, 0, 0) != 0;
    PQclear(r);
    return HD_OK;
}

/* Two processes starting at once on an empty database must seed once, and
 * a site added meanwhile (the CLI) means the database is no longer empty:
 * SHARE ROW EXCLUSIVE conflicts with itself and with every INSERT, UPDATE
 * and DELETE of sites, so the count and the inserts see the same table.
 * Readers are not held up; writers of sites wait for this short
 * transaction (lock_timeout bounds the wait). */
static hd_status seed_locked(pg_store *st, const site *sites, int n, int *done, hd_error *err)
{
    hd_status rc = pg_cmd(st, "LOCK TABLE sites IN SHARE ROW EXCLUSIVE MODE", NULL,
                          "locking the sites to seed them", err);
    bool any = false;
    if (rc == HD_OK)
        rc = sites_exist(st, &any, err);
    for (int i = 0; rc == HD_OK && !any && i < n; i++) {
        rc = site_insert(st, &sites[i], NULL, err);
        if (rc != HD_OK)
            hd_error_prefix(err, "seeding site '%s': ", sites[i].name ? sites[i].name : "");
        else
            (*done)++;
    }
    return rc;
}

hd_status pg_seed_sites(pg_store *st, const site *sites, int n, int *added, hd_error *err)
{
    if (added)
        *added = 0;
    /* Every start but the first finds sites: that costs no lock. */
    bool any = false;
    hd_status rc = sites_exist(st, &any, err);
    if (rc != HD_OK || any || n <= 0)
        return rc;
    pg_write_mode mode;
    if ((rc = pg_write_begin(st, &mode, err)) != HD_OK)
        return rc;
    int done = 0;
    rc = seed_locked(st, sites, n, &done, err);
    rc = pg_write_end(st, mode, rc, err);
    if (rc == HD_OK && added)
        *added = done;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Lists                                                                    */

static hd_status sites_query(pg_store *st, const char *sql, site_stats_list *out, bool counted,
                             hd_error *err)
{
    out->items = NULL;
    out->count = 0;
    PGresult *r = pg_run(st, sql, NULL, "listing sites", err);
    if (!r)
        return pg_run_failed(err);
    int n = PQntuples(r);
    if (n > 0) {
        out->items = calloc((size_t)n, sizeof *out->items);
        if (!out->items) {
            PQclear(r);
            return hd_error_set(err, HD_NOMEM, "listing sites: out of memory");
        }
    }
    for (int i = 0; i < n; i++) {
        site_stats *ss = &out->items[i];
        row_site(r, i, &ss->s);
        row_circuit(r, i, PG_SITE_NCOLS, &ss->circuit);
        if (counted) {
            ss->pending = pg_i64(r, i, PG_SITE_NCOLS + 5);
            ss->recent_total = (int)pg_i64(r, i, PG_SITE_NCOLS + 6);
            ss->recent_ok = (int)pg_i64(r, i, PG_SITE_NCOLS + 7);
        }
        out->count++;
    }
    PQclear(r);
    return HD_OK;
}

hd_status pg_sites_states(pg_store *st, site_stats_list *out, hd_error *err)
{
    return sites_query(st,
                       "SELECT " PG_SITE_COLS ", " PG_CIRCUIT_COLS
                       " FROM sites s ORDER BY s.name COLLATE \"C\"",
                       out, false, err);
}

/* Per site: its pending messages (the sum of its site_pending shards,
 * kept by triggers: never a count of the messages) and how many of its
 * last 100 attempts were 2xx (attempts_site, newest first). */
hd_status pg_sites_list(pg_store *st, site_stats_list *out, hd_error *err)
{
    return sites_query(st,
                       "SELECT " PG_SITE_COLS ", " PG_CIRCUIT_COLS ", "
                       " (SELECT coalesce(sum(p.n), 0) FROM site_pending p"
                       "   WHERE p.site_id = s.id),"
                       " recent.total, recent.ok"
                       " FROM sites s CROSS JOIN LATERAL"
                       " (SELECT count(*) AS total,"
                       "   count(*) FILTER (WHERE a.response_code BETWEEN 200 AND 299) AS ok"
                       "  FROM (SELECT response_code FROM attempts"
                       "   WHERE site_id = s.id ORDER BY id DESC LIMIT 100) a) recent"
                       " ORDER BY s.name COLLATE \"C\"",
                       out, true, err);
}
