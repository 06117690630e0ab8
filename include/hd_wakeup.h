/* hd_wakeup.h - notice at once when another process commits to the database.
 *
 * The delivery engine sleeps up to its poll interval (which may be an hour)
 * between looks at the queue.  A `hookdesk send`, an `import` or another
 * console that commits a new message to the shared database should not have
 * to wait that long: a db_watch turns "someone wrote the database" into a
 * readable file descriptor the engine can add to the set it sleeps on
 * (curl_multi_poll's extra_fds, poll()).
 *
 * How: inotify (Linux) on the DIRECTORY holding the database, for
 * IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE; events about the
 * database file or its "<name>-wal" count as a change, the others are drained
 * and ignored.  In WAL mode every commit appends to "<db>-wal"; but that file
 * is created, truncated and deleted over the database's life (a checkpoint
 * resets it, the last connection to close removes it), and a watch on the
 * file itself would be lost with it.  The directory outlives them all, and
 * also covers a rollback-journal database, whose commits write the database
 * file itself.  A lost inotify queue (IN_Q_OVERFLOW) or a directory that
 * goes away also count as a change: better one look too many than none.
 *
 * It is a hint, never the truth: a change may be reported that added nothing
 * to deliver (the engine's own commits, a checkpoint, a connection closing a
 * file it had open for writing all trigger it; harmless, the engine looks at
 * the queue, finds nothing new and sleeps again), so callers re-query and do
 * not write merely because they woke up (that would wake them again).  And
 * inotify sees only writes made through this machine's kernel: on a network
 * filesystem (NFS, SMB) writes from other hosts go unseen, and where inotify
 * is missing db_watch_open fails; in both cases the poll interval remains
 * the fallback, so callers keep polling, just less eagerly.
 *
 * A db_watch is used by one thread at a time.  No function here prints.
 */
#ifndef HD_WAKEUP_H
#define HD_WAKEUP_H

#include <stdbool.h>

#include "hd_error.h"

typedef struct db_watch db_watch;

/* Watches the database file at db_path (and its -wal), which need not exist
 * yet; its directory must.  A relative path is taken from the current
 * directory ("hookdesk.db" means ./hookdesk.db), and symbolic links are
 * resolved as SQLite does.  On a system without inotify, when the directory
 * cannot be watched (missing, no permission, inotify limits reached) or for
 * a database that is no file (":memory:", ""), returns an error (HD_IO; or
 * HD_INVALID for such a path, HD_NOMEM) and *out = NULL: the caller then
 * falls back to polling. */
hd_status db_watch_open(const char *db_path, db_watch **out, hd_error *err);
/* The descriptor to poll for POLLIN (e.g. curl_multi_poll extra_fds); -1 for
 * a NULL watch.  Non-blocking and close-on-exec; do not read or close it. */
int db_watch_fd(const db_watch *w);
/* Drains pending events; true when one of them was about the database.
 * Never blocks.  false for a NULL watch. */
bool db_watch_changed(db_watch *w);
/* Stops watching and frees w; NULL is allowed. */
void db_watch_close(db_watch *w);

#endif
