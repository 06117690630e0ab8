/* store_sites.c - trusted sites in the SQLite store: adding, editing,
 * pausing and deleting them, reading them with their circuits and counts.
 *
 * Sites are few (hundreds, not millions): lists read the whole small table.
 * A site's circuit breaker state is kept in its row (hd_breaker.h); the
 * claims and outcomes of store_claims.c read and write it.
 */
#include "store_internal.h"
#include "store_site_fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void row_site(sqlite3_stmt *q, site *s)
{
    site_init(s);
    s->id = sqlite3_column_int64(q, 0);
    s->name = col_text(q, 1);
    s->url = col_text(q, 2);
    store_site_kinds(s, (const char *)sqlite3_column_text(q, 3),
                     (const char *)sqlite3_column_text(q, 7));
    s->timeout_ms = sqlite3_column_int64(q, 4);
    s->enabled = sqlite3_column_int(q, 5) != 0;
    store_headers_from_json(s, (const char *)sqlite3_column_text(q, 6));
    s->auth_user = col_text(q, 8);
    s->auth_secret = col_text(q, 9);
    s->auth_header = col_text(q, 10);
    s->auth_extra = col_text(q, 11);
    s->created_at = sqlite3_column_int64(q, 12);
    s->updated_at = sqlite3_column_int64(q, 13);
    s->max_in_flight = sqlite3_column_int(q, 14);
}

void row_circuit(sqlite3_stmt *q, int k, circuit *c)
{
    memset(c, 0, sizeof *c);
    c->state = store_circuit_state(sqlite3_column_int(q, k));
    c->failures = sqlite3_column_int(q, k + 1);
    c->until_ms = sqlite3_column_int64(q, k + 2);
    c->cooldown_ms = sqlite3_column_int64(q, k + 3);
    const unsigned char *why = sqlite3_column_text(q, k + 4);
    snprintf(c->reason, sizeof c->reason, "%s", why ? (const char *)why : "");
}

void bind_circuit(sqlite3_stmt *q, int64_t site_id, const circuit *c)
{
    bind_i64(q, ":id", site_id);
    bind_i64(q, ":state", c->state);
    bind_i64(q, ":failures", c->failures);
    bind_i64(q, ":until", c->until_ms);
    bind_i64(q, ":cooldown", c->cooldown_ms);
    bind_text(q, ":reason", c->reason[0] ? c->reason : NULL);
}

static void bind_site(sqlite3_stmt *q, const site *s, const char *headers, int64_t now)
{
    bind_text(q, ":name", s->name);
    bind_text(q, ":url", s->url);
    bind_text(q, ":ctype", content_type_name(s->ctype));
    bind_i64(q, ":timeout", s->timeout_ms);
    bind_i64(q, ":enabled", s->enabled ? 1 : 0);
    bind_text(q, ":headers", headers);
    bind_text(q, ":auth", auth_kind_name(s->auth));
    bind_text(q, ":user", s->auth_user);
    bind_text(q, ":secret", s->auth_secret);
    bind_text(q, ":header", s->auth_header);
    bind_text(q, ":extra", s->auth_extra);
    bind_i64(q, ":now", now);
    bind_i64(q, ":id", s->id);
    bind_i64(q, ":max_in_flight", s->max_in_flight);
}

static hd_status site_name_taken(sq_store *st, const char *name, int64_t except_id, hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_SITE_ID_BY_NAME, err);
    if (!q)
        return HD_DB;
    bind_text(q, ":name", name);
    int64_t id = 0;
    bool found = false;
    hd_status rc = step_i64(st, q, "looking up a site", &id, &found, err);
    if (rc != HD_OK)
        return rc;
    if (found && id != except_id)
        return hd_error_set(err, HD_EXISTS, "sites: name '%s' already exists", name);
    return HD_OK;
}

