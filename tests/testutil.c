/* testutil.c - temp dirs, the receiver child process and its log. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "hd_engine.h"
#include "hd_store.h"
#include "hd_util.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

char *tu_tempdir(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/hookdesk-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(path)) {
        perror("mkdtemp");
        abort();
    }
    return strdup(path);
}

void tu_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

void tu_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

bool tu_wait_for(bool (*cond)(void *), void *arg, int timeout_ms)
{
    for (int waited = 0;; waited += 20) {
        if (cond(arg))
            return true;
        if (waited >= timeout_ms)
            return false;
        tu_sleep_ms(20);
    }
}

bool tu_receiver_start(tu_receiver *r, const char *dir, const char *hmac_secret)
{
    static int counter;
    memset(r, 0, sizeof *r);
    const char *bin = getenv("HD_RECEIVER_BIN");
    if (!bin || !*bin)
        bin = "build/asan/hd-receiver";
    char logp[4096];
    snprintf(logp, sizeof logp, "%s/receiver-%d.log", dir, ++counter);
    r->log_path = strdup(logp);
    int fds[2];
    if (pipe(fds) != 0)
        return false;
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        if (hmac_secret)
            execl(bin, bin, "--port", "0", "--log", logp, "--hmac-secret", hmac_secret,
                  (char *)NULL);
        else
            execl(bin, bin, "--port", "0", "--log", logp, (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    r->pid = pid;
    char line[128];
    size_t used = 0;
    struct pollfd pfd = { fds[0], POLLIN, 0 };
    while (used < sizeof line - 1 && poll(&pfd, 1, 10000) > 0) {
        ssize_t n = read(fds[0], line + used, sizeof line - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
        line[used] = '\0';
        if (strchr(line, '\n'))
            break;
    }
    close(fds[0]);
    line[used] = '\0';
    if (sscanf(line, "listening on %d", &r->port) != 1) {
        fprintf(stderr, "receiver did not start (said \"%s\")\n", line);
        tu_receiver_stop(r);
        return false;
    }
    snprintf(r->base_url, sizeof r->base_url, "http://127.0.0.1:%d", r->port);
    return true;
}

void tu_receiver_stop(tu_receiver *r)
{
    if (r->pid > 0) {
        kill(r->pid, SIGTERM);
        int status;
        waitpid(r->pid, &status, 0);
        r->pid = 0;
    }
    free(r->log_path);
    r->log_path = NULL;
}

static char *dup_str(json_t *v)
{
    return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

bool tu_log_read(const tu_receiver *r, tu_log *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(r->log_path, "r");
    if (!f)
        return errno == ENOENT;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int alloc = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n')
            break;   /* a line being written right now */
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        if (!o)
            continue;
        if (out->count == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            out->items = realloc(out->items, sizeof *out->items * (size_t)alloc);
        }
        tu_logged *e = &out->items[out->count++];
        json_t *h = json_object_get(o, "headers");
        e->method = dup_str(json_object_get(o, "method"));
        e->path = dup_str(json_object_get(o, "path"));
        e->body = dup_str(json_object_get(o, "body"));
        e->webhook_id = dup_str(json_object_get(h, "webhook-id"));
        json_t *hm = json_object_get(o, "hmac_ok");
        e->hmac = hm ? (json_is_true(hm) ? 1 : 0) : -1;
        e->headers = json_incref(h);
        json_decref(o);
    }
    free(line);
    fclose(f);
    return true;
}

