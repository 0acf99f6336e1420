import { existsSync } from 'node:fs';
import { addDays, daysOfMonth, previousMonth } from '../../dates.js';
import { sqlString, type DuckSession } from '../../lake/duckdb.js';
import { goldFile, silverFile } from '../../lake/layout.js';
import type { PartnerConfig, ReportName } from '../../partners/config.js';
import { listSilverDays, requireProductFilesUpTo } from '../../reports/silver.js';
import { readReportSql, renderSql } from '../../reports/sql.js';

/**
 * The figures behind a package's insights, computed in DuckDB. Totals, segment shares,
 * prices and product growth come from silver aggregates (insights.sql); anything per city
 * or state comes from gold, which already applies the k-anonymity rules, and product
 * figures keep only products with at least k customers. Money stays an exact decimal
 * string; shares and changes are ratios for display.
 */

export interface InsightsInput {
  duck: DuckSession;
  home: string;
  config: PartnerConfig;
  report: ReportName;
  /** YYYY-MM-DD (daily) or YYYY-MM (monthly). */
  period: string;
  /** The package's gold Parquet file. */
  gold: string;
  /** The manifest summary (privacy figures). */
  summary: Record<string, number | string | null>;
}

/** A headline figure with its comparisons (null where the comparison period has no data). */
export interface Metric {
  value: number | string;
  previous: number | string | null;
  /** (value - previous) / previous. */
  change: number | null;
  /** The same period a month (daily) or a year (monthly) before. */
  before: number | string | null;
  change_before: number | null;
}

export interface PeriodShare {
  period: string;
  share_units: number | null;
  share_revenue: number | null;
}

export interface SegmentInsight {
  segment: string;
  partner_units: number;
  partner_revenue: string;
  segment_units: number;
  segment_revenue: string;
  share_units: number | null;
  share_revenue: number | null;
  /** Share change against the previous period, in share points (0.012 = 1.2 p.p.). */
  share_units_change: number | null;
  share_revenue_change: number | null;
  partner_avg_price: string | null;
  segment_avg_price: string | null;
  /** partner_avg_price / segment_avg_price - 1. */
  price_index: number | null;
  /** Oldest first, periods with data only (at most 12). */
  trend: PeriodShare[];
}

export interface RankedItem {
  key: string;
  label: string;
  units: number;
  revenue: string;
  share_units?: number | null;
  previous_units?: number | null;
  units_change?: number | null;
  change?: number | null;
}

export interface TrendPoint {
  period: string;
  units: number;
  revenue: string;
}

export interface Insights {
  schema_version: 1;
  partner: string;
  report: ReportName;
  period: string;
  period_kind: 'day' | 'month';
  /** Periods compared: the one before, and the same period a month (daily) or year (monthly) before. */
  compared: { previous: string; previous_available: boolean; before: string | null; before_available: boolean; before_kind: 'month' | 'year' };
  metrics: { units: Metric; revenue: Metric; orders: Metric; customers: Metric; avg_ticket: Metric };
  /** The partner's units and revenue over the last 12 periods with data, oldest first. */
  trend: TrendPoint[];
  segments: SegmentInsight[];
  top_cities: RankedItem[];
  growing_cities: RankedItem[];
  top_products: RankedItem[];
  growing_products: RankedItem[];
  /** The period growth of products and cities is measured against (daily cities: its gold file). */
  growth_basis: string | null;
  /** Monthly only: every state by units. */
  states: RankedItem[];
  privacy: { k: number; cells_merged: number; cells_suppressed: number; suppressed_units: number; suppressed_revenue: string };
  /** Days of silver behind the period (a monthly report may be built on part of a month). */
  coverage: { days_expected: number; days_present: number };
}

const TREND_PERIODS = 12;
const TOP = 5;
const insightsSql = new URL('./insights.sql', import.meta.url);

/** The 12 periods ending with `period`, oldest first. */
export function trendPeriods(period: string): string[] {
  const periods = [period];
  while (periods.length < TREND_PERIODS) periods.unshift(period.length === 7 ? previousMonth(periods[0]!) : addDays(periods[0]!, -1));
  return periods;
}

/** The period before, and the same period a month (days) or a year (months) before. */
export function comparisonPeriods(period: string): { previous: string; before: string | null; beforeKind: 'month' | 'year' } {
  if (period.length === 7) {
    return { previous: previousMonth(period), before: `${Number(period.slice(0, 4)) - 1}${period.slice(4)}`, beforeKind: 'year' };
  }
  const candidate = `${previousMonth(period.slice(0, 7))}${period.slice(7)}`;
  // 31 March has no 31 February: no same day a month before.
  const real = new Date(`${candidate}T00:00:00Z`).toISOString().slice(0, 10) === candidate;
  return { previous: addDays(period, -1), before: real ? candidate : null, beforeKind: 'month' };
}

