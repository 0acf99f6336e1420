import { getAreaCodesByState, getMunicipalities, isValidCPF, isValidMobilePhone } from '@brazilian-utils/brazilian-utils';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { UsageError } from '../errors.js';
import { DuckSession, sqlString } from '../lake/duckdb.js';
import { bronzeDir, type SourceTable } from '../lake/layout.js';
import { BR_CITIES, BR_STATES, isCepInState } from './br-cities.js';
import { cpfCheckDigits } from './synthetic-customers.js';
import { CATALOG, generateDays, PRODUCT_CODE_PATTERN, transactionsForDay, type GenerateOptions } from './synthetic.js';

const homes: Array<() => Promise<void>> = [];
async function tempHome(): Promise<string> {
  const { home, cleanup } = await makeTempHome('dataprod-generate-');
  homes.push(cleanup);
  return home;
}
afterAll(async () => {
  for (const cleanup of homes) await cleanup();
});

function csvPath(home: string, table: SourceTable, day: string): string {
  return join(bronzeDir(home, table, day), `${table}.csv`);
}

function readBytes(home: string, table: SourceTable, day: string): Promise<Buffer> {
  return readFile(csvPath(home, table, day));
}

let duck: DuckSession;
beforeAll(async () => {
  duck = await DuckSession.open({ threads: 1 });
});
afterAll(() => duck?.close());

/** Reads a bronze CSV back as text columns (empty field = NULL), in file order. */
async function readCsv<T = Record<string, string | null>>(home: string, table: SourceTable, day: string, where = 'true'): Promise<T[]> {
  return duck.json<T>(`SELECT * FROM read_csv(${sqlString(csvPath(home, table, day))}, header = true, all_varchar = true) WHERE ${where}`);
}

async function scalar(sql: string): Promise<number> {
  const [row] = await duck.json<{ value: number }>(sql);
  return Number(row?.value);
}

function csvSql(home: string, table: SourceTable, day: string): string {
  return `read_csv(${sqlString(csvPath(home, table, day))}, header = true, all_varchar = true)`;
}

const base: Omit<GenerateOptions, 'home' | 'days'> = { customers: 1500, transactionsPerDay: 2000, dirtyRate: 0.03, seed: 7 };
const FRIDAY = '2026-11-20';

describe('the geography tables', () => {
  it('has at least 100 real municipalities covering all 27 UFs, with their DDD and CEP ranges', () => {
    expect(BR_STATES).toHaveLength(27);
    expect(BR_CITIES.length).toBeGreaterThanOrEqual(100);
    expect(new Set(BR_CITIES.map((city) => city.uf)).size).toBe(27);
    const strip = (name: string) => name.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
    for (const city of BR_CITIES) {
      const official = getMunicipalities(city.uf as Parameters<typeof getMunicipalities>[0]).map((municipality) => strip(municipality.name));
      expect(official, `${city.name}/${city.uf}`).toContain(strip(city.name));
      expect(getAreaCodesByState(city.uf as Parameters<typeof getAreaCodesByState>[0]), `${city.name} DDD`).toContain(city.ddd);
      expect(city.population).toBeGreaterThan(10_000);
    }
    expect(new Set(BR_CITIES.map((city) => `${city.name}/${city.uf}`)).size).toBe(BR_CITIES.length);
  });

  it('computes CPF check digits as the Receita Federal does', () => {
    expect(cpfCheckDigits('123456789')).toBe('09');
    expect(isValidCPF(`529982247${cpfCheckDigits('529982247')}`)).toBe(true);
  });
});

