/* fuzz_config.c - the YAML configuration (config_load_string, and the
 * ${VAR} expansion every scalar goes through).
 *
 * Input: the YAML text.  Rules: no crash, leak or UB; on success every
 * site loaded passes site_validate (unless a secret is masked, which the
 * loader accepts for `sites import`); on failure the config is pure
 * defaults and the error names "fuzz.yaml:LINE:COL" or the file.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hd_config.h"
#include "hd_site.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* A few variables for ${VAR}; the rest are whatever the environment holds. */
    setenv("HD_FUZZ_PW", "s3cret", 1);
    setenv("HD_FUZZ_EMPTY", "", 1);
    return 0;
}

static bool has_mask(const char *s)
{
    return s && strstr(s, "********");
}

static bool site_masked(const site *s)
{
    if (has_mask(s->auth_secret) || has_mask(s->auth_extra) || has_mask(s->auth_user))
        return true;
    for (int i = 0; i < s->nheaders; i++)
        if (has_mask(s->headers[i].value))
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *yaml = fz_dup(data, size);
    config c;
    hd_error err;
    hd_error_clear(&err);
    hd_status rc = config_load_string(&c, yaml, "fuzz.yaml", &err);
    if (rc == HD_OK) {
        FZ_CHECK(c.nsites >= 0 && (c.nsites == 0 || c.sites), "sites array");
        for (int i = 0; i < c.nsites; i++) {
            if (site_masked(&c.sites[i]))
                continue;
            hd_error verr;
            hd_error_clear(&verr);
            FZ_CHECK(site_validate(&c.sites[i], &verr) == HD_OK,
                     "config accepted site %d that site_validate refuses: %s", i, verr.msg);
        }
    } else {
        FZ_CHECK(err.msg[0] != '\0', "an error with no message");
        FZ_CHECK(c.nsites == 0 && c.sites == NULL, "a failed load left sites behind");
    }
    config_free(&c);

    /* The expansion alone, on the same text. */
    char *out = NULL;
    hd_error_clear(&err);
    if (config_expand_env(yaml, &out, &err) == HD_OK)
        FZ_CHECK(out != NULL, "expansion succeeded with no text");
    free(out);
    free(yaml);
    return 0;
}
