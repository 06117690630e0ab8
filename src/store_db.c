/* store_db.c - opening and closing the SQLite store: the file's owner and
 * mode, WAL and the connection's pragmas, the schema (store_schema.c).
 * See store_stmt.c for how a connection is used.
 */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_BUSY_TIMEOUT_MS 5000

/* ---- who may own the files (issue #10: secrets) ----
 *
 * The database and its -wal/-shm/-journal files hold every site secret in
 * clear text, so a read-write store_open uses them only when they belong to
 * this user (effective uid) and have mode 0600: a wider mode of our own file
 * is narrowed, a file owned by someone else (a pre-made 0666 -wal in a
 * shared directory) or one whose mode cannot be changed is refused with a
 * message that names it and says what to do.
 *
 * The check is made on what SQLite actually opened, not on a path looked at
 * beforehand: the unix VFS lets its open() be replaced (xSetSystemCall), and
 * guarded_open runs fstat/fchmod on the new descriptor before SQLite ever
 * reads or writes it.  It only acts in a thread inside a read-write
 * sq_open (guard.on); every file a connection keeps (database, -wal,
 * -shm) is opened there: the journal_mode and user_version reads open them.
 * Directories, /dev/urandom and other non-regular files are left alone.
 * After the open the same rule is checked once more by path (check_files),
 * for files this connection did not open itself (the -shm is shared by the
 * connections of one process, a -journal may lie around) and for a VFS
 * without xSetSystemCall.  Read-only opens change nothing (no chmod). */

static _Thread_local struct {
    bool on;                 /* a read-write store_open runs in this thread */
    char why[640];           /* the first refusal, "" = none */
} guard;

typedef int (*open_fn)(const char *, int, int);
static open_fn real_open;    /* SQLite's open() before ours; set once */
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

/* "nobody, uid 65534" */
static void describe_user(uid_t uid, char *out, size_t len)
{
    struct passwd pw, *found = NULL;
    char buf[1024];
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found && found->pw_name)
        snprintf(out, len, "%s, uid %u", found->pw_name, (unsigned)uid);
    else
        snprintf(out, len, "uid %u", (unsigned)uid);
}

/* True when the file (fd >= 0: the open descriptor, else path) is ours with
 * mode 0600 now, narrowing the mode when needed; a path that does not exist
 * and files that are not regular pass.  Else why says what and what to do. */
static bool private_file(const char *path, int fd, char *why, size_t len)
{
    struct stat sb;
    if ((fd >= 0 ? fstat(fd, &sb) : stat(path, &sb)) != 0 || !S_ISREG(sb.st_mode))
        return true;
    uid_t me = geteuid();
    if (sb.st_uid != me) {
        char owner[160], self[160];
        describe_user(sb.st_uid, owner, sizeof owner);
        describe_user(me, self, sizeof self);
        snprintf(why, len,
                 "%s is owned by another user (%s), not by you (%s), mode %04o: hookdesk "
                 "writes site secrets into the database and its -wal/-shm files and uses only "
                 "files you own with mode 0600; if it is yours, chown it to you and chmod 600 "
                 "it, otherwise remove it (with no hookdesk running) or use another database",
                 path, owner, self, (unsigned)(sb.st_mode & 07777));
        return false;
    }
    if ((sb.st_mode & 07777) == 0600)
        return true;
    unsigned was = (unsigned)(sb.st_mode & 07777);
    int rc = fd >= 0 ? fchmod(fd, 0600) : chmod(path, 0600);
    int e = errno;
    if (rc == 0 && (fd >= 0 ? fstat(fd, &sb) : stat(path, &sb)) == 0 &&
        (sb.st_mode & 07777) == 0600)
        return true;
    snprintf(why, len,
             "%s has mode %04o and cannot be made 0600 (%s): hookdesk writes site secrets into "
             "it; chmod 600 it yourself, or keep the database on a writable file system that "
             "keeps Unix file modes",
             path, was, rc != 0 ? strerror(e) : "the mode did not change");
    return false;
}

