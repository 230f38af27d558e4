/*
 * Finding rows by time through an ordinary index on the raw column.
 *
 * A created_at column holds instants in many forms (timefmt.h): integers,
 * digit text, and dates with or without zones.  SQLite orders an index on it
 * by storage class first (numbers before text), so "the rows of UTC day D" is
 * not one index range.  tsprobe_interval() turns an interval of instants into
 * a few index ranges ("probes"), one per form and, for narrow intervals, one
 * per local date, together a superset of the rows wanted.  The exact test is
 * then ts_in(col, kind, lo, hi) in SQL: the row's form must be the probe's
 * kind and its instant inside the probe's window.  For each kind the probes'
 * text ranges (dates) or windows (digits) are disjoint, so every row is
 * accepted by at most one probe: nothing is counted twice.  Because ts_in()
 * reads only the indexed column, SQLite tests it on the index entry and
 * fetches the table row only for rows that pass (a deferred seek).
 */
#ifndef JOBS_TSPROBE_H
#define JOBS_TSPROBE_H

#include <sqlite3.h>

#include "timefmt.h"

#define TSPROBE_MAX 64		/* enough for a day, or any wide interval */
#define TSPROBE_NARROW_DAYS 7	/* up to this many days: per-date text probes */

/* Which storage classes a column can hold, from its declared type. */
enum ts_affinity {
	TSA_ANY,	/* BLOB/no affinity: every form may occur */
	TSA_NUMERIC,	/* INTEGER/REAL/NUMERIC (e.g. DATETIME): no digit text */
	TSA_TEXT,	/* TEXT: numbers were stored as digit text */
};

struct tsprobe {
	enum ts_kind kind;
	int numeric;		/* bounds are lo_num/hi_num, else lo_text/hi_text */
	sqlite3_int64 lo_num, hi_num;
	char lo_text[40], hi_text[40];
	int64_t wlo, whi;	/* accept instants in [wlo, whi) */
};

/*
 * Fill out[] with probes covering the instants in [lo_ms, hi_ms) for a column
 * of the given affinity.  Returns the number of probes (0 if the interval is
 * empty), never more than max; -1 if max is too small.
 */
int tsprobe_interval(int64_t lo_ms, int64_t hi_ms, enum ts_affinity aff,
    struct tsprobe *out, int max);

/* Affinity of table.column per SQLite's rules on its declared type. */
int tsql_affinity(sqlite3 *h, const char *table, const char *column,
    enum ts_affinity *out);

/* Parse a column or SQL value (integer, real, text; NULL/blob: invalid). */
enum ts_kind tsql_parse_value(sqlite3_value *v, struct ts *out);
enum ts_kind tsql_parse_column(sqlite3_stmt *st, int col, struct ts *out);

/*
 * Register on a connection: ts_in(x, kind, lo, hi) -> 1/0 (the probe test),
 * ts_ms(x) -> UTC milliseconds or NULL, ts_day(x) -> 'YYYY-MM-DD' or NULL.
 * They are deterministic and direct-only (never callable from the schema).
 */
int tsql_register(sqlite3 *h);

/*
 * Build "SELECT <cols> FROM <table> WHERE <probe 1> UNION ALL ... <probe n>"
 * for n probes on <column>, with 5 positional parameters per probe, bound by
 * tsprobe_bind(); `extra`, if not NULL, is ANDed to every probe.  All of
 * cols, table, column and extra are constants in the code, never input.
 * Returns a string from sqlite3_mprintf (caller frees), or NULL.
 */
char *tsprobe_union_sql(const char *cols, const char *table, const char *column,
    const char *extra, int n);

/* Bind probes to a statement made from tsprobe_union_sql(); SQLite code. */
int tsprobe_bind(sqlite3_stmt *st, const struct tsprobe *p, int n);

#endif
