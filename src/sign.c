/* sign.c - base64 (libcrypto's EVP_EncodeBlock / EVP_DecodeBlock) and
 * Standard Webhooks signatures (HMAC-SHA256 via OpenSSL).
 *
 * The signed content is "msg_id.timestamp.body"; the key is the base64 part
 * of a "whsec_..." secret.  See https://www.standardwebhooks.com/ .
 */
#include "hd_sign.h"

#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hd_util.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const unsigned char *data, size_t len)
{
    char *out = hd_xmalloc(4 * ((len + 2) / 3) + 1);
    /* EVP_EncodeBlock takes an int length; the callers encode HMACs, RSA
     * signatures and credentials, never gigabytes. */
    EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    return out;
}

/* EVP_DecodeBlock is laxer than we want (it skips blanks, accepts any
 * bits after the last full byte and keeps the padding's zero bytes), so
 * the text is checked first and the result re-encoded: only canonical
 * base64 with optional padding is accepted, as before. */
int base64_decode(const char *text, unsigned char **out, size_t *outlen)
{
    size_t len = strlen(text);
    /* Padding is optional, but only at the end and at most two. */
    size_t pad = 0;
    while (len > 0 && text[len - 1] == '=' && pad < 2) {
        len--;
        pad++;
    }
    if (len % 4 == 1 || (pad && (len + pad) % 4 != 0) || strspn(text, b64_alphabet) != len ||
        len > INT_MAX / 2)
        return -1;
    size_t full = (len + 3) / 4 * 4;          /* with the padding put back */
    char *padded = hd_xmalloc(full + 1);
    memcpy(padded, text, len);
    memset(padded + len, '=', full - len);
    padded[full] = '\0';
    size_t n = len * 3 / 4;                    /* bytes without the padding */
    unsigned char *buf = hd_xmalloc(full / 4 * 3 + 1);
    bool ok = EVP_DecodeBlock(buf, (const unsigned char *)padded, (int)full) >= 0;
    if (ok) {
        char *again = base64_encode(buf, n);
        ok = strcmp(again, padded) == 0;       /* leftover bits were zero */
        free(again);
    }
    free(padded);
    if (!ok) {
        free(buf);
        return -1;
    }
    *out = buf;
    *outlen = n;
    return 0;
}

/* Decodes the key part of a secret; the "whsec_" prefix is optional. */
static hd_status secret_key(const char *secret, unsigned char **key, size_t *keylen,
                            hd_error *err)
{
    if (!secret || !*secret)
        return hd_error_set(err, HD_INVALID, "hmac secret: is empty");
    const char *b64 = strncmp(secret, "whsec_", 6) == 0 ? secret + 6 : secret;
    if (!*b64)
        return hd_error_set(err, HD_INVALID, "hmac secret: no key after \"whsec_\"");
    if (base64_decode(b64, key, keylen) != 0)
        return hd_error_set(err, HD_INVALID,
                            "hmac secret: must be \"whsec_\" followed by base64 text");
    if (*keylen == 0) {
        free(*key);
        return hd_error_set(err, HD_INVALID, "hmac secret: the key is empty");
    }
    return HD_OK;
}

hd_status sign_check_secret(const char *secret, hd_error *err)
{
    unsigned char *key = NULL;
    size_t keylen = 0;
    hd_status st = secret_key(secret, &key, &keylen, err);
    if (st == HD_OK)
        free(key);
    return st;
}

char *sign_standard_webhook(const char *secret, const char *msg_id, int64_t timestamp_s,
                            const char *body, size_t body_len, hd_error *err)
{
    unsigned char *key = NULL;
    size_t keylen = 0;
    if (secret_key(secret, &key, &keylen, err) != HD_OK)
        return NULL;
    hd_buf content = {0};
    hd_buf_printf(&content, "%s.%" PRId64 ".", msg_id, timestamp_s);
    hd_buf_append(&content, body, body_len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    bool ok = HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)content.data,
                   content.len, mac, &maclen) != NULL;
    hd_buf_free(&content);
    free(key);
    if (!ok) {
        hd_error_set(err, HD_INTERNAL, "hmac: OpenSSL HMAC-SHA256 failed");
        return NULL;
    }
    char *b64 = base64_encode(mac, maclen);
    char *sig = hd_xasprintf("v1,%s", b64);
    free(b64);
    return sig;
}
