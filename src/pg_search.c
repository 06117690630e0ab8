/* pg_search.c - search in the PostgreSQL store (hd_store.h "search"); the
 * counterpart of store_search.c, with the same rule and the same design:
 * an index filled in the background up to a watermark, a bounded scan of
 * the newest messages above it.
 *
 * DESIGN
 * - The index: message_words, one stripped tsvector per message (the words
 *   of PG_SEARCH_DOC with ASCII punctuation turned into spaces, under the
 *   'simple' configuration: lower-cased words, no stemming, no stop words:
 *   the words SQLite's unicode61 tokenizer makes), GIN-indexed; the
 *   search is to_tsquery('simple', 'w1:* & w2:*') (store_search_text.c).
 * - The watermark and several writers: PostgreSQL hands out ids before
 *   their transactions commit, so ids become visible out of order (an
 *   import commits id 100 after a send committed 101).  An indexer that
 *   moved its watermark past 101 would never see 100.  So the watermark
 *   only moves up to an id known final: in one snapshot the indexer reads
 *   the last id handed out (the identity's sequence) and the next
 *   transaction id (xmax); once no transaction older than that xmax runs
 *   (the snapshot's xmin has passed it), every id up to the one read is
 *   committed or never will be.  That proof is kept per connection
 *   (pg_store.search_*), so a new message is indexed on the step after
 *   the one that saw it.  (A transaction that had taken its id but not yet
 *   written anything when the ids were read has no transaction id yet:
 *   that window is the few instructions between nextval and the row's
 *   insert within one statement.)
 * - The rows not indexed yet are scanned with the same expression computed
 *   on the fly: the newest STORE_SEARCH_TAIL_MAX above the watermark.
 * - Deleted messages take their words with them (trigger
 *   messages_search_forget).  A purge racing the indexer over the same
 *   message can leave its words behind: harmless, every search joins
 *   messages, and ids are never reused.
 * - The indexer takes search_state's row FOR UPDATE SKIP LOCKED: a second
 *   indexer (another engine, a console) skips the step instead of waiting.
 */
#include "pg_internal.h"
#include "store_search_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The words of message m (payload p): ASCII punctuation into spaces (32
 * characters, 32 spaces), as SQLite's tokenizer separates words. */
#define PG_SEARCH_DOC                                                               \
    "strip(to_tsvector('simple', translate(m.action || ' ' || coalesce(m.customer, '') || ' ' " \
    "|| substr(p.payload, 1, 65536), '!\"#$%&''()*+,-./:;<=>?@[\\]^_`{|}~', repeat(' ', 32))))"

/* The ids handed out so far and the snapshot's transaction bounds. */
typedef struct pg_search_snap {
    int64_t wm;              /* the watermark */
    int64_t handed_out;      /* the sequence's last value */
    int64_t xmin, xmax;      /* pg_snapshot_xmin / _xmax of the snapshot */
} pg_search_snap;

static hd_status read_snap(pg_store *st, pg_search_snap *s, hd_error *err)
{
    PGresult *r = pg_run(st,
                         "SELECT watermark,"
                         " coalesce(pg_sequence_last_value(pg_get_serial_sequence('messages', 'id')), 0),"
                         " pg_snapshot_xmin(pg_current_snapshot())::text::bigint,"
                         " pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
                         " FROM search_state",
                         NULL, "reading the search index's state", err);
    if (!r)
        return pg_run_failed(err);
    s->wm = pg_i64(r, 0, 0);
    s->handed_out = pg_i64(r, 0, 1);
    s->xmin = pg_i64(r, 0, 2);
    s->xmax = pg_i64(r, 0, 3);
    PQclear(r);
    return HD_OK;
}

/* Moves the proof on (see DESIGN): a pending id becomes final once its
 * xmax is behind every running transaction; a new one is taken when ids
 * were handed out beyond what is final. */
static void advance_final(pg_store *st, const pg_search_snap *s)
{
    if (st->search_final < s->wm)
        st->search_final = s->wm;
    if (st->search_pending_id && s->xmin >= st->search_pending_xmax) {
        if (st->search_pending_id > st->search_final)
            st->search_final = st->search_pending_id;
        st->search_pending_id = 0;
    }
    if (!st->search_pending_id && s->handed_out > st->search_final) {
        st->search_pending_id = s->handed_out;
        st->search_pending_xmax = s->xmax;
    }
}

/* Indexes the messages in (wm, upto], at most max_rows of them: *new_wm
 * is how far that got. */