describe('generateDays on clean data (dirtyRate 0)', () => {
  let home: string;
  beforeAll(async () => {
    home = await tempHome();
    await generateDays({ ...base, home, days: [FRIDAY], dirtyRate: 0, customers: 3000 });
  });

  it('writes customers with valid CPFs, CEPs of their UF, mobile phones and e-mails, in all 27 UFs', async () => {
    const customers = await readCsv<Record<string, string>>(home, 'customers', FRIDAY);
    expect(customers).toHaveLength(3000);
    expect(customers.filter((customer) => isValidCPF(customer.cpf!))).toHaveLength(customers.length);
    for (const customer of customers) {
      expect(customer.cpf).toMatch(/^\d{3}\.\d{3}\.\d{3}-\d{2}$/);
      expect(customer.cep).toMatch(/^\d{5}-\d{3}$/);
      expect(isCepInState(customer.cep!, customer.state!), `${customer.cep} in ${customer.state}`).toBe(true);
      expect(customer.phone).toMatch(/^(\+55 \d{2} |\(\d{2}\) )9\d{4}-\d{4}$/);
      expect(isValidMobilePhone(customer.phone!), customer.phone).toBe(true);
      expect(customer.email).toMatch(/^[a-z0-9._]+@[a-z0-9.]+\.[a-z]{2,}$/);
      expect(customer.customer_id).toMatch(/^C\d{7}$/);
      expect(customer.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-03:00$/);
      expect(Date.parse(customer.created_at!)).toBeLessThan(Date.parse(`${FRIDAY}T00:00:00-03:00`));
    }
    expect(new Set(customers.map((customer) => customer.state)).size).toBe(27);
    expect(new Set(customers.map((customer) => customer.customer_id)).size).toBe(customers.length);
    expect(new Set(customers.map((customer) => customer.email)).size).toBe(customers.length);
  });

  it('weights customers and sales by population', async () => {
    const share = async (table: SourceTable) =>
      scalar(`SELECT avg(CASE WHEN state = 'SP' THEN 1 ELSE 0 END) AS value FROM ${csvSql(home, table, FRIDAY)}`);
    // SP holds about a quarter of the population in the table; Roraima a fraction of a percent.
    for (const table of ['customers', 'transactions'] as const) {
      expect(await share(table)).toBeGreaterThan(0.2);
      expect(await share(table)).toBeLessThan(0.4);
    }
  });

  it('writes well-formed transactions within the day, referring to known customers and products', async () => {
    const file = csvSql(home, 'transactions', FRIDAY);
    expect(await scalar(`SELECT count(*) AS value FROM ${file}`)).toBe(2000);
    expect(await scalar(`SELECT count(DISTINCT transaction_id) AS value FROM ${file}`)).toBe(2000);
    const rows = await readCsv<Record<string, string>>(home, 'transactions', FRIDAY);
    const start = Date.parse(`${FRIDAY}T00:00:00-03:00`);
    for (const row of rows) {
      expect(row.transaction_id).toMatch(/^T20261120-\d{7}$/);
      expect(row.product_code).toMatch(PRODUCT_CODE_PATTERN);
      expect(row.quantity).toMatch(/^[1-6]$/);
      expect(row.unit_price).toMatch(/^\d+\.\d{2}$/);
      expect(['completed', 'cancelled', 'refunded']).toContain(row.status);
      expect(['pix', 'credit_card', 'debit_card', 'cash', 'voucher']).toContain(row.payment_method);
      expect(row.sold_at).toMatch(/^2026-11-20T\d{2}:\d{2}:\d{2}-03:00$/);
      const at = Date.parse(row.sold_at!);
      expect(at >= start && at < start + 86_400_000).toBe(true);
    }
    // Ids follow time.
    expect(rows.map((row) => row.sold_at)).toEqual(rows.map((row) => row.sold_at).sort());
    const customers = csvSql(home, 'customers', FRIDAY);
    const products = csvSql(home, 'products', FRIDAY);
    expect(await scalar(`SELECT count(*) AS value FROM ${file} AS t ANTI JOIN ${customers} AS c USING (customer_id)`)).toBe(0);
    expect(await scalar(`SELECT count(*) AS value FROM ${file} AS t ANTI JOIN ${products} AS p USING (product_code)`)).toBe(0);
    // A transaction's city is its customer's.
    expect(await scalar(`SELECT count(*) AS value FROM ${file} AS t JOIN ${customers} AS c USING (customer_id) WHERE t.city <> c.city OR t.state <> c.state`)).toBe(0);
    const statuses = await duck.json<{ status: string; share: number }>(`SELECT status, count(*) / sum(count(*)) OVER () AS share FROM ${file} GROUP BY status`);
    const cancelled = statuses.find((status) => status.status === 'cancelled')?.share ?? 0;
    expect(cancelled).toBeGreaterThan(0.02);
    expect(cancelled).toBeLessThan(0.09);
    // Prices vary by city and store around the list price.
    const spread = await duck.json<{ prices: number; ratio: number }>(`
      SELECT count(DISTINCT unit_price)::INTEGER AS prices, max(unit_price::DOUBLE / list_price::DOUBLE) / min(unit_price::DOUBLE / list_price::DOUBLE) AS ratio
      FROM ${file} AS t JOIN ${products} AS p USING (product_code) WHERE product_code = 'SKU-HNG-0001'`);
    expect(spread[0]!.prices).toBeGreaterThan(5);
    expect(spread[0]!.ratio).toBeGreaterThan(1.1);
  });

  it("sells the partner's brands and competitors in both partner segments, and other segments", async () => {
    const products = await readCsv<Record<string, string>>(home, 'products', FRIDAY);
    expect(products).toHaveLength(CATALOG.length);
    for (const product of products) {
      expect(product.product_code).toMatch(PRODUCT_CODE_PATTERN);
      expect(product.list_price).toMatch(/^\d+\.\d{2}$/);
    }
    const partner = products.filter((product) => product.manufacturer === 'OuchHungry');
    expect(new Set(partner.map((product) => product.brand))).toEqual(new Set(['Hungry', 'Ouch']));
    expect(partner.filter((product) => product.brand === 'Hungry').every((product) => product.segment === 'refrigerantes')).toBe(true);
    expect(partner.filter((product) => product.brand === 'Ouch').every((product) => product.segment === 'salgados')).toBe(true);
    expect(partner.filter((product) => product.brand === 'Hungry').length).toBeGreaterThanOrEqual(3);
    expect(partner.filter((product) => product.brand === 'Ouch').length).toBeGreaterThanOrEqual(3);
    expect(new Set(products.map((product) => product.segment)).size).toBeGreaterThanOrEqual(4);

    const sold = await duck.json<{ segment: string; partner: boolean; units: number }>(`
      SELECT p.segment, p.manufacturer = 'OuchHungry' AS partner, count(*)::INTEGER AS units
      FROM ${csvSql(home, 'transactions', FRIDAY)} AS t JOIN ${csvSql(home, 'products', FRIDAY)} AS p USING (product_code)
      GROUP BY ALL`);
    for (const segment of ['refrigerantes', 'salgados']) {
      expect(sold.find((row) => row.segment === segment && row.partner)?.units ?? 0, `${segment} partner`).toBeGreaterThan(50);
      expect(sold.find((row) => row.segment === segment && !row.partner)?.units ?? 0, `${segment} competitors`).toBeGreaterThan(50);
    }
  });

  it('writes _source.json as the bronze contract says', async () => {
    for (const table of ['customers', 'products', 'transactions'] as const) {
      const dir = bronzeDir(home, table, FRIDAY);
      const source = JSON.parse(await readFile(join(dir, '_source.json'), 'utf8')) as Record<string, unknown>;
      const data = await readFile(join(dir, `${table}.csv`));
      const header = data.subarray(0, data.indexOf(10)).toString('utf8').split(',');
      expect(source).toMatchObject({ file: `${table}.csv`, format: 'csv', delimiter: ',', encoding: 'utf-8', header: true, extra_columns: [], source: 'synthetic' });
      expect(source.columns).toEqual(header);
      expect(source.rows).toBe(data.toString('utf8').trimEnd().split('\n').length - 1);
      expect(source.sha256).toBe(createHash('sha256').update(data).digest('hex'));
      expect(Number.isNaN(Date.parse(String(source.written_at)))).toBe(false);
    }
  });
});

