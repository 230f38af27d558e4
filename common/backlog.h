/*
 * The work waiting for each job: what jobs_status shows as "behind" and
 * what every job's metrics file carries as shop_job_backlog, so that an
 * alert can fire on a job falling behind, not only on one failing.
 *
 *   rollup_daily         days a catch-up would roll (dirty or never rolled;
 *                        frozen days not counted)
 *   prune_events         events before 00:00 of the shop's day N days back
 *   archive_logs         logs before 00:00 UTC N days back
 *   expire_reservations  reservations whose expires_at has passed
 *   reconcile_stock      products the last check found drifted, not fixed
 *   retire_table         rows left in the legacy analytics table
 *
 * Every count is read on indexes or from jobs_meta: cheap enough for the end
 * of every run.  The other programs have no backlog.
 */
#ifndef JOBS_BACKLOG_H
#define JOBS_BACKLOG_H

#include <stdint.h>

#include "bizday.h"
#include "db.h"

/* The retention windows the counts assume (the jobs' own defaults). */
#define BACKLOG_EVENTS_DAYS	90
#define BACKLOG_LOGS_DAYS	30

struct backlog_retention {
	long events_days;	/* prune_events --retention-days */
	long logs_days;		/* archive_logs --retention-days */
};

/*
 * job's backlog at now (ms) on the calendar cal: *n the count and *what
 * what it counts ("days to roll up").  *n is -1 when there is nothing to
 * count: a program without a backlog (*what NULL), no stock check yet, the
 * legacy table gone.  J_OK, or a status with db->err set.
 */
int backlog_count(struct db *db, const struct bizcal *cal, const char *job,
    const struct backlog_retention *r, int64_t now, int64_t *n,
    const char **what);

#endif
