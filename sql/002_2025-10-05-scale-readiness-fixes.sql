-- Migration 2: 2025-10-05-scale-readiness-fixes.  The audit's fixes (missing indexes, UNIQUE
-- cart reservations, CHECKs on images and seller_response, the stock ledger, daily analytics)
-- plus the tables the jobs keep their own bookkeeping in.  migrate runs this file in one
-- transaction with foreign keys off (the documented table rebuild needs that), checks
-- PRAGMA foreign_key_check before COMMIT, and refuses up front rows that no rule can fix.

-- 1. Indexes the audit lists as missing.
CREATE INDEX idx_password_resets_user_id ON password_resets(user_id);
CREATE INDEX idx_products_size ON products(size);
CREATE INDEX idx_sell_items_submission_id ON sell_items(submission_id);
CREATE INDEX idx_analytics_events_event_type_created_at ON analytics_events(event_type, created_at);
CREATE INDEX idx_analytics_events_user_id_created_at ON analytics_events(user_id, created_at);
CREATE INDEX idx_system_logs_created_at ON system_logs(created_at);
-- ...and the one the jobs' per-day range scans use (rollup_daily, prune_events).
CREATE INDEX idx_analytics_events_created_at ON analytics_events(created_at);

-- 2. Cart reservations: one per (product, user) and one per (product, guest session).
-- Merge rule for existing duplicates: in each group of rows with the same product_id and
-- user_id (then, second pass, the same product_id and session_id) the row with the highest
-- id (the customer's latest cart action) is kept unchanged and the others are deleted.
-- migrate reports how many were merged.  No stock was ever taken for them: the ledger is
-- created below, after this.
DELETE FROM product_reservations
 WHERE user_id IS NOT NULL
   AND EXISTS (SELECT 1 FROM product_reservations AS newer
                WHERE newer.product_id = product_reservations.product_id
                  AND newer.user_id = product_reservations.user_id
                  AND newer.id > product_reservations.id);
DELETE FROM product_reservations
 WHERE session_id IS NOT NULL
   AND EXISTS (SELECT 1 FROM product_reservations AS newer
                WHERE newer.product_id = product_reservations.product_id
                  AND newer.session_id = product_reservations.session_id
                  AND newer.id > product_reservations.id);

-- AUTOINCREMENT: the stock ledger refers to reservation ids, so an id is never reused.
CREATE TABLE product_reservations_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id INTEGER NOT NULL REFERENCES products(id),
    user_id INTEGER REFERENCES users(id),
    session_id TEXT,
    quantity INTEGER NOT NULL DEFAULT 1,
    expires_at DATETIME NOT NULL,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (product_id, user_id),
    UNIQUE (product_id, session_id)
);
INSERT INTO product_reservations_new (id, product_id, user_id, session_id, quantity, expires_at, created_at)
    SELECT id, product_id, user_id, session_id, quantity, expires_at, created_at
      FROM product_reservations;
DROP TABLE product_reservations;
ALTER TABLE product_reservations_new RENAME TO product_reservations;
-- The UNIQUE (product_id, user_id) index serves the audit's product_reservations(product_id,
-- user_id) lookups; expire_reservations scans by expiry.
CREATE INDEX idx_product_reservations_expires_at ON product_reservations(expires_at);

