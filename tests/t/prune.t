#!/bin/bash
# prune_events and archive_logs (SPEC sections 3, 4, 5 and 6): which rows are
# archived for every timestamp form around the cutoff, exact archives (a
# column-by-column round trip by tests/lib/archive.py), reruns, the rollup
# refusal, batches, archive directory errors, a full disk, --dry-run, two
# databases sharing one archive directory, and usage errors.
# ids.sh and events.sh first: tap.sh moves into the test's temporary directory.
. "$(dirname "$0")/../lib/ids.sh"
. "$(dirname "$0")/../lib/events.sh"
. "$(dirname "$0")/../lib/tap.sh"

export LC_ALL=C

NOW='2025-10-07T12:00:00Z'	# 90 days back: the cutoff is 2025-07-09T00:00:00Z

# --- helpers ------------------------------------------------------------------
prune() { run prune_events --db "$1" --now "$NOW" "${@:2}"; }
logs() { run archive_logs --db "$1" --now "$NOW" "${@:2}"; }
# rollup DB: rollup_daily, its warnings (unreadable values) kept off the output.
rollup() {
	"$JOBS_BIN/rollup_daily" --db "$1" --now "$NOW" -q 2>"$T/.rollup" ||
	    sed 's/^/# rollup_daily failed: /' "$T/.rollup"
}
# ids DB TABLE: the ids in the table, sorted, space separated.
ids() { q "$1" "SELECT id FROM \"$2\" ORDER BY id" | paste -sd' '; }
# gz DIR: the archive files under DIR, sorted.
gz() { find "$1" -type f -name '*.jsonl.gz' | sort; }
# lines DIR: every archived JSON line under DIR.
lines() {
	local f
	gz "$1" | while read -r f; do zcat "$f"; done
}
# tap.sh has moved into the test's temporary directory; archive.py is beside it.
ARCH=$(cd "$OLDPWD" && cd "$(dirname "$0")/../lib" && pwd)/archive.py
[ -f "$ARCH" ] || { echo "Bail out! $ARCH not found"; exit 1; }
# The interpreter itself, not a version manager's shim: it runs many times.
PY=$(python3 -c 'import sys; print(sys.executable)')
arch() { "$PY" -S "$ARCH" "$@"; }
# archived DIR: the ids in every archive file under DIR (duplicates kept).
archived() { arch ids "$1"; }
dups() { printf '%s' "$1" | tr ' ' '\n' | sed '/^$/d' | sort -n | uniq -d | paste -sd' '; }
nfiles() { find "$1" -type f | wc -l; }
# data_fp DB: the fingerprint without job_runs (a failed run is recorded there).
data_fp() { fingerprint "$1" job_runs; }
dbid() { q "$1" "SELECT value FROM jobs_meta WHERE key = 'database_id'"; }

# check_archive DIR DB: what is wrong with the archive tree of DB's files
# under DIR, one line per problem, nothing when all is well (see archive.py:
# files other than complete archives, modes, names, the manifest's 'done' rows
# against the files on disk, rows left 'writing'), and gzip -t on every file.
check_archive() {
	gz "$1" | xargs -r gzip -t 2>&1 | sed 's/^/gzip -t: /'
	arch check "$1" "$2"
}

# ev DB ID CREATED_AT: one event with the minimal insert contract.
ev() {
	q "$1" "INSERT INTO analytics_events (id, event_type, user_id, session_id, product_id, metadata, created_at)
	    VALUES ($2, 'page_view', 1, 's1', 1, '{}', $3)"
}

# mkevents DB N FIRST_ID START SPAN: N events with ids FIRST_ID.., their times
# spread over [START, START + SPAN) seconds, created_at cycling through the
# SPEC 3 forms (integer seconds and milliseconds, space and T text, Z, +05:30
# and -08:00 offsets).
mkevents() {
	q "$1" "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < $2 - 1),
	    t(i, s) AS (SELECT i, $4 + (i * 7919) % $5 FROM c)
	    INSERT INTO analytics_events (id, event_type, user_id, session_id, product_id, metadata, created_at)
	    SELECT $3 + i, 'e' || (i % 4), nullif(i % 13, 0), 's' || (i % 50), i % 30, '{\"i\":' || i || '}',
	      $(ts_forms_sql) FROM t"
}

# --- 1. every SPEC 3 form around the cutoff ------------------------------------
# id|created_at as SQL|A (archived) or K (kept)|UTC day when archived
FORMS_EVENTS="
1|'2025-07-08 23:59:59.999'|A|2025-07-08
2|'2025-07-08 23:59:59'|A|2025-07-08
3|'2025-07-08T23:59:59'|A|2025-07-08
4|'2025-07-08T23:59:59.999Z'|A|2025-07-08
5|'2025-07-08T23:59:59Z'|A|2025-07-08
6|'2025-07-09T01:00:00+02:00'|A|2025-07-08
7|'2025-07-09T13:59:59.999+14:00'|A|2025-07-08
8|'2025-07-08T21:59:59-02:00'|A|2025-07-08
9|'2025-07-08T23:59:59.999+00:00'|A|2025-07-08
10|1752019199|A|2025-07-08
11|1752019199999|A|2025-07-08
12|'2025-01-01 00:00:00'|A|2025-01-01
13|100000000000|A|1973-03-03
14|'2025-07-08 00:00:00'|A|2025-07-08
15|'2025-07-07T23:30:00-02:00'|A|2025-07-08
21|'2025-07-09 00:00:00'|K|
22|'2025-07-09T00:00:00'|K|
23|'2025-07-09T00:00:00Z'|K|
24|'2025-07-09T00:00:00.000Z'|K|
25|'2025-07-08T23:30:00-02:00'|K|
26|'2025-07-09T02:00:00+02:00'|K|
27|'2025-07-08T22:00:00-02:00'|K|
28|'2025-07-08T10:00:00-14:00'|K|
29|1752019200|K|
30|1752019200000|K|
31|'2025-07-09 00:00:00.001'|K|
32|'2025-10-07 11:00:00'|K|
33|99999999999|K|
41|NULL|K|
42|'garbage'|K|
43|'2025-02-30 10:00:00'|K|
44|'2025-07-08 24:00:00'|K|
45|'2025-07-08'|K|
46|'2025-07-08 23:59'|K|
47|'2025-07-08T23:00:00+15:00'|K|
48|''|K|
49|'2025-07-08 23:59:59 '|K|
50|X'31373532303139313939'|K|
51|'2025-07-08T23:59:59.999+0200'|K|
"
# system_logs.created_at is TEXT: numbers become digit-only text there.
FORMS_LOGS="
1|'2025-07-08 23:59:59.999'|A|2025-07-08
2|'2025-07-08T23:59:59.999Z'|A|2025-07-08
3|'2025-07-09T01:00:00+02:00'|A|2025-07-08
4|'1752019199'|A|2025-07-08
5|'1752019199999'|A|2025-07-08
6|1752019199|A|2025-07-08
7|1752019199999|A|2025-07-08
8|'100000000000'|A|1973-03-03
9|'2025-07-08T21:59:59-02:00'|A|2025-07-08
21|'2025-07-09 00:00:00'|K|
22|'2025-07-08T23:30:00-02:00'|K|
23|'1752019200'|K|
24|'1752019200000'|K|
25|1752019200|K|
26|'99999999999'|K|
27|'2025-07-09T00:00:00Z'|K|
41|NULL|K|
42|'garbage'|K|
43|'2025-02-30 10:00:00'|K|
44|'0001759622400'|K|
45|'-1752019199'|K|
46|' 1752019199'|K|
47|'1752019199.5'|K|
48|'17520191990000000000'|K|
"
forms_expect() {	# LIST A|K: the ids expected archived (A) or kept (K)
	printf '%s\n' "$1" | awk -F'|' -v w="$2" 'NF && $3 == w { print $1 }' | sort -n | paste -sd' '
}
forms_days() {		# LIST: "id day" of the archived ones
	printf '%s\n' "$1" | awk -F'|' 'NF && $3 == "A" { print $1 " " $4 }' | sort -n | paste -sd','
}

