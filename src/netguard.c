/* netguard.c - refuse deliveries to loopback/private/special addresses.
 *
 * Judged on the sockaddr curl is about to connect to (after DNS), so a public
 * name that resolves to 10.0.0.1 is refused too.  IPv6 forms that embed an
 * IPv4 address (::ffff:a.b.c.d, 64:ff9b::/96 NAT64) are judged by that
 * address.
 */
#include "hd_netguard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* addr in host byte order. */
static bool v4_is_private(uint32_t a)
{
    static const struct {
        uint32_t net;
        int bits;
    } blocks[] = {
        { 0x00000000u, 8 },   /* 0.0.0.0/8 "this network" */
        { 0x0a000000u, 8 },   /* 10/8 */
        { 0x64400000u, 10 },  /* 100.64/10 CGNAT */
        { 0x7f000000u, 8 },   /* 127/8 loopback */
        { 0xa9fe0000u, 16 },  /* 169.254/16 link-local */
        { 0xac100000u, 12 },  /* 172.16/12 */
        { 0xc0a80000u, 16 },  /* 192.168/16 */
        { 0xe0000000u, 4 },   /* 224/4 multicast */
        { 0xf0000000u, 4 },   /* 240/4 reserved, includes 255.255.255.255 */
    };
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
        uint32_t mask = 0xffffffffu << (32 - blocks[i].bits);
        if ((a & mask) == blocks[i].net)
            return true;
    }
    return false;
}

static uint32_t v4_from_bytes(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static bool v6_is_private(const unsigned char *b)
{
    static const unsigned char zero[16];
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    static const unsigned char nat64[12] = { 0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
    if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
        return true;                              /* :: and ::1 */
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return v4_is_private(v4_from_bytes(b + 12));
    if ((b[0] & 0xfe) == 0xfc)
        return true;                              /* fc00::/7 unique local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return true;                              /* fe80::/10 link-local */
    if (b[0] == 0xff)
        return true;                              /* ff00::/8 multicast */
    return false;
}

bool netguard_is_private(const struct sockaddr *sa)
{
    if (!sa)
        return true;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in in4;
        memcpy(&in4, sa, sizeof in4);
        return v4_is_private(ntohl(in4.sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        return v6_is_private(in6.sin6_addr.s6_addr);
    }
    /* Unix sockets and anything else are never a webhook target. */
    return true;
}

void netguard_format(const struct sockaddr *sa, char *out, size_t outlen)
{
    if (!outlen)
        return;
    out[0] = '\0';
    if (!sa) {
        snprintf(out, outlen, "?");
        return;
    }
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in in4;
        memcpy(&in4, sa, sizeof in4);
        if (!inet_ntop(AF_INET, &in4.sin_addr, out, (socklen_t)outlen))
            snprintf(out, outlen, "?");
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        if (!inet_ntop(AF_INET6, &in6.sin6_addr, out, (socklen_t)outlen))
            snprintf(out, outlen, "?");
    } else {
        snprintf(out, outlen, "address family %d", sa->sa_family);
    }
}
