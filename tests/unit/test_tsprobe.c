/*
 * Unit tests for common/tsprobe.c: the probes built for any interval [lo, hi)
 * and any column affinity must select exactly the rows whose parsed instant
 * lies in [lo, hi), each exactly once.  The oracle is a full scan with
 * ts_ms(col) (the same parser, no index); the probes run through the real
 * tsprobe_union_sql()/tsprobe_bind() path on indexed in-memory tables filled
 * with deterministic pseudo-random values of every stored form.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "timefmt.h"
#include "tsprobe.h"

#define DAY	TS_MS_PER_DAY
#define YEAR	(365 * DAY)
#define NROWS	2500		/* rows per table */
#define NINTERVALS 200		/* random intervals per table */

/* Declared types: DATETIME (NUMERIC), TEXT, none (BLOB), INTEGER, REAL. */
static const struct {
	const char *name, *decl;
	enum ts_affinity aff;
} tables[] = {
	{ "t_datetime", "DATETIME", TSA_NUMERIC },
	{ "t_text", "TEXT", TSA_TEXT },
	{ "t_none", "", TSA_ANY },
	{ "t_integer", "INTEGER", TSA_NUMERIC },
	{ "t_real", "REAL", TSA_NUMERIC },
};
#define NTABLES ((int)(sizeof(tables) / sizeof(tables[0])))

static sqlite3 *db;

