#!/bin/bash
# The syscall fault matrix (SPEC 4 and 6).  1. strace fails the K-th call of
# one syscall in prune_events (openat, write, fsync, fdatasync, link(at),
# unlink(at), rename, pwrite64; EIO, ENOSPC for the writes), K = 1, 2, ...
# until a run completes without meeting it, and kills it (SIGKILL) on entering
# the K-th fsync, fdatasync, link(at) or write; 2. the same for
# expire_reservations and archive_logs (fsync, write); 3. a full disk (ulimit
# -f, and ENOSPC on a small tmpfs where a mount namespace is allowed); 4.
# eight instances at once; 5. the app holding the write lock.  After every
# faulty run: an exit code of SPEC 4 (0 if the fault was absorbed, else 70,
# 73 or 74; 75 when busy), exactly one error line, every row in the table or
# in exactly one 'done' archive file, every file on disk named in the
# manifest, integrity_check ok; then a clean rerun exits 0 and leaves table +
# archives = the original rows, none twice, every file complete (gzip -t), no
# stray or temporary file, no 'writing' manifest row.  expire_reservations
# also keeps its ledger: stock_quantity = SUM(moves), one
# 'reservation_expired' move per reservation that took stock.
#
# Loop sizes: FAULT_MAX_K caps K per syscall (default 400, more than any loop
# needs), FAULT_PWRITE_STEP tests every n-th pwrite64 (default 8; 1 tests them
# all), FAULT_CRASH_STEP every n-th call for the SIGKILLs (default 1),
# FAULT_EVENTS/FAULT_DAYS size the events fixture (default 200 over 2 days:
# 5 batches of at most 50), FAULT_TRIALS the rounds of the eight-instance race
# (default 2).  make stress raises them.
. "$(dirname "$0")/../lib/events.sh"
. "$(dirname "$0")/../lib/tap.sh"

export LC_ALL=C

MAX_K=${FAULT_MAX_K:-400}
PWRITE_STEP=${FAULT_PWRITE_STEP:-8}
CRASH_STEP=${FAULT_CRASH_STEP:-1}
EVENTS=${FAULT_EVENTS:-200}
DAYS=${FAULT_DAYS:-2}
RACE_TRIALS=${FAULT_TRIALS:-2}
NOW='2025-10-07T12:00:00Z'	# events: cutoff 2025-07-09; logs: cutoff 2025-09-07
KNOW='2025-10-10 00:00:00'	# reservations
BATCH=50

# --- helpers --------------------------------------------------------------------
# tap.sh has moved into the test's temporary directory; archive.py is beside it.
LIB=$(cd "$OLDPWD" && cd "$(dirname "$0")/../lib" && pwd)
[ -f "$LIB/archive.py" ] || { echo "Bail out! $LIB/archive.py not found"; exit 1; }
PY=$(python3 -c 'import sys; print(sys.executable)')

# One process checks a database and its archive tree (archive.py's helpers
# do the reading): every problem on one line, nothing when all is well.
cat >"$T/faultcheck.py" <<'EOF'
"""faultcheck.py MODE DB DIR SRC TABLE [REF], or faultcheck.py serve (the same
arguments, tab-separated, one request a line on stdin; one answer a line).

after  right after a failed or killed run: every id of SRC.TABLE is in
       DB.TABLE or in exactly one complete file the manifest calls 'done', and
       nowhere else; every file on disk is named in the manifest (its
       temporary name counts); integrity_check ok.
final  after a clean run: DB.TABLE holds exactly the ids REF.TABLE holds (an
       uninterrupted run); table + every archived row = SRC's ids, none twice;
       archive.py check finds nothing; integrity_check ok.
For product_reservations both also check the ledger against SRC.  The answer
is every problem on one line, empty when all is well."""
import contextlib, io, os, sqlite3, sys
sys.path.insert(0, os.environ["FAULT_LIB"])
import archive

CACHE = {}


def ids_of(path, table):
    """Ids of a database that does not change (a source or a reference)."""
    if (path, table) not in CACHE:
        con = sqlite3.connect(path)
        CACHE[path, table] = [r[0] for r in con.execute('SELECT id FROM "%s" ORDER BY id' % table)]
        con.close()
    return CACHE[path, table]


def diff(bad, what, got, want):
    g, w = {}, {}
    for i in got:
        g[i] = g.get(i, 0) + 1
    for i in want:
        w[i] = w.get(i, 0) + 1
    miss = sorted(i for i in w if g.get(i, 0) < w[i])
    extra = sorted(i for i in g if g[i] > w.get(i, 0))
    if miss:
        bad.append("%s: %d missing (%s)" % (what, len(miss), " ".join(map(str, miss[:8]))))
    if extra:
        bad.append("%s: %d in excess or twice (%s)" % (what, len(extra), " ".join(map(str, extra[:8]))))


