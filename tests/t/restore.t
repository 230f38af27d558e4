#!/bin/bash
# restore_archive (common/restore.h): prune then restore gives back the
# identical table (every column, typeof included); restoring again adds
# nothing; restored files leave the live tree, so a later prune archives the
# rows again exactly once; a damaged file is named and refused (65) with
# nothing restored; a crash between the restore's commit and the move of its
# file is finished by the next run of either job; options and locks.
. "$(dirname "$0")/../lib/events.sh"
. "$(dirname "$0")/../lib/tap.sh"

export LC_ALL=C
ARCH=$(cd "$OLDPWD" && cd "$(dirname "$0")/../lib" && pwd)/archive.py
[ -f "$ARCH" ] || { echo "Bail out! $ARCH not found"; exit 1; }
arch() { python3 -S "$ARCH" "$@"; }

NOW='2025-10-07T12:00:00Z'
restore() { run restore_archive --db "$@"; }
prune() { run prune_events --db "$1" --now "$NOW" --skip-rollup-check --batch-size 40 "${@:2}"; }
# every column of every row, with its type: equal dumps mean identical tables
dump() {
	local cols
	cols=$(sqlite3 "$1" "SELECT group_concat('typeof(\"' || name || '\"), quote(\"' || name || '\")', ', ') FROM pragma_table_info('$2')")
	sqlite3 "$1" "SELECT $cols FROM \"$2\" ORDER BY id" | md5sum | cut -d' ' -f1
}
live() { arch live-ids "$1"; }
ids() { q "$1" "SELECT id FROM \"$2\" ORDER BY id" | paste -sd' '; }
files() { find "$1" -name '*.jsonl.gz' | grep -c "$2"; }

# --- the database: every timestamp form and every kind of value ---------------
# analytics_events gets an untyped column, so it holds every kind of value as
# written (5.0 stays REAL, text that looks like a number stays TEXT).
new_db src.db
q src.db "ALTER TABLE analytics_events ADD COLUMN extra"
q src.db "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 399),
    t(i, s) AS (SELECT i, 1748131200 + (i * 7919) % 864000 FROM c)
    INSERT INTO analytics_events (id, event_type, user_id, session_id, product_id, metadata, created_at, extra)
    SELECT 1 + i, 'e' || (i % 4), nullif(i % 13, 0), 's' || (i % 50), i % 30,
      '{\"i\":' || i || '}',
      $(ts_forms_sql),
      CASE i % 5 WHEN 0 THEN NULL WHEN 1 THEN i * 0.5 WHEN 2 THEN randomblob(i % 7) WHEN 3 THEN '0' || i ELSE i END
    FROM t"
q src.db "INSERT INTO analytics_events (id, event_type, user_id, session_id, product_id, metadata, created_at, extra) VALUES
  (1001, 'a\"b\\c' || char(10) || 'd' || char(0) || 'e', 9223372036854775807, CAST(X'610062' AS TEXT), -9223372036854775808, CAST(X'FF61' AS TEXT), '2025-05-26 00:00:00', X'00FF10'),
  (1002, 'reals', 0.1, NULL, 1e300, -2.5, '2025-05-26T10:00:00Z', 5.0),
  (1003, 'more', 0.30000000000000004, 'é€😀' || char(1) || char(127), -1e-300, NULL, 1748217600000, 9e999),
  (1004, 'blobs', NULL, X'', 0, X'FFFE', 1748217600, -9e999),
  (1005, 'big', 1, 's', 1, printf('%.*c', 1048576, 'x'), '2025-05-27 12:00:00', CAST(X'C0AF' AS TEXT)),
  (1006, 'recent', 1, 's', 1, NULL, '2025-10-01 12:00:00', NULL)"
ORIG=$(dump src.db analytics_events)
ALL=$(ids src.db analytics_events)

