/*
 * Index probes over a mixed-form timestamp column, and the SQL functions that
 * test a value against a probe.  See tsprobe.h for why a time interval needs
 * several index ranges and why no row can be accepted twice.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "tsprobe.h"

#define HOUR_MS		3600000LL
#define OFFSET_MS	((int64_t)TS_MAX_OFFSET_MIN * 60000)

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t
ceil_div(int64_t a, int64_t b)
{
	return -floor_div(-a, b);
}

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static struct tsprobe *
add(struct tsprobe *out, int *n, int max, enum ts_kind kind, int64_t wlo,
    int64_t whi)
{
	struct tsprobe *p;

	if (*n >= max)
		return NULL;
	p = &out[(*n)++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->wlo = wlo;
	p->whi = whi;
	return p;
}

static int
add_numeric(struct tsprobe *out, int *n, int max, enum ts_kind kind,
    int64_t lo, int64_t hi, int64_t wlo, int64_t whi)
{
	struct tsprobe *p;

	if (lo >= hi)
		return 0;
	if ((p = add(out, n, max, kind, wlo, whi)) == NULL)
		return -1;
	p->numeric = 1;
	p->lo_num = lo;
	p->hi_num = hi;
	return 0;
}

/*
 * Digit-only text holding integers in [a, b) (a >= 0), in units of unit ms.
 * Same-length digit strings sort like their values, so each length gets its
 * own text range and its own window; a string of another length that falls
 * inside the text range has a value outside the window and is rejected.
 */
static int
add_digits(struct tsprobe *out, int *n, int max, enum ts_kind kind,
    int64_t a, int64_t b, int64_t unit)
{
	int64_t pow = 1, next;
	int len;

	for (len = 1; len <= 18 && a < b; len++, pow = next) {
		struct tsprobe *p;
		int64_t x0, x1;

		next = pow * 10;
		x0 = max64(a, len == 1 ? 0 : pow);
		x1 = min64(b, next);
		if (x0 >= x1)
			continue;
		if ((p = add(out, n, max, kind, x0 * unit, x1 * unit)) == NULL)
			return -1;
		snprintf(p->lo_text, sizeof(p->lo_text), "%lld", (long long)x0);
		/* ':' sorts just after '9': every string starting with x1-1 is in. */
		snprintf(p->hi_text, sizeof(p->hi_text), "%lld:", (long long)(x1 - 1));
		a = x1;
	}
	return 0;
}

static void
format_local(int64_t ms, char sep, char *out)
{
	ts_format_sql(ms, out);
	out[10] = sep;
}

/* Date text with separator sep whose local time lies in [llo, lhi). */
static int
add_dates(struct tsprobe *out, int *n, int max, char sep, int64_t llo,
    int64_t lhi, int64_t wlo, int64_t whi, int narrow)
{
	enum ts_kind kind = sep == 'T' ? TS_TEXT_T : TS_TEXT_SPACE;
	int64_t lo_s = floor_div(llo, 1000) * 1000;	/* whole seconds */
	int64_t hi_s = ceil_div(lhi, 1000) * 1000;
	int64_t day;

	if (!narrow) {
		struct tsprobe *p = add(out, n, max, kind, wlo, whi);

		if (p == NULL)
			return -1;
		format_local(lo_s, sep, p->lo_text);
		format_local(min64(hi_s, TS_MAX_MS - 999), sep, p->hi_text);
		if (hi_s > TS_MAX_MS)	/* through the end of year 9999 */
			snprintf(p->hi_text, sizeof(p->hi_text), "9999-12-31%c~", sep);
		return 0;
	}
	/* One range per local date, so a date's other-separator rows (which sort
	 * between this date's rows and the next) are never walked. */
	for (day = ts_floor_day(lo_s); day < hi_s; day += TS_MS_PER_DAY) {
		struct tsprobe *p = add(out, n, max, kind, wlo, whi);

		if (p == NULL)
			return -1;
		format_local(max64(day, lo_s), sep, p->lo_text);
		if (hi_s >= day + TS_MS_PER_DAY || day + TS_MS_PER_DAY > TS_MAX_MS) {
			ts_format_day(day, p->hi_text);
			p->hi_text[10] = sep;
			p->hi_text[11] = '~';
			p->hi_text[12] = '\0';
		} else {
			format_local(hi_s, sep, p->hi_text);
		}
	}
	return 0;
}