LEDGER = [
    """SELECT 'ledger: product ' || id || ' stock ' || stock_quantity || ' <> moves '
       || (SELECT coalesce(sum(qty_change), 0) FROM main.stock_moves m WHERE m.product_id = p.id)
       FROM main.products p WHERE stock_quantity <>
       (SELECT coalesce(sum(qty_change), 0) FROM main.stock_moves m WHERE m.product_id = p.id)""",
    """SELECT 'reservation ' || reservation_id || ' given back ' || count(*) || ' times'
       FROM main.stock_moves WHERE reason = 'reservation_expired'
       GROUP BY reservation_id HAVING count(*) > 1""",
    """WITH o AS (SELECT r.id, coalesce((SELECT -sum(qty_change) FROM s.stock_moves m
         WHERE m.reservation_id = r.id AND reason = 'reserved'), 0) AS took
         FROM s.product_reservations r),
       g AS (SELECT reservation_id AS id, count(*) AS n, sum(qty_change) AS amt
         FROM main.stock_moves WHERE reason = 'reservation_expired' GROUP BY reservation_id)
       SELECT 'reservation ' || o.id || ': took ' || o.took || ', present ' || (p.id IS NOT NULL)
         || ', given back ' || coalesce(g.amt, 0) || ' in ' || coalesce(g.n, 0) || ' moves'
       FROM o LEFT JOIN main.product_reservations p ON p.id = o.id LEFT JOIN g ON g.id = o.id
       WHERE (p.id IS NOT NULL AND g.id IS NOT NULL)
          OR (p.id IS NULL AND (coalesce(g.n, 0) <> (o.took > 0) OR coalesce(g.amt, 0) <> o.took))
       LIMIT 5""",
    """SELECT count(*) || ' reservation_expired moves for reservations not in the source'
       FROM main.stock_moves WHERE reason = 'reservation_expired'
       AND reservation_id NOT IN (SELECT id FROM s.product_reservations) HAVING count(*) > 0""",
]


def check(mode, dbp, top, src, table, ref=None):
    bad = []
    orig = ids_of(src, table)
    con = sqlite3.connect(dbp)
    con.text_factory = bytes
    try:
        table_ids = [r[0] for r in con.execute('SELECT id FROM "%s" ORDER BY id' % table)]
        ic = con.execute("PRAGMA integrity_check").fetchall()
        if ic != [(b"ok",)]:
            bad.append("integrity_check: " + " ".join(r[0].decode() for r in ic[:3]))
        if mode == "after":
            done = []
            for (p,) in con.execute("SELECT path FROM archive_manifest WHERE state = 'done'"):
                lines = archive.file_lines(os.path.join(top, p.decode()))
                if lines is None:
                    bad.append("'done' file missing or incomplete: " + p.decode())
                else:
                    done.extend(archive.row_id(l) for l in lines)
            diff(bad, "table + 'done' files vs the original rows", table_ids + done, orig)
            named = set(p.decode() for (p,) in con.execute("SELECT path FROM archive_manifest"))
            for rel, st in archive.walk(top):
                if os.path.isdir(os.path.join(top, rel)):
                    continue
                d, base = os.path.split(rel)
                tmp = base.startswith(".") and base.endswith(".tmp")
                if (os.path.join(d, base[1:-4]) if tmp else rel) not in named:
                    bad.append("file not named in the manifest: " + rel)
        else:
            diff(bad, "table vs an uninterrupted run's table", table_ids, ids_of(ref, table))
            diff(bad, "table + archives vs the original rows", table_ids + archive.all_ids(top), orig)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                archive.cmd_check(top, dbp)
            bad.extend(out.getvalue().splitlines())
        if table == "product_reservations":
            con.execute("ATTACH ? AS s", (src,))
            for q in LEDGER:
                bad.extend(r[0].decode() for r in con.execute(q))
    except Exception as e:      # a broken database is a finding, not a crash
        bad.append("check failed: %r" % e)
    finally:
        con.close()
    return "; ".join(bad[:6]) + ("; ..." if len(bad) > 6 else "")


if sys.argv[1] == "serve":
    for line in sys.stdin:
        print(check(*line.rstrip("\n").split("\t")), flush=True)
else:
    print(check(*sys.argv[1:]))
EOF
export FAULT_LIB=$LIB
# One checker process for the whole test (starting Python costs more than a
# check); the tmpfs case below, in its own mount namespace, runs it by hand.
coproc CHECKER { "$PY" -S "$T/faultcheck.py" serve; }
# fcheck MODE DB DIR SRC TABLE [REF]: CHK, the problems on one line ("" if
# none); the final check also runs gzip -t on every file.  Not in a $(...):
# a subshell cannot talk to the coprocess.
fcheck() {
	local g="" IFS=$'\t'
	[ "$1" = final ] &&
	    g=$(find "$3" -type f -name '*.jsonl.gz' -print0 | xargs -0 -r gzip -t 2>&1 | head -3 | paste -sd' ')
	CHK="the checker died"
	if [ -n "${CHECKER_PID:-}" ] && printf '%s\n' "$*" >&"${CHECKER[1]}"; then
		read -r -t 120 CHK <&"${CHECKER[0]}" || CHK="no answer from the checker"
	fi
	[ -n "$g" ] && CHK="gzip -t: $g; $CHK"
}

# fresh SRC DB DIR: a copy of the closed source database (no -wal or -shm of
# an earlier trial survives), and an empty archive directory.
fresh() {
	rm -rf "$2" "$2"-wal "$2"-shm "$2"-journal "$3"
	cp "$1" "$2"
	mkdir "$3"
}

# notwarn JOB TEXT: the lines of TEXT that are not JOB's warnings.
notwarn() { printf '%s\n' "$2" | grep -v "^$1: warning: " | sed '/^$/d'; }
# errlines FILE: the job's stderr without strace's own diagnostics.
errlines() { grep -v '^strace: ' "$1"; }
# one_line PROG RC FILE: 0 if stderr fits the exit code: a failure is exactly
# one line "PROG: ..."; a success prints only PROG's own lines (warnings).
one_line() {
	local n bad
	n=$(errlines "$3" | wc -l)
	bad=$(errlines "$3" | grep -vc "^$1: ")
	if [ "$2" -ne 0 ]; then
		[ "$n" -eq 1 ] && [ "$bad" -eq 0 ]
	else
		[ "$bad" -eq 0 ]
	fi
}

