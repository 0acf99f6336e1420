import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckSession, sqlString } from '../lake/duckdb.js';
import type { SourceTable } from '../lake/layout.js';
import { compileTablePlan, dayTemplateValues, fillTemplate, validateRuleSet } from './compile.js';
import { registerCleaningFunctions } from './functions.js';
import { cleaningRules } from './rules.js';
import { tableContracts } from './schema.js';
import type { CleaningRule, RepairRule, ValidateRule } from './types.js';

const DAY = '2026-11-20';
let duck: DuckSession;

beforeAll(async () => {
  duck = await DuckSession.open({ threads: 1 });
  await duck.run("SET TimeZone = 'America/Sao_Paulo'");
  registerCleaningFunctions(duck.connection);
});
afterAll(() => duck.close());

function rule<K extends CleaningRule['kind']>(name: string): Extract<CleaningRule, { kind: K }> {
  const found = cleaningRules.find((item) => item.name === name);
  if (!found) throw new Error(`no rule ${name}`);
  return found as Extract<CleaningRule, { kind: K }>;
}

/** Runs one repair rule on one text value, as the engine does. */
async function repair(name: string, input: string | null) {
  const item = rule<'repair'>(name) as RepairRule;
  const inputSql = input === null ? 'NULL::VARCHAR' : sqlString(input);
  const day = dayTemplateValues(DAY);
  const output = fillTemplate(item.expression, { value: inputSql, ...day });
  const repaired = item.repairedWhen ? fillTemplate(item.repairedWhen, { input: inputSql, output, ...day }) : `CAST(${output} AS VARCHAR) IS DISTINCT FROM ${inputSql}`;
  const failed = item.failsWhen ? fillTemplate(item.failsWhen, { input: inputSql, output, ...day }) : `(${inputSql} IS NOT NULL AND ${output} IS NULL)`;
  const [row] = await duck.all<{ output: string | null; repaired: boolean | null; failed: boolean }>(
    `SELECT CAST(${output} AS VARCHAR) AS output, coalesce(${repaired}, false) AND NOT ${failed} AS repaired, ${failed} AS failed`,
  );
  return row!;
}

/** Runs one validation rule on one typed SQL value. */
async function valid(name: string, valueSql: string): Promise<boolean> {
  const item = rule<'validate'>(name) as ValidateRule;
  const [row] = await duck.all<{ ok: boolean | null }>(`SELECT ${fillTemplate(item.predicate, { value: valueSql, ...dayTemplateValues(DAY) })} AS ok`);
  return row!.ok === true;
}

