import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempHome, testContext } from '../../test/helpers.js';
import { bronzeDir } from '../lake/layout.js';
import { generate } from './generate.js';

describe('generate command', () => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it('writes yesterday in São Paulo by default and reports rows per table and day', async () => {
    const temp = await makeTempHome();
    cleanup = temp.cleanup;
    // 2026-11-21 01:00 UTC is still the 20th in São Paulo: yesterday is the 19th.
    const context = testContext(temp.home, new Date('2026-11-21T01:00:00Z'));
    const result = await generate({ customers: 100, transactionsPerDay: 200, dirtyRate: 0, seed: 3 }, context);
    expect(result.data).toEqual({
      days: { '2026-11-19': { customers: 100, products: expect.any(Number), transactions: 200 } },
      seed: 3,
      dirty_rate: 0,
    });
    expect(result.text).toContain('2026-11-19');
    expect(result.text).toContain('transactions.csv');
    const source = JSON.parse(await readFile(join(bronzeDir(temp.home, 'transactions', '2026-11-19'), '_source.json'), 'utf8')) as { rows: number; written_at: string };
    expect(source.rows).toBe(200);
    expect(source.written_at).toBe('2026-11-21T01:00:00.000Z');
  });

  it('generates each day given, with the defaults of the CLI', async () => {
    const temp = await makeTempHome();
    cleanup = temp.cleanup;
    const result = await generate({ days: ['2026-11-20', '2026-11-21'], customers: 50, transactionsPerDay: 100 }, testContext(temp.home));
    expect(Object.keys(result.data.days)).toEqual(['2026-11-20', '2026-11-21']);
    expect(result.data.seed).toBe(42);
    expect(result.data.dirty_rate).toBe(0.03);
    // Saturday the 21st sells 30% more (duplicates injected as dirt add a few rows).
    expect(result.data.days['2026-11-21']!.transactions).toBeGreaterThanOrEqual(130);
  });
});
