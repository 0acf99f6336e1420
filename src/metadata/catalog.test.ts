import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { sqlString, withDuck } from '../lake/duckdb.js';
import { bronzeDir, goldFile, quarantineFile, silverFile, catalogPath } from '../lake/layout.js';
import { classifyColumn, datasetNameForPath, describeDataFile, readCatalog, recordCleanDatasets, recordDataFile, recordDataset, recordPackageDatasets, searchCatalog } from './catalog.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome()));
afterEach(async () => cleanup());

describe('classifyColumn', () => {
  it('applies the rule table: direct, indirect, none', () => {
    for (const column of ['email', 'cpf', 'phone', 'cep', 'customer_id', 'transaction_id']) expect(classifyColumn(column, { dataset: 'silver.customers/date=2026-11-20' }), column).toBe('direct');
    expect(classifyColumn('name', { dataset: 'silver.customers/date=2026-11-20' })).toBe('direct');
    // A product's name is not personal.
    expect(classifyColumn('name', { dataset: 'silver.products/date=2026-11-20' })).toBe('none');
    for (const column of ['city', 'state', 'created_at', 'customer_key', 'order_key']) expect(classifyColumn(column), column).toBe('indirect');
    for (const column of ['product_code', 'units', 'unit_price', 'segment']) expect(classifyColumn(column), column).toBe('none');
  });

  it('lets overrides win, per column or per dataset and column', () => {
    expect(classifyColumn('city', { overrides: { city: 'none' } })).toBe('none');
    expect(classifyColumn('city', { dataset: 'gold.ouchhungry.monthly-by-city/2026-10', overrides: { 'gold.ouchhungry.monthly-by-city.city': 'none' } })).toBe('none');
    expect(classifyColumn('city', { dataset: 'silver.customers/date=2026-11-20', overrides: { 'gold.ouchhungry.monthly-by-city.city': 'none' } })).toBe('indirect');
  });
});

