import { spawn } from 'node:child_process';
import { appendFile, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { sqlString, withDuck } from '../lake/duckdb.js';
import { registerSecretValue } from '../log.js';

import { recordRunFinished } from './run-finish.js';
import { type RunRecord, appendRunRecord, exportRunHistory, flattenRun, readRuns, recordRunStarted } from './run-store.js';
import { runsPath, metricsPath } from '../lake/layout.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome()));
afterEach(async () => cleanup());

function sampleRun(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    run_id: '20261121T093000Z-a1b2c3',
    partner: 'ouchhungry',
    status: 'succeeded',
    periods: ['2026-11-20'],
    started_at: '2026-11-21T09:30:00.000Z',
    finished_at: '2026-11-21T09:31:05.000Z',
    duration_ms: 65_000,
    stages: [
      { name: 'extract', status: 'succeeded', started_at: '2026-11-21T09:30:00.000Z', finished_at: '2026-11-21T09:30:10.000Z', ms: 10_000 },
      { name: 'deliver', status: 'succeeded', started_at: '2026-11-21T09:30:50.000Z', finished_at: '2026-11-21T09:31:00.000Z', ms: 10_000, detail: 'delivered 1 of 1' },
    ],
    tables: { transactions: { rows_in: 2000, rows_out: 1940, rows_quarantined: 50, rows_removed: 10 }, customers: { rows_in: 5000, rows_out: 4990, rows_quarantined: 10, rows_removed: 0 } },
    reports: [{ report: 'daily-analytic', period: '2026-11-20', status: 'delivered', rows: 310, units: 700, revenue: '9876.50' }],
    gates: [
      { report: 'daily-analytic', period: '2026-11-20', gate: 'anomaly', status: 'warn', detail: 'not much history', figures: {} },
      { report: 'daily-analytic', period: '2026-11-20', gate: 'pii', status: 'pass', detail: 'clean', figures: {} },
    ],
    deliveries: [
      { destination: 'partner-sftp', type: 'sftp', report: 'daily-analytic', period: '2026-11-20', status: 'delivered', files: [{ name: 'a.csv', bytes: 1000, sha256: 'f'.repeat(64) }, { name: 'a.parquet', bytes: 2000, sha256: 'e'.repeat(64) }], bytes: 3000, retries: 1, location: 'sftp://h/inbound' },
    ],
    error: null,
    ...overrides,
  };
}

describe('run store', () => {
  it('shows a run in progress, then merges its finished record by run_id', async () => {
    await recordRunStarted(home, { run_id: 'r1', partner: 'ouchhungry', periods: ['2026-11-20'], started_at: '2026-11-21T09:30:00.000Z' });
    const [running] = await readRuns(home);
    expect(running).toMatchObject({ run_id: 'r1', status: 'running', finished_at: null, host: hostname(), pid: process.pid });
    await recordRunFinished(home, sampleRun({ run_id: 'r1' }), { skipExports: true });
    const runs = await readRuns(home);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ run_id: 'r1', status: 'succeeded', duration_ms: 65_000, host: hostname() });
    expect(runs[0]!.stages.map((stage) => stage.name)).toEqual(['extract', 'deliver']);
  });

  it('lists newest first, filters by partner, limits, and skips a torn last line', async () => {
    await appendRunRecord(home, { ...sampleRun({ run_id: 'a', started_at: '2026-11-19T09:30:00.000Z' }) });
    await appendRunRecord(home, { ...sampleRun({ run_id: 'b', partner: 'acme', started_at: '2026-11-20T09:30:00.000Z' }) });
    await appendRunRecord(home, { ...sampleRun({ run_id: 'c', started_at: '2026-11-21T09:30:00.000Z' }) });
    await appendFile(runsPath(home), '{"run_id":"d","par');
    expect((await readRuns(home)).map((run) => run.run_id)).toEqual(['c', 'b', 'a']);
    expect((await readRuns(home, { partner: 'ouchhungry', limit: 1 })).map((run) => run.run_id)).toEqual(['c']);
    await expect(appendRunRecord(home, { partner: 'x' })).rejects.toThrow(/run_id/);
  });

  it('marks a running record whose process is gone as interrupted', async () => {
    const child = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => child.on('exit', resolve));
    await appendRunRecord(home, { run_id: 'crashed', partner: 'ouchhungry', status: 'running', started_at: '2026-11-21T09:30:00.000Z', host: hostname(), pid: child.pid });
    expect((await readRuns(home))[0]!.status).toBe('interrupted');
  });

  it('redacts secret values from records', async () => {
    registerSecretValue('s3cr3t-t0ken-value');
    await recordRunFinished(home, sampleRun({ status: 'failed', error: { message: 'auth failed with s3cr3t-t0ken-value', exit_code: 77, stage: 'deliver' } }), { skipExports: true });
    const text = await readFile(runsPath(home), 'utf8');
    expect(text).not.toContain('s3cr3t-t0ken-value');
    expect((await readRuns(home))[0]!.error!.message).toBe('auth failed with ***');
  });

  it('exports the history as Parquet and CSV with flat columns, and writes the metrics file', async () => {
    await recordRunFinished(home, sampleRun({ run_id: 'old', started_at: '2026-11-20T09:30:00.000Z', finished_at: '2026-11-20T09:31:00.000Z' }));
    await recordRunFinished(home, sampleRun({ status: 'blocked', deliveries: [], error: { message: 'quality gate failed: pii', exit_code: 65, stage: 'gates' } }));
    const raw = await withDuck((duck) => duck.all<Record<string, unknown>>(`SELECT * EXCLUDE (started_at, finished_at) FROM read_parquet(${sqlString(runsPath(home, 'runs.parquet'))})`));
    const rows = raw.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, typeof value === 'bigint' ? Number(value) : value])));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ run_id: '20261121T093000Z-a1b2c3', status: 'blocked', rows_in: 7000, rows_out: 6930, rows_quarantined: 60, rows_removed: 10, gates_warned: 1, error_stage: 'gates', error_exit_code: 65, stage_extract_ms: 10000, stage_clean_ms: null, delivered_bytes: 0 });
    expect(rows[1]).toMatchObject({ run_id: 'old', deliveries: 1, delivered_files: 2, delivered_bytes: 3000, retries: 1, destinations: 'partner-sftp' });
    const csv = (await readFile(runsPath(home, 'runs.csv'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv[0]!.split(',').slice(0, 4)).toEqual(['run_id', 'partner', 'status', 'periods']);
    expect(csv[2]).toContain('2026-11-20T09:30:00.000Z');
    expect(await readFile(metricsPath(home), 'utf8')).toContain('dataprod_runs_total{partner="ouchhungry",status="blocked"} 1');
  });

  it('exports an empty history as a table with its columns', async () => {
    const { runs } = await exportRunHistory(home);
    expect(runs).toBe(0);
    const columns = await withDuck((duck) => duck.json<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${sqlString(runsPath(home, 'runs.parquet'))})`));
    expect(columns.map((column) => column.column_name)).toContain('stage_deliver_ms');
    expect(Object.keys(flattenRun(sampleRun()))).toEqual(columns.map((column) => column.column_name));
  });
});
