#!/bin/sh
# The naive prune for make bench: the sqlite3 shell exports the due rows as
# JSON, gzip -6 compresses them, then one DELETE removes them.  The WHERE
# clause is the usual SQL reading of the benchmark data's four forms (numbers
# in seconds or milliseconds, text compared as text); usage: DB CUTOFF_S OUT.gz
# The DELETE waits up to 5 s for the app's lock, as the app does, and its time
# (one write transaction, timed around the sqlite3 shell) goes to stderr.
set -eu
db=$1 cut=$2 out=$3
day=$(date -u -d "@$cut" +%Y-%m-%d)
where="created_at < $cut OR (created_at >= 100000000000 AND created_at < ${cut}000) OR (typeof(created_at) = 'text' AND created_at < '$day')"
sqlite3 -json "$db" "SELECT * FROM analytics_events WHERE $where" | gzip -6 > "$out"
s=$(date +%s%N)
sqlite3 -cmd ".timeout 5000" "$db" "DELETE FROM analytics_events WHERE $where"
e=$(date +%s%N)
echo "naive_prune: longest write transaction: $(( (e - s) / 1000000 )) ms (the one DELETE)" >&2
