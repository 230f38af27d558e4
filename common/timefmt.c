/*
 * Timestamp parsing and formatting: the one reading of SPEC section 3.
 * Calendar arithmetic is done by hand (Howard Hinnant's days_from_civil and
 * civil_from_days) instead of mktime/timegm/strptime, so no result depends
 * on TZ, the locale or the platform's time_t, and nothing needs libm.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "timefmt.h"

/* ts_parse_real's v * 1000 is exact only with 53 + 7 mantissa bits. */
#if LDBL_MANT_DIG < 60
#error "ts_parse_real needs a long double with at least 60 mantissa bits"
#endif

struct civil {
	int	y, mo, d, h, mi, s, ms;
};

/* Not isdigit(): that one follows the locale. */
static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Value of the n ASCII digits at s, or -1 if any byte is not a digit. */
static int
digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
days_in_month(int y, int m)
{
	static const unsigned char mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : mdays[m - 1];
}

/*
 * Days since 1970-01-01 of a proleptic Gregorian date.  Counting years from
 * March puts the leap day last, so day-of-year is a closed formula; the
 * floored era makes the result right for dates before 1970 as well.
 */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;				/* [0, 399] */
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;	/* [0, 365] */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;	/* [0, 146096] */
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil, for days within years 0001..9999. */
static void
civil_from_days(int64_t z, struct civil *c)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c->d = (int)(doy - (153 * mp + 2) / 5 + 1);
	c->mo = (int)(mp < 10 ? mp + 3 : mp - 9);
	c->y = (int)(yoe + era * 400 + (c->mo <= 2));
}

/* "YYYY-MM-DD" at s (10 readable bytes), years 0001..9999; days since epoch. */
static int
parse_date(const char *s, int64_t *days)
{
	int y, m, d;

	y = digits(s, 4);
	m = digits(s + 5, 2);
	d = digits(s + 8, 2);
	/* Year 0000 is refused even if an offset would bring it into range. */
	if (y < 1 || s[4] != '-' || s[7] != '-' || m < 1 || m > 12 ||
	    d < 1 || d > days_in_month(y, m))
		return -1;
	*days = days_from_civil(y, m, d);
	return 0;
}

#define IN_RANGE(ms)	((ms) >= TS_MIN_MS && (ms) <= TS_MAX_MS)

