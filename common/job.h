/*
 * The frame every job's main() shares: take the job's lock, open the
 * database (read-only for --dry-run, which also takes no lock and records no
 * run), check the schema, reap runs that died, and at the end record the run
 * and release everything.  Errors are logged here as one line each.
 */
#ifndef JOBS_JOB_H
#define JOBS_JOB_H

#include <stdbool.h>

#include "cli.h"
#include "db.h"
#include "lock.h"
#include "runlog.h"

struct job {
	const char *name;
	const struct job_opts *o;
	struct job_lock lock;
	struct db db;
	struct runlog run;
	int64_t started;	/* monotonic ms */
};

/* Returns J_OK, or the status to exit with (already logged). */
int job_begin(struct job *j, const char *name, const struct job_opts *o);

/*
 * Record the run (status rc, summary one line) and release the job.  Logs the
 * summary (info) on success, the error otherwise; returns the exit status.
 */
int job_end(struct job *j, int rc, bool stopped, const char *summary);

/* Seconds since job_begin(), for summaries. */
double job_seconds(const struct job *j);

#endif
