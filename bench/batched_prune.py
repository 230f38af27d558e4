#!/usr/bin/env python3
"""The batched prune for make bench: what an operator writes when told not to
lock the app, pt-archiver's way.  Per batch of 2000 rows: BEGIN IMMEDIATE,
read the next due rows by id as JSON (json_object), append them to one gzip -6
stream, DELETE them by id, COMMIT; stop at a short batch.  The WHERE clause is
bench/naive_prune.sh's, so both baselines delete the same rows.
Usage: batched_prune.py DB CUTOFF_S OUT.gz
Prints the rows pruned and its longest write transaction to stderr."""
import gzip
import sqlite3
import sys
import time

BATCH = 2000
db, cut, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
day = time.strftime("%Y-%m-%d", time.gmtime(cut))
due = (f"created_at < {cut} OR (created_at >= 100000000000 AND created_at < {cut}000)"
       f" OR (typeof(created_at) = 'text' AND created_at < '{day}')")

con = sqlite3.connect(db, timeout=5.0, isolation_level=None)  # busy timeout 5000 ms
cols = [r[0] for r in con.execute(
    "SELECT name FROM pragma_table_info('analytics_events') ORDER BY cid")]
obj = "json_object(" + ", ".join(f"'{c}', \"{c}\"" for c in cols) + ")"
select = (f"SELECT id, {obj} FROM analytics_events"
          f" WHERE id > ? AND ({due}) ORDER BY id LIMIT {BATCH}")

last, total, longest = -1 << 63, 0, 0.0
with gzip.open(out, "wb", compresslevel=6) as gz:
    while True:
        con.execute("BEGIN IMMEDIATE")
        began = time.monotonic()
        rows = con.execute(select, (last,)).fetchall()
        if rows:
            gz.write("".join(j + "\n" for _, j in rows).encode())
            ids = [i for i, _ in rows]
            con.execute("DELETE FROM analytics_events WHERE id IN (%s)"
                        % ",".join("?" * len(ids)), ids)
            last = ids[-1]
            total += len(ids)
        con.execute("COMMIT")
        longest = max(longest, time.monotonic() - began)
        if len(rows) < BATCH:
            break
con.close()
print(f"batched_prune: pruned {total} rows of analytics_events", file=sys.stderr)
print(f"batched_prune: longest write transaction: {longest * 1000:.0f} ms", file=sys.stderr)
