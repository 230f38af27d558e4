/*
 * The roll of one day, and the choice of days (see rollup.h).  SQLite does
 * the counting: GROUP BY with COUNT(DISTINCT) spills to temporary files when
 * a day is huge, so memory stays bounded whatever the table holds.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "log.h"
#include "rollup.h"
#include "runlog.h"
#include "status.h"
#include "timefmt.h"

#define TOP_PRODUCTS 10		/* SPEC 5: top_products holds the 10 most frequent */
/* Bytes for one day's counters.  With the 4 MB page cache below, and room
 * for a table or the arena growing (old and new copies live at once), the
 * job stays under SPEC 7's 32 MB whatever a day holds. */
#define ROLLUP_MEMORY (8 << 20)
#define ROLLUP_CACHE "PRAGMA cache_size = -4096"	/* KiB: reads are sequential */
#define ROLLUP_TOO_BIG (-2)

void
rollup_result_free(struct rollup_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		sqlite3_value_free(r->rows[i].event_type);
		sqlite3_free(r->rows[i].metadata);
	}
	free(r->rows);
	memset(r, 0, sizeof(*r));
}

int
rollup_init(struct rollup *r, struct db *db)
{
	int rc;

	memset(r, 0, sizeof(*r));
	r->db = db;
	if (db_exec(db, ROLLUP_CACHE) != J_OK)
		return db_status_of(db->rc);
	if (tsql_affinity(db->h, "analytics_events", "created_at", &r->aff) != SQLITE_OK)
		return db_fail(db, sqlite3_errcode(db->h),
		    "cannot read the type of analytics_events.created_at");
	if ((rc = bizcal_load(&r->cal, db)) != J_OK)
		return rc;
	if (r->cal.zoned && (rc = db_prepare(db, &r->bstate, "SELECT rolled_at IS "
	    "NOT NULL, pruned_at IS NOT NULL FROM business_days WHERE day = :day")) != J_OK)
		return rc;
	return db_prepare(db, &r->unreadable, "SELECT count(*) FROM "
	    "analytics_events WHERE created_at >= :lo AND created_at < :hi "
	    "AND ts_ms(created_at) IS NULL");
}

static void
finalize_day_statements(struct rollup *r)
{
	db_finalize(&r->events);
	db_finalize(&r->totals);
	db_finalize(&r->products);
	r->nprobes = 0;
}

void
rollup_release(struct rollup *r)
{
	finalize_day_statements(r);
	db_finalize(&r->unreadable);
	db_finalize(&r->bstate);
	bizcal_free(&r->cal);
	free(r->claimed);
	r->claimed = NULL;
	r->nclaimed = 0;
}

/* (Re)build the per-day statements for n probes. */
static int
prepare_day_statements(struct rollup *r, int n)
{
	char *events, *sql;
	int rc;

	if (r->nprobes == n)
		return J_OK;
	finalize_day_statements(r);
	events = tsprobe_union_sql("event_type, user_id, session_id, product_id",
	    "analytics_events", "created_at", NULL, n);
	if (events == NULL)
		return J_SOFTWARE;
	rc = db_prepare(r->db, &r->events, events);
	if (rc != J_OK) {
		sqlite3_free(events);
		return rc;
	}
	sql = sqlite3_mprintf("SELECT event_type, count(*), count(DISTINCT "
	    "user_id), count(DISTINCT session_id) FROM (%s) GROUP BY event_type "
	    "ORDER BY event_type", events);
	rc = sql ? db_prepare(r->db, &r->totals, sql) : J_SOFTWARE;
	sqlite3_free(sql);
	/* Ties go to the smaller product_id, as SPEC 5 asks. */
	sql = sqlite3_mprintf("SELECT event_type, product_id, count(*) AS n "
	    "FROM (%s) WHERE product_id IS NOT NULL GROUP BY event_type, "
	    "product_id ORDER BY event_type, n DESC, product_id", events);
	if (rc == J_OK)
		rc = sql ? db_prepare(r->db, &r->products, sql) : J_SOFTWARE;
	sqlite3_free(sql);
	sqlite3_free(events);
	if (rc == J_OK)
		r->nprobes = n;
	return rc;
}

