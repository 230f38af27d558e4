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

/*
 * Products whose additional_images the backfill cannot read: anything but
 * NULL, blank text, or a JSON array whose every element is a non-empty string
 * or an object whose "url" and "id" members, where present, are strings, one
 * of them non-empty.  They stop migration 3.  json_valid() comes first, and
 * typeof() keeps BLOBs out: json_type() and json_each() raise an error on
 * malformed JSON, and this check must never fail itself.
 */
#define MALFORMED_IMAGES \
	"SELECT id FROM (SELECT id, additional_images AS raw," \
	"        CASE WHEN typeof(additional_images) = 'text'" \
	"             AND json_valid(additional_images) THEN additional_images END AS j" \
	"        FROM products)" \
	" WHERE raw IS NOT NULL" \
	"   AND NOT (typeof(raw) = 'text' AND trim(raw) = '')" \
	"   AND (j IS NULL OR json_type(j) <> 'array'" \
	"        OR EXISTS (SELECT 1 FROM json_each(j) AS e WHERE NOT (" \
	"            (e.type = 'text' AND trim(e.value) <> '')" \
	"         OR (e.type = 'object'" \
	"             AND coalesce(json_type(e.value, '$.url'), 'text') = 'text'" \
	"             AND coalesce(json_type(e.value, '$.id'), 'text') = 'text'" \
	"             AND (trim(coalesce(json_extract(e.value, '$.url'), '')) <> ''" \
	"                  OR trim(coalesce(json_extract(e.value, '$.id'), '')) <> ''))))) " \
	"ORDER BY id"

/*
 * Migration 3's image backfill (SPEC 2, version 3): one row per image a
 * products row names, with the columns product_id, position (0 the main
 * image, k the k-th element of additional_images), cloudflare_id, url and
 * present.  present is 1 for an image the backfill skips: an images row of
 * that product already has its cloudflare_id (or, for an image without one,
 * its url), or an earlier position of the same product names it again.
 *
 *   main image: cloudflare_id from cloudflare_image_id, else image_id; url
 *     from image_url; an image when either is non-empty.
 *   additional_images: a JSON array; an object gives cloudflare_id from its
 *     "id" and url from its "url"; a string is a url when it starts with
 *     http://, https:// or / (the scheme in any case, as URLs have it), else
 *     a Cloudflare image id.
 *   Values are trimmed of spaces, and an empty one is absent.
 *
 * A product whose additional_images cannot be read (MALFORMED_IMAGES) stops
 * the migration; here it is left out, main image included, so that --dry-run
 * still counts the images of the others.  The present test is one lookup in
 * idx_images_product_id per image (tests/t/images.t checks the plan).
 *
 * Kept once, here: the follow-up of migration 3 inserts the rows with
 * present = 0, and schema_plan() counts both kinds for --dry-run, --status
 * and the summary.
 */
#define IMAGE_CANDIDATES \
	"WITH bad AS (" MALFORMED_IMAGES ")," \
	" elem AS (" \
	"  SELECT p.id AS product_id, e.key + 1 AS position, e.type AS type," \
	"         e.value AS raw, trim(e.value) AS v," \
	"         trim(e.value) LIKE 'http://%' OR trim(e.value) LIKE 'https://%'" \
	"         OR trim(e.value) LIKE '/%' AS is_url" \
	"    FROM products AS p, json_each(CASE WHEN typeof(p.additional_images) = 'text'" \
	"         AND json_valid(p.additional_images)" \
	"         AND json_type(p.additional_images) = 'array'" \
	"         THEN p.additional_images END) AS e" \
	"   WHERE p.id NOT IN (SELECT id FROM bad) AND e.type IN ('text', 'object'))," \
	" cand AS (" \
	"  SELECT id AS product_id, 0 AS position," \
	"         coalesce(nullif(trim(cloudflare_image_id), '')," \
	"                  nullif(trim(image_id), '')) AS cloudflare_id," \
	"         nullif(trim(image_url), '') AS url" \
	"    FROM products WHERE id NOT IN (SELECT id FROM bad)" \
	"  UNION ALL" \
	"  SELECT product_id, position," \
	"         CASE WHEN type = 'object' THEN nullif(trim(json_extract(raw, '$.id')), '')" \
	"              WHEN NOT is_url THEN nullif(v, '') END," \
	"         CASE WHEN type = 'object' THEN nullif(trim(json_extract(raw, '$.url')), '')" \
	"              WHEN is_url THEN v END" \
	"    FROM elem)," \
	" ranked AS (" \
	"  SELECT *, min(position) OVER (PARTITION BY product_id, cloudflare_id) AS first_id," \
	"         min(position) OVER (PARTITION BY product_id, url) AS first_url" \
	"    FROM cand WHERE cloudflare_id IS NOT NULL OR url IS NOT NULL) " \
	"SELECT product_id, position, cloudflare_id, url," \
	"       CASE WHEN cloudflare_id IS NOT NULL THEN first_id < position" \
	"            ELSE first_url < position END" \
	"       OR EXISTS (SELECT 1 FROM images AS i WHERE i.product_id = r.product_id" \
	"          AND CASE WHEN r.cloudflare_id IS NOT NULL" \
	"                   THEN i.cloudflare_id = r.cloudflare_id" \
	"                   ELSE i.url = r.url END) AS present" \
	"  FROM ranked AS r"

