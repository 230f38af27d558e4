/*
 * Which days rollup_daily rolls, and their state (see rollup.h): a catch-up's
 * days, a range's, the claim that marks them "being read".  Without a
 * business time zone a day is a UTC day and rollup_days holds everything, as
 * the triggers keep it.  With one (bizday.h), the triggers still mark UTC
 * days: a business day is to roll when a UTC day it overlaps is marked, and
 * its own state (rolled, pruned) is in business_days; a UTC day's mark is
 * claimed only when every business day it overlaps is rolled in the same
 * run, and cleared once the last of them is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bizday.h"
#include "log.h"
#include "rollup.h"
#include "status.h"
#include "timefmt.h"

#define DAY		TS_MS_PER_DAY
#define CLAIM_BATCH	1000	/* days marked "being read" per transaction */

void
day_list_free(struct day_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
day_list_add(struct day_list *l, int64_t day_ms, enum rollup_reason reason,
    bool late)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct rollup_day *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return J_SOFTWARE;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct rollup_day){ day_ms, reason, late };
	return J_OK;
}


static int
utc_catchup(struct rollup *r, int64_t today_ms, struct day_list *out)
{
	sqlite3_stmt *st;
	char today[11];
	bool row;
	int rc, pass;

	ts_format_day(today_ms, today);
	/* Pass 0: days to roll; pass 1: pruned days with late events. */
	for (pass = 0; pass < 2; pass++) {
		rc = db_prepare(r->db, &st, pass == 0 ?
		    "SELECT day, rolled_at IS NULL FROM rollup_days WHERE dirty <> 0 "
		    "AND pruned_at IS NULL AND day < :today ORDER BY day" :
		    "SELECT day, 0 FROM rollup_days WHERE dirty <> 0 "
		    "AND pruned_at IS NOT NULL AND day < :today ORDER BY day");
		if (rc == J_OK)
			rc = db_bind_text(r->db, st, ":today", today);
		while (rc == J_OK && (rc = db_step(r->db, st, &row)) == J_OK && row) {
			const char *d = (const char *)sqlite3_column_text(st, 0);
			int64_t day_ms;

			/* A day only SQLite's date() could read (say from
			 * '2025-02-30 ...') holds no valid event: skip it. */
			if (d == NULL || ts_parse_day(d, &day_ms) != 0)
				continue;
			rc = day_list_add(out, day_ms, pass ? RR_FROZEN :
			    sqlite3_column_int(st, 1) ? RR_MISSING : RR_STALE, pass);
		}
		db_finalize(&st);
		if (rc != J_OK)
			return rc;
	}
	return J_OK;
}

static int
utc_range(struct rollup *r, int64_t from_ms, int64_t to_ms, struct day_list *out)
{
	sqlite3_stmt *st;
	int64_t d;
	char day[11];
	bool row;
	int rc;

	rc = db_prepare(r->db, &st, "SELECT dirty FROM rollup_days "
	    "WHERE day = :day AND pruned_at IS NOT NULL");
	for (d = from_ms; rc == J_OK && d <= to_ms; d += TS_MS_PER_DAY) {
		ts_format_day(d, day);
		rc = db_bind_text(r->db, st, ":day", day);
		if (rc == J_OK)
			rc = db_step(r->db, st, &row);
		if (rc == J_OK)
			rc = day_list_add(out, d, row ? RR_FROZEN : RR_ASKED,
			    row && sqlite3_column_int(st, 0) != 0);
		sqlite3_reset(st);
	}
	db_finalize(&st);
	return rc;
}

int
rollup_forget_invalid(struct rollup *r)
{
	sqlite3_stmt *st = NULL;
	char bad[64][16];
	bool row;
	int rc, n = 0, i;

	rc = db_prepare(r->db, &st, "SELECT day FROM rollup_days WHERE dirty <> 0 "
	    "AND pruned_at IS NULL");
	while (rc == J_OK && n < 64 && (rc = db_step(r->db, st, &row)) == J_OK && row) {
		const char *d = (const char *)sqlite3_column_text(st, 0);
		int64_t ms;

		if (d != NULL && strlen(d) < sizeof(bad[0]) && ts_parse_day(d, &ms) != 0)
			snprintf(bad[n++], sizeof(bad[0]), "%s", d);
	}
	db_finalize(&st);
	if (rc != J_OK || n == 0)
		return rc;	/* the usual case: nothing written */
	rc = db_prepare(r->db, &st, "DELETE FROM rollup_days WHERE day = :day "
	    "AND pruned_at IS NULL");
	if (rc == J_OK && (rc = db_begin(r->db)) == J_OK) {
		for (i = 0; rc == J_OK && i < n; i++) {
			rc = db_bind_text(r->db, st, ":day", bad[i]);
			if (rc == J_OK)
				rc = db_run(r->db, st);
		}
		rc = rc == J_OK ? db_commit(r->db) : (db_rollback(r->db), rc);
	}
	db_finalize(&st);
	return rc;
}

