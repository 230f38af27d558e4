#!/bin/bash
# The README in step with the programs, so that the front door cannot drift
# from what --help says: the options it lists as shared by every program are
# exactly those in the --help of every program, and the other options it
# lists are taken by exactly the programs it names; its exit codes are
# exactly those of common/status.h, with the meanings --help gives them; its
# programs are exactly the built ones; its apt-get line installs what
# tests/needs.sh asks for.  Every relative link of README.md and docs/*.md
# leads to a file (and heading) that exists, the README stays short, and
# the alert rules of docs/operations.md pass promtool check rules.
. "$(dirname "$0")/../lib/tap.sh"

export LC_ALL=C

# tap.sh has moved into the test's temporary directory; the source tree is
# two levels above this file.
SRC=$(cd "$OLDPWD" && cd "$(dirname "$0")/../.." 2>/dev/null && pwd)
README=$SRC/README.md
[ -n "$SRC" ] && [ -f "$README" ] || { echo "Bail out! README.md not found above tests/"; exit 1; }

# The built programs: every executable file in $JOBS_BIN.
PROGRAMS=$(for f in "$JOBS_BIN"/*; do
	[ -f "$f" ] && [ -x "$f" ] && basename "$f"
done | sort)
[ -n "$PROGRAMS" ] || { echo "Bail out! no programs in $JOBS_BIN"; exit 1; }

# help_options PROG: the options of PROG --help, one a line, sorted (as in
# man.t): every word starting with - or -- in the left column of the
# "options:" block ("-h, --help" gives -h and --help; "--to N" gives --to).
help_options() {
	"$JOBS_BIN/$1" --help | sed -n '/^options:$/,/^$/p' | grep -E '^  -' |
	    cut -c3-28 | grep -oE -- '(^|[ ,])-{1,2}[A-Za-z][A-Za-z0-9-]*' |
	    tr -d ' ,' | sort -u
}

# help_exits PROG: the "exit status:" block of PROG --help, one "CODE
# MEANING" a line (one space between), sorted by code.
help_exits() {
	"$JOBS_BIN/$1" --help | sed -n '/^exit status:$/,/^$/p' |
	    sed -n 's/^  *\([0-9][0-9]*\)  *\(.*[^ ]\) *$/\1 \2/p' | sort -n
}

# section FILE TITLE: the lines of FILE's "## TITLE" section (the lines
# before the first "## " heading for TITLE "").
section() {
	awk -v want="$2" '
	    /^## / { cur = substr($0, 4); next }
	    cur == want' "$1"
}

# rows: the body rows of the first table on standard input, cells split by
# a tab, each trimmed; an escaped pipe (\|) in a cell is a pipe.
rows() {
	awk '
	    /^\|/ { t++; if (t > 2) print; next }
	    t > 0 { exit }' |
	    sed 's/\\|/\x01/g; s/^| *//; s/ *|$//; s/ *| */\t/g; s/\x01/|/g'
}

# cell N: the Nth cell of each row.
cell() { cut -f"$1"; }

# options_in: the options named in backquotes on standard input, one a line,
# sorted ("`-h`, `--help`" gives -h and --help; "`--db PATH`" gives --db).
options_in() {
	grep -oE -- '`-{1,2}[A-Za-z][A-Za-z0-9-]*' | tr -d '`' | sort -u
}

# names_in: the words in backquotes on standard input, one a line, sorted.
names_in() { grep -oE '`[A-Za-z_][A-Za-z0-9_]*`' | tr -d '`' | sort -u; }

# lines_not_in A B: the lines of A that are not in B, sorted, on one line.
lines_not_in() {
	comm -23 <(printf '%s\n' "$1" | sed '/^$/d' | sort -u) \
	    <(printf '%s\n' "$2" | sed '/^$/d' | sort -u) | paste -sd' '
}

# same_set A B A-IN-B B-IN-A: two tests, A's lines all in B, B's all in A.
same_set() {
	is "$(lines_not_in "$1" "$2")" "" "$3"
	is "$(lines_not_in "$2" "$1")" "" "$4"
}

############################################################################
# (c) The programs: the README's table of programs (before its first
# section) names exactly the built programs.
listed=$(section "$README" "" | rows | cell 1 | names_in)
like "$listed" '^migrate$' "the README's table of programs is read (migrate among them)"
same_set "$listed" "$PROGRAMS" \
    "every program of the README's table is built in \$JOBS_BIN" \
    "every program in \$JOBS_BIN is in the README's table of programs"

