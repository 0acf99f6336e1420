import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { DataError } from '../errors.js';
import { withDuck } from '../lake/duckdb.js';
import { bronzeDir, quarantineFile, silverFile, type SourceTable, qualitySummaryFile } from '../lake/layout.js';
import { ingestFile } from '../sources/ingest.js';
import { cleanDays } from './engine.js';

const DAY = '2026-11-20';
const FIXTURES = new URL('../../fixtures/dirty/', import.meta.url).pathname;

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome('dataprod-clean-')));
afterEach(async () => cleanup());

async function ingestFixtures(date = DAY) {
  for (const table of ['products', 'customers', 'transactions'] as const) await ingestFile({ home, table, file: join(FIXTURES, `${table}.csv`), date });
}

/** Writes a bronze partition by hand (what the generator does). */
async function writeBronze(table: SourceTable, date: string, fileName: string, content: string | Buffer, source: Record<string, unknown> = {}) {
  const dir = bronzeDir(home, table, date);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, fileName), content);
  await writeFile(join(dir, '_source.json'), JSON.stringify({ file: fileName, format: 'csv', delimiter: ',', encoding: 'utf-8', header: true, columns: [], extra_columns: [], rows: 0, sha256: '', source: 'test', written_at: '', ...source }));
}

async function query<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  return withDuck(async (duck) => {
    await duck.run("SET TimeZone = 'America/Sao_Paulo'");
    return duck.json<T>(sql);
  });
}
const parquet = (path: string) => `read_parquet('${path}', hive_partitioning = false)`;

