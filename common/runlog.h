/*
 * job_runs bookkeeping: one row per run that changes anything, inserted as
 * 'running' just before the first change and closed at the end.  A row left
 * 'running' by a process that died is marked 'died' by the next run of the
 * same job; that run holds the job's lock, so it knows the other is gone.
 */
#ifndef JOBS_RUNLOG_H
#define JOBS_RUNLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"

struct runlog {
	struct db *db;
	const char *job;
	int64_t id;		/* job_runs.id, 0 until started */
	int64_t now_ms;		/* the job's "now" (--now) */
	int64_t rows;		/* rows changed so far */
	int64_t bytes;		/* archive bytes written so far (metrics only) */
	char window_start[32], window_end[32];
	bool quiet;		/* the run failed: its error line stays the only one */
};

/* Prepare; nothing is written yet. */
void runlog_init(struct runlog *r, struct db *db, const char *job, int64_t now_ms);

/*
 * Mark earlier 'running' rows of this job as 'died' and report them (a
 * warning each).  Call once after taking the lock; writes only if some exist.
 */
int runlog_reap(struct runlog *r);

/* Insert the 'running' row if not done yet (its own short transaction). */
int runlog_start(struct runlog *r);

/*
 * Close the run with status (a status.h code; J_OK with stopped=true for a
 * --max-runtime stop) and a one-line message.  No-op if never started.
 */
int runlog_finish(struct runlog *r, int status, bool stopped, const char *message);

/* ISO-8601 UTC text of the real clock, for started_at/ended_at. */
void runlog_clock(char out[32]);

#endif
