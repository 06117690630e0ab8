/* store_search_text.h - what a search looks for, the same on both store
 * backends: the words of a search text, the query each backend's index
 * reads (an FTS5 MATCH expression, a PostgreSQL tsquery) and the matching
 * rule in C (SQLite's scan of the rows not indexed yet).  Pure C, no SQL.
 *
 * The rule (hd_store.h, store_search_next): a message matches when every
 * word of the search text begins a word of its action, customer or
 * payload (a one-character word must be a whole word there) (the first STORE_SEARCH_PAYLOAD_CHARS characters).  A word is a
 * run of ASCII letters and digits and of any non-ASCII characters; every
 * other ASCII character separates words ("cus_001" is "cus" and "001",
 * "order.created" is "order" and "created").  ASCII letters match in any
 * case.  The backends' indexes read text the same way: SQLite's FTS5
 * unicode61 tokenizer (ASCII punctuation separates; it also folds the case
 * of non-ASCII letters and splits at non-ASCII punctuation, which this C
 * rule, used only for the few rows not indexed yet, does not), and in
 * PostgreSQL to_tsvector('simple', ...) of the text with its ASCII
 * punctuation turned into spaces (pg_search.c).
 */
#ifndef HD_STORE_SEARCH_TEXT_H
#define HD_STORE_SEARCH_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "hd_error.h"
#include "hd_util.h"

/* Words of a search text that count; more are ignored. */
#define SEARCH_MAX_WORDS 8
/* Bytes of a word that count (a longer word is searched by its start). */
#define SEARCH_WORD_MAX 64

typedef struct search_words {
    char w[SEARCH_MAX_WORDS][SEARCH_WORD_MAX + 1]; /* lower-case (ASCII), NUL-ended */
    int n;
} search_words;

/* True for a word searched whole, not as a start: one character ("e"
 * would begin most words of every message, and asking an index for all
 * of them costs as much as reading the table). */
bool search_word_whole(const char *word);
/* The words of text (n = 0 when it has none: only punctuation). */
void search_words_parse(const char *text, search_words *out);
/* The FTS5 MATCH expression: "w1"* AND "w2"* (the words hold no quote). */
void search_fts5_query(const search_words *q, hd_buf *out);
/* The tsquery: w1:* & w2:* (the words hold no tsquery operator). */
void search_tsquery(const search_words *q, hd_buf *out);
/* Calls fn for each word of text (len bytes): its bytes, folded as a
 * search folds them (ASCII lower case), not NUL-ended. */
typedef void (*search_word_fn)(void *arg, const char *word, size_t n);
void search_text_words(const char *text, size_t len, search_word_fn fn, void *arg);
/* True when every word of q begins a word of text (len bytes). */
bool search_text_matches(const search_words *q, const char *text, size_t len);

/* Where a backend's search query looks: its index (ids up to the
 * watermark) or the tail scan (the newest rows, ids from the tail's
 * start), which finds what the index has not reached yet. */
typedef enum search_part { PART_INDEX, PART_TAIL } search_part;
/* One part's query as a backend runs it (ctx: its own state): the nearest
 * match past from (older: the highest id below it, else the lowest above),
 * or with count the matches above from, up to cap + 1 of them. */
typedef hd_status (*search_part_fn)(void *ctx, search_part part, bool older, bool count,
                                    int64_t from, int64_t cap, int64_t *out, hd_error *err);
/* store_search_next over the two parts (wm: the watermark, lo: the tail's
 * lowest id): going older the tail first (it holds the newest ids), going
 * newer the index first. */
hd_status search_parts_next(search_part_fn run, void *ctx, int64_t wm, int64_t lo,
                            int64_t from_id, bool older, int64_t *id, hd_error *err);
/* store_search_count over the two parts. */
hd_status search_parts_count(search_part_fn run, void *ctx, int64_t wm, int64_t newer_than,
                             int64_t cap, int64_t *count, bool *more, hd_error *err);

#endif
