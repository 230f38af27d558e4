#!/usr/bin/env python3
"""Migration 3's image backfill, computed independently of its SQL.

tests/t/images.t compares what `migrate` made with what this file says it
should make.  It reads the products and images rows with Python's sqlite3
module, parses additional_images with Python's json module and applies the
rules of SPEC section 2 (version 3) as the test's author reads them, without
SQLite's JSON functions:

  - main image: cloudflare_id = cloudflare_image_id, else image_id;
    url = image_url; an image when either is non-empty;
  - additional_images: NULL or blank text is none; else a JSON array whose
    elements are non-empty strings (a URL when it starts with http://,
    https:// or /, the scheme in any case; else a Cloudflare id) or objects
    whose "id" and "url" members, where present, are strings, one non-empty;
    anything else makes the product malformed;
  - values are trimmed of spaces (SQLite's trim()), empty means absent;
  - an image is skipped when an images row of the product, or an earlier
    image of the same product (main first, then array order), has its
    cloudflare_id, or for an image without one its url.

Usage:
  images.py rows DB        the images rows to be made, "product|cf|url", in order
  images.py counts DB      "N M": images to make, references skipped
  images.py malformed DB   the ids of malformed products, one a line
  images.py generate DB SEED N
                           add N products (and some images rows) with every
                           kind of well-formed image column, at random
  images.py sql SCHEMA_C   the IMAGE_CANDIDATES query text from common/schema.c
"""
import json
import random
import re
import sqlite3
import sys


class Malformed(Exception):
    pass


def blank(value):
    """nullif(trim(value), ''): SQLite's trim() removes spaces only."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    value = value.strip(" ")
    return value or None


def is_url(text):
    head = text[:8].encode("ascii", "replace").decode("ascii").lower()
    return head.startswith(("http://", "https://", "/"))


def additional(raw):
    """The (cloudflare_id, url) images of one additional_images value."""
    if raw is None:
        return []
    if not isinstance(raw, str):
        raise Malformed("not text")
    if raw.strip(" ") == "":
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        raise Malformed("not JSON")
    if not isinstance(value, list):
        raise Malformed("not an array")
    out = []
    for element in value:
        if isinstance(element, str):
            text = blank(element)
            if text is None:
                raise Malformed("empty string")
            out.append((None, text) if is_url(text) else (text, None))
        elif isinstance(element, dict):
            for key in ("id", "url"):
                if key in element and not isinstance(element[key], str):
                    raise Malformed("member %s not a string" % key)
            cf, url = blank(element.get("id")), blank(element.get("url"))
            if cf is None and url is None:
                raise Malformed("object without id or url")
            out.append((cf, url))
        else:
            raise Malformed("element of another type")
    return out


def same(a, b):
    """Does image b (cf, url) already name image a?"""
    if a[0] is not None:
        return b[0] == a[0]
    return b[1] == a[1]


def backfill(path):
    """(rows to make, references skipped, malformed product ids)."""
    con = sqlite3.connect(path)
    existing = {}
    for pid, cf, url in con.execute(
            "SELECT product_id, cloudflare_id, url FROM images "
            "WHERE product_id IS NOT NULL"):
        existing.setdefault(pid, []).append((cf, url))
    rows, skipped, malformed = [], 0, []
    for pid, url, image_id, cf_id, extra in con.execute(
            "SELECT id, image_url, image_id, cloudflare_image_id, "
            "additional_images FROM products ORDER BY id"):
        images = []
        main = (blank(cf_id) or blank(image_id), blank(url))
        if main != (None, None):
            images.append(main)
        try:
            images += additional(extra)
        except Malformed:
            malformed.append(pid)
            continue
        earlier = []
        for image in images:
            if any(same(image, other) for other in existing.get(pid, []) + earlier):
                skipped += 1
            else:
                rows.append((pid,) + image)
            earlier.append(image)
    con.close()
    return rows, skipped, malformed


def text(value):
    return "" if value is None else str(value)


def generate(path, seed, n):
    """Products with well-formed image columns of every kind, drawn from small
    pools so that repeats (inside a product and against images) are common."""
    rnd = random.Random(seed)
    ids = ["cfA", "cfB", "cfC", " cfA ", "img-9"]
    urls = ["/a.jpg", "https://cdn.example/b.jpg", "http://x/c.jpg",
            "HTTPS://X/D.JPG", " /a.jpg ", "/e.png"]

    def maybe(pool, p_none=0.4):
        r = rnd.random()
        if r < p_none:
            return None
        if r < p_none + 0.1:
            return rnd.choice(["", "  "])
        return rnd.choice(pool)

    def element():
        kind = rnd.randrange(6)
        if kind == 0:
            return rnd.choice(ids)
        if kind == 1:
            return rnd.choice(urls)
        if kind == 2:
            return {"id": rnd.choice(ids)}
        if kind == 3:
            return {"url": rnd.choice(urls)}
        if kind == 4:
            return {"id": rnd.choice(ids), "url": rnd.choice(urls), "alt": "x"}
        return {"id": rnd.choice(["", " "]), "url": rnd.choice(urls)}

    con = sqlite3.connect(path)
    base = con.execute("SELECT coalesce(max(id), 0) FROM products").fetchone()[0]
    for i in range(n):
        r = rnd.random()
        if r < 0.1:
            extra = None
        elif r < 0.15:
            extra = rnd.choice(["", "   ", "[]"])
        else:
            extra = json.dumps([element() for _ in range(rnd.randrange(5))])
        con.execute(
            "INSERT INTO products (sku, name, price, stock_quantity, image_url, "
            "image_id, cloudflare_image_id, additional_images) "
            "VALUES (?, 'gen', 1, 1, ?, ?, ?, ?)",
            ("GEN-%d-%d" % (seed, i), maybe(urls), maybe(ids), maybe(ids, 0.7), extra))
        pid = base + i + 1
        for _ in range(rnd.randrange(3) if rnd.random() < 0.3 else 0):
            con.execute("INSERT INTO images (product_id, cloudflare_id, url) "
                        "VALUES (?, ?, ?)", (pid, rnd.choice(ids + [None]),
                                             rnd.choice(urls + [None])))
    con.commit()
    con.close()


def candidates_sql(schema_c):
    """#define IMAGE_CANDIDATES of common/schema.c as the compiler sees it: its
    string literals joined, the macros it names expanded."""
    src = open(schema_c).read()
    defines = {}
    for name, body in re.findall(r"#define (\w+)((?:[^\n]*\\\n)*[^\n]*)\n", src):
        defines[name] = re.findall(r'"((?:[^"\\]|\\.)*)"|([A-Z_][A-Z0-9_]+)', body)

    def expand(name):
        if name not in defines:
            raise SystemExit("%s not found in %s" % (name, schema_c))
        out = ""
        for literal, macro in defines[name]:
            if macro:
                out += expand(macro)
            else:
                out += literal.replace('\\"', '"').replace("\\\\", "\\")
        return out
    return expand("IMAGE_CANDIDATES")


def main(argv):
    cmd = argv[1]
    if cmd == "generate":
        generate(argv[2], int(argv[3]), int(argv[4]))
    elif cmd == "sql":
        print(candidates_sql(argv[2]))
    else:
        rows, skipped, malformed = backfill(argv[2])
        if cmd == "rows":
            for r in rows:
                print("|".join(text(v) for v in r))
        elif cmd == "counts":
            print(len(rows), skipped)
        elif cmd == "malformed":
            for pid in malformed:
                print(pid)
        else:
            raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
