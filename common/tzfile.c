/*
 * TZif reader and POSIX TZ rules (see tzfile.h; RFC 8536 for the format).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tzfile.h"

#define TZIF_MAX	(1 << 20)	/* bytes: real files are a few kB */
#define DAY_S		86400

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (H. Hinnant's method). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The proleptic Gregorian year of day number days (since 1970-01-01). */
static int64_t
year_of_days(int64_t days)
{
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	return yoe + era * 400 + (mp >= 10);
}

static bool
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int64_t y, int m)
{
	static const int n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && leap(y) ? 29 : n[m - 1];
}

/* --- POSIX TZ strings ---------------------------------------------------- */

/* A zone abbreviation: 3+ letters, or <...>.  Advances *s. */
static int
rule_name(const char **s)
{
	const char *p = *s;

	if (*p == '<') {
		p = strchr(p, '>');
		if (p == NULL)
			return -1;
		*s = p + 1;
		return 0;
	}
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	if (p - *s < 3)
		return -1;
	*s = p;
	return 0;
}

/* [+-]hh[:mm[:ss]] into seconds (hours up to 167, RFC 8536's extension). */
static int
rule_time(const char **s, int32_t *out)
{
	const char *p = *s;
	int sign = 1, part[3] = { 0, 0, 0 }, i;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	for (i = 0; i < 3; i++) {
		int v = 0, digits = 0;

		while (*p >= '0' && *p <= '9' && digits < 3) {
			v = v * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0 || v > (i == 0 ? 167 : 59))
			return -1;
		part[i] = v;
		if (*p != ':' || i == 2)
			break;
		p++;
	}
	*out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	*s = p;
	return 0;
}

/* An unsigned decimal in [lo, hi].  Advances *s. */
static int
rule_num(const char **s, int lo, int hi, int *out)
{
	char *end;
	long v = strtol(*s, &end, 10);

	if (end == *s || **s == '-' || **s == '+' || v < lo || v > hi)
		return -1;
	*s = end;
	*out = (int)v;
	return 0;
}

/* ",Mm.w.d[/time]" or ",Jn[/time]" or ",n[/time]". */
static int
rule_when(const char **s, struct tz_when *w)
{
	const char *p = *s;

	if (*p++ != ',')
		return -1;
	memset(w, 0, sizeof(*w));
	w->time = 2 * 3600;
	if (*p == 'M') {
		p++;
		w->kind = 'M';
		if (rule_num(&p, 1, 12, &w->m) != 0 || *p++ != '.' ||
		    rule_num(&p, 1, 5, &w->w) != 0 || *p++ != '.' ||
		    rule_num(&p, 0, 6, &w->d) != 0)
			return -1;
	} else if (*p == 'J') {
		p++;
		w->kind = 'J';
		if (rule_num(&p, 1, 365, &w->n) != 0)
			return -1;
	} else {
		w->kind = 'n';
		if (rule_num(&p, 0, 365, &w->n) != 0)
			return -1;
	}
	if (*p == '/') {
		p++;
		if (rule_time(&p, &w->time) != 0)
			return -1;
	}
	*s = p;
	return 0;
}

int
tz_parse_rule(struct tz *z, const char *s)
{
	int32_t off;

	z->has_rule = false;
	if (rule_name(&s) != 0 || rule_time(&s, &off) != 0)
		return -1;
	z->std_off = -off;		/* POSIX counts west of UTC */
	z->has_dst = false;
	if (*s == '\0') {
		z->has_rule = true;
		return 0;
	}
	if (rule_name(&s) != 0)
		return -1;
	z->dst_off = z->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if (rule_time(&s, &off) != 0)
			return -1;
		z->dst_off = -off;
	}
	if (rule_when(&s, &z->start) != 0 || rule_when(&s, &z->end) != 0 || *s != '\0')
		return -1;
	z->has_dst = true;
	z->has_rule = true;
	return 0;
}

