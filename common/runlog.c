/*
 * The job_runs table (see runlog.h).  Start and end are the real clock, so a
 * backfill run with --now in the past is still recorded when it happened.
 */
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "runlog.h"
#include "status.h"
#include "timefmt.h"

void
runlog_clock(char out[32])
{
	ts_format_iso(cli_real_now_ms(), out);
}

void
runlog_init(struct runlog *r, struct db *db, const char *job, int64_t now_ms)
{
	memset(r, 0, sizeof(*r));
	r->db = db;
	r->job = job;
	r->now_ms = now_ms;
}

int
runlog_reap(struct runlog *r)
{
	sqlite3_stmt *st = NULL, *up = NULL;
	char now[32];
	bool row;
	int rc, found = 0;

	rc = db_prepare(r->db, &st, "SELECT id, started_at, pid FROM job_runs "
	    "WHERE job = :job AND status = 'running' ORDER BY id");
	if (rc == J_OK)
		rc = db_bind_text(r->db, st, ":job", r->job);
	while (rc == J_OK && (rc = db_step(r->db, st, &row)) == J_OK && row &&
	    ++found)
		log_warn("run #%lld started at %s (pid %lld) died without "
		    "finishing; this run recovers what it left",
		    (long long)sqlite3_column_int64(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    (long long)sqlite3_column_int64(st, 2));
	db_finalize(&st);
	if (rc != J_OK)
		return rc;
	if (found == 0)
		return J_OK;	/* the usual case: write nothing */

	runlog_clock(now);
	rc = db_prepare(r->db, &up, "UPDATE job_runs SET status = 'died', "
	    "ended_at = :now, message = 'no end recorded: the process died' "
	    "WHERE job = :job AND status = 'running'");
	if (rc == J_OK)
		rc = db_bind_text(r->db, up, ":now", now);
	if (rc == J_OK)
		rc = db_bind_text(r->db, up, ":job", r->job);
	if (rc == J_OK)
		rc = db_run_alone(r->db, up, NULL);
	db_finalize(&up);
	return rc;
}

int
runlog_start(struct runlog *r)
{
	sqlite3_stmt *st = NULL;
	char now[32], at[32];
	int rc;

	if (r->id != 0)
		return J_OK;
	runlog_clock(now);
	ts_format_iso(r->now_ms, at);
	rc = db_prepare(r->db, &st, "INSERT INTO job_runs (job, started_at, "
	    "status, window_start, window_end, now_at, pid) VALUES (:job, :start, "
	    "'running', nullif(:ws, ''), nullif(:we, ''), :at, :pid)");
	if (rc == J_OK)
		rc = db_bind_text(r->db, st, ":job", r->job);
	if (rc == J_OK)
		rc = db_bind_text(r->db, st, ":start", now);
	if (rc == J_OK)
		rc = db_bind_text(r->db, st, ":ws", r->window_start);
	if (rc == J_OK)
		rc = db_bind_text(r->db, st, ":we", r->window_end);
	if (rc == J_OK)
		rc = db_bind_text(r->db, st, ":at", at);
	if (rc == J_OK)
		rc = db_bind_int64(r->db, st, ":pid", (int64_t)getpid());
	/* A row whose commit went through (only its fsync failed) is still
	 * ours to finish. */
	if (rc == J_OK && (rc = db_run_alone(r->db, st, &r->id)) != J_OK &&
	    !r->db->committed)
		r->id = 0;
	db_finalize(&st);
	return rc;
}

int
runlog_finish(struct runlog *r, int status, bool stopped, const char *message)
{
	sqlite3_stmt *st = NULL;
	char now[32], saved[sizeof(r->db->err)];
	const char *state = status != J_OK ? "failed" : stopped ? "stopped" : "ok";
	int rc;

	if (r->id == 0)
		return J_OK;
	/* Keep the error that ended the run for the caller's error line. */
	memcpy(saved, r->db->err, sizeof(saved));
	runlog_clock(now);
	rc = db_prepare(r->db, &st, "UPDATE job_runs SET ended_at = :end, "
	    "status = :status, exit_code = :code, rows = :rows, "
	    "window_start = nullif(:ws, ''), window_end = nullif(:we, ''), "
	    "message = :msg WHERE id = :id");
	if (rc == J_OK)
		rc = db_bind_text(r->db, st, ":end", now);
	if (rc == J_OK)
		rc = db_bind_text(r->db, st, ":status", state);
	if (rc == J_OK)
		rc = db_bind_int64(r->db, st, ":code", status);
	if (rc == J_OK)
		rc = db_bind_int64(r->db, st, ":rows", r->rows);
	if (rc == J_OK)
		rc = db_bind_text(r->db, st, ":ws", r->window_start);
	if (rc == J_OK)
		rc = db_bind_text(r->db, st, ":we", r->window_end);
	if (rc == J_OK)
		rc = db_bind_text(r->db, st, ":msg", message);
	if (rc == J_OK)
		rc = db_bind_int64(r->db, st, ":id", r->id);
	if (rc == J_OK)
		rc = db_run_alone(r->db, st, NULL);
	db_finalize(&st);
	/* After a failure the run's own error line says what matters; a
	 * second line here (the same cause, most often) would hide it. */
	if (rc != J_OK && !r->quiet)
		log_warn("cannot record the end of this run in job_runs: %s",
		    r->db->err);
	else if (rc != J_OK)
		log_debug("cannot record the end of this run in job_runs: %s",
		    r->db->err);
	memcpy(r->db->err, saved, sizeof(saved));
	return rc;
}
