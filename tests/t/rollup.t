#!/bin/bash
# rollup_daily (SPEC sections 3, 4, 5): catch-up, late events, backfill, frozen
# (pruned) days, --dry-run, stray old days and the exit codes.  Every table
# is checked against an independent Python computation (model.py below) that
# reads the raw rows and parses created_at itself, per SPEC section 3.
. "$(dirname "$0")/../lib/tap.sh"

cat >model.py <<'PY'
"""Independent model of rollup_daily: python3 model.py COMMAND DB [ARGS].

  gen DB SEED          insert ~3000 generated events (every SPEC 3 form)
  expect DB [opts]     the analytics_daily rows SPEC 5 asks for, one line
                       each: date|event_type|count|uu|us|metadata
  stats DB TODAY       days, events, rows, unreadable of a catch-up before TODAY
  late DB SEED N       insert N late events, most within a second of midnight
  ids DB DAY           ids of the events whose UTC day is DAY
"""
import datetime
import os
import random
import sqlite3
import sys

sys.path.insert(0, os.environ["TAP_LIB"])
from tsmodel import DAY_MS, day_of, parse_ms  # noqa: E402
from dailymodel import FORMS, aggregate, fmt, rows  # noqa: E402,F401


def expect(db, args):
    before, only, exclude = '9999-99-99', None, set()
    while args:
        opt, val = args[0], args[1]
        args = args[2:]
        if opt == '--before':
            before = val
        elif opt == '--only':
            only = set(val.split(','))
        elif opt == '--exclude':
            exclude = set(val.split(','))
    for line in aggregate(db, lambda d: d < before and d not in exclude and
                          (only is None or d in only), day_of):
        print(line)


def stats(db, today):
    """What a catch-up before today over a fresh database reports: days rolled,
    events counted, rows written, and unreadable timestamps met.  rollup.h
    defines the last as the events whose created_at is text dated a rolled
    day (it starts with that YYYY-MM-DD) but is not readable."""
    lines = aggregate(db, lambda d: d < today, day_of)
    days = sorted({l.split('|')[0] for l in lines})
    events = sum(int(l.split('|')[2]) for l in lines)
    unreadable = 0
    for r in rows(db):
        c = r[5]
        if parse_ms(c) is None and isinstance(c, str) and \
                any(d <= c < d + '~' for d in days):
            unreadable += 1
    print(len(days), days[0], days[-1], events, len(lines), unreadable)


def ids(db, day):
    print(' '.join(str(r[0]) for r in rows(db)
                   if parse_ms(r[5]) is not None and day_of(parse_ms(r[5])) == day))


# --- the generator --------------------------------------------------------

TYPES = ['page_view'] * 60 + ['product_view'] * 50 + ['add_to_cart'] * 30 + \
    ['search'] * 20 + ['checkout'] * 10 + ['purchase'] * 10 + \
    ['', 'Page_View', 'page view', 42]     # 42: TEXT affinity stores '42'
# Unreadable values: never counted.  The date-like ones name days that also
# have readable events, so no day is dirtied by an unreadable value alone.
UNREADABLE = [None, 'garbage', '', 'now', '2025-02-30 10:00:00',
              '2025-13-01 10:00:00', ' 2025-10-03 10:00:00',
              '2025-10-03 10:00:00 ', '2025-10-03t10:00:00',
              '2025-10-03T10:00:00z', '2025-10-03 10:00', '2025-10-03',
              '2025-10-03 24:00:00', '2025-10-03 10:60:00',
              '2025-10-03 10:00:60', '2025-10-03T10:00:00+15:00',
              '2025-10-03T10:00:00+0200', '2025-10-03 10:00:00.',
              '2025-10-03 10:00:00.1234567890', '2025-10-01T10:00:00 Z',
              '0000-01-01 00:00:00', '2025/10/03 10:00:00',
              9223372036854775807, float('inf'), b'\x00\x01',
              '1.5e9x', '2025-10-01 10:00:00+02', '2025-10-01T10:00:00.000+02:00Z']