new_db forms.db
printf '%s\n' "$FORMS_EVENTS" | while IFS='|' read -r id v _ _; do
	[ -n "$id" ] && echo "INSERT INTO analytics_events (id, event_type, user_id, session_id, product_id, metadata, created_at) VALUES ($id, 'page_view', $id, 's$id', 1, '{}', $v);"
done | sqlite3 -bail forms.db
printf '%s\n' "$FORMS_LOGS" | while IFS='|' read -r id v _ _; do
	[ -n "$id" ] && echo "INSERT INTO system_logs (id, level, source, message, context, created_at) VALUES ($id, 'info', 'test', 'log $id', NULL, $v);"
done | sqlite3 -bail forms.db
rollup forms.db
mkdir forms
prune forms.db --archive-dir forms
is "$RC" 0 "forms: prune_events exit 0"
is "$(ids forms.db analytics_events)" "$(forms_expect "$FORMS_EVENTS" K)" \
    "forms: events at or after the cutoff, and unreadable ones, stay in the table"
is "$(archived forms/analytics_events)" "$(forms_expect "$FORMS_EVENTS" A)" \
    "forms: events before the cutoff are archived, each once"
is "$(arch id-days forms/analytics_events)" "$(forms_days "$FORMS_EVENTS")" \
    "forms: each archived event is in the partition of its UTC day"
n_unreadable=$(printf '%s\n' "$FORMS_EVENTS" | awk -F'|' '$1 >= 41' | grep -c .)
like "$OUT $ERR" "(\b$n_unreadable\b[^0-9]*unreadable|unreadable[^0-9]*\b$n_unreadable\b)" \
    "forms: prune_events reports the $n_unreadable unreadable created_at it met (SPEC 3)"

logs forms.db --archive-dir forms --retention-days 90
is "$RC" 0 "forms: archive_logs exit 0"
is "$(ids forms.db system_logs)" "$(forms_expect "$FORMS_LOGS" K)" \
    "forms: logs at or after the cutoff, and unreadable ones (digit text with a leading 0 or sign, too long), stay"
is "$(archived forms/system_logs)" "$(forms_expect "$FORMS_LOGS" A)" \
    "forms: logs before the cutoff (dates, digit-only text in seconds and ms) are archived, each once"
is "$(arch id-days forms/system_logs)" "$(forms_days "$FORMS_LOGS")" \
    "forms: each archived log is in the partition of its UTC day"
n_unreadable=$(printf '%s\n' "$FORMS_LOGS" | awk -F'|' '$1 >= 41' | grep -c .)
like "$OUT $ERR" "(\b$n_unreadable\b[^0-9]*unreadable|unreadable[^0-9]*\b$n_unreadable\b)" \
    "forms: archive_logs reports the $n_unreadable unreadable created_at it met (SPEC 3)"
is "$(check_archive forms forms.db)" "" "forms: archive tree and manifest agree"

# Valid instants before 1970 (negative Unix time, and dates within two days
# after the epoch that the text probe starts from) are as much "before the
# cutoff" as any other: SPEC 3 reads years 0001..9999.  One database each, so
# a miss is not hidden by another row.
i=0
for v in -1 "'1969-07-20 20:17:40'" "'1970-01-01 12:00:00'" "'1970-01-02T00:00:00Z'" -1000000000000 "'0001-01-01 00:00:00'"; do
	i=$((i + 1))
	new_db old$i.db
	ev old$i.db 1 "$v"
	mkdir old$i
	prune old$i.db --archive-dir old$i --skip-rollup-check
	is "$RC|$(ids old$i.db analytics_events)|$(archived old$i)" "0||1" "before 1970: created_at $v is archived"
done
# ...and such a row must not hide the days after it.
new_db old.db
ev old.db 1 -1
ev old.db 2 0
ev old.db 3 "'1970-01-02 12:00:00'"
ev old.db 4 100000000000
mkdir old
prune old.db --archive-dir old --skip-rollup-check
is "$RC|$(ids old.db analytics_events)|$(archived old)" "0||1 2 3 4" \
    "before 1970: a row dated 1969 does not make prune skip 1970-01-01 and 1970-01-02"
# The case SPEC 5 names: one stray row dated 1970 among this year's rows.
new_db stray.db
ev stray.db 1 "'2025-07-01 10:00:00'"
ev stray.db 2 1751364000
ev stray.db 3 "'1970-01-01 00:00:00'"
mkdir stray
prune stray.db --archive-dir stray --skip-rollup-check
is "$RC|$(ids stray.db analytics_events)|$(archived stray)" "0||1 2 3" \
    "one stray text row dated 1970-01-01 does not stop the prune of the 2025 rows"

