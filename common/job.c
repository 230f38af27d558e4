/*
 * Begin and end of a job run (see job.h), so that every job takes its lock,
 * opens the database and records its run the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backlog.h"
#include "dbfile.h"
#include "job.h"
#include "log.h"
#include "schema.h"
#include "status.h"

/* What every metrics file this program writes begins with. */
#define METRICS_MAGIC	"# HELP shop_job_"

int
job_metrics_check(const char *path, char *err, size_t size)
{
	char head[sizeof(METRICS_MAGIC) - 1];
	struct stat st;
	ssize_t n;
	int fd;

	if (lstat(path, &st) != 0)
		return J_OK;	/* missing (or unreadable: the write will say) */
	if (S_ISREG(st.st_mode) &&
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		n = read(fd, head, sizeof(head));
		close(fd);
		if (n == (ssize_t)sizeof(head) && memcmp(head, METRICS_MAGIC, sizeof(head)) == 0)
			return J_OK;
	}
	snprintf(err, size, "--metrics-file '%s' exists and is not a metrics file "
	    "of these jobs: it would be replaced; give a new path (or remove it "
	    "if it is yours)", path);
	return J_USAGE;
}

int
job_begin(struct job *j, const char *name, const struct job_opts *o)
{
	char err[4096];
	int rc = J_OK;

	j->name = name;
	j->o = o;
	j->lock.fd = -1;
	j->ngauges = 0;
	j->retention_days = 0;
	j->started = db_mono_ms();
	/* A file size limit (ulimit -f) must give EFBIG, reported as an I/O
	 * error with nothing lost, not kill the process halfway. */
	signal(SIGXFSZ, SIG_IGN);
	/* A typo must not cost the database, nor anything else (SPEC 4). */
	if (!o->dry_run && o->metrics_file != NULL &&
	    (rc = job_metrics_check(o->metrics_file, err, sizeof(err))) != J_OK) {
		log_error("%s", err);
		return rc;
	}
	/* The lock first, on the file itself, and its descriptor stays open
	 * until every connection is closed (lock.h).  --dry-run takes none. */
	if (!o->dry_run && ((rc = lock_open(&j->lock, o->db_path, false, err,
	    sizeof(err))) != J_OK || (rc = lock_take(&j->lock, name, name, err,
	    sizeof(err))) != J_OK)) {
		log_error("%s", err);
		/* Another instance runs: its metrics are the ones to keep. */
		if (rc != J_TEMPFAIL)
			job_metrics(name, o, NULL, rc, 0, 0, job_seconds(j),
			    NULL, 0);
		lock_close(&j->lock);
		return rc;
	}
	rc = db_open(&j->db, o->db_path, o->dry_run ? DB_READ : DB_WRITE,
	    o->busy_timeout);
	if (rc == J_OK && !o->dry_run && !lock_same_file(&j->lock, o->db_path)) {
		snprintf(j->db.err, sizeof(j->db.err), "database '%s' was replaced "
		    "by another file while opening; try again", o->db_path);
		rc = J_TEMPFAIL;
	}
	if (rc == J_OK)
		rc = schema_require(&j->db);
	if (rc == J_OK && !o->dry_run)
		rc = dbfile_claim(&j->db, j->lock.fd);
	runlog_init(&j->run, &j->db, name, o->now_ms);
	if (rc == J_OK && !o->dry_run)
		rc = runlog_reap(&j->run);
	if (rc != J_OK) {
		log_error("%s", j->db.err);
		if (!o->dry_run)
			job_metrics(name, o, j->db.h ? &j->db : NULL, rc, 0, 0,
			    job_seconds(j), NULL, 0);
		db_close(&j->db);
		lock_close(&j->lock);
	}
	return rc;
}

