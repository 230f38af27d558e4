/*
 * The whole pass of an archiving job (archive_pass()): the archiver opened
 * with the job's options, recovery, the run, and the run's one-line summary.
 * prune_events, archive_logs, expire_reservations and retire_table are thin
 * jobs on top of it.
 */
#include <stdio.h>

#include "archive.h"
#include "archive_impl.h"
#include "job.h"
#include "status.h"
#include "timefmt.h"

/* The summary line of a retired table's pass (retire_table). */
static void
retired_summary(const struct job *j, struct archiver *a,
    const char *first, const char *last, char *summary, size_t size)
{
	const struct job_opts *o = j->o;
	char days[64] = "", left[128] = "";
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	/* What is left decides the advice: rows that kept changing while
	 * being archived wait for the next run. */
	if (!o->dry_run && !a->stopped && prepare_owned(a, &st,
	    sqlite3_mprintf("SELECT count(*) FROM \"%w\"", a->table)) == J_OK &&
	    db_step(a->db, st, &(bool){ false }) == J_OK)
		n = sqlite3_column_int64(st, 0);
	db_finalize(&st);
	if (n == 0)
		snprintf(left, sizeof(left), "; the table is empty: migrate can drop it");
	else if (n > 0)
		snprintf(left, sizeof(left), "; %lld rows are left (they changed while "
		    "being archived): run again", (long long)n);
	if (a->days > 0)
		snprintf(days, sizeof(days), " from %lld days (%s..%s)",
		    (long long)a->days, first, last);
	snprintf(summary, size, "%s %lld rows of %s %s %lld files (%lld bytes)%s, "
	    "%lld of them with an unreadable time (date=%s); %.2f s%s",
	    o->dry_run ? "would archive" : o->no_archive ? "deleted" : "archived",
	    (long long)a->rows, a->table, o->no_archive ? "without archive," :
	    o->dry_run ? "into about" : "into", (long long)a->files,
	    (long long)a->bytes, days, (long long)a->undated, ARCHIVE_NO_DAY,
	    job_seconds(j), a->stopped ? "; stopped at --max-runtime, the next run "
	    "goes on" : left);
}

int
archive_pass(struct job *j, const char *table, int64_t cutoff_ms,
    const struct archive_hooks *hooks, const char *row_filter, bool *stopped,
    char *summary, size_t size)
{
	const struct job_opts *o = j->o;
	struct archiver a;
	char cutoff[32], first[11] = "", last[11] = "";
	int rc;

	*stopped = false;
	rc = archive_open(&a, &j->db, &j->run, j->name, table,
	    o->no_archive ? NULL : o->archive_dir, o->batch_size);
	/* No file to order commits against: see db_relax_durability(). */
	if (rc == J_OK && o->no_archive && !o->dry_run)
		rc = db_relax_durability(&j->db);
	a.max_runtime = o->max_runtime;
	a.adapt = !o->batch_given;
	a.dry_run = o->dry_run;
	if (hooks != NULL)
		a.hooks = *hooks;
	a.row_filter = row_filter;
	if (rc == J_OK && !o->dry_run)
		rc = archive_recover(&a);
	if (rc == J_OK)
		rc = archive_run(&a, cutoff_ms);
	ts_format_iso(cutoff_ms, cutoff);
	if (a.days > 0) {
		ts_format_day(a.first_day, first);
		ts_format_day(a.last_day, last);
	}
	if (rc != J_OK)
		snprintf(summary, size, "%s (after %lld rows archived)",
		    archive_error(&a), (long long)a.rows);
	else if (a.retired)
		retired_summary(j, &a, first, last, summary, size);
	else if (a.rows == 0 && !a.stopped)
		snprintf(summary, size, "nothing to do: no %s rows before %s; %lld "
		    "unreadable timestamps", table, cutoff, (long long)a.unreadable);
	else
		snprintf(summary, size, "%s %lld rows of %s %s %lld files (%lld "
		    "bytes) from %lld days (%s..%s) before %s; %lld unreadable "
		    "timestamps; %.2f s%s",
		    o->dry_run ? "would archive" : o->no_archive ? "deleted" : "archived",
		    (long long)a.rows, table, o->no_archive ? "without archive," : "into",
		    (long long)a.files, (long long)a.bytes, (long long)a.days, first,
		    last, cutoff, (long long)a.unreadable, job_seconds(j),
		    a.stopped ? "; stopped at --max-runtime, the next run goes on" : "");
	*stopped = a.stopped;
	archive_close(&a);
	return rc;
}
