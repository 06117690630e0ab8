/* store_search.c - search in the SQLite store (hd_store.h "search").
 *
 * DESIGN
 * - The index: message_search, a contentless FTS5 table of the words of
 *   each message's action, customer and payload start (SEARCH_DOC), one
 *   FTS5 row per message with the message id as rowid; search_state holds
 *   its watermark, the highest id indexed (store_schema.c, version 8).
 * - Filling it is never the writer's job: adding a message, claims and
 *   outcomes do not touch it (a trigger-kept index cost about 6 us per
 *   row and 80% more file).  sq_search_index_step indexes the next
 *   max_rows messages above the watermark in one short write transaction
 *   (BEGIN IMMEDIATE: it waits for the lock like any writer, and gives
 *   up after the connection's busy timeout: 20 ms on the console's).  An
 *   idle engine and the console call it (engine.c, ui/console.c).  SQLite
 *   has one writer at a time, so ids commit in order: every id up to the
 *   watermark was there when it was indexed, and nothing can appear
 *   below it later (the trigger messages_search_watermark lowers it when
 *   the newest rows are deleted, since SQLite reuses max(id) + 1).
 * - A search reads the index up to the watermark (FTS5 MATCH with rowid
 *   bounds and ORDER BY rowid: one walk of the matching rowids from the
 *   cursor on, each joined to its message for the filter) and scans the
 *   newest STORE_SEARCH_TAIL_MAX messages above it with the same rule in
 *   C (hd_search_match, store_search_text.c): what the indexer has not
 *   reached yet (normally a few rows) is found all the same.
 * - Purged messages leave the index through the delete trigger, which
 *   hands FTS5 their words again (a contentless table needs them; FTS5's
 *   contentless_delete option, which would not, came with SQLite 3.43 and
 *   Debian 12 has 3.40).
 * The queries are built from the filter's shape (store_filters.c) and
 * prepared per call: a search runs at a key's pace, not in a loop.
 */
#include "store_internal.h"
#include "store_search_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* hd_search_match(text, doc): 1 when doc matches the search text (the rule
 * of store_search_text.h).  The parsed words are kept with the statement
 * (auxdata): the text is the same for every row of a scan. */
static void sql_search_match(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const search_words *kept = sqlite3_get_auxdata(ctx, 0);
    search_words local;
    if (!kept) {
        search_words_parse((const char *)sqlite3_value_text(argv[0]), &local);
        search_words *keep = sqlite3_malloc(sizeof *keep);
        if (keep) {
            *keep = local;
            /* SQLite may free it at once: this call reads `local`. */
            sqlite3_set_auxdata(ctx, 0, keep, sqlite3_free);
        }
    }
    const search_words *q = kept ? kept : &local;
    const char *doc = (const char *)sqlite3_value_text(argv[1]);
    int len = sqlite3_value_bytes(argv[1]);
    sqlite3_result_int(ctx, doc && search_text_matches(q, doc, (size_t)len));
}

static hd_status search_function(sq_store *st, hd_error *err)
{
    if (st->search_fn)
        return HD_OK;
    if (sqlite3_create_function(st->db, "hd_search_match", 2,
                                SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                sql_search_match, NULL, NULL) != SQLITE_OK)
        return db_fail(st, err, "registering the search function");
    st->search_fn = true;
    return HD_OK;
}

/* The watermark and the newest message id. */
static hd_status search_state(sq_store *st, int64_t *wm, int64_t *newest, hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_SEARCH_STATE, err);
    if (!q)
        return HD_DB;
    int rc = sqlite3_step(q);
    hd_status r = HD_OK;
    if (rc == SQLITE_ROW) {
        *wm = sqlite3_column_int64(q, 0);
        *newest = sqlite3_column_int64(q, 1);
    } else {
        r = db_fail(st, err, "reading the search index's state");
    }
    sqlite3_reset(q);
    return r;
}