# strace: --seccomp-bpf (only the traced calls stop the job) where it works;
# SIGKILL injection is done without it (strace 6.1 does not deliver the
# signal with it).
HAVE_STRACE=0
SECCOMP=
if command -v strace >/dev/null 2>&1 && strace -f -o /dev/null -e trace=write true 2>/dev/null; then
	HAVE_STRACE=1
	strace -f --seccomp-bpf -o /dev/null -e trace=write true 2>/dev/null &&
	    [ -z "$(strace -f --seccomp-bpf -o /dev/null -e trace=write true 2>&1)" ] && SECCOMP=--seccomp-bpf
fi
# valid_syscall NAME: strace knows NAME on this architecture.
valid_syscall() { strace -o /dev/null -e trace="$1" true 2>/dev/null; }

# inject SYSCALL SPEC K PROGRAM ARGS...: run PROGRAM under strace, SPEC
# (error=E or signal=KILL) applied to the K-th call of SYSCALL.  Sets RC, HIT
# (the faulted call as strace printed it, "" if the run never made a K-th
# call), WHAT (its name and file, for the test names) and OURS.
inject() {
	local sc=$1 spec=$2 k=$3 sec=$SECCOMP
	shift 3
	case $spec in signal=*) sec= ;; esac
	# (make check: LeakSanitizer stops the world with ptrace, which fails
	# under strace; leaks are checked by the runs without strace.)
	RC=$( { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -f $sec -y -o "$T/.trace" -e trace="$sc" -e inject="$sc:$spec:when=$k" \
	    "$JOBS_BIN/$1" "${@:2}" >/dev/null 2>"$T/.err"; echo $?; } 2>/dev/null)
	case $spec in
	signal=*) HIT=$(grep -B1 -m1 '+++ killed by SIGKILL' "$T/.trace" | head -1) ;;
	*) HIT=$(grep -m1 '(INJECTED)' "$T/.trace") ;;
	esac
	WHAT=$(sed -E 's/^[0-9]+ +//; s/\(.*//' <<<"$HIT")
	local f
	f=$(grep -oE '"[^"]*"' <<<"$HIT" | head -1 | tr -d '"')
	# OURS=0: an absolute path outside the test directory (ld.so.cache, a
	# shared library, /dev/urandom, /proc): not one of the job's files.
	OURS=1
	case $f in "$T"|"$T"/*) ;; /*) OURS=0 ;; esac
	[ -n "$f" ] || f=$(grep -oE '<[^>]*>' <<<"$HIT" | head -1 | tr -d '<>')
	f=${f##*/}
	# the archive file names carry a random part: keep test names stable
	f=$(sed -E 's/-[0-9a-f]{8}(\.jsonl\.gz)/-X\1/' <<<"$f")
	[ -n "$f" ] && WHAT="$WHAT $f"
}

# --- the source databases ---------------------------------------------------------
# EVENTS events over DAYS days before the events' cutoff (ending 2025-07-08)
# in six forms, 10 after it; rolled up, so prune_events does not refuse.
# With the defaults: about 100 events a day, two or three batches a day.
new_db src-ev.db
q src-ev.db "$(events_sql "$EVENTS" "$((1752019200 - DAYS * 86400))" "$((DAYS * 86400))")
  WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 9)
    INSERT INTO analytics_events (id, event_type, created_at)
    SELECT 100001 + i, 'late', 1752019200 + i * 3600 FROM c;"
"$JOBS_BIN/rollup_daily" --db src-ev.db --now "$NOW" -q || echo "Bail out! rollup_daily failed"

# 200 logs over 2025-09-01..02 (before the logs' cutoff 2025-09-07), 10 after.
new_db src-log.db
q src-log.db "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 199),
    t(i, s) AS (SELECT i, 1756684800 + (i * 7919) % 172800 FROM c)
    INSERT INTO system_logs (id, level, source, message, context, created_at)
    SELECT 1 + i, CASE i % 4 WHEN 0 THEN 'debug' WHEN 1 THEN 'info' WHEN 2 THEN 'warn' ELSE 'error' END,
      'src' || (i % 7), 'message ' || i || ' ' || hex(randomblob(8)),
      CASE WHEN i % 3 = 0 THEN NULL ELSE '{\"k\":' || i || '}' END,
      CASE i % 3 WHEN 0 THEN CAST(s AS TEXT) WHEN 1 THEN strftime('%Y-%m-%d %H:%M:%S', s, 'unixepoch')
        ELSE strftime('%Y-%m-%dT%H:%M:%S', s, 'unixepoch') || 'Z' END FROM t;
  WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 9)
    INSERT INTO system_logs (id, level, message, created_at)
    SELECT 5001 + i, 'info', 'recent', strftime('%Y-%m-%d %H:%M:%S', 1757203200 + i * 3600, 'unixepoch') FROM c;"

