#!/bin/bash
# migrate on real SQLite files (SPEC sections 2 and 4): a new database, the V1
# baseline and its upgrade (merge of duplicate reservations, stock ledger,
# constraints, indexes), migration 3's drop of the legacy analytics table (its
# image backfill is tests/t/images.t), refusals that must change nothing, the
# rollup trigger against the jobs' own timestamp parser, and the one-instance
# lock.
. "$(dirname "$0")/../lib/tap.sh"

unset JOBS_DB

# v1_db PATH: a pure V1 database, as the app left it before this project.
v1_db() {
	"$JOBS_BIN/migrate" --db "$1" --to 1 -q || { echo "Bail out! migrate --to 1 failed"; exit 1; }
}

# sql_err DB SQL: sqlite3's error message for SQL, empty if it succeeded.
sql_err() {
	sqlite3 -batch -bail "$1" "$2" 2>&1 >/dev/null
}

# schema DB: digest of every schema object, to prove a refusal changed nothing.
schema() {
	q "$1" "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name" | md5sum | cut -d' ' -f1
}

# rows DB TABLE: digest of a table's rows.
rows() {
	q "$1" "SELECT * FROM $2 ORDER BY 1" | md5sum | cut -d' ' -f1
}

file_md5() {
	md5sum <"$1" | cut -d' ' -f1
}

has_table() {
	q "$1" "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '$2'"
}

# retire DB: empty the legacy analytics table, as `retire_table --table
# analytics` does once it has archived the rows (here without the archive).
retire() {
	q "$1" "DELETE FROM analytics"
}

ANALYTICS_STOP="the legacy analytics table still holds 1 row: run retire_table --table analytics first (it archives them)"

# fixture PATH: a V1 database with every kind of row the upgrade must keep, and
# duplicate cart reservations: (product, user) groups {1,3}, {2,10}, {12,13} and
# the guest (product, session) group {4,6,11}; the newest of each is kept, so
# 1, 2, 4, 6 and 12 are merged away (5 rows).
fixture() {
	v1_db "$1"
	q "$1" "
	INSERT INTO users (email, name) VALUES
	    ('ann@example.com', 'Ann'), ('bob@example.com', 'Bob'), ('cy@example.com', 'Cy');
	INSERT INTO products (sku, name, price, stock_quantity) VALUES
	    ('SKU-1', 'Coat', 49.5, 5), ('SKU-2', 'Scarf', 9.99, 0), ('SKU-3', 'Boots', 80, 12);
	INSERT INTO product_reservations (product_id, user_id, session_id, quantity, expires_at) VALUES
	    (1, 1, NULL, 1, '2025-10-05 10:00:00'),
	    (1, 2, NULL, 1, '2025-10-05 10:00:00'),
	    (1, 1, NULL, 2, '2025-10-05 11:00:00'),
	    (2, NULL, 'g1', 1, '2025-10-05 10:00:00'),
	    (2, NULL, 'g2', 1, '2025-10-05 10:00:00'),
	    (2, NULL, 'g1', 1, '2025-10-05 10:30:00'),
	    (3, 1, NULL, 1, '2025-10-05T10:00:00Z'),
	    (3, NULL, 'g1', 1, 1759658400),
	    (1, NULL, 'g1', 1, 1759658400000),
	    (1, 2, NULL, 4, '2025-10-05 12:00:00'),
	    (2, NULL, 'g1', 3, '2025-10-05 12:00:00'),
	    (3, 2, 's9', 1, '2025-10-05 10:00:00'),
	    (3, 2, 's8', 1, '2025-10-05 13:00:00');
	INSERT INTO orders (order_number, user_id) VALUES ('A-1', 1);
	INSERT INTO order_items (order_id, product_id, quantity, price, product_name)
	    VALUES (1, 3, 1, 80, 'Boots');
	INSERT INTO sell_submissions (batch_id, user_id, seller_response) VALUES
	    ('B-1', 2, 'accept'), ('B-2', NULL, NULL), ('B-3', 3, 'counter');
	INSERT INTO sell_items (submission_id, description) VALUES (1, 'jacket');
	INSERT INTO images (product_id, submission_id, url) VALUES
	    (1, NULL, 'p1.jpg'), (NULL, 2, 's2.jpg');
	INSERT INTO analytics (page, views, date) VALUES ('/', 10, '2025-10-01');
	INSERT INTO analytics_events (event_type, user_id, session_id, product_id, metadata, created_at) VALUES
	    ('page_view', 1, 's1', 1, '{\"p\":1}', '2025-10-01 08:00:00'),
	    ('page_view', NULL, 's2', NULL, NULL, '2025-10-02T08:00:00.500Z'),
	    ('add_to_cart', 2, 's3', 2, 'not json', '2025-10-03T23:30:00-02:00'),
	    ('page_view', NULL, NULL, NULL, NULL, 1759622400),
	    ('purchase', 3, 's4', 3, '{}', 1759708800000),
	    ('page_view', NULL, NULL, NULL, NULL, 'garbage'),
	    ('page_view', NULL, NULL, NULL, NULL, NULL);
	INSERT INTO system_logs (level, source, message, context, created_at) VALUES
	    ('info', 'api', 'started', NULL, '2025-10-01 00:00:00'),
	    ('error', 'api', 'boom', '{\"code\":500}', '2025-10-02T03:00:00Z'),
	    ('warn', 'cron', 'slow', NULL, 1759622400),
	    ('debug', 'x', 'y', NULL, NULL);
	" || { echo "Bail out! fixture failed"; exit 1; }
}

