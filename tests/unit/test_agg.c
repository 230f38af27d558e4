/*
 * Unit tests for common/agg.c.  SQLite is the oracle: distinct counts must
 * equal COUNT(DISTINCT) over the same values, and the top-N list must equal
 * what rollup_daily's SQL fallback would write (GROUP BY ... ORDER BY n DESC,
 * value), so the C and SQL paths agree.  The budget is checked after every
 * call: never above the limit, and equal to the memory actually held.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "agg.h"

#define NO_LIMIT ((size_t)1 << 40)

static sqlite3 *db;

static void
exec(const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : "?");
}

static sqlite3_stmt *
prepare(const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	return st;
}

static int
setup(void **state)
{
	(void)state;
	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		return -1;
	/* No declared type: every value keeps the storage class it was given. */
	return sqlite3_exec(db, "CREATE TABLE v(g, x)", NULL, NULL, NULL) ==
	    SQLITE_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	return sqlite3_close(db) == SQLITE_OK ? 0 : -1;
}

/* Memory the budget holds: the arena and every table's slots. */
static void
check_budget(const struct agg_budget *b, const struct agg_table *t, int nt)
{
	size_t held = b->cap;
	int i;

	for (i = 0; i < nt; i++)
		held += t[i].cap * sizeof(struct agg_entry);
	if (b->bytes > b->limit)
		fail_msg("budget %zu bytes over its limit %zu", b->bytes, b->limit);
	if (b->bytes != held)
		fail_msg("budget counts %zu bytes, holds %zu", b->bytes, held);
}

/* Count column 1 of `SELECT g, x FROM v` into t[g] (g in 0..nt-1). */
static int
count_all(struct agg_budget *b, struct agg_table *t, int nt)
{
	sqlite3_stmt *st = prepare("SELECT g, x FROM v ORDER BY rowid");
	int rc = 0;

	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		int g = sqlite3_column_int(st, 0);

		assert_true(g >= 0 && g < nt);
		rc = agg_add(b, &t[g], sqlite3_column_value(st, 1));
		check_budget(b, t, nt);
	}
	sqlite3_finalize(st);
	return rc;
}