int
tsprobe_interval(int64_t lo, int64_t hi, enum ts_affinity aff,
    struct tsprobe *out, int max)
{
	int n = 0, narrow, rc = 0;
	int64_t llo, lhi;

	lo = max64(lo, TS_MIN_MS);
	hi = min64(hi, TS_MAX_MS + 1);
	if (lo >= hi)
		return 0;

	if (aff != TSA_TEXT) {
		/* Numbers: |v| < 1e11 are seconds, others milliseconds. */
		rc |= add_numeric(out, &n, max, TS_NUM_SECONDS,
		    max64(floor_div(lo, 1000), -TS_MILLIS_THRESHOLD),
		    min64(ceil_div(hi, 1000), TS_MILLIS_THRESHOLD), lo, hi);
		rc |= add_numeric(out, &n, max, TS_NUM_MILLIS,
		    max64(lo, TS_MILLIS_THRESHOLD), hi, lo, hi);
		rc |= add_numeric(out, &n, max, TS_NUM_MILLIS,
		    lo, min64(hi, 1 - TS_MILLIS_THRESHOLD), lo, hi);
	}
	if (aff != TSA_NUMERIC) {
		/* A NUMERIC column turned digit text into integers on insert. */
		rc |= add_digits(out, &n, max, TS_TEXT_SECONDS,
		    max64(ceil_div(lo, 1000), 0),
		    min64(ceil_div(hi, 1000), TS_MILLIS_THRESHOLD), 1000);
		rc |= add_digits(out, &n, max, TS_TEXT_MILLIS,
		    max64(lo, TS_MILLIS_THRESHOLD), hi, 1);
	}
	/* A date with a zone names a local time up to 14 hours off UTC. */
	llo = max64(lo - OFFSET_MS, TS_MIN_MS);
	lhi = min64(hi + OFFSET_MS, TS_MAX_MS + 1);
	narrow = (lhi - llo) <= (TSPROBE_NARROW_DAYS + 2) * TS_MS_PER_DAY;
	rc |= add_dates(out, &n, max, ' ', llo, lhi, lo, hi, narrow);
	rc |= add_dates(out, &n, max, 'T', llo, lhi, lo, hi, narrow);
	return rc != 0 ? -1 : n;
}

int
tsql_affinity(sqlite3 *h, const char *table, const char *column,
    enum ts_affinity *out)
{
	sqlite3_stmt *st;
	char type[128] = "";
	int rc, i;

