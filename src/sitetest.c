/* sitetest.c - "test a site": one ping through the real request builder and
 * curl settings, outside the queue.
 *
 * The background form runs the blocking one in its own thread with every
 * signal blocked; `lock` guards `done` and `result`, which the thread writes
 * once and sitetest_poll copies out.
 */
#include "hd_sitetest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hd_auth.h"
#include "hd_request.h"
#include "hd_util.h"
#include "http.h"

/* The parts of the configuration a test needs (so the thread owns a copy). */
typedef struct test_settings {
    int64_t timeout_ms;
    uint64_t max_response_body;
    bool allow_private;
    char *user_agent;
    char proxy[HD_PROXY_MAX];    /* network.proxy, "" = none */
} test_settings;

static void settings_from(test_settings *t, const config *cfg)
{
    t->timeout_ms = cfg->delivery.timeout_ms;
    t->max_response_body = cfg->delivery.max_response_body;
    t->allow_private = cfg->allow_private;
    t->user_agent = hd_xstrdup(cfg->delivery.user_agent);
    snprintf(t->proxy, sizeof t->proxy, "%s", cfg->delivery.proxy);
}

static void random_webhook_id(char out[40])
{
    static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
    unsigned char r[26];
    hd_random_bytes(r, sizeof r);
    memcpy(out, "msg_", 4);
    for (int i = 0; i < 26; i++)
        out[4 + i] = alphabet[r[i] & 31];
    out[30] = '\0';
}

/* oauth2: the client-credentials request, blocking.  On a failed fetch the
 * result describes it (request line and headers of the token request, the
 * error text) and *token stays NULL. */
static hd_status fetch_token(const test_settings *ts, const site *s, const http_options *opt,
                             char **token, sitetest_result *out, hd_error *err)
{
    http_request treq;
    hd_status st = auth_oauth2_token_request(s, ts->user_agent, &treq, err);
    if (st != HD_OK)
        return st;
    char *url = hd_xstrdup(treq.url);
    char *line = hd_xasprintf("%s %s", treq.method, treq.url);
    char *headers = request_headers_text(&treq);
    http_result res;
    st = http_perform(&treq, opt, &res, err);
    request_free(&treq);
    if (st != HD_OK) {
        free(url);
        free(line);
        free(headers);
        return st;
    }
    int64_t expires = 0;
    char *error = NULL;
    if (!auth_oauth2_parse(url, res.response_code, res.error, res.response_body,
                           res.response_body_len, token, &expires, &error)) {
        out->request_line = line;
        out->request_headers = headers;
        out->response_code = res.response_code;
        out->duration_ms = res.duration_ms;
        out->error = error;
        out->response_headers = res.response_headers;
        out->response_body = res.response_body;
        out->response_body_len = res.response_body_len;
        res.response_headers = res.response_body = NULL;
        line = headers = NULL;
    }
    http_result_free(&res);
    free(url);
    free(line);
    free(headers);
    return HD_OK;
}

static hd_status run(const test_settings *ts, const site *s, sitetest_result *out, hd_error *err)
{
    memset(out, 0, sizeof *out);
    message m;
    memset(&m, 0, sizeof m);
    random_webhook_id(m.webhook_id);
    char now[32];
    int64_t now_ms = hd_now_ms();
    hd_time_rfc3339(now_ms, now);
    m.payload = hd_xasprintf("{\"type\":\"ping\",\"sent_at\":\"%s\"}", now);
    m.action = (char *)"ping";
    m.created_at = now_ms;
    request_context ctx = { .now_ms = now_ms, .user_agent = ts->user_agent };
    http_options opt = {
        .timeout_ms = s->timeout_ms > 0 ? s->timeout_ms : ts->timeout_ms,
        .max_response_body = ts->max_response_body,
        .allow_private = ts->allow_private,
        .proxy = ts->proxy,
    };
    char *token = NULL;
    if (auth_needs_token(s)) {
        /* A test fetches its own token (no cache): it shows whether the
         * token endpoint works too.  A failed fetch is the test's answer. */
        hd_status tst = fetch_token(ts, s, &opt, &token, out, err);
        if (tst != HD_OK || !token) {
            free(m.payload);
            return tst;
        }
        ctx.oauth2_token = token;
    }
    http_request req;
    hd_status st = request_build(s, &m, &ctx, &req, err);
    free(m.payload);
    if (token)
        explicit_bzero(token, strlen(token));
    free(token);
    if (st != HD_OK)
        return st;
    out->request_headers = request_headers_text(&req);
    out->request_line = hd_xasprintf("%s %s", req.method, req.url);
    http_result res;
    st = http_perform(&req, &opt, &res, err);
    request_free(&req);
    if (st != HD_OK)
        return st;
    if (res.sent_headers) {
        /* SigV4: the headers curl signed and sent, not the pre-built ones. */
        free(out->request_headers);
        out->request_headers = res.sent_headers;
    }
    out->response_code = res.response_code;
    out->duration_ms = res.duration_ms;
    out->error = res.error;
    out->response_headers = res.response_headers;
    out->response_body = res.response_body;
    out->response_body_len = res.response_body_len;
    return HD_OK;
}

