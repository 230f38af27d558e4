/*
 * Value counting with a memory cap (see agg.h).  Values are stored as a type
 * byte and their bytes in one arena; tables are open-addressing hash tables
 * of offsets into it.  An integral REAL is stored as an INTEGER, which is
 * what makes 5 and 5.0 one value, as COUNT(DISTINCT) counts them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"

#define MIN_SLOTS 64

enum { K_INT = 1, K_REAL, K_TEXT, K_BLOB };	/* also SQLite's sort order */

static uint64_t
hash_bytes(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

/* Encode v as type byte + payload into buf (or the arena tail). */
static size_t
encode(sqlite3_value *v, unsigned char *small, const unsigned char **out)
{
	double d;
	int64_t i;

	switch (sqlite3_value_type(v)) {
	case SQLITE_INTEGER:
		i = sqlite3_value_int64(v);
		goto integer;
	case SQLITE_FLOAT:
		d = sqlite3_value_double(v);
		if (d == floor(d) && d >= -9223372036854775808.0 &&
		    d < 9223372036854775808.0) {
			i = (int64_t)d;
			goto integer;
		}
		small[0] = K_REAL;
		memcpy(small + 1, &d, sizeof(d));
		*out = small;
		return 1 + sizeof(d);
	case SQLITE_TEXT:
	case SQLITE_BLOB:
		/* caller copies these: the payload is SQLite's buffer */
		small[0] = sqlite3_value_type(v) == SQLITE_TEXT ? K_TEXT : K_BLOB;
		*out = sqlite3_value_type(v) == SQLITE_TEXT ?
		    (const unsigned char *)sqlite3_value_text(v) : sqlite3_value_blob(v);
		return (size_t)sqlite3_value_bytes(v);
	default:
		return 0;
	}
integer:
	small[0] = K_INT;
	memcpy(small + 1, &i, sizeof(i));
	*out = small;
	return 1 + sizeof(i);
}

static int
grow(struct agg_budget *b, struct agg_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : MIN_SLOTS, i;
	struct agg_entry *slots;

	if (b->bytes + cap * sizeof(*slots) > b->limit)
		return -1;
	if ((slots = calloc(cap, sizeof(*slots))) == NULL)
		return -1;
	for (i = 0; i < t->cap; i++) {
		struct agg_entry *e = &t->slots[i];
		size_t j;

		if (e->len == 0)
			continue;
		for (j = e->hash & (cap - 1); slots[j].len != 0; j = (j + 1) & (cap - 1))
			;
		slots[j] = *e;
	}
	b->bytes += (cap - t->cap) * sizeof(*slots);
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

static int
arena_put(struct agg_budget *b, unsigned char type, const unsigned char *p,
    size_t n, uint32_t *off)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *a;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (b->bytes + (cap - b->cap) > b->limit || cap > UINT32_MAX)
			return -1;
		if ((a = realloc(b->arena, cap)) == NULL)
			return -1;
		b->bytes += cap - b->cap;
		b->arena = a;
		b->cap = cap;
	}
	*off = (uint32_t)b->len;
	b->arena[b->len] = (char)type;
	if (n > 0)
		memcpy(b->arena + b->len + 1, p, n);
	b->len += n + 1;
	return 0;
}

int
agg_add(struct agg_budget *b, struct agg_table *t, sqlite3_value *v)
{
	unsigned char small[16] = { 0 };
	const unsigned char *payload = NULL;
	unsigned char type;
	size_t n, j;
	uint64_t h;

	if (sqlite3_value_type(v) == SQLITE_NULL)
		return 0;
	n = encode(v, small, &payload);
	/* Numbers are encoded whole in small[]; text and blobs are hashed
	 * with their type byte folded in. */
	if (payload == small) {
		type = small[0];
		payload = small + 1;
		n -= 1;
	} else {
		type = small[0];
	}
	h = hash_bytes(payload, n) + type;
	if (t->cap == 0 && grow(b, t) != 0)
		return -1;
again:
	for (j = h & (t->cap - 1); t->slots[j].len != 0; j = (j + 1) & (t->cap - 1)) {
		struct agg_entry *e = &t->slots[j];

		if (e->hash == h && e->len == n + 1 &&
		    (unsigned char)b->arena[e->off] == type &&
		    (n == 0 || memcmp(b->arena + e->off + 1, payload, n) == 0)) {
			e->count++;
			return 0;
		}
	}
	/* A new value: grow first if the table would pass half full. */
	if (2 * (t->used + 1) > t->cap) {
		if (grow(b, t) != 0)
			return -1;
		goto again;
	}
	if (arena_put(b, type, payload, n, &t->slots[j].off) != 0)
		return -1;
	t->slots[j].hash = h;
	t->slots[j].len = (uint32_t)(n + 1);
	t->slots[j].count = 1;
	t->used++;
	return 0;
}