/* Append a JSON value for a product id: numbers as numbers, text escaped. */
static void
json_value(sqlite3_str *s, sqlite3_stmt *st, int col)
{
	const unsigned char *t;
	int i, n;

	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		sqlite3_str_appendf(s, "%lld", sqlite3_column_int64(st, col));
		return;
	case SQLITE_FLOAT:
		if (isinf(sqlite3_column_double(st, col)))	/* JSON has no Inf */
			sqlite3_str_appendall(s, sqlite3_column_double(st, col) < 0 ?
			    "-1e999" : "1e999");
		else
			sqlite3_str_appendf(s, "%!.17g", sqlite3_column_double(st, col));
		return;
	case SQLITE_TEXT:
		t = sqlite3_column_text(st, col);
		n = sqlite3_column_bytes(st, col);
		sqlite3_str_appendchar(s, 1, '"');
		for (i = 0; i < n; i++) {
			if (t[i] == '"' || t[i] == '\\')
				sqlite3_str_appendf(s, "\\%c", t[i]);
			else if (t[i] < 0x20)
				sqlite3_str_appendf(s, "\\u%04x", t[i]);
			else
				sqlite3_str_appendchar(s, 1, (char)t[i]);
		}
		sqlite3_str_appendchar(s, 1, '"');
		return;
	default:	/* a BLOB id: lowercase hex text, lossless */
		t = sqlite3_column_blob(st, col);
		n = sqlite3_column_bytes(st, col);
		sqlite3_str_appendchar(s, 1, '"');
		for (i = 0; i < n; i++)
			sqlite3_str_appendf(s, "%02x", t[i]);
		sqlite3_str_appendchar(s, 1, '"');
	}
}

/*
 * Event types are grouped as SQL's GROUP BY groups them: by storage class and
 * exact bytes, so the text 'view' and a BLOB 'view' stay apart and an
 * embedded NUL does not cut a name short.
 */
static int
value_cmp(sqlite3_value *x, sqlite3_value *y)
{
	int tx = sqlite3_value_type(x), ty = sqlite3_value_type(y), nx, ny, c;
	const void *px, *py;

	if (tx != ty)
		return tx < ty ? -1 : 1;
	px = tx == SQLITE_BLOB ? sqlite3_value_blob(x) : (const void *)sqlite3_value_text(x);
	py = ty == SQLITE_BLOB ? sqlite3_value_blob(y) : (const void *)sqlite3_value_text(y);
	nx = sqlite3_value_bytes(x);
	ny = sqlite3_value_bytes(y);
	if ((c = memcmp(px ? px : "", py ? py : "", (size_t)(nx < ny ? nx : ny))) != 0)
		return c;
	return nx < ny ? -1 : nx > ny;
}

static struct rollup_row *
find_row(struct rollup_result *res, sqlite3_value *type)
{
	size_t i;

	for (i = 0; i < res->n; i++)
		if (value_cmp(res->rows[i].event_type, type) == 0)
			return &res->rows[i];
	return NULL;
}

static int
read_totals(struct rollup *r, struct rollup_result *res)
{
	bool row;
	int rc;

	while ((rc = db_step(r->db, r->totals, &row)) == J_OK && row) {
		struct rollup_row *x;

		if (res->n == res->cap) {
			size_t cap = res->cap ? res->cap * 2 : 16;
			struct rollup_row *v = realloc(res->rows, cap * sizeof(*v));

			if (v == NULL)
				return J_SOFTWARE;
			res->rows = v;
			res->cap = cap;
		}
		x = &res->rows[res->n++];
		memset(x, 0, sizeof(*x));
		x->event_type = sqlite3_value_dup(sqlite3_column_value(r->totals, 0));
		x->count = sqlite3_column_int64(r->totals, 1);
		x->unique_users = sqlite3_column_int64(r->totals, 2);
		x->unique_sessions = sqlite3_column_int64(r->totals, 3);
		res->events += x->count;
		if (x->event_type == NULL)
			return J_SOFTWARE;
	}
	sqlite3_reset(r->totals);
	return rc;
}

