/* test_netguard.c - the private-address guard (netguard.c): every IPv4
 * special range, and every IPv6 spelling that carries an IPv4 address
 * (issue #10: [::127.0.0.1], [::ffff:0:7f00:1], 6to4 2002:7f00:1::1,
 * 64:ff9b:1::/48, fec0::/10, 198.18.0.0/15 and 192.0.0.0/24 got through). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "hd_netguard.h"

static bool v4_private(const char *text)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    if (inet_pton(AF_INET, text, &sa.sin_addr) != 1)
        fail_msg("bad test address %s", text);
    return netguard_is_private((const struct sockaddr *)&sa);
}

static bool v6_private(const char *text)
{
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof sa);
    sa.sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, text, &sa.sin6_addr) != 1)
        fail_msg("bad test address %s", text);
    return netguard_is_private((const struct sockaddr *)&sa);
}

static void expect(bool (*judge)(const char *), const char *const *list, size_t n, bool want)
{
    for (size_t i = 0; i < n; i++)
        if (judge(list[i]) != want)
            fail_msg("%s: judged %s, wanted %s", list[i], want ? "public" : "private",
                     want ? "private" : "public");
}

#define EXPECT(judge, list, want) expect(judge, list, sizeof list / sizeof list[0], want)

static void test_ipv4_ranges(void **state)
{
    (void)state;
    /* First and last address of every refused block. */
    static const char *const refused[] = {
        "0.0.0.0", "0.255.255.255",           /* 0/8 this network */
        "10.0.0.0", "10.255.255.255",         /* 10/8 */
        "100.64.0.0", "100.127.255.255",      /* 100.64/10 CGNAT */
        "127.0.0.1", "127.255.255.255",       /* 127/8 loopback */
        "169.254.0.0", "169.254.169.254",     /* 169.254/16 link-local (cloud metadata) */
        "169.254.255.255",
        "172.16.0.0", "172.31.255.255",       /* 172.16/12 */
        "192.0.0.0", "192.0.0.8", "192.0.0.170", "192.0.0.255",   /* 192.0.0/24 IETF */
        "192.0.2.0", "192.0.2.255",           /* TEST-NET-1 */
        "192.168.0.0", "192.168.255.255",     /* 192.168/16 */
        "198.18.0.0", "198.18.0.1", "198.19.255.255",   /* 198.18/15 benchmarking */
        "198.51.100.0", "198.51.100.255",     /* TEST-NET-2 */
        "203.0.113.0", "203.0.113.255",       /* TEST-NET-3 */
        "224.0.0.0", "239.255.255.255",       /* 224/4 multicast */
        "240.0.0.0", "255.255.255.254", "255.255.255.255",   /* 240/4, broadcast */
    };
    /* The neighbours just outside each block. */
    static const char *const allowed[] = {
        "1.0.0.0", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
        "126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255",
        "172.32.0.0", "191.255.255.255", "192.0.1.0", "192.0.3.0", "192.167.255.255",
        "192.169.0.0", "198.17.255.255", "198.20.0.0", "198.51.99.255", "198.51.101.0",
        "203.0.112.255", "203.0.114.0", "223.255.255.255", "8.8.8.8", "1.1.1.1",
        "192.88.99.1",
    };
    EXPECT(v4_private, refused, true);
    EXPECT(v4_private, allowed, false);
}

static void test_ipv6_ranges(void **state)
{
    (void)state;
    static const char *const refused[] = {
        "::", "::1",                                  /* unspecified, loopback */
        "fc00::1", "fdff:ffff::1",                    /* fc00::/7 unique local */
        "fe80::1", "febf:ffff::1",                    /* fe80::/10 link-local */
        "fec0::1", "feff:ffff::1",                    /* fec0::/10 site-local */
        "ff02::1", "ff0e::1",                         /* multicast */
        "64:ff9b:1::1", "64:ff9b:1:ffff::8.8.8.8",    /* 64:ff9b:1::/48 local-use NAT64 */
        "100::1", "100::ffff:ffff:ffff:ffff",         /* 100::/64 discard */
        "2001:db8::1", "2001:db8:ffff::1",            /* documentation */
    };
    static const char *const allowed[] = {
        "2001:4860:4860::8888", "2606:4700::1111", "2a00:1450:4001::1", "fbff::1",
        "64:ff9b:2::1", "101::1", "100:0:0:1::1", "2001:db9::1", "2003::1",
    };
    EXPECT(v6_private, refused, true);
    EXPECT(v6_private, allowed, false);
}

