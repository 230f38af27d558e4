#!/bin/bash
# The shop's business day (SPEC 3; common/bizday.h): analytics_daily in a
# business time zone equals an independent computation with Python's
# zoneinfo (tests/lib/zonemodel.py) on events in every timestamp form around
# every transition of zones with 23- and 25-hour days (Europe/Dublin, with its
# negative DST), -3:30 (America/St_Johns), +5:45 (Asia/Kathmandu), a 30-minute
# shift (Australia/Lord_Howe) and a skipped day (Pacific/Apia, 2011-12-30); a
# switch from UTC to Europe/Dublin after days were pruned, then to
# America/New_York, counts every event exactly once across old and new days;
# prune_events prunes by local day and checks rollups per local day; bad
# input; without a zone nothing changes (the other tests) and nothing is
# read from tzdata; a zone's file missing or unreadable.
. "$(dirname "$0")/../lib/tap.sh"

export LC_ALL=C
zm() { python3 "$TAP_LIB/zonemodel.py" "$@"; }
daily() { q "$1" "SELECT date, event_type, count, unique_users, unique_sessions, metadata FROM analytics_daily ORDER BY 1, 2"; }
readable() { python3 -c "
import os, sqlite3, sys
sys.path.insert(0, os.environ['TAP_LIB'])
from tsmodel import parse_ms
print(sum(parse_ms(c) is not None for (c,) in sqlite3.connect('$1').execute('SELECT created_at FROM analytics_events')))"; }
ids() { q "$1" "SELECT id FROM analytics_events ORDER BY id" | paste -sd' '; }

# --- 1. one zone from the beginning, around every transition ------------------------------
# zone ZONE Y1 Y2 NOW: events around ZONE's transitions in Y1..Y2, the zone
# set on a fresh database (nothing pruned: from the beginning), every day
# rolled; analytics_daily must be the model's.
zone() {
	local name=$1 db
	db=$(echo "$1" | tr '/' '_').db
	new_db "$db"
	n=$(zm events "$1" "$2" "$3" 7 "$db")
	run rollup_daily --db "$db" --set-timezone "$1" --now "$4"
	like "$RC|$OUT" "^0\|rollup_daily: made days $1's from the beginning \(nothing was ever pruned\): every day is rolled again" \
	    "$name: the zone is set ($n events around its transitions, every form)"
	like "$OUT" "rollup_daily: rolled [0-9]+ days" "$name: ... and every day rolled"
	today=$(zm day "$1" "$(python3 -c "import datetime; print(int(datetime.datetime.fromisoformat('${4%Z}+00:00').timestamp()) * 1000)")")
	got=$(daily "$db" | md5sum)
	want=$(zm expect "$db" "$1" "$today" | md5sum)
	is "$got" "$want" "$name: analytics_daily equals zoneinfo's business days ($(daily "$db" | wc -l) rows)"
	[ "$got" = "$want" ] || diff <(daily "$db") <(zm expect "$db" "$1" "$today") | head -5 | sed 's/^/# /'
	is "$(q "$db" "SELECT sum(count) FROM analytics_daily")" "$(readable "$db")" "$name: every readable event counted once"
}
zone Europe/Dublin 2024 2025 2026-01-05T12:00:00Z
zone America/St_Johns 2025 2025 2026-01-05T12:00:00Z
zone Asia/Kathmandu 2025 2025 2026-01-05T12:00:00Z
zone Australia/Lord_Howe 2025 2025 2026-01-05T12:00:00Z
zone Pacific/Apia 2011 2011 2012-01-05T12:00:00Z
is "$(q Pacific_Apia.db "SELECT count(*) FROM analytics_daily WHERE date = '2011-12-30'")" 0 \
    "Pacific/Apia: 2011-12-30, the day the zone skipped, has no rows"
is "$(q Europe_Dublin.db "SELECT zone FROM business_zones")" "Europe/Dublin" "the zone is kept in the database"

# --- 2. a switch after days were pruned, and another -------------------------------------
# Events over 2025-03-01 .. 2025-09-30 in every form; rolled up and pruned
# by UTC days, then Europe/Dublin from the default day, then America/New_York.
new_db sw.db
python3 - sw.db <<'EOF'
import os, random, sqlite3, sys
sys.path.insert(0, os.environ["TAP_LIB"])
from dailymodel import FORMS, fmt
rnd = random.Random(11)
lo, hi = 1740787200000, 1759276800000          # 2025-03-01 .. 2025-10-01
rows = []
for i in range(4000):
    ms = lo + rnd.randrange(hi - lo)
    if i % 10 == 0:                            # near a UTC midnight or 23:00
        ms = ms - ms % 86400000 + rnd.choice([-3600000, -1, 0, 1, 3599999, 3600000, -1800000])
    rows.append(('e%d' % (i % 4), rnd.randint(1, 30), 's%d' % rnd.randint(1, 50),
                 rnd.randint(1, 20), None, fmt(ms, rnd.choice(FORMS), rnd)))
# Around the switches' boundaries and the old zones' midnights next to them:
# 2025-05-03T23:00Z (00:00 Dublin on 05-04), 05-04T00:00Z (UTC's), and
# 2025-07-15T04:00Z (00:00 New York on 07-15), 07-14T23:00Z (Dublin's), in
# every form: the old zone's last day ends at the new zone's start.
for m in (1746313200000, 1746316800000, 1752552000000, 1752534000000):
    for d in (-3600000, -1800000, -1000, -1, 0, 1, 999, 1800000, 3600000, 7200000):
        for form in FORMS:
            rows.append(('edge', 1, 's1', 1, None, fmt(m + d, form, rnd)))
con = sqlite3.connect(sys.argv[1])
con.executemany("INSERT INTO analytics_events (event_type, user_id, session_id, product_id, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?)", rows)
con.commit()
EOF
NOW=2025-10-01T12:00:00Z
run rollup_daily --db sw.db --now "$NOW"
is "$RC" 0 "UTC days rolled"
cp sw.db pre.db				# the model reads every event, pruned or not
mkdir A
run prune_events --db sw.db --now 2025-08-01T00:00:00Z --archive-dir A
like "$RC|$OUT" "^0\|prune_events: archived [0-9]+ rows .*\(2025-03-01\.\.2025-05-02\)" "days before 2025-05-03 (UTC) pruned"
fp=$(fingerprint sw.db)
run rollup_daily --db sw.db --set-timezone Europe/Dublin --now "$NOW" --dry-run
like "$RC|$OUT" "^0\|rollup_daily: would make days Europe/Dublin's from 2025-05-04 on; 2025-05-03 \(the last day before, which would end where 2025-05-04 begins\) and every later day would be rolled again \(through 2025-09-30\)" \
    "--dry-run: the day it takes effect (the day after the first day never pruned) and the days rolled again"
is "$(fingerprint sw.db)" "$fp" "--dry-run changes nothing"
run rollup_daily --db sw.db --set-timezone Europe/Dublin --from 2025-05-01 --now "$NOW"
like "$RC|$ERR" "^65\|rollup_daily: cannot switch to Europe/Dublin from 2025-05-01: 2025-04-30 was pruned, .*choose 2025-05-04 or later" \
    "--from whose day before was pruned: 65, names that day"
is "$(fingerprint sw.db)" "$fp" "... and changes nothing"
run rollup_daily --db sw.db --set-timezone Europe/Dublin --now "$NOW"
like "$RC|$OUT" "^0\|rollup_daily: made days Europe/Dublin's from 2025-05-04 on" "the switch"
is "$(daily sw.db | md5sum)" "$(zm expect pre.db "UTC,Europe/Dublin@2025-05-04" 2025-10-01 | md5sum)" \
    "analytics_daily: UTC days, then Dublin days, as the model has them"
is "$(q sw.db "SELECT sum(count) FROM analytics_daily")" "$(readable pre.db)" "every readable event counted exactly once across old and new days"
is "$(q sw.db "SELECT count(*) FROM analytics_daily WHERE date < '2025-05-03'")|$(q pre.db "SELECT count(*) FROM analytics_daily WHERE date < '2025-05-03'")" \
    "$(q pre.db "SELECT count(*) FROM analytics_daily WHERE date < '2025-05-03'")|$(q pre.db "SELECT count(*) FROM analytics_daily WHERE date < '2025-05-03'")" \
    "the pruned days kept their (UTC) rows"
run rollup_daily --db sw.db --set-timezone America/New_York --from 2025-07-15 --now "$NOW"
is "$RC" 0 "a second switch: America/New_York from 2025-07-15"
is "$(daily sw.db | md5sum)" "$(zm expect pre.db "UTC,Europe/Dublin@2025-05-04,America/New_York@2025-07-15" 2025-10-01 | md5sum)" \
    "analytics_daily: UTC, Dublin, then New York days, as the model has them"
is "$(q sw.db "SELECT sum(count) FROM analytics_daily")" "$(readable pre.db)" "every event still counted exactly once"
run rollup_daily --db sw.db --now "$NOW"
like "$RC|$OUT" "^0\|rollup_daily: nothing to do" "a rerun has nothing to do"
run jobs_status --db sw.db --now "$NOW"
like "$OUT" "business day: America/New_York from 2025-07-15 \(Europe/Dublin from 2025-05-04, UTC before\)" \
    "jobs_status shows the zone and the day it took effect"

# --- 3. prune by local day --------------------------------------------------------------
# Dublin from the beginning; 30 days kept at 2025-08-20 12:00 UTC: the cutoff
# is 00:00 Dublin of 2025-07-21, 2025-07-20T23:00:00Z.
new_db pr.db
q pr.db "INSERT INTO analytics_events (id, event_type, created_at) VALUES
  (1, 'e', '2025-07-20 22:59:59.999'), (2, 'e', '2025-07-20 23:00:00'), (3, 'e', 1753052399),
  (4, 'e', 1753052400000), (5, 'e', '2025-07-21T00:30:00+01:00'), (6, 'e', '2025-07-20T23:59:00+01:00'),
  (7, 'e', '2025-07-19 12:00:00'), (8, 'e', '2025-07-25 12:00:00')"
NOWP=2025-08-20T12:00:00Z
run rollup_daily --db pr.db --set-timezone Europe/Dublin --now "$NOWP"
is "$RC" 0 "Dublin from the beginning, rolled"
q pr.db "INSERT INTO analytics_events (id, event_type, created_at) VALUES (9, 'late', '2025-07-20 21:00:00')"
fp=$(fingerprint pr.db)
cp pr.db prpre.db
run prune_events --db pr.db --now "$NOWP" --retention-days 30 --no-archive
like "$RC|$ERR" "^65\|prune_events: refusing to prune: days without a fresh rollup: 2025-07-20 \(stale rollup\)" \
    "a late event in a local day before the cutoff: refused, that local day named"
is "$(fingerprint pr.db)" "$fp" "... nothing deleted"
run rollup_daily --db pr.db --now "$NOWP"
run prune_events --db pr.db --now "$NOWP" --retention-days 30 --no-archive
like "$RC|$OUT" "^0\|prune_events: deleted 5 rows .*before 2025-07-20T23:00:00\.000Z" "rolled again: pruned, up to 00:00 Dublin"
is "$(ids pr.db)" "2 4 5 8" "exactly the events of local days before the cutoff are gone"
is "$(zm ids prpre.db Europe/Dublin 2025-07-21)" "1 3 6 7 9" "... as the model has it"
is "$(q pr.db "SELECT group_concat(day) FROM business_days WHERE pruned_at IS NOT NULL")" "2025-07-19,2025-07-20" \
    "the pruned local days are frozen"
q pr.db "INSERT INTO analytics_events (id, event_type, created_at) VALUES (10, 'later', '2025-07-20 10:00:00')"
run rollup_daily --db pr.db --now "$NOWP"
like "$ERR" "2025-07-20: events arrived or changed after the day was pruned" "a late event for a frozen local day is reported, not counted"

# --- 4. bad input ------------------------------------------------------------------------
new_db bad.db
fp=$(fingerprint bad.db)
for z in Nowhere/Atlantis "../../etc/passwd" "" Europe; do
	run rollup_daily --db bad.db --set-timezone "$z"
	like "$RC|$ERR" "^64\|rollup_daily: " "--set-timezone '$z': 64"
done
run rollup_daily --db bad.db --set-timezone Europe/Dublin --date 2025-01-01
is "$RC" 64 "--set-timezone with --date: 64"
is "$(fingerprint bad.db)" "$fp" "bad input changes nothing"

# --- 5. the zone files -------------------------------------------------------------------
# Without a zone, nothing is read from tzdata: the jobs run without it.
new_db nz.db
q nz.db "INSERT INTO analytics_events (id, event_type, created_at) VALUES
  (1, 'e', '2025-07-20 22:00:00'), (2, 'e', 1753052400), (3, 'e', '2025-07-19 12:00:00')"
cp nz.db nz2.db
TZDIR=$PWD/no-tzdata run rollup_daily --db nz.db --now "$NOWP"
is "$RC" 0 "no zone set, no tzdata: rollup_daily works"
run rollup_daily --db nz2.db --now "$NOWP"
is "$(daily nz.db)" "$(daily nz2.db)" "... and rolls the same days as with tzdata"
TZDIR=$PWD/no-tzdata run prune_events --db nz.db --now "$NOWP" --retention-days 30 --no-archive
is "$RC|$(ids nz.db)" "0|" "no zone set, no tzdata: prune_events works"
# A zone set, its file gone: 78 and the file named; its file unreadable: 74.
cp pr.db zf.db
TZDIR=$PWD/no-tzdata run rollup_daily --db zf.db --now "$NOWP"
like "$RC|$ERR" "^78\|rollup_daily: database 'zf.db': business time zone: unknown time zone 'Europe/Dublin' \(no .*/no-tzdata/Europe/Dublin: No such file or directory; is tzdata installed\?\)" \
    "the zone's file missing: 78, the file named"
if command -v strace >/dev/null 2>&1; then
	zf=${TZDIR:-/usr/share/zoneinfo}/Europe/Dublin
	# LeakSanitizer cannot run under ptrace (the sanitizer build).
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -o /dev/null -P "$zf" -e trace=openat -e inject=openat:error=EIO \
	    "$JOBS_BIN/rollup_daily" --db zf.db --now "$NOWP" >out 2>err
	like "$?|$(cat err)" "^74\|rollup_daily: database 'zf.db': business time zone: cannot read time zone file .*Europe/Dublin: Input/output error" \
	    "the zone's file unreadable (EIO): 74, the file named"
else
	skip "strace not installed"
fi

done_testing
