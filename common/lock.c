/*
 * Per-job locks on the database file itself, with open file description
 * locks; see lock.h for why the key is the inode and for the one rule that
 * comes with a second descriptor of a file SQLite has open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbfile.h"
#include "lock.h"
#include "status.h"

/*
 * The programs that take locks, in a fixed order: a program's index is both
 * its job slot and its holder byte.  Append only: two versions of the
 * programs running side by side must agree on the bytes.
 */
static const char *const programs[] = {
	"migrate", "rollup_daily", "prune_events", "archive_logs",
	"expire_reservations", "restore_archive", "reconcile_stock",
	"retire_table",
};
#define NPROGRAMS	((int)(sizeof(programs) / sizeof(programs[0])))

/* 1.5 GiB: past SQLite's lock bytes (1 GiB + 512), inside 32-bit offsets
 * for file systems whose locks stop there. */
#define LOCK_BASE	((off_t)0x60000000)
#define LOCK_STRIDE	64	/* bytes per job: its byte, then holder bytes */

static int
program_index(const char *name)
{
	int i;

	for (i = 0; i < NPROGRAMS; i++)
		if (strcmp(programs[i], name) == 0)
			return i;
	return -1;
}

/* fcntl F_OFD_* on one byte; type F_WRLCK, F_UNLCK, or F_WRLCK with
 * cmd F_OFD_GETLK (then *held tells whether another holds it). */
static int
ofd(int fd, int cmd, short type, off_t at, bool *held)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = at;
	fl.l_len = 1;
	if (fcntl(fd, cmd, &fl) != 0)
		return -1;
	if (held != NULL)
		*held = fl.l_type != F_UNLCK;
	return 0;
}

int
lock_open(struct job_lock *l, const char *path, bool create, char *err,
    size_t errsize)
{
	struct stat st;
	int e, rc;

	l->path = path;
	l->fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
	if (l->fd < 0) {
		e = errno;
		if (e == ENOENT)
			snprintf(err, errsize, "database '%s': does not exist", path);
		else
			snprintf(err, errsize, "database '%s' cannot be opened for "
			    "writing: %s", path, strerror(e));
		return e == EIO || e == ENOSPC || e == EDQUOT || e == EROFS ?
		    J_IOERR : J_NOINPUT;
	}
	if (fstat(l->fd, &st) != 0) {
		snprintf(err, errsize, "database '%s': %s", path, strerror(errno));
		lock_close(l);
		return J_IOERR;
	}
	if ((rc = dbfile_check(path, &st, err, errsize)) != J_OK)
		lock_close(l);
	return rc;
}

int
lock_take(struct job_lock *l, const char *job, const char *holder, char *err,
    size_t errsize)
{
	int slot = program_index(job), me = program_index(holder), i;
	off_t at;
	bool held;

	if (slot < 0 || me < 0) {
		snprintf(err, errsize, "internal error: no lock slot for %s/%s", job, holder);
		return J_SOFTWARE;
	}
	at = LOCK_BASE + (off_t)slot * LOCK_STRIDE;
	if (ofd(l->fd, F_OFD_SETLK, F_WRLCK, at, NULL) == 0) {
		/* Who holds it, for the next one's message; only that. */
		(void)ofd(l->fd, F_OFD_SETLK, F_WRLCK, at + 1 + me, NULL);
		return J_OK;
	}
	if (errno != EAGAIN && errno != EACCES) {
		snprintf(err, errsize, "cannot lock database '%s' for %s: %s",
		    l->path, job, strerror(errno));
		return errno == ENOLCK ? J_TEMPFAIL : J_IOERR;
	}
	for (i = 0; i < NPROGRAMS; i++)
		if (i != slot && ofd(l->fd, F_OFD_GETLK, F_WRLCK,
		    at + 1 + i, &held) == 0 && held) {
			snprintf(err, errsize, "%s is running on '%s' and holds %s's "
			    "lock; try again when it is done", programs[i], l->path,
			    job);
			return J_TEMPFAIL;
		}
	snprintf(err, errsize, "another %s is already running on '%s' (the same "
	    "database file, whatever its name); try again later", job, l->path);
	return J_TEMPFAIL;
}

void
lock_drop(struct job_lock *l, const char *job)
{
	int slot = program_index(job), i;
	off_t at = LOCK_BASE + (off_t)slot * LOCK_STRIDE;

	if (l->fd < 0 || slot < 0)
		return;
	for (i = 0; i < NPROGRAMS; i++)
		(void)ofd(l->fd, F_OFD_SETLK, F_UNLCK, at + 1 + i, NULL);
	(void)ofd(l->fd, F_OFD_SETLK, F_UNLCK, at, NULL);
}

bool
lock_same_file(const struct job_lock *l, const char *path)
{
	struct stat a, b;

	return l->fd >= 0 && fstat(l->fd, &a) == 0 && stat(path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

void
lock_close(struct job_lock *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}
