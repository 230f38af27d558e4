#!/bin/bash
# reconcile_stock (SPEC 5): the drift it reports is exactly what an
# independent computation (tests/lib/stock.py, Python over the rows) finds,
# on data with every case (no moves, only 'initial', sales and returns,
# negative stock, orphan moves, products added after migration 2) and
# across its read chunks; a check changes no product and no move; --fix books
# exactly the differences, once, never changing the stock, also when killed
# with SIGKILL at random moments and when the app writes stock and moves
# during the fix; --product shows one ledger; metrics, jobs_status and bad
# input.  RECONCILE_SEED=N replays the kill times, RECONCILE_TRIALS the
# number of kills.
. "$(dirname "$0")/../lib/tap.sh"

export LC_ALL=C
unset JOBS_DB
RS=reconcile_stock
SEED=${RECONCILE_SEED:-$(( ($$ * 7 + $(date +%s)) % 32768 ))}
RANDOM=$SEED
echo "# seed $SEED (replay with RECONCILE_SEED=$SEED)"

# tap.sh has moved into the test's temporary directory; stock.py is beside it.
LIB=$(cd "$OLDPWD" && cd "$(dirname "$0")/../lib" && pwd)
[ -f "$LIB/stock.py" ] || { echo "Bail out! $LIB/stock.py not found"; exit 1; }
PY=$(python3 -c 'import sys; print(sys.executable)')
model() { "$PY" "$LIB/stock.py" model "$1"; }
parsed() { "$PY" "$LIB/stock.py" parse <"$T/.out"; }
# drift DB: "id:stock-ledger" of every drifted product, by id (plain SQL).
drift() {
	q "$1" "SELECT coalesce(group_concat(id || ':' || d, ' '), '') FROM (SELECT id,
		stock_quantity - (SELECT coalesce(sum(qty_change), 0) FROM stock_moves m
		WHERE m.product_id = p.id) AS d FROM products p ORDER BY id) WHERE d <> 0"
}
adjustments() {
	q "$1" "SELECT coalesce(group_concat(product_id || ':' || qty_change, ' '), '') FROM
		(SELECT product_id, qty_change FROM stock_moves WHERE reason = 'adjustment'
		ORDER BY product_id, id)"
}
stocks() { q "$1" "SELECT id, stock_quantity FROM products ORDER BY id" | md5sum; }
data_fp() { q "$1" "SELECT * FROM products ORDER BY id; SELECT * FROM stock_moves ORDER BY id" | md5sum; }
lines() { printf '%s\n' "$1" | grep -c -- "$2"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# qw DB SQL: q, waiting for the write lock (beside the app) as the app does.
qw() { sqlite3 -batch -bail -cmd '.timeout 10000' "$1" "$2" >/dev/null; }

# ---------------------------------------------------------------------------
echo "# 1. every case, by hand: what the check must report"
# Products 1..9 exist before migration 2, which books their 'initial' moves;
# then the app sells, returns, reserves and changes stock by hand, adds
# products 20..23, and (foreign keys off) deletes product 9 and books moves
# for products 15, 999 and 'x9' that do not exist.
D=$T/cases.db
"$JOBS_BIN/migrate" --db "$D" --to 1 -q
q "$D" "INSERT INTO users (email, name) VALUES ('u1@x', 'U1');
	INSERT INTO orders (order_number, user_id) VALUES ('O-1', 1);
	INSERT INTO products (id, sku, name, price, stock_quantity) VALUES
	(1, 'only-initial', 'p', 1, 10), (2, 'sales-returns', 'p', 1, 10),
	(3, 'sold-by-hand', 'p', 1, 10), (4, 'negative', 'p', 1, 2),
	(5, 'oversold-booked', 'p', 1, 1), (6, 'zero', 'p', 1, 0),
	(7, 'restock-unbooked', 'p', 1, 5), (8, 'reserved', 'p', 1, 6),
	(9, 'deleted', 'p', 1, 4)"
new_db "$D"
q "$D" "INSERT INTO stock_moves (product_id, order_id, reservation_id, qty_change, reason, created_at) VALUES
	(2, 1, NULL, -3, 'sale', '2025-10-01 10:00:00'), (2, NULL, NULL, 1, 'return', '2025-10-02 10:00:00'),
	(3, 1, NULL, -1, 'sale', '2025-10-01 11:00:00'), (5, 1, NULL, -3, 'sale', '2025-10-03 09:00:00'),
	(7, NULL, NULL, 3, 'restock', '2025-10-04T08:00:00Z'), (8, NULL, 1, -2, 'reserved', 1759568400);
	UPDATE products SET stock_quantity = 8 WHERE id = 2;
	UPDATE products SET stock_quantity = 7 WHERE id = 3;
	UPDATE products SET stock_quantity = -4 WHERE id = 4;
	UPDATE products SET stock_quantity = -2 WHERE id = 5;
	UPDATE products SET stock_quantity = 4 WHERE id = 8;
	INSERT INTO product_reservations (id, product_id, quantity, expires_at) VALUES (1, 8, 2, '2025-10-09 00:00:00');
	INSERT INTO products (id, sku, name, price, stock_quantity) VALUES
	(20, 'new-no-moves', 'p', 1, 5), (21, 'new-zero', 'p', 1, 0), (22, 'new-booked', 'p', 1, 4),
	(23, 'new-negative', 'p', 1, -1);
	INSERT INTO stock_moves (product_id, qty_change, reason, created_at) VALUES (22, 4, 'restock', '2025-10-05 10:00:00');
	PRAGMA foreign_keys = OFF;
	DELETE FROM products WHERE id = 9;
	INSERT INTO stock_moves (product_id, qty_change, reason, created_at) VALUES
	(15, 2, 'restock', '2025-10-05 11:00:00'), (15, -1, 'sale', '2025-10-05 12:00:00'),
	(999, 7, 'initial', '2025-10-05 13:00:00'), ('x9', -1, 'sale', '2025-10-05 14:00:00')"
is "$(drift "$D")" "3:-2 4:-6 7:-3 20:5 23:-1" "fixture: plain SQL finds products 3, 4, 7, 20 and 23 drifted"
# the 'initial' moves' times are migrate's clock
init() { q "$D" "SELECT created_at FROM stock_moves WHERE product_id = $1 AND reason = 'initial'"; }
FP=$(data_fp "$D")
run $RS --db "$D" --log-format json
is "$RC" 0 "check: exit 0 although drift was found"
is "$ERR" "" "check: nothing on stderr"
is "$(parsed)" "$(model "$D")" "check: every line equals the Python model's"
is "$(parsed | grep -v '^summary')" "drift 20 new-no-moves 5 0 +5 none 0
drift 23 new-negative -1 0 -1 none 0 oversold
drift 3 sold-by-hand 7 9 -2 2025-10-01 11:00:00 2
drift 4 negative -4 2 -6 $(init 4) 1 oversold
drift 7 restock-unbooked 5 8 -3 2025-10-04T08:00:00Z 2
orphan 15 2 +1 2025-10-05 12:00:00
orphan 9 1 +4 $(init 9)
orphan 999 1 +7 2025-10-05 13:00:00
orphan x9 1 -1 2025-10-05 14:00:00
oversold 5 oversold-booked -2" "check: the drifted, oversold and orphan lines, as worked out by hand"
like "$OUT" '"msg":"checked 12 products and 15 moves: 5 drifted from the ledger \(net -7 units\), 3 oversold, 5 orphan moves naming 4 missing products; [0-9.]+ s"' \
	"check: the summary line's counts"
is "$(data_fp "$D")" "$FP" "check: no product and no move changed"
is "$(q "$D" "SELECT job, status, exit_code, rows, window_start, window_end FROM job_runs WHERE job = '$RS'")" \
	"$RS|ok|0|0|1|23" "check: job_runs holds the run (rows 0, products 1..23)"
is "$(q "$D" "SELECT json_extract(value, '$.complete'), json_extract(value, '$.products'),
	json_extract(value, '$.drifted'), json_extract(value, '$.fixed'), json_extract(value, '$.oversold'),
	json_extract(value, '$.orphan_moves'), json_extract(value, '$.orphan_products'),
	json_extract(value, '$.checked_at') GLOB '20[0-9][0-9]-*Z' FROM jobs_meta WHERE key = 'reconcile_stock.drift'")" \
	"1|12|5|0|3|5|4|1" "check: jobs_meta keeps the outcome for jobs_status"
run $RS --db "$D" -q
is "$RC|$OUT|$ERR" "0||" "-q: silent, exit 0"

# --product: the ledger move by move, the running sum, the difference.
RUNS=$(q "$D" "SELECT count(*) FROM job_runs")
run $RS --db "$D" --product 2
is "$RC|$ERR" "0|" "--product 2: exit 0"
is "$(printf '%s\n' "$OUT" | sed 's/  */ /g')" "reconcile_stock: product 2 (sku 'sales-returns'), its ledger oldest first:
reconcile_stock: move time reason qty sum order or reservation
reconcile_stock: 2 $(init 2) initial +10 10
reconcile_stock: 10 2025-10-01 10:00:00 sale -3 7 order 1
reconcile_stock: 11 2025-10-02 10:00:00 return +1 8
reconcile_stock: product 2: stock 8, ledger 8 (3 moves): in step" "--product 2: each move with its running sum, then in step"
run $RS --db "$D" --product 8
like "$OUT" "reserved +-2 +4  reservation 1$" "--product 8: a reservation's move names the reservation"
like "$OUT" "1759568400 +reserved" "--product 8: a time stored as Unix seconds is shown as stored"
run $RS --db "$D" --product 4
like "$OUT" "product 4: stock -4, ledger 2 \(1 moves\): the stock is 6 below its ledger, changed without a move \(reconcile_stock --fix books the difference\); oversold$" \
	"--product 4: 6 below its ledger, oversold"
run $RS --db "$D" --product 20
like "$OUT" "product 20 \(sku 'new-no-moves'\) has no stock moves: its ledger is 0" "--product 20: no moves"
like "$OUT" "product 20: stock 5, ledger 0 \(0 moves\): the stock is 5 above its ledger" "--product 20: 5 above"
run $RS --db "$D" --product 4242
is "$RC|$OUT|$ERR" "65||reconcile_stock: product 4242 does not exist (and no stock move names it)" \
	"--product of an unknown product: exit 65, one line"
run $RS --db "$D" --product 15
is "$RC|$OUT|$ERR" "65||reconcile_stock: product 15 does not exist, but 2 stock moves (sum +1) name it: orphan moves" \
	"--product of a missing product with moves: 65, one line that counts them"
for bad in abc -1 3.5 '' ' 3' 99999999999999999999; do
	run $RS --db "$D" --product "$bad"
	is "$RC|$OUT|$(printf '%s\n' "$ERR" | grep -c .)" "64||1" "--product '$bad': exit 64, one line"
done
like "$ERR" "^reconcile_stock: --product: '99999999999999999999' is not a product id" "... naming the value"
run $RS --db "$D" --product 2 --fix
is "$RC|$OUT|$ERR" "64||reconcile_stock: --product shows one product's ledger; it cannot be combined with --fix" \
	"--product with --fix: 64, one line"
is "$(data_fp "$D")" "$FP" "--product: nothing changed"
is "$(q "$D" "SELECT count(*) FROM job_runs")" "$RUNS" "--product: no run recorded"

# --fix --dry-run: says what --fix would book, changes nothing at all.
FPALL=$(fingerprint "$D")
run $RS --db "$D" --fix --dry-run
is "$RC" 0 "--fix --dry-run: exit 0"
like "$OUT" "product 3 \(sku 'sold-by-hand'\): stock 7, ledger 9, difference -2, last move 2025-10-01 11:00:00 \(2 moves\); --fix would book -2" \
	"--fix --dry-run: product 3 would get -2"
is "$(lines "$OUT" 'difference .*; --fix would book ')" 5 "--fix --dry-run: one line per drifted product"
like "$OUT" "; --fix would book 5 adjustments \(net -7 units\); " "--fix --dry-run: the summary"
is "$(fingerprint "$D")" "$FPALL" "--fix --dry-run: the database is unchanged (job_runs, jobs_meta too)"

# --fix: one adjustment of the difference each; then nothing is left.
run $RS --db "$D" --fix
is "$RC" 0 "--fix: exit 0"
like "$OUT" "booked 5 adjustments \(net -7 units\)" "--fix: the summary counts 5 adjustments"
is "$(adjustments "$D")" "3:-2 4:-6 7:-3 20:5 23:-1" "--fix: exactly the differences, one move each"
is "$(q "$D" "SELECT count(*) FROM stock_moves WHERE reason = 'adjustment' AND (order_id IS NOT NULL OR reservation_id IS NOT NULL OR created_at IS NULL)")" 0 \
	"--fix: adjustments name no order or reservation and have a time"
is "$(drift "$D")" "" "--fix: every product in step with its ledger"
is "$(q "$D" "SELECT id, stock_quantity FROM products ORDER BY id" | paste -sd' ')" \
	"1|10 2|8 3|7 4|-4 5|-2 6|0 7|5 8|4 20|5 21|0 22|4 23|-1" "--fix: no stock changed"
is "$(q "$D" "SELECT status, rows FROM job_runs ORDER BY id DESC LIMIT 1")" "ok|5" "--fix: job_runs rows = adjustments"
is "$(q "$D" "SELECT json_extract(value, '$.drifted') || ' ' || json_extract(value, '$.fixed') FROM jobs_meta WHERE key = 'reconcile_stock.drift'")" \
	"5 5" "--fix: jobs_meta says 5 drifted, 5 fixed"
run $RS --db "$D" --log-format json
is "$(parsed)" "$(model "$D")" "check after --fix: equals the model again"
like "$OUT" "checked 12 products and 20 moves: 0 drifted from the ledger \(net \+0 units\), 3 oversold, 5 orphan moves naming 4 missing products" \
	"check after --fix: no drift; the oversold and the orphans stay (no fix changes them)"
N=$(q "$D" "SELECT count(*) FROM stock_moves")
run $RS --db "$D" --fix
is "$RC|$(q "$D" "SELECT count(*) FROM stock_moves")" "0|$N" "a second --fix books nothing"
like "$OUT" "booked 0 adjustments" "... and says so"

# ---------------------------------------------------------------------------
echo "# 2. 25 000 products over three read chunks, with orphans at the chunk boundary"
B=$T/big.db
new_db "$B"
q "$B" "BEGIN;
	WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 25000)
	INSERT INTO products (id, sku, name, price, stock_quantity) SELECT i, 'B' || i, 'b', 1, 0 FROM c;
	INSERT INTO stock_moves (product_id, qty_change, reason, created_at)
	SELECT id, 20 + id % 17, 'initial', '2025-07-07 00:00:00' FROM products WHERE id % 11 <> 0;
	WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n < 99999)
	INSERT INTO stock_moves (product_id, order_id, qty_change, reason, created_at)
	SELECT 1 + (n * 7919) % 25000, NULL, (n % 7) - 4,
		CASE WHEN n % 7 < 4 THEN 'sale' WHEN n % 7 = 4 THEN 'restock' ELSE 'return' END,
		CASE n % 3 WHEN 0 THEN datetime(1751846400 + n * 77, 'unixepoch')
			WHEN 1 THEN strftime('%Y-%m-%dT%H:%M:%SZ', 1751846400 + n * 77, 'unixepoch')
			ELSE 1751846400 + n * 77 END FROM c;
	UPDATE products SET stock_quantity = (SELECT coalesce(sum(qty_change), 0) FROM stock_moves m
		WHERE m.product_id = products.id) + CASE WHEN id % 13 = 0 THEN id % 5 - 2 ELSE 0 END;
	UPDATE products SET stock_quantity = stock_quantity + 3 WHERE id % 4001 = 0;
	COMMIT"
