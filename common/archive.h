/*
 * The archiver: moves rows older than a cutoff out of a table into gzip JSON
 * Lines files (SPEC section 6), then deletes them.  prune_events,
 * archive_logs and expire_reservations are thin jobs on top of it.
 *
 * Exactly once.  Every row is always in exactly one place: the table, or one
 * complete archive file listed as 'done' in archive_manifest.  Each batch:
 *
 *   1. read   Take the next --batch-size ids of one UTC day's rows (sorted,
 *             from the index) and read those rows that are still due, in one
 *             snapshot; encode them; remember each row's id and digest.
 *   2. intent Insert a manifest row: state 'writing', the file's name (with
 *             this database's id and a random part), in its own transaction.
 *   3. write  Write ".<name>.tmp" (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600),
 *             gzclose, fsync the file, link it to <name> (link never replaces
 *             a file), unlink the temporary name, fsync the directory.
 *   4. commit BEGIN IMMEDIATE; DELETE the batch's rows in one statement
 *             RETURNING them, and check each deleted row is exactly the
 *             archived one (same digest) and none is missing; flip the
 *             manifest row to 'done' with rows, ids, bytes; COMMIT.  If any
 *             row changed or vanished, roll back, remove the file and the
 *             manifest row, and read the batch again.
 *
 * A crash before step 4 commits leaves the rows in the table and, at most, a
 * file whose manifest row says 'writing'; the next run (recovery, first thing
 * after taking the lock) removes those files and manifest rows.  A crash after
 * the commit leaves the rows deleted and their file durable and 'done'.  The
 * DELETE and the 'done' flip are one transaction, so no state has a row both
 * deleted and unarchived, or archived twice.  Recovery only removes files its
 * own manifest names as 'writing' and whose names carry one of its own ids:
 * another database sharing the directory is never touched, and neither is
 * the original of a copy (whose manifest the copy carries: dbfile.h).
 *
 * Write transactions hold one batch: the app waits at most that long.  By
 * default a batch is the job's default size or fewer, while transactions run
 * slow (archive_next_batch()); --batch-size N makes every batch N rows.
 *
 * Files: archive.c (setup, and one batch: steps 1 to 4), archive_run.c (the
 * days and the batches of a run), archive_dry.c (--dry-run, counts),
 * archive_recover.c (recovery, restored files), archive_pass.c (a job's
 * whole pass), archive_file.c (the files on disk); archive_impl.h is
 * internal to them.
 */
#ifndef JOBS_ARCHIVE_H
#define JOBS_ARCHIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "jsonl.h"
#include "progress.h"
#include "runlog.h"
#include "tsprobe.h"

struct archiver;

/*
 * The partition of a retired table's rows whose time cannot be read: Hive's
 * name for an unknown partition value, which DuckDB and Spark read as NULL.
 */
#define ARCHIVE_NO_DAY	"__HIVE_DEFAULT_PARTITION__"

/* What a job adds to the archiver's generic pass; every hook may be NULL. */
struct archive_hooks {
	/*
	 * Before a day is started: J_OK to go on, J_DATAERR to refuse the day
	 * (the run stops with 65 after naming it).
	 */
	int (*day_check)(struct archiver *a, int64_t day_ms);
	/* In the commit transaction, before the batch's DELETEs. */
	int (*before_delete)(struct archiver *a, int64_t day_ms, bool last_batch);
	/*
	 * In the commit transaction, just before the batch's DELETE: ids is the
	 * batch's ids as a JSON array (for json_each), [lo, hi) the day's
	 * interval.  The DELETE removes exactly the rows of ids that are still
	 * due (with a row_filter, that pass it too); with an archive all of them,
	 * or the transaction is rolled back.  The hook acts on the same rows.
	 */
	int (*on_batch)(struct archiver *a, const char *ids, int64_t lo, int64_t hi);
	/* In the commit transaction, after the batch's DELETEs. */
	int (*after_delete)(struct archiver *a, int64_t day_ms);
	void *ctx;
};

