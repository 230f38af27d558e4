-- Demo data for `make demo`: the shop as the app left it, on the V1 schema.
-- About 120 days of events before 2025-10-05 in every timestamp form of SPEC 3,
-- system logs, and cart reservations (with the duplicates V1 allowed).
-- Deterministic: the same database every time.

INSERT INTO users (email, name, city, eircode)
SELECT 'customer' || n || '@example.ie', 'Customer ' || n, 'Dublin', 'D0' || (n % 9) || ' X' || n
  FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 50) SELECT n FROM c);

INSERT INTO products (sku, name, price, stock_quantity, category, brand, size)
SELECT 'SKU-' || n, 'Item ' || n, 5 + n % 40, 1 + n % 4,
       CASE n % 4 WHEN 0 THEN 'jackets' WHEN 1 THEN 'dresses' WHEN 2 THEN 'shoes' ELSE 'knitwear' END,
       CASE n % 3 WHEN 0 THEN 'Levi''s' WHEN 1 THEN 'Zara' ELSE 'Barbour' END,
       CASE n % 3 WHEN 0 THEN 'S' WHEN 1 THEN 'M' ELSE 'L' END
  FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 40) SELECT n FROM c);

-- 120 days x 250 events.  The app changed how it wrote created_at over the
-- years; each form appears every day.  A few rows are unreadable.
INSERT INTO analytics_events (event_type, user_id, session_id, product_id, metadata, created_at)
SELECT CASE WHEN r % 10 < 6 THEN 'page_view' WHEN r % 10 < 8 THEN 'product_view'
            WHEN r % 10 < 9 THEN 'add_to_cart' ELSE 'checkout' END,
       CASE WHEN r % 3 = 0 THEN NULL ELSE 1 + r % 50 END,
       'sess-' || (r % 400),
       CASE WHEN r % 10 BETWEEN 6 AND 8 THEN 1 + (r * 7) % 40 END,
       CASE WHEN r % 50 = 0 THEN 'not json {' ELSE '{"path":"/p/' || (r % 40) || '"}' END,
       CASE n % 8
         WHEN 0 THEN datetime(t, 'unixepoch')
         WHEN 1 THEN strftime('%Y-%m-%dT%H:%M:%S', t, 'unixepoch')
         WHEN 2 THEN strftime('%Y-%m-%dT%H:%M:%fZ', t, 'unixepoch')
         WHEN 3 THEN strftime('%Y-%m-%dT%H:%M:%S', t + 7200, 'unixepoch') || '+02:00'
         WHEN 4 THEN strftime('%Y-%m-%dT%H:%M:%S', t - 18000, 'unixepoch') || '-05:00'
         WHEN 5 THEN t
         WHEN 6 THEN t * 1000 + n % 1000
         ELSE CASE WHEN n % 997 = 0 THEN 'yesterday-ish' ELSE datetime(t, 'unixepoch') END
       END
  FROM (SELECT n, (n * 7919) % 100003 AS r,
               1759622400 - 120 * 86400 + (n * 86400 * 120 / 30000) + (n % 37) * 13 AS t
          FROM (WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n < 29999)
                SELECT n FROM c));

INSERT INTO system_logs (level, source, message, context, created_at)
SELECT CASE n % 20 WHEN 0 THEN 'error' WHEN 1 THEN 'warn' WHEN 2 THEN 'debug' ELSE 'info' END,
       CASE n % 3 WHEN 0 THEN 'checkout' WHEN 1 THEN 'auth' ELSE 'images' END,
       'request ' || n || ' served',
       '{"ms":' || (n % 250) || '}',
       CASE n % 3 WHEN 0 THEN datetime(t, 'unixepoch')
                  WHEN 1 THEN strftime('%Y-%m-%dT%H:%M:%fZ', t, 'unixepoch')
                  ELSE t END
  FROM (SELECT n, 1759622400 - 90 * 86400 + n * 90 * 86400 / 6000 AS t
          FROM (WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n < 5999)
                SELECT n FROM c));

-- Cart holds: users and guests; two duplicate cart entries V1 let through.
INSERT INTO product_reservations (product_id, user_id, session_id, quantity, expires_at) VALUES
  (1, 1, NULL, 1, '2025-10-04 18:00:00'),
  (1, 1, NULL, 1, '2025-10-04 18:05:00'),
  (2, NULL, 'guest-7', 1, '2025-10-04T20:00:00Z'),
  (2, NULL, 'guest-7', 2, '2025-10-04T20:01:00Z');

-- The products' own image columns, as the app wrote them before the images
-- table existed (migration 3 backfills images from them): a main image on
-- every other product, products 1..3 already in images, product 5 with
-- several additional_images (one of them twice, one already its main image).
UPDATE products SET image_url = 'https://img.example.ie/p/' || id || '.jpg',
       cloudflare_image_id = CASE WHEN id % 4 = 0 THEN 'cf-' || id END
 WHERE id % 2 = 1 OR id % 4 = 0;
INSERT INTO images (product_id, url) SELECT id, image_url FROM products WHERE id BETWEEN 1 AND 3 AND image_url IS NOT NULL;
UPDATE products SET additional_images =
       '["https://img.example.ie/p/5-side.jpg", {"id": "cf-5-back", "url": "https://img.example.ie/p/5-back.jpg"}, "https://img.example.ie/p/5-side.jpg", "https://img.example.ie/p/5.jpg", "cf-5-label"]'
 WHERE id = 5;

-- The legacy analytics table (page views per page and day), unused since
-- analytics_events: retire_table archives it so that migration 3 can drop
-- it.  Two rows have a time nobody can read.
INSERT INTO analytics (page, views, date, created_at)
SELECT '/' || CASE n % 4 WHEN 0 THEN '' WHEN 1 THEN 'shop' WHEN 2 THEN 'sell' ELSE 'about' END,
       10 + (n * 37) % 90, date(1735689600 + (n / 4) * 86400, 'unixepoch'),
       datetime(1735689600 + (n / 4) * 86400 + 82800, 'unixepoch')
  FROM (WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n < 239) SELECT n FROM c);
INSERT INTO analytics (page, views, date, created_at) VALUES ('/old', 3, 'last year', NULL), ('/old', 5, 'sometime', 'n/a');
