/* cli_import.c - `hookdesk import FILE|-`: bulk JSON Lines.
 *
 * DESIGN
 * - Two passes so that a bad line stores nothing: pass 1 parses and checks
 *   every line (JSON object, required string fields, site exists, path
 *   starts with '/'); only when all are good does pass 2 insert.
 * - stdin (or any file that cannot be re-read, such as a pipe) is spooled to
 *   a tmpfile() during pass 1 and pass 2 reads the spool.
 * - Pass 2 inserts in transactions of IMPORT_BATCH rows: one transaction per
 *   row would be fsync-bound (a few hundred rows/s), one for the whole file
 *   would hold the write lock against the engine and consoles for too long.
 * - Site names are resolved once (pass 1 caches name -> id); pass 2 reuses it.
 * - The payload is stored as jansson re-serialises it (compact), so e.g.
 *   insignificant whitespace in the input is not kept.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_internal.h"
#include "hd_util.h"

#define IMPORT_BATCH 10000
/* Pass-1 problems listed before giving up on the list (all are counted). */
#define IMPORT_MAX_REPORTED 10

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
    /* Unknown names are cached too (id 0) so a file full of one typo is fast. */
    c->names = hd_xrealloc(c->names, (size_t)(c->count + 1) * sizeof *c->names);
    c->ids = hd_xrealloc(c->ids, (size_t)(c->count + 1) * sizeof *c->ids);
    if (id >= 0) {
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

/* One parsed line.  Strings point into `root`. */
typedef struct import_line {
    json_t *root;
    const char *site;
    const char *action;
    const char *customer;
    const char *path;
    json_t *payload;
} import_line;

/* Parses and checks one line; on failure writes the reason to why. */
static bool parse_line(const char *text, size_t len, import_line *out, char *why, size_t whylen)
{
    json_error_t jerr;
    memset(out, 0, sizeof *out);
    out->root = json_loadb(text, len, 0, &jerr);
    if (!out->root) {
        snprintf(why, whylen, "column %d: %s", jerr.column, jerr.text);
        return false;
    }
    if (!json_is_object(out->root)) {
        snprintf(why, whylen, "not a JSON object");
        return false;
    }
    const char *key;
    json_t *val;
    json_object_foreach(out->root, key, val) {
        if (strcmp(key, "payload") == 0) {
            out->payload = val;
            continue;
        }
        const char **slot = strcmp(key, "site") == 0       ? &out->site
                            : strcmp(key, "action") == 0   ? &out->action
                            : strcmp(key, "customer") == 0 ? &out->customer
                            : strcmp(key, "path") == 0     ? &out->path
                                                           : NULL;
        if (!slot) {
            snprintf(why, whylen, "unknown field '%.64s'", key);
            return false;
        }
        if (json_is_null(val) && (slot == &out->customer || slot == &out->path))
            continue;
        if (!json_is_string(val)) {
            snprintf(why, whylen, "%s: must be a string", key);
            return false;
        }
        *slot = json_string_value(val);
        if (strlen(*slot) != json_string_length(val)) {
            snprintf(why, whylen, "%s: contains a NUL character", key);
            return false;
        }
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

int cli_cmd_import(cli_ctx *ctx, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return cli_usage_error(ctx->cmd, "unknown option '%s'", argv[i]);
    if (argc != 2)
        return cli_usage_error(ctx->cmd, "expected one FILE (or '-' for stdin)");
    const char *path = argv[1];
    bool is_stdin = strcmp(path, "-") == 0;
    const char *shown = is_stdin ? "(stdin)" : path;

    FILE *in = is_stdin ? stdin : fopen(path, "rb");
    if (!in)
        return cli_fail(ctx->cmd, 1, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    bool spool = is_stdin || fstat(fileno(in), &sb) != 0 || !S_ISREG(sb.st_mode);
    FILE *tmp = NULL;
    if (spool && !(tmp = tmpfile())) {
        int rc = cli_fail(ctx->cmd, 1, "cannot create a temporary file: %s", strerror(errno));
        if (!is_stdin)
            fclose(in);
        return rc;
    }

    site_cache cache = { 0 };
    hd_error err = { 0 };
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long lineno = 0;
    long bad = 0;
    int64_t good = 0;
    int rc = 0;
    char why[256];

    /* Pass 1: check everything. */
    while ((n = getline(&line, &cap, in)) >= 0) {
        lineno++;
        if (tmp && fwrite(line, 1, (size_t)n, tmp) != (size_t)n) {
            rc = cli_fail(ctx->cmd, 1, "writing the spool file: %s", strerror(errno));
            goto out;
        }
        if (blank(line, (size_t)n))
            continue;
        import_line il;
        bool ok = parse_line(line, (size_t)n, &il, why, sizeof why);
        if (ok) {
            int64_t id = cache_lookup(&cache, ctx->st, il.site, &err);
            if (id < 0) {
                json_decref(il.root);
                rc = cli_report(ctx->cmd, &err);
                goto out;
            }
            if (id == 0) {
                snprintf(why, sizeof why, "site '%.64s' not found", il.site);
                ok = false;
            }
        }
        json_decref(il.root);
        if (!ok) {
            if (bad < IMPORT_MAX_REPORTED)
                fprintf(stderr, "hookdesk: import: %s:%ld: %s\n", shown, lineno, why);
            bad++;
            continue;
        }
        good++;
    }
    if (ferror(in)) {
        rc = cli_fail(ctx->cmd, 1, "%s: read failed: %s", shown, strerror(errno));
        goto out;
    }
    if (bad) {
        if (bad > IMPORT_MAX_REPORTED)
            fprintf(stderr, "hookdesk: import: ... and %ld more bad lines\n",
                    bad - IMPORT_MAX_REPORTED);
        fprintf(stderr, "hookdesk: import: %ld bad line%s; nothing was imported\n", bad,
                bad == 1 ? "" : "s");
        rc = 2;
        goto out;
    }

    /* Pass 2: insert. */
    FILE *src = tmp ? tmp : in;
    if (fseek(src, 0, SEEK_SET) != 0) {
        rc = cli_fail(ctx->cmd, 1, "%s: cannot rewind: %s", shown, strerror(errno));
        goto out;
    }
    lineno = 0;
    good = 0;
    int64_t committed = 0;
    int in_tx = 0;
    while ((n = getline(&line, &cap, src)) >= 0) {
        lineno++;
        if (blank(line, (size_t)n))
            continue;
        import_line il;
        if (!parse_line(line, (size_t)n, &il, why, sizeof why)) {
            /* The file changed between the passes. */
            json_decref(il.root);
            hd_error_set(&err, HD_IO, "%s:%ld: changed while importing: %s", shown, lineno, why);
            goto db_error;
        }
        if (in_tx == 0 && store_tx_begin(ctx->st, &err) != HD_OK) {
            json_decref(il.root);
            goto db_error;
        }
        in_tx = 1;
        char *payload = json_dumps(il.payload, JSON_COMPACT | JSON_ENCODE_ANY);
        new_message nm = {
            .site_id = cache_lookup(&cache, ctx->st, il.site, &err),
            .action = il.action,
            .customer = il.customer,
            .path = il.path,
            .payload = payload,
        };
        int64_t new_id = 0;
        hd_status st = payload && nm.site_id > 0
                           ? store_message_add(ctx->st, &nm, &new_id, &err)
                           : hd_error_set(&err, HD_INTERNAL, "%s:%ld: cannot encode the payload",
                                          shown, lineno);
        free(payload);
        json_decref(il.root);
        if (st != HD_OK) {
            hd_error_prefix(&err, "%s:%ld: ", shown, lineno);
            goto db_error;
        }
        if (++good - committed >= IMPORT_BATCH) {
            if (store_tx_commit(ctx->st, &err) != HD_OK)
                goto db_error;
            in_tx = 0;
            committed = good;
        }
    }
    if (in_tx && store_tx_commit(ctx->st, &err) != HD_OK)
        goto db_error;
    committed = good;
    printf("imported %lld message%s\n", (long long)committed, committed == 1 ? "" : "s");
    goto out;

db_error:
    /* The open batch is rolled back; batches committed before it stay (they
     * are complete, valid messages and the engine may already be sending
     * them).  Say exactly how many, so the operator can import the rest. */
    if (in_tx)
        store_tx_rollback(ctx->st);
    rc = cli_report(ctx->cmd, &err);
    fprintf(stderr,
            "hookdesk: import: %lld message%s (the lines before the failing batch) were "
            "committed; the rest were not\n",
            (long long)committed, committed == 1 ? "" : "s");
    if (rc == 0 || rc == 2)
        rc = 1;
out:
    free(line);
    cache_free(&cache);
    if (tmp)
        fclose(tmp);
    if (!is_stdin)
        fclose(in);
    return rc;
}
