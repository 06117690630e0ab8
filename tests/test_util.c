/* test_util.c - time formats and parsing, string buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hd_util.h"

/* A fixed zone two hours east of UTC, no tzdata needed. */
static int east_of_utc(void **state)
{
    (void)state;
    setenv("TZ", "XST-2", 1);
    tzset();
    return 0;
}

static void test_time_parse_local_and_utc(void **state)
{
    (void)state;
    int64_t utc_10h = 0;
    assert_true(hd_time_parse("2026-11-29T10:00:00Z", &utc_10h));
    assert_int_equal(utc_10h, 1795946400000LL);
    int64_t t = 0;
    /* Typed without Z: local time, 10:00 here is 08:00 UTC. */
    assert_true(hd_time_parse("2026-11-29 10:00", &t));
    assert_int_equal(t, utc_10h - 2 * 3600 * 1000);
    assert_true(hd_time_parse("2026-11-29T10:00:00", &t));
    assert_int_equal(t, utc_10h - 2 * 3600 * 1000);
    assert_true(hd_time_parse("2026-11-29", &t));
    assert_int_equal(t, utc_10h - 12 * 3600 * 1000);
    assert_false(hd_time_parse("2026-13-01", &t));
    assert_false(hd_time_parse("yesterday", &t));
    assert_false(hd_time_parse("2026-11-29 10:00 trailing", &t));
}

static void test_time_round_trip(void **state)
{
    (void)state;
    char out[32];
    /* What the tables show (local) parses back to the same instant. */
    hd_time_local(1795946400000LL, out);
    assert_string_equal(out, "2026-11-29 12:00:00");
    int64_t t = 0;
    assert_true(hd_time_parse(out, &t));
    assert_int_equal(t, 1795946400000LL);
    /* And so does what the JSON output prints (UTC, Z). */
    hd_time_rfc3339(1795946400000LL, out);
    assert_string_equal(out, "2026-11-29T10:00:00Z");
    assert_true(hd_time_parse(out, &t));
    assert_int_equal(t, 1795946400000LL);
}

static void test_buf(void **state)
{
    (void)state;
    hd_buf b = { 0 };
    assert_string_equal(hd_buf_str(&b), "");
    for (int i = 0; i < 1000; i++)
        hd_buf_printf(&b, "%d,", i % 10);
    assert_int_equal(b.len, 2000);
    assert_memory_equal(b.data, "0,1,2,", 6);
    hd_buf_reset(&b);
    hd_buf_puts(&b, "x");
    hd_buf_putc(&b, 'y');
    char *s = hd_buf_steal(&b);
    assert_string_equal(s, "xy");
    assert_null(b.data);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_parse_local_and_utc),
        cmocka_unit_test(test_time_round_trip),
        cmocka_unit_test(test_buf),
    };
    return cmocka_run_group_tests(tests, east_of_utc, NULL);
}
