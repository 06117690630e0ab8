/* hd_json.h - the few JSON jobs outside the CLI's own output. */
#ifndef HD_JSON_H
#define HD_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "hd_error.h"

/* Checks text is one valid JSON value; err says line/column when not. */
bool json_valid(const char *text, size_t len, hd_error *err);
/* Pretty form (2-space indent, keys in their order); malloc'd; when text is
 * not JSON, a copy of text is returned unchanged. */
char *json_pretty(const char *text, size_t len);

#endif