# Reservations as in expire.t's kill test, smaller: 8 products created at V1
# (so migrate writes their 'initial' moves), 160 reservations of which 140
# expired over 2025-10-01..02 in four forms; 4 in 5 took stock.
"$JOBS_BIN/migrate" --db src-res.db --to 1 -q || echo "Bail out! migrate --to 1 failed"
q src-res.db "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 8)
	INSERT INTO products(sku, name, price, stock_quantity) SELECT 'k' || i, 'K' || i, 9.5, 500 FROM c;"
new_db src-res.db
q src-res.db "BEGIN;
	WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 160),
	t(i, s) AS (SELECT i, CASE WHEN i <= 140 THEN 1759276800 + i * 1200 ELSE 1760140800 + i END FROM c)
	INSERT INTO product_reservations(product_id, user_id, session_id, quantity, expires_at)
	SELECT 1 + i % 8, NULL, 'k' || i, 1 + i % 3, CASE i % 4
		WHEN 0 THEN strftime('%Y-%m-%d %H:%M:%S', s, 'unixepoch')
		WHEN 1 THEN strftime('%Y-%m-%dT%H:%M:%fZ', s, 'unixepoch')
		WHEN 2 THEN s ELSE s * 1000 + 7 END FROM t;
	INSERT INTO stock_moves(product_id, reservation_id, qty_change, reason)
	SELECT product_id, id, -quantity, 'reserved' FROM product_reservations WHERE id % 5 <> 0 ORDER BY id;
	UPDATE products SET stock_quantity = stock_quantity - (SELECT coalesce(sum(quantity), 0)
		FROM product_reservations r WHERE r.product_id = products.id AND r.id % 5 <> 0);
	COMMIT;"

# seal DB: everything in the database file itself (trials copy that file alone).
seal() {
	q "$1" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	[ -s "$1-wal" ] && echo "Bail out! $1: the WAL is not empty after a checkpoint"
	rm -f "$1-wal" "$1-shm"
}
seal src-ev.db
seal src-log.db
seal src-res.db

# Per job: the table, the source, the --now, and an uninterrupted reference
# run (what the table keeps).
declare -A TABLE=([prune_events]=analytics_events [archive_logs]=system_logs
	[expire_reservations]=product_reservations)
declare -A SRC=([prune_events]=src-ev.db [archive_logs]=src-log.db [expire_reservations]=src-res.db)
declare -A JNOW=([prune_events]=$NOW [archive_logs]=$NOW [expire_reservations]=$KNOW)
for job in prune_events archive_logs expire_reservations; do
	fresh "${SRC[$job]}" "ref-$job.db" "ref-$job"
	run "$job" --db "ref-$job.db" --archive-dir "ref-$job" --now "${JNOW[$job]}" --batch-size $BATCH -q
	is "$RC:$ERR" 0: "$job reference run: exit 0, nothing on stderr ($(find "ref-$job" -type f | wc -l) files)"
	fcheck final "ref-$job.db" "ref-$job" "${SRC[$job]}" "${TABLE[$job]}" "ref-$job.db"
	is "$CHK" "" \
		"$job reference run: table + archives = the original rows, archive tree and manifest agree"
done
# The checker itself must see a lost row, a row in two places and a second
# compensation (a check that cannot fail proves nothing).
fresh ref-prune_events.db bad.db bad
cp -a ref-prune_events/. bad/
rm "bad/$(q bad.db "SELECT path FROM archive_manifest WHERE state = 'done' ORDER BY id LIMIT 1")"
fcheck after bad.db bad src-ev.db analytics_events
like "$CHK" "'done' file missing.*missing" "self-test: the checker sees a lost 'done' file and its lost rows"
fresh ref-prune_events.db bad.db bad
cp -a ref-prune_events/. bad/
q bad.db "ATTACH 'src-ev.db' AS s; INSERT INTO analytics_events SELECT * FROM s.analytics_events WHERE id = 7"
fcheck after bad.db bad src-ev.db analytics_events
like "$CHK" "twice \(7\)" "self-test: the checker sees a row both in the table and in a 'done' file"
touch bad/analytics_events/stray
fcheck final bad.db bad src-ev.db analytics_events ref-prune_events.db
like "$CHK" "twice \(7\).*stray file" "self-test: the final check sees it too, and a stray file"
fresh ref-expire_reservations.db bad.db bad
cp -a ref-expire_reservations/. bad/
q bad.db "DELETE FROM stock_moves WHERE id = (SELECT min(id) FROM stock_moves WHERE reason = 'reservation_expired')"
fcheck after bad.db bad src-res.db product_reservations
like "$CHK" "ledger: product .*took [0-9]+, present 0, given back 0 in 0 moves" \
	"self-test: the checker sees a lost compensation and the ledger it breaks"
rm -rf bad.db* bad
is "$(q ref-prune_events.db 'SELECT count(*) FROM analytics_events')" 10 "prune_events reference run: only the 10 recent events stay"
is "$(q ref-expire_reservations.db 'SELECT count(*) FROM product_reservations')" 20 "expire_reservations reference run: the 20 unexpired reservations stay"

# set_args JOB DB DIR: ARGS, the job's command line on a trial database.
set_args() { ARGS=("$1" --db "$2" --archive-dir "$3" --now "${JNOW[$1]}" --batch-size $BATCH -q); }