static int
read_products(struct rollup *r, struct rollup_result *res)
{
	struct rollup_row *cur = NULL;
	sqlite3_str *s = NULL;
	int rc, n = 0;
	bool row;
	size_t i;

	while ((rc = db_step(r->db, r->products, &row)) == J_OK && row) {
		sqlite3_value *type = sqlite3_column_value(r->products, 0);

		if (cur == NULL || value_cmp(cur->event_type, type) != 0) {
			if (cur != NULL) {
				sqlite3_str_appendall(s, "]}");
				cur->metadata = sqlite3_str_finish(s);
			}
			cur = find_row(res, type);
			if (cur == NULL) {
				rc = J_SOFTWARE;	/* both reads share a snapshot */
				break;
			}
			s = sqlite3_str_new(NULL);
			sqlite3_str_appendall(s, "{\"top_products\":[");
			n = 0;
		}
		if (n++ >= TOP_PRODUCTS)
			continue;
		sqlite3_str_appendall(s, n > 1 ? ",{\"product_id\":" : "{\"product_id\":");
		json_value(s, r->products, 1);
		sqlite3_str_appendf(s, ",\"count\":%lld}",
		    sqlite3_column_int64(r->products, 2));
	}
	sqlite3_reset(r->products);
	if (cur != NULL) {
		sqlite3_str_appendall(s, "]}");
		cur->metadata = sqlite3_str_finish(s);
	}
	for (i = 0; i < res->n; i++)
		if (res->rows[i].metadata == NULL)
			res->rows[i].metadata = sqlite3_mprintf("{\"top_products\":[]}");
	return rc;
}

/* One event type's counters on the fast path. */
struct group {
	sqlite3_value *type;
	int64_t count;
	struct agg_table users, sessions, products;
};

static int
group_cmp(const void *x, const void *y)
{
	return value_cmp(((const struct group *)x)->type, ((const struct group *)y)->type);
}

static void
groups_free(struct agg_budget *b, struct group *g, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		sqlite3_value_free(g[i].type);
		agg_table_free(b, &g[i].users);
		agg_table_free(b, &g[i].sessions);
		agg_table_free(b, &g[i].products);
	}
	free(g);
	agg_budget_free(b);
}

/*
 * The fast path: read the day's events once and count them in C.  Returns
 * J_OK, or ROLLUP_TOO_BIG (nothing in res) when the day does not fit in
 * ROLLUP_MEMORY: the caller then lets SQLite count, spilling to disk.
 */
static int
read_fast(struct rollup *r, struct rollup_result *res)
{
	struct agg_budget b = { NULL, 0, 0, 0, ROLLUP_MEMORY };
	struct group *g = NULL, *cur;
	size_t n = 0, cap = 0, i;
	bool row;
	int rc;

	while ((rc = db_step(r->db, r->events, &row)) == J_OK && row) {
		sqlite3_value *type = sqlite3_column_value(r->events, 0);

		for (cur = NULL, i = 0; i < n; i++)
			if (value_cmp(g[i].type, type) == 0) {
				cur = &g[i];
				break;
			}
		if (cur == NULL) {
			if (n == cap) {
				struct group *v = realloc(g, (cap = cap ? cap * 2 : 8) * sizeof(*g));

				if (v == NULL) {
					rc = J_SOFTWARE;
					break;
				}
				g = v;
			}
			cur = &g[n++];
			memset(cur, 0, sizeof(*cur));
			if ((cur->type = sqlite3_value_dup(type)) == NULL) {
				rc = J_SOFTWARE;
				break;
			}
		}
		cur->count++;
		if (agg_add(&b, &cur->users, sqlite3_column_value(r->events, 1)) != 0 ||
		    agg_add(&b, &cur->sessions, sqlite3_column_value(r->events, 2)) != 0 ||
		    agg_add(&b, &cur->products, sqlite3_column_value(r->events, 3)) != 0) {
			rc = ROLLUP_TOO_BIG;
			break;
		}
	}
	sqlite3_reset(r->events);
	if (rc == J_OK && n > 0) {
		qsort(g, n, sizeof(*g), group_cmp);
		if ((res->rows = calloc(n, sizeof(*res->rows))) == NULL)
			rc = J_SOFTWARE;
	}
	for (i = 0; rc == J_OK && i < n; i++) {
		struct rollup_row *x = &res->rows[res->n++];
		sqlite3_str *s = sqlite3_str_new(NULL);

		x->event_type = g[i].type;
		g[i].type = NULL;
		x->count = g[i].count;
		x->unique_users = (int64_t)g[i].users.used;
		x->unique_sessions = (int64_t)g[i].sessions.used;
		sqlite3_str_appendall(s, "{\"top_products\":[");
		agg_top_json(&b, &g[i].products, TOP_PRODUCTS, "product_id", s);
		sqlite3_str_appendall(s, "]}");
		x->metadata = sqlite3_str_finish(s);
		res->events += x->count;
	}
	res->cap = res->n;
	groups_free(&b, g, n);
	return rc;
}

