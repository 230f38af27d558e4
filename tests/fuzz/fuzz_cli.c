/*
 * libFuzzer harness for cli_parse() (common/cli.c, SPEC section 4).
 *
 * The input is split on NUL bytes into argv[1..] (argv[0] is fixed), each
 * word in its own exact-size heap buffer so ASan sees any read past its NUL,
 * and parsed with the spec of an archiving job: CLI_NOW | CLI_BATCH |
 * CLI_RUNTIME | CLI_ARCHIVE (and CLI_METRICS where cli.h has it) plus one
 * numeric option of its own, like prune_events' --retention-days, and one
 * flag.  Checked after each call:
 *   - the result is 0, J_USAGE or CLI_EXIT_DONE, nothing else;
 *   - on success every field is in its documented range: a non-empty db
 *     path, batch/runtime/busy limits, verbosity, log format, exactly one of
 *     --archive-dir / --no-archive, a --now inside [TS_MIN_MS, TS_MAX_MS];
 *   - the handler only ever sees its own keys, with an argument when the
 *     option takes one;
 *   - a second parse of a fresh copy of the same words gives the same
 *     result (no state leaks from one call into the next).
 *
 * Global state: cli_parse() sets optind = 1 itself, but glibc's getopt keeps
 * a private "next character" pointer into the previous argv that only
 * optind = 0 resets; reset_getopt() does that before each call (the words of
 * the previous input are freed by then).
 *
 * Output: cli_parse() prints one error line per bad input on stderr (and
 * --help/--version on stdout).  LLVMFuzzerInitialize() adds libFuzzer's own
 * -close_fd_mask=3 unless one was given: libFuzzer then points fd 1 and 2 at
 * /dev/null once at startup, after keeping a duplicate of fd 2 for its own
 * status lines and for the sanitizer reports.  (Redirecting fd 2 by hand
 * here would also swallow libFuzzer's output.)  Run with -close_fd_mask=0 to
 * see what cli_parse() prints.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "status.h"
#include "timefmt.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: property failed: %s\n",	\
			    __FILE__, __LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)

#define MAX_ARGS	64

#ifdef CLI_METRICS
#define SPEC_METRICS	CLI_METRICS
#else
#define SPEC_METRICS	0
#endif

enum { OPT_RETENTION = 256, OPT_SKIP_CHECK };

struct args {
	long retention_days;
	bool retention_given, skip_check;
};

static const struct cli_option options[] = {
	{ "retention-days", "N", OPT_RETENTION, "keep the last N days (1..36500)" },
	{ "skip-rollup-check", NULL, OPT_SKIP_CHECK, "prune without a fresh rollup" },
	{ NULL, NULL, 0, NULL },
};

static int
handle(void *ctx, int key, const char *arg, char *err, size_t size)
{
	struct args *a = ctx;

	CHECK(key == OPT_RETENTION || key == OPT_SKIP_CHECK);
	if (key == OPT_SKIP_CHECK) {
		a->skip_check = true;
		return 0;
	}
	CHECK(arg != NULL);
	if (cli_number(arg, 1, 36500, &a->retention_days) != 0) {
		snprintf(err, size, "--retention-days: '%s' is not a number of "
		    "days from 1 to 36500", arg);
		return J_USAGE;
	}
	a->retention_given = true;
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char quiet[] = "-close_fd_mask=3";
	char **nv;
	int i;

	/* Same inputs, same answers: no database from the environment, and
	 * GNU argument permutation as in production. */
	unsetenv("JOBS_DB");
	unsetenv("POSIXLY_CORRECT");

	for (i = 1; i < *argc; i++)
		if (strncmp((*argv)[i], "-close_fd_mask=", 15) == 0)
			return 0;
	nv = calloc((size_t)*argc + 2, sizeof(*nv));
	if (nv == NULL)
		return 0;
	nv[0] = (*argv)[0];
	nv[1] = quiet;
	for (i = 1; i < *argc; i++)
		nv[i + 1] = (*argv)[i];
	*argv = nv;		/* kept for the life of the process */
	(*argc)++;
	return 0;
}

/* Forget glibc getopt's pointer into the previous (freed) argv. */
static void
reset_getopt(void)
{
	static char name[] = "fuzz_cli";
	char *av[] = { name, NULL };

	optind = 0;
	opterr = 0;
	while (getopt(1, av, "") != -1)
		;
}

struct words {
	int argc;
	char *argv[MAX_ARGS + 2];
};

