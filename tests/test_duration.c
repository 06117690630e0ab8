/* test_duration.c - durations and sizes: parsing, refusals, formatting;
 * points in time typed as a date or a duration ago. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hd_duration.h"
#include "hd_util.h"

static void test_duration_valid(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t ms;
    } cases[] = {
        { "250ms", 250 }, { "10s", 10000 }, { "10", 10000 }, { "0", 0 }, { "0s", 0 },
        { "5m", 300000 }, { "1h", 3600000 }, { "90d", 7776000000LL }, { "1w", 604800000 },
        { "1h30m", 5400000 }, { "1m30s500ms", 90500 }, { " 10s ", 10000 }, { "10 s", 10000 },
        { "1d12h", 129600000 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t ms = -1;
        const char *why = NULL;
        if (!duration_parse(cases[i].text, &ms, &why))
            fail_msg("'%s' refused: %s", cases[i].text, why);
        assert_int_equal(ms, cases[i].ms);
    }
}

static void test_duration_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *why;
    } cases[] = {
        { "", "number expected" },
        { "s", "number expected" },
        { "abc", "number expected" },
        { "10x", "unknown unit 'x'" },
        { "10sec", "unknown unit 'sec'" },
        { "10M", "unknown unit 'M'" },
        { "-5s", "negative values are not allowed" },
        { "1h30", "unit expected" },
        { "1.5s", "fractions" },
        { "10s!", "unexpected text '!'" },
        { "99999999999999999999", "value too large" },
        { "9223372036854775807s", "value too large" },
        { "106751991167w", "value too large" },
        { "9223372036854775807ms1ms", "value too large" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t ms = 42;
        const char *why = NULL;
        if (duration_parse(cases[i].text, &ms, &why))
            fail_msg("'%s' accepted as %lld", cases[i].text, (long long)ms);
        assert_non_null(why);
        if (!strstr(why, cases[i].why))
            fail_msg("'%s': why '%s' lacks '%s'", cases[i].text, why, cases[i].why);
        assert_int_equal(ms, 42);   /* untouched on failure */
    }
    /* The largest value there is still parses. */
    int64_t ms;
    assert_true(duration_parse("9223372036854775807ms", &ms, NULL));
    assert_int_equal(ms, INT64_MAX);
    assert_false(duration_parse(NULL, &ms, NULL));
}

static void test_duration_format(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *text;
    } cases[] = {
        { 10000, "10s" }, { 7776000000LL, "90d" }, { 250, "250ms" }, { 0, "0s" },
        { 60000, "1m" }, { 90000, "90s" }, { 5400000, "90m" }, { 1500, "1500ms" },
        { 604800000, "1w" }, { 604800001, "1w1ms" }, { -2000, "-2s" },
    };
    char buf[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        duration_format(cases[i].ms, buf, sizeof buf);
        assert_string_equal(buf, cases[i].text);
    }
    /* Round trips over a spread of values, including awkward ones. */
    static const int64_t values[] = { 1, 999, 1001, 59999, 3600001, 86400000, 123456789012LL,
                                      INT64_MAX };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        int64_t back;
        const char *why = NULL;
        duration_format(values[i], buf, sizeof buf);
        if (!duration_parse(buf, &back, &why))
            fail_msg("format %lld -> '%s' does not parse: %s", (long long)values[i], buf, why);
        assert_int_equal(back, values[i]);
    }
    /* A short buffer is truncated, never overrun. */
    char tiny[3];
    duration_format(7776000000LL, tiny, sizeof tiny);
    assert_string_equal(tiny, "90");
}

static void test_duration_format_short(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *text;
    } cases[] = {
        { 0, "now" }, { -5, "now" }, { 1, "1s" }, { 4000, "4s" }, { 3500, "4s" },
        { 125000, "2m05s" }, { 120000, "2m" }, { 3 * 3600000, "3h" },
        { 3 * 3600000 + 300000, "3h05m" }, { 2 * 86400000LL, "2d" },
        { 2 * 86400000LL + 3 * 3600000, "2d03h" },
    };
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        duration_format_short(cases[i].ms, buf, sizeof buf);
        assert_string_equal(buf, cases[i].text);
    }
}

