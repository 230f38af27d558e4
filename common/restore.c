/*
 * restore_archive's work: see restore.h for the protocol.  This file selects
 * the files of a run, drives it, and does steps 2 and 3 for each file
 * (insert, move to _restored/); step 1, verifying the files, is
 * restore_verify.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "dbfile.h"
#include "job.h"
#include "log.h"
#include "restore.h"
#include "restore_impl.h"
#include "status.h"

static const struct {
	const char *table, *owner;
} owners[] = {
	{ "analytics_events", "prune_events" },
	{ "system_logs", "archive_logs" },
	{ "product_reservations", "expire_reservations" },
	{ "analytics", "retire_table" },
};

const char *
restore_owner(const char *table)
{
	size_t i;

	for (i = 0; i < sizeof(owners) / sizeof(owners[0]); i++)
		if (strcmp(owners[i].table, table) == 0)
			return owners[i].owner;
	return NULL;
}

void
restore_free_keys(struct restore *r)
{
	int i;

	for (i = 0; i < r->nkeys; i++)
		free(r->keys[i]);
	free(r->keys);
	r->keys = NULL;
	r->nkeys = 0;
}

static void
free_files(struct restore *r)
{
	size_t i;

	for (i = 0; i < r->nfiles; i++) {
		free(r->files[i].dir);
		free(r->files[i].path);
	}
	free(r->files);
	r->files = NULL;
	r->nfiles = 0;
}

void
restore_free(struct restore *r)
{
	jrow_free(&r->row);
	jbuf_free(&r->data);
	jbuf_free(&r->enc);
	restore_free_keys(r);
	free_files(r);
	archive_close(&r->a);
}

/* The table and manifest row of --file PATH (absolute or relative). */
static int
resolve_file(struct restore *r, struct db *db, char *table, size_t size)
{
	char *abs = r->file_abs;
	sqlite3_stmt *st;
	bool row;
	int rc;

	if (realpath(r->ro->file, abs) == NULL) {
		snprintf(r->a.err, sizeof(r->a.err), "archive '%s': %s",
		    r->ro->file, strerror(errno));
		return J_DATAERR;
	}
	rc = db_prepare(db, &st, "SELECT table_name, state FROM archive_manifest "
	    "WHERE archive_dir || '/' || path = :p");
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":p", abs);
	if (rc == J_OK && (rc = db_step(db, st, &row)) == J_OK) {
		if (!row) {
			snprintf(r->a.err, sizeof(r->a.err), "archive '%s' is not in "
			    "this database's archive_manifest", abs);
			rc = J_DATAERR;
		} else if (strcmp((const char *)sqlite3_column_text(st, 1), "writing") == 0) {
			snprintf(r->a.err, sizeof(r->a.err), "archive '%s' was never "
			    "finished (its rows are still in the table; the next run of "
			    "its job removes it)", abs);
			rc = J_DATAERR;
		} else {
			snprintf(table, size, "%s", (const char *)sqlite3_column_text(st, 0));
		}
	}
	db_finalize(&st);
	return rc;
}

