import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome, testContext } from '../../test/helpers.js';
import { DataError } from '../errors.js';
import { ingestFile } from '../sources/ingest.js';
import { clean } from './clean.js';

const FIXTURES = new URL('../../fixtures/dirty/', import.meta.url).pathname;

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome('dataprod-clean-cmd-')));
afterEach(async () => cleanup());

async function ingestDay(date: string) {
  for (const table of ['products', 'customers', 'transactions'] as const) await ingestFile({ home, table, file: join(FIXTURES, `${table}.csv`), date });
}

describe('clean command', () => {
  it('defaults to yesterday in São Paulo and prints the --json shape and per-rule tables', async () => {
    // testContext's clock is 2026-11-21 12:00 UTC: yesterday in São Paulo is 2026-11-20.
    await ingestDay('2026-11-20');
    const result = await clean({}, testContext(home));
    expect(Object.keys(result.data.tables)).toEqual(['products', 'customers', 'transactions']);
    expect(Object.keys(result.data.days)).toEqual(['2026-11-20']);
    const transactions = result.data.tables.transactions!;
    expect(Object.keys(transactions)).toEqual(['rows_in', 'rows_silver', 'rows_quarantined', 'rows_duplicate', 'rules']);
    expect(JSON.parse(JSON.stringify(result.data)).tables.transactions.rows_in).toBe(16);
    expect(result.text).toContain('transactions: 16 in = 7 silver + 7 quarantined + 2 duplicate');
    expect(result.text).toMatch(/known_customer\s*│\s*│\s*2\s*│/);
    expect(result.text).not.toContain('\u001b[');
  });

  it('sums a range of days in tables and keeps each day', async () => {
    await ingestDay('2026-11-19');
    // The fixture sales are dated the 20th: on the 19th they are all late arrivals.
    const result = await clean({ days: ['2026-11-19'] }, testContext(home));
    expect(result.data.tables.transactions).toMatchObject({ rows_in: 16, rows_silver: 0 });
    await ingestDay('2026-11-20');
    const both = await clean({ days: ['2026-11-19', '2026-11-20'] }, testContext(home));
    expect(both.data.tables.transactions).toMatchObject({ rows_in: 32, rows_silver: 7 });
    expect(both.data.days['2026-11-20']!.transactions).toMatchObject({ rows_in: 16, rows_silver: 7 });
    expect(both.text).toContain('2 days, summed');
  });

  it('fails with exit 65 and the command to run when bronze is missing', async () => {
    const error = (await clean({ days: ['2026-11-18'] }, testContext(home)).catch((caught: unknown) => caught)) as DataError;
    expect(error).toBeInstanceOf(DataError);
    expect(error.exitCode).toBe(65);
    expect(error.hint).toContain('dataprod generate --from 2026-11-18');
  });
});