/* Uniform in [lo, hi] (hi - lo well below 2^63). */
static int64_t
rnd_in(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Instants where forms, lengths or days change. */
static const int64_t anchors[] = {
	0, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000LL,
	10000000000LL, 100000000000LL, 1000000000000LL, 10000000000000LL,
	100000000000000LL,		/* 1e11 seconds */
	-100000000000LL, -99999999000LL, -1000, -1,
	TS_MIN_MS, TS_MIN_MS + DAY, TS_MAX_MS, TS_MAX_MS - DAY,
	20366 * DAY,			/* 2025-10-05 */
	951782400000LL,			/* 2000-02-29 */
	-62135596800000LL + 400 * YEAR,
};
#define NANCHORS ((int)(sizeof(anchors) / sizeof(anchors[0])))

/* An instant near a random anchor, at a random scale. */
static int64_t
near_anchor(void)
{
	int64_t a = anchors[rnd() % NANCHORS];

	switch (rnd() % 5) {
	case 0:
		return a;
	case 1:
		return a + rnd_in(-2000, 2000);
	case 2:
		return a + rnd_in(-200000, 200000);
	case 3:
		return a + rnd_in(-3 * DAY, 3 * DAY);
	default:
		return a + rnd_in(-20 * YEAR, 20 * YEAR);
	}
}

struct val {
	int type;
	int64_t i;
	double d;
	char s[80];
	int len;
};

static void
set_text(struct val *v, const char *s)
{
	v->type = SQLITE_TEXT;
	v->len = (int)strlen(s);
	memcpy(v->s, s, (size_t)v->len + 1);
}

static const char *const garbage[] = {
	"", " ", "abc", "0x10", "+123", "-123", " 123", "123 ", "1e5", "12.5",
	"-0", "00", "007", "9223372036854775807", "9223372036854775808",
	"99999999999999999999", "2025-10-05", "2025-10-05 24:00:00",
	"2025-10-05 23:60:00", "2025-10-05 23:59:60", "2025-02-29 00:00:00",
	"2024-02-30 00:00:00", "2025-13-01 00:00:00", "2025-00-10 00:00:00",
	"0000-12-31 23:00:00", "0000-12-31 23:00:00-02:00", "2025-10-05t00:00:00",
	"2025-10-05 00:00:00z", "2025-10-05 00:00:00.", "2025-10-05 00:00:00.1234567890",
	"2025-10-05 00:00:00+0100", "2025-10-05 00:00:00+01", "2025-10-05 00:00:00+01:60",
	"2025-10-05 00:00:00 ", " 2025-10-05 00:00:00", "2025-10-05  0:00:00",
	"2025/10/05 00:00:00", "2025-10-05_00:00:00", "2025-10-05 00:00:00Z+01:00",
	"2025-10-05 00:00:00+-1:00", "10000-01-01 00:00:00", "9999-12-31 23:59:59-00:01",
	"0001-01-01 00:00:00+00:01", "2025-10-05T00:00:00.000000000Zx",
};
#define NGARBAGE ((int)(sizeof(garbage) / sizeof(garbage[0])))

/* Digit-only text: seconds or milliseconds, sometimes with leading zeros. */
static void
gen_digits(struct val *v, int64_t ms)
{
	int64_t x = rnd() % 2 ? floor_div(ms, 1000) : ms;
	char num[32], buf[40];
	int i, n;

	if (rnd() % 10 == 0) {		/* any digit string of 1..20 digits */
		n = (int)rnd_in(1, 20);
		for (i = 0; i < n; i++)
			num[i] = (char)('0' + rnd() % 10);
		num[n] = '\0';
		set_text(v, num);
		return;
	}
	if (x < 0)
		x = -x;
	snprintf(num, sizeof(num), "%lld", (long long)x);
	/* leading zeros make digit text invalid (but "0" itself is valid) */
	n = (int)(rnd() % 8);
	snprintf(buf, sizeof(buf), "%s%s", n == 0 ? "0" : n == 1 ? "00" : "", num);
	set_text(v, buf);
}

/* "YYYY-MM-DD[ T]HH:MM:SS[.f][zone]" naming instant ms (if valid). */
static void
gen_date(struct val *v, int64_t ms)
{
	int off = 0, zone = (int)(rnd() % 20), k, i, p;
	int64_t local, frac;
	char buf[80];

	if (zone >= 8 && zone < 18)		/* a valid offset */
		off = (int)rnd_in(-TS_MAX_OFFSET_MIN, TS_MAX_OFFSET_MIN);
	else if (zone >= 18)			/* past 14:00: invalid */
		off = (int)(rnd_in(TS_MAX_OFFSET_MIN + 1, 15 * 60 + 59) *
		    (rnd() % 2 ? 1 : -1));
	if (zone >= 18 && rnd() % 2)
		off = off < 0 ? -15 * 60 : 15 * 60;
	if (zone >= 8 && rnd() % 6 == 0)	/* whole hours are common */
		off = off / 60 * 60;
	local = ms + off * 60000LL;
	ts_format_sql(local, buf);
	if (rnd() % 2)
		buf[10] = 'T';
	p = 19;
	k = (int)(rnd() % 10);			/* fraction digits */
	if (k > 0) {
		frac = local - floor_div(local, 1000) * 1000;
		buf[p++] = '.';
		for (i = 0; i < k; i++) {
			if (i < 3)
				buf[p++] = (char)('0' + (i == 0 ? frac / 100 :
				    i == 1 ? frac / 10 % 10 : frac % 10));
			else
				buf[p++] = (char)('0' + (rnd() % 3 ? 0 : rnd() % 10));
		}
	}
	if (zone >= 5 && zone < 8) {
		buf[p++] = 'Z';
	} else if (zone >= 8) {
		int a = off < 0 ? -off : off;

		p += snprintf(buf + p, sizeof(buf) - (size_t)p, "%c%02d:%02d",
		    off < 0 ? '-' : '+', a / 60, a % 60);
	}
	buf[p] = '\0';
	if (rnd() % 40 == 0)			/* one byte off: mostly invalid */
		buf[rnd() % (uint64_t)p] = "0123456789 T:-+.Zx"[rnd() % 18];
	set_text(v, buf);
}

static void
gen_value(struct val *v)
{
	static const double thresholds[] = { 1e11, -1e11 };
	int64_t ms = near_anchor();
	unsigned r = (unsigned)(rnd() % 100);
	double t;

	memset(v, 0, sizeof(*v));
	if (r < 4) {
		v->type = SQLITE_NULL;
	} else if (r < 12) {		/* integer seconds */
		v->type = SQLITE_INTEGER;
		v->i = floor_div(ms, 1000) + (rnd() % 8 == 0 ? rnd_in(-1, 1) : 0);
	} else if (r < 20) {		/* integer milliseconds */
		v->type = SQLITE_INTEGER;
		v->i = ms;
	} else if (r < 24) {		/* integers at the 1e11 threshold */
		v->type = SQLITE_INTEGER;
		v->i = (rnd() % 2 ? TS_MILLIS_THRESHOLD : -TS_MILLIS_THRESHOLD) +
		    rnd_in(-3, 3);
		if (rnd() % 10 == 0)
			v->i = rnd() % 2 ? INT64_MAX : INT64_MIN;
	} else if (r < 30) {		/* real seconds, some below 1 ms */
		v->type = SQLITE_FLOAT;
		v->d = (double)ms / 1000.0;
		if (rnd() % 2)
			v->d += (double)(rnd() % 1000) / 1e6;
	} else if (r < 36) {		/* real milliseconds */
		static const double fr[] = { 0, 0.25, 0.5, 0.999, -0.5, 1e-3 };

		v->type = SQLITE_FLOAT;
		v->d = (double)ms + fr[rnd() % 6];
	} else if (r < 39) {		/* reals at the 1e11 threshold */
		v->type = SQLITE_FLOAT;
		t = thresholds[rnd() % 2];
		switch (rnd() % 5) {
		case 0: v->d = t; break;
		/* one ulp (2^-16 at 1e11) inside and outside; no libm */
		case 1: v->d = t - copysign(1.0 / 65536, t); break;
		case 2: v->d = t + copysign(1.0 / 65536, t); break;
		case 3: v->d = t + (double)rnd_in(-4, 4) / 2; break;
		default: v->d = rnd() % 2 ? INFINITY : -INFINITY;
		}
	} else if (r < 50) {
		gen_digits(v, ms);
	} else if (r < 88) {
		gen_date(v, ms);
	} else if (r < 96) {
		set_text(v, garbage[rnd() % NGARBAGE]);
	} else {			/* a blob, sometimes of date bytes */
		v->type = SQLITE_BLOB;
		if (rnd() % 2) {
			ts_format_sql(ms, v->s);
			v->len = 19;
		} else {
			v->len = (int)(rnd() % 12);
			for (int i = 0; i < v->len; i++)
				v->s[i] = (char)(rnd() & 0xff);
		}
	}
}

static void
bind_val(sqlite3_stmt *st, int i, const struct val *v)
{
	int rc;

	switch (v->type) {
	case SQLITE_INTEGER:
		rc = sqlite3_bind_int64(st, i, v->i);
		break;
	case SQLITE_FLOAT:
		rc = sqlite3_bind_double(st, i, v->d);
		break;
	case SQLITE_TEXT:
		rc = sqlite3_bind_text(st, i, v->s, v->len, SQLITE_TRANSIENT);
		break;
	case SQLITE_BLOB:
		rc = sqlite3_bind_blob(st, i, v->s, v->len, SQLITE_TRANSIENT);
		break;
	default:
		rc = sqlite3_bind_null(st, i);
	}
	assert_int_equal(rc, SQLITE_OK);
}

static void
exec(const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : "?");
}