/* Inserts one validated site; the caller holds a write transaction. */
static hd_status site_insert(sq_store *st, const site *s, int64_t *id_out, hd_error *err)
{
    hd_status rc = site_validate(s, err);
    if (rc != HD_OK)
        return rc;
    if ((rc = site_name_taken(st, s->name, 0, err)) != HD_OK)
        return rc;
    char *headers;
    if ((rc = store_headers_to_json(s, &headers, err)) != HD_OK)
        return rc;
    sqlite3_stmt *q = stmt_get(st, STMT_SITE_INSERT, err);
    if (!q) {
        free(headers);
        return HD_DB;
    }
    bind_site(q, s, headers, hd_now_ms());
    int step = sqlite3_step(q);
    if (step == SQLITE_DONE) {
        if (id_out)
            *id_out = sqlite3_last_insert_rowid(st->db);
    } else if (step == SQLITE_CONSTRAINT_UNIQUE) {
        rc = hd_error_set(err, HD_EXISTS, "sites: name '%s' already exists", s->name);
    } else {
        rc = db_fail(st, err, "adding a site");
    }
    sqlite3_reset(q);
    free(headers);
    return rc;
}

hd_status sq_site_add(sq_store *st, const site *s, int64_t *id_out, hd_error *err)
{
    /* Validate before taking the write lock: nothing invalid is ever saved. */
    hd_status rc = site_validate(s, err);
    if (rc != HD_OK)
        return rc;
    write_mode mode;
    if ((rc = write_begin(st, true, &mode, err)) != HD_OK)
        return rc;
    rc = site_insert(st, s, id_out, err);
    return write_end(st, mode, rc, err);
}

/* The update of sq_site_update_if; expected 0 = no version check. */
static hd_status site_update(sq_store *st, const site *s, int64_t expected, hd_error *err)
{
    hd_status rc = site_validate(s, err);
    if (rc != HD_OK)
        return rc;
    char *headers;
    if ((rc = store_headers_to_json(s, &headers, err)) != HD_OK)
        return rc;
    write_mode mode;
    if ((rc = write_begin(st, true, &mode, err)) != HD_OK) {
        free(headers);
        return rc;
    }
    /* Gone, or changed since the editor read it (the UPDATE's WHERE checks
     * again: the transaction holds the write lock, so they agree). */
    sqlite3_stmt *q = stmt_get(st, STMT_SITE_VERSION, err);
    if (!q) {
        rc = HD_DB;
    } else {
        int64_t version = 0;
        bool found = false;
        bind_i64(q, ":id", s->id);
        rc = step_i64(st, q, "looking up a site", &version, &found, err);
        if (rc == HD_OK && !found)
            rc = hd_error_set(err, HD_NOT_FOUND, "site #%lld not found", (long long)s->id);
        else if (rc == HD_OK && expected && version != expected)
            rc = hd_error_set(err, HD_CHANGED,
                              "site '%s' was changed by someone else since it was read",
                              s->name ? s->name : "");
    }
    if (rc == HD_OK)
        rc = site_name_taken(st, s->name, s->id, err);
    q = rc == HD_OK ? stmt_get(st, STMT_SITE_UPDATE, err) : NULL;
    if (rc == HD_OK && !q)
        rc = HD_DB;
    if (q) {
        bind_site(q, s, headers, hd_now_ms());
        bind_i64(q, ":expected", expected);
        int step = sqlite3_step(q);
        if (step == SQLITE_CONSTRAINT_UNIQUE)
            rc = hd_error_set(err, HD_EXISTS, "sites: name '%s' already exists", s->name);
        else if (step != SQLITE_DONE)
            rc = db_fail(st, err, "updating a site");
        else if (sqlite3_changes(st->db) == 0)
            rc = hd_error_set(err, HD_CHANGED,
                              "site '%s' was changed by someone else since it was read",
                              s->name ? s->name : "");
        sqlite3_reset(q);
    }
    free(headers);
    return write_end(st, mode, rc, err);
}

hd_status sq_site_update_if(sq_store *st, const site *s, int64_t expected, hd_error *err)
{
    return site_update(st, s, expected, err);
}

