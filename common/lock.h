/*
 * One instance per job per database.  The lock is an flock(2) on a small file
 * beside the database ("<db>.<job>.lock"): the kernel drops it when the
 * process dies, so kill -9 can never leave it stuck, and a second instance
 * learns at once that the first is still running.
 */
#ifndef JOBS_LOCK_H
#define JOBS_LOCK_H

#include <stddef.h>

struct job_lock {
	int fd;
	char path[4096];
};

/*
 * Take the lock for job on db_path without waiting; holder (the program
 * taking it, which may be another job's, e.g. restore_archive taking
 * prune_events') is written into the file for the refused one's message.  Returns J_OK; J_TEMPFAIL
 * if another instance holds it; J_CANTCREAT if the lock file cannot be made.
 * err (errsize bytes) receives one line on failure.
 */
int lock_take(struct job_lock *l, const char *db_path, const char *job,
    const char *holder, char *err, size_t errsize);

/* Release (also done by exit).  Safe to call twice. */
void lock_release(struct job_lock *l);

#endif
