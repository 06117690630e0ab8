/* global.c - the core's process-wide setup (hd_global.h). */
#include "hd_global.h"

#include <curl/curl.h>
#include <locale.h>
#include <malloc.h>
#include <signal.h>

#include "hd_store.h"

hd_status hd_global_init(hd_error *err)
{
    setlocale(LC_ALL, "");
    signal(SIGPIPE, SIG_IGN);
    /* glibc gives the top of a thread's heap back to the kernel as soon as
     * 128 KiB of it is free (madvise), and the next burst of allocations
     * faults the pages in again: the delivery thread did that ~500 times
     * per 100,000 deliveries (~10,000 page faults).  A long-running sender
     * keeps up to 32 MiB free instead; blocks of 4 MiB and more still get
     * their own mapping, returned when freed.  (Setting these fixes the
     * thresholds glibc otherwise moves by itself.) */
    mallopt(M_TRIM_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    store_global_init();
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK)
        return hd_error_set(err, HD_INTERNAL, "curl_global_init: %s", curl_easy_strerror(rc));
    return HD_OK;
}

void hd_global_cleanup(void)
{
    curl_global_cleanup();
}
