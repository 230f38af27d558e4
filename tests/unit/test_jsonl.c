/*
 * Unit tests for common/jsonl.c: the exact archive line for every storage
 * class (SPEC section 6), lossless round trips of reals, text and blobs
 * (checked with decoders written here, not the encoder's own tables), and a
 * row digest that changes whenever any column's type or bytes change.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "jsonl.h"

static sqlite3 *db;

static int
group_setup(void **state)
{
	(void)state;
	return sqlite3_open(":memory:", &db) == SQLITE_OK ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	return sqlite3_close(db) == SQLITE_OK ? 0 : -1;
}

static sqlite3_stmt *
prepare(const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	return st;
}

/*
 * Step st to its row, encode ncols columns (all if < 0) with the column
 * names as keys, finalize st.  Returns a NUL-terminated copy (caller frees)
 * after checking the framing: exactly one line, "{...}\n".
 */
static char *
encode(sqlite3_stmt *st, int ncols)
{
	struct jbuf b = { 0 };
	char *names[16], *out;
	int i;

	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	if (ncols < 0)
		ncols = sqlite3_column_count(st);
	assert_true(ncols <= 16);
	for (i = 0; i < ncols; i++)
		names[i] = (char *)sqlite3_column_name(st, i);
	assert_int_equal(jsonl_row(&b, st, ncols, names), 0);
	sqlite3_finalize(st);
	assert_true(b.len >= 3 && b.len <= b.cap);
	assert_int_equal(b.p[0], '{');
	assert_memory_equal(b.p + b.len - 2, "}\n", 2);
	assert_null(memchr(b.p, '\n', b.len - 1));
	out = malloc(b.len + 1);
	assert_non_null(out);
	memcpy(out, b.p, b.len);
	out[b.len] = '\0';
	jbuf_free(&b);
	assert_null(b.p);
	return out;
}

