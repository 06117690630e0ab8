/* import.c - `hookdesk import FILE|-`: bulk JSON Lines.
 *
 * DESIGN
 * - Two passes so that a bad line stores nothing: pass 1 parses and checks
 *   every line (JSON object, required string fields, site exists, path
 *   starts with '/') and writes what it extracted (site id, strings, compact
 *   payload) as length-prefixed records to a tmpfile() spool; only when all
 *   lines are good does pass 2 insert the spooled records.  Each line is
 *   parsed once: JSON parsing was a fifth of the import time when pass 2
 *   parsed again.
 * - All or nothing (issue #10): pass 2 inserts the whole file in ONE
 *   transaction, so an import that is interrupted (SIGINT, SIGTERM, kill -9,
 *   a crash, disk full, any database error) leaves nothing committed and
 *   running it again cannot duplicate anything.  SIGINT/SIGTERM set a flag
 *   (the handler does nothing else) that both passes check between lines:
 *   the transaction is rolled back and the import says so, exit 1.  The
 *   price: the write lock is held for the whole of pass 2 (about 2 s per
 *   200k lines), during which other writers wait (busy_timeout), and the
 *   WAL grows by the size of the import before it is checkpointed.
 * - Bounded memory: lines are read in chunks by a reader that keeps at most
 *   delivery.max_payload + IMPORT_LINE_SLACK bytes of one line (a longer
 *   line is skipped to its end, counted and reported, never held); a
 *   payload above delivery.max_payload is a line error.  The spool is on
 *   disk; SQLite's page cache is bounded (store_db.c) and spills to the WAL.
 * - Site names are resolved once (pass 1 caches name -> id); pass 2 reuses it.
 * - Lines are checked with json_scan (no tree is built) and the payload is
 *   stored as the exact text of the line, byte for byte.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_internal.h"
#include "hd_duration.h"
#include "hd_json.h"
#include "hd_sanitize.h"
#include "hd_util.h"

/* Pass-1 problems listed before giving up on the list (all are counted). */
#define IMPORT_MAX_REPORTED 10
/* Room on a line for what is not the payload (site, action, customer,
 * path, keys, spacing): a line may be delivery.max_payload + this long. */
#define IMPORT_LINE_SLACK (64 * 1024)
/* Bytes read at once. */
#define IMPORT_READ_CHUNK (64 * 1024)
/* Site names remembered by pass 1 (each line's is looked for among them). */
#define IMPORT_SITE_CACHE 256

/* ---- SIGINT/SIGTERM: a flag, checked between lines ---- */

static volatile sig_atomic_t import_stop;

static void on_stop_signal(int sig)
{
    import_stop = sig;
}

typedef struct saved_signals {
    struct sigaction old[2];
    bool caught[2];
} saved_signals;

static const int stop_signals[2] = { SIGINT, SIGTERM };

/* restart: whether a signal restarts an interrupted read (pass 1 wants a
 * read of a silent stdin to end at once; pass 2 only writes files, where
 * it does not matter, and SQLite is better left undisturbed).  A signal
 * ignored on entry (`import ... &` from a script ignores SIGINT) stays
 * ignored. */
static void catch_stop_signals(saved_signals *sv, bool restart)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = restart ? SA_RESTART : 0;
    for (int i = 0; i < 2; i++) {
        struct sigaction cur;
        if (sigaction(stop_signals[i], NULL, &cur) != 0 || cur.sa_handler == SIG_IGN)
            continue;
        if (!sv->caught[i]) {
            sv->old[i] = cur;
            sv->caught[i] = true;
        }
        sigaction(stop_signals[i], &sa, NULL);
    }
}

static void restore_stop_signals(const saved_signals *sv)
{
    for (int i = 0; i < 2; i++)
        if (sv->caught[i])
            sigaction(stop_signals[i], &sv->old[i], NULL);
}

/* ---- lines of bounded length ---- */

typedef struct line_reader {
    FILE *f;
    char *buf;
    size_t cap;
    size_t start, end;       /* unread bytes: buf[start, end) */
    size_t max;              /* longest line kept, newline not counted */
    bool eof;
} line_reader;

enum { LINE_ERROR = -1, LINE_EOF = 0, LINE_OK = 1, LINE_TOO_LONG = 2 };

/* Skips the rest of a line longer than r->max, of which `have` bytes are
 * buffered; *len is its whole length (newline not counted). */