static int
group_setup(void **state)
{
	sqlite3_stmt *ins[NTABLES];
	struct val v;
	char *sql;
	int i, t;

	(void)state;
	rng = 20251005;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK || tsql_register(db) != SQLITE_OK)
		return -1;
	exec("BEGIN");
	for (t = 0; t < NTABLES; t++) {
		sql = sqlite3_mprintf("CREATE TABLE \"%w\"(c %s); "
		    "CREATE INDEX \"%w_c\" ON \"%w\"(c)", tables[t].name,
		    tables[t].decl, tables[t].name, tables[t].name);
		exec(sql);
		sqlite3_free(sql);
		sql = sqlite3_mprintf("INSERT INTO \"%w\"(rowid, c) VALUES (?1, ?2)",
		    tables[t].name);
		if (sqlite3_prepare_v2(db, sql, -1, &ins[t], NULL) != SQLITE_OK)
			return -1;
		sqlite3_free(sql);
	}
	/* The same value goes into every table under the same rowid. */
	for (i = 1; i <= NROWS; i++) {
		gen_value(&v);
		for (t = 0; t < NTABLES; t++) {
			sqlite3_bind_int(ins[t], 1, i);
			bind_val(ins[t], 2, &v);
			if (sqlite3_step(ins[t]) != SQLITE_DONE)
				return -1;
			sqlite3_reset(ins[t]);
		}
	}
	for (t = 0; t < NTABLES; t++)
		sqlite3_finalize(ins[t]);
	exec("COMMIT");
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	return sqlite3_close(db) == SQLITE_OK ? 0 : -1;
}

