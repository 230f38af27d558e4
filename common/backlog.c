/* The work waiting for each job (see backlog.h). */
#include <string.h>

#include "archive.h"
#include "backlog.h"
#include "rollup.h"
#include "status.h"
#include "stock.h"
#include "timefmt.h"

/* The days a catch-up of rollup_daily would roll now: what it does. */
static int
days_to_roll(struct db *db, const struct bizcal *cal, int64_t now, int64_t *n)
{
	struct day_list days = { NULL, 0, 0 };
	struct rollup r;
	size_t i;
	int rc = rollup_init(&r, db);

	*n = 0;
	if (rc == J_OK)
		rc = rollup_catchup_days(&r, bizcal_day(cal, now), &days);
	for (i = 0; rc == J_OK && i < days.n; i++)
		*n += days.v[i].reason != RR_FROZEN;
	day_list_free(&days);
	rollup_release(&r);
	return rc;
}

/* Drifted products reconcile_stock's last pass left unfixed; -1 if none ran. */
static int
drift_left(struct db *db, int64_t *n)
{
	sqlite3_stmt *st = NULL;
	bool row;
	int rc;

	rc = db_prepare(db, &st, "SELECT json_extract(value, '$.drifted') - "
	    "json_extract(value, '$.fixed') FROM jobs_meta "
	    "WHERE key = :k AND json_valid(value)");
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":k", STOCK_STATE_KEY);
	if (rc == J_OK && (rc = db_step(db, st, &row)) == J_OK && row)
		*n = sqlite3_column_int64(st, 0);
	db_finalize(&st);
	return rc;
}

int
backlog_count(struct db *db, const struct bizcal *cal, const char *job,
    const struct backlog_retention *r, int64_t now, int64_t *n,
    const char **what)
{
	*n = -1;
	*what = NULL;
	if (strcmp(job, "rollup_daily") == 0) {
		*what = "days to roll up";
		return days_to_roll(db, cal, now, n);
	}
	if (strcmp(job, "prune_events") == 0) {
		/* 00:00 of the shop's day, as prune_events counts it. */
		*what = "events past retention";
		return archive_count_before(db, "analytics_events", "created_at",
		    bizcal_start(cal, bizcal_day(cal, now) - r->events_days *
		    TS_MS_PER_DAY), n);
	}
	if (strcmp(job, "archive_logs") == 0) {
		*what = "logs past retention";
		return archive_count_before(db, "system_logs", "created_at",
		    ts_floor_day(now) - r->logs_days * TS_MS_PER_DAY, n);
	}
	if (strcmp(job, "expire_reservations") == 0) {
		*what = "expired reservations";
		return archive_count_before(db, "product_reservations",
		    "expires_at", now + 1, n);
	}
	if (strcmp(job, "retire_table") == 0) {
		bool exists = false;
		int rc = db_table_exists(db, "analytics", &exists);

		/* What is left of the legacy table before migrate can drop it. */
		*what = "rows of analytics to retire";
		if (rc == J_OK && exists)
			rc = db_query_int64(db, "SELECT count(*) FROM analytics",
			    n, NULL);
		return rc;
	}
	if (strcmp(job, "reconcile_stock") == 0) {
		*what = "products drifted from the ledger";
		return drift_left(db, n);
	}
	return J_OK;
}
