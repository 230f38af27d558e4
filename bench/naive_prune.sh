#!/bin/sh
# The naive prune for make bench: the sqlite3 shell exports the due rows as
# JSON, gzip -6 compresses them, then one DELETE removes them.  The WHERE
# clause is the usual SQL reading of the benchmark data's four forms (numbers
# in seconds or milliseconds, text compared as text); usage: DB CUTOFF_S OUT.gz
set -eu
db=$1 cut=$2 out=$3
day=$(date -u -d "@$cut" +%Y-%m-%d)
where="created_at < $cut OR (created_at >= 100000000000 AND created_at < ${cut}000) OR (typeof(created_at) = 'text' AND created_at < '$day')"
sqlite3 -json "$db" "SELECT * FROM analytics_events WHERE $where" | gzip -6 > "$out"
sqlite3 "$db" "DELETE FROM analytics_events WHERE $where"
