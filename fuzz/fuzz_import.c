/* fuzz_import.c - one line of `hookdesk import` (JSON Lines).
 *
 * The line parser of src/cli/import.c (parse_line, take_member) is static
 * and not reachable through a header, so this harness runs the same steps
 * on the core functions it is made of: json_scan with a member callback,
 * json_string_decode of the string fields site, action, customer and path,
 * the payload kept as its raw span.  Input: one line (a trailing newline
 * is kept, as getline hands it over).
 *
 * Rules: no crash, leak or UB; an accepted line has a non-empty site and
 * action, a payload span inside the line that is itself one valid JSON
 * value, and a path (when given) starting with '/'.
 * The one JSON rule (issue 10 item 7): the decoded fields are valid UTF-8
 * and jansson parses the payload span (what the engine's form encoding
 * needs).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common.h"
#include "hd_json.h"
#include "hd_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return 0;
}

typedef struct line {
    const char *field[4];    /* site, action, customer, path (NULL = absent/null) */
    bool given[4];
    const char *payload;
    size_t payload_len;
    hd_buf strings[4];
    bool bad;
} line;

static const char *const names[] = { "site", "action", "customer", "path" };

static bool member_is(const json_member *m, const char *name)
{
    return m->key_len == strlen(name) && memcmp(m->key, name, m->key_len) == 0;
}

static bool take(const json_member *m, void *ud)
{
    line *l = ud;
    if (member_is(m, "payload")) {
        l->payload = m->value;
        l->payload_len = m->value_len;
        return true;
    }
    for (int i = 0; i < 4; i++) {
        if (!member_is(m, names[i]))
            continue;
        l->given[i] = true;
        if (i >= 2 && m->value_len == 4 && memcmp(m->value, "null", 4) == 0) {
            l->field[i] = NULL;
            return true;
        }
        if (m->value[0] != '"' || !json_string_decode(m->value, m->value_len, &l->strings[i])) {
            l->bad = true;
            return false;
        }
        l->field[i] = hd_buf_str(&l->strings[i]);
        return true;
    }
    l->bad = true;   /* unknown field */
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    line l;
    memset(&l, 0, sizeof l);
    bool is_object = false;
    hd_error err;
    hd_error_clear(&err);
    bool ok = json_scan(text, size, take, &l, &is_object, &err);
    FZ_CHECK(!l.bad || !ok, "the callback refused but json_scan succeeded");
    ok = ok && is_object && l.field[0] && *l.field[0] && l.field[1] && *l.field[1] && l.payload &&
         (!l.field[3] || l.field[3][0] == '/');
    if (ok) {
        FZ_CHECK(l.payload >= text && l.payload + l.payload_len <= text + size,
                 "payload span outside the line");
        FZ_CHECK(json_scan(l.payload, l.payload_len, NULL, NULL, NULL, NULL),
                 "payload span is not valid JSON");
        for (int i = 0; i < 4; i++)
            FZ_CHECK(!l.field[i] || fz_utf8_valid(l.field[i], l.strings[i].len),
                     "%s decodes to invalid UTF-8", names[i]);
        json_t *j = json_loadb(l.payload, l.payload_len, JSON_DECODE_ANY, NULL);
        FZ_CHECK(j != NULL, "jansson refuses a payload import accepts");
        json_decref(j);
    }
    for (int i = 0; i < 4; i++)
        hd_buf_free(&l.strings[i]);
    return 0;
}
