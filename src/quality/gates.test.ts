import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { writeTestXlsx } from '../../test/xlsx-fixture.js';
import type { OutboxPackage, PackageManifest } from '../render/package.js';
import { sqlString, withDuck } from '../lake/duckdb.js';
import { metaDir, contractPath } from '../lake/layout.js';
import { type PartnerConfig, readPartnerConfig } from '../partners/config.js';
import { type GateResult, anomalyBaseline, compareColumns, gatesBlocked, runGates, summarizeGates, toMicros } from './gates.js';
import { recordReportHistory } from '../records/history.js';

let home: string;
let cleanup: () => Promise<void>;
let config: PartnerConfig;
beforeEach(async () => {
  ({ home, cleanup } = await makeTempHome());
  config = readPartnerConfig(home, 'ouchhungry').config;
});
afterEach(async () => cleanup());

const dailyColumns = [
  { name: 'sale_date', type: 'DATE' },
  { name: 'order_key', type: 'VARCHAR' },
  { name: 'product_code', type: 'VARCHAR' },
  { name: 'city', type: 'VARCHAR' },
  { name: 'units', type: 'INTEGER' },
  { name: 'line_total', type: 'DECIMAL(12,2)' },
];

interface PackageSpec {
  report?: string;
  period?: string;
  /** SELECT producing the rows (rendered to csv, parquet and json). */
  select?: string;
  columns?: { name: string; type: string }[];
  summary?: Record<string, number | string | null>;
  extraFiles?: Record<string, string>;
}

const defaultSelect = `SELECT DATE '2026-11-20' AS sale_date, 'a3f9c2e1b4d5a3f9c2e1b4d5a3f9c2e1b4d5a3f9c2e1b4d5a3f9c2e1b4d5a3f9' AS order_key, 'HUN-001' AS product_code, 'Campinas' AS city, 3 AS units, 19.50::DECIMAL(12,2) AS line_total
  UNION ALL SELECT DATE '2026-11-20', 'b4d5a3f9c2e1b4d5a3f9c2e1b4d5a3f9c2e1b4d5a3f9c2e1b4d5a3f9c2e1b4d5', 'OUC-002', 'São Paulo', 2, 12345.00`;