############################################################################
# (a) The options every program shares: the README's list equals the
# options found in the --help of every program, both ways.
shared=""
first=1
for p in $PROGRAMS; do
	h=$(help_options "$p")
	if [ "$first" = 1 ]; then
		shared=$h first=0
	else
		shared=$(comm -12 <(printf '%s\n' "$shared") <(printf '%s\n' "$h"))
	fi
done
like "$shared" '^--db$' "the options of every --help are read (--db among them)"
readme_shared=$(section "$README" "Options every program shares" | rows | cell 1 | options_in)
like "$readme_shared" '^--db$' "the README's shared options are read (--db among them)"
same_set "$readme_shared" "$shared" \
    "README, Options every program shares: no option that some program's --help lacks" \
    "README, Options every program shares: every option in the --help of every program"

# The other options the README lists: each is taken by exactly the programs
# its row names ("all but X, Y": every program but those).
other=$(section "$README" "Options most programs take" | rows)
like "$other" '--now' "the README's other options are read (--now among them)"
while IFS=$'\t' read -r opts takers _; do
	named=$(printf '%s\n' "$takers" | names_in)
	case $takers in
	"all but "*) named=$(comm -23 <(printf '%s\n' "$PROGRAMS") <(printf '%s\n' "$named")) ;;
	esac
	for o in $(printf '%s\n' "$opts" | options_in); do
		have=$(for p in $PROGRAMS; do
			help_options "$p" | grep -qxF -- "$o" && echo "$p"
		done | sort)
		is "$(printf '%s\n' "$named" | paste -sd' ')" "$(printf '%s\n' "$have" | paste -sd' ')" \
		    "README, Options most programs take: $o is taken by the programs named"
	done
done <<<"$other"

# Every long option the README names is an option of some program.
all_help=$(for p in $PROGRAMS; do help_options "$p"; done | sort -u)
is "$(lines_not_in "$(grep -oE -- '--[a-z][a-z0-9-]*' "$README" | sort -u)" "$all_help")" "" \
    "every --option the README names is in some program's --help"

############################################################################
# (b) Exit codes: the README's table lists exactly the codes of
# common/status.h, and each with the meaning every --help gives it.
STATUS_H=$SRC/common/status.h
status_codes=$(sed -n 's/^[[:space:]]*J_[A-Z]* = \([0-9][0-9]*\),.*/\1/p' "$STATUS_H" | sort -n)
like "$status_codes" '^78$' "common/status.h's codes are read (78 among them)"
readme_exits=$(section "$README" "Exit codes" | rows |
    awk -F'\t' '{ gsub(/`/, "", $2); print $1 " " $2 }' | sort -n)
readme_codes=$(printf '%s\n' "$readme_exits" | cut -d' ' -f1)
like "$readme_codes" '^65$' "the README's exit codes are read (65 among them)"
is "$(printf '%s\n' "$readme_codes" | paste -sd' ')" "$(printf '%s\n' "$status_codes" | paste -sd' ')" \
    "README, Exit codes: exactly the codes of common/status.h, in order"
for p in $PROGRAMS; do
	h=$(help_exits "$p")
	[ -n "$h" ] || continue		# this --help lists no exit codes
	is "$(lines_not_in "$h" "$readme_exits")" "" \
	    "$p --help: every exit code it lists is in the README, with the same meaning"
done

############################################################################
# The apt-get line installs make and every package tests/needs.sh names for
# make test, and nothing else.  needs.sh is run with nothing on its PATH
# (every program missing), then with a pkg-config that knows no library
# (every library missing), and no zoneinfo.
NEEDS=$SRC/tests/needs.sh
mkdir empty fakepc
printf '#!/bin/sh\nexit 1\n' > fakepc/pkg-config
chmod +x fakepc/pkg-config
needed=$(for path in "$T/empty" "$T/fakepc"; do
	env -u CC PATH="$path" TZDIR="$T/empty" /bin/sh "$NEEDS" test 2>&1 >/dev/null |
	    sed -n 's/.*install with: apt-get install //p' | tr ' ' '\n'
done; echo make)
needed=$(printf '%s\n' "$needed" | sed '/^$/d' | sort -u)
like "$needed" '^libcmocka-dev$' "tests/needs.sh's packages are read (libcmocka-dev among them)"
apt=$(sed -n '/apt-get install/,/[^\\]$/p' "$README" | tr -d '\\' |
    sed 's/.*apt-get install//' | tr -s ' \n' '\n' | sed '/^$/d' | sort -u)