# Deleted products leave orphans: 777, 24999 and 25000, then the product
# after the 10 000th (A), so that its moves and a real-valued product_id
# (A + 0.5) fall between the first read chunk and the second.
q "$B" "PRAGMA foreign_keys = OFF; DELETE FROM products WHERE id IN (777, 24999, 25000)"
A=$(q "$B" "SELECT id FROM products ORDER BY id LIMIT 1 OFFSET 9999")
q "$B" "PRAGMA foreign_keys = OFF; DELETE FROM products WHERE id = $A + 1;
	INSERT INTO stock_moves (product_id, qty_change, reason) VALUES ($A + 0.5, 1, 'sale'), (30000, -2, 'sale')"
is "$(q "$B" "SELECT count(*), (SELECT count(*) FROM stock_moves), (SELECT typeof(product_id) FROM stock_moves WHERE product_id = $A + 0.5) FROM products")" \
	"24996|122730|real" "fixture: 24 996 products, 122 730 moves, an orphan with a real product_id"
FPB=$(data_fp "$B")
run $RS --db "$B" --log-format json
is "$RC" 0 "check: exit 0"
M=$(model "$B")
is "$(parsed)" "$M" "check: every line equals the Python model's"
like "$(printf '%s\n' "$M" | tail -1)" "drifted [0-9]{4} .* orphan_moves [0-9]+ orphan_products 6$" \
	"... thousands drifted, orphans of 6 missing products (one between the chunks, one real-valued)"
