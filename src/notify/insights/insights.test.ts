import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../../test/helpers.js';
import { sqlString, withDuck } from '../../lake/duckdb.js';
import { silverTableDir } from '../../lake/layout.js';
import { parseSha256Sums } from '../../render/index.js';
import { buildReports, type BuiltReport } from '../../reports/build-reports.js';
import { GOLDEN_SECRET, goldenPartnerConfig, writeGoldenSilver } from '../../../test/reports/golden-silver.js';
import { comparisonPeriods, trendPeriods } from './compute.js';
import type { InsightsDocument } from './index.js';

let home: string;
let cleanup: () => Promise<void>;
let built: BuiltReport[];

beforeAll(async () => {
  ({ home, cleanup } = await makeTempHome('dataprod-insights-'));
  await writeGoldenSilver(home);
  built = (await buildReports({ home, config: goldenPartnerConfig(), date: '2026-11-20', month: '2026-11', secret: GOLDEN_SECRET, now: new Date('2026-12-01T12:00:00Z') })).reports;
});
afterAll(async () => cleanup());

async function documentOf(report: string): Promise<InsightsDocument> {
  const pkg = built.find((item) => item.report === report)!.outbox;
  return JSON.parse(await readFile(join(pkg.dir, 'insights.json'), 'utf8')) as InsightsDocument;
}

interface OracleRow {
  period: string;
  units: number;
  revenue: string;
  orders: number;
  customers: number;
}

/**
 * A deliberately independent oracle: written apart from insights.sql (a join on the
 * latest catalogue by arg_max, the period from a São Paulo timestamp cast, sums in
 * cents), so a shared mistake would have to be made twice.
 */
async function oracle(grain: 'day' | 'month'): Promise<{ totals: Map<string, OracleRow>; shares: Map<string, number> }> {
  return withDuck(async (duck) => {
    const transactions = sqlString(join(silverTableDir(home, 'transactions'), '*', 'data.parquet'));
    const products = sqlString(join(silverTableDir(home, 'products'), '*', 'data.parquet'));
    const cut = grain === 'day' ? '%Y-%m-%d' : '%Y-%m';
    await duck.run(`
      CREATE TEMP TABLE o_catalogue AS
      SELECT product_code, arg_max(brand, date) AS brand, arg_max(manufacturer, date) AS manufacturer, arg_max(segment, date) AS segment
      FROM read_parquet(${products}, hive_partitioning = true) GROUP BY product_code;
      CREATE TEMP TABLE o_sales AS
      SELECT strftime(CAST(t.sold_at AT TIME ZONE 'America/Sao_Paulo' AS TIMESTAMP), '${cut}') AS period,
             t.transaction_id, t.customer_id, t.quantity, CAST(round(t.unit_price * 100) AS BIGINT) * t.quantity AS cents, c.segment,
             (c.brand IN ('Hungry', 'Ouch') AND c.manufacturer = 'OuchHungry') AS mine
      FROM read_parquet(${transactions}) AS t JOIN o_catalogue AS c USING (product_code)
      WHERE t.status = 'completed';`);
    const totals = await duck.json<OracleRow & { cents: string }>(
      `SELECT period, sum(quantity)::BIGINT AS units, sum(cents)::BIGINT AS cents, count(DISTINCT transaction_id) AS orders, count(DISTINCT customer_id) AS customers
       FROM o_sales WHERE mine GROUP BY period`,
    );
    const shares = await duck.json<{ period: string; segment: string; share: number }>(
      `SELECT period, segment, sum(quantity) FILTER (WHERE mine) / sum(quantity) AS share FROM o_sales GROUP BY period, segment`,
    );
    return {
      totals: new Map(totals.map((row) => [row.period, { ...row, revenue: (Number(row.cents) / 100).toFixed(2) }])),
      shares: new Map(shares.map((row) => [`${row.period}/${row.segment}`, Number(row.share)])),
    };
  });
}

const rounded = (value: number) => Math.round(value * 10000) / 10000;

