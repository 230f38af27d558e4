/*
 * The archiver (see archive.h for the exactly-once protocol).  Files are made
 * the way Redis's rdbSave() makes them: a temporary name, fsync, then a link
 * to the final name and an fsync of the directory, one error path that removes
 * the temporary file.  Directories are walked with O_NOFOLLOW, so a planted
 * symlink can never redirect an archive.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "archive.h"
#include "job.h"
#include "log.h"
#include "status.h"
#include "timefmt.h"

#define GZ_LEVEL	"wb6"		/* gzip -6: SPEC 7 compares sizes against it */
#define GZ_BUFFER	(128 * 1024)	/* bytes: fewer write(2) calls */
#define VERIFY_RETRIES	3		/* re-reads of a batch whose rows changed */
#define DIR_MODE	0750		/* archive directories: not world-readable */
#define FILE_MODE	0600		/* archive files hold personal data */

struct table_def {
	const char *table, *column;
};

/* The only tables the archiver touches: names never come from input. */
static const struct table_def tables[] = {
	{ "analytics_events", "created_at" },
	{ "system_logs", "created_at" },
	{ "product_reservations", "expires_at" },
};

struct batch {
	int64_t *ids;
	uint64_t *digests;
	size_t n, cap;
	struct jbuf json;
	int64_t min_id, max_id;
};

static int
fail_errno(struct archiver *a, int status, const char *what, const char *path)
{
	int e = errno;

	snprintf(a->err, sizeof(a->err), "cannot %s '%s%s%s': %s", what,
	    a->dir_abs, path[0] ? "/" : "", path, strerror(e));
	errno = e;
	return status;
}

