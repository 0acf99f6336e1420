import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { excelSerialToDate, readXlsx, readZipEntries } from '../../test/xlsx-reader.js';
import { ConfigError } from '../errors.js';
import { DuckSession, sqlString } from '../lake/duckdb.js';
import { hashFile, packageFileName, parseSha256Sums, readToolVersion, renderPackage, type CsvOptions, type RenderFormat } from './index.js';

const columns = [
  { name: 'name', type: 'VARCHAR' },
  { name: 'price', type: 'DECIMAL(12,2)' },
  { name: 'share', type: 'DECIMAL(5,4)' },
  { name: 'day', type: 'DATE' },
  { name: 'at', type: 'TIME' },
  { name: 'units', type: 'BIGINT' },
];

const SOURCE_SQL = `
  SELECT * FROM (VALUES
    (1, 'a;b', CAST(1234.50 AS DECIMAL(12,2)), CAST(0.5385 AS DECIMAL(5,4)), DATE '2026-11-20', TIME '09:05:00', CAST(14 AS BIGINT)),
    (2, 'say "hi"', CAST(-0.05 AS DECIMAL(12,2)), CAST(1 AS DECIMAL(5,4)), DATE '2026-11-21', TIME '23:30:15', CAST(0 AS BIGINT)),
    (3, E'line\\nbreak', NULL, NULL, NULL, NULL, NULL),
    (4, 'São Paulo, SP', CAST(9.00 AS DECIMAL(12,2)), CAST(0 AS DECIMAL(5,4)), DATE '2026-01-01', TIME '00:00:00', CAST(3 AS BIGINT))
  ) AS t(ord, name, price, share, day, "at", units)
  ORDER BY ord`;

let home: string;
let cleanup: () => Promise<void>;
let duck: DuckSession;
let source: string;
let emptySource: string;

beforeAll(async () => {
  ({ home, cleanup } = await makeTempHome('dataprod-render-'));
  duck = await DuckSession.open({ threads: 1 });
  source = join(home, 'source.parquet');
  emptySource = join(home, 'empty.parquet');
  await duck.run(`COPY (SELECT * EXCLUDE (ord) FROM (${SOURCE_SQL})) TO ${sqlString(source)} (FORMAT parquet)`);
  await duck.run(`COPY (SELECT * EXCLUDE (ord) FROM (${SOURCE_SQL}) WHERE false) TO ${sqlString(emptySource)} (FORMAT parquet)`);
});
afterAll(async () => {
  duck.close();
  await cleanup();
});

const brazil: CsvOptions = { delimiter: ';', decimal_mark: ',', bom: true };

async function render(dir: string, options: { formats?: RenderFormat[]; csv?: CsvOptions; from?: string; xlsxMaxRows?: number } = {}) {
  return renderPackage({
    duck,
    source: options.from ?? source,
    dir: join(home, dir),
    partner: 'acme',
    report: 'daily-analytic',
    period: '2026-11-20',
    formats: options.formats ?? ['csv', 'parquet', 'json', 'xlsx'],
    columns,
    csv: options.csv ?? brazil,
    summary: { units: 17, revenue: '1243.45' },
    now: new Date('2026-11-21T09:00:00Z'),
    ...(options.xlsxMaxRows === undefined ? {} : { xlsxMaxRows: options.xlsxMaxRows }),
  });
}