# --- 2. archives reproduce every column exactly ----------------------------------
# analytics_events gets one untyped column: the declared types (INTEGER, TEXT,
# DATETIME) turn 5.0 into 5 and numbers into text, so only a column without
# affinity can hold every kind of value as it was written.
new_db rt.db
q rt.db "ALTER TABLE analytics_events ADD COLUMN extra"
q rt.db "INSERT INTO analytics_events (id, event_type, user_id, session_id, product_id, metadata, created_at, extra) VALUES
  (1, 'a\"b\\c' || char(10) || 'd' || char(9) || 'e', 9223372036854775807, CAST(X'610062' AS TEXT), -9223372036854775808, CAST(X'FF61' AS TEXT), '2025-07-01 00:00:00', X'00FF10'),
  (2, 'reals', 0.1, NULL, 1e300, -2.5, '2025-07-01T10:00:00Z', 5.0),
  (3, 'more', 0.30000000000000004, 'é€😀' || char(1) || char(127) || char(13), -1e-300, NULL, 1751364000000, 9e999),
  (4, 'blobs', NULL, X'', 0, X'FFFE', 1751364000, -9e999),
  (5, '', -1, '', 1, '{\"a\":[1,2,{\"b\":null}]}', '2025-07-01T12:00:00.123+02:00', CAST(X'C0AF' AS TEXT)),
  (6, 'x', 2.5e-8, '\\u0000 \\\"', 123456789012345678, CAST(X'EDA080' AS TEXT), '2025-07-01 23:59:59.999', 1.7976931348623157e308)"
q rt.db "INSERT INTO system_logs (id, level, source, message, context, created_at) VALUES
  (1, 'info', NULL, 'quote \" backslash \\ newline' || char(10) || 'tab' || char(9) || 'end', 9223372036854775807, '1751328000'),
  (2, 'warn', 'src', CAST(X'610062' AS TEXT), -9223372036854775808, '1751328000123'),
  (3, 'error', 'bin', CAST(X'FF61' AS TEXT), X'00FF10', '2025-07-01 08:00:00'),
  (4, 'debug', '', '', 0.1, 1751328000),
  (5, 'info', 'utf8', '日本語 ünïcödé', NULL, '2025-07-01T23:00:00-01:00')"
cp rt.db rt-orig.db
mkdir rt
prune rt.db --archive-dir rt --skip-rollup-check
is "$RC" 0 "round trip: prune_events exit 0"
logs rt.db --archive-dir rt
is "$RC" 0 "round trip: archive_logs exit 0"
lines rt/analytics_events >events.jsonl
lines rt/system_logs >logs.jsonl
is "$(wc -l <events.jsonl) $(wc -l <logs.jsonl)" "6 5" "round trip: every row archived"
is "$(arch roundtrip rt-orig.db analytics_events rt)" "" \
    "round trip: every archived event equals its original row, column by column"
is "$(arch roundtrip rt-orig.db system_logs rt)" "" \
    "round trip: every archived log equals its original row, column by column"
is "$(jq -c . <events.jsonl 2>&1 | wc -l) $(jq -c . <logs.jsonl 2>&1 | wc -l)" "6 5" "round trip: jq parses every line"
ok $(jq -c . <events.jsonl >/dev/null 2>&1 && jq -c . <logs.jsonl >/dev/null 2>&1; echo $?) "round trip: jq exits 0 on every file"
line_of() { grep "^{\"id\":$2," "$1"; }
is "$(line_of events.jsonl 1)" '{"id":1,"event_type":"a\"b\\c\nd\te","user_id":9223372036854775807,"session_id":"a\u0000b","product_id":-9223372036854775808,"metadata":{"text_base64":"/2E="},"created_at":"2025-07-01 00:00:00","extra":{"blob_base64":"AP8Q"}}' \
    "round trip: escapes, NUL, 64-bit extremes, invalid UTF-8 and a BLOB, exactly"
is "$(line_of events.jsonl 2)" '{"id":2,"event_type":"reals","user_id":0.1,"session_id":null,"product_id":1e+300,"metadata":"-2.5","created_at":"2025-07-01T10:00:00Z","extra":5.0}' \
    "round trip: reals keep a '.' or an exponent (5.0, not 5); a number in a TEXT column is a string"
is "$(line_of events.jsonl 3)" '{"id":3,"event_type":"more","user_id":0.30000000000000004,"session_id":"é€😀\u0001\u007f\u000d","product_id":-1e-300,"metadata":null,"created_at":1751364000000,"extra":1e999}' \
    "round trip: 17 significant digits, UTF-8 kept, control bytes escaped, infinity as 1e999"
is "$(line_of events.jsonl 4)" '{"id":4,"event_type":"blobs","user_id":null,"session_id":{"blob_base64":""},"product_id":0,"metadata":{"blob_base64":"//4="},"created_at":1751364000,"extra":-1e999}' \
    "round trip: empty BLOB, integer seconds as a number"
is "$(line_of logs.jsonl 1)" '{"id":1,"level":"info","source":null,"message":"quote \" backslash \\ newline\ntab\tend","context":"9223372036854775807","created_at":"1751328000"}' \
    "round trip: system_logs: digit-only text stays a string"
is "$(line_of logs.jsonl 3)" '{"id":3,"level":"error","source":"bin","message":{"text_base64":"/2E="},"context":{"blob_base64":"AP8Q"},"created_at":"2025-07-01 08:00:00"}' \
    "round trip: system_logs: invalid UTF-8 and a BLOB"

# --- checkpoints in their own thread -------------------------------------------------
# 1200 events of 3 kB: one batch leaves over 1000 pages in the WAL, so the job
# checkpoints, in a thread it starts then (docs/design.md, "Checkpoints").  The run
# must come out as any other: every row archived once, the tree complete.
new_db big.db
q big.db "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1200)
  INSERT INTO analytics_events (id, event_type, metadata, created_at)
  SELECT i, 'big', hex(randomblob(1500)), 1751328000 + i * 60 FROM c"
