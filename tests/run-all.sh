#!/bin/bash
# make test: the cmocka unit suites, then the integration tests under prove,
# then one total line, which counts the skipped tests apart and says why
# each was skipped (prove --directives prints them).
# Usage: run-all.sh BINDIR UNIT-TEST-BINARY...
bindir=$1; shift
unit_pass=0 unit_fail=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -E '^\[  (PASSED|FAILED)  \]|^\[==========\]' | sed "s|^|$(basename "$t"): |"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p')
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p')
	unit_pass=$((unit_pass + ${p:-0}))
	unit_fail=$((unit_fail + ${f:-0}))
	[ $rc -eq 0 ] || { [ -n "$f" ] || unit_fail=$((unit_fail + 1)); printf '%s\n' "$out" | tail -20; }
done
echo "unit: $unit_pass passed, $unit_fail failed"

prove_out=$(JOBS_BIN="$bindir" prove -f --directives tests/t/ 2>&1); prove_rc=$?
printf '%s\n' "$prove_out"
tests=$(printf '%s\n' "$prove_out" | sed -n 's/.*Tests=\([0-9]*\).*/\1/p')
failed=$(printf '%s\n' "$prove_out" | grep -c '^not ok')
[ $prove_rc -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
skips=$(printf '%s\n' "$prove_out" | sed -n 's/^ok [0-9]*\( -\)\{0,1\} *# *[Ss][Kk][Ii][Pp] *//p')
skipped=$(printf '%s' "$skips" | grep -c '^' || true)
passed=$(( ${tests:-0} - failed - skipped ))
echo
echo "total: $((unit_pass + passed)) passed, $((unit_fail + failed)) failed$(
    [ "$skipped" -eq 0 ] || echo ", $skipped skipped:")"
[ "$skipped" -eq 0 ] || printf '%s\n' "$skips" | sort | uniq -c |
    sed 's/^ *\([0-9]*\) \(.*\)/  \1 skipped: \2/'
[ $unit_fail -eq 0 ] && [ $prove_rc -eq 0 ]
