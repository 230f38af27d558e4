/*
 * Unit tests for common/tzfile.c and common/bizday.c's day arithmetic: the
 * offset our TZif reader finds equals the C library's own reading of the
 * same file (glibc's localtime_r with TZ set: an independent implementation,
 * fine in a single-threaded test) at instants spread over 1900..2100 and at
 * every transition +-1 s, for zones with negative DST, 30- and 45-minute
 * offsets, a skipped day and the southern hemisphere; POSIX rules parse as
 * RFC 8536 says; business days and their intervals tile time exactly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bizday.h"
#include "testutil.h"
#include "timefmt.h"
#include "tzfile.h"

static const char *const zones[] = {
	"UTC", "Europe/Dublin", "America/St_Johns", "Asia/Kathmandu",
	"Australia/Lord_Howe", "Pacific/Apia", "America/New_York",
	"Europe/London", "Asia/Kolkata", "America/Sao_Paulo", "Pacific/Chatham",
	"Africa/Casablanca", "Pacific/Kiritimati", "America/Adak",
};
#define NZONES	(sizeof(zones) / sizeof(zones[0]))

/* glibc's offset, seconds east, of zone at instant t. */
static long
libc_offset(const char *zone, time_t t)
{
	struct tm tm;

	setenv("TZ", zone, 1);
	tzset();
	assert_non_null(localtime_r(&t, &tm));
	return tm.tm_gmtoff;
}

static void
check_at(const struct tz *z, const char *zone, int64_t t)
{
	long want = libc_offset(zone, (time_t)t);
	int32_t got = tz_offset(z, t);

	if (got != want)
		fail_msg("%s at %lld: offset %d, the C library says %ld", zone,
		    (long long)t, got, want);
}

static void
test_offsets_match_libc(void **state)
{
	size_t i, k;
	char err[512];

	(void)state;
	for (i = 0; i < NZONES; i++) {
		struct tz z;
		int64_t t;

		if (tz_load(&z, zones[i], err, sizeof(err)) != 0)
			fail_msg("%s", err);
		/* Every transition, and the second before it. */
		for (k = 0; k < z.n; k++) {
			check_at(&z, zones[i], z.at[k] - 1);
			check_at(&z, zones[i], z.at[k]);
		}
		/* 1900..2100 at irregular steps (a prime number of seconds),
		 * so past the file's last transition the rule is checked too. */
		for (t = -2208988800LL; t < 4102444800LL; t += 3600 * 24 * 7 + 4993)
			check_at(&z, zones[i], t);
		/* Past the file's transitions (2038..2060: its rule), the C
		 * library's own transitions, found hour by hour, to the second. */
		for (t = 2145916800LL; t < 2840140800LL; t += 3600) {
			int64_t lo = t, hi = t + 3600;

			if (libc_offset(zones[i], (time_t)lo) ==
			    libc_offset(zones[i], (time_t)hi))
				continue;
			while (hi - lo > 1) {
				int64_t mid = lo + (hi - lo) / 2;

				if (libc_offset(zones[i], (time_t)mid) ==
				    libc_offset(zones[i], (time_t)lo))
					lo = mid;
				else
					hi = mid;
			}
			check_at(&z, zones[i], lo);
			check_at(&z, zones[i], hi);
		}
		tz_free(&z);
	}
	unsetenv("TZ");
}