META = ['{"page":"/"}', '{"q":"jeans","n":3}', '{"broken":', 'not json', None,
        '', '{"nested":{"a":[1,2]}}', '[1,2', '"just a string"']


def gen(db, seed):
    rnd = random.Random(int(seed))
    start = int(datetime.datetime(2025, 9, 26, tzinfo=datetime.timezone.utc).timestamp()) * 1000
    # Ten whole days before "today" (2025-10-06), then today and tomorrow.
    span = 11 * DAY_MS + 12 * 3600000
    events = []
    for i in range(3000):
        ms = start + rnd.randrange(span)
        created = fmt(ms, rnd.choice(FORMS), rnd)
        if rnd.random() < 0.02:
            created = rnd.choice(UNREADABLE)
        user = None if rnd.random() < 0.2 else rnd.randint(1, 60)
        if user is not None and rnd.random() < 0.2:
            user = str(user)            # INTEGER affinity: stored as an integer
        session = None if rnd.random() < 0.2 else 's%03d' % rnd.randint(1, 150)
        if session is not None and rnd.random() < 0.1:
            session = rnd.randint(1, 150)   # TEXT affinity: stored as text
        product = None if rnd.random() < 0.3 else \
            min(int(rnd.expovariate(1 / 9)) + 1, 45)
        if product is not None and rnd.random() < 0.1:
            product = str(product)      # INTEGER affinity: stored as an integer
        if rnd.random() < 0.01:
            product = rnd.choice(['sku-1', 'sku"2\\'])   # text ids stay text
        events.append((rnd.choice(TYPES), user, session, product,
                       rnd.choice(META), created))
    # Every unreadable form at least once, and the midnight crossings of SPEC 3.
    for u in UNREADABLE:
        events.append(('page_view', 1, 's001', 7, None, u))
    for c in ['2025-10-03T23:30:00-02:00', '2025-10-04T01:00:00+02:00']:
        events.append(('crossing', 1, 's1', 1, None, c))
    for c in ['2025-09-30T23:59:59.999Z', '2025-10-01 00:00:00',
              '2025-09-30 23:59:59.999', 1759276799999, 1759276800000,
              1759276799, 1759276800, '2025-10-01T00:00:00.000+00:00',
              '2025-09-30T19:00:00-05:00', '2025-10-01T09:59:59.999+10:00',
              1759276800123.5, 1759276800.125]:
        events.append(('midnight', rnd.randint(1, 3), 's%d' % rnd.randint(1, 3),
                       rnd.randint(1, 3), None, c))
    con = sqlite3.connect(db)
    con.executemany('INSERT INTO analytics_events (event_type, user_id, '
                    'session_id, product_id, metadata, created_at) '
                    'VALUES (?, ?, ?, ?, ?, ?)', events)
    con.commit()
    con.close()