static int skip_long_line(line_reader *r, size_t have, size_t *len)
{
    size_t total = have;
    r->start = r->end = 0;
    while (!r->eof) {
        size_t n = fread(r->buf, 1, r->cap, r->f);
        if (n == 0) {
            if (ferror(r->f))
                return LINE_ERROR;
            r->eof = true;
            break;
        }
        const char *nl = memchr(r->buf, '\n', n);
        if (nl) {
            total += (size_t)(nl - r->buf);
            r->start = (size_t)(nl - r->buf) + 1;
            r->end = n;
            break;
        }
        total += n;
    }
    *len = total;
    return LINE_TOO_LONG;
}

/* The next line, without its newline: LINE_OK with *line and *len (valid
 * until the next call), LINE_TOO_LONG with *len, LINE_EOF or LINE_ERROR. */
static int next_line(line_reader *r, const char **line, size_t *len)
{
    size_t scanned = 0;      /* bytes from start known to hold no newline */
    for (;;) {
        size_t have = r->end - r->start;
        const char *nl =
            have > scanned ? memchr(r->buf + r->start + scanned, '\n', have - scanned) : NULL;
        if (nl && (size_t)(nl - (r->buf + r->start)) <= r->max) {
            *line = r->buf + r->start;
            *len = (size_t)(nl - *line);
            r->start += *len + 1;
            return LINE_OK;
        }
        if (nl || have > r->max) {
            if (nl) {        /* too long, but its end is already here */
                *len = (size_t)(nl - (r->buf + r->start));
                r->start += *len + 1;
                return LINE_TOO_LONG;
            }
            return skip_long_line(r, have, len);
        }
        scanned = have;
        if (r->eof) {
            if (have == 0)
                return LINE_EOF;
            *line = r->buf + r->start;
            *len = have;
            r->start = r->end;
            return LINE_OK;
        }
        /* Keep the partial line at the front and make room for a chunk;
         * the buffer never grows past max + 1 + a chunk. */
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, have);
            r->start = 0;
            r->end = have;
        }
        if (r->cap - r->end < IMPORT_READ_CHUNK) {
            size_t want = r->cap ? r->cap * 2 : 2 * IMPORT_READ_CHUNK;
            size_t limit = r->max + 1 + IMPORT_READ_CHUNK;
            if (want < r->end + IMPORT_READ_CHUNK)
                want = r->end + IMPORT_READ_CHUNK;
            if (want > limit)
                want = limit;
            if (want > r->cap) {
                r->buf = hd_xrealloc(r->buf, want);
                r->cap = want;
            }
        }
        size_t n = fread(r->buf + r->end, 1, r->cap - r->end, r->f);
        if (n == 0) {
            if (ferror(r->f))
                return LINE_ERROR;
            r->eof = true;
        }
        r->end += n;
    }
}


typedef struct site_cache {
    char **names;
    int64_t *ids;
    int count;
    int last;                /* index of the last hit: input is often grouped by site */
} site_cache;

/* Returns the id, 0 when the site does not exist, -1 on a database error. */
static int64_t cache_lookup(site_cache *c, store *st, const char *name, hd_error *err)
{
    if (c->count > 0 && strcmp(c->names[c->last], name) == 0)
        return c->ids[c->last];
    for (int i = 0; i < c->count; i++) {
        if (strcmp(c->names[i], name) == 0) {
            c->last = i;
            return c->ids[i];
        }
    }
    site s;
    site_init(&s);
    hd_status rc = store_site_get_by_name(st, name, &s, err);
    int64_t id = rc == HD_OK ? s.id : rc == HD_NOT_FOUND ? 0 : -1;
    site_free(&s);
    /* Unknown names are cached too (id 0) so a file full of one typo is
     * fast; the cache is searched linearly, so a file of a million
     * different names (all unknown: an import cannot store them) is looked
     * up in the database beyond the first IMPORT_SITE_CACHE. */
    if (id >= 0 && c->count < IMPORT_SITE_CACHE) {
        c->names = hd_xrealloc(c->names, (size_t)(c->count + 1) * sizeof *c->names);
        c->ids = hd_xrealloc(c->ids, (size_t)(c->count + 1) * sizeof *c->ids);
        c->names[c->count] = hd_xstrdup(name);
        c->ids[c->count] = id;
        c->last = c->count++;
    }
    return id;
}

static void cache_free(site_cache *c)
{
    for (int i = 0; i < c->count; i++)
        free(c->names[i]);
    free(c->names);
    free(c->ids);
}

/* One checked line.  The strings live in the buffers of the caller's
 * line_parser; payload points into the line itself. */
typedef struct import_line {
    const char *site;
    const char *action;
    const char *customer;    /* NULL when absent, null or "" */
    const char *path;        /* NULL when absent or null */
    const char *payload;     /* the payload's JSON text exactly as given */
    size_t payload_len;
} import_line;

