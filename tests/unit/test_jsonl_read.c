/*
 * Unit tests for common/jsonl_read.c: every row jsonl_row() writes reads back
 * to the same values (types and exact bytes, compared with the row digest),
 * and lines our encoder never writes are refused with a reason.
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

#include "jsonl.h"

#define NCOLS 6

static sqlite3 *db;
static char *names[NCOLS] = { "id", "a", "b\"q", "c\\d", "é", "f" };

static int
setup(void **state)
{
	(void)state;
	return sqlite3_open(":memory:", &db) == SQLITE_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	return sqlite3_close(db) == SQLITE_OK ? 0 : -1;
}

static sqlite3_stmt *
params(void)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT ?1, ?2, ?3, ?4, ?5, ?6",
	    -1, &st, NULL), SQLITE_OK);
	return st;
}

/* One random value of a random storage class, with the awkward ones often. */
static void
bind_random(sqlite3_stmt *st, int i)
{
	static const int64_t ints[] = { 0, -1, 1, INT64_MAX, INT64_MIN,
	    100000000000LL, -9007199254740993LL };
	static const double reals[] = { 0.0, -0.0, 0.1, 1e300, -1e-300, 5.0,
	    4.9e-324, 1.7976931348623157e308, 0.30000000000000004 };
	unsigned char bytes[48];
	size_t n = rnd() % sizeof(bytes), k;
	double d;

	switch (rnd() % 6) {
	case 0:
		sqlite3_bind_int64(st, i, rnd() % 2 ? ints[rnd() % 7] : (int64_t)rnd());
		break;
	case 1:
		if (rnd() % 3 == 0) {
			d = reals[rnd() % 9];
		} else {
			uint64_t u = rnd();

			memcpy(&d, &u, sizeof(d));
			if (isnan(d))
				d = INFINITY * (rnd() % 2 ? 1 : -1);
		}
		sqlite3_bind_double(st, i, d);
		break;
	case 2:		/* text: any bytes, NUL and invalid UTF-8 included */
		for (k = 0; k < n; k++)
			bytes[k] = (unsigned char)(rnd() % 3 ? 0x20 + rnd() % 95 : rnd());
		sqlite3_bind_text(st, i, (const char *)bytes, (int)n, SQLITE_TRANSIENT);
		break;
	case 3:		/* valid multibyte UTF-8 */
		sqlite3_bind_text(st, i, "é€😀\"\\\n\t\x01\x7f", -1, SQLITE_STATIC);
		break;
	case 4:
		for (k = 0; k < n; k++)
			bytes[k] = (unsigned char)rnd();
		sqlite3_bind_blob(st, i, bytes, (int)n, SQLITE_TRANSIENT);
		break;
	default:
		sqlite3_bind_null(st, i);
	}
}

static void
test_random_rows_read_back(void **state)
{
	sqlite3_stmt *orig = params(), *back = params();
	struct jbuf b = { 0 };
	struct jrow row = { 0 };
	char err[256];
	int i, c;

	(void)state;
	rng = 11;
	for (i = 0; i < 5000; i++) {
		for (c = 1; c <= NCOLS; c++)
			bind_random(orig, c);
		assert_int_equal(sqlite3_step(orig), SQLITE_ROW);
		b.len = 0;
		assert_int_equal(jsonl_row(&b, orig, NCOLS, names), 0);
		assert_true(b.len > 0 && b.p[b.len - 1] == '\n');
		if (jsonl_parse(&row, b.p, b.len - 1, err, sizeof(err)) != 0)
			fail_msg("case %d: %s: %.*s", i, err, (int)b.len, b.p);
		assert_int_equal(row.n, NCOLS);
		for (c = 0; c < NCOLS; c++) {
			assert_string_equal(row.f[c].key, names[c]);
			assert_int_equal(jsonl_bind(back, c + 1, &row.f[c]), SQLITE_OK);
		}
		assert_int_equal(sqlite3_step(back), SQLITE_ROW);
		for (c = 0; c < NCOLS; c++)
			if (sqlite3_column_type(orig, c) != sqlite3_column_type(back, c))
				fail_msg("case %d column %d: type %d read back as %d: %.*s", i,
				    c, sqlite3_column_type(orig, c),
				    sqlite3_column_type(back, c), (int)b.len, b.p);
		if (jsonl_row_digest(orig, NCOLS) != jsonl_row_digest(back, NCOLS))
			fail_msg("case %d: values differ after reading back: %.*s", i,
			    (int)b.len, b.p);
		sqlite3_reset(orig);
		sqlite3_reset(back);
	}
	sqlite3_finalize(orig);
	sqlite3_finalize(back);
	jrow_free(&row);
	jbuf_free(&b);
}

static void
test_exact_values(void **state)
{
	const char *line = "{\"i\":-9223372036854775808,\"r\":1e999,\"n\":-1e999,"
	    "\"z\":-0.0,\"t\":\"a\\u0000b\\ud83d\\ude00\",\"x\":{\"text_base64\":\"/2E=\"},"
	    "\"b\":{\"blob_base64\":\"\"},\"u\":null}";
	struct jrow row = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(jsonl_parse(&row, line, strlen(line), err, sizeof(err)), 0);
	assert_int_equal(row.n, 8);
	assert_int_equal(row.f[0].type, SQLITE_INTEGER);
	assert_true(row.f[0].i == INT64_MIN);
	assert_true(row.f[1].type == SQLITE_FLOAT && isinf(row.f[1].r) && row.f[1].r > 0);
	assert_true(row.f[2].type == SQLITE_FLOAT && isinf(row.f[2].r) && row.f[2].r < 0);
	assert_true(row.f[3].type == SQLITE_FLOAT && row.f[3].r == 0 && signbit(row.f[3].r));
	assert_int_equal(row.f[4].type, SQLITE_TEXT);
	assert_int_equal(row.f[4].n, 7);
	assert_memory_equal(row.f[4].p, "a\0b\xf0\x9f\x98\x80", 7);
	assert_int_equal(row.f[5].type, SQLITE_TEXT);
	assert_int_equal(row.f[5].n, 2);
	assert_memory_equal(row.f[5].p, "\xff" "a", 2);
	assert_true(row.f[6].type == SQLITE_BLOB && row.f[6].n == 0);
	assert_int_equal(row.f[7].type, SQLITE_NULL);
	jrow_free(&row);
}

static void
test_refused(void **state)
{
	static const char *bad[] = {
		"", "[]", "{", "{\"a\":1", "{\"a\":1}x", "{\"a\":1,}", "{\"a\" 1}",
		"{a:1}", "{\"a\":true}", "{\"a\":[1]}", "{\"a\":{\"b\":1}}",
		"{\"a\":{\"blob_base64\":\"abc\"}}", "{\"a\":{\"blob_base64\":\"a=bc\"}}",
		"{\"a\":{\"text_base64\":\"YQ==\",\"x\":1}}",
		"{\"a\":9223372036854775808}", "{\"a\":1-2}", "{\"a\":-}",
		"{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}",
		"{\"a\":\"tab\there\"}", "{\"a\":\"open}", "{\"a\":1,\"a\":2}",
		"{\"a\":nul}", "{\"a\":.5}",
	};
	struct jrow row = { 0 };
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (jsonl_parse(&row, bad[i], strlen(bad[i]), err, sizeof(err)) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != '\0');
	}
	jrow_free(&row);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_rows_read_back),
		cmocka_unit_test(test_exact_values),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
