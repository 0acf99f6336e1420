import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { cleanDays } from '../cleaning/engine.js';
import { DataError, UsageError } from '../errors.js';
import { withDuck } from '../lake/duckdb.js';
import { bronzeDir, silverFile } from '../lake/layout.js';
import { detectDelimiter, ingestFile } from './ingest.js';

const DAY = '2026-11-20';
const FIXTURES = new URL('../../fixtures/dirty/', import.meta.url).pathname;
const PRODUCTS_HEADER = 'product_code,name,brand,manufacturer,segment,list_price';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome('dataprod-ingest-')));
afterEach(async () => cleanup());

async function sourceJson(table: 'products' | 'customers' | 'transactions', date = DAY) {
  return JSON.parse(await readFile(join(bronzeDir(home, table, date), '_source.json'), 'utf8'));
}

describe('ingestFile', () => {
  it('copies a CSV unchanged into bronze with _source.json', async () => {
    const file = join(FIXTURES, 'transactions.csv');
    const result = await ingestFile({ home, table: 'transactions', file, date: DAY });
    expect(result).toMatchObject({ table: 'transactions', date: DAY, format: 'csv', delimiter: ',', encoding: 'utf-8', rows: 16, extra_columns: [] });
    expect(await readFile(result.path)).toEqual(await readFile(file));
    expect(await readdir(bronzeDir(home, 'transactions', DAY))).toEqual(['_source.json', 'transactions.csv']);
    expect(await sourceJson('transactions')).toMatchObject({ file: 'transactions.csv', format: 'csv', delimiter: ',', encoding: 'utf-8', header: true, rows: 16, source: 'ingest', sha256: result.sha256 });
    expect(result.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('detects ";" and latin-1, matches names ignoring case and spaces, keeps and reports extra columns', async () => {
    const result = await ingestFile({ home, table: 'customers', file: join(FIXTURES, 'clientes-latin1.csv'), date: DAY });
    expect(result).toMatchObject({ format: 'csv', delimiter: ';', encoding: 'latin-1', rows: 2, extra_columns: ['NOME', 'Loja'] });
    expect((await sourceJson('customers')).extra_columns).toEqual(['NOME', 'Loja']);
    // The copy is byte for byte the export (still latin-1).
    expect(await readFile(result.path)).toEqual(await readFile(join(FIXTURES, 'clientes-latin1.csv')));

    await writeFile(join(home, 'p.csv'), `${PRODUCTS_HEADER}\nSKU-HNG-0001,Cola,Hungry,OuchHungry,refrigerantes,5.49\n`);
    await ingestFile({ home, table: 'products', file: join(home, 'p.csv'), date: DAY });
    const cleaned = await cleanDays({ home, days: [DAY], tables: ['products', 'customers'] });
    expect(cleaned.tables.customers).toMatchObject({ rows_in: 2, rows_silver: 2 });
    const silver = await withDuck((duck) => duck.json<Record<string, string>>(`SELECT name, city, nome, loja FROM read_parquet('${silverFile(home, 'customers', DAY)}', hive_partitioning = false) ORDER BY 1`));
    expect(silver).toEqual([
      { name: 'Açucena Ribeiro', city: 'Niterói', nome: 'x', loja: 'Loja Sul' },
      { name: 'José Conceição', city: 'São Paulo', nome: 'x', loja: 'Loja Centro' },
    ]);
  });

  it('reads UTF-16 with a BOM and tab-separated files', async () => {
    const text = `${PRODUCTS_HEADER.replaceAll(',', '\t')}\nSKU-HNG-0001\tCola São\tHungry\tOuchHungry\trefrigerantes\t5.49\n`;
    await writeFile(join(home, 'p16.csv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    const result = await ingestFile({ home, table: 'products', file: join(home, 'p16.csv'), date: DAY });
    expect(result).toMatchObject({ encoding: 'utf-16', delimiter: '\t', rows: 1 });
  });

  it('reads JSON lines and Parquet', async () => {
    const lines = [{ product_code: 'SKU-HNG-0001', name: 'Cola', brand: 'Hungry', manufacturer: 'OuchHungry', segment: 'refrigerantes', list_price: 5.49, source_system: 'erp' }];
    await writeFile(join(home, 'products.ndjson'), lines.map((line) => JSON.stringify(line)).join('\n'));
    const json = await ingestFile({ home, table: 'products', file: join(home, 'products.ndjson'), date: DAY });
    expect(json).toMatchObject({ format: 'jsonl', rows: 1, extra_columns: ['source_system'] });
    expect(json.delimiter).toBeUndefined();

    const parquetPath = join(home, 'export.parquet');
    await withDuck((duck) =>
      duck.run(`COPY (SELECT 'SKU-HNG-0001' AS PRODUCT_CODE, 'Cola' AS name, 'Hungry' AS brand, 'OuchHungry' AS manufacturer, 'refrigerantes' AS segment, 5.49::DECIMAL(12,2) AS list_price FROM range(3)) TO '${parquetPath}' (FORMAT parquet)`),
    );
    const parquet = await ingestFile({ home, table: 'products', file: parquetPath, date: '2026-11-21' });
    expect(parquet).toMatchObject({ format: 'parquet', rows: 3, columns: ['PRODUCT_CODE', 'name', 'brand', 'manufacturer', 'segment', 'list_price'] });
    const cleaned = await cleanDays({ home, days: [DAY, '2026-11-21'], tables: ['products'] });
    expect(cleaned.days['2026-11-21']!.products).toMatchObject({ rows_in: 3, rows_silver: 1, rows_duplicate: 2 });
  });

  it('missing required columns: DataError (65) naming them, the file and what to do', async () => {
    const file = join(home, 'bad.csv');
    await writeFile(file, 'product_code;name;brand\nSKU-HNG-0001;Cola;Hungry\n');
    const error = (await ingestFile({ home, table: 'products', file, date: DAY }).catch((caught: unknown) => caught)) as DataError;
    expect(error).toBeInstanceOf(DataError);
    expect(error.exitCode).toBe(65);
    expect(error.message).toContain(file);
    expect(error.message).toContain('manufacturer, segment, list_price');
    expect(error.hint).toContain('re-export');
    // Nothing reached bronze.
    await expect(readdir(bronzeDir(home, 'products', DAY))).rejects.toThrow();
  });

  it('a missing file is a usage error (64); empty or binary files are data errors (65)', async () => {
    const missing = (await ingestFile({ home, table: 'products', file: join(home, 'nope.csv'), date: DAY }).catch((caught: unknown) => caught)) as UsageError;
    expect(missing).toBeInstanceOf(UsageError);
    expect(missing.exitCode).toBe(64);
    expect(missing.message).toContain('nope.csv');

    await writeFile(join(home, 'empty.csv'), '');
    const empty = (await ingestFile({ home, table: 'products', file: join(home, 'empty.csv'), date: DAY }).catch((caught: unknown) => caught)) as DataError;
    expect(empty).toBeInstanceOf(DataError);
    expect(empty.message).toContain('is empty');

    await writeFile(join(home, 'image.csv'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x01, 0x02]));
    const binary = (await ingestFile({ home, table: 'products', file: join(home, 'image.csv'), date: DAY }).catch((caught: unknown) => caught)) as DataError;
    expect(binary).toBeInstanceOf(DataError);
    expect(binary.message).toContain('not a text file');

    await writeFile(join(home, 'broken.parquet'), 'PAR1 this is not parquet');
    const broken = (await ingestFile({ home, table: 'products', file: join(home, 'broken.parquet'), date: DAY }).catch((caught: unknown) => caught)) as DataError;
    expect(broken).toBeInstanceOf(DataError);
    expect(broken.message).toMatch(/^cannot read .*broken\.parquet \(parquet\)/);
    expect(broken.message).not.toContain('\n');
  });

  it('a header with CITY and city is an ambiguous column (65), caught before DuckDB renames one (issue 8, observation 6)', async () => {
    const header = 'transaction_id,customer_id,product_code,quantity,unit_price,status,payment_method,CITY,state,sold_at,city';
    await writeFile(join(home, 't.csv'), `${header}\nT1,C1,SKU-HNG-0001,1,5.49,paid,pix,Campinas,SP,2026-11-20 10:00:00,pix\n`);
    const error = await ingestFile({ home, table: 'transactions', file: join(home, 't.csv'), date: DAY }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toMatch(/ambiguous column city/);
    await expect(readdir(bronzeDir(home, 'transactions', DAY))).rejects.toThrow(/ENOENT/);
  });

  it('reads windows-1252 curly quotes and dashes: the export kept as is, a UTF-8 copy read (observation 6)', async () => {
    const header = 'customer_id;name;email;cpf;phone;cep;city;state;created_at';
    const row = 'C1;\u201cZ\u00e9\u201d Ant\u00f4nio \u2013 filho;ze@example.com;52998224725;+5511987654321;01310100;S\u00e3o Paulo;SP;2026-11-01 10:00:00';
    // Encoded by hand: Node has no windows-1252 encoder.
    const text = `${header}\n${JSON.parse(`"${row}"`)}\n`;
    const cp1252: Record<string, number> = { '\u201c': 0x93, '\u201d': 0x94, '\u2013': 0x96 };
    const encoded = Buffer.from([...text].map((char) => cp1252[char] ?? char.charCodeAt(0)));
    await writeFile(join(home, 'c.csv'), encoded);
    for (const encoding of [undefined, 'latin-1'] as const) {
      const result = await ingestFile({ home, table: 'customers', file: join(home, 'c.csv'), date: DAY, ...(encoding ? { encoding } : {}) });
      expect(result).toMatchObject({ encoding: 'windows-1252', delimiter: ';', rows: 1 });
      expect(await readFile(result.path)).toEqual(encoded);
    }
    await writeFile(join(home, 'p.csv'), `${PRODUCTS_HEADER}\nSKU-HNG-0001,Cola,Hungry,OuchHungry,refrigerantes,5.49\n`);
    await ingestFile({ home, table: 'products', file: join(home, 'p.csv'), date: DAY });
    await cleanDays({ home, days: [DAY], tables: ['products', 'customers'] });
    const [silver] = await withDuck((duck) => duck.json<{ name: string }>(`SELECT name FROM read_parquet('${silverFile(home, 'customers', DAY)}', hive_partitioning = false)`));
    expect(silver!.name).toContain('\u201cZ\u00e9\u201d');
    expect(silver!.name).toContain('\u2013');
  });

  it('re-ingesting a day replaces its partition', async () => {
    await writeFile(join(home, 'first.csv'), `${PRODUCTS_HEADER}\nSKU-HNG-0001,Cola,Hungry,OuchHungry,refrigerantes,5.49\n`);
    await writeFile(join(home, 'second.csv'), `${PRODUCTS_HEADER}\nSKU-HNG-0002,Lima,Hungry,OuchHungry,refrigerantes,5.49\n`);
    await ingestFile({ home, table: 'products', file: join(home, 'first.csv'), date: DAY });
    await ingestFile({ home, table: 'products', file: join(home, 'second.csv'), date: DAY });
    expect(await readdir(bronzeDir(home, 'products', DAY))).toEqual(['_source.json', 'second.csv']);
  });
});

describe('detectDelimiter', () => {
  it('picks the delimiter splitting the header most, ignoring quoted text', () => {
    expect(detectDelimiter('a,b,c')).toBe(',');
    expect(detectDelimiter('a;b;c')).toBe(';');
    expect(detectDelimiter('a|b|c')).toBe('|');
    expect(detectDelimiter('a\tb\tc')).toBe('\t');
    expect(detectDelimiter('"a,b";c;d')).toBe(';');
  });
});