/* Disk full and I/O errors are 74; anything else about files is 73. */
static int
io_status(int e)
{
	return (e == ENOSPC || e == EIO || e == EDQUOT || e == EFBIG || e == EROFS) ?
	    J_IOERR : J_CANTCREAT;
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

static int
read_dbid(struct archiver *a)
{
	sqlite3_stmt *st;
	const unsigned char *v;
	bool row;
	int rc;

	rc = db_prepare(a->db, &st, "SELECT value FROM jobs_meta WHERE key = 'database_id'");
	if (rc == J_OK)
		rc = db_step(a->db, st, &row);
	if (rc == J_OK) {
		v = row ? sqlite3_column_text(st, 0) : NULL;
		/* It goes into file names: hex only. */
		if (v == NULL || strlen((const char *)v) == 0 ||
		    strlen((const char *)v) >= sizeof(a->dbid) ||
		    strspn((const char *)v, "0123456789abcdef") != strlen((const char *)v)) {
			snprintf(a->err, sizeof(a->err), "jobs_meta.database_id is "
			    "missing or not hex: run migrate");
			rc = J_CONFIG;
		} else {
			snprintf(a->dbid, sizeof(a->dbid), "%s", (const char *)v);
		}
	}
	db_finalize(&st);
	return rc;
}

int
archive_open(struct archiver *a, struct db *db, struct runlog *run,
    const char *job, const char *table, const char *dir, long batch_size)
{
	struct stat sb;
	size_t i;
	int rc;

	memset(a, 0, sizeof(*a));
	a->db = db;
	a->run = run;
	a->job = job;
	a->dir = dir;
	a->dirfd = -1;
	a->batch_size = batch_size;
	a->first_day = a->last_day = -1;
	a->started = db_mono_ms();
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (strcmp(tables[i].table, table) == 0) {
			a->table = tables[i].table;
			a->column = tables[i].column;
		}
	if (a->table == NULL)
		return J_SOFTWARE;
	/* A file size limit must give EFBIG (reported, nothing deleted), not
	 * kill the process halfway. */
	signal(SIGXFSZ, SIG_IGN);

	if (dir != NULL) {
		if (stat(dir, &sb) != 0)
			return fail_errno(a, J_CANTCREAT, "use archive directory", "");
		if (!S_ISDIR(sb.st_mode)) {
			snprintf(a->err, sizeof(a->err), "archive directory '%s' is "
			    "not a directory", dir);
			return J_CANTCREAT;
		}
		if (realpath(dir, a->dir_abs) == NULL ||
		    (a->dirfd = open(a->dir_abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			return fail_errno(a, J_CANTCREAT, "open archive directory", "");
		if (faccessat(a->dirfd, ".", W_OK | X_OK, AT_EACCESS) != 0)
			return fail_errno(a, J_CANTCREAT, "write to archive directory", "");
	}
	if ((rc = read_columns(a)) != J_OK || (rc = read_dbid(a)) != J_OK)
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

/*
 * Open (creating if asked) one directory level below dfd without following
 * a symlink.  A directory we create is made durable by fsync of its parent.
 */
static int
open_subdir(int dfd, const char *name, bool create)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0 || errno != ENOENT || !create)
		return fd;
	if (mkdirat(dfd, name, DIR_MODE) != 0 && errno != EEXIST)
		return -1;
	if (fsync(dfd) != 0)
		return -1;
	return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* <root>/<table>/date=<day>, opened; -1 with errno on failure. */
static int
open_partition(int rootfd, const char *table, const char *day, bool create)
{
	char part[32];
	int tfd, pfd, e;

	if ((tfd = open_subdir(rootfd, table, create)) < 0)
		return -1;
	snprintf(part, sizeof(part), "date=%s", day);
	pfd = open_subdir(tfd, part, create);
	e = errno;
	close(tfd);
	errno = e;
	return pfd;
}

static void
random_hex(char *out, size_t size)
{
	unsigned char r[4];
	size_t i;

	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		unsigned v = (unsigned)getpid() ^ (unsigned)db_mono_ms();

		memcpy(r, &v, sizeof(r));
	}
	for (i = 0; i < sizeof(r) && 2 * i + 2 < size; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/*
 * Write buf as gzip to <partition>/<name>, durably (archive.h step 3).  On
 * failure nothing is left behind under either name.
 */
static int
write_file(struct archiver *a, const char *day, const char *name,
    const struct jbuf *buf, int64_t *bytes)
{
	char tmp[256], rel[512];
	struct stat sb;
	gzFile gz = NULL;
	int pfd, fd = -1, gfd, status = J_OK, e;
	bool linked = false;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	snprintf(rel, sizeof(rel), "%s/date=%s/%s", a->table, day, tmp);
	if ((pfd = open_partition(a->dirfd, a->table, day, true)) < 0)
		return fail_errno(a, io_status(errno), "create directory for", rel);
	fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    FILE_MODE);
	if (fd < 0) {
		status = fail_errno(a, io_status(errno), "create", rel);
		close(pfd);
		return status;
	}
	/* gzclose() closes its descriptor; keep ours for the fsync. */
	if ((gfd = dup(fd)) < 0 || (gz = gzdopen(gfd, GZ_LEVEL)) == NULL) {
		e = errno;
		if (gfd >= 0)
			close(gfd);
		errno = e ? e : ENOMEM;
		status = fail_errno(a, io_status(errno), "write", rel);
		goto out;
	}
	gzbuffer(gz, GZ_BUFFER);
	errno = 0;
	if (buf->len > 0 && gzwrite(gz, buf->p, (unsigned)buf->len) != (int)buf->len) {
		e = errno ? errno : EIO;
		gzclose(gz);
		errno = e;
		status = fail_errno(a, io_status(e), "write", rel);
		goto out;
	}
	/* A full disk often shows only here, when the last block is flushed. */
	errno = 0;
	if (gzclose(gz) != Z_OK) {
		e = errno ? errno : EIO;
		errno = e;
		status = fail_errno(a, io_status(e), "write", rel);
		goto out;
	}
	/* Never retry a failed fsync: the page cache may have dropped the data. */
	if (fsync(fd) != 0 || fstat(fd, &sb) != 0) {
		status = fail_errno(a, io_status(errno), "sync", rel);
		goto out;
	}
	*bytes = sb.st_size;
	snprintf(rel, sizeof(rel), "%s/date=%s/%s", a->table, day, name);
	if (linkat(pfd, tmp, pfd, name, 0) != 0) {
		status = fail_errno(a, io_status(errno), "create", rel);
		goto out;
	}
	linked = true;
	if (unlinkat(pfd, tmp, 0) != 0 || fsync(pfd) != 0) {
		status = fail_errno(a, io_status(errno), "sync directory of", rel);
		goto out;
	}
out:
	if (status != J_OK) {
		e = errno;
		unlinkat(pfd, tmp, 0);
		if (linked)
			unlinkat(pfd, name, 0);
		errno = e;
	}
	if (fd >= 0)
		close(fd);
	close(pfd);
	return status;
}

/* Remove an unfinished archive file (both names); ENOENT is fine. */
static int
remove_file(struct archiver *a, const char *archive_dir, const char *path)
{
	char dirpart[512], tmp[300], *slash;
	const char *name;
	int rootfd, tfd, pfd, status = J_OK;

	snprintf(dirpart, sizeof(dirpart), "%s", path);
	if ((slash = strrchr(dirpart, '/')) == NULL)
		return J_SOFTWARE;
	*slash = '\0';
	name = slash + 1;
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	if ((rootfd = open(archive_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(a->err, sizeof(a->err), "cannot clean up after a crashed "
		    "run: archive directory '%s': %s", archive_dir, strerror(errno));
		return J_CANTCREAT;
	}
	/* dirpart is "<table>/date=<day>": walk it without following links. */
	slash = strchr(dirpart, '/');
	if (slash == NULL) {
		close(rootfd);
		return J_SOFTWARE;
	}
	*slash = '\0';
	tfd = open_subdir(rootfd, dirpart, false);
	pfd = tfd >= 0 ? open_subdir(tfd, slash + 1, false) : -1;
	if (pfd < 0 && errno != ENOENT) {
		snprintf(a->err, sizeof(a->err), "cannot clean up '%s/%s': %s",
		    archive_dir, path, strerror(errno));
		status = J_CANTCREAT;
	} else if (pfd >= 0) {
		if ((unlinkat(pfd, name, 0) != 0 && errno != ENOENT) ||
		    (unlinkat(pfd, tmp, 0) != 0 && errno != ENOENT) || fsync(pfd) != 0) {
			snprintf(a->err, sizeof(a->err), "cannot remove unfinished "
			    "archive '%s/%s': %s", archive_dir, path, strerror(errno));
			status = io_status(errno);
		}
		close(pfd);
	}
	if (tfd >= 0)
		close(tfd);
	close(rootfd);
	return status;
}

static int
forget_manifest(struct archiver *a, int64_t id)
{
	sqlite3_stmt *st;
	int rc = db_prepare(a->db, &st, "DELETE FROM archive_manifest WHERE id = :id "
	    "AND state = 'writing'");

	if (rc == J_OK)
		rc = db_bind_int64(a->db, st, ":id", id);
	if (rc == J_OK && (rc = db_begin(a->db)) == J_OK) {
		rc = db_run(a->db, st);
		rc = rc == J_OK ? db_commit(a->db) : (db_rollback(a->db), rc);
	}
	db_finalize(&st);
	return rc;
}

int
archive_recover(struct archiver *a)
{
	sqlite3_stmt *st;
	int64_t id;
	bool row;
	int rc;

	rc = db_prepare(a->db, &st, "SELECT id, archive_dir, path FROM "
	    "archive_manifest WHERE table_name = :t AND state = 'writing' "
	    "ORDER BY id LIMIT 1");
	if (rc == J_OK)
		rc = db_bind_text(a->db, st, ":t", a->table);
	while (rc == J_OK && (rc = db_step(a->db, st, &row)) == J_OK && row) {
		char dir[4096], path[1024];

		id = sqlite3_column_int64(st, 0);
		snprintf(dir, sizeof(dir), "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(path, sizeof(path), "%s", (const char *)sqlite3_column_text(st, 2));
		sqlite3_reset(st);
		/* The rows of an unfinished file are all still in the table:
		 * remove the file first, then its manifest row. */
		if ((rc = remove_file(a, dir, path)) != J_OK)
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
	b->min_id = INT64_MAX;
	b->max_id = INT64_MIN;
}

static void
batch_free(struct batch *b)
{
	free(b->ids);
	free(b->digests);
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

/* Statements of one run, rebuilt when the number of probes changes. */
struct stmts {
	int nday;			/* probes in `select` */
	sqlite3_stmt *select;		/* one batch of a day's rows */
	sqlite3_stmt *first;		/* first row of one probe, in index order */
	sqlite3_stmt *verify;		/* a row by id, inside the commit */
	sqlite3_stmt *del;
	sqlite3_stmt *intent, *done;
};

static void
stmts_free(struct stmts *s)
{
	db_finalize(&s->select);
	db_finalize(&s->first);
	db_finalize(&s->verify);
	db_finalize(&s->del);
	db_finalize(&s->intent);
	db_finalize(&s->done);
}

static int
stmts_prepare(struct archiver *a, struct stmts *s)
{
	char *sql;
	int rc;

	memset(s, 0, sizeof(*s));
	sql = sqlite3_mprintf("SELECT \"%w\" FROM \"%w\" WHERE \"%w\" >= ?1 AND "
	    "\"%w\" < ?2 AND ts_in(\"%w\", ?3, ?4, ?5)%s%s%s ORDER BY \"%w\" "
	    "LIMIT 1", a->column, a->table, a->column, a->column, a->column,
	    a->row_filter ? " AND (" : "", a->row_filter ? a->row_filter : "",
	    a->row_filter ? ")" : "", a->column);
	rc = sql ? db_prepare(a->db, &s->first, sql) : J_SOFTWARE;
	sqlite3_free(sql);
	sql = sqlite3_mprintf("SELECT * FROM \"%w\" WHERE id = :id", a->table);
	if (rc == J_OK)
		rc = sql ? db_prepare(a->db, &s->verify, sql) : J_SOFTWARE;
	sqlite3_free(sql);
	sql = sqlite3_mprintf("DELETE FROM \"%w\" WHERE id = :id", a->table);
	if (rc == J_OK)
		rc = sql ? db_prepare(a->db, &s->del, sql) : J_SOFTWARE;
	sqlite3_free(sql);
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
prepare_day_select(struct archiver *a, struct stmts *s, int n)
{
	char *u, *sql;
	int rc;

	if (s->nday == n)
		return J_OK;
	db_finalize(&s->select);
	s->nday = 0;
	u = tsprobe_union_sql("*", a->table, a->column, a->row_filter, n);
	sql = u ? sqlite3_mprintf("%s LIMIT ?%d", u, 5 * n + 1) : NULL;
	rc = sql ? db_prepare(a->db, &s->select, sql) : J_SOFTWARE;
	sqlite3_free(sql);
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
 * step back two days: no earlier day can hold such a row.  Returns J_OK with
 * *day_ms = -1 when nothing is left.
 */
static int
find_day(struct archiver *a, struct stmts *s, int64_t lo_ms, int64_t cutoff,
    int64_t *day_ms)
{
	struct tsprobe p[TSPROBE_MAX];
	int i, n, rc = J_OK;
	bool row;

	*day_ms = -1;
	n = tsprobe_interval(lo_ms, cutoff, a->aff, p, TSPROBE_MAX);
	if (n < 0)
		return J_SOFTWARE;
	for (i = 0; i < n && rc == J_OK; i++) {
		struct ts t;
		int64_t d;

		if (tsprobe_bind(s->first, &p[i], 1) != SQLITE_OK)
			return db_fail(a->db, sqlite3_errcode(a->db->h), "bind failed");
		rc = db_step(a->db, s->first, &row);
		if (rc == J_OK && row && tsql_parse_column(s->first, 0, &t) != TS_INVALID) {
			d = ts_floor_day(t.ms);
			if (t.kind == TS_TEXT_SPACE || t.kind == TS_TEXT_T)
				d -= 2 * TS_MS_PER_DAY;
			if (d < ts_floor_day(lo_ms))
				d = ts_floor_day(lo_ms);
			if (*day_ms < 0 || d < *day_ms)
				*day_ms = d;
		}
		sqlite3_reset(s->first);
	}
	return rc;
}

static bool
out_of_time(struct archiver *a)
{
	return a->max_runtime > 0 &&
	    db_mono_ms() - a->started >= a->max_runtime * 1000;
}

/* Step 1: read one batch of the day's rows and encode them. */
static int
read_batch(struct archiver *a, struct stmts *s, const struct tsprobe *p, int n,
    struct batch *b)
{
	bool row;
	int rc;

	batch_reset(b);
	if (tsprobe_bind(s->select, p, n) != SQLITE_OK ||
	    sqlite3_bind_int64(s->select, 5 * n + 1, a->batch_size) != SQLITE_OK)
		return db_fail(a->db, sqlite3_errcode(a->db->h), "bind failed");
	if ((rc = db_exec(a->db, "BEGIN")) != J_OK)
		return rc;
	while ((rc = db_step(a->db, s->select, &row)) == J_OK && row) {
		int64_t id = sqlite3_column_int64(s->select, a->id_col);

		if (a->dir != NULL && jsonl_row(&b->json, s->select, a->ncols, a->names) != 0) {
			rc = J_SOFTWARE;
			break;
		}
		if ((rc = batch_add(b, id, jsonl_row_digest(s->select, a->ncols))) != J_OK)
			break;
	}
	sqlite3_reset(s->select);
	if (rc == J_OK)
		return db_exec(a->db, "COMMIT");
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
	if (rc == J_OK && (rc = db_begin(a->db)) == J_OK) {
		rc = db_run(a->db, s->intent);
		*manifest_id = sqlite3_last_insert_rowid(a->db->h);
		rc = rc == J_OK ? db_commit(a->db) : (db_rollback(a->db), rc);
	}
	return rc;
}

/*
 * Step 4: in one transaction, prove every row unchanged, delete it, and mark
 * the file done.  *changed is set (and nothing kept) if a row moved on.
 */
static int
commit_batch(struct archiver *a, struct stmts *s, const struct batch *b,
    int64_t day_ms, bool last, int64_t manifest_id, int64_t bytes, bool *changed)
{
	char now[32];
	size_t i;
	bool row;
	int rc;

	*changed = false;
	if ((rc = db_begin(a->db)) != J_OK)
		return rc;
	if (a->hooks.before_delete != NULL)
		rc = a->hooks.before_delete(a, day_ms, last);
	for (i = 0; rc == J_OK && i < b->n; i++) {
		rc = db_bind_int64(a->db, s->verify, ":id", b->ids[i]);
		if (rc == J_OK)
			rc = db_step(a->db, s->verify, &row);
		if (rc == J_OK && (!row ||
		    jsonl_row_digest(s->verify, a->ncols) != b->digests[i])) {
			*changed = true;
			sqlite3_reset(s->verify);
			break;
		}
		if (rc == J_OK && a->hooks.on_row != NULL)
			rc = a->hooks.on_row(a, s->verify);
		sqlite3_reset(s->verify);
		if (rc == J_OK)
			rc = db_bind_int64(a->db, s->del, ":id", b->ids[i]);
		if (rc == J_OK)
			rc = db_run(a->db, s->del);
		if (rc == J_OK && sqlite3_changes(a->db->h) != 1) {
			snprintf(a->db->err, sizeof(a->db->err), "internal error: "
			    "deleting %s id %lld changed %d rows", a->table,
			    (long long)b->ids[i], sqlite3_changes(a->db->h));
			rc = J_SOFTWARE;
		}
	}
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
	if (rc == J_OK && !*changed)
		return db_commit(a->db);
	db_rollback(a->db);
	return rc;
}

/* Undo steps 2-3 of a batch that will not be committed. */
static int
discard_file(struct archiver *a, const char *path, int64_t manifest_id)
{
	int rc = remove_file(a, a->dir_abs, path);

	return rc == J_OK ? forget_manifest(a, manifest_id) : rc;
}

static void
note_day(struct archiver *a, int64_t day_ms)
{
	if (a->first_day < 0)
		a->first_day = day_ms;
	if (a->last_day != day_ms)
		a->days++;
	a->last_day = day_ms;
	ts_format_day(a->first_day, a->run->window_start);
	ts_format_day(a->last_day, a->run->window_end);
}

/* One batch, steps 1 to 4; *n_read gets the rows read (0: the day is done). */
static int
do_batch(struct archiver *a, struct stmts *s, struct batch *b, int64_t day_ms,
    const struct tsprobe *p, int n, bool first, size_t *n_read)
{
	char day[11], name[160], path[256], rnd[9];
	int64_t manifest_id = 0, bytes = 0;
	int rc, tries;
	bool changed = true;

	ts_format_day(day_ms, day);
	for (tries = 0; changed && tries < VERIFY_RETRIES; tries++) {
		if ((rc = read_batch(a, s, p, n, b)) != J_OK)
			return rc;
		*n_read = b->n;
		if (b->n == 0)
			return J_OK;
		/* A day is judged only once it is known to hold rows. */
		if (first && tries == 0 && a->hooks.day_check != NULL &&
		    (rc = a->hooks.day_check(a, day_ms)) != J_OK)
			return rc;
		if ((rc = runlog_start(a->run)) != J_OK)
			return rc;
		if (a->dir != NULL) {
			random_hex(rnd, sizeof(rnd));
			snprintf(name, sizeof(name), "%s-%lld-%lld-%s.jsonl.gz", a->dbid,
			    (long long)b->min_id, (long long)b->max_id, rnd);
			snprintf(path, sizeof(path), "%s/date=%s/%s", a->table, day, name);
			if ((rc = record_intent(a, s, day, path, &manifest_id)) != J_OK)
				return rc;
			if ((rc = write_file(a, day, name, &b->json, &bytes)) != J_OK) {
				forget_manifest(a, manifest_id);
				return rc;
			}
		}
		rc = commit_batch(a, s, b, day_ms, b->n < (size_t)a->batch_size,
		    manifest_id, bytes, &changed);
		if ((rc != J_OK || changed) && a->dir != NULL) {
			int rc2 = discard_file(a, path, manifest_id);

			if (rc == J_OK)
				rc = rc2;
		}
		if (rc != J_OK)
			return rc;
		if (changed)
			log_debug("%s: rows changed while being archived; reading "
			    "the batch again", day);
	}
	if (changed) {
		log_warn("%s: rows of %s keep changing while being archived; "
		    "left for the next run", day, a->table);
		*n_read = 0;
		return J_OK;
	}
	a->rows += (int64_t)b->n;
	a->run->rows = a->rows;
	a->bytes += bytes;
	a->files += a->dir != NULL;
	note_day(a, day_ms);
	log_debug("%s: archived %zu rows of %s (ids %lld..%lld), %lld bytes", day,
	    b->n, a->table, (long long)b->min_id, (long long)b->max_id,
	    (long long)bytes);
	return J_OK;
}

/* --dry-run: count a day's rows and measure its compressed size. */
static int
dry_day(struct archiver *a, struct stmts *s, int64_t day_ms,
    const struct tsprobe *p, int n)
{
	struct jbuf json = { NULL, 0, 0 };
	z_stream z;
	unsigned char out[16384];
	int64_t rows = 0, zbytes = 0;
	char day[11];
	bool row;
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return J_SOFTWARE;
	if (tsprobe_bind(s->select, p, n) != SQLITE_OK ||
	    sqlite3_bind_int64(s->select, 5 * n + 1, INT64_MAX) != SQLITE_OK) {
		deflateEnd(&z);
		return db_fail(a->db, sqlite3_errcode(a->db->h), "bind failed");
	}
	while ((rc = db_step(a->db, s->select, &row)) == J_OK && row) {
		json.len = 0;
		if (jsonl_row(&json, s->select, a->ncols, a->names) != 0) {
			rc = J_SOFTWARE;
			break;
		}
		rows++;
		z.next_in = (unsigned char *)json.p;
		z.avail_in = (unsigned)json.len;
		do {
			z.next_out = out;
			z.avail_out = sizeof(out);
			deflate(&z, Z_NO_FLUSH);
			zbytes += (int64_t)(sizeof(out) - z.avail_out);
		} while (z.avail_out == 0);
	}
	sqlite3_reset(s->select);
	do {
		z.next_out = out;
		z.avail_out = sizeof(out);
		deflate(&z, Z_FINISH);
		zbytes += (int64_t)(sizeof(out) - z.avail_out);
	} while (z.avail_out == 0);
	deflateEnd(&z);
	jbuf_free(&json);
	if (rc != J_OK || rows == 0)
		return rc;
	if (a->hooks.day_check != NULL && (rc = a->hooks.day_check(a, day_ms)) != J_OK)
		return rc;
	ts_format_day(day_ms, day);
	log_info("would archive %s: %lld rows of %s in %lld files, about %lld "
	    "bytes", day, (long long)rows, a->table,
	    (long long)((rows + a->batch_size - 1) / a->batch_size),
	    a->dir ? (long long)zbytes : 0LL);
	a->rows += rows;
	a->files += a->dir ? (rows + a->batch_size - 1) / a->batch_size : 0;
	a->bytes += a->dir ? zbytes : 0;
	note_day(a, day_ms);
	return J_OK;
}

int
archive_run(struct archiver *a, int64_t cutoff)
{
	struct stmts s;
	struct batch b;
	struct tsprobe p[TSPROBE_MAX];
	int64_t lo = TS_MIN_MS, day;
	size_t n_read;
	int rc, n;

	memset(&b, 0, sizeof(b));
	if ((rc = stmts_prepare(a, &s)) != J_OK)
		goto out;
	while ((rc = find_day(a, &s, lo, cutoff, &day)) == J_OK && day >= 0) {
		int64_t end = day + TS_MS_PER_DAY < cutoff ? day + TS_MS_PER_DAY : cutoff;

		if ((n = tsprobe_interval(day, end, a->aff, p, TSPROBE_MAX)) <= 0) {
			rc = J_SOFTWARE;
			break;
		}
		if ((rc = prepare_day_select(a, &s, n)) != J_OK)
			break;
		if (a->dry_run) {
			rc = dry_day(a, &s, day, p, n);
		} else {
			bool first = true;

			do {
				if (out_of_time(a)) {
					a->stopped = true;
					break;
				}
				rc = do_batch(a, &s, &b, day, p, n, first, &n_read);
				first = false;
			} while (rc == J_OK && n_read == (size_t)a->batch_size);
		}
		if (rc != J_OK || a->stopped)
			break;
		lo = end;
	}
out:
	stmts_free(&s);
	batch_free(&b);
	return rc;
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
	a.max_runtime = o->max_runtime;
	a.dry_run = o->dry_run;
	if (hooks != NULL)
		a.hooks = *hooks;
	a.row_filter = row_filter;
	if (rc == J_OK && !o->dry_run)
		rc = archive_recover(&a);
	if (rc == J_OK)
		rc = archive_run(&a, cutoff_ms);
	ts_format_iso(cutoff_ms, cutoff);
	if (a.first_day >= 0) {
		ts_format_day(a.first_day, first);
		ts_format_day(a.last_day, last);
	}
	if (rc != J_OK)
		snprintf(summary, size, "%s (after %lld rows archived)",
		    archive_error(&a), (long long)a.rows);
	else if (a.rows == 0 && !a.stopped)
		snprintf(summary, size, "nothing to do: no %s rows before %s",
		    table, cutoff);
	else
		snprintf(summary, size, "%s %lld rows of %s %s %lld files (%lld "
		    "bytes) from %lld days (%s..%s) before %s; %.2f s%s",
		    o->dry_run ? "would archive" : o->no_archive ? "deleted" : "archived",
		    (long long)a.rows, table, o->no_archive ? "without archive," : "into",
		    (long long)a.files, (long long)a.bytes, (long long)a.days, first,
		    last, cutoff, job_seconds(j),
		    a.stopped ? "; stopped at --max-runtime, the next run goes on" : "");
	*stopped = a.stopped;
	archive_close(&a);
	return rc;
}
