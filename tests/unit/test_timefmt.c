/*
 * Unit tests for common/timefmt.c: every accepted form of SPEC section 3,
 * the strictness that keeps everything else invalid, and the calendar maths
 * checked against a brute-force day counter.  Text is always parsed from an
 * exact-size heap copy without a NUL, so ASan catches any read past len.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

#define DAY	TS_MS_PER_DAY
#define HOUR	3600000LL
#define MIN	60000LL

/* 2025-10-05T00:00:00Z */
#define D20251005	(20366 * DAY)

/* Parse len bytes of s from a heap buffer of exactly that size. */
static enum ts_kind
parse_n(const char *s, size_t len, struct ts *out)
{
	static const char empty[1];
	char *buf = len ? malloc(len) : NULL;
	enum ts_kind k;

	if (len)
		assert_non_null(buf);
	if (len)
		memcpy(buf, s, len);
	k = ts_parse_text(len ? buf : empty, len, out);
	free(buf);
	return k;
}

static enum ts_kind
parse(const char *s, struct ts *out)
{
	return parse_n(s, strlen(s), out);
}

/* Parse s, expect kind, ms and sub_ms. */
static void
expect_text(const char *s, enum ts_kind kind, int64_t ms, bool sub_ms)
{
	struct ts t = { -1, !sub_ms, TS_INVALID };

	if (parse(s, &t) != kind)
		fail_msg("'%s': kind %d, want %d", s, (int)t.kind, (int)kind);
	assert_int_equal(t.kind, kind);
	if (t.ms != ms)
		fail_msg("'%s': ms %lld, want %lld", s, (long long)t.ms,
		    (long long)ms);
	assert_int_equal(t.sub_ms, sub_ms);
}

/* Parse len bytes of s, expect TS_INVALID and *out untouched. */
static void
expect_invalid_n(const char *s, size_t len)
{
	struct ts t = { 12345, true, TS_TEXT_T };

	if (parse_n(s, len, &t) != TS_INVALID)
		fail_msg("'%.*s' (len %zu) accepted as %lld", (int)len, s, len,
		    (long long)t.ms);
	assert_int_equal(t.ms, 12345);
	assert_true(t.sub_ms);
	assert_int_equal(t.kind, TS_TEXT_T);
}

static void
expect_invalid(const char *s)
{
	expect_invalid_n(s, strlen(s));
}

static int64_t
parse_day_heap(const char *s, int *rc)
{
	char *buf = strdup(s);
	int64_t d = 777;

	assert_non_null(buf);
	*rc = ts_parse_day(buf, &d);
	free(buf);
	return d;
}

static void
test_space_and_t_forms(void **state)
{
	(void)state;
	expect_text("2025-10-05 12:34:56", TS_TEXT_SPACE,
	    D20251005 + 12 * HOUR + 34 * MIN + 56000, false);
	expect_text("2025-10-05T12:34:56", TS_TEXT_T,
	    D20251005 + 12 * HOUR + 34 * MIN + 56000, false);
	expect_text("1970-01-01 00:00:00", TS_TEXT_SPACE, 0, false);
	expect_text("1970-01-01T00:00:00Z", TS_TEXT_T, 0, false);
	expect_text("1969-12-31 23:59:59", TS_TEXT_SPACE, -1000, false);
	expect_text("1969-12-31T23:59:59.999Z", TS_TEXT_T, -1, false);
	expect_text("2000-01-01 00:00:00", TS_TEXT_SPACE, 946684800000LL,
	    false);
	/* Zones after the space form too. */
	expect_text("2025-10-05 12:00:00Z", TS_TEXT_SPACE,
	    D20251005 + 12 * HOUR, false);
	expect_text("2025-10-05 12:00:00+02:00", TS_TEXT_SPACE,
	    D20251005 + 10 * HOUR, false);
	expect_text("2025-10-05 12:00:00.5-01:30", TS_TEXT_SPACE,
	    D20251005 + 13 * HOUR + 30 * MIN + 500, false);
}

