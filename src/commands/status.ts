import { renderTable } from '../terminal/table.js';
import { DataprodError } from '../errors.js';
import { type AlertState, readAlertState } from '../records/alert-state.js';
import { nextCronTime, previousCronTime } from '../run/cron.js';
import { lastDelivered } from '../records/ledger.js';
import { type LockHolder, readPartnerLock } from '../run/lock.js';
import { type RunRecord, readRuns } from '../records/run-store.js';
import { type PartnerConfig, type ReportName, enabledReports, listPartners, readPartnerConfig } from '../partners/config.js';
import type { CommandContext, CommandResult } from './context.js';
import { formatLocalTime } from './runs.js';

export interface StatusOptions {
  /** Only this partner (its configuration must exist). */
  partner?: string;
}

export interface ReportStatus {
  report: ReportName;
  /** The cron expression from config.schedule (São Paulo time). */
  schedule: string;
  /** The latest successful delivery (or build, without destinations), if any. */
  last_success: { at: string; period: string; run_id: string; kind: 'delivered' | 'built' } | null;
  /** Hours since last_success. */
  age_hours: number | null;
  /** Next time the schedule fires. */
  next_due: string;
  /** True when the schedule fired since the last success (plus a grace period) and nothing succeeded. */
  overdue: boolean;
}

export interface PartnerStatus {
  partner: string;
  /** Set when the configuration could not be read; the rest is then partial. */
  error?: string;
  /** A run holding the partner's lock right now. */
  running: LockHolder | null;
  /** What is failing now, from the alert state. */
  failing: AlertState['failing'];
  last_recovery?: AlertState['last_recovery'];
  last_run: Pick<RunRecord, 'run_id' | 'status' | 'started_at' | 'finished_at'> | null;
  reports: ReportStatus[];
}

export interface StatusResult {
  now: string;
  partners: PartnerStatus[];
}

/** A run that starts at the scheduled minute and is still fine an hour later is not "overdue". */
const OVERDUE_GRACE_MS = 2 * 3_600_000;

function formatAge(hours: number | null): string {
  if (hours === null) return '-';
  if (hours < 1) return `${Math.max(0, Math.round(hours * 60))} min`;
  if (hours < 48) return `${Math.floor(hours)} h ${String(Math.round((hours % 1) * 60)).padStart(2, '0')} min`;
  return `${Math.floor(hours / 24)} d ${Math.floor(hours % 24)} h`;
}

/**
 * The latest success of a report: its latest delivery, from the ledger or a run record.
 * A partner with no destination for the report succeeds by building it (the `built`
 * marker); one with destinations only by delivering, so a failed delivery is not hidden.
 */
async function lastSuccess(home: string, config: PartnerConfig, report: ReportName, runs: RunRecord[]): Promise<ReportStatus['last_success']> {
  const hasDestinations = config.destinations.some((destination) => destination.enabled && (!destination.reports || destination.reports.includes(report)));
  const entry = await lastDelivered(home, config.partner, report, undefined, { includeBuilt: !hasDestinations });
  let best: ReportStatus['last_success'] = entry ? { at: entry.at, period: entry.period, run_id: entry.run_id, kind: entry.kind as 'delivered' | 'built' } : null;
  const accepted = new Set(hasDestinations ? ['delivered'] : ['delivered', 'built']);
  for (const run of runs) {
    if (!run.finished_at) continue;
    for (const item of run.reports ?? []) {
      if (item.report !== report || !accepted.has(item.status)) continue;
      if (!best || run.finished_at > best.at) best = { at: run.finished_at, period: item.period, run_id: run.run_id, kind: item.status as 'delivered' | 'built' };
    }
  }
  return best;
}

function scheduleFor(config: PartnerConfig, report: ReportName): string {
  return report === 'monthly-by-city' ? config.schedule.monthly : config.schedule.daily;
}

/**
 * `dataprod status`: per partner and report, the last success and its age, the next due
 * run from config.schedule (America/Sao_Paulo), and what is failing now.
 */
