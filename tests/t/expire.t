#!/bin/bash
# expire_reservations (SPEC 5): exactly the reservations due by --now go, each
# one that took stock gets exactly one 'reservation_expired' move for what its
# 'reserved' moves took, stock_quantity = SUM(stock_moves.qty_change) holds
# before and after every run, including runs killed with SIGKILL midway.
. "$(dirname "$0")/../lib/tap.sh"

EXP=expire_reservations
NOW='2025-10-05 12:00:00'	# = 1759665600 s = 1759665600000 ms

# base_db PATH: users u1..u3 and products P1..P5 (stock 10..50) created in a
# V1 database, then migrated, so that migrate writes their 'initial' moves.
base_db() {
	"$JOBS_BIN/migrate" --db "$1" --to 1 -q || { echo "Bail out! migrate --to 1 failed"; exit 1; }
	q "$1" "INSERT INTO users(email, name) VALUES ('u1@x', 'U1'), ('u2@x', 'U2'), ('u3@x', 'U3');
		INSERT INTO products(sku, name, price, stock_quantity) VALUES
		('p1', 'P1', 10.0, 10), ('p2', 'P2', 20.0, 20), ('p3', 'P3', 30.0, 30),
		('p4', 'P4', 40.0, 40), ('p5', 'P5', 50.0, 50);"
	new_db "$1"
}

# reserve DB PRODUCT USER SESSION QTY EXPIRES TOOK: the app's cart insert
# (USER, SESSION, EXPIRES are SQL literals); with TOOK=1 also its 'reserved'
# move and the stock decrement, in one transaction.  Prints the id.
reserve() {
	local sql="INSERT INTO product_reservations(product_id, user_id, session_id, quantity, expires_at)
		VALUES ($2, $3, $4, $5, $6);"
	if [ "$7" = 1 ]; then
		sql+=" INSERT INTO stock_moves(product_id, reservation_id, qty_change, reason)
			VALUES ($2, last_insert_rowid(), -$5, 'reserved');
			UPDATE products SET stock_quantity = stock_quantity - $5 WHERE id = $2;
			SELECT reservation_id FROM stock_moves WHERE id = last_insert_rowid();"
	else
		sql+=" SELECT last_insert_rowid();"
	fi
	q "$1" "BEGIN; $sql COMMIT;"
}

# ledger_bad DB: products whose stock_quantity is not their ledger sum.
ledger_bad() {
	q "$1" "SELECT id || ':' || stock_quantity || '<>' || (SELECT coalesce(sum(qty_change), 0)
		FROM stock_moves m WHERE m.product_id = p.id) FROM products p
		WHERE stock_quantity <> (SELECT coalesce(sum(qty_change), 0) FROM stock_moves m
		WHERE m.product_id = p.id) ORDER BY id"
}

# ids DB: the reservation ids left, comma-separated.
ids() { q "$1" "SELECT coalesce(group_concat(id, ','), '') FROM (SELECT id FROM product_reservations ORDER BY id)"; }
stocks() { q "$1" "SELECT group_concat(stock_quantity, ',') FROM (SELECT stock_quantity FROM products ORDER BY id)"; }
expired_moves() {
	q "$1" "SELECT coalesce(group_concat(x, ' '), '') FROM (SELECT reservation_id || ':' || product_id
		|| ':' || qty_change AS x FROM stock_moves WHERE reason = 'reservation_expired' ORDER BY reservation_id)"
}
# archived DIR: "id:date" of every archived row, sorted by id.
archived() {
	local f
	find "$1" -name '*.jsonl.gz' | while read -r f; do
		d=${f%/*}; d=${d##*/date=}
		zcat "$f" | jq -r --arg d "$d" '"\(.id):\($d)"'
	done | sort -t: -k1,1n | paste -sd' '
}

