/*
 * The database layer every job uses: one db_open() that sets foreign keys,
 * the busy timeout and the defensive options, statements with named binds
 * that fail loudly on a wrong name, and BEGIN IMMEDIATE write transactions
 * with a rollback that copes with SQLite having rolled back on its own.
 * Every failure keeps SQLite's extended code and message in db->err, as one
 * line naming the database, and is mapped to a status code of status.h.
 *
 * Files: db.c (opening, statements, errors), db_write.c (write
 * transactions, the WAL bound, checkpoints, pauses for the app); db_impl.h
 * is internal to them.
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
	int64_t write_ended;	/* monotonic ms when it ended (0: none yet) */
	int64_t burst;		/* milliseconds of lock since the last pause */
	int wal_frames;		/* frames in the WAL after our last commit;
				 * 0 once a checkpoint is asked for */
	int wal_log;		/* the same, for the bound (never reset) */
	int wal_grow;		/* frames: the most one commit added */
	int wal_bound;		/* frames: DB_WAL_BOUND_BYTES (0: no WAL) */
	int64_t wal_bound_kb;	/* the same in kB, for messages */
	long busy_ms;		/* --busy-timeout */
	bool wal_gave_up;	/* a reader held the WAL past busy_ms */
	int wal_waits;		/* times a write waited for the WAL to restart */
	int64_t wal_waited;	/* milliseconds, all those waits */
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
 * The WAL bound (SPEC 4, "The WAL"): no job's writes grow the database's
 * -wal file past this.  When the next commit could take the WAL past it
 * (our last commit's WAL plus the most one commit has added so far), the
 * next db_begin() first waits until the WAL can start over:
 *
 *   1. PASSIVE checkpoints, repeated, until every frame is copied into the
 *      database.  They never block the app; most of the work is done
 *      already by the checkpoints after each commit.
 *   2. Then one RESTART checkpoint with no busy wait: it succeeds only when
 *      no reader still uses a frame of the WAL.  From then on the next
 *      writer, the app's or ours, writes from the start of the file again.
 *      It takes the app's write lock for an instant only (nothing is left
 *      to copy), and gives up at once if the app holds it.
 *   3. Else sleep a little (1 ms, doubling up to 50 ms) and go back to 1.
 *
 * Why not the other ways.  A RESTART or TRUNCATE checkpoint with a busy
 * wait would hold the app's writers for as long as a reader lingers, and a
 * FULL one copies the whole WAL under the app's write lock.  Waiting for the
 * app's own checkpoint alone does not work: a job that writes while the
 * app commits every few milliseconds keeps a commit landing during every
 * checkpoint, so the WAL is never wholly copied and never starts over (it
 * reached 12.7 GB that way: issue #14).  Pausing our writes is what lets
 * step 1 finish.
 *
 * A reader that holds an old snapshot stops steps 1 and 2.  Past busy_ms of
 * waiting, db_begin() fails with J_TEMPFAIL: the job stops after its last
 * committed batch, nothing lost, and later writes of the run (its
 * bookkeeping) no longer wait.  The WAL stays within the bound unless one
 * commit is larger than all before it (then by at most that commit), and
 * but for the app's own frames.  Test knob (cli.h):
 * JOBS_TEST_WAL_BOUND_KB.
 */
#define DB_WAL_BOUND_BYTES	((int64_t)64 * 1024 * 1024)

/*
 * Room for the app between our write transactions.  An app that finds the
 * write lock taken sleeps in SQLite's busy handler for 1, 2, 5, 10, 15, 20,
 * 25, 25, 25, 50, 50, 100 ... ms between tries.  A job that starts its next
 * write transaction the moment it commits (a --no-archive prune, an expire:
 * the next batch is already in memory) holds the lock nearly all the time,
 * and the app's tries keep landing inside it: beside the bench's app writer
 * its inserts waited 103, 128, 178, 228, 328 and 428 ms, exactly those sums
 * of sleeps (1M-event --no-archive prune: p99 179 ms, max 530 ms; expire of
 * 50 000 reservations: max 430 ms).  Measured on that prune (p99 / max):
 *
 *   idle time after each transaction, 50% of its length    54 / 329 ms
 *   the same, 100% (pt-archiver's --sleep-coef 1)           19 / 54 ms, but
 *                                                           2.8x the time
 *   a 4 ms gap after each transaction                       104 / 1365 ms
 *   bursts: 75 ms of lock, then a 30 ms pause               80-105 / 106 ms
 *           50 ms, then 25 ms                               80 / 82-229 ms
 *           30 ms, then 25 ms (kept)                        54 / 55-68 ms
 *
 * Small gaps do not help: by the time the app has waited 20 ms its tries
 * are 10-25 ms apart and jump over them.  A pause at least as long as the
 * app's current sleep does.  So after DB_YIELD_BURST_MS of write
 * transactions with no pause of DB_YIELD_PAUSE_MS between them, db_begin()
 * first waits until that long has passed since the last one ended: an app
 * that began waiting during the burst tries again, at most 25 ms apart,
 * inside the pause.  Time between transactions (reading the next batch,
 * writing its file) counts towards the pause.
 */
#define DB_YIELD_BURST_MS	30	/* milliseconds of lock in a row */
#define DB_YIELD_PAUSE_MS	25	/* milliseconds without it, then */
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
 * First, if our last commit left the WAL past its bound, wait for it to
 * start over (DB_WAL_BOUND_BYTES): J_TEMPFAIL if it cannot within the busy
 * timeout, with nothing begun.
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
 * rows must be durable before the files they name exist, docs/design.md
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