/* SQLite's open(), checked (see above). */
static int guarded_open(const char *path, int flags, int mode)
{
    int fd = real_open(path, flags, mode);
    if (fd < 0 || !guard.on)
        return fd;
    char why[sizeof guard.why];
    if (private_file(path, fd, why, sizeof why))
        return fd;
    if (!guard.why[0])
        snprintf(guard.why, sizeof guard.why, "%s", why);
    /* Closing drops this process's POSIX locks on the file, but a file
     * refused here was never accepted by another connection of ours. */
    close(fd);
    errno = EACCES;
    return -1;
}

static void guard_install(void)
{
    if (sqlite3_initialize() != SQLITE_OK)
        return;
    sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
    if (!vfs || vfs->iVersion < 3 || !vfs->xGetSystemCall || !vfs->xSetSystemCall)
        return;   /* check_files still checks by path */
    sqlite3_syscall_ptr cur = vfs->xGetSystemCall(vfs, "open");
    if (!cur)
        return;
    real_open = (open_fn)cur;
    if (vfs->xSetSystemCall(vfs, "open", (sqlite3_syscall_ptr)guarded_open) != SQLITE_OK)
        real_open = NULL;
}

/* The database and the side files SQLite makes next to it, by path. */
static hd_status check_files(const char *path, hd_error *err)
{
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char *p = hd_xasprintf("%s%s", path, suffixes[i]);
        char why[sizeof guard.why];
        bool ok = private_file(p, -1, why, sizeof why);
        free(p);
        if (!ok)
            return hd_error_set(err, HD_IO, "database %s: %s", path, why);
    }
    return HD_OK;
}

void sq_global_init(void)
{
    /* SQLite's memory statistics take a global mutex on every allocation
     * (about 50 per delivery in the committer, 5% of its instructions);
     * hookdesk never reads them. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sq_alloc_install();
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                           */

/* Before SQLite opens path.  Read-write: a missing database is created
 * here, and the guard watches every file SQLite opens from now on.
 * Read-only: the file must be readable. */
static hd_status open_prepare_file(const char *path, bool read_only, hd_error *err)
{
    if (read_only) {
        if (access(path, R_OK) != 0)
            return hd_error_set(err, HD_IO, "database %s: cannot open: %s", path,
                                strerror(errno));
        return HD_OK;
    }
    /* Create it ourselves so that it is born 0600 whatever the umask.
     * Only when it does not exist: close() drops every POSIX lock this
     * process holds on the file, including those of a store already
     * open on it in another thread (the console's UI and engine), and
     * another process would then delete the WAL under our feet. */
    struct stat sb;
    if (stat(path, &sb) != 0) {
        int fd = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
        if (fd >= 0)
            close(fd);
        else if (errno != EEXIST)
            return hd_error_set(err, HD_IO, "database %s: cannot create: %s", path,
                                strerror(errno));
    }
    /* Owner and mode of every file SQLite opens from here on. */
    pthread_once(&guard_once, guard_install);
    guard.on = true;
    guard.why[0] = '\0';
    return HD_OK;
}

static hd_status open_wal(sq_store *st, hd_error *err)
{
    /* journal_mode answers with the mode it ended up in. */
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_finalize(s);
        return db_fail(st, err, "setting WAL mode");
    }
    const char *mode = (const char *)sqlite3_column_text(s, 0);
    bool wal = mode && strcasecmp(mode, "wal") == 0;
    sqlite3_finalize(s);
    if (!wal)
        return hd_error_set(err, HD_DB, "database %s: cannot switch to WAL mode", st->path);
    return HD_OK;
}

