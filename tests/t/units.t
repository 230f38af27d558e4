#!/bin/bash
# The example systemd units (systemd/): every timer is Persistent=true, has an
# OnCalendar= and starts a service that exists; every service is a oneshot
# that gets the database from JOBS_DB and whose ExecStart= runs one of the
# built programs.  Where systemd-analyze is installed, `systemd-analyze
# verify` also checks them, on copies whose ExecStart= points at $JOBS_BIN
# (the units name the installed /usr/local/bin).
. "$(dirname "$0")/../lib/tap.sh"

export LC_ALL=C

# tap.sh has moved into the test's temporary directory; systemd/ is at the top
# of the source tree, two levels above this file.
UNITS=$(cd "$OLDPWD" && cd "$(dirname "$0")/../../systemd" 2>/dev/null && pwd)
[ -n "$UNITS" ] && [ -d "$UNITS" ] || { echo "Bail out! systemd/ not found beside tests/"; exit 1; }

# key FILE KEY: the values of KEY= in FILE, one a line (comments skipped).
key() {
	sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*//p" "$1"
}

timers=$(cd "$UNITS" && ls *.timer 2>/dev/null)
services=$(cd "$UNITS" && ls *.service 2>/dev/null)
[ -n "$timers" ] && [ -n "$services" ]
ok $? "systemd/ holds timers and services"

############################################################################
# Timers.
started=""
for t in $timers; do
	is "$(key "$UNITS/$t" Persistent)" "true" "$t: Persistent=true"
	[ -n "$(key "$UNITS/$t" OnCalendar)" ]
	ok $? "$t: has an OnCalendar="
	# Unit= if given, else the service of the same name (systemd's default).
	svc=$(key "$UNITS/$t" Unit)
	[ -n "$svc" ] || svc=${t%.timer}.service
	[ -f "$UNITS/$svc" ]
	ok $? "$t: starts $svc, which exists"
	started="$started $svc"
	like "$(key "$UNITS/$t" WantedBy)" '^timers\.target$' "$t: WantedBy=timers.target"
done

############################################################################
# Services.
for s in $services; do
	is "$(key "$UNITS/$s" Type)" "oneshot" "$s: Type=oneshot"
	like "$(key "$UNITS/$s" Environment)" '^JOBS_DB=/' "$s: Environment=JOBS_DB= an absolute path"
	exec=$(key "$UNITS/$s" ExecStart)
	is "$(printf '%s\n' "$exec" | grep -c .)" 1 "$s: one ExecStart="
	# The first word, without systemd's prefixes (-, @, :, +, !).
	prog=$(printf '%s\n' "$exec" | head -n 1 | awk '{ print $1 }' | sed 's/^[-@:+!]*//')
	like "$prog" '^/' "$s: ExecStart= names the program by its absolute path"
	[ -n "$prog" ] && [ -x "$JOBS_BIN/$(basename "$prog")" ]
	ok $? "$s: ExecStart= runs a built program ($(basename "$prog"))"
	like "$started" " $s( |$)" "$s: a timer starts it"
done

############################################################################
# systemd-analyze verify, on copies that run the programs of $JOBS_BIN.
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir "$T/units"
	for f in $timers $services; do
		sed "s|^\(ExecStart=[-@:+!]*\)/[^ ]*/|\1$JOBS_BIN/|" "$UNITS/$f" >"$T/units/$f"
	done
	out=$(cd "$T/units" && systemd-analyze verify --man=no $timers $services 2>&1)
	is "$?:$out" "0:" "systemd-analyze verify is clean"
else
	skip "systemd-analyze not installed"
fi

done_testing
