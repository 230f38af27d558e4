#!/bin/bash
# make bench-growth: how costs grow with the table (issue: "cost stays linear
# in the rows touched and flat in table size").  At 1M, 3M and 10M events
# (BENCH_GROWTH lists the scales), the time of a rollup of one day (median of
# three days) and of prune_events of 90 days with archives, per million rows
# pruned.  Writes the "Growth" section of BENCHMARKS.md, in place.
# Usage: growth.sh BINDIR
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
now=2025-10-05T00:00:00Z
mkdir -p "$here/data"
cd "$here/data"
. "$here/lib.sh"

rows=""
for s in ${BENCH_GROWTH:-0.1 0.3 1}; do
	data "$s"
	: > g.day
	for d in 2025-07-01 2025-08-01 2025-09-01; do
		/usr/bin/time -f "%e" -o t "$bin/rollup_daily" --db "$rolled" --date $d -q
		cat t >> g.day
	done
	day=$(median < g.day)
	per_day=$(awk -v e="$events" 'BEGIN { printf "%d", e / 180 }')
	say "growth: prune at $events events"
	fresh "$rolled" g.db; rm -rf garch; mkdir garch
	/usr/bin/time -f "%e" -o t "$bin/prune_events" --db g.db --archive-dir garch --now $now > g.log
	secs=$(cat t)
	pruned=$(sed -n 's/.*archived \([0-9]*\) rows.*/\1/p' g.log)
	rows="$rows| $events | $day s ($per_day events that day) | $secs s | $pruned | $(awk -v s="$secs" -v r="$pruned" 'BEGIN { printf "%.1f", s / r * 1e6 }') s |
"
done
md=$here/../BENCHMARKS.md
[ -f "$md" ] || : > "$md"
# The new section replaces an earlier one in place (up to the next "## "
# heading), or goes at the end; every other section is kept.
cat > growth.md <<MD
## Growth

Made by \`make bench-growth\` on $(date -u +%Y-%m-%d): the same data generator at
each size; one run each (the prune with archives, as in the table above).

| events in the table | rollup of one day | prune of 90 days | rows pruned | prune per million rows |
|---|---|---|---|---|
$rows
MD
awk -v new=growth.md '
	/^## Growth$/ { while ((getline l < new) > 0) print l; done = skip = 1; next }
	skip && /^## / { skip = 0; print "" }
	!skip { print }
	END { if (!done) { print ""; while ((getline l < new) > 0) print l } }' "$md" > "$md.new"
mv "$md.new" "$md"
say "wrote the Growth section of BENCHMARKS.md"