# --- 1, 2. error injection at the K-th call ----------------------------------------
SUMMARY=()
every() { if [ "$1" = 1 ]; then echo "every call"; else echo "every ${1}th call"; fi; }
# error_loop JOB SYSCALL ERRNO STEP: K = 1, 1+STEP, ... until a run does not
# meet the fault (or K > MAX_K).
error_loop() {
	local job=$1 sc=$2 e=$3 step=$4 k=1 db=$T/e.db dir=$T/e name codes="" n=0
	while [ "$k" -le "$MAX_K" ]; do
		fresh "${SRC[$job]}" "$db" "$dir"
		set_args "$job" "$db" "$dir"
		inject "$sc" "error=$e" "$k" "${ARGS[@]}"
		if [ -z "$HIT" ]; then
			is "$RC" 0 "$job $sc K=$k: no such call, the run completes (exit 0)"
			fcheck final "$db" "$dir" "${SRC[$job]}" "${TABLE[$job]}" "ref-$job.db"
			is "$CHK" "" "$job $sc K=$k: ... with the archive of an uninterrupted run"
			break
		fi
		n=$((n + 1))
		name="$job $sc K=$k ($WHAT) = $e"
		codes+=" $RC"
		judge_exit "$job" "$sc" "$name"
		fcheck after "$db" "$dir" "${SRC[$job]}" "${TABLE[$job]}"
		is "$CHK" "" "$name: every row in the table or in one 'done' file, no unnamed file, integrity ok"
		run "${ARGS[@]}"
		is "$RC:$(notwarn "$job" "$ERR")" "0:" "$name: the clean rerun exits 0 (warnings only)"
		fcheck final "$db" "$dir" "${SRC[$job]}" "${TABLE[$job]}" "ref-$job.db"
		is "$CHK" "" \
			"$name: rerun: table + archives = the original rows, none twice, gzip -t, no stray file, no 'writing' row"
		k=$((k + step))
	done
	[ "$k" -gt "$MAX_K" ] && echo "# $job $sc: stopped at FAULT_MAX_K=$MAX_K"
	SUMMARY+=("$job $sc ($e, $(every "$step")): $n faulty runs, exit codes:$(tr ' ' '\n' <<<"$codes" |
	    sed '/^$/d' | sort -n | uniq -c | awk '{printf " %s x%s", $2, $1}')")
}

# judge_exit JOB SYSCALL NAME: after a faulty run (RC, $T/.err), the exit
# code is one of SPEC 4's for an I/O error (0 if the fault was absorbed) and
# stderr is one error line (none but warnings on success).
judge_exit() {
	local ok1 reason lines="one error line"
	if [ "$OURS" = 0 ]; then
		skip "$3: a file of the loader or the runtime, not the job's: exit $RC not judged"
		return
	fi
	one_line "$1" "$RC" "$T/.err"
	ok1=$?
	case $RC in 0|70|73|74) ;; *) ok1=1 ;; esac
	[ "$RC" = 0 ] && lines="no error line"
	ok "$ok1" "$3: exit $RC, $lines"
	[ "$ok1" -ne 0 ] && errlines "$T/.err" | head -3 | sed 's/^/#   stderr: /'
	return 0
}

if [ "$HAVE_STRACE" = 1 ]; then
	for sc in openat write fsync fdatasync link linkat unlink unlinkat rename pwrite64; do
		if ! valid_syscall "$sc"; then
			skip "no syscall $sc on this architecture"
			continue
		fi
		case $sc in
		write|pwrite64) e=ENOSPC ;;
		*) e=EIO ;;
		esac
		step=1
		[ "$sc" = pwrite64 ] && step=$PWRITE_STEP
		echo "# --- prune_events: $e at the K-th $sc"
		error_loop prune_events "$sc" "$e" "$step"
	done
	for job in expire_reservations archive_logs; do
		for sc in fsync write; do
			e=EIO
			[ "$sc" = write ] && e=ENOSPC
			echo "# --- $job: $e at the K-th $sc"
			error_loop "$job" "$sc" "$e" 1
		done
	done
else
	skip "strace is not installed or cannot trace here: no error injection"
fi

# --- 1. crash (SIGKILL) at the K-th call ----------------------------------------------
# crash_loop JOB SYSCALL STEP: K = 1, 1+STEP, ... until a run completes.
crash_loop() {
	local job=$1 sc=$2 step=$3 k=1 db dir name n=0
	db=$T/c.db dir=$T/c
	while [ "$k" -le "$MAX_K" ]; do
		fresh "${SRC[$job]}" "$db" "$dir"
		set_args "$job" "$db" "$dir"
		inject "$sc" signal=KILL "$k" "${ARGS[@]}"
		if [ -z "$HIT" ]; then
			is "$RC" 0 "$job killed at $sc K=$k: no such call, the run completes (exit 0)"
			break
		fi
		n=$((n + 1))
		name="$job killed at $sc K=$k ($WHAT)"
		is "$RC" 137 "$name: killed"
		fcheck after "$db" "$dir" "${SRC[$job]}" "${TABLE[$job]}"
		is "$CHK" "" \
			"$name: every row in the table or in one 'done' file, no unnamed file, integrity ok"
		run "${ARGS[@]}"
		is "$RC:$(notwarn "$job" "$ERR")" "0:" "$name: the rerun exits 0 (warnings only)"
		fcheck final "$db" "$dir" "${SRC[$job]}" "${TABLE[$job]}" "ref-$job.db"
		is "$CHK" "" \
			"$name: rerun: table + archives = the original rows, none twice, gzip -t, no stray file, no 'writing' row"
		k=$((k + step))
	done
	[ "$k" -gt "$MAX_K" ] && echo "# $job $sc: stopped at FAULT_MAX_K=$MAX_K"
	SUMMARY+=("$job SIGKILL at $sc ($(every "$step")): $n runs killed")
}

