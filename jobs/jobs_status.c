/*
 * jobs_status: what the jobs did and how far behind they are, read from the
 * database alone (job_runs, jobs_meta, rollup_days, archive_manifest and the
 * tables themselves), never writing.  --check turns it into a monitoring
 * probe: exit 1 when a scheduled job is overdue, failed or died, or when
 * reconcile_stock's last check found stock drift that was not fixed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "backlog.h"
#include "bizday.h"
#include "cli.h"
#include "db.h"
#include "dbfile.h"
#include "log.h"
#include "restore.h"
#include "rollup.h"
#include "schema.h"
#include "status.h"
#include "stock.h"
#include "timefmt.h"
#include "tsprobe.h"

#define STATUS_UNHEALTHY	1	/* --check: a job needs attention */
#define DEFAULT_MAX_AGE_H	26	/* daily jobs, with slack for a late run */

enum { OPT_CHECK = 256, OPT_JSON, OPT_VERIFY, OPT_MAX_AGE, OPT_EV_DAYS, OPT_LOG_DAYS };

struct args {
	bool check, json, verify;
	long max_age_h, events_days, logs_days;
};

static const struct cli_option options[] = {
	{ "check", NULL, OPT_CHECK, "exit 1 if a job is overdue, failed or died, or stock drift is unfixed" },
	{ "json", NULL, OPT_JSON, "print one JSON object instead of the table" },
	{ "verify-archives", NULL, OPT_VERIFY, "read every archive file the manifest lists and check it" },
	{ "max-age", "HOURS", OPT_MAX_AGE, "a job is overdue with no success for this long (default 26)" },
	{ "events-retention-days", "N", OPT_EV_DAYS, "prune_events' retention, for its backlog (default 90)" },
	{ "logs-retention-days", "N", OPT_LOG_DAYS, "archive_logs' retention, for its backlog (default 30)" },
	{ NULL, NULL, 0, NULL },
};

static int
handle(void *ctx, int key, const char *arg, char *err, size_t size)
{
	struct args *a = ctx;

	switch (key) {
	case OPT_CHECK:
		a->check = true;
		return 0;
	case OPT_JSON:
		a->json = true;
		return 0;
	case OPT_VERIFY:
		a->verify = true;
		return 0;
	case OPT_MAX_AGE:
		if (cli_number(arg, 1, 87600, &a->max_age_h) == 0)
			return 0;
		snprintf(err, size, "--max-age: '%s' is not a number of hours from 1 to 87600", arg);
		return J_USAGE;
	default:
		if (cli_number(arg, 1, 36500, key == OPT_EV_DAYS ? &a->events_days :
		    &a->logs_days) == 0)
			return 0;
		snprintf(err, size, "--%s: '%s' is not a number of days from 1 to 36500",
		    key == OPT_EV_DAYS ? "events-retention-days" : "logs-retention-days", arg);
		return J_USAGE;
	}
}

/* reconcile_stock's last outcome (STOCK_STATE_KEY in jobs_meta, stock.h). */
struct drift {
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
	struct drift drift;		/* reconcile_stock's last check */
	char problem[1200];		/* "" if healthy */
};

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
read_drift(struct db *db, struct drift *d)
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
read_backlog(struct db *db, const struct bizcal *cal, const struct args *a,
    int64_t now, struct job_status *s)
{
	const struct backlog_retention r = { a->events_days, a->logs_days };
	int rc = backlog_count(db, cal, s->job, &r, now, &s->behind,
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
judge(const struct args *a, int64_t now, struct job_status *s)
{
	int64_t ok = s->last_success[0] ? iso_ms(s->last_success) : -1;
	int64_t max_age = a->max_age_h * 3600 * 1000LL;

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
		    a->max_age_h);
	else if (ok < 0)
		snprintf(s->problem, sizeof(s->problem), "has never run successfully");
	else if (now - ok > max_age)
		snprintf(s->problem, sizeof(s->problem), "overdue: last success at "
		    "%s, over %ld hours ago", s->last_success, a->max_age_h);
	else if (s->drift.known && s->drift.drifted > s->drift.fixed)
		snprintf(s->problem, sizeof(s->problem), "the check at %s found %lld "
		    "products whose stock drifted from the ledger, not fixed: see "
		    "reconcile_stock, reconcile_stock --product ID, then "
		    "reconcile_stock --fix", s->drift.checked_at,
		    (long long)(s->drift.drifted - s->drift.fixed));
}

#define LEFTOVERS_SHOWN	10

/*
 * What a copy leaves alone (dbfile.h): unfinished archives named with another
 * database id, which this database never removes.  Not a problem of the
 * jobs (the original may still be writing them); the operator decides.
 */
struct leftovers {
	bool copied;			/* the file is not the one the id was made in */
	int64_t n;
	char path[LEFTOVERS_SHOWN][1200];
};

static int
read_leftovers(struct db *db, const char *db_path, struct leftovers *l)
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
		if (l->n < LEFTOVERS_SHOWN)
			snprintf(l->path[l->n], sizeof(l->path[0]), "%s/%s",
			    (const char *)sqlite3_column_text(st, 0), path);
		l->n++;
	}
	db_finalize(&st);
	return rc;
}