function daysOf(period: string): string[] {
  return period.length === 7 ? daysOfMonth(period) : [period];
}

/** cents(a) / b rounded half up, as a decimal string with 2 places. */
function moneyPer(revenue: string, count: number | bigint): string | null {
  const divisor = BigInt(count);
  if (divisor === 0n) return null;
  const [whole, fraction = ''] = revenue.split('.');
  const negative = whole!.startsWith('-');
  const cents = BigInt(`${whole!.replace('-', '')}${fraction.padEnd(2, '0').slice(0, 2)}`);
  const rounded = (cents * 2n + divisor) / (2n * divisor);
  const text = rounded.toString().padStart(3, '0');
  return `${negative ? '-' : ''}${text.slice(0, -2)}.${text.slice(-2)}`;
}

function ratio(numerator: number | string | null, denominator: number | string | null): number | null {
  if (numerator === null || denominator === null) return null;
  const a = Number(numerator);
  const b = Number(denominator);
  return b === 0 || !Number.isFinite(a) || !Number.isFinite(b) ? null : a / b;
}

function change(value: number | string, previous: number | string | null): number | null {
  const r = ratio(value, previous);
  return r === null ? null : r - 1;
}

/** Rounds a ratio for the JSON file (4 decimals for shares, 4 for changes): stable bytes. */
function round4(value: number | null): number | null {
  return value === null ? null : Math.round(value * 10000) / 10000;
}

interface TotalsRow {
  period: string;
  units: number;
  revenue: string;
  orders: number;
  customers: number;
}

interface SegmentRow {
  period: string;
  segment: string;
  segment_units: number;
  segment_revenue: string;
  partner_units: number;
  partner_revenue: string;
}

interface ProductRow {
  period: string;
  product_code: string;
  product_name: string;
  units: number;
  revenue: string;
  customers: number;
}

interface PlaceRow {
  state: string;
  city: string;
  units: number;
  revenue: string;
}

