#!/bin/bash
# make bench: the jobs against the naive sqlite3-shell way, on identical
# copies of one generated database, as ratios in one run (SPEC 7).
#   BENCH_SCALE  fraction of the full data set (default 1: 10M events,
#                1M log lines, 50 000 expired reservations)
#   BENCH_RUNS   runs of each quick measurement (default 3; medians)
# Writes BENCHMARKS.md and bench/latency.png.  Needs sqlite3, gzip, gnuplot,
# GNU time (/usr/bin/time).  Usage: run.sh BINDIR
set -euo pipefail
bin=$1
scale=${BENCH_SCALE:-1}
runs=${BENCH_RUNS:-3}
here=$(cd "$(dirname "$0")" && pwd)
work=$here/data
now=2025-10-05T00:00:00Z
cut_s=1751846400			# 00:00 UTC 90 days before $now
mkdir -p "$work"
cd "$work"

. "$here/lib.sh"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf (a / b < 0.1 ? "%.4f" : "%.2f"), a / b }'; }
# timed OUT CMD...: wall seconds and peak RSS (KB) of CMD into OUT as "s kb"
timed() { local out=$1; shift; /usr/bin/time -f "%e %M" -o "$out" "$@"; }
# written: bytes written so far to the data's disk (whole machine, after a
# sync), from /proc/diskstats; empty where the device is not listed there.
disk_dev=$(basename "$(df --output=source "$work" | tail -1)")
written() { sync; awk -v d="$disk_dev" '$3 == d { printf "%.0f\n", $10 * 512 }' /proc/diskstats; }
# mb A B: megabytes between two written readings, or n/a
mb() { if [ -n "$1" ] && [ -n "$2" ]; then echo $(( ($2 - $1) / 1048576 )); else echo n/a; fi; }

# 1. The data, made once per scale.
data "$scale"
gcc -O2 -o appwriter "$here/appwriter.c" -lsqlite3

# 2. Rollup of all days: rollup_daily vs one INSERT ... SELECT ... GROUP BY.
say "rollup: $runs runs each, alternating"
: > rollup.ours; : > rollup.naive
for i in $(seq "$runs"); do
	fresh "$base" o.db
	timed t "$bin/rollup_daily" --db o.db --now $now -q; cat t >> rollup.ours
	fresh "$base" n.db
	timed t sqlite3 n.db ".read $here/naive_rollup.sql"; cat t >> rollup.naive
done
q="SELECT date, event_type, count, unique_users, unique_sessions, metadata FROM analytics_daily ORDER BY 1, 2"
same=$([ "$(sqlite3 o.db "$q" | md5sum)" = "$(sqlite3 n.db "$q" | md5sum)" ] && echo yes || echo NO)
r_ours=$(cut -d' ' -f1 rollup.ours | median); r_naive=$(cut -d' ' -f1 rollup.naive | median)
r_mem=$(cut -d' ' -f2 rollup.ours | sort -n | tail -1)

# 3. Rollup of one day, on the rolled database.
: > day.ours
for d in 2025-07-01 2025-07-02 2025-07-03 2025-07-04 2025-07-05; do
	timed t "$bin/rollup_daily" --db "$rolled" --date $d -q; cut -d' ' -f1 t >> day.ours
done
d_ours=$(median < day.ours)

# 4. Prune 90 days: prune_events with archives vs sqlite3 | gzip -6, DELETE,
# each with the app writer inserting 200 events/s alongside.
prune_runs=$runs
[ "$(awk -v s="$scale" 'BEGIN { print (s > 0.3) }')" = 1 ] && prune_runs=1
say "prune: $prune_runs runs each, with the app writer"
: > prune.ours; : > prune.naive; : > prune.del
for i in $(seq "$prune_runs"); do
	fresh "$rolled" p.db; rm -rf arch; mkdir arch
	./appwriter p.db 200 100000 app-ours.csv & app=$!
	w0=$(written)
	timed t "$bin/prune_events" --db p.db --archive-dir arch --now $now -v \
	    > prune-ours.log 2>&1; cat t >> prune.ours
	kill $app; wait $app 2>/dev/null || true
	w_ours=$(mb "$w0" "$(written)")
	fresh "$rolled" q.db
	./appwriter q.db 200 100000 app-naive.csv & app=$!
	w0=$(written)
	timed t sh "$here/naive_prune.sh" q.db $cut_s naive.json.gz; cat t >> prune.naive
	kill $app; wait $app 2>/dev/null || true
	w_naive=$(mb "$w0" "$(written)")