# mixed_fixture DB: the set of case 1, now = 2025-10-05 12:00:00 UTC.
# E = expired, K = kept; 'took' = has a 'reserved' move.
mixed_fixture() {
	local d=$1
	{
	reserve "$d" 1 1 NULL 2 "'2025-10-05 11:59:59'" 1		#  1 E space
	reserve "$d" 1 NULL "'g1'" 3 "'2025-10-05T10:00:00'" 1		#  2 E T, guest
	reserve "$d" 1 2 NULL 1 "'2025-10-05 12:00:01'" 1		#  3 K
	reserve "$d" 2 1 NULL 4 "'2025-10-05T11:00:00Z'" 1		#  4 E Z
	reserve "$d" 2 NULL "'g2'" 2 "'2025-10-06T01:00:00+14:00'" 1	#  5 E = 10-05 11:00 UTC
	reserve "$d" 2 NULL "'g3'" 1 "'2025-10-04T23:30:00-02:00'" 1	#  6 E = 10-05 01:30 UTC
	reserve "$d" 2 2 NULL 5 "'2025-10-05T23:30:00-02:00'" 1	#  7 K = 10-06 01:30 UTC
	reserve "$d" 3 1 NULL 1 "'2025-10-05 11:59:59.999'" 1		#  8 E fraction
	reserve "$d" 3 NULL "'g4'" 2 "'2025-10-05T12:00:00.500Z'" 1	#  9 K fraction
	reserve "$d" 3 2 NULL 3 "1759665000" 1				# 10 E int seconds 11:50
	reserve "$d" 3 NULL "'g5'" 1 "'1759600000'" 1			# 11 E digit text -> int, 10-04 17:46:40
	reserve "$d" 4 1 NULL 2 "1759665599999" 1			# 12 E int ms 11:59:59.999
	reserve "$d" 4 NULL "'g6'" 4 "1759665600500" 1			# 13 K int ms 12:00:00.500
	reserve "$d" 4 2 NULL 1 "'1759665599000'" 1			# 14 E digit-text ms -> int
	reserve "$d" 5 1 NULL 2 "'2025-09-30 08:00:00'" 0		# 15 E no stock taken
	reserve "$d" 5 NULL "'g7'" 1 "'2025-10-05T09:15:00.250Z'" 0	# 16 E no stock taken
	reserve "$d" 5 2 NULL 3 "'2025-10-07 00:00:00'" 0		# 17 K no stock taken
	reserve "$d" 1 NULL "'g8'" 2 "'2025-10-01T00:30:00+01:00'" 1	# 18 E = 09-30 23:30 UTC
	reserve "$d" 4 3 NULL 1 "1759700000" 0				# 19 K int seconds 21:33:20
	reserve "$d" 2 3 NULL 3 "'2025-10-05 11:00:00'" 1		# 20 E, the highest id
	} | paste -sd,
}
MIXED_IDS=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20
MIXED_KEPT=3,7,9,13,17,19
MIXED_GONE="1,2,4,5,6,8,10,11,12,14,15,16,18,20"
# reservation:product:+qty, one per expired reservation that took stock
MIXED_MOVES="1:1:2 2:1:3 4:2:4 5:2:2 6:2:1 8:3:1 10:3:3 11:3:1 12:4:2 14:4:1 18:1:2 20:2:3"
MIXED_ARCHIVED="1:2025-10-05 2:2025-10-05 4:2025-10-05 5:2025-10-05 6:2025-10-05 8:2025-10-05 10:2025-10-05 11:2025-10-04 12:2025-10-05 14:2025-10-05 15:2025-09-30 16:2025-10-05 18:2025-09-30 20:2025-10-05"

# ---------------------------------------------------------------------------
echo "# 1. mixed set: users and guests, every SPEC 3 form, some expired"
D=$T/mixed.db
base_db "$D"
is "$(mixed_fixture "$D")" "$MIXED_IDS" "fixture: reservation ids 1..20"
is "$(q "$D" "SELECT group_concat(typeof(expires_at), ',') FROM (SELECT expires_at FROM product_reservations WHERE id IN (10, 11, 12, 14, 19) ORDER BY id)")" \
	"integer,integer,integer,integer,integer" "DATETIME column: digit text was stored as integers"
is "$(stocks "$D")" "2,5,23,33,50" "fixture: stock lowered by the reserved moves"
is "$(ledger_bad "$D")" "" "fixture: stock_quantity = ledger sum for every product"
KEPT_ROWS=$(q "$D" "SELECT * FROM product_reservations WHERE id IN ($MIXED_KEPT) ORDER BY id")
GONE_JSON=$(q "$D" "SELECT json_object('id', id, 'product_id', product_id, 'user_id', user_id,
	'session_id', session_id, 'quantity', quantity, 'expires_at', expires_at, 'created_at', created_at)
	FROM product_reservations WHERE id IN ($MIXED_GONE) ORDER BY id" | jq -cS .)
