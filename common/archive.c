/*
 * The archiver (see archive.h for the exactly-once protocol): setting it up
 * for a table, and the batch, steps 1 to 4, that moves rows exactly once.
 * The walk that hands it batches, day by day, is archive_run.c.  Files are
 * made (archive_file.c) the way Redis's rdbSave() makes them: a temporary
 * name, fsync, then a link to the final name and an fsync of the directory,
 * one error path that removes the temporary file.  Directories are walked
 * with O_NOFOLLOW, so a planted symlink can never redirect an archive.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "archive_file.h"
#include "archive_impl.h"
#include "dbfile.h"
#include "log.h"
#include "progress.h"
#include "status.h"
#include "timefmt.h"

#define VERIFY_RETRIES	3		/* re-reads of a batch whose rows changed */

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

/*
 * Bind a batch's interval: [lo, hi), or NULL for NO_DAY, which the
 * statements read as "rows whose time cannot be read" (see stmts_prepare(),
 * archive_run.c).
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

static void
batch_reset(struct batch *b)
{
	b->n = 0;
	b->json.len = 0;
	b->id_list.len = 0;
	b->min_id = INT64_MAX;
	b->max_id = INT64_MIN;
}

void
archive_batch_free(struct batch *b)
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

int
archive_id_cmp(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
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

	return rc == J_OK ? archive_forget_manifest(a, manifest_id) : rc;
}

void
archive_note_day(struct archiver *a, int64_t day_ms)
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
	archive_note_day(a, day_ms);
	log_debug("%s: archived %zu rows of %s (ids %lld..%lld), %lld bytes", day,
	    b->n, a->table, (long long)b->min_id, (long long)b->max_id,
	    (long long)bytes);
}

int
archive_do_batch(struct archiver *a, struct stmts *s, struct batch *b,
    int64_t day_ms, int64_t end, const struct day_ids *d, bool first)
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
				archive_forget_manifest(a, manifest_id);
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