describe('determinism', () => {
  it('gives byte-identical files for the same seed, whatever the number of workers, and different files for another seed', async () => {
    const [a, b, c] = [await tempHome(), await tempHome(), await tempHome()];
    const options = { ...base, transactionsPerDay: 3000, dirtyRate: 0.1, days: [FRIDAY] };
    await generateDays({ ...options, home: a, workers: 1 });
    await generateDays({ ...options, home: b, workers: 3 });
    await generateDays({ ...options, home: c, seed: 8, workers: 1 });
    for (const table of ['customers', 'products', 'transactions'] as const) {
      expect((await readBytes(a, table, FRIDAY)).equals(await readBytes(b, table, FRIDAY)), table).toBe(true);
    }
    expect((await readBytes(a, 'transactions', FRIDAY)).equals(await readBytes(c, 'transactions', FRIDAY))).toBe(false);
    expect((await readBytes(a, 'customers', FRIDAY)).equals(await readBytes(c, 'customers', FRIDAY))).toBe(false);
  });
});

describe('volume over a week', () => {
  it('sells more on Saturdays and Sundays', async () => {
    const home = await tempHome();
    const days = ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20', '2026-11-21', '2026-11-22'];
    const result = await generateDays({ ...base, customers: 300, transactionsPerDay: 500, home, days });
    const weekend = ['2026-11-21', '2026-11-22'].map((day) => result.days[day]!.transactions);
    const weekdays = days.slice(0, 5).map((day) => result.days[day]!.transactions);
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(mean(weekend)).toBeGreaterThan(mean(weekdays) * 1.15);
    expect(transactionsForDay('2026-11-21', 1000)).toBe(1300);
    expect(transactionsForDay('2026-11-20', 1000)).toBe(1000);
  });
});

