/*
 * The common command line of every job (SPEC section 4).  getopt_long does
 * the parsing; this file adds range checks, the $JOBS_DB fallback, the one
 * --help layout (options and exit codes) and the one error-line format.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "status.h"
#include "timefmt.h"

enum {
	OPT_DB = 1000, OPT_NOW, OPT_DRY_RUN, OPT_BATCH, OPT_MAX_RUNTIME,
	OPT_BUSY, OPT_LOG_FORMAT, OPT_ARCHIVE_DIR, OPT_NO_ARCHIVE, OPT_METRICS,
};

struct common_option {
	struct cli_option o;
	unsigned group;			/* 0 = always present */
};

static const struct common_option common_options[] = {
	{ { "db", "PATH", OPT_DB, "database file (default: $JOBS_DB)" }, 0 },
	{ { "now", "TIME", OPT_NOW, "pretend it is this time (e.g. 2025-10-05T03:00:00Z)" }, CLI_NOW },
	{ { "dry-run", NULL, OPT_DRY_RUN, "say what would be done; open read-only, write nothing" }, 0 },
	{ { "batch-size", "N", OPT_BATCH, "rows per transaction and archive file" }, CLI_BATCH },
	{ { "max-runtime", "SECONDS", OPT_MAX_RUNTIME, "stop cleanly after the current batch past this" }, CLI_RUNTIME },
	{ { "busy-timeout", "MS", OPT_BUSY, "wait this long for a busy database (default 5000)" }, 0 },
	{ { "archive-dir", "DIR", OPT_ARCHIVE_DIR, "write archives under DIR" }, CLI_ARCHIVE },
	{ { "no-archive", NULL, OPT_NO_ARCHIVE, "delete without archiving" }, CLI_ARCHIVE },
	{ { "log-format", "text|json", OPT_LOG_FORMAT, "log line format (default text)" }, 0 },
	{ { "metrics-file", "PATH", OPT_METRICS, "write the run's metrics there (Prometheus text)" }, CLI_METRICS },
	{ { NULL, NULL, 0, NULL }, 0 },
};

static const char exit_codes[] =
    "exit status:\n"
    "  0   done (also nothing to do, or a clean stop at --max-runtime)\n"
    "  64  bad usage\n"
    "  65  refused because of the data\n"
    "  66  database missing, not a database, or with more than one hard link\n"
    "  70  internal error\n"
    "  73  archive cannot be created\n"
    "  74  I/O error\n"
    "  75  temporary: database busy, or another instance is running\n"
    "  78  schema not migrated (run migrate)\n";

int
cli_number(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || (*s < '0' || *s > '9'))
		return -1;	/* no sign, no spaces: "-5" and " 5" are errors */
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int64_t
cli_real_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
print_option(const struct cli_option *o)
{
	char left[64];

	snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "",
	    o->arg ? o->arg : "");
	printf("  %-26s %s\n", left, o->help);
}

static void
usage(const struct cli_spec *spec)
{
	const struct common_option *c;
	const struct cli_option *e;
	char help[128];

	printf("usage: %s %s\n\n%s\n\noptions:\n", spec->name, spec->synopsis,
	    spec->summary);
	for (e = spec->extra; e != NULL && e->name != NULL; e++)
		print_option(e);
	for (c = common_options; c->o.name != NULL; c++) {
		struct cli_option o = c->o;

		if (c->group != 0 && !(spec->flags & c->group))
			continue;
		if (o.key == OPT_BATCH) {
			snprintf(help, sizeof(help), "%s (default %ld)", o.help,
			    spec->default_batch);
			o.help = help;
		}
		print_option(&o);
	}
	printf("  %-26s %s\n  %-26s %s\n  %-26s %s\n  %-26s %s\n\n%s",
	    "-q", "only warnings and errors", "-v", "more detail",
	    "-h, --help", "this help", "-V, --version", "print the version",
	    exit_codes);
}

static int
bad(const struct cli_spec *spec, const char *what)
{
	log_error("%s (see %s --help)", what, spec->name);
	return J_USAGE;
}

/* Handle one common option; returns 0 or J_USAGE. */
static int
common_option(const struct cli_spec *spec, int key, const char *arg,
    struct job_opts *o)
{
	char msg[512];
	struct ts t;

