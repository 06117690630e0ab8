/* auth_jwt.c - JSON Web Tokens (RFC 7519) signed HS256 (HMAC-SHA256 with
 * the site's secret) or RS256 (RSASSA-PKCS1-v1_5 SHA-256 with a PEM private
 * key from key_file or from the environment variable key_env).
 *
 * A token is made for every attempt (iat = now, exp = now + lifetime), so a
 * retry never carries an expired one.  The key is read each time: a rotated
 * key file is picked up without a restart, and at webhook rates reading a
 * small PEM costs nothing next to the HTTP request.
 *
 * Never a prompt: OpenSSL asks for a passphrase on the terminal when a PEM
 * key is encrypted and no password callback is given (PEM_def_callback),
 * which swallowed typed input in `sites add` and stopped `serve` for good.
 * The key is read with a callback that refuses (and notes that it was
 * asked), so an encrypted key is an error naming the field: at `sites add`
 * / `sites edit` / import / the form's Save (site_probe_keys signs once;
 * validation itself never reads the key) and, if the file is replaced
 * later, as the attempt's error at delivery.
 */
#include "auth_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "hd_sign.h"
#include "hd_util.h"

char *auth_base64url(const unsigned char *data, size_t len)
{
    char *s = base64_encode(data, len);
    size_t n = 0;
    for (char *p = s; *p && *p != '='; p++, n++) {
        if (*p == '+')
            *p = '-';
        else if (*p == '/')
            *p = '_';
    }
    s[n] = '\0';
    return s;
}

/* OpenSSL's password callback, called only for an encrypted key: refuses
 * (-1, no passphrase; with a callback given OpenSSL never falls back on its
 * terminal prompt) and notes the call so that the error can say why. */
static int refuse_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    *(bool *)u = true;
    return -1;
}

/* The PEM markers of an encrypted key: PKCS#8 ("BEGIN ENCRYPTED PRIVATE
 * KEY") and the traditional form ("Proc-Type: 4,ENCRYPTED"). */
static bool pem_is_encrypted(const char *text)
{
    return strstr(text, "ENCRYPTED PRIVATE KEY-----") || strstr(text, "Proc-Type: 4,ENCRYPTED");
}

/* Loads the RS256 key named by the site; NULL with err naming the field. */
static EVP_PKEY *load_key(const char *key_file, const char *key_env, hd_error *err)
{
    BIO *bio = NULL;
    const char *field = key_file ? "auth.key_file" : "auth.key_env";
    const char *name = key_file ? key_file : key_env;
    hd_buf text = {0};
    if (key_file) {
        FILE *f = fopen(key_file, "rb");
        if (!f) {
            hd_error_field(err, HD_INVALID, field, "cannot read %s: %s", key_file,
                         strerror(errno));
            return NULL;
        }
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && text.len < 1024 * 1024)
            hd_buf_append(&text, chunk, n);
        int read_errno = ferror(f) ? errno : 0;
        fclose(f);
        explicit_bzero(chunk, sizeof chunk);
        if (read_errno) {
            hd_error_field(err, HD_INVALID, field, "cannot read %s: %s", key_file,
                         strerror(read_errno));
            if (text.data)
                explicit_bzero(text.data, text.len);
            hd_buf_free(&text);
            return NULL;
        }
    } else {
        const char *v = getenv(key_env);
        if (!v) {
            hd_error_field(err, HD_INVALID, field, "environment variable %s is not set",
                         key_env);
            return NULL;
        }
        hd_buf_puts(&text, v);
    }
    bool encrypted = pem_is_encrypted(hd_buf_str(&text));
    bool asked = false;
    bio = encrypted ? NULL : BIO_new_mem_buf(hd_buf_str(&text), (int)text.len);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, refuse_passphrase, &asked) : NULL;
    BIO_free(bio);
    if (text.data)
        explicit_bzero(text.data, text.len);
    hd_buf_free(&text);
    ERR_clear_error();
    if (!key && (encrypted || asked)) {
        hd_error_field(err, HD_INVALID, field,
                       "the key in %s is encrypted (passphrase-protected); hookdesk needs an "
                       "unencrypted PEM key (openssl pkey -in KEY -out PLAIN.pem)", name);
        return NULL;
    }
    if (!key) {
        hd_error_field(err, HD_INVALID, field, "%s does not hold a PEM private key", name);
        return NULL;
    }
    if (EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(key);
        hd_error_field(err, HD_INVALID, field, "the key in %s is not an RSA key (RS256 needs one)",
                       name);
        return NULL;
    }
    return key;
}

