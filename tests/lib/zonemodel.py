"""The business day of SPEC 3 ("The business day"), computed with Python's
zoneinfo apart from the C code (common/bizday.c, common/tzfile.c), for
tests/t/zone.t.

  python3 zonemodel.py expect DB PERIODS [BEFORE]
      analytics_daily as SPEC 5 asks for it with those business days, one
      line each (date|event_type|count|uu|us|metadata), days before BEFORE
  python3 zonemodel.py day PERIODS MS          the business day of instant MS
  python3 zonemodel.py start PERIODS DAY       00:00 of business day DAY (ms)
  python3 zonemodel.py ids DB PERIODS BEFORE   ids of the readable events
      whose business day is before BEFORE
  python3 zonemodel.py events ZONE Y1 Y2 SEED DB
      insert events around every transition of ZONE in years Y1..Y2 (each
      side of it, and of the local midnights of its days), in every
      timestamp form, plus some spread over the years

PERIODS is "ZONE" (one zone from the beginning) or "ZONE1,ZONE2@DAY2,..."
(ZONE2 from its day DAY2 on, and so on; the first zone from the beginning).
"""
import datetime
import os
import random
import sqlite3
import sys
from zoneinfo import ZoneInfo

sys.path.insert(0, os.environ.get("TAP_LIB", os.path.dirname(__file__)))
from dailymodel import FORMS, aggregate, fmt  # noqa: E402
from tsmodel import parse_ms  # noqa: E402

UTC = datetime.timezone.utc
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)


def local_date(ms, zone):
    return (EPOCH + datetime.timedelta(milliseconds=ms)).astimezone(zone).date()


def midnight(day, zone):
    """The first instant (ms) whose local date in zone is day or later."""
    lo = int((datetime.datetime.combine(day, datetime.time(), UTC) - EPOCH)
             .total_seconds()) - 30 * 3600
    hi = lo + 60 * 3600
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if local_date(mid * 1000, zone) >= day:
            hi = mid
        else:
            lo = mid
    return hi * 1000


def parse_periods(text):
    periods = []
    for i, part in enumerate(text.split(',')):
        name, _, day = part.partition('@')
        zone = ZoneInfo(name)
        if i == 0:
            periods.append((None, None, zone))
        else:
            d = datetime.date.fromisoformat(day)
            periods.append((midnight(d, zone), d, zone))
    return periods


def business_day(periods, ms):
    i = len(periods) - 1
    while i > 0 and periods[i][0] > ms:
        i -= 1
    d = local_date(ms, periods[i][2])
    if i + 1 < len(periods) and d >= periods[i + 1][1]:
        d = periods[i + 1][1] - datetime.timedelta(days=1)
    return d.isoformat()


def events(zone_name, y1, y2, seed, db):
    zone = ZoneInfo(zone_name)
    rnd = random.Random(seed)
    first = int((datetime.datetime(y1, 1, 1, tzinfo=UTC) - EPOCH).total_seconds())
    last = int((datetime.datetime(y2 + 1, 1, 1, tzinfo=UTC) - EPOCH).total_seconds())
    moments = []
    # The transitions: where the offset changes from one hour to the next.
    t = first
    while t < last:
        a = zone.utcoffset(datetime.datetime.fromtimestamp(t, UTC))
        b = zone.utcoffset(datetime.datetime.fromtimestamp(t + 3600, UTC))
        if a != b:
            lo, hi = t, t + 3600
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if zone.utcoffset(datetime.datetime.fromtimestamp(mid, UTC)) == a:
                    lo = mid
                else:
                    hi = mid
            moments.append(hi * 1000)
            # and the local midnights of the days around it
            d = local_date(hi * 1000, zone)
            for k in (-1, 0, 1, 2):
                moments.append(midnight(d + datetime.timedelta(days=k), zone))
        t += 3600
    rows = []
    for m in moments:
        for delta in (0, 1, -1, 999, -1000, 1800000, -1800000, 3600000,
                      -3600000, 5400000, -5400000):
            rows.append(m + delta)
    for _ in range(400):
        rows.append(first * 1000 + rnd.randrange((last - first) * 1000))
    out = []
    for i, ms in enumerate(rows):
        out.append(('e%d' % (i % 3), rnd.randint(1, 20), 's%d' % rnd.randint(1, 30),
                    rnd.randint(1, 12), None, fmt(ms, rnd.choice(FORMS), rnd)))
    con = sqlite3.connect(db)
    con.executemany('INSERT INTO analytics_events (event_type, user_id, '
                    'session_id, product_id, metadata, created_at) '
                    'VALUES (?, ?, ?, ?, ?, ?)', out)
    con.commit()
    con.close()
    print(len(out))


cmd = sys.argv[1]
if cmd == 'expect':
    periods = parse_periods(sys.argv[3])
    before = sys.argv[4] if len(sys.argv) > 4 else '9999-99-99'
    for line in aggregate(sys.argv[2], lambda d: d < before,
                          lambda ms: business_day(periods, ms)):
        print(line)
elif cmd == 'ids':
    periods = parse_periods(sys.argv[3])
    con = sqlite3.connect(sys.argv[2])
    print(' '.join(str(i) for i, c in con.execute(
        'SELECT id, created_at FROM analytics_events ORDER BY id')
        if parse_ms(c) is not None and business_day(periods, parse_ms(c)) < sys.argv[4]))
elif cmd == 'day':
    print(business_day(parse_periods(sys.argv[2]), int(sys.argv[3])))
elif cmd == 'start':
    periods = parse_periods(sys.argv[2])
    day = datetime.date.fromisoformat(sys.argv[3])
    i = len(periods) - 1
    while i > 0 and periods[i][1] > day:
        i -= 1
    start = midnight(day, periods[i][2])
    print(max(start, periods[i][0]) if periods[i][0] is not None else start)
elif cmd == 'events':
    events(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
           sys.argv[6])
else:
    sys.exit('zonemodel.py: unknown command ' + cmd)