KEPT_TABLES="users products orders order_items sell_submissions sell_items images analytics analytics_events system_logs"

############################################################################
# 1. A new database.
run migrate --db new.db
is "$RC" 0 "new: exit 0"
is "$ERR" "" "new: nothing on stderr"
is "$(q new.db 'SELECT max(version) FROM schema_migrations')" 3 "new: max(version) is 3"
is "$(q new.db 'SELECT version, name FROM schema_migrations ORDER BY version')" \
    "$(printf '2|2025-10-05-scale-readiness-fixes\n3|retire-legacy-analytics-and-image-columns')" \
    "new: schema_migrations holds exactly versions 2 and 3"
is "$(q new.db 'PRAGMA journal_mode')" wal "new: journal_mode is wal"
is "$(q new.db 'PRAGMA integrity_check')" ok "new: integrity_check ok"
is "$(q new.db 'PRAGMA foreign_key_check')" "" "new: foreign_key_check empty"
is "$(q new.db "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN
    ('stock_moves', 'analytics_daily', 'job_runs', 'rollup_days', 'jobs_meta',
     'archive_manifest')")" 6 "new: the version 2 tables exist"
is "$(has_table new.db analytics)" 0 "new: the legacy analytics table is gone (version 3)"
like "$(q new.db "SELECT value FROM jobs_meta WHERE key = 'database_id'")" '^[0-9a-f]{12}$' \
    "new: jobs_meta has a 12-hex-digit database_id"
is "$(q new.db "SELECT job, status, exit_code, window_start, window_end, message FROM job_runs")" \
    "migrate|ok|0|0|3|version 0 -> 3" "new: the run is recorded in job_runs"
fp=$(fingerprint new.db)
sch=$(schema new.db)
run migrate --db new.db
is "$RC" 0 "new rerun: exit 0"
like "$OUT" "nothing to do" "new rerun: says nothing to do"
is "$(fingerprint new.db)" "$fp" "new rerun: rows unchanged"
is "$(schema new.db)" "$sch" "new rerun: schema unchanged"
run migrate --db new.db --status
is "$RC" 0 "new --status: exit 0"
is "$(printf '%s\n' "$OUT" | head -n 1)" "migrate: 'new.db': schema version 3 (current)" "new --status: version 3"
like "$OUT" "nothing pending" "new --status: nothing pending"

############################################################################
# 2. --to 1, then the upgrade of a V1 database holding data.
run migrate --db v1.db --to 1
is "$RC" 0 "--to 1: exit 0"
is "$(q v1.db "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master
    WHERE type = 'table' ORDER BY name)")" \
    "analytics analytics_events images order_items orders password_resets product_reservations products sell_items sell_submissions sessions system_logs users" \
    "--to 1: exactly the 13 V1 tables (no schema_migrations, stock_moves, analytics_daily, job_runs)"
is "$(q v1.db "SELECT count(*) FROM sqlite_master WHERE name IN ('idx_analytics_events_created_at',
    'idx_system_logs_created_at', 'idx_password_resets_user_id')")" 0 "--to 1: none of the audit's missing indexes"
run migrate --db v1.db --status
is "$RC" 0 "V1 --status: exit 0"
like "$OUT" "schema version 1 \(baseline\)" "V1 --status: prints version 1"
is "$OUT" "migrate: 'v1.db': schema version 1 (baseline)
migrate: pending: 2 2025-10-05-scale-readiness-fixes
migrate: pending: 3 retire-legacy-analytics-and-image-columns
migrate: migration 3 would make 0 images from the products' image columns (0 references already in images or named twice)" \
    "V1 --status: migrations 2 and 3 pending, with their plans"
is "$(has_table v1.db schema_migrations)" 0 "V1 --status: created no schema_migrations"

fixture up.db
for t in $KEPT_TABLES; do
	eval "before_$t=\$(rows up.db $t)"
done
kept_res=$(q up.db "SELECT * FROM product_reservations WHERE id NOT IN (1, 2, 4, 6, 12) ORDER BY id")
run migrate --db up.db --status
is "$RC" 0 "upgrade --status: exit 0 although migration 3 would stop"
like "$OUT" "migration 2 would merge 5 duplicate cart reservations \(the newest of each group is kept\)" \
    "upgrade --status: migration 2's plan"
is "$ERR" "migrate: warning: migration 3 would stop: $ANALYTICS_STOP" "upgrade --status: migration 3's stop, as a warning"
# The legacy analytics table still holds a row: version 2 first, then the
# operator retires it, then version 3.
run migrate --db up.db --to 2
is "$RC" 0 "upgrade: exit 0"
is "$OUT" "migrate: 'up.db': migrated to version 2 (2025-10-05-scale-readiness-fixes)
migrate: merged 5 duplicate cart reservations (kept the newest of each group)" "upgrade: reports 5 merged reservations"
is "$(q up.db 'SELECT max(version) FROM schema_migrations')" 2 "upgrade: version 2"
is "$(q up.db "SELECT group_concat(id, ' ') FROM (SELECT id FROM product_reservations ORDER BY id)")" \
    "3 5 7 8 9 10 11 13" "upgrade: survivors are the newest of each duplicate group and the unique rows"
