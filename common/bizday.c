/*
 * The business day: the calendar of periods, the day of an instant and the
 * instants of a day, and --set-timezone (see bizday.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bizday.h"
#include "log.h"
#include "runlog.h"
#include "status.h"
#include "timefmt.h"

#define DAY	TS_MS_PER_DAY
#define SPAN_S	((int64_t)30 * 3600)	/* seconds: a local midnight is this close to
				 * 00:00 UTC of its date (offsets up to 14 h,
				 * and a skipped day) */

/* The local date of instant t (ms) in tz, as a day value. */
static int64_t
local_day(const struct tz *tz, int64_t t)
{
	int64_t s = t / 1000 - (t % 1000 < 0);

	return ts_floor_day(t + (int64_t)tz_offset(tz, s) * 1000);
}

/*
 * 00:00 of `day` in tz: the first instant (whole seconds: offsets are) whose
 * local date is day or later.  A day the zone skipped starts where the next
 * one does, so it lasts no time at all.
 */
static int64_t
midnight(const struct tz *tz, int64_t day)
{
	int64_t lo = day / 1000 - SPAN_S, hi = day / 1000 + SPAN_S;

	/* local_day(lo) < day <= local_day(hi) */
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;

		if (local_day(tz, mid * 1000) >= day)
			hi = mid;
		else
			lo = mid;
	}
	return hi * 1000;
}

/* tz_load()'s result as a status: an unreadable file is I/O, else unknown. */
static int
tz_status(int tz_rc, int unknown)
{
	return tz_rc == 0 ? J_OK : tz_rc == TZ_IOERR ? J_IOERR : unknown;
}

static int
add_period(struct bizcal *c, int64_t start, int64_t from, const char *zone,
    char *err, size_t size)
{
	struct biz_period *p = realloc(c->p, (c->n + 1) * sizeof(*p));
	int rc;

	if (p == NULL) {
		snprintf(err, size, "out of memory");
		return J_SOFTWARE;
	}
	c->p = p;
	p = &c->p[c->n];
	memset(p, 0, sizeof(*p));
	p->start_ms = start;
	p->from_day = from;
	if ((rc = tz_status(tz_load(&p->tz, zone, err, size), J_CONFIG)) == J_OK)
		c->n++;
	return rc;
}

int
bizcal_utc(struct bizcal *c)
{
	char err[256];

	memset(c, 0, sizeof(*c));
	return add_period(c, BIZ_FOREVER, BIZ_FOREVER, "UTC", err, sizeof(err));
}

int
bizcal_load(struct bizcal *c, struct db *db)
{
	sqlite3_stmt *st = NULL;
	bool exists = false, row;
	char err[512];
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = db_table_exists(db, "business_zones", &exists)) != J_OK)
		return rc;
	if (exists)
		rc = db_prepare(db, &st, "SELECT start_ms, from_day, zone FROM "
		    "business_zones ORDER BY start_ms");
	while (rc == J_OK && exists && (rc = db_step(db, st, &row)) == J_OK && row) {
		int64_t start = sqlite3_column_int64(st, 0), from = BIZ_FOREVER;
		const char *day = (const char *)sqlite3_column_text(st, 1);

		if (day != NULL && ts_parse_day(day, &from) != 0)
			from = BIZ_FOREVER;
		/* Before a first zone that does not reach back forever: UTC. */
		if (c->n == 0 && start != BIZ_FOREVER)
			rc = add_period(c, BIZ_FOREVER, BIZ_FOREVER, "UTC", err, sizeof(err));
		if (rc == J_OK)
			rc = add_period(c, start, from, (const char *)sqlite3_column_text(st, 2),
			    err, sizeof(err));
		c->zoned = true;
		if (rc != J_OK)		/* add_period()'s, with err */
			snprintf(db->err, sizeof(db->err), "database '%s': business "
			    "time zone: %s", db->path, err);
	}
	db_finalize(&st);
	if (rc == J_OK && c->n == 0 && (rc = add_period(c, BIZ_FOREVER,
	    BIZ_FOREVER, "UTC", err, sizeof(err))) != J_OK)
		snprintf(db->err, sizeof(db->err), "%s", err);
	if (rc != J_OK)
		bizcal_free(c);
	return rc;
}

void
bizcal_free(struct bizcal *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		tz_free(&c->p[i].tz);
	free(c->p);
	memset(c, 0, sizeof(*c));
}

int64_t
bizcal_day(const struct bizcal *c, int64_t t)
{
	size_t i = c->n - 1;
	int64_t d;

	while (i > 0 && c->p[i].start_ms > t)
		i--;
	d = local_day(&c->p[i].tz, t);
	/* The last day before a boundary ends there, whatever its date says. */
	if (i + 1 < c->n && d >= c->p[i + 1].from_day)
		d = c->p[i + 1].from_day - DAY;
	return d;
}

