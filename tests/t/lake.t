#!/bin/bash
# docs/scaling.md's examples, run as the page gives them: every fenced block
# under a "<!-- lake.t: ENGINE NAME -->" line is taken from the page (with
# /var/lib/shop/ replaced by the test's directory) and run by sqlite3, bash,
# Python's sqlite3 (the D1 statements) or DuckDB.  A database with events in
# every SPEC 3 form, late events, legacy analytics rows (some with an
# unreadable time) and logs goes through prune_events, retire_table,
# archive_logs, a restore and a run killed between its file and its commit;
# then, checked against an independent reading of the database made before
# (tests/lib/tsmodel.py):
#   - always: the files the page's globs select are exactly the manifest's
#     'done' files, and their rows, decompressed by Python, are exactly the
#     rows archived, each in the partition of its UTC day, once; the page's
#     manifest queries agree; while a killed run's file is left the glob
#     selects it and counts its rows twice; the D1 batch deletes exactly its
#     rows or nothing;
#   - with DuckDB (@duckdb/node-api, found from $DUCKDB_NODE_MODULES or
#     `npm root -g`, tests/lib/lake.mjs): the page's DuckDB queries give the
#     same counts; without it those checks say "skip".
# The page and lake.mjs are found before tap.sh moves into its directory.
DOC=$(cd "$(dirname "$0")/../.." && pwd)/docs/scaling.md
. "$(dirname "$0")/../lib/events.sh"
. "$(dirname "$0")/../lib/tap.sh"

export LC_ALL=C
[ -f "$DOC" ] || { echo "Bail out! $DOC not found"; exit 1; }
# The jobs record the archive directory resolved (realpath): so does the test.
T=$(cd "$T" && pwd -P)

NOW='2025-10-07T12:00:00Z'	# events: cutoff 2025-07-09; logs: 2025-09-07
DUCK_SKIP='DuckDB not installed (npm install @duckdb/node-api; set DUCKDB_NODE_MODULES)'
TABLES="analytics_events analytics system_logs"