static int
utc_claim(struct rollup *r, const struct day_list *days)
{
	sqlite3_stmt *st;
	char day[11];
	size_t i;
	int rc;

	rc = db_prepare(r->db, &st, "INSERT INTO rollup_days (day, dirty) "
	    "VALUES (:day, 2) ON CONFLICT (day) DO UPDATE SET dirty = 2 "
	    "WHERE pruned_at IS NULL");
	/* Up to CLAIM_BATCH days per transaction: one commit, short lock. */
	for (i = 0; rc == J_OK && i < days->n; i++) {
		if (days->v[i].reason == RR_FROZEN)
			continue;
		if (!r->db->in_write && (rc = db_begin(r->db)) != J_OK)
			break;
		ts_format_day(days->v[i].day_ms, day);
		rc = db_bind_text(r->db, st, ":day", day);
		if (rc == J_OK)
			rc = db_run(r->db, st);
		if (rc == J_OK && (i + 1) % CLAIM_BATCH == 0)
			rc = db_commit(r->db);
	}
	if (r->db->in_write)
		rc = rc == J_OK ? db_commit(r->db) : (db_rollback(r->db), rc);
	db_finalize(&st);
	return rc;
}


/* --- with a business time zone ------------------------------------------------ */

/* The business days overlapping UTC day u: [*b1, *b2]. */
static void
utc_to_business(const struct bizcal *c, int64_t u, int64_t *b1, int64_t *b2)
{
	*b1 = bizcal_day(c, u);
	*b2 = bizcal_day(c, u + DAY - 1);
}

/* Does business day `day` hold any readable event now?  (Only asked of
 * pruned days: whatever is there arrived, or came back, after the prune.) */
static int
has_events(struct rollup *r, int64_t day, bool *yes)
{
	struct tsprobe p[TSPROBE_MAX];
	sqlite3_stmt *st = NULL;
	int64_t lo, hi;
	char *u, *sql;
	int n, rc;

	*yes = false;
	bizcal_interval(&r->cal, day, &lo, &hi);
	if ((n = tsprobe_interval(lo, hi, r->aff, p, TSPROBE_MAX)) <= 0)
		return n == 0 ? J_OK : J_SOFTWARE;
	u = tsprobe_union_sql("1", "analytics_events", "created_at", NULL, n);
	sql = u ? sqlite3_mprintf("SELECT 1 FROM (%s) LIMIT 1", u) : NULL;
	sqlite3_free(u);
	rc = sql ? db_prepare(r->db, &st, sql) : J_SOFTWARE;
	sqlite3_free(sql);
	if (rc == J_OK && tsprobe_bind(st, p, n) != SQLITE_OK)
		rc = db_fail(r->db, sqlite3_errcode(r->db->h), "bind failed");
	if (rc == J_OK)
		rc = db_step(r->db, st, yes);
	db_finalize(&st);
	return rc;
}

/* A business day's state: *known if business_days has it. */
static int
business_state(struct rollup *r, int64_t day, bool *known, bool *rolled,
    bool *pruned)
{
	char d[11];
	bool row;
	int rc;

	ts_format_day(day, d);
	rc = db_bind_text(r->db, r->bstate, ":day", d);
	if (rc == J_OK && (rc = db_step(r->db, r->bstate, &row)) == J_OK) {
		*known = row;
		*rolled = row && sqlite3_column_int(r->bstate, 0);
		*pruned = row && sqlite3_column_int(r->bstate, 1);
	}
	sqlite3_reset(r->bstate);
	return rc;
}

/* Add business day b to out with the reason its state gives. */
static int
add_business(struct rollup *r, int64_t b, bool asked, struct day_list *out)
{
	bool known = false, rolled = false, pruned = false, late = false;
	int rc = business_state(r, b, &known, &rolled, &pruned);

	if (rc == J_OK && pruned)
		rc = has_events(r, b, &late);
	if (rc != J_OK)
		return rc;
	if (pruned)
		return asked || late ? day_list_add(out, b, RR_FROZEN, late) : J_OK;
	return day_list_add(out, b, asked ? RR_ASKED : rolled ? RR_STALE :
	    RR_MISSING, false);
}

