/* hd_json.h - the few JSON jobs outside the CLI's own output. */
#ifndef HD_JSON_H
#define HD_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "hd_error.h"
#include "hd_util.h"

/* Checks text is one valid JSON value; err says line/column when not. */
bool json_valid(const char *text, size_t len, hd_error *err);

/* One member of a top-level JSON object, as raw text (nothing decoded). */
typedef struct json_member {
    const char *key;         /* the key's bytes between its quotes */
    size_t key_len;
    const char *value;       /* the value's text, e.g. "\"a\\n\"", "{...}", "42" */
    size_t value_len;
} json_member;

/* Return false to stop the scan (json_scan then returns false; set err yourself). */
typedef bool (*json_member_fn)(const json_member *m, void *ud);

/* Checks that text is exactly one JSON value (RFC 8259: strict grammar,
 * valid UTF-8, nesting at most 512 deep) that jansson can also load, as
 * the engine does for form-encoded sites: no "\u0000", no lone surrogate
 * escape, integers within int64, reals within a double (one JSON rule: what
 * is accepted can be delivered to any site).  Nothing is built, so that bulk
 * input is checked at the speed of reading it.  When the value is an object
 * and fn is not NULL, fn sees each top-level member in order.  *is_object
 * (may be NULL) tells whether the value was an object. */
bool json_scan(const char *text, size_t len, json_member_fn fn, void *ud, bool *is_object,
               hd_error *err);

/* The grammar alone (same as json_scan without the jansson limits): for
 * showing stored text as JSON, never for accepting it. */
bool json_scan_grammar(const char *text, size_t len);

/* Decodes a JSON string token (with its quotes, as json_scan hands it out)
 * into out as UTF-8.  Fails on a token that is not a string or that holds
 * \u0000 (a NUL cannot live in a C string). */
bool json_string_decode(const char *token, size_t len, hd_buf *out);
/* Pretty form (2-space indent, keys in their order); malloc'd; when text is
 * not JSON, a copy of text is returned unchanged. */
char *json_pretty(const char *text, size_t len);

#endif
