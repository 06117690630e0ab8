/* store_histogram.h - the sparkline's buckets from per-second attempt
 * counters (store_attempt_histogram), the same in both backends
 * (store_counters.c, pg_counters.c).  Pure C, no SQL; nothing outside the
 * store's files includes it. */
#ifndef HD_STORE_HISTOGRAM_H
#define HD_STORE_HISTOGRAM_H

#include <stdint.h>

#include "hd_error.h"

typedef struct store_histogram {
    uint32_t *out;           /* the caller's buckets, oldest first */
    int nbuckets;            /* 0: nothing to read */
    int64_t bucket_ms;       /* width of one bucket */
    int64_t start_ms;        /* where the first bucket starts */
    int64_t first_second;    /* the attempt_seconds rows to read: */
    int64_t end_second;      /* second >= first_second AND second < end_second */
} store_histogram;

/* Zeroes out[] and works out the seconds to read for nbuckets buckets of
 * bucket_ms ending at now_ms.  HD_INTERNAL when bucket_ms is not positive;
 * HD_OK with h->nbuckets 0 when nbuckets is not positive. */
hd_status store_histogram_init(store_histogram *h, int64_t now_ms, int64_t bucket_ms,
                               int nbuckets, uint32_t *out, hd_error *err);
/* Counts n attempts of one second (a row of attempt_seconds): a second goes
 * to the bucket its start falls in. */
void store_histogram_add(store_histogram *h, int64_t second, int64_t n);

#endif