static void
test_fractions(void **state)
{
	int64_t base = D20251005 + 12 * HOUR;

	(void)state;
	expect_text("2025-10-05 12:00:00.1", TS_TEXT_SPACE, base + 100, false);
	expect_text("2025-10-05 12:00:00.05", TS_TEXT_SPACE, base + 50, false);
	expect_text("2025-10-05 12:00:00.123", TS_TEXT_SPACE, base + 123,
	    false);
	expect_text("2025-10-05 12:00:00.000", TS_TEXT_SPACE, base, false);
	expect_text("2025-10-05T12:00:00.123000", TS_TEXT_T, base + 123, false);
	expect_text("2025-10-05T12:00:00.123456", TS_TEXT_T, base + 123, true);
	expect_text("2025-10-05T12:00:00.999999Z", TS_TEXT_T, base + 999, true);
	expect_text("2025-10-05T12:00:00.123000000", TS_TEXT_T, base + 123,
	    false);
	expect_text("2025-10-05T12:00:00.123000001", TS_TEXT_T, base + 123,
	    true);
	expect_text("2025-10-05T12:00:00.000000001Z", TS_TEXT_T, base, true);
	expect_text("2025-10-05T12:00:00.999999999+00:00", TS_TEXT_T,
	    base + 999, true);
	/* Floored, also before 1970: .5 of -1 s is -500 ms, not -1500. */
	expect_text("1969-12-31T23:59:59.5", TS_TEXT_T, -500, false);
	expect_text("1969-12-31T23:59:59.9999", TS_TEXT_T, -1, true);
}

static void
test_zones(void **state)
{
	(void)state;
	expect_text("2025-10-05T12:00:00Z", TS_TEXT_T, D20251005 + 12 * HOUR,
	    false);
	expect_text("2025-10-05T12:00:00+00:00", TS_TEXT_T,
	    D20251005 + 12 * HOUR, false);
	expect_text("2025-10-05T12:00:00-00:00", TS_TEXT_T,
	    D20251005 + 12 * HOUR, false);
	expect_text("2025-10-05T12:00:00+05:30", TS_TEXT_T,
	    D20251005 + 6 * HOUR + 30 * MIN, false);
	expect_text("2025-10-05T12:00:00-09:45", TS_TEXT_T,
	    D20251005 + 21 * HOUR + 45 * MIN, false);
	expect_text("2025-10-05T12:00:00+14:00", TS_TEXT_T,
	    D20251005 - 2 * HOUR, false);
	expect_text("2025-10-05T12:00:00-14:00", TS_TEXT_T,
	    D20251005 + 26 * HOUR, false);
	expect_text("2025-10-05T12:00:00+13:59", TS_TEXT_T,
	    D20251005 - 1 * HOUR - 59 * MIN, false);
	expect_text("2025-10-05T12:00:00.250+01:00", TS_TEXT_T,
	    D20251005 + 11 * HOUR + 250, false);
}

static void
test_offsets_cross_midnight(void **state)
{
	struct ts t;
	char day[11];

	(void)state;
	/* SPEC's example: 23:30 at -02:00 is 01:30 the next UTC day. */
	assert_int_equal(parse("2025-10-05T23:30:00-02:00", &t), TS_TEXT_T);
	assert_int_equal(t.ms, D20251005 + DAY + 1 * HOUR + 30 * MIN);
	ts_format_day(t.ms, day);
	assert_string_equal(day, "2025-10-06");

	assert_int_equal(parse("2025-10-06T01:00:00+02:00", &t), TS_TEXT_T);
	assert_int_equal(t.ms, D20251005 + 23 * HOUR);
	ts_format_day(t.ms, day);
	assert_string_equal(day, "2025-10-05");

	/* Across a year and a leap day. */
	expect_text("2024-12-31T20:00:00-05:00", TS_TEXT_T,
	    1735689600000LL + HOUR, false);
	expect_text("2024-03-01T00:30:00+01:00", TS_TEXT_T,
	    1709164800000LL + 23 * HOUR + 30 * MIN, false);
}

static void
test_epoch_text(void **state)
{
	(void)state;
	expect_text("0", TS_TEXT_SECONDS, 0, false);
	expect_text("1", TS_TEXT_SECONDS, 1000, false);
	expect_text("1759622400", TS_TEXT_SECONDS, D20251005, false);
	expect_text("1759622400000", TS_TEXT_MILLIS, D20251005, false);
	expect_text("1759622400123", TS_TEXT_MILLIS, D20251005 + 123, false);
	/* The threshold: 1e11 - 1 is seconds, 1e11 is milliseconds. */
	expect_text("99999999999", TS_TEXT_SECONDS, 99999999999000LL, false);
	expect_text("100000000000", TS_TEXT_MILLIS, 100000000000LL, false);
	expect_text("253402300799999", TS_TEXT_MILLIS, TS_MAX_MS, false);
	expect_invalid("253402300800000");
	expect_invalid("9223372036854775807");	/* fits int64, out of range */
	expect_invalid("9223372036854775808");	/* does not fit int64 */
	expect_invalid("9999999999999999999");
	expect_invalid("10000000000000000000");	/* 20 digits */
	expect_invalid("00");
	expect_invalid("01759622400");
}

