/* receiver.c - hd-receiver: a scriptable loopback webhook receiver for the
 * tests, the benchmarks and the `make run` demo (libmicrohttpd).
 *
 *   hd-receiver --port N [--bind ADDR] [--log FILE] [--hmac-secret whsec_...]
 *
 * Prints "listening on PORT" once ready; serves until SIGTERM/SIGINT.  The
 * request path scripts the answer (see route()); every request is logged as
 * one JSON line.  The HMAC check uses its own SHA-256 here, on purpose not
 * src/sign.c, so that a bug there cannot hide itself.
 *
 * Routes: /status/CODE, /seq/C1,C2,..., /delay/MS, /drop, /keepthendrop, /huge/BYTES,
 * /manyheaders/N, /escape, /flaky/PCT, /redirect, /retryafter/CODE/VALUE,
 * /oauth/...; anything else is 200.
 *
 * OAuth2 (client-credentials) playground, one independent "realm" per
 * name so that every test site can have its own:
 *   POST /oauth/REALM/token[?expires_in=S][&fail=CODE]
 *        issues "REALM-N" (N counts the fetches) valid for S seconds
 *        (default 3600), or answers CODE with {"error":"server_error"};
 *   ANY  /oauth/REALM/protected...  200 when "Authorization: Bearer" carries
 *        the realm's current, unexpired token, else 401;
 *   ANY  /oauth/REALM/revoke        forgets the current token (the next
 *        protected request with it gets 401).
 * Retry-After (issue #8):
 *   ANY  /retryafter/CODE/VALUE     answers CODE with "Retry-After: VALUE";
 *        VALUE is %-decoded, so that a date fits in a path:
 *        /retryafter/503/Sun,%2006%20Nov%201994%2008:49:37%20GMT
 * Other methods (PUT for the S3-like target) are logged like POSTs: method,
 * path, headers and body, and answered by the same routes.
 *
 * Threads: libmicrohttpd runs one thread per connection (so /delay does not
 * hold up other requests); `lock` guards the log file, the /seq counters,
 * the /flaky random state and the OAuth realms.
 */
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* ---- SHA-256 / HMAC (FIPS 180-4, RFC 2104) ---- */

typedef struct sha256 {
    uint32_t h[8];
    uint64_t total;
    unsigned char block[64];
    size_t used;
} sha256;

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void sha_block(sha256 *s, const unsigned char *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
    uint32_t e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d;
    s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

static void sha_init(sha256 *s)
{
    static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    memcpy(s->h, iv, sizeof iv);
    s->total = 0;
    s->used = 0;
}

static void sha_update(sha256 *s, const void *data, size_t len)
{
    const unsigned char *p = data;
    s->total += len;
    while (len > 0) {
        size_t take = 64 - s->used < len ? 64 - s->used : len;
        memcpy(s->block + s->used, p, take);
        s->used += take;
        p += take;
        len -= take;
        if (s->used == 64) {
            sha_block(s, s->block);
            s->used = 0;
        }
    }
}

static void sha_final(sha256 *s, unsigned char out[32])
{
    uint64_t bits = s->total * 8;
    unsigned char pad = 0x80;
    sha_update(s, &pad, 1);
    unsigned char zero = 0;
    while (s->used != 56)
        sha_update(s, &zero, 1);
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha_update(s, len, 8);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (unsigned char)(s->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)s->h[i];
    }
}

static void hmac_sha256(const unsigned char *key, size_t keylen, const char *const parts[],
                        const size_t lens[], int nparts, unsigned char out[32])
{
    unsigned char k[64] = {0};
    if (keylen > 64) {
        sha256 s;
        sha_init(&s);
        sha_update(&s, key, keylen);
        sha_final(&s, k);
    } else {
        memcpy(k, key, keylen);
    }
    unsigned char ipad[64], opad[64], inner[32];
    for (int i = 0; i < 64; i++) {
        ipad[i] = k[i] ^ 0x36;
        opad[i] = k[i] ^ 0x5c;
    }
    sha256 s;
    sha_init(&s);
    sha_update(&s, ipad, 64);
    for (int i = 0; i < nparts; i++)
        sha_update(&s, parts[i], lens[i]);
    sha_final(&s, inner);
    sha_init(&s);
    sha_update(&s, opad, 64);
    sha_update(&s, inner, 32);
    sha_final(&s, out);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_encode(const unsigned char *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len) v |= in[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? b64[v & 63] : '=';
    }
    out[o] = '\0';
}

