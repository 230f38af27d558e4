# Shared by bench/run.sh and bench/growth.sh (sourced; $bin, $here, $now set).

say() { printf '%s\n' "$*" >&2; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# fresh SRC DST: a copy, flushed to disk so that the first fsync of the run
# does not pay for writing out the whole copy.
fresh() { rm -f "$2" "$2-wal" "$2-shm"; cp "$1" "$2"; sync; }

# data SCALE: sets events, logs, resv, base and rolled for that fraction of
# the full data set, making the two databases once (cached in bench/data):
# base is V1 as the app left it, migrated; rolled has every day rolled up.
data() {
	local params
	events=$(awk -v s="$1" 'BEGIN { printf "%d", 10000000 * s }')
	logs=$(awk -v s="$1" 'BEGIN { printf "%d", 1000000 * s }')
	resv=$(awk -v s="$1" 'BEGIN { printf "%d", 50000 * s }')
	params="CREATE TEMP TABLE p(events, logs, reservations); INSERT INTO p VALUES ($events, $logs, $resv);"
	base=base-$events.db
	if [ ! -f "$base" ]; then
		say "generating $events events, $logs log lines, $resv reservations..."
		rm -f gen.db*
		"$bin/migrate" --db gen.db --to 1 -q
		sqlite3 gen.db "$params" ".read $here/gen.sql"
		"$bin/migrate" --db gen.db -q
		sqlite3 gen.db "$params" ".read $here/gen-reservations.sql"
		mv gen.db "$base"
	fi
	rolled=rolled-$events.db
	if [ ! -f "$rolled" ]; then
		fresh "$base" r.db
		"$bin/rollup_daily" --db r.db --now $now -q
		mv r.db "$rolled"
	fi
}
