/* auth_aws.c - the parts of aws / aws-s3 that are ours: their checks, the
 * S3 object name, the payload hash and the headers that go with the
 * signature.  The SigV4 signature itself is computed by libcurl
 * (CURLOPT_AWS_SIGV4, set up by request.c and http.c); the tests check it
 * with an independent implementation against a published AWS vector.
 */
#include "auth_internal.h"

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

/* ---- the kinds' entries in the table (auth_kinds.c) ---- */

static bool is_empty(const char *s)
{
    return !s || !*s;
}

/* Region and service names: lower-case letters, digits and '-'. */
static bool aws_name_ok(const char *s)
{
    if (is_empty(s) || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-'))
            return false;
    return true;
}

/* S3 bucket naming rules (the path-style subset): 3..63 of [a-z0-9.-],
 * starting and ending with a letter or digit. */
static bool bucket_ok(const char *b)
{
    size_t n = b ? strlen(b) : 0;
    if (n < 3 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        if (!(islower(c) || isdigit(c) || c == '.' || c == '-'))
            return false;
    }
    return isalnum((unsigned char)b[0]) && isalnum((unsigned char)b[n - 1]) && !strstr(b, "..");
}

static hd_status check_object_format(const char *f, hd_error *err)
{
    static const char *const names[] = { "{id}", "{action}", "{customer}", "{date}" };
    if (*f == '/')
        return hd_error_field(err, HD_INVALID, "auth.object_format", "must not start with '/'");
    if (strlen(f) > 512)
        return hd_error_field(err, HD_INVALID, "auth.object_format",
                              "is longer than 512 characters");
    for (const char *p = f; *p; p++) {
        if (*p == '{') {
            size_t i = 0;
            for (; i < 4; i++)
                if (strncmp(p, names[i], strlen(names[i])) == 0)
                    break;
            if (i == 4)
                return hd_error_field(err, HD_INVALID,
                                    "auth.object_format", "unknown placeholder at '%.20s' "
                                    "({id} {action} {customer} {date})", p);
            p += strlen(names[i]) - 1;
            continue;
        }
        unsigned char c = (unsigned char)*p;
        if (!(isalnum(c) || strchr("/._-!*'()", c)))
            return hd_error_field(err, HD_INVALID,
                                "auth.object_format", "character '%c' is not safe in an object "
                                "name (use A-Z a-z 0-9 / . _ - ! * ' ( ))", c);
    }
    if (strstr(f, "//") || strstr(f, "/./") || strstr(f, "../") || strncmp(f, "./", 2) == 0)
        return hd_error_field(err, HD_INVALID, "auth.object_format", "empty or dot path segment");
    return HD_OK;
}

static hd_status check_aws(const auth_kind_ops *kind, const site *s, json_t *o, bool s3,
                           hd_error *err)
{
    if (is_empty(s->auth_user))
        return hd_error_field(err, HD_INVALID, "auth_user", "an access key id is required for %s",
                            kind->name);
    if (strchr(s->auth_user, ':') || auth_has_control(s->auth_user) || strchr(s->auth_user, ' '))
        return hd_error_field(err, HD_INVALID,
                            "auth_user", "the access key id must not contain ':', spaces or "
                            "control characters");
    if (is_empty(s->auth_secret))
        return hd_error_field(err, HD_INVALID, "auth_secret",
                              "a secret access key is required for %s",
                            kind->name);
    if (auth_has_control(s->auth_secret))
        return hd_error_field(err, HD_INVALID, "auth_secret", "contains a control character");
    const char *region = auth_json_str(o, "region");
    if (is_empty(region))
        return hd_error_field(err, HD_INVALID, "auth.region", "is required for %s",
                            kind->name);
    if (!aws_name_ok(region))
        return hd_error_field(err, HD_INVALID,
                            "auth.region", "'%s' is not a region name (e.g. eu-west-1)", region);
    if (!s3) {
        const char *service = auth_json_str(o, "service");
        if (is_empty(service))
            return hd_error_field(err, HD_INVALID, "auth.service",
                                  "is required for aws (e.g. execute-api)");
        if (!aws_name_ok(service))
            return hd_error_field(err, HD_INVALID,
                                "auth.service", "'%s' is not a service name (e.g. execute-api)",
                                service);
        return HD_OK;
    }
    const char *bucket = auth_json_str(o, "bucket");
    if (is_empty(bucket))
        return hd_error_field(err, HD_INVALID, "auth.bucket", "is required for aws-s3");
    if (!bucket_ok(bucket))
        return hd_error_field(err, HD_INVALID,
                              "auth.bucket", "'%s' is not a bucket name (3-63 of a-z 0-9 . -)",
                              bucket);
    const char *fmt = auth_json_str(o, "object_format");
    if (fmt)
        return check_object_format(fmt, err);
    return HD_OK;
}

hd_status auth_aws_check(const auth_kind_ops *kind, const site *s, json_t *o,
                          hd_error *err)
{
    return check_aws(kind, s, o, false, err);
}

hd_status auth_aws_s3_check(const auth_kind_ops *kind, const site *s, json_t *o,
                          hd_error *err)
{
    return check_aws(kind, s, o, true, err);
}

/* aws, aws-s3: libcurl signs (SigV4) with the provider string and the
 * key:secret pair; we add what it signs along: the session token and, for
 * S3, the payload hash, which S3 requires as a header. */
hd_status auth_aws_sign(const auth_kind_ops *kind, const site *s, const message *m,
                         const request_context *ctx, http_request *r, hd_error *err)
{
    (void)ctx;
    bool s3 = s->auth == AUTH_AWS_S3;
    char *region = auth_extra_get(s->auth_extra, "region");
    char *service = s3 ? hd_xstrdup("s3") : auth_extra_get(s->auth_extra, "service");
    char *token = auth_extra_get(s->auth_extra, "session_token");
    hd_status st = HD_OK;
    if (!region || !service) {
        st = hd_error_field(err, HD_INVALID, region ? "auth.service" : "auth.region",
                            "is required for %s", kind->name);
        goto out;
    }
    if (s3) {
        char *bucket = auth_extra_get(s->auth_extra, "bucket");
        char *format = auth_extra_get(s->auth_extra, "object_format");
        if (!bucket) {
            free(format);
            st = hd_error_field(err, HD_INVALID, "auth.bucket", "is required for aws-s3");
            goto out;
        }
        char *key = auth_s3_object_key(format, m);
        char *path = hd_xasprintf("%s/%s", bucket, key);
        free(r->url);
        /* Path style; the message path is not used. */
        r->url = request_join_url(s->url ? s->url : "", path);
        snprintf(r->method, sizeof r->method, "PUT");
        free(path);
        free(key);
        free(bucket);
        free(format);
        char hash[65];
        auth_sha256_hex(r->body.data ? r->body.data : "", r->body.len, hash);
        request_add_header(r, "x-amz-content-sha256", hash, hash);
    }
    if (token) {
        if (!request_header_value_ok(token)) {
            st = hd_error_field(err, HD_INVALID, "auth.session_token", "contains a line break");
            goto out;
        }
        request_add_header(r, "x-amz-security-token", token, AUTH_MASK);
    }
    r->aws_sigv4 = hd_xasprintf("aws:amz:%s:%s", region, service);
    r->userpwd = hd_xasprintf("%s:%s", s->auth_user ? s->auth_user : "",
                              s->auth_secret ? s->auth_secret : "");
out:
    free(region);
    free(service);
    free(token);
    return st;
}

