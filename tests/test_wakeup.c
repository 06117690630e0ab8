/* test_wakeup.c - db_watch: another connection's commit to a real WAL
 * database wakes the watcher at once; unrelated files in the same directory
 * do not; the -wal file coming and going does not lose the watch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hd_site.h"
#include "hd_store.h"
#include "hd_util.h"
#include "hd_wakeup.h"
#include "testutil.h"

typedef struct fixture {
    char *dir;      /* temporary directory */
    char *path;     /* dir/hookdesk.db */
    store *a;       /* the engine's connection (say) */
    store *b;       /* another process's connection */
    int64_t site;   /* a site for the messages */
} fixture;

static const store_options fast_opts = { .synchronous_full = false, .busy_timeout_ms = 5000 };

static store *open_store(const char *path)
{
    store *st = NULL;
    hd_error err = { 0 };
    if (store_open(path, &fast_opts, &st, &err) != HD_OK)
        fail_msg("store_open %s: %s", path, err.msg);
    return st;
}

static int setup(void **state)
{
    fixture *f = hd_xcalloc(1, sizeof *f);
    f->dir = tu_tempdir();
    f->path = hd_xasprintf("%s/hookdesk.db", f->dir);
    f->a = open_store(f->path);
    f->b = open_store(f->path);
    site s;
    site_init(&s);
    s.name = hd_xstrdup("alpha");
    s.url = hd_xstrdup("https://example.com/hooks");
    hd_error err = { 0 };
    if (store_site_add(f->a, &s, &f->site, &err) != HD_OK)
        fail_msg("store_site_add: %s", err.msg);
    site_free(&s);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    store_close(f->a);
    store_close(f->b);
    tu_rmdir(f->dir);
    free(f->dir);
    free(f->path);
    free(f);
    return 0;
}

static void add_message(store *st, int64_t site_id)
{
    new_message nm = { .site_id = site_id, .action = "invoice.paid", .payload = "{\"n\":1}" };
    hd_error err = { 0 };
    if (store_message_add(st, &nm, NULL, &err) != HD_OK)
        fail_msg("store_message_add: %s", err.msg);
}

/* poll() for POLLIN on the watch's descriptor. */
static bool readable(const db_watch *w, int timeout_ms)
{
    struct pollfd p = { .fd = db_watch_fd(w), .events = POLLIN };
    int n = poll(&p, 1, timeout_ms);
    return n == 1 && (p.revents & POLLIN);
}

static db_watch *watch(const char *path)
{
    db_watch *w = NULL;
    hd_error err = { 0 };
    if (db_watch_open(path, &w, &err) != HD_OK)
        fail_msg("db_watch_open %s: %s", path, err.msg);
    assert_non_null(w);
    assert_true(db_watch_fd(w) >= 0);
    return w;
}

