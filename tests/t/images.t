#!/bin/bash
# Migration 3's image backfill (SPEC section 2, version 3) on real SQLite
# files: the images rows migrate makes from the products' image columns equal
# an independent computation (tests/lib/images.py: Python's json module and
# the rules as written, no SQLite JSON), row by row and in order, on every
# named case and on random products; the counts --dry-run and --status report
# are the ones the run then makes; malformed additional_images stop it with
# 65, ids listed, nothing changed; a rerun changes nothing; the skip test
# uses idx_images_product_id.
. "$(dirname "$0")/../lib/tap.sh"

unset JOBS_DB
IMAGES="$TAP_LIB/images.py"
SCHEMA_C="$TAP_LIB/../../common/schema.c"
ROWS_LABEL="products whose additional_images is not a JSON array of image ids, URLs or {url, id} objects: ids "

# v2_db PATH: a database at version 2, where migration 3 is pending.
v2_db() {
	"$JOBS_BIN/migrate" --db "$1" --to 2 -q || { echo "Bail out! migrate --to 2 failed"; exit 1; }
}

schema() {
	q "$1" "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name" | md5sum | cut -d' ' -f1
}

file_md5() {
	md5sum <"$1" | cut -d' ' -f1
}

# expected DB: what images.py says migration 3 makes, "product|cf|url" a line.
expected() {
	python3 "$IMAGES" rows "$1"
}

# made DB MAXID: the images rows after id MAXID, in id order, as expected() prints them.
made() {
	q "$1" "SELECT product_id, cloudflare_id, url FROM images WHERE id > $2 ORDER BY id"
}

# plan_line N M: the words of the plan (--dry-run, --status) and of the summary.
plan_line() {
	local s=s r=s
	[ "$1" = 1 ] && s=
	[ "$2" = 1 ] && r=
	echo "$1 image$s from the products' image columns ($2 reference$r already in images or named twice)"
}

