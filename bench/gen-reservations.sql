-- Benchmark data, after migration: expired cart reservations that took stock
-- through the ledger, as the app does it (a 'reserved' move, stock lowered).
INSERT INTO product_reservations (product_id, user_id, session_id, quantity, expires_at)
SELECT 1 + n % 2000, NULL, 'guest-' || n, 1 + n % 3,
       datetime(1759622400 - 86400 + n % 86400, 'unixepoch')
  FROM (WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c
        WHERE n < (SELECT reservations FROM p) - 1) SELECT n FROM c);
INSERT INTO stock_moves (product_id, reservation_id, qty_change, reason)
SELECT product_id, id, -quantity, 'reserved' FROM product_reservations;
UPDATE products SET stock_quantity = stock_quantity -
       (SELECT coalesce(sum(quantity), 0) FROM product_reservations r WHERE r.product_id = products.id);
