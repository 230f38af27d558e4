#!/bin/bash
# jobs_status and --metrics-file: the report's backlog numbers are exact
# (rows past retention in every timestamp form, days not rolled up, expired
# reservations); --check fails on a job that never ran, failed, died or is
# overdue and passes on a healthy set; --verify-archives names a damaged
# file; metrics files are Prometheus text, replaced whole, with the run's
# numbers.
. "$(dirname "$0")/../lib/tap.sh"

export LC_ALL=C
status() { run jobs_status --db "$@"; }
# promcheck FILE: problems with FILE as Prometheus text format, nothing if none
promcheck() {
	python3 - "$1" <<'EOF'
import re, sys
seen_type = {}
for n, line in enumerate(open(sys.argv[1]).read().split("\n")[:-1], 1):
    if line.startswith("# HELP "):
        if not re.fullmatch(r"# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+", line):
            print("line %d: bad HELP" % n)
    elif line.startswith("# TYPE "):
        m = re.fullmatch(r"# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter|untyped)", line)
        if not m:
            print("line %d: bad TYPE" % n)
        else:
            seen_type[m.group(1)] = True
    else:
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\{job="[a-z_]+"\} (-?[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?)', line)
        if not m:
            print("line %d: not a sample: %r" % (n, line))
        elif m.group(1) not in seen_type:
            print("line %d: sample before its TYPE" % n)
EOF
}
flat() { printf '%s' "$1" | tr '\n' ' '; }
metric() { sed -n "s/^shop_job_$2{job=\"[a-z_]*\"} //p" "$1"; }

# --- a database with a known backlog ---------------------------------------------
# now = 2025-10-07 12:00 UTC.  Events: 7 before the 90-day cutoff (2025-07-09)
# in five forms, 3 after; logs: 4 before the 30-day cutoff (2025-09-07), 1 after;
# reservations: 3 expired (one exactly at now), 2 not.
NOW='2025-10-07T12:00:00Z'
new_db s.db
q s.db "INSERT INTO analytics_events (id, event_type, created_at) VALUES
  (1, 'a', 1751328000), (2, 'a', 1751328000123), (3, 'a', '2025-07-01 10:00:00'),
  (4, 'a', '2025-07-08T23:59:59.999Z'), (5, 'a', '2025-07-09T01:00:00+02:00'),
  (6, 'a', '2025-07-02T00:00:00-08:00'), (7, 'a', 1000),
  (8, 'a', '2025-07-09 00:00:00'), (9, 'a', 1759838400), (10, 'a', '2025-10-06T23:00:00Z');
  INSERT INTO system_logs (id, level, message, created_at) VALUES
  (1, 'info', 'm', '2025-09-06 23:59:59'), (2, 'info', 'm', 1756000000), (3, 'info', 'm', '1756000000'),
  (4, 'info', 'm', '2025-09-07T01:00:00+02:00'), (5, 'info', 'm', '2025-09-07 00:00:00');"
q s.db "INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (1, 'k1', 'p', 9.5, 10);
  INSERT INTO product_reservations (product_id, quantity, expires_at) VALUES
  (1, 1, '2025-10-07 11:00:00'), (1, 1, '2025-10-07T12:00:00Z'), (1, 1, 1759831200),
  (1, 1, '2025-10-07 12:00:01'), (1, 1, '2025-10-08 00:00:00')"

cp s.db b.db	# the same backlog, for the metrics' backlog gauges below

status s.db --now "$NOW"
is "$RC" 0 "without --check: exit 0 even with problems"
like "$OUT" "prune_events +never .* 7 events past retention" "7 events past the 90-day retention, every form counted once"
like "$OUT" "archive_logs +never .* 4 logs past retention" "4 logs past the 30-day retention"
like "$OUT" "expire_reservations +never .* 3 expired reservations" "3 expired reservations (one exactly at now)"
like "$OUT" "rollup_daily +never .* [0-9]+ days to roll up" "days to roll up are shown"
status s.db --now "$NOW" --events-retention-days 1
is "$(printf '%s' "$OUT" | sed -n 's/.* \([0-9]*\) events past retention/\1/p')" 8 \
    "--events-retention-days 1: every event before 2025-10-06 counts (8)"
status s.db --now "$NOW" --check
is "$RC" 1 "--check on a database whose jobs never ran: exit 1"
like "$OUT" "prune_events: has never run successfully" "--check names the job that never ran"

# --- every job runs: healthy ------------------------------------------------------
mkdir A
run rollup_daily --db s.db --now "$NOW" --metrics-file r.prom
is "$RC" 0 "rollup_daily ran"
run prune_events --db s.db --now "$NOW" --archive-dir A --metrics-file p.prom
is "$RC" 0 "prune_events ran"
run archive_logs --db s.db --now "$NOW" --archive-dir A -q
run expire_reservations --db s.db --now "$NOW" --archive-dir A -q
is "$RC" 0 "expire_reservations ran"
run reconcile_stock --db s.db --fix -q
is "$RC" 0 "reconcile_stock ran (and booked product 1's stock, which has no moves)"
status s.db --check
is "$RC" 0 "--check right after every job succeeded: exit 0"
like "$OUT" "no problems" "... and says so"
like "$OUT" "prune_events +[0-9-]+ [0-9:]+ +ok +7 " "prune_events: last run ok, 7 rows"
status s.db --check --json --now "$NOW"
is "$(printf '%s' "$OUT" | jq -r '[.healthy, (.jobs[] | select(.job == "prune_events") | .last_run.rows, .last_run.exit_code, .behind.count)] | join(" ")')" \
    "true 7 0 0" "--json: healthy, prune_events 7 rows, exit 0, nothing behind"
is "$(printf '%s' "$OUT" | jq -r '.jobs | length')" 7 "--json: one entry per job"

# --- overdue, failed, died -----------------------------------------------------------
later=$(date -u -d '+30 hours' +%Y-%m-%dT%H:%M:%SZ)
status s.db --check --now "$later"
like "$RC|$(flat "$OUT")" "^1\|.*prune_events: overdue: last success at .*, over 26 hours ago" "30 hours later: overdue, exit 1"
status s.db --check --now "$later" --max-age 48
is "$RC" 0 "--max-age 48: not overdue"
q s.db "INSERT INTO analytics_events (id, event_type, created_at) VALUES (100, 'late', '2025-07-05 10:00:00'), (101, 'new', '2025-07-20 10:00:00')"
q s.db "UPDATE rollup_days SET dirty = 1 WHERE day = '2025-07-20'"
run prune_events --db s.db --now '2025-10-20T12:00:00Z' --archive-dir A
is "$RC" 65 "prune_events refuses an un-rolled day (65)"
status s.db --check
like "$RC|$(flat "$OUT")" "^1\|.*prune_events: last run failed \(exit 65\)" "--check: the refusal is a failed last run, exit 1"
run rollup_daily --db s.db --now "$NOW" -q
q s.db "INSERT INTO job_runs (job, started_at, status, pid) VALUES ('archive_logs', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+1 second'), 'died', 1)"
status s.db --check
like "$RC|$(flat "$OUT")" "^1\|.*archive_logs: last run died" "a run that died after the last outcome: exit 1"

# --- --verify-archives ----------------------------------------------------------------
new_db v.db
q v.db "INSERT INTO system_logs (id, level, message, created_at) SELECT value, 'info', 'm', 1751328000 + value * 3600 FROM generate_series(1, 100)" 2>/dev/null ||
	q v.db "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100) INSERT INTO system_logs (id, level, message, created_at) SELECT i, 'info', 'm', 1751328000 + i * 3600 FROM c"
mkdir V
run archive_logs --db v.db --now "$NOW" --archive-dir V -q
status v.db --verify-archives
like "$RC|$(flat "$OUT")" "^0\|.*archives: 5 files in the manifest, 0 damaged" "--verify-archives: 5 files, none damaged"
F=$(find V -name '*.jsonl.gz' | sort | sed -n 2p)
head -c 50 "$F" >x && cat x >"$F"
status v.db --verify-archives --check
like "$RC|$ERR" "^1\|jobs_status: warning: archive '.*$(basename "$F")' is damaged" "a damaged archive is named and fails --check"
like "$OUT" "1 damaged" "... and counted"

# --- metrics files ------------------------------------------------------------------
is "$(promcheck p.prom)" "" "prune_events' metrics file is Prometheus text"
is "$(metric p.prom success) $(metric p.prom exit_code) $(metric p.prom rows)" "1 0 7" \
    "success 1, exit code 0, rows 7"
ok $([ "$(metric p.prom bytes)" -gt 0 ]; echo $?) "archive bytes are counted"
run prune_events --db s.db --now '2025-10-20T12:00:00Z' --archive-dir A --metrics-file p.prom
is "$(promcheck p.prom)|$(metric p.prom success) $(metric p.prom exit_code)" "|1 0" "a second run replaces the file"
run prune_events --db s.db --now '2025-10-20T12:00:00Z' --no-archive --archive-dir A --metrics-file p.prom
is "$RC|$(metric p.prom success) $(metric p.prom exit_code)" "64|1 0" "a usage error writes no metrics (the file is left as it was)"
run prune_events --db s.db --now '2025-10-20T12:00:00Z' --archive-dir missing --metrics-file p.prom
is "$RC|$(promcheck p.prom)|$(metric p.prom success) $(metric p.prom exit_code)" "73||0 73" \
    "a failed run: success 0, its exit code"
ok $(grep -q '^shop_job_last_success_timestamp_seconds{job="prune_events"} [0-9.]*$' p.prom; echo $?) \
    "a failed run still reports the last success time"
run prune_events --db nothere.db --archive-dir A --metrics-file n.prom
is "$RC|$(metric n.prom exit_code)|$(grep -c last_success n.prom)" "66|66|0" \
    "a missing database: exit 66 in the metrics, no last success"
is "$(ls | grep -c '\.tmp$')" 0 "no temporary metrics file is left behind"
run archive_logs --db v.db --archive-dir V --metrics-file /nonexistent/dir/m.prom
like "$RC|$ERR" "^0\|.*warning: cannot write metrics file" "an unwritable metrics file is a warning, not a failure"

# --- the backlog in every job's metrics file -----------------------------------------
# shop_job_backlog after a run equals what jobs_status counts as behind for
# that job at the same --now, with the job's own --retention-days.
behind() {	# behind JOB [jobs_status options]: jobs_status's backlog count
	local job=$1; shift
	run jobs_status --db b.db --now "$NOW" --json "$@"
	printf '%s' "$OUT" | jq -r --arg j "$job" '.jobs[] | select(.job == $j) | .behind.count'
}
mkdir B
run prune_events --db b.db --now "$NOW" --archive-dir B --metrics-file bp.prom
is "$RC|$(metric bp.prom backlog)|$(behind prune_events)" "65|7|7" \
    "prune_events refused (un-rolled days): backlog 7 events, as jobs_status counts"
run rollup_daily --db b.db --now "$NOW" --date 2025-07-01 --metrics-file br.prom
r=$(behind rollup_daily)
ok $([ "$r" -gt 0 ]; echo $?) "rollup_daily of one day leaves days to roll ($r)"
is "$RC|$(metric br.prom backlog)" "0|$r" "rollup_daily: backlog = jobs_status's days to roll up"
run rollup_daily --db b.db --now "$NOW" --metrics-file br.prom
is "$RC|$(metric br.prom backlog)|$(behind rollup_daily)" "0|0|0" "a catch-up: backlog 0"
run prune_events --db b.db --now "$NOW" --archive-dir B --retention-days 99 --metrics-file bp.prom
is "$RC|$(metric bp.prom backlog)|$(behind prune_events --events-retention-days 99)|$(behind prune_events)" \
    "0|0|0|6" "prune_events --retention-days 99: its own window counted (0), not the default's 6 left"
run prune_events --db b.db --now "$NOW" --archive-dir B --metrics-file bp.prom
is "$RC|$(metric bp.prom backlog)|$(behind prune_events)" "0|0|0" "after the prune: backlog 0"
run archive_logs --db b.db --now "$NOW" --archive-dir B --retention-days 60 --metrics-file bl.prom
is "$RC|$(metric bl.prom backlog)|$(behind archive_logs)" "0|0|4" \
    "archive_logs --retention-days 60: 0 past its window, 4 past the default 30 days"
q b.db "INSERT INTO products (id, sku, name, price, stock_quantity) VALUES (2, 'k2', 'p', 1, 5), (3, 'k3', 'p', 1, -2)"
run reconcile_stock --db b.db --metrics-file bs.prom
is "$RC|$(metric bs.prom backlog)|$(behind reconcile_stock)" "0|3|3" \
    "reconcile_stock's check: backlog 3 drifted products"
run reconcile_stock --db b.db --fix --metrics-file bs.prom
is "$RC|$(metric bs.prom backlog)|$(behind reconcile_stock)" "0|0|0" "after --fix: 0"
run expire_reservations --db b.db --now "$NOW" --archive-dir B --metrics-file be.prom
is "$RC|$(metric be.prom backlog)|$(behind expire_reservations)" "0|0|0" "expire_reservations: 0 left"
run restore_archive --db b.db --table analytics_events --metrics-file bx.prom
is "$RC|$(grep -c backlog bx.prom)" "0|0" "restore_archive has no backlog gauge"
help=$(cat bp.prom br.prom bl.prom bs.prom be.prom | grep '^# HELP shop_job_backlog ' | sort -u | wc -l)
is "$help" 1 "one HELP text for shop_job_backlog in every file (the collector merges them)"
if command -v promtool >/dev/null 2>&1; then
	for f in p.prom bp.prom br.prom bl.prom bs.prom be.prom bx.prom; do
		is "$(promtool check metrics <"$f" 2>&1)" "" "promtool check metrics: $f is clean"
	done
else
	skip "promtool not installed (apt-get install prometheus)"
fi

# --- progress on a terminal, never otherwise ------------------------------------------
# 60 000 logs deleted 20 at a time; `script` gives the run a terminal, and
# JOBS_TEST_PROGRESS_MS=1 a line every millisecond instead of every half
# second (a fast machine is done in less).
new_db g.db
q g.db "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 60000)
    INSERT INTO system_logs (id, level, message, created_at) SELECT i, 'info', 'm', 1751328000 + i FROM c"
cp g.db g2.db
if command -v script >/dev/null 2>&1; then
	JOBS_TEST_PROGRESS_MS=1 script -qfec "$JOBS_BIN/archive_logs --db g.db --now $NOW --no-archive --batch-size 20" /dev/null >tty.out 2>&1
	like "$(tr '\r' '\n' <tty.out | grep -a 'of ~60000 rows' | head -1)" \
	    "archive_logs: [0-9]+ of ~60000 rows, [0-9]+/s, ETA [0-9]+:[0-9][0-9]" \
	    "on a terminal: rows done of the total, rate and ETA"
	like "$(tr '\r' '\n' <tty.out | grep -a 'deleted 60000 rows')" "archive_logs: deleted 60000 rows" \
	    "... then the summary line"
else
	skip "script not installed"
	skip "script not installed"
fi
run archive_logs --db g2.db --now "$NOW" --no-archive --batch-size 20
is "$RC|$(printf '%s%s' "$OUT" "$ERR" | grep -c $'\r')" "0|0" "not on a terminal (cron): no progress line"

# --- bad input ------------------------------------------------------------------------
status s.db --max-age 0
like "$RC|$ERR" "^64\|jobs_status: --max-age: '0' is not" "--max-age 0: 64"
status nothere.db
is "$RC" 66 "a missing database: 66"
q empty.db "CREATE TABLE t (a)"
status empty.db
is "$RC" 78 "an unmigrated database: 78"

done_testing