# named DB: one product per case of the rules, the images rows already there,
# and the legacy analytics table empty (retired).
named() {
	v2_db "$1"
	q "$1" "
	INSERT INTO sell_submissions (batch_id) VALUES ('B-1');
	INSERT INTO products (id, sku, name, price, stock_quantity, image_url, image_id, cloudflare_image_id, additional_images) VALUES
	    (1, 'P1', 'no image', 1, 1, NULL, NULL, NULL, NULL),
	    (2, 'P2', 'only image_url', 1, 1, '/p2.jpg', NULL, NULL, NULL),
	    (3, 'P3', 'only image_id', 1, 1, NULL, 'id3', NULL, NULL),
	    (4, 'P4', 'cloudflare wins over image_id', 1, 1, 'https://x/4.jpg', 'id4', 'cf4', NULL),
	    (5, 'P5', 'cloudflare_id already in images', 1, 1, '/p5.jpg', NULL, 'cf5', '[\"cf5b\"]'),
	    (6, 'P6', 'url already in images', 1, 1, '/p6.jpg', '', NULL, NULL),
	    (7, 'P7', 'duplicates inside the array', 1, 1, NULL, NULL, NULL, '[\"cf7a\", \"cf7a\", \"/u7.jpg\", \"/u7.jpg\"]'),
	    (8, 'P8', 'main image repeated in the array', 1, 1, '/m8.jpg', NULL, 'cf8',
	        '[\"cf8\", \"/m8.jpg\", {\"id\": \"cf8\", \"url\": \"/other8.jpg\"}]'),
	    (9, 'P9', 'objects', 1, 1, NULL, NULL, NULL,
	        '[{\"id\": \"o9a\"}, {\"url\": \"/o9b.jpg\"}, {\"id\": \"o9c\", \"url\": \"https://x/o9c.jpg\"},
	          {\"id\": \"\", \"url\": \"/o9d.jpg\"}, {\"id\": \"o9e\", \"url\": \" \", \"alt\": \"ignored\"}]'),
	    (10, 'P10', 'strings: urls and ids', 1, 1, NULL, NULL, NULL,
	        '[\"http://x/10a.jpg\", \"https://x/10b.jpg\", \"/10c.jpg\", \"HTTPS://X/10D.JPG\", \"cf10e\",
	          \"img-10f\", \" /10g.jpg \", \" cf10h \"]'),
	    (11, 'P11', 'empty array', 1, 1, '/p11.jpg', NULL, NULL, '[]'),
	    (12, 'P12', 'NULL additional_images', 1, 1, NULL, 'id12', NULL, NULL),
	    (13, 'P13', 'empty additional_images', 1, 1, ' /p13.jpg ', NULL, NULL, ''),
	    (14, 'P14', 'blank everything', 1, 1, '  ', '', ' ', '   '),
	    (15, 'P15', 'id in images of another owner', 1, 1, NULL, NULL, 'cf15', NULL),
	    (16, 'P16', 'url there, without the id', 1, 1, '/p16.jpg', NULL, 'cf16', NULL),
	    (17, 'P17', 'url there, with another id', 1, 1, NULL, NULL, NULL, '[\"/p17.jpg\"]');
	INSERT INTO images (product_id, submission_id, cloudflare_id, url) VALUES
	    (5, NULL, 'cf5', '/old5.jpg'),
	    (6, NULL, NULL, '/p6.jpg'),
	    (2, NULL, 'cf15', NULL),
	    (NULL, 1, 'cf15', '/s1.jpg'),
	    (16, NULL, NULL, '/p16.jpg'),
	    (17, NULL, 'x17', '/p17.jpg');
	" || { echo "Bail out! fixture failed"; exit 1; }
}

NAMED_ROWS="2||/p2.jpg
3|id3|
4|cf4|https://x/4.jpg
5|cf5b|
7|cf7a|
7||/u7.jpg
8|cf8|/m8.jpg
9|o9a|
9||/o9b.jpg
9|o9c|https://x/o9c.jpg
9||/o9d.jpg
9|o9e|
10||http://x/10a.jpg
10||https://x/10b.jpg
10||/10c.jpg
10||HTTPS://X/10D.JPG
10|cf10e|
10|img-10f|
10||/10g.jpg
10|cf10h|
11||/p11.jpg
12|id12|
13||/p13.jpg
15|cf15|
16|cf16|/p16.jpg"

############################################################################
# 1. Every named case: the rows by hand, and images.py agrees.
named n.db
is "$(expected n.db)" "$NAMED_ROWS" "named: images.py computes the rows worked out by hand"
is "$(python3 "$IMAGES" counts n.db)" "25 8" "named: images.py counts 25 to make, 8 skipped"
fp=$(fingerprint n.db); sch=$(schema n.db); md5=$(file_md5 n.db)
run migrate --db n.db --dry-run
is "$RC" 0 "named --dry-run: exit 0"
is "$OUT" "migrate: 'n.db': schema version 2
migrate: pending: 3 retire-legacy-analytics-and-image-columns
migrate: migration 3 would make $(plan_line 25 8)" "named --dry-run: the version, the pending migration and its plan"
is "$ERR" "" "named --dry-run: nothing on stderr"
run migrate --db n.db --status
is "$RC" 0 "named --status: exit 0"
like "$OUT" "migration 3 would make $(plan_line 25 8 | sed 's/[()]/\\&/g')$" "named --status: the same plan"
is "$(fingerprint n.db)|$(schema n.db)|$(file_md5 n.db)" "$fp|$sch|$md5" "named --dry-run, --status: database file unchanged"
old=$(q n.db "SELECT * FROM images ORDER BY id")
products=$(q n.db "SELECT * FROM products ORDER BY id")
maxid=$(q n.db "SELECT max(id) FROM images")
run migrate --db n.db
is "$RC" 0 "named: exit 0"
is "$OUT" "migrate: 'n.db': migrated to version 3 (retire-legacy-analytics-and-image-columns)
migrate: made $(plan_line 25 8)" "named: says it made 25 images, 8 skipped"
is "$ERR" "" "named: nothing on stderr"
is "$(made n.db "$maxid")" "$NAMED_ROWS" "named: exactly the expected rows, in (product, position) order"
is "$(q n.db "SELECT count(*) FROM images WHERE id > $maxid AND (submission_id IS NOT NULL OR variants IS NOT NULL
    OR created_at IS NULL)")" 0 "named: the new rows are owned by their product only, no variants, a created_at"
is "$(q n.db "SELECT * FROM images WHERE id <= $maxid ORDER BY id")" "$old" "named: the images rows already there are unchanged"
is "$(q n.db "SELECT * FROM products ORDER BY id")" "$products" "named: products unchanged (its image columns stay)"
is "$(q n.db "SELECT group_concat(version) FROM schema_migrations")" "2,3" "named: version 3 recorded"
is "$(q n.db "SELECT count(*) FROM sqlite_master WHERE name = 'analytics'")" 0 "named: the empty legacy analytics table is dropped"
is "$(q n.db 'PRAGMA foreign_key_check')" "" "named: foreign_key_check empty"
is "$(q n.db 'PRAGMA integrity_check')" ok "named: integrity_check ok"
is "$(q n.db "SELECT status, exit_code, window_start, window_end, message FROM job_runs ORDER BY id DESC LIMIT 1")" \
    "ok|0|2|3|version 2 -> 3" "named: the run is recorded in job_runs"

# A rerun changes nothing.
fp=$(fingerprint n.db); sch=$(schema n.db)
run migrate --db n.db
is "$RC" 0 "named rerun: exit 0"
is "$OUT" "migrate: 'n.db' is at version 3: nothing to do" "named rerun: nothing to do"
is "$(fingerprint n.db)|$(schema n.db)" "$fp|$sch" "named rerun: rows and schema unchanged"
run migrate --db n.db --status
is "$RC|$OUT" "0|migrate: 'n.db': schema version 3 (current)
migrate: nothing pending" "named --status after: version 3, nothing pending"

############################################################################
# 2. The query behind it: the skip test is one lookup in idx_images_product_id
# per image, and the text in common/schema.c is the one migrate ran.
sql=$(python3 "$IMAGES" sql "$SCHEMA_C")
named plan.db
like "$(q plan.db "EXPLAIN QUERY PLAN $sql")" "SEARCH i USING (COVERING )?INDEX idx_images_product_id \(product_id=\?\)" \
    "plan: the present-already test searches images by idx_images_product_id"
is "$(q plan.db "SELECT product_id, cloudflare_id, url FROM ($sql) WHERE NOT present ORDER BY product_id, position")" \
    "$NAMED_ROWS" "plan: common/schema.c's IMAGE_CANDIDATES gives the same rows"

############################################################################
# 3. Many products, drawn at random from small pools of ids and urls (so
# that repeats are common), beside the named ones.
for seed in 1 2 3; do
	db=r$seed.db
	named $db
	python3 "$IMAGES" generate $db $seed 400
	want=$(expected $db)
	read -r n m <<<"$(python3 "$IMAGES" counts $db)"
	fp=$(fingerprint $db)
	run migrate --db $db --dry-run
	is "$RC|$(printf '%s\n' "$OUT" | tail -n 1)" "0|migrate: migration 3 would make $(plan_line $n $m)" \
	    "random $seed --dry-run: would make $n, skip $m (images.py's counts)"
	run migrate --db $db --status
	is "$RC|$(printf '%s\n' "$OUT" | tail -n 1)" "0|migrate: migration 3 would make $(plan_line $n $m)" \
	    "random $seed --status: the same counts"
	is "$(fingerprint $db)" "$fp" "random $seed: --dry-run and --status changed nothing"
	maxid=$(q $db "SELECT max(id) FROM images")
	run migrate --db $db
	is "$RC|$(printf '%s\n' "$OUT" | tail -n 1)" "0|migrate: made $(plan_line $n $m)" "random $seed: made $n, skipped $m"
	is "$(made $db "$maxid")" "$want" "random $seed: the rows equal images.py's, in order ($n rows)"
	ok $(( n > 300 && m > 100 ? 0 : 1 )) "random $seed: the data has many of both ($n made, $m skipped)"
	fp=$(fingerprint $db)
	run migrate --db $db
	is "$RC|$(fingerprint $db)" "0|$fp" "random $seed: a rerun changes nothing"
done

############################################################################
# 4. additional_images that cannot be read: 65, every id named, nothing
# changed; once the rows are fixed, the migration runs.
v2_db bad.db
q bad.db "
INSERT INTO products (id, sku, name, price, stock_quantity, image_url, additional_images) VALUES
    (1, 'B1', 'object', 1, 1, '/b1.jpg', '{\"url\": \"/x.jpg\"}'),
    (2, 'B2', 'fine', 1, 1, '/b2.jpg', '[\"/b2b.jpg\"]'),
    (3, 'B3', 'number', 1, 1, NULL, 42),
    (4, 'B4', 'JSON string', 1, 1, NULL, '\"/x.jpg\"'),
    (5, 'B5', 'invalid JSON', 1, 1, NULL, '[\"/x.jpg\",'),
    (6, 'B6', 'not JSON', 1, 1, NULL, '/x.jpg'),
    (7, 'B7', 'a number inside', 1, 1, NULL, '[\"/x.jpg\", 5]'),
    (8, 'B8', 'a null inside', 1, 1, NULL, '[null]'),
    (9, 'B9', 'an empty string', 1, 1, NULL, '[\"\"]'),
    (10, 'B10', 'a blank string', 1, 1, NULL, '[\"  \"]'),
    (11, 'B11', 'object without url or id', 1, 1, NULL, '[{\"alt\": \"x\"}]'),
    (12, 'B12', 'object with a number url', 1, 1, NULL, '[{\"url\": 5}]'),
    (13, 'B13', 'object with a null id', 1, 1, NULL, '[{\"id\": null, \"url\": \"/x.jpg\"}]'),
    (14, 'B14', 'object with both empty', 1, 1, NULL, '[{\"id\": \"\", \"url\": \" \"}]'),
    (15, 'B15', 'nested array', 1, 1, NULL, '[[\"/x.jpg\"]]'),
    (16, 'B16', 'a boolean', 1, 1, NULL, '[true]'),
    (17, 'B17', 'a blob', 1, 1, NULL, CAST('[]' AS BLOB)),
    (18, 'B18', 'fine objects', 1, 1, NULL, '[{\"id\": \"ok\"}, {\"url\": \"/ok.jpg\", \"id\": \" \"}]');
"
BAD="1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17"
is "$(python3 "$IMAGES" malformed bad.db | paste -sd, | sed 's/,/, /g')" "$BAD" "malformed: images.py finds the 16 by hand"
fp=$(fingerprint bad.db); sch=$(schema bad.db); md5=$(file_md5 bad.db)
run migrate --db bad.db
is "$RC" 65 "malformed: exit 65"
is "$ERR" "migrate: 'bad.db': migration 3 stopped, nothing changed: $ROWS_LABEL$BAD" "malformed: one line naming every id"
is "$OUT" "" "malformed: nothing on stdout"
is "$(fingerprint bad.db)|$(schema bad.db)|$(file_md5 bad.db)" "$fp|$sch|$md5" "malformed: database file unchanged"
run migrate --db bad.db --dry-run
is "$RC|$ERR" "65|migrate: migration 3 would stop: $ROWS_LABEL$BAD" "malformed --dry-run: exit 65, the same ids"
like "$OUT" "migration 3 would make $(plan_line 4 0 | sed 's/[()]/\\&/g')$" \
    "malformed --dry-run: still counts the images of the readable products"
run migrate --db bad.db --status
is "$RC|$ERR" "0|migrate: warning: migration 3 would stop: $ROWS_LABEL$BAD" "malformed --status: exit 0, a warning with the ids"
is "$(fingerprint bad.db)|$(schema bad.db)|$(file_md5 bad.db)" "$fp|$sch|$md5" "malformed --dry-run, --status: unchanged"

# The operator fixes the rows (here: each made well-formed, or emptied).
q bad.db "UPDATE products SET additional_images = '[\"/fixed.jpg\", {\"id\": \"fixed\"}]' WHERE id IN (1, 7, 9);
    UPDATE products SET additional_images = NULL WHERE id IN (3, 4, 5, 6, 8, 10, 11, 12, 13, 14, 15, 16, 17)"
is "$(python3 "$IMAGES" malformed bad.db)" "" "fixed: images.py finds none"
want=$(expected bad.db)
read -r n m <<<"$(python3 "$IMAGES" counts bad.db)"
is "$n $m" "11 0" "fixed: images.py counts 11 to make"
maxid=$(q bad.db "SELECT coalesce(max(id), 0) FROM images")
run migrate --db bad.db
is "$RC|$ERR" "0|" "fixed: exit 0"
like "$OUT" "made $(plan_line 11 0 | sed 's/[()]/\\&/g')$" "fixed: made 11"
is "$(made bad.db "$maxid")" "$want" "fixed: the rows images.py computes"

# More than 20: the first 20 ids, then how many more.
v2_db many.db
q many.db "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25)
    INSERT INTO products (id, sku, name, price, stock_quantity, additional_images)
    SELECT i * 10, 'M' || i, 'm', 1, 1, '[1]' FROM n"
fp=$(fingerprint many.db)
run migrate --db many.db
is "$RC" 65 "25 malformed: exit 65"
is "$ERR" "migrate: 'many.db': migration 3 stopped, nothing changed: ${ROWS_LABEL}10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200 (and 5 more)" \
    "25 malformed: the first 20 ids and 'and 5 more'"
is "$(fingerprint many.db)" "$fp" "25 malformed: unchanged"

# Both reasons in one line: malformed products and a legacy table not retired.
v2_db both.db
q both.db "INSERT INTO products (sku, name, price, stock_quantity, additional_images) VALUES ('X', 'x', 1, 1, 'nope');
    INSERT INTO analytics (page, views, date) VALUES ('/', 1, '2025-10-01'), ('/a', 2, '2025-10-01')"
fp=$(fingerprint both.db); sch=$(schema both.db)
run migrate --db both.db
is "$RC|$ERR" "65|migrate: 'both.db': migration 3 stopped, nothing changed: ${ROWS_LABEL}1; the legacy analytics table still holds 2 rows: run retire_table --table analytics first (it archives them)" \
    "malformed and analytics rows: 65, both in one line"
is "$(fingerprint both.db)|$(schema both.db)" "$fp|$sch" "malformed and analytics rows: unchanged"

done_testing
