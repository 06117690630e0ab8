/* store_alloc.c - SQLite's memory allocator: small blocks come from free
 * lists kept per thread; larger ones, and what the lists will not keep, go
 * to malloc.
 *
 * Why: Debian's SQLite is built with SQLITE_OMIT_LOOKASIDE, so every run of
 * a statement allocates its cursors, records and registers with malloc and
 * frees them at its end: about 70 malloc/free pairs per delivery, in bursts
 * larger than glibc's per-thread cache (7 blocks per size), so most of them
 * took malloc's slow paths (fast bins, consolidation, unlinking chunks) and
 * cost the committer more instructions than some of its statements.  Here a
 * block freed by a thread is reused by that thread's next allocation of its
 * size class: a pointer pop and push.
 *
 * Bounds: a thread keeps at most KEEP_PER_CLASS blocks of a class and
 * KEEP_BYTES in all; the rest is freed at once, and a thread's blocks are
 * freed when it exits.  A block freed by another thread than the one that
 * allocated it simply joins the freeing thread's lists (each SQLite
 * connection of hookdesk is used by one thread, so this is rare).
 *
 * Not installed under AddressSanitizer: recycled blocks would hide a use
 * after free in SQLite from it; the tests, built with it, keep malloc for
 * SQLite and check this allocator itself through store_debug.h.
 */
#include "store_internal.h"
#include "store_debug.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define HEADER 16           /* the block's size, before it; keeps 16-byte alignment */
#define CLASS_STEP 16
#define CLASS_MAX 1024      /* larger blocks: malloc, always */
#define NCLASS (CLASS_MAX / CLASS_STEP)
#define KEEP_PER_CLASS 128
#define KEEP_BYTES (512 * 1024)

typedef struct free_block {
    struct free_block *next;
} free_block;

typedef struct thread_lists {
    free_block *head[NCLASS];
    unsigned count[NCLASS];
    size_t bytes;            /* kept in all the lists */
    bool registered;         /* its exit frees them (thread_key) */
} thread_lists;

static _Thread_local thread_lists lists;
static pthread_key_t thread_key;     /* its destructor frees a thread's lists */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static bool key_ok;                  /* thread_key was created */

static size_t round_size(int n)
{
    size_t sz = n > 0 ? (size_t)n : 1;
    return sz <= CLASS_MAX ? (sz + CLASS_STEP - 1) & ~(size_t)(CLASS_STEP - 1)
                           : (sz + 7) & ~(size_t)7;
}

static size_t *header_of(void *p)
{
    return (size_t *)(void *)((char *)p - HEADER);
}

static void *raw_alloc(size_t sz)
{
    char *h = malloc(sz + HEADER);
    if (!h)
        return NULL;
    *(size_t *)(void *)h = sz;
    return h + HEADER;
}

static void lists_release(void *arg)
{
    thread_lists *l = arg;
    for (int c = 0; c < NCLASS; c++) {
        while (l->head[c]) {
            free_block *b = l->head[c];
            l->head[c] = b->next;
            free(header_of(b));
        }
        l->count[c] = 0;
    }
    l->bytes = 0;
}

static void *pool_malloc(int n)
{
    size_t sz = round_size(n);
    if (sz <= CLASS_MAX) {
        int c = (int)(sz / CLASS_STEP) - 1;
        free_block *b = lists.head[c];
        if (b) {
            lists.head[c] = b->next;
            lists.count[c]--;
            lists.bytes -= sz;
            return b;
        }
    }
    return raw_alloc(sz);
}

static void pool_free(void *p)
{
    if (!p)
        return;
    size_t sz = *header_of(p);
    if (sz <= CLASS_MAX) {
        int c = (int)(sz / CLASS_STEP) - 1;
        if (lists.count[c] < KEEP_PER_CLASS && lists.bytes + sz <= KEEP_BYTES) {
            if (!lists.registered) {
                /* Once per thread: its exit gives the blocks back. */
                lists.registered = key_ok && pthread_setspecific(thread_key, &lists) == 0;
                if (!lists.registered) {
                    free(header_of(p));
                    return;
                }
            }
            free_block *b = p;
            b->next = lists.head[c];
            lists.head[c] = b;
            lists.count[c]++;
            lists.bytes += sz;
            return;
        }
    }
    free(header_of(p));
}

static int pool_size(void *p)
{
    return p ? (int)*header_of(p) : 0;
}

static void *pool_realloc(void *p, int n)
{
    size_t old = *header_of(p), sz = round_size(n);
    if (sz == old)
        return p;
    if (old > CLASS_MAX && sz > CLASS_MAX) {
        char *h = realloc(header_of(p), sz + HEADER);
        if (!h)
            return NULL;
        *(size_t *)(void *)h = sz;
        return h + HEADER;
    }
    void *q = pool_malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, old < sz ? old : sz);
    pool_free(p);
    return q;
}

static int pool_roundup(int n)
{
    return (int)round_size(n);
}

static int pool_init(void *unused)
{
    (void)unused;
    return SQLITE_OK;
}

static void pool_shutdown(void *unused)
{
    (void)unused;
}

static const sqlite3_mem_methods methods = {
    pool_malloc, pool_free, pool_realloc, pool_size, pool_roundup, pool_init,
    pool_shutdown, NULL,
};

static void key_create(void)
{
    key_ok = pthread_key_create(&thread_key, lists_release) == 0;
}

static void alloc_install_once(void)
{
    pthread_once(&key_once, key_create);
#if !defined(__SANITIZE_ADDRESS__)
    if (!key_ok)
        return;   /* SQLite keeps malloc */
    /* Fails (SQLITE_MISUSE) once SQLite is initialized, e.g. by a program
     * embedding the core that used SQLite first: it then keeps its own. */
    sqlite3_config(SQLITE_CONFIG_MALLOC, &methods);
#endif
}

void sq_alloc_install(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, alloc_install_once);
}

/* ---- for tests (store_debug.h) ---- */

const struct sqlite3_mem_methods *store_debug_alloc_methods(void)
{
    pthread_once(&key_once, key_create);
    return &methods;
}

size_t store_debug_alloc_kept(void)
{
    return lists.bytes;
}
