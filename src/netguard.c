/* netguard.c - refuse deliveries to loopback/private/special addresses.
 *
 * Judged on the sockaddr curl is about to connect to (after DNS), so a public
 * name that resolves to 10.0.0.1 is refused too.
 *
 * Every IPv6 form that carries an IPv4 address is judged by that address,
 * so no spelling of 127.0.0.1 gets through (issue #10):
 *   ::a.b.c.d          IPv4-compatible (::/96, deprecated; "::7f00:1")
 *   ::ffff:a.b.c.d     IPv4-mapped (::ffff:0:0/96)
 *   ::ffff:0:a.b.c.d   IPv4-translated, SIIT (::ffff:0:0:0/96)
 *   64:ff9b::a.b.c.d   NAT64 well-known prefix (64:ff9b::/96)
 *   2002:AABB:CCDD::   6to4 (2002::/16, the IPv4 in bits 16..47)
 *   2001:0:S:S::C      Teredo (2001::/32): server S and client ~C
 * and the local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215), whose embedding
 * is up to the local network, is refused whole, like site-local fec0::/10,
 * unique-local fc00::/7, link-local fe80::/10, multicast ff00::/8, the
 * discard prefix 100::/64 and documentation 2001:db8::/32.
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
        { 0xc0000000u, 24 },  /* 192.0.0/24 IETF protocol assignments (DS-Lite, NAT64 ...) */
        { 0xc0000200u, 24 },  /* 192.0.2/24 TEST-NET-1 */
        { 0xc0a80000u, 16 },  /* 192.168/16 */
        { 0xc6120000u, 15 },  /* 198.18/15 benchmarking */
        { 0xc6336400u, 24 },  /* 198.51.100/24 TEST-NET-2 */
        { 0xcb007100u, 24 },  /* 203.0.113/24 TEST-NET-3 */
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
    static const unsigned char siit[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0 };
    static const unsigned char nat64[12] = { 0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const unsigned char nat64_local[6] = { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 };
    static const unsigned char discard[8] = { 0x01, 0x00, 0, 0, 0, 0, 0, 0 };
    /* ::/96 holds :: and ::1 (0.0.0.0/8 as IPv4) and the IPv4-compatible
     * ::a.b.c.d; the other three embed a.b.c.d in the last 32 bits. */
    if (memcmp(b, zero, 12) == 0 || memcmp(b, mapped, 12) == 0 || memcmp(b, siit, 12) == 0 ||
        memcmp(b, nat64, 12) == 0)
        return v4_is_private(v4_from_bytes(b + 12));
    if (memcmp(b, nat64_local, 6) == 0)
        return true;                              /* 64:ff9b:1::/48 local-use NAT64 */
    if (b[0] == 0x20 && b[1] == 0x02)
        return v4_is_private(v4_from_bytes(b + 2));   /* 2002:AABB:CCDD::/48 6to4 */
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) {
        /* Teredo: server IPv4 in bits 32..63, client IPv4 inverted in the last 32. */
        uint32_t client = ~v4_from_bytes(b + 12);
        return v4_is_private(v4_from_bytes(b + 4)) || v4_is_private(client);
    }
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
        return true;                              /* 2001:db8::/32 documentation */
    if (memcmp(b, discard, 8) == 0)
        return true;                              /* 100::/64 discard-only */
    if ((b[0] & 0xfe) == 0xfc)
        return true;                              /* fc00::/7 unique local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return true;                              /* fe80::/10 link-local */
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return true;                              /* fec0::/10 site-local (deprecated) */
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
