-- daily-analytic: one row per completed sale of the partner's products on one São Paulo day.
-- The column names, order and types are the partner's contract (index.ts declares them).
--
-- Placeholders, filled with SQL literals by src/reports/sql.ts (never pasted as raw text):
--   {{date}}               'YYYY-MM-DD', the São Paulo calendar day reported
--   {{transactions_file}}  path of the silver transactions partition of that day
--   {{products_files}}     silver products snapshots on or before the day; the latest row per
--                          product_code wins (names and segments can change over time)
--   {{brands}}             the partner's brands, matched ignoring case and outer spaces
--   {{manufacturer}}       the partner's manufacturer, or NULL to match on brand alone
--
-- pseudonym(kind, id) is registered by the caller: hex HMAC-SHA256 under the partner's key.
-- Raw transaction and customer ids are read here and never selected into the output.
CREATE OR REPLACE TEMP TABLE daily_analytic AS
SELECT * FROM (
WITH products AS (
  SELECT product_code, name, brand, manufacturer, segment
  FROM read_parquet({{products_files}}, hive_partitioning = true, hive_types = {'date': DATE}, union_by_name = true)
  QUALIFY row_number() OVER (PARTITION BY product_code ORDER BY date DESC) = 1
),
partner_products AS (
  SELECT product_code, name, segment
  FROM products
  WHERE list_contains(list_transform({{brands}}, b -> lower(trim(b))), lower(trim(brand)))
    AND ({{manufacturer}} IS NULL OR lower(trim(manufacturer)) = lower(trim({{manufacturer}})))
),
sales AS (
  -- sold_at is an instant; the partner reads São Paulo wall-clock date and time.
  SELECT t.*, date_trunc('second', timezone('America/Sao_Paulo', t.sold_at)) AS local_time
  FROM read_parquet({{transactions_file}}, union_by_name = true) AS t
  WHERE t.status = 'completed'
)
SELECT
  CAST(s.local_time AS DATE)                           AS sale_date,
  CAST(s.local_time AS TIME)                           AS sale_time,
  pseudonym('order', CAST(s.transaction_id AS VARCHAR)) AS order_key,
  CAST(s.product_code AS VARCHAR)                      AS product_code,
  CAST(p.name AS VARCHAR)                              AS product_name,
  CAST(p.segment AS VARCHAR)                           AS segment,
  CAST(s.city AS VARCHAR)                              AS city,
  CAST(s.state AS VARCHAR)                             AS state,
  CAST(s.unit_price AS DECIMAL(12,2))                  AS unit_price,
  CAST(s.quantity AS INTEGER)                          AS units,
  CAST(s.quantity * s.unit_price AS DECIMAL(18,2))     AS line_total,
  CAST(s.payment_method AS VARCHAR)                    AS payment_method,
  pseudonym('customer', CAST(s.customer_id AS VARCHAR)) AS customer_key
FROM sales AS s
JOIN partner_products AS p USING (product_code)
WHERE CAST(s.local_time AS DATE) = CAST({{date}} AS DATE)
)
-- Sorted on the output columns, so each pseudonym is computed once per row.
ORDER BY sale_date, sale_time, order_key;
