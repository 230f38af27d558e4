/*
 * Internal to restore_archive's .c files (restore.c, restore_verify.c): the
 * state of a run and the helpers both use.  restore.h is the API; nothing
 * else includes this file.
 */
#ifndef JOBS_RESTORE_IMPL_H
#define JOBS_RESTORE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "restore.h"

/* One manifest row selected for the run. */
struct rfile {
	int64_t id;
	char day[32];			/* YYYY-MM-DD, or ARCHIVE_NO_DAY */
	char *dir, *path;
	bool restored;			/* state 'restored' already */
	int64_t rows, min_id, max_id, bytes;
};

struct restore {
	struct job *j;
	const struct restore_opts *ro;
	struct archiver a;
	struct rfile *files;
	size_t nfiles;
	struct jbuf data;		/* one file, decompressed */
	struct jrow row;
	char **keys;			/* a file's columns, from its first line */
	int nkeys;
	int64_t rows, present, done, already, damaged;
	struct jbuf enc;		/* a table row, encoded to compare */
	int64_t conflicts;		/* rows of one file whose id holds other content */
	char conflict_ids[160];		/* the first of them, for the message */
	int64_t planned;		/* rows of the verified files */
	char file_abs[4096];		/* --file, resolved once (resolve_file) */
};

/* restore.c */

/* Free what the run holds, the archiver included. */
void restore_free(struct restore *r);

/* Forget the columns of the last file read (r->keys). */
void restore_free_keys(struct restore *r);

/* The manifest rows of the run ('done' and 'restored'), in r->files. */
int restore_select_files(struct restore *r);

/* restore_verify.c */

/* Index of the id field in the current row, -1 if none. */
int restore_id_field(const struct jrow *row);

/* SELECT of the file's columns (r->keys) of the row with id ?1. */
int restore_prepare_compare(struct restore *r, sqlite3_stmt **st);

/* Is the archived row already in the table, with the same content?  Other
 * content under its id is a conflict, counted in r->conflicts. */
int restore_compare_row(struct restore *r, sqlite3_stmt *cmp, const char *line,
    size_t len, int64_t id, bool *present);

/* The refusal of a file with conflicting rows (J_DATAERR, r->a.err). */
int restore_refuse_conflicts(struct restore *r, const struct rfile *f);

/* Read f and check it (step 1); with compare, against the table too. */
int restore_verify_file(struct restore *r, const struct rfile *f, bool compare);

#endif
