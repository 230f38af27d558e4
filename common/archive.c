/*
 * The archiver (see archive.h for the exactly-once protocol).  Files are made
 * the way Redis's rdbSave() makes them: a temporary name, fsync, then a link
 * to the final name and an fsync of the directory, one error path that removes
 * the temporary file.  Directories are walked with O_NOFOLLOW, so a planted
 * symlink can never redirect an archive.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "archive.h"
#include "archive_file.h"
#include "dbfile.h"
#include "job.h"
#include "log.h"
#include "progress.h"
#include "status.h"
#include "timefmt.h"

#define VERIFY_RETRIES	3		/* re-reads of a batch whose rows changed */
#define IDS_MAX		((size_t)512 * 1024)	/* ids of one day held at once: 4 MB */

struct table_def {
	const char *table, *column;
	bool retired;		/* every row goes, read by id (archive_all()) */
};

/* The only tables the archiver touches: names never come from input. */
static const struct table_def tables[] = {
	{ "analytics_events", "created_at", false },
	{ "system_logs", "created_at", false },
	{ "product_reservations", "expires_at", false },
	{ "analytics", "created_at", true },
};

/* The "day" of rows whose time cannot be read (retire_table only). */
#define NO_DAY	INT64_MIN

/* A day's partition name: YYYY-MM-DD, or Hive's name for an unknown value. */
static void
day_name(int64_t day_ms, char out[32])
{
	if (day_ms == NO_DAY)
		snprintf(out, 32, "%s", ARCHIVE_NO_DAY);
	else
		ts_format_day(day_ms, out);
}

/*
 * Bind a batch's interval: [lo, hi), or NULL for NO_DAY, which the
 * statements read as "rows whose time cannot be read" (see stmts_prepare()).
 */
static int
bind_interval(struct archiver *a, sqlite3_stmt *st, int64_t lo, int64_t hi)
{
	int i = sqlite3_bind_parameter_index(st, ":lo"), k = sqlite3_bind_parameter_index(st, ":hi");

	if (i == 0 || k == 0)
		return J_SOFTWARE;
	if (lo == NO_DAY)
		i = sqlite3_bind_null(st, i) | sqlite3_bind_null(st, k);
	else
		i = sqlite3_bind_int64(st, i, lo) | sqlite3_bind_int64(st, k, hi);
	return i == SQLITE_OK ? J_OK : db_fail(a->db, sqlite3_errcode(a->db->h), "bind failed");
}

struct batch {
	int64_t *ids;			/* ascending */
	uint64_t *digests;
	size_t n, cap;
	struct jbuf json;
	struct jbuf id_list;		/* "[id,id,...]", bound as :ids */
	int64_t min_id, max_id;
	int64_t lo, hi;			/* the day's interval */
};

const char *
archive_error(const struct archiver *a)
{
	return a->err[0] ? a->err : a->db->err;
}

static int
read_columns(struct archiver *a)
{
	sqlite3_stmt *st;
	bool row;
	int rc;

	rc = db_prepare(a->db, &st, "SELECT name FROM pragma_table_info(:t) ORDER BY cid");
	if (rc == J_OK)
		rc = db_bind_text(a->db, st, ":t", a->table);
	a->id_col = -1;
	while (rc == J_OK && (rc = db_step(a->db, st, &row)) == J_OK && row) {
		char **names = realloc(a->names, (size_t)(a->ncols + 1) * sizeof(*names));

		if (names == NULL) {
			rc = J_SOFTWARE;
			break;
		}
		a->names = names;
		names[a->ncols] = strdup((const char *)sqlite3_column_text(st, 0));
		if (names[a->ncols] == NULL) {
			rc = J_SOFTWARE;
			break;
		}
		if (strcmp(names[a->ncols], "id") == 0)
			a->id_col = a->ncols;
		a->ncols++;
	}
	db_finalize(&st);
	if (rc == J_OK && a->id_col < 0) {
		snprintf(a->err, sizeof(a->err), "table %s has no id column", a->table);
		rc = J_CONFIG;
	}
	return rc;
}

int
archive_dir_check(const char *dir, char *err, size_t size)
{
	struct stat sb;

	if (stat(dir, &sb) != 0) {
		snprintf(err, size, "cannot use archive directory '%s': %s", dir,
		    strerror(errno));
		return J_CANTCREAT;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, size, "archive directory '%s' is not a directory", dir);
		return J_CANTCREAT;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		snprintf(err, size, "cannot write to archive directory '%s': %s",
		    dir, strerror(errno));
		return J_CANTCREAT;
	}
	return J_OK;
}

