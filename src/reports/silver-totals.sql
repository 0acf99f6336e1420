-- Reconciliation: units and revenue of the partner's completed sales in silver for a period.
-- Written apart from the reports' SQL on purpose, so that a bug in a report cannot hide
-- itself: gold totals + suppressed totals must equal these, or the build fails.
--
-- Placeholders (SQL literals, see src/reports/sql.ts):
--   {{transactions_files}}  silver transactions partitions of the period
--   {{products_files}}      silver products snapshots up to the period's last day
--   {{brands}}, {{manufacturer}}  the partner's products (manufacturer NULL: brand alone)
--   {{from}}, {{to}}        first and last São Paulo day of the period
WITH latest_products AS (
  SELECT product_code, brand, manufacturer,
         row_number() OVER (PARTITION BY product_code ORDER BY date DESC) AS recency
  FROM read_parquet({{products_files}}, hive_partitioning = true, hive_types = {'date': DATE}, union_by_name = true)
),
partner_codes AS (
  SELECT product_code
  FROM latest_products
  WHERE recency = 1
    AND lower(trim(brand)) IN (SELECT lower(trim(unnest({{brands}}))))
    AND ({{manufacturer}} IS NULL OR lower(trim(manufacturer)) = lower(trim({{manufacturer}})))
)
SELECT
  CAST(coalesce(sum(t.quantity), 0) AS BIGINT)                AS units,
  CAST(coalesce(sum(t.quantity * t.unit_price), 0) AS DECIMAL(38,2)) AS revenue,
  count(*)                                                      AS sales
FROM read_parquet({{transactions_files}}, union_by_name = true) AS t
WHERE t.status = 'completed'
  AND t.product_code IN (SELECT product_code FROM partner_codes)
  -- The period's São Paulo midnights as instants: cheaper than converting every sold_at.
  AND t.sold_at >= timezone('America/Sao_Paulo', CAST({{from}} AS TIMESTAMP))
  AND t.sold_at < timezone('America/Sao_Paulo', CAST({{to}} AS TIMESTAMP) + INTERVAL 1 DAY);