static hd_status index_batch(pg_store *st, int64_t wm, int64_t upto, int max_rows,
                             int64_t *new_wm, int64_t *indexed, hd_error *err)
{
    pg_params p = { 0 };
    pp_i64(&p, wm);
    pp_i64(&p, upto);
    pp_i64(&p, max_rows);
    PGresult *r = pg_run(st,
                         "SELECT coalesce(max(id), 0), count(*) FROM (SELECT id FROM messages"
                         " WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3) x",
                         &p, "indexing messages for search", err);
    if (!r)
        return pg_run_failed(err);
    int64_t hi = pg_i64(r, 0, 0), n = pg_i64(r, 0, 1);
    PQclear(r);
    *new_wm = n < max_rows ? upto : hi;   /* fewer: everything up to upto is in */
    if (n > 0) {
        pg_params q = { 0 };
        pp_i64(&q, wm);
        pp_i64(&q, *new_wm);
        r = pg_run(st,
                   "INSERT INTO message_words(message_id, words) SELECT m.id, " PG_SEARCH_DOC
                   " FROM messages m JOIN payloads p ON p.message_id = m.id"
                   " WHERE m.id > $1 AND m.id <= $2 ON CONFLICT (message_id) DO NOTHING",
                   &q, "indexing messages for search", err);
        if (!r)
            return pg_run_failed(err);
        *indexed = pg_affected(r);
        PQclear(r);
    }
    pg_params w = { 0 };
    pp_i64(&w, *new_wm);
    return pg_cmd(st, "UPDATE search_state SET watermark = $1", &w,
                  "indexing messages for search", err);
}

hd_status pg_search_index_step(pg_store *st, int max_rows, int64_t *indexed, bool *caught_up,
                               hd_error *err)
{
    *indexed = 0;
    *caught_up = false;
    pg_search_snap s = { 0 };
    hd_status rc = read_snap(st, &s, err);
    if (rc != HD_OK)
        return rc;
    advance_final(st, &s);
    if (s.handed_out <= s.wm) {
        *caught_up = true;
        return HD_OK;
    }
    if (st->search_final <= s.wm || st->read_only || max_rows <= 0 || st->in_caller_tx)
        return HD_OK;   /* nothing final to index yet: a later step */
    pg_write_mode mode;
    if ((rc = pg_write_begin(st, &mode, err)) != HD_OK)
        return rc;
    PGresult *r = pg_run(st, "SELECT watermark FROM search_state FOR UPDATE SKIP LOCKED", NULL,
                         "indexing messages for search", err);
    if (!r)
        return pg_write_end(st, mode, pg_run_failed(err), err);
    bool mine = PQntuples(r) == 1;
    int64_t wm = mine ? pg_i64(r, 0, 0) : 0;
    PQclear(r);
    int64_t new_wm = wm;
    if (mine && st->search_final > wm)
        rc = index_batch(st, wm, st->search_final, max_rows, &new_wm, indexed, err);
    rc = pg_write_end(st, mode, rc, err);
    if (rc != HD_OK) {
        *indexed = 0;
        return rc;
    }
    *caught_up = mine && new_wm >= s.handed_out;
    return HD_OK;
}

/* The lowest id of the scanned tail (wm + 1 when there is none). */
static hd_status tail_start(pg_store *st, int64_t wm, int64_t *lo, hd_error *err)
{
    pg_params p = { 0 };
    pp_i64(&p, wm);
    pp_i64(&p, STORE_SEARCH_TAIL_MAX);
    PGresult *r = pg_run(st,
                         "SELECT coalesce(min(id), 0) FROM (SELECT id FROM messages WHERE id > $1"
                         " ORDER BY id DESC LIMIT $2) x",
                         &p, "reading the search index's state", err);
    if (!r)
        return pg_run_failed(err);
    *lo = pg_i64(r, 0, 0);
    PQclear(r);
    if (*lo == 0)
        *lo = wm + 1;
    return HD_OK;
}

hd_status pg_search_progress(pg_store *st, int64_t *indexed_upto, int64_t *newest,
                             bool *complete, hd_error *err)
{
    *complete = true;
    PGresult *r = pg_run(st,
                         "SELECT watermark, (SELECT coalesce(max(id), 0) FROM messages)"
                         " FROM search_state",
                         NULL, "reading the search index's state", err);
    if (!r)
        return pg_run_failed(err);
    *indexed_upto = pg_i64(r, 0, 0);
    *newest = pg_i64(r, 0, 1);
    PQclear(r);
    int64_t lo = 0;
    hd_status rc = tail_start(st, *indexed_upto, &lo, err);
    if (rc != HD_OK || lo <= *indexed_upto + 1)
        return rc;
    pg_params p = { 0 };
    pp_i64(&p, *indexed_upto);
    pp_i64(&p, lo);
    r = pg_run(st, "SELECT EXISTS (SELECT 1 FROM messages WHERE id > $1 AND id < $2)", &p,
               "reading the search index's state", err);
    if (!r)
        return pg_run_failed(err);
    *complete = PQgetvalue(r, 0, 0)[0] != 't';
    PQclear(r);
    return HD_OK;
}

/* ------------------------------------------------------------------------ */
/* Queries                                                                  */

typedef struct search_args {
    pg_store *st;
    const msg_filter *f;
    char *tsq;               /* the tsquery text */
    int64_t wm;              /* the watermark */
    int64_t lo;              /* the tail's lowest id */
} search_args;