# --- the page's blocks ---------------------------------------------------------------
# block NAME: the text of the fenced block under "<!-- lake.t: ENGINE NAME -->"
# (nothing, and status 1, if there is none).
block() {
	local text
	text=$(awk -v name="$1" '
	    want == 0 && $0 ~ "^<!-- lake\\.t: [a-z0-9]+ " name " -->$" { want = 1; next }
	    want == 1 { if ($0 ~ /^```[a-z]+$/) { want = 2; next } exit }
	    want == 2 && /^```$/ { exit }
	    want == 2 { print }' "$DOC")
	[ -n "$text" ] || return 1
	printf '%s\n' "$text" | sed "s|/var/lib/shop/|$T/|g"
}
# Every marked block is one this test runs: none is left unchecked.
BLOCKS="duckdb:archived-events duckdb:daily-counts duckdb:legacy-days duckdb:legacy-rows duckdb:rollup-diff duckdb:total sh:daily-export sh:done-list sqlite3:at-rest sqlite3:d1-commit sqlite3:d1-lease sqlite3:d1-read sqlite3:d1-tables sqlite3:manifest-days sqlite3:restored-moves"
is "$(grep -o '^<!-- lake\.t: [a-z0-9]* [a-z0-9-]* -->$' "$DOC" | awk '{ print $3 ":" $4 }' | sort | paste -sd' ')" \
    "$BLOCKS" "the page's marked blocks are the ones this test runs"
for b in $BLOCKS; do
	block "${b#*:}" >/dev/null ||
	    { echo "Bail out! docs/scaling.md: no fenced block under the marker '${b#*:}'"; exit 1; }
done
# sqlblock DB NAME: run the page's sqlite3 block NAME on DB.
sqlblock() { q "$1" "$(block "$2")"; }
# The page's glob for a table: the one of its DuckDB view for the events
# (the legacy table's own for analytics), the same form for the others.
glob_of() {
	local g
	case $1 in
	analytics) g=$(block legacy-days | grep -o "read_json('[^']*'" | head -1) ;;
	*) g=$(block archived-events | grep -o "read_json('[^']*'" | head -1 |
	    sed "s|/analytics_events/|/$1/|") ;;
	esac
	g=${g#read_json(\'}
	printf '%s\n' "${g%\'}"
}

# --- DuckDB ------------------------------------------------------------------------
DUCK=0
if command -v node >/dev/null 2>&1 &&
    node "$TAP_LIB/lake.mjs" probe >"$T/.probe" 2>&1; then
	DUCK=1
	echo "# DuckDB: $(cat "$T/.probe")"
else
	echo "# DuckDB: $( (command -v node >/dev/null && cat "$T/.probe") || echo 'no node on PATH')"
fi
# duck NAME...: run the page's DuckDB blocks in turn on one connection; the
# output of each after a line "== NAME.sql".
duck() {
	local n files=()
	for n in "$@"; do
		block "$n" >"$T/$n.sql"
		files+=("$T/$n.sql")
	done
	node "$TAP_LIB/lake.mjs" run "${files[@]}" 2>&1
}
# section NAME: the rows of NAME in the output of duck, in $DUCK_OUT.
section() { printf '%s\n' "$DUCK_OUT" | awk -v h="== $1.sql" '$0 == h { on = 1; next } /^== / { on = 0 } on'; }

# --- independent readings ------------------------------------------------------------
cat >"$T/lakecheck.py" <<'EOF'
"""lakecheck.py model DB: "table id day" of every row the jobs must archive
(events and logs before their cutoffs, every legacy row), the day read by
tsmodel.py, __HIVE_DEFAULT_PARTITION__ for a legacy row without one.
lakecheck.py glob PATTERN ROOT: the files PATTERN selects, relative to ROOT.
lakecheck.py rows ROOT: "id day" of every row in the files named on stdin
(relative to ROOT), the day from the file's partition; "BROKEN path" for a
file that is not a complete gzip stream.
lakecheck.py legacy DB: "id|date|day" of the legacy rows, as the page's
legacy-rows query should give them."""
import glob, json, os, re, sqlite3, sys, zlib
sys.path.insert(0, os.environ["TAP_LIB"])
from tsmodel import day_of, parse_ms

CUTOFF = {"analytics_events": 1752019200000, "system_logs": 1757203200000}
mode = sys.argv[1]
if mode == "model":
    con = sqlite3.connect(sys.argv[2])
    for table in ("analytics_events", "analytics", "system_logs"):
        for i, v in con.execute('SELECT id, created_at FROM "%s" ORDER BY id' % table):
            ms = parse_ms(v)
            if table == "analytics":
                print(table, i, "__HIVE_DEFAULT_PARTITION__" if ms is None else day_of(ms))
            elif ms is not None and ms < CUTOFF[table]:
                print(table, i, day_of(ms))
elif mode == "glob":
    root = sys.argv[3]
    for p in sorted(glob.glob(sys.argv[2], recursive=True)):
        print(os.path.relpath(p, root))
elif mode == "rows":
    root = sys.argv[2]
    out = []
    for rel in sys.stdin.read().split():
        day = re.search(r"/date=([^/]+)/", "/" + rel).group(1)
        try:
            with open(os.path.join(root, rel), "rb") as f:
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                data = d.decompress(f.read()) + d.flush()
            if not d.eof or d.unused_data:
                raise ValueError
        except (OSError, ValueError, zlib.error):
            print("BROKEN", rel)
            continue
        for line in data.decode("utf-8").splitlines():
            out.append((json.loads(line)["id"], day))
    for i, day in sorted(out):
        print(i, day)
elif mode == "legacy":
    con = sqlite3.connect(sys.argv[2])
    for i, d, v in con.execute("SELECT id, date, created_at FROM analytics ORDER BY id"):
        ms = parse_ms(v)
        print("%d|%s|%s" % (i, "NULL" if d is None else d, "NULL" if ms is None else day_of(ms)))
EOF
PY=$(python3 -c 'import sys; print(sys.executable)')
lakecheck() { "$PY" -S "$T/lakecheck.py" "$@"; }
# done_paths TABLE: the manifest's 'done' files of TABLE (all tables if "").
done_paths() {
	q "$T/shop.db" "SELECT path FROM archive_manifest WHERE state = 'done'
	    AND ('$1' = '' OR table_name = '$1') ORDER BY path"
}
# glob_files TABLE: what the page's glob selects for TABLE, relative to archive/.
glob_files() { lakecheck glob "$(glob_of "$1")" "$T/archive"; }
# want TABLE: "id day" of the rows of TABLE the model says are archived.
want() { grep "^$1 " "$T/model" | cut -d' ' -f2- | sort -n; }
# per_day: "day|rows" from "id day" lines.
per_day() { cut -d' ' -f2 | sort | uniq -c | awk '{ print $2 "|" $1 }'; }

# --- the database ----------------------------------------------------------------------
# Version 2, so that the legacy table exists.  900 events over 30 days from
# 2025-06-20 (the cutoff is 2025-07-09) in the six forms of SPEC 3, and two
# unreadable ones; 300 legacy rows over 10 days of January and three whose
# time cannot be read; 300 log lines over 28 days from 2025-08-24 (cutoff
# 2025-09-07), their created_at a TEXT column.
"$JOBS_BIN/migrate" --db shop.db --to 2 -q || { echo "Bail out! migrate failed"; exit 1; }
q shop.db "$(events_sql 900 1750377600 2592000)
  INSERT INTO analytics_events (id, event_type, created_at) VALUES (2001, 'e1', 'garbage'), (2002, 'e2', NULL);
  WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 299),
    t(i, s) AS (SELECT i, 1735689600 + (i * 7919) % 864000 FROM c)
    INSERT INTO analytics (id, page, views, date, created_at)
    SELECT 1 + i, '/p/' || (i % 31), i % 9, date(s, 'unixepoch'), $(ts_forms_sql) FROM t;
  INSERT INTO analytics (id, page, views, date, created_at) VALUES
    (3001, '/bad', 1, NULL, NULL), (3002, '/bad', 2, 'x', 'garbage'),
    (3003, '/bad', 3, 'y', '2025-02-30 10:00:00');
  WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 299),
    t(i, s) AS (SELECT i, 1755993600 + (i * 7919) % 2419200 FROM c)
    INSERT INTO system_logs (id, level, source, message, context, created_at)
    SELECT 1 + i, CASE i % 4 WHEN 0 THEN 'debug' WHEN 1 THEN 'info' WHEN 2 THEN 'warn' ELSE 'error' END,
      'web', 'message ' || i, NULL, $(ts_forms_sql) FROM t;" ||
    { echo "Bail out! cannot fill the database"; exit 1; }
