/* wakeup.c - inotify on the database's directory, so that the engine hears
 * of another process's commit at once (see hd_wakeup.h for why the
 * directory and what it cannot see). */
#include "hd_wakeup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/inotify.h>
#define HD_HAVE_INOTIFY 1
#else
#define HD_HAVE_INOTIFY 0
#endif

struct db_watch {
    int fd;          /* the inotify instance */
    char *name;      /* the database's file name in the watched directory */
    char *wal;       /* name + "-wal" */
};

void db_watch_close(db_watch *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    free(w->name);
    free(w->wal);
    free(w);
}

int db_watch_fd(const db_watch *w)
{
    return w ? w->fd : -1;
}

#if HD_HAVE_INOTIFY

/* Splits path at its last '/' into a malloc'd directory and file name; a
 * bare name lives in ".", "/x" in "/".  false when out of memory. */
static bool split_path(const char *path, char **dir, char **name)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        *dir = strdup(".");
        *name = strdup(path);
    } else {
        size_t dlen = slash == path ? 1 : (size_t)(slash - path);
        *dir = strndup(path, dlen);
        *name = strdup(slash + 1);
    }
    if (*dir && *name)
        return true;
    free(*dir);
    free(*name);
    *dir = *name = NULL;
    return false;
}

hd_status db_watch_open(const char *db_path, db_watch **out, hd_error *err)
{
    *out = NULL;
    if (!db_path || !*db_path || strcmp(db_path, ":memory:") == 0)
        return hd_error_set(err, HD_INVALID, "database %s: watch: not a file",
                            db_path && *db_path ? db_path : "(none)");
    if (db_path[strlen(db_path) - 1] == '/')
        return hd_error_set(err, HD_INVALID, "database %s: watch: names a directory", db_path);

    /* An existing database: resolve it whole, symbolic links included, as
     * SQLite does (its -wal lives next to the real file).  Else its name in
     * the real path of the directory it will be created in. */
    char *dir = NULL, *name = NULL;
    char *real = realpath(db_path, NULL);
    bool ok = real ? split_path(real, &dir, &name) : split_path(db_path, &dir, &name);
    free(real);
    if (!ok)
        return hd_error_set(err, HD_NOMEM, "database %s: watch: out of memory", db_path);
    char *real_dir = realpath(dir, NULL);
    if (!real_dir) {
        hd_status rc = hd_error_set(err, HD_IO, "database %s: watch: directory %s: %s", db_path,
                                    dir, strerror(errno));
        free(dir);
        free(name);
        return rc;
    }
    free(dir);

    db_watch *w = calloc(1, sizeof *w);
    size_t nlen = strlen(name);
    char *wal = malloc(nlen + 5);
    if (!w || !wal) {
        free(w);
        free(wal);
        free(name);
        free(real_dir);
        return hd_error_set(err, HD_NOMEM, "database %s: watch: out of memory", db_path);
    }
    memcpy(wal, name, nlen);
    memcpy(wal + nlen, "-wal", 5);
    w->name = name;
    w->wal = wal;
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0) {
        hd_status rc = hd_error_set(err, HD_IO, "database %s: watch: inotify: %s", db_path,
                                    strerror(errno));
        free(real_dir);
        db_watch_close(w);
        return rc;
    }
    if (inotify_add_watch(w->fd, real_dir,
                          IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR) < 0) {
        int e = errno;
        hd_status rc = hd_error_set(err, HD_IO, "database %s: watch: directory %s: %s%s", db_path,
                                    real_dir, strerror(e),
                                    e == ENOSPC ? " (fs.inotify.max_user_watches)" : "");
        free(real_dir);
        db_watch_close(w);
        return rc;
    }
    free(real_dir);
    *out = w;
    return HD_OK;
}

bool db_watch_changed(db_watch *w)
{
    if (!w || w->fd < 0)
        return false;
    /* Room for at least one event with the longest name (a smaller buffer
     * makes read fail with EINVAL), aligned for struct inotify_event. */
    union {
        struct inotify_event ev;
        char bytes[16 * 1024];
    } buf;
    bool changed = false;
    for (;;) {
        ssize_t n = read(w->fd, buf.bytes, sizeof buf.bytes);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;   /* EAGAIN: all drained */
        size_t off = 0;
        while (off + sizeof(struct inotify_event) <= (size_t)n) {
            const struct inotify_event *ev = (const struct inotify_event *)(buf.bytes + off);
            if (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_UNMOUNT)) {
                /* Events lost, or the directory is gone: look, to be safe. */
                changed = true;
            } else if (ev->len > 0 &&
                       (strcmp(ev->name, w->name) == 0 || strcmp(ev->name, w->wal) == 0)) {
                changed = true;
            }
            off += sizeof(struct inotify_event) + ev->len;
        }
    }
    return changed;
}

#else /* no inotify */

hd_status db_watch_open(const char *db_path, db_watch **out, hd_error *err)
{
    *out = NULL;
    return hd_error_set(err, HD_IO, "database %s: watch: no inotify on this system",
                        db_path ? db_path : "(none)");
}

bool db_watch_changed(db_watch *w)
{
    (void)w;
    return false;
}

#endif
