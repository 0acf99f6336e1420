import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { readXlsx } from '../../test/xlsx-reader.js';
import { ConfigError } from '../errors.js';
import { withDuck, sqlString } from '../lake/duckdb.js';
import { metaDir } from '../lake/layout.js';
import { parsePartnerConfig } from '../partners/config.js';
import { hashFile, parseSha256Sums } from '../render/index.js';
import { buildReports, planReports } from './build-reports.js';
import { GOLDEN_PARTNER_YAML, GOLDEN_SECRET, goldenDir, goldenPartnerConfig, writeGoldenSilver } from '../../test/reports/golden-silver.js';

let home: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ home, cleanup } = await makeTempHome('dataprod-build-'));
  await writeGoldenSilver(home);
});
afterAll(async () => cleanup());

const now = new Date('2026-12-01T12:00:00Z');

function buildBoth(options: { secret?: string } = {}) {
  return buildReports({ home, config: goldenPartnerConfig(), date: '2026-11-20', month: '2026-11', secret: options.secret ?? GOLDEN_SECRET, now });
}

/** Every raw identifier and personal value of the golden silver dataset. */
async function personalValues(): Promise<string[]> {
  const text = async (name: string) => (await readFile(join(goldenDir, 'silver', `${name}.csv`), 'utf8')).trim().split('\n').slice(1);
  const values = new Set<string>();
  for (const line of await text('customers')) {
    const [, id, name, email, cpf, phone, cep] = line.split(',');
    for (const value of [id, name, email, cpf, phone, cep]) values.add(value!);
  }
  for (const line of await text('transactions')) values.add(line.split(',')[0]!);
  return [...values];
}

