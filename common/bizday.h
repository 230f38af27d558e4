/*
 * The shop's business day (SPEC 3, "The business day").  A day is a UTC day
 * unless the database has a business time zone; then every day of
 * rollup_daily, prune_events' retention and jobs_status is that zone's
 * calendar day, 00:00 local to the next 00:00 local (23 or 25 hours around
 * daylight saving; none at all for a day the zone skipped).
 *
 * The zone can change.  The calendar is a list of periods, kept in the
 * table business_zones (made by the first --set-timezone: bizday.c): the
 * first from the beginning of time
 * (UTC unless a zone was set before anything was pruned), each later one
 * from 00:00 of its first day in its own zone, its *boundary*.  An event
 * before a boundary belongs to a day of the period before: the day its
 * local date says in that period's zone, but never later than the day
 * before the next period's first day, whose end is stretched (or cut) to
 * the boundary.  So every instant is in exactly one day, whatever zones
 * follow one another, and days are identified by their date alone.
 *
 * Days are written as int64 "day" values: 00:00 UTC of the date, as
 * everywhere else (ts_format_day() prints them), though the day itself
 * lasts from bizcal_interval()'s lo to hi.
 *
 * State.  The triggers of migration 2 keep marking the UTC days whose events
 * change (rollup_days.dirty); a business day is dirty when a UTC day it
 * overlaps is.  Whether a business day was rolled up and whether it was
 * pruned (frozen) is kept per business day in business_days once a zone is
 * set; without one, rollup_days holds it, as before (bizcal_state_table()).
 */
#ifndef JOBS_BIZDAY_H
#define JOBS_BIZDAY_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "tzfile.h"

#define BIZ_FOREVER	INT64_MIN	/* start of the first period */

struct biz_period {
	int64_t start_ms;	/* its boundary; BIZ_FOREVER for the first */
	int64_t from_day;	/* its first day; BIZ_FOREVER for the first */
	struct tz tz;
};

struct bizcal {
	bool zoned;		/* a zone was set (business_zones has rows) */
	struct biz_period *p;	/* ascending; p[0] from the beginning */
	size_t n;
};

/*
 * The calendar of db: UTC alone while business_zones is missing (no zone
 * was ever set) or empty.  J_OK, or a status with db->err set (a zone the
 * system no longer knows is J_CONFIG).
 */
int bizcal_load(struct bizcal *c, struct db *db);

/* The UTC calendar, for callers without a database. */
int bizcal_utc(struct bizcal *c);

void bizcal_free(struct bizcal *c);

/* The business day holding instant t (ms). */
int64_t bizcal_day(const struct bizcal *c, int64_t t);

/* The instants [*lo, *hi) of business day `day` (empty when skipped). */
void bizcal_interval(const struct bizcal *c, int64_t day, int64_t *lo, int64_t *hi);

/* 00:00 of business day `day`: bizcal_interval()'s lo. */
int64_t bizcal_start(const struct bizcal *c, int64_t day);

/* The zone of the period holding `day`, and the first day of that period
 * (BIZ_FOREVER for the first period). */
const char *bizcal_zone(const struct bizcal *c, int64_t day, int64_t *from_day);

/* "rollup_days" (UTC days, no zone ever set) or "business_days". */
const char *bizcal_state_table(const struct bizcal *c);

/*
 * rollup_daily --set-timezone: make zone the shop's from business day
 * `from` on (BIZ_FOREVER: not given).  While nothing was ever pruned the
 * zone applies from the beginning and every day is rolled again; otherwise
 * from `from` (default: the day after the first day never pruned), and the
 * day before `from` is rolled again to end at the new boundary, with every
 * later day.  In one write transaction (none with dry_run): the new
 * calendar, the affected days' rows of analytics_daily deleted and their
 * UTC days marked to roll.  *first_redo gets the first day to be rolled
 * again (BIZ_FOREVER: all of them).  J_USAGE for an unknown zone, J_DATAERR
 * (with err naming the day) when the day before `from` was pruned.
 */
int bizcal_set(struct db *db, const char *zone, int64_t from, bool dry_run,
    int64_t *first_redo, char *err, size_t size);

#endif
