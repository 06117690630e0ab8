/* json.c - validity check and pretty form of payloads (jansson). */
#include "hd_json.h"

#include <jansson.h>
#include <stdlib.h>

#include "hd_util.h"

bool json_valid(const char *text, size_t len, hd_error *err)
{
    json_error_t je;
    /* JSON_DECODE_ANY: a payload may be any JSON value, not only an object;
     * JSON_ALLOW_NUL keeps "\u0000" from being mistaken for bad input. */
    json_t *j = json_loadb(text ? text : "", text ? len : 0,
                           JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!j) {
        hd_error_set(err, HD_INVALID, "line %d, column %d: %s", je.line, je.column, je.text);
        return false;
    }
    json_decref(j);
    return true;
}

char *json_pretty(const char *text, size_t len)
{
    if (!text)
        return hd_xstrdup("");
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!j)
        return hd_xstrndup(text, len);
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    json_decref(j);
    if (!s)
        return hd_xstrndup(text, len);
    /* json_dumps uses malloc too, but callers free with free(): copy to keep
     * one allocator contract (hd_x*) for every string we hand out. */
    char *out = hd_xstrdup(s);
    free(s);
    return out;
}