if [ "$HAVE_STRACE" = 1 ]; then
	for sc in fsync fdatasync linkat link write; do
		valid_syscall "$sc" || continue
		echo "# --- prune_events: SIGKILL on entering the K-th $sc"
		crash_loop prune_events "$sc" "$CRASH_STEP"
	done
	echo "# --- expire_reservations: SIGKILL on entering the K-th fdatasync"
	crash_loop expire_reservations fdatasync "$CRASH_STEP"
else
	skip "strace is not installed or cannot trace here: no crash injection"
fi

# --- 3. a full disk ------------------------------------------------------------------
# Day 2025-07-07: 100 small events (two small files); 2025-07-08: 60 events
# of 12 kB each (a file of about 300 kB).  Under ulimit -f 200 (kB) the first
# file of the second day cannot be written: the jobs ignore SIGXFSZ, so the
# write fails with EFBIG.
echo "# --- a full disk"
new_db src-big.db
q src-big.db "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 99)
    INSERT INTO analytics_events (id, event_type, user_id, session_id, metadata, created_at)
    SELECT 1 + i, 'small', i % 7, 's' || i, '{}', 1751846400 + i * 800 FROM c;
  WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 59)
    INSERT INTO analytics_events (id, event_type, user_id, session_id, metadata, created_at)
    SELECT 1001 + i, 'big', i % 7, 's' || i, '{\"blob\":\"' || hex(randomblob(6000)) || '\"}',
      1751932800 + i * 1200 FROM c;"
"$JOBS_BIN/rollup_daily" --db src-big.db --now "$NOW" -q || echo "Bail out! rollup_daily failed"
seal src-big.db
fresh src-big.db ref-big.db ref-big
run prune_events --db ref-big.db --archive-dir ref-big --now "$NOW" --batch-size $BATCH -q
is "$RC" 0 "big fixture reference run: exit 0"

# fsize_trial LIMIT-KB: prune_events under ulimit -f, then without.
fsize_trial() {
	local db=$T/f.db dir=$T/f name="prune_events under ulimit -f $1"
	fresh src-big.db "$db" "$dir"
	RC=$( (ulimit -f "$1"; exec "$JOBS_BIN/prune_events" --db "$db" --archive-dir "$dir" \
	    --now "$NOW" --batch-size $BATCH -q 2>"$T/.err"); echo $?)
	ERR=$(cat "$T/.err")
	echo "# $name: exit $RC, $(q "$db" "SELECT count(*) FROM archive_manifest WHERE state = 'done'") files done:"
	sed 's/^/#   stderr: /' <<<"$ERR"
	is "$RC" 74 "$name: exit 74"
	one_line prune_events "$RC" "$T/.err"
	ok $? "$name: one error line"
	fcheck after "$db" "$dir" src-big.db analytics_events
	is "$CHK" "" \
		"$name: nothing deleted beyond what committed (table + 'done' files = the original rows), no unnamed file"
	FS_DONE=$(q "$db" "SELECT count(*) FROM archive_manifest WHERE state = 'done'")
	FS_ERR=$ERR
	run prune_events --db "$db" --archive-dir "$dir" --now "$NOW" --batch-size $BATCH -q
	is "$RC" 0 "$name: the rerun without a limit exits 0"
	fcheck final "$db" "$dir" src-big.db analytics_events ref-big.db
	is "$CHK" "" \
		"$name: rerun: table + archives = the original rows, none twice, gzip -t, no stray file"
}
fsize_trial 200
like "$FS_ERR" "^prune_events: cannot write '.*/date=2025-07-08/\..*\.jsonl\.gz\.tmp': File too large" \
	"ulimit -f 200: the error names the archive file of 2025-07-08 and says why"
is "$FS_DONE" 2 "ulimit -f 200: the two files of 2025-07-07 are done, nothing of 2025-07-08"
for lim in 1 8 64; do fsize_trial "$lim"; done

# A real ENOSPC: a 64 kB tmpfs as the archive directory, in a private mount
# namespace (unshare -rm, else unshare -m); skipped where neither is allowed.
mkdir -p "$T/mnt"
NS=
for u in "unshare -rm" "unshare -m"; do
	if $u sh -c "mount -t tmpfs -o size=64k tmpfs '$T/mnt' && umount '$T/mnt'" 2>/dev/null; then
		NS=$u
		break
	fi