/*
 * Views, triggers on other tables and foreign keys that name the legacy
 * analytics table: dropping it would leave them broken (a trigger would then
 * fail the app's writes, a view every later ALTER TABLE).  The V1 and later
 * schemas have none; an app's own could.  The name is matched as a word, so
 * analytics_events and analytics_daily do not count; a string literal
 * 'analytics' does, which errs on the side of stopping.  Indexes and triggers
 * on analytics itself go with it.
 */
#define ANALYTICS_USERS \
	"SELECT type || ' ' || name FROM sqlite_master" \
	" WHERE type IN ('view', 'trigger') AND lower(tbl_name) <> 'analytics'" \
	"   AND ' ' || lower(sql) || ' ' GLOB '*[^a-z0-9_$]analytics[^a-z0-9_$]*' " \
	"UNION ALL " \
	"SELECT 'foreign key of table ' || m.name FROM sqlite_master AS m," \
	"       pragma_foreign_key_list(m.name) AS f" \
	" WHERE m.type = 'table' AND lower(m.name) <> 'analytics'" \
	"   AND lower(f.\"table\") = 'analytics' " \
	"ORDER BY 1"

/* Migration 3: the products that cannot be read, and the analytics table
 * while it holds rows or something still uses it. */
static int
precheck_3(struct db *db, char *msg, size_t size, int *problems)
{
	int64_t rows = 0, legacy = 0;
	size_t len;
	int rc;

	rc = list_ids(db, MALFORMED_IMAGES, "products whose additional_images "
	    "is not a JSON array of image ids, URLs or {url, id} objects: ids ",
	    msg, size, problems);
	/* NOCASE, as SQLite matches table names: the DROP would find an
	 * "Analytics" too. */
	if (rc == J_OK)
		rc = db_query_int64(db, "SELECT count(*) FROM sqlite_master WHERE "
		    "type = 'table' AND name = 'analytics' COLLATE NOCASE",
		    &legacy, NULL);
	if (rc != J_OK || legacy == 0)
		return rc;
	if ((rc = db_query_int64(db, "SELECT count(*) FROM analytics", &rows,
	    NULL)) != J_OK)
		return rc;
	if (rows > 0) {
		len = strlen(msg);
		snprintf(msg + len, size - len, "%sthe legacy analytics table "
		    "still holds %lld row%s: run retire_table --table analytics "
		    "first (it archives them)", len ? "; " : "", (long long)rows,
		    rows == 1 ? "" : "s");
		(*problems)++;
	}
	rc = list_ids(db, ANALYTICS_USERS, "these use the legacy analytics "
	    "table, which migration 3 drops (drop or change them first): ",
	    msg, size, problems);
	return rc;
}

int
schema_precheck(struct db *db, int version, char *msg, size_t size)
{
	int rc = J_OK, problems = 0;

	msg[0] = '\0';
	if (version == 2) {
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
	} else if (version == 3) {
		rc = precheck_3(db, msg, size, &problems);
	} else {
		return J_OK;
	}
	if (rc != J_OK)
		return rc;
	/* Rows whose parent is already missing would stop the check before
	 * COMMIT: name them now, before anything changes. */
	rc = check_foreign_keys(db, msg + strlen(msg), size - strlen(msg));
	if (rc != J_OK && rc != J_DATAERR)
		return rc;
	return problems || rc == J_DATAERR ? J_DATAERR : J_OK;
}

/* What a plan counts: for 2 the reservations merged away; for 3 the images
 * made and the references skipped. */
struct plan {
	int64_t n, skipped;
};