describe('buildReports', () => {
  it('builds both reports with every format, and each reads back', async () => {
    const result = await buildBoth();
    expect(result.partner).toBe('ouchhungry');
    expect(result.reports.map((built) => [built.report, built.period])).toEqual([
      ['daily-analytic', '2026-11-20'],
      ['monthly-by-city', '2026-11'],
    ]);
    for (const built of result.reports) {
      const base = join(built.outbox.dir, `ouchhungry_${built.report}_${built.period}`);
      expect(built.gold).toBe(join(home, 'gold', 'ouchhungry', built.report, built.period, 'data.parquet'));
      expect(built.outbox.dir).toBe(join(home, 'outbox', 'ouchhungry', built.report, built.period));
      const columns = built.outbox.manifest.columns;
      const counts = await withDuck(async (duck) => {
        const fromCsv = await duck.all<{ n: bigint }>(
          `SELECT count(*) AS n FROM read_csv(${sqlString(`${base}.csv`)}, delim = ';', decimal_separator = ',', header = true)`,
        );
        const fromParquet = await duck.all<{ n: bigint }>(`SELECT count(*) AS n FROM read_parquet(${sqlString(`${base}.parquet`)})`);
        const csvColumns = await duck.all<{ column_name: string }>(`DESCRIBE SELECT * FROM read_csv(${sqlString(`${base}.csv`)}, delim = ';', decimal_separator = ',', header = true)`);
        return { csv: Number(fromCsv[0]!.n), parquet: Number(fromParquet[0]!.n), csvColumns: csvColumns.map((column) => column.column_name) };
      });
      expect(counts.csv).toBe(built.rows);
      expect(counts.parquet).toBe(built.rows);
      expect(counts.csvColumns).toEqual(columns.map((column) => column.name));
      const json = JSON.parse(await readFile(`${base}.json`, 'utf8')) as Record<string, unknown>[];
      expect(json).toHaveLength(built.rows);
      expect(Object.keys(json[0]!)).toEqual(columns.map((column) => column.name));
      const [sheet] = await readXlsx(`${base}.xlsx`);
      expect(sheet!.rows).toHaveLength(built.rows + 1);
      expect(sheet!.rows[0]!.map((cell) => cell?.value)).toEqual(columns.map((column) => column.name));
    }
    const monthly = result.reports[1]!;
    const json = JSON.parse(await readFile(join(monthly.outbox.dir, 'ouchhungry_monthly-by-city_2026-11.json'), 'utf8')) as Record<string, unknown>[];
    expect(json[1]).toMatchObject({ city: 'São Paulo', units_sold: 14, gross_revenue: 83.4, segment_share_units: 0.5385, units_mom_change: 4 });
  });

  it('puts no raw id, name, e-mail, CPF, phone or CEP in any file of the outbox or gold', async () => {
    const result = await buildBoth();
    const secrets = await personalValues();
    expect(secrets.length).toBeGreaterThan(60);
    const files: string[] = [];
    for (const built of result.reports) {
      files.push(built.gold);
      for (const name of await readdir(built.outbox.dir)) files.push(join(built.outbox.dir, name));
    }
    for (const file of files) {
      const bytes = await readFile(file);
      // XLSX is a zip: its cells are compressed, so read them back as well.
      const texts = [bytes.toString('utf8')];
      if (file.endsWith('.xlsx')) for (const sheet of await readXlsx(file)) for (const row of sheet.rows) texts.push(JSON.stringify(row.map((cell) => cell?.value)));
      if (file.endsWith('.parquet')) {
        texts.push(JSON.stringify(await withDuck((duck) => duck.json(`SELECT * FROM read_parquet(${sqlString(file)})`))));
      }
      for (const value of secrets) for (const text of texts) expect(text.includes(value), `${value} in ${file}`).toBe(false);
      for (const text of texts) expect(text).not.toContain(GOLDEN_SECRET);
    }
  });

  it('writes manifest checksums that match the files, and SHA256SUMS that match manifest.json too', async () => {
    const result = await buildBoth();
    for (const built of result.reports) {
      const manifest = JSON.parse(await readFile(join(built.outbox.dir, 'manifest.json'), 'utf8'));
      expect(manifest).toEqual(built.outbox.manifest);
      for (const file of manifest.files) expect(await hashFile(join(built.outbox.dir, file.name))).toEqual({ sha256: file.sha256, bytes: file.bytes });
      const sums = parseSha256Sums(await readFile(join(built.outbox.dir, 'SHA256SUMS'), 'utf8'));
      expect(sums.size).toBe(manifest.files.length + 1);
      for (const [name, sha256] of sums) expect((await hashFile(join(built.outbox.dir, name))).sha256).toBe(sha256);
      expect(manifest.summary).toMatchObject({
        silver_units: built.reconciliation.silver_units,
        gold_units: built.reconciliation.gold_units,
        suppressed_units: built.reconciliation.suppressed_units,
      });
    }
  });

  it('renders the same data files byte for byte when nothing changed (the delivery ledger compares SHA-256)', async () => {
    const digests = (result: Awaited<ReturnType<typeof buildBoth>>) => result.reports.flatMap((built) => built.outbox.manifest.files.map((file) => `${file.name} ${file.sha256}`));
    const first = digests(await buildBoth());
    expect(digests(await buildBoth())).toEqual(first);
  });

  it('re-building replaces the outbox package and the gold file, leaving nothing stale', async () => {
    const first = await buildBoth();
    const daily = first.reports[0]!;
    await writeFile(join(daily.outbox.dir, 'stale.csv'), 'old');
    const config = parsePartnerConfig(GOLDEN_PARTNER_YAML.replace('formats: [csv, parquet, json, xlsx]', 'formats: [csv]'), 'test.yaml');
    const second = await buildReports({ home, config, date: '2026-11-20', reports: ['daily-analytic'], secret: GOLDEN_SECRET, now });
    expect((await readdir(second.reports[0]!.outbox.dir)).sort()).toEqual(['SHA256SUMS', 'dictionary.json', 'insights.html', 'insights.json', 'manifest.json', 'ouchhungry_daily-analytic_2026-11-20.csv']);
    expect(existsSync(second.reports[0]!.gold)).toBe(true);
    const siblings = await readdir(join(home, 'outbox', 'ouchhungry', 'daily-analytic'));
    expect(siblings.filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('observation 2: never creates a pseudonymization key: none stored is 78 before any work, and nothing is written', async () => {
    const previous = process.env.DATAPROD_NO_KEYCHAIN;
    process.env.DATAPROD_NO_KEYCHAIN = '1';
    const local = await makeTempHome('dataprod-build-key-');
    try {
      await writeGoldenSilver(local.home, { from: '2026-11-20', to: '2026-11-20' });
      const error = await buildReports({ home: local.home, config: goldenPartnerConfig(), date: '2026-11-20', reports: ['daily-analytic'], now }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).exitCode).toBe(78);
      expect((error as ConfigError).hint).toContain('dataprod secrets rotate-key --partner ouchhungry');
      expect(existsSync(metaDir(local.home, 'secrets', 'ouchhungry-pseudonym-key'))).toBe(false);
      expect(existsSync(join(local.home, 'gold'))).toBe(false);
      const weak = await buildReports({ home: local.home, config: goldenPartnerConfig(), date: '2026-11-20', reports: ['daily-analytic'], secret: 'abcd', now }).catch((caught: unknown) => caught);
      expect((weak as ConfigError).exitCode).toBe(78);
    } finally {
      if (previous === undefined) delete process.env.DATAPROD_NO_KEYCHAIN;
      else process.env.DATAPROD_NO_KEYCHAIN = previous;
      await local.cleanup();
    }
  });
});

describe('planReports', () => {
  const config = goldenPartnerConfig();
  const plan = (options: Parameters<typeof planReports>[0]) => planReports(options).map(({ definition, period }) => `${definition.name} ${period}`);

  it('defaults to the daily report for yesterday in São Paulo', () => {
    // 02:00 UTC on 1 December is still 30 November in São Paulo: yesterday is the 29th.
    expect(plan({ config, now: new Date('2026-12-01T02:00:00Z') })).toEqual(['daily-analytic 2026-11-29']);
  });

  it('builds the monthly report when a month is given, and both with a date and a month', () => {
    expect(plan({ config, month: '2026-10', now })).toEqual(['monthly-by-city 2026-10']);
    expect(plan({ config, date: '2026-11-20', month: '2026-10', now })).toEqual(['daily-analytic 2026-11-20', 'monthly-by-city 2026-10']);
  });

  it('defaults the monthly period to the previous month', () => {
    expect(plan({ config, reports: ['monthly-by-city'], now: new Date('2026-12-01T12:00:00Z') })).toEqual(['monthly-by-city 2026-11']);
    expect(plan({ config, reports: ['monthly-by-city'], now: new Date('2026-01-01T12:00:00Z') })).toEqual(['monthly-by-city 2025-12']);
  });

  it('skips a disabled report by default, and refuses it when asked for by name', () => {
    const disabled = parsePartnerConfig(GOLDEN_PARTNER_YAML.replace('  monthly-by-city:\n', '  monthly-by-city:\n    enabled: false\n'), 'test.yaml');
    expect(plan({ config: disabled, date: '2026-11-20', month: '2026-11', now })).toEqual(['daily-analytic 2026-11-20']);
    expect(() => planReports({ config: disabled, reports: ['monthly-by-city'], now })).toThrow(ConfigError);
  });
});
