#!/bin/bash
# Bad input to every program: each bad option, impossible date, missing,
# invalid or unmigrated database, and bad archive directory gets its exit
# code and exactly one line on stderr naming the program, and changes nothing
# (database fingerprint and archive tree compared before and after).  Then
# hostile strings in every option: SQL, quotes, newlines, path tricks; the
# schema and every row stay as they were.  Files are 0600 whatever the umask.
. "$(dirname "$0")/../lib/tap.sh"

export LC_ALL=C
unset JOBS_DB
NOW='2025-10-07T12:00:00Z'

# A database with something for every job to do, and an archive tree.
new_db d.db
q d.db "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 200)
    INSERT INTO analytics_events (id, event_type, user_id, created_at) SELECT i, 'view', i % 7, 1748131200 + i * 3600 FROM c;
  WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 200)
    INSERT INTO system_logs (id, level, message, created_at) SELECT i, 'info', 'm', 1748131200 + i * 3600 FROM c;
  INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (1, 'k1', 'p', 9.5, 10);
  INSERT INTO product_reservations (product_id, quantity, expires_at) VALUES (1, 1, '2025-10-01 00:00:00')"
mkdir A
"$JOBS_BIN/archive_logs" --db d.db --now "$NOW" --archive-dir A -q --retention-days 100 ||
	echo "Bail out! archive_logs failed"
printf 'not a database, just text\n' >notdb.db
q plain.db "CREATE TABLE t (a)"
touch afile
ln -s A alink

state() { echo "$(fingerprint d.db)|$(find A -type f | sort | xargs -r md5sum | md5sum)|$(ls | md5sum)"; }

# case RC PROGRAM ARGS...: exit RC, one stderr line "PROGRAM: ...", nothing changed
case_() {
	local want=$1 prog=$2 before
	shift 2
	before=$(state)
	run "$prog" "$@"
	is "$RC|$(printf '%s\n' "$ERR" | grep -c .)" "$want|1" "$prog $*: exit $want, one line"
	like "$ERR" "^$prog: " "$prog $*: the line names the program"
	is "$(state)" "$before" "$prog $*: nothing changed"
}

ARCHIVERS="prune_events archive_logs expire_reservations"
for p in migrate rollup_daily $ARCHIVERS restore_archive jobs_status; do
	case_ 64 $p --db d.db --bogus
	case_ 64 $p --db d.db extra-argument
	case_ 64 $p --db
	case_ 64 $p
	case_ 64 $p --db d.db --busy-timeout -1
	case_ 64 $p --db d.db --busy-timeout 3600001
	case_ 64 $p --db d.db --log-format xml
	case_ 64 $p --db d.db -q -v
done
for p in rollup_daily $ARCHIVERS jobs_status; do
	case_ 64 $p --db d.db --now 2025-02-30T00:00:00Z
	case_ 64 $p --db d.db --now 'yesterday'
	case_ 64 $p --db d.db --now '2025-10-07T25:00:00Z'
done
for p in rollup_daily $ARCHIVERS restore_archive; do
	case_ 64 $p --db d.db --max-runtime 0
	case_ 64 $p --db d.db --max-runtime 1.5
	case_ 64 $p --db d.db --metrics-file ''
done
for p in $ARCHIVERS; do
	case_ 64 $p --db d.db --now "$NOW"
	case_ 64 $p --db d.db --now "$NOW" --archive-dir A --no-archive
	case_ 64 $p --db d.db --now "$NOW" --archive-dir A --batch-size 0
	case_ 64 $p --db d.db --now "$NOW" --archive-dir A --batch-size 10000001
	case_ 64 $p --db d.db --now "$NOW" --archive-dir ''
done
for p in prune_events archive_logs; do
	case_ 64 $p --db d.db --now "$NOW" --archive-dir A --retention-days 0
	case_ 64 $p --db d.db --now "$NOW" --archive-dir A --retention-days 36501
	case_ 64 $p --db d.db --now "$NOW" --archive-dir A --retention-days ' 5'
