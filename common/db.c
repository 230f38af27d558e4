/*
 * SQLite access for the jobs, in the habits of Fossil's db layer: one open
 * function that sets every connection up the same way, named binds that fail
 * loudly, BEGIN IMMEDIATE for writes, explicit rollback, and finalize checks.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "db.h"
#include "dbfile.h"
#include "log.h"
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

/*
 * Checkpoints run in a thread of their own, on a second connection, so that
 * copying the WAL into the database (random writes and an fsync) overlaps
 * the next batch's work instead of delaying it.  PASSIVE: never waits for
 * the app nor blocks it; frames a reader still needs are copied next time.
 * db_commit() asks for one right after COMMIT (an app commit in between
 * would run it in the app's time, its autocheckpoint); a request while one
 * runs is remembered once.  Durability does not depend on it: db_commit()
 * fsyncs the WAL on its own connection.  The thread starts with the first
 * checkpoint, so short runs never pay for it.
 */
struct checkpointer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool want, stop;
	sqlite3 *h;
};

static void *
checkpoint_main(void *arg)
{
	struct checkpointer *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->want && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		/* A last request is honoured before stopping: the app should
		 * not inherit the job's last frames. */
		if (!c->want)
			break;
		c->want = false;
		pthread_mutex_unlock(&c->mu);
		sqlite3_wal_checkpoint_v2(c->h, NULL, SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

/* Start the thread; without it (any failure) db_commit() checkpoints inline. */
static void
checkpointer_start(struct db *db)
{
	struct checkpointer *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return;
	if (sqlite3_open_v2(db->path, &c->h, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(c->h, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close_v2(c->h);
		free(c);
		return;
	}
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->thread, NULL, checkpoint_main, c) != 0) {
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		sqlite3_close_v2(c->h);
		free(c);
		return;
	}
	db->ckpt = c;
}

static void
checkpointer_stop(struct db *db)
{
	struct checkpointer *c = db->ckpt;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	sqlite3_close_v2(c->h);
	free(c);
	db->ckpt = NULL;
}

static int
wal_hook(void *arg, sqlite3 *h, const char *schema, int frames)
{
	struct db *db = arg;

	(void)h;
	(void)schema;
	/* The most one of our commits added (with any app frames in between):
	 * the next one is not let past the bound (wal_make_room()). */
	if (frames - db->wal_log > db->wal_grow)
		db->wal_grow = frames - db->wal_log;
	db->wal_frames = db->wal_log = frames;
	return SQLITE_OK;
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

		sqlite3_wal_hook(db->h, wal_hook, db);
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
	checkpointer_stop(db);
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

/* Sleep ms milliseconds. */
static void
nap(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/*
 * Wait until the WAL can start over (see DB_WAL_BOUND_BYTES in db.h for the
 * steps and why).  J_OK at once while our last commit left it within bound.
 */
static int
wal_make_room(struct db *db)
{
	int64_t start = db_mono_ms(), waited, pause = 1;
	int log = -1, ckpt = -1, rc;

	if (db->wal_bound <= 0 || db->wal_log + db->wal_grow <= db->wal_bound ||
	    db->wal_gave_up)
		return J_OK;
	for (;;) {
		rc = sqlite3_wal_checkpoint_v2(db->h, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, &log, &ckpt);
		if (rc == SQLITE_OK && log == ckpt) {
			sqlite3_busy_timeout(db->h, 0);
			rc = sqlite3_wal_checkpoint_v2(db->h, NULL,
			    SQLITE_CHECKPOINT_RESTART, &log, &ckpt);
			sqlite3_busy_timeout(db->h, (int)db->busy_ms);
			if (rc == SQLITE_OK)
				break;
		}
		if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY &&
		    (rc & 0xff) != SQLITE_LOCKED)
			return db_fail(db, rc, "cannot checkpoint its write-ahead log");
		if (db_mono_ms() - start >= db->busy_ms) {
			db->wal_gave_up = true;
			snprintf(db->err, sizeof(db->err), "database '%s': its "
			    "write-ahead log stayed past its bound (%lld kB) for %ld ms "
			    "(a reader holds an old snapshot, so it cannot start over); "
			    "stopped after the last committed batch: run again once that "
			    "reader is done", db->path, (long long)db->wal_bound_kb,
			    db->busy_ms);
			db->rc = SQLITE_BUSY;
			return J_TEMPFAIL;
		}
		nap(pause);
		pause = pause * 2 > 50 ? 50 : pause * 2;
	}
	waited = db_mono_ms() - start;
	db->wal_log = 0;	/* the next commit's hook says how long it is */
	db->wal_waits++;
	db->wal_waited += waited;
	log_debug("the write-ahead log was past its bound (%lld kB): waited "
	    "%lld ms for a checkpoint to let it start over",
	    (long long)db->wal_bound_kb, (long long)waited);
	return J_OK;
}

/* See DB_YIELD_BURST_MS. */
static void
yield_to_app(struct db *db)
{
	int64_t due;

	if (db->burst < DB_YIELD_BURST_MS)
		return;
	due = db->write_ended + DB_YIELD_PAUSE_MS - db_mono_ms();
	if (due > 0)
		nap(due);
	db->burst = 0;
}

int
db_begin(struct db *db)
{
	int rc = wal_make_room(db);

	if (rc != J_OK)
		return rc;
	yield_to_app(db);
	rc = db_exec(db, "BEGIN IMMEDIATE");

	db->committed = false;
	if (rc == J_OK) {
		db->in_write = true;
		db->write_started = db_mono_ms();
	}
	return rc;
}

static void
note_write_end(struct db *db)
{
	int64_t held = db_mono_ms() - db->write_started;

	if (held > DB_SLOW_WRITE_MS)
		log_debug("a write transaction held the lock for %lld ms",
		    (long long)held);
	if (held > db->longest_write)
		db->longest_write = held;
	/* A pause before this transaction started the burst over. */
	if (db->write_started - db->write_ended >= DB_YIELD_PAUSE_MS)
		db->burst = 0;
	db->burst += held;
	db->last_write = held;
	db->write_ended = db_mono_ms();
	db->in_write = false;
}

int
db_run_alone(struct db *db, sqlite3_stmt *st, int64_t *rowid)
{
	int rc = db_begin(db);

	if (rc != J_OK)
		return rc;
	rc = db_run(db, st);
	if (rc == J_OK && rowid != NULL)
		*rowid = sqlite3_last_insert_rowid(db->h);
	if (rc != J_OK) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db);
}

int
db_relax_durability(struct db *db)
{
	db->sync_commits = false;
	return J_OK;
}

/* fsync the WAL: every commit in it is then on disk. */
static int
sync_wal(struct db *db)
{
	sqlite3_file *f = NULL;
	int rc = sqlite3_file_control(db->h, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f);

	/* No open WAL (a rollback-journal database): COMMIT synced already. */
	if (rc == SQLITE_OK && f != NULL && f->pMethods != NULL)
		rc = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
	if (rc != SQLITE_OK) {
		db->rc = rc == SQLITE_IOERR ? SQLITE_IOERR_FSYNC : rc;
		snprintf(db->err, sizeof(db->err), "database '%s': cannot sync its "
		    "write-ahead log after a commit: %s", db->path, sqlite3_errstr(rc));
		return db_status_of(db->rc);
	}
	return J_OK;
}

/*
 * Right after COMMIT: an app commit in between would run it in the app's
 * time (its autocheckpoint).  In the thread once it runs; inline otherwise,
 * and then a failure is reported: the checkpoint fsyncs the WAL before
 * copying, and sync_wal() would not see that error again (the thread's
 * connection has a file descriptor of its own: it does).
 */
static int
checkpoint(struct db *db)
{
	struct checkpointer *c;
	int ck;

	db->wal_frames = 0;
	if (db->ckpt == NULL && !db->ckpt_failed) {
		checkpointer_start(db);
		db->ckpt_failed = db->ckpt == NULL;
	}
	if ((c = db->ckpt) != NULL) {
		pthread_mutex_lock(&c->mu);
		c->want = true;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
		return J_OK;
	}
	ck = sqlite3_wal_checkpoint_v2(db->h, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL);
	if (db->sync_commits && ck != SQLITE_OK && ck != SQLITE_BUSY &&
	    (ck & 0xff) != SQLITE_LOCKED)
		return db_fail(db, ck, "cannot checkpoint its write-ahead log");
	return J_OK;
}

int
db_commit(struct db *db)
{
	int rc = db_exec(db, "COMMIT");

	db->committed = false;
	if (rc != J_OK) {
		/* A failed COMMIT may leave the transaction open (SQLITE_BUSY) or
		 * rolled back already; db_rollback() handles both. */
		char keep[sizeof(db->err)];
		int keep_rc = db->rc;

		memcpy(keep, db->err, sizeof(keep));
		db_rollback(db);
		memcpy(db->err, keep, sizeof(keep));
		db->rc = keep_rc;
		return rc;
	}
	db->committed = true;
	note_write_end(db);
	if (db->wal_frames >= DB_CHECKPOINT_FRAMES && (rc = checkpoint(db)) != J_OK)
		return rc;
	return db->sync_commits ? sync_wal(db) : J_OK;
}

void
db_rollback(struct db *db)
{
	/* After some errors (SQLITE_FULL, IOERR, NOMEM) SQLite has already
	 * rolled back; ROLLBACK would then fail with "no transaction". */
	if (db->h != NULL && !sqlite3_get_autocommit(db->h))
		(void)sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
	if (db->in_write)
		note_write_end(db);
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
