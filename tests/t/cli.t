#!/bin/bash
# The command line every job shares (SPEC section 4), through bin/migrate:
# help and version, the $JOBS_DB fallback, range checks, and usage errors that
# exit 64 with exactly one line on stderr and create no file.
. "$(dirname "$0")/../lib/tap.sh"

unset JOBS_DB

# in_empty_dir NAME: work in a new empty directory, so "no file created" is
# simply "the directory is still empty".
in_empty_dir() {
	mkdir "$T/$1" && cd "$T/$1" || exit 1
}

err_lines() {
	wc -l <"$T/.err"
}

# usage_error NAME ARGS...: migrate ARGS must exit 64 with one stderr line,
# print nothing on stdout and create nothing.  Every case names --db u.db (or
# gets it from JOBS_DB) so a run that went on would leave a file behind.
usage_error() {
	local name=$1
	shift
	in_empty_dir "$name"
	run migrate "$@"
	is "$RC" 64 "$name: exit 64"
	is "$(err_lines)" 1 "$name: exactly one line on stderr"
	like "$ERR" "^migrate: .+ \(see migrate --help\)$" "$name: the line names the program and points at --help"
	is "$OUT" "" "$name: nothing on stdout"
	is "$(ls -A)" "" "$name: no file created"
}

############################################################################
# Help and version.
for h in -h --help; do
	in_empty_dir "help$h"
	run migrate "$h"
	is "$RC" 0 "$h: exit 0"
	is "$ERR" "" "$h: nothing on stderr"
	like "$OUT" "^usage: migrate " "$h: usage line first"
	for code in "64  bad usage" "65  refused because of the data" "66  database missing, not a database, or with more than one hard link" \
	    "70  internal error" "73  archive cannot be created" "74  I/O error" \
	    "75  temporary: database busy, or another instance is running" "78  schema not migrated"; do
		like "$OUT" "  $code" "$h: lists exit code ${code%% *}"
	done
	for o in "--db PATH" "--to N" "--status" "--dry-run" "--busy-timeout MS" "--log-format text\|json" "-q" "-v"; do
		like "$OUT" "^  $o " "$h: lists $o"
	done
	is "$(ls -A)" "" "$h: no file created"
done
for v in -V --version; do
	run migrate "$v"
	is "$RC" 0 "$v: exit 0"
	like "$OUT" "^migrate [0-9]+\.[0-9]+\.[0-9]+$" "$v: one line 'migrate X.Y.Z'"
	is "$ERR" "" "$v: nothing on stderr"
done

############################################################################
# Usage errors: 64, one line, nothing created.
usage_error unknown-long --bogus --db u.db
is "$ERR" "migrate: unknown option '--bogus' (see migrate --help)" "unknown-long: names the option"
usage_error unknown-short -x --db u.db
is "$ERR" "migrate: unknown option '-x' (see migrate --help)" "unknown-short: names the option"
usage_error unknown-grouped --db u.db -xq
is "$ERR" "migrate: unknown option '-x' (see migrate --help)" "unknown-grouped: -xq names -x"
usage_error no-db
is "$ERR" "migrate: no database: give --db PATH or set JOBS_DB (see migrate --help)" "no-db: says how to give one"
JOBS_DB= usage_error empty-env
usage_error empty-db --db ''
usage_error needs-value --db u.db --to
is "$ERR" "migrate: option '--to' needs a value (see migrate --help)" "needs-value: names the option"
usage_error busy-abc --db u.db --busy-timeout abc
is "$ERR" "migrate: --busy-timeout: 'abc' is not a number of milliseconds from 0 to 3600000 (see migrate --help)" \
    "busy-abc: names the value and the range"
usage_error busy-negative --db u.db --busy-timeout -5
usage_error busy-too-big --db u.db --busy-timeout 3600001
usage_error busy-space --db u.db --busy-timeout " 5"
usage_error busy-overflow --db u.db --busy-timeout 99999999999999999999
usage_error log-xml --db u.db --log-format xml
is "$ERR" "migrate: --log-format: 'xml' is not text or json (see migrate --help)" "log-xml: names the value"
usage_error quiet-verbose --db u.db -q -v
is "$ERR" "migrate: -q and -v cannot be used together (see migrate --help)" "quiet-verbose: says why"
usage_error to-0 --db u.db --to 0
is "$ERR" "migrate: --to: '0' is not a version from 1 to 3 (see migrate --help)" "to-0: names the value and the range"
usage_error to-4 --db u.db --to 4
usage_error to-x --db u.db --to x
usage_error to-negative --db u.db --to -1
usage_error stray --db u.db extra
is "$ERR" "migrate: unexpected argument 'extra' (see migrate --help)" "stray: names the argument"
JOBS_DB=u.db usage_error stray-env-db extra

############################################################################
# Values at the edge of their range are accepted (dry-run on a missing path:
# exit 0, nothing created).
for b in 0 3600000; do
	in_empty_dir "busy-$b"
	run migrate --db u.db --dry-run --busy-timeout "$b"
	is "$RC" 0 "--busy-timeout $b: accepted"
	is "$(ls -A)" "" "--busy-timeout $b: dry-run created nothing"
done

############################################################################
# $JOBS_DB.
in_empty_dir env
JOBS_DB=env.db run migrate
is "$RC" 0 "JOBS_DB: exit 0"
is "$(ls -A | grep -c '^env\.db$')" 1 "JOBS_DB: the database was created at \$JOBS_DB"
is "$(q env.db 'SELECT max(version) FROM schema_migrations')" 3 "JOBS_DB: at version 3"
JOBS_DB=other.db run migrate --db cli.db
is "$RC" 0 "--db over JOBS_DB: exit 0"
is "$(ls -A | grep -cE '^(cli|other)\.db$')" 1 "--db over JOBS_DB: only one database created"
is "$(ls -A | grep -c '^cli\.db$')" 1 "--db over JOBS_DB: it is the --db one"

############################################################################
# -q and the JSON log format.
in_empty_dir quiet
run migrate -q --db q.db
is "$RC" 0 "-q: exit 0"
is "$OUT$ERR" "" "-q: prints nothing on success"
in_empty_dir json
run migrate --log-format json --status --db missing.db
is "$RC" 66 "json error: exit 66"
is "$(err_lines)" 1 "json error: one line on stderr"
is "$OUT" "" "json error: nothing on stdout"
is "$(printf '%s\n' "$ERR" | jq -e -r .level)" error "json error: level is error"
is "$(printf '%s\n' "$ERR" | jq -r .job)" migrate "json error: job is migrate"
is "$(printf '%s\n' "$ERR" | jq -r .msg)" "database 'missing.db': does not exist" "json error: msg names the database"
like "$(printf '%s\n' "$ERR" | jq -r .ts)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' \
    "json error: ts is ISO 8601 UTC"
is "$(ls -A)" "" "json error: no file created"
run migrate --log-format json --db j.db
is "$RC" 0 "json success: exit 0"
is "$(printf '%s\n' "$OUT" | jq -r .level | sort -u)" info "json success: every stdout line is JSON at level info"
is "$(printf '%s\n' "$OUT" | jq -r .msg | grep '^.j.db.: migrated' | tail -n 1)" "'j.db': migrated to version 3 (retire-legacy-analytics-and-image-columns)" \
    "json success: the last migration line says the database reached version 3"

done_testing