void
agg_table_free(struct agg_budget *b, struct agg_table *t)
{
	b->bytes -= t->cap * sizeof(*t->slots);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

void
agg_budget_free(struct agg_budget *b)
{
	free(b->arena);
	b->arena = NULL;
	b->len = b->cap = b->bytes = 0;
}

/*
 * An integer against a REAL, exactly: converting the integer to a double
 * would round (2^63 - 1 becomes 2^63) and call different values equal.
 */
static int
int_real_cmp(int64_t i, double d)
{
	int64_t t;

	if (d >= 9223372036854775808.0)
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	t = (int64_t)d;		/* in range now; truncates toward zero */
	if (i != t)
		return i < t ? -1 : 1;
	return d > (double)t ? -1 : d < (double)t ? 1 : 0;
}

/* SQLite's order of two keys: numbers by value, then text, then blobs. */
static int
key_cmp(const struct agg_budget *b, const struct agg_entry *x,
    const struct agg_entry *y)
{
	const unsigned char *p = (const unsigned char *)b->arena + x->off;
	const unsigned char *q = (const unsigned char *)b->arena + y->off;
	int cx = p[0] >= K_TEXT ? p[0] : K_INT, cy = q[0] >= K_TEXT ? q[0] : K_INT;
	size_t n;
	int c;

	if (cx != cy)
		return cx < cy ? -1 : 1;
	if (cx == K_INT) {	/* both numeric */
		double dx, dy;
		int64_t ix, iy;

		if (p[0] == K_INT && q[0] == K_INT) {
			memcpy(&ix, p + 1, 8);
			memcpy(&iy, q + 1, 8);
			return ix < iy ? -1 : ix > iy;
		}
		if (p[0] == K_REAL && q[0] == K_REAL) {
			memcpy(&dx, p + 1, 8);
			memcpy(&dy, q + 1, 8);
			return dx < dy ? -1 : dx > dy;
		}
		if (p[0] == K_INT) {
			memcpy(&ix, p + 1, 8);
			memcpy(&dy, q + 1, 8);
			return int_real_cmp(ix, dy);
		}
		memcpy(&dx, p + 1, 8);
		memcpy(&iy, q + 1, 8);
		return -int_real_cmp(iy, dx);
	}
	n = x->len < y->len ? x->len : y->len;
	if ((c = memcmp(p + 1, q + 1, n - 1)) != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* e ranks before f: higher count, then the smaller value. */
static bool
before(const struct agg_budget *b, const struct agg_entry *e,
    const struct agg_entry *f)
{
	return e->count != f->count ? e->count > f->count : key_cmp(b, e, f) < 0;
}

static void
key_json(const struct agg_budget *b, const struct agg_entry *e, sqlite3_str *s)
{
	const unsigned char *p = (const unsigned char *)b->arena + e->off;
	size_t i, n = e->len - 1;
	int64_t iv;
	double dv;

	switch (p[0]) {
	case K_INT:
		memcpy(&iv, p + 1, 8);
		sqlite3_str_appendf(s, "%lld", (long long)iv);
		return;
	case K_REAL:
		memcpy(&dv, p + 1, 8);
		if (isinf(dv))	/* JSON has no Inf; this reads back as infinity */
			sqlite3_str_appendall(s, dv < 0 ? "-1e999" : "1e999");
		else
			sqlite3_str_appendf(s, "%!.17g", dv);
		return;
	case K_TEXT:
		sqlite3_str_appendchar(s, 1, '"');
		for (i = 0; i < n; i++) {
			unsigned char c = p[1 + i];

			if (c == '"' || c == '\\')
				sqlite3_str_appendf(s, "\\%c", c);
			else if (c < 0x20)
				sqlite3_str_appendf(s, "\\u%04x", c);
			else
				sqlite3_str_appendchar(s, 1, (char)c);
		}
		sqlite3_str_appendchar(s, 1, '"');
		return;
	default:	/* BLOB: lowercase hex, lossless */
		sqlite3_str_appendchar(s, 1, '"');
		for (i = 0; i < n; i++)
			sqlite3_str_appendf(s, "%02x", p[1 + i]);
		sqlite3_str_appendchar(s, 1, '"');
	}
}

int
agg_top_json(const struct agg_budget *b, const struct agg_table *t, int n,
    const char *key, sqlite3_str *s)
{
	const struct agg_entry **top;
	size_t i;
	int k = 0, j;

	if (n <= 0)
		return 0;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	if ((top = calloc((size_t)n, sizeof(*top))) == NULL)
		return -1;
	/* Insertion into a sorted array of at most n: n is 10. */
	for (i = 0; i < t->cap; i++) {
		const struct agg_entry *e = &t->slots[i];

		if (e->len == 0 || (k == n && !before(b, e, top[n - 1])))
			continue;
		j = k < n ? k++ : n - 1;
		while (j > 0 && before(b, e, top[j - 1])) {
			top[j] = top[j - 1];
			j--;
		}
		top[j] = e;
	}
	for (j = 0; j < k; j++) {
		sqlite3_str_appendf(s, "%s{\"%s\":", j ? "," : "", key);
		key_json(b, top[j], s);
		sqlite3_str_appendf(s, ",\"count\":%lld}", (long long)top[j]->count);
	}
	free(top);
	return 0;
}
