#!/bin/bash
# retire_table (SPEC 2a): every row of the legacy analytics table goes
# through the archiver into the partition of its UTC day (an independent
# reading of created_at, tests/lib/tsmodel.py), rows whose time cannot be
# read into date=__HIVE_DEFAULT_PARTITION__; --dry-run counts the same and
# changes nothing; restore_archive brings every row back, the unknown-day
# partition included; migrate refuses to drop the table while it holds rows
# and drops it once it is empty; bad input.  The kill -9 loop is in crash.t.
. "$(dirname "$0")/../lib/events.sh"
. "$(dirname "$0")/../lib/tap.sh"

export LC_ALL=C
arch() { python3 -S "$TAP_LIB/archive.py" "$@"; }
retire() { run retire_table --db "$@"; }
# every column of every row, with its type
dump() { q "$1" "SELECT id, typeof(page), quote(page), typeof(views), views, quote(date), typeof(created_at), quote(created_at) FROM analytics ORDER BY id" | md5sum; }

# A version-2 database (migration 3 drops the table): 1200 rows over 20 days
# in the six forms of SPEC 3, legacy rows written with the default
# CURRENT_TIMESTAMP, and rows whose time cannot be read.
"$JOBS_BIN/migrate" --db src.db --to 2 -q || { echo "Bail out! migrate failed"; exit 1; }
q src.db "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 1199),
    t(i, s) AS (SELECT i, 1735689600 + (i * 7919) % 1728000 FROM c)
    INSERT INTO analytics (id, page, views, date, created_at)
    SELECT 1 + i, '/p/' || (i % 31), i % 9, date(s, 'unixepoch'), $(ts_forms_sql) FROM t;
  INSERT INTO analytics (id, page, views) VALUES (2001, '/default', 1);
  INSERT INTO analytics (id, page, views, date, created_at) VALUES
    (3001, '/bad', 1, NULL, NULL), (3002, '/bad', 2, 'x', 'garbage'),
    (3003, '/bad', 3, 'y', '2025-02-30 10:00:00'), (3004, '/bad', 4, 'z', X'00')"
ORIG=$(dump src.db)
N=$(q src.db "SELECT count(*) FROM analytics")

# id-day pairs the SPEC asks for, computed apart from the jobs' parser
expect_days() {
	python3 - "$1" <<'EOF'
import os, sqlite3, sys
sys.path.insert(0, os.environ["TAP_LIB"])
from tsmodel import day_of, parse_ms
con = sqlite3.connect(sys.argv[1])
out = []
for i, v in con.execute("SELECT id, created_at FROM analytics ORDER BY id"):
    ms = parse_ms(v)
    out.append("%d %s" % (i, "__HIVE_DEFAULT_PARTITION__" if ms is None else day_of(ms)))
print(",".join(out))
EOF
}
WANT=$(expect_days src.db)
DAYS=$(echo "$WANT" | tr ',' '\n' | cut -d' ' -f2 | grep -v HIVE | sort -u | wc -l)
FIRST=$(echo "$WANT" | tr ',' '\n' | cut -d' ' -f2 | grep -v HIVE | sort | head -1)
LAST=$(echo "$WANT" | tr ',' '\n' | cut -d' ' -f2 | grep -v HIVE | sort | tail -1)
UNDATED=$(echo "$WANT" | tr ',' '\n' | grep -c HIVE)

# --- 1. --dry-run, then the run --------------------------------------------------------
cp src.db a.db
mkdir A
fp=$(fingerprint a.db)
retire a.db --table analytics --archive-dir A --dry-run
like "$RC|$OUT" "^0\|retire_table: would archive $N rows of analytics into about [0-9]+ files \([0-9]+ bytes\) from $DAYS days \($FIRST\.\.$LAST\), $UNDATED of them with an unreadable time \(date=__HIVE_DEFAULT_PARTITION__\)" \
    "--dry-run: the rows, days and unreadable rows of the run"
is "$(fingerprint a.db)|$(find A | wc -l)" "$fp|1" "--dry-run changes nothing"
retire a.db --table analytics --archive-dir A --batch-size 100
like "$RC|$OUT" "^0\|retire_table: archived $N rows of analytics into [0-9]+ files \([0-9]+ bytes\) from $DAYS days \($FIRST\.\.$LAST\), $UNDATED of them with an unreadable time \(date=__HIVE_DEFAULT_PARTITION__\); [0-9.]+ s; the table is empty: migrate can drop it" \
    "the run archives every row and says the table is empty"
is "$(q a.db "SELECT count(*) FROM analytics")" 0 "the table is empty"
is "$(arch id-days A)" "$WANT" "every row is in the partition of its UTC day, or of the unknown day, exactly once"
is "$(arch check A a.db)" "" "the tree matches the manifest (names, modes, ids, bytes)"
is "$(q a.db "SELECT count(*) FROM archive_manifest WHERE table_name = 'analytics' AND job = 'retire_table' AND state = 'done'")" \
    "$(find A -name '*.jsonl.gz' | wc -l)" "every file is in the manifest as retire_table's"
is "$(q a.db "SELECT status, rows FROM job_runs WHERE job = 'retire_table'")" "ok|$N" "the run is in job_runs"
retire a.db --table analytics --archive-dir A
like "$RC|$OUT" "^0\|retire_table: archived 0 rows" "a second run has nothing left"

# --- 2. restore: every row back, the unknown day's included ----------------------------
H=$(find A -path '*date=__HIVE_DEFAULT_PARTITION__*' -name '*.jsonl.gz')
run restore_archive --db a.db --file "$H"
is "$RC|$(q a.db "SELECT group_concat(id) FROM analytics")" "0|3001,3002,3003,3004" \
    "restore_archive --file of the unknown-day partition puts its rows back"