export async function status(options: StatusOptions, context: CommandContext): Promise<CommandResult<StatusResult>> {
  const { home, now } = context;
  const allRuns = await readRuns(home);
  const partners = options.partner ? [options.partner] : [...new Set([...listPartners(home), ...allRuns.map((run) => run.partner).filter(Boolean)])].sort();
  const result: StatusResult = { now: now.toISOString(), partners: [] };
  for (const partner of partners) {
    const runs = allRuns.filter((run) => run.partner === partner);
    const alerts = await readAlertState(home, partner);
    const entry: PartnerStatus = {
      partner,
      running: await readPartnerLock(home, partner, now),
      failing: alerts.failing,
      ...(alerts.last_recovery ? { last_recovery: alerts.last_recovery } : {}),
      last_run: runs[0] ? { run_id: runs[0].run_id, status: runs[0].status, started_at: runs[0].started_at, finished_at: runs[0].finished_at } : null,
      reports: [],
    };
    let config: PartnerConfig | undefined;
    try {
      config = readPartnerConfig(home, partner).config;
    } catch (error) {
      // Asked for one partner: its configuration problem is the answer (exit 78).
      if (options.partner) throw error;
      entry.error = error instanceof DataprodError ? error.message : String(error);
    }
    for (const report of config ? enabledReports(config) : []) {
      const schedule = scheduleFor(config!, report);
      const success = await lastSuccess(home, config!, report, runs);
      let previous: Date | null;
      let next: Date;
      try {
        previous = previousCronTime(schedule, now);
        next = nextCronTime(schedule, now);
      } catch (error) {
        // A bad schedule is this partner's problem, not a reason to hide the others.
        if (options.partner) throw error;
        entry.error = (error as Error).message;
        continue;
      }
      const overdue = previous !== null && now.getTime() - previous.getTime() > OVERDUE_GRACE_MS && (!success || Date.parse(success.at) < previous.getTime());
      entry.reports.push({
        report,
        schedule,
        last_success: success,
        age_hours: success ? Number(((now.getTime() - Date.parse(success.at)) / 3_600_000).toFixed(2)) : null,
        next_due: next.toISOString(),
        overdue: Boolean(overdue && success),
      });
    }
    result.partners.push(entry);
  }
  return { data: result, text: renderStatus(result) };
}

function renderStatus(result: StatusResult): string {
  if (!result.partners.length) return 'no partners configured yet: create one with `dataprod init --partner NAME`';
  const blocks: string[] = [];
  for (const partner of result.partners) {
    const lines: string[] = [];
    const state = partner.failing
      ? `FAILING since ${formatLocalTime(partner.failing.since)} (${partner.failing.count} run${partner.failing.count === 1 ? '' : 's'})${partner.failing.summary ? `: ${partner.failing.summary}` : ''}`
      : partner.last_run
        ? `ok (last run ${partner.last_run.run_id}: ${partner.last_run.status})`
        : 'no runs yet';
    lines.push(`${partner.partner}: ${state}`);
    if (partner.running) lines.push(`  running now: run ${partner.running.run_id} (pid ${partner.running.pid} on ${partner.running.host}) since ${formatLocalTime(partner.running.started_at)}`);
    if (partner.error) lines.push(`  configuration: ${partner.error}`);
    if (partner.reports.length) {
      const rows = partner.reports.map((report) => [
          report.report,
          report.last_success ? `${formatLocalTime(report.last_success.at)}${report.last_success.kind === 'built' ? ' (built)' : ''}` : 'never',
          `${formatAge(report.age_hours)}${report.overdue ? ' OVERDUE' : ''}`,
          report.last_success?.period ?? '-',
          formatLocalTime(report.next_due),
          report.schedule,
        ]);
      const head = ['report', 'last success (São Paulo)', 'age', 'period', 'next due (São Paulo)', 'schedule'];
      lines.push(renderTable(rows, { head, wrap: [1, 4, 5] }));
    }
    blocks.push(lines.join('\n'));
  }
  return blocks.join('\n\n');
}
