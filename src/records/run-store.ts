import { hostname } from 'node:os';
import { InternalError } from '../errors.js';
import { withAtomicFile, writeFileAtomic } from '../lake/atomic.js';
import { sqlString, withDuck } from '../lake/duckdb.js';
import { runsPath } from '../lake/layout.js';
import type { GateResult } from '../quality/gates.js';
import { appendJsonLine, readJsonLines } from './jsonl.js';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'blocked' | 'interrupted' | 'skipped';
export type StageStatus = 'running' | 'succeeded' | 'failed' | 'blocked' | 'skipped' | 'interrupted';

/** One stage of a run: extract, clean, build, gates, deliver, notify, record. */
export interface StageRecord {
  name: string;
  status: StageStatus;
  started_at: string;
  finished_at: string | null;
  ms: number | null;
  /** A short line: "3 tables, 2 days", "delivered 2 of 2", the error. */
  detail?: string;
}

/** Rows through cleaning for one table (summed over the run's days). */
export interface TableRows {
  rows_in: number;
  rows_out: number;
  rows_quarantined: number;
  /** Duplicates removed. */
  rows_removed: number;
}

/** What happened to one report period in the run. */
export interface RunReportRecord {
  report: string;
  period: string;
  status: 'delivered' | 'built' | 'skipped' | 'blocked' | 'failed' | 'dry-run';
  rows?: number;
  units?: number | string | null;
  revenue?: number | string | null;
}

/** One report period sent (or not) to one destination. */
export interface DeliveryRecord {
  destination: string;
  type: string;
  report: string;
  period: string;
  status: 'delivered' | 'skipped' | 'failed' | 'dry-run' | 'would-deliver';
  /** The files sent, or just how many. */
  files: { name: string; bytes: number; sha256: string }[] | number;
  bytes: number;
  retries: number;
  location?: string;
  /** Why skipped (already delivered) or failed. */
  detail?: string;
}

/** A gate result tagged with the report period it judged. */
export type RunGateRecord = GateResult & { report: string; period: string };

/**
 * One run, as appended to `<home>/_meta/runs/runs.jsonl`. The runner appends a
 * `started` record (status running) and a `finished` one; readers merge them by run_id,
 * so `dataprod runs` shows a run in progress too.
 */
export interface RunRecord {
  run_id: string;
  partner: string;
  status: RunStatus;
  /** Every period the run covered (days and months). */
  periods: string[];
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
  stages: StageRecord[];
  /** Per table: rows in, out, quarantined, removed. */
  tables: Record<string, TableRows>;
  reports: RunReportRecord[];
  gates: RunGateRecord[];
  deliveries: DeliveryRecord[];
  error: { message: string; exit_code: number; stage: string | null; hint?: string } | null;
  dry_run?: boolean;
  forced?: boolean;
  host?: string;
  pid?: number;
  tool_version?: string;
}

/**
 * A line of runs.jsonl: a whole or partial record (run_id required) plus which event it
 * is; extra fields are kept as they are.
 */
export type RunRecordLine = Partial<RunRecord> & { event?: 'started' | 'progress' | 'finished' } & Record<string, unknown>;

/**
 * Appends a run record line (redacted, fsynced). `event` defaults to `started` while the
 * status is running and `finished` after; later lines win field by field in readRuns.
 */
export async function appendRunRecord(home: string, record: RunRecordLine): Promise<void> {
  if (typeof record.run_id !== 'string' || !record.run_id) throw new InternalError('a run record needs a run_id');
  const event = record.event ?? (record.status === 'running' ? 'started' : 'finished');
  await appendJsonLine(runsPath(home), { ...record, event });
}

/** Files of a delivery record, whether listed or counted. */
export function deliveryFileCount(delivery: Pick<DeliveryRecord, 'files'>): number {
  return Array.isArray(delivery.files) ? delivery.files.length : Number(delivery.files ?? 0);
}

/** The first line of a run: status running, who runs it. */
export async function recordRunStarted(home: string, record: Pick<RunRecord, 'run_id' | 'partner' | 'started_at'> & Partial<RunRecord>): Promise<void> {
  await appendRunRecord(home, { host: hostname(), pid: process.pid, status: 'running', finished_at: null, duration_ms: null, stages: [], ...record, event: 'started' });
}