cp shop.db before.db
lakecheck model before.db >"$T/model"
# A late event for a day the first prune archives (2025-07-01): not rolled
# up, archived by the second run (see rollup-diff).
echo "analytics_events 5001 2025-07-01" >>"$T/model"
EVENTS=$(want analytics_events | wc -l)

# --- 1. the jobs -------------------------------------------------------------------------
mkdir archive
run rollup_daily --db shop.db --now "$NOW" -q
is "$RC" 0 "rollup_daily"
run prune_events --db shop.db --now "$NOW" --archive-dir archive --batch-size 40
like "$RC|$OUT" "^0\|prune_events: archived $((EVENTS - 1)) rows of analytics_events" "prune_events archives the events before the cutoff"
run retire_table --db shop.db --table analytics --archive-dir archive --batch-size 50
like "$RC|$OUT" "^0\|retire_table: archived 303 rows of analytics .* 3 of them with an unreadable time" "retire_table archives every legacy row"
run archive_logs --db shop.db --now "$NOW" --archive-dir archive --batch-size 40
like "$RC|$OUT" "^0\|archive_logs: archived $(want system_logs | wc -l) rows of system_logs" "archive_logs archives the logs before the cutoff"

# One file of 2025-07-02 restored (it moves to _restored/), and the late event.
R=$(cd archive && printf '%s\n' analytics_events/date=2025-07-02/*.jsonl.gz | head -1)
run restore_archive --db shop.db --file "archive/$R"
like "$RC|$OUT" "^0\|restore_archive: restored [0-9]+ rows" "restore_archive puts one file's rows back"
q shop.db "INSERT INTO analytics_events (id, event_type, user_id, session_id, product_id, metadata, created_at)
    VALUES (5001, 'e0', NULL, 's-late', 3, '{}', '2025-07-01T12:00:00Z')"

# --- 2. a run killed between its file and its commit -------------------------------------
# strace kills prune_events at its first unlinkat: the one that removes the
# temporary name after the link (common/archive_file.h).  Its first batch is
# the late event's day: a complete file under its final name, its manifest
# row 'writing', its row still in the table, and the temporary name beside it.
if command -v strace >/dev/null 2>&1 && strace -f -o /dev/null true 2>/dev/null; then
	# (in a subshell that waits for it, so that bash's "Killed" goes nowhere)
	( strace -f -o /dev/null -e trace=unlinkat -e inject=unlinkat:signal=KILL:when=1 \
	    "$JOBS_BIN/prune_events" --db shop.db --now "$NOW" --archive-dir archive \
	    --batch-size 40 >/dev/null 2>&1; true ) 2>/dev/null
	W=$(q shop.db "SELECT path FROM archive_manifest WHERE state = 'writing'")
	is "$(sqlblock shop.db at-rest)" 1 "at-rest: 1 while the killed run's file is left"
	like "$W|$([ -f "archive/$W" ]; echo $?)" '^analytics_events/date=2025-07-01/[0-9a-f]+-5001-5001-[0-9a-f]+\.jsonl\.gz\|0$' \
	    "... a complete file under its final name, the late event's, its manifest row 'writing'"
	tmp="analytics_events/date=2025-07-01/.${W##*/}.tmp"
	ok "$([ -f "archive/$tmp" ]; echo $?)" "... its temporary name is in the tree too"
	is "$(glob_files analytics_events)" "$( (done_paths analytics_events; echo "$W") | sort)" \
	    "the glob selects the 'done' files and the 'writing' one, not the temporary name"
	block done-list >"$T/.done-list.sh"
	bash "$T/.done-list.sh"
	is "$(cat archive-done.txt)" "$(done_paths "")" "done-list: the manifest's 'done' files, without the 'writing' one"
	wrows=$(echo "$W" | lakecheck rows "$T/archive" | cut -d' ' -f1 | paste -sd,)
	is "$wrows|$(q shop.db "SELECT group_concat(id) FROM analytics_events WHERE id IN ($wrows)")" "5001|5001" \
	    "the 'writing' file holds the late event, still in the table"
	is "$(glob_files analytics_events | lakecheck rows "$T/archive" | wc -l)" \
	    "$(( $(q shop.db "SELECT sum(rows) FROM archive_manifest WHERE table_name = 'analytics_events' AND state = 'done'") + 1 ))" \
	    "... so the rows under the glob are the 'done' rows plus that one, counted twice"
	if [ "$DUCK" = 1 ]; then
		DUCK_OUT=$(duck archived-events total)
		n=$(( $(done_paths analytics_events | lakecheck rows "$T/archive" | wc -l) + 1 ))
		is "$(section total)" "$n|$n" "DuckDB total while the file is left: the 'done' rows plus the 'writing' one"
	else
		skip "$DUCK_SKIP"
	fi
	CRASHED=1
