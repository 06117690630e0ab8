/* common.h - what the libFuzzer harnesses of fuzz/ share.
 *
 * Each fuzz/fuzz_NAME.c is one harness (LLVMFuzzerTestOneInput) over one
 * parser of outside text, calling the real core through include/ (and, for
 * the HTTP callbacks, src/http.h).  A harness prints nothing, frees
 * everything, and reports a broken rule (an "oracle") with fz_fail, which
 * aborts so that libFuzzer saves the input as a crash.
 *
 * Inputs that carry several fields separate them with NUL bytes (a C
 * string cannot hold one anyway); the seed corpus in fuzz/corpus/NAME/
 * shows each harness's layout.
 */
#ifndef HD_FUZZ_COMMON_H
#define HD_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef CURL_DISABLE_TYPECHECK
#define CURL_DISABLE_TYPECHECK
#endif
#include <curl/curl.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* "Now" for everything that needs a clock: 2026-11-29T20:58:55Z. */
#define FZ_NOW_MS 1796072335000LL

/* A cursor over the input. */
typedef struct fz_input {
    const uint8_t *p;
    size_t n;
} fz_input;

/* The next byte (0 once the input is used up). */
uint8_t fz_byte(fz_input *in);
/* The bytes up to the next NUL (consumed) or the end, as a malloc'd C string. */
char *fz_str(fz_input *in);
/* The rest of the input, malloc'd and NUL-terminated (NULs inside stay). */
char *fz_rest(fz_input *in, size_t *len);
/* A malloc'd NUL-terminated copy of n bytes. */
char *fz_dup(const void *data, size_t n);

/* Whether s[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool fz_utf8_valid(const char *s, size_t n);

/* Strict checks (HD_FUZZ_STRICT=1 in the environment): rules that are
 * wanted but do not hold yet (see each harness); off by default so that
 * `make test` tests what holds.  Turn one on by default once it holds. */
bool fz_strict(void);

/* A broken rule: names it on stderr and aborts (libFuzzer keeps the input). */
void fz_fail(const char *what, ...) __attribute__((noreturn, format(printf, 1, 2)));
#define FZ_CHECK(cond, ...) do { if (!(cond)) fz_fail(__VA_ARGS__); } while (0)

/* The property of every sanitised text (hd_sanitize.h): valid UTF-8, no
 * byte a terminal acts on (C0, DEL, C1) but the newlines and tabs that
 * flags keep.  Aborts through fz_fail otherwise. */
void fz_check_sanitized(const char *s, size_t len, unsigned flags);

/* src/http.c's libcurl callbacks are static; curl_easy_setopt is wrapped
 * (-Wl,--wrap=curl_easy_setopt) so a harness can call the ones that
 * http_transfer_new installs.  NULL until set; fz_curl_reset clears them. */
extern curl_write_callback fz_header_cb;
extern curl_write_callback fz_body_cb;
extern curl_debug_callback fz_debug_cb;
void fz_curl_reset(void);

#endif
