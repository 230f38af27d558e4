/*
 * Schema versions and the migration runner.  Each migration is one
 * transaction: its prechecks (rows no rule can fix stop it, ids listed), its
 * SQL, a C follow-up where SQL alone cannot do it, PRAGMA foreign_key_check,
 * and the schema_migrations row; any failure rolls all of it back.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "schema.h"
#include "status.h"

#define LIST_MAX 20	/* ids named in one error line */

int
schema_latest(void)
{
	return sql_migrations[sql_migration_count - 1].version;
}

const struct sql_migration *
schema_migration(int version)
{
	int i;

	for (i = 0; i < sql_migration_count; i++)
		if (sql_migrations[i].version == version)
			return &sql_migrations[i];
	return NULL;
}

int
schema_version(struct db *db, int *version)
{
	bool tracked, v1_users, v1_events;
	int64_t n = 0, tables = 0;
	int rc;

	if ((rc = db_table_exists(db, "schema_migrations", &tracked)) != J_OK)
		return rc;
	if (tracked) {
		rc = db_query_int64(db, "SELECT coalesce(max(version), 0) "
		    "FROM schema_migrations", &n, NULL);
		*version = (int)n;
		return rc;
	}
	if ((rc = db_table_exists(db, "users", &v1_users)) != J_OK ||
	    (rc = db_table_exists(db, "analytics_events", &v1_events)) != J_OK)
		return rc;
	if (v1_users && v1_events) {
		*version = 1;
		return J_OK;
	}
	rc = db_query_int64(db, "SELECT count(*) FROM sqlite_master "
	    "WHERE name NOT LIKE 'sqlite_%'", &tables, NULL);
	if (rc != J_OK)
		return rc;
	if (tables != 0) {
		snprintf(db->err, sizeof(db->err), "database '%s' holds tables "
		    "but not the shop's schema; refusing to touch it", db->path);
		return J_CONFIG;
	}
	*version = 0;
	return J_OK;
}

int
schema_require(struct db *db)
{
	int v = 0, rc = schema_version(db, &v);

	if (rc != J_OK)
		return rc;
	if (v < SCHEMA_REQUIRED) {
		snprintf(db->err, sizeof(db->err), "database '%s' is at schema "
		    "version %d, this job needs %d: run migrate --db '%s'",
		    db->path, v, SCHEMA_REQUIRED, db->path);
		return J_CONFIG;
	}
	if (v > schema_latest()) {
		snprintf(db->err, sizeof(db->err), "database '%s' is at schema "
		    "version %d, newer than this program knows (%d): install "
		    "a newer version of the jobs", db->path, v, schema_latest());
		return J_CONFIG;
	}
	return J_OK;
}

/* Append "label ids a, b, c (and N more)" for the ids the query returns. */
static int
list_ids(struct db *db, const char *sql, const char *label, char *msg,
    size_t size, int *problems)
{
	sqlite3_stmt *st;
	size_t len = strlen(msg);
	int rc, n = 0;
	bool row;

	if ((rc = db_prepare(db, &st, sql)) != J_OK)
		return rc;
	while ((rc = db_step(db, st, &row)) == J_OK && row) {
		if (n < LIST_MAX)
			len += (size_t)snprintf(msg + len, size > len ? size - len : 0,
			    "%s%s", n == 0 ? (len ? "; " : "") : ", ",
			    n == 0 ? label : "");
		if (n < LIST_MAX && len < size)
			len += (size_t)snprintf(msg + len, size - len, "%s",
			    (const char *)sqlite3_column_text(st, 0));
		n++;
	}
	if (n > LIST_MAX && len < size)
		snprintf(msg + len, size - len, " (and %d more)", n - LIST_MAX);
	db_finalize(&st);
	*problems += n;
	return rc;
}

static int
check_foreign_keys(struct db *db, char *msg, size_t size)
{
	int problems = 0;
	int rc = list_ids(db, "SELECT \"table\" || ' row ' || rowid || ' -> ' || "
	    "parent FROM pragma_foreign_key_check ORDER BY 1",
	    "rows whose foreign key points nowhere: ", msg, size, &problems);

	if (rc != J_OK)
		return rc;
	return problems ? J_DATAERR : J_OK;
}

/*
 * The tables migration 2 rebuilds, with the columns the rebuild copies.  A
 * column added to the live table since (an app's ALTER TABLE) would be lost by
 * the copy, so it stops the migration instead, named.
 */
static const struct rebuilt {
	const char *table, *columns;
} rebuilt[] = {
	{ "product_reservations", "id,product_id,user_id,session_id,quantity,"
	    "expires_at,created_at" },
	{ "sell_submissions", "id,batch_id,user_id,name,email,phone,address,city,"
	    "eircode,notes,status,seller_price,offered_price,final_price,"
	    "offer_message,offer_sent_at,seller_response,seller_response_at,"
	    "counter_price,counter_message,admin_notes,created_at,updated_at" },
	{ "images", "id,cloudflare_id,url,variants,product_id,submission_id,created_at" },
};

