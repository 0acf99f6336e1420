import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../../test/helpers.js';
import { DataError } from '../../errors.js';
import { withDuck, sqlString } from '../../lake/duckdb.js';
import { parsePartnerConfig } from '../../partners/config.js';
import { buildReports } from '../build-reports.js';
import { GOLDEN_PARTNER_YAML, GOLDEN_SECRET, goldenDir, goldenPartnerConfig, writeGoldenSilver } from '../../../test/reports/golden-silver.js';
import { pseudonymize } from '../pseudonym.js';
import { dailyAnalyticColumns } from './index.js';

const CONTRACT = [
  'sale_date', 'sale_time', 'order_key', 'product_code', 'product_name', 'segment', 'city', 'state',
  'unit_price', 'units', 'line_total', 'payment_method', 'customer_key',
];

let home: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ home, cleanup } = await makeTempHome('dataprod-daily-'));
  await writeGoldenSilver(home);
});
afterAll(async () => cleanup());

async function buildDaily(date: string, options: { secret?: string; yaml?: string } = {}) {
  const config = options.yaml ? parsePartnerConfig(options.yaml, 'test.yaml') : goldenPartnerConfig();
  const result = await buildReports({ home, config, date, reports: ['daily-analytic'], secret: options.secret ?? GOLDEN_SECRET, now: new Date('2026-11-21T12:00:00Z') });
  return result.reports[0]!;
}

async function readCsv(dir: string, name: string): Promise<string> {
  return (await readFile(join(dir, name), 'utf8')).replace(/^\uFEFF/, '');
}

describe('daily-analytic', () => {
  it('matches the hand-checked golden CSV for 2026-11-20', async () => {
    const built = await buildDaily('2026-11-20');
    const actual = await readCsv(built.outbox.dir, 'ouchhungry_daily-analytic_2026-11-20.csv');
    const expected = await readFile(join(goldenDir, 'expected', 'ouchhungry_daily-analytic_2026-11-20.csv'), 'utf8');
    expect(actual).toBe(expected);
    expect(built.rows).toBe(4);
  });

  it('keeps the contract: exact names, order and declared types in gold', async () => {
    const built = await buildDaily('2026-11-20');
    expect(dailyAnalyticColumns.map((column) => column.name)).toEqual(CONTRACT);
    const described = await withDuck((duck) => duck.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${sqlString(built.gold)})`));
    expect(described.map((column) => column.column_name)).toEqual(CONTRACT);
    expect(described.map((column) => column.column_type)).toEqual(dailyAnalyticColumns.map((column) => column.type));
    expect(built.outbox.manifest.columns).toEqual(dailyAnalyticColumns.map(({ name, type }) => ({ name, type })));
  });

  it('pseudonymises with the keyed HMAC: 64 hex, stable for a key, different under another key', async () => {
    const first = await buildDaily('2026-11-20');
    const keysOf = (gold: string) =>
      withDuck((duck) => duck.all<{ order_key: string; customer_key: string }>(`SELECT order_key, customer_key FROM read_parquet(${sqlString(gold)}) ORDER BY sale_time`));
    const a = await keysOf(first.gold);
    for (const row of a) {
      expect(row.order_key).toMatch(/^[0-9a-f]{64}$/);
      expect(row.customer_key).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(a[0]!.customer_key).toBe(pseudonymize(GOLDEN_SECRET, 'customer', 'CU-001'));
    expect(a[0]!.customer_key).toBe(a[1]!.customer_key); // CU-001 bought twice that day
    expect(new Set(a.map((row) => row.order_key)).size).toBe(4);

    const again = await keysOf((await buildDaily('2026-11-20')).gold);
    expect(again).toEqual(a);

    const other = await keysOf((await buildDaily('2026-11-20', { secret: 'another-partner-key-9876543210zyxwvutsrqponmlkjihgfedcba' })).gold);
    for (let index = 0; index < a.length; index++) {
      expect(other[index]!.order_key).not.toBe(a[index]!.order_key);
      expect(other[index]!.customer_key).not.toBe(a[index]!.customer_key);
    }
  });

  it('uses the catalogue as it was on the day (name before the 2026-11-15 rename)', async () => {
    const built = await buildDaily('2026-11-10');
    const rows = await withDuck((duck) => duck.json(`SELECT product_code, product_name, units, line_total FROM read_parquet(${sqlString(built.gold)})`));
    expect(rows).toEqual([{ product_code: 'OUC-100', product_name: 'Ouch Chips 100g', units: 2, line_total: '17.50' }]);
  });

  it('matches on brand alone when no manufacturer is configured (the knock-off then counts)', async () => {
    const yaml = GOLDEN_PARTNER_YAML.replace('  manufacturer: OuchHungry\n', '');
    const built = await buildDaily('2026-11-20', { yaml });
    expect(built.rows).toBe(5);
    expect(built.reconciliation).toMatchObject({ silver_units: 11, gold_units: 11, silver_revenue: '70.20', gold_revenue: '70.20' });
  });

  it('reconciles with silver: every completed sale of the partner, nothing suppressed', async () => {
    const built = await buildDaily('2026-11-20');
    expect(built.reconciliation).toEqual({
      silver_units: 7,
      silver_revenue: '54.20',
      gold_units: 7,
      gold_revenue: '54.20',
      suppressed_units: 0,
      suppressed_revenue: '0.00',
    });
    expect(built.outbox.manifest.summary).toMatchObject({ units: 7, revenue: '54.20', orders: 4, customers: 3, cells_suppressed: 0 });
  });

  it('renders an empty day as files with headers and 0 rows', async () => {
    const built = await buildDaily('2026-11-01');
    expect(built.rows).toBe(0);
    expect(built.outbox.manifest.rows).toBe(0);
    expect(built.outbox.manifest.files.map((file) => file.rows)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(await readCsv(built.outbox.dir, 'ouchhungry_daily-analytic_2026-11-01.csv')).toBe(`${CONTRACT.join(';')}\n`);
    expect(JSON.parse(await readFile(join(built.outbox.dir, 'ouchhungry_daily-analytic_2026-11-01.json'), 'utf8'))).toEqual([]);
  });

  it('fails with a DataError (exit 65) naming the day to clean when silver is missing', async () => {
    const error = await buildDaily('2026-12-05').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).exitCode).toBe(65);
    expect((error as DataError).message).toContain('2026-12-05');
    expect((error as DataError).hint).toContain('dataprod clean --date 2026-12-05');
  });
});