typedef struct line_parser {
    import_line *out;
    hd_buf strings[4];       /* decoded site, action, customer, path */
    char *why;
    size_t whylen;
} line_parser;

static const char *const string_fields[] = { "site", "action", "customer", "path" };

static bool member_is(const json_member *m, const char *name)
{
    return m->key_len == strlen(name) && memcmp(m->key, name, m->key_len) == 0;
}

static bool take_member(const json_member *m, void *ud)
{
    line_parser *lp = ud;
    if (member_is(m, "payload")) {
        lp->out->payload = m->value;
        lp->out->payload_len = m->value_len;
        return true;
    }
    for (int i = 0; i < 4; i++) {
        if (!member_is(m, string_fields[i]))
            continue;
        const char **slot = i == 0 ? &lp->out->site : i == 1 ? &lp->out->action
                            : i == 2 ? &lp->out->customer : &lp->out->path;
        bool optional = i >= 2;
        if (optional && m->value_len == 4 && memcmp(m->value, "null", 4) == 0) {
            *slot = NULL;
            return true;
        }
        if (m->value[0] != '"') {
            snprintf(lp->why, lp->whylen, "%s: must be a string", string_fields[i]);
            return false;
        }
        if (!json_string_decode(m->value, m->value_len, &lp->strings[i])) {
            snprintf(lp->why, lp->whylen, "%s: contains a NUL character", string_fields[i]);
            return false;
        }
        *slot = hd_buf_str(&lp->strings[i]);
        return true;
    }
    snprintf(lp->why, lp->whylen, "unknown field '%.*s'", m->key_len > 64 ? 64 : (int)m->key_len,
             m->key);
    return false;
}

/* Parses and checks one line; on failure writes the reason to why. */
static bool parse_line(line_parser *lp, const char *text, size_t len, import_line *out,
                       char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    lp->out = out;
    lp->why = why;
    lp->whylen = whylen;
    why[0] = '\0';
    hd_error jerr;
    hd_error_clear(&jerr);
    bool is_object = false;
    if (!json_scan(text, len, take_member, lp, &is_object, &jerr)) {
        if (!why[0])
            snprintf(why, whylen, "%.200s", jerr.msg);
        return false;
    }
    if (!is_object) {
        snprintf(why, whylen, "not a JSON object");
        return false;
    }
    if (!out->site || !*out->site) {
        snprintf(why, whylen, "site: required");
        return false;
    }
    if (!out->action || !*out->action) {
        snprintf(why, whylen, "action: required");
        return false;
    }
    if (!out->payload) {
        snprintf(why, whylen, "payload: required");
        return false;
    }
    if (out->path && out->path[0] != '/') {
        snprintf(why, whylen, "path: must start with '/'");
        return false;
    }
    if (out->customer && !*out->customer)
        out->customer = NULL;
    return true;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/* Spool records: site id, then action, customer, path, payload, each as a
 * 32-bit length (UINT32_MAX = NULL) followed by the bytes. */
static bool spool_put_bytes(FILE *f, const char *s, size_t n)
{
    if (s && n >= UINT32_MAX) {
        /* A 4 GiB field would wrap the length prefix and corrupt the spool. */
        errno = EFBIG;
        return false;
    }
    uint32_t len = s ? (uint32_t)n : UINT32_MAX;
    if (fwrite(&len, sizeof len, 1, f) != 1)
        return false;
    return !s || len == 0 || fwrite(s, 1, len, f) == len;
}

static bool spool_put_str(FILE *f, const char *s)
{
    return spool_put_bytes(f, s, s ? strlen(s) : 0);
}

static bool spool_put(FILE *f, int64_t site_id, const import_line *il)
{
    return fwrite(&site_id, sizeof site_id, 1, f) == 1 && spool_put_str(f, il->action) &&
           spool_put_str(f, il->customer) && spool_put_str(f, il->path) &&
           spool_put_bytes(f, il->payload, il->payload_len);
}

/* Reads one string into buf (grown as needed); *out is NULL for NULL. */
static bool spool_get_str(FILE *f, hd_buf *buf, const char **out)
{
    uint32_t len;
    if (fread(&len, sizeof len, 1, f) != 1)
        return false;
    hd_buf_reset(buf);
    if (len == UINT32_MAX) {
        *out = NULL;
        return true;
    }
    char chunk[4096];
    for (uint32_t left = len; left > 0;) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        if (fread(chunk, 1, n, f) != n)
            return false;
        hd_buf_append(buf, chunk, n);
        left -= (uint32_t)n;
    }
    *out = hd_buf_str(buf);
    return true;
}