is "$(data_fp "$B")" "$FPB" "check: no product and no move changed"
run $RS --db "$B"
ND=$(printf '%s\n' "$M" | sed -n 's/.* drifted \([0-9]*\) .*/\1/p')
is "$(lines "$OUT" ', difference ')" 20 "text: 20 drifted products listed"
NO=$(printf '%s\n' "$M" | grep -c '^oversold ')
is "$(lines "$OUT" ': oversold, stock ')" 20 "text: 20 oversold products whose ledger agrees listed"
like "$OUT" "reconcile_stock: \.\.\. and $((NO - 20)) more oversold products whose ledger agrees" \
	"text: says how many more ($((NO - 20)))"
is "$(lines "$OUT" '^reconcile_stock: \.\.\. and ')" 2 "text: no other 'and more' line"
like "$OUT" "reconcile_stock: \.\.\. and $((ND - 20)) more drifted products \(--log-format json lists every one\)" \
	"text: says how many more ($((ND - 20)))"
is "$(lines "$OUT" 'which does not exist')" 6 "text: the 6 orphan groups (under the cap)"
EXPECT=$(printf '%s\n' "$M" | sed -n 's/^drift \([0-9]*\) [^ ]* [-0-9]* [-0-9]* \([-+0-9]*\) .*/\1:\2/p' | sort -n | sed 's/:+/:/' | paste -sd' ')
run $RS --db "$B" --fix --batch-size 7 -v
is "$RC" 0 "--fix --batch-size 7: exit 0"
like "$OUT" "booked $ND adjustments" "--fix: $ND adjustments booked"
is "$(adjustments "$B")" "$EXPECT" "--fix: one adjustment per drifted product, of the model's difference"
is "$(drift "$B")" "" "--fix: no drift left"
like "$OUT" "longest write transaction: [0-9]+ ms" "-v: the longest write transaction"

