#!/bin/sh
# What a make target needs, checked before anything is built: one line that
# names every missing piece and the apt-get line that brings them (Debian or
# Ubuntu package names), then exit 2.  Nothing is skipped silently and no
# compiler error wall stands for a missing package.
# Usage: needs.sh NEEDS [TARGET]: NEEDS one of build demo test check
# valgrind lint fuzz bench; TARGET the make target named in the message
# (default NEEDS; "all" and "build" are plain "make").
target=$1 label=${2:-$1}
missing="" packages=""

# miss WHAT PACKAGE: one more missing piece
miss() {
	missing="$missing${missing:+, }$1"
	case " $packages " in *" $2 "*) ;; *) packages="$packages${packages:+ }$2" ;; esac
}
# cmd NAME PACKAGE: a program on the PATH
cmd() { command -v "$1" >/dev/null 2>&1 || miss "$1" "$2"; }
# lib NAME PACKAGE: a library pkg-config knows (pkg-config itself checked first)
lib() {
	command -v pkg-config >/dev/null 2>&1 || return 0
	pkg-config --exists "$1" 2>/dev/null || miss "$1 (library)" "$2"
}

build() {
	cmd "${CC:-cc}" gcc
	cmd pkg-config pkg-config
	lib sqlite3 libsqlite3-dev
	lib zlib zlib1g-dev
}

case $target in
build)	build ;;
demo)	build; cmd sqlite3 sqlite3 ;;
test|check)
	build
	lib cmocka libcmocka-dev
	cmd sqlite3 sqlite3
	cmd jq jq
	cmd prove perl
	cmd python3 python3
	cmd gzip gzip
	cmd mandoc mandoc
	cmd strace strace
	cmd script bsdutils
	[ -f "${TZDIR:-/usr/share/zoneinfo}/Europe/Dublin" ] || miss "the time zone database" tzdata
	if [ "$target" = check ] && [ -z "$missing" ] &&
	    ! printf 'int main(void) { return 0; }\n' | "${CC:-cc}" -x c \
	    -fsanitize=address,undefined -o /dev/null - >/dev/null 2>&1; then
		miss "the compiler's sanitizer runtime" gcc
	fi ;;
valgrind) build; cmd valgrind valgrind; cmd sqlite3 sqlite3 ;;
lint)	build; cmd cppcheck cppcheck; cmd clang-tidy clang-tidy ;;
fuzz)	cmd "${FUZZ_CC:-clang}" clang ;;
bench)	build; cmd sqlite3 sqlite3; cmd gzip gzip; cmd python3 python3
	[ -x /usr/bin/time ] || miss /usr/bin/time time ;;
*)	echo "needs.sh: unknown target '$target'" >&2; exit 70 ;;
esac

[ -z "$missing" ] && exit 0
case $label in all|build) label=make ;; *) label="make $label" ;; esac
echo "$label: missing $missing; install with: apt-get install $packages" >&2
exit 2