/* The lowest id of the scanned tail: the newest STORE_SEARCH_TAIL_MAX
 * messages above the watermark (wm + 1 when there are none). */
static hd_status tail_start(sq_store *st, int64_t wm, int64_t *lo, hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_SEARCH_TAIL, err);
    if (!q)
        return HD_DB;
    bind_i64(q, ":wm", wm);
    bind_i64(q, ":tail", STORE_SEARCH_TAIL_MAX);
    hd_status rc = step_i64(st, q, "reading the search index's state", lo, NULL, err);
    if (rc == HD_OK && *lo == 0)
        *lo = wm + 1;
    return rc;
}

/* The distinct words of a batch, for search_terms. */
/* The distinct words of a batch: their text one after another in one
 * buffer, an open-addressing hash of their offsets, so that a word seen
 * again costs a hash and a compare, never an allocation (a batch can be
 * a whole history: test_scale indexes 1.2M messages in one). */
typedef struct term_set {
    hd_buf text;             /* the words, each with its NUL */
    size_t *slot;            /* offset + 1 in text; 0 = empty */
    size_t nslots, count;
} term_set;

static size_t term_hash(const char *w, size_t n)
{
    size_t h = 1469598103934665603u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)w[i]) * 1099511628211u;
    return h;
}

static void term_set_grow(term_set *t)
{
    size_t n = t->nslots ? t->nslots * 2 : 1024;
    size_t *slot = hd_xcalloc(n, sizeof *slot);
    for (size_t i = 0; i < t->nslots; i++) {
        if (!t->slot[i])
            continue;
        const char *w = hd_buf_str(&t->text) + t->slot[i] - 1;
        size_t k = term_hash(w, strlen(w)) & (n - 1);
        while (slot[k])
            k = (k + 1) & (n - 1);
        slot[k] = t->slot[i];
    }
    free(t->slot);
    t->slot = slot;
    t->nslots = n;
}

static void term_collect(void *arg, const char *word, size_t n)
{
    term_set *t = arg;
    if (2 * (t->count + 1) > t->nslots)
        term_set_grow(t);
    size_t k = term_hash(word, n) & (t->nslots - 1);
    for (; t->slot[k]; k = (k + 1) & (t->nslots - 1)) {
        const char *w = hd_buf_str(&t->text) + t->slot[k] - 1;
        if (strncmp(w, word, n) == 0 && w[n] == '\0')
            return;   /* seen */
    }
    t->slot[k] = t->text.len + 1;
    hd_buf_append(&t->text, word, n);
    hd_buf_putc(&t->text, '\0');
    t->count++;
}

/* Adds the words of the messages in (wm, hi] to search_terms: read again
 * (the page cache has them from the index's INSERT), split in C as FTS5
 * splits them, each distinct word once. */
static hd_status terms_add(sq_store *st, int64_t wm, int64_t hi, hd_error *err)
{
    sqlite3_stmt *q = stmt_get(st, STMT_SEARCH_DOCS, err);
    if (!q)
        return HD_DB;
    bind_i64(q, ":wm", wm);
    bind_i64(q, ":hi", hi);
    term_set t = { 0 };
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        search_text_words((const char *)sqlite3_column_text(q, 0),
                          (size_t)sqlite3_column_bytes(q, 0), term_collect, &t);
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "indexing messages for search");
    sqlite3_reset(q);
    const char *words = hd_buf_str(&t.text);
    for (size_t off = 0; r == HD_OK && off < t.text.len; off += strlen(words + off) + 1) {
        sqlite3_stmt *a = stmt_get(st, STMT_SEARCH_TERM_ADD, err);
        if (!a) {
            r = HD_DB;
        } else {
            bind_text(a, ":t", words + off);
            r = step_done(st, a, "indexing messages for search", err);
        }
    }
    free(t.slot);
    hd_buf_free(&t.text);
    return r;
}