/** A run record with nothing in it yet: the runner's starting point and readRuns' base. */
export const emptyRecord = (runId: string): RunRecord => ({
  run_id: runId,
  partner: '',
  status: 'running',
  periods: [],
  started_at: '',
  finished_at: null,
  duration_ms: null,
  stages: [],
  tables: {},
  reports: [],
  gates: [],
  deliveries: [],
  error: null,
});

function processGone(record: RunRecord): boolean {
  if (record.host !== hostname() || !record.pid) return false;
  try {
    process.kill(record.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'EPERM';
  }
}

export interface ReadRunsOptions {
  partner?: string;
  /** At most this many, newest first. */
  limit?: number;
}

/**
 * Run records merged by run_id (later lines win field by field), newest first. A run
 * still marked running whose process is gone from this host is shown as interrupted.
 */
export async function readRuns(home: string, options: ReadRunsOptions = {}): Promise<RunRecord[]> {
  const merged = new Map<string, RunRecord>();
  for (const line of await readJsonLines<RunRecordLine>(runsPath(home))) {
    if (!line?.run_id) continue;
    const { event: _event, ...fields } = line;
    const defined = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
    merged.set(line.run_id, { ...(merged.get(line.run_id) ?? emptyRecord(line.run_id)), ...defined } as RunRecord);
  }
  let runs = [...merged.values()];
  for (const run of runs) if (run.status === 'running' && processGone(run)) run.status = 'interrupted';
  if (options.partner) runs = runs.filter((run) => run.partner === options.partner);
  runs.sort((a, b) => b.started_at.localeCompare(a.started_at) || b.run_id.localeCompare(a.run_id));
  return options.limit ? runs.slice(0, options.limit) : runs;
}

/** The stages every run has, in order; the flat table has a duration column for each. */
export const RUN_STAGES = ['extract', 'clean', 'build', 'gates', 'deliver', 'notify', 'record'] as const;

/** One row of runs.parquet / runs.csv. */
export interface FlatRun {
  run_id: string;
  partner: string;
  status: string;
  periods: string;
  reports: string;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  rows_in: number;
  rows_out: number;
  rows_quarantined: number;
  rows_removed: number;
  report_rows: number;
  gates_failed: number;
  gates_warned: number;
  failed_gates: string;
  deliveries: number;
  delivered_files: number;
  delivered_bytes: number;
  retries: number;
  destinations: string;
  error_stage: string | null;
  error_exit_code: number | null;
  error_message: string | null;
  dry_run: boolean;
  [stageMs: `stage_${string}_ms`]: number | null;
}

/** Flattens a run record into one row of scalars, for BI tools. */
export function flattenRun(run: RunRecord): FlatRun {
  const tables = Object.values(run.tables ?? {});
  const sum = (pick: (table: TableRows) => number): number => tables.reduce((total, table) => total + Number(pick(table) ?? 0), 0);
  const delivered = (run.deliveries ?? []).filter((delivery) => delivery.status === 'delivered');
  const flat: FlatRun = {
    run_id: run.run_id,
    partner: run.partner,
    status: run.status,
    periods: (run.periods ?? []).join(' '),
    reports: (run.reports ?? []).map((report) => `${report.report}/${report.period}:${report.status}`).join(' '),
    started_at: run.started_at || null,
    finished_at: run.finished_at,
    duration_ms: run.duration_ms,
    rows_in: sum((table) => table.rows_in),
    rows_out: sum((table) => table.rows_out),
    rows_quarantined: sum((table) => table.rows_quarantined),
    rows_removed: sum((table) => table.rows_removed),
    report_rows: (run.reports ?? []).reduce((total, report) => total + Number(report.rows ?? 0), 0),
    gates_failed: (run.gates ?? []).filter((gate) => gate.status === 'fail').length,
    gates_warned: (run.gates ?? []).filter((gate) => gate.status === 'warn').length,
    failed_gates: [...new Set((run.gates ?? []).filter((gate) => gate.status === 'fail').map((gate) => gate.gate))].join(' '),
    deliveries: delivered.length,
    delivered_files: delivered.reduce((total, delivery) => total + deliveryFileCount(delivery), 0),
    delivered_bytes: delivered.reduce((total, delivery) => total + Number(delivery.bytes ?? 0), 0),
    retries: (run.deliveries ?? []).reduce((total, delivery) => total + Number(delivery.retries ?? 0), 0),
    destinations: [...new Set(delivered.map((delivery) => delivery.destination))].join(' '),
    error_stage: run.error?.stage ?? null,
    error_exit_code: run.error?.exit_code ?? null,
    error_message: run.error?.message ?? null,
    dry_run: Boolean(run.dry_run),
  };
  for (const stage of RUN_STAGES) flat[`stage_${stage}_ms`] = run.stages?.find((item) => item.name === stage)?.ms ?? null;
  return flat;
}

const flatColumns: Record<string, string> = {
  run_id: 'VARCHAR',
  partner: 'VARCHAR',
  status: 'VARCHAR',
  periods: 'VARCHAR',
  reports: 'VARCHAR',
  started_at: 'TIMESTAMPTZ',
  finished_at: 'TIMESTAMPTZ',
  duration_ms: 'BIGINT',
  rows_in: 'BIGINT',
  rows_out: 'BIGINT',
  rows_quarantined: 'BIGINT',
  rows_removed: 'BIGINT',
  report_rows: 'BIGINT',
  gates_failed: 'INTEGER',
  gates_warned: 'INTEGER',
  failed_gates: 'VARCHAR',
  deliveries: 'INTEGER',
  delivered_files: 'INTEGER',
  delivered_bytes: 'BIGINT',
  retries: 'INTEGER',
  destinations: 'VARCHAR',
  error_stage: 'VARCHAR',
  error_exit_code: 'INTEGER',
  error_message: 'VARCHAR',
  dry_run: 'BOOLEAN',
  ...Object.fromEntries(RUN_STAGES.map((stage) => [`stage_${stage}_ms`, 'BIGINT'])),
};

/**
 * Rewrites `runs.parquet` and `runs.csv` (one flat row per run, newest first) from
 * runs.jsonl, each atomically, so Power BI or Metabase always reads a whole file.
 */
export async function exportRunHistory(home: string): Promise<{ parquet: string; csv: string; runs: number }> {
  const runs = await readRuns(home);
  const staging = runsPath(home, 'runs.flat.jsonl');
  const parquet = runsPath(home, 'runs.parquet');
  const csv = runsPath(home, 'runs.csv');
  // DuckDB reads the flattened rows from a staging file with fixed column types, so an
  // empty history still yields a table with all its columns.
  await writeFileAtomic(staging, runs.map((run) => JSON.stringify(flattenRun(run))).join('\n') + (runs.length ? '\n' : ''));
  const columns = `{${Object.entries(flatColumns).map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`).join(', ')}}`;
  const select = runs.length
    ? `SELECT ${Object.keys(flatColumns).map((name) => `"${name}"`).join(', ')} FROM read_json(${sqlString(staging)}, format = 'newline_delimited', columns = ${columns}) ORDER BY started_at DESC NULLS LAST, run_id DESC`
    : `SELECT ${Object.entries(flatColumns).map(([name, type]) => `NULL::${type} AS "${name}"`).join(', ')} LIMIT 0`;
  await withDuck(
    async (duck) => {
      await withAtomicFile(parquet, (tmp) => duck.run(`COPY (${select}) TO ${sqlString(tmp)} (FORMAT parquet)`));
      // CSV for tools without Parquet: ISO timestamps in UTC, comma, header.
      await duck.run(`SET TimeZone = 'UTC'`);
      await withAtomicFile(csv, (tmp) => duck.run(`COPY (${select}) TO ${sqlString(tmp)} (FORMAT csv, HEADER true, TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S.%gZ')`));
    },
    { threads: 1, memoryLimit: '256MB' },
  );
  return { parquet, csv, runs: runs.length };
}
