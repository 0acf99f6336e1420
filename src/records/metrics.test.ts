import { readFile, readdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempHome } from '../../test/helpers.js';
import { escapeLabelValue, renderMetrics, writeMetrics } from './metrics.js';
import { type RunRecord, appendRunRecord } from './run-store.js';
import { metricsPath } from '../lake/layout.js';

let home: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ home, cleanup } = await makeTempHome()));
afterEach(async () => cleanup());

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A small parser of the Prometheus text exposition format (0.0.4): HELP and TYPE lines,
 * and samples `name{label="value",...} number`. Throws on any line it does not accept.
 */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string>; help: Map<string, string> } {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.slice(0, -1).split('\n')) {
    let match = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (match) {
      help.set(match[1]!, match[2]!);
      continue;
    }
    match = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (match) {
      expect(types.has(match[1]!), `TYPE twice for ${match[1]}`).toBe(false);
      types.set(match[1]!, match[2]!);
      continue;
    }
    match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    expect(types.has(match[1]!), `sample before TYPE: ${line}`).toBe(true);
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return { samples, types, help };
}

function run(overrides: Partial<RunRecord>): RunRecord {
  return {
    run_id: 'r',
    partner: 'ouchhungry',
    status: 'succeeded',
    periods: ['2026-11-20'],
    started_at: '2026-11-21T09:30:00.000Z',
    finished_at: '2026-11-21T09:31:00.000Z',
    duration_ms: 60_000,
    stages: [{ name: 'clean', status: 'succeeded', started_at: '2026-11-21T09:30:00.000Z', finished_at: '2026-11-21T09:30:20.000Z', ms: 20_000 }],
    tables: { transactions: { rows_in: 1000, rows_out: 940, rows_quarantined: 50, rows_removed: 10 } },
    reports: [{ report: 'daily-analytic', period: '2026-11-20', status: 'delivered', rows: 300 }],
    gates: [],
    deliveries: [{ destination: 'partner-sftp', type: 'sftp', report: 'daily-analytic', period: '2026-11-20', status: 'delivered', files: 3, bytes: 4096, retries: 2 }],
    error: null,
    ...overrides,
  };
}

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));

describe('metrics', () => {
  it('renders valid exposition text with HELP and TYPE for every family', () => {
    const text = renderMetrics([
      run({ run_id: 'a', started_at: '2026-11-20T09:30:00.000Z', finished_at: '2026-11-20T09:31:00.000Z' }),
      run({ run_id: 'b', status: 'blocked', reports: [{ report: 'daily-analytic', period: '2026-11-20', status: 'blocked' }], deliveries: [], gates: [{ report: 'daily-analytic', period: '2026-11-20', gate: 'pii', status: 'fail', detail: 'x', figures: {} }] }),
      run({ run_id: 'c', partner: 'acme', started_at: '2026-11-21T10:00:00.000Z', status: 'running', finished_at: null }),
    ]);
    const { samples, types, help } = parseExposition(text);
    for (const name of new Set(samples.map((sample) => sample.name))) {
      expect(types.get(name), name).toBeDefined();
      expect(help.get(name), name).toBeTruthy();
    }
    expect(find(samples, 'dataprod_run_duration_seconds', { partner: 'ouchhungry' })[0]!.value).toBe(60);
    expect(find(samples, 'dataprod_run_success', { partner: 'ouchhungry' })[0]!.value).toBe(0);
    expect(find(samples, 'dataprod_rows', { table: 'transactions', stage: 'quarantined' })[0]!.value).toBe(50);
    expect(find(samples, 'dataprod_quarantine_ratio', { table: 'transactions' })[0]!.value).toBe(0.05);
    expect(find(samples, 'dataprod_delivered_bytes_total', { partner: 'ouchhungry', report: 'daily-analytic', destination: 'partner-sftp' })[0]!.value).toBe(4096);
    expect(find(samples, 'dataprod_delivered_files_total')[0]!.value).toBe(3);
    expect(find(samples, 'dataprod_delivery_retries_total')[0]!.value).toBe(2);
    expect(find(samples, 'dataprod_failures_total', { partner: 'ouchhungry' })[0]!.value).toBe(1);
    expect(find(samples, 'dataprod_runs_total', { status: 'succeeded' })[0]!.value).toBe(1);
    expect(find(samples, 'dataprod_gate_failures_total', { gate: 'pii' })[0]!.value).toBe(1);
    // The blocked run did not succeed: the last success is the earlier run's.
    expect(find(samples, 'dataprod_last_success_timestamp_seconds', { partner: 'ouchhungry', report: 'daily-analytic' })[0]!.value).toBe(Date.parse('2026-11-20T09:31:00.000Z') / 1000);
    // A run in progress counts nowhere yet.
    expect(samples.some((sample) => sample.labels.partner === 'acme')).toBe(false);
    expect(types.get('dataprod_delivered_bytes_total')).toBe('counter');
    expect(types.get('dataprod_run_duration_seconds')).toBe('gauge');
  });

  it('escapes label values', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    const { samples } = parseExposition(renderMetrics([run({ deliveries: [{ destination: 'odd"name\\x', type: 'local', report: 'r', period: 'p', status: 'delivered', files: 1, bytes: 1, retries: 0 }] })]));
    expect(find(samples, 'dataprod_delivered_bytes_total')[0]!.labels.destination).toBe('odd"name\\x');
  });

  it('writes <home>/_meta/metrics/dataprod.prom atomically from runs.jsonl', async () => {
    await appendRunRecord(home, run({}));
    const path = await writeMetrics(home);
    expect(path).toBe(`${home}/_meta/metrics/dataprod.prom`);
    const { samples } = parseExposition(await readFile(metricsPath(home), 'utf8'));
    expect(samples.length).toBeGreaterThan(10);
    expect(await readdir(dirname(path))).toEqual(['dataprod.prom']);
  });
});