hd_status sq_search_index_step(sq_store *st, int max_rows, int64_t *indexed, bool *caught_up,
                               hd_error *err)
{
    *indexed = 0;
    *caught_up = false;
    int64_t wm = 0, newest = 0, hi = 0;
    hd_status rc = search_state(st, &wm, &newest, err);
    if (rc != HD_OK)
        return rc;
    /* Caught up (or unable to write): no transaction, no commit that
     * would wake every console. */
    if (newest <= wm || st->read_only || max_rows <= 0) {
        *caught_up = newest <= wm;
        return HD_OK;
    }
    write_mode mode;
    if ((rc = write_begin(st, true, &mode, err)) != HD_OK)
        return rc;
    rc = search_state(st, &wm, &newest, err);   /* again, under the lock */
    if (rc == HD_OK && newest > wm) {
        sqlite3_stmt *q = stmt_get(st, STMT_SEARCH_BATCH_END, err);
        rc = q ? HD_OK : HD_DB;
        if (rc == HD_OK) {
            bind_i64(q, ":wm", wm);
            bind_i64(q, ":n", max_rows);
            rc = step_i64(st, q, "indexing messages for search", &hi, NULL, err);
        }
        if (rc == HD_OK && (q = stmt_get(st, STMT_SEARCH_INDEX, err)) == NULL)
            rc = HD_DB;
        if (rc == HD_OK) {
            bind_i64(q, ":wm", wm);
            bind_i64(q, ":hi", hi);
            rc = step_done(st, q, "indexing messages for search", err);
            if (rc == HD_OK)
                *indexed = sqlite3_changes(st->db);
        }
        if (rc == HD_OK)
            rc = terms_add(st, wm, hi, err);
        if (rc == HD_OK && (q = stmt_get(st, STMT_SEARCH_MARK, err)) == NULL)
            rc = HD_DB;
        if (rc == HD_OK) {
            bind_i64(q, ":hi", hi);
            rc = step_done(st, q, "indexing messages for search", err);
        }
    }
    rc = write_end(st, mode, rc, err);
    if (rc != HD_OK) {
        *indexed = 0;
        return rc;
    }
    *caught_up = hi >= newest;
    return HD_OK;
}