struct archiver {
	struct db *db;
	struct runlog *run;
	const char *job;
	const char *table;		/* from a fixed list: see archive_open() */
	const char *column;		/* the time column */
	const char *dir;		/* archive root as given; NULL: --no-archive */
	char dir_abs[4096];		/* its absolute path, for the manifest */
	int dirfd;
	char dbid[40];			/* jobs_meta.database_id: new files' names */
	char owned[600];		/* ids whose files it may remove (dbfile.h) */
	long batch_size;		/* most rows per file and per write transaction */
	long batch;			/* rows of the next batch */
	bool adapt;			/* batch follows archive_next_batch() */
	long max_runtime;		/* seconds, 0 = none */
	int64_t started;		/* monotonic ms */
	bool dry_run;
	bool retired;			/* a retired table: every row goes (retire_table) */
	struct archive_hooks hooks;
	const char *row_filter;		/* constant SQL ANDed to the selection, or NULL */

	int ncols;
	char **names;			/* column names, table order */
	int id_col;			/* index of the id column */
	enum ts_affinity aff;

	/* totals of the run */
	int64_t rows, files, bytes, days;
	int64_t unreadable;		/* rows met whose time cannot be read */
	int64_t undated;		/* of a retired table: such rows archived
					 * under date=ARCHIVE_NO_DAY */
	int64_t first_day, last_day;	/* set once days > 0 */
	bool stopped;			/* --max-runtime reached */
	struct progress progress;	/* on a terminal only */
	char err[1024];			/* a failure outside SQLite (files) */
};

/*
 * Set up for table (one of analytics_events, system_logs,
 * product_reservations; or analytics, the retired table, of which every row
 * is archived: by day of created_at, and under date=ARCHIVE_NO_DAY those
 * whose time cannot be read).  dir NULL means --no-archive.  Checks the directory
 * (J_CANTCREAT with a.err if missing, not a directory or not writable) and
 * reads the table's columns and this database's id.
 */
int archive_open(struct archiver *a, struct db *db, struct runlog *run,
    const char *job, const char *table, const char *dir, long batch_size);

void archive_close(struct archiver *a);

/*
 * The archive directory exists, is a directory and is writable: J_OK, else
 * J_CANTCREAT with one line in err.  archive_open() checks it too; a job
 * calls it first when another check (prune_events' rollup check) would
 * otherwise hide a configuration error behind a data one.
 */
int archive_dir_check(const char *dir, char *err, size_t size);

/*
 * Remove what a crashed run left (files in 'writing'; see above), and first
 * finish moving files that a restore left in the live tree.
 */
int archive_recover(struct archiver *a);

/*
 * Move every file of a->table whose manifest row says 'restored' but whose
 * path is still in the live tree to <table>/_restored/ (restore.h).
 */
int archive_finish_restores(struct archiver *a);

/*
 * Archive and delete every row whose time is in [TS_MIN_MS, cutoff_ms), day
 * by day.  With dry_run, count rows and estimate bytes per day and print
 * them, writing nothing.  Returns J_OK (also on a --max-runtime stop), or the
 * status of the failure with a.err or db->err set.
 */
int archive_run(struct archiver *a, int64_t cutoff_ms);

/*
 * Rows of table whose time column (any timestamp form) is before hi_ms,
 * counted over its index (jobs_status's backlog, progress ETAs).
 */
int archive_count_before(struct db *db, const char *table, const char *column,
    int64_t hi_ms, int64_t *out);

/*
 * Batches aim at ARCHIVE_TX_AIM_MS of write lock, inside SPEC 7's 100 ms,
 * for any row size.  After a commit that held the lock held_ms for a batch
 * of cur rows (of at most max), the next batch's size: over
 * ARCHIVE_TX_SLOW_MS it shrinks in proportion (to 1 row at least), under
 * ARCHIVE_TX_FAST_MS it grows back by an eighth.  A stall of the machine is
 * seen only after the fact.
 */
#define ARCHIVE_TX_AIM_MS	50
#define ARCHIVE_TX_SLOW_MS	70
#define ARCHIVE_TX_FAST_MS	35
long archive_next_batch(long cur, long max, int64_t held_ms);

/* qsort/bsearch order of int64_t ids. */
int archive_id_cmp(const void *x, const void *y);

/* The error line for a failed run: a.err if set, else the database's. */
const char *archive_error(const struct archiver *a);

struct job;

/*
 * The whole pass of an archiving job: open the archiver on table with the
 * job's options, recover what a crashed run left, archive everything before
 * cutoff_ms, and write the one-line summary (or the error) into summary.
 * *stopped is set on a --max-runtime stop.  Returns the job's status.
 */
int archive_pass(struct job *j, const char *table, int64_t cutoff_ms,
    const struct archive_hooks *hooks, const char *row_filter, bool *stopped,
    char *summary, size_t size);

#endif
