import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome, testContext } from '../../test/helpers.js';
import { UsageError } from '../errors.js';
import { recordDataset } from '../metadata/catalog.js';
import { createLineageEmitter } from '../metadata/lineage.js';
import { lineage } from './lineage.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome()));
afterEach(async () => cleanup());

async function emitRun(): Promise<void> {
  let minute = 0;
  const emitter = createLineageEmitter({ home, partner: 'ouchhungry', runId: 'run-1', now: () => new Date(Date.parse('2026-11-21T09:30:00Z') + minute++ * 60_000) });
  const bronze = ['customers', 'products', 'transactions'].map((table) => `bronze/${table}/date=2026-11-20/${table}.csv`);
  const silver = ['customers', 'products', 'transactions'].map((table) => `silver/${table}/date=2026-11-20/data.parquet`);
  await emitter.complete('extract', { outputs: bronze });
  await emitter.complete('clean', { inputs: bronze, outputs: silver });
  await emitter.complete('build', { inputs: silver.slice(1), outputs: ['gold/ouchhungry/daily-analytic/2026-11-20/data.parquet', 'outbox/ouchhungry/daily-analytic/2026-11-20/ouchhungry_daily-analytic_2026-11-20.csv'] });
  await emitter.complete('deliver', { inputs: ['outbox/ouchhungry/daily-analytic/2026-11-20/ouchhungry_daily-analytic_2026-11-20.csv'], outputs: [{ namespace: 'sftp://sftp.example:22', name: '/inbound/daily-analytic/2026-11-20/ouchhungry_daily-analytic_2026-11-20.csv' }] });
}

describe('dataprod lineage', () => {
  it('prints the upstream and downstream of a dataset as trees', async () => {
    await emitRun();
    const result = await lineage({ dataset: 'silver/transactions/date=2026-11-20/data.parquet' }, testContext(home));
    expect(result.data.dataset).toBe('silver/transactions/date=2026-11-20/data.parquet');
    expect(result.data.upstream.children.map((node) => node.dataset)).toEqual(['bronze/customers/date=2026-11-20/customers.csv', 'bronze/products/date=2026-11-20/products.csv', 'bronze/transactions/date=2026-11-20/transactions.csv']);
    const text = result.text!;
    expect(text.split('\n')[0]).toBe('silver/transactions/date=2026-11-20/data.parquet  (ouchhungry.clean, run run-1, 2026-11-21 09:31)');
    expect(text).toContain('upstream (where it came from):\n├── bronze/customers/date=2026-11-20/customers.csv  (ouchhungry.extract');
    expect(text).toContain('downstream (what was made from it):\n├── gold/ouchhungry/daily-analytic/2026-11-20/data.parquet  (ouchhungry.build');
    expect(text).toContain('    └── sftp://sftp.example:22/inbound/daily-analytic/2026-11-20/ouchhungry_daily-analytic_2026-11-20.csv  (ouchhungry.deliver');
  });

  it('follows a delivered file back to its sources, found by a catalog name or a unique part of its path', async () => {
    await emitRun();
    await recordDataset(home, { layer: 'deliverable', path: 'outbox/ouchhungry/daily-analytic/2026-11-20/ouchhungry_daily-analytic_2026-11-20.csv', schema: [], rows: 1, checksum: null });
    const byName = await lineage({ dataset: 'deliverable.ouchhungry.daily-analytic/2026-11-20/ouchhungry_daily-analytic_2026-11-20.csv' }, testContext(home));
    expect(byName.text).toContain('│   └── bronze/transactions/date=2026-11-20/transactions.csv');
    expect(byName.text).toContain('└── sftp://sftp.example:22/inbound/');
    const byFragment = await lineage({ dataset: 'inbound/daily-analytic/2026-11-20' }, testContext(home));
    expect(byFragment.data.upstream.children[0]!.dataset).toBe('outbox/ouchhungry/daily-analytic/2026-11-20/ouchhungry_daily-analytic_2026-11-20.csv');
    expect(byFragment.text).toContain('downstream (what was made from it):\n(none recorded)');
  });

  it('refuses unknown or ambiguous datasets with a usage error', async () => {
    await expect(lineage({ dataset: 'x' }, testContext(home))).rejects.toThrow(/no lineage recorded yet/);
    await emitRun();
    await expect(lineage({ dataset: 'nothing/like/this' }, testContext(home))).rejects.toBeInstanceOf(UsageError);
    await expect(lineage({ dataset: 'date=2026-11-20' }, testContext(home))).rejects.toThrow(/matches \d+ datasets/);
  });
});
