#!/bin/bash
# Exactly once whatever the operator does around a run (common/lock.h,
# common/dbfile.h): one database under several names shares one lock; a
# hard-linked database is refused by every program; a copy (made while idle,
# or between a batch's intent and its commit) takes a new archive id and
# never touches the original's files; a backup copied back over the file is
# the database; a moved database restores its old files only once told to;
# a restore never drops a row whose id the table reused; --metrics-file never
# replaces the database; a day before 1970 is named as such.
. "$(dirname "$0")/../lib/tap.sh"

export LC_ALL=C
ARCH=$(cd "$OLDPWD" && cd "$(dirname "$0")/../lib" && pwd)/archive.py
arch() { python3 -S "$ARCH" "$@"; }
NOW='2025-10-07T12:00:00Z'
# logs DB N: N system_logs, all past the 30-day retention, ids 1..N
logs() {
	new_db "$1"
	q "$1" "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $2)
	    INSERT INTO system_logs (id, level, source, message, created_at)
	    SELECT i, 'info', 'test', 'm' || i, 1751328000 + i * 7 FROM c"
}
ids() { q "$1" "SELECT id FROM system_logs ORDER BY id" | paste -sd' '; }
# all_ids DB DIR: the table's ids and the ids of DB's 'done' files, sorted
all_ids() { printf '%s %s' "$(ids "$1")" "$(arch done-ids "$1" "$2")" | tr ' ' '\n' | sed '/^$/d' | sort -n | paste -sd' '; }
seq_ids() { seq 1 "$1" | paste -sd' '; }
dbid() { q "$1" "SELECT value FROM jobs_meta WHERE key = 'database_id'"; }

# --- 1. one database, many names: one lock ------------------------------------------
logs d.db 20000
ln -s d.db link.db
mkdir sub
hold_lock d.db archive_logs
for name in link.db ./d.db sub/../d.db "$T/d.db"; do
	run archive_logs --db "$name" --archive-dir A1 --now "$NOW"
	like "$RC|$ERR" "^75\|archive_logs: another archive_logs is already running on '$name'" \
	    "lock held under d.db: '$name' is the same database, 75"
done
release_lock
hold_lock link.db prune_events restore_archive
run prune_events --db d.db --archive-dir A1 --now "$NOW" --skip-rollup-check
like "$RC|$ERR" "^75\|prune_events: restore_archive is running on 'd.db' and holds prune_events's lock" \
    "a lock taken through the symlink holds the real name too, and names its holder"
release_lock
run restore_archive --db link.db --table system_logs
is "$RC" 0 "restore_archive through the symlink runs when nothing holds the lock"

# The reproduction: a live run under one name, a loop of runs under the
# other; every one of those must give 75, and no row may go missing.
mkdir A1
"$JOBS_BIN/archive_logs" --db d.db --archive-dir A1 --now "$NOW" --batch-size 20 >first.out &
first=$!
# It holds its lock once its first batch is under way.
for _ in $(seq 500); do
	[ "$(q d.db "SELECT count(*) FROM archive_manifest")" != 0 ] && break
	sleep 0.01
done
codes=""
while kill -0 "$first" 2>/dev/null; do
	"$JOBS_BIN/archive_logs" --db link.db --archive-dir A1 --now "$NOW" --max-runtime 1 -q 2>/dev/null
	rc=$?
	# Judged only if it ended before the first run printed its summary,
	# which it does before it lets its lock go.
	[ -s first.out ] || codes="$codes $rc"
done
wait "$first"
is "$?" 0 "the first run, under d.db, ends well"
is "$(echo "$codes" | tr ' ' '\n' | sed '/^$/d' | sort -u | paste -sd' ')" "75" \
    "every run under the symlink meanwhile exits 75 ($(echo $codes | wc -w) runs)"
is "$(all_ids d.db A1)" "$(seq_ids 20000)" "table + archives = the original rows, none lost, none twice"
is "$(arch check A1 d.db)" "" "the tree matches the manifest"