# ---------------------------------------------------------------------------
echo "# 3. metrics file and jobs_status"
S=$T/status.db
cp "$D" "$S"
q "$S" "UPDATE products SET stock_quantity = stock_quantity + 2 WHERE id IN (1, 2)"
run rollup_daily --db "$S" -q
run prune_events --db "$S" --no-archive -q
run archive_logs --db "$S" --no-archive -q
run expire_reservations --db "$S" --no-archive -q
run $RS --db "$S" --metrics-file m.prom -q
is "$RC" 0 "check with --metrics-file: exit 0"
metric() { sed -n "s/^shop_job_$1{job=\"reconcile_stock\"} //p" m.prom; }
like "$(head -1 m.prom)" "^# HELP shop_job_last_run_timestamp_seconds " "metrics: the standard first line"
is "$(metric stock_drifted_products) $(metric stock_oversold_products) $(metric stock_orphan_moves) $(metric rows) $(metric success)" \
	"2 3 5 0 1" "metrics: 2 drifted, 3 oversold, 5 orphan moves; rows 0, success"
is "$(grep -c '^# TYPE shop_job_stock_[a-z_]* gauge$' m.prom)|$(grep -c '^# HELP shop_job_stock_' m.prom)" "3|3" \
	"metrics: each gauge with its HELP and TYPE lines"
