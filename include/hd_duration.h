/* hd_duration.h - human durations ("250ms", "10s", "90d"), sizes ("64KiB")
 * and points in time ("2026-11-29", "1h" ago). */
#ifndef HD_DURATION_H
#define HD_DURATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Units: ms, s, m, h, d, w; a bare number means seconds.  Combinations such
 * as "1h30m" are accepted.  Rejects negatives, overflow and trailing junk.
 * On failure returns false and, when why is not NULL, points it at a static
 * explanation. */
bool duration_parse(const char *text, int64_t *out_ms, const char **why);

/* A point in time as people type it: a date ("2026-11-29", "2026-11-29
 * 20:58", "2026-11-29T20:58:55Z"; local time unless it ends in Z) or a
 * duration ago ("1h", "7d": now_ms minus it).  Blanks around the text are
 * ignored; empty text is refused.  The one parser of `logs --since/--until`
 * and the console's time filter. */
bool duration_parse_when(const char *text, int64_t now_ms, int64_t *out_ms, const char **why);
/* When text is a date alone (2026-11-30, local time), *end_ms = the start
 * of the next day (an end that includes the whole day) and true. */
bool date_day_end(const char *text, int64_t *end_ms);
/* The end of a time range as typed: a date alone (2026-11-30, local time)
 * includes that whole day (*out_ms = the next midnight); anything else as
 * duration_parse_when.  The one rule of `logs --until` and the end of the
 * console's time filter ("2026-11-01..2026-11-30" includes the 30th). */
bool duration_parse_until(const char *text, int64_t now_ms, int64_t *out_ms, const char **why);

/* Units: B, KiB, MiB, GiB (powers of 1024), KB, MB, GB (powers of 1000);
 * a bare number means bytes. */
bool size_parse(const char *text, uint64_t *out_bytes, const char **why);

/* Shortest exact form: 10000 -> "10s", 7776000000 -> "90d", 250 -> "250ms". */
void duration_format(int64_t ms, char *out, size_t outlen);
/* Rough countdown form for screens: "4s", "2m05s", "3h", "now". */
void duration_format_short(int64_t ms, char *out, size_t outlen);
void size_format(uint64_t bytes, char *out, size_t outlen);
/* The same in words for messages: 1024 -> "1 KiB", 1000 -> "1000 bytes". */
void size_words(uint64_t bytes, char *out, size_t outlen);

#endif