static void
test_parse_int(void **state)
{
	struct ts t = { 5, true, TS_INVALID };

	(void)state;
	assert_int_equal(ts_parse_int(0, &t), TS_NUM_SECONDS);
	assert_int_equal(t.ms, 0);
	assert_false(t.sub_ms);
	assert_int_equal(ts_parse_int(1759622400, &t), TS_NUM_SECONDS);
	assert_int_equal(t.ms, D20251005);
	assert_int_equal(ts_parse_int(1759622400000LL, &t), TS_NUM_MILLIS);
	assert_int_equal(t.ms, D20251005);
	assert_int_equal(ts_parse_int(99999999999LL, &t), TS_NUM_SECONDS);
	assert_int_equal(t.ms, 99999999999000LL);
	assert_int_equal(ts_parse_int(100000000000LL, &t), TS_NUM_MILLIS);
	assert_int_equal(t.ms, 100000000000LL);

	/* Negative: the rule is on the magnitude. */
	assert_int_equal(ts_parse_int(-1, &t), TS_NUM_SECONDS);
	assert_int_equal(t.ms, -1000);
	assert_int_equal(ts_parse_int(-86400, &t), TS_NUM_SECONDS);
	assert_int_equal(t.ms, -DAY);
	assert_int_equal(ts_parse_int(-62135596800LL, &t), TS_NUM_SECONDS);
	assert_int_equal(t.ms, TS_MIN_MS);
	assert_int_equal(ts_parse_int(-99999999999LL, &t), TS_INVALID);
	assert_int_equal(ts_parse_int(-62135596801LL, &t), TS_INVALID);
	assert_int_equal(ts_parse_int(-100000000000LL, &t), TS_NUM_MILLIS);
	assert_int_equal(t.ms, -100000000000LL);
	assert_int_equal(ts_parse_int(TS_MIN_MS, &t), TS_NUM_MILLIS);
	assert_int_equal(t.ms, TS_MIN_MS);
	assert_int_equal(ts_parse_int(TS_MAX_MS, &t), TS_NUM_MILLIS);
	assert_int_equal(t.ms, TS_MAX_MS);
	assert_false(t.sub_ms);

	/* Out of range; *out untouched. */
	t.ms = 42;
	assert_int_equal(ts_parse_int(TS_MIN_MS - 1, &t), TS_INVALID);
	assert_int_equal(ts_parse_int(TS_MAX_MS + 1, &t), TS_INVALID);
	assert_int_equal(ts_parse_int(INT64_MAX, &t), TS_INVALID);
	assert_int_equal(ts_parse_int(INT64_MIN, &t), TS_INVALID);
	assert_int_equal(ts_parse_int(INT64_MIN + 1, &t), TS_INVALID);
	assert_int_equal(ts_parse_int(INT64_MAX / 1000 + 1, &t), TS_INVALID);
	assert_int_equal(ts_parse_int(-(INT64_MAX / 1000) - 1, &t),
	    TS_INVALID);
	assert_int_equal(t.ms, 42);
}

static void
expect_real(double v, enum ts_kind kind, int64_t ms, bool sub_ms)
{
	struct ts t = { -7, !sub_ms, TS_INVALID };

	if (ts_parse_real(v, &t) != kind)
		fail_msg("%.17g: kind %d, want %d", v, (int)t.kind, (int)kind);
	if (kind == TS_INVALID) {
		assert_int_equal(t.ms, -7);
		return;
	}
	if (t.ms != ms || t.sub_ms != sub_ms)
		fail_msg("%.17g: ms %lld sub %d, want %lld sub %d", v,
		    (long long)t.ms, t.sub_ms, (long long)ms, sub_ms);
}

