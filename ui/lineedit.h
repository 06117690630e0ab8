/* lineedit.h - editing one line of UTF-8 text in a fixed buffer, the way
 * readline users expect: the cursor moves (Left/Right, Home/End, ^A/^E),
 * characters go in at the cursor, Backspace/Delete remove around it, ^U
 * and ^K cut before and after it.  Pure logic, no terminal: the form uses
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

#endif
