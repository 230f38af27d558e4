#!/bin/bash
# make valgrind: every program, on its main paths and its error paths, under
# valgrind memcheck (wrappers made by wrap.sh): each run must exit with its
# expected code, which a memcheck error turns into 99.  The whole suite under
# valgrind takes too long for every commit; this covers each program's code
# once or twice.  Usage: smoke.sh WRAPPED-BIN-DIR
set -u
B=$1
T=$(mktemp -d "${TMPDIR:-/tmp}/jobs-valgrind.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
NOW=2025-10-07T12:00:00Z
fails=0 runs=0
expect() {	# expect RC PROGRAM ARGS...
	local want=$1 rc
	shift
	"$B/$1" "${@:2}" >out 2>err
	rc=$?
	runs=$((runs + 1))
	if [ "$rc" != "$want" ]; then
		fails=$((fails + 1))
		echo "FAIL: $* -> exit $rc, expected $want"
		sed 's/^/    /' err
	fi
}

expect 0 migrate --db s.db -q
sqlite3 s.db "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 599),
    t(i, s) AS (SELECT i, 1748131200 + (i * 7919) % 864000 FROM c)
  INSERT INTO analytics_events (id, event_type, user_id, session_id, product_id, metadata, created_at)
    SELECT 1 + i, 'e' || (i % 4), nullif(i % 13, 0), 's' || (i % 50), i % 30, CASE i % 3 WHEN 0 THEN x'00ff' WHEN 1 THEN 'x' || char(0) || 'y' ELSE 2.5 END,
      CASE i % 5 WHEN 0 THEN s WHEN 1 THEN s * 1000 WHEN 2 THEN strftime('%Y-%m-%d %H:%M:%S', s, 'unixepoch')
        WHEN 3 THEN strftime('%Y-%m-%dT%H:%M:%S', s + 19800, 'unixepoch') || '+05:30' ELSE 'garbage' END FROM t;
  INSERT INTO system_logs (id, level, message, created_at) SELECT id, 'info', 'm', created_at FROM analytics_events WHERE id <= 300;
  INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (1, 'k1', 'p', 9.5, 10);
  INSERT INTO stock_moves (product_id, delta, reason, reservation_id) VALUES (1, -2, 'reserved', 1);" 2>/dev/null
sqlite3 s.db "INSERT INTO product_reservations (id, product_id, quantity, expires_at) VALUES (1, 1, 2, '2025-10-01 00:00:00'), (2, 1, 1, '2025-10-09')"
mkdir A
expect 0 migrate --db s.db --status
expect 0 rollup_daily --db s.db --now $NOW --dry-run
expect 0 rollup_daily --db s.db --now $NOW
expect 0 rollup_daily --db s.db --now $NOW --date 2025-05-26
expect 0 prune_events --db s.db --now $NOW --archive-dir A --dry-run
expect 0 prune_events --db s.db --now $NOW --archive-dir A --batch-size 37 --metrics-file m.prom
# enough pages in the WAL to start the checkpoint thread
expect 0 migrate --db b.db -q
sqlite3 b.db "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1200)
  INSERT INTO analytics_events (id, event_type, metadata, created_at)
  SELECT i, 'big', hex(randomblob(1500)), 1751328000 + i * 60 FROM c"
mkdir B
expect 0 rollup_daily --db b.db --now $NOW
expect 0 prune_events --db b.db --now $NOW --archive-dir B --batch-size 1200
expect 0 archive_logs --db s.db --now $NOW --archive-dir A --batch-size 50
expect 0 expire_reservations --db s.db --now $NOW --archive-dir A
expect 0 jobs_status --db s.db --verify-archives --json
expect 0 restore_archive --db s.db --table analytics_events --dry-run
expect 0 restore_archive --db s.db --table analytics_events
expect 0 restore_archive --db s.db --table system_logs --from 2025-05-25 --to 2025-06-01
expect 0 prune_events --db s.db --now $NOW --archive-dir A --log-format json
expect 0 jobs_status --db s.db
f=$(find A/analytics_events -name "*.jsonl.gz" | grep -v _restored | head -1)
head -c 40 "$f" >x && cat x >"$f"
expect 65 restore_archive --db s.db --table analytics_events
expect 1 jobs_status --db s.db --verify-archives --check
expect 64 prune_events --db s.db --bogus
expect 66 rollup_daily --db missing.db
expect 73 archive_logs --db s.db --archive-dir missing
expect 65 restore_archive --db s.db --file x
expect 0 prune_events --help
# the two later programs: the stock ledger, and a retired table
expect 0 reconcile_stock --db s.db
expect 0 reconcile_stock --db s.db --fix
expect 0 reconcile_stock --db s.db --product 1
expect 65 reconcile_stock --db s.db --product 99
expect 0 migrate --db r.db --to 2 -q
sqlite3 r.db "INSERT INTO analytics (id, page, views, created_at) VALUES (1, '/', 1, '2025-01-01 10:00:00'), (2, '/', 2, NULL), (3, '/a', 3, 1735776000)"
mkdir R
expect 0 retire_table --db r.db --table analytics --archive-dir R --dry-run
expect 0 retire_table --db r.db --table analytics --archive-dir R --batch-size 1
expect 0 restore_archive --db r.db --table analytics
expect 64 retire_table --db r.db --table users --archive-dir R
expect 0 migrate --db i.db --to 2 -q
sqlite3 i.db "INSERT INTO products (id, sku, name, price, stock_quantity, image_url, additional_images) VALUES (1, 'a', 'p', 1, 1, '/a.jpg', '[\"/b.jpg\", {\"id\": \"cf\"}]'), (2, 'b', 'q', 1, 1, NULL, '{')"
expect 0 migrate --db i.db --status
expect 65 migrate --db i.db
sqlite3 i.db "UPDATE products SET additional_images = NULL WHERE id = 2"
expect 0 migrate --db i.db
# the business day: a zone set, days rolled and pruned in it
cp s.db z.db
expect 0 rollup_daily --db z.db --now $NOW --set-timezone Europe/Dublin --dry-run
expect 0 rollup_daily --db z.db --now $NOW --set-timezone Europe/Dublin --from 2025-06-10
expect 64 rollup_daily --db z.db --set-timezone Nowhere/Atlantis
expect 0 prune_events --db z.db --now $NOW --no-archive --skip-rollup-check
expect 0 jobs_status --db z.db --json

logs=$(cat "$B"/valgrind.*.log 2>/dev/null)
if [ -n "$logs" ]; then
	echo "valgrind reported:"
	printf '%s\n' "$logs" | head -50
	fails=$((fails + 1))
fi
echo "valgrind: $runs runs, $fails failed"
[ "$fails" -eq 0 ]