/* Returns decoded length or -1. */
static int b64_decode(const char *in, unsigned char *out, size_t outcap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (; *in && *in != '='; in++) {
        const char *p = strchr(b64, *in);
        if (!p)
            return -1;
        acc = (acc << 6) | (uint32_t)(p - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= outcap)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return (int)o;
}

/* ---- state ---- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;              /* --log, NULL = no log */
static unsigned char hmac_key[256]; /* decoded --hmac-secret */
static int hmac_keylen = -1;        /* -1 = no secret given */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

typedef struct seq_entry {
    char *key;                      /* path + "\n" + webhook-id */
    int count;                      /* requests seen */
    struct seq_entry *next;
} seq_entry;
static seq_entry *seq_table[1024];

typedef struct req_state {
    char *body;
    size_t len;
    size_t cap;
} req_state;

typedef struct realm {
    char name[64];
    int issued;                     /* tokens issued so far */
    char current[96];               /* current token, "" when none/revoked */
    int64_t expires_at;             /* epoch ms */
} realm;
static realm realms[64];
static int nrealms;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int seq_next(const char *path, const char *id)
{
    size_t klen = strlen(path) + strlen(id) + 2;
    char *key = malloc(klen);
    if (!key)
        return 0;
    snprintf(key, klen, "%s\n%s", path, id);
    uint32_t h = 2166136261u;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    pthread_mutex_lock(&lock);
    seq_entry **slot = &seq_table[h % 1024];
    seq_entry *e = *slot;
    while (e && strcmp(e->key, key) != 0)
        e = e->next;
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e) {
            pthread_mutex_unlock(&lock);
            free(key);
            return 0;
        }
        e->key = key;
        key = NULL;
        e->next = *slot;
        *slot = e;
    }
    int n = e->count++;
    pthread_mutex_unlock(&lock);
    free(key);
    return n;
}

static unsigned rng_percent(void)
{
    pthread_mutex_lock(&lock);
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    uint64_t v = rng_state;
    pthread_mutex_unlock(&lock);
    return (unsigned)(v % 100);
}

/* ---- JSON log ---- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_json(sbuf *b, const char *s, size_t n)
{
    sb_add(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sb_add(b, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_add(b, esc, 6);
        } else {
            /* Bytes >= 0x80 pass through; receivers get UTF-8 payloads. */
            sb_add(b, (const char *)&c, 1);
        }
    }
    sb_add(b, "\"", 1);
}

typedef struct hdr_ctx {
    sbuf *b;
    bool first;
} hdr_ctx;

static enum MHD_Result add_header_json(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    hdr_ctx *c = cls;
    (void)kind;
    char lower[256];
    size_t n = strlen(key);
    if (n >= sizeof lower)
        n = sizeof lower - 1;
    for (size_t i = 0; i < n; i++)
        lower[i] = (char)((key[i] >= 'A' && key[i] <= 'Z') ? key[i] + 32 : key[i]);
    if (!c->first)
        sb_add(c->b, ",", 1);
    c->first = false;
    sb_json(c->b, lower, n);
    sb_add(c->b, ":", 1);
    sb_json(c->b, value ? value : "", value ? strlen(value) : 0);
    return MHD_YES;
}

/* Standard Webhooks check: any of the space-separated "v1,<sig>" matches. */
static bool hmac_verify(struct MHD_Connection *conn, const req_state *rs)
{
    const char *id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-id");
    const char *ts = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-timestamp");
    const char *sig = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-signature");
    if (!id || !ts || !sig)
        return false;
    const char *parts[5] = { id, ".", ts, ".", rs->body ? rs->body : "" };
    size_t lens[5] = { strlen(id), 1, strlen(ts), 1, rs->len };
    unsigned char mac[32];
    hmac_sha256(hmac_key, (size_t)hmac_keylen, parts, lens, 5, mac);
    char expect[64];
    b64_encode(mac, 32, expect);
    size_t elen = strlen(expect);
    const char *p = sig;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ' ');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == 3 + elen && strncmp(p, "v1,", 3) == 0 && memcmp(p + 3, expect, elen) == 0)
            return true;
        p += len;
    }
    return false;
}

