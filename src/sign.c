/* sign.c - base64 and Standard Webhooks signatures (HMAC-SHA256 via OpenSSL).
 *
 * The signed content is "msg_id.timestamp.body"; the key is the base64 part
 * of a "whsec_..." secret.  See https://www.standardwebhooks.com/ .
 */
#include "hd_sign.h"

#include <inttypes.h>
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
    size_t outlen = 4 * ((len + 2) / 3);
    char *out = hd_xmalloc(outlen + 1);
    size_t o = 0;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)data[i + 1] << 8;
        out[o++] = b64_alphabet[(v >> 18) & 63];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int base64_decode(const char *text, unsigned char **out, size_t *outlen)
{
    size_t len = strlen(text);
    /* Padding is optional, but only at the end and at most two. */
    size_t pad = 0;
    while (len > 0 && text[len - 1] == '=' && pad < 2) {
        len--;
        pad++;
    }
    if (len % 4 == 1 || (pad && (len + pad) % 4 != 0))
        return -1;
    unsigned char *buf = hd_xmalloc(len / 4 * 3 + 3);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value(text[i]);
        if (v < 0) {
            free(buf);
            return -1;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits must be zero, else the text is not canonical base64. */
    if (acc != 0) {
        free(buf);
        return -1;
    }
    *out = buf;
    *outlen = o;
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