/* The period that day belongs to. */
static size_t
period_of(const struct bizcal *c, int64_t day)
{
	size_t i = c->n - 1;

	while (i > 0 && c->p[i].from_day > day)
		i--;
	return i;
}

void
bizcal_interval(const struct bizcal *c, int64_t day, int64_t *lo, int64_t *hi)
{
	size_t i = period_of(c, day);
	const struct biz_period *p = &c->p[i], *q = i + 1 < c->n ? &c->p[i + 1] : NULL;

	*lo = midnight(&p->tz, day);
	if (*lo < p->start_ms)
		*lo = p->start_ms;
	if (q != NULL && day + DAY >= q->from_day)
		*hi = q->start_ms;
	else
		*hi = midnight(&p->tz, day + DAY);
	if (q != NULL && *hi > q->start_ms)
		*hi = q->start_ms;
	if (*hi < *lo)
		*hi = *lo;
}

int64_t
bizcal_start(const struct bizcal *c, int64_t day)
{
	int64_t lo, hi;

	bizcal_interval(c, day, &lo, &hi);
	return lo;
}

const char *
bizcal_zone(const struct bizcal *c, int64_t day, int64_t *from_day)
{
	size_t i = period_of(c, day);

	if (from_day != NULL)
		*from_day = c->p[i].from_day;
	return c->p[i].tz.name;
}

const char *
bizcal_state_table(const struct bizcal *c)
{
	return c->zoned ? "business_days" : "rollup_days";
}

/* --- --set-timezone -------------------------------------------------------- */

/*
 * The calendar's tables, made by the first --set-timezone (a database where
 * no zone was ever set needs neither, and so no migration).  The calendar's
 * periods: each zone from its boundary (00:00 of from_day in that zone) to
 * the next one's; a zone set before anything was pruned holds from the
 * beginning (start_ms the smallest integer, from_day NULL).  Per business
 * day: rolled up (when, how many events) and pruned (frozen).  Whether a
 * business day is stale comes from the UTC days it overlaps (rollup_days).
 */
static const char tables_sql[] =
    "CREATE TABLE IF NOT EXISTS business_zones ("
    "  start_ms INTEGER PRIMARY KEY, from_day TEXT, zone TEXT NOT NULL,"
    "  set_at TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS business_days ("
    "  day TEXT PRIMARY KEY NOT NULL, rolled_at TEXT, events INTEGER,"
    "  pruned_at TEXT) WITHOUT ROWID;";

/* The last pruned day of the calendar c (its state table); BIZ_FOREVER if none. */
static int
last_pruned(struct db *db, const struct bizcal *c, int64_t *day)
{
	sqlite3_stmt *st = NULL;
	const char *d;
	bool row;
	int rc;

	*day = BIZ_FOREVER;
	rc = db_prepare(db, &st, c->zoned ? "SELECT max(day) FROM business_days "
	    "WHERE pruned_at IS NOT NULL" : "SELECT max(day) FROM rollup_days "
	    "WHERE pruned_at IS NOT NULL");
	if (rc == J_OK && (rc = db_step(db, st, &row)) == J_OK && row &&
	    (d = (const char *)sqlite3_column_text(st, 0)) != NULL &&
	    ts_parse_day(d, day) != 0)
		*day = BIZ_FOREVER;
	db_finalize(&st);
	return rc;
}

/* Run SQL with :day (and :day2, :now, :zone, :start if present) bound. */
static int
run_with(struct db *db, const char *sql, const char *day, const char *day2,
    int64_t start, const char *zone)
{
	sqlite3_stmt *st = NULL;
	char now[32];
	int rc = db_prepare(db, &st, sql);

	runlog_clock(now);
	if (rc == J_OK && sqlite3_bind_parameter_index(st, ":day") > 0)
		rc = db_bind_text(db, st, ":day", day);
	if (rc == J_OK && sqlite3_bind_parameter_index(st, ":day2") > 0)
		rc = db_bind_text(db, st, ":day2", day2);
	if (rc == J_OK && sqlite3_bind_parameter_index(st, ":now") > 0)
		rc = db_bind_text(db, st, ":now", now);
	if (rc == J_OK && sqlite3_bind_parameter_index(st, ":zone") > 0)
		rc = db_bind_text(db, st, ":zone", zone);
	if (rc == J_OK && sqlite3_bind_parameter_index(st, ":start") > 0)
		rc = db_bind_int64(db, st, ":start", start);
	if (rc == J_OK)
		rc = db_run(db, st);
	db_finalize(&st);
	return rc;
}

