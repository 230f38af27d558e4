/*
 * The manifest side of the archiver: archive_recover(), first thing after a
 * job takes its lock, removes the files a crashed run left in 'writing' and
 * their manifest rows, and archive_finish_restores() moves restored files
 * out of the live tree.  Only this database's own files are touched
 * (dbfile.h).
 */
#include <stdio.h>

#include "archive.h"
#include "archive_file.h"
#include "archive_impl.h"
#include "dbfile.h"
#include "log.h"
#include "status.h"

int
archive_forget_manifest(struct archiver *a, int64_t id)
{
	sqlite3_stmt *st;
	int rc = db_prepare(a->db, &st, "DELETE FROM archive_manifest WHERE id = :id "
	    "AND state = 'writing'");

	if (rc == J_OK)
		rc = db_bind_int64(a->db, st, ":id", id);
	if (rc == J_OK)
		rc = db_run_alone(a->db, st, NULL);
	db_finalize(&st);
	return rc;
}

/* Manifest rows of a->table in state, one at a time from the lowest id
 * after *after (so a row skipped is never met again): J_OK with *row. */
static int
next_manifest(struct archiver *a, sqlite3_stmt *st, int64_t *after, bool *row,
    int64_t *id, char *dir, size_t dsize, char *path, size_t psize)
{
	int rc = db_bind_int64(a->db, st, ":after", *after);

	if (rc == J_OK && (rc = db_step(a->db, st, row)) == J_OK && *row) {
		*after = *id = sqlite3_column_int64(st, 0);
		snprintf(dir, dsize, "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(path, psize, "%s", (const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_reset(st);
	return rc;
}

int
archive_finish_restores(struct archiver *a)
{
	sqlite3_stmt *st, *upd = NULL;
	int64_t id, after = 0;
	bool row, missing;
	int rc;

	rc = db_prepare(a->db, &st, "SELECT id, archive_dir, path FROM "
	    "archive_manifest WHERE table_name = :t AND state = 'restored' "
	    "AND instr(path, '/_restored/') = 0 AND id > :after ORDER BY id LIMIT 1");
	if (rc == J_OK)
		rc = db_prepare(a->db, &upd, "UPDATE archive_manifest SET path = :path "
		    "WHERE id = :id AND state = 'restored'");
	if (rc == J_OK)
		rc = db_bind_text(a->db, st, ":t", a->table);
	while (rc == J_OK) {
		char dir[4096], path[1024], moved[1100];

		rc = next_manifest(a, st, &after, &row, &id, dir, sizeof(dir),
		    path, sizeof(path));
		if (rc != J_OK || !row)
			break;
		/* A copy of this database never moves the original's file. */
		if (!dbfile_owns(a->owned, path))
			continue;
		if ((rc = afile_restored_path(path, moved, sizeof(moved))) != J_OK) {
			snprintf(a->err, sizeof(a->err), "archive_manifest row %lld: "
			    "path '%s' is not an archive path", (long long)id, path);
			break;
		}
		if ((rc = afile_move_restored(a, dir, path, &missing)) != J_OK)
			break;
		if (missing)
			log_warn("restored archive '%s/%s' is gone (its rows are in %s)",
			    dir, path, a->table);
		if ((rc = db_bind_text(a->db, upd, ":path", moved)) != J_OK ||
		    (rc = db_bind_int64(a->db, upd, ":id", id)) != J_OK)
			break;
		rc = db_run_alone(a->db, upd, NULL);
	}
	db_finalize(&upd);
	db_finalize(&st);
	return rc;
}

int
archive_recover(struct archiver *a)
{
	sqlite3_stmt *st;
	int64_t id, after = 0;
	bool row;
	int rc;

	/* A restore that stopped before its file left the live tree. */
	if ((rc = archive_finish_restores(a)) != J_OK)
		return rc;
	rc = db_prepare(a->db, &st, "SELECT id, archive_dir, path FROM "
	    "archive_manifest WHERE table_name = :t AND state = 'writing' "
	    "AND id > :after ORDER BY id LIMIT 1");
	if (rc == J_OK)
		rc = db_bind_text(a->db, st, ":t", a->table);
	while (rc == J_OK) {
		char dir[4096], path[1024];

		rc = next_manifest(a, st, &after, &row, &id, dir, sizeof(dir),
		    path, sizeof(path));
		if (rc != J_OK || !row)
			break;
		/* Only this database's own leftovers: one named with another id
		 * came with a copy, and may be the original's file in flight
		 * (dbfile.h).  It was named when the id changed. */
		if (!dbfile_owns(a->owned, path)) {
			log_debug("left alone: unfinished archive '%s/%s' of another "
			    "database id", dir, path);
			continue;
		}
		/* The rows of an unfinished file are all still in the table:
		 * remove the file first, then its manifest row. */
		if ((rc = afile_remove(a, dir, path)) != J_OK)
			break;
		if ((rc = archive_forget_manifest(a, id)) != J_OK)
			break;
		log_warn("removed unfinished archive '%s/%s' left by an interrupted "
		    "run (its rows are still in %s)", dir, path, a->table);
	}
	db_finalize(&st);
	return rc;
}
