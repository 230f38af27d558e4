/*
 * libFuzzer harness for common/timefmt.c (SPEC section 3).
 *
 * Every input is used four ways:
 *   1. as text for ts_parse_text(), from an exact-size heap copy without a
 *      NUL so ASan sees any read past len, and compared field by field with
 *      an independent reference parser written here (different calendar
 *      formula, different scanning), including "*out untouched on failure";
 *   2. anything accepted must format and reparse consistently:
 *      ts_format_iso() reparses to the same instant, ts_format_sql() to the
 *      instant floored to its second, ts_format_day() through ts_parse_day()
 *      to ts_floor_day();
 *   3. as a NUL-terminated string for ts_parse_day(), which must agree with
 *      ts_parse_text() of the same day at 00:00:00;
 *   4. its first 8 bytes as an int64 and as a double for ts_parse_int(),
 *      ts_parse_real(), ts_floor_day() and the formatters (which clamp).
 *
 * A broken property aborts, which libFuzzer reports as a crash and saves.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: property failed: %s\n",	\
			    __FILE__, __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

/* ------------------------------------------------------------------ */
/* Reference: a deliberately different implementation of SPEC section 3. */

static bool
ref_leap(int64_t y)
{
	return y % 400 == 0 || (y % 4 == 0 && y % 100 != 0);
}

static int
ref_mdays(int64_t y, int m)
{
	if (m == 2)
		return ref_leap(y) ? 29 : 28;
	return m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31;
}

/* Days since 1970-01-01, counting from 0001-01-01 (719162 days before). */
static int64_t
ref_days(int64_t y, int m, int d)
{
	static const int before[12] = {
		0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334
	};
	int64_t py = y - 1;
	int64_t n = py * 365 + py / 4 - py / 100 + py / 400;

	n += before[m - 1] + (m > 2 && ref_leap(y)) + d - 1;
	return n - 719162;
}

static bool
ref_num(const uint8_t *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

struct ref {
	enum ts_kind kind;
	int64_t ms;
	bool sub_ms;
};

static struct ref
ref_parse(const uint8_t *s, size_t len)
{
	struct ref r = { TS_INVALID, 0, false };
	struct ref bad = r;
	size_t i, p;
	int y, mo, d, h, mi, se, oh, om, frac = 0;
	int64_t off = 0, ms;

	/* Digit-only text. */
	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (len > 0 && i == len) {
		uint64_t v = 0;

		if (len > 19 || (len > 1 && s[0] == '0'))
			return bad;
		for (i = 0; i < len; i++) {
			if (v > (UINT64_MAX - 9) / 10)
				return bad;
			v = v * 10 + (uint64_t)(s[i] - '0');
		}
		if (v < (uint64_t)TS_MILLIS_THRESHOLD) {
			r.kind = TS_TEXT_SECONDS;
			r.ms = (int64_t)v * 1000;
		} else {
			if (v > (uint64_t)TS_MAX_MS)
				return bad;
			r.kind = TS_TEXT_MILLIS;
			r.ms = (int64_t)v;
		}
		return r;
	}

	/* YYYY-MM-DD?HH:MM:SS */
	if (len < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' ||
	    s[16] != ':' || (s[10] != ' ' && s[10] != 'T'))
		return bad;
	if (!ref_num(s, 4, &y) || !ref_num(s + 5, 2, &mo) ||
	    !ref_num(s + 8, 2, &d) || !ref_num(s + 11, 2, &h) ||
	    !ref_num(s + 14, 2, &mi) || !ref_num(s + 17, 2, &se))
		return bad;
	if (y == 0 || mo < 1 || mo > 12 || d < 1 || d > ref_mdays(y, mo) ||
	    h > 23 || mi > 59 || se > 59)
		return bad;
	p = 19;
	if (p < len && s[p] == '.') {
		size_t start = ++p;

		while (p < len && s[p] >= '0' && s[p] <= '9')
			p++;
		if (p == start || p - start > 9)
			return bad;
		for (i = 0; i < 3; i++)
			frac = frac * 10 + (start + i < p ? s[start + i] - '0' : 0);
		for (i = start + 3; i < p; i++)
			if (s[i] != '0')
				r.sub_ms = true;
	}
	if (p < len && s[p] == 'Z') {
		p++;
	} else if (p < len && (s[p] == '+' || s[p] == '-')) {
		if (len - p < 6 || s[p + 3] != ':' ||
		    !ref_num(s + p + 1, 2, &oh) || !ref_num(s + p + 4, 2, &om) ||
		    om > 59 || oh * 60 + om > TS_MAX_OFFSET_MIN)
			return bad;
		off = (int64_t)(oh * 60 + om) * (s[p] == '-' ? -1 : 1);
		p += 6;
	}
	if (p != len)
		return bad;
	ms = ref_days(y, mo, d) * 86400000 + (int64_t)h * 3600000 +
	    (int64_t)mi * 60000 + (int64_t)se * 1000 + frac - off * 60000;
	if (ms < TS_MIN_MS || ms > TS_MAX_MS)
		return bad;
	r.kind = s[10] == 'T' ? TS_TEXT_T : TS_TEXT_SPACE;
	r.ms = ms;
	return r;
}

/* ------------------------------------------------------------------ */

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b < 0) ? q - 1 : q;
}