static hd_status sign_rs256(const char *key_file, const char *key_env, const char *input,
                            unsigned char **sig, size_t *siglen, hd_error *err)
{
    EVP_PKEY *key = load_key(key_file, key_env, err);
    if (!key)
        return err ? err->code : HD_INVALID;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    hd_status st = HD_OK;
    *sig = NULL;
    if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSign(ctx, NULL, siglen, (const unsigned char *)input, strlen(input)) != 1) {
        st = hd_error_set(err, HD_INTERNAL, "jwt: OpenSSL cannot sign with the RS256 key");
    } else {
        *sig = hd_xmalloc(*siglen);
        if (EVP_DigestSign(ctx, *sig, siglen, (const unsigned char *)input, strlen(input)) != 1) {
            free(*sig);
            *sig = NULL;
            st = hd_error_set(err, HD_INTERNAL, "jwt: OpenSSL RS256 signature failed");
        }
    }
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    ERR_clear_error();
    return st;
}

static char *json_b64url(json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *b = auth_base64url((const unsigned char *)text, strlen(text));
    free(text);
    return b;
}

/* The claims: the site's own (but iat and exp), then iat = now and
 * exp = iat + the lifetime. */
static json_t *jwt_claims(const site *s, int64_t now_ms)
{
    json_t *claims = json_object();
    char *ctext = auth_extra_get(s->auth_extra, "claims");
    json_t *given = ctext ? json_loads(ctext, 0, NULL) : NULL;
    free(ctext);
    const char *k;
    json_t *v;
    json_object_foreach(given, k, v) {
        if (strcmp(k, "iat") != 0 && strcmp(k, "exp") != 0)
            json_object_set(claims, k, v);
    }
    json_decref(given);
    int64_t life = auth_extra_get_ms(s->auth_extra, "lifetime", AUTH_JWT_DEFAULT_LIFETIME_MS);
    /* Validation keeps it within 1 s .. 24 h; a stored value is clamped
     * anyway so that iat + life can never overflow. */
    if (life < 1000)
        life = 1000;
    else if (life > 24LL * 3600 * 1000)
        life = 24LL * 3600 * 1000;
    int64_t iat = now_ms / 1000;
    json_object_set_new(claims, "iat", json_integer((json_int_t)iat));
    json_object_set_new(claims, "exp", json_integer((json_int_t)(iat + life / 1000)));
    return claims;
}

/* The signature of input (*sig malloc'd): RS256 with the site's private
 * key, else HS256 with its shared secret. */
static hd_status jwt_signature(const site *s, bool rs, const char *input, unsigned char **sig,
                               size_t *siglen, hd_error *err)
{
    if (rs) {
        char *key_file = auth_extra_get(s->auth_extra, "key_file");
        char *key_env = auth_extra_get(s->auth_extra, "key_env");
        hd_status st = HD_OK;
        if (!key_file && !key_env)
            st = hd_error_field(err, HD_INVALID, "auth.key_file",
                                "RS256 needs key_file or key_env (a PEM private key)");
        else
            st = sign_rs256(key_file, key_env, input, sig, siglen, err);
        free(key_file);
        free(key_env);
        return st;
    }
    const char *secret = s->auth_secret ? s->auth_secret : "";
    if (!*secret)
        return hd_error_field(err, HD_INVALID, "auth_secret",
                              "a shared secret is required for jwt HS256");
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)input,
              strlen(input), mac, &maclen))
        return hd_error_set(err, HD_INTERNAL, "jwt: OpenSSL HMAC-SHA256 failed");
    *sig = hd_xmalloc(maclen);
    memcpy(*sig, mac, maclen);
    *siglen = maclen;
    return HD_OK;
}