static void
test_rules(void **state)
{
	struct tz z;

	(void)state;
	memset(&z, 0, sizeof(z));
	assert_int_equal(tz_parse_rule(&z, "IST-1GMT0,M10.5.0,M3.5.0/1"), 0);
	assert_true(z.has_dst);
	assert_int_equal(z.std_off, 3600);
	assert_int_equal(z.dst_off, 0);
	assert_int_equal(z.start.kind, 'M');
	assert_int_equal(z.start.m, 10);
	assert_int_equal(z.end.time, 3600);
	/* 2040-07-01 is summer (IST, +1), 2040-01-15 winter (GMT, 0). */
	z.n = 0;
	z.utoff = &(int32_t){ 0 };
	assert_int_equal(tz_offset(&z, 2224713600LL), 3600);
	assert_int_equal(tz_offset(&z, 2210198400LL), 0);
	assert_int_equal(tz_parse_rule(&z, "<+0545>-5:45"), 0);
	assert_false(z.has_dst);
	assert_int_equal(z.std_off, 5 * 3600 + 45 * 60);
	assert_int_equal(tz_parse_rule(&z, "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0"), 0);
	assert_int_equal(z.dst_off - z.std_off, 1800);
	assert_int_equal(tz_parse_rule(&z, "EST5EDT,M3.2.0,M11.1.0"), 0);
	assert_int_equal(z.dst_off, -4 * 3600);
	assert_int_equal(tz_parse_rule(&z, "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1"), 0);
	assert_int_equal(z.start.time, -7200);
	assert_int_equal(tz_parse_rule(&z, "XY5"), -1);		/* name too short */
	assert_int_equal(tz_parse_rule(&z, "EST5EDT,M13.1.0,M11.1.0"), -1);
	assert_int_equal(tz_parse_rule(&z, "EST5EDT,M3.2.0"), -1);
	assert_int_equal(tz_parse_rule(&z, "EST"), -1);
}

static void
test_bad_names(void **state)
{
	static const char *const bad[] = { "", "Nowhere/Atlantis", "../etc/passwd",
	    "/usr/share/zoneinfo/UTC", "Europe/../Europe/Dublin", "Europe/", "zone.tab",
	    "Europe//Dublin", "a b" };
	char err[512];
	size_t i;
	struct tz z;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (tz_load(&z, bad[i], err, sizeof(err)) == 0) {
			tz_free(&z);
			fail_msg("'%s' loaded as a zone", bad[i]);
		}
		assert_true(strlen(err) > 0);
	}
}

/* UTC is built in: no file read, offset 0 everywhere. */
static void
test_utc_builtin(void **state)
{
	static const int64_t at[] = { -4102444800LL, -1, 0, 1711846800, 4102444800LL };
	const char *was = getenv("TZDIR");
	char err[512], *saved = was ? strdup(was) : NULL;
	struct tz z;
	size_t i;

	(void)state;
	assert_int_equal(setenv("TZDIR", "/nonexistent", 1), 0);
	assert_int_equal(tz_load(&z, "UTC", err, sizeof(err)), 0);
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		assert_int_equal(tz_offset(&z, at[i]), 0);
	tz_free(&z);
	assert_int_equal(tz_load(&z, "Europe/Dublin", err, sizeof(err)), TZ_UNKNOWN);
	assert_non_null(strstr(err, "/nonexistent/Europe/Dublin"));
	if (saved != NULL)
		assert_int_equal(setenv("TZDIR", saved, 1), 0);
	else
		assert_int_equal(unsetenv("TZDIR"), 0);
	free(saved);
}