/* The line must also be one valid JSON object to SQLite's parser. */
static void
assert_json_valid(const char *line)
{
	sqlite3_stmt *st = prepare("SELECT json_valid(?1)");

	sqlite3_bind_text(st, 1, line, (int)strlen(line) - 1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	if (sqlite3_column_int(st, 0) != 1)
		fail_msg("not valid JSON: %s", line);
	sqlite3_finalize(st);
}

/* Encode the one column "v" of st and compare with {"v":want}\n. */
static void
expect_json(sqlite3_stmt *st, const char *want)
{
	char *got = encode(st, -1), full[512];

	snprintf(full, sizeof(full), "{\"v\":%s}\n", want);
	if (strcmp(got, full) != 0)
		fail_msg("got %s want %s", got, full);
	assert_json_valid(got);
	free(got);
}

static sqlite3_stmt *
one(void)
{
	return prepare("SELECT ?1 AS v");
}

static void
expect_int(sqlite3_int64 v, const char *want)
{
	sqlite3_stmt *st = one();

	sqlite3_bind_int64(st, 1, v);
	expect_json(st, want);
}

static void
expect_text(const char *s, int n, const char *want)
{
	sqlite3_stmt *st = one();

	sqlite3_bind_text(st, 1, s, n, SQLITE_STATIC);
	expect_json(st, want);
}

static void
expect_blob(const void *p, int n, const char *want)
{
	sqlite3_stmt *st = one();

	sqlite3_bind_blob(st, 1, p, n, SQLITE_STATIC);
	expect_json(st, want);
}

/* Encode real d; return the JSON number text (static buffer). */
static const char *
real_text(double d)
{
	static char num[64];
	sqlite3_stmt *st = one();
	char *got;
	size_t n;

	sqlite3_bind_double(st, 1, d);
	got = encode(st, -1);
	n = strlen(got);
	assert_true(strncmp(got, "{\"v\":", 5) == 0 && n >= 8 && n - 7 < sizeof(num));
	memcpy(num, got + 5, n - 7);
	num[n - 7] = '\0';
	free(got);
	return num;
}

/* The text reads back with strtod to exactly d and still looks REAL. */
static void
check_real_round_trip(double d)
{
	const char *s = real_text(d);
	char *end;
	double back = strtod(s, &end);

	if (*end != '\0' || memcmp(&back, &d, sizeof(d)) != 0)
		fail_msg("%.17g -> '%s' -> %.17g", d, s, back);
	if (strpbrk(s, ".e") == NULL)
		fail_msg("%.17g -> '%s' would read back as an integer", d, s);
	if (strpbrk(s, "nN") != NULL)
		fail_msg("%.17g -> '%s' is not a JSON number", d, s);
}

static void
expect_real(double d, const char *want)
{
	const char *s = real_text(d);

	if (strcmp(s, want) != 0)
		fail_msg("%.17g -> '%s', want '%s'", d, s, want);
	check_real_round_trip(d);
}

static void
test_integers(void **state)
{
	(void)state;
	expect_int(0, "0");
	expect_int(-1, "-1");
	expect_int(1, "1");
	expect_int(INT64_MAX, "9223372036854775807");
	expect_int(INT64_MIN, "-9223372036854775808");
	expect_int(1759622400000LL, "1759622400000");
	/* A literal integer stays an integer, not 5.0. */
	expect_json(prepare("SELECT 5 AS v"), "5");
}

static void
test_reals(void **state)
{
	(void)state;
	expect_real(0.1, "0.1");
	expect_real(5.0, "5.0");
	expect_real(0.0, "0.0");
	expect_real(-2.5, "-2.5");
	expect_real(1e300, "1e+300");
	expect_real(-1e-300, "-1e-300");
	expect_real(1.0 / 3, "0.3333333333333333");
	expect_real(0.1 + 0.2, "0.30000000000000004");
	expect_real(1e16, "1e+16");
	expect_real(123456789012345.0, "123456789012345.0");
	expect_real(1759622400.5, "1759622400.5");
	expect_real(HUGE_VAL, "1e999");
	expect_real(-HUGE_VAL, "-1e999");
	expect_real(9007199254740993.0, "9007199254740992.0");
	/* A REAL that SQLite computed, not bound. */
	expect_json(prepare("SELECT 10 / 4.0 AS v"), "2.5");
	expect_json(prepare("SELECT CAST(7 AS REAL) AS v"), "7.0");
}

static void
test_real_round_trips(void **state)
{
	static const double special[] = {
		DBL_MIN, -DBL_MIN, DBL_TRUE_MIN, DBL_EPSILON, 1e23, 1e22, 5e-324,
		9223372036854775808.0, -9223372036854775808.0, 1e15, 1e17,
		123456789.123456789, 2.2250738585072009e-308, 0.5, 100.0,
	};
	size_t i;
	int tested = 0;

	(void)state;
	for (i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		check_real_round_trip(special[i]);
	rng = 42;
	while (tested < 3000) {
		uint64_t bits = rnd();
		double d;

		memcpy(&d, &bits, sizeof(d));
		if (isnan(d))
			continue;	/* SQLite stores NaN as NULL */
		if (tested % 3 == 1)	/* ordinary magnitudes too */
			d = (double)(int64_t)(rnd() % 2000000000000LL) / 1000.0;
		check_real_round_trip(d);
		tested++;
	}
}

static void
test_text_escapes(void **state)
{
	(void)state;
	expect_text("", 0, "\"\"");
	expect_text("plain", -1, "\"plain\"");
	expect_text("say \"hi\"", -1, "\"say \\\"hi\\\"\"");
	expect_text("a\\b", -1, "\"a\\\\b\"");
	expect_text("l1\nl2", -1, "\"l1\\nl2\"");
	expect_text("a\tb", -1, "\"a\\tb\"");
	expect_text("a\0b", 3, "\"a\\u0000b\"");
	expect_text("\0", 1, "\"\\u0000\"");
	expect_text("\x7f", 1, "\"\\u007f\"");
	expect_text("\r\x01\x1f\x1b", 4, "\"\\u000d\\u0001\\u001f\\u001b\"");
	expect_text("/ ~", -1, "\"/ ~\"");
}

static void
test_text_utf8_passes(void **state)
{
	static const char *const ok[] = {
		"\xc3\xa9t\xc3\xa9",		/* é */
		"\xc2\x80",			/* U+0080 */
		"\xdf\xbf",			/* U+07FF */
		"\xe0\xa0\x80",			/* U+0800 */
		"\xe2\x82\xac 5",		/* € */
		"\xed\x9f\xbf",			/* U+D7FF, below the surrogates */
		"\xee\x80\x80",			/* U+E000, above them */
		"\xef\xbf\xbf",			/* U+FFFF */
		"\xf0\x90\x80\x80",		/* U+10000 */
		"\xf0\x9f\x98\x80",		/* emoji */
		"\xf4\x8f\xbf\xbf",		/* U+10FFFF */
		"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
	};
	char want[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(want, sizeof(want), "\"%s\"", ok[i]);
		expect_text(ok[i], -1, want);
	}
}

static void
test_text_invalid_utf8(void **state)
{
	static const struct {
		const char *s;
		int n;
		const char *b64;
	} bad[] = {
		{ "\xff", 1, "/w==" },
		{ "\xc0\x80", 2, "wIA=" },		/* overlong NUL */
		{ "\xc1\xbf", 2, "wb8=" },		/* overlong */
		{ "\xe0\x80\x80", 3, "4ICA" },		/* overlong 3-byte */
		{ "\xf0\x80\x80\x80", 4, "8ICAgA==" },	/* overlong 4-byte */
		{ "\xed\xa0\x80", 3, "7aCA" },		/* surrogate D800 */
		{ "\xed\xbf\xbf", 3, "7b+/" },		/* surrogate DFFF */
		{ "\xf4\x90\x80\x80", 4, "9JCAgA==" },	/* past U+10FFFF */
		{ "\xf8\x88\x80\x80\x80", 5, "+IiAgIA=" },	/* 5-byte form */
		{ "\x80", 1, "gA==" },			/* lone continuation */
		{ "\xe2\x82", 2, "4oI=" },		/* truncated */
		{ "a\xc3", 2, "YcM=" },			/* truncated at the end */
		{ "\xe2\x82\xacx\xe2\x82", 6, "4oKseOKC" },
		{ "abc\xff", 4, "YWJj/w==" },
	};
	char want[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(want, sizeof(want), "{\"text_base64\":\"%s\"}", bad[i].b64);
		expect_text(bad[i].s, bad[i].n, want);
	}
}

static void
test_blobs(void **state)
{
	(void)state;
	expect_blob("", 0, "{\"blob_base64\":\"\"}");
	expect_blob("\0", 1, "{\"blob_base64\":\"AA==\"}");
	expect_blob("\0\1", 2, "{\"blob_base64\":\"AAE=\"}");
	expect_blob("\0\1\2", 3, "{\"blob_base64\":\"AAEC\"}");
	expect_blob("\xfb\xff\xbf", 3, "{\"blob_base64\":\"+/+/\"}");
	expect_blob("Man", 3, "{\"blob_base64\":\"TWFu\"}");
	expect_blob("hello", 5, "{\"blob_base64\":\"aGVsbG8=\"}");
	/* Valid UTF-8 in a blob is still a blob. */
	expect_blob("abc", 3, "{\"blob_base64\":\"YWJj\"}");
	expect_json(prepare("SELECT x'' AS v"), "{\"blob_base64\":\"\"}");
	expect_json(prepare("SELECT zeroblob(4) AS v"), "{\"blob_base64\":\"AAAAAA==\"}");
}

static void
test_null(void **state)
{
	sqlite3_stmt *st = one();

	(void)state;
	expect_json(st, "null");	/* ?1 left unbound */
	expect_json(prepare("SELECT NULL AS v"), "null");
}

/* Well-formed UTF-8 per Unicode Table 3-7, written as byte ranges. */
static int
ref_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		unsigned lo = 0x80, hi = 0xbf;
		size_t k, len;

		if (c <= 0x7f) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		else
			return 0;
		if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (k = 2; k < len; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return 0;
		i += len;
	}
	return 1;
}

static int
b64val(char c)
{
	const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(tab, c) : NULL;

	return p ? (int)(p - tab) : -1;
}

/* Decode padded base64 of exactly len characters; returns the byte count. */
static size_t
b64dec(const char *s, size_t len, unsigned char *out)
{
	size_t i, n = 0;

	assert_int_equal(len % 4, 0);
	for (i = 0; i < len; i += 4) {
		int a = b64val(s[i]), b = b64val(s[i + 1]);
		int c = s[i + 2] == '=' ? 0 : b64val(s[i + 2]);
		int d = s[i + 3] == '=' ? 0 : b64val(s[i + 3]);

		assert_true(a >= 0 && b >= 0 && c >= 0 && d >= 0);
		/* padding only at the very end, and '=' only after '=' */
		if (s[i + 2] == '=' || s[i + 3] == '=')
			assert_true(i + 4 == len);
		if (s[i + 2] == '=')
			assert_int_equal(s[i + 3], '=');
		out[n++] = (unsigned char)(a << 2 | b >> 4);
		if (s[i + 2] != '=')
			out[n++] = (unsigned char)((b & 15) << 4 | c >> 2);
		if (s[i + 3] != '=')
			out[n++] = (unsigned char)((c & 3) << 6 | d);
	}
	return n;
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode the JSON string body s[0..len) (escapes as the encoder makes them). */
static size_t
jstrdec(const char *s, size_t len, unsigned char *out)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		assert_true(c >= 0x20 && c != 0x7f && c != '"');
		if (c != '\\') {
			out[n++] = c;
			continue;
		}
		assert_true(i + 1 < len);
		switch (s[++i]) {
		case '"': out[n++] = '"'; break;
		case '\\': out[n++] = '\\'; break;
		case 'n': out[n++] = '\n'; break;
		case 't': out[n++] = '\t'; break;
		case 'u':
			assert_true(i + 4 < len && s[i + 1] == '0' && s[i + 2] == '0');
			assert_true(hexval(s[i + 3]) >= 0 && hexval(s[i + 4]) >= 0);
			out[n++] = (unsigned char)(hexval(s[i + 3]) << 4 | hexval(s[i + 4]));
			i += 4;
			break;
		default:
			fail_msg("unexpected escape \\%c", s[i]);
		}
	}
	return n;
}

