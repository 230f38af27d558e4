# Shared helpers for the integration tests (TAP, run by prove).  Each test
# works in its own temporary directory on real SQLite files and runs the real
# programs from $JOBS_BIN.
set -u

: "${JOBS_BIN:?JOBS_BIN must point at the built programs (make test sets it)}"
TAP_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export TAP_LIB	# the Python helpers beside tap.sh import from it
TAP_N=0
TAP_FAILED=0
T=$(mktemp -d "${TMPDIR:-/tmp}/jobs-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

ok() {	# ok CONDITION-EXIT-STATUS DESCRIPTION
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

is() {	# is GOT EXPECTED DESCRIPTION
	TAP_N=$((TAP_N + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $TAP_N - $3"
	else
		echo "not ok $TAP_N - $3"
		printf '%s\n' "$1" | sed 's/^/#   got:      /'
		printf '%s\n' "$2" | sed 's/^/#   expected: /'
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

like() {	# like GOT REGEX DESCRIPTION
	TAP_N=$((TAP_N + 1))
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		echo "ok $TAP_N - $3"
	else
		echo "not ok $TAP_N - $3"
		printf '#   got: %s\n#   does not match: %s\n' "$1" "$2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

skip() {	# skip REASON: a test that cannot run here, and why (counted apart)
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N # SKIP $1"
}

done_testing() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}

# run PROGRAM ARGS...: sets RC, OUT (stdout) and ERR (stderr) of one run.
run() {
	"$JOBS_BIN/$1" "${@:2}" >"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
}

# q DB SQL: one query through the sqlite3 shell, output in list mode.
q() {
	sqlite3 -batch -bail "$1" "$2"
}

# new_db PATH: a database migrated to the newest version.
new_db() {
	"$JOBS_BIN/migrate" --db "$1" -q || { echo "Bail out! migrate failed"; exit 1; }
}

# fingerprint DB [TABLE]: every table's rows (but TABLE's), to prove that a
# refused run changed nothing.  Left out: the outcome every run records in
# jobs_meta ('<job>.last_run' and '<job>.last_success', common/job.h), which
# a refusal rightly updates.
fingerprint() {
	# one sqlite3 run writes the queries, a second runs them
	sqlite3 "$1" "SELECT 'SELECT ''== ' || name || ''';' || CASE name
	    WHEN 'jobs_meta' THEN ' SELECT * FROM jobs_meta WHERE key NOT GLOB ''*.last_run'' AND key NOT GLOB ''*.last_success'' ORDER BY 1;'
	    ELSE ' SELECT * FROM \"' || name || '\" ORDER BY 1;' END
	    FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '${2:-}' ORDER BY name" |
	    sqlite3 "$1" | md5sum | cut -d' ' -f1
}

# hold_lock DB JOB [HOLDER]: hold JOB's lock on DB from another process, as
# HOLDER (default JOB) would, until release_lock; returns once it is held.
hold_lock() {
	rm -f "$T/.held"
	python3 "$TAP_LIB/holdlock.py" "$1" "$2" "${3:-$2}" "$T/.held" &
	HOLD_PID=$!
	for _ in $(seq 200); do
		[ -e "$T/.held" ] && return 0
		sleep 0.02
	done
	echo "Bail out! the lock holder did not start"
	exit 1
}
release_lock() { kill "$HOLD_PID" 2>/dev/null; wait "$HOLD_PID" 2>/dev/null; true; }
