/*
 * migrate: create the shop's database at the newest schema version, or bring
 * an existing one up to date (SPEC section 2).  The SQL lives in sql/ and is
 * compiled in; each migration is one all-or-nothing transaction.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "db.h"
#include "dbfile.h"
#include "lock.h"
#include "log.h"
#include "runlog.h"
#include "schema.h"
#include "status.h"

enum { OPT_TO = 256, OPT_STATUS };

struct migrate_args {
	long to;		/* target version, 0 = newest */
	bool status;
};

static const struct cli_option options[] = {
	{ "to", "N", OPT_TO, "stop at version N (1 = the V1 baseline)" },
	{ "status", NULL, OPT_STATUS, "print the version, the pending migrations and their plans" },
	{ NULL, NULL, 0, NULL },
};

static int
handle(void *ctx, int key, const char *arg, char *err, size_t size)
{
	struct migrate_args *a = ctx;

	if (key == OPT_STATUS) {
		a->status = true;
		return 0;
	}
	if (cli_number(arg, 1, schema_latest(), &a->to) != 0) {
		snprintf(err, size, "--to: '%s' is not a version from 1 to %d",
		    arg, schema_latest());
		return J_USAGE;
	}
	return 0;
}

/*
 * Print the version, then each pending migration with what would stop it and
 * what it would do to the rows (schema_precheck, schema_plan); used by
 * --status and --dry-run, before anything is done.  Both only read.  A
 * migration that would stop makes --dry-run exit 65, as the real run would;
 * --status says so in a warning and exits 0: it answers "where is this
 * database", and it did.
 */
static int
report(struct db *db, int version, int target, bool dry_run)
{
	char msg[2048];
	int v, rc, status = J_OK;

	log_info("'%s': schema version %d%s", db->path, version,
	    version == 0 ? " (empty)" : version == 1 ? " (baseline)" :
	    version > schema_latest() ? " (newer than this program knows)" :
	    version == schema_latest() ? " (current)" : "");
	if (version > schema_latest())
		return J_CONFIG;
	if (dry_run && target < version) {
		log_error("'%s' is at version %d; going back to %d is not "
		    "supported", db->path, version, target);
		return J_USAGE;
	}
	for (v = version + 1; v <= target; v++) {
		log_info("pending: %d %s", v, schema_migration(v)->name);
		if (version < 1)	/* an empty file: nothing to check yet */
			continue;
		rc = schema_precheck(db, v, msg, sizeof(msg));
		if (rc == J_DATAERR && dry_run) {
			log_error("migration %d would stop: %s", v, msg);
			status = J_DATAERR;
		} else if (rc == J_DATAERR) {
			log_warn("migration %d would stop: %s", v, msg);
		} else if (rc != J_OK) {
			return rc;
		}
		if ((rc = schema_plan(db, v, msg, sizeof(msg))) != J_OK)
			return rc;
		if (msg[0] != '\0')
			log_info("migration %d %s", v, msg);
	}
	if (version >= target)
		log_info("nothing pending");
	return status;
}

/*
 * Apply the migrations after `from` up to `to`, each in its own transaction;
 * *reached is the version the database is at afterwards.  A migration that
 * stops (65) leaves the ones before it applied: each is whole on its own, and
 * version 2 is what the jobs (retire_table among them) need to run.
 */
static int
upgrade(struct db *db, int from, int to, int *reached)
{
	struct runlog run;
	char msg[2048], summary[2200];
	int v, rc, status = J_OK;

	*reached = from;
	snprintf(summary, sizeof(summary), "version %d -> ", from);
	/* The table rebuild needs foreign keys off, and the pragma is a no-op
	 * inside a transaction: set it here, check before each COMMIT. */
	if ((rc = db_exec(db, "PRAGMA foreign_keys = OFF")) != J_OK) {
		log_error("%s", db->err);
		return rc;
	}
	for (v = from + 1; v <= to && status == J_OK; v++) {
		status = schema_apply(db, v, msg, sizeof(msg));
		if (status == J_DATAERR && *reached == from)
			log_error("'%s': migration %d stopped, nothing changed: %s",
			    db->path, v, msg);
		else if (status == J_DATAERR)
			log_error("'%s': migration %d stopped, nothing of it "
			    "changed (the database is at version %d): %s",
			    db->path, v, *reached, msg);
		else if (status != J_OK)
			log_error("%s", db->err);
		if (status != J_OK)
			break;
		*reached = v;
		log_info("'%s': migrated to version %d (%s)", db->path, v,
		    schema_migration(v)->name);
		/* A database just created had no rows to speak of. */
		if (msg[0] != '\0' && from >= 1)
			log_info("%s", msg);
	}
	if (*reached == from)
		return status;
	if ((rc = db_exec(db, "PRAGMA foreign_keys = ON; "
	    "PRAGMA journal_mode = WAL;")) == J_OK && *reached >= 2) {
		runlog_init(&run, db, "migrate", cli_real_now_ms());
		run.quiet = status != J_OK;
		snprintf(run.window_start, sizeof(run.window_start), "%d", from);
		snprintf(run.window_end, sizeof(run.window_end), "%d", *reached);
		snprintf(summary + strlen(summary), sizeof(summary) - strlen(summary),
		    "%d%s%s", *reached, status == J_DATAERR ? "; stopped: " : "",
		    status == J_DATAERR ? msg : "");
		if ((rc = runlog_start(&run)) == J_OK)
			rc = runlog_finish(&run, status, false, summary);
	}
	if (rc != J_OK && status == J_OK)
		log_error("%s", db->err);
	return status != J_OK ? status : rc;
}

