/*
 * archive_logs: move system_logs older than the retention window into gzip
 * JSON Lines archives, then delete them (SPEC sections 5 and 6).
 */
#include <stdio.h>

#include "archive.h"
#include "cli.h"
#include "job.h"
#include "status.h"
#include "timefmt.h"

#define DEFAULT_RETENTION_DAYS	30
#define DEFAULT_BATCH		2000	/* rows per file and per transaction: about 40 ms */

enum { OPT_RETENTION = 256 };

static const struct cli_option options[] = {
	{ "retention-days", "N", OPT_RETENTION, "keep the last N days (1..36500, default 30)" },
	{ NULL, NULL, 0, NULL },
};

static int
handle(void *ctx, int key, const char *arg, char *err, size_t size)
{
	(void)key;
	if (cli_number(arg, 1, 36500, ctx) != 0) {
		snprintf(err, size, "--retention-days: '%s' is not a number of "
		    "days from 1 to 36500", arg);
		return J_USAGE;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	long retention_days = DEFAULT_RETENTION_DAYS;
	const struct cli_spec spec = {
		"archive_logs", "[--db PATH] (--archive-dir DIR | --no-archive) [options]",
		"Archive system_logs older than the retention window (UTC days), then\n"
		"delete them.",
		CLI_NOW | CLI_BATCH | CLI_RUNTIME | CLI_ARCHIVE | CLI_METRICS, DEFAULT_BATCH,
		options, handle, &retention_days,
	};
	struct job_opts o;
	struct job j;
	char summary[2048];
	int64_t cutoff;
	bool stopped = false;
	int rc;

	if ((rc = cli_parse(&spec, argc, argv, &o)) != 0)
		return rc == CLI_EXIT_DONE ? J_OK : rc;
	cutoff = ts_floor_day(o.now_ms) - retention_days * TS_MS_PER_DAY;
	if ((rc = job_begin(&j, spec.name, &o)) != J_OK)
		return rc;
	j.retention_days = retention_days;
	rc = archive_pass(&j, "system_logs", cutoff, NULL, NULL, &stopped, summary,
	    sizeof(summary));
	return job_end(&j, rc, stopped, summary);
}