-- 3. CHECK constraints, by the documented table rebuild (create, copy, drop, rename).
-- migrate refuses beforehand (exit 65, ids listed) if a row would violate them.
CREATE TABLE sell_submissions_new (
    id INTEGER PRIMARY KEY,
    batch_id TEXT NOT NULL UNIQUE,
    user_id INTEGER REFERENCES users(id),
    name TEXT,
    email TEXT,
    phone TEXT,
    address TEXT,
    city TEXT,
    eircode TEXT,
    notes TEXT,
    status TEXT DEFAULT 'pending'
        CHECK (status IN ('pending', 'reviewing', 'approved', 'rejected', 'offer_sent',
                          'negotiating', 'accepted', 'paid', 'completed', 'cancelled')),
    seller_price REAL,
    offered_price REAL,
    final_price REAL,
    offer_message TEXT,
    offer_sent_at DATETIME,
    seller_response TEXT CHECK (seller_response IN ('accept', 'reject', 'counter')),
    seller_response_at DATETIME,
    counter_price REAL,
    counter_message TEXT,
    admin_notes TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO sell_submissions_new SELECT * FROM sell_submissions;
DROP TABLE sell_submissions;
ALTER TABLE sell_submissions_new RENAME TO sell_submissions;
CREATE INDEX idx_sell_submissions_batch_id ON sell_submissions(batch_id);
CREATE INDEX idx_sell_submissions_user_id ON sell_submissions(user_id);
-- missing per the audit; created here since the rebuild drops the old table's indexes
CREATE INDEX idx_sell_submissions_status_created_at ON sell_submissions(status, created_at);

CREATE TABLE images_new (
    id INTEGER PRIMARY KEY,
    cloudflare_id TEXT,
    url TEXT,
    variants TEXT,
    product_id INTEGER REFERENCES products(id),
    submission_id INTEGER REFERENCES sell_submissions(id),
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    -- exactly one owner: a product or a submission (audit issue 4)
    CHECK ((product_id IS NOT NULL) + (submission_id IS NOT NULL) = 1)
);
INSERT INTO images_new (id, cloudflare_id, url, variants, product_id, submission_id, created_at)
    SELECT id, cloudflare_id, url, variants, product_id, submission_id, created_at FROM images;
DROP TABLE images;
ALTER TABLE images_new RENAME TO images;
CREATE INDEX idx_images_product_id ON images(product_id);
CREATE INDEX idx_images_submission_id ON images(submission_id);

-- 4. Stock ledger.  stock_quantity = SUM(qty_change) per product from now on: each product
-- starts with one 'initial' move equal to its current stock.  reservation_id has no foreign
-- key: expired reservations are deleted, their moves stay.
CREATE TABLE stock_moves (
    id INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products(id),
    order_id INTEGER REFERENCES orders(id),
    reservation_id INTEGER,
    qty_change INTEGER NOT NULL,
    reason TEXT NOT NULL
        CHECK (reason IN ('initial', 'restock', 'sale', 'return', 'adjustment',
                          'reserved', 'reservation_expired')),
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_stock_moves_product_id ON stock_moves(product_id);
CREATE INDEX idx_stock_moves_reservation_id ON stock_moves(reservation_id)
    WHERE reservation_id IS NOT NULL;
-- A reservation is given back at most once, whatever crashes or reruns happen.
CREATE UNIQUE INDEX idx_stock_moves_one_expiry ON stock_moves(reservation_id)
    WHERE reason = 'reservation_expired';
INSERT INTO stock_moves (product_id, qty_change, reason)
    SELECT id, stock_quantity, 'initial' FROM products ORDER BY id;

-- 5. Daily analytics, written by rollup_daily: one row per (day, event_type).  The audit's
-- sketch keyed it by date alone, which allows only one event type per day.
CREATE TABLE analytics_daily (
    date TEXT NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    event_type TEXT NOT NULL,
    count INTEGER NOT NULL CHECK (count > 0),
    unique_users INTEGER NOT NULL DEFAULT 0,
    unique_sessions INTEGER NOT NULL DEFAULT 0,
    metadata TEXT,
    computed_at TEXT DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (date, event_type)
);

-- 6. The jobs' bookkeeping.
CREATE TABLE jobs_meta (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
-- Names every archive file this database writes, so two databases can share a directory.
INSERT INTO jobs_meta (key, value) VALUES ('database_id', lower(hex(randomblob(6))));

-- One row per run that changed anything.  started_at/ended_at are the real clock (UTC);
-- now_at is the job's notion of now (--now).  A row left 'running' is marked 'died' by the
-- next run of the same job, which holds the job's lock and so knows no one else is running.
CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY,
    job TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'stopped', 'failed', 'died')),
    exit_code INTEGER,
    rows INTEGER NOT NULL DEFAULT 0,
    window_start TEXT,
    window_end TEXT,
    now_at TEXT,
    pid INTEGER,
    message TEXT
);
CREATE INDEX idx_job_runs_job_started_at ON job_runs(job, started_at);

