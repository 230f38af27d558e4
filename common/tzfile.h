/*
 * Time zones from the system's time zone database (the tzdata package:
 * /usr/share/zoneinfo, or $TZDIR), read here from their TZif files (RFC
 * 8536) rather than through the C library's TZ and localtime(): that one is
 * process-wide state, and these programs run a checkpoint thread, and a run
 * may need two zones at once (the old and the new around a switch).  Nothing
 * here is global: a loaded zone is read-only and can be shared.
 *
 * A TZif file lists the instants at which a zone's offset changed; past the
 * last one, its footer (a POSIX TZ string such as "IST-1GMT0,M10.5.0,M3.5.0/1")
 * gives the rule for every later year.  Both are applied as the files say,
 * negative daylight saving (Europe/Dublin) and 30-minute shifts
 * (Australia/Lord_Howe) included; no rule is written by hand.
 */
#ifndef JOBS_TZFILE_H
#define JOBS_TZFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TZ_NAME_MAX	64

/* One transition of a POSIX rule: Mm.w.d, Jn or n, at time seconds. */
struct tz_when {
	char kind;		/* 'M', 'J' or 'n' */
	int m, w, d, n;
	int32_t time;		/* seconds after local midnight (may be <0 or >24 h) */
};

struct tz {
	char name[TZ_NAME_MAX];
	int64_t *at;		/* transition instants, seconds, ascending */
	uint8_t *type;		/* the type each transition switches to */
	size_t n;
	int32_t *utoff;		/* seconds east of UTC, per type */
	size_t ntypes;
	bool has_rule;		/* the footer's rule, for instants past at[n-1] */
	int32_t std_off, dst_off;
	bool has_dst;
	struct tz_when start, end;
};

/*
 * Load zone name (an IANA name such as "Europe/Dublin").  "UTC" is built
 * in and reads no file: a database without a business zone needs no tzdata,
 * and no I/O error can reach it.  Returns 0; TZ_UNKNOWN with err set (one
 * line) if the name is not a zone of the database (or not a safe path: no
 * "..", no leading "/") or its file is not a valid TZif file; TZ_IOERR if
 * the file is there but cannot be read (EIO, EACCES) or memory runs out.
 */
#define TZ_UNKNOWN	(-1)
#define TZ_IOERR	(-2)
int tz_load(struct tz *z, const char *name, char *err, size_t size);

void tz_free(struct tz *z);

/* The zone's offset from UTC, seconds east, at instant t (seconds). */
int32_t tz_offset(const struct tz *z, int64_t t);

/*
 * Parse a POSIX TZ rule (the footer of a TZif file) into z's rule fields.
 * 0, or -1 if it is not one.  Exposed for the unit tests.
 */
int tz_parse_rule(struct tz *z, const char *s);

#endif