/*
 * What a day is: "Europe/Dublin from 2025-06-01 (UTC before)", the newest
 * zone first; "UTC (no business time zone set)" without one.
 */
static void
business_line(const struct bizcal *c, char *out, size_t size)
{
	size_t i, len;
	char day[11];

	if (!c->zoned) {
		snprintf(out, size, "UTC (no business time zone set)");
		return;
	}
	out[0] = '\0';
	for (i = c->n; i-- > 0; ) {
		len = strlen(out);
		if (c->p[i].from_day == BIZ_FOREVER) {
			snprintf(out + len, size - len, "%s%s", c->p[i].tz.name,
			    c->n == 1 ? " (from the beginning)" : " before)");
			break;
		}
		ts_format_day(c->p[i].from_day, day);
		snprintf(out + len, size - len, "%s from %s%s", c->p[i].tz.name, day,
		    i == c->n - 1 ? " (" : ", ");
	}
}

static void
json_str(const char *s)
{
	char buf[4096] = "";

	log_json_escape(buf, sizeof(buf), s);
	printf("\"%s\"", buf);
}

static void
print_json(const char *db_path, int64_t now, const struct job_status *js, size_t n,
    int64_t files, int64_t damaged, bool verified, bool healthy,
    const struct leftovers *l, const struct bizcal *cal)
{
	char iso[32], biz[512];
	size_t i;
	int64_t k;

	ts_format_iso(now, iso);
	printf("{\"database\":");
	json_str(db_path);
	business_line(cal, biz, sizeof(biz));
	printf(",\"business_day\":");
	json_str(biz);
	printf(",\"now\":\"%s\",\"healthy\":%s,\"jobs\":[", iso, healthy ? "true" : "false");
	for (i = 0; i < n; i++) {
		const struct job_status *s = &js[i];

		printf("%s{\"job\":\"%s\",\"scheduled\":%s,", i ? "," : "", s->job,
		    s->scheduled ? "true" : "false");
		if (s->ran) {
			printf("\"last_run\":{\"at\":\"%s\",\"result\":\"%s\",\"exit_code\":%lld,"
			    "\"rows\":%lld,\"seconds\":%.3f,\"message\":", s->ended, s->result,
			    (long long)s->exit_code, (long long)s->rows, s->seconds);
			json_str(s->message);
			printf("},");
		} else {
			printf("\"last_run\":null,");
		}
		if (s->last_success[0])
			printf("\"last_success\":\"%s\",", s->last_success);
		else
			printf("\"last_success\":null,");
		if (s->behind >= 0) {
			printf("\"behind\":{\"count\":%lld,\"what\":", (long long)s->behind);
			json_str(s->behind_what);
			printf("},");
		} else {
			printf("\"behind\":null,");
		}
		if (s->drift.known) {
			printf("\"drift\":{\"checked_at\":");
			json_str(s->drift.checked_at);
			printf(",\"complete\":%s,"
			    "\"products\":%lld,\"drifted\":%lld,\"fixed\":%lld,"
			    "\"unfixed\":%lld,\"oversold\":%lld,\"orphan_moves\":%lld,"
			    "\"orphan_products\":%lld},",
			    s->drift.complete ? "true" : "false",
			    (long long)s->drift.products, (long long)s->drift.drifted,
			    (long long)s->drift.fixed,
			    (long long)(s->drift.drifted - s->drift.fixed),
			    (long long)s->drift.oversold, (long long)s->drift.orphan_moves,
			    (long long)s->drift.orphan_products);
		} else if (strcmp(s->job, "reconcile_stock") == 0) {
			printf("\"drift\":null,");
		}
		printf("\"problem\":");
		if (s->problem[0])
			json_str(s->problem);
		else
			printf("null");
		printf("}");
	}
	printf("],\"archives\":{\"files\":%lld,\"verified\":%s,\"damaged\":", (long long)files,
	    verified ? "true" : "false");
	if (verified)
		printf("%lld", (long long)damaged);
	else
		printf("null");
	printf("},\"copy_of_another_file\":%s,\"left_alone\":{\"count\":%lld,"
	    "\"paths\":[", l->copied ? "true" : "false", (long long)l->n);
	for (k = 0; k < l->n && k < LEFTOVERS_SHOWN; k++) {
		printf("%s", k ? "," : "");
		json_str(l->path[k]);
	}
	printf("]}}\n");
}

