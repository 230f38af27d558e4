"""Helpers of tests/t/reconcile.t, written apart from common/stock.c so that
the test compares the job with an independent computation.

  stock.py model DB        what reconcile_stock must report on DB, from the
                           rows themselves (Python, no SQL aggregate), as
                           canonical lines, sorted, then one 'summary' line
  stock.py parse           the same lines from reconcile_stock's
                           --log-format json output on stdin
  stock.py app DB STOP SEED
                           the shop's app: until the file STOP exists, in
                           transactions of its own, change a product's stock
                           and book the matching move, or change the stock
                           only (new drift), or book a move only; prints the
                           number of transactions
  stock.py replay DB       check the history the test's triggers kept
                           (table hist, with the markers 'fix_start' and
                           'fix_end') against the rules of --fix; prints one
                           line per violation, nothing if none
"""
import json
import os
import random
import re
import sqlite3
import sys
import time


def connect(path):
    db = sqlite3.connect(path, timeout=10, isolation_level=None)
    db.execute("PRAGMA busy_timeout = 10000")
    return db


def model(path):
    db = connect(path)
    products = {}
    for pid, sku, stock in db.execute("SELECT id, sku, stock_quantity FROM products"):
        products[pid] = (sku, stock)
    # product_id -> [moves, sum, last id, created_at of the last]
    ledger = {}
    for mid, pid, qty, at in db.execute(
            "SELECT id, product_id, qty_change, created_at FROM stock_moves"):
        g = ledger.setdefault(pid, [0, 0, -1, None])
        g[0] += 1
        g[1] += qty
        if mid > g[2]:
            g[2], g[3] = mid, at
    lines = []
    drifted = net = oversold = moves = 0
    for pid, (sku, stock) in products.items():
        n, total, _, at = ledger.get(pid, [0, 0, -1, None])
        moves += n
        if stock < 0:
            oversold += 1
        if stock != total:
            drifted += 1
            net += stock - total
            lines.append("drift %d %s %d %d %+d %s %d%s" % (
                pid, sku, stock, total, stock - total,
                "none" if n == 0 else at, n, " oversold" if stock < 0 else ""))
        elif stock < 0:
            lines.append("oversold %d %s %d" % (pid, sku, stock))
    orphan_moves = orphan_products = 0
    for pid, (n, total, _, at) in ledger.items():
        if isinstance(pid, int) and pid in products:
            continue
        orphan_products += 1
        orphan_moves += n
        lines.append("orphan %s %d %+d %s" % (pid, n, total, at))
    lines.sort()
    lines.append("summary products %d moves %d drifted %d net %+d oversold %d "
                 "orphan_moves %d orphan_products %d" % (
                     len(products), moves, drifted, net, oversold,
                     orphan_moves, orphan_products))
    print("\n".join(lines))


DRIFT = re.compile(r"^product (\d+) \(sku '(.*)'\): stock (-?\d+), ledger (-?\d+), "
                   r"difference ([+-]\d+), last move (.*) \((\d+) moves\)(, oversold)?"
                   r"(; --fix would book [+-]\d+)?$")
OVERSOLD = re.compile(r"^product (\d+) \(sku '(.*)'\): oversold, stock (-?\d+) "
                      r"\(its ledger agrees\)$")
ORPHAN = re.compile(r"^(\d+) stock moves \(sum ([+-]\d+), last (.*)\) name product "
                    r"(.*), which does not exist$")
SUMMARY = re.compile(r"^checked (\d+) products and (\d+) moves: (\d+) drifted from "
                     r"the ledger \(net ([+-]\d+) units\), (\d+) oversold, (\d+) "
                     r"orphan moves naming (\d+) missing products")


def parse():
    lines, summary = [], None
    for raw in sys.stdin:
        msg = json.loads(raw)["msg"]
        m = DRIFT.match(msg)
        if m:
            lines.append("drift %s %s %s %s %s %s %s%s" % (
                m[1], m[2], m[3], m[4], m[5], m[6], m[7], " oversold" if m[8] else ""))
            continue
        m = OVERSOLD.match(msg)
        if m:
            lines.append("oversold %s %s %s" % (m[1], m[2], m[3]))
            continue
        m = ORPHAN.match(msg)
        if m:
            lines.append("orphan %s %s %s %s" % (m[4], m[1], m[2], m[3]))
            continue
        m = SUMMARY.match(msg)
        if m:
            summary = ("summary products %s moves %s drifted %s net %s oversold %s "
                       "orphan_moves %s orphan_products %s" % m.groups())
            continue
        lines.append("unexpected " + msg)
    lines.sort()
    lines.append(summary or "no summary line")
    print("\n".join(lines))