int
archive_open(struct archiver *a, struct db *db, struct runlog *run,
    const char *job, const char *table, const char *dir, long batch_size)
{
	size_t i;
	int rc;

	memset(a, 0, sizeof(*a));
	a->db = db;
	a->run = run;
	a->job = job;
	a->dir = dir;
	a->dirfd = -1;
	a->batch_size = batch_size;
	a->batch = batch_size;
	a->started = db_mono_ms();
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (strcmp(tables[i].table, table) == 0) {
			a->table = tables[i].table;
			a->column = tables[i].column;
			a->retired = tables[i].retired;
		}
	if (a->table == NULL)
		return J_SOFTWARE;

	if (dir != NULL) {
		if ((rc = archive_dir_check(dir, a->err, sizeof(a->err))) != J_OK)
			return rc;
		if (realpath(dir, a->dir_abs) == NULL ||
		    (a->dirfd = open(a->dir_abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			return afile_fail(a, J_CANTCREAT, "open archive directory", "");
		if (faccessat(a->dirfd, ".", W_OK | X_OK, AT_EACCESS) != 0)
			return afile_fail(a, J_CANTCREAT, "write to archive directory", "");
	}
	if ((rc = read_columns(a)) != J_OK ||
	    (rc = dbfile_ids(db, a->dbid, a->owned, sizeof(a->owned))) != J_OK)
		return rc;
	if (tsql_affinity(db->h, a->table, a->column, &a->aff) != SQLITE_OK)
		return db_fail(db, sqlite3_errcode(db->h), "cannot read the time column's type");
	return J_OK;
}

void
archive_close(struct archiver *a)
{
	int i;

	for (i = 0; i < a->ncols; i++)
		free(a->names[i]);
	free(a->names);
	a->names = NULL;
	if (a->dirfd >= 0)
		close(a->dirfd);
	a->dirfd = -1;
}

static int
forget_manifest(struct archiver *a, int64_t id)
{
	sqlite3_stmt *st;
	int rc = db_prepare(a->db, &st, "DELETE FROM archive_manifest WHERE id = :id "
	    "AND state = 'writing'");

	if (rc == J_OK)
		rc = db_bind_int64(a->db, st, ":id", id);
	if (rc == J_OK)
		rc = db_run_alone(a->db, st, NULL);
	db_finalize(&st);
	return rc;
}

/* Manifest rows of a->table in state, one at a time from the lowest id
 * after *after (so a row skipped is never met again): J_OK with *row. */
static int
next_manifest(struct archiver *a, sqlite3_stmt *st, int64_t *after, bool *row,
    int64_t *id, char *dir, size_t dsize, char *path, size_t psize)
{
	int rc = db_bind_int64(a->db, st, ":after", *after);

	if (rc == J_OK && (rc = db_step(a->db, st, row)) == J_OK && *row) {
		*after = *id = sqlite3_column_int64(st, 0);
		snprintf(dir, dsize, "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(path, psize, "%s", (const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_reset(st);
	return rc;
}

int
archive_finish_restores(struct archiver *a)
{
	sqlite3_stmt *st, *upd = NULL;
	int64_t id, after = 0;
	bool row, missing;
	int rc;

	rc = db_prepare(a->db, &st, "SELECT id, archive_dir, path FROM "
	    "archive_manifest WHERE table_name = :t AND state = 'restored' "
	    "AND instr(path, '/_restored/') = 0 AND id > :after ORDER BY id LIMIT 1");
	if (rc == J_OK)
		rc = db_prepare(a->db, &upd, "UPDATE archive_manifest SET path = :path "
		    "WHERE id = :id AND state = 'restored'");
	if (rc == J_OK)
		rc = db_bind_text(a->db, st, ":t", a->table);
	while (rc == J_OK) {
		char dir[4096], path[1024], moved[1100];

		rc = next_manifest(a, st, &after, &row, &id, dir, sizeof(dir),
		    path, sizeof(path));
		if (rc != J_OK || !row)
			break;
		/* A copy of this database never moves the original's file. */
		if (!dbfile_owns(a->owned, path))
			continue;
		if ((rc = afile_restored_path(path, moved, sizeof(moved))) != J_OK) {
			snprintf(a->err, sizeof(a->err), "archive_manifest row %lld: "
			    "path '%s' is not an archive path", (long long)id, path);
			break;
		}
		if ((rc = afile_move_restored(a, dir, path, &missing)) != J_OK)
			break;
		if (missing)
			log_warn("restored archive '%s/%s' is gone (its rows are in %s)",
			    dir, path, a->table);
		if ((rc = db_bind_text(a->db, upd, ":path", moved)) != J_OK ||
		    (rc = db_bind_int64(a->db, upd, ":id", id)) != J_OK)
			break;
		rc = db_run_alone(a->db, upd, NULL);
	}
	db_finalize(&upd);
	db_finalize(&st);
	return rc;
}

int
archive_recover(struct archiver *a)
{
	sqlite3_stmt *st;
	int64_t id, after = 0;
	bool row;
	int rc;

	/* A restore that stopped before its file left the live tree. */
	if ((rc = archive_finish_restores(a)) != J_OK)
		return rc;
	rc = db_prepare(a->db, &st, "SELECT id, archive_dir, path FROM "
	    "archive_manifest WHERE table_name = :t AND state = 'writing' "
	    "AND id > :after ORDER BY id LIMIT 1");
	if (rc == J_OK)
		rc = db_bind_text(a->db, st, ":t", a->table);
	while (rc == J_OK) {
		char dir[4096], path[1024];

		rc = next_manifest(a, st, &after, &row, &id, dir, sizeof(dir),
		    path, sizeof(path));
		if (rc != J_OK || !row)
			break;
		/* Only this database's own leftovers: one named with another id
		 * came with a copy, and may be the original's file in flight
		 * (dbfile.h).  It was named when the id changed. */
		if (!dbfile_owns(a->owned, path)) {
			log_debug("left alone: unfinished archive '%s/%s' of another "
			    "database id", dir, path);
			continue;
		}
		/* The rows of an unfinished file are all still in the table:
		 * remove the file first, then its manifest row. */
		if ((rc = afile_remove(a, dir, path)) != J_OK)
			break;
		if ((rc = forget_manifest(a, id)) != J_OK)
			break;
		log_warn("removed unfinished archive '%s/%s' left by an interrupted "
		    "run (its rows are still in %s)", dir, path, a->table);
	}
	db_finalize(&st);
	return rc;
}

static void
batch_reset(struct batch *b)
{
	b->n = 0;
	b->json.len = 0;
	b->id_list.len = 0;
	b->min_id = INT64_MAX;
	b->max_id = INT64_MIN;
}

static void
batch_free(struct batch *b)
{
	free(b->ids);
	free(b->digests);
	jbuf_free(&b->id_list);
	jbuf_free(&b->json);
}

static int
batch_add(struct batch *b, int64_t id, uint64_t digest)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		int64_t *ids = realloc(b->ids, cap * sizeof(*ids));
		uint64_t *d;

		if (ids == NULL)
			return J_SOFTWARE;
		b->ids = ids;
		if ((d = realloc(b->digests, cap * sizeof(*d))) == NULL)
			return J_SOFTWARE;
		b->digests = d;
		b->cap = cap;
	}
	b->ids[b->n] = id;
	b->digests[b->n++] = digest;
	if (id < b->min_id)
		b->min_id = id;
	if (id > b->max_id)
		b->max_id = id;
	return J_OK;
}

/* Statements of one run; the per-day ones are rebuilt when the number of
 * probes changes. */
struct stmts {
	int nday;			/* probes in `ids` and `select` */
	sqlite3_stmt *ids;		/* ids of a day's rows (index only) */
	sqlite3_stmt *select;		/* a day's rows, for --dry-run */
	sqlite3_stmt *first;		/* first row of one probe, in index order */
	sqlite3_stmt *by_id;		/* one row, if it is still due */
	sqlite3_stmt *del;		/* the batch's rows, RETURNING them */
	sqlite3_stmt *intent, *done, *unreadable;
	bool exhausted[TS_TEXT_T + 1];	/* kinds with no due row left (find_day) */
};

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

/* Prepare sqlite3_mprintf() text, then free it. */
static int
prepare_owned(struct archiver *a, sqlite3_stmt **st, char *sql)
{
	int rc = sql ? db_prepare(a->db, st, sql) : J_SOFTWARE;

	sqlite3_free(sql);
	return rc;
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

/*
 * A day's due rows, by id.  The ids come from the index alone (the rowid is
 * in every index entry) and are sorted, so each batch is a run of nearby
 * ids: its deletes touch each table and index page once, not once per batch.
 * At most IDS_MAX ids are held; a larger day is done in several rounds.
 */
struct day_ids {
	int64_t *v;
	size_t n, pos;
	size_t take;		/* ids from pos in the current batch */
	bool more;		/* IDS_MAX reached: collect again afterwards */
};

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

int
archive_id_cmp(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
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

/* b->id_list = the batch's ids as a JSON array, for json_each(:ids). */
static int
id_list(struct batch *b)
{
	size_t need = b->n * 21 + 3, i;
	char *p;

	if (need > b->id_list.cap) {
		if ((p = realloc(b->id_list.p, need)) == NULL)
			return J_SOFTWARE;
		b->id_list.p = p;
		b->id_list.cap = need;
	}
	p = b->id_list.p;
	*p++ = '[';
	for (i = 0; i < b->n; i++)
		p += sprintf(p, "%s%lld", i ? "," : "", (long long)b->ids[i]);
	*p++ = ']';
	*p = '\0';
	b->id_list.len = (size_t)(p - b->id_list.p);
	return J_OK;
}

/* Step 1: read the next batch of ids (rows still due only) and encode it. */
static int
read_batch(struct archiver *a, struct stmts *s, const struct day_ids *d,
    int64_t lo, int64_t hi, struct batch *b)
{
	size_t i, end = d->pos + d->take;
	bool row;
	int rc;

	batch_reset(b);
	b->lo = lo;
	b->hi = hi;
	if (end > d->n)
		end = d->n;
	if ((rc = bind_interval(a, s->by_id, lo, hi)) != J_OK)
		return rc;
	/* Without an archive there is nothing to write first: the commit reads
	 * each row, still due or not, inside its own transaction. */
	if (a->dir == NULL) {
		for (i = d->pos; rc == J_OK && i < end; i++)
			rc = batch_add(b, d->v[i], 0);
		return rc == J_OK ? id_list(b) : rc;
	}
	if ((rc = db_exec(a->db, "BEGIN")) != J_OK)
		return rc;
	for (i = d->pos; rc == J_OK && i < end; i++) {
		rc = db_bind_int64(a->db, s->by_id, ":id", d->v[i]);
		if (rc == J_OK)
			rc = db_step(a->db, s->by_id, &row);
		if (rc == J_OK && row) {
			if (a->dir != NULL &&
			    jsonl_row(&b->json, s->by_id, a->ncols, a->names) != 0)
				rc = J_SOFTWARE;
			else
				rc = batch_add(b, d->v[i], jsonl_row_digest(s->by_id, a->ncols));
		}
		sqlite3_reset(s->by_id);
	}
	if (rc == J_OK && (rc = db_exec(a->db, "COMMIT")) == J_OK)
		return id_list(b);
	db_rollback(a->db);
	return rc;
}

/* Step 2: the manifest row that lets a later run clean up after a crash. */
static int
record_intent(struct archiver *a, struct stmts *s, const char *day,
    const char *path, int64_t *manifest_id)
{
	char now[32];
	int rc;

	runlog_clock(now);
	rc = db_bind_text(a->db, s->intent, ":job", a->job);
	if (rc == J_OK)
		rc = db_bind_text(a->db, s->intent, ":table", a->table);
	if (rc == J_OK)
		rc = db_bind_text(a->db, s->intent, ":day", day);
	if (rc == J_OK)
		rc = db_bind_text(a->db, s->intent, ":dir", a->dir_abs);
	if (rc == J_OK)
		rc = db_bind_text(a->db, s->intent, ":path", path);
	if (rc == J_OK)
		rc = db_bind_int64(a->db, s->intent, ":run", a->run->id);
	if (rc == J_OK)
		rc = db_bind_text(a->db, s->intent, ":now", now);
	if (rc == J_OK)
		rc = db_run_alone(a->db, s->intent, manifest_id);
	return rc;
}

/*
 * Step 4: in one transaction, prove every row unchanged, delete it, and mark
 * the file done.  *changed is set (and nothing kept) if a row moved on.
 */
static int
commit_batch(struct archiver *a, struct stmts *s, const struct batch *b,
    int64_t day_ms, bool last, int64_t manifest_id, int64_t bytes, bool *changed,
    bool *kept, size_t *deleted)
{
	char now[32];
	bool row;
	int rc;

	*changed = false;
	*kept = false;
	*deleted = 0;
	if ((rc = db_begin(a->db)) != J_OK)
		return rc;
	if (a->hooks.before_delete != NULL)
		rc = a->hooks.before_delete(a, day_ms, last);
	if (rc == J_OK && a->hooks.on_batch != NULL)
		rc = a->hooks.on_batch(a, b->id_list.p, b->lo, b->hi);
	if (rc == J_OK)
		rc = db_bind_text(a->db, s->del, ":ids", b->id_list.p);
	if (rc == J_OK && a->dir == NULL)
		rc = bind_interval(a, s->del, b->lo, b->hi);
	/* Every deleted row: with an archive, exactly the archived one. */
	while (rc == J_OK && (rc = db_step(a->db, s->del, &row)) == J_OK && row) {
		int64_t id = sqlite3_column_int64(s->del, a->dir ? a->id_col : 0);
		const int64_t *at = bsearch(&id, b->ids, b->n, sizeof(*b->ids),
		    archive_id_cmp);

		if (at == NULL) {
			snprintf(a->db->err, sizeof(a->db->err), "internal error: "
			    "deleted %s id %lld, not in the batch", a->table, (long long)id);
			rc = J_SOFTWARE;
		} else if (a->dir != NULL &&
		    jsonl_row_digest(s->del, a->ncols) != b->digests[at - b->ids]) {
			*changed = true;
		}
		(*deleted)++;
	}
	sqlite3_reset(s->del);
	/* A row that vanished was archived but is not ours to count. */
	if (rc == J_OK && a->dir != NULL && *deleted != b->n)
		*changed = true;
	if (*changed)
		*deleted = 0;
	if (rc == J_OK && !*changed && a->hooks.after_delete != NULL)
		rc = a->hooks.after_delete(a, day_ms);
	if (rc == J_OK && !*changed && manifest_id > 0) {
		runlog_clock(now);
		rc = db_bind_int64(a->db, s->done, ":rows", (int64_t)b->n);
		if (rc == J_OK)
			rc = db_bind_int64(a->db, s->done, ":min", b->min_id);
		if (rc == J_OK)
			rc = db_bind_int64(a->db, s->done, ":max", b->max_id);
		if (rc == J_OK)
			rc = db_bind_int64(a->db, s->done, ":bytes", bytes);
		if (rc == J_OK)
			rc = db_bind_text(a->db, s->done, ":now", now);
		if (rc == J_OK)
			rc = db_bind_int64(a->db, s->done, ":id", manifest_id);
		if (rc == J_OK)
			rc = db_run(a->db, s->done);
		if (rc == J_OK && sqlite3_changes(a->db->h) != 1) {
			snprintf(a->db->err, sizeof(a->db->err), "internal error: "
			    "archive_manifest row %lld is not 'writing'",
			    (long long)manifest_id);
			rc = J_SOFTWARE;
		}
	}
	if (rc == J_OK && !*changed) {
		/* COMMIT writes its frames, the commit frame last, and releases
		 * the lock; db_commit() then syncs.  A failed write means no
		 * complete commit frame: rolled back, the file can go.  A failed
		 * sync leaves a commit that is visible (or, in a rollback-journal
		 * database, that recovery might replay): keep the file, and let
		 * the next run's recovery decide from what is durable (a 'done'
		 * row keeps it, a 'writing' row removes it). */
		if ((rc = db_commit(a->db)) != J_OK && (a->db->committed ||
		    a->db->rc == SQLITE_IOERR_FSYNC || a->db->rc == SQLITE_IOERR_DIR_FSYNC))
			*kept = true;
		return rc;
	}
	db_rollback(a->db);
	return rc;
}

/* Undo steps 2-3 of a batch that will not be committed. */
static int
discard_file(struct archiver *a, const char *path, int64_t manifest_id)
{
	int rc = afile_remove(a, a->dir_abs, path);

	return rc == J_OK ? forget_manifest(a, manifest_id) : rc;
}

static void
note_day(struct archiver *a, int64_t day_ms)
{
	if (day_ms == NO_DAY)
		return;		/* counted in a->undated */
	/* Days before 1970 are negative: a count, not a sign, says "unset". */
	if (a->days == 0)
		a->first_day = day_ms;
	if (a->days == 0 || a->last_day != day_ms)
		a->days++;
	a->last_day = day_ms;
	ts_format_day(a->first_day, a->run->window_start);
	ts_format_day(a->last_day, a->run->window_end);
}

/* Add a committed batch to the run's totals. */
static void
count_batch(struct archiver *a, const struct batch *b, int64_t day_ms,
    const char *day, size_t deleted, int64_t bytes)
{
	a->rows += (int64_t)deleted;
	a->run->rows = a->rows;
	a->bytes += bytes;
	a->run->bytes = a->bytes;
	progress_update(&a->progress, a->rows);
	a->files += a->dir != NULL;
	if (day_ms == NO_DAY)
		a->undated += (int64_t)deleted;
	note_day(a, day_ms);
	log_debug("%s: archived %zu rows of %s (ids %lld..%lld), %lld bytes", day,
	    b->n, a->table, (long long)b->min_id, (long long)b->max_id,
	    (long long)bytes);
}

/* One batch of ids, steps 1 to 4. */
static int
do_batch(struct archiver *a, struct stmts *s, struct batch *b, int64_t day_ms,
    int64_t end, const struct day_ids *d, bool first)
{
	char day[32], name[160], path[256], rnd[9];
	int64_t manifest_id = 0, bytes = 0;
	int rc, tries;
	bool changed = true, kept = false;
	size_t deleted = 0;

	day_name(day_ms, day);
	for (tries = 0; changed && tries < VERIFY_RETRIES; tries++) {
		if ((rc = read_batch(a, s, d, day_ms, end, b)) != J_OK)
			return rc;
		if (b->n == 0)
			return J_OK;
		/* A day is judged only once it is known to hold rows. */
		if (first && tries == 0 && a->hooks.day_check != NULL &&
		    (rc = a->hooks.day_check(a, day_ms)) != J_OK)
			return rc;
		if ((rc = runlog_start(a->run)) != J_OK)
			return rc;
		if (a->dir != NULL) {
			afile_random_hex(rnd, sizeof(rnd));
			snprintf(name, sizeof(name), "%s-%lld-%lld-%s.jsonl.gz", a->dbid,
			    (long long)b->min_id, (long long)b->max_id, rnd);
			snprintf(path, sizeof(path), "%s/date=%s/%s", a->table, day, name);
			if ((rc = record_intent(a, s, day, path, &manifest_id)) != J_OK)
				return rc;
			if ((rc = afile_write(a, day, name, &b->json, &bytes)) != J_OK) {
				forget_manifest(a, manifest_id);
				return rc;
			}
		}
		rc = commit_batch(a, s, b, day_ms, !d->more &&
		    d->pos + d->take >= d->n, manifest_id, bytes,
		    &changed, &kept, &deleted);
		if ((rc != J_OK || changed) && a->dir != NULL && !kept) {
			int rc2 = discard_file(a, path, manifest_id);

			if (rc == J_OK)
				rc = rc2;
		}
		/* Committed, then its fsync failed: archived and deleted (unless
		 * a power cut undoes both), so counted. */
		if (rc != J_OK && kept && a->db->committed)
			count_batch(a, b, day_ms, day, deleted, bytes);
		if (rc != J_OK)
			return rc;
		if (changed)
			log_debug("%s: rows changed while being archived; reading "
			    "the batch again", day);
	}
	if (changed) {
		log_warn("%s: rows of %s keep changing while being archived; "
		    "left for the next run", day, a->table);
		return J_OK;
	}
	count_batch(a, b, day_ms, day, deleted, bytes);
	return J_OK;
}

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

/* --dry-run: count a day's rows and measure its compressed size. */
static int
dry_day(struct archiver *a, struct stmts *s, int64_t day_ms,
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
	note_day(a, day_ms);
	return J_OK;
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
		rc = do_batch(a, s, b, day, end, d, *first);
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

#define CHUNK_ROWS	((size_t)65536)	/* rows of a retired table read at once: 1 MB */

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

/*
 * --dry-run of a retired table: every row, measured as dry_day() measures a
 * day, in one read (a dry run writes nothing, so it holds no lock); its days
 * and its rows of unreadable time counted.  Files: at least one per day.
 */
static int
dry_all(struct archiver *a)
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
		rc = a->dry_run ? dry_all(a) : archive_all(a, &s, &b);
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
		rc = a->dry_run ? dry_day(a, &s, day, p, n) :
		    archive_day(a, &s, &b, day, end, p, n);
		if (rc != J_OK || a->stopped)
			break;
		lo = end;
	}
out:
	progress_end(&a->progress);
	stmts_free(&s);
	batch_free(&b);
	return rc;
}

/* The summary line of a retired table's pass (retire_table). */
static void
retired_summary(const struct job *j, struct archiver *a,
    const char *first, const char *last, char *summary, size_t size)
{
	const struct job_opts *o = j->o;
	char days[64] = "", left[128] = "";
	sqlite3_stmt *st = NULL;
	int64_t n = -1;

	/* What is left decides the advice: rows that kept changing while
	 * being archived wait for the next run. */
	if (!o->dry_run && !a->stopped && prepare_owned(a, &st,
	    sqlite3_mprintf("SELECT count(*) FROM \"%w\"", a->table)) == J_OK &&
	    db_step(a->db, st, &(bool){ false }) == J_OK)
		n = sqlite3_column_int64(st, 0);
	db_finalize(&st);
	if (n == 0)
		snprintf(left, sizeof(left), "; the table is empty: migrate can drop it");
	else if (n > 0)
		snprintf(left, sizeof(left), "; %lld rows are left (they changed while "
		    "being archived): run again", (long long)n);
	if (a->days > 0)
		snprintf(days, sizeof(days), " from %lld days (%s..%s)",
		    (long long)a->days, first, last);
	snprintf(summary, size, "%s %lld rows of %s %s %lld files (%lld bytes)%s, "
	    "%lld of them with an unreadable time (date=%s); %.2f s%s",
	    o->dry_run ? "would archive" : o->no_archive ? "deleted" : "archived",
	    (long long)a->rows, a->table, o->no_archive ? "without archive," :
	    o->dry_run ? "into about" : "into", (long long)a->files,
	    (long long)a->bytes, days, (long long)a->undated, ARCHIVE_NO_DAY,
	    job_seconds(j), a->stopped ? "; stopped at --max-runtime, the next run "
	    "goes on" : left);
}

int
archive_pass(struct job *j, const char *table, int64_t cutoff_ms,
    const struct archive_hooks *hooks, const char *row_filter, bool *stopped,
    char *summary, size_t size)
{
	const struct job_opts *o = j->o;
	struct archiver a;
	char cutoff[32], first[11] = "", last[11] = "";
	int rc;

	*stopped = false;
	rc = archive_open(&a, &j->db, &j->run, j->name, table,
	    o->no_archive ? NULL : o->archive_dir, o->batch_size);
	/* No file to order commits against: see db_relax_durability(). */
	if (rc == J_OK && o->no_archive && !o->dry_run)
		rc = db_relax_durability(&j->db);
	a.max_runtime = o->max_runtime;
	a.adapt = !o->batch_given;
	a.dry_run = o->dry_run;
	if (hooks != NULL)
		a.hooks = *hooks;
	a.row_filter = row_filter;
	if (rc == J_OK && !o->dry_run)
		rc = archive_recover(&a);
	if (rc == J_OK)
		rc = archive_run(&a, cutoff_ms);
	ts_format_iso(cutoff_ms, cutoff);
	if (a.days > 0) {
		ts_format_day(a.first_day, first);
		ts_format_day(a.last_day, last);
	}
	if (rc != J_OK)
		snprintf(summary, size, "%s (after %lld rows archived)",
		    archive_error(&a), (long long)a.rows);
	else if (a.retired)
		retired_summary(j, &a, first, last, summary, size);
	else if (a.rows == 0 && !a.stopped)
		snprintf(summary, size, "nothing to do: no %s rows before %s; %lld "
		    "unreadable timestamps", table, cutoff, (long long)a.unreadable);
	else
		snprintf(summary, size, "%s %lld rows of %s %s %lld files (%lld "
		    "bytes) from %lld days (%s..%s) before %s; %lld unreadable "
		    "timestamps; %.2f s%s",
		    o->dry_run ? "would archive" : o->no_archive ? "deleted" : "archived",
		    (long long)a.rows, table, o->no_archive ? "without archive," : "into",
		    (long long)a.files, (long long)a.bytes, (long long)a.days, first,
		    last, cutoff, (long long)a.unreadable, job_seconds(j),
		    a.stopped ? "; stopped at --max-runtime, the next run goes on" : "");
	*stopped = a.stopped;
	archive_close(&a);
	return rc;
}