MOVES_BEFORE=$(q "$D" "SELECT count(*) FROM stock_moves")
mkdir "$T/a1"
run $EXP --db "$D" --archive-dir "$T/a1" --now "$NOW"
is "$RC" 0 "run: exit 0"
is "$ERR" "" "run: no warnings"
is "$(ids "$D")" "$MIXED_KEPT" "exactly the expired reservations are gone"
is "$(q "$D" "SELECT * FROM product_reservations ORDER BY id")" "$KEPT_ROWS" "the others are untouched"
is "$(expired_moves "$D")" "$MIXED_MOVES" "one compensating move per expired reservation that took stock, right amount"
is "$(q "$D" "SELECT count(*) FROM stock_moves")" "$((MOVES_BEFORE + 12))" "exactly 12 moves added"
is "$(q "$D" "SELECT count(*) FROM stock_moves WHERE reservation_id IN (15, 16)")" 0 "no move for reservations that took no stock"
is "$(stocks "$D")" "9,15,28,36,50" "stock: initial minus what the kept reservations hold"
is "$(ledger_bad "$D")" "" "stock_quantity = ledger sum for every product"
like "$OUT" "archived 14 rows of product_reservations" "summary: 14 rows"
like "$OUT" "gave back 25 units of stock for 12 reservations" "summary: 25 units given back for 12 reservations"
is "$(archived "$T/a1")" "$MIXED_ARCHIVED" "each expired row archived once, partitioned by the UTC day of expires_at"
is "$(find "$T/a1" -name '*.jsonl.gz' -exec zcat {} + | jq -cS -s 'sort_by(.id)[]')" \
	"$GONE_JSON" "archived rows hold every column exactly (numbers as numbers, NULL as null)"
is "$(find "$T/a1" -name '*.jsonl.gz' ! -perm 600 | wc -l)" 0 "archive files are mode 0600"
is "$(q "$D" "SELECT count(*), sum(rows), count(*) FILTER (WHERE state = 'done') FROM archive_manifest WHERE table_name = 'product_reservations'")" \
	"3|14|3" "manifest: 3 files, 14 rows, all done"
is "$(q "$D" "SELECT job, status, rows FROM job_runs WHERE job = '$EXP'")" "$EXP|ok|14" "job_runs records the run"

# ---------------------------------------------------------------------------
echo "# 2. the boundary: at --now is expired, 1 ms later is not"
B0=$T/boundary.db
base_db "$B0"
BIDS=$(
	for e in "'2025-10-05 12:00:00'" "'2025-10-05T12:00:00'" "'2025-10-05T12:00:00Z'" \
	    "'2025-10-05T14:00:00+02:00'" "'2025-10-05T02:00:00-10:00'" 1759665600 1759665600000 \
	    "'2025-10-05 12:00:00.000'" "'1759665600'" "'2025-10-05T12:00:00.000Z'" \
	    "'2025-10-05 12:00:00.001'" 1759665600001 "'2025-10-05T12:00:00.001Z'" \
	    "'2025-10-05T14:00:00.001+02:00'" "'2025-10-05T12:00:01'" 1759665601; do
		n=$((${n:-0} + 1))
		reserve "$B0" 1 NULL "'b$n'" 1 "$e" 1
	done | paste -sd,)
is "$BIDS" "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16" "boundary fixture: 10 at now, 6 just after"
i=0
for now in "$NOW" '2025-10-05T12:00:00Z' '2025-10-05T14:00:00+02:00' 1759665600 1759665600000; do
	i=$((i + 1))
	cp "$B0" "$T/b$i.db"
	run $EXP --db "$T/b$i.db" --no-archive --now "$now"
	is "$RC" 0 "--now '$now': exit 0"
	is "$(ids "$T/b$i.db")" "11,12,13,14,15,16" "--now '$now': all 10 at now expired, none 1 ms later"
	is "$(q "$T/b$i.db" "SELECT count(*), sum(qty_change) FROM stock_moves WHERE reason = 'reservation_expired'")" \
		"10|10" "--now '$now': 10 compensations of 1"
	is "$(ledger_bad "$T/b$i.db")" "" "--now '$now': ledger holds"
