-- Benchmark data for reconcile_stock (bench/reconcile.sh): run on a migrated
-- database with the parameters in the temp table p(products, moves).
-- Deterministic: every value comes from the row number.
--   products  products, each with its 'initial' move as migration 2 books it
--   moves     stock moves in all, the initial ones included (2 000 000 for
--             100 000 products: 20 a product), spread over the products in
--             time order, as the app books them: a product's moves are
--             scattered through the table, not side by side
-- The stock is then set to each product's ledger, and one product in ten
-- (id % 10 = 7) drifts from it by 1 to 5 units, up or down; one in a
-- hundred of those (id % 1000 = 7) is oversold (stock -3) as well.
INSERT INTO products (sku, name, price, stock_quantity)
SELECT 'SKU-' || n, 'Item ' || n, 5 + n % 95, 20 + n % 40
  FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c
        WHERE n < (SELECT products FROM p)) SELECT n FROM c);

INSERT INTO stock_moves (product_id, qty_change, reason, created_at)
SELECT id, stock_quantity, 'initial', '2025-07-07 00:00:00' FROM products ORDER BY id;

-- 7919 is prime, so n * 7919 mod products visits every product in turn; r,
-- the kind of move, changes from one visit of a product to the next.
INSERT INTO stock_moves (product_id, order_id, reservation_id, qty_change, reason, created_at)
SELECT 1 + (n * 7919) % (SELECT products FROM p), NULL,
       CASE WHEN r >= 17 THEN 1000000 + n END,
       CASE WHEN r < 12 THEN -1 WHEN r < 14 THEN 1 WHEN r < 17 THEN 3 ELSE -1 END,
       CASE WHEN r < 12 THEN 'sale' WHEN r < 14 THEN 'return'
            WHEN r < 17 THEN 'restock' ELSE 'reserved' END,
       datetime(1751846400 + n * (90 * 86400) / (SELECT moves FROM p), 'unixepoch')
  FROM (SELECT n, (n + 7 * (n / (SELECT products FROM p))) % 20 AS r
          FROM (WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c
                WHERE n < (SELECT moves - products FROM p) - 1) SELECT n FROM c));

CREATE TEMP TABLE ledger AS
SELECT product_id, sum(qty_change) AS qty FROM stock_moves GROUP BY product_id;
CREATE INDEX temp.ledger_product ON ledger(product_id);
UPDATE products SET stock_quantity =
       (SELECT qty FROM temp.ledger WHERE ledger.product_id = products.id)
       + CASE WHEN id % 10 <> 7 THEN 0 WHEN (id / 10) % 2 = 0 THEN 1 + id % 5
              ELSE -1 - id % 5 END;
UPDATE products SET stock_quantity = -3 WHERE id % 1000 = 7;
DROP TABLE temp.ledger;