/* Random bytes, biased towards the interesting ones. */
static size_t
random_bytes(unsigned char *p, size_t max)
{
	static const char *const pieces[] = {
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xed\x9f\xbf",
		"\xf4\x8f\xbf\xbf", "\"", "\\", "\n", "\t", "\x7f",
	};
	size_t n = 0, want = rnd() % (max - 4);

	while (n < want) {
		unsigned r = (unsigned)(rnd() % 20);

		if (r < 8) {
			p[n++] = (unsigned char)(0x20 + rnd() % 0x5f);
		} else if (r < 10) {
			p[n++] = (unsigned char)(rnd() % 0x20);
		} else if (r < 17) {
			const char *s = pieces[rnd() % 10];

			memcpy(p + n, s, strlen(s));
			n += strlen(s);
		} else {
			p[n++] = (unsigned char)(0x80 + rnd() % 0x80);
		}
	}
	return n;
}

static void
test_random_text_and_blobs_round_trip(void **state)
{
	unsigned char in[64], out[64];
	sqlite3_stmt *st;
	size_t n, m, len;
	char *got;
	int i, blob, valid, nvalid = 0, ninvalid = 0;

	(void)state;
	rng = 7;
	for (i = 0; i < 2000; i++) {
		blob = i % 4 == 0;
		n = random_bytes(in, sizeof(in));
		st = one();
		if (blob)
			sqlite3_bind_blob(st, 1, in, (int)n, SQLITE_STATIC);
		else
			sqlite3_bind_text(st, 1, (const char *)in, (int)n, SQLITE_STATIC);
		got = encode(st, -1);
		assert_json_valid(got);
		len = strlen(got);
		valid = !blob && ref_utf8(in, n);
		if (blob || !valid) {
			const char *pre = blob ? "{\"v\":{\"blob_base64\":\"" :
			    "{\"v\":{\"text_base64\":\"";

			if (strncmp(got, pre, strlen(pre)) != 0 ||
			    strcmp(got + len - 4, "\"}}\n") != 0)
				fail_msg("case %d: %s", i, got);
			m = b64dec(got + strlen(pre), len - strlen(pre) - 4, out);
			ninvalid += !blob;
		} else {
			if (strncmp(got, "{\"v\":\"", 6) != 0 ||
			    strcmp(got + len - 3, "\"}\n") != 0)
				fail_msg("case %d: %s", i, got);
			m = jstrdec(got + 6, len - 9, out);
			nvalid++;
		}
		assert_int_equal(m, n);
		assert_memory_equal(out, in, n);
		free(got);
	}
	assert_true(nvalid > 200 && ninvalid > 200);
}