# --- 1. prune, then restore everything: the identical table ---------------------
cp src.db a.db
mkdir A
prune a.db --archive-dir A
is "$RC|$(ids a.db analytics_events)" "0|1006" "prune_events archives all but the recent row"
NFILES=$(files A date=)
restore a.db --table analytics_events --dry-run
is "$RC" 0 "--dry-run exit 0"
like "$OUT" "would restore 405 rows of analytics_events from $NFILES files; 0 rows were already in the table" \
    "--dry-run says how many rows and files it would restore"
is "$(ids a.db analytics_events)|$(q a.db "SELECT count(*) FROM archive_manifest WHERE state = 'restored'")" "1006|0" \
    "--dry-run changes nothing"
restore a.db --table analytics_events
is "$RC" 0 "restore exit 0"
like "$OUT" "^restore_archive: restored 405 rows of analytics_events from $NFILES files; 0 rows were already" \
    "the summary counts rows and files"
is "$(dump a.db analytics_events)" "$ORIG" "prune then restore gives back the identical table (every column, typeof included)"
is "$(q a.db "SELECT count(*) FROM analytics_events WHERE length(metadata) = 1048576")" 1 \
    "the 1 MB metadata value came back whole"
is "$(q a.db "SELECT state, count(*) FROM archive_manifest GROUP BY state")" "restored|$NFILES" \
    "every manifest row says 'restored'"
is "$(live A)|$(files A _restored/)" "|$NFILES" "restored files left the live tree for <table>/_restored/"
is "$(arch check A a.db)" "" "the tree matches the manifest (names, modes, rows, ids, bytes)"
is "$(q a.db "SELECT count(*) FROM job_runs WHERE job = 'restore_archive' AND status = 'ok' AND rows = 405")" 1 \
    "the run is recorded in job_runs with its rows"

# --- 2. again: nothing; then a later prune archives them once more ----------------
restore a.db --table analytics_events
is "$RC|$OUT" "0|restore_archive: nothing to do: no archived analytics_events rows to restore; $NFILES files were restored before" \
    "restoring the same files again adds nothing"
is "$(dump a.db analytics_events)" "$ORIG" "the table is unchanged by the second restore"
prune a.db --archive-dir A
is "$RC|$(ids a.db analytics_events)" "0|1006" "a later prune archives the restored rows again"
is "$(live A)" "$(echo "$ALL" | tr ' ' '\n' | grep -vx 1006 | paste -sd' ')" \
    "every row is in exactly one live file"
is "$(arch check A a.db)" "" "the tree matches the manifest after prune, restore, prune"
restore a.db --table analytics_events
is "$RC|$(dump a.db analytics_events)" "0|$ORIG" "a second round trip gives back the identical table too"

# --- 3. one file, one day, rows already present -------------------------------------
cp src.db b.db
mkdir B
prune b.db --archive-dir B
F=$(find B -name '*.jsonl.gz' | sort | head -1)
DAY=$(echo "$F" | sed 's/.*date=\([0-9-]*\).*/\1/')
FIRST=$(zcat "$F" | head -1 | jq -r .id)
N=$(zcat "$F" | wc -l)
# The same row back in the table (identical, typeof included) is skipped;
# the same id with other content is a conflict (section 3a).
q b.db "ATTACH 'src.db' AS o; INSERT INTO analytics_events SELECT * FROM o.analytics_events WHERE id = $FIRST"
restore b.db --file "$F"
is "$RC" 0 "--file exit 0"
like "$OUT" "restored $((N - 1)) rows of analytics_events from 1 files; 1 rows were already in the table" \
    "a row already present with the same content is skipped and counted"
is "$(q b.db "SELECT count(*) FROM analytics_events WHERE id = $FIRST")" 1 "the present row is there once"
restore b.db --file "$F"
like "$RC|$ERR" "^65\|restore_archive: archive '$F': No such file" \
    "--file of the old path, after its file moved to _restored/: 65, named"