hd_status sq_search_progress(sq_store *st, int64_t *indexed_upto, int64_t *newest,
                             bool *complete, hd_error *err)
{
    *complete = true;
    hd_status rc = search_state(st, indexed_upto, newest, err);
    int64_t lo = 0;
    if (rc == HD_OK)
        rc = tail_start(st, *indexed_upto, &lo, err);
    if (rc != HD_OK || lo <= *indexed_upto + 1)
        return rc;
    sqlite3_stmt *q = stmt_get(st, STMT_SEARCH_GAP, err);
    if (!q)
        return HD_DB;
    bind_i64(q, ":wm", *indexed_upto);
    bind_i64(q, ":lo", lo);
    int64_t gap = 0;
    rc = step_i64(st, q, "reading the search index's state", &gap, NULL, err);
    *complete = gap == 0;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Queries                                                                  */

/* What one search binds. */
typedef struct search_args {
    sq_store *st;
    const msg_filter *f;
    const char *text;        /* as typed: hd_search_match parses it */
    char *fts;               /* the FTS5 MATCH expression */
    int64_t wm;              /* the watermark */
    int64_t lo;              /* the tail's lowest id */
} search_args;

/* The query of one part: the nearest match past :from (older: the
 * highest id below it, else the lowest above), or with count, every
 * match above :from up to :cap of them. */
static void search_sql(hd_buf *b, const msg_filter *f, search_part part, bool older, bool count)
{
    const char *id = part == PART_INDEX ? "s.rowid" : "m.id";
    if (count)
        hd_buf_puts(b, "SELECT count(*) FROM (");
    if (part == PART_INDEX)
        /* The FTS5 table drives (CROSS JOIN): its rowids in order, from
         * :from on, each looked up in messages for the filter. */
        hd_buf_puts(b, "SELECT m.id FROM message_search(:fts) s CROSS JOIN messages m "
                       "ON m.id = s.rowid WHERE 1");
    else
        hd_buf_puts(b, "SELECT m.id FROM messages m JOIN payloads p ON p.message_id = m.id "
                       "WHERE m.id >= :lo");
    filter_sql(b, filter_shape(f));
    if (part == PART_TAIL)
        hd_buf_puts(b, " AND hd_search_match(:q, " SEARCH_DOC ")");
    /* FTS5 takes one lower and one upper rowid bound: going down, the
     * caller's :from is below the watermark already (a second upper bound
     * would be checked row by row, from the newest match down). */
    if (part == PART_INDEX && !(older && !count))
        hd_buf_puts(b, " AND s.rowid <= :wm");
    if (count)
        hd_buf_printf(b, " AND %s > :from LIMIT :cap)", id);
    else if (older)
        hd_buf_printf(b, " AND %s < :from ORDER BY %s DESC LIMIT 1", id, id);
    else
        hd_buf_printf(b, " AND %s > :from ORDER BY %s LIMIT 1", id, id);
}

void sq_set_search_budget(sq_store *st, int64_t steps)
{
    st->search_budget = steps > 0 ? steps : 0;
}

#define BUDGET_EVERY 1000   /* VM steps between two calls of search_over_budget */

/* SQLite's progress handler: non-zero interrupts the query. */
static int search_over_budget(void *arg)
{
    sq_store *st = arg;
    st->search_spent += BUDGET_EVERY;
    return st->search_spent >= st->search_budget;
}

/* Runs one part's query: its one integer (an id, 0 = none; a count). */
static hd_status search_run(void *ctx, search_part part, bool older, bool count, int64_t from,
                            int64_t cap, int64_t *out, hd_error *err)
{
    const search_args *a = ctx;
    sq_store *st = a->st;
    hd_buf b = { 0 };
    search_sql(&b, a->f, part, older, count);
    sqlite3_stmt *q = stmt_prepare(st, hd_buf_str(&b), err);
    hd_buf_free(&b);
    if (!q)
        return HD_DB;
    filter_bind(q, a->f);
    bind_text(q, ":fts", a->fts);
    bind_text(q, ":q", a->text);
    bind_i64(q, ":wm", a->wm);
    bind_i64(q, ":lo", a->lo);
    bind_i64(q, ":from", from);
    bind_i64(q, ":cap", cap > 0 ? cap + 1 : -1);   /* one more: is there more? */
    if (st->search_budget > 0) {
        st->search_spent = 0;
        sqlite3_progress_handler(st->db, BUDGET_EVERY, search_over_budget, st);
    }
    hd_status rc = step_i64(st, q, "searching messages", out, NULL, err);
    if (st->search_budget > 0) {
        sqlite3_progress_handler(st->db, 0, NULL, NULL);
        if (rc != HD_OK && (sqlite3_errcode(st->db) == SQLITE_INTERRUPT ||
                            st->search_spent >= st->search_budget)) {
            hd_error_clear(err);
            rc = hd_error_field(err, HD_BUSY, "search",
                                "'%.40s' matches too many messages the filter leaves out "
                                "to look through at once: add a word, or change the filter",
                                a->text ? a->text : "");
        }
    }
    st->search_vm_steps += (uint64_t)sqlite3_stmt_status(q, SQLITE_STMTSTATUS_VM_STEP, 0);
    sqlite3_finalize(q);
    return rc;
}

/* Whole words a word's start expands to, at most: more means a short,
 * common start ("o"), asked of FTS5 as a prefix. */
#define TERMS_MAX 32

/* One word of the search as FTS5 reads it: the whole words it begins
 * (search_terms), ("ordered" OR "orders"), which FTS5 answers by seeking
 * each word's postings from the cursor on; the prefix query "orde"*,
 * which merges every posting of every such word first, only when the
 * word begins more than TERMS_MAX words or a non-ASCII one (FTS5 folds
 * those its own way). */
static hd_status word_query(sq_store *st, const char *word, hd_buf *out, hd_error *err)
{
    if (search_word_whole(word)) {
        hd_buf_printf(out, "\"%s\"", word);
        return HD_OK;
    }
    sqlite3_stmt *q = stmt_get(st, STMT_SEARCH_TERMS, err);
    if (!q)
        return HD_DB;
    char hi[SEARCH_WORD_MAX + 2];
    size_t n = strlen(word);
    memcpy(hi, word, n + 1);
    if (n > 0)
        hi[n - 1] = (char)((unsigned char)hi[n - 1] + 1);   /* words hold no 0xFF byte */
    bind_text(q, ":lo", word);
    bind_text(q, ":hi", hi);
    bind_i64(q, ":n", TERMS_MAX + 1);
    hd_buf terms = { 0 };
    int count = 0, rc;
    bool ascii = true;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(q, 0);
        for (const unsigned char *c = t; c && *c; c++)
            ascii = ascii && *c < 0x80;
        hd_buf_printf(&terms, "%s\"%s\"", count++ ? " OR " : "", (const char *)t);
    }
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "searching messages");
    sqlite3_reset(q);
    if (r == HD_OK) {
        if (count > 0 && count <= TERMS_MAX && ascii)
            hd_buf_printf(out, "(%s)", hd_buf_str(&terms));
        else
            hd_buf_printf(out, "\"%s\"*", word);
    }
    hd_buf_free(&terms);
    return r;
}

