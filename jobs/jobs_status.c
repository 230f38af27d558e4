/*
 * jobs_status: what the jobs did and how far behind they are, read from the
 * database alone (job_runs, jobs_meta, rollup_days, archive_manifest and the
 * tables themselves), never writing.  --check turns it into a monitoring
 * probe: exit 1 when a scheduled job is overdue, failed or died, or when
 * reconcile_stock's last check found stock drift that was not fixed.  The
 * report is read, judged and printed in common/status_report.h.
 */
#include <stdio.h>

#include "backlog.h"
#include "bizday.h"
#include "cli.h"
#include "db.h"
#include "log.h"
#include "schema.h"
#include "status.h"
#include "status_report.h"

#define STATUS_UNHEALTHY	1	/* --check: a job needs attention */
#define DEFAULT_MAX_AGE_H	26	/* daily jobs, with slack for a late run */

enum { OPT_CHECK = 256, OPT_JSON, OPT_VERIFY, OPT_MAX_AGE, OPT_EV_DAYS, OPT_LOG_DAYS };

struct args {
	bool check, json;
	struct status_opts st;		/* the rest: what the report assumes */
};

static const struct cli_option options[] = {
	{ "check", NULL, OPT_CHECK, "exit 1 if a job is overdue, failed or died, or stock drift is unfixed" },
	{ "json", NULL, OPT_JSON, "print one JSON object instead of the table" },
	{ "verify-archives", NULL, OPT_VERIFY, "read and check every archive file the manifest lists (of tables that exist)" },
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
		a->st.verify = true;
		return 0;
	case OPT_MAX_AGE:
		if (cli_number(arg, 1, 87600, &a->st.max_age_h) == 0)
			return 0;
		snprintf(err, size, "--max-age: '%s' is not a number of hours from 1 to 87600", arg);
		return J_USAGE;
	default:
		if (cli_number(arg, 1, 36500, key == OPT_EV_DAYS ?
		    &a->st.retention.events_days : &a->st.retention.logs_days) == 0)
			return 0;
		snprintf(err, size, "--%s: '%s' is not a number of days from 1 to 36500",
		    key == OPT_EV_DAYS ? "events-retention-days" : "logs-retention-days", arg);
		return J_USAGE;
	}
}

int
main(int argc, char **argv)
{
	struct args a = { false, false, { DEFAULT_MAX_AGE_H,
	    { BACKLOG_EVENTS_DAYS, BACKLOG_LOGS_DAYS }, false } };
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
	struct status_report r;
	struct job_opts o;
	struct db db;
	struct bizcal cal = { false, NULL, 0 };
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
	if (rc == J_OK)
		rc = status_read(&r, &db, o.db_path, &cal, &a.st, o.now_ms);
	if (rc != J_OK) {
		log_error("%s", db.err);
		bizcal_free(&cal);
		db_close(&db);
		return rc;
	}
	if (a.json)
		status_print_json(&r);
	else
		status_print_text(&r);
	bizcal_free(&cal);
	if (db_close(&db) != J_OK) {
		log_error("%s", db.err);
		return J_SOFTWARE;
	}
	return a.check && !r.healthy ? STATUS_UNHEALTHY : J_OK;
}