static void log_request(struct MHD_Connection *conn, const char *method, const char *url,
                        const req_state *rs)
{
    if (!log_file)
        return;
    sbuf b = {0};
    char num[64];
    snprintf(num, sizeof num, "{\"t\":%" PRId64 ",\"method\":", now_ms());
    sb_str(&b, num);
    sb_json(&b, method, strlen(method));
    sb_str(&b, ",\"path\":");
    sb_json(&b, url, strlen(url));
    sb_str(&b, ",\"headers\":{");
    hdr_ctx hc = { &b, true };
    MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header_json, &hc);
    sb_str(&b, "},\"body\":");
    sb_json(&b, rs->body ? rs->body : "", rs->len);
    if (hmac_keylen >= 0)
        sb_str(&b, hmac_verify(conn, rs) ? ",\"hmac_ok\":true" : ",\"hmac_ok\":false");
    sb_str(&b, "}\n");
    pthread_mutex_lock(&lock);
    fwrite(b.p, 1, b.len, log_file);
    fflush(log_file);
    pthread_mutex_unlock(&lock);
    free(b.p);
}

/* ---- routes ---- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *body,
                             size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, mode);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "text/plain");
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned code, const char *text)
{
    return reply(conn, code, text, strlen(text), MHD_RESPMEM_PERSISTENT);
}

static unsigned valid_code(long c)
{
    return c >= 100 && c <= 999 ? (unsigned)c : 500;
}

/* %XX -> byte ("%20" -> space) into out (cut to outcap - 1); a '%' not
 * followed by two hex digits stays as it is. */
static void url_decode(const char *in, char *out, size_t outcap)
{
    size_t o = 0;
    while (*in && o + 1 < outcap) {
        unsigned v;
        if (in[0] == '%' && isxdigit((unsigned char)in[1]) && isxdigit((unsigned char)in[2]) &&
            sscanf(in + 1, "%2x", &v) == 1) {
            out[o++] = (char)v;
            in += 3;
        } else {
            out[o++] = *in++;
        }
    }
    out[o] = '\0';
}

/* ---- OAuth2 ---- */

/* The realm named by "/oauth/NAME/..."; creates it.  Call under lock. */
static realm *realm_get(const char *url, const char **rest)
{
    const char *name = url + 7;
    const char *slash = strchr(name, '/');
    size_t n = slash ? (size_t)(slash - name) : strlen(name);
    if (n == 0 || n >= sizeof realms[0].name)
        return NULL;
    *rest = name + n;
    for (int i = 0; i < nrealms; i++)
        if (strlen(realms[i].name) == n && strncmp(realms[i].name, name, n) == 0)
            return &realms[i];
    if (nrealms == (int)(sizeof realms / sizeof realms[0]))
        return NULL;
    realm *r = &realms[nrealms++];
    memset(r, 0, sizeof *r);
    memcpy(r->name, name, n);
    return r;
}

static enum MHD_Result reply_json(struct MHD_Connection *conn, unsigned code, const char *text)
{
    size_t len = strlen(text);
    char *copy = malloc(len + 1);
    if (!copy)
        return MHD_NO;
    memcpy(copy, text, len + 1);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result route_oauth(struct MHD_Connection *conn, const char *url)
{
    const char *rest = NULL;
    char body[256];
    unsigned code = 200;
    pthread_mutex_lock(&lock);
    realm *r = realm_get(url, &rest);
    if (!r) {
        pthread_mutex_unlock(&lock);
        return reply_text(conn, 404, "no such realm\n");
    }
    if (strcmp(rest, "/token") == 0) {
        const char *fail = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "fail");
        const char *ei = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "expires_in");
        long secs = ei ? strtol(ei, NULL, 10) : 3600;
        if (fail && strtol(fail, NULL, 10) > 0) {
            code = valid_code(strtol(fail, NULL, 10));
            snprintf(body, sizeof body, "{\"error\":\"server_error\"}");
        } else {
            r->issued++;
            snprintf(r->current, sizeof r->current, "%s-%d", r->name, r->issued);
            r->expires_at = now_ms() + secs * 1000;
            snprintf(body, sizeof body,
                     "{\"access_token\":\"%s\",\"token_type\":\"Bearer\",\"expires_in\":%ld}",
                     r->current, secs);
        }
    } else if (strcmp(rest, "/revoke") == 0) {
        r->current[0] = '\0';
        snprintf(body, sizeof body, "{\"revoked\":true}");
    } else if (strncmp(rest, "/protected", 10) == 0) {
        const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
        bool ok = authz && strncmp(authz, "Bearer ", 7) == 0 && r->current[0] &&
                  strcmp(authz + 7, r->current) == 0 && now_ms() < r->expires_at;
        code = ok ? 200 : 401;
        snprintf(body, sizeof body, ok ? "{\"ok\":true}" : "{\"error\":\"invalid_token\"}");
    } else {
        code = 404;
        snprintf(body, sizeof body, "{\"error\":\"not_found\"}");
    }
    pthread_mutex_unlock(&lock);
    return reply_json(conn, code, body);
}