// [input, expected output (as text, São Paulo time for timestamps), counted as repaired]
const repairExamples: Record<string, [string | null, string | null, boolean][]> = {
  trim_whitespace: [
    ['SKU-HNG-0001', 'SKU-HNG-0001', false],
    ['  São Paulo ', 'São Paulo', true],
    ['   ', null, true],
    ['NULL', null, true],
    ['N/A', null, true],
    ['Nulla', 'Nulla', false],
    [null, null, false],
  ],
  product_code_upper_case: [
    ['SKU-HNG-0001', 'SKU-HNG-0001', false],
    ['sku-hng-0001', 'SKU-HNG-0001', true],
  ],
  money_to_decimal: [
    ['5.49', '5.49', false],
    ['5.5', '5.50', false],
    ['R$ 1.234,56', '1234.56', true],
    ['R$9,99', '9.99', true],
    ['12,5', '12.50', true],
    ['1,234.56', '1234.56', true],
    ['-1.00', '-1.00', false],
    ['abc', null, false],
    ['1.2.3,4,5', null, false],
  ],
  quantity_to_integer: [
    ['3', '3', false],
    ['3.0', '3', true],
    ['-2', '-2', false],
    ['2.5', null, false],
    ['dois', null, false],
    ['1e2', null, false],
  ],
  status_lower_case: [
    ['completed', 'completed', false],
    ['COMPLETED', 'completed', true],
  ],
  payment_method_lower_case: [
    ['pix', 'pix', false],
    ['PIX', 'pix', true],
  ],
  state_upper_case: [
    ['SP', 'SP', false],
    ['sp', 'SP', true],
  ],
  title_case: [
    ['São Paulo', 'São Paulo', false],
    ['SÃO JOSÉ DOS CAMPOS', 'São José dos Campos', true],
    ['rio de janeiro', 'Rio de Janeiro', true],
    ['EMBU-GUAÇU', 'Embu-Guaçu', true],
    ['McDonald Sousa', 'McDonald Sousa', false],
  ],
  timestamp_formats: [
    ['2026-11-20T10:15:00-03:00', '2026-11-20 10:15:00-03', false],
    ['2026-11-20T13:15:00Z', '2026-11-20 10:15:00-03', false],
    ['2026-11-20 10:15:00', '2026-11-20 10:15:00-03', false],
    ['2026-11-20', '2026-11-20 00:00:00-03', false],
    ['20/11/2026 10:15', '2026-11-20 10:15:00-03', true],
    ['20/11/2026 10:15:30', '2026-11-20 10:15:30-03', true],
    ['20/11/2026', '2026-11-20 00:00:00-03', true],
    ['1795197600', '2026-11-20 15:00:00-03', true],
    ['1795197600000', '2026-11-20 15:00:00-03', true],
    ['31/02/2026', null, false],
    ['00/00/0000', null, false],
    ['ontem', null, false],
    ['epoch', null, false],
  ],
  email_lower_case: [
    ['ana@example.com', 'ana@example.com', false],
    ['ANA@EXAMPLE.COM', 'ana@example.com', true],
  ],
  cpf_digits: [
    ['529.982.247-25', '52998224725', false],
    ['52998224725', '52998224725', false],
    ['529 982 247 25', '52998224725', true],
    ['1234567890', '01234567890', true],
    ['12.345', '12345', true],
  ],
  cnpj_digits: [
    ['11.222.333/0001-81', '11222333000181', false],
    ['11222333000181', '11222333000181', false],
    ['11 222 333 0001 81', '11222333000181', true],
    // Alphanumeric CNPJ (issue 8, observation 7): kept, upper-cased.
    ['Q0.SLF.MBD/7VX4-39', 'Q0SLFMBD7VX439', false],
    ['Q0SLFMBD7VX439', 'Q0SLFMBD7VX439', false],
    ['q0.slf.mbd/7vx4-39', 'Q0SLFMBD7VX439', true],
  ],
  phone_e164: [
    ['+55 11 98765-4321', '+5511987654321', false],
    ['(11) 98765-4321', '+5511987654321', false],
    ['+5511987654321', '+5511987654321', false],
    ['(31) 3222-1111', '+553132221111', false],
    ['11987654321', '+5511987654321', true],
    ['(11)98765-4321', '+5511987654321', true],
    ['011 98765-4321', '+5511987654321', true],
    ['55 99 91234-5678', '+5599912345678', true],
    ['98765-4321', null, false],
    ['123', null, false],
  ],
  cep_digits: [
    ['01310-100', '01310100', false],
    ['01310100', '01310100', false],
    ['01.310-100', '01310100', true],
    ['01310-10', '0131010', true],
  ],
};

// Typed SQL values that pass and fail each validation.
const validationExamples: Record<string, { valid: string[]; invalid: string[] }> = {
  product_code_format: { valid: ["'SKU-HNG-0001'", "'ABC-DEF-1234'"], invalid: ["'sku-hng-0001'", "'SKU-HNG-001'", "'SKUHNG0001'", "'SKU-HNG-00012'"] },
  price_not_negative: { valid: ['0.00::DECIMAL(12,2)', '5.49::DECIMAL(12,2)'], invalid: ['-0.01::DECIMAL(12,2)'] },
  quantity_positive: { valid: ['1', '12'], invalid: ['0', '-2'] },
  status_allowed: { valid: ["'completed'", "'cancelled'", "'refunded'"], invalid: ["'lost'", "'COMPLETED'"] },
  transaction_state_uf: { valid: ["'SP'", "'DF'", "'TO'"], invalid: ["'XX'", "'sp'", "'SPP'"] },
  customer_state_uf: { valid: ["'RJ'"], invalid: ["'ZZ'"] },
  sold_at_on_day: {
    valid: ["TIMESTAMPTZ '2026-11-20 00:00:00-03'", "TIMESTAMPTZ '2026-11-20 23:59:59-03'", "TIMESTAMPTZ '2026-11-21 02:59:59+00'"],
    invalid: ["TIMESTAMPTZ '2026-11-19 23:59:59-03'", "TIMESTAMPTZ '2026-11-21 00:00:00-03'", "TIMESTAMPTZ '2026-11-21 03:00:00+00'"],
  },
  email_format: { valid: ["'ana@example.com'", "'a.b+c@mail.example.com.br'"], invalid: ["'anaexample.com'", "'ana@@example.com'", "'ana example@x.com'", "'ana@example'"] },
  cep_format: { valid: ["'01310100'"], invalid: ["'0131010'", "'013101000'", "'0131-100'"] },
  cpf_check_digits: { valid: ["'52998224725'", "'11144477735'", "'01234567890'"], invalid: ["'52998224724'", "'11111111111'", "'5299822472'", "'529.982.247-25'"] },
  cnpj_check_digits: { valid: ["'11222333000181'", "'Q0SLFMBD7VX439'"], invalid: ["'11222333000182'", "'00000000000000'", "'1122233300018'", "'Q0SLFMBD7VX438'", "'Q0SLFMBD7VX4A9'"] },
};

