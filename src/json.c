/* json.c - the pretty form of payloads (jansson); checking is json_scan.c. */
#include "hd_json.h"

#include <jansson.h>
#include <stdlib.h>

#include "hd_util.h"

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