rollup big.db
orig=$(ids big.db analytics_events)
mkdir big
if command -v strace >/dev/null 2>&1 && strace -f -o /dev/null true 2>/dev/null; then
	# (LeakSanitizer cannot run under strace; make check finds leaks elsewhere.)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -o "$T/big.trace" \
	    -e trace=clone,clone3 "$JOBS_BIN/prune_events" --db big.db --now "$NOW" \
	    --archive-dir big --batch-size 1200 -q 2>"$T/.err"
	RC=$?
	grep -q 'CLONE_THREAD' "$T/big.trace"
	ok $? "checkpoint thread: one batch of 1200 large rows starts it"
else
	prune big.db --archive-dir big --batch-size 1200 -q
	skip "no strace: the thread itself is not seen"
fi
is "$RC" 0 "checkpoint thread: exit 0"
is "$(ids big.db analytics_events)|$(archived big)" "|$orig" "checkpoint thread: every row archived, once"
is "$(check_archive big big.db)" "" "checkpoint thread: every file complete, manifest = files on disk"
is "$(q big.db "PRAGMA integrity_check")" ok "checkpoint thread: integrity_check ok"

# --- batches shrink while transactions run slow ----------------------------------------
# An app trigger that makes every delete cost a fraction of a millisecond:
# the default batch of 2000 holds the lock far past ARCHIVE_TX_SLOW_MS, so
# the next ones are smaller (archive_next_batch()); the rows come out as
# always.  With --batch-size given, every batch has that size.
new_db slow.db
mkevents slow.db 3000 1 1751328000 86400	# 2025-07-01
q slow.db "CREATE TRIGGER slow_delete AFTER DELETE ON analytics_events BEGIN
  SELECT count(*) FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c
    WHERE i < 3000) SELECT i FROM c); END"
rollup slow.db
cp slow.db slow2.db
orig=$(ids slow.db analytics_events)
mkdir slow slow2
prune slow.db --archive-dir slow -v
is "$RC" 0 "slow deletes: exit 0"
like "$OUT$ERR" "a batch of 2000 rows held the lock [0-9]+ ms: next batches [0-9]+ rows" \
    "slow deletes: -v says the batches shrink"
n=$(gz slow | wc -l)
ok $((n > 2 ? 0 : 1)) "slow deletes: smaller batches, more files than 3000 rows / 2000 ($n)"
is "$(ids slow.db analytics_events)|$(archived slow)" "|$orig" "slow deletes: every row archived, once"
is "$(check_archive slow slow.db)" "" "slow deletes: every file complete, manifest = files on disk"
prune slow2.db --archive-dir slow2 --batch-size 1000 -v
is "$RC|$(gz slow2 | wc -l)" "0|3" "slow deletes, --batch-size 1000: exactly 3 files"
printf '%s' "$OUT$ERR" | grep -q "next batches"
ok $((1 - $?)) "slow deletes, --batch-size 1000: batches keep their size"

# --- 3. idempotent rerun; files, modes and manifest -----------------------------------
new_db idem.db
mkevents idem.db 500 1 1751068800 864000	# 2025-06-28 .. 2025-07-07
mkevents idem.db 50 1001 1752105600 864000	# 2025-07-10 .. : kept
ev idem.db 2001 "'garbage'"
ev idem.db 2002 NULL
rollup idem.db
orig=$(ids idem.db analytics_events)
mkdir idem
prune idem.db --archive-dir idem --batch-size 30
is "$RC" 0 "rerun: first run exit 0"
first_files=$(gz idem | paste -sd' ')
dfp=$(data_fp idem.db)
prune idem.db --archive-dir idem --batch-size 30
is "$RC" 0 "rerun: second run exit 0"
is "$(data_fp idem.db)" "$dfp" "rerun: second run changes no row"
like "$OUT" "nothing to do" "rerun: second run says nothing to do"
is "$(gz idem | paste -sd' ')" "$first_files" "rerun: no new file"
rem=$(ids idem.db analytics_events)
arch=$(archived idem)
is "$(id_diff "$(union "$rem" "$arch")" "$orig")" "" "rerun: table rows + archived rows = the original rows"
is "$(dups "$arch")" "" "rerun: no id archived twice"
is "$(wc -w <<<"$arch")" 500 "rerun: all 500 events before the cutoff archived"
is "$(check_archive idem idem.db)" "" "rerun: every file passes gzip -t, modes 0600/0750, no leftovers, manifest = files on disk"
is "$(q idem.db "SELECT count(*) FROM archive_manifest WHERE state = 'done'")" "$(gz idem | wc -l)" \
    "rerun: one manifest row per file"
is "$(q idem.db "SELECT count(DISTINCT day) FROM archive_manifest")" 10 \
    "rerun: one partition per UTC day (2025-06-28 .. 2025-07-07)"
is "$(q idem.db "SELECT status, exit_code, rows FROM job_runs WHERE job = 'prune_events' ORDER BY id LIMIT 1")" "ok|0|500" \
    "rerun: job_runs records the first run: ok, exit 0, 500 rows"

# --- 4. the rollup refusal ----------------------------------------------------------
new_db ref.db
ev ref.db 1 "'2025-07-01 10:00:00'"
ev ref.db 2 1751367600			# 2025-07-01 11:00:00
ev ref.db 3 "'2025-07-02T10:00:00Z'"
ev ref.db 4 "'2025-08-01 10:00:00'"	# after the cutoff
mkdir ref
fp=$(fingerprint ref.db)
prune ref.db --archive-dir ref
is "$RC" 65 "refusal: days without rollup: exit 65"
is "$(fingerprint ref.db)" "$fp" "refusal: database unchanged"
is "$(nfiles ref)" 0 "refusal: no archive file"
like "$ERR" "2025-07-01" "refusal: stderr names 2025-07-01"
like "$ERR" "2025-07-02" "refusal: stderr names 2025-07-02"
like "$ERR" "rollup_daily" "refusal: stderr says to run rollup_daily"
is "$(grep -c . <<<"$ERR")" 1 "refusal: one line on stderr"
# Events written before the schema had its triggers (a V1 database, then
# migrated) are protected the same way.
"$JOBS_BIN/migrate" --db v1ev.db --to 1 -q
q v1ev.db "INSERT INTO analytics_events (event_type, created_at) VALUES ('a', '2025-07-01 10:00:00'), ('b', 1751450400)"
"$JOBS_BIN/migrate" --db v1ev.db -q
mkdir v1ev
fp1=$(fingerprint v1ev.db)
prune v1ev.db --archive-dir v1ev
is "$RC" 65 "refusal: events from before the migration, not rolled up: exit 65"
like "$ERR" "2025-07-01.*2025-07-02" "refusal: events from before the migration: both days named"
is "$(fingerprint v1ev.db)|$(nfiles v1ev)" "$fp1|0" "refusal: events from before the migration: nothing changed"

