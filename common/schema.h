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

/* The jobs need migration 2's tables; they run on 2 and on every later
 * version (3 only adds images rows and drops the legacy analytics table). */
#define SCHEMA_REQUIRED 2

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
 * What stops migration `version` on this database: rows no rule can fix
 * (2: images with both or neither owner, unknown seller_response, a rebuilt
 * table with extra columns; 3: products whose additional_images cannot be
 * read, the legacy analytics table while it holds rows or a view, trigger or
 * foreign key uses it; both: foreign keys pointing nowhere).  Writes one line
 * naming them (ids, at most 20 per kind, then "and N more") to msg, "" if
 * none, and returns J_OK or J_DATAERR; other codes are SQLite failures, with
 * db->err set.  Only reads: fine on a DB_READ connection.
 */
int schema_precheck(struct db *db, int version, char *msg, size_t size);

/*
 * What migration `version` would do to the rows now in the database, as one
 * line for --dry-run and --status: 2 "would merge N duplicate cart
 * reservations ...", 3 "would make N images from the products' image columns
 * (M references already in images or named twice)"; "" when there is
 * nothing to say.  Only reads.  For a migration behind another pending one
 * it counts today's rows; no pending migration changes what a later one
 * counts.
 */
int schema_plan(struct db *db, int version, char *msg, size_t size);

/*
 * Apply one migration in its own transaction, all or nothing: precheck,
 * the SQL, its C follow-up, PRAGMA foreign_key_check, the version row.
 * The caller must have turned foreign keys off (outside any transaction).
 * On J_OK msg holds what it did, as schema_plan() words it but in the past
 * tense and with the counts of the rows actually changed ("" if nothing to
 * say); on J_DATAERR what stopped it; otherwise db->err says why.
 */
int schema_apply(struct db *db, int version, char *msg, size_t size);

#endif