static void
test_parse_real(void **state)
{
	(void)state;
	expect_real(0.0, TS_NUM_SECONDS, 0, false);
	expect_real(-0.0, TS_NUM_SECONDS, 0, false);
	expect_real(1759622400.0, TS_NUM_SECONDS, D20251005, false);
	expect_real(1759622400.5, TS_NUM_SECONDS, D20251005 + 500, false);
	expect_real(1759622400.25, TS_NUM_SECONDS, D20251005 + 250, false);
	expect_real(-0.5, TS_NUM_SECONDS, -500, false);
	expect_real(-1.25, TS_NUM_SECONDS, -1250, false);
	/* 0.0625 ms is an exact binary fraction finer than a millisecond. */
	expect_real(0.0000625, TS_NUM_SECONDS, 0, true);
	expect_real(-0.0000625, TS_NUM_SECONDS, -1, true);
	/*
	 * The double nearest 0.001 is a hair above it, the one nearest
	 * 1.0005 a hair below: floor of the exact product.
	 */
	expect_real(0.001, TS_NUM_SECONDS, 1, true);
	expect_real(1.0005, TS_NUM_SECONDS, 1000, true);
	expect_real(5e-324, TS_NUM_SECONDS, 0, true);
	expect_real(-5e-324, TS_NUM_SECONDS, -1, true);

	expect_real(99999999999.0, TS_NUM_SECONDS, 99999999999000LL, false);
	expect_real(99999999999.5, TS_NUM_SECONDS, 99999999999500LL, false);
	expect_real(1e11, TS_NUM_MILLIS, 100000000000LL, false);
	expect_real(1e11 + 0.5, TS_NUM_MILLIS, 100000000000LL, true);
	expect_real(-1e11 - 0.5, TS_NUM_MILLIS, -100000000001LL, true);
	expect_real(1759622400123.0, TS_NUM_MILLIS, D20251005 + 123, false);
	expect_real(1759622400123.75, TS_NUM_MILLIS, D20251005 + 123, true);

	expect_real((double)TS_MAX_MS, TS_NUM_MILLIS, TS_MAX_MS, false);
	expect_real((double)TS_MAX_MS + 0.5, TS_NUM_MILLIS, TS_MAX_MS, true);
	expect_real((double)TS_MAX_MS + 1, TS_INVALID, 0, false);
	expect_real((double)TS_MIN_MS, TS_NUM_MILLIS, TS_MIN_MS, false);
	expect_real((double)TS_MIN_MS - 0.5, TS_INVALID, 0, false);
	expect_real(-62135596800.0, TS_NUM_SECONDS, TS_MIN_MS, false);
	expect_real(-62135596800.001, TS_INVALID, 0, false);
	expect_real(-99999999999.0, TS_INVALID, 0, false);

	expect_real(NAN, TS_INVALID, 0, false);
	expect_real(-NAN, TS_INVALID, 0, false);
	expect_real(INFINITY, TS_INVALID, 0, false);
	expect_real(-INFINITY, TS_INVALID, 0, false);
	expect_real(1e300, TS_INVALID, 0, false);
	expect_real(-1e300, TS_INVALID, 0, false);
	expect_real(9.3e18, TS_INVALID, 0, false);	/* > INT64_MAX */
	expect_real(-9.3e18, TS_INVALID, 0, false);
}

static void
test_leap_days(void **state)
{
	(void)state;
	expect_text("2024-02-29 00:00:00", TS_TEXT_SPACE, 1709164800000LL,
	    false);
	expect_text("2000-02-29T12:00:00Z", TS_TEXT_T,
	    951782400000LL + 12 * HOUR, false);
	expect_text("1600-02-29 00:00:00", TS_TEXT_SPACE,
	    -11670998400000LL, false);
	expect_invalid("2023-02-29 00:00:00");
	expect_invalid("1900-02-29 00:00:00");
	expect_invalid("2100-02-29 00:00:00");
	expect_invalid("2024-02-30 00:00:00");
	expect_invalid("2025-02-30 00:00:00");
	/* The day after a leap day. */
	expect_text("2024-03-01 00:00:00", TS_TEXT_SPACE, 1709251200000LL,
	    false);
	expect_text("2023-03-01 00:00:00", TS_TEXT_SPACE, 1677628800000LL,
	    false);
}

