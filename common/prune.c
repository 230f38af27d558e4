/*
 * prune_events' rules on top of the archiver (see prune.h).  The check is
 * made twice: once for all days before anything is deleted (so a refusal
 * deletes nothing), and again inside each delete transaction, because
 * rollup_daily may mark a day stale or claim it between the two.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "prune.h"
#include "runlog.h"
#include "status.h"
#include "timefmt.h"

#define LIST_MAX 10	/* days named in the refusal line */

/* Name one more day in the refusal line. */
static void
list_day(char *msg, size_t size, size_t *len, int *n, const char *day,
    const char *why)
{
	if ((*n)++ < LIST_MAX && *len < size)
		*len += (size_t)snprintf(msg + *len, size - *len, "%s%s (%s)",
		    *n > 1 ? ", " : "", day, why);
}

/* State of one day's rollup, inside the current transaction (see below). */
static int day_state(struct db *db, const struct bizcal *cal, int64_t day,
    bool *exists, int *dirty, bool *rolled, bool *pruned);

/*
 * With a business time zone: the business days before the cutoff that a
 * marked UTC day overlaps, and that are not frozen, are the ones to judge.
 */
static int
zoned_check(struct db *db, const struct bizcal *cal, int64_t cutoff_ms,
    char *msg, size_t size)
{
	sqlite3_stmt *st = NULL;
	int64_t cutoff_day = bizcal_day(cal, cutoff_ms), next = BIZ_FOREVER, u, b, b2;
	char last[11], day[11];
	size_t len = 0;
	int rc, n = 0, busy = 0;
	bool row;

	msg[0] = '\0';
	ts_format_day(ts_floor_day(cutoff_ms - 1), last);
	rc = db_prepare(db, &st, "SELECT day FROM rollup_days WHERE dirty <> 0 AND "
	    "day <= :last ORDER BY day");
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":last", last);
	while (rc == J_OK && (rc = db_step(db, st, &row)) == J_OK && row) {
		const char *d = (const char *)sqlite3_column_text(st, 0);

		if (d == NULL || ts_parse_day(d, &u) != 0)
			continue;
		b = bizcal_day(cal, u);
		b2 = bizcal_day(cal, u + TS_MS_PER_DAY - 1);
		for (b = b > next ? b : next; rc == J_OK && b <= b2 && b < cutoff_day;
		    b += TS_MS_PER_DAY) {
			bool exists, rolled, pruned;
			int dirty;

			rc = day_state(db, cal, b, &exists, &dirty, &rolled, &pruned);
			if (rc != J_OK || pruned)
				continue;
			ts_format_day(b, day);
			busy |= dirty == 2;
			list_day(msg, size, &len, &n, day, dirty == 2 ? "being rolled up "
			    "now" : !rolled ? "no rollup" : "stale rollup");
		}
		if (b2 + TS_MS_PER_DAY > next)
			next = b2 + TS_MS_PER_DAY;
	}
	db_finalize(&st);
	if (rc == J_OK && n > LIST_MAX && len < size)
		snprintf(msg + len, size - len, " and %d more", n - LIST_MAX);
	return rc != J_OK ? rc : busy ? J_TEMPFAIL : n ? J_DATAERR : J_OK;
}

int
prune_check_rollups(struct db *db, const struct bizcal *cal, int64_t cutoff_ms,
    char *msg, size_t size)
{
	sqlite3_stmt *st;
	char cutoff[11];
	size_t len = 0;
	int rc, n = 0, busy = 0;
	bool row;

	if (cal->zoned)
		return zoned_check(db, cal, cutoff_ms, msg, size);
	msg[0] = '\0';
	ts_format_day(cutoff_ms, cutoff);
	rc = db_prepare(db, &st, "SELECT day, CASE WHEN dirty = 2 THEN 'being "
	    "rolled up now' WHEN rolled_at IS NULL THEN 'no rollup' ELSE 'stale "
	    "rollup' END, dirty = 2 FROM rollup_days WHERE day < :cutoff "
	    "AND pruned_at IS NULL AND (dirty <> 0 OR rolled_at IS NULL) ORDER BY day");
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":cutoff", cutoff);
	while (rc == J_OK && (rc = db_step(db, st, &row)) == J_OK && row) {
		const char *day = (const char *)sqlite3_column_text(st, 0);
		int64_t d;

		/* A mark no real event could have made holds nothing to lose. */
		if (day == NULL || ts_parse_day(day, &d) != 0)
			continue;
		busy |= sqlite3_column_int(st, 2);
		list_day(msg, size, &len, &n, day, (const char *)sqlite3_column_text(st, 1));
	}
	db_finalize(&st);
	if (rc == J_OK && n > LIST_MAX && len < size)
		snprintf(msg + len, size - len, " and %d more", n - LIST_MAX);
	/* A rollup running right now is a reason to come back, not to refuse. */
	return rc != J_OK ? rc : busy ? J_TEMPFAIL : n ? J_DATAERR : J_OK;
}

