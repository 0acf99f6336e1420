import { businessDate, previousMonth, yesterday } from '../dates.js';
import type { PartnerConfig, ReportName } from '../partners/config.js';
import { enabledReports } from '../partners/config.js';

/** One report for one period: the unit that is built, gated, delivered and recorded. */
export interface DueReport {
  report: ReportName;
  /** YYYY-MM-DD (daily) or YYYY-MM (monthly). */
  period: string;
}

export interface PlanOptions {
  config: PartnerConfig;
  now: Date;
  /** Days given with --date or --from/--to; cron mode when absent. */
  days?: string[];
  /** --month. */
  month?: string;
  /** Only these reports (--report, later); all enabled ones by default. */
  reports?: ReportName[];
  /** True when the monthly report of `period` no longer needs doing (delivered, or built when there is nowhere to deliver). */
  isMonthlyDone: (period: string) => Promise<boolean>;
}

/**
 * What a run does. Cron mode (no dates): yesterday's daily report, and last month's
 * monthly report from the 1st on until it is done, so a missed or failed 1st is caught
 * up by the next day's run instead of silently skipped. Explicit dates and --month do
 * exactly what they say.
 */
export async function planRun(options: PlanOptions): Promise<DueReport[]> {
  const reports = options.reports ?? enabledReports(options.config);
  const due: DueReport[] = [];
  if (reports.includes('daily-analytic')) {
    if (options.days) for (const day of options.days) due.push({ report: 'daily-analytic', period: day });
    else if (!options.month) due.push({ report: 'daily-analytic', period: yesterday(options.now) });
  }
  if (reports.includes('monthly-by-city')) {
    if (options.month) due.push({ report: 'monthly-by-city', period: options.month });
    else if (!options.days) {
      const lastMonth = previousMonth(businessDate(options.now).slice(0, 7));
      if (!(await options.isMonthlyDone(lastMonth))) due.push({ report: 'monthly-by-city', period: lastMonth });
    }
  }
  return due;
}