static int
plan_count(struct db *db, int version, struct plan *p)
{
	sqlite3_stmt *st;
	bool row = false;
	int rc;

	p->n = p->skipped = 0;
	if (version == 2)
		/* The two passes of the rule in sql/002: a row goes if a newer
		 * row has its (product, user) or, among survivors, its
		 * (product, session). */
		return db_query_int64(db,
		    "WITH pass1 AS (SELECT * FROM product_reservations AS r WHERE "
		    "  r.user_id IS NULL OR NOT EXISTS (SELECT 1 FROM product_reservations n"
		    "  WHERE n.product_id = r.product_id AND n.user_id = r.user_id"
		    "  AND n.id > r.id)) "
		    "SELECT (SELECT count(*) FROM product_reservations) - count(*) FROM pass1 "
		    "AS r WHERE r.session_id IS NULL OR NOT EXISTS (SELECT 1 FROM pass1 n "
		    "WHERE n.product_id = r.product_id AND n.session_id = r.session_id "
		    "AND n.id > r.id)", &p->n, NULL);
	if (version != 3)
		return J_OK;
	rc = db_prepare(db, &st, "SELECT count(*) - total(present), total(present) "
	    "FROM (" IMAGE_CANDIDATES ")");
	if (rc == J_OK)
		rc = db_step(db, st, &row);
	if (rc == J_OK && row) {
		p->n = sqlite3_column_int64(st, 0);
		p->skipped = sqlite3_column_int64(st, 1);
	}
	db_finalize(&st);
	return rc;
}

/* The plan as one line, "would ..." before the migration, what it did after;
 * "" when there is nothing to say. */
static void
plan_line(int version, const struct plan *p, bool done, char *msg, size_t size)
{
	msg[0] = '\0';
	if (version == 2 && p->n > 0)
		snprintf(msg, size, done ? "merged %lld duplicate cart reservation%s "
		    "(kept the newest of each group)" : "would merge %lld duplicate "
		    "cart reservation%s (the newest of each group is kept)",
		    (long long)p->n, p->n == 1 ? "" : "s");
	else if (version == 3)
		snprintf(msg, size, "%s %lld image%s from the products' image "
		    "columns (%lld reference%s already in images or named twice)",
		    done ? "made" : "would make", (long long)p->n,
		    p->n == 1 ? "" : "s", (long long)p->skipped,
		    p->skipped == 1 ? "" : "s");
}

int
schema_plan(struct db *db, int version, char *msg, size_t size)
{
	struct plan p;
	int rc = plan_count(db, version, &p);

	msg[0] = '\0';
	if (rc == J_OK)
		plan_line(version, &p, false, msg, size);
	return rc;
}

/* C follow-up of a migration, inside its transaction; p gets what it did. */
static int
follow_up(struct db *db, int version, struct plan *p)
{
	int rc;

	if (version == 2)
		/* Seed the rollup state with every day that has events, read by
		 * the jobs' own parser (ts_day), so catch-up starts from the
		 * first one. */
		return db_exec(db, "INSERT OR IGNORE INTO rollup_days (day) "
		    "SELECT DISTINCT ts_day(created_at) FROM analytics_events "
		    "WHERE ts_day(created_at) IS NOT NULL");
	if (version != 3)
		return J_OK;
	/* The image backfill.  p holds the plan counted in this transaction
	 * before the migration's SQL; the counts reported are the INSERT's. */
	rc = db_exec(db, "INSERT INTO images (product_id, cloudflare_id, url) "
	    "SELECT product_id, cloudflare_id, url FROM (" IMAGE_CANDIDATES ") "
	    "WHERE NOT present ORDER BY product_id, position");
	if (rc == J_OK) {
		int64_t made = sqlite3_changes64(db->h);

		p->skipped += p->n - made;
		p->n = made;
	}
	return rc;
}

int
schema_apply(struct db *db, int version, char *msg, size_t size)
{
	const struct sql_migration *m = schema_migration(version);
	sqlite3_stmt *st = NULL;
	struct plan p = { 0, 0 };
	int64_t cache = 0;	/* the page cache to restore (PRAGMA units) */
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
	/* Migration 3's query sorts every image the products name three times
	 * (two windows, the insert's order), and SQLite lets each sort use as
	 * much memory as the page cache.  With db_open()'s 16 MB, 100 000
	 * products took migrate to 56 MB, past SPEC 7's 32 MB; with SQLite's
	 * default 2 MB the sorts spill to temporary files sooner (measured:
	 * 22 MB, 7% slower; 21 MB at 400 000 products). */
	if (rc == J_OK && version == 3 && (rc = db_query_int64(db,
	    "PRAGMA cache_size", &cache, NULL)) == J_OK)
		rc = db_exec(db, "PRAGMA cache_size = -2048");	/* KiB */
	/* Counted before the SQL changes anything: migration 2's merge is
	 * in its SQL, so this is its count; 3's follow-up refines it. */
	if (rc == J_OK)
		rc = plan_count(db, version, &p);
	if (rc == J_OK)
		rc = db_exec(db, m->sql);
	if (rc == J_OK)
		rc = follow_up(db, version, &p);
	if (rc == J_OK && cache != 0) {
		char pragma[64];

		snprintf(pragma, sizeof(pragma), "PRAGMA cache_size = %lld",
		    (long long)cache);
		rc = db_exec(db, pragma);
	}
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
	if (rc == J_OK) {
		if ((rc = db_commit(db)) == J_OK)
			plan_line(version, &p, true, msg, size);
		return rc;
	}
	db_rollback(db);
	return rc;
}