describe('dirt (dirtyRate 0.1)', () => {
  let clean: string;
  let dirty: string;
  beforeAll(async () => {
    [clean, dirty] = [await tempHome(), await tempHome()];
    const options = { ...base, customers: 3000, transactionsPerDay: 4000, days: [FRIDAY] };
    await generateDays({ ...options, home: clean, dirtyRate: 0 });
    await generateDays({ ...options, home: dirty, dirtyRate: 0.1 });
  });

  /** Rows of the dirty file that are not in the clean one (as a multiset: duplicates count). */
  async function dirtyShare(table: SourceTable): Promise<number> {
    const changed = await scalar(`SELECT count(*) AS value FROM (SELECT * FROM ${csvSql(dirty, table, FRIDAY)} EXCEPT ALL SELECT * FROM ${csvSql(clean, table, FRIDAY)})`);
    const total = await scalar(`SELECT count(*) AS value FROM ${csvSql(dirty, table, FRIDAY)}`);
    return changed / total;
  }

  it('makes about 10% of transactions and customers dirty', async () => {
    const transactions = await dirtyShare('transactions');
    expect(transactions).toBeGreaterThan(0.08);
    expect(transactions).toBeLessThan(0.12);
    const customers = await dirtyShare('customers');
    expect(customers).toBeGreaterThan(0.08);
    expect(customers).toBeLessThan(0.12);
  });

  it('injects every kind of transaction dirt, repairable and not', async () => {
    const file = csvSql(dirty, 'transactions', FRIDAY);
    const count = (where: string) => scalar(`SELECT count(*) AS value FROM ${file} WHERE ${where}`);
    const kinds: Record<string, string> = {
      null_customer_id: 'customer_id IS NULL',
      null_other: 'quantity IS NULL OR unit_price IS NULL OR sold_at IS NULL OR payment_method IS NULL OR city IS NULL',
      price_brl: `unit_price LIKE 'R$ %,__'`,
      price_decimal_comma: `regexp_full_match(unit_price, '\\d+,\\d{2}')`,
      date_br: `regexp_full_match(sold_at, '\\d{2}/\\d{2}/\\d{4} \\d{2}:\\d{2}')`,
      date_epoch: `regexp_full_match(sold_at, '\\d{10}')`,
      date_iso_variant: `regexp_full_match(sold_at, '\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}:\\d{2}Z| \\d{2}:\\d{2}:\\d{2})')`,
      date_garbage: `sold_at IN ('ontem', '31/02/2026', '00/00/0000', 'N/D', '2026-13-45', '#VALOR!')`,
      late_arrival: `sold_at LIKE '2026-11-19T%'`,
      product_code_case: `regexp_full_match(product_code, ' sku-[a-z]{3}-\\d{4} ')`,
      quantity_negative: `quantity LIKE '-%'`,
      quantity_text: `regexp_matches(quantity, '[a-z]')`,
      unknown_product: `product_code LIKE 'SKU-___-9%'`,
      status_case: `status IN ('COMPLETED', ' completed ', 'CANCELLED', ' cancelled ')`,
      state_case: `regexp_full_match(state, '[a-z]{2}')`,
      city_case: `city = upper(city) AND city <> 'SP'`,
    };
    for (const [name, where] of Object.entries(kinds)) expect(await count(where), name).toBeGreaterThan(0);
    const unknownCustomers = await scalar(`SELECT count(*) AS value FROM ${file} AS t ANTI JOIN ${csvSql(clean, 'customers', FRIDAY)} AS c USING (customer_id) WHERE customer_id IS NOT NULL`);
    expect(unknownCustomers).toBeGreaterThan(0);
    const exact = await scalar(`SELECT count(*) - count(DISTINCT t) AS value FROM ${file} t`);
    expect(exact).toBeGreaterThan(0);
    const near = await scalar(`SELECT count(*) AS value FROM (SELECT transaction_id FROM ${file} GROUP BY transaction_id HAVING count(DISTINCT product_code) > 1)`);
    expect(near).toBeGreaterThan(0);
  });

  it('injects every kind of customer dirt', async () => {
    const file = csvSql(dirty, 'customers', FRIDAY);
    const count = (where: string) => scalar(`SELECT count(*) AS value FROM ${file} WHERE ${where}`);
    const kinds: Record<string, string> = {
      null_field: 'name IS NULL OR email IS NULL OR cpf IS NULL OR phone IS NULL OR cep IS NULL OR city IS NULL OR created_at IS NULL',
      email_malformed: `NOT regexp_full_match(email, '[^@\\s]+@[^@\\s]+\\.[A-Za-z]{2,}')`,
      email_case: `email <> lower(email)`,
      cep_no_dash: `regexp_full_match(cep, '\\d{8}')`,
      cep_wrong_length: `regexp_full_match(cep, '\\d{5}-(\\d{2}|\\d{4})')`,
      phone_format: `NOT regexp_full_match(phone, '(\\+55 \\d{2} |\\(\\d{2}\\) )9\\d{4}-\\d{4}') AND length(regexp_replace(phone, '\\D', '', 'g')) >= 11`,
      phone_no_area_code: `regexp_full_match(phone, '9\\d{4}-\\d{4}')`,
      cpf_digits_only: `regexp_full_match(cpf, '\\d{11}')`,
      created_at_format: `regexp_full_match(created_at, '\\d{2}/\\d{2}/\\d{4} \\d{2}:\\d{2}|\\d{10}|\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}')`,
      name_case: `name LIKE ' %'`,
      state_case: `regexp_full_match(state, '[a-z]{2}')`,
    };
    for (const [name, where] of Object.entries(kinds)) expect(await count(where), name).toBeGreaterThan(0);
    const cpfs = await duck.json<{ cpf: string }>(`SELECT cpf FROM ${file} WHERE regexp_full_match(cpf, '\\d{3}\\.\\d{3}\\.\\d{3}-\\d{2}')`);
    expect(cpfs.filter((row) => !isValidCPF(row.cpf)).length, 'cpf_invalid').toBeGreaterThan(0);
    expect(await scalar(`SELECT count(*) - count(DISTINCT c) AS value FROM ${file} c`), 'exact_duplicate').toBeGreaterThan(0);
    expect(await scalar(`SELECT count(*) AS value FROM (SELECT customer_id FROM ${file} GROUP BY customer_id HAVING count(DISTINCT name) > 1)`), 'near_duplicate').toBeGreaterThan(0);
  });

  it('keeps the customer ids of the clean base and never invents a product in the catalogue', async () => {
    const ids = await scalar(`SELECT count(DISTINCT customer_id) AS value FROM ${csvSql(dirty, 'customers', FRIDAY)}`);
    expect(ids).toBe(3000);
  });
});

