/* testutil.h - helpers for the C tests: temporary directories, the loopback
 * receiver as a child process, and reading its request log. */
#ifndef HD_TESTUTIL_H
#define HD_TESTUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hd_config.h"
#include "hd_store.h"

/* mkdtemp() under $TMPDIR; returns a malloc'd path (aborts on failure). */
char *tu_tempdir(void);
/* rm -r of a directory made by tu_tempdir (files only, one level deep). */
void tu_rmdir(const char *dir);

typedef struct tu_receiver {
    pid_t pid;               /* child process */
    int port;                /* port it listens on */
    char *log_path;          /* its JSON-lines request log */
    char base_url[64];       /* "http://127.0.0.1:PORT" */
} tu_receiver;

/* Starts $HD_RECEIVER_BIN (default build/asan/hd-receiver) on a free port,
 * logging to dir/receiver-N.log; hmac_secret may be NULL.  Returns false
 * when it does not come up within 10 s. */
bool tu_receiver_start(tu_receiver *r, const char *dir, const char *hmac_secret);
void tu_receiver_stop(tu_receiver *r);

/* One logged request (the fields the tests look at). */
typedef struct tu_logged {
    char *method;
    char *path;
    char *webhook_id;        /* headers["webhook-id"] or NULL */
    char *body;
    int hmac;                /* -1 absent, 0 false, 1 true */
    void *headers;           /* json_t object; use tu_logged_header */
} tu_logged;

typedef struct tu_log {
    tu_logged *items;
    int count;
} tu_log;

/* Reads the whole log now. */
bool tu_log_read(const tu_receiver *r, tu_log *out);
void tu_log_free(tu_log *l);
const char *tu_logged_header(const tu_logged *e, const char *lower_name);
/* Number of logged requests whose path starts with prefix. */
int tu_log_count(const tu_receiver *r, const char *path_prefix);

/* Polls cond(arg) every 20 ms until true or timeout_ms passes. */
bool tu_wait_for(bool (*cond)(void *), void *arg, int timeout_ms);
void tu_sleep_ms(int ms);

/* ---- independent checks of what hookdesk signs (OpenSSL, from the
 * published algorithms; never src/ code) ---- */

/* AWS Signature Version 4, step by step as in the AWS documentation:
 * canonical request -> string to sign -> signing key -> signature (hex).
 * headers are "name:value" lines already lower-cased, trimmed and sorted;
 * signed is "host;x-amz-date". */
void tu_sigv4(const char *secret, const char *amz_date, const char *region, const char *service,
              const char *method, const char *path, const char *query, const char *headers,
              const char *signed_headers, const char *payload_hash, char out[65]);
/* Re-computes the SigV4 signature of a logged request from its
 * Authorization header (Credential, SignedHeaders) and compares.  Returns
 * true when it matches; else why says what differs. */
bool tu_sigv4_check(const tu_logged *e, const char *secret, char *why, size_t whylen);
/* Lower-case hex SHA-256. */
void tu_sha256_hex(const void *data, size_t len, char out[65]);

/* Verifies a compact JWT: HS256 with secret, or RS256 with the PEM public
 * key in pem.  On success *claims is the payload (json_t *, decref it). */
bool tu_jwt_verify(const char *token, const char *secret, const char *pem, void **claims,
                   char *why, size_t whylen);
/* Writes a new 2048-bit RSA key: private PEM to priv_path, returns the
 * public PEM (malloc'd). */
char *tu_rsa_keygen(const char *priv_path);

/* ---- the engine and the store, for the delivery tests ---- */
struct engine;
struct message;

/* ---- the database a test uses ----
 * A test names its database through these, so that the same test runs on
 * both backends: SQLite (a file in the test's directory) by default, or
 * PostgreSQL when tests/run.sh says so (HD_TEST_BACKEND=pg, and HD_TEST_PG
 * the libpq keywords of the test server, "host=SOCKETDIR user=U"). */

/* True when this run is on PostgreSQL. */
bool tu_backend_pg(void);
/* A new, empty database: dir/file, or a fresh database on the test server
 * ("host=... user=... dbname=hd_t<pid>_<n>"), made now.  Aborts when the
 * server refuses. */
char *tu_db_name(const char *dir, const char *file);
/* Drops a database tu_db_name made on the test server (SQLite files go with
 * their directory); frees name. */
void tu_db_drop(char *name);

/* A delivery test's world: a temp dir, a receiver, a configuration for
 * quick retries on loopback (retry 50 ms, poll 20 ms, synchronous NORMAL)
 * and the test's own store connection. */
typedef struct tu_world {
    char *dir;
    tu_receiver rcv;
    config cfg;
    store *st;               /* the test's own connection */
} tu_world;

/* hmac_secret: the receiver's --hmac-secret, may be NULL. */
bool tu_world_open(tu_world *w, const char *hmac_secret);
void tu_world_close(tu_world *w);

/* engine_start with quiet output; NULL (the error printed) when it fails. */
struct engine *tu_engine_start(const struct config *cfg, bool drain);
/* engine_stop(FINISH) + engine_join; false when the join reports an error. */
bool tu_engine_finish(struct engine *e);
/* Waits until none of the messages is pending (Queued/Resent). */
bool tu_wait_final(struct store *st, const int64_t *ids, int n, int timeout_ms);
/* Polls until ok() holds for every message of ids (false after timeout_ms). */
bool tu_wait_each(struct store *st, const int64_t *ids, int n,
                  bool (*ok)(const struct message *m), int timeout_ms);

#endif