else
	for _ in 1 2 3 4 5 6 7 8; do skip "no strace: no run killed between file and commit"; done
	CRASHED=0
fi

# The next run recovers (removes the file and its manifest row) and archives
# the late event and the restored rows again.
run prune_events --db shop.db --now "$NOW" --archive-dir archive --batch-size 40
like "$RC|$OUT" "^0\|prune_events: archived [0-9]+ rows" "the next prune_events run finishes"
if [ "$CRASHED" = 1 ]; then
	like "$ERR" "removed unfinished archive '[^']*${W##*/}'" "... and removed the killed run's file"
	ok "$( [ ! -e "archive/$W" ] && [ ! -e "archive/$tmp" ]; echo $?)" "... both its names"
else
	for _ in 1 2; do skip "no strace: no run killed between file and commit"; done
fi

# --- 3. at rest: the globs against the manifest and the model -----------------------------
is "$(sqlblock shop.db at-rest)" 0 "at-rest: 0 after a run that exited 0"
for t in $TABLES; do
	is "$(glob_files "$t")" "$(done_paths "$t")" "$t: the page's glob selects exactly the manifest's 'done' files"
	got=$(glob_files "$t" | lakecheck rows "$T/archive")
	is "$got" "$(want "$t")" "$t: the files' rows are the rows archived, each in its UTC day's partition, once"
done
ok "$(find archive -path '*/_restored/*' -name '*.jsonl.gz' | grep -q .; echo $?)" "the tree holds a restored file (under _restored/)"
is "$(find archive -name '.*' | wc -l)" 0 "no temporary name is left"
block done-list >"$T/.done-list.sh"
bash "$T/.done-list.sh"
is "$(cat archive-done.txt)" "$(for t in $TABLES; do glob_files "$t"; done | sort)" \
    "done-list: exactly the files the globs select"
