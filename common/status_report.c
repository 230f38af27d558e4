/*
 * Reading and judging jobs_status's report (see status_report.h): each
 * job's last outcome, backlog and stock drift, the problem --check fails on,
 * the archive files and a copy's leftovers.  status_print.c prints it.
 */
#include <stdio.h>
#include <string.h>

#include "backlog.h"
#include "dbfile.h"
#include "restore.h"
#include "status.h"
#include "status_report.h"
#include "stock.h"
#include "timefmt.h"

/* The programs, in the report's order. */
static const char *const jobs[] = { "rollup_daily", "prune_events",
    "archive_logs", "expire_reservations", "reconcile_stock",
    "restore_archive", "retire_table" };
_Static_assert(sizeof(jobs) / sizeof(jobs[0]) == STATUS_JOBS,
    "STATUS_JOBS counts the programs reported");

/* The tables whose archive files --verify-archives reads (while they exist). */
static const char *const tables[] = { "analytics_events", "system_logs",
    "product_reservations", "analytics" };

static char *
text_of(sqlite3_stmt *st, int col, char *out, size_t size)
{
	const unsigned char *v = sqlite3_column_text(st, col);

	snprintf(out, size, "%s", v ? (const char *)v : "");
	return out;
}

/*
 * The last outcome: jobs_meta '<job>.last_run' (every run that ended), unless
 * job_runs has a later run that never ended (running, or died).
 */
static int
read_outcome(struct db *db, struct job_status *s)
{
	sqlite3_stmt *st = NULL;
	char key[64];
	bool row;
	int rc;

	snprintf(key, sizeof(key), "%s.last_run", s->job);
	rc = db_prepare(db, &st, "SELECT json_extract(value, '$.ended_at'), "
	    "json_extract(value, '$.exit_code'), json_extract(value, '$.rows'), "
	    "json_extract(value, '$.seconds'), json_extract(value, '$.message') "
	    "FROM jobs_meta WHERE key = :k");
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":k", key);
	if (rc == J_OK && (rc = db_step(db, st, &row)) == J_OK && row) {
		s->ran = true;
		text_of(st, 0, s->ended, sizeof(s->ended));
		s->exit_code = sqlite3_column_int64(st, 1);
		s->rows = sqlite3_column_int64(st, 2);
		s->seconds = sqlite3_column_double(st, 3);
		text_of(st, 4, s->message, sizeof(s->message));
		snprintf(s->result, sizeof(s->result), "%s",
		    s->exit_code == 0 ? "ok" : "failed");
	}
	db_finalize(&st);
	if (rc != J_OK)
		return rc;
	snprintf(key, sizeof(key), "%s.last_success", s->job);
	rc = db_prepare(db, &st, "SELECT value FROM jobs_meta WHERE key = :k");
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":k", key);
	if (rc == J_OK && (rc = db_step(db, st, &row)) == J_OK && row)
		text_of(st, 0, s->last_success, sizeof(s->last_success));
	db_finalize(&st);
	if (rc != J_OK)
		return rc;

	/* A run that never ended is newer than any recorded outcome. */
	rc = db_prepare(db, &st, "SELECT status, started_at, rows, message, "
	    "ended_at FROM job_runs WHERE job = :job ORDER BY id DESC LIMIT 1");
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":job", s->job);
	if (rc == J_OK && (rc = db_step(db, st, &row)) == J_OK && row) {
		char status[16], started[32];

		text_of(st, 0, status, sizeof(status));
		text_of(st, 1, started, sizeof(started));
		if ((strcmp(status, "running") == 0 || strcmp(status, "died") == 0) &&
		    strcmp(started, s->ended) > 0) {
			s->ran = true;
			snprintf(s->result, sizeof(s->result), "%s", status);
			snprintf(s->ended, sizeof(s->ended), "%s", started);
			s->rows = sqlite3_column_int64(st, 2);
			s->seconds = 0;
			text_of(st, 3, s->message, sizeof(s->message));
		} else if (strcmp(status, "stopped") == 0 && strcmp(s->result, "ok") == 0) {
			snprintf(s->result, sizeof(s->result), "stopped");
		}
	}
	db_finalize(&st);
	return rc;
}

/* The drift reconcile_stock's last run left (not a check yet: !known). */
static int
read_drift(struct db *db, struct status_drift *d)
{
	sqlite3_stmt *st = NULL;
	bool row;
	int rc;

	memset(d, 0, sizeof(*d));
	rc = db_prepare(db, &st, "SELECT json_extract(value, '$.checked_at'), "
	    "json_extract(value, '$.complete'), json_extract(value, '$.products'), "
	    "json_extract(value, '$.drifted'), json_extract(value, '$.fixed'), "
	    "json_extract(value, '$.oversold'), json_extract(value, '$.orphan_moves'), "
	    "json_extract(value, '$.orphan_products') FROM jobs_meta "
	    "WHERE key = :k AND json_valid(value)");
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":k", STOCK_STATE_KEY);
	if (rc == J_OK && (rc = db_step(db, st, &row)) == J_OK && row) {
		d->known = true;
		text_of(st, 0, d->checked_at, sizeof(d->checked_at));
		d->complete = sqlite3_column_int64(st, 1) != 0;
		d->products = sqlite3_column_int64(st, 2);
		d->drifted = sqlite3_column_int64(st, 3);
		d->fixed = sqlite3_column_int64(st, 4);
		d->oversold = sqlite3_column_int64(st, 5);
		d->orphan_moves = sqlite3_column_int64(st, 6);
		d->orphan_products = sqlite3_column_int64(st, 7);
	}
	db_finalize(&st);
	return rc;
}