rollup ref.db
prune ref.db --archive-dir ref
is "$RC" 0 "refusal: after rollup_daily: exit 0"
is "$(ids ref.db analytics_events)|$(archived ref)" "4|1 2 3" "refusal: after rollup_daily: both days archived"

# A rolled-up day with a late event is stale; a pruned day's late event is not.
ev ref.db 5 "'2025-07-03 10:00:00'"
rollup ref.db
ev ref.db 6 "'2025-07-03T23:00:00-01:00'"	# late, on 2025-07-04: no rollup
ev ref.db 7 "'2025-07-03 11:00:00'"		# late: 2025-07-03 is stale now
ev ref.db 8 "'2025-07-01 12:00:00'"		# late, for a pruned day
fp=$(fingerprint ref.db)
prune ref.db --archive-dir ref
is "$RC" 65 "stale: exit 65"
like "$ERR" "2025-07-03 \(stale" "stale: names 2025-07-03 as stale"
like "$ERR" "2025-07-04 \(no rollup" "stale: names 2025-07-04 as not rolled up"
is "$(grep -c "2025-07-01" <<<"$ERR")" 0 "stale: the late event of pruned 2025-07-01 does not block"
is "$(fingerprint ref.db)" "$fp" "stale: database unchanged"
is "$(archived ref)" "1 2 3" "stale: no new archive"
prune ref.db --archive-dir ref --skip-rollup-check
is "$RC" 0 "--skip-rollup-check: exit 0"
is "$(ids ref.db analytics_events)|$(archived ref)" "4|1 2 3 5 6 7 8" "--skip-rollup-check: stale and unrolled days pruned anyway"
like "$ERR" "2025-07-01.*never counted" "--skip-rollup-check: warns that the late event of 2025-07-01 was never counted"

# After a day was pruned, a late event for it: archived with a warning, no refusal.
ev ref.db 9 "'2025-07-02 23:59:59'"
prune ref.db --archive-dir ref
is "$RC" 0 "late event for a pruned day: exit 0"
is "$(ids ref.db analytics_events)|$(archived ref)" "4|1 2 3 5 6 7 8 9" "late event for a pruned day: archived"
like "$ERR" "2025-07-02.*never counted" "late event for a pruned day: warns that it was never counted"
is "$(check_archive ref ref.db)" "" "refusal: archive tree and manifest agree"
prune ref.db --archive-dir ref
is "$RC|$(grep -c 'never counted' <<<"$ERR")" "0|0" "late event for a pruned day: no warning once it is archived"

# --- 5. batches -----------------------------------------------------------------------
new_db batch.db
mkevents batch.db 1234 1 1751328000 86400	# all on 2025-07-01 UTC (the zones too)
orig=$(ids batch.db analytics_events)
mkdir batch
prune batch.db --archive-dir batch --batch-size 100 --skip-rollup-check
is "$RC" 0 "batches: exit 0"
is "$(find batch -type f -path '*/date=2025-07-01/*' -name '*.jsonl.gz' | wc -l)" 13 "batches: 1234 rows in batches of 100: 13 files"
is "$(nfiles batch)" 13 "batches: no other file"
is "$(q batch.db "SELECT count(*) FROM archive_manifest WHERE state = 'done' AND day = '2025-07-01'")" 13 "batches: 13 manifest rows"
is "$(q batch.db "SELECT rows FROM archive_manifest ORDER BY rows DESC" | uniq -c | awk '{print $1 "x" $2}' | paste -sd' ')" "12x100 1x34" \
    "batches: twelve files of 100 rows and one of 34"
arch=$(archived batch)
is "$(id_diff "$arch" "$orig")" "" "batches: every id archived"
is "$(dups "$arch")" "" "batches: no id twice"
is "$(ids batch.db analytics_events)" "" "batches: table empty"
is "$(check_archive batch batch.db)" "" "batches: archive tree and manifest agree"
new_db rt2.db
mkevents rt2.db 20 1 1751328000 86400
mkdir rt2
prune rt2.db --archive-dir rt2 --skip-rollup-check --max-runtime 1
is "$RC|$(ids rt2.db analytics_events)" "0|" "--max-runtime 1 accepted; a short run finishes"

# --- 6. archive directory errors --------------------------------------------------------
new_db dir.db
mkevents dir.db 40 1 1751328000 172800	# 2025-07-01 .. 2025-07-02
rollup dir.db
fp=$(fingerprint dir.db)
# dir_error NAME DIR EXPECTED-RC...: prune must fail with one of the codes,
# naming DIR, changing no row.
dir_error() {
	local name=$1 dir=$2
	shift 2
	prune dir.db --archive-dir "$dir"
	like "$RC" "^($(IFS='|'; echo "$*"))\$" "$name: exit $*"
	like "$ERR" "$(basename "$dir")" "$name: the error names the directory"
	is "$(grep -c . <<<"$ERR")" 1 "$name: one line on stderr"
	is "$(ids dir.db analytics_events | wc -w)" 40 "$name: nothing deleted"
}
dir_error "missing archive dir" "$T/no-such-dir" 73
is "$(fingerprint dir.db)" "$fp" "missing archive dir: database unchanged"
ok $([ ! -e "$T/no-such-dir" ]; echo $?) "missing archive dir: not created"
: >plainfile
dir_error "archive dir is a file" plainfile 73
is "$(fingerprint dir.db)" "$fp" "archive dir is a file: database unchanged"
is "$(stat -c %s plainfile)" 0 "archive dir is a file: file untouched"
mkdir ro
chmod 500 ro
if touch ro/.probe 2>/dev/null; then
	rm -f ro/.probe
	skip "read-only archive dir: running as root, permissions do not apply"
else
	dir_error "read-only archive dir" ro 73
	is "$(fingerprint dir.db)" "$fp" "read-only archive dir: database unchanged"
fi
chmod 700 ro

