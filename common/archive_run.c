/*
 * archive_run(): which rows go, day by day, and in batches of what size.  A
 * day that may hold rows is found over the time column's index, its ids are
 * read from the index alone and sorted, and each batch of them goes through
 * archive_do_batch() (archive.c); a retired table, which has no index on its
 * time, is read by id instead (archive_all()).  The statements of a run are
 * prepared here.
 */
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "archive_impl.h"
#include "log.h"
#include "progress.h"
#include "status.h"
#include "timefmt.h"

#define CHUNK_ROWS	((size_t)65536)	/* rows of a retired table read at once: 1 MB */

static void
stmts_free(struct stmts *s)
{
	db_finalize(&s->ids);
	db_finalize(&s->select);
	db_finalize(&s->first);
	db_finalize(&s->by_id);
	db_finalize(&s->del);
	db_finalize(&s->intent);
	db_finalize(&s->done);
	db_finalize(&s->unreadable);
}

/* A row is due in [:lo, :hi), or, with both NULL (NO_DAY), when its time
 * cannot be read; the column's name thrice. */
#define DUE	"CASE WHEN :lo IS NULL THEN ts_ms(\"%w\") IS NULL ELSE " \
		"ts_ms(\"%w\") >= :lo AND ts_ms(\"%w\") < :hi END"

static int
stmts_prepare(struct archiver *a, struct stmts *s)
{
	const char *f = a->row_filter;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = prepare_owned(a, &s->first, sqlite3_mprintf("SELECT \"%w\" FROM \"%w\" "
	    "WHERE \"%w\" >= ?1 AND \"%w\" < ?2 AND ts_in(\"%w\", ?3, ?4, ?5)%s%s%s "
	    "ORDER BY \"%w\" LIMIT 1", a->column, a->table, a->column, a->column,
	    a->column, f ? " AND (" : "", f ? f : "", f ? ")" : "", a->column));
	/* The time test again: the row may have changed since its id was read. */
	if (rc == J_OK)
		rc = prepare_owned(a, &s->by_id, sqlite3_mprintf("SELECT * FROM \"%w\" "
		    "WHERE id = :id AND " DUE "%s%s%s", a->table, a->column, a->column,
		    a->column, f ? " AND (" : "", f ? f : "", f ? ")" : ""));
	/* One statement deletes a batch.  With an archive every row must be
	 * exactly the archived one (commit_batch compares digests); without,
	 * a row is deleted only if it is still due, as by_id tests. */
	if (rc == J_OK && a->dir != NULL)
		rc = prepare_owned(a, &s->del, sqlite3_mprintf("DELETE FROM \"%w\" "
		    "WHERE id IN (SELECT value FROM json_each(:ids)) RETURNING *",
		    a->table));
	else if (rc == J_OK)
		rc = prepare_owned(a, &s->del, sqlite3_mprintf("DELETE FROM \"%w\" "
		    "WHERE id IN (SELECT value FROM json_each(:ids)) AND " DUE
		    "%s%s%s RETURNING id", a->table, a->column, a->column, a->column,
		    f ? " AND (" : "", f ? f : "", f ? ")" : ""));
	/* A retired table has no index on its time, and its unreadable rows
	 * are archived too (archive_all()). */
	if (rc == J_OK && !a->retired)
		rc = prepare_owned(a, &s->unreadable, sqlite3_mprintf("SELECT count(*) "
		    "FROM \"%w\" INDEXED BY \"idx_%w_%w\" WHERE ts_ms(\"%w\") IS NULL",
		    a->table, a->table, a->column, a->column));
	if (rc == J_OK)
		rc = db_prepare(a->db, &s->intent, "INSERT INTO archive_manifest "
		    "(job, table_name, day, archive_dir, path, state, run_id, "
		    "created_at) VALUES (:job, :table, :day, :dir, :path, "
		    "'writing', :run, :now)");
	if (rc == J_OK)
		rc = db_prepare(a->db, &s->done, "UPDATE archive_manifest SET "
		    "state = 'done', rows = :rows, min_id = :min, max_id = :max, "
		    "bytes = :bytes, completed_at = :now WHERE id = :id "
		    "AND state = 'writing'");
	return rc;
}