	rc = sqlite3_prepare_v2(h, "SELECT type FROM pragma_table_info(?1) "
	    "WHERE name = ?2", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		for (i = 0; t != NULL && t[i] != '\0' && i < (int)sizeof(type) - 1; i++)
			type[i] = (char)toupper(t[i]);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_ERROR;	/* no such column */
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return rc;
	/* SQLite's rules (datatype3.html section 3.1), in their order. */
	if (strstr(type, "INT"))
		*out = TSA_NUMERIC;	/* NOLINT(bugprone-branch-clone): rule 1 */
	else if (strstr(type, "CHAR") || strstr(type, "CLOB") || strstr(type, "TEXT"))
		*out = TSA_TEXT;
	else if (strstr(type, "BLOB") || type[0] == '\0')
		*out = TSA_ANY;
	else
		*out = TSA_NUMERIC;	/* REAL, FLOA, DOUB, and NUMERIC (DATETIME) */
	return SQLITE_OK;
}

enum ts_kind
tsql_parse_value(sqlite3_value *v, struct ts *out)
{
	switch (sqlite3_value_type(v)) {
	case SQLITE_INTEGER:
		return ts_parse_int(sqlite3_value_int64(v), out);
	case SQLITE_FLOAT:
		return ts_parse_real(sqlite3_value_double(v), out);
	case SQLITE_TEXT: {
		const char *s = (const char *)sqlite3_value_text(v);

		return ts_parse_text(s, (size_t)sqlite3_value_bytes(v), out);
	}
	default:
		return TS_INVALID;
	}
}

enum ts_kind
tsql_parse_column(sqlite3_stmt *st, int col, struct ts *out)
{
	return tsql_parse_value(sqlite3_column_value(st, col), out);
}

static void
fn_ts_in(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct ts t;
	enum ts_kind k = tsql_parse_value(argv[0], &t);

	(void)argc;
	sqlite3_result_int(ctx, k != TS_INVALID &&
	    (int)k == sqlite3_value_int(argv[1]) &&
	    t.ms >= sqlite3_value_int64(argv[2]) &&
	    t.ms < sqlite3_value_int64(argv[3]));
}

static void
fn_ts_ms(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct ts t;

	(void)argc;
	if (tsql_parse_value(argv[0], &t) == TS_INVALID)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_int64(ctx, t.ms);
}

static void
fn_ts_day(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct ts t;
	char day[11];

	(void)argc;
	if (tsql_parse_value(argv[0], &t) == TS_INVALID) {
		sqlite3_result_null(ctx);
		return;
	}
	ts_format_day(t.ms, day);
	sqlite3_result_text(ctx, day, 10, SQLITE_TRANSIENT);
}

int
tsql_register(sqlite3 *h)
{
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY;
	int rc;

	rc = sqlite3_create_function(h, "ts_in", 4, flags, NULL, fn_ts_in, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(h, "ts_ms", 1, flags, NULL, fn_ts_ms, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(h, "ts_day", 1, flags, NULL, fn_ts_day, NULL, NULL);
	return rc;
}

char *
tsprobe_union_sql(const char *cols, const char *table, const char *column,
    const char *extra, int n)
{
	sqlite3_str *s = sqlite3_str_new(NULL);
	int i;

	for (i = 0; i < n; i++)
		sqlite3_str_appendf(s, "%sSELECT %s FROM \"%w\" WHERE \"%w\" >= ?%d "
		    "AND \"%w\" < ?%d AND ts_in(\"%w\", ?%d, ?%d, ?%d)%s%s%s",
		    i ? " UNION ALL " : "", cols, table, column, 5 * i + 1,
		    column, 5 * i + 2, column, 5 * i + 3, 5 * i + 4, 5 * i + 5,
		    extra ? " AND (" : "", extra ? extra : "", extra ? ")" : "");
	return sqlite3_str_finish(s);
}

int
tsprobe_bind(sqlite3_stmt *st, const struct tsprobe *p, int n)
{
	int i, rc = SQLITE_OK, b;

	for (i = 0; i < n && rc == SQLITE_OK; i++) {
		b = 5 * i;
		if (p[i].numeric) {
			rc = sqlite3_bind_int64(st, b + 1, p[i].lo_num);
			if (rc == SQLITE_OK)
				rc = sqlite3_bind_int64(st, b + 2, p[i].hi_num);
		} else {
			rc = sqlite3_bind_text(st, b + 1, p[i].lo_text, -1, SQLITE_STATIC);
			if (rc == SQLITE_OK)
				rc = sqlite3_bind_text(st, b + 2, p[i].hi_text, -1, SQLITE_STATIC);
		}
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int(st, b + 3, (int)p[i].kind);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(st, b + 4, p[i].wlo);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int64(st, b + 5, p[i].whi);
	}
	return rc;
}
