/*
 * Timestamp parsing and formatting (SPEC section 3).
 *
 * The shop's app has written created_at/expires_at in several forms over the
 * years; every job must read all of them the same way, so this file is the one
 * definition of "what instant does this value mean".  Parsing is strict: a
 * value that is not exactly one of the forms below is invalid, and an invalid
 * value is never pruned, expired or counted in a day.
 *
 * Instants are int64 milliseconds since 1970-01-01T00:00:00Z (UTC), floored.
 * Valid instants lie in [TS_MIN_MS, TS_MAX_MS] (years 0001..9999).
 */
#ifndef JOBS_TIMEFMT_H
#define JOBS_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TS_MS_PER_DAY	86400000LL
#define TS_MIN_MS	(-62135596800000LL)	/* 0001-01-01T00:00:00.000Z */
#define TS_MAX_MS	253402300799999LL	/* 9999-12-31T23:59:59.999Z */
#define TS_MILLIS_THRESHOLD 100000000000LL	/* |epoch| >= this: milliseconds */
#define TS_MAX_OFFSET_MIN (14 * 60)		/* widest real-world UTC offset, minutes */

/*
 * Which form a value had.  The kind matters beyond parsing: the jobs scan an
 * index on the raw column with one range per kind and accept a row in a range
 * only if its kind matches, so no row is ever counted twice (see tsprobe.h).
 */
enum ts_kind {
	TS_INVALID = 0,
	TS_NUM_SECONDS,		/* integer or real, |v| < 1e11: Unix seconds */
	TS_NUM_MILLIS,		/* integer or real, |v| >= 1e11: Unix milliseconds */
	TS_TEXT_SECONDS,	/* digit-only text, value < 1e11 */
	TS_TEXT_MILLIS,		/* digit-only text, value >= 1e11 */
	TS_TEXT_SPACE,		/* "YYYY-MM-DD HH:MM:SS[.f][zone]" */
	TS_TEXT_T,		/* "YYYY-MM-DDTHH:MM:SS[.f][zone]" */
};

struct ts {
	int64_t ms;		/* UTC milliseconds since the epoch, floored */
	bool sub_ms;		/* true if a nonzero fraction finer than 1 ms was dropped */
	enum ts_kind kind;
};

/*
 * Parse text of exactly len bytes (it need not be NUL-terminated).
 * Accepted forms, nothing else (no surrounding spaces, no lowercase t/z):
 *   YYYY-MM-DD HH:MM:SS[.f]       1..9 fraction digits; UTC
 *   YYYY-MM-DDTHH:MM:SS[.f]       same with T
 *   either of the above + "Z" or "+HH:MM" / "-HH:MM" (|offset| <= 14:00),
 *     converted to UTC
 *   digit-only text: 1..19 digits, no leading zero unless the value is "0";
 *     value >= 1e11 is milliseconds, below is seconds
 * Fields are range-checked: month 1..12, day valid for the month (leap years
 * per the Gregorian rule), hour 0..23, minute 0..59, second 0..59.
 * Returns the kind (TS_INVALID on failure, *out then untouched).
 */
enum ts_kind ts_parse_text(const char *s, size_t len, struct ts *out);

/* An integer column value: seconds if |v| < 1e11, else milliseconds. */
enum ts_kind ts_parse_int(int64_t v, struct ts *out);

/* A real column value: as ts_parse_int; NaN and infinities are invalid. */
enum ts_kind ts_parse_real(double v, struct ts *out);

/* Strict "YYYY-MM-DD" (exactly 10 bytes); *day_ms gets 00:00:00Z of it. 0 or -1. */
int ts_parse_day(const char *s, int64_t *day_ms);

/* Floor an instant to 00:00:00.000Z of its UTC day (correct for negatives). */
int64_t ts_floor_day(int64_t ms);

/* "YYYY-MM-DD" of the UTC day holding ms; out must hold 11 bytes. */
void ts_format_day(int64_t ms, char *out);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ"; out must hold 25 bytes. */
void ts_format_iso(int64_t ms, char *out);

/* "YYYY-MM-DD HH:MM:SS" (SQLite's datetime() form); out must hold 20 bytes. */
void ts_format_sql(int64_t ms, char *out);

#endif
