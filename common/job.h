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

/* A job's own gauge in its metrics file, beside the standard ones. */
struct job_gauge {
	const char *name;	/* after "shop_job_": [a-z_]+, a constant */
	const char *help;	/* one line, a constant */
	double value;
};

#define JOB_GAUGES_MAX	8

struct job {
	const char *name;
	const struct job_opts *o;
	struct job_lock lock;
	struct db db;
	struct runlog run;
	int64_t started;	/* monotonic ms */
	struct job_gauge gauges[JOB_GAUGES_MAX];	/* job_gauge() */
	size_t ngauges;
	long retention_days;	/* prune_events, archive_logs: for the backlog */
};

/* Returns J_OK, or the status to exit with (already logged). */
int job_begin(struct job *j, const char *name, const struct job_opts *o);

/*
 * Record the run (status rc, summary one line) and release the job.  Logs the
 * summary (info) on success, the error otherwise; returns the exit status.
 *
 * Every real run (not --dry-run, not a 75) also leaves its outcome in
 * jobs_meta, even one that changed nothing: '<job>.last_run' holds a JSON
 * object (ended_at, exit_code, rows, seconds, message) and, on success,
 * '<job>.last_success' the time it ended.  jobs_status reads them to tell
 * an idle job from one that stopped running.  With --metrics-file the same
 * facts are written in the Prometheus text format (see job_metrics()),
 * with the job's backlog (backlog.h) as shop_job_backlog after a run that
 * could count it (exit 0 or 65; prune_events and archive_logs count with
 * their own --retention-days, which they set in j->retention_days).
 */
int job_end(struct job *j, int rc, bool stopped, const char *summary);

/*
 * Record one gauge of the job's own (a count its run found, say) for the
 * metrics file job_end() writes: "shop_job_<name>{job="<job>"} value" after
 * the standard ones, with its HELP and TYPE lines.  name and help are kept,
 * not copied: pass constants.  A second call with the same name replaces the
 * value; past JOB_GAUGES_MAX names the gauge is left out (a bug, logged).
 */
void job_gauge(struct job *j, const char *name, const char *help, double value);

/*
 * Write o->metrics_file (if set) for a run of job that ended with rc:
 * Prometheus textfile-collector format, replaced atomically (a temporary
 * file in the same directory, then rename).  The standard gauges come
 * first (the first line is what job_metrics_check() looks for), then the
 * n gauges of the job's own (gauges may be NULL with n 0).  A failure is a
 * warning only.
 */
void job_metrics(const char *job, const struct job_opts *o, struct db *db,
    int rc, int64_t rows, int64_t bytes, double seconds,
    const struct job_gauge *gauges, size_t n);

/*
 * A --metrics-file path may be replaced only if it is missing or one of the
 * metrics files these programs write (it begins with their first line):
 * J_OK, else J_USAGE with one line in err.  Never the database, its -wal,
 * a symlink, or anything else.
 */
int job_metrics_check(const char *path, char *err, size_t size);

/* Seconds since job_begin(), for summaries. */
double job_seconds(const struct job *j);

#endif