static enum MHD_Result route(struct MHD_Connection *conn, const char *url)
{
    if (strncmp(url, "/oauth/", 7) == 0)
        return route_oauth(conn, url);
    if (strncmp(url, "/status/", 8) == 0)
        return reply_text(conn, valid_code(strtol(url + 8, NULL, 10)), "status\n");
    if (strncmp(url, "/seq/", 5) == 0) {
        const char *id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "webhook-id");
        int n = seq_next(url, id ? id : "");
        const char *p = url + 5;
        long code = 200;
        for (int i = 0; *p; i++) {
            char *end;
            code = strtol(p, &end, 10);
            if (i == n || *end != ',')
                break;
            p = end + 1;
        }
        return reply_text(conn, valid_code(code), "seq\n");
    }
    if (strncmp(url, "/delay/", 7) == 0) {
        long ms = strtol(url + 7, NULL, 10);
        if (ms > 0)
            usleep((useconds_t)(ms * 1000));
        return reply_text(conn, 200, "ok\n");
    }
    if (strcmp(url, "/drop") == 0)
        return MHD_NO;   /* libmicrohttpd closes the connection without an answer */
    if (strcmp(url, "/keepthendrop") == 0) {
        /* The first request of a connection is answered (kept alive); any
         * later one on it is read and the connection closed without an
         * answer: what a client re-sending on its own would hide. */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        const unsigned *seen = ci ? ci->socket_context : NULL;
        if (seen && *seen > 1)
            return MHD_NO;
        return reply_text(conn, 200, "ok\n");
    }
    if (strncmp(url, "/huge/", 6) == 0) {
        long n = strtol(url + 6, NULL, 10);
        if (n < 0 || n > 256L * 1024 * 1024)
            n = 0;
        char *body = malloc((size_t)n + 1);
        if (!body)
            return MHD_NO;
        for (long i = 0; i < n; i++)
            body[i] = (char)('a' + i % 26);
        return reply(conn, 200, body, (size_t)n, MHD_RESPMEM_MUST_FREE);
    }
    if (strncmp(url, "/manyheaders/", 13) == 0) {
        /* N headers of ~100 bytes each: tests the header cap. */
        long n = strtol(url + 13, NULL, 10);
        if (n < 0 || n > 100000)
            n = 0;
        struct MHD_Response *r =
            MHD_create_response_from_buffer(3, (void *)(uintptr_t)"ok\n", MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        char name[32], value[96];
        memset(value, 'v', sizeof value - 1);
        value[sizeof value - 1] = '\0';
        for (long i = 0; i < n; i++) {
            snprintf(name, sizeof name, "X-Filler-%ld", i);
            MHD_add_response_header(r, name, value);
        }
        enum MHD_Result ret = MHD_queue_response(conn, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (strcmp(url, "/escape") == 0) {
        static const char evil[] =
            "\x1b[2J\x1b[H\x1b]0;pwned title\x07\x1b[31mred\x1b[0m \x1b[?1049h"
            "\x9b" "31m C1-CSI \r\rcarriage \x08\x08 bell\x07 \x1bP+q544e\x1b\\ done\n";
        return reply(conn, 200, evil, sizeof evil - 1, MHD_RESPMEM_PERSISTENT);
    }
    if (strncmp(url, "/flaky/", 7) == 0) {
        long pct = strtol(url + 7, NULL, 10);
        return reply_text(conn, (long)rng_percent() < pct ? 500 : 200, "flaky\n");
    }
    if (strncmp(url, "/retryafter/", 12) == 0) {
        char *end;
        long code = strtol(url + 12, &end, 10);
        char value[256];
        url_decode(*end == '/' ? end + 1 : "", value, sizeof value);
        struct MHD_Response *r = MHD_create_response_from_buffer(
            12, (void *)(uintptr_t)"retry-after\n", MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, "Content-Type", "text/plain");
        MHD_add_response_header(r, "Retry-After", value);
        enum MHD_Result ret = MHD_queue_response(conn, valid_code(code), r);
        MHD_destroy_response(r);
        return ret;
    }
    if (strcmp(url, "/redirect") == 0) {
        struct MHD_Response *r =
            MHD_create_response_from_buffer(0, (void *)(uintptr_t)"", MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, "Location", "/ok");
        enum MHD_Result ret = MHD_queue_response(conn, 302, r);
        MHD_destroy_response(r);
        return ret;
    }
    return reply_text(conn, 200, "ok\n");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls;
    (void)version;
    req_state *rs = *con_cls;
    if (!rs) {
        rs = calloc(1, sizeof *rs);
        if (!rs)
            return MHD_NO;
        *con_cls = rs;
        /* Requests seen on this connection (for /keepthendrop). */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        if (ci && ci->socket_context)
            (*(unsigned *)ci->socket_context)++;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (rs->len + *upload_data_size + 1 > rs->cap) {
            size_t cap = rs->cap ? rs->cap : 4096;
            while (cap < rs->len + *upload_data_size + 1)
                cap *= 2;
            char *p = realloc(rs->body, cap);
            if (!p)
                return MHD_NO;
            rs->body = p;
            rs->cap = cap;
        }
        memcpy(rs->body + rs->len, upload_data, *upload_data_size);
        rs->len += *upload_data_size;
        rs->body[rs->len] = '\0';
        *upload_data_size = 0;
        return MHD_YES;
    }
    log_request(conn, method, url, rs);
    return route(conn, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    req_state *rs = *con_cls;
    if (rs) {
        free(rs->body);
        free(rs);
        *con_cls = NULL;
    }
}

/* A counter of requests per connection, in its socket context. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)conn;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        *socket_context = calloc(1, sizeof(unsigned));
    } else {
        free(*socket_context);
        *socket_context = NULL;
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: hd-receiver --port N [--bind ADDR] [--log FILE] "
                    "[--hmac-secret whsec_...]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    long port = -1;
    const char *bind_addr = "127.0.0.1";
    const char *log_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = strtol(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc) {
            bind_addr = argv[++i];
        } else if (strcmp(argv[i], "--log") == 0 && i + 1 < argc) {
            log_path = argv[++i];
        } else if (strcmp(argv[i], "--hmac-secret") == 0 && i + 1 < argc) {
            const char *s = argv[++i];
            if (strncmp(s, "whsec_", 6) == 0)
                s += 6;
            hmac_keylen = b64_decode(s, hmac_key, sizeof hmac_key);
            if (hmac_keylen < 0) {
                fprintf(stderr, "hd-receiver: --hmac-secret: not base64\n");
                return 2;
            }
        } else {
            usage();
        }
    }
    if (port < 0 || port > 65535)
        usage();
    if (log_path) {
        log_file = fopen(log_path, "a");
        if (!log_file) {
            fprintf(stderr, "hd-receiver: %s: %s\n", log_path, strerror(errno));
            return 1;
        }
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, bind_addr, &sa.sin_addr) != 1) {
        fprintf(stderr, "hd-receiver: --bind: not an IPv4 address: %s\n", bind_addr);
        return 2;
    }
    /* Threads inherit this mask; main takes the signals with sigwait. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000,
        /* Room for /manyheaders (the default 32 KiB pool is too small). */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(512 * 1024),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
        MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "hd-receiver: cannot listen on %s:%ld\n", bind_addr, port);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("listening on %u\n", info ? (unsigned)info->port : (unsigned)port);
    fflush(stdout);

    int sig = 0;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    if (log_file)
        fclose(log_file);
    for (int i = 0; i < 1024; i++) {
        while (seq_table[i]) {
            seq_entry *e = seq_table[i];
            seq_table[i] = e->next;
            free(e->key);
            free(e);
        }
    }
    return 0;
}