def late(db, seed, n):
    """n late events within 2025-09-26..10-05, most of them within a second
    of a UTC midnight, in every form (reals with sub-millisecond parts too)."""
    rnd = random.Random(int(seed))
    first = int(datetime.datetime(2025, 9, 27, tzinfo=datetime.timezone.utc).timestamp()) * 1000
    events = []
    for i in range(int(n)):
        midnight = first + rnd.randrange(9) * DAY_MS
        ms = midnight + rnd.choice([0, -1, 1, -999, 999, -1000, 1000,
                                    rnd.randrange(-DAY_MS // 2, DAY_MS // 2)])
        form = rnd.choice(FORMS + ['real_ms', 'real_sec_sub'])
        if form == 'real_ms':           # a real number of ms, fraction kept
            created = ms + rnd.choice([-0.4, -0.0001, 0.0, 0.25, 0.9999])
        elif form == 'real_sec_sub':    # a real number of seconds
            created = (ms + rnd.choice([-0.4, -0.0004, 0.0, 0.25, 0.9996])) / 1000
        else:
            created = fmt(ms, form, rnd)
        events.append(('late_' + form, rnd.randint(1, 5), 's%d' % rnd.randint(1, 5),
                       rnd.randint(1, 12), None, created))
    con = sqlite3.connect(db)
    con.executemany('INSERT INTO analytics_events (event_type, user_id, '
                    'session_id, product_id, metadata, created_at) '
                    'VALUES (?, ?, ?, ?, ?, ?)', events)
    con.commit()
    con.close()


cmd, db = sys.argv[1], sys.argv[2]
if cmd == 'gen':
    gen(db, sys.argv[3])
elif cmd == 'expect':
    expect(db, sys.argv[3:])
elif cmd == 'stats':
    stats(db, sys.argv[3])
elif cmd == 'late':
    late(db, sys.argv[3], sys.argv[4])
elif cmd == 'ids':
    ids(db, sys.argv[3])
else:
    sys.exit('model.py: unknown command ' + cmd)
PY

# table DB [WHERE]: what rollup_daily wrote, in the model's line format.
table() {
	q "$1" "SELECT date, event_type, count, unique_users, unique_sessions, metadata
	    FROM analytics_daily ${2:-} ORDER BY 1, 2"
}
model() { python3 model.py "$@"; }
# ins DB CREATED [TYPE USER SESSION PRODUCT]: one event, created_at as SQL.
ins() {
	local type=late user=1 session="'s1'" product=1
	[ $# -ge 3 ] && type=$3
	[ $# -ge 4 ] && user=$4
	[ $# -ge 5 ] && session=$5
	[ $# -ge 6 ] && product=$6
	q "$1" "INSERT INTO analytics_events (event_type, user_id, session_id,
	    product_id, metadata, created_at) VALUES ('$type', $user, $session,
	    $product, '{}', $2)"
}
# touched DB: the days whose rows were rewritten since the last sentinel.
sentinel() { q "$1" "UPDATE analytics_daily SET computed_at = 'sentinel'"; }
touched() {
	q "$1" "SELECT DISTINCT date FROM analytics_daily
	    WHERE computed_at IS NOT 'sentinel' ORDER BY 1" | paste -sd' '
}
summary() { printf '%s\n' "$OUT" | grep -E 'rolled [0-9]+ days'; }

NOW='2025-10-06T12:00:00Z'	# "today" is 2025-10-06 UTC

# --- 1. catch-up of a generated data set ------------------------------------
new_db db
model gen db 20251006
total=$(q db "SELECT count(*) FROM analytics_events")
ok $([ "$total" -gt 3000 ]; echo $?) "generated $total events"
is "$(q db "SELECT group_concat(DISTINCT typeof(created_at)) FROM (SELECT created_at FROM analytics_events ORDER BY typeof(created_at))")" \
   "blob,integer,null,real,text" "data set holds every storage class in created_at"
read -r ndays first last nevents nrows nunread <<<"$(model stats db 2025-10-06)"
is "$ndays $first $last" "10 2025-09-26 2025-10-05" "model: ten complete days before today"
ok $([ "$nunread" -gt 0 ]; echo $?) "model: $nunread unreadable timestamps dated a rolled day"

run rollup_daily --db db --now "$NOW"
is "$RC" 0 "catch-up: exit 0"
is "$(table db)" "$(model expect db --before 2025-10-06)" \
   "catch-up: analytics_daily equals the independent computation"
like "$(summary)" "^rollup_daily: rolled $ndays days \\($first\\.\\.$last\\): $nevents events, $nrows rows; $nunread unreadable timestamps; " \
   "catch-up: summary line gives days, window, events, rows and unreadable count"
like "$OUT" "rolled 10 days \\(2025-09-26\\.\\.2025-10-05\\)" "catch-up: summary names 10 days"
is "$(q db "SELECT count(*) FROM analytics_daily WHERE date >= '2025-10-06'")" 0 \
   "catch-up: today (and later) is not rolled"
is "$(q db "SELECT date || ':' || count FROM analytics_daily WHERE event_type = 'midnight' ORDER BY 1" | paste -sd' ')" \
   "2025-09-30:5 2025-10-01:7" "catch-up: events around midnight split 5/7 exactly at 00:00 UTC"
is "$(q db "SELECT date FROM analytics_daily WHERE event_type = 'crossing' ORDER BY 1" | paste -sd' ')" \
   "2025-10-03 2025-10-04" "catch-up: offsets move events across midnight both ways"
is "$(q db "SELECT status, exit_code, rows, window_start, window_end, now_at FROM job_runs WHERE job = 'rollup_daily'")" \
   "ok|0|$nevents|2025-09-26|2025-10-05|2025-10-06T12:00:00.000Z" "catch-up: one job_runs row, status ok"
is "$(q db "SELECT count(*) FROM rollup_days WHERE day BETWEEN '0001-01-01' AND '2025-10-05' AND dirty <> 0")" 0 \
   "catch-up: no complete day left dirty"

# --- 2. rerun: nothing to do, byte-identical ---------------------------------
dump_all=$(q db "SELECT * FROM analytics_daily ORDER BY date, event_type")
dump=$(table db)
fp=$(fingerprint db)
run rollup_daily --db db --now "$NOW"
is "$RC" 0 "rerun: exit 0"
like "$OUT" "nothing to do" "rerun: says nothing to do"
is "$(table db)" "$dump" "rerun: analytics_daily identical (without computed_at)"
is "$(q db "SELECT * FROM analytics_daily ORDER BY date, event_type")" "$dump_all" \
   "rerun: not even computed_at rewritten"
is "$(fingerprint db)" "$fp" "rerun: database unchanged (no job_runs row for a no-op)"

# --- 3. late events -----------------------------------------------------------
sentinel db
ins db "'2025-10-02 08:00:00'" late 901 "'late-a'" 41
ins db "'2025-10-02T09:15:00.250Z'" late 902 "'late-b'" 41
ins db "'2025-10-01T22:30:00-03:00'" late 903 "'late-a'" 42	# 10-02 01:30 UTC
ins db "'2025-10-03T01:00:00+02:00'" page_view 904 "'late-c'" 1	# 10-02 23:00 UTC
ins db "1759395600" page_view 905 NULL 2			# 10-02 09:00 UTC
ins db "1759395600123" search NULL "'late-d'" NULL		# 10-02 09:00:00.123
ins db "'1759399200000'" product_view 5 "'late-e'" 3		# digit text ms, 10:00
run rollup_daily --db db --now "$NOW"
is "$RC" 0 "late events: exit 0"
like "$OUT" "rolled 1 days \\(2025-10-02\\.\\.2025-10-02\\)" "late events: one day rolled"
is "$(touched db)" "2025-10-02" "late events: only 2025-10-02 rewritten"
is "$(table db)" "$(model expect db --before 2025-10-06)" \
   "late events: analytics_daily equals the independent computation"
is "$(q db "SELECT count FROM analytics_daily WHERE date = '2025-10-02' AND event_type = 'late'")" 3 \
   "late events: the offset form from 10-01 local counts on 10-02"

# A late event written as a REAL number of seconds just before midnight
# (1759535999.9996 is 2025-10-03 23:59:59.9996 UTC, floored to .999 by the
# job's reading): the day it belongs to must be rolled again.
sentinel db
ins db "1759535999.9996" realtime 906 "'late-f'" 9
run rollup_daily --db db --now "$NOW"
is "$RC" 0 "late REAL timestamp before midnight: exit 0"
is "$(table db "WHERE date IN ('2025-10-03', '2025-10-04')")" \
   "$(model expect db --only 2025-10-03,2025-10-04)" \
   "late REAL timestamp before midnight: counted on 2025-10-03 (its UTC day)"
# Bring the table back in line for the rest, whatever happened above.
run rollup_daily --db db --now "$NOW" --date 2025-10-03
is "$(table db)" "$(model expect db --before 2025-10-06)" "--date 2025-10-03 repairs it"

# Many late events in every form, most within a second of a midnight: each
# must mark its own UTC day dirty, so one catch-up brings every day in line.
model late db 7 400
run rollup_daily --db db --now "$NOW"
is "$RC" 0 "400 late events around midnights: exit 0"
like "$OUT" "rolled 10 days \\(2025-09-26\\.\\.2025-10-05\\)" "400 late events around midnights: the days they touch rolled"
is "$(table db)" "$(model expect db --before 2025-10-06)" \
   "400 late events around midnights: analytics_daily equals the computation"

# --- 4. backfill ------------------------------------------------------------
q db "UPDATE analytics_daily SET count = count + 1000 WHERE date IN ('2025-09-27', '2025-09-28')"
sentinel db
run rollup_daily --db db --now "$NOW" --date 2025-09-28
is "$RC" 0 "--date: exit 0"
like "$OUT" "rolled 1 days \\(2025-09-28\\.\\.2025-09-28\\)" "--date: one day rolled"
is "$(touched db)" "2025-09-28" "--date: only that day rewritten"
is "$(table db "WHERE date = '2025-09-28'")" "$(model expect db --only 2025-09-28)" \
   "--date: the day is recomputed from the events"
is "$(q db "SELECT min(count) > 1000 FROM analytics_daily WHERE date = '2025-09-27'")" 1 \
   "--date: the neighbouring day is left alone (still tampered)"
sentinel db
run rollup_daily --db db --now "$NOW" --from 2025-09-29 --to 2025-10-01
is "$RC" 0 "--from/--to: exit 0"
like "$OUT" "rolled 3 days \\(2025-09-29\\.\\.2025-10-01\\)" "--from/--to: three days rolled"
is "$(touched db)" "2025-09-29 2025-09-30 2025-10-01" "--from/--to: exactly those days rewritten"
run rollup_daily --db db --now "$NOW" --from 2025-09-27 --to 2025-09-27
is "$RC" 0 "--from D --to D (one day): exit 0"
is "$(table db)" "$(model expect db --before 2025-10-06)" "backfill: table equals the computation again"
# A day with no events: stale rows are deleted.
q db "INSERT INTO analytics_daily (date, event_type, count, unique_users, unique_sessions, metadata)
      VALUES ('2025-09-20', 'page_view', 5, 1, 1, '{\"top_products\":[]}')"
run rollup_daily --db db --now "$NOW" --date 2025-09-20
is "$RC" 0 "--date on an empty day: exit 0"
is "$(q db "SELECT count(*) FROM analytics_daily WHERE date = '2025-09-20'")" 0 \
   "--date on an empty day: its stale row is deleted"
is "$(q db "SELECT count(*) FROM rollup_days WHERE day = '2025-09-20'")" 0 \
   "--date on an empty day: no bookkeeping left for it"
# Today asked explicitly: rolled, with a warning that it is partial.
cp db today.db
run rollup_daily --db today.db --now "$NOW" --date 2025-10-06
is "$RC" 0 "--date today: exit 0"
like "$ERR" "2025-10-06 is not over yet" "--date today: warns the day is partial"
is "$(table today.db "WHERE date = '2025-10-06'")" "$(model expect today.db --only 2025-10-06)" \
   "--date today: rows equal the computation so far"

# --- 5. catch-up after missed nights ----------------------------------------
new_db missed.db
ins missed.db "'2025-10-31 12:00:00'" page_view 1 "'a'" 1
run rollup_daily --db missed.db --now 2025-11-01T02:00:00Z
is "$RC" 0 "missed nights: first night rolls 10-31"
sentinel missed.db
ins missed.db "'2025-11-01T23:30:00-02:00'" page_view 2 "'b'" 2	# 11-02 01:30 UTC
ins missed.db "'2025-11-01 00:00:00'" page_view 3 "'c'" 2
ins missed.db "1762041600" search 4 "'c'" 3			# 11-02 00:00:00
ins missed.db "1762214399999" search 4 "'d'" 3			# 11-03 23:59:59.999
ins missed.db "'2025-11-04T00:30:00+01:00'" checkout 5 "'e'" 3	# 11-03 23:30 UTC
ins missed.db "'2025-11-04 01:00:00'" checkout 5 "'e'" 3		# today: not rolled
run rollup_daily --db missed.db --now 2025-11-04T02:00:00Z
is "$RC" 0 "missed nights: exit 0"
like "$OUT" "rolled 3 days \\(2025-11-01\\.\\.2025-11-03\\)" "missed nights: three days in one run"
is "$(touched missed.db)" "2025-11-01 2025-11-02 2025-11-03" "missed nights: 10-31 untouched"
is "$(table missed.db)" "$(model expect missed.db --before 2025-11-04)" \
   "missed nights: table equals the computation"

# --- 6. a pruned day is frozen ---------------------------------------------------
D=2025-09-30
frozen=$(q db "SELECT * FROM analytics_daily WHERE date = '$D' ORDER BY event_type")
q db "UPDATE rollup_days SET pruned_at = '2025-01-01T00:00:00Z' WHERE day = '$D'"
half=$(model ids db $D | tr ' ' '\n' | awk 'NR % 2' | paste -sd,)
q db "DELETE FROM analytics_events WHERE id IN ($half)"
is "$(q db "SELECT dirty FROM rollup_days WHERE day = '$D'")" 0 "pruned day: deletes do not dirty it"
run rollup_daily --db db --now "$NOW"
is "$RC" 0 "pruned day: catch-up exit 0"
is "$(q db "SELECT * FROM analytics_daily WHERE date = '$D' ORDER BY event_type")" "$frozen" \
   "pruned day: rows unchanged after catch-up"
ins db "'$D 12:00:00'" late 907 "'late-g'" 5
run rollup_daily --db db --now "$NOW"
is "$RC" 0 "pruned day with a late event: exit 0"
like "$ERR" "warning: $D: .*pruned" "pruned day with a late event: warning names the day"
is "$(q db "SELECT * FROM analytics_daily WHERE date = '$D' ORDER BY event_type")" "$frozen" \
   "pruned day with a late event: rows unchanged"
run rollup_daily --db db --now "$NOW" --date $D
is "$RC" 0 "--date on a pruned day: exit 0"
like "$ERR" "warning: $D: .*pruned" "--date on a pruned day: warning names the day"
is "$(q db "SELECT * FROM analytics_daily WHERE date = '$D' ORDER BY event_type")" "$frozen" \
   "--date on a pruned day: rows unchanged"
sentinel db
run rollup_daily --db db --now "$NOW" --from 2025-09-29 --to 2025-10-01
is "$RC" 0 "--from/--to over a pruned day: exit 0"
like "$ERR" "$D" "--from/--to over a pruned day: warning names it"
is "$(touched db)" "2025-09-29 2025-10-01" "--from/--to over a pruned day: the others are recomputed"
is "$(table db "WHERE date <> '$D'")" "$(model expect db --before 2025-10-06 --exclude $D)" \
   "pruned day: every other day still equals the computation"

# --- 7. --dry-run -------------------------------------------------------------
ins db "'2025-09-25T10:00:00Z'" page_view 1 "'dry'" 1		# a day never rolled
ins db "'2025-10-04 11:00:00'" page_view 1 "'dry'" 1		# a rolled day, now stale
fp=$(fingerprint db)
run rollup_daily --db db --now "$NOW" --dry-run
is "$RC" 0 "--dry-run: exit 0"
like "$OUT" "would roll 2025-09-25 \\(missing\\): 1 events" "--dry-run: lists the missing day"
like "$OUT" "would roll 2025-10-04 \\(stale\\)" "--dry-run: lists the stale day"
is "$(printf '%s\n' "$OUT" | grep -c 'would roll [0-9-]* (')" 2 "--dry-run: lists exactly two days"
like "$OUT" "would roll 2 days" "--dry-run: summary says two days"
is "$(fingerprint db)" "$fp" "--dry-run: database unchanged"
run rollup_daily --db db --now "$NOW" --dry-run --from 2025-10-01 --to 2025-10-02
is "$RC" 0 "--dry-run --from/--to: exit 0"
like "$OUT" "would roll 2025-10-01 \\(asked\\)" "--dry-run --from/--to: reason asked"
is "$(fingerprint db)" "$fp" "--dry-run --from/--to: database unchanged"
run rollup_daily --db db --now "$NOW"
is "$RC" 0 "after --dry-run: the real run exits 0"
like "$OUT" "rolled 2 days \\(2025-09-25\\.\\.2025-10-04\\)" "after --dry-run: rolls those two days"
is "$(table db "WHERE date <> '$D'")" "$(model expect db --before 2025-10-06 --exclude $D)" \
   "after --dry-run: table equals the computation (the pruned day aside)"

# --- 8. one stray event in 1970 costs one day -------------------------------------
new_db stray.db
ins stray.db "86400" page_view 1 "'s'" 1			# 1970-01-02 00:00:00 UTC
ins stray.db "'2025-10-04 10:00:00'" page_view 2 "'t'" 1
ins stray.db "'2025-10-05T10:00:00.5Z'" search 3 "'t'" 2
start=$(date +%s)
run rollup_daily --db stray.db --now "$NOW"
is "$RC" 0 "stray 1970 event: exit 0"
like "$OUT" "rolled 3 days \\(1970-01-02\\.\\.2025-10-05\\)" "stray 1970 event: three days of work, not 20000"
is "$(q stray.db "SELECT count(DISTINCT date) FROM analytics_daily")" 3 "stray 1970 event: three dates rolled"
is "$(table stray.db)" "$(model expect stray.db --before 2025-10-06)" "stray 1970 event: table equals the computation"
ok $([ $(( $(date +%s) - start )) -le 5 ]; echo $?) "stray 1970 event: quick"

# --- 9. exit codes; a refused run changes nothing ----------------------------------
fp=$(fingerprint db)
for bad in 2025-02-30 2025-2-3 garbage 2025-10-01x 2025-13-01 ''; do
	run rollup_daily --db db --now "$NOW" --date "$bad"
	is "$RC" 64 "--date '$bad': exit 64"
done
run rollup_daily --db db --now "$NOW" --from 2025-10-03 --to 2025-10-01
is "$RC" 64 "--from after --to: exit 64"
like "$ERR" "2025-10-03 is after --to 2025-10-01" "--from after --to: says so"
run rollup_daily --db db --now "$NOW" --from 2025-10-01
is "$RC" 64 "--from without --to: exit 64"
run rollup_daily --db db --now "$NOW" --to 2025-10-01
is "$RC" 64 "--to without --from: exit 64"
run rollup_daily --db db --now "$NOW" --date 2025-10-01 --from 2025-10-01 --to 2025-10-02
is "$RC" 64 "--date with --from: exit 64"
run rollup_daily --db db --now "2025-10-06 25:00:00"
is "$RC" 64 "--now unreadable: exit 64"
run rollup_daily --db db --now "$NOW" --max-runtime 0
is "$RC" 64 "--max-runtime 0: exit 64"
run rollup_daily --db db --now "$NOW" --bogus
is "$RC" 64 "unknown option: exit 64"
is "$(fingerprint db)" "$fp" "usage errors: database unchanged"

run rollup_daily --db missing.db --now "$NOW"
is "$RC" 66 "missing database: exit 66"
like "$ERR" "missing.db" "missing database: error names it"
ok $([ ! -e missing.db ]; echo $?) "missing database: not created"
run rollup_daily --db "$T/no/such/dir/x.db" --now "$NOW"
is "$RC" 66 "database in a missing directory: exit 66"
printf 'this is not a database\n' >text.db
sum=$(md5sum <text.db)
run rollup_daily --db text.db --now "$NOW"
is "$RC" 66 "text file as database: exit 66"
like "$ERR" "text.db" "text file as database: error names it"
is "$(md5sum <text.db)" "$sum" "text file as database: file unchanged"
"$JOBS_BIN/migrate" --db v1.db --to 1 -q
q v1.db "INSERT INTO analytics_events (event_type, created_at) VALUES ('page_view', '2025-10-01 10:00:00')"
fp1=$(fingerprint v1.db)
run rollup_daily --db v1.db --now "$NOW"
is "$RC" 78 "unmigrated (version 1) database: exit 78"
like "$ERR" "migrate" "unmigrated database: says to run migrate"
is "$(fingerprint v1.db)" "$fp1" "unmigrated database: unchanged"

hold_lock db rollup_daily
run rollup_daily --db db --now "$NOW"
is "$RC" 75 "lock held by another instance: exit 75"
like "$ERR" "already running" "lock held: says another instance is running"
release_lock
is "$(fingerprint db)" "$fp" "lock held: database unchanged"

# --- 10. unique counts, ties and the top-10 cut, by hand ---------------------------
new_db uniq.db
for v in "5" "'5'" "5.0" "'abc'" "NULL" "6"; do
	ins uniq.db "'2025-10-01 10:00:00'" u "$v" "'x'" NULL
done
ins uniq.db "'2025-10-01 11:00:00'" u 5 "7" NULL
ins uniq.db "'2025-10-01 12:00:00'" u 5 "'7'" NULL
ins uniq.db "'2025-10-01 13:00:00'" u 5 NULL NULL
# Products: 7 and 3 three times each, 11 twice, then 1, 2, 4, 5, 6, 8, 9, 10, 12 once:
# the top ten are 3, 7 (tie: smaller first), 11, then 1, 2, 4, 5, 6, 8, 9.
for p in 7 7 "'7'" 3 3 3 11 11 1 2 4 5 6 8 9 10 12 NULL; do
	ins uniq.db "'2025-10-01T15:00:00Z'" p 1 "'x'" "$p"
done
is "$(q uniq.db "SELECT typeof(user_id) || ':' || user_id FROM analytics_events WHERE event_type = 'u' AND user_id IS NOT NULL ORDER BY id" | paste -sd' ')" \
   "integer:5 integer:5 integer:5 text:abc integer:6 integer:5 integer:5 integer:5" \
   "stored user_id: '5' and 5.0 become the integer 5"
run rollup_daily --db uniq.db --now "$NOW"
is "$RC" 0 "unique counts: exit 0"
is "$(table uniq.db "WHERE event_type = 'u'")" \
   "2025-10-01|u|9|3|2|{\"top_products\":[]}" \
   "unique counts: 5, '5', 5.0 are one user; 7 and '7' one session"
is "$(table uniq.db "WHERE event_type = 'p'")" \
   '2025-10-01|p|18|1|1|{"top_products":[{"product_id":3,"count":3},{"product_id":7,"count":3},{"product_id":11,"count":2},{"product_id":1,"count":1},{"product_id":2,"count":1},{"product_id":4,"count":1},{"product_id":5,"count":1},{"product_id":6,"count":1},{"product_id":8,"count":1},{"product_id":9,"count":1}]}' \
   "top_products: ten kept, ties to the smaller id, '7' counted as 7"
is "$(table uniq.db)" "$(model expect uniq.db --before 2025-10-06)" "unique counts: table equals the computation"

done_testing