moves=$(sqlblock shop.db restored-moves)
is "$(printf '%s\n' "$moves" | awk -F'|' -v a="$T/archive" '{
    live = (system("test -e \"" a "/" $1 "\"") == 0)
    kept = (system("test -f \"" a "/" $2 "\"") == 0)
    print (live ? "live" : "-") "," (kept ? "restored" : "-") }')" "-,restored" \
    "restored-moves: one file, gone from its live name, present under _restored/"
is "$(printf '%s\n' "$moves" | cut -d'|' -f1)" "$R" "restored-moves: its live name is the file restored"
is "$(sqlblock shop.db manifest-days)" "$(want analytics_events | per_day)" \
    "manifest-days: the rows archived per day, as the model counts them"
is "$(q shop.db "SELECT id FROM analytics_events ORDER BY id" | paste -sd' ')" \
    "$(q before.db "SELECT id FROM analytics_events ORDER BY id" | grep -vxF -f <(want analytics_events | cut -d' ' -f1) | paste -sd' ')" \
    "the table holds the events not archived, and only them"

# --- 4. DuckDB ------------------------------------------------------------------------
if [ "$DUCK" = 1 ]; then
	block daily-export >"$T/.daily-export.sh"
	bash "$T/.daily-export.sh"
	DUCK_OUT=$(duck archived-events daily-counts total rollup-diff legacy-days legacy-rows)
	is "$(printf '%s\n' "$DUCK_OUT" | grep '^ERROR')" "" "the DuckDB blocks run without error"
	is "$(section daily-counts)" "$(want analytics_events | per_day)" "daily-counts: the model's rows per day"
	is "$(section total)" "$EVENTS|$EVENTS" "total: every archived event, every id once"
	c=$(q shop.db "SELECT count || '|' || unique_users FROM analytics_daily WHERE date = '2025-07-01' AND event_type = 'e0'")
	is "$(section rollup-diff)" "2025-07-01|e0|$(( ${c%|*} + 1 ))|${c%|*}|${c#*|}|${c#*|}" \
	    "rollup-diff: only the day with the late event, one more than its frozen rollup"
	days=$(want analytics | per_day)
	is "$(section legacy-days)" "$(printf '%s\n' "$days" | grep '^__HIVE_DEFAULT_PARTITION__|' | sed 's/^[^|]*/NULL/'
	    printf '%s\n' "$days" | grep -v '^__HIVE_DEFAULT_PARTITION__|')" \
	    "legacy-days: the legacy rows per day, __HIVE_DEFAULT_PARTITION__ read as NULL (first)"
	is "$(section legacy-rows)" "$(lakecheck legacy before.db)" \
	    "legacy-rows: the table's own date column, and the partition's day"
else
	for _ in 1 2 3 4 5 6; do skip "$DUCK_SKIP"; done
fi

# --- 5. the D1 statements, on SQLite --------------------------------------------------
# Each batch runs as D1 documents it: the statements in order in one
# transaction, rolled back whole when one fails.  d1.py reads the blocks
# from files and binds ?1.. (an HTTP request's parameters are strings).
cp before.db d1.db
sqlblock d1.db d1-tables
for n in d1-lease d1-read d1-commit; do block "$n" >"$T/$n.sql"; done
cat >"$T/d1.py" <<'EOF'
"""d1.py DB lease HOLDER | read FIRST LAST | commit MANIFEST HOLDER < ROWS"""
import json, re, sqlite3, sys

def statements(path):
    out, buf = [], ""
    for line in open(path):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    return out

def batch(con, stmts, params):
    con.execute("BEGIN IMMEDIATE")
    try:
        rows = []
        for s in stmts:
            n = max([int(k) for k in re.findall(r"\?([0-9]+)", s)] or [0])
            rows = con.execute(s, params[:n]).fetchall()
        con.execute("COMMIT")
        return rows
    except sqlite3.Error as e:
        con.execute("ROLLBACK")
        print("ERROR", e)
        return None

con = sqlite3.connect(sys.argv[1], isolation_level=None)
mode = sys.argv[2]
if mode == "lease":
    for r in batch(con, statements(sys.argv[3] + "/d1-lease.sql"), [sys.argv[4]]) or []:
        print(r[0])
