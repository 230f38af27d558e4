/*
 * Which file a database is: one name only, and an archive id bound to the
 * file it was made in (see dbfile.h for the cases).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbfile.h"
#include "log.h"
#include "status.h"

int
dbfile_check(const char *path, const struct stat *st, char *err, size_t size)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, size, "database '%s': is not a regular file", path);
		return J_NOINPUT;
	}
	if (st->st_nlink > 1) {
		snprintf(err, size, "database '%s' has %lu hard links: SQLite keeps "
		    "a write-ahead log per name, so two names corrupt it; remove "
		    "the other names (find / -xdev -samefile '%s') and run again",
		    path, (unsigned long)st->st_nlink, path);
		return J_NOINPUT;
	}
	return J_OK;
}

int
dbfile_identity(int fd, char *out, size_t size)
{
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME, &sx) != 0)
		return -1;
	if (sx.stx_mask & STATX_BTIME)
		snprintf(out, size, "ino %llu born %lld.%09u",
		    (unsigned long long)sx.stx_ino, (long long)sx.stx_btime.tv_sec,
		    (unsigned)sx.stx_btime.tv_nsec);
	else
		snprintf(out, size, "dev %u:%u ino %llu", sx.stx_dev_major,
		    sx.stx_dev_minor, (unsigned long long)sx.stx_ino);
	return 0;
}

/* jobs_meta value of key into out ("" if none). */
static int
meta_get(struct db *db, const char *key, char *out, size_t size)
{
	sqlite3_stmt *st;
	bool row = false;
	int rc = db_prepare(db, &st, "SELECT value FROM jobs_meta WHERE key = :k");

	out[0] = '\0';
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":k", key);
	if (rc == J_OK)
		rc = db_step(db, st, &row);
	if (rc == J_OK && row && sqlite3_column_text(st, 0) != NULL)
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	db_finalize(&st);
	return rc;
}

static int
meta_set(struct db *db, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int rc = db_prepare(db, &st, "INSERT INTO jobs_meta (key, value) "
	    "VALUES (:k, :v) ON CONFLICT (key) DO UPDATE SET value = excluded.value");

	if (rc == J_OK)
		rc = db_bind_text(db, st, ":k", key);
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":v", value);
	if (rc == J_OK)
		rc = db_run(db, st);
	db_finalize(&st);
	return rc;
}

/* It goes into file names: hex only. */
static int
check_id(struct db *db, const char *id)
{
	if (id[0] == '\0' || strlen(id) >= DBFILE_ID_MAX - 1 ||
	    strspn(id, "0123456789abcdef") != strlen(id)) {
		snprintf(db->err, sizeof(db->err), "database '%s': "
		    "jobs_meta.database_id is missing or not hex: run migrate",
		    db->path);
		return J_CONFIG;
	}
	return J_OK;
}

/*
 * Say once that the id changed: a warning naming the unfinished archives the
 * new id leaves alone, or, with none (a copy made while idle), a -v line.
 */
static void
report_new_id(struct db *db, const char *old, const char *id)
{
	sqlite3_stmt *st;
	int64_t n = 0;
	bool row;

	if (db_prepare(db, &st, "SELECT archive_dir || '/' || path FROM "
	    "archive_manifest WHERE state = 'writing' ORDER BY id") != J_OK)
		return;
	while (db_step(db, st, &row) == J_OK && row)
		if (n++ < 10)
			log_warn("left alone: unfinished archive '%s' (its name has "
			    "another database id, perhaps the original's run in "
			    "progress; if no database with that id uses it, delete it "
			    "and its archive_manifest row)", sqlite3_column_text(st, 0));
	db_finalize(&st);
	if (n > 0)
		log_warn("database '%s' is not the file its archive id %s was made "
		    "in (a copy, a backup moved in, or a move to another file "
		    "system): it names its archives with the new id %s and leaves "
		    "%lld unfinished archives of the old one alone (jobs_status "
		    "lists them)", db->path, old, id, (long long)n);
	else
		log_debug("database '%s' is not the file its archive id %s was made "
		    "in: it names its archives with the new id %s", db->path, old, id);
}

