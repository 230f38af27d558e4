/*
 * JSON Lines encoding of table rows for the archives (SPEC section 6), and a
 * 64-bit digest of a row used to prove, inside the DELETE transaction, that a
 * row is still exactly what was archived.
 *
 * One object per row, every column, keys in table order:
 *   INTEGER  decimal number, all 64 bits (e.g. 9223372036854775807)
 *   REAL     shortest decimal that reads back to the same double, always with
 *            a '.' or an exponent so it stays a REAL (5.0, 1e+300); +-inf as
 *            +-1e999 (what IEEE parsers read as infinity)
 *   TEXT     JSON string; control bytes and NUL escaped (\u0000); text that
 *            is not valid UTF-8 becomes {"text_base64":"..."} (its raw bytes)
 *   BLOB     {"blob_base64":"..."}
 *   NULL     null
 */
#ifndef JOBS_JSONL_H
#define JOBS_JSONL_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

struct jbuf {
	char *p;
	size_t len, cap;
};

void jbuf_free(struct jbuf *b);

/* Append one JSON object line ("{...}\n") for columns 0..ncols-1 of the
 * current row of st, keys from names[].  Returns 0, or -1 out of memory. */
int jsonl_row(struct jbuf *b, sqlite3_stmt *st, int ncols, char *const *names);

/* Digest of columns 0..ncols-1 of the current row (types and exact bytes). */
uint64_t jsonl_row_digest(sqlite3_stmt *st, int ncols);

/*
 * Reading the archives back (restore_archive): the exact inverse of
 * jsonl_row(), and nothing more.  A line is one object whose values are
 * numbers, strings, null, or the {"text_base64":...} / {"blob_base64":...}
 * wrappers; anything else (true/false, arrays, other objects, duplicate keys,
 * trailing bytes) is refused, since our encoder never writes it.
 */
struct jfield {
	const char *key;		/* NUL-terminated, points into the row's store */
	int type;			/* SQLITE_INTEGER, _FLOAT, _TEXT, _BLOB, _NULL */
	int64_t i;
	double r;
	const char *p;			/* TEXT/BLOB bytes (may hold NUL bytes) */
	size_t n;
};

struct jrow {
	struct jfield *f;
	int n, cap;
	struct jbuf store;		/* decoded keys and strings */
};

/* Parse one line (without its newline).  Returns 0, or -1 with err set. */
int jsonl_parse(struct jrow *row, const char *line, size_t len, char *err,
    size_t errsize);

/* Bind field k of row to parameter index of st (SQLITE_TRANSIENT). */
int jsonl_bind(sqlite3_stmt *st, int index, const struct jfield *f);

void jrow_free(struct jrow *row);

#endif
