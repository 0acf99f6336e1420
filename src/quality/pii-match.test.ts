import { describe, expect, it } from 'vitest';
import { withDuck } from '../lake/duckdb.js';
import { classifyDigits, describeFindings, isAnyValidCnpj, isBrazilianPhone, matchCustomers, scanValuesForPii } from './pii-match.js';

/** `vals(col, val, n)` from literal pairs. */
function valuesSql(pairs: [string, string][]): string {
  const escape = (text: string) => `'${text.replace(/'/g, "''")}'`;
  return pairs.map(([col, val]) => `SELECT ${escape(col)} AS col, ${escape(val)} AS val, 1 AS n`).join(' UNION ALL ');
}

const scan = (pairs: [string, string][]) => withDuck((duck) => scanValuesForPii(duck, valuesSql(pairs)));

describe('scanValuesForPii', () => {
  it('finds CPFs, phones and CNPJs in any layout (issue 8, observation 5)', async () => {
    const findings = await scan([
      ['city', 'Campinas 529 982 247 25'],
      ['product', 'cpf52998224725'],
      ['segment', 'ligue 11 98765 4321'],
      ['payment', '011 98765-4321'],
      ['note', '+55 (21) 3456-7890'],
      ['doc', 'CNPJ 11.222.333/0001-81'],
      ['doc2', '11 222 333 0001 81'],
      ['doc3', 'Q0.SLF.MBD/7VX4-39'],
      ['doc4', 'q0slfmbd7vx439'],
      ['contact', 'MARIA.Silva@Example.com.br'],
      ['cep', '01310-100'],
    ]);
    expect(findings).toEqual({
      city: { cpf: 1 },
      product: { cpf: 1 },
      segment: { phone: 1 },
      payment: { phone: 1 },
      note: { phone: 1 },
      doc: { cnpj: 1 },
      doc2: { cnpj: 1 },
      doc3: { cnpj: 1 },
      doc4: { cnpj: 1 },
      contact: { email: 1 },
      cep: { cep: 1 },
    });
    expect(describeFindings(findings)).not.toMatch(/529|maria|Q0/i);
  });

  it('handles values with CR and LF', async () => {
    expect(await scan([['city', 'Campinas\r\n529.982.247-25\r'], ['note', 'a\rb']])).toEqual({ city: { cpf: 1 } });
  });

  it('leaves pseudonyms, dates, times, prices and ordinary numbers alone', async () => {
    const findings = await scan([
      ['order_key', 'a3f9c2e1b4d5a3f9c2e1b4d5a3f9c2e1b4d5a3f9c2e1b4d5a3f9c2e1b4d5a3f9'],
      ['customer_key', '1198765432152998224725119876543215299822472511987654321529982247'],
      ['sale_time', '2026-11-20 10:00:00-03'],
      ['generated_at', '2026-11-21T09:31:00.000Z'],
      ['br_date', '21/11/2026 10:00'],
      ['revenue', '12345678,90'],
      ['code', '12345678900'],
      ['day', '20261120'],
      ['product', 'Kit 6 latas 350ml Cerveja Pilsen'],
      ['uuid', '123e4567-e89b-12d3-a456-426614174000'],
    ]);
    expect(findings).toEqual({});
  });

  it('knows the area codes and dialling forms of Brazilian phones', () => {
    expect(isBrazilianPhone('11987654321')).toBe(true);
    expect(isBrazilianPhone('5511987654321')).toBe(true);
    expect(isBrazilianPhone('01511987654321')).toBe(true);
    expect(isBrazilianPhone('2034567890')).toBe(false); // DDD 20 does not exist
    expect(isBrazilianPhone('1112345678')).toBe(false); // a landline starts with 2..5
    expect(classifyDigits('52998224725')).toBe('cpf');
    expect(classifyDigits('11222333000181')).toBe('cnpj');
    expect(isAnyValidCnpj('Q0SLFMBD7VX439')).toBe(true);
    expect(isAnyValidCnpj('Q0SLFMBD7VX438')).toBe(false);
  });
});

describe('matchCustomers', () => {
  const customers = `SELECT * FROM (VALUES ('C0000042', 'Ana Lima', 'ana.lima@example.com', '529.982.247-25'), ('C0000043', 'José da Silva', 'jose@example.org', '11144477735')) AS t(customer_id, name, email, cpf)`;
  const match = (pairs: [string, string][]) => withDuck((duck) => matchCustomers(duck, valuesSql(pairs), customers));

  it("finds a customer's raw id, name, e-mail and CPF inside any text value (observation 5)", async () => {
    const findings = await match([
      ['city', 'Campinas ana  LIMA C0000042'],
      ['segment', 'c 0000043'],
      ['product', 'Cerveja JOSE DA SILVA'],
      ['payment', 'pix ana.lima at example.com'],
      ['state', '111.444.777-35'],
    ]);
    expect(findings).toEqual({
      city: { 'customer-id': 1, 'customer-name': 1 },
      segment: { 'customer-id': 1 },
      product: { 'customer-name': 1 },
      // The e-mail spelt out still carries the name, word for word.
      payment: { 'customer-name': 1 },
      state: { 'customer-cpf': 1 },
    });
  });

  it('matches names by whole words only', async () => {
    expect(await match([['city', 'Santana Limeira'], ['product', 'Ana']])).toEqual({});
  });
});