static void test_size_parse(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t bytes;
    } cases[] = {
        { "0", 0 }, { "512", 512 }, { "512B", 512 }, { "64KiB", 65536 }, { "64 KiB", 65536 },
        { "64kib", 65536 }, { "1MiB", 1048576 }, { "2GiB", 2147483648ULL }, { "1KB", 1000 },
        { "3MB", 3000000 }, { "1GB", 1000000000 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t b = 1;
        const char *why = NULL;
        if (!size_parse(cases[i].text, &b, &why))
            fail_msg("'%s' refused: %s", cases[i].text, why);
        assert_int_equal(b, cases[i].bytes);
    }
    static const struct {
        const char *text;
        const char *why;
    } bad[] = {
        { "", "number expected" }, { "KiB", "number expected" }, { "-1", "negative" },
        { "10XB", "unknown unit 'XB'" }, { "10KiB x", "unknown unit 'x'" },
        { "1.5MiB", "fractions" }, { "18446744073709551616", "value too large" },
        { "17179869184GiB", "value too large" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t b = 7;
        const char *why = NULL;
        if (size_parse(bad[i].text, &b, &why))
            fail_msg("'%s' accepted as %llu", bad[i].text, (unsigned long long)b);
        assert_non_null(why);
        if (!strstr(why, bad[i].why))
            fail_msg("'%s': why '%s' lacks '%s'", bad[i].text, why, bad[i].why);
        assert_int_equal(b, 7);
    }
}

static void test_size_format(void **state)
{
    (void)state;
    static const struct {
        uint64_t bytes;
        const char *text;
    } cases[] = {
        { 0, "0B" }, { 512, "512B" }, { 1024, "1KiB" }, { 65536, "64KiB" },
        { 1048576, "1MiB" }, { 1536, "1536B" }, { 1073741824, "1GiB" }, { 1000, "1000B" },
    };
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_format(cases[i].bytes, buf, sizeof buf);
        assert_string_equal(buf, cases[i].text);
        uint64_t back;
        assert_true(size_parse(buf, &back, NULL));
        assert_int_equal(back, cases[i].bytes);
    }
}

/* Issue #10: numbers from outside are clamped or refused, never wrapped.
 * The edges of every unit, exactly at and just past int64 / uint64. */