describe('catalog', () => {
  it('names datasets after the lake layout', () => {
    expect(datasetNameForPath(home, silverFile(home, 'transactions', '2026-11-20'))).toBe('silver.transactions/date=2026-11-20');
    expect(datasetNameForPath(home, join(bronzeDir(home, 'customers', '2026-11-20'), 'customers.csv'))).toBe('bronze.customers/date=2026-11-20');
    expect(datasetNameForPath(home, goldFile(home, 'ouchhungry', 'daily-analytic', '2026-11-20'))).toBe('gold.ouchhungry.daily-analytic/2026-11-20');
    expect(datasetNameForPath(home, 'outbox/ouchhungry/monthly-by-city/2026-10/x.csv')).toBe('deliverable.ouchhungry.monthly-by-city/2026-10/x.csv');
  });

  it('records a dataset with PII classes, tags and checksum, replacing it on a rerun', async () => {
    const entry = await recordDataset(home, {
      layer: 'silver',
      path: silverFile(home, 'customers', '2026-11-20'),
      schema: [{ name: 'customer_id', type: 'VARCHAR' }, { name: 'email', type: 'VARCHAR' }, { name: 'city', type: 'VARCHAR' }, { name: 'created_at', type: 'TIMESTAMP WITH TIME ZONE' }],
      rows: 5000,
      checksum: 'ab'.repeat(32),
      tags: ['nightly'],
      runId: 'run-1',
      now: new Date('2026-11-21T09:30:00Z'),
    });
    expect(entry).toMatchObject({
      name: 'silver.customers/date=2026-11-20',
      path: 'silver/customers/date=2026-11-20/data.parquet',
      pii: 'direct',
      checksum: `sha256:${'ab'.repeat(32)}`,
      rows: 5000,
      run_id: 'run-1',
    });
    expect(entry.schema.map((column) => column.pii)).toEqual(['direct', 'direct', 'indirect', 'indirect']);
    expect(entry.tags).toEqual(['core-domain', 'cleaned', 'customer-data', 'nightly', 'contains-pii']);
    await recordDataset(home, { layer: 'silver', path: silverFile(home, 'customers', '2026-11-20'), schema: [], rows: 5001, checksum: null });
    const catalog = await readCatalog(home);
    expect(Object.keys(catalog.datasets)).toEqual(['silver.customers/date=2026-11-20']);
    expect(catalog.datasets['silver.customers/date=2026-11-20']!.rows).toBe(5001);
    expect(catalogPath(home)).toBe(`${home}/_meta/catalog/catalog.json`);
  });

  it('takes PII overrides from <home>/_meta/catalog/pii-overrides.json', async () => {
    await mkdir(join(home, '_meta', 'catalog'), { recursive: true });
    await writeFile(join(home, '_meta', 'catalog', 'pii-overrides.json'), JSON.stringify({ segment: 'indirect' }));
    const entry = await recordDataset(home, { layer: 'gold', path: goldFile(home, 'ouchhungry', 'monthly-by-city', '2026-10'), schema: [{ name: 'segment', type: 'VARCHAR' }], rows: 1, checksum: null });
    expect(entry.schema[0]!.pii).toBe('indirect');
  });

  it('describes Parquet and CSV files with DuckDB and records them', async () => {
    const parquet = silverFile(home, 'transactions', '2026-11-20');
    await mkdir(join(parquet, '..'), { recursive: true });
    await withDuck((duck) => duck.run(`COPY (SELECT 't' || i AS transaction_id, i::INTEGER AS quantity, (i * 1.5)::DECIMAL(12,2) AS unit_price FROM range(3) r(i)) TO ${sqlString(parquet)} (FORMAT parquet)`));
    const described = await describeDataFile(parquet);
    expect(described).toMatchObject({ format: 'parquet', rows: 3, schema: [{ name: 'transaction_id', type: 'VARCHAR' }, { name: 'quantity', type: 'INTEGER' }, { name: 'unit_price', type: 'DECIMAL(12,2)' }] });
    expect(described.checksum).toBe(`sha256:${createHash('sha256').update(await readFile(parquet)).digest('hex')}`);
    const csv = join(home, 'x.csv');
    await writeFile(csv, 'a;b\n1;x\n2;y\n');
    expect(await describeDataFile(csv, { csv: { delimiter: ';', header: true, allVarchar: true } })).toMatchObject({ rows: 2, schema: [{ name: 'a', type: 'VARCHAR' }, { name: 'b', type: 'VARCHAR' }] });
    const entry = await recordDataFile(home, parquet, { layer: 'silver' });
    expect(entry).toMatchObject({ name: 'silver.transactions/date=2026-11-20', rows: 3, tags: ['core-domain', 'cleaned', 'sales', 'contains-pii'] });
    expect(entry.schema.find((column) => column.name === 'transaction_id')!.pii).toBe('direct');
  });

  it('records the cleaned days (bronze from _source.json, silver and quarantine from Parquet) and a built package', async () => {
    const day = '2026-11-20';
    const bronze = bronzeDir(home, 'products', day);
    await mkdir(bronze, { recursive: true });
    await writeFile(join(bronze, 'products.csv'), 'product_code,name\nHUN-1,Hungry Cola\n');
    await writeFile(join(bronze, '_source.json'), JSON.stringify({ file: 'products.csv', format: 'csv', columns: ['product_code', 'name'], extra_columns: ['promo'], rows: 1, sha256: 'cd'.repeat(32) }));
    for (const path of [silverFile(home, 'products', day), quarantineFile(home, 'products', day)]) {
      await mkdir(join(path, '..'), { recursive: true });
      await withDuck((duck) => duck.run(`COPY (SELECT 'HUN-1' AS product_code, 'Hungry Cola' AS name) TO ${sqlString(path)} (FORMAT parquet)`));
    }
    const cleaned = await recordCleanDatasets(home, [day], { runId: 'run-1' });
    expect(cleaned.map((entry) => entry.name)).toEqual(['bronze.products/date=2026-11-20', 'silver.products/date=2026-11-20', 'quarantine.products/date=2026-11-20']);
    expect(cleaned[0]).toMatchObject({ rows: 1, checksum: `sha256:${'cd'.repeat(32)}`, schema: [{ name: 'product_code' }, { name: 'name' }, { name: 'promo' }] });

    const gold = goldFile(home, 'ouchhungry', 'daily-analytic', day);
    await mkdir(join(gold, '..'), { recursive: true });
    await writeFile(gold, 'not really parquet');
    const dir = join(home, 'outbox', 'ouchhungry', 'daily-analytic', day);
    const manifest = {
      partner: 'ouchhungry',
      report: 'daily-analytic',
      period: day,
      rows: 2,
      files: [{ name: `ouchhungry_daily-analytic_${day}.csv`, bytes: 10, sha256: 'ef'.repeat(32), format: 'csv', rows: 2 }],
      columns: [{ name: 'customer_key', type: 'VARCHAR' }, { name: 'units', type: 'INTEGER' }],
      summary: {},
      generated_at: '2026-11-21T09:31:00Z',
      tool_version: '0.1.0',
    };
    const built = await recordPackageDatasets(home, { partner: 'ouchhungry' }, { report: 'daily-analytic', period: day, pkg: { dir, manifest } }, { runId: 'run-1' });
    expect(built.map((entry) => entry.name)).toEqual(['gold.ouchhungry.daily-analytic/2026-11-20', `deliverable.ouchhungry.daily-analytic/2026-11-20/ouchhungry_daily-analytic_${day}.csv`]);
    expect(built[1]).toMatchObject({ layer: 'deliverable', rows: 2, pii: 'indirect', tags: ['partner-share', 'delivered', 'partner:ouchhungry', 'report:daily-analytic', 'format:csv'] });

    const catalog = await readCatalog(home);
    expect(searchCatalog(catalog, 'customer_key').map((entry) => entry.layer)).toEqual(['deliverable', 'gold']);
    expect(searchCatalog(catalog, 'partner-share')).toHaveLength(2);
    expect(searchCatalog(catalog, 'quarantine').map((entry) => entry.name)).toEqual(['quarantine.products/date=2026-11-20']);
    expect(searchCatalog(catalog)).toHaveLength(5);
  });

  it("knows each dataset's table, report and period, and finds it by any of them", async () => {
    const record = (path: string, layer: 'bronze' | 'silver' | 'gold' | 'deliverable', checksum: string) => recordDataset(home, { layer, path, schema: [], rows: 1, checksum, runId: 'run-1', now: new Date('2026-11-21T09:30:00Z') });
    await record(join(bronzeDir(home, 'transactions', '2026-11-15'), 'transactions.csv'), 'bronze', 'a1'.repeat(32));
    await record(silverFile(home, 'transactions', '2026-11-15'), 'silver', 'a2'.repeat(32));
    await record(silverFile(home, 'customers', '2026-11-16'), 'silver', 'a3'.repeat(32));
    await record(goldFile(home, 'ouchhungry', 'monthly-by-city', '2026-11'), 'gold', 'a4'.repeat(32));
    await record('outbox/ouchhungry/daily-analytic/2026-11-15/manifest.json', 'deliverable', 'a5'.repeat(32));
    const catalog = await readCatalog(home);
    expect(catalog.datasets['silver.transactions/date=2026-11-15']).toMatchObject({ table: 'transactions', period: '2026-11-15' });
    expect(catalog.datasets['gold.ouchhungry.monthly-by-city/2026-11']).toMatchObject({ report: 'monthly-by-city', period: '2026-11' });
    const names = (term: string) => searchCatalog(catalog, term).map((entry) => entry.name);
    expect(names('2026-11-15')).toEqual(['bronze.transactions/date=2026-11-15', 'deliverable.ouchhungry.daily-analytic/2026-11-15/manifest.json', 'silver.transactions/date=2026-11-15']);
    // A month finds its days and the monthly report.
    expect(names('2026-11')).toHaveLength(5);
    expect(names('customers')).toEqual(['silver.customers/date=2026-11-16']);
    expect(names('monthly-by-city')).toEqual(['gold.ouchhungry.monthly-by-city/2026-11']);

    // The same bytes recorded by a later run keep who recorded them and when; new bytes do not.
    await recordDataset(home, { layer: 'silver', path: silverFile(home, 'transactions', '2026-11-15'), schema: [], rows: 1, checksum: 'a2'.repeat(32), runId: 'run-2', now: new Date('2026-11-22T09:30:00Z') });
    await recordDataset(home, { layer: 'silver', path: silverFile(home, 'customers', '2026-11-16'), schema: [], rows: 1, checksum: 'b3'.repeat(32), runId: 'run-2', now: new Date('2026-11-22T09:30:00Z') });
    const after = await readCatalog(home);
    expect(after.datasets['silver.transactions/date=2026-11-15']).toMatchObject({ run_id: 'run-1', recorded_at: '2026-11-21T09:30:00.000Z' });
    expect(after.datasets['silver.customers/date=2026-11-16']).toMatchObject({ run_id: 'run-2', recorded_at: '2026-11-22T09:30:00.000Z' });
  });

  it("records a package's manifest.json and SHA256SUMS beside its data files", async () => {
    const day = '2026-11-20';
    const dir = join(home, 'outbox', 'ouchhungry', 'daily-analytic', day);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'manifest.json'), '{}\n');
    await writeFile(join(dir, 'SHA256SUMS'), `${'ef'.repeat(32)}  x.csv\n`);
    const manifest = { partner: 'ouchhungry', report: 'daily-analytic', period: day, rows: 0, files: [], columns: [], summary: {}, generated_at: '2026-11-21T09:31:00Z', tool_version: '0.1.0' };
    const entries = await recordPackageDatasets(home, { partner: 'ouchhungry' }, { report: 'daily-analytic', period: day, pkg: { dir, manifest } as never });
    expect(entries.map((entry) => entry.path)).toEqual([`outbox/ouchhungry/daily-analytic/${day}/manifest.json`, `outbox/ouchhungry/daily-analytic/${day}/SHA256SUMS`]);
    expect(entries[0]!.checksum).toBe(`sha256:${createHash('sha256').update('{}\n').digest('hex')}`);
    expect(entries.every((entry) => entry.tags.includes('package-metadata'))).toBe(true);
  });

  it('serialises concurrent writers so no entry is lost', async () => {
    await Promise.all(
      Array.from({ length: 8 }, (_, index) => recordDataset(home, { layer: 'silver', path: silverFile(home, 'transactions', `2026-11-${String(index + 1).padStart(2, '0')}`), schema: [], rows: index, checksum: null })),
    );
    expect(Object.keys((await readCatalog(home)).datasets)).toHaveLength(8);
  });
});
