/* lineedit.h - editing one line of UTF-8 text in a fixed buffer, the way
 * readline users expect: the cursor moves (Left/Right, Home/End, ^A/^E),
 * characters go in at the cursor, Backspace/Delete remove around it, ^U
 * and ^K cut before and after it, Alt-b/Alt-f move a word, Alt-Backspace
 * (or ^W) and Alt-d delete one.  Pure logic, no terminal: the form uses
 * it for every text field. */
#ifndef HD_LINEEDIT_H
#define HD_LINEEDIT_H

#include <stdbool.h>
#include <stddef.h>

typedef enum lineedit_result {
    LE_IGNORED,              /* not an editing key */
    LE_MOVED,                /* the cursor moved, the text is the same */
    LE_CHANGED               /* the text changed */
} lineedit_result;

/* buf holds cap bytes (NUL included); *cursor is a byte offset at a
 * character boundary, 0..strlen(buf).  key: a Unicode character or a TK_*. */
lineedit_result lineedit_key(char *buf, size_t cap, size_t *cursor, int key);

/* Number of characters (code points) in the first n bytes of s. */
size_t lineedit_chars(const char *s, size_t n);

/* Keys that are read raw rather than through a keymap have no request to
 * carry their help text, so their owner describes them as data: one line
 * of the `?` overlay per entry (view_help.c names the keys). */
typedef struct key_help {
    int keys[4];             /* TK_* or characters, unused slots 0 */
    const char *help;        /* what they do; NULL ends a table */
} key_help;

/* The keys lineedit_key understands, for the `?` overlay (an array, so a
 * view's static raw_help list can point at it, like keys_generic). */
extern const key_help lineedit_key_help[];

#endif
