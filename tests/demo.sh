#!/bin/sh
# make demo: build a demo database as the app left it (V1), migrate it, and
# run every job on it as cron would on the night of 2025-10-05, showing what
# each did.  Everything lives under demo/ (git-ignored); rerunning starts over.
set -eu
bin=$1
now=2025-10-05T03:00:00Z
here=$(cd "$(dirname "$0")" && pwd)
rm -rf demo && mkdir -p demo/archive
db=demo/shop.db
step() { printf '\n== %s\n' "$*"; }

step "the database as the app left it: schema V1, 120 days of events, logs, carts"
"$bin/migrate" --db $db --to 1
sqlite3 $db < "$here/data/demo-v1.sql"
sqlite3 $db "SELECT count(*) || ' events, ' || (SELECT count(*) FROM system_logs) || ' log lines, ' || (SELECT count(*) FROM product_reservations) || ' reservations' FROM analytics_events"
"$bin/migrate" --db $db --status

step "migrate: indexes, UNIQUE carts (duplicates merged), stock ledger, rollup tables"
# Migration 3 drops the legacy analytics table only once it is empty: this
# run stops there (65), after migration 2.
"$bin/migrate" --db $db || echo "(migrate exited $?: the legacy table first)"
sqlite3 $db < "$here/data/demo-app.sql"

step "retire_table: the legacy analytics table archived, then migration 3 (images backfilled, table dropped)"
"$bin/retire_table" --db $db --table analytics --archive-dir demo/archive
"$bin/migrate" --db $db
sqlite3 -header -column $db "SELECT product_id, coalesce(cloudflare_id, '') AS cloudflare_id, url FROM images WHERE product_id = 5 ORDER BY id"

step "rollup_daily: every complete day up to $now"
"$bin/rollup_daily" --db $db --now $now
sqlite3 -header -column $db "SELECT date, event_type, count, unique_users, unique_sessions FROM analytics_daily ORDER BY date DESC, event_type LIMIT 8"

step "prune_events --dry-run, then for real (90 days kept)"
"$bin/prune_events" --db $db --now $now --archive-dir demo/archive --dry-run | tail -n 3
"$bin/prune_events" --db $db --now $now --archive-dir demo/archive

step "archive_logs (30 days kept)"
"$bin/archive_logs" --db $db --now $now --archive-dir demo/archive

step "the archive tree (Hive partitions, one gzip JSON Lines file per batch)"
find demo/archive -type d -name 'date=*' | sort | sed -n '1,3p;$p'
echo "... $(find demo/archive -name '*.jsonl.gz' | wc -l) files; one row:"
f=$(find demo/archive/analytics_events -name '*.jsonl.gz' | sort | head -n 1)
gzip -dc "$f" | head -n 1

step "expire_reservations: stock before and after"
q="SELECT p.id AS product, p.stock_quantity AS stock, (SELECT sum(qty_change) FROM stock_moves m WHERE m.product_id = p.id) AS ledger FROM products p WHERE p.id BETWEEN 3 AND 7"
sqlite3 -header -column $db "$q"
"$bin/expire_reservations" --db $db --now $now --archive-dir demo/archive
sqlite3 -header -column $db "$q"

step "reconcile_stock: stock the app changed without a move, found, explained and fixed"
# The app sells product 11 through the ledger (a move and the stock, in one
# transaction), then sells 2 of product 12 (stock 1) without booking a move.
sqlite3 $db "BEGIN; UPDATE products SET stock_quantity = stock_quantity - 1 WHERE id = 11;
  INSERT INTO stock_moves (product_id, qty_change, reason) VALUES (11, -1, 'sale'); COMMIT;
  UPDATE products SET stock_quantity = stock_quantity - 2 WHERE id = 12;"
"$bin/reconcile_stock" --db $db
"$bin/reconcile_stock" --db $db --product 12
"$bin/reconcile_stock" --db $db --fix
"$bin/reconcile_stock" --db $db --product 12 | tail -n 2

step "restore_archive: one archived day back into analytics_events, then out again"
day=$(basename "$(dirname "$f")" | sed 's/date=//')
"$bin/restore_archive" --db $db --table analytics_events --date "$day"
echo "restored files now under: $(find demo/archive -type d -name _restored)"
"$bin/prune_events" --db $db --now $now --archive-dir demo/archive -q --skip-rollup-check

step "jobs_status: the last run of every job, and how far behind each is"
"$bin/jobs_status" --db $db --now $now --verify-archives

step "job_runs: what happened, as the on-call engineer would read it"
sqlite3 -header -column $db "SELECT job, status, rows, window_start, window_end FROM job_runs ORDER BY id"
"$bin/migrate" --db $db --status
echo
echo "demo database: $db (try: $bin/rollup_daily --db $db --now $now --dry-run)"