void tu_log_free(tu_log *l)
{
    for (int i = 0; i < l->count; i++) {
        free(l->items[i].method);
        free(l->items[i].path);
        free(l->items[i].body);
        free(l->items[i].webhook_id);
        json_decref(l->items[i].headers);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

const char *tu_logged_header(const tu_logged *e, const char *lower_name)
{
    json_t *v = json_object_get(e->headers, lower_name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int tu_log_count(const tu_receiver *r, const char *path_prefix)
{
    tu_log l;
    if (!tu_log_read(r, &l))
        return -1;
    int n = 0;
    for (int i = 0; i < l.count; i++)
        if (l.items[i].path && strncmp(l.items[i].path, path_prefix, strlen(path_prefix)) == 0)
            n++;
    tu_log_free(&l);
    return n;
}

/* ---- SigV4 and JWT checks (OpenSSL) ---- */


static void hex32(const unsigned char *md, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

void tu_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    hex32(md, out);
}

static void hmac(const unsigned char *key, size_t keylen, const char *msg, unsigned char out[32])
{
    unsigned int n = 0;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out, &n);
}

void tu_sigv4(const char *secret, const char *amz_date, const char *region, const char *service,
              const char *method, const char *path, const char *query, const char *headers,
              const char *signed_headers, const char *payload_hash, char out[65])
{
    /* Task 1: the canonical request. */
    size_t cap = strlen(method) + strlen(path) + strlen(query) + strlen(headers) +
                 strlen(signed_headers) + 128;
    char *creq = malloc(cap);
    snprintf(creq, cap, "%s\n%s\n%s\n%s\n%s\n%s", method, path, query, headers, signed_headers,
             payload_hash);
    char creq_hash[65];
    tu_sha256_hex(creq, strlen(creq), creq_hash);
    free(creq);
    /* Task 2: the string to sign. */
    char date8[9];
    memcpy(date8, amz_date, 8);
    date8[8] = '\0';
    char sts[512];
    snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", amz_date, date8,
             region, service, creq_hash);
    /* Task 3: the signing key, then the signature. */
    char k0[256];
    snprintf(k0, sizeof k0, "AWS4%s", secret);
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    hmac((const unsigned char *)k0, strlen(k0), date8, k1);
    hmac(k1, 32, region, k2);
    hmac(k2, 32, service, k3);
    hmac(k3, 32, "aws4_request", k4);
    hmac(k4, 32, sts, sig);
    hex32(sig, out);
}

bool tu_sigv4_check(const tu_logged *e, const char *secret, char *why, size_t whylen)
{
    const char *authz = tu_logged_header(e, "authorization");
    const char *amz_date = tu_logged_header(e, "x-amz-date");
    if (!authz || !amz_date) {
        snprintf(why, whylen, "no authorization or x-amz-date header");
        return false;
    }
    char akid[128], date8[16], region[64], service[64], signed_h[512], sig[80];
    if (sscanf(authz,
               "AWS4-HMAC-SHA256 Credential=%127[^/]/%15[^/]/%63[^/]/%63[^/]/aws4_request, "
               "SignedHeaders=%511[^,], Signature=%79s",
               akid, date8, region, service, signed_h, sig) != 6) {
        snprintf(why, whylen, "cannot parse authorization '%s'", authz);
        return false;
    }
    /* Canonical headers: the signed ones, in SignedHeaders order (sorted). */
    char headers[4096] = "";
    size_t hl = 0;
    char names[512];
    snprintf(names, sizeof names, "%s", signed_h);
    for (char *save = NULL, *n = strtok_r(names, ";", &save); n; n = strtok_r(NULL, ";", &save)) {
        const char *v = tu_logged_header(e, n);
        if (!v) {
            snprintf(why, whylen, "signed header '%s' was not received", n);
            return false;
        }
        hl += (size_t)snprintf(headers + hl, sizeof headers - hl, "%s:%s\n", n, v);
    }
    char payload[65];
    const char *ph = tu_logged_header(e, "x-amz-content-sha256");
    if (ph)
        snprintf(payload, sizeof payload, "%s", ph);
    else
        tu_sha256_hex(e->body ? e->body : "", e->body ? strlen(e->body) : 0, payload);
    char expect[65];
    tu_sigv4(secret, amz_date, region, service, e->method, e->path, "", headers, signed_h,
             payload, expect);
    if (strcmp(expect, sig) != 0) {
        snprintf(why, whylen, "signature %s, expected %s (signed headers %s)", sig, expect,
                 signed_h);
        return false;
    }
    return true;
}

/* base64url (no padding) decoding into a malloc'd buffer. */
static unsigned char *b64url_decode(const char *s, size_t n, size_t *outlen)
{
    char *std = malloc(n + 4);
    size_t i = 0;
    for (; i < n; i++)
        std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    while (i % 4)
        std[i++] = '=';
    unsigned char *out = malloc(i + 1);
    int len = EVP_DecodeBlock(out, (const unsigned char *)std, (int)i);
    free(std);
    if (len < 0) {
        free(out);
        return NULL;
    }
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    size_t pad = (4 - n % 4) % 4;
    *outlen = (size_t)len - pad;
    return out;
}

bool tu_jwt_verify(const char *token, const char *secret, const char *pem, void **claims,
                   char *why, size_t whylen)
{
    const char *d1 = strchr(token, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2 || strchr(d2 + 1, '.') || strchr(token, '=')) {
        snprintf(why, whylen, "not a compact JWS with unpadded base64url");
        return false;
    }
    size_t hlen, plen, slen;
    unsigned char *hdr = b64url_decode(token, (size_t)(d1 - token), &hlen);
    unsigned char *pay = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &plen);
    unsigned char *sig = b64url_decode(d2 + 1, strlen(d2 + 1), &slen);
    bool ok = false;
    json_t *h = hdr ? json_loadb((const char *)hdr, hlen, 0, NULL) : NULL;
    json_t *p = pay ? json_loadb((const char *)pay, plen, 0, NULL) : NULL;
    const char *alg = json_string_value(json_object_get(h, "alg"));
    const unsigned char *input = (const unsigned char *)token;
    size_t inlen = (size_t)(d2 - token);
    if (!h || !p || !sig || !alg) {
        snprintf(why, whylen, "bad header or payload");
    } else if (strcmp(alg, "HS256") == 0 && secret) {
        unsigned char mac[32];
        unsigned int n = 0;
        HMAC(EVP_sha256(), secret, (int)strlen(secret), input, inlen, mac, &n);
        ok = slen == 32 && memcmp(mac, sig, 32) == 0;
        if (!ok)
            snprintf(why, whylen, "HS256 signature does not match");
    } else if (strcmp(alg, "RS256") == 0 && pem) {
        BIO *bio = BIO_new_mem_buf(pem, -1);
        EVP_PKEY *key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        ok = key && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
             EVP_DigestVerify(ctx, sig, slen, input, inlen) == 1;
        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(key);
        if (!ok)
            snprintf(why, whylen, "RS256 signature does not verify");
    } else {
        snprintf(why, whylen, "unexpected alg %s", alg);
    }
    if (ok && claims)
        *claims = json_incref(p);
    json_decref(h);
    json_decref(p);
    free(hdr);
    free(pay);
    free(sig);
    return ok;
}

char *tu_rsa_keygen(const char *priv_path)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    if (!key)
        return NULL;
    FILE *f = fopen(priv_path, "w");
    if (!f || !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)) {
        if (f)
            fclose(f);
        EVP_PKEY_free(key);
        return NULL;
    }
    fclose(f);
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, key);
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *out = malloc((size_t)n + 1);
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    BIO_free(bio);
    EVP_PKEY_free(key);
    return out;
}

