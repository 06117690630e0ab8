/* token_cache.h - internal: the delivery engine's OAuth2 access tokens, and
 * the token requests it runs in its curl multi handle.  src/ only.
 *
 * One entry per token identity (auth_oauth2_cache_key: token URL, client,
 * scope, hashed secret), so every concurrent message of a site shares one
 * token.  Entries never go away, so an entry index stays valid for the
 * cache's life (parked messages keep one).  Not thread-safe: the engine's
 * curl thread alone uses it (no lock). */
#ifndef HD_TOKEN_CACHE_H
#define HD_TOKEN_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "hd_site.h"
#include "http.h"

typedef struct token_entry token_entry;
typedef struct token_request token_request;

typedef struct token_cache {
    token_entry *items;          /* never shrinks (indices stay valid) */
    int count;
    token_request *requests;     /* token requests under way in the multi handle */
    int nrequests;
} token_cache;

/* Settings of a token request (the engine's delivery defaults). */
typedef struct token_fetch_options {
    const char *user_agent;
    int64_t default_timeout_ms;  /* for a site without its own timeout */
    bool allow_private;          /* network.allow_private */
    const char *proxy;           /* network.proxy; must outlive the request */
} token_fetch_options;

/* The entry of s's token identity (created empty the first time). */
int token_cache_entry(token_cache *c, const site *s);
/* The entry's token when a message may use it now, else NULL: none yet,
 * refused, or due for renewal.  `fresh`: the caller waited for a fetch that
 * has finished since, so a token shorter-lived than the refresh margin is
 * still used (no fetch loop). */
const char *token_cache_token(const token_cache *c, int entry, bool fresh);
/* Why the entry's last fetch failed, NULL after a success (or none yet). */
const char *token_cache_error(const token_cache *c, int entry);
/* Completed fetches of the entry: a waiting message resumes once it changed. */
uint64_t token_cache_fetches(const token_cache *c, int entry);
/* Starts the entry's token request in multi unless one is under way.  A
 * request that cannot even be made counts as a failed fetch at once. */
void token_cache_fetch(token_cache *c, int entry, const site *s, const token_fetch_options *opt,
                       CURLM *multi);
/* When t is one of the cache's token requests (already out of the multi
 * handle): updates its entry from res, frees t and returns true.  False for
 * any other transfer (nothing done). */
bool token_cache_finished(token_cache *c, http_transfer *t, const http_result *res);
/* The site answered 401 to token `sent`: drops it if it is still the
 * entry's current one (a newer token fetched meanwhile stays), so the next
 * attempt fetches a new one. */
void token_cache_refused(token_cache *c, int entry, const char *sent);
/* Aborts every token request (removed from multi, freed); their entries
 * may fetch again. */
void token_cache_abort(token_cache *c, CURLM *multi);
/* Frees everything (tokens wiped); the requests must be aborted first. */
void token_cache_free(token_cache *c);

#endif
