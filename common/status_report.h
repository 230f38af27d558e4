/*
 * jobs_status's report: for each program, its last outcome (jobs_meta
 * '<job>.last_run' and '<job>.last_success', job_runs for a run that never
 * ended), its backlog (backlog.h), reconcile_stock's last stock check, and
 * the problem, if any, that --check fails on; then the archive files the
 * manifest lists and the unfinished archives a copy leaves alone (dbfile.h).
 * All of it is read from the database alone, never writing; it takes no
 * lock.
 *
 * Files: status_report.c (reading and judging), status_print.c (the table
 * and the JSON object).
 */
#ifndef JOBS_STATUS_REPORT_H
#define JOBS_STATUS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backlog.h"
#include "bizday.h"
#include "db.h"

#define STATUS_JOBS		7	/* the programs reported (status_report.c) */
#define STATUS_LEFTOVERS_SHOWN	10	/* leftover paths kept and printed */

/* reconcile_stock's last outcome (STOCK_STATE_KEY in jobs_meta, stock.h). */
struct status_drift {
	bool known;			/* a check has recorded it */
	char checked_at[32];
	bool complete;			/* it checked every product */
	int64_t products, drifted, fixed, oversold, orphan_moves, orphan_products;
};

/* One job's line of the report. */
struct job_status {
	const char *job;
	bool scheduled;			/* checked by --check */
	bool ran;			/* an outcome is known */
	char ended[32];			/* last run's end (real clock), ISO */
	char result[16];		/* ok, stopped, failed, died, running */
	int64_t exit_code, rows;
	double seconds;
	char message[1024];
	char last_success[32];		/* "" if never */
	int64_t behind;			/* backlog count, -1 if not applicable */
	const char *behind_what;
	struct status_drift drift;	/* reconcile_stock's last check */
	char problem[1200];		/* "" if healthy */
};

/*
 * What a copy leaves alone (dbfile.h): unfinished archives named with another
 * database id, which this database never removes.  Not a problem of the
 * jobs (the original may still be writing them); the operator decides.
 */
struct status_leftovers {
	bool copied;			/* the file is not the one the id was made in */
	int64_t n;			/* all of them; the first few in path */
	char path[STATUS_LEFTOVERS_SHOWN][1200];
};

/* What the report assumes (jobs_status's options). */
struct status_opts {
	long max_age_h;			/* a scheduled job is overdue with no
					 * success for this long (hours) */
	struct backlog_retention retention;	/* for the backlog counts */
	bool verify;			/* read and check every archive file */
};

/*
 * The whole report.  db_path and cal are the caller's, borrowed for the
 * printers: they must outlive the report.  It holds no other resource, so
 * there is nothing to free.
 */
struct status_report {
	const char *db_path;
	const struct bizcal *cal;	/* what a day is */
	int64_t now;			/* ms: the report's "now" (--now) */
	struct job_status jobs[STATUS_JOBS];
	size_t n;
	bool verified;			/* read and damaged count (--verify-archives) */
	int64_t files;			/* archive files in the manifest */
	int64_t read, damaged;		/* of them: read, found damaged */
	struct status_leftovers left;
	bool healthy;			/* no problem, no damaged file */
};

/*
 * Read and judge everything into *r, at now (ms) on the calendar cal, for
 * the database db opened from db_path.  With o->verify every archive file
 * is read and checked, and each damaged one is a warning naming it, printed
 * as it is found (restore.h).  J_OK, or a status with db->err set; *r is
 * then incomplete, not to be printed.
 */
int status_read(struct status_report *r, struct db *db, const char *db_path,
    const struct bizcal *cal, const struct status_opts *o, int64_t now);

/* Print r on stdout: the table with its notes, or one JSON object (a line). */
void status_print_text(const struct status_report *r);
void status_print_json(const struct status_report *r);

#endif