/* The stock ledger line under the table (reconcile_stock only). */
static void
print_drift(const struct job_status *s)
{
	const struct drift *d = &s->drift;

	if (strcmp(s->job, "reconcile_stock") != 0)
		return;
	if (!d->known) {
		printf("\nstock ledger: never checked (reconcile_stock)\n");
		return;
	}
	printf("\nstock ledger: checked %lld products%s at %s:\n  %lld drifted "
	    "from the ledger (%lld fixed, %lld not), %lld oversold, %lld orphan "
	    "moves naming %lld missing products\n", (long long)d->products,
	    d->complete ? "" : " (stopped before the end)", d->checked_at,
	    (long long)d->drifted, (long long)d->fixed,
	    (long long)(d->drifted - d->fixed), (long long)d->oversold,
	    (long long)d->orphan_moves, (long long)d->orphan_products);
}

static void
print_text(const char *db_path, int64_t now, const struct job_status *js, size_t n,
    int64_t files, int64_t damaged, bool verified, const struct leftovers *l,
    const struct bizcal *cal)
{
	char iso[32], when[32], rows[24], secs[24], biz[512];
	size_t i;
	int64_t k;
	int problems = 0;

	ts_format_iso(now, iso);
	business_line(cal, biz, sizeof(biz));
	printf("database %s, now %s\nbusiness day: %s\n\n", db_path, iso, biz);
	printf("%-20s %-20s %-8s %10s %9s  %s\n", "job", "last run (UTC)", "result",
	    "rows", "time", "behind");
	for (i = 0; i < n; i++) {
		const struct job_status *s = &js[i];

		snprintf(when, sizeof(when), "%.19s", s->ran ? s->ended : "never");
		if (s->ran && strlen(when) > 10)
			when[10] = ' ';
		snprintf(rows, sizeof(rows), "%lld", (long long)s->rows);
		snprintf(secs, sizeof(secs), "%.1f s", s->seconds);
		printf("%-20s %-20s %-8s %10s %9s  ", s->job, when, s->ran ? s->result : "-",
		    s->ran ? rows : "-", s->ran && strcmp(s->result, "running") != 0 &&
		    strcmp(s->result, "died") != 0 ? secs : "-");
		if (s->behind >= 0)
			printf("%lld %s\n", (long long)s->behind, s->behind_what);
		else
			printf("-\n");
	}
	for (i = 0; i < n; i++)
		print_drift(&js[i]);
	printf("\narchives: %lld files in the manifest", (long long)files);
	if (verified)
		printf(", %lld damaged", (long long)damaged);
	printf("\n");
	for (i = 0; i < n; i++)
		if (js[i].problem[0]) {
			if (problems++ == 0)
				printf("\nproblems:\n");
			printf("  %s: %s\n", js[i].job, js[i].problem);
		}
	if (verified && damaged > 0)
		printf("%s  archives: %lld damaged files (named above)\n",
		    problems++ ? "" : "\nproblems:\n", (long long)damaged);
	if (problems == 0)
		printf("\nno problems\n");
	if (l->copied)
		printf("\nnote: this file is not the one its archive id was made in "
		    "(a copy, or moved): its next job run takes a new id\n");
	if (l->n > 0)
		printf("\nleft alone: %lld unfinished archives named with another "
		    "database id (a copy's inheritance; delete each, and its "
		    "archive_manifest row, once no database with that id uses it):\n",
		    (long long)l->n);
	for (k = 0; k < l->n && k < LEFTOVERS_SHOWN; k++)
		printf("  %s\n", l->path[k]);
	if (l->n > LEFTOVERS_SHOWN)
		printf("  ... and %lld more\n", (long long)(l->n - LEFTOVERS_SHOWN));
}