static void
test_end_of_month(void **state)
{
	static const struct {
		const char *last, *next;
	} m[] = {
		{ "2025-01-31", "2025-02-01" }, { "2025-02-28", "2025-03-01" },
		{ "2025-03-31", "2025-04-01" }, { "2025-04-30", "2025-05-01" },
		{ "2025-05-31", "2025-06-01" }, { "2025-06-30", "2025-07-01" },
		{ "2025-07-31", "2025-08-01" }, { "2025-08-31", "2025-09-01" },
		{ "2025-09-30", "2025-10-01" }, { "2025-10-31", "2025-11-01" },
		{ "2025-11-30", "2025-12-01" }, { "2025-12-31", "2026-01-01" },
		{ "1969-12-31", "1970-01-01" }, { "1899-12-31", "1900-01-01" },
	};
	static const char *bad[] = {
		"2025-01-32", "2025-02-29", "2025-03-32", "2025-04-31",
		"2025-05-32", "2025-06-31", "2025-07-32", "2025-08-32",
		"2025-09-31", "2025-10-32", "2025-11-31", "2025-12-32",
	};
	char buf[64];
	struct ts a, b;
	int64_t d;
	int rc;

	(void)state;
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		snprintf(buf, sizeof(buf), "%s 23:59:59.999", m[i].last);
		assert_int_equal(parse(buf, &a), TS_TEXT_SPACE);
		snprintf(buf, sizeof(buf), "%sT00:00:00Z", m[i].next);
		assert_int_equal(parse(buf, &b), TS_TEXT_T);
		assert_int_equal(b.ms - a.ms, 1);
		d = parse_day_heap(m[i].next, &rc);
		assert_int_equal(rc, 0);
		assert_int_equal(d, b.ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s 00:00:00", bad[i]);
		expect_invalid(buf);
		parse_day_heap(bad[i], &rc);
		assert_int_equal(rc, -1);
	}
}

static void
test_range_limits(void **state)
{
	(void)state;
	expect_text("0001-01-01 00:00:00", TS_TEXT_SPACE, TS_MIN_MS, false);
	expect_text("0001-01-01T00:00:00.000Z", TS_TEXT_T, TS_MIN_MS, false);
	expect_text("0001-01-01T00:00:00-01:00", TS_TEXT_T, TS_MIN_MS + HOUR,
	    false);
	expect_text("9999-12-31 23:59:59.999", TS_TEXT_SPACE, TS_MAX_MS, false);
	expect_text("9999-12-31T23:59:59.999999999Z", TS_TEXT_T, TS_MAX_MS,
	    true);
	expect_text("9999-12-31T23:59:59.999+00:01", TS_TEXT_T,
	    TS_MAX_MS - MIN, false);
	/* Valid fields, but the UTC instant is outside the range. */
	expect_invalid("0001-01-01T00:00:00+01:00");
	expect_invalid("0001-01-01T00:00:00.999+00:01");
	expect_invalid("9999-12-31T23:59:59-00:01");
	expect_invalid("9999-12-31T23:00:00-14:00");
	/* Year 0000 is refused even where an offset would land in range. */
	expect_invalid("0000-12-31T23:30:00-01:00");
	expect_invalid("0000-01-01 00:00:00");
}