# A bind mount of the directory is the same file too (root with a mount
# namespace only).
logs b.db 10
mkdir -p bind
if unshare -m true 2>/dev/null; then
	hold_lock b.db archive_logs
	unshare -m sh -c "mount --bind '$T' '$T/bind' && exec '$JOBS_BIN/archive_logs' --db '$T/bind/b.db' --no-archive --now '$NOW'" >"$T/.out" 2>"$T/.err"
	like "$?|$(cat "$T/.err")" "^75\|.*already running" "through a bind mount: the same lock, 75"
	release_lock
else
	skip "no mount namespace here (needs root)"
fi

# --- 2. a hard-linked database is refused by every program ---------------------------
logs h.db 50
ln h.db h2.db
fp=$(fingerprint h.db)
for cmd in "migrate" "migrate --status" "rollup_daily" "rollup_daily --dry-run" \
    "prune_events --archive-dir A2" "archive_logs --archive-dir A2" \
    "archive_logs --archive-dir A2 --dry-run" "expire_reservations --no-archive" \
    "restore_archive --table system_logs" "jobs_status"; do
	for name in h.db h2.db; do
		run $cmd --db "$name"
		like "$RC|$ERR" "^66\|[a-z_]+: database '$name' has 2 hard links: SQLite keeps a write-ahead log per name" \
		    "hard link: '$cmd' on $name refused, 66"
		[ "$(printf '%s\n' "$ERR" | wc -l)" = 1 ] || echo "# more than one line: $ERR"
	done
done
is "$(fingerprint h.db)|$(ls h.db-wal h2.db-wal h.db-shm h2.db-shm 2>/dev/null | wc -l)|$(q h.db 'PRAGMA integrity_check')" \
    "$fp|0|ok" "hard link: the database is intact and no -wal was made for either name"
mkdir -p A2
rm h2.db
run archive_logs --db h.db --archive-dir A2 --now "$NOW"
is "$RC|$(ids h.db)" "0|" "the other name removed: the job runs"

# --- 3. copies -------------------------------------------------------------------------
# cp while idle: the copy takes a new id on its first run, the original keeps its own.
logs c.db 40
ORIG_ID=$(dbid c.db)
cp c.db c2.db
mkdir A3
run archive_logs --db c2.db --archive-dir A3 --now "$NOW" --batch-size 20
is "$RC|$ERR" "0|" "cp while idle: the copy runs, no warning (nothing to leave alone)"
NEW_ID=$(dbid c2.db)
ok $([ -n "$NEW_ID" ] && [ "$NEW_ID" != "$ORIG_ID" ]; echo $?) "cp while idle: the copy took a new id ($ORIG_ID -> $NEW_ID)"
is "$(find A3 -name '*.jsonl.gz' | sed 's|.*/||' | cut -d- -f1 | sort -u)" "$NEW_ID" "the copy's files carry its new id"
run archive_logs --db c.db --archive-dir A3 --now "$NOW" --batch-size 20
is "$RC|$(dbid c.db)|$(find A3 -name "$ORIG_ID-*" | wc -l)" "0|$ORIG_ID|2" "the original keeps its id and writes its own files beside"
is "$(all_ids c.db A3)|$(all_ids c2.db A3)" "$(seq_ids 40)|$(seq_ids 40)" "each database: table + its files = its rows"

