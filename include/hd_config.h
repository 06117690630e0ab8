/* hd_config.h - the YAML configuration of SPEC §5.
 *
 * Lookup order: -c FILE, $HOOKDESK_CONFIG, ./config/hookdesk.yaml,
 * $XDG_CONFIG_HOME/hookdesk/config.yaml (~/.config when unset); no file at
 * all is fine (every key has a default).  Errors read "file:line:col: what".
 */
#ifndef HD_CONFIG_H
#define HD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hd_breaker.h"
#include "hd_error.h"
#include "hd_site.h"
#include "hd_util.h"

/* Room for network.proxy, NUL included. */
#define HD_PROXY_MAX 512

typedef struct delivery_config {
    int concurrency;             /* parallel requests per engine (default 8) */
    int max_attempts;            /* attempts in all before Failed (default 5) */
    int64_t retry_interval_ms;   /* wait after an error (default 10 s) */
    int64_t timeout_ms;          /* default per-attempt timeout (default 10 s) */
    uint64_t max_response_body;  /* bytes of response body kept (default 64 KiB) */
    int64_t lease_ms;            /* extra lease time beyond the site timeout (default 30 s) */
    int64_t poll_interval_ms;    /* how often an idle engine looks for work (default 100 ms) */
    bool synchronous_full;       /* PRAGMA synchronous=FULL (default true) */
    breaker_policy breaker;      /* delivery.breaker.{failures (default 5, 0 = off),
                                    cooldown (10 s), max_cooldown (5 min)} */
    int64_t max_retry_after_ms;  /* cap on a receiver's Retry-After (default 1 h) */
    int64_t fault_timeout_ms;    /* an engine whose database transactions keep failing
                                    this long stops with an error (default 2 min;
                                    0 = retry forever) */
    char *user_agent;            /* default "hookdesk/VERSION" */
    uint64_t max_payload;        /* delivery.max_payload: the largest payload `send`,
                                    `import` and `resend ID` accept, in bytes (default
                                    1 MiB, CONFIG_MAX_PAYLOAD_MIN..CONFIG_MAX_PAYLOAD_MAX) */
    char proxy[HD_PROXY_MAX];    /* network.proxy: the proxy every request (deliveries,
                                    OAuth2 tokens, site tests) goes through; "" = none,
                                    and proxies from the environment are never used.
                                    Here, by value, because the engine keeps a copy of
                                    this struct for as long as it runs */
} delivery_config;

typedef struct config {
    char *path;                  /* file that was loaded, NULL when defaults only */
    char *database;              /* SQLite file (default "hookdesk.db"; relative paths are
                                    relative to the working directory) */
    delivery_config delivery;
    int64_t retention_ms;        /* purge Done/Failed older than this (default 90 d) */
    int64_t purge_interval_ms;   /* how often the purge runs (default 60 s) */
    int purge_chunk;             /* rows per purge transaction (default 500) */
    bool allow_private;          /* network.allow_private (default false) */
    site *sites;                 /* `sites:` to seed into an empty database */
    int nsites;
} config;

#define CONFIG_DEFAULT_MAX_PAYLOAD (1024 * 1024)
#define CONFIG_MAX_PAYLOAD_MIN 1024
#define CONFIG_MAX_PAYLOAD_MAX (64 * 1024 * 1024)

/* Loader bounds: a configuration (or `sites import` file) larger than this
 * is refused before it is parsed; aliases (*name) are refused (a few KB of
 * them can stand for millions of nodes); mappings and lists may nest this
 * deep (libyaml's scanner is quadratic in the depth). */
#define CONFIG_MAX_BYTES (1024 * 1024)
#define CONFIG_MAX_DEPTH 64

void config_defaults(config *c);
void config_free(config *c);

/* Which file would be loaded: explicit (may be NULL), then the lookup order.
 * Returns a malloc'd path or NULL when none exists (explicit paths are
 * returned even when missing, so loading reports the error). */
char *config_find(const char *explicit_path);

/* Parse a file into c (which config_load initialises with defaults first).
 * On any error c is left with defaults only and err says file:line:col. */
hd_status config_load(config *c, const char *path, hd_error *err);
/* The same from a string; name is used in messages. */
hd_status config_load_string(config *c, const char *yaml, const char *name, hd_error *err);

/* What ${VAR} in a value does. */
typedef enum config_env {
    CONFIG_ENV_EXPAND,   /* the operator's own configuration: expanded (unset = error) */
    CONFIG_ENV_REFUSE    /* a file that may come from elsewhere (`sites import` without
                            --expand-env): a ${VAR} is an error naming it; "$${" still
                            writes a literal "${" */
} config_env;

/* config_load with the ${VAR} rule given (config_load expands). */
hd_status config_load_env(config *c, const char *path, config_env env, hd_error *err);

/* Expand ${VAR} from the environment; an unset variable is an error. */
hd_status config_expand_env(const char *in, char **out, hd_error *err);
/* The same under a rule: CONFIG_ENV_REFUSE fails on the first ${VAR}. */
hd_status config_expand_env_mode(const char *in, config_env env, char **out, hd_error *err);

/* The `sites:` list of a config file holding these sites, as YAML text
 * that config_load reads back to the same sites (config_export.c; libyaml's
 * emitter).  Secrets (auth secret, secret auth settings, masked headers)
 * read "********" unless show_secrets.  Appended to out. */
hd_status config_export_sites(const site *sites, int n, bool show_secrets, hd_buf *out,
                              hd_error *err);

#endif
