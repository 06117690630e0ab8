/* store_site_fields.h - how a site's fields are stored, the same in both
 * backends (store_sites.c, pg_sites.c): the extra headers as JSON, the
 * content type and auth kind by name, the circuit state as a number.
 * Pure C, no SQL; nothing outside the store's files includes it. */
#ifndef HD_STORE_SITE_FIELDS_H
#define HD_STORE_SITE_FIELDS_H

#include "hd_breaker.h"
#include "hd_site.h"

/* sites.headers: a JSON object in the site's order, name -> value, where a
 * header marked secret is name -> {"value": value, "secret": true}.  *out
 * is NULL (SQL NULL) for a site with no headers; free() it. */
hd_status store_headers_to_json(const site *s, char **out, hd_error *err);
/* Adds the headers of sites.headers (NULL: none) to s.  Rows written
 * before the secret mark existed hold only strings and read as plain;
 * shapes the store never writes are skipped. */
void store_headers_from_json(site *s, const char *text);
/* s->ctype and s->auth from the stored names: an unknown or missing name
 * reads as the default (JSON, no auth) rather than failing the read. */
void store_site_kinds(site *s, const char *ctype_name, const char *auth_name);
/* The stored circuit_state column: anything but open or probing is closed. */
circuit_state store_circuit_state(int64_t stored);

#endif