describe('rule library', () => {
  it('is a valid rule set: unique snake_case names per table, known columns', () => {
    expect(() => validateRuleSet(cleaningRules)).not.toThrow();
    for (const item of cleaningRules) {
      expect(item.description.length, item.name).toBeGreaterThan(10);
      expect(item.description, item.name).not.toContain('\n');
    }
  });

  it('has examples for every repair and validation rule', () => {
    for (const item of cleaningRules) {
      if (item.kind === 'repair') expect(repairExamples, item.name).toHaveProperty(item.name);
      if (item.kind === 'validate') expect(validationExamples, item.name).toHaveProperty(item.name);
    }
  });

  for (const [name, examples] of Object.entries(repairExamples)) {
    it(`repair ${name}`, async () => {
      for (const [input, output, repaired] of examples) {
        const result = await repair(name, input);
        expect({ input, output: result.output, repaired: result.repaired }).toEqual({ input, output, repaired });
        // A value that came out empty from a non-empty one failed the repair (unless blank on purpose).
        if (name !== 'trim_whitespace') expect(result.failed, `${name}(${input})`).toBe(input !== null && output === null);
      }
    });
  }

  for (const [name, examples] of Object.entries(validationExamples)) {
    it(`validate ${name}`, async () => {
      for (const value of examples.valid) expect(await valid(name, value), `${name}(${value}) should pass`).toBe(true);
      for (const value of examples.invalid) expect(await valid(name, value), `${name}(${value}) should fail`).toBe(false);
    });
  }
});

/**
 * Null, reference and dedup rules act on rows: run a table's compiled plan on a few
 * inline rows (no files) and read back what happened to each row.
 */
async function runRows(table: SourceTable, rows: Record<string, string | null>[], rules: readonly CleaningRule[] = cleaningRules) {
  const columns = tableContracts[table].columns.map((column) => column.name);
  const values = rows.map((row) => `(${columns.map((column) => (row[column] === undefined || row[column] === null ? 'NULL::VARCHAR' : sqlString(row[column]!))).join(', ')})`);
  const from = `(VALUES ${values.join(', ')}) AS t(${columns.map((column) => `"${column}"`).join(', ')})`;
  const plan = compileTablePlan(table, { contract: columns, extra: [] }, rules, DAY, { from, columns: new Map(columns.map((column) => [column, `"${column}"`])) });
  await duck.run('DROP TABLE IF EXISTS checked; DROP TABLE IF EXISTS dup; DROP TABLE IF EXISTS candidates');
  await duck.run(plan.checkedSql);
  for (const sql of plan.dupSql) await duck.run(sql);
  const silver = await duck.json(plan.silverSelect);
  const quarantine = await duck.json<{ _reasons: string[]; _row_number: number }>(plan.quarantineSelect);
  const counts = plan.readCounts(await duck.all(plan.summarySelect));
  return { silver, quarantine, counts };
}

const sale = (overrides: Record<string, string | null> = {}): Record<string, string | null> => ({
  transaction_id: 'T1',
  customer_id: 'C1',
  product_code: 'SKU-HNG-0001',
  quantity: '1',
  unit_price: '5.49',
  status: 'completed',
  payment_method: 'pix',
  city: 'São Paulo',
  state: 'SP',
  sold_at: '2026-11-20T10:00:00-03:00',
  ...overrides,
});

