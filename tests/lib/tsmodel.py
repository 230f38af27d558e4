"""SPEC 3's timestamp forms, read independently of common/timefmt.c, for the
tests' models (tests/t/rollup.t, tests/t/retire.t): parse_ms() gives the UTC
milliseconds of a stored value or None, day_of() the UTC day of those."""
import datetime
import math
import re
from fractions import Fraction

TS_MIN = -62135596800000          # 0001-01-01T00:00:00.000Z
TS_MAX = 253402300799999          # 9999-12-31T23:59:59.999Z
MILLIS = 100000000000             # |epoch| >= 1e11: milliseconds
DAY_MS = 86400000
EPOCH = datetime.date(1970, 1, 1)
DATETIME = re.compile(
    r'([0-9]{4})-([0-9]{2})-([0-9]{2})([ T])([0-9]{2}):([0-9]{2}):([0-9]{2})'
    r'(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})?')


def parse_ms(v):
    """UTC milliseconds of a stored created_at (SPEC 3), or None."""
    if v is None or isinstance(v, bytes):
        return None
    if isinstance(v, int):
        ms = v * 1000 if -MILLIS < v < MILLIS else v
        return ms if TS_MIN <= ms <= TS_MAX else None
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        x = Fraction(v) * 1000 if abs(v) < MILLIS else Fraction(v)
        if x < TS_MIN or x >= TS_MAX + 1:
            return None
        return math.floor(x)
    s = v
    if re.fullmatch(r'[0-9]+', s):     # digit-only text
        if len(s) > 19 or (s[0] == '0' and len(s) > 1) or int(s) > 2**63 - 1:
            return None
        return parse_ms(int(s))
    m = DATETIME.fullmatch(s)
    if m is None:
        return None
    y, mo, d, h, mi, sec = (int(m.group(i)) for i in (1, 2, 3, 5, 6, 7))
    if y < 1 or h > 23 or mi > 59 or sec > 59:
        return None
    try:
        date = datetime.date(y, mo, d)
    except ValueError:
        return None
    frac = int(((m.group(8) or '') + '000')[:3])
    zone, off = m.group(9), 0
    if zone and zone != 'Z':
        oh, om = int(zone[1:3]), int(zone[4:6])
        if om > 59 or oh * 60 + om > 14 * 60:
            return None
        off = (oh * 60 + om) * (-1 if zone[0] == '-' else 1)
    ms = ((date - EPOCH).days * DAY_MS + ((h * 60 + mi) * 60 + sec) * 1000
          + frac - off * 60000)
    return ms if TS_MIN <= ms <= TS_MAX else None


def day_of(ms):
    return (EPOCH + datetime.timedelta(days=ms // DAY_MS)).isoformat()