/* The instant (seconds) of w in year y, local time at offset off. */
static int64_t
when_at(const struct tz_when *w, int64_t y, int32_t off)
{
	int64_t day;

	if (w->kind == 'J')
		day = days_from_civil(y, 1, 1) + w->n - 1 + (leap(y) && w->n >= 60);
	else if (w->kind == 'n')
		day = days_from_civil(y, 1, 1) + w->n;
	else {
		int64_t first = days_from_civil(y, w->m, 1);
		/* 1970-01-01 was a Thursday (4). */
		int wday = (int)(((first % 7) + 7 + 4) % 7);
		int mday = 1 + (w->d - wday + 7) % 7 + 7 * (w->w - 1);

		while (mday > month_days(y, w->m))
			mday -= 7;
		day = first + mday - 1;
	}
	return day * DAY_S + w->time - off;
}

static int32_t
rule_offset(const struct tz *z, int64_t t)
{
	int64_t y, start, end;

	if (!z->has_dst)
		return z->std_off;
	y = year_of_days((t + z->std_off) / DAY_S - ((t + z->std_off) % DAY_S < 0));
	start = when_at(&z->start, y, z->std_off);
	end = when_at(&z->end, y, z->dst_off);
	if (start < end)
		return t >= start && t < end ? z->dst_off : z->std_off;
	return t >= end && t < start ? z->std_off : z->dst_off;
}