is "$(grep -v '^#' m.prom | cut -d'{' -f1 | tail -5 | paste -sd' ')" \
	"shop_job_duration_seconds shop_job_stock_drifted_products shop_job_stock_oversold_products shop_job_stock_orphan_moves shop_job_backlog" \
	"metrics: the job's gauges come after the standard ones, then the backlog"
is "$(metric backlog)" 2 "metrics: the backlog is the 2 drifted products"
run jobs_status --db "$S"
like "$OUT" "reconcile_stock +[0-9-]+ [0-9:]+ +ok +0 .* 2 products drifted from the ledger" "jobs_status: the drift in the table"
like "$(printf '%s\n' "$OUT" | grep -A1 '^stock ledger:' | paste -sd' ')" \
	"^stock ledger: checked 12 products at [0-9T:.-]+Z:   2 drifted from the ledger \(0 fixed, 2 not\), 3 oversold, 5 orphan moves naming 4 missing products$" \
	"jobs_status: the stock ledger line"
run jobs_status --db "$S" --check
is "$RC" 1 "jobs_status --check: exit 1 while the drift is not fixed"
like "$OUT" "reconcile_stock: the check at .* found 2 products whose stock drifted from the ledger, not fixed" \
	"jobs_status --check: names the problem"
is "$(printf '%s\n' "$OUT" | grep -c '^  [a-z_]*: ')" 1 "... and it is the only problem"
run jobs_status --db "$S" --json
is "$(printf '%s' "$OUT" | jq -c '.jobs[] | select(.job == "reconcile_stock") | [.drift.drifted, .drift.fixed, .drift.unfixed, .drift.oversold, .drift.orphan_moves, .drift.complete, .behind.count]')" \
	"[2,0,2,3,5,true,2]" "jobs_status --json: the drift object"
run $RS --db "$S" --fix --metrics-file m.prom -q
is "$(metric stock_drifted_products) $(metric rows)" "0 2" "metrics after --fix: 0 drifted left, 2 rows"
run jobs_status --db "$S" --check
is "$RC" 0 "jobs_status --check: exit 0 once fixed"
like "$OUT" "\(2 fixed, 0 not\)" "jobs_status: 2 fixed"
q "$S" "UPDATE products SET stock_quantity = stock_quantity - 1 WHERE id = 6"
run $RS --db "$S" -q
run jobs_status --db "$S" --check
is "$RC" 1 "new drift found by the next check: --check fails again"
run $RS --db "$S" --dry-run --fix -q
run jobs_status --db "$S" --check
is "$RC" 1 "a --dry-run --fix fixes nothing: still failing"

