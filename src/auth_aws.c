/* auth_aws.c - the parts of aws / aws-s3 that are ours: the S3 object name
 * and the payload hash.  The SigV4 signature itself is computed by libcurl
 * (CURLOPT_AWS_SIGV4, set up by request.c and http.c); the tests check it
 * with an independent implementation against a published AWS vector.
 */
#include "hd_auth.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "hd_util.h"

void auth_sha256_hex(const void *data, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32) {
        out[0] = '\0';
        return;
    }
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* A placeholder's value as safe key characters: anything outside
 * [A-Za-z0-9._-] becomes '_', so that a customer name can never add a path
 * segment, a "..", or a character S3 would need encoded. */
static void put_safe(hd_buf *b, const char *v)
{
    if (!v || !*v) {
        hd_buf_putc(b, '_');
        return;
    }
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)v; *p && n < 200; p++, n++) {
        unsigned char c = *p;
        hd_buf_putc(b, (char)(isalnum(c) || c == '-' || c == '_' || (c == '.' && n > 0) ? c : '_'));
    }
}

char *auth_s3_object_key(const char *format, const message *m)
{
    if (!format || !*format)
        format = AUTH_S3_DEFAULT_FORMAT;
    hd_buf b = {0};
    char id[32], date[16];
    snprintf(id, sizeof id, "%" PRId64, m->id);
    time_t t = (time_t)((m->created_at ? m->created_at : hd_now_ms()) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    for (const char *p = format; *p; p++) {
        if (strncmp(p, "{id}", 4) == 0) {
            put_safe(&b, id);
            p += 3;
        } else if (strncmp(p, "{action}", 8) == 0) {
            put_safe(&b, m->action);
            p += 7;
        } else if (strncmp(p, "{customer}", 10) == 0) {
            put_safe(&b, m->customer);
            p += 9;
        } else if (strncmp(p, "{date}", 6) == 0) {
            put_safe(&b, date);
            p += 5;
        } else {
            hd_buf_putc(&b, *p);
        }
    }
    return hd_buf_steal(&b);
}