is "$(q up.db 'SELECT * FROM product_reservations ORDER BY id')" "$kept_res" \
    "upgrade: surviving reservations unchanged in every column"
for t in $KEPT_TABLES; do
	eval "b=\$before_$t"
	is "$(rows up.db $t)" "$b" "upgrade: every row of $t kept unchanged"
done
is "$(q up.db "SELECT typeof(created_at) || ':' || created_at FROM system_logs WHERE id = 3")" \
    "text:1759622400" "upgrade: system_logs digit text stays text"
is "$(q up.db 'PRAGMA integrity_check')" ok "upgrade: integrity_check ok"
is "$(q up.db 'PRAGMA foreign_key_check')" "" "upgrade: foreign_key_check empty"
is "$(q up.db 'SELECT product_id, qty_change, reason, order_id, reservation_id FROM stock_moves ORDER BY id')" \
    "$(printf '1|5|initial||\n2|0|initial||\n3|12|initial||')" "upgrade: one initial move per product, equal to its stock"
is "$(q up.db 'SELECT count(*) FROM products AS p WHERE p.stock_quantity IS NOT
    (SELECT sum(qty_change) FROM stock_moves AS m WHERE m.product_id = p.id)')" 0 \
    "upgrade: stock_quantity = SUM(qty_change) for every product"
is "$(q up.db "SELECT group_concat(day || ':' || dirty, ' ') FROM (SELECT * FROM rollup_days ORDER BY day)")" \
    "2025-10-01:1 2025-10-02:1 2025-10-04:1 2025-10-05:1 2025-10-06:1" \
    "upgrade: rollup_days seeded with every readable event day, dirty"
is "$(q up.db "SELECT job, status, exit_code, rows, window_start, window_end, message FROM job_runs")" \
    "migrate|ok|0|0|1|2|version 1 -> 2" "upgrade: the run is recorded in job_runs"
is "$(has_table up.db analytics)" 1 "upgrade --to 2: the legacy analytics table stays"
is "$(q up.db "SELECT seq FROM sqlite_sequence WHERE name = 'product_reservations'")" 13 \
    "upgrade: sqlite_sequence has product_reservations at the max id (AUTOINCREMENT)"
q up.db "DELETE FROM product_reservations WHERE id = 13;
    INSERT INTO product_reservations (product_id, user_id, quantity, expires_at)
    VALUES (3, 3, 1, '2025-10-06 10:00:00')"
is "$(q up.db 'SELECT max(id) FROM product_reservations')" 14 "upgrade: a new reservation after deleting the max row gets id 14, not 13"
retire up.db
run migrate --db up.db
is "$RC|$ERR" "0|" "upgrade to 3 once analytics is empty: exit 0"
is "$OUT" "migrate: 'up.db': migrated to version 3 (retire-legacy-analytics-and-image-columns)
migrate: made 0 images from the products' image columns (0 references already in images or named twice)" \
    "upgrade to 3: says what it did"
is "$(has_table up.db analytics)" 0 "upgrade to 3: the empty analytics table is dropped"
for t in ${KEPT_TABLES/ analytics / }; do
	eval "b=\$before_$t"
	is "$(rows up.db $t)" "$b" "upgrade to 3: every row of $t kept unchanged"
done
is "$(q up.db "SELECT window_start, window_end, status, message FROM job_runs ORDER BY id")" \
    "$(printf '1|2|ok|version 1 -> 2\n2|3|ok|version 2 -> 3')" "upgrade to 3: each run recorded in job_runs"
is "$(schema up.db)" "$sch" "upgrade: schema identical to a new database's"

############################################################################
# 3. The reservation UNIQUE constraints (on the upgraded database).
n=$(q up.db 'SELECT count(*) FROM product_reservations')
like "$(sql_err up.db "INSERT INTO product_reservations (product_id, user_id, quantity, expires_at)
    VALUES (1, 1, 1, '2025-10-07 10:00:00')")" \
    "UNIQUE constraint failed: product_reservations.product_id, product_reservations.user_id" \
    "unique: a second (product, user) reservation fails"
is "$(sql_err up.db "INSERT INTO product_reservations (product_id, user_id, session_id, quantity, expires_at)
    VALUES (2, NULL, 'g7', 1, '2025-10-07 10:00:00'), (2, NULL, 'g8', 1, '2025-10-07 10:00:00')")" "" \
    "unique: two guest rows, same product, different sessions succeed"
like "$(sql_err up.db "INSERT INTO product_reservations (product_id, user_id, session_id, quantity, expires_at)
    VALUES (2, NULL, 'g7', 1, '2025-10-07 11:00:00')")" \
    "UNIQUE constraint failed: product_reservations.product_id, product_reservations.session_id" \
    "unique: a second (product, session) guest reservation fails"
is "$(q up.db 'SELECT count(*) FROM product_reservations')" $((n + 2)) "unique: exactly the two guest rows were added"