# cp between a batch's intent and its commit.  The test holds the write lock
# from the moment the 'writing' row is committed, so the run cannot commit
# the batch; it copies the database (SQLite's backup, a consistent copy as
# `cp` of an idle file would be) once the file is complete, then lets go.
logs e.db 600
mkdir A4
python3 - e.db e2.db A4 "$T/.ready" >"$T/.inflight" <<'EOF' &
import os, sqlite3, sys, time
src, dst, top, ready = sys.argv[1:5]
con = sqlite3.connect(src, isolation_level=None, timeout=60)
open(ready, "w").close()
deadline = time.time() + 30
while time.time() < deadline:
    con.execute("BEGIN IMMEDIATE")
    row = con.execute("SELECT path FROM archive_manifest WHERE state = 'writing'").fetchone()
    if row:
        path = os.path.join(top, row[0])
        while not os.path.exists(path) and time.time() < deadline:
            time.sleep(0.002)
        # From a second connection: a backup cannot read through the one
        # that holds the write transaction.
        sqlite3.connect(src).backup(sqlite3.connect(dst))
        con.execute("ROLLBACK")
        print(row[0])
        sys.exit(0)
    con.execute("ROLLBACK")
    time.sleep(0.0002)
sys.exit("no 'writing' row seen")
EOF
copier=$!
for _ in $(seq 500); do [ -e "$T/.ready" ] && break; sleep 0.01; done
"$JOBS_BIN/archive_logs" --db e.db --archive-dir A4 --now "$NOW" --batch-size 20 --busy-timeout 60000 -q &
first=$!
wait "$copier"
is "$?" 0 "the copy was taken between an intent and its commit"
wait "$first"
is "$?" 0 "the original's run ends well after the copy"
INFLIGHT=$(cat "$T/.inflight")
ok $([ -n "$INFLIGHT" ] && [ -f "A4/$INFLIGHT" ]; echo $?) "the copy holds a 'writing' row for a complete file of the original's ($INFLIGHT)"
is "$(q e.db "SELECT state FROM archive_manifest WHERE path = '$INFLIGHT'")" done "the original committed that file"
run archive_logs --db e2.db --archive-dir A4 --now "$NOW" --batch-size 20
like "$RC|$ERR" "^0\|archive_logs: warning: left alone: unfinished archive '.*$INFLIGHT'" \
    "the copy's run names the file it leaves alone"
like "$ERR" "database 'e2.db' is not the file its archive id [0-9a-f]+ was made in .* leaves 1 unfinished" \
    "... and says why, once"
is "$(test -f "A4/$INFLIGHT"; echo $?)" 0 "the original's committed file is still there"
is "$(all_ids e.db A4)" "$(seq_ids 600)" "the original: table + its 'done' files = every row, none lost"
is "$(all_ids e2.db A4)" "$(seq_ids 600)" "the copy: table + its 'done' files = every row (it archived the in-flight batch's rows again, under its new id)"
run archive_logs --db e2.db --archive-dir A4 --now "$NOW"
is "$RC|$ERR|$(test -f "A4/$INFLIGHT"; echo $?)" "0||0" "a second run of the copy: silent, the file still left alone"
run jobs_status --db e2.db
like "$OUT" "$INFLIGHT" "jobs_status lists the leftover the copy leaves alone"
run jobs_status --db e.db
like "$OUT$ERR" "^[^!]*$" "jobs_status of the original has nothing to list" # (no '!' problem lines)

# A backup copied back over the file (same inode) is the database: it keeps
# its id and cleans up the 'writing' rows of its own manifest.
logs r.db 40
cp r.db r-backup.db
RID=$(dbid r.db)
mkdir A5
run archive_logs --db r.db --archive-dir A5 --now "$NOW" --batch-size 20
cp r-backup.db r.db
rm -f r.db-wal r.db-shm
run archive_logs --db r.db --archive-dir A5 --now "$NOW" --batch-size 20
is "$RC|$(dbid r.db)" "0|$RID" "a backup copied back over the file keeps the id"

# Moved to another file system: a new inode, so a new id; its old files
# are refused by restore until the operator says they are its own.
logs m.db 40
mkdir A6
run archive_logs --db m.db --archive-dir A6 --now "$NOW" --batch-size 20
MID=$(dbid m.db)
mkdir -p moved && cp m.db moved/m.db && rm m.db
run restore_archive --db moved/m.db --table system_logs
like "$RC|$(printf '%s\n' "$ERR" | tail -1)" "^65\|restore_archive: archive '.*' was written under database id $MID, not this database's [0-9a-f]+: .*--adopt-id $MID first" \
    "moved: restore refuses the old id's files (65), saying what to do"
