/* fuzz_duration.c - durations ("10s", "1h30m"), sizes ("64KiB") and the
 * times the CLI and the console's filter take ("2026-11-29",
 * "2026-11-29T20:58:55Z", "1h" ago: duration_parse_when).
 *
 * Input: the text (up to a NUL).  The first 8 bytes are also read as an
 * int64 for the formatters.  Rules: no crash, leak or UB; a parsed
 * duration is >= 0 and duration_format gives a text that parses back to
 * the same value (sizes likewise with size_format); the formatters
 * NUL-terminate whatever the value and buffer size.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hd_duration.h"
#include "hd_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("TZ", "Europe/Berlin", 1);   /* a zone with DST for mktime */
    return 0;
}

static void check_terminated(const char *buf, size_t cap, const char *what)
{
    FZ_CHECK(memchr(buf, '\0', cap) != NULL, "%s: no NUL in the buffer", what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = { data, size };
    char *text = fz_str(&in);
    const char *why = NULL;
    char out[64];

    int64_t ms = -1;
    if (duration_parse(text, &ms, &why)) {
        FZ_CHECK(ms >= 0, "negative duration %lld from '%s'", (long long)ms, text);
        duration_format(ms, out, sizeof out);
        int64_t back = -1;
        FZ_CHECK(duration_parse(out, &back, NULL) && back == ms,
                 "duration '%s' = %lld ms formats as '%s', which does not parse back", text,
                 (long long)ms, out);
        duration_format_short(ms, out, sizeof out);
    } else {
        FZ_CHECK(why && *why, "duration refused without a reason");
    }

    uint64_t bytes = 0;
    why = NULL;
    if (size_parse(text, &bytes, &why)) {
        size_format(bytes, out, sizeof out);
        uint64_t back = 0;
        FZ_CHECK(size_parse(out, &back, NULL) && back == bytes,
                 "size '%s' = %llu formats as '%s', which does not parse back", text,
                 (unsigned long long)bytes, out);
    } else {
        FZ_CHECK(why && *why, "size refused without a reason");
    }

    int64_t t = 0;
    if (hd_time_parse(text, &t)) {
        char ts[32];
        hd_time_rfc3339(t, ts);
        hd_time_local(t, ts);
    }

    /* A point in time (logs --since, the console's time filter): a date or
     * a duration ago, never both, each as its own parser reads it. */
    const int64_t now = 1800000000000LL;
    int64_t when = 0, date = 0, ago = 0;
    bool is_date = hd_time_parse(text, &date), is_ago = duration_parse(text, &ago, NULL);
    FZ_CHECK(!(is_date && is_ago), "'%s' is both a date and a duration", text);
    why = NULL;
    if (duration_parse_when(text, now, &when, &why)) {
        FZ_CHECK(!is_date || when == date, "'%s' as a time is not its date", text);
        FZ_CHECK(!is_ago || when == now - ago, "'%s' as a time is not that long ago", text);
    } else {
        FZ_CHECK(!is_date && !is_ago, "'%s' parses but is refused as a time", text);
        FZ_CHECK(why && *why, "time refused without a reason");
    }

    /* The formatters on raw values, with small buffers too. */
    int64_t raw = 0;
    memcpy(&raw, data, size < sizeof raw ? size : sizeof raw);
    size_t cap = 1 + (size ? data[0] % (sizeof out) : sizeof out - 1);
    if (cap > sizeof out)
        cap = sizeof out;
    duration_format(raw, out, cap);
    check_terminated(out, cap, "duration_format");
    duration_format_short(raw, out, cap);
    check_terminated(out, cap, "duration_format_short");
    size_format((uint64_t)raw, out, cap);
    check_terminated(out, cap, "size_format");
    if (raw >= 0) {
        duration_format(raw, out, sizeof out);
        int64_t back = -1;
        FZ_CHECK(duration_parse(out, &back, NULL) && back == raw,
                 "%lld ms formats as '%s', which does not parse back", (long long)raw, out);
    }
    size_format((uint64_t)raw, out, sizeof out);
    uint64_t sback = 0;
    FZ_CHECK(size_parse(out, &sback, NULL) && sback == (uint64_t)raw,
             "%llu bytes format as '%s', which does not parse back", (unsigned long long)raw, out);

    free(text);
    return 0;
}