-- Every archive file: a row is inserted ('writing') before the file is created and flipped
-- to 'done' in the same transaction as the DELETE of its rows.  See common/archive.h.
-- archive_dir is the absolute directory at write time; path is relative to it.
CREATE TABLE archive_manifest (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,
    table_name TEXT NOT NULL,
    day TEXT NOT NULL,
    archive_dir TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('writing', 'done', 'restored')),
    rows INTEGER,
    min_id INTEGER,
    max_id INTEGER,
    bytes INTEGER,
    run_id INTEGER,
    created_at TEXT NOT NULL,
    completed_at TEXT
);
CREATE INDEX idx_archive_manifest_table_state ON archive_manifest(table_name, state, day);

-- Rollup state per UTC day that has (or had) events.  dirty: 0 rolled up and unchanged,
-- 1 events changed since (or never rolled), 2 a rollup is reading the day right now.
-- pruned_at: events of the day were archived away; its rollup is frozen from then on.
CREATE TABLE rollup_days (
    day TEXT PRIMARY KEY NOT NULL,
    dirty INTEGER NOT NULL DEFAULT 1 CHECK (dirty IN (0, 1, 2)),
    rolled_at TEXT,
    events INTEGER,
    pruned_at TEXT
) WITHOUT ROWID;

-- The app's writes mark the UTC day they touch as dirty, so rollup_daily's catch-up finds
-- late and changed events without scanning the table.  The expression is SQLite's own
-- reading of the SPEC 3 forms, written to be cheap on the app's insert path:
--   numbers: seconds below 1e11, else milliseconds, floored to the second (CAST, corrected
--     for negatives) because date() would round;
--   date text (a real calendar date, hour below 24): the day is the text's own date when
--     it has no offset (UTC or 'Z'), else date() applies the offset, fraction cut off;
--   digit-only text: as numbers.
-- It agrees with common/timefmt.c on every value that file accepts (tests/t/migrate.t
-- checks); for a few values that file rejects it may still mark a day, which only makes
-- rollup_daily recompute that day.  A NULL day (unreadable value) is not marked: such rows
-- are never counted anyway.
--
-- The WHEN clause makes the common case, an insert into a day already marked, one index
-- lookup that writes nothing (README: the cost on the app's inserts).
CREATE TRIGGER analytics_events_mark_insert AFTER INSERT ON analytics_events
WHEN NOT EXISTS (SELECT 1 FROM rollup_days WHERE dirty = 1 AND day = CASE
        WHEN typeof(NEW.created_at) IN ('integer', 'real') THEN
            date(CAST((CASE WHEN NEW.created_at >= 100000000000 OR NEW.created_at <= -100000000000 THEN NEW.created_at / 1000.0 ELSE NEW.created_at END) AS INTEGER) - ((CASE WHEN NEW.created_at >= 100000000000 OR NEW.created_at <= -100000000000 THEN NEW.created_at / 1000.0 ELSE NEW.created_at END) < CAST((CASE WHEN NEW.created_at >= 100000000000 OR NEW.created_at <= -100000000000 THEN NEW.created_at / 1000.0 ELSE NEW.created_at END) AS INTEGER)), 'unixepoch')
        WHEN NEW.created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9][ T][0-2][0-9]:[0-5][0-9]:[0-5][0-9]*'
             AND substr(NEW.created_at, 12, 2) < '24'
             AND (substr(NEW.created_at, 9, 2) <= '28'
                  OR date(substr(NEW.created_at, 1, 10), '+0 days') = substr(NEW.created_at, 1, 10)) THEN
            CASE WHEN NEW.created_at GLOB '*[+-][0-9][0-9]:[0-9][0-9]'
                 THEN date(substr(NEW.created_at, 1, 19) || substr(NEW.created_at, -6))
                 ELSE substr(NEW.created_at, 1, 10) END
        WHEN NEW.created_at GLOB '[1-9]*' AND NEW.created_at NOT GLOB '*[^0-9]*' THEN
            date(CASE WHEN length(NEW.created_at) >= 12 THEN CAST(NEW.created_at AS INTEGER) / 1000
                      ELSE CAST(NEW.created_at AS INTEGER) END, 'unixepoch')
        END)