describe('cleanDays on the dirty fixtures', () => {
  it('accounts for every row, per table, with per-rule counts', async () => {
    await ingestFixtures();
    const result = await cleanDays({ home, days: [DAY] });
    const shape = (table: SourceTable) => {
      const { rows_in, rows_silver, rows_quarantined, rows_duplicate } = result.tables[table]!;
      return { rows_in, rows_silver, rows_quarantined, rows_duplicate };
    };
    expect(shape('products')).toEqual({ rows_in: 10, rows_silver: 6, rows_quarantined: 3, rows_duplicate: 1 });
    expect(shape('customers')).toEqual({ rows_in: 8, rows_silver: 5, rows_quarantined: 2, rows_duplicate: 1 });
    expect(shape('transactions')).toEqual({ rows_in: 16, rows_silver: 7, rows_quarantined: 7, rows_duplicate: 2 });
    for (const summary of Object.values(result.tables)) expect(summary!.rows_in).toBe(summary!.rows_silver + summary!.rows_quarantined + summary!.rows_duplicate);

    const rules = result.tables.transactions!.rules;
    expect(rules.money_to_decimal).toEqual({ repaired: 1, quarantined: 0 });
    expect(rules.timestamp_formats).toEqual({ repaired: 2, quarantined: 1 });
    expect(rules.payment_method_default).toEqual({ filled: 1 });
    expect(rules.known_customer).toEqual({ quarantined: 2 });
    expect(rules.exact_duplicate).toEqual({ dropped_as_duplicate: 1 });
    expect(rules.transaction_id_duplicate).toEqual({ dropped_as_duplicate: 1 });
    expect(result.tables.products!.rules.money_to_decimal).toEqual({ repaired: 2, quarantined: 1 });
    expect(result.tables.customers!.rules.cpf_check_digits).toEqual({ quarantined: 1 });
    // Per day and summed: one day, so the same.
    expect(result.days[DAY]!.transactions).toEqual(result.tables.transactions);

    const written = JSON.parse(await readFile(qualitySummaryFile(home, 'transactions', DAY), 'utf8'));
    expect(written).toMatchObject({ table: 'transactions', date: DAY, ...result.tables.transactions });
  });

  it('writes silver typed as the contract says, with repaired values', async () => {
    await ingestFixtures();
    await cleanDays({ home, days: [DAY] });
    const types = await query<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${parquet(silverFile(home, 'transactions', DAY))}`);
    expect(Object.fromEntries(types.map((row) => [row.column_name, row.column_type]))).toEqual({
      transaction_id: 'VARCHAR',
      customer_id: 'VARCHAR',
      product_code: 'VARCHAR',
      quantity: 'INTEGER',
      unit_price: 'DECIMAL(12,2)',
      status: 'VARCHAR',
      payment_method: 'VARCHAR',
      city: 'VARCHAR',
      state: 'VARCHAR',
      sold_at: 'TIMESTAMP WITH TIME ZONE',
    });
    const sales = await query<Record<string, string | number>>(
      `SELECT transaction_id, product_code, quantity, unit_price::VARCHAR AS unit_price, status, payment_method, city, state, strftime(sold_at, '%Y-%m-%d %H:%M:%S') AS sold_at FROM ${parquet(silverFile(home, 'transactions', DAY))} ORDER BY transaction_id`,
    );
    expect(sales.map((row) => row.transaction_id)).toEqual(['T001', 'T002', 'T003', 'T004', 'T005', 'T013', 'T014']);
    const byId = Object.fromEntries(sales.map((row) => [row.transaction_id, row]));
    expect(byId.T002).toMatchObject({ unit_price: '9.99', sold_at: '2026-11-20 12:30:00' });
    // The near-duplicate T003 rows: the later sale wins; its values are the clean ones.
    expect(byId.T003).toMatchObject({ product_code: 'SKU-OCH-0001', status: 'completed', city: 'Curitiba', state: 'PR', sold_at: '2026-11-20 18:05:00' });
    expect(byId.T004).toMatchObject({ payment_method: 'unknown', sold_at: '2026-11-20 15:00:00' });
    expect(byId.T005).toMatchObject({ status: 'refunded', sold_at: '2026-11-20 20:59:59' });
    expect(byId.T014).toMatchObject({ city: 'São Paulo', payment_method: 'pix' });

    const customers = await query<Record<string, string>>(`SELECT * FROM ${parquet(silverFile(home, 'customers', DAY))} ORDER BY customer_id`);
    expect(customers.map((row) => row.customer_id)).toEqual(['C001', 'C002', 'C003', 'C006', 'C007']);
    const c = Object.fromEntries(customers.map((row) => [row.customer_id, row]));
    expect(c.C001).toMatchObject({ cpf: '52998224725', phone: '+5511987654321', cep: '01310100', email: 'ana@example.com', state: 'SP' });
    expect(c.C002).toMatchObject({ name: 'Bruno Lima', email: 'bruno@example.com', cpf: '12345678909', phone: '+5521998765432', cep: '20040020', state: 'RJ' });
    expect(c.C003).toMatchObject({ email: null, cep: null, phone: '+5511987654321' });
    expect(c.C006).toMatchObject({ cpf: null });
    const products = await query<{ product_code: string; list_price: string }>(`SELECT product_code, list_price::VARCHAR AS list_price FROM ${parquet(silverFile(home, 'products', DAY))} ORDER BY 1`);
    expect(products).toContainEqual({ product_code: 'SKU-HNG-0002', list_price: '9.99' });
    expect(products).toContainEqual({ product_code: 'SKU-OCH-0001', list_price: '7.49' });
  });

  it('keeps the raw values, every failed rule and the row number in quarantine', async () => {
    await ingestFixtures();
    await cleanDays({ home, days: [DAY] });
    const types = await query<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${parquet(quarantineFile(home, 'transactions', DAY))}`);
    expect(types.map((row) => `${row.column_name} ${row.column_type}`)).toEqual([
      ...['transaction_id', 'customer_id', 'product_code', 'quantity', 'unit_price', 'status', 'payment_method', 'city', 'state', 'sold_at'].map((name) => `${name} VARCHAR`),
      '_reasons VARCHAR[]',
      '_row_number BIGINT',
    ]);
    const rows = await query<{ transaction_id: string; quantity: string; sold_at: string; _reasons: string[]; _row_number: number }>(
      `SELECT * REPLACE (_row_number::INTEGER AS _row_number) FROM ${parquet(quarantineFile(home, 'transactions', DAY))} ORDER BY _row_number`,
    );
    const byId = Object.fromEntries(rows.map((row) => [row.transaction_id ?? '(none)', row]));
    expect(byId.T006!._reasons).toEqual(['known_customer']);
    expect(byId.T007!._reasons).toEqual(['known_product']);
    expect(byId.T008!._reasons).toEqual(['known_customer']); // C004 itself is quarantined (bad CPF)
    expect(byId.T009).toMatchObject({ quantity: 'dois', _reasons: ['quantity_to_integer'], _row_number: 10 });
    expect(byId.T010!._reasons).toEqual(['quantity_positive']);
    expect(byId.T011!._reasons).toEqual(['status_allowed', 'sold_at_on_day']);
    expect(byId.T012).toMatchObject({ sold_at: '31/02/2026', _reasons: ['timestamp_formats', 'required_customer_id'] });

    const customers = await query<{ customer_id: string; cpf: string; _reasons: string[] }>(`SELECT customer_id, cpf, _reasons FROM ${parquet(quarantineFile(home, 'customers', DAY))} ORDER BY 1`);
    expect(customers).toEqual([
      { customer_id: 'C004', cpf: '123.456.789-00', _reasons: ['cpf_check_digits'] },
      { customer_id: 'C005', cpf: '390.533.447-05', _reasons: ['timestamp_formats', 'phone_e164', 'customer_state_uf'] },
    ]);
  });

  it('re-running a day replaces its partitions', async () => {
    await ingestFixtures();
    const first = await cleanDays({ home, days: [DAY] });
    const second = await cleanDays({ home, days: [DAY] });
    expect(second.tables).toEqual(first.tables);
    expect(await readdir(join(home, 'silver', 'transactions', `date=${DAY}`))).toEqual(['data.parquet']);
    expect(await readdir(join(home, 'quarantine', 'transactions', `date=${DAY}`))).toEqual(['data.parquet']);
    const [{ n }] = await query<{ n: number }>(`SELECT count(*) AS n FROM ${parquet(silverFile(home, 'transactions', DAY))}`);
    expect(Number(n)).toBe(7);
  });

  it('sums several days and checks references against earlier days', async () => {
    await ingestFixtures(DAY);
    // The next day has only sales (customers/products of the day before still count).
    await writeBronze('transactions', '2026-11-21', 'transactions.csv', 'transaction_id,customer_id,product_code,quantity,unit_price,status,payment_method,city,state,sold_at\nT100,C001,SKU-HNG-0001,1,5.49,completed,pix,São Paulo,SP,2026-11-21T09:00:00-03:00\n');
    await cleanDays({ home, days: [DAY] });
    const next = await cleanDays({ home, days: ['2026-11-21'], tables: ['transactions'] });
    expect(next.tables.transactions).toMatchObject({ rows_in: 1, rows_silver: 1 });
  });
});