/* Returns 1 with a record, 0 at the end, -1 on a short or failed read. */
static int spool_get(FILE *f, new_message *nm, hd_buf bufs[4])
{
    int64_t site_id;
    if (fread(&site_id, sizeof site_id, 1, f) != 1)
        return feof(f) ? 0 : -1;
    const char *payload;
    if (!spool_get_str(f, &bufs[0], &nm->action) || !spool_get_str(f, &bufs[1], &nm->customer) ||
        !spool_get_str(f, &bufs[2], &nm->path) || !spool_get_str(f, &bufs[3], &payload))
        return -1;
    nm->site_id = site_id;
    nm->payload = payload;
    nm->resend_of = 0;
    return 1;
}

/* What an interrupted or failed import says: nothing is half done. */
static int nothing_stored(const char *cmd, bool interrupted)
{
    if (interrupted)
        return cli_fail(cmd, 1, "interrupted: nothing was stored (the import is all or "
                                "nothing); run it again");
    fprintf(stderr, "hookdesk: %s: nothing was stored (the import is all or nothing)\n", cmd);
    return 1;
}

/* One import: the input, the spool between the passes, and the buffers
 * both passes reuse. */
typedef struct import_job {
    cli_ctx *ctx;
    FILE *in;
    const char *shown;       /* the file's name in messages, "(stdin)" for - */
    FILE *spool;             /* pass 1's good lines, read back by pass 2 */
    uint64_t max_payload;
    char limit[32];          /* max_payload in words */
    line_reader rd;
    site_cache cache;
    line_parser lp;
    hd_buf bufs[4];
} import_job;

/* Checks one non-blank line; on success *site_id is its site.  Returns 1
 * ok, 0 bad (why says so), -1 a database error (reported, rc set). */
static int check_line(import_job *job, int got_line, const char *line, size_t n,
                      import_line *il, int64_t *site_id, char *why, size_t whylen, int *rc)
{
    if (got_line == LINE_TOO_LONG) {
        snprintf(why, whylen,
                 "line: %zu bytes is more than delivery.max_payload (%s) and %d KiB for "
                 "the other fields", n, job->limit, IMPORT_LINE_SLACK / 1024);
        return 0;
    }
    if (!parse_line(&job->lp, line, n, il, why, whylen))
        return 0;
    if (il->payload_len > job->max_payload) {
        snprintf(why, whylen, "payload: %zu bytes is more than delivery.max_payload (%s)",
                 il->payload_len, job->limit);
        return 0;
    }
    hd_error err = { 0 };
    *site_id = cache_lookup(&job->cache, job->ctx->st, il->site, &err);
    if (*site_id < 0) {
        cli_report(job->ctx->cmd, &err);
        *rc = nothing_stored(job->ctx->cmd, false);
        return -1;
    }
    if (*site_id == 0) {
        snprintf(why, whylen, "site '%.64s' not found", il->site);
        return 0;
    }
    return 1;
}

/* Pass 1: checks every line, spools the good ones while none was bad.
 * Returns 0 when everything is good, else the exit code (reported). */
static int check_all(import_job *job)
{
    const char *line = NULL;
    size_t n = 0;
    int got_line;
    long lineno = 0;
    long bad = 0;
    int rc = 0;
    char why[256];

    while (!import_stop && (got_line = next_line(&job->rd, &line, &n)) != LINE_EOF) {
        if (got_line == LINE_ERROR)
            break;
        lineno++;
        if (got_line != LINE_TOO_LONG && blank(line, n))
            continue;
        import_line il;
        int64_t site_id = 0;
        int ok = check_line(job, got_line, line, n, &il, &site_id, why, sizeof why, &rc);
        if (ok < 0)
            return rc;
        /* Once a line is bad nothing will be stored: only keep checking. */
        if (ok && bad == 0 && !spool_put(job->spool, site_id, &il)) {
            cli_fail(job->ctx->cmd, 1, "writing the spool file: %s", strerror(errno));
            return nothing_stored(job->ctx->cmd, false);
        }
        if (!ok) {
            if (bad < IMPORT_MAX_REPORTED) {
                /* why quotes the line's own text (a site name, a key): the
                 * file comes from elsewhere, so neutralise escapes. */
                char *safe = sanitize_dup(why, 0);
                fprintf(stderr, "hookdesk: import: %s:%ld: %s\n", job->shown, lineno, safe);
                free(safe);
            }
            bad++;
        }
    }
    if (import_stop)
        return nothing_stored(job->ctx->cmd, true);
    if (ferror(job->in)) {
        cli_fail(job->ctx->cmd, 1, "%s: read failed: %s", job->shown, strerror(errno));
        return nothing_stored(job->ctx->cmd, false);
    }
    if (bad) {
        if (bad > IMPORT_MAX_REPORTED)
            fprintf(stderr, "hookdesk: import: ... and %ld more bad lines\n",
                    bad - IMPORT_MAX_REPORTED);
        fprintf(stderr, "hookdesk: import: %ld bad line%s; nothing was imported\n", bad,
                bad == 1 ? "" : "s");
        return 2;
    }
    return 0;
}