# ---------------------------------------------------------------------------
echo "# 4. --max-runtime: a clean stop, the drift not all fixed"
# Each chunk's fix waits 1.2 s (the test knob): the first chunk is fixed
# within the 2 s, the second is read and then the run stops.
q "$B" "UPDATE products SET stock_quantity = stock_quantity + 1 WHERE id % 97 = 0"
JOBS_TEST_FIX_PAUSE_MS=1200 run $RS --db "$B" --fix --max-runtime 2
is "$RC" 0 "stopped at --max-runtime: exit 0"
like "$OUT" "stopped at --max-runtime after checking up to product [0-9]+, [0-9]+ drifted products left unfixed \(the next run starts over\)" \
	"the summary says where it stopped"
is "$(q "$B" "SELECT status FROM job_runs ORDER BY id DESC LIMIT 1")|$(q "$B" "SELECT json_extract(value, '$.complete') FROM jobs_meta WHERE key = 'reconcile_stock.drift'")" \
	"stopped|0" "job_runs: stopped; jobs_meta: not complete"
is "$(drift "$B" | tr ' ' '\n' | awk -F: -v a="$A" '$1 <= a' | wc -l)|$(drift "$B" | wc -w)" \
	"0|$(q "$B" "SELECT count(*) FROM products WHERE id % 97 = 0 AND id > $A")" \
	"the first chunk's products are fixed, those after it are not"
run jobs_status --db "$B" --check
is "$RC" 1 "jobs_status --check: a partial check with drift left fails"
like "$(printf '%s\n' "$OUT" | grep -A1 '^stock ledger:' | paste -sd' ')" \
	"^stock ledger: checked 20000 products \(stopped before the end\) at .*:   [0-9]+ drifted from the ledger \([0-9]+ fixed, [1-9][0-9]* not\)" \
	"jobs_status: says the check stopped before the end"
run $RS --db "$B" --fix
is "$RC|$(drift "$B")" "0|" "the next run fixes the rest"

# ---------------------------------------------------------------------------
echo "# 5. kill -9 at random moments of --fix, then rerun"
K0=$T/kill0.db
new_db "$K0"
q "$K0" "BEGIN;
	WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 30000)
	INSERT INTO products (id, sku, name, price, stock_quantity) SELECT i, 'K' || i, 'k', 1,
		10 + i % 9 + CASE WHEN i % 7 = 0 THEN i % 5 - 2 ELSE 0 END FROM c;
	INSERT INTO stock_moves (product_id, qty_change, reason) SELECT id, 10 + id % 9, 'initial' FROM products;
	COMMIT"
q "$T/kref.db" "ATTACH '$K0' AS k; CREATE TABLE ref AS SELECT id, stock_quantity AS stock,
	stock_quantity - (SELECT sum(qty_change) FROM k.stock_moves m WHERE m.product_id = p.id) AS d
	FROM k.products p; CREATE INDEX ref_id ON ref(id)"