struct ids {
	sqlite3_int64 *v;
	size_t n, cap;
};

static void
ids_push(struct ids *a, sqlite3_int64 id)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 256;
		a->v = realloc(a->v, a->cap * sizeof(*a->v));
		assert_non_null(a->v);
	}
	a->v[a->n++] = id;
}

static int
cmp_id(const void *x, const void *y)
{
	sqlite3_int64 a = *(const sqlite3_int64 *)x, b = *(const sqlite3_int64 *)y;

	return a < b ? -1 : a > b;
}

/* Describe row id of table t on stderr: its stored value and instant. */
static void
show_row(const char *table, sqlite3_int64 id)
{
	sqlite3_stmt *st;
	char *sql = sqlite3_mprintf("SELECT typeof(c), quote(c), ts_ms(c) "
	    "FROM \"%w\" WHERE rowid = %lld", table, (long long)id);

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		fprintf(stderr, "  %s rowid %lld: %s %s -> ts_ms %s\n", table,
		    (long long)id, sqlite3_column_text(st, 0),
		    sqlite3_column_text(st, 1),
		    sqlite3_column_type(st, 2) == SQLITE_NULL ? "NULL" :
		    (const char *)sqlite3_column_text(st, 2));
	sqlite3_finalize(st);
	sqlite3_free(sql);
}

static void
run_ids(sqlite3_stmt *st, struct ids *out)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ids_push(out, sqlite3_column_int64(st, 0));
	assert_int_equal(rc, SQLITE_DONE);
}

/* The oracle: a full scan, no probes, no index. */
static void
scan_ids(const char *table, int64_t lo, int64_t hi, const char *extra,
    struct ids *out)
{
	sqlite3_stmt *st;
	char *sql = sqlite3_mprintf("SELECT rowid FROM \"%w\" NOT INDEXED "
	    "WHERE ts_ms(c) >= ?1 AND ts_ms(c) < ?2%s%s%s", table,
	    extra ? " AND (" : "", extra ? extra : "", extra ? ")" : "");

	assert_non_null(sql);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, lo);
	sqlite3_bind_int64(st, 2, hi);
	run_ids(st, out);
	sqlite3_finalize(st);
	sqlite3_free(sql);
	if (out->n > 0)	/* qsort(NULL, 0) is undefined */
		qsort(out->v, out->n, sizeof(*out->v), cmp_id);
}

/* Rows of the probes' UNION ALL; returns the probe count. */
static int
probe_ids(const char *table, enum ts_affinity aff, int64_t lo, int64_t hi,
    const char *extra, struct ids *out)
{
	struct tsprobe p[TSPROBE_MAX];
	sqlite3_stmt *st;
	char *sql;
	int n;

	n = tsprobe_interval(lo, hi, aff, p, TSPROBE_MAX);
	if (n < 0)
		fail_msg("tsprobe_interval(%lld, %lld, %d): %d", (long long)lo,
		    (long long)hi, (int)aff, n);
	if (n == 0)
		return 0;
	sql = tsprobe_union_sql("rowid", table, "c", extra, n);
	assert_non_null(sql);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare: %s", sqlite3_errmsg(db));
	assert_int_equal(tsprobe_bind(st, p, n), SQLITE_OK);
	run_ids(st, out);
	sqlite3_finalize(st);
	sqlite3_free(sql);
	if (out->n > 0)	/* qsort(NULL, 0) is undefined */
		qsort(out->v, out->n, sizeof(*out->v), cmp_id);
	return n;
}