done
if [ -n "$NS" ]; then
	fresh src-big.db "$T/n.db" "$T/n-unused"
	cat >"$T/ns.sh" <<-EOF
	mount -t tmpfs -o size=64k,mode=0750 tmpfs '$T/mnt' || exit 1
	'$JOBS_BIN/prune_events' --db '$T/n.db' --archive-dir '$T/mnt' --now '$NOW' --batch-size $BATCH -q 2>'$T/ns.err'
	echo \$? >'$T/ns.rc'
	'$PY' -S '$T/faultcheck.py' after '$T/n.db' '$T/mnt' src-big.db analytics_events >'$T/ns.after' 2>&1
	mount -o remount,size=16m '$T/mnt'
	'$JOBS_BIN/prune_events' --db '$T/n.db' --archive-dir '$T/mnt' --now '$NOW' --batch-size $BATCH -q 2>'$T/ns.err2'
	echo \$? >'$T/ns.rc2'
	find '$T/mnt' -type f -name '*.jsonl.gz' -print0 | xargs -0 -r gzip -t >'$T/ns.gz' 2>&1
	'$PY' -S '$T/faultcheck.py' final '$T/n.db' '$T/mnt' src-big.db analytics_events ref-big.db >'$T/ns.final' 2>&1
	EOF
	$NS sh "$T/ns.sh"
	sed 's/^/# tmpfs: stderr: /' "$T/ns.err" 2>/dev/null
	is "$(cat "$T/ns.rc" 2>/dev/null)" 74 "ENOSPC on a 64 kB tmpfs ($NS): exit 74"
	like "$(cat "$T/ns.err" 2>/dev/null)" "^prune_events: .*No space left on device" "ENOSPC: one line that says why"
	is "$(wc -l <"$T/ns.err" 2>/dev/null)" 1 "ENOSPC: exactly one error line"
	is "$(cat "$T/ns.after" 2>/dev/null)" "" "ENOSPC: nothing deleted beyond what committed, no unnamed file"
	is "$(cat "$T/ns.rc2" 2>/dev/null)" 0 "ENOSPC: the rerun on a bigger tmpfs exits 0"
	is "$(cat "$T/ns.gz" "$T/ns.final" 2>/dev/null)" "" "ENOSPC: rerun: table + archives = the original rows, gzip -t, no stray file"
else
	skip "no mount namespace here (unshare -rm / -m refused): no tmpfs ENOSPC"
fi

# --- 4. eight instances at once --------------------------------------------------------
# All eight wait for one file to appear, then start; the winner runs with
# --batch-size 1 (a second or so), so every other one meets its lock.
echo "# --- eight instances at once"
for trial in $(seq 1 "$RACE_TRIALS"); do
	db=$T/r.db dir=$T/r
	fresh src-ev.db "$db" "$dir"
	rm -f "$T/go" "$T"/race.*
	pids=()
	for i in 1 2 3 4 5 6 7 8; do
		(
			while [ ! -e "$T/go" ]; do sleep 0.005; done
			t0=$(date +%s%N)
			"$JOBS_BIN/prune_events" --db "$db" --archive-dir "$dir" --now "$NOW" --batch-size 1 -q \
			    >/dev/null 2>"$T/race.err.$i"
			rc=$?
			echo "$rc $(( ($(date +%s%N) - t0) / 1000000 ))" >"$T/race.rc.$i"
		) &
		pids+=($!)
	done
	sleep 0.3
	touch "$T/go"
	wait "${pids[@]}"	# not a bare wait: the checker is a coprocess
	res=$(cat "$T"/race.rc.* | sort -n)
	echo "# race $trial: exit code and ms of each: $(paste -sd, <<<"$res")"
	is "$(awk '{print $1}' <<<"$res" | sort -n | uniq -c | awk '{printf "%s x%s ", $2, $1}')" "0 x1 75 x7 " \
		"race $trial: exactly one instance exits 0, the seven others 75"
	is "$(awk '$1 == 75 && $2 >= 1000' <<<"$res" | wc -l)" 0 "race $trial: the others exit at once (under 1 s)"
	errs=$(for i in 1 2 3 4 5 6 7 8; do [ -s "$T/race.err.$i" ] && cat "$T/race.err.$i"; done)
	is "$(grep -c '^prune_events: another prune_events is already running' <<<"$errs"):$(wc -l <<<"$errs")" "7:7" \
		"race $trial: each of them prints one line: already running"
	fcheck final "$db" "$dir" src-ev.db analytics_events ref-prune_events.db
	is "$CHK" "" \
		"race $trial: table + archives = the original rows, none twice, archive tree and manifest agree"
done

