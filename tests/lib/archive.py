"""Independent checks of an archive tree (SPEC section 6) for the integration
tests (tests/t/prune.t, tests/t/crash.t): one process reads every file, so a
check of a tree of a hundred files costs one start, not hundreds of zcat/jq.

  python3 archive.py ids DIR           ids of every archived row under DIR,
                                       sorted, duplicates kept, one line
  python3 archive.py live-ids DIR      the same, leaving out restored files
                                       (<table>/_restored/, not a live place)
  python3 archive.py lines-md5 DIR     md5 of every archived line, sorted
  python3 archive.py id-days DIR       "id day" (day from the partition) of
                                       every archived row, sorted, one line
  python3 archive.py check DIR DB      what is wrong with DB's part of the
                                       tree, one line each, nothing if fine
  python3 archive.py done-ids DB DIR   ids in the files DB's manifest calls
                                       'done' ("BROKEN:path" if one is not a
                                       complete gzip file)
  python3 archive.py unnamed DB DIR    files under DIR that DB's manifest does
                                       not name (".<name>.tmp" counts as name)
  python3 archive.py roundtrip DB TABLE DIR
                                       compare every archived row under
                                       DIR/TABLE with the row of the same id in
                                       DB (a copy taken before the run)

The "check" rules: only regular files and directories; only *.jsonl.gz files;
files 0600 and directories 0750; names <table>/date=YYYY-MM-DD (or __HIVE_DEFAULT_PARTITION__)/<dbid>-<min>-
<max>-<hex>.jsonl.gz with the ids of the file's rows (restored files under
<table>/_restored/date=...); every file a complete gzip stream; no manifest
row left 'writing'; the manifest's 'done' and 'restored' rows (path, rows,
min_id, max_id, bytes) equal the files of this database, 'done' ones in the
live tree and 'restored' ones under _restored/.

The "roundtrip" rules (common/jsonl.h): INTEGER a JSON integer with the same
digits; REAL a number with '.' or an exponent reading back to the same double;
TEXT a string with the same bytes when valid UTF-8, else {"text_base64":...};
BLOB {"blob_base64":...}; NULL null; keys are the columns in table order.
"""
import base64
import gzip
import hashlib
import json
import os
import re
import sqlite3
import stat
import sys
import zlib


def walk(top):
    """(path relative to top, lstat) of everything under top, sorted."""
    out = []
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            p = os.path.join(root, name)
            out.append((os.path.relpath(p, top), os.lstat(p)))
    return sorted(out)


def gz_files(top):
    return [rel for rel, st in walk(top)
            if stat.S_ISREG(st.st_mode) and rel.endswith(".jsonl.gz")]