# Symlinks planted inside the tree are never followed.
mkdir sym elsewhere
ln -s "$T/elsewhere" sym/analytics_events
dfp=$(data_fp dir.db)
dir_error "symlink at DIR/analytics_events" sym 73 74
is "$(data_fp dir.db)" "$dfp" "symlink at DIR/analytics_events: no row, manifest or rollup state changed"
is "$(find elsewhere -mindepth 1 | wc -l)" 0 "symlink at DIR/analytics_events: nothing written into the target"
is "$(q dir.db "SELECT status || ' ' || exit_code FROM job_runs ORDER BY id DESC LIMIT 1")" "failed $RC" \
    "symlink at DIR/analytics_events: the failed run is recorded as failed"
rm sym/analytics_events
mkdir -m 750 sym/analytics_events elsewhere2
ln -s "$T/elsewhere2" sym/analytics_events/date=2025-07-01
dir_error "symlink at a date= partition" sym 73 74
is "$(data_fp dir.db)" "$dfp" "symlink at a date= partition: nothing changed"
is "$(find elsewhere2 -mindepth 1 | wc -l)" 0 "symlink at a date= partition: nothing written into the target"
rm -r sym
mkdir sym
ln -s "$T/ghost" sym/analytics_events
dir_error "dangling symlink at DIR/analytics_events" sym 73 74
ok $([ ! -e "$T/ghost" ]; echo $?) "dangling symlink: its target is not created"
is "$(data_fp dir.db)" "$dfp" "dangling symlink: nothing changed"
# Once the tree is sane again, the same database prunes normally.
rm sym/analytics_events
prune dir.db --archive-dir sym
is "$RC|$(ids dir.db analytics_events)|$(archived sym | wc -w)" "0||40" "after the errors: a clean run archives everything"
is "$(check_archive sym dir.db)" "" "after the errors: no leftovers, manifest = files"

# --- 7. disk full ------------------------------------------------------------------------
# ulimit -f (1 KiB blocks) in a subshell makes every write past the limit fail
# with EFBIG; the jobs ignore SIGXFSZ.  2025-07-01: 200 small rows (a small
# file); 2025-07-02: 5000 rows of random text (a file of ~460 KB).
new_db full.db
q full.db "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 200)
    INSERT INTO analytics_events (id, event_type, user_id, session_id, product_id, metadata, created_at)
    SELECT i, 'view', i, 's' || i, i % 50, '{}', 1751328000 + i * 60 FROM c;
  WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5000)
    INSERT INTO analytics_events (id, event_type, user_id, session_id, product_id, metadata, created_at)
    SELECT 1000 + i, 'view', i, 's' || i, i % 50, hex(randomblob(64)), 1751414400 + i * 10 FROM c"
rollup full.db
orig=$(ids full.db analytics_events)
day1=$(q full.db "SELECT id FROM analytics_events WHERE id <= 200 ORDER BY id" | paste -sd' ')
# limited KIB DB DIR: prune_events with files limited to KIB KiB (one batch per day,
# whatever the default batch size, so each case fails where it says).
# (The outer redirect keeps bash's own "File size limit exceeded" line, should
# the job die of SIGXFSZ, off the TAP stream.)
limited() {
	{ (ulimit -f "$1"; exec "$JOBS_BIN/prune_events" --db "$2" --archive-dir "$3" --now "$NOW" --batch-size 5000) >"$T/.out" 2>"$T/.err"; } 2>/dev/null
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
}
# full_checks NAME DB DIR: the exactly-once state after a failed run.
full_checks() {
	local rem arch
	rem=$(ids "$2" analytics_events)
	arch=$(archived "$3")
	is "$(id_diff "$(union "$rem" "$arch")" "$orig")" "" "$1: table rows + archived rows = the original rows"
	is "$(dups "$arch")" "" "$1: no id archived twice"
	is "$(find "$3" -type f ! -name '*.jsonl.gz' | wc -l)" 0 "$1: no temporary or partial file left"
	is "$(q "$2" "SELECT count(*) FROM archive_manifest WHERE state = 'done'")" "$(gz "$3" | wc -l)" "$1: every file on disk is 'done' in the manifest"
	is "$(q "$2" "PRAGMA integrity_check")" ok "$1: integrity_check ok"
}

# (a) The archive file hits the limit: 74, the small day is archived, the big one kept.
cp full.db full-a.db
mkdir full-a
limited 256 full-a.db full-a
is "$RC" 74 "disk full (archive write): exit 74"
like "$ERR" "File too large" "disk full (archive write): the error says why"
like "$ERR" "date=2025-07-02" "disk full (archive write): the error names the file"
full_checks "disk full (archive write)" full-a.db full-a
is "$(archived full-a)" "$day1" "disk full (archive write): the day written before the failure is archived, the rest kept"
prune full-a.db --archive-dir full-a
is "$RC" 0 "disk full (archive write): a rerun without the limit: exit 0"
is "$(ids full-a.db analytics_events)|$(id_diff "$(archived full-a)" "$orig")" "|" "disk full (archive write): the rerun archives the rest"
is "$(check_archive full-a full-a.db)" "" "disk full (archive write): after the rerun no leftovers, manifest = files"

# (b) The file fits, the database cannot grow (the delete's WAL hits the limit):
#     74, and the durable file of the batch that was not committed is removed.
cp full.db full-b.db
mkdir full-b
limited 700 full-b.db full-b
is "$RC" 74 "disk full (database write after the file): exit 74"
like "$ERR" "full-b\.db.*(I/O error|disk is full)" "disk full (database write after the file): the error names the database and the I/O error"
full_checks "disk full (database write after the file)" full-b.db full-b
is "$(find full-b -path '*date=2025-07-02*' -type f | wc -l)" 0 "disk full (database write after the file): the uncommitted day's file is removed"
prune full-b.db --archive-dir full-b
is "$RC" 0 "disk full (database write after the file): a rerun without the limit: exit 0"
is "$(ids full-b.db analytics_events)|$(id_diff "$(archived full-b)" "$orig")" "|" "disk full (database write after the file): the rerun archives the rest"
is "$(check_archive full-b full-b.db)" "" "disk full (database write after the file): no leftovers, manifest = files"