/* Pass 2: the spooled records, all in one transaction, so that an import
 * stands whole or not at all.  Returns the exit code (reported). */
static int store_all(import_job *job)
{
    cli_ctx *ctx = job->ctx;
    hd_error err = { 0 };
    if (fflush(job->spool) != 0 || fseek(job->spool, 0, SEEK_SET) != 0) {
        cli_fail(ctx->cmd, 1, "cannot rewind the spool file: %s", strerror(errno));
        return nothing_stored(ctx->cmd, false);
    }
    if (store_tx_begin(ctx->st, &err) != HD_OK) {
        cli_report(ctx->cmd, &err);
        return nothing_stored(ctx->cmd, false);
    }
    int64_t good = 0;
    new_message nm;
    int got = 0;
    while (!import_stop && (got = spool_get(job->spool, &nm, job->bufs)) > 0) {
        int64_t new_id = 0;
        if (store_message_add(ctx->st, &nm, &new_id, &err) != HD_OK) {
            hd_error_prefix(&err, "message %lld of %s: ", (long long)good + 1, job->shown);
            goto db_error;
        }
        good++;
    }
    if (import_stop) {
        store_tx_rollback(ctx->st);
        return nothing_stored(ctx->cmd, true);
    }
    if (got < 0) {
        hd_error_set(&err, HD_IO, "reading the spool file: %s", strerror(errno));
        goto db_error;
    }
    /* A signal from here on comes too late: the commit stands. */
    if (store_tx_commit(ctx->st, &err) != HD_OK)
        goto db_error;
    printf("imported %lld message%s\n", (long long)good, good == 1 ? "" : "s");
    return 0;

db_error:
    store_tx_rollback(ctx->st);
    cli_report(ctx->cmd, &err);
    return nothing_stored(ctx->cmd, false);
}

static void import_job_free(import_job *job)
{
    free(job->rd.buf);
    for (int i = 0; i < 4; i++) {
        hd_buf_free(&job->bufs[i]);
        hd_buf_free(&job->lp.strings[i]);
    }
    cache_free(&job->cache);
}

int cli_cmd_import(cli_ctx *ctx, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error(ctx->cmd, "unknown option '%s'", argv[i]);
    if (argc != 2)
        return cli_usage_error(ctx->cmd, "expected one FILE (or '-' for stdin)");
    const char *path = argv[1];
    bool is_stdin = strcmp(path, "-") == 0;

    /* Signals are caught before the file is opened: from the moment the
     * import reads, an interruption says what it did (nothing). */
    saved_signals sv;
    memset(&sv, 0, sizeof sv);
    import_stop = 0;
    catch_stop_signals(&sv, false);
    FILE *in = is_stdin ? stdin : fopen(path, "rb");
    if (!in) {
        int rc = cli_fail(ctx->cmd, 1, "%s: cannot open: %s", path, strerror(errno));
        restore_stop_signals(&sv);
        return rc;
    }
    FILE *spool = tmpfile();
    if (!spool) {
        int rc = cli_fail(ctx->cmd, 1, "cannot create a temporary file: %s", strerror(errno));
        restore_stop_signals(&sv);
        if (!is_stdin)
            fclose(in);
        return rc;
    }

    import_job job;
    memset(&job, 0, sizeof job);
    job.ctx = ctx;
    job.in = in;
    job.shown = is_stdin ? "(stdin)" : path;
    job.spool = spool;
    job.max_payload = ctx->cfg.delivery.max_payload;
    size_words(job.max_payload, job.limit, sizeof job.limit);
    job.rd.f = in;
    job.rd.max = (size_t)job.max_payload + IMPORT_LINE_SLACK;

    int rc = check_all(&job);
    if (rc == 0) {
        catch_stop_signals(&sv, true);
        rc = store_all(&job);
    }
    restore_stop_signals(&sv);
    import_job_free(&job);
    fclose(spool);
    if (!is_stdin)
        fclose(in);
    return rc;
}
