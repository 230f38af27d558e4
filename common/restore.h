/*
 * Putting archived rows back (restore_archive, SPEC 6).  Each file is one
 * write transaction, so each file is restored exactly once:
 *
 *   1. verify  Before the database is touched, every selected file is read
 *              whole: gzip stream and CRC intact, size, line count and id
 *              range equal to its manifest row, every line a row of the
 *              table (same columns), no id twice.  One damaged file refuses
 *              the whole run (65), naming it; nothing is restored.
 *   2. insert  BEGIN IMMEDIATE; INSERT each row, skipping ids already in
 *              the table (ON CONFLICT (id) DO NOTHING); flip the manifest row
 *              'done' -> 'restored'; COMMIT.  Rows and flip are atomic: a
 *              crash leaves either both or neither.
 *   3. move    Link the file to <table>/_restored/date=<day>/<name>, unlink
 *              the live name, fsync both directories, then record the new
 *              path.  A crash in between leaves a 'restored' row whose path
 *              is still live; the next run of restore_archive or of the
 *              table's job finishes the move first (archive_recover()), so a
 *              later prune archives the rows again into a new file and the
 *              live tree never holds a row twice.
 *
 * Files already 'restored' are skipped: restoring them again adds nothing.
 * restore_archive takes the lock of the job that archives the table too, so
 * that job never runs in the middle of a restore.  A day of analytics_events
 * stays frozen (rollup_days.pruned_at): its totals were made from all its
 * events and are kept; restored rows are reported as late by the jobs.
 *
 * Files: restore.c (selecting the files, the run, steps 2 and 3),
 * restore_verify.c (step 1, and restore_verify_all()); restore_impl.h is
 * internal to them.
 */
#ifndef JOBS_RESTORE_H
#define JOBS_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct job;

struct restore_opts {
	const char *table;	/* --table, or NULL with --file */
	const char *file;	/* --file, or NULL */
	char from[11], to[11];	/* UTC days YYYY-MM-DD, "" when not given */
};

/* The job that archives table, whose lock restore_archive also takes; NULL
 * if table is not an archived table. */
const char *restore_owner(const char *table);

/*
 * The whole run: select files from the manifest, verify them, restore them.
 * Writes the one-line summary (or the error) into summary; sets *stopped on
 * a --max-runtime stop.  Returns the job's status.
 */
int restore_pass(struct job *j, const struct restore_opts *ro, bool *stopped,
    char *summary, size_t size);

/*
 * Check every file of table that the manifest lists ('done' and 'restored')
 * the way a restore checks them before it starts (jobs_status
 * --verify-archives): each damaged or missing one is a warning naming it.
 * Counts go to *files and *damaged.  A table that no longer exists (the
 * legacy analytics table after migration 3) has its files left unread:
 * their rows are checked against the table's columns; counts 0.  Returns
 * J_OK unless the check itself failed (database error, out of memory).
 */
struct db;
int restore_verify_all(struct db *db, const char *table, int64_t *files,
    int64_t *damaged);

#endif