/* The words, the state and the function a search needs. */
static hd_status search_begin(sq_store *st, const msg_filter *f, const char *text,
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
    hd_status rc = search_function(st, err);
    int64_t newest = 0;
    if (rc == HD_OK)
        rc = search_state(st, &a->wm, &newest, err);
    if (rc == HD_OK)
        rc = tail_start(st, a->wm, &a->lo, err);
    if (rc != HD_OK)
        return rc;
    hd_buf b = { 0 };
    for (int i = 0; rc == HD_OK && i < w.n; i++) {
        if (i)
            hd_buf_puts(&b, " AND ");
        rc = word_query(st, w.w[i], &b, err);
    }
    a->fts = hd_xstrdup(hd_buf_str(&b));
    hd_buf_free(&b);
    a->f = f;
    a->text = text;
    if (rc != HD_OK) {
        free(a->fts);
        a->fts = NULL;
    }
    return rc;
}

hd_status sq_search_next(sq_store *st, const msg_filter *f, const char *text, int64_t from_id,
                         bool older, int64_t *id, hd_error *err)
{
    *id = 0;
    search_args a;
    hd_status rc = search_begin(st, f, text, &a, err);
    if (rc != HD_OK)
        return rc;
    rc = search_parts_next(search_run, &a, a.wm, a.lo, from_id, older, id, err);
    free(a.fts);
    return rc;
}

hd_status sq_search_count(sq_store *st, const msg_filter *f, const char *text,
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
    free(a.fts);
    return rc;
}

/* Tests (store_debug.h): index entries whose words begin with word. */
hd_status sq_search_debug_indexed(sq_store *st, const char *word, int64_t *n, hd_error *err)
{
    search_words w;
    search_words_parse(word, &w);
    hd_buf b = { 0 };
    search_fts5_query(&w, &b);
    sqlite3_stmt *q = stmt_prepare(st, "SELECT count(*) FROM message_search(:fts)", err);
    hd_status rc = HD_DB;
    if (q) {
        bind_text(q, ":fts", hd_buf_str(&b));
        rc = step_i64(st, q, "counting index entries", n, NULL, err);
        sqlite3_finalize(q);
    }
    hd_buf_free(&b);
    return rc;
}