# (c) A limit so small that even the database's own files cannot grow.
cp full.db full-c.db
mkdir full-c
fp=$(data_fp full-c.db)
limited 1 full-c.db full-c
is "$RC" 74 "disk full at 1 KiB: exit 74 (not killed by SIGXFSZ)"
is "$(grep -c . <<<"$ERR")" 1 "disk full at 1 KiB: one error line"
is "$(data_fp full-c.db)" "$fp" "disk full at 1 KiB: nothing changed"
is "$(nfiles full-c)" 0 "disk full at 1 KiB: no file"
prune full-c.db --archive-dir full-c
is "$RC|$(ids full-c.db analytics_events)|$(id_diff "$(archived full-c)" "$orig")" "0||" "disk full at 1 KiB: a rerun without the limit completes"

# --- 8. --dry-run ----------------------------------------------------------------------------
new_db dry.db
mkevents dry.db 250 1 1751328000 86400	# 2025-07-01
mkevents dry.db 30 1001 1751587200 86400	# 2025-07-04
ev dry.db 2001 "'2025-08-01 00:00:00'"		# kept
mkdir dry
dry_counts=$(q dry.db "SELECT count(*) FROM analytics_events WHERE id < 2000" )
fp=$(fingerprint dry.db)
prune dry.db --archive-dir dry --dry-run
is "$RC" 65 "--dry-run with days not rolled up: exit 65, as the real run"
like "$ERR" "2025-07-01" "--dry-run refusal: names the day"
is "$(fingerprint dry.db)" "$fp" "--dry-run refusal: database unchanged"
rollup dry.db
fp=$(fingerprint dry.db)
ls -A >before.ls
prune dry.db --archive-dir dry --dry-run --batch-size 100
is "$RC" 0 "--dry-run: exit 0"
is "$(fingerprint dry.db)" "$fp" "--dry-run: database unchanged"
is "$(find dry -mindepth 1 | wc -l)" 0 "--dry-run: archive dir still empty"
is "$(ls -A | grep -v -e '^dry.db-wal$' -e '^dry.db-shm$' | diff - <(grep -v -e '^dry.db-wal$' -e '^dry.db-shm$' before.ls))" "" "--dry-run: no file created (no lock file)"
dry_out=$OUT
days_out=$(grep -o 'would archive [0-9-]\{10\}: [0-9]* rows' <<<"$dry_out" | paste -sd',')
cp dry.db dry-real.db
mkdir dry-real
prune dry-real.db --archive-dir dry-real --batch-size 100
real_days=$(q dry-real.db "SELECT 'would archive ' || day || ': ' || sum(rows) || ' rows' FROM archive_manifest GROUP BY day ORDER BY day" | paste -sd',')
is "$days_out" "$real_days" "--dry-run: one line per day with the rows the real run archives"
is "$(grep -c 'would archive [0-9-]\{10\}:' <<<"$dry_out")" "$(q dry-real.db "SELECT count(DISTINCT day) FROM archive_manifest")" "--dry-run: as many day lines as days"
total=$(q dry-real.db "SELECT sum(rows) FROM archive_manifest")
is "$total" "$dry_counts" "--dry-run: the real run it is compared with archived every event before the cutoff"
like "$dry_out" "would archive $total rows of analytics_events into $(q dry-real.db "SELECT count(*) FROM archive_manifest") files" \
    "--dry-run: the total line gives the rows and files of the real run"
# Bytes: with one file per day the estimate is the real size.
new_db dry1.db
mkevents dry1.db 60 1 1751328000 86400
rollup dry1.db
cp dry1.db dry1-real.db
mkdir dry1 dry1-real
prune dry1.db --archive-dir dry1 --dry-run
est=$(grep -o 'about [0-9]* bytes' <<<"$OUT" | grep -o '[0-9]*' | paste -sd' ')
prune dry1-real.db --archive-dir dry1-real
is "$est" "$(q dry1-real.db "SELECT bytes FROM archive_manifest ORDER BY day" | paste -sd' ')" \
    "--dry-run: with one file per day, the estimated bytes are the real ones"
prune dry1.db --no-archive --dry-run
is "$RC" 0 "--dry-run --no-archive: exit 0"
like "$OUT" "would archive 60 rows" "--dry-run --no-archive: counts the rows"
is "$(ids dry1.db analytics_events | wc -w)" 60 "--dry-run --no-archive: nothing deleted"
new_db drylog.db
q drylog.db "INSERT INTO system_logs (level, source, message, created_at) VALUES ('info', 's', 'm', '2025-09-01 00:00:00'), ('info', 's', 'm', '1756684800')"
fp=$(fingerprint drylog.db)
mkdir drylog
logs drylog.db --archive-dir drylog --dry-run
is "$RC|$(fingerprint drylog.db)|$(find drylog -mindepth 1 | wc -l)" "0|$fp|0" "archive_logs --dry-run: exit 0, nothing changed, nothing written"
like "$OUT" "would archive 2025-09-01: 2 rows of system_logs" "archive_logs --dry-run: the day line"

# --- 9. archive_logs -----------------------------------------------------------------------
# Default retention 30 days: the cutoff is 2025-09-07T00:00:00Z.
new_db logs.db
q logs.db "INSERT INTO system_logs (id, level, source, message, context, created_at) VALUES
  (1, 'info', 'a', 'm1', NULL, '2025-09-06 23:59:59.999'),
  (2, 'warn', 'a', 'm2', '{}', '1757203199'),
  (3, 'error', 'a', 'm3', NULL, '1757203199999'),
  (4, 'debug', 'a', 'm4', NULL, '2025-09-07T01:59:59+02:00'),
  (5, 'info', 'a', 'm5', NULL, '2025-09-07 00:00:00'),
  (6, 'info', 'a', 'm6', NULL, '1757203200'),
  (7, 'info', 'a', 'm7', NULL, '2025-09-06T23:30:00-01:00'),
  (8, 'info', 'a', 'm8', NULL, '2025-07-01 10:00:00'),
  (9, 'info', 'a', 'm9', NULL, NULL)"
cp logs.db logs2.db
cp logs.db logs3.db
"$JOBS_BIN/migrate" --db logs2.db -q
q logs2.db "UPDATE jobs_meta SET value = 'abcdef012345' WHERE key = 'database_id'"	# a copy gets its own id
mkdir shared
logs logs.db --archive-dir shared
is "$RC" 0 "archive_logs: exit 0"
is "$(ids logs.db system_logs)|$(archived shared/system_logs)" "5 6 7 9|1 2 3 4 8" "archive_logs: default 30 days, cutoff 2025-09-07 00:00 UTC"
logs logs.db --archive-dir shared
like "$RC $OUT" "^0 .*nothing to do" "archive_logs: rerun has nothing to do"