/* Writes text to dir/name with plain write(2) (create, modify, close). */
static void write_file(const char *dir, const char *name, const char *text)
{
    char *p = hd_xasprintf("%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_APPEND, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    free(p);
}

/* The acceptance test of issue #8: a commit from another connection. */
static void test_commit_wakes(void **state)
{
    fixture *f = *state;
    db_watch *w = watch(f->path);
    /* Nothing happened since the watch began. */
    assert_false(readable(w, 0));
    assert_false(db_watch_changed(w));

    add_message(f->b, f->site);
    assert_true(readable(w, 2000));
    assert_true(db_watch_changed(w));
    /* Drained: nothing more until the next commit. */
    assert_false(db_watch_changed(w));
    assert_false(readable(w, 0));

    /* Again, and a burst of commits is one wake-up. */
    for (int i = 0; i < 5; i++)
        add_message(f->b, f->site);
    assert_true(readable(w, 2000));
    assert_true(db_watch_changed(w));
    assert_false(db_watch_changed(w));

    /* The watcher's own connection commits too (harmless, but seen). */
    add_message(f->a, f->site);
    assert_true(readable(w, 2000));
    assert_true(db_watch_changed(w));
    db_watch_close(w);
}

static void test_unrelated_files(void **state)
{
    fixture *f = *state;
    db_watch *w = watch(f->path);
    write_file(f->dir, "other.txt", "hello\n");
    write_file(f->dir, "hookdesk.db.bak", "x");
    write_file(f->dir, "hookdesk.db-walrus", "x");
    write_file(f->dir, "xhookdesk.db", "x");
    write_file(f->dir, "hookdesk", "x");
    /* The events arrive (the descriptor wakes) but are not about the database. */
    assert_true(readable(w, 2000));
    assert_false(db_watch_changed(w));
    assert_false(readable(w, 0));
    /* And the database still counts afterwards. */
    add_message(f->b, f->site);
    assert_true(readable(w, 2000));
    assert_true(db_watch_changed(w));
    db_watch_close(w);
}

/* The -wal file goes away when the last connection closes and comes back
 * with the next one: a watch on the directory survives that. */
static void test_wal_recreated(void **state)
{
    fixture *f = *state;
    db_watch *w = watch(f->path);
    char *wal = hd_xasprintf("%s-wal", f->path);
    store_close(f->a);
    store_close(f->b);
    f->a = f->b = NULL;
    assert_int_equal(access(wal, F_OK), -1);   /* removed by the last close */
    (void)db_watch_changed(w);                 /* the closes themselves may count */
    assert_false(db_watch_changed(w));

    f->b = open_store(f->path);
    add_message(f->b, f->site);
    assert_int_equal(access(wal, F_OK), 0);
    assert_true(readable(w, 2000));
    assert_true(db_watch_changed(w));
    f->a = open_store(f->path);
    free(wal);
    db_watch_close(w);
}

/* "hookdesk.db" is the current directory's; symbolic links are followed. */
static void test_relative_and_symlink(void **state)
{
    fixture *f = *state;
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(f->dir), 0);
    db_watch *rel = NULL;
    hd_error err = { 0 };
    hd_status rc = db_watch_open("hookdesk.db", &rel, &err);
    assert_int_equal(chdir(cwd), 0);   /* before any assertion can leave */
    if (rc != HD_OK)
        fail_msg("db_watch_open relative: %s", err.msg);

    char *other = tu_tempdir();
    char *link = hd_xasprintf("%s/link.db", other);
    assert_int_equal(symlink(f->path, link), 0);
    db_watch *viall = watch(link);

    add_message(f->b, f->site);
    assert_true(readable(rel, 2000));
    assert_true(db_watch_changed(rel));
    assert_true(readable(viall, 2000));
    assert_true(db_watch_changed(viall));

    /* A database not created yet: its directory is watched already. */
    char *later = hd_xasprintf("%s/later.db", other);
    db_watch *fresh = watch(later);
    store *st = open_store(later);
    assert_true(readable(fresh, 2000));
    assert_true(db_watch_changed(fresh));
    store_close(st);

    db_watch_close(rel);
    db_watch_close(viall);
    db_watch_close(fresh);
    tu_rmdir(other);
    free(other);
    free(link);
    free(later);
}

static void test_errors(void **state)
{
    fixture *f = *state;
    db_watch *w = (db_watch *)&w;   /* must be reset to NULL */
    hd_error err = { 0 };
    char *missing = hd_xasprintf("%s/no/such/dir/x.db", f->dir);
    assert_int_equal(db_watch_open(missing, &w, &err), HD_IO);
    assert_null(w);
    assert_non_null(strstr(err.msg, "no/such/dir"));
    free(missing);

    assert_int_equal(db_watch_open(":memory:", &w, &err), HD_INVALID);
    assert_null(w);
    assert_int_equal(db_watch_open("", &w, &err), HD_INVALID);
    assert_int_equal(db_watch_open(NULL, &w, &err), HD_INVALID);
    char *slash = hd_xasprintf("%s/", f->dir);
    assert_int_equal(db_watch_open(slash, &w, &err), HD_INVALID);
    free(slash);
    /* A file where the directory should be. */
    write_file(f->dir, "plain", "x");
    char *under_file = hd_xasprintf("%s/plain/x.db", f->dir);
    assert_int_equal(db_watch_open(under_file, &w, NULL), HD_IO);
    assert_null(w);
    free(under_file);

    /* NULL is a watch that never fires. */
    assert_int_equal(db_watch_fd(NULL), -1);
    assert_false(db_watch_changed(NULL));
    db_watch_close(NULL);
}

/* The descriptor is non-blocking and close-on-exec. */
static void test_fd_flags(void **state)
{
    fixture *f = *state;
    db_watch *w = watch(f->path);
    int fd = db_watch_fd(w);
    assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    db_watch_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_wakes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unrelated_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wal_recreated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_and_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fd_flags, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