same_set "$needed" "$apt" \
    "README's apt-get line installs every package tests/needs.sh asks for" \
    "README's apt-get line installs nothing tests/needs.sh does not ask for"

############################################################################
# (d) Every relative link of README.md and docs/*.md leads to a file or
# directory that exists, and a #fragment to a heading of the target page.

# slugs FILE: the anchors of FILE's headings, GitHub's way (lowercase;
# nothing but letters, digits, spaces, - and _; spaces to -; a repeated
# heading gets -1, -2 ...), code blocks left out.
slugs() {
	awk '
	    /^```/ { fence = !fence; next }
	    fence || /^    / { next }
	    /^#+ / {
		s = tolower($0)
		sub(/^#+ +/, "", s)
		gsub(/[^a-z0-9 _-]/, "", s)
		gsub(/ /, "-", s)
		if (s in seen) { seen[s]++; s = s "-" seen[s] - 1 } else seen[s] = 1
		print s
	    }' "$1"
}

# links FILE: the targets of FILE's Markdown links, one a line: code blocks
# and code spans left out.
links() {
	awk '/^```/ { fence = !fence; next } !fence && !/^    /' "$1" |
	    sed 's/`[^`]*`//g' | grep -oE '\]\([^) ]+\)' | sed 's/^](//; s/)$//'
}

nlinks=0
for md in "$README" "$SRC"/docs/*.md; do
	[ -f "$md" ] || continue
	rel=${md#"$SRC"/}
	dir=$(dirname "$md")
	bad=""
	for l in $(links "$md"); do
		case $l in http://* | https://* | mailto:*) continue ;; esac
		nlinks=$((nlinks + 1))
		path=${l%%#*} frag=""
		case $l in *'#'*) frag=${l#*#} ;; esac
		target=$md
		[ -n "$path" ] && target=$dir/$path
		if [ ! -e "$target" ]; then
			bad="$bad $l"
		elif [ -n "$frag" ] && [ -f "$target" ] && case $target in *.md) true ;; *) false ;; esac &&
		    ! slugs "$target" | grep -qxF -- "$frag"; then
			bad="$bad $l"
		fi
	done
	is "${bad# }" "" "$rel: every relative link leads to an existing file (and heading)"
done
[ "$nlinks" -gt 0 ]
ok $? "relative links were found and checked ($nlinks)"

############################################################################
# (e) The README is a front door: at most 200 lines.
n=$(wc -l <"$README")
[ "$n" -le 200 ]
ok $? "README.md has at most 200 lines ($n)"

############################################################################
# (f) The alert rules docs/operations.md gives are valid Prometheus rules
# (promtool check rules), and name only metrics the jobs write.
OPS=$SRC/docs/operations.md
awk '/^    groups:$/ { on = 1 } on && /^$/ { exit } on { print substr($0, 5) }' "$OPS" >rules.yml
[ -s rules.yml ]
ok $? "docs/operations.md has an alert rules example"
if command -v promtool >/dev/null 2>&1; then
	promtool check rules rules.yml >out 2>&1
	like "$?|$(tr "\n" " " <out)" "^0\|.*SUCCESS: 4 rules found" "promtool check rules: the example is valid (4 rules)"
else
	skip "promtool not installed (apt-get install prometheus)"
fi
names=$(grep -oE 'shop_job_[a-z_]+' rules.yml | sort -u)
known=$(grep -ohE '"(last_run_timestamp_seconds|last_success_timestamp_seconds|success|exit_code|rows|bytes|duration_seconds)"|job_gauge\([^,]*, "[a-z_]+"' \
    "$SRC"/common/job.c "$SRC"/jobs/*.c | grep -oE '"[a-z_]+"' | tr -d '"' | sed 's/^/shop_job_/' | sort -u)
is "$(comm -23 <(printf '%s\n' "$names") <(printf '%s\n' "$known") | paste -sd' ')" "" \
    "the rules name only metrics the jobs write"

done_testing