done
# Deleting alone, in the same short transactions, with no archive at all:
# how much of the gap is the deletes themselves.
fresh "$rolled" d.db
./appwriter d.db 200 100000 app-del.csv & app=$!
w0=$(written)
timed t "$bin/prune_events" --db d.db --no-archive --now $now -v > prune-del.log 2>&1
cat t >> prune.del
kill $app; wait $app 2>/dev/null || true
w_del=$(mb "$w0" "$(written)")
p_del=$(cut -d' ' -f1 prune.del | median)
p_ours=$(cut -d' ' -f1 prune.ours | median); p_naive=$(cut -d' ' -f1 prune.naive | median)
p_mem=$(cut -d' ' -f2 prune.ours | sort -n | tail -1)
p_tx=$(sed -n 's/.*longest write transaction: \([0-9]*\) ms/\1/p' prune-ours.log)
p_rows=$(sed -n 's/.*archived \([0-9]*\) rows.*/\1/p' prune-ours.log | tail -1)
a_bytes=$(find arch -name '*.jsonl.gz' -printf '%s\n' | awk '{ s += $1 } END { print s }')
g_bytes=$(find arch -name '*.jsonl.gz' | sort | xargs cat | gzip -dc | gzip -6 | wc -c)
lat() {	# lat CSV: p50 p99 max errors
	awk -F, '{ print $2 }' "$1" | sort -n | awk '{ a[NR] = $1 } END {
	    printf "%.2f %.2f %.1f", a[int(NR * 0.5)], a[int(NR * 0.99)], a[NR] }'
	printf ' %s\n' "$(awk -F, '$3 == 0' "$1" | wc -l)"
}
read -r lo50 lo99 lomax loerr <<< "$(lat app-ours.csv)"
read -r ln50 ln99 lnmax lnerr <<< "$(lat app-naive.csv)"
read -r ld50 ld99 ldmax lderr <<< "$(lat app-del.csv)"
d_tx=$(sed -n 's/.*longest write transaction: \([0-9]*\) ms/\1/p' prune-del.log)
d_mem=$(cut -d' ' -f2 prune.del | sort -n | tail -1)

# 5. archive_logs, and expire_reservations vs the naive three statements.
fresh "$base" l.db; rm -rf larch; mkdir larch
timed t "$bin/archive_logs" --db l.db --archive-dir larch --now $now -v > logs.log 2>&1
read -r l_s l_mem < t
l_tx=$(sed -n 's/.*longest write transaction: \([0-9]*\) ms/\1/p' logs.log)
: > expire.ours; : > expire.naive
for i in $(seq "$runs"); do
	fresh "$base" e.db
	timed t "$bin/expire_reservations" --db e.db --no-archive --now $now -v > expire.log 2>&1
	cat t >> expire.ours
	fresh "$base" f.db
	timed t sqlite3 f.db ".read $here/naive_expire.sql"; cat t >> expire.naive
done
e_ours=$(cut -d' ' -f1 expire.ours | median); e_naive=$(cut -d' ' -f1 expire.naive | median)
e_mem=$(cut -d' ' -f2 expire.ours | sort -n | tail -1)
e_tx=$(sed -n 's/.*longest write transaction: \([0-9]*\) ms/\1/p' expire.log)
: > idle
for i in $(seq 11); do
	s=$(date +%s%N); "$bin/expire_reservations" --db e.db --no-archive --now $now -q; e=$(date +%s%N)
	echo $(( (e - s) / 1000000 )) >> idle
done
idle_ms=$(median < idle)

# 6. The chart: the app writer's insert latency over time during prune.
gnuplot <<GP
set terminal pngcairo size 900,420 font ",10" noenhanced
set output "$here/latency.png"
set datafile separator ","
set title "App inserts (200/s) while 90 days of events are pruned"
set xlabel "seconds since start"; set ylabel "insert latency (ms, log scale)"
set logscale y; set yrange [0.05:10000]; set key top right
plot "app-naive.csv" using 1:2 with points pt 7 ps 0.3 lc rgb "#c0392b" title "naive: export | gzip, one DELETE", \
     "app-ours.csv" using 1:2 with points pt 7 ps 0.3 lc rgb "#2471a3" title "prune_events"