static void test_overflow_edges(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        bool ok;
        int64_t ms;
    } d[] = {
        { "9223372036854775807ms", true, INT64_MAX },
        { "9223372036854775808ms", false, 0 },
        { "9223372036854775s", true, 9223372036854775000LL },
        { "9223372036854776s", false, 0 },
        { "153722867280912m", true, 153722867280912LL * 60000 },
        { "153722867280913m", false, 0 },
        { "2562047788015h", true, 2562047788015LL * 3600000 },
        { "2562047788016h", false, 0 },
        { "106751991167d", true, 106751991167LL * 86400000 },
        { "106751991168d", false, 0 },
        { "15250284452w", true, 15250284452LL * 604800000 },
        { "15250284453w", false, 0 },
        { "15250284452w3d", true, 15250284452LL * 604800000 + 3 * 86400000LL },
        { "15250284452w4d", false, 0 },                     /* the sum overflows */
        { "9223372036854775s807ms", true, INT64_MAX },
        { "9223372036854775s808ms", false, 0 },
        { "18446744073709551615ms", false, 0 },             /* fits uint64, not int64 */
        { "18446744073709551616ms", false, 0 },             /* not even uint64 */
        { "184467440737095516160000000000s", false, 0 },
        { "00000000000000000000000000000001s", true, 1000 }, /* leading zeros never overflow */
        { "9223372036854775", true, 9223372036854775000LL }, /* bare seconds */
        { "9223372036854776", false, 0 },
    };
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        int64_t ms = -7;
        const char *why = NULL;
        bool ok = duration_parse(d[i].text, &ms, &why);
        if (ok != d[i].ok)
            fail_msg("'%s': %s (%s)", d[i].text, ok ? "accepted" : "refused", why ? why : "");
        if (ok)
            assert_int_equal(ms, d[i].ms);
        else
            assert_true(strstr(why, "too large") != NULL && ms == -7);
    }
    static const struct {
        const char *text;
        bool ok;
        uint64_t bytes;
    } z[] = {
        { "18446744073709551615", true, UINT64_MAX },
        { "18446744073709551615B", true, UINT64_MAX },
        { "18446744073709551616", false, 0 },
        { "17179869183GiB", true, 17179869183ULL << 30 },
        { "17179869184GiB", false, 0 },
        { "18014398509481983KiB", true, 18014398509481983ULL << 10 },
        { "18014398509481984KiB", false, 0 },
        { "18446744073GB", true, 18446744073000000000ULL },
        { "18446744074GB", false, 0 },
        { "99999999999999999999999999999999", false, 0 },
    };
    for (size_t i = 0; i < sizeof z / sizeof z[0]; i++) {
        uint64_t b = 7;
        const char *why = NULL;
        bool ok = size_parse(z[i].text, &b, &why);
        if (ok != z[i].ok)
            fail_msg("'%s': %s (%s)", z[i].text, ok ? "accepted" : "refused", why ? why : "");
        if (ok)
            assert_true(b == z[i].bytes);
        else
            assert_true(strstr(why, "too large") != NULL && b == 7);
    }
    /* The formatters take any value, the extremes included. */
    char buf[64];
    duration_format(INT64_MIN, buf, sizeof buf);
    assert_string_equal(buf, "-9223372036854775808ms");
    duration_format_short(INT64_MAX, buf, sizeof buf);
    assert_string_equal(buf, "106751991167d07h");
    duration_format_short(INT64_MIN, buf, sizeof buf);
    assert_string_equal(buf, "now");
    size_format(UINT64_MAX, buf, sizeof buf);
    assert_string_equal(buf, "18446744073709551615B");
}

/* Random texts over the characters these parsers look at: every verdict is
 * a clean accept or refuse (UBSan would stop on any overflow), and what is
 * accepted formats back to the same value. */
static void test_random_texts(void **state)
{
    (void)state;
    static const char alphabet[] = "0123456789999 .,+-smhdwKMGiBb x";
    unsigned seed = 2024;
    int accepted = 0;
    for (int round = 0; round < 100000; round++) {
        char text[48];
        seed = seed * 1103515245u + 12345u;
        size_t len = (seed >> 8) % (sizeof text - 1);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            text[i] = alphabet[(seed >> 8) % (sizeof alphabet - 1)];
        }
        text[len] = '\0';
        int64_t ms;
        const char *why = NULL;
        if (duration_parse(text, &ms, &why)) {
            accepted++;
            assert_true(ms >= 0);
            char back[64];
            int64_t again;
            duration_format(ms, back, sizeof back);
            assert_true(duration_parse(back, &again, NULL));
            assert_true(again == ms);
            duration_format_short(ms, back, sizeof back);
        } else {
            assert_non_null(why);
        }
        uint64_t bytes;
        why = NULL;
        if (size_parse(text, &bytes, &why)) {
            char back[64];
            uint64_t again;
            size_format(bytes, back, sizeof back);
            assert_true(size_parse(back, &again, NULL));
            assert_true(again == bytes);
        } else {
            assert_non_null(why);
        }
    }
    assert_true(accepted > 100);
    /* And the formatters over random 64-bit values. */
    uint64_t x = 88172645463325252ULL;
    for (int round = 0; round < 100000; round++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        char buf[64];
        duration_format((int64_t)x, buf, sizeof buf);
        duration_format_short((int64_t)x, buf, sizeof buf);
        size_format(x, buf, sizeof buf);
        if ((int64_t)x >= 0) {
            int64_t back;
            duration_format((int64_t)x, buf, sizeof buf);
            assert_true(duration_parse(buf, &back, NULL) && back == (int64_t)x);
        }
    }
}