done
cp "$B0" "$T/b9.db"
run $EXP --db "$T/b9.db" --no-archive --now '2025-10-05 11:59:59.999'
is "$(ids "$T/b9.db")" "$BIDS" "--now 1 ms before: nothing expires"

# ---------------------------------------------------------------------------
echo "# 3. rerun: nothing to do; ids are never reused"
FP=$(fingerprint "$D")
run $EXP --db "$D" --archive-dir "$T/a1" --now "$NOW"
is "$RC" 0 "rerun: exit 0"
like "$OUT" "nothing to do" "rerun: nothing to do"
is "$(fingerprint "$D")" "$FP" "rerun: database unchanged (no moves, no stock change, no run row)"
is "$(find "$T/a1" -type f | wc -l)" 3 "rerun: no new archive file"
run $EXP --db "$D" --archive-dir "$T/a1" --now "$NOW" -q
is "$RC|$OUT|$ERR" "0||" "rerun with -q: silent"
NEW=$(reserve "$D" 2 3 NULL 1 "'2025-10-08 00:00:00'" 1)
is "$NEW" 21 "a new reservation after the max id (20) expired gets id 21, not 20"

# ---------------------------------------------------------------------------
echo "# 4. never twice"
D4=$T/twice.db
base_db "$D4"
R4=$(reserve "$D4" 1 1 NULL 3 "'2025-10-05 11:00:00'" 1)
R4b=$(reserve "$D4" 2 1 NULL 2 "'2025-10-05 11:00:00'" 1)
# a half-done manual fix: the move and the stock were given back, the row stayed
q "$D4" "INSERT INTO stock_moves(product_id, reservation_id, qty_change, reason) VALUES (1, $R4, 3, 'reservation_expired');
	UPDATE products SET stock_quantity = stock_quantity + 3 WHERE id = 1;"
is "$(stocks "$D4")" "10,18,30,40,50" "fixture: P1 already given back by hand"
err=$(sqlite3 -batch "$D4" "INSERT INTO stock_moves(product_id, reservation_id, qty_change, reason) VALUES (1, $R4, 3, 'reservation_expired')" 2>&1)
rc=$?
ok $((rc == 0)) "a second 'reservation_expired' move for one reservation is refused"
like "$err" "UNIQUE constraint failed" "... by the unique index"
is "$(q "$D4" "SELECT count(*) FROM stock_moves WHERE reservation_id = $R4 AND reason = 'reservation_expired'")" 1 "... and not inserted"
q "$D4" "INSERT INTO stock_moves(product_id, reservation_id, qty_change, reason) VALUES (2, $R4b, 1, 'adjustment')" 2>/dev/null
is "$?" 0 "other reasons for the same reservation id are not blocked"
q "$D4" "UPDATE products SET stock_quantity = stock_quantity + 1 WHERE id = 2"
N4=$(q "$D4" "SELECT count(*) FROM stock_moves")
run $EXP --db "$D4" --no-archive --now "$NOW"
is "$RC" 0 "run: exit 0"
is "$(ids "$D4")" "" "both reservations deleted"
is "$(q "$D4" "SELECT count(*) FROM stock_moves WHERE reservation_id = $R4 AND reason = 'reservation_expired'")" 1 "no second compensation for the one given back by hand"
is "$(q "$D4" "SELECT count(*) FROM stock_moves")" "$((N4 + 1))" "exactly one move added (for the other reservation)"
is "$(stocks "$D4")" "10,21,30,40,50" "P1 not raised again; P2 raised by 2 (20 - 2 reserved + 1 adjustment + 2)"
is "$(ledger_bad "$D4")" "" "ledger holds"
like "$OUT" "gave back 2 units of stock for 1 reservations" "summary counts only the real compensation"

# ---------------------------------------------------------------------------
echo "# 5. the amount comes from the ledger, not the quantity"
D5=$T/ledger.db
base_db "$D5"
R5=$(reserve "$D5" 1 1 NULL 2 "'2025-10-05 11:00:00'" 1)
q "$D5" "UPDATE product_reservations SET quantity = 5 WHERE id = $R5"
R5b=$(reserve "$D5" 2 1 NULL 2 "'2025-10-05 11:00:00'" 1)
q "$D5" "INSERT INTO stock_moves(product_id, reservation_id, qty_change, reason) VALUES (2, $R5b, -1, 'reserved');
	UPDATE products SET stock_quantity = stock_quantity - 1 WHERE id = 2;
	UPDATE product_reservations SET quantity = 3 WHERE id = $R5b;"
