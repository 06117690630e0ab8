/* hd_util.h - small helpers every module needs: allocation that cannot
 * return NULL silently, a growable string buffer, clocks and time formats. */
#ifndef HD_UTIL_H
#define HD_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Allocation failure is the one error the core treats as fatal: these abort
 * with a message (there is nothing sensible to return to). */
void *hd_xmalloc(size_t n);
void *hd_xcalloc(size_t nmemb, size_t size);
void *hd_xrealloc(void *p, size_t n);
/* Room for one more in an array of *cap items (size bytes each) that holds
 * count: when it is full *cap doubles (from first) and the array moves.
 * Returns the array. */
void *hd_xgrow(void *items, int count, int *cap, size_t size, int first);
/* Frees a list struct's `items` (count of them, each with ITEM_FREE(&item))
 * and empties it; a NULL list is fine. */
#define HD_LIST_FREE(list, ITEM_FREE)                                              \
    do {                                                                           \
        if (list) {                                                                \
            for (int i_ = 0; i_ < (list)->count; i_++)                             \
                ITEM_FREE(&(list)->items[i_]);                                     \
            free((list)->items);                                                   \
            (list)->items = NULL;                                                  \
            (list)->count = 0;                                                     \
        }                                                                          \
    } while (0)
/* pthread_create with every signal blocked in the new thread: signals
 * stay with the thread that handles them.  Returns pthread_create's code. */
int hd_thread_start(pthread_t *thread, void *(*run)(void *arg), void *arg);

char *hd_xstrdup(const char *s);              /* NULL stays NULL */
char *hd_xstrndup(const char *s, size_t n);
char *hd_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable, always NUL-terminated byte buffer. */
typedef struct hd_buf {
    char *data;     /* NUL-terminated contents (NULL until first append) */
    size_t len;     /* bytes used, not counting the NUL */
    size_t cap;     /* bytes allocated */
} hd_buf;

void hd_buf_append(hd_buf *b, const void *data, size_t len);
void hd_buf_puts(hd_buf *b, const char *s);
void hd_buf_putc(hd_buf *b, char c);
void hd_buf_printf(hd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void hd_buf_reset(hd_buf *b);                 /* len = 0, keeps memory */
void hd_buf_free(hd_buf *b);
char *hd_buf_steal(hd_buf *b);                /* caller frees; b is emptied */
const char *hd_buf_str(const hd_buf *b);      /* "" when empty */

/* Clocks, in milliseconds. */
int64_t hd_now_ms(void);                      /* wall clock, Unix epoch */
int64_t hd_mono_ms(void);                     /* monotonic, for intervals */

/* "2026-11-29T20:58:55Z" (RFC 3339, UTC, seconds); out needs 21 bytes. */
void hd_time_rfc3339(int64_t epoch_ms, char out[32]);
/* "2026-11-29 20:58:55" in local time, for tables; out needs 20 bytes. */
void hd_time_local(int64_t epoch_ms, char out[32]);
/* Parse "2026-11-29", "2026-11-29 20:58", "2026-11-29T20:58:55" as local
 * time (what hd_time_local shows), "2026-11-29T20:58:55Z" as UTC. */
bool hd_time_parse(const char *s, int64_t *epoch_ms);

/* Read a whole file or stdin ("-") into memory. */
struct hd_error;
int hd_read_file(const char *path, hd_buf *out, struct hd_error *err);
/* The same, but stops once more than max bytes are read (at most max + 1
 * are kept): a 1 GB file or an endless pipe is never read in full. */
int hd_read_file_max(const char *path, uint64_t max, hd_buf *out, struct hd_error *err);

/* Fill buf with n cryptographically random bytes (getrandom). */
void hd_random_bytes(void *buf, size_t n);

#endif