BEGIN
    INSERT INTO rollup_days (day)
    SELECT d FROM (SELECT CASE
        WHEN typeof(NEW.created_at) IN ('integer', 'real') THEN
            date(CAST((CASE WHEN NEW.created_at >= 100000000000 OR NEW.created_at <= -100000000000 THEN NEW.created_at / 1000.0 ELSE NEW.created_at END) AS INTEGER) - ((CASE WHEN NEW.created_at >= 100000000000 OR NEW.created_at <= -100000000000 THEN NEW.created_at / 1000.0 ELSE NEW.created_at END) < CAST((CASE WHEN NEW.created_at >= 100000000000 OR NEW.created_at <= -100000000000 THEN NEW.created_at / 1000.0 ELSE NEW.created_at END) AS INTEGER)), 'unixepoch')
        WHEN NEW.created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9][ T][0-2][0-9]:[0-5][0-9]:[0-5][0-9]*'
             AND substr(NEW.created_at, 12, 2) < '24'
             AND (substr(NEW.created_at, 9, 2) <= '28'
                  OR date(substr(NEW.created_at, 1, 10), '+0 days') = substr(NEW.created_at, 1, 10)) THEN
            CASE WHEN NEW.created_at GLOB '*[+-][0-9][0-9]:[0-9][0-9]'
                 THEN date(substr(NEW.created_at, 1, 19) || substr(NEW.created_at, -6))
                 ELSE substr(NEW.created_at, 1, 10) END
        WHEN NEW.created_at GLOB '[1-9]*' AND NEW.created_at NOT GLOB '*[^0-9]*' THEN
            date(CASE WHEN length(NEW.created_at) >= 12 THEN CAST(NEW.created_at AS INTEGER) / 1000
                      ELSE CAST(NEW.created_at AS INTEGER) END, 'unixepoch')
        END AS d)
    WHERE d IS NOT NULL
    ON CONFLICT (day) DO UPDATE SET dirty = 1 WHERE dirty <> 1;
END;