/* The one parser of `logs --since` and the console's time filter: a date
 * (local, or UTC with Z) or a duration ago, blanks around ignored. */
static void test_parse_when(void **state)
{
    (void)state;
    const int64_t now = 1800000000000LL;
    int64_t ms = -1, want = 0;
    const char *why = NULL;
    assert_true(duration_parse_when("1h", now, &ms, &why));
    assert_int_equal(ms, now - 3600000);
    assert_true(duration_parse_when(" 7d\t", now, &ms, &why));
    assert_int_equal(ms, now - 7LL * 86400000);
    assert_true(duration_parse_when("90", now, &ms, &why));   /* bare number: seconds */
    assert_int_equal(ms, now - 90000);
    assert_true(hd_time_parse("2026-11-29", &want));
    assert_true(duration_parse_when("2026-11-29", now, &ms, &why));
    assert_int_equal(ms, want);
    assert_true(duration_parse_when("  2026-11-29 20:58 ", now, &ms, &why));
    assert_true(hd_time_parse("2026-11-29 20:58", &want));
    assert_int_equal(ms, want);
    assert_true(duration_parse_when("2026-11-29T20:58:55Z", now, &ms, &why));
    assert_int_equal(ms, 1795985935000LL);   /* UTC, whatever TZ says */

    static const char *const bad[] = { "", "   ", "yesterday", "1x", "-1h", "2026-13-45",
                                       "2026-11-29 25:00", "1h ago", NULL };
    for (int i = 0; bad[i]; i++) {
        why = NULL;
        ms = 42;
        if (duration_parse_when(bad[i], now, &ms, &why))
            fail_msg("accepted '%s'", bad[i]);
        assert_non_null(why);
        assert_int_equal(ms, 42);   /* untouched */
    }
    assert_false(duration_parse_when(NULL, now, &ms, NULL));
}

/* The end of a range: a date alone includes its day (logs --until and the
 * console's time filter read it so); a time or a duration is exact. */
static void test_parse_until(void **state)
{
    (void)state;
    const int64_t now = 1800000000000LL;
    int64_t ms = -1, want = 0;
    const char *why = NULL;
    assert_true(duration_parse_until("2026-11-30", now, &ms, &why));
    assert_true(hd_time_parse("2026-12-01", &want));
    assert_int_equal(ms, want);
    assert_true(duration_parse_until("2026-12-31", now, &ms, &why));   /* into the next year */
    assert_true(hd_time_parse("2027-01-01", &want));
    assert_int_equal(ms, want);
    assert_true(duration_parse_until("2026-11-30 12:00", now, &ms, &why));
    assert_true(hd_time_parse("2026-11-30 12:00", &want));
    assert_int_equal(ms, want);
    assert_true(duration_parse_until("1h", now, &ms, &why));
    assert_int_equal(ms, now - 3600000);
    why = NULL;
    assert_false(duration_parse_until("tomorrow", now, &ms, &why));
    assert_non_null(why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_valid),
        cmocka_unit_test(test_duration_invalid),
        cmocka_unit_test(test_duration_format),
        cmocka_unit_test(test_duration_format_short),
        cmocka_unit_test(test_size_parse),
        cmocka_unit_test(test_size_format),
        cmocka_unit_test(test_overflow_edges),
        cmocka_unit_test(test_random_texts),
        cmocka_unit_test(test_parse_when),
        cmocka_unit_test(test_parse_until),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