	switch (key) {
	case OPT_DB:
		if (*arg == '\0')
			return bad(spec, "--db: empty path");
		o->db_path = arg;
		return 0;
	case OPT_NOW:
		if (ts_parse_text(arg, strlen(arg), &t) == TS_INVALID) {
			snprintf(msg, sizeof(msg), "--now: '%s' is not a valid time "
			    "(e.g. 2025-10-05T12:00:00Z)", arg);
			return bad(spec, msg);
		}
		o->now_ms = t.ms;
		o->now_given = true;
		return 0;
	case OPT_DRY_RUN:
		o->dry_run = true;
		return 0;
	case OPT_BATCH:
		if (cli_number(arg, 1, 10000000, &o->batch_size) != 0) {
			snprintf(msg, sizeof(msg), "--batch-size: '%s' is not a "
			    "number from 1 to 10000000", arg);
			return bad(spec, msg);
		}
		o->batch_given = true;
		return 0;
	case OPT_MAX_RUNTIME:
		if (cli_number(arg, 1, 31536000, &o->max_runtime) != 0) {
			snprintf(msg, sizeof(msg), "--max-runtime: '%s' is not a "
			    "number of seconds from 1 to 31536000", arg);
			return bad(spec, msg);
		}
		return 0;
	case OPT_BUSY:
		if (cli_number(arg, 0, 3600000, &o->busy_timeout) != 0) {
			snprintf(msg, sizeof(msg), "--busy-timeout: '%s' is not a "
			    "number of milliseconds from 0 to 3600000", arg);
			return bad(spec, msg);
		}
		return 0;
	case OPT_LOG_FORMAT:
		if (strcmp(arg, "text") == 0)
			o->log_format = LOG_TEXT;
		else if (strcmp(arg, "json") == 0)
			o->log_format = LOG_JSON;
		else {
			snprintf(msg, sizeof(msg), "--log-format: '%s' is not "
			    "text or json", arg);
			return bad(spec, msg);
		}
		return 0;
	case OPT_ARCHIVE_DIR:
		if (*arg == '\0')
			return bad(spec, "--archive-dir: empty path");
		o->archive_dir = arg;
		return 0;
	case OPT_NO_ARCHIVE:
		o->no_archive = true;
		return 0;
	case OPT_METRICS:
		if (*arg == '\0')
			return bad(spec, "--metrics-file: empty path");
		o->metrics_file = arg;
		return 0;
	}
	return bad(spec, "unknown option");
}

int
cli_parse(const struct cli_spec *spec, int argc, char **argv,
    struct job_opts *o)
{
	struct option longopts[64];
	const struct common_option *c;
	const struct cli_option *e;
	char msg[512];
	int n = 0, ch, rc;
	bool quiet = false, verbose = false;

	memset(o, 0, sizeof(*o));
	o->busy_timeout = CLI_DEFAULT_BUSY_MS;
	o->batch_size = spec->default_batch;
	log_setup(spec->name, LOG_TEXT, 0);

	for (c = common_options; c->o.name != NULL; c++)
		if (c->group == 0 || (spec->flags & c->group))
			longopts[n++] = (struct option){ c->o.name,
			    c->o.arg ? required_argument : no_argument, NULL, c->o.key };
	for (e = spec->extra; e != NULL && e->name != NULL; e++)
		longopts[n++] = (struct option){ e->name,
		    e->arg ? required_argument : no_argument, NULL, e->key };
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n++] = (struct option){ "version", no_argument, NULL, 'V' };
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };

	opterr = 0;	/* we print our own one-line errors */
	optind = 0;	/* 0, not 1: glibc also forgets its place in the last argv */
	while ((ch = getopt_long(argc, argv, ":qvhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'q':
			quiet = true;
			continue;
		case 'v':
			verbose = true;
			continue;
		case 'h':
			usage(spec);
			return CLI_EXIT_DONE;
		case 'V':
			printf("%s %s\n", spec->name, JOBS_VERSION);
			return CLI_EXIT_DONE;
		case ':':
			snprintf(msg, sizeof(msg), "option '%s' needs a value",
			    argv[optind - 1]);
			return bad(spec, msg);
		case '?':
			/* optopt names a bad short option; for a long one it is 0
			 * and argv[optind - 1] is the word itself. */
			if (optopt != 0)
				snprintf(msg, sizeof(msg), "unknown option '-%c'", optopt);
			else
				snprintf(msg, sizeof(msg), "unknown option '%s'",
				    argv[optind - 1]);
			return bad(spec, msg);
		}
		if (ch >= OPT_DB && ch <= OPT_METRICS)
			rc = common_option(spec, ch, optarg, o);
		else {
			msg[0] = '\0';
			rc = spec->handle(spec->ctx, ch, optarg, msg, sizeof(msg));
			if (rc != 0)
				return bad(spec, msg);
		}
		if (rc != 0)
			return rc;
	}
	if (quiet && verbose)
		return bad(spec, "-q and -v cannot be used together");
	o->verbosity = quiet ? -1 : verbose ? 1 : 0;
	log_setup(spec->name, o->log_format, o->verbosity);

	if (optind < argc) {
		snprintf(msg, sizeof(msg), "unexpected argument '%s'", argv[optind]);
		return bad(spec, msg);
	}
	if (o->db_path == NULL) {
		const char *env = getenv("JOBS_DB");

		if (env == NULL || *env == '\0')
			return bad(spec, "no database: give --db PATH or set JOBS_DB");
		o->db_path = env;
	}
	if (spec->flags & CLI_ARCHIVE) {
		if (o->archive_dir != NULL && o->no_archive)
			return bad(spec, "--archive-dir and --no-archive cannot be used together");
		if (o->archive_dir == NULL && !o->no_archive)
			return bad(spec, "give --archive-dir DIR, or --no-archive to delete without archiving");
	}
	if (!o->now_given)
		o->now_ms = cli_real_now_ms();
	return 0;
}

int64_t
cli_test_knob(const char *name, int64_t dflt)
{
	const char *v = getenv(name);
	long n;

	if (v == NULL || cli_number(v, 0, 1L << 40, &n) != 0)
		return dflt;
	return n;
}
