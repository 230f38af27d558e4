#!/bin/bash
# reconcile_stock against SPEC 7 (make bench runs it; it runs alone too):
#   1. the check of 100 000 products with 2 000 000 stock moves, against one
#      naive GROUP BY join computing the same drift (medians of BENCH_RUNS
#      runs, alternating), with the peak memory of each;
#   2. --fix of the 10 000 drifted products beside the app writer
#      (bench/appwriter.c: one insert per transaction, 200/s, busy timeout
#      5 s), with the longest write transaction the job held and the app's
#      insert latencies.
#   BENCH_SCALE  fraction of the data set (default 1)
#   BENCH_RUNS   runs of each timing (default 3)
# The data (bench/gen-stock.sql) is made once, cached in bench/data/reconcile/.
# Needs sqlite3, gcc and GNU time (/usr/bin/time).  Usage: reconcile.sh BINDIR
set -euo pipefail
bin=$(cd "$1" && pwd)
scale=${BENCH_SCALE:-1}
runs=${BENCH_RUNS:-3}
here=$(cd "$(dirname "$0")" && pwd)
work=$here/data/reconcile
mkdir -p "$work"
cd "$work"

. "$here/lib.sh"
# timed OUT CMD...: wall seconds and peak RSS (KB) of CMD into OUT as "s kb"
timed() { local out=$1; shift; /usr/bin/time -f "%e %M" -o "$out" "$@"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
lat() {	# lat CSV FROM TO: p50 p99 max (ms) and failures of the app writer's
	# inserts started between FROM and TO seconds after it started
	awk -F, -v f="$2" -v t="$3" '$1 >= f && $1 <= t { print $2 }' "$1" | sort -n |
	    awk '{ a[NR] = $1 } END { printf "%d inserts, p50 %.2f ms, p99 %.2f ms, max %.1f ms",
	    NR, a[int(NR * 0.5)], a[int(NR * 0.99)], a[NR] }'
	printf ', %s failed\n' "$(awk -F, -v f="$2" -v t="$3" '$1 >= f && $1 <= t && $3 == 0' "$1" | wc -l)"
}
app=""
stop_app() { [ -z "$app" ] || { kill "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true; app=""; }; }
trap stop_app EXIT
trap 'exit 130' INT TERM

products=$(awk -v s="$scale" 'BEGIN { printf "%d", 100000 * s }')
moves=$(awk -v s="$scale" 'BEGIN { printf "%d", 2000000 * s }')
src=stock-$products.db
if [ ! -f "$src" ]; then
	say "generating $products products with $moves stock moves..."
	rm -f gen.db gen.db-wal gen.db-shm
	"$bin/migrate" --db gen.db -q
	sqlite3 gen.db "CREATE TEMP TABLE p(products, moves); INSERT INTO p VALUES ($products, $moves);" \
	    ".read $here/gen-stock.sql"
	mv gen.db "$src"
fi

# The naive way: one join, grouped by product, the same columns as the job's
# lines (id, sku, stock, ledger, difference, time of the last move).
naive="SELECT p.id, p.sku, p.stock_quantity, coalesce(sum(m.qty_change), 0) AS ledger,
  p.stock_quantity - coalesce(sum(m.qty_change), 0), max(m.created_at)
  FROM products p LEFT JOIN stock_moves m ON m.product_id = p.id
  GROUP BY p.id HAVING p.stock_quantity <> ledger"
# The job's ledger stream (common/stock.c), for its query plan.
ours="SELECT product_id, sum(qty_change), count(*), max(id), created_at
  FROM stock_moves INDEXED BY idx_stock_moves_product_id
  WHERE product_id >= -9223372036854775808 GROUP BY product_id ORDER BY product_id"
echo "query plan of the job's ledger stream:"
sqlite3 "$src" "EXPLAIN QUERY PLAN $ours" | sed 's/^/  /'
echo "query plan of the naive join:"
sqlite3 "$src" "EXPLAIN QUERY PLAN $naive" | sed 's/^/  /'

# 1. The check against the naive join, alternating, on fresh copies.
say "check: $runs runs each, alternating"
: > check.ours; : > check.naive
for i in $(seq "$runs"); do
	fresh "$src" c.db
	timed t "$bin/reconcile_stock" --db c.db --log-format json > check.out; cat t >> check.ours
	fresh "$src" n.db
	timed t sqlite3 n.db "$naive" > naive.out; cat t >> check.naive
done
found=$(sed -n 's/.*checked [0-9]* products and [0-9]* moves: \([0-9]*\) drifted.*/\1/p' check.out)
listed=$(grep -c '"msg":"product [0-9]* (sku .*difference' check.out || true)
same=$([ "$found" = "$(wc -l < naive.out)" ] && [ "$listed" = "$found" ] && echo yes || echo NO)
c_ours=$(cut -d' ' -f1 check.ours | median); c_naive=$(cut -d' ' -f1 check.naive | median)
m_ours=$(cut -d' ' -f2 check.ours | sort -n | tail -1); m_naive=$(cut -d' ' -f2 check.naive | sort -n | tail -1)

# 2. --fix of the drifted products beside the app writer.
gcc -O2 -o appwriter "$here/appwriter.c" -lsqlite3
fresh "$src" f.db
./appwriter f.db 200 100000 app-fix.csv 2>/dev/null & app=$!
t0=$(date +%s.%N)
sleep 1
t1=$(date +%s.%N)
timed t "$bin/reconcile_stock" --db f.db --fix -v > fix.log 2>&1
t2=$(date +%s.%N)
sleep 1
stop_app
f_secs=$(cut -d' ' -f1 t); f_mem=$(cut -d' ' -f2 t)
booked=$(sed -n 's/.*booked \([0-9]*\) adjustments.*/\1/p' fix.log)
longest=$(sed -n 's/.*longest write transaction: \([0-9]*\) ms.*/\1/p' fix.log)
slow=$(grep -c 'a write transaction held the lock for' fix.log || true)
left=$("$bin/reconcile_stock" --db f.db -q --metrics-file left.prom && sed -n 's/^shop_job_stock_drifted_products{.*} //p' left.prom)

echo
echo "reconcile_stock, $products products, $moves stock moves ($(date -u +%Y-%m-%d), $(nproc) CPUs)"
echo "check:  ours $c_ours s, naive GROUP BY join $c_naive s: $(ratio "$c_ours" "$c_naive")x (target <= 1.2x);" \
    "medians of $runs; same $found drifted products: $same"
echo "memory: ours $((m_ours / 1024)) MB peak RSS (target <= 32 MB), the sqlite3 shell $((m_naive / 1024)) MB"
echo "--fix beside the app writer: $booked adjustments in $f_secs s, longest write transaction" \
    "$longest ms (target <= 100 ms), $slow over 100 ms, $((f_mem / 1024)) MB peak RSS; $left drifted left"
echo "app writer during --fix: $(lat app-fix.csv "$(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }')" \
    "$(awk -v a="$t2" -v b="$t0" 'BEGIN { print a - b }')")"
