/* store_debug.h - hooks for tests of the store; not for product code.
 *
 * Lets tests check query plans without any SQL leaving the store
 * (src/store_*.c; implemented in src/store_debug.c).
 */
#ifndef HD_STORE_DEBUG_H
#define HD_STORE_DEBUG_H

#include "hd_store.h"
#include "hd_util.h"

/* Appends the EXPLAIN QUERY PLAN lines ("detail" column, one per line) of a
 * store query to out.  name is a cached statement ("CLAIM", "SITE_FIRST_DUE",
 * "PURGE", ... as in STORE_STMT_LIST) or "page" / "count" / "resend_failed",
 * which are built from f (and dir for "page"). */
hd_status store_debug_plan(store *st, const char *name, const msg_filter *f, page_dir dir,
                           hd_buf *out, hd_error *err);

/* SQLite virtual-machine steps run so far by this connection's cached
 * statements (sqlite3_stmt_status SQLITE_STMTSTATUS_VM_STEP, summed; the
 * counters survive resets).  The difference around a store call is what the
 * call cost, whatever its plan: a test can bound it, so that a plan
 * regression (a scan where a seek was meant) fails. */
uint64_t store_debug_vm_steps(store *st);

/* Entries of the search index (either backend) with a word beginning
 * with `word`: what a purge must remove. */
hd_status store_debug_search_indexed(store *st, const char *word, int64_t *n, hd_error *err);

/* A new database file at schema `version` (made by the migrations up to
 * it), for tests of the later migrations. */
hd_status store_debug_create_at_version(const char *path, int version, hd_error *err);

/* The allocator the store gives SQLite (src/store_alloc.c), whether or not
 * it is installed (it is not under AddressSanitizer), so that a test can
 * call it directly; and how many bytes this thread's free lists keep. */
struct sqlite3_mem_methods;
const struct sqlite3_mem_methods *store_debug_alloc_methods(void);
size_t store_debug_alloc_kept(void);

#endif