is "$(q "$T/kref.db" "SELECT count(*) FILTER (WHERE d <> 0) FROM ref")" 3428 "kill fixture: 3428 of 30 000 products drifted"
# kcheck DB: the invariants, one line per violation: the stock never
# changes; a product has at most one adjustment, and it is the difference
# it had; each product is either adjusted and in step, or untouched.
kcheck() {
	q "$1" "ATTACH '$T/kref.db' AS r;
	SELECT 'stock changed ' || p.id FROM products p JOIN r.ref f ON f.id = p.id WHERE p.stock_quantity <> f.stock LIMIT 3;
	SELECT 'twice ' || product_id FROM stock_moves WHERE reason = 'adjustment' GROUP BY product_id HAVING count(*) > 1 LIMIT 3;
	SELECT 'wrong ' || m.product_id || ' ' || m.qty_change || ' for ' || f.d FROM stock_moves m JOIN r.ref f ON f.id = m.product_id
		WHERE m.reason = 'adjustment' AND m.qty_change <> f.d LIMIT 3;
	SELECT 'product ' || f.id || ' neither' FROM r.ref f WHERE f.stock - (SELECT sum(qty_change) FROM stock_moves m WHERE m.product_id = f.id)
		NOT IN (0, f.d) LIMIT 3;
	SELECT 'in step without adjustment ' || f.id FROM r.ref f WHERE f.d <> 0 AND NOT EXISTS (SELECT 1 FROM stock_moves m WHERE m.product_id = f.id
		AND m.reason = 'adjustment') AND f.stock = (SELECT sum(qty_change) FROM stock_moves m WHERE m.product_id = f.id) LIMIT 3;" 2>&1 | paste -sd';'
}
cp "$K0" kref-run.db
t0=$(now_ms)
run $RS --db kref-run.db --fix --batch-size 10
REF_MS=$(( $(now_ms) - t0 ))
is "$RC|$(kcheck kref-run.db)|$(drift kref-run.db)" "0||" "reference run: exit 0, every product in step (${REF_MS} ms)"
TRIALS=${RECONCILE_TRIALS:-12}
killed=0 partial=0
for trial in $(seq 1 "$TRIALS"); do
	db=$T/k$trial.db
	cp "$K0" "$db"
	r=$RANDOM
	wait_s=$(awk -v r="$r" -v ms="$REF_MS" 'BEGIN { printf "%.3f", r / 32768 * ms / 1000 }')
	"$JOBS_BIN/$RS" --db "$db" --fix --batch-size 10 >/dev/null 2>&1 &
	pid=$!
	sleep "$wait_s"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	st=$?
	n=$(q "$db" "SELECT count(*) FROM stock_moves WHERE reason = 'adjustment'")
	[ "$st" -eq 137 ] && killed=$((killed + 1))
	[ "$n" -gt 0 ] && [ "$n" -lt 3428 ] && partial=$((partial + 1))
	echo "# trial $trial: kill -9 after ${wait_s} s (exit status $st), $n of 3428 adjustments booked"
	is "$(kcheck "$db")" "" "trial $trial: right after the kill, each product adjusted once by its difference, or untouched"
	run $RS --db "$db" --fix --batch-size 10
	is "$RC" 0 "trial $trial: the rerun exits 0"
	like "$OUT" "booked $((3428 - n)) adjustments" "trial $trial: the rerun books the $((3428 - n)) left"
	is "$(kcheck "$db")|$(drift "$db")" "|" "trial $trial: then every product is in step, each with one adjustment"
	is "$(q "$db" "SELECT count(*) FROM stock_moves WHERE reason = 'adjustment'")" 3428 "trial $trial: 3428 adjustments in all"
	is "$(q "$db" "SELECT count(*) FROM job_runs WHERE status = 'running'")|$(q "$db" "PRAGMA integrity_check")" "0|ok" \
		"trial $trial: no run left 'running'; integrity_check ok"
done
echo "# $killed of $TRIALS runs were killed, $partial of them midway"
ok $((partial == 0)) "at least one trial was killed midway"
run $RS --db "$T/k1.db" --fix
is "$RC|$(q "$T/k1.db" "SELECT count(*) FROM stock_moves WHERE reason = 'adjustment'")" "0|3428" "a further --fix books nothing"

# ---------------------------------------------------------------------------
echo "# 6. the app writes stock and moves during --fix"
# Triggers (the test's, not the project's) write every stock change and
# every move into hist in commit order; stock.py replay checks that each
# adjustment was the difference at the moment it was booked.
P=$T/app.db
new_db "$P"
q "$P" "BEGIN;
	WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000)
	INSERT INTO products (id, sku, name, price, stock_quantity) SELECT i, 'A' || i, 'a', 1,
		50 + CASE WHEN i % 4 = 0 THEN 1 + i % 3 ELSE 0 END FROM c;
	INSERT INTO stock_moves (product_id, qty_change, reason) SELECT id, 50, 'initial' FROM products;
	CREATE TABLE hist (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, product_id INTEGER,
		stock INTEGER, qty INTEGER, reason TEXT);
	CREATE TRIGGER hist_stock AFTER UPDATE OF stock_quantity ON products BEGIN
		INSERT INTO hist (kind, product_id, stock) VALUES ('stock', NEW.id, NEW.stock_quantity); END;
	CREATE TRIGGER hist_move AFTER INSERT ON stock_moves BEGIN
		INSERT INTO hist (kind, product_id, qty, reason) VALUES ('move', NEW.product_id, NEW.qty_change, NEW.reason); END;
	CREATE TABLE start AS SELECT id AS product_id, stock_quantity AS stock,
		(SELECT sum(qty_change) FROM stock_moves m WHERE m.product_id = p.id) AS ledger FROM products p;
	COMMIT"
