/* fuzz_sanitize.c - the terminal-safe form of outside text (payloads,
 * response bodies and headers, names): sanitize_append, sanitize_dup,
 * utf8_width, utf8_fit.
 *
 * Input: byte 0 holds the flags (bits 0-1) and a column count (bits 2-7),
 * the rest is the text (any bytes).  Rules: no crash, leak or UB; the
 * sanitised text is valid UTF-8 without C0/C1 controls, ESC or DEL (\n and
 * \t only with their flags); sanitize_dup agrees with sanitize_append up to
 * the first NUL; utf8_fit returns a prefix that fits in the columns and
 * the whole text when given its whole width.
 */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hd_sanitize.h"
#include "hd_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setlocale(LC_CTYPE, "C.UTF-8");   /* as the console and CLI run */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = { data, size };
    uint8_t b0 = fz_byte(&in);
    unsigned flags = b0 & 3u;
    size_t cols = b0 >> 2;

    hd_buf out = { 0 };
    sanitize_append(&out, (const char *)in.p, in.n, flags);
    fz_check_sanitized(hd_buf_str(&out), out.len, flags);

    char *text = fz_dup(in.p, in.n);
    char *dup = sanitize_dup(text, flags);
    hd_buf first = { 0 };
    sanitize_append(&first, text, strlen(text), flags);
    FZ_CHECK(strcmp(dup, hd_buf_str(&first)) == 0, "sanitize_dup and sanitize_append disagree");

    const char *s = hd_buf_str(&out);
    size_t slen = strlen(s);
    size_t fit = utf8_fit(s, cols);
    FZ_CHECK(fit <= slen, "utf8_fit past the end");
    char *prefix = fz_dup(s, fit);
    FZ_CHECK(utf8_width(prefix) <= cols, "utf8_fit prefix wider than %zu columns", cols);
    FZ_CHECK(utf8_fit(s, utf8_width(s)) == slen, "text does not fit in its own width");
    (void)utf8_width(text);
    (void)utf8_fit(text, cols);

    free(prefix);
    hd_buf_free(&first);
    free(dup);
    free(text);
    hd_buf_free(&out);
    return 0;
}