describe('partitions', () => {
  it('replaces a day on re-run: one data file and _source.json, nothing left behind', async () => {
    const home = await tempHome();
    const options = { ...base, customers: 200, transactionsPerDay: 300, home, days: [FRIDAY] };
    await generateDays(options);
    await generateDays({ ...options, transactionsPerDay: 100 });
    for (const table of ['customers', 'products', 'transactions'] as const) {
      expect((await readdir(bronzeDir(home, table, FRIDAY))).sort()).toEqual(['_source.json', `${table}.csv`]);
      expect(await readdir(join(home, 'bronze', table))).toEqual([`date=${FRIDAY}`]);
    }
    expect(await scalar(`SELECT count(*) AS value FROM ${csvSql(home, 'transactions', FRIDAY)}`)).toBeLessThan(110);
  });

  it('with onlyMissing, generates absent days and leaves complete or ingested ones alone', async () => {
    const home = await tempHome();
    const options = { ...base, customers: 200, transactionsPerDay: 300, home };
    await generateDays({ ...options, days: ['2026-11-18'] });
    const before = await readBytes(home, 'transactions', '2026-11-18');
    // An ingested partition on the 19th: the generator must not write synthetic data beside it.
    const ingested = bronzeDir(home, 'transactions', '2026-11-19');
    await mkdir(ingested, { recursive: true });
    await writeFile(join(ingested, '_source.json'), JSON.stringify({ file: 'export.csv', source: 'ingest', rows: 5 }));
    const result = await generateDays({ ...options, transactionsPerDay: 50, days: ['2026-11-18', '2026-11-19', '2026-11-20'], onlyMissing: true });
    expect(result.generated).toEqual(['2026-11-20']);
    expect(result.skipped).toEqual(['2026-11-18', '2026-11-19']);
    expect(result.days['2026-11-18']!.transactions).toBe(300);
    expect((await readBytes(home, 'transactions', '2026-11-18')).equals(before)).toBe(true);
    expect(await readdir(bronzeDir(home, 'customers', '2026-11-19')).catch(() => [])).toEqual([]);
  });
});

describe('validation', () => {
  it('refuses days before the synthetic history and impossible options with a usage error', async () => {
    const home = await tempHome();
    await expect(generateDays({ ...base, home, days: ['2019-05-01'] })).rejects.toBeInstanceOf(UsageError);
    await expect(generateDays({ ...base, home, days: [FRIDAY], dirtyRate: 1.5 })).rejects.toBeInstanceOf(UsageError);
    await expect(generateDays({ ...base, home, days: [FRIDAY], customers: 0 })).rejects.toBeInstanceOf(UsageError);
    await expect(generateDays({ ...base, home, days: ['2026-02-30'] })).rejects.toBeInstanceOf(UsageError);
  });
});