static int
check_columns(struct db *db, char *msg, size_t size, int *problems)
{
	sqlite3_stmt *st;
	size_t i, len;
	bool row;
	int rc;

	rc = db_prepare(db, &st, "SELECT group_concat(name, ',') FROM "
	    "(SELECT name FROM pragma_table_info(:t) ORDER BY cid)");
	for (i = 0; rc == J_OK && i < sizeof(rebuilt) / sizeof(rebuilt[0]); i++) {
		const char *cols;

		rc = db_bind_text(db, st, ":t", rebuilt[i].table);
		if (rc == J_OK)
			rc = db_step(db, st, &row);
		cols = rc == J_OK && row ? (const char *)sqlite3_column_text(st, 0) : NULL;
		if (cols != NULL && strcmp(cols, rebuilt[i].columns) != 0) {
			len = strlen(msg);
			snprintf(msg + len, size - len, "%stable %s has columns (%s), "
			    "the rebuild expects (%s): a copy would lose data",
			    len ? "; " : "", rebuilt[i].table, cols, rebuilt[i].columns);
			(*problems)++;
		}
		sqlite3_reset(st);
	}
	db_finalize(&st);
	return rc;
}

int
schema_precheck(struct db *db, int version, char *msg, size_t size)
{
	int rc = J_OK, problems = 0;

	msg[0] = '\0';
	if (version != 2)
		return J_OK;
	if ((rc = check_columns(db, msg, size, &problems)) != J_OK)
		return rc;
	rc = list_ids(db, "SELECT id FROM images WHERE (product_id IS NULL) = "
	    "(submission_id IS NULL) ORDER BY id",
	    "images with both or neither of product_id/submission_id: ids ",
	    msg, size, &problems);
	if (rc == J_OK)
		rc = list_ids(db, "SELECT id FROM sell_submissions WHERE "
		    "seller_response NOT IN ('accept', 'reject', 'counter') ORDER BY id",
		    "sell_submissions with an unknown seller_response: ids ",
		    msg, size, &problems);
	if (rc != J_OK)
		return rc;
	/* Rows whose parent is already missing would stop the rebuild's
	 * foreign_key_check: name them now, before anything changes. */
	rc = check_foreign_keys(db, msg + strlen(msg), size - strlen(msg));
	if (rc != J_OK && rc != J_DATAERR)
		return rc;
	return problems || rc == J_DATAERR ? J_DATAERR : J_OK;
}

int
schema_merge_count(struct db *db, int version, int64_t *count)
{
	*count = 0;
	if (version != 2)
		return J_OK;
	/* The two passes of the rule in sql/002: a row goes if a newer row has
	 * its (product, user) or, among survivors, its (product, session). */
	return db_query_int64(db,
	    "WITH pass1 AS (SELECT * FROM product_reservations AS r WHERE "
	    "  r.user_id IS NULL OR NOT EXISTS (SELECT 1 FROM product_reservations n"
	    "  WHERE n.product_id = r.product_id AND n.user_id = r.user_id"
	    "  AND n.id > r.id)) "
	    "SELECT (SELECT count(*) FROM product_reservations) - count(*) FROM pass1 "
	    "AS r WHERE r.session_id IS NULL OR NOT EXISTS (SELECT 1 FROM pass1 n "
	    "WHERE n.product_id = r.product_id AND n.session_id = r.session_id "
	    "AND n.id > r.id)", count, NULL);
}

/* C follow-up of a migration, inside its transaction. */
static int
follow_up(struct db *db, int version)
{
	if (version != 2)
		return J_OK;
	/* Seed the rollup state with every day that has events, read by the
	 * jobs' own parser (ts_day), so catch-up starts from the first one. */
	return db_exec(db, "INSERT OR IGNORE INTO rollup_days (day) "
	    "SELECT DISTINCT ts_day(created_at) FROM analytics_events "
	    "WHERE ts_day(created_at) IS NOT NULL");
}

int
schema_apply(struct db *db, int version, char *msg, size_t size)
{
	const struct sql_migration *m = schema_migration(version);
	sqlite3_stmt *st = NULL;
	int rc;

	msg[0] = '\0';
	if (m == NULL)
		return J_SOFTWARE;
	if ((rc = db_begin(db)) != J_OK)
		return rc;
	rc = schema_precheck(db, version, msg, size);
	if (rc == J_OK && version >= 2)
		rc = db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
		    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
		    "applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)");
	if (rc == J_OK)
		rc = db_exec(db, m->sql);
	if (rc == J_OK)
		rc = follow_up(db, version);
	if (rc == J_OK)
		rc = check_foreign_keys(db, msg, size);
	if (rc == J_OK && version >= 2) {
		rc = db_prepare(db, &st, "INSERT INTO schema_migrations (version, "
		    "name) VALUES (:v, :name)");
		if (rc == J_OK)
			rc = db_bind_int64(db, st, ":v", version);
		if (rc == J_OK)
			rc = db_bind_text(db, st, ":name", m->name);
		if (rc == J_OK)
			rc = db_run(db, st);
		db_finalize(&st);
	}
	if (rc == J_OK)
		return db_commit(db);
	db_rollback(db);
	return rc;
}
