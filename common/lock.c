/*
 * Per-job, per-database lock with flock(2); see lock.h.  The lock file is
 * never removed: unlinking it would let a third instance lock a new inode
 * while the second still holds the old one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lock.h"
#include "status.h"

int
lock_take(struct job_lock *l, const char *db_path, const char *job,
    char *err, size_t errsize)
{
	int n;

	l->fd = -1;
	n = snprintf(l->path, sizeof(l->path), "%s.%s.lock", db_path, job);
	if (n < 0 || (size_t)n >= sizeof(l->path)) {
		snprintf(err, errsize, "lock path for '%s' is too long", db_path);
		return J_CANTCREAT;
	}
	l->fd = open(l->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (l->fd < 0) {
		snprintf(err, errsize, "cannot open lock file '%s': %s", l->path,
		    strerror(errno));
		return J_CANTCREAT;
	}
	if (flock(l->fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		close(l->fd);
		l->fd = -1;
		if (e == EWOULDBLOCK) {
			snprintf(err, errsize, "another %s is already running on "
			    "'%s' (lock '%s' is held); try again later", job,
			    db_path, l->path);
			return J_TEMPFAIL;
		}
		snprintf(err, errsize, "cannot lock '%s': %s", l->path, strerror(e));
		return J_CANTCREAT;
	}
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