describe('insights', () => {
  it('monthly totals, changes and shares match an independent query', async () => {
    const insights = await documentOf('monthly-by-city');
    const { totals, shares } = await oracle('month');
    const now = totals.get('2026-11')!;
    const before = totals.get('2026-10')!;
    expect(insights.compared).toMatchObject({ previous: '2026-10', previous_available: true, before: '2025-11', before_available: false });
    expect(insights.metrics.units).toMatchObject({ value: Number(now.units), previous: Number(before.units), change: rounded(now.units / before.units - 1), before: null });
    expect(insights.metrics.revenue.value).toBe(now.revenue);
    expect(insights.metrics.revenue.previous).toBe(before.revenue);
    expect(insights.metrics.revenue.change).toBe(rounded(Number(now.revenue) / Number(before.revenue) - 1));
    expect(insights.metrics.orders.value).toBe(Number(now.orders));
    expect(insights.metrics.customers.value).toBe(Number(now.customers));
    expect(insights.metrics.avg_ticket.value).toBe((Math.round((Number(now.revenue) * 100) / Number(now.orders)) / 100).toFixed(2));
    for (const segment of insights.segments) {
      expect(segment.share_units).toBe(rounded(shares.get(`2026-11/${segment.segment}`)!));
      expect(segment.share_units_change).toBe(rounded(shares.get(`2026-11/${segment.segment}`)! - shares.get(`2026-10/${segment.segment}`)!));
      expect(segment.trend.map((point) => point.period)).toEqual(['2026-10', '2026-11']);
      expect(segment.trend[0]!.share_units).toBe(rounded(shares.get(`2026-10/${segment.segment}`)!));
    }
    expect(insights.trend.map((point) => [point.period, point.units])).toEqual([
      ['2026-10', Number(before.units)],
      ['2026-11', Number(now.units)],
    ]);
  });

  it('daily totals match the oracle, and the period before is compared only where it has data', async () => {
    const insights = await documentOf('daily-analytic');
    const { totals } = await oracle('day');
    const day = totals.get('2026-11-20')!;
    expect(insights.metrics.units.value).toBe(Number(day.units));
    expect(insights.metrics.revenue.value).toBe(day.revenue);
    expect(insights.metrics.orders.value).toBe(Number(day.orders));
    expect(insights.metrics.units.previous).toBe(totals.get('2026-11-19') ? Number(totals.get('2026-11-19')!.units) : null);
    expect(insights.metrics.units.before).toBe(totals.get('2026-10-20') ? Number(totals.get('2026-10-20')!.units) : null);
    expect(insights.trend.map((point) => point.period)).toEqual(trendPeriods('2026-11-20').filter((period) => totals.has(period)));
  });

  it('per-city and per-state figures come from gold, never below k', async () => {
    const insights = await documentOf('monthly-by-city');
    const pkg = built.find((item) => item.report === 'monthly-by-city')!;
    const gold = await withDuck((duck) =>
      duck.json<{ state: string; units: number }>(`SELECT state, sum(units_sold)::BIGINT AS units FROM read_parquet(${sqlString(pkg.gold)}) GROUP BY state ORDER BY units DESC, state`),
    );
    expect(insights.states.map((state) => [state.key, state.units])).toEqual(gold.map((row) => [row.state, Number(row.units)]));
    const cities = await withDuck((duck) => duck.json<{ city: string }>(`SELECT DISTINCT city FROM read_parquet(${sqlString(pkg.gold)})`));
    for (const city of insights.top_cities) expect(cities.map((row) => row.city)).toContain(city.key.split('/')[1]);
    expect(insights.top_cities.some((city) => city.key.endsWith('/OUTRAS'))).toBe(false);
  });

  it('every package lists insights.json, insights.html and dictionary.json in its manifest and SHA256SUMS', async () => {
    for (const item of built) {
      const names = item.outbox.manifest.files.map((file) => file.name);
      expect(names).toEqual(expect.arrayContaining(['insights.json', 'insights.html', 'dictionary.json']));
      const sums = parseSha256Sums(await readFile(join(item.outbox.dir, 'SHA256SUMS'), 'utf8'));
      for (const name of ['insights.json', 'insights.html', 'dictionary.json']) expect(sums.get(name)).toBe(item.outbox.manifest.files.find((file) => file.name === name)!.sha256);
      const dictionary = JSON.parse(await readFile(join(item.outbox.dir, 'dictionary.json'), 'utf8'));
      expect(dictionary.columns.map((entry: { column: string }) => entry.column)).toEqual(item.outbox.manifest.columns.map((column) => column.name));
      for (const entry of dictionary.columns) expect(entry.meaning).toBeTruthy();
    }
  });

  it('the dictionary says what the issue found missing, in Portuguese', async () => {
    const daily = JSON.parse(await readFile(join(built[0]!.outbox.dir, 'dictionary.json'), 'utf8'));
    const monthly = JSON.parse(await readFile(join(built[1]!.outbox.dir, 'dictionary.json'), 'utf8'));
    const entry = (dictionary: { columns: { column: string }[] }, column: string) => dictionary.columns.find((item) => item.column === column) as Record<string, string>;
    expect(entry(daily, 'sale_time')).toMatchObject({ time_zone: 'America/Sao_Paulo' });
    expect(entry(daily, 'payment_method').allowed_values).toContain('pix');
    expect(entry(monthly, 'units_mom_change').meaning).toContain('diferença absoluta');
    expect(entry(monthly, 'segment_share_units').meaning).toContain('todas as marcas');
    expect(entry(monthly, 'customers_reached').privacy).toContain('5');
  });

  it('comparison periods: a day against the same day last month (none for 31 March), a month against last year', () => {
    expect(comparisonPeriods('2026-12-01')).toEqual({ previous: '2026-11-30', before: '2026-11-01', beforeKind: 'month' });
    expect(comparisonPeriods('2026-03-31').before).toBeNull();
    expect(comparisonPeriods('2026-01')).toEqual({ previous: '2025-12', before: '2025-01', beforeKind: 'year' });
    expect(trendPeriods('2026-03')).toHaveLength(12);
    expect(trendPeriods('2026-03')[0]).toBe('2025-04');
  });
});