/* One part's query (see store_search.c's search_sql): the nearest match
 * past from, or the count of those above it (up to cap + 1). */
static hd_status search_run(void *ctx, search_part part, bool older, bool count, int64_t from,
                            int64_t cap, int64_t *out, hd_error *err)
{
    const search_args *a = ctx;
    pg_store *st = a->st;
    hd_buf b = { 0 };
    pg_params p = { 0 };
    int q = pg_param_str(&p, a->tsq);
    const char *id = part == PART_INDEX ? "w.message_id" : "m.id";
    if (count)
        hd_buf_puts(&b, "SELECT count(*) FROM (");
    if (part == PART_INDEX)
        hd_buf_printf(&b,
                      "SELECT m.id FROM message_words w JOIN messages m ON m.id = w.message_id"
                      " WHERE w.words @@ to_tsquery('simple', $%d) AND w.message_id <= $%d",
                      q, pg_param_i64(&p, a->wm));
    else {
        /* PG_SEARCH_DOC holds a '%': put, not formatted. */
        hd_buf_printf(&b,
                      "SELECT m.id FROM messages m JOIN payloads p ON p.message_id = m.id"
                      " WHERE m.id >= $%d AND ", pg_param_i64(&p, a->lo));
        hd_buf_puts(&b, PG_SEARCH_DOC);
        hd_buf_printf(&b, " @@ to_tsquery('simple', $%d)", q);
    }
    pg_filter_sql(&b, &p, a->f, 0);
    int k = pg_param_i64(&p, from);
    if (count)
        hd_buf_printf(&b, " AND %s > $%d LIMIT $%d) x", id, k,
                      pg_param_i64(&p, cap > 0 ? cap + 1 : INT64_MAX));
    else
        hd_buf_printf(&b, " AND %s %s $%d ORDER BY %s %s LIMIT 1", id, older ? "<" : ">", k, id,
                      older ? "DESC" : "ASC");
    PGresult *r = pg_run(st, hd_buf_str(&b), &p, "searching messages", err);
    hd_buf_free(&b);
    if (!r)
        return pg_run_failed(err);
    *out = PQntuples(r) > 0 ? pg_i64(r, 0, 0) : 0;
    PQclear(r);
    return HD_OK;
}

static hd_status search_begin(pg_store *st, const msg_filter *f, const char *text,
                              search_args *a, hd_error *err)
{
    memset(a, 0, sizeof *a);
    a->st = st;
    search_words w;
    search_words_parse(text, &w);
    if (w.n == 0)
        return hd_error_field(err, HD_INVALID, "search",
                              "'%.60s' has no word to look for (letters or digits)",
                              text ? text : "");
    PGresult *r = pg_run(st, "SELECT watermark FROM search_state", NULL,
                         "reading the search index's state", err);
    if (!r)
        return pg_run_failed(err);
    a->wm = pg_i64(r, 0, 0);
    PQclear(r);
    hd_status rc = tail_start(st, a->wm, &a->lo, err);
    if (rc != HD_OK)
        return rc;
    hd_buf b = { 0 };
    search_tsquery(&w, &b);
    a->tsq = hd_xstrdup(hd_buf_str(&b));
    hd_buf_free(&b);
    a->f = f;
    return HD_OK;
}

hd_status pg_search_next(pg_store *st, const msg_filter *f, const char *text, int64_t from_id,
                         bool older, int64_t *id, hd_error *err)
{
    *id = 0;
    search_args a;
    hd_status rc = search_begin(st, f, text, &a, err);
    if (rc != HD_OK)
        return rc;
    rc = search_parts_next(search_run, &a, a.wm, a.lo, from_id, older, id, err);
    free(a.tsq);
    return rc;
}

hd_status pg_search_count(pg_store *st, const msg_filter *f, const char *text,
                          int64_t newer_than, int64_t cap, int64_t *count, bool *more,
                          hd_error *err)
{
    *count = 0;
    *more = false;
    search_args a;
    hd_status rc = search_begin(st, f, text, &a, err);
    if (rc != HD_OK)
        return rc;
    rc = search_parts_count(search_run, &a, a.wm, newer_than, cap, count, more, err);
    free(a.tsq);
    return rc;
}

/* Tests (store_debug.h): index entries whose words begin with word. */
hd_status pg_search_debug_indexed(pg_store *st, const char *word, int64_t *n, hd_error *err)
{
    search_words w;
    search_words_parse(word, &w);
    hd_buf b = { 0 };
    search_tsquery(&w, &b);
    pg_params p = { 0 };
    pp_str(&p, hd_buf_str(&b));
    PGresult *r = pg_run(st, "SELECT count(*) FROM message_words WHERE words @@ to_tsquery('simple', $1)",
                         &p, "counting index entries", err);
    hd_buf_free(&b);
    if (!r)
        return pg_run_failed(err);
    *n = pg_i64(r, 0, 0);
    PQclear(r);
    return HD_OK;
}
