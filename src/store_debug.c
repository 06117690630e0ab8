/* store_debug.c - hooks for tests of the SQLite store (store_debug.h); not
 * for product code. */
#include "store_debug.h"

#include <string.h>

#include "store_internal.h"

static uint64_t vm_steps_of(sqlite3_stmt *s)
{
    return s ? (uint64_t)sqlite3_stmt_status(s, SQLITE_STMTSTATUS_VM_STEP, 0) : 0;
}

hd_status store_debug_search_indexed(store *handle, const char *word, int64_t *n, hd_error *err)
{
    return handle->pg ? pg_search_debug_indexed(handle->pg, word, n, err)
                      : sq_search_debug_indexed(handle->sq, word, n, err);
}

hd_status store_debug_create_at_version(const char *path, int version, hd_error *err)
{
    return schema_create_at(path, version, err);
}

uint64_t store_debug_vm_steps(store *handle)
{
    const sq_store *st = handle->sq;
    uint64_t n = 0;
    if (!st)
        return 0;
    for (int i = 0; i < STMT_COUNT; i++)
        n += vm_steps_of(st->stmts[i]);
    for (int i = 0; i < SHAPE_COUNT; i++) {
        for (int d = 0; d < PAGE_DIRS; d++)
            n += vm_steps_of(st->page_stmts[i][d]);
        n += vm_steps_of(st->count_stmts[i]);
    }
    return n + st->search_vm_steps;
}

hd_status store_debug_plan(store *handle, const char *name, const msg_filter *f, page_dir dir,
                           hd_buf *out, hd_error *err)
{
    sq_store *st = handle->sq;
    if (!st)
        return hd_error_set(err, HD_INTERNAL, "store_debug_plan: SQLite stores only");
    hd_buf sql = { 0 };
    hd_buf_puts(&sql, "EXPLAIN QUERY PLAN ");
    msg_filter single = { 0 };
    if (f) {
        /* Several statuses run as one query per status: explain that one. */
        single = *f;
        unsigned mask = strcmp(name, "page") == 0 ? page_mask(f) : filter_mask(f);
        if (popcount_mask(mask) > 1)
            single.status_mask = mask & -mask;
        f = &single;
    }
    if (strcmp(name, "page") == 0) {
        page_sql(&sql, filter_shape(f), dir);
    } else if (strcmp(name, "count") == 0) {
        count_sql(&sql, filter_shape(f));
    } else if (strcmp(name, "resend_failed") == 0) {
        msg_filter ff = { 0 };
        if (f)
            ff = *f;
        ff.status_mask = MSG_STATUS_BIT(MSG_FAILED);
        resend_failed_sql(&sql, filter_shape(&ff));
    } else {
        int i = 0;
        while (i < STMT_COUNT && strcmp(stmt_name[i], name) != 0)
            i++;
        if (i == STMT_COUNT) {
            hd_buf_free(&sql);
            return hd_error_set(err, HD_INTERNAL, "store_debug_plan: no query '%s'", name);
        }
        hd_buf_puts(&sql, stmt_sql[i]);
    }
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(st->db, hd_buf_str(&sql), -1, &q, NULL);
    hd_buf_free(&sql);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(q);
        return db_fail(st, err, "explaining a query");
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const unsigned char *detail = sqlite3_column_text(q, 3);
        hd_buf_printf(out, "%s\n", detail ? (const char *)detail : "");
    }
    hd_status r = rc == SQLITE_DONE ? HD_OK : db_fail(st, err, "explaining a query");
    sqlite3_finalize(q);
    return r;
}