is "$(stocks "$D5")" "8,17,30,40,50" "fixture: P1 took 2 (quantity now 5), P2 took 2+1"
run $EXP --db "$D5" --no-archive --now "$NOW"
is "$RC" 0 "run --no-archive: exit 0"
is "$(expired_moves "$D5")" "$R5:1:2 $R5b:2:3" "gives back 2 (the reserved move), not the quantity 5; 3 for two reserved moves"
is "$(stocks "$D5")" "10,20,30,40,50" "stock back to the initial values"
is "$(ledger_bad "$D5")" "" "ledger holds"
like "$OUT" "deleted 2 rows of product_reservations without archive" "--no-archive: summary"
is "$(q "$D5" "SELECT count(*) FROM archive_manifest")" 0 "--no-archive: no manifest rows"

# ---------------------------------------------------------------------------
echo "# 6. orphans and unreadable expires_at are left alone and reported"
D6=$T/orphan.db
base_db "$D6"
R6a=$(reserve "$D6" 4 1 NULL 2 "'2025-10-05 10:00:00'" 1)	# its product is deleted below
R6b=$(q "$D6" "PRAGMA foreign_keys = OFF; INSERT INTO product_reservations(product_id, user_id, session_id, quantity, expires_at)
	VALUES (999, NULL, 'o1', 1, '2025-10-05 10:00:00'); SELECT last_insert_rowid();")
R6c=$(reserve "$D6" 1 1 NULL 1 "'garbage'" 1)
R6d=$(reserve "$D6" 2 1 NULL 1 "'2025-10-05 10:00:00'" 1)	# an ordinary one
q "$D6" "PRAGMA foreign_keys = OFF; DELETE FROM products WHERE id = 4;"
FP6=$(q "$D6" "SELECT * FROM product_reservations WHERE id IN ($R6a, $R6b, $R6c) ORDER BY id")
N6=$(q "$D6" "SELECT count(*) FROM stock_moves")
mkdir "$T/a6"
run $EXP --db "$D6" --archive-dir "$T/a6" --now "$NOW"
is "$RC" 0 "exit 0"
is "$(ids "$D6")" "$R6a,$R6b,$R6c" "orphans and the unreadable one stay, the ordinary one goes"
is "$(q "$D6" "SELECT * FROM product_reservations ORDER BY id")" "$FP6" "... unchanged"
is "$(q "$D6" "SELECT count(*) FROM stock_moves")" "$((N6 + 1))" "one move added (for the ordinary one)"
like "$ERR" "warning: 2 reservations are due but their product no longer exists, left alone: ids $R6a, $R6b\$" "warning names the orphans"
like "$ERR" "warning: 1 reservations have an unreadable expires_at, left alone: ids $R6c\$" "warning names the unreadable one"
is "$(archived "$T/a6")" "$R6d:2025-10-05" "only the ordinary one archived"
is "$(ledger_bad "$D6")" "" "ledger holds for the remaining products"

# ---------------------------------------------------------------------------
echo "# 7. kill -9 at random moments, then rerun"
K0=$T/kill0.db
"$JOBS_BIN/migrate" --db "$K0" --to 1 -q
q "$K0" "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 8)
	INSERT INTO products(sku, name, price, stock_quantity) SELECT 'k' || i, 'K' || i, 9.5, 5000 FROM c;"
new_db "$K0"
# 2000 expired over 2025-10-01..03 in four forms, 50 not expired; ids = i.
q "$K0" "BEGIN;
	WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 2050),
	t(i, s) AS (SELECT i, CASE WHEN i <= 2000 THEN 1759276800 + i * 127 ELSE 1760140800 + i END FROM c)
	INSERT INTO product_reservations(product_id, user_id, session_id, quantity, expires_at)
	SELECT 1 + i % 8, NULL, 'k' || i, 1 + i % 3, CASE i % 4
		WHEN 0 THEN strftime('%Y-%m-%d %H:%M:%S', s, 'unixepoch')
		WHEN 1 THEN strftime('%Y-%m-%dT%H:%M:%fZ', s, 'unixepoch')
		WHEN 2 THEN s ELSE s * 1000 + 7 END FROM t;
	INSERT INTO stock_moves(product_id, reservation_id, qty_change, reason)
	SELECT product_id, id, -quantity, 'reserved' FROM product_reservations WHERE id % 5 <> 0 ORDER BY id;
	UPDATE products SET stock_quantity = stock_quantity - (SELECT coalesce(sum(quantity), 0)
		FROM product_reservations r WHERE r.product_id = products.id AND r.id % 5 <> 0);
	COMMIT;"
