#!/bin/bash
# The WAL bound (SPEC 4, "The WAL"; common/db.h, DB_WAL_BOUND_BYTES), with
# the bound lowered by the test knob JOBS_TEST_WAL_BOUND_KB so that a small
# database reaches it.  Beside an app that commits without pause, a job in
# either mode keeps the -wal file within the bound plus one batch, and says
# (-v) when it waited.  A reader that holds an old snapshot makes the job
# wait, then stop with 75 after its last committed batch, nothing lost; the
# rerun completes once the reader lets go.  Nothing here depends on timing:
# the -wal file never shrinks while another connection is open, so its size
# after the run is its peak.
. "$(dirname "$0")/../lib/events.sh"
. "$(dirname "$0")/../lib/ids.sh"
. "$(dirname "$0")/../lib/tap.sh"

export LC_ALL=C
NOW='2025-10-07T12:00:00Z'
BOUND_KB=1024
BATCH=100
ARCH=$TAP_LIB/archive.py
arch() { python3 -S "$ARCH" "$@"; }
ids() { q "$1" "SELECT id FROM analytics_events ORDER BY id" | paste -sd' '; }

# 30 000 events over 60 days (2025-05-01..06-29), all past the 90-day
# retention of $NOW: the whole table goes through the bound several times.
new_db src.db
q src.db "$(events_sql 30000 1746057600 5184000)"
ORIG=$(ids src.db)
PAGE=$(q src.db "PRAGMA page_size")
BTREES=$(q src.db "SELECT 1 + count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'analytics_events'")
# One batch changes at most one page per row in each b-tree of the table,
# and a few pages of bookkeeping (manifest, rollup_days, job_runs).
ONE_BATCH=$(( (BATCH * BTREES + 32) * (PAGE + 24) ))
LIMIT=$(( BOUND_KB * 1024 + ONE_BATCH ))

# app DB STOPFILE: commits one event per transaction, without pause, until
# STOPFILE exists; then measures the -wal file (its connection still open, so
# it is the run's peak) into DB.walsize and closes.  Its own checkpoints come
# every 100 pages: SQLite's default of 1000 (4 MB, far under the real bound
# of 64 MB) would let the app alone grow the WAL past the lowered one.
app() {
	python3 - "$1" "$2" <<'EOF' &
import os, sqlite3, sys, time
db, stop = sys.argv[1:3]
con = sqlite3.connect(db, isolation_level=None, timeout=5)
con.execute("PRAGMA wal_autocheckpoint = 100")
open(db + ".app-ready", "w").close()
n = 0
while not os.path.exists(stop):
    con.execute("INSERT INTO analytics_events (event_type, created_at) VALUES ('live', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))")
    n += 1
    time.sleep(0.0005)
open(db + ".walsize", "w").write("%d %d\n" % (os.path.getsize(db + "-wal"), n))
con.close()
EOF
	APP=$!
	for _ in $(seq 500); do [ -e "$1.app-ready" ] && return 0; sleep 0.01; done
	echo "Bail out! the app did not start"; exit 1
}

for mode in archive no-archive; do
	rm -rf "$mode.db"* "A-$mode" stop
	cp src.db "$mode.db"
	mkdir "A-$mode"
	if [ $mode = archive ]; then opt="--archive-dir A-$mode"; else opt=--no-archive; fi
	app "$mode.db" stop
	JOBS_TEST_WAL_BOUND_KB=$BOUND_KB run prune_events --db "$mode.db" $opt --now "$NOW" \
	    --skip-rollup-check --batch-size $BATCH -v
	touch stop
	wait "$APP"
	read -r wal inserts <"$mode.db.walsize"
	is "$RC" 0 "$mode, beside an app committing without pause: exit 0"
	waits=$(printf '%s\n' "$OUT$ERR" | grep -c 'past its bound (1024 kB): waited [0-9]* ms for a checkpoint to let it start over')
	ok $([ "$waits" -ge 2 ]; echo $?) "$mode: -v says each time it waited for the WAL to start over ($waits times)"
	ok $([ "$wal" -le "$LIMIT" ]; echo $?) \
	    "$mode: the -wal file stayed within the bound + one batch ($wal <= $LIMIT bytes; the app committed $inserts times)"
	if [ $mode = archive ]; then
		is "$(id_diff "$(union "$(arch done-ids "$mode.db" "A-$mode")" \
		    "$(q "$mode.db" "SELECT id FROM analytics_events WHERE event_type <> 'live'" | paste -sd' ')")" "$ORIG")" "" \
		    "$mode: table + archives = the original rows"
	else
		is "$(q "$mode.db" "SELECT count(*) FROM analytics_events WHERE event_type <> 'live'")" 0 \
		    "$mode: every due row deleted"
	fi
done

# --- a reader holding an old snapshot ----------------------------------------------------
rm -rf r.db* R stop released
cp src.db r.db
mkdir R
python3 - r.db "$T/.reader-ready" "$T/released" <<'EOF' &
import os, sqlite3, sys, time
db, ready, release = sys.argv[1:4]
con = sqlite3.connect(db, isolation_level=None)
con.execute("BEGIN")
con.execute("SELECT count(*) FROM analytics_events").fetchone()	# the snapshot is held from here
open(ready, "w").close()
while not os.path.exists(release):
    time.sleep(0.01)
con.execute("COMMIT")
EOF
READER=$!
for _ in $(seq 500); do [ -e "$T/.reader-ready" ] && break; sleep 0.01; done
JOBS_TEST_WAL_BOUND_KB=$BOUND_KB run prune_events --db r.db --archive-dir R --now "$NOW" \
    --skip-rollup-check --batch-size $BATCH --busy-timeout 700 -v
is "$RC" 75 "a reader holds an old snapshot: exit 75"
like "$(printf '%s\n' "$ERR" | grep -v 'longest write\|rows of analytics_events\|^prune_events: 2025')" \
    "prune_events: database 'r.db': its write-ahead log stayed past its bound \(1024 kB\) for 700 ms \(a reader holds an old snapshot" \
    "... and says why, and what to do"
ok $([ "$(stat -c %s r.db-wal)" -le "$LIMIT" ]; echo $?) "... within the bound + one batch meanwhile"
done1=$(arch done-ids r.db R)
ok $([ -n "$done1" ]; echo $?) "... after committing some batches ($(echo $done1 | wc -w) rows archived)"
is "$(id_diff "$(union "$done1" "$(ids r.db)")" "$ORIG")|$(q r.db "SELECT count(*) FROM archive_manifest WHERE state = 'writing'")" "|0" \
    "... and nothing lost: table + archives = the original rows, no unfinished file"
touch "$T/released"
wait "$READER"
JOBS_TEST_WAL_BOUND_KB=$BOUND_KB run prune_events --db r.db --archive-dir R --now "$NOW" --skip-rollup-check --batch-size $BATCH
is "$RC|$(ids r.db)" "0|" "once the reader lets go, the rerun completes"
is "$(id_diff "$(arch done-ids r.db R)" "$ORIG")|$(arch check R r.db)" "|" "every row in exactly one archive file, the tree matches the manifest"

done_testing
