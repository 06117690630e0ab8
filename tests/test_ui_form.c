/* test_ui_form.c - the site form's text form of a map setting (jwt claims,
 * form_claims.c): JSON object -> "k=v; k2=v2" -> auth_extra, both ways,
 * with the escapes JSON allows and the mistakes an operator can type;
 * commas between claims and the hint that shows them parsed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "hd_auth.h"
#include "hd_util.h"
#include "../ui/ui.h"

static void test_map_text_from_json(void **state)
{
    (void)state;
    char *t = form_map_text("{\"iss\":\"hookdesk\",\"sub\":\"orders\"}");
    assert_string_equal(t, "iss=hookdesk; sub=orders");
    free(t);
    /* escapes are decoded */
    t = form_map_text("{\"a\\u00e9\":\"x\\\"y\"}");
    assert_string_equal(t, "a\xc3\xa9=x\"y");
    free(t);
    /* nothing, an empty map, not an object, not JSON, not strings */
    const char *empty[] = { NULL, "", "{}", "[1]", "{\"a\":", "{\"a\":1}" };
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        t = form_map_text(empty[i]);
        assert_string_equal(t, "");
        free(t);
    }
}

static void test_map_parse_into_extra(void **state)
{
    (void)state;
    char *extra = hd_xstrdup("{\"alg\":\"HS256\",\"claims\":{\"old\":\"gone\"}}");
    char why[256] = "";
    assert_true(form_map_parse(" iss = hookdesk ;sub=orders;; ", "claims", &extra, why,
                               sizeof why));
    char *claims = auth_extra_get(extra, "claims");
    assert_non_null(claims);
    assert_string_equal(claims, "{\"iss\":\"hookdesk\",\"sub\":\"orders\"}");
    free(claims);
    char *alg = auth_extra_get(extra, "alg");
    assert_string_equal(alg, "HS256");   /* other settings untouched */
    free(alg);
    /* round trip */
    claims = auth_extra_get(extra, "claims");
    char *text = form_map_text(claims);
    assert_string_equal(text, "iss=hookdesk; sub=orders");
    free(text);
    free(claims);
    /* an empty text removes the map */
    assert_true(form_map_parse("", "claims", &extra, why, sizeof why));
    assert_null(auth_extra_get(extra, "claims"));
    free(extra);
}

static void test_map_parse_refuses_bad_items(void **state)
{
    (void)state;
    char *extra = NULL;
    char why[256] = "";
    assert_false(form_map_parse("iss=a; nonsense", "claims", &extra, why, sizeof why));
    assert_string_equal(why, "auth.claims: 'nonsense' is not NAME=VALUE");
    assert_false(form_map_parse("=value", "claims", &extra, why, sizeof why));
    assert_string_equal(why, "auth.claims: '=value' is not NAME=VALUE");
    free(extra);
}

/* Issue #11 (8): "iss=hookdesk, aud=qa" was one claim.  A comma followed
 * by NAME= separates claims too; one inside a value does not.  The hint
 * shows the claims as parsed. */
static void test_map_commas_and_hint(void **state)
{
    (void)state;
    char *extra = NULL;
    char why[256] = "";
    assert_true(form_map_parse("iss=hookdesk, aud=qa;sub=a,b , x = 1", "claims", &extra, why,
                               sizeof why));
    char *claims = auth_extra_get(extra, "claims");
    assert_string_equal(claims, "{\"iss\":\"hookdesk\",\"aud\":\"qa\",\"sub\":\"a,b\",\"x\":\"1\"}");
    free(claims);
    free(extra);
    char hint[256];
    form_map_help("iss=hookdesk, aud=qa", hint, sizeof hint);
    assert_string_equal(hint, "2 claims: iss = hookdesk | aud = qa");
    form_map_help("iss=hookdesk", hint, sizeof hint);
    assert_string_equal(hint, "1 claim: iss = hookdesk");
    form_map_help("", hint, sizeof hint);
    assert_string_equal(hint, "NAME=VALUE; NAME2=VALUE2 (; or , between claims)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_text_from_json),
        cmocka_unit_test(test_map_parse_into_extra),
        cmocka_unit_test(test_map_parse_refuses_bad_items),
        cmocka_unit_test(test_map_commas_and_hint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
