#!/bin/bash
# The manual pages (man/): every page is clean under `mandoc -Tlint -W
# warning`, and every program's page documents exactly the options its --help
# prints, so that the two cannot drift apart.  The options are read from the
# mdoc source: every .Fl in the OPTIONS section, against every option in the
# options part of --help (long and short).  Without mandoc the lint checks
# are skipped; the option checks need only the source.
. "$(dirname "$0")/../lib/tap.sh"

export LC_ALL=C

# tap.sh has moved into the test's temporary directory; man/ is at the top of
# the source tree, two levels above this file.
MAN=$(cd "$OLDPWD" && cd "$(dirname "$0")/../../man" 2>/dev/null && pwd)
[ -n "$MAN" ] && [ -d "$MAN" ] || { echo "Bail out! man/ not found beside tests/"; exit 1; }

# The programs every build has; a page for a later program is checked too,
# through the loop over man/*.1.
PROGRAMS="migrate rollup_daily prune_events archive_logs expire_reservations
    restore_archive jobs_status reconcile_stock retire_table"

# help_options PROG: the options of PROG --help, one a line, sorted: every
# word starting with - or -- in the left column of the "options:" block
# ("-h, --help" gives -h and --help; "--to N" gives --to).
help_options() {
	"$JOBS_BIN/$1" --help | sed -n '/^options:$/,/^$/p' | grep -E '^  -' |
	    cut -c3-28 | grep -oE -- '(^|[ ,])-{1,2}[A-Za-z][A-Za-z0-9-]*' |
	    tr -d ' ,' | sort -u
}

# fl_options FILE [SECTION [It]]: the options named by Fl macros in FILE, or
# only in its .Sh SECTION, or only on the .It lines (the list entries) of that
# section, one a line, sorted.  ".Fl -db" is --db, ".Fl q" is -q.
fl_options() {
	awk -v want="${2:-}" -v only="${3:-}" '
	    /^\.Sh / { sec = substr($0, 5); gsub(/"/, "", sec) }
	    want != "" && sec != want { next }
	    only != "" && $1 != "." only { next }
	    /^\./ {
		for (i = 1; i < NF; i++)
			if ($i == "Fl" || $i == ".Fl") {
				a = $(i + 1)
				gsub(/\\-/, "-", a)
				if (a ~ /^-?[A-Za-z]/)
					print "-" a
			}
	    }' "$1" | sort -u
}

# lines_not_in A B: the lines of A that are not in B (both sorted), on one line.
lines_not_in() {
	comm -23 <(printf '%s\n' "$1") <(printf '%s\n' "$2") | paste -sd' '
}

############################################################################
# Every program has its page, and every page its program.
for p in $PROGRAMS; do
	[ -f "$MAN/$p.1" ]
	ok $? "$p: man/$p.1 exists"
done
for f in "$MAN"/*.1; do
	p=$(basename "$f" .1)
	[ -x "$JOBS_BIN/$p" ]
	ok $? "man/$p.1: documents a built program ($JOBS_BIN/$p)"
done
[ -f "$MAN/shop-jobs.7" ]
ok $? "man/shop-jobs.7 exists"

# .Dt names the file: NAME and section as the file name says.
for f in "$MAN"/*.[1-9]; do
	b=$(basename "$f")
	name=${b%.*} sect=${b##*.}
	upper=$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')
	is "$(sed -n 's/^\.Dt //p' "$f")" "$upper $sect" "$b: .Dt matches the file name"
done

############################################################################
# mandoc -Tlint -W warning prints nothing and exits 0.
if command -v mandoc >/dev/null 2>&1; then
	for f in "$MAN"/*.[1-9]; do
		out=$(mandoc -Tlint -W warning "$f" 2>&1)
		is "$?:$out" "0:" "$(basename "$f"): mandoc -Tlint -W warning is clean"
	done
else
	skip "mandoc not installed"
fi

############################################################################
# Each page's OPTIONS section and the program's --help name the same options.
for f in "$MAN"/*.1; do
	p=$(basename "$f" .1)
	[ -x "$JOBS_BIN/$p" ] || continue	# reported above
	help=$(help_options "$p")
	items=$(fl_options "$f" OPTIONS It)
	page=$(fl_options "$f" OPTIONS)
	all=$(fl_options "$f")
	like "$help" '^--db$' "$p: the options of --help are read (--db among them)"
	is "$(lines_not_in "$help" "$items")" "" "$p.1: OPTIONS has an entry (.It) for every option of $p --help"
	is "$(lines_not_in "$page" "$help")" "" "$p.1: OPTIONS documents no option that $p --help lacks"
	is "$(lines_not_in "$(printf '%s\n' "$all" | grep -v -- '^-[A-Za-z][A-Za-z]')" "$help")" "" \
	    "$p.1: the page names no option that $p --help lacks"
done

done_testing