############################################################################
# 4. Rows no rule can fix: exit 65, ids named, nothing changed.
fixture bad.db
q bad.db "INSERT INTO sell_submissions (batch_id, seller_response) VALUES ('B-4', 'maybe');
    INSERT INTO images (product_id, submission_id, url) VALUES (1, 2, 'both.jpg'), (NULL, NULL, 'none.jpg')"
fp=$(fingerprint bad.db); sch=$(schema bad.db); md5=$(file_md5 bad.db)
run migrate --db bad.db
is "$RC" 65 "unfixable: exit 65"
is "$ERR" "migrate: 'bad.db': migration 2 stopped, nothing changed: images with both or neither of product_id/submission_id: ids 3, 4; sell_submissions with an unknown seller_response: ids 4" \
    "unfixable: one stderr line naming the image ids and the submission id"
is "$(fingerprint bad.db)" "$fp" "unfixable: rows unchanged (duplicates not merged)"
is "$(schema bad.db)" "$sch" "unfixable: schema unchanged"
is "$(file_md5 bad.db)" "$md5" "unfixable: database file unchanged"
is "$(has_table bad.db schema_migrations)" 0 "unfixable: still version 1 (no schema_migrations)"
run migrate --db bad.db --dry-run
is "$RC" 65 "unfixable --dry-run: exit 65"
is "$ERR" "migrate: migration 2 would stop: images with both or neither of product_id/submission_id: ids 3, 4; sell_submissions with an unknown seller_response: ids 4
migrate: migration 3 would stop: $ANALYTICS_STOP" \
    "unfixable --dry-run: names the same ids, and what would stop migration 3"
is "$(fingerprint bad.db)" "$fp" "unfixable --dry-run: rows unchanged"
is "$(schema bad.db)" "$sch" "unfixable --dry-run: schema unchanged"

# A foreign key pointing nowhere is found by the check before COMMIT: the whole
# migration, merge included, is rolled back.
fixture fk.db
q fk.db "INSERT INTO order_items (order_id, product_id, quantity) VALUES (1, 99, 1)"
fp=$(fingerprint fk.db); sch=$(schema fk.db)
run migrate --db fk.db
is "$RC" 65 "dangling foreign key: exit 65"
like "$ERR" "order_items row 2 -> products" "dangling foreign key: names the row"
is "$(fingerprint fk.db)" "$fp" "dangling foreign key: rows unchanged (merge rolled back)"
is "$(schema fk.db)" "$sch" "dangling foreign key: schema unchanged"
run migrate --db fk.db --dry-run
is "$RC" 65 "dangling foreign key --dry-run: exit 65, as the real run"

############################################################################
# 5. The CHECK constraints and analytics_daily's key (on the upgraded database).
like "$(sql_err up.db "INSERT INTO images (url) VALUES ('orphan.jpg')")" "CHECK constraint failed" \
    "check: an image with neither owner fails"
like "$(sql_err up.db "INSERT INTO images (product_id, submission_id, url) VALUES (1, 1, 'both.jpg')")" \
    "CHECK constraint failed" "check: an image with both owners fails"
is "$(sql_err up.db "INSERT INTO images (submission_id, url) VALUES (3, 's3.jpg')")" "" \
    "check: an image with one owner succeeds"
like "$(sql_err up.db "INSERT INTO sell_submissions (batch_id, seller_response) VALUES ('B-9', 'maybe')")" \
    "CHECK constraint failed" "check: seller_response 'maybe' fails"
is "$(sql_err up.db "INSERT INTO sell_submissions (batch_id, seller_response) VALUES ('B-10', 'reject')")" "" \
    "check: seller_response 'reject' succeeds"
is "$(q up.db "SELECT count(*) FROM images WHERE url IN ('orphan.jpg', 'both.jpg')") $(q up.db \
    "SELECT count(*) FROM sell_submissions WHERE batch_id = 'B-9'")" "0 0" "check: refused rows are absent"
is "$(sql_err up.db "INSERT INTO analytics_daily (date, event_type, count) VALUES
    ('2025-10-05', 'page_view', 3), ('2025-10-05', 'add_to_cart', 1)")" "" \
    "analytics_daily: two event types on the same date"
like "$(sql_err up.db "INSERT INTO analytics_daily (date, event_type, count) VALUES ('2025-10-05', 'page_view', 1)")" \
    "UNIQUE constraint failed: analytics_daily.date, analytics_daily.event_type" \
    "analytics_daily: the same (date, event_type) twice fails"
is "$(q up.db "SELECT date, event_type, count FROM analytics_daily ORDER BY event_type")" \
    "$(printf '2025-10-05|add_to_cart|1\n2025-10-05|page_view|3')" "analytics_daily: exactly the two rows"
like "$(sql_err up.db "INSERT INTO stock_moves (product_id, reservation_id, qty_change, reason) VALUES
    (1, 3, 2, 'reservation_expired'), (1, 3, 2, 'reservation_expired')")" "UNIQUE constraint failed" \
    "stock_moves: a reservation is given back at most once"