/* ---- the database a test uses ---- */

bool tu_backend_pg(void)
{
    const char *b = getenv("HD_TEST_BACKEND");
    return b && strcmp(b, "pg") == 0;
}

/* Runs one statement on the test server's maintenance database. */
static void pg_admin(const char *sql)
{
    const char *server = getenv("HD_TEST_PG");
    if (!server || !*server) {
        fprintf(stderr, "HD_TEST_BACKEND=pg needs HD_TEST_PG (tests/run.sh sets both)\n");
        abort();
    }
    char *conninfo = hd_xasprintf("%s dbname=postgres", server);
    PGconn *c = PQconnectdb(conninfo);
    free(conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "test server: %s", PQerrorMessage(c));
        abort();
    }
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "test server: %s: %s", sql, PQresultErrorMessage(r));
        abort();
    }
    PQclear(r);
    PQfinish(c);
}

char *tu_db_name(const char *dir, const char *file)
{
    if (!tu_backend_pg())
        return hd_xasprintf("%s/%s", dir, file);
    static int seq;
    /* The name is made of numbers only: safe to put into the statement. */
    char db[64];
    snprintf(db, sizeof db, "hd_t%ld_%d", (long)getpid(), ++seq);
    char *sql = hd_xasprintf("CREATE DATABASE %s", db);
    pg_admin(sql);
    free(sql);
    return hd_xasprintf("%s dbname=%s", getenv("HD_TEST_PG"), db);
}

