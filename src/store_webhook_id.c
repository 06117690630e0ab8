/* store_webhook_id.c - webhook ids (store_webhook_id.h), shared by the
 * SQLite and the PostgreSQL store. */
#include "store_webhook_id.h"

#include <string.h>

static const char webhook_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

void webhook_id_format(int64_t created_ms, const unsigned char random[WEBHOOK_ID_RANDOM],
                       char out[40])
{
    /* Time first (48 bits of epoch ms, big-endian), then 80 random bits, as
     * in ULIDs: ids made one after the other sort together.  80 random bits
     * per millisecond keep collisions out of reach. */
    unsigned char b[6 + WEBHOOK_ID_RANDOM];
    uint64_t now = (uint64_t)created_ms;
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(now >> (8 * (5 - i)));
    memcpy(b + 6, random, WEBHOOK_ID_RANDOM);
    memcpy(out, "msg_", 4);
    /* 26 chars x 5 bits = 130 bits; the last 2 bits are zero padding. */
    unsigned bitbuf = 0;
    int bits = 0;
    size_t in = 0;
    for (int i = 0; i < 26; i++) {
        if (bits < 5) {
            bitbuf = (bitbuf << 8) | (in < sizeof b ? b[in] : 0);
            in++;
            bits += 8;
        }
        out[4 + i] = webhook_alphabet[(bitbuf >> (bits - 5)) & 31];
        bits -= 5;
    }
    out[WEBHOOK_ID_LEN] = '\0';
}

bool webhook_id_time(const char *wid, int64_t *ms)
{
    if (strncmp(wid, "msg_", 4) != 0 || strlen(wid) != WEBHOOK_ID_LEN)
        return false;
    uint64_t first50 = 0;   /* the first 10 characters: the time's 48 bits and 2 more */
    for (int i = 4; i < WEBHOOK_ID_LEN; i++) {
        const char *at = strchr(webhook_alphabet, wid[i]);
        if (!at)
            return false;
        if (i < 14)
            first50 = (first50 << 5) | (uint64_t)(at - webhook_alphabet);
    }
    *ms = (int64_t)(first50 >> 2);
    return true;
}
