/* json.c - the pretty form of payloads.
 *
 * The text is re-indented, never decoded and re-encoded: what the console
 * and `show` display is exactly what was sent, token for token (numbers
 * keep their spelling, duplicate keys and escapes stay as they are), only
 * the white space between tokens changes.
 */
#include "hd_json.h"

#include <stdbool.h>
#include <string.h>

#include "hd_util.h"

static void newline(hd_buf *out, int depth)
{
    hd_buf_putc(out, '\n');
    for (int i = 0; i < depth; i++)
        hd_buf_puts(out, "  ");
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Next non-white-space character at or after *i, or '\0' at the end. */
static char peek(const char *text, size_t len, size_t i)
{
    while (i < len && is_ws(text[i]))
        i++;
    return i < len ? text[i] : '\0';
}

char *json_pretty(const char *text, size_t len)
{
    if (!text)
        return hd_xstrdup("");
    /* Only valid JSON is re-indented (the scan also bounds the nesting).
     * The grammar is enough: a payload stored before the one JSON rule (a
     * 100-digit integer, say) is still shown indented. */
    if (!json_scan_grammar(text, len))
        return hd_xstrndup(text, len);
    hd_buf out = { 0 };
    int depth = 0;
    size_t i = 0;
    while (i < len) {
        char c = text[i];
        if (is_ws(c)) {
            i++;
            continue;
        }
        if (c == '"') {
            /* A string token, copied as is up to its closing quote. */
            size_t start = i++;
            while (i < len && text[i] != '"')
                i += text[i] == '\\' ? 2 : 1;
            i++;
            hd_buf_append(&out, text + start, i - start);
            continue;
        }
        i++;
        switch (c) {
        case '{':
        case '[': {
            char close = c == '{' ? '}' : ']';
            hd_buf_putc(&out, c);
            if (peek(text, len, i) == close) {
                /* Empty: "{}" on one line. */
                while (text[i] != close)
                    i++;
                i++;
                hd_buf_putc(&out, close);
            } else {
                newline(&out, ++depth);
            }
            break;
        }
        case '}':
        case ']':
            newline(&out, --depth);
            hd_buf_putc(&out, c);
            break;
        case ',':
            hd_buf_putc(&out, ',');
            newline(&out, depth);
            break;
        case ':':
            hd_buf_puts(&out, ": ");
            break;
        default:
            /* Numbers and literals: the run of their characters. */
            hd_buf_putc(&out, c);
            while (i < len && !is_ws(text[i]) && !strchr(",:]}", text[i]))
                hd_buf_putc(&out, text[i++]);
            break;
        }
    }
    return hd_buf_steal(&out);
}
