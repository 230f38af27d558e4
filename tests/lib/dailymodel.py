"""The tests' independent model of analytics_daily (SPEC 5): rows of
analytics_events aggregated per (day, event_type) by a day function given by
the caller (the UTC day in tests/t/rollup.t, the business day with Python's
zoneinfo in tests/t/zone.t), and the SPEC 3 timestamp forms a generator
writes.  Nothing here shares code with the C programs."""
import datetime
import sqlite3

from tsmodel import parse_ms


def rows(db):
    con = sqlite3.connect(db)
    out = con.execute('SELECT id, event_type, user_id, session_id, product_id, '
                      'created_at FROM analytics_events ORDER BY id').fetchall()
    con.close()
    return out


def id_key(v):
    """SQLite's order of values: numbers, then text (bytewise), then blobs."""
    if isinstance(v, (int, float)):
        return (0, v, b'')
    if isinstance(v, str):
        return (1, 0, v.encode())
    return (2, 0, v)


def json_id(v):
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + ''.join('\\' + c if c in '"\\' else
                             '\\u%04x' % ord(c) if ord(c) < 0x20 else c
                             for c in v) + '"'
    raise SystemExit('model.py: product_id %r: no JSON form modelled' % (v,))


def aggregate(db, keep, day_of):
    groups = {}
    for _id, etype, user, session, product, created in rows(db):
        ms = parse_ms(created)
        if ms is None or not keep(day_of(ms)):
            continue
        g = groups.setdefault((day_of(ms), etype), [0, set(), set(), {}])
        g[0] += 1
        if user is not None:
            g[1].add(user)
        if session is not None:
            g[2].add(session)
        if product is not None:
            g[3][product] = g[3].get(product, 0) + 1
    lines = []
    for (day, etype) in sorted(groups):
        n, users, sessions, products = groups[(day, etype)]
        top = sorted(products.items(), key=lambda kv: (-kv[1], id_key(kv[0])))[:10]
        meta = '{"top_products":[%s]}' % ','.join(
            '{"product_id":%s,"count":%d}' % (json_id(p), c) for p, c in top)
        lines.append('%s|%s|%d|%d|%d|%s' % (day, etype, n, len(users),
                                            len(sessions), meta))
    return lines


def fmt(ms, form, rnd):
    """ms (UTC) written in one of the SPEC 3 forms."""
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
    frac = '.%03d' % (ms % 1000)
    if form == 'space':
        return t.strftime('%Y-%m-%d %H:%M:%S')
    if form == 'space_frac':
        return t.strftime('%Y-%m-%d %H:%M:%S') + frac
    if form == 'T':
        return t.strftime('%Y-%m-%dT%H:%M:%S')
    if form == 'T_frac6':
        return t.strftime('%Y-%m-%dT%H:%M:%S') + frac + '%03d' % rnd.randrange(1000)
    if form == 'Z':
        return t.strftime('%Y-%m-%dT%H:%M:%S') + frac + 'Z'
    if form == 'space_Z':
        return t.strftime('%Y-%m-%d %H:%M:%S') + 'Z'
    if form == 'offset':
        off = rnd.choice([-14 * 60, -9 * 60, -5 * 60, -2 * 60, -30, 60, 2 * 60,
                          5 * 60 + 30, 9 * 60 + 45, 14 * 60])
        local = t + datetime.timedelta(minutes=off)
        sign = '-' if off < 0 else '+'
        return local.strftime('%Y-%m-%dT%H:%M:%S') + frac + '%s%02d:%02d' % (
            sign, abs(off) // 60, abs(off) % 60)
    if form == 'sec':
        return ms // 1000
    if form == 'ms':
        return ms
    if form == 'sec_text':
        return str(ms // 1000)
    if form == 'ms_text':
        return str(ms)
    if form == 'real_sec':
        return ms / 1000 + 0.25 if ms % 1000 < 500 else float(ms // 1000)
    raise ValueError(form)


FORMS = ['space', 'space_frac', 'T', 'T_frac6', 'Z', 'space_Z', 'offset',
         'offset', 'offset', 'sec', 'ms', 'sec_text', 'ms_text', 'real_sec']
