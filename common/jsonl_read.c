/*
 * Decoder for the archive lines written by jsonl_row() (see jsonl.h): a small
 * recursive-descent reader for exactly that subset of JSON.  Keys and string
 * values are decoded into one growing store; pointers into it are fixed up
 * once the line is done, since the store may move while it grows.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"

struct reader {
	const char *start, *s, *end;
	struct jrow *row;
	char *err;
	size_t errsize;
};

/* Where a field's key and bytes start in the store, until the fix-up. */
struct pending {
	size_t key, val;
};

static int
fail(struct reader *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->err, r->errsize, "byte %td: ", r->s - r->start + 1);
	if (n < 0 || (size_t)n >= r->errsize)
		return -1;
	va_start(ap, fmt);
	vsnprintf(r->err + n, r->errsize - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static int
store_put(struct jbuf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *q;

		while (cap < b->len + n)
			cap *= 2;
		if ((q = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static int
put_utf8(struct jbuf *b, unsigned long cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp, n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f)), n = 4;
	}
	return store_put(b, u, n);
}

static int
hex4(const char *s, unsigned long *out)
{
	unsigned long v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		int c = (unsigned char)s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned long)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned long)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned long)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* A JSON string at r->s (on its opening quote), decoded into the store. */
static int
string(struct reader *r, size_t *off, size_t *len)
{
	struct jbuf *b = &r->row->store;
	unsigned long cp, lo;

	*off = b->len;
	r->s++;
	while (r->s < r->end && *r->s != '"') {
		const char *run = r->s;

		while (r->s < r->end && *r->s != '"' && *r->s != '\\' &&
		    (unsigned char)*r->s >= 0x20)
			r->s++;
		if (r->s > run && store_put(b, run, (size_t)(r->s - run)) != 0)
			return fail(r, "out of memory");
		if (r->s >= r->end || *r->s == '"')
			break;
		if ((unsigned char)*r->s < 0x20)
			return fail(r, "control byte in a string");
		if (r->end - r->s < 2)
			return fail(r, "unfinished escape");
		r->s++;
		switch (*r->s++) {
		case '"': cp = '"'; break;
		case '\\': cp = '\\'; break;
		case '/': cp = '/'; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (r->end - r->s < 4 || hex4(r->s, &cp) != 0)
				return fail(r, "bad \\u escape");
			r->s += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return fail(r, "lone low surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (r->end - r->s < 6 || r->s[0] != '\\' || r->s[1] != 'u' ||
				    hex4(r->s + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
					return fail(r, "lone high surrogate");
				r->s += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			break;
		default:
			return fail(r, "bad escape");
		}
		if (put_utf8(b, cp) != 0)
			return fail(r, "out of memory");
	}
	if (r->s >= r->end)
		return fail(r, "unterminated string");
	r->s++;
	*len = b->len - *off;
	/* Keys are used as C strings: terminate (not counted in len). */
	if (store_put(b, "", 1) != 0)
		return fail(r, "out of memory");
	return 0;
}

static void
skip_ws(struct reader *r)
{
	while (r->s < r->end && (*r->s == ' ' || *r->s == '\t'))
		r->s++;
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode base64 in place (store bytes off..off+*len); strict padding. */
static int
unbase64(struct reader *r, size_t off, size_t *len)
{
	unsigned char *p = (unsigned char *)r->row->store.p + off;
	size_t n = *len, i, o = 0;

	if (n % 4 != 0)
		return fail(r, "base64 length is not a multiple of 4");
	for (i = 0; i < n; i += 4) {
		int v[4], k, pad = 0;

		for (k = 0; k < 4; k++) {
			if (p[i + k] == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
			} else if (pad || (v[k] = b64val(p[i + k])) < 0) {
				return fail(r, "bad base64");
			}
		}
		p[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			p[o++] = (unsigned char)(v[1] << 4 | v[2] >> 2);
		if (pad < 1)
			p[o++] = (unsigned char)(v[2] << 6 | v[3]);
	}
	*len = o;
	return 0;
}

static int
number(struct reader *r, struct jfield *f)
{
	char buf[64], *end;
	const char *q = r->s;
	size_t n;
	int real = 0;

	if (q < r->end && *q == '-')
		q++;
	if (q >= r->end || *q < '0' || *q > '9')
		return fail(r, "bad value");
	while (q < r->end && strchr("0123456789.eE+-", *q) != NULL) {
		if (*q == '.' || *q == 'e' || *q == 'E')
			real = 1;
		q++;
	}
	n = (size_t)(q - r->s);
	if (n >= sizeof(buf))
		return fail(r, "number too long");
	memcpy(buf, r->s, n);
	buf[n] = '\0';
	errno = 0;
	if (real) {
		f->type = SQLITE_FLOAT;
		f->r = strtod(buf, &end);
		/* 1e999 is how the encoder writes infinity: ERANGE is expected. */
		if (errno == ERANGE && !isinf(f->r) && f->r != 0)
			errno = 0;
	} else {
		f->type = SQLITE_INTEGER;
		f->i = strtoll(buf, &end, 10);
		if (errno == ERANGE)
			return fail(r, "integer out of range: %s", buf);
	}
	if (*end != '\0')
		return fail(r, "bad number: %s", buf);
	r->s = q;
	return 0;
}

/* {"text_base64":"..."} or {"blob_base64":"..."} at r->s. */
static int
wrapper(struct reader *r, struct jfield *f, struct pending *pd)
{
	size_t koff, klen, len = 0;
	const char *kind;

	r->s++;
	skip_ws(r);
	if (r->s >= r->end || *r->s != '"' || string(r, &koff, &klen) != 0)
		return fail(r, "bad value: an object that is not a base64 wrapper");
	kind = r->row->store.p + koff;
	if (strcmp(kind, "text_base64") == 0)
		f->type = SQLITE_TEXT;
	else if (strcmp(kind, "blob_base64") == 0)
		f->type = SQLITE_BLOB;
	else
		return fail(r, "unknown wrapper \"%s\"", kind);
	r->row->store.len = koff;	/* the wrapper's key is not kept */
	skip_ws(r);
	if (r->s >= r->end || *r->s != ':')
		return fail(r, "expected ':'");
	r->s++;
	skip_ws(r);
	if (r->s >= r->end || *r->s != '"' || string(r, &pd->val, &len) != 0)
		return fail(r, "bad base64 string");
	if (unbase64(r, pd->val, &len) != 0)
		return -1;
	f->n = len;
	skip_ws(r);
	if (r->s >= r->end || *r->s != '}')
		return fail(r, "expected '}' after the base64 value");
	r->s++;
	return 0;
}

static int
value(struct reader *r, struct jfield *f, struct pending *pd)
{
	if (r->s >= r->end)
		return fail(r, "missing value");
	switch (*r->s) {
	case '"':
		f->type = SQLITE_TEXT;
		return string(r, &pd->val, &f->n);
	case '{':
		return wrapper(r, f, pd);
	case 'n':
		if (r->end - r->s >= 4 && memcmp(r->s, "null", 4) == 0) {
			f->type = SQLITE_NULL;
			r->s += 4;
			return 0;
		}
		return fail(r, "bad value");
	default:
		return number(r, f);
	}
}

void
jrow_free(struct jrow *row)
{
	free(row->f);
	jbuf_free(&row->store);
	memset(row, 0, sizeof(*row));
}

int
jsonl_parse(struct jrow *row, const char *line, size_t len, char *err, size_t errsize)
{
	struct reader r = { line, line, line + len, row, err, errsize };
	struct pending *pd = NULL;
	int i, k, pdcap = 0, rc = -1;

	row->n = 0;
	row->store.len = 0;
	skip_ws(&r);
	if (r.s >= r.end || *r.s != '{') {
		fail(&r, "a line is not a JSON object");
		goto out;
	}
	r.s++;
	skip_ws(&r);
	while (r.s < r.end && *r.s != '}') {
		struct jfield *f;
		size_t klen;

		if (row->n > 0) {
			if (*r.s != ',') {
				fail(&r, "expected ',' or '}'");
				goto out;
			}
			r.s++;
			skip_ws(&r);
		}
		if (row->n == row->cap) {
			int cap = row->cap ? row->cap * 2 : 16;
			void *p = realloc(row->f, (size_t)cap * sizeof(*row->f));

			if (p == NULL) {
				fail(&r, "out of memory");
				goto out;
			}
			row->f = p;
			row->cap = cap;
		}
		if (row->n == pdcap) {
			void *p = realloc(pd, (size_t)row->cap * sizeof(*pd));

			if (p == NULL) {
				fail(&r, "out of memory");
				goto out;
			}
			pd = p;
			pdcap = row->cap;
		}
		f = &row->f[row->n];
		memset(f, 0, sizeof(*f));
		pd[row->n].val = (size_t)-1;
		if (r.s >= r.end || *r.s != '"') {
			fail(&r, "expected a key");
			goto out;
		}
		if (string(&r, &pd[row->n].key, &klen) != 0)
			goto out;
		skip_ws(&r);
		if (r.s >= r.end || *r.s != ':') {
			fail(&r, "expected ':'");
			goto out;
		}
		r.s++;
		skip_ws(&r);
		if (value(&r, f, &pd[row->n]) != 0)
			goto out;
		row->n++;
		skip_ws(&r);
	}
	if (r.s >= r.end) {
		fail(&r, "unterminated object");
		goto out;
	}
	r.s++;
	skip_ws(&r);
	if (r.s != r.end) {
		fail(&r, "bytes after the object");
		goto out;
	}
	for (i = 0; i < row->n; i++) {
		/* fail() is variadic, so the analyzer does not see that it always
		 * returns -1 and walks paths where a failed field still counts. */
		/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult,clang-analyzer-core.NullDereference) */
		row->f[i].key = row->store.p + pd[i].key;
		if (pd[i].val != (size_t)-1)
			row->f[i].p = row->store.p + pd[i].val;
		for (k = 0; k < i; k++)
			if (strcmp(row->f[k].key, row->f[i].key) == 0) {
				snprintf(err, errsize, "key \"%s\" twice", row->f[i].key);
				goto out;
			}
	}
	rc = 0;
out:
	free(pd);
	return rc;
}

int
jsonl_bind(sqlite3_stmt *st, int index, const struct jfield *f)
{
	switch (f->type) {
	case SQLITE_INTEGER:
		return sqlite3_bind_int64(st, index, f->i);
	case SQLITE_FLOAT:
		return sqlite3_bind_double(st, index, f->r);
	case SQLITE_TEXT:
		return sqlite3_bind_text64(st, index, f->p ? f->p : "", f->n,
		    SQLITE_TRANSIENT, SQLITE_UTF8);
	case SQLITE_BLOB:
		return sqlite3_bind_blob64(st, index, f->p ? f->p : "", f->n,
		    SQLITE_TRANSIENT);
	default:
		return sqlite3_bind_null(st, index);
	}
}
