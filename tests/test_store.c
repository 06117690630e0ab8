/* test_store.c - the SQLite store against a real database file in a
 * temporary directory: schema, sites, messages, paging, leases, outcomes,
 * operator actions, purge and query plans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hd_store.h"
#include "hd_util.h"
#include "store_debug.h"
#include "testutil.h"

typedef struct fixture {
    char *dir;      /* temporary directory */
    char *path;     /* database file in it */
    store *st;      /* open store */
    int64_t site_a; /* enabled site "alpha" */
    int64_t site_b; /* enabled site "beta", timeout 1000 ms */
} fixture;

static const store_options fast_opts = { .synchronous_full = false, .busy_timeout_ms = 5000 };

static void make_site(site *s, const char *name, const char *url)
{
    site_init(s);
    s->name = hd_xstrdup(name);
    s->url = hd_xstrdup(url);
}

static int64_t add_site(store *st, const char *name, int64_t timeout_ms)
{
    site s;
    make_site(&s, name, "https://example.com/hooks");
    s.timeout_ms = timeout_ms;
    int64_t id = 0;
    hd_error err = { 0 };
    hd_status rc = store_site_add(st, &s, &id, &err);
    if (rc != HD_OK)
        fail_msg("store_site_add %s: %s", name, err.msg);
    site_free(&s);
    return id;
}

static int64_t add_msg(store *st, int64_t site_id, const char *action, const char *customer)
{
    new_message nm = { .site_id = site_id, .action = action, .customer = customer,
                       .payload = "{\"n\":1}" };
    int64_t id = 0;
    hd_error err = { 0 };
    if (store_message_add(st, &nm, &id, &err) != HD_OK)
        fail_msg("store_message_add: %s", err.msg);
    return id;
}