q "$T/ref.db" "ATTACH '$K0' AS k; CREATE TABLE ref AS SELECT id, id <= 2000 AS expired,
	coalesce((SELECT -sum(qty_change) FROM k.stock_moves m WHERE m.reservation_id = r.id AND reason = 'reserved'), 0) AS took
	FROM k.product_reservations r; CREATE INDEX ref_id ON ref(id);"
is "$(q "$T/ref.db" "SELECT count(*), sum(expired), sum(took > 0) FROM ref")" "2050|2000|1640" "kill fixture: 2000 expired, 1640 took stock"
is "$(ledger_bad "$K0")" "" "kill fixture: ledger holds"
KNOW='2025-10-10 00:00:00'

# kcheck DB DIR: the invariants; prints one line per violation.
kcheck() {
	local db=$1 dir=$2
	{ {
		echo "CREATE TEMP TABLE arch(id INTEGER); CREATE INDEX temp.arch_id ON arch(id); BEGIN;"
		find "$dir" -name '*.jsonl.gz' -exec zcat {} + | jq -r .id | sed 's/.*/INSERT INTO arch VALUES (&);/'
		cat <<-EOF
		COMMIT;
		ATTACH '$T/ref.db' AS r;
		SELECT 'ledger ' || id FROM products p WHERE stock_quantity <>
			(SELECT coalesce(sum(qty_change), 0) FROM stock_moves m WHERE m.product_id = p.id);
		SELECT 'twice ' || reservation_id FROM stock_moves WHERE reason = 'reservation_expired'
			GROUP BY reservation_id HAVING count(*) > 1;
		WITH s AS (SELECT f.id, f.expired, f.took,
			EXISTS (SELECT 1 FROM main.product_reservations p WHERE p.id = f.id) AS present,
			(SELECT count(*) FROM stock_moves m WHERE m.reservation_id = f.id AND reason = 'reservation_expired') AS nexp,
			(SELECT coalesce(sum(qty_change), 0) FROM stock_moves m WHERE m.reservation_id = f.id AND reason = 'reservation_expired') AS amt,
			(SELECT count(*) FROM temp.arch a WHERE a.id = f.id) AS narch
			FROM r.ref f)
		SELECT 'row ' || id || ' expired=' || expired || ' present=' || present || ' nexp=' || nexp
			|| ' amt=' || amt || ' took=' || took || ' narch=' || narch FROM s
		WHERE (present AND nexp <> 0)
		   OR (NOT present AND (NOT expired OR nexp <> (took > 0) OR amt <> took OR narch <> 1))
		LIMIT 5;
		EOF
	} | sqlite3 -batch -bail "$db" 2>&1
	find "$dir" -name '*.jsonl.gz' | while read -r f; do gzip -t "$f" 2>/dev/null || echo "gzip -t failed: $f"; done
	} | paste -sd';'	# one line: tap.sh comments out only the first line of a multi-line "got"
}