/*
 * A day's state: without a zone, its rollup_days row; with one, its
 * business_days row and, for the mark, the highest of the UTC days it
 * overlaps (2, being read, wins over 1).
 */
static int
day_state(struct db *db, const struct bizcal *cal, int64_t day, bool *exists,
    int *dirty, bool *rolled, bool *pruned)
{
	sqlite3_stmt *st;
	int64_t lo, hi;
	char d[11], u1[11], u2[11];
	int rc;

	*exists = *rolled = *pruned = false;
	*dirty = 0;
	ts_format_day(day, d);
	bizcal_interval(cal, day, &lo, &hi);
	ts_format_day(ts_floor_day(lo), u1);
	ts_format_day(ts_floor_day(hi > lo ? hi - 1 : lo), u2);
	rc = db_prepare(db, &st, cal->zoned ? "SELECT (SELECT max(dirty) FROM "
	    "rollup_days WHERE day BETWEEN :u1 AND :u2), rolled_at IS NOT NULL, "
	    "pruned_at IS NOT NULL FROM (SELECT 1) LEFT JOIN business_days ON "
	    "day = :day" : "SELECT dirty, rolled_at IS NOT NULL, pruned_at IS NOT "
	    "NULL, :u1, :u2 FROM rollup_days WHERE day = :day");
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":day", d);
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":u1", u1);
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":u2", u2);
	if (rc == J_OK)
		rc = db_step(db, st, exists);
	if (rc == J_OK && *exists) {
		*dirty = sqlite3_column_int(st, 0);
		*rolled = sqlite3_column_int(st, 1);
		*pruned = sqlite3_column_int(st, 2);
	}
	db_finalize(&st);
	return rc;
}

/* Judge a day; *frozen_before says whether an earlier run pruned it. */
static int
check_day(struct archiver *a, struct prune_ctx *ctx, int64_t day_ms, bool in_txn,
    bool *frozen_before)
{
	bool exists = false, rolled = false, pruned = false;
	int dirty = 0, rc;
	char day[11];

	ts_format_day(day_ms, day);
	if ((rc = day_state(a->db, ctx->cal, day_ms, &exists, &dirty, &rolled,
	    &pruned)) != J_OK)
		return rc;
	*frozen_before = pruned && (day_ms < ctx->first_frozen ||
	    day_ms > ctx->frozen_day);
	if (pruned) {
		/* Frozen by an earlier run: anything still here arrived late. */
		if (dirty != 0 && ctx->warned_day != day_ms && *frozen_before &&
		    in_txn) {
			ctx->warned_day = day_ms;
			log_warn("%s was pruned before: its events in the table now "
			    "are archived again; those that arrived late were never "
			    "counted in analytics_daily (restored ones were)", day);
		}
		return J_OK;
	}
	if (dirty == 2) {
		/* rollup_daily is reading the day right now: a moment's wait, not
		 * a problem with the data. */
		snprintf(a->err, sizeof(a->err), "not pruning %s: rollup_daily is "
		    "rolling it up right now; try again later", day);
		return J_TEMPFAIL;
	}
	if (ctx->skip_rollup_check)
		return J_OK;
	if (!exists || !rolled || dirty != 0) {
		snprintf(a->err, sizeof(a->err), "refusing to prune %s: %s (run "
		    "rollup_daily first, or give --skip-rollup-check)", day,
		    !exists || !rolled ? "it has no rollup" : "its rollup is stale");
		return J_DATAERR;
	}
	return J_OK;
}

/* The days (business days) that UTC day `utc` holds before the cutoff. */
static void
days_of(const struct prune_ctx *ctx, int64_t utc, int64_t *first, int64_t *last)
{
	int64_t end = utc + TS_MS_PER_DAY < ctx->cutoff ? utc + TS_MS_PER_DAY : ctx->cutoff;

	*first = bizcal_day(ctx->cal, utc);
	*last = bizcal_day(ctx->cal, end - 1);
}