/** Computes every figure of a package's insights. */
export async function computeInsights(input: InsightsInput): Promise<Insights> {
  const { duck, home, config, report, period } = input;
  const kind = period.length === 7 ? 'month' : 'day';
  const k = config.privacy.k;
  const { previous, before, beforeKind } = comparisonPeriods(period);
  const periods = [...new Set([...trendPeriods(period), previous, ...(before ? [before] : [])])].sort();
  const present = new Set(listSilverDays(home, 'transactions'));
  // A period counts only when silver has every one of its days (the report's own period may be partial).
  const complete = (candidate: string) => daysOf(candidate).every((day) => present.has(day));
  const usable = periods.filter((candidate) => candidate === period || complete(candidate));
  const days = usable.flatMap(daysOf).filter((day) => present.has(day));
  const lastDay = daysOf(period).at(-1)!;

  const sql = renderSql(
    await readReportSql(insightsSql),
    {
      transactions_files: days.map((day) => silverFile(home, 'transactions', day)),
      products_files: requireProductFilesUpTo(home, lastDay),
      brands: config.products.brands,
      manufacturer: config.products.manufacturer ?? null,
      segments: config.segments,
      periods: usable,
      period_length: kind === 'month' ? 7 : 10,
      k,
    },
    'insights/insights.sql',
  );
  await duck.run(sql);
  const totals = new Map((await duck.json<TotalsRow>('SELECT * FROM ins_totals ORDER BY period')).map((row) => [row.period, row]));
  const segmentRows = await duck.json<SegmentRow>('SELECT * FROM ins_segments ORDER BY period, segment');
  const productRows = await duck.json<ProductRow>('SELECT * FROM ins_product_periods ORDER BY period, product_code');

  const current = totals.get(period) ?? { period, units: 0, revenue: '0.00', orders: 0, customers: 0 };
  const previousRow = totals.get(previous) ?? null;
  const beforeRow = before ? (totals.get(before) ?? null) : null;
  const metric = (pick: (row: TotalsRow) => number | string | null): Metric => {
    const value = pick(current) ?? 0;
    const prev = previousRow ? pick(previousRow) : null;
    const old = beforeRow ? pick(beforeRow) : null;
    return { value, previous: prev, change: round4(change(value, prev)), before: old, change_before: round4(change(value, old)) };
  };
  const ticket = (row: TotalsRow) => moneyPer(String(row.revenue), row.orders);

  const trendWindow = trendPeriods(period);
  const trend: TrendPoint[] = trendWindow.flatMap((candidate) => {
    const row = totals.get(candidate);
    return row ? [{ period: candidate, units: Number(row.units), revenue: String(row.revenue) }] : [];
  });

  const segments: SegmentInsight[] = config.segments.map((segment) => {
    const rows = segmentRows.filter((row) => row.segment === segment);
    const now = rows.find((row) => row.period === period);
    const prev = rows.find((row) => row.period === previous);
    const shareUnits = now ? ratio(now.partner_units, now.segment_units) : null;
    const shareRevenue = now ? ratio(now.partner_revenue, now.segment_revenue) : null;
    const partnerPrice = now ? moneyPer(String(now.partner_revenue), now.partner_units) : null;
    const segmentPrice = now ? moneyPer(String(now.segment_revenue), now.segment_units) : null;
    return {
      segment,
      partner_units: Number(now?.partner_units ?? 0),
      partner_revenue: String(now?.partner_revenue ?? '0.00'),
      segment_units: Number(now?.segment_units ?? 0),
      segment_revenue: String(now?.segment_revenue ?? '0.00'),
      share_units: round4(shareUnits),
      share_revenue: round4(shareRevenue),
      share_units_change: prev && shareUnits !== null ? round4(shareUnits - ratio(prev.partner_units, prev.segment_units)!) : null,
      share_revenue_change: prev && shareRevenue !== null ? round4(shareRevenue - ratio(prev.partner_revenue, prev.segment_revenue)!) : null,
      partner_avg_price: partnerPrice,
      segment_avg_price: segmentPrice,
      price_index: round4(change(partnerPrice ?? 0, segmentPrice)),
      trend: trendWindow.flatMap((candidate) => {
        const row = rows.find((item) => item.period === candidate);
        return row ? [{ period: candidate, share_units: round4(ratio(row.partner_units, row.segment_units)), share_revenue: round4(ratio(row.partner_revenue, row.segment_revenue)) }] : [];
      }),
    };
  });

  // Products: top from gold (what the partner's file shows), growth from silver with >= k customers both periods.
  const goldSql = sqlString(input.gold);
  const monthly = report === 'monthly-by-city';
  const unitsColumn = monthly ? 'units_sold' : 'units';
  const revenueColumn = monthly ? 'gross_revenue' : 'line_total';
  const customerFilter = monthly ? '' : `HAVING count(DISTINCT customer_key) >= ${k}`;
  const topProducts = await duck.json<{ product_code: string; product_name: string; units: number; revenue: string }>(
    `SELECT product_code, any_value(product_name) AS product_name, CAST(sum(${unitsColumn}) AS BIGINT) AS units, CAST(sum(${revenueColumn}) AS DECIMAL(38,2)) AS revenue
     FROM read_parquet(${goldSql}) GROUP BY product_code ${customerFilter} ORDER BY units DESC, revenue DESC, product_code LIMIT ${TOP}`,
  );
  const goldTotal = (await duck.json<{ units: number; revenue: string }>(`SELECT CAST(coalesce(sum(${unitsColumn}), 0) AS BIGINT) AS units, CAST(coalesce(sum(${revenueColumn}), 0) AS DECIMAL(38,2)) AS revenue FROM read_parquet(${goldSql})`))[0]!;
  // Growth is measured against the previous period, or the same period before when that one has no data.
  const basis = previousRow ? previous : beforeRow ? before : null;
  const currentProducts = productRows.filter((row) => row.period === period);
  const previousProducts = new Map(productRows.filter((row) => row.period === basis).map((row) => [row.product_code, row]));
  const growingProducts: RankedItem[] = currentProducts
    .flatMap((row) => {
      const prev = previousProducts.get(row.product_code);
      if (!prev) return [];
      const unitsChange = Number(row.units) - Number(prev.units);
      return [{ key: row.product_code, label: row.product_name, units: Number(row.units), revenue: String(row.revenue), previous_units: Number(prev.units), units_change: unitsChange, change: round4(change(row.units, prev.units)) }];
    })
    .filter((item) => (item.units_change ?? 0) > 0)
    .sort((a, b) => (b.change ?? 0) - (a.change ?? 0) || b.units_change! - a.units_change! || a.key.localeCompare(b.key))
    .slice(0, TOP);

  // Cities from gold: the daily file keeps cities with >= k customers; the monthly one leaves out OUTRAS.
  const cityFilter = monthly ? `WHERE city <> 'OUTRAS'` : '';
  const citySql = (path: string) =>
    `SELECT state, city, CAST(sum(${unitsColumn}) AS BIGINT) AS units, CAST(sum(${revenueColumn}) AS DECIMAL(38,2)) AS revenue
     FROM read_parquet(${sqlString(path)}) ${cityFilter} GROUP BY state, city ${customerFilter}`;
  const cities = await duck.json<PlaceRow>(`${citySql(input.gold)} ORDER BY units DESC, revenue DESC, state, city`);
  const place = (row: PlaceRow): RankedItem => ({ key: `${row.state}/${row.city}`, label: `${row.city} (${row.state})`, units: Number(row.units), revenue: String(row.revenue), share_units: round4(ratio(row.units, goldTotal.units)) });
  let previousCities: Map<string, number> | null = null;
  if (monthly) {
    // units_mom_change compares each published row with the same row last month (gold, k-safe).
    const rows = await duck.json<{ state: string; city: string; previous_units: number }>(
      `SELECT state, city, CAST(sum(units_sold - units_mom_change) AS BIGINT) AS previous_units FROM read_parquet(${goldSql})
       WHERE city <> 'OUTRAS' AND units_mom_change IS NOT NULL GROUP BY state, city`,
    );
    if (rows.length > 0) previousCities = new Map(rows.map((row) => [`${row.state}/${row.city}`, Number(row.previous_units)]));
  } else {
    const previousGold = basis ? goldFile(home, config.partner, report, basis) : '';
    if (basis && existsSync(previousGold)) previousCities = new Map((await duck.json<PlaceRow>(citySql(previousGold))).map((row) => [`${row.state}/${row.city}`, Number(row.units)]));
  }
  const growingCities: RankedItem[] = previousCities
    ? cities
        .flatMap((row) => {
          const prev = previousCities!.get(`${row.state}/${row.city}`);
          if (prev === undefined || prev <= 0) return [];
          return [{ ...place(row), previous_units: prev, units_change: Number(row.units) - prev, change: round4(change(row.units, prev)) }];
        })
        .filter((item) => (item.units_change ?? 0) > 0)
        .sort((a, b) => (b.change ?? 0) - (a.change ?? 0) || b.units_change! - a.units_change! || a.key.localeCompare(b.key))
        .slice(0, TOP)
    : [];

  const states: RankedItem[] = monthly
    ? (
        await duck.json<{ state: string; units: number; revenue: string }>(
          `SELECT state, CAST(sum(units_sold) AS BIGINT) AS units, CAST(sum(gross_revenue) AS DECIMAL(38,2)) AS revenue FROM read_parquet(${goldSql}) GROUP BY state ORDER BY units DESC, revenue DESC, state`,
        )
      ).map((row) => ({ key: row.state, label: row.state, units: Number(row.units), revenue: String(row.revenue), share_units: round4(ratio(row.units, goldTotal.units)) }))
    : [];

  const summary = input.summary;
  const number = (key: string) => Number(summary[key] ?? 0) || 0;
  return {
    schema_version: 1,
    partner: config.partner,
    report,
    period,
    period_kind: kind,
    compared: { previous, previous_available: previousRow !== null, before, before_available: beforeRow !== null, before_kind: beforeKind },
    metrics: {
      units: metric((row) => Number(row.units)),
      revenue: metric((row) => String(row.revenue)),
      orders: metric((row) => Number(row.orders)),
      customers: metric((row) => Number(row.customers)),
      avg_ticket: metric(ticket),
    },
    trend,
    growth_basis: monthly ? (previousCities ? previous : basis) : basis,
    segments,
    top_cities: cities.slice(0, TOP).map(place),
    growing_cities: growingCities,
    top_products: topProducts.map((row) => ({ key: row.product_code, label: row.product_name, units: Number(row.units), revenue: String(row.revenue), share_units: round4(ratio(row.units, goldTotal.units)) })),
    growing_products: growingProducts,
    states,
    privacy: { k, cells_merged: number('cells_merged'), cells_suppressed: number('cells_suppressed'), suppressed_units: number('suppressed_units'), suppressed_revenue: String(summary.suppressed_revenue ?? '0.00') },
    coverage: { days_expected: daysOf(period).length, days_present: daysOf(period).filter((day) => present.has(day)).length },
  };
}
