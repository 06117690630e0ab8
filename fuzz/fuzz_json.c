/* fuzz_json.c - the strict JSON scanner of payloads (json_scan, json_valid,
 * json_string_decode, json_pretty).
 *
 * Input: any bytes, scanned as one JSON text.  Rules: no crash, leak, UB or
 * read past the input; json_valid agrees with json_scan; every top-level
 * member's value is one valid JSON value on its own and its key decodes
 * (unless it holds \u0000); the pretty form of a valid text is valid, of
 * the same kind, and its own pretty form (idempotent, also for refused
 * texts that json_pretty re-indents).
 * The one JSON rule (issue 10 item 7): json_scan accepts exactly what
 * jansson (json_loadb, JSON_DECODE_ANY) accepts, both ways (except that
 * jansson also skips raw NUL bytes between tokens), and decoded strings
 * are valid UTF-8.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common.h"
#include "hd_json.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

typedef struct members {
    hd_buf buf;
    int count;
} members;

static void check_string_token(const char *tok, size_t len, hd_buf *buf, const char *what)
{
    if (json_string_decode(tok, len, buf)) {
        FZ_CHECK(fz_utf8_valid(hd_buf_str(buf), buf->len),
                 "%s decodes to invalid UTF-8", what);
    } else {
        /* The only string a valid text may hold that does not decode. */
        FZ_CHECK(memmem(tok, len, "\\u0000", 6) != NULL, "%s: a valid string does not decode",
                 what);
    }
}

static bool on_member(const json_member *m, void *ud)
{
    members *ms = ud;
    ms->count++;
    FZ_CHECK(m->key && m->value && m->value_len > 0, "empty member");
    /* key points between the quotes of its token. */
    FZ_CHECK(m->key[-1] == '"' && m->key[m->key_len] == '"', "key not between quotes");
    check_string_token(m->key - 1, m->key_len + 2, &ms->buf, "a key");
    bool obj = false;
    FZ_CHECK(json_scan(m->value, m->value_len, NULL, NULL, &obj, NULL),
             "a member's value is not valid JSON on its own");
    if (m->value[0] == '"')
        check_string_token(m->value, m->value_len, &ms->buf, "a string value");
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    members ms = { { 0 }, 0 };
    bool is_object = false;
    hd_error err;
    hd_error_clear(&err);
    bool ok = json_scan(text, size, on_member, &ms, &is_object, &err);
    FZ_CHECK(ok || err.msg[0], "refused without a message");
    FZ_CHECK(json_valid(text, size, NULL) == ok, "json_valid and json_scan disagree");
    bool plain_obj = false;
    FZ_CHECK(json_scan(text, size, NULL, NULL, &plain_obj, NULL) == ok,
             "json_scan with and without a callback disagree");
    FZ_CHECK(!ok || plain_obj == is_object, "is_object depends on the callback");

    char *pretty = json_pretty(text, size);
    FZ_CHECK(pretty != NULL, "json_pretty returned NULL");
    if (ok) {
        bool pobj = false;
        size_t plen = strlen(pretty);
        FZ_CHECK(json_scan(pretty, plen, NULL, NULL, &pobj, NULL), "pretty form is not valid JSON");
        FZ_CHECK(pobj == is_object, "pretty form changed the kind of value");
        char *again = json_pretty(pretty, plen);
        FZ_CHECK(strcmp(again, pretty) == 0, "json_pretty is not idempotent");
        free(again);
    } else if (!memchr(text, '\0', size) &&
               (strlen(pretty) != size || memcmp(pretty, text, size) != 0)) {
        /* Re-indented although refused (json_pretty also indents what only
         * breaks the value limits, a 100-digit integer): stable all the same. */
        char *again = json_pretty(pretty, strlen(pretty));
        FZ_CHECK(strcmp(again, pretty) == 0, "json_pretty is not idempotent on a refused text");
        free(again);
    }
    free(pretty);

    /* The whole input as one string token. */
    hd_buf dec = { 0 };
    (void)json_string_decode(text, size, &dec);
    hd_buf_free(&dec);

    /* The one JSON rule.  jansson skips raw NUL bytes between tokens
     * ("[0\0]"); RFC 8259 does not, and a payload is a C string: that one
     * difference is left out. */
    json_error_t jerr;
    json_t *j = json_loadb(text, size, JSON_DECODE_ANY, &jerr);
    if (ok || !memchr(text, '\0', size))
        FZ_CHECK((j != NULL) == ok, "json_scan %s what jansson %s (jansson: %s)",
                 ok ? "accepts" : "refuses", j ? "accepts" : "refuses", j ? "ok" : jerr.text);
    json_decref(j);
    hd_buf_free(&ms.buf);
    return 0;
}