is "$(ids moved/m.db)|$(find A6 -path '*_restored*' -name '*.gz' | wc -l)" "|0" "moved: nothing restored, nothing moved"
run restore_archive --db moved/m.db --adopt-id zz
is "$RC" 64 "--adopt-id with a non-id: 64"
run restore_archive --db moved/m.db --adopt-id "$MID" --table system_logs
is "$RC|$(ids moved/m.db)|$(find A6 -path '*_restored*' -name '*.gz' | wc -l)" "0|$(seq_ids 40)|2" \
    "--adopt-id: the old files are its own again and restore"

# --- 4. restore of ids the table reused -----------------------------------------------
logs u.db 2
mkdir A7
run archive_logs --db u.db --archive-dir A7 --now "$NOW"
q u.db "INSERT INTO system_logs (level, source, message, created_at) VALUES ('warn', 'app', 'new one', '2025-10-07 10:00:00'), ('warn', 'app', 'new two', '2025-10-07 10:00:01')"
is "$(ids u.db)" "1 2" "SQLite gave the emptied table's ids out again"
F=$(find A7 -name '*.jsonl.gz')
run restore_archive --db u.db --table system_logs
like "$RC|$ERR" "^65\|restore_archive: archive '.*': 2 of its rows have ids that system_logs now holds with other content \(ids 1, 2\)" \
    "reused ids: restore refuses the file (65), naming the ids"
is "$(q u.db "SELECT group_concat(message) FROM system_logs")|$(zcat "$F" | jq -r .message | paste -sd,)|$(q u.db "SELECT state FROM archive_manifest")" \
    "new one,new two|m1,m2|done" "reused ids: both versions kept, the file live and 'done'"

# --- 5. --metrics-file never replaces what is not its own -----------------------------
logs mt.db 5
fp=$(fingerprint mt.db)
printf 'keep me\n' >notes.txt
ln -s mt.db mlink
for target in mt.db mt.db-wal notes.txt mlink; do
	[ -e "$target" ] || : >"$target"
	before=$(md5sum <"$target")
	run rollup_daily --db mt.db --now "$NOW" --metrics-file "$target"
	like "$RC|$ERR" "^64\|rollup_daily: --metrics-file '$target' exists and is not a metrics file" \
	    "--metrics-file $target: refused, 64"
	is "$(md5sum <"$target")" "$before" "--metrics-file $target: left as it was"
done
is "$(fingerprint mt.db)|$(q mt.db 'PRAGMA integrity_check')" "$fp|ok" "the database survives --metrics-file pointing at it"
run rollup_daily --db mt.db --now "$NOW" --metrics-file m.prom
run rollup_daily --db mt.db --now "$NOW" --metrics-file m.prom
is "$RC|$(grep -c '^shop_job_success{job="rollup_daily"} 1$' m.prom)" "0|1" "its own metrics file is replaced as before"

# --- 6. days before 1970 ----------------------------------------------------------------
new_db old.db
q old.db "INSERT INTO analytics_events (id, event_type, created_at) VALUES (1, 'e', -1), (2, 'e', -86401)"
mkdir A8
run prune_events --db old.db --archive-dir A8 --now "$NOW" --skip-rollup-check
like "$OUT" "from 2 days \(1969-12-30\.\.1969-12-31\)" "the summary names the days before 1970"
is "$(q old.db "SELECT window_start || ' ' || window_end FROM job_runs WHERE job = 'prune_events'")" "1969-12-30 1969-12-31" \
    "job_runs' window too"
is "$(find A8 -name '*.gz' | sed 's|.*date=\([0-9-]*\)/.*|\1|' | sort | paste -sd' ')" "1969-12-30 1969-12-31" \
    "the partitions agree"

done_testing