-- INSERT OR REPLACE deletes the row it replaces without firing the delete trigger (the app
-- runs with recursive_triggers off), so the replaced event's day is marked here.  A plain
-- insert lets SQLite choose the id (NEW.id is -1 here): one failed lookup, nothing else.
CREATE TRIGGER analytics_events_mark_replace BEFORE INSERT ON analytics_events
WHEN NEW.id > 0 AND EXISTS (SELECT 1 FROM analytics_events WHERE id = NEW.id)
BEGIN
    INSERT INTO rollup_days (day)
    SELECT d FROM (SELECT CASE
        WHEN typeof(o.created_at) IN ('integer', 'real') THEN
            date(CAST((CASE WHEN o.created_at >= 100000000000 OR o.created_at <= -100000000000 THEN o.created_at / 1000.0 ELSE o.created_at END) AS INTEGER) - ((CASE WHEN o.created_at >= 100000000000 OR o.created_at <= -100000000000 THEN o.created_at / 1000.0 ELSE o.created_at END) < CAST((CASE WHEN o.created_at >= 100000000000 OR o.created_at <= -100000000000 THEN o.created_at / 1000.0 ELSE o.created_at END) AS INTEGER)), 'unixepoch')
        WHEN o.created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9][ T][0-2][0-9]:[0-5][0-9]:[0-5][0-9]*'
             AND substr(o.created_at, 12, 2) < '24'
             AND (substr(o.created_at, 9, 2) <= '28'
                  OR date(substr(o.created_at, 1, 10), '+0 days') = substr(o.created_at, 1, 10)) THEN
            CASE WHEN o.created_at GLOB '*[+-][0-9][0-9]:[0-9][0-9]'
                 THEN date(substr(o.created_at, 1, 19) || substr(o.created_at, -6))
                 ELSE substr(o.created_at, 1, 10) END
        WHEN o.created_at GLOB '[1-9]*' AND o.created_at NOT GLOB '*[^0-9]*' THEN
            date(CASE WHEN length(o.created_at) >= 12 THEN CAST(o.created_at AS INTEGER) / 1000
                      ELSE CAST(o.created_at AS INTEGER) END, 'unixepoch')
        END AS d
        FROM analytics_events AS o WHERE o.id = NEW.id)
    WHERE d IS NOT NULL
    ON CONFLICT (day) DO UPDATE SET dirty = 1 WHERE dirty <> 1;
END;

CREATE TRIGGER analytics_events_mark_update
AFTER UPDATE OF created_at, event_type, user_id, session_id, product_id ON analytics_events
BEGIN
    INSERT INTO rollup_days (day)
    SELECT d FROM (SELECT CASE
        WHEN typeof(OLD.created_at) IN ('integer', 'real') THEN
            date(CAST((CASE WHEN OLD.created_at >= 100000000000 OR OLD.created_at <= -100000000000 THEN OLD.created_at / 1000.0 ELSE OLD.created_at END) AS INTEGER) - ((CASE WHEN OLD.created_at >= 100000000000 OR OLD.created_at <= -100000000000 THEN OLD.created_at / 1000.0 ELSE OLD.created_at END) < CAST((CASE WHEN OLD.created_at >= 100000000000 OR OLD.created_at <= -100000000000 THEN OLD.created_at / 1000.0 ELSE OLD.created_at END) AS INTEGER)), 'unixepoch')
        WHEN OLD.created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9][ T][0-2][0-9]:[0-5][0-9]:[0-5][0-9]*'
             AND substr(OLD.created_at, 12, 2) < '24'
             AND (substr(OLD.created_at, 9, 2) <= '28'
                  OR date(substr(OLD.created_at, 1, 10), '+0 days') = substr(OLD.created_at, 1, 10)) THEN
            CASE WHEN OLD.created_at GLOB '*[+-][0-9][0-9]:[0-9][0-9]'
                 THEN date(substr(OLD.created_at, 1, 19) || substr(OLD.created_at, -6))
                 ELSE substr(OLD.created_at, 1, 10) END
        WHEN OLD.created_at GLOB '[1-9]*' AND OLD.created_at NOT GLOB '*[^0-9]*' THEN
            date(CASE WHEN length(OLD.created_at) >= 12 THEN CAST(OLD.created_at AS INTEGER) / 1000
                      ELSE CAST(OLD.created_at AS INTEGER) END, 'unixepoch')
        END AS d
        UNION SELECT CASE
        WHEN typeof(NEW.created_at) IN ('integer', 'real') THEN
            date(CAST((CASE WHEN NEW.created_at >= 100000000000 OR NEW.created_at <= -100000000000 THEN NEW.created_at / 1000.0 ELSE NEW.created_at END) AS INTEGER) - ((CASE WHEN NEW.created_at >= 100000000000 OR NEW.created_at <= -100000000000 THEN NEW.created_at / 1000.0 ELSE NEW.created_at END) < CAST((CASE WHEN NEW.created_at >= 100000000000 OR NEW.created_at <= -100000000000 THEN NEW.created_at / 1000.0 ELSE NEW.created_at END) AS INTEGER)), 'unixepoch')
        WHEN NEW.created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9][ T][0-2][0-9]:[0-5][0-9]:[0-5][0-9]*'
             AND substr(NEW.created_at, 12, 2) < '24'
             AND (substr(NEW.created_at, 9, 2) <= '28'
                  OR date(substr(NEW.created_at, 1, 10), '+0 days') = substr(NEW.created_at, 1, 10)) THEN
            CASE WHEN NEW.created_at GLOB '*[+-][0-9][0-9]:[0-9][0-9]'
                 THEN date(substr(NEW.created_at, 1, 19) || substr(NEW.created_at, -6))
                 ELSE substr(NEW.created_at, 1, 10) END
        WHEN NEW.created_at GLOB '[1-9]*' AND NEW.created_at NOT GLOB '*[^0-9]*' THEN
            date(CASE WHEN length(NEW.created_at) >= 12 THEN CAST(NEW.created_at AS INTEGER) / 1000
                      ELSE CAST(NEW.created_at AS INTEGER) END, 'unixepoch')
        END)
    WHERE d IS NOT NULL
    ON CONFLICT (day) DO UPDATE SET dirty = 1 WHERE dirty <> 1;
