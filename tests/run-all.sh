#!/bin/bash
# make test: the cmocka unit suites, then the integration tests under prove,
# then one total line.  Usage: run-all.sh BINDIR UNIT-TEST-BINARY...
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

prove_out=$(JOBS_BIN="$bindir" prove -f tests/t/ 2>&1); prove_rc=$?
printf '%s\n' "$prove_out"
tests=$(printf '%s\n' "$prove_out" | sed -n 's/.*Tests=\([0-9]*\).*/\1/p')
failed=$(printf '%s\n' "$prove_out" | grep -c '^not ok')
[ $prove_rc -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
passed=$(( ${tests:-0} - failed ))
echo
echo "total: $((unit_pass + passed)) passed, $((unit_fail + failed)) failed"
[ $unit_fail -eq 0 ] && [ $prove_rc -eq 0 ]