done
case_ 64 rollup_daily --db d.db --date 2025-13-01
case_ 64 rollup_daily --db d.db --date 2025-02-29
case_ 64 rollup_daily --db d.db --from 2025-07-02 --to 2025-07-01
case_ 64 rollup_daily --db d.db --from 2025-07-02
case_ 64 restore_archive --db d.db --table analytics_events --date 2024-02-30
case_ 64 restore_archive --db d.db --table events
case_ 64 restore_archive --db d.db --date 2025-07-01
case_ 64 jobs_status --db d.db --max-age 0
case_ 64 jobs_status --db d.db --events-retention-days x
case_ 64 migrate --db d.db --to 0

# Databases that are missing, not SQLite, or not migrated.
for p in rollup_daily $ARCHIVERS jobs_status; do
	args="--now $NOW"
	case $p in prune_events|archive_logs|expire_reservations) args="$args --archive-dir A" ;; esac
	case_ 66 $p --db missing.db $args
	case_ 66 $p --db notdb.db $args
	case_ 78 $p --db plain.db $args
done
case_ 66 restore_archive --db missing.db --table system_logs
case_ 78 restore_archive --db plain.db --table system_logs

# Archive directories that are missing, a file, or unwritable.
for p in $ARCHIVERS; do
	case_ 73 $p --db d.db --now "$NOW" --archive-dir missing-dir
	case_ 73 $p --db d.db --now "$NOW" --archive-dir afile
done
if [ "$(id -u)" != 0 ]; then
	mkdir ro && chmod 555 ro
	case_ 73 archive_logs --db d.db --now "$NOW" --archive-dir ro
else
	skip "an unwritable directory: root writes anywhere"
fi

# --- hostile strings in every option -------------------------------------------------
schema=$(q d.db "SELECT sql FROM sqlite_master ORDER BY name" | md5sum)
rows=$(q d.db "SELECT count(*) FROM analytics_events; SELECT count(*) FROM product_reservations" | paste -sd,)
evil="x'); DROP TABLE analytics_events; --"
nl=$'a\nb'
for p in rollup_daily $ARCHIVERS jobs_status; do
	run $p --db "$evil" --now "$NOW"
	ok $([ "$RC" = 64 ] || [ "$RC" = 66 ]; echo $?) "$p: --db with SQL in it is a path, nothing more (exit $RC)"
	run $p --db d.db --now "$evil"
	is "$RC" 64 "$p: --now with SQL in it: 64"
	run $p --db d.db --now "$nl"
	is "$RC|$(printf '%s\n' "$ERR" | grep -c .)" "64|1" "$p: --now with a newline: 64, still one line"
done
for p in $ARCHIVERS; do
	run $p --db d.db --now "$NOW" --archive-dir "$evil"
	is "$RC" 73 "$p: --archive-dir with SQL in it: a missing directory (73)"
done
run restore_archive --db d.db --table "$evil"
is "$RC" 64 "restore_archive: --table with SQL in it: 64"
run restore_archive --db d.db --file "$evil"
is "$RC" 65 "restore_archive: --file with SQL in it: not in the manifest (65)"
run restore_archive --db d.db --file /etc/passwd
is "$RC" 65 "restore_archive: --file outside the archive: not in the manifest (65)"
run restore_archive --db d.db --table system_logs --date "2025-07-01' OR '1'='1"
is "$RC" 64 "restore_archive: --date with SQL in it: 64"
run jobs_status --db d.db --events-retention-days "1; DROP TABLE x"
is "$RC" 64 "jobs_status: a number with SQL in it: 64"
run rollup_daily --db d.db --now "$NOW" --metrics-file "$evil"
is "$RC" 0 "rollup_daily: --metrics-file with SQL in it is only a file name"
is "$(q d.db "SELECT sql FROM sqlite_master ORDER BY name" | md5sum)" "$schema" "the schema is unchanged after every hostile option"
is "$(q d.db "SELECT count(*) FROM analytics_events; SELECT count(*) FROM product_reservations" | paste -sd,)" "$rows" \
    "no row was lost to a hostile option"

# --- archive files are private whatever the umask --------------------------------------
rm -rf U && mkdir U
(umask 000; "$JOBS_BIN/prune_events" --db d.db --now "$NOW" --archive-dir U --skip-rollup-check -q)
is "$(find U -type f -printf '%m\n' | sort -u | paste -sd,)|$(find U -mindepth 1 -type d -printf '%m\n' | sort -u | paste -sd,)" \
    "600|750" "umask 000: archive files 0600, directories 0750"

done_testing
