-- Benchmark data (make bench): run on a V1 database (migrate --to 1) with the
-- parameters in the temp table p(events, logs, reservations).  Deterministic:
-- values come from the row number.  180 days of events before 2025-10-05 in
-- the four common forms of SPEC 3; 5000 users, 40000 sessions, 2000 products.
INSERT INTO users (email, name)
SELECT 'u' || n || '@example.ie', 'User ' || n
  FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5000) SELECT n FROM c);

INSERT INTO products (sku, name, price, stock_quantity)
SELECT 'SKU-' || n, 'Item ' || n, 5 + n % 95, 100 + n % 50
  FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 2000) SELECT n FROM c);

INSERT INTO analytics_events (event_type, user_id, session_id, product_id, metadata, created_at)
SELECT CASE WHEN r % 10 < 6 THEN 'page_view' WHEN r % 10 < 8 THEN 'product_view'
            WHEN r % 10 < 9 THEN 'add_to_cart' ELSE 'checkout' END,
       CASE WHEN r % 3 = 0 THEN NULL ELSE 1 + r % 5000 END,
       'sess-' || (r % 40000),
       CASE WHEN r % 10 BETWEEN 6 AND 8 THEN 1 + (r * 7) % 2000 END,
       '{"path":"/p/' || (r % 2000) || '","ref":"search"}',
       CASE n % 4 WHEN 0 THEN datetime(t, 'unixepoch')
                  WHEN 1 THEN strftime('%Y-%m-%dT%H:%M:%fZ', t, 'unixepoch')
                  WHEN 2 THEN t ELSE t * 1000 + n % 1000 END
  FROM (SELECT n, (n * 7919) % 1000003 AS r,
               1759622400 - 180 * 86400 + (n * 180 * 86400 / (SELECT events FROM p)) AS t
          FROM (WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c
                WHERE n < (SELECT events FROM p) - 1) SELECT n FROM c));

INSERT INTO system_logs (level, source, message, context, created_at)
SELECT CASE n % 20 WHEN 0 THEN 'error' WHEN 1 THEN 'warn' ELSE 'info' END,
       CASE n % 3 WHEN 0 THEN 'checkout' WHEN 1 THEN 'auth' ELSE 'images' END,
       'request ' || n || ' served in ' || (n % 250) || ' ms',
       '{"ms":' || (n % 250) || ',"status":200}',
       CASE n % 2 WHEN 0 THEN datetime(t, 'unixepoch') ELSE strftime('%Y-%m-%dT%H:%M:%fZ', t, 'unixepoch') END
  FROM (SELECT n, 1759622400 - 90 * 86400 + n * 90 * 86400 / (SELECT logs FROM p) AS t
          FROM (WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c
                WHERE n < (SELECT logs FROM p) - 1) SELECT n FROM c));