static void
test_keys_in_column_order(void **state)
{
	sqlite3_stmt *st;
	struct jbuf b = { 0 };
	char *names[2], *got;

	(void)state;
	got = encode(prepare("SELECT 3 AS z, 'q' AS a, NULL AS m, 1.5 AS b, "
	    "x'ff' AS \"we\"\"ird\\\""), -1);
	assert_string_equal(got, "{\"z\":3,\"a\":\"q\",\"m\":null,\"b\":1.5,"
	    "\"we\\\"ird\\\\\":{\"blob_base64\":\"/w==\"}}\n");
	free(got);

	/* ncols limits the columns; names need not be SQLite's. */
	st = prepare("SELECT 1, 2, 3");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	names[0] = (char *)"id";
	names[1] = (char *)"created_at";
	assert_int_equal(jsonl_row(&b, st, 2, names), 0);
	/* Rows append: a second call adds a second line. */
	assert_int_equal(jsonl_row(&b, st, 1, names), 0);
	sqlite3_finalize(st);
	assert_int_equal(b.len, strlen("{\"id\":1,\"created_at\":2}\n{\"id\":1}\n"));
	assert_memory_equal(b.p, "{\"id\":1,\"created_at\":2}\n{\"id\":1}\n", b.len);
	jbuf_free(&b);

	/* Zero columns is an empty object. */
	st = prepare("SELECT 1");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(jsonl_row(&b, st, 0, names), 0);
	sqlite3_finalize(st);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.p, "{}\n", 3);
	jbuf_free(&b);
}

