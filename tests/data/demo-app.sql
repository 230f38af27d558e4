-- Demo: the app after the migration takes stock through the ledger when it
-- reserves (a 'reserved' move and a lower stock_quantity).  Some of these carts
-- expired before 2025-10-05 03:00 UTC, some did not.
INSERT INTO product_reservations (product_id, user_id, session_id, quantity, expires_at) VALUES
  (3, 2, NULL, 1, '2025-10-05 02:30:00'),
  (4, NULL, 'guest-9', 1, 1759629600),
  (5, 3, NULL, 1, '2025-10-05T04:30:00+02:00'),
  (6, 4, NULL, 1, '2025-10-05T09:00:00Z'),
  (7, NULL, 'guest-12', 1, 1759665600000);
INSERT INTO stock_moves (product_id, reservation_id, qty_change, reason)
  SELECT product_id, id, -quantity, 'reserved' FROM product_reservations WHERE product_id >= 3;
UPDATE products SET stock_quantity = stock_quantity -
  (SELECT quantity FROM product_reservations r WHERE r.product_id = products.id)
  WHERE id BETWEEN 3 AND 7;
