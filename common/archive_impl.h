/*
 * Internal to the archiver's .c files (archive.c, archive_run.c,
 * archive_dry.c, archive_recover.c, archive_pass.c): the types and helpers
 * that more than one of them needs.  archive.h is the API; nothing else
 * includes this file.
 */
#ifndef JOBS_ARCHIVE_IMPL_H
#define JOBS_ARCHIVE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "archive.h"
#include "status.h"
#include "timefmt.h"

#define IDS_MAX		((size_t)512 * 1024)	/* ids of one day held at once: 4 MB */

/* The "day" of rows whose time cannot be read (retire_table only). */
#define NO_DAY	INT64_MIN

/* One batch of a day's ids, with their rows' digests and, with an archive,
 * the rows encoded (read_batch(), archive.c). */
struct batch {
	int64_t *ids;			/* ascending */
	uint64_t *digests;
	size_t n, cap;
	struct jbuf json;
	struct jbuf id_list;		/* "[id,id,...]", bound as :ids */
	int64_t min_id, max_id;
	int64_t lo, hi;			/* the day's interval */
};

/* Statements of one run (stmts_prepare(), archive_run.c); the per-day ones
 * are rebuilt when the number of probes changes. */
struct stmts {
	int nday;			/* probes in `ids` and `select` */
	sqlite3_stmt *ids;		/* ids of a day's rows (index only) */
	sqlite3_stmt *select;		/* a day's rows, for --dry-run */
	sqlite3_stmt *first;		/* first row of one probe, in index order */
	sqlite3_stmt *by_id;		/* one row, if it is still due */
	sqlite3_stmt *del;		/* the batch's rows, RETURNING them */
	sqlite3_stmt *intent, *done, *unreadable;
	bool exhausted[TS_TEXT_T + 1];	/* kinds with no due row left (find_day) */
};

/*
 * A day's due rows, by id.  The ids come from the index alone (the rowid is
 * in every index entry) and are sorted, so each batch is a run of nearby
 * ids: its deletes touch each table and index page once, not once per batch.
 * At most IDS_MAX ids are held; a larger day is done in several rounds.
 */
struct day_ids {
	int64_t *v;
	size_t n, pos;
	size_t take;		/* ids from pos in the current batch */
	bool more;		/* IDS_MAX reached: collect again afterwards */
};

/* A day's partition name: YYYY-MM-DD, or Hive's name for an unknown value. */
static inline void
day_name(int64_t day_ms, char out[32])
{
	if (day_ms == NO_DAY)
		snprintf(out, 32, "%s", ARCHIVE_NO_DAY);
	else
		ts_format_day(day_ms, out);
}

/* Prepare sqlite3_mprintf() text, then free it. */
static inline int
prepare_owned(struct archiver *a, sqlite3_stmt **st, char *sql)
{
	int rc = sql ? db_prepare(a->db, st, sql) : J_SOFTWARE;

	sqlite3_free(sql);
	return rc;
}

/* archive.c */

/* Count day_ms among the run's days (a->days, first and last, the run's
 * window); NO_DAY is not a day. */
void archive_note_day(struct archiver *a, int64_t day_ms);

/* One batch of ids, steps 1 to 4. */
int archive_do_batch(struct archiver *a, struct stmts *s, struct batch *b,
    int64_t day_ms, int64_t end, const struct day_ids *d, bool first);

void archive_batch_free(struct batch *b);

/* archive_dry.c */

/* --dry-run: count a day's rows and measure its compressed size. */
int archive_dry_day(struct archiver *a, struct stmts *s, int64_t day_ms,
    const struct tsprobe *p, int n);

/* --dry-run of a retired table: every row, in one read. */
int archive_dry_all(struct archiver *a);

/* archive_recover.c */

/* Delete manifest row id if it is still 'writing' (its file removed, or
 * never made). */
int archive_forget_manifest(struct archiver *a, int64_t id);

#endif