/* Big values grow the buffer: 100 000 NULs are 600 000 bytes of escapes. */
static void
test_large_values(void **state)
{
	const size_t n = 100000;
	char *z = calloc(n, 1);
	sqlite3_stmt *st = one();
	struct jbuf b = { 0 };
	char *names[1] = { (char *)"v" };
	size_t i;

	(void)state;
	assert_non_null(z);
	sqlite3_bind_text(st, 1, z, (int)n, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(jsonl_row(&b, st, 1, names), 0);
	assert_int_equal(b.len, 6 + n * 6 + 3);
	for (i = 0; i < n; i++)
		assert_memory_equal(b.p + 6 + 6 * i, "\\u0000", 6);
	assert_memory_equal(b.p + b.len - 3, "\"}\n", 3);
	jbuf_free(&b);
	sqlite3_reset(st);
	sqlite3_bind_blob(st, 1, z, (int)n, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(jsonl_row(&b, st, 1, names), 0);
	assert_int_equal(b.len, strlen("{\"v\":{\"blob_base64\":\"\"}}\n") +
	    (n + 2) / 3 * 4);
	jbuf_free(&b);
	sqlite3_finalize(st);
	free(z);
}

static uint64_t
digest_of(const char *sql)
{
	sqlite3_stmt *st = prepare(sql);
	uint64_t h;

	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	h = jsonl_row_digest(st, sqlite3_column_count(st));
	sqlite3_finalize(st);
	return h;
}

static void
test_digest_equal_rows(void **state)
{
	sqlite3_stmt *st;
	uint64_t h;

	(void)state;
	assert_true(digest_of("SELECT 1, 2.5, 'x', x'00', NULL") ==
	    digest_of("SELECT 1, 2.5, 'x', x'00', NULL"));
	/* Bound values equal to literals; a stored row equal to its values. */
	st = prepare("SELECT ?1, ?2, ?3, ?4, ?5");
	sqlite3_bind_int(st, 1, 1);
	sqlite3_bind_double(st, 2, 2.5);
	sqlite3_bind_text(st, 3, "x", 1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, "\0", 1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	h = jsonl_row_digest(st, 5);
	sqlite3_finalize(st);
	assert_true(h == digest_of("SELECT 1, 2.5, 'x', x'00', NULL"));
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE d(a, b, c, e, f); "
	    "INSERT INTO d VALUES (1, 2.5, 'x', x'00', NULL)", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_true(h == digest_of("SELECT * FROM d"));
	assert_int_equal(sqlite3_exec(db, "DROP TABLE d", NULL, NULL, NULL), SQLITE_OK);
}

static void
test_digest_differs(void **state)
{
	static const char *const rows[] = {
		"SELECT 1, 2.5, 'x', x'00', NULL",	/* the base row */
		"SELECT 2, 2.5, 'x', x'00', NULL",	/* one column each: */
		"SELECT 1.0, 2.5, 'x', x'00', NULL",
		"SELECT '1', 2.5, 'x', x'00', NULL",
		"SELECT 1, 2.25, 'x', x'00', NULL",
		"SELECT 1, NULL, 'x', x'00', NULL",
		"SELECT 1, 2.5, 'y', x'00', NULL",
		"SELECT 1, 2.5, x'78', x'00', NULL",
		"SELECT 1, 2.5, 'x ', x'00', NULL",
		"SELECT 1, 2.5, 'x', x'01', NULL",
		"SELECT 1, 2.5, 'x', x'0000', NULL",
		"SELECT 1, 2.5, 'x', '', NULL",
		"SELECT 1, 2.5, 'x', x'00', 0",
		"SELECT 1, 2.5, 'x', x'00', ''",
		"SELECT 1, 2.5, 'x', x'00', x''",
		"SELECT 5", "SELECT '5'", "SELECT 5.0", "SELECT x'35'",
		"SELECT NULL", "SELECT ''", "SELECT x''", "SELECT 0", "SELECT 0.0",
		"SELECT 'ab', 'c'", "SELECT 'a', 'bc'", "SELECT 'abc', ''",
		"SELECT '', 'abc'", "SELECT 'abc', NULL", "SELECT x'6162', 'c'",
		"SELECT 'ab', x'63'", "SELECT NULL, NULL", "SELECT NULL, NULL, NULL",
		"SELECT 'a' || char(0) || 'b'", "SELECT 'a'", "SELECT 1, 2", "SELECT 2, 1",
		"SELECT 4294967296", "SELECT 1, 0",
	};
	enum { N = sizeof(rows) / sizeof(rows[0]) };
	uint64_t h[N];
	size_t i, j;

	(void)state;
	for (i = 0; i < N; i++)
		h[i] = digest_of(rows[i]);
	for (i = 0; i < N; i++)
		for (j = i + 1; j < N; j++)
			if (h[i] == h[j])
				fail_msg("same digest: [%s] and [%s]", rows[i], rows[j]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_reals),
		cmocka_unit_test(test_real_round_trips),
		cmocka_unit_test(test_text_escapes),
		cmocka_unit_test(test_text_utf8_passes),
		cmocka_unit_test(test_text_invalid_utf8),
		cmocka_unit_test(test_blobs),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_random_text_and_blobs_round_trip),
		cmocka_unit_test(test_keys_in_column_order),
		cmocka_unit_test(test_large_values),
		cmocka_unit_test(test_digest_equal_rows),
		cmocka_unit_test(test_digest_differs),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
