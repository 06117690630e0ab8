/* store_search_text.c - the words of a search and its matching rule, shared
 * by both store backends (store_search_text.h). */
#include "store_search_text.h"

#include <stdint.h>

#include <string.h>

static bool word_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c >= 0x80;
}

static unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

void search_words_parse(const char *text, search_words *out)
{
    out->n = 0;
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    while (*p && out->n < SEARCH_MAX_WORDS) {
        while (*p && !word_byte(*p))
            p++;
        if (!*p)
            break;
        size_t len = 0;
        char *w = out->w[out->n++];
        for (; *p && word_byte(*p); p++)
            if (len < SEARCH_WORD_MAX)
                w[len++] = (char)fold(*p);
        /* A longer word is searched by its start, never by half a UTF-8
         * character: a cut one drops back to before its lead byte. */
        if (len == SEARCH_WORD_MAX && (unsigned char)w[len - 1] >= 0x80) {
            size_t lead = len - 1;
            while (lead > 0 && ((unsigned char)w[lead] & 0xC0) == 0x80)
                lead--;
            unsigned char c = (unsigned char)w[lead];
            size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            if (lead + need > len)
                len = lead;
        }
        w[len] = '\0';
    }
}

bool search_word_whole(const char *word)
{
    return word[0] && !word[1];
}

void search_fts5_query(const search_words *q, hd_buf *out)
{
    for (int i = 0; i < q->n; i++)
        hd_buf_printf(out, "%s\"%s\"%s", i ? " AND " : "", q->w[i],
                      search_word_whole(q->w[i]) ? "" : "*");
}

void search_tsquery(const search_words *q, hd_buf *out)
{
    for (int i = 0; i < q->n; i++)
        hd_buf_printf(out, "%s%s%s", i ? " & " : "", q->w[i],
                      search_word_whole(q->w[i]) ? "" : ":*");
}

/* True when word (NUL-ended, folded) begins some word of text. */
static bool word_found(const char *word, const unsigned char *text, size_t len)
{
    size_t wl = strlen(word);
    size_t i = 0;
    while (i < len) {
        while (i < len && !word_byte(text[i]))
            i++;
        size_t k = 0;
        while (k < wl && i + k < len && fold(text[i + k]) == (unsigned char)word[k])
            k++;
        bool ends = i + k >= len || !word_byte(text[i + k]);
        if (k == wl && (ends || !search_word_whole(word)))
            return true;
        while (i < len && word_byte(text[i]))
            i++;
    }
    return false;
}

bool search_text_matches(const search_words *q, const char *text, size_t len)
{
    if (!text || q->n == 0)
        return false;
    for (int i = 0; i < q->n; i++)
        if (!word_found(q->w[i], (const unsigned char *)text, len))
            return false;
    return true;
}

void search_text_words(const char *text, size_t len, search_word_fn fn, void *arg)
{
    const unsigned char *t = (const unsigned char *)text;
    char w[256];
    size_t i = 0;
    while (i < len) {
        while (i < len && !word_byte(t[i]))
            i++;
        size_t n = 0;
        while (i < len && word_byte(t[i])) {
            if (n < sizeof w)
                w[n] = (char)fold(t[i]);
            n++;
            i++;
        }
        if (n > 0 && n <= sizeof w)
            fn(arg, w, n);
    }
}

/* ---- the two parts of a search (both backends) ---- */

hd_status search_parts_next(search_part_fn run, void *ctx, int64_t wm, int64_t lo,
                            int64_t from_id, bool older, int64_t *id, hd_error *err)
{
    *id = 0;
    hd_status rc = HD_OK;
    if (older) {
        int64_t from = from_id > 0 ? from_id : INT64_MAX;   /* 0: from the newest */
        if (from > lo)
            rc = run(ctx, PART_TAIL, true, false, from, 0, id, err);
        if (rc == HD_OK && *id == 0)
            rc = run(ctx, PART_INDEX, true, false, from < wm + 1 ? from : wm + 1, 0, id, err);
    } else {
        if (from_id < wm)
            rc = run(ctx, PART_INDEX, false, false, from_id, 0, id, err);
        if (rc == HD_OK && *id == 0)
            rc = run(ctx, PART_TAIL, false, false, from_id > lo - 1 ? from_id : lo - 1, 0, id,
                     err);
    }
    return rc;
}

hd_status search_parts_count(search_part_fn run, void *ctx, int64_t wm, int64_t newer_than,
                             int64_t cap, int64_t *count, bool *more, hd_error *err)
{
    *count = 0;
    *more = false;
    int64_t tail = 0, indexed = 0;
    hd_status rc = run(ctx, PART_TAIL, false, true, newer_than, cap, &tail, err);
    if (rc == HD_OK && newer_than < wm && (cap <= 0 || tail <= cap))
        rc = run(ctx, PART_INDEX, false, true, newer_than, cap, &indexed, err);
    if (rc != HD_OK)
        return rc;
    *count = tail + indexed;
    if (cap > 0 && *count > cap) {
        *count = cap;
        *more = true;
    }
    return HD_OK;
}