static void
test_invalid_strings(void **state)
{
	static const char *bad[] = {
		"",
		" ",
		"2025-10-05",
		"2025-10-05 ",
		"2025-10-05T",
		" 2025-10-05 12:00:00",
		"2025-10-05 12:00:00 ",
		"2025-10-05  12:00:00",
		"2025-10-05T12:00:00Z ",
		"\t2025-10-05 12:00:00",
		"2025-10-05 12:00:00\n",
		"2025-2-3",
		"2025-2-3 12:00:00",
		"2025-02-3 12:00:00",
		"25-10-05 12:00:00",
		"+2025-10-05 12:00:00",
		"02025-10-05 12:00:00",
		"2025/10/05 12:00:00",
		"2025-10-05_12:00:00",
		"2025-10-05t12:00:00",
		"2025-10-05T12:00:00z",
		"2025-10-05 24:00:00",
		"2025-10-05 23:60:00",
		"2025-10-05 23:59:60",
		"2025-10-05 1:00:00",
		"2025-10-05 12:00",
		"2025-10-05 12:00:0",
		"2025-10-05 12-00-00",
		"2025-10-05 12:00:00.",
		"2025-10-05 12:00:00.1234567890",
		"2025-10-05 12:00:00,5",
		"2025-10-05 12:00:00.5.5",
		"2025-10-05 12:00:00.-5",
		"2025-10-05 12:00:00.Z",
		"2025-10-05T12:00:00ZZ",
		"2025-10-05T12:00:00 Z",
		"2025-10-05T12:00:00Z+01:00",
		"2025-10-05T12:00:00+0200",
		"2025-10-05T12:00:00+02",
		"2025-10-05T12:00:00+2:00",
		"2025-10-05T12:00:00+02:0",
		"2025-10-05T12:00:00+02:00:00",
		"2025-10-05T12:00:00+14:01",
		"2025-10-05T12:00:00-14:30",
		"2025-10-05T12:00:00+15:00",
		"2025-10-05T12:00:00+02:60",
		"2025-10-05T12:00:00 +02:00",
		"2025-10-05T12:00:00UTC",
		"2025-00-10 12:00:00",
		"2025-13-01 12:00:00",
		"2025-01-00 12:00:00",
		"20251005T120000Z",
		"12:00:00",
		"-1",
		"+1",
		"-0",
		"1.5",
		"1e9",
		"0x10",
		"1 ",
		" 1",
		"1,000",
		"\xef\xbc\x91",		/* fullwidth digit one */
		("\xef\xbc\x92" "025-10-05 12:00:00"),	/* fullwidth 2 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid(bad[i]);
}

static void
test_embedded_nul_and_len(void **state)
{
	struct ts t;

	(void)state;
	/* An embedded NUL inside len is a byte like any other: invalid. */
	expect_invalid_n("\0", 1);
	expect_invalid_n("12\0" "3", 4);
	expect_invalid_n("2025-10-05 12:00:00\0", 20);
	expect_invalid_n("2025-10-05 12:0\0:00", 19);
	expect_invalid_n("2025-10-05\0" "12:00:00", 19);
	expect_invalid_n("2025-10-05 12:00:00.1\0" "5", 23);
	expect_invalid_n("2025-10-05T12:00:00+02:00\0", 26);
	/* Only len bytes are read: a valid prefix of a longer buffer. */
	assert_int_equal(parse_n("2025-10-05 12:00:00 trailing", 19, &t),
	    TS_TEXT_SPACE);
	assert_int_equal(t.ms, D20251005 + 12 * HOUR);
	assert_int_equal(parse_n("2025-10-05T12:00:00Zjunk", 20, &t),
	    TS_TEXT_T);
	assert_int_equal(parse_n("17596224001", 10, &t), TS_TEXT_SECONDS);
	assert_int_equal(t.ms, D20251005);
	/* A prefix that stops inside a form is not that form. */
	expect_invalid_n("2025-10-05T12:00:00+02:00", 24);
	expect_invalid_n("2025-10-05T12:00:00.5", 20);
	expect_invalid_n("2025-10-05T12:00:00", 18);
}

static void
test_kinds(void **state)
{
	struct ts t;

	(void)state;
	assert_int_equal(TS_INVALID, 0);
	assert_int_equal(parse("2025-10-05 00:00:00", &t), TS_TEXT_SPACE);
	assert_int_equal(t.kind, TS_TEXT_SPACE);
	assert_int_equal(parse("2025-10-05 00:00:00Z", &t), TS_TEXT_SPACE);
	assert_int_equal(parse("2025-10-05T00:00:00", &t), TS_TEXT_T);
	assert_int_equal(t.kind, TS_TEXT_T);
	assert_int_equal(parse("2025-10-05T00:00:00-03:00", &t), TS_TEXT_T);
	assert_int_equal(parse("1759622400", &t), TS_TEXT_SECONDS);
	assert_int_equal(t.kind, TS_TEXT_SECONDS);
	assert_int_equal(parse("1759622400000", &t), TS_TEXT_MILLIS);
	assert_int_equal(t.kind, TS_TEXT_MILLIS);
	assert_int_equal(ts_parse_int(1759622400, &t), TS_NUM_SECONDS);
	assert_int_equal(t.kind, TS_NUM_SECONDS);
	assert_int_equal(ts_parse_real(1759622400000.0, &t), TS_NUM_MILLIS);
	assert_int_equal(t.kind, TS_NUM_MILLIS);
}

static void
test_parse_day(void **state)
{
	static const char *bad[] = {
		"", "2025", "2025-10-5", "2025-10-05 ", " 2025-10-05",
		"2025-10-05T00:00:00", "2025-10-05 00:00:00", "2025-1-05",
		"2025/10/05", "2025-10-0x", "+025-10-05", "0000-01-01",
		"10000-01-01", "2025-00-01", "2025-13-01", "2025-01-00",
		"2025-02-29", "2023-02-29", "1900-02-29", "2025-04-31",
		"2025-10-05Z", "20251005", "2025-10--5", "-025-10-05",
	};
	int64_t d;
	int rc;

	(void)state;
	assert_int_equal(ts_parse_day("2025-10-05", &d), 0);
	assert_int_equal(d, D20251005);
	assert_int_equal(ts_parse_day("1970-01-01", &d), 0);
	assert_int_equal(d, 0);
	assert_int_equal(ts_parse_day("1969-12-31", &d), 0);
	assert_int_equal(d, -DAY);
	assert_int_equal(ts_parse_day("2024-02-29", &d), 0);
	assert_int_equal(d, 1709164800000LL);
	assert_int_equal(ts_parse_day("2000-02-29", &d), 0);
	assert_int_equal(ts_parse_day("0001-01-01", &d), 0);
	assert_int_equal(d, TS_MIN_MS);
	assert_int_equal(ts_parse_day("9999-12-31", &d), 0);
	assert_int_equal(d, TS_MAX_MS + 1 - DAY);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d = parse_day_heap(bad[i], &rc);
		if (rc != -1)
			fail_msg("ts_parse_day('%s') accepted", bad[i]);
		assert_int_equal(d, 777);	/* untouched */
	}
}