int
rollup_compute(struct rollup *r, int64_t day_ms, struct rollup_result *res)
{
	struct tsprobe p[TSPROBE_MAX];
	char lo[16], hi[24];
	int64_t lo_ms, hi_ms;
	bool row;
	int n, rc;

	memset(res, 0, sizeof(*res));
	bizcal_interval(&r->cal, day_ms, &lo_ms, &hi_ms);
	if (hi_ms == lo_ms)
		return J_OK;	/* a day the zone skipped holds no event */
	n = tsprobe_interval(lo_ms, hi_ms, r->aff, p, TSPROBE_MAX);
	if (n <= 0)
		return J_SOFTWARE;
	if ((rc = prepare_day_statements(r, n)) != J_OK)
		return rc;
	if (tsprobe_bind(r->events, p, n) != SQLITE_OK ||
	    tsprobe_bind(r->totals, p, n) != SQLITE_OK ||
	    tsprobe_bind(r->products, p, n) != SQLITE_OK)
		return db_fail(r->db, sqlite3_errcode(r->db->h), "bind failed");
	ts_format_day(day_ms, lo);
	snprintf(hi, sizeof(hi), "%s~", lo);

	/* One read transaction: the totals and the top products of a day come
	 * from the same snapshot. */
	if ((rc = db_exec(r->db, "BEGIN")) != J_OK)
		return rc;
	rc = read_fast(r, res);
	if (rc == ROLLUP_TOO_BIG) {
		log_debug("%s: too many distinct values for %d MB; counting in "
		    "SQLite instead", lo, ROLLUP_MEMORY >> 20);
		rollup_result_free(res);
		rc = read_totals(r, res);
		if (rc == J_OK)
			rc = read_products(r, res);
	}
	if (rc == J_OK)
		rc = db_bind_text(r->db, r->unreadable, ":lo", lo);
	if (rc == J_OK)
		rc = db_bind_text(r->db, r->unreadable, ":hi", hi);
	if (rc == J_OK && (rc = db_step(r->db, r->unreadable, &row)) == J_OK && row)
		res->unreadable = sqlite3_column_int64(r->unreadable, 0);
	sqlite3_reset(r->unreadable);
	if (rc == J_OK)
		rc = db_exec(r->db, "COMMIT");
	else
		db_rollback(r->db);
	return rc;
}

