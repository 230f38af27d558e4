/*
 * SQLite access for the jobs, in the habits of Fossil's db layer: one open
 * function that sets every connection up the same way, named binds that fail
 * loudly, BEGIN IMMEDIATE for writes, explicit rollback, and finalize checks.
 * This file opens and closes, prepares and steps; the write transactions and
 * what paces them (the WAL bound, checkpoints, pauses for the app) are
 * db_write.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "db_impl.h"
#include "dbfile.h"
#include "status.h"
#include "tsprobe.h"

int64_t
db_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
db_status_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return J_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return J_TEMPFAIL;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_READONLY:
		return J_IOERR;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return J_NOINPUT;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
		return J_DATAERR;
	default:
		return J_SOFTWARE;
	}
}

int
db_fail(struct db *db, int rc, const char *what)
{
	const char *msg = db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc);
	int e = db->h ? sqlite3_system_errno(db->h) : 0;

	db->rc = rc;
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		snprintf(db->err, sizeof(db->err), "database '%s' %s: %s (busy "
		    "past the timeout; try again later)", db->path, what, msg);
	else if (e != 0)
		snprintf(db->err, sizeof(db->err), "database '%s' %s: %s "
		    "(sqlite error %d: %s)", db->path, what, msg, rc, strerror(e));
	else
		snprintf(db->err, sizeof(db->err), "database '%s' %s: %s "
		    "(sqlite error %d)", db->path, what, msg, rc);
	/* "Cannot open" with the database file itself there and readable is
	 * about its -wal or -shm file (a failed or full disk, a read-only
	 * directory): an I/O error (74), not a missing database (66). */
	if ((rc & 0xff) == SQLITE_CANTOPEN && access(db->path, R_OK) == 0)
		return J_IOERR;
	return db_status_of(rc);
}

static int
db_fail_msg(struct db *db, int status, const char *msg)
{
	snprintf(db->err, sizeof(db->err), "database '%s': %s", db->path, msg);
	return status;
}

int
db_open(struct db *db, const char *path, enum db_mode mode, long busy_ms)
{
	struct stat st;
	int flags, rc, on = 1, off = 0;

	memset(db, 0, sizeof(*db));
	db->path = path;
	db->busy_ms = busy_ms;
	if (mode != DB_CREATE) {
		if (stat(path, &st) != 0)
			return db_fail_msg(db, J_NOINPUT, errno == ENOENT ?
			    "does not exist" : strerror(errno));
		if (dbfile_check(path, &st, db->err, sizeof(db->err)) != J_OK)
			return J_NOINPUT;
	}
	flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	flags |= mode == DB_READ ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (mode == DB_CREATE)
		flags |= SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &db->h, flags, NULL);
	if (rc != SQLITE_OK) {
		rc = db_fail(db, rc, "cannot be opened");
		db_close(db);
		return rc == J_TEMPFAIL ? rc : J_NOINPUT;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, (int)busy_ms);
	/* Defensive: no writable_schema tricks, and no app-defined function runs
	 * from a trigger or view unless it is marked innocuous. */
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_DEFENSIVE, on, NULL);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, off, NULL);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, off, NULL);

	/* The first real read tells a non-database file apart (SQLITE_NOTADB). */
	rc = db_exec(db, "PRAGMA foreign_keys = ON; SELECT count(*) FROM sqlite_master;");
	if (rc != J_OK) {
		if ((db->rc & 0xff) == SQLITE_NOTADB || (db->rc & 0xff) == SQLITE_CORRUPT)
			db_fail_msg(db, J_NOINPUT, "is not an SQLite database (or is damaged)");
		sqlite3_close_v2(db->h);
		db->h = NULL;
		/* Busy and I/O errors (a full disk growing -shm) keep their codes. */
		return rc == J_TEMPFAIL || rc == J_IOERR ? rc : J_NOINPUT;
	}
	/* NORMAL, and db_commit() fsyncs the WAL itself once COMMIT has
	 * released the write lock: a commit is durable when db_commit()
	 * returns, as with FULL, but the app never waits for our fsync.  The
	 * archiver needs the durability: its 'writing' manifest row must
	 * survive a power cut before the file it names is created, or a lost
	 * row would orphan a complete file (docs/design.md, "Durability").  A 16 MB
	 * page cache (SPEC 7 allows a job 32 MB) keeps the index pages a batch
	 * of deletes walks in memory from one batch to the next.  (temp_store
	 * stays FILE: a batch's DELETE can need a statement journal of several
	 * MB, which in memory would take the job past 32 MB.) */
	if (mode != DB_READ && db_exec(db, "PRAGMA synchronous = NORMAL; "
	    "PRAGMA cache_size = -16384;") != J_OK) {
		rc = db_status_of(db->rc);
		db_close(db);
		return rc;
	}
	db->sync_commits = mode != DB_READ;
	/* We checkpoint ourselves, after each commit (db_commit), instead of
	 * SQLite doing it inside COMMIT: same work, but the write lock is
	 * already released, so the app never waits for it. */
	if (mode != DB_READ) {
		int64_t page = 0;

		sqlite3_wal_hook(db->h, db_wal_hook, db);
		if ((rc = db_query_int64(db, "PRAGMA page_size", &page, NULL)) != J_OK) {
			db_close(db);
			return rc;
		}
		/* A WAL file is a 32-byte header, then frames of a 24-byte
		 * header and a page. */
		db->wal_bound_kb = cli_test_knob("JOBS_TEST_WAL_BOUND_KB",
		    DB_WAL_BOUND_BYTES / 1024);
		db->wal_bound = (int)((db->wal_bound_kb * 1024 - 32) / (page + 24));
	}
	if (tsql_register(db->h) != SQLITE_OK) {
		rc = db_fail(db, sqlite3_errcode(db->h), "cannot register functions");
		db_close(db);
		return rc;
	}
	return J_OK;
}

