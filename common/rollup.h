/*
 * Daily analytics rollup (SPEC section 5, rollup_daily): which days need
 * rolling, and the roll of one day.  A day is read in one snapshot through
 * index probes (tsprobe.h) and aggregated by SQLite, which bounds memory
 * whatever the day's size; it is then replaced in one short BEGIN IMMEDIATE
 * transaction, so a reader sees the old day or the new one, never half.
 *
 * Staleness comes from the rollup_days table, which the triggers of sql/002
 * keep: the app's writes mark the UTC day they touch as dirty.  A run first
 * marks its days 2 ("being read"), then reads and writes each day, clearing
 * the mark only if it is still 2; an event arriving meanwhile sets it back to
 * 1, so the next run rolls the day again and nothing is missed.
 *
 * A day is the shop's business day (bizday.h): a UTC day unless a business
 * time zone is set, and then the zone's calendar day.  rollup_days.c
 * chooses the days and keeps their state in either case.
 */
#ifndef JOBS_ROLLUP_H
#define JOBS_ROLLUP_H

#include <stdbool.h>
#include <stdint.h>

#include "bizday.h"
#include "db.h"
#include "tsprobe.h"

enum rollup_reason {
	RR_MISSING,	/* never rolled up */
	RR_STALE,	/* events changed since its rollup */
	RR_ASKED,	/* named by --date/--from/--to */
	RR_FROZEN,	/* already pruned: never recomputed */
};

struct rollup_day {
	int64_t day_ms;		/* the day (its date, at 00:00 UTC: bizday.h) */
	enum rollup_reason reason;
	bool late;		/* frozen day whose events changed after pruning */
};

struct day_list {
	struct rollup_day *v;
	size_t n, cap;
};

/* One event type's totals of one day. */
struct rollup_row {
	sqlite3_value *event_type; /* owned (sqlite3_value_dup): text, or a stray BLOB */
	int64_t count, unique_users, unique_sessions;
	char *metadata;		/* owned, JSON with top_products */
};

struct rollup_result {
	struct rollup_row *rows;
	size_t n, cap;
	int64_t events;		/* events counted */
	int64_t unreadable;	/* rows dated this local day whose time is unreadable */
};

struct rollup {
	struct db *db;
	struct bizcal cal;	/* what a day is */
	enum ts_affinity aff;	/* of analytics_events.created_at */
	int nprobes;		/* probe count the statements were built for */
	sqlite3_stmt *events, *totals, *products, *unreadable;
	sqlite3_stmt *bstate;	/* a business day's state (with a zone) */
	int64_t *claimed;	/* with a zone: UTC days claimed, ascending */
	size_t nclaimed;
};

void day_list_free(struct day_list *l);
void rollup_result_free(struct rollup_result *r);

/* Prepare for rolling days on db (already opened and schema-checked). */
int rollup_init(struct rollup *r, struct db *db);
void rollup_release(struct rollup *r);

/*
 * Days for a catch-up before the day today_ms: every day marked dirty and not pruned
 * (RR_MISSING or RR_STALE), then every pruned day with late events
 * (RR_FROZEN, late = true), in day order.
 */
int rollup_catchup_days(struct rollup *r, int64_t today_ms, struct day_list *out);

/* Every day in [from_ms, to_ms] (days): RR_ASKED, or RR_FROZEN. */
int rollup_range_days(struct rollup *r, int64_t from_ms, int64_t to_ms,
    struct day_list *out);

/* Delete dirty marks on strings that are no real day (no valid event made
 * them; left alone they would block prune_events forever). */
int rollup_forget_invalid(struct rollup *r);

/*
 * Mark the listed days as being read (dirty = 2), frozen ones excepted, in
 * short write transactions.  A day left marked by a run that dies is rolled
 * by the next one (every nonzero mark means "roll me").
 */
int rollup_claim(struct rollup *r, const struct day_list *days);

/* Read and aggregate the day's events in one read transaction. */
int rollup_compute(struct rollup *r, int64_t day_ms, struct rollup_result *out);

/*
 * With a business time zone: in the transaction that stores business day
 * `day` ([lo, hi)), clear the claims of the UTC days whose last business day
 * it is (rollup_days.c).
 */
int rollup_done_utc_days(struct rollup *r, int64_t day, int64_t lo, int64_t hi);

/*
 * Replace the day's analytics_daily rows with res and clear the claim.  If
 * prune_events froze the day meanwhile, nothing is written, *frozen is true.
 */
int rollup_store(struct rollup *r, int64_t day_ms, const struct rollup_result *res,
    bool *frozen);

#endif