int
restore_select_files(struct restore *r)
{
	struct db *db = r->a.db;
	sqlite3_stmt *st;
	bool row;
	int rc;

	rc = db_prepare(db, &st, "SELECT id, day, archive_dir, path, state, rows, "
	    "min_id, max_id, bytes FROM archive_manifest WHERE table_name = :t "
	    "AND state IN ('done', 'restored') AND (:file IS NULL OR "
	    "archive_dir || '/' || path = :file) AND ((:from = '' AND :to = '') OR "
	    "(day GLOB '[0-9]*' AND (:from = '' OR day >= :from) AND "
	    "(:to = '' OR day <= :to))) ORDER BY day, id");
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":t", r->a.table);
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":file", r->ro->file ? r->file_abs : NULL);
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":from", r->ro->from);
	if (rc == J_OK)
		rc = db_bind_text(db, st, ":to", r->ro->to);
	while (rc == J_OK && (rc = db_step(db, st, &row)) == J_OK && row) {
		struct rfile *f, *files = realloc(r->files, (r->nfiles + 1) * sizeof(*files));

		if (files == NULL) {
			rc = J_SOFTWARE;
			break;
		}
		r->files = files;
		f = &files[r->nfiles++];
		memset(f, 0, sizeof(*f));
		f->id = sqlite3_column_int64(st, 0);
		snprintf(f->day, sizeof(f->day), "%s", (const char *)sqlite3_column_text(st, 1));
		f->dir = strdup((const char *)sqlite3_column_text(st, 2));
		f->path = strdup((const char *)sqlite3_column_text(st, 3));
		f->restored = strcmp((const char *)sqlite3_column_text(st, 4), "restored") == 0;
		f->rows = sqlite3_column_int64(st, 5);
		f->min_id = sqlite3_column_int64(st, 6);
		f->max_id = sqlite3_column_int64(st, 7);
		f->bytes = sqlite3_column_int64(st, 8);
		if (f->dir == NULL || f->path == NULL)
			rc = J_SOFTWARE;
	}
	db_finalize(&st);
	return rc;
}

/* INSERT of the file's columns (r->keys), skipping ids already present. */
static int
prepare_insert(struct restore *r, sqlite3_stmt **st)
{
	sqlite3_str *s = sqlite3_str_new(r->a.db->h);
	char *sql;
	int i, rc;

	sqlite3_str_appendf(s, "INSERT INTO \"%w\" (", r->a.table);
	for (i = 0; i < r->nkeys; i++)
		sqlite3_str_appendf(s, "%s\"%w\"", i ? ", " : "", r->keys[i]);
	sqlite3_str_appendf(s, ") VALUES (");
	for (i = 0; i < r->nkeys; i++)
		sqlite3_str_appendf(s, "%s?%d", i ? ", " : "", i + 1);
	sqlite3_str_appendf(s, ") ON CONFLICT (id) DO NOTHING");
	if ((sql = sqlite3_str_finish(s)) == NULL)
		return J_SOFTWARE;
	rc = db_prepare(r->a.db, st, sql);
	sqlite3_free(sql);
	return rc;
}

/* Steps 2 and 3 of restore.h for one verified file. */
static int
restore_file(struct restore *r, const struct rfile *f)
{
	struct db *db = r->a.db;
	sqlite3_stmt *ins = NULL, *flip = NULL, *cmp = NULL;
	int64_t inserted = 0, present = 0;
	size_t pos = 0;
	char perr[256];
	int rc, i;
	bool same;

	/* Read again: the data is not kept between verification and now. */
	if ((rc = restore_verify_file(r, f, false)) != J_OK)
		return rc;
	if ((rc = prepare_insert(r, &ins)) != J_OK ||
	    (rc = restore_prepare_compare(r, &cmp)) != J_OK ||
	    (rc = db_prepare(db, &flip, "UPDATE archive_manifest SET state = "
	    "'restored' WHERE id = :id AND state = 'done'")) != J_OK ||
	    (rc = db_bind_int64(db, flip, ":id", f->id)) != J_OK ||
	    (rc = runlog_start(r->a.run)) != J_OK ||
	    (rc = db_begin(db)) != J_OK)
		goto out;
	while (rc == J_OK && pos < r->data.len) {
		const char *line = r->data.p + pos;
		size_t len = (size_t)((const char *)memchr(line, '\n',
		    r->data.len - pos) - line);

		pos += len + 1;
		if (jsonl_parse(&r->row, line, len, perr, sizeof(perr)) != 0) {
			rc = J_SOFTWARE;	/* it parsed a moment ago */
			break;
		}
		for (i = 0; i < r->row.n; i++)
			if (jsonl_bind(ins, i + 1, &r->row.f[i]) != SQLITE_OK) {
				rc = db_fail(db, sqlite3_extended_errcode(db->h), "bind");
				break;
			}
		if (rc == J_OK && (rc = db_run(db, ins)) == J_OK) {
			if (sqlite3_changes(db->h) == 1)
				inserted++;
			else if ((rc = restore_compare_row(r, cmp, line, len,
			    r->row.f[restore_id_field(&r->row)].i, &same)) == J_OK)
				present++;
		} else if (rc == J_DATAERR) {
			char msg[1024];

			snprintf(msg, sizeof(msg), "%s", db->err);
			snprintf(r->a.err, sizeof(r->a.err), "cannot restore archive "
			    "'%s/%s' (line %lld): %s; nothing of it was restored",
			    f->dir, f->path, (long long)inserted + present + 1, msg);
		}
	}
	/* Checked again inside the transaction: the app may have written
	 * since the verification. */
	if (rc == J_OK && r->conflicts > 0)
		rc = restore_refuse_conflicts(r, f);
	if (rc == J_OK && (rc = db_run(db, flip)) == J_OK && sqlite3_changes(db->h) != 1) {
		snprintf(r->a.err, sizeof(r->a.err), "archive '%s/%s' was restored "
		    "by another run meanwhile", f->dir, f->path);
		rc = J_TEMPFAIL;
	}
	if (rc == J_OK)
		rc = db_commit(db);
	else
		db_rollback(db);
	if (rc == J_OK) {
		r->rows += inserted;
		r->present += present;
		r->done++;
		r->a.run->rows += inserted;
		log_debug("restored %lld rows from %s/%s (%lld already present)",
		    (long long)inserted, f->dir, f->path, (long long)present);
		/* Out of the live tree, the way recovery would do it. */
		rc = archive_finish_restores(&r->a);
	}
out:
	db_finalize(&cmp);
	db_finalize(&flip);
	db_finalize(&ins);
	return rc;
}