def read_gz(path):
    """The decompressed bytes of a complete gzip file, or None."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        # One member, CRC and length checked; trailing bytes are an error.
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = d.decompress(data) + d.flush()
        if not d.eof or d.unused_data:
            return None
        return out
    except (OSError, zlib.error, EOFError, gzip.BadGzipFile):
        return None


def file_lines(path):
    data = read_gz(path)
    if data is None:
        return None
    return data.split(b"\n")[:-1] if data.endswith(b"\n") else data.split(b"\n")


def row_id(line):
    m = re.match(rb'\{"id":(-?[0-9]+)[,}]', line)
    return int(m.group(1)) if m else None


def all_ids(top, live_only=False):
    ids = []
    for rel in gz_files(top):
        if live_only and "/_restored/" in rel:
            continue
        for line in file_lines(os.path.join(top, rel)) or []:
            ids.append(row_id(line))
    return ids


def db(path):
    con = sqlite3.connect(path)
    con.text_factory = bytes
    return con


def cmd_ids(top):
    print(" ".join(str(i) for i in sorted(all_ids(top))))


def cmd_live_ids(top):
    print(" ".join(str(i) for i in sorted(all_ids(top, True))))


def cmd_lines_md5(top):
    lines = []
    for rel in gz_files(top):
        lines.extend(file_lines(os.path.join(top, rel)) or [b"BROKEN " + rel.encode()])
    print(hashlib.md5(b"\n".join(sorted(lines))).hexdigest())


def cmd_id_days(top):
    out = []
    for rel in gz_files(top):
        m = re.search(r"date=([0-9-]{10}|__HIVE_DEFAULT_PARTITION__)/", rel)
        for line in file_lines(os.path.join(top, rel)) or []:
            out.append((row_id(line), m.group(1) if m else "?"))
    print(",".join("%d %s" % p for p in sorted(out)))


def cmd_check(top, dbpath):
    con = db(dbpath)
    dbid = con.execute("SELECT value FROM jobs_meta WHERE key = 'database_id'").fetchone()[0].decode()
    problems = []
    disk = set()
    for rel, st in walk(top):
        mode = stat.S_IMODE(st.st_mode)
        if stat.S_ISDIR(st.st_mode):
            if mode != 0o750:
                problems.append("directory mode %o: %s" % (mode, rel))
            continue
        if not stat.S_ISREG(st.st_mode):
            problems.append("not a file or directory: " + rel)
            continue
        if not rel.endswith(".jsonl.gz"):
            problems.append("stray file: " + rel)
            continue
        if mode != 0o600:
            problems.append("file mode %o: %s" % (mode, rel))
        if not os.path.basename(rel).startswith(dbid + "-"):
            continue            # another database's file
        m = re.fullmatch(r"[a-z_]+/(?:_restored/)?date=(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|__HIVE_DEFAULT_PARTITION__)/%s-([0-9]+)-([0-9]+)-[0-9a-f]+\.jsonl\.gz" % dbid, rel)
        lines = file_lines(os.path.join(top, rel))
        if lines is None:
            problems.append("not a complete gzip file: " + rel)
            continue
        ids = [row_id(l) for l in lines]
        if None in ids or not ids:
            problems.append("a line without an id, or no line: " + rel)
            continue
        if m is None:
            problems.append("bad name: " + rel)
        elif (int(m.group(1)), int(m.group(2))) != (min(ids), max(ids)):
            problems.append("name does not carry the ids %d..%d: %s" % (min(ids), max(ids), rel))
        disk.add((rel, len(ids), min(ids), max(ids), st.st_size))
    for (p,) in con.execute("SELECT path FROM archive_manifest WHERE state = 'writing'"):
        problems.append("manifest row still writing: " + p.decode())
    real = os.path.realpath(top)
    for (d,) in con.execute("SELECT DISTINCT archive_dir FROM archive_manifest"):
        if d.decode() != real:
            problems.append("manifest archive_dir %s, not %s" % (d.decode(), real))
    manifest = set((p.decode(), r, lo, hi, b) for p, r, lo, hi, b in con.execute(
        "SELECT path, rows, min_id, max_id, bytes FROM archive_manifest WHERE state IN ('done', 'restored')"))
    for (p, state) in con.execute("SELECT path, state FROM archive_manifest WHERE state IN ('done', 'restored')"):
        if (b"/_restored/" in p) != (state == b"restored"):
            problems.append("manifest row %s: %s" % (state.decode(), p.decode()))
    for e in sorted(manifest - disk):
        problems.append("in the manifest, not on disk (or different): %s %s %s %s %s" % e)
    for e in sorted(disk - manifest):
        problems.append("on disk, not in the manifest (or different): %s %s %s %s %s" % e)
    for p in problems:
        print(p)


def cmd_done_ids(dbpath, top):
    ids = []
    for (p,) in db(dbpath).execute("SELECT path FROM archive_manifest WHERE state = 'done'"):
        lines = file_lines(os.path.join(top, p.decode()))
        if lines is None:
            ids.append("BROKEN:" + p.decode())
        else:
            ids.extend(row_id(l) for l in lines)
    print(" ".join(str(i) for i in sorted(ids, key=lambda x: (isinstance(x, str), x if isinstance(x, int) else 0, str(x)))))


def cmd_unnamed(dbpath, top):
    named = set(p.decode() for (p,) in db(dbpath).execute("SELECT path FROM archive_manifest"))
    out = []
    for rel, st in walk(top):
        if stat.S_ISDIR(st.st_mode):
            continue
        d, base = os.path.split(rel)
        m = re.fullmatch(r"\.(.+)\.tmp", base)
        if (os.path.join(d, m.group(1)) if m else rel) not in named:
            out.append(rel)
    print(" ".join(out))


def cmd_roundtrip(dbpath, table, top):
    con = db(dbpath)
    cols = [r[0].decode() for r in con.execute(
        "SELECT name FROM pragma_table_info(?) ORDER BY cid", (table,))]
    sel = ", ".join('typeof("%s"), "%s"' % (c, c) for c in cols)
    orig = {}
    for r in con.execute('SELECT %s FROM "%s"' % (sel, table)):
        row = [(r[2 * i].decode(), r[2 * i + 1]) for i in range(len(cols))]
        orig[row[cols.index("id")][1]] = row
    seen = set()
    bad = []
    for rel in gz_files(os.path.join(top, table)):
        for n, line in enumerate(file_lines(os.path.join(top, table, rel)) or [], 1):
            where = "%s line %d" % (rel, n)
            try:
                pairs = json.loads(line, object_pairs_hook=lambda p: p,
                                   parse_int=lambda s: ("int", s),
                                   parse_float=lambda s: ("real", s))
            except ValueError as e:
                bad.append("%s: not JSON: %s" % (where, e))
                continue
            if [k for k, _ in pairs] != cols:
                bad.append("%s: keys %s, columns %s" % (where, [k for k, _ in pairs], cols))
                continue
            vals = dict(pairs)
            rid = int(vals["id"][1])
            if rid in seen:
                bad.append("id %d: archived twice" % rid)
            seen.add(rid)
            if rid not in orig:
                bad.append("id %d: not an original row" % rid)
                continue
            for c, (typ, v) in zip(cols, orig[rid]):
                got = vals[c]
                if typ == "null":
                    good = got is None
                elif typ == "integer":
                    good = got == ("int", str(v))
                elif typ == "real":
                    good = isinstance(got, tuple) and got[0] == "real" and float(got[1]) == v
                elif typ == "text":
                    try:
                        v.decode("utf-8")
                        good = isinstance(got, str) and got.encode("utf-8") == v
                    except UnicodeDecodeError:
                        good = (isinstance(got, list) and len(got) == 1 and got[0][0] == "text_base64"
                                and base64.b64decode(got[0][1], validate=True) == v)
                elif typ == "blob":
                    good = (isinstance(got, list) and len(got) == 1 and got[0][0] == "blob_base64"
                            and base64.b64decode(got[0][1], validate=True) == v)
                else:
                    good = False
                if not good:
                    bad.append("id %d column %s (%s %r): got %r" % (rid, c, typ, v, got))
    for b in bad:
        print(b)


if __name__ == "__main__":
    cmd, args = sys.argv[1].replace("-", "_"), sys.argv[2:]
    globals()["cmd_" + cmd](*args)
