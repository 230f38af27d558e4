/*
 * Row encoder for the archives; see jsonl.h for the exact format.  Written by
 * hand rather than with SQLite's json functions so that REALs round-trip
 * exactly, invalid UTF-8 and BLOBs are lossless, and no row is formatted twice.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"

void
jbuf_free(struct jbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static int
reserve(struct jbuf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->len + more <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static void
put(struct jbuf *b, const char *s, size_t n)
{
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* No overlong forms, no surrogates, nothing past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static int
valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		if ((k = utf8_seq(s + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

static int
put_base64(struct jbuf *b, const char *key, const unsigned char *s, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	if (reserve(b, strlen(key) + 8 + (n + 2) / 3 * 4) != 0)
		return -1;
	put(b, "{\"", 2);
	put(b, key, strlen(key));
	put(b, "\":\"", 3);
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		char q[4] = { tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63], tab[v & 63] };

		put(b, q, 4);
	}
	if (i < n) {
		uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
		char q[4] = { tab[v >> 18], tab[(v >> 12) & 63],
		    (char)(i + 1 < n ? tab[(v >> 6) & 63] : '='), '=' };

		put(b, q, 4);
	}
	put(b, "\"}", 2);
	return 0;
}

static int
put_string(struct jbuf *b, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (reserve(b, n * 6 + 2) != 0)	/* worst case: every byte \u00XX */
		return -1;
	b->p[b->len++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\') {
			b->p[b->len++] = '\\';
			b->p[b->len++] = (char)c;
		} else if (c == '\n') {
			put(b, "\\n", 2);
		} else if (c == '\t') {
			put(b, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f) {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			put(b, e, 6);
		} else {
			b->p[b->len++] = (char)c;
		}
	}
	b->p[b->len++] = '"';
	return 0;
}

/* Shortest "%.Ng" that reads back to exactly v, kept recognisably REAL. */
static int
put_real(struct jbuf *b, double v)
{
	char s[40];
	int prec, n = 0;

	if (isinf(v)) {
		n = snprintf(s, sizeof(s), "%s", v < 0 ? "-1e999" : "1e999");
	} else {
		for (prec = 15; prec <= 17; prec++) {
			n = snprintf(s, sizeof(s), "%.*g", prec, v);
			if (strtod(s, NULL) == v)
				break;
		}
		if (strpbrk(s, ".eEn") == NULL)	/* 5 -> 5.0 */
			n += snprintf(s + n, sizeof(s) - (size_t)n, ".0");
	}
	if (reserve(b, (size_t)n) != 0)
		return -1;
	put(b, s, (size_t)n);
	return 0;
}

int
jsonl_row(struct jbuf *b, sqlite3_stmt *st, int ncols, char *const *names)
{
	int i, rc = 0;

	if (reserve(b, 2) != 0)
		return -1;
	b->p[b->len++] = '{';
	for (i = 0; i < ncols && rc == 0; i++) {
		const unsigned char *s;
		size_t n;

		if (i > 0) {
			if (reserve(b, 1) != 0)
				return -1;
			b->p[b->len++] = ',';
		}
		rc = put_string(b, (const unsigned char *)names[i], strlen(names[i]));
		if (rc != 0 || reserve(b, 32) != 0)
			return -1;
		b->p[b->len++] = ':';
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			b->len += (size_t)snprintf(b->p + b->len, 32, "%lld",
			    (long long)sqlite3_column_int64(st, i));
			break;
		case SQLITE_FLOAT:
			rc = put_real(b, sqlite3_column_double(st, i));
			break;
		case SQLITE_TEXT:
			s = sqlite3_column_text(st, i);
			n = (size_t)sqlite3_column_bytes(st, i);
			rc = valid_utf8(s, n) ? put_string(b, s, n) :
			    put_base64(b, "text_base64", s, n);
			break;
		case SQLITE_BLOB:
			s = sqlite3_column_blob(st, i);
			n = (size_t)sqlite3_column_bytes(st, i);
			rc = put_base64(b, "blob_base64", s ? s : (const unsigned char *)"", n);
			break;
		default:
			put(b, "null", 4);
		}
	}
	if (rc != 0 || reserve(b, 2) != 0)
		return -1;
	put(b, "}\n", 2);
	return 0;
}

/* FNV-1a, 64 bits: fast, and a collision needs 2^-64 luck. */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n--) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t
jsonl_row_digest(sqlite3_stmt *st, int ncols)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int i;

	for (i = 0; i < ncols; i++) {
		unsigned char type = (unsigned char)sqlite3_column_type(st, i);
		int64_t iv;
		double dv;
		int n;

		h = fnv(h, &type, 1);
		switch (type) {
		case SQLITE_INTEGER:
			iv = sqlite3_column_int64(st, i);
			h = fnv(h, &iv, sizeof(iv));
			break;
		case SQLITE_FLOAT:
			dv = sqlite3_column_double(st, i);
			h = fnv(h, &dv, sizeof(dv));
			break;
		case SQLITE_TEXT:
		case SQLITE_BLOB:
			/* the length first, so ("ab","c") differs from ("a","bc") */
			n = sqlite3_column_bytes(st, i);
			h = fnv(h, &n, sizeof(n));
			h = fnv(h, type == SQLITE_TEXT ?
			    (const void *)sqlite3_column_text(st, i) :
			    sqlite3_column_blob(st, i), (size_t)n);
			break;
		}
	}
	return h;
}