static int64_t
count_distinct(int g)
{
	sqlite3_stmt *st = prepare("SELECT count(DISTINCT x) FROM v WHERE g = ?1");
	int64_t n;

	sqlite3_bind_int(st, 1, g);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static sqlite3_stmt *ins;

static void
ins_begin(void)
{
	exec("DELETE FROM v");
	ins = prepare("INSERT INTO v(g, x) VALUES (?1, ?2)");
}

static void
ins_step(int g)
{
	sqlite3_bind_int(ins, 1, g);
	assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
	sqlite3_reset(ins);
	sqlite3_clear_bindings(ins);
}

static void add_int(int g, sqlite3_int64 v) { sqlite3_bind_int64(ins, 2, v); ins_step(g); }
static void add_real(int g, double v) { sqlite3_bind_double(ins, 2, v); ins_step(g); }
static void add_null(int g) { ins_step(g); }

static void
add_text(int g, const char *s, int n)
{
	sqlite3_bind_text(ins, 2, s, n, SQLITE_TRANSIENT);
	ins_step(g);
}

static void
add_blob(int g, const void *p, int n)
{
	/* zeroblob for the empty blob: bind_blob(NULL, 0) would be NULL */
	if (n == 0)
		sqlite3_bind_zeroblob(ins, 2, 0);
	else
		sqlite3_bind_blob(ins, 2, p, n, SQLITE_TRANSIENT);
	ins_step(g);
}

static void
ins_end(void)
{
	sqlite3_finalize(ins);
	ins = NULL;
}

/* Every group's distinct count equals SQLite's COUNT(DISTINCT). */
static void
check_distinct(int nt)
{
	struct agg_budget b = { NULL, 0, 0, 0, NO_LIMIT };
	struct agg_table t[8];
	int i;

	assert_true(nt <= 8);
	memset(t, 0, sizeof(t));
	assert_int_equal(count_all(&b, t, nt), 0);
	for (i = 0; i < nt; i++) {
		int64_t want = count_distinct(i);

		if ((int64_t)t[i].used != want)
			fail_msg("group %d: %zu distinct, COUNT(DISTINCT) says %lld",
			    i, t[i].used, (long long)want);
	}
	for (i = 0; i < nt; i++) {
		agg_table_free(&b, &t[i]);
		check_budget(&b, t, nt);
	}
	assert_int_equal(b.bytes, b.cap);
	agg_budget_free(&b);
	assert_int_equal(b.bytes, 0);
}

static void
test_distinct_fixed(void **state)
{
	(void)state;
	ins_begin();
	/* 5, 5.0 and 5 again are one value; '5' and x'35' are two more. */
	add_int(0, 5); add_real(0, 5.0); add_int(0, 5);
	add_text(0, "5", 1); add_blob(0, "5", 1); add_real(0, 5.5);
	add_null(0); add_null(0);
	/* zeros: 0, 0.0, -0.0 are one value; '' and x'' are two more */
	add_int(0, 0); add_real(0, 0.0); add_real(0, -0.0);
	add_text(0, "", 0); add_blob(0, "", 0);
	/* text compares bytewise, NUL included, case sensitive */
	add_text(0, "a", 1); add_text(0, "A", 1); add_text(0, "a\0b", 3);
	add_text(0, "a\0c", 3); add_text(0, "a\0b", 3); add_text(0, "a ", 2);
	add_blob(0, "a\0b", 3); add_blob(0, "a", 1);
	/* the edges of int64 and of doubles */
	add_int(0, INT64_MAX); add_real(0, 9223372036854775808.0);
	add_int(0, INT64_MIN); add_real(0, -9223372036854775808.0);
	add_int(0, 9007199254740993LL); add_real(0, 9007199254740992.0);
	add_int(0, 9007199254740992LL); add_real(0, 1e20); add_real(0, 1e20);
	add_real(0, HUGE_VAL); add_real(0, -HUGE_VAL); add_real(0, HUGE_VAL);
	add_real(0, 0.1); add_real(0, 0.1); add_real(0, 0.30000000000000004);
	add_real(0, 0.1 + 0.2); add_real(0, -1.5); add_int(0, -1); add_real(0, -1.0);
	/* A group of nothing but NULLs counts zero. */
	add_null(1); add_null(1);
	ins_end();
	check_distinct(2);
	assert_int_equal(count_distinct(0), 26);	/* the list above, by hand */
}

/* Random values from a small domain of every class, in four groups. */
static void
add_random(int g, int domain)
{
	int64_t k = (int64_t)(rnd() % (uint64_t)domain) - domain / 2;
	char s[16];
	double d;

	switch (rnd() % 9) {
	case 0:
		add_null(g);
		break;
	case 1:
	case 2:
		add_int(g, k);
		break;
	case 3:		/* integral reals: the same values as the ints */
		add_real(g, (double)k);
		break;
	case 4:
		add_real(g, (double)k / 4);
		break;
	case 5:		/* random bits: mostly distinct, huge and tiny */
		do {
			uint64_t bits = rnd();

			memcpy(&d, &bits, sizeof(d));
		} while (isnan(d));
		add_real(g, rnd() % 4 ? (double)k + 0.5 : d);
		break;
	case 6:
	case 7:		/* text, including the digits of the ints */
		snprintf(s, sizeof(s), rnd() % 2 ? "%lld" : "p%llx", (long long)k);
		add_text(g, s, (int)strlen(s));
		break;
	default:
		snprintf(s, sizeof(s), "%lld", (long long)k);
		add_blob(g, s, (int)(rnd() % (strlen(s) + 1)));
	}
}

static void
test_distinct_random(void **state)
{
	int i;

	(void)state;
	rng = 1;
	ins_begin();
	exec("BEGIN");
	for (i = 0; i < 20000; i++)
		add_random((int)(rnd() % 4), i % 2 ? 60 : 2000);
	exec("COMMIT");
	ins_end();
	check_distinct(4);
	assert_true(count_distinct(0) > 500);
}

/*
 * The top-n list as rollup_daily's SQL fallback writes it (rollup.c,
 * json_value), except that an integral REAL is written as an integer: it is
 * one value with the integer and GROUP BY may return either form.
 */
static char *
expected_top(int g, int n)
{
	sqlite3_stmt *st = prepare("SELECT x, count(*) AS n FROM v "
	    "WHERE g = ?1 AND x IS NOT NULL GROUP BY x ORDER BY n DESC, x LIMIT ?2");
	sqlite3_str *s = sqlite3_str_new(NULL);
	const unsigned char *p;
	int k = 0, i, len;
	double d;

	sqlite3_bind_int(st, 1, g);
	sqlite3_bind_int(st, 2, n);
	while (sqlite3_step(st) == SQLITE_ROW) {
		sqlite3_str_appendf(s, "%s{\"product_id\":", k++ ? "," : "");
		switch (sqlite3_column_type(st, 0)) {
		case SQLITE_INTEGER:
			sqlite3_str_appendf(s, "%lld", sqlite3_column_int64(st, 0));
			break;
		case SQLITE_FLOAT:
			d = sqlite3_column_double(st, 0);
			if (isinf(d))
				sqlite3_str_appendall(s, d < 0 ? "-1e999" : "1e999");
			else if (d >= -9223372036854775808.0 &&
			    d < 9223372036854775808.0 && d == (double)(int64_t)d)
				sqlite3_str_appendf(s, "%lld", (long long)d);
			else
				sqlite3_str_appendf(s, "%!.17g", d);
			break;
		case SQLITE_TEXT:
			p = sqlite3_column_text(st, 0);
			len = sqlite3_column_bytes(st, 0);
			sqlite3_str_appendchar(s, 1, '"');
			for (i = 0; i < len; i++)
				if (p[i] == '"' || p[i] == '\\')
					sqlite3_str_appendf(s, "\\%c", p[i]);
				else if (p[i] < 0x20)
					sqlite3_str_appendf(s, "\\u%04x", p[i]);
				else
					sqlite3_str_appendchar(s, 1, (char)p[i]);
			sqlite3_str_appendchar(s, 1, '"');
			break;
		default:
			p = sqlite3_column_blob(st, 0);
			len = sqlite3_column_bytes(st, 0);
			sqlite3_str_appendchar(s, 1, '"');
			for (i = 0; i < len; i++)
				sqlite3_str_appendf(s, "%02x", p[i]);
			sqlite3_str_appendchar(s, 1, '"');
		}
		sqlite3_str_appendf(s, ",\"count\":%d}", sqlite3_column_int(st, 1));
	}
	sqlite3_finalize(st);
	return sqlite3_str_finish(s);
}

static char *
top_json(const struct agg_budget *b, const struct agg_table *t, int n)
{
	sqlite3_str *s = sqlite3_str_new(NULL);
	char *r;

	assert_int_equal(agg_top_json(b, t, n, "product_id", s), 0);
	r = sqlite3_str_finish(s);
	return r ? r : sqlite3_mprintf("%s", "");
}

static int
count_entries(const char *json)
{
	int n = 0;

	while ((json = strstr(json, "{\"product_id\":")) != NULL) {
		n++;
		json++;
	}
	return n;
}

/* Top n of every group against SQL, for each n in ns[]. */
static void
check_top(int nt, const int *ns, int nn)
{
	struct agg_budget b = { NULL, 0, 0, 0, NO_LIMIT };
	struct agg_table t[8];
	char *got, *want;
	int g, i;

	memset(t, 0, sizeof(t));
	assert_int_equal(count_all(&b, t, nt), 0);
	for (g = 0; g < nt; g++)
		for (i = 0; i < nn; i++) {
			got = top_json(&b, &t[g], ns[i]);
			want = expected_top(g, ns[i]);
			if (strcmp(got, want) != 0)
				fail_msg("group %d top %d:\n got  %s\n want %s", g,
				    ns[i], got, want);
			/* exactly n entries when there are that many values */
			assert_int_equal(count_entries(got), (size_t)ns[i] <
			    t[g].used ? ns[i] : (int)t[g].used);
			sqlite3_free(got);
			sqlite3_free(want);
		}
	for (g = 0; g < nt; g++)
		agg_table_free(&b, &t[g]);
	agg_budget_free(&b);
}

static void
test_top_fixed(void **state)
{
	struct agg_budget b = { NULL, 0, 0, 0, NO_LIMIT };
	struct agg_table t = { 0 };
	sqlite3_stmt *st;
	char *got;
	int i;

	(void)state;
	ins_begin();
	for (i = 0; i < 5; i++) {	/* five values seen 5 times */
		add_text(0, "b", 1);
		add_int(0, 7);
		add_real(0, 3.5);
		add_blob(0, "\x00\xff", 2);
		add_text(0, "a\"\\\n", 4);
	}
	for (i = 0; i < 3; i++) {	/* 2 and 2.0: one value seen 6 times */
		add_int(0, 2);
		add_real(0, 2.0);
	}
	add_null(0); add_null(0); add_null(0); add_null(0); add_null(0);
	add_null(0); add_null(0);	/* NULLs are never a value */
	add_int(0, -1);
	ins_end();
	st = prepare("SELECT x FROM v");
	while (sqlite3_step(st) == SQLITE_ROW)
		assert_int_equal(agg_add(&b, &t, sqlite3_column_value(st, 0)), 0);
	sqlite3_finalize(st);
	assert_int_equal(t.used, 7);

	got = top_json(&b, &t, 1);
	assert_string_equal(got, "{\"product_id\":2,\"count\":6}");
	sqlite3_free(got);
	/* ties: numbers by value, then text bytewise, then blobs */
	got = top_json(&b, &t, 6);
	assert_string_equal(got, "{\"product_id\":2,\"count\":6},"
	    "{\"product_id\":3.5,\"count\":5},{\"product_id\":7,\"count\":5},"
	    "{\"product_id\":\"a\\\"\\\\\\u000a\",\"count\":5},"
	    "{\"product_id\":\"b\",\"count\":5},"
	    "{\"product_id\":\"00ff\",\"count\":5}");
	sqlite3_free(got);
	got = top_json(&b, &t, 10);	/* fewer values than n: all of them */
	assert_int_equal(count_entries(got), 7);
	assert_non_null(strstr(got, ",{\"product_id\":-1,\"count\":1}"));
	sqlite3_free(got);
	agg_table_free(&b, &t);
	agg_budget_free(&b);
}

static void
test_top_random(void **state)
{
	static const int ns[] = { 1, 2, 3, 10, 32 };
	int i;

	(void)state;
	rng = 2;
	ins_begin();
	exec("BEGIN");
	for (i = 0; i < 12000; i++)
		add_random((int)(rnd() % 3), i % 3 ? 40 : 400);
	exec("COMMIT");
	ins_end();
	check_top(3, ns, 5);
}

/* Integers next to 2^63 order below the REAL 2^63, as in SQLite. */
static void
test_top_ties_near_int64_max(void **state)
{
	static const int ns[] = { 1, 2, 5 };

	(void)state;
	ins_begin();
	add_real(0, 9223372036854775808.0);
	add_int(0, INT64_MAX);
	add_int(0, INT64_MAX - 1);
	add_int(0, INT64_MAX - 511);
	add_real(1, 9223372036854775808.0);
	add_int(1, INT64_MAX);
	ins_end();
	check_top(2, ns, 3);
}

/* More than 32 values asked for: the header promises the n most frequent. */
static void
test_top_n_above_32(void **state)
{
	static const int ns[] = { 33, 40, 50 };
	int i;

	(void)state;
	ins_begin();
	for (i = 0; i < 60; i++)
		add_int(0, i);
	ins_end();
	check_top(1, ns, 3);
}

/* n = 0 asks for nothing and must write nothing. */
static void
test_top_zero(void **state)
{
	struct agg_budget b = { NULL, 0, 0, 0, NO_LIMIT };
	struct agg_table t = { 0 };
	sqlite3_stmt *st = prepare("SELECT 1 UNION ALL SELECT 2");
	char *got;

	(void)state;
	while (sqlite3_step(st) == SQLITE_ROW)
		assert_int_equal(agg_add(&b, &t, sqlite3_column_value(st, 0)), 0);
	sqlite3_finalize(st);
	got = top_json(&b, &t, 0);
	assert_string_equal(got, "");
	sqlite3_free(got);
	agg_table_free(&b, &t);
	agg_budget_free(&b);
}

/* An empty table writes nothing. */
static void
test_top_empty(void **state)
{
	struct agg_budget b = { NULL, 0, 0, 0, NO_LIMIT };
	struct agg_table t = { 0 };
	char *got;

	(void)state;
	got = top_json(&b, &t, 10);
	assert_string_equal(got, "");
	sqlite3_free(got);
}

/*
 * Distinct values until the budget runs out: -1 at some point, never a
 * byte over the limit, and everything counted before still right.
 */
static void
fill_until_full(size_t limit, int textlen)
{
	struct agg_budget b = { NULL, 0, 0, 0, limit };
	struct agg_table t[2];
	sqlite3_stmt *st = prepare("SELECT ?1");
	char *s = malloc((size_t)textlen + 32);
	int i, rc = 0;

	assert_non_null(s);
	memset(t, 0, sizeof(t));
	for (i = 0; i < 1000000 && rc == 0; i++) {
		if (i % 2)
			sqlite3_bind_int(st, 1, i);
		else {
			memset(s, 'x', (size_t)textlen);
			snprintf(s + textlen, 32, "%d", i);
			sqlite3_bind_text(st, 1, s, -1, SQLITE_STATIC);
		}
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		rc = agg_add(&b, &t[i % 2], sqlite3_column_value(st, 0));
		sqlite3_reset(st);
		check_budget(&b, t, 2);
		/* a value seen before (1, added at i = 1) adds no entry */
		if (rc == 0 && i > 1 && i % 7 == 0) {
			size_t used = t[1].used;

			sqlite3_bind_int(st, 1, 1);
			assert_int_equal(sqlite3_step(st), SQLITE_ROW);
			rc = agg_add(&b, &t[1], sqlite3_column_value(st, 0));
			sqlite3_reset(st);
			check_budget(&b, t, 2);
			assert_int_equal(t[1].used, used);
		}
	}
	assert_int_equal(rc, -1);
	assert_true(b.bytes <= b.limit);
	/* a failed add may keep what it had; adding again still fails or fits */
	for (int k = 0; k < 50; k++) {
		sqlite3_bind_int(st, 1, 1000000 + k);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		(void)agg_add(&b, &t[1], sqlite3_column_value(st, 0));
		sqlite3_reset(st);
		check_budget(&b, t, 2);
	}
	sqlite3_finalize(st);
	free(s);
	agg_table_free(&b, &t[0]);
	agg_table_free(&b, &t[1]);
	assert_int_equal(b.bytes, b.cap);
	agg_budget_free(&b);
	assert_int_equal(b.bytes, 0);
}

static void
test_budget_tiny(void **state)
{
	struct agg_budget b = { NULL, 0, 0, 0, 4096 };
	struct agg_table t = { 0 };
	sqlite3_stmt *st = prepare("SELECT ?1");
	int i, rc = 0, fails = 0;

	(void)state;
	for (i = 0; i < 200; i++) {
		sqlite3_bind_int(st, 1, i);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		rc = agg_add(&b, &t, sqlite3_column_value(st, 0));
		sqlite3_reset(st);
		assert_true(rc == 0 || rc == -1);
		fails += rc == -1;
		check_budget(&b, &t, 1);
	}
	sqlite3_finalize(st);
	assert_true(fails > 0);
	agg_table_free(&b, &t);
	agg_budget_free(&b);

	fill_until_full(4096, 4);
	fill_until_full(1, 4);
	fill_until_full(0, 4);
}

static void
test_budget_larger(void **state)
{
	(void)state;
	fill_until_full(100000, 4);
	fill_until_full(300000, 100);
	fill_until_full(65536 + 64 * sizeof(struct agg_entry), 4);
	fill_until_full(1 << 20, 1000);
}

/* One value larger than the whole budget. */
static void
test_budget_one_huge_value(void **state)
{
	struct agg_budget b = { NULL, 0, 0, 0, 200000 };
	struct agg_table t = { 0 };
	sqlite3_stmt *st = prepare("SELECT zeroblob(300000)");

	(void)state;
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(agg_add(&b, &t, sqlite3_column_value(st, 0)), -1);
	check_budget(&b, &t, 1);
	sqlite3_finalize(st);
	agg_table_free(&b, &t);
	agg_budget_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distinct_fixed),
		cmocka_unit_test(test_distinct_random),
		cmocka_unit_test(test_top_fixed),
		cmocka_unit_test(test_top_random),
		cmocka_unit_test(test_top_ties_near_int64_max),
		cmocka_unit_test(test_top_n_above_32),
		cmocka_unit_test(test_top_empty),
		cmocka_unit_test(test_budget_tiny),
		cmocka_unit_test(test_budget_larger),
		cmocka_unit_test(test_budget_one_huge_value),
		/* last: an out-of-bounds access here aborts an ASan build */
		cmocka_unit_test(test_top_zero),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