GP

cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)
mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
ok() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t) ? "met" : "**missed**" }'; }
# The Growth section (make bench-growth) is kept across runs.
growth=$(sed -n '/^## Growth$/,$p' "$here/../BENCHMARKS.md" 2>/dev/null || true)
cat > "$here/../BENCHMARKS.md" <<MD
# Benchmarks

Made by \`make bench\` on $(date -u +%Y-%m-%d): $(nproc) cores ($cpu), $mem,
SQLite $(sqlite3 --version | cut -d' ' -f1), BENCH_SCALE=$scale: $events events over 180 days,
$logs log lines, $resv expired reservations. Times are wall-clock medians of
$runs runs (prune: $prune_runs), the project's program and the naive way
alternating on fresh copies of the same database.

| what | project | naive | ratio | target | |
|---|---|---|---|---|---|
| rollup of all 180 days | ${r_ours} s | ${r_naive} s | $(ratio "$r_ours" "$r_naive") | <= 1.0 | $(ok "$(ratio "$r_ours" "$r_naive")" 1.0) |
| rollup of one day vs all days | ${d_ours} s | ${r_ours} s | $(ratio "$d_ours" "$r_ours") | <= 0.01 | $(ok "$(ratio "$d_ours" "$r_ours")" 0.01) |
| prune_events, 90 days, with archives | ${p_ours} s | ${p_naive} s | $(ratio "$p_ours" "$p_naive") | <= 1.0 | $(ok "$(ratio "$p_ours" "$p_naive")" 1.0) |
| archive bytes vs gzip -6 of the same JSON Lines | $a_bytes | $g_bytes | $(ratio "$a_bytes" "$g_bytes") | <= 1.05 | $(ok "$(ratio "$a_bytes" "$g_bytes")" 1.05) |
| expire_reservations (no archive) | ${e_ours} s | ${e_naive} s | $(ratio "$e_ours" "$e_naive") | <= 1.5 | $(ok "$(ratio "$e_ours" "$e_naive")" 1.5) |

The rollups computed identical analytics_daily tables: $same.

| job | longest write transaction | peak memory |
|---|---|---|
| rollup_daily (all days) | (one day per transaction) | $((r_mem / 1024)) MB |
| prune_events | ${p_tx} ms | $((p_mem / 1024)) MB |
| archive_logs (${l_s} s) | ${l_tx} ms | $((l_mem / 1024)) MB |
| expire_reservations | ${e_tx} ms | $((e_mem / 1024)) MB |

An idle expire_reservations run (nothing due): ${idle_ms} ms (median of 11).

The app writer (bench/appwriter.c: one insert per transaction, 200/s, busy
timeout 5 s) during the prune:

| | p50 | p99 | max | failed inserts |
|---|---|---|---|---|
| prune_events | ${lo50} ms | ${lo99} ms | ${lomax} ms | $loerr |
| prune_events --no-archive | ${ld50} ms | ${ld99} ms | ${ldmax} ms | $lderr |
| naive | ${ln50} ms | ${ln99} ms | ${lnmax} ms | $lnerr |

![insert latency during prune](bench/latency.png)

Rows pruned: $p_rows.

Where the prune's time goes (last run of each; disk writes are the whole
machine's, to the data's disk, counted from /proc/diskstats around each run
and its final sync):

| prune of 90 days | time | disk writes | longest write transaction | peak memory |
|---|---|---|---|---|
| prune_events, with archives | ${p_ours} s | ${w_ours} MB | ${p_tx} ms | $((p_mem / 1024)) MB |
| prune_events --no-archive (deleting alone) | ${p_del} s | ${w_del} MB | ${d_tx} ms | $((d_mem / 1024)) MB |
| naive: export, gzip -6, one DELETE | ${p_naive} s | ${w_naive} MB | the whole DELETE | |
MD
[ -z "$growth" ] || printf '\n%s\n' "$growth" >> "$here/../BENCHMARKS.md"
say "wrote BENCHMARKS.md and bench/latency.png"