/* --- TZif files -------------------------------------------------------------- */

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* The six counts of the header at p; -1 if it is not a TZif header. */
static int
header(const unsigned char *p, size_t left, uint32_t c[6], char *version)
{
	int i;

	if (left < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	*version = (char)p[4];
	for (i = 0; i < 6; i++)
		c[i] = be32(p + 20 + (size_t)4 * (size_t)i);
	return 0;
}

/* Bytes of a data block with the counts c and tsize-byte times. */
static size_t
block_size(const uint32_t c[6], size_t tsize)
{
	/* isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt */
	return (size_t)c[3] * tsize + c[3] + (size_t)c[4] * 6 + c[5] +
	    (size_t)c[2] * (tsize + 4) + c[1] + c[0];
}

/* Read the data block at p (times of tsize bytes) into z. */
static int
load_block(struct tz *z, const unsigned char *p, const uint32_t c[6], size_t tsize)
{
	size_t i;

	if (c[4] == 0 || c[4] > 256)
		return -1;
	z->n = c[3];
	z->ntypes = c[4];
	z->at = calloc(z->n ? z->n : 1, sizeof(*z->at));
	z->type = calloc(z->n ? z->n : 1, 1);
	z->utoff = calloc(z->ntypes, sizeof(*z->utoff));
	if (z->at == NULL || z->type == NULL || z->utoff == NULL)
		return -1;
	for (i = 0; i < z->n; i++) {
		z->at[i] = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
		if (i > 0 && z->at[i] <= z->at[i - 1])
			return -1;
	}
	p += z->n * tsize;
	for (i = 0; i < z->n; i++)
		if ((z->type[i] = p[i]) >= z->ntypes)
			return -1;
	p += z->n;
	for (i = 0; i < z->ntypes; i++)
		z->utoff[i] = (int32_t)be32(p + i * 6);
	return 0;
}

/* A zone name is a relative path of the database: no "..", no leading /. */
static bool
safe_name(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len < TZ_NAME_MAX && name[0] != '/' &&
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789/_+-.") == len && strstr(name, "..") == NULL &&
	    strstr(name, "//") == NULL && name[len - 1] != '/';
}

static int
parse(struct tz *z, const unsigned char *buf, size_t len)
{
	uint32_t c[6];
	size_t need;
	char version;

	if (header(buf, len, c, &version) != 0)
		return -1;
	need = 44 + block_size(c, 4);
	if (need > len)
		return -1;
	if (version < '2')
		return load_block(z, buf + 44, c, 4);
	/* Version 2+: skip the 32-bit block; a 64-bit one and the footer follow. */
	buf += need;
	len -= need;
	if (header(buf, len, c, &version) != 0)
		return -1;
	need = 44 + block_size(c, 8);
	if (need > len || load_block(z, buf + 44, c, 8) != 0)
		return -1;
	buf += need;
	len -= need;
	/* "\n<rule>\n"; an empty rule means none. */
	if (len >= 2 && buf[0] == '\n') {
		const unsigned char *nl = memchr(buf + 1, '\n', len - 1);
		char rule[128];

		if (nl == NULL || (size_t)(nl - buf - 1) >= sizeof(rule))
			return -1;
		memcpy(rule, buf + 1, (size_t)(nl - buf - 1));
		rule[nl - buf - 1] = '\0';
		if (rule[0] != '\0' && tz_parse_rule(z, rule) != 0)
			return -1;
	}
	return 0;
}

int
tz_load(struct tz *z, const char *name, char *err, size_t size)
{
	const char *dir = getenv("TZDIR");
	unsigned char *buf = NULL;
	char path[4096];
	struct stat st;
	ssize_t got;
	int fd, rc;

	memset(z, 0, sizeof(*z));
	if (dir == NULL || dir[0] == '\0')
		dir = "/usr/share/zoneinfo";
	if (!safe_name(name)) {
		snprintf(err, size, "'%s' is not a time zone name (like Europe/Dublin)", name);
		return TZ_UNKNOWN;
	}
	snprintf(z->name, sizeof(z->name), "%s", name);
	if (strcmp(name, "UTC") == 0) {
		/* No transitions, one type: offset 0 at every instant. */
		if ((z->utoff = calloc(1, sizeof(*z->utoff))) == NULL) {
			snprintf(err, size, "out of memory");
			return TZ_IOERR;
		}
		z->ntypes = 1;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT && errno != ENOTDIR) {
			snprintf(err, size, "cannot read time zone file %s: %s",
			    path, strerror(errno));
			return TZ_IOERR;
		}
		snprintf(err, size, "unknown time zone '%s' (no %s: %s; is tzdata "
		    "installed?)", name, path, strerror(errno));
		return TZ_UNKNOWN;
	}
	/* A file that cannot be read (or no memory to read it in): I/O.  Not
	 * a regular file of a zone's size, or not TZif: an unknown zone. */
	rc = TZ_UNKNOWN;
	if (fstat(fd, &st) != 0) {
		rc = TZ_IOERR;
	} else if (S_ISREG(st.st_mode) && st.st_size <= TZIF_MAX) {
		if ((buf = malloc((size_t)st.st_size + 1)) == NULL ||
		    (got = read(fd, buf, (size_t)st.st_size)) < 0)
			rc = TZ_IOERR;
		else if (got == st.st_size && parse(z, buf, (size_t)got) == 0)
			rc = 0;
	}
	if (rc == TZ_IOERR)
		snprintf(err, size, "cannot read time zone file %s: %s", path,
		    strerror(errno));
	else if (rc == TZ_UNKNOWN)
		snprintf(err, size, "'%s' is not a time zone (%s is not a TZif file)",
		    name, path);
	close(fd);
	free(buf);
	if (rc != 0)
		tz_free(z);
	return rc;
}

void
tz_free(struct tz *z)
{
	free(z->at);
	free(z->type);
	free(z->utoff);
	z->at = NULL;
	z->type = NULL;
	z->utoff = NULL;
	z->n = z->ntypes = 0;
}

int32_t
tz_offset(const struct tz *z, int64_t t)
{
	size_t lo = 0, hi = z->n;

	if (z->n == 0 || t < z->at[0])
		return z->n == 0 && z->has_rule ? rule_offset(z, t) : z->utoff[0];
	if (t >= z->at[z->n - 1] && z->has_rule)
		return rule_offset(z, t);
	/* The last transition at or before t. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (z->at[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->utoff[z->type[lo]];
}
