/*
 * What a run would do, writing nothing: --dry-run's rows, files and
 * compressed bytes, day by day or for a retired table as a whole, and
 * archive_count_before(), the count behind jobs_status's backlog and the
 * progress ETA.
 */
#include <string.h>
#include <zlib.h>

#include "archive.h"
#include "archive_impl.h"
#include "log.h"
#include "status.h"
#include "timefmt.h"

/* Step st to its end: *rows its rows, *zbytes their JSON Lines at gzip -6. */
static int
measure(struct archiver *a, sqlite3_stmt *st, int64_t *rows, int64_t *zbytes)
{
	struct jbuf json = { NULL, 0, 0 };
	z_stream z;
	unsigned char out[16384];
	bool row;
	int rc;

	*rows = *zbytes = 0;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return J_SOFTWARE;
	while ((rc = db_step(a->db, st, &row)) == J_OK && row) {
		json.len = 0;
		if (jsonl_row(&json, st, a->ncols, a->names) != 0) {
			rc = J_SOFTWARE;
			break;
		}
		(*rows)++;
		z.next_in = (unsigned char *)json.p;
		z.avail_in = (unsigned)json.len;
		do {
			z.next_out = out;
			z.avail_out = sizeof(out);
			(void)deflate(&z, Z_NO_FLUSH);
			*zbytes += (int64_t)(sizeof(out) - z.avail_out);
		} while (z.avail_out == 0);
	}
	sqlite3_reset(st);
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		(void)deflate(&z, Z_FINISH);
		*zbytes += (int64_t)(sizeof(out) - z.avail_out);
	} while (z.avail_out == 0);
	deflateEnd(&z);
	jbuf_free(&json);
	return rc;
}

int
archive_dry_day(struct archiver *a, struct stmts *s, int64_t day_ms,
    const struct tsprobe *p, int n)
{
	int64_t rows, zbytes;
	char day[32];
	int rc;

	if (tsprobe_bind(s->select, p, n) != SQLITE_OK)
		return db_fail(a->db, sqlite3_errcode(a->db->h), "bind failed");
	if ((rc = measure(a, s->select, &rows, &zbytes)) != J_OK || rows == 0)
		return rc;
	if (a->hooks.day_check != NULL && (rc = a->hooks.day_check(a, day_ms)) != J_OK)
		return rc;
	day_name(day_ms, day);
	if (a->dir != NULL)
		log_info("would archive %s: %lld rows of %s in %lld files, about "
		    "%lld bytes", day, (long long)rows, a->table,
		    (long long)((rows + a->batch_size - 1) / a->batch_size),
		    (long long)zbytes);
	else
		log_info("would delete %s: %lld rows of %s (no archive)", day,
		    (long long)rows, a->table);
	a->rows += rows;
	a->files += a->dir ? (rows + a->batch_size - 1) / a->batch_size : 0;
	a->bytes += a->dir ? zbytes : 0;
	archive_note_day(a, day_ms);
	return J_OK;
}

/*
 * --dry-run of a retired table: every row, measured as archive_dry_day()
 * measures a day, in one read (a dry run writes nothing, so it holds no
 * lock); its days and its rows of unreadable time counted.  Files: at least
 * one per day.
 */
int
archive_dry_all(struct archiver *a)
{
	sqlite3_stmt *st = NULL;
	int64_t zbytes = 0, days = 0;
	int rc;

	rc = prepare_owned(a, &st, sqlite3_mprintf("SELECT * FROM \"%w\" ORDER BY id",
	    a->table));
	if (rc == J_OK)
		rc = measure(a, st, &a->rows, &zbytes);
	db_finalize(&st);
	if (rc == J_OK)
		rc = prepare_owned(a, &st, sqlite3_mprintf("SELECT count(DISTINCT "
		    "ts_day(\"%w\")), count(*) FILTER (WHERE ts_ms(\"%w\") IS NULL), "
		    "min(ts_ms(\"%w\")), max(ts_ms(\"%w\")) FROM \"%w\"", a->column,
		    a->column, a->column, a->column, a->table));
	if (rc == J_OK && (rc = db_step(a->db, st, &(bool){ false })) == J_OK) {
		days = sqlite3_column_int64(st, 0);
		a->undated = sqlite3_column_int64(st, 1);
		a->first_day = ts_floor_day(sqlite3_column_int64(st, 2));
		a->last_day = ts_floor_day(sqlite3_column_int64(st, 3));
	}
	db_finalize(&st);
	a->days = days;
	/* Each day's rows make a file or more: at least this many. */
	a->files = (a->rows + a->batch_size - 1) / a->batch_size;
	if (a->files < days + (a->undated > 0))
		a->files = days + (a->undated > 0);
	if (a->dir == NULL)
		a->files = 0;
	a->bytes = a->dir ? zbytes : 0;
	return rc;
}

int
archive_count_before(struct db *db, const char *table, const char *column,
    int64_t hi_ms, int64_t *out)
{
	struct tsprobe p[TSPROBE_MAX];
	enum ts_affinity aff;
	sqlite3_stmt *st = NULL;
	char *u, *sql;
	bool row;
	int n, rc;

	*out = 0;
	if (tsql_affinity(db->h, table, column, &aff) != SQLITE_OK)
		return db_fail(db, sqlite3_errcode(db->h), "cannot read the time column's type");
	if ((n = tsprobe_interval(TS_MIN_MS, hi_ms, aff, p, TSPROBE_MAX)) <= 0)
		return n == 0 ? J_OK : J_SOFTWARE;
	u = tsprobe_union_sql("1", table, column, NULL, n);
	sql = u ? sqlite3_mprintf("SELECT count(*) FROM (%s)", u) : NULL;
	sqlite3_free(u);
	if (sql == NULL)
		return J_SOFTWARE;
	rc = db_prepare(db, &st, sql);
	sqlite3_free(sql);
	if (rc == J_OK && tsprobe_bind(st, p, n) != SQLITE_OK)
		rc = db_fail(db, sqlite3_extended_errcode(db->h), "bind");
	if (rc == J_OK && (rc = db_step(db, st, &row)) == J_OK && row)
		*out = sqlite3_column_int64(st, 0);
	db_finalize(&st);
	return rc;
}