/*
 * A file named with another database's id (this one is a copy of it, or was
 * moved from it: dbfile.h) is not ours to move out of the live tree.
 */
static int
refuse_foreign(struct restore *r, const struct rfile *f)
{
	const char *name = strrchr(f->path, '/');

	name = name ? name + 1 : f->path;
	snprintf(r->a.err, sizeof(r->a.err), "archive '%s/%s' was written under "
	    "database id %.*s, not this database's %s: this file is a copy of that "
	    "database, or was moved from it, and restoring would move a file that "
	    "database still lists; restore it there, or, if that database is "
	    "gone for good, run restore_archive --adopt-id %.*s first", f->dir,
	    f->path, (int)strcspn(name, "-"), name, r->a.dbid,
	    (int)strcspn(name, "-"), name);
	return J_DATAERR;
}

static bool
out_of_time(const struct restore *r)
{
	const struct job_opts *o = r->j->o;

	return o->max_runtime > 0 && job_seconds(r->j) >= (double)o->max_runtime;
}

static int
run(struct restore *r, bool *stopped)
{
	const struct job_opts *o = r->j->o;
	char first[1024] = "";
	size_t i;
	int rc = J_OK;

	if (!o->dry_run && (rc = archive_finish_restores(&r->a)) != J_OK)
		return rc;
	if ((rc = restore_select_files(r)) != J_OK)
		return rc;
	/* Every file is checked before the database is touched: whole, and
	 * row by row against the table.  The first refused file makes the
	 * error line; any others are warnings. */
	for (i = 0; rc == J_OK && i < r->nfiles; i++) {
		const struct rfile *f = &r->files[i];
		int vrc;

		if (f->restored) {
			r->already++;
			continue;
		}
		vrc = dbfile_owns(r->a.owned, f->path) ?
		    restore_verify_file(r, f, true) : refuse_foreign(r, f);
		if (vrc == J_DATAERR) {
			if (r->damaged++ == 0)
				snprintf(first, sizeof(first), "%s", r->a.err);
			else
				log_warn("%s", r->a.err);
		} else if (vrc != J_OK) {
			rc = vrc;
		} else {
			r->planned += f->rows;
		}
	}
	if (rc == J_OK && r->damaged > 0) {
		if (r->damaged > 1)
			snprintf(r->a.err, sizeof(r->a.err), "%s (and %lld more files "
			    "refused, named above); nothing was restored", first,
			    (long long)r->damaged - 1);
		else
			snprintf(r->a.err, sizeof(r->a.err), "%s; nothing was restored",
			    first);
		return J_DATAERR;
	}
	if (rc != J_OK || o->dry_run)
		return rc;
	r->present = 0;		/* counted again as the rows go in */
	for (i = 0; rc == J_OK && i < r->nfiles; i++) {
		if (r->files[i].restored)
			continue;
		if (out_of_time(r)) {
			*stopped = true;
			break;
		}
		rc = restore_file(r, &r->files[i]);
	}
	return rc;
}

