/* store_debug.h - hooks for tests of the store; not for product code.
 *
 * Lets tests check query plans without any SQL leaving src/store.c.
 */
#ifndef HD_STORE_DEBUG_H
#define HD_STORE_DEBUG_H

#include "hd_store.h"
#include "hd_util.h"

/* Appends the EXPLAIN QUERY PLAN lines ("detail" column, one per line) of a
 * store query to out.  name is a cached statement ("CLAIM", "NEXT_DUE",
 * "PURGE", ... as in STORE_STMT_LIST) or "page" / "count" / "resend_failed",
 * which are built from f (and dir for "page"). */
hd_status store_debug_plan(store *st, const char *name, const msg_filter *f, page_dir dir,
                           hd_buf *out, hd_error *err);

#endif
