/* auth_internal.h - what the files of the auth kinds share (auth_kinds.c
 * holds the tables; auth_simple.c, auth_jwt.c, auth_oauth2.c and
 * auth_aws.c the kinds' checks, probes and signing).  Not for other
 * modules: they go through hd_auth.h's tables. */
#ifndef HD_AUTH_INTERNAL_H
#define HD_AUTH_INTERNAL_H

#include <jansson.h>

#include "hd_auth.h"

#define AUTH_MASK "********"

/* The string value of key in auth_extra's object, or NULL. */
const char *auth_json_str(json_t *extra, const char *key);
/* True when s holds a C0 control character or DEL. */
bool auth_has_control(const char *s);

/* Per kind (the table in auth_kinds.c points at them): the check and
 * the signing of auth_kind_ops. */
typedef hd_status auth_check_fn(const auth_kind_ops *kind, const site *s, json_t *extra,
                                hd_error *err);
typedef hd_status auth_sign_fn(const auth_kind_ops *kind, const site *s, const message *m,
                               const request_context *ctx, http_request *r, hd_error *err);

auth_check_fn auth_none_check, auth_basic_check, auth_bearer_check, auth_header_check,
    auth_hmac_check, auth_jwt_check, auth_oauth2_check, auth_aws_check, auth_aws_s3_check;
auth_sign_fn auth_none_sign, auth_basic_sign, auth_bearer_sign, auth_header_sign,
    auth_hmac_sign, auth_jwt_sign, auth_oauth2_sign, auth_aws_sign;

hd_status auth_jwt_probe(const site *s, hd_error *err);

#endif
