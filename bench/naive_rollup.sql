-- The naive rollup for make bench: one INSERT ... SELECT ... GROUP BY over the
-- whole table computing the same columns as rollup_daily (top_products with a
-- window function), run by the sqlite3 shell.  Its day expression is the
-- usual SQL reading of the four forms the benchmark data uses.
INSERT INTO analytics_daily (date, event_type, count, unique_users, unique_sessions, metadata)
WITH ev AS MATERIALIZED (
  SELECT CASE WHEN typeof(created_at) IN ('integer', 'real')
              THEN date(CASE WHEN created_at >= 100000000000 THEN created_at / 1000
                             ELSE created_at END, 'unixepoch')
              ELSE date(created_at) END AS d,
         event_type, user_id, session_id, product_id
    FROM analytics_events),
agg AS (SELECT d, event_type, count(*) AS c, count(DISTINCT user_id) AS uu,
               count(DISTINCT session_id) AS us
          FROM ev WHERE d IS NOT NULL GROUP BY d, event_type),
tp AS (SELECT d, event_type, product_id, count(*) AS c,
              row_number() OVER (PARTITION BY d, event_type
                                 ORDER BY count(*) DESC, product_id) AS rn
         FROM ev WHERE product_id IS NOT NULL AND d IS NOT NULL
        GROUP BY d, event_type, product_id),
meta AS MATERIALIZED (
  SELECT d, event_type,
         json_object('top_products', json_group_array(json_object('product_id', product_id,
                                                                  'count', c))) AS m
    FROM (SELECT * FROM tp WHERE rn <= 10 ORDER BY d, event_type, rn)
   GROUP BY d, event_type)
SELECT agg.d, agg.event_type, agg.c, agg.uu, agg.us, coalesce(meta.m, '{"top_products":[]}')
  FROM agg LEFT JOIN meta ON meta.d = agg.d AND meta.event_type = agg.event_type;
