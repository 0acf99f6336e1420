import Table from 'cli-table3';
import { cleanDays, type CleanResult } from '../cleaning/engine.js';
import type { RuleCounts, TableSummary } from '../cleaning/types.js';
import { yesterday } from '../dates.js';
import { createStageReporter } from '../progress.js';
import type { CommandContext, CommandResult } from './context.js';

export interface CleanOptions {
  /** Days to clean (YYYY-MM-DD); default: yesterday in São Paulo. */
  days?: string[];
}

const COUNT_COLUMNS: [keyof RuleCounts, string][] = [
  ['repaired', 'repaired'],
  ['quarantined', 'quarantined'],
  ['dropped', 'dropped'],
  ['filled', 'filled'],
  ['flagged', 'flagged'],
  ['dropped_as_duplicate', 'duplicate'],
];

/** One table's summary as text: the row accounting, then a row per rule. */
export function renderTableSummary(table: string, summary: TableSummary): string {
  const heading = `${table}: ${summary.rows_in} in = ${summary.rows_silver} silver + ${summary.rows_quarantined} quarantined + ${summary.rows_duplicate} duplicate`;
  const grid = new Table({
    head: ['rule', ...COUNT_COLUMNS.map(([, label]) => label)],
    colAligns: ['left', ...COUNT_COLUMNS.map(() => 'right' as const)],
    // Plain output: colour codes would end up in files and cron mails.
    style: { head: [], border: [], compact: true },
  });
  for (const [rule, counts] of Object.entries(summary.rules)) {
    grid.push([rule, ...COUNT_COLUMNS.map(([name]) => (counts[name] === undefined ? '' : String(counts[name])))]);
  }
  return `${heading}\n${grid.toString()}`;
}

/** Human rendering of a clean: totals per table (summed over the days), in clean order. */
export function renderCleanResult(result: CleanResult): string {
  const days = Object.keys(result.days);
  const title = days.length === 1 ? `clean ${days[0]}` : `clean ${days[0]} .. ${days[days.length - 1]} (${days.length} days, summed)`;
  const parts = Object.entries(result.tables).map(([table, summary]) => renderTableSummary(table, summary!));
  return [title, ...parts].join('\n\n');
}

/**
 * `dataprod clean`: bronze -> silver + quarantine for each day, products, customers, then
 * transactions. `data` is the CleanResult (`--json`); `text` the per-rule tables.
 */
export async function clean(options: CleanOptions, context: CommandContext): Promise<CommandResult<CleanResult>> {
  const days = options.days && options.days.length > 0 ? options.days : [yesterday(context.now)];
  const reporter = createStageReporter({ interactive: context.interactive, logger: context.logger });
  const result = await reporter.stage(`clean ${days.length === 1 ? days[0] : `${days[0]} .. ${days[days.length - 1]}`}`, (update) =>
    cleanDays({ home: context.home, days, logger: context.logger, onProgress: update }),
  );
  return { data: result, text: renderCleanResult(result) };
}