static int
read_backlog(struct db *db, const struct bizcal *cal,
    const struct backlog_retention *r, int64_t now, struct job_status *s)
{
	int rc = backlog_count(db, cal, s->job, r, now, &s->behind,
	    &s->behind_what);

	if (rc == J_OK && strcmp(s->job, "reconcile_stock") == 0)
		rc = read_drift(db, &s->drift);
	return rc;
}

/* Milliseconds of an ISO time we wrote ourselves; -1 if unreadable. */
static int64_t
iso_ms(const char *s)
{
	struct ts t;

	return ts_parse_text(s, strlen(s), &t) == TS_INVALID ? -1 : t.ms;
}

static void
judge(long max_age_h, int64_t now, struct job_status *s)
{
	int64_t ok = s->last_success[0] ? iso_ms(s->last_success) : -1;
	int64_t max_age = max_age_h * 3600 * 1000LL;

	if (!s->scheduled)
		return;
	if (strcmp(s->result, "failed") == 0)
		snprintf(s->problem, sizeof(s->problem), "last run failed (exit %lld) "
		    "at %s: %s", (long long)s->exit_code, s->ended, s->message);
	else if (strcmp(s->result, "died") == 0)
		snprintf(s->problem, sizeof(s->problem), "last run died (killed or "
		    "crashed) after starting at %s; the next run carries on", s->ended);
	else if (strcmp(s->result, "running") == 0 && iso_ms(s->ended) >= 0 &&
	    now - iso_ms(s->ended) > max_age)
		snprintf(s->problem, sizeof(s->problem), "running since %s, over "
		    "%ld hours (or it died and no run has come since)", s->ended,
		    max_age_h);
	else if (ok < 0)
		snprintf(s->problem, sizeof(s->problem), "has never run successfully");
	else if (now - ok > max_age)
		snprintf(s->problem, sizeof(s->problem), "overdue: last success at "
		    "%s, over %ld hours ago", s->last_success, max_age_h);
	else if (s->drift.known && s->drift.drifted > s->drift.fixed)
		snprintf(s->problem, sizeof(s->problem), "the check at %s found %lld "
		    "products whose stock drifted from the ledger, not fixed: see "
		    "reconcile_stock, reconcile_stock --product ID, then "
		    "reconcile_stock --fix", s->drift.checked_at,
		    (long long)(s->drift.drifted - s->drift.fixed));
}

static int
read_leftovers(struct db *db, const char *db_path, struct status_leftovers *l)
{
	char id[DBFILE_ID_MAX], owned[600];
	sqlite3_stmt *st = NULL;
	bool row;
	int rc;

	memset(l, 0, sizeof(*l));
	if ((rc = dbfile_ids(db, id, owned, sizeof(owned))) != J_OK ||
	    (rc = dbfile_copied(db, db_path, &l->copied)) != J_OK)
		return rc;
	rc = db_prepare(db, &st, "SELECT archive_dir, path FROM archive_manifest "
	    "WHERE state = 'writing' ORDER BY id");
	while (rc == J_OK && (rc = db_step(db, st, &row)) == J_OK && row) {
		const char *path = (const char *)sqlite3_column_text(st, 1);

		if (dbfile_owns(owned, path))
			continue;	/* its own: the next run removes it */
		if (l->n < STATUS_LEFTOVERS_SHOWN)
			snprintf(l->path[l->n], sizeof(l->path[0]), "%s/%s",
			    (const char *)sqlite3_column_text(st, 0), path);
		l->n++;
	}
	db_finalize(&st);
	return rc;
}

int
status_read(struct status_report *r, struct db *db, const char *db_path,
    const struct bizcal *cal, const struct status_opts *o, int64_t now)
{
	size_t i;
	int rc = J_OK;

	memset(r, 0, sizeof(*r));
	r->db_path = db_path;
	r->cal = cal;
	r->now = now;
	r->n = STATUS_JOBS;
	r->verified = o->verify;
	r->healthy = true;
	for (i = 0; rc == J_OK && i < r->n; i++) {
		struct job_status *s = &r->jobs[i];

		s->job = jobs[i];
		/* Run by hand, when needed: never overdue. */
		s->scheduled = strcmp(jobs[i], "restore_archive") != 0 &&
		    strcmp(jobs[i], "retire_table") != 0;
		if ((rc = read_outcome(db, s)) == J_OK &&
		    (rc = read_backlog(db, cal, &o->retention, now, s)) == J_OK)
			judge(o->max_age_h, now, s);
		r->healthy &= s->problem[0] == '\0';
	}
	for (i = 0; rc == J_OK && o->verify && i < sizeof(tables) / sizeof(tables[0]); i++) {
		int64_t f, d;

		rc = restore_verify_all(db, tables[i], &f, &d);
		r->read += f;
		r->damaged += d;
	}
	if (rc == J_OK)
		rc = db_query_int64(db, "SELECT count(*) FROM archive_manifest WHERE "
		    "state IN ('done', 'restored')", &r->files, &(bool){ false });
	if (rc == J_OK)
		rc = read_leftovers(db, db_path, &r->left);
	r->healthy &= r->damaged == 0;
	return rc;
}