static void
dump_probes(int64_t lo, int64_t hi, enum ts_affinity aff)
{
	struct tsprobe p[TSPROBE_MAX];
	int i, n = tsprobe_interval(lo, hi, aff, p, TSPROBE_MAX);

	for (i = 0; i < n; i++) {
		if (p[i].numeric)
			fprintf(stderr, "  probe %d kind %d [%lld, %lld)", i,
			    (int)p[i].kind, (long long)p[i].lo_num,
			    (long long)p[i].hi_num);
		else
			fprintf(stderr, "  probe %d kind %d ['%s', '%s')", i,
			    (int)p[i].kind, p[i].lo_text, p[i].hi_text);
		fprintf(stderr, " window [%lld, %lld)\n", (long long)p[i].wlo,
		    (long long)p[i].whi);
	}
}

/*
 * Probe rows and scan rows of one interval must be the same set, and the
 * probes must not return a row twice.  Returns the number of rows.
 */
static size_t
check_interval(int t, int64_t lo, int64_t hi, const char *extra)
{
	struct ids got = { 0 }, want = { 0 };
	size_t i, j;
	int bad = 0;

	probe_ids(tables[t].name, tables[t].aff, lo, hi, extra, &got);
	scan_ids(tables[t].name, lo, hi, extra, &want);
	for (i = 1; i < got.n; i++)
		if (got.v[i] == got.v[i - 1]) {
			fprintf(stderr, "%s [%lld, %lld): rowid twice\n",
			    tables[t].name, (long long)lo, (long long)hi);
			show_row(tables[t].name, got.v[i]);
			bad = 1;
		}
	/* Merge walk: report what one side has and the other lacks. */
	for (i = j = 0; i < got.n || j < want.n;) {
		if (j == want.n || (i < got.n && got.v[i] < want.v[j])) {
			fprintf(stderr, "%s [%lld, %lld): extra row\n",
			    tables[t].name, (long long)lo, (long long)hi);
			show_row(tables[t].name, got.v[i++]);
			bad = 1;
		} else if (i == got.n || want.v[j] < got.v[i]) {
			fprintf(stderr, "%s [%lld, %lld): missing row\n",
			    tables[t].name, (long long)lo, (long long)hi);
			show_row(tables[t].name, want.v[j++]);
			bad = 1;
		} else {
			i++;
			j++;
		}
	}
	if (bad)
		dump_probes(lo, hi, tables[t].aff);
	free(got.v);
	free(want.v);
	if (bad)
		fail_msg("%s: probes differ from the scan on [%lld, %lld)",
		    tables[t].name, (long long)lo, (long long)hi);
	return want.n;
}

/* A random interval; kind picks narrow, medium, wide or open-ended. */
static void
gen_interval(int kind, int64_t *lo, int64_t *hi)
{
	*lo = near_anchor();
	switch (kind) {
	case 0:		/* a day or less, sometimes aligned */
	case 1:
		if (rnd() % 3 == 0)
			*lo = floor_div(*lo, 1000) * 1000;
		if (rnd() % 4 == 0)
			*lo = floor_div(*lo, DAY) * DAY;
		*hi = *lo + (rnd() % 4 == 0 ? DAY : rnd_in(0, DAY));
		if (rnd() % 8 == 0)
			*hi = *lo + rnd_in(0, 2000);
		break;
	case 2:		/* around the narrow/wide switch */
		*hi = *lo + rnd_in(DAY, (TSPROBE_NARROW_DAYS + 3) * DAY);
		break;
	case 3:		/* years */
		*hi = *lo + rnd_in(YEAR, 3000 * YEAR);
		break;
	case 4:		/* open start */
		*hi = *lo;
		*lo = rnd() % 4 ? TS_MIN_MS : INT64_MIN;
		break;
	default:	/* open end */
		*hi = rnd() % 4 ? TS_MAX_MS + 1 : INT64_MAX;
		break;
	}
}

