/*
 * Step 1 of a restore (restore.h): an archive file read whole and checked
 * against its manifest row and, row by row, against the table, before the
 * database is touched.  restore.c checks each row again as it goes in;
 * restore_verify_all() makes the same check for jobs_status
 * --verify-archives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "archive_file.h"
#include "log.h"
#include "restore.h"
#include "restore_impl.h"
#include "status.h"

/* Index of the id field in the current row, -1 if none. */
int
restore_id_field(const struct jrow *row)
{
	int i;

	for (i = 0; i < row->n; i++)
		if (strcmp(row->f[i].key, "id") == 0)
			return row->f[i].type == SQLITE_INTEGER ? i : -1;
	return -1;
}

/* Same keys, same order, as the file's first line (which sets r->keys). */
static int
check_keys(struct restore *r, char *why, size_t size)
{
	int i, k;

	if (r->keys == NULL) {
		if ((r->keys = calloc((size_t)r->row.n, sizeof(*r->keys))) == NULL)
			return -1;
		for (i = 0; i < r->row.n; i++) {
			for (k = 0; k < r->a.ncols; k++)
				if (strcmp(r->a.names[k], r->row.f[i].key) == 0)
					break;
			if (k == r->a.ncols) {
				snprintf(why, size, "column \"%s\" is not in table %s",
				    r->row.f[i].key, r->a.table);
				return -1;
			}
			if ((r->keys[i] = strdup(r->row.f[i].key)) == NULL)
				return -1;
			r->nkeys++;
		}
		return 0;
	}
	if (r->row.n != r->nkeys) {
		snprintf(why, size, "a line has %d columns, the first %d", r->row.n, r->nkeys);
		return -1;
	}
	for (i = 0; i < r->nkeys; i++)
		if (strcmp(r->keys[i], r->row.f[i].key) != 0) {
			snprintf(why, size, "a line's columns differ from the first line's");
			return -1;
		}
	return 0;
}

/* SELECT of the file's columns (r->keys) of the row with id ?1. */
int
restore_prepare_compare(struct restore *r, sqlite3_stmt **st)
{
	sqlite3_str *s = sqlite3_str_new(r->a.db->h);
	char *sql;
	int i, rc;

	sqlite3_str_appendf(s, "SELECT ");
	for (i = 0; i < r->nkeys; i++)
		sqlite3_str_appendf(s, "%s\"%w\"", i ? ", " : "", r->keys[i]);
	sqlite3_str_appendf(s, " FROM \"%w\" WHERE id = ?1", r->a.table);
	if ((sql = sqlite3_str_finish(s)) == NULL)
		return J_SOFTWARE;
	rc = db_prepare(r->a.db, st, sql);
	sqlite3_free(sql);
	return rc;
}

/*
 * Is the archived row line (len bytes, id) already in the table, and with
 * the same content?  The table's row is encoded the way the archiver wrote
 * the line (the file's columns, in its order), so equal bytes mean equal
 * types and values.  A row with other content under the same id (SQLite
 * reuses the ids of an emptied table) is a conflict: counted and named.
 */
int
restore_compare_row(struct restore *r, sqlite3_stmt *cmp, const char *line,
    size_t len, int64_t id, bool *present)
{
	bool row;
	int rc;

	sqlite3_bind_int64(cmp, 1, id);
	rc = db_step(r->a.db, cmp, &row);
	*present = rc == J_OK && row;
	if (*present) {
		r->enc.len = 0;
		if (jsonl_row(&r->enc, cmp, r->nkeys, r->keys) != 0)
			rc = J_SOFTWARE;
		else if (r->enc.len != len + 1 || memcmp(r->enc.p, line, len) != 0) {
			size_t used = strlen(r->conflict_ids);

			if (r->conflicts++ < 8)
				snprintf(r->conflict_ids + used, sizeof(r->conflict_ids) - used,
				    "%s%lld", used ? ", " : "", (long long)id);
		}
	}
	sqlite3_reset(cmp);
	return rc;
}

/* The refusal of a file with conflicting rows (see restore_compare_row()). */
int
restore_refuse_conflicts(struct restore *r, const struct rfile *f)
{
	snprintf(r->a.err, sizeof(r->a.err), "archive '%s/%s': %lld of its rows "
	    "have ids that %s now holds with other content (ids %s%s): the table "
	    "reused them after it was emptied; nothing of it was restored and the "
	    "file stays where it is", f->dir, f->path, (long long)r->conflicts,
	    r->a.table, r->conflict_ids, r->conflicts > 8 ? ", ..." : "");
	return J_DATAERR;
}