int
main(int argc, char **argv)
{
	struct migrate_args args = { 0, false };
	const struct cli_spec spec = {
		"migrate", "[--db PATH] [--to N | --status] [--dry-run]",
		"Create the database at the newest schema version, or upgrade it.",
		0, 0, options, handle, &args,
	};
	struct job_opts o;
	struct job_lock lock;
	struct db db;
	struct stat sb;
	char err[4096];
	int rc, version = 0, reached = 0, target;

	if ((rc = cli_parse(&spec, argc, argv, &o)) != 0)
		return rc == CLI_EXIT_DONE ? J_OK : rc;
	target = args.to ? (int)args.to : schema_latest();

	if ((args.status || o.dry_run) && stat(o.db_path, &sb) != 0 && !args.status) {
		log_info("would create '%s' at version %d", o.db_path, target);
		return J_OK;
	}
	if (args.status || o.dry_run) {
		if ((rc = db_open(&db, o.db_path, DB_READ, o.busy_timeout)) == J_OK &&
		    (rc = schema_version(&db, &version)) == J_OK)
			rc = report(&db, version, target, o.dry_run);
		if (rc != J_OK && rc != J_DATAERR && rc != J_USAGE)
			log_error("%s", rc == J_CONFIG && version > schema_latest() ?
			    "database is newer than this program knows" : db.err);
		db_close(&db);
		return rc;
	}

	/* The lock is on the file itself (lock.h): made empty if missing,
	 * which SQLite reads as an empty database. */
	if ((rc = lock_open(&lock, o.db_path, true, err, sizeof(err))) != J_OK ||
	    (rc = lock_take(&lock, "migrate", "migrate", err, sizeof(err))) != J_OK) {
		log_error("%s", err);
		lock_close(&lock);
		return rc;
	}
	if ((rc = db_open(&db, o.db_path, DB_CREATE, o.busy_timeout)) != J_OK ||
	    (rc = schema_version(&db, &version)) != J_OK) {
		log_error("%s", db.err);
	} else if (version > schema_latest()) {
		log_error("'%s' is at schema version %d, newer than this program "
		    "knows (%d): use a newer migrate", o.db_path, version,
		    schema_latest());
		rc = J_CONFIG;
	} else if (target < version) {
		log_error("'%s' is at version %d; going back to %d is not "
		    "supported", o.db_path, version, target);
		rc = J_USAGE;
	} else if (target == version) {
		rc = db_exec(&db, "PRAGMA journal_mode = WAL");
		log_info("'%s' is at version %d: nothing to do", o.db_path, version);
	} else {
		rc = upgrade(&db, version, target, &reached);
	}
	/* The archive id belongs to this file from now on (dbfile.h), also
	 * when a later migration stopped after earlier ones were applied; a
	 * refusal that changed nothing writes nothing. */
	if ((rc == J_OK && target >= SCHEMA_REQUIRED) ||
	    (rc == J_DATAERR && reached > version && reached >= SCHEMA_REQUIRED)) {
		int claimed = dbfile_claim(&db, lock.fd);

		if (claimed != J_OK) {
			log_error("%s", db.err);
			if (rc == J_OK)
				rc = claimed;
		}
	}
	if (db_close(&db) != J_OK && rc == J_OK) {
		log_error("%s", db.err);
		rc = J_SOFTWARE;
	}
	lock_close(&lock);
	return rc;
}
