/*
 * expire_reservations: delete cart reservations whose expires_at is at or
 * before now, giving their stock back through the stock ledger exactly once
 * (SPEC section 5), archived like the other jobs' rows.  Cron runs it every
 * few minutes, so a run with nothing to do only opens, looks and exits.
 */
#include <stdio.h>
#include <string.h>

#include "archive.h"
#include "cli.h"
#include "expire.h"
#include "job.h"
#include "log.h"
#include "status.h"

#define DEFAULT_BATCH	2500	/* reservations per transaction: about 60 ms */

int
main(int argc, char **argv)
{
	const struct cli_spec spec = {
		"expire_reservations",
		"[--db PATH] (--archive-dir DIR | --no-archive) [options]",
		"Delete reservations whose expires_at is at or before now, and give the\n"
		"stock they took back through stock_moves.",
		CLI_NOW | CLI_BATCH | CLI_RUNTIME | CLI_ARCHIVE | CLI_METRICS, DEFAULT_BATCH,
		NULL, NULL, NULL,
	};
	struct expire_ctx ctx;
	struct archive_hooks hooks;
	struct job_opts o;
	struct job j;
	char summary[2048], stock[128];
	bool stopped = false;
	int rc;

	if ((rc = cli_parse(&spec, argc, argv, &o)) != 0)
		return rc == CLI_EXIT_DONE ? J_OK : rc;
	if ((rc = job_begin(&j, spec.name, &o)) != J_OK)
		return rc;
	rc = expire_hooks(&hooks, &ctx, &j.db);
	if (rc == J_OK)
		rc = expire_report_skipped(&j.db, o.now_ms);
	if (rc == J_OK && o.dry_run)
		rc = expire_report_stock(&j.db, o.now_ms);
	/* "At or before now": the interval ends one millisecond after now. */
	if (rc == J_OK)
		rc = archive_pass(&j, "product_reservations", o.now_ms + 1, &hooks,
		    EXPIRE_ROW_FILTER, &stopped, summary, sizeof(summary));
	else
		snprintf(summary, sizeof(summary), "%s", j.db.err);
	if (rc == J_OK && !o.dry_run && ctx.compensated > 0) {
		snprintf(stock, sizeof(stock), "; gave back %lld units of stock for "
		    "%lld reservations", (long long)ctx.units, (long long)ctx.compensated);
		snprintf(summary + strlen(summary), sizeof(summary) - strlen(summary),
		    "%s", stock);
	}
	expire_release(&ctx);
	return job_end(&j, rc, stopped, summary);
}
