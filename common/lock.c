/*
 * Per-job, per-database lock with flock(2); see lock.h.  The lock file is
 * never removed: unlinking it would let a third instance lock a new inode
 * while the second still holds the old one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lock.h"
#include "status.h"

/* "<program> <pid>" of the holder, from the lock file; "" if unknown. */
static void
read_holder(int fd, char *out, size_t size)
{
	ssize_t n = pread(fd, out, size - 1, 0);

	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

/* Split "<program> <pid>" into prog (64 bytes) and *pid.  strtol, not
 * sscanf's %ld: a number out of range is undefined behaviour for sscanf. */
static bool
parse_holder(const char *who, char *prog, long *pid)
{
	char *end;
	int off = -1;

	if (sscanf(who, "%63s %n", prog, &off) != 1 || off < 0)
		return false;
	*pid = strtol(who + off, &end, 10);
	return end != who + off;
}

/* Record "<holder> <pid>" for the message of the next one that tries; false
 * if that failed (only a message depends on it, so that is not an error). */
static bool
write_holder(int fd, const char *holder)
{
	char who[128];
	int n = snprintf(who, sizeof(who), "%s %ld\n", holder, (long)getpid());

	if (n < 0)
		n = 0;
	else if ((size_t)n >= sizeof(who))
		n = (int)sizeof(who) - 1;	/* what snprintf kept */
	return ftruncate(fd, 0) == 0 && pwrite(fd, who, (size_t)n, 0) == n;
}

int
lock_take(struct job_lock *l, const char *db_path, const char *job,
    const char *holder, char *err, size_t errsize)
{
	char who[128], prog[64];
	long pid;
	int n;

	l->fd = -1;
	n = snprintf(l->path, sizeof(l->path), "%s.%s.lock", db_path, job);
	if (n < 0 || (size_t)n >= sizeof(l->path)) {
		snprintf(err, errsize, "lock path for '%s' is too long", db_path);
		return J_CANTCREAT;
	}
	l->fd = open(l->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (l->fd < 0) {
		int e = errno;

		snprintf(err, errsize, "cannot open lock file '%s': %s", l->path,
		    strerror(e));
		/* A failing or full disk is an I/O error, as for archives. */
		return e == EIO || e == ENOSPC || e == EDQUOT ? J_IOERR : J_CANTCREAT;
	}
	if (flock(l->fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		read_holder(l->fd, who, sizeof(who));
		close(l->fd);
		l->fd = -1;
		if (e == EWOULDBLOCK && parse_holder(who, prog, &pid) &&
		    strcmp(prog, job) != 0) {
			snprintf(err, errsize, "%s (pid %ld) is running on '%s' and "
			    "holds %s's lock '%s'; try again when it is done", prog,
			    pid, db_path, job, l->path);
			return J_TEMPFAIL;
		}
		if (e == EWOULDBLOCK) {
			snprintf(err, errsize, "another %s is already running on "
			    "'%s' (lock '%s' is held); try again later", job,
			    db_path, l->path);
			return J_TEMPFAIL;
		}
		snprintf(err, errsize, "cannot lock '%s': %s", l->path, strerror(e));
		return J_CANTCREAT;
	}
	(void)write_holder(l->fd, holder);
	return J_OK;
}

void
lock_release(struct job_lock *l)
{
	if (l->fd >= 0) {
		flock(l->fd, LOCK_UN);
		close(l->fd);
	}
	l->fd = -1;
}