/* The run's outcome in jobs_meta (see job.h); a failure is a warning. */
static void
record_outcome(struct job *j, int rc, const char *summary)
{
	char now[32], key[64], okkey[64];
	sqlite3_stmt *st = NULL;
	int r;

	runlog_clock(now);
	snprintf(key, sizeof(key), "%s.last_run", j->name);
	snprintf(okkey, sizeof(okkey), "%s.last_success", j->name);
	r = db_prepare(&j->db, &st, "INSERT INTO jobs_meta (key, value) "
	    "SELECT :key, json_object('ended_at', :end, 'exit_code', :code, "
	    "'rows', :rows, 'seconds', :sec, 'message', :msg) UNION ALL "
	    "SELECT :okkey, :end WHERE :code = 0 "
	    "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
	if (r == J_OK)
		r = db_bind_text(&j->db, st, ":key", key);
	if (r == J_OK)
		r = db_bind_text(&j->db, st, ":okkey", okkey);
	if (r == J_OK)
		r = db_bind_text(&j->db, st, ":end", now);
	if (r == J_OK)
		r = db_bind_int64(&j->db, st, ":code", rc);
	if (r == J_OK)
		r = db_bind_int64(&j->db, st, ":rows", j->run.rows);
	if (r == J_OK)
		r = db_bind_double(&j->db, st, ":sec", job_seconds(j));
	if (r == J_OK)
		r = db_bind_text(&j->db, st, ":msg", summary);
	if (r == J_OK)
		r = db_run_alone(&j->db, st, NULL);
	db_finalize(&st);
	if (r != J_OK && rc == J_OK)
		log_warn("cannot record this run's outcome in jobs_meta: %s", j->db.err);
	else if (r != J_OK)
		log_debug("cannot record this run's outcome in jobs_meta: %s", j->db.err);
}

/* Last success of job from jobs_meta, as Unix seconds; -1 if unknown. */
static double
last_success(struct db *db, const char *job)
{
	sqlite3_stmt *st = NULL;
	double t = -1;
	char key[64];
	bool row;

	snprintf(key, sizeof(key), "%s.last_success", job);
	if (db_prepare(db, &st, "SELECT (julianday(value) - 2440587.5) * 86400.0 "
	    "FROM jobs_meta WHERE key = :k") == J_OK &&
	    db_bind_text(db, st, ":k", key) == J_OK &&
	    db_step(db, st, &row) == J_OK && row &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		t = sqlite3_column_double(st, 0);
	db_finalize(&st);
	return t;
}

void
job_gauge(struct job *j, const char *name, const char *help, double value)
{
	size_t i;

	for (i = 0; i < j->ngauges; i++)
		if (strcmp(j->gauges[i].name, name) == 0)
			break;
	if (i == JOB_GAUGES_MAX) {
		log_debug("internal error: no room for gauge %s (at most %d)",
		    name, JOB_GAUGES_MAX);
		return;
	}
	j->gauges[i] = (struct job_gauge){ name, help, value };
	if (i == j->ngauges)
		j->ngauges++;
}

void
job_metrics(const char *job, const struct job_opts *o, struct db *db, int rc,
    int64_t rows, int64_t bytes, double seconds, const struct job_gauge *gauges,
    size_t n)
{
	static const char *const help[][3] = {
		{ "last_run_timestamp_seconds", "gauge", "When the last run ended (Unix time)." },
		{ "last_success_timestamp_seconds", "gauge", "When the last successful run ended (Unix time)." },
		{ "success", "gauge", "1 if the last run succeeded (exit 0), else 0." },
		{ "exit_code", "gauge", "Exit status of the last run." },
		{ "rows", "gauge", "Rows the last run changed (archived, deleted, rolled up or restored)." },
		{ "bytes", "gauge", "Archive bytes the last run wrote." },
		{ "duration_seconds", "gauge", "How long the last run took." },
	};
	char tmp[4200];
	double now = (double)cli_real_now_ms() / 1000, ok;
	double v[7];
	FILE *f;
	size_t i;
	int fd;

	if (o->metrics_file == NULL)
		return;
	/* Checked at the start too; a file put there since is not replaced. */
	if (job_metrics_check(o->metrics_file, tmp, sizeof(tmp)) != J_OK) {
		log_warn("not writing metrics: %s", tmp);
		return;
	}
	ok = rc == J_OK ? now : db != NULL ? last_success(db, job) : -1;
	v[0] = now, v[1] = ok, v[2] = rc == J_OK, v[3] = rc;
	v[4] = (double)rows, v[5] = (double)bytes, v[6] = seconds;
	/* Same directory, a name the collector ignores (*.prom only). */
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", o->metrics_file, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	/* Readable by the collector whatever the umask: no personal data here. */
	if (fd >= 0)
		(void)fchmod(fd, 0644);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		log_warn("cannot write metrics file '%s': %s", tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return;
	}
	for (i = 0; i < sizeof(help) / sizeof(help[0]); i++) {
		if (i == 1 && ok < 0)
			continue;	/* never succeeded, as far as we know */
		fprintf(f, "# HELP shop_job_%s %s\n# TYPE shop_job_%s %s\n"
		    "shop_job_%s{job=\"%s\"} %.15g\n", help[i][0], help[i][2],
		    help[i][0], help[i][1], help[i][0], job, v[i]);
	}
	for (i = 0; gauges != NULL && i < n; i++)
		fprintf(f, "# HELP shop_job_%s %s\n# TYPE shop_job_%s gauge\n"
		    "shop_job_%s{job=\"%s\"} %.15g\n", gauges[i].name,
		    gauges[i].help, gauges[i].name, gauges[i].name, job,
		    gauges[i].value);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || ferror(f)) {
		log_warn("cannot write metrics file '%s': %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return;
	}
	if (fclose(f) != 0 || rename(tmp, o->metrics_file) != 0) {
		log_warn("cannot write metrics file '%s': %s", o->metrics_file,
		    strerror(errno));
		unlink(tmp);
	}
}

/* The job's backlog as a gauge, when the run could count it (job.h). */
static void
backlog_gauge(struct job *j, int rc)
{
	struct backlog_retention r = { BACKLOG_EVENTS_DAYS, BACKLOG_LOGS_DAYS };
	struct bizcal cal = { false, NULL, 0 };
	const char *what;
	int64_t n = -1;

	if (j->o->metrics_file == NULL || j->o->dry_run || j->db.h == NULL ||
	    (rc != J_OK && rc != J_DATAERR))
		return;
	if (j->retention_days > 0)
		r.events_days = r.logs_days = j->retention_days;
	if (bizcal_load(&cal, &j->db) != J_OK || backlog_count(&j->db, &cal,
	    j->name, &r, j->o->now_ms, &n, &what) != J_OK)
		log_debug("no backlog in the metrics: %s", j->db.err);
	else if (n >= 0)
		job_gauge(j, "backlog", "Work waiting for the job after its last "
		    "run, as jobs_status counts it: days to roll up, rows past "
		    "retention, expired reservations, drifted products, rows to "
		    "retire.", (double)n);
	bizcal_free(&cal);
}

int
job_end(struct job *j, int rc, bool stopped, const char *summary)
{
	if (rc == J_OK)
		log_info("%s", summary);
	else
		log_error("%s", summary);
	log_debug("longest write transaction: %lld ms", (long long)j->db.longest_write);
	if (j->db.wal_waits > 0)
		log_debug("waited %lld ms in all, %d times, for the write-ahead log "
		    "to start over", (long long)j->db.wal_waited, j->db.wal_waits);
	j->run.quiet = rc != J_OK;
	runlog_finish(&j->run, rc, stopped, summary);
	if (!j->o->dry_run && rc != J_TEMPFAIL)
		record_outcome(j, rc, summary);
	backlog_gauge(j, rc);
	if (!j->o->dry_run)
		job_metrics(j->name, j->o, &j->db, rc, j->run.rows, j->run.bytes,
		    job_seconds(j), j->gauges, j->ngauges);
	if (db_close(&j->db) != J_OK && rc == J_OK) {
		log_error("%s", j->db.err);
		rc = J_SOFTWARE;
	}
	lock_close(&j->lock);
	return rc;
}

double
job_seconds(const struct job *j)
{
	return (double)(db_mono_ms() - j->started) / 1000;
}
