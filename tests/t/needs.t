#!/bin/bash
# tests/needs.sh, the check every make target runs before it builds: with a
# piece missing, one line names it with the apt-get line that brings it, and
# the exit status is 2; with everything there it says nothing and exits 0.
# Pieces are hidden by running it with a PATH of our own (links to every
# program but the hidden one) and a pkg-config search path without the
# library.
. "$(dirname "$0")/../lib/tap.sh"

NEEDS=$(cd "$OLDPWD" && cd "$(dirname "$0")/.." && pwd)/needs.sh
[ -f "$NEEDS" ] || { echo "Bail out! tests/needs.sh not found"; exit 1; }

# fakepath HIDDEN...: a directory with a link to every program this test
# machine has on its PATH for needs.sh, but none named HIDDEN.
fakepath() {
	local dir=fake.$$.$RANDOM p
	mkdir "$dir"
	for p in sh cc gcc pkg-config sqlite3 jq prove python3 gzip mandoc strace \
	    script valgrind cppcheck clang clang-tidy; do
		case " $* " in *" $p "*) continue ;; esac
		command -v "$p" >/dev/null 2>&1 && ln -s "$(command -v "$p")" "$dir/$p"
	done
	echo "$PWD/$dir"
}

full=$(fakepath)
PATH=$full sh "$NEEDS" test >out 2>err
is "$?" 0 "test: everything there, exit 0"
is "$(cat out err)" "" "test: everything there, says nothing"

p=$(fakepath jq)
PATH=$p sh "$NEEDS" test >out 2>err
is "$?" 2 "test without jq: exit 2"
is "$(cat err)" "make test: missing jq; install with: apt-get install jq" \
    "test without jq: one line, the piece and the apt-get line"
is "$(cat out)" "" "test without jq: nothing on stdout"

p=$(fakepath jq mandoc strace)
PATH=$p sh "$NEEDS" check 2>err
is "$?" 2 "check without three tools: exit 2"
is "$(cat err)" \
    "make check: missing jq, mandoc, strace; install with: apt-get install jq mandoc strace" \
    "check without three tools: each named once on one line"

PATH=$full PKG_CONFIG_LIBDIR=/nonexistent sh "$NEEDS" test 2>err
is "$?" 2 "test without the libraries: exit 2"
is "$(cat err)" "make test: missing sqlite3 (library), zlib (library), cmocka (library); install with: apt-get install libsqlite3-dev zlib1g-dev libcmocka-dev" \
    "test without the libraries: their -dev packages"

# The demo needs only what the programs need: no test tools.
p=$(fakepath jq mandoc strace prove python3 script valgrind)
PATH=$p sh "$NEEDS" demo 2>err
is "$?" 0 "demo: needs no test tool"
PATH=$p PKG_CONFIG_LIBDIR=/nonexistent sh "$NEEDS" demo 2>err
is "$(cat err)" "make demo: missing sqlite3 (library), zlib (library); install with: apt-get install libsqlite3-dev zlib1g-dev" \
    "demo without the libraries: named"
p=$(fakepath sqlite3)
PATH=$p sh "$NEEDS" demo 2>err
is "$(cat err)" "make demo: missing sqlite3; install with: apt-get install sqlite3" \
    "demo without the sqlite3 shell: named"

# Two pieces from one package: the package once.
p=$(fakepath cc gcc)
PATH=$p CC=cc sh "$NEEDS" build 2>err
is "$(cat err)" "make: missing cc; install with: apt-get install gcc" \
    "build without a compiler: gcc"

# A target that checks another's needs is named as typed.
p=$(fakepath jq)
PATH=$p sh "$NEEDS" test stress 2>err
is "$(cat err)" "make stress: missing jq; install with: apt-get install jq" \
    "make stress (the test's needs): the message names make stress"

sh "$NEEDS" nonsense 2>err
is "$?" 70 "an unknown target: 70"

done_testing
