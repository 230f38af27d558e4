#!/bin/bash
# The exactly-once invariant of SPEC 6 (common/archive.h) under kill -9:
# prune_events, archive_logs and retire_table are killed at random moments
# (sometimes the recovery run too), then run to completion.  Right after each kill every row
# must be in the table or in exactly one 'done' archive file, and every file
# on disk must be named in the manifest (so the next run can prove it its
# own); after the final run the archive must be exactly what an uninterrupted
# run writes, with no leftovers.  Each kill comes after a random fraction of
# the duration of an uninterrupted run, drawn from $RANDOM seeded with the
# printed seed: CRASH_SEED=N replays the same fractions (CRASH_TRIALS,
# CRASH_LOG_TRIALS and CRASH_RETIRE_TRIALS change the number of trials).
# ids.sh first: tap.sh moves into the test's temporary directory.
. "$(dirname "$0")/../lib/ids.sh"
. "$(dirname "$0")/../lib/events.sh"
. "$(dirname "$0")/../lib/tap.sh"

export LC_ALL=C

SEED=${CRASH_SEED:-$(( ($$ * 7 + $(date +%s)) % 32768 ))}
RANDOM=$SEED
TRIALS=${CRASH_TRIALS:-20}
LOG_TRIALS=${CRASH_LOG_TRIALS:-5}
RETIRE_TRIALS=${CRASH_RETIRE_TRIALS:-5}
echo "# seed $SEED (replay with CRASH_SEED=$SEED)"

NOW='2025-10-07T12:00:00Z'	# events: cutoff 2025-07-09; logs: cutoff 2025-09-07
BATCH=50
# The job's own arguments, besides --db, --archive-dir and --batch-size.
ARGS=(--now "$NOW")

# --- helpers --------------------------------------------------------------------
# tap.sh has moved into the test's temporary directory; archive.py is beside it.
ARCH=$(cd "$OLDPWD" && cd "$(dirname "$0")/../lib" && pwd)/archive.py
[ -f "$ARCH" ] || { echo "Bail out! $ARCH not found"; exit 1; }
# The interpreter itself, not a version manager's shim: it runs ~150 times.
PY=$(python3 -c 'import sys; print(sys.executable)')
arch() { "$PY" -S "$ARCH" "$@"; }
ids() { q "$1" "SELECT id FROM \"$2\" ORDER BY id" | paste -sd' '; }
gz() { find "$1" -type f -name '*.jsonl.gz' | sort; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# delay MS R: R/32768 of MS milliseconds, in seconds for sleep.  R is drawn
# from $RANDOM by the caller: a $(...) subshell would draw from a reseeded
# generator, and CRASH_SEED would not replay the same times.
delay() { awk -v r="$2" -v ms="$1" 'BEGIN { printf "%.3f", r / 32768 * ms / 1000 }'; }
# check_archive DIR DB: problems of a finished archive tree, nothing if none
# (archive.py check, and gzip -t itself on every file).
check_archive() {
	gz "$1" | xargs -r gzip -t 2>&1 | sed 's/^/gzip -t: /'
	arch check "$1" "$2"
}

# --- the source databases ---------------------------------------------------------
# 3000 events over 40 days before the cutoff (2025-05-25 .. 2025-07-03) in
# every form, 20 after it and 3 unreadable ones; rolled up, so prune_events
# does not refuse.
new_db src-ev.db
q src-ev.db "$(events_sql 3000 1748131200 3456000)
  WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 19)
    INSERT INTO analytics_events (id, event_type, created_at)
    SELECT 5001 + i, 'late', 1752019200 + i * 3600 FROM c;
  INSERT INTO analytics_events (id, event_type, created_at) VALUES
    (6001, 'bad', NULL), (6002, 'bad', 'garbage'), (6003, 'bad', '2025-02-30 10:00:00')"
"$JOBS_BIN/rollup_daily" --db src-ev.db --now "$NOW" -q || echo "Bail out! rollup_daily failed"