TRIALS=${EXPIRE_TRIALS:-15}
killed=0 partial=0
for trial in $(seq 1 $TRIALS); do
	db=$T/k$trial.db dir=$T/ka$trial
	cp "$K0" "$db"
	mkdir "$dir"
	ms=$((RANDOM % 320 + 5))
	"$JOBS_BIN/$EXP" --db "$db" --archive-dir "$dir" --now "$KNOW" --batch-size 50 >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%03d' "$ms")"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	st=$?
	left=$(q "$db" "SELECT count(*) FROM product_reservations WHERE id <= 2000")
	[ "$st" -eq 137 ] && killed=$((killed + 1))
	[ "$left" -gt 0 ] && [ "$left" -lt 2000 ] && partial=$((partial + 1))
	wr=$(q "$db" "SELECT count(*) FROM archive_manifest WHERE state = 'writing'")
	echo "# trial $trial: kill -9 after ${ms} ms (exit status $st), $left of 2000 expired left, $wr unfinished archive(s)"
	is "$(kcheck "$db" "$dir")" "" "trial $trial: invariants hold after the kill"
	run $EXP --db "$db" --archive-dir "$dir" --now "$KNOW" --batch-size 50
	is "$RC" 0 "trial $trial: rerun exits 0"
	is "$(kcheck "$db" "$dir")" "" "trial $trial: invariants hold after the rerun"
	is "$(q "$db" "SELECT count(*), min(id), max(id) FROM product_reservations")" "50|2001|2050" \
		"trial $trial: all expired gone, the 50 others kept"
	is "$(q "$db" "SELECT count(*), sum(qty_change) FROM stock_moves WHERE reason = 'reservation_expired'")" \
		"$(q "$T/ref.db" "SELECT count(*), sum(took) FROM ref WHERE expired AND took > 0")" \
		"trial $trial: one compensation per reservation that took stock, in total"
	is "$(q "$db" "SELECT count(*) FROM archive_manifest WHERE state <> 'done'")" 0 "trial $trial: no 'writing' manifest rows"
	is "$( (find "$dir" -name '*.jsonl.gz' -printf '%P\n'; q "$db" "SELECT path FROM archive_manifest") | sort | uniq -u)" "" \
		"trial $trial: archive files = manifest rows (no orphan, no missing file)"
	is "$(find "$dir" -name '*.tmp' | wc -l)" 0 "trial $trial: no temporary file left"
	is "$(q "$db" "PRAGMA integrity_check")" ok "trial $trial: integrity_check ok"
done
echo "# $killed of $TRIALS runs were killed, $partial of them midway"
ok $((partial == 0)) "at least one trial was killed midway"

# ---------------------------------------------------------------------------
echo "# 8. --dry-run"
D8=$T/dry.db
base_db "$D8"
mixed_fixture "$D8" >/dev/null
mkdir "$T/a8"
FP8=$(fingerprint "$D8")
run $EXP --db "$D8" --archive-dir "$T/a8" --now "$NOW" --dry-run
is "$RC" 0 "dry-run: exit 0"
is "$(printf '%s\n' "$OUT" | grep -c 'would give back')" 4 "dry-run: one stock line per product that gets stock back"
like "$OUT" "would give back 7 to product 1 \(3 reservations\)" "dry-run: P1 gets 7 from 3"
like "$OUT" "would give back 10 to product 2 \(4 reservations\)" "dry-run: P2 gets 10 from 4"
like "$OUT" "would give back 5 to product 3 \(3 reservations\)" "dry-run: P3 gets 5 from 3"
like "$OUT" "would give back 3 to product 4 \(2 reservations\)" "dry-run: P4 gets 3 from 2"
like "$OUT" "would archive 2025-09-30: 2 rows of product_reservations" "dry-run: 2 rows of 2025-09-30"
like "$OUT" "would archive 2025-10-04: 1 rows of product_reservations" "dry-run: 1 row of 2025-10-04"
like "$OUT" "would archive 2025-10-05: 11 rows of product_reservations" "dry-run: 11 rows of 2025-10-05"
like "$OUT" "would archive 14 rows of product_reservations" "dry-run: 14 rows in all"
is "$(fingerprint "$D8")" "$FP8" "dry-run: database unchanged"
is "$(find "$T/a8" -mindepth 1 | wc -l)" 0 "dry-run: archive dir empty"

# ---------------------------------------------------------------------------
echo "# 9. idle run"
D9=$T/idle.db
base_db "$D9"
reserve "$D9" 1 1 NULL 1 "'2025-10-05 12:30:00'" 1 >/dev/null
reserve "$D9" 2 NULL "'i1'" 1 1759669200000 1 >/dev/null
mkdir "$T/a9"
FP9=$(fingerprint "$D9")
run $EXP --db "$D9" --archive-dir "$T/a9" --now "$NOW"
is "$RC" 0 "idle: exit 0"
like "$OUT" "nothing to do" "idle: says nothing to do"
is "$(fingerprint "$D9")" "$FP9" "idle: database unchanged"
times=()
for i in $(seq 1 11); do
	t0=$(date +%s%N)
	"$JOBS_BIN/$EXP" --db "$D9" --archive-dir "$T/a9" --now "$NOW" -q
	t1=$(date +%s%N)
	times+=($(( (t1 - t0) / 1000 )))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 6p)
