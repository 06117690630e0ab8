/* floor.c - hd-floor: the floor of any libcurl-based webhook sender, for
 * bench/run.sh ("hot path").
 *
 *   hd-floor URL N [K [BODY]]
 *
 * POSTs BODY (default: the bench's JSON payload) N times to URL with
 * exactly K transfers in flight (default 32; fewer only at the very end),
 * with the headers hookdesk sends (Content-Type: application/json,
 * User-Agent, webhook-id).  It keeps nothing: K easy handles are set up
 * once, and a finished one is added again as it is, so libcurl reuses its
 * connection from the multi handle's cache; response bodies are dropped.
 * Prints "hd-floor: N requests, M 2xx" and exits 1 if any request failed
 * (transport error or a status outside 2xx), 2 on bad usage or setup.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BODY \
    "{\"order\":{\"id\":42,\"total\":\"19.99\",\"currency\":\"EUR\"},\"note\":\"benchmark payload\"}"

static size_t discard(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    (void)ptr;
    (void)userdata;
    return size * nmemb;
}

static long parse_count(const char *s, const char *what)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1) {
        fprintf(stderr, "hd-floor: %s must be a positive integer, got '%s'\n", what, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: hd-floor URL N [K [BODY]]\n");
        return 2;
    }
    const char *url = argv[1];
    long n = parse_count(argv[2], "N");
    long k = argc > 3 ? parse_count(argv[3], "K") : 32;
    const char *body = argc > 4 ? argv[4] : DEFAULT_BODY;
    if (k > n)
        k = n;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "hd-floor: curl_global_init failed\n");
        return 2;
    }
    CURLM *multi = curl_multi_init();
    struct curl_slist *hdrs = NULL;
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "webhook-id: msg_floor");
    CURL **easy = calloc((size_t)k, sizeof *easy);
    if (!multi || !hdrs || !easy) {
        fprintf(stderr, "hd-floor: out of memory\n");
        return 2;
    }
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, k);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, k);

    long started = 0, done = 0, ok = 0, failed = 0;
    for (long i = 0; i < k; i++) {
        CURL *e = curl_easy_init();
        if (!e) {
            fprintf(stderr, "hd-floor: curl_easy_init failed\n");
            return 2;
        }
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "hd-floor");
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
        easy[i] = e;
        curl_multi_add_handle(multi, e);
        started++;
    }

    while (done < n) {
        int running = 0;
        CURLMcode mc = curl_multi_perform(multi, &running);
        if (mc != CURLM_OK) {
            fprintf(stderr, "hd-floor: curl_multi_perform: %s\n", curl_multi_strerror(mc));
            return 2;
        }
        CURLMsg *msg;
        int left;
        int readded = 0;
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *e = msg->easy_handle;
            CURLcode rc = msg->data.result;
            long code = 0;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
            done++;
            if (rc == CURLE_OK && code >= 200 && code < 300) {
                ok++;
            } else {
                if (failed++ < 5)
                    fprintf(stderr, "hd-floor: request failed: %s (HTTP %ld)\n",
                            curl_easy_strerror(rc), code);
            }
            curl_multi_remove_handle(multi, e);
            if (started < n) {
                curl_multi_add_handle(multi, e);
                started++;
                readded = 1;
            }
        }
        if (done >= n)
            break;
        /* A handle added again starts on the next curl_multi_perform. */
        if (!readded) {
            mc = curl_multi_poll(multi, NULL, 0, 1000, NULL);
            if (mc != CURLM_OK) {
                fprintf(stderr, "hd-floor: curl_multi_poll: %s\n", curl_multi_strerror(mc));
                return 2;
            }
        }
    }

    for (long i = 0; i < k; i++)
        curl_easy_cleanup(easy[i]);
    free(easy);
    curl_multi_cleanup(multi);
    curl_slist_free_all(hdrs);
    curl_global_cleanup();
    printf("hd-floor: %ld requests, %ld 2xx\n", done, ok);
    return failed ? 1 : 0;
}