static int
zoned_catchup(struct rollup *r, int64_t today, struct day_list *out)
{
	sqlite3_stmt *st = NULL;
	int64_t next = BIZ_FOREVER, u, b1, b2, b;
	bool row;
	int rc;

	rc = db_prepare(r->db, &st, "SELECT day FROM rollup_days WHERE dirty <> 0 "
	    "ORDER BY day");
	while (rc == J_OK && (rc = db_step(r->db, st, &row)) == J_OK && row) {
		const char *d = (const char *)sqlite3_column_text(st, 0);

		if (d == NULL || ts_parse_day(d, &u) != 0)
			continue;
		utc_to_business(&r->cal, u, &b1, &b2);
		for (b = b1 > next ? b1 : next; rc == J_OK && b <= b2 && b < today; b += DAY)
			rc = add_business(r, b, false, out);
		if (b2 + DAY > next)
			next = b2 + DAY;
	}
	db_finalize(&st);
	return rc;
}

static int
zoned_range(struct rollup *r, int64_t from, int64_t to, struct day_list *out)
{
	int64_t b;
	int rc = J_OK;

	for (b = from; rc == J_OK && b <= to; b += DAY)
		rc = add_business(r, b, true, out);
	return rc;
}

/* Is business day b in the list, and to be rolled (not frozen)? */
static bool
listed(const struct day_list *days, int64_t b)
{
	size_t lo = 0, hi = days->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (days->v[mid].day_ms < b)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < days->n && days->v[lo].day_ms == b &&
	    days->v[lo].reason != RR_FROZEN;
}

static int
zoned_claim(struct rollup *r, const struct day_list *days)
{
	sqlite3_stmt *st = NULL;
	int64_t u, last = BIZ_FOREVER, lo, hi, b1, b2, b;
	char d[11];
	size_t i;
	int rc;

	rc = db_prepare(r->db, &st, "UPDATE rollup_days SET dirty = 2 WHERE "
	    "day = :day AND dirty <> 0");
	for (i = 0; rc == J_OK && i < days->n; i++) {
		if (days->v[i].reason == RR_FROZEN)
			continue;
		bizcal_interval(&r->cal, days->v[i].day_ms, &lo, &hi);
		for (u = ts_floor_day(lo); rc == J_OK && hi > lo && u <= ts_floor_day(hi - 1);
		    u += DAY) {
			bool all = true;
			int64_t *v;

			if (u <= last)
				continue;
			last = u;
			utc_to_business(&r->cal, u, &b1, &b2);
			for (b = b1; all && b <= b2; b += DAY)
				all = listed(days, b);
			if (!all)
				continue;	/* its mark stays: rolled again next time */
			if ((v = realloc(r->claimed, (r->nclaimed + 1) * sizeof(*v))) == NULL) {
				rc = J_SOFTWARE;
				break;
			}
			r->claimed = v;
			r->claimed[r->nclaimed++] = u;
			if (!r->db->in_write && (rc = db_begin(r->db)) != J_OK)
				break;
			ts_format_day(u, d);
			if ((rc = db_bind_text(r->db, st, ":day", d)) == J_OK)
				rc = db_run(r->db, st);
			if (rc == J_OK && r->nclaimed % CLAIM_BATCH == 0)
				rc = db_commit(r->db);
		}
	}
	if (r->db->in_write)
		rc = rc == J_OK ? db_commit(r->db) : (db_rollback(r->db), rc);
	db_finalize(&st);
	return rc;
}

int
rollup_done_utc_days(struct rollup *r, int64_t day, int64_t lo, int64_t hi)
{
	sqlite3_stmt *st = NULL;
	char d[11];
	size_t i;
	int rc = J_OK;

	for (i = 0; rc == J_OK && i < r->nclaimed; i++) {
		int64_t u = r->claimed[i];

		/* A claimed UTC day is done with its last business day. */
		if (hi <= lo || u < ts_floor_day(lo) || u > ts_floor_day(hi - 1) ||
		    bizcal_day(&r->cal, u + DAY - 1) != day)
			continue;
		if (st == NULL)
			rc = db_prepare(r->db, &st, "UPDATE rollup_days SET dirty = 0 "
			    "WHERE day = :day AND dirty = 2");
		ts_format_day(u, d);
		if (rc == J_OK && (rc = db_bind_text(r->db, st, ":day", d)) == J_OK)
			rc = db_run(r->db, st);
	}
	db_finalize(&st);
	return rc;
}

/* --- either ---------------------------------------------------------------------- */

int
rollup_catchup_days(struct rollup *r, int64_t today_ms, struct day_list *out)
{
	return r->cal.zoned ? zoned_catchup(r, today_ms, out) :
	    utc_catchup(r, today_ms, out);
}

int
rollup_range_days(struct rollup *r, int64_t from_ms, int64_t to_ms,
    struct day_list *out)
{
	return r->cal.zoned ? zoned_range(r, from_ms, to_ms, out) :
	    utc_range(r, from_ms, to_ms, out);
}

int
rollup_claim(struct rollup *r, const struct day_list *days)
{
	return r->cal.zoned ? zoned_claim(r, days) : utc_claim(r, days);
}
