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
	{ "status", NULL, OPT_STATUS, "print the version and pending migrations" },
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

/* Print the version and what is pending; used by --status and --dry-run. */
static int
report(struct db *db, int version, int target, bool dry_run)
{
	char msg[2048];
	int64_t merged;
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
		if (!dry_run || version < 1)
			continue;
		if ((rc = schema_precheck(db, v, msg, sizeof(msg))) == J_DATAERR) {
			log_error("migration %d would stop: %s", v, msg);
			status = J_DATAERR;
		} else if (rc != J_OK) {
			return rc;
		}
		if ((rc = schema_merge_count(db, v, &merged)) != J_OK)
			return rc;
		if (merged > 0)
			log_info("migration %d would merge %lld duplicate cart "
			    "reservations (the newest of each group is kept)",
			    v, (long long)merged);
	}
	if (version >= target)
		log_info("nothing pending");
	return status;
}

static int
upgrade(struct db *db, int from, int to)
{
	struct runlog run;
	char msg[2048];
	int64_t merged = 0;
	int v, rc = J_OK;

	/* The table rebuild needs foreign keys off, and the pragma is a no-op
	 * inside a transaction: set it here, check before each COMMIT. */
	if ((rc = db_exec(db, "PRAGMA foreign_keys = OFF")) != J_OK)
		return rc;
	for (v = from + 1; v <= to && rc == J_OK; v++) {
		if ((rc = schema_merge_count(db, v, &merged)) != J_OK)
			break;
		rc = schema_apply(db, v, msg, sizeof(msg));
		if (rc == J_DATAERR) {
			log_error("'%s': migration %d stopped, nothing changed: %s",
			    db->path, v, msg);
			return rc;
		}
		if (rc != J_OK)
			break;
		log_info("'%s': migrated to version %d (%s)", db->path, v,
		    schema_migration(v)->name);
		if (merged > 0)
			log_info("merged %lld duplicate cart reservations (kept "
			    "the newest of each group)", (long long)merged);
	}
	if (rc == J_OK)
		rc = db_exec(db, "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL;");
	if (rc == J_OK && to >= 2 && to > from) {
		runlog_init(&run, db, "migrate", cli_real_now_ms());
		snprintf(run.window_start, sizeof(run.window_start), "%d", from);
		snprintf(run.window_end, sizeof(run.window_end), "%d", to);
		snprintf(msg, sizeof(msg), "version %d -> %d", from, to);
		if ((rc = runlog_start(&run)) == J_OK)
			rc = runlog_finish(&run, J_OK, false, msg);
	}
	if (rc != J_OK)
		log_error("%s", db->err);
	return rc;
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
	int rc, version = 0, target;

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
		rc = upgrade(&db, version, target);
	}
	/* The archive id belongs to this file from now on (dbfile.h). */
	if (rc == J_OK && target >= SCHEMA_REQUIRED &&
	    (rc = dbfile_claim(&db, lock.fd)) != J_OK)
		log_error("%s", db.err);
	if (db_close(&db) != J_OK && rc == J_OK) {
		log_error("%s", db.err);
		rc = J_SOFTWARE;
	}
	lock_close(&lock);
	return rc;
}