############################################################################
# 6. --dry-run changes nothing.
fixture dry.db
fp=$(fingerprint dry.db); sch=$(schema dry.db); md5=$(file_md5 dry.db)
run migrate --db dry.db --dry-run
is "$RC" 65 "dry-run: exit 65, as the real run (migration 3: analytics not retired)"
is "$ERR" "migrate: migration 3 would stop: $ANALYTICS_STOP" "dry-run: says why migration 3 would stop"
like "$OUT" "would merge 5 duplicate cart reservations" "dry-run: says it would merge 5"
run migrate --db dry.db --dry-run --to 2
is "$RC|$ERR" "0|" "dry-run --to 2: exit 0"
is "$OUT" "migrate: 'dry.db': schema version 1 (baseline)
migrate: pending: 2 2025-10-05-scale-readiness-fixes
migrate: migration 2 would merge 5 duplicate cart reservations (the newest of each group is kept)" \
    "dry-run --to 2: only migration 2, and its plan"
is "$(fingerprint dry.db)" "$fp" "dry-run: rows unchanged"
is "$(schema dry.db)" "$sch" "dry-run: schema unchanged"
is "$(file_md5 dry.db)" "$md5" "dry-run: database file unchanged"
run migrate --db nope.db --dry-run
is "$RC" 0 "dry-run on a missing path: exit 0"
like "$OUT" "would create 'nope.db' at version 3" "dry-run on a missing path: says it would create it"
is "$(ls -A | grep -c '^nope\.db')" 0 "dry-run on a missing path: no file created"

############################################################################
# 7. A database newer than known; going back.
new_db future.db
q future.db "INSERT INTO schema_migrations (version, name) VALUES (99, 'future')"
fp=$(fingerprint future.db); sch=$(schema future.db)
run migrate --db future.db
is "$RC" 78 "newer database: exit 78"
is "$ERR" "migrate: 'future.db' is at schema version 99, newer than this program knows (3): use a newer migrate" \
    "newer database: one clear line"
is "$(fingerprint future.db)" "$fp" "newer database: rows unchanged"
is "$(schema future.db)" "$sch" "newer database: schema unchanged"
run migrate --db future.db --dry-run
is "$RC" 78 "newer database --dry-run: exit 78"
new_db back.db
fp=$(fingerprint back.db); sch=$(schema back.db)
run migrate --db back.db --to 1
is "$RC" 64 "--to 1 on version 3: exit 64"
like "$ERR" "at version 3; going back to 1 is not supported" "--to 1 on version 3: says why"
is "$(fingerprint back.db)" "$fp" "--to 1 on version 3: rows unchanged"
is "$(schema back.db)" "$sch" "--to 1 on version 3: schema unchanged"
run migrate --db back.db --to 1 --dry-run
is "$RC" 64 "--to 1 --dry-run on version 3: exit 64, as the real run"
run migrate --db back.db --to 2
is "$RC" 64 "--to 2 on version 3: exit 64"
like "$ERR" "at version 3; going back to 2 is not supported" "--to 2 on version 3: says why"
is "$(fingerprint back.db)|$(schema back.db)" "$fp|$sch" "--to 2 on version 3: unchanged"

############################################################################
# 8. Missing files, files that are not databases, other databases.
run migrate --db missing.db --status
is "$RC" 66 "--status on a missing path: exit 66"
is "$ERR" "migrate: database 'missing.db': does not exist" "--status on a missing path: one line"
is "$(ls -A | grep -c '^missing\.db')" 0 "--status on a missing path: no file created"
echo hello >text.db
md5=$(file_md5 text.db)
run migrate --db text.db
is "$RC" 66 "text file: migrate exits 66"
is "$ERR" "migrate: database 'text.db': is not an SQLite database (or is damaged)" "text file: one clear line"
run migrate --db text.db --status
is "$RC" 66 "text file: --status exits 66"
run migrate --db text.db --dry-run
is "$RC" 66 "text file: --dry-run exits 66"
is "$(file_md5 text.db)" "$md5" "text file: unchanged"
sqlite3 foo.db "CREATE TABLE foo(x); INSERT INTO foo VALUES (1)"
fp=$(fingerprint foo.db); sch=$(schema foo.db); md5=$(file_md5 foo.db)
run migrate --db foo.db
is "$RC" 78 "unrelated database: exit 78"
is "$ERR" "migrate: database 'foo.db' holds tables but not the shop's schema; refusing to touch it" \
    "unrelated database: one clear line"
run migrate --db foo.db --status
is "$RC" 78 "unrelated database: --status exits 78"
is "$(fingerprint foo.db)" "$fp" "unrelated database: rows unchanged"
is "$(schema foo.db)" "$sch" "unrelated database: schema unchanged"
is "$(file_md5 foo.db)" "$md5" "unrelated database: file unchanged"