/* A one-period calendar in zone, from the beginning. */
static void
one_zone(struct bizcal *c, const char *zone)
{
	char err[512];

	memset(c, 0, sizeof(*c));
	c->p = calloc(1, sizeof(*c->p));
	assert_non_null(c->p);
	c->n = 1;
	c->zoned = true;
	c->p[0].start_ms = c->p[0].from_day = BIZ_FOREVER;
	if (tz_load(&c->p[0].tz, zone, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

/*
 * Days tile time: each day's interval starts where the day before ends, and
 * an instant lies in the interval of the day bizcal_day() gives it.
 */
static void
check_tiling(const struct bizcal *c, int64_t first, int64_t last)
{
	int64_t d, lo, hi, prev_hi = 0, t;
	int i;

	for (d = first; d <= last; d += TS_MS_PER_DAY) {
		bizcal_interval(c, d, &lo, &hi);
		assert_true(hi >= lo);
		if (d > first && lo != prev_hi)
			fail_msg("day %lld starts at %lld, the day before ends at %lld",
			    (long long)d, (long long)lo, (long long)prev_hi);
		for (i = 0; i < 8 && hi > lo; i++) {
			t = lo + (int64_t)(rnd() % (uint64_t)(hi - lo));
			if (bizcal_day(c, t) != d)
				fail_msg("instant %lld is in day %lld's interval, "
				    "bizcal_day says %lld", (long long)t, (long long)d,
				    (long long)bizcal_day(c, t));
		}
		if (hi > lo && (bizcal_day(c, lo) != d || bizcal_day(c, hi - 1) != d))
			fail_msg("day %lld: its first or last instant is another day's",
			    (long long)d);
		prev_hi = hi;
	}
}

static void
test_days_tile(void **state)
{
	size_t i;

	(void)state;
	rng = 17;
	for (i = 0; i < NZONES; i++) {
		struct bizcal c;

		one_zone(&c, zones[i]);
		/* 2010-01-01 .. 2027-12-31 */
		check_tiling(&c, 14610 * TS_MS_PER_DAY, 21183 * TS_MS_PER_DAY);
		bizcal_free(&c);
	}
}

static void
test_day_lengths(void **state)
{
	struct bizcal c;
	int64_t lo, hi;

	(void)state;
	one_zone(&c, "Europe/Dublin");
	bizcal_interval(&c, 20177 * TS_MS_PER_DAY, &lo, &hi);	/* 2025-03-30 */
	assert_int_equal(hi - lo, 23 * 3600000LL);
	bizcal_interval(&c, 20383 * TS_MS_PER_DAY, &lo, &hi);	/* 2025-10-22 */
	assert_int_equal(hi - lo, 24 * 3600000LL);
	bizcal_interval(&c, 20387 * TS_MS_PER_DAY, &lo, &hi);	/* 2025-10-26 */
	assert_int_equal(hi - lo, 25 * 3600000LL);
	bizcal_free(&c);
	one_zone(&c, "Pacific/Apia");
	bizcal_interval(&c, 15338 * TS_MS_PER_DAY, &lo, &hi);	/* 2011-12-30: skipped */
	assert_int_equal(hi - lo, 0);
	bizcal_free(&c);
	one_zone(&c, "Australia/Lord_Howe");
	bizcal_interval(&c, 20184 * TS_MS_PER_DAY, &lo, &hi);	/* 2025-04-06 */
	assert_int_equal(hi - lo, 24 * 3600000LL + 1800000LL);
	bizcal_free(&c);
}

/* A switch: UTC, then Europe/Dublin from 2025-06-01 (a summer day, +1). */
static void
test_switch(void **state)
{
	struct bizcal c;
	int64_t from = 20240 * TS_MS_PER_DAY, lo, hi;	/* 2025-06-01 */
	char err[512];

	(void)state;
	assert_int_equal(bizcal_utc(&c), 0);
	c.p = realloc(c.p, 2 * sizeof(*c.p));
	assert_non_null(c.p);
	memset(&c.p[1], 0, sizeof(c.p[1]));
	if (tz_load(&c.p[1].tz, "Europe/Dublin", err, sizeof(err)) != 0)
		fail_msg("%s", err);
	c.p[1].from_day = from;
	c.p[1].start_ms = from - 3600000LL;	/* 00:00 IST = 23:00 UTC before */
	c.n = 2;
	c.zoned = true;
	/* The last UTC day ends at the boundary: 23 hours. */
	bizcal_interval(&c, from - TS_MS_PER_DAY, &lo, &hi);
	assert_int_equal(lo, from - TS_MS_PER_DAY);
	assert_int_equal(hi, from - 3600000LL);
	assert_int_equal(bizcal_day(&c, from - 1800000LL), from);
	assert_int_equal(bizcal_day(&c, from - 3600001LL), from - TS_MS_PER_DAY);
	check_tiling(&c, from - 40 * TS_MS_PER_DAY, from + 40 * TS_MS_PER_DAY);
	bizcal_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets_match_libc),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_utc_builtin),
		cmocka_unit_test(test_days_tile),
		cmocka_unit_test(test_day_lengths),
		cmocka_unit_test(test_switch),
	};

	return cmocka_run_group_tests_name("tzfile", tests, NULL, NULL);
}
