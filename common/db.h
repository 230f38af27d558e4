/*
 * The database layer every job uses: one db_open() that sets foreign keys,
 * the busy timeout and the defensive options, statements with named binds
 * that fail loudly on a wrong name, and BEGIN IMMEDIATE write transactions
 * with a rollback that copes with SQLite having rolled back on its own.
 * Every failure keeps SQLite's extended code and message in db->err, as one
 * line naming the database, and is mapped to a status code of status.h.
 */
#ifndef JOBS_DB_H
#define JOBS_DB_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

enum db_mode {
	DB_READ,	/* read-only (--dry-run, status tools) */
	DB_WRITE,	/* read-write; the file must exist */
	DB_CREATE,	/* read-write, create if missing (migrate only) */
};

struct checkpointer;

struct db {
	sqlite3 *h;
	const char *path;	/* borrowed from the caller */
	int rc;			/* last SQLite extended result code */
	char err[1024];		/* last error, one line, ready to print */
	bool in_write;		/* inside db_begin() .. db_commit()/db_rollback() */
	int64_t write_started;	/* monotonic ms when the write began */
	int64_t longest_write;	/* milliseconds, longest write transaction so far */
	int64_t last_write;	/* milliseconds, the last write transaction */
	int wal_frames;		/* frames in the WAL after our last commit */
	struct checkpointer *ckpt;	/* the checkpoint thread, once started */
	bool ckpt_failed;	/* it could not start: checkpoint inline */
	bool sync_commits;	/* db_commit() fsyncs the WAL (see db_open) */
	bool committed;		/* the last db_commit() committed, even if its
				 * fsync then failed */
};

/* -v names every write transaction longer than this (milliseconds). */
#define DB_SLOW_WRITE_MS 100

/* Checkpoint once the WAL holds this many pages: SQLite's own default. */
#define DB_CHECKPOINT_FRAMES 1000

/*
 * Open path.  Returns J_OK; J_NOINPUT if the file is missing (DB_READ,
 * DB_WRITE), unreadable or not an SQLite database; J_TEMPFAIL if it stays
 * busy past busy_ms.  On failure db->err says why and db->h is closed.
 */
int db_open(struct db *db, const char *path, enum db_mode mode, long busy_ms);

/* Close; a statement left unfinalized is a bug and is reported (J_SOFTWARE). */
int db_close(struct db *db);

/* Record a failure of SQLite call rc about `what`; returns its status code. */
int db_fail(struct db *db, int rc, const char *what);

/* Map an SQLite result code to a status of status.h. */
int db_status_of(int rc);

/* Run constant SQL text with no parameters (may hold several statements). */
int db_exec(struct db *db, const char *sql);

/* Prepare constant SQL; *st is NULL on failure. */
int db_prepare(struct db *db, sqlite3_stmt **st, const char *sql);

/* Step once: J_OK with *row true (a row is ready) or false (done). */
int db_step(struct db *db, sqlite3_stmt *st, bool *row);

/* Step a statement that returns no rows, then reset it. */
int db_run(struct db *db, sqlite3_stmt *st);

/* Named binds: an unknown name is a bug (J_SOFTWARE), never silently ignored. */
int db_bind_int64(struct db *db, sqlite3_stmt *st, const char *name, int64_t v);
int db_bind_double(struct db *db, sqlite3_stmt *st, const char *name, double v);
int db_bind_text(struct db *db, sqlite3_stmt *st, const char *name, const char *v);

/* Finalize and set *st to NULL; safe on NULL. */
void db_finalize(sqlite3_stmt **st);

/*
 * BEGIN IMMEDIATE: take the write lock now (waiting up to the busy timeout),
 * so a transaction that reads then writes can never fail halfway with
 * SQLITE_BUSY_SNAPSHOT.  Callers keep the transaction short (SPEC 7).
 */
int db_begin(struct db *db);

/*
 * COMMIT, which releases the write lock as soon as the WAL frames are
 * written (synchronous=NORMAL), then fsync the WAL: on J_OK the commit is on
 * disk, and the app never waited for the fsync.  On failure db->committed
 * tells whether COMMIT went through (only the fsync failed: the transaction
 * is visible, and a power cut may or may not undo it) or not (rolled back).
 */
int db_commit(struct db *db);

/* Roll back if a transaction is open; never fails (errors are logged). */
void db_rollback(struct db *db);

/*
 * Durability of this connection's commits.  db_open() makes each commit
 * durable before db_commit() returns, which the archiver needs (its manifest
 * rows must be durable before the files they name exist, README
 * "Durability").  A job that writes no file may relax it: db_commit() then
 * skips the fsync; in WAL mode a commit is still atomic and ordered, a power
 * cut may lose the last ones (never half of one), and any later durable
 * commit, the app's included, makes them durable too.
 */
int db_relax_durability(struct db *db);

/*
 * Run st (binds done) alone in its own short write transaction: begin, step
 * to the end, commit, or roll back on failure.  *rowid (may be NULL) gets
 * the row it inserted.
 */
int db_run_alone(struct db *db, sqlite3_stmt *st, int64_t *rowid);

/* Single integer result of constant SQL (first column of first row). */
int db_query_int64(struct db *db, const char *sql, int64_t *out, bool *found);

/* True if a table of that name exists in the main schema. */
int db_table_exists(struct db *db, const char *name, bool *exists);

/* Monotonic clock in milliseconds. */
int64_t db_mono_ms(void);

#endif
