/* token_cache.c - the delivery engine's OAuth2 access tokens (see
 * token_cache.h).
 *
 * DESIGN
 * Owned by the engine's curl thread; no lock (nothing here is shared).
 *   - A message whose site has no usable token is parked by the engine
 *     (engine.c), and the entry's token request is added to the engine's
 *     curl multi handle as one more transfer (token_cache_fetch): other
 *     sites' transfers keep running in the same curl_multi_poll, and a slow
 *     or dead token endpoint holds up only the messages waiting for it, for
 *     at most the site's timeout.
 *   - When the request finishes (token_cache_finished) the entry gets the
 *     new token or the error, and `fetches` advances: the parked messages
 *     resume, with the token or failing with "oauth2: token endpoint URL:
 *     HTTP 500" as their attempt's error (retried as usual).
 *   - A token is renewed auth_oauth2_refresh_margin_ms before expires_in; a
 *     401 from the site drops it (token_cache_refused) if it is still the
 *     one that was sent.
 */
#include "token_cache.h"

#include <stdlib.h>
#include <string.h>

#include "hd_auth.h"
#include "hd_request.h"
#include "hd_util.h"

/* Bytes of a token endpoint's answer kept (the JSON with the token). */
#define TOKEN_MAX_RESPONSE (64 * 1024)

/* One cached access token. */
struct token_entry {
    char *key;               /* auth_oauth2_cache_key */
    char *token;             /* current access token, NULL when none */
    int64_t refresh_at;      /* monotonic ms from which a new one is fetched */
    bool fetching;           /* its token request is under way */
    uint64_t fetches;        /* completed fetches; parked messages wait for the next */
    char *last_error;        /* why the last fetch failed, NULL after a success */
};

/* A token request under way. */
struct token_request {
    http_transfer *t;        /* in the engine's multi handle */
    int entry;               /* index in items */
};

int token_cache_entry(token_cache *c, const site *s)
{
    char *key = auth_oauth2_cache_key(s);
    for (int i = 0; i < c->count; i++) {
        if (strcmp(c->items[i].key, key) == 0) {
            free(key);
            return i;
        }
    }
    c->items = hd_xrealloc(c->items, sizeof *c->items * (size_t)(c->count + 1));
    token_entry *te = &c->items[c->count];
    memset(te, 0, sizeof *te);
    te->key = key;
    return c->count++;
}

const char *token_cache_token(const token_cache *c, int entry, bool fresh)
{
    const token_entry *te = &c->items[entry];
    return te->token && (fresh || hd_mono_ms() < te->refresh_at) ? te->token : NULL;
}

const char *token_cache_error(const token_cache *c, int entry)
{
    return c->items[entry].last_error;
}

uint64_t token_cache_fetches(const token_cache *c, int entry)
{
    return c->items[entry].fetches;
}

static void wipe_free(char *token)
{
    if (token)
        explicit_bzero(token, strlen(token));
    free(token);
}

/* A fetch ended (error: why it failed, taken over; NULL on success). */
static void fetch_ended(token_entry *te, char *error)
{
    free(te->last_error);
    te->last_error = error;
    te->fetches++;
    te->fetching = false;
}

static void fetch_failed(token_entry *te, char *error)
{
    wipe_free(te->token);
    te->token = NULL;
    fetch_ended(te, error);
}

void token_cache_fetch(token_cache *c, int entry, const site *s, const token_fetch_options *opt,
                       CURLM *multi)
{
    token_entry *te = &c->items[entry];
    if (te->fetching)
        return;
    hd_error err = {0};
    http_request req;
    if (auth_oauth2_token_request(s, opt->user_agent, &req, &err) != HD_OK) {
        fetch_failed(te, hd_xstrdup(err.msg));
        return;
    }
    char *url = hd_xstrdup(req.url);
    http_options hopt = {
        .timeout_ms = s->timeout_ms > 0 ? s->timeout_ms : opt->default_timeout_ms,
        .max_response_body = TOKEN_MAX_RESPONSE,
        .allow_private = opt->allow_private,
        .proxy = opt->proxy,
    };
    http_transfer *t = NULL;
    if (http_transfer_new(&req, &hopt, NULL, &t, &err) != HD_OK) {
        request_free(&req);
        fetch_failed(te, hd_xasprintf("oauth2: token endpoint %s: %s", url, err.msg));
        free(url);
        return;
    }
    http_transfer_started(t);
    CURLMcode mc = curl_multi_add_handle(multi, t->easy);
    if (mc != CURLM_OK) {
        fetch_failed(te, hd_xasprintf("oauth2: token endpoint %s: curl: %s", url,
                                      curl_multi_strerror(mc)));
        http_transfer_free(t);
        free(url);
        return;
    }
    free(url);
    te->fetching = true;
    c->requests = hd_xrealloc(c->requests, sizeof *c->requests * (size_t)(c->nrequests + 1));
    c->requests[c->nrequests++] = (token_request){ t, entry };
}

bool token_cache_finished(token_cache *c, http_transfer *t, const http_result *res)
{
    int i = 0;
    while (i < c->nrequests && c->requests[i].t != t)
        i++;
    if (i == c->nrequests)
        return false;
    token_entry *te = &c->items[c->requests[i].entry];
    c->requests[i] = c->requests[--c->nrequests];
    char *token = NULL, *error = NULL;
    int64_t expires_ms = 0;
    if (auth_oauth2_parse(t->req.url, res->response_code, res->error, res->response_body,
                          res->response_body_len, &token, &expires_ms, &error)) {
        wipe_free(te->token);
        te->token = token;
        te->refresh_at = hd_mono_ms() + expires_ms - auth_oauth2_refresh_margin_ms(expires_ms);
        fetch_ended(te, NULL);
    } else {
        fetch_failed(te, error);
    }
    http_transfer_free(t);
    return true;
}

void token_cache_refused(token_cache *c, int entry, const char *sent)
{
    token_entry *te = &c->items[entry];
    if (te->token && sent && strcmp(te->token, sent) == 0) {
        wipe_free(te->token);
        te->token = NULL;
    }
}

void token_cache_abort(token_cache *c, CURLM *multi)
{
    for (int i = 0; i < c->nrequests; i++) {
        curl_multi_remove_handle(multi, c->requests[i].t->easy);
        http_transfer_free(c->requests[i].t);
        c->items[c->requests[i].entry].fetching = false;
    }
    c->nrequests = 0;
}

void token_cache_free(token_cache *c)
{
    for (int i = 0; i < c->count; i++) {
        free(c->items[i].key);
        wipe_free(c->items[i].token);
        free(c->items[i].last_error);
    }
    free(c->items);
    free(c->requests);
    memset(c, 0, sizeof *c);
}
