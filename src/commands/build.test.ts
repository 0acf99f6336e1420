import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempHome, testContext } from '../../test/helpers.js';
import { ConfigError, UsageError } from '../errors.js';
import { GOLDEN_PARTNER_YAML, GOLDEN_SECRET, goldenDir, writeGoldenSilver } from '../../test/reports/golden-silver.js';
import { build } from './build.js';

let home: string;
let cleanup: () => Promise<void>;
const saved = { ...process.env };

beforeAll(async () => {
  ({ home, cleanup } = await makeTempHome('dataprod-build-cmd-'));
  await writeGoldenSilver(home);
  // The partner file under <home>/partners wins over the bundled one (k = 5 here).
  await mkdir(join(home, 'partners'), { recursive: true });
  await writeFile(join(home, 'partners', 'ouchhungry.yaml'), GOLDEN_PARTNER_YAML);
  // The key the golden outputs were computed with, from the documented environment fallback.
  process.env.DATAPROD_NO_KEYCHAIN = '1';
  process.env.DATAPROD_OUCHHUNGRY_PSEUDONYM_KEY = GOLDEN_SECRET;
});
afterAll(async () => {
  process.env = saved;
  await cleanup();
});

// 2026-11-21 12:00 UTC: yesterday in São Paulo is 2026-11-20.
const context = () => testContext(home, new Date('2026-11-21T12:00:00Z'));

describe('dataprod build', () => {
  it('builds the daily report for yesterday by default, with a table per package', async () => {
    const result = await build({ partner: 'ouchhungry' }, context());
    expect(result.data.reports.map((built) => `${built.report} ${built.period}`)).toEqual(['daily-analytic 2026-11-20']);
    expect(result.text).toContain('daily-analytic 2026-11-20: 4 rows');
    expect(result.text).toContain('ouchhungry_daily-analytic_2026-11-20.xlsx');
    expect(result.text).toContain('units 7, revenue 54.20');
    const csv = await readFile(join(result.data.reports[0]!.outbox.dir, 'ouchhungry_daily-analytic_2026-11-20.csv'), 'utf8');
    expect(csv.replace(/^\uFEFF/, '')).toBe(await readFile(join(goldenDir, 'expected', 'ouchhungry_daily-analytic_2026-11-20.csv'), 'utf8'));
  });

  it('--report monthly-by-city builds the previous month; --month picks one', async () => {
    const december = testContext(home, new Date('2026-12-02T12:00:00Z'));
    const previous = await build({ partner: 'ouchhungry', report: 'monthly-by-city' }, december);
    expect(previous.data.reports.map((built) => `${built.report} ${built.period}`)).toEqual(['monthly-by-city 2026-11']);
    expect(previous.text).toContain('k=5: 2 cells merged into OUTRAS, 2 suppressed, 1 rows with shares withheld');
    const october = await build({ partner: 'ouchhungry', month: '2026-10' }, context());
    expect(october.data.reports.map((built) => `${built.report} ${built.period}`)).toEqual(['monthly-by-city 2026-10']);
  });

  it('--date and --month together build both', async () => {
    const result = await build({ partner: 'ouchhungry', date: '2026-11-20', month: '2026-11' }, context());
    expect(result.data.reports.map((built) => built.report)).toEqual(['daily-analytic', 'monthly-by-city']);
    // --json prints this object: plain data, serialisable.
    expect(JSON.parse(JSON.stringify(result.data)).reports[1].reconciliation).toEqual({
      silver_units: 45, silver_revenue: '334.60', gold_units: 36, gold_revenue: '280.60', suppressed_units: 9, suppressed_revenue: '54.00',
    });
  });

  it('refuses an unknown report and flags that do not fit the report (exit 64)', async () => {
    await expect(build({ partner: 'ouchhungry', report: 'weekly' }, context())).rejects.toBeInstanceOf(UsageError);
    await expect(build({ partner: 'ouchhungry', report: 'monthly-by-city', date: '2026-11-20' }, context())).rejects.toBeInstanceOf(UsageError);
    await expect(build({ partner: 'ouchhungry', report: 'daily-analytic', month: '2026-11' }, context())).rejects.toBeInstanceOf(UsageError);
  });

  it('an unknown partner is a configuration error (exit 78)', async () => {
    const error = await build({ partner: 'nobody' }, context()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(78);
  });

  it('reads a configuration file given with --config', async () => {
    const file = join(home, 'other.yaml');
    await writeFile(file, GOLDEN_PARTNER_YAML.replace('formats: [csv, parquet, json, xlsx]', 'formats: [json]'));
    const result = await build({ partner: 'ouchhungry', date: '2026-11-20', config: file }, context());
    expect(result.data.reports[0]!.outbox.manifest.files.map((f) => f.format)).toEqual(['json', 'insights', 'html', 'dictionary']);
  });
});