# 3000 logs over 40 days before the logs' cutoff (2025-07-01 .. 2025-08-09),
# digit-only text among the forms; 20 after it and 2 unreadable ones.
new_db src-log.db
q src-log.db "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 2999),
    t(i, s) AS (SELECT i, 1751328000 + (i * 7919) % 3456000 FROM c)
    INSERT INTO system_logs (id, level, source, message, context, created_at)
    SELECT 1 + i, CASE i % 4 WHEN 0 THEN 'debug' WHEN 1 THEN 'info' WHEN 2 THEN 'warn' ELSE 'error' END,
      'src' || (i % 7), 'message ' || i || ' ' || hex(randomblob(8)), CASE WHEN i % 3 = 0 THEN NULL ELSE '{\"k\":' || i || '}' END,
      CASE i % 5
        WHEN 0 THEN CAST(s AS TEXT)
        WHEN 1 THEN CAST(s * 1000 + i % 1000 AS TEXT)
        WHEN 2 THEN strftime('%Y-%m-%d %H:%M:%S', s, 'unixepoch')
        WHEN 3 THEN strftime('%Y-%m-%dT%H:%M:%S', s, 'unixepoch') || printf('.%03dZ', i % 1000)
        ELSE strftime('%Y-%m-%dT%H:%M:%S', s + 7200, 'unixepoch') || '+02:00'
      END FROM t;
  WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 19)
    INSERT INTO system_logs (id, level, message, created_at)
    SELECT 5001 + i, 'info', 'recent', strftime('%Y-%m-%d %H:%M:%S', 1757203200 + i * 3600, 'unixepoch') FROM c;
  INSERT INTO system_logs (id, level, message, created_at) VALUES
    (6001, 'info', 'bad', NULL), (6002, 'info', 'bad', '0001759622400')"

# --- the uninterrupted reference runs -----------------------------------------------
# reference JOB TABLE SRC: sets REF_MS (duration), REF_MD5 (sorted archived
# lines), REF_KEPT and REF_ARCHIVED (ids), ORIG (all ids).
reference() {
	local t0
	cp "$3" "ref-$1.db"
	mkdir "ref-$1"
	ORIG=$(ids "$3" "$2")
	t0=$(now_ms)
	run "$1" --db "ref-$1.db" --archive-dir "ref-$1" "${ARGS[@]}" --batch-size $BATCH -q
	REF_MS=$(( $(now_ms) - t0 ))
	is "$RC" 0 "$1 reference run: exit 0 (${REF_MS} ms, $(gz "ref-$1" | wc -l) files)"
	REF_MD5=$(arch lines-md5 "ref-$1")
	REF_KEPT=$(ids "ref-$1.db" "$2")
	REF_ARCHIVED=$(arch ids "ref-$1")
	is "$(id_diff "$(union "$REF_KEPT" "$REF_ARCHIVED")" "$ORIG")" "" "$1 reference run: table + archive = the original rows"
	is "$(check_archive "ref-$1" "ref-$1.db")" "" "$1 reference run: archive tree and manifest agree"
	if [ "$1" = prune_events ]; then
		REF_DAYS=$(rollup_days "ref-$1.db")
		DAILY=$(daily "$3")
		"$JOBS_BIN/rollup_daily" --db "ref-$1.db" --now "$NOW" -q 2>/dev/null
		is "$(daily "ref-$1.db")" "$DAILY" "$1 reference run: analytics_daily unchanged, also after a rollup_daily run"
	fi
}
# rollup_days DB: the rollup state per day, without the clock times.
rollup_days() {
	q "$1" "SELECT day, dirty, rolled_at IS NOT NULL, events, pruned_at IS NOT NULL FROM rollup_days ORDER BY day" | md5sum
}
daily() { q "$1" "SELECT date, event_type, count, unique_users, unique_sessions, metadata FROM analytics_daily ORDER BY 1, 2" | md5sum; }

KILLED=0
# crash_state NAME DB DIR TABLE: the invariant right after a kill.
crash_state() {
	local rem dn
	rem=$(ids "$2" "$4")
	dn=$(arch done-ids "$2" "$3")
	is "$(id_diff "$(union "$rem" "$dn")" "$ORIG")" "" "$1: every row is in the table or in exactly one 'done' file"
	is "$(arch unnamed "$2" "$3")" "" "$1: every file on disk is named in the manifest"
}

