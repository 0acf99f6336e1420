import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome, testContext } from '../../test/helpers.js';
import { appendRunRecord, recordRunStarted } from '../records/run-store.js';
import { formatDuration, formatLocalTime, runs } from './runs.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome()));
afterEach(async () => cleanup());

async function seed(): Promise<void> {
  await appendRunRecord(home, {
    run_id: '20261120T093000Z-aaaaaa',
    partner: 'ouchhungry',
    status: 'succeeded',
    periods: ['2026-11-19'],
    started_at: '2026-11-20T09:30:00.000Z',
    finished_at: '2026-11-20T09:31:05.000Z',
    duration_ms: 65_000,
    stages: [{ name: 'extract', status: 'succeeded', started_at: '2026-11-20T09:30:00.000Z', finished_at: '2026-11-20T09:30:10.000Z', ms: 10_000 }],
    tables: { transactions: { rows_in: 2000, rows_out: 1940, rows_quarantined: 50, rows_removed: 10 } },
    deliveries: [{ destination: 'partner-sftp', type: 'sftp', report: 'daily-analytic', period: '2026-11-19', status: 'delivered', files: 4, bytes: 4096, retries: 0 }],
    error: null,
  });
  await appendRunRecord(home, {
    run_id: '20261121T093000Z-bbbbbb',
    partner: 'ouchhungry',
    status: 'blocked',
    periods: ['2026-11-20'],
    started_at: '2026-11-21T09:30:00.000Z',
    finished_at: '2026-11-21T09:30:40.000Z',
    duration_ms: 40_000,
    stages: [],
    gates: [{ report: 'daily-analytic', period: '2026-11-20', gate: 'pii', status: 'fail', detail: '3 e-mails', figures: {} }],
    error: { message: 'quality gates failed for daily-analytic 2026-11-20: pii', exit_code: 65, stage: 'gates' },
  });
  await appendRunRecord(home, { run_id: '20261121T100000Z-cccccc', partner: 'acme', status: 'succeeded', periods: ['2026-11-20'], started_at: '2026-11-21T10:00:00.000Z', finished_at: '2026-11-21T10:00:30.000Z', stages: [] });
}

describe('dataprod runs', () => {
  it('prints a table of recent runs and, for --json, an array of records newest first', async () => {
    await seed();
    const result = await runs({}, testContext(home));
    expect(result.data.map((run) => run.run_id)).toEqual(['20261121T100000Z-cccccc', '20261121T093000Z-bbbbbb', '20261120T093000Z-aaaaaa']);
    for (const run of result.data) {
      for (const field of ['run_id', 'partner', 'status', 'started_at', 'finished_at', 'stages']) expect(run, field).toHaveProperty(field);
    }
    const text = result.text!;
    expect(text).toContain('run id');
    expect(text).toContain('2026-11-21 06:30');
    expect(text).toContain('gates: quality gates failed');
    expect(text).toContain('2000 in, 1940 out, 50 quar.');
    expect(text).toContain('4 files, 4.0 KiB to 1 dest.');
    expect(text).toContain('1 min 05 s');
  });

  it('filters by partner and limits', async () => {
    await seed();
    const result = await runs({ partner: 'ouchhungry', limit: 1 }, testContext(home));
    expect(result.data.map((run) => run.run_id)).toEqual(['20261121T093000Z-bbbbbb']);
    expect(result.data[0]!.status).toBe('blocked');
  });

  it('shows a run in progress', async () => {
    await recordRunStarted(home, { run_id: 'live', partner: 'ouchhungry', started_at: '2026-11-21T11:59:00.000Z', periods: ['2026-11-20'] });
    const result = await runs({}, testContext(home, new Date('2026-11-21T12:00:00Z')));
    expect(result.data[0]).toMatchObject({ run_id: 'live', status: 'running', finished_at: null });
    expect(result.text).toContain('running…');
    expect(result.text).toContain('1 min 00 s so far');
  });

  it('says where it looked when there are no runs', async () => {
    const result = await runs({}, testContext(home));
    expect(result.data).toEqual([]);
    expect(result.text).toContain('_meta/runs/runs.jsonl');
  });

  it('formats times in São Paulo and durations for people', () => {
    expect(formatLocalTime('2026-11-21T02:00:00Z')).toBe('2026-11-20 23:00');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_340)).toBe('12.3 s');
    expect(formatDuration(7_800_000)).toBe('2 h 10 min');
  });
});
