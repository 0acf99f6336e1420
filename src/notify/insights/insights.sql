-- Insights of one package: the partner's totals per period, its share of each segment and
-- average prices against the segment's, from silver aggregates (every figure here adds up
-- thousands of sales; per-period product figures keep only products with >= k customers).
-- Anything per city is read from gold by compute.ts, never from silver.
--
-- Placeholders (SQL literals, see src/reports/sql.ts):
--   {{transactions_files}}  silver transactions partitions of every day of the periods
--   {{products_files}}      silver products snapshots up to the period's last day
--   {{brands}}, {{manufacturer}}  the partner's products (manufacturer NULL: brand alone)
--   {{segments}}            the partner's segments (config segments)
--   {{periods}}             the periods wanted, 'YYYY-MM-DD' or 'YYYY-MM'
--   {{period_length}}       10 (days) or 7 (months): a sale's period is its São Paulo date cut to it
--   {{k}}                   minimum distinct customers behind a product figure
CREATE OR REPLACE TEMP TABLE ins_products AS
SELECT
  CAST(product_code AS VARCHAR) AS product_code,
  CAST(name AS VARCHAR) AS product_name,
  CAST(segment AS VARCHAR) AS segment,
  list_contains(list_transform({{brands}}, b -> lower(trim(b))), lower(trim(brand)))
    AND ({{manufacturer}} IS NULL OR lower(trim(manufacturer)) = lower(trim({{manufacturer}}))) AS is_partner
FROM read_parquet({{products_files}}, hive_partitioning = true, hive_types = {'date': DATE}, union_by_name = true)
QUALIFY row_number() OVER (PARTITION BY product_code ORDER BY date DESC) = 1;

CREATE OR REPLACE TEMP TABLE ins_sales AS
SELECT * FROM (
  SELECT
    left(strftime(timezone('America/Sao_Paulo', t.sold_at), '%Y-%m-%d'), {{period_length}}) AS period,
    CAST(t.transaction_id AS VARCHAR) AS transaction_id,
    CAST(t.customer_id AS VARCHAR) AS customer_id,
    p.product_code, p.product_name, p.segment, p.is_partner,
    CAST(t.quantity AS BIGINT) AS units,
    CAST(t.quantity * t.unit_price AS DECIMAL(18,2)) AS revenue
  FROM read_parquet({{transactions_files}}, union_by_name = true) AS t
  JOIN ins_products AS p ON p.product_code = CAST(t.product_code AS VARCHAR)
  WHERE t.status = 'completed'
)
WHERE list_contains({{periods}}, period);

-- The partner's totals per period.
CREATE OR REPLACE TEMP TABLE ins_totals AS
SELECT
  period,
  CAST(sum(units) AS BIGINT) AS units,
  CAST(sum(revenue) AS DECIMAL(38,2)) AS revenue,
  count(DISTINCT transaction_id) AS orders,
  count(DISTINCT customer_id) AS customers
FROM ins_sales
WHERE is_partner
GROUP BY period;

-- Each of the partner's segments per period: every brand's sales, and the partner's.
CREATE OR REPLACE TEMP TABLE ins_segments AS
SELECT
  period, segment,
  CAST(sum(units) AS BIGINT) AS segment_units,
  CAST(sum(revenue) AS DECIMAL(38,2)) AS segment_revenue,
  CAST(coalesce(sum(units) FILTER (WHERE is_partner), 0) AS BIGINT) AS partner_units,
  CAST(coalesce(sum(revenue) FILTER (WHERE is_partner), 0) AS DECIMAL(38,2)) AS partner_revenue
FROM ins_sales
WHERE list_contains({{segments}}, segment)
GROUP BY period, segment;

-- The partner's products per period, only where at least k customers bought them.
CREATE OR REPLACE TEMP TABLE ins_product_periods AS
SELECT
  period, product_code, any_value(product_name) AS product_name, any_value(segment) AS segment,
  CAST(sum(units) AS BIGINT) AS units,
  CAST(sum(revenue) AS DECIMAL(38,2)) AS revenue,
  count(DISTINCT customer_id) AS customers
FROM ins_sales
WHERE is_partner
GROUP BY period, product_code
HAVING count(DISTINCT customer_id) >= {{k}};
