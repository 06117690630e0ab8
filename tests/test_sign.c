/* test_sign.c - base64 and Standard Webhooks signatures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hd_netguard.h"
#include "hd_sign.h"

#include <arpa/inet.h>
#include <netinet/in.h>

/* The published test vector of the Standard Webhooks specification
 * (standard-webhooks/standard-webhooks, libraries' signature tests). */
static void test_standard_webhooks_vector(void **state)
{
    (void)state;
    const char *payload = "{\"test\": 2432232314}";
    hd_error err = {0};
    char *sig = sign_standard_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                      "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, payload,
                                      strlen(payload), &err);
    assert_non_null(sig);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    free(sig);
    /* The prefix is optional. */
    sig = sign_standard_webhook("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                1614265330, payload, strlen(payload), &err);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    free(sig);
    /* Any change of id, time or body changes the signature. */
    sig = sign_standard_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, payload,
                                strlen(payload), &err);
    assert_string_not_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    free(sig);
}

static void test_bad_secret(void **state)
{
    (void)state;
    hd_error err = {0};
    assert_null(sign_standard_webhook("whsec_not*base64!", "id", 1, "{}", 2, &err));
    assert_int_equal(err.code, HD_INVALID);
    assert_non_null(strstr(err.msg, "base64"));
    assert_int_equal(sign_check_secret("whsec_", &err), HD_INVALID);
    assert_int_equal(sign_check_secret("", &err), HD_INVALID);
    assert_int_equal(sign_check_secret(NULL, &err), HD_INVALID);
    assert_int_equal(sign_check_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &err), HD_OK);
}

static void test_base64_known(void **state)
{
    (void)state;
    static const struct { const char *plain, *enc; } v[] = {
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char *e = base64_encode((const unsigned char *)v[i].plain, strlen(v[i].plain));
        assert_string_equal(e, v[i].enc);
        free(e);
        unsigned char *d = NULL;
        size_t dlen = 0;
        assert_int_equal(base64_decode(v[i].enc, &d, &dlen), 0);
        assert_int_equal(dlen, strlen(v[i].plain));
        assert_memory_equal(d, v[i].plain, dlen);
        free(d);
    }
    /* Padding optional. */
    unsigned char *d = NULL;
    size_t dlen = 0;
    assert_int_equal(base64_decode("Zm8", &d, &dlen), 0);
    assert_int_equal(dlen, 2);
    free(d);
    assert_int_equal(base64_decode("Z", &d, &dlen), -1);
    assert_int_equal(base64_decode("Zm9v!A==", &d, &dlen), -1);
    assert_int_equal(base64_decode("Zg=", &d, &dlen), -1);
}

static void test_base64_round_trip(void **state)
{
    (void)state;
    unsigned char buf[300];
    for (size_t len = 0; len < sizeof buf; len++) {
        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)(i * 37 + len * 11);
        char *e = base64_encode(buf, len);
        assert_int_equal(strlen(e), 4 * ((len + 2) / 3));
        unsigned char *d = NULL;
        size_t dlen = 0;
        assert_int_equal(base64_decode(e, &d, &dlen), 0);
        assert_int_equal(dlen, len);
        if (len)
            assert_memory_equal(d, buf, len);
        free(d);
        free(e);
    }
}

static bool v4_private(const char *text)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, text, &sa.sin_addr), 1);
    return netguard_is_private((const struct sockaddr *)&sa);
}

static bool v6_private(const char *text)
{
    struct sockaddr_in6 sa;
    memset(&sa, 0, sizeof sa);
    sa.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, text, &sa.sin6_addr), 1);
    return netguard_is_private((const struct sockaddr *)&sa);
}

static void test_netguard(void **state)
{
    (void)state;
    const char *priv4[] = { "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255",
                            "192.168.1.1", "127.0.0.1", "127.8.9.10", "169.254.169.254",
                            "100.64.0.1", "100.127.255.255", "0.0.0.0", "0.1.2.3", "224.0.0.1",
                            "239.255.255.255", "240.0.0.1", "255.255.255.255" };
    const char *pub4[] = { "8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.0", "100.63.255.255",
                           "100.128.0.0", "192.167.1.1", "169.253.0.1", "223.255.255.255",
                           "11.0.0.1", "126.255.255.255", "128.0.0.1" };
    for (size_t i = 0; i < sizeof priv4 / sizeof priv4[0]; i++)
        assert_true(v4_private(priv4[i]));
    for (size_t i = 0; i < sizeof pub4 / sizeof pub4[0]; i++)
        assert_false(v4_private(pub4[i]));
    const char *priv6[] = { "::1", "::", "fc00::1", "fdff::1", "fe80::1", "febf::1", "ff02::1",
                            "::ffff:10.0.0.1", "::ffff:127.0.0.1", "64:ff9b::192.168.0.1",
                            "64:ff9b::a00:1" };
    /* fec0::/10 and ::a.b.c.d are refused now: tests/test_netguard.c. */
    const char *pub6[] = { "2001:4860:4860::8888", "2606:4700::1111", "::ffff:8.8.8.8",
                           "64:ff9b::8.8.8.8" };
    for (size_t i = 0; i < sizeof priv6 / sizeof priv6[0]; i++)
        assert_true(v6_private(priv6[i]));
    for (size_t i = 0; i < sizeof pub6 / sizeof pub6[0]; i++)
        assert_false(v6_private(pub6[i]));

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, "10.0.0.1", &sa.sin_addr);
    char out[64];
    netguard_format((const struct sockaddr *)&sa, out, sizeof out);
    assert_string_equal(out, "10.0.0.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_standard_webhooks_vector),
        cmocka_unit_test(test_bad_secret),
        cmocka_unit_test(test_base64_known),
        cmocka_unit_test(test_base64_round_trip),
        cmocka_unit_test(test_netguard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