/* Each IPv6 form that embeds an IPv4 address, with a private and a public
 * IPv4 inside: judged by what it carries. */
static void test_ipv6_embedded_ipv4(void **state)
{
    (void)state;
    static const char *const refused[] = {
        /* IPv4-compatible ::a.b.c.d (::/96) */
        "::127.0.0.1", "::7f00:1", "::10.1.2.3", "::192.168.0.1", "::169.254.169.254",
        "::198.18.0.1", "::192.0.0.1", "::2", "::0.0.0.0",
        /* IPv4-mapped ::ffff:a.b.c.d */
        "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1", "::ffff:100.64.0.1",
        "::ffff:198.18.0.1", "::ffff:224.0.0.1", "::ffff:0.0.0.0",
        /* SIIT ::ffff:0:a.b.c.d */
        "::ffff:0:127.0.0.1", "::ffff:0:7f00:1", "::ffff:0:10.0.0.1", "::ffff:0:172.16.0.1",
        "::ffff:0:169.254.169.254",
        /* NAT64 well-known prefix 64:ff9b::/96 */
        "64:ff9b::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::192.168.0.1", "64:ff9b::a00:1",
        "64:ff9b::192.0.0.170",
        /* 6to4 2002:AABB:CCDD::/48 */
        "2002:7f00:1::1", "2002:7f00:0001::", "2002:a00:1::", "2002:c0a8:101:1::1",
        "2002:a9fe:a9fe::1", "2002:c612:1::1", "2002:0:0::1",
        /* Teredo 2001:0:SERVER::~CLIENT */
        "2001:0:7f00:1::ffff:ffff",          /* server 127.0.0.1 */
        "2001:0:808:808::80ff:fffe",         /* client ~(80ff:fffe) = 127.0.0.1 */
        "2001:0:808:808::f5ff:fffe",         /* client 10.0.0.1 */
    };
    static const char *const allowed[] = {
        "::ffff:8.8.8.8", "::ffff:0:8.8.8.8", "::8.8.8.8", "64:ff9b::8.8.8.8",
        "64:ff9b::101:101", "2002:808:808::1", "2002:101:101:ffff::1",
        "2001:0:808:808::f7f7:f7f7",         /* server 8.8.8.8, client 8.8.8.8 */
    };
    EXPECT(v6_private, refused, true);
    EXPECT(v6_private, allowed, false);
}

static void test_other_families_and_format(void **state)
{
    (void)state;
    /* Nothing but IPv4 and IPv6 is a webhook target. */
    assert_true(netguard_is_private(NULL));
    struct sockaddr_un un;
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    assert_true(netguard_is_private((const struct sockaddr *)&un));

    char out[64];
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, "198.18.0.1", &sa.sin_addr);
    netguard_format((const struct sockaddr *)&sa, out, sizeof out);
    assert_string_equal(out, "198.18.0.1");
    struct sockaddr_in6 s6;
    memset(&s6, 0, sizeof s6);
    s6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "2002:7f00:1::1", &s6.sin6_addr);
    netguard_format((const struct sockaddr *)&s6, out, sizeof out);
    assert_string_equal(out, "2002:7f00:1::1");
    netguard_format(NULL, out, sizeof out);
    assert_string_equal(out, "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_ranges),
        cmocka_unit_test(test_ipv6_ranges),
        cmocka_unit_test(test_ipv6_embedded_ipv4),
        cmocka_unit_test(test_other_families_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
