/*
 * Schema versions and migrations.  Version 1 is the V1 baseline the audit
 * found; later versions are the numbered files in sql/, compiled into the
 * binary by sql/embed.sh.  A database made by the app before this project
 * has the V1 tables but no schema_migrations table: it is version 1.
 */
#ifndef JOBS_SCHEMA_H
#define JOBS_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define SCHEMA_REQUIRED 2	/* the jobs need migration 2's tables */

struct sql_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct sql_migration sql_migrations[];
extern const int sql_migration_count;

/* Newest version this program knows. */
int schema_latest(void);

/* The migration of that version, or NULL. */
const struct sql_migration *schema_migration(int version);

/*
 * Current version: 0 for an empty database, 1 for V1 tables without
 * schema_migrations, else the highest applied version.  A database holding
 * other tables but not the shop's is J_CONFIG with db->err set.
 */
int schema_version(struct db *db, int *version);

/* J_OK if the database is at least SCHEMA_REQUIRED and not newer than known;
 * else J_CONFIG with db->err saying to run migrate (or to upgrade). */
int schema_require(struct db *db);

/*
 * Rows that stop migration `version` because no rule can fix them.  Writes a
 * one-line description to msg ("" if none) and returns J_OK or J_DATAERR.
 */
int schema_precheck(struct db *db, int version, char *msg, size_t size);

/* Rows the migration's merge rule would merge away (0 if none or n/a). */
int schema_merge_count(struct db *db, int version, int64_t *count);

/*
 * Apply one migration in its own transaction, all or nothing: precheck,
 * the SQL, its C follow-up, PRAGMA foreign_key_check, the version row.
 * The caller must have turned foreign keys off (outside any transaction).
 */
int schema_apply(struct db *db, int version, char *msg, size_t size);

#endif