static void
check_table(int t)
{
	size_t rows = 0, nonempty = 0, n;
	int64_t lo, hi;
	int i;

	rng = 1000 + (uint64_t)t;
	for (i = 0; i < NINTERVALS; i++) {
		gen_interval(i % 6, &lo, &hi);
		n = check_interval(t, lo, hi, NULL);
		rows += n;
		nonempty += n > 0;
	}
	/* Not vacuous: most intervals hit rows. */
	assert_true(nonempty > NINTERVALS / 2);
	assert_true(rows > NROWS);
	/* Whole range, beyond it, and an extra condition. */
	check_interval(t, INT64_MIN, INT64_MAX, NULL);
	check_interval(t, TS_MIN_MS, TS_MAX_MS + 1, NULL);
	check_interval(t, TS_MIN_MS, TS_MIN_MS + DAY, NULL);
	check_interval(t, TS_MAX_MS + 1 - DAY, TS_MAX_MS + 1, NULL);
	check_interval(t, TS_MIN_MS, TS_MAX_MS + 1, "rowid % 3 = 0");
	check_interval(t, 20366 * DAY, 20367 * DAY, "rowid % 2 = 1");
}

static void test_union_datetime(void **state) { (void)state; check_table(0); }
static void test_union_text(void **state) { (void)state; check_table(1); }
static void test_union_untyped(void **state) { (void)state; check_table(2); }
static void test_union_integer(void **state) { (void)state; check_table(3); }
static void test_union_real(void **state) { (void)state; check_table(4); }

/* The generator really produced every kind, valid and invalid. */
static void
test_data_covers_every_kind(void **state)
{
	int count[TS_TEXT_T + 1] = { 0 };
	sqlite3_stmt *st;
	struct ts ts;
	int k;

	(void)state;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT c FROM t_none", -1,
	    &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		count[tsql_parse_column(st, 0, &ts)]++;
	sqlite3_finalize(st);
	for (k = TS_INVALID; k <= TS_TEXT_T; k++)
		if (count[k] < 30)
			fail_msg("only %d rows of kind %d", count[k], k);
}

static void
test_affinity(void **state)
{
	static const struct {
		const char *decl;
		enum ts_affinity aff;
	} cases[] = {
		{ "DATETIME", TSA_NUMERIC }, { "TIMESTAMP", TSA_NUMERIC },
		{ "NUMERIC", TSA_NUMERIC }, { "INTEGER", TSA_NUMERIC },
		{ "bigint", TSA_NUMERIC }, { "REAL", TSA_NUMERIC },
		{ "DOUBLE PRECISION", TSA_NUMERIC }, { "TEXT", TSA_TEXT },
		{ "varchar(32)", TSA_TEXT }, { "CLOB", TSA_TEXT },
		{ "BLOB", TSA_ANY }, { "", TSA_ANY },
		{ "CHARINT", TSA_NUMERIC },	/* INT wins, as in SQLite */
	};
	enum ts_affinity aff;
	sqlite3 *h;
	char *sql;
	size_t i;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &h), SQLITE_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sql = sqlite3_mprintf("CREATE TABLE x%d(c %s)", (int)i, cases[i].decl);
		assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_free(sql);
		sql = sqlite3_mprintf("x%d", (int)i);
		aff = (enum ts_affinity)-1;
		assert_int_equal(tsql_affinity(h, sql, "c", &aff), SQLITE_OK);
		if (aff != cases[i].aff)
			fail_msg("'%s': affinity %d, want %d", cases[i].decl,
			    (int)aff, (int)cases[i].aff);
		sqlite3_free(sql);
	}
	assert_int_not_equal(tsql_affinity(h, "x0", "nope", &aff), SQLITE_OK);
	assert_int_not_equal(tsql_affinity(h, "nope", "c", &aff), SQLITE_OK);
	sqlite3_close(h);

	for (i = 0; i < (size_t)NTABLES; i++) {
		assert_int_equal(tsql_affinity(db, tables[i].name, "c", &aff), SQLITE_OK);
		assert_int_equal(aff, tables[i].aff);
	}
}