int
bizcal_set(struct db *db, const char *zone, int64_t from, bool dry_run,
    int64_t *first_redo, char *err, size_t size)
{
	struct bizcal c;
	struct tz tz;
	int64_t pruned, boundary = BIZ_FOREVER, redo_lo;
	char fromtxt[11] = "", redo[11] = "", utcfrom[11] = "", last[11] = "";
	int rc;

	*first_redo = BIZ_FOREVER;
	if ((rc = tz_status(tz_load(&tz, zone, err, size), J_USAGE)) != J_OK)
		return rc;
	rc = bizcal_load(&c, db);
	if (rc != J_OK) {
		snprintf(err, size, "%s", db->err);
		tz_free(&tz);
		return rc;
	}
	if ((rc = last_pruned(db, &c, &pruned)) != J_OK) {
		snprintf(err, size, "%s", db->err);
		goto out;
	}
	/* Nothing ever pruned, no day asked: the zone's from the beginning. */
	if (from == BIZ_FOREVER && pruned != BIZ_FOREVER)
		from = pruned + 2 * DAY;
	if (from != BIZ_FOREVER) {
		size_t i = period_of(&c, from - DAY);

		*first_redo = from - DAY;
		boundary = midnight(&tz, from);
		ts_format_day(from, fromtxt);
		ts_format_day(*first_redo, redo);
		if (pruned != BIZ_FOREVER && pruned >= *first_redo) {
			ts_format_day(pruned + 2 * DAY, last);
			snprintf(err, size, "cannot switch to %s from %s: %s was pruned, "
			    "so its events are gone and it cannot be rolled again to end "
			    "where %s begins; choose %s or later (the default does)",
			    zone, fromtxt, redo, fromtxt, last);
			rc = J_DATAERR;
			goto out;
		}
		if (c.p[i].start_ms != BIZ_FOREVER && boundary <= c.p[i].start_ms) {
			snprintf(err, size, "cannot switch to %s from %s: its 00:00 "
			    "comes before %s's own start; choose a later day", zone,
			    fromtxt, c.p[i].tz.name);
			rc = J_USAGE;
			goto out;
		}
	}
	/* The UTC days to mark: from the earliest instant of the first day
	 * rolled again, in the old calendar or the new one. */
	if (*first_redo != BIZ_FOREVER) {
		bizcal_interval(&c, *first_redo, &redo_lo, &(int64_t){ 0 });
		if (boundary < redo_lo)
			redo_lo = boundary;
		ts_format_day(ts_floor_day(redo_lo), utcfrom);
	}
	if (dry_run)
		goto out;

	if ((rc = db_begin(db)) != J_OK)
		goto fail;
	rc = db_exec(db, tables_sql);
	/* The rolled and pruned days before the switch keep their state: the
	 * first zone ever set inherits it from rollup_days. */
	if (rc == J_OK && !c.zoned && *first_redo != BIZ_FOREVER)
		rc = run_with(db, "INSERT INTO business_days (day, rolled_at, events, "
		    "pruned_at) SELECT day, rolled_at, events, pruned_at FROM "
		    "rollup_days WHERE day < :day AND (rolled_at IS NOT NULL OR "
		    "pruned_at IS NOT NULL)", redo, NULL, 0, NULL);
	/* Every day from the first one rolled again goes, to be rolled anew. */
	if (rc == J_OK && *first_redo == BIZ_FOREVER)
		rc = db_exec(db, "DELETE FROM business_days; DELETE FROM analytics_daily; "
		    "DELETE FROM business_zones; UPDATE rollup_days SET dirty = 1 "
		    "WHERE dirty = 0");
	if (rc == J_OK && *first_redo != BIZ_FOREVER)
		rc = run_with(db, "DELETE FROM business_days WHERE day >= :day", redo,
		    NULL, 0, NULL);
	if (rc == J_OK && *first_redo != BIZ_FOREVER)
		rc = run_with(db, "DELETE FROM analytics_daily WHERE date >= :day", redo,
		    NULL, 0, NULL);
	if (rc == J_OK && *first_redo != BIZ_FOREVER)
		rc = run_with(db, "UPDATE rollup_days SET dirty = 1 WHERE day >= :day "
		    "AND dirty = 0", utcfrom, NULL, 0, NULL);
	if (rc == J_OK && *first_redo != BIZ_FOREVER)
		rc = run_with(db, "DELETE FROM business_zones WHERE from_day >= :day",
		    fromtxt, NULL, 0, NULL);
	if (rc == J_OK)
		rc = run_with(db, "INSERT INTO business_zones (start_ms, from_day, zone, "
		    "set_at) VALUES (:start, nullif(:day, ''), :zone, :now)", fromtxt,
		    NULL, boundary, zone);
	if (rc == J_OK) {
		rc = db_commit(db);
	} else {
		db_rollback(db);
	}
fail:
	if (rc != J_OK)
		snprintf(err, size, "%s", db->err);
out:
	bizcal_free(&c);
	tz_free(&tz);
	return rc;
}