describe('row rules', () => {
  beforeAll(async () => {
    await duck.run(`CREATE OR REPLACE TEMP TABLE "ref:customers:customer_id" AS SELECT * FROM (VALUES ('C1'), ('C2')) t(k)`);
    await duck.run(`CREATE OR REPLACE TEMP TABLE "ref:products:product_code" AS SELECT * FROM (VALUES ('SKU-HNG-0001')) t(k)`);
  });

  it('required_* quarantines a row missing a required value, and names the column rule', async () => {
    const { silver, quarantine, counts } = await runRows('transactions', [sale(), sale({ transaction_id: 'T2', status: null }), sale({ transaction_id: 'T3', sold_at: '  ' })]);
    expect(silver).toHaveLength(1);
    expect(quarantine.map((row) => row._reasons)).toEqual([['required_status'], ['required_sold_at']]);
    expect(counts.rules.required_status).toEqual({ quarantined: 1 });
    expect(counts.rules.required_sold_at).toEqual({ quarantined: 1 });
  });

  it('a value that cannot be repaired fails its repair rule, not required_*', async () => {
    const { quarantine } = await runRows('transactions', [sale({ sold_at: 'ontem' })]);
    expect(quarantine[0]!._reasons).toEqual(['timestamp_formats']);
  });

  it('payment_method_default fills a missing payment method and counts it', async () => {
    const { silver, counts } = await runRows('transactions', [sale({ payment_method: null }), sale({ transaction_id: 'T2' })]);
    expect(silver.map((row) => row.payment_method)).toEqual(['unknown', 'pix']);
    expect(counts.rules.payment_method_default).toEqual({ filled: 1 });
  });

  it('empty_row drops a row with every column empty (kept in quarantine as dropped)', async () => {
    const empty = Object.fromEntries(Object.keys(sale()).map((column) => [column, null]));
    const { quarantine, counts } = await runRows('transactions', [sale(), empty]);
    expect(quarantine).toHaveLength(1);
    expect(quarantine[0]!._reasons).toContain('empty_row');
    expect(counts.rules.empty_row).toEqual({ dropped: 1 });
  });

  it('missing_product_attribute flags but keeps a product without segment', async () => {
    const product = { product_code: 'SKU-HNG-0001', name: 'Cola', brand: 'Hungry', manufacturer: 'OuchHungry', segment: null, list_price: '5.49' };
    const { silver, counts } = await runRows('products', [product]);
    expect(silver).toHaveLength(1);
    expect(counts.rules.missing_product_attribute).toEqual({ flagged: 1 });
  });

  it('missing_customer_cpf and missing_customer_name flag and keep the customer', async () => {
    const customer = { customer_id: 'C1', name: null, email: 'a@b.com', cpf: null, phone: null, cep: null, city: 'Recife', state: 'PE', created_at: '2026-01-01' };
    const { silver, counts } = await runRows('customers', [customer]);
    expect(silver).toHaveLength(1);
    expect(counts.rules.missing_customer_cpf).toEqual({ flagged: 1 });
    expect(counts.rules.missing_customer_name).toEqual({ flagged: 1 });
  });

  it('a flagged invalid value is kept as NULL in silver and counted', async () => {
    const customer = { customer_id: 'C1', name: 'Ana', email: 'ana@@x', cpf: '52998224725', phone: '123', cep: '0131', city: 'Recife', state: 'XX', created_at: '2026-01-01' };
    const { silver, counts } = await runRows('customers', [customer]);
    expect(silver[0]).toMatchObject({ email: null, phone: null, cep: null, state: null, cpf: '52998224725' });
    expect(counts.rules.email_format).toEqual({ flagged: 1 });
    expect(counts.rules.phone_e164).toEqual({ repaired: 0, flagged: 1 });
    expect(counts.rules.cep_format).toEqual({ flagged: 1 });
    expect(counts.rules.customer_state_uf).toEqual({ flagged: 1 });
  });

  it('known_customer and known_product quarantine unknown references', async () => {
    const { silver, quarantine, counts } = await runRows('transactions', [sale(), sale({ transaction_id: 'T2', customer_id: 'C9' }), sale({ transaction_id: 'T3', product_code: 'SKU-HNG-9042' })]);
    expect(silver).toHaveLength(1);
    expect(quarantine.map((row) => row._reasons)).toEqual([['known_customer'], ['known_product']]);
    expect(counts.rules.known_customer).toEqual({ quarantined: 1 });
    expect(counts.rules.known_product).toEqual({ quarantined: 1 });
  });

  it('exact_duplicate counts a byte-identical copy once and keeps the first', async () => {
    const { silver, counts } = await runRows('transactions', [sale(), sale(), sale({ transaction_id: 'T2' })]);
    expect(silver).toHaveLength(2);
    expect(counts.rules.exact_duplicate).toEqual({ dropped_as_duplicate: 1 });
    expect(counts.rules.transaction_id_duplicate).toEqual({ dropped_as_duplicate: 0 });
  });

  it('only byte-identical rows are exact duplicates: equal meaning in another spelling is a key duplicate', async () => {
    const rows = [sale(), sale({ unit_price: '5.490' }), sale({ city: 'São Paulo ' }), sale({ city: ' São Paulo' }), sale({ sold_at: '2026-11-20 10:00:00' }), sale()];
    const { silver, counts } = await runRows('transactions', rows);
    expect(silver).toHaveLength(1);
    expect(counts.rules.exact_duplicate).toEqual({ dropped_as_duplicate: 1 });
    expect(counts.rules.transaction_id_duplicate).toEqual({ dropped_as_duplicate: 4 });
  });

  it('transaction_id_duplicate keeps the latest sold_at; near-duplicates become key duplicates', async () => {
    const rows = [
      sale({ sold_at: '2026-11-20T11:00:00-03:00', unit_price: '6.00' }),
      sale({ product_code: ' sku-hng-0001 ', status: 'COMPLETED', sold_at: '2026-11-20T10:00:00-03:00' }),
    ];
    const { silver, counts } = await runRows('transactions', rows);
    expect(silver).toHaveLength(1);
    expect(silver[0]!.unit_price).toBe('6.00');
    expect(counts.rules.transaction_id_duplicate).toEqual({ dropped_as_duplicate: 1 });
    expect(counts.rules.exact_duplicate).toEqual({ dropped_as_duplicate: 0 });
  });

  it('a quarantined row does not win a key duplicate: the valid version stays in silver', async () => {
    const { silver, quarantine, counts } = await runRows('transactions', [sale(), sale({ quantity: 'dois', sold_at: '2026-11-20T12:00:00-03:00' })]);
    expect(silver).toHaveLength(1);
    expect(quarantine).toHaveLength(1);
    expect(counts.duplicates).toBe(0);
  });

  it('customer_id_duplicate and product_code_duplicate keep the last row', async () => {
    const customer = (name: string) => ({ customer_id: 'C1', name, email: null, cpf: null, phone: null, cep: null, city: null, state: null, created_at: '2026-01-01' });
    const customers = await runRows('customers', [customer('Old Name'), customer('New Name')]);
    expect(customers.silver.map((row) => row.name)).toEqual(['New Name']);
    expect(customers.counts.rules.customer_id_duplicate).toEqual({ dropped_as_duplicate: 1 });
    const product = (price: string) => ({ product_code: 'SKU-HNG-0001', name: 'Cola', brand: 'Hungry', manufacturer: 'OuchHungry', segment: 'refrigerantes', list_price: price });
    const products = await runRows('products', [product('5.00'), product('5.49')]);
    expect(products.silver.map((row) => row.list_price)).toEqual(['5.49']);
    expect(products.counts.rules.product_code_duplicate).toEqual({ dropped_as_duplicate: 1 });
  });

  it('adding a check is adding one rule object', async () => {
    const noPix: CleaningRule = {
      name: 'no_cash',
      description: 'cash sales are not accepted in this test',
      kind: 'validate',
      tables: ['transactions'],
      columns: ['payment_method'],
      action: 'quarantine',
      predicate: "{value} <> 'cash'",
    };
    const { quarantine, counts } = await runRows('transactions', [sale(), sale({ transaction_id: 'T2', payment_method: 'cash' })], [...cleaningRules, noPix]);
    expect(quarantine.map((row) => row._reasons)).toEqual([['no_cash']]);
    expect(counts.rules.no_cash).toEqual({ quarantined: 1 });
  });
});
