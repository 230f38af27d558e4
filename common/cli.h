/*
 * Command-line options shared by every program (SPEC section 4), parsed in
 * one place so that --db, --now, --dry-run and the rest mean the same thing
 * for every job.  A job adds its own options through a small table and a
 * callback; the common ones it does not use are switched off by flags.
 */
#ifndef JOBS_CLI_H
#define JOBS_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"

/* Which optional groups of common options a program takes. */
#define CLI_NOW		0x01	/* --now */
#define CLI_BATCH	0x02	/* --batch-size */
#define CLI_RUNTIME	0x08	/* --max-runtime */
#define CLI_ARCHIVE	0x04	/* --archive-dir or --no-archive (one required) */
#define CLI_METRICS	0x10	/* --metrics-file */

#define CLI_DEFAULT_BUSY_MS	5000	/* milliseconds, SPEC section 4 */
#define CLI_EXIT_DONE		(-1)	/* --help or --version was printed */

struct job_opts {
	const char *db_path;		/* --db or $JOBS_DB */
	int64_t now_ms;			/* --now, else the real clock (UTC ms) */
	bool now_given;
	bool dry_run;
	long batch_size;		/* rows per transaction */
	bool batch_given;		/* --batch-size: exactly that, not adapted */
	long max_runtime;		/* seconds, 0 = no limit */
	long busy_timeout;		/* milliseconds */
	int verbosity;			/* -1 with -q, 1 with -v */
	enum log_format log_format;
	const char *archive_dir;	/* NULL with --no-archive */
	bool no_archive;
	const char *metrics_file;	/* --metrics-file, or NULL */
};

/* One program-specific option; the table ends with name == NULL. */
struct cli_option {
	const char *name;		/* long name without "--" */
	const char *arg;		/* argument name for --help, NULL if none */
	int key;			/* passed to the handler, >= 256 */
	const char *help;
};

/*
 * Called for each program-specific option; returns 0, or J_USAGE after
 * printing nothing (cli_parse() prints the error line from errmsg).
 */
typedef int (*cli_handler)(void *ctx, int key, const char *arg,
    char *errmsg, size_t errsize);

struct cli_spec {
	const char *name;		/* program name */
	const char *synopsis;		/* one line after the name in usage */
	const char *summary;		/* what one run does, for --help */
	unsigned flags;			/* CLI_* groups */
	long default_batch;		/* rows, if CLI_BATCH */
	const struct cli_option *extra;	/* may be NULL */
	cli_handler handle;
	void *ctx;
};

/*
 * Parse argv into *o (defaults filled first) and set up logging.  Returns 0,
 * J_USAGE after printing one error line, or CLI_EXIT_DONE after printing
 * --help or --version.  A missing --db and $JOBS_DB is a usage error.
 */
int cli_parse(const struct cli_spec *spec, int argc, char **argv,
    struct job_opts *o);

/* Parse a decimal integer in [min, max]; 0 or -1 (no message). */
int cli_number(const char *s, long min, long max, long *out);

/*
 * Test knobs: environment variables that shrink a constant so a test can
 * reach a case without waiting or without gigabytes of data.  Each is named
 * where its constant is defined; unset (the normal case) gives dflt, and so
 * does a value that is not a number from 0 to 2^40.
 *   JOBS_TEST_PROGRESS_MS    progress.c, milliseconds between progress lines
 *   JOBS_TEST_WAL_BOUND_KB   db.h, the WAL bound (DB_WAL_BOUND_BYTES)
 */
int64_t cli_test_knob(const char *name, int64_t dflt);

/* Milliseconds of the real clock, UTC. */
int64_t cli_real_now_ms(void);

#endif