is "$(drift "$P" | wc -w)" 750 "app fixture: 750 of 3000 products drifted"
rm -f stop
"$PY" "$LIB/stock.py" app "$P" stop "$SEED" >app.out 2>app.err &
app=$!
sleep 0.3
qw "$P" "INSERT INTO hist (kind) VALUES ('fix_start')"
JOBS_TEST_FIX_PAUSE_MS=200 run $RS --db "$P" --fix --batch-size 5 -v --busy-timeout 10000
qw "$P" "INSERT INTO hist (kind) VALUES ('fix_end')"
sleep 0.2
touch stop
wait "$app"
is "$RC" 0 "--fix beside the app: exit 0"
echo "# app: $(cat app.out) transactions; $(printf '%s\n' "$OUT" | grep -o 'booked [0-9]* adjustments.*')"
like "$OUT" "; the app changed [1-9][0-9]* of them between the check and the fix: [0-9]+ booked as re-read, [0-9]+ needed none by then" \
	"the race happened: the app changed drifted products between the check and the fix"
ok $([ "$(grep -c 'in the fix.s transaction (an app write in between)' .out)" -gt 0 ]; echo $?) "-v names those products"
is "$("$PY" "$LIB/stock.py" replay "$P" 2>replay.err)" "" \
	"replay: every adjustment was the difference when booked, none twice, every product in step at some moment of the run"
echo "$(cat replay.err)"
is "$(cat app.err)" "" "the app saw no error"
run $RS --db "$P" --log-format json
is "$(parsed)" "$(model "$P")" "the check after the app stopped: equals the model (the app's later changes)"
run $RS --db "$P" --fix
is "$RC|$(drift "$P")" "0|" "a last --fix puts every product in step"

# ---------------------------------------------------------------------------
echo "# 7. bad input: exit codes, one line, nothing changed"
cp "$D" bad.db
printf 'not a database, just text\n' >notdb.db
q plain.db "CREATE TABLE t (a)"
"$JOBS_BIN/migrate" --db v1.db --to 1 -q
case_() {	# case_ RC ARGS...: exit RC, one stderr line naming the program, nothing changed
	local want=$1 before
	shift
	before=$(fingerprint bad.db)
	run $RS "$@"
	is "$RC|$(printf '%s\n' "$ERR" | grep -c .)" "$want|1" "$*: exit $want, one line"
	like "$ERR" "^$RS: " "$*: the line names the program"
	is "$(fingerprint bad.db)" "$before" "$*: nothing changed"
}
case_ 64 --db bad.db --bogus
case_ 64 --db bad.db extra
case_ 64 --db bad.db --batch-size 0
case_ 64 --db bad.db --fix --batch-size 10000001
case_ 64 --db bad.db --max-runtime 0
case_ 64 --db bad.db --now 2025-10-05T00:00:00Z
case_ 64 --db bad.db --archive-dir A
case_ 64 --db bad.db --log-format xml
case_ 64 --db bad.db -q -v
case_ 64 --db bad.db --product
case_ 64 --fix
case_ 66 --db missing.db
case_ 66 --db missing.db --product 1
case_ 66 --db notdb.db --fix
case_ 78 --db plain.db
case_ 78 --db v1.db --fix
case_ 78 --db v1.db --product 1
hold_lock bad.db $RS
case_ 75 --db bad.db
case_ 75 --db bad.db --fix
like "$ERR" "already running" "lock held: says so"
run $RS --db bad.db --product 3
is "$RC" 0 "--product while another instance runs: it takes no lock (exit 0)"
run $RS --db bad.db --dry-run --fix
is "$RC" 0 "--dry-run while another instance runs: no lock either (exit 0)"
release_lock
run $RS --db bad.db --fix -q
is "$RC|$(drift bad.db)" "0|" "lock released: --fix works"
# Without its index the ledger would be sorted in a temporary b-tree of every
# move: the job says so instead (INDEXED BY).
cp bad.db noindex.db
q noindex.db "DROP INDEX idx_stock_moves_product_id"
run $RS --db noindex.db
is "$RC|$OUT|$(printf '%s\n' "$ERR" | grep -c .)" "70||1" "index dropped: exit 70, one line"
like "$ERR" "no such index: idx_stock_moves_product_id" "... naming the index"

# ---------------------------------------------------------------------------
echo "# 8. progress on a terminal, never otherwise"
if command -v script >/dev/null 2>&1; then
	cp "$K0" tty.db
	JOBS_TEST_PROGRESS_MS=1 script -qfec "$JOBS_BIN/$RS --db tty.db" /dev/null >tty.out 2>&1
	like "$(tr '\r' '\n' <tty.out | grep -a 'of ~30000 products' | head -1)" \
		"reconcile_stock: [0-9]+ of ~30000 products, [0-9]+/s, ETA [0-9]+:[0-9][0-9]" \
		"on a terminal: products done of the total, rate and ETA"
else
	skip "script not installed"
fi
run $RS --db tty.db
is "$RC|$(printf '%s%s' "$OUT" "$ERR" | grep -c $'\r')" "0|0" "not on a terminal (cron): no progress line"

done_testing
