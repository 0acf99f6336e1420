import { renderTable } from '../terminal/table.js';
import { BUSINESS_TIME_ZONE } from '../dates.js';
import { type RunRecord, deliveryFileCount, readRuns } from '../records/run-store.js';
import { runsPath } from '../lake/layout.js';
import type { CommandContext, CommandResult } from './context.js';

export interface RunsOptions {
  /** Only runs of this partner. */
  partner?: string;
  /** How many runs, newest first (default 20). */
  limit?: number;
}

/** "2026-11-21 06:30" in São Paulo, the time the data team thinks in. */
export function formatLocalTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '-';
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: BUSINESS_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(date);
  const get = (type: string): string => parts.find((part) => part.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

/** 850 ms, 12.3 s, 4 min 05 s, 2 h 10 min. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

function rowsCell(run: RunRecord): string {
  const tables = Object.values(run.tables ?? {});
  if (!tables.length) {
    const reportRows = (run.reports ?? []).reduce((sum, report) => sum + Number(report.rows ?? 0), 0);
    return reportRows ? `${reportRows} out` : '-';
  }
  const sum = (key: 'rows_in' | 'rows_out' | 'rows_quarantined'): number => tables.reduce((total, table) => total + Number(table[key] ?? 0), 0);
  return `${sum('rows_in')} in, ${sum('rows_out')} out, ${sum('rows_quarantined')} quar.`;
}

function deliveredCell(run: RunRecord): string {
  const deliveries = run.deliveries ?? [];
  const delivered = deliveries.filter((delivery) => delivery.status === 'delivered');
  const skipped = deliveries.filter((delivery) => delivery.status === 'skipped').length;
  const rehearsed = deliveries.filter((delivery) => delivery.status === 'dry-run' || delivery.status === 'would-deliver').length;
  const parts: string[] = [];
  if (delivered.length) {
    const files = delivered.reduce((sum, delivery) => sum + deliveryFileCount(delivery), 0);
    const bytes = delivered.reduce((sum, delivery) => sum + Number(delivery.bytes ?? 0), 0);
    const destinations = new Set(delivered.map((delivery) => delivery.destination)).size;
    parts.push(`${files} files, ${formatBytes(bytes)} to ${destinations} dest.`);
  }
  if (skipped) parts.push(`${skipped} already there`);
  if (rehearsed) parts.push(`${rehearsed} dry run`);
  return parts.join('; ') || '-';
}

function errorCell(run: RunRecord): string {
  if (run.error) {
    const text = `${run.error.stage ? `${run.error.stage}: ` : ''}${run.error.message}`;
    return text.length > 70 ? `${text.slice(0, 69)}…` : text;
  }
  const failedGates = (run.gates ?? []).filter((gate) => gate.status === 'fail').map((gate) => gate.gate);
  return failedGates.length ? `gates: ${[...new Set(failedGates)].join(', ')}` : '';
}

function duration(run: RunRecord, now: Date): number | null {
  if (run.duration_ms !== null && run.duration_ms !== undefined) return run.duration_ms;
  if (!run.started_at) return null;
  return (run.finished_at ? Date.parse(run.finished_at) : now.getTime()) - Date.parse(run.started_at);
}

/**
 * `dataprod runs`: recent runs as a table, or with --json an array of run records, newest
 * first (run_id, partner, status, periods, started_at, finished_at, stages, ...).
 */
export async function runs(options: RunsOptions, context: CommandContext): Promise<CommandResult<RunRecord[]>> {
  const records = await readRuns(context.home, { partner: options.partner, limit: options.limit ?? 20 });
  if (!records.length) {
    return { data: [], text: `no runs recorded${options.partner ? ` for ${options.partner}` : ''} yet (${runsPath(context.home)})` };
  }
  const rows = records.map((run) => {
    const running = run.status === 'running';
    return [
      run.run_id,
      run.partner,
      running ? 'running…' : run.status,
      (run.periods ?? []).join(' '),
      formatLocalTime(run.started_at),
      `${formatDuration(duration(run, context.now))}${running ? ' so far' : ''}`,
      rowsCell(run),
      deliveredCell(run),
      errorCell(run),
    ];
  });
  const head = ['run id', 'partner', 'status', 'periods', 'started (São Paulo)', 'duration', 'rows', 'delivered', 'error'];
  return { data: records, text: renderTable(rows, { head, wrap: [3, 7, 8] }) };
}