def app(path, stop, seed):
    """One transaction at a time, about one every millisecond: a sale or a
    restock booked with its move (the ledger holds), a stock change with
    no move (drift), or a move with no stock change (drift).  Two products
    in three are chosen among those drifted at the start, where the fix
    is busy."""
    rnd = random.Random(int(seed))
    db = connect(path)
    drifted = [r[0] for r in db.execute(
        "SELECT id FROM products p WHERE stock_quantity <> (SELECT coalesce(sum("
        "qty_change), 0) FROM stock_moves m WHERE m.product_id = p.id)")]
    every = [r[0] for r in db.execute("SELECT id FROM products")]
    n = 0
    while not os.path.exists(stop):
        pid = rnd.choice(drifted if drifted and rnd.random() < 0.67 else every)
        qty = rnd.choice([-2, -1, 1, 3])
        kind = rnd.random()
        db.execute("BEGIN IMMEDIATE")
        if kind < 0.5:
            db.execute("UPDATE products SET stock_quantity = stock_quantity + ? "
                       "WHERE id = ?", (qty, pid))
            db.execute("INSERT INTO stock_moves (product_id, qty_change, reason) "
                       "VALUES (?, ?, ?)", (pid, qty, "sale" if qty < 0 else "restock"))
        elif kind < 0.8:
            db.execute("UPDATE products SET stock_quantity = stock_quantity + ? "
                       "WHERE id = ?", (qty, pid))
        else:
            db.execute("INSERT INTO stock_moves (product_id, qty_change, reason) "
                       "VALUES (?, ?, 'return')", (pid, qty))
        db.execute("COMMIT")
        n += 1
        time.sleep(0.001)
    print(n)


def replay(path):
    """hist holds, in commit order, every stock change and every move since
    the start state (table start: product, stock, ledger), with two markers
    around the --fix run.  Rules checked:
      1. every adjustment, when booked, made the ledger equal to the stock
         (it was the difference at that moment, not an older one), and is
         not 0;
      2. no product got two adjustments in the run;
      3. every product was in step with its ledger at some moment of the
         run (the fix booked it, or found it in step when it read it).
    Prints the violations, then (on stderr) what happened."""
    db = connect(path)
    stock, ledger = {}, {}
    for pid, s, l in db.execute("SELECT product_id, stock, ledger FROM start"):
        stock[pid], ledger[pid] = s, l
    inrun, adjusted, insync = False, {}, set()
    bad = []
    stats = {"events": 0, "adjustments": 0, "app_in_run": 0}
    for seq, kind, pid, value, qty, reason in db.execute(
            "SELECT seq, kind, product_id, stock, qty, reason FROM hist ORDER BY seq"):
        if kind == "fix_start":
            inrun = True
            insync = {p for p in stock if stock[p] == ledger[p]}
            continue
        if kind == "fix_end":
            inrun = False
            continue
        stats["events"] += 1
        if kind == "stock":
            stock[pid] = value
            if inrun:
                stats["app_in_run"] += 1
        elif reason == "adjustment":
            stats["adjustments"] += 1
            if qty == 0 or ledger[pid] + qty != stock[pid]:
                bad.append("seq %d: adjustment %+d for product %d: stock %d, "
                           "ledger %d before it" % (seq, qty, pid, stock[pid], ledger[pid]))
            if not inrun:
                bad.append("seq %d: adjustment outside the run" % seq)
            adjusted[pid] = adjusted.get(pid, 0) + 1
            if adjusted[pid] == 2:
                bad.append("product %d: two adjustments in one run" % pid)
            ledger[pid] += qty
        else:
            ledger[pid] = ledger.get(pid, 0) + qty
            if inrun:
                stats["app_in_run"] += 1
        if inrun and stock.get(pid) == ledger.get(pid):
            insync.add(pid)
    for pid in sorted(set(stock) - insync):
        bad.append("product %d: never in step with its ledger during the run" % pid)
    final = db.execute("SELECT count(*) FROM products p WHERE stock_quantity <> "
                       "(SELECT coalesce(sum(qty_change), 0) FROM stock_moves m "
                       "WHERE m.product_id = p.id)").fetchone()[0]
    drift_model = sum(1 for p in stock if stock[p] != ledger.get(p, 0))
    if final != drift_model:
        bad.append("the replay ends with %d drifted products, the database has %d"
                   % (drift_model, final))
    print("\n".join(bad[:10]))
    print("# replay: %d events, %d adjustments, %d app writes during the fix, "
          "%d products drifted at the end" % (stats["events"], stats["adjustments"],
                                               stats["app_in_run"], final),
          file=sys.stderr)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "model":
        model(sys.argv[2])
    elif cmd == "parse":
        parse()
    elif cmd == "app":
        app(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "replay":
        replay(sys.argv[2])
    else:
        sys.exit("unknown command " + cmd)
