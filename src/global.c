/* global.c - the core's process-wide setup (hd_global.h). */
#include "hd_global.h"

#include <curl/curl.h>
#include <locale.h>
#include <signal.h>

#include "hd_store.h"

hd_status hd_global_init(hd_error *err)
{
    setlocale(LC_ALL, "");
    signal(SIGPIPE, SIG_IGN);
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