/* Parse len bytes of s from a heap buffer of exactly that size. */
static enum ts_kind
parse_exact(const char *s, size_t len, struct ts *out)
{
	char *buf = malloc(len ? len : 1);
	enum ts_kind k;

	CHECK(buf != NULL);
	memcpy(buf, s, len);
	k = ts_parse_text(buf, len, out);
	free(buf);
	return k;
}

/* Anything in range formats and reparses to itself (or its floor). */
static void
check_format(int64_t ms)
{
	char iso[25], sql[20], day[11];
	struct ts t;
	int64_t d;

	CHECK(ms >= TS_MIN_MS && ms <= TS_MAX_MS);
	ts_format_iso(ms, iso);
	CHECK(strlen(iso) == 24);
	CHECK(parse_exact(iso, 24, &t) == TS_TEXT_T);
	CHECK(t.ms == ms && !t.sub_ms);

	ts_format_sql(ms, sql);
	CHECK(strlen(sql) == 19);
	CHECK(parse_exact(sql, 19, &t) == TS_TEXT_SPACE);
	CHECK(t.ms == floor_div(ms, 1000) * 1000 && !t.sub_ms);
	CHECK(memcmp(iso, sql, 10) == 0 && memcmp(iso + 11, sql + 11, 8) == 0);

	ts_format_day(ms, day);
	CHECK(strlen(day) == 10 && memcmp(day, iso, 10) == 0);
	CHECK(ts_parse_day(day, &d) == 0);
	CHECK(d == ts_floor_day(ms));
}

static void
check_floor_day(int64_t ms)
{
	int64_t f = ts_floor_day(ms);

	CHECK(f <= ms);
	if (f == INT64_MIN)	/* documented: no representable day start */
		return;
	CHECK(f % TS_MS_PER_DAY == 0);
	CHECK(ms - f < TS_MS_PER_DAY);
}

static void
check_text(const uint8_t *data, size_t size)
{
	struct ref r = ref_parse(data, size);
	struct ts t = { 0x5a5a5a5a5a5aLL, true, (enum ts_kind)77 };
	enum ts_kind k = parse_exact((const char *)data, size, &t);

	CHECK(k == r.kind);
	if (k == TS_INVALID) {
		/* *out untouched on failure */
		CHECK(t.ms == 0x5a5a5a5a5a5aLL && t.sub_ms &&
		    t.kind == (enum ts_kind)77);
		return;
	}
	CHECK(t.kind == k);
	CHECK(t.ms == r.ms);
	CHECK(t.sub_ms == r.sub_ms);
	check_format(t.ms);
	check_floor_day(t.ms);
}