static int
prepare_day(struct archiver *a, struct stmts *s, int n)
{
	char *u;
	int rc;

	if (s->nday == n)
		return J_OK;
	db_finalize(&s->ids);
	db_finalize(&s->select);
	s->nday = 0;
	u = tsprobe_union_sql("id", a->table, a->column, a->row_filter, n);
	rc = prepare_owned(a, &s->ids, u ? sqlite3_mprintf("%s LIMIT ?%d", u,
	    5 * n + 1) : NULL);
	sqlite3_free(u);
	/* --dry-run encodes rows in the order the real run writes them (by id),
	 * so its byte counts are the real ones. */
	u = tsprobe_union_sql("*", a->table, a->column, a->row_filter, n);
	if (rc == J_OK)
		rc = prepare_owned(a, &s->select, u ? sqlite3_mprintf("%s ORDER BY id", u) : NULL);
	sqlite3_free(u);
	if (rc == J_OK)
		s->nday = n;
	return rc;
}

/*
 * Find a UTC day in [lo_ms, cutoff) that may hold rows, as early as cheaply
 * known: the first row of each probe in index order.  Numbers and digit text
 * sort in time order, so their first row is their earliest.  Date text sorts
 * by local time, up to 14 hours off UTC either way, so from its first row we
 * step back two days: no earlier day can hold such a row.  *found is false
 * when nothing is left.
 */
static int
find_day(struct archiver *a, struct stmts *s, int64_t lo_ms, int64_t cutoff,
    int64_t *day_ms, bool *found)
{
	struct tsprobe p[TSPROBE_MAX];
	bool row, seen[TS_TEXT_T + 1];
	int i, n, rc = J_OK;

	*found = false;
	*day_ms = 0;
	n = tsprobe_interval(lo_ms, cutoff, a->aff, p, TSPROBE_MAX);
	if (n < 0)
		return J_SOFTWARE;
	for (i = 0; i < n; i++)
		seen[p[i].kind] = false;
	for (i = 0; i < n && rc == J_OK; i++) {
		struct ts t;
		int64_t d;

		/* A kind with no due row left stays so for the rest of the run (the
		 * interval only shrinks); its probe would walk the other kinds'
		 * rows again for nothing. */
		if (s->exhausted[p[i].kind])
			continue;
		if (tsprobe_bind(s->first, &p[i], 1) != SQLITE_OK)
			return db_fail(a->db, sqlite3_errcode(a->db->h), "bind failed");
		rc = db_step(a->db, s->first, &row);
		if (rc == J_OK && row && tsql_parse_column(s->first, 0, &t) != TS_INVALID) {
			d = ts_floor_day(t.ms);
			if (t.kind == TS_TEXT_SPACE || t.kind == TS_TEXT_T)
				d -= 2 * TS_MS_PER_DAY;
			if (d < ts_floor_day(lo_ms))
				d = ts_floor_day(lo_ms);
			if (!*found || d < *day_ms)
				*day_ms = d;
			*found = true;
			seen[p[i].kind] = true;
		}
		sqlite3_reset(s->first);
	}
	for (i = 0; i < n && rc == J_OK; i++)
		if (!seen[p[i].kind])
			s->exhausted[p[i].kind] = true;
	return rc;
}

static bool
out_of_time(struct archiver *a)
{
	return a->max_runtime > 0 &&
	    db_mono_ms() - a->started >= a->max_runtime * 1000;
}

long
archive_next_batch(long cur, long max, int64_t held_ms)
{
	long next = cur;

	if (held_ms > ARCHIVE_TX_SLOW_MS)
		next = (long)((int64_t)cur * ARCHIVE_TX_AIM_MS / held_ms);
	else if (held_ms < ARCHIVE_TX_FAST_MS)
		next = cur + cur / 8 + 1;
	if (next > max)
		next = max;
	return next < 1 ? 1 : next;
}

