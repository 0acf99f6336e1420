import type { Logger } from 'winston';
import { writeMetrics } from './metrics.js';
import { type RunRecord, appendRunRecord, exportRunHistory } from './run-store.js';

// Finishing a run sits above both the run store and the metrics (which read the store),
// so that neither of them imports the other.

export interface FinishRunOptions {
  logger?: Logger;
  /** Skip rewriting runs.parquet/csv and dataprod.prom (tests of the store alone). */
  skipExports?: boolean;
}

/**
 * The last line of a run, then the exports that must follow every run: runs.parquet and
 * runs.csv for BI tools, and the Prometheus textfile. An export that fails is a warning:
 * the record itself is already safe in runs.jsonl.
 */
export async function recordRunFinished(home: string, record: RunRecord, options: FinishRunOptions = {}): Promise<void> {
  const duration = record.duration_ms ?? (record.finished_at ? Date.parse(record.finished_at) - Date.parse(record.started_at) : null);
  await appendRunRecord(home, { ...record, duration_ms: duration, event: 'finished' });
  if (options.skipExports) return;
  try {
    await exportRunHistory(home);
  } catch (error) {
    options.logger?.warn(`could not rewrite the run history table: ${(error as Error).message}`);
  }
  try {
    await writeMetrics(home);
  } catch (error) {
    options.logger?.warn(`could not write the metrics file: ${(error as Error).message}`);
  }
}