/*
 * Read f and check it against its manifest row (restore.h step 1).  With
 * compare, also check every row against the table (restore_compare_row()): a
 * conflict refuses the file, and rows already there are counted in present.
 */
int
restore_verify_file(struct restore *r, const struct rfile *f, bool compare)
{
	char why[512] = "";
	int64_t *ids = NULL, bytes = 0, n = 0;
	sqlite3_stmt *cmp = NULL;
	size_t pos = 0;
	int rc, k;
	bool present;

	restore_free_keys(r);
	r->conflicts = 0;
	r->conflict_ids[0] = '\0';
	if ((rc = afile_read(&r->a, f->dir, f->path, &r->data, &bytes)) != J_OK)
		return rc;
	if (bytes != f->bytes)
		snprintf(why, sizeof(why), "%lld bytes, the manifest says %lld",
		    (long long)bytes, (long long)f->bytes);
	if (why[0] == '\0' && f->rows > 0 &&
	    (ids = malloc((size_t)f->rows * sizeof(*ids))) == NULL)
		return J_SOFTWARE;
	while (rc == J_OK && why[0] == '\0' && pos < r->data.len) {
		const char *line = r->data.p + pos;
		const char *nl = memchr(line, '\n', r->data.len - pos);
		size_t len = nl ? (size_t)(nl - line) : r->data.len - pos;
		char perr[256];

		pos += len + 1;
		if (nl == NULL) {
			snprintf(why, sizeof(why), "the last line has no newline");
		} else if (n >= f->rows) {
			snprintf(why, sizeof(why), "more than the %lld rows of the manifest",
			    (long long)f->rows);
		} else if (jsonl_parse(&r->row, line, len, perr, sizeof(perr)) != 0) {
			snprintf(why, sizeof(why), "line %lld: %s", (long long)n + 1, perr);
		} else if (check_keys(r, why, sizeof(why)) != 0) {
			if (why[0] == '\0')
				rc = J_SOFTWARE;
		} else if ((k = restore_id_field(&r->row)) < 0) {
			snprintf(why, sizeof(why), "line %lld has no integer id",
			    (long long)n + 1);
		} else {
			ids[n++] = r->row.f[k].i;
			if (compare && cmp == NULL)
				rc = restore_prepare_compare(r, &cmp);
			if (compare && rc == J_OK &&
			    (rc = restore_compare_row(r, cmp, line, len,
			    r->row.f[k].i, &present)) == J_OK)
				r->present += present;
		}
	}
	db_finalize(&cmp);
	if (rc == J_OK && why[0] == '\0' && n != f->rows)
		snprintf(why, sizeof(why), "%lld rows, the manifest says %lld",
		    (long long)n, (long long)f->rows);
	if (rc == J_OK && why[0] == '\0' && n > 0) {
		qsort(ids, (size_t)n, sizeof(*ids), archive_id_cmp);
		for (k = 1; k < n && ids[k] != ids[k - 1]; k++)
			;
		if (k < n)
			snprintf(why, sizeof(why), "id %lld twice", (long long)ids[k]);
		else if (ids[0] != f->min_id || ids[n - 1] != f->max_id)
			snprintf(why, sizeof(why), "ids %lld..%lld, the manifest says "
			    "%lld..%lld", (long long)ids[0], (long long)ids[n - 1],
			    (long long)f->min_id, (long long)f->max_id);
	}
	free(ids);
	if (rc != J_OK)
		return rc;
	if (why[0] != '\0') {
		snprintf(r->a.err, sizeof(r->a.err), "archive '%s/%s' is damaged: %s",
		    f->dir, f->path, why);
		return J_DATAERR;
	}
	return r->conflicts > 0 ? restore_refuse_conflicts(r, f) : J_OK;
}

int
restore_verify_all(struct db *db, const char *table, int64_t *files,
    int64_t *damaged)
{
	struct restore_opts ro = { table, NULL, "", "" };
	struct restore r;
	bool exists = false;
	size_t i;
	int rc;

	*files = *damaged = 0;
	if ((rc = db_table_exists(db, table, &exists)) != J_OK || !exists)
		return rc;
	memset(&r, 0, sizeof(r));
	r.ro = &ro;
	rc = archive_open(&r.a, db, NULL, "jobs_status", table, NULL, 0);
	if (rc == J_OK)
		rc = restore_select_files(&r);
	for (i = 0; rc == J_OK && i < r.nfiles; i++) {
		int vrc = restore_verify_file(&r, &r.files[i], false);

		(*files)++;
		if (vrc == J_DATAERR) {
			log_warn("%s", r.a.err);
			(*damaged)++;
		} else {
			rc = vrc;
		}
	}
	restore_free(&r);
	return rc;
}
