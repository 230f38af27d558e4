#!/bin/bash
# make install PREFIX=... DESTDIR=... puts every program and manual page in
# place, and the installed programs run; make uninstall removes exactly them.
. "$(dirname "$0")/../lib/tap.sh"

SRC=$(cd "$OLDPWD" && cd "$(dirname "$0")/../.." && pwd)
[ -f "$SRC/Makefile" ] || { echo "Bail out! no Makefile at $SRC"; exit 1; }
PROGRAMS="migrate rollup_daily prune_events archive_logs expire_reservations restore_archive jobs_status reconcile_stock retire_table"

make -s -C "$SRC" install PREFIX=/usr DESTDIR="$T/root" >make.out 2>&1
is "$?" 0 "make install DESTDIR=... exits 0"
for p in $PROGRAMS; do
	f="$T/root/usr/bin/$p"
	is "$([ -x "$f" ] && stat -c %a "$f")" 755 "$p installed, mode 755"
	like "$("$f" --version 2>&1)" "^$p [0-9]+\.[0-9]+\.[0-9]+$" "the installed $p runs"
	is "$(stat -c %a "$T/root/usr/share/man/man1/$p.1" 2>&1)" 644 "$p.1 installed in man1, mode 644"
done
is "$(stat -c %a "$T/root/usr/share/man/man7/shop-jobs.7" 2>&1)" 644 "shop-jobs.7 installed in man7"
"$T/root/usr/bin/migrate" --db "$T/i.db" -q
is "$?|$("$T/root/usr/bin/jobs_status" --db "$T/i.db" --json | jq -r '.jobs | length')" "0|7" \
    "the installed migrate makes a database the installed jobs_status reads"
touch "$T/root/usr/bin/other"
make -s -C "$SRC" uninstall PREFIX=/usr DESTDIR="$T/root" >make.out 2>&1
is "$?|$(cd "$T/root" && find . -type f | sort | paste -sd' ')" "0|./usr/bin/other" \
    "make uninstall removes the programs and pages, and nothing else"
done_testing