describe('cleanDays errors and drift', () => {
  it('a missing bronze partition is a DataError naming what to run', async () => {
    const error = await cleanDays({ home, days: [DAY] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).exitCode).toBe(65);
    expect((error as DataError).message).toContain(`no bronze products for ${DAY}`);
    expect((error as DataError).hint).toContain(`dataprod generate --from ${DAY}`);
    expect((error as DataError).hint).toContain('dataprod ingest');
  });

  it('transactions without any silver customers is a DataError, not a quarantine of everything', async () => {
    await ingestFixtures();
    const error = await cleanDays({ home, days: [DAY], tables: ['transactions'] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toContain('no silver');
  });

  it('a bronze file lacking a required column is a DataError naming it', async () => {
    await writeBronze('products', DAY, 'products.csv', 'product_code,name,brand,segment,list_price\nSKU-HNG-0001,Cola,Hungry,refrigerantes,5.49\n');
    const error = await cleanDays({ home, days: [DAY], tables: ['products'] }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toContain('manufacturer');
  });

  it('carries extra columns to silver and quarantine as text; an optional cnpj column gets its rules', async () => {
    await writeBronze(
      'customers',
      DAY,
      'customers.csv',
      [
        'Customer_ID ,NAME,email,cpf,phone,cep,city,state,created_at,loyalty_tier,CNPJ',
        'C1,Ana,ana@example.com,52998224725,,,Recife,PE,2026-01-01,gold,11.222.333/0001-81',
        'C2,Bia,bia@example.com,52998224724,,,Recife,PE,2026-01-01,silver,',
        'C3,Caio,caio@example.com,11144477735,,,Recife,PE,2026-01-01,,11222333000182',
      ].join('\n'),
    );
    const result = await cleanDays({ home, days: [DAY], tables: ['customers'] });
    expect(result.tables.customers!.rules.cnpj_check_digits).toEqual({ flagged: 1 });
    const silver = await query<Record<string, string>>(`SELECT customer_id, loyalty_tier, cnpj FROM ${parquet(silverFile(home, 'customers', DAY))} ORDER BY 1`);
    expect(silver).toEqual([
      { customer_id: 'C1', loyalty_tier: 'gold', cnpj: '11222333000181' },
      { customer_id: 'C3', loyalty_tier: null, cnpj: null },
    ]);
    const types = await query<{ column_name: string; column_type: string }>(`DESCRIBE SELECT loyalty_tier FROM ${parquet(silverFile(home, 'customers', DAY))}`);
    expect(types[0]!.column_type).toBe('VARCHAR');
    const quarantined = await query<Record<string, unknown>>(`SELECT customer_id, loyalty_tier, _reasons FROM ${parquet(quarantineFile(home, 'customers', DAY))}`);
    expect(quarantined).toEqual([{ customer_id: 'C2', loyalty_tier: 'silver', _reasons: ['cpf_check_digits'] }]);
  });

  it('reads JSON lines and Parquet bronze too', async () => {
    const lines = [
      { product_code: 'SKU-HNG-0001', name: 'Cola', brand: 'Hungry', manufacturer: 'OuchHungry', segment: 'refrigerantes', list_price: 5.49 },
      { product_code: 'sku-hng-0002', name: 'Lima', brand: 'Hungry', manufacturer: 'OuchHungry', segment: 'refrigerantes', list_price: 'R$ 6,99', origin: 'erp' },
    ];
    await writeBronze('products', DAY, 'products.jsonl', lines.map((line) => JSON.stringify(line)).join('\n'), { format: 'jsonl', columns: ['product_code', 'name', 'brand', 'manufacturer', 'segment', 'list_price', 'origin'] });
    const result = await cleanDays({ home, days: [DAY], tables: ['products'] });
    expect(result.tables.products).toMatchObject({ rows_in: 2, rows_silver: 2 });
    const silver = await query<Record<string, string>>(`SELECT product_code, list_price::VARCHAR AS list_price, origin FROM ${parquet(silverFile(home, 'products', DAY))} ORDER BY 1`);
    expect(silver).toEqual([
      { product_code: 'SKU-HNG-0001', list_price: '5.49', origin: null },
      { product_code: 'SKU-HNG-0002', list_price: '6.99', origin: 'erp' },
    ]);

    // Parquet with typed columns: values are read as text, then cleaned like any export.
    const dir = bronzeDir(home, 'products', '2026-11-21');
    await mkdir(dir, { recursive: true });
    await withDuck((duck) =>
      duck.run(`COPY (SELECT 'SKU-OCH-0001' AS product_code, 'Chips' AS name, 'Ouch' AS brand, 'OuchHungry' AS manufacturer, 'salgados' AS segment, 7.49::DECIMAL(12,2) AS list_price) TO '${join(dir, 'products.parquet')}' (FORMAT parquet)`),
    );
    await writeFile(join(dir, '_source.json'), JSON.stringify({ file: 'products.parquet', format: 'parquet', columns: [], extra_columns: [], rows: 1, sha256: '', source: 'test', written_at: '' }));
    const next = await cleanDays({ home, days: ['2026-11-21'], tables: ['products'] });
    expect(next.tables.products).toMatchObject({ rows_in: 1, rows_silver: 1 });
  });

  it('numbers rows in file order across many row groups and keeps the first of exact copies', async () => {
    // 300k rows cross several DuckDB row groups and CSV buffers: _row_number must still be
    // the line's position. Rows 100 000 and 250 000 are copies of rows 1 and 2; row 299 999 is bad.
    const dir = bronzeDir(home, 'products', DAY);
    await mkdir(dir, { recursive: true });
    const code = (n: string) => `'SKU-' || chr((65 + (${n} // 676) % 26)::INTEGER) || chr((65 + (${n} // 26) % 26)::INTEGER) || chr((65 + ${n} % 26)::INTEGER) || '-' || lpad((${n} % 10000)::VARCHAR, 4, '0')`;
    await withDuck((duck) =>
      duck.run(`COPY (
        SELECT ${code('c')} AS product_code, 'Product ' || c AS name, 'Brand' AS brand, 'Maker' AS manufacturer, 'segment' AS segment,
               CASE WHEN i = 299999 THEN 'abc' ELSE '1.00' END AS list_price
        FROM (SELECT i, CASE WHEN i = 100000 THEN 1 WHEN i = 250000 THEN 2 ELSE i END AS c FROM range(1, 300001) t(i))
      ) TO '${join(dir, 'products.csv')}' (HEADER)`),
    );
    await writeFile(join(dir, '_source.json'), JSON.stringify({ file: 'products.csv', format: 'csv', delimiter: ',', encoding: 'utf-8', header: true, columns: [], extra_columns: [], rows: 300000, sha256: '', source: 'test', written_at: '' }));
    const result = await cleanDays({ home, days: [DAY], tables: ['products'] });
    expect(result.tables.products).toMatchObject({ rows_in: 300000, rows_silver: 299997, rows_quarantined: 1, rows_duplicate: 2 });
    expect(result.tables.products!.rules.exact_duplicate).toEqual({ dropped_as_duplicate: 2 });
    const quarantined = await query<{ _row_number: number; name: string }>(`SELECT _row_number::INTEGER AS _row_number, name FROM ${parquet(quarantineFile(home, 'products', DAY))}`);
    expect(quarantined).toEqual([{ _row_number: 299999, name: 'Product 299999' }]);
  });
});