static void
test_empty_interval(void **state)
{
	static const int64_t iv[][2] = {
		{ 0, 0 }, { 5, 4 }, { 20366 * DAY, 20366 * DAY },
		{ INT64_MAX, INT64_MIN }, { TS_MAX_MS + 1, INT64_MAX },
		{ INT64_MIN, TS_MIN_MS }, { TS_MAX_MS + 1, TS_MAX_MS + 2 },
		{ TS_MIN_MS - DAY, TS_MIN_MS },
	};
	struct tsprobe p[TSPROBE_MAX];
	size_t i;
	int a;

	(void)state;
	for (i = 0; i < sizeof(iv) / sizeof(iv[0]); i++)
		for (a = TSA_ANY; a <= TSA_TEXT; a++) {
			assert_int_equal(tsprobe_interval(iv[i][0], iv[i][1],
			    (enum ts_affinity)a, p, TSPROBE_MAX), 0);
			/* Empty needs no room at all. */
			assert_int_equal(tsprobe_interval(iv[i][0], iv[i][1],
			    (enum ts_affinity)a, NULL, 0), 0);
		}
	/* One millisecond at either end of the range is not empty. */
	assert_true(tsprobe_interval(TS_MIN_MS, TS_MIN_MS + 1, TSA_ANY, p,
	    TSPROBE_MAX) > 0);
	assert_true(tsprobe_interval(TS_MAX_MS, TS_MAX_MS + 1, TSA_ANY, p,
	    TSPROBE_MAX) > 0);
}

static void
test_max_too_small(void **state)
{
	static const int64_t iv[][2] = {
		{ TS_MIN_MS, TS_MAX_MS + 1 }, { 20366 * DAY, 20367 * DAY },
		{ 20366 * DAY, 20366 * DAY + 1 }, { 0, 9 * DAY },
		{ INT64_MIN, INT64_MAX },
	};
	struct tsprobe p[TSPROBE_MAX + 1];
	size_t i;
	int a, n, m;

	(void)state;
	for (i = 0; i < sizeof(iv) / sizeof(iv[0]); i++)
		for (a = TSA_ANY; a <= TSA_TEXT; a++) {
			n = tsprobe_interval(iv[i][0], iv[i][1],
			    (enum ts_affinity)a, p, TSPROBE_MAX);
			assert_true(n > 0 && n <= TSPROBE_MAX);
			/* Exactly enough room works; one less fails. */
			assert_int_equal(tsprobe_interval(iv[i][0], iv[i][1],
			    (enum ts_affinity)a, p, n), n);
			for (m = 0; m < n; m++)
				assert_int_equal(tsprobe_interval(iv[i][0],
				    iv[i][1], (enum ts_affinity)a, p, m), -1);
		}
}

/* No interval, however placed, needs more than TSPROBE_MAX probes. */
static void
test_probe_count_bound(void **state)
{
	struct tsprobe p[TSPROBE_MAX];
	int64_t lo, hi, w;
	int a, i, n, most = 0;

	(void)state;
	rng = 77;
	for (i = 0; i < 3000; i++) {
		lo = near_anchor();
		/* Widths around the narrow limit are the most probes. */
		w = rnd_in((TSPROBE_NARROW_DAYS - 1) * DAY, (TSPROBE_NARROW_DAYS + 3) * DAY);
		if (i % 3 == 0)
			w = rnd_in(0, 3000 * YEAR);
		hi = lo + w;
		for (a = TSA_ANY; a <= TSA_TEXT; a++) {
			n = tsprobe_interval(lo, hi, (enum ts_affinity)a, p, TSPROBE_MAX);
			if (n < 0)
				fail_msg("[%lld, %lld) aff %d: needs more than %d probes",
				    (long long)lo, (long long)hi, a, TSPROBE_MAX);
			most = n > most ? n : most;
		}
	}
	assert_true(most > 20);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_affinity),
		cmocka_unit_test(test_empty_interval),
		cmocka_unit_test(test_max_too_small),
		cmocka_unit_test(test_probe_count_bound),
		cmocka_unit_test(test_data_covers_every_kind),
		cmocka_unit_test(test_union_datetime),
		cmocka_unit_test(test_union_text),
		cmocka_unit_test(test_union_untyped),
		cmocka_unit_test(test_union_integer),
		cmocka_unit_test(test_union_real),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