int
db_close(struct db *db)
{
	sqlite3_stmt *st;
	int status = J_OK;

	if (db->h == NULL)
		return J_OK;
	if (db->in_write)
		db_rollback(db);
	db_checkpointer_stop(db);
	/* A statement still open here is a leak in the job: say so loudly. */
	while ((st = sqlite3_next_stmt(db->h, NULL)) != NULL) {
		snprintf(db->err, sizeof(db->err), "internal error: statement "
		    "not finalized: %s", sqlite3_sql(st));
		sqlite3_finalize(st);
		status = J_SOFTWARE;
	}
	sqlite3_close_v2(db->h);
	db->h = NULL;
	return status;
}

int
db_exec(struct db *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);

	sqlite3_free(msg);
	if (rc != SQLITE_OK)
		return db_fail(db, sqlite3_extended_errcode(db->h), "query failed");
	return J_OK;
}

int
db_prepare(struct db *db, sqlite3_stmt **st, const char *sql)
{
	int rc = sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);

	if (rc != SQLITE_OK) {
		*st = NULL;
		return db_fail(db, sqlite3_extended_errcode(db->h), "cannot prepare a query");
	}
	return J_OK;
}

int
db_step(struct db *db, sqlite3_stmt *st, bool *row)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		*row = true;
		return J_OK;
	}
	*row = false;
	if (rc == SQLITE_DONE)
		return J_OK;
	rc = sqlite3_extended_errcode(db->h);
	sqlite3_reset(st);
	return db_fail(db, rc, "query failed");
}

int
db_run(struct db *db, sqlite3_stmt *st)
{
	bool row;
	int rc = db_step(db, st, &row);

	sqlite3_reset(st);
	return rc;
}

static int
bind_index(struct db *db, sqlite3_stmt *st, const char *name)
{
	int i = sqlite3_bind_parameter_index(st, name);

	if (i == 0)
		snprintf(db->err, sizeof(db->err), "internal error: no parameter "
		    "%s in: %s", name, sqlite3_sql(st));
	return i;
}

#define BIND_FN(fname, type, call)					\
	int fname(struct db *db, sqlite3_stmt *st, const char *name, type v) \
	{								\
		int i = bind_index(db, st, name), rc;			\
		if (i == 0)						\
			return J_SOFTWARE;				\
		rc = call;						\
		return rc == SQLITE_OK ? J_OK : db_fail(db, rc, "bind failed"); \
	}

BIND_FN(db_bind_int64, int64_t, sqlite3_bind_int64(st, i, v))
BIND_FN(db_bind_double, double, sqlite3_bind_double(st, i, v))
BIND_FN(db_bind_text, const char *, sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT))


void
db_finalize(sqlite3_stmt **st)
{
	if (*st != NULL)
		sqlite3_finalize(*st);
	*st = NULL;
}

int
db_query_int64(struct db *db, const char *sql, int64_t *out, bool *found)
{
	sqlite3_stmt *st;
	bool row = false;
	int rc = db_prepare(db, &st, sql);

	if (rc != J_OK)
		return rc;
	rc = db_step(db, st, &row);
	if (rc == J_OK && row)
		*out = sqlite3_column_int64(st, 0);
	if (found != NULL)
		*found = row;
	db_finalize(&st);
	return rc;
}

int
db_table_exists(struct db *db, const char *name, bool *exists)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &st, "SELECT 1 FROM sqlite_master "
	    "WHERE type = 'table' AND name = :name");

	if (rc == J_OK)
		rc = db_bind_text(db, st, ":name", name);
	if (rc == J_OK)
		rc = db_step(db, st, exists);
	db_finalize(&st);
	return rc;
}
