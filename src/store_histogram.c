/* store_histogram.c - the sparkline's buckets from per-second attempt
 * counters, the same in both backends (store_histogram.h). */
#include "store_histogram.h"

#include <string.h>

hd_status store_histogram_init(store_histogram *h, int64_t now_ms, int64_t bucket_ms,
                               int nbuckets, uint32_t *out, hd_error *err)
{
    memset(h, 0, sizeof *h);
    if (nbuckets <= 0)
        return HD_OK;
    memset(out, 0, (size_t)nbuckets * sizeof *out);
    if (bucket_ms <= 0)
        return hd_error_set(err, HD_INTERNAL, "attempt histogram: bucket must be positive");
    h->out = out;
    h->nbuckets = nbuckets;
    h->bucket_ms = bucket_ms;
    /* Counted per whole second: the first second read is the one the
     * window's start falls in. */
    h->start_ms = now_ms - bucket_ms * nbuckets;
    h->first_second = h->start_ms / 1000;
    h->end_second = now_ms / 1000 + 1;
    return HD_OK;
}

void store_histogram_add(store_histogram *h, int64_t second, int64_t n)
{
    if (h->nbuckets <= 0)
        return;
    int64_t at = second * 1000;
    int64_t b = at < h->start_ms ? 0 : (at - h->start_ms) / h->bucket_ms;
    if (b >= h->nbuckets)
        b = h->nbuckets - 1;
    h->out[b] += (uint32_t)n;
}
