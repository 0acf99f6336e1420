import { appendFile, readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { isDelivered, lastDelivered, packageFingerprint, readLedger, recordBuilt, recordDelivery } from './ledger.js';
import { ledgerPath } from '../lake/layout.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome()));
afterEach(async () => cleanup());

const manifest = (csvHash = 'a'.repeat(64)) => ({
  rows: 3,
  files: [
    { name: 'ouchhungry_daily-analytic_2026-11-20.csv', bytes: 120, sha256: csvHash, format: 'csv', rows: 3 },
    { name: 'ouchhungry_daily-analytic_2026-11-20.parquet', bytes: 900, sha256: 'b'.repeat(64), format: 'parquet', rows: 3 },
  ],
});
const key = { partner: 'ouchhungry', report: 'daily-analytic', period: '2026-11-20', destination: 'partner-sftp' };

describe('delivery ledger', () => {
  it('skips the same content, delivers changed content, and keys by destination', async () => {
    expect(await isDelivered(home, key, manifest())).toBeNull();
    const entry = await recordDelivery(home, key, manifest(), { runId: 'run-1', location: 'sftp://host/inbound/x', now: new Date('2026-11-21T09:31:00Z') });
    expect(entry).toMatchObject({ kind: 'delivered', run_id: 'run-1', bytes: 1020, rows: 3, location: 'sftp://host/inbound/x', at: '2026-11-21T09:31:00.000Z' });
    expect((await isDelivered(home, key, manifest()))?.run_id).toBe('run-1');
    // File order does not matter; content does.
    expect(await isDelivered(home, key, { files: [...manifest().files].reverse() })).not.toBeNull();
    expect(await isDelivered(home, key, manifest('c'.repeat(64)))).toBeNull();
    expect(await isDelivered(home, { ...key, destination: 'partner-api' }, manifest())).toBeNull();
    expect(await isDelivered(home, { ...key, period: '2026-11-21' }, manifest())).toBeNull();
    expect(ledgerPath(home, 'ouchhungry')).toBe(`${home}/_meta/ledger/ouchhungry.jsonl`);
  });

  it('uses the connector receipt for bytes, retries and location', async () => {
    const entry = await recordDelivery(home, key, manifest(), {
      runId: 'run-2',
      forced: true,
      receipt: { files: [{ name: 'x.csv', bytes: 10, sha256: 'd'.repeat(64) }], bytes: 10, retries: 2, location: 'https://api/x' },
    });
    expect(entry).toMatchObject({ bytes: 10, retries: 2, location: 'https://api/x', forced: true, content_sha256: packageFingerprint(manifest()) });
    expect(await isDelivered(home, key, manifest())).not.toBeNull();
  });

  it('tolerates a torn last line and keeps appending on a fresh line', async () => {
    await recordDelivery(home, key, manifest(), { runId: 'run-1' });
    await appendFile(ledgerPath(home, 'ouchhungry'), '{"kind":"delivered","partner":"ouch');
    expect(await readLedger(home, 'ouchhungry')).toHaveLength(1);
    await recordDelivery(home, { ...key, destination: 'partner-api' }, manifest(), { runId: 'run-2' });
    const entries = await readLedger(home, 'ouchhungry');
    expect(entries.map((entry) => entry.run_id)).toEqual(['run-1', 'run-2']);
    const text = await readFile(ledgerPath(home, 'ouchhungry'), 'utf8');
    expect(text.split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('answers lastDelivered per report, period and destination; built markers only when asked', async () => {
    const monthly = { partner: 'ouchhungry', report: 'monthly-by-city', period: '2026-10' };
    expect(await lastDelivered(home, 'ouchhungry', 'monthly-by-city', '2026-10')).toBeNull();
    await recordBuilt(home, monthly, manifest(), { runId: 'run-1' });
    expect(await lastDelivered(home, 'ouchhungry', 'monthly-by-city', '2026-10')).toBeNull();
    expect((await lastDelivered(home, 'ouchhungry', 'monthly-by-city', '2026-10', { includeBuilt: true }))?.kind).toBe('built');
    await recordDelivery(home, { ...monthly, destination: 'partner-sftp' }, manifest(), { runId: 'run-2' });
    await recordDelivery(home, { ...key, period: '2026-11-20' }, manifest(), { runId: 'run-3' });
    expect((await lastDelivered(home, 'ouchhungry', 'monthly-by-city', '2026-10', 'partner-sftp'))?.run_id).toBe('run-2');
    expect(await lastDelivered(home, 'ouchhungry', 'monthly-by-city', '2026-10', 'partner-api')).toBeNull();
    expect((await lastDelivered(home, 'ouchhungry', 'daily-analytic'))?.run_id).toBe('run-3');
    expect(await lastDelivered(home, 'ouchhungry', 'monthly-by-city', '2026-09')).toBeNull();
  });
});