hd_status sq_site_delete(sq_store *st, int64_t id, hd_error *err)
{
    st->known_site = 0;
    write_mode mode;
    sqlite3_stmt *q;
    /* Count them first: they all become Failed. */
    hd_status rc = write_stmt(st, STMT_SITE_PENDING_BY_STATUS, true, &mode, &q, err);
    if (rc != HD_OK)
        return rc;
    int64_t now = hd_now_ms();
    bind_i64(q, ":id", id);
    int step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        status_change(st, (msg_status)sqlite3_column_int(q, 0), MSG_FAILED,
                      sqlite3_column_int64(q, 1));
        site_pending_change(st, id, -sqlite3_column_int64(q, 1));   /* to 0 */
    }
    if (step != SQLITE_DONE)
        rc = db_fail(st, err, "counting the site's pending messages");
    sqlite3_reset(q);
    /* Their leases first (found through the pending messages), so that no
     * engine's outcome applies to them once they are Failed. */
    if (rc == HD_OK && !(q = stmt_get(st, STMT_LEASES_DROP_SITE, err)))
        rc = HD_DB;
    if (rc == HD_OK) {
        bind_i64(q, ":id", id);
        rc = step_done(st, q, "dropping the site's leases", err);
    }
    if (rc == HD_OK && !(q = stmt_get(st, STMT_SITE_FAIL_PENDING, err)))
        rc = HD_DB;
    if (rc == HD_OK) {
        bind_i64(q, ":id", id);
        bind_i64(q, ":now", now);
        rc = step_done(st, q, "failing the site's pending messages", err);
    }
    if (rc == HD_OK)
        rc = status_counts_flush(st, err);
    if (rc == HD_OK) {
        if (!(q = stmt_get(st, STMT_SITE_DELETE, err))) {
            rc = HD_DB;
        } else {
            bind_i64(q, ":id", id);
            rc = step_done(st, q, "deleting a site", err);
            if (rc == HD_OK && sqlite3_changes(st->db) == 0)
                rc = hd_error_set(err, HD_NOT_FOUND, "site #%lld not found", (long long)id);
        }
    }
    return write_end(st, mode, rc, err);
}

hd_status sq_site_set_enabled(sq_store *st, int64_t id, bool enabled, hd_error *err)
{
    write_mode mode;
    sqlite3_stmt *q;
    hd_status rc = write_stmt(st, STMT_SITE_SET_ENABLED, false, &mode, &q, err);
    if (rc != HD_OK)
        return rc;
    bind_i64(q, ":id", id);
    bind_i64(q, ":enabled", enabled ? 1 : 0);
    bind_i64(q, ":now", hd_now_ms());
    rc = step_done(st, q, "pausing or resuming a site", err);
    if (rc == HD_OK && sqlite3_changes(st->db) == 0)
        rc = hd_error_set(err, HD_NOT_FOUND, "site #%lld not found", (long long)id);
    return write_end(st, mode, rc, err);
}

static void read_site(sqlite3_stmt *q, void *item)
{
    row_site(q, item);
}

static hd_status site_fetch(sq_store *st, sqlite3_stmt *q, site *out, bool *found, hd_error *err)
{
    return step_row(st, q, read_site, out, found, "reading a site", err);
}

/* A site by name when name is given, else by id. */
static hd_status site_lookup(sq_store *st, int64_t id, const char *name, site *out, hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, name ? STMT_SITE_BY_NAME : STMT_SITE_BY_ID, err);
    if (!q)
        return HD_DB;
    if (name)
        bind_text(q, ":name", name);
    else
        bind_i64(q, ":id", id);
    bool found = false;
    hd_status rc = site_fetch(st, q, out, &found, err);
    if (rc != HD_OK || found)
        return rc;
    return name ? hd_error_set(err, HD_NOT_FOUND, "site '%s' not found", name)
                : hd_error_set(err, HD_NOT_FOUND, "site #%lld not found", (long long)id);
}

hd_status sq_site_get(sq_store *st, int64_t id, site *out, hd_error *err)
{
    return site_lookup(st, id, NULL, out, err);
}

hd_status sq_site_get_by_name(sq_store *st, const char *name, site *out, hd_error *err)
{
    return site_lookup(st, 0, name ? name : "", out, err);
}