static int
collect_ids(struct archiver *a, struct stmts *s, const struct tsprobe *p,
    int n, struct day_ids *d)
{
	bool row;
	int rc;

	d->n = d->pos = 0;
	if (d->v == NULL && (d->v = malloc(IDS_MAX * sizeof(*d->v))) == NULL)
		return J_SOFTWARE;
	if (tsprobe_bind(s->ids, p, n) != SQLITE_OK ||
	    sqlite3_bind_int64(s->ids, 5 * n + 1, IDS_MAX) != SQLITE_OK)
		return db_fail(a->db, sqlite3_errcode(a->db->h), "bind failed");
	while ((rc = db_step(a->db, s->ids, &row)) == J_OK && row)
		d->v[d->n++] = sqlite3_column_int64(s->ids, 0);
	sqlite3_reset(s->ids);
	d->more = d->n == IDS_MAX;
	qsort(d->v, d->n, sizeof(*d->v), archive_id_cmp);
	return rc;
}

/*
 * Count the rows whose time cannot be read, for the summary line: they are
 * never archived, and an operator should know they pile up (a warning every
 * night would only teach cron's readers to ignore mail).  One pass over the
 * time column's index, no table rows read, once per run.
 */
static int
count_unreadable(struct archiver *a, struct stmts *s)
{
	bool row;
	int rc = db_step(a->db, s->unreadable, &row);

	if (rc == J_OK && row)
		a->unreadable = sqlite3_column_int64(s->unreadable, 0);
	sqlite3_reset(s->unreadable);
	return rc;
}

/*
 * The batches of d (ids of one day, or of NO_DAY, from d->pos on), adapting
 * their size to the lock time (archive_next_batch()).  *first is cleared
 * once a batch was tried.
 */
static int
run_batches(struct archiver *a, struct stmts *s, struct batch *b, int64_t day,
    int64_t end, struct day_ids *d, bool *first)
{
	int rc = J_OK;

	for (; rc == J_OK && d->pos < d->n; d->pos += d->take) {
		int64_t rows = a->rows;

		if (out_of_time(a)) {
			a->stopped = true;
			break;
		}
		d->take = (size_t)a->batch;
		rc = archive_do_batch(a, s, b, day, end, d, *first);
		*first = false;
		/* Only a committed batch's transaction tells its size's cost. */
		if (a->adapt && a->rows > rows) {
			long next = archive_next_batch(a->batch, a->batch_size,
			    a->db->last_write);

			if (next < a->batch)
				log_debug("a batch of %ld rows held the lock %lld ms: "
				    "next batches %ld rows", a->batch,
				    (long long)a->db->last_write, next);
			a->batch = next;
		}
	}
	return rc;
}

/* Archive one day: every batch of every round of ids. */
static int
archive_day(struct archiver *a, struct stmts *s, struct batch *b, int64_t day,
    int64_t end, const struct tsprobe *p, int n)
{
	struct day_ids d = { NULL, 0, 0, 0, false };
	int64_t before;
	bool first = true;
	int rc;

	do {
		before = a->rows;
		if ((rc = collect_ids(a, s, p, n, &d)) != J_OK)
			break;
		rc = run_batches(a, s, b, day, end, &d, &first);
		/* A full round that archived nothing would only repeat itself. */
	} while (rc == J_OK && !a->stopped && d.more && a->rows > before);
	free(d.v);
	return rc;
}

/* A row of a retired table: its id and its day (NO_DAY if unreadable). */
struct row_day {
	int64_t day, id;
};

