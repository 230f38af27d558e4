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

/* "<program> <pid>" of the holder, from the lock file; "" if unknown. */
static void
read_holder(int fd, char *out, size_t size)
{
	ssize_t n = pread(fd, out, size - 1, 0);

	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
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
		snprintf(err, errsize, "cannot open lock file '%s': %s", l->path,
		    strerror(errno));
		return J_CANTCREAT;
	}
	if (flock(l->fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		read_holder(l->fd, who, sizeof(who));
		close(l->fd);
		l->fd = -1;
		if (e == EWOULDBLOCK && sscanf(who, "%63s %ld", prog, &pid) == 2 &&
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
	/* Who holds it, for the message of the next one that tries (only a
	 * message depends on it, so a failure here is not one). */
	n = snprintf(who, sizeof(who), "%s %ld\n", holder, (long)getpid());
	if (ftruncate(l->fd, 0) != 0 || pwrite(l->fd, who, (size_t)n, 0) != n)
		who[0] = '\0';
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