# trial JOB TABLE SRC N CHAINED: kill JOB once (twice if CHAINED), finish it, check.
trial() {
	local job=$1 table=$2 n=$4 chained=$5 db dir pid d r rc name
	db=$job-$n.db
	dir=$job-$n
	name="$job trial $n"
	cp "$3" "$db"
	mkdir "$dir"
	r=$RANDOM
	d=$(delay "$REF_MS" "$r")
	"$JOBS_BIN/$job" --db "$db" --archive-dir "$dir" "${ARGS[@]}" --batch-size $BATCH -q >/dev/null 2>&1 &
	pid=$!
	sleep "$d"
	kill -9 "$pid" 2>/dev/null
	{ wait "$pid"; } 2>/dev/null
	rc=$?
	[ "$rc" = 137 ] && KILLED=$((KILLED + 1))
	echo "# $name: kill -9 after ${d}s: exit $rc, $(q "$db" "SELECT count(*) FROM archive_manifest WHERE state = 'done'") files done"
	crash_state "$name, after the kill" "$db" "$dir" "$table"
	if [ "$chained" = 1 ]; then
		r=$RANDOM
		d=$(delay $((REF_MS / 2)) "$r")
		"$JOBS_BIN/$job" --db "$db" --archive-dir "$dir" "${ARGS[@]}" --batch-size $BATCH -q >/dev/null 2>&1 &
		pid=$!
		sleep "$d"
		kill -9 "$pid" 2>/dev/null
		{ wait "$pid"; } 2>/dev/null
		rc=$?
		echo "# $name: recovery run killed after ${d}s: exit $rc"
		crash_state "$name, after killing the recovery run" "$db" "$dir" "$table"
	fi
	run "$job" --db "$db" --archive-dir "$dir" "${ARGS[@]}" --batch-size $BATCH -q
	is "$RC" 0 "$name: the run after the crash completes (exit 0)"
	is "$(id_diff "$(ids "$db" "$table")" "$REF_KEPT")" "" "$name: the table keeps exactly the rows an uninterrupted run keeps"
	is "$(id_diff "$(arch ids "$dir")" "$REF_ARCHIVED")" "" "$name: every other row archived exactly once"
	is "$(arch lines-md5 "$dir")" "$REF_MD5" "$name: the archived lines are those of an uninterrupted run"
	is "$(check_archive "$dir" "$db")" "" "$name: gzip -t, modes, no stray or tmp file, no 'writing' row, manifest = files"
	is "$(q "$db" "PRAGMA integrity_check")" ok "$name: integrity_check ok"
	is "$(q "$db" "SELECT count(*) FROM job_runs WHERE status = 'running'")" 0 "$name: no run left 'running' in job_runs"
	if [ "$job" = prune_events ]; then
		is "$(rollup_days "$db")" "$REF_DAYS" "$name: every pruned day is frozen and clean, as after an uninterrupted run"
		"$JOBS_BIN/rollup_daily" --db "$db" --now "$NOW" -q 2>/dev/null
		is "$(daily "$db")" "$DAILY" "$name: analytics_daily unchanged, also after a rollup_daily run"
	fi
	rm -rf "$db" "$db"-* "$dir"
}

# --- prune_events ----------------------------------------------------------------------
reference prune_events analytics_events src-ev.db
for n in $(seq 1 "$TRIALS"); do
	trial prune_events analytics_events src-ev.db "$n" $((n % 4 == 0))
done
echo "# prune_events: $KILLED of $TRIALS first runs were killed before they finished"
ok $([ "$KILLED" -ge 1 ]; echo $?) "prune_events: at least one run was killed mid-way"

# --- archive_logs ----------------------------------------------------------------------
KILLED=0
reference archive_logs system_logs src-log.db
for n in $(seq 1 "$LOG_TRIALS"); do
	trial archive_logs system_logs src-log.db "$n" $((n % 3 == 0))
done
echo "# archive_logs: $KILLED of $LOG_TRIALS first runs were killed before they finished"
ok $([ "$KILLED" -ge 1 ]; echo $?) "archive_logs: at least one run was killed mid-way"

# --- retire_table ----------------------------------------------------------------------
# The legacy analytics table of a version-2 database (migration 3 drops it):
# 3000 rows over 40 days in every form, 3 whose time cannot be read (they go
# to date=__HIVE_DEFAULT_PARTITION__).  Every row is archived.
KILLED=0
"$JOBS_BIN/migrate" --db src-an.db --to 2 -q || echo "Bail out! migrate failed"
q src-an.db "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 2999),
    t(i, s) AS (SELECT i, 1748131200 + (i * 7919) % 3456000 FROM c)
    INSERT INTO analytics (id, page, views, date, created_at)
    SELECT 1 + i, '/p/' || (i % 97), i % 50, date(s, 'unixepoch'), $(ts_forms_sql) FROM t;
  INSERT INTO analytics (id, page, views, created_at) VALUES
    (6001, '/bad', 1, NULL), (6002, '/bad', 2, 'garbage'), (6003, '/bad', 3, '2025-02-30 10:00:00')"
ARGS=(--table analytics)
reference retire_table analytics src-an.db
is "$REF_KEPT|$(find ref-retire_table -path '*date=__HIVE_DEFAULT_PARTITION__*' -name '*.gz' | xargs zcat | jq -r .id | paste -sd' ')" \
    "|6001 6002 6003" "retire_table reference run: every row archived, the unreadable ones under date=__HIVE_DEFAULT_PARTITION__"
for n in $(seq 1 "$RETIRE_TRIALS"); do
	trial retire_table analytics src-an.db "$n" $((n % 3 == 0))
done
echo "# retire_table: $KILLED of $RETIRE_TRIALS first runs were killed before they finished"
ok $([ "$KILLED" -ge 1 ]; echo $?) "retire_table: at least one run was killed mid-way"

done_testing
