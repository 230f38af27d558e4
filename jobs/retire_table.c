/*
 * retire_table: archive every row of a retired table (today the legacy
 * analytics table) through the shared archiver, exactly once, so that a
 * migration can drop the table (SPEC section 2a).  Rows go into partitions
 * by the UTC day of created_at; rows whose time cannot be read go to
 * date=__HIVE_DEFAULT_PARTITION__.
 */
#include <stdio.h>
#include <string.h>

#include "archive.h"
#include "cli.h"
#include "job.h"
#include "log.h"
#include "status.h"

#define DEFAULT_BATCH	2000	/* rows per file and per transaction */

enum { OPT_TABLE = 256 };

/* The tables that can be retired: names never come from input. */
static const char *const retirable[] = { "analytics" };

static const struct cli_option options[] = {
	{ "table", "TABLE", OPT_TABLE, "the table to retire: analytics (the legacy table)" },
	{ NULL, NULL, 0, NULL },
};

static int
handle(void *ctx, int key, const char *arg, char *err, size_t size)
{
	const char **table = ctx;
	size_t i;

	(void)key;
	for (i = 0; i < sizeof(retirable) / sizeof(retirable[0]); i++)
		if (strcmp(arg, retirable[i]) == 0) {
			*table = retirable[i];
			return 0;
		}
	snprintf(err, size, "--table: '%s' cannot be retired (only: analytics)", arg);
	return J_USAGE;
}

int
main(int argc, char **argv)
{
	const char *table = NULL;
	const struct cli_spec spec = {
		"retire_table", "--table analytics [--db PATH] (--archive-dir DIR | --no-archive) [options]",
		"Archive every row of a retired table, then delete it, so that migrate\n"
		"can drop the table: partitions by the UTC day of created_at, and\n"
		"date=__HIVE_DEFAULT_PARTITION__ for rows whose time cannot be read.",
		CLI_BATCH | CLI_RUNTIME | CLI_ARCHIVE | CLI_METRICS, DEFAULT_BATCH,
		options, handle, &table,
	};
	struct job_opts o;
	struct job j;
	char summary[2048];
	bool stopped = false, exists = false;
	int rc;

	if ((rc = cli_parse(&spec, argc, argv, &o)) != 0)
		return rc == CLI_EXIT_DONE ? J_OK : rc;
	if (table == NULL) {
		log_error("say which table to retire: --table analytics");
		return J_USAGE;
	}
	if ((rc = job_begin(&j, spec.name, &o)) != J_OK)
		return rc;
	/* Dropped by migrate once it was empty: retired already. */
	if ((rc = db_table_exists(&j.db, table, &exists)) == J_OK && !exists) {
		snprintf(summary, sizeof(summary), "nothing to do: table %s is gone "
		    "(retired, then dropped by migrate)", table);
		return job_end(&j, J_OK, false, summary);
	}
	if (rc == J_OK)
		rc = archive_pass(&j, table, 0, NULL, NULL, &stopped, summary,
		    sizeof(summary));
	else
		snprintf(summary, sizeof(summary), "%s", j.db.err);
	return job_end(&j, rc, stopped, summary);
}