static void
test_floor_day(void **state)
{
	(void)state;
	assert_int_equal(ts_floor_day(0), 0);
	assert_int_equal(ts_floor_day(1), 0);
	assert_int_equal(ts_floor_day(DAY - 1), 0);
	assert_int_equal(ts_floor_day(DAY), DAY);
	assert_int_equal(ts_floor_day(-1), -DAY);
	assert_int_equal(ts_floor_day(-DAY), -DAY);
	assert_int_equal(ts_floor_day(-DAY + 1), -DAY);
	assert_int_equal(ts_floor_day(-DAY - 1), -2 * DAY);
	assert_int_equal(ts_floor_day(D20251005 + 23 * HOUR), D20251005);
	assert_int_equal(ts_floor_day(TS_MIN_MS), TS_MIN_MS);
	assert_int_equal(ts_floor_day(TS_MIN_MS + 1), TS_MIN_MS);
	assert_int_equal(ts_floor_day(TS_MAX_MS), TS_MAX_MS + 1 - DAY);
	/* Whole int64 without overflow. */
	assert_int_equal(ts_floor_day(INT64_MAX),
	    INT64_MAX / DAY * DAY);
	assert_int_equal(ts_floor_day(INT64_MIN / DAY * DAY),
	    INT64_MIN / DAY * DAY);
	/* Below the lowest representable day start: INT64_MIN (still <= ms). */
	assert_int_equal(ts_floor_day(INT64_MIN / DAY * DAY - 1), INT64_MIN);
	assert_int_equal(ts_floor_day(INT64_MIN), INT64_MIN);
}

static void
test_format(void **state)
{
	static const struct {
		int64_t ms;
		const char *iso, *sql, *day;
	} f[] = {
		{ 0, "1970-01-01T00:00:00.000Z", "1970-01-01 00:00:00",
		    "1970-01-01" },
		{ -1, "1969-12-31T23:59:59.999Z", "1969-12-31 23:59:59",
		    "1969-12-31" },
		{ D20251005 + 12 * HOUR + 34 * MIN + 56789,
		    "2025-10-05T12:34:56.789Z", "2025-10-05 12:34:56",
		    "2025-10-05" },
		{ 1709164800000LL + 7, "2024-02-29T00:00:00.007Z",
		    "2024-02-29 00:00:00", "2024-02-29" },
		{ TS_MIN_MS, "0001-01-01T00:00:00.000Z", "0001-01-01 00:00:00",
		    "0001-01-01" },
		{ TS_MAX_MS, "9999-12-31T23:59:59.999Z", "9999-12-31 23:59:59",
		    "9999-12-31" },
		{ -30636576000000LL, "0999-03-02T00:00:00.000Z",
		    "0999-03-02 00:00:00", "0999-03-02" },
		/* Out of range is clamped, never wider than the buffer. */
		{ INT64_MAX, "9999-12-31T23:59:59.999Z", "9999-12-31 23:59:59",
		    "9999-12-31" },
		{ INT64_MIN, "0001-01-01T00:00:00.000Z", "0001-01-01 00:00:00",
		    "0001-01-01" },
	};
	char iso[25], sql[20], day[11];

	(void)state;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		memset(iso, 'x', sizeof(iso));
		memset(sql, 'x', sizeof(sql));
		memset(day, 'x', sizeof(day));
		ts_format_iso(f[i].ms, iso);
		ts_format_sql(f[i].ms, sql);
		ts_format_day(f[i].ms, day);
		assert_string_equal(iso, f[i].iso);
		assert_string_equal(sql, f[i].sql);
		assert_string_equal(day, f[i].day);
	}
}

