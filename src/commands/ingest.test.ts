import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome, testContext } from '../../test/helpers.js';
import { UsageError } from '../errors.js';
import { ingest } from './ingest.js';

const FIXTURES = new URL('../../fixtures/dirty/', import.meta.url).pathname;

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome('dataprod-ingest-cmd-')));
afterEach(async () => cleanup());

describe('ingest command', () => {
  it('ingests for yesterday by default and says what to run next', async () => {
    const result = await ingest({ table: 'customers', file: join(FIXTURES, 'clientes-latin1.csv') }, testContext(home));
    expect(result.data).toMatchObject({ table: 'customers', date: '2026-11-20', delimiter: ';', encoding: 'latin-1', rows: 2, extra_columns: ['NOME', 'Loja'] });
    expect(result.text).toContain('extra columns kept: NOME, Loja');
    expect(result.text).toContain('dataprod clean --date 2026-11-20');
  });

  it('takes the delimiter and encoding it is told (aliases included)', async () => {
    const result = await ingest({ table: 'customers', file: join(FIXTURES, 'clientes-latin1.csv'), date: '2026-11-19', delimiter: ';', encoding: 'windows-1252' }, testContext(home));
    expect(result.data).toMatchObject({ date: '2026-11-19', delimiter: ';', encoding: 'latin-1' });
  });

  it('rejects an unknown table, encoding or delimiter as usage errors', async () => {
    const file = join(FIXTURES, 'products.csv');
    await expect(ingest({ table: 'orders', file }, testContext(home))).rejects.toBeInstanceOf(UsageError);
    await expect(ingest({ table: 'products', file, encoding: 'ebcdic' }, testContext(home))).rejects.toBeInstanceOf(UsageError);
    await expect(ingest({ table: 'products', file, delimiter: ';;' }, testContext(home))).rejects.toBeInstanceOf(UsageError);
  });
});