RESTORED=$(find B -path '*_restored*' -name "$(basename "$F")")
restore b.db --file "$RESTORED"
like "$RC|$OUT" "^0\|restore_archive: nothing to do" "--file of an already restored file adds nothing"
before=$(ids b.db analytics_events | wc -w)
restore b.db --table analytics_events --date "$DAY"
after=$(ids b.db analytics_events | wc -w)
want=$(q b.db "SELECT coalesce(sum(rows), 0) FROM archive_manifest WHERE state = 'restored' AND day = '$DAY'")
is "$RC|$((after - before + N))" "0|$want" "--date restores exactly the rest of that day's files"
is "$(q b.db "SELECT count(*) FROM archive_manifest WHERE state = 'restored' AND day <> '$DAY'")" 0 \
    "--date touches no other day"

# --- 3a. an id the table reused, with other content: that file is refused --------
# SQLite gives an emptied table's ids out again: the archived row and the
# new one are different rows, and neither may end up nowhere.
G=$(find B -path '*date=*' -not -path '*_restored*' -name '*.jsonl.gz' | sort | tail -1)
GID=$(zcat "$G" | sed -n 2p | jq -r .id)
q b.db "INSERT INTO analytics_events (id, event_type, created_at) VALUES ($GID, 'app', '2025-10-01 00:00:00')"
fpb=$(fingerprint b.db)
restore b.db --file "$G" --dry-run
like "$RC|$ERR" "^65\|restore_archive: archive '.*$(basename "$G")': 1 of its rows have ids that analytics_events now holds with other content \(ids $GID\)" \
    "reused id, --dry-run: 65, the file and the id named"
restore b.db --file "$G"
like "$RC|$ERR" "^65\|restore_archive: archive '.*$(basename "$G")': 1 of its rows have ids that analytics_events now holds with other content \(ids $GID\).*stays where it is" \
    "reused id: 65, the file and the id named"
is "$(fingerprint b.db)|$(test -f "$G"; echo $?)" "$fpb|0" "reused id: nothing restored, the file stays in the live tree"
is "$(q b.db "SELECT event_type FROM analytics_events WHERE id = $GID")|$(zcat "$G" | grep -c "\"id\":$GID,")" "app|1" \
    "reused id: the new row stays in the table, the archived one in its file"
restore b.db --table analytics_events
like "$RC|$ERR" "^65\|.*$(basename "$G")" "reused id, a whole table: refused (65), naming the file"
is "$(fingerprint b.db)" "$fpb" "reused id, a whole table: nothing restored"
q b.db "DELETE FROM analytics_events WHERE id = $GID"
echo garbage >other.jsonl.gz
restore b.db --file other.jsonl.gz
like "$RC|$ERR" "^65\|restore_archive: archive '.*other.jsonl.gz' is not in this database's archive_manifest" \
    "a file the manifest does not know is refused (65)"

# --- 4. damaged archives are refused, nothing restored ------------------------------
damage() {	# damage NAME HOW: a fresh pruned copy with one file damaged
	rm -rf "$1" "$1.db"*
	cp src.db "$1.db"
	mkdir "$1"
	prune "$1.db" --archive-dir "$1"
	D=$(find "$1" -name '*.jsonl.gz' | sort | sed -n 3p)
	case $2 in
	truncate) head -c 100 "$D" >x && cat x >"$D" ;;
	flip) python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=0x55; open(p,'wb').write(b)" "$D" ;;
	dropline) zcat "$D" | sed 1d | gzip -6 >x && cat x >"$D" ;;
	extraline) { zcat "$D"; zcat "$D" | head -1; } | gzip -6 >x && cat x >"$D" ;;
	badjson) zcat "$D" | sed '1s/"id":/"id":"/' | gzip -6 >x && cat x >"$D" ;;
	missing) rm "$D" ;;
	esac
}
for how in truncate flip dropline extraline badjson missing; do
	damage dmg $how
	before=$(fingerprint dmg.db)
	restore dmg.db --table analytics_events
	nerr=$(printf '%s\n' "$ERR" | wc -l)
	like "$RC|$nerr|$ERR" "^65\|1\|.*archive '.*$(basename "$D")'.*(damaged|No such file)" \
	    "$how: the damaged file is named, the run refused (65) with one error line"
	is "$(fingerprint dmg.db)" "$before" "$how: nothing restored, the database unchanged"
	restore dmg.db --table analytics_events --dry-run
	is "$RC" 65 "$how: --dry-run exits 65 too"