# --- 5. the app holds the write lock ------------------------------------------------------
echo "# --- the app holds the write lock"
# hold DB: a process that takes the write lock (BEGIN IMMEDIATE) and keeps it
# until killed; returns once the lock is held.  HOLDER is its pid.
hold() {
	rm -f "$T/locked"
	"$PY" -c 'import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
con.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(60)' "$1" "$T/locked" &
	HOLDER=$!
	local i
	for i in $(seq 1 500); do
		[ -e "$T/locked" ] && return 0
		sleep 0.01
	done
	echo "# the lock holder did not start"
}
allids() { q "$1" "SELECT count(*) || ':' || coalesce(group_concat(id), '') FROM (SELECT id FROM analytics_events ORDER BY id)"; }
# busy_line NAME: ERR is one line saying the database is busy.
busy_line() {
	local first n
	first=$(head -1 <<<"$ERR")
	n=$(wc -l <<<"$ERR")
	printf '%s\n' "$ERR" >"$T/.busyerr"
	if [ "$n" -eq 1 ]; then
		like "$first" '^prune_events: .*busy' "$1"
	else
		ok 1 "$1 (got $n lines)"
	fi
}
release() { kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# a) held from before the job starts.
db=$T/b.db dir=$T/b
fresh src-ev.db "$db" "$dir"
hold "$db"
t0=$(now_ms)
run prune_events --db "$db" --archive-dir "$dir" --now "$NOW" --batch-size $BATCH --busy-timeout 300 -q
ms=$(( $(now_ms) - t0 ))
echo "# lock held: exit $RC after $ms ms:"
sed 's/^/#   stderr: /' <<<"$ERR"
is "$RC" 75 "lock held by the app past --busy-timeout 300: exit 75"
ok $((ms >= 5000)) "... within 5 s ($ms ms)"
busy_line "... one error line saying the database is busy"
release
is "$(allids "$db")" "$(allids src-ev.db)" \
	"... nothing deleted"
is "$(find "$dir" -type f | wc -l)" 0 "... no archive file left"
run prune_events --db "$db" --archive-dir "$dir" --now "$NOW" --batch-size $BATCH -q
is "$RC" 0 "the next clean run exits 0"
fcheck final "$db" "$dir" src-ev.db analytics_events ref-prune_events.db
is "$CHK" "" \
	"... table + archives = the original rows, no 'writing' manifest row, no stray file"

# b) taken while the job writes its first file: strace holds the job for 1.5 s
# on entering its first linkat (the file is written, its manifest row
# 'writing' is committed); the app takes the lock meanwhile, so the batch's
# commit is busy.
if [ "$HAVE_STRACE" = 1 ] && valid_syscall linkat; then
	fresh src-ev.db "$db" "$dir"
	t0=$(now_ms)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -f -o /dev/null -e trace=linkat -e inject=linkat:delay_enter=1500000:when=1 \
	    "$JOBS_BIN/prune_events" --db "$db" --archive-dir "$dir" --now "$NOW" --batch-size $BATCH \
	    --busy-timeout 300 -q >/dev/null 2>"$T/.err" &
	pid=$!
	for i in $(seq 1 500); do
		[ -n "$(find "$dir" -name '.*.tmp' 2>/dev/null)" ] && break
		sleep 0.01
	done
	hold "$db"
	wait "$pid"
	RC=$?
	ms=$(( $(now_ms) - t0 ))
	ERR=$(errlines "$T/.err")
	echo "# lock taken mid-batch: exit $RC after $ms ms:"
	sed 's/^/#   stderr: /' <<<"$ERR"
	echo "# manifest: $(q "$db" "SELECT state, count(*) FROM archive_manifest GROUP BY state" | paste -sd' ')"
	is "$RC" 75 "lock taken by the app between the file and the commit: exit 75"
	ok $((ms >= 5000)) "... within 5 s of the start, 1.5 s of it held by strace ($ms ms)"
	busy_line "... one error line saying the database is busy"
	release
	is "$(allids "$db")" "$(allids src-ev.db)" \
		"... nothing deleted"
	is "$(find "$dir" -type f | wc -l)" 0 "... no archive file left (both names removed)"
	run prune_events --db "$db" --archive-dir "$dir" --now "$NOW" --batch-size $BATCH -q
	is "$RC" 0 "the next clean run exits 0"
	is "$(q "$db" "SELECT count(*) FROM archive_manifest WHERE state = 'writing'")" 0 "... no 'writing' manifest row after it"
	fcheck final "$db" "$dir" src-ev.db analytics_events ref-prune_events.db
	is "$CHK" "" \
		"... table + archives = the original rows, no stray file"
else
	skip "no strace: the lock taken mid-batch is not tested"
fi

# --- the fsync after a batch's COMMIT ------------------------------------------------
# COMMIT releases the write lock before the WAL is synced (docs/design.md,
# "Durability"); when that sync fails, the batch is committed: its file must
# be kept (the matrix above checks no row is lost), the run stops with 74
# and its error line counts the batch.
if [ "$HAVE_STRACE" = 1 ]; then
	db=$T/s.db dir=$T/s
	fresh src-ev.db "$db" "$dir"
	set_args prune_events "$db" "$dir"
	strace -f -o "$T/.seq" -e trace=fdatasync,fsync,linkat "$JOBS_BIN/prune_events" \
	    "${ARGS[@]:1}" >/dev/null 2>&1
	# the first fdatasync after the first file is linked and its directory synced
	k=$(awk '/linkat\(/ { l = 1; next } l == 1 && /fsync\(/ { l = 2; next }
	    /fdatasync\(/ { n++; if (l == 2) { print n; exit } }' "$T/.seq")
	fresh src-ev.db "$db" "$dir"
	inject fdatasync error=EIO "${k:-0}" "${ARGS[@]}"
	is "$RC" 74 "EIO on the WAL's fsync after the first batch's COMMIT (fdatasync K=$k): exit 74"
	rows=$(q "$db" "SELECT group_concat(state || ' ' || rows) FROM archive_manifest")
	is "$rows" "done $BATCH" "... the batch is committed: one manifest row, 'done', $BATCH rows"
	like "$(errlines "$T/.err")" "^prune_events: .*cannot sync its write-ahead log after a commit: .*\(after $BATCH rows archived\)\$" \
		"... one error line naming the failed sync and counting the batch"
	is "$(find "$dir" -type f -name '*.jsonl.gz' -print0 | xargs -0 -r gzip -t 2>&1; find "$dir" -type f | wc -l)" 1 \
		"... its file is kept, complete"
	fcheck after "$db" "$dir" src-ev.db analytics_events
	is "$CHK" "" "... every row in the table or in the 'done' file"
	run "${ARGS[@]}"
	is "$RC" 0 "... the clean rerun exits 0"
	fcheck final "$db" "$dir" src-ev.db analytics_events ref-prune_events.db
	is "$CHK" "" "... table + archives = the original rows, none twice, no stray file"
else
	skip "no strace: a failed fsync after COMMIT is not tested"
fi

echo "# --- summary"
for s in "${SUMMARY[@]}"; do echo "# $s"; done
echo "# $SECONDS s"
done_testing