############################################################################
# 9. The rollup trigger's day agrees with the jobs' parser (SPEC 3).  The
# parser's reading is what migrate seeds rollup_days with (ts_day) when it
# upgrades a V1 database; the trigger's is what an insert after migration marks.
# created_at is DATETIME (NUMERIC affinity): digit text is stored as an integer.
FORMS=(
	"'2025-10-05 10:00:00'|2025-10-05"
	"'2025-10-05T10:00:00'|2025-10-05"
	"'2025-10-05T10:00:00Z'|2025-10-05"
	"'2025-10-05T23:30:00-02:00'|2025-10-06"
	"'2025-10-06T01:00:00+02:00'|2025-10-05"
	"'2025-10-05 10:00:00.123'|2025-10-05"
	"'2025-10-04T23:59:59.999Z'|2025-10-04"
	"'2025-10-07T00:30:00.5+01:00'|2025-10-06"
	"1759622400|2025-10-05"
	"1759622399|2025-10-04"
	"1759622400000|2025-10-05"
	"1759622399999|2025-10-04"
	"CAST('1759622400' AS TEXT)|2025-10-05"
	"CAST('1759708799999' AS TEXT)|2025-10-05"
	"99999999999|5138-11-16"
	"100000000000|1973-03-03"
	"-1|1969-12-31"
	"'hello'|"
	"''|"
	"NULL|"
)
new_db trig.db
all_values=""
for f in "${FORMS[@]}"; do
	v=${f%|*} want=${f##*|}
	all_values="$all_values${all_values:+, }('e', $v)"
	is "$(q trig.db "DELETE FROM rollup_days; INSERT INTO analytics_events (event_type, created_at)
	    VALUES ('e', $v); SELECT group_concat(day) FROM rollup_days")" "$want" "trigger: $v -> ${want:-no day}"
done
# Ids 13 and 14 are the two CAST(... AS TEXT) rows of FORMS.
is "$(q trig.db "SELECT typeof(created_at) || ':' || created_at FROM analytics_events WHERE id IN (13, 14) ORDER BY id")" \
    "$(printf 'integer:1759622400\ninteger:1759708799999')" \
    "trigger: digit text in created_at (NUMERIC affinity) is stored as an integer"
want_set=$(printf '%s\n' 1969-12-31 1973-03-03 2025-10-04 2025-10-05 2025-10-06 5138-11-16)
new_db trigall.db
q trigall.db "INSERT INTO analytics_events (event_type, created_at) VALUES $all_values"
is "$(q trigall.db 'SELECT day FROM rollup_days ORDER BY day')" "$want_set" "trigger: all forms at once mark exactly the expected days"
v1_db parsed.db
q parsed.db "INSERT INTO analytics_events (event_type, created_at) VALUES $all_values"
"$JOBS_BIN/migrate" --db parsed.db -q
is "$(q parsed.db 'SELECT day FROM rollup_days ORDER BY day')" "$want_set" "parser (migrate's seed): the same days"

# Values outside the SPEC 3 text forms: the parser floors sub-millisecond
# reals and refuses dates it does not read; the trigger must do the same.
for v in 1759622399.9996 1759622399999.6; do
	rm -f p.db* t.db*
	v1_db p.db
	q p.db "INSERT INTO analytics_events (event_type, created_at) VALUES ('e', $v)"
	"$JOBS_BIN/migrate" --db p.db -q
	new_db t.db
	q t.db "INSERT INTO analytics_events (event_type, created_at) VALUES ('e', $v)"
	is "$(q t.db 'SELECT group_concat(day) FROM rollup_days')" "$(q p.db 'SELECT group_concat(day) FROM rollup_days')" \
	    "trigger agrees with parser on real $v (parser: 2025-10-04)"
done
unread="('e', '2025-10-07'), ('e', '2025-10-08 10:00'), ('e', '2025-10-10 24:00:00'), ('e', '2025-02-30 10:00:00'), ('e', 'now')"
v1_db p2.db
q p2.db "INSERT INTO analytics_events (event_type, created_at) VALUES $unread"
"$JOBS_BIN/migrate" --db p2.db -q
is "$(q p2.db 'SELECT count(*) FROM rollup_days')" 0 "parser: date-only, no seconds, hour 24, Feb 30, 'now' are unreadable"
new_db t2.db
q t2.db "INSERT INTO analytics_events (event_type, created_at) VALUES $unread"
is "$(q t2.db 'SELECT group_concat(day) FROM rollup_days')" "" "trigger: the same unreadable values mark no day"

############################################################################
# 10. The indexes the jobs rely on are used; the audit's indexes exist.
plan() {
	q new.db "EXPLAIN QUERY PLAN $1"
}
like "$(plan "SELECT id FROM analytics_events WHERE created_at >= '2025-10-05' AND created_at < '2025-10-06'")" \
    "SEARCH analytics_events USING (COVERING )?INDEX idx_analytics_events_created_at \(created_at>\? AND created_at<\?\)" \
    "plan: analytics_events day range uses idx_analytics_events_created_at"
like "$(plan "SELECT id FROM system_logs WHERE created_at >= '2025-10-05' AND created_at < '2025-10-06'")" \
    "SEARCH system_logs USING (COVERING )?INDEX idx_system_logs_created_at \(created_at>\? AND created_at<\?\)" \
    "plan: system_logs day range uses idx_system_logs_created_at"
like "$(plan "SELECT id FROM product_reservations WHERE expires_at <= '2025-10-05 00:00:00'")" \
    "SEARCH product_reservations USING (COVERING )?INDEX idx_product_reservations_expires_at \(expires_at<\?\)" \
    "plan: expired reservations use idx_product_reservations_expires_at"
like "$(plan "SELECT 1 FROM stock_moves WHERE reservation_id = 5 AND reason = 'reservation_expired'")" \
    "SEARCH stock_moves USING (COVERING )?INDEX idx_stock_moves_[a-z_]+ \(reservation_id=\?\)" \
    "plan: a reservation's expiry move is found through an index"
like "$(plan "SELECT sum(qty_change) FROM stock_moves WHERE reservation_id = 5 AND reason = 'reserved'")" \
    "SEARCH stock_moves USING (COVERING )?INDEX idx_stock_moves_[a-z_]+ \(reservation_id=\?\)" \
    "plan: a reservation's reserved moves are found through an index"
like "$(plan "SELECT id FROM product_reservations WHERE product_id = 1 AND user_id = 2")" \
    "SEARCH product_reservations USING (COVERING )?INDEX [a-z_0-9]+ \(product_id=\? AND user_id=\?\)" \
    "plan: cart lookup by (product, user) uses an index"
audit="idx_password_resets_user_id idx_products_size idx_sell_submissions_status_created_at
    idx_sell_items_submission_id idx_analytics_events_event_type_created_at
    idx_analytics_events_user_id_created_at idx_images_product_id idx_images_submission_id
    idx_system_logs_created_at"
for db in new.db up.db; do
	for i in $audit; do
		is "$(q $db "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = '$i'")" 1 "$db: index $i exists"
	done
done

############################################################################
# 11. One instance at a time: a second migrate exits 75 at once.
# The lock is on the database file itself: a first migrate holds it on the
# empty file it is about to make a database of.
: >lock.db
hold_lock lock.db migrate
t0=$(date +%s%N)
run migrate --db lock.db
elapsed=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$RC" 75 "lock: second instance exits 75"
like "$ERR" "^migrate: another migrate is already running on 'lock.db'" "lock: says another is running"
ok $(( elapsed < 2000 ? 0 : 1 )) "lock: exits at once (${elapsed} ms, busy timeout is 5000)"
is "$(wc -c <lock.db)" 0 "lock: nothing written to the database"
release_lock
run migrate --db lock.db
new_db fresh.db
is "$RC|$(q lock.db "SELECT max(version) FROM schema_migrations")" "0|$(q fresh.db "SELECT max(version) FROM schema_migrations")" \
    "lock: once released, migrate runs"

############################################################################
# 12. Migration 3 and the legacy analytics table (SPEC 2, version 3): dropped
# only when empty; while it holds rows, 65 and nothing changed.
v1_db a.db
q a.db "INSERT INTO analytics (page, views, date) VALUES ('/', 10, '2025-10-01');
    INSERT INTO products (sku, name, price, stock_quantity, image_url) VALUES ('A-1', 'Hat', 5, 1, '/hat.jpg')"
run migrate --db a.db --dry-run
is "$RC|$ERR" "65|migrate: migration 3 would stop: $ANALYTICS_STOP" "V1 with analytics rows --dry-run: 65, says why"
like "$OUT" "migration 3 would make 1 image from the products' image columns \(0 references" \
    "V1 with analytics rows --dry-run: migration 3's plan too"
# The real run applies 2, each migration being whole on its own (the jobs,
# retire_table among them, need version 2), then stops at 3.
run migrate --db a.db
is "$RC" 65 "V1 with analytics rows: exit 65"
is "$ERR" "migrate: 'a.db': migration 3 stopped, nothing of it changed (the database is at version 2): $ANALYTICS_STOP" \
    "V1 with analytics rows: one line: migration 3 stopped, at version 2, run retire_table"
is "$OUT" "migrate: 'a.db': migrated to version 2 (2025-10-05-scale-readiness-fixes)" "V1 with analytics rows: says it reached 2"
is "$(q a.db 'SELECT group_concat(version) FROM schema_migrations')" 2 "V1 with analytics rows: at version 2"
is "$(q a.db 'SELECT count(*) FROM analytics') $(q a.db 'SELECT count(*) FROM images')" "1 0" \
    "V1 with analytics rows: the row kept, no image made"
is "$(q a.db "SELECT status, exit_code, window_start, window_end, message FROM job_runs")" \
    "failed|65|1|2|version 1 -> 2; stopped: $ANALYTICS_STOP" "V1 with analytics rows: the run recorded, failed at 3"
is "$(q a.db 'PRAGMA journal_mode')" wal "V1 with analytics rows: WAL, as after any migration"
like "$(q a.db "SELECT value FROM jobs_meta WHERE key = 'database_file'")" . "V1 with analytics rows: the file is claimed (dbfile.h)"

# At version 2: refused while rows remain, every time, changing nothing.
fp=$(fingerprint a.db); sch=$(schema a.db); md5=$(file_md5 a.db)
run migrate --db a.db
is "$RC|$OUT" "65|" "analytics rows at version 2: exit 65, nothing on stdout"
is "$ERR" "migrate: 'a.db': migration 3 stopped, nothing changed: $ANALYTICS_STOP" "analytics rows at version 2: one line naming retire_table"
is "$(fingerprint a.db)|$(schema a.db)|$(file_md5 a.db)" "$fp|$sch|$md5" "analytics rows at version 2: database file unchanged"
run migrate --db a.db --dry-run
is "$RC|$ERR" "65|migrate: migration 3 would stop: $ANALYTICS_STOP" "analytics rows --dry-run: 65, the same reason"
run migrate --db a.db --status
is "$RC|$ERR" "0|migrate: warning: migration 3 would stop: $ANALYTICS_STOP" "analytics rows --status: 0, the reason as a warning"
run migrate --db a.db --to 2
is "$RC|$OUT" "0|migrate: 'a.db' is at version 2: nothing to do" "analytics rows: --to 2 stops at 2, nothing to do"
is "$(fingerprint a.db)|$(schema a.db)|$(file_md5 a.db)" "$fp|$sch|$md5" "analytics rows: --dry-run, --status, --to 2 unchanged"
q a.db "INSERT INTO analytics (page, views, date) VALUES ('/b', 1, '2025-10-02'), ('/c', 1, '2025-10-03')"
run migrate --db a.db
like "$ERR" "the legacy analytics table still holds 3 rows: run retire_table" "analytics rows: counts them (3)"

# Once empty, dropped; its own index and trigger go with it.
retire a.db
q a.db "CREATE INDEX idx_analytics_page ON analytics(page);
    CREATE TRIGGER analytics_touch AFTER INSERT ON analytics BEGIN SELECT 1; END"
run migrate --db a.db
is "$RC|$ERR" "0|" "analytics empty: exit 0"
is "$OUT" "migrate: 'a.db': migrated to version 3 (retire-legacy-analytics-and-image-columns)
migrate: made 1 image from the products' image columns (0 references already in images or named twice)" "analytics empty: migrated to 3"
is "$(q a.db "SELECT count(*) FROM sqlite_master WHERE tbl_name = 'analytics' OR name GLOB '*analytics_touch*' OR name = 'idx_analytics_page'")" 0 \
    "analytics empty: the table, its index and its trigger are gone"
is "$(q a.db 'SELECT group_concat(version) FROM schema_migrations')" 2,3 "analytics empty: version 3"
is "$(q a.db 'SELECT product_id, cloudflare_id, url FROM images')" "1||/hat.jpg" "analytics empty: the image made too"
is "$(q a.db 'PRAGMA integrity_check')" ok "analytics empty: integrity_check ok"

# A table someone already dropped by hand.
"$JOBS_BIN/migrate" --db hand.db --to 2 -q
q hand.db "DROP TABLE analytics"
run migrate --db hand.db
is "$RC|$(q hand.db 'SELECT max(version) FROM schema_migrations')" "0|3" "analytics dropped by hand: migrates to 3"

# SQLite matches table names in any case: an "Analytics" holding rows is the
# legacy table too (DROP TABLE analytics would drop it).
"$JOBS_BIN/migrate" --db case.db --to 2 -q
q case.db "DROP TABLE analytics; CREATE TABLE Analytics (id INTEGER PRIMARY KEY, page TEXT);
    INSERT INTO Analytics (page) VALUES ('/')"
fp=$(fingerprint case.db)
run migrate --db case.db
is "$RC|$ERR" "65|migrate: 'case.db': migration 3 stopped, nothing changed: $ANALYTICS_STOP" \
    "\"Analytics\" holding a row: 65, as analytics"
is "$(fingerprint case.db)" "$fp" "\"Analytics\" holding a row: unchanged"

# Something else that uses the table would be left broken by the drop: a
# view, a trigger on another table, a foreign key.  Refused, named.
"$JOBS_BIN/migrate" --db uses.db --to 2 -q
q uses.db "CREATE VIEW page_views AS SELECT page, sum(views) FROM analytics GROUP BY page;
    CREATE TRIGGER count_views AFTER INSERT ON analytics_events BEGIN
        UPDATE \"Analytics\" SET views = views + 1 WHERE page = NEW.event_type; END;
    CREATE TRIGGER daily_note AFTER INSERT ON analytics_daily BEGIN SELECT 1 FROM analytics_events; END;
    CREATE TABLE page_notes (id INTEGER PRIMARY KEY, analytics_id INTEGER REFERENCES analytics(id));
    CREATE VIEW fine AS SELECT count(*) AS n FROM analytics_events"
fp=$(fingerprint uses.db); sch=$(schema uses.db)
run migrate --db uses.db
is "$RC" 65 "users of analytics: exit 65"
is "$ERR" "migrate: 'uses.db': migration 3 stopped, nothing changed: these use the legacy analytics table, which migration 3 drops (drop or change them first): foreign key of table page_notes, trigger count_views, view page_views" \
    "users of analytics: names the view, the trigger and the foreign key, not analytics_events' users"
is "$(fingerprint uses.db)|$(schema uses.db)" "$fp|$sch" "users of analytics: unchanged"
run migrate --db uses.db --dry-run
is "$RC" 65 "users of analytics --dry-run: 65"
q uses.db "DROP VIEW page_views; DROP TRIGGER count_views; DROP TABLE page_notes"
run migrate --db uses.db
is "$RC|$ERR" "0|" "users of analytics dropped: exit 0"
is "$(has_table uses.db analytics)|$(q uses.db 'SELECT n FROM fine')" "0|0" "users of analytics dropped: analytics gone, the other view works"

done_testing