/* Check parse(format(x)) == x for all three formats at one instant. */
static void
round_trip(int64_t x)
{
	char iso[25], sql[20], day[11];
	struct ts t;
	int64_t d;

	ts_format_iso(x, iso);
	if (parse(iso, &t) != TS_TEXT_T || t.ms != x || t.sub_ms)
		fail_msg("iso round trip of %lld via '%s'", (long long)x, iso);
	ts_format_sql(x, sql);
	assert_int_equal(strncmp(sql, iso, 10), 0);
	if (parse(sql, &t) != TS_TEXT_SPACE ||
	    t.ms != x - (x - ts_floor_day(x)) % 1000)
		fail_msg("sql round trip of %lld via '%s'", (long long)x, sql);
	ts_format_day(x, day);
	if (ts_parse_day(day, &d) != 0 || d != ts_floor_day(x))
		fail_msg("day round trip of %lld via '%s'", (long long)x, day);
	if (ts_parse_int(x, &t) == TS_NUM_MILLIS)
		assert_int_equal(t.ms, x);
}

static void
test_round_trips(void **state)
{
	const int64_t span = TS_MAX_MS - TS_MIN_MS;
	const int n = 5000;
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	char prev[25] = "", cur[25];

	(void)state;
	/* Evenly spread, plus a pseudo-random jitter so ms fields vary. */
	for (int i = 0; i <= n; i++) {
		int64_t x = TS_MIN_MS + span / n * i;

		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		if (i > 0 && i < n)
			x += (int64_t)(rng >> 33) % (span / n);
		round_trip(x);
		/* ISO strings sort like the instants they name. */
		ts_format_iso(x, cur);
		assert_true(strcmp(prev, cur) < 0);
		memcpy(prev, cur, sizeof(cur));
	}
	/* Edges where off-by-one errors live. */
	for (int64_t x = -3 * DAY; x <= 3 * DAY; x += HOUR - 1)
		round_trip(x);
	for (int64_t x = -2000; x <= 2000; x++)
		round_trip(x);
	for (int64_t x = TS_MIN_MS; x < TS_MIN_MS + 2000; x++)
		round_trip(x);
	for (int64_t x = TS_MAX_MS - 2000; x <= TS_MAX_MS; x++)
		round_trip(x);
}

static int
month_len(int y, int m)
{
	static const int len[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return len[m - 1];
}

/*
 * Walk the calendar one day at a time from (y, m, d) = day number n through
 * the end of end_y, checking every day both ways against the library.
 * Returns the day number after the last one.
 */
static int64_t
walk_days(int y, int m, int d, int64_t n, int end_y, bool full)
{
	char want[64], got[11], text[96];
	struct ts t;
	int64_t ms;

	while (y <= end_y) {
		snprintf(want, sizeof(want), "%04d-%02d-%02d", y, m, d);
		if (ts_parse_day(want, &ms) != 0 || ms != n * DAY)
			fail_msg("ts_parse_day('%s') != day %lld", want,
			    (long long)n);
		ts_format_day(n * DAY, got);
		if (strcmp(got, want) != 0)
			fail_msg("day %lld formats as '%s', want '%s'",
			    (long long)n, got, want);
		if (full) {
			ts_format_day(n * DAY + DAY - 1, got);
			assert_string_equal(got, want);
			snprintf(text, sizeof(text), "%sT23:59:59.999Z", want);
			assert_int_equal(parse(text, &t), TS_TEXT_T);
			assert_int_equal(t.ms, n * DAY + DAY - 1);
			assert_int_equal(ts_floor_day(t.ms), n * DAY);
		}
		n++;
		if (++d > month_len(y, m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
	return n;
}

static void
test_brute_force_1969_2030(void **state)
{
	const int64_t days_2031 = 22280;	/* 2031-01-01 */

	(void)state;
	assert_int_equal(walk_days(1969, 1, 1, -365, 2030, true),
	    days_2031);
}

static void
test_brute_force_full_range(void **state)
{
	(void)state;
	/* Every negative day number too; must end just past TS_MAX_MS. */
	assert_int_equal(walk_days(1, 1, 1, TS_MIN_MS / DAY, 9999, false),
	    (TS_MAX_MS + 1) / DAY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_space_and_t_forms),
		cmocka_unit_test(test_fractions),
		cmocka_unit_test(test_zones),
		cmocka_unit_test(test_offsets_cross_midnight),
		cmocka_unit_test(test_epoch_text),
		cmocka_unit_test(test_parse_int),
		cmocka_unit_test(test_parse_real),
		cmocka_unit_test(test_leap_days),
		cmocka_unit_test(test_end_of_month),
		cmocka_unit_test(test_range_limits),
		cmocka_unit_test(test_invalid_strings),
		cmocka_unit_test(test_embedded_nul_and_len),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_parse_day),
		cmocka_unit_test(test_floor_day),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_brute_force_1969_2030),
		cmocka_unit_test(test_brute_force_full_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