/** A real outbox package: CSV (;, decimal comma), Parquet and JSON rendered by DuckDB, plus manifest.json. */
async function makePackage(spec: PackageSpec = {}): Promise<OutboxPackage> {
  const report = spec.report ?? 'daily-analytic';
  const period = spec.period ?? '2026-11-20';
  const dir = join(home, 'outbox', 'ouchhungry', report, period);
  await mkdir(dir, { recursive: true });
  const base = `ouchhungry_${report}_${period}`;
  const files = await withDuck(async (duck) => {
    const select = spec.select ?? defaultSelect;
    await duck.run(`COPY (${select}) TO ${sqlString(join(dir, `${base}.csv`))} (FORMAT csv, DELIMITER ';', HEADER true)`);
    await duck.run(`COPY (${select}) TO ${sqlString(join(dir, `${base}.parquet`))} (FORMAT parquet)`);
    await duck.run(`COPY (${select}) TO ${sqlString(join(dir, `${base}.json`))} (FORMAT json, ARRAY true)`);
    const [{ n }] = await duck.json<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM (${select})`);
    return ['csv', 'parquet', 'json'].map((format) => ({ name: `${base}.${format}`, bytes: 1, sha256: 'f'.repeat(64), format, rows: n }));
  });
  for (const [name, text] of Object.entries(spec.extraFiles ?? {})) {
    await writeFile(join(dir, name), text);
    files.push({ name, bytes: text.length, sha256: 'e'.repeat(64), format: name.split('.').pop()!, rows: 1 });
  }
  const manifest: PackageManifest = {
    partner: 'ouchhungry',
    report,
    period,
    rows: files[0]!.rows,
    files,
    columns: spec.columns ?? dailyColumns,
    summary: spec.summary ?? { units: 5, revenue: '12364.50', silver_units: 5, silver_revenue: '12364.50', gold_units: 5, gold_revenue: '12364.50', suppressed_units: 0, suppressed_revenue: '0.00' },
    generated_at: '2026-11-21T09:31:00.000Z',
    tool_version: '0.1.0',
  };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  await writeFile(join(dir, 'SHA256SUMS'), `${'f'.repeat(64)}  ${base}.csv\n`);
  return { dir, manifest };
}

async function writeCleanSummaries(day: string, rates: Partial<Record<'customers' | 'products' | 'transactions', [number, number]>> = {}): Promise<void> {
  for (const table of ['customers', 'products', 'transactions'] as const) {
    const [rowsIn, quarantined] = rates[table] ?? [1000, 10];
    const path = metaDir(home, 'quality', table, `date=${day}.json`);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, JSON.stringify({ rows_in: rowsIn, rows_silver: rowsIn - quarantined, rows_quarantined: quarantined, rows_duplicate: 0, rules: {} }));
  }
}

const byGate = (results: GateResult[]) => Object.fromEntries(results.map((result) => [result.gate, result]));

describe('runGates', () => {
  it('passes a clean package on its first build, recording the contract', async () => {
    await writeCleanSummaries('2026-11-20');
    const pkg = await makePackage();
    const results = await runGates({ home, config, package: pkg, runId: 'run-1', now: new Date('2026-11-21T09:31:00Z') });
    const gates = byGate(results);
    expect(Object.keys(gates)).toEqual(['not-empty', 'reconciliation', 'quarantine-rate', 'anomaly', 'contract', 'pii']);
    expect(results.filter((result) => result.status !== 'pass')).toEqual([]);
    expect(gates.anomaly!.detail).toMatch(/not enough history: 0 of 3 same weekdays/);
    expect(gates.contract!.detail).toMatch(/first build/);
    expect(gatesBlocked(results)).toBe(false);
    const contract = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(contractPath(home, 'ouchhungry', 'daily-analytic'), 'utf8')));
    expect(contract.columns).toEqual(dailyColumns);
  });

  it('fails an empty report', async () => {
    const pkg = await makePackage({ select: `SELECT * FROM (${defaultSelect}) WHERE false` });
    const gates = byGate(await runGates({ home, config, package: pkg }));
    expect(gates['not-empty']).toMatchObject({ status: 'fail', figures: { rows: 0 } });
  });

  it('checks gold against silver to the cent, with suppressed figures, and warns without figures', async () => {
    const pkg = await makePackage();
    const ok = await runGates({ home, config, package: pkg, reconciliation: { silver_units: 10, silver_revenue: '100.30', gold_units: 7, gold_revenue: '70.10', suppressed_units: 3, suppressed_revenue: '30.20' } });
    expect(byGate(ok).reconciliation!.status).toBe('pass');
    const bad = await runGates({ home, config, package: pkg, reconciliation: { silver_units: 10, silver_revenue: '100.30', gold_units: 10, gold_revenue: '100.29' } });
    expect(byGate(bad).reconciliation).toMatchObject({ status: 'fail', figures: { revenue_difference: '0.01', units_difference: '0' } });
    const none = await runGates({ home, config, package: { ...pkg, manifest: { ...pkg.manifest, summary: {} } } });
    expect(byGate(none).reconciliation!.status).toBe('warn');
    expect(toMicros('0.1')! + toMicros(0.2)!).toBe(toMicros('0.3'));
  });

  it('blocks when a table quarantines more than the threshold, summed over the days of a month', async () => {
    await writeCleanSummaries('2026-11-20', { transactions: [1000, 80] });
    const daily = byGate(await runGates({ home, config, package: await makePackage() }));
    expect(daily['quarantine-rate']).toMatchObject({ status: 'fail' });
    expect(daily['quarantine-rate']!.detail).toContain('transactions quarantined 80 of 1000 rows (8.00%, limit 5.00%)');
    await writeCleanSummaries('2026-10-01', { transactions: [1000, 90] });
    await writeCleanSummaries('2026-10-02', { transactions: [1000, 0] });
    const monthly = byGate(await runGates({ home, config, package: await makePackage({ report: 'monthly-by-city', period: '2026-10' }) }));
    expect(monthly['quarantine-rate']).toMatchObject({ status: 'pass', figures: { tables: { transactions: { rows_in: 2000, rows_quarantined: 90, days: 2 } } } });
    const missing = byGate(await runGates({ home, config, package: await makePackage({ period: '2026-11-19' }) }));
    expect(missing['quarantine-rate']!.status).toBe('warn');
  });

  it('flags volume and revenue outside the band of the trailing same-weekday median', async () => {
    // 2026-11-20 is a Friday: the three previous Fridays form the baseline; a Thursday is ignored.
    for (const [period, revenue] of [['2026-10-30', 12000], ['2026-11-06', 12500], ['2026-11-13', 13000], ['2026-11-19', 1]] as const) {
      await recordReportHistory(home, { partner: 'ouchhungry', report: 'daily-analytic', period, figures: { rows: 2, units: 5, revenue }, runId: 'old' });
    }
    const normal = byGate(await runGates({ home, config, package: await makePackage() }));
    expect(normal.anomaly).toMatchObject({ status: 'pass', figures: { history: 3, periods: ['2026-11-13', '2026-11-06', '2026-10-30'] } });
    const low = await makePackage({ summary: { units: 5, revenue: '3000.00' } });
    const blocked = byGate(await runGates({ home, config, package: low }));
    expect(blocked.anomaly).toMatchObject({ status: 'fail' });
    expect(blocked.anomaly!.detail).toContain('revenue 3000 is 76% below the median 12500 of the last 3 same weekdays');
    const warnOnly = { ...config, quality: { ...config.quality, anomaly_action: 'warn' as const } };
    expect(byGate(await runGates({ home, config: warnOnly, package: low })).anomaly!.status).toBe('warn');
    expect(anomalyBaseline([], '2026-11')).toEqual([]);
  });

  it('blocks a removed or retyped contracted column and warns on an added one', async () => {
    await runGates({ home, config, package: await makePackage() });
    const renamed = dailyColumns.map((column) => (column.name === 'city' ? { ...column, name: 'cidade' } : column));
    const removed = byGate(await runGates({ home, config, package: await makePackage({ columns: renamed }) }));
    expect(removed.contract).toMatchObject({ status: 'fail', figures: { removed: ['city'], added: ['cidade'] } });
    const retyped = dailyColumns.map((column) => (column.name === 'units' ? { ...column, type: 'BIGINT' } : column));
    expect(byGate(await runGates({ home, config, package: await makePackage({ columns: retyped }) })).contract!.detail).toContain('retyped units INTEGER -> BIGINT');
    const added = byGate(await runGates({ home, config, package: await makePackage({ columns: [...dailyColumns, { name: 'segment', type: 'VARCHAR' }] }) }));
    expect(added.contract).toMatchObject({ status: 'warn', detail: 'added columns segment' });
    expect(compareColumns([{ name: 'a', type: 'INT' }, { name: 'b', type: 'INT' }], [{ name: 'b', type: 'int' }, { name: 'a', type: 'INT' }]).reordered).toBe(true);
  });

  it('finds e-mails, CPFs, CNPJs, phones and CEPs in CSV, Parquet and JSON, and personal column names', async () => {
    const leak = `SELECT 'maria.silva@example.com' AS note, '529.982.247-25' AS doc, '11222333000181' AS company, '(11) 98765-4321' AS phone, '01310-100' AS cep`;
    const pkg = await makePackage({ select: leak, columns: [{ name: 'note', type: 'VARCHAR' }] });
    const pii = byGate(await runGates({ home, config, package: pkg })).pii!;
    expect(pii.status).toBe('fail');
    const byFile = (pii.figures as { by_file: Record<string, Record<string, number>> }).by_file;
    for (const format of ['csv', 'parquet', 'json']) {
      expect(byFile[`ouchhungry_daily-analytic_2026-11-20.${format}`]).toMatchObject({ email: 1, cpf: 1, cnpj: 1, phone: 1, cep: 1 });
    }
    // The values themselves never reach the detail or the figures.
    expect(JSON.stringify(pii)).not.toContain('maria.silva');

    const columns = byGate(await runGates({ home, config, package: await makePackage({ columns: [...dailyColumns, { name: 'email', type: 'VARCHAR' }] }) })).pii!;
    expect(columns).toMatchObject({ status: 'fail', figures: { direct_columns: ['email'] } });
  });

  it('counts bare 11-digit numbers only when they are valid CPFs', async () => {
    const invalid = await makePackage({ select: `SELECT '12345678900' AS code, 20261120 AS day_number` });
    expect(byGate(await runGates({ home, config, package: invalid })).pii!.status).toBe('pass');
    const valid = await makePackage({ select: `SELECT '52998224725' AS code` });
    expect(byGate(await runGates({ home, config, package: valid })).pii).toMatchObject({ status: 'fail' });
  });

  it('scans XLSX deliverables too', async () => {
    const pkg = await makePackage();
    await writeTestXlsx(join(pkg.dir, 'ouchhungry_daily-analytic_2026-11-20.xlsx'), [['city', 'contact'], ['Campinas', 'joao@example.com.br']], { sharedStrings: true });
    const pii = byGate(await runGates({ home, config, package: pkg })).pii!;
    expect(pii).toMatchObject({ status: 'fail', figures: { by_file: { 'ouchhungry_daily-analytic_2026-11-20.xlsx': { email: 1 } } } });
  });

  it('blocks CPFs and phones in any layout, and a CR inside a value is scanned, not a crash (issue 8, observation 5)', async () => {
    for (const value of ['Campinas 529 982 247 25', 'cpf52998224725', 'Itu 11 98765 4321', '011 98765-4321', 'Sorocaba\r\nQ0.SLF.MBD/7VX4-39']) {
      const select = `SELECT DATE '2026-11-20' AS sale_date, 'HUN-001' AS product_code, ${sqlString(value)} AS city, 3 AS units`;
      const pii = byGate(await runGates({ home, config, package: await makePackage({ select }) })).pii!;
      expect(pii.status, value).toBe('fail');
      expect(pii.detail, value).toMatch(/city \((cpf|phone|cnpj) 1\)/);
      expect(pii.detail).not.toContain('could not run');
      expect(JSON.stringify(pii)).not.toContain(value.slice(-5));
    }
  });

  it("blocks a silver customer's name and raw id inside a gold value (observation 5)", async () => {
    const customers = join(home, 'silver', 'customers', 'date=2026-11-01');
    await mkdir(customers, { recursive: true });
    await withDuck((duck) => duck.run(`COPY (SELECT 'C0000042' AS customer_id, 'Ana Lima' AS name, 'ana.lima@example.com' AS email, '52998224725' AS cpf) TO ${sqlString(join(customers, 'data.parquet'))} (FORMAT parquet)`));
    const clean = byGate(await runGates({ home, config, package: await makePackage() })).pii!;
    expect(clean.status).toBe('pass');
    const select = `SELECT DATE '2026-11-20' AS sale_date, 'HUN-001' AS product_code, 'Campinas ANA lima c0000042' AS city, 3 AS units`;
    const pii = byGate(await runGates({ home, config, package: await makePackage({ select }) })).pii!;
    expect(pii.status).toBe('fail');
    expect(pii.detail).toContain('values of silver customers in gold: city (customer-id 1, customer-name 1)');
    expect(JSON.stringify(pii)).not.toMatch(/ana|c0000042/i);
  });

  it('checks k-anonymity of the monthly report on its Parquet file', async () => {
    const columns = [{ name: 'city', type: 'VARCHAR' }, { name: 'units_sold', type: 'BIGINT' }, { name: 'customers_reached', type: 'BIGINT' }];
    const safe = await makePackage({ report: 'monthly-by-city', period: '2026-10', columns, select: `SELECT 'Campinas' AS city, 40 AS units_sold, 12 AS customers_reached UNION ALL SELECT 'OUTRAS', 9, 11` });
    expect(byGate(await runGates({ home, config, package: safe }))['k-anonymity']).toMatchObject({ status: 'pass', figures: { k: 11, cells: 2 } });
    const leaky = await makePackage({ report: 'monthly-by-city', period: '2026-10', columns, select: `SELECT 'Campinas' AS city, 40 AS units_sold, 12 AS customers_reached UNION ALL SELECT 'Itu', 3, 2 UNION ALL SELECT 'Sorocaba', 5, NULL` });
    const gate = byGate(await runGates({ home, config, package: leaky }))['k-anonymity']!;
    expect(gate).toMatchObject({ status: 'fail', figures: { below_k: 1, unsized: 1, min_customers_reached: 2 } });
    expect(summarizeGates([gate])).toContain('k-anonymity (fail): 1 cells have fewer than k=11 customers');
  });
});