int
rollup_store(struct rollup *r, int64_t day_ms, const struct rollup_result *res,
    bool *frozen)
{
	sqlite3_stmt *state = NULL, *del = NULL, *ins = NULL, *done = NULL;
	sqlite3_stmt *forget = NULL;
	char day[11], now[32];
	bool row;
	size_t i;
	int rc;

	*frozen = false;
	ts_format_day(day_ms, day);
	runlog_clock(now);
	bool zoned = r->cal.zoned;

	rc = db_prepare(r->db, &state, zoned ? "SELECT pruned_at IS NOT NULL FROM "
	    "business_days WHERE day = :day" : "SELECT pruned_at IS NOT NULL FROM "
	    "rollup_days WHERE day = :day");
	if (rc == J_OK)
		rc = db_prepare(r->db, &del, "DELETE FROM analytics_daily WHERE date = :day");
	if (rc == J_OK)
		rc = db_prepare(r->db, &ins, "INSERT INTO analytics_daily (date, "
		    "event_type, count, unique_users, unique_sessions, metadata, "
		    "computed_at) VALUES (:day, :type, :count, :users, :sessions, "
		    ":meta, :now)");
	/* With a zone, the business day's state is its own; its UTC days'
	 * claims go with their last business day (rollup_done_utc_days()). */
	if (rc == J_OK)
		rc = db_prepare(r->db, &done, zoned ? "INSERT INTO business_days "
		    "(day, rolled_at, events) VALUES (:day, :now, :events) ON CONFLICT "
		    "(day) DO UPDATE SET rolled_at = excluded.rolled_at, "
		    "events = excluded.events" : "UPDATE rollup_days SET dirty = CASE "
		    "dirty WHEN 2 THEN 0 ELSE dirty END, rolled_at = :now, "
		    "events = :events WHERE day = :day");
	/* An empty day keeps no state; an event arriving later recreates it. */
	if (rc == J_OK)
		rc = db_prepare(r->db, &forget, zoned ? "DELETE FROM business_days "
		    "WHERE day = :day AND events = 0 AND pruned_at IS NULL" :
		    "DELETE FROM rollup_days WHERE day = :day AND dirty = 0 AND events = 0");
	if (rc == J_OK)
		rc = db_begin(r->db);
	if (rc != J_OK)
		goto out;

	rc = db_bind_text(r->db, state, ":day", day);
	if (rc == J_OK)
		rc = db_step(r->db, state, &row);
	if (rc == J_OK && row && sqlite3_column_int(state, 0)) {
		/* prune_events archived the day after we read it: its rollup is
		 * frozen now and must keep the totals it had. */
		*frozen = true;
		log_warn("%s was pruned while being rolled up; kept its earlier "
		    "totals", day);
		goto out;
	}
	sqlite3_reset(state);
	if (rc == J_OK)
		rc = db_bind_text(r->db, del, ":day", day);
	if (rc == J_OK)
		rc = db_run(r->db, del);
	for (i = 0; rc == J_OK && i < res->n; i++) {
		const struct rollup_row *x = &res->rows[i];

		rc = db_bind_text(r->db, ins, ":day", day);
		if (rc == J_OK)
			rc = sqlite3_bind_value(ins, sqlite3_bind_parameter_index(ins,
			    ":type"), x->event_type) == SQLITE_OK ? J_OK :
			    db_fail(r->db, sqlite3_errcode(r->db->h), "bind failed");
		if (rc == J_OK)
			rc = db_bind_int64(r->db, ins, ":count", x->count);
		if (rc == J_OK)
			rc = db_bind_int64(r->db, ins, ":users", x->unique_users);
		if (rc == J_OK)
			rc = db_bind_int64(r->db, ins, ":sessions", x->unique_sessions);
		if (rc == J_OK)
			rc = db_bind_text(r->db, ins, ":meta", x->metadata);
		if (rc == J_OK)
			rc = db_bind_text(r->db, ins, ":now", now);
		if (rc == J_OK)
			rc = db_run(r->db, ins);
	}
	if (rc == J_OK)
		rc = db_bind_text(r->db, done, ":day", day);
	if (rc == J_OK)
		rc = db_bind_text(r->db, done, ":now", now);
	if (rc == J_OK)
		rc = db_bind_int64(r->db, done, ":events", res->events);
	if (rc == J_OK)
		rc = db_run(r->db, done);
	if (rc == J_OK)
		rc = db_bind_text(r->db, forget, ":day", day);
	if (rc == J_OK)
		rc = db_run(r->db, forget);
	if (rc == J_OK && zoned) {
		int64_t lo, hi;

		bizcal_interval(&r->cal, day_ms, &lo, &hi);
		rc = rollup_done_utc_days(r, day_ms, lo, hi);
	}
	if (rc == J_OK)
		rc = db_commit(r->db);
out:
	if (rc != J_OK || *frozen)
		db_rollback(r->db);
	db_finalize(&state);
	db_finalize(&del);
	db_finalize(&ins);
	db_finalize(&done);
	db_finalize(&forget);
	return rc;
}

