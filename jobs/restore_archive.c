/*
 * restore_archive: put archived rows back into their table -- one file, a
 * day, a range of days or every archived day of a table -- exactly once, and
 * move the restored files out of the live archive tree (SPEC 6; the
 * protocol is in common/restore.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "dbfile.h"
#include "job.h"
#include "log.h"
#include "restore.h"
#include "status.h"
#include "timefmt.h"

enum { OPT_TABLE = 256, OPT_FILE, OPT_DATE, OPT_FROM, OPT_TO, OPT_ADOPT };

struct restore_args {
	struct restore_opts ro;
	bool date, from, to;
	const char *adopt;	/* --adopt-id, or NULL */
};

static const struct cli_option options[] = {
	{ "table", "TABLE", OPT_TABLE, "analytics_events, system_logs, product_reservations or analytics" },
	{ "file", "PATH", OPT_FILE, "restore this one archive file (its table is known)" },
	{ "date", "YYYY-MM-DD", OPT_DATE, "restore the archives of this UTC day" },
	{ "from", "YYYY-MM-DD", OPT_FROM, "restore from this day ..." },
	{ "to", "YYYY-MM-DD", OPT_TO, "... through this day (inclusive)" },
	{ "adopt-id", "ID", OPT_ADOPT, "take archives named with database id ID as this database's own" },
	{ NULL, NULL, 0, NULL },
};

static int
handle(void *ctx, int key, const char *arg, char *err, size_t size)
{
	struct restore_args *a = ctx;
	int64_t day;

	switch (key) {
	case OPT_TABLE:
		if (restore_owner(arg) == NULL) {
			snprintf(err, size, "--table: '%s' is not one of analytics_events, "
			    "system_logs, product_reservations, analytics", arg);
			return J_USAGE;
		}
		a->ro.table = arg;
		return 0;
	case OPT_FILE:
		a->ro.file = arg;
		return 0;
	case OPT_ADOPT:
		if (arg[0] == '\0' || strlen(arg) >= DBFILE_ID_MAX - 1 ||
		    strspn(arg, "0123456789abcdef") != strlen(arg)) {
			snprintf(err, size, "--adopt-id: '%s' is not a database id "
			    "(lowercase hex, as archive file names begin)", arg);
			return J_USAGE;
		}
		a->adopt = arg;
		return 0;
	default:
		break;
	}
	if (ts_parse_day(arg, &day) != 0) {
		snprintf(err, size, "--%s: '%s' is not a date (YYYY-MM-DD)",
		    key == OPT_DATE ? "date" : key == OPT_FROM ? "from" : "to", arg);
		return J_USAGE;
	}
	if (key == OPT_DATE || key == OPT_FROM) {
		ts_format_day(day, a->ro.from);
		a->date |= key == OPT_DATE;
		a->from |= key == OPT_FROM;
	}
	if (key == OPT_DATE || key == OPT_TO) {
		ts_format_day(day, a->ro.to);
		a->to |= key == OPT_TO;
	}
	return 0;
}

static int
check_args(const struct restore_args *a)
{
	if (a->ro.file == NULL && a->ro.table == NULL && a->adopt != NULL)
		return J_OK;
	if (a->ro.file == NULL && a->ro.table == NULL)
		log_error("say what to restore: --table TABLE (with --date or "
		    "--from/--to for some days) or --file PATH");
	else if (a->ro.file != NULL && (a->ro.table || a->date || a->from || a->to))
		log_error("--file restores one file: it takes no --table, --date, "
		    "--from or --to");
	else if (a->date && (a->from || a->to))
		log_error("--date cannot be combined with --from/--to");
	else if (a->from && a->to && strcmp(a->ro.from, a->ro.to) > 0)
		log_error("--from %s is after --to %s", a->ro.from, a->ro.to);
	else
		return J_OK;
	return J_USAGE;
}

/* --adopt-id: see dbfile.h ("moved to another disk"). */
static int
adopt(struct job *j, const char *id, char *summary, size_t size)
{
	int rc = J_OK;

	if (!j->o->dry_run)
		rc = dbfile_adopt(&j->db, id);
	if (rc != J_OK)
		snprintf(summary, size, "%s", j->db.err);
	else
		snprintf(summary, size, "%s archives named with database id %s as "
		    "this database's own: restore_archive moves them and recovery "
		    "removes their unfinished ones", j->o->dry_run ? "would take" :
		    "took", id);
	return rc;
}

int
main(int argc, char **argv)
{
	struct restore_args args = { { NULL, NULL, "", "" }, false, false, false, NULL };
	const struct cli_spec spec = {
		"restore_archive",
		"[--db PATH] (--table TABLE [--date D | --from D --to D] | --file PATH)\n"
		"       [--adopt-id ID] [options]",
		"Put archived rows back into their table, skipping rows already there,\n"
		"one archive file per transaction; restored files move to\n"
		"<table>/_restored/ under the archive directory.  Every file is verified\n"
		"(gzip, rows and ids against the manifest, each row against the table)\n"
		"before anything is restored; a damaged file, a row whose id the table\n"
		"now holds with other content, or a file another database wrote refuses\n"
		"the run (65).",
		CLI_RUNTIME | CLI_METRICS, 0, options, handle, &args,
	};
	struct job_opts o;
	struct job j;
	char summary[2048];
	bool stopped = false;
	int rc;

	if ((rc = cli_parse(&spec, argc, argv, &o)) != 0)
		return rc == CLI_EXIT_DONE ? J_OK : rc;
	if ((rc = check_args(&args)) != J_OK)
		return rc;
	if ((rc = job_begin(&j, spec.name, &o)) != J_OK)
		return rc;
	if (args.adopt != NULL && (rc = adopt(&j, args.adopt, summary,
	    sizeof(summary))) != J_OK)
		return job_end(&j, rc, false, summary);
	if (args.ro.file != NULL || args.ro.table != NULL) {
		if (args.adopt != NULL)
			log_info("%s", summary);
		rc = restore_pass(&j, &args.ro, &stopped, summary, sizeof(summary));
	}
	return job_end(&j, rc, stopped, summary);
}
