import type { PackageManifest } from '../render/package.js';
import { historyPath } from '../lake/layout.js';
import { appendJsonLine, readJsonLines } from './jsonl.js';

/** The figures the anomaly gate compares: volume (rows, units) and revenue. */
export interface ReportFigures {
  rows: number;
  units: number | null;
  /** A float is fine here: it only feeds a ratio against a median, never a partner's sum. */
  revenue: number | null;
}

/** One built-and-accepted report period, kept so later periods can be compared with it. */
export interface HistoryEntry extends ReportFigures {
  partner: string;
  report: string;
  period: string;
  /** 0 (Sunday) to 6 for daily periods; null for months. */
  weekday: number | null;
  run_id: string;
  at: string;
}

/** Day of the week of a YYYY-MM-DD (0 = Sunday); null for a YYYY-MM period. */
export function periodWeekday(period: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(period)) return null;
  return new Date(`${period}T12:00:00Z`).getUTCDay();
}

function toNumber(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const number = typeof value === 'number' ? value : Number(String(value).replace(',', '.'));
  return Number.isFinite(number) ? number : null;
}

/** Rows from the manifest; units and revenue from its summary (`units`, `revenue`, or the monthly report's names). */
export function reportFigures(manifest: Pick<PackageManifest, 'rows' | 'summary'>): ReportFigures {
  const summary = manifest.summary ?? {};
  return {
    rows: manifest.rows,
    units: toNumber(summary.units ?? summary.units_sold),
    revenue: toNumber(summary.revenue ?? summary.gross_revenue),
  };
}

export interface RecordHistoryOptions {
  partner: string;
  report: string;
  period: string;
  figures: ReportFigures;
  runId: string;
  now?: Date;
}

/**
 * Remembers a period's figures for the anomaly gate. The runner calls it once a period
 * passed its gates, so a blocked anomaly never becomes the baseline of the next ones.
 */
export async function recordReportHistory(home: string, options: RecordHistoryOptions): Promise<HistoryEntry> {
  const entry: HistoryEntry = {
    partner: options.partner,
    report: options.report,
    period: options.period,
    weekday: periodWeekday(options.period),
    rows: options.figures.rows,
    units: options.figures.units,
    revenue: options.figures.revenue,
    run_id: options.runId,
    at: (options.now ?? new Date()).toISOString(),
  };
  await appendJsonLine(historyPath(home, options.partner, options.report), entry);
  return entry;
}

/** The latest entry of every period, sorted by period. */
export async function readReportHistory(home: string, partner: string, report: string): Promise<HistoryEntry[]> {
  const latest = new Map<string, HistoryEntry>();
  for (const entry of await readJsonLines<HistoryEntry>(historyPath(home, partner, report))) latest.set(entry.period, entry);
  return [...latest.values()].sort((a, b) => a.period.localeCompare(b.period));
}

/** Median of a non-empty list. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
