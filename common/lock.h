/*
 * One instance per job per database file.  The lock is an open file
 * description lock (fcntl F_OFD_SETLK) on one byte of the database file
 * itself, so it is keyed to the file, not to the name it was given.
 *
 * Why the key cannot be fooled: the kernel keeps byte-range locks per inode.
 * A symlink, a relative path, `..`, a bind mount or another mount namespace
 * all open the same inode, so they meet the same lock; a second hard link
 * would too, but is refused before anything is opened (dbfile.h).  A file
 * renamed while a job runs keeps its inode and its lock.  A file *replaced*
 * under its name (a backup moved over it) is another file: it gets locks of
 * its own, and lock_same_file() tells a run that opened its database across
 * such a swap.  The kernel drops the lock when the process dies, so kill -9
 * can never leave it stuck, and a second instance learns at once.
 *
 * The bytes are far past any SQLite uses (it locks 512 bytes at 1 GiB, and
 * the -shm file): one byte per job, and next to it one byte per program that
 * may hold that job's lock (restore_archive holds prune_events' while it
 * restores events), which the refused instance reads to name the holder.
 * Byte-range locks are advisory: only these programs look at them.
 *
 * One rule comes with it: closing any descriptor of a file drops every
 * traditional POSIX lock the process holds on that file, SQLite's included.
 * So the descriptor is opened before the first SQLite connection to the
 * database and closed (lock_close) only after the last one is closed;
 * lock_drop() gives one job's lock back without closing it.
 */
#ifndef JOBS_LOCK_H
#define JOBS_LOCK_H

#include <stdbool.h>
#include <stddef.h>

struct job_lock {
	int fd;			/* the database file, -1 when closed */
	const char *path;	/* as given, for messages (borrowed) */
};

/*
 * Open path (created empty if missing and create is set: migrate) for
 * locking.  Refuses what dbfile_check() refuses.  Returns J_OK; J_NOINPUT
 * (missing, not a regular file, more than one hard link, not writable) or
 * J_IOERR with one line in err.
 */
int lock_open(struct job_lock *l, const char *path, bool create, char *err,
    size_t errsize);

/*
 * Take job's lock without waiting, on behalf of holder (the program taking
 * it, which may be another job's: restore_archive takes prune_events').
 * Returns J_OK; J_TEMPFAIL if another process holds it (err names the
 * holder); J_SOFTWARE for a job name the table does not know.
 */
int lock_take(struct job_lock *l, const char *job, const char *holder,
    char *err, size_t errsize);

/* Give job's lock back; the descriptor stays open (see above). */
void lock_drop(struct job_lock *l, const char *job);

/*
 * True if path still names the file l holds (same device and inode): a run
 * that opened its database by name after taking the lock checks it.
 */
bool lock_same_file(const struct job_lock *l, const char *path);

/* Close the descriptor, dropping every lock: only once no SQLite connection
 * to the file is open in this process.  Safe to call twice. */
void lock_close(struct job_lock *l);

#endif