echo "# idle run wall times (us): ${times[*]}"
echo "# idle run median of 11: $((median / 1000)).$(printf '%03d' $((median % 1000))) ms"

# ---------------------------------------------------------------------------
echo "# 10. bad input: exact exit codes, nothing changed"
DB=$T/bad.db
base_db "$DB"
mixed_fixture "$DB" >/dev/null
mkdir "$T/ab"
FPB=$(fingerprint "$DB")
unchanged() { is "$(fingerprint "$DB"):$(find "$T/ab" -mindepth 1 | wc -l)" "$FPB:0" "$1: nothing changed"; }
run $EXP --db "$DB" --archive-dir "$T/ab" --now "$NOW" --batch-size 0
is "$RC" 64 "--batch-size 0: exit 64"; like "$ERR" "batch-size" "--batch-size 0: says why"; unchanged "--batch-size 0"
run $EXP --db "$DB" --now "$NOW"
is "$RC" 64 "no --archive-dir/--no-archive: exit 64"; like "$ERR" "no-archive" "... says why"; unchanged "no archive option"
run $EXP --db "$DB" --archive-dir "$T/ab" --no-archive --now "$NOW"
is "$RC" 64 "both --archive-dir and --no-archive: exit 64"; unchanged "both archive options"
run $EXP --db "$DB" --archive-dir "$T/ab" --now "$NOW" --max-runtime 0
is "$RC" 64 "--max-runtime 0: exit 64"; unchanged "--max-runtime 0"
run $EXP --db "$DB" --archive-dir "$T/ab" --now garbage
is "$RC" 64 "--now garbage: exit 64"; unchanged "--now garbage"
run $EXP --db "$T/nope.db" --archive-dir "$T/ab" --now "$NOW"
is "$RC" 66 "missing db: exit 66"; like "$ERR" "nope.db" "missing db: names the path"
ok "$(ls "$T"/nope.db* 2>/dev/null | wc -l)" "missing db: no database or lock file created"
printf 'this is not a database, just some text padding it out to a page\n%.0s' $(seq 1 80) >"$T/junk.db"
run $EXP --db "$T/junk.db" --archive-dir "$T/ab" --now "$NOW"
is "$RC" 66 "not a database: exit 66"
"$JOBS_BIN/migrate" --db "$T/v1.db" --to 1 -q
FPV=$(fingerprint "$T/v1.db")
run $EXP --db "$T/v1.db" --archive-dir "$T/ab" --now "$NOW"
is "$RC" 78 "V1 database: exit 78"; like "$ERR" "migrate" "V1 database: says to run migrate"
is "$(fingerprint "$T/v1.db")" "$FPV" "V1 database: unchanged"
run $EXP --db "$T/v1.db" --archive-dir "$T/ab" --now "$NOW" --dry-run
is "$RC" 78 "V1 database, --dry-run: exit 78 as well"
touch "$T/afile"
run $EXP --db "$DB" --archive-dir "$T/afile" --now "$NOW"
is "$RC" 73 "archive dir is a file: exit 73"; like "$ERR" "afile" "... names it"
is "$(fingerprint "$DB")" "$FPB" "archive dir is a file: nothing changed"
run $EXP --db "$DB" --archive-dir "$T/missing" --now "$NOW"
is "$RC" 73 "archive dir missing: exit 73"; unchanged "archive dir missing"
hold_lock "$DB" $EXP
run $EXP --db "$DB" --archive-dir "$T/ab" --now "$NOW"
is "$RC" 75 "lock held: exit 75"; like "$ERR" "already running" "lock held: says so"; unchanged "lock held"
release_lock
run $EXP --db "$DB" --archive-dir "$T/ab" --now "$NOW"
is "$RC" 0 "lock released: the next run works"
is "$(ids "$DB")" "$MIXED_KEPT" "... and expires the same set"

done_testing
