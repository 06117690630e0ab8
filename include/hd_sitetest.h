/* hd_sitetest.h - "test a site": send one ping request to a trusted site with
 * its real authentication, outside the message queue, and report the answer.
 * Used by `hookdesk sites test` (blocking) and the console (in the background,
 * polled, so the UI never waits on the network). */
#ifndef HD_SITETEST_H
#define HD_SITETEST_H

#include <stdbool.h>
#include <stdint.h>

#include "hd_config.h"
#include "hd_error.h"
#include "hd_retry.h"   /* retry_is_success: the 2xx rule that judges the answer */
#include "hd_site.h"

typedef struct sitetest_result {
    int response_code;       /* 0 = no response */
    int64_t duration_ms;
    char *error;             /* NULL on a 2xx */
    char *request_headers;   /* masked, "Name: value\n" lines */
    char *response_headers;
    char *response_body;     /* first max_response_body bytes */
    size_t response_body_len;
    char *request_line;      /* "POST https://..." / "PUT ..." as sent (aws-s3 PUTs elsewhere) */
} sitetest_result;

void sitetest_result_free(sitetest_result *r);

/* Blocking. */
hd_status sitetest_run(const config *cfg, const site *s, sitetest_result *out, hd_error *err);

/* Background: start returns at once; poll returns true once the result is in
 * (and fills out); free joins and frees. */
typedef struct sitetest sitetest;
hd_status sitetest_start(const config *cfg, const site *s, sitetest **out, hd_error *err);
bool sitetest_poll(sitetest *t, sitetest_result *out);
void sitetest_free(sitetest *t);

#endif
