/* common.c - helpers of the fuzz harnesses (see common.h). */
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hd_sanitize.h"

uint8_t fz_byte(fz_input *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

char *fz_dup(const void *data, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    if (n)
        memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

char *fz_str(fz_input *in)
{
    const uint8_t *nul = in->n ? memchr(in->p, '\0', in->n) : NULL;
    size_t len = nul ? (size_t)(nul - in->p) : in->n;
    char *s = fz_dup(in->p, len);
    size_t used = nul ? len + 1 : len;
    in->p += used;
    in->n -= used;
    return s;
}

char *fz_rest(fz_input *in, size_t *len)
{
    char *s = fz_dup(in->p, in->n);
    if (len)
        *len = in->n;
    in->p += in->n;
    in->n = 0;
    return s;
}

bool fz_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t k;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i <= k)
            return false;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

bool fz_strict(void)
{
    static int strict = -1;
    if (strict < 0) {
        const char *v = getenv("HD_FUZZ_STRICT");
        strict = v && *v && strcmp(v, "0") != 0;
    }
    return strict;
}

void fz_fail(const char *what, ...)
{
    va_list ap;
    va_start(ap, what);
    fputs("hookdesk fuzz: rule broken: ", stderr);
    vfprintf(stderr, what, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* ---- libcurl callbacks of src/http.c ---- */

curl_write_callback fz_header_cb;
curl_write_callback fz_body_cb;
curl_debug_callback fz_debug_cb;

void fz_curl_reset(void)
{
    fz_header_cb = NULL;
    fz_body_cb = NULL;
    fz_debug_cb = NULL;
}

/* The linker sends src/http.c's calls here (-Wl,--wrap=curl_easy_setopt);
 * the value is passed on to libcurl with the type its option number says. */
CURLcode __real_curl_easy_setopt(CURL *h, CURLoption opt, ...);
CURLcode __wrap_curl_easy_setopt(CURL *h, CURLoption opt, ...);

CURLcode __wrap_curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
    va_list ap;
    va_start(ap, opt);
    CURLcode rc;
    if (opt < CURLOPTTYPE_OBJECTPOINT) {
        long v = va_arg(ap, long);
        rc = __real_curl_easy_setopt(h, opt, v);
    } else if (opt < CURLOPTTYPE_FUNCTIONPOINT) {
        void *v = va_arg(ap, void *);
        rc = __real_curl_easy_setopt(h, opt, v);
    } else if (opt < CURLOPTTYPE_OFF_T) {
        void (*fn)(void) = va_arg(ap, void (*)(void));
        if (opt == CURLOPT_HEADERFUNCTION)
            fz_header_cb = (curl_write_callback)fn;
        else if (opt == CURLOPT_WRITEFUNCTION)
            fz_body_cb = (curl_write_callback)fn;
        else if (opt == CURLOPT_DEBUGFUNCTION)
            fz_debug_cb = (curl_debug_callback)fn;
        rc = __real_curl_easy_setopt(h, opt, fn);
    } else if (opt < CURLOPTTYPE_BLOB) {
        curl_off_t v = va_arg(ap, curl_off_t);
        rc = __real_curl_easy_setopt(h, opt, v);
    } else {
        void *v = va_arg(ap, void *);
        rc = __real_curl_easy_setopt(h, opt, v);
    }
    va_end(ap);
    return rc;
}

void fz_check_sanitized(const char *s, size_t len, unsigned flags)
{
    FZ_CHECK(fz_utf8_valid(s, len), "sanitised text is not valid UTF-8");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            FZ_CHECK(flags & SANITIZE_KEEP_NEWLINES, "newline kept without the flag");
        else if (c == '\t')
            FZ_CHECK(flags & SANITIZE_KEEP_TABS, "tab kept without the flag");
        else
            FZ_CHECK(c >= 0x20 && c != 0x7f, "control byte 0x%02x kept", c);
        /* C1 controls U+0080..U+009F are C2 80..C2 9F in UTF-8. */
        if (c == 0xc2 && i + 1 < len)
            FZ_CHECK((unsigned char)s[i + 1] >= 0xa0, "C1 control kept");
    }
}