hd_status sq_seed_sites(sq_store *st, const site *sites, int n, int *added, hd_error *err)
{
    if (added)
        *added = 0;
    /* Seeding only fills an empty table: a database that has sites is
     * read, not locked, so that every command (`sites list`, `queue`) still
     * works while another process holds the write lock. */
    sqlite3_stmt *q = stmt_get(st, STMT_SITE_COUNT, err);
    int64_t count = 0;
    hd_status rc = q ? step_i64(st, q, "counting sites", &count, NULL, err) : HD_DB;
    if (rc != HD_OK || count > 0)
        return rc;
    write_mode mode;
    rc = write_begin(st, true, &mode, err);
    if (rc != HD_OK)
        return rc;
    /* Again inside the transaction: another process may have seeded. */
    q = stmt_get(st, STMT_SITE_COUNT, err);
    rc = q ? step_i64(st, q, "counting sites", &count, NULL, err) : HD_DB;
    int done = 0;
    for (int i = 0; rc == HD_OK && count == 0 && i < n; i++) {
        rc = site_insert(st, &sites[i], NULL, err);
        if (rc != HD_OK)
            hd_error_prefix(err, "seeding site '%s': ", sites[i].name ? sites[i].name : "");
        else
            done++;
    }
    rc = write_end(st, mode, rc, err);
    if (rc == HD_OK && added)
        *added = done;
    return rc;
}

static void site_stats_free(site_stats *ss)
{
    site_free(&ss->s);
}

void site_stats_list_free(site_stats_list *l)
{
    HD_LIST_FREE(l, site_stats_free);
}

/* The sites with their circuits, nothing counted (one read of the small
 * sites table). */
static void read_site_stats(sqlite3_stmt *q, void *item)
{
    site_stats *ss = item;
    row_site(q, &ss->s);
    row_circuit(q, 15, &ss->circuit);
}

static hd_status sites_read(sq_store *st, site_stats_list *out, hd_error *err)
{
    out->items = NULL;
    out->count = 0;
    sqlite3_stmt *q = stmt_get(st, STMT_SITES_ALL, err);
    if (!q)
        return HD_DB;
    hd_status r = COLLECT_LIST(st, q, read_site_stats, out, "listing sites", err);
    if (r != HD_OK)
        site_stats_list_free(out);
    return r;
}

hd_status sq_sites_states(sq_store *st, site_stats_list *out, hd_error *err)
{
    return sites_read(st, out, err);
}

/* Pending counts: site_pending's row per site, kept by triggers (schema
 * migration 7), never a count of the messages. */
static hd_status sites_count_pending(sq_store *st, site_stats_list *out, hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_SITES_PENDING, err);
    if (!q)
        return HD_DB;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        for (int i = 0; i < out->count; i++) {
            if (out->items[i].s.id == id) {
                out->items[i].pending = sqlite3_column_int64(q, 1);
                break;
            }
        }
    }
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "counting pending messages");
    sqlite3_reset(q);
    return r;
}

/* The last 100 attempts of each site, and how many of them were 2xx. */
static hd_status sites_count_recent(sq_store *st, site_stats_list *out, hd_error *err)
{
    for (int i = 0; i < out->count; i++) {
        sqlite3_stmt *q = stmt_get(st, STMT_SITE_RECENT, err);
        if (!q)
            return HD_DB;
        bind_i64(q, ":id", out->items[i].s.id);
        int rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
            out->items[i].recent_total = sqlite3_column_int(q, 0);
            out->items[i].recent_ok = sqlite3_column_int(q, 1);
        } else if (rc != SQLITE_DONE) {
            hd_status r = db_fail(st, err, "reading recent attempts");
            sqlite3_reset(q);
            return r;
        }
        sqlite3_reset(q);
    }
    return HD_OK;
}

hd_status sq_sites_list(sq_store *st, site_stats_list *out, hd_error *err)
{
    hd_status r = sites_read(st, out, err);
    if (r != HD_OK)
        return r;
    if ((r = sites_count_pending(st, out, err)) != HD_OK ||
        (r = sites_count_recent(st, out, err)) != HD_OK)
        site_stats_list_free(out);
    return r;
}