hd_status sitetest_run(const config *cfg, const site *s, sitetest_result *out, hd_error *err)
{
    test_settings ts;
    settings_from(&ts, cfg);
    hd_status st = run(&ts, s, out, err);
    free(ts.user_agent);
    if (st != HD_OK)
        hd_error_prefix(err, "site %s: ", s->name ? s->name : "?");
    return st;
}

void sitetest_result_free(sitetest_result *r)
{
    if (!r)
        return;
    free(r->error);
    free(r->request_headers);
    free(r->response_headers);
    free(r->response_body);
    free(r->request_line);
    memset(r, 0, sizeof *r);
}

struct sitetest {
    pthread_t thread;
    test_settings ts;        /* owned copy */
    site s;                  /* owned copy */
    pthread_mutex_t lock;    /* guards done and result */
    bool done;               /* result is final */
    sitetest_result result;
};

static void *test_thread(void *arg)
{
    sitetest *t = arg;
    sitetest_result r;
    hd_error err = {0};
    if (run(&t->ts, &t->s, &r, &err) != HD_OK) {
        /* The console shows r.error; a test that could not even start is one. */
        sitetest_result_free(&r);
        r.error = hd_xstrdup(err.msg);
    }
    pthread_mutex_lock(&t->lock);
    t->result = r;
    t->done = true;
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

hd_status sitetest_start(const config *cfg, const site *s, sitetest **out, hd_error *err)
{
    sitetest *t = hd_xcalloc(1, sizeof *t);
    settings_from(&t->ts, cfg);
    site_copy(&t->s, s);
    pthread_mutex_init(&t->lock, NULL);
    int rc = hd_thread_start(&t->thread, test_thread, t);
    if (rc != 0) {
        pthread_mutex_destroy(&t->lock);
        site_free(&t->s);
        free(t->ts.user_agent);
        free(t);
        return hd_error_set(err, HD_INTERNAL, "site test: cannot start a thread: %s",
                            strerror(rc));
    }
    *out = t;
    return HD_OK;
}

static char *dup_mem(const char *p, size_t len)
{
    if (!p)
        return NULL;
    char *q = hd_xmalloc(len + 1);
    memcpy(q, p, len);
    q[len] = '\0';
    return q;
}

bool sitetest_poll(sitetest *t, sitetest_result *out)
{
    pthread_mutex_lock(&t->lock);
    bool done = t->done;
    if (done && out) {
        const sitetest_result *r = &t->result;
        out->response_code = r->response_code;
        out->duration_ms = r->duration_ms;
        out->error = hd_xstrdup(r->error);
        out->request_headers = hd_xstrdup(r->request_headers);
        out->response_headers = hd_xstrdup(r->response_headers);
        out->response_body = dup_mem(r->response_body, r->response_body_len);
        out->response_body_len = r->response_body_len;
        out->request_line = hd_xstrdup(r->request_line);
    }
    pthread_mutex_unlock(&t->lock);
    return done;
}

void sitetest_free(sitetest *t)
{
    if (!t)
        return;
    pthread_join(t->thread, NULL);
    pthread_mutex_destroy(&t->lock);
    sitetest_result_free(&t->result);
    site_free(&t->s);
    free(t->ts.user_agent);
    free(t);
}