static int
row_day_cmp(const void *x, const void *y)
{
	const struct row_day *a = x, *b = y;

	if (a->day != b->day)
		return a->day < b->day ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/*
 * retire_table: every row of a retired table, which has no index on its
 * time.  Ids are read in chunks, in id order, each in a short read of its
 * own; a chunk's rows are sorted by day (the unreadable ones, NO_DAY,
 * first) and each day's run goes through the same batches as a day of a
 * pruned table.  A table written in time order gives about one file per day.
 */
static int
archive_all(struct archiver *a, struct stmts *s, struct batch *b)
{
	struct row_day *v = malloc(CHUNK_ROWS * sizeof(*v));
	struct day_ids d = { NULL, 0, 0, 0, false };
	sqlite3_stmt *st = NULL;
	int64_t last = INT64_MIN;
	size_t n, i, j;
	bool row, first = true;
	int rc;

	if (v == NULL || (d.v = malloc(CHUNK_ROWS * sizeof(*d.v))) == NULL) {
		free(v);
		return J_SOFTWARE;
	}
	rc = prepare_owned(a, &st, sqlite3_mprintf("SELECT id, ts_ms(\"%w\") FROM "
	    "\"%w\" WHERE id > :last ORDER BY id LIMIT %d", a->column, a->table,
	    (int)CHUNK_ROWS));
	while (rc == J_OK && !a->stopped) {
		n = 0;
		if ((rc = db_bind_int64(a->db, st, ":last", last)) != J_OK)
			break;
		while ((rc = db_step(a->db, st, &row)) == J_OK && row) {
			v[n].id = sqlite3_column_int64(st, 0);
			v[n++].day = sqlite3_column_type(st, 1) == SQLITE_NULL ? NO_DAY :
			    ts_floor_day(sqlite3_column_int64(st, 1));
		}
		sqlite3_reset(st);
		if (rc != J_OK || n == 0)
			break;
		last = v[n - 1].id;
		qsort(v, n, sizeof(*v), row_day_cmp);
		for (i = 0; rc == J_OK && !a->stopped && i < n; i = j) {
			for (j = i; j < n && v[j].day == v[i].day; j++)
				d.v[j - i] = v[j].id;
			d.n = j - i;
			d.pos = 0;
			rc = run_batches(a, s, b, v[i].day, v[i].day == NO_DAY ? NO_DAY :
			    v[i].day + TS_MS_PER_DAY, &d, &first);
		}
		if (n < CHUNK_ROWS)
			break;
	}
	db_finalize(&st);
	free(d.v);
	free(v);
	return rc;
}

int
archive_run(struct archiver *a, int64_t cutoff)
{
	struct stmts s;
	struct batch b;
	struct tsprobe p[TSPROBE_MAX];
	int64_t lo = TS_MIN_MS, day = 0, total = 0;
	bool found;
	int rc, n;

	memset(&b, 0, sizeof(b));
	if ((rc = stmts_prepare(a, &s)) != J_OK)
		goto out;
	/* A retired table: every row, by id, whatever its time. */
	if (a->retired) {
		sqlite3_stmt *st = NULL;

		if (log_interactive() && !a->dry_run &&
		    (rc = prepare_owned(a, &st, sqlite3_mprintf("SELECT count(*) "
		    "FROM \"%w\"", a->table))) == J_OK &&
		    (rc = db_step(a->db, st, &(bool){ false })) == J_OK)
			total = sqlite3_column_int64(st, 0);
		db_finalize(&st);
		if (rc != J_OK)
			goto out;
		progress_start(&a->progress, "rows", total);
		rc = a->dry_run ? archive_dry_all(a) : archive_all(a, &s, &b);
		goto out;
	}
	if ((rc = count_unreadable(a, &s)) != J_OK)
		goto out;
	/* On a terminal, an ETA is worth one count over the index. */
	if (log_interactive() && (rc = archive_count_before(a->db, a->table,
	    a->column, cutoff, &total)) != J_OK)
		goto out;
	progress_start(&a->progress, "rows", total);
	while ((rc = find_day(a, &s, lo, cutoff, &day, &found)) == J_OK && found) {
		int64_t end = day + TS_MS_PER_DAY < cutoff ? day + TS_MS_PER_DAY : cutoff;

		if ((n = tsprobe_interval(day, end, a->aff, p, TSPROBE_MAX)) <= 0) {
			rc = J_SOFTWARE;
			break;
		}
		if ((rc = prepare_day(a, &s, n)) != J_OK)
			break;
		rc = a->dry_run ? archive_dry_day(a, &s, day, p, n) :
		    archive_day(a, &s, &b, day, end, p, n);
		if (rc != J_OK || a->stopped)
			break;
		lo = end;
	}
out:
	progress_end(&a->progress);
	stmts_free(&s);
	archive_batch_free(&b);
	return rc;
}
