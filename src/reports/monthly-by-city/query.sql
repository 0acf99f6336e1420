-- monthly-by-city: for one month, per state, city and partner product, the sales figures,
-- the product's share of its segment in that city (every brand counted) and the change in
-- units against the previous month. Column names, order and types are the partner's
-- contract (index.ts declares them).
--
-- Placeholders, filled with SQL literals by src/reports/sql.ts (never pasted as raw text):
--   {{month}}, {{previous_month}}  'YYYY-MM'; a sale's month is its São Paulo date's month
--   {{transactions_files}}  silver transactions partitions of both months (days present)
--   {{products_files}}      silver products snapshots up to the month's last day; the latest
--                           row per product_code gives name, brand and segment
--   {{brands}}, {{manufacturer}}  the partner's products (manufacturer NULL: brand alone)
--   {{k}}                   minimum distinct customers behind any figure shared
--
-- PRIVACY POLICY (k-anonymity with complementary suppression), applied to each month alone:
--   A "cell" is (state, city, product) of the partner's sales; its customers are distinct.
--   1. Merge: a cell with fewer than k customers is not shown; its sales are merged into one
--      row per state and product with city 'OUTRAS' (customers counted distinct again).
--   2. Suppress: an OUTRAS row still below k is suppressed (left out of the report). This
--      also covers "a single city merged in its state": one small cell alone is below k.
--   3. Complementary suppression of the totals: the manifest publishes the suppressed units
--      and revenue, so the suppressed rows together are an aggregate the partner sees. When
--      their distinct customers are between 1 and k-1, the published row with the fewest
--      customers (then fewest units; then state, city, product) is suppressed as well. Every
--      published row has >= k customers, so one more row always lifts the hidden set to >= k.
--   4. Shares: a share publishes its denominator (segment units and revenue of the city), and
--      the denominator minus the published rows of that city and segment is the "residual":
--      the hidden cells plus competitors' sales there. When the residual has between 1 and
--      k-1 customers, both share columns of every published row of that city and segment
--      are NULL. OUTRAS rows never carry shares: their set of cities differs per product,
--      and a segment total over such a set, differenced with the city totals, could expose
--      a city's small residual.
--   5. Month over month: units_mom_change compares a row with the same row (state, city or
--      OUTRAS, product) as the previous month's report published it under these rules;
--      NULL when that row was absent or hidden, so it never reveals a hidden figure.
-- The summary counts cells merged (published only inside an OUTRAS row), cells suppressed
-- (published nowhere), rows suppressed by rules 2 and 3, rows with shares withheld by rule 4,
-- and the suppressed units and revenue; gold + suppressed reconciles with silver.
--
-- Decimal arithmetic stays exact: DuckDB divides DECIMALs as DOUBLE, so ratios are computed
-- on integers (cents, units) and rounded half up before becoming DECIMALs.
CREATE OR REPLACE TEMP MACRO mbc_ratio4(numerator, denominator) AS
  CASE WHEN denominator = 0 THEN NULL ELSE
    CAST(CAST((CAST(numerator AS HUGEINT) * 20000 + CAST(denominator AS HUGEINT)) // (2 * CAST(denominator AS HUGEINT)) AS DECIMAL(18,0))
         * CAST(0.0001 AS DECIMAL(5,4)) AS DECIMAL(5,4)) END;

CREATE OR REPLACE TEMP MACRO mbc_cents_per(cents, units) AS
  CASE WHEN units = 0 THEN NULL ELSE
    CAST(CAST((CAST(cents AS HUGEINT) * 2 + CAST(units AS HUGEINT)) // (2 * CAST(units AS HUGEINT)) AS DECIMAL(18,0))
         * CAST(0.01 AS DECIMAL(3,2)) AS DECIMAL(12,2)) END;

CREATE OR REPLACE TEMP TABLE mbc_products AS
SELECT
  CAST(product_code AS VARCHAR) AS product_code,
  CAST(name AS VARCHAR) AS product_name,
  CAST(segment AS VARCHAR) AS segment,
  list_contains(list_transform({{brands}}, b -> lower(trim(b))), lower(trim(brand)))
    AND ({{manufacturer}} IS NULL OR lower(trim(manufacturer)) = lower(trim({{manufacturer}}))) AS is_partner
FROM read_parquet({{products_files}}, hive_partitioning = true, hive_types = {'date': DATE}, union_by_name = true)
QUALIFY row_number() OVER (PARTITION BY product_code ORDER BY date DESC) = 1;

-- Every completed sale of both months (all brands: shares need the competitors). A sale's
-- month is decided by comparing the instant with the months' São Paulo midnights, which
-- costs far less than converting every sold_at to local time.
CREATE OR REPLACE TEMP TABLE mbc_bounds AS
SELECT
  timezone('America/Sao_Paulo', CAST(({{previous_month}} || '-01') AS TIMESTAMP)) AS previous_start,
  timezone('America/Sao_Paulo', CAST(({{month}} || '-01') AS TIMESTAMP)) AS month_start,
  timezone('America/Sao_Paulo', CAST(({{month}} || '-01') AS TIMESTAMP) + INTERVAL 1 MONTH) AS next_start;

CREATE OR REPLACE TEMP TABLE mbc_sales AS
SELECT
  CASE WHEN t.sold_at >= b.month_start THEN {{month}} ELSE {{previous_month}} END AS month,
  CAST(t.transaction_id AS VARCHAR) AS transaction_id,
  CAST(t.customer_id AS VARCHAR) AS customer_id,
  CAST(t.product_code AS VARCHAR) AS product_code,
  CAST(t.quantity AS BIGINT) AS quantity,
  CAST(t.unit_price AS DECIMAL(12,2)) AS unit_price,
  CAST(t.quantity * t.unit_price AS DECIMAL(18,2)) AS line_total,
  CAST(t.city AS VARCHAR) AS city,
  CAST(t.state AS VARCHAR) AS state,
  p.segment,
  p.is_partner
FROM read_parquet({{transactions_files}}, union_by_name = true) AS t
CROSS JOIN mbc_bounds AS b
JOIN mbc_products AS p ON p.product_code = CAST(t.product_code AS VARCHAR)
WHERE t.status = 'completed'
  AND t.sold_at >= b.previous_start AND t.sold_at < b.next_start;

CREATE OR REPLACE TEMP TABLE mbc_cells AS
SELECT month, state, city, product_code, count(DISTINCT customer_id) AS customers,
       count(DISTINCT customer_id) < {{k}} AS small
FROM mbc_sales
WHERE is_partner
GROUP BY month, state, city, product_code;

-- Rule 1: each partner sale is assigned to the report row that will carry it.
CREATE OR REPLACE TEMP TABLE mbc_assigned AS
SELECT s.*, CASE WHEN c.small THEN 'OUTRAS' ELSE s.city END AS row_city, c.small AS merged
FROM mbc_sales AS s
JOIN mbc_cells AS c USING (month, state, city, product_code)
WHERE s.is_partner;

CREATE OR REPLACE TEMP TABLE mbc_candidates AS
SELECT
  month, state, row_city AS city, product_code,
  (SELECT product_name FROM mbc_products AS p WHERE p.product_code = a.product_code) AS product_name,
  any_value(segment) AS segment,
  bool_or(merged) AS merged,
  count(DISTINCT city) AS cities,
  sum(quantity) AS units,
  sum(line_total) AS revenue,
  min(unit_price) AS min_unit_price,
  max(unit_price) AS max_unit_price,
  count(DISTINCT transaction_id) AS orders,
  count(DISTINCT customer_id) AS customers
FROM mbc_assigned AS a
GROUP BY month, state, row_city, product_code;

-- Rule 2: OUTRAS rows still below k.
CREATE OR REPLACE TEMP TABLE mbc_primary AS
SELECT *, merged AND customers < {{k}} AS primary_suppressed
FROM mbc_candidates;

-- Rule 3: distinct customers behind all rows suppressed so far, per month.
CREATE OR REPLACE TEMP TABLE mbc_hidden AS
SELECT a.month, count(DISTINCT a.customer_id) AS customers
FROM mbc_assigned AS a
JOIN mbc_primary AS r ON r.month = a.month AND r.state = a.state AND r.city = a.row_city AND r.product_code = a.product_code
WHERE r.primary_suppressed
GROUP BY a.month;

CREATE OR REPLACE TEMP TABLE mbc_rows AS
WITH ranked AS (
  SELECT r.*,
         row_number() OVER (PARTITION BY r.month, r.primary_suppressed ORDER BY r.customers, r.units, r.state, r.city, r.product_code) AS smallest
  FROM mbc_primary AS r
)
SELECT ranked.* EXCLUDE (smallest),
  CASE
    WHEN primary_suppressed THEN 'suppressed_below_k'
    WHEN smallest = 1 AND coalesce(h.customers, 0) BETWEEN 1 AND {{k}} - 1 THEN 'suppressed_complementary'
    ELSE 'published'
  END AS status
FROM ranked
LEFT JOIN mbc_hidden AS h USING (month);

-- Rule 4: segment totals per city (all brands) and the residual behind published city rows.
CREATE OR REPLACE TEMP TABLE mbc_segments AS
WITH published_cells AS (
  SELECT state, city, product_code FROM mbc_rows
  WHERE month = {{month}} AND status = 'published' AND NOT merged
)
SELECT
  s.state, s.city, s.segment,
  sum(s.quantity) AS units,
  sum(s.line_total) AS revenue,
  count(DISTINCT s.customer_id) FILTER (WHERE c.product_code IS NULL) AS residual_customers
FROM mbc_sales AS s
LEFT JOIN published_cells AS c
  ON c.state = s.state AND c.city = s.city AND c.product_code = s.product_code
WHERE s.month = {{month}}
GROUP BY s.state, s.city, s.segment;

CREATE OR REPLACE TEMP TABLE monthly_by_city AS
SELECT * FROM (
SELECT
  CAST(r.month AS VARCHAR)                                  AS month,
  CAST(r.state AS VARCHAR)                                  AS state,
  CAST(r.city AS VARCHAR)                                   AS city,
  CAST(r.product_code AS VARCHAR)                           AS product_code,
  CAST(r.product_name AS VARCHAR)                           AS product_name,
  CAST(r.segment AS VARCHAR)                                AS segment,
  CAST(r.units AS BIGINT)                                   AS units_sold,
  CAST(r.revenue AS DECIMAL(18,2))                          AS gross_revenue,
  mbc_cents_per(CAST(r.revenue * 100 AS HUGEINT), r.units)  AS avg_unit_price,
  CAST(r.min_unit_price AS DECIMAL(12,2))                   AS min_unit_price,
  CAST(r.max_unit_price AS DECIMAL(12,2))                   AS max_unit_price,
  CAST(r.orders AS BIGINT)                                  AS orders,
  CAST(r.customers AS BIGINT)                               AS customers_reached,
  CASE WHEN NOT r.merged AND (g.residual_customers = 0 OR g.residual_customers >= {{k}})
       THEN mbc_ratio4(r.units, g.units) END                AS segment_share_units,
  CASE WHEN NOT r.merged AND (g.residual_customers = 0 OR g.residual_customers >= {{k}})
       THEN mbc_ratio4(CAST(r.revenue * 100 AS HUGEINT), CAST(g.revenue * 100 AS HUGEINT)) END AS segment_share_revenue,
  CAST(r.units - p.units AS BIGINT)                         AS units_mom_change
FROM mbc_rows AS r
LEFT JOIN mbc_segments AS g
  ON NOT r.merged AND g.state = r.state AND g.city = r.city AND g.segment = r.segment
LEFT JOIN mbc_rows AS p
  ON p.month = {{previous_month}} AND p.status = 'published'
  AND p.state = r.state AND p.city = r.city AND p.product_code = r.product_code
WHERE r.month = {{month}} AND r.status = 'published'
)
ORDER BY state, city = 'OUTRAS', city, product_code;

-- Figures for the manifest summary (the report month only).
CREATE OR REPLACE TEMP TABLE monthly_by_city_summary AS
SELECT
  (SELECT count(*) FROM mbc_cells WHERE month = {{month}}) AS cells,
  (SELECT count(*) FROM mbc_rows WHERE month = {{month}} AND status = 'published' AND NOT merged) AS cells_published,
  (SELECT count(*) FROM mbc_cells AS c JOIN mbc_rows AS r
     ON r.month = c.month AND r.state = c.state AND r.product_code = c.product_code AND r.city = 'OUTRAS'
   WHERE c.month = {{month}} AND c.small AND r.status = 'published') AS cells_merged,
  (SELECT count(*) FROM mbc_cells AS c JOIN mbc_rows AS r
     ON r.month = c.month AND r.state = c.state AND r.product_code = c.product_code
        AND r.city = CASE WHEN c.small THEN 'OUTRAS' ELSE c.city END
   WHERE c.month = {{month}} AND r.status <> 'published') AS cells_suppressed,
  (SELECT count(*) FROM mbc_rows WHERE month = {{month}} AND merged AND status = 'published') AS outras_rows,
  (SELECT count(*) FROM mbc_rows WHERE month = {{month}} AND status <> 'published') AS rows_suppressed,
  (SELECT count(*) FROM mbc_rows WHERE month = {{month}} AND status = 'suppressed_complementary') AS rows_suppressed_complementary,
  (SELECT count(*) FROM monthly_by_city WHERE city <> 'OUTRAS' AND segment_share_units IS NULL) AS shares_withheld,
  (SELECT CAST(coalesce(sum(units), 0) AS BIGINT) FROM mbc_rows WHERE month = {{month}} AND status <> 'published') AS suppressed_units,
  (SELECT CAST(coalesce(sum(revenue), 0) AS DECIMAL(38,2)) FROM mbc_rows WHERE month = {{month}} AND status <> 'published') AS suppressed_revenue,
  (SELECT count(*) FROM mbc_sales WHERE month = {{previous_month}}) AS previous_month_sales;