logs logs2.db --archive-dir shared
is "$RC" 0 "shared dir: the second database: exit 0"
is "$(gz shared | wc -l)" 4 "shared dir: both databases' files are there"
is "$(gz shared | xargs -n1 basename | cut -d- -f1 | sort -u | paste -sd' ')" "$(printf '%s\n' "$(dbid logs.db)" abcdef012345 | sort | paste -sd' ')" \
    "shared dir: file names differ by database_id"
is "$(q logs.db "SELECT count(*) FROM archive_manifest WHERE path NOT LIKE '%/$(dbid logs.db)-%'")|$(q logs2.db "SELECT count(*) FROM archive_manifest WHERE path NOT LIKE '%/abcdef012345-%'")" "0|0" \
    "shared dir: each database's manifest lists only its own files"
is "$(check_archive shared logs.db)" "" "shared dir: first database's manifest = its files"
is "$(check_archive shared logs2.db)" "" "shared dir: second database's manifest = its files"
# A crashed run of the second database (a 'writing' row naming its own file)
# is recovered without touching the first database's files.
q logs2.db "INSERT INTO system_logs (id, level, message, created_at) VALUES (20, 'info', 'late', '2025-08-01 00:00:00')"
first_files=$(gz shared | grep "/$(dbid logs.db)-" | xargs md5sum)
logs logs2.db --archive-dir shared
is "$RC|$(ids logs2.db system_logs)" "0|5 6 7 9" "shared dir: the second database archives its late log"
is "$(gz shared | grep "/$(dbid logs.db)-" | xargs md5sum)" "$first_files" "shared dir: the first database's files are untouched"

logs logs3.db --no-archive
is "$RC" 0 "--no-archive: exit 0"
is "$(ids logs3.db system_logs)" "5 6 7 9" "--no-archive: the old logs are deleted"
is "$(q logs3.db "SELECT count(*) FROM archive_manifest")" 0 "--no-archive: no manifest row"
like "$OUT" "deleted 5 rows of system_logs without archive" "--no-archive: says it deleted without archive"
is "$(find . -newer logs3.db -name '*.jsonl.gz' | wc -l)" 0 "--no-archive: no archive file written"
new_db noarch.db
mkevents noarch.db 100 1 1751328000 86400
rollup noarch.db
prune noarch.db --no-archive
is "$RC|$(ids noarch.db analytics_events)|$(q noarch.db "SELECT count(*) FROM archive_manifest")" "0||0" "prune_events --no-archive: deletes without files"

# --- 10. usage errors and exit codes -------------------------------------------------------
unset JOBS_DB
in_empty_dir() { mkdir "$T/$1" && cd "$T/$1" || exit 1; }
usage_error() {	# PROG NAME ARGS...
	local prog=$1 name=$2
	shift 2
	in_empty_dir "$prog-$name"
	mkdir a
	run "$prog" "$@"
	is "$RC" 64 "$prog $name: exit 64"
	is "$(wc -l <"$T/.err")" 1 "$prog $name: exactly one line on stderr"
	like "$ERR" "^$prog: .+\(see $prog --help\)$" "$prog $name: the line names the program"
	is "$OUT|$(ls -A)" "|a" "$prog $name: nothing on stdout, no file created"
	cd "$T" || exit 1
}
for p in prune_events archive_logs; do
	usage_error $p retention-0 --db u.db --archive-dir a --retention-days 0
	usage_error $p retention-36501 --db u.db --archive-dir a --retention-days 36501
	usage_error $p retention-abc --db u.db --archive-dir a --retention-days abc
	usage_error $p retention-negative --db u.db --archive-dir a --retention-days -1
	usage_error $p retention-empty --db u.db --archive-dir a --retention-days ''
	usage_error $p batch-0 --db u.db --archive-dir a --batch-size 0
	usage_error $p max-runtime-0 --db u.db --archive-dir a --max-runtime 0
	usage_error $p no-archive-choice --db u.db
	usage_error $p both-archive-choices --db u.db --archive-dir a --no-archive
	usage_error $p bad-now --db u.db --archive-dir a --now 2025-02-30
	usage_error $p unknown --db u.db --archive-dir a --bogus
	usage_error $p no-db --archive-dir a
done
usage_error archive_logs skip-rollup-check --db u.db --archive-dir a --skip-rollup-check

new_db codes.db
ev codes.db 1 "'2025-07-01 10:00:00'"
mkdir codes
rollup codes.db
fp=$(fingerprint codes.db)
prune missing.db --archive-dir codes
is "$RC" 66 "missing database: exit 66"
ok $([ ! -e missing.db ]; echo $?) "missing database: not created"
printf 'not a database\n' >text.db
prune text.db --archive-dir codes
is "$RC" 66 "not a database: exit 66"
"$JOBS_BIN/migrate" --db v1.db --to 1 -q
q v1.db "INSERT INTO analytics_events (event_type, created_at) VALUES ('x', '2025-07-01 10:00:00')"
fp1=$(fingerprint v1.db)
prune v1.db --archive-dir codes --skip-rollup-check
is "$RC" 78 "unmigrated database: exit 78"
like "$ERR" "migrate" "unmigrated database: says to run migrate"
is "$(fingerprint v1.db)" "$fp1" "unmigrated database: unchanged"
run archive_logs --db v1.db --archive-dir codes
is "$RC" 78 "archive_logs, unmigrated database: exit 78"
hold_lock codes.db prune_events
run prune_events --db codes.db --archive-dir codes --now "$NOW"
is "$RC" 75 "lock held: exit 75"
like "$ERR" "already running" "lock held: says another instance is running"
is "$(fingerprint codes.db)|$(nfiles codes)" "$fp|0" "lock held: nothing changed"
release_lock
hold_lock codes.db archive_logs
run archive_logs --db codes.db --archive-dir codes --now "$NOW"
is "$RC" 75 "archive_logs, lock held: exit 75"
run prune_events --db codes.db --archive-dir codes --now "$NOW" -q
is "$RC" 0 "the lock is per job: prune_events runs while archive_logs' lock is held"
release_lock

done_testing
