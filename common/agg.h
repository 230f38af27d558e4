/*
 * Exact counting of SQLite values in C, within a memory budget: distinct
 * counts and per-value frequencies, with SQLite's notion of equality (5 and
 * 5.0 are one value, text compares bytewise).  rollup_daily uses it to read a
 * day's events once instead of running two GROUP BY queries; when a day is so
 * large that the budget runs out, the caller falls back to SQL, which spills
 * to disk.  Memory therefore stays bounded whatever the table holds.
 */
#ifndef JOBS_AGG_H
#define JOBS_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

struct agg_entry {
	uint64_t hash;
	uint32_t off, len;	/* key bytes in the arena: type byte, payload */
	int64_t count;
};

/* A hash table of values with counts; all tables of one budget share it. */
struct agg_table {
	struct agg_entry *slots;
	size_t cap, used;
};

struct agg_budget {
	char *arena;
	size_t len, cap;
	size_t bytes, limit;	/* memory in use by arena and tables, cap */
};

/* Count one value (NULL is ignored).  -1 when the budget is exhausted. */
int agg_add(struct agg_budget *b, struct agg_table *t, sqlite3_value *v);

void agg_table_free(struct agg_budget *b, struct agg_table *t);
void agg_budget_free(struct agg_budget *b);

/*
 * The n most frequent values of t, most frequent first, ties to the smaller
 * value in SQLite's order (numbers, then text, then blobs).  Appends
 * `{"<key>":V,"count":N}` objects, comma-separated, to s.  0, or -1 out of
 * memory; n <= 0 appends nothing.
 */
int agg_top_json(const struct agg_budget *b, const struct agg_table *t, int n,
    const char *key, sqlite3_str *s);

#endif