END;

-- A delete by anyone but prune_events changes the day's totals.  prune_events freezes each
-- day it prunes (pruned_at), and inside its own delete transactions holds the row
-- 'prune_events.deleting' in jobs_meta (never committed, so no other connection sees it):
-- its deletes skip this trigger, which would otherwise triple their cost.
CREATE TRIGGER analytics_events_mark_delete AFTER DELETE ON analytics_events
WHEN NOT EXISTS (SELECT 1 FROM jobs_meta WHERE key = 'prune_events.deleting')
BEGIN
    INSERT INTO rollup_days (day)
    SELECT d FROM (SELECT CASE
        WHEN typeof(OLD.created_at) IN ('integer', 'real') THEN
            date(CAST((CASE WHEN OLD.created_at >= 100000000000 OR OLD.created_at <= -100000000000 THEN OLD.created_at / 1000.0 ELSE OLD.created_at END) AS INTEGER) - ((CASE WHEN OLD.created_at >= 100000000000 OR OLD.created_at <= -100000000000 THEN OLD.created_at / 1000.0 ELSE OLD.created_at END) < CAST((CASE WHEN OLD.created_at >= 100000000000 OR OLD.created_at <= -100000000000 THEN OLD.created_at / 1000.0 ELSE OLD.created_at END) AS INTEGER)), 'unixepoch')
        WHEN OLD.created_at GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9][ T][0-2][0-9]:[0-5][0-9]:[0-5][0-9]*'
             AND substr(OLD.created_at, 12, 2) < '24'
             AND (substr(OLD.created_at, 9, 2) <= '28'
                  OR date(substr(OLD.created_at, 1, 10), '+0 days') = substr(OLD.created_at, 1, 10)) THEN
            CASE WHEN OLD.created_at GLOB '*[+-][0-9][0-9]:[0-9][0-9]'
                 THEN date(substr(OLD.created_at, 1, 19) || substr(OLD.created_at, -6))
                 ELSE substr(OLD.created_at, 1, 10) END
        WHEN OLD.created_at GLOB '[1-9]*' AND OLD.created_at NOT GLOB '*[^0-9]*' THEN
            date(CASE WHEN length(OLD.created_at) >= 12 THEN CAST(OLD.created_at AS INTEGER) / 1000
                      ELSE CAST(OLD.created_at AS INTEGER) END, 'unixepoch')
        END AS d)
    WHERE d IS NOT NULL
    ON CONFLICT (day) DO UPDATE SET dirty = 1 WHERE dirty <> 1 AND pruned_at IS NULL;
END;