/* Digit-only text: the stored form of an epoch number in a TEXT column. */
static enum ts_kind
parse_epoch_text(const char *s, size_t len, struct ts *out)
{
	uint64_t v = 0;
	struct ts t;

	if (len == 0 || len > 19 || (s[0] == '0' && len > 1))
		return TS_INVALID;
	for (size_t i = 0; i < len; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');	/* < 1e19 < 2^64 */
	if (v > INT64_MAX || ts_parse_int((int64_t)v, &t) == TS_INVALID)
		return TS_INVALID;
	t.kind = t.kind == TS_NUM_SECONDS ? TS_TEXT_SECONDS : TS_TEXT_MILLIS;
	*out = t;
	return t.kind;
}

static enum ts_kind
parse_datetime(const char *s, size_t len, struct ts *out)
{
	int64_t days, ms;
	int h, mi, sec, frac = 0, off = 0;
	bool sub_ms = false;
	size_t p = 19;

	if (len < 19 || parse_date(s, &days) != 0 ||
	    (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':')
		return TS_INVALID;
	h = digits(s + 11, 2);
	mi = digits(s + 14, 2);
	sec = digits(s + 17, 2);
	if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
		return TS_INVALID;

	if (p < len && s[p] == '.') {
		size_t n = 0;

		/* Keep three digits (floored); note any nonzero digit after. */
		for (p++; p < len && is_digit(s[p]); p++, n++) {
			if (n < 3)
				frac = frac * 10 + (s[p] - '0');
			else if (s[p] != '0')
				sub_ms = true;
		}
		if (n < 1 || n > 9)
			return TS_INVALID;
		for (; n < 3; n++)
			frac *= 10;
	}

	if (p < len && s[p] == 'Z') {
		p++;
	} else if (p < len && (s[p] == '+' || s[p] == '-')) {
		int oh, om;

		if (len - p < 6 || s[p + 3] != ':')
			return TS_INVALID;
		oh = digits(s + p + 1, 2);
		om = digits(s + p + 4, 2);
		/* The 14:00 cap also bounds HH to 00..14. */
		if (oh < 0 || om < 0 || om > 59 ||
		    oh * 60 + om > TS_MAX_OFFSET_MIN)
			return TS_INVALID;
		off = s[p] == '-' ? -(oh * 60 + om) : oh * 60 + om;
		p += 6;
	}
	if (p != len)
		return TS_INVALID;

	/* Local time minus its offset is UTC; |ms| stays far below 2^63. */
	ms = days * TS_MS_PER_DAY + ((h * 60 + mi) * 60 + sec) * 1000LL +
	    frac - off * 60000LL;
	if (!IN_RANGE(ms))
		return TS_INVALID;
	out->ms = ms;
	out->sub_ms = sub_ms;
	out->kind = s[10] == 'T' ? TS_TEXT_T : TS_TEXT_SPACE;
	return out->kind;
}

enum ts_kind
ts_parse_text(const char *s, size_t len, struct ts *out)
{
	size_t i = 0;

	while (i < len && is_digit(s[i]))
		i++;
	if (len > 0 && i == len)
		return parse_epoch_text(s, len, out);
	return parse_datetime(s, len, out);
}

enum ts_kind
ts_parse_int(int64_t v, struct ts *out)
{
	/* Compare before multiplying: INT64_MIN has no absolute value. */
	if (v > -TS_MILLIS_THRESHOLD && v < TS_MILLIS_THRESHOLD) {
		if (!IN_RANGE(v * 1000))
			return TS_INVALID;
		out->ms = v * 1000;
		out->kind = TS_NUM_SECONDS;
	} else {
		if (!IN_RANGE(v))
			return TS_INVALID;
		out->ms = v;
		out->kind = TS_NUM_MILLIS;
	}
	out->sub_ms = false;
	return out->kind;
}

enum ts_kind
ts_parse_real(double v, struct ts *out)
{
	long double x;
	int64_t ms;
	enum ts_kind kind;

	if (!isfinite(v))
		return TS_INVALID;
	if (fabs(v) < (double)TS_MILLIS_THRESHOLD) {
		/*
		 * The exact product, not a rounded one: floor(v * 1000) must
		 * agree with SQLite comparing the same double against a bound.
		 */
		x = (long double)v * 1000;
		kind = TS_NUM_SECONDS;
	} else {
		x = v;
		kind = TS_NUM_MILLIS;
	}
	/* Range check in floating point, so the cast below is defined. */
	if (x < (long double)TS_MIN_MS || x >= (long double)TS_MAX_MS + 1)
		return TS_INVALID;
	ms = (int64_t)x;		/* truncates toward zero */
	if ((long double)ms > x)
		ms--;
	out->ms = ms;
	out->sub_ms = (long double)ms != x;
	out->kind = kind;
	return kind;
}

int
ts_parse_day(const char *s, int64_t *day_ms)
{
	int64_t days;

	if (strnlen(s, 11) != 10 || parse_date(s, &days) != 0)
		return -1;
	*day_ms = days * TS_MS_PER_DAY;
	return 0;
}

int64_t
ts_floor_day(int64_t ms)
{
	int64_t q = ms / TS_MS_PER_DAY;		/* truncated toward zero */

	if (ms % TS_MS_PER_DAY < 0) {
		/*
		 * The lowest ~7 hours of int64 have no representable day
		 * start; INT64_MIN is still <= ms, which is what callers need.
		 */
		if (q <= INT64_MIN / TS_MS_PER_DAY)
			return INT64_MIN;
		q--;
	}
	return q * TS_MS_PER_DAY;
}

/* Calendar fields of ms, clamped to the range so output always fits. */
static void
to_civil(int64_t ms, struct civil *c)
{
	int64_t day, rem;

	ms = ms < TS_MIN_MS ? TS_MIN_MS : ms > TS_MAX_MS ? TS_MAX_MS : ms;
	day = ts_floor_day(ms);
	rem = ms - day;
	civil_from_days(day / TS_MS_PER_DAY, c);
	c->h = (int)(rem / 3600000);
	c->mi = (int)(rem / 60000 % 60);
	c->s = (int)(rem / 1000 % 60);
	c->ms = (int)(rem % 1000);
}

/* By hand, not snprintf: gcc can't see the field ranges and warns. */
static char *
put(char *p, int v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

/* "YYYY-MM-DD<sep>HH:MM:SS", unterminated; returns the end. */
static char *
put_datetime(char *p, const struct civil *c, char sep)
{
	p = put(p, c->y, 4);
	*p++ = '-';
	p = put(p, c->mo, 2);
	*p++ = '-';
	p = put(p, c->d, 2);
	*p++ = sep;
	p = put(p, c->h, 2);
	*p++ = ':';
	p = put(p, c->mi, 2);
	*p++ = ':';
	return put(p, c->s, 2);
}

void
ts_format_day(int64_t ms, char *out)
{
	char buf[20];

	ts_format_sql(ms, buf);
	memcpy(out, buf, 10);
	out[10] = '\0';
}

void
ts_format_iso(int64_t ms, char *out)
{
	struct civil c;
	char *p;

	to_civil(ms, &c);
	p = put_datetime(out, &c, 'T');
	*p++ = '.';
	p = put(p, c.ms, 3);
	*p++ = 'Z';
	*p = '\0';
}

void
ts_format_sql(int64_t ms, char *out)
{
	struct civil c;

	to_civil(ms, &c);
	*put_datetime(out, &c, ' ') = '\0';
}
