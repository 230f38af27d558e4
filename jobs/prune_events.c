/*
 * prune_events: move analytics_events older than the retention window into
 * gzip JSON Lines archives, then delete them (SPEC sections 5 and 6).  It
 * refuses while a day to prune has no rollup or a stale one: the day's
 * totals live on only in analytics_daily once its events are gone.
 */
#include <stdio.h>
#include <string.h>

#include "archive.h"
#include "cli.h"
#include "job.h"
#include "log.h"
#include "prune.h"
#include "status.h"
#include "timefmt.h"

#define DEFAULT_RETENTION_DAYS	90
#define DEFAULT_BATCH		2000	/* rows per file and per transaction: about 40 ms */

enum { OPT_RETENTION = 256, OPT_SKIP_CHECK };

struct prune_args {
	long retention_days;
	bool skip_rollup_check;
};

static const struct cli_option options[] = {
	{ "retention-days", "N", OPT_RETENTION, "keep the last N days (1..36500, default 90)" },
	{ "skip-rollup-check", NULL, OPT_SKIP_CHECK, "prune days even without a fresh rollup" },
	{ NULL, NULL, 0, NULL },
};

static int
handle(void *ctx, int key, const char *arg, char *err, size_t size)
{
	struct prune_args *p = ctx;

	if (key == OPT_SKIP_CHECK) {
		p->skip_rollup_check = true;
		return 0;
	}
	if (cli_number(arg, 1, 36500, &p->retention_days) != 0) {
		snprintf(err, size, "--retention-days: '%s' is not a number of "
		    "days from 1 to 36500", arg);
		return J_USAGE;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct prune_args args = { DEFAULT_RETENTION_DAYS, false };
	const struct cli_spec spec = {
		"prune_events", "[--db PATH] (--archive-dir DIR | --no-archive) [options]",
		"Archive analytics_events older than the retention window (days: UTC,\n"
		"or the business time zone's), then delete them.  Refuses (65) while\n"
		"such a day is not rolled up.",
		CLI_NOW | CLI_BATCH | CLI_RUNTIME | CLI_ARCHIVE | CLI_METRICS, DEFAULT_BATCH,
		options, handle, &args,
	};
	struct prune_ctx ctx;
	struct archive_hooks hooks;
	struct bizcal cal;
	struct job_opts o;
	struct job j;
	char summary[2048], days[1024];
	int64_t cutoff;
	bool stopped = false;
	int rc;

	if ((rc = cli_parse(&spec, argc, argv, &o)) != 0)
		return rc == CLI_EXIT_DONE ? J_OK : rc;
	if ((rc = job_begin(&j, spec.name, &o)) != J_OK)
		return rc;
	j.retention_days = args.retention_days;
	/* 00:00 of the day retention_days before today: the shop's days. */
	if ((rc = bizcal_load(&cal, &j.db)) != J_OK)
		return job_end(&j, rc, false, j.db.err);
	cutoff = bizcal_start(&cal, bizcal_day(&cal, o.now_ms) -
	    args.retention_days * TS_MS_PER_DAY);

	memset(&ctx, 0, sizeof(ctx));
	ctx.skip_rollup_check = args.skip_rollup_check;
	ctx.cal = &cal;
	ctx.cutoff = cutoff;
	prune_hooks(&hooks, &ctx);
	/* A bad --archive-dir is named before any refusal about the data. */
	rc = o.archive_dir ? archive_dir_check(o.archive_dir, summary,
	    sizeof(summary)) : J_OK;
	if (rc == J_OK && !args.skip_rollup_check) {
		rc = prune_check_rollups(&j.db, &cal, cutoff, days, sizeof(days));
		if (rc == J_DATAERR)
			snprintf(summary, sizeof(summary), "refusing to prune: days "
			    "without a fresh rollup: %s (run rollup_daily first, or "
			    "give --skip-rollup-check); nothing deleted", days);
		else if (rc == J_TEMPFAIL)
			snprintf(summary, sizeof(summary), "not pruning now: %s; "
			    "nothing deleted, try again later", days);
		else if (rc != J_OK)
			snprintf(summary, sizeof(summary), "%s", j.db.err);
	}
	if (rc == J_OK)
		rc = archive_pass(&j, "analytics_events", cutoff, &hooks, NULL, &stopped,
		    summary, sizeof(summary));
	bizcal_free(&cal);
	return job_end(&j, rc, stopped, summary);
}