void tu_db_drop(char *name)
{
    const char *db = name ? strstr(name, "dbname=hd_t") : NULL;
    if (db) {
        char *sql = hd_xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", db + 7);
        pg_admin(sql);
        free(sql);
    }
    free(name);
}

/* ---- the engine and the store ---- */

bool tu_world_open(tu_world *w, const char *hmac_secret)
{
    memset(w, 0, sizeof *w);
    w->dir = tu_tempdir();
    config_defaults(&w->cfg);
    if (!tu_receiver_start(&w->rcv, w->dir, hmac_secret))
        return false;
    free(w->cfg.database);
    w->cfg.database = tu_db_name(w->dir, "hd.db");
    w->cfg.allow_private = true;   /* the receiver is on loopback */
    w->cfg.delivery.retry_interval_ms = 50;
    w->cfg.delivery.poll_interval_ms = 20;
    w->cfg.delivery.synchronous_full = false;
    /* Most tests check one rule (retries, leases, auth) with sites that
     * fail on purpose: the breaker would make them wait.  The isolation
     * tests turn it on. */
    w->cfg.delivery.breaker.failures = 0;
    hd_error err = {0};
    store_options so = { .synchronous_full = false };
    if (store_open(w->cfg.database, &so, &w->st, &err) != HD_OK) {
        fprintf(stderr, "store_open: %s\n", err.msg);
        return false;
    }
    return true;
}

void tu_world_close(tu_world *w)
{
    store_close(w->st);
    tu_db_drop(w->cfg.database);
    w->cfg.database = NULL;
    tu_receiver_stop(&w->rcv);
    config_free(&w->cfg);
    tu_rmdir(w->dir);
    free(w->dir);
}

struct engine *tu_engine_start(const struct config *cfg, bool drain)
{
    engine_options opt = { .drain = drain, .quiet = true };
    engine *e = NULL;
    hd_error err = {0};
    if (engine_start(cfg, &opt, &e, &err) != HD_OK) {
        fprintf(stderr, "engine_start: %s\n", err.msg);
        return NULL;
    }
    return e;
}

bool tu_engine_finish(struct engine *e)
{
    engine_stop(e, ENGINE_STOP_FINISH);
    hd_error err = {0};
    hd_status rc = engine_join(e, &err);
    if (rc != HD_OK)
        fprintf(stderr, "engine_join: %s\n", err.msg);
    return rc == HD_OK;
}

typedef struct each_wait {
    store *st;
    const int64_t *ids;
    int n;
    bool (*ok)(const message *m);
} each_wait;

static bool all_ok(void *arg)
{
    const each_wait *w = arg;
    for (int i = 0; i < w->n; i++) {
        message m;
        if (store_message_get(w->st, w->ids[i], &m, NULL) != HD_OK)
            return false;
        bool ok = w->ok(&m);
        message_free(&m);
        if (!ok)
            return false;
    }
    return true;
}

bool tu_wait_each(struct store *st, const int64_t *ids, int n, bool (*ok)(const message *m),
                  int timeout_ms)
{
    each_wait w = { st, ids, n, ok };
    return tu_wait_for(all_ok, &w, timeout_ms);
}

static bool is_final(const message *m)
{
    return !msg_status_pending(m->status);
}

bool tu_wait_final(struct store *st, const int64_t *ids, int n, int timeout_ms)
{
    return tu_wait_each(st, ids, n, is_final, timeout_ms);
}