static void
split(const uint8_t *data, size_t size, struct words *w)
{
	static const char name[] = "prune_events";
	size_t start = 0;

	w->argc = 0;
	w->argv[w->argc++] = strdup(name);
	CHECK(w->argv[0] != NULL);
	/* No bytes, no words: just the program name. */
	while (size > 0 && start <= size && w->argc <= MAX_ARGS) {
		const uint8_t *nul = memchr(data + start, 0, size - start);
		size_t end = nul ? (size_t)(nul - data) : size;
		char *s;

		/* A trailing NUL ends the last word; it does not start one. */
		if (start == size && size > 0 && data[size - 1] == 0)
			break;
		s = malloc(end - start + 1);
		CHECK(s != NULL);
		memcpy(s, data + start, end - start);
		s[end - start] = '\0';
		w->argv[w->argc++] = s;
		start = end + 1;
	}
	w->argv[w->argc] = NULL;
}

static void
free_words(struct words *w, char **orig)
{
	/* getopt_long permutes argv; free what was allocated. */
	for (int i = 0; i < w->argc; i++)
		free(orig[i]);
}

struct result {
	int rc;
	struct job_opts o;
	struct args a;
};

static void
run(const uint8_t *data, size_t size, struct result *r)
{
	static const struct cli_spec spec = {
		.name = "prune_events",
		.synopsis = "[options]",
		.summary = "fuzz harness spec",
		.flags = CLI_NOW | CLI_BATCH | CLI_RUNTIME | CLI_ARCHIVE |
		    SPEC_METRICS,
		.default_batch = 5000,
		.extra = options,
		.handle = handle,
	};
	struct cli_spec s = spec;
	struct words w;
	char *orig[MAX_ARGS + 2];

	split(data, size, &w);
	memcpy(orig, w.argv, sizeof(orig));
	memset(r, 0, sizeof(*r));
	s.ctx = &r->a;
	reset_getopt();
	r->rc = cli_parse(&s, w.argc, w.argv, &r->o);

	CHECK(r->rc == 0 || r->rc == J_USAGE || r->rc == CLI_EXIT_DONE);
	if (r->rc == 0) {
		const struct job_opts *o = &r->o;

		CHECK(o->db_path != NULL && o->db_path[0] != '\0');
		CHECK(o->batch_size >= 1 && o->batch_size <= 10000000);
		CHECK(o->max_runtime >= 0 && o->max_runtime <= 31536000);
		CHECK(o->busy_timeout >= 0 && o->busy_timeout <= 3600000);
		CHECK(o->verbosity >= -1 && o->verbosity <= 1);
		CHECK(o->log_format == LOG_TEXT || o->log_format == LOG_JSON);
		CHECK((o->archive_dir != NULL) != o->no_archive);
		CHECK(o->archive_dir == NULL || o->archive_dir[0] != '\0');
		if (o->now_given)
			CHECK(o->now_ms >= TS_MIN_MS && o->now_ms <= TS_MAX_MS);
		if (r->a.retention_given)
			CHECK(r->a.retention_days >= 1 &&
			    r->a.retention_days <= 36500);
		/* The paths point into argv (or the environment): read them
		 * while the words are alive so ASan checks the memory, then
		 * forget them before comparing two runs. */
		CHECK(strlen(o->db_path) <= size);
		if (o->archive_dir != NULL)
			CHECK(strlen(o->archive_dir) <= size);
		r->o.db_path = NULL;
		r->o.archive_dir = NULL;
#ifdef CLI_METRICS
		if (o->metrics_file != NULL)
			CHECK(o->metrics_file[0] != '\0' &&
			    strlen(o->metrics_file) <= size);
		r->o.metrics_file = NULL;
#endif
		if (!o->now_given)
			r->o.now_ms = 0;	/* the real clock */
	}
	free_words(&w, orig);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result r1, r2;

	run(data, size, &r1);
	run(data, size, &r2);
	CHECK(r1.rc == r2.rc);
	if (r1.rc == 0) {
		CHECK(r1.o.now_given == r2.o.now_given && r1.o.now_ms == r2.o.now_ms);
		CHECK(r1.o.dry_run == r2.o.dry_run);
		CHECK(r1.o.batch_size == r2.o.batch_size);
		CHECK(r1.o.max_runtime == r2.o.max_runtime);
		CHECK(r1.o.busy_timeout == r2.o.busy_timeout);
		CHECK(r1.o.verbosity == r2.o.verbosity);
		CHECK(r1.o.log_format == r2.o.log_format);
		CHECK(r1.o.no_archive == r2.o.no_archive);
		CHECK(r1.a.retention_given == r2.a.retention_given);
		CHECK(r1.a.retention_days == r2.a.retention_days);
		CHECK(r1.a.skip_check == r2.a.skip_check);
	}
	return 0;
}
