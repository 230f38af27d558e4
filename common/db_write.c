/*
 * Write transactions (db.h): BEGIN IMMEDIATE, COMMIT and an explicit
 * rollback, and what this layer does around them so that the app is kept
 * waiting as little as possible: the WAL bound (DB_WAL_BOUND_BYTES), the
 * checkpoints in a thread of their own, pauses for the app between bursts
 * of our transactions (DB_YIELD_BURST_MS), and the fsync of the WAL once
 * COMMIT has released the write lock.  db.c opens the connection and
 * registers the WAL hook kept here.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "db_impl.h"
#include "log.h"
#include "status.h"

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

void
db_checkpointer_stop(struct db *db)
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

int
db_wal_hook(void *arg, sqlite3 *h, const char *schema, int frames)
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
