/* hd_sanitize.h - making text from outside safe for a terminal.
 *
 * Payloads, response bodies, headers and names come from strangers; before
 * any of them reaches a terminal (console or CLI table), control characters
 * and escape sequences are replaced by visible, inert forms.
 */
#ifndef HD_SANITIZE_H
#define HD_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "hd_util.h"

typedef enum sanitize_flags {
    SANITIZE_KEEP_NEWLINES = 1 << 0,  /* keep \n (multi-line views) */
    SANITIZE_KEEP_TABS     = 1 << 1   /* keep \t (else shown as a space) */
} sanitize_flags;

/* Appends a sanitised copy of in[0..len) to out: valid UTF-8 printable text
 * is kept; C0/C1 controls, ESC and DEL become "^X"-style or \u{..} forms;
 * invalid UTF-8 bytes become U+FFFD. */
void sanitize_append(hd_buf *out, const char *in, size_t len, unsigned flags);
/* Convenience: returns a malloc'd sanitised copy of a NUL-terminated string. */
char *sanitize_dup(const char *in, unsigned flags);

/* Whether LC_CTYPE's character set is UTF-8.  When it is not (LANG=C), the
 * terminal cannot show other characters than ASCII: the console and the
 * CLI's tables show text through text_ascii_fold. */
bool locale_is_utf8(void);
/* In place: every non-ASCII character (or undecodable byte) of s becomes
 * one '?', so the text keeps one column per character. */
void text_ascii_fold(char *s);

/* Display width in terminal columns of UTF-8 text: wcwidth in a UTF-8
 * locale; one column per character in any other (as text_ascii_fold
 * shows it). */
size_t utf8_width(const char *s);
/* Byte length of the longest prefix of s that fits in `cols` columns. */
size_t utf8_fit(const char *s, size_t cols);

#endif