static void
check_day(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), full[20];
	int64_t day = 0x1234;
	struct ts t;
	int rc;

	CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	rc = ts_parse_day(s, &day);
	if (strlen(s) == 10) {
		memcpy(full, s, 10);
		memcpy(full + 10, " 00:00:00", 9);
		if (parse_exact(full, 19, &t) == TS_TEXT_SPACE) {
			CHECK(rc == 0 && day == t.ms);
		} else {
			/* The only dates ts_parse_text refuses here are in-range
			 * ones, so day-only must refuse them too. */
			CHECK(rc == -1 && day == 0x1234);
		}
	} else {
		CHECK(rc == -1 && day == 0x1234);
	}
	free(s);
}

static void
check_int(int64_t v)
{
	struct ts t = { 0x77, true, (enum ts_kind)77 };
	enum ts_kind k = ts_parse_int(v, &t);
	bool secs = v > -TS_MILLIS_THRESHOLD && v < TS_MILLIS_THRESHOLD;

	if (k == TS_INVALID) {
		CHECK(t.ms == 0x77 && t.kind == (enum ts_kind)77);
		/* |v| < 1e11 cannot overflow v * 1000. */
		if (secs)
			CHECK(v * 1000 < TS_MIN_MS || v * 1000 > TS_MAX_MS);
		else
			CHECK(v < TS_MIN_MS || v > TS_MAX_MS);
		return;
	}
	CHECK(k == t.kind && !t.sub_ms);
	CHECK(k == (secs ? TS_NUM_SECONDS : TS_NUM_MILLIS));
	CHECK(t.ms == (secs ? v * 1000 : v));
	check_format(t.ms);
}

static void
check_real(double v)
{
	struct ts t = { 0x77, true, (enum ts_kind)77 }, ti;
	enum ts_kind k = ts_parse_real(v, &t);
	bool secs = fabs(v) < (double)TS_MILLIS_THRESHOLD;
	long double x = secs ? (long double)v * 1000 : (long double)v;

	if (k == TS_INVALID) {
		CHECK(t.ms == 0x77 && t.kind == (enum ts_kind)77);
		CHECK(!isfinite(v) || x < (long double)TS_MIN_MS ||
		    x >= (long double)TS_MAX_MS + 1);
		return;
	}
	CHECK(isfinite(v));
	CHECK(k == t.kind && k == (secs ? TS_NUM_SECONDS : TS_NUM_MILLIS));
	CHECK(t.ms >= TS_MIN_MS && t.ms <= TS_MAX_MS);
	/* floor: ms <= x < ms + 1, and sub_ms says whether x had a fraction */
	CHECK((long double)t.ms <= x && x < (long double)t.ms + 1);
	CHECK(t.sub_ms == ((long double)t.ms != x));
	/* An integral double means the same as the integer it holds. */
	if (v == floor(v) && fabs(v) < 9.2e18) {
		CHECK(ts_parse_int((int64_t)v, &ti) == k);
		CHECK(ti.ms == t.ms && !t.sub_ms);
	}
	check_format(t.ms);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_text(data, size);
	check_day(data, size);
	if (size >= 8) {
		int64_t v;
		double d;

		memcpy(&v, data, 8);
		memcpy(&d, data, 8);
		check_int(v);
		check_real(d);
		check_floor_day(v);
		/* The formatters clamp out-of-range instants; the result must
		 * still be a well-formed, reparseable value. */
		{
			int64_t c = v < TS_MIN_MS ? TS_MIN_MS :
			    v > TS_MAX_MS ? TS_MAX_MS : v;
			char iso[25];
			struct ts t;

			ts_format_iso(v, iso);
			CHECK(parse_exact(iso, strlen(iso), &t) == TS_TEXT_T);
			CHECK(t.ms == c);
		}
	}
	return 0;
}