elif mode == "read":
    ids = json.dumps(list(range(int(sys.argv[4]), int(sys.argv[5]) + 1)))
    rows = batch(con, statements(sys.argv[3] + "/d1-read.sql"), [ids])
    print(json.dumps([[i, line] for i, line in rows]))
elif mode == "commit":
    rows = sys.stdin.read()
    if batch(con, statements(sys.argv[3] + "/d1-commit.sql"),
             [rows, sys.argv[4], sys.argv[5], "1234"]) is not None:
        print("committed")
EOF
d1() { "$PY" "$T/d1.py" "$T/d1.db" "$1" "$T" "${@:2}"; }
intent() {	# intent FIRST: a 'writing' manifest row; its id
	q d1.db "INSERT INTO archive_manifest (job, table_name, day, archive_dir, path, state, created_at)
	    VALUES ('prune_events', 'analytics_events', '2025-06-20', '$T/archive',
	      'analytics_events/date=2025-06-20/d1-$1.jsonl.gz', 'writing', '2025-10-07T12:00:00Z');
	  SELECT last_insert_rowid()"
}
left() { q d1.db "SELECT count(*) FROM analytics_events WHERE id BETWEEN $1 AND $2"; }
total() { q d1.db "SELECT count(*) FROM analytics_events"; }
state() { q d1.db "SELECT state || ',' || ifnull(rows, '') || ',' || ifnull(min_id, '') || ',' || ifnull(max_id, '') || ',' || ifnull(bytes, '') FROM archive_manifest WHERE id = $1"; }

is "$(d1 lease a)|$(d1 lease b)|$(d1 lease a)" "a||a" "d1-lease: taken, refused to another holder while it runs, renewed by its holder"
n=$(total)
m=$(intent 1)
rows=$(d1 read 1 20)
is "$(printf '%s' "$rows" | d1 commit "$m" a)|$(left 1 20)|$(total)|$(state "$m")|$(q d1.db "SELECT count(*) FROM archive_guard")" \
    "committed|0|$((n - 20))|done,20,1,20,1234|0" "d1-commit: deletes exactly the batch's rows, the file 'done', the guard empty"
m=$(intent 21)
rows=$(d1 read 21 40)
q d1.db "UPDATE analytics_events SET metadata = 'changed' WHERE id = 25"
like "$(printf '%s' "$rows" | d1 commit "$m" a)|$(left 21 40)|$(state "$m")" "^ERROR CHECK constraint failed.*\|20\|writing,,,,$" \
    "d1-commit: a row changed since the read: nothing deleted, the file still 'writing'"
m=$(intent 41)
rows=$(d1 read 41 60)
q d1.db "DELETE FROM analytics_events WHERE id = 50"
like "$(printf '%s' "$rows" | d1 commit "$m" a)|$(left 41 60)|$(state "$m")" "^ERROR CHECK constraint failed.*\|19\|writing,,,,$" \
    "d1-commit: a row gone since the read: nothing deleted"
m=$(intent 81)
rows=$(d1 read 81 100)
q d1.db "DELETE FROM archive_manifest WHERE id = $m"
like "$(printf '%s' "$rows" | d1 commit "$m" a)|$(left 81 100)" "^ERROR CHECK constraint failed.*\|20$" \
    "d1-commit: a file whose manifest row a recovery removed: nothing deleted"
m=$(intent 61)
rows=$(d1 read 61 80)
q d1.db "UPDATE jobs_lease SET expires_at = unixepoch() - 1"
like "$(printf '%s' "$rows" | d1 commit "$m" a)|$(left 61 80)" "^ERROR CHECK constraint failed.*\|20$" \
    "d1-commit: by a run whose lease expired: nothing deleted"
is "$(d1 lease b)" b "d1-lease: an expired lease goes to the next holder"
like "$(printf '%s' "$rows" | d1 commit "$m" a)|$(left 61 80)|$(state "$m")" "^ERROR CHECK constraint failed.*\|20\|writing,,,,$" \
    "d1-commit: by a run that lost its lease: nothing deleted"
is "$(printf '%s' "$rows" | d1 commit "$m" b)|$(left 61 80)|$(state "$m")|$(total)" "committed|0|done,20,61,80,1234|$((n - 41))" \
    "d1-commit: the same batch by the lease's holder commits; nothing else was ever deleted"

done_testing
