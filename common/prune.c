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

int
prune_check_rollups(struct db *db, int64_t cutoff_ms, char *msg, size_t size)
{
	sqlite3_stmt *st;
	char cutoff[11];
	size_t len = 0;
	int rc, n = 0, busy = 0;
	bool row;

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
		if (n++ < LIST_MAX && len < size)
			len += (size_t)snprintf(msg + len, size - len, "%s%s (%s)",
			    n > 1 ? ", " : "", day, (const char *)sqlite3_column_text(st, 1));
	}
	db_finalize(&st);
	if (rc == J_OK && n > LIST_MAX && len < size)
		snprintf(msg + len, size - len, " and %d more", n - LIST_MAX);
	/* A rollup running right now is a reason to come back, not to refuse. */
	return rc != J_OK ? rc : busy ? J_TEMPFAIL : n ? J_DATAERR : J_OK;
}

/* State of one day's rollup, inside the current transaction. */
static int
day_state(struct db *db, const char *day, bool *exists, int *dirty,
    bool *rolled, bool *pruned)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &st, "SELECT dirty, rolled_at IS NOT NULL, "
	    "pruned_at IS NOT NULL FROM rollup_days WHERE day = :day");

	if (rc == J_OK)
		rc = db_bind_text(db, st, ":day", day);
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
	if ((rc = day_state(a->db, day, &exists, &dirty, &rolled, &pruned)) != J_OK)
		return rc;
	*frozen_before = pruned && ctx->frozen_day != day_ms;
	if (pruned) {
		/* Frozen by an earlier run: anything still here arrived late. */
		if (dirty != 0 && ctx->warned_day != day_ms && ctx->frozen_day != day_ms &&
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

static int
day_check(struct archiver *a, int64_t day_ms)
{
	bool frozen_before;

	return check_day(a, a->hooks.ctx, day_ms, false, &frozen_before);
}

static int
before_delete(struct archiver *a, int64_t day_ms, bool last_batch)
{
	struct prune_ctx *ctx = a->hooks.ctx;
	sqlite3_stmt *st;
	char day[11], now[32];
	bool frozen_before;
	int rc = check_day(a, ctx, day_ms, true, &frozen_before);

	if (rc != J_OK)
		return rc;
	ts_format_day(day_ms, day);
	runlog_clock(now);
	if (!frozen_before)
		ctx->frozen_day = day_ms;	/* frozen by this run (now or earlier) */
	/* Freeze the day before its first row goes: the delete trigger then
	 * leaves it clean, and rollup_daily never recomputes it.  Once the
	 * day's last batch is gone, late events are all archived. */
	/* Our own deletes skip the delete trigger (see sql/002); the row is
	 * gone again before COMMIT, so no other connection ever sees it. */
	rc = db_exec(a->db, "INSERT INTO jobs_meta (key, value) VALUES "
	    "('prune_events.deleting', 'yes')");
	if (rc != J_OK)
		return rc;
	/* Freezing a day clears its mark: its rollup stays what it is.  On a
	 * day frozen before, the mark means late events; they are all gone
	 * with the day's last batch. */
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
	ctx->frozen_day = INT64_MIN;
}