int
dbfile_claim(struct db *db, int fd)
{
	char me[128], rec[128], old[DBFILE_ID_MAX], id[DBFILE_ID_MAX];
	bool row;
	int rc;

	if (dbfile_identity(fd, me, sizeof(me)) != 0) {
		snprintf(db->err, sizeof(db->err), "database '%s': %s", db->path,
		    strerror(errno));
		return J_IOERR;
	}
	/* The common case reads only: the id is this file's already. */
	if ((rc = meta_get(db, "database_file", rec, sizeof(rec))) != J_OK ||
	    strcmp(rec, me) == 0)
		return rc;
	/* Again inside the write lock: two jobs starting at once on a copy
	 * must agree on one new id. */
	if ((rc = db_begin(db)) != J_OK)
		return rc;
	rc = meta_get(db, "database_file", rec, sizeof(rec));
	if (rc == J_OK)
		rc = meta_get(db, "database_id", old, sizeof(old));
	if (rc == J_OK)
		rc = check_id(db, old);
	snprintf(id, sizeof(id), "%s", old);
	if (rc == J_OK && rec[0] != '\0' && strcmp(rec, me) != 0) {
		sqlite3_stmt *st;

		rc = db_prepare(db, &st, "SELECT lower(hex(randomblob(6)))");
		if (rc == J_OK && (rc = db_step(db, st, &row)) == J_OK)
			snprintf(id, sizeof(id), "%s", sqlite3_column_text(st, 0));
		db_finalize(&st);
		if (rc == J_OK)
			rc = meta_set(db, "database_id", id);
		if (rc == J_OK)
			rc = meta_set(db, "database_id.copied_from", old);
	}
	if (rc == J_OK)
		rc = meta_set(db, "database_file", me);
	if (rc != J_OK) {
		db_rollback(db);
		return rc;
	}
	if ((rc = db_commit(db)) == J_OK && strcmp(id, old) != 0)
		report_new_id(db, old, id);
	return rc;
}

int
dbfile_ids(struct db *db, char id[DBFILE_ID_MAX], char *owned, size_t size)
{
	char adopted[512];
	int rc;

	if ((rc = meta_get(db, "database_id", id, DBFILE_ID_MAX)) != J_OK ||
	    (rc = check_id(db, id)) != J_OK ||
	    (rc = meta_get(db, "database_id.adopted", adopted, sizeof(adopted))) != J_OK)
		return rc;
	snprintf(owned, size, "%s%s%s", id, adopted[0] ? " " : "", adopted);
	return J_OK;
}

int
dbfile_copied(struct db *db, const char *path, bool *copied)
{
	char me[128], rec[128];
	int fd, rc;

	*copied = false;
	if ((rc = meta_get(db, "database_file", rec, sizeof(rec))) != J_OK ||
	    rec[0] == '\0')
		return rc;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return J_OK;	/* db_open() read it a moment ago */
	if (dbfile_identity(fd, me, sizeof(me)) == 0)
		*copied = strcmp(rec, me) != 0;
	close(fd);
	return J_OK;
}

int
dbfile_adopt(struct db *db, const char *old)
{
	char id[DBFILE_ID_MAX], owned[600];
	int rc;

	if (old[0] == '\0' || strlen(old) >= DBFILE_ID_MAX - 1 ||
	    strspn(old, "0123456789abcdef") != strlen(old)) {
		snprintf(db->err, sizeof(db->err), "--adopt-id: '%s' is not a "
		    "database id (lowercase hex, as in archive file names)", old);
		return J_USAGE;
	}
	if ((rc = db_begin(db)) != J_OK)
		return rc;
	rc = dbfile_ids(db, id, owned, sizeof(owned));
	if (rc == J_OK && !dbfile_owns(owned, old) &&
	    strlen(owned) + strlen(old) + 2 > 512) {
		snprintf(db->err, sizeof(db->err), "database '%s' has adopted too "
		    "many ids already", db->path);
		rc = J_DATAERR;
	}
	if (rc == J_OK && !dbfile_owns(owned, old)) {
		const char *rest = strchr(owned, ' ');
		char list[600];

		snprintf(list, sizeof(list), "%s%s%s", rest ? rest + 1 : "",
		    rest ? " " : "", old);
		rc = meta_set(db, "database_id.adopted", list);
	}
	if (rc != J_OK) {
		db_rollback(db);
		return rc;
	}
	return db_commit(db);
}

bool
dbfile_owns(const char *owned, const char *path)
{
	const char *name = strrchr(path, '/'), *p;
	size_t n;

	name = name ? name + 1 : path;
	for (p = owned; *p != '\0'; p += n) {
		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n > 0 && strncmp(name, p, n) == 0 &&
		    (name[n] == '-' || name[n] == '\0'))
			return true;
	}
	return false;
}
