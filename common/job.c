/*
 * Begin and end of a job run (see job.h), so that every job takes its lock,
 * opens the database and records its run the same way.
 */
#include <signal.h>
#include <stdio.h>

#include "job.h"
#include "log.h"
#include "schema.h"
#include "status.h"

int
job_begin(struct job *j, const char *name, const struct job_opts *o)
{
	char err[4096];
	int rc;

	j->name = name;
	j->o = o;
	j->lock.fd = -1;
	j->started = db_mono_ms();
	/* A file size limit (ulimit -f) must give EFBIG, reported as an I/O
	 * error with nothing lost, not kill the process halfway. */
	signal(SIGXFSZ, SIG_IGN);
	/* Open first: a missing database is 66 and leaves no lock file behind. */
	rc = db_open(&j->db, o->db_path, o->dry_run ? DB_READ : DB_WRITE,
	    o->busy_timeout);
	if (rc == J_OK && !o->dry_run &&
	    (rc = lock_take(&j->lock, o->db_path, name, err, sizeof(err))) != J_OK) {
		log_error("%s", err);
		db_close(&j->db);
		return rc;
	}
	if (rc == J_OK)
		rc = schema_require(&j->db);
	runlog_init(&j->run, &j->db, name, o->now_ms);
	if (rc == J_OK && !o->dry_run)
		rc = runlog_reap(&j->run);
	if (rc != J_OK) {
		log_error("%s", j->db.err);
		db_close(&j->db);
		lock_release(&j->lock);
	}
	return rc;
}

int
job_end(struct job *j, int rc, bool stopped, const char *summary)
{
	if (rc == J_OK)
		log_info("%s", summary);
	else
		log_error("%s", summary);
	log_debug("longest write transaction: %lld ms", (long long)j->db.longest_write);
	runlog_finish(&j->run, rc, stopped, summary);
	if (db_close(&j->db) != J_OK && rc == J_OK) {
		log_error("%s", j->db.err);
		rc = J_SOFTWARE;
	}
	lock_release(&j->lock);
	return rc;
}

double
job_seconds(const struct job *j)
{
	return (double)(db_mono_ms() - j->started) / 1000;
}