describe('renderPackage', () => {
  it('leaves XLSX out past the sheet row limit and says so in the manifest', async () => {
    const pkg = await render('too-big', { xlsxMaxRows: 1 });
    expect(pkg.manifest.files.map((file) => file.format)).toEqual(['csv', 'parquet', 'json']);
    expect(String(pkg.manifest.summary.formats_omitted)).toMatch(/xlsx left out: \d+ rows exceed Excel/);
  });

  it('names files <partner>_<report>_<period>.<ext> and lists them in the manifest with rows', async () => {
    const pkg = await render('all');
    expect(pkg.manifest.files.map((file) => file.name)).toEqual(['csv', 'parquet', 'json', 'xlsx'].map((ext) => `acme_daily-analytic_2026-11-20.${ext}`));
    expect(packageFileName('acme', 'monthly-by-city', '2026-10', 'xlsx')).toBe('acme_monthly-by-city_2026-10.xlsx');
    expect(pkg.manifest).toMatchObject({ partner: 'acme', report: 'daily-analytic', period: '2026-11-20', rows: 4, generated_at: '2026-11-21T09:00:00.000Z', tool_version: readToolVersion() });
    expect(pkg.manifest.columns).toEqual(columns);
    expect(pkg.manifest.files.every((file) => file.rows === 4)).toBe(true);
    expect((await readdir(pkg.dir)).sort()).toEqual([...pkg.manifest.files.map((file) => file.name), 'SHA256SUMS', 'manifest.json'].sort());
  });

  it('records sizes and SHA-256 that match the files, and SHA256SUMS covers data and manifest', async () => {
    const pkg = await render('sums');
    for (const file of pkg.manifest.files) expect(await hashFile(join(pkg.dir, file.name))).toEqual({ sha256: file.sha256, bytes: file.bytes });
    const onDisk = JSON.parse(await readFile(join(pkg.dir, 'manifest.json'), 'utf8'));
    expect(onDisk).toEqual(pkg.manifest);
    const sums = parseSha256Sums(await readFile(join(pkg.dir, 'SHA256SUMS'), 'utf8'));
    expect([...sums.keys()]).toEqual([...pkg.manifest.files.map((file) => file.name), 'manifest.json']);
    for (const [name, sha256] of sums) expect((await hashFile(join(pkg.dir, name))).sha256).toBe(sha256);
  });

  it('CSV for Brazilian Excel: BOM, ";", decimal comma, quoting; DuckDB reads it back', async () => {
    const pkg = await render('csv-br', { formats: ['csv'] });
    const path = join(pkg.dir, pkg.manifest.files[0]!.name);
    const bytes = await readFile(path);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8').slice(1);
    expect(text.split('\n')[0]).toBe('name;price;share;day;at;units');
    expect(text).toContain('"a;b";1234,50;0,5385;2026-11-20;09:05:00;14');
    expect(text).toContain('"say ""hi""";-0,05;1,0000;2026-11-21;23:30:15;0');
    expect(text).toContain('"line\nbreak";;;;;');
    const back = await duck.json(
      `SELECT * FROM read_csv(${sqlString(path)}, delim = ';', decimal_separator = ',', header = true,
         columns = {'name': 'VARCHAR', 'price': 'DECIMAL(12,2)', 'share': 'DECIMAL(5,4)', 'day': 'DATE', 'at': 'TIME', 'units': 'BIGINT'})`,
    );
    const original = await duck.json(`SELECT * FROM read_parquet(${sqlString(source)})`);
    expect(back).toEqual(original);
  });

  it('CSV with "," and a decimal point, no BOM; and "," with a decimal comma quotes the numbers', async () => {
    const plain = await render('csv-plain', { formats: ['csv'], csv: { delimiter: ',', decimal_mark: '.', bom: false } });
    const text = await readFile(join(plain.dir, plain.manifest.files[0]!.name), 'utf8');
    expect(text.charCodeAt(0)).not.toBe(0xfeff);
    expect(text).toContain('a;b,1234.50,0.5385,2026-11-20,09:05:00,14');
    expect(text).toContain('"São Paulo, SP",9.00,');
    const clash = await render('csv-clash', { formats: ['csv'], csv: { delimiter: ',', decimal_mark: ',', bom: false } });
    const clashText = await readFile(join(clash.dir, clash.manifest.files[0]!.name), 'utf8');
    expect(clashText).toContain('a;b,"1234,50","0,5385",2026-11-20');
  });

  it('CSV is formula-safe (OWASP): text starting with = + - @ tab or CR gets a leading quote; numbers stay numbers; other formats keep the raw value', async () => {
    const attack = join(home, 'attack.parquet');
    await duck.run(`COPY (SELECT * FROM (VALUES
        (1, '=HYPERLINK("http://evil.example/x","click")', CAST(-5.00 AS DECIMAL(12,2))),
        (2, '+55 11', CAST(1.00 AS DECIMAL(12,2))),
        (3, '-2+3', CAST(2.00 AS DECIMAL(12,2))),
        (4, '@SUM(A1)', CAST(3.00 AS DECIMAL(12,2))),
        (5, chr(9) || 'tab', CAST(4.00 AS DECIMAL(12,2))),
        (6, chr(13) || 'cr', CAST(5.00 AS DECIMAL(12,2))),
        (7, 'São Paulo = SP', CAST(6.00 AS DECIMAL(12,2)))
      ) AS t(ord, name, price) ORDER BY ord) TO ${sqlString(attack)} (FORMAT parquet)`);
    const attackColumns = [{ name: 'ord', type: 'INTEGER' }, { name: 'name', type: 'VARCHAR' }, { name: 'price', type: 'DECIMAL(12,2)' }];
    const pkg = await renderPackage({
      duck, source: attack, dir: join(home, 'formula'), partner: 'acme', report: 'daily-analytic', period: '2026-11-20',
      formats: ['csv', 'json', 'parquet'], columns: attackColumns, csv: brazil, summary: {}, now: new Date('2026-11-21T09:00:00Z'),
    });
    const csvText = (await readFile(join(pkg.dir, 'acme_daily-analytic_2026-11-20.csv'), 'utf8')).slice(1);
    const back = await duck.json<{ name: string; price: string }>(
      `SELECT name, price FROM read_csv(${sqlString(join(pkg.dir, 'acme_daily-analytic_2026-11-20.csv'))}, delim = ';', decimal_separator = ',', header = true,
         columns = {'ord': 'INTEGER', 'name': 'VARCHAR', 'price': 'DECIMAL(12,2)'}) ORDER BY ord`,
    );
    expect(back.map((row) => row.name)).toEqual([`'=HYPERLINK("http://evil.example/x","click")`, "'+55 11", "'-2+3", "'@SUM(A1)", "'\ttab", "'\rcr", 'São Paulo = SP']);
    for (const row of back) expect(row.name).not.toMatch(/^[=+\-@\t\r]/);
    expect(csvText).toContain(';-5,00\n'); // a negative number is a number, never prefixed
    const json = JSON.parse(await readFile(join(pkg.dir, 'acme_daily-analytic_2026-11-20.json'), 'utf8')) as { name: string }[];
    expect(json[0]!.name).toBe('=HYPERLINK("http://evil.example/x","click")');
    const parquet = await duck.json<{ name: string }>(`SELECT name FROM read_parquet(${sqlString(join(pkg.dir, 'acme_daily-analytic_2026-11-20.parquet'))}) ORDER BY ord`);
    expect(parquet[4]!.name).toBe('\ttab');
    expect(pkg.manifest.csv_formula_escaping).toMatchObject({ prefix: "'", triggers: ['=', '+', '-', '@', '\t', '\r'] });
    const onlyParquet = await renderPackage({
      duck, source: attack, dir: join(home, 'formula-parquet'), partner: 'acme', report: 'daily-analytic', period: '2026-11-20',
      formats: ['parquet'], columns: attackColumns, csv: brazil, summary: {}, now: new Date('2026-11-21T09:00:00Z'),
    });
    expect(onlyParquet.manifest.csv_formula_escaping).toBeUndefined();
  });

  it('refuses a delimiter that cannot separate fields', async () => {
    await expect(render('bad', { csv: { delimiter: '"', decimal_mark: ',', bom: true } })).rejects.toBeInstanceOf(ConfigError);
    expect(existsSync(join(home, 'bad'))).toBe(false);
  });

  it('JSON: an array of objects, exact decimals as numbers, ISO dates, null', async () => {
    const pkg = await render('json', { formats: ['json'] });
    const text = await readFile(join(pkg.dir, pkg.manifest.files[0]!.name), 'utf8');
    expect(text).toContain('"price":1234.50');
    expect(text).toContain('"share":0.5385');
    expect(text).toContain('"price":9.00');
    const rows = JSON.parse(text) as Record<string, unknown>[];
    expect(rows).toHaveLength(4);
    expect(Object.keys(rows[0]!)).toEqual(columns.map((column) => column.name));
    expect(rows[0]).toEqual({ name: 'a;b', price: 1234.5, share: 0.5385, day: '2026-11-20', at: '09:05:00', units: 14 });
    expect(rows[2]).toEqual({ name: 'line\nbreak', price: null, share: null, day: null, at: null, units: null });
  });

  it('XLSX: a bold frozen header row, column widths, typed cells with number formats', async () => {
    const pkg = await render('xlsx', { formats: ['xlsx'] });
    const [sheet, ...others] = await readXlsx(join(pkg.dir, pkg.manifest.files[0]!.name));
    expect(others).toEqual([]);
    expect(sheet!.name).toBe('daily-analytic');
    expect(sheet!.frozenRows).toBe(1);
    expect(sheet!.rows).toHaveLength(5);
    expect(sheet!.rows[0]!.map((cell) => [cell!.value, cell!.bold])).toEqual(columns.map((column) => [column.name, true]));
    // Widths follow the longest value: 'São Paulo, SP' is 13 characters.
    expect(sheet!.widths).toEqual([15, 10, 9, 12, 10, 8]);
    const first = sheet!.rows[1]!;
    expect(first.map((cell) => cell!.ref)).toEqual(['A2', 'B2', 'C2', 'D2', 'E2', 'F2']);
    expect(first.map((cell) => cell!.value)).toEqual(['a;b', 1234.5, 0.5385, 46346, 9 / 24 + 5 / 1440, 14]);
    expect(first.map((cell) => cell!.numFmt)).toEqual(['General', '#,##0.00', '#,##0.0000', 'yyyy-mm-dd', 'hh:mm:ss', '0']);
    expect(excelSerialToDate(first[3]!.value as number)).toEqual(new Date('2026-11-20T00:00:00Z'));
    expect(sheet!.rows[2]![0]!.value).toBe('say "hi"');
    // NULLs are cells left out.
    expect(sheet!.rows[3]!.map((cell) => cell?.value)).toEqual(['line\nbreak']);
    expect(sheet!.rows[4]![0]!.value).toBe('São Paulo, SP');
  });

  it('XLSX: the same rows give the same bytes, whatever the clock', async () => {
    const first = await render('xlsx-same-1', { formats: ['xlsx'] });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const second = await render('xlsx-same-2', { formats: ['xlsx'] });
    expect(second.manifest.files[0]!.sha256).toBe(first.manifest.files[0]!.sha256);
    const entries = await readZipEntries(join(first.dir, first.manifest.files[0]!.name));
    expect([...entries.keys()]).toEqual(['[Content_Types].xml', '_rels/.rels', 'xl/workbook.xml', 'xl/_rels/workbook.xml.rels', 'xl/styles.xml', 'xl/worksheets/sheet1.xml']);
  });

  it('Parquet keeps the gold types', async () => {
    const pkg = await render('parquet', { formats: ['parquet'] });
    const described = await duck.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${sqlString(join(pkg.dir, pkg.manifest.files[0]!.name))})`);
    expect(described.map((column) => ({ name: column.column_name, type: column.column_type }))).toEqual(columns);
  });

  it('an empty report still has every file, with headers, and rows 0', async () => {
    const pkg = await render('empty', { from: emptySource });
    expect(pkg.manifest.rows).toBe(0);
    const name = (ext: string) => join(pkg.dir, `acme_daily-analytic_2026-11-20.${ext}`);
    expect((await readFile(name('csv'), 'utf8')).replace(/^\uFEFF/, '')).toBe('name;price;share;day;at;units\n');
    expect(JSON.parse(await readFile(name('json'), 'utf8'))).toEqual([]);
    const [sheet] = await readXlsx(name('xlsx'));
    expect(sheet!.rows).toHaveLength(1);
  });

  it('re-rendering replaces the package: no stale file survives', async () => {
    const first = await render('again');
    await writeFile(join(first.dir, 'stray.txt'), 'left behind');
    const second = await render('again', { formats: ['csv'] });
    expect((await readdir(second.dir)).sort()).toEqual(['SHA256SUMS', 'acme_daily-analytic_2026-11-20.csv', 'manifest.json']);
    expect((await readdir(home)).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });
});

describe('renderXlsx', () => {
  it('continues on a new sheet past the row limit', async () => {
    const { renderXlsx } = await import('./xlsx.js');
    const target = join(home, 'split.xlsx');
    const rows = await renderXlsx({ duck, source, target, columns, title: 'monthly-by-city' }, { maxRowsPerSheet: 3 });
    expect(rows).toBe(4);
    const sheets = await readXlsx(target);
    expect(sheets.map((sheet) => [sheet.name, sheet.rows.length])).toEqual([
      ['monthly-by-city', 4],
      ['monthly-by-city (2)', 2],
    ]);
  });
});

describe('Parquet codec', () => {
  async function codecsOf(path: string): Promise<string[]> {
    const rows = await duck.all<{ compression: string }>(`SELECT DISTINCT compression FROM parquet_metadata(${sqlString(path)})`);
    return rows.map((row) => String(row.compression).toLowerCase());
  }

  it('is snappy by default (every reader, Power BI included, takes it) and zstd when the partner asks', async () => {
    const name = packageFileName('acme', 'daily-analytic', '2026-11-20', 'parquet');
    const byDefault = await renderPackage({ duck, source, dir: join(home, 'codec-default'), partner: 'acme', report: 'daily-analytic', period: '2026-11-20', formats: ['parquet'], columns, csv: brazil, summary: {}, now: new Date('2026-11-21T09:00:00Z') });
    expect(await codecsOf(join(byDefault.dir, name))).toEqual(['snappy']);
    const zstd = await renderPackage({ duck, source, dir: join(home, 'codec-zstd'), partner: 'acme', report: 'daily-analytic', period: '2026-11-20', formats: ['parquet'], columns, csv: brazil, parquetCompression: 'zstd', summary: {}, now: new Date('2026-11-21T09:00:00Z') });
    expect(await codecsOf(join(zstd.dir, name))).toEqual(['zstd']);
  });
});