static int
day_check(struct archiver *a, int64_t utc)
{
	struct prune_ctx *ctx = a->hooks.ctx;
	int64_t day, last;
	bool frozen_before;
	int rc = J_OK;

	days_of(ctx, utc, &day, &last);
	for (; rc == J_OK && day <= last; day += TS_MS_PER_DAY)
		rc = check_day(a, ctx, day, false, &frozen_before);
	return rc;
}

/* Freeze business day `day` (with a zone): business_days.pruned_at. */
static int
freeze_business_day(struct archiver *a, int64_t day, const char *now)
{
	sqlite3_stmt *st;
	char d[11];
	int rc = db_prepare(a->db, &st, "INSERT INTO business_days (day, "
	    "pruned_at) VALUES (:day, :now) ON CONFLICT (day) DO UPDATE SET "
	    "pruned_at = coalesce(pruned_at, :now)");

	ts_format_day(day, d);
	if (rc == J_OK)
		rc = db_bind_text(a->db, st, ":day", d);
	if (rc == J_OK)
		rc = db_bind_text(a->db, st, ":now", now);
	if (rc == J_OK)
		rc = db_run(a->db, st);
	db_finalize(&st);
	return rc;
}

static int
before_delete(struct archiver *a, int64_t utc, bool last_batch)
{
	struct prune_ctx *ctx = a->hooks.ctx;
	sqlite3_stmt *st;
	char day[11], now[32];
	int64_t b, last;
	bool frozen_before;
	int rc = J_OK;

	runlog_clock(now);
	days_of(ctx, utc, &b, &last);
	for (; rc == J_OK && b <= last; b += TS_MS_PER_DAY) {
		if ((rc = check_day(a, ctx, b, true, &frozen_before)) != J_OK)
			break;
		if (!frozen_before) {	/* frozen by this run (now or earlier) */
			if (ctx->frozen_day == INT64_MIN)
				ctx->first_frozen = b;
			if (b > ctx->frozen_day)
				ctx->frozen_day = b;
		}
		if (ctx->cal->zoned)
			rc = freeze_business_day(a, b, now);
	}
	if (rc != J_OK)
		return rc;
	/* Freeze the day before its first row goes: the delete trigger then
	 * leaves it clean, and rollup_daily never recomputes it.  Once the
	 * day's last batch is gone, late events are all archived. */
	/* Our own deletes skip the delete trigger (see sql/002); the row is
	 * gone again before COMMIT, so no other connection ever sees it. */
	rc = db_exec(a->db, "INSERT INTO jobs_meta (key, value) VALUES "
	    "('prune_events.deleting', 'yes')");
	if (rc != J_OK)
		return rc;
	/* A UTC day that straddles the cutoff (with a zone) keeps its mark:
	 * the business day after the cutoff may need it. */
	if (utc + TS_MS_PER_DAY > ctx->cutoff)
		return J_OK;
	/* Freezing a day clears its mark: its rollup stays what it is.  On a
	 * day frozen before, the mark means late events; they are all gone
	 * with the day's last batch. */
	ts_format_day(utc, day);
	rc = db_prepare(a->db, &st, "INSERT INTO rollup_days (day, dirty, pruned_at) "
	    "VALUES (:day, 0, :now) ON CONFLICT (day) DO UPDATE SET "
	    "pruned_at = coalesce(pruned_at, :now), "
	    "dirty = CASE WHEN pruned_at IS NULL OR :last THEN 0 ELSE dirty END");
	if (rc == J_OK)
		rc = db_bind_text(a->db, st, ":day", day);
	if (rc == J_OK)
		rc = db_bind_text(a->db, st, ":now", now);
	if (rc == J_OK)
		rc = db_bind_int64(a->db, st, ":last", last_batch);
	if (rc == J_OK)
		rc = db_run(a->db, st);
	db_finalize(&st);
	return rc;
}

static int
after_delete(struct archiver *a, int64_t day_ms)
{
	(void)day_ms;
	return db_exec(a->db, "DELETE FROM jobs_meta WHERE key = 'prune_events.deleting'");
}

void
prune_hooks(struct archive_hooks *h, struct prune_ctx *ctx)
{
	memset(h, 0, sizeof(*h));
	h->day_check = day_check;
	h->before_delete = before_delete;
	h->after_delete = after_delete;
	h->ctx = ctx;
	ctx->warned_day = -1;
	ctx->first_frozen = ctx->frozen_day = INT64_MIN;
}