done

# --- 5. a crash between commit and move is finished by the next run -----------------
if command -v strace >/dev/null 2>&1; then
	cp src.db c.db
	mkdir C
	prune c.db --archive-dir C
	# (in a shell of its own, so the "Killed" notice goes nowhere)
	bash -c 'strace -f -o /dev/null -e trace=linkat -e inject=linkat:signal=KILL:when=1 \
	    "$1" --db c.db --table analytics_events; exit 0' sh "$JOBS_BIN/restore_archive" >/dev/null 2>&1
	is "$(q c.db "SELECT count(*) FROM archive_manifest WHERE state = 'restored' AND instr(path, '/_restored/') = 0")" 1 \
	    "killed at the move: one file restored in the database, still in the live tree"
	first=$(q c.db "SELECT min(id) FROM analytics_events")
	prune c.db --archive-dir C
	is "$RC" 0 "the next prune_events exits 0"
	is "$(q c.db "SELECT count(*) FROM archive_manifest WHERE state = 'restored' AND instr(path, '/_restored/') = 0")" 0 \
	    "... after finishing the interrupted move first"
	is "$(live C)" "$(echo "$ALL" | tr ' ' '\n' | grep -vx 1006 | paste -sd' ')" \
	    "... so every row is in exactly one live file"
	is "$(arch check C c.db)" "" "... and the tree matches the manifest"
	[ "$first" != 1006 ]; ok $? "(the killed run had restored rows: min id $first)"
else
	skip "strace not installed"
fi

# --- 6. options, locks, schema drift --------------------------------------------------
restore a.db
like "$RC|$ERR" "^64\|restore_archive: .*--table" "no --table and no --file: usage error 64"
restore a.db --table users
like "$RC|$ERR" "^64\|.*--table: 'users' is not one of" "an unknown table: 64"
restore a.db --table system_logs --date 2025-02-30
like "$RC|$ERR" "^64\|.*--date: '2025-02-30' is not a date" "an impossible date: 64"
restore a.db --file x --table system_logs
is "$RC" 64 "--file with --table: 64"
restore a.db --table system_logs --from 2025-07-02 --to 2025-07-01
is "$RC" 64 "--from after --to: 64"
restore missing.db --table system_logs
is "$RC" 66 "a missing database: 66"
cp src.db l.db
mkdir L
prune l.db --archive-dir L
hold_lock l.db prune_events
restore l.db --table analytics_events
like "$RC|$ERR" "^75\|.*prune_events" "prune_events running: restore exits 75 at once"
release_lock
hold_lock l.db prune_events restore_archive
run prune_events --db l.db --now "$NOW" --archive-dir L
like "$RC|$ERR" "^75\|prune_events: restore_archive is running on 'l.db' and holds prune_events's lock" \
    "a restore running: prune_events exits 75 and names it"
release_lock
q l.db "ALTER TABLE analytics_events DROP COLUMN extra"
restore l.db --table analytics_events
like "$RC|$ERR" "^65\|.*column \"extra\" is not in table analytics_events" \
    "a file with a column the table no longer has is refused (65)"
q l.db "ALTER TABLE analytics_events ADD COLUMN extra"
q l.db "ALTER TABLE analytics_events ADD COLUMN added TEXT DEFAULT 'dflt'"
restore l.db --table analytics_events
is "$RC|$(q l.db "SELECT count(*) FROM analytics_events WHERE added = 'dflt'")" "0|406" \
    "a column added since archiving takes its default"

done_testing
