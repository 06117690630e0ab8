/* util.c - allocation, string buffers, clocks, time formats, files. */
#include "hd_util.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "hd_error.h"

static void out_of_memory(size_t n)
{
    /* Nothing useful can be returned to a caller that needed memory. */
    fprintf(stderr, "hookdesk: out of memory (allocating %zu bytes)\n", n);
    abort();
}

void *hd_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory(n);
    return p;
}

void *hd_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        out_of_memory(nmemb * size);
    return p;
}

void *hd_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        out_of_memory(n);
    return q;
}

void *hd_xgrow(void *items, int count, int *cap, size_t size, int first)
{
    if (count < *cap)
        return items;
    *cap = *cap ? *cap * 2 : first;
    return hd_xrealloc(items, (size_t)*cap * size);
}

int hd_thread_start(pthread_t *thread, void *(*run)(void *arg), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(thread, NULL, run, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

char *hd_xstrdup(const char *s)
{
    return s ? hd_xstrndup(s, strlen(s)) : NULL;
}

char *hd_xstrndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    size_t len = strnlen(s, n);
    char *p = hd_xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *hd_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = NULL;
    int n = vasprintf(&p, fmt, ap);
    va_end(ap);
    if (n < 0)
        out_of_memory(0);
    return p;
}

static void buf_reserve(hd_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = hd_xrealloc(b->data, cap);
    b->cap = cap;
}

void hd_buf_append(hd_buf *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void hd_buf_puts(hd_buf *b, const char *s)
{
    hd_buf_append(b, s, strlen(s));
}

void hd_buf_putc(hd_buf *b, char c)
{
    hd_buf_append(b, &c, 1);
}

void hd_buf_printf(hd_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n > 0) {
        buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void hd_buf_reset(hd_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void hd_buf_free(hd_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *hd_buf_steal(hd_buf *b)
{
    char *p = b->data ? b->data : hd_xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

const char *hd_buf_str(const hd_buf *b)
{
    return b->data ? b->data : "";
}

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t hd_now_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

int64_t hd_mono_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

void hd_time_rfc3339(int64_t epoch_ms, char out[32])
{
    time_t t = (time_t)(epoch_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void hd_time_local(int64_t epoch_ms, char out[32])
{
    time_t t = (time_t)(epoch_ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
}

bool hd_time_parse(const char *s, int64_t *epoch_ms)
{
    /* Typed times are local time, as the tables show them; a trailing Z
     * (RFC 3339, as the JSON output prints them) means UTC. */
    static const struct {
        const char *format;
        bool utc;
    } formats[] = {
        { "%Y-%m-%dT%H:%M:%SZ", true }, { "%Y-%m-%dT%H:%MZ", true },
        { "%Y-%m-%dT%H:%M:%S", false }, { "%Y-%m-%d %H:%M:%S", false },
        { "%Y-%m-%dT%H:%M", false },    { "%Y-%m-%d %H:%M", false },
        { "%Y-%m-%d", false },
    };
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *end = strptime(s, formats[i].format, &tm);
        if (end && *end == '\0') {
            tm.tm_isdst = -1;   /* let mktime find whether DST applies */
            time_t t = formats[i].utc ? timegm(&tm) : mktime(&tm);
            if (t == (time_t)-1)
                return false;
            *epoch_ms = (int64_t)t * 1000;
            return true;
        }
    }
    return false;
}

int hd_read_file(const char *path, hd_buf *out, hd_error *err)
{
    return hd_read_file_max(path, UINT64_MAX, out, err);
}

int hd_read_file_max(const char *path, uint64_t max, hd_buf *out, hd_error *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f)
        return hd_error_set(err, HD_IO, "%s: cannot open: %s", path, strerror(errno));
    char chunk[65536];
    while (out->len <= max) {
        size_t want = max - out->len < sizeof chunk ? (size_t)(max - out->len) + 1 : sizeof chunk;
        size_t n = fread(chunk, 1, want, f);
        if (n == 0)
            break;
        hd_buf_append(out, chunk, n);
    }
    int failed = ferror(f);
    int saved = errno;
    if (!is_stdin)
        fclose(f);
    if (failed)
        return hd_error_set(err, HD_IO, "%s: read failed: %s", is_stdin ? "stdin" : path,
                            strerror(saved));
    if (!out->data)
        hd_buf_puts(out, "");
    return HD_OK;
}

void hd_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "hookdesk: getrandom failed: %s\n", strerror(errno));
            abort();
        }
        p += got;
        n -= (size_t)got;
    }
}