int
restore_pass(struct job *j, const struct restore_opts *ro, bool *stopped,
    char *summary, size_t size)
{
	const struct job_opts *o = j->o;
	struct restore r;
	char table[64] = "", err[4096], range[40] = "";
	const char *owner;
	bool exists = false;
	int rc = J_OK;

	memset(&r, 0, sizeof(r));
	r.j = j;
	r.ro = ro;
	*stopped = false;
	if (ro->file != NULL)
		rc = resolve_file(&r, &j->db, table, sizeof(table));
	else
		snprintf(table, sizeof(table), "%s", ro->table);
	if (rc != J_OK) {
		snprintf(summary, size, "%s", r.a.err);
		return rc;
	}
	owner = restore_owner(table);
	if (owner == NULL) {
		snprintf(summary, size, "table '%s' is not archived by these jobs", table);
		return J_SOFTWARE;
	}
	/* The table's own job must not archive while rows come back. */
	if (!o->dry_run && (rc = lock_take(&j->lock, owner, j->name, err,
	    sizeof(err))) != J_OK) {
		snprintf(summary, size, "%s", err);
		return rc;
	}
	/* A retired table that migrate dropped: its files are kept to read. */
	if ((rc = db_table_exists(&j->db, table, &exists)) == J_OK && !exists) {
		snprintf(summary, size, "table %s no longer exists (migrate dropped "
		    "it once it was retired): its archive files are kept to read "
		    "(zcat FILE | jq), not to restore", table);
		rc = J_DATAERR;
	} else if (rc != J_OK) {
		snprintf(summary, size, "%s", j->db.err);
	}
	if (rc != J_OK) {
		if (!o->dry_run)
			lock_drop(&j->lock, owner);
		return rc;
	}
	rc = archive_open(&r.a, &j->db, &j->run, j->name, table, NULL, o->batch_size);
	if (rc == J_OK)
		rc = run(&r, stopped);
	if (ro->from[0] != '\0' || ro->to[0] != '\0')
		snprintf(range, sizeof(range), " (days %s..%s)",
		    ro->from[0] ? ro->from : "first", ro->to[0] ? ro->to : "last");
	if (r.damaged > 0)
		snprintf(summary, size, "%s", archive_error(&r.a));
	else if (rc != J_OK)
		snprintf(summary, size, "%s (after %lld rows restored from %lld files)",
		    archive_error(&r.a), (long long)r.rows, (long long)r.done);
	else if (r.nfiles == (size_t)r.already)
		snprintf(summary, size, "nothing to do: no archived %s rows to "
		    "restore%s; %lld files were restored before", table, range,
		    (long long)r.already);
	else
		snprintf(summary, size, "%s %lld rows of %s from %lld files%s; %lld "
		    "rows were already in the table; %lld files were restored "
		    "before; %.2f s%s", o->dry_run ? "would restore" : "restored",
		    (long long)(o->dry_run ? r.planned : r.rows), table, o->dry_run ?
		    (long long)(r.nfiles - (size_t)r.already) : (long long)r.done,
		    range, (long long)r.present, (long long)r.already,
		    job_seconds(j), *stopped ?
		    "; stopped at --max-runtime, the next run goes on" : "");
	restore_free(&r);
	if (!o->dry_run)
		lock_drop(&j->lock, owner);
	return rc;
}