static int setup(void **state)
{
    fixture *f = hd_xcalloc(1, sizeof *f);
    f->dir = tu_tempdir();
    f->path = tu_db_name(f->dir, "hookdesk.db");
    hd_error err = { 0 };
    if (store_open(f->path, &fast_opts, &f->st, &err) != HD_OK)
        fail_msg("store_open: %s", err.msg);
    f->site_a = add_site(f->st, "alpha", 0);
    f->site_b = add_site(f->st, "beta", 1000);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->st);
    tu_db_drop(f->path);
    tu_rmdir(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static store *open_second(const fixture *f)
{
    store *st = NULL;
    hd_error err = { 0 };
    if (store_open(f->path, &fast_opts, &st, &err) != HD_OK)
        fail_msg("second store_open: %s", err.msg);
    return st;
}

/* ---- open and schema ---- */

/* Schema 4 moved payloads out of the message row: a schema-3 database
 * keeps every payload (and every other column) through the migration, and
 * a resend, a claim and a purge work on the result. */
static void test_migration_moves_payloads(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    char *path = hd_xasprintf("%s/v3.db", dir);
    hd_error err = { 0 };
    assert_int_equal(store_debug_create_at_version(path, 3, &err), HD_OK);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "INSERT INTO sites(id, name, url, created_at, updated_at) "
        "  VALUES (1, 'one', 'https://example.com/', 1, 1);"
        "INSERT INTO messages(id, webhook_id, site_id, action, customer, payload, status, "
        "  attempts, due_at, created_at, updated_at) VALUES "
        "  (7, 'msg_a', 1, 'order.paid', 'c1', '{\"n\":7}', 3, 5, NULL, 1000, 2000),"
        "  (8, 'msg_b', 1, 'order.sent', NULL, '{\"n\":8}', 0, 0, 1000, 1000, 1000);",
        NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    store *st = NULL;
    assert_int_equal(store_open(path, NULL, &st, &err), HD_OK);
    assert_int_equal(store_schema_version(st), 8);
    message m;
    assert_int_equal(store_message_get(st, 7, &m, &err), HD_OK);
    assert_string_equal(m.payload, "{\"n\":7}");
    assert_string_equal(m.webhook_id, "msg_a");
    assert_string_equal(m.customer, "c1");
    assert_int_equal(m.status, MSG_FAILED);
    assert_int_equal(m.attempts, 5);
    message_free(&m);

    /* The bulk resend copies the payload to the new message. */
    int64_t resent = 0;
    assert_int_equal(store_messages_resend_failed(st, NULL, 0, &resent, NULL, &err), HD_OK);
    assert_int_equal(resent, 1);
    assert_int_equal(store_message_get(st, 9, &m, &err), HD_OK);
    assert_string_equal(m.payload, "{\"n\":7}");
    assert_int_equal(m.resend_of, 7);
    message_free(&m);
    store_close(st);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM payloads", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 3);
    sqlite3_finalize(q);
    sqlite3_close(db);
    free(path);
    tu_rmdir(dir);
    free(dir);
}

static attempt_outcome outcome(int64_t mid, int number, int code, msg_status st, int64_t due);

/* Schema 6 moved leases out of the message row: a message an engine held
 * at the upgrade stays held by it until its lease ends, then any engine
 * may claim it; the old owner's outcome still lands. */
static void test_migration_keeps_leases(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    char *path = hd_xasprintf("%s/v5.db", dir);
    hd_error err = { 0 };
    assert_int_equal(store_debug_create_at_version(path, 5, &err), HD_OK);
    int64_t now = hd_now_ms(), end = now + 60000;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *sql = hd_xasprintf(
        "INSERT INTO sites(id, name, url, created_at, updated_at) "
        "  VALUES (1, 'one', 'https://example.com/', 1, 1);"
        "INSERT INTO messages(id, webhook_id, site_id, action, status, attempts, due_at, "
        "  lease_owner, created_at, updated_at) VALUES "
        "  (7, 'msg_a', 1, 'order.paid', 0, 0, %lld, 'old-engine', 1000, 1000),"
        "  (8, 'msg_b', 1, 'order.paid', 0, 0, %lld, 'old-engine', 1000, 1000);"
        "INSERT INTO payloads(message_id, payload) VALUES (7, '{}'), (8, '{}');",
        (long long)end, (long long)end);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    free(sql);
    sqlite3_close(db);

    store *st = NULL;
    assert_int_equal(store_open(path, NULL, &st, &err), HD_OK);
    assert_int_equal(store_schema_version(st), 8);
    message m;
    assert_int_equal(store_message_get(st, 7, &m, &err), HD_OK);
    assert_true(m.in_flight);
    assert_int_equal(m.due_at, end);
    message_free(&m);
    message_list l;
    assert_int_equal(store_claim(st, "new-engine", now, 0, 10, &l, &err), HD_OK);
    assert_int_equal(l.count, 0);   /* still leased */
    message_list_free(&l);
    attempt_outcome o = outcome(7, 1, 200, MSG_DONE, 0);
    assert_int_equal(store_record_outcomes(st, "old-engine", &o, 1, &err), HD_OK);
    assert_int_equal(store_message_get(st, 7, &m, &err), HD_OK);
    assert_int_equal(m.status, MSG_DONE);
    assert_false(m.in_flight);
    message_free(&m);
    assert_int_equal(store_claim(st, "new-engine", end + 1, 0, 10, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);   /* 8: its lease ended */
    assert_int_equal(l.items[0].id, 8);
    message_list_free(&l);
    store_close(st);
    free(path);
    tu_rmdir(dir);
    free(dir);
}

static void test_open_creates_private_file(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    char *path = hd_xasprintf("%s/new.db", dir);
    mode_t old = umask(0);  /* the store must not rely on the umask */
    store *st = NULL;
    hd_error err = { 0 };
    assert_int_equal(store_open(path, NULL, &st, &err), HD_OK);
    umask(old);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    char *wal = hd_xasprintf("%s-wal", path);
    if (stat(wal, &sb) == 0)
        assert_int_equal(sb.st_mode & 0777, 0600);
    free(wal);
    assert_int_equal(store_schema_version(st), 8);
    add_site(st, "one", 0);
    store_close(st);

    /* Reopening runs no migration again and keeps the data. */
    assert_int_equal(store_open(path, NULL, &st, &err), HD_OK);
    assert_int_equal(store_schema_version(st), 8);
    site s;
    assert_int_equal(store_site_get_by_name(st, "one", &s, &err), HD_OK);
    site_free(&s);
    store_close(st);

    /* Read-only works on the migrated file and refuses writes. */
    store_options ro = { .read_only = true };
    assert_int_equal(store_open(path, &ro, &st, &err), HD_OK);
    assert_int_equal(store_site_set_enabled(st, 1, false, &err), HD_DB);
    store_close(st);

    /* A directory that does not exist is an error naming the file. */
    char *bad = hd_xasprintf("%s/missing/x.db", dir);
    assert_int_equal(store_open(bad, NULL, &st, &err), HD_IO);
    assert_non_null(strstr(err.msg, bad));
    assert_null(st);
    free(bad);
    free(path);
    tu_rmdir(dir);
    free(dir);
}

static mode_t mode_of(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        fail_msg("stat %s failed", path);
    return sb.st_mode & 07777;
}

static void touch_mode(const char *path, mode_t mode)
{
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(chmod(path, mode), 0);
}

/* An existing database (and side files) of ours with a wider mode is made
 * 0600 by a read-write open; a read-only open changes nothing. */
static void test_open_makes_existing_files_private(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    char *path = hd_xasprintf("%s/old.db", dir);
    char *wal = hd_xasprintf("%s-wal", path);
    char *shm = hd_xasprintf("%s-shm", path);
    store *st = NULL;
    hd_error err = { 0 };

    /* A database file made beforehand, 0644 (say by `touch` under umask 022),
     * and a stray empty -wal of ours, 0666. */
    touch_mode(path, 0644);
    touch_mode(wal, 0666);
    assert_int_equal(store_open(path, NULL, &st, &err), HD_OK);
    assert_int_equal(mode_of(path), 0600);
    assert_int_equal(mode_of(wal), 0600);
    assert_int_equal(mode_of(shm), 0600);
    add_site(st, "one", 0);
    store_close(st);

    /* A database in use that became 0644 (a restore, a chmod) is fixed too. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(store_open(path, NULL, &st, &err), HD_OK);
    assert_int_equal(mode_of(path), 0600);
    store *second = NULL;   /* a second connection of the process: the -shm is shared */
    assert_int_equal(chmod(shm, 0640), 0);
    assert_int_equal(store_open(path, NULL, &second, &err), HD_OK);
    assert_int_equal(mode_of(shm), 0600);
    store_close(second);
    store_close(st);

    /* Read-only: lenient, and no chmod. */
    assert_int_equal(chmod(path, 0644), 0);
    store_options ro = { .read_only = true };
    assert_int_equal(store_open(path, &ro, &st, &err), HD_OK);
    assert_int_equal(mode_of(path), 0644);
    site s;
    assert_int_equal(store_site_get_by_name(st, "one", &s, &err), HD_OK);
    site_free(&s);
    store_close(st);
    assert_int_equal(mode_of(path), 0644);

    free(wal);
    free(shm);
    free(path);
    tu_rmdir(dir);
    free(dir);
}

/* A database or side file owned by another user is refused before anything
 * is written into it, with a message naming the file, its owner and mode
 * and what to do.  Needs root (to make a file of another user). */
static void test_open_refuses_foreign_files(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        print_message("skipped: needs root to make a file owned by another user\n");
        skip();
    }
    const uid_t other = 65534;
    char *dir = tu_tempdir();
    char *path = hd_xasprintf("%s/hd.db", dir);
    char *wal = hd_xasprintf("%s-wal", path);
    store *st = NULL;
    hd_error err = { 0 };
    assert_int_equal(store_open(path, NULL, &st, &err), HD_OK);
    add_site(st, "one", 0);
    store_close(st);   /* the last connection: the -wal is gone */
    assert_int_equal(access(wal, F_OK), -1);

    /* A pre-made 0666 -wal of another user, as in a shared directory. */
    touch_mode(wal, 0666);
    assert_int_equal(chown(wal, other, (gid_t)-1), 0);
    st = NULL;
    assert_int_equal(store_open(path, NULL, &st, &err), HD_IO);
    assert_null(st);
    assert_non_null(strstr(err.msg, wal));
    assert_non_null(strstr(err.msg, "owned by another user"));
    assert_non_null(strstr(err.msg, "uid 65534"));
    assert_non_null(strstr(err.msg, "mode 0666"));
    assert_non_null(strstr(err.msg, "chown it to you and chmod 600 it"));
    /* Refused when opened: SQLite never got to touch it (it would have made
     * an empty -wal the database's mode). */
    struct stat sb;
    assert_int_equal(stat(wal, &sb), 0);
    assert_int_equal(sb.st_uid, other);
    assert_int_equal(sb.st_mode & 07777, 0666);
    assert_int_equal(sb.st_size, 0);
    /* Read-only opens stay lenient. */
    store_options ro = { .read_only = true };
    assert_int_equal(store_open(path, &ro, &st, &err), HD_OK);
    store_close(st);
    assert_int_equal(unlink(wal), 0);

    /* The database file itself. */
    assert_int_equal(chown(path, other, (gid_t)-1), 0);
    assert_int_equal(store_open(path, NULL, &st, &err), HD_IO);
    assert_non_null(strstr(err.msg, "owned by another user"));
    assert_non_null(strstr(err.msg, "mode 0600"));
    assert_int_equal(chown(path, 0, (gid_t)-1), 0);

    /* A stale -journal of another user. */
    char *journal = hd_xasprintf("%s-journal", path);
    touch_mode(journal, 0644);
    assert_int_equal(chown(journal, other, (gid_t)-1), 0);
    assert_int_equal(store_open(path, NULL, &st, &err), HD_IO);
    assert_non_null(strstr(err.msg, journal));
    assert_int_equal(unlink(journal), 0);
    free(journal);

    /* Once the foreign files are gone it opens again, the data intact. */
    assert_int_equal(store_open(path, NULL, &st, &err), HD_OK);
    site s;
    assert_int_equal(store_site_get_by_name(st, "one", &s, &err), HD_OK);
    site_free(&s);
    store_close(st);
    free(wal);
    free(path);
    tu_rmdir(dir);
    free(dir);
}

/* Runs this test program again as a fresh process (fork alone would inherit
 * SQLite's per-process lock bookkeeping) that opens the store, optionally
 * reads message #id, and closes it.  Returns its exit status. */
static const char *self_path; /* argv[0] (not /proc/self/exe: under valgrind that is valgrind) */

static int run_fresh_process(const char *path, int64_t id)
{
    pid_t pid = fork();
    if (pid == 0) {
        char idtext[32];
        snprintf(idtext, sizeof idtext, "%lld", (long long)id);
        execl(self_path, self_path, "--open-close", path, idtext, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static int open_close_main(const char *path, const char *idtext)
{
    store *c = NULL;
    hd_error err = { 0 };
    if (store_open(path, &fast_opts, &c, &err) != HD_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int64_t id = strtoll(idtext, NULL, 10);
    message m;
    int rc = 0;
    if (id > 0) {
        if (store_message_get(c, id, &m, &err) == HD_OK)
            message_free(&m);
        else
            rc = 2;
    }
    store_close(c);
    return rc;
}

/* Two stores on one file in one process (the console's UI and engine) must
 * not lose each other's file locks: if they did, another process closing
 * its connection would believe it was the last one and delete the WAL. */
static void test_same_process_stores_keep_locks(void **state)
{
    fixture *f = *state;
    store *b = open_second(f);
    add_msg(f->st, f->site_a, "x", NULL);
    assert_int_equal(run_fresh_process(f->path, 0), 0);
    char *wal = hd_xasprintf("%s-wal", f->path);
    struct stat sb;
    assert_int_equal(stat(wal, &sb), 0);
    free(wal);
    /* And a later commit is seen by a new process. */
    int64_t id = add_msg(f->st, f->site_a, "y", NULL);
    assert_int_equal(run_fresh_process(f->path, id), 0);
    store_close(b);
}

/* ---- sites ---- */

/* Writes sites.headers of one row behind the store's back (a row an older
 * hookdesk wrote, or a shape the store never writes), on either backend. */
static void set_site_headers_raw(const char *db_name, int64_t id, const char *json)
{
    if (tu_backend_pg()) {
        PGconn *c = PQconnectdb(db_name);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        char idtext[24];
        snprintf(idtext, sizeof idtext, "%lld", (long long)id);
        const char *params[2] = { json, idtext };
        PGresult *r = PQexecParams(c, "UPDATE sites SET headers = $1 WHERE id = $2", 2, NULL,
                                   params, NULL, NULL, 0);
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        assert_string_equal(PQcmdTuples(r), "1");
        PQclear(r);
        PQfinish(c);
        return;
    }
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(db_name, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE sites SET headers = ?1 WHERE id = ?2", -1, &q,
                                        NULL), SQLITE_OK);
    sqlite3_bind_text(q, 1, json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, id);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* Headers marked secret keep their mark in the store; rows written before
 * the mark existed (name -> string only) read as before. */
static void test_site_secret_headers_stored(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    site s;
    make_site(&s, "hdrs", "https://hdrs.example/in");
    site_add_header(&s, "X-Plain", "p");
    site_add_header_secret(&s, "X-Tenant", "t-1", true);
    int64_t id = 0;
    assert_int_equal(store_site_add(f->st, &s, &id, &err), HD_OK);
    site got;
    assert_int_equal(store_site_get(f->st, id, &got, &err), HD_OK);
    assert_int_equal(got.nheaders, 2);
    assert_string_equal(got.headers[0].name, "X-Plain");
    assert_false(got.headers[0].secret);
    assert_string_equal(got.headers[1].name, "X-Tenant");
    assert_string_equal(got.headers[1].value, "t-1");
    assert_true(got.headers[1].secret);
    /* An update keeps it (and can take it away). */
    got.headers[0].secret = true;
    got.headers[1].secret = false;
    assert_int_equal(store_site_update(f->st, &got, &err), HD_OK);
    site_free(&got);
    assert_int_equal(store_site_get(f->st, id, &got, &err), HD_OK);
    assert_true(got.headers[0].secret);
    assert_false(got.headers[1].secret);
    site_free(&got);
    site_free(&s);

    /* Older rows, and shapes the store does not write: a string is plain,
     * an object with a string value is secret unless it says false, other
     * values are skipped. */
    set_site_headers_raw(f->path, id,
                         "{\"X-Old\":\"v\",\"X-S\":{\"value\":\"s\"},"
                         "\"X-F\":{\"value\":\"f\",\"secret\":false},\"X-N\":5,"
                         "\"X-O\":{\"secret\":true}}");
    assert_int_equal(store_site_get(f->st, id, &got, &err), HD_OK);
    assert_int_equal(got.nheaders, 3);
    assert_string_equal(got.headers[0].name, "X-Old");
    assert_false(got.headers[0].secret);
    assert_string_equal(got.headers[1].name, "X-S");
    assert_true(got.headers[1].secret);
    assert_string_equal(got.headers[2].name, "X-F");
    assert_false(got.headers[2].secret);
    site_free(&got);
}

static void test_sites_roundtrip_and_validation(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    site s;
    make_site(&s, "gamma", "https://gamma.example/in");
    s.auth = AUTH_BEARER;
    s.auth_secret = hd_xstrdup("tok3n");
    s.ctype = CONTENT_FORM;
    s.timeout_ms = 2500;
    site_add_header(&s, "X-One", "1");
    site_add_header(&s, "X-Two", "zwei");
    int64_t id = 0;
    assert_int_equal(store_site_add(f->st, &s, &id, &err), HD_OK);
    assert_true(id > 0);

    site got;
    assert_int_equal(store_site_get(f->st, id, &got, &err), HD_OK);
    assert_string_equal(got.name, "gamma");
    assert_string_equal(got.url, "https://gamma.example/in");
    assert_int_equal(got.auth, AUTH_BEARER);
    assert_string_equal(got.auth_secret, "tok3n");
    assert_int_equal(got.ctype, CONTENT_FORM);
    assert_int_equal(got.timeout_ms, 2500);
    assert_true(got.enabled);
    assert_int_equal(got.nheaders, 2);
    assert_string_equal(got.headers[0].name, "X-One");
    assert_string_equal(got.headers[1].value, "zwei");
    assert_true(got.created_at > 0);
    site_free(&got);

    /* Duplicate name. */
    assert_int_equal(store_site_add(f->st, &s, NULL, &err), HD_EXISTS);
    assert_string_equal(err.msg, "sites: name 'gamma' already exists");

    /* Invalid: the validator's field-first message comes through, nothing saved. */
    site bad;
    make_site(&bad, "delta", "ftp://nope");
    assert_int_equal(store_site_add(f->st, &bad, NULL, &err), HD_INVALID);
    assert_non_null(strstr(err.msg, "url"));
    assert_int_equal(store_site_get_by_name(f->st, "delta", &got, &err), HD_NOT_FOUND);
    assert_string_equal(err.msg, "site 'delta' not found");
    site_free(&bad);

    /* Update by id; renaming onto another site's name is refused. */
    s.id = id;
    free(s.url);
    s.url = hd_xstrdup("http://gamma.example/v2");
    assert_int_equal(store_site_update(f->st, &s, &err), HD_OK);
    assert_int_equal(store_site_get_by_name(f->st, "gamma", &got, &err), HD_OK);
    assert_string_equal(got.url, "http://gamma.example/v2");
    site_free(&got);
    free(s.name);
    s.name = hd_xstrdup("alpha");
    assert_int_equal(store_site_update(f->st, &s, &err), HD_EXISTS);
    /* An invalid update leaves the row alone. */
    free(s.name);
    s.name = hd_xstrdup("gamma");
    free(s.url);
    s.url = hd_xstrdup("not a url");
    assert_int_equal(store_site_update(f->st, &s, &err), HD_INVALID);
    assert_int_equal(store_site_get(f->st, id, &got, &err), HD_OK);
    assert_string_equal(got.url, "http://gamma.example/v2");
    site_free(&got);
    s.id = 9999;
    free(s.url);
    s.url = hd_xstrdup("http://gamma.example/v3");
    assert_int_equal(store_site_update(f->st, &s, &err), HD_NOT_FOUND);
    site_free(&s);

    /* Pause. */
    assert_int_equal(store_site_set_enabled(f->st, id, false, &err), HD_OK);
    assert_int_equal(store_site_get(f->st, id, &got, &err), HD_OK);
    assert_false(got.enabled);
    site_free(&got);
    assert_int_equal(store_site_set_enabled(f->st, 9999, false, &err), HD_NOT_FOUND);
}

/* An editor's save only lands on the version it read: an edit or a
 * pause/resume by another in between makes it HD_CHANGED, nothing written. */
static void test_site_update_if_version(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    site mine, theirs, got;
    assert_int_equal(store_site_get(f->st, f->site_a, &mine, &err), HD_OK);
    int64_t v0 = mine.updated_at;
    assert_true(v0 > 0);

    /* Nobody else: saved, and the version moved forward. */
    mine.timeout_ms = 3000;
    assert_int_equal(store_site_update_if(f->st, &mine, v0, &err), HD_OK);
    assert_int_equal(store_site_get(f->st, f->site_a, &got, &err), HD_OK);
    assert_true(got.updated_at > v0);
    int64_t v1 = got.updated_at;
    site_free(&got);

    /* Another editor read v1 and saved; a save still based on v1 is refused. */
    assert_int_equal(store_site_get(f->st, f->site_a, &theirs, &err), HD_OK);
    theirs.timeout_ms = 7000;
    assert_int_equal(store_site_update_if(f->st, &theirs, v1, &err), HD_OK);
    mine.max_in_flight = 4;
    assert_int_equal(store_site_update_if(f->st, &mine, v1, &err), HD_CHANGED);
    assert_non_null(strstr(err.msg, "changed by someone else"));
    assert_int_equal(store_site_get(f->st, f->site_a, &got, &err), HD_OK);
    assert_int_equal(got.timeout_ms, 7000);
    assert_int_equal(got.max_in_flight, 0);
    int64_t v2 = got.updated_at;
    assert_true(v2 > v1);
    site_free(&got);

    /* Pausing counts as a change too, even within the same millisecond. */
    assert_int_equal(store_site_set_enabled(f->st, f->site_a, false, &err), HD_OK);
    assert_int_equal(store_site_update_if(f->st, &theirs, v2, &err), HD_CHANGED);
    assert_int_equal(store_site_get(f->st, f->site_a, &got, &err), HD_OK);
    assert_false(got.enabled);
    assert_true(got.updated_at > v2);
    /* On the version it now has, the save goes through. */
    assert_int_equal(store_site_update_if(f->st, &got, got.updated_at, &err), HD_OK);
    site_free(&got);

    /* Gone: not found, not "changed". */
    mine.id = 9999;
    assert_int_equal(store_site_update_if(f->st, &mine, v0, &err), HD_NOT_FOUND);
    site_free(&mine);
    site_free(&theirs);
}

/* A site deleted while an engine holds one of its messages: the message is
 * Failed "site deleted" and stays so when that engine's outcome arrives
 * (the attempt is still on record). */
static void test_site_delete_beats_late_outcome(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t id = add_msg(f->st, f->site_b, "order.created", "c1");
    message_list l;
    assert_int_equal(store_claim(f->st, "A", hd_now_ms() + 5, 60000, 1, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);
    message_list_free(&l);
    assert_int_equal(store_site_delete(f->st, f->site_b, &err), HD_OK);
    attempt_outcome late = outcome(id, 1, 200, MSG_DONE, 0);
    assert_int_equal(store_record_outcomes(f->st, "A", &late, 1, &err), HD_OK);
    message m;
    assert_int_equal(store_message_get(f->st, id, &m, &err), HD_OK);
    assert_int_equal(m.status, MSG_FAILED);
    assert_string_equal(m.last_error, "site deleted");
    assert_false(m.in_flight);
    message_free(&m);
    attempt_list al;
    assert_int_equal(store_attempts_list(f->st, id, &al, &err), HD_OK);
    assert_int_equal(al.count, 1);
    attempt_list_free(&al);
}

static void test_site_delete_fails_pending(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t m1 = add_msg(f->st, f->site_b, "order.created", "c1");
    int64_t m2 = add_msg(f->st, f->site_b, "order.created", "c1");
    assert_int_equal(store_message_cancel(f->st, m2, &err), HD_OK);
    int64_t other = add_msg(f->st, f->site_a, "order.created", "c1");

    assert_int_equal(store_site_delete(f->st, f->site_b, &err), HD_OK);
    message m;
    assert_int_equal(store_message_get(f->st, m1, &m, &err), HD_OK);
    assert_int_equal(m.status, MSG_FAILED);
    assert_string_equal(m.last_error, "site deleted");
    assert_null(m.site_name);
    assert_int_equal(m.site_id, f->site_b);
    assert_int_equal(m.due_at, 0);
    message_free(&m);
    assert_int_equal(store_message_get(f->st, m2, &m, &err), HD_OK);
    assert_string_equal(m.last_error, "cancelled by operator");
    message_free(&m);
    assert_int_equal(store_message_get(f->st, other, &m, &err), HD_OK);
    assert_int_equal(m.status, MSG_QUEUED);
    assert_string_equal(m.site_name, "alpha");
    message_free(&m);
    assert_int_equal(store_site_delete(f->st, f->site_b, &err), HD_NOT_FOUND);

    /* A message for a deleted site cannot be resent or added. */
    int64_t nid = 0;
    assert_int_equal(store_message_resend(f->st, m1, 0, &nid, &err), HD_NOT_FOUND);
    assert_non_null(strstr(err.msg, "its site was deleted"));
}

static void test_seed_only_into_empty(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    site seeds[2];
    make_site(&seeds[0], "s1", "https://a.example");
    make_site(&seeds[1], "s2", "https://b.example");
    int added = -1;
    /* The fixture's database has sites already. */
    assert_int_equal(store_seed_sites(f->st, seeds, 2, &added, &err), HD_OK);
    assert_int_equal(added, 0);

    char *dir = tu_tempdir();
    char *path = tu_db_name(dir, "seed.db");
    store *st;
    assert_int_equal(store_open(path, &fast_opts, &st, &err), HD_OK);
    assert_int_equal(store_seed_sites(st, seeds, 2, &added, &err), HD_OK);
    assert_int_equal(added, 2);
    assert_int_equal(store_seed_sites(st, seeds, 2, &added, &err), HD_OK);
    assert_int_equal(added, 0);
    site_stats_list l;
    assert_int_equal(store_sites_list(st, &l, &err), HD_OK);
    assert_int_equal(l.count, 2);
    site_stats_list_free(&l);
    store_close(st);

    /* One invalid seed: nothing is seeded, the error names the site. */
    char *path2 = tu_db_name(dir, "seed2.db");
    assert_int_equal(store_open(path2, &fast_opts, &st, &err), HD_OK);
    free(seeds[1].url);
    seeds[1].url = hd_xstrdup("gopher://x");
    assert_int_equal(store_seed_sites(st, seeds, 2, &added, &err), HD_INVALID);
    assert_non_null(strstr(err.msg, "s2"));
    assert_int_equal(store_sites_list(st, &l, &err), HD_OK);
    assert_int_equal(l.count, 0);
    site_stats_list_free(&l);
    store_close(st);
    site_free(&seeds[0]);
    site_free(&seeds[1]);
    tu_db_drop(path);
    tu_db_drop(path2);
    tu_rmdir(dir);
    free(dir);
}

/* ---- messages ---- */

static void test_message_add_get(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t before = hd_now_ms();
    new_message nm = { .site_id = f->site_a, .action = "invoice.paid", .customer = "cus_1",
                       .path = "/customers/42", .payload = "{\"a\":[1,2]}" };
    int64_t id = 0;
    assert_int_equal(store_message_add(f->st, &nm, &id, &err), HD_OK);
    message m;
    assert_int_equal(store_message_get(f->st, id, &m, &err), HD_OK);
    assert_int_equal(m.id, id);
    assert_int_equal(strlen(m.webhook_id), 30);
    assert_memory_equal(m.webhook_id, "msg_", 4);
    for (int i = 4; i < 30; i++)
        assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz234567", m.webhook_id[i]));
    assert_string_equal(m.site_name, "alpha");
    assert_string_equal(m.action, "invoice.paid");
    assert_string_equal(m.customer, "cus_1");
    assert_string_equal(m.path, "/customers/42");
    assert_string_equal(m.payload, "{\"a\":[1,2]}");
    assert_int_equal(m.status, MSG_QUEUED);
    assert_int_equal(m.attempts, 0);
    assert_false(m.in_flight);
    assert_true(m.created_at >= before && m.due_at == m.created_at);
    assert_int_equal(m.resend_of, 0);
    assert_null(m.last_error);

    /* Two messages never share a webhook id. */
    message m2;
    int64_t id2 = add_msg(f->st, f->site_a, "x", NULL);
    assert_int_equal(store_message_get(f->st, id2, &m2, &err), HD_OK);
    assert_string_not_equal(m.webhook_id, m2.webhook_id);
    assert_null(m2.customer);
    assert_null(m2.path);
    message_free(&m);
    message_free(&m2);

    nm.path = "customers/42";
    assert_int_equal(store_message_add(f->st, &nm, &id, &err), HD_INVALID);
    assert_non_null(strstr(err.msg, "path"));
    nm.path = NULL;
    nm.site_id = 777;
    assert_int_equal(store_message_add(f->st, &nm, &id, &err), HD_NOT_FOUND);
    assert_string_equal(err.msg, "site #777 not found");
    assert_int_equal(store_message_get(f->st, 12345, &m, &err), HD_NOT_FOUND);
    assert_string_equal(err.msg, "message #12345 not found");
}

static void assert_ids(const message_list *l, const int64_t *want, int n)
{
    if (l->count != n)
        fail_msg("page has %d rows, want %d", l->count, n);
    for (int i = 0; i < n; i++)
        if (l->items[i].id != want[i])
            fail_msg("row %d is #%lld, want #%lld", i, (long long)l->items[i].id,
                     (long long)want[i]);
}

static void test_paging_directions(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t ids[25];
    for (int i = 0; i < 25; i++)
        ids[i] = add_msg(f->st, i % 2 ? f->site_b : f->site_a, i % 3 ? "order.Created" : "refund",
                         i % 5 ? "c1" : "c2");
    message_list l;
    int64_t want[10];

    assert_int_equal(store_messages_page(f->st, NULL, PAGE_FIRST, 0, 10, &l, &err), HD_OK);
    for (int i = 0; i < 10; i++)
        want[i] = ids[24 - i];
    assert_ids(&l, want, 10);
    message_list_free(&l);

    assert_int_equal(store_messages_page(f->st, NULL, PAGE_OLDER, ids[15], 10, &l, &err), HD_OK);
    for (int i = 0; i < 10; i++)
        want[i] = ids[14 - i];
    assert_ids(&l, want, 10);
    message_list_free(&l);

    assert_int_equal(store_messages_page(f->st, NULL, PAGE_NEWER, ids[5], 10, &l, &err), HD_OK);
    for (int i = 0; i < 10; i++)
        want[i] = ids[15 - i];
    assert_ids(&l, want, 10);
    message_list_free(&l);

    assert_int_equal(store_messages_page(f->st, NULL, PAGE_LAST, 0, 10, &l, &err), HD_OK);
    for (int i = 0; i < 10; i++)
        want[i] = ids[9 - i];
    assert_ids(&l, want, 10);
    message_list_free(&l);

    assert_int_equal(store_messages_page(f->st, NULL, PAGE_AT, ids[20], 3, &l, &err), HD_OK);
    int64_t at[3] = { ids[20], ids[19], ids[18] };
    assert_ids(&l, at, 3);
    message_list_free(&l);

    /* Short page at the end. */
    assert_int_equal(store_messages_page(f->st, NULL, PAGE_OLDER, ids[2], 10, &l, &err), HD_OK);
    int64_t tail[2] = { ids[1], ids[0] };
    assert_ids(&l, tail, 2);
    message_list_free(&l);
    assert_int_equal(store_messages_page(f->st, NULL, PAGE_NEWER, ids[24], 10, &l, &err), HD_OK);
    assert_int_equal(l.count, 0);
    message_list_free(&l);
}

/* Every filter against a brute-force check over all rows. */
static bool matches(const message *m, const msg_filter *flt)
{
    if (flt->status_mask && !(flt->status_mask & MSG_STATUS_BIT(m->status)))
        return false;
    if (flt->site_id && m->site_id != flt->site_id)
        return false;
    if (flt->customer && (!m->customer || strcmp(m->customer, flt->customer) != 0))
        return false;
    if (flt->action_text && !strcasestr(m->action, flt->action_text))
        return false;
    if (flt->action && strcmp(m->action, flt->action) != 0)
        return false;
    if (flt->since_ms && m->created_at < flt->since_ms)
        return false;
    if (flt->until_ms && m->created_at >= flt->until_ms)
        return false;
    return true;
}

static void check_filter(store *st, const message_list *all, const msg_filter *flt)
{
    hd_error err = { 0 };
    int64_t want[128];
    int n = 0;
    for (int i = 0; i < all->count; i++)
        if (matches(&all->items[i], flt))
            want[n++] = all->items[i].id;
    assert_true(n > 0);
    /* Page through it 3 at a time, older and then newer again. */
    int got = 0;
    int64_t anchor = 0;
    page_dir dir = PAGE_FIRST;
    for (;;) {
        message_list l;
        assert_int_equal(store_messages_page(st, flt, dir, anchor, 3, &l, &err), HD_OK);
        if (l.count == 0) {
            message_list_free(&l);
            break;
        }
        for (int i = 0; i < l.count; i++) {
            assert_true(got < n);
            assert_int_equal(l.items[i].id, want[got]);
            got++;
        }
        anchor = l.items[l.count - 1].id;
        dir = PAGE_OLDER;
        message_list_free(&l);
    }
    assert_int_equal(got, n);
    int64_t count = -1;
    assert_int_equal(store_messages_count(st, flt, &count, &err), HD_OK);
    assert_int_equal(count, n);
    if (n > 3) {
        message_list l;
        assert_int_equal(store_messages_page(st, flt, PAGE_NEWER, want[n - 1], 2, &l, &err),
                         HD_OK);
        int64_t w[2] = { want[n - 3], want[n - 2] };
        assert_ids(&l, w, 2);
        message_list_free(&l);
    }
}

static void test_paging_filters(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    for (int i = 0; i < 40; i++) {
        int64_t id = add_msg(f->st, i % 2 ? f->site_b : f->site_a,
                             i % 3 ? "order.Created" : "refund.issued", i % 5 ? "c1" : "c2");
        if (i % 7 == 0)
            assert_int_equal(store_message_cancel(f->st, id, &err), HD_OK);
        if (i == 19)
            tu_sleep_ms(3);  /* a gap in created_at for the time filters */
    }
    /* Some Resent and Done rows too, interleaved with the Queued ones. */
    message_list cl;
    assert_int_equal(store_claim(f->st, "A", hd_now_ms() + 5, 0, 12, &cl, &err), HD_OK);
    assert_int_equal(cl.count, 12);
    for (int i = 0; i < cl.count; i++) {
        attempt_outcome o;
        memset(&o, 0, sizeof o);
        o.a.message_id = cl.items[i].id;
        o.a.number = 1;
        o.a.started_at = hd_now_ms();
        o.a.response_code = i % 2 ? 200 : 500;
        o.new_status = i % 2 ? MSG_DONE : MSG_RESENT;
        o.next_due_at = hd_now_ms() + 60000;
        assert_int_equal(store_record_outcomes(f->st, "A", &o, 1, &err), HD_OK);
    }
    message_list_free(&cl);
    assert_int_equal(store_release_leases(f->st, "A", hd_now_ms(), &err), HD_OK);

    message_list all;
    assert_int_equal(store_messages_page(f->st, NULL, PAGE_FIRST, 0, 100, &all, &err), HD_OK);
    assert_int_equal(all.count, 40);
    int64_t mid = all.items[20].created_at;  /* newest first: the 20th newest */

    msg_filter flt = { .status_mask = MSG_STATUS_BIT(MSG_FAILED) };
    check_filter(f->st, &all, &flt);
    flt = (msg_filter){ .status_mask = MSG_PENDING_MASK };
    check_filter(f->st, &all, &flt);
    flt = (msg_filter){ .status_mask = MSG_STATUS_BIT(MSG_DONE) | MSG_STATUS_BIT(MSG_FAILED) };
    check_filter(f->st, &all, &flt);
    flt = (msg_filter){ .status_mask = MSG_STATUS_BIT(MSG_RESENT) | MSG_STATUS_BIT(MSG_DONE) |
                                       MSG_STATUS_BIT(MSG_FAILED),
                        .site_id = f->site_a };
    check_filter(f->st, &all, &flt);
    flt = (msg_filter){ .site_id = f->site_b };
    check_filter(f->st, &all, &flt);
    flt = (msg_filter){ .customer = "c2" };
    check_filter(f->st, &all, &flt);
    flt = (msg_filter){ .action_text = "ORDER.c" };
    check_filter(f->st, &all, &flt);
    flt = (msg_filter){ .since_ms = mid };
    check_filter(f->st, &all, &flt);
    flt = (msg_filter){ .until_ms = mid };
    check_filter(f->st, &all, &flt);
    flt = (msg_filter){ .status_mask = MSG_STATUS_BIT(MSG_QUEUED), .site_id = f->site_a,
                        .customer = "c1", .action_text = "order" };
    check_filter(f->st, &all, &flt);

    flt = (msg_filter){ .action = "order.Created" };
    check_filter(f->st, &all, &flt);
    flt = (msg_filter){ .action_text = "no such action" };
    message_list none;
    assert_int_equal(store_messages_page(f->st, &flt, PAGE_FIRST, 0, 10, &none, &err), HD_OK);
    assert_int_equal(none.count, 0);
    message_list_free(&none);
    flt = (msg_filter){ .status_mask = MSG_PENDING_MASK, .action_text = "o" };
    check_filter(f->st, &all, &flt);

    /* action_text is a substring, not a pattern: % and _ are literal. */
    flt = (msg_filter){ .action_text = "%" };
    int64_t count = -1;
    assert_int_equal(store_messages_count(f->st, &flt, &count, &err), HD_OK);
    assert_int_equal(count, 0);
    flt = (msg_filter){ .customer = "nobody" };
    assert_int_equal(store_messages_count(f->st, &flt, &count, &err), HD_OK);
    assert_int_equal(count, 0);
    message_list_free(&all);
}

/* An action search resolves the matching names in the actions table and
 * walks each one's index; with more names than it walks one by one it falls
 * back to the scan.  Both must give exactly what the oracle gives. */
static void test_action_search_many_names(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    for (int i = 0; i < 80; i++) {
        char action[32];
        snprintf(action, sizeof action, "Act.%02d%s", i % 40, i % 3 ? "" : ".x");
        add_msg(f->st, f->site_a, action, "c");
    }
    message_list all;
    assert_int_equal(store_messages_page(f->st, NULL, PAGE_FIRST, 0, 100, &all, &err), HD_OK);
    assert_int_equal(all.count, 80);
    const char *texts[] = { "act", "ACT.0", "act.1", ".x", "act.39" };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        msg_filter flt = { .action_text = texts[i] };
        check_filter(f->st, &all, &flt);
        flt.status_mask = MSG_STATUS_BIT(MSG_QUEUED);
        check_filter(f->st, &all, &flt);
    }
    msg_filter none = { .action_text = "nothing" };
    int64_t count = -1;
    assert_int_equal(store_messages_count(f->st, &none, &count, &err), HD_OK);
    assert_int_equal(count, 0);
    msg_filter many = { .action_text = "act" };
    assert_int_equal(store_messages_count(f->st, &many, &count, &err), HD_OK);
    assert_int_equal(count, 80);
    msg_filter few = { .action_text = ".x" };
    assert_int_equal(store_messages_count(f->st, &few, &count, &err), HD_OK);
    assert_int_equal(count, 27);
    message_list_free(&all);
}

/* Action names with what SQL and array literals treat specially (quotes,
 * backslashes, commas, braces, wildcards) are matched as plain text, by
 * the exact filter and by the search (which walks the names it found). */
static void test_action_search_odd_names(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    const char *names[] = { "a\"b", "c\\d", "e,f", "{g}", "h%_i", "NULL", "'j'" };
    int n = (int)(sizeof names / sizeof names[0]);
    int64_t ids[8];
    for (int i = 0; i < n; i++)
        ids[i] = add_msg(f->st, f->site_a, names[i], names[(i + 1) % n]);
    for (int i = 0; i < n; i++) {
        msg_filter flt[3] = { { .action = names[i] }, { .action_text = names[i] },
                              { .customer = names[(i + 1) % n] } };
        for (int k = 0; k < 3; k++) {
            message_list l;
            assert_int_equal(store_messages_page(f->st, &flt[k], PAGE_FIRST, 0, 10, &l, &err),
                             HD_OK);
            if (l.count != 1 || l.items[0].id != ids[i])
                fail_msg("filter %d on '%s': %d rows", k, names[i], l.count);
            assert_string_equal(l.items[0].action, names[i]);
            message_list_free(&l);
            int64_t count = -1;
            assert_int_equal(store_messages_count(f->st, &flt[k], &count, &err), HD_OK);
            assert_int_equal(count, 1);
        }
    }
}

static void test_keyset_stable_under_inserts(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    for (int i = 0; i < 30; i++)
        add_msg(f->st, f->site_a, "a", NULL);
    message_list p1;
    assert_int_equal(store_messages_page(f->st, NULL, PAGE_FIRST, 0, 10, &p1, &err), HD_OK);
    /* Another connection inserts while the operator reads. */
    store *other = open_second(f);
    for (int i = 0; i < 15; i++)
        add_msg(other, f->site_a, "b", NULL);
    store_close(other);
    message_list p2;
    assert_int_equal(
        store_messages_page(f->st, NULL, PAGE_OLDER, p1.items[9].id, 10, &p2, &err), HD_OK);
    assert_int_equal(p2.count, 10);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(p2.items[i].id, p1.items[9].id - 1 - i);
        assert_string_equal(p2.items[i].action, "a");
    }
    /* Newer than the first page's top: exactly the new rows, newest first. */
    message_list p3;
    assert_int_equal(
        store_messages_page(f->st, NULL, PAGE_NEWER, p1.items[0].id, 100, &p3, &err), HD_OK);
    assert_int_equal(p3.count, 15);
    assert_true(p3.items[0].id > p3.items[14].id);
    assert_int_equal(p3.items[14].id, p1.items[0].id + 1);
    message_list_free(&p1);
    message_list_free(&p2);
    message_list_free(&p3);
}

/* ---- counters ---- */

static void assert_counts(store *st, int64_t q, int64_t r, int64_t d, int64_t fl)
{
    int64_t c[MSG_STATUS_COUNT];
    hd_error err = { 0 };
    assert_int_equal(store_status_counts(st, c, &err), HD_OK);
    if (c[MSG_QUEUED] != q || c[MSG_RESENT] != r || c[MSG_DONE] != d || c[MSG_FAILED] != fl)
        fail_msg("counts %lld/%lld/%lld/%lld, want %lld/%lld/%lld/%lld", (long long)c[0],
                 (long long)c[1], (long long)c[2], (long long)c[3], (long long)q, (long long)r,
                 (long long)d, (long long)fl);
    /* The counted query agrees with the trigger-kept counters. */
    for (int s = 0; s < MSG_STATUS_COUNT; s++) {
        msg_filter flt = { .status_mask = MSG_STATUS_BIT(s), .since_ms = 1 };
        int64_t n = -1;
        assert_int_equal(store_messages_count(st, &flt, &n, &err), HD_OK);
        assert_int_equal(n, c[s]);
    }
}

static attempt_outcome outcome(int64_t mid, int number, int code, msg_status st, int64_t due)
{
    attempt_outcome o;
    memset(&o, 0, sizeof o);
    o.a.message_id = mid;
    o.a.number = number;
    o.a.started_at = hd_now_ms();
    o.a.duration_ms = 12;
    o.a.response_code = code;
    o.a.error = code >= 200 && code < 300 ? NULL : (char *)"HTTP 500";
    o.new_status = st;
    o.next_due_at = due;
    return o;
}

static void test_status_counters_exact(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    assert_counts(f->st, 0, 0, 0, 0);
    int64_t ids[10];
    for (int i = 0; i < 10; i++)
        ids[i] = add_msg(f->st, f->site_a, "a", NULL);
    assert_counts(f->st, 10, 0, 0, 0);
    message_list l;
    int64_t now = hd_now_ms();
    assert_int_equal(store_claim(f->st, "e1", now, 1000, 10, &l, &err), HD_OK);
    assert_int_equal(l.count, 10);
    message_list_free(&l);
    attempt_outcome o[3] = {
        outcome(ids[0], 1, 200, MSG_DONE, 0),
        outcome(ids[1], 1, 500, MSG_RESENT, now + 10000),
        outcome(ids[2], 1, 500, MSG_FAILED, 0),
    };
    assert_int_equal(store_record_outcomes(f->st, "e1", o, 3, &err), HD_OK);
    assert_counts(f->st, 7, 1, 1, 1);
    assert_int_equal(store_message_cancel(f->st, ids[3], &err), HD_INVALID);  /* in flight */
    assert_int_equal(store_release_leases(f->st, "e1", now, &err), HD_OK);
    assert_int_equal(store_message_cancel(f->st, ids[3], &err), HD_OK);
    assert_counts(f->st, 6, 1, 1, 2);
    int64_t deleted = 0;
    assert_int_equal(store_purge_chunk(f->st, hd_now_ms() + 1000, 100, &deleted, &err), HD_OK);
    assert_int_equal(deleted, 3);
    assert_counts(f->st, 6, 1, 0, 0);
    assert_int_equal(store_site_delete(f->st, f->site_a, &err), HD_OK);
    assert_counts(f->st, 0, 0, 0, 7);
}

/* A site's pending count as the Sites screen reads it (store_sites_list),
 * -1 when the site is not listed. */
static int64_t listed_pending(store *st, int64_t site_id)
{
    site_stats_list l;
    hd_error err = { 0 };
    if (store_sites_list(st, &l, &err) != HD_OK)
        fail_msg("store_sites_list: %s", err.msg);
    int64_t n = -1;
    for (int i = 0; i < l.count; i++)
        if (l.items[i].s.id == site_id)
            n = l.items[i].pending;
    site_stats_list_free(&l);
    return n;
}

/* The same, counted from the messages (the filter a page walks). */
static int64_t counted_pending(store *st, int64_t site_id)
{
    msg_filter flt = { .status_mask = MSG_PENDING_MASK, .site_id = site_id };
    int64_t n = -1;
    hd_error err = { 0 };
    if (store_messages_count(st, &flt, &n, &err) != HD_OK)
        fail_msg("store_messages_count: %s", err.msg);
    return n;
}

static void assert_pending(store *st, int64_t site_id, int64_t want)
{
    assert_int_equal(listed_pending(st, site_id), want);
    assert_int_equal(counted_pending(st, site_id), want);
}

/* The Sites screen's pending counts are kept by the store (site_pending),
 * not counted on each refresh: they follow every way a message enters or
 * leaves Queued/Resent, per site, and agree with a count of the messages. */
static void test_site_pending_counts_exact(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    assert_pending(f->st, f->site_a, 0);
    int64_t a[5], b[3];
    for (int i = 0; i < 5; i++)
        a[i] = add_msg(f->st, f->site_a, "a", NULL);
    for (int i = 0; i < 3; i++)
        b[i] = add_msg(f->st, f->site_b, "b", NULL);
    assert_pending(f->st, f->site_a, 5);
    assert_pending(f->st, f->site_b, 3);

    /* Claims change nothing; Resent stays pending; Done and Failed leave. */
    message_list l;
    int64_t now = hd_now_ms();
    assert_int_equal(store_claim(f->st, "e1", now, 1000, 10, &l, &err), HD_OK);
    assert_int_equal(l.count, 8);
    message_list_free(&l);
    assert_pending(f->st, f->site_a, 5);
    attempt_outcome o[4] = {
        outcome(a[0], 1, 200, MSG_DONE, 0),
        outcome(a[1], 1, 500, MSG_RESENT, now + 10000),
        outcome(a[2], 1, 500, MSG_FAILED, 0),
        outcome(b[0], 1, 200, MSG_DONE, 0),
    };
    assert_int_equal(store_record_outcomes(f->st, "e1", o, 4, &err), HD_OK);
    assert_pending(f->st, f->site_a, 3);
    assert_pending(f->st, f->site_b, 2);

    /* Cancel, resend one, the bulk resend, the purge of finished ones. */
    assert_int_equal(store_release_leases(f->st, "e1", now, &err), HD_OK);
    assert_int_equal(store_message_cancel(f->st, a[3], &err), HD_OK);
    assert_pending(f->st, f->site_a, 2);
    int64_t new_id = 0;
    assert_int_equal(store_message_resend(f->st, a[2], 0, &new_id, &err), HD_OK);
    assert_pending(f->st, f->site_a, 3);
    int64_t resent = 0;
    assert_int_equal(store_messages_resend_failed(f->st, NULL, 0, &resent, NULL, &err), HD_OK);
    assert_int_equal(resent, 1);   /* a[3]; a[2] was resent already */
    assert_pending(f->st, f->site_a, 4);
    int64_t deleted = 0;
    assert_int_equal(store_purge_chunk(f->st, hd_now_ms() + 1000, 100, &deleted, &err), HD_OK);
    assert_true(deleted > 0);
    assert_pending(f->st, f->site_a, 4);
    assert_pending(f->st, f->site_b, 2);

    /* A deleted site's pending messages fail: it is no longer listed and
     * none of its messages is pending; a site added after it starts at 0. */
    assert_int_equal(store_site_delete(f->st, f->site_b, &err), HD_OK);
    assert_int_equal(listed_pending(f->st, f->site_b), -1);
    assert_int_equal(counted_pending(f->st, f->site_b), 0);
    assert_pending(f->st, f->site_a, 4);
    int64_t c = add_site(f->st, "gamma", 0);
    assert_pending(f->st, c, 0);
    add_msg(f->st, c, "c", NULL);
    assert_pending(f->st, c, 1);
    (void)b;
}

/* Schema 6 keeps the pending messages per site (site_pending): a schema-5
 * database gets them counted from its messages on open, sites without
 * pending messages included, and they follow the changes after. */
static void test_migration_counts_site_pending(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    char *path = hd_xasprintf("%s/v5.db", dir);
    hd_error err = { 0 };
    assert_int_equal(store_debug_create_at_version(path, 5, &err), HD_OK);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "INSERT INTO sites(id, name, url, created_at, updated_at) VALUES"
        "  (1, 'one', 'https://example.com/', 1, 1), (2, 'two', 'https://example.com/', 1, 1),"
        "  (3, 'three', 'https://example.com/', 1, 1);"
        "INSERT INTO messages(id, webhook_id, site_id, action, status, attempts, due_at,"
        "  created_at, updated_at) VALUES"
        "  (1, 'msg_1', 1, 'a', 0, 0, 1000, 1000, 1000), (2, 'msg_2', 1, 'a', 1, 1, 1000, 1000, 1000),"
        "  (3, 'msg_3', 1, 'a', 2, 1, NULL, 1000, 1000), (4, 'msg_4', 2, 'a', 0, 0, 1000, 1000, 1000),"
        "  (5, 'msg_5', 2, 'a', 3, 5, NULL, 1000, 1000);"
        "INSERT INTO payloads(message_id, payload) SELECT id, '{}' FROM messages;",
        NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    store *st = NULL;
    assert_int_equal(store_open(path, NULL, &st, &err), HD_OK);
    assert_int_equal(store_schema_version(st), 8);
    assert_pending(st, 1, 2);
    assert_pending(st, 2, 1);
    assert_pending(st, 3, 0);
    add_msg(st, 3, "b", NULL);
    assert_int_equal(store_message_cancel(st, 4, &err), HD_OK);
    assert_pending(st, 3, 1);
    assert_pending(st, 2, 0);
    store_close(st);
    free(path);
    tu_rmdir(dir);
    free(dir);
}

/* ---- leases ---- */

typedef struct claimer {
    const char *path;
    char owner[32];
    int64_t ids[400];
    int n;
} claimer;

static void *claim_thread(void *arg)
{
    claimer *c = arg;
    store *st = NULL;
    hd_error err = { 0 };
    if (store_open(c->path, &fast_opts, &st, &err) != HD_OK)
        return NULL;
    for (;;) {
        message_list l;
        if (store_claim(st, c->owner, hd_now_ms(), 60000, 7, &l, &err) != HD_OK) {
            c->n = -1;
            break;
        }
        if (l.count == 0) {
            message_list_free(&l);
            break;
        }
        for (int i = 0; i < l.count && c->n < 400; i++)
            c->ids[c->n++] = l.items[i].id;
        message_list_free(&l);
    }
    store_close(st);
    return NULL;
}

static void test_claim_two_connections_disjoint(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    assert_int_equal(store_tx_begin(f->st, &err), HD_OK);
    for (int i = 0; i < 300; i++)
        add_msg(f->st, i % 2 ? f->site_a : f->site_b, "a", NULL);
    assert_int_equal(store_tx_commit(f->st, &err), HD_OK);

    claimer c[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        memset(&c[i], 0, sizeof c[i]);
        c[i].path = f->path;
        snprintf(c[i].owner, sizeof c[i].owner, "owner-%d", i);
        assert_int_equal(pthread_create(&t[i], NULL, claim_thread, &c[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_true(c[0].n >= 0 && c[1].n >= 0);
    assert_int_equal(c[0].n + c[1].n, 300);
    char *seen = hd_xcalloc(400, 1);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < c[k].n; i++) {
            assert_true(c[k].ids[i] > 0 && c[k].ids[i] < 400);
            if (seen[c[k].ids[i]]++)
                fail_msg("message #%lld claimed twice", (long long)c[k].ids[i]);
        }
    free(seen);
}

static void test_claim_fields_and_lease_expiry(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    new_message nm = { .site_id = f->site_b, .action = "ping", .customer = "cu",
                       .path = "/p", .payload = "{\"k\":true}" };
    int64_t id = 0;
    assert_int_equal(store_message_add(f->st, &nm, &id, &err), HD_OK);
    int64_t now = hd_now_ms() + 5;
    message_list l;
    assert_int_equal(store_claim(f->st, "A", now, 500, 10, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);
    message *m = &l.items[0];
    assert_int_equal(m->id, id);
    assert_int_equal(strlen(m->webhook_id), 30);
    assert_int_equal(m->site_id, f->site_b);
    assert_string_equal(m->site_name, "beta");
    assert_string_equal(m->action, "ping");
    assert_string_equal(m->customer, "cu");
    assert_string_equal(m->path, "/p");
    assert_string_equal(m->payload, "{\"k\":true}");
    assert_int_equal(m->attempts, 0);
    assert_int_equal(m->status, MSG_QUEUED);
    assert_true(m->in_flight);
    /* Lease = now + site timeout (1000) + extra (500). */
    assert_int_equal(m->due_at, now + 1500);
    message_list_free(&l);

    message g;
    assert_int_equal(store_message_get(f->st, id, &g, &err), HD_OK);
    assert_true(g.in_flight);
    message_free(&g);

    /* Not claimable while the lease holds, by anyone. */
    store *other = open_second(f);
    assert_int_equal(store_claim(other, "B", now + 1499, 500, 10, &l, &err), HD_OK);
    assert_int_equal(l.count, 0);
    message_list_free(&l);
    int64_t due = 0;
    assert_int_equal(store_next_due(other, &due, &err), HD_OK);
    assert_int_equal(due, now + 1500);
    /* A dead owner's lease expires and the message is claimed again. */
    assert_int_equal(store_claim(other, "B", now + 1500, 0, 10, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);
    assert_int_equal(l.items[0].id, id);
    message_list_free(&l);
    store_close(other);

    /* A site with timeout 0 uses the store's default timeout. */
    int64_t id2 = add_msg(f->st, f->site_a, "x", NULL);
    store_set_default_timeout(f->st, 4000);
    int64_t now2 = hd_now_ms() + 5;
    assert_int_equal(store_claim(f->st, "A", now2, 100, 10, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);
    assert_int_equal(l.items[0].id, id2);
    assert_int_equal(l.items[0].due_at, now2 + 4100);
    message_list_free(&l);
}

static void test_paused_site_not_claimed(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t id = add_msg(f->st, f->site_a, "x", NULL);
    assert_int_equal(store_site_set_enabled(f->st, f->site_a, false, &err), HD_OK);
    int64_t n = -1, due = -1;
    assert_int_equal(store_pending_count(f->st, &n, &err), HD_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_next_due(f->st, &due, &err), HD_OK);
    assert_int_equal(due, 0);
    message_list l;
    assert_int_equal(store_claim(f->st, "A", hd_now_ms() + 10, 0, 10, &l, &err), HD_OK);
    assert_int_equal(l.count, 0);
    message_list_free(&l);
    assert_int_equal(store_site_set_enabled(f->st, f->site_a, true, &err), HD_OK);
    assert_int_equal(store_pending_count(f->st, &n, &err), HD_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_next_due(f->st, &due, &err), HD_OK);
    assert_true(due > 0);
    assert_int_equal(store_claim(f->st, "A", hd_now_ms() + 10, 0, 10, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);
    assert_int_equal(l.items[0].id, id);
    message_list_free(&l);
}

static void test_record_outcomes(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t id = add_msg(f->st, f->site_b, "x", NULL);
    int64_t t0 = hd_now_ms() + 5;
    message_list l;
    assert_int_equal(store_claim(f->st, "A", t0, 0, 1, &l, &err), HD_OK);
    message_list_free(&l);

    /* First attempt fails: Resent, due later, lease gone, everything kept. */
    attempt_outcome o = outcome(id, 1, 503, MSG_RESENT, t0 + 10000);
    static char body[] = "bad\0gateway";
    o.a.response_body = body;
    o.a.response_body_len = sizeof body - 1;
    o.a.body_truncated = true;
    o.a.request_headers = (char *)"Authorization: ********\n";
    o.a.response_headers = (char *)"Retry-After: 5\n";
    assert_int_equal(store_record_outcomes(f->st, "A", &o, 1, &err), HD_OK);
    message m;
    assert_int_equal(store_message_get(f->st, id, &m, &err), HD_OK);
    assert_int_equal(m.status, MSG_RESENT);
    assert_int_equal(m.attempts, 1);
    assert_int_equal(m.due_at, t0 + 10000);
    assert_int_equal(m.response_code, 503);
    assert_string_equal(m.last_error, "HTTP 500");
    assert_false(m.in_flight);
    message_free(&m);

    /* Second attempt: a network error (no code), then success. */
    assert_int_equal(store_claim(f->st, "A", t0 + 10000, 0, 1, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);
    assert_int_equal(l.items[0].attempts, 1);
    message_list_free(&l);
    attempt_outcome o2 = outcome(id, 2, 0, MSG_RESENT, t0 + 20000);
    o2.a.error = (char *)"connection refused";
    assert_int_equal(store_record_outcomes(f->st, "A", &o2, 1, &err), HD_OK);
    assert_int_equal(store_claim(f->st, "A", t0 + 20000, 0, 1, &l, &err), HD_OK);
    message_list_free(&l);
    attempt_outcome o3 = outcome(id, 3, 204, MSG_DONE, 0);
    assert_int_equal(store_record_outcomes(f->st, "A", &o3, 1, &err), HD_OK);
    assert_int_equal(store_message_get(f->st, id, &m, &err), HD_OK);
    assert_int_equal(m.status, MSG_DONE);
    assert_int_equal(m.attempts, 3);
    assert_int_equal(m.due_at, 0);
    assert_int_equal(m.response_code, 204);
    assert_null(m.last_error);
    message_free(&m);

    attempt_list al;
    assert_int_equal(store_attempts_list(f->st, id, &al, &err), HD_OK);
    assert_int_equal(al.count, 3);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(al.items[i].number, i + 1);
        assert_int_equal(al.items[i].site_id, f->site_b);
        assert_int_equal(al.items[i].message_id, id);
        assert_int_equal(al.items[i].duration_ms, 12);
    }
    assert_int_equal(al.items[0].response_code, 503);
    assert_int_equal(al.items[0].response_body_len, sizeof body - 1);
    assert_memory_equal(al.items[0].response_body, body, sizeof body - 1);
    assert_true(al.items[0].body_truncated);
    assert_string_equal(al.items[0].request_headers, "Authorization: ********\n");
    assert_string_equal(al.items[0].response_headers, "Retry-After: 5\n");
    assert_int_equal(al.items[1].response_code, 0);
    assert_string_equal(al.items[1].error, "connection refused");
    assert_null(al.items[2].error);
    assert_null(al.items[2].response_body);
    attempt_list_free(&al);
}

static void test_lost_lease_leaves_message(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t id = add_msg(f->st, f->site_b, "x", NULL);
    int64_t t0 = hd_now_ms() + 5;
    message_list l;
    assert_int_equal(store_claim(f->st, "A", t0, 0, 1, &l, &err), HD_OK);
    message_list_free(&l);
    /* A is slow; its lease expires and B takes the message over. */
    store *b = open_second(f);
    assert_int_equal(store_claim(b, "B", t0 + 1000, 0, 1, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);
    message_list_free(&l);

    attempt_outcome late = outcome(id, 1, 200, MSG_DONE, 0);
    assert_int_equal(store_record_outcomes(f->st, "A", &late, 1, &err), HD_OK);
    message m;
    assert_int_equal(store_message_get(f->st, id, &m, &err), HD_OK);
    assert_int_equal(m.status, MSG_QUEUED);   /* left to B */
    assert_int_equal(m.attempts, 0);
    assert_int_equal(m.due_at, t0 + 2000);     /* B's lease */
    message_free(&m);
    attempt_list al;
    assert_int_equal(store_attempts_list(f->st, id, &al, &err), HD_OK);
    assert_int_equal(al.count, 1);             /* but A's attempt is on record */
    attempt_list_free(&al);

    attempt_outcome mine = outcome(id, 1, 500, MSG_RESENT, t0 + 9000);
    assert_int_equal(store_record_outcomes(b, "B", &mine, 1, &err), HD_OK);
    assert_int_equal(store_message_get(f->st, id, &m, &err), HD_OK);
    assert_int_equal(m.status, MSG_RESENT);
    assert_int_equal(m.attempts, 1);
    message_free(&m);

    /* Releasing B's leases makes its claimed messages due at once. */
    int64_t id2 = add_msg(f->st, f->site_a, "y", NULL);
    assert_int_equal(store_claim(b, "B", hd_now_ms() + 5, 60000, 10, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);
    message_list_free(&l);
    int64_t rel = hd_now_ms();
    assert_int_equal(store_release_leases(b, "B", rel, &err), HD_OK);
    assert_int_equal(store_message_get(f->st, id2, &m, &err), HD_OK);
    assert_false(m.in_flight);
    assert_true(m.due_at <= rel);
    message_free(&m);
    store_close(b);
}

/* Claims one message of site_b as owner at now (lease: now + 1 s + extra);
 * returns its id, 0 when none was due. */
static int64_t claim_one_id(store *st, const char *owner, int64_t now, int64_t extra, int limit,
                            int *count)
{
    message_list l;
    hd_error err = { 0 };
    assert_int_equal(store_claim(st, owner, now, extra, limit, &l, &err), HD_OK);
    int64_t id = l.count > 0 ? l.items[0].id : 0;
    if (count)
        *count = l.count;
    message_list_free(&l);
    return id;
}

/* SQLite: a connection's claims of a site go on from where its last one
 * stopped (a cursor), so the leased messages at the head of the due order
 * are not walked again by every claim.  A lease that expires behind the
 * cursor is claimed again once the sweep ends: after 1 s, or at once after
 * a claim that found fewer than it wanted (the backlog drained), or a
 * message given back. */
static void test_claim_cursor_sweeps(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t m[8];
    for (int i = 1; i <= 7; i++)
        m[i] = add_msg(f->st, f->site_b, "x", NULL);
    int64_t t0 = hd_now_ms() + 5;
    store *x = open_second(f);
    int n = 0;
    /* X holds m1 until t0 + 1000 (site_b's timeout), then dies.  Y's leases
     * last a minute. */
    assert_int_equal(claim_one_id(x, "X", t0, 0, 1, &n), m[1]);
    assert_int_equal(claim_one_id(f->st, "Y", t0 + 600, 60000, 1, &n), m[2]);
    /* Full claims go on from the cursor: m1's lease ended behind it. */
    assert_int_equal(claim_one_id(f->st, "Y", t0 + 1100, 60000, 1, &n), m[3]);
    /* The sweep is over after 1 s: from the head. */
    assert_int_equal(claim_one_id(f->st, "Y", t0 + 1700, 60000, 1, &n), m[1]);
    /* X holds m4 for half a second (site_b's timeout, 1 s, less 500 ms);
     * Y drains the rest, 3 of the 5 it wants. */
    assert_int_equal(claim_one_id(x, "X", t0 + 1710, -500, 1, &n), m[4]);
    store_close(x);
    assert_int_equal(claim_one_id(f->st, "Y", t0 + 1720, 60000, 5, &n), m[5]);
    assert_int_equal(n, 3);
    /* That short claim ended the sweep (begun at t0 + 1700): m4, whose
     * lease ended at t0 + 2210, is found behind it at once. */
    assert_int_equal(claim_one_id(f->st, "Y", t0 + 2220, 60000, 5, &n), m[4]);
    assert_int_equal(n, 1);
    /* A message given back is claimable at once. */
    assert_int_equal(store_release_messages(f->st, "Y", &m[6], 1, t0 + 2230, &err), HD_OK);
    assert_int_equal(claim_one_id(f->st, "Y", t0 + 2240, 60000, 5, &n), m[6]);
    assert_int_equal(n, 1);
}

static void test_caller_transaction(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t ids[3];
    assert_int_equal(store_tx_begin(f->st, &err), HD_OK);
    for (int i = 0; i < 3; i++)
        ids[i] = add_msg(f->st, f->site_a, "x", NULL);
    /* A failing write inside the transaction does not undo the others. */
    new_message bad = { .site_id = 999, .action = "x", .payload = "{}" };
    assert_int_equal(store_message_add(f->st, &bad, NULL, &err), HD_NOT_FOUND);
    store_tx_rollback(f->st);
    message m;
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_message_get(f->st, ids[i], &m, &err), HD_NOT_FOUND);

    /* Claim + record in one caller transaction, as the engine does. */
    int64_t id = add_msg(f->st, f->site_a, "x", NULL);
    uint64_t c0 = store_change_counter(f->st);
    assert_int_equal(store_tx_begin(f->st, &err), HD_OK);
    message_list l;
    assert_int_equal(store_claim(f->st, "E", hd_now_ms() + 5, 0, 5, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);
    message_list_free(&l);
    attempt_outcome o = outcome(id, 1, 200, MSG_DONE, 0);
    assert_int_equal(store_record_outcomes(f->st, "E", &o, 1, &err), HD_OK);
    assert_int_equal(store_tx_commit(f->st, &err), HD_OK);
    assert_true(store_change_counter(f->st) != c0);
    assert_int_equal(store_message_get(f->st, id, &m, &err), HD_OK);
    assert_int_equal(m.status, MSG_DONE);
    message_free(&m);
}

/* The engine's committer connection (no_reference_checks): claim and record
 * in one transaction work as on any connection; an outcome for a message
 * deleted meanwhile is skipped, not stored as an orphan; the connection
 * refuses to purge (the cascade to attempts would not run). */
static void test_committer_connection(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    store_options o = fast_opts;
    o.no_reference_checks = true;
    store *c = NULL;
    assert_int_equal(store_open(f->path, &o, &c, &err), HD_OK);
    int64_t keep = add_msg(f->st, f->site_a, "x", NULL);
    int64_t gone = add_msg(f->st, f->site_a, "x", NULL);

    assert_int_equal(store_tx_begin(c, &err), HD_OK);
    message_list l;
    assert_int_equal(store_claim(c, "E", hd_now_ms() + 5, 0, 1, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);
    assert_int_equal(l.items[0].id, keep);
    message_list_free(&l);
    assert_int_equal(store_tx_commit(c, &err), HD_OK);

    /* `gone` is cancelled and purged on a normal connection before its
     * (stale) outcome arrives. */
    assert_int_equal(store_message_cancel(f->st, gone, &err), HD_OK);
    int64_t deleted = 0;
    assert_int_equal(store_purge_chunk(f->st, hd_now_ms() + 1000, 10, &deleted, &err), HD_OK);
    assert_int_equal(deleted, 1);

    attempt_outcome out[2] = { outcome(keep, 1, 200, MSG_DONE, 0),
                               outcome(gone, 1, 200, MSG_DONE, 0) };
    assert_int_equal(store_tx_begin(c, &err), HD_OK);
    assert_int_equal(store_record_outcomes(c, "E", out, 2, &err), HD_OK);
    assert_int_equal(store_tx_commit(c, &err), HD_OK);
    message m;
    assert_int_equal(store_message_get(f->st, keep, &m, &err), HD_OK);
    assert_int_equal(m.status, MSG_DONE);
    message_free(&m);
    attempt_list al;
    assert_int_equal(store_attempts_list(f->st, keep, &al, &err), HD_OK);
    assert_int_equal(al.count, 1);
    attempt_list_free(&al);
    assert_int_equal(store_attempts_list(f->st, gone, &al, &err), HD_OK);
    assert_int_equal(al.count, 0);
    attempt_list_free(&al);

    assert_int_equal(store_purge_chunk(c, hd_now_ms() + 1000, 10, &deleted, &err), HD_INTERNAL);
    assert_non_null(strstr(err.msg, "reference checks"));
    store_close(c);
}

static void test_change_counter(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    uint64_t c0 = store_change_counter(f->st);
    assert_true(store_change_counter(f->st) == c0);  /* nothing happened */
    add_msg(f->st, f->site_a, "x", NULL);
    uint64_t c1 = store_change_counter(f->st);
    assert_true(c1 != c0);
    store *other = open_second(f);
    uint64_t o0 = store_change_counter(other);
    assert_int_equal(store_site_set_enabled(other, f->site_b, false, &err), HD_OK);
    /* Another connection's commit shows: at once on SQLite, within
     * milliseconds on PostgreSQL (its notification travels to us). */
    uint64_t c2 = store_change_counter(f->st);
    for (int i = 0; i < 100 && c2 == c1; i++) {
        tu_sleep_ms(10);
        c2 = store_change_counter(f->st);
    }
    assert_true(c2 != c1);
    assert_true(store_change_counter(other) != o0);
    assert_true(store_change_counter(f->st) == c2);
    store_close(other);
}

static void test_locked_database_error(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    store *other = NULL;
    store_options quick = { .busy_timeout_ms = 100 };
    assert_int_equal(store_open(f->path, &quick, &other, &err), HD_OK);
    assert_int_equal(store_tx_begin(f->st, &err), HD_OK);
    add_msg(f->st, f->site_a, "x", NULL);
    /* The other connection waits busy_timeout for the write lock, then says why. */
    int64_t t0 = hd_mono_ms();
    new_message nm = { .site_id = f->site_a, .action = "y", .payload = "{}" };
    assert_int_equal(store_message_add(other, &nm, NULL, &err), HD_BUSY);
    assert_true(hd_mono_ms() - t0 >= 90);
    assert_non_null(strstr(err.msg, f->path));
    assert_non_null(strstr(err.msg, "locked"));
    /* Readers are not blocked by the writer (WAL) and see the last commit. */
    int64_t n = -1;
    msg_filter any = { .since_ms = 1 };
    assert_int_equal(store_messages_count(other, &any, &n, &err), HD_OK);
    assert_int_equal(n, 0);
    assert_int_equal(store_tx_commit(f->st, &err), HD_OK);
    assert_int_equal(store_message_add(other, &nm, NULL, &err), HD_OK);
    assert_int_equal(store_messages_count(other, &any, &n, &err), HD_OK);
    assert_int_equal(n, 2);
    store_close(other);
}

/* ---- operator actions ---- */

static void test_resend_links(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    new_message nm = { .site_id = f->site_a, .action = "inv", .customer = "c9", .path = "/z",
                       .payload = "{\"x\":1}" };
    int64_t id = 0, nid = 0;
    assert_int_equal(store_message_add(f->st, &nm, &id, &err), HD_OK);
    assert_int_equal(store_message_cancel(f->st, id, &err), HD_OK);
    assert_int_equal(store_message_resend(f->st, id, 0, &nid, &err), HD_OK);
    assert_true(nid > id);
    message o, n;
    assert_int_equal(store_message_get(f->st, id, &o, &err), HD_OK);
    assert_int_equal(store_message_get(f->st, nid, &n, &err), HD_OK);
    assert_int_equal(n.resend_of, id);
    assert_int_equal(n.status, MSG_QUEUED);
    assert_int_equal(n.attempts, 0);
    assert_string_equal(n.payload, o.payload);
    assert_string_equal(n.action, "inv");
    assert_string_equal(n.customer, "c9");
    assert_string_equal(n.path, "/z");
    assert_string_not_equal(n.webhook_id, o.webhook_id);
    assert_int_equal(o.status, MSG_FAILED);  /* the original keeps its history */
    message_free(&o);
    message_free(&n);
    assert_int_equal(store_message_resend(f->st, 4242, 0, &nid, &err), HD_NOT_FOUND);

    /* The chain both ways: a page marks the original with its newest
     * resend, store_message_resends lists them all, oldest first. */
    int64_t nid2 = 0, ids[4];
    int count = -1;
    assert_int_equal(store_message_resend(f->st, id, 0, &nid2, &err), HD_OK);
    assert_int_equal(store_message_resends(f->st, id, ids, 4, &count, &err), HD_OK);
    assert_int_equal(count, 2);
    assert_int_equal(ids[0], nid);
    assert_int_equal(ids[1], nid2);
    assert_int_equal(store_message_resends(f->st, id, ids, 1, &count, &err), HD_OK);
    assert_int_equal(count, 1);
    assert_int_equal(store_message_resends(f->st, nid, ids, 4, &count, &err), HD_OK);
    assert_int_equal(count, 0);
    message_list page;
    msg_filter any = { 0 };
    assert_int_equal(store_messages_page(f->st, &any, PAGE_FIRST, 0, 10, &page, &err), HD_OK);
    assert_int_equal(page.count, 3);
    assert_int_equal(page.items[0].id, nid2);
    assert_int_equal(page.items[0].resent_as, 0);
    assert_int_equal(page.items[1].resent_as, 0);
    assert_int_equal(page.items[2].id, id);
    assert_int_equal(page.items[2].resent_as, nid2);
    message_list_free(&page);
    /* ... under an action search too (pages merged per action name). */
    msg_filter search = { .action_text = "in" };
    assert_int_equal(store_messages_page(f->st, &search, PAGE_FIRST, 0, 10, &page, &err), HD_OK);
    assert_int_equal(page.count, 3);
    assert_int_equal(page.items[2].resent_as, nid2);
    message_list_free(&page);
}

static void test_resend_failed_counts(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    /* More than one chunk (1000) of failed messages on site a, a few on b. */
    assert_int_equal(store_tx_begin(f->st, &err), HD_OK);
    for (int i = 0; i < 1205; i++) {
        int64_t id = add_msg(f->st, i < 1200 ? f->site_a : f->site_b, "a",
                             i % 2 ? "odd" : "even");
        assert_int_equal(store_message_cancel(f->st, id, &err), HD_OK);
    }
    add_msg(f->st, f->site_a, "a", NULL);  /* pending: never resent */
    assert_int_equal(store_tx_commit(f->st, &err), HD_OK);

    msg_filter flt = { .site_id = f->site_b, .status_mask = MSG_STATUS_BIT(MSG_DONE) };
    int64_t n = -1;
    assert_int_equal(store_messages_resend_failed(f->st, &flt, 0, &n, NULL, &err), HD_OK);
    assert_int_equal(n, 5);  /* status_mask forced to Failed */
    flt = (msg_filter){ .site_id = f->site_a };
    assert_int_equal(store_messages_resend_failed(f->st, &flt, 0, &n, NULL, &err), HD_OK);
    assert_int_equal(n, 1200);
    int64_t q = -1;
    flt = (msg_filter){ .status_mask = MSG_STATUS_BIT(MSG_QUEUED) };
    assert_int_equal(store_messages_count(f->st, &flt, &q, &err), HD_OK);
    assert_int_equal(q, 1 + 5 + 1200);
    /* Each new message points at a distinct Failed original. */
    message_list l;
    assert_int_equal(store_messages_page(f->st, &flt, PAGE_FIRST, 0, 3, &l, &err), HD_OK);
    for (int i = 0; i < l.count; i++) {
        message o;
        assert_true(l.items[i].resend_of > 0);
        assert_int_equal(store_message_get(f->st, l.items[i].resend_of, &o, &err), HD_OK);
        assert_int_equal(o.status, MSG_FAILED);
        assert_string_equal(o.customer, l.items[i].customer);
        message_free(&o);
    }
    message_list_free(&l);
    /* Resending again takes only what was not resent yet: pressing R twice
     * must not deliver the same messages twice. */
    flt = (msg_filter){ .customer = "odd", .site_id = f->site_b };
    assert_int_equal(store_messages_resend_failed(f->st, &flt, 0, &n, NULL, &err), HD_OK);
    assert_int_equal(n, 0);  /* i = 1201, 1203 went out in the first call */
    flt = (msg_filter){ .status_mask = MSG_STATUS_BIT(MSG_FAILED), .unresent = true };
    assert_int_equal(store_messages_count(f->st, &flt, &q, &err), HD_OK);
    assert_int_equal(q, 0);
    int64_t late = add_msg(f->st, f->site_b, "a", "odd");
    assert_int_equal(store_message_cancel(f->st, late, &err), HD_OK);
    assert_int_equal(store_messages_count(f->st, &flt, &q, &err), HD_OK);
    assert_int_equal(q, 1);
    flt = (msg_filter){ .customer = "odd", .site_id = f->site_b };
    assert_int_equal(store_messages_resend_failed(f->st, &flt, 0, &n, NULL, &err), HD_OK);
    assert_int_equal(n, 1);  /* only the one failed since */
}

/* Two operators press R at once (two connections, two threads, more than
 * a chunk of Failed messages): each message is resent once, whichever of
 * them gets there first; the other resends nothing twice. */
typedef struct resender {
    const char *path;
    pthread_barrier_t *start;         /* both connections open, then both resend */
    int64_t resent;
    hd_status rc;
    hd_error err;                     /* why, when rc is not HD_OK */
} resender;

static void *resend_thread(void *arg)
{
    resender *r = arg;
    store *st = NULL;
    r->rc = store_open(r->path, &fast_opts, &st, &r->err);
    pthread_barrier_wait(r->start);
    if (r->rc == HD_OK)
        r->rc = store_messages_resend_failed(st, NULL, 0, &r->resent, NULL, &r->err);
    store_close(st);
    return NULL;
}

static void test_resend_failed_two_at_once(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    enum { N = 1200 };
    int64_t first = 0, last = 0;
    assert_int_equal(store_tx_begin(f->st, &err), HD_OK);
    for (int i = 0; i < N; i++) {
        last = add_msg(f->st, i % 2 ? f->site_a : f->site_b, "a", NULL);
        if (i == 0)
            first = last;
    }
    assert_int_equal(store_tx_commit(f->st, &err), HD_OK);
    assert_int_equal(last - first + 1, N);
    /* All Failed at their first attempt: one claim, one batch of outcomes. */
    message_list cl;
    assert_int_equal(store_claim(f->st, "A", hd_now_ms() + 5, 60000, N, &cl, &err), HD_OK);
    assert_int_equal(cl.count, N);
    attempt_outcome *o = hd_xcalloc(N, sizeof *o);
    for (int i = 0; i < N; i++)
        o[i] = outcome(cl.items[i].id, 1, 500, MSG_FAILED, 0);
    assert_int_equal(store_record_outcomes(f->st, "A", o, N, &err), HD_OK);
    free(o);
    message_list_free(&cl);
    assert_counts(f->st, 0, 0, 0, N);

    pthread_barrier_t start;
    assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
    resender r[2];
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        memset(&r[i], 0, sizeof r[i]);
        r[i].path = f->path;
        r[i].start = &start;
        assert_int_equal(pthread_create(&t[i], NULL, resend_thread, &r[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < 2; i++)
        if (r[i].rc != HD_OK)
            fail_msg("resend %d: %s", i, r[i].err.msg);
    assert_int_equal(r[0].resent + r[1].resent, N);

    message_list l;
    msg_filter queued = { .status_mask = MSG_STATUS_BIT(MSG_QUEUED) };
    assert_int_equal(store_messages_page(f->st, &queued, PAGE_FIRST, 0, 2 * N, &l, &err), HD_OK);
    assert_int_equal(l.count, N);
    char *seen = hd_xcalloc(N, 1);
    for (int i = 0; i < l.count; i++) {
        int64_t of = l.items[i].resend_of;
        assert_true(of >= first && of <= last);
        if (seen[of - first]++)
            fail_msg("message #%lld resent twice", (long long)of);
    }
    free(seen);
    message_list_free(&l);
}

static void test_send_now_and_cancel_rules(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t id = add_msg(f->st, f->site_a, "x", NULL);
    int64_t t0 = hd_now_ms() + 5;
    message_list l;
    assert_int_equal(store_claim(f->st, "A", t0, 60000, 1, &l, &err), HD_OK);
    message_list_free(&l);
    assert_int_equal(store_message_send_now(f->st, id, &err), HD_INVALID);
    assert_non_null(strstr(err.msg, "in flight"));
    assert_int_equal(store_message_cancel(f->st, id, &err), HD_INVALID);

    /* After an error it waits; send now brings it forward. */
    attempt_outcome o = outcome(id, 1, 500, MSG_RESENT, t0 + 3600000);
    assert_int_equal(store_record_outcomes(f->st, "A", &o, 1, &err), HD_OK);
    int64_t before = hd_now_ms();
    assert_int_equal(store_message_send_now(f->st, id, &err), HD_OK);
    message m;
    assert_int_equal(store_message_get(f->st, id, &m, &err), HD_OK);
    assert_true(m.due_at >= before && m.due_at <= hd_now_ms());
    assert_int_equal(m.status, MSG_RESENT);
    message_free(&m);

    assert_int_equal(store_message_cancel(f->st, id, &err), HD_OK);
    assert_int_equal(store_message_get(f->st, id, &m, &err), HD_OK);
    assert_int_equal(m.status, MSG_FAILED);
    assert_string_equal(m.last_error, "cancelled by operator");
    assert_int_equal(m.due_at, 0);
    message_free(&m);
    assert_int_equal(store_message_cancel(f->st, id, &err), HD_INVALID);
    assert_non_null(strstr(err.msg, "failed"));
    assert_int_equal(store_message_send_now(f->st, id, &err), HD_INVALID);
    assert_int_equal(store_message_send_now(f->st, 999, &err), HD_NOT_FOUND);
    assert_int_equal(store_message_cancel(f->st, 999, &err), HD_NOT_FOUND);
}

/* An operator cancels a message while an engine's claim of it is still
 * uncommitted on another connection: the cancel waits for the claim's
 * transaction (SQLite: the write lock; PostgreSQL: the row lock), then sees
 * the message in flight and refuses, rather than cancelling a message an
 * engine is sending. */
typedef struct canceller {
    const char *path;
    int64_t id;
    hd_status rc;
    hd_error err;
    _Atomic int done;                 /* 1 once the cancel returned */
} canceller;

static void *cancel_thread(void *arg)
{
    canceller *c = arg;
    store *st = NULL;
    c->rc = store_open(c->path, &fast_opts, &st, &c->err);
    if (c->rc == HD_OK)
        c->rc = store_message_cancel(st, c->id, &c->err);
    store_close(st);
    c->done = 1;
    return NULL;
}

static void test_cancel_waits_for_a_claim(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t id = add_msg(f->st, f->site_a, "x", NULL);
    assert_int_equal(store_tx_begin(f->st, &err), HD_OK);
    message_list l;
    assert_int_equal(store_claim(f->st, "A", hd_now_ms() + 5, 60000, 1, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);
    message_list_free(&l);

    canceller c = { .path = f->path, .id = id };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, cancel_thread, &c), 0);
    tu_sleep_ms(300);
    assert_int_equal(c.done, 0);   /* waiting for the claim's transaction */
    assert_int_equal(store_tx_commit(f->st, &err), HD_OK);
    pthread_join(t, NULL);
    assert_int_equal(c.rc, HD_INVALID);
    assert_non_null(strstr(c.err.msg, "in flight"));
    message m;
    assert_int_equal(store_message_get(f->st, id, &m, &err), HD_OK);
    assert_int_equal(m.status, MSG_QUEUED);
    assert_true(m.in_flight);
    message_free(&m);
}

static void test_purge_old_finished_only(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t old_ids[6];
    for (int i = 0; i < 6; i++)
        old_ids[i] = add_msg(f->st, f->site_a, "old", NULL);
    tu_sleep_ms(3);
    int64_t cut = hd_now_ms();
    tu_sleep_ms(3);
    int64_t new_id = add_msg(f->st, f->site_a, "new", NULL);

    /* Old: 0,1 Done with attempts; 2,3 Failed; 4,5 stay pending.  New: Done. */
    message_list l;
    assert_int_equal(store_claim(f->st, "A", hd_now_ms() + 5, 0, 100, &l, &err), HD_OK);
    assert_int_equal(l.count, 7);
    message_list_free(&l);
    attempt_outcome o[5] = {
        outcome(old_ids[0], 1, 200, MSG_DONE, 0), outcome(old_ids[1], 1, 200, MSG_DONE, 0),
        outcome(old_ids[2], 1, 500, MSG_FAILED, 0), outcome(old_ids[3], 1, 500, MSG_FAILED, 0),
        outcome(new_id, 1, 200, MSG_DONE, 0),
    };
    assert_int_equal(store_record_outcomes(f->st, "A", o, 5, &err), HD_OK);
    assert_int_equal(store_release_leases(f->st, "A", hd_now_ms(), &err), HD_OK);

    int64_t deleted = -1, total = 0;
    int rounds = 0;
    do {
        assert_int_equal(store_purge_chunk(f->st, cut, 3, &deleted, &err), HD_OK);
        total += deleted;
        rounds++;
    } while (deleted > 0);
    assert_int_equal(total, 4);
    assert_int_equal(rounds, 3);  /* 3 + 1 + 0 */
    message m;
    attempt_list al;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(store_message_get(f->st, old_ids[i], &m, &err), HD_NOT_FOUND);
        assert_int_equal(store_attempts_list(f->st, old_ids[i], &al, &err), HD_OK);
        assert_int_equal(al.count, 0);
        attempt_list_free(&al);
    }
    for (int i = 4; i < 6; i++) {
        assert_int_equal(store_message_get(f->st, old_ids[i], &m, &err), HD_OK);
        message_free(&m);
    }
    assert_int_equal(store_message_get(f->st, new_id, &m, &err), HD_OK);
    message_free(&m);
    assert_int_equal(store_attempts_list(f->st, new_id, &al, &err), HD_OK);
    assert_int_equal(al.count, 1);
    attempt_list_free(&al);
}

static void test_sites_list_stats_and_histogram(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t ids[4];
    for (int i = 0; i < 4; i++)
        ids[i] = add_msg(f->st, f->site_b, "x", NULL);
    add_msg(f->st, f->site_a, "x", NULL);
    message_list l;
    /* The histogram counts whole seconds: 900 ms into one, so that
     * now - 500 is the same second and now - 1500 the one before; and the
     * next second, so that the claim at `now` finds the messages just
     * added due (900 ms into this one was before them 10% of the time). */
    int64_t now = (hd_now_ms() / 1000 + 1) * 1000 + 900;
    assert_int_equal(store_claim(f->st, "A", now + 5, 0, 100, &l, &err), HD_OK);
    message_list_free(&l);
    attempt_outcome o[3] = {
        outcome(ids[0], 1, 200, MSG_DONE, 0),
        outcome(ids[1], 1, 201, MSG_DONE, 0),
        outcome(ids[2], 1, 500, MSG_FAILED, 0),
    };
    o[0].a.started_at = now - 500;    /* last bucket */
    o[1].a.started_at = now - 1500;   /* second to last */
    o[2].a.started_at = now - 1600;
    assert_int_equal(store_record_outcomes(f->st, "A", o, 3, &err), HD_OK);

    site_stats_list sl;
    assert_int_equal(store_sites_list(f->st, &sl, &err), HD_OK);
    assert_int_equal(sl.count, 2);
    assert_string_equal(sl.items[0].s.name, "alpha");
    assert_int_equal(sl.items[0].pending, 1);
    assert_int_equal(sl.items[0].recent_total, 0);
    assert_string_equal(sl.items[1].s.name, "beta");
    assert_int_equal(sl.items[1].pending, 1);
    assert_int_equal(sl.items[1].recent_total, 3);
    assert_int_equal(sl.items[1].recent_ok, 2);
    site_stats_list_free(&sl);

    uint32_t h[5];
    assert_int_equal(store_attempt_histogram(f->st, now, 1000, 5, h, &err), HD_OK);
    assert_int_equal(h[4], 1);
    assert_int_equal(h[3], 2);
    assert_int_equal(h[0] + h[1] + h[2], 0);
}

/* ---- status helpers ---- */

static void test_status_names(void **state)
{
    (void)state;
    msg_status s;
    assert_true(msg_status_parse("FAILED", &s));
    assert_int_equal(s, MSG_FAILED);
    assert_true(msg_status_parse("queued", &s));
    assert_int_equal(s, MSG_QUEUED);
    assert_false(msg_status_parse("gone", &s));
    assert_string_equal(msg_status_name(MSG_RESENT), "resent");
    assert_string_equal(msg_status_title(MSG_DONE), "Done");
    assert_true(msg_status_pending(MSG_RESENT));
    assert_false(msg_status_pending(MSG_DONE));
}

/* ---- query plans ---- */

/* Fails when the plan scans the messages table without an index. */
static void assert_indexed(store *st, const char *name, const msg_filter *flt, page_dir dir)
{
    hd_buf plan = { 0 };
    hd_error err = { 0 };
    if (store_debug_plan(st, name, flt, dir, &plan, &err) != HD_OK)
        fail_msg("plan %s: %s", name, err.msg);
    const char *p = hd_buf_str(&plan);
    for (const char *line = p; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)len, line);
        bool scan = strncmp(buf, "SCAN ", 5) == 0 &&
                    (strstr(buf, "messages") || strncmp(buf, "SCAN m", 6) == 0 ||
                     strstr(buf, "attempts")) &&
                    !strstr(buf, "USING");
        if (scan)
            fail_msg("query %s scans without an index:\n%s", name, p);
        /* Sorting means reading every matching row before the first one. */
        if (strstr(buf, "TEMP B-TREE FOR ORDER BY"))
            fail_msg("query %s sorts its rows:\n%s", name, p);
        line = end ? end + 1 : line + len;
    }
    hd_buf_free(&plan);
}

static void test_query_plans_use_indexes(void **state)
{
    fixture *f = *state;
    static const char *const fixed[] = {
        "CLAIM", "SITE_FIRST_DUE", "CLAIM_SITES", "CIRCUIT_GET", "PENDING_COUNT", "RELEASE_LEASES", "PURGE", "ATTEMPTS_OF",
        "HISTOGRAM", "SITE_RECENT", "SITES_PENDING", "SITE_FAIL_PENDING", "MSG_GET",
        "OUTCOME_UPDATE", "SITES_PENDING",
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        assert_indexed(f->st, fixed[i], NULL, PAGE_FIRST);
    /* The claim and the engine's wake-up time walk one site's slice of the
     * partial due index; the claim from its cursor on (due_at>?) and with no
     * sort. */
    hd_buf plan = { 0 };
    hd_error err = { 0 };
    assert_int_equal(store_debug_plan(f->st, "CLAIM", NULL, PAGE_FIRST, &plan, &err), HD_OK);
    assert_non_null(strstr(hd_buf_str(&plan), "USING INDEX messages_site_due (site_id=? AND due_at>? AND due_at<?)"));
    assert_null(strstr(hd_buf_str(&plan), "TEMP B-TREE"));
    hd_buf_reset(&plan);
    assert_int_equal(store_debug_plan(f->st, "SITE_FIRST_DUE", NULL, PAGE_FIRST, &plan, &err), HD_OK);
    assert_non_null(strstr(hd_buf_str(&plan), "USING INDEX messages_site_due (site_id=?)"));
    hd_buf_reset(&plan);
    assert_int_equal(store_debug_plan(f->st, "SITE_FAIL_PENDING", NULL, PAGE_FIRST, &plan, &err), HD_OK);
    assert_non_null(strstr(hd_buf_str(&plan), "site_id=?"));
    hd_buf_reset(&plan);
    assert_int_equal(store_debug_plan(f->st, "PURGE", NULL, PAGE_FIRST, &plan, &err), HD_OK);
    assert_non_null(strstr(hd_buf_str(&plan), "USING INDEX messages_created"));
    /* Every page row asks for its resends: one seek of the partial index. */
    static const char *const resends[] = { "MSG_RESENT_AS", "MSG_RESENDS" };
    for (size_t i = 0; i < 2; i++) {
        hd_buf_reset(&plan);
        assert_int_equal(store_debug_plan(f->st, resends[i], NULL, PAGE_FIRST, &plan, &err), HD_OK);
        assert_non_null(strstr(hd_buf_str(&plan), "messages_resend_of (resend_of=?)"));
    }
    hd_buf_free(&plan);
    msg_filter filters[] = {
        { .status_mask = MSG_STATUS_BIT(MSG_FAILED) },
        { .status_mask = MSG_PENDING_MASK },
        { .site_id = 1 },
        { .customer = "c" },
        { .since_ms = 1 },
        { .since_ms = 1, .until_ms = 2 },
        { .site_id = 1, .customer = "c", .action_text = "x" },
    };
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
        for (int d = PAGE_FIRST; d <= PAGE_AT; d++)
            assert_indexed(f->st, "page", &filters[i], (page_dir)d);
        assert_indexed(f->st, "count", &filters[i], PAGE_FIRST);
        assert_indexed(f->st, "resend_failed", &filters[i], PAGE_FIRST);
    }
}

/* The engines' heartbeats: a beat writes or refreshes one row per owner,
 * "alive" means seen since the given time, a clean stop removes the row,
 * and a row an hour old (a crashed engine's) goes with the next beat. */
static void test_engine_heartbeats(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t now = hd_now_ms();
    char oa[] = "h1:10:aa", ob[] = "h2:20:bb", oc[] = "h3:30:cc";
    char h1[] = "h1", h2[] = "h2", h3[] = "h3", serve[] = "serve", console[] = "console";
    engine_beat a = { .owner = oa, .host = h1, .pid = 10, .role = serve,
                      .started_at = now - 60000, .seen_at = now - 20000, .attempts = 5 };
    engine_beat b = { .owner = ob, .host = h2, .pid = 20, .role = console,
                      .started_at = now - 1000, .seen_at = now, .in_flight = 3 };
    engine_beat old = { .owner = oc, .host = h3, .pid = 30, .role = serve,
                        .started_at = now - 3 * 3600000, .seen_at = now - 2 * 3600000 };
    assert_int_equal(store_engine_beat(f->st, &old, &err), HD_OK);
    assert_int_equal(store_engine_beat(f->st, &a, &err), HD_OK);
    assert_int_equal(store_engine_beat(f->st, &b, &err), HD_OK);

    engine_beat_list l;
    assert_int_equal(store_engines_alive(f->st, now - ENGINE_ALIVE_MS, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);   /* a was seen 20 s ago: taken for dead */
    assert_string_equal(l.items[0].host, "h2");
    assert_string_equal(l.items[0].role, "console");
    assert_int_equal(l.items[0].in_flight, 3);
    engine_beat_list_free(&l);

    /* a beats again: alive, its numbers refreshed, started_at kept. */
    a.seen_at = now;
    a.attempts = 9;
    a.started_at = now;   /* ignored on refresh */
    assert_int_equal(store_engine_beat(f->st, &a, &err), HD_OK);
    assert_int_equal(store_engines_alive(f->st, now - ENGINE_ALIVE_MS, &l, &err), HD_OK);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0].owner, "h1:10:aa");   /* oldest first */
    assert_int_equal(l.items[0].attempts, 9);
    assert_int_equal(l.items[0].started_at, now - 60000);
    engine_beat_list_free(&l);

    /* The hour-old row went with those beats; a clean stop removes b. */
    assert_int_equal(store_engines_alive(f->st, 0, &l, &err), HD_OK);
    assert_int_equal(l.count, 2);
    engine_beat_list_free(&l);
    assert_int_equal(store_engine_gone(f->st, ob, &err), HD_OK);
    assert_int_equal(store_engines_alive(f->st, 0, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0].owner, "h1:10:aa");
    engine_beat_list_free(&l);
}

/* A message is found by its webhook id (sent, and made by the bulk
 * resend's SQL); an id of no message, or not an id, says so. */
static void test_find_by_webhook_id(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t id = add_msg(f->st, f->site_a, "x", NULL);
    message m;
    assert_int_equal(store_message_get(f->st, id, &m, &err), HD_OK);
    int64_t got = 0;
    assert_int_equal(store_message_find_webhook_id(f->st, m.webhook_id, &got, &err), HD_OK);
    assert_int_equal(got, id);
    /* The same time, other random bits: nobody's. */
    char other[40];
    snprintf(other, sizeof other, "%s", m.webhook_id);
    other[29] = other[29] == 'a' ? 'b' : 'a';
    assert_int_equal(store_message_find_webhook_id(f->st, other, &got, &err), HD_NOT_FOUND);
    assert_non_null(strstr(err.msg, other));
    message_free(&m);
    assert_int_equal(store_message_find_webhook_id(f->st, "msg_short", &got, &err), HD_INVALID);
    assert_int_equal(store_message_find_webhook_id(f->st, "msg_AAAAAAAAAAAAAAAAAAAAAAAAAA",
                                                   &got, &err), HD_INVALID);

    /* A bulk resend's new message (its webhook id made in SQL). */
    message_list l;
    assert_int_equal(store_claim(f->st, "A", hd_now_ms() + 1000, 0, 10, &l, &err), HD_OK);
    message_list_free(&l);
    attempt_outcome o = outcome(id, 1, 500, MSG_FAILED, 0);
    assert_int_equal(store_record_outcomes(f->st, "A", &o, 1, &err), HD_OK);
    int64_t resent = 0;
    assert_int_equal(store_messages_resend_failed(f->st, NULL, 0, &resent, NULL, &err), HD_OK);
    assert_int_equal(resent, 1);
    int64_t max_id = 0;
    message_list page;
    assert_int_equal(store_messages_page(f->st, NULL, PAGE_FIRST, 0, 1, &page, &err), HD_OK);
    assert_int_equal(page.count, 1);
    max_id = page.items[0].id;
    assert_int_equal(page.items[0].resend_of, id);
    assert_int_equal(store_message_find_webhook_id(f->st, page.items[0].webhook_id, &got, &err),
                     HD_OK);
    assert_int_equal(got, max_id);
    message_list_free(&page);
}

/* ---- PostgreSQL only: several connections at once ---- */

/* Runs statements on a test database behind the store's back. */
static void pg_raw(const char *db_name, const char *sql)
{
    PGconn *c = PQconnectdb(db_name);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(c);
}

/* The first column of the first row of a query, as a number. */
static int64_t pg_raw_i64(const char *db_name, const char *sql)
{
    PGconn *c = PQconnectdb(db_name);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(c);
    return v;
}

/* One store call made from another thread, on its own connection, while
 * the test's connection holds a lock: done says when it returned. */
typedef struct blocked_call {
    store *st;
    const site *sites;       /* seed: the sites; update_if: sites[0] */
    int nsites;
    int64_t expected;        /* update_if's version; 0 = seed */
    pthread_barrier_t *start; /* NULL: go at once */
    hd_status rc;
    int added;
    hd_error err;
    volatile int done;
} blocked_call;

static void *blocked_call_run(void *arg)
{
    blocked_call *c = arg;
    if (c->start)
        pthread_barrier_wait(c->start);
    if (c->expected)
        c->rc = store_site_update_if(c->st, &c->sites[0], c->expected, &c->err);
    else
        c->rc = store_seed_sites(c->st, c->sites, c->nsites, &c->added, &c->err);
    __atomic_store_n(&c->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static bool blocked_call_done(blocked_call *c)
{
    return __atomic_load_n(&c->done, __ATOMIC_SEQ_CST) != 0;
}

static int count_sites(store *st)
{
    site_stats_list l;
    hd_error err = { 0 };
    assert_int_equal(store_sites_states(st, &l, &err), HD_OK);
    int n = l.count;
    site_stats_list_free(&l);
    return n;
}

/* Two processes starting at once on an empty database seed it once: one
 * adds every site, the other none.  First the deterministic case (the
 * second waits for the first's open transaction, then finds sites), then
 * both let loose at once, a few times. */
static void test_pg_seed_two_connections_at_once(void **state)
{
    (void)state;
    hd_error err = { 0 };
    char *dir = tu_tempdir();
    char *name = tu_db_name(dir, "seed.db");
    store *a = NULL, *b = NULL;
    assert_int_equal(store_open(name, &fast_opts, &a, &err), HD_OK);
    assert_int_equal(store_open(name, &fast_opts, &b, &err), HD_OK);
    site seeds[3];
    make_site(&seeds[0], "s1", "https://a.example");
    make_site(&seeds[1], "s2", "https://b.example");
    make_site(&seeds[2], "s3", "https://c.example");

    int added = -1;
    assert_int_equal(store_tx_begin(a, &err), HD_OK);
    assert_int_equal(store_seed_sites(a, seeds, 3, &added, &err), HD_OK);
    assert_int_equal(added, 3);
    blocked_call c = { .st = b, .sites = seeds, .nsites = 3 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, blocked_call_run, &c), 0);
    tu_sleep_ms(300);
    assert_false(blocked_call_done(&c));   /* waits for a's seeding to end */
    assert_int_equal(store_tx_commit(a, &err), HD_OK);
    pthread_join(t, NULL);
    assert_int_equal(c.rc, HD_OK);
    assert_int_equal(c.added, 0);
    assert_int_equal(count_sites(a), 3);

    for (int round = 0; round < 5; round++) {
        site_stats_list l;
        assert_int_equal(store_sites_states(a, &l, &err), HD_OK);
        for (int i = 0; i < l.count; i++)
            assert_int_equal(store_site_delete(a, l.items[i].s.id, &err), HD_OK);
        site_stats_list_free(&l);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 2);
        blocked_call ca = { .st = a, .sites = seeds, .nsites = 3, .start = &go };
        blocked_call cb = { .st = b, .sites = seeds, .nsites = 3, .start = &go };
        pthread_t ta, tb;
        assert_int_equal(pthread_create(&ta, NULL, blocked_call_run, &ca), 0);
        assert_int_equal(pthread_create(&tb, NULL, blocked_call_run, &cb), 0);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&go);
        if (ca.rc != HD_OK || cb.rc != HD_OK)
            fail_msg("round %d: %s / %s", round, ca.err.msg, cb.err.msg);
        assert_int_equal(ca.added + cb.added, 3);
        assert_true(ca.added == 0 || cb.added == 0);
        assert_int_equal(count_sites(b), 3);
    }
    for (int i = 0; i < 3; i++)
        site_free(&seeds[i]);
    store_close(a);
    store_close(b);
    tu_db_drop(name);
    tu_rmdir(dir);
    free(dir);
}

/* An editor on another connection saving a version that moved is refused,
 * nothing written: after the other's commit, and while the other's edit is
 * still open (it waits for it, then sees the new version). */
static void test_pg_update_if_stale_second_connection(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    store *b = open_second(f);
    site mine, theirs, got;
    assert_int_equal(store_site_get(f->st, f->site_a, &mine, &err), HD_OK);
    assert_int_equal(store_site_get(b, f->site_a, &theirs, &err), HD_OK);
    int64_t v = mine.updated_at;
    assert_int_equal(theirs.updated_at, v);
    mine.timeout_ms = 3000;
    assert_int_equal(store_site_update_if(f->st, &mine, v, &err), HD_OK);
    theirs.timeout_ms = 7000;
    assert_int_equal(store_site_update_if(b, &theirs, v, &err), HD_CHANGED);
    assert_non_null(strstr(err.msg, "changed by someone else"));
    assert_int_equal(store_site_get(b, f->site_a, &got, &err), HD_OK);
    assert_int_equal(got.timeout_ms, 3000);
    v = got.updated_at;
    assert_true(v > mine.updated_at);
    site_free(&got);

    /* Both read v; the first's edit is open when the second saves. */
    theirs.updated_at = v;
    assert_int_equal(store_tx_begin(f->st, &err), HD_OK);
    mine.max_in_flight = 2;
    assert_int_equal(store_site_update_if(f->st, &mine, v, &err), HD_OK);
    blocked_call c = { .st = b, .sites = &theirs, .nsites = 1, .expected = v };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, blocked_call_run, &c), 0);
    tu_sleep_ms(300);
    assert_false(blocked_call_done(&c));   /* waits on the row's lock */
    assert_int_equal(store_tx_commit(f->st, &err), HD_OK);
    pthread_join(t, NULL);
    assert_int_equal(c.rc, HD_CHANGED);
    assert_int_equal(store_site_get(f->st, f->site_a, &got, &err), HD_OK);
    assert_int_equal(got.max_in_flight, 2);
    assert_int_equal(got.timeout_ms, 3000);
    /* On the version it now has, the second's save goes through. */
    assert_int_equal(store_site_update_if(b, &theirs, got.updated_at, &err), HD_OK);
    site_free(&got);
    assert_int_equal(store_site_get(f->st, f->site_a, &got, &err), HD_OK);
    assert_int_equal(got.timeout_ms, 7000);
    site_free(&got);
    site_free(&mine);
    site_free(&theirs);
    store_close(b);
}

/* The counts of the Sites screen and the header, with rows written behind
 * the store's back: pending per site and the last 100 attempts through the
 * indexes; status counts and attempts per second summed over shards. */
static void test_pg_counts_sum_shards(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    char sql[1024];
    /* alpha: 2 Queued, 1 Resent, 1 Done, 1 Failed; beta: 1 Done. */
    snprintf(sql, sizeof sql,
             "INSERT INTO messages(webhook_id, site_id, action, status, created_at, updated_at)"
             " SELECT 'w' || g, CASE WHEN g = 6 THEN %lld ELSE %lld END, 'x',"
             "  (ARRAY[0, 0, 1, 2, 3, 2])[g], 1, 1 FROM generate_series(1, 6) g",
             (long long)f->site_b, (long long)f->site_a);
    pg_raw(f->path, sql);
    /* 150 attempts of alpha, the oldest 80 and every 5th after them 2xx,
     * some with no response code; 10 of beta, all 2xx. */
    snprintf(sql, sizeof sql,
             "INSERT INTO attempts(message_id, site_id, number, started_at, response_code)"
             " SELECT (SELECT min(id) FROM messages), %lld, g, g,"
             "  CASE WHEN g <= 50 THEN 200 WHEN g <= 80 THEN 204 WHEN g %% 5 = 0 THEN 299"
             "  WHEN g %% 7 = 0 THEN NULL ELSE 500 END FROM generate_series(1, 150) g;"
             "INSERT INTO attempts(message_id, site_id, number, started_at, response_code)"
             " SELECT (SELECT min(id) FROM messages), %lld, g, g, 201"
             " FROM generate_series(1, 10) g",
             (long long)f->site_a, (long long)f->site_b);
    pg_raw(f->path, sql);
    site_stats_list l;
    assert_int_equal(store_sites_list(f->st, &l, &err), HD_OK);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.items[0].s.name, "alpha");
    assert_int_equal(l.items[0].pending, 3);
    assert_int_equal(l.items[0].recent_total, 100);
    /* The newest 100 are 51..150: 30 of 51..80, and 85, 90, ..., 150. */
    assert_int_equal(l.items[0].recent_ok, 44);
    assert_int_equal(l.items[1].pending, 0);
    assert_int_equal(l.items[1].recent_total, 10);
    assert_int_equal(l.items[1].recent_ok, 10);
    site_stats_list_free(&l);

    /* Status changes from other connections land in other shards. */
    pg_raw(f->path, "UPDATE messages SET status = 3 WHERE webhook_id = 'w1'");
    pg_raw(f->path, "DELETE FROM messages WHERE webhook_id = 'w4'");
    pg_raw(f->path, "UPDATE status_counts SET n = n + 5 WHERE status = 2 AND shard = 3;"
                    "UPDATE status_counts SET n = n - 5 WHERE status = 2 AND shard = 6");
    int64_t c[MSG_STATUS_COUNT];
    assert_int_equal(store_status_counts(f->st, c, &err), HD_OK);
    assert_int_equal(c[MSG_QUEUED], 1);
    assert_int_equal(c[MSG_RESENT], 1);
    assert_int_equal(c[MSG_DONE], 1);
    assert_int_equal(c[MSG_FAILED], 2);

    /* One second counted in three shards, the one before in one. */
    int64_t now = (hd_now_ms() / 1000) * 1000 + 900;
    int64_t sec = now / 1000;
    snprintf(sql, sizeof sql,
             "INSERT INTO attempt_seconds(second, shard, n) VALUES"
             " (%lld, 0, 2), (%lld, 5, 3), (%lld, 7, 1), (%lld, 2, 4), (%lld, 1, 9)",
             (long long)sec, (long long)sec, (long long)sec, (long long)(sec - 1),
             (long long)(sec - 10));
    pg_raw(f->path, sql);
    uint32_t h[3];
    assert_int_equal(store_attempt_histogram(f->st, now, 1000, 3, h, &err), HD_OK);
    assert_int_equal(h[2], 6);
    assert_int_equal(h[1], 4);
    assert_int_equal(h[0], 0);

    /* Deleting alpha fails its pending two (w2 Queued, w3 Resent), leaves
     * the rest, and the counters follow. */
    assert_int_equal(store_site_delete(f->st, f->site_a, &err), HD_OK);
    assert_int_equal(pg_raw_i64(f->path, "SELECT count(*) FROM messages WHERE status = 3 AND "
                                         "last_error = 'site deleted' AND due_at IS NULL AND "
                                         "webhook_id IN ('w2', 'w3')"), 2);
    assert_int_equal(pg_raw_i64(f->path, "SELECT count(*) FROM messages WHERE last_error = "
                                         "'site deleted'"), 2);
    assert_int_equal(store_status_counts(f->st, c, &err), HD_OK);
    assert_int_equal(c[MSG_QUEUED] + c[MSG_RESENT], 0);
    assert_int_equal(c[MSG_DONE], 1);
    assert_int_equal(c[MSG_FAILED], 4);
    assert_int_equal(store_sites_list(f->st, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0].s.name, "beta");
    site_stats_list_free(&l);
}

/* Engines on several hosts beat at once, and one host's clock may be an
 * hour ahead: a beat's clean-up skips a row another engine is writing (it
 * is alive) instead of waiting for it, or deadlocking with it. */
static void test_pg_engine_beats_do_not_wait(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    store *b = open_second(f);
    int64_t now = hd_now_ms();
    char oa[] = "h1:10:aa", ob[] = "h2:20:bb", h1[] = "h1", h2[] = "h2", serve[] = "serve";
    engine_beat ea = { .owner = oa, .host = h1, .pid = 10, .role = serve, .started_at = now,
                       .seen_at = now };
    engine_beat eb = { .owner = ob, .host = h2, .pid = 20, .role = serve, .started_at = now,
                       .seen_at = now + 2 * 3600000 };
    assert_int_equal(store_engine_beat(f->st, &ea, &err), HD_OK);
    assert_int_equal(store_tx_begin(f->st, &err), HD_OK);
    assert_int_equal(store_engine_beat(f->st, &ea, &err), HD_OK);   /* a's row locked */
    int64_t t0 = hd_now_ms();
    assert_int_equal(store_engine_beat(b, &eb, &err), HD_OK);
    assert_true(hd_now_ms() - t0 < 2000);   /* lock_timeout is 5 s */
    assert_int_equal(store_tx_commit(f->st, &err), HD_OK);
    engine_beat_list l;
    assert_int_equal(store_engines_alive(b, 0, &l, &err), HD_OK);
    assert_int_equal(l.count, 2);
    engine_beat_list_free(&l);
    /* Unlocked, the row an hour behind goes with the next beat. */
    assert_int_equal(store_engine_beat(b, &eb, &err), HD_OK);
    assert_int_equal(store_engines_alive(b, 0, &l, &err), HD_OK);
    assert_int_equal(l.count, 1);
    assert_string_equal(l.items[0].owner, "h2:20:bb");
    engine_beat_list_free(&l);
    store_close(b);
}

/* store_messages_count_upto: the console's "row N of M", on both backends:
 * exact below the cap, capped with *more above it, newer_than as a bound,
 * with and without filters. */
static void test_count_upto(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t ids[30];
    for (int i = 0; i < 30; i++)
        ids[i] = add_msg(f->st, i % 2 ? f->site_a : f->site_b, i % 3 ? "order.created" : "refund",
                         i % 5 ? "cus_1" : "cus_2");
    int64_t n = -1;
    bool more = true;
    msg_filter any = { 0 };
    assert_int_equal(store_messages_count_upto(f->st, &any, 0, 0, &n, &more, &err), HD_OK);
    assert_int_equal(n, 30);
    assert_false(more);
    assert_int_equal(store_messages_count_upto(f->st, &any, ids[9], 0, &n, &more, &err), HD_OK);
    assert_int_equal(n, 20);
    assert_int_equal(store_messages_count_upto(f->st, &any, ids[9], 5, &n, &more, &err), HD_OK);
    assert_int_equal(n, 5);
    assert_true(more);
    assert_int_equal(store_messages_count_upto(f->st, &any, ids[9], 20, &n, &more, &err), HD_OK);
    assert_int_equal(n, 20);
    assert_false(more);
    msg_filter of_site = { .site_id = f->site_a, .status_mask = MSG_STATUS_BIT(MSG_QUEUED) };
    assert_int_equal(store_messages_count_upto(f->st, &of_site, ids[9], 0, &n, &more, &err), HD_OK);
    assert_int_equal(n, 10);
    msg_filter cust = { .customer = "cus_2", .action_text = "REF" };
    assert_int_equal(store_messages_count_upto(f->st, &cust, 0, 0, &n, &more, &err), HD_OK);
    assert_int_equal(n, 2);   /* i = 0 and 15 */
    msg_filter status = { .status_mask = MSG_PENDING_MASK };
    assert_int_equal(store_messages_count_upto(f->st, &status, 0, 3, &n, &more, &err), HD_OK);
    assert_int_equal(n, 30);   /* the counters: exact, whatever the cap */
}


/* ---- search (issue #11: the customer and the payload as well as the action) ---- */

static int64_t add_msg_payload(store *st, int64_t site_id, const char *action,
                               const char *customer, const char *payload)
{
    new_message nm = { .site_id = site_id, .action = action, .customer = customer,
                       .payload = payload };
    int64_t id = 0;
    hd_error err = { 0 };
    if (store_message_add(st, &nm, &id, &err) != HD_OK)
        fail_msg("store_message_add: %s", err.msg);
    return id;
}

/* Runs index steps until the index has caught up (PostgreSQL needs a step
 * to prove the newest ids final before one indexes them). */
static void index_all(store *st)
{
    hd_error err = { 0 };
    for (int i = 0; i < 50; i++) {
        int64_t upto = 0, newest = 0, n = 0;
        bool complete = false;
        assert_int_equal(store_search_index_step(st, 1000, &n, &err), HD_OK);
        assert_int_equal(store_search_progress(st, &upto, &newest, &complete, &err), HD_OK);
        if (upto >= newest)
            return;
        tu_sleep_ms(2);
    }
    fail_msg("the search index did not catch up");
}

static int64_t search_next(store *st, const msg_filter *f, const char *text, int64_t from,
                           bool older)
{
    hd_error err = { 0 };
    int64_t id = -1;
    if (store_search_next(st, f, text, from, older, &id, &err) != HD_OK)
        fail_msg("store_search_next %s: %s", text, err.msg);
    return id;
}

/* Every match of text under f, newest first, walked with store_search_next
 * (the console's n), into ids; returns how many. */
static int search_all(store *st, const msg_filter *f, const char *text, int64_t *ids, int max)
{
    int n = 0;
    int64_t from = 0;
    while (n < max && (from = search_next(st, f, text, from, true)) != 0)
        ids[n++] = from;
    return n;
}

/* What a search finds, before the index holds anything (the tail scan)
 * and after (the index): the same messages, whichever field holds the
 * word, a word's start in any ASCII case, every word of the text. */
static void check_search_finds(const fixture *f, const int64_t id[4])
{
    int64_t got[8];
    msg_filter any = { 0 };
    /* In the customer (cus_7731: its words are cus and 7731). */
    assert_int_equal(search_all(f->st, &any, "7731", got, 8), 1);
    assert_int_equal(got[0], id[1]);
    assert_int_equal(search_all(f->st, &any, "cus_77", got, 8), 1);
    /* In the payload, any case, a word's start. */
    assert_int_equal(search_all(f->st, &any, "ZEBRA", got, 8), 2);
    assert_int_equal(got[0], id[3]);
    assert_int_equal(got[1], id[0]);
    assert_int_equal(search_all(f->st, &any, "zeb", got, 8), 2);
    /* In the action; "invoice.paid" is two words. */
    assert_int_equal(search_all(f->st, &any, "invoice", got, 8), 2);
    assert_int_equal(search_all(f->st, &any, "invoice.paid", got, 8), 1);
    assert_int_equal(got[0], id[2]);
    /* Every word must be there, in any field. */
    assert_int_equal(search_all(f->st, &any, "zebra 7731", got, 8), 0);
    assert_int_equal(search_all(f->st, &any, "zebra order", got, 8), 1);
    assert_int_equal(got[0], id[0]);
    /* Not inside a word: words and their starts, not substrings; one
     * character is a whole word ("n" is a key of every payload here, "z"
     * begins zebra but is no word of its own). */
    assert_int_equal(search_all(f->st, &any, "ebra", got, 8), 0);
    assert_int_equal(search_all(f->st, &any, "z", got, 8), 0);
    assert_int_equal(search_all(f->st, &any, "N 2", got, 8), 1);
    assert_int_equal(got[0], id[1]);
    /* Under a filter; n and N from a message. */
    msg_filter beta = { .site_id = f->site_b };
    assert_int_equal(search_all(f->st, &beta, "zebra", got, 8), 1);
    assert_int_equal(got[0], id[3]);
    assert_int_equal(search_next(f->st, &any, "zebra", id[3], true), id[0]);
    assert_int_equal(search_next(f->st, &any, "zebra", id[0], true), 0);
    assert_int_equal(search_next(f->st, &any, "zebra", id[0], false), id[3]);
    assert_int_equal(search_next(f->st, &any, "zebra", id[3], false), 0);
    assert_int_equal(search_next(f->st, &any, "zebra", 0, false), id[0]);
    int64_t n = -1;
    bool more = true;
    hd_error err = { 0 };
    assert_int_equal(store_search_count(f->st, &any, "zebra", 0, 0, &n, &more, &err), HD_OK);
    assert_int_equal(n, 2);
    assert_false(more);
    assert_int_equal(store_search_count(f->st, &any, "zebra", id[0], 0, &n, &more, &err), HD_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_search_count(f->st, &any, "zebra", 0, 1, &n, &more, &err), HD_OK);
    assert_int_equal(n, 1);
    assert_true(more);
}

static void test_search_customer_payload_action(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t id[4];
    id[0] = add_msg_payload(f->st, f->site_a, "order.created", "cus_1",
                            "{\"animal\":\"Zebra\",\"n\":1}");
    id[1] = add_msg_payload(f->st, f->site_a, "refund", "cus_7731", "{\"n\":2}");
    id[2] = add_msg_payload(f->st, f->site_a, "invoice.paid", NULL, "{\"n\":3}");
    id[3] = add_msg_payload(f->st, f->site_b, "invoice.sent", "cus_2",
                            "{\"note\":\"zebras, lions\"}");
    /* Nothing indexed yet: found by the scan of the newest messages. */
    int64_t upto = -1, newest = 0;
    bool complete = false;
    assert_int_equal(store_search_progress(f->st, &upto, &newest, &complete, &err), HD_OK);
    assert_int_equal(upto, 0);
    assert_int_equal(newest, id[3]);
    assert_true(complete);
    check_search_finds(f, id);
    /* The same once indexed. */
    index_all(f->st);
    assert_int_equal(store_search_progress(f->st, &upto, &newest, &complete, &err), HD_OK);
    assert_int_equal(upto, id[3]);
    check_search_finds(f, id);
    /* A message added after the index caught up is found at once. */
    int64_t fresh = add_msg_payload(f->st, f->site_a, "late", "cus_3", "{\"a\":\"zebra\"}");
    assert_int_equal(search_next(f->st, NULL, "zebra", 0, true), fresh);
    assert_int_equal(search_next(f->st, NULL, "zebra", fresh, true), id[3]);
    /* A text without a word is refused, naming the field. */
    int64_t none = 0;
    assert_int_equal(store_search_next(f->st, NULL, " .-_ ", 0, true, &none, &err), HD_INVALID);
    assert_string_equal(err.field, "search");
}

/* SQLite: with a budget (the console's), a search whose word matches
 * many messages the filter leaves out stops with HD_BUSY ("search")
 * instead of walking them all; without one it walks them and finds none. */
static void test_search_budget(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    assert_int_equal(store_tx_begin(f->st, &err), HD_OK);
    for (int i = 0; i < 600; i++)
        add_msg_payload(f->st, f->site_a, "order.created", NULL, "{\"n\":1}");
    assert_int_equal(store_tx_commit(f->st, &err), HD_OK);
    index_all(f->st);
    msg_filter failed = { .status_mask = MSG_STATUS_BIT(MSG_FAILED) };
    int64_t id = -1;
    hd_status rc = store_search_next(f->st, &failed, "order", 0, true, &id, &err);
    if (rc != HD_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(id, 0);
    store_set_search_budget(f->st, 1000);   /* checked every 1000 steps */
    assert_int_equal(store_search_next(f->st, &failed, "order", 0, true, &id, &err), HD_BUSY);
    assert_string_equal(err.field, "search");
    assert_non_null(strstr(err.msg, "add a word"));
    /* A search the budget allows still finds. */
    msg_filter any = { 0 };
    assert_int_equal(store_search_next(f->st, &any, "order", 0, true, &id, &err), HD_OK);
    assert_true(id > 0);
    store_set_search_budget(f->st, 0);
}

/* The index step: max_rows at a time, the watermark on the last one, no
 * write once caught up; a second connection sees the same index. */
static void test_search_index_step_watermark(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t id[5];
    for (int i = 0; i < 5; i++)
        id[i] = add_msg_payload(f->st, f->site_a, "step", NULL, "{\"word\":\"quokka\"}");
    int64_t n = -1, upto = -1, newest = 0, total = 0;
    bool complete = false;
    for (int i = 0; i < 50 && total < 2; i++) {
        assert_int_equal(store_search_index_step(f->st, 2, &n, &err), HD_OK);
        total += n;
        if (total == 0)
            tu_sleep_ms(2);
    }
    assert_int_equal(total, 2);
    assert_int_equal(store_search_progress(f->st, &upto, &newest, &complete, &err), HD_OK);
    assert_int_equal(upto, id[1]);
    assert_int_equal(newest, id[4]);
    int64_t indexed = 0;
    assert_int_equal(store_debug_search_indexed(f->st, "quokka", &indexed, &err), HD_OK);
    assert_int_equal(indexed, 2);
    /* Found whether indexed or not. */
    int64_t got[8];
    assert_int_equal(search_all(f->st, NULL, "quokka", got, 8), 5);
    index_all(f->st);
    assert_int_equal(store_search_progress(f->st, &upto, &newest, &complete, &err), HD_OK);
    assert_int_equal(upto, id[4]);
    assert_int_equal(store_debug_search_indexed(f->st, "quokka", &indexed, &err), HD_OK);
    assert_int_equal(indexed, 5);
    /* Caught up: a step writes nothing (the change counter stays). */
    uint64_t cc = store_change_counter(f->st);
    assert_int_equal(store_search_index_step(f->st, 100, &n, &err), HD_OK);
    assert_int_equal(n, 0);
    assert_true(store_change_counter(f->st) == cc);
    store *other = open_second(f);
    assert_int_equal(store_search_index_step(other, 100, &n, &err), HD_OK);
    assert_int_equal(n, 0);
    assert_int_equal(search_all(other, NULL, "quokka", got, 8), 5);
    store_close(other);
}

/* Purged messages leave the index; when every message went, the next one
 * (SQLite gives it a used id again) is found all the same. */
static void test_search_purge_leaves_index(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    int64_t id[3];
    for (int i = 0; i < 3; i++)
        id[i] = add_msg_payload(f->st, f->site_a, "purged", NULL, "{\"w\":\"wombat\"}");
    message_list l;
    assert_int_equal(store_claim(f->st, "A", hd_now_ms() + 5, 0, 10, &l, &err), HD_OK);
    assert_int_equal(l.count, 3);
    message_list_free(&l);
    attempt_outcome o[3] = { outcome(id[0], 1, 200, MSG_DONE, 0),
                             outcome(id[1], 1, 200, MSG_DONE, 0),
                             outcome(id[2], 1, 200, MSG_DONE, 0) };
    assert_int_equal(store_record_outcomes(f->st, "A", o, 3, &err), HD_OK);
    index_all(f->st);
    int64_t indexed = 0, deleted = 0;
    assert_int_equal(store_debug_search_indexed(f->st, "wombat", &indexed, &err), HD_OK);
    assert_int_equal(indexed, 3);
    tu_sleep_ms(3);
    assert_int_equal(store_purge_chunk(f->st, hd_now_ms(), 100, &deleted, &err), HD_OK);
    assert_int_equal(deleted, 3);
    assert_int_equal(store_debug_search_indexed(f->st, "wombat", &indexed, &err), HD_OK);
    assert_int_equal(indexed, 0);
    int64_t got[4];
    assert_int_equal(search_all(f->st, NULL, "wombat", got, 4), 0);
    int64_t again = add_msg_payload(f->st, f->site_a, "again", NULL, "{\"w\":\"wombat\"}");
    assert_int_equal(search_all(f->st, NULL, "wombat", got, 4), 1);
    assert_int_equal(got[0], again);
    index_all(f->st);
    assert_int_equal(search_all(f->st, NULL, "wombat", got, 4), 1);
    assert_int_equal(store_debug_search_indexed(f->st, "wombat", &indexed, &err), HD_OK);
    assert_int_equal(indexed, 1);
}

/* Schema 8 added search: a schema-5 database opens without indexing
 * anything (the index starts empty, watermark 0), its messages are found
 * by the tail scan at once and by the index once the steps filled it. */
static void test_migration_adds_search(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    char *path = hd_xasprintf("%s/v5.db", dir);
    hd_error err = { 0 };
    assert_int_equal(store_debug_create_at_version(path, 5, &err), HD_OK);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
        "INSERT INTO sites(id, name, url, created_at, updated_at) "
        "  VALUES (1, 'one', 'https://example.com/', 1, 1);"
        "INSERT INTO messages(id, webhook_id, site_id, action, customer, status, "
        "  attempts, created_at, updated_at) VALUES "
        "  (7, 'msg_a', 1, 'order.paid', 'c1', 2, 1, 1000, 2000),"
        "  (8, 'msg_b', 1, 'order.sent', 'cus_okapi', 2, 1, 1000, 1000);"
        "INSERT INTO payloads(message_id, payload) VALUES (7, '{\"okapi\":1}'), (8, '{}');",
        NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    store *st = NULL;
    assert_int_equal(store_open(path, NULL, &st, &err), HD_OK);
    assert_int_equal(store_schema_version(st), 8);
    int64_t upto = -1, newest = 0, n = 0;
    bool complete = false;
    assert_int_equal(store_search_progress(st, &upto, &newest, &complete, &err), HD_OK);
    assert_int_equal(upto, 0);
    assert_int_equal(newest, 8);
    int64_t got[4];
    assert_int_equal(search_all(st, NULL, "okapi", got, 4), 2);
    assert_int_equal(store_search_index_step(st, 10, &n, &err), HD_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_search_progress(st, &upto, &newest, &complete, &err), HD_OK);
    assert_int_equal(upto, 8);
    assert_int_equal(search_all(st, NULL, "okapi", got, 4), 2);
    assert_int_equal(got[0], 8);
    assert_int_equal(got[1], 7);
    store_close(st);
    tu_rmdir(dir);
    free(path);
    free(dir);
}

/* PostgreSQL: a row another transaction holds past the connection's lock
 * timeout (busy_timeout_ms) is HD_BUSY, as SQLite's busy lock is, so the
 * console retries it and the engine does not count it as a fault. */
static void test_pg_lock_timeout_is_busy(void **state)
{
    fixture *f = *state;
    hd_error err = { 0 };
    store *quick = NULL;
    store_options o = { .busy_timeout_ms = 100 };
    assert_int_equal(store_open(f->path, &o, &quick, &err), HD_OK);
    assert_int_equal(store_tx_begin(f->st, &err), HD_OK);
    assert_int_equal(store_site_set_enabled(f->st, f->site_a, false, &err), HD_OK);
    int64_t t0 = hd_mono_ms();
    assert_int_equal(store_site_set_enabled(quick, f->site_a, true, &err), HD_BUSY);
    int64_t waited = hd_mono_ms() - t0;
    assert_true(waited >= 90 && waited < 3000);
    assert_non_null(strstr(err.msg, "lock timeout"));
    assert_int_equal(store_tx_commit(f->st, &err), HD_OK);
    /* Once the lock is gone the same write goes through. */
    assert_int_equal(store_site_set_enabled(quick, f->site_a, true, &err), HD_OK);
    site s;
    assert_int_equal(store_site_get(f->st, f->site_a, &s, &err), HD_OK);
    assert_true(s.enabled);
    site_free(&s);
    store_close(quick);
}

int main(int argc, char **argv)
{
    self_path = argv[0];
    if (argc == 4 && strcmp(argv[1], "--open-close") == 0)
        return open_close_main(argv[2], argv[3]);
    /* The store's contract, run on both backends (tests/run.sh runs this
     * binary again with HD_TEST_BACKEND=pg). */
    const struct CMUnitTest both[] = {
        cmocka_unit_test_setup_teardown(test_site_secret_headers_stored, setup, teardown),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test_setup_teardown(test_sites_roundtrip_and_validation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_site_delete_fails_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_site_delete_beats_late_outcome, setup, teardown),
        cmocka_unit_test_setup_teardown(test_site_update_if_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seed_only_into_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_message_add_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_directions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_action_search_many_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_action_search_odd_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_upto, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keyset_stable_under_inserts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_counters_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_two_connections_disjoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_fields_and_lease_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paused_site_not_claimed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_outcomes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lost_lease_leaves_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caller_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_counter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resend_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resend_failed_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resend_failed_two_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_now_and_cancel_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_waits_for_a_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_old_finished_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sites_list_stats_and_histogram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_site_pending_counts_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_heartbeats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_by_webhook_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_customer_payload_action, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_index_step_watermark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_purge_leaves_index, setup, teardown),
    };
    /* What only the SQLite backend has: its file, its migrations from older
     * versions, its locking and its query plans. */
    const struct CMUnitTest sqlite_only[] = {
        cmocka_unit_test(test_open_makes_existing_files_private),
        cmocka_unit_test(test_open_refuses_foreign_files),
        cmocka_unit_test(test_open_creates_private_file),
        cmocka_unit_test(test_migration_moves_payloads),
        cmocka_unit_test(test_migration_keeps_leases),
        cmocka_unit_test_setup_teardown(test_claim_cursor_sweeps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_budget, setup, teardown),
        cmocka_unit_test(test_migration_counts_site_pending),
        cmocka_unit_test(test_migration_adds_search),
        cmocka_unit_test_setup_teardown(test_same_process_stores_keep_locks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_committer_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locked_database_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_plans_use_indexes, setup, teardown),
    };
    /* What only PostgreSQL has: several connections writing at once, shards. */
    const struct CMUnitTest pg_only[] = {
        cmocka_unit_test(test_pg_seed_two_connections_at_once),
        cmocka_unit_test_setup_teardown(test_pg_update_if_stale_second_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_counts_sum_shards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_engine_beats_do_not_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pg_lock_timeout_is_busy, setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("store (both backends)", both, NULL, NULL);
    if (!tu_backend_pg())
        failed += cmocka_run_group_tests_name("store (SQLite)", sqlite_only, NULL, NULL);
    else
        failed += cmocka_run_group_tests_name("store (PostgreSQL)", pg_only, NULL, NULL);
    return failed;
}
