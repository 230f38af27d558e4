-- The naive expiry for make bench: the audit's three statements (with the
-- ledger amounts and the stock update the SPEC asks for), in the sqlite3 shell.
BEGIN;
INSERT INTO stock_moves (product_id, reservation_id, qty_change, reason)
SELECT r.product_id, r.id, -m.qty_change, 'reservation_expired'
  FROM product_reservations r JOIN stock_moves m ON m.reservation_id = r.id AND m.reason = 'reserved'
 WHERE r.expires_at <= '2025-10-05 00:00:00';
UPDATE products SET stock_quantity = stock_quantity +
       (SELECT coalesce(sum(-m.qty_change), 0) FROM product_reservations r
          JOIN stock_moves m ON m.reservation_id = r.id AND m.reason = 'reserved'
         WHERE r.product_id = products.id AND r.expires_at <= '2025-10-05 00:00:00')
 WHERE id IN (SELECT product_id FROM product_reservations WHERE expires_at <= '2025-10-05 00:00:00');
DELETE FROM product_reservations WHERE expires_at <= '2025-10-05 00:00:00';
COMMIT;
