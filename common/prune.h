/*
 * What prune_events adds to the archiver: it refuses to prune a day whose
 * rollup is missing or stale (the day's totals would be lost), and it freezes
 * each day it prunes (rollup_days.pruned_at) in the same transaction as the
 * first DELETE of that day, so rollup_daily never recomputes a shrunken day.
 */
#ifndef JOBS_PRUNE_H
#define JOBS_PRUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "bizday.h"
#include "db.h"

/*
 * Days are the shop's business days (bizday.h).  Without a business time
 * zone they are the UTC days the archiver works through, and rollup_days
 * holds their state; with one, each UTC day the archiver prunes (archive
 * partitions stay UTC) touches one business day or two, which are judged
 * and frozen in business_days.
 */
struct prune_ctx {
	bool skip_rollup_check;		/* --skip-rollup-check */
	const struct bizcal *cal;	/* what a day is */
	int64_t cutoff;			/* ms: 00:00 of the first day kept */
	int64_t warned_day;		/* last day warned about late events */
	int64_t first_frozen, frozen_day;	/* the days this run froze,
					 * first and last (INT64_MIN: none) */
};

/*
 * Days before cutoff_ms (00:00 of a day of cal) that have events but no
 * rollup, or a stale one: J_DATAERR with the days listed in msg; J_TEMPFAIL
 * if one of them is being rolled up right now; J_OK if none.
 */
int prune_check_rollups(struct db *db, const struct bizcal *cal, int64_t cutoff_ms,
    char *msg, size_t size);

/* Hooks for archive_pass(); ctx must live as long as the pass. */
void prune_hooks(struct archive_hooks *h, struct prune_ctx *ctx);

#endif