char *auth_jwt_token(const site *s, int64_t now_ms, hd_error *err)
{
    char *alg = auth_extra_get(s->auth_extra, "alg");
    bool rs = alg && strcmp(alg, "RS256") == 0;
    if (alg && !rs && strcmp(alg, "HS256") != 0) {
        hd_error_field(err, HD_INVALID, "auth.alg", "unknown algorithm '%s' (HS256, RS256)", alg);
        free(alg);
        return NULL;
    }
    free(alg);

    json_t *hdr = json_pack("{s:s,s:s}", "alg", rs ? "RS256" : "HS256", "typ", "JWT");
    json_t *claims = jwt_claims(s, now_ms);
    char *h64 = json_b64url(hdr);
    char *c64 = json_b64url(claims);
    json_decref(hdr);
    json_decref(claims);
    char *input = hd_xasprintf("%s.%s", h64, c64);
    free(h64);
    free(c64);

    unsigned char *sig = NULL;
    size_t siglen = 0;
    if (jwt_signature(s, rs, input, &sig, &siglen, err) != HD_OK) {
        free(sig);
        free(input);
        return NULL;
    }
    char *s64 = auth_base64url(sig, siglen);
    free(sig);
    char *token = hd_xasprintf("%s.%s", input, s64);
    free(s64);
    free(input);
    return token;
}

/* ---- the kind's entry in the table (auth_kinds.c) ---- */

hd_status auth_jwt_check(const auth_kind_ops *kind, const site *s, json_t *o,
                          hd_error *err)
{
    (void)kind;
    const char *alg = auth_json_str(o, "alg");
    const char *key_file = auth_json_str(o, "key_file");
    const char *key_env = auth_json_str(o, "key_env");
    bool secret = s->auth_secret && *s->auth_secret;
    if (!alg || strcmp(alg, "HS256") == 0) {
        if (!secret)
            return hd_error_field(err, HD_INVALID, "auth_secret",
                                  "a shared secret is required for jwt HS256");
        if (key_file || key_env)
            return hd_error_field(err, HD_INVALID, key_file ? "auth.key_file" : "auth.key_env",
                                  "only used with alg RS256");
    } else if (strcmp(alg, "RS256") == 0) {
        if (!key_file && !key_env)
            return hd_error_field(err, HD_INVALID, "auth.key_file",
                                  "RS256 needs key_file or key_env (a PEM private key)");
        if (key_file && key_env)
            return hd_error_field(err, HD_INVALID, "auth.key_env",
                                  "give key_file or key_env, not both");
        if (secret)
            return hd_error_field(err, HD_INVALID, "auth_secret",
                                  "not used with jwt RS256 (the key is key_file or key_env)");
    } else {
        return hd_error_field(err, HD_INVALID, "auth.alg",
                              "unknown algorithm '%s' (HS256, RS256)", alg);
    }
    json_t *claims = json_object_get(o, "claims");
    if (json_object_get(claims, "iat") || json_object_get(claims, "exp"))
        return hd_error_field(err, HD_INVALID, "auth.claims",
                              "iat and exp are set by hookdesk (see lifetime)");
    json_t *life = json_object_get(o, "lifetime");
    json_int_t ms = json_is_integer(life) ? json_integer_value(life) : AUTH_JWT_DEFAULT_LIFETIME_MS;
    if (ms < 1000 || ms > 24LL * 3600 * 1000)
        return hd_error_field(err, HD_INVALID, "auth.lifetime", "must be between 1s and 24h");
    return HD_OK;
}

/* Signing once proves that the key file or variable holds a usable key;
 * HS256 needs nothing beyond validation. */
hd_status auth_jwt_probe(const site *s, hd_error *err)
{
    char *alg = auth_extra_get(s->auth_extra, "alg");
    bool rs = alg && strcmp(alg, "RS256") == 0;
    free(alg);
    if (!rs)
        return HD_OK;
    char *tok = auth_jwt_token(s, hd_now_ms(), err);
    if (!tok)
        return err ? err->code : HD_INVALID;
    explicit_bzero(tok, strlen(tok));
    free(tok);
    return HD_OK;
}

hd_status auth_jwt_sign(const auth_kind_ops *kind, const site *s, const message *m,
                         const request_context *ctx, http_request *r, hd_error *err)
{
    (void)kind, (void)m;
    /* A fresh token per attempt: iat/exp always current. */
    char *tok = auth_jwt_token(s, ctx->now_ms, err);
    if (!tok)
        return err ? err->code : HD_INVALID;
    char *value = hd_xasprintf("Bearer %s", tok);
    request_add_header(r, "Authorization", value, "Bearer " AUTH_MASK);
    explicit_bzero(value, strlen(value));
    explicit_bzero(tok, strlen(tok));
    free(value);
    free(tok);
    return HD_OK;
}