int
main(int argc, char **argv)
{
	static const char *const jobs[] = { "rollup_daily", "prune_events",
	    "archive_logs", "expire_reservations", "reconcile_stock",
	    "restore_archive", "retire_table" };
	static const char *const tables[] = { "analytics_events", "system_logs",
	    "product_reservations" };
	struct args a = { false, false, false, DEFAULT_MAX_AGE_H,
	    BACKLOG_EVENTS_DAYS, BACKLOG_LOGS_DAYS };
	const struct cli_spec spec = {
		"jobs_status", "[--db PATH] [--check] [--json] [--verify-archives] [options]",
		"Show, per job, the last run (time, result, rows, duration) and how far\n"
		"behind it is (days not rolled up, rows past retention, expired\n"
		"reservations waiting, products drifted from the stock ledger).  Reads\n"
		"only; takes no lock.  With --check, exit 1 when a scheduled job is\n"
		"overdue, its last run failed or died, the last stock check found drift\n"
		"that was not fixed, or an archive is damaged (with --verify-archives).",
		CLI_NOW, 0, options, handle, &a,
	};
	struct job_status js[sizeof(jobs) / sizeof(jobs[0])];
	struct job_opts o;
	struct db db;
	struct bizcal cal = { false, NULL, 0 };
	struct leftovers left;
	int64_t files = 0, damaged = 0;
	size_t i, n = sizeof(jobs) / sizeof(jobs[0]);
	bool healthy = true;
	int rc;

	if ((rc = cli_parse(&spec, argc, argv, &o)) != 0)
		return rc == CLI_EXIT_DONE ? J_OK : rc;
	if ((rc = db_open(&db, o.db_path, DB_READ, o.busy_timeout)) != J_OK) {
		log_error("%s", db.err);
		return rc;
	}
	rc = schema_require(&db);
	if (rc == J_OK)
		rc = bizcal_load(&cal, &db);
	memset(js, 0, sizeof(js));
	for (i = 0; rc == J_OK && i < n; i++) {
		js[i].job = jobs[i];
		/* Run by hand, when needed: never overdue. */
		js[i].scheduled = strcmp(jobs[i], "restore_archive") != 0 &&
		    strcmp(jobs[i], "retire_table") != 0;
		if ((rc = read_outcome(&db, &js[i])) == J_OK &&
		    (rc = read_backlog(&db, &cal, &a, o.now_ms, &js[i])) == J_OK)
			judge(&a, o.now_ms, &js[i]);
		healthy &= js[i].problem[0] == '\0';
	}
	for (i = 0; rc == J_OK && i < sizeof(tables) / sizeof(tables[0]); i++) {
		int64_t f = 0, d = 0;

		if (a.verify)
			rc = restore_verify_all(&db, tables[i], &f, &d);
		files += f;
		damaged += d;
	}
	if (rc == J_OK && !a.verify)
		rc = db_query_int64(&db, "SELECT count(*) FROM archive_manifest WHERE "
		    "state IN ('done', 'restored')", &files, &(bool){ false });
	if (rc == J_OK)
		rc = read_leftovers(&db, o.db_path, &left);
	if (rc != J_OK) {
		log_error("%s", db.err);
		bizcal_free(&cal);
		db_close(&db);
		return rc;
	}
	healthy &= damaged == 0;
	if (a.json)
		print_json(o.db_path, o.now_ms, js, n, files, damaged, a.verify,
		    healthy, &left, &cal);
	else
		print_text(o.db_path, o.now_ms, js, n, files, damaged, a.verify,
		    &left, &cal);
	bizcal_free(&cal);
	if (db_close(&db) != J_OK) {
		log_error("%s", db.err);
		return J_SOFTWARE;
	}
	return a.check && !healthy ? STATUS_UNHEALTHY : J_OK;
}
