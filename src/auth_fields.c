/* auth_fields.c - every setting of every auth kind, once: its YAML key,
 * where the site keeps it, its type, CLI flag, form label and help, the
 * kinds it belongs to (hd_auth.h).  Plain data and lookups, used by the
 * kinds (auth_kinds.c), auth_extra.c, config.c, the export, the CLI and
 * the form. */
#include "hd_auth.h"

#include <string.h>

#define K(kind) (1u << (kind))

/* Order matters where the fields are listed: the YAML keys of one slot in
 * messages ("give only one of password, token, ..."), the extra settings
 * in export and in the form. */
const auth_field auth_fields[] = {
    /* name, slot, type, secret, kinds, flag, label, help, choices, when_key, when_is,
     * when_not, lead */
    { "user", AS_USER, AX_STRING, false, K(AUTH_BASIC), "user", "User", "basic: user name",
      { NULL }, NULL, NULL, false, false },
    { "client_id", AS_USER, AX_STRING, false, K(AUTH_OAUTH2), "client-id", "Client id",
      "oauth2: client id", { NULL }, NULL, NULL, false, false },
    { "access_key", AS_USER, AX_STRING, false, K(AUTH_AWS) | K(AUTH_AWS_S3), "access-key",
      "Access key id", "aws, aws-s3: access key id", { NULL }, NULL, NULL, false, false },
    { "password", AS_SECRET, AX_STRING, true, K(AUTH_BASIC), "secret", "Password",
      "basic: password", { NULL }, NULL, NULL, false, false },
    { "token", AS_SECRET, AX_STRING, true, K(AUTH_BEARER), "secret", "Token", "bearer: token",
      { NULL }, NULL, NULL, false, false },
    { "secret", AS_SECRET, AX_STRING, true, K(AUTH_HMAC), "secret", "Secret whsec_",
      "hmac: whsec_ signing key", { NULL }, NULL, NULL, false, false },
    { "value", AS_SECRET, AX_STRING, true, K(AUTH_HEADER), "secret", "Header value",
      "header: the header's value", { NULL }, NULL, NULL, false, false },
    { "secret", AS_SECRET, AX_STRING, true, K(AUTH_JWT), "secret", "Secret",
      "jwt HS256: shared secret", { NULL }, "alg", "RS256", true, false },
    { "client_secret", AS_SECRET, AX_STRING, true, K(AUTH_OAUTH2), "secret", "Client secret",
      "oauth2: client secret", { NULL }, NULL, NULL, false, false },
    { "secret_key", AS_SECRET, AX_STRING, true, K(AUTH_AWS) | K(AUTH_AWS_S3), "secret",
      "Secret key", "aws, aws-s3: secret access key", { NULL }, NULL, NULL, false, false },
    { "header", AS_HEADER, AX_STRING, false, K(AUTH_HEADER), "header", "Header name",
      "header: the header carrying the secret (e.g. X-Api-Key)", { NULL }, NULL, NULL, false,
      false },
    { "alg", AS_EXTRA, AX_STRING, false, K(AUTH_JWT), "jwt-alg", "Algorithm",
      "jwt: HS256 (secret) or RS256 (PEM key)", { "HS256", "RS256", NULL }, NULL, NULL, false,
      true },
    { "key_file", AS_EXTRA, AX_STRING, false, K(AUTH_JWT), "jwt-key-file", "Key file",
      "jwt RS256: path of the PEM private key", { NULL }, "alg", "RS256", false, false },
    { "key_env", AS_EXTRA, AX_STRING, false, K(AUTH_JWT), "jwt-key-env", "Key variable",
      "jwt RS256: environment variable holding the PEM private key", { NULL }, "alg", "RS256",
      false, false },
    { "claims", AS_EXTRA, AX_MAP, false, K(AUTH_JWT), "jwt-claim", "Claims",
      "jwt: claim NAME=VALUE (repeatable)", { NULL }, NULL, NULL, false, false },
    { "lifetime", AS_EXTRA, AX_DURATION, false, K(AUTH_JWT), "jwt-lifetime", "Lifetime",
      "jwt: exp - iat (default 5m)", { NULL }, NULL, NULL, false, false },
    { "token_url", AS_EXTRA, AX_STRING, false, K(AUTH_OAUTH2), "token-url", "Token URL",
      "oauth2: the token endpoint (client-credentials grant)", { NULL }, NULL, NULL, false,
      true },
    { "scope", AS_EXTRA, AX_STRING, false, K(AUTH_OAUTH2), "scope", "Scope",
      "oauth2: scope (optional)", { NULL }, NULL, NULL, false, false },
    { "audience", AS_EXTRA, AX_STRING, false, K(AUTH_OAUTH2), "audience", "Audience",
      "oauth2: audience (optional)", { NULL }, NULL, NULL, false, false },
    { "client_auth", AS_EXTRA, AX_STRING, false, K(AUTH_OAUTH2), "client-auth", "Client auth",
      "oauth2: basic (default) or body: how the client credentials are sent",
      { "basic", "body", NULL }, NULL, NULL, false, false },
    { "region", AS_EXTRA, AX_STRING, false, K(AUTH_AWS) | K(AUTH_AWS_S3), "region", "Region",
      "aws, aws-s3: region, e.g. eu-west-1", { NULL }, NULL, NULL, false, false },
    { "service", AS_EXTRA, AX_STRING, false, K(AUTH_AWS), "service", "Service",
      "aws: service, e.g. execute-api", { NULL }, NULL, NULL, false, false },
    { "session_token", AS_EXTRA, AX_STRING, true, K(AUTH_AWS) | K(AUTH_AWS_S3),
      "session-token", "Session token",
      "aws, aws-s3: temporary session token (optional; '-' reads stdin)", { NULL }, NULL, NULL,
      false, false },
    { "bucket", AS_EXTRA, AX_STRING, false, K(AUTH_AWS_S3), "bucket", "Bucket",
      "aws-s3: bucket name", { NULL }, NULL, NULL, false, false },
    { "object_format", AS_EXTRA, AX_STRING, false, K(AUTH_AWS_S3), "object-format",
      "Object format",
      "aws-s3: object name, {id} {action} {customer} {date} (default " AUTH_S3_DEFAULT_FORMAT
      ")", { NULL }, NULL, NULL, false, false },
};
const int auth_nfields = (int)(sizeof auth_fields / sizeof auth_fields[0]);

const auth_field *auth_field_find(const char *name)
{
    for (int i = 0; name && i < auth_nfields; i++)
        if (auth_fields[i].slot == AS_EXTRA && strcmp(auth_fields[i].name, name) == 0)
            return &auth_fields[i];
    return NULL;
}

const auth_field *auth_field_of(auth_kind k, auth_slot slot)
{
    for (int i = 0; i < auth_nfields && (unsigned)k < AUTH_KIND_COUNT; i++)
        if (auth_fields[i].slot == slot && (auth_fields[i].kinds & K(k)))
            return &auth_fields[i];
    return NULL;
}

bool auth_field_active(const auth_field *f, auth_kind k, const char *when_value)
{
    if (!f || (unsigned)k >= AUTH_KIND_COUNT || !(f->kinds & K(k)))
        return false;
    if (!f->when_key)
        return true;
    if (!when_value || !*when_value) {
        const auth_field *w = auth_field_find(f->when_key);
        when_value = w && w->choices[0] ? w->choices[0] : "";
    }
    bool is = strcmp(when_value, f->when_is) == 0;
    return f->when_not ? !is : is;
}
