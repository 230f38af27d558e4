/*
 * Which file a database is.  Two questions every program asks before it
 * trusts what it is about to do to a database and to the archive tree.
 *
 * One name only.  SQLite names a database's -wal and -shm files after the
 * name it was opened by (symlinks resolved), so a file with two hard links,
 * used under both names, gets two write-ahead logs and is corrupted (SQLite's
 * "How To Corrupt An SQLite Database File", 2.3).  Such a file is refused by
 * every program before it is opened for anything (exit 66).
 *
 * Its own archive id.  Archive file names carry jobs_meta.database_id, and a
 * run removes or moves only files it can prove are its own.  A copy of the
 * database carries the original's id and manifest, which prove nothing, so
 * the id is bound to the file it was made in: jobs_meta.database_file holds
 * that file's identity (inode and birth time, which a copy never shares and
 * a reboot never changes; device and inode where the file system keeps no
 * birth time).  A run in another file takes a new id (dbfile_claim()).  The
 * cases, and what each gets:
 *
 *   cp while idle            a new file: the copy takes a new id.  Nothing to
 *                            clean up; its archives get names of their own.
 *   cp between a batch's     the copy takes a new id; the original's 'writing'
 *   intent and its commit    row in the copy's manifest names a file that is
 *                            not the copy's (its name has the old id), so the
 *                            copy leaves it alone, names it in a warning, and
 *                            jobs_status lists it.  The original commits and
 *                            keeps its file.  (tests/t/identity.t)
 *   a backup copied back     written into the existing file (cp over it,
 *   over the original        sqlite3 .restore): same inode and birth time, so
 *                            it *is* the database now, with the backup's
 *                            manifest; removing the files it lists as
 *                            'writing' is right, their rows being in its
 *                            table.  Moved in as a new file (mv, rsync): a
 *                            new id, leftovers left alone as for a copy.
 *   moved to another disk    a new inode: treated as a copy (a new id, old
 *                            leftovers left alone, named).  Its restores of
 *                            files written before the move are refused with
 *                            the reason; nothing is lost, and the operator
 *                            who knows the old file is gone can say so
 *                            (restore_archive --adopt-id).
 *
 * What it cannot tell: a copy made before any program recorded the identity
 * (migrate records it when it creates or upgrades a database, every job run
 * when it finds none), and a file system that reuses an inode with the same
 * birth time.
 */
#ifndef JOBS_DBFILE_H
#define JOBS_DBFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "db.h"

#define DBFILE_ID_MAX	40	/* database ids: hex, shorter than this */

/* st (of path) is a regular file with one name: J_OK, else J_NOINPUT with
 * one line in err. */
int dbfile_check(const char *path, const struct stat *st, char *err, size_t size);

/* The identity of the open file fd, as text (see above): 0, or -1 with errno. */
int dbfile_identity(int fd, char *out, size_t size);

/*
 * Bind this database's archive id to the file fd (the job's lock
 * descriptor): record the identity if none is recorded, take a new id if
 * the recorded one is another file's (warning once, naming the unfinished
 * archives it leaves alone), in one short write transaction.  Returns J_OK
 * or a status with db->err set.
 */
int dbfile_claim(struct db *db, int fd);

/*
 * The id that names new archive files, and the ids whose files this
 * database may remove or move (owned: the id, then any adopted ones,
 * space-separated).  J_CONFIG with db->err if the id is missing or not hex.
 */
int dbfile_ids(struct db *db, char id[DBFILE_ID_MAX], char *owned, size_t size);

/* Read-only, for jobs_status: *copied is true if the file at path is not
 * the one the id was made in (false while no identity is recorded). */
int dbfile_copied(struct db *db, const char *path, bool *copied);

/*
 * The operator says files named with old are this database's (it was moved,
 * and the file that wrote them is gone): old joins the owned ids.  Returns
 * J_OK, J_USAGE if old is not an id, or a database status.
 */
int dbfile_adopt(struct db *db, const char *old);

/*
 * True if path (an archive path "<table>/date=D/<name>") was written under
 * one of the owned ids: its name begins with "<id>-".
 */
bool dbfile_owns(const char *owned, const char *path);

#endif
