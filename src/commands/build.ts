import Table from 'cli-table3';
import { UsageError } from '../errors.js';
import { readPartnerConfig, type ReportName } from '../partners/config.js';
import { buildReports, isReportName, reportNames, type BuildResult } from '../reports/build-reports.js';
import type { CommandContext, CommandResult } from './context.js';

export interface BuildOptions {
  /** Partner whose configuration drives the build. */
  partner: string;
  /** Day of the daily report (YYYY-MM-DD, validated by cli.ts); default yesterday in São Paulo. */
  date?: string;
  /** Month of the monthly report (YYYY-MM); giving it builds monthly-by-city. */
  month?: string;
  /** Only this report: daily-analytic or monthly-by-city. */
  report?: string;
  /** Partner configuration file instead of the lookup under <home>/partners and the bundled ones. */
  config?: string;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** One table per package: its files with rows and bytes, then the figures that matter. */
export function renderBuildText(result: BuildResult): string {
  if (result.reports.length === 0) return `Nothing built for ${result.partner}: no enabled report was asked for.`;
  const blocks = result.reports.map((built) => {
    const table = new Table({ head: ['file', 'format', 'rows', 'bytes'], style: { head: [], border: [] } });
    for (const file of built.outbox.manifest.files) table.push([file.name, file.format, String(file.rows), formatBytes(file.bytes)]);
    const { reconciliation: r, outbox } = built;
    const summary = outbox.manifest.summary;
    const lines = [
      `${built.report} ${built.period}: ${built.rows} rows in ${built.ms} ms`,
      table.toString(),
      `  units ${r.gold_units}, revenue ${r.gold_revenue} (silver ${r.silver_units} / ${r.silver_revenue}; suppressed ${r.suppressed_units} / ${r.suppressed_revenue})`,
    ];
    if (built.report === 'monthly-by-city') {
      lines.push(`  k=${summary.k}: ${summary.cells_merged} cells merged into OUTRAS, ${summary.cells_suppressed} suppressed, ${summary.shares_withheld} rows with shares withheld`);
      if (summary.days_missing) {
        const missing = String(summary.days_missing).split(',');
        const shown = missing.length > 3 ? `${missing.slice(0, 3).join(', ')} ...` : missing.join(', ');
        lines.push(`  warning: built on ${summary.days_present} of ${summary.days_expected} days; no silver for ${missing.length} (${shown})`);
      }
    }
    lines.push(`  outbox: ${outbox.dir} (+ manifest.json, SHA256SUMS)`, `  gold:   ${built.gold}`);
    return lines.join('\n');
  });
  return blocks.join('\n\n');
}

/**
 * `dataprod build`: silver -> gold -> outbox for one partner. Default: the daily report for
 * yesterday; the monthly one when --month is given or --report monthly-by-city asks for it
 * (then for the previous month unless --month says otherwise).
 */
export async function build(options: BuildOptions, context: CommandContext): Promise<CommandResult<BuildResult>> {
  let reports: ReportName[] | undefined;
  if (options.report !== undefined) {
    if (!isReportName(options.report)) {
      throw new UsageError(`--report ${JSON.stringify(options.report)} is not a report`, { hint: `use one of: ${reportNames.join(', ')}` });
    }
    if (options.report === 'daily-analytic' && options.month) {
      throw new UsageError('--month does not apply to --report daily-analytic', { hint: 'give --date for the daily report, or --report monthly-by-city' });
    }
    if (options.report === 'monthly-by-city' && options.date) {
      throw new UsageError('--date does not apply to --report monthly-by-city', { hint: 'give --month YYYY-MM for the monthly report' });
    }
    reports = [options.report];
  }
  const { config } = readPartnerConfig(context.home, options.partner, options.config);
  const result = await buildReports({
    home: context.home,
    config,
    date: options.date,
    month: options.month,
    reports,
    logger: context.logger,
    now: context.now,
  });
  return { data: result, text: renderBuildText(result) };
}