static hd_status open_pragmas(sq_store *st, const store_options *opt, hd_error *err)
{
    char cache_pragma[48];
    /* PRAGMA takes no bound parameters; the value is an int from the caller. */
    snprintf(cache_pragma, sizeof cache_pragma, "PRAGMA cache_size=-%d",
             opt->cache_kib > 0 ? opt->cache_kib : 65536);
    hd_status rc;
    if ((rc = exec_sql(st, opt->synchronous_full ? "PRAGMA synchronous=FULL"
                                                 : "PRAGMA synchronous=NORMAL", err)) != HD_OK ||
        (rc = exec_sql(st, opt->no_reference_checks ? "PRAGMA foreign_keys=OFF"
                                                    : "PRAGMA foreign_keys=ON", err)) != HD_OK ||
        /* Up to 64 MiB of page cache by default (allocated only as used): a
         * bulk import touches many index pages, and a small cache spills them
         * to the WAL over and over.  A reader that only shows pages asks for
         * less, so a scan of a big table does not grow its memory. */
        (rc = exec_sql(st, cache_pragma, err)) != HD_OK ||
        /* Statement journals (an INSERT that fires the status_counts trigger
         * inside a caller's transaction needs one) stay in memory: on disk
         * they cost ~20 pwrite calls per imported message. */
        (rc = exec_sql(st, "PRAGMA temp_store=MEMORY", err)) != HD_OK)
        return rc;
    { const char *x = getenv("HD_EXP_PRAGMA"); if (x && (rc = exec_sql(st, x, err)) != HD_OK) return rc; }
    return HD_OK;
}

/* Opens st->path and makes the connection ready: pragmas, functions, schema. */
static hd_status open_connection(sq_store *st, const store_options *opt, hd_error *err)
{
    int flags = (opt->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
                SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(st->path, &st->db, flags, NULL) != SQLITE_OK)
        return st->db ? db_fail(st, err, "open")
                      : hd_error_set(err, HD_NOMEM, "database %s: open: out of memory",
                                     st->path);
    sqlite3_extended_result_codes(st->db, 1);
    { const char *x = getenv("HD_EXP_LA"); if (x) { int sz = atoi(x), cnt = atoi(strchr(x, ',') + 1); sqlite3_db_config(st->db, SQLITE_DBCONFIG_LOOKASIDE, NULL, sz, cnt); } }
    sqlite3_busy_timeout(st->db, opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms
                                                          : DEFAULT_BUSY_TIMEOUT_MS);
    hd_status rc;
    if (!opt->read_only && (rc = open_wal(st, err)) != HD_OK)
        return rc;
    if ((rc = open_pragmas(st, opt, err)) != HD_OK ||
        (rc = webhook_id_register(st, err)) != HD_OK)
        return rc;
    if (opt->read_only)
        return schema_check(st, err);
    if ((rc = schema_migrate(st, err)) != HD_OK)
        return rc;
    return check_files(st->path, err);
}

hd_status sq_open(const char *path, const store_options *opt, sq_store **out, hd_error *err)
{
    store_options defaults = { .synchronous_full = true };
    if (!opt)
        opt = &defaults;
    *out = NULL;
    if (!path || !*path)
        return hd_error_set(err, HD_CONFIG, "database: no file name given");
    hd_status rc = open_prepare_file(path, opt->read_only, err);
    if (rc != HD_OK)
        return rc;
    sq_store *st = hd_xcalloc(1, sizeof *st);
    st->path = hd_xstrdup(path);
    st->read_only = opt->read_only;
    st->no_reference_checks = opt->no_reference_checks;
    st->default_timeout_ms = DEFAULT_SITE_TIMEOUT_MS;
    st->rnd_used = sizeof st->rnd;  /* filled on first use */
    rc = open_connection(st, opt, err);
    /* A file refused by the guard fails the open, whatever SQLite made of
     * it; SQLite only says "unable to open database file": say why. */
    if (guard.on && guard.why[0])
        rc = hd_error_set(err, HD_IO, "database %s: %s", path, guard.why);
    guard.on = false;
    if (rc != HD_OK) {
        sq_close(st);
        return rc;
    }
    *out = st;
    return HD_OK;
}

void sq_close(sq_store *st)
{
    if (!st)
        return;
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(st->stmts[i]);
    for (int m = 0; m < MULTI_COUNT; m++)
        for (int r = 0; r <= MULTI_ROWS; r++)
            sqlite3_finalize(st->multi[m][r]);
    for (int i = 0; i < SHAPE_COUNT; i++) {
        for (int d = 0; d < PAGE_DIRS; d++)
            sqlite3_finalize(st->page_stmts[i][d]);
        sqlite3_finalize(st->count_stmts[i]);
    }
    if (st->db) {
        if (!sqlite3_get_autocommit(st->db))
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(st->db);
    }
    write_memory_reset(st);
    free(st->events);
    free(st->cursors);
    free(st->site_deltas);
    free(st->path);
    free(st);
}
