/*
 * Progress of a long run on a terminal: rows (or days) done, rate and ETA,
 * redrawn at most twice a second through log_progress().  Silent when not on
 * a terminal (cron), with -q, or with --log-format json.
 */
#ifndef JOBS_PROGRESS_H
#define JOBS_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
	bool on;
	const char *unit;		/* "rows", "days" */
	int64_t total;			/* expected, 0 if unknown */
	int64_t started, shown;		/* monotonic ms */
	int64_t every;			/* ms between lines (test knob
					 * JOBS_TEST_PROGRESS_MS, cli.h) */
};

/* total may be 0 (no ETA then). */
void progress_start(struct progress *p, const char *unit, int64_t total);
void progress_update(struct progress *p, int64_t done);
/* Erase the line (before the summary). */
void progress_end(struct progress *p);

#endif