run restore_archive --db a.db --table analytics --from "$FIRST" --to "$LAST"
is "$RC|$(q a.db "SELECT count(*) FROM analytics")" "0|$N" "--from/--to restores the dated days"
is "$(dump a.db)|$(find A -name '*.jsonl.gz' -not -path '*_restored*' | wc -l)" "$ORIG|0" \
    "the table is identical to the original (every column, typeof included), every file under _restored/"
run restore_archive --db a.db --table analytics
like "$RC|$OUT" "^0\|restore_archive: nothing to do" "restoring again adds nothing"
retire a.db --table analytics --archive-dir A
is "$RC|$(q a.db "SELECT count(*) FROM analytics")|$(arch live-ids A | wc -w)" "0|0|$N" \
    "retired again: every row once more in exactly one live file"

# --- 3. then migrate drops the table -------------------------------------------------------
# A version-2 database still holding rows: migrate refuses to go to 3, and
# jobs_status says what is left; once retired, migrate drops the table.
cp src.db m.db
mkdir M
run jobs_status --db m.db --json
is "$(printf '%s' "$OUT" | jq -r '.jobs[] | select(.job == "retire_table") | "\(.behind.count) \(.behind.what) \(.scheduled)"')" \
    "$N rows of analytics to retire false" "jobs_status: the rows left to retire, a job run by hand"
fp=$(fingerprint m.db)
run migrate --db m.db
like "$RC|$ERR" "^65\|migrate: .*analytics table still holds $N rows: run retire_table --table analytics first" \
    "migrate refuses while the table holds rows (65), saying to run retire_table"
is "$(fingerprint m.db)|$(q m.db "SELECT max(version) FROM schema_migrations")" "$fp|2" "... and changes nothing"
retire m.db --table analytics --archive-dir M --max-runtime 1 --batch-size 1
retire m.db --table analytics --archive-dir M --metrics-file m.prom
is "$RC|$(grep '^shop_job_backlog' m.prom)" '0|shop_job_backlog{job="retire_table"} 0' \
    "retired; the metrics file's backlog: 0 rows left"
run jobs_status --db m.db --json
is "$(printf '%s' "$OUT" | jq -r '.jobs[] | select(.job == "retire_table") | .behind.count')" 0 "jobs_status: nothing left to retire"
run migrate --db m.db
is "$RC|$(q m.db "SELECT max(version) FROM schema_migrations")|$(q m.db "SELECT count(*) FROM sqlite_master WHERE name = 'analytics'")" "0|3|0" \
    "once the table is empty, migrate goes to version 3 and drops it"
is "$(arch id-days M)|$(arch check M m.db)" "$WANT|" "the archive keeps every row, the tree matches the manifest"
retire m.db --table analytics --archive-dir M --metrics-file m.prom
like "$RC|$OUT" "^0\|retire_table: nothing to do: table analytics is gone" "retire_table after the drop: nothing to do"
is "$(grep -c backlog m.prom)" 0 "... and no backlog in its metrics: there is no table to count"
run restore_archive --db m.db --table analytics
like "$RC|$ERR" "^65\|restore_archive: table analytics no longer exists" "restore of the dropped table: 65, says why"

# --- 4. without an archive ---------------------------------------------------------------
cp src.db b.db
retire b.db --table analytics --no-archive
like "$RC|$OUT" "^0\|retire_table: deleted $N rows of analytics without archive, 0 files" "--no-archive deletes every row"

# --- 5. bad input ----------------------------------------------------------------------
cp src.db c.db
fp=$(fingerprint c.db)
mkdir C
for t in analytics_events system_logs products "analytics; DROP TABLE users" ""; do
	retire c.db --table "$t" --archive-dir C
	like "$RC|$ERR" "^64\|retire_table: --table: '.*' cannot be retired \(only: analytics\)" "--table '$t': 64"
done
retire c.db --archive-dir C
like "$RC|$ERR" "^64\|retire_table: say which table to retire: --table analytics" "no --table: 64"
retire c.db --table analytics
like "$RC|$ERR" "^64\|retire_table: .*--archive-dir" "neither --archive-dir nor --no-archive: 64"
is "$(fingerprint c.db)|$(find C | wc -l)" "$fp|1" "bad input changes nothing"

# --- 6. jobs_status --verify-archives reads the legacy table's files ------------------------
flat() { printf '%s' "$1" | tr '\n' ' '; }
nf=$(find A -name '*.jsonl.gz' | wc -l)
run jobs_status --db a.db --verify-archives
like "$RC|$(flat "$OUT")" "^0\|.*archives: $nf files in the manifest, 0 damaged" \
    "--verify-archives reads analytics' $nf files too (live and restored)"
F=$(find A -name '*.jsonl.gz' -not -path '*_restored*' | sort | head -1)
head -c 40 "$F" >x && cat x >"$F"
run jobs_status --db a.db --verify-archives --check
like "$RC|$ERR" "^1\|jobs_status: warning: archive '.*$(basename "$F")' is damaged" \
    "a damaged analytics archive fails --check, named"
like "$(flat "$OUT")" "archives: 1 damaged files" "... and counted"
nm=$(find M -name '*.jsonl.gz' | wc -l)
run jobs_status --db m.db --verify-archives --json
is "$RC|$(printf '%s' "$OUT" | jq -r '.archives | "\(.files) \(.read) \(.damaged)"')" "0|$nm 0 0" \
    "after migration 3 dropped the table: its $nm files counted, none read, no error"
run jobs_status --db m.db --verify-archives
like "$(flat "$OUT")" "archives: $nm files in the manifest, 0 damaged, $nm not read \(their table was dropped\)" \
    "... and the table says so"

done_testing
