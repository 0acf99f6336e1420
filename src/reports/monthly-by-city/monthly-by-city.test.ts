import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../../test/helpers.js';
import { DataError } from '../../errors.js';
import { silverFile } from '../../lake/layout.js';
import { withDuck, sqlString } from '../../lake/duckdb.js';
import { parsePartnerConfig } from '../../partners/config.js';
import { buildReports } from '../build-reports.js';
import { GOLDEN_PARTNER_YAML, GOLDEN_SECRET, goldenDir, goldenPartnerConfig, writeGoldenSilver } from '../../../test/reports/golden-silver.js';
import { monthlyByCityColumns } from './index.js';

const CONTRACT = [
  'month', 'state', 'city', 'product_code', 'product_name', 'segment', 'units_sold', 'gross_revenue',
  'avg_unit_price', 'min_unit_price', 'max_unit_price', 'orders', 'customers_reached',
  'segment_share_units', 'segment_share_revenue', 'units_mom_change',
];

let home: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ home, cleanup } = await makeTempHome('dataprod-monthly-'));
  await writeGoldenSilver(home);
});
afterAll(async () => cleanup());

async function buildMonthly(month: string, options: { yaml?: string; home?: string } = {}) {
  const config = options.yaml ? parsePartnerConfig(options.yaml, 'test.yaml') : goldenPartnerConfig();
  const result = await buildReports({ home: options.home ?? home, config, month, reports: ['monthly-by-city'], secret: GOLDEN_SECRET, now: new Date('2026-12-01T12:00:00Z') });
  return result.reports[0]!;
}

async function readCsv(dir: string, name: string): Promise<string> {
  return (await readFile(join(dir, name), 'utf8')).replace(/^\uFEFF/, '');
}

describe('monthly-by-city', () => {
  it('matches the hand-checked golden CSV for 2026-11 (k = 5: merge, suppress, complementary, shares, MoM)', async () => {
    const built = await buildMonthly('2026-11');
    const actual = await readCsv(built.outbox.dir, 'ouchhungry_monthly-by-city_2026-11.csv');
    expect(actual).toBe(await readFile(join(goldenDir, 'expected', 'ouchhungry_monthly-by-city_2026-11.csv'), 'utf8'));
  });

  it('matches the hand-checked golden CSV for 2026-10 (no previous month: MoM empty)', async () => {
    const built = await buildMonthly('2026-10');
    const actual = await readCsv(built.outbox.dir, 'ouchhungry_monthly-by-city_2026-10.csv');
    expect(actual).toBe(await readFile(join(goldenDir, 'expected', 'ouchhungry_monthly-by-city_2026-10.csv'), 'utf8'));
    expect(built.outbox.manifest.summary).toMatchObject({ cells: 3, cells_published: 1, cells_merged: 0, cells_suppressed: 2, rows_suppressed: 2, rows_suppressed_complementary: 1, previous_month_days: 0 });
    expect(built.reconciliation).toEqual({ silver_units: 21, silver_revenue: '158.30', gold_units: 10, gold_revenue: '59.80', suppressed_units: 11, suppressed_revenue: '98.50' });
  });

  it('keeps the contract: exact names, order and declared types in gold', async () => {
    const built = await buildMonthly('2026-11');
    expect(monthlyByCityColumns.map((column) => column.name)).toEqual(CONTRACT);
    const described = await withDuck((duck) => duck.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${sqlString(built.gold)})`));
    expect(described.map((column) => column.column_name)).toEqual(CONTRACT);
    expect(described.map((column) => column.column_type)).toEqual(monthlyByCityColumns.map((column) => column.type));
  });

  it('reports merges and suppressions in the manifest and reconciles gold + suppressed with silver', async () => {
    const built = await buildMonthly('2026-11');
    expect(built.reconciliation).toEqual({ silver_units: 45, silver_revenue: '334.60', gold_units: 36, gold_revenue: '280.60', suppressed_units: 9, suppressed_revenue: '54.00' });
    expect(built.outbox.manifest.summary).toMatchObject({
      k: 5,
      units: 36,
      revenue: '280.60',
      cells: 6,
      cells_published: 2,
      cells_merged: 2,
      cells_suppressed: 2,
      outras_rows: 1,
      rows_suppressed: 2,
      rows_suppressed_complementary: 1,
      shares_withheld: 1,
      suppressed_units: 9,
      suppressed_revenue: '54.00',
      days_expected: 30,
      days_present: 30,
      days_missing: '',
    });
  });

  it('never shares a row with fewer than k customers', async () => {
    for (const k of [5, 6, 7, 11]) {
      const built = await buildMonthly('2026-11', { yaml: GOLDEN_PARTNER_YAML.replace('k: 5', `k: ${k}`) });
      const [row] = await withDuck((duck) =>
        duck.json<{ below: string; units: string }>(`SELECT count(*) FILTER (WHERE customers_reached < ${k}) AS below, coalesce(sum(units_sold), 0) AS units FROM read_parquet(${sqlString(built.gold)})`),
      );
      expect(Number(row!.below)).toBe(0);
      // Whatever is hidden is accounted for.
      expect(built.reconciliation.gold_units + built.reconciliation.suppressed_units).toBe(45);
    }
  });

  it('with k = 11 every cell is below k: all merged rows suppressed, nothing shared, still reconciled', async () => {
    const built = await buildMonthly('2026-11', { yaml: GOLDEN_PARTNER_YAML.replace('k: 5', 'k: 11') });
    expect(built.rows).toBe(0);
    expect(built.reconciliation).toMatchObject({ gold_units: 0, suppressed_units: 45, suppressed_revenue: '334.60' });
    expect(built.outbox.manifest.summary).toMatchObject({ cells_suppressed: 6, cells_merged: 0, rows_suppressed: 4 });
  });

  it('builds on the days present and says which are missing; no day at all is a DataError', async () => {
    const partial = await makeTempHome('dataprod-monthly-partial-');
    try {
      await writeGoldenSilver(partial.home, { skipDays: ['2026-11-29', '2026-11-30'] });
      const built = await buildMonthly('2026-11', { home: partial.home });
      expect(built.outbox.manifest.summary).toMatchObject({ days_present: 28, days_missing: '2026-11-29,2026-11-30' });
      // TX-2022 (30th, 2 units of OUC-100 in Maringá) is not there: silver and gold both lack it.
      expect(built.reconciliation.silver_units).toBe(43);

      const error = await buildMonthly('2026-12', { home: partial.home }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DataError);
      expect((error as DataError).hint).toContain('dataprod clean --from 2026-12-01 --to 2026-12-31');
    } finally {
      await partial.cleanup();
    }
  });

  it('needs a product catalogue: none on or before the month end is a DataError', async () => {
    const bare = await makeTempHome('dataprod-monthly-bare-');
    try {
      await writeGoldenSilver(bare.home);
      await rm(silverFile(bare.home, 'products', '2026-10-01'), { force: true });
      await rm(silverFile(bare.home, 'products', '2026-11-15'), { force: true });
      await expect(buildMonthly('2026-11', { home: bare.home })).rejects.toBeInstanceOf(DataError);
    } finally {
      await bare.cleanup();
    }
  });
});
